/* SPDX-License-Identifier: MIT */
/*
 * Repairing a dirty qcow2 image (incompatible bit 0: written with lazy
 * refcounts and not closed cleanly).  The mappings are right, the refcounts
 * may not be.  We count every reference the active L1 table leads to (the
 * header, L1, L2 tables, data and compressed clusters), write a complete new
 * refcount table and blocks at the end of the file, point the header at them
 * and clear the dirty bit.  The old refcount structures are simply no longer
 * referenced, so they count as free space.  Images with snapshots or bitmaps
 * are not repaired (their other tables would need counting too).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "util/log.h"

struct q2_counts {
	uint32_t *c;
	uint64_t n; /* clusters in the file */
};

static int q2_count(struct q2_counts *k, const struct qcow2 *s, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	uint64_t first = off >> s->cluster_bits, last = (off + len - 1) >> s->cluster_bits;
	if (last >= k->n || last < first)
		return -EIO;
	for (uint64_t c = first; c <= last; c++)
		if (++k->c[c] == 0)
			return -EIO;
	return 0;
}

static int q2_count_l2(struct q2_counts *k, struct qcow2 *s, const uint8_t *tbl)
{
	for (uint64_t i = 0; i < (1ull << s->l2_bits); i++) {
		uint64_t e = q2_be64(tbl + i * 8);
		enum q2_kind kind;
		if (qcow2_entry_classify(s, e, &kind) < 0)
			return -EIO;
		int r = 0;
		if (kind == Q2_COMPRESSED) {
			uint64_t off, len;
			qcow2_compressed_range(s, e, &off, &len);
			r = q2_count(k, s, off & ~511ull, len + (off & 511));
		} else if (e & QCOW2_OFF_MASK) {
			r = q2_count(k, s, e & QCOW2_OFF_MASK, s->cs);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int q2_count_all(struct q2_counts *k, struct qcow2 *s)
{
	int r = q2_count(k, s, 0, s->cs); /* header */
	if (r == 0)
		r = q2_count(k, s, s->l1_offset, (uint64_t)s->l1_size * 8);
	uint8_t *tbl = malloc(s->cs);
	if (!tbl)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->l1_size && r == 0; i++) {
		uint64_t e = s->l1[i], off = e & QCOW2_OFF_MASK;
		if (!off)
			continue;
		if ((e & QCOW2_L1_RESERVED) || (off & (s->cs - 1)) ||
		    !qcow2_host_range_ok(s, off, s->cs)) {
			r = -EIO;
			break;
		}
		r = q2_count(k, s, off, s->cs);
		if (r == 0)
			r = blk_util_pread_full(s->fd, tbl, s->cs, off);
		if (r == 0)
			r = q2_count_l2(k, s, tbl);
	}
	free(tbl);
	return r;
}

/* New table (t clusters) and blocks (b) at cluster p, counting themselves. */
static int q2_repair_layout(const struct qcow2 *s, uint64_t p, uint64_t *t, uint64_t *b)
{
	*t = 1;
	*b = 1;
	for (int i = 0; i < 64; i++) {
		uint64_t end = p + *t + *b;
		uint64_t nb = (end + s->rb_entries - 1) / s->rb_entries;
		uint64_t nt = (nb * 8 + s->cs - 1) >> s->cluster_bits;
		if (nb == *b && nt == *t)
			return (nt << s->cluster_bits) > QCOW2_MAX_REFT_BYTES ? -EFBIG : 0;
		*b = nb;
		*t = nt;
	}
	return -EIO;
}

static uint64_t q2_repair_count(const struct q2_counts *k, uint64_t c, uint64_t p, uint64_t end)
{
	if (c < k->n)
		return k->c[c];
	return c >= p && c < end ? 1 : 0;
}

static int q2_repair_write(struct qcow2 *s, const struct q2_counts *k, uint64_t p, uint64_t t,
			   uint64_t b, uint64_t *table)
{
	uint8_t *buf = malloc(s->cs);
	if (!buf)
		return -ENOMEM;
	int r = 0;
	uint64_t end = p + t + b;
	for (uint64_t j = 0; j < b && r == 0; j++) {
		memset(buf, 0, s->cs);
		for (uint64_t i = 0; i < s->rb_entries; i++) {
			uint64_t v = q2_repair_count(k, j * s->rb_entries + i, p, end);
			if (v > s->refcount_max)
				r = -ERANGE;
			else if (v)
				qcow2_rb_set(s, buf, i, v);
		}
		table[j] = (p + t + j) << s->cluster_bits;
		if (r == 0)
			r = blk_util_pwrite_full(s->fd, buf, s->cs, table[j]);
	}
	free(buf);
	if (r < 0)
		return r;
	uint64_t n = (t << s->cluster_bits) / 8;
	uint8_t *be = calloc(n, 8);
	if (!be)
		return -ENOMEM;
	for (uint64_t j = 0; j < b; j++)
		q2_put64(be + j * 8, table[j]);
	r = blk_util_pwrite_full(s->fd, be, n * 8, p << s->cluster_bits);
	free(be);
	return r;
}

/* Point the header at the new table and clear the dirty bit, durably. */
static int q2_repair_commit(struct qcow2 *s, uint64_t p, uint64_t t)
{
	if (fdatasync(s->fd) < 0)
		return -errno;
	uint8_t h[12], inc[8];
	q2_put64(h, p << s->cluster_bits);
	q2_put32(h + 8, (uint32_t)t);
	q2_put64(inc, s->incompat & ~QCOW2_INCOMPAT_DIRTY);
	int r = blk_util_pwrite_full(s->fd, h, sizeof(h), QCOW2_OFF_REFT_OFFSET);
	if (r == 0 && fdatasync(s->fd) < 0)
		r = -errno;
	if (r == 0)
		r = blk_util_pwrite_full(s->fd, inc, sizeof(inc), QCOW2_OFF_INCOMPAT);
	if (r == 0 && fdatasync(s->fd) < 0)
		r = -errno;
	return r;
}

/* Counting needs 4 bytes of memory per cluster of the file: cap it. */
#define Q2_REPAIR_MAX_CLUSTERS (1ull << 27)

int qcow2_repair(struct qcow2 *s, struct verr *err)
{
	if (s->end_cluster > Q2_REPAIR_MAX_CLUSTERS)
		return verr_set(err, EFBIG,
				"%s: image is dirty and too large to repair here; use "
				"'qemu-img check -r all'",
				s->path);
	struct q2_counts k = {.n = s->end_cluster};
	k.c = calloc(k.n ? k.n : 1, sizeof(*k.c));
	if (!k.c)
		return verr_set(err, ENOMEM, "%s: out of memory repairing refcounts", s->path);
	uint64_t p = s->end_cluster, t = 0, b = 0;
	uint64_t *table = NULL;
	int r = q2_count_all(&k, s);
	if (r == 0)
		r = q2_repair_layout(s, p, &t, &b);
	if (r == 0) {
		table = calloc((t << s->cluster_bits) / 8, 8);
		r = table ? q2_repair_write(s, &k, p, t, b, table) : -ENOMEM;
	}
	if (r == 0)
		r = q2_repair_commit(s, p, t);
	free(k.c);
	if (r < 0) {
		free(table);
		return verr_set(err, r,
				"%s: image is dirty and its refcounts cannot be rebuilt (%s); try "
				"'qemu-img check -r all'",
				s->path, r == -EIO ? "inconsistent tables" : strerror(-r));
	}
	free(s->reft);
	s->reft = table;
	s->reft_offset = p << s->cluster_bits;
	s->reft_clusters = (uint32_t)t;
	s->reft_entries = (t << s->cluster_bits) / 8;
	s->end_cluster = p + t + b;
	s->incompat &= ~QCOW2_INCOMPAT_DIRTY;
	log_warn("%s: image was not closed cleanly; refcounts rebuilt", s->path);
	return 0;
}
