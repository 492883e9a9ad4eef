/* SPDX-License-Identifier: MIT */
/*
 * The binary format: header, sections in their order, and the records in each
 * section.  Counts are checked against the bytes left before anything is
 * allocated; function bodies are kept raw for compile.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/internal.h"
#include "wasm/jit.h"

struct decoder {
	struct wasm_module *m;
	struct wasm_reader *r;
	struct verr *err;
	uint32_t nfunc_decls; /* from the function section */
	bool has_funcs, has_code;
};

static int fail(struct decoder *d, const char *why)
{
	return verr_set(d->err, EINVAL, "%s", why);
}

static int reader_status(struct decoder *d)
{
	return d->r->err ? fail(d, d->r->err) : 0;
}

bool wasm_valtype_ok(uint8_t t)
{
	return t == WASM_I32 || t == WASM_I64 || t == WASM_F32 || t == WASM_F64 ||
	       t == WASM_FUNCREF || t == WASM_EXTERNREF;
}

bool wasm_is_ref(enum wasm_valtype t)
{
	return t == WASM_FUNCREF || t == WASM_EXTERNREF;
}

static int read_valtype(struct decoder *d, enum wasm_valtype *out)
{
	uint8_t t = wasm_read_u8(d->r);
	if (d->r->err)
		return reader_status(d);
	if (t == WASM_V128)
		return fail(d, "malformed value type: v128 (SIMD is not supported)");
	if (!wasm_valtype_ok(t))
		return fail(d, "malformed value type");
	*out = (enum wasm_valtype)t;
	return 0;
}

static int read_reftype(struct decoder *d, enum wasm_valtype *out)
{
	uint8_t t = wasm_read_u8(d->r);
	if (d->r->err)
		return reader_status(d);
	if (t != WASM_FUNCREF && t != WASM_EXTERNREF)
		return fail(d, "malformed reference type");
	*out = (enum wasm_valtype)t;
	return 0;
}

static int read_limits(struct decoder *d, struct wasm_limits *l)
{
	uint8_t flags = wasm_read_u8(d->r);
	if (flags > 1 && !d->r->err)
		return fail(d, "integer too large");
	l->min = wasm_read_u32(d->r);
	l->has_max = flags == 1;
	l->max = l->has_max ? wasm_read_u32(d->r) : UINT32_MAX;
	return reader_status(d);
}

static int read_globaltype(struct decoder *d, struct wasm_globaltype *g)
{
	if (read_valtype(d, &g->type))
		return -EINVAL;
	uint8_t mut = wasm_read_u8(d->r);
	if (d->r->err)
		return reader_status(d);
	if (mut > 1)
		return fail(d, "malformed mutability");
	g->mut = mut;
	return 0;
}

static int read_types(struct decoder *d)
{
	struct wasm_module *m = d->m;
	uint32_t n = wasm_read_count(d->r, 3);
	if (d->r->err)
		return reader_status(d);
	m->types = calloc(n ? n : 1, sizeof(*m->types));
	if (!m->types)
		return fail(d, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		if (wasm_read_u8(d->r) != 0x60 && !d->r->err)
			return fail(d, "integer representation too long");
		uint32_t np = wasm_read_count(d->r, 1);
		if (d->r->err)
			return reader_status(d);
		if (np > WASM_MAX_VALUES)
			return fail(d, "too many parameters");
		enum wasm_valtype *p = calloc(np ? np : 1, sizeof(*p));
		if (!p)
			return fail(d, "out of memory");
		m->types[i].params = p;
		m->types[i].nparams = np;
		m->ntypes = i + 1;
		for (uint32_t k = 0; k < np; k++)
			if (read_valtype(d, &p[k]))
				return -EINVAL;
		uint32_t nr = wasm_read_count(d->r, 1);
		if (d->r->err)
			return reader_status(d);
		if (nr > WASM_MAX_VALUES)
			return fail(d, "too many results");
		enum wasm_valtype *q = calloc(nr ? nr : 1, sizeof(*q));
		if (!q)
			return fail(d, "out of memory");
		m->types[i].results = q;
		m->types[i].nresults = nr;
		for (uint32_t k = 0; k < nr; k++)
			if (read_valtype(d, &q[k]))
				return -EINVAL;
	}
	return 0;
}

