/* SPDX-License-Identifier: MIT */
/*
 * vessel wasm: the WebAssembly process VM from the command line.
 *
 *   vessel wasm run [options] prog.wasm [args...]   run a WASI program
 *   vessel wasm spectest file.json                  run a wast2json script
 *
 * Exit statuses of 'run': the program's proc_exit code (0 when _start returns),
 * EXIT_FAILURE_VMM (1) when the module cannot be read, loaded, validated or
 * linked, EXIT_USAGE (2) for bad flags, WASM_EXIT_TRAP (134, as a process
 * killed by SIGABRT) when it traps, WASM_EXIT_LIMIT (124, as timeout(1)) when
 * --fuel or --timeout stop it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "wasi/wasi.h"
#include "wasm/spectest.h"
#include "wasm/wasm.h"

#define WASM_EXIT_TRAP	134
#define WASM_EXIT_LIMIT 124

static void wasm_usage(FILE *f)
{
	fputs("usage: vessel wasm run [options] prog.wasm [args...]\n"
	      "       vessel wasm spectest file.json\n"
	      "\n"
	      "run a WebAssembly module with WASI preview 1 (wasi_snapshot_preview1), "
	      "or a\n"
	      "spec-test script converted by wast2json.\n"
	      "\n"
	      "options of run:\n"
	      "  --dir DIR          grant the program directory DIR, visible under the "
	      "same name\n"
	      "                     (repeatable); nothing else of the host's files is "
	      "reachable\n"
	      "  --env NAME=VALUE   set a variable of the program's environment "
	      "(repeatable);\n"
	      "                     it sees no other variables\n"
	      "  --fuel N           stop the program after about N instructions\n"
	      "  --timeout MS       stop the program after MS milliseconds\n"
	      "  --interp           interpret the module rather than compile it to "
	      "machine code\n"
	      "                     (also with VESSEL_WASM_JIT=0 in the environment)\n"
	      "  -h, --help         show this help\n"
	      "\n"
	      "exit status of run: the program's exit code; 1 if the module cannot be\n"
	      "loaded, validated or linked; 2 for bad options; 124 when --fuel or "
	      "--timeout\n"
	      "stopped it; 134 when it trapped (the trap is printed as 'vessel: wasm: "
	      "...').\n"
	      "spectest exits 0 when every assertion passed, 1 otherwise.\n",
	      f);
}

struct wasm_run_opts {
	const char **dirs, **env;
	uint32_t ndirs, nenv;
	uint64_t fuel, timeout_ms;
	bool interp;
	const char *prog;
	char **args; /* program arguments after prog */
	int nargs;
};

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* The value of option 'name' at argv[*i] ("--name V" or "--name=V"), or NULL.
 */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *bad)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n])
		return NULL;
	if (*i + 1 >= argc) {
		fprintf(stderr, "vessel: wasm: %s needs a value\n", name);
		*bad = 1;
		return NULL;
	}
	return argv[++*i];
}

static int parse_run(int argc, char **argv, struct wasm_run_opts *o)
{
	int bad = 0;
	o->dirs = calloc((size_t)argc, sizeof(*o->dirs));
	o->env = calloc((size_t)argc, sizeof(*o->env));
	if (!o->dirs || !o->env)
		return EXIT_FAILURE_VMM;
	int i;
	for (i = 1; i < argc && !bad; i++) {
		const char *a = argv[i], *v;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			wasm_usage(stdout);
			return -1;
		}
		if (!strcmp(a, "--interp")) {
			o->interp = true;
		} else if ((v = opt_value(argc, argv, &i, "--dir", &bad))) {
			o->dirs[o->ndirs++] = v;
		} else if ((v = opt_value(argc, argv, &i, "--env", &bad))) {
			if (!strchr(v, '=') || v[0] == '=') {
				fprintf(stderr, "vessel: wasm: --env %s: expected NAME=VALUE\n", v);
				return EXIT_USAGE;
			}
			o->env[o->nenv++] = v;
		} else if ((v = opt_value(argc, argv, &i, "--fuel", &bad))) {
			if (parse_u64(v, &o->fuel) || !o->fuel) {
				fprintf(stderr,
					"vessel: wasm: --fuel %s: expected a positive count\n", v);
				return EXIT_USAGE;
			}
		} else if ((v = opt_value(argc, argv, &i, "--timeout", &bad))) {
			if (parse_u64(v, &o->timeout_ms) || !o->timeout_ms) {
				fprintf(stderr,
					"vessel: wasm: --timeout %s: expected milliseconds > 0\n",
					v);
				return EXIT_USAGE;
			}
		} else if (!bad) {
			fprintf(stderr,
				"vessel: wasm: unknown option '%s' (try 'vessel wasm --help')\n",
				a);
			return EXIT_USAGE;
		}
	}
	if (bad)
		return EXIT_USAGE;
	if (i >= argc) {
		fprintf(stderr, "vessel: wasm: run: no module given (try 'vessel wasm --help')\n");
		return EXIT_USAGE;
	}
	o->prog = argv[i];
	o->args = argv + i;
	o->nargs = argc - i;
	return 0;
}

