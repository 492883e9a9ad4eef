/* SPDX-License-Identifier: MIT */
/* Reading compressed qcow2 clusters: raw deflate streams (zlib, no header). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "block/qcow2.h"

void qcow2_compressed_range(const struct qcow2 *s, uint64_t entry, uint64_t *off, uint64_t *len)
{
	uint64_t coff = entry & s->coffset_mask;
	uint64_t nsec = ((entry >> s->csize_shift) & s->csize_mask) + 1;
	*off = coff;
	*len = nsec * 512 - (coff & 511);
}

static int q2_inflate(const uint8_t *in, uint64_t inlen, uint8_t *out, uint64_t outlen)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -15) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)inlen;
	z.next_out = out;
	z.avail_out = (uInt)outlen;
	int zr = inflate(&z, Z_FINISH);
	bool ok = z.avail_out == 0 && (zr == Z_STREAM_END || zr == Z_BUF_ERROR || zr == Z_OK);
	inflateEnd(&z);
	return ok ? 0 : -EIO;
}

int qcow2_compressed_read(struct qcow2 *s, uint64_t entry, uint64_t end, uint8_t *cluster)
{
	uint64_t off, len;
	qcow2_compressed_range(s, entry, &off, &len);
	if (off < s->cs || off >= end)
		return qcow2_corrupt(s, "compressed cluster outside the file");
	if (len > end - off)
		len = end - off; /* the last sector may stop short at end of file */
	uint8_t *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	/* The file may end inside the stream's last sector. */
	int r = blk_util_pread_zfill(s->fd, buf, len, off);
	if (r == 0 && q2_inflate(buf, len, cluster, s->cs) < 0)
		r = qcow2_corrupt(s, "compressed cluster does not inflate");
	free(buf);
	return r;
}
