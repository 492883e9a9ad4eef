/* SPDX-License-Identifier: MIT */
/* WASI: the descriptor table and the fd_* functions. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

/* Most iovecs in one read or write (the host's IOV_MAX). */
#define WASI_IOV_MAX 1024

struct wasi_fd *wasi_fd_get(struct wasi *w, uint32_t fd, uint64_t rights, int *e)
{
	if (fd >= w->nfds || w->fds[fd].host < 0) {
		*e = WASI_EBADF;
		return NULL;
	}
	if ((w->fds[fd].rights & rights) != rights) {
		*e = WASI_ENOTCAPABLE;
		return NULL;
	}
	return &w->fds[fd];
}

int wasi_fd_install(struct wasi *w, int host, uint8_t type, uint64_t rights, uint64_t inheriting)
{
	uint32_t slot = 0;
	while (slot < w->nfds && w->fds[slot].host >= 0)
		slot++;
	if (slot == w->nfds) {
		if (w->nfds == WASI_MAX_FDS)
			return -WASI_EMFILE;
		struct wasi_fd *n = realloc(w->fds, (w->nfds + 1) * sizeof(*n));
		if (!n)
			return -WASI_ENOMEM;
		w->fds = n;
		w->nfds++;
	}
	w->fds[slot] = (struct wasi_fd){
	    .host = host, .type = type, .rights = rights, .inheriting = inheriting};
	return (int)slot;
}

void wasi_fd_release(struct wasi_fd *f)
{
	if (f->host < 0)
		return;
	if (f->dir)
		closedir(f->dir);
	close(f->host);
	free(f->preopen);
	*f = (struct wasi_fd){.host = -1};
}

uint8_t wasi_filetype(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return WASI_FILETYPE_REGULAR_FILE;
	case S_IFDIR:
		return WASI_FILETYPE_DIRECTORY;
	case S_IFCHR:
		return WASI_FILETYPE_CHARACTER_DEVICE;
	case S_IFBLK:
		return WASI_FILETYPE_BLOCK_DEVICE;
	case S_IFLNK:
		return WASI_FILETYPE_SYMBOLIC_LINK;
	case S_IFSOCK:
		return WASI_FILETYPE_SOCKET_STREAM;
	default:
		return WASI_FILETYPE_UNKNOWN;
	}
}

void wasi_filestat_put(uint8_t *p, const struct stat *st)
{
	memset(p, 0, 64);
	wasi_put_u64(p, st->st_dev);
	wasi_put_u64(p + 8, st->st_ino);
	p[16] = wasi_filetype(st->st_mode);
	wasi_put_u64(p + 24, st->st_nlink);
	wasi_put_u64(p + 32, (uint64_t)st->st_size);
	wasi_put_u64(p + 40, (uint64_t)st->st_atim.tv_sec * 1000000000u + st->st_atim.tv_nsec);
	wasi_put_u64(p + 48, (uint64_t)st->st_mtim.tv_sec * 1000000000u + st->st_mtim.tv_nsec);
	wasi_put_u64(p + 56, (uint64_t)st->st_ctim.tv_sec * 1000000000u + st->st_ctim.tv_nsec);
}

/* The guest's iovec array as host iovecs, every buffer checked against memory. */
static int iovs_get(const struct wasi_call *c, uint32_t addr, uint32_t n, struct iovec **out)
{
	if (n > WASI_IOV_MAX)
		return WASI_EINVAL;
	const uint8_t *p = wasi_mem(c, addr, (uint64_t)n * 8);
	if (!p)
		return WASI_EFAULT;
	struct iovec *iov = calloc(n ? n : 1, sizeof(*iov));
	if (!iov)
		return WASI_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t buf = wasi_get_u32(p + 8 * i), len = wasi_get_u32(p + 8 * i + 4);
		uint8_t *b = wasi_mem(c, buf, len);
		if (!b) {
			free(iov);
			return WASI_EFAULT;
		}
		iov[i].iov_base = b;
		iov[i].iov_len = len;
	}
	*out = iov;
	return 0;
}

