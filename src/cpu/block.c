/* SPDX-License-Identifier: MIT */
#include "cpu/block.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/decode.h"
#include "cpu/jit.h"
#include "cpu/mmu.h"
#include "cpu/pmp.h"
#include "util/log.h"

const void *const *cpu_op_labels;

/* Operations whose rd names a floating-point register (so x0 needs no sink). */
static bool writes_fpr(enum cpu_op op)
{
	switch (op) {
	case OP_FLW:
	case OP_FLD:
	case OP_FMADD_S:
	case OP_FMSUB_S:
	case OP_FNMSUB_S:
	case OP_FNMADD_S:
	case OP_FADD_S:
	case OP_FSUB_S:
	case OP_FMUL_S:
	case OP_FDIV_S:
	case OP_FSQRT_S:
	case OP_FSGNJ_S:
	case OP_FSGNJN_S:
	case OP_FSGNJX_S:
	case OP_FMIN_S:
	case OP_FMAX_S:
	case OP_FCVT_S_W:
	case OP_FCVT_S_WU:
	case OP_FCVT_S_L:
	case OP_FCVT_S_LU:
	case OP_FMV_W_X:
	case OP_FMADD_D:
	case OP_FMSUB_D:
	case OP_FNMSUB_D:
	case OP_FNMADD_D:
	case OP_FADD_D:
	case OP_FSUB_D:
	case OP_FMUL_D:
	case OP_FDIV_D:
	case OP_FSQRT_D:
	case OP_FSGNJ_D:
	case OP_FSGNJN_D:
	case OP_FSGNJX_D:
	case OP_FMIN_D:
	case OP_FMAX_D:
	case OP_FCVT_S_D:
	case OP_FCVT_D_S:
	case OP_FCVT_D_W:
	case OP_FCVT_D_WU:
	case OP_FCVT_D_L:
	case OP_FCVT_D_LU:
	case OP_FMV_D_X:
		return true;
	default:
		return false;
	}
}

int block_cache_init(struct hart *h, size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	h->code_buf = p;
	h->code_size = bytes;
	h->code_used = 0;
	h->scratch_block = calloc(1, sizeof(struct block) + 2 * sizeof(struct insn));
	if (!h->scratch_block)
		return -ENOMEM;
	memset(h->block_hash, 0, sizeof(h->block_hash));
	return 0;
}

void block_cache_destroy(struct hart *h)
{
	if (h->code_buf)
		munmap(h->code_buf, h->code_size);
	free(h->scratch_block);
	h->code_buf = NULL;
	h->scratch_block = NULL;
}

void block_cache_flush(struct hart *h)
{
	log_debug("hart %u: block cache flushed (%zu bytes of blocks, %zu of host code)",
		  (unsigned)h->mhartid, h->code_used, h->jit_used);
	memset(h->block_hash, 0, sizeof(h->block_hash));
	h->code_used = 0;
	h->jit_used = 0; /* translated code goes with the blocks it came from */
	h->jit_link = NULL;
	h->jit_nlinks = 0;
	hart_bump_epoch(h);
}

void block_cache_fence_i(struct hart *h)
{
	/* Blocks stay, but each is compared with guest memory before its next use. */
	h->code_gen++;
	jit_unlink_all(h);
	hart_bump_epoch(h);
}

static unsigned hash_pa(uint64_t pa)
{
	return (unsigned)((pa >> 1) ^ (pa >> 15)) & (BLOCK_HASH_SIZE - 1);
}

static void fill_insn(struct insn *in, const struct decoded *d, int pc_off)
{
	in->op = cpu_op_labels[d->op];
	in->imm = d->imm;
	in->rd = (d->rd == 0 && !writes_fpr(d->op)) ? 32 : d->rd;
	in->rs1 = d->rs1;
	in->rs2 = d->rs2;
	in->rs3 = d->rs3;
	in->rm = d->rm;
	in->len = d->len;
	in->pc_off = (int16_t)pc_off;
	in->opc = (uint16_t)d->op;
}

static void fill_end(struct insn *in, int pc_off)
{
	memset(in, 0, sizeof(*in));
	in->op = cpu_op_labels[OP_END];
	in->opc = OP_END;
	in->pc_off = (int16_t)pc_off;
	in->rd = 32;
}

static uint16_t read16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

