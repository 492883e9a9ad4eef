/* SPDX-License-Identifier: MIT */
/* Placeholder transport: every slot is empty (DeviceID 0) until the virtio core lands. */
#include "devices/virtio_mmio.h"

#include <stdlib.h>

struct virtio_mmio {
	struct guest_mem *mem;
	struct irq_line irq;
};

struct virtio_mmio *virtio_mmio_create(struct guest_mem *mem, struct irq_line irq,
				       struct virtio_device *vdev)
{
	(void)vdev;
	struct virtio_mmio *t = calloc(1, sizeof(*t));
	if (t) {
		t->mem = mem;
		t->irq = irq;
	}
	return t;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	free(t);
}

static int slot_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	(void)dev;
	(void)size;
	switch (off) {
	case 0x000:
		*val = 0x74726976;
		break; /* "virt" */
	case 0x004:
		*val = 2;
		break; /* version: modern */
	case 0x00c:
		*val = 0x554d4551;
		break; /* vendor */
	default:
		*val = 0;
		break;
	}
	return 0;
}

static int slot_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	(void)dev;
	(void)off;
	(void)size;
	(void)val;
	return 0;
}

const struct mmio_ops virtio_mmio_ops = {.read = slot_read, .write = slot_write};
