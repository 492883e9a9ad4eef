/* SPDX-License-Identifier: MIT */
/* File I/O inside a granted directory (argv[1]): stdio and POSIX calls. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path_buf[4][512];

static const char *at(int slot, const char *dir, const char *name)
{
	snprintf(path_buf[slot], sizeof(path_buf[slot]), "%s/%s", dir, name);
	return path_buf[slot];
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAILED line %d: %s\n", __LINE__, #cond);                           \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

static int stdio_part(const char *dir)
{
	FILE *f = fopen(at(0, dir, "notes.txt"), "w");
	CHECK(f);
	for (int i = 0; i < 100; i++)
		fprintf(f, "line %d: %d\n", i, i * i);
	CHECK(fclose(f) == 0);

	f = fopen(at(0, dir, "notes.txt"), "r");
	CHECK(f);
	char line[64];
	long sum = 0;
	int lines = 0;
	while (fgets(line, sizeof(line), f)) {
		int a, b;
		if (sscanf(line, "line %d: %d", &a, &b) == 2)
			sum += b;
		lines++;
	}
	printf("read %d lines, sum of squares %ld\n", lines, sum);
	CHECK(fseek(f, 0, SEEK_END) == 0);
	printf("size by ftell: %ld\n", ftell(f));
	CHECK(fseek(f, 7, SEEK_SET) == 0);
	CHECK(fgets(line, sizeof(line), f));
	printf("from offset 7: %s", line);
	fclose(f);

	f = fopen(at(0, dir, "notes.txt"), "a");
	CHECK(f);
	fputs("appended\n", f);
	fclose(f);
	struct stat st;
	CHECK(stat(at(0, dir, "notes.txt"), &st) == 0);
	printf("after append: %lld bytes, regular %d\n", (long long)st.st_size,
	       S_ISREG(st.st_mode));
	return 0;
}

static int posix_part(const char *dir)
{
	int fd = open(at(0, dir, "data.bin"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	unsigned char buf[4096];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	CHECK(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	CHECK(lseek(fd, 1000, SEEK_SET) == 1000);
	unsigned char r[16];
	CHECK(read(fd, r, sizeof(r)) == 16);
	printf("bytes at 1000: %u %u %u\n", r[0], r[1], r[15]);
	CHECK(pwrite(fd, "XYZ", 3, 10) == 3);
	CHECK(pread(fd, r, 5, 9) == 5);
	printf("pread after pwrite: %u %c%c%c %u\n", r[0], r[1], r[2], r[3], r[4]);
	printf("position still %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
	CHECK(ftruncate(fd, 100) == 0);
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	printf("truncated to %lld\n", (long long)st.st_size);
	printf("read at end: %zd\n", read(fd, r, sizeof(r)));
	CHECK(close(fd) == 0);

	/* A read-only descriptor cannot write. */
	fd = open(at(0, dir, "data.bin"), O_RDONLY);
	CHECK(fd >= 0);
	printf("write to read-only fd: %s\n", write(fd, "no", 2) < 0 ? "refused" : "ALLOWED");
	close(fd);

	CHECK(mkdir(at(0, dir, "sub"), 0755) == 0);
	printf("mkdir again: %s\n",
	       mkdir(at(0, dir, "sub"), 0755) < 0 && errno == EEXIST ? "EEXIST" : "unexpected");
	CHECK(rename(at(0, dir, "data.bin"), at(1, dir, "sub/moved.bin")) == 0);
	printf("old name after rename: %s\n",
	       access(at(0, dir, "data.bin"), F_OK) < 0 && errno == ENOENT ? "gone" : "present");
	CHECK(stat(at(0, dir, "sub/moved.bin"), &st) == 0);
	printf("moved file: %lld bytes\n", (long long)st.st_size);
	printf("rmdir non-empty: %s\n", rmdir(at(0, dir, "sub")) < 0 ? "refused" : "ALLOWED");
	CHECK(unlink(at(0, dir, "sub/moved.bin")) == 0);
	CHECK(rmdir(at(0, dir, "sub")) == 0);
	CHECK(unlink(at(0, dir, "notes.txt")) == 0);
	printf("open missing: %s\n", open(at(0, dir, "missing"), O_RDONLY) < 0 && errno == ENOENT
					 ? "ENOENT"
					 : "unexpected");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: fileio DIR\n");
		return 2;
	}
	if (stdio_part(argv[1]) || posix_part(argv[1]))
		return 1;
	printf("done\n");
	return 0;
}
