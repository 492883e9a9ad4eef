/* SPDX-License-Identifier: MIT */
/*
 * Sv39 / Sv48 translation (built twice, -DSV=39 and -DSV=48): page sizes,
 * permissions, U/SUM/MXR, invalid and reserved PTEs, misaligned
 * superpages, A/D updates, MPRV, sfence.vma, canonical addresses,
 * page faults delegated to S-mode, pages whose numbers collide in a
 * direct-mapped TLB used alternately, and one load alternating between two
 * virtually adjacent pages that are physically apart (a translator that
 * guesses a load's page from its last one guesses wrong every time).
 */
#include "isa.h"

#if SV == 39
#define LEVELS	  3
#define SATP_MODE 8UL
#ifdef STRICT
const char *test_name = "mmu_strict";
#else
const char *test_name = "mmu_sv39";
#endif
#elif SV == 48
#define LEVELS	  4
#define SATP_MODE 9UL
const char *test_name = "mmu_sv48";
#else
#error "build with -DSV=39 or -DSV=48"
#endif

#define PTE_V 1UL
#define PTE_R 2UL
#define PTE_W 4UL
#define PTE_X 8UL
#define PTE_U 16UL
#define PTE_G 32UL
#define PTE_A 64UL
#define PTE_D 128UL
#define RWX   (PTE_R | PTE_W | PTE_X)
#define AD    (PTE_A | PTE_D)

#define PAGE	 4096UL
#define MEGA	 (PAGE << 9)
#define GIGA	 (MEGA << 9)
#define RAM_BASE 0x80000000UL
#define RAM_SIZE (64UL << 20)
#define MEGA_PA	 0x83000000UL /* a free 2M-aligned RAM region */

/* Test virtual addresses (outside the identity-mapped areas). */
#define VA_4K	     0x40001000UL
#define VA_RO	     0x40002000UL
#define VA_XO	     0x40003000UL
#define VA_EXEC	     0x40004000UL
#define VA_INVALID   0x40005000UL
#define VA_WNOR	     0x40006000UL
#define VA_AD	     0x40007000UL
#define VA_UPAGE     0x40008000UL
#define VA_SFENCE    0x40009000UL
#define VA_NOX	     0x4000a000UL
#define VA_MEGA	     0x40200000UL
#define VA_BADMEGA   0x40400000UL
#define VA_GIGA	     0xc0000000UL
#define VA_SPAN	     0x40010000UL /* two pages, physically apart */
#define VA_SPAN_HALF 0x40020000UL /* first page mapped, second not */
/* Three pages 4 MiB apart: the same entry of a 1024-entry direct-mapped TLB. */
#define VA_ALIAS_A 0x40830000UL
#define VA_ALIAS_B (VA_ALIAS_A + (4UL << 20))
#define VA_ALIAS_C (VA_ALIAS_A + (8UL << 20))

static u64 pt_pool[48][512] __attribute__((aligned(4096)));
static unsigned pt_used;
static u8 pages[12][PAGE] __attribute__((aligned(4096)));
static u64 *root_s, *root_u;

extern char exec_page[];
/* A page of code reachable through other mappings: returns 0x77. */
asm(".text\n.align 12\nexec_page:\nli a0, 0x77\nret\n.align 12\n");

static u64 *pt_alloc(void)
{
	if (pt_used >= 48)
		FAIL_NOW("page table pool exhausted");
	return pt_pool[pt_used++];
}

static unsigned vpn(u64 va, int level)
{
	return (unsigned)(va >> (12 + 9 * level)) & 511;
}

/* The PTE slot for 'va' at 'level', making tables on the way. */
static u64 *pte_slot(u64 *root, u64 va, int level)
{
	u64 *table = root;
	for (int l = LEVELS - 1; l > level; l--) {
		u64 *e = &table[vpn(va, l)];
		if (!(*e & PTE_V))
			*e = ((u64)pt_alloc() >> 12) << 10 | PTE_V;
		if (*e & RWX)
			FAIL_NOW("mapping below a leaf");
		table = (u64 *)((*e >> 10) << 12);
	}
	return &table[vpn(va, level)];
}

static void map(u64 *root, u64 va, u64 pa, int level, u64 flags)
{
	*pte_slot(root, va, level) = (pa >> 12) << 10 | flags;
}

static u64 satp_for(u64 *root)
{
	return SATP_MODE << 60 | (u64)root >> 12;
}

static void sfence(void)
{
	asm volatile("sfence.vma" ::: "memory");
}

