/* SPDX-License-Identifier: MIT */
/*
 * The baseline JIT for x86-64: each function's internal code (ops.h), already
 * validated and fused by compile.c, becomes machine code at module load.
 *
 * Every internal instruction turns into a short fixed sequence.  Operand slots
 * stay in the frame (rbx points at slot 0), except the nine slots the function
 * uses most (loop nesting weighs uses) which live in host registers for the
 * whole function: every slot has one home, so branches need no merging of
 * register states.  Calls and the instructions left to the interpreter store
 * the cached slots to the frame before and load them after.  Memory 0's base
 * and size stay in r14 and r15, reloaded after anything that may grow or
 * replace it; every access compares its end with the size (explicit checks).
 * Loop heads charge fuel as the interpreter's loop instruction does, and
 * backward branches jump to the loop head, so fuel and time limits stop loops.
 * Traps call wasm_jit_rt_trap, which unwinds to the entry from C.
 *
 * Whatever is rare or hard (float rounding, trapping truncations, min/max,
 * tables, bulk memory, memory.grow) runs as a one-instruction body through the
 * interpreter itself, so the semantics stay those of interp.c.
 *
 * The code of a module is written into a private buffer, then copied into a
 * fresh mapping that is made read+execute only once it is complete (W^X).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/jit.h"

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <pthread.h>
#include <sys/mman.h>

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
enum {
	CC_B = 2,
	CC_AE,
	CC_E,
	CC_NE,
	CC_BE,
	CC_A,
	CC_S,
	CC_NS,
	CC_P,
	CC_NP,
	CC_L,
	CC_GE,
	CC_LE,
	CC_G
};

#define FP     RBX /* the frame: slot i at [rbx + 8 * i] */
#define MEMB   R14 /* memory 0's bytes */
#define MEMS   R15 /* memory 0's size in bytes */
#define FUEL   RBP /* the fuel budget, kept in store->jit_budget while C runs */
#define NCACHE 8
/* callee-saved first: they survive calls into C without being stored */
static const uint8_t cache_regs[NCACHE] = {R12, R13, RSI, RDI, R8, R9, R10, R11};
#define NCALLEE_SAVED 2
#define NCHECKED      4
#define MAX_SLOT      (1u << 27)
#define NTRAPS	      16

enum fix_kind { FIX_CELL, FIX_TRAP, FIX_TABLE };
struct fixup {
	uint32_t at;	 /* the 32-bit field to patch */
	uint32_t target; /* a cell, or a trap */
	uint32_t base;	 /* FIX_TABLE: the table's start */
	uint8_t kind;
};

struct slotref {
	uint32_t insn, slot;
};

struct jit {
	struct wasm_module *m;
	struct wasm_jit_module *jm;
	const struct wasm_code *code;
	const union wasm_cell *cells;
	size_t ncells;
	uint32_t nresults;
	bool has_mem;

	uint8_t *buf;
	size_t n, cap;
	bool fail;

	uint32_t *at;	/* [ncells]: native offset of each instruction, UINT32_MAX elsewhere */
	uint16_t *ops;	/* [ncells]: op + 1 at instruction starts */
	int8_t *reg_of; /* [nslots]: host register of a cached slot, -1 */
	uint32_t nslots;
	uint32_t cslot[NCACHE];
	int ncached;

	struct fixup *fx;
	size_t nfx, cap_fx;
	uint32_t trap_at[NTRAPS];

	/*
	 * Accesses known to be in bounds: slot + [0, end) was checked since the last branch
	 * target and the slot has not been written since (memory never shrinks).
	 */
	struct {
		uint32_t slot;
		uint64_t end;
	} checked[NCHECKED];
	int nchecked;
	uint8_t *is_target; /* [ncells]: some branch lands here */

	/* direct calls between the module's functions, patched once all are compiled */
	struct {
		uint32_t at, callee; /* callee: index among defined functions */
	} * calls;
	size_t ncalls, cap_calls;

	/* pass 1: slot uses and loops, for choosing the cached slots */
	bool counting;
	uint32_t insn;
	struct slotref *refs;
	size_t nrefs, cap_refs;
	uint32_t *back_from, *back_to;
	size_t nback, cap_back;
};

static const void *const *label_table;
static struct {
	const void *key;
	uint16_t op;
} op_map[1024];
static bool have_lzcnt, have_tzcnt, have_popcnt, have_sse41;
static pthread_once_t jit_once = PTHREAD_ONCE_INIT;

static void jit_init(void)
{
	label_table = wasm_interp_labels();
	for (unsigned i = 0; i < WASM_IOP_COUNT; i++) {
		unsigned k = (unsigned)(((uintptr_t)label_table[i] >> 2) * 2654435761u) & 1023;
		while (op_map[k].key)
			k = (k + 1) & 1023;
		op_map[k].key = label_table[i];
		op_map[k].op = (uint16_t)i;
	}
	unsigned a, b, c, d;
	if (__get_cpuid(1, &a, &b, &c, &d))
		have_popcnt = c & (1u << 23);
	if (__get_cpuid(1, &a, &b, &c, &d))
		have_sse41 = c & (1u << 19);
	if (__get_cpuid(0x80000001, &a, &b, &c, &d))
		have_lzcnt = c & (1u << 5);
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
		have_tzcnt = b & (1u << 3);
}

static int op_of(const void *h)
{
	unsigned k = (unsigned)(((uintptr_t)h >> 2) * 2654435761u) & 1023;
	while (op_map[k].key) {
		if (op_map[k].key == h)
			return op_map[k].op;
		k = (k + 1) & 1023;
	}
	return -1;
}

bool wasm_jit_supported(void)
{
	return true;
}

/* ---- the encoder ---- */

static void b1(struct jit *j, uint8_t x)
{
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 4096;
		uint8_t *p = realloc(j->buf, cap);
		if (!p) {
			j->fail = true;
			j->n = 0;
			return;
		}
		j->buf = p;
		j->cap = cap;
	}
	j->buf[j->n++] = x;
}

static void b4(struct jit *j, uint32_t x)
{
	for (int i = 0; i < 4; i++)
		b1(j, (uint8_t)(x >> (8 * i)));
}

static void b8(struct jit *j, uint64_t x)
{
	b4(j, (uint32_t)x);
	b4(j, (uint32_t)(x >> 32));
}

/* An operand: a register or [base + index * 2^scale + disp]. */
struct rm {
	bool mem;
	uint8_t reg, base, scale;
	int8_t index;
	int32_t disp;
};

static struct rm R(int r) {
	return (struct rm){.reg = (uint8_t)r, .index = -1};
}

static struct rm
M(int base, int32_t disp) {
	return (struct rm){.mem = true, .base = (uint8_t)base, .index = -1, .disp = disp};
}

static struct rm
MX(int base, int index, int scale, int32_t disp) {
	return (struct rm){.mem = true,
			   .base = (uint8_t)base,
			   .index = (int8_t)index,
			   .scale = (uint8_t)scale,
			   .disp = disp};
}

/* [prefix] [REX] opcode (1 to 3 bytes, first in the highest) ModRM [SIB] [disp] */
static void
ins(struct jit *j, uint8_t pfx, bool w, uint32_t opc, int reg, struct rm o, bool byte_reg)
{
	if (pfx)
		b1(j, pfx);
	int b = o.mem ? o.base : o.reg;
	uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | (reg & 8 ? 4 : 0) |
				(o.mem && o.index >= 0 && (o.index & 8) ? 2 : 0) | (b & 8 ? 1 : 0));
	if (rex != 0x40 || (byte_reg && reg >= 4 && reg < 8))
		b1(j, rex);
	if (opc > 0xffff)
		b1(j, (uint8_t)(opc >> 16));
	if (opc > 0xff)
		b1(j, (uint8_t)(opc >> 8));
	b1(j, (uint8_t)opc);
	if (!o.mem) {
		b1(j, (uint8_t)(0xc0 | (reg & 7) << 3 | (o.reg & 7)));
		return;
	}
	int mod = o.disp == 0 && (b & 7) != 5 ? 0 : (o.disp >= -128 && o.disp <= 127) ? 1 : 2;
	if (o.index < 0 && (b & 7) != 4) {
		b1(j, (uint8_t)(mod << 6 | (reg & 7) << 3 | (b & 7)));
	} else {
		b1(j, (uint8_t)(mod << 6 | (reg & 7) << 3 | 4));
		b1(j, (uint8_t)(o.scale << 6 | (o.index < 0 ? 4 : (o.index & 7)) << 3 | (b & 7)));
	}
	if (mod == 1)
		b1(j, (uint8_t)o.disp);
	else if (mod == 2)
		b4(j, (uint32_t)o.disp);
}

static bool fits_i32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* op r/m, imm (0x81/0x83 group: digit 0 add, 1 or, 4 and, 5 sub, 6 xor, 7 cmp) */
static void alu_imm(struct jit *j, bool w, int digit, struct rm o, int32_t imm)
{
	if (imm >= -128 && imm <= 127) {
		ins(j, 0, w, 0x83, digit, o, false);
		b1(j, (uint8_t)imm);
	} else {
		ins(j, 0, w, 0x81, digit, o, false);
		b4(j, (uint32_t)imm);
	}
}

static void mov_imm(struct jit *j, int r, uint64_t v)
{
	if (v <= UINT32_MAX) {
		if (r & 8)
			b1(j, 0x41);
		b1(j, (uint8_t)(0xb8 + (r & 7)));
		b4(j, (uint32_t)v);
	} else if (fits_i32((int64_t)v)) {
		ins(j, 0, true, 0xc7, 0, R(r), false);
		b4(j, (uint32_t)v);
	} else {
		b1(j, (uint8_t)(0x48 | (r & 8 ? 1 : 0)));
		b1(j, (uint8_t)(0xb8 + (r & 7)));
		b8(j, v);
	}
}

static void push_reg(struct jit *j, int r)
{
	if (r & 8)
		b1(j, 0x41);
	b1(j, (uint8_t)(0x50 + (r & 7)));
}

static void pop_reg(struct jit *j, int r)
{
	if (r & 8)
		b1(j, 0x41);
	b1(j, (uint8_t)(0x58 + (r & 7)));
}

static void call_abs(struct jit *j, const void *fn)
{
	mov_imm(j, RAX, (uint64_t)(uintptr_t)fn);
	ins(j, 0, false, 0xff, 2, R(RAX), false);
}

