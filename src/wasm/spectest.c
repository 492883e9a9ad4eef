/* SPDX-License-Identifier: MIT */
/*
 * The spec-test script runner.  One store holds every module of a script;
 * modules are found by name (the last one is current) or by the name they
 * were registered under, and the standard "spectest" module provides the
 * print functions, globals, a table and a memory.
 *
 * externref values of the script (ref.extern N) are the host pointers N + 1,
 * so that ref.extern 0 differs from ref.null.
 */
#include "wasm/spectest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/wasm.h"

#define SPEC_MAX_NAMED 1024

struct named {
	char *name;
	struct wasm_instance *inst;
};

struct script {
	struct wasm_store *store;
	FILE *out;
	char *dir; /* directory of the JSON file, for module file names */
	struct wasm_instance *current;
	struct named names[SPEC_MAX_NAMED];	 /* $name -> instance */
	struct named registered[SPEC_MAX_NAMED]; /* register "as" -> instance */
	unsigned nnames, nregistered;
	unsigned passed, failed, skipped;
	/* the spectest module's externs */
	struct wasm_func *print[7];
	struct wasm_global *globals[4];
	struct wasm_table *table;
	struct wasm_memory *memory;
};

static const char *const print_names[7] = {
    "print", "print_i32", "print_i64", "print_f32", "print_f64", "print_i32_f32", "print_f64_f64"};

static enum wasm_trap spectest_print(struct wasm_call *call, void *ctx, const struct wasm_val *args,
				     struct wasm_val *results)
{
	(void)call, (void)ctx, (void)args, (void)results;
	return WASM_OK;
}

static int spectest_module(struct script *sc)
{
	static const enum wasm_valtype p[7][2] = {
	    {0},	{WASM_I32},	      {WASM_I64},	   {WASM_F32},
	    {WASM_F64}, {WASM_I32, WASM_F32}, {WASM_F64, WASM_F64}};
	static const uint32_t np[7] = {0, 1, 1, 1, 1, 2, 2};
	for (int i = 0; i < 7; i++) {
		struct wasm_functype t = {.nparams = np[i], .params = p[i]};
		sc->print[i] = wasm_func_new_host(sc->store, &t, spectest_print, NULL);
		if (!sc->print[i])
			return -ENOMEM;
	}
	struct wasm_val v[4] = {{.type = WASM_I32, .i32 = 666},
				{.type = WASM_I64, .i64 = 666},
				{.type = WASM_F32, .f32 = 0x4426a666u},
				{.type = WASM_F64, .f64 = 0x4084d4cccccccccdull}};
	for (int i = 0; i < 4; i++)
		if (!(sc->globals[i] = wasm_global_new(sc->store, v[i], 0)))
			return -ENOMEM;
	sc->table = wasm_table_new(sc->store, WASM_FUNCREF, 10, 20);
	sc->memory = wasm_memory_new(sc->store, 1, 2);
	return sc->table && sc->memory ? 0 : -ENOMEM;
}

static int spectest_lookup(struct script *sc, const char *name, struct wasm_extern *out)
{
	static const char *const gnames[4] = {"global_i32", "global_i64", "global_f32",
					      "global_f64"};
	for (int i = 0; i < 7; i++)
		if (!strcmp(name, print_names[i])) {
			out->kind = WASM_EXTERN_FUNC;
			out->func = sc->print[i];
			return 0;
		}
	for (int i = 0; i < 4; i++)
		if (!strcmp(name, gnames[i])) {
			out->kind = WASM_EXTERN_GLOBAL;
			out->global = sc->globals[i];
			return 0;
		}
	if (!strcmp(name, "table")) {
		out->kind = WASM_EXTERN_TABLE;
		out->table = sc->table;
		return 0;
	}
	if (!strcmp(name, "memory")) {
		out->kind = WASM_EXTERN_MEMORY;
		out->memory = sc->memory;
		return 0;
	}
	return -ENOENT;
}

