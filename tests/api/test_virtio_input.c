/* SPDX-License-Identifier: MIT */
/*
 * The virtio-input power button through the fake driver of tests/virtio:
 * device ID and config space (name, serial, ids, the one-key EV_KEY bitmap,
 * empty answers for everything else, read-only fields), a press delivered as
 * press/SYN/release/SYN into the event queue (before and after the driver
 * posts buffers), a bounded backlog, too-small buffers, the status queue,
 * and reset dropping undelivered events.
 */
#include <errno.h>
#include <string.h>

#include "devices/virtio_input.h"
#include "vdrv.h"

#define F_STD	 (1ull << VIRTIO_F_VERSION_1)
#define REG_ID	 0x008
#define CFG	 0x100
#define EVENTQ	 0
#define STATUSQ	 1
#define EV_BYTES 8

static void cfg_select(struct vdrv *d, uint8_t sel, uint8_t sub)
{
	CHECK(vd_wr_raw(d, CFG + 0, 1, sel) == 0);
	CHECK(vd_wr_raw(d, CFG + 1, 1, sub) == 0);
}

static void test_config(void)
{
	struct vdrv d;
	vd_open(&d, virtio_input_power_button_create());
	CHECK(vd_rd(&d, REG_ID) == 18);
	CHECK(vd_negotiate(&d, F_STD) & F_STD);

	cfg_select(&d, 0x01, 0); /* ID_NAME */
	const char *name = VIRTIO_INPUT_POWER_BUTTON_NAME;
	CHECK(vd_cfg8(&d, 2) == strlen(name));
	for (size_t i = 0; i < strlen(name); i++)
		CHECK(vd_cfg8(&d, 8 + (unsigned)i) == (uint8_t)name[i]);
	cfg_select(&d, 0x02, 0); /* ID_SERIAL */
	CHECK(vd_cfg8(&d, 2) > 0);
	cfg_select(&d, 0x03, 0); /* ID_DEVIDS: bustype BUS_VIRTUAL */
	CHECK(vd_cfg8(&d, 2) == 8 && vd_cfg8(&d, 8) == 0x06 && vd_cfg8(&d, 9) == 0);

	cfg_select(&d, 0x11, VIRTIO_INPUT_EV_KEY); /* EV_BITS for EV_KEY: KEY_POWER only */
	unsigned size = vd_cfg8(&d, 2);
	CHECK(size == VIRTIO_INPUT_KEY_POWER / 8 + 1);
	for (unsigned i = 0; i < 128; i++) {
		uint8_t want =
		    i == VIRTIO_INPUT_KEY_POWER / 8 ? 1u << (VIRTIO_INPUT_KEY_POWER % 8) : 0;
		CHECK(vd_cfg8(&d, 8 + i) == want);
	}
	/* Nothing else: other event types, properties, axes, unknown selectors. */
	static const uint8_t empty[][2] = {{0x11, 0x02}, {0x11, 0x03}, {0x11, 0x00}, {0x10, 0},
					   {0x12, 0x00}, {0x00, 0},    {0x7f, 9},    {0x01, 1}};
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		cfg_select(&d, empty[i][0], empty[i][1]);
		CHECK(vd_cfg8(&d, 2) == 0);
		CHECK(vd_cfg8(&d, 8) == 0 && vd_cfg8(&d, 8 + 14) == 0);
	}
	/* Only select and subsel are writable. */
	cfg_select(&d, 0x01, 0);
	CHECK(vd_wr_raw(&d, CFG + 2, 1, 99) == 0);
	CHECK(vd_wr_raw(&d, CFG + 8, 4, 0x41414141) == 0);
	CHECK(vd_cfg8(&d, 2) == strlen(name) && vd_cfg8(&d, 8) == (uint8_t)name[0]);
	/* Past the end of config space. */
	uint64_t v;
	vd_rd_raw(&d, CFG + 136, 1, &v);
	vd_close(&d);
}

struct ev {
	uint16_t type, code;
	uint32_t value;
};

/* Post 'n' event buffers of 'len' bytes; returns the gpa of the first. */
static uint64_t post_buffers(struct vdrv *d, unsigned n, uint32_t len)
{
	uint64_t base = vd_alloc(d, (uint64_t)n * 8, 8);
	for (unsigned i = 0; i < n; i++) {
		struct vbuf b = {base + i * 8ull, len, true};
		memset(vd_ptr(d, b.gpa), 0xee, 8);
		vd_submit(d, EVENTQ, &b, 1);
	}
	return base;
}

