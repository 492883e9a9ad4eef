/* SPDX-License-Identifier: MIT */
/* Control and status registers (Zicsr, privileged spec 1.12). */
#ifndef VESSEL_CPU_CSR_H
#define VESSEL_CPU_CSR_H

#include <stdbool.h>

#include "cpu/hart.h"

/*
 * One CSR instruction's access: read the old value (unless !do_read) and,
 * if do_write, write 'val' (already combined for set/clear forms by the
 * caller through csr_op).  Returns 0, or -1 for an illegal instruction.
 */
enum csr_op_kind { CSR_OP_WRITE, CSR_OP_SET, CSR_OP_CLEAR };
int csr_op(struct hart *h, unsigned csr, enum csr_op_kind kind, uint64_t operand, bool do_read,
	   bool do_write, uint64_t *old);

/* Initial values at reset. */
void csr_reset(struct hart *h);

#endif
