/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the WebAssembly loader: decode and validate any bytes; when a
 * module loads, link every import to something of the right kind, instantiate
 * it and call each exported function with zero arguments, under a fuel limit.
 * Nothing here may crash, hang or leak, whatever the input.  Where the host can
 * run machine code, everything runs twice, compiled by the JIT and interpreted,
 * and the outcomes of the calls (trap or results) must be the same.
 *
 * Built with libFuzzer by fuzz/run.sh; fuzz/replay.c runs the kept corpus
 * through the same function in the unit tests.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/wasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fuel per call: enough to run loops a while, small enough to be fast. */
#define FUZZ_FUEL 20000

/* Any imported function: zero results. */
static enum wasm_trap fuzz_host(struct wasm_call *call, void *ctx, const struct wasm_val *args,
				struct wasm_val *results)
{
	(void)args;
	const struct wasm_functype *t = ctx;
	struct wasm_memory *mem = wasm_call_memory(call);
	if (mem)
		(void)wasm_memory_check(mem, 0, 1);
	for (uint32_t i = 0; i < t->nresults; i++) {
		memset(&results[i], 0, sizeof(results[i]));
		results[i].type = t->results[i];
	}
	return WASM_OK;
}

static void fuzz_imports(struct wasm_store *store, const struct wasm_module *m,
			 struct wasm_extern *imports, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const char *mod, *name;
		enum wasm_extern_kind kind = WASM_EXTERN_FUNC;
		wasm_module_import(m, i, &mod, &name, &kind);
		imports[i].kind = kind;
		switch (kind) {
		case WASM_EXTERN_FUNC: {
			const struct wasm_functype *t = wasm_module_import_functype(m, i);
			imports[i].func = wasm_func_new_host(store, t, fuzz_host, (void *)t);
			break;
		}
		case WASM_EXTERN_MEMORY:
			/* Limits may not match; then linking fails, which is also tested. */
			imports[i].memory = wasm_memory_new(store, 1, 2);
			break;
		case WASM_EXTERN_TABLE:
			imports[i].table = wasm_table_new(store, WASM_FUNCREF, 10, 20);
			break;
		case WASM_EXTERN_GLOBAL: {
			struct wasm_val v = {.type = WASM_I32};
			imports[i].global = wasm_global_new(store, v, 0);
			break;
		}
		}
	}
}

/* What the calls of one run did: a trap or a hash of the results, per call. */
#define FUZZ_MAX_CALLS 64
struct fuzz_outcome {
	uint32_t n;
	enum wasm_trap trap[FUZZ_MAX_CALLS];
	uint64_t hash[FUZZ_MAX_CALLS];
};

/* NaN bits are not determined by the spec (nor the same in C and machine code). */
static uint64_t fuzz_bits(const struct wasm_val *v)
{
	if (v->type == WASM_F32) {
		float f;
		memcpy(&f, &v->f32, 4);
		return isnan(f) ? 0x7fc00000u : v->f32;
	}
	if (v->type == WASM_F64) {
		double d;
		memcpy(&d, &v->f64, 8);
		return isnan(d) ? 0x7ff8000000000000ull : v->f64;
	}
	return v->type == WASM_I32 ? v->i32 : v->i64;
}

static void fuzz_call_exports(struct wasm_instance *inst, const struct wasm_module *m,
			      struct fuzz_outcome *out)
{
	uint32_t n = wasm_module_export_count(m);
	for (uint32_t i = 0; i < n && i < 64; i++) {
		const char *name;
		enum wasm_extern_kind kind;
		struct wasm_extern e;
		if (wasm_module_export(m, i, &name, &kind) < 0 || kind != WASM_EXTERN_FUNC)
			continue;
		if (wasm_instance_export(inst, name, &e) < 0 || e.kind != WASM_EXTERN_FUNC)
			continue;
		const struct wasm_functype *t = wasm_func_type(e.func);
		struct wasm_val args[16], res[16];
		if (t->nparams > 16 || t->nresults > 16)
			continue;
		for (uint32_t j = 0; j < t->nparams; j++) {
			memset(&args[j], 0, sizeof(args[j]));
			args[j].type = t->params[j];
		}
		enum wasm_trap trap = wasm_func_call(e.func, args, t->nparams, res, t->nresults);
		uint64_t h = 0;
		for (uint32_t j = 0; trap == WASM_OK && j < t->nresults; j++)
			h = h * 1000003u ^ fuzz_bits(&res[j]);
		out->trap[out->n] = trap;
		out->hash[out->n++] = h;
	}
}

static void fuzz_run(const uint8_t *data, size_t size, bool jit, struct fuzz_outcome *out)
{
	struct wasm_store *store = wasm_store_new();
	if (!store)
		return;
	wasm_store_set_jit(store, jit);
	wasm_store_set_limits(store, FUZZ_FUEL, 0);
	struct verr err;
	struct wasm_module *m = wasm_module_load(store, data, size, &err);
	if (m) {
		uint32_t n = wasm_module_import_count(m);
		struct wasm_extern *imports = calloc(n ? n : 1, sizeof(*imports));
		if (imports) {
			fuzz_imports(store, m, imports, n);
			enum wasm_trap trap;
			struct wasm_instance *inst =
			    wasm_instance_new(store, m, imports, n, &trap, &err);
			if (inst)
				fuzz_call_exports(inst, m, out);
			free(imports);
		}
	}
	wasm_store_free(store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_outcome a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	fuzz_run(data, size, true, &a);
	fuzz_run(data, size, false, &b);
	for (uint32_t i = 0; i < a.n || i < b.n; i++)
		if (a.n != b.n || a.trap[i] != b.trap[i] || a.hash[i] != b.hash[i]) {
			fprintf(stderr,
				"call %u: jit trap %d hash %llx, interpreter trap %d hash %llx\n",
				i, a.trap[i], (unsigned long long)a.hash[i], b.trap[i],
				(unsigned long long)b.hash[i]);
			abort();
		}
	return 0;
}
