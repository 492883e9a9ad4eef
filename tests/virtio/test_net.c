/* SPDX-License-Identifier: MIT */
/*
 * virtio-net through the fake driver on a loopback backend: every frame the
 * guest transmits comes back on its receive queue.  Checks the virtio-net
 * header handling, frame contents and order, flow control when the guest
 * has no receive buffer (held back, bounded, delivered later), too-small
 * buffers, malformed transmit chains, and reset.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio_net.h"
#include "net/netdev.h"
#include "util/log.h"
#include "vdrv.h"

#define F_STD  (1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_EVENT_IDX)
#define F_MAC  (1ull << 5)
#define F_STAT (1ull << 16)
#define F_MRG  (1ull << 15)
#define HDR    12
#define RXBUF  1526 /* header + 1514 */

/* The loopback backend: a test double of the netdev interface. */
struct loopback {
	struct net_backend be;
	pthread_mutex_t lock;
	struct net_queue q;
	unsigned sent;
};

static int lo_send(struct net_backend *be, const uint8_t *frame, size_t len)
{
	struct loopback *lo = (struct loopback *)be;
	pthread_mutex_lock(&lo->lock);
	lo->sent++;
	net_queue_deliver(&lo->q, be, frame, len);
	pthread_mutex_unlock(&lo->lock);
	return 0;
}

static void lo_rx_ready(struct net_backend *be)
{
	struct loopback *lo = (struct loopback *)be;
	pthread_mutex_lock(&lo->lock);
	net_queue_flush(&lo->q, be);
	pthread_mutex_unlock(&lo->lock);
}

static void lo_destroy(struct net_backend *be)
{
	struct loopback *lo = (struct loopback *)be;
	net_queue_clear(&lo->q);
	pthread_mutex_destroy(&lo->lock);
	net_backend_fini(be);
	free(lo);
}

static const struct net_backend_ops lo_ops = {
    .send = lo_send, .rx_ready = lo_rx_ready, .destroy = lo_destroy};

static struct loopback *lo_create(void)
{
	struct loopback *lo = calloc(1, sizeof(*lo));
	net_backend_init(&lo->be, &lo_ops, "loopback");
	pthread_mutex_init(&lo->lock, NULL);
	net_queue_init(&lo->q, NET_QUEUE_MAX);
	return lo;
}

static unsigned lo_held(struct loopback *lo, uint64_t *dropped)
{
	pthread_mutex_lock(&lo->lock);
	unsigned n = lo->q.count;
	if (dropped)
		*dropped = lo->q.dropped;
	pthread_mutex_unlock(&lo->lock);
	return n;
}

struct nic {
	struct vdrv d;
	struct loopback *lo;
	uint64_t rxbufs, txbuf;
	unsigned rx_posted;
};

static void nic_open(struct nic *n)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
	n->lo = lo_create();
	struct verr err;
	struct virtio_device *vdev = virtio_net_create(&n->lo->be, mac, &err);
	CHECK(vdev != NULL);
	vd_open(&n->d, vdev);
	n->rxbufs = vd_alloc(&n->d, 512ull * RXBUF, 8);
	n->txbuf = vd_alloc(&n->d, 64 * 2048, 8);
	n->rx_posted = 0;
}

static void nic_start(struct nic *n)
{
	uint64_t f = vd_negotiate(&n->d, F_STD | F_MAC | F_STAT);
	CHECK((f & F_MAC) && (f & F_STAT));
	CHECK(vd_queue_setup(&n->d, 0, 256));
	CHECK(vd_queue_setup(&n->d, 1, 64));
	vd_driver_ok(&n->d);
	n->rx_posted = 0;
}

