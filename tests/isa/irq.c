/* SPDX-License-Identifier: MIT */
/*
 * Interrupts on one hart: CLINT timer and software interrupts, mip/mie,
 * priority, wfi wake-up with MIE=0, vectored mtvec, and S-mode interrupts
 * delegated through mideleg with mip.SSIP/STIP raised by M-mode.
 */
#include "isa.h"

const char *test_name = "irq";

#define MIP_MSIP (1UL << IRQ_MSI)
#define MIP_MTIP (1UL << IRQ_MTI)
#define MIP_SSIP (1UL << IRQ_SSI)
#define MIP_STIP (1UL << IRQ_STI)

static volatile u64 irq_log[8];
static volatile u64 irq_count;
static volatile u64 irq_slot[8];

static u64 now(void)
{
	return mmio_read64(CLINT_MTIME);
}

static void timer_off(void)
{
	mmio_write64(CLINT_MTIMECMP(0), ~0UL);
}

/* Records the cause and silences the source. */
static void hook(u64 cause)
{
	u64 n = irq_count;
	if (n < 8) {
		irq_log[n] = cause;
		irq_slot[n] = csr_read(stval);
	}
	irq_count = n + 1;
	if (cause == IRQ_MTI)
		timer_off();
	else if (cause == IRQ_MSI)
		mmio_write32(CLINT_MSIP(0), 0);
	else if (cause == IRQ_SSI)
		csr_clear(mip, MIP_SSIP);
	else if (cause == IRQ_STI)
		csr_clear(mip, MIP_STIP);
	else
		FAIL_NOW("unexpected interrupt cause");
}

static void reset_log(void)
{
	irq_count = 0;
	for (int i = 0; i < 8; i++)
		irq_log[i] = irq_slot[i] = ~0UL;
}

static int wait_irqs(u64 n, u64 ticks)
{
	u64 end = now() + ticks;
	while (irq_count < n)
		if (now() > end)
			return 0;
	return 1;
}

static void test_timer(void)
{
	/* mtime counts up at 10 MHz; its 32-bit halves read consistently. */
	u64 a = now();
	for (volatile int i = 0; i < 1000; i++)
		;
	u64 b = now();
	CHECK("mtime advances", b > a, 1);
	u32 lo = mmio_read32(CLINT_MTIME), hi = mmio_read32(CLINT_MTIME + 4);
	u64 c = now();
	CHECK("mtime halves", ((u64)hi << 32 | lo) <= c && c - ((u64)hi << 32 | lo) < 10000000, 1);
	mmio_write32(CLINT_MTIMECMP(0) + 4, 0xffffffff);
	mmio_write32(CLINT_MTIMECMP(0), 0xffffffff);
	CHECK("mtimecmp 32-bit halves", mmio_read64(CLINT_MTIMECMP(0)), ~0UL);
	timer_off();
	CHECK("mtimecmp max: MTIP clear", csr_read(mip) & MIP_MTIP, 0);
	mmio_write64(CLINT_MTIMECMP(0), now() + 1000);
	CHECK("mtimecmp readback", mmio_read64(CLINT_MTIMECMP(0)) > now() - 2000, 1);
	u64 end = now() + 10000000;
	while (!(csr_read(mip) & MIP_MTIP) && now() < end)
		;
	CHECK("MTIP set when mtime >= mtimecmp", csr_read(mip) & MIP_MTIP, MIP_MTIP);
	/* MTIP is read-only in mip */
	csr_clear(mip, MIP_MTIP);
	CHECK("csrc mip cannot clear MTIP", csr_read(mip) & MIP_MTIP, MIP_MTIP);
	/* Pending but not enabled: nothing taken. */
	reset_log();
	irq_hook = hook;
	csr_set(mstatus, MSTATUS_MIE);
	for (volatile int i = 0; i < 100; i++)
		;
	CHECK("MTIE=0: not taken", irq_count, 0);
	csr_clear(mstatus, MSTATUS_MIE);
	csr_set(mie, MIP_MTIP);
	for (volatile int i = 0; i < 100; i++)
		;
	CHECK("MIE=0 in M: not taken", irq_count, 0);
	csr_set(mstatus, MSTATUS_MIE);
	CHECK("MTI taken once enabled", wait_irqs(1, 1000000), 1);
	CHECK("MTI cause 7", irq_log[0], IRQ_MTI);
	CHECK("hook cleared MTIP", csr_read(mip) & MIP_MTIP, 0);
	/* A future compare fires later, not at once. */
	reset_log();
	u64 t0 = now();
	mmio_write64(CLINT_MTIMECMP(0), t0 + 500000); /* 50 ms */
	CHECK("not yet", irq_count == 0 || now() >= t0 + 500000, 1);
	CHECK("timer fires", wait_irqs(1, 20000000), 1);
	CHECK("timer not early", now() - t0 >= 500000, 1);
	CHECK("timer cause", irq_log[0], IRQ_MTI);
	csr_clear(mstatus, MSTATUS_MIE);
	csr_clear(mie, MIP_MTIP);
}

