/* SPDX-License-Identifier: MIT */
/* Shared by the snapshot commands (cli/manage_snapshot.c, cli/manage_snaptree.c). */
#ifndef VESSEL_CLI_MANAGE_SNAPSHOT_H
#define VESSEL_CLI_MANAGE_SNAPSHOT_H

#include "manage/state.h"

struct verr;

/*
 * Save running VM NAME to 'path' (absolute) through its API; prints the
 * "NAME: saved to ..." line. 0 or -errno with 'err' filled.
 */
int msnapcli_save(const struct mstate *s, const char *name, const char *path, struct verr *err);

/*
 * NAME's lock without waiting: the fd, or -EBUSY ("busy: another vessel
 * command holds it") when a migration, revert, start or stop runs on it.
 */
int msnapcli_trylock(const struct mstate *s, const char *name, struct verr *err);

/* vessel snapshot NAME --tag TAG, snapshots, revert, snapshot-rm (manage_snaptree.c). */
int manage_snaptree_cmd(int argc, char **argv);

#endif
