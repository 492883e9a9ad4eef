/* SPDX-License-Identifier: MIT */
/*
 * The JIT against the interpreter: random guest programs of the
 * instructions the JIT translates (ALU, M, Zba/Zbb/Zbs, loads and stores of
 * every width to RAM, to MMIO and to nowhere, forward branches, JAL, JALR,
 * some compressed forms; the whole program repeated a few times, so that
 * translated blocks chain to each other) run from the same initial state on a hart with the
 * JIT off and on a hart that translates every block at its first run.  All
 * registers, pc, instret, the trap CSRs, the data RAM and the MMIO writes
 * must agree.
 *
 * White-box: the test reads the hart (struct cpu starts with struct hart,
 * see cpu.c) to set registers and mtvec and to compare state.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/hart.h"
#include "machine/bus.h"
#include "machine/guest_mem.h"
#include "util/clock.h"
#include "util/log.h"

#define RAM_BASE  0x80000000ull
#define RAM_SIZE  (1u << 20)
#define CODE	  RAM_BASE
#define STOP	  (RAM_BASE + 0x4000) /* sw x0, 0x100(x0); j . */
#define HANDLER	  (RAM_BASE + 0x4100) /* the same, as mtvec */
#define SUB	  (RAM_BASE + 0x2000) /* a subroutine in another page */
#define DATA	  (RAM_BASE + 0x10000)
#define DATA_SIZE 0x20000u
#define MMIO_SIZE 0x1000u
#define STOP_OFF  0x100u

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible across hosts for a given seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned rn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* ---- A device at guest address 0: reads give a function of the address, writes are logged. */

struct dev {
	struct cpu *cpu;
	uint64_t log; /* hash of every write */
	unsigned writes;
};

static int dev_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
	(void)opaque;
	if (off >= 0xf00)
		return -1; /* the top of the region refuses: access faults */
	uint64_t v = (off + 1) * 0x9e3779b97f4a7c15ull ^ size;
	*val = size == 8 ? v : v & ((1ull << (8 * size)) - 1);
	return 0;
}

static int dev_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct dev *d = opaque;
	if (off >= 0xf00)
		return -1;
	d->log = (d->log ^ (off << 8 | size) ^ val) * 0x100000001b3ull;
	d->writes++;
	if (off == STOP_OFF)
		cpu_request_stop(d->cpu);
	return 0;
}

static const struct mmio_ops dev_ops = {.read = dev_read, .write = dev_write};

/* ---- Instruction encodings ---------------------------------------------------- */

