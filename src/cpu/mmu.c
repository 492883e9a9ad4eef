/* SPDX-License-Identifier: MIT */
#include "cpu/mmu.h"

#include <string.h>

#include "cpu/pmp.h"
#include "machine/bus.h"
#include "machine/guest_mem.h"

#define PTE_V	     (1ull << 0)
#define PTE_R	     (1ull << 1)
#define PTE_W	     (1ull << 2)
#define PTE_X	     (1ull << 3)
#define PTE_U	     (1ull << 4)
#define PTE_A	     (1ull << 6)
#define PTE_D	     (1ull << 7)
#define PTE_PPN_MASK (((1ull << 44) - 1) << 10)
#define PTE_RESERVED (~((1ull << 54) - 1)) /* N, PBMT, reserved: unsupported here */

#define SATP_MODE_SHIFT 60
#define SATP_MODE_BARE	0
#define SATP_MODE_SV39	8
#define SATP_MODE_SV48	9

static int fault(struct hart *h, enum access acc, bool page, uint64_t va)
{
	static const uint64_t page_cause[3] = {CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT,
					       CAUSE_FETCH_PAGE_FAULT};
	static const uint64_t access_cause[3] = {CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS,
						 CAUSE_FETCH_ACCESS};
	h->exc_cause = page ? page_cause[acc] : access_cause[acc];
	h->exc_tval = va;
	return -1;
}

static int misaligned(struct hart *h, enum access acc, uint64_t va)
{
	h->exc_cause = acc == ACC_LOAD ? CAUSE_MISALIGNED_LOAD : CAUSE_MISALIGNED_STORE;
	h->exc_tval = va;
	return -1;
}

static void tlb_note_superpage(struct hart *h, uint64_t va, uint64_t mask)
{
	unsigned n = h->tlb_nsuper < 8 ? h->tlb_nsuper : 8;
	for (unsigned i = 0; i < n; i++)
		if (h->tlb_super[i].base == (va & ~mask) && h->tlb_super[i].mask == mask)
			return;
	if (h->tlb_nsuper < 8) {
		h->tlb_super[h->tlb_nsuper].base = va & ~mask;
		h->tlb_super[h->tlb_nsuper].mask = mask;
	}
	if (h->tlb_nsuper <= 8)
		h->tlb_nsuper++;
}

static bool tlb_in_superpage(const struct hart *h, uint64_t va)
{
	if (h->tlb_nsuper > 8)
		return true;
	for (unsigned i = 0; i < h->tlb_nsuper; i++)
		if ((va & ~h->tlb_super[i].mask) == h->tlb_super[i].base)
			return true;
	return false;
}