/* One of read/write/pread/pwrite; 'offset' < 0 means the current position. */
static int fd_rw(struct wasi_call *c, const struct wasm_val *a, int write, int64_t offset,
		 uint32_t nptr)
{
	int e;
	uint64_t need = write ? WASI_RIGHT_FD_WRITE : WASI_RIGHT_FD_READ;
	if (offset >= 0)
		need |= WASI_RIGHT_FD_SEEK;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, need, &e);
	if (!f)
		return e;
	if (!wasi_mem(c, nptr, 4))
		return WASI_EFAULT;
	struct iovec *iov;
	if ((e = iovs_get(c, a[1].i32, a[2].i32, &iov)))
		return e;
	ssize_t n;
	int cnt = (int)a[2].i32;
	do {
		if (write)
			n = offset >= 0 ? pwritev(f->host, iov, cnt, offset)
					: writev(f->host, iov, cnt);
		else
			n = offset >= 0 ? preadv(f->host, iov, cnt, offset)
					: readv(f->host, iov, cnt);
	} while (n < 0 && errno == EINTR);
	e = n < 0 ? errno : 0;
	free(iov);
	if (n < 0)
		return wasi_errno(e);
	return wasi_store_u32(c, nptr, (uint32_t)n);
}

static int wasi_fd_read(struct wasi_call *c, const struct wasm_val *a)
{
	return fd_rw(c, a, 0, -1, a[3].i32);
}

static int wasi_fd_write(struct wasi_call *c, const struct wasm_val *a)
{
	return fd_rw(c, a, 1, -1, a[3].i32);
}

static int wasi_fd_pread(struct wasi_call *c, const struct wasm_val *a)
{
	if (a[3].i64 > INT64_MAX)
		return WASI_EINVAL;
	return fd_rw(c, a, 0, (int64_t)a[3].i64, a[4].i32);
}

static int wasi_fd_pwrite(struct wasi_call *c, const struct wasm_val *a)
{
	if (a[3].i64 > INT64_MAX)
		return WASI_EINVAL;
	return fd_rw(c, a, 1, (int64_t)a[3].i64, a[4].i32);
}

static int wasi_fd_seek(struct wasi_call *c, const struct wasm_val *a)
{
	static const int whence[] = {SEEK_SET, SEEK_CUR, SEEK_END};
	int e;
	int64_t off = (int64_t)a[1].i64;
	uint32_t wh = a[2].i32;
	/* Asking the position only needs FD_TELL. */
	uint64_t need = (wh == 1 && off == 0) ? WASI_RIGHT_FD_TELL : WASI_RIGHT_FD_SEEK;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, need, &e);
	if (!f)
		return e;
	if (wh > 2)
		return WASI_EINVAL;
	if (!wasi_mem(c, a[3].i32, 8))
		return WASI_EFAULT;
	off_t r = lseek(f->host, off, whence[wh]);
	if (r < 0)
		return wasi_errno(errno);
	return wasi_store_u64(c, a[3].i32, (uint64_t)r);
}

static int wasi_fd_tell(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, WASI_RIGHT_FD_TELL, &e);
	if (!f)
		return e;
	if (!wasi_mem(c, a[1].i32, 8))
		return WASI_EFAULT;
	off_t r = lseek(f->host, 0, SEEK_CUR);
	if (r < 0)
		return wasi_errno(errno);
	return wasi_store_u64(c, a[1].i32, (uint64_t)r);
}

static int wasi_fd_close(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, 0, &e);
	if (!f)
		return e;
	wasi_fd_release(f);
	return 0;
}

static int wasi_fd_renumber(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct wasi_fd *from = wasi_fd_get(c->w, a[0].i32, 0, &e);
	struct wasi_fd *to = wasi_fd_get(c->w, a[1].i32, 0, &e);
	if (!from || !to)
		return WASI_EBADF;
	if (from == to)
		return 0;
	wasi_fd_release(to);
	*to = *from;
	*from = (struct wasi_fd){.host = -1};
	return 0;
}

