/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include "cli/cli.h"

int cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "vessel: run: not built yet\n");
	return EXIT_FAILURE_VMM;
}
