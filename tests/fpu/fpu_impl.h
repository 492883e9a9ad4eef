/* SPDX-License-Identifier: MIT */
/*
 * The fpu API as a table of function pointers, so the same tests run on the
 * library as built (x86 SSE engine) and on the software engine (fpu.c
 * compiled with FPU_SOFT_ONLY under renamed symbols, see fpu_ref.c).
 */
#ifndef VESSEL_TESTS_FPU_IMPL_H
#define VESSEL_TESTS_FPU_IMPL_H

#include <stdint.h>

struct fpu_impl {
	const char *name;
	uint32_t (*add32)(uint32_t, uint32_t, int, uint32_t *);
	uint32_t (*sub32)(uint32_t, uint32_t, int, uint32_t *);
	uint32_t (*mul32)(uint32_t, uint32_t, int, uint32_t *);
	uint32_t (*div32)(uint32_t, uint32_t, int, uint32_t *);
	uint32_t (*sqrt32)(uint32_t, int, uint32_t *);
	uint32_t (*fma32)(uint32_t, uint32_t, uint32_t, int, uint32_t *);
	uint32_t (*min32)(uint32_t, uint32_t, uint32_t *);
	uint32_t (*max32)(uint32_t, uint32_t, uint32_t *);
	int (*eq32)(uint32_t, uint32_t, uint32_t *);
	int (*lt32)(uint32_t, uint32_t, uint32_t *);
	int (*le32)(uint32_t, uint32_t, uint32_t *);
	uint32_t (*class32)(uint32_t);
	uint64_t (*f32_i32)(uint32_t, int, uint32_t *);
	uint64_t (*f32_u32)(uint32_t, int, uint32_t *);
	uint64_t (*f32_i64)(uint32_t, int, uint32_t *);
	uint64_t (*f32_u64)(uint32_t, int, uint32_t *);
	uint32_t (*i32_f32)(int32_t, int, uint32_t *);
	uint32_t (*u32_f32)(uint32_t, int, uint32_t *);
	uint32_t (*i64_f32)(int64_t, int, uint32_t *);
	uint32_t (*u64_f32)(uint64_t, int, uint32_t *);
	uint64_t (*add64)(uint64_t, uint64_t, int, uint32_t *);
	uint64_t (*sub64)(uint64_t, uint64_t, int, uint32_t *);
	uint64_t (*mul64)(uint64_t, uint64_t, int, uint32_t *);
	uint64_t (*div64)(uint64_t, uint64_t, int, uint32_t *);
	uint64_t (*sqrt64)(uint64_t, int, uint32_t *);
	uint64_t (*fma64)(uint64_t, uint64_t, uint64_t, int, uint32_t *);
	uint64_t (*min64)(uint64_t, uint64_t, uint32_t *);
	uint64_t (*max64)(uint64_t, uint64_t, uint32_t *);
	int (*eq64)(uint64_t, uint64_t, uint32_t *);
	int (*lt64)(uint64_t, uint64_t, uint32_t *);
	int (*le64)(uint64_t, uint64_t, uint32_t *);
	uint32_t (*class64)(uint64_t);
	uint64_t (*f64_i32)(uint64_t, int, uint32_t *);
	uint64_t (*f64_u32)(uint64_t, int, uint32_t *);
	uint64_t (*f64_i64)(uint64_t, int, uint32_t *);
	uint64_t (*f64_u64)(uint64_t, int, uint32_t *);
	uint64_t (*i32_f64)(int32_t, int, uint32_t *);
	uint64_t (*u32_f64)(uint32_t, int, uint32_t *);
	uint64_t (*i64_f64)(int64_t, int, uint32_t *);
	uint64_t (*u64_f64)(uint64_t, int, uint32_t *);
	uint64_t (*f32_f64)(uint32_t, uint32_t *);
	uint32_t (*f64_f32)(uint64_t, int, uint32_t *);
};

/* Positional, so each translation unit binds the names it sees. */
#define FPU_IMPL_INIT(n)                                                                           \
	{                                                                                          \
		n, f32_add, f32_sub, f32_mul, f32_div, f32_sqrt, f32_fma, f32_min, f32_max,        \
		    f32_eq, f32_lt, f32_le, f32_classify, f32_to_i32, f32_to_u32, f32_to_i64,      \
		    f32_to_u64, i32_to_f32, u32_to_f32, i64_to_f32, u64_to_f32, f64_add, f64_sub,  \
		    f64_mul, f64_div, f64_sqrt, f64_fma, f64_min, f64_max, f64_eq, f64_lt, f64_le, \
		    f64_classify, f64_to_i32, f64_to_u32, f64_to_i64, f64_to_u64, i32_to_f64,      \
		    u32_to_f64, i64_to_f64, u64_to_f64, f32_to_f64, f64_to_f32                     \
	}

extern const struct fpu_impl fpu_soft;	/* fpu_ref.c */
extern const struct fpu_impl fpu_hw;	/* the library as built */
extern const struct fpu_impl fpu_nofma; /* fpu_nofma.c */

#endif
