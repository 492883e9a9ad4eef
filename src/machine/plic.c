/* SPDX-License-Identifier: MIT */
#include "machine/plic.h"

#include <libfdt.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "machine/fdt.h"
#include "util/log.h"

#define PLIC_SOURCES	  1024
#define PLIC_WORDS	  (PLIC_SOURCES / 32)
#define PLIC_CONTEXTS	  (2 * PLIC_MAX_HARTS)
#define PLIC_PRIO_MASK	  7u /* 7 priority levels, as QEMU's virt board */
#define PLIC_PENDING_BASE 0x1000
#define PLIC_ENABLE_BASE  0x2000
#define PLIC_ENABLE_STEP  0x80
#define PLIC_CONTEXT_BASE 0x200000
#define PLIC_CONTEXT_STEP 0x1000

struct plic {
	struct irq_chip chip; /* first: set_level gets this pointer */
	pthread_mutex_t lock;
	unsigned nharts, ndev, nctx;
	uint32_t priority[PLIC_SOURCES];
	uint32_t level[PLIC_WORDS];   /* line state as the devices drive it */
	uint32_t pending[PLIC_WORDS]; /* gateway has forwarded a request */
	uint32_t claimed[PLIC_WORDS]; /* claimed and not yet completed */
	uint32_t enable[PLIC_CONTEXTS][PLIC_WORDS];
	uint32_t threshold[PLIC_CONTEXTS];
	bool output[PLIC_CONTEXTS]; /* what we last told the hart */
	struct hart_port port[PLIC_MAX_HARTS];
};

static bool bit_get(const uint32_t *w, unsigned i)
{
	return (w[i / 32] >> (i % 32)) & 1;
}

static void bit_put(uint32_t *w, unsigned i, bool v)
{
	if (v)
		w[i / 32] |= 1u << (i % 32);
	else
		w[i / 32] &= ~(1u << (i % 32));
}

/* Highest-priority source pending and enabled for ctx above its threshold; 0 if none. */
static unsigned plic_best(const struct plic *p, unsigned ctx)
{
	unsigned best = 0;
	uint32_t best_prio = p->threshold[ctx];
	for (unsigned w = 0; w < PLIC_WORDS && w * 32 <= p->ndev; w++) {
		uint32_t cand = p->pending[w] & ~p->claimed[w] & p->enable[ctx][w];
		while (cand) {
			unsigned src = w * 32 + (unsigned)__builtin_ctz(cand);
			cand &= cand - 1;
			if (p->priority[src] > best_prio) {
				best_prio = p->priority[src];
				best = src;
			}
		}
	}
	return best;
}

static void plic_update(struct plic *p)
{
	for (unsigned ctx = 0; ctx < p->nctx; ctx++) {
		bool out = plic_best(p, ctx) != 0;
		if (out == p->output[ctx])
			continue;
		p->output[ctx] = out;
		const struct hart_port *hp = &p->port[ctx / 2];
		if (hp->set_pending)
			hp->set_pending(hp->hart, (ctx & 1) ? MIP_SEIP : MIP_MEIP, out);
	}
}

static void plic_set_level(struct irq_chip *chip, unsigned line, bool level)
{
	struct plic *p = (struct plic *)chip;
	if (line == 0 || line > p->ndev)
		return;
	pthread_mutex_lock(&p->lock);
	bit_put(p->level, line, level);
	/* Level-triggered gateway: the request follows the line unless in service. */
	if (!bit_get(p->claimed, line))
		bit_put(p->pending, line, level);
	plic_update(p);
	pthread_mutex_unlock(&p->lock);
}

struct plic *plic_create(unsigned nharts, unsigned ndev)
{
	if (nharts == 0 || nharts > PLIC_MAX_HARTS || ndev == 0 || ndev >= PLIC_SOURCES)
		return NULL;
	struct plic *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->chip.set_level = plic_set_level;
	pthread_mutex_init(&p->lock, NULL);
	p->nharts = nharts;
	p->ndev = ndev;
	p->nctx = 2 * nharts;
	return p;
}

