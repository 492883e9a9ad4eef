/* SPDX-License-Identifier: MIT */
/*
 * The snapshot tree of a managed VM (manage/snaptree.h; suite 'unit', run
 * under ASan): adding, walking and dropping entries, a save/load round trip,
 * tags, and snapshots.json files that must be refused (unknown keys,
 * duplicates, a parent after its child, a current that names nothing,
 * bad tags); a clone's random MACs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "manage/snapshot_def.h"
#include "manage/snaptree.h"
#include "manage/state.h"
#include "util/log.h"

static struct mstate st;

static void write_tree(const char *text)
{
	char path[PATH_MAX];
	mstate_path(&st, "vm", "snapshots.json", path, sizeof(path));
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static int load_text(const char *text)
{
	struct msnap_tree t;
	struct verr err = {{0}};
	write_tree(text);
	int r = msnap_tree_load(&st, "vm", &t, &err);
	if (r)
		CHECK(err.msg[0] && strstr(err.msg, "snapshots.json"));
	msnap_tree_free(&t);
	return r;
}

static void test_tags(void)
{
	CHECK(msnap_tag_valid("s1") && msnap_tag_valid("before-upgrade_2.1"));
	CHECK(!msnap_tag_valid("") && !msnap_tag_valid(".") && !msnap_tag_valid(".."));
	CHECK(!msnap_tag_valid("a/b") && !msnap_tag_valid("a b") && !msnap_tag_valid("x.disk-y"));
	CHECK(!msnap_tag_valid("a.tmp") && msnap_tag_valid("tmp"));
	char long_tag[80];
	memset(long_tag, 'a', sizeof(long_tag) - 1);
	long_tag[79] = '\0';
	CHECK(!msnap_tag_valid(long_tag));
}

static void test_tree_ops(void)
{
	struct msnap_tree t = {0};
	struct verr err = {{0}};
	/* s1 -> s2; back at s1: s3; s3 -> s4 */
	CHECK(msnap_tree_add(&t, "s1", 100, &err) == 0);
	CHECK(msnap_tree_add(&t, "s2", 200, &err) == 0);
	snprintf(t.current, sizeof(t.current), "s1");
	snprintf(t.base, sizeof(t.base), "s1");
	CHECK(msnap_tree_add(&t, "s3", 300, &err) == 0);
	CHECK(msnap_tree_add(&t, "s4", 400, &err) == 0);
	CHECK(!strcmp(msnap_tree_find(&t, "s2")->parent, "s1"));
	CHECK(!strcmp(msnap_tree_find(&t, "s3")->parent, "s1"));
	CHECK(!strcmp(msnap_tree_find(&t, "s4")->parent, "s3"));
	CHECK(!strcmp(t.current, "s4"));
	CHECK(msnap_tree_under(&t, "s4", "s1") && msnap_tree_under(&t, "s4", "s3"));
	CHECK(!msnap_tree_under(&t, "s4", "s2") && !msnap_tree_under(&t, "s1", "s3"));
	CHECK(msnap_tree_under(&t, "s2", "s2") && !msnap_tree_under(&t, "nope", "s1"));

	/* Round trip through the file. */
	CHECK(msnap_tree_save(&st, "vm", &t, &err) == 0);
	struct msnap_tree u;
	CHECK(msnap_tree_load(&st, "vm", &u, &err) == 0);
	CHECK(u.n == 4 && !strcmp(u.current, "s4") && !strcmp(u.base, "s1"));
	for (size_t i = 0; i < u.n && i < t.n; i++) {
		CHECK(!strcmp(u.e[i].tag, t.e[i].tag) && !strcmp(u.e[i].parent, t.e[i].parent));
		CHECK(u.e[i].created == t.e[i].created);
	}
	msnap_tree_free(&u);

	/* Dropping s3 takes s4 along; current moves to s3's parent. */
	msnap_tree_drop(&t, "s3");
	CHECK(t.n == 2 && msnap_tree_find(&t, "s1") && msnap_tree_find(&t, "s2"));
	CHECK(!strcmp(t.current, "s1") && !strcmp(t.base, "s1"));
	/* Dropping the root empties it and clears current and base. */
	msnap_tree_drop(&t, "s1");
	CHECK(t.n == 0 && !t.current[0] && !t.base[0]);
	msnap_tree_free(&t);
}