static void build_tables(void)
{
	root_s = pt_alloc();
	root_u = pt_alloc();
	/* RAM identity with 2M pages; MMIO (test device, CLINT, UART). */
	for (u64 a = RAM_BASE; a < RAM_BASE + RAM_SIZE; a += MEGA) {
		map(root_s, a, a, 1, RWX | AD | PTE_V);
		map(root_u, a, a, 1, RWX | AD | PTE_U | PTE_V);
	}
	u64 mmio[] = {0x0, 0x2000000, 0x10000000};
	for (int i = 0; i < 3; i++) {
		map(root_s, mmio[i], mmio[i], 1, PTE_R | PTE_W | AD | PTE_V);
		map(root_u, mmio[i], mmio[i], 1, PTE_R | PTE_W | AD | PTE_U | PTE_V);
	}
	/* Test pages, same in both trees but for the U bit where noted. */
	u64 *roots[2] = {root_s, root_u};
	for (int i = 0; i < 2; i++) {
		u64 *r = roots[i];
		map(r, VA_4K, (u64)pages[0], 0, PTE_R | PTE_W | AD | PTE_V);
		map(r, VA_RO, (u64)pages[1], 0, PTE_R | AD | PTE_V);
		map(r, VA_XO, (u64)pages[1], 0, PTE_X | AD | PTE_V);
		map(r, VA_EXEC, (u64)exec_page, 0, PTE_R | PTE_X | AD | PTE_V);
		map(r, VA_INVALID, (u64)pages[1], 0, PTE_R | PTE_W | AD);
		map(r, VA_WNOR, (u64)pages[1], 0, PTE_W | AD | PTE_V);
		map(r, VA_UPAGE, (u64)pages[2], 0, PTE_R | PTE_W | PTE_X | PTE_U | AD | PTE_V);
		map(r, VA_NOX, (u64)exec_page, 0, PTE_R | PTE_W | AD | PTE_V);
		map(r, VA_MEGA, MEGA_PA, 1, PTE_R | PTE_W | AD | PTE_V);
		map(r, VA_BADMEGA, MEGA_PA + PAGE, 1, PTE_R | PTE_W | AD | PTE_V);
		map(r, VA_GIGA, RAM_BASE, 2, PTE_R | PTE_W | AD | PTE_V);
		/* the highest canonical gigapage, also onto RAM */
		map(r, ~0UL << 30, RAM_BASE, 2, PTE_R | AD | PTE_V);
#if LEVELS == 4
		/* a 512G leaf at level 3 onto physical 0 */
		map(r, 1UL << 39, 0, 3, PTE_R | AD | PTE_V);
#endif
	}
	map(root_s, VA_AD, (u64)pages[3], 0, PTE_R | PTE_W | PTE_V);
	map(root_s, VA_SFENCE, (u64)pages[4], 0, PTE_R | PTE_W | AD | PTE_V);
	/* pages[8] and pages[10] are not adjacent in physical memory */
	map(root_s, VA_SPAN, (u64)pages[8], 0, RWX | AD | PTE_V);
	map(root_s, VA_SPAN + PAGE, (u64)pages[10], 0, RWX | AD | PTE_V);
	map(root_s, VA_SPAN_HALF, (u64)pages[8], 0, RWX | AD | PTE_V);
	map(root_s, VA_ALIAS_A, (u64)pages[6], 0, PTE_R | PTE_W | AD | PTE_V);
	map(root_s, VA_ALIAS_B, (u64)pages[7], 0, PTE_R | PTE_W | AD | PTE_V);
	map(root_s, VA_ALIAS_C, (u64)pages[9], 0, PTE_R | PTE_W | AD | PTE_V);
}

/* ---- probes run in S or U ---- */

static volatile u64 probe_val, store_val;

static void probe_load(u64 va)
{
	probe_val = *(volatile u64 *)va;
	lower_exit();
}

static void probe_store(u64 va)
{
	*(volatile u64 *)va = store_val;
	lower_exit();
}

static void probe_exec(u64 va)
{
	probe_val = ((u64(*)(void))va)();
	lower_exit();
}

/* Runs a probe under 'root'; returns the cause that ended it. */
static u64 run(int mode, u64 *root, void (*fn)(u64), u64 va)
{
	csr_write(satp, satp_for(root));
	sfence();
	probe_val = 0xbad;
	expect_trap(TRAP_EXIT);
	u64 c = run_in_mode((unsigned)mode, fn, va);
	trap_action = TRAP_NONE;
	csr_write(satp, 0);
	sfence();
	return c;
}

