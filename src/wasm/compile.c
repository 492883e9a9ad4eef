/* SPDX-License-Identifier: MIT */
/*
 * Function bodies: validation (the operand/control stack algorithm of the
 * spec's appendix) and translation to threaded code in the same pass.
 *
 * Every operand stack position h owns the frame slot nlocals + h, so each
 * instruction's operands and result are frame slots known here.  local.get
 * and constants are deferred (struct ventry) so that "local.get a; local.get
 * b; i32.add" reads the locals directly; a local.set after an instruction
 * retargets that instruction's result.  Deferred entries are made real
 * ("materialized") before control flow merges.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/compile.h"

int comp_fail(struct comp *c, const char *msg)
{
	if (!c->err->msg[0])
		verr_set(c->err, EINVAL, "%s", msg);
	return -EINVAL;
}

int comp_failf(struct comp *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return comp_fail(c, msg);
}

int comp_reader_check(struct comp *c)
{
	if (c->r.err)
		return comp_fail(c, c->r.err);
	return 0;
}

/* ---- code emission ---- */

bool comp_live(const struct comp *c)
{
	const struct ctl *f = &c->ctls[c->nctls - 1];
	return !f->unreachable && !f->dead;
}

/* Reserve n cells; returns the index of the first.  Dead code is not emitted. */
size_t comp_emit(struct comp *c, enum wasm_iop op, size_t n)
{
	if (c->ncode + n > c->cap_code) {
		size_t cap = c->cap_code ? c->cap_code * 2 : 256;
		while (cap < c->ncode + n)
			cap *= 2;
		union wasm_cell *p = realloc(c->code, cap * sizeof(*p));
		if (!p) {
			c->oom = true;
			c->ncode = 0;
			return 0;
		}
		c->code = p;
		c->cap_code = cap;
	}
	size_t at = c->ncode;
	c->pre_end = SIZE_MAX;
	c->moves_end = SIZE_MAX;
	memset(&c->code[at], 0, n * sizeof(*c->code));
	c->code[at].h = c->labels[op];
	c->ncode += n;
	return at;
}

/*
 * Two i32 adds of a constant in a row (counters and pointers stepped together) are one
 * instruction, [i32_add_si2][d|a][imm][d1|a1][imm1]: the earlier add (cells 3 and 4) runs
 * first.  The later one stays in cells 1 and 2, where a local.set may retarget it.
 */
static bool add_si_pair(struct comp *c, uint32_t d, uint32_t a, uint64_t x)
{
	size_t first;
	if (c->oom)
		return false;
	if (c->last_end == c->ncode && c->last_op == WASM_IOP_i32_add_si)
		first = c->last_start;
	else if (c->pre_end == c->ncode && c->pre_op == WASM_IOP_i32_add_si)
		first = c->pre_start;
	else
		return false;
	union wasm_cell da = c->code[first + 1], imm = c->code[first + 2];
	c->ncode = first;
	size_t at = comp_emit(c, WASM_IOP_i32_add_si2, 5);
	if (c->oom)
		return true;
	c->code[at + 1].r.a = d;
	c->code[at + 1].r.b = a;
	c->code[at + 2].u = x;
	c->code[at + 3] = da;
	c->code[at + 4] = imm;
	c->prev_end = SIZE_MAX;
	c->last_start = at;
	c->last_end = c->ncode;
	c->last_op = WASM_IOP_i32_add_si2;
	return true;
}

/* An instruction of shape [op][d|a][x] whose result a local.set may retarget. */
void comp_emit_dax(struct comp *c, enum wasm_iop op, uint32_t d, uint32_t a, uint64_t x, size_t n)
{
	/*
	 * up to four moves in a row (register shuffles between locals) are one instruction;
	 * the moves of copy2..copy4 stay in order, one cell each
	 */
	bool join = op == WASM_IOP_copy && !c->oom &&
		    ((c->last_op == WASM_IOP_copy && c->last_end == c->ncode) ||
		     (c->moves_end == c->ncode && c->moves_n < 4));
	if (join) {
		size_t first = c->last_end == c->ncode ? c->last_start : c->moves_start;
		uint32_t k = c->last_end == c->ncode ? 2 : c->moves_n + 1;
		comp_emit(c, WASM_IOP_copy, 1);
		comp_forget_last(c);
		if (c->oom)
			return;
		c->code[first].h = c->labels[WASM_IOP_copy2 + (k - 2)];
		c->code[first + k].r.a = d;
		c->code[first + k].r.b = a;
		c->moves_start = first;
		c->moves_end = c->ncode;
		c->moves_n = k;
		return;
	}
	if (op == WASM_IOP_i32_add_si && add_si_pair(c, d, a, x))
		return;
	size_t at = comp_emit(c, op, n);
	if (c->oom)
		return;
	c->code[at + 1].r.a = d;
	c->code[at + 1].r.b = a;
	if (n > 2)
		c->code[at + 2].u = x;
	c->prev_end = c->last_end == at ? at : SIZE_MAX;
	c->prev_start = c->last_start;
	c->prev_op = c->last_op;
	c->last_start = at;
	c->last_end = c->ncode;
	c->last_op = op;
}

void comp_forget_last(struct comp *c)
{
	c->last_end = SIZE_MAX;
	c->prev_end = SIZE_MAX;
	c->pre_end = SIZE_MAX;
	c->moves_end = SIZE_MAX;
}

/* ---- operand stack ---- */

uint32_t comp_canon(const struct comp *c, uint32_t h)
{
	return c->nlocals + h;
}

