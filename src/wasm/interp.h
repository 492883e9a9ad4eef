/* SPDX-License-Identifier: MIT */
/* Interpreter internals shared by interp.c and runtime.c. */
#ifndef VESSEL_WASM_INTERP_H
#define VESSEL_WASM_INTERP_H

#include "wasm/internal.h"

/* What a host function sees of the call that reached it. */
struct wasm_call {
	struct wasm_store *store;
	struct wasm_instance *inst; /* the calling instance, NULL from the API */
};

enum wasm_trap wasm_host_call(struct wasm_store *s, struct wasm_func *f, uint64_t *slots,
			      struct wasm_instance *caller);

#endif