/* Grow an index space array to hold n entries. */
static int grow(struct decoder *d, void **arr, uint32_t n, size_t size)
{
	void *p = realloc(*arr, (size_t)(n ? n : 1) * size);
	if (!p)
		return fail(d, "out of memory");
	*arr = p;
	return 0;
}

static int read_import_desc(struct decoder *d, struct wasm_import_def *im)
{
	struct wasm_module *m = d->m;
	uint8_t kind = wasm_read_u8(d->r);
	if (d->r->err)
		return reader_status(d);
	switch (kind) {
	case WASM_EXTERN_FUNC: {
		uint32_t t = wasm_read_u32(d->r);
		if (d->r->err)
			return reader_status(d);
		if (t >= m->ntypes)
			return fail(d, "unknown type");
		im->idx = m->nfuncs;
		m->func_type[m->nfuncs++] = t;
		m->nfunc_imports++;
		break;
	}
	case WASM_EXTERN_TABLE: {
		struct wasm_tabletype *t = &m->tables[m->ntables];
		if (read_reftype(d, &t->elem) || read_limits(d, &t->lim))
			return -EINVAL;
		im->idx = m->ntables++;
		m->ntable_imports++;
		break;
	}
	case WASM_EXTERN_MEMORY:
		if (read_limits(d, &m->mems[m->nmems]))
			return -EINVAL;
		im->idx = m->nmems++;
		m->nmem_imports++;
		break;
	case WASM_EXTERN_GLOBAL:
		if (read_globaltype(d, &m->globals[m->nglobals]))
			return -EINVAL;
		memset(&m->global_init[m->nglobals], 0, sizeof(m->global_init[0]));
		im->idx = m->nglobals++;
		m->nglobal_imports++;
		break;
	default:
		return fail(d, "malformed import kind");
	}
	im->kind = (enum wasm_extern_kind)kind;
	return 0;
}

static int read_imports(struct decoder *d)
{
	struct wasm_module *m = d->m;
	uint32_t n = wasm_read_count(d->r, 4);
	if (d->r->err)
		return reader_status(d);
	/* n bounds every index space's imports */
	m->imports = calloc(n ? n : 1, sizeof(*m->imports));
	if (!m->imports || grow(d, (void **)&m->func_type, n, sizeof(uint32_t)) ||
	    grow(d, (void **)&m->tables, n, sizeof(*m->tables)) ||
	    grow(d, (void **)&m->mems, n, sizeof(*m->mems)) ||
	    grow(d, (void **)&m->globals, n, sizeof(*m->globals)) ||
	    grow(d, (void **)&m->global_init, n, sizeof(*m->global_init)))
		return fail(d, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		struct wasm_import_def *im = &m->imports[i];
		m->nimports = i + 1;
		im->module = wasm_read_name(d->r, NULL);
		if (im->module)
			im->name = wasm_read_name(d->r, NULL);
		if (d->r->err)
			return reader_status(d);
		if (read_import_desc(d, im))
			return -EINVAL;
	}
	return 0;
}

static int read_functions(struct decoder *d)
{
	struct wasm_module *m = d->m;
	uint32_t n = wasm_read_count(d->r, 1);
	if (d->r->err)
		return reader_status(d);
	if (grow(d, (void **)&m->func_type, m->nfuncs + n, sizeof(uint32_t)))
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t t = wasm_read_u32(d->r);
		if (d->r->err)
			return reader_status(d);
		if (t >= m->ntypes)
			return fail(d, "unknown type");
		m->func_type[m->nfuncs++] = t;
	}
	d->nfunc_decls = n;
	d->has_funcs = true;
	return 0;
}

static int read_tables(struct decoder *d)
{
	struct wasm_module *m = d->m;
	uint32_t n = wasm_read_count(d->r, 3);
	if (d->r->err)
		return reader_status(d);
	if (grow(d, (void **)&m->tables, m->ntables + n, sizeof(*m->tables)))
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct wasm_tabletype *t = &m->tables[m->ntables];
		if (read_reftype(d, &t->elem) || read_limits(d, &t->lim))
			return -EINVAL;
		m->ntables++;
	}
	return 0;
}

