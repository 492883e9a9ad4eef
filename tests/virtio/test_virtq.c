/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport and the split virtqueue, driven by a fake
 * driver: register semantics, feature negotiation, virtio-rng round trips,
 * interrupt suppression, and a hostile driver that must be refused
 * (NEEDS_RESET) without the device touching memory outside RAM.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio_rng.h"
#include "vdrv.h"

#define F_STD                                                                                      \
	(1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_INDIRECT_DESC |                        \
	 1ull << VIRTIO_F_RING_EVENT_IDX)

static void test_empty_slot(void)
{
	struct vdrv d;
	vd_open(&d, NULL);
	CHECK(vd_rd(&d, 0x000) == 0x74726976);
	CHECK(vd_rd(&d, 0x004) == 2);
	CHECK(vd_rd(&d, 0x008) == 0);
	vd_wr(&d, 0x070, 1); /* ignored */
	CHECK(vd_rd(&d, 0x070) == 0);
	vd_close(&d);
}

static void test_registers(void)
{
	struct vdrv d;
	vd_open(&d, virtio_rng_create());
	CHECK(vd_rd(&d, 0x000) == 0x74726976);
	CHECK(vd_rd(&d, 0x004) == 2);
	CHECK(vd_rd(&d, 0x008) == VIRTIO_ID_RNG);
	uint64_t v;
	CHECK(vd_rd_raw(&d, 0x008, 2, &v) == -1); /* registers are 32-bit only */
	CHECK(vd_rd_raw(&d, 0x00a, 4, &v) == -1);
	CHECK(vd_wr_raw(&d, 0x070, 1, 1) == -1);
	CHECK(vd_rd(&d, 0x070) == 0);
	vd_wr(&d, 0x014, 1);
	CHECK(vd_rd(&d, 0x010) & 1); /* VERSION_1 */
	vd_wr(&d, 0x030, 0);
	CHECK(vd_rd(&d, 0x034) == 64);
	vd_wr(&d, 0x030, 1);
	CHECK(vd_rd(&d, 0x034) == 0); /* no queue 1 */

	/* A driver without VERSION_1 is refused at FEATURES_OK. */
	CHECK(vd_negotiate(&d, 0) == 0);
	/* So is one accepting a feature that was not offered. */
	vd_wr(&d, 0x070, 0);
	vd_wr(&d, 0x070, 3);
	vd_wr(&d, 0x024, 1);
	vd_wr(&d, 0x020, 1 | 1u << 31);
	vd_wr(&d, 0x070, 3 | 8);
	CHECK(!(vd_rd(&d, 0x070) & 8));
	CHECK(vd_negotiate(&d, F_STD) != 0);
	vd_close(&d);
}