static void test_software(void)
{
	reset_log();
	mmio_write32(CLINT_MSIP(0), 1);
	CHECK("msip reads 1", mmio_read32(CLINT_MSIP(0)), 1);
	mmio_write32(CLINT_MSIP(0), 0xfffffffe);
	CHECK("msip: only bit 0 counts", mmio_read32(CLINT_MSIP(0)), 0);
	CHECK("msip 0: MSIP clear", csr_read(mip) & MIP_MSIP, 0);
	mmio_write32(CLINT_MSIP(0), 1);
	CHECK("MSIP pending", csr_read(mip) & MIP_MSIP, MIP_MSIP);
	csr_clear(mip, MIP_MSIP);
	CHECK("MSIP read-only in mip", csr_read(mip) & MIP_MSIP, MIP_MSIP);
	csr_set(mie, MIP_MSIP);
	csr_set(mstatus, MSTATUS_MIE);
	CHECK("MSI taken", wait_irqs(1, 1000000), 1);
	CHECK("MSI cause 3", irq_log[0], IRQ_MSI);
	CHECK("msip cleared", mmio_read32(CLINT_MSIP(0)), 0);
	CHECK("MSIP clear", csr_read(mip) & MIP_MSIP, 0);
	csr_clear(mstatus, MSTATUS_MIE);
	csr_clear(mie, MIP_MSIP);
}

static void test_priority(void)
{
	/*
	 * MSI and MTI pending together: MSI (3) first, then MTI (7).  (M
	 * before S interrupts is checked in priv_strict.c: QEMU 7.2 without
	 * AIA takes the lowest-numbered pending interrupt first.)
	 */
	reset_log();
	mmio_write64(CLINT_MTIMECMP(0), 0);
	mmio_write32(CLINT_MSIP(0), 1);
	csr_set(mie, MIP_MSIP | MIP_MTIP);
	CHECK("two pending", csr_read(mip) & (MIP_MSIP | MIP_MTIP), MIP_MSIP | MIP_MTIP);
	csr_set(mstatus, MSTATUS_MIE);
	CHECK("two taken", wait_irqs(2, 1000000), 1);
	csr_clear(mstatus, MSTATUS_MIE);
	CHECK("priority 1st: MSI", irq_log[0], IRQ_MSI);
	CHECK("priority 2nd: MTI", irq_log[1], IRQ_MTI);
	/* STI and SSI: SSI before STI. */
	reset_log();
	csr_set(mip, MIP_STIP | MIP_SSIP);
	csr_set(mie, MIP_STIP | MIP_SSIP);
	csr_set(mstatus, MSTATUS_MIE);
	CHECK("two taken", wait_irqs(2, 1000000), 1);
	csr_clear(mstatus, MSTATUS_MIE);
	CHECK("SSI before STI", irq_log[0], IRQ_SSI);
	CHECK("then STI", irq_log[1], IRQ_STI);
	csr_clear(mie, ~0UL);
}

static void test_wfi(void)
{
	/* Enabled in mie, MIE=0: wfi must wake, no trap is taken. */
	reset_log();
	csr_clear(mstatus, MSTATUS_MIE);
	csr_set(mie, MIP_MTIP);
	u64 t0 = now();
	mmio_write64(CLINT_MTIMECMP(0), t0 + 10000); /* 1 ms */
	while (!(csr_read(mip) & MIP_MTIP))
		asm volatile("wfi");
	CHECK("wfi woke with MTIP pending", csr_read(mip) & MIP_MTIP, MIP_MTIP);
	CHECK("time passed", now() - t0 >= 10000, 1);
	CHECK("no trap taken with MIE=0", irq_count, 0);
	/* the pending interrupt is taken as soon as MIE is set */
	csr_set(mstatus, MSTATUS_MIE);
	CHECK("taken after MIE=1", wait_irqs(1, 1000000), 1);
	csr_clear(mstatus, MSTATUS_MIE);
	/* wfi with the interrupt pending already returns at once */
	reset_log();
	mmio_write32(CLINT_MSIP(0), 1);
	csr_set(mie, MIP_MSIP);
	asm volatile("wfi");
	CHECK("wfi returns with MSIP pending", csr_read(mip) & MIP_MSIP, MIP_MSIP);
	mmio_write32(CLINT_MSIP(0), 0);
	csr_clear(mie, ~0UL);
}

