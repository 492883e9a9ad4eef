/* SPDX-License-Identifier: MIT */
/*
 * Hostile qcow2 images: each must fail to open with a clear message, or fail
 * the affected requests with -EIO, never crash or touch memory it should not
 * (this runs under ASan+UBSan).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk_test.h"
#include "util/log.h"

void test_corrupt(void);

static char good[512];

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void patch(const char *p, uint64_t off, uint64_t v, int n)
{
	int fd = open(p, O_RDWR);
	uint8_t b[8];
	put_be(b, v, n);
	if (fd < 0 || pwrite(fd, b, (size_t)n, (off_t)off) != n)
		abort();
	close(fd);
}

/* Copy the good image to 'name' and overwrite 'n' big-endian bytes at 'off'. */
static const char *patched(const char *name, uint64_t off, uint64_t v, int n)
{
	const char *p = tp(name);
	if (run("cp '%s' '%s'", good, p) != 0)
		abort();
	patch(p, off, v, n);
	return p;
}

static uint64_t read_be(const char *path, uint64_t off, int n)
{
	uint8_t b[8] = {0};
	int fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, b, (size_t)n, (off_t)off) != n)
		abort();
	close(fd);
	return get_be(b, n);
}

struct bad_case {
	const char *name;
	uint64_t off, val;
	int n;
	const char *msg; /* expected in the error message */
};

static void open_must_fail(const char *path, enum blk_format fmt, bool ro, const char *want)
{
	struct blk *b = NULL;
	struct verr err = {{0}};
	int r = blk_open(path, fmt, ro, &b, &err);
	if (r == 0)
		blk_close(b);
	CHECK(r < 0, "%s opened although corrupt", path);
	CHECK(err.msg[0] && strstr(err.msg, want), "%s: message '%s' lacks '%s'", path, err.msg,
	      want);
}

