// SPDX-License-Identifier: MIT
/*
 * Hand-derived vectors for every fpu function, each run on both engines
 * (hardware and software), and with different fflags already set.
 * Expected values come from IEEE 754-2008 and the RISC-V F/D chapters; the
 * reasoning for the tricky ones is in the comments.  Notation: u = ulp,
 * M = largest finite, m = smallest normal, s = smallest subnormal.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cpu/fpu.h"
#include "fpu_impl.h"
#include "fpu_test.h"

enum { NE = FPU_RNE, TZ = FPU_RTZ, DN = FPU_RDN, UP = FPU_RUP, MM = FPU_RMM };
enum { NX = FPU_NX, UF = FPU_UF, OF = FPU_OF, DZ = FPU_DZ, NV = FPU_NV };

struct vec {
	int line;
	int w; /* 32 or 64: the operand format */
	int op;
	int rm;
	uint64_t a, b, c, want;
	uint32_t fl;
};

#define V(w, op, rm, a, b, c, want, fl)                                                            \
	{                                                                                          \
		__LINE__, w, op, rm, a, b, c, want, fl                                             \
	}
/* One vector per rounding mode, same flags. */
#define V5(w, op, a, b, c, ne, tz, dn, up, mm, fl)                                                 \
	V(w, op, NE, a, b, c, ne, fl), V(w, op, TZ, a, b, c, tz, fl),                              \
	    V(w, op, DN, a, b, c, dn, fl), V(w, op, UP, a, b, c, up, fl),                          \
	    V(w, op, MM, a, b, c, mm, fl)
/* Same result and flags in every mode. */
#define VA(w, op, a, b, c, r, fl) V5(w, op, a, b, c, r, r, r, r, r, fl)

/* f32 encodings */
#define S_ONE	 0x3f800000u
#define S_TWO	 0x40000000u
#define S_HALF	 0x3f000000u
#define S_1P5	 0x3fc00000u
#define S_MAX	 0x7f7fffffu
#define S_MIN	 0x00800000u /* 2^-126 */
#define S_SUB	 0x00000001u /* 2^-149 */
#define S_INF	 0x7f800000u
#define S_NINF	 0xff800000u
#define S_QNAN	 0x7fc00000u
#define S_QNANP	 0x7fc12345u /* quiet NaN with a payload */
#define S_NQNAN	 0xffc00000u
#define S_SNAN	 0x7f800001u
#define S_NZERO	 0x80000000u
#define S_NEG(x) ((x) | 0x80000000u)
/* f64 encodings */
#define D_ONE	 0x3ff0000000000000ull
#define D_TWO	 0x4000000000000000ull
#define D_HALF	 0x3fe0000000000000ull
#define D_1P5	 0x3ff8000000000000ull
#define D_MAX	 0x7fefffffffffffffull
#define D_MIN	 0x0010000000000000ull /* 2^-1022 */
#define D_SUB	 0x0000000000000001ull /* 2^-1074 */
#define D_INF	 0x7ff0000000000000ull
#define D_NINF	 0xfff0000000000000ull
#define D_QNAN	 0x7ff8000000000000ull
#define D_QNANP	 0x7ff8000000000123ull
#define D_NQNAN	 0xfff8000000000000ull
#define D_SNAN	 0x7ff0000000000001ull
#define D_NZERO	 0x8000000000000000ull
#define D_NEG(x) ((x) | 0x8000000000000000ull)

#define SX32(x) ((uint64_t)(int64_t)(int32_t)(uint32_t)(x)) /* what fcvt.w[u] writes */

