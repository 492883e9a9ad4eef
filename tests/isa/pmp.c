/* SPDX-License-Identifier: MIT */
/*
 * Physical memory protection: NAPOT, TOR and NA4 regions and their R/W/X
 * for S and U; the lowest-numbered matching entry decides; an access only
 * partly inside an entry fails; different answers within one page (a
 * translation cache must not stand for the whole page); no matching entry
 * (S fails, M succeeds); page-table reads checked as S accesses; a locked
 * entry binds M-mode and cannot be rewritten (last: only a reset unlocks
 * it).  (The WARL details differ between implementations: vessel drops W
 * without R and keeps 54 bits of pmpaddr, QEMU 7.2 keeps both as written.)
 */
#include "isa.h"

const char *test_name = "pmp";

#define PAGE  4096UL
#define R     0x01UL
#define W     0x02UL
#define X     0x04UL
#define TOR   0x08UL
#define NA4   0x10UL
#define NAPOT 0x18UL
#define L     0x80UL

static u8 area[6][PAGE] __attribute__((aligned(4096)));
static u64 root[512] __attribute__((aligned(4096)));

/* Entry i's configuration byte (entries 0-7 in pmpcfg0, 8-15 in pmpcfg2). */
static void set_cfg(unsigned i, u64 cfg)
{
	u64 v = i < 8 ? csr_read(pmpcfg0) : csr_read(pmpcfg2);
	unsigned s = 8 * (i % 8);
	v = (v & ~(0xffUL << s)) | cfg << s;
	if (i < 8)
		csr_write(pmpcfg0, v);
	else
		csr_write(pmpcfg2, v);
}

static u64 napot(const void *base, u64 size)
{
	return ((u64)base >> 2) | ((size >> 3) - 1);
}

static void set_addr(unsigned i, u64 v)
{
	switch (i) {
	case 1:
		csr_write(pmpaddr1, v);
		break;
	case 2:
		csr_write(pmpaddr2, v);
		break;
	case 3:
		csr_write(pmpaddr3, v);
		break;
	case 4:
		csr_write(pmpaddr4, v);
		break;
	case 5:
		csr_write(pmpaddr5, v);
		break;
	case 6:
		csr_write(pmpaddr6, v);
		break;
	case 7:
		csr_write(pmpaddr7, v);
		break;
	case 15:
		csr_write(pmpaddr15, v);
		break;
	default:
		FAIL_NOW("set_addr: entry not used here");
	}
}

static volatile u64 probe_val;

static void probe_load(u64 a)
{
	probe_val = *(volatile u64 *)a;
	lower_exit();
}

static void probe_load32(u64 a)
{
	probe_val = *(volatile u32 *)a;
	lower_exit();
}

static void probe_store(u64 a)
{
	*(volatile u64 *)a = 0x5a5a;
	lower_exit();
}

/* A store next to a denied word of the same page, then the denied word. */
static void probe_store_pair(u64 a)
{
	for (int i = 0; i < 4; i++)
		*(volatile u64 *)(a + 8) = 0x77 + (u64)i;
	*(volatile u64 *)a = 0x66;
	lower_exit();
}

static void probe_call(u64 a)
{
	probe_val = ((u64(*)(void))a)();
	lower_exit();
}

static u64 run(unsigned mode, void (*fn)(u64), u64 arg)
{
	probe_val = 0xbad;
	expect_trap(TRAP_EXIT);
	u64 c = run_in_mode(mode, fn, arg);
	trap_action = TRAP_NONE;
	return c;
}

#define EXPECT_OK(what, c, want)	   EXPECT_RUN_OK(what, c, probe_val, want)
#define EXPECT_FAULT(what, c, cause, addr) EXPECT_RUN_FAULT(what, c, cause, addr)