int comp_push(struct comp *c, uint8_t type)
{
	if (c->nvals >= WASM_MAX_STACK)
		return comp_fail(c, "operand stack too deep");
	if (c->nvals == c->cap_vals) {
		uint32_t cap = c->cap_vals ? c->cap_vals * 2 : 64;
		struct ventry *p = realloc(c->vals, cap * sizeof(*p));
		if (!p)
			return comp_fail(c, "out of memory");
		c->vals = p;
		c->cap_vals = cap;
	}
	struct ventry *e = &c->vals[c->nvals];
	e->type = type;
	e->kind = V_SLOT;
	e->slot = comp_canon(c, c->nvals);
	e->val = 0;
	c->nvals++;
	if (c->nvals > c->max_vals)
		c->max_vals = c->nvals;
	return 0;
}

static int push_entry(struct comp *c, struct ventry e)
{
	if (comp_push(c, e.type))
		return -EINVAL;
	if (e.kind != V_SLOT)
		c->vals[c->nvals - 1] = e;
	return 0;
}

static bool type_ok(uint8_t actual, uint8_t expect)
{
	return actual == expect || actual == WASM_T_UNKNOWN || expect == WASM_T_UNKNOWN;
}

/* Pop an operand of type 'expect' (WASM_T_UNKNOWN: any). */
int comp_pop(struct comp *c, uint8_t expect, struct ventry *out)
{
	struct ctl *f = &c->ctls[c->nctls - 1];
	if (c->nvals == f->height) {
		if (!f->unreachable)
			return comp_fail(c, "type mismatch: operand stack empty");
		out->type = WASM_T_UNKNOWN;
		out->kind = V_SLOT;
		out->slot = comp_canon(c, c->nvals);
		return 0;
	}
	*out = c->vals[--c->nvals];
	if (!type_ok(out->type, expect))
		return comp_fail(c, "type mismatch");
	return 0;
}

/* Make stack entry i hold its value in its canonical slot. */
static void materialize(struct comp *c, uint32_t i)
{
	struct ventry *e = &c->vals[i];
	uint32_t slot = comp_canon(c, i);
	if (e->kind == V_SLOT)
		return;
	if (comp_live(c)) {
		if (e->kind == V_LOCAL)
			comp_emit_dax(c, WASM_IOP_copy, slot, e->slot, 0, 2);
		else
			comp_emit_dax(c, WASM_IOP_const, slot, 0, e->val, 3);
	}
	e->kind = V_SLOT;
	e->slot = slot;
}

static void materialize_all(struct comp *c)
{
	for (uint32_t i = 0; i < c->nvals; i++)
		materialize(c, i);
}

/* Before local x changes: entries that still read it take a copy. */
static void materialize_local(struct comp *c, uint32_t x)
{
	for (uint32_t i = 0; i < c->nvals; i++)
		if (c->vals[i].kind == V_LOCAL && c->vals[i].slot == x)
			materialize(c, i);
}

/* The slot an operand popped as 'e' (formerly at height h) can be read from. */
uint32_t comp_operand(struct comp *c, struct ventry *e, uint32_t h)
{
	if (e->kind == V_CONST && comp_live(c)) {
		comp_emit_dax(c, WASM_IOP_const, comp_canon(c, h), 0, e->val, 3);
		e->kind = V_SLOT;
		e->slot = comp_canon(c, h);
	}
	return e->slot;
}

/* ---- control frames and branches ---- */

static int push_ctl(struct comp *c, uint8_t op, uint32_t np, const enum wasm_valtype *params,
		    uint32_t nr, const enum wasm_valtype *results)
{
	if (c->nctls >= WASM_MAX_NESTING)
		return comp_fail(c, "nesting too deep");
	if (c->nctls == c->cap_ctls) {
		uint32_t cap = c->cap_ctls ? c->cap_ctls * 2 : 16;
		struct ctl *p = realloc(c->ctls, cap * sizeof(*p));
		if (!p)
			return comp_fail(c, "out of memory");
		c->ctls = p;
		c->cap_ctls = cap;
	}
	struct ctl *f = &c->ctls[c->nctls++];
	memset(f, 0, sizeof(*f));
	f->op = op;
	f->np = np;
	f->params = params;
	f->nr = nr;
	f->results = results;
	f->height = c->nvals;
	return 0;
}

static const enum wasm_valtype *results_of(const struct ctl *f)
{
	return f->results ? f->results : &f->single;
}

/* The types a branch to frame f carries. */
static void label_types(const struct ctl *f, uint32_t *n, const enum wasm_valtype **types)
{
	if (f->op == 0x03) {
		*n = f->np;
		*types = f->params;
	} else {
		*n = f->nr;
		*types = results_of(f);
	}
}

/* Record a branch offset cell to be resolved when frame f ends. */
static void link_forward(struct comp *c, struct ctl *f, size_t cell)
{
	if (c->oom)
		return;
	c->code[cell].u = f->patch;
	f->patch = cell + 1;
}

/* Point offset cell 'cell' at the branch target of frame f. */
static void branch_to(struct comp *c, struct ctl *f, size_t cell)
{
	if (c->oom)
		return;
	/* back-edges skip the loop instruction: they charge its fuel cost themselves */
	if (f->op == 0x03)
		c->code[cell].s = (int64_t)f->start + 2 - (int64_t)cell;
	else
		link_forward(c, f, cell);
}

static void resolve_chain(struct comp *c, size_t head, size_t target)
{
	while (head && !c->oom) {
		size_t cell = head - 1;
		head = c->code[cell].u;
		c->code[cell].s = (int64_t)target - (int64_t)cell;
	}
}

/* Do the top n values need copies to reach the label's slots (height 'base')? */
static bool needs_moves(const struct comp *c, uint32_t n, uint32_t base)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct ventry *e = &c->vals[c->nvals - n + i];
		if (e->kind != V_SLOT || e->slot != comp_canon(c, base + i))
			return true;
	}
	return false;
}