/* Vectored mode: each slot stores its number in stval, then trap_entry. */
extern char irq_vectors[];
asm(".text\n.option push\n.option norvc\n.align 8\nirq_vectors:\n"
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "j irq_vec_\\n\n"
    ".endr\n"
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "irq_vec_\\n:\n"
    "csrw sscratch, t0\n"
    "li t0, \\n\n"
    "csrw stval, t0\n"
    "csrr t0, sscratch\n"
    "j trap_entry\n"
    ".endr\n.option pop\n");

static void test_vectored(void)
{
	u64 tv = csr_read(mtvec);
	csr_write(mtvec, (u64)irq_vectors | 1);
	reset_log();
	csr_write(stval, 99);
	mmio_write32(CLINT_MSIP(0), 1);
	csr_set(mie, MIP_MSIP);
	csr_set(mstatus, MSTATUS_MIE);
	CHECK("vectored MSI taken", wait_irqs(1, 1000000), 1);
	csr_clear(mstatus, MSTATUS_MIE);
	CHECK("vectored MSI went to slot 3", irq_slot[0], 3);
	reset_log();
	mmio_write64(CLINT_MTIMECMP(0), 0);
	csr_set(mie, MIP_MTIP);
	csr_set(mstatus, MSTATUS_MIE);
	CHECK("vectored MTI taken", wait_irqs(1, 1000000), 1);
	csr_clear(mstatus, MSTATUS_MIE);
	CHECK("vectored MTI went to slot 7", irq_slot[0], 7);
	/* Exceptions still go to the base (slot 0). */
	csr_write(stval, 99);
	expect_trap(TRAP_SKIP);
	asm volatile("ecall");
	CHECK("vectored: exception at base", csr_read(stval), 0);
	csr_clear(mie, ~0UL);
	csr_write(mtvec, tv);
}

/* ---- S-mode interrupts ---- */

static volatile u64 s_cause, s_sip, s_epc, s_flag;

__attribute__((aligned(4))) static void s_irq_trap(void)
{
	s_cause = csr_read(scause);
	s_sip = csr_read(sip);
	s_epc = csr_read(sepc);
	asm volatile("ecall");
}

static void s_wait_irq(u64 bits)
{
	csr_write(stvec, (u64)s_irq_trap);
	csr_set(sie, bits);
	csr_set(sstatus, MSTATUS_SIE);
	for (volatile int i = 0; i < 1000000; i++)
		;
	s_cause = 0x1234; /* nothing came */
	lower_exit();
}

static void u_spin(void)
{
	for (volatile int i = 0; i < 1000000; i++)
		;
	s_cause = 0x5678;
	lower_exit();
}

static void s_to_u_wait(u64 bits)
{
	csr_write(stvec, (u64)s_irq_trap);
	csr_set(sie, bits);
	csr_clear(sstatus, MSTATUS_SIE | MSTATUS_SPP);
	csr_write(sepc, (u64)u_spin);
	asm volatile("sret");
}

/* Spins in S until s_flag is set or 'ticks' pass. */
static void s_spin_flag(u64 ticks)
{
	u64 end = now() + ticks;
	while (!s_flag && now() < end)
		;
	lower_exit();
}

static void mti_set_flag(u64 cause)
{
	if (cause == IRQ_MTI) {
		timer_off();
		s_flag = 1;
	} else {
		hook(cause);
	}
}