#define EXPECT_OK(what, c, want_val)	 EXPECT_RUN_OK(what, c, probe_val, want_val)
#define EXPECT_FAULT(what, c, cause, va) EXPECT_RUN_FAULT(what, c, cause, va)

static void test_sizes(void)
{
	static volatile u64 ident = 0x1d3e7;
	EXPECT_OK("S identity megapage", run(MODE_S, root_s, probe_load, (u64)&ident), 0x1d3e7);
	*(u64 *)&pages[0][8] = 0x4444000011112222;
	EXPECT_OK("4K non-identity", run(MODE_S, root_s, probe_load, VA_4K + 8),
		  0x4444000011112222);
	store_val = 0xabcdef;
	EXPECT_OK("4K store", run(MODE_S, root_s, probe_store, VA_4K + 16), 0xbad);
	CHECK("4K store reached the physical page", *(u64 *)&pages[0][16], 0xabcdef);
	*(volatile u64 *)(MEGA_PA + 0x12340) = 0x3e6a;
	EXPECT_OK("2M page", run(MODE_S, root_s, probe_load, VA_MEGA + 0x12340), 0x3e6a);
	EXPECT_OK("1G page", run(MODE_S, root_s, probe_load, VA_GIGA + ((u64)&ident - RAM_BASE)),
		  0x1d3e7);
	EXPECT_OK("top canonical 1G page",
		  run(MODE_S, root_s, probe_load, (~0UL << 30) + ((u64)&ident - RAM_BASE)),
		  0x1d3e7);
#if LEVELS == 4
	EXPECT_OK("512G page (Sv48 level 3)",
		  run(MODE_S, root_s, probe_load, (1UL << 39) + (u64)&ident), 0x1d3e7);
#endif
	EXPECT_OK("exec 4K page at other VA", run(MODE_S, root_s, probe_exec, VA_EXEC), 0x77);
	u64 c = run(MODE_S, root_s, probe_load, VA_BADMEGA + 8);
	EXPECT_FAULT("misaligned superpage", c, CAUSE_LOAD_PAGE, VA_BADMEGA + 8);
}

static void test_perms(void)
{
	u64 c;
	store_val = 1;
	c = run(MODE_S, root_s, probe_store, VA_RO);
	EXPECT_FAULT("store to read-only", c, CAUSE_STORE_PAGE, VA_RO);
	c = run(MODE_S, root_s, probe_exec, VA_NOX + 4);
	EXPECT_FAULT("exec non-X", c, CAUSE_FETCH_PAGE, VA_NOX + 4);
	CHECK("exec non-X: mepc = va", trap_last.epc, VA_NOX + 4);
	c = run(MODE_S, root_s, probe_load, VA_XO);
	EXPECT_FAULT("load X-only (MXR=0)", c, CAUSE_LOAD_PAGE, VA_XO);
	*(u64 *)&pages[1][0] = 0x5a5a;
	csr_set(mstatus, MSTATUS_MXR);
	EXPECT_OK("load X-only with MXR=1", run(MODE_S, root_s, probe_load, VA_XO), 0x5a5a);
	csr_clear(mstatus, MSTATUS_MXR);
	c = run(MODE_S, root_s, probe_load, VA_INVALID + 0x18);
	EXPECT_FAULT("V=0 load", c, CAUSE_LOAD_PAGE, VA_INVALID + 0x18);
	c = run(MODE_S, root_s, probe_store, VA_INVALID);
	EXPECT_FAULT("V=0 store", c, CAUSE_STORE_PAGE, VA_INVALID);
	c = run(MODE_S, root_s, probe_exec, VA_INVALID);
	EXPECT_FAULT("V=0 exec", c, CAUSE_FETCH_PAGE, VA_INVALID);
	c = run(MODE_S, root_s, probe_load, VA_WNOR);
	EXPECT_FAULT("W without R load", c, CAUSE_LOAD_PAGE, VA_WNOR);
	c = run(MODE_S, root_s, probe_store, VA_WNOR);
	EXPECT_FAULT("W without R store", c, CAUSE_STORE_PAGE, VA_WNOR);
	c = run(MODE_S, root_s, probe_load, 0x40100000UL);
	EXPECT_FAULT("unmapped", c, CAUSE_LOAD_PAGE, 0x40100000UL);
	/* Non-canonical: the bits above the top VA bit must copy it. */
	u64 nc = 1UL << SV;
	c = run(MODE_S, root_s, probe_load, nc);
	EXPECT_FAULT("non-canonical load", c, CAUSE_LOAD_PAGE, nc);
	c = run(MODE_S, root_s, probe_store, nc | 0x8000000000000000UL >> 1);
	EXPECT_FAULT("non-canonical store", c, CAUSE_STORE_PAGE, nc | 0x8000000000000000UL >> 1);
	c = run(MODE_S, root_s, probe_exec, 0x4000000000000000UL);
	EXPECT_FAULT("non-canonical exec", c, CAUSE_FETCH_PAGE, 0x4000000000000000UL);
}

