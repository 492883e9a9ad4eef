/* SPDX-License-Identifier: MIT */
/*
 * The platform-level interrupt controller (RISC-V PLIC 1.0.0) as on QEMU's
 * virt board: two contexts per hart, M-mode (2h) driving MEIP and S-mode
 * (2h + 1) driving SEIP.  Sources are level-triggered: a source stays pending
 * while its line is high, is taken out of arbitration when claimed, and
 * becomes pending again at completion if its line is still high.
 */
#ifndef VESSEL_MACHINE_PLIC_H
#define VESSEL_MACHINE_PLIC_H

#include "machine/bus.h"
#include "machine/irq.h"

#define PLIC_SIZE      0x600000
#define PLIC_MAX_HARTS 8

struct plic;

/* ndev: highest source number (riscv,ndev), at most 1023. */
struct plic *plic_create(unsigned nharts, unsigned ndev);
void plic_destroy(struct plic *p);

/* Connect hart h's external interrupt inputs; before any hart runs. */
void plic_attach_hart(struct plic *p, unsigned h, struct hart_port port);

/* The chip devices' irq_lines point at. */
struct irq_chip *plic_irq_chip(struct plic *p);

extern const struct mmio_ops plic_mmio_ops;

/* Saved state (snapshots): plain data, checked against the PLIC on load. */
#define PLIC_STATE_SOURCES  1024
#define PLIC_STATE_CONTEXTS (2 * PLIC_MAX_HARTS)
struct plic_state {
	uint32_t nharts, ndev;
	uint32_t priority[PLIC_STATE_SOURCES];
	uint32_t level[PLIC_STATE_SOURCES / 32];
	uint32_t pending[PLIC_STATE_SOURCES / 32];
	uint32_t claimed[PLIC_STATE_SOURCES / 32];
	uint32_t enable[PLIC_STATE_CONTEXTS][PLIC_STATE_SOURCES / 32];
	uint32_t threshold[PLIC_STATE_CONTEXTS];
	uint8_t output[PLIC_STATE_CONTEXTS];
};

struct verr;
void plic_save(struct plic *p, struct plic_state *st);
/* Before the harts run; -EINVAL (err filled) when the state does not fit this PLIC. */
int plic_load(struct plic *p, const struct plic_state *st, struct verr *err);

#endif
