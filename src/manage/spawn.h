/* SPDX-License-Identifier: MIT */
/*
 * Starting and stopping the VMM process of a managed VM.
 *
 * Start: spawn 'vessel vmm --api-sock api.sock --name NAME --log console.log'
 * (which becomes the vessel-vmm executable, same pid)
 * detached (its own session, reparented away from the CLI, stdio to
 * vmm.log, working directory the VM's directory so the socket path stays
 * short), put it in its cgroup, wait for the socket, configure the machine
 * from the definition through the API and start it.  Any failure kills the
 * process and leaves the VM stopped as before.
 */
#ifndef VESSEL_MANAGE_SPAWN_H
#define VESSEL_MANAGE_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "manage/def.h"
#include "manage/state.h"

struct verr;

#define MSPAWN_SOCKET_WAIT_MS	  10000
#define MSPAWN_SHUTDOWN_REPEAT_MS 5000 /* a graceful stop presses the button again */

/* Start VM d (not running; caller holds its lock). 0 with *pid set, or -errno. */
int mspawn_start(const struct mstate *s, const struct mdef *d, pid_t *pid, struct verr *err);

/* Send the API's configuration requests for d, then the start action. */
int mspawn_configure(const char *sock, const struct mdef *d, struct verr *err);

/* Wait up to 'ms' for process 'pid' (a VMM found alive before) to be gone. */
bool mspawn_wait_gone(pid_t pid, unsigned ms);

/*
 * Stop NAME's VMM 'pid': unless 'force', ask the guest to shut down (again
 * every MSPAWN_SHUTDOWN_REPEAT_MS) and wait up to 'timeout_ms'; then a hard
 * stop through the API, then SIGKILL.
 * 'how' (of 'how_size' bytes) tells what ended it: the API's exit reason
 * ("poweroff": the guest), "stopped" (hard stop) or "killed".
 */
int mspawn_stop(const struct mstate *s, const char *name, pid_t pid, bool force,
		unsigned timeout_ms, char *how, size_t how_size, struct verr *err);

#endif
