/* SPDX-License-Identifier: MIT */
#include "machine/bus.h"

#include <errno.h>
#include <string.h>

int bus_add(struct bus *bus, uint64_t base, uint64_t size, const struct mmio_ops *ops, void *dev,
	    const char *name)
{
	if (size == 0 || base + size < base)
		return -EINVAL;
	if (bus->n == BUS_MAX_REGIONS)
		return -ENOSPC;
	unsigned i = 0;
	while (i < bus->n && bus->r[i].base < base)
		i++;
	if (i > 0 && bus->r[i - 1].base + bus->r[i - 1].size > base)
		return -EEXIST;
	if (i < bus->n && base + size > bus->r[i].base)
		return -EEXIST;
	memmove(&bus->r[i + 1], &bus->r[i], (bus->n - i) * sizeof(bus->r[0]));
	bus->r[i] = (struct bus_region){base, size, ops, dev, name};
	bus->n++;
	return 0;
}

const struct bus_region *bus_find(const struct bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->n;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct bus_region *r = &bus->r[mid];
		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->size)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

int bus_read(const struct bus *bus, uint64_t addr, unsigned size, uint64_t *val)
{
	const struct bus_region *r = bus_find(bus, addr);
	*val = 0;
	if (!r || addr - r->base > r->size - size || !r->ops->read)
		return -1;
	return r->ops->read(r->dev, addr - r->base, size, val);
}

int bus_write(const struct bus *bus, uint64_t addr, unsigned size, uint64_t val)
{
	const struct bus_region *r = bus_find(bus, addr);
	if (!r || addr - r->base > r->size - size || !r->ops->write)
		return -1;
	return r->ops->write(r->dev, addr - r->base, size, val);
}
