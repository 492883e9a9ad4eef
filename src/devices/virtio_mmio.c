/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio transport, modern interface (version 2) only.
 *
 * Locks: 'lock' guards the registers and is never held while a device
 * handles a kick.  Interrupt state has its own leaf lock so that device
 * threads can raise interrupts while a reset (which holds 'lock' and waits
 * for requests in flight) is under way.
 */
#include "devices/virtio_mmio.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio.h"
#include "util/log.h"

#define MMIO_MAGIC   0x74726976 /* "virt" */
#define MMIO_VERSION 2
#define MMIO_VENDOR  0x554d4551 /* "QEMU", what guests are used to */

enum {
	REG_MAGIC = 0x000,
	REG_VERSION = 0x004,
	REG_DEVICE_ID = 0x008,
	REG_VENDOR_ID = 0x00c,
	REG_DEVICE_FEATURES = 0x010,
	REG_DEVICE_FEATURES_SEL = 0x014,
	REG_DRIVER_FEATURES = 0x020,
	REG_DRIVER_FEATURES_SEL = 0x024,
	REG_QUEUE_SEL = 0x030,
	REG_QUEUE_NUM_MAX = 0x034,
	REG_QUEUE_NUM = 0x038,
	REG_QUEUE_READY = 0x044,
	REG_QUEUE_NOTIFY = 0x050,
	REG_INTERRUPT_STATUS = 0x060,
	REG_INTERRUPT_ACK = 0x064,
	REG_STATUS = 0x070,
	REG_QUEUE_DESC_LOW = 0x080,
	REG_QUEUE_DESC_HIGH = 0x084,
	REG_QUEUE_DRIVER_LOW = 0x090,
	REG_QUEUE_DRIVER_HIGH = 0x094,
	REG_QUEUE_DEVICE_LOW = 0x0a0,
	REG_QUEUE_DEVICE_HIGH = 0x0a4,
	REG_SHM_SEL = 0x0ac,
	REG_SHM_LEN_LOW = 0x0b0,
	REG_SHM_LEN_HIGH = 0x0b4,
	REG_SHM_BASE_LOW = 0x0b8,
	REG_SHM_BASE_HIGH = 0x0bc,
	REG_CONFIG_GENERATION = 0x0fc,
	REG_CONFIG = 0x100,
};

struct mmio_queue {
	uint16_t num;
	bool ready;
	uint64_t desc, driver, device;
};

struct virtio_mmio {
	pthread_mutex_t lock;
	struct guest_mem *mem;
	struct virtio_device *vdev;
	uint32_t dev_features_sel;
	uint32_t drv_features_sel;
	uint32_t queue_sel;
	uint64_t drv_features;
	uint32_t status;
	struct mmio_queue q[VIRTIO_MAX_QUEUES];
	atomic_bool needs_reset;
	atomic_uint config_generation;

	pthread_mutex_t irq_lock;
	struct irq_line irq;
	uint32_t isr;
};

static void irq_update_bits(struct virtio_mmio *t, uint32_t set, uint32_t clear)
{
	pthread_mutex_lock(&t->irq_lock);
	t->isr = (t->isr | set) & ~clear;
	irq_set(&t->irq, t->isr != 0);
	pthread_mutex_unlock(&t->irq_lock);
}

static uint32_t isr_read(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->irq_lock);
	uint32_t v = t->isr;
	pthread_mutex_unlock(&t->irq_lock);
	return v;
}

static void transport_raise(void *opaque, uint32_t bits)
{
	irq_update_bits(opaque, bits, 0);
}

static void transport_config_changed(void *opaque)
{
	struct virtio_mmio *t = opaque;
	atomic_fetch_add(&t->config_generation, 1);
	irq_update_bits(t, VIRTIO_INT_CONFIG, 0);
}

static void transport_needs_reset(void *opaque)
{
	struct virtio_mmio *t = opaque;
	if (atomic_exchange(&t->needs_reset, true))
		return;
	irq_update_bits(t, VIRTIO_INT_CONFIG, 0);
}

static const struct virtio_transport_ops mmio_transport_ops = {
    .raise = transport_raise,
    .config_changed = transport_config_changed,
    .needs_reset = transport_needs_reset,
};

