/* SPDX-License-Identifier: MIT */
/*
 * The virtio devices of 'vessel run', from its --disk, --net and --rng
 * flags.  Each flag takes the next free virtio-mmio slot, in command-line
 * order, so the first --disk is the guest's /dev/vda.
 */
#ifndef VESSEL_CLI_RUN_DEVICES_H
#define VESSEL_CLI_RUN_DEVICES_H

#include <stdbool.h>

#include "block/block.h"
#include "machine/virt.h"

struct verr;

struct run_devices {
	struct virtio_device *slot[VIRT_VIRTIO_SLOTS];
	unsigned n;    /* slots used */
	unsigned nics; /* for the MAC address of the next NIC */
};

/* A --disk spec taken apart; 'path' is malloc'd (the caller frees it). */
struct run_disk_spec {
	char *path;
	enum blk_format fmt;
	bool readonly;
};
/* Parse "path[,format=raw|qcow2][,readonly]" without opening it: 0 or -EINVAL/-ENOMEM. */
int run_devices_parse_disk(const char *spec, struct run_disk_spec *out, struct verr *err);

/* Each returns 0, or a negative errno with 'err' filled; -EINVAL means a malformed spec. */
int run_devices_add_disk(struct run_devices *d, const char *spec, struct verr *err);
int run_devices_add_net(struct run_devices *d, const char *spec, struct verr *err);
int run_devices_add_rng(struct run_devices *d, struct verr *err);

/* Free every device (after machine_destroy()). */
void run_devices_destroy(struct run_devices *d);

#endif
