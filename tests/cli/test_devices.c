/* SPDX-License-Identifier: MIT */
/*
 * The board's device models driven through their MMIO callbacks, with a
 * fake hart port and a recording interrupt chip in place of the CPU engine.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/goldfish_rtc.h"
#include "devices/sifive_test.h"
#include "devices/uart16550.h"
#include "machine/aclint.h"
#include "machine/host_out.h"
#include "machine/plic.h"
#include "util/clock.h"

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                     \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* A hart as the controllers see it: mip bits and a compare register. */
struct fake_hart {
	uint32_t mip;
	uint64_t mtimecmp;
	unsigned calls;
};

static void fake_set_pending(void *hart, uint32_t bits, bool level)
{
	struct fake_hart *h = hart;
	h->calls++;
	if (level)
		h->mip |= bits;
	else
		h->mip &= ~bits;
}

static void fake_set_mtimecmp(void *hart, uint64_t v)
{
	((struct fake_hart *)hart)->mtimecmp = v;
}

static uint64_t fake_get_mtimecmp(void *hart)
{
	return ((struct fake_hart *)hart)->mtimecmp;
}

static struct hart_port fake_port(struct fake_hart *h)
{
	return (struct hart_port){h, fake_set_pending, fake_set_mtimecmp, fake_get_mtimecmp};
}

/* An interrupt chip that remembers line levels (the RTC sets them from its thread). */
struct fake_chip {
	struct irq_chip chip;
	atomic_bool level[128];
};

static void fake_set_level(struct irq_chip *c, unsigned line, bool level)
{
	((struct fake_chip *)c)->level[line] = level;
}

static uint64_t rd(const struct mmio_ops *ops, void *dev, uint64_t off, unsigned size)
{
	uint64_t v = 0xdeadbeef;
	CHECK(ops->read(dev, off, size, &v) == 0);
	return v;
}

static void wr(const struct mmio_ops *ops, void *dev, uint64_t off, unsigned size, uint64_t v)
{
	CHECK(ops->write(dev, off, size, v) == 0);
}

#define PLIC_CTX(c)    (0x200000 + 0x1000 * (c))
#define PLIC_ENABLE(c) (0x2000 + 0x80 * (c))

