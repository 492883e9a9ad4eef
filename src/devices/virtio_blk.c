/* SPDX-License-Identifier: MIT */
#include "devices/virtio_blk.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "devices/virtio.h"
#include "util/log.h"

/* Feature bits (section 5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX	  1
#define VIRTIO_BLK_F_SEG_MAX	  2
#define VIRTIO_BLK_F_RO		  5
#define VIRTIO_BLK_F_BLK_SIZE	  6
#define VIRTIO_BLK_F_FLUSH	  9
#define VIRTIO_BLK_F_DISCARD	  13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values (section 5.2.6). */
#define VIRTIO_BLK_T_IN		  0
#define VIRTIO_BLK_T_OUT	  1
#define VIRTIO_BLK_T_FLUSH	  4
#define VIRTIO_BLK_T_GET_ID	  8
#define VIRTIO_BLK_T_DISCARD	  11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK		  0
#define VIRTIO_BLK_S_IOERR	  1
#define VIRTIO_BLK_S_UNSUPP	  2

#define VIRTIO_BLK_ID_BYTES	20
#define VIRTIO_BLK_F_SEG_UNMAP	1u
#define SECTOR_SIZE		512ull
#define BLK_QUEUE_SIZE		256
#define BLK_SIZE_MAX		(1u << 20) /* per segment */
#define BLK_SEG_MAX		(BLK_QUEUE_SIZE - 2)
#define BLK_MAX_DISCARD_SECTORS (1u << 22) /* 2 GiB per request */
#define BLK_WORKERS		2
#define REQ_HDR_SIZE		16
#define DISCARD_SEG_SIZE	16

/* Config space offsets (struct virtio_blk_config). */
#define CFG_CAPACITY		0x00
#define CFG_SIZE_MAX		0x08
#define CFG_SEG_MAX		0x0c
#define CFG_BLK_SIZE		0x14
#define CFG_MAX_DISCARD_SECTORS 0x24
#define CFG_MAX_DISCARD_SEG	0x28
#define CFG_DISCARD_ALIGNMENT	0x2c
#define CFG_MAX_WZ_SECTORS	0x30
#define CFG_MAX_WZ_SEG		0x34
#define CFG_WZ_MAY_UNMAP	0x38
#define CFG_SIZE		0x3c

struct blk_job {
	struct blk_job *next;
	struct virtq_elem *e;
};

struct virtio_blk {
	struct virtio_device vdev; /* first */
	struct blk *disk;
	bool readonly;
	uint64_t capacity; /* sectors */
	uint8_t config[CFG_SIZE];
	char serial[VIRTIO_BLK_ID_BYTES];

	pthread_mutex_t lock; /* the job list */
	pthread_cond_t cond;
	struct blk_job *head, **tail;
	bool stop;
	pthread_t workers[BLK_WORKERS];
	unsigned n_workers;

	/* Counters for metrics (virtio_blk_get_stats). */
	_Atomic uint64_t read_bytes, write_bytes, read_ops, write_ops, flush_ops;
};

static struct virtio_blk *to_blk(struct virtio_device *vdev)
{
	return (struct virtio_blk *)vdev;
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

static uint32_t le32_at(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}

/* True when [sector, sector+n) lies on the disk. */
static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t n)
{
	return sector <= b->capacity && n <= b->capacity - sector;
}

/*
 * Walk the buffers of 'e' from iov index 'first', skipping 'skip' bytes and
 * covering 'len' bytes, doing disk I/O at 'pos' on each piece.
 */
static int blk_iov_io(struct virtio_blk *b, const struct virtq_elem *e, unsigned first,
		      unsigned end, uint64_t skip, uint64_t len, uint64_t pos, bool write)
{
	for (unsigned i = first; i < end && len; i++) {
		const struct virtq_buf *v = &e->iov[i];
		if (skip >= v->len) {
			skip -= v->len;
			continue;
		}
		uint64_t n = v->len - skip;
		if (n > len)
			n = len;
		int r = write ? blk_pwrite(b->disk, v->p + skip, n, pos)
			      : blk_pread(b->disk, v->p + skip, n, pos);
		if (r < 0)
			return r;
		pos += n;
		len -= n;
		skip = 0;
	}
	return 0;
}

/* VIRTIO_BLK_T_IN: the data is the writable part minus the status byte. */
static uint8_t req_read(struct virtio_blk *b, const struct virtq_elem *e, uint64_t sector,
			uint32_t *written)
{
	uint64_t len = e->in_len - 1;
	if (len >= UINT32_MAX || len % SECTOR_SIZE || !range_ok(b, sector, len / SECTOR_SIZE))
		return VIRTIO_BLK_S_IOERR;
	if (blk_iov_io(b, e, e->n_out, e->n_out + e->n_in, 0, len, sector * SECTOR_SIZE, false))
		return VIRTIO_BLK_S_IOERR;
	*written = (uint32_t)len;
	return VIRTIO_BLK_S_OK;
}

