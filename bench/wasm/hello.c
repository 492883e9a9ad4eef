/* SPDX-License-Identifier: MIT */
/* Start-up of a C program with wasi-libc: print one line. */
#include <stdio.h>

int main(void)
{
	puts("hello");
	return 0;
}
