/* SPDX-License-Identifier: MIT */
/*
 * The interpreter: threaded code with computed goto.  Each handler reads its
 * operand slots relative to the frame pointer, writes its result slot and
 * jumps to the next handler.  Calls do not recurse on the host stack: frames
 * are records in the store and the value stack is one array, so exhaustion
 * is a trap.  The bytes and size of memory 0 stay in locals, reloaded after
 * anything that may change them (calls, returns, memory.grow).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasm/interp.h"
#include "wasm/jit.h"

static inline float f32_of(uint64_t v)
{
	uint32_t u = (uint32_t)v;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static inline uint64_t f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static inline double f64_of(uint64_t v)
{
	double d;
	memcpy(&d, &v, 8);
	return d;
}

static inline uint64_t f64_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}

/* min/max: NaN in gives NaN out (quieted), and -0 is smaller than +0. */
static inline float wasm_fminf(float a, float b)
{
	if (isnan(a) || isnan(b))
		return a + b;
	if (a == b)
		return signbit(a) ? a : b;
	return a < b ? a : b;
}

static inline float wasm_fmaxf(float a, float b)
{
	if (isnan(a) || isnan(b))
		return a + b;
	if (a == b)
		return signbit(a) ? b : a;
	return a > b ? a : b;
}

static inline double wasm_fmin(double a, double b)
{
	if (isnan(a) || isnan(b))
		return a + b;
	if (a == b)
		return signbit(a) ? a : b;
	return a < b ? a : b;
}

static inline double wasm_fmax(double a, double b)
{
	if (isnan(a) || isnan(b))
		return a + b;
	if (a == b)
		return signbit(a) ? b : a;
	return a > b ? a : b;
}

/* Rounding functions of libm may return a signalling NaN as it came; wasm wants it quieted. */
static inline float quiet_f32(float x, float r)
{
	return isnan(x) ? x + x : r;
}

static inline double quiet_f64(double x, double r)
{
	return isnan(x) ? x + x : r;
}

static inline uint32_t rotl32(uint32_t x, uint32_t n)
{
	n &= 31;
	return (x << n) | (x >> ((32 - n) & 31));
}

static inline uint32_t rotr32(uint32_t x, uint32_t n)
{
	n &= 31;
	return (x >> n) | (x << ((32 - n) & 31));
}

static inline uint64_t rotl64(uint64_t x, uint64_t n)
{
	n &= 63;
	return (x << n) | (x >> ((64 - n) & 63));
}

static inline uint64_t rotr64(uint64_t x, uint64_t n)
{
	n &= 63;
	return (x >> n) | (x << ((64 - n) & 63));
}

/* Saturating truncations: NaN is 0, out-of-range values clamp. */
static int32_t sat_i32(double x)
{
	if (isnan(x))
		return 0;
	if (x <= -2147483649.0)
		return INT32_MIN;
	if (x >= 2147483648.0)
		return INT32_MAX;
	return (int32_t)x;
}

static uint32_t sat_u32(double x)
{
	if (isnan(x) || x <= -1.0)
		return 0;
	if (x >= 4294967296.0)
		return UINT32_MAX;
	return (uint32_t)x;
}

static int64_t sat_i64(double x)
{
	if (isnan(x))
		return 0;
	if (x < -9223372036854775808.0)
		return INT64_MIN;
	if (x >= 9223372036854775808.0)
		return INT64_MAX;
	return (int64_t)x;
}

