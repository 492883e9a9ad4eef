/* SPDX-License-Identifier: MIT */
/*
 * The VM behind the API: its configuration, its devices and the lifecycle
 * state machine (configuring -> running <-> paused -> stopped), driving a
 * machine (machine/virt.h) on a thread of its own.  A guest reboot and the
 * reset action rebuild the machine in place on the same devices and console.
 *
 * Every function is safe from any thread (one lock).  Setters return 0 or a
 * negative errno with 'err' filled: -EINVAL bad value, -ENOENT no such
 * thing, -EBUSY not allowed in the current state, -ENOSPC no free slot;
 * others are failures of the VMM.  Getters build jansson values.
 */
#ifndef VESSEL_API_VM_H
#define VESSEL_API_VM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "block/block.h"

struct console_log;
struct verr;
struct vm;

enum vm_state { VM_CONFIGURING, VM_RUNNING, VM_PAUSED, VM_STOPPED };

enum vm_action {
	VM_ACTION_START,
	VM_ACTION_PAUSE,
	VM_ACTION_RESUME,
	VM_ACTION_SHUTDOWN,
	VM_ACTION_STOP,
	VM_ACTION_RESET,
};

#define VM_DEFAULT_FIRMWARE   "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
#define VM_DEFAULT_APPEND     "console=ttyS0"
#define VM_DEFAULT_MEMORY_MIB 512
#define VM_MAX_MEMORY_MIB     65536
#define VM_MIN_MEMORY_MIB     16
#define VM_ID_MAX	      64

/* ended_fd: an eventfd written once when the VM has stopped for good. */
struct vm *vm_create(const char *name, struct console_log *con, int ended_fd, struct verr *err);
/* Stop the machine if it runs, free the devices. */
void vm_destroy(struct vm *vm);

/* The process exit status for how the VM stopped (valid once stopped). */
int vm_exit_status(struct vm *vm);

/* cpuset NULL: no pinning. */
int vm_set_machine(struct vm *vm, unsigned vcpus, uint64_t memory_mib, const char *cpuset,
		   struct verr *err);
/* NULL fields take the defaults (kernel and initrd: none). */
int vm_set_boot(struct vm *vm, const char *kernel, const char *initrd, const char *append,
		const char *firmware, struct verr *err);
int vm_put_drive(struct vm *vm, const char *id, const char *path, enum blk_format fmt,
		 bool read_only, struct verr *err);
/* mac NULL: the default for the interface's place. */
int vm_put_nic(struct vm *vm, const char *id, const char *const *hostfwd, unsigned nfwd,
	       const uint8_t *mac, struct verr *err);
int vm_set_rng(struct vm *vm, bool enabled, struct verr *err);
int vm_do_action(struct vm *vm, enum vm_action action, struct verr *err);

/* Whether 'id' is a valid drive / interface id. */
bool vm_id_valid(const char *id);

json_t *vm_json_info(struct vm *vm);
json_t *vm_json_machine(struct vm *vm);
json_t *vm_json_boot(struct vm *vm);
json_t *vm_json_drives(struct vm *vm);
json_t *vm_json_nics(struct vm *vm);
json_t *vm_json_rng(struct vm *vm);
json_t *vm_json_metrics(struct vm *vm);
/* The MAC address of every interface, in the order of creation; returns how many. */
unsigned vm_nic_macs(struct vm *vm, uint8_t mac[][6], unsigned max);
/* The power button (virtio-input), which also carries messages to the guest. */
struct virtio_device *vm_power_button(struct vm *vm);
/* One drive / interface, or NULL if there is none with that id. */
json_t *vm_json_drive(struct vm *vm, const char *id);
json_t *vm_json_nic(struct vm *vm, const char *id);

/* ---- Snapshots (api/snapshot_routes.c) ---- */
struct machine;
struct virtio_device;
struct vm_snapshot_drive {
	const char *id, *path;
	enum blk_format fmt;
	bool read_only;
	struct virtio_device *dev;
};
struct vm_snapshot_ctx {
	struct machine *m;
	unsigned ndrives;
	struct vm_snapshot_drive drive[8];
};
/*
 * Run 'fn' with the VM locked and its machine paused (it must be running or
 * paused: -EBUSY otherwise); a running VM resumes afterwards.  Returns fn's result.
 */
int vm_with_paused_machine(struct vm *vm, int (*fn)(const struct vm_snapshot_ctx *c, void *arg),
			   void *arg, struct verr *err);
/* Run 'fn' with the VM locked and running (-EBUSY otherwise): live migration. */
int vm_with_running_machine(struct vm *vm, int (*fn)(const struct vm_snapshot_ctx *c, void *arg),
			    void *arg, struct verr *err);
/*
 * Start a configuring VM from a snapshot: the machine is built without
 * booting anything and 'load' fills it before it runs.  If 'load' fails
 * (returns -errno with err filled) the VM stays configuring.
 */
int vm_start_restored(struct vm *vm, int (*load)(struct machine *m, void *arg), void *arg,
		      struct verr *err);

#endif