/* One rng request of 'len' bytes; returns the used length. */
static uint32_t rng_request(struct vdrv *d, uint64_t buf, uint32_t len)
{
	struct vbuf b = {buf, len, true};
	vd_submit(d, 0, &b, 1);
	uint32_t id, used = 0;
	CHECK(vd_wait_used(d, 0, &id, &used, 1000) == 1);
	return used;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void rng_setup(struct vdrv *d, uint64_t features, uint16_t size)
{
	CHECK(vd_negotiate(d, features) != 0);
	CHECK(vd_queue_setup(d, 0, size));
	vd_driver_ok(d);
}

static void test_rng(void)
{
	struct vdrv d;
	vd_open(&d, virtio_rng_create());
	rng_setup(&d, F_STD, 16);
	uint64_t buf = vd_alloc(&d, 256, 8);
	CHECK(rng_request(&d, buf, 256) == 256);
	CHECK(!all_zero(vd_ptr(&d, buf), 256));
	CHECK(vd_irq_level(&d));
	CHECK(vd_rd(&d, 0x060) == VIRTIO_INT_USED);
	vd_wr(&d, 0x064, VIRTIO_INT_USED);
	CHECK(!vd_irq_level(&d));

	/* Many requests wrap the ring several times. */
	for (int i = 0; i < 50; i++) {
		memset(vd_ptr(&d, buf), 0, 64);
		CHECK(rng_request(&d, buf, 64) == 64);
		CHECK(!all_zero(vd_ptr(&d, buf), 64));
	}
	/* A readable-only chain gets nothing. */
	struct vbuf ro = {buf, 64, false};
	vd_submit(&d, 0, &ro, 1);
	uint32_t len = 99;
	CHECK(vd_wait_used(&d, 0, NULL, &len, 1000) == 1 && len == 0);
	vd_close(&d);
}

static void test_indirect(void)
{
	struct vdrv d;
	vd_open(&d, virtio_rng_create());
	rng_setup(&d, F_STD, 8);
	uint64_t tbl = vd_alloc(&d, 3 * 16, 16);
	uint64_t b0 = vd_alloc(&d, 32, 8), b1 = vd_alloc(&d, 32, 8), b2 = vd_alloc(&d, 32, 8);
	uint64_t ent[3][2] = {
	    {b0, 32 | (uint64_t)(VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT) << 32 | (uint64_t)2 << 48},
	    {b1, 32 | (uint64_t)VIRTQ_DESC_F_WRITE << 32},
	    {b2,
	     16 | (uint64_t)(VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT) << 32 | (uint64_t)1 << 48}};
	memcpy(vd_ptr(&d, tbl), ent, sizeof(ent));
	vd_desc_set(&d, 0, 0, tbl, 48, VIRTQ_DESC_F_INDIRECT, 0);
	vd_avail_add(&d, 0, 0);
	vd_kick(&d, 0);
	uint32_t len = 0;
	CHECK(vd_wait_used(&d, 0, NULL, &len, 1000) == 1);
	CHECK(len == 80); /* 0 -> 2 -> 1: 32 + 16 + 32 */
	CHECK(!all_zero(vd_ptr(&d, b1), 32) && !all_zero(vd_ptr(&d, b2), 16));
	CHECK(!vd_needs_reset(&d));
	vd_close(&d);
}

static void test_event_idx(void)
{
	struct vdrv d;
	vd_open(&d, virtio_rng_create());
	rng_setup(&d, F_STD, 8);
	struct vd_queue *q = &d.q[0];
	uint16_t *used_event = vd_ptr(&d, q->avail + 4 + 2 * q->size);
	uint16_t *avail_event = vd_ptr(&d, q->used + 4 + 8 * q->size);
	uint64_t buf = vd_alloc(&d, 16, 8);

	*used_event = 0; /* interrupt after the first used entry */
	rng_request(&d, buf, 16);
	CHECK(vd_irq_rises(&d) == 1);
	vd_wr(&d, 0x064, 1);
	CHECK(*avail_event == 1); /* the device asks for a kick at the next buffer */

	*used_event = 5; /* not before entry 6 */
	for (int i = 0; i < 4; i++)
		rng_request(&d, buf, 16);
	CHECK(vd_irq_rises(&d) == 1);
	rng_request(&d, buf, 16); /* used idx 5 -> 6 crosses used_event */
	CHECK(vd_irq_rises(&d) == 2);
	vd_wr(&d, 0x064, 1);

	/* Without event index, the NO_INTERRUPT flag suppresses. */
	rng_setup(&d, F_STD & ~(1ull << VIRTIO_F_RING_EVENT_IDX), 8);
	q = &d.q[0];
	*(uint16_t *)vd_ptr(&d, q->avail) = VIRTQ_AVAIL_F_NO_INTERRUPT;
	unsigned before = vd_irq_rises(&d);
	CHECK(rng_request(&d, buf, 16) == 16);
	CHECK(vd_irq_rises(&d) == before);
	*(uint16_t *)vd_ptr(&d, q->avail) = 0;
	CHECK(rng_request(&d, buf, 16) == 16);
	CHECK(vd_irq_rises(&d) == before + 1);
	vd_close(&d);
}

/* After a hostile request: NEEDS_RESET, config interrupt, nothing used. */
static void expect_refused(struct vdrv *d, const char *what)
{
	if (!vd_needs_reset(d))
		fprintf(stderr, "not refused: %s\n", what);
	CHECK(vd_needs_reset(d));
	CHECK(vd_rd(d, 0x060) & VIRTIO_INT_CONFIG);
	CHECK(vd_used_pending(d, 0) == 0);
}

/* The device must work again after a reset. */
static void expect_recovers(struct vdrv *d)
{
	rng_setup(d, F_STD, 8);
	CHECK(!vd_needs_reset(d));
	CHECK(vd_rd(d, 0x060) == 0);
	uint64_t buf = vd_alloc(d, 32, 8);
	CHECK(rng_request(d, buf, 32) == 32);
}

typedef void (*hostile_fn)(struct vdrv *d);

/*
 * Each hostile case must be refused for its own reason: everything around
 * the one bad value is valid (descriptors past the end of the table, spare
 * entries of indirect tables), so that without the check the device would
 * complete a request instead.
 */
static uint64_t valid_buf(struct vdrv *d)
{
	return vd_alloc(d, 64, 8);
}

/* Queue 0 of size 8 whose table is followed by 8 valid descriptors. */
static void hostile_setup(struct vdrv *d)
{
	CHECK(vd_negotiate(d, F_STD) != 0);
	CHECK(vd_queue_setup_room(d, 0, 8, 16));
	vd_driver_ok(d);
	for (uint16_t i = 0; i < 16; i++)
		vd_desc_set(d, 0, i, valid_buf(d), 16, VIRTQ_DESC_F_WRITE, 0);
}

static void h_loop(struct vdrv *d)
{
	uint64_t b = vd_alloc(d, 16, 8);
	vd_desc_set(d, 0, 0, b, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vd_desc_set(d, 0, 1, b, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	vd_avail_add(d, 0, 0);
}

static void h_next_range(struct vdrv *d)
{
	vd_desc_set(d, 0, 0, valid_buf(d), 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 8);
	vd_avail_add(d, 0, 0);
}

static void h_head_range(struct vdrv *d)
{
	vd_avail_add(d, 0, 8);
}

static void h_addr_outside(struct vdrv *d)
{
	vd_desc_set(d, 0, 0, VD_RAM_BASE + VD_RAM_SIZE - 8, 16, VIRTQ_DESC_F_WRITE, 0);
	vd_avail_add(d, 0, 0);
}

static void h_addr_below(struct vdrv *d)
{
	vd_desc_set(d, 0, 0, 0x1000, 16, VIRTQ_DESC_F_WRITE, 0);
	vd_avail_add(d, 0, 0);
}

static void h_len_overflow(struct vdrv *d)
{
	vd_desc_set(d, 0, 0, VD_RAM_BASE + 0x20000, 0xffffffffu, VIRTQ_DESC_F_WRITE, 0);
	vd_avail_add(d, 0, 0);
}

static void h_addr_wrap(struct vdrv *d)
{
	vd_desc_set(d, 0, 0, 0xfffffffffffffff0ull, 0x20, VIRTQ_DESC_F_WRITE, 0);
	vd_avail_add(d, 0, 0);
}

static void h_order(struct vdrv *d)
{
	uint64_t b = vd_alloc(d, 32, 8);
	vd_desc_set(d, 0, 0, b, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vd_desc_set(d, 0, 1, b + 16, 16, 0, 0);
	vd_avail_add(d, 0, 0);
}

/* Chain 0 = an indirect table of 'tbl_len' bytes whose first entry has
 * e0_flags/e0_next and points at a valid one-entry table (for nesting); the
 * memory past 'tbl_len' holds more valid entries. */
static void indirect_with(struct vdrv *d, uint32_t tbl_len, uint16_t e0_flags, uint16_t e0_next)
{
	uint64_t inner = vd_alloc(d, 16, 16), tbl = vd_alloc(d, 16 * 8, 16);
	uint64_t ie[2] = {valid_buf(d), 16 | (uint64_t)VIRTQ_DESC_F_WRITE << 32};
	memcpy(vd_ptr(d, inner), ie, sizeof(ie));
	uint64_t e[8][2];
	for (int i = 0; i < 8; i++) {
		e[i][0] = valid_buf(d);
		e[i][1] = 16 | (uint64_t)VIRTQ_DESC_F_WRITE << 32;
	}
	e[0][0] = e0_flags & VIRTQ_DESC_F_INDIRECT ? inner : e[0][0];
	e[0][1] = 16 | (uint64_t)e0_flags << 32 | (uint64_t)e0_next << 48;
	memcpy(vd_ptr(d, tbl), e, sizeof(e));
	vd_desc_set(d, 0, 0, tbl, tbl_len, VIRTQ_DESC_F_INDIRECT, 0);
	vd_avail_add(d, 0, 0);
}

static void h_ind_len(struct vdrv *d)
{
	indirect_with(d, 24, VIRTQ_DESC_F_WRITE, 0);
}

static void h_ind_zero(struct vdrv *d)
{
	indirect_with(d, 0, VIRTQ_DESC_F_WRITE, 0);
}

static void h_ind_huge(struct vdrv *d)
{
	indirect_with(d, 16 * (VIRTQ_INDIRECT_MAX + 1), VIRTQ_DESC_F_WRITE, 0);
}

static void h_ind_nested(struct vdrv *d)
{
	indirect_with(d, 16, VIRTQ_DESC_F_INDIRECT, 0);
}

static void h_ind_next(struct vdrv *d)
{
	indirect_with(d, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 5);
}

/* An indirect descriptor must not also have NEXT. */
static void h_ind_and_next(struct vdrv *d)
{
	uint64_t tbl = vd_alloc(d, 16, 16);
	uint64_t e[2] = {valid_buf(d), 16 | (uint64_t)VIRTQ_DESC_F_WRITE << 32};
	memcpy(vd_ptr(d, tbl), e, sizeof(e));
	vd_desc_set(d, 0, 0, tbl, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	vd_avail_add(d, 0, 0);
}

static void h_ind_outside(struct vdrv *d)
{
	vd_desc_set(d, 0, 0, VD_RAM_BASE + VD_RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vd_avail_add(d, 0, 0);
}

static void h_avail_jump(struct vdrv *d)
{
	struct vd_queue *q = &d->q[0];
	uint16_t *ring = vd_ptr(d, q->avail + 4);
	for (uint16_t i = 0; i < q->size; i++)
		ring[i] = i; /* every slot names a valid chain */
	q->avail_idx = (uint16_t)(q->avail_idx + q->size + 1);
	*(uint16_t *)vd_ptr(d, q->avail + 2) = q->avail_idx;
}

static void test_hostile_chains(void)
{
	static const struct {
		const char *name;
		hostile_fn fn;
	} cases[] = {
	    {"descriptor loop", h_loop},
	    {"next index out of range", h_next_range},
	    {"head index out of range", h_head_range},
	    {"address past the end of RAM", h_addr_outside},
	    {"address below RAM", h_addr_below},
	    {"length overflowing RAM", h_len_overflow},
	    {"address + length wraps", h_addr_wrap},
	    {"readable after writable", h_order},
	    {"indirect table length not a multiple of 16", h_ind_len},
	    {"empty indirect table", h_ind_zero},
	    {"indirect table too long", h_ind_huge},
	    {"nested indirect table", h_ind_nested},
	    {"next out of range in indirect table", h_ind_next},
	    {"indirect table outside RAM", h_ind_outside},
	    {"indirect descriptor with NEXT", h_ind_and_next},
	    {"avail index jump", h_avail_jump},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vdrv d;
		vd_open(&d, virtio_rng_create());
		hostile_setup(&d);
		cases[i].fn(&d);
		vd_kick(&d, 0);
		expect_refused(&d, cases[i].name);
		/* Further kicks are ignored while broken. */
		vd_kick(&d, 0);
		CHECK(vd_used_pending(&d, 0) == 0);
		expect_recovers(&d);
		vd_close(&d);
	}
}

static void test_indirect_not_negotiated(void)
{
	struct vdrv d;
	vd_open(&d, virtio_rng_create());
	rng_setup(&d, 1ull << VIRTIO_F_VERSION_1, 8);
	indirect_with(&d, 16, VIRTQ_DESC_F_WRITE, 0);
	/* Control: the same chain is fine with the feature (test_indirect). */
	vd_kick(&d, 0);
	expect_refused(&d, "indirect without the feature");
	expect_recovers(&d);
	vd_close(&d);
}

/* Try to enable queue 0 with a given layout; returns QueueReady. */
static bool try_queue(struct vdrv *d, uint32_t num, uint64_t desc, uint64_t avail, uint64_t used)
{
	CHECK(vd_negotiate(d, F_STD) != 0);
	vd_wr(d, 0x030, 0);
	vd_wr(d, 0x038, num);
	vd_wr(d, 0x080, (uint32_t)desc);
	vd_wr(d, 0x084, (uint32_t)(desc >> 32));
	vd_wr(d, 0x090, (uint32_t)avail);
	vd_wr(d, 0x094, (uint32_t)(avail >> 32));
	vd_wr(d, 0x0a0, (uint32_t)used);
	vd_wr(d, 0x0a4, (uint32_t)(used >> 32));
	vd_wr(d, 0x044, 1);
	return vd_rd(d, 0x044) == 1;
}

static void test_hostile_queue_setup(void)
{
	struct vdrv d;
	vd_open(&d, virtio_rng_create());
	uint64_t ok = VD_RAM_BASE + 0x100000, end = VD_RAM_BASE + VD_RAM_SIZE;
	CHECK(try_queue(&d, 8, ok, ok + 0x1000, ok + 0x2000));
	CHECK(!vd_needs_reset(&d));
	static const struct {
		uint32_t num;
		uint64_t desc, avail, used;
	} bad[] = {
	    {3, 0, 0x1000, 0x2000},	  /* size not a power of two */
	    {0, 0, 0x1000, 0x2000},	  /* size zero */
	    {128, 0, 0x1000, 0x2000},	  /* above QueueNumMax */
	    {0x10008, 0, 0x1000, 0x2000}, /* above 16 bits */
	    {8, 8, 0x1000, 0x2000},	  /* descriptor table misaligned */
	    {8, 0, 0x1001, 0x2000},	  /* avail ring misaligned */
	    {8, 0, 0x1000, 0x2002},	  /* used ring misaligned */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!try_queue(&d, bad[i].num, ok + bad[i].desc, ok + bad[i].avail,
				 ok + bad[i].used));
		CHECK(vd_needs_reset(&d));
	}
	CHECK(!try_queue(&d, 8, 0x1000, ok, ok + 0x1000));   /* below RAM */
	CHECK(!try_queue(&d, 8, ok, end - 8, ok + 0x1000));  /* avail crosses the end */
	CHECK(!try_queue(&d, 8, ok, ok + 0x1000, end - 16)); /* used crosses the end */
	CHECK(!try_queue(&d, 8, ok, ok + 0x1000, 0xfffffffffffffffcull)); /* wraps */
	CHECK(vd_needs_reset(&d));
	expect_recovers(&d);
	vd_close(&d);
}

/*
 * Straight on the virtqueue API: a driver cannot have more chains in flight
 * than the queue size (it would be reusing descriptors the device owns), so
 * popping beyond that without pushing is refused.
 */
static void test_inflight_cap(void)
{
	struct vdrv d;
	vd_open(&d, virtio_rng_create());
	CHECK(vd_negotiate(&d, F_STD) != 0);
	CHECK(vd_queue_setup(&d, 0, 4)); /* not DRIVER_OK: the device never pops by itself */
	struct virtq *q = &d.vdev->vq[0];
	uint64_t buf = vd_alloc(&d, 16, 8);
	vd_desc_set(&d, 0, 0, buf, 16, VIRTQ_DESC_F_WRITE, 0);
	struct virtq_elem *e[5] = {0};
	for (int i = 0; i < 4; i++) {
		vd_avail_add(&d, 0, 0); /* the same head again and again */
		CHECK(virtq_pop(q, &e[i]) == 1);
	}
	vd_avail_add(&d, 0, 0);
	CHECK(virtq_pop(q, &e[4]) == -EIO);
	CHECK(vd_needs_reset(&d));
	for (int i = 0; i < 4; i++)
		if (e[i])
			virtq_push(q, e[i], 0);
	vd_close(&d);
}

/* A device outlives its transport (a machine rebuilt for a reboot) and works
 * again, from reset, on a new one. */
static void test_reattach(void)
{
	struct vdrv d;
	vd_open(&d, virtio_rng_create());
	rng_setup(&d, F_STD, 8);
	uint64_t buf = vd_alloc(&d, 32, 8);
	CHECK(rng_request(&d, buf, 32) == 32);
	virtio_mmio_destroy(d.t);
	d.t = virtio_mmio_create(&d.mem, (struct irq_line){&d.irq.chip, 7}, d.vdev);
	CHECK(vd_rd(&d, 0x070) == 0 && vd_rd(&d, 0x044) == 0);
	CHECK(!atomic_load(&d.vdev->driver_ok) && atomic_load(&d.vdev->driver_features) == 0);
	rng_setup(&d, F_STD, 8);
	CHECK(rng_request(&d, buf, 32) == 32);
	vd_close(&d);
}

static bool page_dirty(const uint64_t *bm, uint64_t gpa)
{
	uint64_t pg = (gpa - VD_RAM_BASE) >> GUEST_PAGE_SHIFT;
	return (bm[pg / 64] >> (pg % 64)) & 1;
}

/* Device writes (buffers and the used ring) land in the dirty log. */
static void test_dirty_log(void)
{
	struct vdrv d;
	vd_open(&d, virtio_rng_create());
	rng_setup(&d, F_STD, 8);
	uint64_t buf = vd_alloc(&d, 3 * GUEST_PAGE_SIZE, GUEST_PAGE_SIZE);
	uint64_t *bm = calloc(VD_RAM_SIZE / GUEST_PAGE_SIZE / 64, sizeof(uint64_t));
	CHECK(guest_mem_dirty_log_start(&d.mem) == 0);
	struct vbuf b = {buf + GUEST_PAGE_SIZE + 100, 64, true};
	vd_submit(&d, 0, &b, 1);
	CHECK(vd_wait_used(&d, 0, NULL, NULL, 1000) == 1);
	guest_mem_dirty_log_fetch(&d.mem, bm);
	CHECK(page_dirty(bm, buf + GUEST_PAGE_SIZE));
	CHECK(!page_dirty(bm, buf) && !page_dirty(bm, buf + 2 * GUEST_PAGE_SIZE));
	CHECK(page_dirty(bm, d.q[0].used));
	CHECK(!page_dirty(bm, d.q[0].desc) || d.q[0].desc >> 12 == d.q[0].used >> 12);
	guest_mem_dirty_log_stop(&d.mem);
	free(bm);
	vd_close(&d);
}

int main(void)
{
	test_empty_slot();
	test_registers();
	test_rng();
	test_indirect();
	test_event_idx();
	test_hostile_chains();
	test_indirect_not_negotiated();
	test_hostile_queue_setup();
	test_dirty_log();
	test_inflight_cap();
	test_reattach();
	if (vd_failures) {
		fprintf(stderr, "%d checks failed\n", vd_failures);
		return 1;
	}
	printf("virtq: all checks passed\n");
	return 0;
}
