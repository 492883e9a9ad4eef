/* SPDX-License-Identifier: MIT */
/*
 * LRU cache of qcow2 metadata clusters (L2 tables or refcount blocks), written
 * back: a changed table is marked dirty and reaches the file at the next
 * flush or when it is evicted.  Evicting a dirty L2 table first makes the
 * refcount blocks durable, so an L2 entry never reaches the disk before the
 * refcount of the cluster it points to (see qcow2_meta_flush).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"

int qcache_init(struct qcache *c, unsigned n, uint64_t cs, bool barrier)
{
	c->n = n;
	c->tick = 0;
	c->last = 0;
	c->barrier = barrier;
	c->ents = calloc(n, sizeof(*c->ents));
	if (!c->ents)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		c->ents[i].data = malloc(cs);
		if (!c->ents[i].data)
			return -ENOMEM; /* qcache_free copes with a partial init */
	}
	return 0;
}

void qcache_free(struct qcache *c)
{
	if (!c->ents)
		return;
	for (unsigned i = 0; i < c->n; i++)
		free(c->ents[i].data);
	free(c->ents);
	c->ents = NULL;
}

static int qcache_write(struct qcow2 *s, struct qcache_ent *e)
{
	int r = blk_util_pwrite_full(s->fd, e->data, s->cs, e->off);
	if (r == 0)
		e->dirty = false;
	return r;
}

static int qcache_evict(struct qcow2 *s, struct qcache *c, struct qcache_ent *e)
{
	if (e->off && e->dirty) {
		int r;
		if (c->barrier) {
			/* One sync pays for writing back every dirty table at once. */
			r = qcache_flush(s, &s->rb_cache);
			if (r == 0 && fdatasync(s->fd) < 0)
				r = -errno;
			if (r == 0)
				r = qcache_flush(s, c);
		} else {
			r = qcache_write(s, e);
		}
		if (r < 0)
			return r;
	}
	e->off = 0;
	return 0;
}

/* The slot holding 'off', or else the least recently used one, emptied. */
static int qcache_slot(struct qcow2 *s, struct qcache *c, uint64_t off, struct qcache_ent **out,
		       bool *hit)
{
	struct qcache_ent *victim = &c->ents[0];
	/* Requests mostly stay within one table: try the last hit first. */
	struct qcache_ent *last = &c->ents[c->last];
	if (last->off == off) {
		*hit = true;
		last->used = ++c->tick;
		*out = last;
		return 0;
	}
	for (unsigned i = 0; i < c->n; i++) {
		struct qcache_ent *e = &c->ents[i];
		if (e->off == off) {
			*hit = true;
			e->used = ++c->tick;
			c->last = i;
			*out = e;
			return 0;
		}
		if (e->used < victim->used)
			victim = e;
	}
	*hit = false;
	int r = qcache_evict(s, c, victim);
	if (r < 0)
		return r;
	victim->used = ++c->tick;
	c->last = (unsigned)(victim - c->ents);
	*out = victim;
	return 0;
}

int qcache_get(struct qcow2 *s, struct qcache *c, uint64_t off, uint8_t **data)
{
	bool hit;
	struct qcache_ent *e;
	int r = qcache_slot(s, c, off, &e, &hit);
	if (r < 0)
		return r;
	if (!hit) {
		r = blk_util_pread_full(s->fd, e->data, s->cs, off);
		if (r == -ENODATA)
			return qcow2_corrupt(s, "metadata table beyond end of file");
		if (r < 0)
			return r;
		e->off = off;
	}
	*data = e->data;
	return 0;
}

int qcache_get_new(struct qcow2 *s, struct qcache *c, uint64_t off, uint8_t **data)
{
	bool hit;
	struct qcache_ent *e;
	int r = qcache_slot(s, c, off, &e, &hit);
	if (r < 0)
		return r;
	memset(e->data, 0, s->cs);
	e->off = 0;
	/* Written now: the table must read as empty before anything points at it. */
	r = blk_util_pwrite_full(s->fd, e->data, s->cs, off);
	if (r < 0)
		return r;
	e->off = off;
	e->dirty = false;
	*data = e->data;
	return 0;
}

void qcache_dirty(struct qcache *c, uint64_t off)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->ents[i].off == off)
			c->ents[i].dirty = true;
}

int qcache_flush(struct qcow2 *s, struct qcache *c)
{
	for (unsigned i = 0; i < c->n; i++) {
		struct qcache_ent *e = &c->ents[i];
		if (e->off && e->dirty) {
			int r = qcache_write(s, e);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

void qcache_drop(struct qcache *c, uint64_t off)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->ents[i].off == off) {
			c->ents[i].off = 0;
			c->ents[i].dirty = false;
		}
}
