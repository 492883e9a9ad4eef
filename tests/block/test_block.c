/* SPDX-License-Identifier: MIT */
/*
 * Block layer tests with qemu-img as the oracle: images Vessel writes must
 * pass 'qemu-img check' and 'qemu-img compare' against a raw shadow file;
 * images qemu-img makes must read back right in Vessel and stay clean after
 * Vessel writes into them.
 *
 * usage: test_block QEMU_IMG QEMU_IO
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk_test.h"
#include "util/log.h"

void test_corrupt(void);

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static struct blk *open_ok(const char *path, enum blk_format fmt, bool ro)
{
	struct blk *b = NULL;
	struct verr err = {{0}};
	int r = blk_open(path, fmt, ro, &b, &err);
	if (r < 0)
		fprintf(stderr, "open %s: %s\n", path, err.msg);
	return b;
}

static int create(const char *path, enum blk_format fmt, uint64_t size, const char *backing)
{
	struct verr err = {{0}};
	int r = blk_create(path, fmt, size, backing, &err);
	if (r < 0)
		fprintf(stderr, "create %s: %s\n", path, err.msg);
	return r;
}

static void test_raw(void)
{
	const char *img = tp("raw.img");
	CHECK(create(img, BLK_FMT_RAW, 8 * MiB + 100, NULL) == 0, "create");
	struct blk *b = open_ok(img, BLK_FMT_AUTO, false);
	CHECK(b, "open");
	CHECK(blk_size(b) == 8 * MiB + 512, "size rounded to 512: %llu",
	      (unsigned long long)blk_size(b));
	struct shadow sh;
	CHECK(shadow_open(&sh, tp("raw.shadow"), blk_size(b)) == 0, "shadow");
	t_seed(1);
	struct ops_cfg cfg = {.count = 200, .max_len = 300000, .discard_zeroes = true, .cs = 1};
	int r = ops_apply(b, &sh, &cfg);
	CHECK(r == 0, "ops: %d", r);
	CHECK(blk_flush(b) == 0, "flush");
	CHECK(verify_read(b, &sh) == 0, "content");
	uint8_t x[16];
	CHECK(blk_pread(b, x, 16, blk_size(b) - 8) == -EINVAL, "read past end refused");
	blk_close(b);
	b = open_ok(img, BLK_FMT_RAW, true);
	CHECK(b && blk_is_readonly(b), "ro open");
	CHECK(blk_pwrite(b, x, 16, 0) == -EROFS, "write to read-only");
	blk_close(b);
	CHECK(qemu_compare(tp("raw.shadow"), img, "raw") == 0, "qemu-img compare");
	struct blk_info in;
	struct verr err;
	CHECK(blk_info_get(img, &in, &err) == 0, "info: %s", err.msg);
	CHECK(in.format == BLK_FMT_RAW && in.virtual_size == 8 * MiB + 512 && !in.backing[0],
	      "info fields");
	shadow_close(&sh);
}

/* Vessel-made qcow2, random requests around cluster/L2 boundaries and far out. */
static void test_qcow2_fresh(void)
{
	const char *img = tp("fresh.qcow2");
	uint64_t size = GiB + 3 * MiB + 4096;
	CHECK(create(img, BLK_FMT_QCOW2, size, NULL) == 0, "create");
	CHECK(qemu_check(img) == 0, "fresh image checks clean");
	struct blk *b = open_ok(img, BLK_FMT_AUTO, false);
	CHECK(b, "open");
	CHECK(blk_size(b) == size, "size");
	struct shadow sh;
	CHECK(shadow_open(&sh, tp("fresh.shadow"), size) == 0, "shadow");
	const uint64_t hot[] = {0, 65536, 512 * MiB, 512 * MiB - 70000, size - 1, 900 * MiB};
	struct ops_cfg cfg = {.count = 600,
			      .max_len = 200000,
			      .hot = hot,
			      .nhot = 6,
			      .discard_zeroes = true,
			      .cs = 65536};
	t_seed(2);
	CHECK(ops_apply(b, &sh, &cfg) == 0, "ops");
	CHECK(verify_read(b, &sh) == 0, "content before close");
	struct blk *b2 = NULL;
	struct verr err2 = {{0}};
	CHECK(blk_open(img, BLK_FMT_AUTO, false, &b2, &err2) < 0 && strstr(err2.msg, "elsewhere"),
	      "second writer refused: '%s'", err2.msg);
	/* What is on disk between requests, unflushed, is what a crashed process
	 * leaves: it may leak clusters (exit 3) but never be corrupt (exit 2). */
	CHECK(run("cp '%s' '%s'", img, tp("crash.qcow2")) == 0, "cp");
	int st = run("%s check '%s'", t_qemu_img, tp("crash.qcow2"));
	CHECK(st == 0 || st == 3, "unflushed image: qemu-img check exit %d\n%s", st, run_log());
	CHECK(blk_flush(b) == 0, "flush");
	CHECK(run("cp '%s' '%s'", img, tp("crash.qcow2")) == 0, "cp");
	CHECK(qemu_check(tp("crash.qcow2")) == 0, "flushed image checks clean while open");
	blk_close(b);
	CHECK(qemu_check(img) == 0, "qemu-img check");
	CHECK(qemu_compare(tp("fresh.shadow"), img, "qcow2") == 0, "qemu-img compare");
	/* Reopen: more requests on top of existing allocations. */
	b = open_ok(img, BLK_FMT_QCOW2, false);
	CHECK(b, "reopen");
	CHECK(verify_read(b, &sh) == 0, "content after reopen");
	cfg.count = 300;
	CHECK(ops_apply(b, &sh, &cfg) == 0, "ops 2");
	blk_close(b);
	CHECK(qemu_check(img) == 0, "qemu-img check 2");
	CHECK(qemu_compare(tp("fresh.shadow"), img, "qcow2") == 0, "qemu-img compare 2");
	shadow_close(&sh);
}

