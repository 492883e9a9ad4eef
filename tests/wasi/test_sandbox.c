/* SPDX-License-Identifier: MIT */
/*
 * The WASI path sandbox on its own: resolution beneath a directory with openat2
 * and with the fallback walker, against a tree with symlinks that point out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

static int failures;

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);                                \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static char root[256];

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void mk(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	mkdir(p, 0755);
}

static void ln(const char *target, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (symlink(target, p))
		perror("symlink");
}

/* Open 'path' beneath box and read its first bytes ("" on failure). */
static int open_read(int box, const char *path, int follow, char *out, size_t n)
{
	int fd = wasi_sandbox_open(box, path, O_RDONLY, 0, follow);
	out[0] = 0;
	if (fd < 0)
		return fd;
	ssize_t r = read(fd, out, n - 1);
	out[r > 0 ? r : 0] = 0;
	close(fd);
	return 0;
}

static void run(int box, const char *mode)
{
	char buf[64];
	/* Inside: plain, through "..", through a relative symlink that stays inside. */
	EXPECT(open_read(box, "a/file", 0, buf, sizeof(buf)) == 0 && !strcmp(buf, "in-a\n"),
	       "%s: a/file", mode);
	EXPECT(open_read(box, "a/../b/file", 0, buf, sizeof(buf)) == 0 && !strcmp(buf, "in-b\n"),
	       "%s: a/../b/file", mode);
	EXPECT(open_read(box, "tob/file", 0, buf, sizeof(buf)) == 0 && !strcmp(buf, "in-b\n"),
	       "%s: symlink inside", mode);
	EXPECT(open_read(box, "a/linkfile", 1, buf, sizeof(buf)) == 0 && !strcmp(buf, "in-b\n"),
	       "%s: final symlink followed", mode);
	EXPECT(open_read(box, "a/linkfile", 0, buf, sizeof(buf)) == -ELOOP,
	       "%s: final symlink not followed gives ELOOP", mode);
	EXPECT(open_read(box, ".", 0, buf, sizeof(buf)) == 0, "%s: . is the box", mode);

	/* Out: every one refused with the sandbox's error, never opened. */
	const char *out[] = {
	    "../secret",     "a/../../secret", "/etc/passwd", "up/secret", "abs/passwd",
	    "a/upup/secret", "loop/x",	       "..",	      "a/../..",   "up",
	    "a/upup",	     "b/../../secret"};
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		int r = open_read(box, out[i], 1, buf, sizeof(buf));
		EXPECT(r < 0 && strcmp(buf, "secret\n"), "%s: %s opened (%d)", mode, out[i], r);
		EXPECT(r == -WASI_HOST_ENOTCAPABLE || r == -ELOOP, "%s: %s gives %d", mode, out[i],
		       r);
	}

	/* Parents: the last component is never followed. */
	char name[WASI_NAME_BUF];
	int d = wasi_sandbox_parent(box, "a/b/../linkfile", name);
	EXPECT(d == -ENOENT, "%s: parent through missing a/b: %d", mode, d);
	d = wasi_sandbox_parent(box, "a/linkfile", name);
	EXPECT(d >= 0 && !strcmp(name, "linkfile"), "%s: parent of a/linkfile", mode);
	if (d >= 0) {
		struct stat st;
		EXPECT(fstatat(d, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode),
		       "%s: the parent holds the link", mode);
		close(d);
	}
	d = wasi_sandbox_parent(box, "up", name);
	EXPECT(d >= 0 && !strcmp(name, "up"), "%s: a link itself can be named", mode);
	if (d >= 0)
		close(d);
	d = wasi_sandbox_parent(box, "a/..", name);
	EXPECT(d >= 0 && !strcmp(name, "."), "%s: a/.. is the box itself", mode);
	if (d >= 0)
		close(d);
	EXPECT(wasi_sandbox_parent(box, "..", name) == -WASI_HOST_ENOTCAPABLE, "%s: ..", mode);
	EXPECT(wasi_sandbox_parent(box, "up/secret", name) < 0, "%s: up/secret", mode);
	EXPECT(wasi_sandbox_parent(box, "/tmp/x", name) == -WASI_HOST_ENOTCAPABLE, "%s: /tmp/x",
	       mode);
	EXPECT(wasi_sandbox_parent(box, "", name) == -ENOENT, "%s: empty path", mode);
	EXPECT(wasi_sandbox_parent(box, "a/file/", name) == -ENOTDIR, "%s: a/file/", mode);
	d = wasi_sandbox_parent(box, "a/", name);
	EXPECT(d >= 0 && !strcmp(name, "a"), "%s: a/ names a", mode);
	if (d >= 0)
		close(d);

	/* Creating through the box works; creating through a link out does not. */
	int fd = wasi_sandbox_open(box, "b/new", O_WRONLY | O_CREAT | O_EXCL, 0644, 0);
	EXPECT(fd >= 0, "%s: create b/new", mode);
	if (fd >= 0) {
		close(fd);
		EXPECT(unlinkat(box, "b/new", 0) == 0, "%s: b/new exists", mode);
	}
	fd = wasi_sandbox_open(box, "up/created", O_WRONLY | O_CREAT, 0644, 1);
	EXPECT(fd < 0, "%s: create through up", mode);
	char p[512];
	snprintf(p, sizeof(p), "%s/created", root);
	EXPECT(access(p, F_OK) < 0, "%s: created outside", mode);
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/vessel-sandbox-XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	put("secret", "secret\n");
	mk("box");
	mk("box/a");
	mk("box/b");
	put("box/a/file", "in-a\n");
	put("box/b/file", "in-b\n");
	ln("b", "box/tob");
	ln("../b/file", "box/a/linkfile");
	ln("..", "box/up");
	ln("/etc", "box/abs");
	ln("../..", "box/a/upup");
	ln("loop", "box/loop");

	char p[512];
	snprintf(p, sizeof(p), "%s/box", root);
	int box = open(p, O_RDONLY | O_DIRECTORY);
	if (box < 0) {
		perror(p);
		return 1;
	}
	run(box, "openat2");
	wasi_force_path_fallback(1);
	run(box, "fallback");
	close(box);

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("warning: could not remove %s\n", root);
	printf("%s\n", failures ? "FAILED" : "ok");
	return failures != 0;
}
