/* SPDX-License-Identifier: MIT */
/*
 * Handing an image over to another process (block.h), for live migration
 * with shared storage.  An inactive image has no backend open: no file
 * descriptor (so no qcow2 write lock) and no cached metadata, which the
 * other process may change meanwhile.  Activating opens it again from its
 * path and swaps the new backend into the same struct blk, so the device
 * that owns it does not notice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/blk_internal.h"
#include "block/block.h"
#include "util/log.h"

static int inactive_pread(struct blk *b, void *buf, size_t len, uint64_t off)
{
	(void)b, (void)buf, (void)len, (void)off;
	return -EIO;
}

static int inactive_pwrite(struct blk *b, const void *buf, size_t len, uint64_t off)
{
	(void)b, (void)buf, (void)len, (void)off;
	return -EIO;
}

/* Nothing of ours is unwritten. */
static int inactive_flush(struct blk *b)
{
	(void)b;
	return 0;
}

static int inactive_discard(struct blk *b, uint64_t off, uint64_t len)
{
	(void)b, (void)off, (void)len;
	return -EIO;
}

static int inactive_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap)
{
	(void)b, (void)off, (void)len, (void)may_unmap;
	return -EIO;
}

static void inactive_close(struct blk *b)
{
	free(b);
}

static const struct blk_ops inactive_ops = {
    .pread = inactive_pread,
    .pwrite = inactive_pwrite,
    .flush = inactive_flush,
    .discard = inactive_discard,
    .write_zeroes = inactive_write_zeroes,
    .close = inactive_close,
};

bool blk_is_active(const struct blk *b)
{
	return !b->inactive;
}

int blk_open_inactive(const char *path, enum blk_format fmt, bool readonly, struct blk **out,
		      struct verr *err)
{
	*out = NULL;
	/* Checked now, read-only (no lock), so that a bad image fails here. */
	struct blk *probe;
	int r = blk_open_depth(path, fmt, true, 0, &probe, err);
	if (r)
		return r;
	struct blk *b = calloc(1, sizeof(*b));
	char *p = strdup(path);
	if (!b || !p) {
		free(b);
		free(p);
		blk_close(probe);
		return verr_set(err, ENOMEM, "out of memory");
	}
	b->ops = &inactive_ops;
	b->format = probe->format;
	b->size = probe->size;
	b->readonly = readonly;
	b->path = p;
	b->inactive = true;
	blk_close(probe);
	*out = b;
	return 0;
}

int blk_inactivate(struct blk *b)
{
	if (b->inactive || b->readonly)
		return 0;
	int r = b->ops->flush(b);
	if (r)
		return r;
	struct blk *old = calloc(1, sizeof(*old));
	if (!old)
		return -ENOMEM;
	old->ops = b->ops;
	old->priv = b->priv;
	old->format = b->format;
	old->size = b->size;
	b->ops = &inactive_ops;
	b->priv = NULL;
	b->inactive = true;
	/* Closing the file releases its lock. */
	blk_close(old);
	return 0;
}

int blk_activate(struct blk *b, struct verr *err)
{
	if (!b->inactive)
		return 0;
	if (!b->path)
		return verr_set(err, EINVAL, "image without a path cannot be opened again");
	struct blk *n;
	int r = blk_open_depth(b->path, b->format, b->readonly, 0, &n, err);
	if (r)
		return r;
	if (n->size != b->size) {
		uint64_t now = n->size;
		blk_close(n);
		return verr_set(err, EINVAL, "%s: its size changed (%llu bytes, was %llu)", b->path,
				(unsigned long long)now, (unsigned long long)b->size);
	}
	const struct blk_ops *ops = n->ops;
	void *priv = n->priv;
	n->ops = &inactive_ops;
	n->priv = NULL;
	blk_close(n);
	b->priv = priv;
	b->ops = ops;
	b->inactive = false;
	return 0;
}
