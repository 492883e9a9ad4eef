/* SPDX-License-Identifier: MIT */
/* vessel vmm: placeholder until the VM API process lands. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_vmm(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "vessel: vmm: not available in this build\n");
	return EXIT_FAILURE_VMM;
}
