/* SPDX-License-Identifier: MIT */
/*
 * RV64C: every compressed instruction of RV64 (there is no c.jal), each
 * checked for its result and for really being 16 bits long.
 */
#include "isa.h"

const char *test_name = "rv64c";

static u64 cbuf[16] __attribute__((aligned(64)));

/*
 * Runs 'setup' (may use a0-a5, s0, s1; %[in] is an input), then the one
 * compressed instruction 'insn' between labels 1 and 2, then copies
 * runs 'out', which leaves the result in a0.  The assembler checks that 'insn' was
 * encoded in 2 bytes.
 */
#define TEST_C(name, want, inv, setup, insn, out)                                                  \
	do {                                                                                       \
		u64 r_;                                                                            \
		asm volatile(".option push\n.option rvc\n.option norelax\n" setup "\n1: " insn     \
			     "\n2:\n\t" out "\n\tmv %0, a0"                                        \
			     "\n.if 2b - 1b - 2\n.error \"not compressed\"\n.endif\n"              \
			     ".option pop"                                                         \
			     : "=r"(r_)                                                            \
			     : [in] "r"((u64)(inv))                                                \
			     : "a0", "a1", "a2", "a3", "a4", "a5", "s0", "s1", "memory");          \
		CHECK(name, r_, want);                                                             \
	} while (0)

static void test_alu(void)
{
	TEST_C("c.li", 31, 0, "", "c.li a0, 31", "");
	TEST_C("c.li neg", -32, 0, "", "c.li a0, -32", "");
	TEST_C("c.lui", 0x1f000, 0, "", "c.lui a0, 0x1f", "");
	TEST_C("c.lui sign", 0xfffffffffffe0000, 0, "", "c.lui a0, 0xfffe0", "");
	TEST_C("c.addi", 0x100000010, 0x10000000f, "mv a0, %[in]", "c.addi a0, 1", "");
	TEST_C("c.addi neg", 0xffffffff, 0x100000000, "mv a0, %[in]", "c.addi a0, -1", "");
	TEST_C("c.addiw", 0xffffffff80000000, 0x7fffffff, "mv a0, %[in]", "c.addiw a0, 1", "");
	TEST_C("c.addiw 0 = sext.w", 0xffffffff87654321, 0x1287654321, "mv a0, %[in]",
	       "c.addiw a0, 0", "");
	TEST_C("c.mv", 0x123456789, 0x123456789, "mv a1, %[in]", "c.mv a0, a1", "");
	TEST_C("c.add", 0x300000003, 0x100000001, "mv a0, %[in]\n\tslli a1, a0, 1", "c.add a0, a1",
	       "");
	TEST_C("c.sub", -1, 5, "mv a0, %[in]\n\tli a1, 6", "c.sub a0, a1", "");
	TEST_C("c.xor", 0xff00, 0xf0f0, "mv a0, %[in]\n\tli a1, 0x0ff0", "c.xor a0, a1", "");
	TEST_C("c.or", 0xfff0, 0xf0f0, "mv a0, %[in]\n\tli a1, 0x0ff0", "c.or a0, a1", "");
	TEST_C("c.and", 0x00f0, 0xf0f0, "mv a0, %[in]\n\tli a1, 0x0ff0", "c.and a0, a1", "");
	TEST_C("c.subw", 0xffffffff80000000, 0x7fffffff, "mv a0, %[in]\n\tli a1, -1",
	       "c.subw a0, a1", "");
	TEST_C("c.addw", 0xffffffff80000000, 0x17fffffff, "mv a0, %[in]\n\tli a1, 1",
	       "c.addw a0, a1", "");
	TEST_C("c.andi", 0xffffffffffffffe0 & 0x12345, 0x12345, "mv a0, %[in]", "c.andi a0, -32",
	       "");
	TEST_C("c.andi pos", 0x5, 0x12345, "mv a0, %[in]", "c.andi a0, 0xf", "");
	TEST_C("c.slli", 0x8000000000000000, 1, "mv a0, %[in]", "c.slli a0, 63", "");
	TEST_C("c.slli 32", 0x500000000, 5, "mv a0, %[in]", "c.slli a0, 32", "");
	TEST_C("c.srli", 1, 0x8000000000000000, "mv a0, %[in]", "c.srli a0, 63", "");
	TEST_C("c.srli 32", 0x80000000, 0x8000000000000000, "mv a0, %[in]", "c.srli a0, 32", "");
	TEST_C("c.srai", -1, 0x8000000000000000, "mv a0, %[in]", "c.srai a0, 63", "");
	TEST_C("c.srai 1", 0xc000000000000000, 0x8000000000000000, "mv a0, %[in]", "c.srai a0, 1",
	       "");
	TEST_C("c.nop", 7, 7, "mv a0, %[in]", "c.nop", "");
	/* c.addi16sp / c.addi4spn work on sp: borrow it for a moment. */
	TEST_C("c.addi16sp +", 0x1000 + 496, 0, "mv a5, sp\n\tli sp, 0x1000", "c.addi16sp sp, 496",
	       "mv a0, sp\n\tmv sp, a5");
	TEST_C("c.addi16sp -", 0x1000 - 512, 0, "mv a5, sp\n\tli sp, 0x1000", "c.addi16sp sp, -512",
	       "mv a0, sp\n\tmv sp, a5");
	TEST_C("c.addi4spn", 0x1000 + 1020, 0, "mv a5, sp\n\tli sp, 0x1000",
	       "c.addi4spn a0, sp, 1020", "mv sp, a5");
	TEST_C("c.addi4spn 4", 0x1004, 0, "mv a5, sp\n\tli sp, 0x1000", "c.addi4spn a0, sp, 4",
	       "mv sp, a5");
}