static void corrupt_headers(void)
{
	const struct bad_case cases[] = {
	    {"magic", 0, 0x51464900, 4, "magic"},
	    {"version", 4, 4, 4, "version 4"},
	    {"cbits-small", 20, 8, 4, "cluster_bits"},
	    {"cbits-big", 20, 31, 4, "cluster_bits"},
	    {"cbits-huge", 20, 0xffffffff, 4, "cluster_bits"},
	    {"size-absurd", 24, 1ull << 62, 8, "too large"},
	    {"size-l1", 24, 1ull << 50, 8, "L1 table too small"},
	    {"crypt", 32, 1, 4, "encrypted"},
	    {"l1-size", 36, 0xffffffff, 4, "L1 table too large"},
	    {"l1-eof", 40, 1ull << 40, 8, "L1 table offset"},
	    {"l1-align", 40, 3 * 65536 + 8, 8, "L1 table offset"},
	    {"l1-header", 40, 0, 8, "L1 table offset"},
	    {"reft-eof", 48, 1ull << 44, 8, "refcount table offset"},
	    {"reft-align", 48, 65536 + 512, 8, "refcount table offset"},
	    {"reft-zero", 56, 0, 4, "refcount table size"},
	    {"reft-huge", 56, 0x7fffffff, 4, "refcount table size"},
	    {"incompat-unknown", 72, 1ull << 20, 8, "incompatible features"},
	    {"incompat-datafile", 72, 1ull << 2, 8, "external data"},
	    {"incompat-extl2", 72, 1ull << 4, 8, "extended L2"},
	    {"incompat-zstd", 72, 1ull << 3, 8, "compression type"},
	    {"incompat-corrupt", 72, 2, 8, "corrupt"},
	    {"refcount-order", 96, 7, 4, "refcount_order"},
	    {"hdrlen-small", 100, 7, 4, "header length"},
	    {"hdrlen-odd", 100, 108, 4, "header length"},
	    {"hdrlen-huge", 100, 1 << 20, 4, "header length"},
	    {"ext-overflow", 112, 0x12345678fffffff0ull, 8, "overflows"},
	    {"backing-len", 16, 5000, 4, "backing file name"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		const char *p = patched(c->name, c->off, c->val, c->n);
		if (!strcmp(c->name, "backing-len")) /* needs an offset too */
			patch(p, 8, 200, 8);
		open_must_fail(p, BLK_FMT_QCOW2, false, c->msg);
	}
	/* Corrupt images still open read-only. */
	struct blk *b = NULL;
	struct verr err;
	CHECK(blk_open(tp("incompat-corrupt"), BLK_FMT_AUTO, true, &b, &err) == 0, "corrupt ro: %s",
	      err.msg);
	uint8_t x[512];
	CHECK(blk_pread(b, x, 512, 0) == 0 && x[0] == 0xc3, "corrupt image data readable");
	blk_close(b);
	/* Dirty images are repaired for writing, unless snapshots are involved. */
	const char *d = patched("dirty", 72, 1, 8);
	CHECK(blk_open(d, BLK_FMT_AUTO, false, &b, &err) == 0, "dirty rw: %s", err.msg);
	CHECK(blk_pread(b, x, 512, 5 << 20) == 0 && x[0] == 0xc3, "repaired image data");
	blk_close(b);
	CHECK(qemu_check(d) == 0, "repaired image checks clean");
	d = patched("dirty-snap", 72, 1, 8);
	patch(d, 60, 1, 4);
	open_must_fail(d, BLK_FMT_QCOW2, false, "snapshots or bitmaps");
	/* A dirty image whose tables point outside the file is not "repaired". */
	d = patched("dirty-bad", 72, 1, 8);
	patch(d, read_be(good, 40, 8), (1ull << 63) | (1ull << 40), 8);
	open_must_fail(d, BLK_FMT_QCOW2, false, "cannot be rebuilt");
	/* zstd needs the type byte too; with bit 3 and type 1 it is refused likewise. */
	const char *z = patched("zstd2", 104, 1, 1);
	open_must_fail(z, BLK_FMT_QCOW2, true, "compression type 1");
}

static void corrupt_truncated(void)
{
	const char *p = tp("trunc");
	CHECK(run("head -c 50 '%s' > '%s'", good, p) == 0, "head");
	open_must_fail(p, BLK_FMT_QCOW2, false, "truncated");
	CHECK(run("head -c 100 '%s' > '%s'", good, p) == 0, "head");
	open_must_fail(p, BLK_FMT_QCOW2, false, "header length");
	CHECK(run("head -c 70000 '%s' > '%s'", good, p) == 0, "head");
	open_must_fail(p, BLK_FMT_QCOW2, false, "offset");
	CHECK(run("printf 'QFI\\373' > '%s'", p) == 0, "printf");
	open_must_fail(p, BLK_FMT_AUTO, false, "truncated");
}

static void corrupt_backing(void)
{
	struct verr err = {{0}};
	CHECK(blk_create(tp("loopx.qcow2"), BLK_FMT_QCOW2, 1 << 20, NULL, &err) == 0, "base");
	CHECK(blk_create(tp("loop1.qcow2"), BLK_FMT_QCOW2, 0, "loopx.qcow2", &err) == 0, "ov");
	/* Point the overlay at itself: same name length, so patch in place. */
	const char *p = tp("loop1.qcow2");
	uint64_t boff = read_be(p, 8, 8);
	int fd = open(p, O_RDWR);
	CHECK(fd >= 0 && pwrite(fd, "loop1.qcow2", 11, (off_t)boff) == 11, "patch");
	close(fd);
	open_must_fail(p, BLK_FMT_AUTO, true, "loop");
	CHECK(blk_create(tp("orphan.qcow2"), BLK_FMT_QCOW2, 0, "loopx.qcow2", &err) == 0, "ov2");
	CHECK(unlink(tp("loopx.qcow2")) == 0, "unlink");
	open_must_fail(tp("orphan.qcow2"), BLK_FMT_AUTO, false, "backing file");
	struct blk_info in;
	CHECK(blk_info_get(tp("orphan.qcow2"), &in, &err) == 0 &&
		  !strcmp(in.backing, "loopx.qcow2"),
	      "info works without the backing file");
}

/* Damage below the header: opening works, the affected requests fail with -EIO. */
static void corrupt_tables(void)
{
	uint64_t l1 = read_be(good, 40, 8);
	uint64_t l2 = read_be(good, l1, 8) & 0x00fffffffffffe00ull;
	uint64_t reft = read_be(good, 48, 8);
	CHECK(l2, "good image has an L2 table");
	struct {
		const char *name;
		uint64_t off, val;
	} cases[] = {
	    {"l1e-eof", l1, (1ull << 63) | (1ull << 40)},
	    {"l1e-align", l1, (1ull << 63) | (l2 + 512)},
	    {"l1e-reserved", l1, (1ull << 63) | l2 | 1},
	    {"l1e-header", l1, (1ull << 63)},
	    {"l1e-l1", l1, (1ull << 63) | l1},
	    {"l2e-eof", l2, (1ull << 63) | (1ull << 45)},
	    {"l2e-align", l2, (1ull << 63) | (l2 + 1024)},
	    {"l2e-reserved", l2, (1ull << 63) | (1ull << 58) | (l2 + 65536)},
	    {"l2e-reft", l2, (1ull << 63) | reft},
	    {"l2e-compressed", l2, (1ull << 62) | (0x3full << 54) | 0x20000},
	    {"l2e-compressed-eof", l2, (1ull << 62) | (1ull << 50)},
	};
	uint8_t buf[4096];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = patched(cases[i].name, cases[i].off, cases[i].val, 8);
		struct blk *b = NULL;
		struct verr err;
		CHECK(blk_open(p, BLK_FMT_AUTO, false, &b, &err) == 0, "%s: open: %s",
		      cases[i].name, err.msg);
		int r = blk_pread(b, buf, sizeof(buf), 0);
		int w = blk_pwrite(b, buf, 100, 10);
		blk_close(b);
		if (strcmp(cases[i].name, "l1e-header") && strcmp(cases[i].name, "l2e-compressed"))
			CHECK(r == -EIO && w == -EIO, "%s: read %d write %d", cases[i].name, r, w);
		else
			CHECK(r == 0 || r == -EIO, "%s: read %d", cases[i].name, r);
	}
	/* A refcount table entry pointing nowhere: allocation fails, nothing crashes. */
	const char *p = patched("refte", reft, 1ull << 42, 8);
	struct blk *b = NULL;
	struct verr err;
	CHECK(blk_open(p, BLK_FMT_AUTO, false, &b, &err) == 0, "refte open");
	CHECK(blk_pwrite(b, buf, 100, 10 << 20) == -EIO, "allocation with a bad refcount block");
	blk_close(b);
}

