/* SPDX-License-Identifier: MIT */
/*
 * Disks in live migration, without a guest (suite 'unit', run under ASan):
 * the handover of a qcow2 image between two openers (the write lock moves
 * with it, metadata is read afresh), write tracking in the block layer, and
 * the disk messages of the stream: a copy through a socket pair of a disk
 * written meanwhile ends identical, hostile entries are refused before
 * anything is written.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zstd.h>

#include "block/block.h"
#include "snapshot/migrate_disk.h"
#include "util/log.h"

#include "../check.h"

#define MIB (1u << 20)

static char dir[] = "/tmp/vessel-migdisk-XXXXXX";

static void path_of(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static struct blk *open_rw(const char *path)
{
	struct blk *b = NULL;
	struct verr err = {{0}};
	if (blk_open(path, BLK_FMT_AUTO, false, &b, &err))
		fprintf(stderr, "open %s: %s\n", path, err.msg);
	return b;
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

/* Two processes' worth of openers of one image: only the active one writes. */
static void test_handover(void)
{
	char img[256];
	path_of(img, sizeof(img), "shared.qcow2");
	struct verr err = {{0}};
	CHECK(blk_create(img, BLK_FMT_QCOW2, 8 * MIB, NULL, &err) == 0);
	struct blk *src = open_rw(img);
	CHECK(src && blk_is_active(src));
	struct blk *dst = NULL;
	CHECK(blk_open(img, BLK_FMT_AUTO, false, &dst, &err) == -EWOULDBLOCK);
	CHECK(blk_open_inactive(img, BLK_FMT_AUTO, false, &dst, &err) == 0);
	CHECK(dst && !blk_is_active(dst) && blk_size(dst) == 8 * MIB);
	uint8_t buf[4096], back[4096];
	CHECK(blk_pread(dst, back, sizeof(back), 0) == -EIO);
	CHECK(blk_pwrite(dst, back, sizeof(back), 0) == -EIO);
	CHECK(blk_activate(dst, &err) == -EWOULDBLOCK); /* the source still has it */

	/* The source allocates clusters (new L2 tables) after the destination opened. */
	fill(buf, sizeof(buf), 1);
	CHECK(blk_pwrite(src, buf, sizeof(buf), 3 * MIB) == 0);
	CHECK(blk_inactivate(src) == 0 && !blk_is_active(src));
	CHECK(blk_pread(src, back, sizeof(back), 3 * MIB) == -EIO);
	CHECK(blk_activate(dst, &err) == 0 && blk_is_active(dst));
	CHECK(blk_pread(dst, back, sizeof(back), 3 * MIB) == 0 && !memcmp(buf, back, 4096));
	/* The destination writes; the source cannot take it back meanwhile. */
	fill(buf, sizeof(buf), 2);
	CHECK(blk_pwrite(dst, buf, sizeof(buf), 5 * MIB) == 0);
	CHECK(blk_activate(src, &err) == -EWOULDBLOCK && strstr(err.msg, "elsewhere"));
	CHECK(blk_inactivate(dst) == 0);
	CHECK(blk_activate(src, &err) == 0);
	CHECK(blk_pread(src, back, sizeof(back), 5 * MIB) == 0 && !memcmp(buf, back, 4096));
	blk_close(src);
	blk_close(dst);

	/* An image whose size changed while it was handed over is refused. */
	char raw[256];
	path_of(raw, sizeof(raw), "shared.raw");
	CHECK(blk_create(raw, BLK_FMT_RAW, MIB, NULL, &err) == 0);
	struct blk *r = open_rw(raw);
	CHECK(r && blk_inactivate(r) == 0);
	CHECK(truncate(raw, 2 * MIB) == 0);
	CHECK(blk_activate(r, &err) == -EINVAL && strstr(err.msg, "size"));
	blk_close(r);
}

static unsigned bits(const uint64_t *bm, size_t words)
{
	unsigned n = 0;
	for (size_t i = 0; i < words; i++)
		n += (unsigned)__builtin_popcountll(bm[i]);
	return n;
}

