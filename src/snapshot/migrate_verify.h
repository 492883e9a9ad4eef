/* SPDX-License-Identifier: MIT */
/*
 * Digests of guest pages that let a migration's destination check that its
 * memory is the source's (migrate_verify.c).  A VERIFY message holds
 * { u64 first page, u32 count, u32 0 } and count u64 digests.
 */
#ifndef VESSEL_SNAPSHOT_MIGRATE_VERIFY_H
#define VESSEL_SNAPSHOT_MIGRATE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "util/log.h"

struct guest_mem;

struct mig_verify_hdr {
	uint64_t first;
	uint32_t count, zero;
};

#define MIG_VERIFY_MAX_PAGES (1u << 20) /* per message: 8 MiB of digests */

/* Fill buf (cap bytes) with the digests of the pages from 'first' on; its length, or 0 when
 * 'first' is past the end. */
size_t mig_verify_build(const struct guest_mem *m, uint64_t first, uint8_t *buf, size_t cap);

/* Compare one VERIFY message with m: 0 when every page matches (adds them to *pages_checked),
 * -EIO naming how many differ, -EINVAL for a malformed message. */
int mig_verify_check(const struct guest_mem *m, const uint8_t *msg, size_t len,
		     uint64_t *pages_checked, struct verr *err);

#endif
