/* SPDX-License-Identifier: MIT */
/*
 * Validation and translation of the non-control instructions: numeric,
 * memory, table and reference operations (see compile.c for the scheme).
 */
#include <errno.h>
#include <string.h>

#include "wasm/compile.h"

enum { K_NONE, K_UN, K_BIN, K_RETAG };

struct numop {
	uint16_t iop;
	uint8_t kind, tin, tout;
};

#define I32		    WASM_I32
#define I64		    WASM_I64
#define F32		    WASM_F32
#define F64		    WASM_F64
#define U(code, name, a, r) [(code)-0x45] = {WASM_IOP_##name, K_UN, a, r}
#define B(code, name, a, r) [(code)-0x45] = {WASM_IOP_##name##_ss, K_BIN, a, r}
#define R(code, a, r)	    [(code)-0x45] = {0, K_RETAG, a, r}

static const struct numop numops[0xc5 - 0x45] = {
    U(0x45, i32_eqz, I32, I32),
    B(0x46, i32_eq, I32, I32),
    B(0x47, i32_ne, I32, I32),
    B(0x48, i32_lt_s, I32, I32),
    B(0x49, i32_lt_u, I32, I32),
    B(0x4a, i32_gt_s, I32, I32),
    B(0x4b, i32_gt_u, I32, I32),
    B(0x4c, i32_le_s, I32, I32),
    B(0x4d, i32_le_u, I32, I32),
    B(0x4e, i32_ge_s, I32, I32),
    B(0x4f, i32_ge_u, I32, I32),
    U(0x50, i64_eqz, I64, I32),
    B(0x51, i64_eq, I64, I32),
    B(0x52, i64_ne, I64, I32),
    B(0x53, i64_lt_s, I64, I32),
    B(0x54, i64_lt_u, I64, I32),
    B(0x55, i64_gt_s, I64, I32),
    B(0x56, i64_gt_u, I64, I32),
    B(0x57, i64_le_s, I64, I32),
    B(0x58, i64_le_u, I64, I32),
    B(0x59, i64_ge_s, I64, I32),
    B(0x5a, i64_ge_u, I64, I32),
    B(0x5b, f32_eq, F32, I32),
    B(0x5c, f32_ne, F32, I32),
    B(0x5d, f32_lt, F32, I32),
    B(0x5e, f32_gt, F32, I32),
    B(0x5f, f32_le, F32, I32),
    B(0x60, f32_ge, F32, I32),
    B(0x61, f64_eq, F64, I32),
    B(0x62, f64_ne, F64, I32),
    B(0x63, f64_lt, F64, I32),
    B(0x64, f64_gt, F64, I32),
    B(0x65, f64_le, F64, I32),
    B(0x66, f64_ge, F64, I32),
    U(0x67, i32_clz, I32, I32),
    U(0x68, i32_ctz, I32, I32),
    U(0x69, i32_popcnt, I32, I32),
    B(0x6a, i32_add, I32, I32),
    B(0x6b, i32_sub, I32, I32),
    B(0x6c, i32_mul, I32, I32),
    B(0x6d, i32_div_s, I32, I32),
    B(0x6e, i32_div_u, I32, I32),
    B(0x6f, i32_rem_s, I32, I32),
    B(0x70, i32_rem_u, I32, I32),
    B(0x71, i32_and, I32, I32),
    B(0x72, i32_or, I32, I32),
    B(0x73, i32_xor, I32, I32),
    B(0x74, i32_shl, I32, I32),
    B(0x75, i32_shr_s, I32, I32),
    B(0x76, i32_shr_u, I32, I32),
    B(0x77, i32_rotl, I32, I32),
    B(0x78, i32_rotr, I32, I32),
    U(0x79, i64_clz, I64, I64),
    U(0x7a, i64_ctz, I64, I64),
    U(0x7b, i64_popcnt, I64, I64),
    B(0x7c, i64_add, I64, I64),
    B(0x7d, i64_sub, I64, I64),
    B(0x7e, i64_mul, I64, I64),
    B(0x7f, i64_div_s, I64, I64),
    B(0x80, i64_div_u, I64, I64),
    B(0x81, i64_rem_s, I64, I64),
    B(0x82, i64_rem_u, I64, I64),
    B(0x83, i64_and, I64, I64),
    B(0x84, i64_or, I64, I64),
    B(0x85, i64_xor, I64, I64),
    B(0x86, i64_shl, I64, I64),
    B(0x87, i64_shr_s, I64, I64),
    B(0x88, i64_shr_u, I64, I64),
    B(0x89, i64_rotl, I64, I64),
    B(0x8a, i64_rotr, I64, I64),
    U(0x8b, f32_abs, F32, F32),
    U(0x8c, f32_neg, F32, F32),
    U(0x8d, f32_ceil, F32, F32),
    U(0x8e, f32_floor, F32, F32),
    U(0x8f, f32_trunc, F32, F32),
    U(0x90, f32_nearest, F32, F32),
    U(0x91, f32_sqrt, F32, F32),
    B(0x92, f32_add, F32, F32),
    B(0x93, f32_sub, F32, F32),
    B(0x94, f32_mul, F32, F32),
    B(0x95, f32_div, F32, F32),
    B(0x96, f32_min, F32, F32),
    B(0x97, f32_max, F32, F32),
    B(0x98, f32_copysign, F32, F32),
    U(0x99, f64_abs, F64, F64),
    U(0x9a, f64_neg, F64, F64),
    U(0x9b, f64_ceil, F64, F64),
    U(0x9c, f64_floor, F64, F64),
    U(0x9d, f64_trunc, F64, F64),
    U(0x9e, f64_nearest, F64, F64),
    U(0x9f, f64_sqrt, F64, F64),
    B(0xa0, f64_add, F64, F64),
    B(0xa1, f64_sub, F64, F64),
    B(0xa2, f64_mul, F64, F64),
    B(0xa3, f64_div, F64, F64),
    B(0xa4, f64_min, F64, F64),
    B(0xa5, f64_max, F64, F64),
    B(0xa6, f64_copysign, F64, F64),
    U(0xa7, i32_wrap_i64, I64, I32),
    U(0xa8, i32_trunc_f32_s, F32, I32),
    U(0xa9, i32_trunc_f32_u, F32, I32),
    U(0xaa, i32_trunc_f64_s, F64, I32),
    U(0xab, i32_trunc_f64_u, F64, I32),
    U(0xac, i64_extend_i32_s, I32, I64),
    U(0xad, i64_extend_i32_u, I32, I64),
    U(0xae, i64_trunc_f32_s, F32, I64),
    U(0xaf, i64_trunc_f32_u, F32, I64),
    U(0xb0, i64_trunc_f64_s, F64, I64),
    U(0xb1, i64_trunc_f64_u, F64, I64),
    U(0xb2, f32_convert_i32_s, I32, F32),
    U(0xb3, f32_convert_i32_u, I32, F32),
    U(0xb4, f32_convert_i64_s, I64, F32),
    U(0xb5, f32_convert_i64_u, I64, F32),
    U(0xb6, f32_demote_f64, F64, F32),
    U(0xb7, f64_convert_i32_s, I32, F64),
    U(0xb8, f64_convert_i32_u, I32, F64),
    U(0xb9, f64_convert_i64_s, I64, F64),
    U(0xba, f64_convert_i64_u, I64, F64),
    U(0xbb, f64_promote_f32, F32, F64),
    R(0xbc, F32, I32),
    R(0xbd, F64, I64),
    R(0xbe, I32, F32),
    R(0xbf, I64, F64),
    U(0xc0, i32_extend8_s, I32, I32),
    U(0xc1, i32_extend16_s, I32, I32),
    U(0xc2, i64_extend8_s, I64, I64),
    U(0xc3, i64_extend16_s, I64, I64),
    U(0xc4, i64_extend32_s, I64, I64),
};

