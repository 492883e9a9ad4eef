/* SPDX-License-Identifier: MIT */
/*
 * Error and diagnostic output.
 *
 * Library code returns 0 or a negative errno and fills an error buffer; only
 * the top level (cli/) prints the one line "vessel: <what failed>: <why>" and
 * exits.  These helpers keep that line's shape in one place.
 */
#ifndef VESSEL_UTIL_LOG_H
#define VESSEL_UTIL_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* An error message buffer carried down into code that can fail. */
struct verr {
	char msg[512];
};

/* Record the reason for a failure; returns -err so callers can 'return verr_set(...)'. */
int verr_set(struct verr *e, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Print "vessel: <msg>" to stderr. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "vessel: warning: <msg>" to stderr. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Debug output, shown when VESSEL_DEBUG is set in the environment. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
