// SPDX-License-Identifier: MIT
/*
 * Speed of the fpu library: nanoseconds per call in a dependent loop (each
 * result feeds the next call, as in guest FP code), for the common cases.
 * Not a test: run tests/fpu/bench_fpu in a release build directory.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "cpu/fpu.h"

#define N 20000000

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile uint64_t sink;

static void show(const char *what, double t0)
{
	printf("%-40s %6.2f ns\n", what, (now() - t0) * 1e9 / N);
}

/* 'clear' resets fflags every iteration, as a guest that clears fflags would. */
static void bench_f64_add(int rm, int clear, const char *what)
{
	uint32_t fl = 0;
	uint64_t x = 0x3ff0000000000000ull, d = 0x3cb0000000000001ull; /* 1, tiny */
	double t0 = now();
	for (int i = 0; i < N; i++) {
		if (clear)
			fl = 0;
		x = f64_add(x, d, rm, &fl);
	}
	sink = x + fl;
	show(what, t0);
}

int main(void)
{
	uint32_t fl = 0;
	double t0;

	bench_f64_add(FPU_RNE, 0, "f64_add RNE");
	bench_f64_add(FPU_RNE, 1, "f64_add RNE, fflags cleared each time");
	bench_f64_add(FPU_RDN, 0, "f64_add RDN");
	bench_f64_add(FPU_RMM, 0, "f64_add RMM (software)");

	uint64_t y = 0x3ff0000000000001ull;
	t0 = now();
	for (int i = 0; i < N; i++)
		y = f64_mul(y, 0x3ff0000000000001ull, FPU_RNE, &fl);
	sink = y;
	show("f64_mul RNE", t0);

	y = 0x3ff0000000000000ull;
	t0 = now();
	for (int i = 0; i < N; i++)
		y = f64_fma(y, 0x3fefffffffffffffull, 0x3cb0000000000000ull, FPU_RNE, &fl);
	sink = y;
	show("f64_fma RNE", t0);

	y = 0x3ff0000000000000ull;
	t0 = now();
	for (int i = 0; i < N; i++)
		y = f64_fma(y, 0x3fefffffffffffffull, 0x3cb0000000000000ull, FPU_RMM, &fl);
	sink = y;
	show("f64_fma RMM (software)", t0);

	uint32_t s = 0x40490fdb;
	t0 = now();
	for (int i = 0; i < N; i++)
		s = f32_div(s, 0x3f800001, FPU_RNE, &fl);
	sink = s;
	show("f32_div RNE", t0);

	y = 0x4000000000000000ull;
	t0 = now();
	for (int i = 0; i < N; i++)
		y = f64_sqrt(y | 0x4000000000000000ull, FPU_RNE, &fl);
	sink = y;
	show("f64_sqrt RNE", t0);

	y = 0x4059000000000000ull;
	t0 = now();
	for (int i = 0; i < N; i++)
		y += f64_to_i64(y, FPU_RTZ, &fl) & 1;
	sink = y;
	show("f64_to_i64 RTZ", t0);

	y = 12345;
	t0 = now();
	for (int i = 0; i < N; i++)
		y = i64_to_f64((int64_t)(y >> 12), FPU_RNE, &fl);
	sink = y;
	show("i64_to_f64 RNE", t0);

	y = 0x3ff0000000000000ull;
	t0 = now();
	for (int i = 0; i < N; i++)
		y = f64_min(y, y ^ (uint64_t)i, &fl);
	sink = y;
	show("f64_min", t0);

	y = 0x3ff0000000000000ull;
	int c = 0;
	t0 = now();
	for (int i = 0; i < N; i++)
		c += f64_lt(y, y + (uint64_t)(i & 1), &fl);
	sink = (uint64_t)c;
	show("f64_lt", t0);

	/* The host's own add, for scale: a dependent addsd chain. */
	volatile double h = 1.0;
	double hx = h;
	t0 = now();
	for (int i = 0; i < N; i++) {
		hx = hx + 1e-300;
		__asm__ volatile("" : "+x"(hx));
	}
	sink = (uint64_t)hx;
	show("host addsd (baseline)", t0);
	return 0;
}