struct virtio_mmio *virtio_mmio_create(struct guest_mem *mem, struct irq_line irq,
				       struct virtio_device *vdev)
{
	struct virtio_mmio *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->irq_lock, NULL);
	t->mem = mem;
	t->irq = irq;
	t->vdev = vdev;
	atomic_init(&t->needs_reset, false);
	atomic_init(&t->config_generation, 0);
	if (vdev) {
		/* A device may outlive a transport (a machine rebuilt for a
		 * reboot): it starts from reset on the new one. */
		atomic_store(&vdev->driver_ok, false);
		atomic_store(&vdev->driver_features, 0);
		if (vdev->ops->reset)
			vdev->ops->reset(vdev);
		vdev->mem = mem;
		vdev->transport = t;
		vdev->transport_ops = &mmio_transport_ops;
	}
	return t;
}

/* Stop the device's queues; the device itself outlives its transport. */
void virtio_mmio_destroy(struct virtio_mmio *t)
{
	if (!t)
		return;
	if (t->vdev) {
		for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
			virtq_stop(&t->vdev->vq[i]);
		t->vdev->transport_ops = NULL;
		t->vdev->transport = NULL;
	}
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->irq_lock);
	free(t);
}

static uint64_t offered_features(const struct virtio_device *vdev)
{
	return vdev->features | 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_INDIRECT_DESC |
	       1ull << VIRTIO_F_RING_EVENT_IDX;
}

/* Device reset (Status 0): called with t->lock held. */
static void device_reset(struct virtio_mmio *t)
{
	struct virtio_device *vdev = t->vdev;
	atomic_store(&vdev->driver_ok, false);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		virtq_stop(&vdev->vq[i]);
		t->q[i] = (struct mmio_queue){0};
	}
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	t->status = 0;
	t->drv_features = 0;
	t->dev_features_sel = 0;
	t->drv_features_sel = 0;
	t->queue_sel = 0;
	atomic_store(&vdev->driver_features, 0);
	atomic_store(&t->needs_reset, false);
	irq_update_bits(t, 0, ~0u);
}

static struct mmio_queue *sel_queue(struct virtio_mmio *t)
{
	return t->queue_sel < t->vdev->num_queues ? &t->q[t->queue_sel] : NULL;
}

static uint32_t queue_reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct mmio_queue *q = sel_queue(t);
	if (!q)
		return 0;
	switch (off) {
	case REG_QUEUE_NUM_MAX:
		return t->vdev->queue_max[t->queue_sel];
	case REG_QUEUE_NUM:
		return q->num;
	case REG_QUEUE_READY:
		return q->ready;
	case REG_QUEUE_DESC_LOW:
		return (uint32_t)q->desc;
	case REG_QUEUE_DESC_HIGH:
		return (uint32_t)(q->desc >> 32);
	case REG_QUEUE_DRIVER_LOW:
		return (uint32_t)q->driver;
	case REG_QUEUE_DRIVER_HIGH:
		return (uint32_t)(q->driver >> 32);
	case REG_QUEUE_DEVICE_LOW:
		return (uint32_t)q->device;
	case REG_QUEUE_DEVICE_HIGH:
		return (uint32_t)(q->device >> 32);
	}
	return 0;
}

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct virtio_device *vdev = t->vdev;
	switch (off) {
	case REG_MAGIC:
		return MMIO_MAGIC;
	case REG_VERSION:
		return MMIO_VERSION;
	case REG_VENDOR_ID:
		return MMIO_VENDOR;
	}
	if (!vdev)
		return 0; /* empty slot: DeviceID 0 */
	switch (off) {
	case REG_DEVICE_ID:
		return vdev->device_id;
	case REG_DEVICE_FEATURES:
		if (t->dev_features_sel > 1)
			return 0;
		return (uint32_t)(offered_features(vdev) >> (32 * t->dev_features_sel));
	case REG_INTERRUPT_STATUS:
		return isr_read(t);
	case REG_STATUS:
		return t->status | (atomic_load(&t->needs_reset) ? VIRTIO_STATUS_NEEDS_RESET : 0);
	case REG_CONFIG_GENERATION:
		return atomic_load(&t->config_generation);
	case REG_SHM_LEN_LOW:
	case REG_SHM_LEN_HIGH:
	case REG_SHM_BASE_LOW:
	case REG_SHM_BASE_HIGH:
		return ~0u; /* no shared memory regions */
	}
	return queue_reg_read(t, off);
}

