// SPDX-License-Identifier: MIT
/*
 * The software engine of fpu.c as an independent reference: the same source
 * built with FPU_SOFT_ONLY, every public name prefixed with ref_ so it links
 * next to the real library.
 */
#define FPU_SOFT_ONLY 1
#define f32_add	      ref_f32_add
#define f32_sub	      ref_f32_sub
#define f32_mul	      ref_f32_mul
#define f32_div	      ref_f32_div
#define f32_sqrt      ref_f32_sqrt
#define f32_fma	      ref_f32_fma
#define f32_min	      ref_f32_min
#define f32_max	      ref_f32_max
#define f32_eq	      ref_f32_eq
#define f32_lt	      ref_f32_lt
#define f32_le	      ref_f32_le
#define f32_classify  ref_f32_classify
#define f32_to_i32    ref_f32_to_i32
#define f32_to_u32    ref_f32_to_u32
#define f32_to_i64    ref_f32_to_i64
#define f32_to_u64    ref_f32_to_u64
#define i32_to_f32    ref_i32_to_f32
#define u32_to_f32    ref_u32_to_f32
#define i64_to_f32    ref_i64_to_f32
#define u64_to_f32    ref_u64_to_f32
#define f64_add	      ref_f64_add
#define f64_sub	      ref_f64_sub
#define f64_mul	      ref_f64_mul
#define f64_div	      ref_f64_div
#define f64_sqrt      ref_f64_sqrt
#define f64_fma	      ref_f64_fma
#define f64_min	      ref_f64_min
#define f64_max	      ref_f64_max
#define f64_eq	      ref_f64_eq
#define f64_lt	      ref_f64_lt
#define f64_le	      ref_f64_le
#define f64_classify  ref_f64_classify
#define f64_to_i32    ref_f64_to_i32
#define f64_to_u32    ref_f64_to_u32
#define f64_to_i64    ref_f64_to_i64
#define f64_to_u64    ref_f64_to_u64
#define i32_to_f64    ref_i32_to_f64
#define u32_to_f64    ref_u32_to_f64
#define i64_to_f64    ref_i64_to_f64
#define u64_to_f64    ref_u64_to_f64
#define f32_to_f64    ref_f32_to_f64
#define f64_to_f32    ref_f64_to_f32

#include "cpu/fpu.c"

#include "fpu_impl.h"

const struct fpu_impl fpu_soft = FPU_IMPL_INIT("soft");
