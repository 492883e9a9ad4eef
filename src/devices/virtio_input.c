/* SPDX-License-Identifier: MIT */
#include "devices/virtio_input.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio.h"
#include "util/log.h"

#define VIRTIO_ID_INPUT 18

#define EVENTQ	   0
#define STATUSQ	   1
#define QUEUE_SIZE 64

/* Config selectors (section 5.8.4). */
#define CFG_UNSET     0x00
#define CFG_ID_NAME   0x01
#define CFG_ID_SERIAL 0x02
#define CFG_ID_DEVIDS 0x03
#define CFG_PROP_BITS 0x10
#define CFG_EV_BITS   0x11
#define CFG_ABS_INFO  0x12

/* struct virtio_input_config: select, subsel, size, reserved[5], then a 128-byte union. */
#define CFG_SELECT   0
#define CFG_SUBSEL   1
#define CFG_SIZE_OFF 2
#define CFG_U	     8
#define CFG_U_SIZE   128
#define CFG_TOTAL    (CFG_U + CFG_U_SIZE)

#define EVENT_SIZE  8 /* struct virtio_input_event: le16 type, le16 code, le32 value */
#define PENDING_MAX 16
#define SYN_REPORT  0
#define BUS_VIRTUAL 0x06
#define DEVIDS_SIZE 8

struct input_event_le {
	uint16_t type, code;
	uint32_t value;
};

struct virtio_input {
	struct virtio_device vdev; /* first */
	uint8_t config[CFG_TOTAL];
	pthread_mutex_t lock; /* the pending events */
	struct input_event_le pending[PENDING_MAX];
	unsigned head, count;
	_Atomic uint64_t delivered;
};

static struct virtio_input *to_input(struct virtio_device *vdev)
{
	return (struct virtio_input *)vdev;
}

/* Fill the union for the driver's select/subsel (called under the transport lock). */
static void input_config_select(struct virtio_input *in)
{
	uint8_t sel = in->config[CFG_SELECT], sub = in->config[CFG_SUBSEL];
	uint8_t *u = in->config + CFG_U;
	uint8_t size = 0;
	memset(u, 0, CFG_U_SIZE);
	switch (sel) {
	case CFG_ID_NAME:
		if (sub == 0) {
			size = (uint8_t)strlen(VIRTIO_INPUT_POWER_BUTTON_NAME);
			memcpy(u, VIRTIO_INPUT_POWER_BUTTON_NAME, size);
		}
		break;
	case CFG_ID_SERIAL:
		if (sub == 0) {
			size = 6;
			memcpy(u, "vessel", size);
		}
		break;
	case CFG_ID_DEVIDS:
		if (sub == 0) {
			virtio_cfg_put16(u, BUS_VIRTUAL);
			virtio_cfg_put16(u + 2, 0x1af4); /* the virtio vendor */
			virtio_cfg_put16(u + 4, 0x0001);
			virtio_cfg_put16(u + 6, 0x0001);
			size = DEVIDS_SIZE;
		}
		break;
	case CFG_EV_BITS:
		/* One key; the bitmap is as long as it needs to be. */
		if (sub == VIRTIO_INPUT_EV_KEY) {
			u[VIRTIO_INPUT_KEY_POWER / 8] = 1u << (VIRTIO_INPUT_KEY_POWER % 8);
			size = VIRTIO_INPUT_KEY_POWER / 8 + 1;
		} else if (sub == VIRTIO_INPUT_EV_MSC) {
			/* The messages of virtio_input_send_message(). */
			u[0] = 1u << VIRTIO_INPUT_MSC_RAW | 1u << VIRTIO_INPUT_MSC_SCAN;
			size = 1;
		}
		break;
	default: /* UNSET, PROP_BITS (none), ABS_INFO (no axes), anything unknown */
		break;
	}
	in->config[CFG_SIZE_OFF] = size;
}

