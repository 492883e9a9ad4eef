/* SPDX-License-Identifier: MIT */
/* Shared by the benchmark kernels: a monotonic clock and the result line. */
#ifndef BENCH_WASM_KERNEL_H
#define BENCH_WASM_KERNEL_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

static inline int64_t kernel_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The runner reads "kernel_ns" and compares "result" across builds. */
static inline void kernel_report(const char *name, uint64_t result, int64_t ns)
{
	printf("%s result %016llx\nkernel_ns %lld\n", name, (unsigned long long)result,
	       (long long)ns);
}

#endif
