/* SPDX-License-Identifier: MIT */
/*
 * Zicsr and the privileged architecture: CSR instruction semantics,
 * misa/mhartid/mstatus, trap causes and values, mtvec modes, delegation,
 * mode changes, counter gating and the TW/TVM/TSR traps.
 */
#include "isa.h"

const char *test_name = "priv";

/*
 * Runs 'insn' with an armed TRAP_SKIP; evaluates to 1 when it trapped.
 * The address of the instruction is left in 'pc'.
 */
#define TRAPS(pc, insn)                                                                            \
	({                                                                                         \
		expect_trap(TRAP_SKIP);                                                            \
		asm volatile(".option push\n.option norvc\n"                                       \
			     "la %0, 1f\n1: " insn "\n.option pop"                                 \
			     : "=&r"(pc)                                                           \
			     :                                                                     \
			     : "t0", "t1", "memory");                                              \
		int t_ = (int)trap_last.count;                                                     \
		trap_action = TRAP_NONE;                                                           \
		t_;                                                                                \
	})

/* An illegal-instruction trap at 'pc': mtval is 0 or the instruction. */
static void check_illegal_at(int line, const char *what, int trapped, u64 pc)
{
	check_eq_at(__FILE__, line, what, pc, 0, trapped, 1);
	if (!trapped)
		return;
	check_eq_at(__FILE__, line, what, pc, 1, trap_last.cause, CAUSE_ILLEGAL);
	check_eq_at(__FILE__, line, what, pc, 2, trap_last.epc, pc);
	u64 bits = *(volatile u32 *)pc;
	check_eq_at(__FILE__, line, what, pc, trap_last.tval,
		    trap_last.tval == 0 || trap_last.tval == bits, 1);
}
#define ILLEGAL(what, insn)                                                                        \
	do {                                                                                       \
		u64 pc_;                                                                           \
		int t_ = TRAPS(pc_, insn);                                                         \
		check_illegal_at(__LINE__, what, t_, pc_);                                         \
	} while (0)
#define LEGAL(what, insn)                                                                          \
	do {                                                                                       \
		u64 pc_;                                                                           \
		int t_ = TRAPS(pc_, insn);                                                         \
		check_eq_at(__FILE__, __LINE__, what " must not trap", pc_, trap_last.cause, t_,   \
			    0);                                                                    \
	} while (0)

