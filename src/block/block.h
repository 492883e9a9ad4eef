/* SPDX-License-Identifier: MIT */
/*
 * Block backends: a virtual disk behind one interface, whatever its format
 * (raw file, qcow2 image with an optional chain of backing files).
 *
 * All I/O functions are synchronous and safe to call from several threads at
 * once; the virtio-blk device calls them from its I/O workers, never from a
 * vCPU thread.  They return 0 or a negative errno.
 */
#ifndef VESSEL_BLOCK_BLOCK_H
#define VESSEL_BLOCK_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct verr;

enum blk_format {
	BLK_FMT_AUTO = 0, /* probe: qcow2 by its magic, otherwise raw */
	BLK_FMT_RAW,
	BLK_FMT_QCOW2,
};

struct blk;

int blk_open(const char *path, enum blk_format fmt, bool readonly, struct blk **out,
	     struct verr *err);
void blk_close(struct blk *b);

uint64_t blk_size(const struct blk *b); /* virtual size in bytes */
bool blk_is_readonly(const struct blk *b);

int blk_pread(struct blk *b, void *buf, size_t len, uint64_t off);
int blk_pwrite(struct blk *b, const void *buf, size_t len, uint64_t off);
int blk_flush(struct blk *b); /* durable: ends in fdatasync */
int blk_discard(struct blk *b, uint64_t off, uint64_t len);
int blk_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap);
/* 1 when [off, off+len) is known to read as zeros without reading it (a hole in a raw
 * file, unallocated or zero qcow2 clusters), 0 when it may hold data, or -errno. */
int blk_is_zero(struct blk *b, uint64_t off, uint64_t len);

/* Create an image; 'backing' (may be NULL) makes a copy-on-write overlay. */
int blk_create(const char *path, enum blk_format fmt, uint64_t size, const char *backing,
	       struct verr *err);

struct blk_info {
	enum blk_format format;
	uint64_t virtual_size;
	uint64_t allocated_bytes; /* host bytes in use */
	char backing[4096];	  /* "" when none */
};
int blk_info_get(const char *path, struct blk_info *info, struct verr *err);

const char *blk_format_name(enum blk_format fmt);
int blk_format_parse(const char *name, enum blk_format *fmt);

/*
 * Live migration (snapshot/migrate_disk.c).
 *
 * Handover of an image on shared storage between two processes: the source
 * flushes and closes it (blk_inactivate: its write lock goes), the
 * destination, which opened it inactive (checked, not locked, no metadata
 * kept), opens it for real once the source is done (blk_activate: lock and
 * metadata read afresh).  No request may be in flight around either call;
 * an inactive image fails I/O with -EIO.
 */
int blk_open_inactive(const char *path, enum blk_format fmt, bool readonly, struct blk **out,
		      struct verr *err);
int blk_inactivate(struct blk *b);		   /* a read-only image stays open: 0 */
int blk_activate(struct blk *b, struct verr *err); /* 0 when already active */
bool blk_is_active(const struct blk *b);

/*
 * Dirty tracking for copying a disk while it is written: one bit per
 * BLK_DIRTY_CHUNK bytes, set after each write, discard or write-zeroes.
 * fetch moves the bits set since the last fetch (or start) into 'bitmap'
 * (blk_dirty_words() words) and clears them.
 */
#define BLK_DIRTY_CHUNK 65536u
int blk_dirty_start(struct blk *b);
void blk_dirty_stop(struct blk *b);
void blk_dirty_fetch(struct blk *b, uint64_t *bitmap);
uint64_t blk_dirty_chunks(const struct blk *b);
size_t blk_dirty_words(const struct blk *b);

#endif
