/* SPDX-License-Identifier: MIT */
/*
 * RV64F and RV64D: rounding modes (static and dynamic) with fflags,
 * NaN-boxing, conversions with saturation, min/max, compares, fclass,
 * sign injection, fused multiply-add, sqrt, moves, fcsr and mstatus.FS.
 */
#include "isa.h"

const char *test_name = "rv64fd";

/* fflags */
#define NX 1
#define UF 2
#define OF 4
#define DZ 8
#define NV 16

/* single-precision values as they sit NaN-boxed in an f register */
#define S(x)	  (0xffffffff00000000UL | (u32)(x))
#define S_ONE	  0x3f800000
#define S_TWO	  0x40000000
#define S_HALF	  0x3f000000
#define S_MONE	  0xbf800000
#define S_MAX	  0x7f7fffff
#define S_INF	  0x7f800000
#define S_NINF	  0xff800000
#define S_QNAN	  0x7fc00000
#define S_SNAN	  0x7f800001
#define S_NZERO	  0x80000000
#define S_MINSUB  0x00000001
#define S_MINNORM 0x00800000

#define D_ONE	 0x3ff0000000000000UL
#define D_TWO	 0x4000000000000000UL
#define D_HALF	 0x3fe0000000000000UL
#define D_MONE	 0xbff0000000000000UL
#define D_MAX	 0x7fefffffffffffffUL
#define D_INF	 0x7ff0000000000000UL
#define D_NINF	 0xfff0000000000000UL
#define D_QNAN	 0x7ff8000000000000UL
#define D_SNAN	 0x7ff0000000000001UL
#define D_NZERO	 0x8000000000000000UL
#define D_MINSUB 0x0000000000000001UL

/*
 * Loads ft0/ft1/ft2 with the raw 64-bit a/b/c, clears fflags, runs
 * 'insn' (result to %0), and checks the result and the flags raised.
 * Integer operands are available to 'insn' as %2 (a).
 */
