/* SPDX-License-Identifier: MIT */
/*
 * An NS16550A UART (the console of QEMU's virt board): 16-byte receive
 * FIFO fed by the host console, transmit straight to a host callback, and
 * the interrupt identification rules Linux's 8250 driver depends on.
 */
#ifndef VESSEL_DEVICES_UART16550_H
#define VESSEL_DEVICES_UART16550_H

#include <stddef.h>
#include <stdint.h>

#include "machine/bus.h"
#include "machine/irq.h"

#define UART16550_SIZE	    0x100
#define UART16550_FIFO_SIZE 16

struct uart16550_host {
	void *opaque;
	/* A byte the guest transmitted (called with the UART's lock held). */
	void (*tx)(void *opaque, uint8_t c);
	/* The guest made room in the receive FIFO after a short rx_push(). */
	void (*rx_ready)(void *opaque);
};

struct uart16550;

struct uart16550 *uart16550_create(struct irq_line irq, uint32_t clock_hz,
				   const struct uart16550_host *host);
void uart16550_destroy(struct uart16550 *u);

/* Offer host input; returns how many bytes the FIFO took (any thread). */
size_t uart16550_rx_push(struct uart16550 *u, const uint8_t *buf, size_t n);

extern const struct mmio_ops uart16550_ops;

/* Saved state (snapshots). */
struct uart16550_state {
	uint8_t ier, lcr, mcr, lsr_err, scr, fcr, dll, dlm;
	uint8_t thr_ipending, rx_head, rx_count, pad;
	uint8_t rx[UART16550_FIFO_SIZE];
};
struct verr;
void uart16550_save(struct uart16550 *u, struct uart16550_state *st);
int uart16550_load(struct uart16550 *u, const struct uart16550_state *st, struct verr *err);

#endif
