/* SPDX-License-Identifier: MIT */
/* The managed-VM commands (cli/manage*.c), shared between their files. */
#ifndef VESSEL_CLI_MANAGE_H
#define VESSEL_CLI_MANAGE_H

#include <stdbool.h>
#include <stdio.h>

#include "manage/state.h"

/* Open the state directory (made if 'create'); prints the error itself. 0 or an exit status. */
int manage_open(const char *cmd, struct mstate *s, bool create);
/* Load NAME's definition or print "vessel: CMD NAME: no such VM" (exit status in *st). */
int manage_load(const char *cmd, const struct mstate *s, const char *name, struct mdef *d);
/* One "vessel: CMD NAME: why" line; returns the exit status 1. */
int manage_fail(const char *cmd, const char *name, const char *why);

/* The help text of all the managed-VM commands. */
void manage_usage(FILE *f);
/*
 * "vessel CMD NAME [--FLAG]" ('flag_name' may be NULL for none): -1 to go
 * on, else the exit status (help printed, or a usage error).
 */
int manage_parse_name(int argc, char **argv, const char *flag_name, const char **name, bool *flag);
/* NULL or an invalid name: the error printed, returns its exit status; -1 when fine. */
int manage_check_name(const char *cmd, const char *name);

/* The commands: argv[0] is the command name. Return the exit status. */
int manage_create(int argc, char **argv);
int manage_start(int argc, char **argv);
int manage_stop(int argc, char **argv);
int manage_action(int argc, char **argv); /* pause, resume, reset */
int manage_console(int argc, char **argv);
int manage_logs(int argc, char **argv);
int manage_snapshot_cmd(int argc, char **argv); /* snapshot, restore, clone (manage_snapshot.c) */
int manage_migrate_cmd(int argc, char **argv);	/* migrate, receive (manage_migrate.c) */

/* Attach to a running VM's console (used by 'start --attach' too). */
int manage_console_attach(const struct mstate *s, const char *name);

#endif
