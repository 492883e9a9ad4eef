/* SPDX-License-Identifier: MIT */
/*
 * Spec rules that QEMU 7.2 (the reference for the other tests) does not
 * follow, so this program runs on vessel only (README.md lists why):
 *  - mepc/sepc bit 0 reads as zero (IALIGN = 16),
 *  - mstatus.MPP is WARL: writing the reserved value 2 reads back legal,
 *  - MRET to a mode below M clears MPRV (priv 1.12),
 *  - CSRRS/CSRRC with rs1 != x0 on a read-only CSR is illegal even when
 *    the register holds 0,
 *  - instret counts exactly and minstret is writable,
 *  - a misaligned AMO raises store/AMO misaligned (6) or access fault (7),
 *  - ctzw of a value whose low word is 0 is 32, whatever the upper word,
 *  - interrupt priority MSI > MTI > SSI > STI (QEMU 7.2 without AIA takes
 *    the lowest-numbered pending interrupt first).
 */
#include "isa.h"

const char *test_name = "priv_strict";

static void in_u(u64 arg)
{
	(void)arg;
	lower_exit();
}

static volatile u64 irq_order[4];
static volatile u64 irq_n;

static void hook(u64 cause)
{
	if (irq_n < 4)
		irq_order[irq_n] = cause;
	irq_n++;
	if (cause == IRQ_MSI)
		mmio_write32(CLINT_MSIP(0), 0);
	else if (cause == IRQ_MTI)
		mmio_write64(CLINT_MTIMECMP(0), ~0UL);
	else
		csr_clear(mip, 1UL << cause);
}

static void test_priority(void)
{
	irq_hook = hook;
	mmio_write64(CLINT_MTIMECMP(0), 0);
	mmio_write32(CLINT_MSIP(0), 1);
	csr_set(mip, 1UL << IRQ_SSI | 1UL << IRQ_STI);
	csr_write(mie, 1UL << IRQ_SSI | 1UL << IRQ_STI | 1UL << IRQ_MSI | 1UL << IRQ_MTI);
	csr_set(mstatus, MSTATUS_MIE);
	for (volatile int i = 0; i < 10000 && irq_n < 4; i++)
		;
	csr_clear(mstatus, MSTATUS_MIE);
	csr_write(mie, 0);
	CHECK("four interrupts", irq_n, 4);
	CHECK("1st MSI", irq_order[0], IRQ_MSI);
	CHECK("2nd MTI", irq_order[1], IRQ_MTI);
	CHECK("3rd SSI", irq_order[2], IRQ_SSI);
	CHECK("4th STI", irq_order[3], IRQ_STI);
}

int main(u64 hartid)
{
	(void)hartid;
	csr_write(mepc, 0x80001233);
	CHECK("mepc bit 0 reads 0", csr_read(mepc), 0x80001232);
	csr_write(sepc, 0x80001231);
	CHECK("sepc bit 0 reads 0", csr_read(sepc), 0x80001230);

	csr_clear(mstatus, MSTATUS_MPP);
	csr_set(mstatus, 2UL << 11);
	u64 mpp = (csr_read(mstatus) >> 11) & 3;
	CHECK("MPP=2 reads back a legal mode", mpp != 2, 1);
	csr_clear(mstatus, MSTATUS_MPP);

	csr_set(mstatus, MSTATUS_MPRV);
	run_in_mode(MODE_U, in_u, 0);
	CHECK("mret to U clears MPRV", csr_read(mstatus) & MSTATUS_MPRV, 0);
	csr_clear(mstatus, MSTATUS_MPRV);

	expect_trap(TRAP_SKIP);
	asm volatile("li t1, 0\n\tcsrrs t0, mhartid, t1" ::: "t0", "t1");
	trap_action = TRAP_NONE;
	CHECK("csrrs mhartid with zero-valued rs1 is illegal", trap_last.count, 1);
	CHECK("... cause", trap_last.cause, CAUSE_ILLEGAL);
	expect_trap(TRAP_SKIP);
	asm volatile("li t1, 0\n\tcsrrc t0, cycle, t1" ::: "t0", "t1");
	trap_action = TRAP_NONE;
	CHECK("csrrc cycle with zero-valued rs1 is illegal", trap_last.count, 1);

	u64 a, b;
	asm volatile("csrr %0, instret\n\tnop\n\tnop\n\tnop\n\tcsrr %1, instret"
		     : "=r"(a), "=r"(b));
	CHECK("instret counts exactly 4 instructions", b - a, 4);
	asm volatile("csrr %0, minstret\n\taddi x0, x0, 1\n\tcsrr %1, minstret" : "=r"(a), "=r"(b));
	CHECK("minstret counts exactly 2", b - a, 2);
	csr_write(minstret, 1000000);
	u64 w = csr_read(minstret);
	CHECK("minstret written", w >= 1000000 && w <= 1000002, 1);

	static u64 m[2];
	u64 v = 0;
	expect_trap(TRAP_SKIP);
	asm volatile("amoadd.d %0, %2, (%1)" : "+r"(v) : "r"((u64)m + 4), "r"(1UL) : "memory");
	trap_action = TRAP_NONE;
	CHECK("misaligned amoadd.d traps", trap_last.count, 1);
	CHECK("misaligned amoadd.d: cause 6 or 7", trap_last.cause == 6 || trap_last.cause == 7, 1);
	CHECK("misaligned amoadd.d: tval", trap_last.tval, (u64)m + 4);
	expect_trap(TRAP_SKIP);
	asm volatile("amoor.w %0, %2, (%1)" : "+r"(v) : "r"((u64)m + 2), "r"(1UL) : "memory");
	trap_action = TRAP_NONE;
	CHECK("misaligned amoor.w: cause 6 or 7", trap_last.cause == 6 || trap_last.cause == 7, 1);
	CHECK("misaligned amoor.w: tval", trap_last.tval, (u64)m + 2);
	/* ctzw a5, a5 (Zbb), encoded by hand: this file is plain rv64gc. */
	u64 r;
	asm volatile("mv a5, %1\n\t.word 0x6017979b\n\tmv %0, a5"
		     : "=r"(r)
		     : "r"(1UL << 63)
		     : "a5");
	CHECK("ctzw(1 << 63) = 32", r, 32);
	asm volatile("mv a5, %1\n\t.word 0x6017979b\n\tmv %0, a5"
		     : "=r"(r)
		     : "r"(0x7f00000000000000UL)
		     : "a5");
	CHECK("ctzw(0x7f00000000000000) = 32", r, 32);
	test_priority();
	return test_result();
}