static int read_memories(struct decoder *d)
{
	struct wasm_module *m = d->m;
	uint32_t n = wasm_read_count(d->r, 2);
	if (d->r->err)
		return reader_status(d);
	if (grow(d, (void **)&m->mems, m->nmems + n, sizeof(*m->mems)))
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		if (read_limits(d, &m->mems[m->nmems]))
			return -EINVAL;
		m->nmems++;
	}
	return 0;
}

static int read_globals(struct decoder *d)
{
	struct wasm_module *m = d->m;
	uint32_t n = wasm_read_count(d->r, 4);
	if (d->r->err)
		return reader_status(d);
	if (grow(d, (void **)&m->globals, m->nglobals + n, sizeof(*m->globals)) ||
	    grow(d, (void **)&m->global_init, m->nglobals + n, sizeof(*m->global_init)))
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct wasm_globaltype *g = &m->globals[m->nglobals];
		if (read_globaltype(d, g) ||
		    wasm_read_constexpr(d->r, m, g->type, &m->global_init[m->nglobals], d->err))
			return -EINVAL;
		m->nglobals++;
	}
	return 0;
}

static int read_exports(struct decoder *d)
{
	struct wasm_module *m = d->m;
	uint32_t n = wasm_read_count(d->r, 3);
	if (d->r->err)
		return reader_status(d);
	m->exports = calloc(n ? n : 1, sizeof(*m->exports));
	if (!m->exports)
		return fail(d, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		struct wasm_export_def *e = &m->exports[i];
		m->nexports = i + 1;
		e->name = wasm_read_name(d->r, &e->name_len);
		uint8_t kind = wasm_read_u8(d->r);
		e->idx = wasm_read_u32(d->r);
		if (d->r->err)
			return reader_status(d);
		if (kind > WASM_EXTERN_GLOBAL)
			return fail(d, "malformed export kind");
		e->kind = (enum wasm_extern_kind)kind;
	}
	return 0;
}

static int read_start(struct decoder *d)
{
	d->m->start = wasm_read_u32(d->r);
	d->m->has_start = true;
	return reader_status(d);
}

/* Function indices of the legacy elem forms: each becomes a ref.func item. */
static int read_elem_funcs(struct decoder *d, struct wasm_elem_def *e)
{
	e->n = wasm_read_count(d->r, 1);
	if (d->r->err)
		return reader_status(d);
	e->items = calloc(e->n ? e->n : 1, sizeof(*e->items));
	if (!e->items)
		return fail(d, "out of memory");
	for (uint32_t i = 0; i < e->n; i++) {
		e->items[i].kind = WASM_CONST_FUNC;
		e->items[i].idx = wasm_read_u32(d->r);
		if (d->r->err)
			return reader_status(d);
		if (e->items[i].idx >= d->m->nfuncs)
			return fail(d, "unknown function");
	}
	return 0;
}

static int read_elem_exprs(struct decoder *d, struct wasm_elem_def *e)
{
	e->n = wasm_read_count(d->r, 2);
	if (d->r->err)
		return reader_status(d);
	e->items = calloc(e->n ? e->n : 1, sizeof(*e->items));
	if (!e->items)
		return fail(d, "out of memory");
	for (uint32_t i = 0; i < e->n; i++)
		if (wasm_read_constexpr(d->r, d->m, e->type, &e->items[i], d->err))
			return -EINVAL;
	return 0;
}

/*
 * The eight element segment encodings: bit 0 passive/declarative, bit 1 an
 * explicit table index (active) or declarative (otherwise), bit 2 expressions
 * instead of function indices.
 */