static void test_bad_files(void)
{
	/* No file: an empty tree. */
	char path[PATH_MAX];
	mstate_path(&st, "vm", "snapshots.json", path, sizeof(path));
	unlink(path);
	struct msnap_tree t;
	struct verr err = {{0}};
	CHECK(msnap_tree_load(&st, "vm", &t, &err) == 0 && t.n == 0 && !t.current[0]);
	msnap_tree_free(&t);

	CHECK(load_text("{\"current\": null, \"base\": null, \"snapshots\": []}") == 0);
	CHECK(load_text("{\"current\": \"a\", \"base\": null, \"snapshots\": "
			"[{\"tag\": \"a\", \"parent\": null, \"created\": 1}]}") == 0);
	CHECK(load_text("not json") < 0);
	CHECK(load_text("[]") < 0);
	CHECK(load_text("{\"current\": null, \"snapshots\": []}") < 0);
	CHECK(load_text("{\"current\": null, \"base\": null, \"snapshots\": [], \"x\": 1}") < 0);
	CHECK(load_text("{\"current\": null, \"base\": null, \"snapshots\": {}}") < 0);
	/* current / base naming no snapshot */
	CHECK(load_text("{\"current\": \"a\", \"base\": null, \"snapshots\": []}") < 0);
	CHECK(load_text("{\"current\": null, \"base\": \"a\", \"snapshots\": []}") < 0);
	/* a child before its parent (or a parent that does not exist) */
	CHECK(load_text("{\"current\": null, \"base\": null, \"snapshots\": ["
			"{\"tag\": \"b\", \"parent\": \"a\", \"created\": 1},"
			"{\"tag\": \"a\", \"parent\": null, \"created\": 1}]}") < 0);
	/* a tag twice, or a cycle onto itself */
	CHECK(load_text("{\"current\": null, \"base\": null, \"snapshots\": ["
			"{\"tag\": \"a\", \"parent\": null, \"created\": 1},"
			"{\"tag\": \"a\", \"parent\": null, \"created\": 1}]}") < 0);
	CHECK(load_text("{\"current\": null, \"base\": null, \"snapshots\": ["
			"{\"tag\": \"a\", \"parent\": \"a\", \"created\": 1}]}") < 0);
	/* bad tags, wrong types, unknown keys in an entry */
	CHECK(load_text("{\"current\": null, \"base\": null, \"snapshots\": ["
			"{\"tag\": \"../x\", \"parent\": null, \"created\": 1}]}") < 0);
	CHECK(load_text("{\"current\": null, \"base\": null, \"snapshots\": ["
			"{\"tag\": \"a\", \"parent\": null, \"created\": \"1\"}]}") < 0);
	CHECK(load_text("{\"current\": null, \"base\": null, \"snapshots\": ["
			"{\"tag\": \"a\", \"parent\": null, \"created\": 1, \"y\": 2}]}") < 0);
	CHECK(load_text("{\"current\": 7, \"base\": null, \"snapshots\": []}") < 0);
}

static void test_clone_macs(void)
{
	struct mdef d;
	memset(&d, 0, sizeof(d));
	d.nnets = 3;
	struct verr err = {{0}};
	CHECK(msnap_new_macs(&d, &err) == 0);
	for (unsigned i = 0; i < d.nnets; i++) {
		CHECK(mdef_mac_valid(d.net[i].mac));
		unsigned first = (unsigned)strtoul(d.net[i].mac, NULL, 16);
		CHECK((first & 3) == 2); /* locally administered, unicast */
	}
	CHECK(strcmp(d.net[0].mac, d.net[1].mac) && strcmp(d.net[1].mac, d.net[2].mac));
	CHECK(mdef_mac_valid("52:54:00:12:34:56") && mdef_mac_valid("AA:bb:00:00:00:01"));
	CHECK(!mdef_mac_valid("53:54:00:12:34:56") && !mdef_mac_valid("52:54:00:12:34"));
	CHECK(!mdef_mac_valid("52-54-00-12-34-56") && !mdef_mac_valid("52:54:00:12:34:5g"));
}

int main(void)
{
	char dir[] = "/tmp/vessel-snaptree-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	snprintf(st.root, sizeof(st.root), "%s", dir);
	char vm[PATH_MAX];
	mstate_path(&st, "vm", NULL, vm, sizeof(vm));
	CHECK(mkdir(vm, 0700) == 0);
	test_tags();
	test_tree_ops();
	test_bad_files();
	test_clone_macs();
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	else
		printf("snaptree: ok\n");
	return failures != 0;
}