static void test_plic(void)
{
	struct fake_hart h[2] = {0};
	struct plic *p = plic_create(2, 95);
	for (unsigned i = 0; i < 2; i++)
		plic_attach_hart(p, i, fake_port(&h[i]));
	struct irq_chip *chip = plic_irq_chip(p);
	const struct mmio_ops *o = &plic_mmio_ops;

	/* Source 10 to hart 0's S context (1) only. */
	wr(o, p, 4 * 10, 4, 1);
	CHECK(rd(o, p, 4 * 10, 4) == 1);
	wr(o, p, 4 * 10, 4, 0xff); /* 7 levels: the rest is masked */
	CHECK(rd(o, p, 4 * 10, 4) == 7);
	wr(o, p, 4 * 10, 4, 1);
	wr(o, p, PLIC_ENABLE(1), 4, 1u << 10 | 1u); /* bit 0 (source 0) is hardwired 0 */
	CHECK(rd(o, p, PLIC_ENABLE(1), 4) == 1u << 10);
	chip->set_level(chip, 10, true);
	CHECK(h[0].mip == MIP_SEIP);
	CHECK(h[1].mip == 0);
	CHECK(rd(o, p, 0x1000, 4) == 1u << 10); /* pending */

	/* Claim: the request leaves arbitration; the line is still high. */
	CHECK(rd(o, p, PLIC_CTX(1) + 4, 4) == 10);
	CHECK(h[0].mip == 0);
	CHECK(rd(o, p, 0x1000, 4) == 0);
	CHECK(rd(o, p, PLIC_CTX(1) + 4, 4) == 0); /* nothing else */
	/* Completing from a context where 10 is not enabled is ignored. */
	wr(o, p, PLIC_CTX(0) + 4, 4, 10);
	CHECK(h[0].mip == 0);
	/* Completion with the line still high: pending again (level-triggered). */
	wr(o, p, PLIC_CTX(1) + 4, 4, 10);
	CHECK(h[0].mip == MIP_SEIP);
	/* The device lowers its line: the request goes away. */
	chip->set_level(chip, 10, false);
	CHECK(h[0].mip == 0);
	CHECK(rd(o, p, 0x1000, 4) == 0);

	/* Priorities: highest first, ties to the lowest source number. */
	wr(o, p, 4 * 3, 4, 2);
	wr(o, p, 4 * 5, 4, 5);
	wr(o, p, 4 * 40, 4, 5);
	wr(o, p, PLIC_ENABLE(2), 4, 1u << 3 | 1u << 5);
	wr(o, p, PLIC_ENABLE(2) + 4, 4, 1u << (40 - 32));
	chip->set_level(chip, 3, true);
	chip->set_level(chip, 40, true);
	chip->set_level(chip, 5, true);
	CHECK(h[1].mip == MIP_MEIP); /* context 2 is hart 1's M context */
	CHECK(rd(o, p, PLIC_CTX(2) + 4, 4) == 5);
	CHECK(rd(o, p, PLIC_CTX(2) + 4, 4) == 40);
	CHECK(rd(o, p, PLIC_CTX(2) + 4, 4) == 3);
	CHECK(h[1].mip == 0);
	/* Threshold: priority must exceed it. */
	chip->set_level(chip, 3, false);
	chip->set_level(chip, 5, false);
	chip->set_level(chip, 40, false);
	wr(o, p, PLIC_CTX(2) + 4, 4, 3);
	wr(o, p, PLIC_CTX(2) + 4, 4, 5);
	wr(o, p, PLIC_CTX(2) + 4, 4, 40);
	wr(o, p, PLIC_CTX(2), 4, 5);
	CHECK(rd(o, p, PLIC_CTX(2), 4) == 5);
	chip->set_level(chip, 5, true);
	CHECK(h[1].mip == 0);
	CHECK(rd(o, p, PLIC_CTX(2) + 4, 4) == 0);
	wr(o, p, PLIC_CTX(2), 4, 4);
	CHECK(h[1].mip == MIP_MEIP);
	/* Priority 0 never interrupts. */
	wr(o, p, 4 * 5, 4, 0);
	CHECK(h[1].mip == 0);

	/* Hostile accesses: wrong sizes fail, bad sources and contexts are ignored. */
	uint64_t v;
	CHECK(o->read(p, 0, 1, &v) == -1);
	CHECK(o->write(p, 2, 4, 0) == -1);
	CHECK(o->read(p, 0, 8, &v) == -1);
	chip->set_level(chip, 0, true);
	chip->set_level(chip, 96, true);
	chip->set_level(chip, 5000, true);
	wr(o, p, PLIC_CTX(1) + 4, 4, 0xffffffff);
	wr(o, p, PLIC_CTX(9), 4, 1); /* context of a hart that does not exist */
	CHECK(rd(o, p, PLIC_CTX(9) + 4, 4) == 0);
	CHECK(rd(o, p, 4 * 96, 4) == 0);      /* beyond riscv,ndev */
	wr(o, p, PLIC_ENABLE(1) + 8, 4, ~0u); /* sources 64..95 valid, none above */
	CHECK(rd(o, p, PLIC_ENABLE(1) + 8, 4) == ~0u);
	wr(o, p, PLIC_ENABLE(1) + 12, 4, ~0u);
	CHECK(rd(o, p, PLIC_ENABLE(1) + 12, 4) == 0);
	plic_destroy(p);
}

static void test_aclint(void)
{
	struct fake_hart h[2] = {0};
	struct timebase tb;
	timebase_init(&tb, 1000);
	struct aclint *a = aclint_create(2, &tb);
	for (unsigned i = 0; i < 2; i++)
		aclint_attach_hart(a, i, fake_port(&h[i]));
	const struct mmio_ops *o = &aclint_mmio_ops;

	wr(o, a, 4, 4, 1);
	CHECK(h[1].mip == MIP_MSIP && h[0].mip == 0);
	CHECK(rd(o, a, 4, 4) == 1);
	wr(o, a, 4, 4, 0);
	CHECK(h[1].mip == 0);

	wr(o, a, 0x4008, 8, 0x1122334455667788ull);
	CHECK(h[1].mtimecmp == 0x1122334455667788ull);
	CHECK(rd(o, a, 0x4008, 8) == 0x1122334455667788ull);
	wr(o, a, 0x400c, 4, 0xaabbccdd); /* upper half only */
	CHECK(h[1].mtimecmp == 0xaabbccdd55667788ull);
	wr(o, a, 0x4008, 4, 0x01020304); /* lower half only */
	CHECK(h[1].mtimecmp == 0xaabbccdd01020304ull);
	CHECK(rd(o, a, 0x400c, 4) == 0xaabbccdd);

	uint64_t t1 = rd(o, a, 0xbff8, 8);
	usleep(2000);
	uint64_t t2 = rd(o, a, 0xbff8, 8);
	CHECK(t1 >= 1000 && t2 > t1 && t2 - t1 >= 20000 - 1 && t2 - t1 < 10000000);
	CHECK(rd(o, a, 0xbffc, 4) == (uint32_t)(rd(o, a, 0xbff8, 8) >> 32));

	uint64_t v;
	CHECK(o->read(a, 0, 1, &v) == -1);
	CHECK(o->write(a, 0x4002, 4, 0) == -1);
	CHECK(o->read(a, 0, 8, &v) == -1); /* msip is 32-bit */
	CHECK(rd(o, a, 8, 4) == 0);	   /* msip of hart 2: absent */
	wr(o, a, 0x4010, 8, 5);		   /* mtimecmp of hart 2: absent */
	CHECK(h[0].mtimecmp == 0 && h[1].mtimecmp == 0xaabbccdd01020304ull);
	aclint_destroy(a);
}