static uint8_t *read_file(const char *path, size_t *len, struct verr *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		verr_set(err, errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		uint8_t *nb = realloc(buf, cap * 2);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	int failed = ferror(f);
	fclose(f);
	if (!buf || failed) {
		free(buf);
		verr_set(err, EIO, "%s: %s", path, buf ? "read error" : "out of memory");
		return NULL;
	}
	*len = n;
	return buf;
}

/* The exit status for a trap: its message on stderr. */
static int trap_status(struct wasm_store *store, enum wasm_trap trap)
{
	fprintf(stderr, "vessel: wasm: %s\n", wasm_store_trap_message(store));
	return trap == WASM_TRAP_FUEL ? WASM_EXIT_LIMIT : WASM_EXIT_TRAP;
}

/* Load, link, instantiate and run; returns the exit status. */
static int run_module(struct wasm_store *store, struct wasi *w, const struct wasm_run_opts *o,
		      const uint8_t *bytes, size_t len)
{
	struct verr err = {{0}};
	enum wasm_trap trap = WASM_OK;
	struct wasm_module *m = wasm_module_load(store, bytes, len, &err);
	if (!m) {
		fprintf(stderr, "vessel: wasm: %s: %s\n", o->prog, err.msg);
		return EXIT_FAILURE_VMM;
	}
	uint32_t n = wasm_module_import_count(m);
	struct wasm_extern *imports = calloc(n ? n : 1, sizeof(*imports));
	if (!imports || wasi_link(w, store, m, imports, &err) < 0) {
		fprintf(stderr, "vessel: wasm: %s: %s\n", o->prog,
			imports ? err.msg : "out of memory");
		free(imports);
		return EXIT_FAILURE_VMM;
	}
	struct wasm_instance *inst = wasm_instance_new(store, m, imports, n, &trap, &err);
	free(imports);
	if (!inst) {
		if (trap == WASM_TRAP_EXIT) /* the start function called proc_exit */
			return wasm_store_exit_code(store);
		if (trap != WASM_OK)
			return trap_status(store, trap);
		fprintf(stderr, "vessel: wasm: %s: %s\n", o->prog, err.msg);
		return EXIT_FAILURE_VMM;
	}
	int code;
	if (wasi_run(store, inst, &code, &trap, &err) < 0) {
		fprintf(stderr, "vessel: wasm: %s: %s\n", o->prog, err.msg);
		return EXIT_FAILURE_VMM;
	}
	return trap == WASM_OK ? code : trap_status(store, trap);
}

/*
 * The module runs on a thread with a large stack: machine code keeps its frames on the
 * host stack, and with 8 MiB it would exhaust that before the engine's own call-depth
 * limit (the interpreter's frames are on the heap, so both then allow the same depth).
 */
#define WASM_RUN_STACK (256u << 20)

struct big_stack_job {
	int (*fn)(void *);
	void *arg;
	int status;
};

static void *big_stack_thread(void *p)
{
	struct big_stack_job *job = p;
	job->status = job->fn(job->arg);
	return NULL;
}

/* fn(arg) on a thread with a WASM_RUN_STACK stack (here, if no thread can be made) */
static int big_stack_call(int (*fn)(void *), void *arg)
{
	struct big_stack_job job = {fn, arg, EXIT_FAILURE_VMM};
	pthread_attr_t attr;
	pthread_t t;
	if (pthread_attr_init(&attr) == 0) {
		bool ok = pthread_attr_setstacksize(&attr, WASM_RUN_STACK) == 0 &&
			  pthread_create(&t, &attr, big_stack_thread, &job) == 0;
		pthread_attr_destroy(&attr);
		if (ok) {
			pthread_join(t, NULL);
			return job.status;
		}
	}
	return fn(arg);
}

struct run_args {
	struct wasm_store *store;
	struct wasi *w;
	const struct wasm_run_opts *o;
	const uint8_t *bytes;
	size_t len;
};

static int run_module_job(void *p)
{
	struct run_args *a = p;
	return run_module(a->store, a->w, a->o, a->bytes, a->len);
}

static int cmd_wasm_run(int argc, char **argv)
{
	struct wasm_run_opts o = {0};
	struct verr err = {{0}};
	int status = parse_run(argc, argv, &o);
	if (status) {
		free(o.dirs);
		free(o.env);
		return status < 0 ? 0 : status;
	}
	struct wasi_config cfg = {
	    .argv = (const char *const *)o.args,
	    .argc = (uint32_t)o.nargs,
	    .env = o.env,
	    .envc = o.nenv,
	    .dirs = o.dirs,
	    .ndirs = o.ndirs,
	    .timeout_ms = o.timeout_ms,
	};
	/* Test hook: exercise the sandbox's fallback path walker on kernels with
	 * openat2. */
	if (getenv("VESSEL_WASI_NO_OPENAT2"))
		wasi_force_path_fallback(1);
	size_t len = 0;
	uint8_t *bytes = NULL;
	struct wasm_store *store = NULL;
	struct wasi *w = wasi_new(&cfg, &err);
	status = EXIT_FAILURE_VMM;
	if (!w) {
		fprintf(stderr, "vessel: wasm: %s\n", err.msg);
		goto out;
	}
	bytes = read_file(o.prog, &len, &err);
	if (!bytes) {
		fprintf(stderr, "vessel: wasm: %s\n", err.msg);
		goto out;
	}
	store = wasm_store_new();
	if (!store) {
		fprintf(stderr, "vessel: wasm: out of memory\n");
		goto out;
	}
	wasm_store_set_limits(store, o.fuel, o.timeout_ms);
	if (o.interp)
		wasm_store_set_jit(store, false);
	struct run_args ra = {store, w, &o, bytes, len};
	status = big_stack_call(run_module_job, &ra);
out:
	if (store)
		wasm_store_free(store);
	wasi_free(w);
	free(bytes);
	free(o.dirs);
	free(o.env);
	return status;
}

static int spectest_job(void *path)
{
	unsigned passed = 0, failed = 0;
	struct verr err = {{0}};
	if (wasm_spectest_run(path, stdout, &passed, &failed, &err) < 0) {
		fprintf(stderr, "vessel: wasm: spectest: %s\n", err.msg);
		return EXIT_FAILURE_VMM;
	}
	fflush(stdout);
	return failed ? EXIT_FAILURE_VMM : 0;
}

static int cmd_wasm_spectest(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		wasm_usage(stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "vessel: wasm: usage: vessel wasm spectest file.json\n");
		return EXIT_USAGE;
	}
	return big_stack_call(spectest_job, argv[1]);
}

int cmd_wasm(int argc, char **argv)
{
	if (argc < 2) {
		wasm_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		wasm_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_wasm_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "spectest"))
		return cmd_wasm_spectest(argc - 1, argv + 1);
	fprintf(stderr, "vessel: wasm: unknown subcommand '%s' (try 'vessel wasm --help')\n",
		argv[1]);
	return EXIT_USAGE;
}
