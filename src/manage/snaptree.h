/* SPDX-License-Identifier: MIT */
/*
 * The named snapshots of a managed VM (vessel snapshot NAME --tag TAG,
 * snapshots, revert, snapshot-rm), kept in its state directory:
 *
 *   ROOT/NAME/snapshots/TAG          the snapshot file
 *   ROOT/NAME/snapshots/TAG.disk-ID  its copies of the writable disks
 *   ROOT/NAME/snapshots.json         the tree, replaced atomically:
 *     {"current": TAG|null, "base": TAG|null,
 *      "snapshots": [{"tag": T, "parent": T|null, "created": UNIX-SECONDS}, ...]}
 *
 * 'current' is the snapshot taken or reverted to last: the parent of the
 * next one.  'base' is the snapshot reverted to last: the VM's disks are
 * qcow2 overlays of its disk copies, so it cannot be removed, nor can any
 * snapshot with children (the disk copies of a later snapshot may be
 * overlays of an ancestor's).  Entries are kept in creation order, so a
 * parent always comes before its children.  Callers hold the VM's lock.
 */
#ifndef VESSEL_MANAGE_SNAPTREE_H
#define VESSEL_MANAGE_SNAPTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manage/def.h"
#include "manage/state.h"

struct verr;

#define MSNAP_TAG_MAX MDEF_NAME_MAX
#define MSNAP_MAX     1024

struct msnap_entry {
	char tag[MSNAP_TAG_MAX + 1];
	char parent[MSNAP_TAG_MAX + 1]; /* "" : a root */
	int64_t created;		/* seconds since the epoch */
};

struct msnap_tree {
	struct msnap_entry *e;
	size_t n;
	char current[MSNAP_TAG_MAX + 1], base[MSNAP_TAG_MAX + 1]; /* "" : none */
};

/* A tag: like a VM name, 1 to 64 of [A-Za-z0-9_.-], not "." or "..", without
 * ".disk-" and not ending in ".tmp" (the names of the files beside a snapshot). */
bool msnap_tag_valid(const char *tag);

/* NAME's tree (empty when it has none yet); strictly checked. 0 or -errno. */
int msnap_tree_load(const struct mstate *s, const char *name, struct msnap_tree *t,
		    struct verr *err);
int msnap_tree_save(const struct mstate *s, const char *name, const struct msnap_tree *t,
		    struct verr *err);
void msnap_tree_free(struct msnap_tree *t);

/* The entry with 'tag', or NULL. */
struct msnap_entry *msnap_tree_find(const struct msnap_tree *t, const char *tag);
/* Append a snapshot whose parent is the current one, and make it current. */
int msnap_tree_add(struct msnap_tree *t, const char *tag, int64_t created, struct verr *err);
/* Whether 'tag' is 'top' or below it. */
bool msnap_tree_under(const struct msnap_tree *t, const char *tag, const char *top);
/* Drop 'top' and everything below it; 'current' moves to top's parent if it was dropped. */
void msnap_tree_drop(struct msnap_tree *t, const char *top);

/* ROOT/NAME/snapshots[/TAG] ('tag' NULL: the directory). -ENAMETOOLONG. */
int msnap_path(const struct mstate *s, const char *name, const char *tag, char *out, size_t size);

/* Remove TAG's snapshot file and disk copies; missing ones are not an error. */
int msnap_files_remove(const struct mstate *s, const char *name, const char *tag, struct verr *err);
/* Bytes the snapshot file and its disk copies take on the host's disk. */
uint64_t msnap_files_size(const struct mstate *s, const char *name, const char *tag);

#endif
