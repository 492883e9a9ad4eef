/* SPDX-License-Identifier: MIT */
/* Traps on purpose (wasm only): argv[1] names which. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile int zero = 0;

static volatile int sink;

/* The store after the call keeps it from becoming a loop; no locals live in memory,
 * so the wasm call stack runs out, not the C stack in linear memory. */
__attribute__((noinline)) static int recurse(int n)
{
	if (n < 0 && zero) /* never true, but the compiler cannot know */
		return 0;
	int r = recurse(n + 1);
	sink = n;
	return r;
}

static void spin(void)
{
	volatile uint64_t i = 0;
	for (;;)
		i++;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *k = argv[1];
	printf("about to trap: %s\n", k);
	fflush(stdout);
	if (!strcmp(k, "unreachable"))
		__builtin_trap();
	if (!strcmp(k, "divzero"))
		return 10 / zero;
	if (!strcmp(k, "oob"))
		return *(volatile int *)(uintptr_t)0xfffffff0u;
	if (!strcmp(k, "stack"))
		return recurse(0);
	if (!strcmp(k, "indirect")) {
		/* Call through a function pointer of the wrong type; the volatile keeps the
		 * compiler from seeing which function it is. */
		int (*volatile g)(int, int, int) = (int (*)(int, int, int))(uintptr_t)recurse;
		return g(1, 2, 3);
	}
	if (!strcmp(k, "spin"))
		spin();
	if (!strcmp(k, "sleep"))
		sleep(1000);
	return 0;
}
