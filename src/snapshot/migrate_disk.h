/* SPDX-License-Identifier: MIT */
/*
 * Disks in a live migration (docs/snapshot.md), used by migrate.c.
 *
 * Shared storage: both sides name the same images.  The source flushes and
 * hands them over (blk_inactivate) during stop-and-copy, before the state
 * goes out; the destination opens them (blk_activate) once it has the whole
 * stream.  If the migration fails the source takes them back.
 *
 * Copy (--copy-storage): the destination has images of its own, of the same
 * sizes.  The source tracks guest writes (blk_dirty_*), sends every chunk of
 * 64 KiB once (zero chunks as an entry without data, others zstd
 * compressed), then the chunks written meanwhile, round after round with
 * the memory pages, the last ones during stop-and-copy.
 *
 * Messages:
 *   DISKS  {u32 count, u32 chunk size} + count x u64 virtual size
 *   DISK   entries {u64 offset, u32 disk, u32 len, u32 clen, u32 0} + clen
 *          bytes each (clen 0: zeros, clen == len: raw, else zstd)
 */
#ifndef VESSEL_SNAPSHOT_MIGRATE_DISK_H
#define VESSEL_SNAPSHOT_MIGRATE_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/virt.h"

struct blk;
struct machine;
struct verr;

#define MIG_DISKS 6
#define MIG_DISK  7

#define MIGDISK_MAX   VIRT_VIRTIO_SLOTS
#define MIGDISK_BATCH 16 /* chunks per DISK message */

/* In migrate.c: one message of the stream. */
int mig_send_msg(int fd, uint32_t type, const void *data, size_t len, struct verr *err);

struct migdisk {
	unsigned n;
	struct blk *blk[MIGDISK_MAX];
	uint64_t *pending[MIGDISK_MAX]; /* source: chunks still to send */
	uint64_t *fetched[MIGDISK_MAX]; /* source: one fetch of the dirty bits */
	uint8_t *buf;			/* one DISK message */
	size_t used;
	unsigned count;
	uint8_t *chunk; /* one chunk read or decompressed */
	void *zc, *zd;	/* zstd contexts */
	uint64_t bytes_sent, chunks_sent;
	bool have_info; /* destination: DISKS came */
};

/* The machine's writable disks (virtio-blk), in slot order. */
unsigned migdisk_list(struct machine *m, struct blk **out);

/* Shared storage: flush and close every writable disk / open them again.  Either
 * leaves all as they were on failure. */
int migdisk_release(struct machine *m, struct verr *err);
int migdisk_acquire(struct machine *m, struct verr *err);
/* Flush every writable disk (while the guest runs: before the handover). */
int migdisk_flush(struct machine *m, struct verr *err);

/* ---- Source (--copy-storage) ---- */
/* Start tracking writes; every chunk is pending.  _init: on these disks (tests). */
int migdisk_src_start(struct migdisk *d, struct machine *m, struct verr *err);
int migdisk_src_init(struct migdisk *d, struct blk *const *blk, unsigned n, struct verr *err);
int migdisk_send_info(struct migdisk *d, int fd, struct verr *err);
/* Add the chunks written since the last fetch to the pending ones; returns how many are pending. */
uint64_t migdisk_fetch(struct migdisk *d);
/* Send the pending chunks. */
int migdisk_send_pending(struct migdisk *d, int fd, struct verr *err);
void migdisk_src_end(struct migdisk *d);

/* ---- Destination (--copy-storage) ---- */
/* The machine's disks, taken over (_init: these disks, as they are; tests). */
int migdisk_dst_start(struct migdisk *d, struct machine *m, struct verr *err);
int migdisk_dst_init(struct migdisk *d, struct blk *const *blk, unsigned n, struct verr *err);
/* DISKS: the source's disks must be ours, same count and sizes. */
int migdisk_dst_info(struct migdisk *d, const uint8_t *buf, size_t len, struct verr *err);
/* DISK: every entry checked against our disks before it is written. */
int migdisk_dst_apply(struct migdisk *d, const uint8_t *buf, size_t len, struct verr *err);
int migdisk_dst_flush(struct migdisk *d, struct verr *err);
void migdisk_dst_end(struct migdisk *d);

#endif
