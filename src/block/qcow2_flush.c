/* SPDX-License-Identifier: MIT */
/*
 * Making qcow2 metadata durable in a safe order.  A crash at any point leaves
 * at worst leaked clusters (refcount too high), never a cluster that is in
 * use while its refcount says it is free:
 *
 *   1. refcount blocks (only increments are pending here), then sync: every
 *      cluster a pending L2/L1 entry points to is now counted, and new data
 *      and new (zeroed) L2 tables are on disk;
 *   2. L2 tables and L1 entries;
 *   3. if clusters were freed: sync, so no durable mapping refers to them,
 *      then drop their references and write the refcount blocks again;
 *   4. sync.
 */
#include <errno.h>
#include <unistd.h>

#include "block/qcow2.h"

#define Q2_MAX_PENDING 4096

static bool q2_meta_dirty(const struct qcow2 *s)
{
	for (unsigned i = 0; i < s->l2_cache.n; i++)
		if (s->l2_cache.ents[i].dirty)
			return true;
	for (unsigned i = 0; i < s->rb_cache.n; i++)
		if (s->rb_cache.ents[i].dirty)
			return true;
	return s->l1_dirty_hi != s->l1_dirty_lo;
}

static int q2_sync(struct qcow2 *s)
{
	return fdatasync(s->fd) < 0 ? -errno : 0;
}

static int q2_apply_frees(struct qcow2 *s)
{
	int r = 0;
	size_t i = 0;
	for (; i < s->npending && r == 0; i++)
		r = qcow2_clusters_free_now(s, s->pending[i].off, s->pending[i].len,
					    s->pending[i].punch);
	if (r < 0)
		return r; /* the rest stay allocated: leaked, never doubly used */
	s->npending = 0;
	return qcache_flush(s, &s->rb_cache);
}

int qcow2_meta_flush(struct qcow2 *s)
{
	if (s->readonly)
		return 0;
	int r = 0;
	if (q2_meta_dirty(s)) {
		if ((r = qcache_flush(s, &s->rb_cache)) < 0 || (r = q2_sync(s)) < 0)
			return r;
		if ((r = qcache_flush(s, &s->l2_cache)) < 0 || (r = qcow2_l1_flush(s)) < 0)
			return r;
	}
	if (s->npending) {
		if ((r = q2_sync(s)) < 0 || (r = q2_apply_frees(s)) < 0)
			return r;
	}
	return q2_sync(s);
}

int qcow2_meta_maybe_flush(struct qcow2 *s)
{
	return s->npending >= Q2_MAX_PENDING ? qcow2_meta_flush(s) : 0;
}
