/* SPDX-License-Identifier: MIT */
/* Live migration (snapshot/migrate.h). */
#include "snapshot/migrate.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "block/block.h"
#include "cpu/cpu.h"
#include "machine/guest_mem.h"
#include "machine/virt.h"
#include "snapshot/format.h"
#include "snapshot/migrate_disk.h"
#include "snapshot/migrate_verify.h"
#include "snapshot/snapshot.h"
#include "util/clock.h"
#include "util/log.h"

#define MIG_MAGIC      "VESSELMG"
#define MIG_VERSION    2 /* 2: HELLO flags, DISKS and DISK messages */
#define MIG_HELLO      1
#define MIG_PAGES      2
#define MIG_STATE      3
#define MIG_DONE       4
#define MIG_SYNC       5 /* answered 'S' once everything before it is applied */
#define MIG_VERIFY     8 /* after STATE: digests of guest pages (migrate_verify.h) */
#define MIG_MAX_MSG    (16u << 20)
#define MIG_BATCH      256 /* pages per PAGES message */
#define MIG_MAX_ROUNDS 30
#define MIG_IO_TIMEOUT 10000 /* ms without progress: the peer is gone */

struct mig_msg {
	uint32_t type, length, crc, zero;
};

struct mig_hello {
	char magic[8];
	uint32_t version, nharts;
	uint64_t mem_size;
	uint32_t flags, zero;
};

#define MIG_F_COPY_STORAGE 1u /* disk contents follow (DISKS, DISK) */

struct mig_page {
	uint64_t page;
	uint32_t clen, zero;
};

/* ---- Sockets ------------------------------------------------------------------------------ */

static int parse_spec(const char *spec, char *host, size_t hs, char *port, size_t ps,
		      struct verr *err)
{
	const char *colon = strrchr(spec, ':');
	if (strncmp(spec, "tcp:", 4) || !colon || colon < spec + 4 || !colon[1])
		return verr_set(err, EINVAL, "%s: expected tcp:HOST:PORT", spec);
	snprintf(host, hs, "%.*s", (int)(colon - spec - 4), spec + 4);
	snprintf(port, ps, "%s", colon + 1);
	return 0;
}

static int resolve(const char *spec, bool passive, struct addrinfo **out, struct verr *err)
{
	char host[256], port[32];
	int r = parse_spec(spec, host, sizeof(host), port, sizeof(port), err);
	if (r)
		return r;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = passive ? AI_PASSIVE : 0};
	int g = getaddrinfo(host[0] ? host : NULL, port, &hints, out);
	if (g)
		return verr_set(err, EINVAL, "%s: %s", spec, gai_strerror(g));
	return 0;
}

static void sock_setup(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct timeval tv = {.tv_sec = MIG_IO_TIMEOUT / 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int migrate_connect(const char *spec, struct verr *err)
{
	struct addrinfo *ai;
	int r = resolve(spec, false, &ai, err);
	if (r)
		return r;
	int fd = -1, e = 0;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen)) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return verr_set(err, e ? e : EIO, "connect %s: %s", spec, strerror(e ? e : EIO));
	sock_setup(fd);
	return fd;
}

int migrate_accept(const char *spec, unsigned timeout_ms, struct verr *err)
{
	struct addrinfo *ai;
	int r = resolve(spec, true, &ai, err);
	if (r)
		return r;
	int ls = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	int one = 1;
	if (ls >= 0)
		setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, ai->ai_addr, ai->ai_addrlen) || listen(ls, 1)) {
		int e = errno;
		freeaddrinfo(ai);
		if (ls >= 0)
			close(ls);
		return verr_set(err, e, "listen %s: %s", spec, strerror(e));
	}
	freeaddrinfo(ai);
	struct pollfd p = {.fd = ls, .events = POLLIN};
	int n = poll(&p, 1, (int)timeout_ms);
	int fd = n > 0 ? accept4(ls, NULL, NULL, SOCK_CLOEXEC) : -1;
	int e = n == 0 ? ETIMEDOUT : errno;
	close(ls);
	if (fd < 0)
		return verr_set(err, e, "waiting for the source on %s: %s", spec, strerror(e));
	sock_setup(fd);
	return fd;
}

