/* SPDX-License-Identifier: MIT */
/*
 * The store and the objects it owns: memories, tables, globals, functions,
 * modules; calls into code from the embedding API.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "wasm/interp.h"
#include "wasm/jit.h"

const char *wasm_trap_name(enum wasm_trap trap)
{
	static const char *const names[] = {
	    [WASM_OK] = "no trap",
	    [WASM_TRAP_UNREACHABLE] = "unreachable",
	    [WASM_TRAP_MEMORY_OOB] = "out of bounds memory access",
	    [WASM_TRAP_TABLE_OOB] = "out of bounds table access",
	    [WASM_TRAP_DIV_ZERO] = "integer divide by zero",
	    [WASM_TRAP_INT_OVERFLOW] = "integer overflow",
	    [WASM_TRAP_BAD_CONVERSION] = "invalid conversion to integer",
	    [WASM_TRAP_UNDEFINED_ELEM] = "undefined element",
	    [WASM_TRAP_UNINIT_ELEM] = "uninitialized element",
	    [WASM_TRAP_INDIRECT_TYPE] = "indirect call type mismatch",
	    [WASM_TRAP_STACK_EXHAUSTED] = "call stack exhausted",
	    [WASM_TRAP_FUEL] = "fuel or time limit exhausted",
	    [WASM_TRAP_HOST] = "host function failed",
	    [WASM_TRAP_EXIT] = "exit",
	};
	if ((unsigned)trap < sizeof(names) / sizeof(names[0]) && names[trap])
		return names[trap];
	return "unknown trap";
}

/* ---- store ---- */

struct wasm_store *wasm_store_new(void)
{
	struct wasm_store *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->labels = wasm_interp_labels();
	const char *jit = getenv("VESSEL_WASM_JIT");
	s->jit_off = !wasm_jit_supported() || (jit && !strcmp(jit, "0"));
	s->jit_strict = !s->jit_off && jit && !strcmp(jit, "strict");
	s->jit_mixed = !s->jit_off && jit && !strcmp(jit, "mixed");
	return s;
}

void wasm_store_free(struct wasm_store *s)
{
	if (!s)
		return;
	struct wasm_owned *o = s->owned;
	while (o) {
		struct wasm_owned *next = o->next;
		o->free(o->obj);
		free(o);
		o = next;
	}
	free(s->stack);
	free(s->frames);
	free(s);
}

int wasm_store_own(struct wasm_store *s, void *obj, void (*fn)(void *))
{
	struct wasm_owned *o = malloc(sizeof(*o));
	if (!o) {
		fn(obj);
		return -ENOMEM;
	}
	o->obj = obj;
	o->free = fn;
	o->next = s->owned;
	s->owned = o;
	return 0;
}

void wasm_store_set_limits(struct wasm_store *s, uint64_t fuel, uint64_t ms)
{
	s->fuel = fuel;
	s->ms = ms;
}

const char *wasm_store_trap_message(const struct wasm_store *s)
{
	return s->trap_msg;
}

int wasm_store_exit_code(const struct wasm_store *s)
{
	return s->exit_code;
}

void wasm_set_trap(struct wasm_store *s, enum wasm_trap t, const char *fmt, ...)
{
	(void)t;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->trap_msg, sizeof(s->trap_msg), fmt, ap);
	va_end(ap);
}

bool wasm_functype_eq(const struct wasm_functype *a, const struct wasm_functype *b)
{
	if (a == b)
		return true;
	if (a->nparams != b->nparams || a->nresults != b->nresults)
		return false;
	for (uint32_t i = 0; i < a->nparams; i++)
		if (a->params[i] != b->params[i])
			return false;
	for (uint32_t i = 0; i < a->nresults; i++)
		if (a->results[i] != b->results[i])
			return false;
	return true;
}

/* ---- memories ---- */

static void memory_destroy(void *p)
{
	struct wasm_memory *m = p;
	if (m->data)
		munmap(m->data, m->reserved);
	free(m);
}

/* Address space for the largest size the memory may reach; pages become accessible as it grows. */
static struct wasm_memory *memory_create(uint32_t min, uint32_t max)
{
	bool declared = max != UINT32_MAX;
	if (max > WASM_MAX_PAGES)
		max = WASM_MAX_PAGES;
	if (min > max)
		return NULL;
	struct wasm_memory *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->max = max;
	m->declared_max = declared;
	m->reserved = (size_t)(max ? max : 1) * WASM_PAGE;
	void *p =
	    mmap(NULL, m->reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		free(m);
		return NULL;
	}
	m->data = p;
	if (wasm_memory_grow_pages(m, min) < 0) {
		memory_destroy(m);
		return NULL;
	}
	return m;
}

