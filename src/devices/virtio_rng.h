/* SPDX-License-Identifier: MIT */
/* virtio-rng (virtio 1.2, section 5.4): one request queue filled from getrandom(2). */
#ifndef VESSEL_DEVICES_VIRTIO_RNG_H
#define VESSEL_DEVICES_VIRTIO_RNG_H

struct virtio_device;

/* NULL only when out of memory.  Free with virtio_device_destroy(). */
struct virtio_device *virtio_rng_create(void);

#endif
