/* SPDX-License-Identifier: MIT */
/*
 * Block layer throughput: sequential write (allocating), rewrite, sequential
 * read, random 4 KiB reads and writes, through blk_*.  Not a test: numbers for
 * notes/block.md.
 *
 * usage: blk_bench PATH raw|qcow2 SIZE_MIB [BLOCK_KIB]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "block/block.h"
#include "util/log.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int seq(struct blk *b, uint8_t *buf, size_t bs, uint64_t total, bool wr)
{
	for (uint64_t off = 0; off < total; off += bs) {
		int r = wr ? blk_pwrite(b, buf, bs, off) : blk_pread(b, buf, bs, off);
		if (r < 0)
			return r;
	}
	return wr ? blk_flush(b) : 0;
}

static int rnd(struct blk *b, uint8_t *buf, uint64_t total, int n, bool wr)
{
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t off = (x % (total / 4096)) * 4096;
		int r = wr ? blk_pwrite(b, buf, 4096, off) : blk_pread(b, buf, 4096, off);
		if (r < 0)
			return r;
	}
	return wr ? blk_flush(b) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s PATH raw|qcow2 SIZE_MIB [BLOCK_KIB]\n", argv[0]);
		return 2;
	}
	enum blk_format fmt;
	if (blk_format_parse(argv[2], &fmt) < 0)
		return 2;
	uint64_t total = strtoull(argv[3], NULL, 0) << 20;
	size_t bs = (argc > 4 ? strtoul(argv[4], NULL, 0) : 1024) << 10;
	struct verr err;
	struct blk *b;
	if (blk_create(argv[1], fmt, total, NULL, &err) < 0 ||
	    blk_open(argv[1], fmt, false, &b, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	uint8_t *buf = malloc(bs);
	for (size_t i = 0; i < bs; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	const char *names[] = {"write (allocating)", "rewrite", "read"};
	for (int pass = 0; pass < 3; pass++) {
		double t = now();
		if (seq(b, buf, bs, total, pass < 2) < 0)
			return 1;
		t = now() - t;
		printf("%-6s seq %-19s %8.0f MB/s\n", argv[2], names[pass],
		       (double)total / t / 1e6);
	}
	const int n = 20000;
	for (int wr = 0; wr < 2; wr++) {
		double t = now();
		if (rnd(b, buf, total, n, wr) < 0)
			return 1;
		t = now() - t;
		printf("%-6s random 4K %-10s %8.0f IOPS\n", argv[2], wr ? "write" : "read", n / t);
	}
	blk_close(b);
	free(buf);
	unlink(argv[1]);
	return 0;
}