#define FT(name, insn, a, b, c, want, wflags)                                                      \
	do {                                                                                       \
		u64 r_, fl_;                                                                       \
		asm volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\t"                              \
			     "fmv.d.x ft2, %4\n\tcsrwi fflags, 0\n\t" insn "\n\tfrflags %1"        \
			     : "=&r"(r_), "=&r"(fl_)                                               \
			     : "r"((u64)(a)), "r"((u64)(b)), "r"((u64)(c))                         \
			     : "ft0", "ft1", "ft2", "ft3", "memory");                              \
		check_eq_at(__FILE__, __LINE__, name, (u64)(a), (u64)(b), r_, (u64)(want));        \
		check_eq_at(__FILE__, __LINE__, name " fflags", (u64)(a), (u64)(b), fl_,           \
			    (u64)(wflags));                                                        \
	} while (0)

/* result in ft3, read back whole (so NaN-boxing of .s results shows) */
#define OP2(op, rm)	op " ft3, ft0, ft1, " rm "\n\tfmv.x.d %0, ft3"
#define OP2N(op)	op " ft3, ft0, ft1\n\tfmv.x.d %0, ft3"
#define OP1(op, rm)	op " ft3, ft0, " rm "\n\tfmv.x.d %0, ft3"
#define OP3(op, rm)	op " ft3, ft0, ft1, ft2, " rm "\n\tfmv.x.d %0, ft3"
#define TOINT(op, rm)	op " %0, ft0, " rm
#define FROMINT(op, rm) op " ft3, %2, " rm "\n\tfmv.x.d %0, ft3"
#define CMP(op)		op " %0, ft0, ft1"
#define CLASS(op)	op " %0, ft0"
/* exact conversions take no rounding mode */
#define OP1X(op)     op " ft3, ft0\n\tfmv.x.d %0, ft3"
#define FROMINTX(op) op " ft3, %2\n\tfmv.x.d %0, ft3"

static const char *const rms[5] = {"rne", "rtz", "rdn", "rup", "rmm"};

/* One binary op in all five static modes plus the same via frm. */
#define ALL_RM(name, op, a, b, w0, w1, w2, w3, w4, fl)                                             \
	do {                                                                                       \
		u64 w_[5] = {w0, w1, w2, w3, w4};                                                  \
		FT(name " rne", OP2(op, "rne"), a, b, 0, w_[0], fl);                               \
		FT(name " rtz", OP2(op, "rtz"), a, b, 0, w_[1], fl);                               \
		FT(name " rdn", OP2(op, "rdn"), a, b, 0, w_[2], fl);                               \
		FT(name " rup", OP2(op, "rup"), a, b, 0, w_[3], fl);                               \
		FT(name " rmm", OP2(op, "rmm"), a, b, 0, w_[4], fl);                               \
		for (u64 m_ = 0; m_ < 5; m_++) {                                                   \
			csr_write(frm, m_);                                                        \
			FT(name " dyn", OP2(op, "dyn"), a, b, 0, w_[m_], fl);                      \
		}                                                                                  \
		csr_write(frm, 0);                                                                 \
	} while (0)

static void test_rounding(void)
{
	(void)rms;
	/* 1 + half an ulp: a tie */
	ALL_RM("fadd.s tie", "fadd.s", S(S_ONE), S(0x33800000), S(0x3f800000), S(0x3f800000),
	       S(0x3f800000), S(0x3f800001), S(0x3f800001), NX);
	ALL_RM("fadd.s -tie", "fadd.s", S(S_MONE), S(0xb3800000), S(0xbf800000), S(0xbf800000),
	       S(0xbf800001), S(0xbf800000), S(0xbf800001), NX);
	/* odd + half an ulp: RNE goes up to even */
	ALL_RM("fadd.s odd tie", "fadd.s", S(0x3f800001), S(0x33800000), S(0x3f800002),
	       S(0x3f800001), S(0x3f800001), S(0x3f800002), S(0x3f800002), NX);
	/* 1 + 3/4 ulp */
	ALL_RM("fadd.s 0.75ulp", "fadd.s", S(S_ONE), S(0x33c00000), S(0x3f800001), S(0x3f800000),
	       S(0x3f800000), S(0x3f800001), S(0x3f800001), NX);
	ALL_RM("fadd.d tie", "fadd.d", D_ONE, 0x3ca0000000000000UL, D_ONE, D_ONE, D_ONE, D_ONE + 1,
	       D_ONE + 1, NX);
	ALL_RM("fsub.d -tie", "fsub.d", D_MONE, 0x3ca0000000000000UL, D_MONE, D_MONE, D_MONE + 1,
	       D_MONE, D_MONE + 1, NX);
	ALL_RM("fdiv.d 1/3", "fdiv.d", D_ONE, 0x4008000000000000UL, 0x3fd5555555555555UL,
	       0x3fd5555555555555UL, 0x3fd5555555555555UL, 0x3fd5555555555556UL,
	       0x3fd5555555555555UL, NX);
	ALL_RM("fdiv.s -1/3", "fdiv.s", S(S_MONE), S(0x40400000), S(0xbeaaaaab), S(0xbeaaaaaa),
	       S(0xbeaaaaab), S(0xbeaaaaaa), S(0xbeaaaaab), NX);
	/* overflow: the rounding mode picks infinity or the largest finite */
	ALL_RM("fmul.s overflow", "fmul.s", S(S_MAX), S(S_TWO), S(S_INF), S(S_MAX), S(S_MAX),
	       S(S_INF), S(S_INF), OF | NX);
	ALL_RM("fmul.s -overflow", "fmul.s", S(S_MAX | 0x80000000), S(S_TWO), S(S_NINF),
	       S(S_MAX | 0x80000000), S(S_NINF), S(S_MAX | 0x80000000), S(S_NINF), OF | NX);
	ALL_RM("fadd.d overflow", "fadd.d", D_MAX, D_MAX, D_INF, D_MAX, D_MAX, D_INF, D_INF,
	       OF | NX);
	/* underflow: tiny and inexact */
	ALL_RM("fmul.s underflow", "fmul.s", S(S_MINSUB), S(S_HALF), S(0), S(0), S(0), S(S_MINSUB),
	       S(S_MINSUB), UF | NX);
	ALL_RM("fmul.d underflow", "fmul.d", D_MINSUB, 0x3fe8000000000000UL, D_MINSUB, 0, 0,
	       D_MINSUB, D_MINSUB, UF | NX);
	/* exact subnormal result: no flags */
	FT("fmul.s exact subnormal", OP2("fmul.s", "rne"), S(S_MINNORM), S(S_HALF), 0,
	   S(0x00400000), 0);
	/* exact results raise nothing, in any mode */
	ALL_RM("fadd.s exact", "fadd.s", S(S_ONE), S(S_ONE), S(S_TWO), S(S_TWO), S(S_TWO), S(S_TWO),
	       S(S_TWO), 0);
	/* x - x = +0, except -0 in RDN */
	ALL_RM("fsub.d x-x", "fsub.d", D_ONE, D_ONE, 0, 0, D_NZERO, 0, 0, 0);

	/* divide by zero and invalid */
	FT("fdiv.s 1/0", OP2("fdiv.s", "rne"), S(S_ONE), S(0), 0, S(S_INF), DZ);
	FT("fdiv.d -1/0", OP2("fdiv.d", "rne"), D_MONE, 0, 0, D_NINF, DZ);
	FT("fdiv.s 0/0", OP2("fdiv.s", "rne"), S(0), S(0), 0, S(S_QNAN), NV);
	FT("fsub.d inf-inf", OP2("fsub.d", "rne"), D_INF, D_INF, 0, D_QNAN, NV);
	FT("fmul.s 0*inf", OP2("fmul.s", "rne"), S(0), S(S_INF), 0, S(S_QNAN), NV);
	FT("fadd.s sNaN", OP2("fadd.s", "rne"), S(S_SNAN), S(S_ONE), 0, S(S_QNAN), NV);
	FT("fadd.d qNaN payload dropped", OP2("fadd.d", "rne"), 0x7ff8000000001234UL, D_ONE, 0,
	   D_QNAN, 0);
	FT("fmul.s -qNaN becomes canonical", OP2("fmul.s", "rne"), S(0xffc00001), S(S_ONE), 0,
	   S(S_QNAN), 0);
	FT("fdiv.d inf/inf", OP2("fdiv.d", "rne"), D_INF, D_NINF, 0, D_QNAN, NV);

	/* rm 5 and 6 are reserved: illegal statically and via frm */
	expect_trap(TRAP_SKIP);
	asm volatile(".word 0x00005053"); /* fadd.s f0, f0, f0, rm=5 */
	CHECK("static rm=5 illegal", trap_last.cause, CAUSE_ILLEGAL);
	expect_trap(TRAP_SKIP);
	asm volatile(".word 0x02006053"); /* fadd.d f0, f0, f0, rm=6 */
	CHECK("static rm=6 illegal", trap_last.cause, CAUSE_ILLEGAL);
	for (u64 m = 5; m < 8; m++) {
		csr_write(frm, m);
		expect_trap(TRAP_SKIP);
		asm volatile("fadd.s ft0, ft1, ft1, dyn" ::: "ft0");
		trap_action = TRAP_NONE;
		check_eq_at(__FILE__, __LINE__, "dyn with invalid frm", m, 0, trap_last.cause,
			    CAUSE_ILLEGAL);
		/* a static mode still works */
		FT("static rm with invalid frm", OP2("fadd.s", "rtz"), S(S_ONE), S(S_ONE), 0,
		   S(S_TWO), 0);
	}
	csr_write(frm, 0);
}

static void test_nanbox(void)
{
	/* a double in the register is not a boxed single: canonical NaN */
	FT("fadd.s unboxed input", OP2("fadd.s", "rne"), D_ONE, S(S_ONE), 0, S(S_QNAN), 0);
	FT("fadd.s almost boxed", OP2("fadd.s", "rne"), 0xfffffffe3f800000UL, S(S_ONE), 0,
	   S(S_QNAN), 0);
	FT("fsgnj.s unboxed", OP2N("fsgnj.s"), D_ONE, S(S_MONE), 0, S(S_QNAN | 0x80000000), 0);
	FT("fclass.s unboxed", CLASS("fclass.s"), D_ONE, 0, 0, 1 << 9, 0);
	FT("fcvt.d.s unboxed", OP1X("fcvt.d.s"), D_ONE, 0, 0, D_QNAN, 0);
	FT("fmin.s unboxed", OP2N("fmin.s"), D_ONE, S(S_TWO), 0, S(S_TWO), 0);
	FT("feq.s unboxed", CMP("feq.s"), D_ONE, D_ONE, 0, 0, 0);
	/* fmv.x.w and fsw move the low bits, boxed or not */
	FT("fmv.x.w unboxed: low word, sign-extended", "fmv.x.w %0, ft0", 0x123456789abcdef0UL, 0,
	   0, 0xffffffff9abcdef0UL, 0);
	FT("fmv.x.w positive", "fmv.x.w %0, ft0", S(S_INF), 0, 0, S_INF, 0);
	FT("fmv.x.w negative", "fmv.x.w %0, ft0", S(S_MONE), 0, 0, 0xffffffffbf800000UL, 0);
	FT("fmv.w.x boxes", "fmv.w.x ft3, %2\n\tfmv.x.d %0, ft3", 0x123456789abcdef0UL, 0, 0,
	   S(0x9abcdef0), 0);
	FT("fmv.d.x/fmv.x.d keep sNaN bits", "fmv.d.x ft3, %2\n\tfmv.x.d %0, ft3", D_SNAN, 0, 0,
	   D_SNAN, 0);
	static u64 mem[2];
	mem[0] = 0x1111111133333333UL;
	u64 r;
	asm volatile("flw ft0, 0(%1)\n\tfmv.x.d %0, ft0" : "=r"(r) : "r"(mem) : "ft0", "memory");
	CHECK("flw boxes", r, S(0x33333333));
	asm volatile("fmv.d.x ft0, %1\n\tfsw ft0, 8(%0)" ::"r"(mem), "r"(0x123456789abcdef0UL)
		     : "ft0", "memory");
	CHECK("fsw of unboxed stores low word", mem[1], 0x9abcdef0);
	asm volatile("fld ft0, 0(%1)\n\tfsd ft0, 8(%1)\n\tfmv.x.d %0, ft0"
		     : "=r"(r)
		     : "r"(mem)
		     : "ft0", "memory");
	CHECK("fld", r, 0x1111111133333333UL);
	CHECK("fsd", mem[1], 0x1111111133333333UL);
}

static void test_convert(void)
{
	/* float -> int, rounding */
	FT("fcvt.w.s 2.5 rne", TOINT("fcvt.w.s", "rne"), S(0x40200000), 0, 0, 2, NX);
	FT("fcvt.w.s 2.5 rtz", TOINT("fcvt.w.s", "rtz"), S(0x40200000), 0, 0, 2, NX);
	FT("fcvt.w.s 2.5 rdn", TOINT("fcvt.w.s", "rdn"), S(0x40200000), 0, 0, 2, NX);
	FT("fcvt.w.s 2.5 rup", TOINT("fcvt.w.s", "rup"), S(0x40200000), 0, 0, 3, NX);
	FT("fcvt.w.s 2.5 rmm", TOINT("fcvt.w.s", "rmm"), S(0x40200000), 0, 0, 3, NX);
	FT("fcvt.w.d -2.5 rne", TOINT("fcvt.w.d", "rne"), 0xc004000000000000UL, 0, 0, -2, NX);
	FT("fcvt.w.d -2.5 rtz", TOINT("fcvt.w.d", "rtz"), 0xc004000000000000UL, 0, 0, -2, NX);
	FT("fcvt.w.d -2.5 rdn", TOINT("fcvt.w.d", "rdn"), 0xc004000000000000UL, 0, 0, -3, NX);
	FT("fcvt.w.d -2.5 rup", TOINT("fcvt.w.d", "rup"), 0xc004000000000000UL, 0, 0, -2, NX);
	FT("fcvt.w.d -2.5 rmm", TOINT("fcvt.w.d", "rmm"), 0xc004000000000000UL, 0, 0, -3, NX);
	csr_write(frm, 3);
	FT("fcvt.l.d 1.5 dyn(rup)", TOINT("fcvt.l.d", "dyn"), 0x3ff8000000000000UL, 0, 0, 2, NX);
	csr_write(frm, 0);
	FT("fcvt.w.s exact", TOINT("fcvt.w.s", "rtz"), S(0xcf000000), 0, 0, 0xffffffff80000000UL,
	   0);
	/* saturation and NV */
	FT("fcvt.w.s 2^31", TOINT("fcvt.w.s", "rtz"), S(0x4f000000), 0, 0, 0x7fffffff, NV);
	FT("fcvt.w.s -inf", TOINT("fcvt.w.s", "rtz"), S(S_NINF), 0, 0, 0xffffffff80000000UL, NV);
	FT("fcvt.w.s NaN", TOINT("fcvt.w.s", "rtz"), S(S_QNAN), 0, 0, 0x7fffffff, NV);
	FT("fcvt.w.d -2^31-1", TOINT("fcvt.w.d", "rtz"), 0xc1e0000000200000UL, 0, 0,
	   0xffffffff80000000UL, NV);
	FT("fcvt.wu.s 2^32", TOINT("fcvt.wu.s", "rtz"), S(0x4f800000), 0, 0, ~0UL, NV);
	FT("fcvt.wu.s 3*2^30 sign-extended", TOINT("fcvt.wu.s", "rtz"), S(0x4f400000), 0, 0,
	   0xffffffffc0000000UL, 0);
	FT("fcvt.wu.s -1", TOINT("fcvt.wu.s", "rtz"), S(S_MONE), 0, 0, 0, NV);
	FT("fcvt.wu.d -0.5 rtz", TOINT("fcvt.wu.d", "rtz"), 0xbfe0000000000000UL, 0, 0, 0, NX);
	FT("fcvt.wu.d NaN", TOINT("fcvt.wu.d", "rtz"), D_QNAN, 0, 0, ~0UL, NV);
	FT("fcvt.wu.d inf", TOINT("fcvt.wu.d", "rtz"), D_INF, 0, 0, ~0UL, NV);
	FT("fcvt.l.d 2^63", TOINT("fcvt.l.d", "rtz"), 0x43e0000000000000UL, 0, 0,
	   0x7fffffffffffffffUL, NV);
	FT("fcvt.l.d -2^63", TOINT("fcvt.l.d", "rtz"), 0xc3e0000000000000UL, 0, 0,
	   0x8000000000000000UL, 0);
	FT("fcvt.l.d -inf", TOINT("fcvt.l.d", "rtz"), D_NINF, 0, 0, 0x8000000000000000UL, NV);
	FT("fcvt.l.d NaN", TOINT("fcvt.l.d", "rtz"), D_QNAN, 0, 0, 0x7fffffffffffffffUL, NV);
	FT("fcvt.l.s sNaN", TOINT("fcvt.l.s", "rtz"), S(S_SNAN), 0, 0, 0x7fffffffffffffffUL, NV);
	FT("fcvt.l.s -1.5 rne", TOINT("fcvt.l.s", "rne"), S(0xbfc00000), 0, 0, -2, NX);
	FT("fcvt.lu.d 2^64", TOINT("fcvt.lu.d", "rtz"), 0x43f0000000000000UL, 0, 0, ~0UL, NV);
	FT("fcvt.lu.d 2^63", TOINT("fcvt.lu.d", "rtz"), 0x43e0000000000000UL, 0, 0,
	   0x8000000000000000UL, 0);
	FT("fcvt.lu.d -1", TOINT("fcvt.lu.d", "rtz"), D_MONE, 0, 0, 0, NV);
	FT("fcvt.lu.s -inf", TOINT("fcvt.lu.s", "rtz"), S(S_NINF), 0, 0, 0, NV);
	FT("fcvt.lu.s NaN", TOINT("fcvt.lu.s", "rtz"), S(S_QNAN), 0, 0, ~0UL, NV);
	/* int -> float */
	FT("fcvt.s.w -1 (low word)", FROMINT("fcvt.s.w", "rne"), 0x00000000ffffffffUL, 0, 0,
	   S(S_MONE), 0);
	FT("fcvt.s.wu 2^32-1", FROMINT("fcvt.s.wu", "rne"), ~0UL, 0, 0, S(0x4f800000), NX);
	FT("fcvt.s.wu 2^32-1 rtz", FROMINT("fcvt.s.wu", "rtz"), ~0UL, 0, 0, S(0x4f7fffff), NX);
	FT("fcvt.s.l 2^63-1", FROMINT("fcvt.s.l", "rne"), 0x7fffffffffffffffUL, 0, 0, S(0x5f000000),
	   NX);
	FT("fcvt.s.l -2^63", FROMINT("fcvt.s.l", "rne"), 0x8000000000000000UL, 0, 0, S(0xdf000000),
	   0);
	FT("fcvt.s.lu 2^64-1", FROMINT("fcvt.s.lu", "rne"), ~0UL, 0, 0, S(0x5f800000), NX);
	FT("fcvt.s.w 0", FROMINT("fcvt.s.w", "rne"), 0, 0, 0, S(0), 0);
	FT("fcvt.d.w -2^31", FROMINTX("fcvt.d.w"), 0x80000000UL, 0, 0, 0xc1e0000000000000UL, 0);
	FT("fcvt.d.wu 2^31", FROMINTX("fcvt.d.wu"), 0xffffffff80000000UL, 0, 0,
	   0x41e0000000000000UL, 0);
	FT("fcvt.d.l -1", FROMINT("fcvt.d.l", "rne"), ~0UL, 0, 0, D_MONE, 0);
	FT("fcvt.d.l 2^53+1", FROMINT("fcvt.d.l", "rne"), (1UL << 53) + 1, 0, 0,
	   0x4340000000000000UL, NX);
	FT("fcvt.d.l 2^53+1 rup", FROMINT("fcvt.d.l", "rup"), (1UL << 53) + 1, 0, 0,
	   0x4340000000000001UL, NX);
	FT("fcvt.d.lu 2^64-1", FROMINT("fcvt.d.lu", "rne"), ~0UL, 0, 0, 0x43f0000000000000UL, NX);
	/* float <-> double */
	FT("fcvt.d.s 1", OP1X("fcvt.d.s"), S(S_ONE), 0, 0, D_ONE, 0);
	FT("fcvt.d.s -minsub", OP1X("fcvt.d.s"), S(0x80000001), 0, 0, 0xb6a0000000000000UL, 0);
	FT("fcvt.d.s sNaN", OP1X("fcvt.d.s"), S(S_SNAN), 0, 0, D_QNAN, NV);
	FT("fcvt.d.s -inf", OP1X("fcvt.d.s"), S(S_NINF), 0, 0, D_NINF, 0);
	FT("fcvt.s.d 1+2^-52", OP1("fcvt.s.d", "rne"), D_ONE + 1, 0, 0, S(S_ONE), NX);
	FT("fcvt.s.d 1+2^-52 rup", OP1("fcvt.s.d", "rup"), D_ONE + 1, 0, 0, S(0x3f800001), NX);
	FT("fcvt.s.d max", OP1("fcvt.s.d", "rne"), D_MAX, 0, 0, S(S_INF), OF | NX);
	FT("fcvt.s.d max rtz", OP1("fcvt.s.d", "rtz"), D_MAX, 0, 0, S(S_MAX), OF | NX);
	FT("fcvt.s.d qNaN", OP1("fcvt.s.d", "rne"), 0xfff8000000000123UL, 0, 0, S(S_QNAN), 0);
	FT("fcvt.s.d sNaN", OP1("fcvt.s.d", "rne"), D_SNAN, 0, 0, S(S_QNAN), NV);
	FT("fcvt.s.d tiny", OP1("fcvt.s.d", "rne"), D_MINSUB, 0, 0, S(0), UF | NX);
}

static void test_minmax_cmp(void)
{
	FT("fmin.s -0,+0", OP2N("fmin.s"), S(S_NZERO), S(0), 0, S(S_NZERO), 0);
	FT("fmin.s +0,-0", OP2N("fmin.s"), S(0), S(S_NZERO), 0, S(S_NZERO), 0);
	FT("fmax.s -0,+0", OP2N("fmax.s"), S(S_NZERO), S(0), 0, S(0), 0);
	FT("fmax.d +0,-0", OP2N("fmax.d"), 0, D_NZERO, 0, 0, 0);
	FT("fmin.d -0,+0", OP2N("fmin.d"), 0, D_NZERO, 0, D_NZERO, 0);
	FT("fmin.s qNaN,1", OP2N("fmin.s"), S(S_QNAN), S(S_ONE), 0, S(S_ONE), 0);
	FT("fmax.s 1,qNaN", OP2N("fmax.s"), S(S_ONE), S(S_QNAN), 0, S(S_ONE), 0);
	FT("fmin.s sNaN,1", OP2N("fmin.s"), S(S_SNAN), S(S_ONE), 0, S(S_ONE), NV);
	FT("fmax.d sNaN,1", OP2N("fmax.d"), D_SNAN, D_MONE, 0, D_MONE, NV);
	FT("fmax.s qNaN,qNaN", OP2N("fmax.s"), S(0x7fc00123), S(0xffc00000), 0, S(S_QNAN), 0);
	FT("fmin.d sNaN,qNaN", OP2N("fmin.d"), D_SNAN, D_QNAN, 0, D_QNAN, NV);
	FT("fmin.d -inf,1", OP2N("fmin.d"), D_NINF, D_ONE, 0, D_NINF, 0);
	FT("fmax.s 1,2", OP2N("fmax.s"), S(S_ONE), S(S_TWO), 0, S(S_TWO), 0);

	FT("feq.s 1,1", CMP("feq.s"), S(S_ONE), S(S_ONE), 0, 1, 0);
	FT("feq.s -0,+0", CMP("feq.s"), S(S_NZERO), S(0), 0, 1, 0);
	FT("feq.s qNaN", CMP("feq.s"), S(S_QNAN), S(S_QNAN), 0, 0, 0);
	FT("feq.d sNaN", CMP("feq.d"), D_SNAN, D_ONE, 0, 0, NV);
	FT("flt.s -1,1", CMP("flt.s"), S(S_MONE), S(S_ONE), 0, 1, 0);
	FT("flt.s 1,1", CMP("flt.s"), S(S_ONE), S(S_ONE), 0, 0, 0);
	FT("flt.s -0,+0", CMP("flt.s"), S(S_NZERO), S(0), 0, 0, 0);
	FT("flt.d qNaN", CMP("flt.d"), D_QNAN, D_ONE, 0, 0, NV);
	FT("fle.s -0,+0", CMP("fle.s"), S(S_NZERO), S(0), 0, 1, 0);
	FT("fle.d 2,1", CMP("fle.d"), D_TWO, D_ONE, 0, 0, 0);
	FT("fle.s 1,qNaN", CMP("fle.s"), S(S_ONE), S(S_QNAN), 0, 0, NV);
	FT("flt.d -inf,inf", CMP("flt.d"), D_NINF, D_INF, 0, 1, 0);
}

static void test_class_sign(void)
{
	static const u32 sc[10] = {S_NINF,   S_MONE, 0x80000001, S_NZERO, 0,
				   S_MINSUB, S_ONE,  S_INF,	 S_SNAN,  S_QNAN};
	static const u64 dc[10] = {
	    D_NINF, D_MONE, 0x8000000000000001UL, D_NZERO, 0, D_MINSUB, D_ONE, D_INF,
	    D_SNAN, D_QNAN};
	for (int i = 0; i < 10; i++) {
		FT("fclass.s", CLASS("fclass.s"), S(sc[i]), 0, 0, 1UL << i, 0);
		FT("fclass.d", CLASS("fclass.d"), dc[i], 0, 0, 1UL << i, 0);
	}
	FT("fclass.s max subnormal", CLASS("fclass.s"), S(0x007fffff), 0, 0, 1 << 5, 0);
	FT("fclass.d -max", CLASS("fclass.d"), D_MAX | D_NZERO, 0, 0, 1 << 1, 0);

	FT("fsgnj.s", OP2N("fsgnj.s"), S(S_ONE), S(0xc0000000), 0, S(S_MONE), 0);
	FT("fsgnjn.s", OP2N("fsgnjn.s"), S(S_ONE), S(0xc0000000), 0, S(S_ONE), 0);
	FT("fsgnjx.s", OP2N("fsgnjx.s"), S(S_MONE), S(0xc0000000), 0, S(S_ONE), 0);
	FT("fsgnjx.s +", OP2N("fsgnjx.s"), S(S_MONE), S(S_TWO), 0, S(S_MONE), 0);
	FT("fsgnj.s sNaN untouched", OP2N("fsgnj.s"), S(S_SNAN), S(S_MONE), 0,
	   S(S_SNAN | 0x80000000), 0);
	FT("fsgnj.d", OP2N("fsgnj.d"), D_ONE, D_MONE, 0, D_MONE, 0);
	FT("fsgnjn.d", OP2N("fsgnjn.d"), D_MONE, D_MONE, 0, D_ONE, 0);
	FT("fsgnjx.d", OP2N("fsgnjx.d"), D_MONE, D_MONE, 0, D_ONE, 0);
	FT("fsgnjn.d sNaN", OP2N("fsgnjn.d"), D_SNAN, D_SNAN, 0, D_SNAN | D_NZERO, 0);
	FT("fabs.s", "fabs.s ft3, ft0\n\tfmv.x.d %0, ft3", S(0x80000001), 0, 0, S(1), 0);
	FT("fneg.s", "fneg.s ft3, ft0\n\tfmv.x.d %0, ft3", S(S_QNAN), 0, 0, S(S_QNAN | 0x80000000),
	   0);
	FT("fabs.d", "fabs.d ft3, ft0\n\tfmv.x.d %0, ft3", D_NINF, 0, 0, D_INF, 0);
	FT("fneg.d", "fneg.d ft3, ft0\n\tfmv.x.d %0, ft3", 0, 0, 0, D_NZERO, 0);
	FT("fmv.s", "fmv.s ft3, ft0\n\tfmv.x.d %0, ft3", S(0x12345678), 0, 0, S(0x12345678), 0);
	FT("fmv.d", "fmv.d ft3, ft0\n\tfmv.x.d %0, ft3", D_SNAN, 0, 0, D_SNAN, 0);
}

static void test_fma_sqrt(void)
{
	FT("fmadd.s", OP3("fmadd.s", "rne"), S(S_TWO), S(0x40400000), S(S_ONE), S(0x40e00000), 0);
	FT("fmsub.s", OP3("fmsub.s", "rne"), S(S_TWO), S(0x40400000), S(S_ONE), S(0x40a00000), 0);
	FT("fnmsub.s", OP3("fnmsub.s", "rne"), S(S_TWO), S(0x40400000), S(S_ONE), S(0xc0a00000), 0);
	FT("fnmadd.s", OP3("fnmadd.s", "rne"), S(S_TWO), S(0x40400000), S(S_ONE), S(0xc0e00000), 0);
	FT("fmadd.d", OP3("fmadd.d", "rne"), D_TWO, 0x4008000000000000UL, D_ONE,
	   0x401c000000000000UL, 0);
	FT("fmsub.d", OP3("fmsub.d", "rne"), D_TWO, 0x4008000000000000UL, D_ONE,
	   0x4014000000000000UL, 0);
	FT("fnmsub.d", OP3("fnmsub.d", "rne"), D_TWO, 0x4008000000000000UL, D_ONE,
	   0xc014000000000000UL, 0);
	FT("fnmadd.d", OP3("fnmadd.d", "rne"), D_TWO, 0x4008000000000000UL, D_ONE,
	   0xc01c000000000000UL, 0);
	/* one rounding: (1+2^-30)(1-2^-30) - 1 = -2^-60 exactly */
	FT("fmadd.d fused", OP3("fmadd.d", "rne"), 0x3ff0000000400000UL, 0x3fefffffff800000UL,
	   D_MONE, 0xbc30000000000000UL, 0);
	FT("fmul+fadd unfused",
	   "fmul.d ft3, ft0, ft1, rne\n\t"
	   "fadd.d ft3, ft3, ft2, rne\n\tfmv.x.d %0, ft3",
	   0x3ff0000000400000UL, 0x3fefffffff800000UL, D_MONE, 0, NX);
	FT("fmadd.s fused", OP3("fmadd.s", "rne"), S(0x3f800001), S(0x3f7ffffe), S(S_MONE),
	   S(0xa8800000), 0);
	/* inf * 0 + qNaN is invalid */
	FT("fmadd.d inf*0+qNaN", OP3("fmadd.d", "rne"), D_INF, 0, D_QNAN, D_QNAN, NV);
	FT("fmadd.s inf*0+1", OP3("fmadd.s", "rne"), S(0), S(S_NINF), S(S_ONE), S(S_QNAN), NV);
	FT("fmadd.d 1*1+sNaN", OP3("fmadd.d", "rne"), D_ONE, D_ONE, D_SNAN, D_QNAN, NV);
	FT("fmsub.s inf*1-inf", OP3("fmsub.s", "rne"), S(S_INF), S(S_ONE), S(S_INF), S(S_QNAN), NV);
	/* rounding of the fused result */
	FT("fmadd.d rup", OP3("fmadd.d", "rup"), D_ONE, D_ONE, 0x3ca0000000000000UL, D_ONE + 1, NX);
	FT("fnmadd.d rdn", OP3("fnmadd.d", "rdn"), D_ONE, D_ONE, 0x3ca0000000000000UL, D_MONE + 1,
	   NX);

	FT("fsqrt.s 4", OP1("fsqrt.s", "rne"), S(0x40800000), 0, 0, S(S_TWO), 0);
	FT("fsqrt.d 2", OP1("fsqrt.d", "rne"), D_TWO, 0, 0, 0x3ff6a09e667f3bcdUL, NX);
	FT("fsqrt.d 2 rup", OP1("fsqrt.d", "rup"), D_TWO, 0, 0, 0x3ff6a09e667f3bcdUL, NX);
	FT("fsqrt.d 2 rdn", OP1("fsqrt.d", "rdn"), D_TWO, 0, 0, 0x3ff6a09e667f3bccUL, NX);
	FT("fsqrt.s 2", OP1("fsqrt.s", "rne"), S(S_TWO), 0, 0, S(0x3fb504f3), NX);
	FT("fsqrt.s -1", OP1("fsqrt.s", "rne"), S(S_MONE), 0, 0, S(S_QNAN), NV);
	FT("fsqrt.d -0", OP1("fsqrt.d", "rne"), D_NZERO, 0, 0, D_NZERO, 0);
	FT("fsqrt.d inf", OP1("fsqrt.d", "rne"), D_INF, 0, 0, D_INF, 0);
	FT("fsqrt.d -inf", OP1("fsqrt.d", "rne"), D_NINF, 0, 0, D_QNAN, NV);
	FT("fsqrt.s sNaN", OP1("fsqrt.s", "rne"), S(S_SNAN), 0, 0, S(S_QNAN), NV);
}

static void test_fcsr(void)
{
	csr_write(fcsr, 0xff);
	CHECK("fcsr 0xff", csr_read(fcsr), 0xff);
	CHECK("frm from fcsr", csr_read(frm), 7);
	CHECK("fflags from fcsr", csr_read(fflags), 0x1f);
	csr_write(fcsr, ~0UL);
	CHECK("fcsr upper bits read 0", csr_read(fcsr), 0xff);
	csr_write(fflags, 0x3);
	CHECK("fflags write keeps frm", csr_read(fcsr), 0xe3);
	csr_write(frm, 1);
	CHECK("frm write keeps fflags", csr_read(fcsr), 0x23);
	csr_write(fflags, ~0UL);
	CHECK("fflags 5 bits", csr_read(fflags), 0x1f);
	csr_write(frm, ~0UL);
	CHECK("frm 3 bits", csr_read(frm), 7);
	u64 old;
	asm volatile("fsrm %0, %1" : "=r"(old) : "r"(2UL));
	CHECK("fsrm returns old", old, 7);
	CHECK("fsrm wrote", csr_read(frm), 2);
	asm volatile("fsflags %0, %1" : "=r"(old) : "r"(0UL));
	CHECK("fsflags returns old", old, 0x1f);
	asm volatile("csrsi fflags, %0" ::"i"(NX));
	CHECK("csrsi fflags", csr_read(fflags), NX);
	/* flags accumulate */
	u64 fl;
	csr_write(fcsr, 0);
	asm volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, zero\n\t"
		     "fdiv.d ft2, ft0, ft1\n\tfmv.d.x ft1, %2\n\t"
		     "fdiv.d ft2, ft0, ft1\n\tfrflags %0"
		     : "=r"(fl)
		     : "r"(D_ONE), "r"(0x4008000000000000UL)
		     : "ft0", "ft1", "ft2");
	CHECK("fflags accumulate DZ|NX", fl, DZ | NX);
	csr_write(fcsr, 0);
}