static const struct vec vecs[] = {
    /* ---- f32 add/sub ---- */
    /* 1 + 2^-24 is exactly half an ulp above 1: a tie; 1.0 is even, RMM goes away. */
    V5(32, ADD, S_ONE, 0x33800000, 0, S_ONE, S_ONE, S_ONE, 0x3f800001, 0x3f800001, NX),
    /* (1+u) + u/2: tie between 1+u (odd) and 1+2u (even): RNE and RMM agree. */
    V5(32, ADD, 0x3f800001, 0x33800000, 0, 0x3f800002, 0x3f800001, 0x3f800001, 0x3f800002,
       0x3f800002, NX),
    /* -1 - u/2: tie; RDN and RMM move away from zero, RUP and RTZ towards it. */
    V5(32, ADD, S_NEG(S_ONE), 0xb3800000, 0, 0xbf800000, 0xbf800000, 0xbf800001, 0xbf800000,
       0xbf800001, NX),
    /* 1 + u/4: below the tie, only RUP moves. */
    V5(32, ADD, S_ONE, 0x33000000, 0, S_ONE, S_ONE, S_ONE, 0x3f800001, S_ONE, NX),
    /* 1 + u/2(1+2^-23): just above the tie. */
    V5(32, ADD, S_ONE, 0x33800001, 0, 0x3f800001, S_ONE, S_ONE, 0x3f800001, 0x3f800001, NX),
    /* 1 - 2^-25: midpoint of 1-2^-24 (odd) and 1 (even) in the binade below 1. */
    V5(32, SUB, S_ONE, 0x33000000, 0, S_ONE, 0x3f7fffff, 0x3f7fffff, S_ONE, S_ONE, NX),
    VA(32, SUB, S_ONE, 0x33800000, 0, 0x3f7fffff, 0), /* 1 - 2^-24 is exact */
    VA(32, ADD, S_ONE, S_ONE, 0, S_TWO, 0),
    /* Exact cancellation gives +0, except -0 when rounding down. */
    V5(32, ADD, S_ONE, S_NEG(S_ONE), 0, 0, 0, S_NZERO, 0, 0, 0),
    V5(32, SUB, S_1P5, S_1P5, 0, 0, 0, S_NZERO, 0, 0, 0),
    VA(32, ADD, S_NZERO, S_NZERO, 0, S_NZERO, 0),
    V5(32, ADD, 0, S_NZERO, 0, 0, 0, S_NZERO, 0, 0, 0),
    VA(32, SUB, S_NZERO, 0, 0, S_NZERO, 0),
    VA(32, ADD, 0, S_NEG(S_SUB), 0, S_NEG(S_SUB), 0),
    /* Sums of subnormals are exact: tiny but no UF. */
    VA(32, ADD, S_SUB, S_SUB, 0, 0x00000002, 0),
    VA(32, SUB, S_MIN, S_SUB, 0, 0x007fffff, 0),
    VA(32, ADD, 0x007fffff, S_SUB, 0, S_MIN, 0),
    /* Overflow: M + M.  To inf or to M per mode and sign; OF|NX always. */
    V5(32, ADD, S_MAX, S_MAX, 0, S_INF, S_MAX, S_MAX, S_INF, S_INF, OF | NX),
    V5(32, ADD, S_NEG(S_MAX), S_NEG(S_MAX), 0, S_NINF, S_NEG(S_MAX), S_NINF, S_NEG(S_MAX), S_NINF,
       OF | NX),
    /* M + u(M)/2 = M + 2^103: a tie between M (odd) and 2^128.  Rounding towards
     * zero/down gives M, which is no overflow (only NX). */
    V(32, ADD, NE, S_MAX, 0x73000000, 0, S_INF, OF | NX),
    V(32, ADD, MM, S_MAX, 0x73000000, 0, S_INF, OF | NX),
    V(32, ADD, UP, S_MAX, 0x73000000, 0, S_INF, OF | NX),
    V(32, ADD, TZ, S_MAX, 0x73000000, 0, S_MAX, NX),
    V(32, ADD, DN, S_MAX, 0x73000000, 0, S_MAX, NX),
    /* M + u(M)/4: stays M except RUP. */
    V(32, ADD, NE, S_MAX, 0x72800000, 0, S_MAX, NX),
    V(32, ADD, MM, S_MAX, 0x72800000, 0, S_MAX, NX),
    V(32, ADD, UP, S_MAX, 0x72800000, 0, S_INF, OF | NX),
    /* Infinities and NaNs: results are the canonical NaN, payloads dropped. */
    VA(32, ADD, S_INF, S_NINF, 0, S_QNAN, NV),
    VA(32, SUB, S_INF, S_INF, 0, S_QNAN, NV),
    VA(32, ADD, S_INF, S_ONE, 0, S_INF, 0),
    VA(32, SUB, S_ONE, S_INF, 0, S_NINF, 0),
    VA(32, ADD, S_SNAN, S_ONE, 0, S_QNAN, NV),
    VA(32, ADD, S_ONE, 0xffbfffff, 0, S_QNAN, NV), /* negative sNaN */
    VA(32, ADD, S_QNANP, S_ONE, 0, S_QNAN, 0),
    VA(32, SUB, S_NQNAN, S_ONE, 0, S_QNAN, 0),
    VA(32, ADD, S_QNANP, S_SNAN, 0, S_QNAN, NV),
    VA(32, SUB, S_INF, S_QNAN, 0, S_QNAN, 0),

    /* ---- f32 mul ---- */
    /* (1+u)^2 = 1 + 2u + u^2: a sticky bit above 1+2u. */
    V5(32, MUL, 0x3f800001, 0x3f800001, 0, 0x3f800002, 0x3f800002, 0x3f800002, 0x3f800003,
       0x3f800002, NX),
    /* 1.5 * (1+3u) = 1.5 + 4u + u/2: tie between 1.5+4u (even) and 1.5+5u. */
    V5(32, MUL, S_1P5, 0x3f800003, 0, 0x3fc00004, 0x3fc00004, 0x3fc00004, 0x3fc00005, 0x3fc00005,
       NX),
    V5(32, MUL, S_NEG(S_1P5), 0x3f800003, 0, 0xbfc00004, 0xbfc00004, 0xbfc00005, 0xbfc00004,
       0xbfc00005, NX),
    /* 1.5 * (1+u) = 1.5 + u + u/2: tie between 1.5+u (odd) and 1.5+2u. */
    V5(32, MUL, S_1P5, 0x3f800001, 0, 0x3fc00002, 0x3fc00001, 0x3fc00001, 0x3fc00002, 0x3fc00002,
       NX),
    VA(32, MUL, S_MIN, S_HALF, 0, 0x00400000, 0), /* exact subnormal: no UF */
    /*
     * m * (1-2^-24) = 2^-126 - 2^-150.  With unbounded exponent that is
     * representable (24 bits) and below m: tiny.  In the subnormal format
     * it is the midpoint of 0x7fffff (odd) and 0x800000: UF|NX in every
     * mode, even when the result rounds up to m.
     */
    V5(32, MUL, S_MIN, 0x3f7fffff, 0, S_MIN, 0x007fffff, 0x007fffff, S_MIN, S_MIN, UF | NX),
    /*
     * 0x3f918e00 * 0x00709000 = 18631*2^-14 * 1801*2^-137 = (2^25-1)*2^-151
     * = m(1 - 2^-25).  Rounded to 24 bits with unbounded exponent (unit
     * 2^-150) it is a tie between m-2^-150 and m: RNE/RMM/RUP give m, so
     * after-rounding tininess says NOT tiny: NX only.  RTZ/RDN round to
     * m-2^-150, tiny: UF|NX.
     */
    V(32, MUL, NE, 0x3f918e00, 0x00709000, 0, S_MIN, NX),
    V(32, MUL, MM, 0x3f918e00, 0x00709000, 0, S_MIN, NX),
    V(32, MUL, UP, 0x3f918e00, 0x00709000, 0, S_MIN, NX),
    V(32, MUL, TZ, 0x3f918e00, 0x00709000, 0, 0x007fffff, UF | NX),
    V(32, MUL, DN, 0x3f918e00, 0x00709000, 0, 0x007fffff, UF | NX),
    /* 5s * 0.5 = 2.5s: tie, RNE -> 2s, RMM -> 3s. */
    V5(32, MUL, 0x00000005, S_HALF, 0, 2, 2, 2, 3, 3, UF | NX),
    /* s * 0.5: tie between 0 and s. */
    V5(32, MUL, S_SUB, S_HALF, 0, 0, 0, 0, S_SUB, S_SUB, UF | NX),
    V5(32, MUL, S_NEG(S_SUB), S_HALF, 0, S_NZERO, S_NZERO, S_NEG(S_SUB), S_NZERO, S_NEG(S_SUB),
       UF | NX),
    /* s * s: far below s: 0 or s, UF|NX. */
    V5(32, MUL, S_SUB, S_SUB, 0, 0, 0, 0, S_SUB, 0, UF | NX),
    V5(32, MUL, S_MAX, S_TWO, 0, S_INF, S_MAX, S_MAX, S_INF, S_INF, OF | NX),
    V5(32, MUL, S_MAX, S_NEG(S_TWO), 0, S_NINF, S_NEG(S_MAX), S_NINF, S_NEG(S_MAX), S_NINF,
       OF | NX),
    VA(32, MUL, S_INF, 0, 0, S_QNAN, NV),
    VA(32, MUL, S_NZERO, S_NINF, 0, S_QNAN, NV),
    VA(32, MUL, S_NINF, S_TWO, 0, S_NINF, 0),
    VA(32, MUL, S_NZERO, S_TWO, 0, S_NZERO, 0),
    VA(32, MUL, S_SNAN, 0, 0, S_QNAN, NV),
    VA(32, MUL, S_QNANP, S_INF, 0, S_QNAN, 0),

    /* ---- f32 div ---- */
    /* 1/3 = 1.0101..b * 2^-2: the bits after the 23rd are 1010..: above half. */
    V5(32, DIV, S_ONE, 0x40400000, 0, 0x3eaaaaab, 0x3eaaaaaa, 0x3eaaaaaa, 0x3eaaaaab, 0x3eaaaaab,
       NX),
    V5(32, DIV, S_NEG(S_ONE), 0x40400000, 0, 0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaab, 0xbeaaaaaa,
       0xbeaaaaab, NX),
    VA(32, DIV, 0x40c00000, 0x40400000, 0, S_TWO, 0), /* 6/3 */
    /* Quotients can only tie in the subnormal range: 5s/2 = 2.5s. */
    V5(32, DIV, 0x00000005, S_TWO, 0, 2, 2, 2, 3, 3, UF | NX),
    /* m/3 = s * 2^23/3 = s * 2796202.67 */
    V5(32, DIV, S_MIN, 0x40400000, 0, 0x002aaaab, 0x002aaaaa, 0x002aaaaa, 0x002aaaab, 0x002aaaab,
       UF | NX),
    V5(32, DIV, S_MAX, S_HALF, 0, S_INF, S_MAX, S_MAX, S_INF, S_INF, OF | NX),
    VA(32, DIV, S_ONE, 0, 0, S_INF, DZ),
    VA(32, DIV, S_NEG(S_ONE), 0, 0, S_NINF, DZ),
    VA(32, DIV, S_ONE, S_NZERO, 0, S_NINF, DZ),
    VA(32, DIV, S_INF, 0, 0, S_INF, 0), /* inf is exact: no DZ */
    VA(32, DIV, 0, 0, 0, S_QNAN, NV),
    VA(32, DIV, S_INF, S_NINF, 0, S_QNAN, NV),
    VA(32, DIV, 0, S_INF, 0, 0, 0),
    VA(32, DIV, S_ONE, S_NINF, 0, S_NZERO, 0),
    VA(32, DIV, S_SNAN, 0, 0, S_QNAN, NV),
    VA(32, DIV, S_QNANP, 0, 0, S_QNAN, 0),

    /* ---- f32 sqrt ---- */
    /* sqrt(2) = 1.0110101000001001111001100111..b: bit 24 after the point is 0. */
    V5(32, SQRT, S_TWO, 0, 0, 0x3fb504f3, 0x3fb504f3, 0x3fb504f3, 0x3fb504f4, 0x3fb504f3, NX),
    VA(32, SQRT, 0x40800000, 0, 0, S_TWO, 0),
    VA(32, SQRT, 0x41100000, 0, 0, 0x40400000, 0), /* sqrt(9) */
    /* sqrt(s) = 2^-74.5 = sqrt(2) * 2^-75: normal, inexact, no UF. */
    V5(32, SQRT, S_SUB, 0, 0, 0x1a3504f3, 0x1a3504f3, 0x1a3504f3, 0x1a3504f4, 0x1a3504f3, NX),
    VA(32, SQRT, 0x00000002, 0, 0, 0x1a800000, 0), /* sqrt(2^-148) = 2^-74 */
    VA(32, SQRT, S_NZERO, 0, 0, S_NZERO, 0),
    VA(32, SQRT, 0, 0, 0, 0, 0),
    VA(32, SQRT, S_NEG(S_ONE), 0, 0, S_QNAN, NV),
    VA(32, SQRT, S_NEG(S_SUB), 0, 0, S_QNAN, NV),
    VA(32, SQRT, S_NINF, 0, 0, S_QNAN, NV),
    VA(32, SQRT, S_INF, 0, 0, S_INF, 0),
    VA(32, SQRT, S_SNAN, 0, 0, S_QNAN, NV),
    VA(32, SQRT, S_NQNAN, 0, 0, S_QNAN, 0),

    /* ---- f32 fma (a*b+c) ---- */
    /* (1+u)(1-u) - 1 = -u^2 = -2^-46, exact; a separate multiply would give 0. */
    VA(32, FMA, 0x3f800001, 0x3f7ffffe, S_NEG(S_ONE), 0xa8800000, 0),
    /* 2M - M = M exactly: the intermediate product does not overflow. */
    VA(32, FMA, S_MAX, S_TWO, S_NEG(S_MAX), S_MAX, 0),
    V5(32, FMA, S_ONE, S_ONE, 0x33800000, S_ONE, S_ONE, S_ONE, 0x3f800001, 0x3f800001, NX),
    /* 1.5*(1+3u) + 0: the mul tie through fma. */
    V5(32, FMA, S_1P5, 0x3f800003, 0, 0x3fc00004, 0x3fc00004, 0x3fc00004, 0x3fc00005, 0x3fc00005,
       NX),
    /* 1*1 - 2^-68: just below 1. */
    V5(32, FMA, S_ONE, S_ONE, 0x9d800000, S_ONE, 0x3f7fffff, 0x3f7fffff, S_ONE, S_ONE, NX),
    /* The product is exact in fma, so (1+u)^2 - (1+2u) = u^2 = 2^-46 exactly. */
    VA(32, FMA, 0x3f800001, 0x3f800001, 0xbf800002, 0x28800000, 0),
    V5(32, FMA, S_MIN, 0x3f7fffff, 0, S_MIN, 0x007fffff, 0x007fffff, S_MIN, S_MIN, UF | NX),
    V5(32, FMA, S_MAX, S_TWO, S_MAX, S_INF, S_MAX, S_MAX, S_INF, S_INF, OF | NX),
    /* Signed zeros: -0 + +0 is +0 (RDN: -0); -0 + -0 is -0. */
    V5(32, FMA, 0, S_NEG(S_ONE), 0, 0, 0, S_NZERO, 0, 0, 0),
    VA(32, FMA, S_NZERO, S_ONE, S_NZERO, S_NZERO, 0),
    V5(32, FMA, S_ONE, S_ONE, S_NEG(S_ONE), 0, 0, S_NZERO, 0, 0, 0),
    VA(32, FMA, 0, S_ONE, S_NEG(S_SUB), S_NEG(S_SUB), 0),
    /* inf*0 is invalid, also when c is a quiet NaN (RISC-V's choice). */
    VA(32, FMA, S_INF, 0, S_QNAN, S_QNAN, NV),
    VA(32, FMA, S_NZERO, S_NINF, S_QNANP, S_QNAN, NV),
    VA(32, FMA, S_INF, 0, S_ONE, S_QNAN, NV),
    VA(32, FMA, S_ONE, S_ONE, S_QNANP, S_QNAN, 0),
    VA(32, FMA, S_QNAN, S_ONE, S_ONE, S_QNAN, 0),
    VA(32, FMA, S_ONE, S_ONE, S_SNAN, S_QNAN, NV),
    VA(32, FMA, S_INF, S_ONE, S_NINF, S_QNAN, NV),
    VA(32, FMA, S_INF, S_ONE, S_INF, S_INF, 0),
    VA(32, FMA, S_ONE, S_ONE, S_NINF, S_NINF, 0),

    /* ---- f32 min/max ---- */
    VA(32, MIN, S_ONE, S_TWO, 0, S_ONE, 0),
    VA(32, MAX, S_ONE, S_TWO, 0, S_TWO, 0),
    VA(32, MIN, S_NEG(S_ONE), S_NEG(S_TWO), 0, S_NEG(S_TWO), 0),
    VA(32, MAX, S_NEG(S_ONE), S_NEG(S_TWO), 0, S_NEG(S_ONE), 0),
    VA(32, MIN, S_NZERO, 0, 0, S_NZERO, 0), /* -0 < +0 */
    VA(32, MIN, 0, S_NZERO, 0, S_NZERO, 0),
    VA(32, MAX, S_NZERO, 0, 0, 0, 0),
    VA(32, MAX, 0, S_NZERO, 0, 0, 0),
    VA(32, MIN, S_QNAN, S_ONE, 0, S_ONE, 0), /* one NaN: the other operand */
    VA(32, MAX, S_ONE, S_NQNAN, 0, S_ONE, 0),
    VA(32, MIN, S_SNAN, S_ONE, 0, S_ONE, NV),
    VA(32, MAX, S_NEG(S_ONE), S_SNAN, 0, S_NEG(S_ONE), NV),
    VA(32, MIN, S_QNANP, S_QNANP, 0, S_QNAN, 0), /* both NaN: canonical */
    VA(32, MAX, S_SNAN, S_QNANP, 0, S_QNAN, NV),
    VA(32, MIN, S_NINF, S_MAX, 0, S_NINF, 0),
    VA(32, MAX, S_INF, S_MAX, 0, S_INF, 0),
    VA(32, MIN, S_SUB, S_NEG(S_SUB), 0, S_NEG(S_SUB), 0),

    /* ---- f32 compare (results 0/1) ---- */
    VA(32, EQ, S_ONE, S_ONE, 0, 1, 0),
    VA(32, EQ, 0, S_NZERO, 0, 1, 0),
    VA(32, EQ, S_ONE, S_TWO, 0, 0, 0),
    VA(32, EQ, S_QNAN, S_QNAN, 0, 0, 0), /* feq is quiet */
    VA(32, EQ, S_ONE, S_QNANP, 0, 0, 0),
    VA(32, EQ, S_SNAN, S_ONE, 0, 0, NV),
    VA(32, LT, S_ONE, S_TWO, 0, 1, 0),
    VA(32, LT, S_TWO, S_ONE, 0, 0, 0),
    VA(32, LT, S_NZERO, 0, 0, 0, 0),
    VA(32, LT, S_NINF, S_INF, 0, 1, 0),
    VA(32, LT, S_NEG(S_ONE), S_NEG(S_SUB), 0, 1, 0),
    VA(32, LT, S_NEG(S_SUB), S_NEG(S_ONE), 0, 0, 0),
    VA(32, LT, S_QNAN, S_ONE, 0, 0, NV), /* flt signals on quiet NaNs */
    VA(32, LT, S_ONE, S_SNAN, 0, 0, NV),
    VA(32, LE, S_NZERO, 0, 0, 1, 0),
    VA(32, LE, S_ONE, S_ONE, 0, 1, 0),
    VA(32, LE, S_NEG(S_TWO), S_NEG(S_ONE), 0, 1, 0),
    VA(32, LE, S_TWO, S_ONE, 0, 0, 0),
    VA(32, LE, S_ONE, S_QNAN, 0, 0, NV),
    VA(32, LE, S_INF, S_INF, 0, 1, 0),

    /* ---- f32 classify: all ten classes ---- */
    VA(32, CLASS, S_NINF, 0, 0, 1 << 0, 0),
    VA(32, CLASS, S_NEG(S_ONE), 0, 0, 1 << 1, 0),
    VA(32, CLASS, S_NEG(S_MIN), 0, 0, 1 << 1, 0),
    VA(32, CLASS, S_NEG(0x007fffff), 0, 0, 1 << 2, 0),
    VA(32, CLASS, S_NEG(S_SUB), 0, 0, 1 << 2, 0),
    VA(32, CLASS, S_NZERO, 0, 0, 1 << 3, 0),
    VA(32, CLASS, 0, 0, 0, 1 << 4, 0),
    VA(32, CLASS, S_SUB, 0, 0, 1 << 5, 0),
    VA(32, CLASS, 0x007fffff, 0, 0, 1 << 5, 0),
    VA(32, CLASS, S_MIN, 0, 0, 1 << 6, 0),
    VA(32, CLASS, S_MAX, 0, 0, 1 << 6, 0),
    VA(32, CLASS, S_INF, 0, 0, 1 << 7, 0),
    VA(32, CLASS, S_SNAN, 0, 0, 1 << 8, 0),
    VA(32, CLASS, 0xffbfffff, 0, 0, 1 << 8, 0),
    VA(32, CLASS, S_QNAN, 0, 0, 1 << 9, 0),
    VA(32, CLASS, 0xffc00001, 0, 0, 1 << 9, 0),

    /* ---- f32 -> integer ---- */
    VA(32, TOI32, S_QNAN, 0, 0, 0x7fffffff, NV), /* NaN -> largest positive */
    VA(32, TOI32, S_NQNAN, 0, 0, 0x7fffffff, NV),
    VA(32, TOI32, S_SNAN, 0, 0, 0x7fffffff, NV),
    VA(32, TOI32, S_INF, 0, 0, 0x7fffffff, NV),
    VA(32, TOI32, S_NINF, 0, 0, SX32(0x80000000), NV),
    VA(32, TOI32, 0x4f000000, 0, 0, 0x7fffffff, NV),	   /* 2^31 */
    VA(32, TOI32, 0xcf000000, 0, 0, SX32(0x80000000), 0),  /* -2^31 fits */
    VA(32, TOI32, 0xcf000001, 0, 0, SX32(0x80000000), NV), /* -2^31-256 */
    VA(32, TOI32, 0x4effffff, 0, 0, 0x7fffff80, 0),	   /* 2^31-128 */
    VA(32, TOI32, 0x5f000000, 0, 0, 0x7fffffff, NV),	   /* 2^63 */
    VA(32, TOI32, S_NZERO, 0, 0, 0, 0),
    V5(32, TOI32, S_1P5, 0, 0, 2, 1, 1, 2, 2, NX),
    V5(32, TOI32, 0x40200000, 0, 0, 2, 2, 2, 3, 3, NX), /* 2.5: RNE to even, RMM away */
    V5(32, TOI32, 0xc0200000, 0, 0, SX32(-2), SX32(-2), SX32(-3), SX32(-2), SX32(-3), NX),
    V5(32, TOI32, 0xbf000000, 0, 0, 0, 0, SX32(-1), 0, SX32(-1), NX), /* -0.5 */
    V5(32, TOI32, 0x3f666666, 0, 0, 1, 0, 0, 1, 1, NX),		      /* 0.9 */
    V5(32, TOI32, S_SUB, 0, 0, 0, 0, 0, 1, 0, NX),
    VA(32, TOU32, S_QNAN, 0, 0, SX32(0xffffffff), NV),
    VA(32, TOU32, S_INF, 0, 0, SX32(0xffffffff), NV),
    VA(32, TOU32, S_NINF, 0, 0, 0, NV),
    VA(32, TOU32, S_NEG(S_ONE), 0, 0, 0, NV),		   /* -1: NV only, no NX */
    VA(32, TOU32, 0x4f800000, 0, 0, SX32(0xffffffff), NV), /* 2^32 */
    VA(32, TOU32, 0x4f7fffff, 0, 0, SX32(0xffffff00), 0),  /* 2^32-256, sign-extended */
    VA(32, TOU32, 0x4f000000, 0, 0, SX32(0x80000000), 0),  /* 2^31 */
    VA(32, TOU32, S_NZERO, 0, 0, 0, 0),
    /* -0.9: RTZ and RUP give 0 (NX only); RNE, RDN and RMM give -1: NV only. */
    V(32, TOU32, TZ, 0xbf666666, 0, 0, 0, NX),
    V(32, TOU32, UP, 0xbf666666, 0, 0, 0, NX),
    V(32, TOU32, NE, 0xbf666666, 0, 0, 0, NV),
    V(32, TOU32, DN, 0xbf666666, 0, 0, 0, NV),
    V(32, TOU32, MM, 0xbf666666, 0, 0, 0, NV),
    /* -0.5: RNE rounds to -0 = 0 (NX); RMM to -1 (NV). */
    V(32, TOU32, NE, 0xbf000000, 0, 0, 0, NX),
    V(32, TOU32, MM, 0xbf000000, 0, 0, 0, NV),
    V5(32, TOU32, 0x40700000, 0, 0, 4, 3, 3, 4, 4, NX),	     /* 3.75 */
    VA(32, TOI64, 0x5f000000, 0, 0, 0x7fffffffffffffff, NV), /* 2^63 */
    VA(32, TOI64, 0xdf000000, 0, 0, 0x8000000000000000, 0),  /* -2^63 */
    VA(32, TOI64, 0xdf000001, 0, 0, 0x8000000000000000, NV), /* below -2^63 */
    VA(32, TOI64, 0x5effffff, 0, 0, 0x7fffff8000000000, 0),  /* 2^63-2^39 */
    VA(32, TOI64, S_QNAN, 0, 0, 0x7fffffffffffffff, NV),
    VA(32, TOI64, S_NINF, 0, 0, 0x8000000000000000, NV),
    VA(32, TOI64, S_MAX, 0, 0, 0x7fffffffffffffff, NV),
    V5(32, TOI64, 0xc0200000, 0, 0, -2ull, -2ull, -3ull, -2ull, -3ull, NX),
    VA(32, TOU64, 0x5f800000, 0, 0, 0xffffffffffffffff, NV), /* 2^64 */
    VA(32, TOU64, 0x5f000000, 0, 0, 0x8000000000000000, 0),  /* 2^63 */
    VA(32, TOU64, 0x5f7fffff, 0, 0, 0xffffff0000000000, 0),  /* 2^64-2^40 */
    VA(32, TOU64, S_NEG(S_ONE), 0, 0, 0, NV),
    VA(32, TOU64, S_NINF, 0, 0, 0, NV),
    VA(32, TOU64, S_SNAN, 0, 0, 0xffffffffffffffff, NV),
    V(32, TOU64, TZ, 0xbf666666, 0, 0, 0, NX),
    V(32, TOU64, NE, 0xbf666666, 0, 0, 0, NV),
    V5(32, TOU64, 0x40200000, 0, 0, 2, 2, 2, 3, 3, NX),

    /* ---- integer -> f32 ---- */
    /* 2^24+1: tie between 2^24 (even) and 2^24+2. */
    V5(32, FROMI32, 16777217, 0, 0, 0x4b800000, 0x4b800000, 0x4b800000, 0x4b800001, 0x4b800001, NX),
    /* 2^24+3: tie between 2^24+2 (odd) and 2^24+4. */
    V5(32, FROMI32, 16777219, 0, 0, 0x4b800002, 0x4b800001, 0x4b800001, 0x4b800002, 0x4b800002, NX),
    V5(32, FROMI32, (uint64_t)-16777217, 0, 0, 0xcb800000, 0xcb800000, 0xcb800001, 0xcb800000,
       0xcb800001, NX),
    VA(32, FROMI32, (uint64_t)INT32_MIN, 0, 0, 0xcf000000, 0),
    V5(32, FROMI32, INT32_MAX, 0, 0, 0x4f000000, 0x4effffff, 0x4effffff, 0x4f000000, 0x4f000000,
       NX),
    VA(32, FROMI32, 0, 0, 0, 0, 0), /* +0, never -0 */
    VA(32, FROMI32, (uint64_t)-3, 0, 0, 0xc0400000, 0),
    V5(32, FROMU32, 0xffffffff, 0, 0, 0x4f800000, 0x4f7fffff, 0x4f7fffff, 0x4f800000, 0x4f800000,
       NX),
    /* 2^31+128: half of the 256 spacing above 2^31. */
    V5(32, FROMU32, 0x80000080, 0, 0, 0x4f000000, 0x4f000000, 0x4f000000, 0x4f000001, 0x4f000001,
       NX),
    VA(32, FROMI64, (uint64_t)INT64_MIN, 0, 0, 0xdf000000, 0),
    V5(32, FROMI64, INT64_MAX, 0, 0, 0x5f000000, 0x5effffff, 0x5effffff, 0x5f000000, 0x5f000000,
       NX),
    /* -(2^62+2^38): tie (spacing 2^39) between -2^62 (even) and -(2^62+2^39). */
    V5(32, FROMI64, (uint64_t) - (int64_t)0x4000004000000000, 0, 0, 0xde800000, 0xde800000,
       0xde800001, 0xde800000, 0xde800001, NX),
    V5(32, FROMU64, UINT64_MAX, 0, 0, 0x5f800000, 0x5f7fffff, 0x5f7fffff, 0x5f800000, 0x5f800000,
       NX),
    /* 2^63+2^39: a tie (spacing 2^40); 2^63+2^39+1 lies above it. */
    V5(32, FROMU64, 0x8000008000000000, 0, 0, 0x5f000000, 0x5f000000, 0x5f000000, 0x5f000001,
       0x5f000001, NX),
    V5(32, FROMU64, 0x8000008000000001, 0, 0, 0x5f000001, 0x5f000000, 0x5f000000, 0x5f000001,
       0x5f000001, NX),
    VA(32, FROMU64, 0x8000000000000000, 0, 0, 0x5f000000, 0),

    /* ---- f32 -> f64 (exact) ---- */
    VA(32, CVT, S_1P5, 0, 0, D_1P5, 0),
    VA(32, CVT, S_SUB, 0, 0, 0x36a0000000000000, 0), /* 2^-149 */
    VA(32, CVT, S_MAX, 0, 0, 0x47efffffe0000000, 0),
    VA(32, CVT, S_NZERO, 0, 0, D_NZERO, 0),
    VA(32, CVT, S_NINF, 0, 0, D_NINF, 0),
    VA(32, CVT, S_SNAN, 0, 0, D_QNAN, NV),
    VA(32, CVT, S_QNANP, 0, 0, D_QNAN, 0),
    VA(32, CVT, S_NQNAN, 0, 0, D_QNAN, 0),

    /* ---- f64 add/sub ---- */
    V5(64, ADD, D_ONE, 0x3ca0000000000000, 0, D_ONE, D_ONE, D_ONE, 0x3ff0000000000001,
       0x3ff0000000000001, NX), /* 1 + 2^-53: tie */
    V5(64, ADD, 0x3ff0000000000001, 0x3ca0000000000000, 0, 0x3ff0000000000002, 0x3ff0000000000001,
       0x3ff0000000000001, 0x3ff0000000000002, 0x3ff0000000000002, NX),
    V5(64, SUB, D_NEG(D_ONE), 0x3ca0000000000000, 0, D_NEG(D_ONE), D_NEG(D_ONE), 0xbff0000000000001,
       D_NEG(D_ONE), 0xbff0000000000001, NX),
    /* 1 + 2^-1074: a sticky bit far below; RUP moves. */
    V5(64, ADD, D_ONE, D_SUB, 0, D_ONE, D_ONE, D_ONE, 0x3ff0000000000001, D_ONE, NX),
    V5(64, SUB, D_ONE, D_SUB, 0, D_ONE, 0x3fefffffffffffff, 0x3fefffffffffffff, D_ONE, D_ONE, NX),
    V5(64, SUB, D_TWO, D_TWO, 0, 0, 0, D_NZERO, 0, 0, 0),
    V5(64, ADD, D_NZERO, 0, 0, 0, 0, D_NZERO, 0, 0, 0),
    VA(64, ADD, D_NZERO, D_NZERO, 0, D_NZERO, 0),
    VA(64, SUB, D_MIN, D_SUB, 0, 0x000fffffffffffff, 0),
    V5(64, ADD, D_MAX, D_MAX, 0, D_INF, D_MAX, D_MAX, D_INF, D_INF, OF | NX),
    V5(64, SUB, D_NEG(D_MAX), D_MAX, 0, D_NINF, D_NEG(D_MAX), D_NINF, D_NEG(D_MAX), D_NINF,
       OF | NX),
    /* M + u(M)/2 = M + 2^970: tie with 2^1024. */
    V(64, ADD, NE, D_MAX, 0x7c90000000000000, 0, D_INF, OF | NX),
    V(64, ADD, MM, D_MAX, 0x7c90000000000000, 0, D_INF, OF | NX),
    V(64, ADD, TZ, D_MAX, 0x7c90000000000000, 0, D_MAX, NX),
    V(64, ADD, DN, D_MAX, 0x7c90000000000000, 0, D_MAX, NX),
    V(64, ADD, UP, D_MAX, 0x7c90000000000000, 0, D_INF, OF | NX),
    VA(64, ADD, D_INF, D_NINF, 0, D_QNAN, NV),
    VA(64, ADD, D_SNAN, D_ONE, 0, D_QNAN, NV),
    VA(64, ADD, D_QNANP, D_ONE, 0, D_QNAN, 0),
    VA(64, SUB, D_ONE, D_NQNAN, 0, D_QNAN, 0),
    VA(64, SUB, D_NINF, D_INF, 0, D_NINF, 0),

    /* ---- f64 mul ---- */
    /* 1.5 * (1+3u) = 1.5 + 4u + u/2: tie. */
    V5(64, MUL, D_1P5, 0x3ff0000000000003, 0, 0x3ff8000000000004, 0x3ff8000000000004,
       0x3ff8000000000004, 0x3ff8000000000005, 0x3ff8000000000005, NX),
    V5(64, MUL, D_1P5, D_NEG(0x3ff0000000000003), 0, 0xbff8000000000004, 0xbff8000000000004,
       0xbff8000000000005, 0xbff8000000000004, 0xbff8000000000005, NX),
    /* m(1-2^-53): tiny with unbounded exponent, subnormal midpoint: UF|NX. */
    V5(64, MUL, D_MIN, 0x3fefffffffffffff, 0, D_MIN, 0x000fffffffffffff, 0x000fffffffffffff, D_MIN,
       D_MIN, UF | NX),
    V5(64, MUL, 0x0000000000000005, D_HALF, 0, 2, 2, 2, 3, 3, UF | NX),
    VA(64, MUL, D_MIN, D_HALF, 0, 0x0008000000000000, 0),
    V5(64, MUL, 0x7fe0000000000000, D_TWO, 0, D_INF, D_MAX, D_MAX, D_INF, D_INF, OF | NX),
    V5(64, MUL, D_SUB, D_SUB, 0, 0, 0, 0, D_SUB, 0, UF | NX),
    V5(64, MUL, D_NEG(D_SUB), D_SUB, 0, D_NZERO, D_NZERO, D_NEG(D_SUB), D_NZERO, D_NZERO, UF | NX),
    VA(64, MUL, D_INF, 0, 0, D_QNAN, NV),
    VA(64, MUL, D_NINF, D_NINF, 0, D_INF, 0),
    VA(64, MUL, D_SNAN, D_INF, 0, D_QNAN, NV),

    /* ---- f64 div ---- */
    /* 1/3 = 0x3fd5555555555555 + (1/3)u: rounds down to nearest. */
    V5(64, DIV, D_ONE, 0x4008000000000000, 0, 0x3fd5555555555555, 0x3fd5555555555555,
       0x3fd5555555555555, 0x3fd5555555555556, 0x3fd5555555555555, NX),
    /* -2/3 = -(0x3fe5555555555555 + u/3): RDN moves away from zero. */
    V5(64, DIV, D_TWO, D_NEG(0x4008000000000000), 0, 0xbfe5555555555555, 0xbfe5555555555555,
       0xbfe5555555555556, 0xbfe5555555555555, 0xbfe5555555555555, NX),
    V5(64, DIV, 0x0000000000000005, D_TWO, 0, 2, 2, 2, 3, 3, UF | NX),
    /* m/3 = s * 2^52/3 = s * 1501199875790165.33 */
    V5(64, DIV, D_MIN, 0x4008000000000000, 0, 0x0005555555555555, 0x0005555555555555,
       0x0005555555555555, 0x0005555555555556, 0x0005555555555555, UF | NX),
    V5(64, DIV, D_MAX, D_HALF, 0, D_INF, D_MAX, D_MAX, D_INF, D_INF, OF | NX),
    VA(64, DIV, D_NEG(D_ONE), 0, 0, D_NINF, DZ),
    VA(64, DIV, D_NZERO, 0, 0, D_QNAN, NV),
    VA(64, DIV, D_NINF, D_INF, 0, D_QNAN, NV),
    VA(64, DIV, D_NINF, 0, 0, D_NINF, 0),
    VA(64, DIV, D_ONE, D_INF, 0, 0, 0),
    VA(64, DIV, D_QNANP, 0, 0, D_QNAN, 0),

    /* ---- f64 sqrt ---- */
    /* sqrt(2) = 0x1.6a09e667f3bcc908b2fb..p0: the dropped part 0x908.. > half. */
    V5(64, SQRT, D_TWO, 0, 0, 0x3ff6a09e667f3bcd, 0x3ff6a09e667f3bcc, 0x3ff6a09e667f3bcc,
       0x3ff6a09e667f3bcd, 0x3ff6a09e667f3bcd, NX),
    VA(64, SQRT, D_SUB, 0, 0, 0x1e60000000000000, 0), /* sqrt(2^-1074) = 2^-537 exactly */
    VA(64, SQRT, 0x4022000000000000, 0, 0, 0x4008000000000000, 0), /* sqrt(9) = 3 */
    VA(64, SQRT, D_NZERO, 0, 0, D_NZERO, 0),
    VA(64, SQRT, D_NEG(D_SUB), 0, 0, D_QNAN, NV),
    VA(64, SQRT, D_NINF, 0, 0, D_QNAN, NV),
    VA(64, SQRT, D_INF, 0, 0, D_INF, 0),
    VA(64, SQRT, D_SNAN, 0, 0, D_QNAN, NV),
    VA(64, SQRT, D_QNANP, 0, 0, D_QNAN, 0),

    /* ---- f64 fma ---- */
    /* (1+u)(1-u) - 1 = -2^-104 exactly. */
    VA(64, FMA, 0x3ff0000000000001, 0x3feffffffffffffe, D_NEG(D_ONE), 0xb970000000000000, 0),
    VA(64, FMA, D_MAX, D_TWO, D_NEG(D_MAX), D_MAX, 0),
    V5(64, FMA, D_ONE, D_ONE, 0x3ca0000000000000, D_ONE, D_ONE, D_ONE, 0x3ff0000000000001,
       0x3ff0000000000001, NX),
    V5(64, FMA, D_ONE, D_ONE, 0xb9b0000000000000, D_ONE, 0x3fefffffffffffff, 0x3fefffffffffffff,
       D_ONE, D_ONE, NX), /* 1 - 2^-100 */
    V5(64, FMA, D_1P5, 0x3ff0000000000003, D_NZERO, 0x3ff8000000000004, 0x3ff8000000000004,
       0x3ff8000000000004, 0x3ff8000000000005, 0x3ff8000000000005, NX),
    V5(64, FMA, D_MIN, 0x3fefffffffffffff, 0, D_MIN, 0x000fffffffffffff, 0x000fffffffffffff, D_MIN,
       D_MIN, UF | NX),
    /* 2^-1000 * 2^-60 - 2^-1073: 2^-1060 - 2^-1073 is a subnormal, exact: no UF. */
    VA(64, FMA, 0x0170000000000000, 0x3c30000000000000, D_NEG(0x0000000000000002),
       0x0000000000003ffe, 0),
    V5(64, FMA, D_ONE, D_NEG(D_ONE), D_ONE, 0, 0, D_NZERO, 0, 0, 0),
    VA(64, FMA, D_NZERO, D_ONE, D_NZERO, D_NZERO, 0),
    VA(64, FMA, D_INF, 0, D_QNAN, D_QNAN, NV),
    VA(64, FMA, 0, D_NINF, D_QNANP, D_QNAN, NV),
    VA(64, FMA, D_ONE, D_QNANP, D_ONE, D_QNAN, 0),
    VA(64, FMA, D_ONE, D_ONE, D_SNAN, D_QNAN, NV),
    VA(64, FMA, D_NINF, D_ONE, D_INF, D_QNAN, NV),
    V5(64, FMA, D_MAX, D_MAX, D_NEG(D_MAX), D_INF, D_MAX, D_MAX, D_INF, D_INF, OF | NX),

    /* ---- f64 min/max, compare, classify ---- */
    VA(64, MIN, D_NZERO, 0, 0, D_NZERO, 0),
    VA(64, MAX, D_NZERO, 0, 0, 0, 0),
    VA(64, MAX, 0, D_NZERO, 0, 0, 0),
    VA(64, MIN, D_QNAN, D_NEG(D_ONE), 0, D_NEG(D_ONE), 0),
    VA(64, MIN, D_SNAN, D_ONE, 0, D_ONE, NV),
    VA(64, MAX, D_QNANP, D_NQNAN, 0, D_QNAN, 0),
    VA(64, MAX, D_ONE, D_TWO, 0, D_TWO, 0),
    VA(64, MIN, D_NINF, D_NEG(D_MAX), 0, D_NINF, 0),
    VA(64, EQ, 0, D_NZERO, 0, 1, 0),
    VA(64, EQ, D_QNAN, D_QNAN, 0, 0, 0),
    VA(64, EQ, D_SNAN, D_SNAN, 0, 0, NV),
    VA(64, LT, D_NZERO, 0, 0, 0, 0),
    VA(64, LT, D_NEG(D_TWO), D_NEG(D_ONE), 0, 1, 0),
    VA(64, LT, D_QNAN, D_ONE, 0, 0, NV),
    VA(64, LE, D_ONE, D_ONE, 0, 1, 0),
    VA(64, LE, D_ONE, D_QNANP, 0, 0, NV),
    VA(64, LE, D_SUB, 0, 0, 0, 0),
    VA(64, CLASS, D_NINF, 0, 0, 1 << 0, 0),
    VA(64, CLASS, D_NEG(D_MAX), 0, 0, 1 << 1, 0),
    VA(64, CLASS, D_NEG(0x000fffffffffffff), 0, 0, 1 << 2, 0),
    VA(64, CLASS, D_NZERO, 0, 0, 1 << 3, 0),
    VA(64, CLASS, 0, 0, 0, 1 << 4, 0),
    VA(64, CLASS, D_SUB, 0, 0, 1 << 5, 0),
    VA(64, CLASS, D_MIN, 0, 0, 1 << 6, 0),
    VA(64, CLASS, D_INF, 0, 0, 1 << 7, 0),
    VA(64, CLASS, D_SNAN, 0, 0, 1 << 8, 0),
    VA(64, CLASS, 0x7ff7ffffffffffff, 0, 0, 1 << 8, 0),
    VA(64, CLASS, D_QNAN, 0, 0, 1 << 9, 0),
    VA(64, CLASS, D_NQNAN, 0, 0, 1 << 9, 0),

    /* ---- f64 -> integer ---- */
    VA(64, TOI32, 0x41e0000000000000, 0, 0, 0x7fffffff, NV),	   /* 2^31 */
    VA(64, TOI32, 0x41dfffffffc00000, 0, 0, 0x7fffffff, 0),	   /* 2^31-1 */
    VA(64, TOI32, 0xc1e0000000000000, 0, 0, SX32(0x80000000), 0),  /* -2^31 */
    VA(64, TOI32, 0xc1e0000000200000, 0, 0, SX32(0x80000000), NV), /* -2^31-1 */
    /* 2^31-0.5 rounds to 2^31 (RNE, RMM, RUP): out of range, NV only. */
    V(64, TOI32, NE, 0x41dfffffffe00000, 0, 0, 0x7fffffff, NV),
    V(64, TOI32, MM, 0x41dfffffffe00000, 0, 0, 0x7fffffff, NV),
    V(64, TOI32, UP, 0x41dfffffffe00000, 0, 0, 0x7fffffff, NV),
    V(64, TOI32, TZ, 0x41dfffffffe00000, 0, 0, 0x7fffffff, NX),
    V(64, TOI32, DN, 0x41dfffffffe00000, 0, 0, 0x7fffffff, NX),
    /* -2^31-0.5: RNE gives -2^31 (even), RMM and RDN -2^31-1 (NV). */
    V(64, TOI32, NE, 0xc1e0000000100000, 0, 0, SX32(0x80000000), NX),
    V(64, TOI32, TZ, 0xc1e0000000100000, 0, 0, SX32(0x80000000), NX),
    V(64, TOI32, UP, 0xc1e0000000100000, 0, 0, SX32(0x80000000), NX),
    V(64, TOI32, MM, 0xc1e0000000100000, 0, 0, SX32(0x80000000), NV),
    V(64, TOI32, DN, 0xc1e0000000100000, 0, 0, SX32(0x80000000), NV),
    VA(64, TOI32, D_QNAN, 0, 0, 0x7fffffff, NV),
    VA(64, TOI32, D_NINF, 0, 0, SX32(0x80000000), NV),
    VA(64, TOI32, 0x7fe0000000000000, 0, 0, 0x7fffffff, NV),
    V5(64, TOI32, 0x4004000000000000, 0, 0, 2, 2, 2, 3, 3, NX),	 /* 2.5 */
    V5(64, TOI32, 0x400c000000000000, 0, 0, 4, 3, 3, 4, 4, NX),	 /* 3.5 */
    V5(64, TOI32, D_NEG(D_SUB), 0, 0, 0, 0, SX32(-1), 0, 0, NX), /* -2^-1074 */
    /* 2^32-0.5: RNE to 2^32 (NV, saturate), RTZ to 2^32-1 (NX). */
    V(64, TOU32, NE, 0x41effffffff00000, 0, 0, SX32(0xffffffff), NV),
    V(64, TOU32, TZ, 0x41effffffff00000, 0, 0, SX32(0xffffffff), NX),
    VA(64, TOU32, 0x41efffffffe00000, 0, 0, SX32(0xffffffff), 0),  /* 2^32-1 */
    VA(64, TOU32, 0x41f0000000000000, 0, 0, SX32(0xffffffff), NV), /* 2^32 */
    VA(64, TOU32, D_NEG(D_ONE), 0, 0, 0, NV),
    VA(64, TOU32, D_QNAN, 0, 0, SX32(0xffffffff), NV),
    V(64, TOU32, TZ, 0xbfeccccccccccccd, 0, 0, 0, NX), /* -0.9 */
    V(64, TOU32, NE, 0xbfeccccccccccccd, 0, 0, 0, NV),
    VA(64, TOI64, 0x43e0000000000000, 0, 0, 0x7fffffffffffffff, NV), /* 2^63 */
    VA(64, TOI64, 0xc3e0000000000000, 0, 0, 0x8000000000000000, 0),  /* -2^63 */
    VA(64, TOI64, 0xc3e0000000000001, 0, 0, 0x8000000000000000, NV), /* -2^63-2048 */
    VA(64, TOI64, 0x43dfffffffffffff, 0, 0, 0x7ffffffffffffc00, 0),  /* 2^63-1024 */
    VA(64, TOI64, D_QNAN, 0, 0, 0x7fffffffffffffff, NV),
    VA(64, TOI64, D_INF, 0, 0, 0x7fffffffffffffff, NV),
    V5(64, TOI64, D_NEG(0x4004000000000000), 0, 0, -2ull, -2ull, -3ull, -2ull, -3ull, NX),
    VA(64, TOU64, 0x43f0000000000000, 0, 0, 0xffffffffffffffff, NV), /* 2^64 */
    VA(64, TOU64, 0x43efffffffffffff, 0, 0, 0xfffffffffffff800, 0),  /* 2^64-2048 */
    VA(64, TOU64, 0x43e0000000000000, 0, 0, 0x8000000000000000, 0),  /* 2^63 */
    VA(64, TOU64, D_NEG(D_ONE), 0, 0, 0, NV),
    VA(64, TOU64, D_NEG(0x43e0000000000000), 0, 0, 0, NV),
    VA(64, TOU64, D_SNAN, 0, 0, 0xffffffffffffffff, NV),
    VA(64, TOU64, D_NINF, 0, 0, 0, NV),
    V5(64, TOU64, D_HALF, 0, 0, 0, 0, 0, 1, 1, NX),
    V5(64, TOU64, D_1P5, 0, 0, 2, 1, 1, 2, 2, NX),
    /* -2^-1074: rounds to -0 = 0 (NX), except RDN: -1, NV. */
    V(64, TOU64, NE, D_NEG(D_SUB), 0, 0, 0, NX),
    V(64, TOU64, TZ, D_NEG(D_SUB), 0, 0, 0, NX),
    V(64, TOU64, UP, D_NEG(D_SUB), 0, 0, 0, NX),
    V(64, TOU64, MM, D_NEG(D_SUB), 0, 0, 0, NX),
    V(64, TOU64, DN, D_NEG(D_SUB), 0, 0, 0, NV),
    V(64, TOU64, TZ, 0xbfeccccccccccccd, 0, 0, 0, NX),

    /* ---- integer -> f64 ---- */
    V5(64, FROMI64, 0x20000000000001, 0, 0, 0x4340000000000000, 0x4340000000000000,
       0x4340000000000000, 0x4340000000000001, 0x4340000000000001, NX), /* 2^53+1 */
    V5(64, FROMI64, (uint64_t)-0x20000000000001, 0, 0, 0xc340000000000000, 0xc340000000000000,
       0xc340000000000001, 0xc340000000000000, 0xc340000000000001, NX),
    V5(64, FROMI64, INT64_MAX, 0, 0, 0x43e0000000000000, 0x43dfffffffffffff, 0x43dfffffffffffff,
       0x43e0000000000000, 0x43e0000000000000, NX),
    VA(64, FROMI64, (uint64_t)INT64_MIN, 0, 0, 0xc3e0000000000000, 0),
    VA(64, FROMI64, 0, 0, 0, 0, 0),
    V5(64, FROMU64, UINT64_MAX, 0, 0, 0x43f0000000000000, 0x43efffffffffffff, 0x43efffffffffffff,
       0x43f0000000000000, 0x43f0000000000000, NX),
    /* 2^63+1024: tie (spacing 2048); +1 is above it; 2^63+3072 ties to even upwards. */
    V5(64, FROMU64, 0x8000000000000400, 0, 0, 0x43e0000000000000, 0x43e0000000000000,
       0x43e0000000000000, 0x43e0000000000001, 0x43e0000000000001, NX),
    V5(64, FROMU64, 0x8000000000000401, 0, 0, 0x43e0000000000001, 0x43e0000000000000,
       0x43e0000000000000, 0x43e0000000000001, 0x43e0000000000001, NX),
    V5(64, FROMU64, 0x8000000000000c00, 0, 0, 0x43e0000000000002, 0x43e0000000000001,
       0x43e0000000000001, 0x43e0000000000002, 0x43e0000000000002, NX),
    VA(64, FROMU64, 0x20000000000001 - 1, 0, 0, 0x4340000000000000, 0),
    VA(64, FROMI32, (uint64_t)INT32_MIN, 0, 0, 0xc1e0000000000000, 0),
    VA(64, FROMI32, INT32_MAX, 0, 0, 0x41dfffffffc00000, 0),
    VA(64, FROMI32, 0, 0, 0, 0, 0),
    VA(64, FROMU32, 0xffffffff, 0, 0, 0x41efffffffe00000, 0),

    /* ---- f64 -> f32 ---- */
    V5(64, CVT, 0x3ff0000010000000, 0, 0, S_ONE, S_ONE, S_ONE, 0x3f800001, 0x3f800001,
       NX), /* 1 + 2^-24: tie */
    V5(64, CVT, 0x3ff0000030000000, 0, 0, 0x3f800002, 0x3f800001, 0x3f800001, 0x3f800002,
       0x3f800002, NX), /* 1 + 3*2^-24 */
    V5(64, CVT, 0xbff0000010000000, 0, 0, 0xbf800000, 0xbf800000, 0xbf800001, 0xbf800000,
       0xbf800001, NX),
    VA(64, CVT, D_1P5, 0, 0, S_1P5, 0),
    VA(64, CVT, 0x36a0000000000000, 0, 0, S_SUB, 0), /* 2^-149: exact, no UF */
    VA(64, CVT, D_NZERO, 0, 0, S_NZERO, 0),
    VA(64, CVT, D_NINF, 0, 0, S_NINF, 0),
    VA(64, CVT, D_SNAN, 0, 0, S_QNAN, NV),
    VA(64, CVT, D_QNANP, 0, 0, S_QNAN, 0),
    VA(64, CVT, D_NQNAN, 0, 0, S_QNAN, 0),
    /* M_f32 + u/2 = 2^128 - 2^103: tie with 2^128. */
    V(64, CVT, NE, 0x47effffff0000000, 0, 0, S_INF, OF | NX),
    V(64, CVT, MM, 0x47effffff0000000, 0, 0, S_INF, OF | NX),
    V(64, CVT, UP, 0x47effffff0000000, 0, 0, S_INF, OF | NX),
    V(64, CVT, TZ, 0x47effffff0000000, 0, 0, S_MAX, NX),
    V(64, CVT, DN, 0x47effffff0000000, 0, 0, S_MAX, NX),
    V5(64, CVT, 0x47f0000000000000, 0, 0, S_INF, S_MAX, S_MAX, S_INF, S_INF, OF | NX),
    V5(64, CVT, 0xc7f0000000000000, 0, 0, S_NINF, S_NEG(S_MAX), S_NINF, S_NEG(S_MAX), S_NINF,
       OF | NX),
    V5(64, CVT, D_MAX, 0, 0, S_INF, S_MAX, S_MAX, S_INF, S_INF, OF | NX),
    /* 2^-150 = s/2: tie between 0 and s. */
    V5(64, CVT, 0x3690000000000000, 0, 0, 0, 0, 0, S_SUB, S_SUB, UF | NX),
    V5(64, CVT, 0xb690000000000000, 0, 0, S_NZERO, S_NZERO, S_NEG(S_SUB), S_NZERO, S_NEG(S_SUB),
       UF | NX),
    V5(64, CVT, D_SUB, 0, 0, 0, 0, 0, S_SUB, 0, UF | NX),
    /* m(1-2^-25): not tiny after rounding for RNE/RUP/RMM (see the f32 mul case). */
    V(64, CVT, NE, 0x380ffffff0000000, 0, 0, S_MIN, NX),
    V(64, CVT, MM, 0x380ffffff0000000, 0, 0, S_MIN, NX),
    V(64, CVT, UP, 0x380ffffff0000000, 0, 0, S_MIN, NX),
    V(64, CVT, TZ, 0x380ffffff0000000, 0, 0, 0x007fffff, UF | NX),
    V(64, CVT, DN, 0x380ffffff0000000, 0, 0, 0x007fffff, UF | NX),
    /* m(1-2^-24): 24 bits, exactly below m: tiny; the subnormal midpoint. */
    V5(64, CVT, 0x380fffffe0000000, 0, 0, S_MIN, 0x007fffff, 0x007fffff, S_MIN, S_MIN, UF | NX),
    /* m(1-2^-25-2^-40): unbounded rounding gives m-2^-150 (tiny), yet the
     * subnormal result rounds up to m in RNE: UF|NX with a normal result. */
    V(64, CVT, NE, 0x380fffffefffe000, 0, 0, S_MIN, UF | NX),
    V(64, CVT, MM, 0x380fffffefffe000, 0, 0, S_MIN, UF | NX),
};

