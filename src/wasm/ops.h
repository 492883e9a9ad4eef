/* SPDX-License-Identifier: MIT */
/*
 * The internal instruction set that functions are translated into.
 *
 * Code is an array of 8-byte cells: the handler's address (threaded dispatch),
 * then operand cells.  Operands are frame slots (32-bit indices relative to
 * the frame pointer, two per cell), immediates or relative branch offsets.
 * Shapes, in cells after the handler:
 *   unary          [d|a]
 *   binary _ss     [d|a][b]          d = a op b (slots)
 *   binary _si     [d|a][imm]        d = a op imm
 *   load           [d|a][offset]
 *   store          [a|v][offset]
 *   load/store _a  [d|a][imm|offset] address = (uint32_t)(a + imm) + offset
 *   load/store _x  [d|a][i|shift][offset] address = (uint32_t)(a + (i << shift)) + offset
 *   load/store _s  [d|i][imm|shift][offset] address = (uint32_t)((i << shift) + imm) + offset
 *   load/store _p  [d|x][src|imm][offset]  x = (uint32_t)(src + imm) first (a fused i32.add into
 *                  the address local), then address = x + offset
 * Other shapes are documented where compile.c emits them.
 */
#ifndef VESSEL_WASM_OPS_H
#define VESSEL_WASM_OPS_H

/* Control, variables, references, tables, memory. */
#define WASM_OPS_MISC(X)                                                                           \
	X(unreachable)                                                                             \
	X(br)                                                                                      \
	X(br_if)                                                                                   \
	X(br_unless)                                                                               \
	X(br_table)                                                                                \
	X(br_table_ld32)                                                                           \
	X(br_table_ld8)                                                                            \
	X(loop)                                                                                    \
	X(ret)                                                                                     \
	X(call)                                                                                    \
	X(call_indirect)                                                                           \
	X(copy)                                                                                    \
	X(copy2)                                                                                   \
	X(copy3)                                                                                   \
	X(copy4)                                                                                   \
	X(const)                                                                                   \
	X(select)                                                                                  \
	X(global_get)                                                                              \
	X(global_set)                                                                              \
	X(table_get)                                                                               \
	X(table_set)                                                                               \
	X(table_size)                                                                              \
	X(table_grow)                                                                              \
	X(table_fill)                                                                              \
	X(table_copy)                                                                              \
	X(table_init)                                                                              \
	X(elem_drop)                                                                               \
	X(ref_is_null)                                                                             \
	X(ref_func)                                                                                \
	X(memory_size)                                                                             \
	X(memory_grow)                                                                             \
	X(memory_fill)                                                                             \
	X(memory_copy)                                                                             \
	X(memory_init)                                                                             \
	X(data_drop)                                                                               \
	X(f32_muladd)                                                                              \
	X(f64_muladd)                                                                              \
	X(f32_muladd_ld)                                                                           \
	X(f64_muladd_ld)                                                                           \
	X(i32_add3)                                                                                \
	X(i32_add_si2)                                                                             \
	X(i32_add_si_br)                                                                           \
	X(i64_add_si_br)                                                                           \
	X(i32_xor3)                                                                                \
	X(i32_rotl_xor)                                                                            \
	X(i32_rotl2_xor)

/* Loads [d|a][offset] and stores [a|v][offset]; each also has an _a form that first adds an
 * immediate to the address with 32-bit wrap-around, an _x form that adds a shifted
 * index (fused i32.shl and i32.add: array indexing), an _s form that shifts the index
 * and adds an immediate (indexing a static array) and a _p form that first advances the
 * address local by an immediate (a pointer bump followed by an access through it). */
#define WASM_OPS_MEM(X)                                                                            \
	X(ld8u)                                                                                    \
	X(ld8s32)                                                                                  \
	X(ld8s64)                                                                                  \
	X(ld16u)                                                                                   \
	X(ld16s32)                                                                                 \
	X(ld16s64)                                                                                 \
	X(ld32u)                                                                                   \
	X(ld32s64)                                                                                 \
	X(ld64)                                                                                    \
	X(st8)                                                                                     \
	X(st16)                                                                                    \
	X(st32)                                                                                    \
	X(st64)