static void add_fixup(struct jit *j, enum fix_kind kind, uint32_t target, uint32_t base)
{
	if (j->nfx == j->cap_fx) {
		size_t cap = j->cap_fx ? j->cap_fx * 2 : 64;
		struct fixup *p = realloc(j->fx, cap * sizeof(*p));
		if (!p) {
			j->fail = true;
			return;
		}
		j->fx = p;
		j->cap_fx = cap;
	}
	j->fx[j->nfx++] = (struct fixup){
	    .at = (uint32_t)j->n, .target = target, .base = base, .kind = (uint8_t)kind};
}

/* A jump (cc < 0) or conditional jump with a 32-bit displacement to a cell or trap. */
static void jump_to(struct jit *j, int cc, enum fix_kind kind, uint32_t target)
{
	if (cc < 0) {
		b1(j, 0xe9);
	} else {
		b1(j, 0x0f);
		b1(j, (uint8_t)(0x80 + cc));
	}
	add_fixup(j, kind, target, 0);
	b4(j, 0);
}

static void trap_if(struct jit *j, int cc, enum wasm_trap t)
{
	jump_to(j, cc, FIX_TRAP, t);
}

/* short forward jumps inside one instruction's sequence */
static size_t jcc8(struct jit *j, int cc)
{
	b1(j, (uint8_t)(cc < 0 ? 0xeb : 0x70 + cc));
	b1(j, 0);
	return j->n;
}

static void patch8(struct jit *j, size_t from)
{
	if (!j->fail)
		j->buf[from - 1] = (uint8_t)(j->n - from);
}

/* ---- slots ---- */

static struct rm S(struct jit *j, uint32_t slot) {
	if (slot >= MAX_SLOT) {
		j->fail = true;
		slot = 0;
	}
	if (j->counting) {
		if (j->nrefs == j->cap_refs) {
			size_t cap = j->cap_refs ? j->cap_refs * 2 : 256;
			struct slotref *p = realloc(j->refs, cap * sizeof(*p));
			if (!p) {
				j->fail = true;
				return M(FP, 0);
			}
			j->refs = p;
			j->cap_refs = cap;
		}
		j->refs[j->nrefs++] = (struct slotref){j->insn, slot};
	}
	if (slot < j->nslots && j->reg_of[slot] >= 0)
		return R(j->reg_of[slot]);
	return M(FP, (int32_t)(slot * 8));
}

static int
reg_of(struct jit *j, uint32_t slot)
{
	return slot < j->nslots ? j->reg_of[slot] : -1;
}

/* r = slot; a 32-bit load clears the upper half even from the same register (i32.wrap) */
static void ld(struct jit *j, bool w, int r, uint32_t slot)
{
	struct rm o = S(j, slot);
	if (w && !o.mem && o.reg == r)
		return;
	ins(j, 0, w, 0x8b, r, o, false);
}

static void wrote(struct jit *j, uint32_t slot)
{
	for (int i = 0; i < j->nchecked; i++)
		if (j->checked[i].slot == slot)
			j->checked[i] = j->checked[--j->nchecked];
}

static void st(struct jit *j, uint32_t slot, int r)
{
	wrote(j, slot);
	struct rm o = S(j, slot);
	if (!o.mem && o.reg == r)
		return;
	ins(j, 0, true, 0x89, r, o, false);
}

/* The register to compute d in: its own when cached and not also an input in 'busy'. */
static int work_reg(struct jit *j, uint32_t d, int busy)
{
	int r = reg_of(j, d);
	return r >= 0 && r != busy ? r : RAX;
}

static void spill(struct jit *j, int from)
{
	for (int i = from; i < j->ncached; i++)
		ins(j, 0, true, 0x89, j->reg_of[j->cslot[i]], M(FP, (int32_t)(j->cslot[i] * 8)),
		    false);
}

static void reload(struct jit *j, int from)
{
	for (int i = from; i < j->ncached; i++)
		ins(j, 0, true, 0x8b, j->reg_of[j->cslot[i]], M(FP, (int32_t)(j->cslot[i] * 8)),
		    false);
}

/* the caller-saved cached registers are the last ones of cslot */
static int first_caller_saved(struct jit *j)
{
	return j->ncached < NCALLEE_SAVED ? j->ncached : NCALLEE_SAVED;
}

static void fuel_save(struct jit *j)
{
	mov_imm(j, RAX, (uint64_t)(uintptr_t)&j->m->store->jit_budget);
	ins(j, 0, true, 0x89, FUEL, M(RAX, 0), false);
}

static void fuel_load(struct jit *j)
{
	mov_imm(j, RAX, (uint64_t)(uintptr_t)&j->m->store->jit_budget);
	ins(j, 0, true, 0x8b, FUEL, M(RAX, 0), false);
}

static void reload_mem(struct jit *j)
{
	if (!j->has_mem)
		return;
	ins(j, 0, true, 0x8b, RAX, M(RSP, 0), false);
	ins(j, 0, true, 0x8b, RAX, M(RAX, (int32_t)offsetof(struct wasm_instance, mem0)), false);
	ins(j, 0, true, 0x8b, MEMB, M(RAX, (int32_t)offsetof(struct wasm_memory, data)), false);
	ins(j, 0, true, 0x8b, MEMS, M(RAX, (int32_t)offsetof(struct wasm_memory, size)), false);
}

/* ---- control ---- */

static void note_back(struct jit *j, uint32_t from, uint32_t to)
{
	if (!j->counting)
		return;
	if (j->nback == j->cap_back) {
		size_t cap = j->cap_back ? j->cap_back * 2 : 32;
		uint32_t *f = realloc(j->back_from, cap * sizeof(*f));
		if (f)
			j->back_from = f;
		uint32_t *t = f ? realloc(j->back_to, cap * sizeof(*t)) : NULL;
		if (!t) {
			j->fail = true;
			return;
		}
		j->back_to = t;
		j->cap_back = cap;
	}
	j->back_from[j->nback] = from;
	j->back_to[j->nback++] = to;
}

/*
 * The native target of the branch whose offset is in cell k.  A backward branch enters a
 * loop again: it goes to the loop instruction itself, which charges the loop's fuel as the
 * interpreter's back-edge does.
 */
static uint32_t branch_target(struct jit *j, size_t k)
{
	int64_t t = (int64_t)k + j->cells[k].s;
	if (t < 0 || (size_t)t >= j->ncells || !j->ops[t]) {
		j->fail = true;
		return 0;
	}
	if ((size_t)t <= k) {
		if (t < 2 || j->ops[t - 2] != WASM_IOP_loop + 1) {
			j->fail = true;
			return 0;
		}
		t -= 2;
		note_back(j, j->insn, (uint32_t)t);
	}
	j->is_target[t] = 1;
	return (uint32_t)t;
}

static void branch(struct jit *j, int cc, size_t k)
{
	jump_to(j, cc, FIX_CELL, branch_target(j, k));
}

static void emit_fuel(struct jit *j, int64_t cost)
{
	if (!fits_i32(cost)) {
		j->fail = true;
		return;
	}
	alu_imm(j, true, 5, R(FUEL), (int32_t)cost);
	b1(j, 0x0f);
	b1(j, 0x80 + CC_NS);
	b4(j, 0);
	size_t skip = j->n;
	spill(j, first_caller_saved(j));
	fuel_save(j);
	mov_imm(j, RDI, (uint64_t)(uintptr_t)j->m->store);
	call_abs(j, (const void *)wasm_jit_rt_fuel);
	fuel_load(j);
	reload(j, first_caller_saved(j));
	if (!j->fail) {
		uint32_t rel = (uint32_t)(j->n - skip);
		memcpy(&j->buf[skip - 4], &rel, 4);
	}
}

/* eax = index (clamped to count), then an indirect jump through a table of targets */
static void emit_br_table(struct jit *j, uint32_t count, size_t first)
{
	if (count > INT32_MAX) {
		j->fail = true;
		return;
	}
	alu_imm(j, false, 7, R(RAX), (int32_t)count);
	size_t ok = jcc8(j, CC_BE);
	mov_imm(j, RAX, count);
	patch8(j, ok);
	/* lea rdx, [rip + table] */
	b1(j, 0x48);
	b1(j, 0x8d);
	b1(j, 0x15);
	b4(j, 0);
	size_t lea_end = j->n;
	ins(j, 0, true, 0x63, RAX, MX(RDX, RAX, 2, 0), false);
	ins(j, 0, true, 0x03, RAX, R(RDX), false);
	ins(j, 0, false, 0xff, 4, R(RAX), false);
	uint32_t base = (uint32_t)j->n;
	if (!j->fail)
		j->buf[lea_end - 4] = (uint8_t)(base - lea_end);
	for (uint32_t i = 0; i <= count; i++) {
		add_fixup(j, FIX_TABLE, branch_target(j, first + i), base);
		b4(j, 0);
	}
}

/*
 * A call of a function defined in this module: the checks of wasm_jit_rt_call inline (fuel,
 * then depth, host stack and value stack), then a direct call of its code, or of a thunk
 * into the interpreter when it was not compiled.
 */
