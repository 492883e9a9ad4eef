/* SPDX-License-Identifier: MIT */
/*
 * Vessel's WebAssembly process VM: the embedding API.
 *
 * A module is decoded, fully validated and translated once (wasm_module_load);
 * an instance binds its imports and owns its memories, tables and globals
 * (wasm_instance_new); exports are called with wasm_func_call.  Host code
 * provides functions with wasm_func_new_host and reaches the caller's linear
 * memory through wasm_call_memory.
 *
 * Errors from loading and linking fill a struct verr; a call that traps
 * returns the trap kind and leaves a message in the instance's store.
 *
 * Values cross the API as raw bits (struct wasm_val): floats keep their exact
 * bit patterns (NaN payloads included), references are opaque pointers with
 * NULL meaning ref.null.
 */
#ifndef VESSEL_WASM_WASM_H
#define VESSEL_WASM_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/log.h"

enum wasm_valtype {
	WASM_I32 = 0x7f,
	WASM_I64 = 0x7e,
	WASM_F32 = 0x7d,
	WASM_F64 = 0x7c,
	WASM_V128 = 0x7b,
	WASM_FUNCREF = 0x70,
	WASM_EXTERNREF = 0x6f,
};

struct wasm_val {
	enum wasm_valtype type;
	union {
		uint32_t i32;
		uint64_t i64;
		uint32_t f32; /* IEEE-754 single, as bits */
		uint64_t f64; /* IEEE-754 double, as bits */
		void *ref;    /* funcref: struct wasm_func *; externref: host value */
	};
};

/* A function type; params and results point into storage owned by whoever built it. */
struct wasm_functype {
	uint32_t nparams, nresults;
	const enum wasm_valtype *params;
	const enum wasm_valtype *results;
};

enum wasm_extern_kind {
	WASM_EXTERN_FUNC = 0,
	WASM_EXTERN_TABLE = 1,
	WASM_EXTERN_MEMORY = 2,
	WASM_EXTERN_GLOBAL = 3,
};

struct wasm_store; /* owns everything below; one per program or test script */
struct wasm_module;
struct wasm_instance;
struct wasm_func;
struct wasm_table;
struct wasm_memory;
struct wasm_global;

struct wasm_extern {
	enum wasm_extern_kind kind;
	union {
		struct wasm_func *func;
		struct wasm_table *table;
		struct wasm_memory *memory;
		struct wasm_global *global;
	};
};

/* What stopped a call.  WASM_OK (0) means it returned normally. */
enum wasm_trap {
	WASM_OK = 0,
	WASM_TRAP_UNREACHABLE,
	WASM_TRAP_MEMORY_OOB,	   /* out of bounds memory access */
	WASM_TRAP_TABLE_OOB,	   /* out of bounds table access */
	WASM_TRAP_DIV_ZERO,	   /* integer divide by zero */
	WASM_TRAP_INT_OVERFLOW,	   /* integer overflow */
	WASM_TRAP_BAD_CONVERSION,  /* invalid conversion to integer */
	WASM_TRAP_UNDEFINED_ELEM,  /* undefined element */
	WASM_TRAP_UNINIT_ELEM,	   /* uninitialized element (null in call_indirect) */
	WASM_TRAP_INDIRECT_TYPE,   /* indirect call type mismatch */
	WASM_TRAP_STACK_EXHAUSTED, /* call stack exhausted */
	WASM_TRAP_FUEL,		   /* the fuel or time limit ran out */
	WASM_TRAP_HOST,		   /* a host function failed (message set by it) */
	WASM_TRAP_EXIT,		   /* a host function asked to end the program (WASI proc_exit) */
};

/* The spec's wording for a trap kind ("integer divide by zero", ...). */
const char *wasm_trap_name(enum wasm_trap trap);

/* ---- store ---- */
struct wasm_store *wasm_store_new(void);
void wasm_store_free(struct wasm_store *store); /* frees every module, instance and extern in it */
/* Limit execution: every call in the store fails with WASM_TRAP_FUEL after about 'fuel'
 * instructions (0 = unlimited), or after 'ms' milliseconds of wall time (0 = unlimited). */
void wasm_store_set_limits(struct wasm_store *store, uint64_t fuel, uint64_t ms);
/* Compile modules loaded from now on to machine code (the default where supported, unless
 * the environment has VESSEL_WASM_JIT=0) or only interpret them (on = false). */
void wasm_store_set_jit(struct wasm_store *store, bool on);
/* The message of the last trap (wording of wasm_trap_name plus detail). */
const char *wasm_store_trap_message(const struct wasm_store *store);
/* Exit code given with WASM_TRAP_EXIT. */
int wasm_store_exit_code(const struct wasm_store *store);