/* Copy the top n values to the slots at 'dst' onward (ascending: dst never passes src). */
static void emit_moves(struct comp *c, uint32_t n, uint32_t dst)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct ventry *e = &c->vals[c->nvals - n + i];
		if (e->kind == V_CONST)
			comp_emit_dax(c, WASM_IOP_const, dst + i, 0, e->val, 3);
		else if (e->slot != dst + i)
			comp_emit_dax(c, WASM_IOP_copy, dst + i, e->slot, 0, 2);
	}
	comp_forget_last(c);
}

static void emit_return(struct comp *c)
{
	uint32_t n = c->ctls[0].nr;
	bool overlap = false;
	for (uint32_t i = 0; i < n; i++) {
		const struct ventry *e = &c->vals[c->nvals - n + i];
		overlap |= e->kind == V_LOCAL && e->slot < n;
	}
	if (!overlap) {
		emit_moves(c, n, 0);
		comp_emit(c, WASM_IOP_ret, 1);
		return;
	}
	/*
	 * A result read from a local that an earlier result overwrites: stage every result in
	 * its own stack slot first.  The entries are left as they are: this may be the taken
	 * path of a br_if only.
	 */
	for (uint32_t i = 0; i < n; i++) {
		const struct ventry *e = &c->vals[c->nvals - n + i];
		uint32_t slot = comp_canon(c, c->nvals - n + i);
		if (e->kind == V_LOCAL)
			comp_emit_dax(c, WASM_IOP_copy, slot, e->slot, 0, 2);
		else if (e->kind == V_CONST)
			comp_emit_dax(c, WASM_IOP_const, slot, 0, e->val, 3);
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t slot = comp_canon(c, c->nvals - n + i);
		if (slot != i)
			comp_emit_dax(c, WASM_IOP_copy, i, slot, 0, 2);
	}
	comp_forget_last(c);
	comp_emit(c, WASM_IOP_ret, 1);
}

/* An unconditional branch to frame f, the values being on top of the stack. */
static void emit_branch(struct comp *c, struct ctl *f)
{
	if (!comp_live(c))
		return;
	if (f == &c->ctls[0]) {
		emit_return(c);
		return;
	}
	uint32_t n;
	const enum wasm_valtype *t;
	label_types(f, &n, &t);
	size_t last = SIZE_MAX;
	enum wasm_iop op = c->last_op;
	if (c->last_end == c->ncode) {
		last = c->last_start;
	} else if (c->pre_end == c->ncode) {
		last = c->pre_start; /* retargeted to a local */
		op = c->pre_op;
	}
	emit_moves(c, n, comp_canon(c, f->height));
	/* a counter step then the jump back (or out): one instruction [d|a][imm][offset] */
	if (last != SIZE_MAX && last + 3 == c->ncode && !c->oom &&
	    (op == WASM_IOP_i32_add_si || op == WASM_IOP_i64_add_si)) {
		size_t at = comp_emit(c, WASM_IOP_br, 1);
		if (c->oom)
			return;
		c->code[last].h = c->labels[op == WASM_IOP_i32_add_si ? WASM_IOP_i32_add_si_br
								      : WASM_IOP_i64_add_si_br];
		branch_to(c, f, at);
		return;
	}
	size_t at = comp_emit(c, WASM_IOP_br, 2);
	branch_to(c, f, at + 1);
}

/* Check that the top of the stack has the label's types, without popping. */
static int check_label_values(struct comp *c, struct ctl *f)
{
	uint32_t n;
	const enum wasm_valtype *t;
	label_types(f, &n, &t);
	struct ctl *top = &c->ctls[c->nctls - 1];
	for (uint32_t i = 0; i < n; i++) {
		uint32_t depth = n - 1 - i; /* distance from the top */
		if (c->nvals - top->height <= depth) {
			if (!top->unreachable)
				return comp_fail(c, "type mismatch: branch values missing");
			continue;
		}
		if (!type_ok(c->vals[c->nvals - 1 - depth].type, t[i]))
			return comp_fail(c, "type mismatch: branch value");
	}
	return 0;
}

static int read_label(struct comp *c, struct ctl **f)
{
	uint32_t l = wasm_read_u32(&c->r);
	if (comp_reader_check(c))
		return -EINVAL;
	if (l >= c->nctls)
		return comp_failf(c, "unknown label %u", l);
	*f = &c->ctls[c->nctls - 1 - l];
	return 0;
}

/* Pad the stack of an unreachable frame so that n label values can be read. */
static int pad_unknown(struct comp *c, uint32_t n, const enum wasm_valtype *t)
{
	struct ctl *top = &c->ctls[c->nctls - 1];
	uint32_t have = c->nvals - top->height;
	if (have >= n)
		return 0;
	/* only reached when the frame is unreachable (check_label_values passed) */
	struct ventry saved[64];
	uint32_t keep = have < 64 ? have : 64;
	if (keep)
		memcpy(saved, &c->vals[c->nvals - keep], keep * sizeof(saved[0]));
	c->nvals -= keep;
	for (uint32_t i = 0; i < n - keep; i++)
		if (comp_push(c, t[i]))
			return -EINVAL;
	for (uint32_t i = 0; i < keep; i++)
		if (push_entry(c, saved[i]))
			return -EINVAL;
	return 0;
}

static void set_unreachable(struct comp *c)
{
	struct ctl *f = &c->ctls[c->nctls - 1];
	c->nvals = f->height;
	f->unreachable = true;
	comp_forget_last(c);
}

static int op_br(struct comp *c)
{
	struct ctl *f = NULL;
	if (read_label(c, &f) || check_label_values(c, f))
		return -EINVAL;
	if (comp_live(c))
		emit_branch(c, f);
	set_unreachable(c);
	return 0;
}