static void test_dirty(void)
{
	char img[256];
	path_of(img, sizeof(img), "dirty.raw");
	struct verr err = {{0}};
	CHECK(blk_create(img, BLK_FMT_RAW, 4 * MIB + 512, NULL, &err) == 0);
	struct blk *b = open_rw(img);
	CHECK(blk_dirty_chunks(b) == 65 && blk_dirty_words(b) == 2);
	uint64_t bm[2];
	uint8_t buf[8192] = {1};
	CHECK(blk_pwrite(b, buf, 512, 0) == 0); /* not tracked yet */
	CHECK(blk_dirty_start(b) == 0);
	blk_dirty_fetch(b, bm);
	CHECK(bits(bm, 2) == 0);
	CHECK(blk_pwrite(b, buf, 8192, 65536 - 4096) == 0); /* chunks 0 and 1 */
	CHECK(blk_discard(b, 10 * 65536, 65536) == 0);
	CHECK(blk_write_zeroes(b, 4 * MIB, 512, false) == 0); /* the short last chunk */
	CHECK(blk_pread(b, buf, 512, 20 * 65536) == 0);	      /* reads are not writes */
	blk_dirty_fetch(b, bm);
	CHECK(bm[0] == (1ull | 2ull | 1ull << 10) && bm[1] == 1ull);
	blk_dirty_fetch(b, bm);
	CHECK(bits(bm, 2) == 0);
	blk_dirty_stop(b);
	CHECK(blk_pwrite(b, buf, 512, 0) == 0);
	CHECK(blk_dirty_start(b) == 0); /* starts empty again */
	blk_dirty_fetch(b, bm);
	CHECK(bits(bm, 2) == 0);
	/* What the first pass need not read: holes (raw), unallocated clusters (qcow2). */
	CHECK(blk_is_zero(b, 2 * MIB, 65536) == 1);
	CHECK(blk_is_zero(b, 0, 65536) == 0);
	CHECK(blk_is_zero(b, 4 * MIB, 1024) == -EINVAL);
	blk_close(b);
	char q[256];
	path_of(q, sizeof(q), "zero.qcow2");
	CHECK(blk_create(q, BLK_FMT_QCOW2, 4 * MIB, NULL, &err) == 0);
	b = open_rw(q);
	CHECK(blk_is_zero(b, 0, 4 * MIB) == 1);
	CHECK(blk_pwrite(b, buf, 512, MIB + 512) == 0);
	CHECK(blk_is_zero(b, 0, MIB) == 1 && blk_is_zero(b, MIB, 65536) == 0);
	CHECK(blk_is_zero(b, 0, 4 * MIB) == 0);
	CHECK(blk_write_zeroes(b, MIB, 65536, false) == 0); /* a zero cluster */
	CHECK(blk_is_zero(b, 0, 4 * MIB) == 1);
	blk_close(b);
}

/* Read one message from the socket: type, payload (malloc'ed). */
static int read_msg(int fd, uint32_t *type, uint8_t **data, uint32_t *len)
{
	uint32_t h[4];
	if (recv(fd, h, sizeof(h), MSG_WAITALL) != sizeof(h))
		return -1;
	*type = h[0];
	*len = h[1];
	*data = malloc(h[1] ? h[1] : 1);
	if (h[1] && recv(fd, *data, h[1], MSG_WAITALL) != (ssize_t)h[1])
		return -1;
	return 0;
}

struct receiver {
	pthread_t thread;
	struct migdisk *dst;
	int fd;
	int r;
};

/* The destination's side: DISKS/DISK messages applied until an empty message of type 0. */
static void *receive_disks(void *arg)
{
	struct receiver *rc = arg;
	struct verr err = {{0}};
	for (;;) {
		uint32_t type, len;
		uint8_t *data;
		if (read_msg(rc->fd, &type, &data, &len)) {
			rc->r = -EIO;
			return NULL;
		}
		int r = type == MIG_DISKS  ? migdisk_dst_info(rc->dst, data, len, &err)
			: type == MIG_DISK ? migdisk_dst_apply(rc->dst, data, len, &err)
					   : 0;
		free(data);
		if (r)
			fprintf(stderr, "apply: %s\n", err.msg);
		if (r || type == 0) {
			rc->r = r;
			return NULL;
		}
	}
}

/* Send what is pending and wait until the destination has applied it. */
static int send_round(struct migdisk *src, struct migdisk *dst, int sv[2])
{
	struct receiver rc = {.dst = dst, .fd = sv[1]};
	struct verr err = {{0}};
	if (pthread_create(&rc.thread, NULL, receive_disks, &rc))
		return -1;
	int r = migdisk_send_pending(src, sv[0], &err);
	if (!r)
		r = mig_send_msg(sv[0], 0, "", 0, &err);
	pthread_join(rc.thread, NULL);
	return r ? r : rc.r;
}

