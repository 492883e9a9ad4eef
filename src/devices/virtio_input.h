/* SPDX-License-Identifier: MIT */
/*
 * virtio-input (virtio 1.2, section 5.8) presenting one key: a power button
 * ("Vessel power button", EV_KEY with KEY_POWER).  The VMM presses it to ask
 * the guest for a clean shutdown; what the guest does with it is up to the
 * guest (the default guest powers off).  It also reports EV_MSC (MSC_SCAN,
 * MSC_RAW), which carry the VMM's messages to a guest agent.
 */
#ifndef VESSEL_DEVICES_VIRTIO_INPUT_H
#define VESSEL_DEVICES_VIRTIO_INPUT_H

#include <stdint.h>

struct virtio_device;

#define VIRTIO_INPUT_POWER_BUTTON_NAME "Vessel power button"

/* Linux input event codes used here (include/uapi/linux/input-event-codes.h). */
#define VIRTIO_INPUT_EV_SYN    0x00
#define VIRTIO_INPUT_EV_KEY    0x01
#define VIRTIO_INPUT_KEY_POWER 116
#define VIRTIO_INPUT_EV_MSC    0x04
#define VIRTIO_INPUT_MSC_RAW   0x03
#define VIRTIO_INPUT_MSC_SCAN  0x04

/* NULL when out of memory. */
struct virtio_device *virtio_input_power_button_create(void);

/*
 * Press and release the button (EV_KEY press, SYN, release, SYN); any thread.
 * The events wait in the device until the driver posts buffers for them;
 * at most a few presses are kept.  Returns 0, or -ENOSPC when they were
 * dropped because earlier ones are still waiting.
 */
int virtio_input_power_button_press(struct virtio_device *vdev);

/*
 * Send one message through the button's event queue (the VMM tells the
 * guest about a new identity after a restore, docs/snapshot.md): EV_MSC/
 * MSC_SCAN with value 'header', then 'len' bytes in EV_MSC/MSC_RAW events
 * of 4 (least significant byte first, the last one zero-padded), then
 * SYN_REPORT.  'len' is at most VIRTIO_INPUT_MSG_MAX: Linux's input core
 * cuts a longer packet.  All or nothing: -ENOSPC when the events waiting
 * leave no room, -EINVAL when 'len' is too long.
 */
#define VIRTIO_INPUT_MSG_MAX 24
int virtio_input_send_message(struct virtio_device *vdev, uint32_t header, const uint8_t *data,
			      unsigned len);

/* Presses delivered to the driver so far (for tests and metrics). */
uint64_t virtio_input_events_delivered(struct virtio_device *vdev);

/* Saved state (snapshots): the config selector and the events not yet delivered. */
#define VIRTIO_INPUT_DEVICE_ID	  18
#define VIRTIO_INPUT_STATE_EVENTS 16
struct virtio_input_state {
	uint8_t select, subsel, head, count;
	struct {
		uint16_t type, code;
		uint32_t value;
	} pending[VIRTIO_INPUT_STATE_EVENTS];
};
struct verr;
void virtio_input_save(struct virtio_device *vdev, struct virtio_input_state *st);
int virtio_input_load(struct virtio_device *vdev, const struct virtio_input_state *st,
		      struct verr *err);

#endif