static int walk(struct hart *h, uint64_t va, enum access acc, unsigned priv, uint64_t *pa)
{
	unsigned mode = h->satp >> SATP_MODE_SHIFT;
	if (priv == PRV_M || mode == SATP_MODE_BARE) {
		*pa = va;
		return 0;
	}
	int levels = mode == SATP_MODE_SV48 ? 4 : 3;
	unsigned va_bits = 12 + 9 * levels;
	/* Bits above the virtual address width must all equal its top bit. */
	if ((uint64_t)((int64_t)(va << (64 - va_bits)) >> (64 - va_bits)) != va)
		return fault(h, acc, true, va);

	uint64_t table = (h->satp & ((1ull << 44) - 1)) << 12;
	for (int level = levels - 1; level >= 0; level--) {
		uint64_t idx = (va >> (12 + 9 * level)) & 0x1ff;
		_Atomic uint64_t *ptep = guest_mem_ptr(h->mem, table + idx * 8, 8);
		/* page-table reads are S-mode accesses to PMP */
		if (!ptep || !pmp_allows(h, table + idx * 8, 8, ACC_LOAD, PRV_S))
			return fault(h, acc, false, va);
		uint64_t pte = atomic_load_explicit(ptep, memory_order_relaxed);
		if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)) || (pte & PTE_RESERVED))
			return fault(h, acc, true, va);
		if (!(pte & (PTE_R | PTE_X))) {
			if (level == 0 || (pte & (PTE_A | PTE_D | PTE_U)))
				return fault(h, acc, true, va);
			table = (pte & PTE_PPN_MASK) << 2;
			continue;
		}
		/* A leaf: check permissions. */
		if (priv == PRV_U && !(pte & PTE_U))
			return fault(h, acc, true, va);
		if (priv == PRV_S && (pte & PTE_U) &&
		    (acc == ACC_FETCH || !(h->mstatus & MSTATUS_SUM)))
			return fault(h, acc, true, va);
		bool ok;
		switch (acc) {
		case ACC_FETCH:
			ok = pte & PTE_X;
			break;
		case ACC_STORE:
			ok = pte & PTE_W;
			break;
		default:
			ok = (pte & PTE_R) || ((h->mstatus & MSTATUS_MXR) && (pte & PTE_X));
			break;
		}
		if (!ok)
			return fault(h, acc, true, va);
		uint64_t ppn = (pte & PTE_PPN_MASK) >> 10;
		uint64_t low_mask = (1ull << (9 * level)) - 1;
		if (ppn & low_mask)
			return fault(h, acc, true, va); /* misaligned superpage */
		/* Hardware A/D update, atomically against other harts' updates. */
		uint64_t want = pte | PTE_A | (acc == ACC_STORE ? PTE_D : 0);
		if (want != pte) {
			if (!pmp_allows(h, table + idx * 8, 8, ACC_STORE, PRV_S))
				return fault(h, acc, false, va);
			if (!atomic_compare_exchange_strong(ptep, &pte, want))
				return -2; /* the PTE changed under us: walk again */
			guest_mem_mark_dirty(h->mem, table + idx * 8, 8);
		}
		if (level > 0)
			tlb_note_superpage(h, va, (1ull << (12 + 9 * level)) - 1);
		*pa = ((ppn | ((va >> 12) & low_mask)) << 12) | (va & 0xfff);
		return 0;
	}
	return fault(h, acc, true, va);
}

int mmu_translate(struct hart *h, uint64_t va, enum access acc, unsigned priv, uint64_t *pa)
{
	for (int tries = 0; tries < 8; tries++) {
		int r = walk(h, va, acc, priv, pa);
		if (r != -2)
			return r;
	}
	return fault(h, acc, true, va);
}

static enum tlb_ctx ctx_of(const struct hart *h, unsigned priv)
{
	if (priv == PRV_M)
		return TLBC_M;
	if (priv == PRV_U)
		return TLBC_U;
	return (h->mstatus & MSTATUS_SUM) ? TLBC_S_SUM : TLBC_S;
}

/* Remember a filled entry, so a flush touches only what was filled (see tlb_flush_all). */
static void tlb_log_fill(struct hart *h, struct tlb_entry *e)
{
	if (h->tlb_nfilled < TLB_FILL_LOG)
		h->tlb_filled[h->tlb_nfilled] = e;
	if (h->tlb_nfilled <= TLB_FILL_LOG)
		h->tlb_nfilled++;
}

static void tlb_fill(struct hart *h, unsigned priv, enum access acc, uint64_t va, uint8_t *host)
{
	struct tlb_set *set = &h->tlb[ctx_of(h, priv)];
	struct tlb_entry *e, *e2 = NULL;
	unsigned idx = (va >> 12) & (TLB_SIZE - 1);
	if (acc == ACC_LOAD) {
		e = &set->r[idx];
		e2 = &set->r2[idx];
	} else if (acc == ACC_STORE) {
		e = &set->w[idx];
		e2 = &set->w2[idx];
	} else {
		e = &set->x[idx];
	}
	if (e2 && e->tag != TLB_INVALID && e->tag != (va & ~0xfffull)) {
		*e2 = *e; /* the displaced page moves to the second way */
		tlb_log_fill(h, e2);
	}
	e->tag = va & ~0xfffull;
	e->addend = (uintptr_t)(host - (va & 0xfff)) - (va & ~0xfffull);
	tlb_log_fill(h, e);
}

