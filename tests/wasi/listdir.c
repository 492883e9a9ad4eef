/* SPDX-License-Identifier: MIT */
/* Directory listing: create entries in argv[1], then list them sorted with their types. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void make(const char *dir, const char *name, int is_dir)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (is_dir) {
		mkdir(p, 0755);
		return;
	}
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		write(fd, name, strlen(name));
		close(fd);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *dir = argv[1];
	char name[64];
	/* Enough entries that fd_readdir needs several calls. */
	for (int i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "file-with-a-longish-name-%03d.txt", i);
		make(dir, name, 0);
	}
	make(dir, "adir", 1);
	make(dir, "zdir", 1);

	DIR *d = opendir(dir);
	if (!d) {
		printf("opendir failed\n");
		return 1;
	}
	char *names[512];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 512) {
		char t = e->d_type == DT_DIR ? 'd' : e->d_type == DT_REG ? 'f' : '?';
		char *s = malloc(strlen(e->d_name) + 3);
		sprintf(s, "%s %c", e->d_name, t);
		names[n++] = s;
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp);
	printf("%d entries\n", n);
	for (int i = 0; i < n; i++) {
		printf("%s\n", names[i]);
		free(names[i]);
	}
	/* rewinddir/seekdir through a second stream. */
	d = opendir(dir);
	int count = 0;
	while (readdir(d))
		count++;
	rewinddir(d);
	int again = 0;
	while (readdir(d))
		again++;
	closedir(d);
	printf("counted %d then %d after rewind\n", count, again);
	return 0;
}
