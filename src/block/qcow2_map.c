/* SPDX-License-Identifier: MIT */
/* qcow2 guest-to-host mapping: the L1 table and the L2 tables it points to. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"

int qcow2_entry_classify(const struct qcow2 *s, uint64_t e, enum q2_kind *kind)
{
	if (e & QCOW2_COMPRESSED) {
		*kind = Q2_COMPRESSED;
		return (e & QCOW2_COPIED) ? -EIO : 0;
	}
	if (e & QCOW2_L2_RESERVED)
		return -EIO;
	uint64_t host = e & QCOW2_OFF_MASK;
	if (s->version >= 3 && (e & QCOW2_ZERO))
		*kind = Q2_ZERO;
	else if (!host)
		*kind = Q2_UNALLOC;
	else
		*kind = Q2_NORMAL;
	if (host && ((host & (s->cs - 1)) || !qcow2_host_range_ok(s, host, s->cs)))
		return -EIO;
	return 0;
}

/* L1 entries are written back with the L2 tables (qcow2_meta_flush). */
void qcow2_l1_dirty(struct qcow2 *s, uint64_t l1i)
{
	if (s->l1_dirty_lo == s->l1_dirty_hi) {
		s->l1_dirty_lo = l1i;
		s->l1_dirty_hi = l1i + 1;
		return;
	}
	if (l1i < s->l1_dirty_lo)
		s->l1_dirty_lo = l1i;
	if (l1i >= s->l1_dirty_hi)
		s->l1_dirty_hi = l1i + 1;
}

int qcow2_l1_flush(struct qcow2 *s)
{
	uint64_t lo = s->l1_dirty_lo, n = s->l1_dirty_hi - lo;
	if (!n)
		return 0;
	uint8_t *be = malloc(n * 8);
	if (!be)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		q2_put64(be + i * 8, s->l1[lo + i]);
	int r = blk_util_pwrite_full(s->fd, be, n * 8, s->l1_offset + lo * 8);
	free(be);
	if (r == 0)
		s->l1_dirty_lo = s->l1_dirty_hi = 0;
	return r;
}

static int q2_l2_alloc(struct qcow2 *s, uint64_t l1i, uint8_t **tbl, uint64_t *l2_off)
{
	uint64_t off;
	int r = qcow2_cluster_alloc(s, &off);
	if (r < 0)
		return r;
	r = qcache_get_new(s, &s->l2_cache, off, tbl);
	if (r < 0)
		return r;
	s->l1[l1i] = off | QCOW2_COPIED;
	*l2_off = off;
	qcow2_l1_dirty(s, l1i);
	return 0;
}

/* Copy-on-write of an L2 table shared with a snapshot: the active L1 gets a
 * private copy; the entries keep their flags (the data clusters' refcounts do
 * not change, the snapshot's table still counts for them). */
static int q2_l2_cow(struct qcow2 *s, uint64_t l1i, uint64_t old, uint8_t **tbl, uint64_t *l2_off)
{
	uint8_t *copy = malloc(s->cs), *src;
	if (!copy)
		return -ENOMEM;
	uint64_t off;
	int r = qcache_get(s, &s->l2_cache, old, &src);
	if (r == 0) {
		memcpy(copy, src, s->cs);
		r = qcow2_cluster_alloc(s, &off);
	}
	if (r == 0)
		r = qcache_get_new(s, &s->l2_cache, off, tbl);
	if (r == 0) {
		memcpy(*tbl, copy, s->cs);
		qcache_dirty(&s->l2_cache, off);
		s->l1[l1i] = off | QCOW2_COPIED;
		qcow2_l1_dirty(s, l1i);
		*l2_off = off;
		/* The snapshot keeps the old table: drop only our reference. */
		r = qcow2_clusters_free(s, old, s->cs, false);
	}
	free(copy);
	return r;
}

