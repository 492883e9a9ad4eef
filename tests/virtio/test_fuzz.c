/* SPDX-License-Identifier: MIT */
/*
 * A hostile driver at random: descriptor tables, avail rings and indices
 * filled with random values (addresses mostly near or inside RAM, lengths
 * small or huge, random flags and next fields), kicks, and a reset while
 * requests may still be in flight - for rng, blk and net.  A second thread
 * keeps rewriting the descriptor table while the device walks it.  Under
 * ASan nothing may crash or leak, and every device must still serve a valid
 * request at the end.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "net/netdev.h"
#include "util/log.h"
#include "vdrv.h"

#define F_ALL                                                                                      \
	(1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_INDIRECT_DESC |                        \
	 1ull << VIRTIO_F_RING_EVENT_IDX)
#define QSIZE 16

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Addresses that stress the bounds checks. */
static uint64_t rnd_addr(struct vdrv *d)
{
	switch (rnd() % 6) {
	case 0:
		return rnd();
	case 1:
		return VD_RAM_BASE + VD_RAM_SIZE - rnd() % 64;
	case 2:
		return VD_RAM_BASE - rnd() % 64;
	default:
		return d->brk + rnd() % 0x8000; /* scratch RAM past the rings */
	}
}

static uint32_t rnd_len(void)
{
	switch (rnd() % 5) {
	case 0:
		return (uint32_t)rnd();
	case 1:
		return 16 * (uint32_t)(rnd() % 8);
	default:
		return (uint32_t)(rnd() % 600);
	}
}

static void rnd_desc(struct vdrv *d, unsigned qi, uint16_t i)
{
	uint16_t flags = (uint16_t)(rnd() % 8);
	uint16_t next = (uint16_t)(rnd() % (QSIZE + 2));
	vd_desc_set(d, qi, i, rnd_addr(d), rnd_len(), flags, next);
}

/* Random indirect tables somewhere in scratch RAM. */
static void rnd_scratch(struct vdrv *d)
{
	uint8_t *p = vd_ptr(d, d->brk);
	for (unsigned i = 0; i < 0x8000; i += 16) {
		uint64_t a = rnd_addr(d),
			 w = (uint64_t)rnd_len() | (rnd() % 8) << 32 | (rnd() % 10) << 48;
		memcpy(p + i, &a, 8);
		memcpy(p + i + 8, &w, 8);
	}
}

static void rnd_queue(struct vdrv *d, unsigned qi)
{
	struct vd_queue *q = &d->q[qi];
	for (uint16_t i = 0; i < q->size; i++)
		rnd_desc(d, qi, i);
	unsigned n = (unsigned)(rnd() % (q->size + 3));
	for (unsigned i = 0; i < n; i++)
		vd_avail_add(d, qi, (uint16_t)(rnd() % (q->size + 1)));
	/* used_event / flags */
	*(uint16_t *)vd_ptr(d, q->avail + 4 + 2 * q->size) = (uint16_t)rnd();
	*(uint16_t *)vd_ptr(d, q->avail) = (uint16_t)(rnd() % 2);
}

