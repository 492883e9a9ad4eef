/* SPDX-License-Identifier: MIT */
/*
 * End-to-end check of a live migration's memory (PUT /migrate {"verify": true}).
 *
 * Once the source is paused and has sent everything, it sends a digest of
 * every guest page; the destination, having applied the whole stream,
 * computes its own and refuses to run the guest if one page differs, so the
 * source runs on.  A page lost by the dirty log or the rounds then shows up
 * as a failed migration at once, not as a guest that crashes minutes later.
 * It costs a pass over guest memory on each side during the downtime, so it
 * is asked for, not always on.
 */
#include "snapshot/migrate_verify.h"

#include <errno.h>
#include <string.h>

#include "machine/guest_mem.h"

/* 64-bit digest of one 4 KiB page: four independent multiply-xor lanes. */
static uint64_t page_digest(const uint8_t *p)
{
	const uint64_t k = 0x9e3779b97f4a7c15ull;
	uint64_t h[4] = {1, 2, 3, 4};
	for (unsigned i = 0; i < GUEST_PAGE_SIZE; i += 32)
		for (unsigned l = 0; l < 4; l++) {
			uint64_t w;
			memcpy(&w, p + i + 8 * l, 8);
			h[l] = (h[l] ^ w) * k;
			h[l] ^= h[l] >> 29;
		}
	return (h[0] ^ (h[1] * 3) ^ (h[2] * 5) ^ (h[3] * 7)) * k;
}

size_t mig_verify_build(const struct guest_mem *m, uint64_t first, uint8_t *buf, size_t cap)
{
	uint64_t npages = m->size / GUEST_PAGE_SIZE;
	if (first >= npages || cap < sizeof(struct mig_verify_hdr) + 8)
		return 0;
	uint64_t count = (cap - sizeof(struct mig_verify_hdr)) / 8;
	if (count > npages - first)
		count = npages - first;
	if (count > MIG_VERIFY_MAX_PAGES)
		count = MIG_VERIFY_MAX_PAGES;
	struct mig_verify_hdr h = {first, (uint32_t)count, 0};
	memcpy(buf, &h, sizeof(h));
	for (uint64_t i = 0; i < count; i++) {
		uint64_t d = page_digest(m->host + (first + i) * GUEST_PAGE_SIZE);
		memcpy(buf + sizeof(h) + 8 * i, &d, 8);
	}
	return sizeof(h) + 8 * count;
}

int mig_verify_check(const struct guest_mem *m, const uint8_t *msg, size_t len,
		     uint64_t *pages_checked, struct verr *err)
{
	struct mig_verify_hdr h;
	uint64_t npages = m->size / GUEST_PAGE_SIZE;
	if (len < sizeof(h))
		return verr_set(err, EINVAL, "migration stream: short VERIFY message");
	memcpy(&h, msg, sizeof(h));
	if (h.zero || h.count == 0 || h.count > MIG_VERIFY_MAX_PAGES || h.first >= npages ||
	    h.count > npages - h.first || len != sizeof(h) + 8 * (size_t)h.count)
		return verr_set(err, EINVAL, "migration stream: bad VERIFY message");
	uint64_t bad = 0, first_bad = 0;
	for (uint64_t i = 0; i < h.count; i++) {
		uint64_t want;
		memcpy(&want, msg + sizeof(h) + 8 * i, 8);
		if (page_digest(m->host + (h.first + i) * GUEST_PAGE_SIZE) != want && !bad++)
			first_bad = h.first + i;
	}
	if (bad)
		return verr_set(err, EIO,
				"migration check: %llu guest pages differ from the source's "
				"(the first at guest-physical 0x%llx)",
				(unsigned long long)bad,
				(unsigned long long)(m->base + first_bad * GUEST_PAGE_SIZE));
	*pages_checked += h.count;
	return 0;
}