static void input_config_write(struct virtio_device *vdev, uint32_t off, unsigned size,
			       uint64_t val)
{
	struct virtio_input *in = to_input(vdev);
	/* Only select and subsel are writable; the rest is the device's. */
	for (unsigned i = 0; i < size; i++, off++, val >>= 8)
		if (off == CFG_SELECT || off == CFG_SUBSEL)
			in->config[off] = (uint8_t)val;
	input_config_select(in);
}

/* Hand waiting events to the driver's buffers, oldest first. */
static void input_flush(struct virtio_input *in)
{
	struct virtq *q = &in->vdev.vq[EVENTQ];
	bool pushed = false;
	pthread_mutex_lock(&in->lock);
	while (in->count && atomic_load(&in->vdev.driver_ok)) {
		struct virtq_elem *e;
		if (virtq_pop(q, &e) <= 0)
			break;
		const struct input_event_le *ev = &in->pending[in->head];
		uint8_t raw[EVENT_SIZE];
		virtio_cfg_put16(raw, ev->type);
		virtio_cfg_put16(raw + 2, ev->code);
		virtio_cfg_put32(raw + 4, ev->value);
		/* A buffer too small for an event is the driver's loss: it comes back empty. */
		uint32_t len =
		    e->in_len >= EVENT_SIZE ? (uint32_t)virtq_elem_write(e, 0, raw, EVENT_SIZE) : 0;
		virtq_push(q, e, len);
		pushed = true;
		in->head = (in->head + 1) % PENDING_MAX;
		in->count--;
		if (ev->type == VIRTIO_INPUT_EV_KEY && ev->value == 1)
			atomic_fetch_add(&in->delivered, 1);
	}
	pthread_mutex_unlock(&in->lock);
	if (pushed && virtq_should_notify(q))
		virtio_irq_used(&in->vdev);
}

/* The status queue carries LED and similar feedback we have no use for. */
static void input_drain_status(struct virtio_input *in)
{
	struct virtq *q = &in->vdev.vq[STATUSQ];
	struct virtq_elem *e;
	while (virtq_pop(q, &e) > 0)
		virtq_complete(q, e, 0);
}

static void input_notify(struct virtio_device *vdev, unsigned qi)
{
	struct virtio_input *in = to_input(vdev);
	if (qi == EVENTQ)
		input_flush(in);
	else
		input_drain_status(in);
}

static void input_driver_ok(struct virtio_device *vdev)
{
	input_flush(to_input(vdev));
}

/* A reset forgets undelivered events: they were meant for the old driver. */
static void input_reset(struct virtio_device *vdev)
{
	struct virtio_input *in = to_input(vdev);
	pthread_mutex_lock(&in->lock);
	in->head = in->count = 0;
	pthread_mutex_unlock(&in->lock);
	memset(in->config, 0, sizeof(in->config));
}

static void input_destroy(struct virtio_device *vdev)
{
	pthread_mutex_destroy(&to_input(vdev)->lock);
}

static const struct virtio_device_ops input_ops = {
    .queue_notify = input_notify,
    .config_write = input_config_write,
    .driver_ok = input_driver_ok,
    .reset = input_reset,
    .destroy = input_destroy,
};

struct virtio_device *virtio_input_power_button_create(void)
{
	struct virtio_input *in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	virtio_device_init(&in->vdev, VIRTIO_ID_INPUT, 2, QUEUE_SIZE, &input_ops);
	in->vdev.config = in->config;
	in->vdev.config_size = CFG_TOTAL;
	pthread_mutex_init(&in->lock, NULL);
	atomic_init(&in->delivered, 0);
	return &in->vdev;
}