static int unary(struct comp *c, enum wasm_iop iop, uint8_t tin, uint8_t tout)
{
	struct ventry a;
	if (comp_pop(c, tin, &a))
		return -EINVAL;
	uint32_t h = c->nvals;
	if (comp_push(c, tout))
		return -EINVAL;
	if (comp_live(c)) {
		uint32_t sa = comp_operand(c, &a, h);
		comp_emit_dax(c, iop, comp_canon(c, h), sa, 0, 2);
	}
	return 0;
}

/*
 * Pairs of instructions that are one: an operation whose operand is the result of the
 * instruction just emitted (and read nowhere else) becomes [d|x][y|c], computing
 * second(first(x, y), c).  The second operations are commutative, so the first's result
 * may be either operand.  A multiply-add still rounds the product (no FMA).
 */
static const struct {
	uint16_t first, second, fused;
} pair_fusions[] = {
    {WASM_IOP_f64_mul_ss, WASM_IOP_f64_add_ss, WASM_IOP_f64_muladd},
    {WASM_IOP_f32_mul_ss, WASM_IOP_f32_add_ss, WASM_IOP_f32_muladd},
    {WASM_IOP_i32_add_ss, WASM_IOP_i32_add_ss, WASM_IOP_i32_add3},
    {WASM_IOP_i32_xor_ss, WASM_IOP_i32_xor_ss, WASM_IOP_i32_xor3},
    {WASM_IOP_i32_rotl_si, WASM_IOP_i32_xor_ss, WASM_IOP_i32_rotl_xor},
};

/*
 * "rotl x1 c1; rotl x2 c2; xor" (the first half of a SHA-2 sigma), both rotations on the
 * stack: one instruction [d|x1][c1|x2][c2].  x2 must not be the first rotation's result.
 */