/* One operand, one result. */
#define WASM_OPS_UNARY(X)                                                                          \
	X(i32_eqz)                                                                                 \
	X(i32_clz)                                                                                 \
	X(i32_ctz)                                                                                 \
	X(i32_popcnt)                                                                              \
	X(i64_eqz)                                                                                 \
	X(i64_clz)                                                                                 \
	X(i64_ctz)                                                                                 \
	X(i64_popcnt)                                                                              \
	X(f32_abs)                                                                                 \
	X(f32_neg)                                                                                 \
	X(f32_ceil)                                                                                \
	X(f32_floor)                                                                               \
	X(f32_trunc)                                                                               \
	X(f32_nearest)                                                                             \
	X(f32_sqrt)                                                                                \
	X(f64_abs)                                                                                 \
	X(f64_neg)                                                                                 \
	X(f64_ceil)                                                                                \
	X(f64_floor)                                                                               \
	X(f64_trunc)                                                                               \
	X(f64_nearest)                                                                             \
	X(f64_sqrt)                                                                                \
	X(i32_wrap_i64)                                                                            \
	X(i32_trunc_f32_s)                                                                         \
	X(i32_trunc_f32_u)                                                                         \
	X(i32_trunc_f64_s)                                                                         \
	X(i32_trunc_f64_u)                                                                         \
	X(i64_extend_i32_s)                                                                        \
	X(i64_extend_i32_u)                                                                        \
	X(i64_trunc_f32_s)                                                                         \
	X(i64_trunc_f32_u)                                                                         \
	X(i64_trunc_f64_s)                                                                         \
	X(i64_trunc_f64_u)                                                                         \
	X(f32_convert_i32_s)                                                                       \
	X(f32_convert_i32_u)                                                                       \
	X(f32_convert_i64_s)                                                                       \
	X(f32_convert_i64_u)                                                                       \
	X(f32_demote_f64)                                                                          \
	X(f64_convert_i32_s)                                                                       \
	X(f64_convert_i32_u)                                                                       \
	X(f64_convert_i64_s)                                                                       \
	X(f64_convert_i64_u)                                                                       \
	X(f64_promote_f32)                                                                         \
	X(i32_extend8_s)                                                                           \
	X(i32_extend16_s)                                                                          \
	X(i64_extend8_s)                                                                           \
	X(i64_extend16_s)                                                                          \
	X(i64_extend32_s)                                                                          \
	X(i32_trunc_sat_f32_s)                                                                     \
	X(i32_trunc_sat_f32_u)                                                                     \
	X(i32_trunc_sat_f64_s)                                                                     \
	X(i32_trunc_sat_f64_u)                                                                     \
	X(i64_trunc_sat_f32_s)                                                                     \
	X(i64_trunc_sat_f32_u)                                                                     \
	X(i64_trunc_sat_f64_s)                                                                     \
	X(i64_trunc_sat_f64_u)

