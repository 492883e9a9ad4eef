/* SPDX-License-Identifier: MIT */
/*
 * The MMIO bus: a registry of address ranges, each owned by a device with
 * read/write callbacks.  The device tree is generated from the same registry
 * (each region may add its own node), so what the guest is told exists and
 * what does exist never disagree.
 *
 * Regions are registered while the machine is built, before any hart runs;
 * lookups after that take no lock.  A callback runs on the thread of the hart
 * (or device) that made the access and must take its device's own lock.
 */
#ifndef VESSEL_MACHINE_BUS_H
#define VESSEL_MACHINE_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct fdt_ctx;

struct mmio_ops {
	/* 'off' is relative to the region base; size is 1, 2, 4 or 8.
	 * Return 0, or -1 for a bus error (the hart takes an access fault). */
	int (*read)(void *dev, uint64_t off, unsigned size, uint64_t *val);
	int (*write)(void *dev, uint64_t off, unsigned size, uint64_t val);
	/* Optional: add this device's node(s) to the device tree. */
	int (*fdt)(void *dev, struct fdt_ctx *ctx);
};

struct bus_region {
	uint64_t base;
	uint64_t size;
	const struct mmio_ops *ops;
	void *dev;
	const char *name;
};

#define BUS_MAX_REGIONS 64

struct bus {
	unsigned n;
	struct bus_region r[BUS_MAX_REGIONS]; /* sorted by base */
};

/* Register a region; fails with -EEXIST on overlap, -ENOSPC when full. */
int bus_add(struct bus *bus, uint64_t base, uint64_t size, const struct mmio_ops *ops, void *dev,
	    const char *name);

const struct bus_region *bus_find(const struct bus *bus, uint64_t addr);

/* Access 'size' bytes at 'addr'; -1 when no region claims it or the device refuses. */
int bus_read(const struct bus *bus, uint64_t addr, unsigned size, uint64_t *val);
int bus_write(const struct bus *bus, uint64_t addr, unsigned size, uint64_t val);

#endif