static bool fuse_two_rotations(struct comp *c, enum wasm_iop fused, const struct ventry *other,
			       uint32_t x2, uint32_t c2, uint32_t h)
{
	if (fused != WASM_IOP_i32_rotl_xor || c->prev_op != WASM_IOP_i32_rotl_si ||
	    c->prev_end != c->last_start || other->kind != V_SLOT)
		return false;
	const union wasm_cell *first = &c->code[c->prev_start];
	uint32_t t = first[1].r.a;
	if (other->slot != t || t < c->nlocals || x2 == t)
		return false;
	uint32_t x1 = first[1].r.b, c1 = (uint32_t)first[2].u;
	c->ncode = c->prev_start;
	comp_forget_last(c);
	comp_emit_dax(c, WASM_IOP_i32_rotl2_xor, comp_canon(c, h), x1, 0, 4);
	if (!c->oom) {
		c->code[c->last_start + 2].r.a = c1;
		c->code[c->last_start + 2].r.b = x2;
		c->code[c->last_start + 3].u = c2;
	}
	return true;
}

static bool fuse_pair(struct comp *c, enum wasm_iop second, const struct ventry *a,
		      const struct ventry *b, uint32_t h)
{
	if (c->oom || c->last_end != c->ncode)
		return false;
	size_t i = 0, n = sizeof(pair_fusions) / sizeof(pair_fusions[0]);
	while (i < n && (pair_fusions[i].second != second || pair_fusions[i].first != c->last_op))
		i++;
	if (i == n)
		return false;
	uint32_t dst = c->code[c->last_start + 1].r.a;
	const struct ventry *other = NULL;
	if (a->kind == V_SLOT && a->slot == dst)
		other = b;
	else if (b->kind == V_SLOT && b->slot == dst)
		other = a;
	if (!other || other->kind == V_CONST)
		return false;
	uint32_t x = c->code[c->last_start + 1].r.b, y = (uint32_t)c->code[c->last_start + 2].u;
	if (fuse_two_rotations(c, pair_fusions[i].fused, other, x, y, h))
		return true;
	c->ncode = c->last_start;
	comp_emit_dax(c, pair_fusions[i].fused, comp_canon(c, h), x, 0, 3);
	if (!c->oom) {
		c->code[c->last_start + 2].r.a = y;
		c->code[c->last_start + 2].r.b = other->slot;
	}
	return true;
}

/*
 * "mul x y; load [a]; add" (the multiply-add of a dot product or an axpy: the addend is
 * loaded between the two) with both intermediate results on the stack and read only here:
 * one instruction [d|x][y|a][offset].  The product is still rounded before the add.
 */
static bool fuse_muladd_load(struct comp *c, enum wasm_iop add, const struct ventry *a,
			     const struct ventry *b, uint32_t h)
{
	enum wasm_iop mul = add == WASM_IOP_f64_add_ss ? WASM_IOP_f64_mul_ss : WASM_IOP_f32_mul_ss;
	enum wasm_iop ld = add == WASM_IOP_f64_add_ss ? WASM_IOP_ld64 : WASM_IOP_ld32u;
	if (c->oom || c->last_end != c->ncode || c->last_op != ld || c->prev_op != mul ||
	    c->prev_end != c->last_start || a->kind != V_SLOT || b->kind != V_SLOT)
		return false;
	const union wasm_cell *m = &c->code[c->prev_start], *l = &c->code[c->last_start];
	uint32_t prod = m[1].r.a, loaded = l[1].r.a;
	if (prod < c->nlocals || loaded < c->nlocals || prod == loaded ||
	    !((a->slot == prod && b->slot == loaded) || (a->slot == loaded && b->slot == prod)))
		return false;
	uint32_t x = m[1].r.b, y = (uint32_t)m[2].u, addr = l[1].r.b;
	uint64_t offset = l[2].u;
	if (addr == prod)
		return false;
	c->ncode = c->prev_start;
	comp_forget_last(c);
	comp_emit_dax(c,
		      add == WASM_IOP_f64_add_ss ? WASM_IOP_f64_muladd_ld : WASM_IOP_f32_muladd_ld,
		      comp_canon(c, h), x, 0, 4);
	if (!c->oom) {
		c->code[c->last_start + 2].r.a = y;
		c->code[c->last_start + 2].r.b = addr;
		c->code[c->last_start + 3].u = offset;
	}
	return true;
}

