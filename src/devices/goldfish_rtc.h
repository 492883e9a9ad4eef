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

#endif