/* br_if of a compare just emitted: turn the compare into a compare-and-branch. */
static bool fuse_cmp_branch(struct comp *c, const struct ventry *cond, struct ctl *f, bool moves)
{
	enum wasm_iop op = c->last_op;
	if (c->oom || moves || cond->kind != V_SLOT || c->last_end != c->ncode ||
	    f == &c->ctls[0] || c->code[c->last_start + 1].r.a != cond->slot)
		return false;
	size_t at = c->last_start;
	if (op == WASM_IOP_i32_eqz) {
		/* br_if (i32.eqz x): branch when x is zero */
		uint32_t x = c->code[at + 1].r.b;
		c->ncode = at;
		at = comp_emit(c, WASM_IOP_br_unless, 3);
		if (!c->oom)
			c->code[at + 1].r.a = x;
		branch_to(c, f, at + 2);
		comp_forget_last(c);
		return true;
	}
	if (op < WASM_IOP_i32_eq_ss || op > WASM_IOP_i32_ge_u_si)
		return false;
	uint32_t a = c->code[at + 1].r.b;
	uint64_t b = c->code[at + 2].u;
	bool si = (op - WASM_IOP_i32_eq_ss) & 1;
	enum wasm_iop fused = WASM_IOP_br_i32_eq_ss + (op - WASM_IOP_i32_eq_ss);
	c->ncode = at;
	size_t n = si ? 4 : 3;
	at = comp_emit(c, fused, n);
	if (c->oom)
		return true;
	c->code[at + 1].r.a = a;
	if (si)
		c->code[at + 2].u = b;
	else
		c->code[at + 1].r.b = (uint32_t)b;
	branch_to(c, f, at + n - 1);
	comp_forget_last(c);
	return true;
}

static void emit_br_if(struct comp *c, struct ventry *cond, struct ctl *f)
{
	uint32_t n;
	const enum wasm_valtype *t;
	label_types(f, &n, &t);
	bool moves = f == &c->ctls[0] || needs_moves(c, n, f->height);
	if (fuse_cmp_branch(c, cond, f, moves))
		return;
	uint32_t cs = comp_operand(c, cond, c->nvals);
	if (!moves) {
		size_t at = comp_emit(c, WASM_IOP_br_if, 3);
		if (!c->oom)
			c->code[at + 1].r.a = cs;
		branch_to(c, f, at + 2);
		comp_forget_last(c);
		return;
	}
	/* taken: copy the values, then jump; not taken: skip the copies */
	size_t skip = comp_emit(c, WASM_IOP_br_unless, 3);
	if (!c->oom)
		c->code[skip + 1].r.a = cs;
	emit_branch(c, f);
	if (!c->oom)
		c->code[skip + 2].s = (int64_t)c->ncode - (int64_t)(skip + 2);
	comp_forget_last(c);
}

static int op_br_if(struct comp *c)
{
	struct ctl *f = NULL;
	struct ventry cond;
	if (read_label(c, &f) || comp_pop(c, WASM_I32, &cond) || check_label_values(c, f))
		return -EINVAL;
	uint32_t n;
	const enum wasm_valtype *t;
	label_types(f, &n, &t);
	if (comp_live(c)) {
		emit_br_if(c, &cond, f);
		return 0;
	}
	/* in unreachable code the values become the label's types */
	if (pad_unknown(c, n, t))
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		struct ventry *e = &c->vals[c->nvals - n + i];
		if (e->type == WASM_T_UNKNOWN)
			e->type = t[i];
	}
	return 0;
}

static int br_table_check(struct comp *c, struct ctl *f, uint32_t arity)
{
	uint32_t n;
	const enum wasm_valtype *t;
	label_types(f, &n, &t);
	if (n != arity)
		return comp_fail(c, "type mismatch: br_table labels differ in arity");
	return check_label_values(c, f);
}

/* Each target of a br_table: a direct offset, or a stub that copies values first. */
static void br_table_targets(struct comp *c, size_t first, uint32_t count, uint32_t *labels)
{
	for (uint32_t i = 0; i <= count; i++) {
		struct ctl *f = &c->ctls[c->nctls - 1 - labels[i]];
		uint32_t n;
		const enum wasm_valtype *t;
		label_types(f, &n, &t);
		if (f != &c->ctls[0] && !needs_moves(c, n, f->height)) {
			branch_to(c, f, first + i);
			continue;
		}
		if (!c->oom)
			c->code[first + i].s = (int64_t)c->ncode - (int64_t)(first + i);
		emit_branch(c, f);
	}
}

/*
 * br_table on a value just loaded (i32.load or i32.load8_u, possibly with a folded "+ imm"),
 * the dispatch of an interpreter: the branch loads its index itself,
 * [br_table_ld*][a|count][imm|offset][targets...].  Returns the first target cell, or 0.
 */
static size_t br_table_load(struct comp *c, const struct ventry *idx, uint32_t count)
{
	if (c->oom || idx->kind != V_SLOT || idx->slot < c->nlocals || c->last_end != c->ncode)
		return 0;
	enum wasm_iop op = c->last_op;
	const union wasm_cell *l = &c->code[c->last_start];
	bool plain = op == WASM_IOP_ld32u || op == WASM_IOP_ld8u;
	if ((!plain && op != WASM_IOP_ld32u_a && op != WASM_IOP_ld8u_a) || l[1].r.a != idx->slot)
		return 0;
	uint32_t addr = l[1].r.b;
	uint32_t imm = plain ? 0 : l[2].r.a, offset = plain ? (uint32_t)l[2].u : l[2].r.b;
	bool byte = op == WASM_IOP_ld8u || op == WASM_IOP_ld8u_a;
	c->ncode = c->last_start;
	comp_forget_last(c);
	size_t at = comp_emit(c, byte ? WASM_IOP_br_table_ld8 : WASM_IOP_br_table_ld32,
			      3 + (size_t)count + 1);
	if (c->oom)
		return 0;
	c->code[at + 1].r.a = addr;
	c->code[at + 1].r.b = count;
	c->code[at + 2].r.a = imm;
	c->code[at + 2].r.b = offset;
	return at + 3;
}

