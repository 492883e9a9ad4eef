/* SPDX-License-Identifier: MIT */
/*
 * The named snapshots of a managed VM, like virsh snapshot-create-as /
 * snapshot-list --tree / snapshot-revert / snapshot-delete:
 *
 *   vessel snapshot NAME --tag TAG        save into NAME's state directory
 *   vessel snapshots NAME [--json]        the tree
 *   vessel revert NAME TAG                NAME back at TAG, in place
 *   vessel snapshot-rm NAME TAG [--recursive]
 *
 * The tree and its files: manage/snaptree.h.  Every command holds the VM's
 * lock without waiting for it (a migration holds it too: "busy").
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/manage.h"
#include "cli/manage_snapshot.h"
#include "manage/snapshot_def.h"
#include "manage/snaptree.h"
#include "manage/spawn.h"
#include "util/log.h"

static int tree_usage(FILE *f, int st)
{
	fputs("usage: vessel snapshot NAME --tag TAG\n"
	      "       vessel snapshots NAME [--json]\n"
	      "       vessel revert NAME TAG\n"
	      "       vessel snapshot-rm NAME TAG [--recursive]\n",
	      f);
	return st;
}

/* The VM's name and tag, both checked; -1 to go on, else an exit status. */
static int check_args(const char *cmd, const char *name, const char *tag)
{
	int st = manage_check_name(cmd, name);
	if (st >= 0)
		return st;
	if (tag && !msnap_tag_valid(tag))
		return manage_fail(cmd, name,
				   "invalid snapshot tag (1 to 64 of A-Z a-z 0-9 _ . -, without "
				   "\".disk-\" and not ending in \".tmp\")");
	return -1;
}

/* Open the state, check NAME exists and take its lock: the fd, or -1 with the error printed. */
static int open_locked(const char *cmd, const char *name, struct mstate *s)
{
	if (manage_open(cmd, s, false))
		return -1;
	if (!mstate_exists(s, name)) {
		manage_fail(cmd, name, "no such VM");
		return -1;
	}
	struct verr err = {{0}};
	int fd = msnapcli_trylock(s, name, &err);
	if (fd < 0)
		manage_fail(cmd, name, err.msg);
	return fd;
}

static int load_tree(const char *cmd, const struct mstate *s, const char *name,
		     struct msnap_tree *t)
{
	struct verr err = {{0}};
	if (msnap_tree_load(s, name, t, &err)) {
		manage_fail(cmd, name, err.msg);
		return -1;
	}
	return 0;
}

/* ---- vessel snapshot NAME --tag TAG -------------------------------------------------------- */

static int do_snapshot_tag(const struct mstate *s, const char *name, const char *tag)
{
	struct msnap_tree t;
	char dir[PATH_MAX], file[PATH_MAX], why[PATH_MAX + 200];
	struct verr err = {{0}};
	if (load_tree("snapshot", s, name, &t))
		return EXIT_FAILURE_VMM;
	int st = 0;
	if (msnap_tree_find(&t, tag)) {
		snprintf(why, sizeof(why), "snapshot %s exists", tag);
		st = manage_fail("snapshot", name, why);
	} else if (!mstate_pid(s, name)) {
		st = manage_fail("snapshot", name, "it is not running");
	} else if (msnap_path(s, name, NULL, dir, sizeof(dir)) ||
		   msnap_path(s, name, tag, file, sizeof(file))) {
		st = manage_fail("snapshot", name, "path too long");
	} else if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(why, sizeof(why), "%s: %s", dir, strerror(errno));
		st = manage_fail("snapshot", name, why);
	} else if (msnap_tree_add(&t, tag, (int64_t)time(NULL), &err) ||
		   msnapcli_save(s, name, file, &err)) {
		st = manage_fail("snapshot", name, err.msg);
	} else if (msnap_tree_save(s, name, &t, &err)) {
		/* Without its entry the files would be lost: they go. */
		struct verr ignore;
		msnap_files_remove(s, name, tag, &ignore);
		st = manage_fail("snapshot", name, err.msg);
	} else {
		const struct msnap_entry *e = msnap_tree_find(&t, tag);
		printf("%s: snapshot %s (parent %s)\n", name, tag,
		       e->parent[0] ? e->parent : "none");
	}
	msnap_tree_free(&t);
	return st;
}

/* ---- vessel snapshots NAME ------------------------------------------------------------------ */

static void print_subtree(const struct mstate *s, const char *name, const struct msnap_tree *t,
			  const char *parent, unsigned depth)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct msnap_entry *e = &t->e[i];
		if (strcmp(e->parent, parent))
			continue;
		char label[2 * MSNAP_TAG_MAX + 64], when[32];
		snprintf(label, sizeof(label), "%*s%s%s", (int)(2 * depth), "", e->tag,
			 strcmp(e->tag, t->current) ? "" : " *");
		time_t tt = (time_t)e->created;
		struct tm tm;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&tt, &tm));
		printf("%-28s %-16s %-20s %8.1f MiB\n", label, e->parent[0] ? e->parent : "-", when,
		       (double)msnap_files_size(s, name, e->tag) / (1 << 20));
		print_subtree(s, name, t, e->tag, depth + 1);
	}
}

