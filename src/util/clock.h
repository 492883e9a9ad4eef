/* SPDX-License-Identifier: MIT */
/*
 * The machine's timebase: the 10 MHz counter behind mtime and the time CSR,
 * as on QEMU's virt board.  It counts from the machine's creation; 'offset'
 * is saved with a snapshot so guest time continues where it stopped.
 */
#ifndef VESSEL_UTIL_CLOCK_H
#define VESSEL_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

#define TIMEBASE_HZ 10000000ull

struct timebase {
	int64_t start_ns; /* host CLOCK_MONOTONIC at tick 0 */
};

static inline int64_t host_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void timebase_init(struct timebase *tb, uint64_t ticks_now)
{
	tb->start_ns = host_monotonic_ns() - (int64_t)(ticks_now * (1000000000ull / TIMEBASE_HZ));
}

static inline uint64_t timebase_now(const struct timebase *tb)
{
	return (uint64_t)(host_monotonic_ns() - tb->start_ns) / (1000000000ull / TIMEBASE_HZ);
}

/* Host CLOCK_MONOTONIC time at which the counter reaches 'ticks'. */
static inline int64_t timebase_to_host_ns(const struct timebase *tb, uint64_t ticks)
{
	if (ticks > (uint64_t)INT64_MAX / 100)
		return INT64_MAX;
	return tb->start_ns + (int64_t)ticks * (int64_t)(1000000000ull / TIMEBASE_HZ);
}

#endif
