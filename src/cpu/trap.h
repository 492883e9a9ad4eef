/* SPDX-License-Identifier: MIT */
/* Traps: exceptions, interrupts, xRET, and the mode-derived state they change. */
#ifndef VESSEL_CPU_TRAP_H
#define VESSEL_CPU_TRAP_H

#include "cpu/hart.h"

/* Take an exception at h->pc. */
void trap_raise(struct hart *h, uint64_t cause, uint64_t tval);

/* Take the highest-priority interrupt among 'bits' (pending and enabled). */
void trap_take_interrupt(struct hart *h, uint64_t bits);

void trap_mret(struct hart *h);
void trap_sret(struct hart *h);

/* Recompute what depends on priv, mstatus, mie and mideleg. */
void hart_update_mode(struct hart *h);

/* Set or clear bits of mip. */
void hart_set_pending(struct hart *h, uint64_t bits, bool level);

/* Compare the timebase with mtimecmp/stimecmp and update MTIP/STIP. */
void hart_check_timers(struct hart *h);

#endif