static bool emit_direct_call(struct jit *j, const union wasm_cell *pc)
{
	struct wasm_store *s = j->m->store;
	uint32_t fidx = pc[1].r.a, b = pc[1].r.b;
	if (fidx < j->m->nfunc_imports || fidx >= j->m->nfuncs)
		return false;
	uint32_t callee = fidx - j->m->nfunc_imports;
	uint64_t top = (uint64_t)b + j->m->codes[callee].nslots;
	if (top * 8 > INT32_MAX)
		return false;
	spill(j, 0);
	j->nchecked = 0;
	alu_imm(j, true, 5, R(FUEL), 1);
	size_t ok = jcc8(j, CC_NS);
	fuel_save(j);
	mov_imm(j, RDI, (uint64_t)(uintptr_t)s);
	call_abs(j, (const void *)wasm_jit_rt_fuel);
	fuel_load(j);
	patch8(j, ok);
	mov_imm(j, RAX, (uint64_t)(uintptr_t)&s->depth);
	ins(j, 0, false, 0x81, 7, M(RAX, 0), false);
	b4(j, WASM_MAX_CALL_DEPTH);
	trap_if(j, CC_AE, WASM_TRAP_STACK_EXHAUSTED);
	alu_imm(j, false, 0, M(RAX, 0), 1);
	mov_imm(j, RAX, (uint64_t)(uintptr_t)&s->jit_stack_limit);
	ins(j, 0, true, 0x3b, RSP, M(RAX, 0), false);
	trap_if(j, CC_B, WASM_TRAP_STACK_EXHAUSTED);
	mov_imm(j, RAX, (uint64_t)(uintptr_t)&s->stack);
	ins(j, 0, true, 0x8b, RAX, M(RAX, 0), false);
	alu_imm(j, true, 0, R(RAX), (int32_t)(WASM_STACK_SLOTS * sizeof(uint64_t)));
	ins(j, 0, true, 0x8d, RDX, M(FP, (int32_t)(top * 8)), false);
	ins(j, 0, true, 0x3b, RDX, R(RAX), false);
	trap_if(j, CC_A, WASM_TRAP_STACK_EXHAUSTED);
	fuel_save(j);
	ins(j, 0, true, 0x8d, RDI, M(FP, (int32_t)(b * 8)), false);
	ins(j, 0, true, 0x8b, RSI, M(RSP, 0), false);
	b1(j, 0xe8);
	if (!j->counting) {
		if (j->ncalls == j->cap_calls) {
			size_t cap = j->cap_calls ? j->cap_calls * 2 : 64;
			void *p = realloc(j->calls, cap * sizeof(*j->calls));
			if (!p) {
				j->fail = true;
				return true;
			}
			j->calls = p;
			j->cap_calls = cap;
		}
		j->calls[j->ncalls].at = (uint32_t)j->n;
		j->calls[j->ncalls++].callee = callee;
	}
	b4(j, 0);
	fuel_load(j);
	mov_imm(j, RAX, (uint64_t)(uintptr_t)&s->depth);
	alu_imm(j, false, 5, M(RAX, 0), 1);
	reload_mem(j);
	reload(j, 0);
	return true;
}

static void emit_call(struct jit *j, const union wasm_cell *pc, bool indirect)
{
	if (!indirect && emit_direct_call(j, pc))
		return;
	spill(j, 0);
	fuel_save(j);
	j->nchecked = 0;
	ins(j, 0, true, 0x8b, RDI, M(RSP, 0), false);
	ins(j, 0, true, 0x8d, RDX, M(FP, (int32_t)(pc[1].r.b * 8)), false);
	if (indirect) {
		mov_imm(j, RSI, (uint64_t)pc[1].r.a | (uint64_t)pc[2].r.a << 32);
		ins(j, 0, false, 0x8b, RCX, M(FP, (int32_t)(pc[2].r.b * 8)), false);
		call_abs(j, (const void *)wasm_jit_rt_call_indirect);
	} else {
		mov_imm(j, RSI, pc[1].r.a);
		call_abs(j, (const void *)wasm_jit_rt_call);
	}
	fuel_load(j);
	reload_mem(j);
	reload(j, 0);
}

static void emit_ret(struct jit *j)
{
	for (int i = 0; i < j->ncached; i++)
		if (j->cslot[i] < j->nresults)
			ins(j, 0, true, 0x89, j->reg_of[j->cslot[i]],
			    M(FP, (int32_t)(j->cslot[i] * 8)), false);
	fuel_save(j);
	alu_imm(j, true, 0, R(RSP), 8);
	pop_reg(j, R15);
	pop_reg(j, R14);
	pop_reg(j, R13);
	pop_reg(j, R12);
	pop_reg(j, RBX);
	pop_reg(j, RBP);
	b1(j, 0xc3);
}

/* An instruction left to the interpreter: a copy of it followed by a return. */
static void emit_slow(struct jit *j, const union wasm_cell *pc, size_t len)
{
	struct wasm_jit_module *jm = j->jm;
	if (j->counting) {
		/* its slots are all in the frame: caching them buys nothing */
		return;
	}
	if (jm->nstubs == jm->cap_stubs) {
		size_t cap = jm->cap_stubs ? jm->cap_stubs * 2 : 16;
		struct wasm_code **p = realloc(jm->stubs, cap * sizeof(*p));
		if (!p) {
			j->fail = true;
			return;
		}
		jm->stubs = p;
		jm->cap_stubs = cap;
	}
	struct wasm_code *stub = calloc(1, sizeof(*stub) + (len + 1) * sizeof(union wasm_cell));
	if (!stub) {
		j->fail = true;
		return;
	}
	union wasm_cell *cells = (union wasm_cell *)(stub + 1);
	memcpy(cells, pc, len * sizeof(*cells));
	cells[len].h = label_table[WASM_IOP_ret];
	stub->cells = cells;
	stub->ncells = len + 1;
	jm->stubs[jm->nstubs++] = stub;
	spill(j, 0);
	fuel_save(j);
	j->nchecked = 0;
	ins(j, 0, true, 0x8b, RDI, M(RSP, 0), false);
	ins(j, 0, true, 0x8b, RSI, R(FP), false);
	mov_imm(j, RDX, (uint64_t)(uintptr_t)stub);
	call_abs(j, (const void *)wasm_jit_rt_slow);
	fuel_load(j);
	reload_mem(j);
	reload(j, 0);
}

/* ---- memory ---- */

/*
 * eax holds the 32-bit address; check address + offset + size against the size and
 * return the operand of the access.
 */
static struct rm mem_check(struct jit *j, uint64_t off, unsigned size, uint32_t key)
{
	if (off + size <= INT32_MAX) {
		for (int i = 0; i < j->nchecked; i++)
			if (j->checked[i].slot == key && j->checked[i].end >= off + size)
				return MX(MEMB, RAX, 0, (int32_t)off);
		if (key != UINT32_MAX) {
			int i = 0;
			while (i < j->nchecked && j->checked[i].slot != key)
				i++;
			if (i == j->nchecked)
				i = j->nchecked < NCHECKED ? j->nchecked++ : (int)(key % NCHECKED);
			j->checked[i].slot = key;
			j->checked[i].end = off + size;
		}
		ins(j, 0, true, 0x8d, RDX, M(RAX, (int32_t)(off + size)), false);
		ins(j, 0, true, 0x3b, RDX, R(MEMS), false);
		trap_if(j, CC_A, WASM_TRAP_MEMORY_OOB);
		return MX(MEMB, RAX, 0, (int32_t)off);
	}
	mov_imm(j, RDX, off);
	ins(j, 0, true, 0x03, RAX, R(RDX), false);
	ins(j, 0, true, 0x8d, RDX, M(RAX, (int32_t)size), false);
	ins(j, 0, true, 0x3b, RDX, R(MEMS), false);
	trap_if(j, CC_A, WASM_TRAP_MEMORY_OOB);
	return MX(MEMB, RAX, 0, 0);
}

/* The address of a load or store of the given form into eax (as = the address slot). */
static uint64_t mem_addr(struct jit *j, int form, const union wasm_cell *pc, uint32_t as)
{
	switch (form) {
	case 0: /* [x|a][offset] */
		ld(j, false, RAX, as);
		return pc[2].u;
	case 1: /* _a [x|a][imm|offset] */
		ld(j, false, RAX, as);
		alu_imm(j, false, 0, R(RAX), (int32_t)pc[2].r.a);
		return pc[2].r.b;
	case 2: /* _x [x|a][i|shift][offset] */
		ld(j, false, RAX, pc[2].r.a);
		if (pc[2].r.b & 31) {
			ins(j, 0, false, 0xc1, 4, R(RAX), false);
			b1(j, (uint8_t)(pc[2].r.b & 31));
		}
		ins(j, 0, false, 0x03, RAX, S(j, as), false);
		return pc[3].u;
	case 3: /* _s [x|i][imm|shift][offset] */
		ld(j, false, RAX, as);
		if (pc[2].r.b & 31) {
			ins(j, 0, false, 0xc1, 4, R(RAX), false);
			b1(j, (uint8_t)(pc[2].r.b & 31));
		}
		alu_imm(j, false, 0, R(RAX), (int32_t)pc[2].r.a);
		return pc[3].u;
	default: /* _p [x|p][src|imm][offset]: p = src + imm first */
		ld(j, false, RAX, pc[2].r.a);
		alu_imm(j, false, 0, R(RAX), (int32_t)pc[2].r.b);
		st(j, as, RAX);
		return pc[3].u;
	}
}

static void emit_mem(struct jit *j, int op, const union wasm_cell *pc)
{
	static const struct {
		uint32_t opc;
		bool w;
		uint8_t size;
	} kinds[] = {
	    {0x0fb6, false, 1}, {0x0fbe, false, 1}, {0x0fbe, true, 1}, {0x0fb7, false, 2},
	    {0x0fbf, false, 2}, {0x0fbf, true, 2},  {0x8b, false, 4},  {0x63, true, 4},
	    {0x8b, true, 8},	{0x88, false, 1},   {0x89, false, 2},  {0x89, false, 4},
	    {0x89, true, 8},
	};
	int k = (op - WASM_IOP_ld8u) / 5, form = (op - WASM_IOP_ld8u) % 5;
	bool store = k >= 9;
	uint32_t as = store ? pc[1].r.a : pc[1].r.b;
	uint64_t off = mem_addr(j, form, pc, as);
	struct rm m = mem_check(j, off, kinds[k].size, form == 0 ? as : UINT32_MAX);
	if (!store) {
		int r = work_reg(j, pc[1].r.a, -1);
		ins(j, 0, kinds[k].w, kinds[k].opc, r, m, false);
		st(j, pc[1].r.a, r);
		return;
	}
	int v = reg_of(j, pc[1].r.b);
	if (v < 0) {
		v = RCX;
		ld(j, true, RCX, pc[1].r.b);
	} else {
		S(j, pc[1].r.b); /* counted as a use */
	}
	ins(j, kinds[k].size == 2 ? 0x66 : 0, kinds[k].w, kinds[k].opc, v, m, kinds[k].size == 1);
}

/* ---- numbers ---- */