static int wasi_fd_fdstat_get(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, 0, &e);
	if (!f)
		return e;
	uint8_t *p = wasi_mem(c, a[1].i32, 24);
	if (!p)
		return WASI_EFAULT;
	memset(p, 0, 24);
	p[0] = f->type;
	int fl = fcntl(f->host, F_GETFL);
	uint16_t flags = 0;
	if (fl >= 0) {
		flags |= (fl & O_APPEND) ? WASI_FDFLAG_APPEND : 0;
		flags |= (fl & O_NONBLOCK) ? WASI_FDFLAG_NONBLOCK : 0;
		flags |= (fl & O_DSYNC) ? WASI_FDFLAG_DSYNC : 0;
		flags |= ((fl & O_SYNC) == O_SYNC) ? WASI_FDFLAG_SYNC | WASI_FDFLAG_RSYNC : 0;
	}
	wasi_put_u16(p + 2, flags);
	wasi_put_u64(p + 8, f->rights);
	wasi_put_u64(p + 16, f->inheriting);
	return 0;
}

static int wasi_fd_fdstat_set_flags(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, WASI_RIGHT_FD_FDSTAT_SET_FLAGS, &e);
	if (!f)
		return e;
	uint32_t flags = a[1].i32;
	/* Linux changes only O_APPEND and O_NONBLOCK after open. */
	if (flags & ~(WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK))
		return WASI_ENOTSUP;
	int fl = fcntl(f->host, F_GETFL);
	if (fl < 0)
		return wasi_errno(errno);
	fl &= ~(O_APPEND | O_NONBLOCK);
	fl |= (flags & WASI_FDFLAG_APPEND) ? O_APPEND : 0;
	fl |= (flags & WASI_FDFLAG_NONBLOCK) ? O_NONBLOCK : 0;
	if (fcntl(f->host, F_SETFL, fl) < 0)
		return wasi_errno(errno);
	f->flags = (uint16_t)flags;
	return 0;
}

static int wasi_fd_fdstat_set_rights(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, 0, &e);
	if (!f)
		return e;
	/* Rights can only be dropped. */
	if ((a[1].i64 & ~f->rights) || (a[2].i64 & ~f->inheriting))
		return WASI_ENOTCAPABLE;
	f->rights = a[1].i64;
	f->inheriting = a[2].i64;
	return 0;
}

static int wasi_fd_filestat_get(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct stat st;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, WASI_RIGHT_FD_FILESTAT_GET, &e);
	if (!f)
		return e;
	uint8_t *p = wasi_mem(c, a[1].i32, 64);
	if (!p)
		return WASI_EFAULT;
	if (fstat(f->host, &st) < 0)
		return wasi_errno(errno);
	wasi_filestat_put(p, &st);
	return 0;
}

static int wasi_fd_filestat_set_size(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, WASI_RIGHT_FD_FILESTAT_SET_SIZE, &e);
	if (!f)
		return e;
	if (a[1].i64 > INT64_MAX)
		return WASI_EINVAL;
	return ftruncate(f->host, (off_t)a[1].i64) < 0 ? wasi_errno(errno) : 0;
}

/* atim/mtim/fstflags as the timespec pair of utimensat/futimens. */
int wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2])
{
	if (((fst & WASI_FST_ATIM) && (fst & WASI_FST_ATIM_NOW)) ||
	    ((fst & WASI_FST_MTIM) && (fst & WASI_FST_MTIM_NOW)) || (fst & ~15u))
		return WASI_EINVAL;
	uint64_t t[2] = {atim, mtim};
	for (int i = 0; i < 2; i++) {
		uint32_t set = i ? WASI_FST_MTIM : WASI_FST_ATIM;
		uint32_t now = i ? WASI_FST_MTIM_NOW : WASI_FST_ATIM_NOW;
		if (fst & now) {
			ts[i].tv_sec = 0;
			ts[i].tv_nsec = UTIME_NOW;
		} else if (fst & set) {
			ts[i].tv_sec = (time_t)(t[i] / 1000000000u);
			ts[i].tv_nsec = (long)(t[i] % 1000000000u);
		} else {
			ts[i].tv_sec = 0;
			ts[i].tv_nsec = UTIME_OMIT;
		}
	}
	return 0;
}

