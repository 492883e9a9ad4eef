/* SPDX-License-Identifier: MIT */
/* Less common file calls inside a granted directory (argv[1]): links, symlinks, times,
 * sync, advice, allocation, flags, descriptor renumbering. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#ifdef __wasi__
#include <wasi/api.h>
#endif

static char pb[4][512];

static const char *at(int slot, const char *dir, const char *name)
{
	snprintf(pb[slot], sizeof(pb[slot]), "%s/%s", dir, name);
	return pb[slot];
}

/* WASI's fd_renumber is dup2 that also closes the source. */
static int renumber(int from, int to)
{
#ifdef __wasi__
	return __wasi_fd_renumber((__wasi_fd_t)from, (__wasi_fd_t)to) == 0 ? to : -1;
#else
	int r = dup2(from, to);
	close(from);
	return r;
#endif
}

#define SHOW(what, expr) printf("%s: %s\n", what, (expr) ? "yes" : "no")

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *d = argv[1];
	int fd = open(at(0, d, "f"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return 1;
	SHOW("write", write(fd, "0123456789", 10) == 10);
	SHOW("fsync", fsync(fd) == 0);
	SHOW("fdatasync", fdatasync(fd) == 0);
	SHOW("posix_fadvise", posix_fadvise(fd, 0, 10, POSIX_FADV_SEQUENTIAL) == 0);
	SHOW("posix_fallocate", posix_fallocate(fd, 0, 8192) == 0);
	struct stat st;
	SHOW("fstat after fallocate", fstat(fd, &st) == 0 && st.st_size == 8192);

	/* Times: set both, then read them back. */
	struct timespec ts[2] = {{1000000000, 5000}, {1200000000, 0}};
	SHOW("futimens", futimens(fd, ts) == 0);
	SHOW("mtime set", fstat(fd, &st) == 0 && st.st_mtim.tv_sec == 1200000000);
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = (struct timespec){1300000000, 0};
	SHOW("utimensat", utimensat(AT_FDCWD, at(0, d, "f"), ts, 0) == 0);
	SHOW("mtime by path", stat(at(0, d, "f"), &st) == 0 && st.st_mtim.tv_sec == 1300000000 &&
				  st.st_atim.tv_sec == 1000000000);

	/* O_APPEND switched on after open. */
	int fl = fcntl(fd, F_GETFL);
	SHOW("F_SETFL O_APPEND", fl >= 0 && fcntl(fd, F_SETFL, fl | O_APPEND) == 0);
	SHOW("append write", write(fd, "END", 3) == 3);
	SHOW("appended at the end", fstat(fd, &st) == 0 && st.st_size == 8195);
	SHOW("O_APPEND reported", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
	close(fd);

	/* Hard links and symlinks. */
	SHOW("link", link(at(0, d, "f"), at(1, d, "hard")) == 0);
	SHOW("nlink 2", stat(at(0, d, "f"), &st) == 0 && st.st_nlink == 2);
	SHOW("symlink", symlink("f", at(0, d, "soft")) == 0);
	char buf[64] = {0};
	ssize_t n = readlink(at(0, d, "soft"), buf, sizeof(buf) - 1);
	printf("readlink: %zd '%s'\n", n, n > 0 ? buf : "");
	SHOW("lstat is a link", lstat(at(0, d, "soft"), &st) == 0 && S_ISLNK(st.st_mode));
	SHOW("stat follows",
	     stat(at(0, d, "soft"), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 8195);
	fd = open(at(0, d, "soft"), O_RDONLY);
	SHOW("open through symlink", fd >= 0 && read(fd, buf, 4) == 4 && !memcmp(buf, "0123", 4));
	if (fd >= 0)
		close(fd);
	SHOW("open O_NOFOLLOW on symlink fails",
	     open(at(0, d, "soft"), O_RDONLY | O_NOFOLLOW) < 0 && errno == ELOOP);
	SHOW("symlink in a subdirectory",
	     mkdir(at(0, d, "sub"), 0755) == 0 && symlink("../f", at(1, d, "sub/up")) == 0 &&
		 stat(at(2, d, "sub/up"), &st) == 0 && st.st_size == 8195);
	SHOW("unlink symlink", unlink(at(0, d, "soft")) == 0 && unlink(at(1, d, "sub/up")) == 0);
	SHOW("rename over", rename(at(0, d, "hard"), at(1, d, "f")) == 0);
	SHOW("nlink 1", stat(at(0, d, "f"), &st) == 0 && st.st_nlink == 1);
	SHOW("truncate by path",
	     truncate(at(0, d, "f"), 3) == 0 && stat(at(1, d, "f"), &st) == 0 && st.st_size == 3);

	/* Renumbering a descriptor. */
	int a = open(at(0, d, "f"), O_RDONLY), b = open(at(1, d, "sub"), O_RDONLY | O_DIRECTORY);
	SHOW("two descriptors", a >= 0 && b >= 0);
	SHOW("fd renumber", renumber(a, b) == b);
	SHOW("renumbered reads", read(b, buf, 3) == 3 && !memcmp(buf, "012", 3));
	SHOW("old number closed", read(a, buf, 1) < 0 && errno == EBADF);
	close(b);
	SHOW("rmdir sub", rmdir(at(0, d, "sub")) == 0);
	SHOW("unlink f", unlink(at(0, d, "f")) == 0);
	return 0;
}