static void test_csr_ops(void)
{
	u64 old, v;
	csr_write(sscratch, 0x1234);
	asm volatile("csrrw %0, sscratch, %1" : "=r"(old) : "r"(0xf0f0UL));
	CHECK("csrrw old", old, 0x1234);
	CHECK("csrrw new", csr_read(sscratch), 0xf0f0);
	asm volatile("csrrs %0, sscratch, %1" : "=r"(old) : "r"(0x0f0fUL));
	CHECK("csrrs old", old, 0xf0f0);
	CHECK("csrrs new", csr_read(sscratch), 0xffff);
	asm volatile("csrrc %0, sscratch, %1" : "=r"(old) : "r"(0x00ffUL));
	CHECK("csrrc old", old, 0xffff);
	CHECK("csrrc new", csr_read(sscratch), 0xff00);
	asm volatile("csrrwi %0, sscratch, 31" : "=r"(old));
	CHECK("csrrwi old", old, 0xff00);
	CHECK("csrrwi new", csr_read(sscratch), 31);
	asm volatile("csrrci %0, sscratch, 5" : "=r"(old));
	CHECK("csrrci old", old, 31);
	CHECK("csrrci new", csr_read(sscratch), 26);
	asm volatile("csrrsi %0, sscratch, 1" : "=r"(old));
	CHECK("csrrsi old", old, 26);
	CHECK("csrrsi new", csr_read(sscratch), 27);
	asm volatile("csrrsi %0, sscratch, 0" : "=r"(old));
	CHECK("csrrsi 0 reads", old, 27);
	asm volatile("csrrs %0, sscratch, x0" : "=r"(old));
	CHECK("csrrs x0 reads", old, 27);
	csr_write(sscratch, -1);
	CHECK("csrw full 64 bits", csr_read(sscratch), -1);
	/* rd = x0 and rd = rs1 */
	v = 5;
	asm volatile("csrrw %0, sscratch, %0" : "+r"(v));
	CHECK("csrrw rd==rs1 reads old", v, -1);
	CHECK("csrrw rd==rs1 writes", csr_read(sscratch), 5);
	asm volatile("csrrw x0, sscratch, %0" ::"r"(9UL));
	CHECK("csrrw rd=x0 writes", csr_read(sscratch), 9);

	/* mscratch too (the trap entry needs it: restore before any trap). */
	u64 saved = csr_read(mscratch);
	csr_write(mscratch, 0xdeadbeefcafe);
	v = csr_swap(mscratch, saved);
	CHECK("mscratch", v, 0xdeadbeefcafe);

	/* Read-only CSRs: reading is fine, any write attempt is illegal. */
	LEGAL("csrrs mhartid, x0", "csrrs t0, mhartid, x0");
	LEGAL("csrrsi mhartid, 0", "csrrsi t0, mhartid, 0");
	LEGAL("csrrci mhartid, 0", "csrrci t0, mhartid, 0");
	ILLEGAL("csrrs mhartid, sp", "csrrs t0, mhartid, sp");
	ILLEGAL("csrrc mhartid, sp", "csrrc t0, mhartid, sp");
	ILLEGAL("csrrw x0, mhartid", "csrrw x0, mhartid, t0");
	ILLEGAL("csrrwi mhartid", "csrrwi t0, mhartid, 0");
	ILLEGAL("csrw cycle", "csrw cycle, t0");
	ILLEGAL("csrw time", "csrw time, x0");
	ILLEGAL("csrs mvendorid", "csrrs t0, mvendorid, sp");
	ILLEGAL("nonexistent CSR 0x7ff", "csrr t0, 0x7ff");
	ILLEGAL("nonexistent CSR 0x5ff", "csrr t0, 0x5ff");
	ILLEGAL("all-ones instruction", ".word 0xffffffff");
	ILLEGAL("all-zero halfword", ".half 0");
	ILLEGAL("unknown opcode", ".word 0x0000007f & 0x5b");
}

static void test_machine_csrs(void)
{
	u64 misa = csr_read(misa);
	CHECK("misa MXL = 2 (RV64)", misa >> 62, 2);
	const char *ext = "IMAFDCSU";
	for (const char *e = ext; *e; e++) {
		u64 bit = 1UL << (*e - 'A');
		check_eq_at(__FILE__, __LINE__, "misa extension bit", (u64)*e, misa,
			    (misa & bit) != 0, 1);
	}
	CHECK("mhartid", csr_read(mhartid), 0);
	u64 ms = csr_read(mstatus);
	CHECK("mstatus.UXL = 2", (ms >> 32) & 3, 2);
	CHECK("mstatus.SXL = 2", (ms >> 34) & 3, 2);
	/* Writing UXL/SXL does not change them (XLEN is fixed at 64). */
	csr_clear(mstatus, MSTATUS_UXL | MSTATUS_SXL);
	ms = csr_read(mstatus);
	CHECK("UXL fixed", (ms >> 32) & 3, 2);
	CHECK("SXL fixed", (ms >> 34) & 3, 2);
	/* MPP holds M, S and U. */
	for (u64 m = 0; m < 4; m++) {
		if (m == 2)
			continue;
		csr_clear(mstatus, MSTATUS_MPP);
		csr_set(mstatus, m << 11);
		check_eq_at(__FILE__, __LINE__, "mstatus.MPP", m, 0, (csr_read(mstatus) >> 11) & 3,
			    m);
	}
	/* SPP is one bit, writable. */
	csr_set(mstatus, MSTATUS_SPP);
	CHECK("SPP set", (csr_read(mstatus) & MSTATUS_SPP) != 0, 1);
	csr_clear(mstatus, MSTATUS_SPP);
	CHECK("SPP clear", csr_read(mstatus) & MSTATUS_SPP, 0);
	/* sstatus is a view of mstatus. */
	csr_set(sstatus, MSTATUS_SIE | MSTATUS_SUM);
	CHECK("sstatus.SIE -> mstatus", csr_read(mstatus) & MSTATUS_SIE, MSTATUS_SIE);
	CHECK("sstatus.SUM -> mstatus", csr_read(mstatus) & MSTATUS_SUM, MSTATUS_SUM);
	csr_clear(mstatus, MSTATUS_SIE | MSTATUS_SUM);
	CHECK("mstatus -> sstatus", csr_read(sstatus) & (MSTATUS_SIE | MSTATUS_SUM), 0);
	csr_set(mstatus, MSTATUS_MIE);
	CHECK("sstatus hides MIE", csr_read(sstatus) & MSTATUS_MIE, 0);
	csr_clear(mstatus, MSTATUS_MIE);
	CHECK("sstatus.UXL = 2", (csr_read(sstatus) >> 32) & 3, 2);
	/* mepc/sepc hold an address (bit 0: see priv_strict.c). */
	csr_write(mepc, 0x80001232);
	CHECK("mepc", csr_read(mepc), 0x80001232);
	csr_write(sepc, 0x80001230);
	CHECK("sepc", csr_read(sepc), 0x80001230);
	/* mtvec: direct mode keeps the base; mode 1 is vectored. */
	u64 tv = csr_read(mtvec);
	CHECK("mtvec direct", tv, (u64)trap_entry);
	csr_write(mtvec, 0x80000101);
	CHECK("mtvec vectored", csr_read(mtvec), 0x80000101);
	csr_write(mtvec, tv);
	csr_write(stvec, 0x80000201);
	CHECK("stvec vectored", csr_read(stvec), 0x80000201);
	csr_write(stvec, 0x80000200);
	CHECK("stvec direct", csr_read(stvec), 0x80000200);
}