/* Post 'count' receive buffers of 'size' bytes and kick the rx queue. */
static void rx_post(struct nic *n, unsigned count, uint32_t size)
{
	for (unsigned i = 0; i < count; i++) {
		struct vbuf b = {n->rxbufs + (uint64_t)(n->rx_posted % 512) * RXBUF, size, true};
		n->rx_posted++;
		struct vd_queue *q = &n->d.q[0];
		uint16_t idx = q->next_desc;
		q->next_desc = (uint16_t)((q->next_desc + 1) % q->size);
		vd_desc_set(&n->d, 0, idx, b.gpa, b.len, VIRTQ_DESC_F_WRITE, 0);
		vd_avail_add(&n->d, 0, idx);
	}
	vd_kick(&n->d, 0);
}

static void frame_make(uint8_t *f, size_t len, unsigned seq)
{
	memset(f, 0xff, 6); /* broadcast */
	memcpy(f + 6, (uint8_t[]){0x52, 0x54, 0, 0x12, 0x34, 0x57}, 6);
	f[12] = 0x88;
	f[13] = 0xb5; /* local experimental ethertype */
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seq + i);
}

/* Transmit one frame as [header][frame] in two descriptors; waits for tx used. */
static void tx_frame(struct nic *n, size_t len, unsigned seq)
{
	uint64_t hdr = n->txbuf, data = n->txbuf + 64;
	memset(vd_ptr(&n->d, hdr), 0, HDR);
	frame_make(vd_ptr(&n->d, data), len, seq);
	struct vbuf b[2] = {{hdr, HDR, false}, {data, (uint32_t)len, false}};
	vd_submit(&n->d, 1, b, 2);
	CHECK(vd_wait_used(&n->d, 1, NULL, NULL, 2000) == 1);
}

/* Take the next received frame and check it is 'seq' of 'len' bytes. */
static bool rx_expect(struct nic *n, size_t len, unsigned seq)
{
	uint32_t id, used;
	if (!vd_wait_used(&n->d, 0, &id, &used, 2000))
		return false;
	struct vd_queue *q = &n->d.q[0];
	const uint8_t *desc = vd_ptr(&n->d, q->desc + 16ull * id);
	uint64_t gpa;
	memcpy(&gpa, desc, 8);
	const uint8_t *buf = vd_ptr(&n->d, gpa);
	uint8_t want[2048];
	frame_make(want, len, seq);
	static const uint8_t hdr[HDR] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	bool ok = used == HDR + len && !memcmp(buf, hdr, HDR) && !memcmp(buf + HDR, want, len);
	if (!ok)
		fprintf(stderr, "rx mismatch: used %u, want %zu (seq %u)\n", used, HDR + len, seq);
	return ok;
}

static void test_config_and_loop(void)
{
	struct nic n;
	nic_open(&n);
	nic_start(&n);
	CHECK(vd_rd(&n.d, 0x008) == VIRTIO_ID_NET);
	uint64_t v;
	CHECK(vd_rd_raw(&n.d, 0x100, 4, &v) == 0 && v == 0x12005452);
	CHECK(vd_rd_raw(&n.d, 0x104, 2, &v) == 0 && v == 0x5734);
	CHECK(vd_rd_raw(&n.d, 0x106, 2, &v) == 0 && v == 1); /* link up */
	rx_post(&n, 8, RXBUF);
	tx_frame(&n, 60, 1);
	CHECK(rx_expect(&n, 60, 1));
	tx_frame(&n, 1514, 2);
	CHECK(rx_expect(&n, 1514, 2));
	CHECK(vd_irq_level(&n.d));

	/* A frame spread over several descriptors, header split. */
	uint64_t t = n.txbuf;
	memset(vd_ptr(&n.d, t), 0, HDR);
	frame_make(vd_ptr(&n.d, t + HDR), 300, 3);
	struct vbuf b[4] = {{t, 5, false},
			    {t + 5, 20, false},
			    {t + 25, 200, false},
			    {t + 225, HDR + 300 - 225, false}};
	vd_submit(&n.d, 1, b, 4);
	CHECK(vd_wait_used(&n.d, 1, NULL, NULL, 2000) == 1);
	CHECK(rx_expect(&n, 300, 3));
	vd_close(&n.d);
}

