/* SPDX-License-Identifier: MIT */
#include "manage/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/log.h"

static int set_timeouts(int fd, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

static unsigned request_timeout_ms = MCLIENT_TIMEOUT_MS;

void mclient_set_timeout(unsigned ms)
{
	request_timeout_ms = ms;
}

int mclient_connect(const char *path, struct verr *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int dirfd = -1;
	if (strlen(path) < sizeof(sa.sun_path)) {
		strcpy(sa.sun_path, path);
	} else {
		/* Too long for sun_path: reach it through the directory's fd. */
		const char *slash = strrchr(path, '/');
		char dir[4096];
		if (!slash || (size_t)(slash - path) >= sizeof(dir))
			return verr_set(err, ENAMETOOLONG, "%s: path too long", path);
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		dirfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			return verr_set(err, errno, "%s: %s", dir, strerror(errno));
		if (snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd,
			     slash + 1) >= (int)sizeof(sa.sun_path)) {
			close(dirfd);
			return verr_set(err, ENAMETOOLONG, "%s: name too long", path);
		}
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r = fd < 0 ? -errno : 0;
	if (!r && connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		r = -errno;
	if (!r)
		r = set_timeouts(fd, request_timeout_ms);
	if (dirfd >= 0)
		close(dirfd);
	if (r) {
		if (fd >= 0)
			close(fd);
		return verr_set(err, -r, "%s: %s", path, strerror(-r));
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_request(int fd, const char *method, const char *path, const char *extra,
			const char *body, size_t len)
{
	char head[2048];
	int n =
	    snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: localhost\r\n%s"
		     "Content-Length: %zu\r\n%s\r\n",
		     method, path, body ? "Content-Type: application/json\r\n" : "", len, extra);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -ENAMETOOLONG;
	int r = send_all(fd, head, (size_t)n);
	return r ? r : send_all(fd, body, body ? len : 0);
}

struct rbuf {
	char *p;
	size_t len, cap;
	size_t head_end; /* offset of the body; 0 until the header is complete */
};

/* Read more into 'b': bytes read, 0 at EOF, -errno. */
static ssize_t rbuf_fill(int fd, struct rbuf *b)
{
	if (b->cap - b->len < 4096) {
		size_t cap = b->cap ? b->cap * 2 : 8192;
		if (cap > MCLIENT_MAX_BODY + 65536)
			return -EFBIG;
		char *p = realloc(b->p, cap + 1);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	for (;;) {
		ssize_t n = recv(fd, b->p + b->len, b->cap - b->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		b->len += (size_t)n;
		b->p[b->len] = '\0';
		return n;
	}
}

/* Read until the blank line after the header: fills b->head_end. */
static int read_head(int fd, struct rbuf *b)
{
	for (;;) {
		char *end = b->p ? strstr(b->p, "\r\n\r\n") : NULL;
		if (end) {
			b->head_end = (size_t)(end - b->p) + 4;
			return 0;
		}
		if (b->len > 65536)
			return -EPROTO;
		ssize_t n = rbuf_fill(fd, b);
		if (n <= 0)
			return n ? (int)n : -EPROTO;
	}
}

static int parse_status(const char *p, int *status)
{
	int major, minor, code;
	if (sscanf(p, "HTTP/%d.%d %d", &major, &minor, &code) != 3 || major != 1 || code < 100 ||
	    code > 999)
		return -EPROTO;
	*status = code;
	return 0;
}

int mclient_resp_header(const struct mclient_resp *resp, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);
	for (const char *line = resp->headers; line && *line;) {
		const char *eol = strstr(line, "\r\n");
		if (!eol)
			eol = line + strlen(line);
		if ((size_t)(eol - line) > n && line[n] == ':' && !strncasecmp(line, name, n)) {
			const char *v = line + n + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = (size_t)(eol - v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= size)
				return -ENOSPC;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return 0;
		}
		line = *eol ? eol + 2 : eol;
	}
	return -ENOENT;
}

/* Decode the chunked body p[0..n) (NUL-terminated) into 'out': 1 complete, 0 need more, -EPROTO. */
static int dechunk(const char *p, size_t n, char *out, size_t *len)
{
	size_t in = 0, o = 0;
	for (;;) {
		const char *eol = memmem(p + in, n - in, "\r\n", 2);
		if (!eol)
			return 0;
		char *end;
		unsigned long sz = strtoul(p + in, &end, 16);
		if (end == p + in || sz > MCLIENT_MAX_BODY)
			return -EPROTO;
		size_t data = (size_t)(eol - p) + 2;
		if (sz == 0) {
			/* Optional trailers, then a blank line. */
			if ((n - data >= 2 && !memcmp(p + data, "\r\n", 2)) ||
			    memmem(p + data, n - data, "\r\n\r\n", 4)) {
				*len = o;
				return 1;
			}
			return 0;
		}
		if (n - data < sz + 2)
			return 0;
		memcpy(out + o, p + data, sz);
		o += sz;
		in = data + sz + 2;
	}
}

/* Read the body after the header per its framing; fills resp. */
static int read_body(int fd, struct rbuf *b, struct mclient_resp *resp)
{
	char v[64];
	bool chunked = !mclient_resp_header(resp, "Transfer-Encoding", v, sizeof(v)) &&
		       !strcasecmp(v, "chunked");
	long long want = -1;
	if (!chunked && !mclient_resp_header(resp, "Content-Length", v, sizeof(v))) {
		char *end;
		want = strtoll(v, &end, 10);
		if (*end || want < 0 || want > MCLIENT_MAX_BODY)
			return -EPROTO;
	}
	if (resp->status < 200 || resp->status == 204 || resp->status == 304)
		want = 0;
	for (;;) {
		size_t have = b->len - b->head_end;
		if (want >= 0 && have >= (size_t)want) {
			resp->len = (size_t)want;
			break;
		}
		if (chunked && have) {
			/* Decoded aside: the raw chunks stay until the body is complete. */
			char *tmp = malloc(have + 1);
			if (!tmp)
				return -ENOMEM;
			size_t out;
			int r = dechunk(b->p + b->head_end, have, tmp, &out);
			if (r == 1) {
				memcpy(b->p + b->head_end, tmp, out);
				resp->len = out;
			}
			free(tmp);
			if (r < 0)
				return r;
			if (r == 1)
				break;
		}
		ssize_t n = rbuf_fill(fd, b);
		if (n < 0)
			return (int)n;
		if (n == 0) {
			if (want >= 0 || chunked)
				return -EPROTO; /* cut short */
			resp->len = have;
			break;
		}
	}
	resp->body = malloc(resp->len + 1);
	if (!resp->body)
		return -ENOMEM;
	memcpy(resp->body, b->p + b->head_end, resp->len);
	resp->body[resp->len] = '\0';
	return 0;
}

/* Split the header off 'b' into resp (status, headers). */
static int take_head(struct rbuf *b, struct mclient_resp *resp)
{
	int r = parse_status(b->p, &resp->status);
	if (r)
		return r;
	const char *first = strstr(b->p, "\r\n") + 2;
	size_t hl = b->p + b->head_end - first;
	resp->headers = strndup(first, hl);
	return resp->headers ? 0 : -ENOMEM;
}

int mclient_request(const char *sock, const char *method, const char *path, const char *body,
		    size_t body_len, struct mclient_resp *resp, struct verr *err)
{
	memset(resp, 0, sizeof(*resp));
	int fd = mclient_connect(sock, err);
	if (fd < 0)
		return fd;
	struct rbuf b = {0};
	int r = send_request(fd, method, path, "Connection: close\r\n", body, body_len);
	if (!r)
		r = read_head(fd, &b);
	if (!r)
		r = take_head(&b, resp);
	if (!r)
		r = read_body(fd, &b, resp);
	close(fd);
	free(b.p);
	if (r) {
		mclient_resp_free(resp);
		return verr_set(err, -r, "%s %s: %s", method, path,
				r == -EPROTO ? "not an HTTP answer" : strerror(-r));
	}
	return 0;
}

void mclient_resp_free(struct mclient_resp *resp)
{
	free(resp->headers);
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

int mclient_json(const char *sock, const char *method, const char *path, const json_t *req,
		 json_t **answer, struct verr *err)
{
	*answer = NULL;
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (req && !body)
		return verr_set(err, ENOMEM, "out of memory");
	struct mclient_resp resp;
	int r = mclient_request(sock, method, path, body, body ? strlen(body) : 0, &resp, err);
	free(body);
	if (r)
		return r;
	if (resp.len)
		*answer = json_loadb(resp.body, resp.len, 0, NULL);
	if (resp.status >= 400) {
		json_t *msg = *answer ? json_object_get(*answer, "error") : NULL;
		if (json_is_string(msg))
			verr_set(err, EIO, "%s", json_string_value(msg));
		else
			verr_set(err, EIO, "%s %s: HTTP status %d", method, path, resp.status);
	}
	r = resp.status;
	mclient_resp_free(&resp);
	return r;
}

int mclient_upgrade(const char *sock, const char *path, const char *proto, char **early,
		    size_t *early_len, struct verr *err)
{
	*early = NULL;
	*early_len = 0;
	int fd = mclient_connect(sock, err);
	if (fd < 0)
		return fd;
	char extra[256];
	snprintf(extra, sizeof(extra), "Connection: Upgrade\r\nUpgrade: %s\r\n", proto);
	struct rbuf b = {0};
	struct mclient_resp resp = {0};
	int r = send_request(fd, "GET", path, extra, NULL, 0);
	if (!r)
		r = read_head(fd, &b);
	if (!r)
		r = take_head(&b, &resp);
	if (!r && resp.status != 101) {
		/* An error answer: its message says why. */
		r = read_body(fd, &b, &resp);
		json_t *j = !r && resp.len ? json_loadb(resp.body, resp.len, 0, NULL) : NULL;
		json_t *msg = json_object_get(j, "error");
		verr_set(err, EIO, "%s", json_is_string(msg) ? json_string_value(msg) : "refused");
		if (!json_is_string(msg))
			snprintf(err->msg, sizeof(err->msg), "GET %s: HTTP status %d", path,
				 resp.status);
		json_decref(j);
		mclient_resp_free(&resp);
		free(b.p);
		close(fd);
		return -EIO;
	}
	mclient_resp_free(&resp);
	if (!r)
		r = set_timeouts(fd, 0);
	if (r) {
		free(b.p);
		close(fd);
		return verr_set(err, -r, "GET %s: %s", path,
				r == -EPROTO ? "not an HTTP answer" : strerror(-r));
	}
	if (b.len > b.head_end) {
		*early_len = b.len - b.head_end;
		*early = malloc(*early_len);
		if (*early)
			memcpy(*early, b.p + b.head_end, *early_len);
		else
			*early_len = 0;
	}
	free(b.p);
	return fd;
}
