/* SPDX-License-Identifier: MIT */
/*
 * External interrupts through the PLIC, with the UART's "transmitter
 * empty" interrupt (source 10 on virt) as the source: priority, enable,
 * threshold, claim/complete, mip.MEIP for hart 0's M context and mip.SEIP
 * for its S context, delegated to S-mode.
 */
#include "isa.h"

const char *test_name = "plic";

#define PLIC_BASE	    0xc000000UL
#define PLIC_PRIO(src)	    (PLIC_BASE + 4 * (src))
#define PLIC_PENDING	    (PLIC_BASE + 0x1000)
#define PLIC_ENABLE(ctx)    (PLIC_BASE + 0x2000 + 0x80 * (ctx))
#define PLIC_THRESHOLD(ctx) (PLIC_BASE + 0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)	    (PLIC_THRESHOLD(ctx) + 4)
#define CTX_M		    0 /* hart 0, M-mode */
#define CTX_S		    1 /* hart 0, S-mode */
#define UART_IRQ	    10
#define UART_IER	    (UART_BASE + 1)
#define UART_IIR	    (UART_BASE + 2)
#define MIP_MEIP	    (1UL << IRQ_MEI)
#define MIP_SEIP	    (1UL << IRQ_SEI)

static volatile u64 got_cause, got_claim, irq_n;

static void uart_irq(int on)
{
	*(volatile u8 *)UART_IER = on ? 0x02 : 0x00;
}

/* Waits up to 100 ms for mip.bit to become 'set'. */
static int wait_mip(u64 bit, int set)
{
	u64 end = mmio_read64(CLINT_MTIME) + 1000000;
	do {
		if (((csr_read(mip) & bit) != 0) == set)
			return 1;
	} while (mmio_read64(CLINT_MTIME) < end);
	return 0;
}

/* M-mode handler: claim, silence the UART, complete. */
static void hook(u64 cause)
{
	got_cause = cause;
	u32 id = mmio_read32(PLIC_CLAIM(CTX_M));
	got_claim = id;
	uart_irq(0);
	mmio_write32(PLIC_CLAIM(CTX_M), id);
	irq_n++;
}

static volatile u64 s_cause, s_claim;

__attribute__((aligned(4))) static void s_trap(void)
{
	s_cause = csr_read(scause);
	u32 id = mmio_read32(PLIC_CLAIM(CTX_S));
	s_claim = id;
	uart_irq(0);
	mmio_write32(PLIC_CLAIM(CTX_S), id);
	asm volatile("ecall");
}

static void s_wait(u64 arg)
{
	(void)arg;
	csr_write(stvec, (u64)s_trap);
	csr_set(sie, MIP_SEIP);
	csr_set(sstatus, MSTATUS_SIE);
	for (volatile int i = 0; i < 1000000; i++)
		;
	s_cause = 0x1234; /* nothing came */
	lower_exit();
}

int main(u64 hartid)
{
	(void)hartid;
	uart_irq(0);
	mmio_write32(PLIC_PRIO(UART_IRQ), 1);
	CHECK("priority readback", mmio_read32(PLIC_PRIO(UART_IRQ)), 1);
	mmio_write32(PLIC_ENABLE(CTX_M), 1u << UART_IRQ);
	CHECK("enable readback", mmio_read32(PLIC_ENABLE(CTX_M)) & (1u << UART_IRQ),
	      1u << UART_IRQ);
	mmio_write32(PLIC_ENABLE(CTX_S), 0);
	mmio_write32(PLIC_THRESHOLD(CTX_M), 0);
	mmio_write32(PLIC_THRESHOLD(CTX_S), 0);
	CHECK("no MEIP while the UART is quiet", csr_read(mip) & MIP_MEIP, 0);

	/* Source raised: pending in the PLIC and MEIP in mip. */
	uart_irq(1);
	CHECK("MEIP rises", wait_mip(MIP_MEIP, 1), 1);
	CHECK("PLIC pending bit", mmio_read32(PLIC_PENDING) & (1u << UART_IRQ), 1u << UART_IRQ);
	/* MEIP is read-only in mip */
	csr_clear(mip, MIP_MEIP);
	CHECK("csrc mip cannot clear MEIP", csr_read(mip) & MIP_MEIP, MIP_MEIP);

	/* Threshold at or above the priority masks it. */
	mmio_write32(PLIC_THRESHOLD(CTX_M), 1);
	CHECK("threshold 1 masks priority 1", wait_mip(MIP_MEIP, 0), 1);
	mmio_write32(PLIC_THRESHOLD(CTX_M), 0);
	CHECK("threshold 0 unmasks", wait_mip(MIP_MEIP, 1), 1);
	/* Priority 0 never interrupts. */
	mmio_write32(PLIC_PRIO(UART_IRQ), 0);
	CHECK("priority 0 masks", wait_mip(MIP_MEIP, 0), 1);
	mmio_write32(PLIC_PRIO(UART_IRQ), 1);
	CHECK("priority 1 again", wait_mip(MIP_MEIP, 1), 1);

	/* Taken in M with cause 11; the claim returns the source. */
	irq_hook = hook;
	csr_set(mie, MIP_MEIP);
	csr_set(mstatus, MSTATUS_MIE);
	u64 end = mmio_read64(CLINT_MTIME) + 1000000;
	while (!irq_n && mmio_read64(CLINT_MTIME) < end)
		;
	csr_clear(mstatus, MSTATUS_MIE);
	CHECK("MEI taken", irq_n, 1);
	CHECK("MEI cause 11", got_cause, IRQ_MEI);
	CHECK("claim returns the UART source", got_claim, UART_IRQ);
	CHECK("MEIP gone after complete", wait_mip(MIP_MEIP, 0), 1);
	CHECK("nothing left to claim", mmio_read32(PLIC_CLAIM(CTX_M)), 0);
	csr_clear(mie, MIP_MEIP);

	/* The S context: SEIP, delegated to S-mode. */
	mmio_write32(PLIC_ENABLE(CTX_M), 0);
	mmio_write32(PLIC_ENABLE(CTX_S), 1u << UART_IRQ);
	uart_irq(1);
	CHECK("SEIP rises", wait_mip(MIP_SEIP, 1), 1);
	CHECK("MEIP stays low (not enabled for M)", csr_read(mip) & MIP_MEIP, 0);
	csr_write(mideleg, MIP_SEIP);
	u64 c = run_in_mode(MODE_S, s_wait, 0);
	CHECK("S run ended from the S handler", c, CAUSE_ECALL_S);
	CHECK("S got SEI: scause", s_cause, CAUSE_INTR | IRQ_SEI);
	CHECK("S claim returns the UART source", s_claim, UART_IRQ);
	CHECK("SEIP gone", wait_mip(MIP_SEIP, 0), 1);
	csr_write(mideleg, 0);
	mmio_write32(PLIC_ENABLE(CTX_S), 0);
	mmio_write32(PLIC_PRIO(UART_IRQ), 0);
	irq_hook = 0;
	return test_result();
}