static void test_user(void)
{
	u64 c;
	*(u64 *)&pages[2][0] = 0x2222;
	EXPECT_OK("U load U page", run(MODE_U, root_u, probe_load, VA_UPAGE), 0x2222);
	store_val = 0x3333;
	EXPECT_OK("U store U page", run(MODE_U, root_u, probe_store, VA_UPAGE + 8), 0xbad);
	CHECK("U store landed", *(u64 *)&pages[2][8], 0x3333);
	c = run(MODE_U, root_u, probe_load, VA_4K);
	EXPECT_FAULT("U load non-U page", c, CAUSE_LOAD_PAGE, VA_4K);
	c = run(MODE_U, root_u, probe_store, VA_4K);
	EXPECT_FAULT("U store non-U page", c, CAUSE_STORE_PAGE, VA_4K);
	c = run(MODE_U, root_u, probe_exec, VA_EXEC);
	EXPECT_FAULT("U exec non-U page", c, CAUSE_FETCH_PAGE, VA_EXEC);
	/* S and U pages: SUM. */
	csr_clear(mstatus, MSTATUS_SUM);
	c = run(MODE_S, root_s, probe_load, VA_UPAGE);
	EXPECT_FAULT("S load U page, SUM=0", c, CAUSE_LOAD_PAGE, VA_UPAGE);
	c = run(MODE_S, root_s, probe_store, VA_UPAGE);
	EXPECT_FAULT("S store U page, SUM=0", c, CAUSE_STORE_PAGE, VA_UPAGE);
	csr_set(mstatus, MSTATUS_SUM);
	EXPECT_OK("S load U page, SUM=1", run(MODE_S, root_s, probe_load, VA_UPAGE), 0x2222);
	/* S never executes U pages, SUM or not. */
	*(u32 *)&pages[2][0] = 0x00008067; /* ret */
	asm volatile("fence.i");
	c = run(MODE_S, root_s, probe_exec, VA_UPAGE);
	EXPECT_FAULT("S exec U page, SUM=1", c, CAUSE_FETCH_PAGE, VA_UPAGE);
	csr_clear(mstatus, MSTATUS_SUM);
}

static void probe_amo(u64 va)
{
	u64 old;
	asm volatile("amoadd.d %0, %2, (%1)" : "=r"(old) : "r"(va), "r"(1UL) : "memory");
	probe_val = old;
	lower_exit();
}

static void probe_amo_w(u64 va)
{
	u64 old;
	asm volatile("amoswap.w %0, %2, (%1)" : "=r"(old) : "r"(va), "r"(1UL) : "memory");
	probe_val = old;
	lower_exit();
}

static void probe_lr(u64 va)
{
	u64 v;
	asm volatile("lr.d %0, (%1)" : "=r"(v) : "r"(va) : "memory");
	probe_val = v;
	lower_exit();
}

/*
 * AMOs need read and write permission and report store/AMO page faults.
 * QEMU 7.2 reports a load page fault when the page is not readable, so
 * that is tolerated unless built with -DSTRICT (mmu_strict, vessel only).
 */
#ifdef STRICT
#define AMO_CAUSE_OK(c) ((c) == CAUSE_STORE_PAGE)
#else
#define AMO_CAUSE_OK(c) ((c) == CAUSE_STORE_PAGE || (c) == CAUSE_LOAD_PAGE)
#endif
#define EXPECT_AMO_FAULT(what, c, va)                                                              \
	do {                                                                                       \
		u64 c2_ = (c);                                                                     \
		check_eq_at(__FILE__, __LINE__, what ": store/AMO page fault", c2_, 0,             \
			    AMO_CAUSE_OK(c2_), 1);                                                 \
		CHECK(what ": tval", trap_last.tval, va);                                          \
	} while (0)

