/* SPDX-License-Identifier: MIT */
/*
 * Path resolution confined to a granted directory.
 *
 * Where the kernel has openat2 (Linux 5.6+), RESOLVE_BENEATH makes the kernel
 * refuse absolute paths, ".." above the start and symlinks leading out, and
 * RESOLVE_NO_MAGICLINKS refuses /proc-style links.  Otherwise we walk the path
 * ourselves one component at a time: each directory is opened O_NOFOLLOW
 * relative to the previous one, ".." pops our own stack of descriptors (never
 * the kernel's ".."), and symlinks are read and spliced into the remaining
 * path, refused when absolute.  The final operation always uses O_NOFOLLOW or
 * AT_SYMLINK_NOFOLLOW, so a symlink swapped in behind our back fails instead
 * of being followed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

#define SB_MAX_DEPTH 256 /* directories deep below the granted one */
#define SB_MAX_LINKS 40	 /* symlinks followed in one resolution, as Linux's ELOOP */

static int sb_force_fallback;
static int sb_no_openat2;

void wasi_force_path_fallback(int on)
{
	sb_force_fallback = on;
}

static int sb_err(int e)
{
	return e == EXDEV ? -WASI_HOST_ENOTCAPABLE : -e;
}

/* openat2 beneath 'base'; -ENOSYS when the kernel lacks it. */
static int sb_openat2(int base, const char *path, int flags, mode_t mode)
{
	if (sb_force_fallback || sb_no_openat2)
		return -ENOSYS;
	struct open_how how = {
	    .flags = (uint64_t)(unsigned)flags,
	    .mode = (flags & O_CREAT) ? mode : 0,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long r;
	/* EAGAIN: a rename raced with the resolution; the kernel asks us to retry. */
	for (int tries = 0; tries < 8; tries++) {
		r = syscall(SYS_openat2, base, path, &how, sizeof(how));
		if (r >= 0 || errno != EAGAIN)
			break;
	}
	if (r >= 0)
		return (int)r;
	if (errno == ENOSYS) {
		sb_no_openat2 = 1;
		return -ENOSYS;
	}
	return sb_err(errno);
}

/* ---- the fallback walker ---- */

struct sb_walk {
	int stack[SB_MAX_DEPTH + 1]; /* stack[0] is a duplicate of the base */
	int depth;
	char *rest; /* what is left of the path */
	int links;
};

static void sb_walk_drop(struct sb_walk *s, int keep)
{
	for (int i = 0; i <= s->depth; i++)
		if (s->stack[i] != keep)
			close(s->stack[i]);
	free(s->rest);
}

/* Replace the remaining path by the symlink's target followed by 'after'. */
static int sb_splice_link(struct sb_walk *s, const char *comp, const char *after)
{
	char target[PATH_MAX];
	if (++s->links > SB_MAX_LINKS)
		return -ELOOP;
	ssize_t n = readlinkat(s->stack[s->depth], comp, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	if (target[0] == '/')
		return -WASI_HOST_ENOTCAPABLE;
	size_t alen = strlen(after);
	if ((size_t)n + 1 + alen >= 2 * PATH_MAX)
		return -ENAMETOOLONG;
	char *r = malloc((size_t)n + alen + 2);
	if (!r)
		return -ENOMEM;
	memcpy(r, target, (size_t)n);
	r[n] = '/';
	memcpy(r + n + 1, after, alen + 1);
	free(s->rest);
	s->rest = r;
	return 0;
}

/*
 * Resolve all but the last component of 'path' beneath 'base' (the last too when it is
 * a symlink and 'follow_last'), returning the directory's fd and the last name.
 */
static int sb_walk(int base, const char *path, int follow_last, char *name)
{
	struct sb_walk s = {.depth = 0};
	if (path[0] == '/')
		return -WASI_HOST_ENOTCAPABLE;
	s.stack[0] = fcntl(base, F_DUPFD_CLOEXEC, 0);
	if (s.stack[0] < 0)
		return -errno;
	s.rest = strdup(path);
	if (!s.rest) {
		close(s.stack[0]);
		return -ENOMEM;
	}
	const char *p = s.rest;
	int r;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p) {
			strcpy(name, ".");
			break;
		}
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		const char *after = end;
		while (*after == '/')
			after++;
		int last = !*after;
		char comp[WASI_NAME_BUF];
		if (len >= sizeof(comp)) {
			r = -ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, p, len);
		comp[len] = 0;
		p = after;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			if (s.depth == 0) {
				r = -WASI_HOST_ENOTCAPABLE;
				goto fail;
			}
			close(s.stack[s.depth--]);
			continue;
		}
		struct stat st;
		if (last && !follow_last) {
			strcpy(name, comp);
			break;
		}
		if (fstatat(s.stack[s.depth], comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			if (r == -ENOENT && last) {
				strcpy(name, comp);
				break;
			}
			goto fail;
		}
		if (S_ISLNK(st.st_mode)) {
			if ((r = sb_splice_link(&s, comp, after)))
				goto fail;
			p = s.rest;
			continue;
		}
		if (last) {
			strcpy(name, comp);
			break;
		}
		if (s.depth == SB_MAX_DEPTH) {
			r = -ENAMETOOLONG;
			goto fail;
		}
		int fd =
		    openat(s.stack[s.depth], comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			goto fail;
		}
		s.stack[++s.depth] = fd;
	}
	r = s.stack[s.depth];
	sb_walk_drop(&s, r);
	return r;
fail:
	sb_walk_drop(&s, -1);
	return r;
}