static void config_read(struct virtio_mmio *t, uint64_t off, unsigned size, uint64_t *val)
{
	*val = 0;
	if (!t->vdev || off >= t->vdev->config_size || size > t->vdev->config_size - off)
		return;
	for (unsigned i = 0; i < size; i++)
		*val |= (uint64_t)t->vdev->config[off + i] << (8 * i);
}

static int mmio_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct virtio_mmio *t = dev;
	pthread_mutex_lock(&t->lock);
	int r = 0;
	if (off >= REG_CONFIG)
		config_read(t, off - REG_CONFIG, size, val);
	else if (size != 4 || off % 4)
		r = -1; /* registers are 32-bit only */
	else
		*val = reg_read(t, off);
	pthread_mutex_unlock(&t->lock);
	return r;
}

static void queue_ready_write(struct virtio_mmio *t, struct mmio_queue *q, uint32_t val)
{
	struct virtq *vq = &t->vdev->vq[t->queue_sel];
	if (!val) {
		virtq_stop(vq);
		q->ready = false;
		return;
	}
	if (q->ready)
		return;
	int r = virtq_start(vq, t->mem, q->num, t->vdev->queue_max[t->queue_sel], q->desc,
			    q->driver, q->device, t->drv_features);
	if (r) {
		log_debug("virtio-mmio: queue %u refused: bad size or ring address", t->queue_sel);
		transport_needs_reset(t);
		return;
	}
	q->ready = true;
}

static void set_lo(uint64_t *r, uint32_t v)
{
	*r = (*r & ~0xffffffffull) | v;
}

static void set_hi(uint64_t *r, uint32_t v)
{
	*r = (*r & 0xffffffffull) | (uint64_t)v << 32;
}

static void queue_reg_write(struct virtio_mmio *t, uint64_t off, uint32_t val)
{
	struct mmio_queue *q = sel_queue(t);
	if (!q)
		return;
	if (off == REG_QUEUE_READY) {
		queue_ready_write(t, q, val);
		return;
	}
	if (q->ready)
		return; /* the layout is fixed while the queue runs */
	switch (off) {
	case REG_QUEUE_NUM:
		q->num = val > 0xffff ? 0 : (uint16_t)val; /* checked when enabled */
		break;
	case REG_QUEUE_DESC_LOW:
		set_lo(&q->desc, val);
		break;
	case REG_QUEUE_DESC_HIGH:
		set_hi(&q->desc, val);
		break;
	case REG_QUEUE_DRIVER_LOW:
		set_lo(&q->driver, val);
		break;
	case REG_QUEUE_DRIVER_HIGH:
		set_hi(&q->driver, val);
		break;
	case REG_QUEUE_DEVICE_LOW:
		set_lo(&q->device, val);
		break;
	case REG_QUEUE_DEVICE_HIGH:
		set_hi(&q->device, val);
		break;
	}
}

/* Status write; returns true when the device should be told DRIVER_OK. */
static bool status_write(struct virtio_mmio *t, uint32_t val)
{
	uint32_t old = t->status;
	if (val == 0) {
		device_reset(t);
		return false;
	}
	val &= 0xff & ~VIRTIO_STATUS_NEEDS_RESET;
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		uint64_t f = t->drv_features;
		bool ok = !(f & ~offered_features(t->vdev)) && (f >> VIRTIO_F_VERSION_1 & 1);
		if (ok)
			atomic_store(&t->vdev->driver_features, f);
		else
			val &= ~VIRTIO_STATUS_FEATURES_OK; /* the driver reads it back */
	}
	t->status = val;
	bool now_ok = (val & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK);
	if (now_ok)
		atomic_store(&t->vdev->driver_ok, true);
	return now_ok;
}

