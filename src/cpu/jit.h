/* SPDX-License-Identifier: MIT */
/*
 * Baseline JIT: a decoded block that has run often enough and holds only
 * integer ALU operations, loads, stores, branches and jumps is translated
 * to host code.  The host code keeps the guest registers in h->x, runs the
 * whole block, sets h->pc, counts retired instructions and returns; a
 * faulting access raises its exception before returning, exactly where the
 * interpreter would.  Translated code lives in a per-hart buffer that is
 * emptied together with the decoded blocks (block_cache_flush).
 *
 * Only x86-64 hosts have a translator; elsewhere the JIT is never enabled.
 */
#ifndef VESSEL_CPU_JIT_H
#define VESSEL_CPU_JIT_H

#include <stdbool.h>

#include "cpu/hart.h"

#if defined(__x86_64__)
#define JIT_AVAILABLE 1

/* Map the code buffer; -errno if it cannot be had (the JIT then stays off). */
int jit_init(struct hart *h);
void jit_destroy(struct hart *h);

/*
 * Translate b: 0 when b->jit is set, -ENOTSUP when b holds an instruction
 * the JIT does not handle (b->jit_failed is set), -ENOSPC when the code
 * buffer is full (the caller flushes the block cache).
 */
int jit_translate(struct hart *h, struct block *b);

/* The exit whose link slot is 'slot' (h->jit_link) led to b: jump straight there from now on. */
void jit_link(struct hart *h, uint64_t *slot, const struct block *b);

/* Undo every link (a fence.i): each exit goes through the dispatcher again, which compares the
 * target's bytes with guest memory before linking to it anew. */
void jit_unlink_all(struct hart *h);

#else
#define JIT_AVAILABLE 0

static inline int jit_init(struct hart *h)
{
	(void)h;
	return -95; /* EOPNOTSUPP */
}
static inline void jit_destroy(struct hart *h)
{
	(void)h;
}
static inline int jit_translate(struct hart *h, struct block *b)
{
	(void)h;
	b->jit_failed = true;
	return -95;
}
static inline void jit_link(struct hart *h, uint64_t *slot, const struct block *b)
{
	(void)h;
	(void)slot;
	(void)b;
}
static inline void jit_unlink_all(struct hart *h)
{
	(void)h;
}
#endif

#endif
