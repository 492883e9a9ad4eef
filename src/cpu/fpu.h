/* SPDX-License-Identifier: MIT */
/*
 * RISC-V F and D arithmetic (unprivileged ISA 20191213, chapters 11-12) as a
 * pure library for the interpreter.
 *
 * Operands and results are raw IEEE 754 bit patterns.  Single-precision
 * values are passed unboxed; the interpreter NaN-boxes on register write
 * (f32_box) and checks the boxing on register read (f32_unbox).
 *
 * 'rm' is a resolved rounding mode 0..4 (FPU_RNE..FPU_RMM); the caller turns
 * the dynamic mode into one of these and rejects 5..7 itself (any value
 * outside 0..4 is treated as RNE here, never as out-of-bounds).
 *
 * Exception flags are ORed into *fflags with the fflags CSR bit layout.  A
 * NaN result is always the canonical NaN.  Tininess is detected after
 * rounding.
 *
 * Integer results of conversions and comparisons are what the instruction
 * writes to rd: 32-bit results (fcvt.w*, fcvt.wu*) are sign-extended to 64
 * bits, out-of-range inputs saturate as in spec table 11.4 and raise only NV.
 */
#ifndef VESSEL_CPU_FPU_H
#define VESSEL_CPU_FPU_H

#include <stdint.h>

enum fpu_rm {
	FPU_RNE = 0, /* to nearest, ties to even */
	FPU_RTZ = 1, /* towards zero */
	FPU_RDN = 2, /* down */
	FPU_RUP = 3, /* up */
	FPU_RMM = 4, /* to nearest, ties to max magnitude */
};

enum fpu_flag {
	FPU_NX = 1 << 0, /* inexact */
	FPU_UF = 1 << 1, /* underflow */
	FPU_OF = 1 << 2, /* overflow */
	FPU_DZ = 1 << 3, /* divide by zero */
	FPU_NV = 1 << 4, /* invalid operation */
};

#define F32_CANONICAL_NAN 0x7fc00000u
#define F64_CANONICAL_NAN 0x7ff8000000000000ull

/* NaN-boxing (spec 12.2): a single in a 64-bit f register has the upper 32 bits all ones. */
static inline uint64_t f32_box(uint32_t a)
{
	return 0xffffffff00000000ull | a;
}

/* A register that is not a valid box reads as the canonical NaN. */
static inline uint32_t f32_unbox(uint64_t r)
{
	return (r >> 32) == 0xffffffffu ? (uint32_t)r : F32_CANONICAL_NAN;
}

/* Single precision. */
uint32_t f32_add(uint32_t a, uint32_t b, int rm, uint32_t *fflags);
uint32_t f32_sub(uint32_t a, uint32_t b, int rm, uint32_t *fflags);
uint32_t f32_mul(uint32_t a, uint32_t b, int rm, uint32_t *fflags);
uint32_t f32_div(uint32_t a, uint32_t b, int rm, uint32_t *fflags);
uint32_t f32_sqrt(uint32_t a, int rm, uint32_t *fflags);
/* a*b+c with a single rounding; fmsub/fnmsub/fnmadd flip operand signs first. */
uint32_t f32_fma(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *fflags);
/* fmin/fmax: minimumNumber/maximumNumber, -0 < +0, both NaN -> canonical NaN. */
uint32_t f32_min(uint32_t a, uint32_t b, uint32_t *fflags);
uint32_t f32_max(uint32_t a, uint32_t b, uint32_t *fflags);
/* feq is quiet (NV only for sNaN); flt and fle signal NV for any NaN. */
int f32_eq(uint32_t a, uint32_t b, uint32_t *fflags);
int f32_lt(uint32_t a, uint32_t b, uint32_t *fflags);
int f32_le(uint32_t a, uint32_t b, uint32_t *fflags);
/* fclass: one of bits 0..9 (-inf, -normal, -subnormal, -0, +0, +subnormal, +normal, +inf, sNaN,
 * qNaN). */
uint32_t f32_classify(uint32_t a);
uint64_t f32_to_i32(uint32_t a, int rm, uint32_t *fflags);
uint64_t f32_to_u32(uint32_t a, int rm, uint32_t *fflags);
uint64_t f32_to_i64(uint32_t a, int rm, uint32_t *fflags);
uint64_t f32_to_u64(uint32_t a, int rm, uint32_t *fflags);
uint32_t i32_to_f32(int32_t a, int rm, uint32_t *fflags);
uint32_t u32_to_f32(uint32_t a, int rm, uint32_t *fflags);
uint32_t i64_to_f32(int64_t a, int rm, uint32_t *fflags);
uint32_t u64_to_f32(uint64_t a, int rm, uint32_t *fflags);

/* Double precision. */
uint64_t f64_add(uint64_t a, uint64_t b, int rm, uint32_t *fflags);
uint64_t f64_sub(uint64_t a, uint64_t b, int rm, uint32_t *fflags);
uint64_t f64_mul(uint64_t a, uint64_t b, int rm, uint32_t *fflags);
uint64_t f64_div(uint64_t a, uint64_t b, int rm, uint32_t *fflags);
uint64_t f64_sqrt(uint64_t a, int rm, uint32_t *fflags);
uint64_t f64_fma(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags);
uint64_t f64_min(uint64_t a, uint64_t b, uint32_t *fflags);
uint64_t f64_max(uint64_t a, uint64_t b, uint32_t *fflags);
int f64_eq(uint64_t a, uint64_t b, uint32_t *fflags);
int f64_lt(uint64_t a, uint64_t b, uint32_t *fflags);
int f64_le(uint64_t a, uint64_t b, uint32_t *fflags);
uint32_t f64_classify(uint64_t a);
uint64_t f64_to_i32(uint64_t a, int rm, uint32_t *fflags);
uint64_t f64_to_u32(uint64_t a, int rm, uint32_t *fflags);
uint64_t f64_to_i64(uint64_t a, int rm, uint32_t *fflags);
uint64_t f64_to_u64(uint64_t a, int rm, uint32_t *fflags);
uint64_t i32_to_f64(int32_t a, int rm, uint32_t *fflags);
uint64_t u32_to_f64(uint32_t a, int rm, uint32_t *fflags);
uint64_t i64_to_f64(int64_t a, int rm, uint32_t *fflags);
uint64_t u64_to_f64(uint64_t a, int rm, uint32_t *fflags);

/* fcvt.d.s is always exact (rm is irrelevant); fcvt.s.d rounds. */
uint64_t f32_to_f64(uint32_t a, uint32_t *fflags);
uint32_t f64_to_f32(uint64_t a, int rm, uint32_t *fflags);

#endif
