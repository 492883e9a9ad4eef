/* SPDX-License-Identifier: MIT */
#include "machine/host_out.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

#define HOST_OUT_SIZE	  (64 * 1024)
#define HOST_OUT_BATCH	  4096	     /* wake the writer early at this much */
#define HOST_OUT_DELAY_NS 2000000    /* gather output for at most 2 ms */
#define HOST_OUT_WAIT_NS  50000000   /* a full ring re-checks release this often */
#define HOST_OUT_FLUSH_NS 1000000000 /* the final flush gives up after 1 s */

struct host_out {
	pthread_mutex_t lock;
	pthread_cond_t more; /* writer waits for data */
	pthread_cond_t room; /* producers wait for space */
	pthread_t thread;
	int fd;
	bool closing, broken, joined;
	atomic_bool released;
	size_t head, len;
	uint8_t ring[HOST_OUT_SIZE];
};

static struct timespec host_out_deadline(int64_t ns_from_now)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t ns = ts.tv_nsec + ns_from_now;
	ts.tv_sec += ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	return ts;
}

/* Write buf fully; false if fd is gone (then output is dropped from now on). */
static bool host_out_write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			poll(&p, 1, 100);
		} else if (n < 0 && errno != EINTR) {
			return false;
		}
	}
	return true;
}

static void *host_out_thread(void *arg)
{
	struct host_out *o = arg;
	/* Only a write() stuck at the very end may be cancelled (host_out_destroy). */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_mutex_lock(&o->lock);
	for (;;) {
		while (o->len == 0 && !o->closing)
			pthread_cond_wait(&o->more, &o->lock);
		if (o->len == 0)
			break;
		/* Let a burst gather into one write; a lone keystroke echo waits 2 ms. */
		struct timespec until = host_out_deadline(HOST_OUT_DELAY_NS);
		while (o->len < HOST_OUT_BATCH && !o->closing &&
		       pthread_cond_timedwait(&o->more, &o->lock, &until) != ETIMEDOUT)
			;
		size_t chunk = o->len;
		if (chunk > HOST_OUT_SIZE - o->head)
			chunk = HOST_OUT_SIZE - o->head;
		const uint8_t *p = o->ring + o->head;
		bool broken = o->broken;
		pthread_mutex_unlock(&o->lock);
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		if (!broken && !host_out_write_all(o->fd, p, chunk))
			broken = true;
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		pthread_mutex_lock(&o->lock);
		o->broken = broken;
		o->head = (o->head + chunk) % HOST_OUT_SIZE;
		o->len -= chunk;
		pthread_cond_broadcast(&o->room);
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

struct host_out *host_out_create(int fd, struct verr *err)
{
	struct host_out *o = calloc(1, sizeof(*o));
	if (!o) {
		verr_set(err, ENOMEM, "console output: out of memory");
		return NULL;
	}
	o->fd = fd;
	atomic_init(&o->released, false);
	pthread_mutex_init(&o->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->more, &ca);
	pthread_cond_init(&o->room, &ca);
	pthread_condattr_destroy(&ca);
	int r = pthread_create(&o->thread, NULL, host_out_thread, o);
	if (r) {
		verr_set(err, r, "console output: cannot start its thread: %s", strerror(r));
		pthread_cond_destroy(&o->more);
		pthread_cond_destroy(&o->room);
		pthread_mutex_destroy(&o->lock);
		free(o);
		return NULL;
	}
	return o;
}

void host_out_put(struct host_out *o, uint8_t c)
{
	pthread_mutex_lock(&o->lock);
	while (o->len == HOST_OUT_SIZE && !o->broken &&
	       !atomic_load_explicit(&o->released, memory_order_relaxed)) {
		struct timespec until = host_out_deadline(HOST_OUT_WAIT_NS);
		pthread_cond_timedwait(&o->room, &o->lock, &until);
	}
	if (o->len < HOST_OUT_SIZE && !o->broken) {
		o->ring[(o->head + o->len) % HOST_OUT_SIZE] = c;
		o->len++;
		/* Wake the writer when output starts and when a batch is ready. */
		if (o->len == 1 || o->len == HOST_OUT_BATCH)
			pthread_cond_signal(&o->more);
	}
	pthread_mutex_unlock(&o->lock);
}

void host_out_release(struct host_out *o)
{
	atomic_store(&o->released, true);
}

void host_out_stop(struct host_out *o)
{
	if (o->joined)
		return;
	host_out_release(o);
	pthread_mutex_lock(&o->lock);
	o->closing = true;
	pthread_cond_signal(&o->more);
	pthread_mutex_unlock(&o->lock);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += HOST_OUT_FLUSH_NS / 1000000000;
	if (pthread_timedjoin_np(o->thread, NULL, &until)) {
		/* fd is stuck (a reader that never reads): stop the write. */
		pthread_cancel(o->thread);
		pthread_join(o->thread, NULL);
	}
	o->joined = true;
	/* Nothing is written any more: drop what comes. */
	pthread_mutex_lock(&o->lock);
	o->broken = true;
	pthread_mutex_unlock(&o->lock);
}

void host_out_destroy(struct host_out *o)
{
	if (!o)
		return;
	host_out_stop(o);
	pthread_cond_destroy(&o->more);
	pthread_cond_destroy(&o->room);
	pthread_mutex_destroy(&o->lock);
	free(o);
}
