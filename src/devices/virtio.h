/* SPDX-License-Identifier: MIT */
/*
 * The virtio device model (virtio 1.2): what a device (blk, net, rng) tells
 * its transport, and what the transport tells the device.  A device embeds
 * struct virtio_device at the start of its own state; the transport
 * (virtio_mmio.c) owns the registers and drives the queues in 'vq'.
 *
 * Threads: the transport calls ops->queue_notify on the hart thread that
 * wrote QueueNotify, without holding the transport lock, so a device may
 * complete requests there or hand them to its own threads.  Completions from
 * any thread use virtq_push() and then virtio_irq_used().
 */
#ifndef VESSEL_DEVICES_VIRTIO_H
#define VESSEL_DEVICES_VIRTIO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/virtq.h"

/* Device IDs (virtio 1.2, section 5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLK 2
#define VIRTIO_ID_RNG 4

/* Device-independent feature bits. */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX	    29
#define VIRTIO_F_VERSION_1	    32

/* Device status bits (section 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER	  2u
#define VIRTIO_STATUS_DRIVER_OK	  4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED	  128u

/* InterruptStatus bits. */
#define VIRTIO_INT_USED	  1u
#define VIRTIO_INT_CONFIG 2u

#define VIRTIO_MAX_QUEUES 8

struct virtio_device;

struct virtio_device_ops {
	/* The driver kicked queue 'q' (q < num_queues, the device is DRIVER_OK). */
	void (*queue_notify)(struct virtio_device *vdev, unsigned q);
	/* Optional: the driver wrote config space (bounds already checked). */
	void (*config_write)(struct virtio_device *vdev, uint32_t off, unsigned size, uint64_t val);
	/* Optional: the driver set DRIVER_OK. */
	void (*driver_ok)(struct virtio_device *vdev);
	/* Device-specific reset; the queues are already stopped and drained. */
	void (*reset)(struct virtio_device *vdev);
	/* Release the device's own resources (threads, backends), not its
	 * memory: virtio_device_destroy() stops the queues before and frees
	 * the allocation after. */
	void (*destroy)(struct virtio_device *vdev);
};

/* How a device reaches its transport; set by the transport when attached. */
struct virtio_transport_ops {
	void (*raise)(void *transport, uint32_t int_bits);
	void (*config_changed)(void *transport);
	void (*needs_reset)(void *transport);
};

/* The first member of every device's state, which is malloc'ed. */
struct virtio_device {
	/* Filled by the device's constructor. */
	uint32_t device_id;
	uint64_t features; /* device-specific bits; the transport adds the ring/version bits */
	unsigned num_queues;
	uint16_t queue_max[VIRTIO_MAX_QUEUES]; /* powers of two, <= VIRTQ_MAX_SIZE */
	uint8_t *config;		       /* little-endian config space image */
	uint32_t config_size;
	const struct virtio_device_ops *ops;

	/* Owned by the transport. */
	struct virtq vq[VIRTIO_MAX_QUEUES];
	_Atomic uint64_t driver_features; /* valid once FEATURES_OK is accepted */
	atomic_bool driver_ok;		  /* DRIVER_OK set and no reset since */
	const struct virtio_transport_ops *transport_ops;
	void *transport;
	struct guest_mem *mem;
};

/* Initialise the common part (queues); call from a device constructor. */
void virtio_device_init(struct virtio_device *vdev, uint32_t device_id, unsigned num_queues,
			uint16_t queue_max, const struct virtio_device_ops *ops);
/* Stop, release and free a device (NULL is fine); its transport must be gone. */
void virtio_device_destroy(struct virtio_device *vdev);

static inline bool virtio_has_feature(const struct virtio_device *vdev, unsigned bit)
{
	return (atomic_load(&vdev->driver_features) >> bit) & 1;
}

/* Raise a used-buffer interrupt for the device. */
void virtio_irq_used(struct virtio_device *vdev);
/* Config space changed: bump ConfigGeneration and raise a config interrupt. */
void virtio_config_changed(struct virtio_device *vdev);
/* The driver broke the protocol: set DEVICE_NEEDS_RESET and tell the driver. */
void virtio_device_fail(struct virtio_device *vdev);

/* Little-endian stores into a config image. */
static inline void virtio_cfg_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void virtio_cfg_put32(uint8_t *p, uint32_t v)
{
	virtio_cfg_put16(p, (uint16_t)v);
	virtio_cfg_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void virtio_cfg_put64(uint8_t *p, uint64_t v)
{
	virtio_cfg_put32(p, (uint32_t)v);
	virtio_cfg_put32(p + 4, (uint32_t)(v >> 32));
}

#endif
