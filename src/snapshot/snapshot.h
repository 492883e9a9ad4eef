/* SPDX-License-Identifier: MIT */
/*
 * Saving a paused machine to a snapshot file and building a machine back
 * from one (docs/snapshot.md).  The VM layer (api/) adds the configuration
 * and the disks; this layer deals with the machine: harts, interrupt
 * controllers, devices, clock and guest memory.
 */
#ifndef VESSEL_SNAPSHOT_SNAPSHOT_H
#define VESSEL_SNAPSHOT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

struct machine;
struct snap_reader;
struct verr;

/*
 * Devices keep running while the harts are paused.  Quiesce makes the virtio
 * queues hold still: requests in flight complete, none start (a network
 * backend keeps its frames) until release, which also lets the devices look
 * at their queues again.  Disks are consistent with memory in between.
 */
void snapshot_machine_quiesce(struct machine *m);
void snapshot_machine_release(struct machine *m);

/*
 * Write the state of machine 'm' (paused: machine_pause() returned 0, and
 * quiesced) to 'fd', a new empty file, with 'config' (JSON text) as its
 * configuration section.
 */
int snapshot_machine_save(struct machine *m, const char *config, int fd, struct verr *err);

/* Copy a disk image, holes kept, to 'dst' (created; it must not exist). */
int snapshot_copy_file(const char *src, const char *dst, struct verr *err);

/*
 * Load a checked snapshot into machine 'm', built with cfg.restoring and the
 * same configuration, before machine_run().  Guest memory becomes a private
 * copy-on-write mapping of the file's memory section.  Every piece of state
 * is checked against the machine; on error 'm' must be destroyed.
 */
int snapshot_machine_load(struct machine *m, const struct snap_reader *r, struct verr *err);

/* The state without guest memory (live migration sends memory itself). */
int snapshot_machine_save_state(struct machine *m, const char *config, int fd, struct verr *err);
/* Load with guest memory already in the machine (migration): no memory section. */
int snapshot_machine_load_ex(struct machine *m, const struct snap_reader *r, bool memory_in_place,
			     struct verr *err);

/* The configuration section as a NUL-terminated string (in r), or NULL with err filled. */
const char *snapshot_config(const struct snap_reader *r, struct verr *err);

#endif
