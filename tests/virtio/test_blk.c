/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk through the fake driver on a temporary raw image: read/write/
 * flush/get-id/discard/write-zeroes round trips with their status bytes,
 * out-of-range sectors, read-only disks, many requests in flight, and a
 * reset while the I/O threads are busy.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "devices/virtio_blk.h"
#include "util/log.h"
#include "vdrv.h"

#define F_STD                                                                                      \
	(1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_INDIRECT_DESC |                        \
	 1ull << VIRTIO_F_RING_EVENT_IDX)
#define F_RO	  (1ull << 5)
#define F_FLUSH	  (1ull << 9)
#define F_DISCARD (1ull << 13)
#define F_WZ	  (1ull << 14)
#define DISK_SIZE (1u << 20)

#define T_IN	       0
#define T_OUT	       1
#define T_FLUSH	       4
#define T_GET_ID       8
#define T_DISCARD      11
#define T_WRITE_ZEROES 13
#define S_OK	       0
#define S_IOERR	       1
#define S_UNSUPP       2

static char disk_path[] = "/tmp/vessel-virtio-blk-XXXXXX";

static struct virtio_device *open_dev(bool readonly)
{
	struct blk *disk;
	struct verr err;
	if (blk_open(disk_path, BLK_FMT_RAW, readonly, &disk, &err)) {
		fprintf(stderr, "blk_open: %s\n", err.msg);
		exit(2);
	}
	struct virtio_device *vdev = virtio_blk_create(disk, &err);
	if (!vdev) {
		fprintf(stderr, "virtio_blk_create: %s\n", err.msg);
		exit(2);
	}
	return vdev;
}

struct req {
	uint64_t hdr, data, status;
};

static struct req req_alloc(struct vdrv *d, uint32_t data_len)
{
	struct req r = {vd_alloc(d, 16, 8), data_len ? vd_alloc(d, data_len, 512) : 0,
			vd_alloc(d, 1, 1)};
	return r;
}

static void hdr_set(struct vdrv *d, const struct req *r, uint32_t type, uint64_t sector)
{
	uint8_t *h = vd_ptr(d, r->hdr);
	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	*(uint8_t *)vd_ptr(d, r->status) = 0xee;
}