static void test_exceptions(void)
{
	u64 pc;
	int t = TRAPS(pc, "ecall");
	CHECK("ecall from M traps", t, 1);
	CHECK("ecall from M: mcause 11", trap_last.cause, CAUSE_ECALL_M);
	CHECK("ecall from M: mepc", trap_last.epc, pc);
	CHECK("ecall from M: mtval 0", trap_last.tval, 0);
	t = TRAPS(pc, "ebreak");
	CHECK("ebreak traps", t, 1);
	CHECK("ebreak: mcause 3", trap_last.cause, CAUSE_BREAKPOINT);
	CHECK("ebreak: mepc", trap_last.epc, pc);
	CHECK("ebreak: mtval is pc or 0", trap_last.tval == pc || trap_last.tval == 0, 1);
	/* A trap from M sets MPP = M; the mret back sets MPP = U, MPIE = 1. */
	csr_clear(mstatus, MSTATUS_MPIE);
	csr_set(mstatus, MSTATUS_MPP);
	t = TRAPS(pc, "ecall");
	CHECK("trap from M: MPP = M", trap_last.mpp, MODE_M);
	u64 ms = csr_read(mstatus);
	CHECK("mret: MPP = U", (ms >> 11) & 3, MODE_U);
	CHECK("mret: MPIE = 1", ms & MSTATUS_MPIE, MSTATUS_MPIE);
	CHECK("mret: MIE = old MPIE (0)", ms & MSTATUS_MIE, 0);
	/* With MIE=1 (and no interrupt enabled): the trap saves MIE in MPIE
	 * and clears MIE; mret restores it. */
	csr_write(mie, 0);
	csr_set(mstatus, MSTATUS_MIE);
	t = TRAPS(pc, "ecall");
	CHECK("trap: MIE cleared in handler", trap_last.mstatus & MSTATUS_MIE, 0);
	CHECK("trap: MPIE = old MIE (1)", trap_last.mstatus & MSTATUS_MPIE, MSTATUS_MPIE);
	CHECK("mret: MIE back to 1", csr_read(mstatus) & MSTATUS_MIE, MSTATUS_MIE);
	csr_clear(mstatus, MSTATUS_MIE);
	/* A fetch from a misaligned target cannot happen with C; jumping to
	 * unmapped space gives an instruction access fault with mtval. */
	trap_resume_pc = (u64) && resumed;
	expect_trap(TRAP_RESUME);
	asm volatile("jr %0" ::"r"(0x1000000000UL));
resumed:
	trap_action = TRAP_NONE;
	CHECK("fetch from nowhere: access fault", trap_last.cause, CAUSE_FETCH_ACCESS);
	CHECK("fetch fault mtval", trap_last.tval, 0x1000000000UL);
	CHECK("fetch fault mepc", trap_last.epc, 0x1000000000UL);
	/* Loads and stores to nothing: access faults with mtval. */
	expect_trap(TRAP_SKIP);
	asm volatile("ld t0, 0(%0)" ::"r"(0x1000000008UL) : "t0");
	CHECK("load access fault", trap_last.cause, CAUSE_LOAD_ACCESS);
	CHECK("load access fault mtval", trap_last.tval, 0x1000000008UL);
	expect_trap(TRAP_SKIP);
	asm volatile("sd t0, 0(%0)" ::"r"(0x1000000010UL) : "memory");
	CHECK("store access fault", trap_last.cause, CAUSE_STORE_ACCESS);
	CHECK("store access fault mtval", trap_last.tval, 0x1000000010UL);
}

