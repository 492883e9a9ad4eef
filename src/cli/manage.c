/* SPDX-License-Identifier: MIT */
/* Managed VMs: placeholder until the manager lands. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_manage_handles(const char *cmd)
{
	(void)cmd;
	return 0;
}

int cmd_manage(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return EXIT_FAILURE_VMM;
}