static uint64_t run(const struct fpu_impl *m, const struct vec *v, uint32_t *fl)
{
	int rm = v->rm;
	uint64_t a = v->a, b = v->b, c = v->c;

	if (v->w == 32) {
		uint32_t x = (uint32_t)a, y = (uint32_t)b, z = (uint32_t)c;
		switch (v->op) {
		case ADD:
			return m->add32(x, y, rm, fl);
		case SUB:
			return m->sub32(x, y, rm, fl);
		case MUL:
			return m->mul32(x, y, rm, fl);
		case DIV:
			return m->div32(x, y, rm, fl);
		case SQRT:
			return m->sqrt32(x, rm, fl);
		case FMA:
			return m->fma32(x, y, z, rm, fl);
		case MIN:
			return m->min32(x, y, fl);
		case MAX:
			return m->max32(x, y, fl);
		case EQ:
			return (uint64_t)m->eq32(x, y, fl);
		case LT:
			return (uint64_t)m->lt32(x, y, fl);
		case LE:
			return (uint64_t)m->le32(x, y, fl);
		case CLASS:
			return m->class32(x);
		case TOI32:
			return m->f32_i32(x, rm, fl);
		case TOU32:
			return m->f32_u32(x, rm, fl);
		case TOI64:
			return m->f32_i64(x, rm, fl);
		case TOU64:
			return m->f32_u64(x, rm, fl);
		case FROMI32:
			return m->i32_f32((int32_t)a, rm, fl);
		case FROMU32:
			return m->u32_f32((uint32_t)a, rm, fl);
		case FROMI64:
			return m->i64_f32((int64_t)a, rm, fl);
		case FROMU64:
			return m->u64_f32(a, rm, fl);
		case CVT:
			return m->f32_f64(x, fl);
		}
	} else {
		switch (v->op) {
		case ADD:
			return m->add64(a, b, rm, fl);
		case SUB:
			return m->sub64(a, b, rm, fl);
		case MUL:
			return m->mul64(a, b, rm, fl);
		case DIV:
			return m->div64(a, b, rm, fl);
		case SQRT:
			return m->sqrt64(a, rm, fl);
		case FMA:
			return m->fma64(a, b, c, rm, fl);
		case MIN:
			return m->min64(a, b, fl);
		case MAX:
			return m->max64(a, b, fl);
		case EQ:
			return (uint64_t)m->eq64(a, b, fl);
		case LT:
			return (uint64_t)m->lt64(a, b, fl);
		case LE:
			return (uint64_t)m->le64(a, b, fl);
		case CLASS:
			return m->class64(a);
		case TOI32:
			return m->f64_i32(a, rm, fl);
		case TOU32:
			return m->f64_u32(a, rm, fl);
		case TOI64:
			return m->f64_i64(a, rm, fl);
		case TOU64:
			return m->f64_u64(a, rm, fl);
		case FROMI32:
			return m->i32_f64((int32_t)a, rm, fl);
		case FROMU32:
			return m->u32_f64((uint32_t)a, rm, fl);
		case FROMI64:
			return m->i64_f64((int64_t)a, rm, fl);
		case FROMU64:
			return m->u64_f64(a, rm, fl);
		case CVT:
			return m->f64_f32(a, rm, fl);
		}
	}
	return 0xdeadbeef;
}