static struct wasm_instance *find(struct named *list, unsigned n, const char *name)
{
	for (unsigned i = n; i-- > 0;)
		if (!strcmp(list[i].name, name))
			return list[i].inst;
	return NULL;
}

static void add_name(struct named *list, unsigned *n, const char *name, struct wasm_instance *in)
{
	if (*n >= SPEC_MAX_NAMED)
		return;
	list[*n].name = strdup(name);
	list[*n].inst = in;
	if (list[*n].name)
		(*n)++;
}

static int resolve_import(struct script *sc, const char *mod, const char *name,
			  struct wasm_extern *out)
{
	if (!strcmp(mod, "spectest"))
		return spectest_lookup(sc, name, out);
	struct wasm_instance *in = find(sc->registered, sc->nregistered, mod);
	if (!in)
		return -ENOENT;
	return wasm_instance_export(in, name, out);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			uint8_t *p = realloc(buf, cap);
			if (!p)
				break;
			buf = p;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		if (!got)
			break;
		n += got;
	}
	fclose(f);
	*len = n;
	return buf ? buf : malloc(1);
}

/* Load a module file of the script; NULL with 'err' set on failure. */
static struct wasm_module *load_module(struct script *sc, const char *file, struct verr *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", sc->dir, file);
	size_t len = 0;
	uint8_t *bytes = read_file(path, &len);
	if (!bytes) {
		verr_set(err, ENOENT, "cannot read %s", path);
		return NULL;
	}
	struct wasm_module *m = wasm_module_load(sc->store, bytes, len, err);
	free(bytes);
	return m;
}

/* Link and instantiate; link errors leave *trap == WASM_OK. */
static struct wasm_instance *instantiate(struct script *sc, struct wasm_module *m,
					 enum wasm_trap *trap, struct verr *err)
{
	uint32_t n = wasm_module_import_count(m);
	struct wasm_extern *ex = calloc(n ? n : 1, sizeof(*ex));
	*trap = WASM_OK;
	if (!ex) {
		verr_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++) {
		const char *mod, *name;
		enum wasm_extern_kind kind;
		wasm_module_import(m, i, &mod, &name, &kind);
		if (resolve_import(sc, mod, name, &ex[i])) {
			verr_set(err, ENOENT, "unknown import: %s.%s", mod, name);
			free(ex);
			return NULL;
		}
	}
	struct wasm_instance *in = wasm_instance_new(sc->store, m, ex, n, trap, err);
	free(ex);
	return in;
}

static void pass(struct script *sc, int line, const char *what, const char *note)
{
	sc->passed++;
	fprintf(sc->out, "PASS %d %s%s%s\n", line, what, note ? ": " : "", note ? note : "");
}

static void failf(struct script *sc, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void failf(struct script *sc, int line, const char *fmt, ...)
{
	va_list ap;
	sc->failed++;
	fprintf(sc->out, "FAIL %d ", line);
	va_start(ap, fmt);
	vfprintf(sc->out, fmt, ap);
	va_end(ap);
	fputc('\n', sc->out);
}

static enum wasm_valtype type_of(const char *t)
{
	static const struct {
		const char *name;
		enum wasm_valtype type;
	} types[] = {{"i32", WASM_I32},	 {"i64", WASM_I64},	    {"f32", WASM_F32},
		     {"f64", WASM_F64},	 {"funcref", WASM_FUNCREF}, {"externref", WASM_EXTERNREF},
		     {"v128", WASM_V128}};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(t, types[i].name))
			return types[i].type;
	return 0;
}

