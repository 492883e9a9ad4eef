/* SPDX-License-Identifier: MIT */
/*
 * qcow2 requests: read, write (allocating and copying on write), discard,
 * write-zeroes, flush.  Locking rules are in qcow2.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "util/log.h"

static struct qcow2 *q2(struct blk *b)
{
	return b->priv;
}

/* Guest bytes [off, off+len) that no qcow2 layer of this image maps. */
static int q2_read_backing(struct qcow2 *s, uint8_t *buf, uint64_t len, uint64_t off)
{
	uint64_t have = 0;
	if (s->backing) {
		uint64_t bsz = blk_size(s->backing);
		have = off < bsz ? bsz - off : 0;
		if (have > len)
			have = len;
		if (have) {
			int r = blk_pread(s->backing, buf, have, off);
			if (r < 0)
				return r;
		}
	}
	memset(buf + have, 0, len - have);
	return 0;
}

/* One run of a read; called with map_lock held shared, 'lock' not held. */
static int q2_read_run(struct qcow2 *s, const struct q2_map *m, uint8_t *buf, uint64_t off)
{
	switch (m->kind) {
	case Q2_NORMAL:
		return blk_util_pread_zfill(s->fd, buf, m->len, m->host);
	case Q2_ZERO:
		memset(buf, 0, m->len);
		return 0;
	case Q2_UNALLOC:
		return q2_read_backing(s, buf, m->len, off);
	case Q2_COMPRESSED:
		break;
	}
	uint8_t *c = malloc(s->cs);
	if (!c)
		return -ENOMEM;
	int r = qcow2_compressed_read(s, m->entry, m->file_end, c);
	if (r == 0)
		memcpy(buf, c + (off & (s->cs - 1)), m->len);
	free(c);
	return r;
}

static int q2_pread(struct blk *b, void *buf, size_t len, uint64_t off)
{
	struct qcow2 *s = q2(b);
	uint8_t *p = buf;
	while (len) {
		struct q2_map m;
		pthread_rwlock_rdlock(&s->map_lock);
		pthread_mutex_lock(&s->lock);
		int r = qcow2_map(s, off, len, &m);
		pthread_mutex_unlock(&s->lock);
		if (r == 0)
			r = q2_read_run(s, &m, p, off);
		pthread_rwlock_unlock(&s->map_lock);
		if (r < 0)
			return r;
		p += m.len;
		off += m.len;
		len -= m.len;
	}
	return 0;
}

/* The current content of guest cluster 'gc' (entry of kind 'k'), for copy-on-write. */
static int q2_cluster_old(struct qcow2 *s, uint64_t gc, enum q2_kind k, uint64_t e, uint8_t *c)
{
	switch (k) {
	case Q2_UNALLOC:
		return q2_read_backing(s, c, s->cs, gc << s->cluster_bits);
	case Q2_COMPRESSED:
		return qcow2_compressed_read(s, e, s->end_cluster << s->cluster_bits, c);
	case Q2_NORMAL:
		return blk_util_pread_zfill(s->fd, c, s->cs, e & QCOW2_OFF_MASK);
	default:
		memset(c, 0, s->cs);
		return 0;
	}
}

/* Drop the host storage an L2 entry referred to, once the entry no longer does. */
static int q2_entry_release(struct qcow2 *s, uint64_t e, enum q2_kind k, bool punch)
{
	if (k == Q2_COMPRESSED) {
		uint64_t off, len;
		qcow2_compressed_range(s, e, &off, &len);
		return qcow2_clusters_free(s, off & ~(uint64_t)511, len + (off & 511), punch);
	}
	uint64_t host = e & QCOW2_OFF_MASK;
	return host ? qcow2_clusters_free(s, host, s->cs, punch) : 0;
}

/* Write within one cluster that is not a plain allocated cluster of ours
 * (unallocated, zero, compressed, or shared with a snapshot).
 * Called with 'lock' held (and map_lock exclusive if it is compressed). */
