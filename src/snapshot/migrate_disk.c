/* SPDX-License-Identifier: MIT */
/* Disks in a live migration (snapshot/migrate_disk.h). */
#include "snapshot/migrate_disk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "block/block.h"
#include "devices/virtio.h"
#include "devices/virtio_blk.h"
#include "util/log.h"

struct mig_disks_hdr {
	uint32_t count, chunk;
};

struct mig_chunk {
	uint64_t offset;
	uint32_t disk, len, clen, zero;
};

unsigned migdisk_list(struct machine *m, struct blk **out)
{
	struct machine_parts p;
	machine_get_parts(m, &p);
	unsigned n = 0;
	for (unsigned i = 0; i < VIRT_VIRTIO_SLOTS; i++) {
		struct virtio_device *v = p.vdev[i];
		if (!v || v->device_id != VIRTIO_ID_BLK)
			continue;
		struct blk *b = virtio_blk_disk(v);
		if (b && !blk_is_readonly(b))
			out[n++] = b;
	}
	return n;
}

int migdisk_release(struct machine *m, struct verr *err)
{
	struct blk *b[MIGDISK_MAX];
	unsigned n = migdisk_list(m, b);
	for (unsigned i = 0; i < n; i++) {
		int r = blk_inactivate(b[i]);
		if (!r)
			continue;
		struct verr ignore;
		for (unsigned k = 0; k < i; k++)
			blk_activate(b[k], &ignore);
		return verr_set(err, -r, "disk %u: flush before the handover: %s", i, strerror(-r));
	}
	return 0;
}

int migdisk_flush(struct machine *m, struct verr *err)
{
	struct blk *b[MIGDISK_MAX];
	unsigned n = migdisk_list(m, b);
	for (unsigned i = 0; i < n; i++) {
		int r = blk_flush(b[i]);
		if (r)
			return verr_set(err, -r, "disk %u: flush: %s", i, strerror(-r));
	}
	return 0;
}

int migdisk_acquire(struct machine *m, struct verr *err)
{
	struct blk *b[MIGDISK_MAX];
	unsigned n = migdisk_list(m, b);
	for (unsigned i = 0; i < n; i++) {
		struct verr e = {{0}};
		int r = blk_activate(b[i], &e);
		if (!r)
			continue;
		/* All or nothing: one disk we cannot open leaves the others closed too. */
		for (unsigned k = 0; k < i; k++)
			blk_inactivate(b[k]);
		return verr_set(err, -r, "disk %u: %s", i, e.msg);
	}
	return 0;
}

/* ---- Source ------------------------------------------------------------------------------- */

static size_t batch_bytes(void)
{
	return MIGDISK_BATCH * (sizeof(struct mig_chunk) + ZSTD_compressBound(BLK_DIRTY_CHUNK));
}

int migdisk_src_start(struct migdisk *d, struct machine *m, struct verr *err)
{
	struct blk *b[MIGDISK_MAX];
	unsigned n = migdisk_list(m, b);
	return migdisk_src_init(d, b, n, err);
}

int migdisk_src_init(struct migdisk *d, struct blk *const *blk, unsigned n, struct verr *err)
{
	memset(d, 0, sizeof(*d));
	d->n = n < MIGDISK_MAX ? n : MIGDISK_MAX;
	memcpy(d->blk, blk, d->n * sizeof(*blk));
	d->buf = malloc(batch_bytes());
	d->chunk = malloc(BLK_DIRTY_CHUNK);
	d->zc = ZSTD_createCCtx();
	if (!d->buf || !d->chunk || !d->zc)
		return verr_set(err, ENOMEM, "out of memory");
	for (unsigned i = 0; i < d->n; i++) {
		size_t words = blk_dirty_words(d->blk[i]);
		uint64_t chunks = blk_dirty_chunks(d->blk[i]);
		d->pending[i] = calloc(words ? words : 1, sizeof(uint64_t));
		d->fetched[i] = calloc(words ? words : 1, sizeof(uint64_t));
		if (!d->pending[i] || !d->fetched[i])
			return verr_set(err, ENOMEM, "out of memory");
		/* The first pass: every chunk. */
		for (uint64_t c = 0; c < chunks; c++)
			d->pending[i][c / 64] |= 1ull << (c % 64);
		int r = blk_dirty_start(d->blk[i]);
		if (r)
			return verr_set(err, -r, "disk %u: dirty tracking: %s", i, strerror(-r));
	}
	return 0;
}

