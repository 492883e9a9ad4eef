/* SPDX-License-Identifier: MIT */
#include "vdrv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int vd_failures;

static void tirq_set(struct irq_chip *chip, unsigned line, bool level)
{
	(void)line;
	struct test_irq *ti = (struct test_irq *)chip;
	pthread_mutex_lock(&ti->m);
	if (level && !ti->level)
		ti->rises++;
	ti->level = level;
	pthread_mutex_unlock(&ti->m);
}

void vd_open(struct vdrv *d, struct virtio_device *vdev)
{
	memset(d, 0, sizeof(*d));
	if (guest_mem_init(&d->mem, VD_RAM_BASE, VD_RAM_SIZE)) {
		perror("guest_mem_init");
		exit(2);
	}
	d->irq.chip.set_level = tirq_set;
	pthread_mutex_init(&d->irq.m, NULL);
	d->vdev = vdev;
	d->t = virtio_mmio_create(&d->mem, (struct irq_line){&d->irq.chip, 7}, vdev);
	if (!d->t)
		exit(2);
	d->brk = VD_RAM_BASE + 0x10000;
}

void vd_close(struct vdrv *d)
{
	virtio_mmio_destroy(d->t);
	virtio_device_destroy(d->vdev);
	guest_mem_destroy(&d->mem);
	pthread_mutex_destroy(&d->irq.m);
}

uint8_t vd_cfg8(struct vdrv *d, unsigned off)
{
	uint64_t v = 0;
	CHECK(vd_rd_raw(d, 0x100 + off, 1, &v) == 0);
	return (uint8_t)v;
}

int vd_rd_raw(struct vdrv *d, uint64_t off, unsigned size, uint64_t *v)
{
	return virtio_mmio_ops.read(d->t, off, size, v);
}

int vd_wr_raw(struct vdrv *d, uint64_t off, unsigned size, uint64_t v)
{
	return virtio_mmio_ops.write(d->t, off, size, v);
}

uint32_t vd_rd(struct vdrv *d, uint64_t off)
{
	uint64_t v = 0;
	CHECK(vd_rd_raw(d, off, 4, &v) == 0);
	return (uint32_t)v;
}

void vd_wr(struct vdrv *d, uint64_t off, uint32_t v)
{
	CHECK(vd_wr_raw(d, off, 4, v) == 0);
}