/* A script value: numbers are decimal bit patterns; references "null" or a number. */
static int parse_value(json_t *j, struct wasm_val *v)
{
	const char *t = json_string_value(json_object_get(j, "type"));
	const char *s = json_string_value(json_object_get(j, "value"));
	if (!t || !s)
		return -EINVAL;
	v->type = type_of(t);
	v->i64 = 0;
	switch (v->type) {
	case WASM_I32:
	case WASM_F32:
		v->i64 = (uint32_t)strtoull(s, NULL, 10);
		return 0;
	case WASM_I64:
	case WASM_F64:
		v->i64 = strtoull(s, NULL, 10);
		return 0;
	case WASM_FUNCREF:
	case WASM_EXTERNREF:
		v->ref = strcmp(s, "null") ? (void *)(uintptr_t)(strtoull(s, NULL, 10) + 1) : NULL;
		return 0;
	default:
		return -ENOTSUP;
	}
}

static bool nan_matches(const char *want, uint64_t bits, bool f64)
{
	uint64_t quiet = f64 ? 0x7ff8000000000000ull : 0x7fc00000u;
	uint64_t abs = bits & (f64 ? 0x7fffffffffffffffull : 0x7fffffffu);
	if (!strcmp(want, "nan:canonical"))
		return abs == quiet;
	return (abs & quiet) == quiet; /* nan:arithmetic: the quiet bit is set */
}

static bool value_matches(json_t *j, const struct wasm_val *got)
{
	const char *t = json_string_value(json_object_get(j, "type"));
	const char *s = json_string_value(json_object_get(j, "value"));
	if (!t || type_of(t) != got->type)
		return false;
	if (s && !strncmp(s, "nan:", 4))
		return (got->type == WASM_F32 || got->type == WASM_F64) &&
		       nan_matches(s, got->type == WASM_F32 ? got->i32 : got->i64,
				   got->type == WASM_F64);
	if (got->type == WASM_FUNCREF && s && strcmp(s, "null"))
		return got->ref != NULL; /* any function reference */
	struct wasm_val want;
	if (parse_value(j, &want))
		return false;
	if (got->type == WASM_I32 || got->type == WASM_F32)
		return got->i32 == want.i32;
	if (got->type == WASM_FUNCREF || got->type == WASM_EXTERNREF)
		return got->ref == want.ref;
	return got->i64 == want.i64;
}

static void format_value(const struct wasm_val *v, char *buf, size_t len)
{
	switch (v->type) {
	case WASM_I32:
	case WASM_F32:
		snprintf(buf, len, "%s:0x%x", v->type == WASM_I32 ? "i32" : "f32", v->i32);
		break;
	case WASM_I64:
	case WASM_F64:
		snprintf(buf, len, "%s:0x%llx", v->type == WASM_I64 ? "i64" : "f64",
			 (unsigned long long)v->i64);
		break;
	default:
		snprintf(buf, len, "ref:%p", v->ref);
		break;
	}
}

#define SPEC_MAX_VALUES 64

struct action_result {
	enum wasm_trap trap;
	uint32_t n;
	struct wasm_val vals[SPEC_MAX_VALUES];
	char msg[512]; /* why the action could not run at all */
};

static struct wasm_instance *action_instance(struct script *sc, json_t *action)
{
	const char *mod = json_string_value(json_object_get(action, "module"));
	return mod ? find(sc->names, sc->nnames, mod) : sc->current;
}

static int do_invoke(struct script *sc, struct wasm_func *f, json_t *args, struct action_result *r)
{
	struct wasm_val in[SPEC_MAX_VALUES];
	size_t nargs = json_array_size(args);
	const struct wasm_functype *t = wasm_func_type(f);
	if (nargs > SPEC_MAX_VALUES || t->nresults > SPEC_MAX_VALUES) {
		snprintf(r->msg, sizeof(r->msg), "too many values");
		return -EINVAL;
	}
	for (size_t i = 0; i < nargs; i++)
		if (parse_value(json_array_get(args, i), &in[i])) {
			snprintf(r->msg, sizeof(r->msg), "unsupported argument %zu", i);
			return -EINVAL;
		}
	r->n = t->nresults;
	r->trap = wasm_func_call(f, in, (uint32_t)nargs, r->vals, r->n);
	if (r->trap != WASM_OK)
		snprintf(r->msg, sizeof(r->msg), "%s", wasm_store_trap_message(sc->store));
	return 0;
}

