/* SPDX-License-Identifier: MIT */
/* Raw images: the file is the disk, byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/blk_internal.h"
#include "util/log.h"

struct raw {
	int fd;
};

static int raw_fd(struct blk *b)
{
	return ((struct raw *)b->priv)->fd;
}

static int raw_pread(struct blk *b, void *buf, size_t len, uint64_t off)
{
	int r = blk_util_pread_full(raw_fd(b), buf, len, off);
	if (r == -ENODATA) {
		/* The file shrank under us: what is missing reads as zeros. */
		struct stat st;
		if (fstat(raw_fd(b), &st) < 0)
			return -errno;
		uint64_t have = (uint64_t)st.st_size > off ? (uint64_t)st.st_size - off : 0;
		if (have >= len)
			return -EIO;
		memset((uint8_t *)buf + have, 0, len - have);
		return have ? blk_util_pread_full(raw_fd(b), buf, have, off) : 0;
	}
	return r;
}

static int raw_pwrite(struct blk *b, const void *buf, size_t len, uint64_t off)
{
	return blk_util_pwrite_full(raw_fd(b), buf, len, off);
}

static int raw_flush(struct blk *b)
{
	return fdatasync(raw_fd(b)) < 0 ? -errno : 0;
}

static int raw_discard(struct blk *b, uint64_t off, uint64_t len)
{
	/* Discard is a hint: a file system without hole punching just keeps the data. */
	if (fallocate(raw_fd(b), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
		      (off_t)len) < 0 &&
	    errno != EOPNOTSUPP)
		return -errno;
	return 0;
}

static int raw_write_zeroes_slow(struct blk *b, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[65536];
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int r = blk_util_pwrite_full(raw_fd(b), zeros, n, off);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

static int raw_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap)
{
	int mode = may_unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
			     : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	if (fallocate(raw_fd(b), mode, (off_t)off, (off_t)len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != EINVAL && errno != ENODEV)
		return -errno;
	return raw_write_zeroes_slow(b, off, len);
}

static int raw_is_zero(struct blk *b, uint64_t off, uint64_t len)
{
	/* The first data at or after 'off': none (ENXIO) or past the range is a hole. */
	off_t data = lseek(raw_fd(b), (off_t)off, SEEK_DATA);
	if (data < 0)
		return errno == ENXIO ? 1 : 0;
	return (uint64_t)data >= off + len;
}

static void raw_close(struct blk *b)
{
	close(raw_fd(b));
	free(b->priv);
	free(b);
}

static const struct blk_ops raw_ops = {
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .flush = raw_flush,
    .discard = raw_discard,
    .write_zeroes = raw_write_zeroes,
    .close = raw_close,
    .is_zero = raw_is_zero,
};

static int raw_size(int fd, const char *path, uint64_t *size, struct verr *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return verr_set(err, errno, "%s: %s", path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0)
			return verr_set(err, errno, "%s: %s", path, strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return verr_set(err, EINVAL, "%s: not a regular file or block device", path);
	*size = (uint64_t)st.st_size;
	return 0;
}

int raw_open(const char *path, bool readonly, struct blk **out, struct verr *err)
{
	int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return verr_set(err, errno, "%s: %s", path, strerror(errno));
	uint64_t size;
	int r = raw_size(fd, path, &size, err);
	if (r < 0) {
		close(fd);
		return r;
	}
	struct blk *b = calloc(1, sizeof(*b));
	struct raw *s = calloc(1, sizeof(*s));
	if (!b || !s) {
		free(b);
		free(s);
		close(fd);
		return verr_set(err, ENOMEM, "out of memory");
	}
	s->fd = fd;
	b->ops = &raw_ops;
	b->format = BLK_FMT_RAW;
	b->readonly = readonly;
	b->size = size;
	b->priv = s;
	*out = b;
	return 0;
}

int raw_create(int fd, uint64_t size, struct verr *err)
{
	if (size > INT64_MAX)
		return verr_set(err, EFBIG, "size too large");
	if (ftruncate(fd, (off_t)size) < 0)
		return verr_set(err, errno, "cannot set size: %s", strerror(errno));
	return 0;
}
