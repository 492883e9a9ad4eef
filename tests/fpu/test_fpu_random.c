// SPDX-License-Identifier: MIT
/*
 * Randomized checks of the fpu library:
 *
 * 1. hardware engine vs software engine, bit for bit and flag for flag, on
 *    every function in RNE/RTZ/RDN/RUP (and RMM for float -> int), over operands biased towards the
 *    interesting places (ties, subnormals, overflow edges, cancellation);
 * 2. RMM against an oracle built independently of fpu.c: the host computes
 *    the exact result rounded to odd in a wider format (f32 ops in double,
 *    f64 ops in x87 extended) and the test rounds that to nearest-away;
 * 3. self-consistency: RDN <= RNE <= RUP, RTZ is RDN or RUP by sign, and
 *    inexactness does not depend on the mode.
 */
#include <fenv.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cpu/fpu.h"
#include "fpu_impl.h"
#include "fpu_test.h"

#define N_CROSS 25000 /* per operation and mode */
#define N_RMM	60000

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

struct fmtinfo {
	int w, p, ebits;
};

static const struct fmtinfo FI32 = {32, 24, 8}, FI64 = {64, 53, 11};

static uint64_t make(const struct fmtinfo *f, uint64_t sign, uint64_t exp, uint64_t mant)
{
	return sign << (f->w - 1) | (exp & ((1ull << f->ebits) - 1)) << (f->p - 1) |
	       (mant & ((1ull << (f->p - 1)) - 1));
}

/* An operand biased towards the edges. */
static uint64_t gen(const struct fmtinfo *f)
{
	uint64_t r = rnd(), s = r >> 63, emax = (1ull << f->ebits) - 1, bias = emax >> 1;
	uint64_t m = rnd(), e = rnd();
	int k = (int)(rnd() % (unsigned)f->p);

	switch (r % 16) {
	case 0: {
		static const int pick[] = {0, 1, 2, 3, 4, 5, 6, 7};
		switch (pick[rnd() % 8]) {
		case 0:
			return make(f, s, 0, 0);
		case 1:
			return make(f, s, emax, 0);
		case 2:
			return make(f, s, emax, 1ull << (f->p - 2) | (rnd() % 4)); /* qNaN */
		case 3:
			return make(f, s, emax, 1 + rnd() % 3); /* sNaN */
		case 4:
			return make(f, s, 0, 1);
		case 5:
			return make(f, s, emax - 1, ~0ull);
		case 6:
			return make(f, s, 1, 0);
		default:
			return make(f, s, bias, 0);
		}
	}
	case 1:
	case 2: /* subnormal */
		return make(f, s, 0, m >> (rnd() % (unsigned)f->p));
	case 3:
	case 4: /* few significant bits anywhere */
		return make(f, s, 1 + e % (emax - 1), m << (f->p - 1 - k));
	case 5:
	case 6: /* near 1 */
		return make(f, s, bias - 30 + e % 61, k & 1 ? m : m << (f->p - 1 - k));
	case 7: /* near overflow */
		return make(f, s, emax - 1 - e % 3, k & 1 ? m : ~(m >> k));
	case 8: /* near underflow */
		return make(f, s, 1 + e % 4, k & 1 ? m : m << (f->p - 1 - k));
	case 9: /* all ones, or few low bits */
		return make(f, s, bias - 4 + e % 9, k & 1 ? ~0ull >> (rnd() % 4) : m % 8);
	default:
		return make(f, s, e, m);
	}
}

/* A second operand close to 'a' (cancellation, ties). */
static uint64_t gen_near(const struct fmtinfo *f, uint64_t a)
{
	uint64_t e = (a >> (f->p - 1)) & ((1ull << f->ebits) - 1);
	uint64_t d = rnd() % 64;
	e = d < 30 ? e + d - 15 : e - d;
	if (e == 0 || e >= (1ull << f->ebits) - 1)
		e = 1;
	return make(f, rnd() >> 63, e, (a ^ (rnd() % 8)) & ((1ull << (f->p - 1)) - 1));
}

