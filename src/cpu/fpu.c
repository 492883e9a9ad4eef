// SPDX-License-Identifier: MIT
/*
 * RISC-V F/D arithmetic.  Two engines:
 *
 * - On x86-64 the host SSE unit does the arithmetic in the guest's rounding
 *   mode (MXCSR.RC) and reports IEEE flags, which map one-to-one onto fflags
 *   (x86 also detects tininess after rounding).  C code around it fixes
 *   where x86 and RISC-V differ: NaN payloads, fma's NV for inf*0+qNaN
 *   (vfmadd does not raise it), unsigned conversions.  Float -> integer
 *   avoids MXCSR altogether: truncate, then round from the exact remainder,
 *   which also gives RMM and RISC-V's saturation cheaply.
 *
 * - A software engine (integer arithmetic on unpacked values, every rounding
 *   mode) for RMM arithmetic, which x86 cannot do, and for everything on
 *   other hosts or when built with FPU_SOFT_ONLY (the tests use that build
 *   as an independent reference for the SSE engine).
 *
 * Speed: MXCSR's sticky flags are kept equal to the guest's fflags, so in
 * the common case (same rounding mode, no new flag, e.g. NX already set) an
 * operation costs two stmxcsr and no ldmxcsr.  It also avoids x86's slow
 * case: an operation setting a clear MXCSR flag that is then read back
 * costs 10-20 ns here; with the mirror that happens only when fflags gains
 * a bit.  The rounding mode is put back to nearest after a directed-mode
 * operation so host code on the same thread is unaffected; leftover sticky
 * flags are harmless (all exceptions stay masked; FTZ/DAZ stay off).
 */
#include "cpu/fpu.h"

#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && !defined(FPU_SOFT_ONLY)
#define FPU_HW 1
#include <math.h>
#else
#define FPU_HW 0
#endif

typedef unsigned __int128 u128;

/* ---------------------------------------------------------------------- */
/* Formats and bit-level helpers                                          */

struct fmt {
	int p;	   /* significand bits including the hidden one */
	int ebits; /* exponent field width */
};

static const struct fmt F32 = {24, 8};
static const struct fmt F64 = {53, 11};

static inline int fmt_bias(const struct fmt *f)
{
	return (1 << (f->ebits - 1)) - 1;
}

static inline uint64_t fmt_sign(const struct fmt *f)
{
	return 1ull << (f->p - 1 + f->ebits);
}

static inline uint64_t fmt_emax(const struct fmt *f) /* all-ones exponent field */
{
	return (1ull << f->ebits) - 1;
}

static inline uint64_t fmt_inf(const struct fmt *f)
{
	return fmt_emax(f) << (f->p - 1);
}

static inline uint64_t fmt_qnan(const struct fmt *f)
{
	return fmt_inf(f) | 1ull << (f->p - 2);
}

static inline bool fmt_is_nan(uint64_t x, const struct fmt *f)
{
	return (x & (fmt_sign(f) - 1)) > fmt_inf(f);
}

static inline bool fmt_is_snan(uint64_t x, const struct fmt *f)
{
	return fmt_is_nan(x, f) && !(x & 1ull << (f->p - 2));
}

/* ---------------------------------------------------------------------- */
/* Software engine                                                        */

enum cls { C_ZERO, C_FIN, C_INF, C_QNAN, C_SNAN };

/* A value: sig * 2^exp, with sig's top bit at bit 63 when finite and non-zero. */
struct unp {
	int cls;
	int sign;
	int exp;
	uint64_t sig;
};

static struct unp unpack(uint64_t x, const struct fmt *f)
{
	struct unp u = {.sign = (x & fmt_sign(f)) != 0};
	uint64_t e = (x >> (f->p - 1)) & fmt_emax(f);
	uint64_t m = x & ((1ull << (f->p - 1)) - 1);

	if (e == fmt_emax(f)) {
		u.cls = !m ? C_INF : (m >> (f->p - 2)) ? C_QNAN : C_SNAN;
		return u;
	}
	if (!e && !m) {
		u.cls = C_ZERO;
		return u;
	}
	u.cls = C_FIN;
	if (e) {
		u.sig = m | 1ull << (f->p - 1);
		u.exp = (int)e - fmt_bias(f) - (f->p - 1);
	} else {
		u.sig = m;
		u.exp = 1 - fmt_bias(f) - (f->p - 1);
	}
	int s = __builtin_clzll(u.sig);
	u.sig <<= s;
	u.exp -= s;
	return u;
}

static inline uint64_t shr_jam(uint64_t x, int n)
{
	if (n <= 0)
		return x;
	if (n >= 64)
		return x != 0;
	return (x >> n) | ((x << (64 - n)) != 0);
}

static inline u128 shr_jam128(u128 x, int n)
{
	if (n <= 0)
		return x;
	if (n >= 128)
		return x != 0;
	return (x >> n) | ((x << (128 - n)) != 0);
}

/*
 * Whether to add one unit to a truncated magnitude whose lowest kept bit is
 * 'lsb' and whose discarded part is 'rb' out of a unit of 2*half.
 */
static inline bool round_up(int rm, int sign, uint64_t rb, uint64_t half, uint64_t lsb)
{
	switch (rm) {
	case FPU_RTZ:
		return false;
	case FPU_RDN:
		return sign && rb;
	case FPU_RUP:
		return !sign && rb;
	case FPU_RMM:
		return rb >= half;
	default: /* RNE */
		return rb > half || (rb == half && lsb);
	}
}

