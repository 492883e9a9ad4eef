/* SPDX-License-Identifier: MIT */
/*
 * Renames every public fpu function to FPU_RENAME(name), so fpu.c can be
 * built again under other names (fpu_ref.c, fpu_nofma.c) and linked next
 * to the real library.  Define FPU_RENAME before including this.
 */
#ifndef VESSEL_TESTS_FPU_RENAME_H
#define VESSEL_TESTS_FPU_RENAME_H

#define f32_add	     FPU_RENAME(f32_add)
#define f32_sub	     FPU_RENAME(f32_sub)
#define f32_mul	     FPU_RENAME(f32_mul)
#define f32_div	     FPU_RENAME(f32_div)
#define f32_sqrt     FPU_RENAME(f32_sqrt)
#define f32_fma	     FPU_RENAME(f32_fma)
#define f32_min	     FPU_RENAME(f32_min)
#define f32_max	     FPU_RENAME(f32_max)
#define f32_eq	     FPU_RENAME(f32_eq)
#define f32_lt	     FPU_RENAME(f32_lt)
#define f32_le	     FPU_RENAME(f32_le)
#define f32_classify FPU_RENAME(f32_classify)
#define f32_to_i32   FPU_RENAME(f32_to_i32)
#define f32_to_u32   FPU_RENAME(f32_to_u32)
#define f32_to_i64   FPU_RENAME(f32_to_i64)
#define f32_to_u64   FPU_RENAME(f32_to_u64)
#define i32_to_f32   FPU_RENAME(i32_to_f32)
#define u32_to_f32   FPU_RENAME(u32_to_f32)
#define i64_to_f32   FPU_RENAME(i64_to_f32)
#define u64_to_f32   FPU_RENAME(u64_to_f32)
#define f64_add	     FPU_RENAME(f64_add)
#define f64_sub	     FPU_RENAME(f64_sub)
#define f64_mul	     FPU_RENAME(f64_mul)
#define f64_div	     FPU_RENAME(f64_div)
#define f64_sqrt     FPU_RENAME(f64_sqrt)
#define f64_fma	     FPU_RENAME(f64_fma)
#define f64_min	     FPU_RENAME(f64_min)
#define f64_max	     FPU_RENAME(f64_max)
#define f64_eq	     FPU_RENAME(f64_eq)
#define f64_lt	     FPU_RENAME(f64_lt)
#define f64_le	     FPU_RENAME(f64_le)
#define f64_classify FPU_RENAME(f64_classify)
#define f64_to_i32   FPU_RENAME(f64_to_i32)
#define f64_to_u32   FPU_RENAME(f64_to_u32)
#define f64_to_i64   FPU_RENAME(f64_to_i64)
#define f64_to_u64   FPU_RENAME(f64_to_u64)
#define i32_to_f64   FPU_RENAME(i32_to_f64)
#define u32_to_f64   FPU_RENAME(u32_to_f64)
#define i64_to_f64   FPU_RENAME(i64_to_f64)
#define u64_to_f64   FPU_RENAME(u64_to_f64)
#define f32_to_f64   FPU_RENAME(f32_to_f64)
#define f64_to_f32   FPU_RENAME(f64_to_f32)

#endif
