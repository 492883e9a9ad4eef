/* SPDX-License-Identifier: MIT */
#include "devices/virtq.h"

#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "devices/virtio.h"
#include "util/log.h"

/* Ring layout (section 2.7): avail = flags, idx, ring[size], used_event;
 * used = flags, idx, ring[size] of {id, len}, avail_event. */
#define AVAIL_IDX	  2
#define AVAIL_RING(i)	  (4 + 2 * (size_t)(i))
#define USED_IDX	  2
#define USED_RING(i)	  (4 + 8 * (size_t)(i))
#define DESC_SIZE	  16
#define SCRATCH_ENTRIES() ((size_t)VIRTQ_MAX_SIZE + VIRTQ_INDIRECT_MAX)

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static uint16_t ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void st32(uint8_t *p, uint32_t v)
{
	st16(p, (uint16_t)v);
	st16(p + 2, (uint16_t)(v >> 16));
}

/* Guest-shared 16-bit index; the ring areas are checked to be 2-aligned. */
static uint16_t idx_load_acquire(const uint8_t *p)
{
	uint16_t v = __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
	return (uint16_t)le16toh(v);
}

static void idx_store_release(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELEASE);
}

/* Read a descriptor once: the guest may rewrite it while we look. */
static void desc_read(const uint8_t *table, unsigned i, struct desc *d)
{
	uint8_t raw[DESC_SIZE];
	memcpy(raw, table + (size_t)i * DESC_SIZE, DESC_SIZE);
	uint64_t addr = 0;
	for (int b = 7; b >= 0; b--)
		addr = addr << 8 | raw[b];
	d->addr = addr;
	d->len = (uint32_t)raw[8] | (uint32_t)raw[9] << 8 | (uint32_t)raw[10] << 16 |
		 (uint32_t)raw[11] << 24;
	d->flags = ld16(raw + 12);
	d->next = ld16(raw + 14);
}

void virtq_init(struct virtq *q, struct virtio_device *vdev)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->idle, NULL);
	q->vdev = vdev;
}

void virtq_destroy(struct virtq *q)
{
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->idle);
	free(q->scratch);
	q->scratch = NULL;
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/*
 * Check and map the rings of a queue of 'size' entries and install them,
 * with a fresh scratch array.  On success returns 0 with q->lock held, the
 * indices left for the caller to set.
 */
static int virtq_map_locked(struct virtq *q, struct guest_mem *mem, uint16_t size, uint16_t max,
			    uint64_t desc, uint64_t avail, uint64_t used, uint64_t features)
{
	if (!is_pow2(size) || size > max || max > VIRTQ_MAX_SIZE)
		return -EINVAL;
	if (desc % 16 || avail % 2 || used % 4)
		return -EINVAL;
	uint8_t *d = guest_mem_ptr(mem, desc, (uint64_t)DESC_SIZE * size);
	uint8_t *a = guest_mem_ptr(mem, avail, 6 + 2 * (uint64_t)size);
	uint8_t *u = guest_mem_ptr_w(mem, used, 6 + 8 * (uint64_t)size);
	if (!d || !a || !u)
		return -EINVAL;
	struct virtq_buf *scratch = malloc(SCRATCH_ENTRIES() * sizeof(*scratch));
	if (!scratch)
		return -ENOMEM;

	pthread_mutex_lock(&q->lock);
	free(q->scratch);
	q->scratch = scratch;
	q->mem = mem;
	q->size = size;
	q->desc = d;
	q->avail = a;
	q->used = u;
	q->used_gpa = used;
	q->event_idx = (features >> VIRTIO_F_RING_EVENT_IDX) & 1;
	q->indirect = (features >> VIRTIO_F_RING_INDIRECT_DESC) & 1;
	return 0;
}