/* i32/i64 add, sub, and, or, xor (the r, r/m opcode is digit * 8 + 3) and mul */
static void emit_alu(struct jit *j, bool w, int digit, bool mul, const union wasm_cell *pc,
		     bool imm)
{
	uint32_t d = pc[1].r.a;
	struct rm ob = imm ? R(RAX) : S(j, (uint32_t)pc[2].u);
	int r = work_reg(j, d, imm || ob.mem ? -1 : ob.reg);
	/* the operation writes r whole (a 32-bit one clears the upper half) */
	ld(j, true, r, pc[1].r.b);
	if (imm) {
		int64_t v = w ? (int64_t)pc[2].u : (int32_t)(uint32_t)pc[2].u;
		if (!fits_i32(v)) {
			mov_imm(j, RCX, (uint64_t)v);
			ob = R(RCX);
		} else if (mul) {
			ins(j, 0, w, 0x69, r, R(r), false);
			b4(j, (uint32_t)v);
			st(j, d, r);
			return;
		} else {
			alu_imm(j, w, digit, R(r), (int32_t)v);
			st(j, d, r);
			return;
		}
	}
	if (mul)
		ins(j, 0, w, 0x0faf, r, ob, false);
	else
		ins(j, 0, w, (uint32_t)(digit * 8 + 3), r, ob, false);
	st(j, d, r);
}

/* shifts and rotates: digit 0 rol, 1 ror, 4 shl, 5 shr, 7 sar */
static void emit_shift(struct jit *j, bool w, int digit, const union wasm_cell *pc, bool imm)
{
	uint32_t d = pc[1].r.a;
	if (!imm)
		ld(j, false, RCX, (uint32_t)pc[2].u);
	int r = work_reg(j, d, -1);
	ld(j, w, r, pc[1].r.b);
	if (imm) {
		ins(j, 0, w, 0xc1, digit, R(r), false);
		b1(j, (uint8_t)(pc[2].u & (w ? 63 : 31)));
	} else {
		ins(j, 0, w, 0xd3, digit, R(r), false);
	}
	st(j, d, r);
}

static void setcc_store(struct jit *j, int cc, uint32_t d)
{
	ins(j, 0, false, 0x0f90 | (uint32_t)cc, 0, R(RAX), false);
	ins(j, 0, false, 0x0fb6, RAX, R(RAX), false);
	st(j, d, RAX);
}

/* rax (or the register of a) compared with b or an immediate */
static void emit_cmp(struct jit *j, bool w, uint32_t a, const union wasm_cell *b, bool imm)
{
	struct rm oa = S(j, a);
	if (oa.mem && !imm) {
		ins(j, 0, w, 0x8b, RAX, oa, false);
		oa = R(RAX);
	}
	if (imm) {
		int64_t v = w ? (int64_t)b->u : (int32_t)(uint32_t)b->u;
		if (fits_i32(v)) {
			alu_imm(j, w, 7, oa, (int32_t)v);
			return;
		}
		mov_imm(j, RCX, (uint64_t)v);
		if (oa.mem) {
			ins(j, 0, w, 0x8b, RAX, oa, false);
			oa = R(RAX);
		}
		ins(j, 0, w, 0x3b, oa.reg, R(RCX), false);
		return;
	}
	ins(j, 0, w, 0x3b, oa.reg, S(j, (uint32_t)b->u), false);
}

static void emit_divrem(struct jit *j, bool w, bool sgn, bool rem, const union wasm_cell *pc,
			bool imm)
{
	if (imm)
		mov_imm(j, RCX, w ? pc[2].u : (uint32_t)pc[2].u);
	else
		ld(j, w, RCX, (uint32_t)pc[2].u);
	ld(j, w, RAX, pc[1].r.b);
	ins(j, 0, w, 0x85, RCX, R(RCX), false);
	trap_if(j, CC_E, WASM_TRAP_DIV_ZERO);
	size_t not_m1 = 0, done = 0;
	if (sgn) {
		alu_imm(j, w, 7, R(RCX), -1);
		not_m1 = jcc8(j, CC_NE);
		if (rem) {
			ins(j, 0, false, 0x33, RDX, R(RDX), false);
			done = jcc8(j, -1);
		} else {
			if (w) {
				mov_imm(j, RDX, (uint64_t)INT64_MIN);
				ins(j, 0, true, 0x3b, RAX, R(RDX), false);
			} else {
				alu_imm(j, false, 7, R(RAX), INT32_MIN);
			}
			trap_if(j, CC_E, WASM_TRAP_INT_OVERFLOW);
		}
		patch8(j, not_m1);
	}
	/*
	 * A 64-bit division of operands that both fit in 32 bits unsigned (then signed ones are
	 * non-negative, and the results are the same) is done by the much faster 32-bit divide.
	 */
	size_t full = 0, short_done = 0;
	if (w) {
		ins(j, 0, true, 0x8b, RDX, R(RAX), false);
		ins(j, 0, true, 0x0b, RDX, R(RCX), false);
		ins(j, 0, true, 0xc1, 5, R(RDX), false);
		b1(j, 32);
		full = jcc8(j, CC_NE);
		ins(j, 0, false, 0x33, RDX, R(RDX), false);
		ins(j, 0, false, 0xf7, 6, R(RCX), false);
		short_done = jcc8(j, -1);
		patch8(j, full);
	}
	if (sgn) {
		if (w)
			b1(j, 0x48);
		b1(j, 0x99); /* cdq / cqo */
		ins(j, 0, w, 0xf7, 7, R(RCX), false);
	} else {
		ins(j, 0, false, 0x33, RDX, R(RDX), false);
		ins(j, 0, w, 0xf7, 6, R(RCX), false);
	}
	if (short_done)
		patch8(j, short_done);
	if (done)
		patch8(j, done);
	st(j, pc[1].r.a, rem ? RDX : RAX);
}

/* xmm x = the bits of a slot (movd/movq) */
static void fload(struct jit *j, bool f64, int x, uint32_t slot)
{
	ins(j, 0x66, f64, 0x0f6e, x, S(j, slot), false);
}

static void fstore(struct jit *j, bool f64, uint32_t d, int x)
{
	int r = work_reg(j, d, -1);
	ins(j, 0x66, f64, 0x0f7e, x, R(r), false);
	st(j, d, r);
}

/* xmm0 op= b (slot or immediate bits); opc 0x0f58 add, 59 mul, 5c sub, 5e div */
static void fop(struct jit *j, bool f64, uint32_t opc, const union wasm_cell *b, bool imm)
{
	uint8_t pfx = f64 ? 0xf2 : 0xf3;
	if (imm) {
		mov_imm(j, RAX, f64 ? b->u : (uint32_t)b->u);
		ins(j, 0x66, f64, 0x0f6e, 1, R(RAX), false);
		ins(j, pfx, false, opc, 0, R(1), false);
		return;
	}
	struct rm o = S(j, (uint32_t)b->u);
	if (o.mem) {
		ins(j, pfx, false, opc, 0, o, false);
	} else {
		ins(j, 0x66, f64, 0x0f6e, 1, o, false);
		ins(j, pfx, false, opc, 0, R(1), false);
	}
}

static void emit_fbin(struct jit *j, bool f64, uint32_t opc, const union wasm_cell *pc, bool imm)
{
	fload(j, f64, 0, pc[1].r.b);
	fop(j, f64, opc, &pc[2], imm);
	fstore(j, f64, pc[1].r.a, 0);
}

/* eq, ne, lt, gt, le, ge of two floats */
static void emit_fcmp(struct jit *j, bool f64, int which, const union wasm_cell *pc, bool imm)
{
	fload(j, f64, 0, pc[1].r.b);
	if (imm) {
		mov_imm(j, RAX, f64 ? pc[2].u : (uint32_t)pc[2].u);
		ins(j, 0x66, f64, 0x0f6e, 1, R(RAX), false);
	} else {
		fload(j, f64, 1, (uint32_t)pc[2].u);
	}
	bool swap = which == 2 || which == 4; /* lt, le: b > a, b >= a */
	ins(j, f64 ? 0x66 : 0, false, 0x0f2e, swap ? 1 : 0, R(swap ? 0 : 1), false);
	switch (which) {
	case 0:
		ins(j, 0, false, 0x0f94, 0, R(RAX), false);
		ins(j, 0, false, 0x0f9b, 0, R(RCX), false);
		ins(j, 0, false, 0x22, RAX, R(RCX), false);
		break;
	case 1:
		ins(j, 0, false, 0x0f95, 0, R(RAX), false);
		ins(j, 0, false, 0x0f9a, 0, R(RCX), false);
		ins(j, 0, false, 0x0a, RAX, R(RCX), false);
		break;
	case 2:
	case 3:
		ins(j, 0, false, 0x0f97, 0, R(RAX), false);
		break;
	default:
		ins(j, 0, false, 0x0f93, 0, R(RAX), false);
		break;
	}
	ins(j, 0, false, 0x0fb6, RAX, R(RAX), false);
	st(j, pc[1].r.a, RAX);
}

static void emit_copysign(struct jit *j, bool f64, const union wasm_cell *pc, bool imm)
{
	uint32_t d = pc[1].r.a;
	if (f64) {
		ld(j, true, RAX, pc[1].r.b);
		ins(j, 0, true, 0x0fba, 6, R(RAX), false); /* btr rax, 63 */
		b1(j, 63);
		if (imm) {
			if (pc[2].u >> 63) {
				ins(j, 0, true, 0x0fba, 5, R(RAX), false); /* bts */
				b1(j, 63);
			}
		} else {
			ld(j, true, RCX, (uint32_t)pc[2].u);
			ins(j, 0, true, 0xc1, 5, R(RCX), false);
			b1(j, 63);
			ins(j, 0, true, 0xc1, 4, R(RCX), false);
			b1(j, 63);
			ins(j, 0, true, 0x0b, RAX, R(RCX), false);
		}
	} else {
		ld(j, false, RAX, pc[1].r.b);
		alu_imm(j, false, 4, R(RAX), 0x7fffffff);
		if (imm) {
			if (pc[2].u & 0x80000000u)
				alu_imm(j, false, 1, R(RAX), INT32_MIN);
		} else {
			ld(j, false, RCX, (uint32_t)pc[2].u);
			alu_imm(j, false, 4, R(RCX), INT32_MIN);
			ins(j, 0, false, 0x0b, RAX, R(RCX), false);
		}
	}
	st(j, d, RAX);
}

#define BOTH(n)                                                                                    \
	case WASM_IOP_##n##_ss:                                                                    \
	case WASM_IOP_##n##_si