static json_t *tree_json(const struct mstate *s, const char *name, const struct msnap_tree *t)
{
	json_t *list = json_array();
	for (size_t i = 0; list && i < t->n; i++) {
		const struct msnap_entry *e = &t->e[i];
		json_array_append_new(
		    list, json_pack("{s:s, s:o, s:I, s:I, s:b}", "tag", e->tag, "parent",
				    e->parent[0] ? json_string(e->parent) : json_null(), "created",
				    (json_int_t)e->created, "bytes",
				    (json_int_t)msnap_files_size(s, name, e->tag), "current",
				    !strcmp(e->tag, t->current)));
	}
	return json_pack("{s:o, s:o, s:o}", "current",
			 t->current[0] ? json_string(t->current) : json_null(), "disks_from",
			 t->base[0] ? json_string(t->base) : json_null(), "snapshots", list);
}

static int cmd_snapshots(int argc, char **argv)
{
	bool json = argc == 3 && !strcmp(argv[2], "--json");
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return tree_usage(stdout, 0);
	if (argc != 2 && !json)
		return tree_usage(stderr, EXIT_USAGE);
	const char *name = argv[1];
	int st = check_args("snapshots", name, NULL);
	if (st >= 0)
		return st;
	struct mstate s;
	if ((st = manage_open("snapshots", &s, false)))
		return st;
	if (!mstate_exists(&s, name))
		return manage_fail("snapshots", name, "no such VM");
	struct msnap_tree t;
	if (load_tree("snapshots", &s, name, &t))
		return EXIT_FAILURE_VMM;
	if (json) {
		json_t *j = tree_json(&s, name, &t);
		if (j)
			json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
	} else {
		printf("%-28s %-16s %-20s %12s\n", "TAG (* current)", "PARENT", "CREATED", "SIZE");
		print_subtree(&s, name, &t, "", 0);
	}
	msnap_tree_free(&t);
	return 0;
}

/* ---- vessel revert NAME TAG ----------------------------------------------------------------- */

/*
 * The definition NAME gets back: the snapshot's machine, devices and MACs,
 * the VM's own host settings, each writable disk a new overlay (suffix
 * ".new" until the old VMM is gone) of the snapshot's disk copy.
 */
static int revert_def(const struct mstate *s, const char *name, const char *file, struct mdef *d,
		      struct verr *err)
{
	struct mdef old;
	int r = mstate_load(s, name, &old, err);
	if (r)
		return r;
	r = msnap_def_from_snapshot(file, name, d, err);
	if (!r) {
		d->cpuset = old.cpuset;
		old.cpuset = NULL;
		d->cpu_max_percent = old.cpu_max_percent;
		d->memory_limit = old.memory_limit;
		if ((r = msnap_make_overlays(s, d, ".new", err))) {
			/* The overlays made before the failure go again. */
			for (unsigned i = 0; i < d->ndrives; i++) {
				char file[64], path[PATH_MAX];
				snprintf(file, sizeof(file), "disk%u.qcow2.new", i);
				if (!mstate_path(s, name, file, path, sizeof(path)))
					unlink(path);
			}
			mdef_free(d);
		}
	}
	mdef_free(&old);
	return r;
}

/* diskI.qcow2.new -> diskI.qcow2 (or, undoing, away). */
static int revert_overlays(struct mdef *d, bool commit, struct verr *err)
{
	for (unsigned i = 0; i < d->ndrives; i++) {
		char *p = d->drive[i].path;
		size_t n = strlen(p);
		if (d->drive[i].read_only || n < 4 || strcmp(p + n - 4, ".new"))
			continue;
		if (!commit) {
			unlink(p);
			continue;
		}
		char final[PATH_MAX];
		snprintf(final, sizeof(final), "%.*s", (int)(n - 4), p);
		if (rename(p, final))
			return verr_set(err, errno, "%s: %s", final, strerror(errno));
		p[n - 4] = '\0';
	}
	return 0;
}

