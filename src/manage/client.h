/* SPDX-License-Identifier: MIT */
/*
 * A small HTTP/1.1 client for the per-VM API on a unix socket: one request
 * per connection (Connection: close), JSON bodies through jansson, and the
 * console upgrade that turns the connection into a raw byte stream.
 */
#ifndef VESSEL_MANAGE_CLIENT_H
#define VESSEL_MANAGE_CLIENT_H

#include <jansson.h>
#include <stddef.h>

struct verr;

#define MCLIENT_TIMEOUT_MS 10000       /* per request, so a hung VMM never hangs the CLI */
#define MCLIENT_MAX_BODY   (64u << 20) /* larger answers are refused */

struct mclient_resp {
	int status;
	char *headers; /* the raw header lines, NUL-terminated */
	char *body;    /* NUL-terminated too (not counted in len) */
	size_t len;
};

/* A longer limit per request from now on in this process, for the requests that
 * wait for something long (a live migration); 0 waits for ever. */
void mclient_set_timeout(unsigned ms);

/* Connect to the unix socket 'path' (any length). Returns the fd or -errno. */
int mclient_connect(const char *path, struct verr *err);

/*
 * Send 'method path' with an optional body (content type JSON) and read the
 * whole answer.  0 with 'resp' filled (free it), or -errno: the socket is
 * missing or refuses (-ECONNREFUSED/-ENOENT), timed out, or the answer is not HTTP.
 */
int mclient_request(const char *sock, const char *method, const char *path, const char *body,
		    size_t body_len, struct mclient_resp *resp, struct verr *err);
void mclient_resp_free(struct mclient_resp *resp);

/* The value of header 'name' (case-insensitive) copied into 'out'; -ENOENT when absent. */
int mclient_resp_header(const struct mclient_resp *resp, const char *name, char *out, size_t size);

/*
 * A JSON request: 'req' may be NULL (no body).  Returns the HTTP status
 * (>= 100) with '*answer' the parsed JSON body or NULL when empty or not
 * JSON, or -errno.  An answer with status >= 400 fills 'err' with the API's
 * "error" message (or the status line) too.
 */
int mclient_json(const char *sock, const char *method, const char *path, const json_t *req,
		 json_t **answer, struct verr *err);

/*
 * GET 'path' with 'Connection: Upgrade' / 'Upgrade: proto'.  On 101 returns
 * the connected fd (now a raw stream); bytes that came after the answer's
 * header are in '*early' (malloc'd, may be NULL with '*early_len' 0).
 */
int mclient_upgrade(const char *sock, const char *path, const char *proto, char **early,
		    size_t *early_len, struct verr *err);

#endif
