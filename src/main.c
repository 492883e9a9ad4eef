/* SPDX-License-Identifier: MIT */
/* vessel: one binary, subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
	fputs("usage: vessel <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  run          boot a RISC-V virtual machine (see 'vessel run --help')\n"
	      "  disk create  create a disk image (qcow2 or raw)\n"
	      "  disk info    show a disk image's format, size and backing chain\n"
	      "  wasm run     run a WebAssembly program with WASI (see 'vessel wasm --help')\n"
	      "  create       define a managed VM (see 'vessel create --help')\n"
	      "  start, stop  start a managed VM, stop it (graceful, or --force)\n"
	      "  pause, resume, reset\n"
	      "               pause, resume or reboot a running managed VM\n"
	      "  ls           list the managed VMs and their state\n"
	      "  inspect      a managed VM's definition, state and metrics as JSON\n"
	      "  console      attach to a managed VM's serial console (Ctrl-] detaches)\n"
	      "  logs         the console output of a managed VM (--follow)\n"
	      "  rm           remove a managed VM's definition (--force: stop it first)\n"
	      "\n"
	      "options:\n"
	      "  -h, --help     show this help\n"
	      "  -V, --version  show the version\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("vessel %s\n", VESSEL_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "disk"))
		return cmd_disk(argc - 1, argv + 1);
	if (!strcmp(cmd, "wasm"))
		return cmd_wasm(argc - 1, argv + 1);
	if (!strcmp(cmd, "vmm"))
		return cmd_vmm_exec(argc - 1, argv + 1);
	if (cmd_manage_handles(cmd))
		return cmd_manage(argc - 1, argv + 1);
	fprintf(stderr, "vessel: unknown command '%s' (try 'vessel --help')\n", cmd);
	return EXIT_USAGE;
}
