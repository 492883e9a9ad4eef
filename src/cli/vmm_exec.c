/* SPDX-License-Identifier: MIT */
/*
 * vessel vmm: runs the sibling executable vessel-vmm.
 *
 * The API server (libmicrohttpd, and through it GnuTLS, whose constructors
 * run at load time) lives in its own executable, so that 'vessel run' and
 * the CLI do not carry those libraries: about 1.5 MiB of resident memory
 * per VM process that a VM without an API never uses.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cmd_vmm_exec(int argc, char **argv)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0) {
		fprintf(stderr, "vessel: vmm: cannot find this executable: %s\n", strerror(errno));
		return EXIT_FAILURE_VMM;
	}
	path[n] = '\0';
	char *slash = strrchr(path, '/');
	const char *name = "vessel-vmm";
	if (!slash || (size_t)(slash + 1 - path) + strlen(name) + 1 > sizeof(path)) {
		fprintf(stderr, "vessel: vmm: executable path too long\n");
		return EXIT_FAILURE_VMM;
	}
	strcpy(slash + 1, name);
	(void)argc;
	argv[0] = (char *)name;
	execv(path, argv);
	fprintf(stderr, "vessel: vmm: cannot run %s: %s\n", path, strerror(errno));
	return EXIT_FAILURE_VMM;
}