static uint32_t hdr32(const char *img, unsigned off)
{
	uint8_t b[4] = {0};
	int fd = open(img, O_RDONLY);
	if (fd >= 0 && pread(fd, b, 4, off) != 4)
		memset(b, 0, 4);
	if (fd >= 0)
		close(fd);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* qemu-img-made images of several geometries: read, then write into them. */
static void qemu_made_one(unsigned cluster, unsigned refbits, uint64_t size, int nops,
			  uint64_t max_len)
{
	char name[64], shname[64];
	snprintf(name, sizeof(name), "q-%u-%u.qcow2", cluster, refbits);
	snprintf(shname, sizeof(shname), "q-%u-%u.raw", cluster, refbits);
	const char *img = tp(name), *raw = tp(shname);
	struct shadow sh;
	CHECK(shadow_open(&sh, raw, size) == 0, "shadow");
	/* Some content: patterns and holes, converted by qemu-img. */
	uint8_t *buf = malloc(256 * 1024);
	for (uint64_t off = 0; off < size; off += size / 7) {
		t_fill(buf, 256 * 1024, off);
		shadow_write(&sh, buf, size - off < 256 * 1024 ? size - off : 256 * 1024, off);
	}
	free(buf);
	CHECK(run("%s convert -f raw -O qcow2 -o cluster_size=%u,refcount_bits=%u '%s' '%s'",
		  t_qemu_img, cluster, refbits, raw, img) == 0,
	      "qemu-img convert: %s", run_log());
	uint32_t reft_before = hdr32(img, 56);
	struct blk *b = open_ok(img, BLK_FMT_AUTO, false);
	CHECK(b, "open %s", name);
	CHECK(verify_read(b, &sh) == 0, "%s reads as qemu-img wrote it", name);
	if (cluster == 512) {
		/* A third of the disk in new data: past what one refcount table
		 * cluster covers (8 MiB of host file at 16-bit refcounts). */
		uint8_t *big = malloc(MiB);
		for (uint64_t off = size / 3 & ~(MiB - 1); off + MiB <= 2 * size / 3; off += MiB) {
			t_fill(big, MiB, off);
			CHECK(blk_pwrite(b, big, MiB, off) == 0, "sequential write");
			shadow_write(&sh, big, MiB, off);
		}
		free(big);
	}
	const uint64_t hot[] = {0, size / 2, size - 1, (uint64_t)cluster * cluster / 8};
	struct ops_cfg cfg = {.count = nops,
			      .max_len = max_len,
			      .hot = hot,
			      .nhot = 4,
			      .discard_zeroes = true,
			      .cs = cluster};
	t_seed(cluster + refbits);
	CHECK(ops_apply(b, &sh, &cfg) == 0, "ops on %s", name);
	CHECK(verify_read(b, &sh) == 0, "%s content", name);
	/* Tables evicted early must never leave the disk inconsistent. */
	CHECK(run("cp '%s' '%s'", img, tp("crash.qcow2")) == 0, "cp");
	int cst = run("%s check '%s'", t_qemu_img, tp("crash.qcow2"));
	CHECK(cst == 0 || cst == 3, "%s unflushed: qemu-img check exit %d\n%s", name, cst,
	      run_log());
	blk_close(b);
	CHECK(qemu_check(img) == 0, "%s checks clean", name);
	CHECK(qemu_compare(raw, img, "qcow2") == 0, "%s compares equal", name);
	/* Host bytes the original refcount table could describe. */
	uint64_t covered =
	    (uint64_t)reft_before * cluster / 8 * (cluster * 8ull / refbits) * cluster;
	struct stat st;
	CHECK(stat(img, &st) == 0, "stat");
	if ((uint64_t)st.st_size > covered)
		CHECK(hdr32(img, 56) > reft_before, "refcount table grew (%u -> %u clusters)",
		      reft_before, hdr32(img, 56));
	if (cluster == 512 && refbits >= 16)
		CHECK((uint64_t)st.st_size > covered, "test outgrew the refcount table");
	shadow_close(&sh);
}

static void test_qemu_made(void)
{
	qemu_made_one(65536, 16, 700 * MiB, 300, 200000);
	qemu_made_one(4096, 16, 64 * MiB, 400, 100000);
	qemu_made_one(2 * 1024 * 1024, 16, 64 * MiB, 100, 3 * MiB);
	/* Small clusters: many L2 tables and refcount blocks; the table must grow. */
	qemu_made_one(512, 16, 48 * MiB, 1500, 40000);
	qemu_made_one(512, 64, 12 * MiB, 300, 40000);
	qemu_made_one(512, 1, 48 * MiB, 300, 40000);
	qemu_made_one(4096, 1, 16 * MiB, 200, 100000);
	qemu_made_one(4096, 8, 16 * MiB, 200, 100000);
	qemu_made_one(4096, 64, 16 * MiB, 200, 100000);
}

/* Data written by qemu-io (not just convert) reads back right. */
static void test_qemu_io(void)
{
	const char *img = tp("qio.qcow2");
	CHECK(run("%s create -f qcow2 -o cluster_size=4096 '%s' 16M", t_qemu_img, img) == 0,
	      "create");
	CHECK(run("%s -f qcow2 -c 'write -P 0x5a 1000 70000' -c 'write -P 0xa5 8M 4096' "
		  "-c 'write -z 9M 64k' -c 'write -P 0x11 9M 100' -c 'discard 1000 8000' '%s'",
		  t_qemu_io, img) == 0,
	      "qemu-io: %s", run_log());
	struct blk *b = open_ok(img, BLK_FMT_AUTO, true);
	CHECK(b, "open");
	uint8_t buf[80000];
	CHECK(blk_pread(b, buf, sizeof(buf), 0) == 0, "read");
	for (size_t i = 0; i < sizeof(buf); i++) {
		/* 'discard 1000 8000' frees the only whole 4 KiB cluster in it: 4096..8191 */
		uint8_t want = (i >= 1000 && i < 71000) ? 0x5a : 0;
		if (i >= 4096 && i < 8192)
			want = 0;
		CHECK(buf[i] == want, "byte %zu: %02x want %02x", i, buf[i], want);
	}
	CHECK(blk_pread(b, buf, 4096, 8 * MiB) == 0 && buf[0] == 0xa5 && buf[4095] == 0xa5,
	      "second write");
	CHECK(blk_pread(b, buf, 200, 9 * MiB) == 0 && buf[99] == 0x11 && buf[100] == 0,
	      "zero cluster then data");
	blk_close(b);
}

static void test_compressed(void)
{
	const char *raw = tp("comp.raw"), *img = tp("comp.qcow2");
	struct shadow sh;
	uint64_t size = 8 * MiB;
	CHECK(shadow_open(&sh, raw, size) == 0, "shadow");
	uint8_t *buf = malloc(MiB);
	for (size_t i = 0; i < MiB; i++)
		buf[i] = (uint8_t)("vessel qcow2 compressed "[i % 24] + (i >> 16));
	shadow_write(&sh, buf, MiB, 0);
	t_fill(buf, MiB, 7); /* incompressible: stored uncompressed by qemu-img */
	shadow_write(&sh, buf, MiB, 3 * MiB);
	for (size_t i = 0; i < MiB; i++)
		buf[i] = (uint8_t)(i * 7 / 4096);
	shadow_write(&sh, buf, MiB, 6 * MiB + 12345);
	free(buf);
	CHECK(run("%s convert -c -f raw -O qcow2 '%s' '%s'", t_qemu_img, raw, img) == 0,
	      "convert -c: %s", run_log());
	struct blk *b = open_ok(img, BLK_FMT_AUTO, false);
	CHECK(b, "open");
	CHECK(verify_read(b, &sh) == 0, "compressed clusters read back");
	const uint64_t hot[] = {0, 100000, 6 * MiB + 12345};
	struct ops_cfg cfg = {.count = 60,
			      .max_len = 150000,
			      .hot = hot,
			      .nhot = 3,
			      .discard_zeroes = true,
			      .cs = 65536};
	t_seed(11);
	CHECK(ops_apply(b, &sh, &cfg) == 0, "ops over compressed clusters");
	CHECK(verify_read(b, &sh) == 0, "content");
	blk_close(b);
	CHECK(qemu_check(img) == 0, "check");
	CHECK(qemu_compare(raw, img, "qcow2") == 0, "compare");
	shadow_close(&sh);
}

/* Overlays: writes land in the overlay, the base never changes. */
static void test_backing(void)
{
	const char *base = tp("base.raw");
	uint64_t size = 40 * MiB;
	struct shadow sh;
	CHECK(shadow_open(&sh, tp("base.raw"), size) == 0, "base");
	uint8_t *buf = malloc(MiB);
	for (uint64_t off = 0; off < size; off += 3 * MiB) {
		t_fill(buf, MiB, off + 1);
		shadow_write(&sh, buf, MiB, off);
	}
	shadow_close(&sh);
	uint64_t h0 = file_hash(base);

	/* Vessel overlay in a subdirectory, backing given relative to it. */
	CHECK(mkdir(tp("sub"), 0755) == 0 || errno == EEXIST, "mkdir");
	const char *ov = tp("sub/ov.qcow2");
	CHECK(create(ov, BLK_FMT_QCOW2, 0, "../base.raw") == 0, "create overlay");
	struct blk_info in;
	struct verr err;
	CHECK(blk_info_get(ov, &in, &err) == 0, "info");
	CHECK(!strcmp(in.backing, "../base.raw") && in.virtual_size == size,
	      "backing stored as given; size from base");
	CHECK(run("%s info '%s' | grep -q 'backing file format: raw'", t_qemu_img, ov) == 0,
	      "backing format extension: %s", run_log());
	struct blk *b = open_ok(ov, BLK_FMT_AUTO, false);
	CHECK(b, "open overlay");
	CHECK(shadow_open(&sh, tp("ov.expect"), size) == 0, "shadow");
	shadow_copy_from(&sh, base);
	CHECK(verify_read(b, &sh) == 0, "unwritten overlay reads the base");
	const uint64_t hot[] = {0, 3 * MiB - 1000, 4 * MiB, size - 1};
	struct ops_cfg cfg = {.count = 300,
			      .max_len = 200000,
			      .hot = hot,
			      .nhot = 4,
			      .discard_zeroes = true,
			      .cs = 65536};
	t_seed(5);
	CHECK(ops_apply(b, &sh, &cfg) == 0, "ops");
	CHECK(verify_read(b, &sh) == 0, "overlay content");
	blk_close(b);
	CHECK(file_hash(base) == h0, "base unchanged");
	CHECK(qemu_check(ov) == 0, "overlay checks clean");
	CHECK(qemu_compare(tp("ov.expect"), ov, "qcow2") == 0, "qemu reads the overlay same");

	/* A third layer on top, made by qemu-img and written by qemu-io. */
	const char *top = tp("sub/top.qcow2");
	CHECK(run("%s create -f qcow2 -b ov.qcow2 -F qcow2 '%s'", t_qemu_img, top) == 0,
	      "qemu-img create -b: %s", run_log());
	CHECK(run("%s -f qcow2 -c 'write -P 0x77 5M 100k' '%s'", t_qemu_io, top) == 0, "qemu-io");
	memset(buf, 0x77, 100 * 1024);
	shadow_write(&sh, buf, 100 * 1024, 5 * MiB);
	uint64_t h1 = file_hash(ov);
	b = open_ok(top, BLK_FMT_AUTO, false);
	CHECK(b, "open top");
	CHECK(verify_read(b, &sh) == 0, "three-layer chain reads right");
	cfg.count = 100;
	CHECK(ops_apply(b, &sh, &cfg) == 0, "ops on top");
	CHECK(verify_read(b, &sh) == 0, "top content");
	blk_close(b);
	CHECK(file_hash(ov) == h1 && file_hash(base) == h0, "lower layers unchanged");
	CHECK(qemu_check(top) == 0, "top checks clean");
	CHECK(qemu_compare(tp("ov.expect"), top, "qcow2") == 0, "qemu reads the chain same");
	shadow_close(&sh);

	/* An overlay larger than its base reads zeros past the base's end. */
	CHECK(create(tp("big.qcow2"), BLK_FMT_QCOW2, size + 8 * MiB, "base.raw") == 0, "create");
	b = open_ok(tp("big.qcow2"), BLK_FMT_AUTO, false);
	CHECK(b, "open big");
	memset(buf, 1, 8192);
	CHECK(blk_pwrite(b, buf, 100, size - 50) == 0, "write across the base's end");
	CHECK(blk_pread(b, buf, 8192, size - 4096) == 0, "read");
	CHECK(buf[4096 - 50] == 1 && buf[4096 - 51] != 1 && buf[4096 + 49] == 1 &&
		  buf[4096 + 50] == 0 && buf[8191] == 0,
	      "zeros past the base");
	blk_close(b);
	CHECK(qemu_check(tp("big.qcow2")) == 0, "big checks clean");
	free(buf);
}

static void test_thin(void)
{
	const char *img = tp("thin.qcow2");
	CHECK(create(img, BLK_FMT_QCOW2, 10 * GiB, NULL) == 0, "create");
	struct blk *b = open_ok(img, BLK_FMT_AUTO, false);
	CHECK(b, "open");
	uint8_t *buf = malloc(MiB);
	t_fill(buf, MiB, 3);
	CHECK(blk_pwrite(b, buf, MiB, 5 * GiB + 12345) == 0, "write");
	CHECK(blk_flush(b) == 0, "flush");
	blk_close(b);
	free(buf);
	struct blk_info in;
	struct verr err;
	CHECK(blk_info_get(img, &in, &err) == 0, "info");
	CHECK(in.virtual_size == 10 * GiB, "virtual size");
	CHECK(in.allocated_bytes < 2 * MiB, "10 GiB image with 1 MiB written uses %llu bytes",
	      (unsigned long long)in.allocated_bytes);
	printf("thin: 10 GiB image, 1 MiB written: %llu bytes on disk\n",
	       (unsigned long long)in.allocated_bytes);
	CHECK(qemu_check(img) == 0, "check");
}

/* Discarding thousands of scattered clusters returns their space to the host. */
static void test_discard_many(void)
{
	const char *img = tp("dm.qcow2");
	CHECK(run("%s create -f qcow2 -o cluster_size=4096 '%s' 64M", t_qemu_img, img) == 0,
	      "create");
	struct blk *b = open_ok(img, BLK_FMT_AUTO, false);
	CHECK(b, "open");
	uint8_t buf[4096];
	memset(buf, 0xee, sizeof(buf));
	/* Every other cluster, so the host clusters freed are not contiguous. */
	for (uint64_t off = 0; off < 64 * MiB; off += 8192)
		CHECK(blk_pwrite(b, buf, 4096, off) == 0, "write");
	CHECK(blk_flush(b) == 0, "flush");
	struct blk_info in;
	struct verr err;
	CHECK(blk_info_get(img, &in, &err) == 0, "info");
	uint64_t full = in.allocated_bytes;
	CHECK(blk_discard(b, 0, 64 * MiB) == 0, "discard");
	CHECK(blk_pread(b, buf, 4096, 8192) == 0 && buf[0] == 0 && buf[4095] == 0, "zeros");
	CHECK(blk_flush(b) == 0, "flush");
	CHECK(blk_info_get(img, &in, &err) == 0, "info");
	CHECK(in.allocated_bytes < full / 4, "space returned: %llu -> %llu bytes",
	      (unsigned long long)full, (unsigned long long)in.allocated_bytes);
	/* Freed clusters are reused. */
	for (uint64_t off = 0; off < 16 * MiB; off += 4096)
		CHECK(blk_pwrite(b, buf, 4096, off) == 0, "rewrite");
	blk_close(b);
	CHECK(qemu_check(img) == 0, "check");
	CHECK(run("%s info '%s' | grep -Eq 'disk size: 1[0-9](\\.[0-9])? MiB'", t_qemu_img, img) ==
		  0,
	      "reused freed clusters: %s", run_log());
}

/* Several threads writing into shared clusters at once, with readers. */
struct thr {
	struct blk *b;
	struct shadow *sh;
	uint64_t base, len;
	int id, err;
	_Atomic int *stop;
};

static void *thr_writer(void *p)
{
	struct thr *t = p;
	uint8_t *buf = malloc(150000);
	uint64_t x = (uint64_t)t->id * 7919 + 1;
	for (int i = 0; i < 250 && !t->err; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t off = t->base + x % t->len;
		uint64_t len = 1 + (x >> 20) % 150000;
		if (len > t->base + t->len - off)
			len = t->base + t->len - off;
		if ((x >> 40) % 8 == 0) {
			t->err = blk_write_zeroes(t->b, off, len, (x >> 50) & 1);
			shadow_zero(t->sh, off, len);
		} else if ((x >> 40) % 8 == 1) {
			/* discard only whole clusters inside this thread's range */
			uint64_t a = (off + 65535) & ~65535ull, z = (off + len) & ~65535ull;
			if (z > a) {
				t->err = blk_discard(t->b, a, z - a);
				shadow_zero(t->sh, a, z - a);
			}
		} else {
			t_fill(buf, len, x);
			t->err = blk_pwrite(t->b, buf, len, off);
			shadow_write(t->sh, buf, len, off);
		}
	}
	free(buf);
	return NULL;
}

static void *thr_reader(void *p)
{
	struct thr *t = p;
	uint8_t *buf = malloc(MiB);
	uint64_t x = 12345;
	while (!*t->stop && !t->err) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t off = x % (blk_size(t->b) - MiB);
		t->err = blk_pread(t->b, buf, MiB, off);
	}
	free(buf);
	return NULL;
}