/* Two-operand instructions; false when left to the interpreter. */
static bool emit_binary(struct jit *j, int op, const union wasm_cell *pc)
{
	bool imm = (op - WASM_IOP_i32_eq_ss) & 1;
	int base = op - imm;
	switch (base) {
	case WASM_IOP_i32_eq_ss ... WASM_IOP_i32_ge_u_ss:
	case WASM_IOP_i64_eq_ss ... WASM_IOP_i64_ge_u_ss: {
		static const uint8_t cc[10] = {CC_E, CC_NE, CC_L,  CC_B,  CC_G,
					       CC_A, CC_LE, CC_BE, CC_GE, CC_AE};
		bool w = base >= WASM_IOP_i64_eq_ss;
		int k = (base - (w ? WASM_IOP_i64_eq_ss : WASM_IOP_i32_eq_ss)) / 2;
		emit_cmp(j, w, pc[1].r.b, &pc[2], imm);
		setcc_store(j, cc[k], pc[1].r.a);
		return true;
	}
	case WASM_IOP_f32_eq_ss ... WASM_IOP_f32_ge_ss:
		emit_fcmp(j, false, (base - WASM_IOP_f32_eq_ss) / 2, pc, imm);
		return true;
	case WASM_IOP_f64_eq_ss ... WASM_IOP_f64_ge_ss:
		emit_fcmp(j, true, (base - WASM_IOP_f64_eq_ss) / 2, pc, imm);
		return true;
	case WASM_IOP_i32_add_ss:
		emit_alu(j, false, 0, false, pc, imm);
		return true;
	case WASM_IOP_i32_sub_ss:
		emit_alu(j, false, 5, false, pc, imm);
		return true;
	case WASM_IOP_i32_mul_ss:
		emit_alu(j, false, 0, true, pc, imm);
		return true;
	case WASM_IOP_i32_and_ss:
		emit_alu(j, false, 4, false, pc, imm);
		return true;
	case WASM_IOP_i32_or_ss:
		emit_alu(j, false, 1, false, pc, imm);
		return true;
	case WASM_IOP_i32_xor_ss:
		emit_alu(j, false, 6, false, pc, imm);
		return true;
	case WASM_IOP_i64_add_ss:
		emit_alu(j, true, 0, false, pc, imm);
		return true;
	case WASM_IOP_i64_sub_ss:
		emit_alu(j, true, 5, false, pc, imm);
		return true;
	case WASM_IOP_i64_mul_ss:
		emit_alu(j, true, 0, true, pc, imm);
		return true;
	case WASM_IOP_i64_and_ss:
		emit_alu(j, true, 4, false, pc, imm);
		return true;
	case WASM_IOP_i64_or_ss:
		emit_alu(j, true, 1, false, pc, imm);
		return true;
	case WASM_IOP_i64_xor_ss:
		emit_alu(j, true, 6, false, pc, imm);
		return true;
	case WASM_IOP_i32_div_s_ss:
		emit_divrem(j, false, true, false, pc, imm);
		return true;
	case WASM_IOP_i32_div_u_ss:
		emit_divrem(j, false, false, false, pc, imm);
		return true;
	case WASM_IOP_i32_rem_s_ss:
		emit_divrem(j, false, true, true, pc, imm);
		return true;
	case WASM_IOP_i32_rem_u_ss:
		emit_divrem(j, false, false, true, pc, imm);
		return true;
	case WASM_IOP_i64_div_s_ss:
		emit_divrem(j, true, true, false, pc, imm);
		return true;
	case WASM_IOP_i64_div_u_ss:
		emit_divrem(j, true, false, false, pc, imm);
		return true;
	case WASM_IOP_i64_rem_s_ss:
		emit_divrem(j, true, true, true, pc, imm);
		return true;
	case WASM_IOP_i64_rem_u_ss:
		emit_divrem(j, true, false, true, pc, imm);
		return true;
	case WASM_IOP_i32_shl_ss:
		emit_shift(j, false, 4, pc, imm);
		return true;
	case WASM_IOP_i32_shr_s_ss:
		emit_shift(j, false, 7, pc, imm);
		return true;
	case WASM_IOP_i32_shr_u_ss:
		emit_shift(j, false, 5, pc, imm);
		return true;
	case WASM_IOP_i32_rotl_ss:
		emit_shift(j, false, 0, pc, imm);
		return true;
	case WASM_IOP_i32_rotr_ss:
		emit_shift(j, false, 1, pc, imm);
		return true;
	case WASM_IOP_i64_shl_ss:
		emit_shift(j, true, 4, pc, imm);
		return true;
	case WASM_IOP_i64_shr_s_ss:
		emit_shift(j, true, 7, pc, imm);
		return true;
	case WASM_IOP_i64_shr_u_ss:
		emit_shift(j, true, 5, pc, imm);
		return true;
	case WASM_IOP_i64_rotl_ss:
		emit_shift(j, true, 0, pc, imm);
		return true;
	case WASM_IOP_i64_rotr_ss:
		emit_shift(j, true, 1, pc, imm);
		return true;
	case WASM_IOP_f32_add_ss:
		emit_fbin(j, false, 0x0f58, pc, imm);
		return true;
	case WASM_IOP_f32_sub_ss:
		emit_fbin(j, false, 0x0f5c, pc, imm);
		return true;
	case WASM_IOP_f32_mul_ss:
		emit_fbin(j, false, 0x0f59, pc, imm);
		return true;
	case WASM_IOP_f32_div_ss:
		emit_fbin(j, false, 0x0f5e, pc, imm);
		return true;
	case WASM_IOP_f64_add_ss:
		emit_fbin(j, true, 0x0f58, pc, imm);
		return true;
	case WASM_IOP_f64_sub_ss:
		emit_fbin(j, true, 0x0f5c, pc, imm);
		return true;
	case WASM_IOP_f64_mul_ss:
		emit_fbin(j, true, 0x0f59, pc, imm);
		return true;
	case WASM_IOP_f64_div_ss:
		emit_fbin(j, true, 0x0f5e, pc, imm);
		return true;
	case WASM_IOP_f32_copysign_ss:
		emit_copysign(j, false, pc, imm);
		return true;
	case WASM_IOP_f64_copysign_ss:
		emit_copysign(j, true, pc, imm);
		return true;
	default:
		return false; /* min, max */
	}
}

/* int-to-float conversions: pfx f3 (f32) or f2 (f64); w for a 64-bit source */
static void emit_cvt(struct jit *j, bool f64, bool w, bool zext, const union wasm_cell *pc)
{
	ins(j, 0, false, 0x0f57, 0, R(0), false); /* xorps xmm0, xmm0 */
	if (zext) {
		ld(j, false, RAX, pc[1].r.b);
		ins(j, f64 ? 0xf2 : 0xf3, true, 0x0f2a, 0, R(RAX), false);
	} else {
		ins(j, f64 ? 0xf2 : 0xf3, w, 0x0f2a, 0, S(j, pc[1].r.b), false);
	}
	fstore(j, f64, pc[1].r.a, 0);
}

static void emit_bitcount(struct jit *j, bool w, uint32_t opc, const union wasm_cell *pc)
{
	int r = work_reg(j, pc[1].r.a, -1);
	ins(j, 0xf3, w, opc, r, S(j, pc[1].r.b), false);
	st(j, pc[1].r.a, r);
}

/* xmm1 = a float constant */
static void fconst(struct jit *j, bool f64, double v)
{
	uint64_t bits;
	if (f64) {
		memcpy(&bits, &v, 8);
	} else {
		float f = (float)v;
		uint32_t u;
		memcpy(&u, &f, 4);
		bits = u;
	}
	mov_imm(j, RAX, bits);
	ins(j, 0x66, f64, 0x0f6e, 1, R(RAX), false);
}

/*
 * Trapping float-to-int: NaN first, then the open range (lo, hi) that the interpreter
 * checks (the bounds are exact in the source type); then cvttss2si/cvttsd2si, 64-bit
 * when w (the unsigned 32-bit results come from a 64-bit conversion).
 */
static void emit_trunc(struct jit *j, const union wasm_cell *pc, bool f64, bool w, double lo,
		       double hi)
{
	uint8_t cmp_pfx = f64 ? 0x66 : 0;
	fload(j, f64, 0, pc[1].r.b);
	ins(j, cmp_pfx, false, 0x0f2e, 0, R(0), false);
	trap_if(j, CC_P, WASM_TRAP_BAD_CONVERSION);
	fconst(j, f64, lo);
	ins(j, cmp_pfx, false, 0x0f2e, 0, R(1), false); /* x > lo */
	trap_if(j, CC_BE, WASM_TRAP_INT_OVERFLOW);
	fconst(j, f64, hi);
	ins(j, cmp_pfx, false, 0x0f2e, 1, R(0), false); /* hi > x */
	trap_if(j, CC_BE, WASM_TRAP_INT_OVERFLOW);
	int r = work_reg(j, pc[1].r.a, -1);
	ins(j, f64 ? 0xf2 : 0xf3, w, 0x0f2c, r, R(0), false);
	if (w && hi == 4294967296.0)
		ins(j, 0, false, 0x8b, r, R(r), false); /* u32: clear the upper half */
	st(j, pc[1].r.a, r);
}

/* floor, ceil, trunc, nearest (to even) with SSE4.1 round; NaNs come out quieted */
static bool emit_round(struct jit *j, int op, const union wasm_cell *pc)
{
	if (!have_sse41)
		return false;
	bool f64 = op >= WASM_IOP_f64_abs;
	int base = f64 ? WASM_IOP_f64_ceil : WASM_IOP_f32_ceil;
	static const uint8_t mode[4] = {2, 1, 3, 0}; /* ceil, floor, trunc, nearest */
	fload(j, f64, 0, pc[1].r.b);
	ins(j, 0x66, false, f64 ? 0x0f3a0b : 0x0f3a0a, 0, R(0), false);
	b1(j, (uint8_t)(8 | mode[op - base]));
	fstore(j, f64, pc[1].r.a, 0);
	return true;
}

