/* SPDX-License-Identifier: MIT */
/*
 * F and D over an operand grid: add/sub/mul/div/sqrt, the four fused
 * multiply-adds and the rounding conversions, in all five rounding modes,
 * each case run once with the static mode and once through frm.  The
 * cases (fp_cases.h) come from the exact-arithmetic model in gen_fp.py.
 */
#include "isa.h"

const char *test_name = "fp_grid";

#define FP_OPS(X)                                                                                  \
	X(FADD_S, "fadd.s ft3, ft0, ft1, ", 1)                                                     \
	X(FSUB_S, "fsub.s ft3, ft0, ft1, ", 1)                                                     \
	X(FMUL_S, "fmul.s ft3, ft0, ft1, ", 1)                                                     \
	X(FDIV_S, "fdiv.s ft3, ft0, ft1, ", 1)                                                     \
	X(FSQRT_S, "fsqrt.s ft3, ft0, ", 1)                                                        \
	X(FMADD_S, "fmadd.s ft3, ft0, ft1, ft2, ", 1)                                              \
	X(FMSUB_S, "fmsub.s ft3, ft0, ft1, ft2, ", 1)                                              \
	X(FNMSUB_S, "fnmsub.s ft3, ft0, ft1, ft2, ", 1)                                            \
	X(FNMADD_S, "fnmadd.s ft3, ft0, ft1, ft2, ", 1)                                            \
	X(FADD_D, "fadd.d ft3, ft0, ft1, ", 1)                                                     \
	X(FSUB_D, "fsub.d ft3, ft0, ft1, ", 1)                                                     \
	X(FMUL_D, "fmul.d ft3, ft0, ft1, ", 1)                                                     \
	X(FDIV_D, "fdiv.d ft3, ft0, ft1, ", 1)                                                     \
	X(FSQRT_D, "fsqrt.d ft3, ft0, ", 1)                                                        \
	X(FMADD_D, "fmadd.d ft3, ft0, ft1, ft2, ", 1)                                              \
	X(FMSUB_D, "fmsub.d ft3, ft0, ft1, ft2, ", 1)                                              \
	X(FNMSUB_D, "fnmsub.d ft3, ft0, ft1, ft2, ", 1)                                            \
	X(FNMADD_D, "fnmadd.d ft3, ft0, ft1, ft2, ", 1)                                            \
	X(FCVT_W_S, "fcvt.w.s %0, ft0, ", 0)                                                       \
	X(FCVT_WU_S, "fcvt.wu.s %0, ft0, ", 0)                                                     \
	X(FCVT_L_S, "fcvt.l.s %0, ft0, ", 0)                                                       \
	X(FCVT_LU_S, "fcvt.lu.s %0, ft0, ", 0)                                                     \
	X(FCVT_W_D, "fcvt.w.d %0, ft0, ", 0)                                                       \
	X(FCVT_WU_D, "fcvt.wu.d %0, ft0, ", 0)                                                     \
	X(FCVT_L_D, "fcvt.l.d %0, ft0, ", 0)                                                       \
	X(FCVT_LU_D, "fcvt.lu.d %0, ft0, ", 0)                                                     \
	X(FCVT_S_W, "fcvt.s.w ft3, %2, ", 1)                                                       \
	X(FCVT_S_WU, "fcvt.s.wu ft3, %2, ", 1)                                                     \
	X(FCVT_S_L, "fcvt.s.l ft3, %2, ", 1)                                                       \
	X(FCVT_S_LU, "fcvt.s.lu ft3, %2, ", 1)                                                     \
	X(FCVT_D_L, "fcvt.d.l ft3, %2, ", 1)                                                       \
	X(FCVT_D_LU, "fcvt.d.lu ft3, %2, ", 1)                                                     \
	X(FCVT_S_D, "fcvt.s.d ft3, ft0, ", 1)

#define ENUM(name, insn, fres) name,
enum { FP_OPS(ENUM) FP_NOPS };
#define NAME(name, insn, fres) insn,
static const char *const op_insn[] = {FP_OPS(NAME)};

struct fcase {
	int op;
	int rm;
	int flags;
	u64 a, b, c, want;
};

#include "fp_cases.h"

/* Loads ft0..ft2, clears fflags, runs 'insn' (result in %0), reads fflags. */
#define FEXEC(insn)                                                                                \
	asm volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\tfmv.d.x ft2, %4\n\t"                   \
		     "csrwi fflags, 0\n\t" insn "\n\tfrflags %1"                                   \
		     : "=&r"(r), "=&r"(fl)                                                         \
		     : "r"(a), "r"(b), "r"(c)                                                      \
		     : "ft0", "ft1", "ft2", "ft3")
#define RM_SWITCH(insn, fres)                                                                      \
	switch (rm) {                                                                              \
	case 0:                                                                                    \
		FEXEC(insn "rne" TAIL_##fres);                                                     \
		break;                                                                             \
	case 1:                                                                                    \
		FEXEC(insn "rtz" TAIL_##fres);                                                     \
		break;                                                                             \
	case 2:                                                                                    \
		FEXEC(insn "rdn" TAIL_##fres);                                                     \
		break;                                                                             \
	case 3:                                                                                    \
		FEXEC(insn "rup" TAIL_##fres);                                                     \
		break;                                                                             \
	case 4:                                                                                    \
		FEXEC(insn "rmm" TAIL_##fres);                                                     \
		break;                                                                             \
	default:                                                                                   \
		FEXEC(insn "dyn" TAIL_##fres);                                                     \
		break;                                                                             \
	}
#define TAIL_1 "\n\tfmv.x.d %0, ft3"
#define TAIL_0 ""
#define CASE(name, insn, fres)                                                                     \
	case name:                                                                                 \
		RM_SWITCH(insn, fres);                                                             \
		break;

/* rm 0-4: that static mode; 7: dyn (frm set by the caller). */
static u64 fp_exec(int op, int rm, u64 a, u64 b, u64 c, u64 *flags)
{
	u64 r = 0, fl = 0;
	switch (op) {
		FP_OPS(CASE)
	default:
		FAIL_NOW("bad op in table");
	}
	*flags = fl;
	return r;
}

static int fails;

static void run_case(const struct fcase *k, int dyn)
{
	u64 fl;
	if (dyn)
		csr_write(frm, k->rm);
	u64 r = fp_exec(k->op, dyn ? 7 : k->rm, k->a, k->b, k->c, &fl);
	test_cases++;
	if (r == k->want && fl == (u64)k->flags)
		return;
	static const char *const rms[] = {"rne", "rtz", "rdn", "rup", "rmm"};
	tprintf("FAIL %s%s%s (a %x b %x c %x): got %x flags %x, expected %x flags %x\n",
		op_insn[k->op], rms[k->rm], dyn ? " via frm" : "", k->a, k->b, k->c, r, fl, k->want,
		(u64)k->flags);
	if (++fails >= 40)
		test_fail_code(1);
}

int main(u64 hartid)
{
	(void)hartid;
	for (int i = 0; i < FP_NCASES; i++) {
		run_case(&fcases[i], 0);
		run_case(&fcases[i], 1);
	}
	csr_write(fcsr, 0);
	return fails ? 1 : test_result();
}
