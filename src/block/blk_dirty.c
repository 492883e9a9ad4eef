/* SPDX-License-Identifier: MIT */
/*
 * Which parts of a disk were written since the last look (block.h): what a
 * live migration with --copy-storage sends again.  The bitmap lives as long
 * as the image once tracking started: a write that races with a stop marks
 * a bit nobody reads, and needs no lock.
 */
#include <errno.h>
#include <stdlib.h>

#include "block/blk_internal.h"
#include "block/block.h"

uint64_t blk_dirty_chunks(const struct blk *b)
{
	return (b->size + BLK_DIRTY_CHUNK - 1) / BLK_DIRTY_CHUNK;
}

size_t blk_dirty_words(const struct blk *b)
{
	return (size_t)((blk_dirty_chunks(b) + 63) / 64);
}

int blk_dirty_start(struct blk *b)
{
	size_t words = blk_dirty_words(b);
	if (!b->dirty) {
		b->dirty = calloc(words ? words : 1, sizeof(uint64_t));
		if (!b->dirty)
			return -ENOMEM;
	} else {
		for (size_t i = 0; i < words; i++)
			atomic_store_explicit(&b->dirty[i], 0, memory_order_relaxed);
	}
	atomic_store(&b->tracking, true);
	return 0;
}

void blk_dirty_stop(struct blk *b)
{
	atomic_store(&b->tracking, false);
}

void blk_dirty_fetch(struct blk *b, uint64_t *bitmap)
{
	size_t words = blk_dirty_words(b);
	for (size_t i = 0; i < words; i++)
		bitmap[i] =
		    b->dirty ? atomic_exchange_explicit(&b->dirty[i], 0, memory_order_relaxed) : 0;
}

void blk_dirty_mark(struct blk *b, uint64_t off, uint64_t len)
{
	if (!len || !atomic_load(&b->tracking))
		return;
	uint64_t first = off / BLK_DIRTY_CHUNK, last = (off + len - 1) / BLK_DIRTY_CHUNK;
	for (uint64_t c = first; c <= last; c++)
		atomic_fetch_or_explicit(&b->dirty[c / 64], 1ull << (c % 64), memory_order_relaxed);
}