int wasi_sandbox_open(int base, const char *path, int flags, mode_t mode, int follow)
{
	char name[WASI_NAME_BUF];
	flags |= O_CLOEXEC;
	if (!follow)
		flags |= O_NOFOLLOW;
	int r = sb_openat2(base, path, flags, mode);
	if (r != -ENOSYS)
		return r;
	int dir = sb_walk(base, path, follow, name);
	if (dir < 0)
		return dir;
	r = openat(dir, name, flags | O_NOFOLLOW, mode);
	r = r < 0 ? -errno : r;
	close(dir);
	return r;
}

static int sb_parent(int base, const char *path, char *name)
{
	if (!*path)
		return -ENOENT;
	if (path[0] == '/')
		return -WASI_HOST_ENOTCAPABLE;
	if (sb_force_fallback || sb_no_openat2)
		return sb_walk(base, path, 0, name);

	size_t len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		len--;
	char *dir = strndup(path, len);
	if (!dir)
		return -ENOMEM;
	char *slash = strrchr(dir, '/');
	const char *last = slash ? slash + 1 : dir;
	int r;
	if (strlen(last) >= WASI_NAME_BUF) {
		r = -ENAMETOOLONG;
	} else if (!strcmp(last, ".") || !strcmp(last, "..")) {
		/* The path names a directory itself: open all of it. */
		strcpy(name, ".");
		r = wasi_sandbox_open(base, dir, O_PATH | O_DIRECTORY, 0, 1);
	} else {
		strcpy(name, last);
		if (slash)
			*slash = 0;
		r = wasi_sandbox_open(base, slash ? dir : ".", O_PATH | O_DIRECTORY, 0, 1);
	}
	free(dir);
	if (r == -ENOSYS) /* openat2 went missing: the walker decides */
		return sb_walk(base, path, 0, name);
	return r;
}

int wasi_sandbox_parent(int base, const char *path, char *name)
{
	int r = sb_parent(base, path, name);
	/* "name/" must be a directory (or a link, which the caller does not follow). */
	size_t len = strlen(path);
	if (r >= 0 && len > 1 && path[len - 1] == '/' && strcmp(name, ".")) {
		struct stat st;
		if (fstatat(r, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) &&
		    !S_ISLNK(st.st_mode)) {
			close(r);
			return -ENOTDIR;
		}
	}
	return r;
}
