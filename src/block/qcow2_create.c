/* SPDX-License-Identifier: MIT */
/*
 * Creating an empty qcow2 v3 image: header (+ backing format extension and
 * backing file name) in cluster 0, then the refcount table, the refcount
 * blocks and the L1 table, each cluster aligned.  Nothing else is allocated:
 * data clusters and L2 tables come with the first write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "util/log.h"

#define Q2_CREATE_CLUSTER_BITS	 16 /* 64 KiB, as qemu-img */
#define Q2_CREATE_HEADER_LEN	 112
#define Q2_CREATE_REFCOUNT_ORDER 4 /* 16-bit refcounts, as qemu-img */

struct q2_layout {
	uint64_t cs, l1_size, t, b, l, total; /* clusters of table, blocks, L1; total */
};

static int q2_layout(uint64_t size, unsigned cbits, struct q2_layout *lay)
{
	uint64_t cs = 1ull << cbits;
	uint64_t per_l1 = cs * (cs / 8);
	lay->cs = cs;
	lay->l1_size = size / per_l1 + (size % per_l1 != 0);
	if (lay->l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return -EFBIG;
	lay->l = (lay->l1_size * 8 + cs - 1) / cs;
	uint64_t rbe = cs * 8 / 16;
	lay->t = 1;
	lay->b = 1;
	for (;;) {
		uint64_t total = 1 + lay->t + lay->b + lay->l;
		uint64_t b = (total + rbe - 1) / rbe;
		uint64_t t = (b * 8 + cs - 1) / cs;
		if (b == lay->b && t == lay->t) {
			lay->total = total;
			return 0;
		}
		lay->b = b;
		lay->t = t;
	}
}

/* Cluster 0: header, extensions, backing file name. */
static int q2_create_header(uint8_t *h, const struct q2_layout *lay, uint64_t size,
			    const char *backing, const char *bfmt)
{
	memcpy(h, QCOW2_MAGIC_BYTES, 4);
	q2_put32(h + 4, 3);
	q2_put32(h + 20, Q2_CREATE_CLUSTER_BITS);
	q2_put64(h + 24, size);
	q2_put32(h + 36, (uint32_t)lay->l1_size);
	q2_put64(h + 40, (1 + lay->t + lay->b) * lay->cs);
	q2_put64(h + 48, lay->cs);
	q2_put32(h + 56, (uint32_t)lay->t);
	q2_put32(h + 96, Q2_CREATE_REFCOUNT_ORDER);
	q2_put32(h + 100, Q2_CREATE_HEADER_LEN);
	uint64_t off = Q2_CREATE_HEADER_LEN;
	if (backing) {
		size_t flen = strlen(bfmt);
		q2_put32(h + off, QCOW2_EXT_BACKING_FMT);
		q2_put32(h + off + 4, (uint32_t)flen);
		memcpy(h + off + 8, bfmt, flen);
		off += 8 + ((flen + 7) & ~(size_t)7);
	}
	off += 8; /* end of extensions: type 0, length 0 */
	if (backing) {
		size_t blen = strlen(backing);
		if (off + blen > lay->cs)
			return -ENAMETOOLONG;
		memcpy(h + off, backing, blen);
		q2_put64(h + 8, off);
		q2_put32(h + 16, (uint32_t)blen);
	}
	return 0;
}

/* Refcount table and blocks: every cluster of the new file has refcount 1. */
static void q2_create_refcounts(uint8_t *t, uint8_t *blocks, const struct q2_layout *lay)
{
	for (uint64_t j = 0; j < lay->b; j++)
		q2_put64(t + j * 8, (1 + lay->t + j) * lay->cs);
	for (uint64_t c = 0; c < lay->total; c++) {
		blocks[c * 2] = 0;
		blocks[c * 2 + 1] = 1;
	}
}

int qcow2_create(int fd, uint64_t size, const char *backing, const char *backing_fmt,
		 struct verr *err)
{
	struct q2_layout lay;
	if (size > (1ull << 56) || q2_layout(size, Q2_CREATE_CLUSTER_BITS, &lay) < 0)
		return verr_set(err, EFBIG, "size too large for a qcow2 image");
	uint64_t meta = (1 + lay.t + lay.b) * lay.cs;
	uint8_t *buf = calloc(1, meta);
	if (!buf)
		return verr_set(err, ENOMEM, "out of memory");
	int r = q2_create_header(buf, &lay, size, backing, backing_fmt);
	if (r < 0) {
		free(buf);
		return verr_set(err, r, "backing file name too long");
	}
	q2_create_refcounts(buf + lay.cs, buf + (1 + lay.t) * lay.cs, &lay);
	/* The L1 table is all zeros: extending the file provides it. */
	if (ftruncate(fd, (off_t)(lay.total * lay.cs)) < 0)
		r = -errno;
	else
		r = blk_util_pwrite_full(fd, buf, meta, 0);
	free(buf);
	if (r < 0)
		return verr_set(err, r, "writing the image: %s", strerror(-r));
	return 0;
}
