/* SPDX-License-Identifier: MIT */
/*
 * What machine code calls into: calls to other functions (machine code, the
 * interpreter or the host), traps, fuel, and instructions it leaves to the
 * interpreter.  Machine code never returns an error: a trap unwinds with
 * longjmp to the innermost entry from C (wasm_jit_run), so the code needs no
 * checks after calls.  Nothing between a trap and its entry owns resources:
 * host functions and the interpreter return their traps normally and only
 * their callers here unwind.
 */
#include <pthread.h>
#include <stdlib.h>

#include "wasm/interp.h"
#include "wasm/jit.h"

/* Room left below the lowest machine-code frame for host functions and C. */
#define JIT_STACK_MARGIN (512u << 10)
#define JIT_STACK_MAX	 (64u << 20)

void wasm_jit_rt_trap(struct wasm_store *s, enum wasm_trap trap)
{
	s->jit_catch->trap = trap;
	longjmp(s->jit_catch->jb, 1);
}

void wasm_jit_rt_fuel(struct wasm_store *s)
{
	int64_t more = wasm_fuel_refill(s);
	if (more <= 0)
		wasm_jit_rt_trap(s, WASM_TRAP_FUEL);
	s->jit_budget += more;
}

/* The lowest host stack address calls may reach on this thread. */
static uintptr_t host_stack_limit(void)
{
	static __thread uintptr_t limit;
	if (limit)
		return limit;
	uintptr_t here = (uintptr_t)__builtin_frame_address(0), lo = 0;
	pthread_attr_t a;
	void *addr = NULL;
	size_t size = 0;
	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		if (pthread_attr_getstack(&a, &addr, &size) == 0)
			lo = (uintptr_t)addr;
		pthread_attr_destroy(&a);
	}
	uintptr_t usable = lo && lo < here ? here - lo : 0;
	if (usable > JIT_STACK_MAX || !usable)
		usable = usable ? JIT_STACK_MAX : (2u << 20);
	limit =
	    usable > 2 * JIT_STACK_MARGIN ? here - usable + JIT_STACK_MARGIN : here - usable / 2;
	return limit;
}

static bool stack_exhausted(struct wasm_store *s, const struct wasm_code *code, uint64_t *fp)
{
	return (uintptr_t)__builtin_frame_address(0) < s->jit_stack_limit ||
	       s->depth >= WASM_MAX_CALL_DEPTH ||
	       (size_t)(s->stack + WASM_STACK_SLOTS - fp) < code->nslots;
}

/* A call from machine code: fuel, then the callee in whatever form it has. */
static void jit_invoke(struct wasm_store *s, struct wasm_func *f, uint64_t *fp,
		       struct wasm_instance *caller)
{
	if (--s->jit_budget < 0)
		wasm_jit_rt_fuel(s);
	if (f->host) {
		enum wasm_trap trap = wasm_host_call(s, f, fp, caller);
		if (trap != WASM_OK)
			wasm_jit_rt_trap(s, trap);
		return;
	}
	if (stack_exhausted(s, f->code, fp))
		wasm_jit_rt_trap(s, WASM_TRAP_STACK_EXHAUSTED);
	s->depth++;
	if (f->code->jit) {
		f->code->jit(fp, f->inst);
	} else {
		enum wasm_trap trap = wasm_interp_call_budget(s, f, fp, &s->jit_budget);
		if (trap != WASM_OK)
			wasm_jit_rt_trap(s, trap);
	}
	s->depth--;
}

void wasm_jit_rt_call(struct wasm_instance *inst, uint32_t fidx, uint64_t *fp)
{
	jit_invoke(inst->store, inst->funcs[fidx], fp, inst);
}

/* A direct call from machine code (checks done) of a function left to the interpreter. */
void wasm_jit_rt_call_interp(struct wasm_instance *inst, uint32_t fidx, uint64_t *fp)
{
	struct wasm_store *s = inst->store;
	enum wasm_trap trap = wasm_interp_call_budget(s, inst->funcs[fidx], fp, &s->jit_budget);
	if (trap != WASM_OK)
		wasm_jit_rt_trap(s, trap);
}

/* ti_table: the type index in the low half, the table in the high half. */
void wasm_jit_rt_call_indirect(struct wasm_instance *inst, uint64_t ti_table, uint64_t *fp,
			       uint32_t idx)
{
	struct wasm_store *s = inst->store;
	struct wasm_table *t = inst->tables[ti_table >> 32];
	if (idx >= t->size)
		wasm_jit_rt_trap(s, WASM_TRAP_UNDEFINED_ELEM);
	struct wasm_func *f = t->elems[idx];
	if (!f)
		wasm_jit_rt_trap(s, WASM_TRAP_UNINIT_ELEM);
	const struct wasm_functype *want = &inst->module->types[(uint32_t)ti_table];
	if (f->type != want && !wasm_functype_eq(f->type, want))
		wasm_jit_rt_trap(s, WASM_TRAP_INDIRECT_TYPE);
	jit_invoke(s, f, fp, inst);
}

/* One instruction the JIT leaves to the interpreter: a body of it and a return. */
void wasm_jit_rt_slow(struct wasm_instance *inst, uint64_t *fp, const struct wasm_code *stub)
{
	struct wasm_store *s = inst->store;
	struct wasm_func f = {.store = s, .inst = inst, .code = stub};
	enum wasm_trap trap = wasm_interp_call_budget(s, &f, fp, &s->jit_budget);
	if (trap != WASM_OK)
		wasm_jit_rt_trap(s, trap);
}

static enum wasm_trap jit_enter(struct wasm_store *s, struct wasm_func *f, uint64_t *sp)
{
	struct wasm_jit_catch c = {.prev = s->jit_catch, .trap = WASM_OK};
	uint32_t depth = s->depth;
	s->jit_catch = &c;
	if (setjmp(c.jb) == 0)
		f->code->jit(sp, f->inst);
	s->jit_catch = c.prev;
	s->depth = depth;
	return c.trap;
}

enum wasm_trap wasm_jit_run(struct wasm_store *s, struct wasm_func *f, uint64_t *sp,
			    int64_t *budget)
{
	enum wasm_trap trap = WASM_OK;
	if (!s->jit_catch)
		s->jit_stack_limit = host_stack_limit();
	int64_t saved = s->jit_budget;
	if (stack_exhausted(s, f->code, sp)) {
		trap = WASM_TRAP_STACK_EXHAUSTED;
	} else if (budget) {
		s->jit_budget = *budget;
	} else {
		s->jit_budget = wasm_fuel_refill(s);
		if (s->jit_budget <= 0)
			trap = WASM_TRAP_FUEL;
	}
	if (trap == WASM_OK) {
		s->depth++;
		trap = jit_enter(s, f, sp);
		s->depth--;
		if (budget)
			*budget = s->jit_budget;
		else
			wasm_fuel_return(s, s->jit_budget);
	}
	s->jit_budget = saved;
	if (trap != WASM_OK &&
	    (!s->trap_msg[0] || (trap != WASM_TRAP_HOST && trap != WASM_TRAP_EXIT)))
		wasm_set_trap(s, trap, "%s", wasm_trap_name(trap));
	return trap;
}
