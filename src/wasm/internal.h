/* SPDX-License-Identifier: MIT */
/* Internal structures of the WebAssembly engine shared by its files. */
#ifndef VESSEL_WASM_INTERNAL_H
#define VESSEL_WASM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "wasm/ops.h"
#include "wasm/reader.h"
#include "wasm/wasm.h"

/* Limits that keep hostile modules from exhausting the host. */
#define WASM_MAX_LOCALS	    50000      /* per function, parameters included */
#define WASM_MAX_BODY	    (8u << 20) /* bytes of one function body */
#define WASM_MAX_VALUES	    1000       /* params or results of one function type */
#define WASM_MAX_NESTING    10000      /* control nesting in one function */
#define WASM_MAX_STACK	    60000      /* operand stack height in one function */
#define WASM_MAX_PAGES	    65536      /* 4 GiB */
#define WASM_MAX_TABLE	    10000000   /* elements in one table */
#define WASM_STACK_SLOTS    (4u << 20) /* the value stack, 32 MiB (committed as used) */
#define WASM_MAX_CALL_DEPTH 100000
#define WASM_PAGE	    65536u

/* 8-byte code cell: handler address, operand slots or an immediate. */
union wasm_cell {
	const void *h;
	uint64_t u;
	int64_t s;
	struct {
		uint32_t a, b;
	} r;
};

struct wasm_limits {
	uint32_t min, max;
	bool has_max;
};

struct wasm_tabletype {
	enum wasm_valtype elem;
	struct wasm_limits lim;
};

struct wasm_globaltype {
	enum wasm_valtype type;
	bool mut;
};

/* A constant expression, already validated: one value-producing instruction. */
enum wasm_const_kind { WASM_CONST_VALUE, WASM_CONST_GLOBAL, WASM_CONST_FUNC, WASM_CONST_NULL };
struct wasm_constexpr {
	enum wasm_const_kind kind;
	uint32_t idx;	/* global or function index */
	uint64_t value; /* raw bits for WASM_CONST_VALUE */
};

struct wasm_import_def {
	char *module, *name;
	enum wasm_extern_kind kind;
	uint32_t idx; /* index in its own index space (func, table, memory or global) */
};

struct wasm_export_def {
	char *name;
	uint32_t name_len; /* names may contain NUL */
	enum wasm_extern_kind kind;
	uint32_t idx;
};

enum wasm_seg_mode { WASM_SEG_ACTIVE, WASM_SEG_PASSIVE, WASM_SEG_DECLARATIVE };

struct wasm_elem_def {
	enum wasm_seg_mode mode;
	enum wasm_valtype type;
	uint32_t table;
	struct wasm_constexpr offset;
	uint32_t n;
	struct wasm_constexpr *items;
};

struct wasm_data_def {
	enum wasm_seg_mode mode;
	uint32_t mem;
	struct wasm_constexpr offset;
	uint32_t len;
	const uint8_t *bytes; /* into the module's copy of its binary */
};

/* A translated function body. */
struct wasm_code {
	uint32_t nparams, nlocals; /* nlocals includes the parameters */
	uint32_t nslots;	   /* frame size: locals plus the deepest operand stack */
	union wasm_cell *cells;
	size_t ncells;
	const uint8_t *body; /* the raw body, until translated */
	size_t body_len;
	/* machine code of the body (jit_x86_64.c), NULL when it runs interpreted */
	void (*jit)(uint64_t *fp, struct wasm_instance *inst);
};

struct wasm_module {
	struct wasm_store *store;
	uint8_t *bytes; /* private copy of the binary: data segments point into it */
	size_t len;

	uint32_t ntypes;
	struct wasm_functype *types;

	uint32_t nimports;
	struct wasm_import_def *imports;

	/* index spaces, imports first */
	uint32_t nfuncs, nfunc_imports;
	uint32_t *func_type; /* type index of each function */
	uint32_t ntables, ntable_imports;
	struct wasm_tabletype *tables;
	uint32_t nmems, nmem_imports;
	struct wasm_limits *mems;
	uint32_t nglobals, nglobal_imports;
	struct wasm_globaltype *globals;
	struct wasm_constexpr *global_init; /* [nglobals], defined ones only meaningful */

	uint32_t nexports;
	struct wasm_export_def *exports;

	bool has_start;
	uint32_t start;

	uint32_t nelems;
	struct wasm_elem_def *elems;

	bool has_datacount;
	uint32_t datacount;
	uint32_t ndatas;
	struct wasm_data_def *datas;

	struct wasm_code *codes; /* [nfuncs - nfunc_imports] */
	uint8_t *func_declared;	 /* [nfuncs]: may be named by ref.func in code */

	struct wasm_jit_module *jit; /* the module's machine code, NULL when not compiled */
};

