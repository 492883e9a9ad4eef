/* SPDX-License-Identifier: MIT */
/*
 * The snapshot format and the checks on load (suite 'unit', run under ASan):
 * a round trip; truncated, corrupt, wrong-version files refused with a clear
 * error; then hostile states (right checksums, wrong contents) fed to the
 * device and hart loaders: refused or loaded, never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/virtio.h"
#include "devices/virtio_rng.h"
#include "machine/virt.h"
#include "snapshot/format.h"
#include "snapshot/snapshot.h"
#include "util/log.h"

#include "../check.h"

static char dir[] = "/tmp/vessel-snapfmt-XXXXXX";

static void path_of(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static uint8_t *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	off_t n = lseek(fd, 0, SEEK_END);
	uint8_t *b = malloc((size_t)n);
	CHECK(pread(fd, b, (size_t)n, 0) == n);
	close(fd);
	*len = (size_t)n;
	return b;
}

static void write_all(const char *path, const uint8_t *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(write(fd, b, len) == (ssize_t)len);
	close(fd);
}

/* A small file: config, two state sections, 2 MiB of memory with a few pages set. */
static void make_file(const char *path, uint8_t *mem, size_t mem_size)
{
	memset(mem, 0, mem_size);
	for (size_t p = 0; p < mem_size; p += 37 * SNAP_PAGE)
		memset(mem + p, (int)(p / SNAP_PAGE) | 1, SNAP_PAGE);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	struct snap_writer w;
	struct verr err = {{0}};
	uint64_t a[5] = {1, 2, 3, 4, 5};
	CHECK(!snap_writer_begin(&w, fd, &err));
	CHECK(!snap_write_section(&w, SNAP_SEC_CONFIG, 0, "{\"x\":1}", 8, &err));
	CHECK(!snap_write_section(&w, SNAP_SEC_HART, 0, a, sizeof(a), &err));
	CHECK(!snap_write_section(&w, SNAP_SEC_HART, 1, a, 3, &err));
	CHECK(!snap_write_memory(&w, mem, mem_size, &err));
	CHECK(!snap_writer_end(&w, &err));
	close(fd);
}

static void test_round_trip(void)
{
	size_t size = 2u << 20;
	uint8_t *mem = malloc(size);
	char path[256];
	path_of(path, sizeof(path), "rt");
	make_file(path, mem, size);
	struct snap_reader r;
	struct verr err = {{0}};
	CHECK(!snap_reader_open(&r, path, &err));
	CHECK(r.n == 4);
	const uint64_t *a = snap_need(&r, SNAP_SEC_HART, 0, 40, "hart", &err);
	CHECK(a && a[4] == 5);
	CHECK(!snap_need(&r, SNAP_SEC_HART, 1, 40, "hart", &err) && strstr(err.msg, "3 bytes"));
	CHECK(!snap_need(&r, SNAP_SEC_PLIC, 0, 4, "plic", &err) && strstr(err.msg, "no plic"));
	CHECK(!snap_verify_memory(&r, &err));
	const struct snap_section *m = snap_find(&r, SNAP_SEC_MEMORY, 0);
	CHECK(m && m->file_offset % SNAP_PAGE == 0 && m->length == size);
	uint8_t *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, r.fd, (off_t)m->file_offset);
	CHECK(map != MAP_FAILED && !memcmp(map, mem, size));
	munmap(map, size);
	snap_reader_close(&r);
	free(mem);
}

static void expect_refused(const char *path, const char *what, const char *needle)
{
	struct snap_reader r;
	struct verr err = {{0}};
	int e = snap_reader_open(&r, path, &err);
	if (!e) {
		fprintf(stderr, "%s: accepted\n", what);
		failures++;
		snap_reader_close(&r);
		return;
	}
	if (needle && !strstr(err.msg, needle)) {
		fprintf(stderr, "%s: error '%s' does not say '%s'\n", what, err.msg, needle);
		failures++;
	}
}

static void test_bad_files(void)
{
	size_t size = 1u << 20, len;
	uint8_t *mem = malloc(size);
	char path[256], bad[256];
	path_of(path, sizeof(path), "orig");
	path_of(bad, sizeof(bad), "bad");
	make_file(path, mem, size);
	uint8_t *f = read_all(path, &len);
	/* Every truncation is refused. */
	for (size_t cut = 0; cut < len; cut += cut < 512 ? 1 : 4093) {
		write_all(bad, f, cut);
		expect_refused(bad, "truncated", cut < 32 ? "too short" : NULL);
	}
	/* A flipped bit anywhere outside memory and padding is caught by a checksum. */
	const struct snap_section_header *first = (const void *)(f + 32);
	size_t state_end = 32 + 32 + first->length;
	for (size_t i = 0; i < state_end; i++) {
		uint8_t *g = malloc(len);
		memcpy(g, f, len);
		g[i] ^= (uint8_t)(1u << (i % 8));
		write_all(bad, g, len);
		expect_refused(bad, "flipped", NULL);
		free(g);
	}
	/* Wrong version, with a valid header checksum. */
	uint8_t *g = malloc(len);
	memcpy(g, f, len);
	struct snap_file_header *h = (void *)g;
	h->version = 2;
	h->crc = 0;
	h->crc = snap_crc32(0, h, sizeof(*h));
	write_all(bad, g, len);
	expect_refused(bad, "version", "version 2");
	/* Memory corruption is found by the memory check. */
	memcpy(g, f, len);
	g[len - 64 - 100] ^= 1;
	write_all(bad, g, len);
	struct snap_reader r;
	struct verr err = {{0}};
	if (!snap_reader_open(&r, bad, &err)) {
		CHECK(snap_verify_memory(&r, &err) && strstr(err.msg, "memory checksum"));
		snap_reader_close(&r);
	}
	/* Data after END, and garbage. */
	memcpy(g, f, len);
	write_all(bad, g, len);
	int fd = open(bad, O_WRONLY | O_APPEND);
	CHECK(write(fd, "xx", 2) == 2);
	close(fd);
	expect_refused(bad, "trailing", "after END");
	for (size_t i = 0; i < len; i++)
		g[i] = (uint8_t)rand();
	write_all(bad, g, len);
	expect_refused(bad, "garbage", "not a Vessel snapshot");
	free(g);
	free(f);
	free(mem);
}

