/* SPDX-License-Identifier: MIT */
#include "blk_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int t_failures;
const char *t_qemu_img, *t_qemu_io;
char t_dir[256];

const char *tp(const char *name)
{
	static char bufs[8][512];
	static int i;
	char *b = bufs[i++ % 8];
	snprintf(b, 512, "%s/%s", t_dir, name);
	return b;
}

int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	char full[4608];
	snprintf(full, sizeof(full), "(%s) >%s/cmd.log 2>&1", cmd, t_dir);
	int st = system(full);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

const char *run_log(void)
{
	static char buf[8192];
	char path[512];
	snprintf(path, sizeof(path), "%s/cmd.log", t_dir);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	return buf;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

void t_seed(uint64_t s)
{
	rng = s ? s : 1;
}

uint64_t t_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

void t_fill(uint8_t *buf, size_t len, uint64_t tag)
{
	uint64_t x = tag * 0x2545f4914f6cdd1dull + 1;
	for (size_t i = 0; i < len; i++) {
		if ((i & 7) == 0) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		buf[i] = (uint8_t)(x >> ((i & 7) * 8));
	}
}

int shadow_open(struct shadow *sh, const char *path, uint64_t size)
{
	sh->fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	sh->size = size;
	if (sh->fd < 0 || ftruncate(sh->fd, (off_t)size) < 0)
		return -errno;
	return 0;
}

void shadow_close(struct shadow *sh)
{
	close(sh->fd);
}

void shadow_write(struct shadow *sh, const void *buf, size_t len, uint64_t off)
{
	if (pwrite(sh->fd, buf, len, (off_t)off) != (ssize_t)len)
		abort();
}

void shadow_zero(struct shadow *sh, uint64_t off, uint64_t len)
{
	if (len && fallocate(sh->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			     (off_t)len) < 0)
		abort();
}

void shadow_copy_from(struct shadow *sh, const char *raw_path)
{
	int fd = open(raw_path, O_RDONLY);
	if (fd < 0)
		abort();
	static uint8_t buf[1 << 20];
	uint64_t off = 0;
	ssize_t n;
	while ((n = pread(fd, buf, sizeof(buf), (off_t)off)) > 0) {
		shadow_write(sh, buf, (size_t)n, off);
		off += (uint64_t)n;
	}
	close(fd);
}

static uint64_t ops_pick_off(const struct ops_cfg *cfg, uint64_t size)
{
	if (cfg->nhot && t_rand() % 4 != 0) {
		uint64_t h = cfg->hot[t_rand() % (uint64_t)cfg->nhot];
		uint64_t d = t_rand() % (2 * cfg->max_len + 1);
		uint64_t o = h + d >= cfg->max_len ? h + d - cfg->max_len : 0;
		return o < size ? o : size - 1;
	}
	return t_rand() % size;
}

int ops_apply(struct blk *b, struct shadow *sh, const struct ops_cfg *cfg)
{
	uint64_t size = blk_size(b);
	uint8_t *buf = malloc(cfg->max_len);
	if (!buf)
		return -ENOMEM;
	int r = 0;
	for (int i = 0; i < cfg->count && r == 0; i++) {
		uint64_t off = ops_pick_off(cfg, size);
		uint64_t len = 1 + t_rand() % cfg->max_len;
		if (len > size - off)
			len = size - off;
		unsigned op = (unsigned)(t_rand() % 20);
		if (op < 13) {
			t_fill(buf, len, t_rand());
			r = blk_pwrite(b, buf, len, off);
			shadow_write(sh, buf, len, off);
		} else if (op < 16) {
			r = blk_discard(b, off, len);
			/* Whole clusters read back as zeros; partial ones are untouched. */
			uint64_t cs = cfg->cs, a = (off + cs - 1) / cs * cs;
			uint64_t z = off + len == size ? off + len : (off + len) / cs * cs;
			if (cfg->discard_zeroes && z > a)
				shadow_zero(sh, a, z - a);
		} else {
			r = blk_write_zeroes(b, off, len, t_rand() & 1);
			shadow_zero(sh, off, len);
		}
		if (r < 0)
			fprintf(stderr, "op %d (%u) at %llu+%llu: %s\n", i, op,
				(unsigned long long)off, (unsigned long long)len, strerror(-r));
	}
	free(buf);
	return r;
}

int verify_read(struct blk *b, struct shadow *sh)
{
	const size_t chunk = 1 << 20;
	uint8_t *a = malloc(chunk), *e = malloc(chunk);
	int bad = 0;
	for (uint64_t off = 0; off < blk_size(b) && !bad; off += chunk) {
		size_t n = blk_size(b) - off < chunk ? (size_t)(blk_size(b) - off) : chunk;
		/* Skip regions that are holes in the shadow and read as zeros quickly. */
		off_t data = lseek(sh->fd, (off_t)off, SEEK_DATA);
		int r = blk_pread(b, a, n, off);
		if (r < 0) {
			fprintf(stderr, "read at %llu: %s\n", (unsigned long long)off,
				strerror(-r));
			bad = 1;
			break;
		}
		if (data < 0 || (uint64_t)data >= off + n)
			memset(e, 0, n);
		else if (pread(sh->fd, e, n, (off_t)off) != (ssize_t)n)
			bad = 1;
		if (!bad && memcmp(a, e, n)) {
			size_t i = 0;
			while (a[i] == e[i])
				i++;
			fprintf(stderr, "content differs at %llu: got %02x want %02x\n",
				(unsigned long long)(off + i), a[i], e[i]);
			bad = 1;
		}
	}
	free(a);
	free(e);
	return bad;
}

int qemu_check(const char *img)
{
	int st = run("%s check -f qcow2 '%s'", t_qemu_img, img);
	if (st != 0)
		fprintf(stderr, "qemu-img check %s: exit %d\n%s", img, st, run_log());
	return st;
}

int qemu_compare(const char *raw, const char *img, const char *fmt)
{
	int st = run("%s compare -f raw -F %s '%s' '%s'", t_qemu_img, fmt, raw, img);
	if (st != 0)
		fprintf(stderr, "qemu-img compare %s %s: exit %d\n%s", raw, img, st, run_log());
	return st;
}

uint64_t file_hash(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	static uint8_t buf[1 << 16];
	uint64_t h = 1469598103934665603ull;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
	close(fd);
	return h;
}