static void test_delegated(void)
{
	csr_write(mideleg, MIP_SSIP | MIP_STIP);
	CHECK("mideleg SSIP|STIP", csr_read(mideleg) & (MIP_SSIP | MIP_STIP), MIP_SSIP | MIP_STIP);
	/* sip/sie show only delegated bits. */
	csr_set(mie, MIP_SSIP | MIP_STIP | MIP_MTIP);
	CHECK("sie shows delegated", csr_read(sie), MIP_SSIP | MIP_STIP);
	csr_clear(mie, ~0UL);

	/* SSIP raised by M: delegated, taken in S with cause 1. */
	s_cause = 0;
	csr_set(mip, MIP_SSIP);
	CHECK("sip.SSIP visible", csr_read(sip) & MIP_SSIP, MIP_SSIP);
	u64 c = run_in_mode(MODE_S, s_wait_irq, MIP_SSIP);
	CHECK("S run ended by S ecall", c, CAUSE_ECALL_S);
	CHECK("S got SSI: scause", s_cause, CAUSE_INTR | IRQ_SSI);
	CHECK("sip.SSIP still pending in handler", s_sip & MIP_SSIP, MIP_SSIP);
	csr_clear(mip, MIP_SSIP);

	/* STIP raised by M (no Sstc: menvcfg.STCE=0). */
	s_cause = 0;
	csr_set(mip, MIP_STIP);
	CHECK("mip.STIP writable by M", csr_read(mip) & MIP_STIP, MIP_STIP);
	c = run_in_mode(MODE_S, s_wait_irq, MIP_STIP);
	CHECK("S got STI: scause", s_cause, CAUSE_INTR | IRQ_STI);
	csr_clear(mip, MIP_STIP);

	/* Pending and enabled in sie but SIE=0 in S: not taken. */
	s_cause = 0;
	csr_set(mip, MIP_SSIP);
	csr_clear(mstatus, MSTATUS_SIE);
	c = run_in_mode(MODE_S, s_spin_flag, 20000);
	CHECK("SIE=0 in S: not taken", s_cause, 0);

	/* In U, S interrupts are taken whatever SIE is. */
	s_cause = 0;
	c = run_in_mode(MODE_S, s_to_u_wait, MIP_SSIP);
	CHECK("U: S interrupt with SIE=0 taken", s_cause, CAUSE_INTR | IRQ_SSI);
	CHECK("U: sepc in U code", s_epc >= (u64)u_spin, 1);
	csr_clear(mip, MIP_SSIP);

	/* Delegated S interrupts are never taken in M-mode. */
	reset_log();
	irq_hook = hook;
	csr_set(mie, MIP_SSIP);
	csr_set(mip, MIP_SSIP);
	csr_set(mstatus, MSTATUS_MIE);
	for (volatile int i = 0; i < 1000; i++)
		;
	csr_clear(mstatus, MSTATUS_MIE);
	CHECK("delegated SSI not taken in M", irq_count, 0);
	csr_clear(mip, MIP_SSIP);
	csr_clear(sie, ~0UL);

	/* M interrupts are taken in S whatever mstatus.MIE is. */
	s_flag = 0;
	irq_hook = mti_set_flag;
	csr_clear(mstatus, MSTATUS_MIE);
	csr_set(mie, MIP_MTIP);
	mmio_write64(CLINT_MTIMECMP(0), 0);
	run_in_mode(MODE_S, s_spin_flag, 10000000);
	CHECK("MTI taken from S with MIE=0", s_flag, 1);
	csr_clear(mie, ~0UL);
	irq_hook = hook;
	csr_write(mideleg, 0);
}

/* stvec in vectored mode: each slot stores its number, then s_vec_c. */
extern char s_vectors[];
asm(".text\n.option push\n.option norvc\n.align 8\ns_vectors:\n"
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "j s_vec_\\n\n"
    ".endr\n"
    ".irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "s_vec_\\n:\n"
    "li t0, \\n\n"
    "csrw sscratch, t0\n"
    "j s_vec_c\n"
    ".endr\n.option pop\n");

static volatile u64 s_slot;

void s_vec_c(void)
{
	s_slot = csr_read(sscratch);
	s_cause = csr_read(scause);
	asm volatile("ecall");
}

static void s_vectored_wait(u64 bits)
{
	csr_write(stvec, (u64)s_vectors | 1);
	csr_set(sie, bits);
	csr_set(sstatus, MSTATUS_SIE);
	for (volatile int i = 0; i < 1000000; i++)
		;
	s_cause = 0x1234;
	lower_exit();
}