static int failures;

static void report(const char *what, int w, int rm, uint64_t a, uint64_t b, uint64_t c, uint64_t r1,
		   uint32_t f1, uint64_t r2, uint32_t f2)
{
	if (failures++ < 30)
		printf("FAIL %s f%d rm %d a %#" PRIx64 " b %#" PRIx64 " c %#" PRIx64 ": %#" PRIx64
		       "/%#x vs %#" PRIx64 "/%#x\n",
		       what, w, rm, a, b, c, r1, f1, r2, f2);
}

static uint64_t call(const struct fpu_impl *m, int w, int op, int rm, uint64_t a, uint64_t b,
		     uint64_t c, uint32_t *fl)
{
	uint32_t x = (uint32_t)a, y = (uint32_t)b, z = (uint32_t)c;

	switch (op) {
	case ADD:
		return w == 32 ? m->add32(x, y, rm, fl) : m->add64(a, b, rm, fl);
	case SUB:
		return w == 32 ? m->sub32(x, y, rm, fl) : m->sub64(a, b, rm, fl);
	case MUL:
		return w == 32 ? m->mul32(x, y, rm, fl) : m->mul64(a, b, rm, fl);
	case DIV:
		return w == 32 ? m->div32(x, y, rm, fl) : m->div64(a, b, rm, fl);
	case SQRT:
		return w == 32 ? m->sqrt32(x, rm, fl) : m->sqrt64(a, rm, fl);
	case FMA:
		return w == 32 ? m->fma32(x, y, z, rm, fl) : m->fma64(a, b, c, rm, fl);
	case MIN:
		return w == 32 ? m->min32(x, y, fl) : m->min64(a, b, fl);
	case MAX:
		return w == 32 ? m->max32(x, y, fl) : m->max64(a, b, fl);
	case EQ:
		return (uint64_t)(w == 32 ? m->eq32(x, y, fl) : m->eq64(a, b, fl));
	case LT:
		return (uint64_t)(w == 32 ? m->lt32(x, y, fl) : m->lt64(a, b, fl));
	case LE:
		return (uint64_t)(w == 32 ? m->le32(x, y, fl) : m->le64(a, b, fl));
	case CLASS:
		return w == 32 ? m->class32(x) : m->class64(a);
	case TOI32:
		return w == 32 ? m->f32_i32(x, rm, fl) : m->f64_i32(a, rm, fl);
	case TOU32:
		return w == 32 ? m->f32_u32(x, rm, fl) : m->f64_u32(a, rm, fl);
	case TOI64:
		return w == 32 ? m->f32_i64(x, rm, fl) : m->f64_i64(a, rm, fl);
	case TOU64:
		return w == 32 ? m->f32_u64(x, rm, fl) : m->f64_u64(a, rm, fl);
	case FROMI32:
		return w == 32 ? m->i32_f32((int32_t)a, rm, fl) : m->i32_f64((int32_t)a, rm, fl);
	case FROMU32:
		return w == 32 ? m->u32_f32((uint32_t)a, rm, fl) : m->u32_f64((uint32_t)a, rm, fl);
	case FROMI64:
		return w == 32 ? m->i64_f32((int64_t)a, rm, fl) : m->i64_f64((int64_t)a, rm, fl);
	case FROMU64:
		return w == 32 ? m->u64_f32(a, rm, fl) : m->u64_f64(a, rm, fl);
	default:
		return w == 32 ? m->f32_f64(x, fl) : m->f64_f32(a, rm, fl);
	}
}

/* An integer operand: random widths, and values with a tie pattern below the top bits. */
static uint64_t gen_int(void)
{
	uint64_t v = rnd() >> (rnd() % 64);
	switch (rnd() % 4) {
	case 0: { /* top bits, then exactly one half-bit at a random place */
		int top = (int)(rnd() % 64), cut = (int)(rnd() % 64);
		v = (1ull << top) | (rnd() & ((1ull << top) - 1));
		if (cut < top)
			v = (v & ~((1ull << cut) - 1)) | (1ull << cut >> 1);
		break;
	}
	case 1:
		v = -v;
		break;
	default:
		break;
	}
	return v;
}