/* Vectored mtvec: exceptions still go to the base. */
extern char vec_table[];
asm(".text\n.option push\n.option norvc\n.align 8\nvec_table:\n"
    "j trap_entry\n"
    ".rept 15\nj vec_wrong\n.endr\n"
    "vec_wrong:\n"
    "li a0, 0x7777\n"
    "call vec_wrong_c\n.option pop\n");
void vec_wrong_c(void)
{
	FAIL_NOW("exception went to a vectored slot");
}

static void test_vectored_exceptions(void)
{
	u64 pc, tv = csr_read(mtvec);
	csr_write(mtvec, (u64)vec_table | 1);
	CHECK("mtvec vectored readback", csr_read(mtvec), (u64)vec_table | 1);
	int t = TRAPS(pc, "ecall");
	CHECK("vectored: ecall lands at base", t, 1);
	ILLEGAL("vectored: illegal lands at base", ".half 0");
	csr_write(mtvec, tv);
}

/* ---- lower modes ---- */

static volatile u64 lower_val;

static void in_s_ecall(u64 arg)
{
	(void)arg;
	lower_val = csr_read(sstatus);
	lower_exit();
}

static void in_u_ecall(u64 arg)
{
	lower_val = arg + 1;
	lower_exit();
}

static void in_s_priv(u64 arg)
{
	(void)arg;
	ILLEGAL("S: csrr mstatus", "csrr t0, mstatus");
	ILLEGAL("S: csrw mscratch", "csrw mscratch, t0");
	ILLEGAL("S: csrr mhartid", "csrr t0, mhartid");
	ILLEGAL("S: csrr medeleg", "csrr t0, medeleg");
	ILLEGAL("S: mret", "mret");
	LEGAL("S: csrr sstatus", "csrr t0, sstatus");
	LEGAL("S: csrw sscratch", "csrw sscratch, t0");
	LEGAL("S: csrr stvec", "csrr t0, stvec");
	u64 pc;
	int t = TRAPS(pc, "ebreak");
	CHECK("S: ebreak traps to M", t, 1);
	CHECK("S: ebreak cause", trap_last.cause, CAUSE_BREAKPOINT);
	CHECK("S: trap records MPP = S", trap_last.mpp, MODE_S);
	lower_exit();
}

static void in_u_priv(u64 arg)
{
	(void)arg;
	ILLEGAL("U: csrr sstatus", "csrr t0, sstatus");
	ILLEGAL("U: csrr mstatus", "csrr t0, mstatus");
	ILLEGAL("U: csrw sscratch", "csrw sscratch, t0");
	ILLEGAL("U: sret", "sret");
	ILLEGAL("U: mret", "mret");
	ILLEGAL("U: sfence.vma", "sfence.vma");
	ILLEGAL("U: csrr satp", "csrr t0, satp");
	CHECK("U: trap records MPP = U", trap_last.mpp, MODE_U);
	lower_exit();
}