static int binary(struct comp *c, enum wasm_iop iop_ss, uint8_t tin, uint8_t tout)
{
	struct ventry a, b;
	if (comp_pop(c, tin, &b) || comp_pop(c, tin, &a))
		return -EINVAL;
	uint32_t h = c->nvals;
	if (comp_push(c, tout))
		return -EINVAL;
	if (!comp_live(c))
		return 0;
	if (b.kind == V_CONST) {
		uint32_t sa = comp_operand(c, &a, h);
		comp_emit_dax(c, iop_ss + 1, comp_canon(c, h), sa, b.val, 3);
		return 0;
	}
	if (fuse_pair(c, iop_ss, &a, &b, h))
		return 0;
	if ((iop_ss == WASM_IOP_f64_add_ss || iop_ss == WASM_IOP_f32_add_ss) &&
	    fuse_muladd_load(c, iop_ss, &a, &b, h))
		return 0;
	uint32_t sb = comp_operand(c, &b, h + 1);
	uint32_t sa = comp_operand(c, &a, h);
	comp_emit_dax(c, iop_ss, comp_canon(c, h), sa, sb, 3);
	return 0;
}

/* Reinterpretations change only the static type: the bits stay in place. */
static int retag(struct comp *c, uint8_t tin, uint8_t tout)
{
	struct ventry a;
	if (comp_pop(c, tin, &a))
		return -EINVAL;
	if (comp_push(c, tout))
		return -EINVAL;
	struct ventry *top = &c->vals[c->nvals - 1];
	top->kind = a.kind;
	top->slot = a.kind == V_SLOT ? top->slot : a.slot;
	top->val = a.val;
	return 0;
}

int comp_op_numeric(struct comp *c, uint8_t op)
{
	const struct numop *n = &numops[op - 0x45];
	switch (n->kind) {
	case K_UN:
		return unary(c, n->iop, n->tin, n->tout);
	case K_BIN:
		return binary(c, n->iop, n->tin, n->tout);
	case K_RETAG:
		return retag(c, n->tin, n->tout);
	default:
		return comp_fail(c, "illegal opcode");
	}
}

/* ---- memory ---- */

struct memop {
	uint16_t iop;
	uint8_t type, align; /* value type, natural alignment (log2) */
};

static const struct memop memops[] = {
    {WASM_IOP_ld32u, I32, 2},	{WASM_IOP_ld64, I64, 3},    {WASM_IOP_ld32u, F32, 2},
    {WASM_IOP_ld64, F64, 3},	{WASM_IOP_ld8s32, I32, 0},  {WASM_IOP_ld8u, I32, 0},
    {WASM_IOP_ld16s32, I32, 1}, {WASM_IOP_ld16u, I32, 1},   {WASM_IOP_ld8s64, I64, 0},
    {WASM_IOP_ld8u, I64, 0},	{WASM_IOP_ld16s64, I64, 1}, {WASM_IOP_ld16u, I64, 1},
    {WASM_IOP_ld32s64, I64, 2}, {WASM_IOP_ld32u, I64, 2},   {WASM_IOP_st32, I32, 2},
    {WASM_IOP_st64, I64, 3},	{WASM_IOP_st32, F32, 2},    {WASM_IOP_st64, F64, 3},
    {WASM_IOP_st8, I32, 0},	{WASM_IOP_st16, I32, 1},    {WASM_IOP_st8, I64, 0},
    {WASM_IOP_st16, I64, 1},	{WASM_IOP_st32, I64, 2},
};

static int need_memory(struct comp *c, uint32_t idx)
{
	if (idx >= c->m->nmems)
		return comp_failf(c, "unknown memory %u", idx);
	return 0;
}

static int read_memarg(struct comp *c, uint8_t natural, uint32_t *offset)
{
	uint32_t align = wasm_read_u32(&c->r);
	*offset = wasm_read_u32(&c->r);
	if (comp_reader_check(c) || need_memory(c, 0))
		return -EINVAL;
	if (align >= 32)
		return comp_fail(c, "malformed memop flags");
	if (align > natural)
		return comp_fail(c, "alignment must not be larger than natural");
	return 0;
}

/* How a load or store gets its address. */
struct addr {
	enum { ADDR_SLOT, ADDR_ADD, ADDR_INDEX, ADDR_SCALED, ADDR_PRE } mode;
	uint32_t base;	       /* slot (ADDR_SCALED: the index slot) */
	uint32_t imm, index;   /* ADDR_ADD: the constant; ADDR_INDEX: index slot and shift;
				  ADDR_PRE: base = index + imm first */
	uint32_t scaled_shift; /* ADDR_SCALED: base << scaled_shift, plus imm */
};

/*
 * "i32.add (i32.shl i k) b" just emitted, both results used only by this access (it is
 * the sole reader of their stack slots): drop them, the access computes the address.
 */