static uint64_t overflow_result(int sign, const struct fmt *f, int rm, uint32_t *fl)
{
	bool to_inf = rm == FPU_RNE || rm == FPU_RMM || rm > FPU_RMM || (rm == FPU_RDN && sign) ||
		      (rm == FPU_RUP && !sign);
	*fl |= FPU_OF | FPU_NX;
	return (sign ? fmt_sign(f) : 0) | (to_inf ? fmt_inf(f) : fmt_inf(f) - 1);
}

/* Round sig * 2^exp (sig != 0, anything lost below already ORed into bit 0) into format f. */
static uint64_t round_pack(int sign, int exp, uint64_t sig, const struct fmt *f, int rm,
			   uint32_t *fl)
{
	int s = __builtin_clzll(sig);
	sig <<= s;
	exp -= s;

	int k = 64 - f->p; /* bits below the last kept one */
	uint64_t kmask = (1ull << k) - 1, half = 1ull << (k - 1);
	int E = exp + 63 + fmt_bias(f); /* biased exponent of the value */
	bool tiny = false;

	if (E >= (int)fmt_emax(f))
		return overflow_result(sign, f, rm, fl);
	if (E < 1) {
		/*
		 * Tiny after rounding unless, rounded to p bits with unbounded
		 * exponent, the value reaches 2^emin: possible only just below it.
		 */
		tiny = true;
		if (E == 0 && (sig >> k) + round_up(rm, sign, sig & kmask, half, (sig >> k) & 1) ==
				  1ull << f->p)
			tiny = false;
		sig = shr_jam(sig, 1 - E);
		E = 1;
	}
	uint64_t rb = sig & kmask;
	uint64_t m = (sig >> k) + round_up(rm, sign, rb, half, (sig >> k) & 1);
	/* m carries the hidden bit, so a carry out of rounding bumps the exponent. */
	uint64_t bits = ((uint64_t)(E - 1) << (f->p - 1)) + m;
	if ((bits >> (f->p - 1)) >= fmt_emax(f))
		return overflow_result(sign, f, rm, fl);
	if (rb) {
		*fl |= FPU_NX;
		if (tiny)
			*fl |= FPU_UF;
	}
	return (sign ? fmt_sign(f) : 0) | bits;
}

static inline uint64_t zero_of(int sign, const struct fmt *f)
{
	return sign ? fmt_sign(f) : 0;
}

static inline uint64_t inf_of(int sign, const struct fmt *f)
{
	return (sign ? fmt_sign(f) : 0) | fmt_inf(f);
}

static inline uint64_t invalid(const struct fmt *f, uint32_t *fl)
{
	*fl |= FPU_NV;
	return fmt_qnan(f);
}

/* NaN operands give the canonical NaN; signalling ones raise NV. */
static inline uint64_t nan_result(const struct unp *a, const struct unp *b, const struct fmt *f,
				  uint32_t *fl)
{
	if (a->cls == C_SNAN || b->cls == C_SNAN)
		*fl |= FPU_NV;
	return fmt_qnan(f);
}

static inline bool is_nan_cls(const struct unp *u)
{
	return u->cls >= C_QNAN;
}

static uint64_t soft_add(uint64_t a, uint64_t b, const struct fmt *f, int rm, uint32_t *fl)
{
	struct unp x = unpack(a, f), y = unpack(b, f);

	if (is_nan_cls(&x) || is_nan_cls(&y))
		return nan_result(&x, &y, f, fl);
	if (x.cls == C_INF || y.cls == C_INF) {
		if (x.cls == C_INF && y.cls == C_INF && x.sign != y.sign)
			return invalid(f, fl);
		return inf_of(x.cls == C_INF ? x.sign : y.sign, f);
	}
	if (x.cls == C_ZERO && y.cls == C_ZERO)
		return zero_of(x.sign == y.sign ? x.sign : rm == FPU_RDN, f);
	if (x.cls == C_ZERO)
		return b;
	if (y.cls == C_ZERO)
		return a;

	/* Two bits of headroom; the low bits are zero, so this is exact. */
	x.sig >>= 2;
	y.sig >>= 2;
	if (x.exp < y.exp) {
		struct unp t = x;
		x = y;
		y = t;
	}
	/* Jamming is safe: with a gap of 2+ the result loses at most one leading bit. */
	y.sig = shr_jam(y.sig, x.exp - y.exp);
	uint64_t s;
	int sign = x.sign;
	if (x.sign == y.sign) {
		s = x.sig + y.sig;
	} else if (x.sig >= y.sig) {
		s = x.sig - y.sig;
	} else {
		s = y.sig - x.sig;
		sign = y.sign;
	}
	if (!s) /* exact cancellation: +0, or -0 when rounding down */
		return zero_of(rm == FPU_RDN, f);
	return round_pack(sign, x.exp + 2, s, f, rm, fl);
}

static uint64_t soft_mul(uint64_t a, uint64_t b, const struct fmt *f, int rm, uint32_t *fl)
{
	struct unp x = unpack(a, f), y = unpack(b, f);
	int sign = x.sign ^ y.sign;

	if (is_nan_cls(&x) || is_nan_cls(&y))
		return nan_result(&x, &y, f, fl);
	if (x.cls == C_INF || y.cls == C_INF) {
		if (x.cls == C_ZERO || y.cls == C_ZERO)
			return invalid(f, fl);
		return inf_of(sign, f);
	}
	if (x.cls == C_ZERO || y.cls == C_ZERO)
		return zero_of(sign, f);
	u128 p = (u128)x.sig * y.sig;
	uint64_t hi = (uint64_t)(p >> 64), lo = (uint64_t)p;
	return round_pack(sign, x.exp + y.exp + 64, hi | (lo != 0), f, rm, fl);
}