static void test_modes(void)
{
	csr_set(mstatus, MSTATUS_MIE);
	csr_clear(mstatus, MSTATUS_MPIE);
	u64 c = run_in_mode(MODE_S, in_s_ecall, 0);
	CHECK("ecall from S: mcause 9", c, CAUSE_ECALL_S);
	CHECK("mret cleared MIE from MPIE (0)", csr_read(mstatus) & MSTATUS_MIE, 0);
	c = run_in_mode(MODE_U, in_u_ecall, 41);
	CHECK("ecall from U: mcause 8", c, CAUSE_ECALL_U);
	CHECK("U ran with its argument", lower_val, 42);
	CHECK("ecall from U: mtval 0", trap_last.tval, 0);
	CHECK("after mret, MPP = U", (csr_read(mstatus) >> 11) & 3, MODE_U);
	run_in_mode(MODE_S, in_s_priv, 0);
	run_in_mode(MODE_U, in_u_priv, 0);
}

/* ---- delegation ---- */

static volatile u64 s_cause, s_epc, s_tval, s_spp, s_status;

/* S-mode trap handler: record and end the run with an S ecall. */
__attribute__((aligned(4))) static void s_trap(void)
{
	s_cause = csr_read(scause);
	s_epc = csr_read(sepc);
	s_tval = csr_read(stval);
	s_status = csr_read(sstatus);
	s_spp = (s_status & MSTATUS_SPP) != 0;
	asm volatile("ecall");
}

/* The same for S ecalls delegated to S: leaves through an ebreak to M. */
__attribute__((aligned(4))) static void s_trap_ebreak(void)
{
	s_cause = csr_read(scause);
	s_epc = csr_read(sepc);
	s_spp = (csr_read(sstatus) & MSTATUS_SPP) != 0;
	asm volatile("ebreak");
}

static void in_s_ecall_to_s(u64 arg)
{
	(void)arg;
	csr_write(stvec, (u64)s_trap_ebreak);
	asm volatile("ecall");
}

static void in_u_ecall_plain(void)
{
	asm volatile("ecall\n\tebreak");
}

static void in_u_illegal(void)
{
	asm volatile(".word 0x30002573"); /* csrr a0, mstatus */
}

static void s_drop_to_u(u64 fn)
{
	csr_write(stvec, (u64)s_trap);
	/* sret: U runs with SIE = SPIE = 1 (no S interrupt is enabled) */
	csr_clear(sstatus, MSTATUS_SPP | MSTATUS_SIE);
	csr_set(sstatus, MSTATUS_SPIE);
	csr_write(sepc, fn);
	asm volatile("sret");
}

static void in_s_ecall_deleg(u64 arg)
{
	(void)arg;
	csr_write(stvec, (u64)s_trap);
	asm volatile("ecall");
}

