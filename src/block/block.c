/* SPDX-License-Identifier: MIT */
/*
 * The format-independent half of the block layer: format probing, request
 * range checks, read-only enforcement, image creation and image info.
 */
#include "block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/blk_internal.h"
#include "block/qcow2.h"
#include "util/log.h"

const char *blk_format_name(enum blk_format fmt)
{
	switch (fmt) {
	case BLK_FMT_RAW:
		return "raw";
	case BLK_FMT_QCOW2:
		return "qcow2";
	case BLK_FMT_AUTO:
		break;
	}
	return "auto";
}

int blk_format_parse(const char *name, enum blk_format *fmt)
{
	if (!strcmp(name, "raw"))
		*fmt = BLK_FMT_RAW;
	else if (!strcmp(name, "qcow2"))
		*fmt = BLK_FMT_QCOW2;
	else if (!strcmp(name, "auto"))
		*fmt = BLK_FMT_AUTO;
	else
		return -EINVAL;
	return 0;
}

/* qcow2 is recognised by its magic; everything else is raw. */
static int blk_probe(const char *path, enum blk_format *fmt, struct verr *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return verr_set(err, errno, "%s: %s", path, strerror(errno));
	uint8_t magic[4] = {0};
	int r = blk_util_pread_full(fd, magic, sizeof(magic), 0);
	close(fd);
	if (r < 0 && r != -ENODATA)
		return verr_set(err, r, "%s: %s", path, strerror(-r));
	*fmt = memcmp(magic, QCOW2_MAGIC_BYTES, 4) ? BLK_FMT_RAW : BLK_FMT_QCOW2;
	return 0;
}

int blk_open_depth(const char *path, enum blk_format fmt, bool readonly, int depth,
		   struct blk **out, struct verr *err)
{
	*out = NULL;
	if (fmt == BLK_FMT_AUTO) {
		int r = blk_probe(path, &fmt, err);
		if (r < 0)
			return r;
	}
	if (fmt == BLK_FMT_RAW)
		return raw_open(path, readonly, out, err);
	if (fmt == BLK_FMT_QCOW2)
		return qcow2_open(path, readonly, depth, out, err);
	return verr_set(err, EINVAL, "%s: unknown image format", path);
}