/* A 32-bit instruction whose halves lie in two pages: decoded on every execution. */
static struct block *build_straddling(struct hart *h, uint64_t vpc, const uint8_t *page)
{
	const uint8_t *next;
	uint64_t pa2;
	if (mem_fetch_page(h, vpc + 2, &next, &pa2) < 0)
		return NULL;
	uint32_t raw = read16(page + 0xffe) | (uint32_t)read16(next) << 16;
	struct decoded d;
	decode_insn(raw, &d);
	struct block *b = h->scratch_block;
	b->paddr = 0;
	b->ninsn = 1;
	b->size = 4;
	b->code_off = 0xffe;
	b->page2 = NULL;
	fill_insn(&b->insn[0], &d, 0);
	fill_end(&b->insn[1], 4);
	return b;
}

/*
 * A direct jump (jal) to the same page does not end the block: the jump
 * becomes JAL_FOLD (link register written, no exit) and decoding goes on
 * at its target, so a loop closed by 'j' becomes one block that loops on
 * itself.  The block's bytes then span [lo, hi) of the page.
 */
static bool fold_jump(const struct decoded *d, unsigned pos, unsigned n, unsigned *target)
{
	int64_t t = (int64_t)pos + d->imm;
	if (d->op != OP_JAL || n + 1 >= BLOCK_MAX_INSNS || t < 0 || t > 4094)
		return false;
	*target = (unsigned)t;
	return true;
}

/*
 * A 32-bit instruction in the last two bytes of the page, after others in
 * the block: rather than leave it to the slow path on every run (a hot loop
 * may hold one), end the block with it, behind a PAGE2_GUARD that checks on
 * each run that the next virtual page still maps the host page and holds
 * the halfword seen now; if not, the block leaves for the instruction's pc,
 * where the dispatcher decodes it afresh.  Returns the instruction count
 * (2: guard and instruction), or 0 to end the block before it.
 */
static unsigned add_straddling(struct hart *h, uint64_t vpage, const uint8_t *page, int pc_off,
			       struct insn *tmp, const uint8_t **page2)
{
	const uint8_t *next;
	uint64_t pa2;
	if (mem_fetch_page(h, vpage + 4096, &next, &pa2))
		return 0; /* the dispatcher raises the fault when it gets there */
	uint16_t high = read16(next);
	struct decoded d;
	decode_insn(read16(page + 4094) | (uint32_t)high << 16, &d);
	memset(&tmp[0], 0, sizeof(tmp[0]));
	tmp[0].op = cpu_op_labels[OP_PAGE2_GUARD];
	tmp[0].opc = OP_PAGE2_GUARD;
	tmp[0].rd = 32;
	tmp[0].imm = high;
	tmp[0].pc_off = (int16_t)pc_off;
	fill_insn(&tmp[1], &d, pc_off);
	*page2 = next;
	return 2;
}

static bool is_branch(enum cpu_op op)
{
	return op == OP_BEQ || op == OP_BNE || op == OP_BLT || op == OP_BGE || op == OP_BLTU ||
	       op == OP_BGEU;
}

static struct block *find(struct hart *h, uint64_t pa)
{
	struct block *b = h->block_hash[hash_pa(pa)];
	while (b && b->paddr != pa)
		b = b->next;
	return b;
}

static enum cpu_op inverted(enum cpu_op op)
{
	switch (op) {
	case OP_BEQ:
		return OP_BNE;
	case OP_BNE:
		return OP_BEQ;
	case OP_BLT:
		return OP_BGE;
	case OP_BGE:
		return OP_BLT;
	case OP_BLTU:
		return OP_BGEU;
	default:
		return OP_BLTU;
	}
}

/*
 * Building a trace (block_retrace): a conditional branch at 'pos' ends the
 * run of code that started at 'seg' of the page; the block decoded from
 * there, interpreted a while already, tells which way the branch goes.
 * Taken more often than not: the trace goes on at the target, the branch
 * inverted to leave for the fall-through (the rarer way costs a jump
 * between blocks, as every branch did before).  Not taken more often: the
 * trace goes on after it.  Otherwise, or for a branch back to the trace's
 * start (a loop, left as an exit the JIT turns into a loop), or without a
 * profile: the trace ends.
 * Returns where to go on, or -1 to end.
 */
#define TRACE_MAX_SEGS 16

struct trace_segs {
	unsigned n;
	uint16_t start[TRACE_MAX_SEGS]; /* page offsets where the trace's runs of code begin */
};

