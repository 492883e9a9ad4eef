/* SPDX-License-Identifier: MIT */
/* WASI: arguments, environment, clocks, randomness, poll_oneoff, exit and yield. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>

#include "wasi/wasi_impl.h"

/* Most subscriptions one poll_oneoff may wait on (bounds the host allocation). */
#define WASI_POLL_MAX 4096

/* argv/environ: the count and the bytes of all strings with their NULs. */
static int strv_sizes(const struct wasi_call *c, char **v, uint32_t n, uint32_t count_ptr,
		      uint32_t size_ptr)
{
	uint64_t size = 0;
	for (uint32_t i = 0; i < n; i++)
		size += strlen(v[i]) + 1;
	if (size > UINT32_MAX)
		return WASI_E2BIG;
	int e = wasi_store_u32(c, count_ptr, n);
	return e ? e : wasi_store_u32(c, size_ptr, (uint32_t)size);
}

/* Write n pointers at ptrs and the strings they point to at buf. */
static int strv_get(const struct wasi_call *c, char **v, uint32_t n, uint32_t ptrs, uint32_t buf)
{
	uint64_t size = 0;
	for (uint32_t i = 0; i < n; i++)
		size += strlen(v[i]) + 1;
	uint8_t *p = wasi_mem(c, ptrs, (uint64_t)n * 4);
	uint8_t *b = wasi_mem(c, buf, size);
	if (!p || !b)
		return WASI_EFAULT;
	uint64_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		size_t len = strlen(v[i]) + 1;
		wasi_put_u32(p + 4 * i, (uint32_t)(buf + off));
		memcpy(b + off, v[i], len);
		off += len;
	}
	return 0;
}

static int wasi_args_sizes_get(struct wasi_call *c, const struct wasm_val *a)
{
	return strv_sizes(c, c->w->argv, c->w->argc, a[0].i32, a[1].i32);
}

static int wasi_args_get(struct wasi_call *c, const struct wasm_val *a)
{
	return strv_get(c, c->w->argv, c->w->argc, a[0].i32, a[1].i32);
}

static int wasi_environ_sizes_get(struct wasi_call *c, const struct wasm_val *a)
{
	return strv_sizes(c, c->w->env, c->w->envc, a[0].i32, a[1].i32);
}

static int wasi_environ_get(struct wasi_call *c, const struct wasm_val *a)
{
	return strv_get(c, c->w->env, c->w->envc, a[0].i32, a[1].i32);
}

static int wasi_clockid(uint32_t id, clockid_t *out)
{
	static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
					CLOCK_THREAD_CPUTIME_ID};
	if (id >= sizeof(ids) / sizeof(ids[0]))
		return WASI_EINVAL;
	*out = ids[id];
	return 0;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static int wasi_clock_res_get(struct wasi_call *c, const struct wasm_val *a)
{
	clockid_t id;
	struct timespec ts;
	if (wasi_clockid(a[0].i32, &id))
		return WASI_EINVAL;
	if (clock_getres(id, &ts) < 0)
		return wasi_errno(errno);
	return wasi_store_u64(c, a[1].i32, ts_ns(&ts));
}

static int wasi_clock_time_get(struct wasi_call *c, const struct wasm_val *a)
{
	clockid_t id;
	struct timespec ts;
	if (wasi_clockid(a[0].i32, &id))
		return WASI_EINVAL;
	if (clock_gettime(id, &ts) < 0)
		return wasi_errno(errno);
	return wasi_store_u64(c, a[2].i32, ts_ns(&ts));
}

static int wasi_random_get(struct wasi_call *c, const struct wasm_val *a)
{
	uint8_t *p = wasi_mem(c, a[0].i32, a[1].i32);
	if (!p)
		return WASI_EFAULT;
	for (uint32_t done = 0; done < a[1].i32;) {
		ssize_t n = getrandom(p + done, a[1].i32 - done, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return wasi_errno(errno);
		}
		done += (uint32_t)n;
	}
	return 0;
}

