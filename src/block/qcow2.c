/* SPDX-License-Identifier: MIT */
/* Opening and closing qcow2 images, with their chain of backing files. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "util/log.h"

/* Cache sizes: about 4 MiB of L2 tables (32 GiB of guest disk with 64 KiB
 * clusters) and 1 MiB of refcount blocks, in at least 4 and at most 256 / 64
 * slots (lookups scan the slots). */
static unsigned q2_cache_slots(uint64_t budget, uint64_t cs, unsigned max)
{
	uint64_t n = budget / cs;
	return n < 4 ? 4 : n > max ? max : (unsigned)n;
}

static int q2_backing_open(struct qcow2 *s, int depth, struct verr *err)
{
	if (!s->backing_name[0] || depth < 0)
		return 0;
	if (depth + 1 >= BLK_MAX_CHAIN)
		return verr_set(err, ELOOP, "%s: backing chain deeper than %d images (a loop?)",
				s->path, BLK_MAX_CHAIN);
	enum blk_format fmt = BLK_FMT_AUTO;
	if (s->backing_fmt[0] &&
	    (blk_format_parse(s->backing_fmt, &fmt) < 0 || fmt == BLK_FMT_AUTO))
		return verr_set(err, ENOTSUP, "%s: backing file format '%s' is not supported",
				s->path, s->backing_fmt);
	char path[4096];
	if (blk_util_resolve(s->path, s->backing_name, path, sizeof(path)) < 0)
		return verr_set(err, ENAMETOOLONG, "%s: backing file name too long", s->path);
	struct verr e2;
	int r = blk_open_depth(path, fmt, true, depth + 1, &s->backing, &e2);
	if (r < 0)
		return verr_set(err, r, "%s: backing file: %s", s->path, e2.msg);
	return 0;
}

static int q2_init(struct qcow2 *s, int depth, struct verr *err)
{
	/* Two writers would corrupt each other's metadata: one at a time. */
	if (!s->readonly && flock(s->fd, LOCK_EX | LOCK_NB) < 0)
		return verr_set(err, errno, "%s: %s", s->path,
				errno == EWOULDBLOCK ? "image is open for writing elsewhere"
						     : strerror(errno));
	int r = qcow2_header_load(s, err);
	if (r < 0)
		return r;
	if (qcache_init(&s->l2_cache, q2_cache_slots(4u << 20, s->cs, 256), s->cs, true) < 0 ||
	    qcache_init(&s->rb_cache, q2_cache_slots(1u << 20, s->cs, 64), s->cs, false) < 0)
		return verr_set(err, ENOMEM, "out of memory for the metadata caches");
	return q2_backing_open(s, depth, err);
}

static void q2_free_partial(struct qcow2 *s)
{
	blk_close(s->backing);
	qcache_free(&s->l2_cache);
	qcache_free(&s->rb_cache);
	if (s->fd >= 0)
		close(s->fd);
	free(s->l1);
	free(s->reft);
	free((char *)s->path);
	free(s);
}

int qcow2_open(const char *path, bool readonly, int depth, struct blk **out, struct verr *err)
{
	struct qcow2 *s = calloc(1, sizeof(*s));
	struct blk *b = calloc(1, sizeof(*b));
	if (!s || !b || !(s->path = strdup(path))) {
		free(s);
		free(b);
		return verr_set(err, ENOMEM, "out of memory");
	}
	s->readonly = readonly;
	s->fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	int r = s->fd < 0 ? verr_set(err, errno, "%s: %s", path, strerror(errno))
			  : q2_init(s, depth, err);
	if (r < 0) {
		q2_free_partial(s);
		free(b);
		return r;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	/* Discards must not starve behind a steady stream of reads. */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->map_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	b->ops = &qcow2_ops;
	b->format = BLK_FMT_QCOW2;
	b->readonly = readonly;
	b->size = s->size;
	b->priv = s;
	*out = b;
	return 0;
}

int qcow2_backing_name(struct blk *b, char *buf, size_t len)
{
	struct qcow2 *s = b->priv;
	if (b->format != BLK_FMT_QCOW2 || !len)
		return -EINVAL;
	size_t n = strlen(s->backing_name);
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, s->backing_name, n + 1);
	return 0;
}
