/* SPDX-License-Identifier: MIT */
/*
 * The split virtqueue (virtio 1.2, section 2.7), shared by all devices.
 *
 * The rings live in guest memory and the guest is hostile: every index,
 * descriptor, length and address is checked before use, and a violation
 * marks the queue broken and the device DEVICE_NEEDS_RESET.  A popped chain
 * becomes a virtq_elem: host pointers to its device-readable buffers
 * followed by its device-writable ones, all already checked to lie in RAM.
 *
 * Locking: each queue has its own lock, taken inside every function here,
 * so pops (on a hart thread) and pushes (on device threads) may race.
 * Harts run on other threads, so ring index updates use acquire/release
 * ordering and the event-index checks full fences.
 */
#ifndef VESSEL_DEVICES_VIRTQ_H
#define VESSEL_DEVICES_VIRTQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/guest_mem.h"

#define VIRTQ_MAX_SIZE	   1024 /* largest queue size a device may offer */
#define VIRTQ_INDIRECT_MAX 1024 /* largest indirect table, in descriptors */

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtio_device;

struct virtq_buf {
	uint8_t *p; /* host pointer, the whole buffer is inside guest RAM */
	uint32_t len;
};

/* One popped descriptor chain.  iov[0..n_out) are device-readable,
 * iov[n_out..n_out+n_in) device-writable (the spec forbids any other order). */
struct virtq_elem {
	uint16_t head;
	uint32_t gen;
	unsigned n_out, n_in;
	uint64_t out_len, in_len; /* total bytes of each part */
	struct virtq_buf iov[];
};

struct virtq {
	pthread_mutex_t lock;
	pthread_cond_t idle; /* signalled when inflight drops to 0 */
	struct virtio_device *vdev;
	struct guest_mem *mem;
	bool ready;
	bool broken;
	bool event_idx;
	bool indirect;
	uint16_t size;
	uint8_t *desc, *avail, *used; /* host pointers, checked at start */
	uint64_t used_gpa;
	uint16_t last_avail; /* next avail ring slot to consume */
	uint16_t used_idx;   /* our copy of used->idx */
	uint16_t signalled_used;
	bool signalled_valid;
	bool frozen;	   /* virtq_freeze(): pops find nothing */
	unsigned inflight; /* popped, not yet pushed */
	uint32_t gen;	   /* bumped at every stop: stale pushes are dropped */
	struct virtq_buf *scratch;
};

void virtq_init(struct virtq *q, struct virtio_device *vdev);
void virtq_destroy(struct virtq *q);

/*
 * Start the queue with the driver's layout.  Checks size (a power of two
 * <= max), alignment of the three areas and that they lie in RAM.
 * Returns 0 or -EINVAL.
 */
int virtq_start(struct virtq *q, struct guest_mem *mem, uint16_t size, uint16_t max, uint64_t desc,
		uint64_t avail, uint64_t used, uint64_t features);
/* Stop the queue: no more pops; waits for chains in flight to be pushed. */
void virtq_stop(struct virtq *q);

bool virtq_is_ready(struct virtq *q);

/*
 * Take the next available chain.  Returns 1 and *out (free it by pushing it),
 * 0 when the ring is empty or the queue is stopped, -EIO when the driver
 * broke the protocol (the device is then marked NEEDS_RESET).
 */
int virtq_pop(struct virtq *q, struct virtq_elem **out);
/* Return a chain to the driver with 'len' bytes written; frees 'e'. */
void virtq_push(struct virtq *q, struct virtq_elem *e, uint32_t len);
/* After pushes: should the driver be interrupted (event index / flags)? */
bool virtq_should_notify(struct virtq *q);
/* Push and, if needed, raise the used-buffer interrupt. */
void virtq_complete(struct virtq *q, struct virtq_elem *e, uint32_t len);

/* Complete several chains at once: the driver sees them all in one used-index
 * update (needed for a frame spread over mergeable receive buffers). */
void virtq_complete_many(struct virtq *q, struct virtq_elem **e, const uint32_t *len, unsigned n);
/* Give back the last 'n' chains popped, unused, newest last in 'e'; they will be
 * popped again.  Only for a queue with a single consumer; frees them. */
void virtq_unpop(struct virtq *q, struct virtq_elem **e, unsigned n);

/* Copy from the readable part at 'off' / into the writable part at 'off';
 * return the bytes copied (short when the part ends). */
size_t virtq_elem_read(const struct virtq_elem *e, uint64_t off, void *buf, size_t len);
size_t virtq_elem_write(const struct virtq_elem *e, uint64_t off, const void *buf, size_t len);

/*
 * Snapshots.  virtq_freeze() makes pops find nothing and waits until no
 * chain is in flight, so that the ring, the indices below and guest memory
 * stay still while they are saved; virtq_thaw() undoes it.
 */
struct virtq_state {
	uint16_t last_avail, used_idx, signalled_used;
	uint8_t signalled_valid, broken;
};
void virtq_freeze(struct virtq *q);
void virtq_thaw(struct virtq *q);
void virtq_save(struct virtq *q, struct virtq_state *st);
/* virtq_start() for a restored queue: the same checks, and guest memory is
 * left alone (the rings in it are the driver's, as saved).  0 or -EINVAL. */
int virtq_load(struct virtq *q, struct guest_mem *mem, uint16_t size, uint16_t max, uint64_t desc,
	       uint64_t avail, uint64_t used, uint64_t features, const struct virtq_state *st);

#endif