static void test_s_vectored(void)
{
	csr_write(mideleg, MIP_SSIP | MIP_STIP);
	s_slot = 99;
	csr_set(mip, MIP_SSIP);
	run_in_mode(MODE_S, s_vectored_wait, MIP_SSIP);
	CHECK("stvec vectored: SSI cause", s_cause, CAUSE_INTR | IRQ_SSI);
	CHECK("stvec vectored: SSI went to slot 1", s_slot, 1);
	csr_clear(mip, MIP_SSIP);
	s_slot = 99;
	csr_set(mip, MIP_STIP);
	run_in_mode(MODE_S, s_vectored_wait, MIP_STIP);
	CHECK("stvec vectored: STI cause", s_cause, CAUSE_INTR | IRQ_STI);
	CHECK("stvec vectored: STI went to slot 5", s_slot, 5);
	csr_clear(mip, MIP_STIP);
	csr_clear(sie, ~0UL);
	csr_write(mideleg, 0);
}

/*
 * Interrupts must land between instructions and leave the interrupted
 * code's state alone: a mixed workload (loads/stores, AMOs, mul/div,
 * FP, branches, compressed code) gives the same result with a timer
 * firing every 10 us as without interrupts, in M-mode and in U-mode.
 */
static u64 work_arr[256];
static volatile u64 storm_irqs, storm_result;

static u64 workload(void)
{
	u64 h = 1469598103934665603UL;
	double d = 1.0;
	for (u64 i = 0; i < 256; i++)
		work_arr[i] = i * 0x9e3779b97f4a7c15UL;
	for (u64 i = 0; i < 4000; i++) {
		u64 *p = &work_arr[(i * 7) & 255];
		u64 old;
		asm volatile("amoadd.d %0, %2, (%1)" : "=r"(old) : "r"(p), "r"(h) : "memory");
		work_arr[i & 255] ^= old;
		h = (h ^ work_arr[(i * 13) & 255]) * 1099511628211UL;
		h += i / 3 + i % 7;
		h ^= h >> 29;
		d = d * 1.0000001 + (double)(h & 0xff);
		if (h & 1)
			h = ~h;
	}
	u64 bits;
	asm volatile("fmv.x.d %0, %1" : "=r"(bits) : "f"(d));
	return h ^ bits;
}

static void storm_hook(u64 cause)
{
	if (cause != IRQ_MTI)
		FAIL_NOW("unexpected interrupt in storm");
	storm_irqs++;
	mmio_write64(CLINT_MTIMECMP(0), now() + 100);
}

static void u_workload(u64 arg)
{
	(void)arg;
	storm_result = workload();
	lower_exit();
}

static void test_storm(void)
{
	u64 want = workload();
	irq_hook = storm_hook;
	storm_irqs = 0;
	csr_set(mie, MIP_MTIP);
	int bad = 0, runs = 0;
	mmio_write64(CLINT_MTIMECMP(0), now() + 100);
	csr_set(mstatus, MSTATUS_MIE);
	while ((storm_irqs < 50 || runs < 3) && runs < 500) {
		bad += workload() != want;
		runs++;
	}
	csr_clear(mstatus, MSTATUS_MIE);
	u64 m_irqs = storm_irqs;
	CHECK("M workload unchanged by interrupts", bad, 0);
	CHECK("M storm: interrupts happened", m_irqs >= 10, 1);
	/* the same in U-mode: interrupts go to M and mret back to U */
	storm_irqs = 0;
	bad = runs = 0;
	while ((storm_irqs < 50 || runs < 3) && runs < 500) {
		storm_result = 0;
		mmio_write64(CLINT_MTIMECMP(0), now() + 100);
		run_in_mode(MODE_U, u_workload, 0);
		bad += storm_result != want;
		runs++;
	}
	timer_off();
	csr_clear(mie, MIP_MTIP);
	CHECK("U workload unchanged by interrupts", bad, 0);
	CHECK("U storm: interrupts happened", storm_irqs >= 10, 1);
	irq_hook = hook;
	tprintf("interrupt storm: %u interrupts in M, %u from U\n", m_irqs, storm_irqs);
}

int main(u64 hartid)
{
	(void)hartid;
	csr_write(mie, 0);
	irq_hook = hook;
	test_timer();
	test_software();
	test_priority();
	test_wfi();
	test_vectored();
	test_delegated();
	test_s_vectored();
	test_storm();
	return test_result();
}
