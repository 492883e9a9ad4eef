/* SPDX-License-Identifier: MIT */
/*
 * The core-local interruptor (SiFive CLINT layout, as QEMU's virt board):
 * msip per hart at 0x0 + 4h, mtimecmp per hart at 0x4000 + 8h, mtime at
 * 0xbff8.  The CPU engine turns mtimecmp and the timebase into MTIP itself;
 * this device only forwards the registers.
 */
#ifndef VESSEL_MACHINE_ACLINT_H
#define VESSEL_MACHINE_ACLINT_H

#include "machine/bus.h"
#include "machine/irq.h"
#include "util/clock.h"

#define ACLINT_SIZE	 0x10000
#define ACLINT_MAX_HARTS 8

struct aclint;

struct aclint *aclint_create(unsigned nharts, const struct timebase *tb);
void aclint_destroy(struct aclint *a);
void aclint_attach_hart(struct aclint *a, unsigned h, struct hart_port port);

extern const struct mmio_ops aclint_mmio_ops;

/* Saved state (snapshots); mtimecmp is saved with each hart. */
struct aclint_state {
	uint32_t nharts;
	uint8_t msip[ACLINT_MAX_HARTS];
};
struct verr;
void aclint_save(struct aclint *a, struct aclint_state *st);
int aclint_load(struct aclint *a, const struct aclint_state *st, struct verr *err);

#endif
