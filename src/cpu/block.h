/* SPDX-License-Identifier: MIT */
/*
 * The cache of decoded blocks.  A block is a run of instructions in one
 * guest page, decoded once into handler addresses and operands, and found
 * by guest-physical address.  It runs through not-taken conditional
 * branches and stops at jumps, traps, CSR accesses and the page end.
 * fence.i (the architectural point at which instruction fetches must see
 * earlier stores) makes every block compare its saved copy of the guest
 * bytes with memory before its next use; the cache is emptied when full.
 */
#ifndef VESSEL_CPU_BLOCK_H
#define VESSEL_CPU_BLOCK_H

#include "cpu/hart.h"

/* Handler addresses of the interpreter, indexed by enum cpu_op. */
extern const void *const *cpu_op_labels;

int block_cache_init(struct hart *h, size_t bytes);
void block_cache_destroy(struct hart *h);
void block_cache_flush(struct hart *h);
void block_cache_fence_i(struct hart *h);

/* The block starting at virtual pc, decoding it if needed; NULL after a fetch fault. */
struct block *block_lookup(struct hart *h, uint64_t vpc);

/* A hot block about to be translated: its trace along the way its branches went, or itself. */
struct block *block_retrace(struct hart *h, struct block *blk, uint64_t vpc);

#endif
