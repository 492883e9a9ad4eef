/* SPDX-License-Identifier: MIT */
#include "manage/snaptree.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

#define TREE_FILE "snapshots.json"
#define SNAP_DIR  "snapshots"

bool msnap_tag_valid(const char *tag)
{
	/* Names the snapshot code gives the files beside TAG must not be tags. */
	size_t n = strlen(tag);
	return mdef_name_valid(tag) && !strstr(tag, ".disk-") &&
	       !(n >= 4 && !strcmp(tag + n - 4, ".tmp"));
}

int msnap_path(const struct mstate *s, const char *name, const char *tag, char *out, size_t size)
{
	char dir[PATH_MAX];
	if (mstate_path(s, name, SNAP_DIR, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	int n = tag ? snprintf(out, size, "%s/%s", dir, tag) : snprintf(out, size, "%s", dir);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

void msnap_tree_free(struct msnap_tree *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

struct msnap_entry *msnap_tree_find(const struct msnap_tree *t, const char *tag)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].tag, tag))
			return &t->e[i];
	return NULL;
}

int msnap_tree_add(struct msnap_tree *t, const char *tag, int64_t created, struct verr *err)
{
	if (t->n >= MSNAP_MAX)
		return verr_set(err, ENOSPC, "more than %d snapshots", MSNAP_MAX);
	struct msnap_entry *e = realloc(t->e, (t->n + 1) * sizeof(*e));
	if (!e)
		return verr_set(err, ENOMEM, "out of memory");
	t->e = e;
	e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->tag, sizeof(e->tag), "%s", tag);
	snprintf(e->parent, sizeof(e->parent), "%s", t->current);
	e->created = created;
	snprintf(t->current, sizeof(t->current), "%s", tag);
	return 0;
}

bool msnap_tree_under(const struct msnap_tree *t, const char *tag, const char *top)
{
	/* Parents come first and there are no cycles (checked at load): the walk ends. */
	for (const struct msnap_entry *e = msnap_tree_find(t, tag); e;
	     e = e->parent[0] ? msnap_tree_find(t, e->parent) : NULL)
		if (!strcmp(e->tag, top))
			return true;
	return false;
}

void msnap_tree_drop(struct msnap_tree *t, const char *top)
{
	const struct msnap_entry *te = msnap_tree_find(t, top);
	if (!te)
		return;
	char parent[MSNAP_TAG_MAX + 1];
	snprintf(parent, sizeof(parent), "%s", te->parent);
	if (t->current[0] && msnap_tree_under(t, t->current, top))
		snprintf(t->current, sizeof(t->current), "%s", parent);
	if (t->base[0] && msnap_tree_under(t, t->base, top))
		t->base[0] = '\0';
	/* Decide for every entry before removing any: the walk needs the parents. */
	bool *gone = calloc(t->n ? t->n : 1, sizeof(*gone));
	if (!gone)
		return;
	for (size_t i = 0; i < t->n; i++)
		gone[i] = msnap_tree_under(t, t->e[i].tag, top);
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++)
		if (!gone[i])
			t->e[k++] = t->e[i];
	t->n = k;
	free(gone);
}

/* "tag" or null in j into 'out' ("" for null); false when it is neither a valid tag nor null. */
static bool tag_or_null(json_t *j, char *out, size_t size)
{
	if (json_is_null(j)) {
		out[0] = '\0';
		return true;
	}
	const char *v = json_string_value(j);
	if (!v || !msnap_tag_valid(v))
		return false;
	snprintf(out, size, "%s", v);
	return true;
}