/*
 * Register write with t->lock held.  Returns the queue to kick (or -1);
 * the kick itself runs after the lock is dropped.
 */
static int reg_write(struct virtio_mmio *t, uint64_t off, uint32_t val, bool *driver_ok)
{
	switch (off) {
	case REG_DEVICE_FEATURES_SEL:
		t->dev_features_sel = val;
		return -1;
	case REG_DRIVER_FEATURES:
		if (t->drv_features_sel <= 1 && !(t->status & VIRTIO_STATUS_FEATURES_OK)) {
			if (t->drv_features_sel)
				set_hi(&t->drv_features, val);
			else
				set_lo(&t->drv_features, val);
		}
		return -1;
	case REG_DRIVER_FEATURES_SEL:
		t->drv_features_sel = val;
		return -1;
	case REG_QUEUE_SEL:
		t->queue_sel = val;
		return -1;
	case REG_QUEUE_NOTIFY:
		if (val < t->vdev->num_queues && (t->status & VIRTIO_STATUS_DRIVER_OK) &&
		    t->q[val].ready)
			return (int)val;
		return -1;
	case REG_INTERRUPT_ACK:
		irq_update_bits(t, 0, val);
		return -1;
	case REG_STATUS:
		*driver_ok = status_write(t, val);
		return -1;
	}
	queue_reg_write(t, off, val);
	return -1;
}

static void config_write(struct virtio_mmio *t, uint64_t off, unsigned size, uint64_t val)
{
	struct virtio_device *vdev = t->vdev;
	if (off >= vdev->config_size || size > vdev->config_size - off)
		return;
	if (vdev->ops->config_write)
		vdev->ops->config_write(vdev, (uint32_t)off, size, val);
}

static int mmio_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct virtio_mmio *t = dev;
	if (off < REG_CONFIG && (size != 4 || off % 4))
		return -1; /* registers are 32-bit only */
	if (!t->vdev)
		return 0;
	bool driver_ok = false;
	int kick = -1;
	pthread_mutex_lock(&t->lock);
	if (off >= REG_CONFIG)
		config_write(t, off - REG_CONFIG, size, val);
	else
		kick = reg_write(t, off, (uint32_t)val, &driver_ok);
	pthread_mutex_unlock(&t->lock);
	if (driver_ok && t->vdev->ops->driver_ok)
		t->vdev->ops->driver_ok(t->vdev);
	if (kick >= 0)
		t->vdev->ops->queue_notify(t->vdev, (unsigned)kick);
	return 0;
}

const struct mmio_ops virtio_mmio_ops = {.read = mmio_read, .write = mmio_write};

/* ---- Snapshots ---------------------------------------------------------------- */

void virtio_mmio_freeze(struct virtio_mmio *t)
{
	if (!t->vdev)
		return;
	for (unsigned i = 0; i < t->vdev->num_queues; i++)
		virtq_freeze(&t->vdev->vq[i]);
}

void virtio_mmio_kick_all(struct virtio_mmio *t)
{
	struct virtio_device *vdev = t->vdev;
	if (!vdev || !atomic_load(&vdev->driver_ok))
		return;
	/* Buffers made available meanwhile (or held back by a backend) get looked at. */
	for (unsigned i = 0; i < vdev->num_queues; i++) {
		pthread_mutex_lock(&t->lock);
		bool ready = t->q[i].ready;
		pthread_mutex_unlock(&t->lock);
		if (ready)
			vdev->ops->queue_notify(vdev, i);
	}
}

void virtio_mmio_thaw(struct virtio_mmio *t)
{
	if (!t->vdev)
		return;
	for (unsigned i = 0; i < t->vdev->num_queues; i++)
		virtq_thaw(&t->vdev->vq[i]);
	virtio_mmio_kick_all(t);
}