/* Whether the trace may go on at 'off': not where it has been (no unrolling), not too long. */
static bool trace_may_enter(struct trace_segs *t, int64_t off)
{
	if (off < 0 || off > 4094 || t->n == TRACE_MAX_SEGS)
		return false;
	for (unsigned i = 0; i < t->n; i++)
		if (t->start[i] == off)
			return false;
	t->start[t->n++] = (uint16_t)off;
	return true;
}

static int trace_branch(struct hart *h, uint64_t page_pa, struct trace_segs *t, unsigned pos,
			struct decoded *d)
{
	unsigned seg = t->start[t->n - 1];
	const struct block *p = find(h, page_pa + seg);
	if (!p || p->trace || p->ninsn == 0 || p->execs < 16 ||
	    p->insn[p->ninsn - 1].pc_off != (int)(pos - seg))
		return -1;
	int64_t target = (int64_t)pos + d->imm;
	if ((uint64_t)p->taken * 2 > p->execs) {
		if (!trace_may_enter(t, target))
			return -1;
		d->op = inverted(d->op);
		d->imm = d->len;
		return (int)target;
	}
	if ((uint64_t)p->taken * 2 < p->execs && trace_may_enter(t, pos + d->len))
		return (int)(pos + d->len);
	return -1;
}

static struct block *build(struct hart *h, uint64_t pa, const uint8_t *page, uint64_t vpc,
			   bool trace)
{
	struct insn tmp[BLOCK_MAX_INSNS + 1];
	unsigned start = pa & 0xfff, pos = start, n = 0, lo = start, hi = start, target;
	struct trace_segs segs = {1, {(uint16_t)start}};
	const uint8_t *page2 = NULL;
	while (n < BLOCK_MAX_INSNS && pos + 2 <= 4096) {
		uint32_t raw = read16(page + pos);
		unsigned len = insn_length((uint16_t)raw);
		if (pos + len > 4096) {
			if (n > 0 && n + 2 <= BLOCK_MAX_INSNS) {
				unsigned k = add_straddling(h, vpc & ~0xfffull, page,
							    (int)pos - (int)start, &tmp[n], &page2);
				n += k;
				if (k) {
					pos += len;
					hi = 4096; /* the bytes of this page: the rest is guarded */
				}
			}
			break;
		}
		if (len == 4)
			raw |= (uint32_t)read16(page + pos + 2) << 16;
		struct decoded d;
		decode_insn(raw, &d);
		lo = pos < lo ? pos : lo;
		hi = pos + len > hi ? pos + len : hi;
		if (fold_jump(&d, pos, n, &target)) {
			d.op = OP_JAL_FOLD;
			fill_insn(&tmp[n++], &d, (int)pos - (int)start);
			pos = target;
			continue;
		}
		int next = -1;
		if (trace && is_branch(d.op) && n + 1 < BLOCK_MAX_INSNS)
			next = trace_branch(h, pa & ~0xfffull, &segs, pos, &d);
		fill_insn(&tmp[n++], &d, (int)pos - (int)start);
		if (next >= 0) {
			pos = (unsigned)next;
			continue;
		}
		pos += len;
		if (d.ends_block)
			break;
	}
	fill_end(&tmp[n], (int)pos - (int)start);

	size_t bytes = sizeof(struct block) + (n + 1) * sizeof(struct insn) + (hi - lo);
	bytes = (bytes + 15) & ~(size_t)15;
	if (h->code_used + bytes > h->code_size)
		block_cache_flush(h);
	struct block *b = (struct block *)(h->code_buf + h->code_used);
	h->code_used += bytes;
	b->paddr = pa;
	b->gen = h->code_gen;
	b->ninsn = n;
	b->size = hi - lo;
	b->code_off = lo;
	b->execs = 0;
	b->taken = 0;
	b->jit_failed = false;
	b->trace = trace;
	b->replaced = NULL;
	b->jit = NULL;
	b->page2 = page2;
	memcpy(b->insn, tmp, (n + 1) * sizeof(struct insn));
	uint8_t *code = (uint8_t *)&b->insn[n + 1];
	memcpy(code, page + lo, b->size);
	b->code = code;
	unsigned hidx = hash_pa(pa);
	b->next = h->block_hash[hidx];
	h->block_hash[hidx] = b;
	return b;
}