static bool emit_unary(struct jit *j, int op, const union wasm_cell *pc)
{
	uint32_t d = pc[1].r.a, a = pc[1].r.b;
	switch (op) {
	case WASM_IOP_i32_eqz:
	case WASM_IOP_i64_eqz:
		alu_imm(j, op == WASM_IOP_i64_eqz, 7, S(j, a), 0);
		setcc_store(j, CC_E, d);
		return true;
	case WASM_IOP_i32_clz:
	case WASM_IOP_i64_clz:
		if (!have_lzcnt)
			return false;
		emit_bitcount(j, op == WASM_IOP_i64_clz, 0x0fbd, pc);
		return true;
	case WASM_IOP_i32_ctz:
	case WASM_IOP_i64_ctz:
		if (!have_tzcnt)
			return false;
		emit_bitcount(j, op == WASM_IOP_i64_ctz, 0x0fbc, pc);
		return true;
	case WASM_IOP_i32_popcnt:
	case WASM_IOP_i64_popcnt:
		if (!have_popcnt)
			return false;
		emit_bitcount(j, op == WASM_IOP_i64_popcnt, 0x0fb8, pc);
		return true;
	case WASM_IOP_f32_abs:
		ld(j, false, RAX, a);
		alu_imm(j, false, 4, R(RAX), 0x7fffffff);
		st(j, d, RAX);
		return true;
	case WASM_IOP_f32_neg:
		ld(j, false, RAX, a);
		alu_imm(j, false, 6, R(RAX), INT32_MIN);
		st(j, d, RAX);
		return true;
	case WASM_IOP_f64_abs:
	case WASM_IOP_f64_neg:
		ld(j, true, RAX, a);
		ins(j, 0, true, 0x0fba, op == WASM_IOP_f64_abs ? 6 : 7, R(RAX), false);
		b1(j, 63);
		st(j, d, RAX);
		return true;
	case WASM_IOP_f32_sqrt:
	case WASM_IOP_f64_sqrt: {
		bool f64 = op == WASM_IOP_f64_sqrt;
		fload(j, f64, 0, a);
		ins(j, f64 ? 0xf2 : 0xf3, false, 0x0f51, 0, R(0), false);
		fstore(j, f64, d, 0);
		return true;
	}
	case WASM_IOP_i32_wrap_i64:
	case WASM_IOP_i64_extend_i32_u: {
		int r = work_reg(j, d, -1);
		ld(j, false, r, a);
		st(j, d, r);
		return true;
	}
	case WASM_IOP_i64_extend_i32_s:
	case WASM_IOP_i64_extend32_s: {
		int r = work_reg(j, d, -1);
		ins(j, 0, true, 0x63, r, S(j, a), false);
		st(j, d, r);
		return true;
	}
	case WASM_IOP_i32_extend8_s:
	case WASM_IOP_i32_extend16_s:
	case WASM_IOP_i64_extend8_s:
	case WASM_IOP_i64_extend16_s: {
		bool w = op == WASM_IOP_i64_extend8_s || op == WASM_IOP_i64_extend16_s;
		bool b = op == WASM_IOP_i32_extend8_s || op == WASM_IOP_i64_extend8_s;
		ld(j, false, RAX, a);
		ins(j, 0, w, b ? 0x0fbe : 0x0fbf, RAX, R(RAX), false);
		st(j, d, RAX);
		return true;
	}
	case WASM_IOP_f32_convert_i32_s:
		emit_cvt(j, false, false, false, pc);
		return true;
	case WASM_IOP_f32_convert_i32_u:
		emit_cvt(j, false, true, true, pc);
		return true;
	case WASM_IOP_f32_convert_i64_s:
		emit_cvt(j, false, true, false, pc);
		return true;
	case WASM_IOP_f64_convert_i32_s:
		emit_cvt(j, true, false, false, pc);
		return true;
	case WASM_IOP_f64_convert_i32_u:
		emit_cvt(j, true, true, true, pc);
		return true;
	case WASM_IOP_f64_convert_i64_s:
		emit_cvt(j, true, true, false, pc);
		return true;
	case WASM_IOP_i32_trunc_f32_s:
		emit_trunc(j, pc, false, false, -2147483904.0, 2147483648.0);
		return true;
	case WASM_IOP_i32_trunc_f32_u:
		emit_trunc(j, pc, false, true, -1.0, 4294967296.0);
		return true;
	case WASM_IOP_i32_trunc_f64_s:
		emit_trunc(j, pc, true, false, -2147483649.0, 2147483648.0);
		return true;
	case WASM_IOP_i32_trunc_f64_u:
		emit_trunc(j, pc, true, true, -1.0, 4294967296.0);
		return true;
	case WASM_IOP_i64_trunc_f32_s:
		emit_trunc(j, pc, false, true, -9223373136366403584.0, 9223372036854775808.0);
		return true;
	case WASM_IOP_i64_trunc_f64_s:
		emit_trunc(j, pc, true, true, -9223372036854777856.0, 9223372036854775808.0);
		return true;
	case WASM_IOP_f32_floor:
	case WASM_IOP_f32_ceil:
	case WASM_IOP_f32_trunc:
	case WASM_IOP_f32_nearest:
	case WASM_IOP_f64_floor:
	case WASM_IOP_f64_ceil:
	case WASM_IOP_f64_trunc:
	case WASM_IOP_f64_nearest:
		return emit_round(j, op, pc);
	case WASM_IOP_f32_demote_f64:
		fload(j, true, 0, a);
		ins(j, 0xf2, false, 0x0f5a, 0, R(0), false);
		fstore(j, false, d, 0);
		return true;
	case WASM_IOP_f64_promote_f32:
		fload(j, false, 0, a);
		ins(j, 0xf3, false, 0x0f5a, 0, R(0), false);
		fstore(j, true, d, 0);
		return true;
	default:
		return false;
	}
}

/* i32 compare-and-branch: [a|b][offset] or [a|-][imm][offset] */
static void emit_cmpbr(struct jit *j, int op, const union wasm_cell *pc, size_t i)
{
	static const uint8_t cc[10] = {CC_E, CC_NE, CC_L,  CC_B,  CC_G,
				       CC_A, CC_LE, CC_BE, CC_GE, CC_AE};
	bool imm = (op - WASM_IOP_br_i32_eq_ss) & 1;
	int k = (op - WASM_IOP_br_i32_eq_ss) / 2;
	if (imm) {
		emit_cmp(j, false, pc[1].r.a, &pc[2], true);
		branch(j, cc[k], i + 3);
	} else {
		union wasm_cell b = {.u = pc[1].r.b};
		emit_cmp(j, false, pc[1].r.a, &b, false);
		branch(j, cc[k], i + 2);
	}
}

static void emit_muladd(struct jit *j, bool f64, const union wasm_cell *pc, bool from_mem)
{
	uint8_t pfx = f64 ? 0xf2 : 0xf3;
	union wasm_cell y = {.u = pc[2].r.a}, a = {.u = pc[2].r.b};
	fload(j, f64, 0, pc[1].r.b);
	fop(j, f64, 0x0f59, &y, false);
	if (from_mem) {
		ld(j, false, RAX, pc[2].r.b);
		struct rm m = mem_check(j, pc[3].u, f64 ? 8 : 4, pc[2].r.b);
		ins(j, pfx, false, 0x0f58, 0, m, false);
	} else {
		fop(j, f64, 0x0f58, &a, false);
	}
	fstore(j, f64, pc[1].r.a, 0);
}

static void emit_const(struct jit *j, uint32_t d, uint64_t v)
{
	wrote(j, d);
	struct rm o = S(j, d);
	if (!o.mem) {
		if (!v)
			ins(j, 0, false, 0x33, o.reg, o, false);
		else
			mov_imm(j, o.reg, v);
	} else if (fits_i32((int64_t)v)) {
		ins(j, 0, true, 0xc7, 0, o, false);
		b4(j, (uint32_t)v);
	} else {
		mov_imm(j, RAX, v);
		ins(j, 0, true, 0x89, RAX, o, false);
	}
}

static void emit_copy(struct jit *j, uint32_t d, uint32_t a)
{
	int rd = reg_of(j, d);
	wrote(j, d);
	if (rd >= 0) {
		ld(j, true, rd, a);
		S(j, d);
		return;
	}
	int ra = reg_of(j, a);
	if (ra < 0) {
		ld(j, true, RAX, a);
		ra = RAX;
	} else {
		S(j, a);
	}
	st(j, d, ra);
}

static void emit_global(struct jit *j, const union wasm_cell *pc, bool set)
{
	ins(j, 0, true, 0x8b, RAX, M(RSP, 0), false);
	ins(j, 0, true, 0x8b, RAX, M(RAX, (int32_t)offsetof(struct wasm_instance, globals)), false);
	ins(j, 0, true, 0x8b, RAX, M(RAX, (int32_t)(pc[1].r.b * 8)), false);
	struct rm v = M(RAX, (int32_t)offsetof(struct wasm_global, val.i64));
	if (set) {
		ld(j, true, RCX, pc[1].r.a);
		ins(j, 0, true, 0x89, RCX, v, false);
	} else {
		int r = work_reg(j, pc[1].r.a, -1);
		ins(j, 0, true, 0x8b, r, v, false);
		st(j, pc[1].r.a, r);
	}
}