static int read_elem(struct decoder *d, struct wasm_elem_def *e)
{
	uint32_t flags = wasm_read_u32(d->r);
	if (d->r->err)
		return reader_status(d);
	if (flags > 7)
		return fail(d, "malformed elements segment kind");
	e->type = WASM_FUNCREF;
	if (flags & 1)
		e->mode = (flags & 2) ? WASM_SEG_DECLARATIVE : WASM_SEG_PASSIVE;
	else
		e->mode = WASM_SEG_ACTIVE;
	if (e->mode == WASM_SEG_ACTIVE) {
		e->table = (flags & 2) ? wasm_read_u32(d->r) : 0;
		if (d->r->err)
			return reader_status(d);
		if (wasm_read_constexpr(d->r, d->m, WASM_I32, &e->offset, d->err))
			return -EINVAL;
	}
	/* forms other than 0 and 4 name the element kind or type */
	if ((flags & 3) != 0) {
		if (flags & 4) {
			if (read_reftype(d, &e->type))
				return -EINVAL;
		} else {
			uint8_t kind = wasm_read_u8(d->r);
			if (d->r->err)
				return reader_status(d);
			if (kind != 0)
				return fail(d, "malformed elements segment kind");
		}
	}
	return (flags & 4) ? read_elem_exprs(d, e) : read_elem_funcs(d, e);
}

static int read_elems(struct decoder *d)
{
	struct wasm_module *m = d->m;
	uint32_t n = wasm_read_count(d->r, 3);
	if (d->r->err)
		return reader_status(d);
	m->elems = calloc(n ? n : 1, sizeof(*m->elems));
	if (!m->elems)
		return fail(d, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		m->nelems = i + 1;
		if (read_elem(d, &m->elems[i]))
			return -EINVAL;
	}
	return 0;
}

static int read_datacount(struct decoder *d)
{
	d->m->datacount = wasm_read_u32(d->r);
	d->m->has_datacount = true;
	return reader_status(d);
}

static int read_code(struct decoder *d)
{
	struct wasm_module *m = d->m;
	uint32_t n = wasm_read_count(d->r, 2);
	if (d->r->err)
		return reader_status(d);
	if (n != d->nfunc_decls)
		return fail(d, "function and code section have inconsistent lengths");
	d->has_code = true;
	m->codes = calloc(n ? n : 1, sizeof(*m->codes));
	if (!m->codes)
		return fail(d, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t size = wasm_read_u32(d->r);
		if (d->r->err)
			return reader_status(d);
		if (size > WASM_MAX_BODY)
			return fail(d, "function body too large");
		const uint8_t *body = wasm_read_bytes(d->r, size);
		if (!body)
			return reader_status(d);
		m->codes[i].body = body;
		m->codes[i].body_len = size;
	}
	return 0;
}

static int read_data(struct decoder *d, struct wasm_data_def *s)
{
	uint32_t flags = wasm_read_u32(d->r);
	if (d->r->err)
		return reader_status(d);
	if (flags > 2)
		return fail(d, "malformed data segment kind");
	s->mode = flags == 1 ? WASM_SEG_PASSIVE : WASM_SEG_ACTIVE;
	if (flags == 2)
		s->mem = wasm_read_u32(d->r);
	if (d->r->err)
		return reader_status(d);
	if (s->mode == WASM_SEG_ACTIVE) {
		if (s->mem >= d->m->nmems)
			return fail(d, "unknown memory");
		if (wasm_read_constexpr(d->r, d->m, WASM_I32, &s->offset, d->err))
			return -EINVAL;
	}
	s->len = wasm_read_u32(d->r);
	if (d->r->err)
		return reader_status(d);
	s->bytes = wasm_read_bytes(d->r, s->len);
	return reader_status(d);
}

static int read_datas(struct decoder *d)
{
	struct wasm_module *m = d->m;
	uint32_t n = wasm_read_count(d->r, 2);
	if (d->r->err)
		return reader_status(d);
	if (m->has_datacount && n != m->datacount)
		return fail(d, "data count and data section have inconsistent lengths");
	m->datas = calloc(n ? n : 1, sizeof(*m->datas));
	if (!m->datas)
		return fail(d, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		m->ndatas = i + 1;
		if (read_data(d, &m->datas[i]))
			return -EINVAL;
	}
	return 0;
}

static int read_custom(struct decoder *d)
{
	char *name = wasm_read_name(d->r, NULL);
	free(name);
	if (d->r->err)
		return reader_status(d);
	d->r->p = d->r->end; /* contents are not interpreted */
	return 0;
}