void virtio_mmio_save(struct virtio_mmio *t, struct virtio_mmio_state *st)
{
	_Static_assert(VIRTIO_MMIO_STATE_QUEUES == VIRTIO_MAX_QUEUES, "queue count");
	memset(st, 0, sizeof(*st));
	if (!t->vdev)
		return;
	struct virtio_device *vdev = t->vdev;
	pthread_mutex_lock(&t->lock);
	st->device_id = vdev->device_id;
	st->num_queues = vdev->num_queues;
	st->dev_features_sel = t->dev_features_sel;
	st->drv_features_sel = t->drv_features_sel;
	st->queue_sel = t->queue_sel;
	st->status = t->status;
	st->drv_features = t->drv_features;
	st->driver_features = atomic_load(&vdev->driver_features);
	st->config_generation = atomic_load(&t->config_generation);
	st->needs_reset = atomic_load(&t->needs_reset);
	st->driver_ok = atomic_load(&vdev->driver_ok);
	for (unsigned i = 0; i < vdev->num_queues; i++) {
		struct virtio_mmio_queue_state *q = &st->q[i];
		q->desc = t->q[i].desc;
		q->driver = t->q[i].driver;
		q->device = t->q[i].device;
		q->num = t->q[i].num;
		q->ready = t->q[i].ready;
		virtq_save(&vdev->vq[i], &q->vq);
	}
	pthread_mutex_unlock(&t->lock);
	st->isr = isr_read(t);
}

static int mmio_load_check(struct virtio_mmio *t, const struct virtio_mmio_state *st,
			   struct verr *err)
{
	struct virtio_device *vdev = t->vdev;
	uint32_t id = vdev ? vdev->device_id : 0;
	if (st->device_id != id)
		return verr_set(err, EINVAL, "virtio: saved device %u, this slot has device %u",
				st->device_id, id);
	if (!vdev)
		return 0;
	if (st->num_queues != vdev->num_queues)
		return verr_set(err, EINVAL, "virtio: saved %u queues, the device has %u",
				st->num_queues, vdev->num_queues);
	if (st->status & ~(0xffu & ~VIRTIO_STATUS_NEEDS_RESET))
		return verr_set(err, EINVAL, "virtio: bad status");
	if (st->drv_features & ~offered_features(vdev) ||
	    (st->driver_features && st->driver_features != st->drv_features) ||
	    (!!(st->status & VIRTIO_STATUS_FEATURES_OK) != !!st->driver_features))
		return verr_set(err, EINVAL, "virtio: features the device does not offer");
	if (st->needs_reset > 1 || st->driver_ok > 1 || st->isr & ~3u ||
	    st->driver_ok != !!(st->status & VIRTIO_STATUS_DRIVER_OK))
		return verr_set(err, EINVAL, "virtio: bad device state");
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		if (st->q[i].ready > 1 || (i >= vdev->num_queues && st->q[i].ready))
			return verr_set(err, EINVAL, "virtio: bad state of queue %u", i);
	return 0;
}

int virtio_mmio_load(struct virtio_mmio *t, const struct virtio_mmio_state *st, struct verr *err)
{
	int r = mmio_load_check(t, st, err);
	if (r || !t->vdev)
		return r;
	struct virtio_device *vdev = t->vdev;
	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < vdev->num_queues && !r; i++) {
		const struct virtio_mmio_queue_state *q = &st->q[i];
		t->q[i] = (struct mmio_queue){
		    .num = q->num, .desc = q->desc, .driver = q->driver, .device = q->device};
		if (!q->ready)
			continue;
		r = virtq_load(&vdev->vq[i], t->mem, q->num, vdev->queue_max[i], q->desc, q->driver,
			       q->device, st->drv_features, &q->vq);
		if (r)
			r = verr_set(err, EINVAL, "virtio: queue %u: bad size or ring address", i);
		else
			t->q[i].ready = true;
	}
	if (!r) {
		t->dev_features_sel = st->dev_features_sel;
		t->drv_features_sel = st->drv_features_sel;
		t->queue_sel = st->queue_sel;
		t->status = st->status;
		t->drv_features = st->drv_features;
		atomic_store(&vdev->driver_features, st->driver_features);
		atomic_store(&t->config_generation, st->config_generation);
		atomic_store(&t->needs_reset, st->needs_reset);
		atomic_store(&vdev->driver_ok, st->driver_ok);
	}
	pthread_mutex_unlock(&t->lock);
	if (!r)
		irq_update_bits(t, st->isr, ~st->isr);
	return r;
}