static bool fold_scaled_index(struct comp *c, const struct ventry *a, struct addr *ad,
			      uint32_t busy)
{
	if (c->last_op != WASM_IOP_i32_add_ss || c->prev_op != WASM_IOP_i32_shl_si ||
	    c->prev_end != c->last_start)
		return false;
	const union wasm_cell *add = &c->code[c->last_start], *shl = &c->code[c->prev_start];
	uint32_t scaled = shl[1].r.a, x = add[1].r.b, y = (uint32_t)add[2].u;
	if (scaled < c->nlocals || add[1].r.a != a->slot || (x == scaled) == (y == scaled) ||
	    shl[1].r.b == busy || x == busy || y == busy)
		return false;
	ad->mode = ADDR_INDEX;
	ad->base = x == scaled ? y : x;
	ad->index = shl[1].r.b;
	ad->imm = (uint32_t)shl[2].u & 31;
	c->ncode = c->prev_start;
	comp_forget_last(c);
	return true;
}

/* "i32.add x y" just emitted, read only by this access: the _x form with a shift of 0. */
static bool fold_sum(struct comp *c, const struct ventry *a, struct addr *ad, uint32_t busy)
{
	if (c->last_op != WASM_IOP_i32_add_ss)
		return false;
	const union wasm_cell *add = &c->code[c->last_start];
	uint32_t sum = add[1].r.a, x = add[1].r.b, y = (uint32_t)add[2].u;
	if (sum != a->slot || sum < c->nlocals || x == busy || y == busy)
		return false;
	ad->mode = ADDR_INDEX;
	ad->base = x;
	ad->index = y;
	ad->imm = 0;
	c->ncode = c->last_start;
	comp_forget_last(c);
	return true;
}

/* "i32.add (i32.shl i k) imm": a static array indexed by i. */
static bool fold_scaled_imm(struct comp *c, struct addr *ad, uint32_t busy)
{
	if (c->prev_op != WASM_IOP_i32_shl_si || c->prev_end != c->last_start)
		return false;
	const union wasm_cell *add = &c->code[c->last_start], *shl = &c->code[c->prev_start];
	uint32_t scaled = shl[1].r.a;
	if (scaled < c->nlocals || add[1].r.b != scaled || shl[1].r.b == busy)
		return false;
	ad->mode = ADDR_SCALED;
	ad->base = shl[1].r.b;
	ad->scaled_shift = (uint32_t)shl[2].u & 31;
	ad->imm = (uint32_t)add[2].u;
	c->ncode = c->prev_start;
	comp_forget_last(c);
	return true;
}

/* Drop the later add of an i32_add_si2 at 'at' (the last instruction): the earlier stays. */
static void split_add_pair(struct comp *c, size_t at)
{
	union wasm_cell *k = &c->code[at];
	k[0].h = c->labels[WASM_IOP_i32_add_si];
	k[1] = k[3];
	k[2] = k[4];
	c->ncode = at + 3;
}

/*
 * An address computed by the instruction just emitted as "i32.add x, imm" and used only
 * here: drop that instruction, the access adds imm itself (with the same 32-bit wrap).
 * 'busy' is a slot the access writes before it reads the address (a stored constant).
 */
static bool fold_address(struct comp *c, const struct ventry *a, struct addr *ad, uint32_t busy)
{
	if (a->kind != V_SLOT || c->last_end != c->ncode || c->oom)
		return false;
	if (fold_scaled_index(c, a, ad, busy) || fold_sum(c, a, ad, busy))
		return true;
	bool pair = c->last_op == WASM_IOP_i32_add_si2;
	if ((c->last_op != WASM_IOP_i32_add_si && !pair) ||
	    c->code[c->last_start + 1].r.a != a->slot || c->code[c->last_start + 1].r.b == busy)
		return false;
	if (!pair && fold_scaled_imm(c, ad, busy))
		return true;
	ad->mode = ADDR_ADD;
	ad->base = c->code[c->last_start + 1].r.b;
	ad->imm = (uint32_t)c->code[c->last_start + 2].u;
	if (pair)
		split_add_pair(c, c->last_start);
	else
		c->ncode = c->last_start;
	comp_forget_last(c);
	return true;
}

/*
 * "local.set/tee x (i32.add y imm)" just emitted and the access goes through local x: the
 * access performs that add itself first (x is still written: it is a local).
 */
static bool fold_pre_add(struct comp *c, const struct ventry *a, struct addr *ad)
{
	if (c->oom || a->kind != V_LOCAL || c->pre_end != c->ncode ||
	    (c->pre_op != WASM_IOP_i32_add_si && c->pre_op != WASM_IOP_i32_add_si2) ||
	    c->code[c->pre_start + 1].r.a != a->slot)
		return false;
	union wasm_cell *k = &c->code[c->pre_start];
	ad->mode = ADDR_PRE;
	ad->base = a->slot;
	ad->index = k[1].r.b;
	ad->imm = (uint32_t)k[2].u;
	comp_forget_last(c);
	if (c->pre_op == WASM_IOP_i32_add_si)
		c->ncode = c->pre_start;
	else
		split_add_pair(c, c->pre_start);
	return true;
}

