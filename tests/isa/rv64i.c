/* SPDX-License-Identifier: MIT */
/* RV64I: every base instruction, W-forms, shifts, extensions, control flow, memory. */
#include "isa.h"

const char *test_name = "rv64i";

#define TEST_BR(op, a, b, taken)                                                                   \
	do {                                                                                       \
		u64 r_ = 0, a_ = (u64)(a), b_ = (u64)(b);                                          \
		asm volatile(op " %1, %2, 1f\n\tli %0, 0\n\tj 2f\n"                                \
				"1:\tli %0, 1\n2:"                                                 \
			     : "=&r"(r_)                                                           \
			     : "r"(a_), "r"(b_));                                                  \
		check_eq_at(__FILE__, __LINE__, op, a_, b_, r_, (taken));                          \
	} while (0)

#define TEST_LOAD(op, addr, off, want)                                                             \
	do {                                                                                       \
		u64 r_;                                                                            \
		asm volatile(op " %0, %2(%1)" : "=r"(r_) : "r"(addr), "i"(off) : "memory");        \
		check_eq_at(__FILE__, __LINE__, op, (u64)(addr), (u64)(off), r_, (u64)(want));     \
	} while (0)

static u64 mem[8] __attribute__((aligned(64)));

static void test_arith(void)
{
	TEST_RR("add", 1, 2, 3);
	TEST_RR("add", -1, 1, 0);
	TEST_RR("add", 0x7fffffffffffffff, 1, 0x8000000000000000);
	TEST_RR("add", 0xffffffff, 1, 0x100000000);
	TEST_RR("sub", 3, 5, -2);
	TEST_RR("sub", 0x8000000000000000, 1, 0x7fffffffffffffff);
	TEST_RR("sub", 0, 0, 0);
	TEST_RR("addw", 0x7fffffff, 1, 0xffffffff80000000);
	TEST_RR("addw", 0xffffffff, 1, 0);
	TEST_RR("addw", 0x123456789, 0, 0x23456789);
	TEST_RR("addw", 0xfffffffe00000000, 0x80000000, 0xffffffff80000000);
	TEST_RR("subw", 0, 1, -1);
	TEST_RR("subw", 0x80000000, 1, 0x7fffffff);
	TEST_RR("subw", 0x100000000, 0, 0);
	TEST_RI("addi", 5, -6, -1);
	TEST_RI("addi", 0, 2047, 2047);
	TEST_RI("addi", 0, -2048, -2048);
	TEST_RI("addi", 0x7fffffffffffffff, 1, 0x8000000000000000);
	TEST_RI("addiw", 0x7fffffff, 1, 0xffffffff80000000);
	TEST_RI("addiw", 0xffffffff00000005, 0, 5);
	TEST_RI("addiw", 0, -1, -1);
	TEST_RI("addiw", 0x80000000, 0, 0xffffffff80000000);

	TEST_RR("and", 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0x0f000f000f000f00);
	TEST_RR("or", 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xfff0fff0fff0fff0);
	TEST_RR("xor", 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0xf0f0f0f0f0f0f0f0);
	TEST_RI("andi", 0xff00ff00ff00ff00, -16, 0xff00ff00ff00ff00);
	TEST_RI("andi", 0xff00ff00ff00ffff, 0x70f, 0x70f);
	TEST_RI("ori", 0, -2048, 0xfffffffffffff800);
	TEST_RI("ori", 0x1000, 0x0ff, 0x10ff);
	TEST_RI("xori", 0x00ff00ff00ff00ff, -1, 0xff00ff00ff00ff00);
	TEST_RI("xori", 0xf0, 0x0f, 0xff);

	TEST_RR("slt", -1, 0, 1);
	TEST_RR("slt", 0, -1, 0);
	TEST_RR("slt", 5, 5, 0);
	TEST_RR("slt", 0x8000000000000000, 0x7fffffffffffffff, 1);
	TEST_RR("sltu", -1, 0, 0);
	TEST_RR("sltu", 0, -1, 1);
	TEST_RR("sltu", 5, 5, 0);
	TEST_RI("slti", -5, -4, 1);
	TEST_RI("slti", 0, -1, 0);
	TEST_RI("slti", 2047, 2047, 0);
	TEST_RI("sltiu", 0, 1, 1);
	TEST_RI("sltiu", 5, -1, 1); /* imm sign-extends to all ones */
	TEST_RI("sltiu", -1, -1, 0);
	TEST_RI("sltiu", 0x800, 2047, 0);
}