static void test_delegation(void)
{
	CHECK("medeleg starts 0", csr_read(medeleg), 0);
	csr_write(medeleg, 1UL << CAUSE_ECALL_U | 1UL << CAUSE_ILLEGAL);
	CHECK("medeleg writable", csr_read(medeleg), 1UL << CAUSE_ECALL_U | 1UL << CAUSE_ILLEGAL);
	s_cause = 0;
	u64 c = run_in_mode(MODE_S, s_drop_to_u, (u64)in_u_ecall_plain);
	CHECK("delegated U ecall: run ended by S ecall", c, CAUSE_ECALL_S);
	CHECK("delegated U ecall: scause 8", s_cause, CAUSE_ECALL_U);
	CHECK("delegated U ecall: sepc", s_epc, (u64)in_u_ecall_plain);
	CHECK("delegated U ecall: SPP = U", s_spp, 0);
	CHECK("delegated trap: SPIE = old SIE (1)", s_status & MSTATUS_SPIE, MSTATUS_SPIE);
	CHECK("delegated trap: SIE cleared", s_status & MSTATUS_SIE, 0);
	s_cause = 0;
	c = run_in_mode(MODE_S, s_drop_to_u, (u64)in_u_illegal);
	CHECK("delegated illegal: scause 2", s_cause, CAUSE_ILLEGAL);
	CHECK("delegated illegal: stval 0 or bits", s_tval == 0 || s_tval == 0x30002573, 1);
	/* Not delegated: ecall from S still goes to M even with bit 9 set? No:
	 * medeleg bit 9 delegates S ecalls to S; leave it clear here. */
	c = run_in_mode(MODE_S, in_s_ecall_deleg, 0);
	CHECK("undelegated S ecall goes to M", c, CAUSE_ECALL_S);
	/* S ecalls delegated to S: scause 9, SPP = S. */
	csr_set(medeleg, 1UL << CAUSE_ECALL_S);
	s_cause = 0;
	expect_trap(TRAP_EXIT);
	c = run_in_mode(MODE_S, in_s_ecall_to_s, 0);
	trap_action = TRAP_NONE;
	CHECK("S ecall delegated: handled in S", s_cause, CAUSE_ECALL_S);
	CHECK("S ecall delegated: SPP = S", s_spp, 1);
	CHECK("S ecall delegated: the S handler's ebreak reached M", c, CAUSE_BREAKPOINT);
	csr_clear(medeleg, 1UL << CAUSE_ECALL_S);
	/* Delegation never applies to traps taken in M-mode. */
	ILLEGAL("M-mode illegal stays in M", ".half 0");
	/* Undelegate: U ecall goes to M again. */
	csr_write(medeleg, 0);
	c = run_in_mode(MODE_U, in_u_ecall, 0);
	CHECK("undelegated U ecall goes to M", c, CAUSE_ECALL_U);
}

/* ---- counters ---- */

static volatile u64 ctr_trapped;

static void read_counter(u64 which)
{
	u64 pc;
	int t;
	if (which == 0)
		t = TRAPS(pc, "csrr t0, cycle");
	else if (which == 1)
		t = TRAPS(pc, "csrr t0, time");
	else
		t = TRAPS(pc, "csrr t0, instret");
	ctr_trapped = (u64)t;
	if (t)
		check_illegal_at(__LINE__, "counter read", t, pc);
}

static void in_lower_read_counter(u64 which)
{
	read_counter(which);
	lower_exit();
}

static void test_counters(void)
{
	u64 i0 = csr_read(instret), c0 = csr_read(cycle);
	u64 mi0 = csr_read(minstret);
	for (volatile int i = 0; i < 1000; i++)
		;
	u64 i1 = csr_read(instret), c1 = csr_read(cycle);
	u64 mi1 = csr_read(minstret);
	CHECK("instret advanced >= 1000", i1 - i0 >= 1000, 1);
	CHECK("minstret advanced", mi1 - mi0 >= 1000, 1);
	CHECK("cycle advanced", c1 > c0, 1);
	/* Exact counting and writes to minstret: priv_strict.c. */
	u64 t0 = mmio_read64(CLINT_MTIME);
	u64 t = csr_read(time);
	u64 t1 = mmio_read64(CLINT_MTIME);
	CHECK("time within mtime reads", t0 <= t && t <= t1, 1);
	for (volatile int i = 0; i < 20000; i++)
		;
	CHECK("time advances", csr_read(time) > t, 1);

	/* mcounteren gates S (and U); scounteren additionally gates U. */
	for (u64 k = 0; k < 3; k++) {
		csr_write(mcounteren, 0);
		csr_write(scounteren, 7);
		run_in_mode(MODE_S, in_lower_read_counter, k);
		check_eq_at(__FILE__, __LINE__, "S read, mcounteren clear", k, 0, ctr_trapped, 1);
		run_in_mode(MODE_U, in_lower_read_counter, k);
		check_eq_at(__FILE__, __LINE__, "U read, mcounteren clear", k, 0, ctr_trapped, 1);
		csr_write(mcounteren, 1UL << k);
		run_in_mode(MODE_S, in_lower_read_counter, k);
		check_eq_at(__FILE__, __LINE__, "S read, mcounteren set", k, 0, ctr_trapped, 0);
		run_in_mode(MODE_U, in_lower_read_counter, k);
		check_eq_at(__FILE__, __LINE__, "U read, both set", k, 0, ctr_trapped, 0);
		csr_write(scounteren, 7 & ~(1UL << k));
		run_in_mode(MODE_U, in_lower_read_counter, k);
		check_eq_at(__FILE__, __LINE__, "U read, scounteren clear", k, 0, ctr_trapped, 1);
		run_in_mode(MODE_S, in_lower_read_counter, k);
		check_eq_at(__FILE__, __LINE__, "S read ignores scounteren", k, 0, ctr_trapped, 0);
	}
	csr_write(mcounteren, 0);
	csr_write(scounteren, 0);
}

