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

#endif