static void test_amo_perms(void)
{
	u64 c = run(MODE_S, root_s, probe_amo, VA_RO + 8);
	EXPECT_FAULT("amoadd.d on read-only page", c, CAUSE_STORE_PAGE, VA_RO + 8);
	c = run(MODE_S, root_s, probe_amo_w, VA_XO + 4);
	EXPECT_AMO_FAULT("amoswap.w on execute-only page", c, VA_XO + 4);
	c = run(MODE_S, root_s, probe_amo, VA_INVALID);
	EXPECT_AMO_FAULT("amoadd.d on invalid page", c, VA_INVALID);
	c = run(MODE_S, root_s, probe_lr, VA_XO);
	EXPECT_FAULT("lr.d on execute-only page", c, CAUSE_LOAD_PAGE, VA_XO);
	c = run(MODE_U, root_u, probe_amo, VA_4K);
	EXPECT_AMO_FAULT("U amoadd.d on non-U page", c, VA_4K);
	*(u64 *)&pages[0][0x80] = 41;
	EXPECT_OK("amoadd.d on RW page", run(MODE_S, root_s, probe_amo, VA_4K + 0x80), 41);
	CHECK("amoadd.d on RW page: memory", *(u64 *)&pages[0][0x80], 42);
	/* an AMO on a clean page sets D */
	u64 *pte = pte_slot(root_s, VA_AD, 0);
	*pte &= ~AD;
	EXPECT_OK("amoadd.d on A=D=0 page", run(MODE_S, root_s, probe_amo, VA_AD + 8), 0);
	CHECK("AMO sets A and D", *pte & AD, AD);
}

static void test_ad(void)
{
	u64 *pte = pte_slot(root_s, VA_AD, 0);
	CHECK("A/D start clear", *pte & AD, 0);
	*(u64 *)&pages[3][0] = 0xad;
	EXPECT_OK("load A=0 page", run(MODE_S, root_s, probe_load, VA_AD), 0xad);
	CHECK("load sets A", *pte & PTE_A, PTE_A);
	CHECK("load leaves D", *pte & PTE_D, 0);
	store_val = 0xda;
	EXPECT_OK("store D=0 page", run(MODE_S, root_s, probe_store, VA_AD), 0xbad);
	CHECK("store sets D", *pte & PTE_D, PTE_D);
	CHECK("A still set", *pte & PTE_A, PTE_A);
	CHECK("store landed", *(u64 *)&pages[3][0], 0xda);
}

static void test_mprv(void)
{
	*(u64 *)&pages[0][0x40] = 0x3e3e;
	csr_write(satp, satp_for(root_s));
	sfence();
	u64 v;
	csr_clear(mstatus, MSTATUS_MPP);
	csr_set(mstatus, (u64)MODE_S << 11);
	asm volatile("csrs mstatus, %2\n\tld %0, 0(%1)\n\tcsrc mstatus, %2"
		     : "=&r"(v)
		     : "r"(VA_4K + 0x40), "r"(MSTATUS_MPRV)
		     : "memory");
	CHECK("MPRV, MPP=S: M load translated", v, 0x3e3e);
	asm volatile("csrs mstatus, %2\n\tsd %0, 0(%1)\n\tcsrc mstatus, %2" ::"r"(0x4e4eUL),
		     "r"(VA_4K + 0x48), "r"(MSTATUS_MPRV)
		     : "memory");
	CHECK("MPRV, MPP=S: M store translated", *(u64 *)&pages[0][0x48], 0x4e4e);
	/* MPRV with MPP=S obeys SUM for U pages. */
	*(u64 *)&pages[2][0x10] = 0x5u;
	v = 0;
	expect_trap(TRAP_SKIP);
	asm volatile("csrs mstatus, %2\n\tld %0, 0(%1)\n\tcsrc mstatus, %2"
		     : "+&r"(v)
		     : "r"(VA_UPAGE + 0x10), "r"(MSTATUS_MPRV)
		     : "memory");
	trap_action = TRAP_NONE;
	CHECK("MPRV, MPP=S, SUM=0, U page: load page fault", trap_last.cause, CAUSE_LOAD_PAGE);
	csr_clear(mstatus, MSTATUS_MPP);
	csr_set(mstatus, (u64)MODE_S << 11 | MSTATUS_SUM);
	asm volatile("csrs mstatus, %2\n\tld %0, 0(%1)\n\tcsrc mstatus, %2"
		     : "=&r"(v)
		     : "r"(VA_UPAGE + 0x10), "r"(MSTATUS_MPRV)
		     : "memory");
	CHECK("MPRV, MPP=S, SUM=1, U page: load", v, 5);
	csr_clear(mstatus, MSTATUS_SUM);
	/* MPRV with MPP=U on a non-U page faults from M-mode. */
	csr_clear(mstatus, MSTATUS_MPP);
	v = 0;
	expect_trap(TRAP_SKIP);
	asm volatile("csrs mstatus, %2\n\tld %0, 0(%1)\n\tcsrc mstatus, %2"
		     : "+&r"(v)
		     : "r"(VA_4K + 0x40), "r"(MSTATUS_MPRV)
		     : "memory");
	trap_action = TRAP_NONE;
	CHECK("MPRV, MPP=U, non-U page: load page fault", trap_last.cause, CAUSE_LOAD_PAGE);
	CHECK("... tval", trap_last.tval, VA_4K + 0x40);
	CHECK("MPRV cleared after", csr_read(mstatus) & MSTATUS_MPRV, 0);
	/* Instruction fetch in M ignores MPRV: we are still running. */
	csr_write(satp, 0);
	sfence();
}

