/* SPDX-License-Identifier: MIT */
/* Instruction decoding: raw RV64GC bits to the pre-decoded form. */
#ifndef VESSEL_CPU_DECODE_H
#define VESSEL_CPU_DECODE_H

#include <stdint.h>

#include "cpu/ops.h"

struct decoded {
	enum cpu_op op;
	int32_t imm; /* for ILLEGAL: the raw instruction bits (for mtval) */
	uint8_t rd, rs1, rs2, rs3, rm;
	uint8_t len;	    /* 2 or 4 */
	uint8_t ends_block; /* control transfer or state change: the block stops after it */
};

/* Length in bytes of the instruction whose low 16 bits are 'lo'. */
static inline unsigned insn_length(uint16_t lo)
{
	return (lo & 3) == 3 ? 4 : 2;
}

/* Decode one instruction (compressed ones in the low 16 bits of 'raw'). */
void decode_insn(uint32_t raw, struct decoded *d);

#endif