static int wasi_proc_exit(struct wasi_call *c, const struct wasm_val *a)
{
	(void)c;
	(void)a;
	return WASI_EXIT_REQUEST;
}

static int wasi_sched_yield(struct wasi_call *c, const struct wasm_val *a)
{
	(void)c;
	(void)a;
	sched_yield();
	return 0;
}

/* ---- poll_oneoff ---- */

enum { SUB_CLOCK = 0, SUB_FD_READ = 1, SUB_FD_WRITE = 2 };

struct poll_sub {
	uint64_t userdata;
	uint8_t tag;
	uint16_t error;	  /* reported at once when set */
	int ready;	  /* reported at once (regular files are always ready) */
	int64_t deadline; /* SUB_CLOCK: CLOCK_MONOTONIC ns */
	int pfd;	  /* index into the pollfd array, or -1 */
};

static int64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts_ns(&ts);
}

static int64_t sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

/* A clock subscription's deadline on the monotonic clock. */
static void poll_clock(struct poll_sub *s, const uint8_t *in, int64_t now)
{
	uint32_t id = wasi_get_u32(in + 16);
	uint64_t timeout = wasi_get_u64(in + 24);
	int abstime = wasi_get_u16(in + 40) & 1;
	int64_t t = timeout > INT64_MAX ? INT64_MAX : (int64_t)timeout;
	clockid_t cid;

	if (wasi_clockid(id, &cid)) {
		s->error = WASI_EINVAL;
		return;
	}
	if (!abstime) {
		s->deadline = sat_add(now, t);
	} else if (cid == CLOCK_MONOTONIC) {
		s->deadline = t;
	} else {
		struct timespec ts;
		clock_gettime(cid, &ts);
		s->deadline = sat_add(now, sat_add(t, -(int64_t)ts_ns(&ts)));
	}
}

static void poll_fd(struct wasi_call *c, struct poll_sub *s, const uint8_t *in, struct pollfd *pfds,
		    int *npfd)
{
	int e;
	struct wasi_fd *f = wasi_fd_get(c->w, wasi_get_u32(in + 16), 0, &e);
	if (!f) {
		s->error = (uint16_t)e;
		return;
	}
	if (f->type == WASI_FILETYPE_REGULAR_FILE || f->type == WASI_FILETYPE_DIRECTORY) {
		s->ready = 1;
		return;
	}
	s->pfd = *npfd;
	pfds[*npfd].fd = f->host;
	pfds[*npfd].events = s->tag == SUB_FD_READ ? POLLIN : POLLOUT;
	pfds[*npfd].revents = 0;
	(*npfd)++;
}

static void poll_wait(struct pollfd *pfds, int npfd, int64_t deadline, int now_ready)
{
	int64_t now = mono_now();
	if (now_ready)
		deadline = now;
	if (npfd == 0) {
		if (deadline == INT64_MAX)
			return;
		struct timespec ts = {.tv_sec = deadline / 1000000000,
				      .tv_nsec = deadline % 1000000000};
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		return;
	}
	for (;;) {
		struct timespec rel, *tp = NULL;
		if (deadline != INT64_MAX) {
			int64_t d = deadline > now ? deadline - now : 0;
			rel.tv_sec = d / 1000000000;
			rel.tv_nsec = d % 1000000000;
			tp = &rel;
		}
		if (ppoll(pfds, (nfds_t)npfd, tp, NULL) >= 0 || errno != EINTR)
			return;
		now = mono_now();
	}
}

static void poll_event(uint8_t *out, const struct poll_sub *s, uint16_t error, uint64_t nbytes,
		       uint16_t flags)
{
	memset(out, 0, 32);
	wasi_put_u64(out, s->userdata);
	wasi_put_u16(out + 8, error);
	out[10] = s->tag;
	wasi_put_u64(out + 16, nbytes);
	wasi_put_u16(out + 24, flags);
}

