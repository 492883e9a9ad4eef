/* SPDX-License-Identifier: MIT */
/*
 * The state directory of managed VMs.
 *
 *   ROOT/.lock            flock: creating and removing VMs
 *   ROOT/NAME/vm.json     the definition (struct mdef), replaced atomically
 *   ROOT/NAME/lock        flock: starting and stopping this VM
 *   ROOT/NAME/pid         the VMM process while it runs (it may be stale)
 *   ROOT/NAME/api.sock    its API socket
 *   ROOT/NAME/console.log the console output of the last start
 *   ROOT/NAME/vmm.log     the VMM's own stdout and stderr
 *
 * ROOT is $VESSEL_STATE_DIR, else /var/lib/vessel for root, else
 * $XDG_STATE_HOME/vessel or ~/.local/state/vessel.  A VM directory appears
 * whole (made under a temporary name, then renamed) and leaves whole
 * (renamed away, then emptied), so a crash never leaves half a VM.
 */
#ifndef VESSEL_MANAGE_STATE_H
#define VESSEL_MANAGE_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "manage/def.h"

struct verr;

struct mstate {
	char root[PATH_MAX];
};

/* Resolve ROOT; 'create' makes it (mode 0700) when missing. 0 or -errno. */
int mstate_open(struct mstate *s, bool create, struct verr *err);

/* ROOT/NAME/FILE into 'out' (FILE may be NULL for the directory). -ENAMETOOLONG. */
int mstate_path(const struct mstate *s, const char *name, const char *file, char *out, size_t size);

/* An exclusive flock on 'path' (created if missing): returns the fd, or -errno. */
int mstate_lock(const char *path, struct verr *err);
void mstate_unlock(int fd);

/* Whether VM NAME is defined (its vm.json exists). */
bool mstate_exists(const struct mstate *s, const char *name);

/* Define a new VM: -EEXIST when the name is taken. Call under the ROOT lock. */
int mstate_create(const struct mstate *s, const struct mdef *d, struct verr *err);
/* Read NAME's definition: -ENOENT when there is no such VM. */
int mstate_load(const struct mstate *s, const char *name, struct mdef *d, struct verr *err);
/* Replace NAME's vm.json atomically. */
int mstate_save(const struct mstate *s, const struct mdef *d, struct verr *err);
/* Remove NAME's directory and everything in it. */
int mstate_remove(const struct mstate *s, const char *name, struct verr *err);

/* The VM names, sorted; *names is malloc'd (free each and the array). */
int mstate_list(const struct mstate *s, char ***names, size_t *n, struct verr *err);
void mstate_list_free(char **names, size_t n);

/*
 * The pid of NAME's VMM process if it is alive: the pid file names a process
 * that is a 'vessel vmm' running in NAME's directory (so neither a stale pid
 * file nor a recycled pid counts).  0 when there is none.
 */
pid_t mstate_pid(const struct mstate *s, const char *name);
/* Whether 'pid' is a live (not zombie) 'vessel vmm' whose cwd is 'dir'. */
bool mstate_pid_is_vmm(pid_t pid, const char *dir);
int mstate_write_pid(const struct mstate *s, const char *name, pid_t pid, struct verr *err);
void mstate_clear_pid(const struct mstate *s, const char *name);

/* Write 'data' to 'path' through a temporary file and rename(). */
int mstate_write_atomic(const char *path, const char *data, size_t len, struct verr *err);

#endif
