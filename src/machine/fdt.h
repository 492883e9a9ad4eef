/* SPDX-License-Identifier: MIT */
/*
 * Device tree generation.  The machine builds the skeleton (/cpus, /memory,
 * /chosen, /soc) and then walks the bus registry: each region whose
 * mmio_ops.fdt is set adds its own node, so the tree always describes the
 * devices that really exist.  Built with libfdt's read-write functions, so a
 * callback may add nodes anywhere (the test device adds /poweroff, /reboot).
 */
#ifndef VESSEL_MACHINE_FDT_H
#define VESSEL_MACHINE_FDT_H

#include <stddef.h>
#include <stdint.h>

#include "machine/bus.h"

struct verr;

#define FDT_MAX_HARTS 8
#define FDT_MAX_SIZE  (64 * 1024)

struct fdt_ctx {
	void *fdt;			 /* the tree being built (FDT_MAX_SIZE bytes) */
	const struct bus_region *region; /* the region whose callback runs */
	uint32_t plic_phandle;		 /* interrupt-parent of every device */
	unsigned nharts;
	uint32_t intc_phandle[FDT_MAX_HARTS]; /* each hart's riscv,cpu-intc */
	uint32_t next_phandle;
};

/*
 * A node for a bus region whose ops have no fdt callback (the virtio-mmio
 * transport): "<name>@<base>" under /soc with reg, compatible and interrupts.
 */
struct fdt_simple_node {
	uint64_t base;
	const char *name, *compatible;
	unsigned irq;
};

/* What the generic part of the tree says about the machine. */
struct fdt_params {
	unsigned nharts;
	uint64_t ram_base, ram_size;
	const char *bootargs;
	uint64_t initrd_start, initrd_end; /* both 0: no initrd */
	const struct fdt_simple_node *simple;
	unsigned nsimple;
};

/*
 * Build the tree into buf (FDT_MAX_SIZE bytes) and pack it.
 * Returns 0 or -errno with err filled.
 */
int fdt_build(void *buf, const struct fdt_params *p, const struct bus *bus, struct verr *err);

/* Helpers for the mmio_ops.fdt callbacks; all return 0/node offset or a libfdt error (< 0). */
uint32_t fdt_ctx_alloc_phandle(struct fdt_ctx *ctx);
/* Add "<name>@<region base>" under /soc with its reg property; returns its offset. */
int fdt_ctx_add_soc_node(struct fdt_ctx *ctx, const char *name);
/* interrupts = <line>, interrupt-parent = <plic>. */
int fdt_ctx_set_irq(struct fdt_ctx *ctx, int node, unsigned line);

#endif
