/* SPDX-License-Identifier: MIT */
#include "api/console_log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "machine/virt.h"
#include "util/log.h"

#define CONSOLE_CHUNK 65536
#define INPUT_BUF     4096

struct console_client {
	int fd;
	void (*close_fn)(void *arg);
	void *close_arg;
	uint8_t *q; /* output not yet taken by the client */
	size_t qlen;
};

struct console_log {
	pthread_mutex_t lock; /* ring, clients */
	uint8_t *ring;
	uint64_t total; /* bytes ever printed; ring[i % size] holds byte i */
	struct console_client client[CONSOLE_LOG_MAX_CLIENTS];
	unsigned nclients;
	bool refuse; /* detach_all was called: no new clients */

	int out_pipe[2]; /* UART -> console thread */
	int in_pipe[2];	 /* console thread -> machine_run()'s loop -> UART */
	int wake_fd;	 /* new client, or stop */
	int log_fd;
	bool stop;
	pthread_t thread;
	bool thread_started;

	/* Input read from in_pipe the UART has not taken yet (machine_run()'s thread only). */
	uint8_t in_buf[INPUT_BUF];
	size_t in_start, in_len;
	struct machine_console mc;
};

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void client_close(struct console_log *cl, unsigned i)
{
	struct console_client c = cl->client[i];
	cl->client[i] = cl->client[--cl->nclients];
	free(c.q);
	c.close_fn(c.close_arg);
}

