/* SPDX-License-Identifier: MIT */
/*
 * The Goldfish real-time clock (QEMU's virt board has one): nanoseconds
 * since the epoch from the host's CLOCK_REALTIME plus a guest-set offset, and
 * one alarm that raises its interrupt line.  A small thread waits for the
 * alarm so no hart has to.
 */
#ifndef VESSEL_DEVICES_GOLDFISH_RTC_H
#define VESSEL_DEVICES_GOLDFISH_RTC_H

#include "machine/bus.h"
#include "machine/irq.h"

#define GOLDFISH_RTC_SIZE 0x1000

struct goldfish_rtc;

struct goldfish_rtc *goldfish_rtc_create(struct irq_line irq);
void goldfish_rtc_destroy(struct goldfish_rtc *r);

extern const struct mmio_ops goldfish_rtc_ops;

/* Saved state (snapshots): the guest's offset from host wall time, and the alarm. */
struct goldfish_rtc_state {
	int64_t offset_ns;
	uint64_t alarm_ns;
	uint32_t time_high, alarm_high;
	uint8_t alarm_running, irq_enabled, irq_pending, pad[5];
};
struct verr;
void goldfish_rtc_save(struct goldfish_rtc *r, struct goldfish_rtc_state *st);
int goldfish_rtc_load(struct goldfish_rtc *r, const struct goldfish_rtc_state *st,
		      struct verr *err);

#endif
