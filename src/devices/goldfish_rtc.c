/* SPDX-License-Identifier: MIT */
#include "devices/goldfish_rtc.h"

#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "machine/fdt.h"
#include "util/log.h"

enum {
	RTC_TIME_LOW = 0x00,
	RTC_TIME_HIGH = 0x04,
	RTC_ALARM_LOW = 0x08,
	RTC_ALARM_HIGH = 0x0c,
	RTC_IRQ_ENABLED = 0x10,
	RTC_CLEAR_ALARM = 0x14,
	RTC_ALARM_STATUS = 0x18,
	RTC_CLEAR_INTERRUPT = 0x1c,
};

struct goldfish_rtc {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* the alarm thread waits here */
	pthread_t thread;
	bool thread_started, quit;
	struct irq_line irq;
	int64_t offset_ns;   /* guest time minus host CLOCK_REALTIME */
	uint32_t time_high;  /* latched by a TIME_LOW read, or written before TIME_LOW */
	uint32_t alarm_high; /* written before ALARM_LOW */
	uint64_t alarm_ns;   /* guest time of the alarm */
	bool alarm_running, irq_enabled, irq_pending;
};

static int64_t host_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t rtc_now(const struct goldfish_rtc *r)
{
	return (uint64_t)(host_realtime_ns() + r->offset_ns);
}

static void rtc_update_irq(struct goldfish_rtc *r)
{
	irq_set(&r->irq, r->irq_pending && r->irq_enabled);
}

/* Fire the alarm if it is due; returns true if it is still running. */
static bool rtc_check_alarm(struct goldfish_rtc *r)
{
	if (!r->alarm_running)
		return false;
	if (rtc_now(r) < r->alarm_ns)
		return true;
	r->alarm_running = false;
	r->irq_pending = true;
	rtc_update_irq(r);
	return false;
}

static void *rtc_thread(void *arg)
{
	struct goldfish_rtc *r = arg;
	pthread_mutex_lock(&r->lock);
	while (!r->quit) {
		if (!rtc_check_alarm(r)) {
			pthread_cond_wait(&r->cond, &r->lock);
			continue;
		}
		/* Host realtime at which the guest clock reaches the alarm. */
		int64_t due = (int64_t)(r->alarm_ns - (uint64_t)r->offset_ns);
		if (due < 0)
			due = 0;
		struct timespec ts = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct goldfish_rtc *goldfish_rtc_create(struct irq_line irq)
{
	struct goldfish_rtc *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_REALTIME);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	r->irq = irq;
	if (pthread_create(&r->thread, NULL, rtc_thread, r)) {
		goldfish_rtc_destroy(r);
		return NULL;
	}
	r->thread_started = true;
	return r;
}

void goldfish_rtc_destroy(struct goldfish_rtc *r)
{
	if (!r)
		return;
	if (r->thread_started) {
		pthread_mutex_lock(&r->lock);
		r->quit = true;
		pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static int rtc_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct goldfish_rtc *r = dev;
	(void)size;
	*val = 0;
	pthread_mutex_lock(&r->lock);
	switch (off) {
	case RTC_TIME_LOW: {
		uint64_t now = rtc_now(r);
		r->time_high = (uint32_t)(now >> 32);
		*val = (uint32_t)now;
		break;
	}
	case RTC_TIME_HIGH:
		*val = r->time_high;
		break;
	case RTC_ALARM_LOW:
		*val = (uint32_t)r->alarm_ns;
		break;
	case RTC_ALARM_HIGH:
		*val = (uint32_t)(r->alarm_ns >> 32);
		break;
	case RTC_IRQ_ENABLED:
		*val = r->irq_enabled;
		break;
	case RTC_ALARM_STATUS:
		*val = r->alarm_running;
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int rtc_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct goldfish_rtc *r = dev;
	(void)size;
	uint32_t v = (uint32_t)val;
	pthread_mutex_lock(&r->lock);
	switch (off) {
	case RTC_TIME_LOW: {
		uint64_t t = ((uint64_t)r->time_high << 32) | v;
		r->offset_ns = (int64_t)(t - (uint64_t)host_realtime_ns());
		pthread_cond_signal(&r->cond); /* the alarm's host deadline moved */
		break;
	}
	case RTC_TIME_HIGH:
		r->time_high = v;
		break;
	case RTC_ALARM_LOW:
		r->alarm_ns = ((uint64_t)r->alarm_high << 32) | v;
		r->alarm_running = true;
		rtc_check_alarm(r);
		pthread_cond_signal(&r->cond);
		break;
	case RTC_ALARM_HIGH:
		r->alarm_high = v;
		break;
	case RTC_IRQ_ENABLED:
		r->irq_enabled = v & 1;
		rtc_update_irq(r);
		break;
	case RTC_CLEAR_ALARM:
		r->alarm_running = false;
		break;
	case RTC_CLEAR_INTERRUPT:
		r->irq_pending = false;
		rtc_update_irq(r);
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int rtc_fdt(void *dev, struct fdt_ctx *ctx)
{
	struct goldfish_rtc *r = dev;
	int node = fdt_ctx_add_soc_node(ctx, "rtc");
	if (node < 0)
		return node;
	int e;
	if ((e = fdt_ctx_set_irq(ctx, node, r->irq.line)) ||
	    (e = fdt_setprop_string(ctx->fdt, node, "compatible", "google,goldfish-rtc")))
		return e;
	return 0;
}

const struct mmio_ops goldfish_rtc_ops = {.read = rtc_read, .write = rtc_write, .fdt = rtc_fdt};

void goldfish_rtc_save(struct goldfish_rtc *r, struct goldfish_rtc_state *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&r->lock);
	st->offset_ns = r->offset_ns;
	st->alarm_ns = r->alarm_ns;
	st->time_high = r->time_high;
	st->alarm_high = r->alarm_high;
	st->alarm_running = r->alarm_running;
	st->irq_enabled = r->irq_enabled;
	st->irq_pending = r->irq_pending;
	pthread_mutex_unlock(&r->lock);
}

int goldfish_rtc_load(struct goldfish_rtc *r, const struct goldfish_rtc_state *st, struct verr *err)
{
	if (st->alarm_running > 1 || st->irq_enabled > 1 || st->irq_pending > 1)
		return verr_set(err, EINVAL, "rtc: bad state");
	pthread_mutex_lock(&r->lock);
	r->offset_ns = st->offset_ns;
	r->alarm_ns = st->alarm_ns;
	r->time_high = st->time_high;
	r->alarm_high = st->alarm_high;
	r->alarm_running = st->alarm_running;
	r->irq_enabled = st->irq_enabled;
	r->irq_pending = st->irq_pending;
	rtc_update_irq(r);
	pthread_cond_signal(&r->cond); /* the alarm thread looks again */
	pthread_mutex_unlock(&r->lock);
	return 0;
}