/* Send what the client's queue holds; false when the client is gone. */
static bool client_flush(struct console_client *c)
{
	while (c->qlen) {
		ssize_t n = send(c->fd, c->q, c->qlen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		memmove(c->q, c->q + n, c->qlen - (size_t)n);
		c->qlen -= (size_t)n;
	}
	return true;
}

/* Queue output for a client (dropping what exceeds its queue); false when it is gone. */
static bool client_put(struct console_client *c, const uint8_t *p, size_t n)
{
	if (!c->q) {
		c->q = malloc(CONSOLE_LOG_CLIENT_QUEUE);
		if (!c->q)
			return false;
	}
	size_t room = CONSOLE_LOG_CLIENT_QUEUE - c->qlen;
	if (n > room)
		n = room; /* a client that does not read loses output, the guest never waits */
	memcpy(c->q + c->qlen, p, n);
	c->qlen += n;
	return client_flush(c);
}

static void ring_append(struct console_log *cl, const uint8_t *p, size_t n)
{
	for (size_t done = 0; done < n;) {
		size_t at = cl->total % CONSOLE_LOG_RING;
		size_t k = CONSOLE_LOG_RING - at;
		if (k > n - done)
			k = n - done;
		memcpy(cl->ring + at, p + done, k);
		done += k;
		cl->total += k;
	}
}

static void log_write(struct console_log *cl, const uint8_t *p, size_t n)
{
	while (cl->log_fd >= 0 && n) {
		ssize_t w = write(cl->log_fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn("console log: %s; no longer written", strerror(errno));
			close(cl->log_fd);
			cl->log_fd = -1;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Guest output: ring, log file, clients. */
static void console_take_output(struct console_log *cl, uint8_t *buf)
{
	ssize_t n = read(cl->out_pipe[0], buf, CONSOLE_CHUNK);
	if (n <= 0)
		return;
	log_write(cl, buf, (size_t)n);
	pthread_mutex_lock(&cl->lock);
	ring_append(cl, buf, (size_t)n);
	for (unsigned i = 0; i < cl->nclients;)
		if (client_put(&cl->client[i], buf, (size_t)n))
			i++;
		else
			client_close(cl, i);
	pthread_mutex_unlock(&cl->lock);
}

/* Client input goes to the UART through in_pipe; a full pipe drops it. */
static bool client_take_input(struct console_log *cl, struct console_client *c, uint8_t *buf)
{
	ssize_t n = recv(c->fd, buf, CONSOLE_CHUNK, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	if (n == 0)
		return false;
	ssize_t w = write(cl->in_pipe[1], buf, (size_t)n);
	(void)w;
	return true;
}

static void *console_thread(void *arg)
{
	struct console_log *cl = arg;
	pthread_setname_np(pthread_self(), "console");
	uint8_t *buf = malloc(CONSOLE_CHUNK);
	if (!buf) {
		log_error("console: out of memory");
		return NULL;
	}
	struct pollfd pfd[2 + CONSOLE_LOG_MAX_CLIENTS];
	for (;;) {
		pthread_mutex_lock(&cl->lock);
		if (cl->stop) {
			pthread_mutex_unlock(&cl->lock);
			break;
		}
		unsigned n = cl->nclients;
		pfd[0] = (struct pollfd){.fd = cl->out_pipe[0], .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = cl->wake_fd, .events = POLLIN};
		for (unsigned i = 0; i < n; i++)
			pfd[2 + i] = (struct pollfd){
			    .fd = cl->client[i].fd,
			    .events = (short)(POLLIN | (cl->client[i].qlen ? POLLOUT : 0))};
		pthread_mutex_unlock(&cl->lock);
		if (poll(pfd, 2 + n, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN) {
			uint64_t v;
			ssize_t r = read(cl->wake_fd, &v, sizeof(v));
			(void)r;
		}
		if (pfd[0].revents & POLLIN)
			console_take_output(cl, buf);
		pthread_mutex_lock(&cl->lock);
		/* Only clients that were polled, and only while they are where they were:
		 * clients move when one is closed, so walk from the end. */
		for (unsigned i = n; i-- > 0;) {
			if (i >= cl->nclients || cl->client[i].fd != pfd[2 + i].fd)
				continue;
			short ev = pfd[2 + i].revents;
			struct console_client *c = &cl->client[i];
			bool ok = true;
			if (ev & POLLOUT)
				ok = client_flush(c);
			if (ok && (ev & (POLLIN | POLLHUP | POLLERR)))
				ok = client_take_input(cl, c, buf);
			if (!ok)
				client_close(cl, i);
		}
		pthread_mutex_unlock(&cl->lock);
	}
	free(buf);
	return NULL;
}

/* ---- The machine's side: input from in_pipe into the UART ---------------- */

static bool console_log_wants_input(void *opaque)
{
	struct console_log *cl = opaque;
	return cl->in_len == 0;
}

static int console_log_service(void *opaque, struct machine *m, bool readable)
{
	struct console_log *cl = opaque;
	if (!cl->in_len && readable) {
		ssize_t n = read(cl->in_pipe[0], cl->in_buf, sizeof(cl->in_buf));
		if (n > 0) {
			cl->in_start = 0;
			cl->in_len = (size_t)n;
		}
	}
	if (cl->in_len) {
		size_t took = machine_console_input(m, cl->in_buf + cl->in_start, cl->in_len);
		cl->in_start += took;
		cl->in_len -= took;
	}
	return MACHINE_CONSOLE_OK;
}

const struct machine_console *console_log_machine_console(struct console_log *cl)
{
	return &cl->mc;
}

int console_log_out_fd(const struct console_log *cl)
{
	return cl->out_pipe[1];
}

/* ---- API ------------------------------------------------------------------ */

struct console_log *console_log_create(const char *log_path, struct verr *err)
{
	struct console_log *cl = calloc(1, sizeof(*cl));
	if (!cl || !(cl->ring = malloc(CONSOLE_LOG_RING))) {
		free(cl);
		verr_set(err, ENOMEM, "console: out of memory");
		return NULL;
	}
	pthread_mutex_init(&cl->lock, NULL);
	cl->out_pipe[0] = cl->out_pipe[1] = cl->in_pipe[0] = cl->in_pipe[1] = -1;
	cl->log_fd = -1;
	cl->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (cl->wake_fd < 0 || pipe2(cl->out_pipe, O_CLOEXEC) || pipe2(cl->in_pipe, O_CLOEXEC) ||
	    set_nonblock(cl->out_pipe[0]) || set_nonblock(cl->in_pipe[0]) ||
	    set_nonblock(cl->in_pipe[1])) {
		verr_set(err, errno, "console: %s", strerror(errno));
		goto fail;
	}
	if (log_path) {
		cl->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (cl->log_fd < 0) {
			verr_set(err, errno, "--log %s: %s", log_path, strerror(errno));
			goto fail;
		}
	}
	cl->mc = (struct machine_console){.opaque = cl,
					  .in_fd = cl->in_pipe[0],
					  .wants_input = console_log_wants_input,
					  .service = console_log_service};
	int r = pthread_create(&cl->thread, NULL, console_thread, cl);
	if (r) {
		verr_set(err, r, "console: cannot start its thread: %s", strerror(r));
		goto fail;
	}
	cl->thread_started = true;
	return cl;
fail:
	console_log_destroy(cl);
	return NULL;
}

static void console_wake(struct console_log *cl)
{
	uint64_t one = 1;
	ssize_t n = write(cl->wake_fd, &one, sizeof(one));
	(void)n;
}

void console_log_destroy(struct console_log *cl)
{
	if (!cl)
		return;
	if (cl->thread_started) {
		pthread_mutex_lock(&cl->lock);
		cl->stop = true;
		pthread_mutex_unlock(&cl->lock);
		console_wake(cl);
		pthread_join(cl->thread, NULL);
	}
	while (cl->nclients)
		client_close(cl, cl->nclients - 1);
	int fds[] = {cl->out_pipe[0], cl->out_pipe[1], cl->in_pipe[0],
		     cl->in_pipe[1],  cl->wake_fd,     cl->log_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	pthread_mutex_destroy(&cl->lock);
	free(cl->ring);
	free(cl);
}

int console_log_read(struct console_log *cl, uint64_t offset, uint8_t **data, size_t *len,
		     uint64_t *start)
{
	pthread_mutex_lock(&cl->lock);
	uint64_t oldest = cl->total > CONSOLE_LOG_RING ? cl->total - CONSOLE_LOG_RING : 0;
	uint64_t from = offset < oldest ? oldest : offset > cl->total ? cl->total : offset;
	size_t n = (size_t)(cl->total - from);
	uint8_t *p = malloc(n ? n : 1);
	if (!p) {
		pthread_mutex_unlock(&cl->lock);
		return -ENOMEM;
	}
	for (size_t done = 0; done < n;) {
		size_t at = (size_t)((from + done) % CONSOLE_LOG_RING);
		size_t k = CONSOLE_LOG_RING - at;
		if (k > n - done)
			k = n - done;
		memcpy(p + done, cl->ring + at, k);
		done += k;
	}
	pthread_mutex_unlock(&cl->lock);
	*data = p;
	*len = n;
	*start = from;
	return 0;
}

int console_log_attach(struct console_log *cl, int fd, const void *initial, size_t initial_len,
		       void (*close_fn)(void *arg), void *close_arg)
{
	pthread_mutex_lock(&cl->lock);
	if (cl->refuse || cl->nclients == CONSOLE_LOG_MAX_CLIENTS) {
		bool refused = cl->refuse;
		pthread_mutex_unlock(&cl->lock);
		return refused ? -ESHUTDOWN : -EMFILE;
	}
	set_nonblock(fd);
	cl->client[cl->nclients++] =
	    (struct console_client){.fd = fd, .close_fn = close_fn, .close_arg = close_arg};
	if (initial_len) {
		ssize_t w = write(cl->in_pipe[1], initial, initial_len);
		(void)w;
	}
	pthread_mutex_unlock(&cl->lock);
	console_wake(cl);
	return 0;
}

void console_log_detach_all(struct console_log *cl)
{
	pthread_mutex_lock(&cl->lock);
	cl->refuse = true;
	while (cl->nclients)
		client_close(cl, cl->nclients - 1);
	pthread_mutex_unlock(&cl->lock);
}

unsigned console_log_clients(struct console_log *cl)
{
	pthread_mutex_lock(&cl->lock);
	unsigned n = cl->nclients;
	pthread_mutex_unlock(&cl->lock);
	return n;
}
