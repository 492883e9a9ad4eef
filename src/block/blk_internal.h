/* SPDX-License-Identifier: MIT */
/*
 * What every block backend provides behind struct blk.  block.c checks
 * ranges and read-only state once, so the backends see only valid requests.
 */
#ifndef VESSEL_BLOCK_BLK_INTERNAL_H
#define VESSEL_BLOCK_BLK_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/block.h"

struct verr;

struct blk_ops {
	int (*pread)(struct blk *b, void *buf, size_t len, uint64_t off);
	int (*pwrite)(struct blk *b, const void *buf, size_t len, uint64_t off);
	int (*flush)(struct blk *b);
	int (*discard)(struct blk *b, uint64_t off, uint64_t len);
	int (*write_zeroes)(struct blk *b, uint64_t off, uint64_t len, bool may_unmap);
	void (*close)(struct blk *b);
	/* Optional: 1 when [off, off+len) reads as zeros without holding data (a hole,
	 * unallocated or zero clusters), 0 when it may hold data, or -errno. */
	int (*is_zero)(struct blk *b, uint64_t off, uint64_t len);
};

struct blk {
	const struct blk_ops *ops;
	enum blk_format format;
	bool readonly;
	uint64_t size;
	void *priv; /* the backend's own state */

	/* Set by blk_open for the top image: what blk_activate opens again. */
	char *path;
	bool inactive; /* no backend open: handed over (blk_handover.c) */

	/* Written chunks while migrating (blk_dirty.c): allocated at the first
	 * start, kept until close, so a write racing with stop needs no lock. */
	_Atomic uint64_t *dirty;
	atomic_bool tracking;
};

/* Deepest backing chain we follow; also stops a chain that loops. */
#define BLK_MAX_CHAIN 16

/* Internal open with a chain depth (0 for the top image). */
int blk_open_depth(const char *path, enum blk_format fmt, bool readonly, int depth,
		   struct blk **out, struct verr *err);

int raw_open(const char *path, bool readonly, struct blk **out, struct verr *err);
/* Creators write a fresh image into an empty file opened by blk_create. */
int raw_create(int fd, uint64_t size, struct verr *err);

/* depth < 0: do not open the backing file (used by blk_info_get). */
int qcow2_open(const char *path, bool readonly, int depth, struct blk **out, struct verr *err);
int qcow2_create(int fd, uint64_t size, const char *backing, const char *backing_fmt,
		 struct verr *err);
/* Backing file name exactly as stored in the image ("" when none). */
int qcow2_backing_name(struct blk *b, char *buf, size_t len);

/* Full-length positional I/O: retries short transfers and EINTR; a read that
 * meets end of file returns -ENODATA. */
int blk_util_pread_full(int fd, void *buf, size_t len, uint64_t off);
/* Like blk_util_pread_full, but what lies past end of file reads as zeros. */
int blk_util_pread_zfill(int fd, void *buf, size_t len, uint64_t off);
int blk_util_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* Resolve 'name' (a backing file reference) relative to the directory of 'image'. */
int blk_util_resolve(const char *image, const char *name, char *out, size_t outlen);

/* blk_dirty.c: note a write to [off, off+len) if tracking (after it happened). */
void blk_dirty_mark(struct blk *b, uint64_t off, uint64_t len);

#endif