static uint64_t soft_div(uint64_t a, uint64_t b, const struct fmt *f, int rm, uint32_t *fl)
{
	struct unp x = unpack(a, f), y = unpack(b, f);
	int sign = x.sign ^ y.sign;

	if (is_nan_cls(&x) || is_nan_cls(&y))
		return nan_result(&x, &y, f, fl);
	if (x.cls == C_INF)
		return y.cls == C_INF ? invalid(f, fl) : inf_of(sign, f);
	if (y.cls == C_INF)
		return zero_of(sign, f);
	if (y.cls == C_ZERO) {
		if (x.cls == C_ZERO)
			return invalid(f, fl);
		*fl |= FPU_DZ;
		return inf_of(sign, f);
	}
	if (x.cls == C_ZERO)
		return zero_of(sign, f);
	/* x.sig << 63 over a 64-bit divisor: a quotient of 63-64 bits, ample for p+2. */
	u128 n = (u128)x.sig << 63;
	uint64_t q = (uint64_t)(n / y.sig);
	bool rem = (n % y.sig) != 0;
	return round_pack(sign, x.exp - y.exp - 63, q | rem, f, rm, fl);
}

/* floor(sqrt(n)) and whether it was exact, digit by digit. */
static uint64_t isqrt128(u128 n, bool *exact)
{
	u128 rem = n, root = 0, bit = (u128)1 << 126;

	while (bit > rem)
		bit >>= 2;
	while (bit) {
		if (rem >= root + bit) {
			rem -= root + bit;
			root = (root >> 1) + bit;
		} else {
			root >>= 1;
		}
		bit >>= 2;
	}
	*exact = rem == 0;
	return (uint64_t)root;
}

static uint64_t soft_sqrt(uint64_t a, const struct fmt *f, int rm, uint32_t *fl)
{
	struct unp x = unpack(a, f);

	if (is_nan_cls(&x))
		return nan_result(&x, &x, f, fl);
	if (x.cls == C_ZERO)
		return a; /* sqrt(-0) = -0 */
	if (x.sign)
		return invalid(f, fl);
	if (x.cls == C_INF)
		return a;
	/* Make the exponent even and the radicand 127-128 bits long. */
	u128 n;
	int e;
	if (x.exp & 1) {
		n = (u128)x.sig << 63;
		e = x.exp - 63;
	} else {
		n = (u128)x.sig << 64;
		e = x.exp - 64;
	}
	bool exact;
	uint64_t r = isqrt128(n, &exact);
	return round_pack(0, e / 2, r | !exact, f, rm, fl);
}

/* A 128-bit magnitude times 2^exp, squeezed into round_pack's 64 bits. */
static uint64_t round_pack128(int sign, int exp, u128 s, const struct fmt *f, int rm, uint32_t *fl)
{
	uint64_t hi = (uint64_t)(s >> 64);

	if (!hi)
		return round_pack(sign, exp, (uint64_t)s, f, rm, fl);
	int n = __builtin_clzll(hi);
	u128 t = s << n;
	uint64_t sig = (uint64_t)(t >> 64) | ((uint64_t)t != 0);
	return round_pack(sign, exp + 64 - n, sig, f, rm, fl);
}

static uint64_t soft_fma(uint64_t a, uint64_t b, uint64_t c, const struct fmt *f, int rm,
			 uint32_t *fl)
{
	struct unp x = unpack(a, f), y = unpack(b, f), z = unpack(c, f);
	bool inf_times_zero =
	    (x.cls == C_INF && y.cls == C_ZERO) || (x.cls == C_ZERO && y.cls == C_INF);
	int psign = x.sign ^ y.sign;

	/* RISC-V: inf*0 is invalid even when the addend is a quiet NaN. */
	if (is_nan_cls(&x) || is_nan_cls(&y) || is_nan_cls(&z) || inf_times_zero) {
		if (x.cls == C_SNAN || y.cls == C_SNAN || z.cls == C_SNAN || inf_times_zero)
			*fl |= FPU_NV;
		return fmt_qnan(f);
	}
	if (x.cls == C_INF || y.cls == C_INF) {
		if (z.cls == C_INF && z.sign != psign)
			return invalid(f, fl);
		return inf_of(psign, f);
	}
	if (z.cls == C_INF)
		return c;
	if (x.cls == C_ZERO || y.cls == C_ZERO) {
		if (z.cls == C_ZERO)
			return zero_of(psign == z.sign ? psign : rm == FPU_RDN, f);
		return c;
	}
	u128 p = (u128)x.sig * y.sig; /* exact, top bit at 126 or 127 */
	int pe = x.exp + y.exp;
	if (z.cls == C_ZERO)
		return round_pack128(psign, pe, p, f, rm, fl);

	/* Both terms with their top bit at 125 (the shifted-out bits are zero). */
	if (p >> 127) {
		p >>= 2;
		pe += 2;
	} else {
		p >>= 1;
		pe += 1;
	}
	u128 q = (u128)z.sig << 62;
	int qe = z.exp - 62, qsign = z.sign;
	if (pe < qe) {
		u128 t = p;
		p = q;
		q = t;
		int te = pe;
		pe = qe;
		qe = te;
		te = psign;
		psign = qsign;
		qsign = te;
	}
	/* Bits are lost only for a gap of 20+, far below the rounding position. */
	q = shr_jam128(q, pe - qe);
	u128 s;
	int sign = psign;
	if (psign == qsign) {
		s = p + q;
	} else if (p >= q) {
		s = p - q;
	} else {
		s = q - p;
		sign = qsign;
	}
	if (!s)
		return zero_of(rm == FPU_RDN, f);
	return round_pack128(sign, pe, s, f, rm, fl);
}

enum ity { I32, U32, I64, U64 };