/* Cells of the instruction op at pc (0 when unknown). */
static size_t insn_len(int op, const union wasm_cell *pc)
{
	if (op >= WASM_IOP_ld8u && op <= WASM_IOP_st64_p)
		return (op - WASM_IOP_ld8u) % 5 < 2 ? 3 : 4;
	if (op >= WASM_IOP_i32_eqz && op <= WASM_IOP_i64_trunc_sat_f64_u)
		return 2;
	if (op >= WASM_IOP_i32_eq_ss && op <= WASM_IOP_f64_copysign_si)
		return 3;
	if (op >= WASM_IOP_br_i32_eq_ss && op < WASM_IOP_COUNT)
		return (op - WASM_IOP_br_i32_eq_ss) & 1 ? 4 : 3;
	switch (op) {
	case WASM_IOP_unreachable:
	case WASM_IOP_ret:
		return 1;
	case WASM_IOP_br:
	case WASM_IOP_loop:
	case WASM_IOP_call:
	case WASM_IOP_copy:
	case WASM_IOP_global_get:
	case WASM_IOP_global_set:
	case WASM_IOP_table_size:
	case WASM_IOP_elem_drop:
	case WASM_IOP_ref_is_null:
	case WASM_IOP_ref_func:
	case WASM_IOP_memory_size:
	case WASM_IOP_memory_grow:
	case WASM_IOP_data_drop:
		return 2;
	case WASM_IOP_br_if:
	case WASM_IOP_br_unless:
	case WASM_IOP_call_indirect:
	case WASM_IOP_copy2:
	case WASM_IOP_const:
	case WASM_IOP_select:
	case WASM_IOP_table_get:
	case WASM_IOP_table_set:
	case WASM_IOP_table_grow:
	case WASM_IOP_f32_muladd:
	case WASM_IOP_f64_muladd:
	case WASM_IOP_i32_add3:
	case WASM_IOP_i32_xor3:
	case WASM_IOP_i32_rotl_xor:
		return 3;
	case WASM_IOP_copy3:
	case WASM_IOP_table_fill:
	case WASM_IOP_table_copy:
	case WASM_IOP_table_init:
	case WASM_IOP_memory_fill:
	case WASM_IOP_memory_copy:
	case WASM_IOP_memory_init:
	case WASM_IOP_f32_muladd_ld:
	case WASM_IOP_f64_muladd_ld:
	case WASM_IOP_i32_add_si_br:
	case WASM_IOP_i64_add_si_br:
	case WASM_IOP_i32_rotl2_xor:
		return 4;
	case WASM_IOP_copy4:
	case WASM_IOP_i32_add_si2:
		return 5;
	case WASM_IOP_br_table:
		return 3 + (size_t)pc[1].r.b;
	case WASM_IOP_br_table_ld32:
	case WASM_IOP_br_table_ld8:
		return 4 + (size_t)pc[1].r.b;
	default:
		return 0;
	}
}

static void emit_add_si(struct jit *j, bool w, uint32_t d, uint32_t a, uint64_t imm)
{
	union wasm_cell c[3] = {{.u = 0}, {.r = {d, a}}, {.u = imm}};
	emit_alu(j, w, 0, false, c, true);
}

static void emit_insn(struct jit *j, int op, const union wasm_cell *pc, size_t i, size_t len)
{
	if (op >= WASM_IOP_ld8u && op <= WASM_IOP_st64_p) {
		emit_mem(j, op, pc);
		return;
	}
	if (op >= WASM_IOP_i32_eqz && op <= WASM_IOP_i64_trunc_sat_f64_u) {
		if (!emit_unary(j, op, pc))
			emit_slow(j, pc, len);
		return;
	}
	if (op >= WASM_IOP_i32_eq_ss && op <= WASM_IOP_f64_copysign_si) {
		if (!emit_binary(j, op, pc))
			emit_slow(j, pc, len);
		return;
	}
	if (op >= WASM_IOP_br_i32_eq_ss) {
		emit_cmpbr(j, op, pc, i);
		return;
	}
	switch (op) {
	case WASM_IOP_unreachable:
		trap_if(j, -1, WASM_TRAP_UNREACHABLE);
		break;
	case WASM_IOP_br:
		branch(j, -1, i + 1);
		break;
	case WASM_IOP_br_if:
	case WASM_IOP_br_unless:
		alu_imm(j, false, 7, S(j, pc[1].r.a), 0);
		branch(j, op == WASM_IOP_br_if ? CC_NE : CC_E, i + 2);
		break;
	case WASM_IOP_br_table:
		ld(j, false, RAX, pc[1].r.a);
		emit_br_table(j, pc[1].r.b, i + 2);
		break;
	case WASM_IOP_br_table_ld32:
	case WASM_IOP_br_table_ld8: {
		bool byte = op == WASM_IOP_br_table_ld8;
		ld(j, false, RAX, pc[1].r.a);
		alu_imm(j, false, 0, R(RAX), (int32_t)pc[2].r.a);
		struct rm m = mem_check(j, pc[2].r.b, byte ? 1 : 4, UINT32_MAX);
		ins(j, 0, false, byte ? 0x0fb6 : 0x8b, RAX, m, false);
		emit_br_table(j, pc[1].r.b, i + 3);
		break;
	}
	case WASM_IOP_loop:
		emit_fuel(j, pc[1].s);
		break;
	case WASM_IOP_ret:
		emit_ret(j);
		break;
	case WASM_IOP_call:
	case WASM_IOP_call_indirect:
		emit_call(j, pc, op == WASM_IOP_call_indirect);
		break;
	case WASM_IOP_copy4:
	case WASM_IOP_copy3:
	case WASM_IOP_copy2:
	case WASM_IOP_copy:
		for (size_t k = 1; k < len; k++)
			emit_copy(j, pc[k].r.a, pc[k].r.b);
		break;
	case WASM_IOP_const:
		emit_const(j, pc[1].r.a, pc[2].u);
		break;
	case WASM_IOP_select: {
		ld(j, true, RAX, pc[1].r.b);
		ld(j, true, RCX, pc[2].r.a);
		alu_imm(j, false, 7, S(j, pc[2].r.b), 0);
		ins(j, 0, true, 0x0f44, RAX, R(RCX), false); /* cmovz */
		st(j, pc[1].r.a, RAX);
		break;
	}
	case WASM_IOP_global_get:
	case WASM_IOP_global_set:
		emit_global(j, pc, op == WASM_IOP_global_set);
		break;
	case WASM_IOP_ref_is_null:
		alu_imm(j, true, 7, S(j, pc[1].r.b), 0);
		setcc_store(j, CC_E, pc[1].r.a);
		break;
	case WASM_IOP_memory_size:
		ins(j, 0, true, 0x8b, RAX, R(MEMS), false);
		ins(j, 0, true, 0xc1, 5, R(RAX), false);
		b1(j, 16);
		st(j, pc[1].r.a, RAX);
		break;
	case WASM_IOP_f32_muladd:
	case WASM_IOP_f64_muladd:
		emit_muladd(j, op == WASM_IOP_f64_muladd, pc, false);
		break;
	case WASM_IOP_f32_muladd_ld:
	case WASM_IOP_f64_muladd_ld:
		emit_muladd(j, op == WASM_IOP_f64_muladd_ld, pc, true);
		break;
	case WASM_IOP_i32_add3:
	case WASM_IOP_i32_xor3: {
		uint32_t opc = op == WASM_IOP_i32_add3 ? 0x03 : 0x33;
		ld(j, false, RAX, pc[1].r.b);
		ins(j, 0, false, opc, RAX, S(j, pc[2].r.a), false);
		ins(j, 0, false, opc, RAX, S(j, pc[2].r.b), false);
		st(j, pc[1].r.a, RAX);
		break;
	}
	case WASM_IOP_i32_add_si2:
		emit_add_si(j, false, pc[3].r.a, pc[3].r.b, pc[4].u);
		emit_add_si(j, false, pc[1].r.a, pc[1].r.b, pc[2].u);
		break;
	case WASM_IOP_i32_add_si_br:
	case WASM_IOP_i64_add_si_br:
		emit_add_si(j, op == WASM_IOP_i64_add_si_br, pc[1].r.a, pc[1].r.b, pc[2].u);
		branch(j, -1, i + 3);
		break;
	case WASM_IOP_i32_rotl_xor:
		ld(j, false, RAX, pc[1].r.b);
		ins(j, 0, false, 0xc1, 0, R(RAX), false);
		b1(j, (uint8_t)(pc[2].r.a & 31));
		ins(j, 0, false, 0x33, RAX, S(j, pc[2].r.b), false);
		st(j, pc[1].r.a, RAX);
		break;
	case WASM_IOP_i32_rotl2_xor:
		ld(j, false, RAX, pc[1].r.b);
		ins(j, 0, false, 0xc1, 0, R(RAX), false);
		b1(j, (uint8_t)(pc[2].r.a & 31));
		ld(j, false, RCX, pc[2].r.b);
		ins(j, 0, false, 0xc1, 0, R(RCX), false);
		b1(j, (uint8_t)(pc[3].u & 31));
		ins(j, 0, false, 0x33, RAX, R(RCX), false);
		st(j, pc[1].r.a, RAX);
		break;
	default:
		emit_slow(j, pc, len);
		break;
	}
}

/* ---- functions ---- */

static void emit_prologue(struct jit *j)
{
	const struct wasm_code *code = j->code;
	push_reg(j, RBP);
	push_reg(j, RBX);
	push_reg(j, R12);
	push_reg(j, R13);
	push_reg(j, R14);
	push_reg(j, R15);
	alu_imm(j, true, 5, R(RSP), 8);
	ins(j, 0, true, 0x8b, FP, R(RDI), false);
	ins(j, 0, true, 0x89, RSI, M(RSP, 0), false);
	fuel_load(j);
	reload_mem(j);
	uint32_t nzero = code->nlocals - code->nparams;
	if (nzero > 16) {
		ins(j, 0, true, 0x8d, RDI, M(FP, (int32_t)(code->nparams * 8)), false);
		mov_imm(j, RCX, nzero);
		ins(j, 0, false, 0x33, RAX, R(RAX), false);
		b1(j, 0xf3);
		b1(j, 0x48);
		b1(j, 0xab); /* rep stosq */
	} else if (nzero) {
		ins(j, 0, false, 0x33, RAX, R(RAX), false);
		for (uint32_t i = code->nparams; i < code->nlocals; i++)
			ins(j, 0, true, 0x89, RAX, M(FP, (int32_t)(i * 8)), false);
	}
	for (int i = 0; i < j->ncached; i++) {
		uint32_t s = j->cslot[i];
		if (s < code->nparams)
			ins(j, 0, true, 0x8b, j->reg_of[s], M(FP, (int32_t)(s * 8)), false);
		else if (s < code->nlocals)
			ins(j, 0, false, 0x33, j->reg_of[s], R(j->reg_of[s]), false);
	}
}

static void emit_body(struct jit *j)
{
	for (uint32_t t = 0; t < NTRAPS; t++)
		j->trap_at[t] = UINT32_MAX;
	j->nfx = 0;
	j->nchecked = 0;
	emit_prologue(j);
	uint32_t insn = 0;
	for (size_t i = 0; i < j->ncells && !j->fail; insn++) {
		int op = j->ops[i] - 1;
		size_t len = insn_len(op, &j->cells[i]);
		j->at[i] = (uint32_t)j->n;
		j->insn = insn;
		if (j->is_target[i])
			j->nchecked = 0;
		emit_insn(j, op, &j->cells[i], i, len);
		i += len;
	}
	/* trap stubs */
	for (size_t f = 0; f < j->nfx && !j->fail; f++) {
		if (j->fx[f].kind != FIX_TRAP || j->trap_at[j->fx[f].target] != UINT32_MAX)
			continue;
		j->trap_at[j->fx[f].target] = (uint32_t)j->n;
		fuel_save(j);
		mov_imm(j, RDI, (uint64_t)(uintptr_t)j->m->store);
		mov_imm(j, RSI, j->fx[f].target);
		call_abs(j, (const void *)wasm_jit_rt_trap);
	}
}