/* Emit a load [d|base]... or store [base|v]... in the form the address calls for. */
static void emit_access(struct comp *c, enum wasm_iop iop, uint32_t first, uint32_t second,
			const struct addr *ad, uint32_t offset, bool load)
{
	size_t n = ad->mode >= ADDR_INDEX ? 4 : 3;
	enum wasm_iop op = iop + ad->mode;
	size_t at;
	if (load) {
		comp_emit_dax(c, op, first, second, 0, n);
		at = c->last_start;
	} else {
		at = comp_emit(c, op, n);
		comp_forget_last(c);
	}
	if (c->oom)
		return;
	union wasm_cell *k = &c->code[at];
	k[1].r.a = first;
	k[1].r.b = second;
	if (ad->mode == ADDR_SLOT) {
		k[2].u = offset;
	} else if (ad->mode == ADDR_ADD) {
		k[2].r.a = ad->imm;
		k[2].r.b = offset;
	} else if (ad->mode == ADDR_PRE) {
		k[2].r.a = ad->index;
		k[2].r.b = ad->imm;
		k[3].u = offset;
	} else if (ad->mode == ADDR_INDEX) {
		k[2].r.a = ad->index;
		k[2].r.b = ad->imm;
		k[3].u = offset;
	} else {
		k[2].r.a = ad->imm;
		k[2].r.b = ad->scaled_shift;
		k[3].u = offset;
	}
}

static int load(struct comp *c, const struct memop *mo)
{
	uint32_t offset;
	struct ventry a;
	if (read_memarg(c, mo->align, &offset) || comp_pop(c, I32, &a))
		return -EINVAL;
	uint32_t h = c->nvals;
	if (comp_push(c, mo->type))
		return -EINVAL;
	if (!comp_live(c))
		return 0;
	struct addr ad = {.mode = ADDR_SLOT};
	if (!fold_address(c, &a, &ad, UINT32_MAX) && !fold_pre_add(c, &a, &ad))
		ad.base = comp_operand(c, &a, h);
	emit_access(c, mo->iop, comp_canon(c, h), ad.base, &ad, offset, true);
	return 0;
}

static int store(struct comp *c, const struct memop *mo)
{
	uint32_t offset;
	struct ventry a, v;
	if (read_memarg(c, mo->align, &offset) || comp_pop(c, mo->type, &v) || comp_pop(c, I32, &a))
		return -EINVAL;
	if (!comp_live(c))
		return 0;
	uint32_t h = c->nvals;
	struct addr ad = {.mode = ADDR_SLOT};
	uint32_t busy = v.kind == V_CONST ? comp_canon(c, h + 1) : UINT32_MAX;
	/* (a stored constant is put in its slot first: the add is not adjacent then) */
	bool folded =
	    fold_address(c, &a, &ad, busy) || (v.kind != V_CONST && fold_pre_add(c, &a, &ad));
	uint32_t sv = comp_operand(c, &v, h + 1);
	if (!folded)
		ad.base = comp_operand(c, &a, h);
	emit_access(c, mo->iop, ad.base, sv, &ad, offset, false);
	return 0;
}

static int zero_byte(struct comp *c)
{
	uint8_t b = wasm_read_u8(&c->r);
	if (comp_reader_check(c))
		return -EINVAL;
	if (b != 0)
		return comp_fail(c, "zero byte expected");
	return 0;
}

static int memory_size_grow(struct comp *c, uint8_t op)
{
	if (zero_byte(c) || need_memory(c, 0))
		return -EINVAL;
	if (op == 0x3f) {
		if (comp_push(c, I32))
			return -EINVAL;
		if (comp_live(c))
			comp_emit_dax(c, WASM_IOP_memory_size, comp_canon(c, c->nvals - 1), 0, 0,
				      2);
		return 0;
	}
	return unary(c, WASM_IOP_memory_grow, I32, I32);
}

int comp_op_memory(struct comp *c, uint8_t op)
{
	if (op >= 0x3f)
		return memory_size_grow(c, op);
	const struct memop *mo = &memops[op - 0x28];
	return op <= 0x35 ? load(c, mo) : store(c, mo);
}

/* ---- three-operand bulk instructions: [op][x|y][z|imm1][imm2] ---- */

static int bulk3(struct comp *c, enum wasm_iop iop, uint8_t t0, uint8_t t1, uint8_t t2,
		 uint32_t imm1, uint32_t imm2)
{
	struct ventry e0, e1, e2;
	if (comp_pop(c, t2, &e2) || comp_pop(c, t1, &e1) || comp_pop(c, t0, &e0))
		return -EINVAL;
	if (!comp_live(c))
		return 0;
	uint32_t h = c->nvals;
	uint32_t s2 = comp_operand(c, &e2, h + 2);
	uint32_t s1 = comp_operand(c, &e1, h + 1);
	uint32_t s0 = comp_operand(c, &e0, h);
	size_t at = comp_emit(c, iop, 4);
	if (!c->oom) {
		c->code[at + 1].r.a = s0;
		c->code[at + 1].r.b = s1;
		c->code[at + 2].r.a = s2;
		c->code[at + 2].r.b = imm1;
		c->code[at + 3].u = imm2;
	}
	comp_forget_last(c);
	return 0;
}