int blk_open(const char *path, enum blk_format fmt, bool readonly, struct blk **out,
	     struct verr *err)
{
	int r = blk_open_depth(path, fmt, readonly, 0, out, err);
	if (r)
		return r;
	/* Kept to open the image again after a handover (blk_activate). */
	if (!((*out)->path = strdup(path))) {
		blk_close(*out);
		*out = NULL;
		return verr_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

void blk_close(struct blk *b)
{
	if (!b)
		return;
	free(b->path);
	free((void *)b->dirty);
	b->path = NULL;
	b->dirty = NULL;
	b->ops->close(b);
}

uint64_t blk_size(const struct blk *b)
{
	return b->size;
}

bool blk_is_readonly(const struct blk *b)
{
	return b->readonly;
}

static bool blk_range_ok(const struct blk *b, uint64_t off, uint64_t len)
{
	return off <= b->size && len <= b->size - off;
}

int blk_pread(struct blk *b, void *buf, size_t len, uint64_t off)
{
	if (!blk_range_ok(b, off, len))
		return -EINVAL;
	return len ? b->ops->pread(b, buf, len, off) : 0;
}

int blk_pwrite(struct blk *b, const void *buf, size_t len, uint64_t off)
{
	if (b->readonly)
		return -EROFS;
	if (!blk_range_ok(b, off, len))
		return -EINVAL;
	if (!len)
		return 0;
	int r = b->ops->pwrite(b, buf, len, off);
	/* Marked after the write: a migration that fetched the mark reads the new data. */
	blk_dirty_mark(b, off, len);
	return r;
}

int blk_flush(struct blk *b)
{
	if (b->readonly)
		return 0;
	return b->ops->flush(b);
}

int blk_discard(struct blk *b, uint64_t off, uint64_t len)
{
	if (b->readonly)
		return -EROFS;
	if (!blk_range_ok(b, off, len))
		return -EINVAL;
	if (!len)
		return 0;
	int r = b->ops->discard(b, off, len);
	blk_dirty_mark(b, off, len);
	return r;
}

int blk_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap)
{
	if (b->readonly)
		return -EROFS;
	if (!blk_range_ok(b, off, len))
		return -EINVAL;
	if (!len)
		return 0;
	int r = b->ops->write_zeroes(b, off, len, may_unmap);
	blk_dirty_mark(b, off, len);
	return r;
}

int blk_is_zero(struct blk *b, uint64_t off, uint64_t len)
{
	if (!blk_range_ok(b, off, len))
		return -EINVAL;
	return b->ops->is_zero ? b->ops->is_zero(b, off, len) : 0;
}

/* Format and size of the image a new overlay will sit on. */
static int blk_create_backing_probe(const char *path, const char *backing, enum blk_format *fmt,
				    uint64_t *size, struct verr *err)
{
	char resolved[4096];
	if (blk_util_resolve(path, backing, resolved, sizeof(resolved)) < 0)
		return verr_set(err, ENAMETOOLONG, "backing file name too long");
	struct stat st_img, st_back;
	if (stat(path, &st_img) == 0 && stat(resolved, &st_back) == 0 &&
	    st_img.st_dev == st_back.st_dev && st_img.st_ino == st_back.st_ino)
		return verr_set(err, EINVAL, "the backing file is the image itself");
	struct blk *b;
	struct verr e2;
	int r = blk_open(resolved, BLK_FMT_AUTO, true, &b, &e2);
	if (r < 0)
		return verr_set(err, r, "cannot open backing file: %s", e2.msg);
	*fmt = b->format;
	*size = b->size;
	blk_close(b);
	return 0;
}

static int blk_create_check_target(const char *path, struct verr *err)
{
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return verr_set(err, EEXIST, "%s exists and is not a regular file", path);
	return 0;
}

/* Default permissions of a new file: what open(O_CREAT, 0666) would give. */
static mode_t blk_create_mode(void)
{
	mode_t mask = umask(022);
	umask(mask);
	return 0666 & ~mask;
}

int blk_create(const char *path, enum blk_format fmt, uint64_t size, const char *backing,
	       struct verr *err)
{
	if (fmt == BLK_FMT_AUTO)
		fmt = BLK_FMT_QCOW2;
	if (backing && !*backing)
		backing = NULL;
	if (fmt == BLK_FMT_RAW && backing)
		return verr_set(err, EINVAL, "raw images cannot have a backing file");
	if (backing && strlen(backing) > QCOW2_MAX_BACKING_NAME)
		return verr_set(err, ENAMETOOLONG, "backing file name longer than %d bytes",
				QCOW2_MAX_BACKING_NAME);
	int r = blk_create_check_target(path, err);
	if (r < 0)
		return r;
	enum blk_format bfmt = BLK_FMT_RAW;
	if (backing) {
		uint64_t bsize;
		r = blk_create_backing_probe(path, backing, &bfmt, &bsize, err);
		if (r < 0)
			return r;
		if (!size)
			size = bsize;
	}
	if (size > UINT64_MAX - 511)
		return verr_set(err, EFBIG, "size too large");
	size = (size + 511) & ~(uint64_t)511;

	/* Build the image under a temporary name and rename it into place, so a
	 * failure never leaves a half-written image behind. */
	size_t plen = strlen(path) + 32;
	char *tmp = malloc(plen);
	if (!tmp)
		return verr_set(err, ENOMEM, "out of memory");
	snprintf(tmp, plen, "%s.vessel-tmp-XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = verr_set(err, errno, "cannot create %s: %s", path, strerror(errno));
		free(tmp);
		return r;
	}
	if (fchmod(fd, blk_create_mode()) < 0)
		r = verr_set(err, errno, "chmod: %s", strerror(errno));
	else if (fmt == BLK_FMT_RAW)
		r = raw_create(fd, size, err);
	else
		r = qcow2_create(fd, size, backing, backing ? blk_format_name(bfmt) : NULL, err);
	if (r == 0 && fsync(fd) < 0)
		r = verr_set(err, errno, "fsync: %s", strerror(errno));
	if (close(fd) < 0 && r == 0)
		r = verr_set(err, errno, "close: %s", strerror(errno));
	if (r == 0 && rename(tmp, path) < 0)
		r = verr_set(err, errno, "cannot create %s: %s", path, strerror(errno));
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}

int blk_info_get(const char *path, struct blk_info *info, struct verr *err)
{
	memset(info, 0, sizeof(*info));
	enum blk_format fmt;
	int r = blk_probe(path, &fmt, err);
	if (r < 0)
		return r;
	struct blk *b;
	r = fmt == BLK_FMT_QCOW2 ? qcow2_open(path, true, -1, &b, err)
				 : raw_open(path, true, &b, err);
	if (r < 0)
		return r;
	info->format = b->format;
	info->virtual_size = b->size;
	if (fmt == BLK_FMT_QCOW2)
		qcow2_backing_name(b, info->backing, sizeof(info->backing));
	blk_close(b);
	struct stat st;
	if (stat(path, &st) < 0)
		return verr_set(err, errno, "%s: %s", path, strerror(errno));
	info->allocated_bytes = (uint64_t)st.st_blocks * 512;
	return 0;
}