static void test_shifts(void)
{
	u64 v = 0x8000000000000001;
	TEST_RR("sll", v, 0, v);
	TEST_RR("sll", v, 31, 0x80000000);
	TEST_RR("sll", v, 32, 0x100000000);
	TEST_RR("sll", v, 63, 0x8000000000000000);
	TEST_RR("sll", v, 64, v); /* only 6 bits of rs2 count */
	TEST_RR("sll", 1, 0xffffffffffffffc1, 2);
	TEST_RR("srl", v, 0, v);
	TEST_RR("srl", v, 31, 0x100000000);
	TEST_RR("srl", v, 32, 0x80000000);
	TEST_RR("srl", v, 63, 1);
	TEST_RR("srl", v, 65, 0x4000000000000000);
	TEST_RR("sra", v, 0, v);
	TEST_RR("sra", v, 31, 0xffffffff00000000);
	TEST_RR("sra", v, 32, 0xffffffff80000000);
	TEST_RR("sra", v, 63, -1);
	TEST_RR("sra", 0x7fffffffffffffff, 63, 0);
	TEST_RI("slli", v, 0, v);
	TEST_RI("slli", v, 31, 0x80000000);
	TEST_RI("slli", v, 32, 0x100000000);
	TEST_RI("slli", v, 63, 0x8000000000000000);
	TEST_RI("srli", v, 0, v);
	TEST_RI("srli", v, 31, 0x100000000);
	TEST_RI("srli", v, 32, 0x80000000);
	TEST_RI("srli", v, 63, 1);
	TEST_RI("srai", v, 0, v);
	TEST_RI("srai", v, 31, 0xffffffff00000000);
	TEST_RI("srai", v, 32, 0xffffffff80000000);
	TEST_RI("srai", v, 63, -1);

	u64 w = 0xabcdef0180000001;
	TEST_RR("sllw", w, 0, 0xffffffff80000001);
	TEST_RR("sllw", w, 1, 2);
	TEST_RR("sllw", w, 31, 0xffffffff80000000);
	TEST_RR("sllw", w, 32, 0xffffffff80000001); /* 5 bits of rs2 */
	TEST_RR("sllw", 1, 63, 0xffffffff80000000);
	TEST_RR("srlw", w, 0, 0xffffffff80000001);
	TEST_RR("srlw", w, 1, 0x40000000);
	TEST_RR("srlw", w, 31, 1);
	TEST_RR("srlw", w, 32, 0xffffffff80000001);
	TEST_RR("sraw", w, 0, 0xffffffff80000001);
	TEST_RR("sraw", w, 1, 0xffffffffc0000000);
	TEST_RR("sraw", w, 31, -1);
	TEST_RR("sraw", 0x7fffffff, 31, 0);
	TEST_RR("sraw", w, 33, 0xffffffffc0000000);
	TEST_RI("slliw", w, 0, 0xffffffff80000001);
	TEST_RI("slliw", w, 31, 0xffffffff80000000);
	TEST_RI("slliw", 0x7fff, 17, 0xfffffffffffe0000);
	TEST_RI("srliw", w, 0, 0xffffffff80000001);
	TEST_RI("srliw", w, 31, 1);
	TEST_RI("srliw", 0xffffffff00000000, 4, 0);
	TEST_RI("sraiw", w, 0, 0xffffffff80000001);
	TEST_RI("sraiw", w, 31, -1);
	TEST_RI("sraiw", w, 4, 0xfffffffff8000000);
}

static void test_upper(void)
{
	u64 r;
	TEST(1, 0xffffffff80000000, asm volatile("lui %0, 0x80000" : "=r"(result)));
	TEST(2, 0x7ffff000, asm volatile("lui %0, 0x7ffff" : "=r"(result)));
	TEST(3, 0xfffffffffffff000, asm volatile("lui %0, 0xfffff" : "=r"(result)));
	TEST(4, 0x1000, asm volatile("lui %0, 1" : "=r"(result)));
	u64 here, a;
	asm volatile("1: auipc %0, 0\n\tla %1, 1b" : "=r"(r), "=r"(here));
	CHECK("auipc 0", r, here);
	asm volatile("1: auipc %0, 1\n\tla %1, 1b" : "=r"(r), "=r"(here));
	CHECK("auipc 1", r, here + 0x1000);
	asm volatile("1: auipc %0, 0xfffff\n\tla %1, 1b" : "=r"(r), "=r"(here));
	CHECK("auipc -1", r, here - 0x1000);
	asm volatile("1: auipc %0, 0x80000\n\tla %1, 1b" : "=r"(r), "=r"(here));
	CHECK("auipc -2^31", r, here - 0x80000000UL);
	/* x0 stays zero whatever is written to it. */
	asm volatile("addi x0, x0, 5\n\tlui x0, 1\n\tmv %0, x0" : "=r"(a));
	CHECK("x0 hardwired", a, 0);
}