/* Take the next used event buffer; false on timeout. */
static bool next_event(struct vdrv *d, uint64_t base, struct ev *e, uint32_t *len)
{
	uint32_t id;
	if (!vd_wait_used(d, EVENTQ, &id, len, 1000))
		return false;
	uint8_t *p = vd_ptr(d, base + id * 8ull); /* descriptors map 1:1 to buffers */
	e->type = (uint16_t)(p[0] | p[1] << 8);
	e->code = (uint16_t)(p[2] | p[3] << 8);
	e->value = (uint32_t)(p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24);
	return true;
}

static void expect_press(struct vdrv *d, uint64_t base)
{
	static const struct ev want[4] = {{VIRTIO_INPUT_EV_KEY, VIRTIO_INPUT_KEY_POWER, 1},
					  {VIRTIO_INPUT_EV_SYN, 0, 0},
					  {VIRTIO_INPUT_EV_KEY, VIRTIO_INPUT_KEY_POWER, 0},
					  {VIRTIO_INPUT_EV_SYN, 0, 0}};
	for (int i = 0; i < 4; i++) {
		struct ev e = {0};
		uint32_t len = 0;
		CHECK(next_event(d, base, &e, &len));
		CHECK(len == EV_BYTES);
		CHECK(e.type == want[i].type && e.code == want[i].code && e.value == want[i].value);
	}
}

static void start_driver(struct vdrv *d)
{
	CHECK(vd_negotiate(d, F_STD) & F_STD);
	CHECK(vd_queue_setup(d, EVENTQ, 64));
	CHECK(vd_queue_setup(d, STATUSQ, 8));
}

static void test_events(void)
{
	struct vdrv d;
	struct virtio_device *dev = virtio_input_power_button_create();
	vd_open(&d, dev);
	start_driver(&d);
	vd_driver_ok(&d);

	/* Buffers first, then a press. */
	uint64_t base = post_buffers(&d, 64, 8);
	CHECK(virtio_input_power_button_press(dev) == 0);
	expect_press(&d, base);
	CHECK(virtio_input_events_delivered(dev) == 1);
	CHECK(vd_irq_rises(&d) >= 1);

	/* Status queue: LED feedback is taken and returned. */
	uint64_t st = vd_alloc(&d, 8, 8);
	struct vbuf sb = {st, 8, false};
	vd_submit(&d, STATUSQ, &sb, 1);
	uint32_t len = 1;
	CHECK(vd_wait_used(&d, STATUSQ, NULL, &len, 1000) && len == 0);
	vd_close(&d);
}

static void test_backlog(void)
{
	struct vdrv d;
	struct virtio_device *dev = virtio_input_power_button_create();
	vd_open(&d, dev);
	start_driver(&d);
	vd_driver_ok(&d);
	/* No buffers: presses wait, four at most. */
	for (int i = 0; i < 4; i++)
		CHECK(virtio_input_power_button_press(dev) == 0);
	CHECK(virtio_input_power_button_press(dev) == -ENOSPC);
	CHECK(vd_used_pending(&d, EVENTQ) == 0);
	/* Buffers arrive: the waiting presses go out, in order. */
	uint64_t base = post_buffers(&d, 16, 8);
	for (int i = 0; i < 4; i++)
		expect_press(&d, base);
	CHECK(virtio_input_events_delivered(dev) == 4);
	CHECK(vd_used_pending(&d, EVENTQ) == 0);
	vd_close(&d);
}

static void test_small_buffer_and_reset(void)
{
	struct vdrv d;
	struct virtio_device *dev = virtio_input_power_button_create();
	vd_open(&d, dev);
	/* A press before DRIVER_OK waits for it... */
	start_driver(&d);
	CHECK(virtio_input_power_button_press(dev) == 0);
	uint64_t base = post_buffers(&d, 1, 4);	 /* too small for an event */
	CHECK(vd_used_pending(&d, EVENTQ) == 0); /* not before DRIVER_OK */
	vd_driver_ok(&d);
	struct ev e = {0};
	uint32_t len = 99;
	CHECK(next_event(&d, base, &e, &len));
	CHECK(len == 0); /* returned empty: that event is lost, not the device */
	/* ...but a reset forgets what was not delivered. */
	CHECK(virtio_input_power_button_press(dev) == 0);
	start_driver(&d); /* vd_negotiate resets the device */
	vd_driver_ok(&d);
	base = post_buffers(&d, 8, 8);
	CHECK(vd_wait_used(&d, EVENTQ, NULL, NULL, 100) == 0);
	CHECK(!vd_needs_reset(&d));
	CHECK(virtio_input_power_button_press(dev) == 0);
	expect_press(&d, base);
	vd_close(&d);
}

int main(void)
{
	test_config();
	test_events();
	test_backlog();
	test_small_buffer_and_reset();
	if (vd_failures) {
		fprintf(stderr, "%d checks failed\n", vd_failures);
		return 1;
	}
	printf("virtio-input: all checks passed\n");
	return 0;
}
