/* SPDX-License-Identifier: MIT */
/* State of one function's validation and translation (compile*.c). */
#ifndef VESSEL_WASM_COMPILE_H
#define VESSEL_WASM_COMPILE_H

#include "wasm/internal.h"

#define WASM_T_UNKNOWN 0 /* the bottom type of unreachable code */

/* Where an operand's value lives until it is needed (a register-style stack). */
enum ventry_kind {
	V_SLOT,	 /* in its canonical frame slot */
	V_LOCAL, /* still in local 'slot' (a deferred local.get) */
	V_CONST, /* the constant 'val' (a deferred const) */
};

struct ventry {
	uint8_t type;
	uint8_t kind;
	uint32_t slot;
	uint64_t val;
};

struct ctl {
	uint8_t op;	  /* 0x02 block, 0x03 loop, 0x04 if, 0x05 else, 0 function */
	bool unreachable; /* the rest of the frame is unreachable: its stack is polymorphic */
	bool dead;	  /* opened in unreachable code: nothing inside is emitted */
	bool loop_op;	  /* a loop whose loop instruction was emitted at 'start' */
	uint32_t height;  /* operand stack height at entry, params excluded */
	uint32_t np, nr;
	const enum wasm_valtype *params, *results;
	enum wasm_valtype single; /* storage for a one-result block type */
	size_t start;		  /* loop: cell index of its loop instruction */
	size_t patch;		  /* forward branches to the end: chain of offset cells + 1 */
	size_t else_patch;	  /* if: offset cell of the jump to else/end, + 1 */
	uint64_t ninstr;	  /* loop: instructions seen at entry (fuel cost) */
};

struct comp {
	const struct wasm_module *m;
	const void *const *labels;
	struct verr *err;
	struct wasm_reader r;

	uint32_t nlocals, nparams;
	uint8_t *local_types;

	struct ventry *vals;
	uint32_t nvals, max_vals, cap_vals;
	struct ctl *ctls;
	uint32_t nctls, cap_ctls;

	union wasm_cell *code;
	size_t ncode, cap_code;
	bool oom;

	/* the last instruction that wrote a slot, for fusing a following local.set or br_if */
	size_t last_start, last_end;
	enum wasm_iop last_op;
	/* the one before it, when the two are adjacent (for three-instruction patterns) */
	size_t prev_start, prev_end;
	enum wasm_iop prev_op;
	/* the last instruction, when a local.set or local.tee just retargeted it to a local (for
	 * fusing an access through that local) */
	size_t pre_start, pre_end;
	enum wasm_iop pre_op;
	/* a copy2..copy4 just emitted that one more move may join */
	size_t moves_start, moves_end;
	uint32_t moves_n;
	uint64_t ninstr;
};

int comp_fail(struct comp *c, const char *msg);
int comp_failf(struct comp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int comp_reader_check(struct comp *c);
bool comp_live(const struct comp *c);
size_t comp_emit(struct comp *c, enum wasm_iop op, size_t n);
void comp_emit_dax(struct comp *c, enum wasm_iop op, uint32_t d, uint32_t a, uint64_t x, size_t n);
void comp_forget_last(struct comp *c);
uint32_t comp_canon(const struct comp *c, uint32_t h);
int comp_push(struct comp *c, uint8_t type);
int comp_pop(struct comp *c, uint8_t expect, struct ventry *out);
uint32_t comp_operand(struct comp *c, struct ventry *e, uint32_t h);

/* compile_ops.c: numeric, memory, table and reference instructions. */
int comp_op_numeric(struct comp *c, uint8_t op);
int comp_op_memory(struct comp *c, uint8_t op);
int comp_op_ref(struct comp *c, uint8_t op);
int comp_op_table(struct comp *c, uint8_t op);
int comp_op_fc(struct comp *c);

#endif