static void test_branches(void)
{
	TEST_BR("beq", 3, 3, 1);
	TEST_BR("beq", 3, 4, 0);
	TEST_BR("beq", 0x100000003, 3, 0);
	TEST_BR("bne", 3, 4, 1);
	TEST_BR("bne", -1, -1, 0);
	TEST_BR("blt", -1, 0, 1);
	TEST_BR("blt", 0, -1, 0);
	TEST_BR("blt", 7, 7, 0);
	TEST_BR("blt", 0x8000000000000000, 0x7fffffffffffffff, 1);
	TEST_BR("bge", 0, -1, 1);
	TEST_BR("bge", 7, 7, 1);
	TEST_BR("bge", -1, 0, 0);
	TEST_BR("bltu", 0, -1, 1);
	TEST_BR("bltu", -1, 0, 0);
	TEST_BR("bltu", 7, 7, 0);
	TEST_BR("bgeu", -1, 0, 1);
	TEST_BR("bgeu", 7, 7, 1);
	TEST_BR("bgeu", 0, -1, 0);
	/* Backward branch: a counted loop. */
	u64 n = 0, i = 10;
	asm volatile("1: addi %0, %0, 1\n\taddi %1, %1, -1\n\tbnez %1, 1b" : "+r"(n), "+r"(i));
	CHECK("backward bnez loop", n, 10);
}

static void test_jumps(void)
{
	u64 link, expect, r;
	asm volatile(".option push\n.option norvc\n"
		     "jal %0, 1f\n2: nop\n1: la %1, 2b\n.option pop"
		     : "=r"(link), "=r"(expect));
	CHECK("jal link = pc+4", link, expect);
	/* jal x0 (j) skips. */
	asm volatile("li %0, 1\n\tj 1f\n\tli %0, 2\n1:" : "=r"(r));
	CHECK("j skips", r, 1);
	/* jalr: target = (rs1 + imm) & ~1. */
	asm volatile(".option push\n.option norvc\n"
		     "la t0, 1f\n\taddi t0, t0, 1\n\tli %0, 0\n"
		     "\tjalr %1, t0, 0\n3: li %0, 2\n1: li %0, 1\n"
		     "\tla %2, 3b\n.option pop"
		     : "=&r"(r), "=&r"(link), "=&r"(expect)
		     :
		     : "t0");
	CHECK("jalr clears bit 0", r, 1);
	CHECK("jalr link", link, expect);
	asm volatile(".option push\n.option norvc\n"
		     "la t0, 1f\n\taddi t0, t0, -7\n\tli %0, 0\n"
		     "\tjalr x0, 8(t0)\n\tli %0, 2\n1: li %0, 1\n.option pop"
		     : "=&r"(r)
		     :
		     : "t0");
	CHECK("jalr offset + odd base", r, 1);
	/* rd == rs1: target from the old value, link written after. */
	asm volatile(".option push\n.option norvc\n"
		     "la t0, 1f\n\tli %0, 0\n\tjalr t0, 0(t0)\n3: li %0, 2\n"
		     "1: li %0, 1\n\tla %2, 3b\n\tmv %1, t0\n.option pop"
		     : "=&r"(r), "=&r"(link), "=&r"(expect)
		     :
		     : "t0");
	CHECK("jalr rd==rs1 target", r, 1);
	CHECK("jalr rd==rs1 link", link, expect);
	/* Call and return through ra. */
	asm volatile(".option push\n.option norvc\n"
		     "li %0, 0\n\tjal ra, 1f\n\taddi %0, %0, 10\n\tj 2f\n"
		     "1: addi %0, %0, 1\n\tret\n2:\n.option pop"
		     : "=&r"(r)
		     :
		     : "ra");
	CHECK("call/ret", r, 11);
}

