/* SPDX-License-Identifier: MIT */
/*
 * Translation on two harts (run with 2 CPUs): each hart has its own satp,
 * so one virtual address reaches different pages on each (no translation
 * is shared between harts), and after hart 0 rewrites a PTE of hart 1's
 * table, hart 1 sees the new page once it runs sfence.vma.  Loads go
 * through M-mode with MPRV=1, MPP=S (Sv39).
 */
#include "isa.h"

const char *test_name = "mmu_smp";

#define PTE_V  1UL
#define PTE_R  2UL
#define PTE_W  4UL
#define PTE_X  8UL
#define PTE_A  64UL
#define PTE_D  128UL
#define LEAF   (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define VA     0x40000000UL
#define ROUNDS 200

static u64 l2[2][512] __attribute__((aligned(4096)));
static u64 l1[2][512] __attribute__((aligned(4096)));
static u64 l0[2][512] __attribute__((aligned(4096)));
static u64 pages[3][512] __attribute__((aligned(4096)));

static volatile u64 cmd, seen1, acks;

static u64 pte_to(u64 pa, u64 flags)
{
	return (pa >> 12) << 10 | flags;
}

static void build(int h)
{
	/* RAM: one 1G identity leaf (RWX); VA: 4K page through l1/l0. */
	l2[h][2] = pte_to(0x80000000UL, LEAF | PTE_X);
	l2[h][1] = pte_to((u64)l1[h], PTE_V);
	l1[h][0] = pte_to((u64)l0[h], PTE_V);
	l0[h][0] = pte_to((u64)pages[h], LEAF);
}

static void use_tables(int h)
{
	csr_write(satp, 8UL << 60 | (u64)l2[h] >> 12);
	asm volatile("sfence.vma" ::: "memory");
	csr_clear(mstatus, MSTATUS_MPP);
	csr_set(mstatus, (u64)MODE_S << 11);
}

/* A load through this hart's translation. */
static u64 load_va(u64 va)
{
	u64 v;
	asm volatile("csrs mstatus, %2\n\tld %0, 0(%1)\n\tcsrc mstatus, %2"
		     : "=&r"(v)
		     : "r"(va), "r"(MSTATUS_MPRV)
		     : "memory");
	return v;
}

void secondary_main(u64 hartid)
{
	if (hartid != 1)
		return;
	use_tables(1);
	u64 done = 0;
	for (;;) {
		u64 c = __atomic_load_n(&cmd, __ATOMIC_ACQUIRE);
		if (c == done)
			continue;
		if (c & 1)
			asm volatile("sfence.vma" ::: "memory");
		seen1 = load_va(VA);
		done = c;
		__atomic_store_n(&acks, c, __ATOMIC_RELEASE);
	}
}

static int ask_hart1(u64 c)
{
	__atomic_store_n(&cmd, c, __ATOMIC_RELEASE);
	u64 end = mmio_read64(CLINT_MTIME) + 20000000;
	while (__atomic_load_n(&acks, __ATOMIC_ACQUIRE) != c)
		if (mmio_read64(CLINT_MTIME) > end)
			return 0;
	return 1;
}

int main(u64 hartid)
{
	(void)hartid;
	pages[0][0] = 0xa0;
	pages[1][0] = 0xa1;
	pages[2][0] = 0xa2;
	build(0);
	build(1);
	use_tables(0);
	int bad0 = 0, bad1 = 0;
	for (u64 i = 1; i <= ROUNDS; i++) {
		if (!ask_hart1(2 * i))
			FAIL_NOW("hart 1 does not answer (needs 2 CPUs)");
		bad1 += seen1 != 0xa1;
		bad0 += load_va(VA) != 0xa0;
	}
	CHECK("hart 0 sees its own page", bad0, 0);
	CHECK("hart 1 sees its own page", bad1, 0);
	/* Remap hart 1's VA; it fences and sees the new page. */
	l0[1][0] = pte_to((u64)pages[2], LEAF);
	if (!ask_hart1(2 * ROUNDS + 3))
		FAIL_NOW("hart 1 does not answer");
	CHECK("hart 1 after remap + sfence.vma", seen1, 0xa2);
	CHECK("hart 0 unaffected", load_va(VA), 0xa0);
	/* Stores through hart 0's mapping are seen through hart 1's. */
	l0[1][0] = pte_to((u64)pages[0], LEAF);
	asm volatile("csrs mstatus, %2\n\tsd %0, 0(%1)\n\tcsrc mstatus, %2" ::"r"(0x5a5aUL),
		     "r"(VA), "r"(MSTATUS_MPRV)
		     : "memory");
	if (!ask_hart1(2 * ROUNDS + 5))
		FAIL_NOW("hart 1 does not answer");
	CHECK("store via hart 0's VA seen via hart 1's VA", seen1, 0x5a5a);
	csr_write(satp, 0);
	return test_result();
}