static int op_br_table(struct comp *c)
{
	uint32_t count = wasm_read_count(&c->r, 1);
	if (comp_reader_check(c))
		return -EINVAL;
	uint32_t *labels = malloc(((size_t)count + 1) * sizeof(*labels));
	if (!labels)
		return comp_fail(c, "out of memory");
	int rc = 0;
	for (uint32_t i = 0; i <= count && !rc; i++) {
		labels[i] = wasm_read_u32(&c->r);
		if (comp_reader_check(c))
			rc = -EINVAL;
		else if (labels[i] >= c->nctls)
			rc = comp_failf(c, "unknown label %u", labels[i]);
	}
	struct ventry idx;
	if (!rc)
		rc = comp_pop(c, WASM_I32, &idx);
	uint32_t arity = 0;
	const enum wasm_valtype *t;
	if (!rc)
		label_types(&c->ctls[c->nctls - 1 - labels[count]], &arity, &t);
	for (uint32_t i = 0; i <= count && !rc; i++)
		rc = br_table_check(c, &c->ctls[c->nctls - 1 - labels[i]], arity);
	if (!rc && comp_live(c)) {
		size_t first = br_table_load(c, &idx, count);
		if (!first) {
			uint32_t is = comp_operand(c, &idx, c->nvals);
			size_t at = comp_emit(c, WASM_IOP_br_table, 2 + (size_t)count + 1);
			if (!c->oom) {
				c->code[at + 1].r.a = is;
				c->code[at + 1].r.b = count;
			}
			first = at + 2;
		}
		br_table_targets(c, first, count, labels);
	}
	free(labels);
	if (!rc)
		set_unreachable(c);
	return rc;
}

/* ---- blocks ---- */

static int read_blocktype(struct comp *c, struct ctl *tmp)
{
	if (!wasm_reader_left(&c->r))
		return comp_fail(c, "unexpected end");
	uint8_t b = *c->r.p;
	tmp->np = tmp->nr = 0;
	if (b == 0x40) {
		c->r.p++;
		return 0;
	}
	if (b == WASM_V128)
		return comp_fail(c, "malformed value type: v128 (SIMD is not supported)");
	if (wasm_valtype_ok(b)) {
		c->r.p++;
		tmp->single = (enum wasm_valtype)b;
		tmp->nr = 1;
		tmp->results = &tmp->single;
		return 0;
	}
	int64_t x = wasm_read_s33(&c->r);
	if (comp_reader_check(c))
		return -EINVAL;
	if (x < 0)
		return comp_fail(c, "malformed value type");
	if (x >= c->m->ntypes)
		return comp_failf(c, "unknown type %lld", (long long)x);
	const struct wasm_functype *ft = &c->m->types[x];
	tmp->np = ft->nparams;
	tmp->params = ft->params;
	tmp->nr = ft->nresults;
	tmp->results = ft->results;
	return 0;
}

static int op_block(struct comp *c, uint8_t op)
{
	struct ctl bt = {0};
	struct ventry cond = {0};
	if (read_blocktype(c, &bt))
		return -EINVAL;
	if (op == 0x04 && comp_pop(c, WASM_I32, &cond))
		return -EINVAL;
	bool was_live = comp_live(c);
	uint32_t cs = was_live ? comp_operand(c, &cond, c->nvals) : 0;
	/* everything on the stack lives in its slot across the block */
	if (was_live)
		materialize_all(c);
	/* the params keep their slots; check them against the block type */
	for (uint32_t i = 0; i < bt.np; i++) {
		struct ctl *top = &c->ctls[c->nctls - 1];
		uint32_t depth = bt.np - 1 - i;
		if (c->nvals - top->height <= depth) {
			if (!top->unreachable)
				return comp_fail(c, "type mismatch: block params missing");
			continue;
		}
		if (!type_ok(c->vals[c->nvals - 1 - depth].type, bt.params[i]))
			return comp_fail(c, "type mismatch: block param");
	}
	if (!was_live && pad_unknown(c, bt.np, bt.params))
		return -EINVAL;
	uint32_t h = c->nvals - bt.np;
	if (push_ctl(c, op, bt.np, bt.params, bt.nr, bt.results))
		return -EINVAL;
	struct ctl *f = &c->ctls[c->nctls - 1];
	f->single = bt.single;
	/* the frame array may move: a one-result type lives in the frame, found by results_of */
	if (bt.nr == 1 && bt.results == &bt.single)
		f->results = NULL;
	f->height = h;
	/* dead code stays dead inside; validation is unaffected (the params are typed) */
	f->dead = !was_live;
	for (uint32_t i = 0; i < bt.np; i++)
		c->vals[h + i].type = bt.params[i];
	comp_forget_last(c);
	if (!was_live)
		return 0;
	if (op == 0x03) {
		f->start = comp_emit(c, WASM_IOP_loop, 2);
		f->loop_op = true;
		f->ninstr = c->ninstr;
	} else if (op == 0x04) {
		size_t at = comp_emit(c, WASM_IOP_br_unless, 3);
		if (!c->oom)
			c->code[at + 1].r.a = cs;
		f->else_patch = at + 2 + 1;
	}
	return 0;
}

