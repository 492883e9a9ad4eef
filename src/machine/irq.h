/* SPDX-License-Identifier: MIT */
/*
 * Interrupt lines from devices to an interrupt controller (the PLIC), and
 * the port through which interrupt controllers reach a hart.  Devices hold an
 * irq_line and never see the controller or the CPU engine behind it.
 */
#ifndef VESSEL_MACHINE_IRQ_H
#define VESSEL_MACHINE_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct irq_chip {
	void (*set_level)(struct irq_chip *chip, unsigned line, bool level);
};

struct irq_line {
	struct irq_chip *chip;
	unsigned line; /* the source number the guest sees in the device tree */
};

static inline void irq_set(const struct irq_line *l, bool level)
{
	if (l->chip)
		l->chip->set_level(l->chip, l->line, level);
}

/* Bits of the RISC-V mip register that controllers drive. */
#define MIP_SSIP (1u << 1)
#define MIP_MSIP (1u << 3)
#define MIP_STIP (1u << 5)
#define MIP_MTIP (1u << 7)
#define MIP_SEIP (1u << 9)
#define MIP_MEIP (1u << 11)

/*
 * A hart as interrupt controllers see it, whatever engine runs it.  All
 * functions may be called from any thread.
 */
struct hart_port {
	void *hart;
	/* Raise or lower the given mip bits, waking the hart if it sleeps in wfi. */
	void (*set_pending)(void *hart, uint32_t mip_bits, bool level);
	/* The hart's machine timer compare value (ACLINT mtimecmp). */
	void (*set_mtimecmp)(void *hart, uint64_t value);
	uint64_t (*get_mtimecmp)(void *hart);
};

#endif