/* The first pass: find the instructions, count slot uses, find loops. */
static bool scan(struct jit *j)
{
	memset(j->ops, 0, j->ncells * sizeof(*j->ops));
	for (size_t i = 0; i < j->ncells;) {
		int op = op_of(j->cells[i].h);
		size_t len = op < 0 ? 0 : insn_len(op, &j->cells[i]);
		if (!len || len > j->ncells - i)
			return false;
		j->ops[i] = (uint16_t)(op + 1);
		i += len;
	}
	return true;
}

/* The slots worth a register: uses, weighted 8x per loop level around them. */
static void choose_cached(struct jit *j, uint32_t ninsn)
{
	uint32_t *depth = calloc((size_t)ninsn + 1, sizeof(*depth));
	uint64_t *weight = calloc(j->nslots ? j->nslots : 1, sizeof(*weight));
	uint32_t *insn_of = calloc(j->ncells + 1, sizeof(*insn_of));
	if (!depth || !weight || !insn_of) {
		free(depth);
		free(weight);
		free(insn_of);
		return;
	}
	uint32_t n = 0;
	for (size_t i = 0; i < j->ncells; i++)
		if (j->ops[i])
			insn_of[i] = n++;
	int64_t *diff = (int64_t *)calloc((size_t)ninsn + 2, sizeof(*diff));
	if (diff) {
		for (size_t b = 0; b < j->nback; b++) {
			diff[insn_of[j->back_to[b]]]++;
			diff[j->back_from[b] + 1]--;
		}
		int64_t cur = 0;
		for (uint32_t i = 0; i < ninsn; i++) {
			cur += diff[i];
			depth[i] = (uint32_t)(cur < 0 ? 0 : cur);
		}
		free(diff);
	}
	for (size_t r = 0; r < j->nrefs; r++) {
		uint32_t s = j->refs[r].slot, dep = depth[j->refs[r].insn];
		if (s < j->nslots)
			weight[s] += (uint64_t)1 << (3 * (dep > 6 ? 6 : dep));
	}
	for (int k = 0; k < NCACHE; k++) {
		uint64_t best = 1;
		uint32_t bs = UINT32_MAX;
		for (size_t r = 0; r < j->nrefs; r++) {
			uint32_t s = j->refs[r].slot;
			if (s < j->nslots && weight[s] > best) {
				best = weight[s];
				bs = s;
			}
		}
		if (bs == UINT32_MAX)
			break;
		weight[bs] = 0;
		j->cslot[j->ncached] = bs;
		j->reg_of[bs] = (int8_t)cache_regs[j->ncached];
		j->ncached++;
	}
	free(depth);
	free(weight);
	free(insn_of);
}

static bool resolve(struct jit *j, size_t start)
{
	for (size_t f = 0; f < j->nfx; f++) {
		struct fixup *x = &j->fx[f];
		uint32_t to;
		if (x->kind == FIX_TRAP) {
			to = j->trap_at[x->target];
		} else {
			if (x->target >= j->ncells || j->at[x->target] == UINT32_MAX)
				return false;
			to = j->at[x->target];
		}
		int32_t rel = (int32_t)((int64_t)to - (x->kind == FIX_TABLE ? x->base : x->at + 4));
		memcpy(&j->buf[x->at], &rel, 4);
	}
	(void)start;
	return true;
}

/* Compile one function at the end of the buffer; false leaves it to the interpreter. */
static bool compile_func(struct jit *j, struct wasm_code *code, uint32_t nresults, size_t *start)
{
	j->code = code;
	j->cells = code->cells;
	j->ncells = code->ncells;
	j->nresults = nresults;
	j->nslots = code->nslots;
	j->ncached = 0;
	j->nrefs = 0;
	j->nback = 0;
	size_t at_start = j->n, calls_start = j->ncalls;
	bool ok = false;
	j->at = malloc((j->ncells + 1) * sizeof(*j->at));
	j->ops = malloc((j->ncells + 1) * sizeof(*j->ops));
	j->reg_of = malloc(j->nslots ? j->nslots : 1);
	j->is_target = calloc(j->ncells + 1, 1);
	if (!j->at || !j->ops || !j->reg_of || !j->is_target || !j->ncells ||
	    code->nslots >= MAX_SLOT || !scan(j))
		goto out;
	memset(j->reg_of, -1, j->nslots);
	memset(j->at, 0xff, (j->ncells + 1) * sizeof(*j->at));
	/* pass 1: count uses without caching; then emit for real */
	j->counting = true;
	emit_body(j);
	j->counting = false;
	if (j->fail)
		goto out;
	uint32_t ninsn = 0;
	for (size_t i = 0; i < j->ncells; i++)
		ninsn += j->ops[i] != 0;
	choose_cached(j, ninsn);
	j->n = at_start;
	memset(j->at, 0xff, (j->ncells + 1) * sizeof(*j->at));
	emit_body(j);
	/* offsets in the buffer are 32-bit */
	if (!j->fail && j->n < INT32_MAX && resolve(j, at_start))
		ok = true;
out:
	if (!ok) {
		j->n = at_start;
		j->ncalls = calls_start;
		j->fail = false;
	}
	*start = at_start;
	free(j->at);
	free(j->ops);
	free(j->reg_of);
	free(j->is_target);
	j->is_target = NULL;
	j->at = NULL;
	j->ops = NULL;
	j->reg_of = NULL;
	return ok;
}

/*
 * Point each direct call at its callee's code, or at a thunk that runs the callee in the
 * interpreter (called like machine code: rdi the frame, rsi the instance).
 */
static void patch_calls(struct jit *j, const bool *done, size_t *starts, uint32_t ndef)
{
	size_t *thunk = calloc(ndef, sizeof(*thunk));
	if (!thunk) {
		j->fail = true;
		return;
	}
	for (size_t c = 0; c < j->ncalls && !j->fail; c++) {
		uint32_t callee = j->calls[c].callee;
		if (done[callee] || thunk[callee])
			continue;
		thunk[callee] = j->n;
		alu_imm(j, true, 5, R(RSP), 8);
		ins(j, 0, true, 0x8b, RDX, R(RDI), false);
		ins(j, 0, true, 0x8b, RDI, R(RSI), false);
		mov_imm(j, RSI, callee + j->m->nfunc_imports);
		call_abs(j, (const void *)wasm_jit_rt_call_interp);
		alu_imm(j, true, 0, R(RSP), 8);
		b1(j, 0xc3);
	}
	for (size_t c = 0; c < j->ncalls && !j->fail; c++) {
		uint32_t callee = j->calls[c].callee, at = j->calls[c].at;
		size_t to = done[callee] ? starts[callee] : thunk[callee];
		int32_t rel = (int32_t)((int64_t)to - (int64_t)(at + 4));
		memcpy(&j->buf[at], &rel, 4);
	}
	free(thunk);
}

void wasm_jit_free_module(struct wasm_module *m)
{
	struct wasm_jit_module *jm = m->jit;
	if (!jm)
		return;
	if (jm->code)
		munmap(jm->code, jm->len);
	for (size_t i = 0; i < jm->nstubs; i++)
		free(jm->stubs[i]);
	free(jm->stubs);
	free(jm);
	m->jit = NULL;
}

int wasm_jit_compile_module(struct wasm_module *m)
{
	pthread_once(&jit_once, jit_init);
	uint32_t ndef = m->nfuncs - m->nfunc_imports;
	if (!ndef)
		return 0;
	struct wasm_jit_module *jm = calloc(1, sizeof(*jm));
	size_t *starts = calloc(ndef, sizeof(*starts));
	bool *done = calloc(ndef, sizeof(*done));
	struct jit j = {.m = m, .jm = jm, .has_mem = m->nmems > 0};
	if (!jm || !starts || !done) {
		free(jm);
		free(starts);
		free(done);
		return -ENOMEM;
	}
	m->jit = jm;
	for (uint32_t i = 0; i < ndef; i++) {
		const struct wasm_functype *ft = &m->types[m->func_type[m->nfunc_imports + i]];
		/* the mixed mode of the tests: calls between machine code and the interpreter */
		if (m->store->jit_mixed && (i & 1))
			continue;
		done[i] = compile_func(&j, &m->codes[i], ft->nresults, &starts[i]);
	}
	patch_calls(&j, done, starts, ndef);
	int rc = 0;
	if (j.fail)
		rc = -ENOMEM;
	else if (j.n) {
		size_t len = (j.n + 4095) & ~(size_t)4095;
		void *p =
		    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			rc = -ENOMEM;
		} else {
			memcpy(p, j.buf, j.n);
			if (mprotect(p, len, PROT_READ | PROT_EXEC)) {
				munmap(p, len);
				rc = -errno;
			} else {
				jm->code = p;
				jm->len = len;
				for (uint32_t i = 0; i < ndef; i++)
					if (done[i])
						m->codes[i].jit =
						    (void (*)(uint64_t *, struct wasm_instance *))(
							void *)(jm->code + starts[i]);
			}
		}
	}
	const char *dump = getenv("VESSEL_WASM_JIT_DUMP");
	if (dump && j.n) {
		FILE *f = fopen(dump, "wb");
		if (f) {
			fwrite(j.buf, 1, j.n, f);
			fclose(f);
		}
	}
	free(j.buf);
	free(j.fx);
	free(j.refs);
	free(j.back_from);
	free(j.back_to);
	free(j.calls);
	free(starts);
	free(done);
	return rc;
}

#else /* not x86-64 Linux: everything stays interpreted */

bool wasm_jit_supported(void)
{
	return false;
}

int wasm_jit_compile_module(struct wasm_module *m)
{
	(void)m;
	return 0;
}

void wasm_jit_free_module(struct wasm_module *m)
{
	(void)m;
}

#endif
