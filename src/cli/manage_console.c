/* SPDX-License-Identifier: MIT */
/*
 * vessel console and vessel logs: a running VM's serial console through its
 * API (GET /console/attach upgrades the connection to a raw byte stream;
 * GET /console?offset=N reads the log the VMM keeps), or the console log
 * file of the last run when the VM is stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/manage.h"
#include "manage/client.h"
#include "util/log.h"

#define CONSOLE_DETACH_KEY 0x1d /* Ctrl-], as virsh */
#define CONSOLE_LINGER_MS  1000 /* after stdin ends (not a terminal): output still shown */
#define LOGS_POLL_MS	   200

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* To the VMM: a VMM that went away is an error, not a SIGPIPE. */
static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int sock_path(const struct mstate *s, const char *name, char *out, size_t size)
{
	return mstate_path(s, name, "api.sock", out, size);
}

/*
 * Relay: socket -> stdout, stdin -> socket.  On a terminal, raw mode and the
 * detach key; otherwise stdin EOF ends it after CONSOLE_LINGER_MS of quiet.
 */
static void relay(int sock, bool tty)
{
	char buf[4096];
	bool in_open = true;
	for (;;) {
		struct pollfd p[2] = {{.fd = sock, .events = POLLIN},
				      {.fd = STDIN_FILENO, .events = POLLIN}};
		int n = poll(p, in_open ? 2 : 1, in_open ? -1 : CONSOLE_LINGER_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* lingered long enough, or poll failed */
		if (p[0].revents) {
			ssize_t r = read(sock, buf, sizeof(buf));
			if (r <= 0 || write_all(STDOUT_FILENO, buf, (size_t)r))
				return; /* the VM ended, or stdout is gone */
		}
		if (in_open && p[1].revents) {
			ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				if (tty)
					return;
				in_open = false;
				continue;
			}
			char *key = tty ? memchr(buf, CONSOLE_DETACH_KEY, (size_t)r) : NULL;
			size_t len = key ? (size_t)(key - buf) : (size_t)r;
			if (send_all(sock, buf, len) || key)
				return;
		}
	}
}

int manage_console_attach(const struct mstate *s, const char *name)
{
	char sock[PATH_MAX];
	if (sock_path(s, name, sock, sizeof(sock)))
		return manage_fail("console", name, "path too long");
	if (!mstate_exists(s, name))
		return manage_fail("console", name, "no such VM");
	if (!mstate_pid(s, name))
		return manage_fail("console", name, "not running");
	struct verr err = {{0}};
	char *early;
	size_t early_len;
	int fd =
	    mclient_upgrade(sock, "/console/attach", "vessel-console", &early, &early_len, &err);
	if (fd < 0)
		return manage_fail("console", name, err.msg);
	bool tty = isatty(STDIN_FILENO);
	struct termios saved, raw;
	if (tty && !tcgetattr(STDIN_FILENO, &saved)) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		fprintf(stderr, "Connected to %s (detach with Ctrl-])\r\n", name);
	} else {
		tty = false;
	}
	if (early_len)
		write_all(STDOUT_FILENO, early, early_len);
	free(early);
	relay(fd, tty);
	close(fd);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		fprintf(stderr, "\nDetached from %s\n", name);
	}
	return 0;
}

int manage_console(int argc, char **argv)
{
	const char *name;
	int st = manage_parse_name(argc, argv, NULL, &name, NULL);
	if (st >= 0)
		return st;
	struct mstate s;
	if ((st = manage_open("console", &s, false)))
		return st;
	return manage_console_attach(&s, name);
}

/* Print console.log from byte 'from': the whole output of the last run. */
static int print_file(const struct mstate *s, const char *name, long long from)
{
	char path[PATH_MAX], buf[65536];
	if (mstate_path(s, name, "console.log", path, sizeof(path)))
		return manage_fail("logs", name, "path too long");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : manage_fail("logs", name, strerror(errno));
	ssize_t n;
	off_t off = from;
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		if (write_all(STDOUT_FILENO, buf, (size_t)n))
			break;
		off += n;
	}
	close(fd);
	return 0;
}

/* GET /console?offset=*off: print it, advance *off. -1 when the VM does not answer. */
static int print_api(const char *sock, long long *off)
{
	char path[64], hdr[32];
	snprintf(path, sizeof(path), "/console?offset=%lld", *off);
	struct mclient_resp resp;
	struct verr err;
	if (mclient_request(sock, "GET", path, NULL, 0, &resp, &err))
		return -1;
	int r = resp.status == 200 ? 0 : -1;
	if (!r) {
		long long first = *off;
		/* Fell behind the ring: the answer starts later than asked. */
		if (!mclient_resp_header(&resp, "X-Console-Offset", hdr, sizeof(hdr)))
			first = strtoll(hdr, NULL, 10);
		write_all(STDOUT_FILENO, resp.body, resp.len);
		*off = first + (long long)resp.len;
		if (!mclient_resp_header(&resp, "X-Console-End", hdr, sizeof(hdr)))
			*off = strtoll(hdr, NULL, 10);
	}
	mclient_resp_free(&resp);
	return r;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000};
	nanosleep(&ts, NULL);
}

int manage_logs(int argc, char **argv)
{
	const char *name;
	bool follow = false;
	int st = manage_parse_name(argc, argv, "follow", &name, &follow);
	if (st >= 0)
		return st;
	struct mstate s;
	char sock[PATH_MAX];
	if ((st = manage_open("logs", &s, false)))
		return st;
	if (!mstate_exists(&s, name))
		return manage_fail("logs", name, "no such VM");
	if (sock_path(&s, name, sock, sizeof(sock)))
		return manage_fail("logs", name, "path too long");
	long long off = 0;
	/* While the VMM answers, its log; what it wrote last is in the file after it ends. */
	while (mstate_pid(&s, name) && !print_api(sock, &off)) {
		if (!follow)
			return 0;
		sleep_ms(LOGS_POLL_MS);
	}
	return print_file(&s, name, off);
}
