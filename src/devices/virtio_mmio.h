/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio transport (virtio 1.2, section 4.2, modern interface only),
 * one per slot of the virt board.  A slot with no device answers with
 * DeviceID 0, as on QEMU, so the guest sees all slots and skips empty ones.
 */
#ifndef VESSEL_DEVICES_VIRTIO_MMIO_H
#define VESSEL_DEVICES_VIRTIO_MMIO_H

#include "machine/bus.h"
#include "machine/guest_mem.h"
#include "machine/irq.h"

#define VIRTIO_MMIO_SLOT_SIZE 0x1000

struct virtio_device; /* a device model: blk, net, rng (virtio.h) */
struct virtio_mmio;

/* Create the transport for one slot; vdev NULL makes an empty slot. */
struct virtio_mmio *virtio_mmio_create(struct guest_mem *mem, struct irq_line irq,
				       struct virtio_device *vdev);
void virtio_mmio_destroy(struct virtio_mmio *t);

/* Register with bus_add(bus, base, VIRTIO_MMIO_SLOT_SIZE, &virtio_mmio_ops, t, name). */
extern const struct mmio_ops virtio_mmio_ops;

/* ---- Snapshots ---- */
#include "devices/virtq.h"

struct virtio_mmio_queue_state {
	uint64_t desc, driver, device;
	uint16_t num;
	uint8_t ready, pad[5];
	struct virtq_state vq;
	uint8_t pad2[1];
};

#define VIRTIO_MMIO_STATE_QUEUES 8
struct virtio_mmio_state {
	uint32_t device_id; /* 0: empty slot */
	uint32_t num_queues;
	uint32_t dev_features_sel, drv_features_sel, queue_sel, status;
	uint64_t drv_features;	  /* as the driver wrote them */
	uint64_t driver_features; /* as accepted at FEATURES_OK */
	uint32_t isr, config_generation;
	uint8_t needs_reset, driver_ok, pad[6];
	struct virtio_mmio_queue_state q[VIRTIO_MMIO_STATE_QUEUES];
};

struct verr;
/* Quiesce the device's queues (no pops, nothing in flight) / let them go again. */
void virtio_mmio_freeze(struct virtio_mmio *t);
void virtio_mmio_thaw(struct virtio_mmio *t);
void virtio_mmio_save(struct virtio_mmio *t, struct virtio_mmio_state *st);
/* Before the harts run; -EINVAL (err filled) when the state does not fit the slot's device. */
int virtio_mmio_load(struct virtio_mmio *t, const struct virtio_mmio_state *st, struct verr *err);
/* Once the machine is whole again: let the device look at its queues. */
void virtio_mmio_kick_all(struct virtio_mmio *t);

#endif
