/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include "cli/cli.h"

int cmd_disk(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "vessel: disk: not built yet\n");
	return EXIT_FAILURE_VMM;
}
