/* SPDX-License-Identifier: MIT */
/*
 * One API request and its answer, as the HTTP server (server.c) hands them
 * to the routes (routes.c): the server knows HTTP, the routes know the VM.
 */
#ifndef VESSEL_API_HTTP_H
#define VESSEL_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_BODY_MAX 65536 /* larger request bodies answer 400 */

struct api_request {
	const char *method;
	const char *path;   /* without the query string */
	const char *offset; /* the 'offset' query argument, or NULL */
	const char *body;   /* NUL-terminated */
	size_t body_len;
	bool body_too_big;
	bool wants_console; /* Connection: Upgrade, Upgrade: vessel-console */
};

struct api_reply {
	unsigned status;
	char *body; /* malloc'ed, or NULL for no body */
	size_t len;
	const char *content_type;
	const char *allow;  /* for 405 */
	bool console_range; /* X-Console-Offset / X-Console-End */
	uint64_t console_start, console_end;
	bool upgrade_console; /* answer 101 and attach the socket to the console */
};

struct vm;
struct console_log;

/* Fill 'rep' for 'req'. */
void api_route(struct vm *vm, struct console_log *con, const struct api_request *req,
	       struct api_reply *rep);

#endif
