/* SPDX-License-Identifier: MIT */
/*
 * The WebAssembly embedding API: host functions (results, failures, exit,
 * memory access, calls back into code), externs, fuel and time limits, and
 * hostile modules (deep nesting, huge counts, random corruption) that must be
 * rejected without crashing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasm/wasm.h"

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

struct host {
	struct wasm_instance *inst;
	int calls;
};

static enum wasm_trap host_add(struct wasm_call *call, void *ctx, const struct wasm_val *args,
			       struct wasm_val *results)
{
	(void)call;
	((struct host *)ctx)->calls++;
	results[0].i32 = args[0].i32 + args[1].i32;
	return WASM_OK;
}

static enum wasm_trap host_fail(struct wasm_call *call, void *ctx, const struct wasm_val *args,
				struct wasm_val *results)
{
	(void)ctx, (void)args, (void)results;
	return wasm_call_fail(call, "host says no (%d)", 42);
}

static enum wasm_trap host_exit(struct wasm_call *call, void *ctx, const struct wasm_val *args,
				struct wasm_val *results)
{
	(void)ctx, (void)results;
	return wasm_call_exit(call, (int)args[0].i32);
}

static enum wasm_trap host_poke(struct wasm_call *call, void *ctx, const struct wasm_val *args,
				struct wasm_val *results)
{
	(void)ctx, (void)results;
	struct wasm_memory *mem = wasm_call_memory(call);
	if (!mem || wasm_memory_check(mem, args[0].i32, 4))
		return wasm_call_fail(call, "bad address");
	uint32_t v = 0xfeedf00d;
	memcpy(wasm_memory_data(mem) + args[0].i32, &v, 4);
	return WASM_OK;
}

static enum wasm_trap host_reenter(struct wasm_call *call, void *ctx, const struct wasm_val *args,
				   struct wasm_val *results)
{
	struct host *h = ctx;
	struct wasm_extern ex;
	struct wasm_val r;
	if (wasm_instance_export(h->inst, "double", &ex))
		return wasm_call_fail(call, "no double");
	enum wasm_trap t = wasm_func_call(ex.func, args, 1, &r, 1);
	if (t != WASM_OK)
		return t;
	results[0].i32 = r.i32 + 1;
	return WASM_OK;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	static uint8_t buf[1 << 20];
	*len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return buf;
}

static struct wasm_func *export_func(struct wasm_instance *in, const char *name)
{
	struct wasm_extern ex;
	if (wasm_instance_export(in, name, &ex) || ex.kind != WASM_EXTERN_FUNC)
		return NULL;
	return ex.func;
}

static struct wasm_val i32v(uint32_t v)
{
	return (struct wasm_val){.type = WASM_I32, .i32 = v};
}

static void test_host(struct wasm_store *s, struct wasm_instance *in, struct host *h)
{
	struct wasm_val args[2] = {i32v(40), i32v(2)}, r;
	CHECK(wasm_func_call(export_func(in, "call_add"), args, 2, &r, 1) == WASM_OK);
	CHECK(r.type == WASM_I32 && r.i32 == 42 && h->calls == 1);

	CHECK(wasm_func_call(export_func(in, "call_fail"), NULL, 0, NULL, 0) == WASM_TRAP_HOST);
	CHECK(strcmp(wasm_store_trap_message(s), "host says no (42)") == 0);

	CHECK(wasm_func_call(export_func(in, "call_exit"), NULL, 0, NULL, 0) == WASM_TRAP_EXIT);
	CHECK(wasm_store_exit_code(s) == 3);

	CHECK(wasm_func_call(export_func(in, "poke_then_load"), NULL, 0, &r, 1) == WASM_OK);
	CHECK(r.i32 == 0xfeedf00d);

	args[0] = i32v(20);
	CHECK(wasm_func_call(export_func(in, "reenter"), args, 1, &r, 1) == WASM_OK);
	CHECK(r.i32 == 41);

	/* a wrong call is refused, not run */
	CHECK(wasm_func_call(export_func(in, "call_add"), args, 1, &r, 1) == WASM_TRAP_HOST);
	struct wasm_val f = {.type = WASM_F64, .f64 = 0x7ff4000000000001ull};
	CHECK(wasm_func_call(export_func(in, "f64_id"), &f, 1, &r, 1) == WASM_OK);
	CHECK(r.type == WASM_F64 && r.f64 == 0x7ff4000000000001ull); /* signalling NaN kept */
}

