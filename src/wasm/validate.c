/* SPDX-License-Identifier: MIT */
/*
 * Module-level validation: constant expressions, limits, exports, the start
 * function, segments and the set of functions ref.func may name.  Function
 * bodies are validated by compile.c while they are translated.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/internal.h"

/* Opcodes that are instructions but not constant ones: their presence means
 * "constant expression required" rather than a malformed byte. */
static bool is_plain_instruction(uint8_t op)
{
	return op <= 0x11 || (op >= 0x1a && op <= 0x1c) || (op >= 0x20 && op <= 0x26) ||
	       (op >= 0x28 && op <= 0x40) || (op >= 0x45 && op <= 0xc4) || op == 0xd1 || op == 0xfc;
}

static int read_const_global(struct wasm_reader *r, const struct wasm_module *m,
			     struct wasm_constexpr *out, enum wasm_valtype *type, struct verr *err)
{
	uint32_t g = wasm_read_u32(r);
	if (r->err)
		return verr_set(err, EINVAL, "%s", r->err);
	/* only imported globals are known to constant expressions (Wasm 2.0) */
	if (g >= m->nglobal_imports)
		return verr_set(err, EINVAL, "unknown global %u", g);
	if (m->globals[g].mut)
		return verr_set(err, EINVAL, "constant expression required");
	out->kind = WASM_CONST_GLOBAL;
	out->idx = g;
	*type = m->globals[g].type;
	return 0;
}

static int read_const_instr(struct wasm_reader *r, const struct wasm_module *m, uint8_t op,
			    struct wasm_constexpr *out, enum wasm_valtype *type, struct verr *err)
{
	out->kind = WASM_CONST_VALUE;
	switch (op) {
	case 0x41:
		out->value = (uint32_t)wasm_read_s32(r), *type = WASM_I32;
		break;
	case 0x42:
		out->value = (uint64_t)wasm_read_s64(r), *type = WASM_I64;
		break;
	case 0x43:
		out->value = wasm_read_f32(r), *type = WASM_F32;
		break;
	case 0x44:
		out->value = wasm_read_f64(r), *type = WASM_F64;
		break;
	case 0xd0: {
		uint8_t t = wasm_read_u8(r);
		if (!r->err && t != WASM_FUNCREF && t != WASM_EXTERNREF)
			return verr_set(err, EINVAL, "malformed reference type");
		out->kind = WASM_CONST_NULL, *type = (enum wasm_valtype)t;
		break;
	}
	case 0xd2:
		out->kind = WASM_CONST_FUNC, out->idx = wasm_read_u32(r), *type = WASM_FUNCREF;
		if (!r->err && out->idx >= m->nfuncs)
			return verr_set(err, EINVAL, "unknown function %u", out->idx);
		break;
	case 0x23:
		return read_const_global(r, m, out, type, err);
	default:
		if (is_plain_instruction(op))
			return verr_set(err, EINVAL, "constant expression required");
		return verr_set(err, EINVAL, "illegal opcode %02x", op);
	}
	if (r->err)
		return verr_set(err, EINVAL, "%s", r->err);
	return 0;
}

int wasm_read_constexpr(struct wasm_reader *r, const struct wasm_module *m, enum wasm_valtype want,
			struct wasm_constexpr *out, struct verr *err)
{
	enum wasm_valtype type = 0;
	uint8_t op = wasm_read_u8(r);
	if (r->err)
		return verr_set(err, EINVAL, "%s", r->err);
	if (op == 0x0b)
		return verr_set(err, EINVAL, "type mismatch: empty constant expression");
	if (read_const_instr(r, m, op, out, &type, err))
		return -EINVAL;
	op = wasm_read_u8(r);
	if (r->err)
		return verr_set(err, EINVAL, "%s", r->err);
	if (op != 0x0b) {
		/* a second constant leaves two values; anything else is not constant */
		if (op == 0x41 || op == 0x42 || op == 0x43 || op == 0x44 || op == 0xd0 ||
		    op == 0xd2 || op == 0x23)
			return verr_set(err, EINVAL, "type mismatch: constant expression too long");
		if (is_plain_instruction(op))
			return verr_set(err, EINVAL, "constant expression required");
		return verr_set(err, EINVAL, "illegal opcode %02x", op);
	}
	if (type != want)
		return verr_set(err, EINVAL, "type mismatch in constant expression");
	return 0;
}

static int check_limits(const struct wasm_limits *l, uint64_t bound, const char *what,
			struct verr *err)
{
	if (l->min > bound || (l->has_max && l->max > bound))
		return verr_set(err, EINVAL, "%s", what);
	if (l->has_max && l->min > l->max)
		return verr_set(err, EINVAL, "size minimum must not be greater than maximum");
	return 0;
}

