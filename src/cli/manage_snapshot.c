/* SPDX-License-Identifier: MIT */
/*
 * vessel snapshot NAME PATH, vessel restore PATH --name NEW,
 * vessel clone PATH --name PREFIX [--count N]  (docs/snapshot.md).
 * The named snapshots of a VM: manage_snaptree.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/manage.h"
#include "cli/manage_snapshot.h"
#include "manage/client.h"
#include "manage/snapshot_def.h"
#include "manage/spawn.h"
#include "util/log.h"

#define CLONE_MAX 100

/* PATH made absolute without requiring it to exist (the VMM runs in another directory). */
static int abs_path(const char *path, char *out, size_t size)
{
	if (path[0] == '/')
		return snprintf(out, size, "%s", path) < (int)size ? 0 : -1;
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	return snprintf(out, size, "%s/%s", cwd, path) < (int)size ? 0 : -1;
}

static int snapshot_usage(FILE *f, int st)
{
	fputs("usage: vessel snapshot NAME PATH\n"
	      "       vessel snapshot NAME --tag TAG\n"
	      "       vessel snapshots NAME [--json]\n"
	      "       vessel revert NAME TAG\n"
	      "       vessel snapshot-rm NAME TAG [--recursive]\n"
	      "       vessel restore PATH --name NEW\n"
	      "       vessel clone PATH --name PREFIX [--count N]\n",
	      f);
	return st;
}

int msnapcli_trylock(const struct mstate *s, const char *name, struct verr *err)
{
	char path[PATH_MAX];
	if (mstate_path(s, name, "lock", path, sizeof(path)))
		return verr_set(err, ENAMETOOLONG, "path too long");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return verr_set(err, errno, "lock %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return verr_set(err, EBUSY,
					"busy: another vessel command (a migration, revert, start "
					"or stop) is working on it");
		return verr_set(err, e, "lock %s: %s", path, strerror(e));
	}
	return fd;
}

int msnapcli_save(const struct mstate *s, const char *name, const char *path, struct verr *err)
{
	char sock[PATH_MAX];
	if (!mstate_pid(s, name))
		return verr_set(err, ESRCH, "it is not running");
	mstate_path(s, name, "api.sock", sock, sizeof(sock));
	json_t *req = json_pack("{s:s}", "path", path), *ans = NULL;
	int code = mclient_json(sock, "PUT", "/snapshot/create", req, &ans, err);
	json_decref(req);
	if (code != 200) {
		json_decref(ans);
		return err->msg[0] ? -EIO : verr_set(err, EIO, "the VMM failed");
	}
	printf("%s: saved to %s (%lld MiB on disk, paused %lld ms)\n", name, path,
	       (long long)json_integer_value(json_object_get(ans, "bytes")) >> 20,
	       (long long)json_integer_value(json_object_get(ans, "paused_us")) / 1000);
	json_decref(ans);
	return 0;
}

static int cmd_snapshot(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return snapshot_usage(stdout, 0);
	if (argc == 4 && !strcmp(argv[2], "--tag"))
		return manage_snaptree_cmd(argc, argv);
	if (argc != 3 || argv[2][0] == '-')
		return snapshot_usage(stderr, EXIT_USAGE);
	const char *name = argv[1];
	int st = manage_check_name("snapshot", name);
	if (st >= 0)
		return st;
	char path[PATH_MAX];
	if (abs_path(argv[2], path, sizeof(path)))
		return manage_fail("snapshot", name, "snapshot path too long");
	struct mstate s;
	if ((st = manage_open("snapshot", &s, false)))
		return st;
	if (!mstate_exists(&s, name))
		return manage_fail("snapshot", name, "no such VM");
	struct verr err = {{0}};
	if (msnapcli_save(&s, name, path, &err))
		return manage_fail("snapshot", name, err.msg);
	return 0;
}

