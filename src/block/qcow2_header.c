/* SPDX-License-Identifier: MIT */
/*
 * Reading and validating a qcow2 header, its extensions, the L1 table and the
 * refcount table.  The file is hostile input: every field is checked before
 * it is used to size a buffer or index a table.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "block/qcow2.h"
#include "util/log.h"

static uint64_t q2_div_round_up(uint64_t a, unsigned shift)
{
	return (a >> shift) + ((a & ((1ull << shift) - 1)) != 0);
}

/* Header fields that do not depend on the rest of the file. */
static int q2_hdr_basic(struct qcow2 *s, const uint8_t *h, struct verr *err)
{
	const char *p = s->path;
	if (q2_be32(h) != QCOW2_MAGIC)
		return verr_set(err, EINVAL, "%s: not a qcow2 image (bad magic)", p);
	s->version = q2_be32(h + 4);
	if (s->version != 2 && s->version != 3)
		return verr_set(err, ENOTSUP, "%s: unsupported qcow2 version %u", p, s->version);
	s->cluster_bits = q2_be32(h + 20);
	if (s->cluster_bits < QCOW2_MIN_CLUSTER_BITS || s->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return verr_set(err, EINVAL, "%s: invalid cluster_bits %u (9..21 allowed)", p,
				s->cluster_bits);
	s->cs = 1ull << s->cluster_bits;
	s->l2_bits = s->cluster_bits - 3;
	if (q2_be32(h + 32) != 0)
		return verr_set(err, ENOTSUP, "%s: encrypted qcow2 images are not supported", p);
	s->size = q2_be64(h + 24);
	if (s->size > (1ull << 56))
		return verr_set(err, EFBIG, "%s: virtual size %" PRIu64 " too large", p, s->size);
	s->nb_snapshots = q2_be32(h + 60);
	return 0;
}

static int q2_hdr_features(struct qcow2 *s, const uint8_t *h, uint32_t hlen, struct verr *err)
{
	const char *p = s->path;
	s->incompat = q2_be64(h + 72);
	s->compat = q2_be64(h + 80);
	s->autoclear = q2_be64(h + 88);
	uint64_t known = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DATAFILE |
			 QCOW2_INCOMPAT_COMPRESS | QCOW2_INCOMPAT_EXTL2;
	if (s->incompat & ~known)
		return verr_set(err, ENOTSUP, "%s: unsupported incompatible features 0x%" PRIx64, p,
				s->incompat & ~known);
	if (s->incompat & QCOW2_INCOMPAT_DATAFILE)
		return verr_set(err, ENOTSUP, "%s: external data files are not supported", p);
	if (s->incompat & QCOW2_INCOMPAT_EXTL2)
		return verr_set(err, ENOTSUP,
				"%s: extended L2 entries (subclusters) are not supported", p);
	unsigned ctype = hlen > 104 ? h[104] : 0;
	if (ctype != 0 || (s->incompat & QCOW2_INCOMPAT_COMPRESS))
		return verr_set(err, ENOTSUP,
				"%s: compression type %u is not supported (only zlib)", p, ctype);
	if ((s->incompat & QCOW2_INCOMPAT_CORRUPT) && !s->readonly)
		return verr_set(err, EUCLEAN,
				"%s: image is marked corrupt; repair it with 'qemu-img check -r "
				"all' or open it read-only",
				p);
	s->refcount_order = q2_be32(h + 96);
	if (s->refcount_order > 6)
		return verr_set(err, EINVAL, "%s: invalid refcount_order %u", p, s->refcount_order);
	return 0;
}

/* L1 and refcount table geometry. */
static int q2_hdr_tables(struct qcow2 *s, const uint8_t *h, uint64_t fsize, struct verr *err)
{
	const char *p = s->path;
	s->l1_size = q2_be32(h + 36);
	s->l1_offset = q2_be64(h + 40);
	uint64_t need = q2_div_round_up(s->size, s->cluster_bits + s->l2_bits);
	if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return verr_set(err, EFBIG, "%s: L1 table too large (%u entries)", p, s->l1_size);
	if (s->l1_size < need)
		return verr_set(err, EINVAL, "%s: L1 table too small for the virtual size", p);
	if (s->l1_size && ((s->l1_offset & (s->cs - 1)) || s->l1_offset < s->cs ||
			   s->l1_offset > fsize || s->l1_size * 8ull > fsize - s->l1_offset))
		return verr_set(err, EINVAL, "%s: L1 table offset 0x%" PRIx64 " invalid", p,
				s->l1_offset);

	s->reft_offset = q2_be64(h + 48);
	s->reft_clusters = q2_be32(h + 56);
	uint64_t rbytes = (uint64_t)s->reft_clusters << s->cluster_bits;
	if (s->reft_clusters == 0 || rbytes > QCOW2_MAX_REFT_BYTES)
		return verr_set(err, EINVAL, "%s: invalid refcount table size (%u clusters)", p,
				s->reft_clusters);
	if ((s->reft_offset & (s->cs - 1)) || s->reft_offset < s->cs || s->reft_offset > fsize ||
	    rbytes > fsize - s->reft_offset)
		return verr_set(err, EINVAL, "%s: refcount table offset 0x%" PRIx64 " invalid", p,
				s->reft_offset);
	s->reft_entries = rbytes / 8;
	s->rb_entries = (s->cs * 8) >> s->refcount_order;
	s->refcount_max =
	    s->refcount_order == 6 ? UINT64_MAX : (1ull << (1u << s->refcount_order)) - 1;
	s->csize_shift = 62 - (s->cluster_bits - 8);
	s->csize_mask = (1ull << (s->cluster_bits - 8)) - 1;
	s->coffset_mask = (1ull << s->csize_shift) - 1;
	return 0;
}

/* Header extensions live between the header and the backing file name. */
static int q2_hdr_extensions(struct qcow2 *s, const uint8_t *c0, uint64_t start, uint64_t end,
			     struct verr *err)
{
	uint64_t off = start;
	while (off + 8 <= end) {
		uint32_t type = q2_be32(c0 + off);
		uint32_t len = q2_be32(c0 + off + 4);
		off += 8;
		if (type == QCOW2_EXT_END)
			return 0;
		if (len > end - off)
			return verr_set(err, EINVAL,
					"%s: header extension 0x%x overflows the header", s->path,
					type);
		if (type == QCOW2_EXT_BITMAPS)
			s->has_bitmaps = true;
		if (type == QCOW2_EXT_BACKING_FMT) {
			if (len >= sizeof(s->backing_fmt))
				return verr_set(err, EINVAL, "%s: backing format name too long",
						s->path);
			memcpy(s->backing_fmt, c0 + off, len);
			s->backing_fmt[len] = 0;
		}
		/* Everything else (feature names, bitmaps, ...) is safely skipped:
		 * encryption and data files were already refused by their flags. */
		off += ((uint64_t)len + 7) & ~7ull;
	}
	return 0;
}

static int q2_hdr_backing(struct qcow2 *s, const uint8_t *c0, uint64_t c0len, uint64_t *ext_end,
			  const uint8_t *h, struct verr *err)
{
	uint64_t boff = q2_be64(h + 8);
	uint32_t blen = q2_be32(h + 16);
	*ext_end = c0len;
	if (!boff)
		return 0;
	if (blen > QCOW2_MAX_BACKING_NAME || boff > c0len || blen > c0len - boff)
		return verr_set(err, EINVAL, "%s: invalid backing file name location", s->path);
	memcpy(s->backing_name, c0 + boff, blen);
	s->backing_name[blen] = 0;
	*ext_end = boff;
	return 0;
}

static int q2_read_table(struct qcow2 *s, uint64_t off, uint64_t n, uint64_t **out,
			 struct verr *err, const char *what)
{
	uint64_t *t = calloc(n ? n : 1, 8);
	if (!t)
		return verr_set(err, ENOMEM, "out of memory for the %s", what);
	int r = n ? blk_util_pread_full(s->fd, t, n * 8, off) : 0;
	if (r < 0) {
		free(t);
		return verr_set(err, r, "%s: reading the %s: %s", s->path, what, strerror(-r));
	}
	for (uint64_t i = 0; i < n; i++)
		t[i] = q2_be64((const uint8_t *)&t[i]);
	*out = t;
	return 0;
}

/* Writers must clear autoclear bits they do not maintain (we maintain none). */
static int q2_hdr_clear_autoclear(struct qcow2 *s, struct verr *err)
{
	if (s->readonly || s->version < 3 || !s->autoclear)
		return 0;
	uint8_t z[8] = {0};
	int r = blk_util_pwrite_full(s->fd, z, 8, QCOW2_OFF_AUTOCLEAR);
	if (r < 0)
		return verr_set(err, r, "%s: updating the header: %s", s->path, strerror(-r));
	s->autoclear = 0;
	return 0;
}

int qcow2_header_load(struct qcow2 *s, struct verr *err)
{
	struct stat st;
	if (fstat(s->fd, &st) < 0)
		return verr_set(err, errno, "%s: %s", s->path, strerror(errno));
	uint64_t fsize = (uint64_t)st.st_size;
	uint8_t h[112] = {0};
	if (fsize < QCOW2_V2_HEADER_LEN)
		return verr_set(err, EINVAL, "%s: truncated qcow2 header", s->path);
	int r = blk_util_pread_full(s->fd, h, fsize < sizeof(h) ? fsize : sizeof(h), 0);
	if (r < 0)
		return verr_set(err, r, "%s: reading the header: %s", s->path, strerror(-r));
	if ((r = q2_hdr_basic(s, h, err)) < 0)
		return r;
	uint32_t hlen = QCOW2_V2_HEADER_LEN;
	s->refcount_order = 4;
	if (s->version == 3) {
		hlen = q2_be32(h + 100);
		if (hlen < QCOW2_V3_HEADER_LEN || (hlen & 7) || hlen > s->cs || hlen > fsize)
			return verr_set(err, EINVAL, "%s: invalid header length %u", s->path, hlen);
		if ((r = q2_hdr_features(s, h, hlen, err)) < 0)
			return r;
	} else if (!s->readonly) {
		return verr_set(err, ENOTSUP,
				"%s: qcow2 version 2 images are supported read-only "
				"(convert with 'qemu-img amend -o compat=1.1')",
				s->path);
	}
	if ((r = q2_hdr_tables(s, h, fsize, err)) < 0)
		return r;

	uint64_t c0len = s->cs < fsize ? s->cs : fsize;
	uint8_t *c0 = malloc(c0len);
	if (!c0)
		return verr_set(err, ENOMEM, "out of memory");
	uint64_t ext_end = c0len;
	r = blk_util_pread_full(s->fd, c0, c0len, 0);
	if (r < 0)
		r = verr_set(err, r, "%s: reading the header: %s", s->path, strerror(-r));
	else
		r = q2_hdr_backing(s, c0, c0len, &ext_end, h, err);
	if (r == 0 && s->version == 3)
		r = q2_hdr_extensions(s, c0, hlen, ext_end, err);
	free(c0);
	if (r < 0)
		return r;

	if ((r = q2_read_table(s, s->l1_offset, s->l1_size, &s->l1, err, "L1 table")) < 0)
		return r;
	if ((r = q2_read_table(s, s->reft_offset, s->reft_entries, &s->reft, err,
			       "refcount table")) < 0)
		return r;
	s->end_cluster = q2_div_round_up(fsize, s->cluster_bits);
	s->free_hint = 1;
	/* Dirty: refcounts may be stale (lazy refcounts and a crash).  Reading
	 * needs none; writing needs them exact, so rebuild them first. */
	if ((s->incompat & QCOW2_INCOMPAT_DIRTY) && !s->readonly) {
		if (s->has_bitmaps || s->nb_snapshots)
			return verr_set(err, EUCLEAN,
					"%s: image is dirty and has snapshots or bitmaps; repair "
					"it with 'qemu-img check -r all' or open it read-only",
					s->path);
		if ((r = qcow2_repair(s, err)) < 0)
			return r;
	}
	return q2_hdr_clear_autoclear(s, err);
}
