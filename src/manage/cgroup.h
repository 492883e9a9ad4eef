/* SPDX-License-Identifier: MIT */
/*
 * Resource limits of a managed VM through cgroup v2: the VMM process goes
 * into <cgroup2 mount>/vessel.slice/vm-NAME with cpu.max (--cpu-max) and
 * memory.max (--memory-limit).  Hosts without a usable cgroup v2 (none
 * mounted, read-only, or the cpu/memory controllers bound elsewhere) are
 * told apart from bad input: asking a limit there is an error with one clear
 * line; asking none needs no cgroup at all.
 *
 * VESSEL_CGROUP_ROOT names the cgroup2 root to use instead of the mount found
 * in /proc/self/mountinfo (tests point it at a plain directory).
 */
#ifndef VESSEL_MANAGE_CGROUP_H
#define VESSEL_MANAGE_CGROUP_H

#include <sys/types.h>

#include "manage/def.h"

struct verr;

/* Whether the host can apply d's limits: 0 (also when none are asked) or -ENOTSUP/-errno. */
int mcgroup_check(const struct mdef *d, struct verr *err);
/* Make d's cgroup, set its limits and move 'pid' into it; nothing when no limit is asked. */
int mcgroup_apply(const struct mdef *d, pid_t pid, struct verr *err);
/* Remove d's cgroup (once its process is gone); best effort. */
void mcgroup_remove(const char *name);
/* The cgroup directory of VM 'name' into 'out'; -ENOTSUP when the host has no cgroup v2. */
int mcgroup_path(const char *name, char *out, size_t size);

#endif
