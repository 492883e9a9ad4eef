/* SPDX-License-Identifier: MIT */
/* The subcommands of the vessel binary. Each returns the process exit status. */
#ifndef VESSEL_CLI_CLI_H
#define VESSEL_CLI_CLI_H

/* Exit statuses of 'vessel run'. */
#define EXIT_GUEST_POWEROFF 0 /* the guest powered the machine off */
#define EXIT_FAILURE_VMM    1 /* bad input or a failure of the VMM */
#define EXIT_USAGE	    2 /* unknown flag or missing argument */
#define EXIT_GUEST_REBOOT   3 /* the guest asked for a reboot */
#define EXIT_GUEST_FAILED   4 /* the guest reported failure (test device 'fail' code) */
#define EXIT_USER_QUIT	    5 /* the user quit with the escape key, or SIGINT/SIGTERM */

int cmd_run(int argc, char **argv);
int cmd_disk(int argc, char **argv);
/* vessel wasm run|spectest: the WebAssembly process VM (cli/wasm.c). */
int cmd_wasm(int argc, char **argv);
/* vessel vmm: one VM process serving the HTTP API on a unix socket (api/). */
int cmd_vmm(int argc, char **argv);
/* vessel vmm in the vessel executable: runs the sibling vessel-vmm (cli/vmm_exec.c). */
int cmd_vmm_exec(int argc, char **argv);
/* vessel create|start|stop|pause|resume|ls|inspect|console|logs|rm|...: managed VMs (cli/manage.c);
 * argv[0] is the command name. */
int cmd_manage(int argc, char **argv);
/* Whether argv[1] names a command of cmd_manage. */
int cmd_manage_handles(const char *cmd);

#endif
