/* SPDX-License-Identifier: MIT */
/*
 * Instantiation: imports are checked against the module's declarations, the
 * instance's own functions, tables, memories and globals are made, element
 * and data segments are applied in order (a trap stops there, leaving the
 * writes before it, as the spec says) and the start function runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/interp.h"

static void instance_destroy(void *p)
{
	struct wasm_instance *in = p;
	if (in->elems)
		for (uint32_t i = 0; i < in->module->nelems; i++)
			free(in->elems[i].refs);
	free(in->funcs);
	free(in->tables);
	free(in->mems);
	free(in->globals);
	free(in->elems);
	free(in->datas);
	free(in);
}

static bool limits_match(uint64_t size, bool has_max, uint32_t max, const struct wasm_limits *want)
{
	if (size < want->min)
		return false;
	if (!want->has_max)
		return true;
	return has_max && max <= want->max;
}

static int link_func(struct wasm_instance *in, const struct wasm_import_def *im,
		     struct wasm_func *f, struct verr *err)
{
	const struct wasm_module *m = in->module;
	if (!wasm_functype_eq(f->type, &m->types[m->func_type[im->idx]]))
		return verr_set(err, EINVAL, "incompatible import type: function %s.%s", im->module,
				im->name);
	in->funcs[im->idx] = f;
	return 0;
}

static int link_table(struct wasm_instance *in, const struct wasm_import_def *im,
		      struct wasm_table *t, struct verr *err)
{
	const struct wasm_tabletype *want = &in->module->tables[im->idx];
	if (t->type != want->elem ||
	    !limits_match(t->size, t->max != UINT32_MAX, t->max, &want->lim))
		return verr_set(err, EINVAL, "incompatible import type: table %s.%s", im->module,
				im->name);
	in->tables[im->idx] = t;
	return 0;
}

static int link_memory(struct wasm_instance *in, const struct wasm_import_def *im,
		       struct wasm_memory *mem, struct verr *err)
{
	const struct wasm_limits *want = &in->module->mems[im->idx];
	if (!limits_match(mem->pages, mem->declared_max, mem->max, want))
		return verr_set(err, EINVAL, "incompatible import type: memory %s.%s", im->module,
				im->name);
	in->mems[im->idx] = mem;
	return 0;
}

static int link_global(struct wasm_instance *in, const struct wasm_import_def *im,
		       struct wasm_global *g, struct verr *err)
{
	const struct wasm_globaltype *want = &in->module->globals[im->idx];
	if (g->val.type != want->type || g->mut != want->mut)
		return verr_set(err, EINVAL, "incompatible import type: global %s.%s", im->module,
				im->name);
	in->globals[im->idx] = g;
	return 0;
}

static int link_imports(struct wasm_instance *in, const struct wasm_extern *imports,
			uint32_t nimports, struct verr *err)
{
	const struct wasm_module *m = in->module;
	if (nimports < m->nimports)
		return verr_set(err, EINVAL, "unknown import: %s.%s", m->imports[nimports].module,
				m->imports[nimports].name);
	for (uint32_t i = 0; i < m->nimports; i++) {
		const struct wasm_import_def *im = &m->imports[i];
		const struct wasm_extern *ex = &imports[i];
		int rc;
		if (ex->kind != im->kind || !ex->func)
			return verr_set(err, EINVAL, "incompatible import type: %s.%s", im->module,
					im->name);
		switch (im->kind) {
		case WASM_EXTERN_FUNC:
			rc = link_func(in, im, ex->func, err);
			break;
		case WASM_EXTERN_TABLE:
			rc = link_table(in, im, ex->table, err);
			break;
		case WASM_EXTERN_MEMORY:
			rc = link_memory(in, im, ex->memory, err);
			break;
		default:
			rc = link_global(in, im, ex->global, err);
			break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int alloc_arrays(struct wasm_instance *in)
{
	const struct wasm_module *m = in->module;
	in->funcs = calloc(m->nfuncs + 1, sizeof(*in->funcs));
	in->tables = calloc(m->ntables + 1, sizeof(*in->tables));
	in->mems = calloc(m->nmems + 1, sizeof(*in->mems));
	in->globals = calloc(m->nglobals + 1, sizeof(*in->globals));
	in->elems = calloc(m->nelems + 1, sizeof(*in->elems));
	in->datas = calloc(m->ndatas + 1, sizeof(*in->datas));
	if (!in->funcs || !in->tables || !in->mems || !in->globals || !in->elems || !in->datas)
		return -ENOMEM;
	return 0;
}

static int make_funcs(struct wasm_store *s, struct wasm_instance *in, struct verr *err)
{
	const struct wasm_module *m = in->module;
	for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
		struct wasm_func *f = wasm_func_create_owned(s);
		if (!f)
			return verr_set(err, ENOMEM, "out of memory");
		f->type = &m->types[m->func_type[i]];
		f->inst = in;
		f->code = &m->codes[i - m->nfunc_imports];
		in->funcs[i] = f;
	}
	return 0;
}

static int make_tables_mems(struct wasm_store *s, struct wasm_instance *in, struct verr *err)
{
	const struct wasm_module *m = in->module;
	for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
		const struct wasm_tabletype *t = &m->tables[i];
		in->tables[i] = wasm_table_create_owned(s, t->elem, t->lim.min, t->lim.max);
		if (!in->tables[i])
			return verr_set(err, ENOMEM, "out of memory: table of %u", t->lim.min);
	}
	for (uint32_t i = m->nmem_imports; i < m->nmems; i++) {
		const struct wasm_limits *l = &m->mems[i];
		in->mems[i] = wasm_memory_create_owned(s, l->min, l->has_max ? l->max : UINT32_MAX);
		if (!in->mems[i])
			return verr_set(err, ENOMEM, "out of memory: memory of %u pages", l->min);
	}
	in->mem0 = m->nmems ? in->mems[0] : NULL;
	return 0;
}

static uint64_t const_value(const struct wasm_instance *in, const struct wasm_constexpr *c)
{
	switch (c->kind) {
	case WASM_CONST_VALUE:
		return c->value;
	case WASM_CONST_GLOBAL:
		return in->globals[c->idx]->val.i64;
	case WASM_CONST_FUNC:
		return (uint64_t)(uintptr_t)in->funcs[c->idx];
	default:
		return 0;
	}
}

static int make_globals(struct wasm_store *s, struct wasm_instance *in, struct verr *err)
{
	const struct wasm_module *m = in->module;
	for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
		struct wasm_val v = {.type = m->globals[i].type};
		v.i64 = const_value(in, &m->global_init[i]);
		in->globals[i] = wasm_global_new(s, v, m->globals[i].mut);
		if (!in->globals[i])
			return verr_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int make_segments(struct wasm_instance *in, struct verr *err)
{
	const struct wasm_module *m = in->module;
	for (uint32_t i = 0; i < m->nelems; i++) {
		const struct wasm_elem_def *e = &m->elems[i];
		in->elems[i].refs = calloc(e->n ? e->n : 1, sizeof(void *));
		if (!in->elems[i].refs)
			return verr_set(err, ENOMEM, "out of memory");
		for (uint32_t k = 0; k < e->n; k++)
			in->elems[i].refs[k] = (void *)(uintptr_t)const_value(in, &e->items[k]);
		in->elems[i].n = e->mode == WASM_SEG_DECLARATIVE ? 0 : e->n;
	}
	for (uint32_t i = 0; i < m->ndatas; i++) {
		in->datas[i].bytes = m->datas[i].bytes;
		in->datas[i].len = m->datas[i].len;
	}
	return 0;
}

static enum wasm_trap apply_elems(struct wasm_instance *in)
{
	const struct wasm_module *m = in->module;
	for (uint32_t i = 0; i < m->nelems; i++) {
		const struct wasm_elem_def *e = &m->elems[i];
		if (e->mode != WASM_SEG_ACTIVE)
			continue;
		struct wasm_table *t = in->tables[e->table];
		uint32_t off = (uint32_t)const_value(in, &e->offset);
		if ((uint64_t)off + e->n > t->size)
			return WASM_TRAP_TABLE_OOB;
		if (e->n)
			memcpy(&t->elems[off], in->elems[i].refs, e->n * sizeof(void *));
		in->elems[i].n = 0;
	}
	return WASM_OK;
}

static enum wasm_trap apply_datas(struct wasm_instance *in)
{
	const struct wasm_module *m = in->module;
	for (uint32_t i = 0; i < m->ndatas; i++) {
		const struct wasm_data_def *d = &m->datas[i];
		if (d->mode != WASM_SEG_ACTIVE)
			continue;
		struct wasm_memory *mem = in->mems[d->mem];
		uint32_t off = (uint32_t)const_value(in, &d->offset);
		if ((uint64_t)off + d->len > mem->size)
			return WASM_TRAP_MEMORY_OOB;
		if (d->len)
			memcpy(mem->data + off, d->bytes, d->len);
		in->datas[i].len = 0;
	}
	return WASM_OK;
}

static enum wasm_trap run_init(struct wasm_instance *in)
{
	enum wasm_trap t = apply_elems(in);
	if (t == WASM_OK)
		t = apply_datas(in);
	if (t != WASM_OK) {
		wasm_set_trap(in->store, t, "%s", wasm_trap_name(t));
		return t;
	}
	if (!in->module->has_start)
		return WASM_OK;
	return wasm_func_call(in->funcs[in->module->start], NULL, 0, NULL, 0);
}

struct wasm_instance *wasm_instance_new(struct wasm_store *s, const struct wasm_module *m,
					const struct wasm_extern *imports, uint32_t nimports,
					enum wasm_trap *trap, struct verr *err)
{
	if (trap)
		*trap = WASM_OK;
	/* the module's machine code refers to its store (fuel, traps) */
	if (m->store != s) {
		verr_set(err, EINVAL, "the module was loaded into another store");
		return NULL;
	}
	struct wasm_instance *in = calloc(1, sizeof(*in));
	if (!in) {
		verr_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	in->store = s;
	in->module = m;
	if (wasm_store_own(s, in, instance_destroy) || alloc_arrays(in)) {
		verr_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	if (link_imports(in, imports, nimports, err) || make_funcs(s, in, err) ||
	    make_tables_mems(s, in, err) || make_globals(s, in, err) || make_segments(in, err))
		return NULL;
	enum wasm_trap t = run_init(in);
	if (t != WASM_OK) {
		if (trap)
			*trap = t;
		verr_set(err, EINVAL, "%s", wasm_store_trap_message(s));
		return NULL;
	}
	return in;
}

int wasm_instance_export(const struct wasm_instance *in, const char *name, struct wasm_extern *out)
{
	return wasm_instance_export_n(in, name, strlen(name), out);
}

int wasm_instance_export_n(const struct wasm_instance *in, const char *name, size_t len,
			   struct wasm_extern *out)
{
	const struct wasm_module *m = in->module;
	for (uint32_t i = 0; i < m->nexports; i++) {
		const struct wasm_export_def *e = &m->exports[i];
		if (e->name_len != len || memcmp(e->name, name, len) != 0)
			continue;
		out->kind = e->kind;
		switch (e->kind) {
		case WASM_EXTERN_FUNC:
			out->func = in->funcs[e->idx];
			break;
		case WASM_EXTERN_TABLE:
			out->table = in->tables[e->idx];
			break;
		case WASM_EXTERN_MEMORY:
			out->memory = in->mems[e->idx];
			break;
		default:
			out->global = in->globals[e->idx];
			break;
		}
		return 0;
	}
	return -ENOENT;
}
