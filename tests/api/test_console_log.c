/* SPDX-License-Identifier: MIT */
/*
 * The VMM's console (api/console_log.c) without a machine: output written to
 * its fd lands in the ring (read back from any offset, the oldest part
 * dropped past 1 MiB), in the log file and at every attached client; a
 * client that does not read loses output beyond its queue but holds up
 * nobody; a client that closes is detached; detach_all refuses new clients.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/console_log.h"
#include "util/log.h"

#include "../check.h"

static unsigned closes;
static void on_close(void *arg)
{
	closes++;
	close(*(int *)arg);
}

static void put(struct console_log *cl, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(console_log_out_fd(cl), b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			exit(2);
		b += w;
		n -= (size_t)w;
	}
}

/* Wait until the ring holds 'total' bytes (the console thread copies them). */
static bool wait_total(struct console_log *cl, uint64_t total)
{
	for (int i = 0; i < 2000; i++) {
		uint8_t *d;
		size_t len;
		uint64_t start;
		if (console_log_read(cl, UINT64_MAX, &d, &len, &start))
			return false;
		free(d);
		if (start >= total)
			return start == total;
		usleep(1000);
	}
	return false;
}

/* Read what a client got within 'ms', up to 'cap' bytes. */
static size_t client_read(int fd, uint8_t *buf, size_t cap, int ms)
{
	size_t got = 0;
	while (got < cap) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, ms) <= 0)
			break;
		ssize_t n = read(fd, buf + got, cap - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static void test_ring_and_log(void)
{
	char logpath[] = "/tmp/vessel-console-log-XXXXXX";
	int lfd = mkstemp(logpath);
	CHECK(lfd >= 0);
	close(lfd);
	struct verr err = {{0}};
	struct console_log *cl = console_log_create(logpath, &err);
	CHECK(cl);
	if (!cl)
		return;
	put(cl, "hello, ", 7);
	put(cl, "console\n", 8);
	CHECK(wait_total(cl, 15));
	uint8_t *d;
	size_t len;
	uint64_t start;
	CHECK(console_log_read(cl, 0, &d, &len, &start) == 0);
	CHECK(start == 0 && len == 15 && !memcmp(d, "hello, console\n", 15));
	free(d);
	CHECK(console_log_read(cl, 7, &d, &len, &start) == 0);
	CHECK(start == 7 && len == 8 && !memcmp(d, "console\n", 8));
	free(d);
	CHECK(console_log_read(cl, 1000, &d, &len, &start) == 0); /* past the end: empty */
	CHECK(start == 15 && len == 0);
	free(d);

	/* Past 1 MiB the oldest bytes go; each byte i holds i % 251. */
	size_t big = CONSOLE_LOG_RING + 300000;
	uint8_t *pat = malloc(big);
	for (size_t i = 0; i < big; i++)
		pat[i] = (uint8_t)((i + 15) % 251);
	put(cl, pat, big);
	CHECK(wait_total(cl, 15 + big));
	CHECK(console_log_read(cl, 0, &d, &len, &start) == 0);
	CHECK(len == CONSOLE_LOG_RING && start == 15 + big - CONSOLE_LOG_RING);
	bool same = true;
	for (size_t i = 0; i < len; i++)
		same &= d[i] == (uint8_t)((start + i) % 251);
	CHECK(same);
	free(d);
	free(pat);
	console_log_destroy(cl);

	/* Everything went to the log file too. */
	FILE *f = fopen(logpath, "rb");
	CHECK(f);
	if (f) {
		fseek(f, 0, SEEK_END);
		CHECK((size_t)ftell(f) == 15 + big);
		fclose(f);
	}
	unlink(logpath);
}

static void test_clients(void)
{
	struct verr err = {{0}};
	struct console_log *cl = console_log_create(NULL, &err);
	CHECK(cl);
	if (!cl)
		return;
	int a[2], b[2], c[2];
	CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, a) && !socketpair(AF_UNIX, SOCK_STREAM, 0, b) &&
	      !socketpair(AF_UNIX, SOCK_STREAM, 0, c));
	closes = 0;
	CHECK(console_log_attach(cl, a[0], "early", 5, on_close, &a[0]) == 0);
	CHECK(console_log_attach(cl, b[0], NULL, 0, on_close, &b[0]) == 0);
	CHECK(console_log_clients(cl) == 2);
	put(cl, "to both\n", 8);
	uint8_t buf[64];
	CHECK(client_read(a[1], buf, 8, 2000) == 8 && !memcmp(buf, "to both\n", 8));
	CHECK(client_read(b[1], buf, 8, 2000) == 8 && !memcmp(buf, "to both\n", 8));

	/* b stops reading: it loses output past its queue; a, reading as it comes (in
	 * pieces smaller than its queue), gets everything. */
	size_t big = CONSOLE_LOG_CLIENT_QUEUE * 8, piece = 65536, agot = 0;
	uint8_t *pat = malloc(big), *got = malloc(big);
	memset(pat, 'z', big);
	for (size_t off = 0; off < big; off += piece) {
		put(cl, pat + off, piece);
		agot += client_read(a[1], got + off, piece, 3000);
	}
	CHECK(agot == big && !memcmp(got, pat, big));
	CHECK(wait_total(cl, 8 + big));
	/* A client that closes is detached. */
	close(a[1]);
	put(cl, "x", 1);
	for (int i = 0; i < 1000 && console_log_clients(cl) != 1; i++)
		usleep(1000);
	CHECK(console_log_clients(cl) == 1 && closes == 1);
	size_t bgot = client_read(b[1], got, big, 500);
	CHECK(bgot < big && bgot >= CONSOLE_LOG_CLIENT_QUEUE / 2);

	/* After detach_all nobody else is let in. */
	console_log_detach_all(cl);
	CHECK(console_log_clients(cl) == 0 && closes == 2);
	CHECK(console_log_attach(cl, c[0], NULL, 0, on_close, &c[0]) == -ESHUTDOWN);
	CHECK(closes == 2);
	close(c[0]);
	close(c[1]);
	close(b[1]);
	free(pat);
	free(got);
	console_log_destroy(cl);
}

int main(void)
{
	test_ring_and_log();
	test_clients();
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	printf("console_log: all checks passed\n");
	return 0;
}