static uint32_t r_type(unsigned op, unsigned f3, unsigned f7, unsigned rd, unsigned rs1,
		       unsigned rs2)
{
	return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static uint32_t i_type(unsigned op, unsigned f3, unsigned rd, unsigned rs1, int32_t imm)
{
	return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static uint32_t s_type(unsigned f3, unsigned rs1, unsigned rs2, int32_t imm)
{
	uint32_t u = (uint32_t)imm;
	return (u >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 0x1f) << 7 | 0x23;
}

static uint32_t b_type(unsigned f3, unsigned rs1, unsigned rs2, int32_t off)
{
	uint32_t u = (uint32_t)off;
	return (u >> 12 & 1) << 31 | (u >> 5 & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
	       (u >> 1 & 0xf) << 8 | (u >> 11 & 1) << 7 | 0x63;
}

static uint32_t j_type(unsigned rd, int32_t off)
{
	uint32_t u = (uint32_t)off;
	return (u >> 20 & 1) << 31 | (u >> 1 & 0x3ff) << 21 | (u >> 11 & 1) << 20 |
	       (u >> 12 & 0xff) << 12 | rd << 7 | 0x6f;
}

/* Register-register operations: opcode, funct3, funct7. */
static const uint16_t rr_ops[][3] = {
    {0x33, 0, 0x00},
    {0x33, 1, 0x00},
    {0x33, 2, 0x00},
    {0x33, 3, 0x00},
    {0x33, 4, 0x00},
    {0x33, 5, 0x00},
    {0x33, 6, 0x00},
    {0x33, 7, 0x00},
    {0x33, 0, 0x20},
    {0x33, 5, 0x20},
    {0x33, 0, 0x01},
    {0x33, 1, 0x01},
    {0x33, 2, 0x01},
    {0x33, 3, 0x01},
    {0x33, 4, 0x01},
    {0x33, 5, 0x01},
    {0x33, 6, 0x01},
    {0x33, 7, 0x01},
    {0x3b, 0, 0x00},
    {0x3b, 0, 0x20},
    {0x3b, 1, 0x00},
    {0x3b, 5, 0x00},
    {0x3b, 5, 0x20},
    {0x3b, 0, 0x01},
    {0x3b, 4, 0x01},
    {0x3b, 5, 0x01},
    {0x3b, 6, 0x01},
    {0x3b, 7, 0x01},
    /* Zba, Zbb, Zbs */
    {0x33, 2, 0x10},
    {0x33, 4, 0x10},
    {0x33, 6, 0x10},
    {0x3b, 0, 0x04},
    {0x3b, 2, 0x10},
    {0x3b, 4, 0x10},
    {0x3b, 6, 0x10},
    {0x33, 7, 0x20},
    {0x33, 6, 0x20},
    {0x33, 4, 0x20},
    {0x33, 6, 0x05},
    {0x33, 7, 0x05},
    {0x33, 4, 0x05},
    {0x33, 5, 0x05},
    {0x33, 1, 0x30},
    {0x33, 5, 0x30},
    {0x3b, 1, 0x30},
    {0x3b, 5, 0x30},
    {0x33, 1, 0x24},
    {0x33, 5, 0x24},
    {0x33, 1, 0x34},
    {0x33, 1, 0x14},
};

/* Immediate operations: opcode, funct3, immediate kind. */
enum imm_kind { IMM12, SH6, SH5, FIXED };
static const struct {
	uint8_t op, f3, kind;
	uint16_t hi; /* high immediate bits (shift-type funct, or the whole imm for FIXED) */
} imm_ops[] = {
    {0x13, 0, IMM12, 0},     {0x13, 2, IMM12, 0},     {0x13, 3, IMM12, 0},
    {0x13, 4, IMM12, 0},     {0x13, 6, IMM12, 0},     {0x13, 7, IMM12, 0},
    {0x13, 1, SH6, 0},	     {0x13, 5, SH6, 0},	      {0x13, 5, SH6, 0x400},
    {0x1b, 0, IMM12, 0},     {0x1b, 1, SH5, 0},	      {0x1b, 5, SH5, 0},
    {0x1b, 5, SH5, 0x400},   {0x13, 1, FIXED, 0x600}, {0x13, 1, FIXED, 0x601},
    {0x13, 1, FIXED, 0x602}, {0x13, 1, FIXED, 0x604}, {0x13, 1, FIXED, 0x605},
    {0x1b, 1, FIXED, 0x600}, {0x1b, 1, FIXED, 0x601}, {0x1b, 1, FIXED, 0x602},
    {0x13, 5, FIXED, 0x6b8}, {0x13, 5, FIXED, 0x287}, {0x13, 5, SH6, 0x600},
    {0x1b, 5, SH5, 0x600},   {0x13, 1, SH6, 0x480},   {0x13, 1, SH6, 0x280},
    {0x13, 1, SH6, 0x680},   {0x13, 5, SH6, 0x480},   {0x1b, 1, SH6, 0x080},
};

/*
 * Two thirds of the operands come from a few "hot" registers chosen per
 * program, so results feed later instructions (and the JIT's register
 * cache and lazy sign extension see chains of dependent instructions).
 */
static unsigned hot_regs[6];

static void pick_hot_regs(void)
{
	for (unsigned i = 0; i < 6; i++)
		hot_regs[i] = 11 + rn(18); /* x11..x28: not the access bases x5..x10 */
}

/* rd for a random instruction: never x29 (return address of SUB), x30 (loop
 * count) or x31 (the jalr target). */
static unsigned rand_rd(void)
{
	return rn(3) ? hot_regs[rn(6)] : rn(29);
}

static unsigned rand_rs(void)
{
	return rn(3) ? hot_regs[rn(6)] : rn(32);
}

/* A base register for an access: mostly one that points into data RAM or MMIO. */
static unsigned rand_base(void)
{
	unsigned k = rn(10);
	return k < 7 ? 5 + k % 5 : k < 9 ? 10 : rand_rd(); /* not x31: it points at the stop code */
}

static int32_t rand_imm12(void)
{
	static const int32_t edge[] = {0, 1, -1, 2047, -2048, 31, 32, 63, 64};
	if (rn(4) == 0)
		return edge[rn(sizeof(edge) / sizeof(edge[0]))];
	return (int32_t)rn(4096) - 2048;
}

enum kind { K_ALU, K_BRANCH, K_JAL, K_JALR, K_C, K_CJR, K_CALL };

/* Generate a program at 'code': returns its byte size. */
static unsigned gen_program(uint8_t *code)
{
	unsigned n = 1 + rn(48);
	enum kind kinds[64];
	pick_hot_regs();
	unsigned addr[65], pos = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned r = rn(100);
		kinds[i] = r < 68   ? K_ALU
			   : r < 72 ? K_CALL
			   : r < 86 ? K_BRANCH
			   : r < 89 ? K_JAL
			   : r < 92 ? K_JALR
			   : r < 99 ? K_C
				    : K_CJR;
		addr[i] = pos;
		pos += kinds[i] == K_C || kinds[i] == K_CJR ? 2 : 4;
	}
	addr[n] = pos;
	/* Falling off the end runs into a jump to the stop code. */
	for (unsigned i = 0; i < n; i++) {
		uint32_t w;
		unsigned len = 4;
		switch (kinds[i]) {
		case K_ALU: {
			unsigned r = rn(100);
			if (r < 35) {
				const uint16_t *o = rr_ops[rn(sizeof(rr_ops) / sizeof(rr_ops[0]))];
				w = r_type(o[0], o[1], o[2], rand_rd(), rand_rs(), rand_rs());
			} else if (r < 62) {
				unsigned k = rn(sizeof(imm_ops) / sizeof(imm_ops[0]));
				int32_t imm =
				    imm_ops[k].kind == IMM12 ? rand_imm12()
				    : imm_ops[k].kind == SH6 ? (int32_t)(imm_ops[k].hi | rn(64))
				    : imm_ops[k].kind == SH5 ? (int32_t)(imm_ops[k].hi | rn(32))
							     : (int32_t)imm_ops[k].hi;
				w = i_type(imm_ops[k].op, imm_ops[k].f3, rand_rd(), rand_rs(), imm);
			} else if (r < 66) {
				w = (uint32_t)rnd() & 0xfffff000u;
				w |= rand_rd() << 7 | (rn(2) ? 0x37 : 0x17); /* lui / auipc */
			} else if (r < 83) {
				static const unsigned lf3[] = {0, 1, 2, 3, 4, 5, 6};
				w = i_type(0x03, lf3[rn(7)], rand_rd(), rand_base(), rand_imm12());
			} else {
				w = s_type(rn(4), rand_base(), rand_rs(), rand_imm12());
			}
			break;
		}
		case K_BRANCH: {
			static const unsigned bf3[] = {0, 1, 4, 5, 6, 7};
			unsigned t = i + 1 + rn(n - i);
			/* Equal operands sometimes, so both outcomes are common. */
			unsigned a = rand_rs(), b = rn(3) ? rand_rs() : a;
			w = b_type(bf3[rn(6)], a, b, (int32_t)(addr[t] - addr[i]));
			break;
		}
		case K_JAL:
			w = j_type(rand_rd(), (int32_t)(STOP - CODE - addr[i]));
			break;
		case K_CALL: /* jal x29, SUB: into another page and back through jalr */
			w = j_type(29, (int32_t)(SUB - CODE - addr[i]));
			break;
		case K_JALR:
			w = i_type(0x67, 0, rand_rd(), 31, rn(2) ? 0 : (int32_t)rn(2));
			break;
		case K_C: {
			unsigned rd = 1 + rn(28), rs = 1 + rn(30), k = rn(4);
			int32_t imm = (int32_t)rn(64) - 32;
			uint32_t i6 = (uint32_t)imm & 0x3f;
			if (k == 0) /* c.addi */
				w = (i6 >> 5) << 12 | rd << 7 | (i6 & 0x1f) << 2 | 0x1;
			else if (k == 1) /* c.li */
				w = 2u << 13 | (i6 >> 5) << 12 | rd << 7 | (i6 & 0x1f) << 2 | 0x1;
			else if (k == 2) /* c.mv */
				w = 4u << 13 | rd << 7 | rs << 2 | 0x2;
			else /* c.add */
				w = 4u << 13 | 1u << 12 | rd << 7 | rs << 2 | 0x2;
			len = 2;
			break;
		}
		case K_CJR:
			/* c.jalr x31 or c.jr x31 */
			w = 4u << 13 | (uint32_t)rn(2) << 12 | 31u << 7 | 0x2;
			len = 2;
			break;
		}
		memcpy(code + addr[i], &w, len);
	}
	/* After the last instruction: run it all again x30 times, so exits are
	 * taken repeatedly and chained blocks run; then j STOP. */
	uint32_t tail[3] = {
	    i_type(0x13, 0, 30, 30, -1),		     /* addi x30, x30, -1 */
	    b_type(1, 30, 0, -(int32_t)addr[n] - 4),	     /* bne x30, x0, CODE */
	    j_type(0, (int32_t)(STOP - CODE - addr[n] - 8)), /* j STOP */
	};
	memcpy(code + addr[n], tail, sizeof(tail));

	/* SUB: a few ALU instructions, then jalr x0, 0(x29). */
	uint8_t *sub = code + (SUB - CODE);
	unsigned m = rn(6);
	for (unsigned i = 0; i < m; i++) {
		const uint16_t *o = rr_ops[rn(sizeof(rr_ops) / sizeof(rr_ops[0]))];
		uint32_t w = r_type(o[0], o[1], o[2], rand_rd(), rand_rs(), rand_rs());
		memcpy(sub + 4 * i, &w, 4);
	}
	uint32_t ret = i_type(0x67, 0, 0, 29, 0);
	memcpy(sub + 4 * m, &ret, 4);
	return addr[n] + 12;
}

static uint64_t rand_value(void)
{
	static const uint64_t edge[] = {0,
					1,
					~0ull,
					0x8000000000000000ull,
					0x7fffffffffffffffull,
					0x80000000ull,
					0x7fffffffull,
					0xffffffff80000000ull,
					0xffffffffull,
					63,
					64,
					32,
					31};
	switch (rn(4)) {
	case 0:
		return edge[rn(sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return rn(4096) - 2048;
	default:
		return rnd();
	}
}

/* A program that never reaches the stop code is a failure, not a hang of the test. */
static _Atomic(struct cpu *) running;
static atomic_uint run_seq;
static atomic_bool hung;

static void *watchdog(void *arg)
{
	(void)arg;
	unsigned last = ~0u, ticks = 0;
	for (;;) {
		usleep(100000);
		unsigned seq = atomic_load(&run_seq);
		struct cpu *c = atomic_load(&running);
		if (seq != last || !c) {
			last = seq;
			ticks = 0;
		} else if (++ticks == 50) {
			atomic_store(&hung, true);
			cpu_request_stop(c);
		}
	}
	return NULL;
}

struct state {
	uint64_t x[32], pc, instret, mcause, mepc, mtval, devlog;
	unsigned writes;
	bool hung;
};

static struct hart *hart_of(struct cpu *c)
{
	return (struct hart *)(void *)c; /* struct cpu { struct hart h; } in cpu.c */
}

static void run_one(struct cpu *c, struct dev *d, struct guest_mem *mem, const uint8_t *image,
		    const uint64_t *regs, struct state *out, uint8_t *data_out)
{
	struct hart *h = hart_of(c);
	memcpy(mem->host, image, RAM_SIZE);
	cpu_reset(c, CODE, 0, 0, 0);
	memcpy(h->x, regs, 32 * sizeof(uint64_t));
	h->x[0] = 0;
	h->instret = 0;
	h->mcause = h->mepc = h->mtval = 0;
	h->mtvec = HANDLER;
	d->cpu = c;
	d->log = 0;
	d->writes = 0;
	atomic_store(&running, c);
	atomic_fetch_add(&run_seq, 1);
	cpu_run(c);
	atomic_store(&running, NULL);
	out->hung = atomic_exchange(&hung, false);
	if (out->hung)
		fprintf(stderr,
			"%s run never reached the stop code: pc %#" PRIx64 " mcause %#" PRIx64
			" mepc %#" PRIx64 " mtval %#" PRIx64 " writes %u\n",
			h->jit_enabled ? "JIT" : "interpreter", h->pc, h->mcause, h->mepc, h->mtval,
			d->writes);
	memcpy(out->x, h->x, sizeof(out->x));
	out->pc = h->pc;
	out->instret = h->instret;
	out->mcause = h->mcause;
	out->mepc = h->mepc;
	out->mtval = h->mtval;
	out->devlog = d->log;
	out->writes = d->writes;
	memcpy(data_out, mem->host + (DATA - RAM_BASE), DATA_SIZE);
}

static int compare(unsigned trial, const struct state *a, const struct state *b, const uint8_t *da,
		   const uint8_t *db)
{
	int bad = 0;
	for (unsigned i = 0; i < 32; i++)
		if (a->x[i] != b->x[i]) {
			fprintf(stderr, "trial %u: x%u interp %#" PRIx64 " jit %#" PRIx64 "\n",
				trial, i, a->x[i], b->x[i]);
			bad = 1;
		}
#define CMP(f)                                                                                     \
	if (a->f != b->f) {                                                                        \
		fprintf(stderr, "trial %u: %s interp %#" PRIx64 " jit %#" PRIx64 "\n", trial, #f,  \
			(uint64_t)a->f, (uint64_t)b->f);                                           \
		bad = 1;                                                                           \
	}
	CMP(pc)
	CMP(instret)
	CMP(mcause)
	CMP(mepc)
	CMP(mtval)
	CMP(devlog)
	CMP(writes)
#undef CMP
	if (memcmp(da, db, DATA_SIZE)) {
		fprintf(stderr, "trial %u: data RAM differs\n", trial);
		bad = 1;
	}
	return bad;
}

static struct cpu *make_cpu(const char *jit, struct guest_mem *mem, struct bus *bus,
			    struct timebase *tb)
{
	setenv("VESSEL_JIT", jit, 1);
	setenv("VESSEL_JIT_THRESHOLD", "0", 1);
	struct verr err;
	struct cpu_config cfg = {.hartid = 0, .mem = mem, .bus = bus, .tb = tb};
	struct cpu *c = cpu_create(&cfg, &err);
	if (!c) {
		fprintf(stderr, "cpu_create failed\n");
		exit(1);
	}
	return c;
}

/* Run a directed program (in image) on both engines; nonzero if their states differ. */
static int run_both(struct cpu *ci, struct cpu *cj, struct dev *d, struct guest_mem *mem,
		    const uint8_t *image, const uint64_t *regs, struct state *si, struct state *sj)
{
	uint8_t *da = malloc(DATA_SIZE), *db = malloc(DATA_SIZE);
	if (!da || !db)
		return 1;
	run_one(ci, d, mem, image, regs, si, da);
	run_one(cj, d, mem, image, regs, sj, db);
	int bad = compare(~0u, si, sj, da, db);
	free(da);
	free(db);
	return bad;
}

/*
 * A chained exit into code that is rewritten (store, fence.i) between runs
 * must reach the new code: the link is rechecked against the fence.i
 * generation.  T adds 1, then is rewritten to add 100, 101, 102: the third
 * rewrite meets an exit already linked to the second version.
 */
static int test_fence_i_chain(struct cpu *ci, struct cpu *cj, struct dev *d, struct guest_mem *mem,
			      uint8_t *image)
{
	const unsigned T = 0x40, BACK = 0x08, LOOP = 0x04;
	const uint32_t prog[] = {
	    i_type(0x13, 0, 10, 0, 0),		     /* 0x00: li x10, 0 */
	    b_type(0, 0, 0, (int32_t)(T - LOOP)),    /* 0x04: beq x0, x0, T (not folded: an exit) */
	    s_type(2, 13, 12, 0),		     /* 0x08: sw x12, 0(x13) */
	    r_type(0x33, 0, 0, 12, 12, 15),	     /* 0x0c: add x12, x12, x15 */
	    0x0000100f,				     /* 0x10: fence.i */
	    i_type(0x13, 0, 10, 10, 1),		     /* 0x14: addi x10, x10, 1 */
	    i_type(0x13, 0, 14, 0, 4),		     /* 0x18: li x14, 4 */
	    b_type(4, 10, 14, (int32_t)LOOP - 0x1c), /* 0x1c: blt x10, x14, LOOP */
	    j_type(0, (int32_t)(STOP - CODE - 0x20)), /* 0x20: j STOP */
	};
	const uint32_t t_code[] = {
	    i_type(0x13, 0, 11, 11, 1),			       /* T: addi x11, x11, 1 */
	    b_type(0, 0, 0, (int32_t)BACK - (int32_t)(T + 4)), /* beq x0, x0, BACK */
	};
	memset(image, 0, 0x4000);
	memcpy(image, prog, sizeof(prog));
	memcpy(image + T, t_code, sizeof(t_code));
	uint64_t regs[32] = {0};
	regs[12] = i_type(0x13, 0, 11, 11, 100); /* addi x11, x11, 100 */
	regs[13] = CODE + T;
	regs[15] = 1u << 20; /* the next rewrite adds one more */
	struct state si, sj;
	int bad = run_both(ci, cj, d, mem, image, regs, &si, &sj);
	if (si.x[11] != 304 || sj.x[11] != 304) {
		fprintf(stderr, "fence.i chain: x11 interp %" PRIu64 " jit %" PRIu64 ", want 304\n",
			si.x[11], sj.x[11]);
		bad = 1;
	}
	return bad;
}

/*
 * Directed programs for the JIT's lazy sign extension: a W result (negative,
 * so its sign extension matters) moves, is combined and consumed by 64-bit
 * instructions, stores, branches and block exits, in a loop so the block
 * runs translated; the JIT must match the interpreter, and a known result.
 */
/* Both engines' final registers against {register, value} pairs; nonzero if one differs. */
static int check_regs(const char *what, const struct state *si, const struct state *sj,
		      const uint64_t (*want)[2], size_t n)
{
	int bad = 0;
	for (size_t k = 0; k < n; k++)
		if (sj->x[want[k][0]] != want[k][1] || si->x[want[k][0]] != want[k][1]) {
			fprintf(stderr,
				"%s: x%u interp %#" PRIx64 " jit %#" PRIx64 ", want %#" PRIx64 "\n",
				what, (unsigned)want[k][0], si->x[want[k][0]], sj->x[want[k][0]],
				want[k][1]);
			bad = 1;
		}
	return bad;
}

static int test_narrow_values(struct cpu *ci, struct cpu *cj, struct dev *d, struct guest_mem *mem,
			      uint8_t *image)
{
	const uint32_t c_mv_12_11 = 4u << 13 | 12u << 7 | 11u << 2 | 0x2; /* c.mv x12, x11 */
	const uint32_t prog[] = {
	    i_type(0x1b, 0, 11, 11, -1),	      /* 0x00: addiw x11, x11, -1 */
	    c_mv_12_11 | (0x0001u << 16),	      /* 0x04: c.mv x12, x11; c.nop */
	    r_type(0x33, 0, 0, 13, 12, 12),	      /* 0x08: add x13, x12, x12 */
	    r_type(0x33, 4, 0, 14, 12, 11),	      /* 0x0c: xor x14, x12, x11 (narrow) */
	    r_type(0x33, 6, 0, 16, 14, 12),	      /* 0x10: or x16, x14, x12 (narrow) */
	    i_type(0x1b, 0, 17, 12, 0),		      /* 0x14: sext.w x17, x12 */
	    i_type(0x13, 0, 18, 12, 0),		      /* 0x18: mv x18, x12 */
	    s_type(3, 5, 16, 0),		      /* 0x1c: sd x16, 0(x5) */
	    s_type(2, 5, 12, 8),		      /* 0x20: sw x12, 8(x5) */
	    r_type(0x3b, 0, 0, 19, 19, 12),	      /* 0x24: addw x19, x19, x12 */
	    i_type(0x13, 0, 10, 10, -1),	      /* 0x28: addi x10, x10, -1 */
	    b_type(1, 10, 0, -0x2c),		      /* 0x2c: bne x10, x0, 0x00 */
	    b_type(4, 12, 0, 8),		      /* 0x30: blt x12, x0, 0x38 */
	    i_type(0x13, 0, 20, 0, 1),		      /* 0x34: li x20, 1 (not reached) */
	    j_type(0, (int32_t)(STOP - CODE - 0x38)), /* 0x38: j STOP */
	};
	memset(image, 0, 0x4000);
	memcpy(image, prog, sizeof(prog));
	uint64_t regs[32] = {0};
	regs[5] = DATA + 0x100;
	regs[10] = 20; /* iterations */
	struct state si, sj;
	int bad = run_both(ci, cj, d, mem, image, regs, &si, &sj);
	/* after 20 iterations x11 = -20; x19 = sum of -1..-20 = -210 */
	const uint64_t want[][2] = {{11, (uint64_t)-20},
				    {12, (uint64_t)-20},
				    {13, (uint64_t)-40},
				    {14, 0},
				    {16, (uint64_t)-20},
				    {17, (uint64_t)-20},
				    {18, (uint64_t)-20},
				    {19, (uint64_t)-210},
				    {20, 0}};
	return bad | check_regs("narrow values", &si, &sj, want, sizeof(want) / sizeof(want[0]));
}

/*
 * Pairs and forms the translator shortens: slli+srli by 32 (zext.w) as one
 * 32-bit mov, from a register whose upper half is stale (after addiw) and
 * into itself; a pair whose second half targets another register (not
 * fused); branches against x0 on such a register (test of the low half for
 * beq/bne, the whole value for blt/bge); a load at offset 0 addressed
 * through its base register.
 */
static int test_peepholes(struct cpu *ci, struct cpu *cj, struct dev *d, struct guest_mem *mem,
			  uint8_t *image)
{
	const uint32_t prog[] = {
	    i_type(0x1b, 0, 11, 11, -1),	      /* 0x00: addiw x11, x11, -1 (stale upper) */
	    i_type(0x13, 1, 12, 11, 32),	      /* 0x04: slli x12, x11, 32 */
	    i_type(0x13, 5, 12, 12, 32),	      /* 0x08: srli x12, x12, 32: zext.w */
	    i_type(0x13, 1, 13, 13, 32),	      /* 0x0c: slli x13, x13, 32 */
	    i_type(0x13, 5, 13, 13, 32),	      /* 0x10: srli x13, x13, 32: in place */
	    i_type(0x13, 1, 14, 11, 32),	      /* 0x14: slli x14, x11, 32 */
	    i_type(0x13, 5, 15, 14, 32),	      /* 0x18: srli x15, x14, 32: not a pair */
	    r_type(0x33, 0, 0, 16, 16, 12),	      /* 0x1c: add x16, x16, x12 */
	    b_type(0, 11, 0, 8),		      /* 0x20: beq x11, x0, 0x28 */
	    i_type(0x13, 0, 17, 17, 1),		      /* 0x24: addi x17, x17, 1 */
	    b_type(5, 11, 0, 8),		      /* 0x28: bge x11, x0, 0x30 */
	    i_type(0x13, 0, 18, 18, 1),		      /* 0x2c: addi x18, x18, 1 */
	    i_type(0x03, 3, 19, 5, 0),		      /* 0x30: ld x19, 0(x5) */
	    r_type(0x33, 0, 0, 20, 20, 19),	      /* 0x34: add x20, x20, x19 */
	    i_type(0x13, 0, 10, 10, -1),	      /* 0x38: addi x10, x10, -1 */
	    b_type(1, 10, 0, -0x3c),		      /* 0x3c: bne x10, x0, 0x00 */
	    j_type(0, (int32_t)(STOP - CODE - 0x40)), /* 0x40: j STOP */
	};
	memset(image, 0, 0x4000);
	memcpy(image, prog, sizeof(prog));
	uint64_t regs[32] = {0};
	regs[5] = DATA + 0x100;
	regs[10] = 40;			  /* iterations */
	regs[11] = 0xabcdef0000000014ull; /* addiw sees the low word 20 */
	regs[13] = 0x123456789abcdef0ull;
	uint64_t word = 0x0102030405060708ull;
	memcpy(image + (DATA + 0x100 - RAM_BASE), &word, 8);
	struct state si, sj;
	int bad = run_both(ci, cj, d, mem, image, regs, &si, &sj);
	/* x11 counts 19 down to -20; x12 its zero extension; x16 their sum */
	uint64_t sum = 0;
	for (int v = 19; v >= -20; v--)
		sum += (uint32_t)v;
	const uint64_t want[][2] = {{11, (uint64_t)-20},
				    {12, 0xffffffecull},
				    {13, 0x9abcdef0ull},
				    {14, 0xffffffec00000000ull},
				    {15, 0xffffffecull},
				    {16, sum},
				    {17, 39}, /* every iteration but the one where x11 is 0 */
				    {18, 20}, /* x11 < 0 from -1 to -20 */
				    {20, 40 * word}};
	return bad | check_regs("peepholes", &si, &sj, want, sizeof(want) / sizeof(want[0]));
}

/*
 * Traces: with a threshold that lets the interpreter profile branches first,
 * a loop whose inner branch is taken 7 times in 8 is retranslated along the
 * taken way, its rare way a side exit; both engines and the expected sum
 * must agree.
 */
static int test_trace(struct cpu *ci, struct cpu *cj, struct dev *d, struct guest_mem *mem,
		      uint8_t *image)
{
	const uint32_t prog[] = {
	    i_type(0x13, 0, 10, 0, 0),		      /* 0x00: li x10, 0 */
	    i_type(0x13, 0, 11, 0, 0),		      /* 0x04: li x11, 0 */
	    i_type(0x13, 0, 12, 0, 300),	      /* 0x08: li x12, 300 */
	    i_type(0x13, 7, 13, 10, 7),		      /* 0x0c: andi x13, x10, 7 */
	    b_type(1, 13, 0, 0x1c - 0x10),	      /* 0x10: bne x13, x0, 0x1c */
	    i_type(0x13, 0, 11, 11, 100),	      /* 0x14: addi x11, x11, 100 */
	    i_type(0x13, 4, 11, 11, 5),		      /* 0x18: xori x11, x11, 5 */
	    i_type(0x13, 0, 11, 11, 1),		      /* 0x1c: addi x11, x11, 1 */
	    i_type(0x13, 0, 10, 10, 1),		      /* 0x20: addi x10, x10, 1 */
	    b_type(4, 10, 12, 0x0c - 0x24),	      /* 0x24: blt x10, x12, 0x0c */
	    j_type(0, (int32_t)(STOP - CODE - 0x28)), /* 0x28: j STOP */
	};
	memset(image, 0, 0x4000);
	memcpy(image, prog, sizeof(prog));
	uint64_t regs[32] = {0};
	struct state si, sj;
	uint32_t threshold = hart_of(cj)->jit_threshold;
	hart_of(cj)->jit_threshold = 20;
	int bad = run_both(ci, cj, d, mem, image, regs, &si, &sj);
	hart_of(cj)->jit_threshold = threshold;
	uint64_t want = 0;
	for (unsigned i = 0; i < 300; i++) {
		if (i % 8 == 0)
			want = (want + 100) ^ 5;
		want += 1;
	}
	if (si.x[11] != want || sj.x[11] != want) {
		fprintf(stderr, "trace: x11 interp %" PRIu64 " jit %" PRIu64 ", want %" PRIu64 "\n",
			si.x[11], sj.x[11], want);
		bad = 1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	unsigned trials = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 20000;
	if (argc > 2)
		rng_state = strtoull(argv[2], NULL, 0) | 1;

	struct guest_mem mem;
	if (guest_mem_init(&mem, RAM_BASE, RAM_SIZE)) {
		fprintf(stderr, "guest_mem_init failed\n");
		return 1;
	}
	struct bus bus = {0};
	struct dev dev = {0};
	if (bus_add(&bus, 0, MMIO_SIZE, &dev_ops, &dev, "test")) {
		fprintf(stderr, "bus_add failed\n");
		return 1;
	}
	struct timebase tb;
	timebase_init(&tb, 0);
	pthread_t wd;
	pthread_create(&wd, NULL, watchdog, NULL);
	pthread_detach(wd);

	struct cpu *ci = make_cpu("0", &mem, &bus, &tb);
	struct cpu *cj = make_cpu("1", &mem, &bus, &tb);
	if (hart_of(ci)->jit_enabled || !hart_of(cj)->jit_enabled) {
		fprintf(stderr, "VESSEL_JIT does not switch the JIT\n");
		return 1;
	}

	uint8_t *image = calloc(1, RAM_SIZE);
	uint8_t *da = malloc(DATA_SIZE), *db = malloc(DATA_SIZE);
	if (!image || !da || !db)
		return 1;
	static const uint32_t stop_code[] = {
	    0x10002023, /* sw x0, 0x100(x0) */
	    0x0000006f, /* j . */
	};
	memcpy(image + (STOP - RAM_BASE), stop_code, sizeof(stop_code));
	memcpy(image + (HANDLER - RAM_BASE), stop_code, sizeof(stop_code));

	unsigned looped = 0;
	unsigned failures = test_fence_i_chain(ci, cj, &dev, &mem, image), translated = 0,
		 faults = 0;
	failures += test_narrow_values(ci, cj, &dev, &mem, image);
	failures += test_trace(ci, cj, &dev, &mem, image);
	failures += test_peepholes(ci, cj, &dev, &mem, image);
	uint64_t insns = 0;
	for (unsigned t = 0; t < trials && failures < 5; t++) {
		memset(image, 0, 0x4000);
		gen_program(image);
		for (unsigned i = 0; i < DATA_SIZE; i += 8) {
			uint64_t v = rnd();
			memcpy(image + (DATA - RAM_BASE) + i, &v, 8);
		}
		uint64_t regs[32];
		for (unsigned i = 0; i < 32; i++)
			regs[i] = rand_value();
		for (unsigned i = 5; i < 10; i++) /* bases into data RAM, some near a page end */
			regs[i] = DATA + 0x1000 + rn(DATA_SIZE - 0x2000) - (rn(2) ? 0 : rn(8));
		regs[10] = rn(MMIO_SIZE); /* MMIO */
		regs[30] = 1 + rn(4);
		/* jalr x31 adds 0 or 1: it reaches the stop code or faults, never loops. */
		static const uint64_t targets[] = {STOP, STOP, 0x1000, RAM_BASE + RAM_SIZE + 64};
		regs[31] = targets[rn(4)];

		struct state si, sj;
		run_one(ci, &dev, &mem, image, regs, &si, da);
		run_one(cj, &dev, &mem, image, regs, &sj, db);
		translated += hart_of(cj)->jit_used > 0;
		faults += si.mcause != 0;
		insns += si.instret;
		if (si.hung && sj.hung) {
			/* A random store rewrote the program into a loop (AUIPC
			 * gives code addresses): both engines loop alike, and
			 * where they were stopped is a matter of timing. */
			looped++;
		} else if (compare(t, &si, &sj, da, db)) {
			failures++;
		}
	}
	printf("%u trials, %" PRIu64 " instructions, %u with translated code, %u ended in a trap, "
	       "%u looped in both engines, %u mismatches\n",
	       trials, insns, translated, faults, looped, failures);
	if (looped > trials / 1000) {
		fprintf(stderr, "too many looping programs\n");
		failures++;
	}
	if (translated < trials) {
		fprintf(stderr, "some trials ran no translated code\n");
		failures++;
	}
	cpu_destroy(ci);
	cpu_destroy(cj);
	guest_mem_destroy(&mem);
	free(image);
	free(da);
	free(db);
	return failures ? 1 : 0;
}