/* Two operands, one result; each has a slot-slot (_ss) and slot-immediate (_si) form. */
#define WASM_OPS_BINARY(X)                                                                         \
	X(i32_eq)                                                                                  \
	X(i32_ne)                                                                                  \
	X(i32_lt_s)                                                                                \
	X(i32_lt_u)                                                                                \
	X(i32_gt_s)                                                                                \
	X(i32_gt_u)                                                                                \
	X(i32_le_s)                                                                                \
	X(i32_le_u)                                                                                \
	X(i32_ge_s)                                                                                \
	X(i32_ge_u)                                                                                \
	X(i64_eq)                                                                                  \
	X(i64_ne)                                                                                  \
	X(i64_lt_s)                                                                                \
	X(i64_lt_u)                                                                                \
	X(i64_gt_s)                                                                                \
	X(i64_gt_u)                                                                                \
	X(i64_le_s)                                                                                \
	X(i64_le_u)                                                                                \
	X(i64_ge_s)                                                                                \
	X(i64_ge_u)                                                                                \
	X(f32_eq)                                                                                  \
	X(f32_ne)                                                                                  \
	X(f32_lt)                                                                                  \
	X(f32_gt)                                                                                  \
	X(f32_le)                                                                                  \
	X(f32_ge)                                                                                  \
	X(f64_eq)                                                                                  \
	X(f64_ne)                                                                                  \
	X(f64_lt)                                                                                  \
	X(f64_gt)                                                                                  \
	X(f64_le)                                                                                  \
	X(f64_ge)                                                                                  \
	X(i32_add)                                                                                 \
	X(i32_sub)                                                                                 \
	X(i32_mul)                                                                                 \
	X(i32_div_s)                                                                               \
	X(i32_div_u)                                                                               \
	X(i32_rem_s)                                                                               \
	X(i32_rem_u)                                                                               \
	X(i32_and)                                                                                 \
	X(i32_or)                                                                                  \
	X(i32_xor)                                                                                 \
	X(i32_shl)                                                                                 \
	X(i32_shr_s)                                                                               \
	X(i32_shr_u)                                                                               \
	X(i32_rotl)                                                                                \
	X(i32_rotr)                                                                                \
	X(i64_add)                                                                                 \
	X(i64_sub)                                                                                 \
	X(i64_mul)                                                                                 \
	X(i64_div_s)                                                                               \
	X(i64_div_u)                                                                               \
	X(i64_rem_s)                                                                               \
	X(i64_rem_u)                                                                               \
	X(i64_and)                                                                                 \
	X(i64_or)                                                                                  \
	X(i64_xor)                                                                                 \
	X(i64_shl)                                                                                 \
	X(i64_shr_s)                                                                               \
	X(i64_shr_u)                                                                               \
	X(i64_rotl)                                                                                \
	X(i64_rotr)                                                                                \
	X(f32_add)                                                                                 \
	X(f32_sub)                                                                                 \
	X(f32_mul)                                                                                 \
	X(f32_div)                                                                                 \
	X(f32_min)                                                                                 \
	X(f32_max)                                                                                 \
	X(f32_copysign)                                                                            \
	X(f64_add)                                                                                 \
	X(f64_sub)                                                                                 \
	X(f64_mul)                                                                                 \
	X(f64_div)                                                                                 \
	X(f64_min)                                                                                 \
	X(f64_max)                                                                                 \
	X(f64_copysign)

/* i32 comparisons fused with a following br_if: [a|b][offset], and the _si form [a|-][imm][offset].
 */
#define WASM_OPS_CMPBR(X)                                                                          \
	X(i32_eq)                                                                                  \
	X(i32_ne)                                                                                  \
	X(i32_lt_s)                                                                                \
	X(i32_lt_u)                                                                                \
	X(i32_gt_s)                                                                                \
	X(i32_gt_u)                                                                                \
	X(i32_le_s)                                                                                \
	X(i32_le_u)                                                                                \
	X(i32_ge_s)                                                                                \
	X(i32_ge_u)

enum wasm_iop {
#define WASM_X(n)  WASM_IOP_##n,
#define WASM_XB(n) WASM_IOP_##n##_ss, WASM_IOP_##n##_si,
#define WASM_XC(n) WASM_IOP_br_##n##_ss, WASM_IOP_br_##n##_si,
#define WASM_XM(n)                                                                                 \
	WASM_IOP_##n, WASM_IOP_##n##_a, WASM_IOP_##n##_x, WASM_IOP_##n##_s, WASM_IOP_##n##_p,
	WASM_OPS_MISC(WASM_X) WASM_OPS_MEM(WASM_XM) WASM_OPS_UNARY(WASM_X) WASM_OPS_BINARY(WASM_XB)
	    WASM_OPS_CMPBR(WASM_XC) WASM_IOP_COUNT
#undef WASM_X
#undef WASM_XB
#undef WASM_XC
#undef WASM_XM
};

#endif
