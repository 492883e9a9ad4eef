/* SPDX-License-Identifier: MIT */
/*
 * A restored VM's identity: right after a snapshot is loaded the VMM tells
 * the guest, through the power button's event queue, the MAC address of
 * each interface (as configured for this VM: a clone's own, also in the
 * virtio-net config space) and a fresh random seed, so that clones of one
 * snapshot do not share the MAC and random state they were saved with.
 * The guest applies them (the default guest's /etc/init.d/powerbtn); the
 * message format is in docs/snapshot.md.
 */
#ifndef VESSEL_API_IDENTITY_H
#define VESSEL_API_IDENTITY_H

struct vm;
struct verr;

/* Message kinds: the high 16 bits of the MSC_SCAN value ("VM", "VS"). */
#define IDENTITY_KIND_MAC  0x564du
#define IDENTITY_KIND_SEED 0x5653u
#define IDENTITY_SEED_LEN  24

/* Queue the messages (MACs first, the seed last). 0 or -errno with 'err' filled. */
int api_identity_send(struct vm *vm, struct verr *err);

#endif