int migdisk_send_info(struct migdisk *d, int fd, struct verr *err)
{
	uint8_t msg[sizeof(struct mig_disks_hdr) + MIGDISK_MAX * sizeof(uint64_t)];
	struct mig_disks_hdr h = {d->n, BLK_DIRTY_CHUNK};
	memcpy(msg, &h, sizeof(h));
	for (unsigned i = 0; i < d->n; i++) {
		uint64_t size = blk_size(d->blk[i]);
		memcpy(msg + sizeof(h) + i * sizeof(size), &size, sizeof(size));
	}
	return mig_send_msg(fd, MIG_DISKS, msg, sizeof(h) + d->n * sizeof(uint64_t), err);
}

uint64_t migdisk_fetch(struct migdisk *d)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < d->n; i++) {
		size_t words = blk_dirty_words(d->blk[i]);
		blk_dirty_fetch(d->blk[i], d->fetched[i]);
		for (size_t w = 0; w < words; w++) {
			d->pending[i][w] |= d->fetched[i][w];
			n += (uint64_t)__builtin_popcountll(d->pending[i][w]);
		}
	}
	return n;
}

static int flush_chunks(struct migdisk *d, int fd, struct verr *err)
{
	if (!d->count)
		return 0;
	int r = mig_send_msg(fd, MIG_DISK, d->buf, d->used, err);
	d->bytes_sent += d->used + 16;
	d->used = 0;
	d->count = 0;
	return r;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	/* Word at a time: the buffer is malloc'ed, so aligned. */
	const uint64_t *w = (const uint64_t *)p;
	size_t i = 0;
	for (; i < len / 8; i++)
		if (w[i])
			return false;
	for (i *= 8; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static int queue_chunk(struct migdisk *d, int fd, unsigned disk, uint64_t c, struct verr *err)
{
	struct blk *b = d->blk[disk];
	uint64_t off = c * BLK_DIRTY_CHUNK, size = blk_size(b);
	uint32_t len = (uint32_t)(size - off < BLK_DIRTY_CHUNK ? size - off : BLK_DIRTY_CHUNK);
	/* Holes and unallocated clusters are not even read. */
	bool hole = blk_is_zero(b, off, len) == 1;
	int r = hole ? 0 : blk_pread(b, d->chunk, len, off);
	if (r)
		return verr_set(err, -r, "disk %u: read at %llu: %s", disk, (unsigned long long)off,
				strerror(-r));
	struct mig_chunk e = {.offset = off, .disk = disk, .len = len};
	uint8_t *out = d->buf + d->used + sizeof(e);
	if (!hole && !all_zero(d->chunk, len)) {
		size_t n = ZSTD_compressCCtx(d->zc, out, ZSTD_compressBound(BLK_DIRTY_CHUNK),
					     d->chunk, len, 1);
		if (ZSTD_isError(n) || n >= len) {
			memcpy(out, d->chunk, len);
			n = len;
		}
		e.clen = (uint32_t)n;
	}
	memcpy(d->buf + d->used, &e, sizeof(e));
	d->used += sizeof(e) + e.clen;
	d->chunks_sent++;
	if (++d->count == MIGDISK_BATCH)
		return flush_chunks(d, fd, err);
	return 0;
}

int migdisk_send_pending(struct migdisk *d, int fd, struct verr *err)
{
	for (unsigned i = 0; i < d->n; i++) {
		size_t words = blk_dirty_words(d->blk[i]);
		for (size_t w = 0; w < words; w++) {
			while (d->pending[i][w]) {
				unsigned bit = (unsigned)__builtin_ctzll(d->pending[i][w]);
				d->pending[i][w] &= d->pending[i][w] - 1;
				int r = queue_chunk(d, fd, i, (uint64_t)w * 64 + bit, err);
				if (r)
					return r;
			}
		}
	}
	return flush_chunks(d, fd, err);
}

void migdisk_src_end(struct migdisk *d)
{
	for (unsigned i = 0; i < d->n; i++) {
		blk_dirty_stop(d->blk[i]);
		free(d->pending[i]);
		free(d->fetched[i]);
	}
	ZSTD_freeCCtx(d->zc);
	free(d->buf);
	free(d->chunk);
	memset(d, 0, sizeof(*d));
}

/* ---- Destination ------------------------------------------------------------------------- */

int migdisk_dst_start(struct migdisk *d, struct machine *m, struct verr *err)
{
	struct blk *b[MIGDISK_MAX];
	unsigned n = migdisk_list(m, b);
	int r = migdisk_dst_init(d, b, n, err);
	/* We write them from the first chunk on: they must be ours. */
	return r ? r : migdisk_acquire(m, err);
}

int migdisk_dst_init(struct migdisk *d, struct blk *const *blk, unsigned n, struct verr *err)
{
	memset(d, 0, sizeof(*d));
	d->n = n < MIGDISK_MAX ? n : MIGDISK_MAX;
	memcpy(d->blk, blk, d->n * sizeof(*blk));
	d->chunk = malloc(BLK_DIRTY_CHUNK);
	d->zd = ZSTD_createDCtx();
	if (!d->chunk || !d->zd)
		return verr_set(err, ENOMEM, "out of memory");
	return 0;
}

int migdisk_dst_info(struct migdisk *d, const uint8_t *buf, size_t len, struct verr *err)
{
	struct mig_disks_hdr h;
	if (len < sizeof(h))
		return verr_set(err, EINVAL, "migration stream: short DISKS message");
	memcpy(&h, buf, sizeof(h));
	if (h.chunk != BLK_DIRTY_CHUNK || h.count > MIGDISK_MAX ||
	    len != sizeof(h) + h.count * sizeof(uint64_t))
		return verr_set(err, EINVAL, "migration stream: bad DISKS message");
	if (h.count != d->n)
		return verr_set(err, EINVAL, "the source copies %u writable disks, this VM has %u",
				h.count, d->n);
	for (unsigned i = 0; i < d->n; i++) {
		uint64_t size;
		memcpy(&size, buf + sizeof(h) + i * sizeof(size), sizeof(size));
		if (size != blk_size(d->blk[i]))
			return verr_set(
			    err, EINVAL, "disk %u: the source's is %llu bytes, ours %llu", i,
			    (unsigned long long)size, (unsigned long long)blk_size(d->blk[i]));
	}
	d->have_info = true;
	return 0;
}

/* One entry: checked against the disk before anything is written. */
static int apply_chunk(struct migdisk *d, const struct mig_chunk *e, const uint8_t *data,
		       struct verr *err)
{
	struct blk *b = d->blk[e->disk];
	int r;
	if (!e->clen) {
		r = blk_write_zeroes(b, e->offset, e->len, true);
	} else if (e->clen == e->len) {
		r = blk_pwrite(b, data, e->len, e->offset);
	} else {
		size_t n = ZSTD_decompressDCtx(d->zd, d->chunk, BLK_DIRTY_CHUNK, data, e->clen);
		if (ZSTD_isError(n) || n != e->len)
			return verr_set(err, EINVAL, "migration stream: bad compressed chunk");
		r = blk_pwrite(b, d->chunk, e->len, e->offset);
	}
	if (r)
		return verr_set(err, -r, "disk %u: write at %llu: %s", e->disk,
				(unsigned long long)e->offset, strerror(-r));
	return 0;
}

int migdisk_dst_apply(struct migdisk *d, const uint8_t *buf, size_t len, struct verr *err)
{
	if (!d->have_info)
		return verr_set(err, EINVAL, "migration stream: disk data before DISKS");
	size_t off = 0;
	while (off < len) {
		struct mig_chunk e;
		if (len - off < sizeof(e))
			return verr_set(err, EINVAL, "migration stream: short disk entry");
		memcpy(&e, buf + off, sizeof(e));
		off += sizeof(e);
		if (e.disk >= d->n || e.zero || e.offset % BLK_DIRTY_CHUNK)
			return verr_set(err, EINVAL, "migration stream: bad disk entry");
		uint64_t size = blk_size(d->blk[e.disk]);
		if (e.offset >= size ||
		    e.len !=
			(size - e.offset < BLK_DIRTY_CHUNK ? size - e.offset : BLK_DIRTY_CHUNK))
			return verr_set(
			    err, EINVAL,
			    "migration stream: disk %u: chunk at %llu of %u bytes is not "
			    "on the disk (%llu bytes)",
			    e.disk, (unsigned long long)e.offset, e.len, (unsigned long long)size);
		if (e.clen > e.len || e.clen > len - off)
			return verr_set(err, EINVAL, "migration stream: bad disk entry length");
		int r = apply_chunk(d, &e, buf + off, err);
		if (r)
			return r;
		off += e.clen;
		d->chunks_sent++;
	}
	return 0;
}

int migdisk_dst_flush(struct migdisk *d, struct verr *err)
{
	for (unsigned i = 0; i < d->n; i++) {
		int r = blk_flush(d->blk[i]);
		if (r)
			return verr_set(err, -r, "disk %u: flush: %s", i, strerror(-r));
	}
	return 0;
}

void migdisk_dst_end(struct migdisk *d)
{
	ZSTD_freeDCtx(d->zd);
	free(d->chunk);
	memset(d, 0, sizeof(*d));
}