int virtio_input_power_button_press(struct virtio_device *vdev)
{
	struct virtio_input *in = to_input(vdev);
	static const struct input_event_le press[4] = {
	    {VIRTIO_INPUT_EV_KEY, VIRTIO_INPUT_KEY_POWER, 1},
	    {VIRTIO_INPUT_EV_SYN, SYN_REPORT, 0},
	    {VIRTIO_INPUT_EV_KEY, VIRTIO_INPUT_KEY_POWER, 0},
	    {VIRTIO_INPUT_EV_SYN, SYN_REPORT, 0},
	};
	pthread_mutex_lock(&in->lock);
	bool room = in->count + 4 <= PENDING_MAX;
	for (unsigned i = 0; room && i < 4; i++)
		in->pending[(in->head + in->count++) % PENDING_MAX] = press[i];
	pthread_mutex_unlock(&in->lock);
	if (!room)
		return -ENOSPC;
	input_flush(in);
	return 0;
}

int virtio_input_send_message(struct virtio_device *vdev, uint32_t header, const uint8_t *data,
			      unsigned len)
{
	struct virtio_input *in = to_input(vdev);
	struct input_event_le ev[2 + VIRTIO_INPUT_MSG_MAX / 4];
	if (len > VIRTIO_INPUT_MSG_MAX)
		return -EINVAL;
	unsigned n = 0;
	ev[n++] = (struct input_event_le){VIRTIO_INPUT_EV_MSC, VIRTIO_INPUT_MSC_SCAN, header};
	for (unsigned i = 0; i < len; i += 4) {
		uint32_t v = 0;
		for (unsigned k = 0; k < 4 && i + k < len; k++)
			v |= (uint32_t)data[i + k] << (8 * k);
		ev[n++] = (struct input_event_le){VIRTIO_INPUT_EV_MSC, VIRTIO_INPUT_MSC_RAW, v};
	}
	ev[n++] = (struct input_event_le){VIRTIO_INPUT_EV_SYN, SYN_REPORT, 0};
	pthread_mutex_lock(&in->lock);
	bool room = in->count + n <= PENDING_MAX;
	for (unsigned i = 0; room && i < n; i++)
		in->pending[(in->head + in->count++) % PENDING_MAX] = ev[i];
	pthread_mutex_unlock(&in->lock);
	if (!room)
		return -ENOSPC;
	input_flush(in);
	return 0;
}

uint64_t virtio_input_events_delivered(struct virtio_device *vdev)
{
	return atomic_load(&to_input(vdev)->delivered);
}

void virtio_input_save(struct virtio_device *vdev, struct virtio_input_state *st)
{
	_Static_assert(VIRTIO_INPUT_STATE_EVENTS == PENDING_MAX, "pending events");
	struct virtio_input *in = to_input(vdev);
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&in->lock);
	st->select = in->config[CFG_SELECT];
	st->subsel = in->config[CFG_SUBSEL];
	st->head = (uint8_t)in->head;
	st->count = (uint8_t)in->count;
	for (unsigned i = 0; i < PENDING_MAX; i++) {
		st->pending[i].type = in->pending[i].type;
		st->pending[i].code = in->pending[i].code;
		st->pending[i].value = in->pending[i].value;
	}
	pthread_mutex_unlock(&in->lock);
}

int virtio_input_load(struct virtio_device *vdev, const struct virtio_input_state *st,
		      struct verr *err)
{
	struct virtio_input *in = to_input(vdev);
	if (st->head >= PENDING_MAX || st->count > PENDING_MAX)
		return verr_set(err, EINVAL, "virtio-input: bad event queue");
	pthread_mutex_lock(&in->lock);
	in->head = st->head;
	in->count = st->count;
	for (unsigned i = 0; i < PENDING_MAX; i++)
		in->pending[i] = (struct input_event_le){st->pending[i].type, st->pending[i].code,
							 st->pending[i].value};
	pthread_mutex_unlock(&in->lock);
	/* The union follows the selector, as after the driver's own writes. */
	input_config_write(vdev, CFG_SELECT, 2, (uint64_t)st->subsel << 8 | st->select);
	return 0;
}
