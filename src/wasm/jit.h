/* SPDX-License-Identifier: MIT */
/*
 * The baseline JIT: each function's internal code (ops.h) translated to x86-64
 * machine code at module load (jit_x86_64.c), and the runtime that machine code
 * calls into (jit_rt.c): calls, traps, fuel and the instructions it leaves to
 * the interpreter.
 */
#ifndef VESSEL_WASM_JIT_H
#define VESSEL_WASM_JIT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "wasm/internal.h"

/* An entry from C into machine code: a trap anywhere inside unwinds to it. */
struct wasm_jit_catch {
	jmp_buf jb;
	struct wasm_jit_catch *prev;
	enum wasm_trap trap;
};

/* The machine code of one module and what it refers to. */
struct wasm_jit_module {
	uint8_t *code; /* mapped read+execute */
	size_t len;
	struct wasm_code **stubs; /* one-instruction bodies run by the interpreter */
	size_t nstubs, cap_stubs;
};

/* Whether this host can run machine code (x86-64 Linux); false elsewhere. */
bool wasm_jit_supported(void);
/* Compile every function of m that the JIT can; the rest stay interpreted. */
int wasm_jit_compile_module(struct wasm_module *m);
void wasm_jit_free_module(struct wasm_module *m);

/* Run f (f->code->jit set) with its arguments in sp[0..]; budget as in interp_run. */
enum wasm_trap wasm_jit_run(struct wasm_store *s, struct wasm_func *f, uint64_t *sp,
			    int64_t *budget);

/* Entry points for machine code (jit_rt.c); they unwind to the entry on a trap. */
void wasm_jit_rt_call(struct wasm_instance *inst, uint32_t fidx, uint64_t *fp);
void wasm_jit_rt_call_indirect(struct wasm_instance *inst, uint64_t ti_table, uint64_t *fp,
			       uint32_t idx);
void wasm_jit_rt_call_interp(struct wasm_instance *inst, uint32_t fidx, uint64_t *fp);
void wasm_jit_rt_slow(struct wasm_instance *inst, uint64_t *fp, const struct wasm_code *stub);
void wasm_jit_rt_fuel(struct wasm_store *s);
void wasm_jit_rt_trap(struct wasm_store *s, enum wasm_trap trap) __attribute__((noreturn));

#endif