/* Position of each section id in the required order (data count sits before code). */
static int section_rank(uint8_t id)
{
	static const int rank[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
	return id < sizeof(rank) / sizeof(rank[0]) ? rank[id] : -1;
}

static int read_section(struct decoder *d, uint8_t id)
{
	switch (id) {
	case 0:
		return read_custom(d);
	case 1:
		return read_types(d);
	case 2:
		return read_imports(d);
	case 3:
		return read_functions(d);
	case 4:
		return read_tables(d);
	case 5:
		return read_memories(d);
	case 6:
		return read_globals(d);
	case 7:
		return read_exports(d);
	case 8:
		return read_start(d);
	case 9:
		return read_elems(d);
	case 10:
		return read_code(d);
	case 11:
		return read_datas(d);
	default:
		return read_datacount(d);
	}
}

static int read_header(struct decoder *d, struct wasm_reader *r)
{
	static const uint8_t magic[4] = {0, 'a', 's', 'm'};
	size_t n = wasm_reader_left(r) < 4 ? wasm_reader_left(r) : 4;
	if (memcmp(r->p, magic, n) != 0)
		return fail(d, "magic header not detected");
	if (n < 4)
		return fail(d, "unexpected end");
	r->p += 4;
	if (wasm_reader_left(r) < 4)
		return fail(d, "unexpected end");
	if (r->p[0] != 1 || r->p[1] || r->p[2] || r->p[3])
		return fail(d, "unknown binary version");
	r->p += 4;
	return 0;
}

static int read_sections(struct decoder *d, struct wasm_reader *r)
{
	int last = 0;
	while (wasm_reader_left(r)) {
		uint8_t id = wasm_read_u8(r);
		int rank = section_rank(id);
		if (rank < 0)
			return fail(d, "malformed section id");
		uint32_t size = wasm_read_u32(r);
		if (r->err)
			return fail(d, r->err);
		if (size > wasm_reader_left(r))
			return fail(d, "length out of bounds");
		if (id != 0) {
			if (rank <= last)
				return fail(d, "unexpected content after last section");
			last = rank;
		}
		struct wasm_reader sub;
		wasm_reader_init(&sub, r->p, size);
		r->p += size;
		d->r = &sub;
		if (read_section(d, id))
			return -EINVAL;
		if (wasm_reader_left(&sub))
			return fail(d, "section size mismatch");
	}
	if (d->has_funcs && d->nfunc_decls && !d->has_code)
		return fail(d, "function and code section have inconsistent lengths");
	if (d->m->has_datacount && d->m->datacount && !d->m->datas)
		return fail(d, "data count and data section have inconsistent lengths");
	return 0;
}

int wasm_decode(struct wasm_module *m, struct verr *err)
{
	struct wasm_reader r;
	struct decoder d = {.m = m, .r = &r, .err = err};
	wasm_reader_init(&r, m->bytes, m->len);
	if (read_header(&d, &r) || read_sections(&d, &r))
		return -EINVAL;
	/* a section that only ever had imports still needs an array to index */
	if (!m->func_type && grow(&d, (void **)&m->func_type, 1, sizeof(uint32_t)))
		return -ENOMEM;
	return 0;
}

static void free_elems(struct wasm_module *m)
{
	for (uint32_t i = 0; i < m->nelems; i++)
		free(m->elems[i].items);
	free(m->elems);
}

void wasm_module_destroy(void *p)
{
	struct wasm_module *m = p;
	wasm_jit_free_module(m);
	for (uint32_t i = 0; i < m->ntypes; i++) {
		free((void *)m->types[i].params);
		free((void *)m->types[i].results);
	}
	free(m->types);
	for (uint32_t i = 0; i < m->nimports; i++) {
		free(m->imports[i].module);
		free(m->imports[i].name);
	}
	free(m->imports);
	free(m->func_type);
	free(m->tables);
	free(m->mems);
	free(m->globals);
	free(m->global_init);
	for (uint32_t i = 0; i < m->nexports; i++)
		free(m->exports[i].name);
	free(m->exports);
	free_elems(m);
	free(m->datas);
	if (m->codes)
		for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++)
			free(m->codes[i].cells);
	free(m->codes);
	free(m->func_declared);
	free(m->bytes);
	free(m);
}
