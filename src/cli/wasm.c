/* SPDX-License-Identifier: MIT */
/* vessel wasm: placeholder until the WebAssembly runtime lands. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_wasm(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "vessel: wasm: not available in this build\n");
	return EXIT_FAILURE_VMM;
}