/* ---- Hostile states with good checksums ---- */

static struct machine *make_machine(struct virtio_device *rng)
{
	struct vm_config cfg = {.firmware = "none",
				.mem_size = 16u << 20,
				.ncpus = 2,
				.console_out_fd = -1,
				.restoring = true};
	cfg.virtio[0] = rng;
	struct verr err = {{0}};
	struct machine *m = machine_create(&cfg, &err);
	if (!m)
		fprintf(stderr, "machine_create: %s\n", err.msg);
	return m;
}

/* Walk the sections of a file in memory and fix every checksum. */
static void fix_crcs(uint8_t *f, size_t len)
{
	size_t pos = 32;
	while (pos + 32 <= len) {
		struct snap_section_header *h = (void *)(f + pos);
		if (h->type == SNAP_SEC_END || h->type == SNAP_SEC_MEMORY || h->data_offset < 32 ||
		    h->data_offset > len - pos || h->length > len - pos - h->data_offset)
			break;
		if (h->type != SNAP_SEC_MEMORY)
			h->data_crc = snap_crc32(0, f + pos + h->data_offset, h->length);
		h->crc = 0;
		h->crc = snap_crc32(0, h, sizeof(*h));
		pos += h->data_offset + h->length;
		if (h->type != SNAP_SEC_MEMORY)
			pos = (pos + 7) & ~(size_t)7;
	}
}

static void test_hostile_states(void)
{
	char path[256], bad[256];
	path_of(path, sizeof(path), "machine");
	path_of(bad, sizeof(bad), "machine-bad");
	struct virtio_device *rng = virtio_rng_create();
	struct machine *m = make_machine(rng);
	CHECK(m);
	if (!m)
		return;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	struct verr err = {{0}};
	CHECK(!snapshot_machine_save(m, "{}", fd, &err));
	close(fd);
	machine_destroy(m);
	virtio_device_destroy(rng);
	size_t len;
	uint8_t *f = read_all(path, &len);
	/* The file as saved loads. */
	struct snap_reader r;
	rng = virtio_rng_create();
	m = make_machine(rng);
	CHECK(!snap_reader_open(&r, path, &err));
	CHECK(!snapshot_machine_load(m, &r, &err));
	snap_reader_close(&r);
	machine_destroy(m);
	virtio_device_destroy(rng);
	/* Random bytes of the state sections rewritten, checksums made right again. */
	size_t mem_hdr = 0;
	for (size_t pos = 32; pos + 32 <= len;) {
		struct snap_section_header *h = (void *)(f + pos);
		if (h->type == SNAP_SEC_MEMORY) {
			mem_hdr = pos;
			break;
		}
		pos = (pos + h->data_offset + h->length + 7) & ~(size_t)7;
	}
	CHECK(mem_hdr);
	unsigned refused = 0, loaded = 0;
	uint8_t *g = malloc(len);
	srand(1);
	/* The copy keeps its memory; each round rewrites only the state part. */
	write_all(bad, f, len);
	int bfd = open(bad, O_WRONLY);
	size_t head = mem_hdr + 32;
	for (unsigned iter = 0; iter < 300; iter++) {
		memcpy(g, f, head);
		unsigned flips = 1 + (unsigned)rand() % 4;
		for (unsigned k = 0; k < flips; k++) {
			size_t at = 64 + (size_t)rand() % (mem_hdr - 64);
			g[at] = (uint8_t)(rand() % 3 == 0 ? 0xff : rand());
		}
		fix_crcs(g, head);
		CHECK(pwrite(bfd, g, head, 0) == (ssize_t)head);
		rng = virtio_rng_create();
		m = make_machine(rng);
		struct verr e = {{0}};
		if (snap_reader_open(&r, bad, &e) || snapshot_machine_load(m, &r, &e)) {
			refused++;
			CHECK(e.msg[0]);
		} else {
			loaded++;
		}
		if (r.fd >= 0)
			snap_reader_close(&r);
		machine_destroy(m);
		virtio_device_destroy(rng);
	}
	close(bfd);
	printf("hostile states: %u refused, %u loaded (harmless values)\n", refused, loaded);
	CHECK(refused > 100);
	free(g);
	free(f);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_round_trip();
	test_bad_files();
	test_hostile_states();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		failures++;
	if (failures) {
		fprintf(stderr, "%d failures\n", failures);
		return 1;
	}
	printf("snapshot format: ok\n");
	return 0;
}
