/* SPDX-License-Identifier: MIT */
/* WASI: the path_* functions, every path resolved beneath its directory descriptor. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

/* A guest path as a host string: inside memory, no NUL, not too long. */
static int path_get(const struct wasi_call *c, uint32_t addr, uint32_t len, char **out)
{
	if (len >= PATH_MAX)
		return WASI_ENAMETOOLONG;
	const uint8_t *p = wasi_mem(c, addr, len);
	if (!p)
		return WASI_EFAULT;
	if (memchr(p, 0, len))
		return WASI_EINVAL;
	char *s = malloc((size_t)len + 1);
	if (!s)
		return WASI_ENOMEM;
	memcpy(s, p, len);
	s[len] = 0;
	*out = s;
	return 0;
}

/* The directory descriptor and path of a path_* call; WASI errno. */
static int path_args(struct wasi_call *c, uint32_t fd, uint64_t rights, uint32_t addr, uint32_t len,
		     struct wasi_fd **dir, char **path)
{
	int e;
	*dir = wasi_fd_get(c->w, fd, rights, &e);
	if (!*dir)
		return e;
	if ((*dir)->type != WASI_FILETYPE_DIRECTORY)
		return WASI_ENOTDIR;
	return path_get(c, addr, len, path);
}

/* Parent directory (host fd) and last name of a path; WASI errno on failure. */
static int path_parent(struct wasi_fd *dir, const char *path, int *pfd, char *name)
{
	int r = wasi_sandbox_parent(dir->host, path, name);
	if (r < 0)
		return wasi_errno(-r);
	*pfd = r;
	return 0;
}

/* Host open flags for a path_open; WASI errno. */
static int open_flags(uint32_t oflags, uint32_t fdflags, uint64_t rights, int *flags)
{
	int read = !!(rights & (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR));
	int write = !!(rights & WASI_RIGHTS_WRITING) || (fdflags & WASI_FDFLAG_APPEND) ||
		    (oflags & WASI_O_TRUNC);
	int f = 0;
	if (oflags & WASI_O_DIRECTORY) {
		if (write)
			return WASI_EISDIR;
		f = O_RDONLY | O_DIRECTORY;
	} else {
		f = write ? (read ? O_RDWR : O_WRONLY) : O_RDONLY;
	}
	f |= (oflags & WASI_O_CREAT) ? O_CREAT : 0;
	f |= (oflags & WASI_O_EXCL) ? O_EXCL : 0;
	f |= (oflags & WASI_O_TRUNC) ? O_TRUNC : 0;
	f |= (fdflags & WASI_FDFLAG_APPEND) ? O_APPEND : 0;
	f |= (fdflags & WASI_FDFLAG_NONBLOCK) ? O_NONBLOCK : 0;
	f |= (fdflags & WASI_FDFLAG_DSYNC) ? O_DSYNC : 0;
	f |= (fdflags & (WASI_FDFLAG_SYNC | WASI_FDFLAG_RSYNC)) ? O_SYNC : 0;
	*flags = f;
	return 0;
}

/* The rights an opened file really has: what was asked, what its directory passes on,
 * what its type allows, and nothing the host descriptor's mode forbids. */
static uint64_t opened_rights(uint64_t asked, uint64_t inh, const struct stat *st, int flags)
{
	uint64_t r = asked & inh;
	if (S_ISDIR(st->st_mode))
		r &= WASI_RIGHTS_DIR;
	else
		r &= WASI_RIGHTS_FILE;
	if ((flags & O_ACCMODE) == O_RDONLY)
		r &= ~WASI_RIGHTS_WRITING;
	if ((flags & O_ACCMODE) == O_WRONLY)
		r &= ~(WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR);
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode) && !S_ISBLK(st->st_mode))
		r &= ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL);
	return r;
}

static int wasi_path_open(struct wasi_call *c, const struct wasm_val *a)
{
	uint32_t oflags = a[4].i32, fdflags = a[7].i32;
	uint64_t asked = a[5].i64, inh = a[6].i64;
	uint64_t need = WASI_RIGHT_PATH_OPEN;
	need |= (oflags & WASI_O_CREAT) ? WASI_RIGHT_PATH_CREATE_FILE : 0;
	need |= (oflags & WASI_O_TRUNC) ? WASI_RIGHT_PATH_FILESTAT_SET_SIZE : 0;
	struct wasi_fd *dir;
	char *path;
	int flags, e = path_args(c, a[0].i32, need, a[2].i32, a[3].i32, &dir, &path);
	if (e)
		return e;
	if (!wasi_mem(c, a[8].i32, 4) || (oflags & ~15u)) {
		free(path);
		return wasi_mem(c, a[8].i32, 4) ? WASI_EINVAL : WASI_EFAULT;
	}
	/* A file is opened for writing only when its directory passes that right on. */
	if ((e = open_flags(oflags, fdflags, asked & dir->inheriting, &flags))) {
		free(path);
		return e;
	}
	int host =
	    wasi_sandbox_open(dir->host, path, flags, 0666, a[1].i32 & WASI_LOOKUP_SYMLINK_FOLLOW);
	free(path);
	if (host < 0)
		return wasi_errno(-host);
	struct stat st;
	if (fstat(host, &st) < 0) {
		e = wasi_errno(errno);
		close(host);
		return e;
	}
	uint64_t rights = opened_rights(asked, dir->inheriting, &st, flags);
	int slot =
	    wasi_fd_install(c->w, host, wasi_filetype(st.st_mode), rights, inh & dir->inheriting);
	if (slot < 0) {
		close(host);
		return -slot;
	}
	c->w->fds[slot].flags = (uint16_t)fdflags;
	return wasi_store_u32(c, a[8].i32, (uint32_t)slot);
}

