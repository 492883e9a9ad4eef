/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2, section 5.2) over a block backend (block/block.h).
 * Requests are popped on the hart thread that kicks the queue and handed to
 * a small pool of I/O threads, which do the disk I/O, complete the request
 * and raise the interrupt; a vCPU never waits for the disk.
 */
#ifndef VESSEL_DEVICES_VIRTIO_BLK_H
#define VESSEL_DEVICES_VIRTIO_BLK_H

#include <stdint.h>

struct blk;
struct verr;
struct virtio_device;

/*
 * Create the device for an open disk; it takes ownership of 'disk' (closed by
 * virtio_device_destroy()).  A read-only disk (blk_is_readonly) is offered
 * with VIRTIO_BLK_F_RO.  NULL on failure, with 'err' filled.
 */
struct virtio_device *virtio_blk_create(struct blk *disk, struct verr *err);

/* Set the serial returned by VIRTIO_BLK_T_GET_ID (up to 20 bytes are used). */
void virtio_blk_set_serial(struct virtio_device *vdev, const char *serial);

/* Requests completed successfully since the device was created, and their data bytes. */
struct virtio_blk_stats {
	uint64_t read_bytes, write_bytes;
	uint64_t read_ops, write_ops, flush_ops;
};
void virtio_blk_get_stats(struct virtio_device *vdev, struct virtio_blk_stats *st);

/* Make the disk's image consistent on the host (no request in flight): blk_flush(). */
int virtio_blk_flush_disk(struct virtio_device *vdev);

/* The disk behind the device: live migration copies it or hands it over, with the
 * queues quiesced whenever it changes its state (snapshot/migrate_disk.c). */
struct blk *virtio_blk_disk(struct virtio_device *vdev);

#endif