/* The second way of the data TLB for one access within a page: its host address, or NULL. */
static uint8_t *tlb_second_way(struct hart *h, unsigned priv, enum access acc, uint64_t va)
{
	const struct tlb_set *set = &h->tlb[ctx_of(h, priv)];
	unsigned idx = (va >> 12) & (TLB_SIZE - 1);
	const struct tlb_entry *e = acc == ACC_LOAD ? &set->r2[idx] : &set->w2[idx];
	return e->tag == (va & ~0xfffull) ? (uint8_t *)(e->addend + va) : NULL;
}

/* Translate one access that does not cross a page; host pointer if RAM, else NULL + pa. */
static int access_one(struct hart *h, uint64_t va, unsigned size, enum access acc, uint8_t **host,
		      uint64_t *pa)
{
	unsigned priv = acc == ACC_FETCH ? h->priv : mmu_data_priv(h);
	if (acc != ACC_FETCH) {
		uint8_t *p = tlb_second_way(h, priv, acc, va);
		if (p) { /* only RAM pages are cached, and were marked dirty when filled */
			*host = p;
			*pa = (uint64_t)(p - h->mem->host) + h->mem->base;
			return 0;
		}
	}
	if (mmu_translate(h, va, acc, priv, pa))
		return -1;
	if (!pmp_allows(h, *pa, size, acc, priv))
		return fault(h, acc, false, va);
	uint8_t *p = guest_mem_ptr(h->mem, *pa, size);
	*host = p;
	if (p) {
		uint64_t page_pa = *pa & ~0xfffull;
		uint8_t *page = guest_mem_ptr(h->mem, page_pa, 4096);
		if (page && pmp_page_uniform(h, page_pa, acc, priv)) {
			if (acc == ACC_STORE)
				guest_mem_mark_dirty(h->mem, page_pa, 4096);
			tlb_fill(h, priv, acc, va, p);
		}
	}
	return 0;
}

static bool crosses_page(uint64_t va, unsigned size)
{
	return ((va & 0xfff) + size) > 4096;
}

int mem_load(struct hart *h, uint64_t va, unsigned size, uint64_t *val)
{
	uint8_t *host;
	uint64_t pa;
	if (crosses_page(va, size)) {
		uint8_t buf[8];
		for (unsigned i = 0; i < size; i++) {
			uint64_t v;
			if (mem_load(h, va + i, 1, &v)) {
				h->exc_tval = va;
				return -1;
			}
			buf[i] = (uint8_t)v;
		}
		*val = 0;
		memcpy(val, buf, size);
		return 0;
	}
	if (access_one(h, va, size, ACC_LOAD, &host, &pa))
		return -1;
	if (host) {
		*val = 0;
		memcpy(val, host, size);
		return 0;
	}
	if (pa & (size - 1))
		return misaligned(h, ACC_LOAD, va);
	if (bus_read(h->bus, pa, size, val))
		return fault(h, ACC_LOAD, false, va);
	return 0;
}

int mem_store(struct hart *h, uint64_t va, unsigned size, uint64_t val)
{
	uint8_t *host;
	uint64_t pa;
	if (crosses_page(va, size)) {
		/* Translate both pages first so a fault leaves memory unchanged. */
		uint64_t pa2;
		uint8_t *h1, *h2;
		uint64_t va2 = (va | 0xfff) + 1;
		if (access_one(h, va, 1, ACC_STORE, &h1, &pa) ||
		    access_one(h, va2, 1, ACC_STORE, &h2, &pa2)) {
			h->exc_tval = va;
			return -1;
		}
		if (!h1 || !h2)
			return fault(h, ACC_STORE, false, va);
		unsigned first = (unsigned)(va2 - va);
		uint8_t buf[8];
		memcpy(buf, &val, 8);
		memcpy(h1, buf, first);
		memcpy(h2, buf + first, size - first);
		return 0;
	}
	if (access_one(h, va, size, ACC_STORE, &host, &pa))
		return -1;
	if (host) {
		memcpy(host, &val, size);
		return 0;
	}
	if (pa & (size - 1))
		return misaligned(h, ACC_STORE, va);
	if (bus_write(h->bus, pa, size, val))
		return fault(h, ACC_STORE, false, va);
	return 0;
}