uint64_t vd_negotiate(struct vdrv *d, uint64_t want)
{
	vd_wr(d, 0x070, 0);
	memset(d->q, 0, sizeof(d->q));
	vd_wr(d, 0x070, VIRTIO_STATUS_ACKNOWLEDGE);
	vd_wr(d, 0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vd_wr(d, 0x014, 0);
	uint64_t f = vd_rd(d, 0x010);
	vd_wr(d, 0x014, 1);
	f |= (uint64_t)vd_rd(d, 0x010) << 32;
	uint64_t use = f & want;
	vd_wr(d, 0x024, 0);
	vd_wr(d, 0x020, (uint32_t)use);
	vd_wr(d, 0x024, 1);
	vd_wr(d, 0x020, (uint32_t)(use >> 32));
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
	vd_wr(d, 0x070, st);
	if (!(vd_rd(d, 0x070) & VIRTIO_STATUS_FEATURES_OK))
		return 0;
	return f;
}

void vd_driver_ok(struct vdrv *d)
{
	vd_wr(d, 0x070, vd_rd(d, 0x070) | VIRTIO_STATUS_DRIVER_OK);
}

uint64_t vd_alloc(struct vdrv *d, uint64_t len, uint64_t align)
{
	d->brk = (d->brk + align - 1) & ~(align - 1);
	uint64_t a = d->brk;
	d->brk += len;
	if (d->brk > VD_RAM_BASE + VD_RAM_SIZE) {
		fprintf(stderr, "vdrv: out of guest memory\n");
		exit(2);
	}
	memset(vd_ptr(d, a), 0, len);
	return a;
}

void *vd_ptr(struct vdrv *d, uint64_t gpa)
{
	return d->mem.host + (gpa - VD_RAM_BASE);
}

bool vd_queue_setup(struct vdrv *d, unsigned qi, uint16_t size)
{
	return vd_queue_setup_room(d, qi, size, size);
}

bool vd_queue_setup_room(struct vdrv *d, unsigned qi, uint16_t size, uint16_t room)
{
	struct vd_queue *q = &d->q[qi];
	memset(q, 0, sizeof(*q));
	q->size = size;
	q->desc = vd_alloc(d, 16ull * room, 16);
	q->avail = vd_alloc(d, 6 + 2ull * size, 2);
	q->used = vd_alloc(d, 6 + 8ull * size, 4);
	vd_wr(d, 0x030, qi);
	if (vd_rd(d, 0x044) != 0)
		return false;
	vd_wr(d, 0x038, size);
	vd_wr(d, 0x080, (uint32_t)q->desc);
	vd_wr(d, 0x084, (uint32_t)(q->desc >> 32));
	vd_wr(d, 0x090, (uint32_t)q->avail);
	vd_wr(d, 0x094, (uint32_t)(q->avail >> 32));
	vd_wr(d, 0x0a0, (uint32_t)q->used);
	vd_wr(d, 0x0a4, (uint32_t)(q->used >> 32));
	vd_wr(d, 0x044, 1);
	return vd_rd(d, 0x044) == 1;
}

void vd_desc_set(struct vdrv *d, unsigned qi, uint16_t i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	uint8_t *p = vd_ptr(d, d->q[qi].desc + 16ull * i);
	memcpy(p, &addr, 8); /* the host is little-endian, like virtio */
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

void vd_avail_add(struct vdrv *d, unsigned qi, uint16_t head)
{
	struct vd_queue *q = &d->q[qi];
	uint16_t *ring = vd_ptr(d, q->avail + 4);
	ring[q->avail_idx % q->size] = head;
	q->avail_idx++;
	__atomic_store_n((uint16_t *)vd_ptr(d, q->avail + 2), q->avail_idx, __ATOMIC_RELEASE);
}

void vd_kick(struct vdrv *d, unsigned qi)
{
	vd_wr(d, 0x050, qi);
}

uint16_t vd_submit(struct vdrv *d, unsigned qi, const struct vbuf *b, unsigned n)
{
	struct vd_queue *q = &d->q[qi];
	uint16_t head = q->next_desc;
	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = q->next_desc;
		q->next_desc = (uint16_t)((q->next_desc + 1) % q->size);
		uint16_t flags =
		    (b[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		vd_desc_set(d, qi, idx, b[i].gpa, b[i].len, flags, q->next_desc);
	}
	vd_avail_add(d, qi, head);
	vd_kick(d, qi);
	return head;
}

uint16_t vd_used_pending(struct vdrv *d, unsigned qi)
{
	struct vd_queue *q = &d->q[qi];
	uint16_t idx = __atomic_load_n((uint16_t *)vd_ptr(d, q->used + 2), __ATOMIC_ACQUIRE);
	return (uint16_t)(idx - q->used_seen);
}

int vd_wait_used(struct vdrv *d, unsigned qi, uint32_t *id, uint32_t *len, int timeout_ms)
{
	struct vd_queue *q = &d->q[qi];
	for (int waited = 0; vd_used_pending(d, qi) == 0; waited++) {
		if (waited >= timeout_ms)
			return 0;
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	uint32_t *e = vd_ptr(d, q->used + 4 + 8ull * (q->used_seen % q->size));
	if (id)
		*id = e[0];
	if (len)
		*len = e[1];
	q->used_seen++;
	return 1;
}

bool vd_irq_level(struct vdrv *d)
{
	pthread_mutex_lock(&d->irq.m);
	bool l = d->irq.level;
	pthread_mutex_unlock(&d->irq.m);
	return l;
}

unsigned vd_irq_rises(struct vdrv *d)
{
	pthread_mutex_lock(&d->irq.m);
	unsigned r = d->irq.rises;
	pthread_mutex_unlock(&d->irq.m);
	return r;
}

bool vd_needs_reset(struct vdrv *d)
{
	return vd_rd(d, 0x070) & VIRTIO_STATUS_NEEDS_RESET;
}