struct wasm_func {
	struct wasm_store *store;
	const struct wasm_functype *type;
	struct wasm_instance *inst; /* NULL for host functions */
	const struct wasm_code *code;
	wasm_host_fn host;
	void *ctx;
	struct wasm_functype own_type; /* host functions keep a copy of their type */
	enum wasm_valtype *own_types;
};

struct wasm_memory {
	uint8_t *data;
	uint64_t size; /* bytes */
	uint32_t pages, max;
	size_t reserved;   /* bytes of address space mapped */
	bool declared_max; /* max was given (it is capped at WASM_MAX_PAGES either way) */
};

struct wasm_table {
	void **elems;
	uint32_t size, max;
	enum wasm_valtype type;
};

struct wasm_global {
	struct wasm_val val; /* i32 and f32 kept zero-extended in val.i64 */
	bool mut;
};

struct wasm_elem_inst {
	void **refs;
	uint32_t n; /* 0 once dropped */
};

struct wasm_data_inst {
	const uint8_t *bytes;
	uint32_t len; /* 0 once dropped */
};

struct wasm_instance {
	struct wasm_store *store;
	const struct wasm_module *module;
	struct wasm_func **funcs;
	struct wasm_table **tables;
	struct wasm_memory **mems;
	struct wasm_global **globals;
	struct wasm_elem_inst *elems;
	struct wasm_data_inst *datas;
	struct wasm_memory *mem0; /* mems[0] or NULL, for the interpreter */
};

/* Everything a store owns, freed together. */
struct wasm_owned {
	struct wasm_owned *next;
	void (*free)(void *);
	void *obj;
};

struct wasm_frame {
	const union wasm_cell *pc;
	uint64_t *fp;
	struct wasm_instance *inst;
};

struct wasm_store {
	struct wasm_owned *owned;
	uint64_t *stack;     /* value stack [WASM_STACK_SLOTS] */
	uint64_t *stack_top; /* first free slot for a nested entry */
	struct wasm_frame *frames;
	uint32_t depth;
	uint64_t fuel, ms;
	uint64_t fuel_left;   /* in the running top-level call */
	uint64_t deadline_ns; /* 0: none */
	char trap_msg[256];
	int exit_code;
	const void *const *labels; /* the interpreter's handler addresses */

	/* the JIT (jit_rt.c): off when interpreting only; fuel of running machine code */
	bool jit_off;
	bool jit_strict; /* VESSEL_WASM_JIT=strict: a function left interpreted fails the load */
	bool jit_mixed;	 /* VESSEL_WASM_JIT=mixed: odd functions stay interpreted (tests) */
	int64_t jit_budget;
	struct wasm_jit_catch *jit_catch; /* innermost entry into machine code, NULL outside */
	uintptr_t jit_stack_limit;	  /* host stack below which calls trap */
};

/* runtime.c */
int wasm_store_own(struct wasm_store *s, void *obj, void (*fn)(void *));
void wasm_set_trap(struct wasm_store *s, enum wasm_trap t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool wasm_functype_eq(const struct wasm_functype *a, const struct wasm_functype *b);
int64_t wasm_table_grow(struct wasm_table *t, uint32_t delta, void *init);

struct wasm_memory *wasm_memory_create_owned(struct wasm_store *s, uint32_t min, uint32_t max);
struct wasm_table *wasm_table_create_owned(struct wasm_store *s, enum wasm_valtype t, uint32_t min,
					   uint32_t max);
struct wasm_func *wasm_func_create_owned(struct wasm_store *s);

/* decode.c: binary format to module structures (function bodies kept raw). */
int wasm_decode(struct wasm_module *m, struct verr *err);
void wasm_module_destroy(void *m);

/* validate.c: module-level rules and constant expressions. */
int wasm_read_constexpr(struct wasm_reader *r, const struct wasm_module *m, enum wasm_valtype want,
			struct wasm_constexpr *out, struct verr *err);
int wasm_validate_module(const struct wasm_module *m, struct verr *err);
bool wasm_valtype_ok(uint8_t t);
bool wasm_is_ref(enum wasm_valtype t);

/* compile.c: validate one function body and translate it. */
int wasm_compile_func(const struct wasm_module *m, uint32_t fidx, struct wasm_code *code,
		      const void *const *labels, struct verr *err);

/* interp.c */
const void *const *wasm_interp_labels(void);
/* Run f with its arguments already in slots sp[0..]; results come back in sp[0..]. */
enum wasm_trap wasm_interp_call(struct wasm_store *s, struct wasm_func *f, uint64_t *sp);
/* The same, spending the caller's fuel budget (*budget) rather than a fresh slice. */
enum wasm_trap wasm_interp_call_budget(struct wasm_store *s, struct wasm_func *f, uint64_t *sp,
				       int64_t *budget);
int64_t wasm_fuel_refill(struct wasm_store *s);
void wasm_fuel_return(struct wasm_store *s, int64_t budget);

/* Memory and table helpers shared by the interpreter and instantiation. */
int64_t wasm_memory_grow_pages(struct wasm_memory *mem, uint32_t delta);

#endif