static void test_mem(void)
{
	u64 b = (u64)cbuf;
	cbuf[0] = 0x8899aabbccddeeff;
	cbuf[1] = 0x0123456789abcdef;
	cbuf[15] = 0xfedcba9876543210;
	TEST_C("c.lw sign-extends", 0xffffffffccddeeff, b, "mv s0, %[in]", "c.lw a0, 0(s0)", "");
	TEST_C("c.lw offset", 0xffffffff8899aabb, b, "mv s0, %[in]", "c.lw a0, 4(s0)", "");
	TEST_C("c.ld", 0x0123456789abcdef, b, "mv s0, %[in]", "c.ld a1, 8(s0)", "mv a0, a1");
	TEST_C("c.ld max offset", 0xfedcba9876543210, b, "mv s0, %[in]", "c.ld a1, 120(s0)",
	       "mv a0, a1");
	TEST_C("c.sw", 0x8899aabb12345678, b, "mv s0, %[in]\n\tli a2, 0x12345678", "c.sw a2, 0(s0)",
	       "ld a0, 0(s0)");
	TEST_C("c.sd", 0x1122334455667788, b, "mv s0, %[in]\n\tli a3, 0x1122334455667788",
	       "c.sd a3, 16(s0)", "ld a0, 16(s0)");
	TEST_C("c.lwsp", 0x12345678, b, "mv a5, sp\n\tmv sp, %[in]", "c.lwsp a0, 0(sp)",
	       "mv sp, a5");
	TEST_C("c.ldsp", 0x1122334455667788, b, "mv a5, sp\n\tmv sp, %[in]", "c.ldsp a0, 16(sp)",
	       "mv sp, a5");
	TEST_C("c.swsp", 0xffffffffdeadbeef, b, "mv a5, sp\n\tmv sp, %[in]\n\tli a1, 0xdeadbeef",
	       "c.swsp a1, 24(sp)", "lw a0, 24(sp)\n\tmv sp, a5");
	TEST_C("c.sdsp", 0xcafef00d12345678, b,
	       "mv a5, sp\n\tmv sp, %[in]\n\tli a1, 0xcafef00d12345678", "c.sdsp a1, 32(sp)",
	       "ld a0, 32(sp)\n\tmv sp, a5");
	/* FP loads/stores (FS is on from crt.S). */
	TEST_C("c.fld", 0x0123456789abcdef, b, "mv s0, %[in]", "c.fld fa0, 8(s0)",
	       "fmv.x.d a0, fa0");
	TEST_C("c.fsd", 0x4000000000000000, b,
	       "mv s0, %[in]\n\tli a0, 0x4000000000000000\n\tfmv.d.x fa1, a0", "c.fsd fa1, 40(s0)",
	       "ld a0, 40(s0)");
	TEST_C("c.fldsp", 0x4000000000000000, b, "mv a5, sp\n\tmv sp, %[in]", "c.fldsp fa2, 40(sp)",
	       "fmv.x.d a0, fa2\n\tmv sp, a5");
	TEST_C("c.fsdsp", 0x3ff0000000000000, b,
	       "mv a5, sp\n\tmv sp, %[in]\n\tli a0, 0x3ff0000000000000\n\t"
	       "fmv.d.x fa3, a0",
	       "c.fsdsp fa3, 48(sp)", "ld a0, 48(sp)\n\tmv sp, a5");
}

