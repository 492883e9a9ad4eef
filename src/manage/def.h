/* SPDX-License-Identifier: MIT */
/*
 * The definition of a managed VM: what 'vessel create' was told, kept as
 * vm.json in the VM's state directory so the VM survives a host restart,
 * and turned into the per-VM API's configuration requests at each start.
 */
#ifndef VESSEL_MANAGE_DEF_H
#define VESSEL_MANAGE_DEF_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "machine/virt.h"

struct verr;

#define MDEF_NAME_MAX	 64
#define MDEF_HOSTFWD_MAX 16
/* Virtio devices a VM may have: the VMM keeps one slot for its power button. */
#define MDEF_DEVICES_MAX (VIRT_VIRTIO_SLOTS - 1)

struct mdef_drive {
	char *path;   /* absolute */
	char *format; /* "raw", "qcow2", or NULL: probed */
	bool read_only;
};

#define MDEF_MAC_LEN 17 /* "52:54:00:12:34:56" */

struct mdef_net {
	char *backend; /* "user" */
	char *hostfwd[MDEF_HOSTFWD_MAX];
	unsigned nhostfwd;
	char mac[MDEF_MAC_LEN + 1]; /* "" : the VMM's default for the interface's place */
};

struct mdef {
	char name[MDEF_NAME_MAX + 1];
	unsigned vcpus;
	uint64_t memory_mib;
	char *cpuset; /* "0-1,3" or NULL */
	/* Boot source; NULL: the VMM's default (that of 'vessel run'). */
	char *kernel, *initrd, *append, *firmware;
	struct mdef_drive drive[VIRT_VIRTIO_SLOTS];
	unsigned ndrives;
	struct mdef_net net[VIRT_VIRTIO_SLOTS];
	unsigned nnets;
	bool rng;
	/* Resource limits through cgroup v2; 0 = none. */
	unsigned cpu_max_percent; /* of one host CPU: 150 = one and a half */
	uint64_t memory_limit;	  /* bytes */
	/* Not saved in vm.json: start this time from this snapshot instead of
	 * booting (vessel restore, vessel clone); not freed by mdef_free(). */
	const char *restore_from;
	/* Not saved either: start this time as a live migration's destination, listening
	 * on 'incoming' (vessel receive), the disks copied along with 'incoming_copy'. */
	const char *incoming;
	bool incoming_copy;
};

/* A name of 1 to 64 characters from [A-Za-z0-9_.-], not "." or "..". */
bool mdef_name_valid(const char *name);

/* A --cpuset list "0-1,3": CPUs below 'ncpus_host', ascending or not. 0 or -EINVAL. */
int mdef_cpuset_check(const char *list, unsigned ncpus_host, struct verr *err);

/* A unicast MAC address "52:54:00:12:34:56" (hex digits, either case). */
bool mdef_mac_valid(const char *mac);

/* A --net spec "user[,hostfwd=[tcp|udp]:[ADDR]:PORT-[ADDR]:PORT]...[,mac=MAC]" into 'n'. 0 or
 * -EINVAL. */
int mdef_net_parse(const char *spec, struct mdef_net *n, struct verr *err);

/* The virtio devices the definition needs. */
unsigned mdef_devices(const struct mdef *d);

/* The JSON form (vm.json). mdef_to_json returns a new reference or NULL (out of memory). */
json_t *mdef_to_json(const struct mdef *d);
/* Strict: unknown keys, wrong types, bad values -> -EINVAL. 'd' is filled (free it) on success. */
int mdef_from_json(const json_t *j, struct mdef *d, struct verr *err);

/* Free what the definition points to (not 'd' itself); leaves it zeroed. */
void mdef_free(struct mdef *d);

#endif
