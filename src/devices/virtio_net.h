/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (virtio 1.2, section 5.1): one receive queue (0) and one
 * transmit queue (1), a fixed MAC address and link status, mergeable
 * receive buffers, no offloads.  Every frame carries the 12-byte struct
 * virtio_net_hdr in front.
 */
#ifndef VESSEL_DEVICES_VIRTIO_NET_H
#define VESSEL_DEVICES_VIRTIO_NET_H

#include <stdint.h>

struct net_backend;
struct verr;
struct virtio_device;

/* The MAC for NIC number 'index': 52:54:00:12:34:56 + index (locally administered). */
void virtio_net_default_mac(unsigned index, uint8_t mac[6]);

/*
 * Create the NIC on a backend (net_backend_parse); it takes ownership of
 * 'be' and destroys it with the device.  NULL on failure, with 'err' filled.
 */
struct virtio_device *virtio_net_create(struct net_backend *be, const uint8_t mac[6],
					struct verr *err);

/* Frames since the device was created (bytes without the virtio header). */
struct virtio_net_stats {
	uint64_t rx_bytes, tx_bytes;
	uint64_t rx_packets, tx_packets;
};
void virtio_net_get_stats(struct virtio_device *vdev, struct virtio_net_stats *st);

#endif