int test_vectors(void)
{
	static const struct fpu_impl *impls[] = {&fpu_hw, &fpu_soft, &fpu_nofma};
	/* Flags already set before the operation must stay, and not hide new ones. */
	static const uint32_t pre[] = {0, NX, NX | UF | OF | DZ | NV, NV | DZ};
	int bad = 0, n = 0;

	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		for (size_t k = 0; k < sizeof(impls) / sizeof(impls[0]); k++) {
			for (size_t p = 0; p < sizeof(pre) / sizeof(pre[0]); p++) {
				uint32_t fl = pre[p];
				uint64_t r = run(impls[k], v, &fl);
				n++;
				if (r != v->want || fl != (v->fl | pre[p])) {
					printf("FAIL line %d (%s, rm %d, pre %#x): got %#" PRIx64
					       " flags %#x, want %#" PRIx64 " flags %#x\n",
					       v->line, impls[k]->name, v->rm, pre[p], r, fl,
					       v->want, v->fl | pre[p]);
					bad++;
				}
				if (!mxcsr_is_default()) {
					printf("FAIL line %d (%s): MXCSR left at %#x\n", v->line,
					       impls[k]->name, mxcsr_read());
					bad++;
				}
			}
			/* Whatever the host left in MXCSR must not change the result. */
			uint32_t fl = 0;
			mxcsr_write(MXCSR_HOSTILE);
			uint64_t r = run(impls[k], v, &fl);
			mxcsr_write(MXCSR_DEFAULT);
			n++;
			if (r != v->want || fl != v->fl) {
				printf("FAIL line %d (%s, rm %d, hostile MXCSR): got %#" PRIx64
				       " flags %#x\n",
				       v->line, impls[k]->name, v->rm, r, fl);
				bad++;
			}
		}
	}
	printf("vectors: %zu vectors, %d checks, %d failures\n", sizeof(vecs) / sizeof(vecs[0]), n,
	       bad);
	return bad;
}