/* Damage 'n' random bytes of 'path' in [0, span), picking clusters of 'cs' bytes
 * and offsets within their first 'head' bytes (where tables keep their entries). */
static void fuzz_damage(const char *path, uint64_t span, uint64_t cs, uint64_t head)
{
	int fd = open(path, O_RDWR);
	int n = 1 + (int)(t_rand() % 6);
	for (int k = 0; k < n; k++) {
		uint64_t cl = t_rand() % (span / cs);
		uint64_t off = cl * cs + t_rand() % (cl == 0 ? 256 : head);
		uint8_t v = (uint8_t)t_rand();
		if (fd < 0 || pwrite(fd, &v, 1, (off_t)off) != 1)
			abort();
	}
	/* Often mark it dirty too, so opening rebuilds refcounts from the damage. */
	uint8_t dirty = 1;
	if (t_rand() % 3 == 0 && pwrite(fd, &dirty, 1, 79) != 1)
		abort();
	close(fd);
}

/* Whatever the damage, opening fails with a message or requests just fail. */
static int fuzz_one(const char *p, uint8_t *buf)
{
	struct blk *b = NULL;
	struct verr err = {{0}};
	if (blk_open(p, BLK_FMT_QCOW2, false, &b, &err) < 0)
		return err.msg[0] ? 0 : -1;
	uint64_t size = blk_size(b) < (8 << 20) ? blk_size(b) : (8 << 20);
	for (uint64_t off = 0; off + (1 << 20) <= size; off += 1 << 20)
		(void)blk_pread(b, buf, 1 << 20, off);
	(void)blk_pwrite(b, buf, 70000, 1000);
	(void)blk_pwrite(b, buf, 4096, 3 << 20);
	(void)blk_discard(b, 0, 1 << 20);
	(void)blk_write_zeroes(b, 1 << 20, 1 << 20, true);
	(void)blk_flush(b);
	blk_close(b);
	return 1;
}

static void corrupt_fuzz(void)
{
	/* A second seed: small clusters, 8-bit refcounts, compressed clusters. */
	const char *raw = tp("fuzz-seed.raw"), *seed2 = tp("fuzz-seed2.qcow2");
	CHECK(run("head -c 2000000 /dev/zero | tr '\\0' 'v' > '%s' && truncate -s 8M '%s' && "
		  "%s convert -c -f raw -O qcow2 -o cluster_size=4096,refcount_bits=8 '%s' '%s'",
		  raw, raw, t_qemu_img, raw, seed2) == 0,
	      "seed: %s", run_log());
	const struct {
		const char *seed;
		uint64_t span, cs, head;
	} seeds[] = {{good, 8 * 65536, 65536, 1024}, {seed2, 40 * 4096, 4096, 4096}};
	const char *p = tp("fuzz.qcow2");
	uint8_t *buf = malloc(1 << 20);
	t_seed(99);
	int iters = getenv("BLK_FUZZ_ITERS") ? atoi(getenv("BLK_FUZZ_ITERS")) : 200;
	for (size_t k = 0; k < 2; k++) {
		int opened = 0;
		for (int it = 0; it < iters; it++) {
			if (run("cp '%s' '%s'", seeds[k].seed, p) != 0)
				abort();
			fuzz_damage(p, seeds[k].span, seeds[k].cs, seeds[k].head);
			int r = fuzz_one(p, buf);
			CHECK(r >= 0, "open failed without a message");
			opened += r;
		}
		printf("fuzz: %d damaged images from seed %zu, %d opened\n", iters, k, opened);
	}
	free(buf);
}

void test_corrupt(void)
{
	snprintf(good, sizeof(good), "%s", tp("good.qcow2"));
	struct verr err = {{0}};
	CHECK(blk_create(good, BLK_FMT_QCOW2, 16 << 20, NULL, &err) == 0, "create");
	struct blk *b = NULL;
	CHECK(blk_open(good, BLK_FMT_AUTO, false, &b, &err) == 0, "open");
	uint8_t buf[70000];
	memset(buf, 0xc3, sizeof(buf));
	CHECK(blk_pwrite(b, buf, sizeof(buf), 0) == 0 &&
		  blk_pwrite(b, buf, sizeof(buf), 5 << 20) == 0,
	      "write");
	blk_close(b);
	corrupt_headers();
	corrupt_truncated();
	corrupt_backing();
	corrupt_tables();
	corrupt_fuzz();
}