static int do_revert(const struct mstate *s, const char *name, const char *tag,
		     struct msnap_tree *t)
{
	char file[PATH_MAX], why[sizeof(((struct verr *)0)->msg) + 200], how[32];
	struct verr err = {{0}};
	if (!msnap_tree_find(t, tag)) {
		snprintf(why, sizeof(why), "no snapshot %s", tag);
		return manage_fail("revert", name, why);
	}
	if (msnap_path(s, name, tag, file, sizeof(file)))
		return manage_fail("revert", name, "path too long");
	struct mdef d;
	if (revert_def(s, name, file, &d, &err))
		return manage_fail("revert", name, err.msg);
	/* Until here nothing changed; the running VM's process is replaced from here on. */
	pid_t pid = mstate_pid(s, name);
	int st = 0;
	if (pid && mspawn_stop(s, name, pid, true, 0, how, sizeof(how), &err)) {
		revert_overlays(&d, false, &err);
		st = manage_fail("revert", name, err.msg);
		goto out;
	}
	snprintf(t->current, sizeof(t->current), "%s", tag);
	snprintf(t->base, sizeof(t->base), "%s", tag);
	if (revert_overlays(&d, true, &err) || mstate_save(s, &d, &err) ||
	    msnap_tree_save(s, name, t, &err)) {
		st = manage_fail("revert", name, err.msg);
		goto out;
	}
	d.restore_from = file;
	pid_t npid;
	if (mspawn_start(s, &d, &npid, &err)) {
		snprintf(why, sizeof(why), "reverted to %s, but it did not start: %s", tag,
			 err.msg);
		st = manage_fail("revert", name, why);
		goto out;
	}
	printf("%s: reverted to %s (pid %d)\n", name, tag, (int)npid);
out:
	mdef_free(&d);
	return st;
}

/* ---- vessel snapshot-rm NAME TAG [--recursive] ------------------------------------------- */

static int do_snapshot_rm(const struct mstate *s, const char *name, const char *tag, bool recursive,
			  struct msnap_tree *t)
{
	char why[600];
	struct verr err = {{0}};
	if (!msnap_tree_find(t, tag)) {
		snprintf(why, sizeof(why), "no snapshot %s", tag);
		return manage_fail("snapshot-rm", name, why);
	}
	size_t below = 0;
	for (size_t i = 0; i < t->n; i++)
		below += strcmp(t->e[i].tag, tag) && msnap_tree_under(t, t->e[i].tag, tag);
	if (below && !recursive) {
		snprintf(why, sizeof(why),
			 "snapshot %s has %zu snapshot(s) below it (remove them first, or use "
			 "--recursive)",
			 tag, below);
		return manage_fail("snapshot-rm", name, why);
	}
	if (t->base[0] && msnap_tree_under(t, t->base, tag)) {
		snprintf(why, sizeof(why),
			 "the VM's disks are overlays of snapshot %s's disk copies (revert to "
			 "another snapshot first)",
			 t->base);
		return manage_fail("snapshot-rm", name, why);
	}
	/* The tags that go, then the tree without them, then their files. */
	char(*gone)[MSNAP_TAG_MAX + 1] = calloc(below + 1, sizeof(*gone));
	if (!gone)
		return manage_fail("snapshot-rm", name, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (msnap_tree_under(t, t->e[i].tag, tag))
			snprintf(gone[n++], sizeof(gone[0]), "%s", t->e[i].tag);
	msnap_tree_drop(t, tag);
	int st = 0;
	if (msnap_tree_save(s, name, t, &err)) {
		st = manage_fail("snapshot-rm", name, err.msg);
	} else {
		for (size_t i = 0; i < n; i++) {
			if (msnap_files_remove(s, name, gone[i], &err))
				st = manage_fail("snapshot-rm", name, err.msg);
			else
				printf("%s: removed snapshot %s\n", name, gone[i]);
		}
	}
	free(gone);
	return st;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

int manage_snaptree_cmd(int argc, char **argv)
{
	const char *cmd = argv[0];
	if (!strcmp(cmd, "snapshots"))
		return cmd_snapshots(argc, argv);
	bool recursive = false;
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return tree_usage(stdout, 0);
	if (!strcmp(cmd, "snapshot-rm") && argc == 4 && !strcmp(argv[3], "--recursive")) {
		recursive = true;
		argc--;
	}
	/* snapshot NAME --tag TAG, revert NAME TAG, snapshot-rm NAME TAG */
	bool tagged = !strcmp(cmd, "snapshot");
	if (argc != (tagged ? 4 : 3) || argv[tagged ? 3 : 2][0] == '-')
		return tree_usage(stderr, EXIT_USAGE);
	const char *name = argv[1], *tag = argv[tagged ? 3 : 2];
	int st = check_args(cmd, name, tag);
	if (st >= 0)
		return st;
	struct mstate s;
	int lock = open_locked(cmd, name, &s);
	if (lock < 0)
		return EXIT_FAILURE_VMM;
	struct msnap_tree t = {0};
	if (tagged)
		st = do_snapshot_tag(&s, name, tag);
	else if (load_tree(cmd, &s, name, &t))
		st = EXIT_FAILURE_VMM;
	else if (!strcmp(cmd, "revert"))
		st = do_revert(&s, name, tag, &t);
	else
		st = do_snapshot_rm(&s, name, tag, recursive, &t);
	msnap_tree_free(&t);
	mstate_unlock(lock);
	return st;
}