static int need_datacount(struct comp *c, uint32_t seg)
{
	/* without the count, a module with no data at all has no segment to name */
	if (!c->m->has_datacount && seg >= c->m->ndatas)
		return comp_failf(c, "unknown data segment %u", seg);
	if (!c->m->has_datacount)
		return comp_fail(c, "data count section required");
	if (seg >= c->m->datacount)
		return comp_failf(c, "unknown data segment %u", seg);
	return 0;
}

static int need_table(struct comp *c, uint32_t t)
{
	if (t >= c->m->ntables)
		return comp_failf(c, "unknown table %u", t);
	return 0;
}

static int need_elem(struct comp *c, uint32_t e)
{
	if (e >= c->m->nelems)
		return comp_failf(c, "unknown elem segment %u", e);
	return 0;
}

static int op_memory_init(struct comp *c)
{
	uint32_t seg = wasm_read_u32(&c->r);
	if (comp_reader_check(c) || zero_byte(c) || need_memory(c, 0) || need_datacount(c, seg))
		return -EINVAL;
	return bulk3(c, WASM_IOP_memory_init, I32, I32, I32, seg, 0);
}

static int op_data_drop(struct comp *c)
{
	uint32_t seg = wasm_read_u32(&c->r);
	if (comp_reader_check(c) || need_datacount(c, seg))
		return -EINVAL;
	if (comp_live(c)) {
		size_t at = comp_emit(c, WASM_IOP_data_drop, 2);
		if (!c->oom)
			c->code[at + 1].u = seg;
	}
	return 0;
}

static int op_memory_copy_fill(struct comp *c, uint32_t sub)
{
	if (zero_byte(c) || (sub == 10 && zero_byte(c)) || need_memory(c, 0))
		return -EINVAL;
	return bulk3(c, sub == 10 ? WASM_IOP_memory_copy : WASM_IOP_memory_fill, I32, I32, I32, 0,
		     0);
}

static int op_table_init(struct comp *c)
{
	uint32_t seg = wasm_read_u32(&c->r);
	uint32_t t = wasm_read_u32(&c->r);
	if (comp_reader_check(c) || need_table(c, t) || need_elem(c, seg))
		return -EINVAL;
	if (c->m->tables[t].elem != c->m->elems[seg].type)
		return comp_fail(c, "type mismatch: table.init element type");
	return bulk3(c, WASM_IOP_table_init, I32, I32, I32, t, seg);
}

static int op_elem_drop(struct comp *c)
{
	uint32_t seg = wasm_read_u32(&c->r);
	if (comp_reader_check(c) || need_elem(c, seg))
		return -EINVAL;
	if (comp_live(c)) {
		size_t at = comp_emit(c, WASM_IOP_elem_drop, 2);
		if (!c->oom)
			c->code[at + 1].u = seg;
	}
	return 0;
}

static int op_table_copy(struct comp *c)
{
	uint32_t dst = wasm_read_u32(&c->r);
	uint32_t src = wasm_read_u32(&c->r);
	if (comp_reader_check(c) || need_table(c, dst) || need_table(c, src))
		return -EINVAL;
	if (c->m->tables[dst].elem != c->m->tables[src].elem)
		return comp_fail(c, "type mismatch: table.copy element types differ");
	return bulk3(c, WASM_IOP_table_copy, I32, I32, I32, dst, src);
}

static int op_table_grow(struct comp *c)
{
	uint32_t t = wasm_read_u32(&c->r);
	struct ventry init, n;
	if (comp_reader_check(c) || need_table(c, t))
		return -EINVAL;
	if (comp_pop(c, I32, &n) || comp_pop(c, c->m->tables[t].elem, &init))
		return -EINVAL;
	uint32_t h = c->nvals;
	if (comp_push(c, I32))
		return -EINVAL;
	if (!comp_live(c))
		return 0;
	uint32_t sn = comp_operand(c, &n, h + 1);
	uint32_t si = comp_operand(c, &init, h);
	comp_emit_dax(c, WASM_IOP_table_grow, comp_canon(c, h), si, 0, 3);
	if (!c->oom) {
		c->code[c->last_start + 2].r.a = sn;
		c->code[c->last_start + 2].r.b = t;
	}
	return 0;
}