/* sfence.vma: S changes a PTE and sees the new page after the fence. */
static void s_sfence(u64 pte_addr)
{
	volatile u64 *pte = (volatile u64 *)pte_addr;
	u64 a = *(volatile u64 *)VA_SFENCE;
	*pte = ((u64)pages[5] >> 12) << 10 | PTE_R | PTE_W | AD | PTE_V;
	asm volatile("sfence.vma %0" ::"r"(VA_SFENCE) : "memory");
	u64 b = *(volatile u64 *)VA_SFENCE;
	*pte = ((u64)pages[4] >> 12) << 10 | PTE_V; /* now invalid */
	asm volatile("sfence.vma" ::: "memory");
	probe_val = a << 32 | b;
	lower_exit();
}

static void test_sfence(void)
{
	*(u64 *)&pages[4][0] = 0x4;
	*(u64 *)&pages[5][0] = 0x5;
	u64 *pte = pte_slot(root_s, VA_SFENCE, 0);
	EXPECT_OK("sfence.vma remap", run(MODE_S, root_s, s_sfence, (u64)pte), 0x400000005);
	u64 c = run(MODE_S, root_s, probe_load, VA_SFENCE);
	EXPECT_FAULT("after invalidating + sfence", c, CAUSE_LOAD_PAGE, VA_SFENCE);
}

/*
 * Stores and loads alternating between three colliding pages, each kept
 * apart; then B remapped and fenced alone (sfence.vma B): B shows its new
 * page, A and C their own; then A invalidated: A faults, C is still there.
 */
static volatile u64 alias_a, alias_b, alias_c;

static void s_alias(u64 pte_b_addr)
{
	volatile u64 *a = (volatile u64 *)VA_ALIAS_A, *b = (volatile u64 *)VA_ALIAS_B,
		     *c = (volatile u64 *)VA_ALIAS_C;
	u64 sum = 0;
	for (u64 i = 0; i < 64; i++) {
		*a = i;
		*b = i + 1000;
		*c = i + 2000;
		sum += *a + *b + *c;
	}
	*(volatile u64 *)pte_b_addr = ((u64)pages[11] >> 12) << 10 | PTE_R | PTE_W | AD | PTE_V;
	asm volatile("sfence.vma %0" ::"r"(VA_ALIAS_B) : "memory");
	alias_b = *b;
	alias_a = *a;
	alias_c = *c;
	probe_val = sum;
	lower_exit();
}

static void test_tlb_alias(void)
{
	*(u64 *)&pages[11][0] = 0x1111;
	u64 *pte_b = pte_slot(root_s, VA_ALIAS_B, 0);
	/* sum of 3i + 3000 for i = 0..63 */
	EXPECT_OK("colliding pages", run(MODE_S, root_s, s_alias, (u64)pte_b), 198048);
	CHECK("colliding pages: B remapped", alias_b, 0x1111);
	CHECK("colliding pages: A after B's sfence", alias_a, 63);
	CHECK("colliding pages: C after B's sfence", alias_c, 2063);
	CHECK("colliding pages: A's memory", *(u64 *)&pages[6][0], 63);
	CHECK("colliding pages: B's old memory", *(u64 *)&pages[7][0], 1063);
	CHECK("colliding pages: C's memory", *(u64 *)&pages[9][0], 2063);
	*pte_slot(root_s, VA_ALIAS_A, 0) = ((u64)pages[6] >> 12) << 10 | PTE_V; /* invalid */
	u64 c = run(MODE_S, root_s, probe_load, VA_ALIAS_A);
	EXPECT_FAULT("colliding pages: A invalidated", c, CAUSE_LOAD_PAGE, VA_ALIAS_A);
	c = run(MODE_S, root_s, probe_load, VA_ALIAS_C);
	EXPECT_OK("colliding pages: C still mapped", c, 2063);
}

