/* SPDX-License-Identifier: MIT */
/* Helpers shared by the block tests: checks, temp files, qemu-img, a shadow file. */
#ifndef VESSEL_TESTS_BLOCK_BLK_TEST_H
#define VESSEL_TESTS_BLOCK_BLK_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "block/block.h"

extern int t_failures;
extern const char *t_qemu_img, *t_qemu_io;
extern char t_dir[256];

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			t_failures++;                                                              \
			return;                                                                    \
		}                                                                                  \
	} while (0)

/* Path of 'name' in the test's temporary directory (static buffer rotation). */
const char *tp(const char *name);
/* Run a shell command; returns its exit status (or -1).  Output goes to t_dir/cmd.log. */
int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Last command's output. */
const char *run_log(void);

uint64_t t_rand(void);
void t_seed(uint64_t s);
void t_fill(uint8_t *buf, size_t len, uint64_t tag);

/* Shadow: a sparse raw file that holds what the image should contain. */
struct shadow {
	int fd;
	uint64_t size;
};
int shadow_open(struct shadow *sh, const char *path, uint64_t size);
void shadow_close(struct shadow *sh);
void shadow_write(struct shadow *sh, const void *buf, size_t len, uint64_t off);
void shadow_zero(struct shadow *sh, uint64_t off, uint64_t len);
void shadow_copy_from(struct shadow *sh, const char *raw_path);

/* Random requests applied to both an image and a shadow.  'hot' offsets
 * attract requests (cluster and L2 boundaries, end of disk). */
struct ops_cfg {
	int count;
	uint64_t max_len;
	const uint64_t *hot;
	int nhot;
	bool discard_zeroes; /* discard makes the range read zero (no partial-cluster hints) */
	uint64_t cs;	     /* cluster size of the image, for discard expectations */
};
int ops_apply(struct blk *b, struct shadow *sh, const struct ops_cfg *cfg);

/* Compare the whole image (read by Vessel) against the shadow; 0 if equal. */
int verify_read(struct blk *b, struct shadow *sh);
/* qemu-img check and compare against the shadow file. */
int qemu_check(const char *img);
int qemu_compare(const char *raw, const char *img, const char *fmt);
uint64_t file_hash(const char *path);

#endif
