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

#endif
