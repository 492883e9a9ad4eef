/* SPDX-License-Identifier: MIT */
/* The engine interface (cpu.h): interpreter and JIT, lifecycle, wfi, interrupt inputs. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/block.h"
#include "cpu/csr.h"
#include "cpu/hart.h"
#include "cpu/interp.h"
#include "cpu/jit.h"
#include "cpu/mmu.h"
#include "cpu/trap.h"
#include "util/clock.h"
#include "util/log.h"

struct cpu {
	struct hart h;
};

/* Decoded-code arena per hart; full means flush and start again. */
#ifndef CODE_CACHE_BYTES
#define CODE_CACHE_BYTES (6u << 20)
#endif

/* Interpreted runs of a block before the JIT translates it. */
#define JIT_DEFAULT_THRESHOLD 64

static pthread_once_t interp_once = PTHREAD_ONCE_INIT;

/*
 * VESSEL_JIT=0 turns the JIT off; VESSEL_JIT_THRESHOLD=<n> translates a block
 * at its n-th run (0: at once, so tests run every block the JIT can take as host code).
 */
static void jit_configure(struct hart *h)
{
	const char *on = getenv("VESSEL_JIT");
	const char *thr = getenv("VESSEL_JIT_THRESHOLD");
	h->jit_enabled = false;
	h->jit_threshold = JIT_DEFAULT_THRESHOLD;
	if (thr && *thr) {
		char *end;
		unsigned long v = strtoul(thr, &end, 10);
		if (!*end && v <= UINT32_MAX / 2)
			h->jit_threshold = (uint32_t)v;
		else
			log_warn("VESSEL_JIT_THRESHOLD=%s ignored: not a count", thr);
	}
	if (!JIT_AVAILABLE || (on && strcmp(on, "0") == 0))
		return;
	/* Without an executable buffer the interpreter alone runs: slower, still correct. */
	h->jit_enabled = jit_init(h) == 0;
}

struct cpu *cpu_create(const struct cpu_config *cfg, struct verr *err)
{
	pthread_once(&interp_once, interp_init);
	/* The hart carries large caches: map it so untouched parts cost nothing. */
	struct cpu *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c == MAP_FAILED) {
		verr_set(err, errno, "hart %u: out of memory", cfg->hartid);
		return NULL;
	}
	struct hart *h = &c->h;
	h->mhartid = cfg->hartid;
	h->mem = cfg->mem;
	h->bus = cfg->bus;
	h->tb = cfg->tb;
	pthread_mutex_init(&h->lock, NULL);
	/* wfi deadlines are CLOCK_MONOTONIC times. */
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &ca);
	pthread_condattr_destroy(&ca);
	int r = block_cache_init(h, CODE_CACHE_BYTES);
	if (r) {
		verr_set(err, r, "hart %u: cannot allocate its code cache", cfg->hartid);
		cpu_destroy(c);
		return NULL;
	}
	jit_configure(h);
	cpu_reset(c, 0x80000000, cfg->hartid, 0, 0);
	return c;
}

void cpu_destroy(struct cpu *c)
{
	if (!c)
		return;
	block_cache_destroy(&c->h);
	jit_destroy(&c->h);
	pthread_mutex_destroy(&c->h.lock);
	pthread_cond_destroy(&c->h.wake);
	munmap(c, sizeof(*c));
}

void cpu_reset(struct cpu *c, uint64_t pc, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct hart *h = &c->h;
	memset(h->x, 0, sizeof(h->x));
	memset(h->f, 0, sizeof(h->f));
	h->x[10] = a0;
	h->x[11] = a1;
	h->x[12] = a2;
	h->pc = pc;
	csr_reset(h);
	h->resv_valid = false;
	atomic_store(&h->pending, 0);
	h->next_timer_check = 0;
	tlb_flush_everything(h);
	block_cache_flush(h);
	hart_update_mode(h);
}

int cpu_run(struct cpu *c)
{
	interp_run(&c->h);
	return 0;
}

static void hart_kick(struct hart *h)
{
	pthread_mutex_lock(&h->lock);
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
}

void cpu_request_stop(struct cpu *c)
{
	atomic_fetch_or(&c->h.pending, PENDING_STOP);
	hart_kick(&c->h);
}

void cpu_clear_stop(struct cpu *c)
{
	atomic_fetch_and(&c->h.pending, ~PENDING_STOP);
}

/* Host CLOCK_MONOTONIC deadline of the earliest enabled timer that can wake this hart. */
static int64_t wfi_deadline(struct hart *h)
{
	uint64_t cmp = UINT64_MAX;
	if (h->mie & (1ull << IRQ_M_TIMER))
		cmp = atomic_load(&h->mtimecmp);
	if ((h->menvcfg & MENVCFG_STCE) && (h->mie & (1ull << IRQ_S_TIMER)) && h->stimecmp < cmp)
		cmp = h->stimecmp;
	return timebase_to_host_ns(h->tb, cmp);
}

void hart_wfi(struct hart *h)
{
	pthread_mutex_lock(&h->lock);
	for (;;) {
		hart_check_timers(h);
		uint64_t p = atomic_load(&h->pending);
		if ((p & h->mie) || (p & PENDING_STOP))
			break;
		int64_t deadline = wfi_deadline(h);
		/* Wake at least once a second: harmless, and bounds any missed signal. */
		int64_t limit = host_monotonic_ns() + 1000000000;
		if (deadline > limit)
			deadline = limit;
		struct timespec ts = {.tv_sec = deadline / 1000000000,
				      .tv_nsec = deadline % 1000000000};
		pthread_cond_timedwait(&h->wake, &h->lock, &ts);
	}
	pthread_mutex_unlock(&h->lock);
}

static void port_set_pending(void *opaque, uint32_t bits, bool level)
{
	struct hart *h = opaque;
	hart_set_pending(h, bits, level);
	if (level)
		hart_kick(h);
}

static void port_set_mtimecmp(void *opaque, uint64_t value)
{
	struct hart *h = opaque;
	atomic_store(&h->mtimecmp, value);
	/* MTIP follows the new compare value at once; a later expiry is found by the hart. */
	bool expired = timebase_now(h->tb) >= value;
	hart_set_pending(h, 1ull << IRQ_M_TIMER, expired);
	hart_kick(h);
}

static uint64_t port_get_mtimecmp(void *opaque)
{
	struct hart *h = opaque;
	return atomic_load(&h->mtimecmp);
}

struct hart_port cpu_hart_port(struct cpu *c)
{
	return (struct hart_port){
	    .hart = &c->h,
	    .set_pending = port_set_pending,
	    .set_mtimecmp = port_set_mtimecmp,
	    .get_mtimecmp = port_get_mtimecmp,
	};
}

uint64_t cpu_instret(const struct cpu *c)
{
	return c->h.instret;
}

void cpu_flush_write_tlb(struct cpu *c)
{
	/* Called from another thread: the hart flushes at its next block boundary, after
	 * which every store to a page goes once through the path that logs it dirty. */
	atomic_fetch_or(&c->h.pending, PENDING_TLB_FLUSH);
	hart_kick(&c->h);
}