/* 4 writers in regions whose edges share clusters, 2 readers, on 'img'. */
static void threads_run(const char *img, struct shadow *sh, uint64_t region)
{
	struct blk *b = open_ok(img, BLK_FMT_AUTO, false);
	CHECK(b, "open");
	enum { NW = 4, NR = 2 };
	pthread_t th[NW + NR];
	struct thr t[NW + NR];
	_Atomic int stop = 0;
	for (int i = 0; i < NW + NR; i++) {
		t[i] = (struct thr){.b = b,
				    .sh = sh,
				    .base = (uint64_t)i * region,
				    .len = region,
				    .id = i,
				    .stop = &stop};
		pthread_create(&th[i], NULL, i < NW ? thr_writer : thr_reader, &t[i]);
	}
	for (int i = 0; i < NW; i++)
		pthread_join(th[i], NULL);
	stop = 1;
	for (int i = NW; i < NW + NR; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NW + NR; i++)
		CHECK(t[i].err == 0, "thread %d: %s", i, strerror(-t[i].err));
	CHECK(verify_read(b, sh) == 0, "content after concurrent writes");
	blk_close(b);
	CHECK(qemu_check(img) == 0, "check");
}

static void test_threads(void)
{
	const char *img = tp("thr.qcow2");
	uint64_t size = 64 * MiB;
	CHECK(create(img, BLK_FMT_QCOW2, size, NULL) == 0, "create");
	struct shadow sh;
	CHECK(shadow_open(&sh, tp("thr.shadow"), size) == 0, "shadow");
	/* Region edges are not cluster aligned: neighbours share clusters. */
	threads_run(img, &sh, 5 * MiB + 12345);
	CHECK(qemu_compare(tp("thr.shadow"), img, "qcow2") == 0, "compare");
	shadow_close(&sh);

	/* The same over compressed clusters (rewrites free their sectors). */
	const char *cimg = tp("thrc.qcow2");
	CHECK(shadow_open(&sh, tp("thrc.shadow"), 16 * MiB) == 0, "shadow");
	uint8_t *buf = malloc(MiB);
	for (uint64_t off = 0; off < 16 * MiB; off += MiB) {
		for (size_t i = 0; i < MiB; i++)
			buf[i] = (uint8_t)((i / 100) ^ (off >> 20));
		shadow_write(&sh, buf, MiB, off);
	}
	free(buf);
	CHECK(run("%s convert -c -f raw -O qcow2 '%s' '%s'", t_qemu_img, tp("thrc.shadow"), cimg) ==
		  0,
	      "convert -c: %s", run_log());
	threads_run(cimg, &sh, 2 * MiB + 777);
	CHECK(qemu_compare(tp("thrc.shadow"), cimg, "qcow2") == 0, "compare");
	shadow_close(&sh);
}

