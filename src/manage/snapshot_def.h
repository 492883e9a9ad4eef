/* SPDX-License-Identifier: MIT */
/*
 * A managed VM from a snapshot (vessel restore, vessel clone): its
 * definition comes from the snapshot's configuration section, its writable
 * disks become copy-on-write overlays (in the VM's directory) of the disk
 * copies saved beside the snapshot.
 */
#ifndef VESSEL_MANAGE_SNAPSHOT_DEF_H
#define VESSEL_MANAGE_SNAPSHOT_DEF_H

#include "manage/def.h"
#include "manage/state.h"

struct verr;

/*
 * Fill 'd' (named 'name') from the snapshot at 'snap' (an absolute path),
 * after checking the whole file.  Writable drives point at the snapshot's
 * disk copies for now: msnap_make_overlays() replaces them.
 */
int msnap_def_from_snapshot(const char *snap, const char *name, struct mdef *d, struct verr *err);

/*
 * Create an overlay per writable drive in NAME's directory (diskI.qcow2, with
 * 'suffix' appended unless NULL) and point the drive at it.
 */
int msnap_make_overlays(const struct mstate *s, struct mdef *d, const char *suffix,
			struct verr *err);

/* A new random MAC (locally administered, unicast) for every interface: a clone's identity. */
int msnap_new_macs(struct mdef *d, struct verr *err);

#endif