int qcow2_l2_get(struct qcow2 *s, uint64_t gc, bool alloc, uint8_t **tbl, uint64_t *l2_off)
{
	uint64_t l1i = gc >> s->l2_bits;
	*tbl = NULL;
	if (l1i >= s->l1_size)
		return qcow2_corrupt(s, "guest cluster beyond the L1 table");
	uint64_t e = s->l1[l1i];
	uint64_t off = e & QCOW2_OFF_MASK;
	if (e & QCOW2_L1_RESERVED)
		return qcow2_corrupt(s, "reserved bits set in an L1 entry");
	if (!off)
		return alloc ? q2_l2_alloc(s, l1i, tbl, l2_off) : 0;
	if ((off & (s->cs - 1)) || !qcow2_host_range_ok(s, off, s->cs))
		return qcow2_corrupt(s, "invalid L2 table offset");
	if (alloc && !(e & QCOW2_COPIED)) {
		/* Not known to be ours alone: check, and copy it if a snapshot shares it. */
		uint64_t rc;
		int r = qcow2_refcount_get(s, off >> s->cluster_bits, &rc);
		if (r < 0)
			return r;
		if (rc != 1)
			return q2_l2_cow(s, l1i, off, tbl, l2_off);
		s->l1[l1i] |= QCOW2_COPIED;
		qcow2_l1_dirty(s, l1i);
	}
	*l2_off = off;
	return qcache_get(s, &s->l2_cache, off, tbl);
}

int qcow2_l2_set(struct qcow2 *s, uint64_t gc, uint64_t entry)
{
	uint8_t *tbl;
	uint64_t l2_off;
	int r = qcow2_l2_get(s, gc, true, &tbl, &l2_off);
	if (r < 0)
		return r;
	uint64_t idx = gc & ((1ull << s->l2_bits) - 1);
	q2_put64(tbl + idx * 8, entry);
	qcache_dirty(&s->l2_cache, l2_off);
	return 0;
}

/* Can the cluster after one of kind 'k' with entry 'prev' join the same run? */
static bool q2_run_continues(const struct qcow2 *s, enum q2_kind k, uint64_t prev, uint64_t e)
{
	enum q2_kind k2;
	if (qcow2_entry_classify(s, e, &k2) < 0 || k2 != k || k == Q2_COMPRESSED)
		return false;
	if (k != Q2_NORMAL)
		return true;
	return (e & QCOW2_OFF_MASK) == (prev & QCOW2_OFF_MASK) + s->cs &&
	       (e & QCOW2_COPIED) == (prev & QCOW2_COPIED);
}

int qcow2_map(struct qcow2 *s, uint64_t off, uint64_t len, struct q2_map *m)
{
	uint64_t gc = off >> s->cluster_bits;
	uint64_t in = off & (s->cs - 1);
	uint64_t mask = (1ull << s->l2_bits) - 1;
	uint64_t idx = gc & mask;
	uint8_t *tbl;
	uint64_t l2_off;
	int r = qcow2_l2_get(s, gc, false, &tbl, &l2_off);
	if (r < 0)
		return r;
	memset(m, 0, sizeof(*m));
	m->file_end = s->end_cluster << s->cluster_bits;
	uint64_t table_left = ((mask - idx + 1) << s->cluster_bits) - in;
	if (!tbl) {
		m->kind = Q2_UNALLOC;
		m->len = len < table_left ? len : table_left;
		return 0;
	}
	m->entry = q2_be64(tbl + idx * 8);
	if (qcow2_entry_classify(s, m->entry, &m->kind) < 0)
		return qcow2_corrupt(s, "invalid L2 entry");
	if (m->kind == Q2_NORMAL)
		m->host = (m->entry & QCOW2_OFF_MASK) + in;
	uint64_t run = s->cs - in;
	uint64_t prev = m->entry;
	while (run < len && ++idx <= mask) {
		uint64_t e = q2_be64(tbl + idx * 8);
		if (!q2_run_continues(s, m->kind, prev, e))
			break;
		prev = e;
		run += s->cs;
	}
	m->len = run < len ? run : len;
	return 0;
}
