/* SPDX-License-Identifier: MIT */
/*
 * The check macro of the C unit tests: a failed check prints where and what,
 * and counts; the test's main() returns non-zero when 'failures' is.
 * Include once per test program (it defines 'failures').
 */
#ifndef VESSEL_TESTS_CHECK_H
#define VESSEL_TESTS_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#endif
