/* SPDX-License-Identifier: MIT */
/*
 * Live migration (docs/snapshot.md): iterative pre-copy of guest memory over
 * a TCP stream, zstd-compressed pages, the guest throttled when it dirties
 * pages faster than they go out, then a short stop-and-copy of the last
 * dirty pages and the machine state (a snapshot without memory).
 *
 * The stream: messages {u32 type, u32 length, u32 crc32 of the payload, u32
 * 0} + payload.  HELLO (magic, version, memory size, harts, flags), PAGES
 * (entries {u64 page, u32 compressed length (4096: raw), u32 0} + data),
 * SYNC (answered 'S' when all before it is applied), STATE (a snapshot file
 * without its memory section), DONE; with --copy-storage DISKS and DISK
 * (snapshot/migrate_disk.h).  The destination answers one byte when it is
 * running ('K') or failed ('E' + a message).
 *
 * Disks: on shared storage (both sides name the same images) the source
 * hands them over during stop-and-copy; with copy_storage their contents
 * travel in the stream to the destination's own images.
 */
#ifndef VESSEL_SNAPSHOT_MIGRATE_H
#define VESSEL_SNAPSHOT_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct verr;

struct migrate_stats {
	unsigned rounds;
	uint64_t pages_sent, bytes_sent;
	uint64_t total_us, downtime_us;
	unsigned throttle_ms;		  /* the longest pause per round imposed on the guest */
	uint64_t disk_chunks, disk_bytes; /* copy_storage: chunks sent, stream bytes they took */
	uint64_t verified_pages;	  /* verify: pages the destination found equal */
};

/* "tcp:HOST:PORT": a connected socket, or -errno. */
int migrate_connect(const char *spec, struct verr *err);
/* "tcp:HOST:PORT": listen, accept one connection within timeout_ms; the socket or -errno. */
int migrate_accept(const char *spec, unsigned timeout_ms, struct verr *err);

/*
 * Source side, with the machine running.  On success (0) the destination
 * runs the guest and the machine here is left paused: end it.  On failure
 * (-errno, err says why) the machine runs on as before.  With 'verify' the
 * destination also compares a digest of every page with its memory before it
 * runs the guest (migrate_verify.c) and refuses if one differs.
 */
int migrate_send(struct machine *m, const char *config, int fd, bool copy_storage, bool verify,
		 struct migrate_stats *st, struct verr *err);

/*
 * Destination side: 'm' built with cfg.restoring and not started.  0 when
 * loaded, with the disks taken over (shared storage) or filled (copy_storage,
 * which must be what the source does).
 */
int migrate_receive(struct machine *m, int fd, bool copy_storage, struct verr *err);
/* Tell the source how it went (after migrate_receive and starting the machine). */
void migrate_answer(int fd, int result, const char *msg);

#endif