static int q2_write_alloc(struct qcow2 *s, const uint8_t *buf, uint64_t n, uint64_t off)
{
	uint64_t gc = off >> s->cluster_bits, in = off & (s->cs - 1);
	struct q2_map m;
	int r = qcow2_map(s, off, n, &m);
	if (r < 0)
		return r;
	uint64_t host = m.entry & QCOW2_OFF_MASK;
	bool shared = false;
	if (m.kind == Q2_NORMAL && !(m.entry & QCOW2_COPIED)) {
		uint64_t rc;
		if ((r = qcow2_refcount_get(s, host >> s->cluster_bits, &rc)) < 0)
			return r;
		shared = rc != 1; /* a snapshot has it too: copy on write */
		if (!shared && (r = qcow2_l2_set(s, gc, m.entry | QCOW2_COPIED)) < 0)
			return r;
	}
	if (m.kind == Q2_NORMAL && !shared)
		return blk_util_pwrite_full(s->fd, buf, n, host + in);

	const uint8_t *src = buf;
	uint8_t *c = NULL;
	if (n < s->cs) {
		c = malloc(s->cs);
		if (!c)
			return -ENOMEM;
		r = q2_cluster_old(s, gc, m.kind, m.entry, c);
		memcpy(c + in, buf, n);
		src = c;
	}
	/* A preallocated zero cluster that is ours alone is reused in place. */
	bool reuse = m.kind == Q2_ZERO && host && (m.entry & QCOW2_COPIED);
	uint64_t dst = host;
	if (r == 0 && !reuse)
		r = qcow2_cluster_alloc(s, &dst);
	if (r == 0)
		r = blk_util_pwrite_full(s->fd, src, s->cs, dst);
	if (r == 0)
		r = qcow2_l2_set(s, gc, dst | QCOW2_COPIED);
	if (r == 0 && !reuse)
		r = q2_entry_release(s, m.entry, m.kind, false);
	free(c);
	return r;
}

/* One step of a write: returns the number of bytes written or -errno. */
static int64_t q2_write_step(struct qcow2 *s, const uint8_t *buf, uint64_t len, uint64_t off)
{
	struct q2_map m;
	pthread_rwlock_rdlock(&s->map_lock);
	pthread_mutex_lock(&s->lock);
	int r = qcow2_map(s, off, len, &m);
	if (r == 0 && m.kind == Q2_NORMAL && (m.entry & QCOW2_COPIED)) {
		/* Ours alone and allocated: write in place without the metadata lock. */
		pthread_mutex_unlock(&s->lock);
		r = blk_util_pwrite_full(s->fd, buf, m.len, m.host);
		pthread_rwlock_unlock(&s->map_lock);
		return r < 0 ? r : (int64_t)m.len;
	}
	uint64_t n = s->cs - (off & (s->cs - 1));
	if (n > len)
		n = len;
	if (r == 0 && m.kind == Q2_COMPRESSED) {
		/* Replacing a compressed cluster frees its sectors: no reader may be
		 * inside them, so redo the step with map_lock exclusive. */
		pthread_mutex_unlock(&s->lock);
		pthread_rwlock_unlock(&s->map_lock);
		pthread_rwlock_wrlock(&s->map_lock);
		pthread_mutex_lock(&s->lock);
	}
	if (r == 0)
		r = q2_write_alloc(s, buf, n, off);
	if (r == 0)
		r = qcow2_meta_maybe_flush(s);
	pthread_mutex_unlock(&s->lock);
	pthread_rwlock_unlock(&s->map_lock);
	return r < 0 ? r : (int64_t)n;
}