/* Internal snapshots: writes copy shared L2 tables and clusters, the
 * snapshot keeps its content, refcounts stay exact. */
static void test_snapshots(void)
{
	const char *img = tp("snap.qcow2");
	/* The snapshot is the last thing qemu does: Vessel's first write meets a
	 * shared L2 table as well as shared data clusters. */
	CHECK(run("%s create -f qcow2 '%s' 4M && %s -f qcow2 -c 'write -P 1 0 1M' "
		  "-c 'write -P 2 0 4k' '%s' && %s snapshot -c s1 '%s'",
		  t_qemu_img, img, t_qemu_io, img, t_qemu_img, img) == 0,
	      "make snapshot: %s", run_log());
	struct blk *b = open_ok(img, BLK_FMT_AUTO, false);
	CHECK(b, "read-write open");
	uint8_t buf[8192];
	CHECK(blk_pread(b, buf, sizeof(buf), 0) == 0, "read");
	CHECK(buf[0] == 2 && buf[4095] == 2 && buf[4096] == 1, "active layer content");
	memset(buf, 3, sizeof(buf));
	CHECK(blk_pwrite(b, buf, 1000, 70000) == 0, "write into a shared cluster");
	CHECK(blk_pwrite(b, buf, 8192, 2 * MiB) == 0, "write into a new cluster");
	CHECK(blk_discard(b, 512 * 1024, 256 * 1024) == 0, "discard shared clusters");
	CHECK(blk_write_zeroes(b, 768 * 1024, 128 * 1024, false) == 0, "zero shared clusters");
	CHECK(blk_pread(b, buf, 8192, 65536) == 0 && buf[0] == 1 && buf[4464] == 3 &&
		  buf[5464] == 1,
	      "copy on write kept the rest of the cluster");
	blk_close(b);
	CHECK(qemu_check(img) == 0, "check after writing next to a snapshot");
	CHECK(run("%s -r -f qcow2 -c 'read -P 2 0 4k' -c 'read -P 1 4k 65904' "
		  "-c 'read -P 3 70000 1000' -c 'read -P 1 71000 453288' "
		  "-c 'read -P 0 512k 384k' -c 'read -P 3 2M 8k' '%s' | grep -q failed",
		  t_qemu_io, img) != 0,
	      "qemu reads the new content");
	/* Random requests on top, against a raw copy of the current content. */
	CHECK(run("%s convert -O raw '%s' '%s'", t_qemu_img, img, tp("snap.raw")) == 0, "convert");
	struct shadow sh;
	CHECK(shadow_open(&sh, tp("snap.shadow"), 4 * MiB) == 0, "shadow");
	shadow_copy_from(&sh, tp("snap.raw"));
	b = open_ok(img, BLK_FMT_AUTO, false);
	CHECK(b, "reopen");
	const uint64_t hot[] = {0, 65536 * 3, MiB - 1};
	struct ops_cfg cfg = {.count = 150,
			      .max_len = 150000,
			      .hot = hot,
			      .nhot = 3,
			      .discard_zeroes = true,
			      .cs = 65536};
	t_seed(21);
	CHECK(ops_apply(b, &sh, &cfg) == 0, "ops");
	CHECK(verify_read(b, &sh) == 0, "content");
	blk_close(b);
	CHECK(qemu_check(img) == 0, "check after random requests");
	CHECK(qemu_compare(tp("snap.shadow"), img, "qcow2") == 0, "compare");
	shadow_close(&sh);
	CHECK(run("%s snapshot -a s1 '%s'", t_qemu_img, img) == 0, "apply: %s", run_log());
	CHECK(run("%s -r -f qcow2 -c 'read -P 2 0 4k' -c 'read -P 1 4k 1020k' -c 'read -P 0 1M 3M' "
		  "'%s' | grep -q failed",
		  t_qemu_io, img) != 0,
	      "the snapshot kept its content");
	CHECK(qemu_check(img) == 0, "check after applying the snapshot");
}