void plic_destroy(struct plic *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void plic_attach_hart(struct plic *p, unsigned h, struct hart_port port)
{
	if (h < p->nharts)
		p->port[h] = port;
}

struct irq_chip *plic_irq_chip(struct plic *p)
{
	return &p->chip;
}

static uint32_t plic_claim(struct plic *p, unsigned ctx)
{
	unsigned src = plic_best(p, ctx);
	if (src) {
		bit_put(p->pending, src, false);
		bit_put(p->claimed, src, true);
		plic_update(p);
	}
	return src;
}

static void plic_complete(struct plic *p, unsigned ctx, uint32_t src)
{
	/* Completion of a source not enabled for this context is ignored (spec). */
	if (src == 0 || src > p->ndev || !bit_get(p->enable[ctx], src) || !bit_get(p->claimed, src))
		return;
	bit_put(p->claimed, src, false);
	if (bit_get(p->level, src))
		bit_put(p->pending, src, true);
	plic_update(p);
}

/* Mask of the valid source bits in enable/pending word w. */
static uint32_t plic_word_mask(const struct plic *p, unsigned w)
{
	uint32_t m = ~0u;
	if (w == 0)
		m &= ~1u; /* source 0 does not exist */
	if ((w + 1) * 32 > p->ndev + 1) {
		unsigned valid = p->ndev + 1 > w * 32 ? p->ndev + 1 - w * 32 : 0;
		m &= valid ? (valid >= 32 ? ~0u : (1u << valid) - 1) : 0;
	}
	return m;
}

static int plic_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct plic *p = dev;
	if (size != 4 || (off & 3))
		return -1;
	*val = 0;
	pthread_mutex_lock(&p->lock);
	if (off < PLIC_PENDING_BASE) {
		unsigned src = (unsigned)(off / 4);
		if (src <= p->ndev)
			*val = p->priority[src];
	} else if (off < PLIC_PENDING_BASE + PLIC_WORDS * 4) {
		unsigned w = (unsigned)((off - PLIC_PENDING_BASE) / 4);
		*val = p->pending[w] & plic_word_mask(p, w);
	} else if (off >= PLIC_ENABLE_BASE && off < PLIC_ENABLE_BASE + p->nctx * PLIC_ENABLE_STEP) {
		unsigned ctx = (unsigned)((off - PLIC_ENABLE_BASE) / PLIC_ENABLE_STEP);
		unsigned w = (unsigned)((off - PLIC_ENABLE_BASE) % PLIC_ENABLE_STEP / 4);
		*val = p->enable[ctx][w];
	} else if (off >= PLIC_CONTEXT_BASE &&
		   off < PLIC_CONTEXT_BASE + p->nctx * PLIC_CONTEXT_STEP) {
		unsigned ctx = (unsigned)((off - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STEP);
		unsigned reg = (unsigned)((off - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STEP);
		if (reg == 0)
			*val = p->threshold[ctx];
		else if (reg == 4)
			*val = plic_claim(p, ctx);
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static int plic_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct plic *p = dev;
	if (size != 4 || (off & 3))
		return -1;
	uint32_t v = (uint32_t)val;
	pthread_mutex_lock(&p->lock);
	if (off < PLIC_PENDING_BASE) {
		unsigned src = (unsigned)(off / 4);
		if (src >= 1 && src <= p->ndev)
			p->priority[src] = v & PLIC_PRIO_MASK;
	} else if (off >= PLIC_ENABLE_BASE && off < PLIC_ENABLE_BASE + p->nctx * PLIC_ENABLE_STEP) {
		unsigned ctx = (unsigned)((off - PLIC_ENABLE_BASE) / PLIC_ENABLE_STEP);
		unsigned w = (unsigned)((off - PLIC_ENABLE_BASE) % PLIC_ENABLE_STEP / 4);
		p->enable[ctx][w] = v & plic_word_mask(p, w);
	} else if (off >= PLIC_CONTEXT_BASE &&
		   off < PLIC_CONTEXT_BASE + p->nctx * PLIC_CONTEXT_STEP) {
		unsigned ctx = (unsigned)((off - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STEP);
		unsigned reg = (unsigned)((off - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STEP);
		if (reg == 0)
			p->threshold[ctx] = v & PLIC_PRIO_MASK;
		else if (reg == 4)
			plic_complete(p, ctx, v);
	}
	/* Pending bits are read-only; other offsets are reserved and ignored. */
	plic_update(p);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static int plic_fdt(void *dev, struct fdt_ctx *ctx)
{
	struct plic *p = dev;
	int node = fdt_ctx_add_soc_node(ctx, "plic");
	if (node < 0)
		return node;
	uint32_t cells[4 * PLIC_MAX_HARTS];
	for (unsigned h = 0; h < p->nharts; h++) {
		cells[4 * h + 0] = cpu_to_fdt32(ctx->intc_phandle[h]);
		cells[4 * h + 1] = cpu_to_fdt32(11); /* M-mode external interrupt */
		cells[4 * h + 2] = cpu_to_fdt32(ctx->intc_phandle[h]);
		cells[4 * h + 3] = cpu_to_fdt32(9); /* S-mode external interrupt */
	}
	static const char compat[] = "sifive,plic-1.0.0\0riscv,plic0";
	int r;
	if ((r = fdt_setprop_u32(ctx->fdt, node, "phandle", ctx->plic_phandle)) ||
	    (r = fdt_setprop_u32(ctx->fdt, node, "riscv,ndev", p->ndev)) ||
	    (r = fdt_setprop(ctx->fdt, node, "interrupts-extended", cells,
			     (int)(p->nharts * 4 * sizeof(cells[0])))) ||
	    (r = fdt_setprop_empty(ctx->fdt, node, "interrupt-controller")) ||
	    (r = fdt_setprop(ctx->fdt, node, "compatible", compat, sizeof(compat))) ||
	    (r = fdt_setprop_u32(ctx->fdt, node, "#address-cells", 0)) ||
	    (r = fdt_setprop_u32(ctx->fdt, node, "#interrupt-cells", 1)))
		return r;
	return 0;
}

const struct mmio_ops plic_mmio_ops = {.read = plic_read, .write = plic_write, .fdt = plic_fdt};

void plic_save(struct plic *p, struct plic_state *st)
{
	_Static_assert(PLIC_STATE_SOURCES == PLIC_SOURCES, "plic_state layout");
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&p->lock);
	st->nharts = p->nharts;
	st->ndev = p->ndev;
	memcpy(st->priority, p->priority, sizeof(st->priority));
	memcpy(st->level, p->level, sizeof(st->level));
	memcpy(st->pending, p->pending, sizeof(st->pending));
	memcpy(st->claimed, p->claimed, sizeof(st->claimed));
	memcpy(st->enable, p->enable, sizeof(st->enable));
	memcpy(st->threshold, p->threshold, sizeof(st->threshold));
	for (unsigned c = 0; c < PLIC_CONTEXTS; c++)
		st->output[c] = p->output[c];
	pthread_mutex_unlock(&p->lock);
}

int plic_load(struct plic *p, const struct plic_state *st, struct verr *err)
{
	if (st->nharts != p->nharts || st->ndev != p->ndev)
		return verr_set(err, EINVAL,
				"plic: saved for %u harts and %u sources, not %u and %u",
				st->nharts, st->ndev, p->nharts, p->ndev);
	for (unsigned s = 0; s < PLIC_SOURCES; s++)
		if (st->priority[s] > PLIC_PRIO_MASK ||
		    (st->priority[s] && (s == 0 || s > p->ndev)))
			return verr_set(err, EINVAL, "plic: bad priority for source %u", s);
	for (unsigned c = 0; c < PLIC_CONTEXTS; c++) {
		if (st->threshold[c] > PLIC_PRIO_MASK || st->output[c] > 1 ||
		    (c >= p->nctx && (st->threshold[c] || st->output[c])))
			return verr_set(err, EINVAL, "plic: bad state for context %u", c);
		for (unsigned w = 0; w < PLIC_WORDS; w++)
			if (st->enable[c][w] & ~(c < p->nctx ? plic_word_mask(p, w) : 0))
				return verr_set(err, EINVAL,
						"plic: context %u enables a missing source", c);
	}
	for (unsigned w = 0; w < PLIC_WORDS; w++)
		if ((st->level[w] | st->pending[w] | st->claimed[w]) & ~plic_word_mask(p, w))
			return verr_set(err, EINVAL, "plic: a missing source is pending");
	pthread_mutex_lock(&p->lock);
	memcpy(p->priority, st->priority, sizeof(p->priority));
	memcpy(p->level, st->level, sizeof(p->level));
	memcpy(p->pending, st->pending, sizeof(p->pending));
	memcpy(p->claimed, st->claimed, sizeof(p->claimed));
	memcpy(p->enable, st->enable, sizeof(p->enable));
	memcpy(p->threshold, st->threshold, sizeof(p->threshold));
	/* The harts' mip bits come back with the harts: outputs are as they were. */
	for (unsigned c = 0; c < PLIC_CONTEXTS; c++)
		p->output[c] = st->output[c];
	pthread_mutex_unlock(&p->lock);
	return 0;
}