/* VIRTIO_BLK_T_OUT: the data follows the header in the readable part. */
static uint8_t req_write(struct virtio_blk *b, const struct virtq_elem *e, uint64_t sector)
{
	uint64_t len = e->out_len - REQ_HDR_SIZE;
	if (b->readonly || len % SECTOR_SIZE || !range_ok(b, sector, len / SECTOR_SIZE))
		return VIRTIO_BLK_S_IOERR;
	if (blk_iov_io(b, e, 0, e->n_out, REQ_HDR_SIZE, len, sector * SECTOR_SIZE, true))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint8_t req_get_id(struct virtio_blk *b, const struct virtq_elem *e, uint32_t *written)
{
	uint64_t room = e->in_len - 1;
	size_t n = room < VIRTIO_BLK_ID_BYTES ? room : VIRTIO_BLK_ID_BYTES;
	*written = (uint32_t)virtq_elem_write(e, 0, b->serial, n);
	return VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: one segment {sector, num_sectors, flags}. */
static uint8_t req_discard(struct virtio_blk *b, const struct virtq_elem *e, uint32_t type)
{
	if (b->readonly)
		return VIRTIO_BLK_S_IOERR;
	uint64_t len = e->out_len - REQ_HDR_SIZE;
	if (len != DISCARD_SEG_SIZE)
		return VIRTIO_BLK_S_UNSUPP; /* we offer max_*_seg = 1 */
	uint8_t seg[DISCARD_SEG_SIZE];
	virtq_elem_read(e, REQ_HDR_SIZE, seg, sizeof(seg));
	uint64_t sector = le64_at(seg);
	uint32_t n = le32_at(seg + 8), flags = le32_at(seg + 12);
	if (flags & ~VIRTIO_BLK_F_SEG_UNMAP)
		return VIRTIO_BLK_S_UNSUPP;
	if (type == VIRTIO_BLK_T_DISCARD && flags)
		return VIRTIO_BLK_S_UNSUPP; /* unmap is only meaningful for write zeroes */
	if (n > BLK_MAX_DISCARD_SECTORS || !range_ok(b, sector, n))
		return VIRTIO_BLK_S_IOERR;
	int r = type == VIRTIO_BLK_T_DISCARD
		    ? blk_discard(b->disk, sector * SECTOR_SIZE, n * SECTOR_SIZE)
		    : blk_write_zeroes(b->disk, sector * SECTOR_SIZE, n * SECTOR_SIZE,
				       flags & VIRTIO_BLK_F_SEG_UNMAP);
	return r < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

/* Run one request; returns the bytes written into its writable part. */
static uint32_t blk_handle(struct virtio_blk *b, const struct virtq_elem *e)
{
	uint8_t hdr[REQ_HDR_SIZE];
	/* Without a header and a status byte there is nothing to answer. */
	if (e->in_len < 1 || virtq_elem_read(e, 0, hdr, sizeof(hdr)) < sizeof(hdr))
		return 0;
	uint32_t type = le32_at(hdr);
	uint64_t sector = le64_at(hdr + 8);
	uint32_t written = 0;
	uint8_t status;
	switch (type) {
	case VIRTIO_BLK_T_IN:
		status = req_read(b, e, sector, &written);
		if (status == VIRTIO_BLK_S_OK) {
			atomic_fetch_add_explicit(&b->read_ops, 1, memory_order_relaxed);
			atomic_fetch_add_explicit(&b->read_bytes, written, memory_order_relaxed);
		}
		break;
	case VIRTIO_BLK_T_OUT:
		status = req_write(b, e, sector);
		if (status == VIRTIO_BLK_S_OK) {
			atomic_fetch_add_explicit(&b->write_ops, 1, memory_order_relaxed);
			atomic_fetch_add_explicit(&b->write_bytes, e->out_len - REQ_HDR_SIZE,
						  memory_order_relaxed);
		}
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = blk_flush(b->disk) < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		if (status == VIRTIO_BLK_S_OK)
			atomic_fetch_add_explicit(&b->flush_ops, 1, memory_order_relaxed);
		break;
	case VIRTIO_BLK_T_GET_ID:
		status = req_get_id(b, e, &written);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = req_discard(b, e, type);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	/* The status byte is the last byte of the writable part. */
	virtq_elem_write(e, e->in_len - 1, &status, 1);
	return written + 1;
}

static void *blk_worker(void *opaque)
{
	struct virtio_blk *b = opaque;
	struct virtq *q = &b->vdev.vq[0];
	pthread_mutex_lock(&b->lock);
	for (;;) {
		while (!b->head && !b->stop)
			pthread_cond_wait(&b->cond, &b->lock);
		if (!b->head)
			break; /* stopping with no work left */
		struct blk_job *j = b->head;
		b->head = j->next;
		if (!b->head)
			b->tail = &b->head;
		pthread_mutex_unlock(&b->lock);
		uint32_t len = blk_handle(b, j->e);
		virtq_complete(q, j->e, len);
		free(j);
		pthread_mutex_lock(&b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

/* On the hart thread: take the requests and hand them to the workers. */
static void blk_notify(struct virtio_device *vdev, unsigned qi)
{
	struct virtio_blk *b = to_blk(vdev);
	struct virtq *q = &vdev->vq[qi];
	struct virtq_elem *e;
	while (virtq_pop(q, &e) > 0) {
		struct blk_job *j = malloc(sizeof(*j));
		if (!j) {
			virtq_complete(q, e, 0);
			continue;
		}
		j->e = e;
		j->next = NULL;
		pthread_mutex_lock(&b->lock);
		*b->tail = j;
		b->tail = &j->next;
		pthread_cond_signal(&b->cond);
		pthread_mutex_unlock(&b->lock);
	}
}

static void blk_stop_workers(struct virtio_blk *b)
{
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	for (unsigned i = 0; i < b->n_workers; i++)
		pthread_join(b->workers[i], NULL);
	b->n_workers = 0;
}

static void blk_destroy(struct virtio_device *vdev)
{
	struct virtio_blk *b = to_blk(vdev);
	blk_stop_workers(b);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->cond);
	blk_close(b->disk);
}

static const struct virtio_device_ops blk_ops = {
    .queue_notify = blk_notify,
    .destroy = blk_destroy,
};

static void blk_config_init(struct virtio_blk *b)
{
	uint8_t *c = b->config;
	virtio_cfg_put64(c + CFG_CAPACITY, b->capacity);
	virtio_cfg_put32(c + CFG_SIZE_MAX, BLK_SIZE_MAX);
	virtio_cfg_put32(c + CFG_SEG_MAX, BLK_SEG_MAX);
	virtio_cfg_put32(c + CFG_BLK_SIZE, SECTOR_SIZE);
	virtio_cfg_put32(c + CFG_MAX_DISCARD_SECTORS, BLK_MAX_DISCARD_SECTORS);
	virtio_cfg_put32(c + CFG_MAX_DISCARD_SEG, 1);
	virtio_cfg_put32(c + CFG_DISCARD_ALIGNMENT, 1);
	virtio_cfg_put32(c + CFG_MAX_WZ_SECTORS, BLK_MAX_DISCARD_SECTORS);
	virtio_cfg_put32(c + CFG_MAX_WZ_SEG, 1);
	c[CFG_WZ_MAY_UNMAP] = 1;
}

static int blk_start_workers(struct virtio_blk *b, struct verr *err)
{
	for (unsigned i = 0; i < BLK_WORKERS; i++) {
		int r = pthread_create(&b->workers[i], NULL, blk_worker, b);
		if (r) {
			blk_stop_workers(b);
			return verr_set(err, r, "virtio-blk: cannot start I/O thread");
		}
		b->n_workers++;
	}
	return 0;
}

struct virtio_device *virtio_blk_create(struct blk *disk, struct verr *err)
{
	if (!disk) {
		verr_set(err, EINVAL, "virtio-blk: no disk");
		return NULL;
	}
	struct virtio_blk *b = calloc(1, sizeof(*b));
	if (!b) {
		verr_set(err, ENOMEM, "virtio-blk: out of memory");
		return NULL;
	}
	virtio_device_init(&b->vdev, VIRTIO_ID_BLK, 1, BLK_QUEUE_SIZE, &blk_ops);
	b->disk = disk;
	b->readonly = blk_is_readonly(disk);
	b->capacity = blk_size(disk) / SECTOR_SIZE;
	b->vdev.features = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX |
			   1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH |
			   1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES |
			   (b->readonly ? 1ull << VIRTIO_BLK_F_RO : 0);
	blk_config_init(b);
	b->vdev.config = b->config;
	b->vdev.config_size = CFG_SIZE;
	virtio_blk_set_serial(&b->vdev, "vessel-disk");
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->tail = &b->head;
	if (blk_start_workers(b, err)) {
		b->disk = NULL; /* the caller still owns it on failure */
		pthread_mutex_destroy(&b->lock);
		pthread_cond_destroy(&b->cond);
		for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
			virtq_destroy(&b->vdev.vq[i]);
		free(b);
		return NULL;
	}
	return &b->vdev;
}

void virtio_blk_set_serial(struct virtio_device *vdev, const char *serial)
{
	struct virtio_blk *b = to_blk(vdev);
	memset(b->serial, 0, sizeof(b->serial));
	memcpy(b->serial, serial, strnlen(serial, sizeof(b->serial)));
}

void virtio_blk_get_stats(struct virtio_device *vdev, struct virtio_blk_stats *st)
{
	struct virtio_blk *b = to_blk(vdev);
	st->read_bytes = atomic_load_explicit(&b->read_bytes, memory_order_relaxed);
	st->write_bytes = atomic_load_explicit(&b->write_bytes, memory_order_relaxed);
	st->read_ops = atomic_load_explicit(&b->read_ops, memory_order_relaxed);
	st->write_ops = atomic_load_explicit(&b->write_ops, memory_order_relaxed);
	st->flush_ops = atomic_load_explicit(&b->flush_ops, memory_order_relaxed);
}

int virtio_blk_flush_disk(struct virtio_device *vdev)
{
	return blk_flush(to_blk(vdev)->disk);
}

struct blk *virtio_blk_disk(struct virtio_device *vdev)
{
	return to_blk(vdev)->disk;
}