static void test_externs(struct wasm_instance *in)
{
	struct wasm_extern ex;
	CHECK(wasm_instance_export(in, "nope", &ex) == -ENOENT);
	CHECK(wasm_instance_export(in, "memory", &ex) == 0 && ex.kind == WASM_EXTERN_MEMORY);
	struct wasm_memory *mem = ex.memory;
	CHECK(wasm_memory_size(mem) == 65536);
	CHECK(wasm_memory_check(mem, 65532, 4) == 0);
	CHECK(wasm_memory_check(mem, 65533, 4) == -EFAULT);
	CHECK(wasm_memory_check(mem, UINT64_MAX, 2) == -EFAULT);
	CHECK(wasm_memory_check(mem, 1, UINT64_MAX) == -EFAULT);
	CHECK(wasm_memory_grow(mem, 1) == 1);
	CHECK(wasm_memory_grow(mem, 1) == -1); /* max 2 */
	CHECK(wasm_memory_size(mem) == 131072);
	wasm_memory_data(mem)[131071] = 7;

	CHECK(wasm_instance_export(in, "counter", &ex) == 0 && ex.kind == WASM_EXTERN_GLOBAL);
	CHECK(wasm_global_set(ex.global, i32v(5)) == 0);
	CHECK(wasm_global_get(ex.global).i32 == 5);
	CHECK(wasm_global_set(ex.global, (struct wasm_val){.type = WASM_I64}) == -EINVAL);
	CHECK(wasm_instance_export(in, "const", &ex) == 0);
	CHECK(wasm_global_set(ex.global, (struct wasm_val){.type = WASM_I64}) == -EPERM);
	CHECK(wasm_global_get(ex.global).i64 == 9);

	CHECK(wasm_instance_export(in, "table", &ex) == 0 && ex.kind == WASM_EXTERN_TABLE);
	struct wasm_val v;
	CHECK(wasm_table_size(ex.table) == 2);
	CHECK(wasm_table_get(ex.table, 0, &v) == 0 && v.ref == export_func(in, "double"));
	CHECK(wasm_table_get(ex.table, 1, &v) == 0 && v.ref == NULL);
	CHECK(wasm_table_get(ex.table, 2, &v) != 0);
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_limits(struct wasm_store *s, struct wasm_instance *in)
{
	struct wasm_val arg = i32v(1000), r;
	wasm_store_set_limits(s, 1000000, 0);
	CHECK(wasm_func_call(export_func(in, "spin"), NULL, 0, NULL, 0) == WASM_TRAP_FUEL);
	CHECK(wasm_func_call(export_func(in, "spin_calls"), NULL, 0, NULL, 0) == WASM_TRAP_FUEL);
	/* fuel is per call: a short call still runs */
	struct wasm_extern ex;
	wasm_instance_export(in, "counter", &ex);
	wasm_global_set(ex.global, i32v(0));
	CHECK(wasm_func_call(export_func(in, "count"), &arg, 1, &r, 1) == WASM_OK && r.i32 == 1000);
	wasm_store_set_limits(s, 0, 50);
	double t0 = seconds();
	CHECK(wasm_func_call(export_func(in, "spin"), NULL, 0, NULL, 0) == WASM_TRAP_FUEL);
	double took = seconds() - t0;
	CHECK(took >= 0.045 && took < 2.0);
	wasm_store_set_limits(s, 0, 0);
}

/* A module with one function type [] -> [] and one body. */
static size_t module_with_body(uint8_t *out, const uint8_t *body, size_t n, uint32_t nlocals)
{
	static const uint8_t head[] = {0, 'a', 's',  'm', 1, 0, 0, 0, 1,
				       4, 1,   0x60, 0,	  0, 3, 2, 1, 0};
	size_t at = 0;
	memcpy(out, head, sizeof(head));
	at = sizeof(head);
	uint8_t locals[16];
	size_t nl = 0;
	if (nlocals) {
		locals[nl++] = 1;
		uint32_t v = nlocals;
		do {
			locals[nl++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
			v >>= 7;
		} while (v);
		locals[nl++] = 0x7f;
	} else {
		locals[nl++] = 0;
	}
	size_t body_len = nl + n, sect_len = 1 + 5 + body_len;
	out[at++] = 10;
	for (int i = 0; i < 5; i++)
		out[at++] = ((sect_len >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0);
	out[at++] = 1;
	for (int i = 0; i < 5; i++)
		out[at++] = ((body_len >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0);
	memcpy(out + at, locals, nl);
	at += nl;
	memcpy(out + at, body, n);
	return at + n;
}

static void expect_rejected(struct wasm_store *s, const uint8_t *m, size_t n, const char *why)
{
	struct verr err = {{0}};
	CHECK(wasm_module_load(s, m, n, &err) == NULL);
	if (strncmp(err.msg, why, strlen(why)) != 0) {
		fprintf(stderr, "expected \"%s\", got \"%s\"\n", why, err.msg);
		failures++;
	}
}

static void test_hostile(struct wasm_store *s)
{
	size_t n = 200000;
	uint8_t *body = malloc(n * 2 + 16), *mod = malloc(n * 2 + 64);
	/* 100000 nested blocks: more than the nesting limit */
	size_t k = 0;
	for (size_t i = 0; i < n / 2; i++)
		body[k++] = 0x02, body[k++] = 0x40;
	for (size_t i = 0; i < n / 2; i++)
		body[k++] = 0x0b;
	body[k++] = 0x0b;
	expect_rejected(s, mod, module_with_body(mod, body, k, 0), "nesting too deep");
	/* 100000 constants on the operand stack */
	k = 0;
	for (size_t i = 0; i < n / 2; i++)
		body[k++] = 0x41, body[k++] = 0;
	body[k++] = 0x0b;
	expect_rejected(s, mod, module_with_body(mod, body, k, 0), "operand stack too deep");
	/* too many locals */
	body[0] = 0x0b;
	expect_rejected(s, mod, module_with_body(mod, body, 1, 50001), "too many locals");
	struct verr err;
	CHECK(wasm_module_load(s, mod, module_with_body(mod, body, 1, 50000), &err) != NULL);
	free(body);
	free(mod);
	/* a body of more than 8 MiB (of nops) */
	n = (9u << 20);
	body = malloc(n);
	mod = malloc(n + 64);
	memset(body, 0x01, n);
	body[n - 1] = 0x0b;
	expect_rejected(s, mod, module_with_body(mod, body, n, 0), "function body too large");
	free(body);
	free(mod);
}

/* Corrupt a valid module at random: loading must fail cleanly or succeed, never crash. */
static void test_mutations(struct wasm_store *s, const uint8_t *wasm, size_t len)
{
	uint8_t *copy = malloc(len);
	unsigned seed = 12345, accepted = 0;
	for (int iter = 0; iter < 3000; iter++) {
		memcpy(copy, wasm, len);
		int edits = 1 + iter % 4;
		for (int e = 0; e < edits; e++) {
			seed = seed * 1103515245 + 12345;
			size_t at = 8 + (seed >> 8) % (len - 8);
			seed = seed * 1103515245 + 12345;
			copy[at] = (uint8_t)(seed >> 16);
		}
		size_t n = iter % 7 == 0 ? len - (seed % len) : len; /* sometimes truncated */
		struct verr err;
		if (wasm_module_load(s, copy, n, &err))
			accepted++;
	}
	CHECK(accepted < 3000);
	free(copy);
}

int main(int argc, char **argv)
{
	size_t len = 0;
	const uint8_t *wasm = argc > 1 ? read_file(argv[1], &len) : NULL;
	if (!wasm) {
		fprintf(stderr, "usage: test_api api.wasm\n");
		return 1;
	}
	struct wasm_store *s = wasm_store_new();
	struct verr err;
	struct wasm_module *m = wasm_module_load(s, wasm, len, &err);
	CHECK(m != NULL);
	if (!m)
		return 1;
	CHECK(wasm_module_import_count(m) == 5);
	const char *mod, *name;
	enum wasm_extern_kind kind;
	CHECK(wasm_module_import(m, 0, &mod, &name, &kind) == 0 && !strcmp(mod, "host") &&
	      !strcmp(name, "add") && kind == WASM_EXTERN_FUNC);
	CHECK(wasm_module_import_functype(m, 0)->nparams == 2);
	CHECK(wasm_module_export_count(m) > 5);

	struct host h = {0};
	static const enum wasm_valtype ii[2] = {WASM_I32, WASM_I32}, i[1] = {WASM_I32};
	struct wasm_functype t_add = {2, 1, ii, i}, t_v = {0, 0, NULL, NULL}, t_i = {1, 0, i, NULL};
	struct wasm_functype t_ii = {1, 1, i, i};
	struct wasm_extern imports[5] = {
	    {.kind = WASM_EXTERN_FUNC, .func = wasm_func_new_host(s, &t_add, host_add, &h)},
	    {.kind = WASM_EXTERN_FUNC, .func = wasm_func_new_host(s, &t_v, host_fail, &h)},
	    {.kind = WASM_EXTERN_FUNC, .func = wasm_func_new_host(s, &t_i, host_exit, &h)},
	    {.kind = WASM_EXTERN_FUNC, .func = wasm_func_new_host(s, &t_i, host_poke, &h)},
	    {.kind = WASM_EXTERN_FUNC, .func = wasm_func_new_host(s, &t_ii, host_reenter, &h)},
	};
	/* a host function of the wrong type does not link */
	struct wasm_extern bad[5];
	memcpy(bad, imports, sizeof(bad));
	bad[0].func = imports[1].func;
	CHECK(wasm_instance_new(s, m, bad, 5, NULL, &err) == NULL);
	CHECK(strncmp(err.msg, "incompatible import type", 24) == 0);
	CHECK(wasm_instance_new(s, m, imports, 4, NULL, &err) == NULL);
	/* a module is instantiated in its own store only (its machine code refers to it) */
	struct wasm_store *other = wasm_store_new();
	CHECK(wasm_instance_new(other, m, imports, 5, NULL, &err) == NULL);
	CHECK(strstr(err.msg, "another store") != NULL);
	wasm_store_free(other);

	enum wasm_trap trap;
	struct wasm_instance *in = wasm_instance_new(s, m, imports, 5, &trap, &err);
	CHECK(in != NULL);
	if (!in)
		return 1;
	h.inst = in;
	test_host(s, in, &h);
	test_externs(in);
	test_limits(s, in);
	test_hostile(s);
	test_mutations(s, wasm, len);
	wasm_store_free(s);
	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	else
		printf("wasm api: all checks passed\n");
	return failures ? 1 : 0;
}
