/* SPDX-License-Identifier: MIT */
/*
 * Saving a paused machine to a snapshot file and building a machine back
 * from one (docs/snapshot.md).  The VM layer (api/) adds the configuration
 * and the disks; this layer deals with the machine: harts, interrupt
 * controllers, devices, clock and guest memory.
 */
#ifndef VESSEL_SNAPSHOT_SNAPSHOT_H
#define VESSEL_SNAPSHOT_SNAPSHOT_H

#include <stddef.h>

struct machine;
struct snap_reader;
struct verr;

/*
 * Write the state of machine 'm' (paused: machine_pause() returned 0) to
 * 'fd', a new empty file, with 'config' (JSON text) as its configuration
 * section.  The virtio queues are quiesced meanwhile: requests in flight
 * complete first and none start until the save is over.
 */
int snapshot_machine_save(struct machine *m, const char *config, int fd, struct verr *err);

/*
 * Load a checked snapshot into machine 'm', built with cfg.restoring and the
 * same configuration, before machine_run().  Guest memory becomes a private
 * copy-on-write mapping of the file's memory section.  Every piece of state
 * is checked against the machine; on error 'm' must be destroyed.
 */
int snapshot_machine_load(struct machine *m, const struct snap_reader *r, struct verr *err);

/* The configuration section as a NUL-terminated string (in r), or NULL with err filled. */
const char *snapshot_config(const struct snap_reader *r, struct verr *err);

#endif
