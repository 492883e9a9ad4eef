/* SPDX-License-Identifier: MIT */
/*
 * The SiFive test device (QEMU's "sifive,test0"): the guest writes 0x5555 to
 * power off, 0x7777 to reboot, or (code << 16) | 0x3333 to report failure.
 * Linux reaches it through syscon-poweroff and syscon-reboot.
 */
#ifndef VESSEL_DEVICES_SIFIVE_TEST_H
#define VESSEL_DEVICES_SIFIVE_TEST_H

#include "machine/bus.h"

#define SIFIVE_TEST_SIZE 0x1000

enum sifive_test_event {
	SIFIVE_TEST_POWEROFF,
	SIFIVE_TEST_REBOOT,
	SIFIVE_TEST_FAIL,
};

struct sifive_test_host {
	void *opaque;
	/* Called on the writing hart's thread; 'code' is set for SIFIVE_TEST_FAIL. */
	void (*event)(void *opaque, enum sifive_test_event ev, unsigned code);
};

struct sifive_test;

struct sifive_test *sifive_test_create(const struct sifive_test_host *host);
void sifive_test_destroy(struct sifive_test *t);

extern const struct mmio_ops sifive_test_ops;

#endif
