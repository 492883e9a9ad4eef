/* SPDX-License-Identifier: MIT */
#include "devices/virtio_net.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio.h"
#include "net/netdev.h"
#include "util/log.h"

#define VIRTIO_NET_F_MAC       5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS    16
#define VIRTIO_NET_S_LINK_UP   1

#define NET_HDR_SIZE   12 /* struct virtio_net_hdr with num_buffers (VERSION_1) */
#define NET_QUEUE_SIZE 256
#define RXQ	       0
#define TXQ	       1
#define ETH_MIN_HDR    14
#define RX_MAX_BUFS    64 /* buffers one frame may span with MRG_RXBUF */

/* Config space: mac[6], status, max_virtqueue_pairs, mtu. */
#define CFG_MAC	   0
#define CFG_STATUS 6
#define CFG_PAIRS  8
#define CFG_MTU	   10
#define CFG_SIZE   12

struct virtio_net {
	struct virtio_device vdev; /* first */
	struct net_backend *be;
	uint8_t config[CFG_SIZE];
	pthread_mutex_t tx_lock; /* one transmitter at a time keeps frames in order */
	uint8_t tx_buf[NET_MAX_FRAME];
	_Atomic uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets; /* for metrics */
};

static void net_count(_Atomic uint64_t *packets, _Atomic uint64_t *bytes, size_t len)
{
	atomic_fetch_add_explicit(packets, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(bytes, len, memory_order_relaxed);
}

void virtio_net_default_mac(unsigned index, uint8_t mac[6])
{
	static const uint8_t base[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	memcpy(mac, base, 6);
	mac[5] = (uint8_t)(base[5] + index);
}

/* The header of a received frame: no offloads, 'nbufs' buffers used. */
static void rx_header(uint8_t hdr[NET_HDR_SIZE], uint16_t nbufs)
{
	memset(hdr, 0, NET_HDR_SIZE);
	virtio_cfg_put16(hdr + 10, nbufs); /* num_buffers */
}

/*
 * With MRG_RXBUF: spread the frame over as many buffers as it needs and
 * complete them together.  Without enough buffers yet, give them back and
 * wait (-EAGAIN); a guest posting empty buffers only loses the frame.
 */
static int receive_mergeable(struct virtio_net *n, const uint8_t *frame, size_t len)
{
	struct virtq *q = &n->vdev.vq[RXQ];
	struct virtq_elem *e[RX_MAX_BUFS];
	uint32_t used[RX_MAX_BUFS];
	uint64_t need = NET_HDR_SIZE + len, room = 0;
	unsigned nb = 0;
	while (room < need && nb < RX_MAX_BUFS) {
		int r = virtq_pop(q, &e[nb]);
		if (r == 0 || r < 0) {
			virtq_unpop(q, e, nb);
			return r == 0 ? -EAGAIN : 0;
		}
		room += e[nb++]->in_len;
	}
	/* Too many tiny buffers, or a first one without room for the header
	 * (the spec requires it): the frame is dropped, the buffers come back empty. */
	bool drop = room < need || e[0]->in_len < NET_HDR_SIZE;
	uint8_t hdr[NET_HDR_SIZE];
	rx_header(hdr, (uint16_t)nb);
	uint64_t done = 0;
	for (unsigned i = 0; i < nb; i++) {
		used[i] = 0;
		if (drop)
			continue;
		uint64_t off = 0;
		if (i == 0)
			off = virtq_elem_write(e[0], 0, hdr, NET_HDR_SIZE);
		size_t c = virtq_elem_write(e[i], off, frame + done, len - done);
		done += c;
		used[i] = (uint32_t)(off + c);
	}
	virtq_complete_many(q, e, used, nb);
	if (!drop)
		net_count(&n->rx_packets, &n->rx_bytes, len);
	return 0;
}

/* Backend thread: put one frame into the guest's receive buffer(s). */
static int net_receive(void *opaque, const uint8_t *frame, size_t len)
{
	struct virtio_net *n = opaque;
	struct virtq *q = &n->vdev.vq[RXQ];
	struct virtq_elem *e;
	/* No buffer may be used before DRIVER_OK, even if the queue is set up. */
	if (!atomic_load(&n->vdev.driver_ok))
		return -EAGAIN;
	if (virtio_has_feature(&n->vdev, VIRTIO_NET_F_MRG_RXBUF))
		return receive_mergeable(n, frame, len);
	int r = virtq_pop(q, &e);
	if (r == 0)
		return -EAGAIN; /* no buffer (or not running): the backend holds it */
	if (r < 0)
		return 0; /* broken queue: drop */
	if (e->in_len < NET_HDR_SIZE + len) {
		/* Without MRG_RXBUF a frame must fit one buffer; the guest
		 * sees an empty buffer and the frame is dropped. */
		virtq_complete(q, e, 0);
		return 0;
	}
	uint8_t hdr[NET_HDR_SIZE];
	rx_header(hdr, 1);
	virtq_elem_write(e, 0, hdr, sizeof(hdr));
	virtq_elem_write(e, NET_HDR_SIZE, frame, len);
	virtq_complete(q, e, (uint32_t)(NET_HDR_SIZE + len));
	net_count(&n->rx_packets, &n->rx_bytes, len);
	return 0;
}

static const struct net_peer_ops net_peer = {.receive = net_receive};

/* Hart thread: send every frame the guest queued for transmission. */
static void net_tx(struct virtio_net *n)
{
	struct virtq *q = &n->vdev.vq[TXQ];
	struct virtq_elem *e;
	pthread_mutex_lock(&n->tx_lock);
	while (virtq_pop(q, &e) > 0) {
		uint64_t len = e->out_len;
		/* Offloads are not offered, so the header carries nothing we need. */
		if (len >= NET_HDR_SIZE + ETH_MIN_HDR && len - NET_HDR_SIZE <= NET_MAX_FRAME) {
			size_t flen = virtq_elem_read(e, NET_HDR_SIZE, n->tx_buf,
						      (size_t)(len - NET_HDR_SIZE));
			net_backend_send(n->be, n->tx_buf, flen);
			net_count(&n->tx_packets, &n->tx_bytes, flen);
		}
		virtq_complete(q, e, 0);
	}
	pthread_mutex_unlock(&n->tx_lock);
}

static void net_notify(struct virtio_device *vdev, unsigned qi)
{
	struct virtio_net *n = (struct virtio_net *)vdev;
	if (qi == TXQ)
		net_tx(n);
	else
		net_backend_rx_ready(n->be); /* new receive buffers */
}

static void net_driver_ok(struct virtio_device *vdev)
{
	net_backend_rx_ready(((struct virtio_net *)vdev)->be);
}

static void net_destroy(struct virtio_device *vdev)
{
	struct virtio_net *n = (struct virtio_net *)vdev;
	net_backend_attach(n->be, NULL, NULL);
	net_backend_destroy(n->be);
	pthread_mutex_destroy(&n->tx_lock);
}

static const struct virtio_device_ops net_ops = {
    .queue_notify = net_notify,
    .driver_ok = net_driver_ok,
    .destroy = net_destroy,
};

struct virtio_device *virtio_net_create(struct net_backend *be, const uint8_t mac[6],
					struct verr *err)
{
	if (!be) {
		verr_set(err, EINVAL, "virtio-net: no backend");
		return NULL;
	}
	struct virtio_net *n = calloc(1, sizeof(*n));
	if (!n) {
		verr_set(err, ENOMEM, "virtio-net: out of memory");
		return NULL;
	}
	virtio_device_init(&n->vdev, VIRTIO_ID_NET, 2, NET_QUEUE_SIZE, &net_ops);
	n->vdev.features =
	    1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_NET_F_MRG_RXBUF;
	memcpy(n->config + CFG_MAC, mac, 6);
	virtio_cfg_put16(n->config + CFG_STATUS, VIRTIO_NET_S_LINK_UP);
	virtio_cfg_put16(n->config + CFG_PAIRS, 1);
	virtio_cfg_put16(n->config + CFG_MTU, 1500);
	n->vdev.config = n->config;
	n->vdev.config_size = CFG_SIZE;
	pthread_mutex_init(&n->tx_lock, NULL);
	n->be = be;
	net_backend_attach(be, &net_peer, n);
	return &n->vdev;
}

void virtio_net_get_stats(struct virtio_device *vdev, struct virtio_net_stats *st)
{
	struct virtio_net *n = (struct virtio_net *)vdev;
	st->rx_bytes = atomic_load_explicit(&n->rx_bytes, memory_order_relaxed);
	st->tx_bytes = atomic_load_explicit(&n->tx_bytes, memory_order_relaxed);
	st->rx_packets = atomic_load_explicit(&n->rx_packets, memory_order_relaxed);
	st->tx_packets = atomic_load_explicit(&n->tx_packets, memory_order_relaxed);
}
