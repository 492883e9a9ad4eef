/* SPDX-License-Identifier: MIT */
/*
 * Live migration of managed VMs between hosts (docs/snapshot.md):
 *
 *   vessel receive NAME --listen tcp:HOST:PORT [--copy-storage] CREATE-FLAGS...
 *       on the destination: defines NAME from the flags of 'vessel create'
 *       (the source's machine: same vCPUs, memory, devices in the same order;
 *       its disks the same images on shared storage, or images of its own of
 *       the same sizes with --copy-storage), starts its VMM waiting for the
 *       source, and returns once the VM runs here.  If the migration fails
 *       nothing is left of NAME.
 *   vessel migrate NAME --to tcp:HOST:PORT [--copy-storage] [--verify]
 *       on the source: moves the running VM there; its VMM ends, the VM is
 *       left defined and stopped here.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/manage.h"
#include "cli/manage_snapshot.h"
#include "cli/run_devices.h"
#include "manage/client.h"
#include "manage/spawn.h"
#include "util/log.h"

/* Long enough for a migration of big disks; the VMMs time out a dead peer themselves. */
#define MIGRATE_REQUEST_MS (6u * 3600 * 1000)

static int migrate_usage(FILE *f, int st)
{
	fputs("usage: vessel migrate NAME --to tcp:HOST:PORT [--copy-storage] [--verify]\n"
	      "       vessel receive NAME --listen tcp:HOST:PORT [--copy-storage] "
	      "[flags of vessel create]\n",
	      f);
	return st;
}

static bool is_help(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help");
}

static int cmd_migrate(int argc, char **argv)
{
	const char *name = NULL, *to = NULL;
	bool copy = false, verify = false;
	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i]))
			return migrate_usage(stdout, 0);
		if (!strcmp(argv[i], "--to") && i + 1 < argc)
			to = argv[++i];
		else if (!strncmp(argv[i], "--to=", 5))
			to = argv[i] + 5;
		else if (!strcmp(argv[i], "--copy-storage"))
			copy = true;
		else if (!strcmp(argv[i], "--verify"))
			verify = true;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			log_error("migrate: unexpected argument '%s'", argv[i]);
			return migrate_usage(stderr, EXIT_USAGE);
		}
	}
	if (!name || !to) {
		log_error("migrate: needs NAME and --to tcp:HOST:PORT");
		return migrate_usage(stderr, EXIT_USAGE);
	}
	int st = manage_check_name("migrate", name);
	if (st >= 0)
		return st;
	struct mstate s;
	if ((st = manage_open("migrate", &s, false)))
		return st;
	if (!mstate_exists(&s, name))
		return manage_fail("migrate", name, "no such VM");
	if (!mstate_pid(&s, name))
		return manage_fail("migrate", name, "it is not running");
	struct verr err = {{0}};
	/* Held while the VM moves: nothing else may stop or replace it meanwhile. */
	int lock = msnapcli_trylock(&s, name, &err);
	if (lock < 0)
		return manage_fail("migrate", name, err.msg);
	char sock[PATH_MAX];
	mstate_path(&s, name, "api.sock", sock, sizeof(sock));
	json_t *req =
		   json_pack("{s:s, s:b, s:b}", "to", to, "copy_storage", copy, "verify", verify),
	       *ans = NULL;
	mclient_set_timeout(MIGRATE_REQUEST_MS);
	int code = mclient_json(sock, "PUT", "/migrate", req, &ans, &err);
	mstate_unlock(lock);
	json_decref(req);
	if (code != 200) {
		json_decref(ans);
		return manage_fail("migrate", name, err.msg[0] ? err.msg : "the VMM failed");
	}
	printf("%s: migrated to %s in %lld ms (downtime %lld ms, %lld rounds", name, to,
	       (long long)json_integer_value(json_object_get(ans, "total_ms")),
	       (long long)json_integer_value(json_object_get(ans, "downtime_us")) / 1000,
	       (long long)json_integer_value(json_object_get(ans, "rounds")));
	if (copy)
		printf(", %lld MiB of disk sent",
		       (long long)json_integer_value(json_object_get(ans, "disk_bytes")) >> 20);
	if (verify)
		printf(", every page checked at the destination");
	printf(")\n");
	json_decref(ans);
	return 0;
}