static int wasi_path_filestat_get(struct wasi_call *c, const struct wasm_val *a)
{
	struct wasi_fd *dir;
	char *path, name[WASI_NAME_BUF];
	struct stat st;
	int pfd = -1, r;
	int e =
	    path_args(c, a[0].i32, WASI_RIGHT_PATH_FILESTAT_GET, a[2].i32, a[3].i32, &dir, &path);
	if (e)
		return e;
	uint8_t *p = wasi_mem(c, a[4].i32, 64);
	if (!p) {
		free(path);
		return WASI_EFAULT;
	}
	if (a[1].i32 & WASI_LOOKUP_SYMLINK_FOLLOW) {
		int fd = wasi_sandbox_open(dir->host, path, O_PATH, 0, 1);
		e = fd < 0 ? wasi_errno(-fd) : 0;
		r = fd < 0 ? -1 : fstat(fd, &st);
		if (fd >= 0)
			close(fd);
	} else {
		e = path_parent(dir, path, &pfd, name);
		r = e ? -1 : fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW);
		if (!e)
			close(pfd);
	}
	if (!e && r < 0)
		e = wasi_errno(errno);
	free(path);
	if (!e)
		wasi_filestat_put(p, &st);
	return e;
}

static int wasi_path_filestat_set_times(struct wasi_call *c, const struct wasm_val *a)
{
	struct wasi_fd *dir;
	char *path, name[WASI_NAME_BUF];
	struct timespec ts[2];
	int pfd = -1;
	int e = path_args(c, a[0].i32, WASI_RIGHT_PATH_FILESTAT_SET_TIMES, a[2].i32, a[3].i32, &dir,
			  &path);
	if (e)
		return e;
	if ((e = wasi_times(a[4].i64, a[5].i64, a[6].i32, ts)) == 0) {
		if (a[1].i32 & WASI_LOOKUP_SYMLINK_FOLLOW) {
			/* Resolve beneath, then set the times of what was found. */
			int fd = wasi_sandbox_open(dir->host, path, O_PATH, 0, 1);
			if (fd < 0) {
				e = wasi_errno(-fd);
			} else {
				char proc[64];
				snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
				e = utimensat(AT_FDCWD, proc, ts, 0) < 0 ? wasi_errno(errno) : 0;
				close(fd);
			}
		} else if ((e = path_parent(dir, path, &pfd, name)) == 0) {
			e = utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? wasi_errno(errno)
									      : 0;
			close(pfd);
		}
	}
	free(path);
	return e;
}

/* mkdir, rmdir, unlink and readlink: an operation on (parent, name). */
enum path_op { OP_MKDIR, OP_RMDIR, OP_UNLINK };

static int path_simple(struct wasi_call *c, const struct wasm_val *a, uint64_t right,
		       enum path_op op)
{
	struct wasi_fd *dir;
	char *path, name[WASI_NAME_BUF];
	int pfd = -1, r = 0;
	int e = path_args(c, a[0].i32, right, a[1].i32, a[2].i32, &dir, &path);
	if (e)
		return e;
	if (!(e = path_parent(dir, path, &pfd, name))) {
		if (op == OP_MKDIR)
			r = mkdirat(pfd, name, 0777);
		else
			r = unlinkat(pfd, name, op == OP_RMDIR ? AT_REMOVEDIR : 0);
		e = r < 0 ? wasi_errno(errno) : 0;
		close(pfd);
	}
	free(path);
	return e;
}

static int wasi_path_create_directory(struct wasi_call *c, const struct wasm_val *a)
{
	return path_simple(c, a, WASI_RIGHT_PATH_CREATE_DIRECTORY, OP_MKDIR);
}

static int wasi_path_remove_directory(struct wasi_call *c, const struct wasm_val *a)
{
	return path_simple(c, a, WASI_RIGHT_PATH_REMOVE_DIRECTORY, OP_RMDIR);
}

static int wasi_path_unlink_file(struct wasi_call *c, const struct wasm_val *a)
{
	return path_simple(c, a, WASI_RIGHT_PATH_UNLINK_FILE, OP_UNLINK);
}