static void s_alternate(u64 rounds)
{
	u64 sum = 0;
	for (u64 i = 0; i < rounds; i++)
		sum += *(volatile u64 *)(VA_SPAN + (i & 1) * PAGE + 8 * (i % 5));
	probe_val = sum;
	lower_exit();
}

static void test_alternate(void)
{
	u64 *lo = (u64 *)pages[8], *hi = (u64 *)pages[10], want = 0;
	for (unsigned k = 0; k < 5; k++) {
		lo[k] = k + 1;
		hi[k] = 100 * (k + 1);
	}
	for (u64 i = 0; i < 300; i++)
		want += (i & 1) ? hi[i % 5] : lo[i % 5];
	EXPECT_OK("one load, two pages apart", run(MODE_S, root_s, s_alternate, 300), want);
	/* again: the same load, now that it may have stopped guessing */
	EXPECT_OK("one load, two pages apart, again", run(MODE_S, root_s, s_alternate, 300), want);
}

/* Page faults delegated to S: scause/stval. */
static volatile u64 s_cause, s_tval, s_epc;

__attribute__((aligned(4))) static void s_trap(void)
{
	s_cause = csr_read(scause);
	s_tval = csr_read(stval);
	s_epc = csr_read(sepc);
	asm volatile("ecall");
}

static void s_fault(u64 va)
{
	csr_write(stvec, (u64)s_trap);
	if (va == VA_NOX)
		((void (*)(void))va)();
	else if (va == VA_RO)
		*(volatile u64 *)va = 1;
	else
		probe_val = *(volatile u64 *)va;
	lower_exit();
}

static void test_delegated(void)
{
	csr_write(medeleg,
		  1UL << CAUSE_FETCH_PAGE | 1UL << CAUSE_LOAD_PAGE | 1UL << CAUSE_STORE_PAGE);
	u64 c = run(MODE_S, root_s, s_fault, VA_INVALID + 8);
	CHECK("delegated: S handler ran", c, CAUSE_ECALL_S);
	CHECK("delegated load fault: scause 13", s_cause, CAUSE_LOAD_PAGE);
	CHECK("delegated load fault: stval", s_tval, VA_INVALID + 8);
	c = run(MODE_S, root_s, s_fault, VA_RO);
	CHECK("delegated store fault: scause 15", s_cause, CAUSE_STORE_PAGE);
	CHECK("delegated store fault: stval", s_tval, VA_RO);
	c = run(MODE_S, root_s, s_fault, VA_NOX);
	CHECK("delegated fetch fault: scause 12", s_cause, CAUSE_FETCH_PAGE);
	CHECK("delegated fetch fault: stval = va", s_tval, VA_NOX);
	CHECK("delegated fetch fault: sepc = va", s_epc, VA_NOX);
	csr_write(medeleg, 0);
}

/*
 * Accesses and instructions that straddle two pages: each half must come
 * from its own translation.  A misaligned access may also trap as
 * misaligned (then mtval is the address).
 */
static void probe_ld_span(u64 va)
{
	u64 v;
	asm volatile("ld %0, 0(%1)" : "=r"(v) : "r"(va) : "memory");
	probe_val = v;
	lower_exit();
}

static void probe_sd_span(u64 va)
{
	asm volatile("sd %0, 0(%1)" ::"r"(store_val), "r"(va) : "memory");
	lower_exit();
}

