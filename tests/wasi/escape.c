/* SPDX-License-Identifier: MIT */
/*
 * Tries to leave the granted directory (argv[1]) every way we know; wasm only.
 * The runner prepares argv[1] with symlinks "up" -> "..", "abs" -> "/etc",
 * "deep/upup" -> "../.." and puts secret.txt next to (outside) it.
 * Prints "blocked: <what>" or "ESCAPED: <what>" per attempt.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static int escaped;

static void report(const char *what, int ok)
{
	printf("%s: %s\n", ok ? "ESCAPED" : "blocked", what);
	escaped |= ok;
}

static void try_open(const char *path)
{
	char what[600];
	snprintf(what, sizeof(what), "open %s", path);
	int fd = open(path, O_RDONLY);
	report(what, fd >= 0);
	if (fd >= 0)
		close(fd);
}

/* Straight to WASI, below libc's own preopen matching. */
static void raw_open(__wasi_fd_t dirfd, const char *path, __wasi_lookupflags_t follow)
{
	__wasi_fd_t fd;
	char what[600];
	snprintf(what, sizeof(what), "path_open(%u, %s%s)", dirfd, path, follow ? ", follow" : "");
	__wasi_errno_t e =
	    __wasi_path_open(dirfd, follow, path, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
	report(what, e == 0);
	if (!e)
		(void)__wasi_fd_close(fd);
}

static void raw_stat(__wasi_fd_t dirfd, const char *path)
{
	__wasi_filestat_t st;
	char what[600];
	snprintf(what, sizeof(what), "path_filestat_get(%u, %s)", dirfd, path);
	report(what,
	       __wasi_path_filestat_get(dirfd, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, &st) == 0);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *d = argv[1];
	char p[512];

	try_open("/etc/passwd");
	try_open("../secret.txt");
	snprintf(p, sizeof(p), "%s/../secret.txt", d);
	try_open(p);
	snprintf(p, sizeof(p), "%s/up/secret.txt", d);
	try_open(p);
	snprintf(p, sizeof(p), "%s/abs/passwd", d);
	try_open(p);
	snprintf(p, sizeof(p), "%s/deep/upup/secret.txt", d);
	try_open(p);

	/* fd 3 is the first granted directory. */
	raw_open(3, "../secret.txt", 0);
	raw_open(3, "deep/../../secret.txt", 0);
	raw_open(3, "/etc/passwd", 0);
	raw_open(3, "up/secret.txt", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);
	raw_open(3, "abs/passwd", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);
	raw_open(3, "abs", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);
	raw_open(3, "deep/upup/secret.txt", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);
	raw_open(3, "/proc/self/root/etc/passwd", 0);
	raw_stat(3, "../secret.txt");
	raw_stat(3, "up");
	raw_stat(3, "abs");

	/* Making a link that points out is refused; a relative one that climbs is made but
	 * leads nowhere. */
	report("path_symlink to /etc", __wasi_path_symlink("/etc", 3, "made-abs") == 0);
	if (__wasi_path_symlink("../..", 3, "made-up") == 0)
		raw_open(3, "made-up/secret.txt", __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW);
	else
		printf("note: relative symlink could not be made\n");
	report("mkdir ../outside", __wasi_path_create_directory(3, "../outside") == 0);
	report("unlink ../secret.txt", __wasi_path_unlink_file(3, "../secret.txt") == 0);
	report("rename ../secret.txt", __wasi_path_rename(3, "../secret.txt", 3, "stolen") == 0);
	report("rename into ..", __wasi_path_rename(3, "inside.txt", 3, "../moved.txt") == 0);
	report("link ../secret.txt", __wasi_path_link(3, 0, "../secret.txt", 3, "hard") == 0);
	report("link through up", __wasi_path_link(3, 0, "up/secret.txt", 3, "hard2") == 0);
	/* Descriptors the program was not given. */
	report("fd 99", __wasi_fd_close(99) == 0);
	__wasi_prestat_t ps;
	report("prestat of stdout", __wasi_fd_prestat_get(1, &ps) == 0);
	printf("%s\n", escaped ? "SANDBOX BROKEN" : "all attempts blocked");
	return escaped;
}
