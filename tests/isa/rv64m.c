/* SPDX-License-Identifier: MIT */
/* RV64M: multiply and divide, W-forms, division by zero and overflow. */
#include "isa.h"

const char *test_name = "rv64m";

#define MIN64 0x8000000000000000UL
#define MAX64 0x7fffffffffffffffUL

static void test_mul(void)
{
	TEST_RR("mul", 6, 7, 42);
	TEST_RR("mul", -6, 7, -42);
	TEST_RR("mul", -6, -7, 42);
	TEST_RR("mul", 0x100000000, 0x100000000, 0);
	TEST_RR("mul", 0x123456789abcdef, 0x10, 0x123456789abcdef0);
	TEST_RR("mul", MIN64, -1, MIN64);
	TEST_RR("mul", 0xffffffffffffffff, 0xffffffffffffffff, 1);
	TEST_RR("mulh", 0x100000000, 0x100000000, 1);
	TEST_RR("mulh", -1, -1, 0);
	TEST_RR("mulh", -1, 1, -1);
	TEST_RR("mulh", MIN64, MIN64, 0x4000000000000000);
	TEST_RR("mulh", MIN64, MAX64, 0xc000000000000000);
	TEST_RR("mulh", MAX64, MAX64, 0x3fffffffffffffff);
	TEST_RR("mulh", 0x123456789abcdef0, 0xfedcba9876543210, 0xffeb49923cc09532);
	TEST_RR("mulhu", -1, -1, 0xfffffffffffffffe);
	TEST_RR("mulhu", -1, 1, 0);
	TEST_RR("mulhu", -1, 2, 1);
	TEST_RR("mulhu", MIN64, MIN64, 0x4000000000000000);
	TEST_RR("mulhu", 0x123456789abcdef0, 0xfedcba9876543210, 0x121fa00ad77d7422);
	TEST_RR("mulhsu", -1, -1, -1); /* -1 * (2^64-1) */
	TEST_RR("mulhsu", -1, 1, -1);
	TEST_RR("mulhsu", 1, -1, 0);
	TEST_RR("mulhsu", MIN64, -1, 0x8000000000000000);
	TEST_RR("mulhsu", 2, MIN64, 1);
	TEST_RR("mulhsu", -2, MIN64, -1);
	TEST_RR("mulhsu", 0x123456789abcdef0, 0xfedcba9876543210, 0x121fa00ad77d7422);
	TEST_RR("mulhsu", 0xfedcba9876543210, 0x123456789abcdef0, 0xffeb49923cc09532);
	TEST_RR("mulw", 0x7fffffff, 2, 0xfffffffffffffffe);
	TEST_RR("mulw", 0x10000, 0x10000, 0);
	TEST_RR("mulw", 0x1234500000003, 0xabcd00000005, 15);
	TEST_RR("mulw", -3, 5, -15);
	TEST_RR("mulw", 0x40000000, 2, 0xffffffff80000000);
}

static void test_div(void)
{
	TEST_RR("div", 20, 6, 3);
	TEST_RR("div", -20, 6, -3); /* rounds toward zero */
	TEST_RR("div", 20, -6, -3);
	TEST_RR("div", -20, -6, 3);
	TEST_RR("div", 0, 5, 0);
	TEST_RR("div", 5, 0, -1);
	TEST_RR("div", -5, 0, -1);
	TEST_RR("div", MIN64, -1, MIN64);
	TEST_RR("div", MIN64, 1, MIN64);
	TEST_RR("divu", 20, 6, 3);
	TEST_RR("divu", -20, 6, 0x2aaaaaaaaaaaaaa7);
	TEST_RR("divu", 5, 0, -1);
	TEST_RR("divu", 0, 0, -1);
	TEST_RR("divu", MIN64, -1, 0);
	TEST_RR("divu", -1, -1, 1);
	TEST_RR("rem", 20, 6, 2);
	TEST_RR("rem", -20, 6, -2); /* sign of the dividend */
	TEST_RR("rem", 20, -6, 2);
	TEST_RR("rem", -20, -6, -2);
	TEST_RR("rem", 5, 0, 5);
	TEST_RR("rem", -5, 0, -5);
	TEST_RR("rem", MIN64, -1, 0);
	TEST_RR("remu", 20, 6, 2);
	TEST_RR("remu", -20, 6, 2);
	TEST_RR("remu", 5, 0, 5);
	TEST_RR("remu", -1, 0, -1);
	TEST_RR("remu", MIN64, -1, MIN64);

	TEST_RR("divw", 20, 6, 3);
	TEST_RR("divw", -20, 6, -3);
	TEST_RR("divw", 0x100000014, 6, 3);  /* upper bits ignored */
	TEST_RR("divw", 5, 0x100000000, -1); /* low word of divisor is 0 */
	TEST_RR("divw", 0x80000000, -1, 0xffffffff80000000);
	TEST_RR("divw", 0xffffffff80000000, 1, 0xffffffff80000000);
	TEST_RR("divuw", 0xffffffff, 1, -1); /* result sign-extended */
	TEST_RR("divuw", -20, 6, 0x2aaaaaa7);
	TEST_RR("divuw", 5, 0, -1);
	TEST_RR("divuw", 0x80000000, -1, 0);
	TEST_RR("divuw", 0x1ffffffff, 0x100000001, 0xffffffffffffffff);
	TEST_RR("remw", 20, 6, 2);
	TEST_RR("remw", -20, 6, -2);
	TEST_RR("remw", 5, 0, 5);
	TEST_RR("remw", 0x180000000, 0, 0xffffffff80000000);
	TEST_RR("remw", 0x80000000, -1, 0);
	TEST_RR("remw", 0x100000007, 4, 3);
	TEST_RR("remuw", 20, 6, 2);
	TEST_RR("remuw", -20, 6, 2);
	TEST_RR("remuw", 0x80000005, 0, 0xffffffff80000005);
	TEST_RR("remuw", 0x80000000, -1, 0xffffffff80000000);
	TEST_RR("remuw", 0xffffffff, 0x80000000, 0x7fffffff);
}

int main(u64 hartid)
{
	(void)hartid;
	test_mul();
	test_div();
	return test_result();
}