static int wasi_fd_filestat_set_times(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct timespec ts[2];
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, WASI_RIGHT_FD_FILESTAT_SET_TIMES, &e);
	if (!f)
		return e;
	if ((e = wasi_times(a[1].i64, a[2].i64, a[3].i32, ts)))
		return e;
	return futimens(f->host, ts) < 0 ? wasi_errno(errno) : 0;
}

static int wasi_fd_sync(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, WASI_RIGHT_FD_SYNC, &e);
	if (!f)
		return e;
	return fsync(f->host) < 0 ? wasi_errno(errno) : 0;
}

static int wasi_fd_datasync(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, WASI_RIGHT_FD_DATASYNC, &e);
	if (!f)
		return e;
	return fdatasync(f->host) < 0 ? wasi_errno(errno) : 0;
}

static int wasi_fd_advise(struct wasi_call *c, const struct wasm_val *a)
{
	static const int advice[] = {POSIX_FADV_NORMAL,	  POSIX_FADV_SEQUENTIAL,
				     POSIX_FADV_RANDOM,	  POSIX_FADV_WILLNEED,
				     POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, WASI_RIGHT_FD_ADVISE, &e);
	if (!f)
		return e;
	if (a[3].i32 >= 6 || a[1].i64 > INT64_MAX || a[2].i64 > INT64_MAX)
		return WASI_EINVAL;
	e = posix_fadvise(f->host, (off_t)a[1].i64, (off_t)a[2].i64, advice[a[3].i32]);
	return e ? wasi_errno(e) : 0;
}

static int wasi_fd_allocate(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, WASI_RIGHT_FD_ALLOCATE, &e);
	if (!f)
		return e;
	if (a[1].i64 > INT64_MAX || a[2].i64 > INT64_MAX)
		return WASI_EINVAL;
	e = posix_fallocate(f->host, (off_t)a[1].i64, (off_t)a[2].i64);
	return e ? wasi_errno(e) : 0;
}

static int wasi_fd_prestat_get(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, 0, &e);
	if (!f)
		return e;
	if (!f->preopen)
		return WASI_EBADF;
	uint8_t *p = wasi_mem(c, a[1].i32, 8);
	if (!p)
		return WASI_EFAULT;
	memset(p, 0, 8);
	wasi_put_u32(p + 4, (uint32_t)strlen(f->preopen));
	return 0;
}

static int wasi_fd_prestat_dir_name(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, 0, &e);
	if (!f)
		return e;
	if (!f->preopen)
		return WASI_EBADF;
	size_t len = strlen(f->preopen);
	if (a[2].i32 < len)
		return WASI_ENAMETOOLONG;
	uint8_t *p = wasi_mem(c, a[1].i32, len);
	if (!p)
		return WASI_EFAULT;
	memcpy(p, f->preopen, len);
	return 0;
}

/* ---- fd_readdir ---- */