static int wasi_poll_oneoff(struct wasi_call *c, const struct wasm_val *a)
{
	uint32_t nsubs = a[2].i32;
	if (nsubs == 0 || nsubs > WASI_POLL_MAX)
		return WASI_EINVAL;
	const uint8_t *in = wasi_mem(c, a[0].i32, (uint64_t)nsubs * 48);
	uint8_t *out = wasi_mem(c, a[1].i32, (uint64_t)nsubs * 32);
	if (!in || !out || !wasi_mem(c, a[3].i32, 4))
		return WASI_EFAULT;
	struct poll_sub *subs = calloc(nsubs, sizeof(*subs));
	struct pollfd *pfds = calloc(nsubs, sizeof(*pfds));
	if (!subs || !pfds) {
		free(subs);
		free(pfds);
		return WASI_ENOMEM;
	}
	int npfd = 0, now_ready = 0;
	int64_t now = mono_now(), earliest = INT64_MAX;
	for (uint32_t i = 0; i < nsubs; i++) {
		const uint8_t *s = in + 48 * (size_t)i;
		subs[i] = (struct poll_sub){.userdata = wasi_get_u64(s), .tag = s[8], .pfd = -1};
		if (subs[i].tag == SUB_CLOCK)
			poll_clock(&subs[i], s, now);
		else if (subs[i].tag == SUB_FD_READ || subs[i].tag == SUB_FD_WRITE)
			poll_fd(c, &subs[i], s, pfds, &npfd);
		else
			subs[i].error = WASI_EINVAL;
		if (subs[i].error || subs[i].ready)
			now_ready = 1;
		else if (subs[i].tag == SUB_CLOCK && subs[i].deadline < earliest)
			earliest = subs[i].deadline;
	}
	/* Past the run's time limit nobody waits: the engine stops the program. */
	poll_wait(pfds, npfd, earliest < c->w->deadline ? earliest : c->w->deadline, now_ready);

	uint32_t nev = 0;
	now = mono_now();
	for (uint32_t i = 0; i < nsubs; i++) {
		struct poll_sub *s = &subs[i];
		uint8_t *ev = out + 32 * (size_t)nev;
		if (s->error || s->ready) {
			poll_event(ev, s, s->error, 0, 0);
		} else if (s->tag == SUB_CLOCK) {
			if (s->deadline > now)
				continue;
			poll_event(ev, s, 0, 0, 0);
		} else {
			short re = pfds[s->pfd].revents;
			if (!re)
				continue;
			int avail = 0;
			if (s->tag == SUB_FD_READ && ioctl(pfds[s->pfd].fd, FIONREAD, &avail) < 0)
				avail = 0;
			poll_event(ev, s, (re & POLLNVAL) ? WASI_EBADF : 0,
				   avail > 0 ? (uint64_t)avail : 0, (re & POLLHUP) ? 1 : 0);
		}
		nev++;
	}
	free(subs);
	free(pfds);
	if (nev == 0 && now >= c->w->deadline)
		return WASI_LIMIT_REACHED;
	return wasi_store_u32(c, a[3].i32, nev);
}

const struct wasi_import wasi_imports_proc[] = {
    {"args_get", "ii", "i", wasi_args_get},
    {"args_sizes_get", "ii", "i", wasi_args_sizes_get},
    {"environ_get", "ii", "i", wasi_environ_get},
    {"environ_sizes_get", "ii", "i", wasi_environ_sizes_get},
    {"clock_res_get", "ii", "i", wasi_clock_res_get},
    {"clock_time_get", "iIi", "i", wasi_clock_time_get},
    {"random_get", "ii", "i", wasi_random_get},
    {"proc_exit", "i", "", wasi_proc_exit},
    {"sched_yield", "", "i", wasi_sched_yield},
    {"poll_oneoff", "iiii", "i", wasi_poll_oneoff},
    {NULL, NULL, NULL, NULL},
};