static void test_memory(void)
{
	volatile u64 *m = mem;
	m[0] = 0x8182838485868788;
	m[1] = 0x0102030405060708;
	u64 p = (u64)m;
	TEST_LOAD("lb", p, 0, 0xffffffffffffff88);
	TEST_LOAD("lb", p, 7, 0xffffffffffffff81);
	TEST_LOAD("lb", p, 8, 0x08);
	TEST_LOAD("lbu", p, 0, 0x88);
	TEST_LOAD("lbu", p, 7, 0x81);
	TEST_LOAD("lh", p, 0, 0xffffffffffff8788);
	TEST_LOAD("lh", p, 6, 0xffffffffffff8182);
	TEST_LOAD("lh", p, 8, 0x0708);
	TEST_LOAD("lhu", p, 0, 0x8788);
	TEST_LOAD("lhu", p, 6, 0x8182);
	TEST_LOAD("lw", p, 0, 0xffffffff85868788);
	TEST_LOAD("lw", p, 4, 0xffffffff81828384);
	TEST_LOAD("lw", p, 8, 0x05060708);
	TEST_LOAD("lwu", p, 0, 0x85868788);
	TEST_LOAD("lwu", p, 12, 0x01020304);
	TEST_LOAD("ld", p, 0, 0x8182838485868788);
	TEST_LOAD("ld", p, 8, 0x0102030405060708);
	TEST_LOAD("lbu", p + 8, -1, 0x81);
	TEST_LOAD("ld", p + 16, -8, 0x0102030405060708);

	m[2] = 0;
	u64 q = p + 16;
	asm volatile("sb %0, 0(%1)" ::"r"(0x1234567890abcdefUL), "r"(q) : "memory");
	CHECK("sb writes one byte", m[2], 0xef);
	asm volatile("sh %0, 2(%1)" ::"r"(0x1234567890abcdefUL), "r"(q) : "memory");
	CHECK("sh writes two bytes", m[2], 0xcdef00ef);
	asm volatile("sw %0, 4(%1)" ::"r"(0x1234567890abcdefUL), "r"(q) : "memory");
	CHECK("sw writes four bytes", m[2], 0x90abcdefcdef00ef);
	asm volatile("sd %0, 8(%1)" ::"r"(0x1234567890abcdefUL), "r"(q) : "memory");
	CHECK("sd", m[3], 0x1234567890abcdef);
	CHECK("sd leaves neighbour", m[2], 0x90abcdefcdef00ef);
	asm volatile("sb %0, -1(%1)" ::"r"(0x55), "r"(q + 8) : "memory");
	CHECK("sb negative offset", m[2], 0x55abcdefcdef00ef);
	u64 r;
	asm volatile("sd %1, 0(%2)\n\tld %0, 0(%2)"
		     : "=&r"(r)
		     : "r"(0xdeadbeefcafef00dUL), "r"(q)
		     : "memory");
	CHECK("sd then ld", r, 0xdeadbeefcafef00d);
	/* fence / fence.i execute as no-ops here. */
	asm volatile("fence\n\tfence rw, rw\n\tfence.i\n\tfence.tso" ::: "memory");
	CHECK("fences executed", 1, 1);
}

/* Misaligned accesses: either done in hardware or a misaligned trap. */
static int misaligned_traps;
static void misaligned_load(int line, const char *op, u64 addr, u64 want, int sz)
{
	u64 r = 0x5a5a;
	expect_trap(TRAP_SKIP);
	switch (sz) {
	case 2:
		asm volatile("lh %0, 0(%1)" : "+r"(r) : "r"(addr) : "memory");
		break;
	case 3:
		asm volatile("lhu %0, 0(%1)" : "+r"(r) : "r"(addr) : "memory");
		break;
	case 4:
		asm volatile("lw %0, 0(%1)" : "+r"(r) : "r"(addr) : "memory");
		break;
	case 5:
		asm volatile("lwu %0, 0(%1)" : "+r"(r) : "r"(addr) : "memory");
		break;
	default:
		asm volatile("ld %0, 0(%1)" : "+r"(r) : "r"(addr) : "memory");
		break;
	}
	trap_action = TRAP_NONE;
	misaligned_traps += (int)trap_last.count;
	if (trap_last.count) {
		check_eq_at(__FILE__, line, op, addr, 0, trap_last.cause, CAUSE_MISALIGNED_LOAD);
		check_eq_at(__FILE__, line, op, addr, 1, trap_last.tval, addr);
		check_eq_at(__FILE__, line, op, addr, 2, r, 0x5a5a);
	} else {
		check_eq_at(__FILE__, line, op, addr, 0, r, want);
	}
}

