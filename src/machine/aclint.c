/* SPDX-License-Identifier: MIT */
#include "machine/aclint.h"

#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "machine/fdt.h"
#include "util/log.h"

#define ACLINT_MSIP_BASE     0x0
#define ACLINT_MTIMECMP_BASE 0x4000
#define ACLINT_MTIME	     0xbff8

struct aclint {
	pthread_mutex_t lock; /* msip bits; mtimecmp lives in the hart */
	unsigned nharts;
	const struct timebase *tb;
	bool msip[ACLINT_MAX_HARTS];
	struct hart_port port[ACLINT_MAX_HARTS];
};

struct aclint *aclint_create(unsigned nharts, const struct timebase *tb)
{
	if (nharts == 0 || nharts > ACLINT_MAX_HARTS)
		return NULL;
	struct aclint *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	pthread_mutex_init(&a->lock, NULL);
	a->nharts = nharts;
	a->tb = tb;
	return a;
}

void aclint_destroy(struct aclint *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void aclint_attach_hart(struct aclint *a, unsigned h, struct hart_port port)
{
	if (h < a->nharts)
		a->port[h] = port;
}

/* A 4- or 8-byte access at 'off' inside the 8-byte register at 'reg'. */
static bool aclint_in_reg64(uint64_t off, uint64_t reg, unsigned size)
{
	return off >= reg && off - reg + size <= 8;
}

static uint64_t aclint_extract(uint64_t reg, uint64_t off, unsigned size)
{
	uint64_t v = reg >> (8 * (off & 7));
	return size == 8 ? v : (uint32_t)v;
}

static uint64_t aclint_merge(uint64_t reg, uint64_t off, unsigned size, uint64_t val)
{
	if (size == 8)
		return val;
	unsigned shift = 8 * (unsigned)(off & 7);
	uint64_t mask = 0xffffffffull << shift;
	return (reg & ~mask) | (((uint64_t)(uint32_t)val << shift) & mask);
}

static int aclint_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct aclint *a = dev;
	if ((size != 4 && size != 8) || (off & (size - 1)))
		return -1;
	*val = 0;
	if (off < ACLINT_MSIP_BASE + 4 * a->nharts) {
		if (size != 4)
			return -1;
		pthread_mutex_lock(&a->lock);
		*val = a->msip[off / 4];
		pthread_mutex_unlock(&a->lock);
	} else if (off >= ACLINT_MTIMECMP_BASE && off < ACLINT_MTIMECMP_BASE + 8 * a->nharts) {
		const struct hart_port *hp = &a->port[(off - ACLINT_MTIMECMP_BASE) / 8];
		uint64_t cmp = hp->get_mtimecmp ? hp->get_mtimecmp(hp->hart) : UINT64_MAX;
		*val = aclint_extract(cmp, off, size);
	} else if (aclint_in_reg64(off, ACLINT_MTIME, size)) {
		*val = aclint_extract(timebase_now(a->tb), off, size);
	}
	return 0;
}

static int aclint_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct aclint *a = dev;
	if ((size != 4 && size != 8) || (off & (size - 1)))
		return -1;
	if (off < ACLINT_MSIP_BASE + 4 * a->nharts) {
		if (size != 4)
			return -1;
		unsigned h = (unsigned)(off / 4);
		const struct hart_port *hp = &a->port[h];
		pthread_mutex_lock(&a->lock);
		a->msip[h] = val & 1;
		if (hp->set_pending)
			hp->set_pending(hp->hart, MIP_MSIP, val & 1);
		pthread_mutex_unlock(&a->lock);
	} else if (off >= ACLINT_MTIMECMP_BASE && off < ACLINT_MTIMECMP_BASE + 8 * a->nharts) {
		const struct hart_port *hp = &a->port[(off - ACLINT_MTIMECMP_BASE) / 8];
		if (!hp->set_mtimecmp || !hp->get_mtimecmp)
			return 0;
		/* A 4-byte half is merged into the current value; only this hart's
		 * own code writes its compare in practice, so no lock is needed. */
		hp->set_mtimecmp(hp->hart,
				 aclint_merge(hp->get_mtimecmp(hp->hart), off, size, val));
	}
	/* mtime is read-only here: the timebase is shared by all harts. */
	return 0;
}

static int aclint_fdt(void *dev, struct fdt_ctx *ctx)
{
	struct aclint *a = dev;
	int node = fdt_ctx_add_soc_node(ctx, "clint");
	if (node < 0)
		return node;
	uint32_t cells[4 * ACLINT_MAX_HARTS];
	for (unsigned h = 0; h < a->nharts; h++) {
		cells[4 * h + 0] = cpu_to_fdt32(ctx->intc_phandle[h]);
		cells[4 * h + 1] = cpu_to_fdt32(3); /* M-mode software interrupt */
		cells[4 * h + 2] = cpu_to_fdt32(ctx->intc_phandle[h]);
		cells[4 * h + 3] = cpu_to_fdt32(7); /* M-mode timer interrupt */
	}
	static const char compat[] = "sifive,clint0\0riscv,clint0";
	int r;
	if ((r = fdt_setprop(ctx->fdt, node, "interrupts-extended", cells,
			     (int)(a->nharts * 4 * sizeof(cells[0])))) ||
	    (r = fdt_setprop(ctx->fdt, node, "compatible", compat, sizeof(compat))))
		return r;
	return 0;
}

const struct mmio_ops aclint_mmio_ops = {
    .read = aclint_read, .write = aclint_write, .fdt = aclint_fdt};

void aclint_save(struct aclint *a, struct aclint_state *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&a->lock);
	st->nharts = a->nharts;
	for (unsigned h = 0; h < a->nharts; h++)
		st->msip[h] = a->msip[h];
	pthread_mutex_unlock(&a->lock);
}

int aclint_load(struct aclint *a, const struct aclint_state *st, struct verr *err)
{
	if (st->nharts != a->nharts)
		return verr_set(err, EINVAL, "clint: saved for %u harts, not %u", st->nharts,
				a->nharts);
	for (unsigned h = 0; h < ACLINT_MAX_HARTS; h++)
		if (st->msip[h] > 1 || (h >= a->nharts && st->msip[h]))
			return verr_set(err, EINVAL, "clint: bad msip for hart %u", h);
	pthread_mutex_lock(&a->lock);
	/* MSIP in the harts' mip comes back with the harts. */
	for (unsigned h = 0; h < a->nharts; h++)
		a->msip[h] = st->msip[h];
	pthread_mutex_unlock(&a->lock);
	return 0;
}