/* Well-formed chains (readable buffers first) in scratch RAM, not yet kicked. */
static void valid_chains(struct vdrv *d, unsigned qi)
{
	unsigned chains = 1 + (unsigned)(rnd() % (QSIZE / 4));
	for (unsigned c = 0; c < chains; c++) {
		struct vbuf b[4];
		unsigned n = 1 + (unsigned)(rnd() % 4), ro = (unsigned)(rnd() % (n + 1));
		for (unsigned i = 0; i < n; i++)
			b[i] = (struct vbuf){d->brk + rnd() % 0x7000, (uint32_t)(rnd() % 600),
					     i >= ro};
		struct vd_queue *q = &d->q[qi];
		uint16_t head = q->next_desc;
		for (unsigned i = 0; i < n; i++) {
			uint16_t idx = q->next_desc;
			q->next_desc = (uint16_t)((q->next_desc + 1) % q->size);
			uint16_t fl = (b[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				      (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
			vd_desc_set(d, qi, idx, b[i].gpa, b[i].len, fl, q->next_desc);
		}
		vd_avail_add(d, qi, head);
	}
}

/* One random field of one descriptor made hostile. */
static void mutate(struct vdrv *d, unsigned qi)
{
	uint16_t i = (uint16_t)(rnd() % QSIZE);
	uint8_t *p = vd_ptr(d, d->q[qi].desc + 16ull * i);
	switch (rnd() % 4) {
	case 0: {
		uint64_t a = rnd_addr(d);
		memcpy(p, &a, 8);
		break;
	}
	case 1: {
		uint32_t l = rnd_len();
		memcpy(p + 8, &l, 4);
		break;
	}
	case 2:
		p[12] = (uint8_t)(rnd() % 8);
		break;
	default:
		p[14] = (uint8_t)(rnd() % (QSIZE + 2));
		break;
	}
}

struct scribbler {
	struct vdrv *d;
	uint64_t desc; /* queue 0's table: the same address every round */
	atomic_bool stop;
	pthread_t th;
};

/* Rewrites descriptor table 0 while the device may be reading it. */
static void *scribble(void *opaque)
{
	struct scribbler *s = opaque;
	uint64_t x = 0x1234567;
	while (!atomic_load(&s->stop)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		{
			uint8_t *p = vd_ptr(s->d, s->desc + 16 * (x % QSIZE));
			__atomic_store_n((uint16_t *)(p + 12), (uint16_t)(x >> 20) & 7,
					 __ATOMIC_RELAXED);
			__atomic_store_n((uint16_t *)(p + 14), (uint16_t)(x >> 40) % (QSIZE + 2),
					 __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

/*
 * Chains the device has completed so far on queue qi.  virtio-blk completes
 * on its I/O workers: unless the device gave up (NEEDS_RESET), give them up
 * to 50 ms to show a first completion, as a loaded host may not have run
 * them yet.
 */
static unsigned long settled_used(struct vdrv *d, unsigned qi)
{
	unsigned long n = vd_used_pending(d, qi);
	for (int i = 0; i < 50 && !n && !vd_needs_reset(d); i++) {
		usleep(1000);
		n = vd_used_pending(d, qi);
	}
	return n;
}

static void fuzz(struct vdrv *d, unsigned nq, unsigned rounds)
{
	struct scribbler s = {.d = d};
	atomic_init(&s.stop, false);
	unsigned refused = 0;
	unsigned long used = 0;
	for (unsigned r = 0; r < rounds; r++) {
		uint64_t f = F_ALL & ~(rnd() % 2 ? 1ull << VIRTIO_F_RING_INDIRECT_DESC : 0);
		f |= rnd() % 2 ? 1ull << 15 : 0; /* virtio-net MRG_RXBUF, when offered */
		CHECK(vd_negotiate(d, f) != 0);
		uint64_t save = d->brk;
		for (unsigned qi = 0; qi < nq; qi++)
			CHECK(vd_queue_setup(d, qi, QSIZE));
		vd_driver_ok(d);
		rnd_scratch(d);
		s.desc = d->q[0].desc;
		if (r == 0)
			pthread_create(&s.th, NULL, scribble, &s);
		unsigned kind = (unsigned)(rnd() % 3); /* random, valid, valid + mutation */
		for (unsigned k = 0; k < 3; k++) {
			for (unsigned qi = 0; qi < nq; qi++) {
				if (kind == 0)
					rnd_queue(d, qi);
				else
					valid_chains(d, qi);
				if (kind == 2)
					mutate(d, qi);
				vd_kick(d, qi);
			}
		}
		for (unsigned qi = 0; qi < nq; qi++)
			used += kind ? settled_used(d, qi) : vd_used_pending(d, qi);
		refused += vd_needs_reset(d);
		vd_wr(d, 0x070, 0); /* reset with whatever is still in flight */
		CHECK(vd_rd(d, 0x070) == 0);
		d->brk = save;
	}
	atomic_store(&s.stop, true);
	pthread_join(s.th, NULL);
	printf("%u rounds: %u refused (NEEDS_RESET), %lu chains completed\n", rounds, refused,
	       used);
	/* Both outcomes must occur, or the fuzzer is not reaching the device. */
	CHECK(refused > 0 && refused < rounds && used > 0);
}

static void test_rng(void)
{
	struct vdrv d;
	vd_open(&d, virtio_rng_create());
	fuzz(&d, 1, 400);
	CHECK(vd_negotiate(&d, F_ALL) != 0);
	CHECK(vd_queue_setup(&d, 0, QSIZE));
	vd_driver_ok(&d);
	uint64_t buf = vd_alloc(&d, 64, 8);
	struct vbuf b = {buf, 64, true};
	vd_submit(&d, 0, &b, 1);
	uint32_t len = 0;
	CHECK(vd_wait_used(&d, 0, NULL, &len, 2000) == 1 && len == 64);
	vd_close(&d);
}

static void test_blk(void)
{
	char path[] = "/tmp/vessel-virtio-fuzz-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	unlink(path);
	struct verr err;
	struct blk *disk;
	CHECK(blk_create(path, BLK_FMT_RAW, 1 << 20, NULL, &err) == 0);
	CHECK(blk_open(path, BLK_FMT_RAW, false, &disk, &err) == 0);
	struct vdrv d;
	vd_open(&d, virtio_blk_create(disk, &err));
	fuzz(&d, 1, 400);
	CHECK(vd_negotiate(&d, F_ALL) != 0);
	CHECK(vd_queue_setup(&d, 0, QSIZE));
	vd_driver_ok(&d);
	uint64_t hdr = vd_alloc(&d, 16, 8), data = vd_alloc(&d, 512, 8), st = vd_alloc(&d, 1, 1);
	struct vbuf b[3] = {{hdr, 16, false}, {data, 512, true}, {st, 1, true}};
	*(uint8_t *)vd_ptr(&d, st) = 0xff;
	vd_submit(&d, 0, b, 3); /* header is zero: IN from sector 0 */
	CHECK(vd_wait_used(&d, 0, NULL, NULL, 2000) == 1);
	CHECK(*(uint8_t *)vd_ptr(&d, st) == 0);
	vd_close(&d);
	unlink(path);
}

/* Loopback backend, as in test_net.c but minimal. */
struct loop {
	struct net_backend be;
	pthread_mutex_t m;
	struct net_queue q;
};

static int loop_send(struct net_backend *be, const uint8_t *f, size_t len)
{
	struct loop *l = (struct loop *)be;
	pthread_mutex_lock(&l->m);
	net_queue_deliver(&l->q, be, f, len);
	pthread_mutex_unlock(&l->m);
	return 0;
}

static void loop_ready(struct net_backend *be)
{
	struct loop *l = (struct loop *)be;
	pthread_mutex_lock(&l->m);
	net_queue_flush(&l->q, be);
	pthread_mutex_unlock(&l->m);
}

static void loop_destroy(struct net_backend *be)
{
	struct loop *l = (struct loop *)be;
	net_queue_clear(&l->q);
	pthread_mutex_destroy(&l->m);
	net_backend_fini(be);
	free(l);
}

static const struct net_backend_ops loop_ops = {loop_send, loop_ready, loop_destroy};

static void test_net(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	net_backend_init(&l->be, &loop_ops, "loop");
	pthread_mutex_init(&l->m, NULL);
	net_queue_init(&l->q, 8);
	uint8_t mac[6];
	virtio_net_default_mac(0, mac);
	struct verr err;
	struct vdrv d;
	vd_open(&d, virtio_net_create(&l->be, mac, &err));
	fuzz(&d, 2, 400);
	vd_close(&d);
}

int main(void)
{
	test_rng();
	test_blk();
	test_net();
	if (vd_failures) {
		fprintf(stderr, "%d checks failed\n", vd_failures);
		return 1;
	}
	printf("virtio fuzz: all checks passed\n");
	return 0;
}
