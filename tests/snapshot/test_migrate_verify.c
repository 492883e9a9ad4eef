/* SPDX-License-Identifier: MIT */
/*
 * The end-to-end memory check of a migration (src/snapshot/migrate_verify.c):
 * equal memory passes, one changed byte anywhere is found and named, and
 * malformed VERIFY messages from a hostile stream are refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "machine/guest_mem.h"
#include "snapshot/migrate_verify.h"

#define MEM_SIZE (8u << 20)
#define NPAGES	 (MEM_SIZE / 4096)

static size_t build_all(const struct guest_mem *m, uint8_t *buf, size_t cap)
{
	return mig_verify_build(m, 0, buf, cap);
}

static void fill(struct guest_mem *m, unsigned seed)
{
	srand(seed);
	for (uint64_t i = 0; i < MEM_SIZE; i += 8) {
		uint64_t v = (i / 4096) % 3 ? (uint64_t)rand() << 32 | (uint64_t)rand() : 0;
		memcpy(m->host + i, &v, 8);
	}
}

int main(void)
{
	struct guest_mem src, dst;
	CHECK(guest_mem_init(&src, 0x80000000, MEM_SIZE) == 0);
	CHECK(guest_mem_init(&dst, 0x80000000, MEM_SIZE) == 0);
	fill(&src, 7);
	memcpy(dst.host, src.host, MEM_SIZE);
	size_t cap = sizeof(struct mig_verify_hdr) + 8 * (size_t)NPAGES;
	uint8_t *msg = malloc(cap), *bad = malloc(cap);
	CHECK(msg && bad);
	size_t len = build_all(&src, msg, cap);
	CHECK(len == cap);
	CHECK(mig_verify_build(&src, NPAGES, msg, cap) == 0); /* past the end */

	/* Equal memory passes and counts every page. */
	struct verr err = {{0}};
	uint64_t checked = 0;
	CHECK(mig_verify_check(&dst, msg, len, &checked, &err) == 0);
	CHECK(checked == NPAGES);

	/* One changed byte anywhere (first, middle, last byte of a page; zero pages too)
	 * is found, with its page's address. */
	const uint64_t where[] = {0, 4095, 4096 * 5 + 2048, 4096 * 9 + 17, MEM_SIZE - 1};
	for (unsigned i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		dst.host[where[i]] ^= 0x01;
		CHECK(mig_verify_check(&dst, msg, len, &checked, &err) == -EIO);
		char want[64];
		snprintf(want, sizeof(want), "0x%llx",
			 (unsigned long long)(0x80000000 + (where[i] & ~4095ull)));
		CHECK(strstr(err.msg, want) != NULL);
		CHECK(strstr(err.msg, "1 guest pages differ") != NULL);
		dst.host[where[i]] ^= 0x01;
	}
	/* Two words swapped within a page is a different page too. */
	uint64_t a, b;
	memcpy(&a, dst.host + 8192, 8);
	memcpy(&b, dst.host + 8192 + 8, 8);
	CHECK(a != b);
	memcpy(dst.host + 8192, &b, 8);
	memcpy(dst.host + 8192 + 8, &a, 8);
	CHECK(mig_verify_check(&dst, msg, len, &checked, &err) == -EIO);
	memcpy(dst.host + 8192, &a, 8);
	memcpy(dst.host + 8192 + 8, &b, 8);

	/* A part of memory: only those pages are compared. */
	size_t part = mig_verify_build(&src, NPAGES - 10, msg, cap);
	CHECK(part == sizeof(struct mig_verify_hdr) + 80);
	dst.host[0] ^= 0xff; /* outside the part */
	checked = 0;
	CHECK(mig_verify_check(&dst, msg, part, &checked, &err) == 0 && checked == 10);
	dst.host[0] ^= 0xff;

	/* Hostile messages: short, count 0, past the end, overflowing, wrong length,
	 * the reserved word set.  Refused, never read past the buffer or memory. */
	len = build_all(&src, msg, cap);
	struct mig_verify_hdr h;
	memcpy(&h, msg, sizeof(h));
	CHECK(mig_verify_check(&dst, msg, 4, &checked, &err) == -EINVAL);
	const struct mig_verify_hdr hostile[] = {
	    {0, 0, 0},		{NPAGES, 1, 0},	    {NPAGES - 1, 2, 0}, {UINT64_MAX, 2, 0},
	    {1, UINT32_MAX, 0}, {0, NPAGES + 1, 0}, {0, 1, 1},
	};
	for (unsigned i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		memcpy(bad, msg, len);
		memcpy(bad, &hostile[i], sizeof(hostile[i]));
		size_t l =
		    sizeof(h) + 8 * (size_t)(hostile[i].count > NPAGES ? 1 : hostile[i].count);
		CHECK(mig_verify_check(&dst, bad, l, &checked, &err) == -EINVAL);
	}
	CHECK(mig_verify_check(&dst, msg, len - 8, &checked, &err) == -EINVAL);
	CHECK(mig_verify_check(&dst, msg, len + 8 > cap ? len - 1 : len + 8, &checked, &err) ==
	      -EINVAL);
	free(msg);
	free(bad);
	guest_mem_destroy(&src);
	guest_mem_destroy(&dst);
	if (failures)
		return 1;
	puts("migrate-verify: ok");
	return 0;
}
