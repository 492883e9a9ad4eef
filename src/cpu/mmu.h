/* SPDX-License-Identifier: MIT */
/*
 * Address translation (Sv39, Sv48) and the slow paths of guest memory
 * access.  The interpreter's fast path is a TLB hit on a host pointer; on a
 * miss it calls these, which walk the page table, set A/D bits, fill the
 * TLB for RAM pages and send anything else to the MMIO bus.
 *
 * Functions returning int give 0 on success or -1 after storing the
 * exception in h->exc_cause / h->exc_tval.
 */
#ifndef VESSEL_CPU_MMU_H
#define VESSEL_CPU_MMU_H

#include "cpu/hart.h"

int mmu_translate(struct hart *h, uint64_t va, enum access acc, unsigned priv, uint64_t *pa);

int mem_load(struct hart *h, uint64_t va, unsigned size, uint64_t *val);
int mem_store(struct hart *h, uint64_t va, unsigned size, uint64_t val);

/* Host pointer for an atomic access (aligned, RAM only, writable). */
int mem_amo_ptr(struct hart *h, uint64_t va, unsigned size, bool is_lr, void **ptr);

/* Host pointer to the RAM page holding instruction address va: 0, or 1 when PMP lets only
 * part of the page be fetched (its first halfword at va is allowed: the caller checks any
 * further bytes it fetches, and caches nothing), or -1. */
int mem_fetch_page(struct hart *h, uint64_t va, const uint8_t **page, uint64_t *pa);

/* Translations changed (satp, sfence.vma, MXR): drop every translated entry. */
void tlb_flush_all(struct hart *h);
/* Drop M-mode entries too (reset; dirty logging needs every store to go slow once). */
void tlb_flush_everything(struct hart *h);
void tlb_flush_va(struct hart *h, uint64_t va);

/* The privilege level data accesses use now (mstatus.MPRV). */
static inline unsigned mmu_data_priv(const struct hart *h)
{
	if (h->priv == PRV_M && (h->mstatus & MSTATUS_MPRV))
		return (h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
	return h->priv;
}

#endif