static uint8_t dirent_type(struct wasi_fd *f, const struct dirent *d)
{
	switch (d->d_type) {
	case DT_REG:
		return WASI_FILETYPE_REGULAR_FILE;
	case DT_DIR:
		return WASI_FILETYPE_DIRECTORY;
	case DT_LNK:
		return WASI_FILETYPE_SYMBOLIC_LINK;
	case DT_CHR:
		return WASI_FILETYPE_CHARACTER_DEVICE;
	case DT_BLK:
		return WASI_FILETYPE_BLOCK_DEVICE;
	case DT_SOCK:
		return WASI_FILETYPE_SOCKET_STREAM;
	case DT_UNKNOWN: {
		struct stat st;
		if (fstatat(f->host, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return wasi_filetype(st.st_mode);
		return WASI_FILETYPE_UNKNOWN;
	}
	default:
		return WASI_FILETYPE_UNKNOWN;
	}
}

/* Position f->dir so that it reads the entry with index 'cookie' next. */
static int readdir_seek(struct wasi_fd *f, uint64_t cookie)
{
	if (!f->dir) {
		int fd = openat(f->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		f->dir = fdopendir(fd);
		if (!f->dir) {
			close(fd);
			return errno;
		}
		f->dir_pos = 0;
	}
	if (cookie < f->dir_pos) {
		rewinddir(f->dir);
		f->dir_pos = 0;
	}
	while (f->dir_pos < cookie) {
		errno = 0;
		if (!readdir(f->dir))
			return errno;
		f->dir_pos++;
	}
	return 0;
}

static int wasi_fd_readdir(struct wasi_call *c, const struct wasm_val *a)
{
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, a[0].i32, WASI_RIGHT_FD_READDIR, &e);
	if (!f)
		return e;
	uint32_t len = a[2].i32;
	uint8_t *buf = wasi_mem(c, a[1].i32, len);
	if (!buf || !wasi_mem(c, a[4].i32, 4))
		return WASI_EFAULT;
	if ((e = readdir_seek(f, a[3].i64)))
		return wasi_errno(e);
	uint32_t used = 0;
	while (used < len) {
		errno = 0;
		struct dirent *d = readdir(f->dir);
		if (!d) {
			if (errno)
				return wasi_errno(errno);
			break;
		}
		f->dir_pos++;
		size_t nlen = strlen(d->d_name);
		uint8_t ent[24] = {0};
		wasi_put_u64(ent, f->dir_pos);
		wasi_put_u64(ent + 8, d->d_ino);
		wasi_put_u32(ent + 16, (uint32_t)nlen);
		ent[20] = dirent_type(f, d);
		/* The last entry is cut at the end of the buffer; the guest asks again. */
		size_t n = len - used < 24 ? len - used : 24;
		memcpy(buf + used, ent, n);
		used += (uint32_t)n;
		n = len - used < nlen ? len - used : nlen;
		memcpy(buf + used, d->d_name, n);
		used += (uint32_t)n;
	}
	return wasi_store_u32(c, a[4].i32, used);
}

const struct wasi_import wasi_imports_fd[] = {
    {"fd_read", "iiii", "i", wasi_fd_read},
    {"fd_write", "iiii", "i", wasi_fd_write},
    {"fd_pread", "iiiIi", "i", wasi_fd_pread},
    {"fd_pwrite", "iiiIi", "i", wasi_fd_pwrite},
    {"fd_seek", "iIii", "i", wasi_fd_seek},
    {"fd_tell", "ii", "i", wasi_fd_tell},
    {"fd_close", "i", "i", wasi_fd_close},
    {"fd_renumber", "ii", "i", wasi_fd_renumber},
    {"fd_fdstat_get", "ii", "i", wasi_fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii", "i", wasi_fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII", "i", wasi_fd_fdstat_set_rights},
    {"fd_filestat_get", "ii", "i", wasi_fd_filestat_get},
    {"fd_filestat_set_size", "iI", "i", wasi_fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi", "i", wasi_fd_filestat_set_times},
    {"fd_sync", "i", "i", wasi_fd_sync},
    {"fd_datasync", "i", "i", wasi_fd_datasync},
    {"fd_advise", "iIIi", "i", wasi_fd_advise},
    {"fd_allocate", "iII", "i", wasi_fd_allocate},
    {"fd_prestat_get", "ii", "i", wasi_fd_prestat_get},
    {"fd_prestat_dir_name", "iii", "i", wasi_fd_prestat_dir_name},
    {"fd_readdir", "iiiIi", "i", wasi_fd_readdir},
    {NULL, NULL, NULL, NULL},
};