static int op_table_size(struct comp *c)
{
	uint32_t t = wasm_read_u32(&c->r);
	if (comp_reader_check(c) || need_table(c, t) || comp_push(c, I32))
		return -EINVAL;
	if (comp_live(c))
		comp_emit_dax(c, WASM_IOP_table_size, comp_canon(c, c->nvals - 1), t, 0, 2);
	return 0;
}

static int op_table_fill(struct comp *c)
{
	uint32_t t = wasm_read_u32(&c->r);
	if (comp_reader_check(c) || need_table(c, t))
		return -EINVAL;
	return bulk3(c, WASM_IOP_table_fill, I32, c->m->tables[t].elem, I32, t, 0);
}

int comp_op_fc(struct comp *c)
{
	uint32_t sub = wasm_read_u32(&c->r);
	if (comp_reader_check(c))
		return -EINVAL;
	if (sub <= 7) {
		static const uint8_t from[] = {F32, F32, F64, F64, F32, F32, F64, F64};
		return unary(c, WASM_IOP_i32_trunc_sat_f32_s + sub, from[sub], sub < 4 ? I32 : I64);
	}
	switch (sub) {
	case 8:
		return op_memory_init(c);
	case 9:
		return op_data_drop(c);
	case 10:
	case 11:
		return op_memory_copy_fill(c, sub);
	case 12:
		return op_table_init(c);
	case 13:
		return op_elem_drop(c);
	case 14:
		return op_table_copy(c);
	case 15:
		return op_table_grow(c);
	case 16:
		return op_table_size(c);
	case 17:
		return op_table_fill(c);
	default:
		return comp_fail(c, "illegal opcode");
	}
}

/* ---- tables and references ---- */

int comp_op_table(struct comp *c, uint8_t op)
{
	uint32_t t = wasm_read_u32(&c->r);
	if (comp_reader_check(c) || need_table(c, t))
		return -EINVAL;
	uint8_t et = c->m->tables[t].elem;
	struct ventry i, v;
	if (op == 0x25) {
		if (comp_pop(c, I32, &i))
			return -EINVAL;
		uint32_t h = c->nvals;
		if (comp_push(c, et))
			return -EINVAL;
		if (comp_live(c))
			comp_emit_dax(c, WASM_IOP_table_get, comp_canon(c, h),
				      comp_operand(c, &i, h), t, 3);
		return 0;
	}
	if (comp_pop(c, et, &v) || comp_pop(c, I32, &i))
		return -EINVAL;
	if (comp_live(c)) {
		uint32_t h = c->nvals;
		uint32_t sv = comp_operand(c, &v, h + 1);
		uint32_t si = comp_operand(c, &i, h);
		size_t at = comp_emit(c, WASM_IOP_table_set, 3);
		if (!c->oom) {
			c->code[at + 1].r.a = si;
			c->code[at + 1].r.b = sv;
			c->code[at + 2].u = t;
		}
		comp_forget_last(c);
	}
	return 0;
}

static int op_ref_null(struct comp *c)
{
	uint8_t t = wasm_read_u8(&c->r);
	if (comp_reader_check(c))
		return -EINVAL;
	if (t != WASM_FUNCREF && t != WASM_EXTERNREF)
		return comp_fail(c, "malformed reference type");
	if (comp_push(c, t))
		return -EINVAL;
	struct ventry *top = &c->vals[c->nvals - 1];
	top->kind = V_CONST;
	top->val = 0;
	return 0;
}

static int op_ref_is_null(struct comp *c)
{
	struct ventry a;
	if (comp_pop(c, WASM_T_UNKNOWN, &a))
		return -EINVAL;
	if (a.type != WASM_T_UNKNOWN && !wasm_is_ref(a.type))
		return comp_fail(c, "type mismatch: ref.is_null of a number");
	uint32_t h = c->nvals;
	if (comp_push(c, I32))
		return -EINVAL;
	if (comp_live(c))
		comp_emit_dax(c, WASM_IOP_ref_is_null, comp_canon(c, h), comp_operand(c, &a, h), 0,
			      2);
	return 0;
}

static int op_ref_func(struct comp *c)
{
	uint32_t x = wasm_read_u32(&c->r);
	if (comp_reader_check(c))
		return -EINVAL;
	if (x >= c->m->nfuncs)
		return comp_failf(c, "unknown function %u", x);
	if (!c->m->func_declared[x])
		return comp_fail(c, "undeclared function reference");
	if (comp_push(c, WASM_FUNCREF))
		return -EINVAL;
	if (comp_live(c))
		comp_emit_dax(c, WASM_IOP_ref_func, comp_canon(c, c->nvals - 1), x, 0, 2);
	return 0;
}

int comp_op_ref(struct comp *c, uint8_t op)
{
	if (op == 0xd0)
		return op_ref_null(c);
	if (op == 0xd1)
		return op_ref_is_null(c);
	return op_ref_func(c);
}
