/* SPDX-License-Identifier: MIT */
/*
 * WASI preview 1 ("wasi_snapshot_preview1") for the WebAssembly process VM.
 *
 * A struct wasi holds one program's view of the host: its arguments and
 * environment, and a table of file descriptors (0-2 are the host's stdio,
 * then one per directory granted with --dir).  Paths always resolve beneath
 * one of those directories: no "..", absolute path or symlink leads out.
 *
 * wasi_link supplies host functions for a module's imports; wasi_run calls
 * its _start and turns proc_exit into an exit code.
 */
#ifndef VESSEL_WASI_WASI_H
#define VESSEL_WASI_WASI_H

#include <stdint.h>

#include "util/log.h"
#include "wasm/wasm.h"

struct wasi_config {
	const char *const *argv; /* argv[0] is the program's name */
	uint32_t argc;
	const char *const *env; /* "NAME=VALUE" */
	uint32_t envc;
	/* Host directories to grant; the program sees each under the name given here. */
	const char *const *dirs;
	uint32_t ndirs;
	/* The run's time limit (0: none): sleeping in poll_oneoff ends there, so that the
	 * engine's own limit (wasm_store_set_limits) can stop the program. */
	uint64_t timeout_ms;
};

struct wasi;

/* Opens the granted directories.  Returns NULL and fills 'err' if one cannot be opened. */
struct wasi *wasi_new(const struct wasi_config *cfg, struct verr *err);
void wasi_free(struct wasi *w);

/*
 * Fill imports[0 .. wasm_module_import_count(m)) for module m.  Every function of
 * wasi_snapshot_preview1 is provided; names this implementation does not know get a
 * function of the imported type that returns ENOSYS.  Any other import is an error
 * ("unknown import: <module>.<name>").  The host functions live in 'store' and refer
 * to 'w', which must outlive the store's calls.  Returns 0 or -errno.
 */
int wasi_link(struct wasi *w, struct wasm_store *store, const struct wasm_module *m,
	      struct wasm_extern *imports, struct verr *err);

/*
 * Call the instance's "_start".  Returns 0 when it ran: *trap is WASM_OK when it
 * returned (*exit_code 0) or called proc_exit (*exit_code its code), else the trap,
 * whose message is in the store (wasm_store_trap_message).  Returns -ENOENT and fills
 * 'err' when the module exports no "_start" function.
 */
int wasi_run(struct wasm_store *store, struct wasm_instance *inst, int *exit_code,
	     enum wasm_trap *trap, struct verr *err);

/* Test hook: resolve paths without openat2 even where the kernel has it. */
void wasi_force_path_fallback(int on);

#endif