static inline uint64_t sat_pos(int ty)
{
	static const uint64_t v[] = {0x7fffffff, UINT64_MAX, INT64_MAX, UINT64_MAX};
	return v[ty];
}

static inline uint64_t sat_neg(int ty)
{
	static const uint64_t v[] = {0xffffffff80000000ull, 0, 1ull << 63, 0};
	return v[ty];
}

static inline uint64_t int_result(uint64_t v, int ty)
{
	/* 32-bit results are sign-extended into rd, for fcvt.wu too. */
	return ty <= U32 ? (uint64_t)(int64_t)(int32_t)(uint32_t)v : v;
}

#if !FPU_HW /* the SSE engine rounds from the exact remainder instead */
/* Largest magnitudes that fit, positive and negative. */
static inline uint64_t max_pos(int ty)
{
	static const uint64_t v[] = {0x7fffffff, 0xffffffff, INT64_MAX, UINT64_MAX};
	return v[ty];
}

static inline uint64_t max_neg(int ty)
{
	static const uint64_t v[] = {0x80000000, 0, 1ull << 63, 0};
	return v[ty];
}

static uint64_t soft_to_int(uint64_t a, const struct fmt *f, int ty, int rm, uint32_t *fl)
{
	struct unp x = unpack(a, f);
	uint64_t mag, rb = 0;

	if (is_nan_cls(&x)) {
		*fl |= FPU_NV;
		return sat_pos(ty);
	}
	if (x.cls == C_ZERO)
		return 0;
	if (x.cls == C_INF || x.exp > 0) /* |x| >= 2^64 */
		goto out_of_range;
	if (x.exp == 0) {
		mag = x.sig;
	} else {
		int n = -x.exp;
		uint64_t ip, half;
		if (n > 64) { /* 0 < |x| < 0.5 */
			ip = 0;
			rb = 1;
			half = 2;
		} else if (n == 64) {
			ip = 0;
			rb = x.sig;
			half = 1ull << 63;
		} else {
			ip = x.sig >> n;
			rb = x.sig & ((1ull << n) - 1);
			half = 1ull << (n - 1);
		}
		mag = ip + round_up(rm, x.sign, rb, half, ip & 1);
	}
	if (mag > (x.sign ? max_neg(ty) : max_pos(ty)))
		goto out_of_range;
	if (rb)
		*fl |= FPU_NX;
	return int_result(x.sign ? -mag : mag, ty);
out_of_range:
	*fl |= FPU_NV;
	return x.sign ? sat_neg(ty) : sat_pos(ty);
}
#endif

static uint64_t soft_from_int(int sign, uint64_t mag, const struct fmt *f, int rm, uint32_t *fl)
{
	if (!mag)
		return 0;
	return round_pack(sign, 0, mag, f, rm, fl);
}

static uint64_t soft_f64_to_f32(uint64_t a, int rm, uint32_t *fl)
{
	struct unp x = unpack(a, &F64);

	if (is_nan_cls(&x))
		return nan_result(&x, &x, &F32, fl);
	if (x.cls == C_INF)
		return inf_of(x.sign, &F32);
	if (x.cls == C_ZERO)
		return zero_of(x.sign, &F32);
	return round_pack(x.sign, x.exp, x.sig, &F32, rm, fl);
}

/* ---------------------------------------------------------------------- */
/* Operations that need no rounding                                       */

/* Order key with -0 < +0 (min/max); keyq makes the zeros equal (comparisons). */
static inline int64_t order_key(uint64_t x, const struct fmt *f)
{
	uint64_t mag = x & (fmt_sign(f) - 1);
	return (x & fmt_sign(f)) ? -(int64_t)mag - 1 : (int64_t)mag;
}

static inline int64_t order_keyq(uint64_t x, const struct fmt *f)
{
	uint64_t mag = x & (fmt_sign(f) - 1);
	return (x & fmt_sign(f)) ? -(int64_t)mag : (int64_t)mag;
}

static inline uint64_t minmax(uint64_t a, uint64_t b, const struct fmt *f, bool max, uint32_t *fl)
{
	bool an = fmt_is_nan(a, f), bn = fmt_is_nan(b, f);

	if (an || bn) {
		if (fmt_is_snan(a, f) || fmt_is_snan(b, f))
			*fl |= FPU_NV;
		if (an && bn)
			return fmt_qnan(f);
		return an ? b : a;
	}
	bool a_le_b = order_key(a, f) <= order_key(b, f);
	return a_le_b != max ? a : b;
}

/* -1 if unordered (flags set as the instruction wants), else a<b: 0/1 | a==b: 2. */
static inline int compare(uint64_t a, uint64_t b, const struct fmt *f, bool quiet, uint32_t *fl)
{
	if (fmt_is_nan(a, f) || fmt_is_nan(b, f)) {
		if (!quiet || fmt_is_snan(a, f) || fmt_is_snan(b, f))
			*fl |= FPU_NV;
		return -1;
	}
	int64_t ka = order_keyq(a, f), kb = order_keyq(b, f);
	return (ka < kb) | (ka == kb) << 1;
}

static inline uint32_t classify(uint64_t x, const struct fmt *f)
{
	bool neg = (x & fmt_sign(f)) != 0;
	uint64_t mag = x & (fmt_sign(f) - 1);
	uint64_t min_normal = 1ull << (f->p - 1);

	if (mag > fmt_inf(f))
		return fmt_is_snan(x, f) ? 1u << 8 : 1u << 9;
	if (mag == fmt_inf(f))
		return neg ? 1u << 0 : 1u << 7;
	if (mag >= min_normal)
		return neg ? 1u << 1 : 1u << 6;
	if (mag)
		return neg ? 1u << 2 : 1u << 5;
	return neg ? 1u << 3 : 1u << 4;
}

