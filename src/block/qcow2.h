/* SPDX-License-Identifier: MIT */
/*
 * qcow2 internals shared by the qcow2_*.c files.  docs/qcow2.md describes the
 * on-disk format as far as we implement it.
 *
 * Locking: 'lock' (a mutex) guards all metadata: header fields, L1 table,
 * refcount table, both table caches and the allocator.  'map_lock' (a rwlock)
 * keeps a host cluster from being freed while a request reads or writes it
 * outside 'lock': requests that only read or add mappings hold it shared,
 * requests that drop mappings (discard, zeroing, rewriting a compressed
 * cluster) hold it exclusive.  Order: map_lock, then lock.
 */
#ifndef VESSEL_BLOCK_QCOW2_H
#define VESSEL_BLOCK_QCOW2_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "block/blk_internal.h"

#define QCOW2_MAGIC_BYTES      "QFI\xfb"
#define QCOW2_MAGIC	       0x514649fbu
#define QCOW2_MAX_BACKING_NAME 1023

#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104 /* minimum, up to and including header_length */

#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_L1_BYTES     (32u << 20) /* same implementation limit as QEMU */
#define QCOW2_MAX_REFT_BYTES   (8u << 20)

/* incompatible_features */
#define QCOW2_INCOMPAT_DIRTY	(1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT	(1ull << 1)
#define QCOW2_INCOMPAT_DATAFILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESS (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2	(1ull << 4)

/* header extension types */
#define QCOW2_EXT_END		0x00000000u
#define QCOW2_EXT_BACKING_FMT	0xe2792acau
#define QCOW2_EXT_FEATURE_NAMES 0x6803f857u
#define QCOW2_EXT_BITMAPS	0x23852875u
#define QCOW2_EXT_CRYPTO	0x0537be77u
#define QCOW2_EXT_DATA_FILE	0x44415441u

/* header field offsets we rewrite after creation */
#define QCOW2_OFF_REFT_OFFSET 48 /* u64 refcount_table_offset, then u32 clusters */
#define QCOW2_OFF_INCOMPAT    72
#define QCOW2_OFF_AUTOCLEAR   88

/* L1 / L2 / refcount table entries */
#define QCOW2_COPIED	    (1ull << 63)
#define QCOW2_COMPRESSED    (1ull << 62)
#define QCOW2_ZERO	    1ull
#define QCOW2_OFF_MASK	    0x00fffffffffffe00ull /* bits 9-55 */
#define QCOW2_L1_RESERVED   0x7f000000000001ffull
#define QCOW2_L2_RESERVED   0x3f000000000001feull
#define QCOW2_REFT_OFF_MASK 0xfffffffffffffe00ull

/* A small LRU cache of metadata clusters (L2 tables or refcount blocks),
 * written back at flush or eviction (see qcow2_cache.c). */
struct qcache_ent {
	uint64_t off; /* host offset, 0 = empty slot */
	uint64_t used;
	bool dirty;
	uint8_t *data;
};

struct qcache {
	unsigned n;
	bool barrier; /* L2 cache: refcounts must be durable before a write-back */
	uint64_t tick;
	unsigned last; /* slot of the last hit */
	struct qcache_ent *ents;
};

/* A reference to drop once the L2/L1 change that removed it is durable. */
struct q2_free {
	uint64_t off, len;
	bool punch;
};

struct qcow2 {
	int fd;
	bool readonly;
	const char *path; /* for error messages; owned */
	uint32_t version;
	uint32_t cluster_bits;
	uint64_t cs; /* cluster size */
	uint64_t size;
	uint64_t incompat, compat, autoclear;

	uint32_t l2_bits; /* log2 of L2 entries per table */
	uint64_t *l1;	  /* host byte order */
	uint32_t l1_size;
	uint64_t l1_offset;

	uint64_t *reft; /* refcount table, host byte order */
	uint64_t reft_offset;
	uint32_t reft_clusters;
	uint64_t reft_entries;
	uint32_t refcount_order;
	uint64_t rb_entries; /* refcounts per refcount block */
	uint64_t refcount_max;

	uint64_t end_cluster; /* first cluster index past the file's last used cluster */
	uint64_t free_hint;   /* no free cluster below this index */

	unsigned csize_shift; /* compressed descriptor layout */
	uint64_t csize_mask;
	uint64_t coffset_mask;

	uint32_t nb_snapshots;
	char backing_name[QCOW2_MAX_BACKING_NAME + 1];
	char backing_fmt[32];
	struct blk *backing;