struct uart_host {
	char out[256];
	unsigned nout;
	unsigned ready;
};

static void host_tx(void *opaque, uint8_t c)
{
	struct uart_host *u = opaque;
	if (u->nout < sizeof(u->out))
		u->out[u->nout++] = (char)c;
}

static void host_rx_ready(void *opaque)
{
	((struct uart_host *)opaque)->ready++;
}

#define THR 0
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

static void test_uart(void)
{
	struct fake_chip fc = {.chip.set_level = fake_set_level};
	struct uart_host host = {0};
	struct uart16550_host uh = {&host, host_tx, host_rx_ready};
	struct uart16550 *u = uart16550_create((struct irq_line){&fc.chip, 10}, 3686400, &uh);
	const struct mmio_ops *o = &uart16550_ops;

	CHECK(rd(o, u, IIR, 1) == 0x01);
	CHECK(rd(o, u, LSR, 1) == 0x60);
	wr(o, u, THR, 1, 'h');
	wr(o, u, THR, 1, 'i');
	CHECK(host.nout == 2 && !memcmp(host.out, "hi", 2));
	CHECK(!fc.level[10]);

	/* THR empty: raised when enabled, acknowledged by reading IIR. */
	wr(o, u, IER, 1, 0x02);
	CHECK(fc.level[10]);
	CHECK(rd(o, u, IIR, 1) == 0x02);
	CHECK(!fc.level[10]);
	CHECK(rd(o, u, IIR, 1) == 0x01);
	wr(o, u, THR, 1, '!'); /* sent at once: empty again */
	CHECK(fc.level[10]);
	wr(o, u, IER, 1, 0x00);
	CHECK(!fc.level[10]);

	/* Receive with the FIFO on, trigger level 1. */
	wr(o, u, FCR, 1, 0x07);
	CHECK((rd(o, u, IIR, 1) & 0xc0) == 0xc0);
	CHECK(uart16550_rx_push(u, (const uint8_t *)"abc", 3) == 3);
	CHECK(rd(o, u, LSR, 1) == 0x61);
	CHECK(!fc.level[10]);
	wr(o, u, IER, 1, 0x03); /* RX data and THR empty */
	CHECK(fc.level[10]);
	CHECK(rd(o, u, IIR, 1) == 0xc4); /* RX data has priority over THR empty */
	CHECK(rd(o, u, THR, 1) == 'a');
	CHECK(rd(o, u, THR, 1) == 'b');
	CHECK(rd(o, u, THR, 1) == 'c');
	CHECK(rd(o, u, LSR, 1) == 0x60);
	CHECK(rd(o, u, IIR, 1) == 0xc2); /* then THR empty */
	CHECK(rd(o, u, IIR, 1) == 0xc1);
	CHECK(!fc.level[10]);
	CHECK(rd(o, u, THR, 1) == 0); /* empty FIFO reads 0 */

	/* Trigger level 4: fewer bytes report a character timeout. */
	wr(o, u, FCR, 1, 0x41);
	CHECK(uart16550_rx_push(u, (const uint8_t *)"xy", 2) == 2);
	CHECK(rd(o, u, IIR, 1) == 0xcc);
	CHECK(uart16550_rx_push(u, (const uint8_t *)"zw", 2) == 2);
	CHECK(rd(o, u, IIR, 1) == 0xc4);

	/* The FIFO holds 16; the host hears when there is room again. */
	uint8_t many[20];
	memset(many, 'm', sizeof(many));
	CHECK(uart16550_rx_push(u, many, sizeof(many)) == 12);
	CHECK(host.ready == 0);
	rd(o, u, THR, 1);
	CHECK(host.ready == 1);
	CHECK(uart16550_rx_push(u, many, 1) == 1);
	CHECK(!(rd(o, u, LSR, 1) & 0x02)); /* no overrun */
	wr(o, u, FCR, 1, 0x03);		   /* clear RX */
	CHECK(rd(o, u, LSR, 1) == 0x60);

	/* Without the FIFO, one byte at a time. */
	wr(o, u, FCR, 1, 0x00);
	CHECK(uart16550_rx_push(u, (const uint8_t *)"12", 2) == 1);
	CHECK((rd(o, u, IIR, 1) & 0xc0) == 0);
	CHECK(rd(o, u, THR, 1) == '1');

	/* Divisor latch. */
	wr(o, u, LCR, 1, 0x83);
	wr(o, u, 0, 1, 0x01);
	wr(o, u, 1, 1, 0x02);
	CHECK(rd(o, u, 0, 1) == 0x01 && rd(o, u, 1, 1) == 0x02);
	unsigned before = host.nout;
	wr(o, u, LCR, 1, 0x03);
	CHECK(host.nout == before && rd(o, u, LCR, 1) == 0x03);
	CHECK(rd(o, u, IER, 1) == 0x03);

	/* Loopback, as Linux's 8250 probe tests it. */
	wr(o, u, IER, 1, 0);
	wr(o, u, MCR, 1, 0x10 | 0x0a);
	CHECK((rd(o, u, MSR, 1) & 0xf0) == 0x90);
	wr(o, u, MCR, 1, 0x1f);
	CHECK((rd(o, u, MSR, 1) & 0xf0) == 0xf0);
	wr(o, u, THR, 1, 'L');
	CHECK(host.nout == before);
	CHECK(rd(o, u, LSR, 1) & 0x01);
	CHECK(rd(o, u, THR, 1) == 'L');
	CHECK(uart16550_rx_push(u, (const uint8_t *)"q", 1) == 0); /* the line is not heard */
	wr(o, u, MCR, 1, 0x0b);
	CHECK((rd(o, u, MSR, 1) & 0xf0) == 0xb0);

	wr(o, u, SCR, 1, 0x5a);
	CHECK(rd(o, u, SCR, 1) == 0x5a);
	CHECK(rd(o, u, 0x80, 1) == 0); /* past the registers */
	wr(o, u, 0xff, 1, 0);
	uart16550_destroy(u);
}

