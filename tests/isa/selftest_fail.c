/* SPDX-License-Identifier: MIT */
/*
 * Checks the checkers: this program must FAIL (registered with
 * should_fail), so a runner that reads every exit as a pass is caught.
 */
#include "isa.h"

const char *test_name = "selftest_fail";

int main(u64 hartid)
{
	(void)hartid;
	CHECK("this check is meant to fail", 1, 2);
	return test_result();
}