int mem_amo_ptr(struct hart *h, uint64_t va, unsigned size, bool is_lr, void **ptr)
{
	enum access acc = is_lr ? ACC_LOAD : ACC_STORE;
	if (va & (size - 1))
		return misaligned(h, acc, va);
	uint8_t *host;
	uint64_t pa;
	if (access_one(h, va, size, acc, &host, &pa))
		return -1;
	if (!host)
		return fault(h, acc, false, va);
	if (!is_lr)
		guest_mem_mark_dirty(h->mem, pa, size);
	*ptr = host;
	return 0;
}

int mem_fetch_page(struct hart *h, uint64_t va, const uint8_t **page, uint64_t *pa)
{
	uint64_t vpage = va & ~0xfffull;
	const struct tlb_entry *e = &h->itlb->x[(va >> 12) & (TLB_SIZE - 1)];
	if (e->tag == vpage) {
		const uint8_t *p = (const uint8_t *)(e->addend + vpage);
		*page = p;
		*pa = (uint64_t)(p - h->mem->host) + h->mem->base + (va & 0xfff);
		return 0;
	}
	if (mmu_translate(h, va, ACC_FETCH, h->priv, pa))
		return -1;
	uint8_t *p = guest_mem_ptr(h->mem, *pa & ~0xfffull, 4096);
	if (!p || !pmp_allows(h, *pa, 2, ACC_FETCH, h->priv))
		return fault(h, ACC_FETCH, false, va);
	*page = p;
	if (!pmp_page_uniform(h, *pa & ~0xfffull, ACC_FETCH, h->priv))
		return 1; /* PMP splits the page: the caller decodes this instruction alone */
	tlb_fill(h, h->priv, ACC_FETCH, vpage, p);
	return 0;
}

void tlb_flush_all(struct hart *h)
{
	if (h->tlb_nfilled <= TLB_FILL_LOG) {
		/* Few entries were filled since the last flush: drop just those. */
		for (unsigned i = 0; i < h->tlb_nfilled; i++)
			h->tlb_filled[i]->tag = TLB_INVALID;
	} else {
		/* M-mode entries are untranslated: no satp, sfence.vma or MXR change
		 * touches them. */
		for (int c = 0; c < TLBC_COUNT; c++)
			if (c != TLBC_M)
				memset(&h->tlb[c], 0xff, sizeof(h->tlb[c]));
	}
	h->tlb_nfilled = 0;
	h->tlb_nsuper = 0;
}

void tlb_flush_everything(struct hart *h)
{
	memset(h->tlb, 0xff, sizeof(h->tlb));
	h->tlb_nfilled = 0;
	h->tlb_nsuper = 0;
}

void tlb_flush_va(struct hart *h, uint64_t va)
{
	/* A superpage leaf also stands behind other pages' entries. */
	if (tlb_in_superpage(h, va)) {
		tlb_flush_all(h);
		return;
	}
	unsigned idx = (va >> 12) & (TLB_SIZE - 1);
	for (int c = 0; c < TLBC_COUNT; c++) {
		h->tlb[c].r[idx].tag = TLB_INVALID;
		h->tlb[c].w[idx].tag = TLB_INVALID;
		h->tlb[c].x[idx].tag = TLB_INVALID;
		h->tlb[c].r2[idx].tag = TLB_INVALID;
		h->tlb[c].w2[idx].tag = TLB_INVALID;
	}
}