static int64_t now_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void test_rtc(void)
{
	struct fake_chip fc = {.chip.set_level = fake_set_level};
	struct goldfish_rtc *r = goldfish_rtc_create((struct irq_line){&fc.chip, 11});
	const struct mmio_ops *o = &goldfish_rtc_ops;

	uint64_t lo = rd(o, r, 0x00, 4);
	uint64_t t = (rd(o, r, 0x04, 4) << 32) | lo;
	int64_t host = now_realtime_ns();
	CHECK(llabs(host - (int64_t)t) < 1000000000);

	/* Set the clock to 1000 s after the epoch. */
	uint64_t set = 1000000000000ull;
	wr(o, r, 0x04, 4, set >> 32);
	wr(o, r, 0x00, 4, (uint32_t)set);
	lo = rd(o, r, 0x00, 4);
	t = (rd(o, r, 0x04, 4) << 32) | lo;
	CHECK(t >= set && t - set < 1000000000ull);

	/* An alarm already due fires at once, but the line waits for IRQ_ENABLED. */
	wr(o, r, 0x0c, 4, 0);
	wr(o, r, 0x08, 4, 1);
	CHECK(!fc.level[11]);
	CHECK(rd(o, r, 0x18, 4) == 0);
	wr(o, r, 0x10, 4, 1);
	CHECK(fc.level[11]);
	wr(o, r, 0x1c, 4, 1);
	CHECK(!fc.level[11]);

	/* An alarm 50 ms ahead fires from the RTC's own thread. */
	lo = rd(o, r, 0x00, 4);
	t = (rd(o, r, 0x04, 4) << 32) | lo;
	uint64_t alarm = t + 50000000;
	wr(o, r, 0x0c, 4, alarm >> 32);
	wr(o, r, 0x08, 4, (uint32_t)alarm);
	CHECK(rd(o, r, 0x18, 4) == 1);
	CHECK(!fc.level[11]);
	for (int i = 0; i < 200 && !fc.level[11]; i++)
		usleep(5000);
	CHECK(fc.level[11]);
	CHECK(rd(o, r, 0x18, 4) == 0);
	wr(o, r, 0x1c, 4, 1);

	/* A cleared alarm never fires. */
	alarm = t + 60000000000ull;
	wr(o, r, 0x0c, 4, alarm >> 32);
	wr(o, r, 0x08, 4, (uint32_t)alarm);
	wr(o, r, 0x14, 4, 1);
	CHECK(rd(o, r, 0x18, 4) == 0);
	CHECK(!fc.level[11]);
	goldfish_rtc_destroy(r);
}

