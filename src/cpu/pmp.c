/* SPDX-License-Identifier: MIT */
#include "cpu/pmp.h"

#include "cpu/mmu.h"

#define PMP_ENTRIES 16
#define PMP_R	    0x01u
#define PMP_W	    0x02u
#define PMP_X	    0x04u
#define PMP_A	    0x18u
#define PMP_L	    0x80u
#define A_OFF	    0x00u
#define A_TOR	    0x08u
#define A_NA4	    0x10u
#define A_NAPOT	    0x18u

static unsigned cfg_of(const struct hart *h, unsigned i)
{
	return (unsigned)(h->pmpcfg[i / 8] >> (8 * (i % 8))) & 0xff;
}

/* The byte range [*lo, *hi) entry i covers; false if it covers none. */
static bool range_of(const struct hart *h, unsigned i, uint64_t *lo, uint64_t *hi)
{
	unsigned a = cfg_of(h, i) & PMP_A;
	uint64_t addr = h->pmpaddr[i];
	switch (a) {
	case A_TOR:
		*lo = i ? h->pmpaddr[i - 1] << 2 : 0;
		*hi = addr << 2;
		return *lo < *hi;
	case A_NA4:
		*lo = addr << 2;
		*hi = *lo + 4;
		return true;
	case A_NAPOT: {
		/* trailing ones of pmpaddr give the size: 2^(ones + 3) bytes */
		unsigned ones = (unsigned)__builtin_ctzll(~addr);
		uint64_t size = ones >= 54 ? 1ull << 56 : 1ull << (ones + 3);
		*lo = (addr << 2) & ~(size - 1);
		*hi = *lo + size;
		return true;
	}
	default:
		return false;
	}
}

/* The entry that decides for [pa, pa + len): its index, or -1 if none matches; *partial if
 * it matches only some of the bytes. */
static int match(const struct hart *h, uint64_t pa, uint64_t len, bool *partial)
{
	*partial = false;
	for (unsigned i = 0; i < PMP_ENTRIES; i++) {
		uint64_t lo, hi;
		if (!range_of(h, i, &lo, &hi) || pa + len <= lo || pa >= hi)
			continue;
		*partial = pa < lo || pa + len > hi;
		return (int)i;
	}
	return -1;
}

static bool entry_allows(unsigned cfg, enum access acc, unsigned priv)
{
	if (priv == PRV_M && !(cfg & PMP_L))
		return true;
	unsigned need = acc == ACC_LOAD ? PMP_R : acc == ACC_STORE ? PMP_W : PMP_X;
	return cfg & need;
}

bool pmp_allows(const struct hart *h, uint64_t pa, unsigned len, enum access acc, unsigned priv)
{
	bool partial;
	int i = match(h, pa, len, &partial);
	if (i < 0)
		return priv == PRV_M;
	if (partial)
		return false;
	return entry_allows(cfg_of(h, (unsigned)i), acc, priv);
}

bool pmp_page_uniform(const struct hart *h, uint64_t page, enum access acc, unsigned priv)
{
	bool partial;
	int i = match(h, page, 4096, &partial);
	if (i < 0 || !partial)
		return true; /* no entry, or one entry over all of it */
	/* Partly covered by entry i: still one answer if i's answer is the one
	 * the rest of the page gets (checked byte range by byte range would be
	 * exact; this is the cautious side: the page is left out of the TLB). */
	(void)acc;
	(void)priv;
	return false;
}

/*
 * Drop the translations cached under the old rules.  Decoded and translated
 * blocks may stay: every way into a block goes through a fetch translation
 * (the jump cache is checked against the fetch TLB), except chained jumps
 * between translated blocks of one page, which only run after such a way in.
 */
static void pmp_changed(struct hart *h)
{
	tlb_flush_everything(h);
	hart_bump_epoch(h);
}

static bool locked(const struct hart *h, unsigned i)
{
	return cfg_of(h, i) & PMP_L;
}

void pmp_write_cfg(struct hart *h, unsigned reg, uint64_t v)
{
	uint64_t cur = h->pmpcfg[reg], out = 0;
	for (unsigned b = 0; b < 8; b++) {
		unsigned old = (unsigned)(cur >> (8 * b)) & 0xff,
			 nv = (unsigned)(v >> (8 * b)) & 0xff;
		if (old & PMP_L) {
			nv = old; /* locked until reset */
		} else {
			nv &= PMP_R | PMP_W | PMP_X | PMP_A | PMP_L;
			if ((nv & (PMP_R | PMP_W)) == PMP_W)
				nv &= ~PMP_W; /* R=0 W=1 is reserved: no write without read */
		}
		out |= (uint64_t)nv << (8 * b);
	}
	if (out != cur) {
		h->pmpcfg[reg] = out;
		pmp_changed(h);
	}
}

void pmp_write_addr(struct hart *h, unsigned i, uint64_t v)
{
	/* A locked entry's address is fixed, and so is the bottom of a locked TOR above it. */
	if (locked(h, i) ||
	    (i + 1 < PMP_ENTRIES && locked(h, i + 1) && (cfg_of(h, i + 1) & PMP_A) == A_TOR))
		return;
	v &= (1ull << 54) - 1;
	if (v != h->pmpaddr[i]) {
		h->pmpaddr[i] = v;
		pmp_changed(h);
	}
}
