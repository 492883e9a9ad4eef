/* SPDX-License-Identifier: MIT */
#include "net/slirp.h"

#include <errno.h>
#include <libslirp.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "net/netdev.h"
#include "util/log.h"

#define GUEST_NET   "10.0.2.0"
#define GUEST_MASK  "255.255.255.0"
#define GUEST_HOST  "10.0.2.2"
#define GUEST_DNS   "10.0.2.3"
#define GUEST_DHCP  "10.0.2.15"
#define GUEST_NET6  "fec0::"
#define GUEST_HOST6 "fec0::2"
#define GUEST_DNS6  "fec0::3"
#define TXQ_MAX	    256 /* guest frames waiting for the slirp thread */

struct slirp_timer {
	struct slirp_timer *next;
	int64_t expire_ms; /* -1 when not armed */
	SlirpTimerCb cb;   /* timer_new style, or ... */
	SlirpTimerId id;   /* ... timer_new_opaque style */
	bool by_id;
	void *cb_opaque;
};

struct net_slirp {
	struct net_backend be; /* first */
	Slirp *slirp;
	int wake_fd;
	pthread_t thread;
	bool running;
	atomic_bool stop;

	pthread_mutex_t tx_lock;
	struct net_queue txq; /* guest -> slirp, under tx_lock */
	struct net_queue rxq; /* slirp -> guest, slirp thread only */