static uint64_t sat_u64(double x)
{
	if (isnan(x) || x <= -1.0)
		return 0;
	if (x >= 18446744073709551616.0)
		return UINT64_MAX;
	return (uint64_t)x;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Hand out the next slice of fuel; 0 when the limit has been reached. */
int64_t wasm_fuel_refill(struct wasm_store *s)
{
	if (s->deadline_ns && now_ns() >= s->deadline_ns)
		return 0;
	uint64_t chunk = s->deadline_ns ? (1u << 16) : (1u << 30);
	if (chunk > s->fuel_left)
		chunk = s->fuel_left;
	s->fuel_left -= chunk;
	return (int64_t)chunk;
}

void wasm_fuel_return(struct wasm_store *s, int64_t budget)
{
	if (budget > 0 && s->fuel_left != UINT64_MAX)
		s->fuel_left += (uint64_t)budget;
}

/* A host function called from code (or from the API): slots in, slots out. */
enum wasm_trap wasm_host_call(struct wasm_store *s, struct wasm_func *f, uint64_t *slots,
			      struct wasm_instance *caller)
{
	const struct wasm_functype *t = f->type;
	struct wasm_val small[16], *vals = small;
	uint32_t n = t->nparams + t->nresults;
	if (n > 16) {
		vals = calloc(n, sizeof(*vals));
		if (!vals) {
			wasm_set_trap(s, WASM_TRAP_HOST, "out of memory calling a host function");
			return WASM_TRAP_HOST;
		}
	}
	struct wasm_val *args = vals, *results = vals + t->nparams;
	for (uint32_t i = 0; i < t->nparams; i++) {
		args[i].type = t->params[i];
		args[i].i64 = slots[i];
	}
	for (uint32_t i = 0; i < t->nresults; i++) {
		results[i].type = t->results[i];
		results[i].i64 = 0;
	}
	struct wasm_call call = {.store = s, .inst = caller};
	uint64_t *saved_top = s->stack_top;
	uint32_t used = t->nparams > t->nresults ? t->nparams : t->nresults;
	s->stack_top = slots + used;
	enum wasm_trap trap = f->host(&call, f->ctx, args, results);
	s->stack_top = saved_top;
	for (uint32_t i = 0; trap == WASM_OK && i < t->nresults; i++) {
		bool narrow = t->results[i] == WASM_I32 || t->results[i] == WASM_F32;
		slots[i] = narrow ? results[i].i32 : results[i].i64;
	}
	if (vals != small)
		free(vals);
	if (trap != WASM_OK && !s->trap_msg[0])
		wasm_set_trap(s, trap, "%s", wasm_trap_name(trap));
	return trap;
}

#ifdef WASM_PROFILE_PAIRS
/* Development aid: counts executed pairs of internal instructions, printed at exit. */
#include <stdio.h>
static const void *const *prof_table;
static uint64_t prof_pairs[WASM_IOP_COUNT][WASM_IOP_COUNT];
static unsigned prof_prev;
static const char *const prof_names[WASM_IOP_COUNT] = {
#define WASM_X(n)  #n,
#define WASM_XB(n) #n "_ss", #n "_si",
#define WASM_XC(n) "br_" #n "_ss", "br_" #n "_si",
#define WASM_XM(n) #n, #n "_a", #n "_x", #n "_s", #n "_p",
    WASM_OPS_MISC(WASM_X) WASM_OPS_MEM(WASM_XM) WASM_OPS_UNARY(WASM_X) WASM_OPS_BINARY(WASM_XB)
	WASM_OPS_CMPBR(WASM_XC)
#undef WASM_X
#undef WASM_XB
#undef WASM_XC
#undef WASM_XM
};
static void prof_note(const void *h)
{
	static const void *keys[4096];
	static unsigned vals[4096];
	unsigned k = (unsigned)(((uintptr_t)h >> 2) * 2654435761u) & 4095;
	while (keys[k] != h) {
		if (!keys[k]) {
			unsigned i = 0;
			while (prof_table[i] != h)
				i++;
			keys[k] = h;
			vals[k] = i;
			break;
		}
		k = (k + 1) & 4095;
	}
	prof_pairs[prof_prev][vals[k]]++;
	prof_prev = vals[k];
}
__attribute__((destructor)) static void prof_dump(void)
{
	for (unsigned a = 0; a < WASM_IOP_COUNT; a++)
		for (unsigned b = 0; b < WASM_IOP_COUNT; b++)
			if (prof_pairs[a][b])
				fprintf(stderr, "pair %llu %s %s\n",
					(unsigned long long)prof_pairs[a][b], prof_names[a],
					prof_names[b]);
}
#define NEXT()                                                                                     \
	do {                                                                                       \
		prof_note(pc->h);                                                                  \
		goto * pc->h;                                                                      \
	} while (0)
#else
#define NEXT() goto * pc->h
#endif
#define TRAP(t)                                                                                    \
	do {                                                                                       \
		trap = (t);                                                                        \
		goto trapped;                                                                      \
	} while (0)
#define D  (pc[1].r.a)
#define OA (pc[1].r.b)
#define RELOAD()                                                                                   \
	do {                                                                                       \
		struct wasm_memory *m0_ = inst->mem0;                                              \
		mem = m0_ ? m0_->data : NULL;                                                      \
		memsize = m0_ ? m0_->size : 0;                                                     \
	} while (0)

/*
 * Take the branch whose offset is in cell k.  A backward branch is a loop's back-edge: it
 * lands just after the loop instruction and pays that instruction's fuel cost (pc[-1]).
 */
#define JUMP(k)                                                                                    \
	do {                                                                                       \
		int64_t off_ = pc[k].s;                                                            \
		pc = &pc[k] + off_;                                                                \
		if (off_ < 0) {                                                                    \
			budget -= pc[-1].s;                                                        \
			if (budget < 0) {                                                          \
				int64_t more_ = wasm_fuel_refill(s);                               \
				if (more_ <= 0)                                                    \
					TRAP(WASM_TRAP_FUEL);                                      \
				budget += more_;                                                   \
			}                                                                          \
		}                                                                                  \
	} while (0)

/* Binary operators in both forms: [d|a][b slot] and [d|a][immediate]. */
#define BINX(name, decl, result)                                                                   \
	L_##name##_ss:                                                                             \
	{                                                                                          \
		uint64_t ra = fp[OA], rb = fp[pc[2].u];                                            \
		decl;                                                                              \
		fp[D] = (result);                                                                  \
		pc += 3;                                                                           \
		NEXT();                                                                            \
	}                                                                                          \
	L_##name##_si:                                                                             \
	{                                                                                          \
		uint64_t ra = fp[OA], rb = pc[2].u;                                                \
		decl;                                                                              \
		fp[D] = (result);                                                                  \
		pc += 3;                                                                           \
		NEXT();                                                                            \
	}
#define I32B(name, expr)                                                                           \
	BINX(name, uint32_t x = (uint32_t)ra; uint32_t y = (uint32_t)rb, (uint32_t)(expr))
#define S32B(name, expr)                                                                           \
	BINX(name, int32_t x = (int32_t)ra; int32_t y = (int32_t)rb, (uint32_t)(expr))
#define I64B(name, expr) BINX(name, uint64_t x = ra; uint64_t y = rb, (uint64_t)(expr))
#define S64B(name, expr)                                                                           \
	BINX(name, int64_t x = (int64_t)ra; int64_t y = (int64_t)rb, (uint64_t)(expr))
#define F32B(name, expr) BINX(name, float x = f32_of(ra); float y = f32_of(rb), f32_bits(expr))
#define F32C(name, expr) BINX(name, float x = f32_of(ra); float y = f32_of(rb), (uint64_t)(expr))
#define F64B(name, expr) BINX(name, double x = f64_of(ra); double y = f64_of(rb), f64_bits(expr))
#define F64C(name, expr) BINX(name, double x = f64_of(ra); double y = f64_of(rb), (uint64_t)(expr))

/* i32 compare-and-branch: [a|b][offset] and [a|-][imm][offset]. */
#define CMPBR(name, T, op)                                                                         \
	L_br_##name##_ss:                                                                          \
	{                                                                                          \
		if ((T)fp[pc[1].r.a] op(T) fp[pc[1].r.b])                                          \
			JUMP(2);                                                                   \
		else                                                                               \
			pc += 3;                                                                   \
		NEXT();                                                                            \
	}                                                                                          \
	L_br_##name##_si:                                                                          \
	{                                                                                          \
		if ((T)fp[pc[1].r.a] op(T) pc[2].u)                                                \
			JUMP(3);                                                                   \
		else                                                                               \
			pc += 4;                                                                   \
		NEXT();                                                                            \
	}

#define UN(name, decl, result)                                                                     \
	L_##name:                                                                                  \
	{                                                                                          \
		uint64_t ra = fp[OA];                                                              \
		decl;                                                                              \
		fp[D] = (result);                                                                  \
		pc += 2;                                                                           \
		NEXT();                                                                            \
	}
#define F32U(name, expr) UN(name, float x = f32_of(ra), f32_bits(expr))
#define F64U(name, expr) UN(name, double x = f64_of(ra), f64_bits(expr))

/* Trapping float-to-int: NaN, then the open range (lo, hi). */
#define TRUNC(name, FT, of, lo, hi, IT, UT)                                                        \
	L_##name:                                                                                  \
	{                                                                                          \
		FT x = of(fp[OA]);                                                                 \
		if (isnan(x))                                                                      \
			TRAP(WASM_TRAP_BAD_CONVERSION);                                            \
		if (!(x > (lo) && x < (hi)))                                                       \
			TRAP(WASM_TRAP_INT_OVERFLOW);                                              \
		fp[D] = (UT)(IT)x;                                                                 \
		pc += 2;                                                                           \
		NEXT();                                                                            \
	}

#define LOAD_AT(label, T, conv, ea_expr, cells)                                                    \
	label : {                                                                                  \
		uint64_t ea = (ea_expr);                                                           \
		if (ea + sizeof(T) > memsize)                                                      \
			TRAP(WASM_TRAP_MEMORY_OOB);                                                \
		T v;                                                                               \
		memcpy(&v, mem + ea, sizeof(T));                                                   \
		fp[D] = (conv);                                                                    \
		pc += (cells);                                                                     \
		NEXT();                                                                            \
	}
/* the address of an _x form: base + (index << shift), wrapped to 32 bits */
#define EA_X(base)                                                                                 \
	((uint64_t)(uint32_t)((base) + ((uint32_t)fp[pc[2].r.a] << (pc[2].r.b & 31))) + pc[3].u)
/* the address of an _s form: (index << shift) + imm, wrapped to 32 bits */
#define EA_S(index)                                                                                \
	((uint64_t)(uint32_t)(((uint32_t)(index) << (pc[2].r.b & 31)) + pc[2].r.a) + pc[3].u)
/* the address of a _p form: local x advanced by an immediate first, plus the offset */
#define EA_P(x)                                                                                    \
	({                                                                                         \
		uint32_t x_ = (uint32_t)(fp[pc[2].r.a] + pc[2].r.b);                               \
		fp[x] = x_;                                                                        \
		(uint64_t) x_ + pc[3].u;                                                           \
	})
#define LOAD(name, T, conv)                                                                        \
	LOAD_AT(L_##name, T, conv, (uint64_t)(uint32_t)fp[OA] + pc[2].u, 3)                        \
	LOAD_AT(L_##name##_a, T, conv, (uint64_t)(uint32_t)(fp[OA] + pc[2].r.a) + pc[2].r.b, 3)    \
	LOAD_AT(L_##name##_x, T, conv, EA_X(fp[OA]), 4)                                            \
	LOAD_AT(L_##name##_s, T, conv, EA_S(fp[OA]), 4)                                            \
	LOAD_AT(L_##name##_p, T, conv, EA_P(OA), 4)

#define STORE_AT(label, T, ea_expr, cells)                                                         \
	label : {                                                                                  \
		uint64_t ea = (ea_expr);                                                           \
		if (ea + sizeof(T) > memsize)                                                      \
			TRAP(WASM_TRAP_MEMORY_OOB);                                                \
		T v = (T)fp[pc[1].r.b];                                                            \
		memcpy(mem + ea, &v, sizeof(T));                                                   \
		pc += (cells);                                                                     \
		NEXT();                                                                            \
	}
#define STORE(name, T)                                                                             \
	STORE_AT(L_##name, T, (uint64_t)(uint32_t)fp[pc[1].r.a] + pc[2].u, 3)                      \
	STORE_AT(L_##name##_a, T, (uint64_t)(uint32_t)(fp[pc[1].r.a] + pc[2].r.a) + pc[2].r.b, 3)  \
	STORE_AT(L_##name##_x, T, EA_X(fp[pc[1].r.a]), 4)                                          \
	STORE_AT(L_##name##_s, T, EA_S(fp[pc[1].r.a]), 4)                                          \
	STORE_AT(L_##name##_p, T, EA_P(pc[1].r.a), 4)

static bool range_ok(uint64_t start, uint64_t len, uint64_t size)
{
	return start + len <= size;
}

/*
 * Run f with its arguments in sp[0..]; results are left in sp[0..].  With
 * labels != NULL only hands out the handler table (for the translator).  With
 * budget_io != NULL the fuel comes from (and goes back to) the caller's budget:
 * machine code calling in (jit_rt.c).
 */
static enum wasm_trap interp_run(struct wasm_store *s, struct wasm_func *f, uint64_t *sp,
				 const void *const **labels, int64_t *budget_io)
{
#define WASM_X(n)  &&L_##n,
#define WASM_XB(n) &&L_##n##_ss, &&L_##n##_si,
#define WASM_XC(n) &&L_br_##n##_ss, &&L_br_##n##_si,
#define WASM_XM(n) &&L_##n, &&L_##n##_a, &&L_##n##_x, &&L_##n##_s, &&L_##n##_p,
	static const void *const table[WASM_IOP_COUNT] = {WASM_OPS_MISC(WASM_X) WASM_OPS_MEM(
	    WASM_XM) WASM_OPS_UNARY(WASM_X) WASM_OPS_BINARY(WASM_XB) WASM_OPS_CMPBR(WASM_XC)};
#undef WASM_X
#undef WASM_XB
#undef WASM_XC
#undef WASM_XM
	if (labels) {
#ifdef WASM_PROFILE_PAIRS
		prof_table = table;
#endif
		*labels = table;
		return WASM_OK;
	}
	enum wasm_trap trap = WASM_OK;
	uint32_t entry_depth = s->depth;
	uint64_t *stack_end = s->stack + WASM_STACK_SLOTS;
	struct wasm_instance *inst = f->inst;
	const union wasm_cell *pc = NULL, *retpc = NULL;
	uint64_t *fp = sp, *newfp = sp;
	uint8_t *mem;
	uint64_t memsize;
	int64_t budget = budget_io ? *budget_io : wasm_fuel_refill(s);
	if (budget <= 0 && !budget_io)
		TRAP(WASM_TRAP_FUEL);
	RELOAD();
	goto enter;

do_call:
	if (--budget < 0) {
		int64_t more = wasm_fuel_refill(s);
		if (more <= 0)
			TRAP(WASM_TRAP_FUEL);
		budget += more;
	}
	if (f->host || f->code->jit) {
		if (f->host)
			trap = wasm_host_call(s, f, newfp, inst);
		else
			trap = wasm_jit_run(s, f, newfp, &budget);
		if (trap != WASM_OK)
			goto trapped;
		RELOAD();
		pc = retpc;
		NEXT();
	}
	if (s->depth >= WASM_MAX_CALL_DEPTH)
		TRAP(WASM_TRAP_STACK_EXHAUSTED);
	s->frames[s->depth].pc = retpc;
	s->frames[s->depth].fp = fp;
	s->frames[s->depth].inst = inst;
	s->depth++;
	fp = newfp;
	if (inst != f->inst) {
		inst = f->inst;
		RELOAD();
	}
enter : {
	const struct wasm_code *code = f->code;
	if ((size_t)(stack_end - fp) < code->nslots)
		TRAP(WASM_TRAP_STACK_EXHAUSTED);
	memset(fp + code->nparams, 0, (code->nlocals - code->nparams) * sizeof(*fp));
	pc = code->cells;
	NEXT();
}

L_ret:
	if (s->depth == entry_depth) {
		if (budget_io)
			*budget_io = budget;
		else
			wasm_fuel_return(s, budget);
		return WASM_OK;
	}
	s->depth--;
	pc = s->frames[s->depth].pc;
	fp = s->frames[s->depth].fp;
	inst = s->frames[s->depth].inst;
	RELOAD();
	NEXT();

L_call:
	f = inst->funcs[pc[1].r.a];
	newfp = fp + pc[1].r.b;
	retpc = pc + 2;
	goto do_call;

L_call_indirect : {
	struct wasm_table *t = inst->tables[pc[2].r.a];
	uint32_t i = (uint32_t)fp[pc[2].r.b];
	if (i >= t->size)
		TRAP(WASM_TRAP_UNDEFINED_ELEM);
	f = t->elems[i];
	if (!f)
		TRAP(WASM_TRAP_UNINIT_ELEM);
	const struct wasm_functype *want = &inst->module->types[pc[1].r.a];
	if (f->type != want && !wasm_functype_eq(f->type, want))
		TRAP(WASM_TRAP_INDIRECT_TYPE);
	newfp = fp + pc[1].r.b;
	retpc = pc + 3;
	goto do_call;
}

L_unreachable:
	TRAP(WASM_TRAP_UNREACHABLE);
L_br:
	JUMP(1);
	NEXT();
L_br_if:
	if ((uint32_t)fp[pc[1].r.a])
		JUMP(2);
	else
		pc += 3;
	NEXT();
L_br_unless:
	if (!(uint32_t)fp[pc[1].r.a])
		JUMP(2);
	else
		pc += 3;
	NEXT();
L_br_table : {
	uint32_t i = (uint32_t)fp[pc[1].r.a];
	if (i > pc[1].r.b)
		i = pc[1].r.b;
	JUMP(2 + i);
	NEXT();
}
	/* br_table on an index loaded from memory: [a|count][imm|offset][targets...] */
L_br_table_ld32 : {
	uint64_t ea = (uint64_t)(uint32_t)(fp[pc[1].r.a] + pc[2].r.a) + pc[2].r.b;
	if (ea + 4 > memsize)
		TRAP(WASM_TRAP_MEMORY_OOB);
	uint32_t i;
	memcpy(&i, mem + ea, 4);
	if (i > pc[1].r.b)
		i = pc[1].r.b;
	JUMP(3 + i);
	NEXT();
}
L_br_table_ld8 : {
	uint64_t ea = (uint64_t)(uint32_t)(fp[pc[1].r.a] + pc[2].r.a) + pc[2].r.b;
	if (ea + 1 > memsize)
		TRAP(WASM_TRAP_MEMORY_OOB);
	uint32_t i = mem[ea];
	if (i > pc[1].r.b)
		i = pc[1].r.b;
	JUMP(3 + i);
	NEXT();
}
L_loop:
	budget -= pc[1].s;
	if (budget < 0) {
		int64_t more = wasm_fuel_refill(s);
		if (more <= 0)
			TRAP(WASM_TRAP_FUEL);
		budget += more;
	}
	pc += 2;
	NEXT();
L_copy:
	fp[D] = fp[OA];
	pc += 2;
	NEXT();
L_copy2:
	fp[D] = fp[OA];
	fp[pc[2].r.a] = fp[pc[2].r.b];
	pc += 3;
	NEXT();
L_copy3:
	fp[D] = fp[OA];
	fp[pc[2].r.a] = fp[pc[2].r.b];
	fp[pc[3].r.a] = fp[pc[3].r.b];
	pc += 4;
	NEXT();
L_copy4:
	fp[D] = fp[OA];
	fp[pc[2].r.a] = fp[pc[2].r.b];
	fp[pc[3].r.a] = fp[pc[3].r.b];
	fp[pc[4].r.a] = fp[pc[4].r.b];
	pc += 5;
	NEXT();
L_const:
	fp[D] = pc[2].u;
	pc += 3;
	NEXT();
L_select:
	fp[D] = (uint32_t)fp[pc[2].r.b] ? fp[OA] : fp[pc[2].r.a];
	pc += 3;
	NEXT();
L_global_get:
	fp[D] = inst->globals[OA]->val.i64;
	pc += 2;
	NEXT();
L_global_set:
	inst->globals[OA]->val.i64 = fp[pc[1].r.a];
	pc += 2;
	NEXT();
	/* C17 (not GNU) mode keeps floating-point contraction off: the product is rounded */
L_f32_muladd : {
	float p = f32_of(fp[OA]) * f32_of(fp[pc[2].r.a]);
	fp[D] = f32_bits(p + f32_of(fp[pc[2].r.b]));
	pc += 3;
	NEXT();
}
L_f64_muladd : {
	double p = f64_of(fp[OA]) * f64_of(fp[pc[2].r.a]);
	fp[D] = f64_bits(p + f64_of(fp[pc[2].r.b]));
	pc += 3;
	NEXT();
}
	/* a multiply-add whose addend comes from memory: [d|x][y|a][offset] */
L_f32_muladd_ld : {
	float p = f32_of(fp[OA]) * f32_of(fp[pc[2].r.a]);
	uint64_t ea = (uint64_t)(uint32_t)fp[pc[2].r.b] + pc[3].u;
	if (ea + 4 > memsize)
		TRAP(WASM_TRAP_MEMORY_OOB);
	uint32_t v;
	memcpy(&v, mem + ea, 4);
	fp[D] = f32_bits(p + f32_of(v));
	pc += 4;
	NEXT();
}
L_f64_muladd_ld : {
	double p = f64_of(fp[OA]) * f64_of(fp[pc[2].r.a]);
	uint64_t ea = (uint64_t)(uint32_t)fp[pc[2].r.b] + pc[3].u;
	if (ea + 8 > memsize)
		TRAP(WASM_TRAP_MEMORY_OOB);
	uint64_t v;
	memcpy(&v, mem + ea, 8);
	fp[D] = f64_bits(p + f64_of(v));
	pc += 4;
	NEXT();
}
L_i32_add3:
	fp[D] = (uint32_t)(fp[OA] + fp[pc[2].r.a] + fp[pc[2].r.b]);
	pc += 3;
	NEXT();
L_i32_add_si2:
	fp[pc[3].r.a] = (uint32_t)(fp[pc[3].r.b] + pc[4].u);
	fp[D] = (uint32_t)(fp[OA] + pc[2].u);
	pc += 5;
	NEXT();
	/* an add of a constant then br: [d|a][imm][offset] */
L_i32_add_si_br:
	fp[D] = (uint32_t)(fp[OA] + pc[2].u);
	JUMP(3);
	NEXT();
L_i64_add_si_br:
	fp[D] = fp[OA] + pc[2].u;
	JUMP(3);
	NEXT();
L_i32_xor3:
	fp[D] = (uint32_t)(fp[OA] ^ fp[pc[2].r.a] ^ fp[pc[2].r.b]);
	pc += 3;
	NEXT();
L_i32_rotl_xor:
	fp[D] = rotl32((uint32_t)fp[OA], pc[2].r.a) ^ (uint32_t)fp[pc[2].r.b];
	pc += 3;
	NEXT();
L_i32_rotl2_xor:
	fp[D] = rotl32((uint32_t)fp[OA], pc[2].r.a) ^
		rotl32((uint32_t)fp[pc[2].r.b], (uint32_t)pc[3].u);
	pc += 4;
	NEXT();
L_ref_is_null:
	fp[D] = fp[OA] == 0;
	pc += 2;
	NEXT();
L_ref_func:
	fp[D] = (uint64_t)(uintptr_t)inst->funcs[OA];
	pc += 2;
	NEXT();

L_table_get : {
	struct wasm_table *t = inst->tables[pc[2].u];
	uint32_t i = (uint32_t)fp[OA];
	if (i >= t->size)
		TRAP(WASM_TRAP_TABLE_OOB);
	fp[D] = (uint64_t)(uintptr_t)t->elems[i];
	pc += 3;
	NEXT();
}
L_table_set : {
	struct wasm_table *t = inst->tables[pc[2].u];
	uint32_t i = (uint32_t)fp[pc[1].r.a];
	if (i >= t->size)
		TRAP(WASM_TRAP_TABLE_OOB);
	t->elems[i] = (void *)(uintptr_t)fp[pc[1].r.b];
	pc += 3;
	NEXT();
}
L_table_size:
	fp[D] = inst->tables[OA]->size;
	pc += 2;
	NEXT();
L_table_grow : {
	struct wasm_table *t = inst->tables[pc[2].r.b];
	int64_t r = wasm_table_grow(t, (uint32_t)fp[pc[2].r.a], (void *)(uintptr_t)fp[OA]);
	fp[D] = (uint32_t)r;
	pc += 3;
	NEXT();
}
L_table_fill : {
	struct wasm_table *t = inst->tables[pc[2].r.b];
	uint32_t i = (uint32_t)fp[pc[1].r.a], n = (uint32_t)fp[pc[2].r.a];
	if (!range_ok(i, n, t->size))
		TRAP(WASM_TRAP_TABLE_OOB);
	for (uint32_t k = 0; k < n; k++)
		t->elems[i + k] = (void *)(uintptr_t)fp[pc[1].r.b];
	pc += 4;
	NEXT();
}
L_table_copy : {
	struct wasm_table *dt = inst->tables[pc[2].r.b], *st = inst->tables[pc[3].u];
	uint32_t d = (uint32_t)fp[pc[1].r.a], sidx = (uint32_t)fp[pc[1].r.b];
	uint32_t n = (uint32_t)fp[pc[2].r.a];
	if (!range_ok(d, n, dt->size) || !range_ok(sidx, n, st->size))
		TRAP(WASM_TRAP_TABLE_OOB);
	if (n)
		memmove(&dt->elems[d], &st->elems[sidx], (size_t)n * sizeof(void *));
	pc += 4;
	NEXT();
}
L_table_init : {
	struct wasm_table *t = inst->tables[pc[2].r.b];
	struct wasm_elem_inst *e = &inst->elems[pc[3].u];
	uint32_t d = (uint32_t)fp[pc[1].r.a], sidx = (uint32_t)fp[pc[1].r.b];
	uint32_t n = (uint32_t)fp[pc[2].r.a];
	if (!range_ok(sidx, n, e->n) || !range_ok(d, n, t->size))
		TRAP(WASM_TRAP_TABLE_OOB);
	if (n)
		memcpy(&t->elems[d], &e->refs[sidx], (size_t)n * sizeof(void *));
	pc += 4;
	NEXT();
}
L_elem_drop:
	inst->elems[pc[1].u].n = 0;
	pc += 2;
	NEXT();

L_memory_size:
	fp[D] = memsize / WASM_PAGE;
	pc += 2;
	NEXT();
L_memory_grow : {
	int64_t r = wasm_memory_grow_pages(inst->mem0, (uint32_t)fp[OA]);
	fp[D] = (uint32_t)r;
	RELOAD();
	pc += 2;
	NEXT();
}
L_memory_fill : {
	uint32_t d = (uint32_t)fp[pc[1].r.a], n = (uint32_t)fp[pc[2].r.a];
	if (!range_ok(d, n, memsize))
		TRAP(WASM_TRAP_MEMORY_OOB);
	memset(mem + d, (int)(uint8_t)fp[pc[1].r.b], n);
	pc += 4;
	NEXT();
}
L_memory_copy : {
	uint32_t d = (uint32_t)fp[pc[1].r.a], sidx = (uint32_t)fp[pc[1].r.b];
	uint32_t n = (uint32_t)fp[pc[2].r.a];
	if (!range_ok(d, n, memsize) || !range_ok(sidx, n, memsize))
		TRAP(WASM_TRAP_MEMORY_OOB);
	memmove(mem + d, mem + sidx, n);
	pc += 4;
	NEXT();
}
L_memory_init : {
	struct wasm_data_inst *seg = &inst->datas[pc[2].r.b];
	uint32_t d = (uint32_t)fp[pc[1].r.a], sidx = (uint32_t)fp[pc[1].r.b];
	uint32_t n = (uint32_t)fp[pc[2].r.a];
	if (!range_ok(sidx, n, seg->len) || !range_ok(d, n, memsize))
		TRAP(WASM_TRAP_MEMORY_OOB);
	if (n)
		memcpy(mem + d, seg->bytes + sidx, n);
	pc += 4;
	NEXT();
}
L_data_drop:
	inst->datas[pc[1].u].len = 0;
	pc += 2;
	NEXT();

	LOAD(ld8u, uint8_t, v)
	LOAD(ld8s32, int8_t, (uint32_t)(int32_t)v)
	LOAD(ld8s64, int8_t, (uint64_t)(int64_t)v)
	LOAD(ld16u, uint16_t, v)
	LOAD(ld16s32, int16_t, (uint32_t)(int32_t)v)
	LOAD(ld16s64, int16_t, (uint64_t)(int64_t)v)
	LOAD(ld32u, uint32_t, v)
	LOAD(ld32s64, int32_t, (uint64_t)(int64_t)v)
	LOAD(ld64, uint64_t, v)
	STORE(st8, uint8_t)
	STORE(st16, uint16_t)
	STORE(st32, uint32_t)
	STORE(st64, uint64_t)

	UN(i32_eqz, , (uint32_t)ra == 0)
	UN(i32_clz, uint32_t x = (uint32_t)ra, x ? (uint32_t)__builtin_clz(x) : 32)
	UN(i32_ctz, uint32_t x = (uint32_t)ra, x ? (uint32_t)__builtin_ctz(x) : 32)
	UN(i32_popcnt, , (uint32_t)__builtin_popcount((uint32_t)ra))
	UN(i64_eqz, , ra == 0)
	UN(i64_clz, , ra ? (uint64_t)__builtin_clzll(ra) : 64)
	UN(i64_ctz, , ra ? (uint64_t)__builtin_ctzll(ra) : 64)
	UN(i64_popcnt, , (uint64_t)__builtin_popcountll(ra))
	UN(f32_abs, , ra & 0x7fffffffu)
	UN(f32_neg, , (ra ^ 0x80000000u) & 0xffffffffu)
	F32U(f32_ceil, quiet_f32(x, ceilf(x)))
	F32U(f32_floor, quiet_f32(x, floorf(x)))
	F32U(f32_trunc, quiet_f32(x, truncf(x)))
	F32U(f32_nearest, quiet_f32(x, nearbyintf(x)))
	F32U(f32_sqrt, sqrtf(x))
	UN(f64_abs, , ra & 0x7fffffffffffffffull)
	UN(f64_neg, , ra ^ 0x8000000000000000ull)
	F64U(f64_ceil, quiet_f64(x, ceil(x)))
	F64U(f64_floor, quiet_f64(x, floor(x)))
	F64U(f64_trunc, quiet_f64(x, trunc(x)))
	F64U(f64_nearest, quiet_f64(x, nearbyint(x)))
	F64U(f64_sqrt, sqrt(x))
	UN(i32_wrap_i64, , (uint32_t)ra)
	TRUNC(i32_trunc_f32_s, float, f32_of, -2147483904.0f, 2147483648.0f, int32_t, uint32_t)
	TRUNC(i32_trunc_f32_u, float, f32_of, -1.0f, 4294967296.0f, uint32_t, uint32_t)
	TRUNC(i32_trunc_f64_s, double, f64_of, -2147483649.0, 2147483648.0, int32_t, uint32_t)
	TRUNC(i32_trunc_f64_u, double, f64_of, -1.0, 4294967296.0, uint32_t, uint32_t)
	UN(i64_extend_i32_s, , (uint64_t)(int64_t)(int32_t)ra)
	UN(i64_extend_i32_u, , (uint32_t)ra)
	TRUNC(i64_trunc_f32_s, float, f32_of, -9223373136366403584.0f, 9223372036854775808.0f,
	      int64_t, uint64_t)
	TRUNC(i64_trunc_f32_u, float, f32_of, -1.0f, 18446744073709551616.0f, uint64_t, uint64_t)
	TRUNC(i64_trunc_f64_s, double, f64_of, -9223372036854777856.0, 9223372036854775808.0,
	      int64_t, uint64_t)
	TRUNC(i64_trunc_f64_u, double, f64_of, -1.0, 18446744073709551616.0, uint64_t, uint64_t)
	UN(f32_convert_i32_s, , f32_bits((float)(int32_t)ra))
	UN(f32_convert_i32_u, , f32_bits((float)(uint32_t)ra))
	UN(f32_convert_i64_s, , f32_bits((float)(int64_t)ra))
	UN(f32_convert_i64_u, , f32_bits((float)ra))
	UN(f32_demote_f64, , f32_bits((float)f64_of(ra)))
	UN(f64_convert_i32_s, , f64_bits((double)(int32_t)ra))
	UN(f64_convert_i32_u, , f64_bits((double)(uint32_t)ra))
	UN(f64_convert_i64_s, , f64_bits((double)(int64_t)ra))
	UN(f64_convert_i64_u, , f64_bits((double)ra))
	UN(f64_promote_f32, , f64_bits((double)f32_of(ra)))
	UN(i32_extend8_s, , (uint32_t)(int32_t)(int8_t)ra)
	UN(i32_extend16_s, , (uint32_t)(int32_t)(int16_t)ra)
	UN(i64_extend8_s, , (uint64_t)(int64_t)(int8_t)ra)
	UN(i64_extend16_s, , (uint64_t)(int64_t)(int16_t)ra)
	UN(i64_extend32_s, , (uint64_t)(int64_t)(int32_t)ra)
	UN(i32_trunc_sat_f32_s, , (uint32_t)sat_i32(f32_of(ra)))
	UN(i32_trunc_sat_f32_u, , sat_u32(f32_of(ra)))
	UN(i32_trunc_sat_f64_s, , (uint32_t)sat_i32(f64_of(ra)))
	UN(i32_trunc_sat_f64_u, , sat_u32(f64_of(ra)))
	UN(i64_trunc_sat_f32_s, , (uint64_t)sat_i64(f32_of(ra)))
	UN(i64_trunc_sat_f32_u, , sat_u64(f32_of(ra)))
	UN(i64_trunc_sat_f64_s, , (uint64_t)sat_i64(f64_of(ra)))
	UN(i64_trunc_sat_f64_u, , sat_u64(f64_of(ra)))

	I32B(i32_eq, x == y)
	I32B(i32_ne, x != y)
	S32B(i32_lt_s, x < y)
	I32B(i32_lt_u, x < y)
	S32B(i32_gt_s, x > y)
	I32B(i32_gt_u, x > y)
	S32B(i32_le_s, x <= y)
	I32B(i32_le_u, x <= y)
	S32B(i32_ge_s, x >= y)
	I32B(i32_ge_u, x >= y)
	I64B(i64_eq, x == y)
	I64B(i64_ne, x != y)
	S64B(i64_lt_s, x < y)
	I64B(i64_lt_u, x < y)
	S64B(i64_gt_s, x > y)
	I64B(i64_gt_u, x > y)
	S64B(i64_le_s, x <= y)
	I64B(i64_le_u, x <= y)
	S64B(i64_ge_s, x >= y)
	I64B(i64_ge_u, x >= y)
	F32C(f32_eq, x == y)
	F32C(f32_ne, x != y)
	F32C(f32_lt, x < y)
	F32C(f32_gt, x > y)
	F32C(f32_le, x <= y)
	F32C(f32_ge, x >= y)
	F64C(f64_eq, x == y)
	F64C(f64_ne, x != y)
	F64C(f64_lt, x < y)
	F64C(f64_gt, x > y)
	F64C(f64_le, x <= y)
	F64C(f64_ge, x >= y)
	I32B(i32_add, x + y)
	I32B(i32_sub, x - y)
	I32B(i32_mul, x * y)
	BINX(i32_div_s, int32_t x = (int32_t)ra; int32_t y = (int32_t)rb;
	     if (y == 0) TRAP(WASM_TRAP_DIV_ZERO);
	     if (x == INT32_MIN && y == -1) TRAP(WASM_TRAP_INT_OVERFLOW), (uint32_t)(x / y))
	BINX(i32_div_u, uint32_t x = (uint32_t)ra; uint32_t y = (uint32_t)rb;
	     if (y == 0) TRAP(WASM_TRAP_DIV_ZERO), x / y)
	BINX(i32_rem_s, int32_t x = (int32_t)ra; int32_t y = (int32_t)rb;
	     if (y == 0) TRAP(WASM_TRAP_DIV_ZERO), (uint32_t)(y == -1 ? 0 : x % y))
	BINX(i32_rem_u, uint32_t x = (uint32_t)ra; uint32_t y = (uint32_t)rb;
	     if (y == 0) TRAP(WASM_TRAP_DIV_ZERO), x % y)
	I32B(i32_and, x & y)
	I32B(i32_or, x | y)
	I32B(i32_xor, x ^ y)
	I32B(i32_shl, x << (y & 31))
	S32B(i32_shr_s, x >> (y & 31))
	I32B(i32_shr_u, x >> (y & 31))
	I32B(i32_rotl, rotl32(x, y))
	I32B(i32_rotr, rotr32(x, y))
	I64B(i64_add, x + y)
	I64B(i64_sub, x - y)
	I64B(i64_mul, x * y)
	BINX(i64_div_s, int64_t x = (int64_t)ra; int64_t y = (int64_t)rb;
	     if (y == 0) TRAP(WASM_TRAP_DIV_ZERO);
	     if (x == INT64_MIN && y == -1) TRAP(WASM_TRAP_INT_OVERFLOW), (uint64_t)(x / y))
	BINX(i64_div_u, uint64_t x = ra; uint64_t y = rb;
	     if (y == 0) TRAP(WASM_TRAP_DIV_ZERO), x / y)
	BINX(i64_rem_s, int64_t x = (int64_t)ra; int64_t y = (int64_t)rb;
	     if (y == 0) TRAP(WASM_TRAP_DIV_ZERO), (uint64_t)(y == -1 ? 0 : x % y))
	BINX(i64_rem_u, uint64_t x = ra; uint64_t y = rb;
	     if (y == 0) TRAP(WASM_TRAP_DIV_ZERO), x % y)
	I64B(i64_and, x & y)
	I64B(i64_or, x | y)
	I64B(i64_xor, x ^ y)
	I64B(i64_shl, x << (y & 63))
	S64B(i64_shr_s, x >> (y & 63))
	I64B(i64_shr_u, x >> (y & 63))
	I64B(i64_rotl, rotl64(x, y))
	I64B(i64_rotr, rotr64(x, y))
	F32B(f32_add, x + y)
	F32B(f32_sub, x - y)
	F32B(f32_mul, x * y)
	F32B(f32_div, x / y)
	F32B(f32_min, wasm_fminf(x, y))
	F32B(f32_max, wasm_fmaxf(x, y))
	BINX(f32_copysign, , (ra & 0x7fffffffu) | (rb & 0x80000000u))
	F64B(f64_add, x + y)
	F64B(f64_sub, x - y)
	F64B(f64_mul, x * y)
	F64B(f64_div, x / y)
	F64B(f64_min, wasm_fmin(x, y))
	F64B(f64_max, wasm_fmax(x, y))
	BINX(f64_copysign, , (ra & 0x7fffffffffffffffull) | (rb & 0x8000000000000000ull))

	CMPBR(i32_eq, uint32_t, ==)
	CMPBR(i32_ne, uint32_t, !=)
	CMPBR(i32_lt_s, int32_t, <)
	CMPBR(i32_lt_u, uint32_t, <)
	CMPBR(i32_gt_s, int32_t, >)
	CMPBR(i32_gt_u, uint32_t, >)
	CMPBR(i32_le_s, int32_t, <=)
	CMPBR(i32_le_u, uint32_t, <=)
	CMPBR(i32_ge_s, int32_t, >=)
	CMPBR(i32_ge_u, uint32_t, >=)

trapped:
	s->depth = entry_depth;
	if (budget_io)
		*budget_io = budget;
	else
		wasm_fuel_return(s, budget);
	if (!s->trap_msg[0] || (trap != WASM_TRAP_HOST && trap != WASM_TRAP_EXIT))
		wasm_set_trap(s, trap, "%s", wasm_trap_name(trap));
	return trap;
}

const void *const *wasm_interp_labels(void)
{
	const void *const *labels = NULL;
	interp_run(NULL, NULL, NULL, &labels, NULL);
	return labels;
}

enum wasm_trap wasm_interp_call(struct wasm_store *s, struct wasm_func *f, uint64_t *sp)
{
	if (f->host)
		return wasm_host_call(s, f, sp, NULL);
	if (f->code->jit)
		return wasm_jit_run(s, f, sp, NULL);
	return interp_run(s, f, sp, NULL, NULL);
}

enum wasm_trap wasm_interp_call_budget(struct wasm_store *s, struct wasm_func *f, uint64_t *sp,
				       int64_t *budget)
{
	return interp_run(s, f, sp, NULL, budget);
}