int main(u64 hartid)
{
	(void)hartid;
	/* The catch-all moves from entry 0 (crt.S) to entry 15, the lowest priority. */
	set_addr(15, ~0UL);
	set_cfg(15, NAPOT | R | W | X);
	set_cfg(0, 0);
	for (int i = 0; i < 6; i++)
		*(volatile u64 *)&area[i][0] = 0x100 + (u64)i;

	/* NAPOT 4 KiB read-only. */
	set_addr(1, napot(area[0], PAGE));
	set_cfg(1, NAPOT | R);
	EXPECT_OK("S load, R page", run(MODE_S, probe_load, (u64)area[0]), 0x100);
	EXPECT_OK("U load, R page", run(MODE_U, probe_load, (u64)area[0] + 8), 0);
	EXPECT_FAULT("S store, R page", run(MODE_S, probe_store, (u64)area[0] + 16),
		     CAUSE_STORE_ACCESS, (u64)area[0] + 16);
	CHECK("R page unchanged", *(volatile u64 *)&area[0][16], 0);

	/* TOR over area[1] with no permission (entry 3 off, its address the bottom). */
	set_addr(3, (u64)area[1] >> 2);
	set_addr(4, ((u64)area[1] + PAGE) >> 2);
	set_cfg(4, TOR);
	EXPECT_FAULT("S load, TOR none", run(MODE_S, probe_load, (u64)area[1] + 8),
		     CAUSE_LOAD_ACCESS, (u64)area[1] + 8);
	EXPECT_OK("S load just below TOR", run(MODE_S, probe_load, (u64)area[0] + PAGE - 8), 0);
	EXPECT_OK("S load just above TOR", run(MODE_S, probe_load, (u64)area[2]), 0x102);
	CHECK("M load, TOR none (M unbound)", *(volatile u64 *)&area[1][0], 0x101);

	/* Execute: area[2] holds 'li a0, 0x55; ret'. */
	*(volatile u32 *)&area[2][64] = 0x05500513; /* li a0, 0x55 */
	*(volatile u32 *)&area[2][68] = 0x00008067; /* ret */
	asm volatile("fence.i" ::: "memory");
	set_addr(5, napot(area[2], PAGE));
	set_cfg(5, NAPOT | R | W);
	EXPECT_FAULT("S fetch, RW page", run(MODE_S, probe_call, (u64)area[2] + 64),
		     CAUSE_FETCH_ACCESS, (u64)area[2] + 64);
	set_cfg(5, NAPOT | R | X);
	EXPECT_OK("S fetch, RX page", run(MODE_S, probe_call, (u64)area[2] + 64), 0x55);
	set_cfg(5, 0);

	/* NA4 read-only word at the start of area[3]: partial matches and a split page. */
	set_addr(6, (u64)area[3] >> 2);
	set_cfg(6, NA4 | R);
	EXPECT_OK("S 4-byte load, NA4 R", run(MODE_S, probe_load32, (u64)area[3]), 0x103);
	EXPECT_FAULT("S 8-byte load across NA4 edge", run(MODE_S, probe_load, (u64)area[3]),
		     CAUSE_LOAD_ACCESS, (u64)area[3]);
	EXPECT_OK("S load after the NA4 word", run(MODE_S, probe_load32, (u64)area[3] + 4), 0);
	EXPECT_FAULT("S store pair: allowed then denied word",
		     run(MODE_S, probe_store_pair, (u64)area[3]), CAUSE_STORE_ACCESS, (u64)area[3]);
	CHECK("allowed word of the split page written", *(volatile u64 *)&area[3][8], 0x7a);
	/* (a 4-byte read: an 8-byte one only partly inside the NA4 entry fails in M too) */
	CHECK("denied word of the split page unchanged", *(volatile u32 *)&area[3][0], 0x103);
	EXPECT_FAULT("S store pair again", run(MODE_S, probe_store_pair, (u64)area[3]),
		     CAUSE_STORE_ACCESS, (u64)area[3]);

	/* The lowest-numbered entry decides: entry 2 (no access) before entry 6 (R). */
	set_addr(2, (u64)area[3] >> 2);
	set_cfg(2, NA4);
	EXPECT_FAULT("lower entry wins", run(MODE_S, probe_load32, (u64)area[3]), CAUSE_LOAD_ACCESS,
		     (u64)area[3]);
	set_cfg(2, 0);
	set_cfg(6, 0);

	/* No entry matches: S fails (even its first fetch), M succeeds. */
	set_cfg(15, 0);
	EXPECT_FAULT("S with no matching entry", run(MODE_S, probe_load, (u64)area[0]),
		     CAUSE_FETCH_ACCESS, (u64)probe_load);
	CHECK("M with no matching entry", *(volatile u64 *)&area[0][0], 0x100);
	set_cfg(15, NAPOT | R | W | X);

	/* Page-table reads are S accesses: a root table PMP denies to S faults every access. */
	for (int i = 0; i < 512; i++)
		root[i] = 0;
	root[2] = (0x80000000UL >> 12) << 10 | 0xcf; /* 1 GiB RWX leaf over RAM, A, D, V */
	set_addr(7, napot(root, PAGE));
	set_cfg(7, NAPOT);
	csr_write(satp, 8UL << 60 | (u64)root >> 12);
	asm volatile("sfence.vma" ::: "memory");
	EXPECT_FAULT("S walk through a denied table", run(MODE_S, probe_load, (u64)area[0]),
		     CAUSE_FETCH_ACCESS, (u64)probe_load);
	set_cfg(7, NAPOT | R);
	EXPECT_OK("S walk through a readable table", run(MODE_S, probe_load, (u64)area[0]), 0x100);
	csr_write(satp, 0);
	asm volatile("sfence.vma" ::: "memory");
	set_cfg(7, 0);

	/* Locked: binds M, and neither its configuration nor its address can change. */
	set_addr(7, napot(area[4], PAGE));
	set_cfg(7, L | NAPOT | R);
	expect_trap(TRAP_SKIP);
	*(volatile u64 *)&area[4][8] = 1;
	CHECK_TRAP("M store, locked R page", CAUSE_STORE_ACCESS, (u64)area[4] + 8);
	CHECK("M load, locked R page", *(volatile u64 *)&area[4][0], 0x104);
	set_cfg(7, NAPOT | R | W);
	CHECK("locked cfg unchanged", (csr_read(pmpcfg0) >> 56) & 0xff, L | NAPOT | R);
	set_addr(7, napot(area[5], PAGE));
	CHECK("locked addr unchanged", csr_read(pmpaddr7), napot(area[4], PAGE));
	return test_result();
}