/* Run an action; returns 0 if it ran (r->trap says how it ended). */
static int run_action(struct script *sc, json_t *action, struct action_result *r)
{
	memset(r, 0, sizeof(*r));
	const char *type = json_string_value(json_object_get(action, "type"));
	json_t *jfield = json_object_get(action, "field");
	const char *field = json_string_value(jfield);
	struct wasm_instance *in = action_instance(sc, action);
	struct wasm_extern ex;
	if (!type || !field || !in) {
		snprintf(r->msg, sizeof(r->msg), "no module for the action");
		return -ENOENT;
	}
	if (wasm_instance_export_n(in, field, json_string_length(jfield), &ex)) {
		snprintf(r->msg, sizeof(r->msg), "no export \"%s\"", field);
		return -ENOENT;
	}
	if (!strcmp(type, "get")) {
		if (ex.kind != WASM_EXTERN_GLOBAL) {
			snprintf(r->msg, sizeof(r->msg), "\"%s\" is not a global", field);
			return -EINVAL;
		}
		r->n = 1;
		r->vals[0] = wasm_global_get(ex.global);
		return 0;
	}
	if (ex.kind != WASM_EXTERN_FUNC) {
		snprintf(r->msg, sizeof(r->msg), "\"%s\" is not a function", field);
		return -EINVAL;
	}
	return do_invoke(sc, ex.func, json_object_get(action, "args"), r);
}

static bool results_match(json_t *expected, const struct action_result *r, char *why, size_t len)
{
	if (json_array_size(expected) != r->n) {
		snprintf(why, len, "%u results, expected %zu", r->n, json_array_size(expected));
		return false;
	}
	for (uint32_t i = 0; i < r->n; i++) {
		json_t *e = json_array_get(expected, i);
		if (value_matches(e, &r->vals[i]))
			continue;
		char got[64];
		format_value(&r->vals[i], got, sizeof(got));
		const char *want = json_string_value(json_object_get(e, "value"));
		snprintf(why, len, "result %u: got %s, expected %s %s", i, got,
			 json_string_value(json_object_get(e, "type")), want ? want : "?");
		return false;
	}
	return true;
}

/* "either": any one of the alternatives (each a single value here). */
static bool either_matches(json_t *alts, const struct action_result *r, char *why, size_t len)
{
	for (size_t i = 0; i < json_array_size(alts); i++) {
		json_t *one = json_array(); /* alternatives are single values */
		json_array_append(one, json_array_get(alts, i));
		bool ok = results_match(one, r, why, len);
		json_decref(one);
		if (ok)
			return true;
	}
	return false;
}

static void cmd_assert_return(struct script *sc, json_t *cmd, int line)
{
	struct action_result r;
	char why[512];
	if (run_action(sc, json_object_get(cmd, "action"), &r)) {
		failf(sc, line, "assert_return: %s", r.msg);
		return;
	}
	if (r.trap != WASM_OK) {
		failf(sc, line, "assert_return: trapped: %s", r.msg);
		return;
	}
	json_t *either = json_object_get(cmd, "either");
	bool ok = either ? either_matches(either, &r, why, sizeof(why))
			 : results_match(json_object_get(cmd, "expected"), &r, why, sizeof(why));
	if (ok)
		pass(sc, line, "assert_return", NULL);
	else
		failf(sc, line, "assert_return: %s", why);
}

/* Trap messages agree when one starts with the other ("uninitialized element 2"). */
static bool text_agrees(const char *ours, const char *want)
{
	size_t a = strlen(ours), b = strlen(want);
	return !strncmp(ours, want, a < b ? a : b);
}