static void test_fs(void)
{
	u64 pc, bits;
	csr_clear(mstatus, MSTATUS_FS);
	CHECK("FS=0 reads 0", csr_read(mstatus) & MSTATUS_FS, 0);
	CHECK("FS=0: SD clear", csr_read(mstatus) & MSTATUS_SD, 0);
	static const char *const names[] = {"fadd.d", "flw", "fmv.x.d", "csrr fcsr", "fsgnj.s"};
	for (int i = 0; i < 5; i++) {
		expect_trap(TRAP_SKIP);
		switch (i) {
		case 0:
			asm volatile("la %0, 1f\n1: fadd.d ft0, ft1, ft2" : "=r"(pc)::"ft0");
			break;
		case 1:
			asm volatile("la %0, 1f\n1: flw ft0, 0(sp)" : "=r"(pc)::"ft0");
			break;
		case 2:
			asm volatile("la %0, 1f\n1: fmv.x.d t0, ft0" : "=r"(pc)::"t0");
			break;
		case 3:
			asm volatile("la %0, 1f\n1: csrr t0, fcsr" : "=r"(pc)::"t0");
			break;
		default:
			asm volatile("la %0, 1f\n1: fsgnj.s ft0, ft1, ft1" : "=r"(pc)::"ft0");
			break;
		}
		trap_action = TRAP_NONE;
		check_eq_at(__FILE__, __LINE__, names[i], 0, 0, trap_last.count, 1);
		check_eq_at(__FILE__, __LINE__, names[i], 0, 0, trap_last.cause, CAUSE_ILLEGAL);
		bits = *(volatile u32 *)pc;
		if ((bits & 3) != 3)
			bits &= 0xffff;
		check_eq_at(__FILE__, __LINE__, names[i], trap_last.tval, bits,
			    trap_last.tval == 0 || trap_last.tval == bits, 1);
	}
	/* Initial -> Dirty on an FP register write; SD follows. */
	csr_set(mstatus, 1UL << 13);
	CHECK("FS=Initial", csr_read(mstatus) & MSTATUS_FS, 1UL << 13);
	CHECK("FS=Initial: SD clear", csr_read(mstatus) & MSTATUS_SD, 0);
	asm volatile("fmv.d.x ft0, zero" ::: "ft0");
	CHECK("FS Dirty after FP write", csr_read(mstatus) & MSTATUS_FS, MSTATUS_FS);
	CHECK("SD set", csr_read(mstatus) & MSTATUS_SD, MSTATUS_SD);
	CHECK("sstatus.SD mirrors", csr_read(sstatus) & MSTATUS_SD, MSTATUS_SD);
	CHECK("sstatus.FS mirrors", csr_read(sstatus) & MSTATUS_FS, MSTATUS_FS);
	/* Clean -> Dirty on an fcsr write */
	csr_clear(mstatus, MSTATUS_FS);
	csr_set(mstatus, 2UL << 13);
	CHECK("FS=Clean", csr_read(mstatus) & MSTATUS_FS, 2UL << 13);
	csr_write(fflags, 1);
	CHECK("FS Dirty after fflags write", csr_read(mstatus) & MSTATUS_FS, MSTATUS_FS);
	csr_clear(mstatus, MSTATUS_FS);
	csr_set(mstatus, 2UL << 13);
	asm volatile("fadd.s ft0, ft1, ft1" ::: "ft0");
	CHECK("FS Dirty after arithmetic", csr_read(mstatus) & MSTATUS_FS, MSTATUS_FS);
	csr_write(fcsr, 0);
}

int main(u64 hartid)
{
	(void)hartid;
	csr_write(fcsr, 0);
	test_rounding();
	test_nanbox();
	test_convert();
	test_minmax_cmp();
	test_class_sign();
	test_fma_sqrt();
	test_fcsr();
	test_fs();
	return test_result();
}