static int check_types(const struct wasm_module *m, struct verr *err)
{
	for (uint32_t i = 0; i < m->ntables; i++)
		if (check_limits(&m->tables[i].lim, UINT32_MAX, "table size must be at most 2^32-1",
				 err))
			return -EINVAL;
	for (uint32_t i = 0; i < m->nmems; i++)
		if (check_limits(&m->mems[i], WASM_MAX_PAGES,
				 "memory size must be at most 65536 pages (4GiB)", err))
			return -EINVAL;
	if (m->nmems > 1)
		return verr_set(err, EINVAL, "multiple memories");
	return 0;
}

static int check_export_index(const struct wasm_module *m, const struct wasm_export_def *e,
			      struct verr *err)
{
	static const char *const what[] = {"function", "table", "memory", "global"};
	uint32_t n[] = {m->nfuncs, m->ntables, m->nmems, m->nglobals};
	if (e->idx >= n[e->kind])
		return verr_set(err, EINVAL, "unknown %s %u", what[e->kind], e->idx);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	const struct wasm_export_def *x = *(const struct wasm_export_def *const *)a;
	const struct wasm_export_def *y = *(const struct wasm_export_def *const *)b;
	uint32_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);
	if (c)
		return c;
	return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

static int check_exports(const struct wasm_module *m, struct verr *err)
{
	for (uint32_t i = 0; i < m->nexports; i++)
		if (check_export_index(m, &m->exports[i], err))
			return -EINVAL;
	if (m->nexports < 2)
		return 0;
	/* sort a copy of the names: duplicates become neighbours */
	const struct wasm_export_def **names = malloc(m->nexports * sizeof(*names));
	if (!names)
		return verr_set(err, ENOMEM, "out of memory");
	for (uint32_t i = 0; i < m->nexports; i++)
		names[i] = &m->exports[i];
	qsort(names, m->nexports, sizeof(*names), name_cmp);
	int rc = 0;
	for (uint32_t i = 1; i < m->nexports && !rc; i++)
		if (name_cmp(&names[i - 1], &names[i]) == 0)
			rc = verr_set(err, EINVAL, "duplicate export name \"%s\"", names[i]->name);
	free(names);
	return rc;
}

static int check_start(const struct wasm_module *m, struct verr *err)
{
	if (!m->has_start)
		return 0;
	if (m->start >= m->nfuncs)
		return verr_set(err, EINVAL, "unknown function %u", m->start);
	const struct wasm_functype *t = &m->types[m->func_type[m->start]];
	if (t->nparams || t->nresults)
		return verr_set(err, EINVAL, "start function must have type [] -> []");
	return 0;
}

static int check_elems(const struct wasm_module *m, struct verr *err)
{
	for (uint32_t i = 0; i < m->nelems; i++) {
		const struct wasm_elem_def *e = &m->elems[i];
		if (e->mode != WASM_SEG_ACTIVE)
			continue;
		if (e->table >= m->ntables)
			return verr_set(err, EINVAL, "unknown table %u", e->table);
		if (m->tables[e->table].elem != e->type)
			return verr_set(err, EINVAL, "type mismatch: element segment %u", i);
	}
	return 0;
}

static void mark_const(uint8_t *declared, const struct wasm_constexpr *c)
{
	if (c->kind == WASM_CONST_FUNC)
		declared[c->idx] = 1;
}

/* C.refs: functions named anywhere outside function bodies may be ref.func'd. */
static int collect_declared(const struct wasm_module *m, struct verr *err)
{
	uint8_t *declared = calloc(m->nfuncs ? m->nfuncs : 1, 1);
	if (!declared)
		return verr_set(err, ENOMEM, "out of memory");
	for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++)
		mark_const(declared, &m->global_init[i]);
	for (uint32_t i = 0; i < m->nelems; i++)
		for (uint32_t k = 0; k < m->elems[i].n; k++)
			mark_const(declared, &m->elems[i].items[k]);
	for (uint32_t i = 0; i < m->nexports; i++)
		if (m->exports[i].kind == WASM_EXTERN_FUNC)
			declared[m->exports[i].idx] = 1;
	((struct wasm_module *)m)->func_declared = declared;
	return 0;
}

int wasm_validate_module(const struct wasm_module *m, struct verr *err)
{
	if (check_types(m, err) || check_exports(m, err) || check_start(m, err) ||
	    check_elems(m, err))
		return -EINVAL;
	return collect_declared(m, err);
}
