/* SPDX-License-Identifier: MIT */
/*
 * qcow2 reference counts and the cluster allocator.  Every host cluster in
 * use has a refcount; a free cluster has 0.  Refcount blocks hold
 * 2^refcount_order-bit counts and are found through the refcount table,
 * which grows (moves to the end of the file) when the image outgrows it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "util/log.h"

static bool q2_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

bool qcow2_host_range_ok(const struct qcow2 *s, uint64_t off, uint64_t len)
{
	uint64_t end = s->end_cluster << s->cluster_bits;
	if (off < s->cs || off > end || len > end - off)
		return false;
	if (q2_overlaps(off, len, s->l1_offset, (uint64_t)s->l1_size * 8))
		return false;
	return !q2_overlaps(off, len, s->reft_offset,
			    (uint64_t)s->reft_clusters << s->cluster_bits);
}

int qcow2_corrupt(struct qcow2 *s, const char *what)
{
	/* May run outside 'lock' (compressed reads): report once, atomically. */
	if (!__atomic_exchange_n(&s->corrupt_reported, true, __ATOMIC_RELAXED)) {
		log_warn("%s: corrupt qcow2 image: %s", s->path, what);
	}
	return -EIO;
}

static uint64_t rb_get(const struct qcow2 *s, const uint8_t *blk, uint64_t i)
{
	unsigned bits = 1u << s->refcount_order;
	if (bits < 8) {
		uint64_t bit = i * bits;
		return (blk[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
	}
	const uint8_t *p = blk + i * (bits / 8);
	switch (bits) {
	case 8:
		return p[0];
	case 16:
		return (uint64_t)p[0] << 8 | p[1];
	case 32:
		return q2_be32(p);
	default:
		return q2_be64(p);
	}
}

/* Store refcount 'v' at index i; returns the byte range that changed. */
static void rb_put(const struct qcow2 *s, uint8_t *blk, uint64_t i, uint64_t v, uint64_t *boff,
		   unsigned *blen)
{
	unsigned bits = 1u << s->refcount_order;
	if (bits < 8) {
		uint64_t bit = i * bits;
		uint8_t mask = (uint8_t)(((1u << bits) - 1) << (bit % 8));
		blk[bit / 8] = (uint8_t)((blk[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
		*boff = bit / 8;
		*blen = 1;
		return;
	}
	uint8_t *p = blk + i * (bits / 8);
	*boff = i * (bits / 8);
	*blen = bits / 8;
	for (int k = (int)(bits / 8) - 1; k >= 0; k--, v >>= 8)
		p[k] = (uint8_t)v;
}

void qcow2_rb_set(const struct qcow2 *s, uint8_t *blk, uint64_t i, uint64_t v)
{
	uint64_t boff;
	unsigned blen;
	rb_put(s, blk, i, v, &boff, &blen);
}

static bool rb_missing(const struct qcow2 *s, uint64_t ti)
{
	return ti >= s->reft_entries || s->reft[ti] == 0;
}

/* The refcount block covering table index 'ti' (which must exist). */
static int rb_load(struct qcow2 *s, uint64_t ti, uint8_t **blk, uint64_t *off)
{
	uint64_t e = s->reft[ti];
	if ((e & ~QCOW2_REFT_OFF_MASK) || !qcow2_host_range_ok(s, e, s->cs) || (e & (s->cs - 1)))
		return qcow2_corrupt(s, "invalid refcount block offset");
	*off = e;
	return qcache_get(s, &s->rb_cache, e, blk);
}

int qcow2_refcount_get(struct qcow2 *s, uint64_t cluster, uint64_t *rc)
{
	uint64_t ti = cluster / s->rb_entries;
	if (rb_missing(s, ti)) {
		*rc = 0;
		return 0;
	}
	uint8_t *blk;
	uint64_t off = 0;
	int r = rb_load(s, ti, &blk, &off);
	if (r < 0)
		return r;
	*rc = rb_get(s, blk, cluster % s->rb_entries);
	return 0;
}

/* Missing refcount blocks for table index 'need' and for new metadata placed at
 * clusters [p, end): the set the extension must create. */
static unsigned q2_ext_missing(struct qcow2 *s, uint64_t need, uint64_t p, uint64_t end,
			       uint64_t *set, unsigned max)
{
	unsigned n = 0;
	if (rb_missing(s, need))
		set[n++] = need;
	if (end == p)
		return n;
	for (uint64_t ti = p / s->rb_entries; ti <= (end - 1) / s->rb_entries && n < max; ti++)
		if (ti != need && rb_missing(s, ti))
			set[n++] = ti;
	return n;
}

static int q2_reft_write_entry(struct qcow2 *s, uint64_t ti)
{
	uint8_t be[8];
	q2_put64(be, s->reft[ti]);
	return blk_util_pwrite_full(s->fd, be, 8, s->reft_offset + ti * 8);
}

/* Write a refcount table of 'clusters' clusters at 'off' and point the header at it. */
static int q2_reft_replace(struct qcow2 *s, uint64_t *nt, uint64_t off, uint32_t clusters)
{
	uint64_t n = ((uint64_t)clusters << s->cluster_bits) / 8;
	uint8_t *be = malloc(n * 8);
	if (!be)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		q2_put64(be + i * 8, nt[i]);
	int r = blk_util_pwrite_full(s->fd, be, n * 8, off);
	free(be);
	/* The new table must be durable before the header points at it. */
	if (r == 0 && fdatasync(s->fd) < 0)
		r = -errno;
	uint8_t h[12];
	q2_put64(h, off);
	q2_put32(h + 8, clusters);
	if (r == 0)
		r = blk_util_pwrite_full(s->fd, h, sizeof(h), QCOW2_OFF_REFT_OFFSET);
	if (r == 0 && fdatasync(s->fd) < 0)
		r = -errno;
	if (r < 0)
		return r;
	uint64_t old_off = s->reft_offset, old_clusters = s->reft_clusters;
	free(s->reft);
	s->reft = nt;
	s->reft_offset = off;
	s->reft_clusters = clusters;
	s->reft_entries = n;
	/* The header no longer points at the old table: free it right away. */
	return qcow2_clusters_free_now(s, old_off, old_clusters << s->cluster_bits, false);
}

#define Q2_EXT_MAX 64

/* Layout of one extension: T new table clusters, then B new refcount blocks,
 * all at the end of the file, sized so that they also count themselves. */
static int q2_ext_plan(struct qcow2 *s, uint64_t need, uint64_t p, uint64_t *set, unsigned *nb,
		       uint64_t *nt)
{
	uint64_t t = 0, b = 0;
	for (int iter = 0; iter < 32; iter++) {
		uint64_t end = p + t + b;
		unsigned n = q2_ext_missing(s, need, p, end, set, Q2_EXT_MAX);
		if (n >= Q2_EXT_MAX)
			return -EFBIG;
		uint64_t max_ti = need;
		if (end > p && (end - 1) / s->rb_entries > max_ti)
			max_ti = (end - 1) / s->rb_entries;
		uint64_t t2 = 0;
		if (max_ti >= s->reft_entries) {
			uint64_t entries = max_ti + 1;
			if (entries < s->reft_entries * 2)
				entries = s->reft_entries * 2;
			t2 = (entries * 8 + s->cs - 1) >> s->cluster_bits;
			if ((t2 << s->cluster_bits) > QCOW2_MAX_REFT_BYTES)
				return -EFBIG;
		}
		if (t2 == t && n == b) {
			*nb = n;
			*nt = t;
			return 0;
		}
		t = t2;
		b = n;
	}
	return -EIO;
}

static int q2_ext_write_blocks(struct qcow2 *s, uint64_t p, uint64_t t, const uint64_t *set,
			       unsigned nb)
{
	uint8_t *buf = malloc(s->cs);
	if (!buf)
		return -ENOMEM;
	int r = 0;
	uint64_t end = p + t + nb;
	for (unsigned j = 0; j < nb && r == 0; j++) {
		memset(buf, 0, s->cs);
		for (uint64_t c = p; c < end; c++) {
			uint64_t boff;
			unsigned blen;
			if (c / s->rb_entries == set[j])
				rb_put(s, buf, c % s->rb_entries, 1, &boff, &blen);
		}
		uint64_t off = (p + t + j) << s->cluster_bits;
		qcache_drop(&s->rb_cache, off);
		r = blk_util_pwrite_full(s->fd, buf, s->cs, off);
	}
	free(buf);
	return r;
}

static int q2_refcount_extend(struct qcow2 *s, uint64_t need)
{
	uint64_t set[Q2_EXT_MAX];
	unsigned nb;
	uint64_t t;
	uint64_t p = s->end_cluster;
	int r = q2_ext_plan(s, need, p, set, &nb, &t);
	if (r < 0)
		return r == -EFBIG ? -EFBIG : qcow2_corrupt(s, "refcount table layout");
	uint64_t end = p + t + nb;
	s->end_cluster = end;
	if ((r = q2_ext_write_blocks(s, p, t, set, nb)) < 0)
		return r;
	/* New blocks must be durable before the table points at them. */
	if (fdatasync(s->fd) < 0)
		return -errno;
	if (t == 0) {
		for (unsigned j = 0; j < nb && r == 0; j++) {
			s->reft[set[j]] = (p + j) << s->cluster_bits;
			r = q2_reft_write_entry(s, set[j]);
		}
	} else {
		uint64_t n = (t << s->cluster_bits) / 8;
		uint64_t *nt = calloc(n, 8);
		if (!nt)
			return -ENOMEM;
		memcpy(nt, s->reft, s->reft_entries * 8);
		for (unsigned j = 0; j < nb; j++)
			nt[set[j]] = (p + t + j) << s->cluster_bits;
		r = q2_reft_replace(s, nt, p << s->cluster_bits, (uint32_t)t);
		if (r < 0) {
			free(nt);
			return r;
		}
	}
	/* New metadata that falls under refcount blocks that already existed. */
	for (uint64_t c = p; c < end && r == 0; c++) {
		bool fresh = false;
		for (unsigned j = 0; j < nb; j++)
			fresh |= c / s->rb_entries == set[j];
		if (!fresh)
			r = qcow2_refcount_add(s, c, 1);
	}
	return r;
}

int qcow2_refcount_add(struct qcow2 *s, uint64_t cluster, int delta)
{
	uint64_t ti = cluster / s->rb_entries;
	if (rb_missing(s, ti)) {
		if (delta < 0)
			return qcow2_corrupt(s, "freeing a cluster whose refcount is 0");
		int r = q2_refcount_extend(s, ti);
		if (r < 0)
			return r;
	}
	uint8_t *blk;
	uint64_t off = 0;
	int r = rb_load(s, ti, &blk, &off);
	if (r < 0)
		return r;
	uint64_t i = cluster % s->rb_entries;
	uint64_t v = rb_get(s, blk, i);
	if (delta < 0 && v == 0)
		return qcow2_corrupt(s, "freeing a cluster whose refcount is 0");
	if (delta > 0 && v == s->refcount_max)
		return -ERANGE;
	v = delta < 0 ? v - 1 : v + 1;
	uint64_t boff;
	unsigned blen;
	rb_put(s, blk, i, v, &boff, &blen);
	qcache_dirty(&s->rb_cache, off);
	if (v == 0 && cluster < s->free_hint)
		s->free_hint = cluster;
	return 0;
}

/* First cluster at or above the hint with refcount 0 (end of file if none). */
static int q2_find_free(struct qcow2 *s, uint64_t *out)
{
	uint64_t c = s->free_hint < 1 ? 1 : s->free_hint;
	while (c < s->end_cluster) {
		uint64_t ti = c / s->rb_entries;
		if (rb_missing(s, ti))
			break;
		uint8_t *blk;
		uint64_t off = 0;
		int r = rb_load(s, ti, &blk, &off);
		if (r < 0)
			return r;
		uint64_t stop = (ti + 1) * s->rb_entries;
		for (; c < stop && c < s->end_cluster; c++)
			if (rb_get(s, blk, c % s->rb_entries) == 0)
				goto found;
	}
found:
	*out = c < s->end_cluster ? c : s->end_cluster;
	return 0;
}

int qcow2_cluster_alloc(struct qcow2 *s, uint64_t *off)
{
	uint64_t c;
	int r = q2_find_free(s, &c);
	if (r < 0)
		return r;
	if (c >= (1ull << (56 - s->cluster_bits)))
		return -EFBIG;
	if (c == s->end_cluster)
		s->end_cluster++;
	s->free_hint = c + 1;
	r = qcow2_refcount_add(s, c, 1);
	if (r < 0)
		return r;
	*off = c << s->cluster_bits;
	return 0;
}

int qcow2_clusters_free_now(struct qcow2 *s, uint64_t off, uint64_t len, bool punch)
{
	if (!len)
		return 0;
	uint64_t first = off >> s->cluster_bits, last = (off + len - 1) >> s->cluster_bits;
	for (uint64_t c = first; c <= last; c++) {
		int r = qcow2_refcount_add(s, c, -1);
		if (r < 0)
			return r;
		uint64_t rc;
		if (punch && qcow2_refcount_get(s, c, &rc) == 0 && rc == 0)
			fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  (off_t)(c << s->cluster_bits), (off_t)s->cs);
	}
	return 0;
}

int qcow2_clusters_free(struct qcow2 *s, uint64_t off, uint64_t len, bool punch)
{
	if (!len)
		return 0;
	if (s->npending) {
		struct q2_free *last = &s->pending[s->npending - 1];
		if (last->off + last->len == off && last->punch == punch) {
			last->len += len;
			return 0;
		}
	}
	if (s->npending == s->cap_pending) {
		size_t cap = s->cap_pending ? s->cap_pending * 2 : 64;
		struct q2_free *p = realloc(s->pending, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->pending = p;
		s->cap_pending = cap;
	}
	s->pending[s->npending++] = (struct q2_free){.off = off, .len = len, .punch = punch};
	return 0;
}