static int wasi_path_readlink(struct wasi_call *c, const struct wasm_val *a)
{
	struct wasi_fd *dir;
	char *path, name[WASI_NAME_BUF];
	int pfd = -1;
	int e = path_args(c, a[0].i32, WASI_RIGHT_PATH_READLINK, a[1].i32, a[2].i32, &dir, &path);
	if (e)
		return e;
	uint8_t *buf = wasi_mem(c, a[3].i32, a[4].i32);
	if (!buf || !wasi_mem(c, a[5].i32, 4)) {
		free(path);
		return WASI_EFAULT;
	}
	if (!(e = path_parent(dir, path, &pfd, name))) {
		ssize_t n = readlinkat(pfd, name, (char *)buf, a[4].i32);
		e = n < 0 ? wasi_errno(errno) : wasi_store_u32(c, a[5].i32, (uint32_t)n);
		close(pfd);
	}
	free(path);
	return e;
}

/* Two (directory, path) pairs resolved to (parent, name) pairs: rename and link. */
static int path_pair(struct wasi_call *c, uint32_t fd1, uint64_t r1, uint32_t p1, uint32_t l1,
		     uint32_t fd2, uint64_t r2, uint32_t p2, uint32_t l2,
		     int (*op)(int, const char *, int, const char *))
{
	struct wasi_fd *d1, *d2;
	char *s1 = NULL, *s2 = NULL, n1[WASI_NAME_BUF], n2[WASI_NAME_BUF];
	int pf1 = -1, pf2 = -1;
	int e = path_args(c, fd1, r1, p1, l1, &d1, &s1);
	if (!e)
		e = path_args(c, fd2, r2, p2, l2, &d2, &s2);
	if (!e)
		e = path_parent(d1, s1, &pf1, n1);
	if (!e)
		e = path_parent(d2, s2, &pf2, n2);
	if (!e)
		e = op(pf1, n1, pf2, n2) < 0 ? wasi_errno(errno) : 0;
	if (pf1 >= 0)
		close(pf1);
	if (pf2 >= 0)
		close(pf2);
	free(s1);
	free(s2);
	return e;
}

static int op_rename(int d1, const char *n1, int d2, const char *n2)
{
	return renameat(d1, n1, d2, n2);
}

static int op_link(int d1, const char *n1, int d2, const char *n2)
{
	return linkat(d1, n1, d2, n2, 0);
}

static int wasi_path_rename(struct wasi_call *c, const struct wasm_val *a)
{
	return path_pair(c, a[0].i32, WASI_RIGHT_PATH_RENAME_SOURCE, a[1].i32, a[2].i32, a[3].i32,
			 WASI_RIGHT_PATH_RENAME_TARGET, a[4].i32, a[5].i32, op_rename);
}

static int wasi_path_link(struct wasi_call *c, const struct wasm_val *a)
{
	/* Following a symlink source would let the kernel resolve it outside the sandbox. */
	if (a[1].i32 & WASI_LOOKUP_SYMLINK_FOLLOW)
		return WASI_ENOTSUP;
	return path_pair(c, a[0].i32, WASI_RIGHT_PATH_LINK_SOURCE, a[2].i32, a[3].i32, a[4].i32,
			 WASI_RIGHT_PATH_LINK_TARGET, a[5].i32, a[6].i32, op_link);
}

static int wasi_path_symlink(struct wasi_call *c, const struct wasm_val *a)
{
	struct wasi_fd *dir;
	char *target, *path, name[WASI_NAME_BUF];
	int pfd = -1;
	int e = path_get(c, a[0].i32, a[1].i32, &target);
	if (e)
		return e;
	/* Resolution never follows an absolute link; refusing to make one keeps the
	 * granted tree from pointing outside for whoever looks at it later. */
	if (target[0] == '/') {
		free(target);
		return WASI_ENOTCAPABLE;
	}
	if (!(e = path_args(c, a[2].i32, WASI_RIGHT_PATH_SYMLINK, a[3].i32, a[4].i32, &dir,
			    &path))) {
		if (!(e = path_parent(dir, path, &pfd, name))) {
			e = symlinkat(target, pfd, name) < 0 ? wasi_errno(errno) : 0;
			close(pfd);
		}
		free(path);
	}
	free(target);
	return e;
}

const struct wasi_import wasi_imports_path[] = {
    {"path_open", "iiiiiIIii", "i", wasi_path_open},
    {"path_filestat_get", "iiiii", "i", wasi_path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi", "i", wasi_path_filestat_set_times},
    {"path_create_directory", "iii", "i", wasi_path_create_directory},
    {"path_remove_directory", "iii", "i", wasi_path_remove_directory},
    {"path_unlink_file", "iii", "i", wasi_path_unlink_file},
    {"path_readlink", "iiiiii", "i", wasi_path_readlink},
    {"path_rename", "iiiiii", "i", wasi_path_rename},
    {"path_link", "iiiiiii", "i", wasi_path_link},
    {"path_symlink", "iiiii", "i", wasi_path_symlink},
    {NULL, NULL, NULL, NULL},
};