static int q2_pwrite(struct blk *b, const void *buf, size_t len, uint64_t off)
{
	struct qcow2 *s = q2(b);
	const uint8_t *p = buf;
	while (len) {
		int64_t n = q2_write_step(s, p, len, off);
		if (n < 0)
			return (int)n;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

enum q2_zap_mode { Q2_ZAP_DISCARD, Q2_ZAP_ZERO_UNMAP, Q2_ZAP_ZERO_KEEP };

/* The L2 entry a whole cluster gets when discarded or zeroed, or 'e' if unchanged. */
static uint64_t q2_zap_entry(struct qcow2 *s, uint64_t e, enum q2_kind k, enum q2_zap_mode mode)
{
	bool backing = s->backing || s->backing_name[0];
	if (mode == Q2_ZAP_DISCARD)
		return backing ? QCOW2_ZERO : 0;
	if (k == Q2_ZERO || (k == Q2_UNALLOC && !backing))
		return e; /* already reads as zeros */
	if (mode == Q2_ZAP_ZERO_KEEP && k == Q2_NORMAL && (e & QCOW2_COPIED))
		return e | QCOW2_ZERO;
	return QCOW2_ZERO;
}

/* Discard or zero whole guest clusters from 'gc' (at most 'n'); sets *done to
 * how many were handled.  'lock' and map_lock (exclusive) held. */
static int q2_zap_clusters(struct qcow2 *s, uint64_t gc, uint64_t n, enum q2_zap_mode mode,
			   uint64_t *done)
{
	struct q2_map m;
	int r = qcow2_map(s, gc << s->cluster_bits, n << s->cluster_bits, &m);
	if (r < 0)
		return r;
	*done = 1;
	bool backing = s->backing || s->backing_name[0];
	/* Runs that already read as zeros need nothing: skip them whole (a discard
	 * of a huge, mostly empty disk must not visit every cluster). */
	if ((m.kind == Q2_UNALLOC && !backing) || (m.kind == Q2_ZERO && mode != Q2_ZAP_DISCARD)) {
		*done = m.len >> s->cluster_bits ? m.len >> s->cluster_bits : 1;
		return 0;
	}
	uint64_t ne = q2_zap_entry(s, m.entry, m.kind, mode);
	if (ne == m.entry)
		return 0;
	if ((r = qcow2_l2_set(s, gc, ne)) < 0)
		return r;
	if ((ne & QCOW2_OFF_MASK) == (m.entry & QCOW2_OFF_MASK) && m.kind != Q2_COMPRESSED)
		return 0; /* allocation kept */
	return q2_entry_release(s, m.entry, m.kind, true);
}

static int q2_zap(struct qcow2 *s, uint64_t off, uint64_t len, enum q2_zap_mode mode)
{
	uint64_t gc = off >> s->cluster_bits, end = (off + len) >> s->cluster_bits;
	int r = 0;
	pthread_rwlock_wrlock(&s->map_lock);
	pthread_mutex_lock(&s->lock);
	while (gc < end && r == 0) {
		uint64_t done;
		r = q2_zap_clusters(s, gc, end - gc, mode, &done);
		if (r == 0)
			r = qcow2_meta_maybe_flush(s);
		gc += done;
	}
	pthread_mutex_unlock(&s->lock);
	pthread_rwlock_unlock(&s->map_lock);
	return r;
}

/* Whole clusters inside [off, off+len); the disk's last, partial cluster counts
 * as whole when the range reaches the end of the disk. */
static void q2_whole(struct qcow2 *s, uint64_t off, uint64_t len, uint64_t *a, uint64_t *z)
{
	uint64_t mask = s->cs - 1;
	*a = (off + mask) & ~mask;
	*z = off + len == s->size ? (off + len + mask) & ~mask : (off + len) & ~mask;
	if (*z < *a)
		*z = *a;
}

static int q2_discard(struct blk *b, uint64_t off, uint64_t len)
{
	struct qcow2 *s = q2(b);
	uint64_t a, z;
	q2_whole(s, off, len, &a, &z);
	/* Discard is a hint: partial clusters at either end are left alone. */
	return z > a ? q2_zap(s, a, z - a, Q2_ZAP_DISCARD) : 0;
}

static int q2_write_zero_bytes(struct qcow2 *s, struct blk *b, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	uint8_t *z = calloc(1, s->cs);
	if (!z)
		return -ENOMEM;
	int r = 0;
	while (len && r == 0) {
		uint64_t n = len < s->cs ? len : s->cs;
		r = q2_pwrite(b, z, n, off);
		off += n;
		len -= n;
	}
	free(z);
	return r;
}

static int q2_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap)
{
	struct qcow2 *s = q2(b);
	uint64_t a, z;
	q2_whole(s, off, len, &a, &z);
	if (z <= a) /* no whole cluster inside: the bytes are written as zeros */
		return q2_write_zero_bytes(s, b, off, len);
	int r = q2_write_zero_bytes(s, b, off, a - off);
	if (r == 0)
		r = q2_zap(s, a, z - a, may_unmap ? Q2_ZAP_ZERO_UNMAP : Q2_ZAP_ZERO_KEEP);
	if (r == 0 && z < off + len)
		r = q2_write_zero_bytes(s, b, z, off + len - z);
	return r;
}

static int q2_flush(struct blk *b)
{
	struct qcow2 *s = q2(b);
	pthread_mutex_lock(&s->lock);
	int r = qcow2_meta_flush(s);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Zero or unallocated clusters (without a backing file that could show through) all along. */
static int q2_is_zero(struct blk *b, uint64_t off, uint64_t len)
{
	struct qcow2 *s = q2(b);
	bool backing = s->backing || s->backing_name[0];
	int r = 1;
	pthread_mutex_lock(&s->lock);
	while (len && r == 1) {
		struct q2_map m;
		if (qcow2_map(s, off, len, &m) < 0)
			r = 0; /* read it and see */
		else if (m.kind == Q2_ZERO || (m.kind == Q2_UNALLOC && !backing))
			off += m.len, len -= m.len;
		else
			r = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void q2_close(struct blk *b)
{
	struct qcow2 *s = q2(b);
	int r = qcow2_meta_flush(s);
	if (r < 0)
		log_warn("%s: writing metadata on close: %s", s->path, strerror(-r));
	free(s->pending);
	blk_close(s->backing);
	qcache_free(&s->l2_cache);
	qcache_free(&s->rb_cache);
	pthread_mutex_destroy(&s->lock);
	pthread_rwlock_destroy(&s->map_lock);
	close(s->fd);
	free(s->l1);
	free(s->reft);
	free((char *)s->path);
	free(s);
	free(b);
}

const struct blk_ops qcow2_ops = {
    .pread = q2_pread,
    .pwrite = q2_pwrite,
    .flush = q2_flush,
    .discard = q2_discard,
    .write_zeroes = q2_write_zeroes,
    .close = q2_close,
    .is_zero = q2_is_zero,
};