/* A floating-point operand for conversions to integers: near integers, halves, range edges. */
static uint64_t gen_for_int(const struct fmtinfo *f)
{
	uint64_t bias = (1ull << (f->ebits - 1)) - 1;
	if (rnd() % 4 == 0)
		return gen(f);
	uint64_t e = bias - 2 + rnd() % 68;
	int k = (int)(rnd() % (unsigned)f->p);
	return make(f, rnd() >> 63, e, rnd() << (f->p - 1 - k));
}

static void cross_check(void)
{
	static const int ops[] = {ADD,	 SUB,	MUL,	 DIV,	  SQRT,	   FMA,	    MIN,
				  MAX,	 EQ,	LT,	 LE,	  CLASS,   TOI32,   TOU32,
				  TOI64, TOU64, FROMI32, FROMU32, FROMI64, FROMU64, CVT};
	static const struct fmtinfo *fmts[] = {&FI32, &FI64};
	long n = 0;

	for (size_t fi = 0; fi < 2; fi++) {
		const struct fmtinfo *f = fmts[fi];
		for (size_t oi = 0; oi < sizeof(ops) / sizeof(ops[0]); oi++) {
			int op = ops[oi];
			/* RMM too where the engines differ (float -> int). */
			int nrm = op >= TOI32 && op <= TOU64 ? 5 : 4;
			for (int rm = 0; rm < nrm; rm++) {
				for (int i = 0; i < N_CROSS; i++) {
					uint64_t a, b, c = 0;
					if (op >= FROMI32 && op <= FROMU64) {
						a = gen_int();
						b = 0;
					} else if (op >= TOI32 && op <= TOU64) {
						a = gen_for_int(f);
						b = 0;
					} else {
						a = gen(f);
						b = rnd() % 3 ? gen(f) : gen_near(f, a);
						c = gen(f);
						if (op == FMA && rnd() % 2) {
							uint32_t ig = 0;
							uint64_t p = call(&fpu_hw, f->w, MUL, rm, a,
									  b, 0, &ig);
							c = gen_near(f, p ^ (1ull << (f->w - 1)));
						}
					}
					/* Random prior flags: the mirror in MXCSR must not leak. */
					uint32_t pre =
					    (uint32_t)(rnd() % 32) & (rnd() % 2 ? 0 : 31);
					uint32_t f1 = pre, f2 = pre;
					uint64_t r1 = call(&fpu_hw, f->w, op, rm, a, b, c, &f1);
					uint64_t r2 = call(&fpu_soft, f->w, op, rm, a, b, c, &f2);
					n++;
					if (r1 != r2 || f1 != f2)
						report("hw/soft", f->w, rm, a, b, c, r1, f1, r2,
						       f2);
					if (op == FMA) { /* and the no-FMA-host path */
						f1 = pre;
						r1 = call(&fpu_nofma, f->w, op, rm, a, b, c, &f1);
						if (r1 != r2 || f1 != f2)
							report("nofma/soft", f->w, rm, a, b, c, r1,
							       f1, r2, f2);
					}
				}
			}
			if (!mxcsr_is_default()) {
				printf("FAIL MXCSR left at %#x\n", mxcsr_read());
				failures++;
			}
		}
	}
	printf("cross-check hw vs soft: %ld cases\n", n);
}

/* ---- RMM oracle ---- */

static double u2d(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

static uint64_t d2u(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof(u));
	return u;
}

