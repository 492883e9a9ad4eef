/* SPDX-License-Identifier: MIT */
/*
 * The identity messages of a restored VM on the wire (suite 'unit'): the
 * power button's config space offers EV_MSC with MSC_SCAN and MSC_RAW, and
 * virtio_input_send_message() delivers MSC_SCAN(header), the bytes as
 * MSC_RAW words (least significant byte first, the last one zero-padded),
 * then SYN_REPORT, through the fake driver of tests/virtio; a message over
 * VIRTIO_INPUT_MSG_MAX bytes is refused, one that does not fit the backlog
 * is dropped whole.  docs/snapshot.md, "Clone identity".
 */
#include <errno.h>
#include <string.h>

#include "api/identity.h"
#include "devices/virtio_input.h"
#include "vdrv.h"

#define F_STD  (1ull << VIRTIO_F_VERSION_1)
#define CFG    0x100
#define EVENTQ 0

static uint64_t post_buffers(struct vdrv *d, unsigned n)
{
	uint64_t base = vd_alloc(d, (uint64_t)n * 8, 8);
	for (unsigned i = 0; i < n; i++) {
		struct vbuf b = {base + i * 8ull, 8, true};
		vd_submit(d, EVENTQ, &b, 1);
	}
	return base;
}

/* The next event must be (type, code, value). */
static void expect(struct vdrv *d, uint64_t base, uint16_t type, uint16_t code, uint32_t value)
{
	uint32_t id, len = 0;
	CHECK(vd_wait_used(d, EVENTQ, &id, &len, 1000));
	CHECK(len == 8);
	uint8_t *p = vd_ptr(d, base + id * 8ull);
	CHECK((uint16_t)(p[0] | p[1] << 8) == type);
	CHECK((uint16_t)(p[2] | p[3] << 8) == code);
	CHECK((uint32_t)(p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24) == value);
}

int main(void)
{
	struct vdrv d;
	struct virtio_device *dev = virtio_input_power_button_create();
	vd_open(&d, dev);
	CHECK(vd_negotiate(&d, F_STD) & F_STD);
	CHECK(vd_queue_setup(&d, EVENTQ, 64));
	CHECK(vd_queue_setup(&d, 1, 8));
	vd_driver_ok(&d);

	/* EV_BITS for EV_MSC: MSC_RAW and MSC_SCAN. */
	CHECK(vd_wr_raw(&d, CFG + 0, 1, 0x11) == 0);
	CHECK(vd_wr_raw(&d, CFG + 1, 1, VIRTIO_INPUT_EV_MSC) == 0);
	CHECK(vd_cfg8(&d, 2) == 1);
	CHECK(vd_cfg8(&d, 8) == (1u << VIRTIO_INPUT_MSC_RAW | 1u << VIRTIO_INPUT_MSC_SCAN));

	/* A MAC message: 6 bytes in two words, the second zero-padded. */
	uint64_t base = post_buffers(&d, 32);
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
	CHECK(virtio_input_send_message(dev, IDENTITY_KIND_MAC << 16 | 1, mac, 6) == 0);
	expect(&d, base, VIRTIO_INPUT_EV_MSC, VIRTIO_INPUT_MSC_SCAN, 0x564d0001);
	expect(&d, base, VIRTIO_INPUT_EV_MSC, VIRTIO_INPUT_MSC_RAW, 0xab005452);
	expect(&d, base, VIRTIO_INPUT_EV_MSC, VIRTIO_INPUT_MSC_RAW, 0x0000efcd);
	expect(&d, base, VIRTIO_INPUT_EV_SYN, 0, 0);

	/* A seed of the most bytes one message carries: six words. */
	uint8_t seed[VIRTIO_INPUT_MSG_MAX];
	for (unsigned i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i + 1);
	CHECK(virtio_input_send_message(dev, IDENTITY_KIND_SEED << 16 | sizeof(seed), seed,
					sizeof(seed)) == 0);
	expect(&d, base, VIRTIO_INPUT_EV_MSC, VIRTIO_INPUT_MSC_SCAN, 0x56530000 | sizeof(seed));
	for (unsigned w = 0; w < sizeof(seed) / 4; w++)
		expect(&d, base, VIRTIO_INPUT_EV_MSC, VIRTIO_INPUT_MSC_RAW,
		       (uint32_t)seed[4 * w] | (uint32_t)seed[4 * w + 1] << 8 |
			   (uint32_t)seed[4 * w + 2] << 16 | (uint32_t)seed[4 * w + 3] << 24);
	expect(&d, base, VIRTIO_INPUT_EV_SYN, 0, 0);
	CHECK(virtio_input_send_message(dev, 0, seed, sizeof(seed) + 1) == -EINVAL);
	CHECK(vd_used_pending(&d, EVENTQ) == 0);

	/* No buffers left: messages wait; one that does not fit the backlog is dropped whole. */
	vd_close(&d);
	dev = virtio_input_power_button_create();
	vd_open(&d, dev);
	CHECK(vd_negotiate(&d, F_STD) & F_STD);
	CHECK(vd_queue_setup(&d, EVENTQ, 64));
	CHECK(vd_queue_setup(&d, 1, 8));
	vd_driver_ok(&d);
	CHECK(virtio_input_send_message(dev, IDENTITY_KIND_SEED << 16 | 24, seed, 24) == 0);
	CHECK(virtio_input_send_message(dev, IDENTITY_KIND_MAC << 16, mac, 6) == 0);
	CHECK(virtio_input_send_message(dev, IDENTITY_KIND_MAC << 16 | 1, mac, 6) == 0);
	CHECK(virtio_input_send_message(dev, IDENTITY_KIND_MAC << 16 | 2, mac, 6) == -ENOSPC);
	base = post_buffers(&d, 32);
	expect(&d, base, VIRTIO_INPUT_EV_MSC, VIRTIO_INPUT_MSC_SCAN, 0x56530018);
	for (unsigned i = 0; i < 7; i++) /* the rest of the seed message */
		CHECK(vd_wait_used(&d, EVENTQ, NULL, NULL, 1000));
	expect(&d, base, VIRTIO_INPUT_EV_MSC, VIRTIO_INPUT_MSC_SCAN, 0x564d0000);
	for (unsigned i = 0; i < 3; i++)
		CHECK(vd_wait_used(&d, EVENTQ, NULL, NULL, 1000));
	expect(&d, base, VIRTIO_INPUT_EV_MSC, VIRTIO_INPUT_MSC_SCAN, 0x564d0001);
	for (unsigned i = 0; i < 3; i++)
		CHECK(vd_wait_used(&d, EVENTQ, NULL, NULL, 1000));
	CHECK(vd_wait_used(&d, EVENTQ, NULL, NULL, 100) == 0); /* nothing of the dropped one */
	vd_close(&d);

	if (vd_failures) {
		fprintf(stderr, "%d checks failed\n", vd_failures);
		return 1;
	}
	printf("identity messages: all checks passed\n");
	return 0;
}