uint32_t f32_min(uint32_t a, uint32_t b, uint32_t *fflags)
{
	return (uint32_t)minmax(a, b, &F32, false, fflags);
}

uint32_t f32_max(uint32_t a, uint32_t b, uint32_t *fflags)
{
	return (uint32_t)minmax(a, b, &F32, true, fflags);
}

uint64_t f64_min(uint64_t a, uint64_t b, uint32_t *fflags)
{
	return minmax(a, b, &F64, false, fflags);
}

uint64_t f64_max(uint64_t a, uint64_t b, uint32_t *fflags)
{
	return minmax(a, b, &F64, true, fflags);
}

int f32_eq(uint32_t a, uint32_t b, uint32_t *fflags)
{
	return compare(a, b, &F32, true, fflags) == 2;
}

int f32_lt(uint32_t a, uint32_t b, uint32_t *fflags)
{
	return compare(a, b, &F32, false, fflags) == 1;
}

int f32_le(uint32_t a, uint32_t b, uint32_t *fflags)
{
	return compare(a, b, &F32, false, fflags) > 0;
}

int f64_eq(uint64_t a, uint64_t b, uint32_t *fflags)
{
	return compare(a, b, &F64, true, fflags) == 2;
}

int f64_lt(uint64_t a, uint64_t b, uint32_t *fflags)
{
	return compare(a, b, &F64, false, fflags) == 1;
}

int f64_le(uint64_t a, uint64_t b, uint32_t *fflags)
{
	return compare(a, b, &F64, false, fflags) > 0;
}

uint32_t f32_classify(uint32_t a)
{
	return classify(a, &F32);
}

uint32_t f64_classify(uint64_t a)
{
	return classify(a, &F64);
}

#if FPU_HW
/* ---------------------------------------------------------------------- */
/* x86-64 SSE engine                                                      */