int virtq_start(struct virtq *q, struct guest_mem *mem, uint16_t size, uint16_t max, uint64_t desc,
		uint64_t avail, uint64_t used, uint64_t features)
{
	int r = virtq_map_locked(q, mem, size, max, desc, avail, used, features);
	if (r)
		return r;
	q->last_avail = 0;
	q->used_idx = 0;
	q->signalled_used = 0;
	q->signalled_valid = false;
	q->broken = false;
	/* The driver reads these two from zeroed memory anyway; make it so. */
	st16(q->used, 0);
	idx_store_release(q->used + USED_IDX, 0);
	q->ready = true;
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void virtq_stop(struct virtq *q)
{
	pthread_mutex_lock(&q->lock);
	q->ready = false;
	q->gen++;
	while (q->inflight)
		pthread_cond_wait(&q->idle, &q->lock);
	q->broken = false;
	q->last_avail = 0;
	q->used_idx = 0;
	pthread_mutex_unlock(&q->lock);
}

bool virtq_is_ready(struct virtq *q)
{
	pthread_mutex_lock(&q->lock);
	bool r = q->ready && !q->broken;
	pthread_mutex_unlock(&q->lock);
	return r;
}

/* Mark the queue broken and the device NEEDS_RESET; called with q->lock held. */
static int queue_fail(struct virtq *q, const char *why)
{
	if (!q->broken)
		log_debug("virtq: driver error: %s", why);
	q->broken = true;
	if (q->vdev)
		virtio_device_fail(q->vdev);
	return -EIO;
}

struct walk {
	const uint8_t *table;
	unsigned table_len;
	unsigned visited;
	bool in_indirect;
	bool seen_write;
	unsigned n, n_out;
	uint64_t out_len, in_len;
};

/* Switch the walk into the indirect table described by 'd'. */
static int walk_enter_indirect(struct virtq *q, struct walk *w, const struct desc *d)
{
	if (!q->indirect)
		return queue_fail(q, "indirect descriptor not negotiated");
	if (w->in_indirect)
		return queue_fail(q, "nested indirect table");
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return queue_fail(q, "indirect descriptor with NEXT");
	if (d->len == 0 || d->len % DESC_SIZE || d->len / DESC_SIZE > VIRTQ_INDIRECT_MAX)
		return queue_fail(q, "bad indirect table length");
	const uint8_t *t = guest_mem_ptr(q->mem, d->addr, d->len);
	if (!t)
		return queue_fail(q, "indirect table outside RAM");
	w->table = t;
	w->table_len = d->len / DESC_SIZE;
	w->visited = 0;
	w->in_indirect = true;
	return 0;
}

/* Add the buffer of a plain descriptor to the walk. */
static int walk_add_buf(struct virtq *q, struct walk *w, const struct desc *d)
{
	uint8_t *p;
	if (d->flags & VIRTQ_DESC_F_WRITE) {
		p = guest_mem_ptr_w(q->mem, d->addr, d->len);
		w->seen_write = true;
		w->in_len += d->len;
	} else {
		if (w->seen_write)
			return queue_fail(q, "readable descriptor after a writable one");
		p = guest_mem_ptr(q->mem, d->addr, d->len);
		w->out_len += d->len;
		w->n_out++;
	}
	if (!p)
		return queue_fail(q, "buffer outside RAM");
	q->scratch[w->n].p = p;
	q->scratch[w->n].len = d->len;
	w->n++;
	return 0;
}

static int walk_chain(struct virtq *q, uint16_t head, struct walk *w)
{
	memset(w, 0, sizeof(*w));
	w->table = q->desc;
	w->table_len = q->size;
	unsigned i = head;
	for (;;) {
		if (i >= w->table_len)
			return queue_fail(q, "descriptor index out of range");
		/* A chain visits each descriptor of a table at most once. */
		if (++w->visited > w->table_len)
			return queue_fail(q, "descriptor chain loops");
		struct desc d;
		desc_read(w->table, i, &d);
		int r;
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			r = walk_enter_indirect(q, w, &d);
			if (r)
				return r;
			i = 0;
			continue;
		}
		r = walk_add_buf(q, w, &d);
		if (r)
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

/* Publish avail_event so the driver kicks on its next buffer (event index). */
static void publish_avail_event(struct virtq *q)
{
	uint8_t *p = q->used + USED_RING(q->size);
	__atomic_store_n((uint16_t *)p, htole16(q->last_avail), __ATOMIC_RELAXED);
	guest_mem_mark_dirty(q->mem, q->used_gpa + USED_RING(q->size), 2);
}

/* Entries the driver has made available; -EIO when its index is impossible. */
static int avail_pending(struct virtq *q)
{
	uint16_t n = (uint16_t)(idx_load_acquire(q->avail + AVAIL_IDX) - q->last_avail);
	if (n > q->size)
		return queue_fail(q, "avail index jumped past the queue size");
	return n;
}

static int pop_locked(struct virtq *q, struct virtq_elem **out)
{
	if (!q->ready || q->broken || q->frozen)
		return 0;
	int n = avail_pending(q);
	if (n == 0 && q->event_idx) {
		/* Ask for a kick, then look again: the driver may have added a
		 * buffer before it could see the new avail_event. */
		publish_avail_event(q);
		atomic_thread_fence(memory_order_seq_cst);
		n = avail_pending(q);
	}
	if (n <= 0)
		return n;
	/* Each chain in flight owns at least one descriptor of the table. */
	if (q->inflight >= q->size)
		return queue_fail(q, "more chains in flight than the queue size");
	uint16_t head = ld16(q->avail + AVAIL_RING(q->last_avail % q->size));
	struct walk w;
	int r = walk_chain(q, head, &w);
	if (r)
		return r;
	struct virtq_elem *e = malloc(sizeof(*e) + w.n * sizeof(e->iov[0]));
	if (!e)
		return -ENOMEM;
	q->last_avail++;
	e->head = head;
	e->gen = q->gen;
	e->n_out = w.n_out;
	e->n_in = w.n - w.n_out;
	e->out_len = w.out_len;
	e->in_len = w.in_len;
	memcpy(e->iov, q->scratch, w.n * sizeof(e->iov[0]));
	q->inflight++;
	*out = e;
	return 1;
}

int virtq_pop(struct virtq *q, struct virtq_elem **out)
{
	pthread_mutex_lock(&q->lock);
	int r = pop_locked(q, out);
	pthread_mutex_unlock(&q->lock);
	return r;
}

/* Log the writable buffers dirty again: the device may have written them
 * after the pop (and a dirty-log fetch) marked them. */
static void mark_in_dirty(struct virtq *q, const struct virtq_elem *e)
{
	if (!atomic_load_explicit(&q->mem->dirty_log, memory_order_relaxed))
		return;
	for (unsigned i = e->n_out; i < e->n_out + e->n_in; i++) {
		const struct virtq_buf *b = &e->iov[i];
		guest_mem_mark_dirty(q->mem, q->mem->base + (uint64_t)(b->p - q->mem->host),
				     b->len);
	}
}

/* Write one used element, not yet visible to the driver; with q->lock held. */
static void fill_locked(struct virtq *q, struct virtq_elem *e, uint32_t len)
{
	if (!q->ready || e->gen != q->gen)
		return; /* the queue was reset meanwhile: nothing to publish */
	mark_in_dirty(q, e);
	if (len > e->in_len)
		len = (uint32_t)e->in_len;
	size_t off = USED_RING(q->used_idx % q->size);
	st32(q->used + off, e->head);
	st32(q->used + off + 4, len);
	q->used_idx++;
}

/* Make the filled elements visible; with q->lock held. */
static void publish_locked(struct virtq *q)
{
	if (!q->ready)
		return;
	/* The elements must be visible before the index that publishes them. */
	idx_store_release(q->used + USED_IDX, q->used_idx);
	guest_mem_mark_dirty(q->mem, q->used_gpa, USED_RING(q->size));
}

static void push_locked(struct virtq *q, struct virtq_elem *e, uint32_t len)
{
	fill_locked(q, e, len);
	publish_locked(q);
}

/* A chain is no longer in flight; with q->lock held. */
static void put_locked(struct virtq *q)
{
	if (--q->inflight == 0)
		pthread_cond_broadcast(&q->idle);
}

void virtq_push(struct virtq *q, struct virtq_elem *e, uint32_t len)
{
	pthread_mutex_lock(&q->lock);
	push_locked(q, e, len);
	put_locked(q);
	pthread_mutex_unlock(&q->lock);
	free(e);
}

/* The driver wants an interrupt when the used index passes used_event. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

static bool should_notify_locked(struct virtq *q)
{
	if (!q->ready || q->broken)
		return false;
	/* Our used index store must be visible before we read the driver's
	 * suppression state, or an interrupt can be lost. */
	atomic_thread_fence(memory_order_seq_cst);
	if (!q->event_idx)
		return !(idx_load_acquire(q->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	uint16_t ev = idx_load_acquire(q->avail + AVAIL_RING(q->size));
	bool notify = !q->signalled_valid || need_event(ev, q->used_idx, q->signalled_used);
	q->signalled_used = q->used_idx;
	q->signalled_valid = true;
	return notify;
}

bool virtq_should_notify(struct virtq *q)
{
	pthread_mutex_lock(&q->lock);
	bool notify = should_notify_locked(q);
	pthread_mutex_unlock(&q->lock);
	return notify;
}

void virtq_complete(struct virtq *q, struct virtq_elem *e, uint32_t len)
{
	pthread_mutex_lock(&q->lock);
	push_locked(q, e, len);
	bool notify = should_notify_locked(q);
	pthread_mutex_unlock(&q->lock);
	/* Still counted in flight while raising the interrupt, so a reset or
	 * teardown (virtq_stop) cannot pull the transport from under us. */
	if (notify && q->vdev)
		virtio_irq_used(q->vdev);
	pthread_mutex_lock(&q->lock);
	put_locked(q);
	pthread_mutex_unlock(&q->lock);
	free(e);
}

void virtq_complete_many(struct virtq *q, struct virtq_elem **e, const uint32_t *len, unsigned n)
{
	pthread_mutex_lock(&q->lock);
	for (unsigned i = 0; i < n; i++)
		fill_locked(q, e[i], len[i]);
	publish_locked(q);
	bool notify = should_notify_locked(q);
	pthread_mutex_unlock(&q->lock);
	if (notify && q->vdev)
		virtio_irq_used(q->vdev);
	pthread_mutex_lock(&q->lock);
	for (unsigned i = 0; i < n; i++) {
		put_locked(q);
		free(e[i]);
	}
	pthread_mutex_unlock(&q->lock);
}

void virtq_unpop(struct virtq *q, struct virtq_elem **e, unsigned n)
{
	pthread_mutex_lock(&q->lock);
	for (unsigned i = n; i-- > 0;) {
		if (q->ready && e[i]->gen == q->gen)
			q->last_avail--;
		put_locked(q);
		free(e[i]);
	}
	pthread_mutex_unlock(&q->lock);
}

/* Copy between buf and the chain's buffers [first, first+count), from byte 'off' of them. */
static size_t elem_copy(const struct virtq_elem *e, unsigned first, unsigned count, uint64_t off,
			uint8_t *buf, size_t len, bool to_guest)
{
	size_t done = 0;
	for (unsigned i = first; i < first + count && done < len; i++) {
		const struct virtq_buf *b = &e->iov[i];
		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		size_t n = b->len - off;
		if (n > len - done)
			n = len - done;
		if (to_guest)
			memcpy(b->p + off, buf + done, n);
		else
			memcpy(buf + done, b->p + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t virtq_elem_read(const struct virtq_elem *e, uint64_t off, void *buf, size_t len)
{
	return elem_copy(e, 0, e->n_out, off, buf, len, false);
}

size_t virtq_elem_write(const struct virtq_elem *e, uint64_t off, const void *buf, size_t len)
{
	/* The driver's writable buffers; the cast is safe: to_guest only reads buf. */
	return elem_copy(e, e->n_out, e->n_in, off, (uint8_t *)(uintptr_t)buf, len, true);
}

void virtq_freeze(struct virtq *q)
{
	pthread_mutex_lock(&q->lock);
	q->frozen = true;
	while (q->inflight)
		pthread_cond_wait(&q->idle, &q->lock);
	pthread_mutex_unlock(&q->lock);
}

void virtq_thaw(struct virtq *q)
{
	pthread_mutex_lock(&q->lock);
	q->frozen = false;
	pthread_mutex_unlock(&q->lock);
}

void virtq_save(struct virtq *q, struct virtq_state *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&q->lock);
	st->last_avail = q->last_avail;
	st->used_idx = q->used_idx;
	st->signalled_used = q->signalled_used;
	st->signalled_valid = q->signalled_valid;
	st->broken = q->broken;
	pthread_mutex_unlock(&q->lock);
}

int virtq_load(struct virtq *q, struct guest_mem *mem, uint16_t size, uint16_t max, uint64_t desc,
	       uint64_t avail, uint64_t used, uint64_t features, const struct virtq_state *st)
{
	if (st->signalled_valid > 1 || st->broken > 1)
		return -EINVAL;
	int r = virtq_map_locked(q, mem, size, max, desc, avail, used, features);
	if (r)
		return r;
	/* Impossible indices are caught where they are used, as for a live driver. */
	q->last_avail = st->last_avail;
	q->used_idx = st->used_idx;
	q->signalled_used = st->signalled_used;
	q->signalled_valid = st->signalled_valid;
	q->broken = st->broken;
	q->ready = true;
	pthread_mutex_unlock(&q->lock);
	return 0;
}
