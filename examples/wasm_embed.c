/* SPDX-License-Identifier: MIT */
/*
 * Embedding Vessel's WebAssembly VM: load a module, give it a host function,
 * call its exports, and read and write its linear memory.
 *
 * usage: wasm_embed module.wasm   (the module is examples/wasm_embed.wat)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/wasm.h"

/* host.print(ptr, len): the module passes a string in its memory. */
static enum wasm_trap host_print(struct wasm_call *call, void *ctx, const struct wasm_val *args,
				 struct wasm_val *results)
{
	(void)results;
	int *calls = ctx;
	struct wasm_memory *mem = wasm_call_memory(call);
	uint32_t ptr = args[0].i32, len = args[1].i32;
	/* Never trust a guest pointer: check the range first. */
	if (!mem || wasm_memory_check(mem, ptr, len))
		return wasm_call_fail(call, "print: [%u, +%u) is outside memory", ptr, len);
	printf("module says: %.*s\n", (int)len, (const char *)wasm_memory_data(mem) + ptr);
	(*calls)++;
	return WASM_OK;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct wasm_func *export_func(struct wasm_instance *inst, const char *name)
{
	struct wasm_extern e;
	if (wasm_instance_export(inst, name, &e) < 0 || e.kind != WASM_EXTERN_FUNC)
		return NULL;
	return e.func;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: wasm_embed module.wasm\n");
		return 2;
	}
	size_t len;
	uint8_t *bytes = slurp(argv[1], &len);
	if (!bytes) {
		fprintf(stderr, "wasm_embed: cannot read %s\n", argv[1]);
		return 1;
	}

	/* 1. A store owns everything; the module is validated and translated once. */
	struct wasm_store *store = wasm_store_new();
	struct verr err;
	struct wasm_module *m = wasm_module_load(store, bytes, len, &err);
	free(bytes);
	if (!m) {
		fprintf(stderr, "wasm_embed: %s\n", err.msg);
		wasm_store_free(store);
		return 1;
	}

	/* 2. The host function for the module's one import, (i32, i32) -> (). */
	int calls = 0;
	static const enum wasm_valtype print_params[] = {WASM_I32, WASM_I32};
	struct wasm_functype print_type = {.nparams = 2, .params = print_params};
	struct wasm_extern imports[1] = {
	    {.kind = WASM_EXTERN_FUNC,
	     .func = wasm_func_new_host(store, &print_type, host_print, &calls)},
	};
	enum wasm_trap trap;
	struct wasm_instance *inst = wasm_instance_new(store, m, imports, 1, &trap, &err);
	if (!inst) {
		fprintf(stderr, "wasm_embed: %s\n", err.msg);
		wasm_store_free(store);
		return 1;
	}

	/* 3. Call exports. */
	struct wasm_func *greet = export_func(inst, "greet"), *fib = export_func(inst, "fib");
	struct wasm_func *sum = export_func(inst, "sum"), *div = export_func(inst, "div");
	if (!greet || !fib || !sum || !div) {
		fprintf(stderr, "wasm_embed: the module lacks an export\n");
		wasm_store_free(store);
		return 1;
	}
	int ok = 1;
	struct wasm_val res[1], args[2];
	trap = wasm_func_call(greet, NULL, 0, res, 1);
	ok &= trap == WASM_OK && res[0].i32 == 28 && calls == 1;

	args[0] = (struct wasm_val){.type = WASM_I32, .i32 = 50};
	trap = wasm_func_call(fib, args, 1, res, 1);
	printf("fib(50) = %llu\n", (unsigned long long)res[0].i64);
	ok &= trap == WASM_OK && res[0].i64 == 12586269025ull;

	/* 4. Write into linear memory from the host, let the module read it. */
	struct wasm_extern mem;
	ok &= wasm_instance_export(inst, "memory", &mem) == 0 && mem.kind == WASM_EXTERN_MEMORY;
	if (ok) {
		const uint32_t at = 1024, n = 100;
		if (wasm_memory_check(mem.memory, at, n) == 0) {
			uint8_t *p = wasm_memory_data(mem.memory) + at;
			for (uint32_t i = 0; i < n; i++)
				p[i] = (uint8_t)i;
		}
		args[0] = (struct wasm_val){.type = WASM_I32, .i32 = at};
		args[1] = (struct wasm_val){.type = WASM_I32, .i32 = n};
		trap = wasm_func_call(sum, args, 2, res, 1);
		printf("sum of 0..99 written by the host = %u\n", res[0].i32);
		ok &= trap == WASM_OK && res[0].i32 == 4950;
		printf("memory: %llu bytes, starts \"%.5s\"\n",
		       (unsigned long long)wasm_memory_size(mem.memory),
		       (const char *)wasm_memory_data(mem.memory));
	}

	/* 5. A trap is a return value, not a crash. */
	args[0] = (struct wasm_val){.type = WASM_I32, .i32 = 1};
	args[1] = (struct wasm_val){.type = WASM_I32, .i32 = 0};
	trap = wasm_func_call(div, args, 2, res, 1);
	printf("div(1, 0) trapped: %s\n", wasm_store_trap_message(store));
	ok &= trap == WASM_TRAP_DIV_ZERO;

	wasm_store_free(store);
	printf("%s\n", ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}