/* Check the frame's results are exactly what is on its stack. */
static int check_results(struct comp *c, struct ctl *f)
{
	uint32_t have = c->nvals - f->height;
	if (have > f->nr)
		return comp_fail(c, "type mismatch: values remain at end of block");
	if (have < f->nr && !f->unreachable)
		return comp_fail(c, "type mismatch: block results missing");
	for (uint32_t i = 0; i < have; i++)
		if (!type_ok(c->vals[f->height + i].type, results_of(f)[f->nr - have + i]))
			return comp_fail(c, "type mismatch: block result");
	return 0;
}

static int op_else(struct comp *c)
{
	struct ctl *f = &c->ctls[c->nctls - 1];
	if (f->op != 0x04)
		return comp_fail(c, "else without if");
	if (check_results(c, f))
		return -EINVAL;
	if (comp_live(c)) {
		materialize_all(c);
		size_t at = comp_emit(c, WASM_IOP_br, 2);
		link_forward(c, f, at + 1);
	}
	if (f->else_patch && !c->oom) {
		size_t cell = f->else_patch - 1;
		c->code[cell].s = (int64_t)c->ncode - (int64_t)cell;
		f->else_patch = 0;
	}
	/* the else arm starts from the params in their slots */
	c->nvals = f->height;
	f->op = 0x05;
	f->unreachable = false;
	for (uint32_t i = 0; i < f->np; i++)
		if (comp_push(c, f->params[i]))
			return -EINVAL;
	comp_forget_last(c);
	return 0;
}

static int op_end(struct comp *c)
{
	struct ctl *f = &c->ctls[c->nctls - 1];
	if (check_results(c, f))
		return -EINVAL;
	if (f->op == 0x04) {
		/* an if without else passes its params through as results */
		if (f->np != f->nr ||
		    (f->np && memcmp(f->params, results_of(f), f->np * sizeof(*f->params))))
			return comp_fail(c, "type mismatch: if without else");
	}
	if (c->nctls == 1) {
		if (comp_live(c))
			emit_return(c);
		c->nctls = 0;
		return 0;
	}
	materialize_all(c);
	if (f->loop_op && !c->oom)
		c->code[f->start + 1].u = c->ninstr - f->ninstr + 1;
	resolve_chain(c, f->patch, c->ncode);
	if (f->else_patch && !c->oom) {
		size_t cell = f->else_patch - 1;
		c->code[cell].s = (int64_t)c->ncode - (int64_t)cell;
	}
	uint32_t h = f->height, nr = f->nr;
	enum wasm_valtype res[1] = {f->single};
	const enum wasm_valtype *rt = f->results ? f->results : res;
	c->nctls--;
	c->nvals = h;
	for (uint32_t i = 0; i < nr; i++)
		if (comp_push(c, rt[i]))
			return -EINVAL;
	comp_forget_last(c);
	return 0;
}

/* ---- calls ---- */

/* Pop the arguments of type ft into their slots; returns the first one's slot. */
static int pop_args(struct comp *c, const struct wasm_functype *ft, uint32_t *base)
{
	struct ventry e;
	uint32_t n = ft->nparams;
	uint32_t have = c->nvals - c->ctls[c->nctls - 1].height;
	if (comp_live(c))
		for (uint32_t i = 0; i < n && i < have; i++)
			materialize(c, c->nvals - 1 - i);
	for (uint32_t i = n; i-- > 0;)
		if (comp_pop(c, ft->params[i], &e))
			return -EINVAL;
	*base = comp_canon(c, c->nvals);
	return 0;
}

static int push_results(struct comp *c, const struct wasm_functype *ft)
{
	for (uint32_t i = 0; i < ft->nresults; i++)
		if (comp_push(c, ft->results[i]))
			return -EINVAL;
	comp_forget_last(c);
	return 0;
}

static int op_call(struct comp *c)
{
	uint32_t x = wasm_read_u32(&c->r);
	if (comp_reader_check(c))
		return -EINVAL;
	if (x >= c->m->nfuncs)
		return comp_failf(c, "unknown function %u", x);
	const struct wasm_functype *ft = &c->m->types[c->m->func_type[x]];
	uint32_t base;
	if (pop_args(c, ft, &base))
		return -EINVAL;
	if (comp_live(c)) {
		size_t at = comp_emit(c, WASM_IOP_call, 2);
		if (!c->oom) {
			c->code[at + 1].r.a = x;
			c->code[at + 1].r.b = base;
		}
	}
	return push_results(c, ft);
}

static int op_call_indirect(struct comp *c)
{
	uint32_t ti = wasm_read_u32(&c->r);
	uint32_t table = wasm_read_u32(&c->r);
	if (comp_reader_check(c))
		return -EINVAL;
	if (table >= c->m->ntables)
		return comp_failf(c, "unknown table %u", table);
	if (ti >= c->m->ntypes)
		return comp_failf(c, "unknown type %u", ti);
	if (c->m->tables[table].elem != WASM_FUNCREF)
		return comp_fail(c, "type mismatch: call_indirect on a table of externref");
	const struct wasm_functype *ft = &c->m->types[ti];
	struct ventry idx;
	if (comp_pop(c, WASM_I32, &idx))
		return -EINVAL;
	uint32_t is = comp_live(c) ? comp_operand(c, &idx, c->nvals) : 0;
	uint32_t base;
	if (pop_args(c, ft, &base))
		return -EINVAL;
	if (comp_live(c)) {
		size_t at = comp_emit(c, WASM_IOP_call_indirect, 3);
		if (!c->oom) {
			c->code[at + 1].r.a = ti;
			c->code[at + 1].r.b = base;
			c->code[at + 2].r.a = table;
			c->code[at + 2].r.b = is;
		}
	}
	return push_results(c, ft);
}