/* Source to destination through a socket pair, with writes between the rounds. */
static void test_copy(void)
{
	char a[256], b[256];
	path_of(a, sizeof(a), "a.qcow2");
	path_of(b, sizeof(b), "b.qcow2");
	struct verr err = {{0}};
	CHECK(blk_create(a, BLK_FMT_QCOW2, 4 * MIB, NULL, &err) == 0);
	CHECK(blk_create(b, BLK_FMT_QCOW2, 4 * MIB, NULL, &err) == 0);
	struct blk *sa = open_rw(a), *db = open_rw(b);
	static uint8_t buf[MIB], back[MIB];
	fill(buf, MIB, 3);
	CHECK(blk_pwrite(sa, buf, MIB, MIB) == 0);
	/* Stale data on the destination where the source's disk reads as zeros. */
	CHECK(blk_pwrite(db, buf, 65536, 3 * MIB) == 0);
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	struct migdisk src, dst;
	CHECK(migdisk_src_init(&src, &sa, 1, &err) == 0);
	CHECK(migdisk_dst_init(&dst, &db, 1, &err) == 0);
	CHECK(migdisk_send_info(&src, sv[0], &err) == 0);
	CHECK(migdisk_fetch(&src) == 64); /* all of it, the first time */
	CHECK(send_round(&src, &dst, sv) == 0);
	/* Writes after the first pass: only those chunks go again. */
	fill(buf, 4096, 4);
	CHECK(blk_pwrite(sa, buf, 4096, 2 * MIB + 100 * 512) == 0);
	CHECK(blk_write_zeroes(sa, MIB, 65536, true) == 0);
	CHECK(migdisk_fetch(&src) == 2);
	uint64_t sent = src.chunks_sent;
	CHECK(send_round(&src, &dst, sv) == 0);
	CHECK(src.chunks_sent == sent + 2);
	CHECK(migdisk_fetch(&src) == 0);
	CHECK(migdisk_dst_flush(&dst, &err) == 0);
	for (uint64_t off = 0; off < 4 * MIB; off += MIB) {
		CHECK(blk_pread(sa, buf, MIB, off) == 0);
		CHECK(blk_pread(db, back, MIB, off) == 0);
		CHECK(!memcmp(buf, back, MIB));
	}
	migdisk_src_end(&src);

	/* Hostile entries: refused, nothing written. */
	struct entry {
		uint64_t offset;
		uint32_t disk, len, clen, zero;
	};
	struct {
		struct entry e;
		size_t datalen;
		const char *expect;
	} bad[] = {
	    {{4 * MIB, 0, 65536, 0, 0}, 0, "not on the disk"},
	    {{UINT64_MAX - 65535, 0, 65536, 0, 0}, 0, "not on the disk"},
	    {{0, 0, 131072, 0, 0}, 0, "not on the disk"},
	    {{0, 0, 0, 0, 0}, 0, "not on the disk"},
	    {{512, 0, 65536, 0, 0}, 0, "bad disk entry"},
	    {{0, 1, 65536, 0, 0}, 0, "bad disk entry"},
	    {{0, 0, 65536, 0, 1}, 0, "bad disk entry"},
	    {{0, 0, 65536, 65537, 0}, 65537, "length"},
	    {{0, 0, 65536, 100, 0}, 50, "length"},
	    {{0, 0, 65536, 100, 0}, 100, "compressed"},
	};
	static uint8_t msg[sizeof(struct entry) + 70000];
	memset(msg + sizeof(struct entry), 0x77, 70000);
	CHECK(blk_pread(db, back, 65536, 0) == 0);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(msg, &bad[i].e, sizeof(bad[i].e));
		struct verr e2 = {{0}};
		int r = migdisk_dst_apply(&dst, msg, sizeof(struct entry) + bad[i].datalen, &e2);
		CHECK(r == -EINVAL && strstr(e2.msg, bad[i].expect));
		if (!strstr(e2.msg, bad[i].expect))
			fprintf(stderr, "case %u: %s\n", i, e2.msg);
	}
	CHECK(blk_pread(db, buf, 65536, 0) == 0 && !memcmp(buf, back, 65536));
	/* A short entry header, a DISKS message that does not fit. */
	CHECK(migdisk_dst_apply(&dst, msg, 10, &err) == -EINVAL);
	uint8_t info[16] = {1, 0, 0, 0, 0, 0, 1, 0};
	CHECK(migdisk_dst_info(&dst, info, sizeof(info), &err) == -EINVAL);
	CHECK(migdisk_dst_info(&dst, info, 7, &err) == -EINVAL);
	migdisk_dst_end(&dst);
	/* Disk data before DISKS. */
	CHECK(migdisk_dst_init(&dst, &db, 1, &err) == 0);
	struct entry ok = {0, 0, 65536, 0, 0};
	memcpy(msg, &ok, sizeof(ok));
	CHECK(migdisk_dst_apply(&dst, msg, sizeof(ok), &err) == -EINVAL &&
	      strstr(err.msg, "before DISKS"));
	migdisk_dst_end(&dst);
	close(sv[0]);
	close(sv[1]);
	blk_close(sa);
	blk_close(db);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_handover();
	test_dirty();
	test_copy();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	else
		printf("migrate-disk: ok\n");
	return failures ? 1 : 0;
}
