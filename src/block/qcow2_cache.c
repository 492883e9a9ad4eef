/* SPDX-License-Identifier: MIT */
/* LRU cache of qcow2 metadata clusters (write-through; see qcow2.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"

int qcache_init(struct qcache *c, unsigned n, uint64_t cs)
{
	c->n = n;
	c->tick = 0;
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

/* The slot holding 'off', or else the least recently used one (marked empty). */
static struct qcache_ent *qcache_slot(struct qcache *c, uint64_t off, bool *hit)
{
	struct qcache_ent *victim = &c->ents[0];
	for (unsigned i = 0; i < c->n; i++) {
		struct qcache_ent *e = &c->ents[i];
		if (e->off == off) {
			*hit = true;
			e->used = ++c->tick;
			return e;
		}
		if (e->used < victim->used)
			victim = e;
	}
	*hit = false;
	victim->off = 0;
	victim->used = ++c->tick;
	return victim;
}

int qcache_get(struct qcow2 *s, struct qcache *c, uint64_t off, uint8_t **data)
{
	bool hit;
	struct qcache_ent *e = qcache_slot(c, off, &hit);
	if (!hit) {
		int r = blk_util_pread_full(s->fd, e->data, s->cs, off);
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
	struct qcache_ent *e = qcache_slot(c, off, &hit);
	memset(e->data, 0, s->cs);
	e->off = 0;
	int r = blk_util_pwrite_full(s->fd, e->data, s->cs, off);
	if (r < 0)
		return r;
	e->off = off;
	*data = e->data;
	return 0;
}

void qcache_drop(struct qcache *c, uint64_t off)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->ents[i].off == off)
			c->ents[i].off = 0;
}
