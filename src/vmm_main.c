/* SPDX-License-Identifier: MIT */
/* vessel-vmm: one VM process serving the HTTP API (what 'vessel vmm' runs). */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return cmd_vmm(argc, argv);
}