static void cmd_assert_trap_action(struct script *sc, json_t *cmd, int line, bool exhaustion)
{
	const char *what = exhaustion ? "assert_exhaustion" : "assert_trap";
	const char *text = json_string_value(json_object_get(cmd, "text"));
	struct action_result r;
	if (run_action(sc, json_object_get(cmd, "action"), &r)) {
		failf(sc, line, "%s: %s", what, r.msg);
		return;
	}
	if (r.trap == WASM_OK) {
		failf(sc, line, "%s: returned normally, expected \"%s\"", what, text ? text : "");
		return;
	}
	if (exhaustion && r.trap != WASM_TRAP_STACK_EXHAUSTED) {
		failf(sc, line, "%s: trapped with \"%s\"", what, r.msg);
		return;
	}
	if (text && !text_agrees(wasm_trap_name(r.trap), text)) {
		failf(sc, line, "%s: trapped with \"%s\", expected \"%s\"", what, r.msg, text);
		return;
	}
	pass(sc, line, what, NULL);
}

static void cmd_module(struct script *sc, json_t *cmd, int line)
{
	const char *file = json_string_value(json_object_get(cmd, "filename"));
	const char *name = json_string_value(json_object_get(cmd, "name"));
	struct verr err = {{0}};
	enum wasm_trap trap;
	sc->current = NULL;
	struct wasm_module *m = file ? load_module(sc, file, &err) : NULL;
	struct wasm_instance *in = m ? instantiate(sc, m, &trap, &err) : NULL;
	if (!in) {
		failf(sc, line, "module %s: %s", file ? file : "?", err.msg);
		return;
	}
	sc->current = in;
	if (name)
		add_name(sc->names, &sc->nnames, name, in);
	pass(sc, line, "module", NULL);
}

static void cmd_register(struct script *sc, json_t *cmd, int line)
{
	const char *as = json_string_value(json_object_get(cmd, "as"));
	const char *name = json_string_value(json_object_get(cmd, "name"));
	struct wasm_instance *in = name ? find(sc->names, sc->nnames, name) : sc->current;
	if (!as || !in) {
		failf(sc, line, "register: no such module");
		return;
	}
	add_name(sc->registered, &sc->nregistered, as, in);
}

static void cmd_action(struct script *sc, json_t *cmd, int line)
{
	struct action_result r;
	if (run_action(sc, json_object_get(cmd, "action"), &r) || r.trap != WASM_OK)
		failf(sc, line, "action: %s", r.msg);
	else
		pass(sc, line, "action", NULL);
}

/* assert_invalid / assert_malformed: the binary module must be rejected. */
static void cmd_assert_rejected(struct script *sc, json_t *cmd, int line, const char *what)
{
	const char *file = json_string_value(json_object_get(cmd, "filename"));
	const char *text = json_string_value(json_object_get(cmd, "text"));
	const char *mtype = json_string_value(json_object_get(cmd, "module_type"));
	if (mtype && strcmp(mtype, "binary")) {
		sc->skipped++;
		fprintf(sc->out, "SKIP %d %s: text module (a wabt parse error, not ours)\n", line,
			what);
		return;
	}
	struct verr err = {{0}};
	struct wasm_module *m = file ? load_module(sc, file, &err) : NULL;
	if (m) {
		failf(sc, line, "%s: module accepted, expected \"%s\"", what, text ? text : "");
		return;
	}
	char note[700];
	snprintf(note, sizeof(note), "expected \"%s\", got \"%s\"", text ? text : "", err.msg);
	pass(sc, line, what, note);
}

