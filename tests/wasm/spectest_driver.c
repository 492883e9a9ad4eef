/* SPDX-License-Identifier: MIT */
/* Runs wast2json scripts through the spec-test harness; fails if any assertion fails. */
#include <stdio.h>

#include "wasm/spectest.h"

int main(int argc, char **argv)
{
	unsigned total_failed = 0;
	for (int i = 1; i < argc; i++) {
		unsigned passed = 0, failed = 0;
		struct verr err = {{0}};
		if (wasm_spectest_run(argv[i], stdout, &passed, &failed, &err)) {
			fprintf(stderr, "spectest: %s\n", err.msg);
			return 1;
		}
		if (passed == 0)
			failed++; /* a script that checks nothing is a broken test */
		total_failed += failed;
	}
	return total_failed ? 1 : 0;
}
