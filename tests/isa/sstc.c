/* SPDX-License-Identifier: MIT */
/*
 * Sstc: the S-mode timer compare stimecmp, its gating by menvcfg.STCE and
 * mcounteren.TM, mip.STIP following time >= stimecmp, and a delegated
 * supervisor timer interrupt taken in S-mode.
 */
#include "isa.h"

const char *test_name = "sstc";

#define CSR_STIMECMP 0x14d
#define CSR_MENVCFG  0x30a
#define MENVCFG_STCE (1UL << 63)
#define MIP_STIP     (1UL << IRQ_STI)

static volatile u64 s_cause, s_stip, s_trapped, s_val;

#define TRAPS(insn)                                                                                \
	({                                                                                         \
		expect_trap(TRAP_SKIP);                                                            \
		asm volatile(insn ::: "t0", "memory");                                             \
		int t_ = (int)trap_last.count;                                                     \
		trap_action = TRAP_NONE;                                                           \
		t_ &&trap_last.cause == CAUSE_ILLEGAL ? 1 : t_ ? 2 : 0;                            \
	})

static u64 now(void)
{
	return csr_read(time);
}

static void s_access(u64 arg)
{
	(void)arg;
	/* 1 = read illegal, 4 = write illegal (2, 8: some other trap) */
	s_trapped = (u64)TRAPS("csrr t0, 0x14d") + 4 * (u64)TRAPS("li t0, -1\n\tcsrw 0x14d, t0");
	lower_exit();
}

__attribute__((aligned(4))) static void s_trap(void)
{
	s_cause = csr_read(scause);
	s_stip = csr_read(sip) & MIP_STIP;
	csr_write(CSR_STIMECMP, ~0UL); /* clears STIP */
	s_val = csr_read(sip) & MIP_STIP;
	asm volatile("ecall");
}

static void s_timer(u64 delta)
{
	csr_write(stvec, (u64)s_trap);
	csr_write(CSR_STIMECMP, now() + delta);
	csr_set(sie, MIP_STIP);
	csr_set(sstatus, MSTATUS_SIE);
	u64 end = now() + 10000000;
	while (now() < end)
		;
	s_cause = 0x1234; /* nothing came */
	lower_exit();
}

int main(u64 hartid)
{
	(void)hartid;
	csr_write(CSR_MENVCFG, MENVCFG_STCE);
	CHECK("menvcfg.STCE set", csr_read(CSR_MENVCFG) & MENVCFG_STCE, MENVCFG_STCE);
	csr_write(CSR_STIMECMP, ~0UL);
	CHECK("stimecmp readback", csr_read(CSR_STIMECMP), ~0UL);
	CHECK("stimecmp max: STIP clear", csr_read(mip) & MIP_STIP, 0);
	csr_write(CSR_STIMECMP, 0);
	CHECK("stimecmp 0: STIP set", csr_read(mip) & MIP_STIP, MIP_STIP);
	csr_clear(mip, MIP_STIP);
	CHECK("STIP not clearable through mip with STCE=1", csr_read(mip) & MIP_STIP, MIP_STIP);
	u64 t = now();
	csr_write(CSR_STIMECMP, t + 200000); /* 20 ms */
	/* (if this hart was descheduled past the compare, STIP is right) */
	CHECK("future stimecmp: STIP clear", !(csr_read(mip) & MIP_STIP) || now() >= t + 200000, 1);
	/* (QEMU can be late noticing the compare, more so on a busy host) */
	while (now() < t + 10200000 && !(csr_read(mip) & MIP_STIP))
		;
	CHECK("STIP not before stimecmp", now() >= t + 200000, 1);
	CHECK("STIP set once time passes", csr_read(mip) & MIP_STIP, MIP_STIP);
	csr_write(CSR_STIMECMP, ~0UL);

	/* Access from S: needs mcounteren.TM and menvcfg.STCE. */
	csr_write(mcounteren, 0);
	run_in_mode(MODE_S, s_access, 0);
	CHECK("S stimecmp with TM=0: read and write illegal", s_trapped, 5);
	csr_write(mcounteren, 2);
	run_in_mode(MODE_S, s_access, 0);
	CHECK("S stimecmp with TM=1, STCE=1: legal", s_trapped, 0);
	CHECK("S wrote stimecmp", csr_read(CSR_STIMECMP), ~0UL);
	csr_write(CSR_MENVCFG, 0);
	run_in_mode(MODE_S, s_access, 0);
	CHECK("S stimecmp with STCE=0: illegal", s_trapped, 5);
	csr_write(CSR_MENVCFG, MENVCFG_STCE);
	run_in_mode(MODE_U, s_access, 0);
	CHECK("U stimecmp: illegal", s_trapped, 5);

	/* A delegated S timer interrupt from stimecmp. */
	csr_write(mideleg, MIP_STIP);
	s_cause = 0;
	t = now();
	u64 c = run_in_mode(MODE_S, s_timer, 20000);
	CHECK("S timer run ended from the S handler", c, CAUSE_ECALL_S);
	CHECK("S timer: scause", s_cause, CAUSE_INTR | IRQ_STI);
	CHECK("S timer: STIP pending in handler", s_stip, MIP_STIP);
	CHECK("S timer: stimecmp write cleared STIP", s_val, 0);
	CHECK("S timer: not before stimecmp", now() - t >= 20000, 1);
	csr_write(mideleg, 0);
	csr_write(mcounteren, 0);
	csr_write(CSR_MENVCFG, 0);
	return test_result();
}
