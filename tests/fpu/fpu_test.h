/* SPDX-License-Identifier: MIT */
/* Shared pieces of the fpu tests. */
#ifndef VESSEL_TESTS_FPU_TEST_H
#define VESSEL_TESTS_FPU_TEST_H

#include <stdbool.h>
#include <stdint.h>

enum op {
	ADD,
	SUB,
	MUL,
	DIV,
	SQRT,
	FMA,
	MIN,
	MAX,
	EQ,
	LT,
	LE,
	CLASS,
	TOI32,
	TOU32,
	TOI64,
	TOU64,
	FROMI32,
	FROMU32,
	FROMI64,
	FROMU64,
	CVT, /* f32 -> f64 for width 32, f64 -> f32 for width 64 */
};

/* The library must leave MXCSR at round-to-nearest, all masked, no FTZ/DAZ. */
static inline uint32_t mxcsr_read(void)
{
#if defined(__x86_64__)
	return __builtin_ia32_stmxcsr();
#else
	return 0x1f80;
#endif
}

static inline void mxcsr_write(uint32_t m)
{
#if defined(__x86_64__)
	__builtin_ia32_ldmxcsr(m);
#else
	(void)m;
#endif
}

/* What other host code might leave behind: FTZ, DAZ, round-up, every flag set. */
#define MXCSR_HOSTILE 0xdfff
#define MXCSR_DEFAULT 0x1f80

static inline bool mxcsr_is_default(void)
{
	return (mxcsr_read() & 0xffc0) == 0x1f80;
}

int test_vectors(void);
int test_random(void);

#endif
