/* SPDX-License-Identifier: MIT */
/*
 * A fake virtio driver for host tests: it lays out split rings in a
 * guest_mem and drives a virtio-mmio transport through virtio_mmio_ops,
 * register by register, the way a guest kernel does.
 */
#ifndef VESSEL_TESTS_VIRTIO_VDRV_H
#define VESSEL_TESTS_VIRTIO_VDRV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/virtio.h"
#include "devices/virtio_mmio.h"
#include "machine/guest_mem.h"
#include "machine/irq.h"

#define VD_RAM_BASE 0x80000000ull
#define VD_RAM_SIZE (4ull << 20)

extern int vd_failures;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			vd_failures++;                                                             \
		}                                                                                  \
	} while (0)

struct test_irq {
	struct irq_chip chip;
	pthread_mutex_t m;
	bool level;
	unsigned rises; /* low -> high transitions */
};

struct vd_queue {
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t avail_idx; /* next avail slot the driver fills */
	uint16_t used_seen; /* used entries consumed */
	uint16_t next_desc; /* descriptor allocator (round robin) */
};

struct vbuf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

struct vdrv {
	struct guest_mem mem;
	struct test_irq irq;
	struct virtio_mmio *t;
	struct virtio_device *vdev;
	uint64_t brk;
	struct vd_queue q[VIRTIO_MAX_QUEUES];
};

/* Set up RAM, an irq chip and a transport around vdev (NULL: empty slot). */
void vd_open(struct vdrv *d, struct virtio_device *vdev);
/* Destroy transport and device, free RAM. */
void vd_close(struct vdrv *d);

uint32_t vd_rd(struct vdrv *d, uint64_t off);
void vd_wr(struct vdrv *d, uint64_t off, uint32_t v);
/* Raw access at any width: returns the mmio_ops result (0 or -1). */
int vd_rd_raw(struct vdrv *d, uint64_t off, unsigned size, uint64_t *v);
/* One byte of the device-specific configuration space (at 0x100), checked to succeed. */
uint8_t vd_cfg8(struct vdrv *d, unsigned off);
int vd_wr_raw(struct vdrv *d, uint64_t off, unsigned size, uint64_t v);

/* Reset and negotiate: returns the device features, or 0 if FEATURES_OK was refused. */
uint64_t vd_negotiate(struct vdrv *d, uint64_t want);
/* Lay out and enable queue qi with 'size' entries; returns QueueReady. */
bool vd_queue_setup(struct vdrv *d, unsigned qi, uint16_t size);
/* The same with room for 'room' descriptors after the table's start (room >= size), so
 * that hostile tests can put valid-looking descriptors just past the end of the table. */
bool vd_queue_setup_room(struct vdrv *d, unsigned qi, uint16_t size, uint16_t room);
void vd_driver_ok(struct vdrv *d);

uint64_t vd_alloc(struct vdrv *d, uint64_t len, uint64_t align);
void *vd_ptr(struct vdrv *d, uint64_t gpa);

/* Write descriptor i of queue qi. */
void vd_desc_set(struct vdrv *d, unsigned qi, uint16_t i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next);
/* Put 'head' in the avail ring and publish it (no kick). */
void vd_avail_add(struct vdrv *d, unsigned qi, uint16_t head);
void vd_kick(struct vdrv *d, unsigned qi);
/* Build a chain from bufs at the next free descriptors, publish and kick; returns head. */
uint16_t vd_submit(struct vdrv *d, unsigned qi, const struct vbuf *b, unsigned n);
/* Wait up to timeout_ms for a used entry; 1 and id/len, or 0 on timeout. */
int vd_wait_used(struct vdrv *d, unsigned qi, uint32_t *id, uint32_t *len, int timeout_ms);
/* Used entries not yet consumed. */
uint16_t vd_used_pending(struct vdrv *d, unsigned qi);

bool vd_irq_level(struct vdrv *d);
unsigned vd_irq_rises(struct vdrv *d);
/* Status register has DEVICE_NEEDS_RESET. */
bool vd_needs_reset(struct vdrv *d);

#endif
