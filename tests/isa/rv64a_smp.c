/* SPDX-License-Identifier: MIT */
/*
 * RV64A across two harts (run with 2 CPUs): both harts add 1 to shared
 * counters 100000 times, once with amoadd.d, once with amoadd.w and once
 * with an LR/SC loop; each counter must end at exactly 200000.  Then a
 * store by one hart between another hart's LR and SC makes the SC fail.
 */
#include "isa.h"

const char *test_name = "rv64a_smp";

#define ITERS 100000

static volatile u64 cnt_amo __attribute__((aligned(64)));
static volatile u64 cnt_lrsc __attribute__((aligned(64)));
static volatile u32 cnt_amow __attribute__((aligned(64)));
static volatile u64 go, done1;
static volatile u64 resv __attribute__((aligned(64)));
static volatile u64 step, sc_result;

static void hammer(void)
{
	for (int i = 0; i < ITERS; i++) {
		asm volatile("amoadd.d x0, %1, (%0)" ::"r"(&cnt_amo), "r"(1UL) : "memory");
		asm volatile("amoadd.w x0, %1, (%0)" ::"r"(&cnt_amow), "r"(1UL) : "memory");
		u64 tmp, fail;
		asm volatile("1: lr.d %0, (%2)\n\taddi %0, %0, 1\n\t"
			     "sc.d %1, %0, (%2)\n\tbnez %1, 1b"
			     : "=&r"(tmp), "=&r"(fail)
			     : "r"(&cnt_lrsc)
			     : "memory");
	}
}

void secondary_main(u64 hartid)
{
	if (hartid != 1)
		return;
	__atomic_store_n(&done1, 1, __ATOMIC_SEQ_CST); /* checked in */
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		;
	hammer();
	__atomic_store_n(&done1, 2, __ATOMIC_RELEASE);
	/* LR, let hart 0 store, then SC: it must fail. */
	for (u64 round = 0; round < 10; round++) {
		while (__atomic_load_n(&step, __ATOMIC_ACQUIRE) != 4 * round + 1)
			;
		u64 v, fail;
		asm volatile("lr.d %0, (%1)" : "=r"(v) : "r"(&resv) : "memory");
		__atomic_store_n(&step, 4 * round + 2, __ATOMIC_RELEASE);
		while (__atomic_load_n(&step, __ATOMIC_ACQUIRE) != 4 * round + 3)
			;
		asm volatile("sc.d %0, %2, (%1)"
			     : "=&r"(fail)
			     : "r"(&resv), "r"(v + 100)
			     : "memory");
		sc_result += fail ? 1 : 0;
		__atomic_store_n(&step, 4 * round + 4, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&done1, 3, __ATOMIC_RELEASE);
}

static int wait_for(volatile u64 *flag, u64 val, u64 ticks)
{
	u64 end = mmio_read64(CLINT_MTIME) + ticks;
	while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) != val)
		if (mmio_read64(CLINT_MTIME) > end)
			return 0;
	return 1;
}

int main(u64 hartid)
{
	(void)hartid;
	/* 2 s at 10 MHz for hart 1 to show up. */
	if (!wait_for(&done1, 1, 20000000))
		FAIL_NOW("hart 1 did not start (needs 2 CPUs)");
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	hammer();
	if (!wait_for(&done1, 2, 200000000))
		FAIL_NOW("hart 1 did not finish");
	CHECK("amoadd.d counter", cnt_amo, 2 * ITERS);
	CHECK("amoadd.w counter", cnt_amow, 2 * ITERS);
	CHECK("lr/sc counter", cnt_lrsc, 2 * ITERS);

	for (u64 round = 0; round < 10; round++) {
		__atomic_store_n(&step, 4 * round + 1, __ATOMIC_RELEASE);
		if (!wait_for(&step, 4 * round + 2, 20000000))
			FAIL_NOW("hart 1 stuck before its LR");
		resv = round + 1; /* a new value, between hart 1's LR and SC */
		__atomic_store_n(&step, 4 * round + 3, __ATOMIC_RELEASE);
		if (!wait_for(&step, 4 * round + 4, 20000000))
			FAIL_NOW("hart 1 stuck before its SC");
	}
	if (!wait_for(&done1, 3, 20000000))
		FAIL_NOW("hart 1 did not finish the LR/SC rounds");
	CHECK("SC after another hart's store fails (10 rounds)", sc_result, 10);
	CHECK("failed SCs wrote nothing", resv, 10);
	return test_result();
}