	bool corrupt_reported;
	bool has_bitmaps;		   /* a bitmaps header extension is present */
	uint64_t l1_dirty_lo, l1_dirty_hi; /* L1 entries [lo, hi) not yet written */
	struct q2_free *pending;	   /* deferred frees, applied by qcow2_meta_flush */
	size_t npending, cap_pending;
	struct qcache l2_cache, rb_cache;
	pthread_mutex_t lock;
	pthread_rwlock_t map_lock;
};

/* big-endian helpers */
static inline uint64_t q2_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}
static inline uint32_t q2_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void q2_put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}
static inline void q2_put32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* qcow2_header.c */
int qcow2_header_load(struct qcow2 *s, struct verr *err);

/* qcow2_repair.c: rebuild all refcounts of a dirty image from its mappings. */
int qcow2_repair(struct qcow2 *s, struct verr *err);

/* qcow2_cache.c */
int qcache_init(struct qcache *c, unsigned n, uint64_t cs, bool barrier);
void qcache_free(struct qcache *c);
/* Table at host offset 'off': read from the file unless cached. */
int qcache_get(struct qcow2 *s, struct qcache *c, uint64_t off, uint8_t **data);
/* Mark the cached table at 'off' changed. */
void qcache_dirty(struct qcache *c, uint64_t off);
/* Write every changed table of this cache. */
int qcache_flush(struct qcow2 *s, struct qcache *c);
/* Forget a cached table (its cluster was rewritten behind the cache's back). */
void qcache_drop(struct qcache *c, uint64_t off);
/* A freshly allocated table: zero-filled in the cache and written to the file. */
int qcache_get_new(struct qcow2 *s, struct qcache *c, uint64_t off, uint8_t **data);

/* qcow2_refcount.c */
int qcow2_refcount_get(struct qcow2 *s, uint64_t cluster, uint64_t *rc);
int qcow2_refcount_add(struct qcow2 *s, uint64_t cluster, int delta);
int qcow2_cluster_alloc(struct qcow2 *s, uint64_t *off);
/* Drop one reference to each host cluster in [off, off+len), at the next
 * metadata flush (after the mapping that used them is gone from the disk). */
int qcow2_clusters_free(struct qcow2 *s, uint64_t off, uint64_t len, bool punch);
/* The same, at once: only when nothing on disk refers to them any more. */
int qcow2_clusters_free_now(struct qcow2 *s, uint64_t off, uint64_t len, bool punch);
/* Make all metadata durable, in an order that never lets the disk refer to a
 * cluster whose refcount is not yet counted; then apply deferred frees. */
int qcow2_meta_flush(struct qcow2 *s);
/* Flush early when the deferred frees pile up. */
int qcow2_meta_maybe_flush(struct qcow2 *s);
/* Store refcount v at index i of a refcount block. */
void qcow2_rb_set(const struct qcow2 *s, uint8_t *blk, uint64_t i, uint64_t v);
/* Is [off, off+len) a plausible place for a table or data cluster? */
bool qcow2_host_range_ok(const struct qcow2 *s, uint64_t off, uint64_t len);

/* qcow2_map.c: L1/L2 lookups */
enum q2_kind { Q2_UNALLOC, Q2_ZERO, Q2_NORMAL, Q2_COMPRESSED };
struct q2_map {
	enum q2_kind kind;
	uint64_t entry;	   /* raw L2 entry */
	uint64_t host;	   /* NORMAL: host offset of the first byte */
	uint64_t len;	   /* bytes from the guest offset with the same kind (contiguous host) */
	uint64_t file_end; /* end of the used file when mapped (for use outside 'lock') */
};
int qcow2_map(struct qcow2 *s, uint64_t off, uint64_t len, struct q2_map *m);
/* The L2 table for guest cluster 'gc', allocating it if 'alloc'. *tbl NULL if none. */
int qcow2_l2_get(struct qcow2 *s, uint64_t gc, bool alloc, uint8_t **tbl, uint64_t *l2_off);
int qcow2_l2_set(struct qcow2 *s, uint64_t gc, uint64_t entry);
void qcow2_l1_dirty(struct qcow2 *s, uint64_t l1i);
int qcow2_l1_flush(struct qcow2 *s);
int qcow2_entry_classify(const struct qcow2 *s, uint64_t e, enum q2_kind *kind);

/* qcow2_compress.c */
int qcow2_compressed_read(struct qcow2 *s, uint64_t entry, uint64_t file_end, uint8_t *cluster);
void qcow2_compressed_range(const struct qcow2 *s, uint64_t entry, uint64_t *off, uint64_t *len);

/* qcow2_io.c */
extern const struct blk_ops qcow2_ops;

#define Q2_CORRUPT(s, what) qcow2_corrupt(s, what)
int qcow2_corrupt(struct qcow2 *s, const char *what);

#endif