/* qemu-io with lazy refcounts, killed mid-way: the dirty image gets repaired. */
static void test_dirty_repair(void)
{
	const char *img = tp("lazy.qcow2");
	CHECK(run("%s create -f qcow2 -o lazy_refcounts=on,cluster_size=4096 '%s' 16M", t_qemu_img,
		  img) == 0,
	      "create");
	run("%s -f qcow2 -c 'write -P 0x61 0 1M' -c 'write -P 0x62 5M 300k' -c abort '%s'",
	    t_qemu_io, img);
	CHECK(run("%s check '%s'", t_qemu_img, img) == 2, "qemu-io left stale refcounts");
	struct blk *b = open_ok(img, BLK_FMT_AUTO, false);
	CHECK(b, "read-write open repairs");
	uint8_t *buf = malloc(MiB);
	CHECK(blk_pread(b, buf, MiB, 0) == 0 && buf[0] == 0x61 && buf[MiB - 1] == 0x61, "data 1");
	CHECK(blk_pread(b, buf, 300 * 1024, 5 * MiB) == 0 && buf[0] == 0x62 &&
		  buf[300 * 1024 - 1] == 0x62,
	      "data 2");
	memset(buf, 0x63, MiB);
	CHECK(blk_pwrite(b, buf, MiB, 10 * MiB + 100) == 0, "write after repair");
	blk_close(b);
	free(buf);
	CHECK(qemu_check(img) == 0, "repaired and written image checks clean");
	CHECK(run("%s -r -f qcow2 -c 'read -P 0x61 0 1M' -c 'read -P 0x62 5M 300k' -c 'read -P "
		  "0x63 %llu 1M' '%s' | grep -q 'verification failed'",
		  t_qemu_io, 10 * MiB + 100, img) != 0,
	      "qemu reads the data back");
}

