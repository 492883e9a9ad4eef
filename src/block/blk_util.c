/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the block backends. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "block/blk_internal.h"

/* Read all of [off, off+len); at end of file either zero-fill the rest or fail. */
static int pread_all(int fd, uint8_t *p, size_t len, uint64_t off, bool zero_fill)
{
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			if (!zero_fill)
				return -ENODATA;
			memset(p, 0, len);
			return 0;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int blk_util_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	return pread_all(fd, buf, len, off, false);
}

int blk_util_pread_zfill(int fd, void *buf, size_t len, uint64_t off)
{
	return pread_all(fd, buf, len, off, true);
}

int blk_util_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Like qemu-img: a relative backing name is relative to the image's directory. */
int blk_util_resolve(const char *image, const char *name, char *out, size_t outlen)
{
	int n;
	const char *slash = strrchr(image, '/');
	if (name[0] == '/' || !slash)
		n = snprintf(out, outlen, "%s", name);
	else
		n = snprintf(out, outlen, "%.*s/%s", (int)(slash - image), image, name);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}