static int op_return(struct comp *c)
{
	if (check_label_values(c, &c->ctls[0]))
		return -EINVAL;
	if (comp_live(c))
		emit_return(c);
	set_unreachable(c);
	return 0;
}

/* ---- variables ---- */

static int read_local(struct comp *c, uint32_t *x)
{
	*x = wasm_read_u32(&c->r);
	if (comp_reader_check(c))
		return -EINVAL;
	if (*x >= c->nlocals)
		return comp_failf(c, "unknown local %u", *x);
	return 0;
}

/* local x = value e (already popped from height h) */
static void emit_local_store(struct comp *c, uint32_t x, struct ventry *e, uint32_t h)
{
	if (!comp_live(c))
		return;
	materialize_local(c, x);
	/* the instruction that just computed e writes x directly instead */
	if (e->kind == V_SLOT && c->last_end == c->ncode && c->ncode &&
	    c->code[c->last_start + 1].r.a == e->slot && e->slot == comp_canon(c, h)) {
		size_t at = c->last_start;
		enum wasm_iop op = c->last_op;
		c->code[at + 1].r.a = x;
		comp_forget_last(c);
		c->pre_start = at;
		c->pre_end = c->ncode;
		c->pre_op = op;
		return;
	}
	/* (these write a local: no later fusion mistakes it for a stack slot, and a following
	 * copy may join this one) */
	if (e->kind == V_CONST)
		comp_emit_dax(c, WASM_IOP_const, x, 0, e->val, 3);
	else if (e->slot != x)
		comp_emit_dax(c, WASM_IOP_copy, x, e->slot, 0, 2);
}

static int op_local(struct comp *c, uint8_t op)
{
	uint32_t x;
	struct ventry e;
	if (read_local(c, &x))
		return -EINVAL;
	uint8_t t = c->local_types[x];
	if (op == 0x20) {
		if (comp_push(c, t))
			return -EINVAL;
		struct ventry *top = &c->vals[c->nvals - 1];
		top->kind = V_LOCAL;
		top->slot = x;
		return 0;
	}
	if (comp_pop(c, t, &e))
		return -EINVAL;
	emit_local_store(c, x, &e, c->nvals);
	if (op == 0x22) {
		if (comp_push(c, t))
			return -EINVAL;
		struct ventry *top = &c->vals[c->nvals - 1];
		top->kind = V_LOCAL;
		top->slot = x;
	}
	return 0;
}

static int op_global(struct comp *c, uint8_t op)
{
	uint32_t x = wasm_read_u32(&c->r);
	if (comp_reader_check(c))
		return -EINVAL;
	if (x >= c->m->nglobals)
		return comp_failf(c, "unknown global %u", x);
	const struct wasm_globaltype *g = &c->m->globals[x];
	if (op == 0x23) {
		if (comp_push(c, g->type))
			return -EINVAL;
		if (comp_live(c))
			comp_emit_dax(c, WASM_IOP_global_get, comp_canon(c, c->nvals - 1), x, 0, 2);
		return 0;
	}
	if (!g->mut)
		return comp_fail(c, "global is immutable");
	struct ventry e;
	if (comp_pop(c, g->type, &e))
		return -EINVAL;
	if (comp_live(c)) {
		uint32_t s = comp_operand(c, &e, c->nvals);
		size_t at = comp_emit(c, WASM_IOP_global_set, 2);
		if (!c->oom) {
			c->code[at + 1].r.a = s;
			c->code[at + 1].r.b = x;
		}
		comp_forget_last(c);
	}
	return 0;
}

/* ---- parametric ---- */

static int op_select(struct comp *c, uint8_t op)
{
	uint8_t t = WASM_T_UNKNOWN;
	if (op == 0x1c) {
		uint32_t n = wasm_read_u32(&c->r);
		if (comp_reader_check(c))
			return -EINVAL;
		if (n != 1)
			return comp_fail(c, "invalid result arity");
		t = wasm_read_u8(&c->r);
		if (comp_reader_check(c))
			return -EINVAL;
		if (t == WASM_V128)
			return comp_fail(c, "malformed value type: v128 (SIMD is not supported)");
		if (!wasm_valtype_ok(t))
			return comp_fail(c, "malformed value type");
	}
	struct ventry cond, b, a;
	if (comp_pop(c, WASM_I32, &cond) || comp_pop(c, t, &b) || comp_pop(c, t, &a))
		return -EINVAL;
	if (op == 0x1b) {
		if (wasm_is_ref(a.type) || wasm_is_ref(b.type))
			return comp_fail(c, "type mismatch: select of references needs a type");
		if (!type_ok(a.type, b.type))
			return comp_fail(c, "type mismatch");
		t = a.type != WASM_T_UNKNOWN ? a.type : b.type;
	}
	uint32_t h = c->nvals;
	if (comp_push(c, t))
		return -EINVAL;
	if (!comp_live(c))
		return 0;
	uint32_t sc = comp_operand(c, &cond, h + 2);
	uint32_t sb = comp_operand(c, &b, h + 1);
	uint32_t sa = comp_operand(c, &a, h);
	comp_emit_dax(c, WASM_IOP_select, comp_canon(c, h), sa, 0, 3);
	if (!c->oom) {
		c->code[c->last_start + 2].r.a = sb;
		c->code[c->last_start + 2].r.b = sc;
	}
	return 0;
}