int64_t wasm_memory_grow_pages(struct wasm_memory *m, uint32_t delta)
{
	uint32_t old = m->pages;
	if ((uint64_t)old + delta > m->max)
		return -1;
	if (delta) {
		size_t at = (size_t)old * WASM_PAGE, len = (size_t)delta * WASM_PAGE;
		if (mprotect(m->data + at, len, PROT_READ | PROT_WRITE))
			return -1;
	}
	m->pages = old + delta;
	m->size = (uint64_t)m->pages * WASM_PAGE;
	return old;
}

struct wasm_memory *wasm_memory_new(struct wasm_store *s, uint32_t min_pages, uint32_t max_pages)
{
	struct wasm_memory *m = memory_create(min_pages, max_pages);
	if (!m || wasm_store_own(s, m, memory_destroy))
		return NULL;
	return m;
}

uint8_t *wasm_memory_data(struct wasm_memory *mem)
{
	return mem->data;
}

uint64_t wasm_memory_size(const struct wasm_memory *mem)
{
	return mem->size;
}

int wasm_memory_check(const struct wasm_memory *mem, uint64_t addr, uint64_t len)
{
	if (addr > mem->size || len > mem->size - addr)
		return -EFAULT;
	return 0;
}

int64_t wasm_memory_grow(struct wasm_memory *mem, uint32_t delta)
{
	return wasm_memory_grow_pages(mem, delta);
}

/* ---- tables ---- */

static void table_destroy(void *p)
{
	struct wasm_table *t = p;
	free(t->elems);
	free(t);
}

static struct wasm_table *table_create(enum wasm_valtype type, uint32_t min, uint32_t max)
{
	if (min > WASM_MAX_TABLE)
		return NULL;
	struct wasm_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->type = type;
	t->max = max;
	t->size = min;
	t->elems = calloc(min ? min : 1, sizeof(void *));
	if (!t->elems) {
		free(t);
		return NULL;
	}
	return t;
}

int64_t wasm_table_grow(struct wasm_table *t, uint32_t delta, void *init)
{
	uint32_t old = t->size;
	uint64_t n = (uint64_t)old + delta;
	if (n > t->max || n > WASM_MAX_TABLE)
		return -1;
	if (delta) {
		void **p = realloc(t->elems, (size_t)n * sizeof(void *));
		if (!p)
			return -1;
		t->elems = p;
		for (uint64_t i = old; i < n; i++)
			p[i] = init;
	}
	t->size = (uint32_t)n;
	return old;
}

struct wasm_table *wasm_table_new(struct wasm_store *s, enum wasm_valtype elem, uint32_t min,
				  uint32_t max)
{
	struct wasm_table *t = table_create(elem, min, max);
	if (!t || wasm_store_own(s, t, table_destroy))
		return NULL;
	return t;
}

uint32_t wasm_table_size(const struct wasm_table *t)
{
	return t->size;
}

int wasm_table_get(const struct wasm_table *t, uint32_t i, struct wasm_val *out)
{
	if (i >= t->size)
		return -ERANGE;
	out->type = t->type;
	out->ref = t->elems[i];
	return 0;
}

/* ---- globals ---- */

static uint64_t val_bits(struct wasm_val v)
{
	return (v.type == WASM_I32 || v.type == WASM_F32) ? v.i32 : v.i64;
}

struct wasm_global *wasm_global_new(struct wasm_store *s, struct wasm_val init, int mutable_)
{
	struct wasm_global *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->val.type = init.type;
	g->val.i64 = val_bits(init);
	g->mut = mutable_;
	if (wasm_store_own(s, g, free))
		return NULL;
	return g;
}

struct wasm_val wasm_global_get(const struct wasm_global *g)
{
	return g->val;
}

int wasm_global_set(struct wasm_global *g, struct wasm_val v)
{
	if (!g->mut)
		return -EPERM;
	if (v.type != g->val.type)
		return -EINVAL;
	g->val.i64 = val_bits(v);
	return 0;
}