static void test_control(void)
{
	u64 r;
	asm volatile(".option push\n.option rvc\n"
		     "li %0, 0\n\tc.j 1f\n\tli %0, 2\n1: addi %0, %0, 1\n"
		     ".option pop"
		     : "=&r"(r));
	CHECK("c.j skips", r, 1);
	asm volatile(".option push\n.option rvc\n"
		     "li a0, 0\n\tli %0, 0\n\tc.beqz a0, 1f\n\tli %0, 2\n1: "
		     "addi %0, %0, 1\n.option pop"
		     : "=&r"(r)::"a0");
	CHECK("c.beqz taken", r, 1);
	asm volatile(".option push\n.option rvc\n"
		     "li a0, 0x100000000\n\tli %0, 0\n\tc.beqz a0, 1f\n\tli %0, "
		     "2\n1: addi %0, %0, 1\n.option pop"
		     : "=&r"(r)::"a0");
	CHECK("c.beqz not taken (64-bit compare)", r, 3);
	asm volatile(".option push\n.option rvc\n"
		     "li a0, -1\n\tli %0, 0\n\tc.bnez a0, 1f\n\tli %0, 2\n1: "
		     "addi %0, %0, 1\n.option pop"
		     : "=&r"(r)::"a0");
	CHECK("c.bnez taken", r, 1);
	asm volatile(".option push\n.option rvc\n"
		     "li a0, 0\n\tli %0, 0\n\tc.bnez a0, 1f\n\tli %0, 2\n1: "
		     "addi %0, %0, 1\n.option pop"
		     : "=&r"(r)::"a0");
	CHECK("c.bnez not taken", r, 3);
	asm volatile(".option push\n.option rvc\n"
		     "li %0, 0\n\tla a1, 1f\n\tc.jr a1\n\tli %0, 2\n1: "
		     "addi %0, %0, 1\n.option pop"
		     : "=&r"(r)::"a1");
	CHECK("c.jr", r, 1);
	u64 link, expect;
	asm volatile(".option push\n.option rvc\n.option norelax\n"
		     "li %0, 0\n\tla a1, 1f\n\tc.jalr a1\n3: li %0, 2\n1: "
		     "addi %0, %0, 1\n\tmv %1, ra\n\tla %2, 3b\n.option pop"
		     : "=&r"(r), "=&r"(link), "=&r"(expect)::"a1", "ra");
	CHECK("c.jalr target", r, 1);
	CHECK("c.jalr link = pc+2", link, expect);
	/* Branches and jumps to 2-byte aligned targets. */
	asm volatile(".option push\n.option rvc\n"
		     "li %0, 0\n\tc.nop\n\tj 1f\n\tc.nop\n1: c.addi %0, 1\n"
		     "\tc.addi %0, 1\n.option pop"
		     : "=&r"(r));
	CHECK("jump to halfword target", r, 2);
	/* c.ebreak traps with mcause 3 and mepc at the instruction. */
	u64 pc;
	expect_trap(TRAP_SKIP);
	asm volatile(".option push\n.option rvc\n.option norelax\n"
		     "la %0, 1f\n1: c.ebreak\n.option pop"
		     : "=r"(pc));
	CHECK("c.ebreak traps", trap_last.count, 1);
	CHECK("c.ebreak mcause", trap_last.cause, CAUSE_BREAKPOINT);
	CHECK("c.ebreak mepc", trap_last.epc, pc);
	/* mtval is the pc or 0 (both allowed for a breakpoint). */
	CHECK("c.ebreak mtval is 0 or pc", trap_last.tval == 0 || trap_last.tval == pc, 1);
	/* An all-zero halfword is the defined illegal instruction. */
	expect_trap(TRAP_SKIP);
	asm volatile(".option push\n.option rvc\n.option norelax\n"
		     "la %0, 1f\n1: .half 0\n.option pop"
		     : "=r"(pc));
	CHECK("c.unimp illegal", trap_last.cause, CAUSE_ILLEGAL);
	CHECK("c.unimp mepc", trap_last.epc, pc);
	CHECK("c.unimp mtval is 0 or the bits", trap_last.tval, 0);
}

int main(u64 hartid)
{
	(void)hartid;
	test_alu();
	test_mem();
	test_control();
	return test_result();
}
