/* SPDX-License-Identifier: MIT */
/*
 * The CPU engine as the machine sees it: create harts, start them, stop
 * them, reach their interrupt inputs.  Today the engine is the RV64GC
 * interpreter; a JIT or KVM engine would sit behind the same functions.
 * Devices never include this header; they reach harts through hart_port.
 */
#ifndef VESSEL_CPU_CPU_H
#define VESSEL_CPU_CPU_H

#include <stdint.h>

#include "machine/irq.h"

struct cpu;
struct guest_mem;
struct bus;
struct timebase;
struct verr;

struct cpu_config {
	unsigned hartid;
	struct guest_mem *mem;	   /* RAM: loads, stores and fetches go here directly */
	const struct bus *bus;	   /* everything else: MMIO, or an access fault */
	const struct timebase *tb; /* the time CSR and timer compares */
};

struct cpu *cpu_create(const struct cpu_config *cfg, struct verr *err);
void cpu_destroy(struct cpu *c);

/* Put the hart in M-mode at 'pc' with a0..a2 set, as firmware expects at reset. */
void cpu_reset(struct cpu *c, uint64_t pc, uint64_t a0, uint64_t a1, uint64_t a2);

/* Run the hart on the calling thread until cpu_request_stop(); returns 0. */
int cpu_run(struct cpu *c);

/* Ask a running (or sleeping) hart to return from cpu_run(); any thread. */
void cpu_request_stop(struct cpu *c);

/* Withdraw a stop request, so that cpu_run() can run the hart again (after a pause). */
void cpu_clear_stop(struct cpu *c);

/* The hart's interrupt inputs, for the ACLINT and the PLIC. */
struct hart_port cpu_hart_port(struct cpu *c);

/* Instructions retired so far. */
uint64_t cpu_instret(const struct cpu *c);

/* Make the hart drop cached write translations (dirty logging just started). */
void cpu_flush_write_tlb(struct cpu *c);

#endif