/* ---- modules ---- */
/* Decode, validate and translate a binary module.  Returns NULL and fills 'err' with a
 * message whose start is the spec's wording where one exists ("type mismatch",
 * "unexpected end", "magic header not detected", ...). */
struct wasm_module *wasm_module_load(struct wasm_store *store, const uint8_t *bytes, size_t len,
				     struct verr *err);

/* Inspect a module's imports and exports (for linkers and the CLI). */
uint32_t wasm_module_import_count(const struct wasm_module *m);
int wasm_module_import(const struct wasm_module *m, uint32_t i, const char **module,
		       const char **name, enum wasm_extern_kind *kind);
/* The type of import i when it is a function, or NULL. */
const struct wasm_functype *wasm_module_import_functype(const struct wasm_module *m, uint32_t i);
uint32_t wasm_module_export_count(const struct wasm_module *m);
int wasm_module_export(const struct wasm_module *m, uint32_t i, const char **name,
		       enum wasm_extern_kind *kind);

/* ---- instances ---- */
/* imports[i] satisfies import i of the module (in wasm_module_import order); types and limits
 * are checked ("incompatible import type", "unknown import").  Runs the start function;
 * if it traps, returns NULL with the trap message in 'err' and *trap set (trap may be NULL). */
struct wasm_instance *wasm_instance_new(struct wasm_store *store, const struct wasm_module *m,
					const struct wasm_extern *imports, uint32_t nimports,
					enum wasm_trap *trap, struct verr *err);
/* Find an export by name; returns 0 or -ENOENT. */
int wasm_instance_export(const struct wasm_instance *inst, const char *name,
			 struct wasm_extern *out);
/* The same for a name of 'len' bytes that may contain NUL characters. */
int wasm_instance_export_n(const struct wasm_instance *inst, const char *name, size_t len,
			   struct wasm_extern *out);

/* ---- functions ---- */
/* A running call, as seen by a host function. */
struct wasm_call;
/* A host function: read args, write results (types as in its functype), return WASM_OK or a
 * trap; for WASM_TRAP_HOST set a message with wasm_call_fail, for WASM_TRAP_EXIT use
 * wasm_call_exit. */
typedef enum wasm_trap (*wasm_host_fn)(struct wasm_call *call, void *ctx,
				       const struct wasm_val *args, struct wasm_val *results);

/* The type is copied. */
struct wasm_func *wasm_func_new_host(struct wasm_store *store, const struct wasm_functype *type,
				     wasm_host_fn fn, void *ctx);
const struct wasm_functype *wasm_func_type(const struct wasm_func *f);
/* Call f; args and results as in its type.  Returns WASM_OK or the trap. */
enum wasm_trap wasm_func_call(struct wasm_func *f, const struct wasm_val *args, uint32_t nargs,
			      struct wasm_val *results, uint32_t nresults);

/* Inside a host function: the memory 0 of the instance that called it (NULL if none). */
struct wasm_memory *wasm_call_memory(struct wasm_call *call);
enum wasm_trap wasm_call_fail(struct wasm_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum wasm_trap wasm_call_exit(struct wasm_call *call, int code);

/* ---- memories, tables, globals ---- */
/* Host-created externs, for linking (the spec harness's "spectest" module uses these). */
struct wasm_memory *wasm_memory_new(struct wasm_store *store, uint32_t min_pages,
				    uint32_t max_pages /* UINT32_MAX: none */);
struct wasm_table *wasm_table_new(struct wasm_store *store, enum wasm_valtype elem, uint32_t min,
				  uint32_t max /* UINT32_MAX: none */);
struct wasm_global *wasm_global_new(struct wasm_store *store, struct wasm_val init, int mutable_);

/* Linear memory: a host pointer to its bytes and its size in bytes.  Valid until the memory
 * grows; use wasm_memory_check before touching guest-supplied ranges. */
uint8_t *wasm_memory_data(struct wasm_memory *mem);
uint64_t wasm_memory_size(const struct wasm_memory *mem);
/* 0 if [addr, addr+len) lies inside the memory, else -EFAULT (no overflow). */
int wasm_memory_check(const struct wasm_memory *mem, uint64_t addr, uint64_t len);
/* Grow by delta pages; returns the old size in pages or -1. */
int64_t wasm_memory_grow(struct wasm_memory *mem, uint32_t delta);

struct wasm_val wasm_global_get(const struct wasm_global *g);
int wasm_global_set(struct wasm_global *g,
		    struct wasm_val v); /* -EPERM if immutable, -EINVAL on type */

uint32_t wasm_table_size(const struct wasm_table *t);
int wasm_table_get(const struct wasm_table *t, uint32_t i, struct wasm_val *out);

#endif