static void test_straddle(void)
{
	for (int i = 0; i < 8; i++) {
		pages[8][PAGE - 8 + i] = (u8)(0x10 + i);
		pages[9][i] = 0xee; /* the physically next page: must not be read */
		pages[10][i] = (u8)(0x20 + i);
	}
	u64 c = run(MODE_S, root_s, probe_ld_span, VA_SPAN + PAGE - 4);
	if (c == CAUSE_MISALIGNED_LOAD) {
		CHECK("ld across pages: misaligned trap tval", trap_last.tval, VA_SPAN + PAGE - 4);
	} else {
		EXPECT_OK("ld across pages", c, 0x2322212017161514UL);
	}
	store_val = 0x8877665544332211UL;
	c = run(MODE_S, root_s, probe_sd_span, VA_SPAN + PAGE - 2);
	if (c == CAUSE_MISALIGNED_STORE) {
		CHECK("sd across pages: misaligned trap tval", trap_last.tval, VA_SPAN + PAGE - 2);
	} else {
		CHECK("sd across pages: no fault", lower_ended_ok(c), 1);
		CHECK("sd across pages: first page", *(u16 *)&pages[8][PAGE - 2], 0x2211);
		CHECK("sd across pages: second page", *(u64 *)&pages[10][0] & 0xffffffffffffUL,
		      0x887766554433UL);
		CHECK("sd across pages: next physical page untouched", pages[9][0], 0xee);
	}
	/* Second page unmapped: a page fault (or a misaligned trap). */
	c = run(MODE_S, root_s, probe_ld_span, VA_SPAN_HALF + PAGE - 4);
	CHECK("ld into unmapped page faults", c == CAUSE_LOAD_PAGE || c == CAUSE_MISALIGNED_LOAD,
	      1);
	if (c == CAUSE_LOAD_PAGE)
		CHECK("... tval within the access",
		      trap_last.tval >= VA_SPAN_HALF + PAGE - 4 &&
			  trap_last.tval < VA_SPAN_HALF + PAGE + 4,
		      1);

	/*
	 * A 32-bit instruction across the boundary: c.li a0, 5; c.nop;
	 * then addi a0, a0, 1 split over the pages; then ret.
	 */
	u16 *p1 = (u16 *)&pages[8][PAGE - 6], *p2 = (u16 *)&pages[10][0];
	p1[0] = 0x4515; /* c.li a0, 5 */
	p1[1] = 0x0001; /* c.nop */
	p1[2] = 0x0513; /* addi a0, a0, 1 (low half) */
	p2[0] = 0x0015; /* (high half) */
	p2[1] = 0x8082; /* ret */
	pages[9][0] = 0;
	pages[9][1] = 0; /* the physical neighbour holds an illegal instruction */
	asm volatile("fence.i" ::: "memory");
	EXPECT_OK("instruction across pages", run(MODE_S, root_s, probe_exec, VA_SPAN + PAGE - 6),
		  6);
	/* Run again (decoded once; 20 runs stay below the JIT's threshold, the
	 * jit- variant translates at once), then its second half changes, then
	 * the next virtual page maps another physical page: each run must
	 * execute the instruction as it is now. */
	for (int i = 0; i < 20; i++)
		c = run(MODE_S, root_s, probe_exec, VA_SPAN + PAGE - 6);
	EXPECT_OK("instruction across pages, run 20 times", c, 6);
	p2[0] = 0x0025; /* addi a0, a0, 2 (high half) */
	asm volatile("fence.i" ::: "memory");
	EXPECT_OK("... after its second half changed",
		  run(MODE_S, root_s, probe_exec, VA_SPAN + PAGE - 6), 7);
	u16 *p3 = (u16 *)&pages[11][0];
	p3[0] = 0x0035; /* addi a0, a0, 3 (high half) */
	p3[1] = 0x8082; /* ret */
	map(root_s, VA_SPAN + PAGE, (u64)pages[11], 0, RWX | AD | PTE_V);
	sfence();
	asm volatile("fence.i" ::: "memory");
	EXPECT_OK("... after the next page is remapped",
		  run(MODE_S, root_s, probe_exec, VA_SPAN + PAGE - 6), 8);
	map(root_s, VA_SPAN + PAGE, (u64)pages[10], 0, RWX | AD | PTE_V);
	sfence();
	c = run(MODE_S, root_s, probe_exec, VA_SPAN_HALF + PAGE - 6);
	EXPECT_FAULT("instruction into unmapped page", c, CAUSE_FETCH_PAGE, VA_SPAN_HALF + PAGE);
	CHECK("... mepc at the instruction", trap_last.epc, VA_SPAN_HALF + PAGE - 2);
}

int main(u64 hartid)
{
	(void)hartid;
	build_tables();
	csr_write(satp, satp_for(root_s));
	CHECK("satp mode readback", csr_read(satp) >> 60, SATP_MODE);
	CHECK("satp ppn readback", csr_read(satp) & ((1UL << 44) - 1), (u64)root_s >> 12);
	/* A reserved mode (1-7): the whole write is ignored. */
	u64 before = csr_read(satp);
	csr_write(satp, 1UL << 60 | 0x1234);
	CHECK("satp write with reserved mode ignored", csr_read(satp), before);
	csr_write(satp, 0);
	CHECK("satp bare", csr_read(satp), 0);
	test_sizes();
	test_perms();
	test_user();
	test_ad();
	test_mprv();
	test_sfence();
	test_delegated();
	test_straddle();
	test_amo_perms();
	test_tlb_alias();
	test_alternate();
	return test_result();
}