static void test_flow_control(void)
{
	struct nic n;
	nic_open(&n);
	nic_start(&n);
	rx_post(&n, 4, RXBUF);
	for (unsigned i = 0; i < 6; i++)
		tx_frame(&n, 100 + i, i);
	for (unsigned i = 0; i < 4; i++)
		CHECK(rx_expect(&n, 100 + i, i));
	CHECK(vd_used_pending(&n.d, 0) == 0);
	CHECK(lo_held(n.lo, NULL) == 2); /* no buffer: held by the backend */
	rx_post(&n, 2, RXBUF);		 /* the kick releases them, in order */
	CHECK(rx_expect(&n, 104, 4));
	CHECK(rx_expect(&n, 105, 5));
	CHECK(lo_held(n.lo, NULL) == 0);

	/* With no buffers at all the backend keeps at most NET_QUEUE_MAX. */
	for (unsigned i = 0; i < NET_QUEUE_MAX + 10; i++)
		tx_frame(&n, 64, i);
	uint64_t dropped;
	CHECK(lo_held(n.lo, &dropped) == NET_QUEUE_MAX);
	CHECK(dropped == 10);
	unsigned got = 0;
	for (unsigned round = 0; round < NET_QUEUE_MAX / 128; round++) {
		rx_post(&n, 128, RXBUF);
		for (unsigned i = 0; i < 128; i++)
			got += rx_expect(&n, 64, got);
	}
	CHECK(got == NET_QUEUE_MAX);
	CHECK(lo_held(n.lo, NULL) == 0);
	vd_close(&n.d);
}

static void test_bad_frames(void)
{
	struct nic n;
	nic_open(&n);
	nic_start(&n);
	/* A receive buffer too small for the frame comes back empty. */
	rx_post(&n, 1, 64);
	tx_frame(&n, 200, 7);
	uint32_t used = 99;
	CHECK(vd_wait_used(&n.d, 0, NULL, &used, 2000) == 1 && used == 0);
	/* Transmit chains too short to hold a frame are dropped. */
	unsigned sent = n.lo->sent;
	struct vbuf hdr_only = {n.txbuf, HDR, false};
	vd_submit(&n.d, 1, &hdr_only, 1);
	CHECK(vd_wait_used(&n.d, 1, NULL, NULL, 2000) == 1);
	struct vbuf writable = {n.txbuf, 100, true};
	vd_submit(&n.d, 1, &writable, 1);
	CHECK(vd_wait_used(&n.d, 1, NULL, NULL, 2000) == 1);
	CHECK(n.lo->sent == sent);
	CHECK(!vd_needs_reset(&n.d));
	/* Still works, and again after a reset. */
	rx_post(&n, 1, RXBUF);
	tx_frame(&n, 80, 8);
	CHECK(rx_expect(&n, 80, 8));
	nic_start(&n);
	rx_post(&n, 1, RXBUF);
	tx_frame(&n, 90, 9);
	CHECK(rx_expect(&n, 90, 9));
	vd_close(&n.d);
}

/* Frames arriving before DRIVER_OK are held, then delivered in order. */
static void test_early_frames(void)
{
	struct nic n;
	nic_open(&n);
	uint8_t f[128];
	frame_make(f, 100, 5);
	net_backend_send(&n.lo->be, f, 100); /* loops straight back: no buffer yet */
	CHECK(lo_held(n.lo, NULL) == 1);
	/* Queues ready and a buffer posted, but no DRIVER_OK yet: still held. */
	CHECK(vd_negotiate(&n.d, F_STD | F_MAC | F_STAT) != 0);
	CHECK(vd_queue_setup(&n.d, 0, 256));
	CHECK(vd_queue_setup(&n.d, 1, 64));
	rx_post(&n, 1, RXBUF);
	frame_make(f, 101, 6);
	net_backend_send(&n.lo->be, f, 101);
	CHECK(lo_held(n.lo, NULL) == 2);
	CHECK(vd_used_pending(&n.d, 0) == 0);
	vd_driver_ok(&n.d); /* releases the first; the second waits for a buffer */
	CHECK(rx_expect(&n, 100, 5));
	CHECK(lo_held(n.lo, NULL) == 1);
	rx_post(&n, 1, RXBUF);
	CHECK(rx_expect(&n, 101, 6));
	vd_close(&n.d);
}