static void test_v2(void)
{
	const char *img = tp("v2.qcow2");
	CHECK(run("%s create -f qcow2 -o compat=0.10 '%s' 4M && %s -f qcow2 -c 'write -P 9 0 "
		  "10k' '%s'",
		  t_qemu_img, img, t_qemu_io, img) == 0,
	      "make v2: %s", run_log());
	struct blk *b = NULL;
	struct verr err = {{0}};
	CHECK(blk_open(img, BLK_FMT_AUTO, false, &b, &err) < 0 && strstr(err.msg, "version 2"),
	      "v2 read-write refused: '%s'", err.msg);
	b = open_ok(img, BLK_FMT_AUTO, true);
	CHECK(b, "v2 read-only");
	uint8_t buf[12 * 1024];
	CHECK(blk_pread(b, buf, sizeof(buf), 0) == 0 && buf[0] == 9 && buf[10239] == 9 &&
		  buf[10240] == 0,
	      "v2 content");
	blk_close(b);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s QEMU_IMG QEMU_IO\n", argv[0]);
		return 2;
	}
	t_qemu_img = argv[1];
	t_qemu_io = argv[2];
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(t_dir, sizeof(t_dir), "%s/vessel-blk-XXXXXX", tmp);
	if (!mkdtemp(t_dir)) {
		perror("mkdtemp");
		return 1;
	}
	struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
	    {"raw", test_raw},
	    {"qcow2_fresh", test_qcow2_fresh},
	    {"qemu_made", test_qemu_made},
	    {"qemu_io", test_qemu_io},
	    {"compressed", test_compressed},
	    {"backing", test_backing},
	    {"thin", test_thin},
	    {"discard_many", test_discard_many},
	    {"threads", test_threads},
	    {"snapshots", test_snapshots},
	    {"dirty_repair", test_dirty_repair},
	    {"v2", test_v2},
	    {"corrupt", test_corrupt},
	};
	const char *only = getenv("BLK_TEST_ONLY");
	int passed = 0, failed = 0;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (only && strcmp(only, tests[i].name))
			continue;
		int before = t_failures;
		tests[i].fn();
		bool ok = t_failures == before;
		printf("%s %s\n", ok ? "ok  " : "FAIL", tests[i].name);
		fflush(stdout);
		ok ? passed++ : failed++;
	}
	if (!failed)
		run("rm -rf '%s'", t_dir);
	else
		printf("files kept in %s\n", t_dir);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
