/* SPDX-License-Identifier: MIT */
/*
 * The user-mode NAT backend: spec parsing (good and bad), a DHCP exchange
 * with a fake guest (DISCOVER -> OFFER for 10.0.2.15 from 10.0.2.2), and a
 * host port forward: a TCP connection to the host port makes slirp reach
 * for the guest (an ARP request or a SYN towards 10.0.2.15:22).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/netdev.h"
#include "util/log.h"

#include "../check.h"

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* A peer that records frames (on the slirp thread). */
struct collector {
	pthread_mutex_t m;
	pthread_cond_t c;
	uint8_t frames[64][1600];
	size_t len[64];
	unsigned n;
};

static int col_receive(void *opaque, const uint8_t *frame, size_t len)
{
	struct collector *col = opaque;
	pthread_mutex_lock(&col->m);
	if (col->n < 64 && len <= sizeof(col->frames[0])) {
		memcpy(col->frames[col->n], frame, len);
		col->len[col->n++] = len;
		pthread_cond_broadcast(&col->c);
	}
	pthread_mutex_unlock(&col->m);
	return 0;
}

static const struct net_peer_ops col_ops = {.receive = col_receive};

typedef bool (*frame_pred)(const uint8_t *f, size_t len);

/* Wait up to 5 s for a frame matching 'pred'; returns its index or -1. */
static int col_wait(struct collector *col, frame_pred pred)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 5;
	pthread_mutex_lock(&col->m);
	unsigned seen = 0;
	int found = -1;
	while (found < 0) {
		for (; seen < col->n && found < 0; seen++)
			if (pred(col->frames[seen], col->len[seen]))
				found = (int)seen;
		if (found >= 0 || pthread_cond_timedwait(&col->c, &col->m, &dl) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&col->m);
	return found;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#define ETH 14
#define IP  20
#define UDP 8

/* Ethernet + IPv4 + UDP 68->67 broadcast carrying a BOOTP DHCPDISCOVER. */
static size_t dhcp_discover(uint8_t *f)
{
	uint8_t *ip = f + ETH, *udp = ip + IP, *bootp = udp + UDP;
	size_t blen = 240 + 4;
	memset(f, 0, ETH + IP + UDP + blen);
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP + UDP + blen));
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4); /* to 255.255.255.255 from 0.0.0.0 */
	put16(ip + 10, ip_checksum(ip, IP));
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, (uint16_t)(UDP + blen)); /* checksum 0: none */
	bootp[0] = 1;				/* BOOTREQUEST */
	bootp[1] = 1;				/* Ethernet */
	bootp[2] = 6;
	memcpy(bootp + 4, "\x12\x34\x56\x78", 4); /* xid */
	memcpy(bootp + 28, guest_mac, 6);
	memcpy(bootp + 236, "\x63\x82\x53\x63", 4); /* magic cookie */
	memcpy(bootp + 240, "\x35\x01\x01\xff", 4); /* DHCP message type DISCOVER, end */
	return ETH + IP + UDP + blen;
}

static bool is_dhcp_reply(const uint8_t *f, size_t len)
{
	return len >= ETH + IP + UDP + 240 && get16(f + 12) == 0x0800 && f[ETH + 9] == 17 &&
	       get16(f + ETH + IP + 2) == 68;
}

/* Find DHCP option 'code' in a reply; returns its value or NULL. */
static const uint8_t *dhcp_option(const uint8_t *f, size_t len, uint8_t code)
{
	const uint8_t *o = f + ETH + IP + UDP + 240, *end = f + len;
	while (o < end && *o != 255) {
		if (*o == 0) {
			o++;
			continue;
		}
		if (o + 2 > end || o + 2 + o[1] > end)
			return NULL;
		if (*o == code)
			return o + 2;
		o += 2 + o[1];
	}
	return NULL;
}

static void test_dhcp(void)
{
	struct net_backend *be;
	struct verr err;
	CHECK(net_backend_parse("user", &be, &err) == 0);
	struct collector *col = calloc(1, sizeof(*col));
	pthread_mutex_init(&col->m, NULL);
	pthread_cond_init(&col->c, NULL);
	net_backend_attach(be, &col_ops, col);

	uint8_t f[600];
	size_t len = dhcp_discover(f);
	CHECK(net_backend_send(be, f, len) == 0);
	int i = col_wait(col, is_dhcp_reply);
	CHECK(i >= 0);
	if (i >= 0) {
		const uint8_t *r = col->frames[i];
		size_t rlen = col->len[i];
		const uint8_t *bootp = r + ETH + IP + UDP;
		CHECK(bootp[0] == 2);					 /* BOOTREPLY */
		CHECK(memcmp(bootp + 4, "\x12\x34\x56\x78", 4) == 0);	 /* our xid */
		CHECK(memcmp(bootp + 16, "\x0a\x00\x02\x0f", 4) == 0);	 /* yiaddr 10.0.2.15 */
		CHECK(memcmp(r + ETH + 12, "\x0a\x00\x02\x02", 4) == 0); /* from 10.0.2.2 */
		CHECK(get16(r + ETH + IP) == 67);
		const uint8_t *type = dhcp_option(r, rlen, 53);
		CHECK(type && *type == 2); /* DHCPOFFER */
		const uint8_t *dns = dhcp_option(r, rlen, 6);
		CHECK(dns && memcmp(dns, "\x0a\x00\x02\x03", 4) == 0);
		const uint8_t *router = dhcp_option(r, rlen, 3);
		CHECK(router && memcmp(router, "\x0a\x00\x02\x02", 4) == 0);
	}
	net_backend_attach(be, NULL, NULL);
	net_backend_destroy(be);
	pthread_mutex_destroy(&col->m);
	pthread_cond_destroy(&col->c);
	free(col);
}