/* Define NAME from the snapshot and start it; on any failure nothing is left. */
static int restore_one(const struct mstate *s, const char *snap, const char *name, bool clone,
		       pid_t *pid, struct verr *err)
{
	struct mdef d;
	int r = msnap_def_from_snapshot(snap, name, &d, err);
	/* A clone is a new machine beside the original: its own MAC (and, from
	 * the VMM, its own random seed). */
	if (!r && clone && (r = msnap_new_macs(&d, err)))
		mdef_free(&d);
	if (r)
		return r;
	char lock[PATH_MAX + 8];
	if (snprintf(lock, sizeof(lock), "%s/.lock", s->root) >= (int)sizeof(lock)) {
		mdef_free(&d);
		return verr_set(err, ENAMETOOLONG, "path too long");
	}
	int root_fd = mstate_lock(lock, err);
	if (root_fd < 0) {
		mdef_free(&d);
		return root_fd;
	}
	r = mstate_create(s, &d, err);
	mstate_unlock(root_fd);
	if (r) {
		mdef_free(&d);
		return r;
	}
	mstate_path(s, name, "lock", lock, sizeof(lock));
	int fd = mstate_lock(lock, err);
	r = fd < 0 ? fd : msnap_make_overlays(s, &d, NULL, err);
	if (!r)
		r = mstate_save(s, &d, err);
	d.restore_from = snap;
	if (!r)
		r = mspawn_start(s, &d, pid, err);
	if (fd >= 0)
		mstate_unlock(fd);
	if (r) {
		struct verr ignore;
		mstate_remove(s, name, &ignore);
	}
	mdef_free(&d);
	return r;
}

struct restore_args {
	const char *snap, *name;
	unsigned count;
};

static int restore_parse(int argc, char **argv, bool clone, struct restore_args *a)
{
	const struct option opts[] = {{"name", required_argument, NULL, 'n'},
				      {"count", required_argument, NULL, 'c'},
				      {"help", no_argument, NULL, 'h'},
				      {NULL, 0, NULL, 0}};
	int opt;
	opterr = 0;
	optind = 1;
	*a = (struct restore_args){.count = 1};
	while ((opt = getopt_long(argc, argv, "-:h", opts, NULL)) != -1) {
		if (opt == 1 && !a->snap) {
			a->snap = optarg;
		} else if (opt == 'n') {
			a->name = optarg;
		} else if (opt == 'c' && clone) {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v < 1 || v > CLONE_MAX) {
				log_error("clone: --count %s: a number from 1 to %d", optarg,
					  CLONE_MAX);
				return EXIT_USAGE;
			}
			a->count = (unsigned)v;
		} else if (opt == 'h') {
			return snapshot_usage(stdout, 0);
		} else {
			log_error("%s: unexpected argument '%s'", argv[0], argv[optind - 1]);
			return snapshot_usage(stderr, EXIT_USAGE);
		}
	}
	if (!a->snap || !a->name) {
		log_error("%s: needs PATH and --name", argv[0]);
		return snapshot_usage(stderr, EXIT_USAGE);
	}
	return -1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_restore(int argc, char **argv, bool clone)
{
	struct restore_args a;
	int st = restore_parse(argc, argv, clone, &a);
	if (st >= 0)
		return st;
	char snap[PATH_MAX];
	if (!realpath(a.snap, snap))
		return manage_fail(argv[0], a.snap, strerror(errno));
	struct mstate s;
	if ((st = manage_open(argv[0], &s, true)))
		return st;
	double t0 = now_s();
	for (unsigned i = 1; i <= a.count; i++) {
		char name[MDEF_NAME_MAX + 1];
		if (clone) {
			if (snprintf(name, sizeof(name), "%s-%u", a.name, i) >= (int)sizeof(name))
				return manage_fail(argv[0], a.name, "name too long");
		} else {
			snprintf(name, sizeof(name), "%s", a.name);
		}
		if ((st = manage_check_name(argv[0], name)) >= 0)
			return st;
		struct verr err = {{0}};
		pid_t pid;
		if (restore_one(&s, snap, name, clone, &pid, &err))
			return manage_fail(argv[0], name, err.msg);
		printf("%s: restored from %s (pid %d)\n", name, snap, (int)pid);
	}
	if (clone)
		printf("%u clones in %.3f s\n", a.count, now_s() - t0);
	return 0;
}

int manage_snapshot_cmd(int argc, char **argv)
{
	if (!strcmp(argv[0], "snapshots") || !strcmp(argv[0], "revert") ||
	    !strcmp(argv[0], "snapshot-rm"))
		return manage_snaptree_cmd(argc, argv);
	if (!strcmp(argv[0], "snapshot"))
		return cmd_snapshot(argc, argv);
	return cmd_restore(argc, argv, !strcmp(argv[0], "clone"));
}