/* ---- functions ---- */

static void func_destroy(void *p)
{
	struct wasm_func *f = p;
	free(f->own_types);
	free(f);
}

struct wasm_func *wasm_func_new_host(struct wasm_store *s, const struct wasm_functype *type,
				     wasm_host_fn fn, void *ctx)
{
	struct wasm_func *f = calloc(1, sizeof(*f));
	size_t n = (size_t)type->nparams + type->nresults;
	if (!f)
		return NULL;
	f->own_types = calloc(n ? n : 1, sizeof(*f->own_types));
	if (!f->own_types) {
		free(f);
		return NULL;
	}
	if (type->nparams)
		memcpy(f->own_types, type->params, type->nparams * sizeof(*f->own_types));
	if (type->nresults)
		memcpy(f->own_types + type->nparams, type->results,
		       type->nresults * sizeof(*f->own_types));
	f->own_type.nparams = type->nparams;
	f->own_type.nresults = type->nresults;
	f->own_type.params = f->own_types;
	f->own_type.results = f->own_types + type->nparams;
	f->type = &f->own_type;
	f->store = s;
	f->host = fn;
	f->ctx = ctx;
	if (wasm_store_own(s, f, func_destroy))
		return NULL;
	return f;
}

const struct wasm_functype *wasm_func_type(const struct wasm_func *f)
{
	return f->type;
}

static int store_stack(struct wasm_store *s)
{
	if (s->stack)
		return 0;
	s->stack = malloc(WASM_STACK_SLOTS * sizeof(*s->stack));
	s->frames = malloc(WASM_MAX_CALL_DEPTH * sizeof(*s->frames));
	if (!s->stack || !s->frames) {
		free(s->stack);
		free(s->frames);
		s->stack = NULL;
		s->frames = NULL;
		return -ENOMEM;
	}
	s->stack_top = s->stack;
	return 0;
}

static uint64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A call from outside any running code starts with fresh limits. */
static void start_limits(struct wasm_store *s)
{
	s->fuel_left = s->fuel ? s->fuel : UINT64_MAX;
	s->deadline_ns = s->ms ? clock_ns() + s->ms * 1000000u : 0;
	s->trap_msg[0] = 0;
}

static enum wasm_trap call_check(struct wasm_func *f, const struct wasm_val *args, uint32_t nargs,
				 uint32_t nresults)
{
	struct wasm_store *s = f->store;
	if (nargs != f->type->nparams || nresults != f->type->nresults) {
		wasm_set_trap(s, WASM_TRAP_HOST,
			      "call with %u arguments and %u results to a "
			      "function of %u and %u",
			      nargs, nresults, f->type->nparams, f->type->nresults);
		return WASM_TRAP_HOST;
	}
	for (uint32_t i = 0; i < nargs; i++)
		if (args[i].type != f->type->params[i]) {
			wasm_set_trap(s, WASM_TRAP_HOST, "argument %u has the wrong type", i);
			return WASM_TRAP_HOST;
		}
	return WASM_OK;
}

enum wasm_trap wasm_func_call(struct wasm_func *f, const struct wasm_val *args, uint32_t nargs,
			      struct wasm_val *results, uint32_t nresults)
{
	struct wasm_store *s = f->store;
	if (store_stack(s)) {
		wasm_set_trap(s, WASM_TRAP_HOST, "out of memory for the value stack");
		return WASM_TRAP_HOST;
	}
	bool outer = s->depth == 0 && s->stack_top == s->stack;
	if (outer)
		start_limits(s);
	enum wasm_trap trap = call_check(f, args, nargs, nresults);
	if (trap != WASM_OK)
		return trap;
	uint64_t *sp = s->stack_top;
	uint32_t used = nargs > nresults ? nargs : nresults;
	if ((size_t)(s->stack + WASM_STACK_SLOTS - sp) < used + 1u) {
		wasm_set_trap(s, WASM_TRAP_STACK_EXHAUSTED, "call stack exhausted");
		return WASM_TRAP_STACK_EXHAUSTED;
	}
	for (uint32_t i = 0; i < nargs; i++)
		sp[i] = val_bits(args[i]);
	s->stack_top = sp + used;
	trap = wasm_interp_call(s, f, sp);
	s->stack_top = sp;
	for (uint32_t i = 0; trap == WASM_OK && i < nresults; i++) {
		results[i].type = f->type->results[i];
		results[i].i64 = sp[i];
	}
	return trap;
}

