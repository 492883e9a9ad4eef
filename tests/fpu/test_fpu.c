// SPDX-License-Identifier: MIT
/* Unit tests of src/cpu/fpu.c: hand-made vectors, then randomized cross-checks. */
#include <stdio.h>

#include "cpu/fpu.h"
#include "fpu_impl.h"
#include "fpu_test.h"

const struct fpu_impl fpu_hw = FPU_IMPL_INIT("hw");

int main(void)
{
	int bad = test_vectors();
	bad += test_random();
	printf("%s\n", bad ? "FAILED" : "all passed");
	return bad ? 1 : 0;
}
