/* SPDX-License-Identifier: MIT */
/*
 * For difftest.py: load a module, call its export "run" once per argument set
 * ("a,b,..." in the order of the types "t1,t2,..."; "-" for none) and print the i64
 * result in decimal, or "trap".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/wasm.h"

#define DIFF_MAX_ARGS 16

static int parse_types(const char *list, enum wasm_valtype *types)
{
	static const struct {
		const char *name;
		enum wasm_valtype type;
	} names[] = {{"i32", WASM_I32}, {"i64", WASM_I64}, {"f32", WASM_F32}, {"f64", WASM_F64}};
	int n = 0;
	for (const char *p = list; *p && n < DIFF_MAX_ARGS; p += strspn(p, ",")) {
		for (size_t i = 0; i < 4; i++)
			if (!strncmp(p, names[i].name, 3))
				types[n++] = names[i].type;
		p += strcspn(p, ",");
	}
	return n;
}

static void parse_args(const char *list, const enum wasm_valtype *types, int n,
		       struct wasm_val *args)
{
	char *end = (char *)list;
	for (int i = 0; i < n; i++) {
		const char *p = i ? end + 1 : list;
		args[i].type = types[i];
		if (types[i] == WASM_I32) {
			args[i].i32 = (uint32_t)strtoll(p, &end, 10);
		} else if (types[i] == WASM_I64) {
			args[i].i64 = (uint64_t)strtoll(p, &end, 10);
		} else if (types[i] == WASM_F32) {
			float v = strtof(p, &end);
			memcpy(&args[i].f32, &v, 4);
		} else {
			double v = strtod(p, &end);
			memcpy(&args[i].f64, &v, 8);
		}
	}
}

int main(int argc, char **argv)
{
	static uint8_t buf[1 << 22];
	FILE *f = argc > 2 ? fopen(argv[1], "rb") : NULL;
	if (!f)
		return 2;
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct wasm_store *s = wasm_store_new();
	struct verr err;
	enum wasm_trap trap;
	struct wasm_module *m = wasm_module_load(s, buf, len, &err);
	struct wasm_instance *in = m ? wasm_instance_new(s, m, NULL, 0, &trap, &err) : NULL;
	struct wasm_extern run;
	if (!in || wasm_instance_export(in, "run", &run)) {
		printf("error: %s\n", err.msg);
		wasm_store_free(s);
		return 1;
	}
	enum wasm_valtype types[DIFF_MAX_ARGS];
	int n = parse_types(argv[2], types);
	for (int k = 3; k < argc; k++) {
		struct wasm_val args[DIFF_MAX_ARGS], r;
		parse_args(argv[k], types, n, args);
		if (wasm_func_call(run.func, args, (uint32_t)n, &r, 1) == WASM_OK)
			printf("%llu\n", (unsigned long long)r.i64);
		else
			printf("trap\n");
	}
	wasm_store_free(s);
	return 0;
}