static int send_all(int fd, const void *buf, size_t len, struct verr *err)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return verr_set(err, n < 0 ? errno : EPIPE, "migration stream: send: %s",
					strerror(n < 0 ? errno : EPIPE));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int recv_all(int fd, void *buf, size_t len, struct verr *err)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return verr_set(err, EPIPE, "migration stream: the peer disconnected");
		if (n < 0)
			return verr_set(err, errno, "migration stream: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_msg(int fd, uint32_t type, const void *data, size_t len, struct verr *err)
{
	struct mig_msg h = {type, (uint32_t)len, snap_crc32(0, data, len), 0};
	int r = send_all(fd, &h, sizeof(h), err);
	return r ? r : send_all(fd, data, len, err);
}

int mig_send_msg(int fd, uint32_t type, const void *data, size_t len, struct verr *err)
{
	return send_msg(fd, type, data, len, err);
}

/* ---- Source ------------------------------------------------------------------------------- */

struct mig_src {
	int fd;
	struct machine_parts p;
	uint64_t npages;
	uint64_t *bitmap;
	uint8_t *buf; /* one PAGES message */
	size_t used;
	unsigned count;
	ZSTD_CCtx *zc;
	struct migrate_stats *st;
	struct migdisk *disks; /* copy_storage, else NULL */
	bool verify;	       /* send page digests after the state */
};

static int flush_pages(struct mig_src *s, struct verr *err)
{
	if (!s->count)
		return 0;
	int r = send_msg(s->fd, MIG_PAGES, s->buf, s->used, err);
	s->st->bytes_sent += s->used + sizeof(struct mig_msg);
	s->used = 0;
	s->count = 0;
	return r;
}

static int queue_page(struct mig_src *s, uint64_t pg, struct verr *err)
{
	const uint8_t *src = s->p.mem->host + pg * GUEST_PAGE_SIZE;
	/* Entries follow each other unaligned: written with memcpy. */
	uint8_t *out = s->buf + s->used + sizeof(struct mig_page);
	size_t c = ZSTD_compressCCtx(s->zc, out, ZSTD_compressBound(GUEST_PAGE_SIZE), src,
				     GUEST_PAGE_SIZE, 1);
	if (ZSTD_isError(c) || c >= GUEST_PAGE_SIZE) {
		memcpy(out, src, GUEST_PAGE_SIZE);
		c = GUEST_PAGE_SIZE;
	}
	struct mig_page e = {pg, (uint32_t)c, 0};
	memcpy(s->buf + s->used, &e, sizeof(e));
	s->used += sizeof(e) + c;
	s->st->pages_sent++;
	if (++s->count == MIG_BATCH)
		return flush_pages(s, err);
	return 0;
}

static void flush_write_tlbs(struct mig_src *s)
{
	for (unsigned i = 0; i < s->p.nharts; i++)
		cpu_flush_write_tlb(s->p.cpu[i]);
}

/*
 * Take the dirty log (or start it), and make the harts drop their cached write
 * translations, with the harts parked: a hart drops them before it runs again,
 * so no store can slip through a translation cached before the fetch.
 */
static int fetch_dirty(struct mig_src *s, struct machine *m, bool start, struct verr *err)
{
	if (machine_pause(m))
		return verr_set(err, EBUSY, "the machine is stopping");
	int r = 0;
	if (start && (r = guest_mem_dirty_log_start(s->p.mem)))
		verr_set(err, -r, "dirty log: %s", strerror(-r));
	else if (!start)
		guest_mem_dirty_log_fetch(s->p.mem, s->bitmap);
	flush_write_tlbs(s);
	machine_resume(m);
	return r;
}

/* Send the pages set in the bitmap (all non-zero ones when 'first'); returns the count or -errno.
 */
static int64_t send_round(struct mig_src *s, bool first, struct verr *err)
{
	int64_t n = 0;
	for (uint64_t pg = 0; pg < s->npages; pg++) {
		if (first) {
			if (snap_page_is_zero(s->p.mem->host + pg * GUEST_PAGE_SIZE))
				continue;
		} else if (!(s->bitmap[pg / 64] >> (pg % 64) & 1)) {
			continue;
		}
		int r = queue_page(s, pg, err);
		if (r)
			return r;
		n++;
	}
	int r = flush_pages(s, err);
	return r ? r : n;
}

static uint64_t count_dirty(const struct mig_src *s)
{
	uint64_t n = 0;
	for (uint64_t w = 0; w < (s->npages + 63) / 64; w++)
		n += (uint64_t)__builtin_popcountll(s->bitmap[w]);
	return n;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* copy_storage: the disk chunks written since the last round (all of them the first time). */
static int send_disk_round(struct mig_src *s, struct verr *err)
{
	if (!s->disks)
		return 0;
	migdisk_fetch(s->disks);
	return migdisk_send_pending(s->disks, s->fd, err);
}

/* Pre-copy rounds while the guest runs; returns 0 when the rest is small enough. */
static int precopy(struct mig_src *s, struct machine *m, struct verr *err)
{
	int dr = send_disk_round(s, err);
	if (dr)
		return dr;
	int64_t n = send_round(s, true, err);
	uint64_t prev = UINT64_MAX;
	unsigned throttle = 0;
	for (unsigned round = 1; n >= 0 && round < MIG_MAX_ROUNDS; round++) {
		s->st->rounds = round;
		int r = fetch_dirty(s, m, false, err);
		if (r)
			return r;
		uint64_t dirty = count_dirty(s);
		/* Disk chunks count as the pages they would be, for convergence. */
		uint64_t disk = s->disks ? migdisk_fetch(s->disks) : 0;
		if ((r = send_disk_round(s, err)))
			return r;
		dirty += disk * (BLK_DIRTY_CHUNK / GUEST_PAGE_SIZE);
		/* Few enough for a stop-and-copy of a few ms.  The pages just
		 * fetched go out now: the next fetch replaces the bitmap. */
		if (dirty <= 64) {
			n = send_round(s, false, err);
			return n < 0 ? (int)n : 0;
		}
		/* Not converging: take time away from the guest, more each round. */
		if (round >= 3 && dirty * 10 > prev * 9) {
			throttle = throttle ? (throttle * 2 > 400 ? 400 : throttle * 2) : 10;
			if (throttle > s->st->throttle_ms)
				s->st->throttle_ms = throttle;
			if (!machine_pause(m)) {
				sleep_ms(throttle);
				machine_resume(m);
			}
		}
		prev = dirty;
		n = send_round(s, false, err);
	}
	return n < 0 ? (int)n : 0;
}

/* The digest of every page, with the guest paused (migrate_verify.c). */
static int send_digests(struct mig_src *s, struct verr *err)
{
	size_t cap = sizeof(struct mig_verify_hdr) + 8 * (size_t)MIG_VERIFY_MAX_PAGES;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return verr_set(err, ENOMEM, "out of memory");
	int r = 0;
	size_t len;
	for (uint64_t pg = 0; !r && (len = mig_verify_build(s->p.mem, pg, buf, cap));) {
		r = send_msg(s->fd, MIG_VERIFY, buf, len, err);
		pg += (len - sizeof(struct mig_verify_hdr)) / 8;
	}
	free(buf);
	return r;
}

/*
 * Stop-and-copy: the last dirty pages and disk chunks (the queues are quiesced:
 * no write in flight), or the disks handed over; then the state.
 */
static int stop_and_copy(struct mig_src *s, struct machine *m, const char *config, bool *released,
			 struct verr *err)
{
	guest_mem_dirty_log_fetch(s->p.mem, s->bitmap);
	int64_t n = send_round(s, false, err);
	if (n < 0)
		return (int)n;
	int dr = send_disk_round(s, err);
	/* Shared storage: flushed and closed before the destination may open them. */
	if (!dr && !s->disks && !(dr = migdisk_release(m, err)))
		*released = true;
	if (dr)
		return dr;
	int mfd = memfd_create("vessel-migrate-state", MFD_CLOEXEC);
	if (mfd < 0)
		return verr_set(err, errno, "memfd: %s", strerror(errno));
	int r = snapshot_machine_save_state(m, config, mfd, err);
	off_t size = r ? 0 : lseek(mfd, 0, SEEK_END);
	uint8_t *blob = size > 0 && size <= (off_t)MIG_MAX_MSG ? malloc((size_t)size) : NULL;
	if (!r && (!blob || pread(mfd, blob, (size_t)size, 0) != size))
		r = verr_set(err, EIO, "migration: cannot read back the state");
	close(mfd);
	if (!r)
		r = send_msg(s->fd, MIG_STATE, blob, (size_t)size, err);
	free(blob);
	if (!r && s->verify)
		r = send_digests(s, err);
	if (!r)
		r = send_msg(s->fd, MIG_DONE, "", 0, err);
	if (r)
		return r;
	/* The destination's verdict. */
	char ans[256] = {0};
	r = recv_all(s->fd, ans, 1, err);
	if (r)
		return r;
	if (ans[0] == 'K')
		return 0;
	ssize_t k = recv(s->fd, ans + 1, sizeof(ans) - 2, 0);
	(void)k;
	return verr_set(err, EIO, "the destination failed: %s", ans + 1);
}

int migrate_send(struct machine *m, const char *config, int fd, bool copy_storage, bool verify,
		 struct migrate_stats *st, struct verr *err)
{
	memset(st, 0, sizeof(*st));
	int64_t t0 = host_monotonic_ns();
	struct mig_src s = {.fd = fd, .st = st, .verify = verify};
	machine_get_parts(m, &s.p);
	s.npages = s.p.mem->size / GUEST_PAGE_SIZE;
	s.bitmap = calloc((s.npages + 63) / 64, sizeof(uint64_t));
	s.buf = malloc(MIG_BATCH * (sizeof(struct mig_page) + ZSTD_compressBound(GUEST_PAGE_SIZE)));
	s.zc = ZSTD_createCCtx();
	int r = 0;
	if (!s.bitmap || !s.buf || !s.zc)
		r = verr_set(err, ENOMEM, "out of memory");
	struct mig_hello h = {.version = MIG_VERSION,
			      .nharts = s.p.nharts,
			      .mem_size = s.p.mem->size,
			      .flags = copy_storage ? MIG_F_COPY_STORAGE : 0};
	memcpy(h.magic, MIG_MAGIC, 8);
	if (!r)
		r = send_msg(fd, MIG_HELLO, &h, sizeof(h), err);
	/* Disk writes are tracked from before the first chunk is read. */
	struct migdisk disks;
	if (!r && copy_storage) {
		r = migdisk_src_start(&disks, m, err);
		s.disks = &disks; /* ended below, whatever happened */
	}
	if (!r && s.disks)
		r = migdisk_send_info(s.disks, fd, err);
	if (!r)
		r = fetch_dirty(&s, m, true, err);
	bool logging = !r;
	if (!r)
		r = precopy(&s, m, err);
	/* Let the destination catch up, so that the pause does not wait for its backlog;
	 * then send what the guest dirtied meanwhile. */
	if (!r)
		r = send_msg(fd, MIG_SYNC, "", 0, err);
	/* Shared storage: what the guest wrote so far made durable while it runs, so
	 * that the flush at the handover has little left to write. */
	if (!r && !copy_storage)
		r = migdisk_flush(m, err);
	char ack = 0;
	if (!r && !(r = recv_all(fd, &ack, 1, err)) && ack != 'S')
		r = verr_set(err, EINVAL, "migration stream: the destination answered garbage");
	if (!r && !(r = fetch_dirty(&s, m, false, err))) {
		int64_t n = send_round(&s, false, err);
		r = n < 0 ? (int)n : send_disk_round(&s, err);
	}
	int64_t t1 = host_monotonic_ns();
	bool paused = false;
	if (!r) {
		if (machine_pause(m))
			r = verr_set(err, EBUSY, "the machine is stopping");
		else
			paused = true;
	}
	bool released = false, lost = false;
	if (!r) {
		/* Downtime counts from the pause request (t1) to the destination's answer. */
		snapshot_machine_quiesce(m);
		r = stop_and_copy(&s, m, config, &released, err);
		/* Failed after the handover: the disks come back before the guest runs on.
		 * If they cannot (the destination holds them), the destination may run
		 * the guest: this copy must not. */
		struct verr e2 = {{0}};
		if (r && released && migdisk_acquire(m, &e2)) {
			lost = true;
			char why[sizeof(err->msg)];
			snprintf(why, sizeof(why), "%s", err->msg);
			verr_set(err, -r,
				 "%s; the disks cannot be taken back (%s): the VM stops here", why,
				 e2.msg);
			log_error("migration: %s", err->msg);
		}
		snapshot_machine_release(m);
	}
	int64_t t2 = host_monotonic_ns();
	if (logging)
		guest_mem_dirty_log_stop(s.p.mem);
	if (s.disks) {
		st->disk_chunks = s.disks->chunks_sent;
		st->disk_bytes = s.disks->bytes_sent;
		migdisk_src_end(s.disks);
	}
	/* Anything failed: the source runs on as if nothing happened. */
	if (r && paused && !lost)
		machine_resume(m);
	if (lost)
		machine_request_quit(m);
	if (!r && verify) /* the destination answered K: it found every page equal */
		st->verified_pages = s.npages;
	st->downtime_us = (uint64_t)(t2 - t1) / 1000;
	st->total_us = (uint64_t)(t2 - t0) / 1000;
	ZSTD_freeCCtx(s.zc);
	free(s.buf);
	free(s.bitmap);
	return r;
}

/* ---- Destination --------------------------------------------------------------------------- */

static int recv_msg(int fd, struct mig_msg *h, uint8_t *buf, struct verr *err)
{
	int r = recv_all(fd, h, sizeof(*h), err);
	if (r)
		return r;
	if (h->length > MIG_MAX_MSG || h->zero || h->type < MIG_HELLO || h->type > MIG_VERIFY)
		return verr_set(err, EINVAL, "migration stream: bad message header");
	r = recv_all(fd, buf, h->length, err);
	if (!r && snap_crc32(0, buf, h->length) != h->crc)
		r = verr_set(err, EINVAL, "migration stream: checksum mismatch");
	return r;
}

static int apply_pages(const struct machine_parts *p, ZSTD_DCtx *zd, const uint8_t *buf, size_t len,
		       struct verr *err)
{
	uint64_t npages = p->mem->size / GUEST_PAGE_SIZE;
	size_t off = 0;
	while (off < len) {
		struct mig_page e;
		if (len - off < sizeof(e))
			return verr_set(err, EINVAL, "migration stream: short page entry");
		memcpy(&e, buf + off, sizeof(e));
		off += sizeof(e);
		if (e.page >= npages || e.zero || e.clen == 0 || e.clen > GUEST_PAGE_SIZE ||
		    e.clen > len - off)
			return verr_set(err, EINVAL, "migration stream: bad page entry");
		uint8_t *dst = p->mem->host + e.page * GUEST_PAGE_SIZE;
		if (e.clen == GUEST_PAGE_SIZE) {
			memcpy(dst, buf + off, GUEST_PAGE_SIZE);
		} else {
			size_t n = ZSTD_decompressDCtx(zd, dst, GUEST_PAGE_SIZE, buf + off, e.clen);
			if (ZSTD_isError(n) || n != GUEST_PAGE_SIZE)
				return verr_set(err, EINVAL,
						"migration stream: bad compressed page");
		}
		off += e.clen;
	}
	return 0;
}

static int load_state(struct machine *m, const uint8_t *blob, size_t len, struct verr *err)
{
	int mfd = memfd_create("vessel-migrate-state", MFD_CLOEXEC);
	if (mfd < 0)
		return verr_set(err, errno, "memfd: %s", strerror(errno));
	if (write(mfd, blob, len) != (ssize_t)len) {
		close(mfd);
		return verr_set(err, EIO, "memfd: short write");
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	struct snap_reader r;
	int e = snap_reader_open(&r, path, err);
	close(mfd);
	if (e)
		return e;
	e = snapshot_machine_load_ex(m, &r, true, err);
	snap_reader_close(&r);
	return e;
}

static int check_hello(const struct machine_parts *p, const struct mig_msg *h, const uint8_t *buf,
		       bool copy_storage, struct verr *err)
{
	struct mig_hello hello;
	memset(&hello, 0, sizeof(hello));
	if (h->type != MIG_HELLO || h->length < 12)
		return verr_set(err, EINVAL, "migration stream: no HELLO (not a Vessel source?)");
	memcpy(&hello, buf, h->length < sizeof(hello) ? h->length : sizeof(hello));
	if (memcmp(hello.magic, MIG_MAGIC, 8))
		return verr_set(err, EINVAL, "migration stream: bad magic");
	if (hello.version != MIG_VERSION)
		return verr_set(err, EINVAL, "migration stream version %u, this Vessel speaks %u",
				hello.version, MIG_VERSION);
	if (h->length != sizeof(hello) || hello.zero || (hello.flags & ~MIG_F_COPY_STORAGE))
		return verr_set(err, EINVAL, "migration stream: bad HELLO");
	if (hello.mem_size != p->mem->size || hello.nharts != p->nharts)
		return verr_set(err, EINVAL,
				"the source has %u vCPUs and %llu MiB, this VM %u and %llu",
				hello.nharts, (unsigned long long)(hello.mem_size >> 20), p->nharts,
				(unsigned long long)(p->mem->size >> 20));
	bool copy = hello.flags & MIG_F_COPY_STORAGE;
	if (copy != copy_storage)
		return verr_set(
		    err, EINVAL,
		    copy ? "the source copies its disks (copy_storage), this destination "
			   "expects them on shared storage"
			 : "this destination expects the disks copied (copy_storage), the "
			   "source has them on shared storage");
	return 0;
}

/* The messages after HELLO, up to DONE. */
static int receive_stream(struct machine *m, const struct machine_parts *p, int fd, uint8_t *buf,
			  ZSTD_DCtx *zd, struct migdisk *disks, struct verr *err)
{
	bool have_state = false;
	uint64_t verified = 0;
	struct mig_msg h;
	for (;;) {
		int r = recv_msg(fd, &h, buf, err);
		if (r)
			return r;
		if (h.type == MIG_PAGES && !have_state)
			r = apply_pages(p, zd, buf, h.length, err);
		else if (h.type == MIG_SYNC && !have_state) {
			/* The copy made durable now, while the guest still runs at the source:
			 * the flush after DONE has little left to write. */
			r = disks ? migdisk_dst_flush(disks, err) : 0;
			if (!r)
				r = send_all(fd, "S", 1, err);
		} else if (h.type == MIG_DISKS && disks && !disks->have_info && !have_state)
			r = migdisk_dst_info(disks, buf, h.length, err);
		else if (h.type == MIG_DISK && disks && !have_state)
			r = migdisk_dst_apply(disks, buf, h.length, err);
		else if (h.type == MIG_STATE && !have_state) {
			r = load_state(m, buf, h.length, err);
			have_state = true;
		} else if (h.type == MIG_VERIFY && have_state)
			r = mig_verify_check(p->mem, buf, h.length, &verified, err);
		else if (h.type == MIG_DONE && have_state)
			return disks && !disks->have_info
				   ? verr_set(err, EINVAL, "migration stream: no DISKS")
				   : 0;
		else
			r = verr_set(err, EINVAL, "migration stream: message %u out of order",
				     h.type);
		if (r)
			return r;
	}
}

int migrate_receive(struct machine *m, int fd, bool copy_storage, struct verr *err)
{
	struct machine_parts p;
	machine_get_parts(m, &p);
	uint8_t *buf = malloc(MIG_MAX_MSG);
	ZSTD_DCtx *zd = ZSTD_createDCtx();
	int r = !buf || !zd ? verr_set(err, ENOMEM, "out of memory") : 0;
	struct mig_msg h;
	if (!r)
		r = recv_msg(fd, &h, buf, err);
	if (!r)
		r = check_hello(&p, &h, buf, copy_storage, err);
	/*
	 * The source skips pages that are zero when it starts, so ours must be
	 * zero too: building this machine loaded firmware, kernel and initrd
	 * into RAM, and a page the guest has zeroed since (a fresh page table,
	 * say) would keep those bytes.  Private anonymous memory reads as zero
	 * after MADV_DONTNEED.
	 */
	if (!r && madvise(p.mem->host, p.mem->size, MADV_DONTNEED))
		r = verr_set(err, errno, "clearing guest memory: %s", strerror(errno));
	/* Copy: our own images, written from the first chunk.  Shared: closed until the
	 * source has flushed and let go of them. */
	struct migdisk disks = {0};
	if (!r && copy_storage)
		r = migdisk_dst_start(&disks, m, err);
	else if (!r)
		r = migdisk_release(m, err);
	if (!r)
		r = receive_stream(m, &p, fd, buf, zd, copy_storage ? &disks : NULL, err);
	if (!r)
		r = copy_storage ? migdisk_dst_flush(&disks, err) : migdisk_acquire(m, err);
	if (copy_storage)
		migdisk_dst_end(&disks);
	ZSTD_freeDCtx(zd);
	free(buf);
	return r;
}

void migrate_answer(int fd, int result, const char *msg)
{
	char ans[256];
	int n = snprintf(ans, sizeof(ans), "%c%s", result ? 'E' : 'K', result ? msg : "");
	if (n > (int)sizeof(ans) - 1)
		n = (int)sizeof(ans) - 1;
	struct verr ignore;
	send_all(fd, ans, (size_t)n, &ignore);
}