/* Submit header + data (readable or writable) + status; returns the status byte. */
static int do_req(struct vdrv *d, const struct req *r, uint32_t type, uint64_t sector, uint32_t len,
		  bool data_write, uint32_t *used)
{
	hdr_set(d, r, type, sector);
	struct vbuf b[3] = {{r->hdr, 16, false}};
	unsigned n = 1;
	if (len)
		b[n++] = (struct vbuf){r->data, len, data_write};
	b[n++] = (struct vbuf){r->status, 1, true};
	vd_submit(d, 0, b, n);
	uint32_t ulen = 0;
	if (!vd_wait_used(d, 0, NULL, &ulen, 5000))
		return -1;
	if (used)
		*used = ulen;
	return *(uint8_t *)vd_ptr(d, r->status);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static void file_read(uint64_t off, void *buf, size_t len)
{
	int fd = open(disk_path, O_RDONLY);
	CHECK(fd >= 0 && pread(fd, buf, len, (off_t)off) == (ssize_t)len);
	close(fd);
}

static void setup(struct vdrv *d, bool readonly)
{
	vd_open(d, open_dev(readonly));
	uint64_t f = vd_negotiate(d, F_STD | F_FLUSH | F_DISCARD | F_WZ | F_RO);
	CHECK(f != 0);
	CHECK(!!(f & F_RO) == readonly);
	CHECK(vd_queue_setup(d, 0, 128));
	vd_driver_ok(d);
}

static void test_config(struct vdrv *d)
{
	uint64_t v = 0;
	CHECK(vd_rd_raw(d, 0x100, 8, &v) == 0 && v == DISK_SIZE / 512);
	CHECK(vd_rd_raw(d, 0x100, 4, &v) == 0 && v == DISK_SIZE / 512);
	CHECK(vd_rd_raw(d, 0x101, 1, &v) == 0 && v == (DISK_SIZE / 512) >> 8);
	CHECK(vd_rd_raw(d, 0x114, 4, &v) == 0 && v == 512); /* blk_size */
	CHECK(vd_rd_raw(d, 0x1000 - 4, 4, &v) == 0 && v == 0);
}

static void test_rw(void)
{
	struct vdrv d;
	setup(&d, false);
	test_config(&d);
	struct req r = req_alloc(&d, 8192);
	uint8_t *data = vd_ptr(&d, r.data);
	fill(data, 4096, 3);
	uint32_t used = 0;
	CHECK(do_req(&d, &r, T_OUT, 10, 4096, false, &used) == S_OK);
	CHECK(used == 1);
	uint8_t file[4096], want[4096];
	fill(want, sizeof(want), 3);
	file_read(10 * 512, file, sizeof(file));
	CHECK(memcmp(file, want, sizeof(file)) == 0);

	memset(data, 0, 8192);
	CHECK(do_req(&d, &r, T_IN, 9, 8192, true, &used) == S_OK);
	CHECK(used == 8193);
	CHECK(memcmp(data + 512, want, 4096) == 0);

	/* The same read split over several descriptors, header split too. */
	memset(data, 0, 8192);
	hdr_set(&d, &r, T_IN, 10);
	struct vbuf b[5] = {{r.hdr, 8, false},
			    {r.hdr + 8, 8, false},
			    {r.data, 1000, true},
			    {r.data + 1000, 3096, true},
			    {r.status, 1, true}};
	vd_submit(&d, 0, b, 5);
	CHECK(vd_wait_used(&d, 0, NULL, &used, 5000) == 1 && used == 4097);
	CHECK(*(uint8_t *)vd_ptr(&d, r.status) == S_OK);
	CHECK(memcmp(data, want, 4096) == 0);

	CHECK(do_req(&d, &r, T_FLUSH, 0, 0, false, NULL) == S_OK);

	CHECK(do_req(&d, &r, T_GET_ID, 0, 20, true, &used) == S_OK);
	CHECK(used == 21 && memcmp(data, "vessel-disk", 12) == 0);

	/* Unaligned length and out-of-range sectors. */
	CHECK(do_req(&d, &r, T_IN, 0, 100, true, NULL) == S_IOERR);
	CHECK(do_req(&d, &r, T_IN, DISK_SIZE / 512 - 1, 1024, true, NULL) == S_IOERR);
	CHECK(do_req(&d, &r, T_OUT, DISK_SIZE / 512, 512, false, NULL) == S_IOERR);
	CHECK(do_req(&d, &r, T_IN, ~0ull / 2, 512, true, NULL) == S_IOERR);
	CHECK(do_req(&d, &r, T_IN, DISK_SIZE / 512 - 1, 512, true, NULL) == S_OK);
	CHECK(do_req(&d, &r, 99, 0, 0, false, NULL) == S_UNSUPP);
	CHECK(!vd_needs_reset(&d));
	vd_close(&d);
}

/* Discard / write-zeroes take one 16-byte segment {sector, count, flags}. */
static int do_seg(struct vdrv *d, const struct req *r, uint32_t type, uint64_t sector,
		  uint32_t count, uint32_t flags)
{
	uint8_t *s = vd_ptr(d, r->data);
	memcpy(s, &sector, 8);
	memcpy(s + 8, &count, 4);
	memcpy(s + 12, &flags, 4);
	return do_req(d, r, type, 0, 16, false, NULL);
}

static void test_discard(void)
{
	struct vdrv d;
	setup(&d, false);
	struct req w = req_alloc(&d, 4096), s = req_alloc(&d, 16);
	fill(vd_ptr(&d, w.data), 4096, 9);
	CHECK(do_req(&d, &w, T_OUT, 64, 4096, false, NULL) == S_OK);
	CHECK(do_seg(&d, &s, T_WRITE_ZEROES, 64, 4, 0) == S_OK);
	CHECK(do_req(&d, &w, T_IN, 64, 4096, true, NULL) == S_OK);
	uint8_t *p = vd_ptr(&d, w.data);
	bool zero = true, rest = true;
	for (int i = 0; i < 2048; i++)
		zero &= p[i] == 0;
	for (int i = 2048; i < 4096; i++)
		rest &= p[i] == (uint8_t)(i * 7 + 9);
	CHECK(zero && rest);
	CHECK(do_seg(&d, &s, T_WRITE_ZEROES, 72, 8, 1) == S_OK); /* may unmap */
	CHECK(do_seg(&d, &s, T_DISCARD, 0, 8, 0) == S_OK);
	CHECK(do_seg(&d, &s, T_DISCARD, 0, 8, 1) == S_UNSUPP);
	CHECK(do_seg(&d, &s, T_DISCARD, 0, 8, 4) == S_UNSUPP);
	CHECK(do_seg(&d, &s, T_WRITE_ZEROES, 0, 8, 2) == S_UNSUPP); /* reserved flag */
	CHECK(do_seg(&d, &s, T_DISCARD, DISK_SIZE / 512 - 4, 8, 0) == S_IOERR);
	CHECK(do_seg(&d, &s, T_WRITE_ZEROES, ~0ull, 2, 0) == S_IOERR);
	vd_close(&d);
}

static void test_readonly(void)
{
	struct vdrv d;
	setup(&d, true);
	struct req r = req_alloc(&d, 512), s = req_alloc(&d, 16);
	uint8_t before[512], after[512];
	file_read(0, before, sizeof(before));
	memset(vd_ptr(&d, r.data), 0x5a, 512);
	CHECK(do_req(&d, &r, T_OUT, 0, 512, false, NULL) == S_IOERR);
	CHECK(do_seg(&d, &s, T_WRITE_ZEROES, 0, 1, 0) == S_IOERR);
	CHECK(do_seg(&d, &s, T_DISCARD, 0, 1, 0) == S_IOERR);
	file_read(0, after, sizeof(after));
	CHECK(memcmp(before, after, 512) == 0);
	CHECK(do_req(&d, &r, T_IN, 0, 512, true, NULL) == S_OK);
	CHECK(memcmp(vd_ptr(&d, r.data), before, 512) == 0);
	vd_close(&d);
}

/* Many requests at once, completed by the worker threads in any order. */
static void test_parallel(void)
{
	struct vdrv d;
	setup(&d, false);
	enum { N = 32 };
	struct req r[N];
	for (int i = 0; i < N; i++) {
		r[i] = req_alloc(&d, 4096);
		fill(vd_ptr(&d, r[i].data), 4096, (unsigned)i);
		hdr_set(&d, &r[i], T_OUT, 256 + 8 * (uint64_t)i);
		struct vbuf b[3] = {
		    {r[i].hdr, 16, false}, {r[i].data, 4096, false}, {r[i].status, 1, true}};
		vd_submit(&d, 0, b, 3);
	}
	int done = 0;
	for (int i = 0; i < N; i++)
		done += vd_wait_used(&d, 0, NULL, NULL, 5000);
	CHECK(done == N);
	for (int i = 0; i < N; i++) {
		CHECK(*(uint8_t *)vd_ptr(&d, r[i].status) == S_OK);
		uint8_t file[4096], want[4096];
		fill(want, sizeof(want), (unsigned)i);
		file_read((256 + 8 * (uint64_t)i) * 512, file, sizeof(file));
		CHECK(memcmp(file, want, sizeof(file)) == 0);
	}
	CHECK(vd_irq_level(&d));

	/* Reset with requests queued: the reset waits for them, then the
	 * device works again. */
	for (int i = 0; i < N; i++) {
		hdr_set(&d, &r[i], T_IN, 8 * (uint64_t)i);
		struct vbuf b[3] = {
		    {r[i].hdr, 16, false}, {r[i].data, 4096, true}, {r[i].status, 1, true}};
		vd_submit(&d, 0, b, 3);
	}
	vd_wr(&d, 0x070, 0);
	CHECK(vd_rd(&d, 0x070) == 0 && vd_rd(&d, 0x060) == 0 && !vd_irq_level(&d));
	CHECK(vd_negotiate(&d, F_STD) != 0);
	CHECK(vd_queue_setup(&d, 0, 64));
	vd_driver_ok(&d);
	CHECK(do_req(&d, &r[0], T_IN, 256, 4096, true, NULL) == S_OK);
	uint8_t want[4096];
	fill(want, sizeof(want), 0);
	CHECK(memcmp(vd_ptr(&d, r[0].data), want, 4096) == 0);
	vd_close(&d);
}

/* Requests too short to answer are returned unused, not fatal. */
static void test_malformed(void)
{
	struct vdrv d;
	setup(&d, false);
	struct req r = req_alloc(&d, 512);
	hdr_set(&d, &r, T_IN, 0);
	struct vbuf b[2] = {{r.hdr, 8, false}, {r.status, 1, true}};
	vd_submit(&d, 0, b, 2);
	uint32_t used = 99;
	CHECK(vd_wait_used(&d, 0, NULL, &used, 5000) == 1 && used == 0);
	struct vbuf nostatus[1] = {{r.hdr, 16, false}};
	vd_submit(&d, 0, nostatus, 1);
	CHECK(vd_wait_used(&d, 0, NULL, &used, 5000) == 1 && used == 0);
	CHECK(do_req(&d, &r, T_IN, 0, 512, true, NULL) == S_OK);
	vd_close(&d);
}

int main(void)
{
	int fd = mkstemp(disk_path);
	if (fd < 0) {
		perror("mkstemp");
		return 2;
	}
	close(fd);
	unlink(disk_path);
	struct verr err;
	if (blk_create(disk_path, BLK_FMT_RAW, DISK_SIZE, NULL, &err)) {
		fprintf(stderr, "blk_create: %s\n", err.msg);
		return 2;
	}
	test_rw();
	test_discard();
	test_readonly();
	test_parallel();
	test_malformed();
	unlink(disk_path);
	if (vd_failures) {
		fprintf(stderr, "%d checks failed\n", vd_failures);
		return 1;
	}
	printf("virtio-blk: all checks passed\n");
	return 0;
}
