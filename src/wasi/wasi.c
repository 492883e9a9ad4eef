/* SPDX-License-Identifier: MIT */
/*
 * WASI: the program's state (arguments, environment, descriptor table), linking
 * a module's imports to host functions, and running _start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

/* One imported function bound to this program: what wasi_dispatch needs. */
struct wasi_binding {
	struct wasi *w;
	const struct wasi_import *imp; /* NULL: a name we do not implement */
	int returns_errno;	       /* for unknown names: the type is () -> i32-like */
	char *name;
	struct wasi_binding *next;
};

static char **strv_copy(const char *const *v, uint32_t n)
{
	char **out = calloc(n + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		out[i] = strdup(v[i]);
		if (!out[i]) {
			for (uint32_t j = 0; j < i; j++)
				free(out[j]);
			free(out);
			return NULL;
		}
	}
	return out;
}

static void strv_free(char **v, uint32_t n)
{
	if (!v)
		return;
	for (uint32_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The guest's stdio are duplicates, so that fd_close(1) cannot close the VM's stdout. */
static int wasi_add_stdio(struct wasi *w, int host_fd)
{
	struct stat st;
	int fd = fcntl(host_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	uint64_t rights = WASI_RIGHTS_FILE;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		rights &= ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL);
	int r = wasi_fd_install(w, fd, wasi_filetype(st.st_mode), rights, 0);
	if (r < 0) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

static int wasi_add_preopen(struct wasi *w, const char *dir, struct verr *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return verr_set(err, errno, "--dir %s: %s", dir, strerror(errno));
	int slot = wasi_fd_install(w, fd, WASI_FILETYPE_DIRECTORY, WASI_RIGHTS_DIR,
				   WASI_RIGHTS_DIR | WASI_RIGHTS_FILE);
	if (slot < 0) {
		close(fd);
		return verr_set(err, ENOMEM, "--dir %s: too many directories", dir);
	}
	w->fds[slot].preopen = strdup(dir);
	if (!w->fds[slot].preopen)
		return verr_set(err, ENOMEM, "out of memory");
	return 0;
}

struct wasi *wasi_new(const struct wasi_config *cfg, struct verr *err)
{
	struct wasi *w = calloc(1, sizeof(*w));
	if (!w) {
		verr_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	w->argc = cfg->argc;
	w->envc = cfg->envc;
	w->deadline = INT64_MAX;
	if (cfg->timeout_ms && cfg->timeout_ms < INT64_MAX / 2000000) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		w->deadline = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec +
			      (int64_t)cfg->timeout_ms * 1000000;
	}
	w->argv = strv_copy(cfg->argv, cfg->argc);
	w->env = strv_copy(cfg->env, cfg->envc);
	if (!w->argv || !w->env) {
		verr_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	for (int i = 0; i < 3; i++) {
		if (wasi_add_stdio(w, i) < 0) {
			verr_set(err, errno, "stdio: %s", strerror(errno));
			goto fail;
		}
	}
	for (uint32_t i = 0; i < cfg->ndirs; i++)
		if (wasi_add_preopen(w, cfg->dirs[i], err) < 0)
			goto fail;
	return w;
fail:
	wasi_free(w);
	return NULL;
}

void wasi_free(struct wasi *w)
{
	if (!w)
		return;
	for (uint32_t i = 0; i < w->nfds; i++)
		wasi_fd_release(&w->fds[i]);
	free(w->fds);
	strv_free(w->argv, w->argc);
	strv_free(w->env, w->envc);
	while (w->bindings) {
		struct wasi_binding *b = w->bindings;
		w->bindings = b->next;
		free(b->name);
		free(b);
	}
	free(w);
}

/* ---- calls ---- */

static enum wasm_trap wasi_dispatch(struct wasm_call *call, void *ctx, const struct wasm_val *args,
				    struct wasm_val *results)
{
	struct wasi_binding *b = ctx;
	struct wasi_call c = {.w = b->w, .call = call, .mem = wasm_call_memory(call)};

	if (!b->imp) {
		if (!b->returns_errno)
			return wasm_call_fail(call, "WASI function %s is not implemented", b->name);
		results[0].type = WASM_I32;
		results[0].i32 = WASI_ENOSYS;
		return WASM_OK;
	}
	int e = b->imp->fn(&c, args);
	if (e == WASI_EXIT_REQUEST)
		return wasm_call_exit(call, (int)args[0].i32);
	if (e == WASI_LIMIT_REACHED)
		return WASM_TRAP_FUEL; /* the engine words the message */
	if (b->imp->results[0]) {
		results[0].type = WASM_I32;
		results[0].i32 = (uint32_t)e;
	}
	return WASM_OK;
}

static const struct wasi_import *wasi_import_find(const char *name)
{
	static const struct wasi_import *const tables[] = {wasi_imports_proc, wasi_imports_fd,
							   wasi_imports_path};
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct wasi_import *imp = tables[t]; imp->name; imp++)
			if (!strcmp(imp->name, name))
				return imp;
	return NULL;
}

static void types_from_sig(const char *sig, enum wasm_valtype *out, uint32_t *n)
{
	*n = 0;
	for (; *sig; sig++)
		out[(*n)++] = *sig == 'I' ? WASM_I64 : WASM_I32;
}

static int functype_equal(const struct wasm_functype *a, const struct wasm_functype *b)
{
	if (a->nparams != b->nparams || a->nresults != b->nresults)
		return 0;
	for (uint32_t i = 0; i < a->nparams; i++)
		if (a->params[i] != b->params[i])
			return 0;
	for (uint32_t i = 0; i < a->nresults; i++)
		if (a->results[i] != b->results[i])
			return 0;
	return 1;
}

static struct wasm_func *wasi_bind(struct wasi *w, struct wasm_store *store, const char *name,
				   const struct wasm_functype *want, struct verr *err)
{
	struct wasi_binding *b = calloc(1, sizeof(*b));
	if (!b || !(b->name = strdup(name))) {
		free(b);
		verr_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	b->w = w;
	b->next = w->bindings;
	w->bindings = b;
	b->imp = wasi_import_find(name);

	struct wasm_functype type = *want;
	enum wasm_valtype params[16], results[2];
	if (b->imp) {
		types_from_sig(b->imp->params, params, &type.nparams);
		types_from_sig(b->imp->results, results, &type.nresults);
		type.params = params;
		type.results = results;
		if (!functype_equal(&type, want)) {
			verr_set(err, EINVAL, "incompatible import type: wasi_snapshot_preview1.%s",
				 name);
			return NULL;
		}
	} else {
		b->returns_errno = want->nresults == 1 && want->results[0] == WASM_I32;
	}
	struct wasm_func *f = wasm_func_new_host(store, &type, wasi_dispatch, b);
	if (!f)
		verr_set(err, ENOMEM, "out of memory");
	return f;
}

int wasi_link(struct wasi *w, struct wasm_store *store, const struct wasm_module *m,
	      struct wasm_extern *imports, struct verr *err)
{
	uint32_t n = wasm_module_import_count(m);
	for (uint32_t i = 0; i < n; i++) {
		const char *mod, *name;
		enum wasm_extern_kind kind;
		if (wasm_module_import(m, i, &mod, &name, &kind) < 0)
			return verr_set(err, EINVAL, "import %u: cannot be read", i);
		const struct wasm_functype *ft = wasm_module_import_functype(m, i);
		if (strcmp(mod, "wasi_snapshot_preview1") || kind != WASM_EXTERN_FUNC || !ft)
			return verr_set(err, ENOENT, "unknown import: %s.%s", mod, name);
		imports[i].kind = WASM_EXTERN_FUNC;
		imports[i].func = wasi_bind(w, store, name, ft, err);
		if (!imports[i].func)
			return -EINVAL;
	}
	return 0;
}

int wasi_run(struct wasm_store *store, struct wasm_instance *inst, int *exit_code,
	     enum wasm_trap *trap, struct verr *err)
{
	struct wasm_extern start;
	if (wasm_instance_export(inst, "_start", &start) < 0 || start.kind != WASM_EXTERN_FUNC)
		return verr_set(err, ENOENT, "the module exports no _start function");
	const struct wasm_functype *t = wasm_func_type(start.func);
	if (t->nparams || t->nresults)
		return verr_set(err, EINVAL, "_start has parameters or results");
	*exit_code = 0;
	*trap = wasm_func_call(start.func, NULL, 0, NULL, 0);
	if (*trap == WASM_TRAP_EXIT) {
		*exit_code = wasm_store_exit_code(store);
		*trap = WASM_OK;
	}
	return 0;
}

/* ---- helpers shared by the host functions ---- */

int wasi_store_u32(const struct wasi_call *c, uint32_t addr, uint32_t v)
{
	uint8_t *p = wasi_mem(c, addr, 4);
	if (!p)
		return WASI_EFAULT;
	wasi_put_u32(p, v);
	return 0;
}

int wasi_store_u64(const struct wasi_call *c, uint32_t addr, uint64_t v)
{
	uint8_t *p = wasi_mem(c, addr, 8);
	if (!p)
		return WASI_EFAULT;
	wasi_put_u64(p, v);
	return 0;
}

int wasi_errno(int e)
{
	/* Host errno -> WASI errno; the WASI numbering is alphabetical, Linux's is not. */
	static const struct {
		int host;
		uint8_t wasi;
	} map[] = {
	    {E2BIG, 1},		{EACCES, 2},
	    {EADDRINUSE, 3},	{EADDRNOTAVAIL, 4},
	    {EAFNOSUPPORT, 5},	{EAGAIN, 6},
	    {EALREADY, 7},	{EBADF, 8},
	    {EBADMSG, 9},	{EBUSY, 10},
	    {ECANCELED, 11},	{ECHILD, 12},
	    {ECONNABORTED, 13}, {ECONNREFUSED, 14},
	    {ECONNRESET, 15},	{EDEADLK, 16},
	    {EDESTADDRREQ, 17}, {EDOM, 18},
	    {EDQUOT, 19},	{EEXIST, 20},
	    {EFAULT, 21},	{EFBIG, 22},
	    {EHOSTUNREACH, 23}, {EIDRM, 24},
	    {EILSEQ, 25},	{EINPROGRESS, 26},
	    {EINTR, 27},	{EINVAL, 28},
	    {EIO, 29},		{EISCONN, 30},
	    {EISDIR, 31},	{ELOOP, 32},
	    {EMFILE, 33},	{EMLINK, 34},
	    {EMSGSIZE, 35},	{EMULTIHOP, 36},
	    {ENAMETOOLONG, 37}, {ENETDOWN, 38},
	    {ENETRESET, 39},	{ENETUNREACH, 40},
	    {ENFILE, 41},	{ENOBUFS, 42},
	    {ENODEV, 43},	{ENOENT, 44},
	    {ENOEXEC, 45},	{ENOLCK, 46},
	    {ENOLINK, 47},	{ENOMEM, 48},
	    {ENOMSG, 49},	{ENOPROTOOPT, 50},
	    {ENOSPC, 51},	{ENOSYS, 52},
	    {ENOTCONN, 53},	{ENOTDIR, 54},
	    {ENOTEMPTY, 55},	{ENOTRECOVERABLE, 56},
	    {ENOTSOCK, 57},	{ENOTSUP, 58},
	    {ENOTTY, 59},	{ENXIO, 60},
	    {EOVERFLOW, 61},	{EOWNERDEAD, 62},
	    {EPERM, 63},	{EPIPE, 64},
	    {EPROTO, 65},	{EPROTONOSUPPORT, 66},
	    {EPROTOTYPE, 67},	{ERANGE, 68},
	    {EROFS, 69},	{ESPIPE, 70},
	    {ESRCH, 71},	{ESTALE, 72},
	    {ETIMEDOUT, 73},	{ETXTBSY, 74},
	    {EXDEV, 75},
	};
	if (e == WASI_HOST_ENOTCAPABLE)
		return WASI_ENOTCAPABLE;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].host == e)
			return map[i].wasi;
	return WASI_EIO;
}
