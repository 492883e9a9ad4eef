/* SPDX-License-Identifier: MIT */
#include "api/server.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/console_log.h"
#include "api/http.h"
#include "util/log.h"

#define API_THREADS   2
#define API_MAX_CONNS 256
#define API_BACKLOG   128
/* Bodies above API_BODY_MAX up to this size are read and dropped before the 400. */
#define API_BODY_DISCARD_MAX (16u << 20)

struct api_server {
	struct MHD_Daemon *d;
	int fd;
	char *path;
	struct vm *vm;
	struct console_log *con;
};

/* Per request: the body as it arrives. */
struct api_body {
	char *buf;
	size_t len;
	bool too_big;
	uint64_t dropped; /* bytes of a too-big body read and dropped */
};

static int api_listen(const char *path, struct verr *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return verr_set(err, ENAMETOOLONG, "--api-sock %s: path longer than %zu bytes",
				path, sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return verr_set(err, errno, "--api-sock %s: socket: %s", path, strerror(errno));
	struct stat st;
	if (lstat(path, &st) == 0) {
		/* A socket nobody answers on is what a dead VMM left: replace it. */
		if (!S_ISSOCK(st.st_mode)) {
			close(fd);
			return verr_set(err, EEXIST, "--api-sock %s: exists and is not a socket",
					path);
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			return verr_set(err, EADDRINUSE, "--api-sock %s: another process serves it",
					path);
		}
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) ||
	    listen(fd, API_BACKLOG)) {
		int e = errno;
		close(fd);
		return verr_set(err, e, "--api-sock %s: %s", path, strerror(e));
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK)) {
		int e = errno;
		close(fd);
		return verr_set(err, e, "--api-sock %s: %s", path, strerror(e));
	}
	return fd;
}

static void api_upgrade_close(void *arg)
{
	MHD_upgrade_action(arg, MHD_UPGRADE_ACTION_CLOSE);
}

static void api_upgraded(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra_in,
			 size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	(void)c;
	(void)con_cls;
	struct api_server *s = cls;
	if (console_log_attach(s->con, sock, extra_in, extra_len, api_upgrade_close, urh))
		api_upgrade_close(urh);
}

/* Whether a comma-separated header value holds 'token' (case-insensitive). */
static bool api_header_has(const char *value, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = value; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *end = p + strcspn(p, ",");
		const char *last = end;
		while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
			last--;
		if ((size_t)(last - p) == n && !strncasecmp(p, token, n))
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

static enum MHD_Result api_queue(struct MHD_Connection *c, struct api_server *s,
				 struct api_reply *rep)
{
	struct MHD_Response *resp;
	unsigned status = rep->status;
	if (rep->upgrade_console) {
		resp = MHD_create_response_for_upgrade(api_upgraded, s);
		if (resp)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "vessel-console");
		status = MHD_HTTP_SWITCHING_PROTOCOLS;
	} else if (rep->body) {
		resp = MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
		if (resp)
			rep->body = NULL;
	} else {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	}
	free(rep->body);
	if (!resp)
		return MHD_NO;
	if (rep->content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep->content_type);
	if (rep->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rep->allow);
	if (rep->console_range) {
		char v[24];
		snprintf(v, sizeof(v), "%llu", (unsigned long long)rep->console_start);
		MHD_add_response_header(resp, "X-Console-Offset", v);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)rep->console_end);
		MHD_add_response_header(resp, "X-Console-End", v);
	}
	enum MHD_Result r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* Answer before reading the body (far too big): MHD then closes the connection. */
static enum MHD_Result api_reject_big(struct MHD_Connection *c, struct api_server *s)
{
	struct api_reply rep = {0};
	char *msg = strdup("{\"error\":\"request body larger than 65536 bytes\"}");
	rep.status = 400;
	rep.body = msg;
	rep.len = msg ? strlen(msg) : 0;
	rep.content_type = "application/json";
	return api_queue(c, s, &rep);
}

static enum MHD_Result api_access(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	struct api_server *s = cls;
	struct api_body *b = *con_cls;
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return MHD_NO;
		*con_cls = b;
		const char *cl =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		/* A body a little too big is read and dropped, so that the client (which
		 * sends it before reading the answer) gets the 400; an absurd one is
		 * refused at once and the connection closed. */
		if (cl && strtoull(cl, NULL, 10) > API_BODY_DISCARD_MAX) {
			b->too_big = true;
			return api_reject_big(c, s);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (b->too_big || b->len + n > API_BODY_MAX) {
			b->too_big = true;
			b->dropped += n;
			/* Read and dropped, answered 400 at the end; an endless chunked body
			 * is cut off. */
			return b->dropped > API_BODY_DISCARD_MAX ? MHD_NO : MHD_YES;
		}
		char *nb = realloc(b->buf, b->len + n + 1);
		if (!nb)
			return MHD_NO;
		memcpy(nb + b->len, upload, n);
		b->buf = nb;
		b->len += n;
		b->buf[b->len] = '\0';
		return MHD_YES;
	}
	struct api_request req = {
	    .method = method,
	    .path = url,
	    .offset = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "offset"),
	    .body = b->buf ? b->buf : "",
	    .body_len = b->len,
	    .body_too_big = b->too_big,
	    .wants_console =
		api_header_has(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Connection"),
			       "upgrade") &&
		api_header_has(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upgrade"),
			       "vessel-console"),
	};
	struct api_reply rep;
	api_route(s->vm, s->con, &req, &rep);
	return api_queue(c, s, &rep);
}

static void api_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			  enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	struct api_body *b = *con_cls;
	if (b) {
		free(b->buf);
		free(b);
		*con_cls = NULL;
	}
}

struct api_server *api_server_start(const char *path, struct vm *vm, struct console_log *con,
				    struct verr *err)
{
	struct api_server *s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		verr_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	s->vm = vm;
	s->con = con;
	s->fd = api_listen(path, err);
	if (s->fd < 0) {
		free(s->path);
		free(s);
		return NULL;
	}
	s->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_UPGRADE, 0, NULL, NULL,
				api_access, s, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->fd,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned)API_THREADS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONNECTION_TIMEOUT,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_MAX_CONNS,
				MHD_OPTION_NOTIFY_COMPLETED, api_completed, s, MHD_OPTION_END);
	if (!s->d) {
		verr_set(err, EIO, "--api-sock %s: cannot start the HTTP server", path);
		close(s->fd);
		unlink(path);
		free(s->path);
		free(s);
		return NULL;
	}
	return s;
}

void api_server_stop(struct api_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	close(s->fd);
	unlink(s->path);
	free(s->path);
	free(s);
}