/*
 * --copy-storage: every --disk must exist already, of the source's size (the stream
 * says so only once the VMM runs); say how to make one rather than "no such file".
 */
static int check_copy_targets(const char *name, int cargc, char **cargv)
{
	for (int i = 1; i + 1 < cargc; i++) {
		if (strcmp(cargv[i], "--disk"))
			continue;
		struct run_disk_spec ds;
		struct verr err = {{0}};
		if (run_devices_parse_disk(cargv[i + 1], &ds, &err))
			continue; /* vessel create says what is wrong with it */
		bool missing = access(ds.path, F_OK) != 0;
		if (missing) {
			char why[PATH_MAX + 128];
			snprintf(why, sizeof(why),
				 "--disk %s: no such image; with --copy-storage make it first "
				 "(vessel disk create %s SIZE, SIZE that of the source's disk)",
				 ds.path, ds.path);
			free(ds.path);
			return manage_fail("receive", name, why);
		}
		free(ds.path);
	}
	return -1;
}

/* Define NAME (vessel create's parsing and checks) and start it as the destination. */
static int receive(const char *name, const char *listen_on, bool copy, int cargc, char **cargv)
{
	int st = manage_create(cargc, cargv);
	if (st)
		return st;
	struct mstate s;
	struct mdef d;
	if ((st = manage_open("receive", &s, false)))
		return st;
	if ((st = manage_load("receive", &s, name, &d)))
		return st;
	struct verr err = {{0}};
	int fd = msnapcli_trylock(&s, name, &err);
	pid_t pid = 0;
	int r = fd < 0 ? fd : 0;
	if (!r) {
		d.incoming = listen_on;
		d.incoming_copy = copy;
		mclient_set_timeout(MIGRATE_REQUEST_MS);
		r = mspawn_start(&s, &d, &pid, &err);
		mstate_unlock(fd);
	}
	mdef_free(&d);
	if (r) {
		/* Nothing stays of a VM that did not arrive (its images are the user's). */
		struct verr ignore;
		mstate_remove(&s, name, &ignore);
		return manage_fail("receive", name, err.msg);
	}
	printf("%s: received on %s, running (pid %d)\n", name, listen_on, (int)pid);
	return 0;
}

static int cmd_receive(int argc, char **argv)
{
	if (argc >= 2 && is_help(argv[1]))
		return migrate_usage(stdout, 0);
	/* NAME first; what is not ours goes to 'vessel create': "create" NAME FLAGS... */
	const char *name = argc >= 2 && argv[1][0] != '-' ? argv[1] : NULL, *listen_on = NULL;
	bool copy = false;
	char **cargv = calloc((size_t)argc + 2, sizeof(char *));
	if (!cargv)
		return manage_fail("receive", "", "out of memory");
	int cargc = 0;
	cargv[cargc++] = "create";
	int st = -1;
	for (int i = 1; i < argc && st < 0; i++) {
		if (is_help(argv[i]))
			st = migrate_usage(stdout, 0);
		else if (!strcmp(argv[i], "--listen") && i + 1 < argc)
			listen_on = argv[++i];
		else if (!strncmp(argv[i], "--listen=", 9))
			listen_on = argv[i] + 9;
		else if (!strcmp(argv[i], "--copy-storage"))
			copy = true;
		else
			cargv[cargc++] = argv[i];
	}
	if (st < 0 && (!name || !listen_on)) {
		log_error("receive: needs NAME and --listen tcp:HOST:PORT");
		st = migrate_usage(stderr, EXIT_USAGE);
	}
	if (st < 0 && strncmp(listen_on, "tcp:", 4)) {
		log_error("receive: --listen %s: expected tcp:HOST:PORT", listen_on);
		st = EXIT_USAGE;
	}
	if (st < 0 && (st = manage_check_name("receive", name)) < 0 &&
	    (!copy || (st = check_copy_targets(name, cargc, cargv)) < 0))
		st = receive(name, listen_on, copy, cargc, cargv);
	free(cargv);
	return st;
}

int manage_migrate_cmd(int argc, char **argv)
{
	if (!strcmp(argv[0], "receive"))
		return cmd_receive(argc, argv);
	return cmd_migrate(argc, argv);
}