/* ---- TW, TVM, TSR ---- */

static void in_s_tw(u64 arg)
{
	(void)arg;
	ILLEGAL("S: wfi with TW=1", "wfi");
	lower_exit();
}

static void in_s_tvm(u64 on)
{
	if (on) {
		ILLEGAL("S: csrw satp with TVM=1", "csrw satp, x0");
		ILLEGAL("S: csrr satp with TVM=1", "csrr t0, satp");
		ILLEGAL("S: sfence.vma with TVM=1", "sfence.vma");
	} else {
		LEGAL("S: csrw satp with TVM=0", "csrw satp, x0");
		LEGAL("S: sfence.vma with TVM=0", "sfence.vma");
	}
	lower_exit();
}

static void in_s_tsr(u64 arg)
{
	(void)arg;
	csr_write(sepc, (u64)lower_exit);
	ILLEGAL("S: sret with TSR=1", "sret");
	lower_exit();
}

static void s_sret_target(void)
{
	lower_val = 0x5e7;
	s_status = csr_read(sstatus);
	lower_exit();
}

static void in_s_sret(u64 arg)
{
	(void)arg;
	/* sret: SIE = SPIE (0), SPIE = 1, SPP = U */
	csr_set(sstatus, MSTATUS_SPP | MSTATUS_SIE);
	csr_clear(sstatus, MSTATUS_SPIE);
	csr_write(sepc, (u64)s_sret_target);
	asm volatile("sret");
}

static void test_traps_tw_tvm_tsr(void)
{
	csr_set(mstatus, MSTATUS_TW);
	run_in_mode(MODE_S, in_s_tw, 0);
	csr_clear(mstatus, MSTATUS_TW);
	csr_set(mstatus, MSTATUS_TVM);
	run_in_mode(MODE_S, in_s_tvm, 1);
	csr_clear(mstatus, MSTATUS_TVM);
	run_in_mode(MODE_S, in_s_tvm, 0);
	csr_set(mstatus, MSTATUS_TSR);
	run_in_mode(MODE_S, in_s_tsr, 0);
	csr_clear(mstatus, MSTATUS_TSR);
	/* TSR=0: sret in S works (to S with SPP=1). */
	lower_val = 0;
	u64 c = run_in_mode(MODE_S, in_s_sret, 0);
	CHECK("sret with TSR=0 returns", lower_val, 0x5e7);
	CHECK("sret to S (SPP=1) stays in S", c, CAUSE_ECALL_S);
	CHECK("sret: SIE = old SPIE (0)", s_status & MSTATUS_SIE, 0);
	CHECK("sret: SPIE = 1", s_status & MSTATUS_SPIE, MSTATUS_SPIE);
	CHECK("sret: SPP = U", s_status & MSTATUS_SPP, 0);
	/* M-mode: TW/TVM/TSR do not apply. */
	csr_set(mstatus, MSTATUS_TVM);
	LEGAL("M: csrr satp with TVM=1", "csrr t0, satp");
	csr_clear(mstatus, MSTATUS_TVM);
}

int main(u64 hartid)
{
	(void)hartid;
	test_csr_ops();
	test_machine_csrs();
	test_exceptions();
	test_vectored_exceptions();
	test_modes();
	test_delegation();
	test_counters();
	test_traps_tw_tvm_tsr();
	return test_result();
}
