/* SPDX-License-Identifier: MIT */
/*
 * Interrupts between two harts (run with 2 CPUs): hart 0 sends IPIs to
 * hart 1 through its CLINT msip word, hart 1 answers each with an IPI to
 * hart 0; hart 1 also takes its own timer interrupt from mtimecmp[1].
 */
#include "isa.h"

const char *test_name = "irq_smp";

#define ROUNDS 20

static volatile u64 ipi_seen[2], timer_seen[2], ready1, wrong_hart;

static void hook(u64 cause)
{
	u64 h = csr_read(mhartid);
	if (cause == IRQ_MSI) {
		mmio_write32(CLINT_MSIP(h), 0);
		ipi_seen[h]++;
		if (h == 1)
			mmio_write32(CLINT_MSIP(0), 1); /* answer */
	} else if (cause == IRQ_MTI) {
		mmio_write64(CLINT_MTIMECMP(h), ~0UL);
		timer_seen[h]++;
	} else {
		FAIL_NOW("unexpected interrupt");
	}
}

void secondary_main(u64 hartid)
{
	if (hartid != 1)
		return;
	if (csr_read(mhartid) != 1)
		wrong_hart = 1;
	mmio_write64(CLINT_MTIMECMP(1), ~0UL);
	csr_write(mie, 1UL << IRQ_MSI | 1UL << IRQ_MTI);
	csr_set(mstatus, MSTATUS_MIE);
	__atomic_store_n(&ready1, 1, __ATOMIC_RELEASE);
	for (;;)
		asm volatile("wfi");
}

static u64 now(void)
{
	return mmio_read64(CLINT_MTIME);
}

static int wait_for(volatile u64 *v, u64 want, u64 ticks)
{
	u64 end = now() + ticks;
	while (*v < want)
		if (now() > end)
			return 0;
	return 1;
}

int main(u64 hartid)
{
	(void)hartid;
	mmio_write64(CLINT_MTIMECMP(0), ~0UL);
	irq_hook = hook;
	if (!wait_for(&ready1, 1, 20000000))
		FAIL_NOW("hart 1 did not start (needs 2 CPUs)");
	CHECK("hart 1 reads mhartid 1", wrong_hart, 0);
	csr_write(mie, 1UL << IRQ_MSI);
	csr_set(mstatus, MSTATUS_MIE);
	for (u64 i = 1; i <= ROUNDS; i++) {
		mmio_write32(CLINT_MSIP(1), 1);
		if (!wait_for(&ipi_seen[1], i, 10000000)) {
			CHECK("hart 1 got IPI", ipi_seen[1], i);
			break;
		}
		if (!wait_for(&ipi_seen[0], i, 10000000)) {
			CHECK("hart 0 got answer", ipi_seen[0], i);
			break;
		}
	}
	CHECK("IPIs hart 0 -> 1", ipi_seen[1], ROUNDS);
	CHECK("IPIs hart 1 -> 0", ipi_seen[0], ROUNDS);
	CHECK("msip[0] clear", mmio_read32(CLINT_MSIP(0)), 0);
	CHECK("msip[1] clear", mmio_read32(CLINT_MSIP(1)), 0);
	/* hart 1's timer: only hart 1 gets it */
	mmio_write64(CLINT_MTIMECMP(1), now() + 5000);
	CHECK("hart 1 timer", wait_for(&timer_seen[1], 1, 10000000), 1);
	CHECK("hart 0 got no timer", timer_seen[0], 0);
	CHECK("mtimecmp[1] reset by hart 1", mmio_read64(CLINT_MTIMECMP(1)), ~0UL);
	csr_clear(mstatus, MSTATUS_MIE);
	return test_result();
}
