/* SPDX-License-Identifier: MIT */
/* Copying a disk image for a snapshot, holes kept (snapshot/snapshot.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot.h"
#include "util/log.h"

/* Copy [off, off+len) of in to the same place in out. */
static int copy_range(int in, int out, off_t off, off_t len)
{
	while (len > 0) {
		off64_t a = off, b = off;
		ssize_t n = copy_file_range(in, &a, out, &b, (size_t)len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP)) {
			char buf[65536];
			size_t want = len < (off_t)sizeof(buf) ? (size_t)len : sizeof(buf);
			n = pread(in, buf, want, off);
			if (n > 0 && pwrite(out, buf, (size_t)n, off) != n)
				return -EIO;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file shrank under us */
		off += n;
		len -= n;
	}
	return 0;
}

static int copy_data(int in, int out, off_t size)
{
	off_t pos = 0;
	while (pos < size) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0)
			return errno == ENXIO ? 0 : -errno; /* only a hole is left */
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			hole = size;
		int r = copy_range(in, out, data, hole - data);
		if (r)
			return r;
		pos = hole;
	}
	return 0;
}

int snapshot_copy_file(const char *src, const char *dst, struct verr *err)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return verr_set(err, errno, "%s: %s", src, strerror(errno));
	struct stat st;
	if (fstat(in, &st)) {
		int e = errno;
		close(in);
		return verr_set(err, e, "%s: %s", src, strerror(e));
	}
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		int e = errno;
		close(in);
		return verr_set(err, e, "%s: %s", dst, strerror(e));
	}
	int r = ftruncate(out, st.st_size) ? -errno : copy_data(in, out, st.st_size);
	if (!r && fsync(out))
		r = -errno;
	close(in);
	if (close(out) && !r)
		r = -errno;
	if (r) {
		unlink(dst);
		return verr_set(err, -r, "copy %s to %s: %s", src, dst, strerror(-r));
	}
	return 0;
}