static int tree_from_json(json_t *j, struct msnap_tree *t, struct verr *err)
{
	json_t *cur, *base, *list, *item;
	json_error_t je;
	if (json_unpack_ex(j, &je, JSON_STRICT, "{s:o, s:o, s:o}", "current", &cur, "base", &base,
			   "snapshots", &list))
		return verr_set(err, EINVAL, "%s", je.text);
	if (!json_is_array(list) || json_array_size(list) > MSNAP_MAX)
		return verr_set(err, EINVAL, "'snapshots' must be an array of at most %d",
				MSNAP_MAX);
	size_t i;
	json_array_foreach(list, i, item)
	{
		json_t *tag, *parent;
		json_int_t created;
		if (json_unpack_ex(item, &je, JSON_STRICT, "{s:o, s:o, s:I}", "tag", &tag, "parent",
				   &parent, "created", &created))
			return verr_set(err, EINVAL, "snapshot %zu: %s", i, je.text);
		struct msnap_entry e = {.created = created};
		if (!tag_or_null(tag, e.tag, sizeof(e.tag)) || !e.tag[0] ||
		    !tag_or_null(parent, e.parent, sizeof(e.parent)))
			return verr_set(err, EINVAL, "snapshot %zu: bad tag or parent", i);
		/* Parents first: a parent is an earlier entry, so there is no cycle. */
		if (msnap_tree_find(t, e.tag) || (e.parent[0] && !msnap_tree_find(t, e.parent)))
			return verr_set(err, EINVAL,
					"snapshot %s: duplicate, or parent not before it", e.tag);
		char keep[MSNAP_TAG_MAX + 1];
		snprintf(keep, sizeof(keep), "%s", t->current);
		snprintf(t->current, sizeof(t->current), "%s", e.parent);
		int r = msnap_tree_add(t, e.tag, e.created, err);
		snprintf(t->current, sizeof(t->current), "%s", keep);
		if (r)
			return r;
	}
	if (!tag_or_null(cur, t->current, sizeof(t->current)) ||
	    !tag_or_null(base, t->base, sizeof(t->base)) ||
	    (t->current[0] && !msnap_tree_find(t, t->current)) ||
	    (t->base[0] && !msnap_tree_find(t, t->base)))
		return verr_set(err, EINVAL, "'current' or 'base' names no snapshot");
	return 0;
}

int msnap_tree_load(const struct mstate *s, const char *name, struct msnap_tree *t,
		    struct verr *err)
{
	memset(t, 0, sizeof(*t));
	char path[PATH_MAX];
	if (mstate_path(s, name, TREE_FILE, path, sizeof(path)))
		return verr_set(err, ENAMETOOLONG, "path too long");
	if (access(path, F_OK) && errno == ENOENT)
		return 0; /* no snapshot yet */
	json_error_t je;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return verr_set(err, EINVAL, "%s: %s", path, je.text);
	struct verr e = {{0}};
	int r = tree_from_json(j, t, &e);
	json_decref(j);
	if (r) {
		msnap_tree_free(t);
		return verr_set(err, -r, "%s: %s", path, e.msg);
	}
	return 0;
}

static json_t *tag_json(const char *tag)
{
	return tag[0] ? json_string(tag) : json_null();
}

int msnap_tree_save(const struct mstate *s, const char *name, const struct msnap_tree *t,
		    struct verr *err)
{
	char path[PATH_MAX];
	if (mstate_path(s, name, TREE_FILE, path, sizeof(path)))
		return verr_set(err, ENAMETOOLONG, "path too long");
	json_t *list = json_array();
	for (size_t i = 0; list && i < t->n; i++)
		if (json_array_append_new(list,
					  json_pack("{s:s, s:o, s:I}", "tag", t->e[i].tag, "parent",
						    tag_json(t->e[i].parent), "created",
						    (json_int_t)t->e[i].created))) {
			json_decref(list);
			list = NULL;
		}
	json_t *j = list ? json_pack("{s:o, s:o, s:o}", "current", tag_json(t->current), "base",
				     tag_json(t->base), "snapshots", list)
			 : NULL;
	char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (!text)
		return verr_set(err, ENOMEM, "out of memory");
	int r = mstate_write_atomic(path, text, strlen(text), err);
	free(text);
	return r;
}

/* Call fn on TAG's file and on each TAG.disk-* beside it. */
static int tag_files(const struct mstate *s, const char *name, const char *tag,
		     int (*fn)(const char *path, void *arg), void *arg)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	if (msnap_path(s, name, NULL, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t len = strlen(tag);
	int r = 0;
	struct dirent *de;
	while (!r && (de = readdir(d))) {
		const char *f = de->d_name;
		if (strncmp(f, tag, len) || (f[len] && strncmp(f + len, ".disk-", 6)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, f);
		r = fn(path, arg);
	}
	closedir(d);
	return r;
}

static int unlink_one(const char *path, void *arg)
{
	(void)arg;
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

int msnap_files_remove(const struct mstate *s, const char *name, const char *tag, struct verr *err)
{
	int r = tag_files(s, name, tag, unlink_one, NULL);
	return r ? verr_set(err, -r, "remove snapshot %s: %s", tag, strerror(-r)) : 0;
}

static int add_size(const char *path, void *arg)
{
	struct stat st;
	if (!stat(path, &st))
		*(uint64_t *)arg += (uint64_t)st.st_blocks * 512;
	return 0;
}

uint64_t msnap_files_size(const struct mstate *s, const char *name, const char *tag)
{
	uint64_t total = 0;
	tag_files(s, name, tag, add_size, &total);
	return total;
}