struct wasm_memory *wasm_call_memory(struct wasm_call *call)
{
	return call->inst ? call->inst->mem0 : NULL;
}

enum wasm_trap wasm_call_fail(struct wasm_call *call, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(call->store->trap_msg, sizeof(call->store->trap_msg), fmt, ap);
	va_end(ap);
	return WASM_TRAP_HOST;
}

enum wasm_trap wasm_call_exit(struct wasm_call *call, int code)
{
	call->store->exit_code = code;
	snprintf(call->store->trap_msg, sizeof(call->store->trap_msg), "exit with code %d", code);
	return WASM_TRAP_EXIT;
}

/* ---- modules ---- */

static int compile_all(struct wasm_store *s, struct wasm_module *m, struct verr *err)
{
	for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
		if (wasm_compile_func(m, i, &m->codes[i - m->nfunc_imports], s->labels, err) == 0)
			continue;
		size_t len = strlen(err->msg);
		snprintf(err->msg + len, sizeof(err->msg) - len, " (in function %u)", i);
		return -EINVAL;
	}
	if (s->jit_off)
		return 0;
	if (wasm_jit_compile_module(m)) {
		verr_set(err, ENOMEM, "out of memory for machine code");
		return -ENOMEM;
	}
	for (uint32_t i = m->nfunc_imports; s->jit_strict && i < m->nfuncs; i++)
		if (!m->codes[i - m->nfunc_imports].jit) {
			verr_set(err, ENOTSUP, "function %u was not compiled to machine code", i);
			return -ENOTSUP;
		}
	return 0;
}

void wasm_store_set_jit(struct wasm_store *s, bool on)
{
	s->jit_off = !on || !wasm_jit_supported();
}

struct wasm_module *wasm_module_load(struct wasm_store *s, const uint8_t *bytes, size_t len,
				     struct verr *err)
{
	struct wasm_module *m = calloc(1, sizeof(*m));
	if (!m) {
		verr_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	m->store = s;
	m->len = len;
	m->bytes = malloc(len ? len : 1);
	if (!m->bytes) {
		free(m);
		verr_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	memcpy(m->bytes, bytes, len);
	err->msg[0] = 0;
	if (wasm_decode(m, err) || wasm_validate_module(m, err) || compile_all(s, m, err)) {
		wasm_module_destroy(m);
		return NULL;
	}
	if (wasm_store_own(s, m, wasm_module_destroy)) {
		verr_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	return m;
}

uint32_t wasm_module_import_count(const struct wasm_module *m)
{
	return m->nimports;
}

int wasm_module_import(const struct wasm_module *m, uint32_t i, const char **module,
		       const char **name, enum wasm_extern_kind *kind)
{
	if (i >= m->nimports)
		return -ENOENT;
	*module = m->imports[i].module;
	*name = m->imports[i].name;
	*kind = m->imports[i].kind;
	return 0;
}

const struct wasm_functype *wasm_module_import_functype(const struct wasm_module *m, uint32_t i)
{
	if (i >= m->nimports || m->imports[i].kind != WASM_EXTERN_FUNC)
		return NULL;
	return &m->types[m->func_type[m->imports[i].idx]];
}

uint32_t wasm_module_export_count(const struct wasm_module *m)
{
	return m->nexports;
}

int wasm_module_export(const struct wasm_module *m, uint32_t i, const char **name,
		       enum wasm_extern_kind *kind)
{
	if (i >= m->nexports)
		return -ENOENT;
	*name = m->exports[i].name;
	*kind = m->exports[i].kind;
	return 0;
}

/* The other functions of the API (instances) are in instance.c. */
struct wasm_memory *wasm_memory_create_owned(struct wasm_store *s, uint32_t min, uint32_t max)
{
	return wasm_memory_new(s, min, max);
}

struct wasm_table *wasm_table_create_owned(struct wasm_store *s, enum wasm_valtype t, uint32_t min,
					   uint32_t max)
{
	return wasm_table_new(s, t, min, max);
}

struct wasm_func *wasm_func_create_owned(struct wasm_store *s)
{
	struct wasm_func *f = calloc(1, sizeof(*f));
	if (!f || wasm_store_own(s, f, func_destroy))
		return NULL;
	f->store = s;
	return f;
}