/* A TCP port on 127.0.0.1 that is free right now. */
static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(s, (struct sockaddr *)&a, &l))
		return -1;
	close(s);
	return ntohs(a.sin_port);
}

/* ARP who-has 10.0.2.15, or a TCP SYN to 10.0.2.15:22. */
static bool is_reach_for_guest(const uint8_t *f, size_t len)
{
	if (len >= ETH + 28 && get16(f + 12) == 0x0806)
		return get16(f + ETH + 6) == 1 && !memcmp(f + ETH + 24, "\x0a\x00\x02\x0f", 4);
	return len >= ETH + IP + 20 && get16(f + 12) == 0x0800 && f[ETH + 9] == 6 &&
	       !memcmp(f + ETH + 16, "\x0a\x00\x02\x0f", 4) && get16(f + ETH + IP + 2) == 22 &&
	       (f[ETH + IP + 13] & 0x02);
}

static void test_hostfwd(void)
{
	int port = free_port();
	CHECK(port > 0);
	char spec[128];
	snprintf(spec, sizeof(spec), "user,hostfwd=tcp:127.0.0.1:%d-:22,hostfwd=udp::%d-:53", port,
		 port);
	struct net_backend *be;
	struct verr err = {{0}};
	int r = net_backend_parse(spec, &be, &err);
	if (r)
		fprintf(stderr, "hostfwd: %s\n", err.msg);
	CHECK(r == 0);
	if (r)
		return;
	struct collector *col = calloc(1, sizeof(*col));
	pthread_mutex_init(&col->m, NULL);
	pthread_cond_init(&col->c, NULL);
	net_backend_attach(be, &col_ops, col);

	/* The same host port cannot be forwarded twice. */
	struct net_backend *be2;
	snprintf(spec, sizeof(spec), "user,hostfwd=tcp:127.0.0.1:%d-:22", port);
	CHECK(net_backend_parse(spec, &be2, &err) == -EADDRINUSE);

	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int c = connect(s, (struct sockaddr *)&a, sizeof(a));
	CHECK(c == 0 || errno == EINPROGRESS);
	CHECK(col_wait(col, is_reach_for_guest) >= 0);
	close(s);
	net_backend_attach(be, NULL, NULL);
	net_backend_destroy(be);
	pthread_mutex_destroy(&col->m);
	pthread_cond_destroy(&col->c);
	free(col);
}

static void test_parse_errors(void)
{
	static const char *bad[] = {
	    "tap",
	    "usr",
	    "user,foo=1",
	    "user,",
	    "user,hostfwd=",
	    "user,hostfwd=tcp:2222-:22",
	    "user,hostfwd=sctp::2222-:22",
	    "user,hostfwd=tcp::0-:22",
	    "user,hostfwd=tcp::65536-:22",
	    "user,hostfwd=tcp::22x-:22",
	    "user,hostfwd=tcp::2222-:",
	    "user,hostfwd=tcp::2222-22",
	    "user,hostfwd=tcp:1.2.3:2222-:22",
	    "user,hostfwd=tcp::2222-192.168.1.5:22",
	    "user,hostfwd=tcp::2222:22",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct net_backend *be = NULL;
		struct verr err = {{0}};
		int r = net_backend_parse(bad[i], &be, &err);
		if (r == 0) {
			fprintf(stderr, "accepted bad spec '%s'\n", bad[i]);
			net_backend_destroy(be);
		}
		CHECK(r < 0);
		CHECK(err.msg[0] != 0);
	}
	struct verr err;
	struct net_backend *be;
	CHECK(net_backend_parse("user,hostfwd=tcp::2222-22", &be, &err) < 0);
	CHECK(strstr(err.msg, "missing ':' before the guest port") != NULL);
	CHECK(net_backend_parse("user,hostfwd=tcp::0-:22", &be, &err) < 0);
	CHECK(strstr(err.msg, "host port '0' is not a number in 1-65535") != NULL);
}

int main(void)
{
	test_parse_errors();
	test_dhcp();
	test_hostfwd();
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	printf("slirp: all checks passed\n");
	return 0;
}
