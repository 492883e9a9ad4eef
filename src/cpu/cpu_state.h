/* SPDX-License-Identifier: MIT */
/*
 * The architectural state of a hart as a plain struct, for snapshots and
 * migration.  Derived state (TLBs, decoded and translated blocks) is not
 * saved: it is dropped on load and rebuilt as the hart runs.
 */
#ifndef VESSEL_CPU_CPU_STATE_H
#define VESSEL_CPU_CPU_STATE_H

#include <stdint.h>

struct cpu;
struct verr;

struct cpu_state {
	uint64_t x[32];
	uint64_t f[32];
	uint64_t pc;
	uint32_t priv, fflags, frm, resv_valid;
	uint64_t mstatus, misa, medeleg, mideleg, mie, mtvec, mscratch, mepc, mcause, mtval;
	uint64_t mcounteren, mcountinhibit, menvcfg;
	uint64_t stvec, sscratch, sepc, scause, stval, satp, scounteren, senvcfg;
	uint64_t stimecmp, mtimecmp;
	uint64_t pmpcfg[2], pmpaddr[16];
	uint64_t mhartid, instret;
	uint64_t mip; /* interrupt bits pending */
	uint64_t resv_addr, resv_val;
};

/* The hart must not be running (machine paused or not started). */
void cpu_save(struct cpu *c, struct cpu_state *st);
/*
 * Load a saved state into a hart that is not running.  Every CSR goes
 * through the same write path as a guest's csrw, so a value no guest could
 * have written is refused (-EINVAL, err filled) rather than trusted.
 */
int cpu_load(struct cpu *c, const struct cpu_state *st, struct verr *err);

#endif