static inline float u2f(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

static inline uint32_t f2u(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline double u2d(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

static inline uint64_t d2u(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof(u));
	return u;
}

#define MX_MASKS 0x1f80u /* all exceptions masked; FTZ and DAZ off */
#define MX_DE	 0x0002u /* denormal operand: no RISC-V counterpart, ignored */
#define MX_RC	 0x6000u

/* MXCSR.RC for RNE, RTZ, RDN, RUP (RMM never gets here), padded for rm & 7. */
static const uint16_t mx_rc[8] = {0x0000, 0x6000, 0x2000, 0x4000, 0, 0, 0, 0};

/* MXCSR flags IE DE ZE OE UE PE (bits 0..5) -> fflags NV - DZ OF UF NX, and back. */
#define RV_OF_MX(m)                                                                                \
	((((m)&1) ? FPU_NV : 0) | (((m)&4) ? FPU_DZ : 0) | (((m)&8) ? FPU_OF : 0) |                \
	 (((m)&16) ? FPU_UF : 0) | (((m)&32) ? FPU_NX : 0))
#define MX_OF_RV(r)                                                                                \
	((((r)&FPU_NV) ? 1 : 0) | (((r)&FPU_DZ) ? 4 : 0) | (((r)&FPU_OF) ? 8 : 0) |                \
	 (((r)&FPU_UF) ? 16 : 0) | (((r)&FPU_NX) ? 32 : 0))
#define R4(f, b)  f(b), f(b + 1), f(b + 2), f(b + 3)
#define R16(f, b) R4(f, b), R4(f, b + 4), R4(f, b + 8), R4(f, b + 12)
static const uint8_t rv_of_mx[64] = {R16(RV_OF_MX, 0), R16(RV_OF_MX, 16), R16(RV_OF_MX, 32),
				     R16(RV_OF_MX, 48)};
static const uint8_t mx_of_rv[32] = {R16(MX_OF_RV, 0), R16(MX_OF_RV, 16)};

/*
 * The MXCSR accesses and the arithmetic are all volatile asm, which the
 * compiler keeps in program order, so no FP operation can drift across them.
 */
static inline uint32_t mx_get(void)
{
	uint32_t m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

static inline void mx_set(uint32_t m)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
}

/* Rounding mode rm, sticky flags equal to the guest's: often already so. */
static inline void mx_enter(int rm, uint32_t fflags)
{
	uint32_t want = MX_MASKS | mx_rc[rm] | mx_of_rv[fflags & 31];
	uint32_t cur = mx_get();
	if ((cur & ~MX_DE) != want)
		mx_set(want);
}

/* fflags now (old ones included); rounding put back to nearest. */
static inline uint32_t mx_leave(int rm)
{
	uint32_t cur = mx_get();
	if (rm != FPU_RNE)
		mx_set(cur & ~MX_RC);
	return rv_of_mx[cur & 0x3f];
}

/* On the bits: exact, and immune to a DAZ some other code might have set. */
uint64_t f32_to_f64(uint32_t a, uint32_t *fflags)
{
	uint64_t sign = (uint64_t)(a >> 31) << 63;
	int e = (a >> 23) & 0xff;
	uint32_t m = a & 0x7fffff;

	if (e == 0xff) {
		if (!m)
			return sign | 0x7ff0000000000000ull;
		if (!(m & 0x400000))
			*fflags |= FPU_NV;
		return F64_CANONICAL_NAN;
	}
	if (!e) {
		if (!m)
			return sign;
		int s = __builtin_clz(m) - 8; /* subnormal: normalise to the hidden bit */
		m = (m << s) & 0x7fffff;
		e = 1 - s;
	}
	return sign | (uint64_t)(e + 1023 - 127) << 52 | (uint64_t)m << 29;
}

/* Exact conversions. */
uint64_t i32_to_f64(int32_t a, int rm, uint32_t *fflags)
{
	(void)rm;
	(void)fflags;
	return d2u((double)a);
}

uint64_t u32_to_f64(uint32_t a, int rm, uint32_t *fflags)
{
	(void)rm;
	(void)fflags;
	return d2u((double)a);
}

static inline uint32_t canon32(uint32_t r)
{
	return (r & 0x7fffffff) > 0x7f800000 ? F32_CANONICAL_NAN : r;
}

static inline uint64_t canon64(uint64_t r)
{
	return (r & ~(1ull << 63)) > 0x7ff0000000000000ull ? F64_CANONICAL_NAN : r;
}

#define HW_BINOP(name, insn, soft)                                                                 \
	uint32_t f32_##name(uint32_t a, uint32_t b, int rm, uint32_t *fflags)                      \
	{                                                                                          \
		rm &= 7;                                                                           \
		if (rm == FPU_RMM)                                                                 \
			return (uint32_t)soft(a, b, &F32, rm, fflags);                             \
		float x = u2f(a), y = u2f(b);                                                      \
		mx_enter(rm, *fflags);                                                             \
		__asm__ volatile(insn "ss %1, %0" : "+x"(x) : "x"(y));                             \
		*fflags |= mx_leave(rm);                                                           \
		return canon32(f2u(x));                                                            \
	}                                                                                          \
	uint64_t f64_##name(uint64_t a, uint64_t b, int rm, uint32_t *fflags)                      \
	{                                                                                          \
		rm &= 7;                                                                           \
		if (rm == FPU_RMM)                                                                 \
			return soft(a, b, &F64, rm, fflags);                                       \
		double x = u2d(a), y = u2d(b);                                                     \
		mx_enter(rm, *fflags);                                                             \
		__asm__ volatile(insn "sd %1, %0" : "+x"(x) : "x"(y));                             \
		*fflags |= mx_leave(rm);                                                           \
		return canon64(d2u(x));                                                            \
	}

static inline uint64_t soft_sub(uint64_t a, uint64_t b, const struct fmt *f, int rm, uint32_t *fl)
{
	return soft_add(a, b ^ fmt_sign(f), f, rm, fl);
}

HW_BINOP(add, "add", soft_add)
HW_BINOP(sub, "sub", soft_sub)
HW_BINOP(mul, "mul", soft_mul)
HW_BINOP(div, "div", soft_div)

uint32_t f32_sqrt(uint32_t a, int rm, uint32_t *fflags)
{
	rm &= 7;
	if (rm == FPU_RMM)
		return (uint32_t)soft_sqrt(a, &F32, rm, fflags);
	float x = u2f(a), r;
	mx_enter(rm, *fflags);
	__asm__ volatile("sqrtss %1, %0" : "=x"(r) : "x"(x));
	*fflags |= mx_leave(rm);
	return canon32(f2u(r));
}

uint64_t f64_sqrt(uint64_t a, int rm, uint32_t *fflags)
{
	rm &= 7;
	if (rm == FPU_RMM)
		return soft_sqrt(a, &F64, rm, fflags);
	double x = u2d(a), r;
	mx_enter(rm, *fflags);
	__asm__ volatile("sqrtsd %1, %0" : "=x"(r) : "x"(x));
	*fflags |= mx_leave(rm);
	return canon64(d2u(r));
}

/*
 * Without hardware FMA, glibc's fma() (exact, honours MXCSR) through a
 * volatile pointer so the call stays between the MXCSR accesses.
 */
static float (*volatile fmaf_fn)(float, float, float) = fmaf;
static double (*volatile fma_fn)(double, double, double) = fma;

#ifdef FPU_NO_HW_FMA /* tests: the path of x86-64 hosts without FMA */
#define have_hw_fma() false
#else
#define have_hw_fma() __builtin_cpu_supports("fma")
#endif

static inline bool fma_invalid_mul(uint64_t a, uint64_t b, const struct fmt *f)
{
	uint64_t ma = a & (fmt_sign(f) - 1), mb = b & (fmt_sign(f) - 1);
	return (ma == fmt_inf(f) && !mb) || (!ma && mb == fmt_inf(f));
}

uint32_t f32_fma(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *fflags)
{
	rm &= 7;
	if (rm == FPU_RMM)
		return (uint32_t)soft_fma(a, b, c, &F32, rm, fflags);
	float x = u2f(a), y = u2f(b), z = u2f(c);
	mx_enter(rm, *fflags);
	if (have_hw_fma())
		__asm__ volatile("vfmadd231ss %2, %1, %0" : "+x"(z) : "x"(x), "x"(y));
	else
		z = fmaf_fn(x, y, z);
	*fflags |= mx_leave(rm);
	uint32_t r = f2u(z);
	if ((r & 0x7fffffff) > 0x7f800000) {
		/* RISC-V wants NV for inf*0 even when c is a quiet NaN. */
		if (fma_invalid_mul(a, b, &F32))
			*fflags |= FPU_NV;
		r = F32_CANONICAL_NAN;
	}
	return r;
}

uint64_t f64_fma(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags)
{
	rm &= 7;
	if (rm == FPU_RMM)
		return soft_fma(a, b, c, &F64, rm, fflags);
	double x = u2d(a), y = u2d(b), z = u2d(c);
	mx_enter(rm, *fflags);
	if (have_hw_fma())
		__asm__ volatile("vfmadd231sd %2, %1, %0" : "+x"(z) : "x"(x), "x"(y));
	else
		z = fma_fn(x, y, z);
	*fflags |= mx_leave(rm);
	uint64_t r = d2u(z);
	if ((r & ~(1ull << 63)) > 0x7ff0000000000000ull) {
		if (fma_invalid_mul(a, b, &F64))
			*fflags |= FPU_NV;
		r = F64_CANONICAL_NAN;
	}
	return r;
}

uint32_t f64_to_f32(uint64_t a, int rm, uint32_t *fflags)
{
	rm &= 7;
	if (rm == FPU_RMM)
		return (uint32_t)soft_f64_to_f32(a, rm, fflags);
	double x = u2d(a);
	float r;
	mx_enter(rm, *fflags);
	__asm__ volatile("cvtsd2ss %1, %0" : "=x"(r) : "x"(x));
	*fflags |= mx_leave(rm);
	return canon32(f2u(r));
}

/*
 * Float to integer without touching MXCSR: cvttsd2si truncates (exactly,
 * for every |x| < 2^63), and the remainder x - trunc(x) is always
 * representable, so rounding in any mode, RMM included, is decided exactly
 * from it.  [2^63, 2^64) for unsigned 64-bit holds only integers.  Range
 * and NaN checks are done on the bits; an out-of-range result raises only NV.
 */
/* half_cmp: the dropped fraction against one half (-1, 0, 1). */
static inline bool to_int_round_away(int rm, bool neg, int half_cmp, int64_t t)
{
	switch (rm) {
	case FPU_RTZ:
		return false;
	case FPU_RDN:
		return neg;
	case FPU_RUP:
		return !neg;
	case FPU_RMM:
		return half_cmp >= 0;
	default:
		return half_cmp > 0 || (half_cmp == 0 && (t & 1));
	}
}

static uint64_t hw_f64_to_int(uint64_t a, int ty, int rm, uint32_t *fflags)
{
	uint64_t mag = a & ~(1ull << 63);
	bool neg = a >> 63;

	if (mag < 0x43e0000000000000ull) { /* |x| < 2^63 */
		int64_t r;
		int half_cmp;
		bool inexact;
		if (mag < 0x3ff0000000000000ull) { /* |x| < 1, subnormals too: on the bits */
			r = 0;
			inexact = mag != 0;
			half_cmp = (mag > 0x3fe0000000000000ull) - (mag < 0x3fe0000000000000ull);
		} else { /* x and the remainder are normal: FTZ/DAZ cannot matter */
			double x = u2d(a);
			__asm__("cvttsd2si %1, %q0" : "=r"(r) : "x"(x));
			double frac = x - (double)r; /* exact: no flags */
			double fm = neg ? -frac : frac;
			inexact = frac != 0;
			half_cmp = (fm > 0.5) - (fm < 0.5);
		}
		if (inexact && to_int_round_away(rm, neg, half_cmp, r))
			r += neg ? -1 : 1;
		bool ok = ty == I64 || (ty == U64 && r >= 0) ||
			  (ty == I32 && r >= INT32_MIN && r <= INT32_MAX) ||
			  (ty == U32 && r >= 0 && r <= (int64_t)UINT32_MAX);
		if (ok) {
			if (inexact)
				*fflags |= FPU_NX;
			return int_result((uint64_t)r, ty);
		}
		*fflags |= FPU_NV;
		return r < 0 ? sat_neg(ty) : sat_pos(ty);
	}
	if (mag > 0x7ff0000000000000ull) { /* NaN */
		*fflags |= FPU_NV;
		return sat_pos(ty);
	}
	if (ty == I64 && neg && mag == 0x43e0000000000000ull)
		return 1ull << 63;			      /* exactly -2^63 */
	if (ty == U64 && !neg && mag < 0x43f0000000000000ull) /* [2^63, 2^64) */
		return ((mag & ((1ull << 52) - 1)) | 1ull << 52) << 11;
	*fflags |= FPU_NV;
	return neg ? sat_neg(ty) : sat_pos(ty);
}

/* Every f32 is exactly an f64 and rounds to the same integer. */
static uint64_t hw_f32_to_int(uint32_t a, int ty, int rm, uint32_t *fflags)
{
	if ((a & 0x7fffffff) > 0x7f800000) {
		*fflags |= FPU_NV;
		return sat_pos(ty);
	}
	uint32_t ignore = 0;
	return hw_f64_to_int(f32_to_f64(a, &ignore), ty, rm, fflags);
}

#define HW_TO_INT(name, ty)                                                                        \
	uint64_t f32_to_##name(uint32_t a, int rm, uint32_t *fflags)                               \
	{                                                                                          \
		return hw_f32_to_int(a, ty, rm & 7, fflags);                                       \
	}                                                                                          \
	uint64_t f64_to_##name(uint64_t a, int rm, uint32_t *fflags)                               \
	{                                                                                          \
		return hw_f64_to_int(a, ty, rm & 7, fflags);                                       \
	}

HW_TO_INT(i32, I32)
HW_TO_INT(u32, U32)
HW_TO_INT(i64, I64)
HW_TO_INT(u64, U64)

/*
 * Integer to float via the signed 64-bit cvtsi2s[sd].  Unsigned values with
 * the top bit set are halved first, the lost bit kept as a sticky bit
 * (well below the rounding position), and the result doubled exactly.
 */
static uint64_t hw_int_to_f(uint64_t v, bool is_unsigned, const struct fmt *f, int rm,
			    uint32_t *fflags)
{
	bool halve = is_unsigned && (v >> 63);
	if (halve)
		v = (v >> 1) | (v & 1);
	int64_t s = (int64_t)v;
	uint64_t bits;

	mx_enter(rm, *fflags);
	if (f == &F32) {
		float r;
		__asm__ volatile("cvtsi2ssq %q1, %0" : "=x"(r) : "r"(s));
		bits = f2u(r);
	} else {
		double r;
		__asm__ volatile("cvtsi2sdq %q1, %0" : "=x"(r) : "r"(s));
		bits = d2u(r);
	}
	*fflags |= mx_leave(rm);
	if (halve) /* a normal non-zero value far from overflow: add one to the exponent */
		bits += 1ull << (f->p - 1);
	return bits;
}

static inline uint64_t int_to_f(uint64_t v, bool is_unsigned, const struct fmt *f, int rm,
				uint32_t *fflags)
{
	rm &= 7;
	if (rm == FPU_RMM) {
		bool neg = !is_unsigned && (int64_t)v < 0;
		return soft_from_int(neg, neg ? -v : v, f, rm, fflags);
	}
	return hw_int_to_f(v, is_unsigned, f, rm, fflags);
}

#else /* !FPU_HW: the software engine does everything */

static inline uint64_t soft_sub(uint64_t a, uint64_t b, const struct fmt *f, int rm, uint32_t *fl)
{
	return soft_add(a, b ^ fmt_sign(f), f, rm, fl);
}

#define SOFT_BINOP(name)                                                                           \
	uint32_t f32_##name(uint32_t a, uint32_t b, int rm, uint32_t *fflags)                      \
	{                                                                                          \
		return (uint32_t)soft_##name(a, b, &F32, rm & 7, fflags);                          \
	}                                                                                          \
	uint64_t f64_##name(uint64_t a, uint64_t b, int rm, uint32_t *fflags)                      \
	{                                                                                          \
		return soft_##name(a, b, &F64, rm & 7, fflags);                                    \
	}

SOFT_BINOP(add)
SOFT_BINOP(sub)
SOFT_BINOP(mul)
SOFT_BINOP(div)

uint32_t f32_sqrt(uint32_t a, int rm, uint32_t *fflags)
{
	return (uint32_t)soft_sqrt(a, &F32, rm & 7, fflags);
}

uint64_t f64_sqrt(uint64_t a, int rm, uint32_t *fflags)
{
	return soft_sqrt(a, &F64, rm & 7, fflags);
}

uint32_t f32_fma(uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *fflags)
{
	return (uint32_t)soft_fma(a, b, c, &F32, rm & 7, fflags);
}

uint64_t f64_fma(uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fflags)
{
	return soft_fma(a, b, c, &F64, rm & 7, fflags);
}

uint32_t f64_to_f32(uint64_t a, int rm, uint32_t *fflags)
{
	return (uint32_t)soft_f64_to_f32(a, rm & 7, fflags);
}

#define SOFT_TO_INT(name, ty)                                                                      \
	uint64_t f32_to_##name(uint32_t a, int rm, uint32_t *fflags)                               \
	{                                                                                          \
		return soft_to_int(a, &F32, ty, rm & 7, fflags);                                   \
	}                                                                                          \
	uint64_t f64_to_##name(uint64_t a, int rm, uint32_t *fflags)                               \
	{                                                                                          \
		return soft_to_int(a, &F64, ty, rm & 7, fflags);                                   \
	}

SOFT_TO_INT(i32, I32)
SOFT_TO_INT(u32, U32)
SOFT_TO_INT(i64, I64)
SOFT_TO_INT(u64, U64)

static inline uint64_t int_to_f(uint64_t v, bool is_unsigned, const struct fmt *f, int rm,
				uint32_t *fflags)
{
	bool neg = !is_unsigned && (int64_t)v < 0;
	return soft_from_int(neg, neg ? -v : v, f, rm & 7, fflags);
}

uint64_t f32_to_f64(uint32_t a, uint32_t *fflags)
{
	struct unp x = unpack(a, &F32);

	switch (x.cls) {
	case C_QNAN:
	case C_SNAN:
		return nan_result(&x, &x, &F64, fflags);
	case C_INF:
		return inf_of(x.sign, &F64);
	case C_ZERO:
		return zero_of(x.sign, &F64);
	default: /* exact: f64 holds every f32, subnormals included */
		return round_pack(x.sign, x.exp, x.sig, &F64, FPU_RNE, fflags);
	}
}

uint64_t i32_to_f64(int32_t a, int rm, uint32_t *fflags)
{
	return soft_from_int(a < 0, a < 0 ? -(uint64_t)a : (uint64_t)a, &F64, rm, fflags);
}

uint64_t u32_to_f64(uint32_t a, int rm, uint32_t *fflags)
{
	return soft_from_int(0, a, &F64, rm, fflags);
}

#endif

uint32_t i32_to_f32(int32_t a, int rm, uint32_t *fflags)
{
	return (uint32_t)int_to_f((uint64_t)(int64_t)a, false, &F32, rm, fflags);
}

uint32_t u32_to_f32(uint32_t a, int rm, uint32_t *fflags)
{
	return (uint32_t)int_to_f(a, true, &F32, rm, fflags);
}

uint32_t i64_to_f32(int64_t a, int rm, uint32_t *fflags)
{
	return (uint32_t)int_to_f((uint64_t)a, false, &F32, rm, fflags);
}

uint32_t u64_to_f32(uint64_t a, int rm, uint32_t *fflags)
{
	return (uint32_t)int_to_f(a, true, &F32, rm, fflags);
}

uint64_t i64_to_f64(int64_t a, int rm, uint32_t *fflags)
{
	return int_to_f((uint64_t)a, false, &F64, rm, fflags);
}

uint64_t u64_to_f64(uint64_t a, int rm, uint32_t *fflags)
{
	return int_to_f(a, true, &F64, rm, fflags);
}