	struct slirp_timer *timers; /* slirp thread only (or before it starts) */
	struct pollfd *pfd;
	unsigned npfd, pfd_cap;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void wake(struct net_slirp *s)
{
	uint64_t one = 1;
	if (write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("slirp: wake: %s", strerror(errno));
}

/* --- callbacks from libslirp (slirp thread) --- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;
	net_queue_deliver(&s->rxq, &s->be, buf, len);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	log_debug("slirp: guest error: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static struct slirp_timer *timer_add(struct net_slirp *s)
{
	struct slirp_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->expire_ms = -1;
	t->next = s->timers;
	s->timers = t;
	return t;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct slirp_timer *t = timer_add(opaque);
	if (t) {
		t->cb = cb;
		t->cb_opaque = cb_opaque;
	}
	return t;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct slirp_timer *t = timer_add(opaque);
	if (t) {
		t->id = id;
		t->by_id = true;
		t->cb_opaque = cb_opaque;
	}
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct net_slirp *s = opaque;
	for (struct slirp_timer **pp = &s->timers; *pp; pp = &(*pp)->next) {
		if (*pp == timer) {
			*pp = ((struct slirp_timer *)timer)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	((struct slirp_timer *)timer)->expire_ms = expire_ms;
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void cb_notify(void *opaque)
{
	wake(opaque);
}

static const SlirpCb slirp_callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_register_poll_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

/* --- the poll loop --- */

static int add_pollfd(struct net_slirp *s, int fd, short events)
{
	if (s->npfd == s->pfd_cap) {
		unsigned cap = s->pfd_cap ? 2 * s->pfd_cap : 16;
		struct pollfd *p = realloc(s->pfd, cap * sizeof(*p));
		if (!p)
			return -1;
		s->pfd = p;
		s->pfd_cap = cap;
	}
	s->pfd[s->npfd] = (struct pollfd){.fd = fd, .events = events};
	return (int)s->npfd++;
}

static int cb_add_poll(int fd, int events, void *opaque)
{
	short ev = 0;
	ev |= events & SLIRP_POLL_IN ? POLLIN : 0;
	ev |= events & SLIRP_POLL_OUT ? POLLOUT : 0;
	ev |= events & SLIRP_POLL_PRI ? POLLPRI : 0;
	ev |= events & SLIRP_POLL_ERR ? POLLERR : 0;
	ev |= events & SLIRP_POLL_HUP ? POLLHUP : 0;
	return add_pollfd(opaque, fd, ev);
}

static int cb_get_revents(int idx, void *opaque)
{
	struct net_slirp *s = opaque;
	if (idx < 0 || (unsigned)idx >= s->npfd)
		return 0;
	short r = s->pfd[idx].revents;
	return (r & POLLIN ? SLIRP_POLL_IN : 0) | (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
	       (r & POLLPRI ? SLIRP_POLL_PRI : 0) | (r & POLLERR ? SLIRP_POLL_ERR : 0) |
	       (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

/* Milliseconds until the next armed timer, or -1. */
static int64_t timers_wait_ms(struct net_slirp *s)
{
	int64_t now = now_ns() / 1000000, best = -1;
	for (struct slirp_timer *t = s->timers; t; t = t->next) {
		if (t->expire_ms < 0)
			continue;
		int64_t d = t->expire_ms > now ? t->expire_ms - now : 0;
		if (best < 0 || d < best)
			best = d;
	}
	return best;
}

/* Fire expired timers; a callback may re-arm or free timers, so rescan. */
static void timers_run(struct net_slirp *s)
{
	int64_t now = now_ns() / 1000000;
	for (bool fired = true; fired;) {
		fired = false;
		for (struct slirp_timer *t = s->timers; t; t = t->next) {
			if (t->expire_ms < 0 || t->expire_ms > now)
				continue;
			t->expire_ms = -1;
			if (t->by_id)
				slirp_handle_timer(s->slirp, t->id, t->cb_opaque);
			else
				t->cb(t->cb_opaque);
			fired = true;
			break;
		}
	}
}

/* Hand the guest's frames to slirp. */
static void tx_drain(struct net_slirp *s)
{
	pthread_mutex_lock(&s->tx_lock);
	struct net_frame *f = s->txq.head;
	net_queue_init(&s->txq, s->txq.max);
	pthread_mutex_unlock(&s->tx_lock);
	while (f) {
		struct net_frame *next = f->next;
		slirp_input(s->slirp, f->data, (int)f->len);
		free(f);
		f = next;
	}
}

static int poll_timeout(struct net_slirp *s, uint32_t slirp_ms)
{
	int64_t ms = slirp_ms == UINT32_MAX ? -1 : (int64_t)slirp_ms;
	int64_t t = timers_wait_ms(s);
	if (t >= 0 && (ms < 0 || t < ms))
		ms = t;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void *slirp_thread(void *opaque)
{
	struct net_slirp *s = opaque;
	while (!atomic_load(&s->stop)) {
		uint32_t slirp_ms = UINT32_MAX;
		s->npfd = 0;
		add_pollfd(s, s->wake_fd, POLLIN);
		slirp_pollfds_fill(s->slirp, &slirp_ms, cb_add_poll, s);
		int r = poll(s->pfd, s->npfd, poll_timeout(s, slirp_ms));
		if (r > 0 && (s->pfd[0].revents & POLLIN)) {
			uint64_t v;
			if (read(s->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_debug("slirp: wake read: %s", strerror(errno));
		}
		tx_drain(s);
		net_queue_flush(&s->rxq, &s->be);
		slirp_pollfds_poll(s->slirp, r < 0, cb_get_revents, s);
		timers_run(s);
	}
	return NULL;
}

/* --- backend ops (any thread) --- */

static int slirp_be_send(struct net_backend *be, const uint8_t *frame, size_t len)
{
	struct net_slirp *s = (struct net_slirp *)be;
	pthread_mutex_lock(&s->tx_lock);
	int r = net_queue_push(&s->txq, frame, len);
	pthread_mutex_unlock(&s->tx_lock);
	if (r == 0)
		wake(s);
	return r;
}

static void slirp_be_rx_ready(struct net_backend *be)
{
	wake((struct net_slirp *)be);
}

static void slirp_be_destroy(struct net_backend *be)
{
	struct net_slirp *s = (struct net_slirp *)be;
	if (s->running) {
		atomic_store(&s->stop, true);
		wake(s);
		pthread_join(s->thread, NULL);
	}
	if (s->slirp)
		slirp_cleanup(s->slirp);
	while (s->timers)
		cb_timer_free(s->timers, s);
	net_queue_clear(&s->txq);
	net_queue_clear(&s->rxq);
	pthread_mutex_destroy(&s->tx_lock);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s->pfd);
	net_backend_fini(&s->be);
	free(s);
}

static const struct net_backend_ops slirp_be_ops = {
    .send = slirp_be_send,
    .rx_ready = slirp_be_rx_ready,
    .destroy = slirp_be_destroy,
};

/* --- hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT --- */

struct hostfwd {
	bool udp;
	struct in_addr host, guest;
	int host_port, guest_port;
};

static int parse_port(const char *s, size_t n, int *port)
{
	if (n == 0 || n > 5 || strspn(s, "0123456789") < n)
		return -1;
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	if (v < 1 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

static int parse_addr(const char *s, size_t n, struct in_addr *a)
{
	char buf[INET_ADDRSTRLEN];
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	return inet_pton(AF_INET, buf, a) == 1 ? 0 : -1;
}

/* "ADDR:PORT" with ADDR possibly empty; 'side' names it in errors. */
static int parse_endpoint(const char *v, const char *s, size_t n, const char *side,
			  struct in_addr *addr, int *port, struct verr *err)
{
	const char *colon = memchr(s, ':', n);
	if (!colon)
		return verr_set(err, EINVAL, "bad hostfwd '%s': missing ':' before the %s port", v,
				side);
	size_t alen = (size_t)(colon - s), plen = n - alen - 1;
	if (alen && parse_addr(s, alen, addr))
		return verr_set(err, EINVAL, "bad hostfwd '%s': bad %s address '%.*s'", v, side,
				(int)alen, s);
	if (parse_port(colon + 1, plen, port))
		return verr_set(err, EINVAL,
				"bad hostfwd '%s': %s port '%.*s' is not a number in 1-65535", v,
				side, (int)plen, colon + 1);
	return 0;
}

static int parse_hostfwd(const char *v, size_t n, struct hostfwd *hf, struct verr *err)
{
	char spec[256];
	if (n >= sizeof(spec))
		return verr_set(err, EINVAL, "hostfwd option too long");
	memcpy(spec, v, n);
	spec[n] = 0;
	memset(hf, 0, sizeof(*hf));
	hf->host.s_addr = htonl(INADDR_ANY);
	inet_pton(AF_INET, GUEST_DHCP, &hf->guest);

	char *colon = strchr(spec, ':'), *dash = strchr(spec, '-');
	if (!colon || !dash || dash < colon)
		return verr_set(err, EINVAL,
				"bad hostfwd '%s': expected "
				"[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport",
				spec);
	size_t plen = (size_t)(colon - spec);
	if (plen == 3 && !strncmp(spec, "udp", 3))
		hf->udp = true;
	else if (plen != 0 && !(plen == 3 && !strncmp(spec, "tcp", 3)))
		return verr_set(err, EINVAL, "bad hostfwd '%s': protocol '%.*s' is not tcp or udp",
				spec, (int)plen, spec);
	const char *host = colon + 1;
	int r = parse_endpoint(spec, host, (size_t)(dash - host), "host", &hf->host, &hf->host_port,
			       err);
	if (r)
		return r;
	r = parse_endpoint(spec, dash + 1, strlen(dash + 1), "guest", &hf->guest, &hf->guest_port,
			   err);
	if (r)
		return r;
	struct in_addr net, mask;
	inet_pton(AF_INET, GUEST_NET, &net);
	inet_pton(AF_INET, GUEST_MASK, &mask);
	if ((hf->guest.s_addr & mask.s_addr) != net.s_addr)
		return verr_set(err, EINVAL, "bad hostfwd '%s': guest address is not in %s/24",
				spec, GUEST_NET);
	return 0;
}

static int add_hostfwd(struct net_slirp *s, const char *v, size_t n, struct verr *err)
{
	struct hostfwd hf;
	int r = parse_hostfwd(v, n, &hf, err);
	if (r)
		return r;
	if (slirp_add_hostfwd(s->slirp, hf.udp, hf.host, hf.host_port, hf.guest, hf.guest_port))
		return verr_set(err, EADDRINUSE,
				"hostfwd '%.*s': cannot listen on host port %d (in use or "
				"not permitted)",
				(int)n, v, hf.host_port);
	return 0;
}

static int apply_options(struct net_slirp *s, const char *opts, struct verr *err)
{
	while (*opts) {
		size_t n = strcspn(opts, ",");
		if (n > 8 && !strncmp(opts, "hostfwd=", 8)) {
			int r = add_hostfwd(s, opts + 8, n - 8, err);
			if (r)
				return r;
		} else {
			return verr_set(err, EINVAL,
					"unknown option '%.*s' for user networking (expected "
					"hostfwd=...)",
					(int)n, opts);
		}
		opts += n;
		if (*opts == ',' && !*++opts)
			return verr_set(err, EINVAL, "empty option after ','");
	}
	return 0;
}

static Slirp *slirp_start(struct net_slirp *s)
{
	SlirpConfig cfg = {.version = 4, .in_enabled = true, .in6_enabled = true};
	inet_pton(AF_INET, GUEST_NET, &cfg.vnetwork);
	inet_pton(AF_INET, GUEST_MASK, &cfg.vnetmask);
	inet_pton(AF_INET, GUEST_HOST, &cfg.vhost);
	inet_pton(AF_INET, GUEST_DHCP, &cfg.vdhcp_start);
	inet_pton(AF_INET, GUEST_DNS, &cfg.vnameserver);
	inet_pton(AF_INET6, GUEST_NET6, &cfg.vprefix_addr6);
	cfg.vprefix_len = 64;
	inet_pton(AF_INET6, GUEST_HOST6, &cfg.vhost6);
	inet_pton(AF_INET6, GUEST_DNS6, &cfg.vnameserver6);
	return slirp_new(&cfg, &slirp_callbacks, s);
}

int net_slirp_create(const char *opts, struct net_backend **out, struct verr *err)
{
	struct net_slirp *s = calloc(1, sizeof(*s));
	if (!s)
		return verr_set(err, ENOMEM, "user networking: out of memory");
	net_backend_init(&s->be, &slirp_be_ops, "user");
	pthread_mutex_init(&s->tx_lock, NULL);
	net_queue_init(&s->txq, TXQ_MAX);
	net_queue_init(&s->rxq, NET_QUEUE_MAX);
	atomic_init(&s->stop, false);
	int r = 0;
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0)
		r = verr_set(err, errno, "user networking: eventfd: %s", strerror(errno));
	if (!r && !(s->slirp = slirp_start(s)))
		r = verr_set(err, EINVAL, "user networking: libslirp refused the configuration");
	if (!r)
		r = apply_options(s, opts, err);
	if (!r) {
		int e = pthread_create(&s->thread, NULL, slirp_thread, s);
		if (e)
			r = verr_set(err, e, "user networking: cannot start thread: %s",
				     strerror(e));
		s->running = !e;
	}
	if (r) {
		slirp_be_destroy(&s->be);
		return r;
	}
	*out = &s->be;
	return 0;
}