/* assert_unlinkable / assert_uninstantiable (and assert_trap of a module). */
static void cmd_assert_instantiate(struct script *sc, json_t *cmd, int line, const char *what,
				   bool want_trap)
{
	const char *file = json_string_value(json_object_get(cmd, "filename"));
	const char *text = json_string_value(json_object_get(cmd, "text"));
	struct verr err = {{0}};
	enum wasm_trap trap = WASM_OK;
	struct wasm_module *m = file ? load_module(sc, file, &err) : NULL;
	if (!m) {
		failf(sc, line, "%s: module rejected: %s", what, err.msg);
		return;
	}
	if (instantiate(sc, m, &trap, &err)) {
		failf(sc, line, "%s: instantiated, expected \"%s\"", what, text ? text : "");
		return;
	}
	if (want_trap != (trap != WASM_OK)) {
		failf(sc, line, "%s: %s \"%s\"", what, want_trap ? "did not trap" : "trapped",
		      err.msg);
		return;
	}
	char note[700];
	snprintf(note, sizeof(note), "expected \"%s\", got \"%s\"", text ? text : "", err.msg);
	pass(sc, line, what, note);
}

static void run_command(struct script *sc, json_t *cmd)
{
	const char *type = json_string_value(json_object_get(cmd, "type"));
	int line = (int)json_integer_value(json_object_get(cmd, "line"));
	if (!type)
		failf(sc, line, "command without a type");
	else if (!strcmp(type, "module"))
		cmd_module(sc, cmd, line);
	else if (!strcmp(type, "register"))
		cmd_register(sc, cmd, line);
	else if (!strcmp(type, "action"))
		cmd_action(sc, cmd, line);
	else if (!strcmp(type, "assert_return"))
		cmd_assert_return(sc, cmd, line);
	else if (!strcmp(type, "assert_trap") && json_object_get(cmd, "filename"))
		cmd_assert_instantiate(sc, cmd, line, "assert_trap", true);
	else if (!strcmp(type, "assert_trap"))
		cmd_assert_trap_action(sc, cmd, line, false);
	else if (!strcmp(type, "assert_exhaustion"))
		cmd_assert_trap_action(sc, cmd, line, true);
	else if (!strcmp(type, "assert_invalid") || !strcmp(type, "assert_malformed"))
		cmd_assert_rejected(sc, cmd, line, type);
	else if (!strcmp(type, "assert_unlinkable"))
		cmd_assert_instantiate(sc, cmd, line, type, false);
	else if (!strcmp(type, "assert_uninstantiable"))
		cmd_assert_instantiate(sc, cmd, line, type, true);
	else
		failf(sc, line, "unknown command \"%s\"", type);
}

static void script_free(struct script *sc)
{
	for (unsigned i = 0; i < sc->nnames; i++)
		free(sc->names[i].name);
	for (unsigned i = 0; i < sc->nregistered; i++)
		free(sc->registered[i].name);
	wasm_store_free(sc->store);
	free(sc->dir);
	free(sc);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	return strndup(path, (size_t)(slash - path));
}

int wasm_spectest_run(const char *json_path, FILE *out, unsigned *passed, unsigned *failed,
		      struct verr *err)
{
	json_error_t jerr;
	json_t *root = json_load_file(json_path, JSON_ALLOW_NUL, &jerr);
	if (!root)
		return verr_set(err, EINVAL, "%s: %s (line %d)", json_path, jerr.text, jerr.line);
	json_t *cmds = json_object_get(root, "commands");
	struct script *sc = calloc(1, sizeof(*sc));
	if (!sc || !json_is_array(cmds)) {
		free(sc);
		json_decref(root);
		return verr_set(err, EINVAL, "%s: no commands", json_path);
	}
	sc->out = out;
	sc->dir = dir_of(json_path);
	sc->store = wasm_store_new();
	if (!sc->dir || !sc->store || spectest_module(sc)) {
		script_free(sc);
		json_decref(root);
		return verr_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < json_array_size(cmds); i++)
		run_command(sc, json_array_get(cmds, i));
	fprintf(out, "%s: %u passed, %u failed, %u skipped (text modules)\n", json_path, sc->passed,
		sc->failed, sc->skipped);
	*passed = sc->passed;
	*failed = sc->failed;
	script_free(sc);
	json_decref(root);
	return 0;
}
