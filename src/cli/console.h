/* SPDX-License-Identifier: MIT */
/*
 * The VM's serial console on the host's stdin/stdout.  On a terminal, stdin
 * goes to raw mode (restored on every way out, signals included) and Ctrl-A
 * is an escape key: Ctrl-A x quits, Ctrl-A Ctrl-A sends a Ctrl-A, Ctrl-A h
 * shows help.  On pipes and files nothing is interpreted, so scripts can drive
 * the guest; end of input only stops reading.
 */
#ifndef VESSEL_CLI_CONSOLE_H
#define VESSEL_CLI_CONSOLE_H

#include <stdbool.h>

#include "machine/virt.h"

struct console;

/* Take over in_fd/out_fd and install the signal handlers; NULL on failure. */
struct console *console_open(int in_fd, int out_fd, struct verr *err);

/* What machine_run() polls and services; SIGINT/SIGTERM now quit machine m. */
const struct machine_console *console_attach(struct console *c, struct machine *m);

/* True if a SIGINT/SIGTERM/SIGHUP/SIGPIPE asked to quit. */
bool console_signalled(const struct console *c);

/* Restore the terminal and the signal handlers. */
void console_close(struct console *c);

#endif