struct test_events {
	int last;
	unsigned code, n;
};

static void on_test_event(void *opaque, enum sifive_test_event ev, unsigned code)
{
	struct test_events *e = opaque;
	e->last = (int)ev;
	e->code = code;
	e->n++;
}

static void test_sifive_test(void)
{
	struct test_events e = {.last = -1};
	struct sifive_test_host th = {&e, on_test_event};
	struct sifive_test *t = sifive_test_create(&th);
	const struct mmio_ops *o = &sifive_test_ops;
	wr(o, t, 0, 4, 0x1234);
	CHECK(e.n == 0);
	wr(o, t, 0, 4, 0x5555);
	CHECK(e.n == 1 && e.last == SIFIVE_TEST_POWEROFF);
	wr(o, t, 0, 4, 0x7777);
	CHECK(e.n == 2 && e.last == SIFIVE_TEST_REBOOT);
	wr(o, t, 0, 4, (42u << 16) | 0x3333);
	CHECK(e.n == 3 && e.last == SIFIVE_TEST_FAIL && e.code == 42);
	wr(o, t, 4, 4, 0x5555); /* other offsets do nothing */
	CHECK(e.n == 3);
	wr(o, t, 0, 1, 0x55); /* nor do byte stores */
	CHECK(e.n == 3);
	wr(o, t, 0, 2, 0x5555); /* OpenSBI's 16-bit store */
	CHECK(e.n == 4 && e.last == SIFIVE_TEST_POWEROFF);
	sifive_test_destroy(t);
}

struct reader {
	int fd;
	size_t n;
	bool in_order;
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	uint8_t buf[4096];
	ssize_t n;
	r->in_order = true;
	while ((n = read(r->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != (uint8_t)((r->n + (size_t)i) * 7))
				r->in_order = false;
		r->n += (size_t)n;
	}
	return NULL;
}

static int64_t now_monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_host_out(void)
{
	/* Everything put arrives, in order, also through a full ring. */
	int p[2];
	CHECK(pipe(p) == 0);
	struct reader r = {.fd = p[0]};
	pthread_t t;
	pthread_create(&t, NULL, reader_thread, &r);
	struct host_out *o = host_out_create(p[1], NULL);
	const size_t total = 300000;
	for (size_t i = 0; i < total; i++)
		host_out_put(o, (uint8_t)(i * 7));
	host_out_destroy(o);
	close(p[1]);
	pthread_join(t, NULL);
	close(p[0]);
	CHECK(r.n == total);
	CHECK(r.in_order);

	/* A single byte shows up promptly, without more output behind it. */
	CHECK(pipe(p) == 0);
	o = host_out_create(p[1], NULL);
	int64_t t0 = now_monotonic_ms();
	host_out_put(o, 'x');
	char c = 0;
	CHECK(read(p[0], &c, 1) == 1 && c == 'x');
	CHECK(now_monotonic_ms() - t0 < 500);
	host_out_destroy(o);
	close(p[0]);
	close(p[1]);

	/* A reader that never reads: once released, puts stop waiting, and the
	 * end gives up within about a second. */
	CHECK(pipe(p) == 0);
	o = host_out_create(p[1], NULL);
	host_out_release(o);
	for (size_t i = 0; i < 400000; i++)
		host_out_put(o, 'y');
	t0 = now_monotonic_ms();
	host_out_destroy(o);
	CHECK(now_monotonic_ms() - t0 < 5000);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	test_plic();
	test_aclint();
	test_uart();
	test_rtc();
	test_sifive_test();
	test_host_out();
	if (failures) {
		printf("%d check(s) failed\n", failures);
		return 1;
	}
	printf("all device checks passed\n");
	return 0;
}