/* Post 'count' receive buffers of 'size' bytes each at 'gpa' + i * size. */
static void rx_post_at(struct nic *n, uint64_t gpa, unsigned count, uint32_t size)
{
	struct vd_queue *q = &n->d.q[0];
	for (unsigned i = 0; i < count; i++) {
		uint16_t idx = q->next_desc;
		q->next_desc = (uint16_t)((q->next_desc + 1) % q->size);
		vd_desc_set(&n->d, 0, idx, gpa + (uint64_t)i * size, size, VIRTQ_DESC_F_WRITE, 0);
		vd_avail_add(&n->d, 0, idx);
	}
	vd_kick(&n->d, 0);
}

/* With MRG_RXBUF a frame spans several buffers, completed together. */
static void test_mergeable(void)
{
	struct nic n;
	nic_open(&n);
	uint64_t f = vd_negotiate(&n.d, F_STD | F_MAC | F_STAT | F_MRG);
	CHECK(f & F_MRG);
	CHECK(vd_queue_setup(&n.d, 0, 256));
	CHECK(vd_queue_setup(&n.d, 1, 64));
	vd_driver_ok(&n.d);
	uint64_t rx = vd_alloc(&n.d, 8 * 512, 8);

	/* 12 + 1514 bytes need three 512-byte buffers; two are not enough. */
	rx_post_at(&n, rx, 2, 512);
	tx_frame(&n, 1514, 11);
	CHECK(vd_used_pending(&n.d, 0) == 0);
	CHECK(lo_held(n.lo, NULL) == 1);
	rx_post_at(&n, rx + 1024, 1, 512);
	CHECK(vd_used_pending(&n.d, 0) == 3);
	uint32_t id[3], len[3];
	for (int i = 0; i < 3; i++)
		CHECK(vd_wait_used(&n.d, 0, &id[i], &len[i], 1000) == 1);
	CHECK(len[0] == 512 && len[1] == 512 && len[2] == 1526 - 1024);
	const uint8_t *buf = vd_ptr(&n.d, rx);
	uint8_t want[1514];
	frame_make(want, sizeof(want), 11);
	CHECK(buf[10] == 3 && buf[11] == 0); /* num_buffers */
	CHECK(memcmp(buf + HDR, want, sizeof(want)) == 0);

	/* A first buffer too small for the header loses the frame. */
	rx_post_at(&n, rx, 1, 8);
	rx_post_at(&n, rx + 512, 1, 512);
	tx_frame(&n, 60, 13);
	CHECK(vd_used_pending(&n.d, 0) == 2);
	for (int i = 0; i < 2; i++) {
		uint32_t l = 99;
		CHECK(vd_wait_used(&n.d, 0, NULL, &l, 1000) == 1 && l == 0);
	}
	CHECK(lo_held(n.lo, NULL) == 0);

	/* Empty buffers only lose the frame (at most 64 are taken for it). */
	rx_post_at(&n, rx, 70, 0);
	tx_frame(&n, 100, 12);
	CHECK(vd_used_pending(&n.d, 0) == 64);
	CHECK(lo_held(n.lo, NULL) == 0);
	for (int i = 0; i < 64; i++) {
		uint32_t l = 99;
		CHECK(vd_wait_used(&n.d, 0, NULL, &l, 1000) == 1 && l == 0);
	}
	vd_close(&n.d);
}

int main(void)
{
	test_config_and_loop();
	test_flow_control();
	test_bad_frames();
	test_early_frames();
	test_mergeable();
	if (vd_failures) {
		fprintf(stderr, "%d checks failed\n", vd_failures);
		return 1;
	}
	printf("virtio-net: all checks passed\n");
	return 0;
}