static int op_const(struct comp *c, uint8_t op)
{
	uint64_t v = 0;
	uint8_t t = 0;
	switch (op) {
	case 0x41:
		v = (uint32_t)wasm_read_s32(&c->r), t = WASM_I32;
		break;
	case 0x42:
		v = (uint64_t)wasm_read_s64(&c->r), t = WASM_I64;
		break;
	case 0x43:
		v = wasm_read_f32(&c->r), t = WASM_F32;
		break;
	default:
		v = wasm_read_f64(&c->r), t = WASM_F64;
		break;
	}
	if (comp_reader_check(c) || comp_push(c, t))
		return -EINVAL;
	struct ventry *top = &c->vals[c->nvals - 1];
	top->kind = V_CONST;
	top->val = v;
	return 0;
}

static int op_drop(struct comp *c)
{
	struct ventry e;
	return comp_pop(c, WASM_T_UNKNOWN, &e);
}

static int op_unreachable(struct comp *c)
{
	if (comp_live(c))
		comp_emit(c, WASM_IOP_unreachable, 1);
	set_unreachable(c);
	return 0;
}

static int compile_control(struct comp *c, uint8_t op)
{
	switch (op) {
	case 0x00:
		return op_unreachable(c);
	case 0x01:
		return 0;
	case 0x02:
	case 0x03:
	case 0x04:
		return op_block(c, op);
	case 0x05:
		return op_else(c);
	case 0x0b:
		return op_end(c);
	case 0x0c:
		return op_br(c);
	case 0x0d:
		return op_br_if(c);
	case 0x0e:
		return op_br_table(c);
	case 0x0f:
		return op_return(c);
	case 0x10:
		return op_call(c);
	case 0x11:
		return op_call_indirect(c);
	default:
		return comp_fail(c, "illegal opcode");
	}
}

static int compile_op(struct comp *c, uint8_t op)
{
	if (op <= 0x11)
		return compile_control(c, op);
	if (op == 0x1a)
		return op_drop(c);
	if (op == 0x1b || op == 0x1c)
		return op_select(c, op);
	if (op >= 0x20 && op <= 0x22)
		return op_local(c, op);
	if (op == 0x23 || op == 0x24)
		return op_global(c, op);
	if (op == 0x25 || op == 0x26)
		return comp_op_table(c, op);
	if (op >= 0x28 && op <= 0x40)
		return comp_op_memory(c, op);
	if (op >= 0x41 && op <= 0x44)
		return op_const(c, op);
	if (op >= 0x45 && op <= 0xc4)
		return comp_op_numeric(c, op);
	if (op >= 0xd0 && op <= 0xd2)
		return comp_op_ref(c, op);
	if (op == 0xfc)
		return comp_op_fc(c);
	if (op == 0xfd)
		return comp_fail(c, "illegal opcode: SIMD (0xfd prefix) is not supported");
	return comp_fail(c, "illegal opcode");
}

static int read_locals(struct comp *c, const struct wasm_functype *ft)
{
	uint32_t groups = wasm_read_count(&c->r, 2);
	if (comp_reader_check(c))
		return -EINVAL;
	const uint8_t *save = c->r.p;
	uint64_t total = ft->nparams;
	for (uint32_t i = 0; i < groups; i++) {
		total += wasm_read_u32(&c->r);
		wasm_read_u8(&c->r);
		if (comp_reader_check(c))
			return -EINVAL;
		if (total > WASM_MAX_LOCALS)
			return comp_fail(c, "too many locals");
	}
	c->nlocals = (uint32_t)total;
	c->nparams = ft->nparams;
	c->local_types = malloc(total ? total : 1);
	if (!c->local_types)
		return comp_fail(c, "out of memory");
	for (uint32_t i = 0; i < ft->nparams; i++)
		c->local_types[i] = ft->params[i];
	c->r.p = save;
	uint32_t at = ft->nparams;
	for (uint32_t i = 0; i < groups; i++) {
		uint32_t n = wasm_read_u32(&c->r);
		uint8_t t = wasm_read_u8(&c->r);
		if (t == WASM_V128)
			return comp_fail(c, "malformed value type: v128 (SIMD is not supported)");
		if (!wasm_valtype_ok(t))
			return comp_fail(c, "malformed value type");
		memset(&c->local_types[at], t, n);
		at += n;
	}
	return 0;
}

static int compile_body(struct comp *c, const struct wasm_functype *ft)
{
	if (read_locals(c, ft) || push_ctl(c, 0, 0, NULL, ft->nresults, ft->results))
		return -EINVAL;
	comp_forget_last(c);
	while (c->nctls) {
		if (!wasm_reader_left(&c->r))
			return comp_fail(c, "unexpected end of section or function");
		uint8_t op = wasm_read_u8(&c->r);
		c->ninstr++;
		if (compile_op(c, op))
			return -EINVAL;
		if (c->oom)
			return comp_fail(c, "out of memory");
	}
	if (wasm_reader_left(&c->r))
		return comp_fail(c, "section size mismatch: bytes after the function's end");
	return 0;
}

int wasm_compile_func(const struct wasm_module *m, uint32_t fidx, struct wasm_code *code,
		      const void *const *labels, struct verr *err)
{
	struct comp c = {.m = m, .labels = labels, .err = err};
	const struct wasm_functype *ft = &m->types[m->func_type[fidx]];
	err->msg[0] = 0;
	wasm_reader_init(&c.r, code->body, code->body_len);
	int rc = compile_body(&c, ft);
	if (!rc) {
		code->nparams = ft->nparams;
		code->nlocals = c.nlocals;
		code->nslots = c.nlocals + c.max_vals + 1;
		code->cells = realloc(c.code, (c.ncode ? c.ncode : 1) * sizeof(*c.code));
		if (!code->cells)
			code->cells = c.code;
		code->ncells = c.ncode;
		c.code = NULL;
	}
	free(c.code);
	free(c.vals);
	free(c.ctls);
	free(c.local_types);
	return rc;
}