/*
 * PMP lets only part of this page be fetched: the instruction at vpc alone,
 * its bytes checked, in the scratch block (never cached, never translated),
 * so every instruction of the page is checked when it is reached.
 */
static struct block *build_single(struct hart *h, uint64_t vpc, const uint8_t *page, uint64_t pa)
{
	unsigned off = pa & 0xfff, len = 2;
	uint32_t raw = read16(page + off);
	if (insn_length((uint16_t)raw) == 4) {
		if (!pmp_allows(h, pa + 2, 2, ACC_FETCH, h->priv)) {
			h->exc_cause = CAUSE_FETCH_ACCESS;
			h->exc_tval = vpc + 2; /* the part of the instruction that faulted */
			return NULL;
		}
		raw |= (uint32_t)read16(page + off + 2) << 16;
		len = 4;
	}
	struct decoded d;
	decode_insn(raw, &d);
	struct block *b = h->scratch_block;
	b->paddr = 0;
	b->ninsn = 1;
	b->size = len;
	b->code_off = off;
	b->page2 = NULL;
	fill_insn(&b->insn[0], &d, 0);
	fill_end(&b->insn[1], (int)len);
	return b;
}

struct block *block_lookup(struct hart *h, uint64_t vpc)
{
	const uint8_t *page;
	uint64_t pa;
	int r = mem_fetch_page(h, vpc, &page, &pa);
	if (r < 0)
		return NULL;
	unsigned off = pa & 0xfff;
	if (off == 0xffe && insn_length(read16(page + off)) == 4)
		return build_straddling(h, vpc, page);
	if (r > 0)
		return build_single(h, vpc, page, pa);

	struct block *b, **link = &h->block_hash[hash_pa(pa)];
	for (b = *link; b; link = &b->next, b = b->next)
		if (b->paddr == pa)
			break;
	if (b && b->gen != h->code_gen) {
		/* fence.i since it was decoded: still the same bytes? */
		if (memcmp(b->code, page + b->code_off, b->size) == 0) {
			b->gen = h->code_gen;
		} else {
			*link = b->next;
			b = NULL;
		}
	}
	if (!b)
		b = build(h, pa, page, vpc, false);
	struct jc_entry *e = &h->jc[(vpc >> 1) & (JC_SIZE - 1)];
	e->vpc = vpc;
	e->key = h->jc_key;
	e->blk = b;
	e->addend = h->itlb->x[(vpc >> 12) & (TLB_SIZE - 1)].addend;
	return b;
}

/*
 * blk, entered at vpc, is about to be translated: if its last branch went
 * one way more often than the other while it was interpreted, decode it again as a trace
 * that follows that way (and the ways of the branches after it, as far as
 * their own blocks tell), so a loop spread over several blocks runs as one
 * translated block.  The trace takes blk's place in the cache; blk points
 * to it (a jump-cache entry may still name blk).  Returns the block to
 * translate.
 */
struct block *block_retrace(struct hart *h, struct block *blk, uint64_t vpc)
{
	if (blk == h->scratch_block || blk->trace || blk->ninsn == 0 || blk->execs < 16 ||
	    !is_branch((enum cpu_op)blk->insn[blk->ninsn - 1].opc))
		return blk;
	uint32_t execs = blk->execs, taken = blk->taken;
	if ((uint64_t)taken * 2 == execs)
		return blk; /* no way more likely than the other */
	const uint8_t *page;
	uint64_t pa, epoch = h->jc_epoch;
	if (mem_fetch_page(h, vpc, &page, &pa) || pa != blk->paddr)
		return blk;
	struct block *t = build(h, pa, page, vpc, true);
	if (h->jc_epoch != epoch)
		return t; /* the cache was flushed to make room: blk is gone */
	if (t->ninsn <= blk->ninsn) {
		/* the trace is blk: drop it again (it heads the chain) */
		h->block_hash[hash_pa(pa)] = t->next;
		return blk;
	}
	/* t heads the chain now; blk, further down, leaves it */
	for (struct block **link = &t->next; *link; link = &(*link)->next)
		if (*link == blk) {
			*link = blk->next;
			break;
		}
	t->execs = execs;
	blk->replaced = t;
	struct jc_entry *e = &h->jc[(vpc >> 1) & (JC_SIZE - 1)];
	if (e->vpc == vpc && e->blk == blk)
		e->blk = t;
	return t;
}
