/* SPDX-License-Identifier: MIT */
/*
 * The HTTP side of the VM API: libmicrohttpd on a unix socket that we
 * create, bind and listen on ourselves (MHD_OPTION_LISTEN_SOCKET).  MHD's
 * internal threads (a small pool polling with epoll where available) serve
 * many clients at once; an idle connection costs a file descriptor, never a
 * thread, and is dropped after a timeout, so a silent client blocks nobody.
 */
#ifndef VESSEL_API_SERVER_H
#define VESSEL_API_SERVER_H

struct api_server;
struct console_log;
struct verr;
struct vm;

/* Seconds an idle (non-attached) connection is kept. */
#define API_CONNECTION_TIMEOUT 30

/* Listen on 'path' (a stale socket there is replaced; a live one is an error). */
struct api_server *api_server_start(const char *path, struct vm *vm, struct console_log *con,
				    struct verr *err);
/* Stop serving (attached consoles must be detached first) and remove the socket. */
void api_server_stop(struct api_server *s);

#endif
