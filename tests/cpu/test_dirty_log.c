/* SPDX-License-Identifier: MIT */
/*
 * The guest-memory write path logs dirty pages: a hart keeps storing to one
 * page while the host starts the dirty log, asks the hart to drop its cached
 * write translations, and reads the log, twice over (as migration rounds do).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/cpu.h"
#include "machine/bus.h"
#include "machine/guest_mem.h"
#include "util/clock.h"
#include "util/log.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define PAGES	 (RAM_SIZE / GUEST_PAGE_SIZE)

static const uint32_t program[] = {
    0x00010297, /* auipc t0, 0x10      t0 = 0x80010000 (page 16) */
    0x05a00313, /* li    t1, 0x5a */
    0x0062b023, /* sd    t1, 0(t0)     <- loop */
    0xffdff06f, /* j     -4 */
};

static void *run_hart(void *c)
{
	cpu_run(c);
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static int failures;
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/*
 * Exactly page 16 (the stored-to page) must be dirty.  The hart logs it once it
 * has dropped its cached translation and stored again: on a loaded host that
 * can take a while, so fetch until it shows up (5 s at most), gathering all.
 */
static void check_log(struct guest_mem *mem, const char *when)
{
	uint64_t all[(PAGES + 63) / 64] = {0};
	for (int tries = 0; tries < 500 && !((all[0] >> 16) & 1); tries++) {
		uint64_t bits[(PAGES + 63) / 64];
		sleep_ms(10);
		guest_mem_dirty_log_fetch(mem, bits);
		for (unsigned w = 0; w < (PAGES + 63) / 64; w++)
			all[w] |= bits[w];
	}
	for (unsigned pg = 0; pg < PAGES; pg++) {
		bool dirty = (all[pg / 64] >> (pg % 64)) & 1;
		CHECK(dirty == (pg == 16), "%s: page %u dirty=%d", when, pg, dirty);
	}
}

int main(void)
{
	struct guest_mem mem;
	struct bus bus = {0};
	struct timebase tb;
	struct verr err = {{0}};
	timebase_init(&tb, 0);
	if (guest_mem_init(&mem, RAM_BASE, RAM_SIZE)) {
		fprintf(stderr, "guest_mem_init failed\n");
		return 1;
	}
	memcpy(mem.host, program, sizeof(program));
	struct cpu_config cfg = {.hartid = 0, .mem = &mem, .bus = &bus, .tb = &tb};
	struct cpu *c = cpu_create(&cfg, &err);
	if (!c) {
		fprintf(stderr, "cpu_create: %s\n", err.msg);
		return 1;
	}
	cpu_reset(c, RAM_BASE, 0, 0, 0);
	pthread_t t;
	pthread_create(&t, NULL, run_hart, c);

	sleep_ms(30); /* the store's translation is now cached */
	CHECK(guest_mem_dirty_log_start(&mem) == 0, "dirty log start");
	cpu_flush_write_tlb(c);
	check_log(&mem, "first round");

	/* Fetching clears the log; after another flush the same page shows up again. */
	cpu_flush_write_tlb(c);
	check_log(&mem, "second round");

	/* A device write goes through the checked helper and is logged too. */
	uint32_t v = 1;
	CHECK(guest_mem_write(&mem, RAM_BASE + 5 * GUEST_PAGE_SIZE - 2, &v, 4) == 0, "write");
	uint64_t bits[(PAGES + 63) / 64];
	guest_mem_dirty_log_fetch(&mem, bits);
	CHECK((bits[0] >> 4) & 1 && (bits[0] >> 5) & 1, "device write across pages 4-5 not logged");
	CHECK(guest_mem_write(&mem, RAM_BASE + RAM_SIZE - 2, &v, 4) != 0,
	      "write past RAM accepted");

	cpu_request_stop(c);
	pthread_join(t, NULL);
	CHECK(cpu_instret(c) > 1000, "the hart ran only %llu instructions",
	      (unsigned long long)cpu_instret(c));
	guest_mem_dirty_log_stop(&mem);
	cpu_destroy(c);
	guest_mem_destroy(&mem);
	if (failures)
		return 1;
	printf("PASS: dirty log\n");
	return 0;
}