static float u2f(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

static uint32_t f2u(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	return u;
}

/* Host op in round-towards-zero; reports inexactness.  volatile keeps it at run time. */
static long double host_rtz(int op, long double x, long double y, long double z, bool *inexact)
{
	volatile long double vx = x, vy = y, vz = z;
	long double r;

	fesetround(FE_TOWARDZERO);
	feclearexcept(FE_ALL_EXCEPT);
	switch (op) {
	case ADD:
		r = vx + vy;
		break;
	case SUB:
		r = vx - vy;
		break;
	case MUL:
		r = vx * vy;
		break;
	case DIV:
		r = vx / vy;
		break;
	case SQRT:
		r = sqrtl(vx);
		break;
	default:
		r = fmal(vx, vy, vz);
		break;
	}
	volatile long double vr = r;
	*inexact = fetestexcept(FE_INEXACT) != 0;
	fesetround(FE_TONEAREST);
	return vr;
}

/* Round-to-odd f32 ops in double: exact result's RTZ value with the last bit ORed with 'inexact'.
 */
static double odd_f32_op(int op, uint32_t a, uint32_t b, uint32_t c, bool *inexact)
{
	volatile double x = u2f(a), y = u2f(b), z = u2f(c), r;

	fesetround(FE_TOWARDZERO);
	feclearexcept(FE_ALL_EXCEPT);
	switch (op) {
	case ADD:
		r = x + y;
		break;
	case SUB:
		r = x - y;
		break;
	case MUL:
		r = x * y;
		break;
	case DIV:
		r = x / y;
		break;
	case SQRT:
		r = sqrt(x);
		break;
	default:
		r = x * y; /* exact: 48 bits */
		r = r + z;
		break;
	}
	*inexact = fetestexcept(FE_INEXACT) != 0;
	fesetround(FE_TONEAREST);
	double d = r;
	if (*inexact)
		d = u2d(d2u(d) | 1);
	return d;
}

/* RMM of a double holding a round-to-odd value (>= 2 extra bits) into f32. */
static uint32_t rmm_to_f32(double d, bool *nx, bool *tiny)
{
	volatile double vd = d;
	fesetround(FE_TOWARDZERO);
	volatile float t = (float)vd;
	fesetround(FE_TONEAREST);
	uint32_t tb = f2u(t), away = tb + 1; /* next away from zero; after M comes inf */
	double mid = ((double)t + (double)u2f(away & 0x7fffffff ? away : away)) / 2;
	if ((away & 0x7fffffff) == 0x7f800000)
		mid = (double)t + (t < 0 ? -0x1p103 : 0x1p103);
	*nx = (double)t != d;
	*tiny = fabs(d) < 0x1p-126 * (1 - 0x1p-25);
	return fabs(d) >= fabs(mid) ? away : tb;
}

/* Same into f64 from an x87 round-to-odd value. */
static uint64_t rmm_to_f64(long double d, bool *nx, bool *tiny)
{
	volatile long double vd = d;
	fesetround(FE_TOWARDZERO);
	volatile double t = (double)vd;
	fesetround(FE_TONEAREST);
	uint64_t tb = d2u(t), away = tb + 1;
	long double mid;
	if ((away & ~(1ull << 63)) == 0x7ff0000000000000ull)
		mid = (long double)t + (t < 0 ? -0x1p970L : 0x1p970L);
	else
		mid = ((long double)t + (long double)u2d(away)) / 2;
	*nx = (long double)t != d;
	*tiny = fabsl(d) < 0x1p-1022L * (1 - 0x1p-54L);
	return fabsl(d) >= fabsl(mid) ? away : tb;
}

/* Set the last mantissa bit of an x87 extended value (round to odd). */
static long double ld_odd(long double x)
{
	unsigned char b[sizeof(long double)];
	memcpy(b, &x, sizeof(b));
	b[0] |= 1;
	memcpy(&x, b, sizeof(b));
	return x;
}

static bool finite_bits(const struct fmtinfo *f, uint64_t x)
{
	return ((x >> (f->p - 1)) & ((1ull << f->ebits) - 1)) != (1ull << f->ebits) - 1;
}

static void rmm_check(void)
{
	static const int ops[] = {ADD, SUB, MUL, DIV, SQRT, FMA};
	long n = 0, ties = 0;

	for (size_t oi = 0; oi < sizeof(ops) / sizeof(ops[0]); oi++) {
		int op = ops[oi];
		for (int w = 32; w <= 64; w += 32) {
			const struct fmtinfo *f = w == 32 ? &FI32 : &FI64;
			for (int i = 0; i < N_RMM; i++) {
				uint64_t a = gen(f), b = rnd() % 3 ? gen(f) : gen_near(f, a);
				uint64_t c = gen(f);
				if (op == FMA && rnd() % 2) {
					uint32_t ig = 0;
					uint64_t p = call(&fpu_hw, w, MUL, FPU_RNE, a, b, 0, &ig);
					c = gen_near(f, p ^ (1ull << (w - 1)));
				}
				if (op == SQRT)
					a &= ~(1ull << (w - 1));
				if (!finite_bits(f, a) || !finite_bits(f, b) || !finite_bits(f, c))
					continue;
				uint32_t fl = 0;
				uint64_t got = call(&fpu_hw, w, op, FPU_RMM, a, b, c, &fl);
				uint32_t fl_ne = 0;
				uint64_t ne = call(&fpu_hw, w, op, FPU_RNE, a, b, c, &fl_ne);
				if (fl_ne & (FPU_NV | FPU_DZ))
					continue; /* specials: mode-independent, covered above */
				bool inexact, nx, tiny;
				uint64_t want;
				if (w == 32) {
					double d = odd_f32_op(op, (uint32_t)a, (uint32_t)b,
							      (uint32_t)c, &inexact);
					want = rmm_to_f32(d, &nx, &tiny);
				} else {
					long double d =
					    host_rtz(op, u2d(a), u2d(b), u2d(c), &inexact);
					if (inexact)
						d = ld_odd(d);
					want = rmm_to_f64(d, &nx, &tiny);
				}
				nx = nx || inexact;
				bool of = !finite_bits(f, want);
				uint32_t want_fl = (nx ? FPU_NX : 0) | (of ? FPU_OF : 0) |
						   (nx && tiny ? FPU_UF : 0);
				/* An exact zero result: RMM gives +0 like RNE. */
				if (!(want & ~(1ull << (w - 1))) && !nx)
					want = ne;
				n++;
				ties += got != ne;
				if (got != want || fl != want_fl)
					report("rmm", w, FPU_RMM, a, b, c, got, fl, want, want_fl);
			}
		}
	}
	printf("rmm oracle: %ld cases, %ld differ from rne\n", n, ties);
}

/* RMM for conversions: away from zero exactly on ties, else RNE. */
static void rmm_conv_check(void)
{
	long n = 0;

	for (int i = 0; i < N_RMM; i++) {
		/* integer -> float: tie when the dropped bits are exactly half a unit */
		uint64_t v = gen_int();
		for (int w = 32; w <= 64; w += 32) {
			int p = w == 32 ? 24 : 53;
			for (int op = FROMI64; op <= FROMU64; op++) {
				bool neg = op == FROMI64 && (int64_t)v < 0;
				uint64_t mag = neg ? -v : v;
				int top = mag ? 63 - __builtin_clzll(mag) : 0;
				bool tie = false;
				if (top >= p) {
					int drop = top - p + 1;
					uint64_t rb = mag & ((1ull << drop) - 1);
					tie = rb == 1ull << (drop - 1);
				}
				uint32_t f1 = 0, f2 = 0;
				uint64_t mm = call(&fpu_hw, w, op, FPU_RMM, v, 0, 0, &f1);
				uint64_t ne = call(&fpu_hw, w, op, FPU_RNE, v, 0, 0, &f2);
				uint64_t want = ne;
				if (tie) /* away: the larger magnitude of the two neighbours */
					want = call(&fpu_hw, w, op, neg ? FPU_RDN : FPU_RUP, v, 0,
						    0, &f2);
				n++;
				if (mm != want || f1 != f2)
					report("rmm int->f", w, FPU_RMM, v, 0, 0, mm, f1, want, f2);
			}
		}
		/* f64 -> integer: away exactly when the fraction is one half */
		uint64_t a = gen_for_int(&FI64);
		double x = u2d(a);
		if (!isfinite(x))
			continue;
		bool half = fabs(x - trunc(x)) == 0.5;
		for (int op = TOI32; op <= TOU64; op++) {
			uint32_t f1 = 0, f2 = 0;
			uint64_t mm = call(&fpu_hw, 64, op, FPU_RMM, a, 0, 0, &f1);
			uint64_t want =
			    call(&fpu_hw, 64, op, half ? (x < 0 ? FPU_RDN : FPU_RUP) : FPU_RNE, a,
				 0, 0, &f2);
			n++;
			if (mm != want || f1 != f2)
				report("rmm f->int", 64, FPU_RMM, a, 0, 0, mm, f1, want, f2);
		}
	}
	printf("rmm conversions: %ld cases\n", n);
}

/* Ordered key of a non-NaN value. */
static int64_t key(const struct fmtinfo *f, uint64_t x)
{
	uint64_t sign = 1ull << (f->w - 1), mag = x & (sign - 1);
	return (x & sign) ? -(int64_t)mag : (int64_t)mag;
}

static void monotonic_check(void)
{
	static const int ops[] = {ADD, SUB, MUL, DIV, SQRT, FMA, CVT};
	long n = 0;

	for (size_t oi = 0; oi < sizeof(ops) / sizeof(ops[0]); oi++) {
		for (int w = 32; w <= 64; w += 32) {
			const struct fmtinfo *f = w == 32 ? &FI32 : &FI64;
			const struct fmtinfo *rf = (ops[oi] == CVT && w == 64) ? &FI32 : f;
			for (int i = 0; i < N_RMM / 4; i++) {
				uint64_t a = gen(f), b = gen_near(f, a), c = gen(f);
				uint64_t r[5];
				uint32_t fl[5];
				for (int rm = 0; rm < 5; rm++) {
					fl[rm] = 0;
					r[rm] = call(&fpu_hw, w, ops[oi], rm, a, b, c, &fl[rm]);
				}
				if (fl[0] & FPU_NV)
					continue;
				n++;
				int64_t kdn = key(rf, r[FPU_RDN]), kup = key(rf, r[FPU_RUP]);
				bool ok = kdn <= key(rf, r[FPU_RNE]) &&
					  key(rf, r[FPU_RNE]) <= kup &&
					  kdn <= key(rf, r[FPU_RMM]) && key(rf, r[FPU_RMM]) <= kup;
				if (fl[0] & FPU_NX) /* towards zero: RUP below zero, else RDN */
					ok =
					    ok && r[FPU_RTZ] == (kdn < 0 ? r[FPU_RUP] : r[FPU_RDN]);
				else /* exact: one result, except an exact zero is -0 in RDN */
					ok = ok && r[FPU_RTZ] == r[FPU_RNE] &&
					     r[FPU_RUP] == r[FPU_RNE] && r[FPU_RMM] == r[FPU_RNE] &&
					     kdn == key(rf, r[FPU_RNE]);
				for (int rm = 1; rm < 5; rm++)
					ok = ok && (fl[rm] & FPU_NX) == (fl[0] & FPU_NX);
				ok = ok && ((fl[0] & FPU_NX) != 0) == (kdn != kup);
				if (!ok)
					report("monotonic", w, ops[oi], a, b, c, r[FPU_RDN], fl[2],
					       r[FPU_RUP], fl[3]);
			}
		}
	}
	printf("mode consistency: %ld cases\n", n);
}

int test_random(void)
{
	cross_check();
	rmm_check();
	rmm_conv_check();
	monotonic_check();
	printf("random: %d failures\n", failures);
	return failures;
}
