/* SPDX-License-Identifier: MIT */
/*
 * Physical memory protection (privileged spec 1.12, section 3.7): 16
 * entries, 4-byte granularity (OFF, TOR, NA4, NAPOT), locked entries that
 * bind M-mode too.  Accesses that no entry matches succeed in M-mode and
 * fail in S and U (entries are implemented).  Checked where a translation
 * is made (data accesses, fetches and page-table reads): a TLB entry stands
 * for a page only when PMP gives its whole 4 KiB one answer.
 */
#ifndef VESSEL_CPU_PMP_H
#define VESSEL_CPU_PMP_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/hart.h"

/* Whether PMP lets privilege 'priv' make access 'acc' to [pa, pa + len). */
bool pmp_allows(const struct hart *h, uint64_t pa, unsigned len, enum access acc, unsigned priv);

/* Whether every byte of the 4 KiB page at 'page' gets one and the same answer. */
bool pmp_page_uniform(const struct hart *h, uint64_t page, enum access acc, unsigned priv);

/* CSR writes with the WARL and lock rules; a change drops every cached translation. */
void pmp_write_cfg(struct hart *h, unsigned reg, uint64_t v);
void pmp_write_addr(struct hart *h, unsigned i, uint64_t v);

#endif
