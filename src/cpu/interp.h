/* SPDX-License-Identifier: MIT */
#ifndef VESSEL_CPU_INTERP_H
#define VESSEL_CPU_INTERP_H

#include "cpu/hart.h"

/* Publish the handler table (cpu_op_labels); call once before decoding. */
void interp_init(void);

/* Run the hart until a stop is requested (PENDING_STOP). */
void interp_run(struct hart *h);

/* Sleep in wfi until an interrupt is pending in mie, or a stop request (cpu.c). */
void hart_wfi(struct hart *h);

#endif