static void misaligned_store(int line, const char *op, u64 addr, int sz, u64 want0, u64 want1)
{
	u64 v = 0x1122334455667788;
	expect_trap(TRAP_SKIP);
	switch (sz) {
	case 2:
		asm volatile("sh %0, 0(%1)" ::"r"(v), "r"(addr) : "memory");
		break;
	case 4:
		asm volatile("sw %0, 0(%1)" ::"r"(v), "r"(addr) : "memory");
		break;
	default:
		asm volatile("sd %0, 0(%1)" ::"r"(v), "r"(addr) : "memory");
		break;
	}
	trap_action = TRAP_NONE;
	misaligned_traps += (int)trap_last.count;
	if (trap_last.count) {
		check_eq_at(__FILE__, line, op, addr, 0, trap_last.cause, CAUSE_MISALIGNED_STORE);
		check_eq_at(__FILE__, line, op, addr, 1, trap_last.tval, addr);
		want0 = 0;
		want1 = 0;
	}
	check_eq_at(__FILE__, line, op, addr, 3, mem[4], want0);
	check_eq_at(__FILE__, line, op, addr, 4, mem[5], want1);
	mem[4] = 0;
	mem[5] = 0;
}

static void test_misaligned(void)
{
	mem[4] = 0x0706050403020100;
	mem[5] = 0x8f8e8d8c8b8a8988;
	u64 p = (u64)&mem[4];
	misaligned_load(__LINE__, "lh+1", p + 1, 0x0201, 2);
	misaligned_load(__LINE__, "lh+7", p + 7, 0xffffffffffff8807, 2);
	misaligned_load(__LINE__, "lhu+7", p + 7, 0x8807, 3);
	misaligned_load(__LINE__, "lw+1", p + 1, 0x04030201, 4);
	misaligned_load(__LINE__, "lw+6", p + 6, 0xffffffff89880706, 4);
	misaligned_load(__LINE__, "lwu+6", p + 6, 0x89880706, 5);
	misaligned_load(__LINE__, "ld+1", p + 1, 0x8807060504030201, 8);
	misaligned_load(__LINE__, "ld+4", p + 4, 0x8b8a898807060504, 8);
	mem[4] = 0;
	mem[5] = 0;
	misaligned_store(__LINE__, "sh+1", p + 1, 2, 0x778800, 0);
	misaligned_store(__LINE__, "sh+7", p + 7, 2, 0x8800000000000000, 0x77);
	misaligned_store(__LINE__, "sw+2", p + 2, 4, 0x556677880000, 0);
	misaligned_store(__LINE__, "sw+5", p + 5, 4, 0x6677880000000000, 0x55);
	misaligned_store(__LINE__, "sd+3", p + 3, 8, 0x4455667788000000, 0x112233);
}

/* The operand grid generated by gen_int.py. */
static void test_grid(void)
{
#include "i_cases.h"
}

/* Code written at run time: fence.i makes the new instructions visible. */
static u32 code_buf[16] __attribute__((aligned(64)));

static u64 call_buf(void)
{
	u64 r;
	asm volatile("fence.i\n\tjalr ra, 0(%1)\n\tmv %0, a0"
		     : "=r"(r)
		     : "r"(code_buf)
		     : "ra", "a0", "memory");
	return r;
}

static void test_fence_i(void)
{
	for (u32 i = 1; i <= 40; i++) {
		code_buf[0] = 0x00000513 | (i << 20); /* li a0, i */
		code_buf[1] = 0x00008067;	      /* ret */
		check_eq_at(__FILE__, __LINE__, "fence.i: rewritten code runs", i, 0, call_buf(),
			    i);
	}
	/* Rewrite only the second instruction of a sequence. */
	code_buf[0] = 0x00100513; /* li a0, 1 */
	code_buf[1] = 0x00150513; /* addi a0, a0, 1 */
	code_buf[2] = 0x00008067; /* ret */
	CHECK("fence.i: three instructions", call_buf(), 2);
	code_buf[1] = 0x06450513; /* addi a0, a0, 100 */
	CHECK("fence.i: middle instruction replaced", call_buf(), 101);
	/* Compressed code too. */
	u16 *h = (u16 *)code_buf;
	h[0] = 0x4535; /* c.li a0, 13 */
	h[1] = 0x8082; /* c.jr ra */
	CHECK("fence.i: compressed code", call_buf(), 13);
}

int main(u64 hartid)
{
	(void)hartid;
	test_arith();
	test_shifts();
	test_upper();
	test_branches();
	test_jumps();
	test_memory();
	test_misaligned();
	test_fence_i();
	tprintf("misaligned accesses %s\n", misaligned_traps ? "trap" : "are done in hardware");
	test_grid();
	return test_result();
}
