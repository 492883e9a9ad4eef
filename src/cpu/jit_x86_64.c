/* SPDX-License-Identifier: MIT */
/*
 * The block translator for x86-64 hosts (see jit.h).
 *
 * Generated code, called as void fn(struct hart *h):
 *   rbx = h, r12 = the block's virtual pc (h->pc at entry: a block is found
 *   by physical address, so the same code may run at several virtual pcs),
 *   one 8-byte stack slot at [rsp] for slow-path results.  Every guest
 *   register lives in h->x; rax, rcx, rdx, rsi, rdi are scratch.
 *   r11 holds h->instret from the prologue to every epilogue and call
 *   (see INSTRET), across chained blocks; r10 holds h->dtlb (DTLB).
 * Loads and stores check the data TLB inline like the interpreter's fast
 * path; misses go to out-of-line code after the block that calls
 * mem_load/mem_store and, when they fail, raises the exception.
 * Rare operations (division, high multiplies, bit manipulation) call small C
 * helpers that repeat the interpreter's definitions, so x86 traps (#DE) and
 * flag quirks never arise.
 */
#include "cpu/jit.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu/mmu.h"
#include "cpu/ops.h"
#include "cpu/trap.h"

/* Host code buffer per hart; untouched pages cost nothing. */
#define JIT_BUF_BYTES (32u << 20)
/* Room a block may need at most: 129 instructions of at most ~250 bytes each. */
#define JIT_BLOCK_MAX (64u << 10)
/* Bytes of the prologue (frame setup), then a jmp over the chained entry's checks. */
#define JIT_PROLOGUE_LEN 38
/* Where chained exits and the lookup stub enter a block: past the frame setup. */
#define JIT_CHAIN_ENTRY (JIT_PROLOGUE_LEN + 5)

_Static_assert(sizeof(struct tlb_entry) == 16, "TLB entries are indexed by shifting 4");

enum reg { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/*
 * Host registers that hold the guest registers a block uses most, from its
 * entry to each exit.  The first four survive calls; the others are
 * caller-saved: before a call every cached register is written back (the
 * arguments then come from h->x, as rsi and rdi may be cached), after it
 * the caller-saved ones are reloaded.
 */
static const int8_t cache_regs[] = {RBP, R13, R14, R15, R8, R9, RSI, RDI};
#define NCACHE	((unsigned)sizeof(cache_regs))
#define NCALLEE 4u

/* x86 condition codes. */
enum cc { CC_B = 2, CC_AE = 3, CC_E = 4, CC_NE = 5, CC_L = 0xc, CC_GE = 0xd };

/*
 * The retired-instruction count lives in r11 while translated code runs:
 * counting it in h->instret made every block exit a read-modify-write of
 * memory, a chain of store-to-load forwarding through every block the hart
 * runs.  The prologue loads it, every epilogue and call stores it (a call
 * may clobber r11 and C code reads h->instret), a call reloads it.
 */
#define INSTRET R11

/*
 * r10 holds h->dtlb, so the inline TLB lookup indexes it in the address of
 * its loads instead of adding it first (one step less on the way from a
 * computed address to the data).  The data TLB set changes only with the
 * mode, which translated code never changes: loaded by the prologue,
 * reloaded after calls (r10 is caller-saved).
 */
#define DTLB R10

#define XOFF(i) ((int32_t)(offsetof(struct hart, x) + 8 * (size_t)(i)))
#define HOFF(f) ((int32_t)offsetof(struct hart, f))

struct emit {
	uint8_t *start, *p, *end;
	bool overflow;
	int8_t host[33];      /* host register caching guest register i, or -1 */
	uint64_t written;     /* guest registers the block writes (bit i) */
	uint64_t wr_now;      /* ... of which the code emitted so far has written */
	uint64_t live_in;     /* cached registers the block reads before writing them */
	uint64_t dirty;	      /* cached registers right only in their low 32 bits (see sext32) */
	uint64_t paddr;	      /* guest-physical address of the block */
	const uint8_t *stub;  /* the hart's lookup stub (emit_lookup_stub) */
	const uint8_t *chain; /* the hart's chain stub (emit_chain_stub) */
	const uint8_t *out;   /* the hart's exit stub (emit_exit_stub) */
	const uint8_t *guess; /* the hart's guess stub (emit_guess_stub) */
	size_t body;	      /* offset of the block's first instruction, registers loaded */
};

static void b1(struct emit *e, unsigned v)
{
	if (e->p < e->end)
		*e->p++ = (uint8_t)v;
	else
		e->overflow = true;
}

static void b4(struct emit *e, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b1(e, (v >> (8 * i)) & 0xff);
}

static void b8(struct emit *e, uint64_t v)
{
	b4(e, (uint32_t)v);
	b4(e, (uint32_t)(v >> 32));
}

static void rex(struct emit *e, int w, int r, int x, int b)
{
	unsigned v = 0x40 | (unsigned)w << 3 | ((unsigned)r >> 3 & 1) << 2 |
		     ((unsigned)x >> 3 & 1) << 1 | ((unsigned)b >> 3 & 1);
	if (v != 0x40)
		b1(e, v);
}

/* One- or two-byte opcode (0x0fXX). */
static void opc(struct emit *e, unsigned op)
{
	if (op > 0xff)
		b1(e, op >> 8);
	b1(e, op & 0xff);
}

/* op reg, r/m (register form); 'reg' may be an opcode extension (/n). */
static void rr(struct emit *e, int w, unsigned op, int reg, int rm)
{
	rex(e, w, reg, 0, rm);
	opc(e, op);
	b1(e, 0xc0 | (unsigned)(reg & 7) << 3 | (unsigned)(rm & 7));
}

/* op reg, [base + disp] (disp8 when it fits). */
static void rm(struct emit *e, int w, unsigned op, int reg, int base, int32_t disp)
{
	bool short_disp = disp == (int8_t)disp;
	rex(e, w, reg, 0, base);
	opc(e, op);
	b1(e, (short_disp ? 0x40 : 0x80) | (unsigned)(reg & 7) << 3 | (unsigned)(base & 7));
	if ((base & 7) == RSP)
		b1(e, 0x24);
	if (short_disp)
		b1(e, (uint8_t)disp);
	else
		b4(e, (uint32_t)disp);
}

/* op reg, [base + index + disp] (index not rsp). */
static void rmid(struct emit *e, int w, unsigned op, int reg, int base, int index, int32_t disp)
{
	bool short_disp = disp == (int8_t)disp;
	rex(e, w, reg, index, base);
	opc(e, op);
	b1(e, (short_disp ? 0x44 : 0x84) | (unsigned)(reg & 7) << 3);
	b1(e, (unsigned)(index & 7) << 3 | (unsigned)(base & 7));
	if (short_disp)
		b1(e, (uint8_t)disp);
	else
		b4(e, (uint32_t)disp);
}

/* op reg, [base + index] (base not rbp/r13, index not rsp). */
static void rmi(struct emit *e, int w, unsigned op, int reg, int base, int index)
{
	rex(e, w, reg, index, base);
	opc(e, op);
	b1(e, 0x04 | (unsigned)(reg & 7) << 3);
	b1(e, (unsigned)(index & 7) << 3 | (unsigned)(base & 7));
}

static void movsxd(struct emit *e, int reg);

/*
 * Lazy sign extension.  A W instruction (addw, slliw, ...) whose result
 * stays in a cache register leaves it "dirty": its low 32 bits are right and
 * the guest value is their sign extension, but the upper half is not
 * written.  Consumers of the low 32 bits only (W instructions, narrow
 * stores, shift counts) read it as it is; and, or, xor of such values stay
 * dirty (the sign extension of the result is the result); anything else
 * sign-extends it first (sext32), and every write to h->x stores the full
 * value.  This saves a movsxd after most W instructions in hashing and
 * compression loops.
 */
static bool dirty(const struct emit *e, unsigned i)
{
	return i < 32 && (e->dirty >> i & 1);
}

/* Make cache register i hold its full value from here on. */
static void sext32(struct emit *e, unsigned i)
{
	if (dirty(e, i)) {
		movsxd(e, e->host[i]);
		e->dirty &= ~(1ull << i);
	}
}

/* reg = guest register i, full 64 bits (a dirty cache register is left as it is). */
static void load_x(struct emit *e, int reg, unsigned i)
{
	if (i == 0) {
		rr(e, 1, 0xc7, 0, reg); /* mov reg, 0: unlike xor, keeps the flags */
		b4(e, 0);
	} else if (dirty(e, i)) {
		rr(e, 1, 0x63, reg, e->host[i]); /* movsxd reg, host32 */
	} else if (e->host[i] >= 0) {
		rr(e, 1, 0x89, e->host[i], reg);
	} else {
		rm(e, 1, 0x8b, reg, RBX, XOFF(i));
	}
}

/* Guest register i = reg (a full value). */
static void store_x(struct emit *e, unsigned i, int reg)
{
	if (i == 32)
		return; /* x0: the result is discarded */
	if (e->host[i] >= 0) {
		rr(e, 1, 0x89, reg, e->host[i]);
		e->wr_now |= 1ull << i;
		e->dirty &= ~(1ull << i);
	} else {
		rm(e, 1, 0x89, reg, RBX, XOFF(i));
	}
}

/* The host register to read guest register i from, all 64 bits: its cache register, or
 * 'scratch' loaded. */
static int src_reg(struct emit *e, unsigned i, int scratch)
{
	if (i != 0 && e->host[i] >= 0) {
		sext32(e, i);
		return e->host[i];
	}
	load_x(e, scratch, i);
	return scratch;
}

/* The same for a consumer of the low 32 bits only: a dirty cache register as it is. */
static int src_reg32(struct emit *e, unsigned i, int scratch)
{
	if (i != 0 && e->host[i] >= 0)
		return e->host[i];
	load_x(e, scratch, i);
	return scratch;
}

/* The host register to compute guest register i in: its cache register, or rax (finish_rd). */
static int dst_reg(const struct emit *e, unsigned i)
{
	return e->host[i] >= 0 ? e->host[i] : RAX;
}

/* d (dst_reg) holds the full new value of guest register i. */
static void finish_rd(struct emit *e, unsigned i, int d)
{
	if (d == RAX) {
		store_x(e, i, RAX);
	} else {
		e->wr_now |= 1ull << i;
		e->dirty &= ~(1ull << i);
	}
}

/* d holds the new value of guest register i in its low 32 bits: sign-extend it later. */
static void finish_rd32(struct emit *e, unsigned i, int d)
{
	if (d == RAX) {
		movsxd(e, RAX);
		store_x(e, i, RAX);
	} else {
		e->wr_now |= 1ull << i;
		e->dirty |= 1ull << i;
	}
}

/* Sign-extend every dirty cache register in place, leaving the compile-time state as it is
 * (for code on a path that leaves the block). */
static void sext_all_in_place(struct emit *e)
{
	for (unsigned i = 1; i < 32; i++)
		if (dirty(e, i))
			movsxd(e, e->host[i]);
}

/*
 * Write the cached guest registers the code so far has changed back to
 * h->x; from 'first' in cache_regs.  Only those: a register the block
 * writes before reading is not loaded at entry, so until it is written its
 * host register holds nothing.
 */
static void cache_writeback(struct emit *e, unsigned first)
{
	sext_all_in_place(e); /* dirty registers are among the written ones */
	for (unsigned i = 1; i < 32; i++) {
		int r = e->host[i];
		if (r < 0 || !(e->wr_now >> i & 1))
			continue;
		for (unsigned k = first; k < NCACHE; k++)
			if (cache_regs[k] == r)
				rm(e, 1, 0x89, r, RBX, XOFF(i));
	}
}

/* Reload cached guest registers in 'set' held in host registers from 'first' on. */
static void cache_reload(struct emit *e, unsigned first, uint64_t set)
{
	for (unsigned i = 1; i < 32; i++) {
		int r = e->host[i];
		if (r < 0 || !(set >> i & 1))
			continue;
		for (unsigned k = first; k < NCACHE; k++)
			if (cache_regs[k] == r)
				rm(e, 1, 0x8b, r, RBX, XOFF(i));
	}
}

/* ALU op with a sign-extended 32-bit immediate: 81 /n. */
static void alu_imm(struct emit *e, int w, int ext, int reg, int32_t imm)
{
	rr(e, w, 0x81, ext, reg);
	b4(e, (uint32_t)imm);
}

static void shift_imm(struct emit *e, int w, int ext, int reg, unsigned n)
{
	rr(e, w, 0xc1, ext, reg);
	b1(e, n);
}

static void mov_imm(struct emit *e, int reg, int64_t v)
{
	if (v == (int32_t)v) {
		rr(e, 1, 0xc7, 0, reg);
		b4(e, (uint32_t)v);
	} else {
		rex(e, 1, 0, 0, reg);
		b1(e, 0xb8 + (reg & 7));
		b8(e, (uint64_t)v);
	}
}

static void movsxd(struct emit *e, int reg)
{
	rr(e, 1, 0x63, reg, reg);
}

/* reg = block pc + d */
static void pc_plus(struct emit *e, int reg, int64_t d)
{
	if (d == (int32_t)d) {
		rm(e, 1, 0x8d, reg, R12, (int32_t)d);
	} else {
		mov_imm(e, reg, d);
		rr(e, 1, 0x01, R12, reg);
	}
}

static void call(struct emit *e, const void *fn)
{
	rm(e, 1, 0x89, INSTRET, RBX, HOFF(instret));
	mov_imm(e, RAX, (int64_t)(uintptr_t)fn);
	rr(e, 0, 0xff, 2, RAX);
	rm(e, 1, 0x8b, INSTRET, RBX, HOFF(instret));
	rm(e, 1, 0x8b, DTLB, RBX, HOFF(dtlb));
}

/* Call fn after cache_writeback(e, 0) and the argument setup; reload what it clobbers. */
static void call_saving(struct emit *e, const void *fn)
{
	call(e, fn);
	cache_reload(e, NCALLEE, ~0ull); /* movs only: rax and the flags are kept */
}

/* reg = h->x[i] from memory (after a writeback: rsi and rdi may be cached). */
static void load_mem_x(struct emit *e, int reg, unsigned i)
{
	rm(e, 1, 0x8b, reg, RBX, XOFF(i));
}

static void prologue(struct emit *e)
{
	b1(e, 0x53); /* push rbx */
	b1(e, 0x41); /* push r12 */
	b1(e, 0x54);
	b1(e, 0x55); /* push rbp */
	b1(e, 0x41); /* push r13 */
	b1(e, 0x55);
	b1(e, 0x41); /* push r14 */
	b1(e, 0x56);
	b1(e, 0x41); /* push r15 */
	b1(e, 0x57);
	b1(e, 0x48); /* sub rsp, 8: stack 16-aligned at calls, one slot at [rsp] */
	b1(e, 0x83);
	b1(e, 0xec);
	b1(e, 0x08);
	rr(e, 1, 0x89, RDI, RBX);
	rm(e, 1, 0x8b, R12, RBX, HOFF(pc));
	rm(e, 1, 0x8b, INSTRET, RBX, HOFF(instret));
	rm(e, 1, 0x8b, DTLB, RBX, HOFF(dtlb));
}

static void epilogue(struct emit *e)
{
	rm(e, 1, 0x89, INSTRET, RBX, HOFF(instret));
	b1(e, 0x48); /* add rsp, 8 */
	b1(e, 0x83);
	b1(e, 0xc4);
	b1(e, 0x08);
	b1(e, 0x41); /* pop r15 */
	b1(e, 0x5f);
	b1(e, 0x41); /* pop r14 */
	b1(e, 0x5e);
	b1(e, 0x41); /* pop r13 */
	b1(e, 0x5d);
	b1(e, 0x5d); /* pop rbp */
	b1(e, 0x41); /* pop r12 */
	b1(e, 0x5c);
	b1(e, 0x5b); /* pop rbx */
	b1(e, 0xc3); /* ret */
}

static void add_instret(struct emit *e, unsigned n)
{
	if (n <= 127) {
		if (n) {
			rr(e, 1, 0x83, 0, INSTRET); /* add r11, imm8 */
			b1(e, n);
		}
	} else {
		alu_imm(e, 1, 0, INSTRET, (int32_t)n);
	}
}

/*
 * Leave the block for pc rax, 'retired' instructions retired, through the
 * lookup stub.  Exits leave the new pc in a register only (rax, or r12 for
 * chained exits): whatever returns to the dispatcher from there (the stubs,
 * a chained entry that declines) stores it to h->pc.
 */
static void jmp_stub(struct emit *e);
static void jmp_back(struct emit *e, size_t target);

static void exit_rax(struct emit *e, unsigned retired)
{
	cache_writeback(e, 0);
	add_instret(e, retired);
	jmp_stub(e);
}

static size_t jcc_fwd(struct emit *e, unsigned cc);
static void patch_to(struct emit *e, size_t at, size_t target);
static size_t here(const struct emit *e);

/*
 * Leave for the guest-physical address 'target' (in the block's page), at
 * virtual pc r12, once instret is up to date.  The exit is first a call of
 * the chain stub, which hands the slot after it (the return address) to
 * the dispatcher (h->jit_link); once the dispatcher has found the target
 * block translated, jit_link() turns it into a jmp straight to that block's
 * chained entry, which makes its own checks (emit_chain_entry).  Same page,
 * so the same physical page whatever the virtual mapping.
 * Slot: the target's guest-physical address, right after the call.
 */
static void exit_chained(struct emit *e, uint64_t target)
{
	b1(e, 0xe8); /* call chain stub; linked: jmp target */
	b4(e, (uint32_t)(int32_t)(e->chain - (e->p + 4)));
	b8(e,
	   target | (target > e->paddr)); /* bit 0: a forward exit (instructions are 2-aligned) */
}

/* An exit not linked yet: its slot is the return address, for the dispatcher; pc in r12. */
static void emit_chain_stub(struct emit *e)
{
	b1(e, 0x59); /* pop rcx */
	rm(e, 1, 0x89, RCX, RBX, HOFF(jit_link));
	rm(e, 1, 0x89, R12, RBX, HOFF(pc));
	epilogue(e);
}

/* Back to the dispatcher from a chained entry that declines: pc in r12. */
static void emit_exit_stub(struct emit *e)
{
	rm(e, 1, 0x89, R12, RBX, HOFF(pc));
	epilogue(e);
}

/* Point the exit whose slot is at offset 'off' in the buffer at 'to' (jmp) or back at the chain
 * stub (call). */
static void patch_exit(struct hart *h, size_t off, uint8_t opcode, const uint8_t *to)
{
	uint8_t *wr = h->jit_wr + off;
	int32_t rel = (int32_t)(to - (h->jit_buf + off));
	wr[-5] = opcode;
	memcpy(wr - 4, &rel, sizeof(rel)); /* slots and rel32s sit unaligned in the buffer */
}

void jit_link(struct hart *h, uint64_t *slot, const struct block *b)
{
	uint64_t want;
	const uint8_t *at = (const uint8_t *)slot; /* where the code runs */
	memcpy(&want, at, sizeof(want));
	if (!b->jit || b->paddr != (want & ~1ull))
		return;
	/* Remember the link, for jit_unlink_all. */
	if (h->jit_nlinks == h->jit_links_cap) {
		size_t cap = h->jit_links_cap ? 2 * h->jit_links_cap : 1024;
		uint32_t *l = realloc(h->jit_links, cap * sizeof(*l));
		if (!l)
			return; /* stays unlinked: slower, still right */
		h->jit_links = l;
		h->jit_links_cap = cap;
	}
	size_t off = (size_t)(at - h->jit_buf);
	h->jit_links[h->jit_nlinks++] = (uint32_t)off;
	size_t entry = want & 1 ? h->jit_fwd_entry : JIT_CHAIN_ENTRY;
	patch_exit(h, off, 0xe9, (const uint8_t *)(void *)b->jit + entry);
}

void jit_unlink_all(struct hart *h)
{
	for (size_t i = 0; i < h->jit_nlinks; i++)
		patch_exit(h, h->jit_links[i], 0xe8, h->jit_buf + h->jit_chain_stub);
	h->jit_nlinks = 0;
}

/*
 * A block's chained entry, right after the frame setup: reached with the
 * target pc in r12 and instret already counted.  Go back to the dispatcher
 * when an interrupt, request or timer check is due; else run the block.
 * No check of the block's bytes is needed: a fence.i unlinks every chained
 * exit (jit_unlink_all), so after one each block is reached again through
 * the dispatcher, which compares them, before it is linked to again.
 *
 * Exits to a later address in the page enter past the interrupt and timer
 * checks (at h->jit_fwd_entry): a run of chained blocks can only come round
 * through an exit to the same or an earlier address (same-page chains only),
 * and those check; so do the lookup stub and self-loops.  Returns the offset
 * of that second entry in the block.
 */
static size_t emit_chain_entry(struct emit *e)
{
	size_t start = here(e);
	rm(e, 1, 0x8b, RDX, RBX, HOFF(pending)); /* x86 loads are atomic: a relaxed load */
	rm(e, 1, 0x23, RDX, RBX, HOFF(take_mask));
	patch_to(e, jcc_fwd(e, CC_NE), (size_t)(e->out - e->start));
	rm(e, 1, 0x3b, INSTRET, RBX, HOFF(next_timer_check));
	patch_to(e, jcc_fwd(e, CC_AE), (size_t)(e->out - e->start));
	return JIT_CHAIN_ENTRY + (here(e) - start);
}

_Static_assert(sizeof(struct jc_entry) == 32, "jump-cache entries are indexed by shifting 5");

/*
 * Shared by the blocks of a hart, at the start of its code buffer: go on at
 * virtual pc rax (instret already counted) in the translated block
 * the jump cache gives for it, under the same conditions as the
 * dispatcher's fast path (entry tagged with pc, mode and epoch; the fetch
 * TLB still maps pc as when the entry was made), unless an interrupt,
 * request or timer check is due or the block is not translated: then return
 * to the dispatcher.
 */
static void emit_lookup_stub(struct emit *e)
{
	size_t out[8];
	unsigned n = 0;
	rm(e, 1, 0x8b, RCX, RBX, HOFF(pending));
	rm(e, 1, 0x23, RCX, RBX, HOFF(take_mask));
	out[n++] = jcc_fwd(e, CC_NE);
	rm(e, 1, 0x3b, INSTRET, RBX, HOFF(next_timer_check));
	out[n++] = jcc_fwd(e, CC_AE);
	/* rdx = &h->jc[(pc >> 1) & (JC_SIZE - 1)] */
	rr(e, 1, 0x89, RAX, RDX);
	shift_imm(e, 1, 5, RDX, 1);
	alu_imm(e, 0, 4, RDX, JC_SIZE - 1);
	shift_imm(e, 0, 4, RDX, 5);
	rr(e, 1, 0x01, RBX, RDX);
	rm(e, 1, 0x3b, RAX, RDX,
	   (int32_t)(offsetof(struct hart, jc) + offsetof(struct jc_entry, vpc)));
	out[n++] = jcc_fwd(e, CC_NE);
	rm(e, 1, 0x8b, RCX, RBX, HOFF(jc_key));
	rm(e, 1, 0x3b, RCX, RDX,
	   (int32_t)(offsetof(struct hart, jc) + offsetof(struct jc_entry, key)));
	out[n++] = jcc_fwd(e, CC_NE);
	/* rsi = &h->itlb->x[(pc >> 12) & (TLB_SIZE - 1)] - offsetof(x) */
	rm(e, 1, 0x8b, RSI, RBX, HOFF(itlb));
	rr(e, 0, 0x89, RAX, RCX);
	shift_imm(e, 0, 5, RCX, 12);
	alu_imm(e, 0, 4, RCX, TLB_SIZE - 1);
	shift_imm(e, 0, 4, RCX, 4);
	rr(e, 1, 0x01, RCX, RSI);
	rr(e, 1, 0x89, RAX, RCX);
	alu_imm(e, 1, 4, RCX, -4096);
	int32_t x = (int32_t)offsetof(struct tlb_set, x);
	rm(e, 1, 0x3b, RCX, RSI, x + (int32_t)offsetof(struct tlb_entry, tag));
	out[n++] = jcc_fwd(e, CC_NE);
	rm(e, 1, 0x8b, RCX, RSI, x + (int32_t)offsetof(struct tlb_entry, addend));
	rm(e, 1, 0x3b, RCX, RDX,
	   (int32_t)(offsetof(struct hart, jc) + offsetof(struct jc_entry, addend)));
	out[n++] = jcc_fwd(e, CC_NE);
	rm(e, 1, 0x8b, RCX, RDX,
	   (int32_t)(offsetof(struct hart, jc) + offsetof(struct jc_entry, blk)));
	rm(e, 1, 0x8b, RCX, RCX, (int32_t)offsetof(struct block, jit));
	rr(e, 1, 0x85, RCX, RCX);
	out[n++] = jcc_fwd(e, CC_E);
	alu_imm(e, 1, 0, RCX, JIT_CHAIN_ENTRY);
	rr(e, 1, 0x89, RAX, R12);
	rr(e, 0, 0xff, 4, RCX); /* jmp rcx: its chained entry, same frame */
	for (unsigned i = 0; i < n; i++)
		patch_to(e, out[i], here(e));
	rm(e, 1, 0x89, RAX, RBX, HOFF(pc));
	epilogue(e);
}

/* jmp to the lookup stub, with the target pc in rax. */
static void jmp_stub(struct emit *e)
{
	b1(e, 0xe9);
	int64_t rel = e->stub - (e->p + 4);
	b4(e, (uint32_t)(int32_t)rel);
}

/* Leave for block pc + delta after 'retired' instructions. */
static void exit_static(struct emit *e, int64_t delta, unsigned retired)
{
	if (delta == 0) {
		/* Back to this block's start: a loop.  Unless an interrupt, request or
		 * timer check is due, run the body again with the registers still
		 * in host registers (no fence.i can happen inside a block). */
		add_instret(e, retired);
		rm(e, 1, 0x8b, RCX, RBX, HOFF(pending));
		rm(e, 1, 0x23, RCX, RBX, HOFF(take_mask));
		size_t busy = jcc_fwd(e, CC_NE);
		rm(e, 1, 0x3b, INSTRET, RBX, HOFF(next_timer_check));
		size_t timer = jcc_fwd(e, CC_AE);
		sext_all_in_place(e); /* the body starts with every register whole */
		jmp_back(e, e->body);
		patch_to(e, busy, here(e));
		patch_to(e, timer, here(e));
		pc_plus(e, RAX, 0);
		cache_writeback(e, 0);
		rm(e, 1, 0x89, RAX, RBX, HOFF(pc));
		epilogue(e);
		return;
	}
	int64_t off = (int64_t)(e->paddr & 0xfff) + delta;
	bool same_page = off >= 0 && off < 4096;
	pc_plus(e, same_page ? R12 : RAX, delta); /* same page: r12 becomes the target's pc */
	cache_writeback(e, 0);
	add_instret(e, retired);
	if (same_page)
		exit_chained(e, (e->paddr & ~0xfffull) + (uint64_t)off);
	else
		jmp_stub(e); /* another page: its mapping is checked there */
}

/* Forward jcc rel32; returns the offset of its rel32 field for patch(). */
static size_t jcc_fwd(struct emit *e, unsigned cc)
{
	b1(e, 0x0f);
	b1(e, 0x80 + cc);
	size_t at = (size_t)(e->p - e->start);
	b4(e, 0);
	return at;
}

/* Point the rel32 at 'at' to 'target' (offsets in the emitted code). */
static void patch_to(struct emit *e, size_t at, size_t target)
{
	if (e->overflow)
		return;
	int32_t rel = (int32_t)((int64_t)target - (int64_t)(at + 4));
	memcpy(e->start + at, &rel, 4);
}

static size_t here(const struct emit *e)
{
	return (size_t)(e->p - e->start);
}

static void jcc_back(struct emit *e, unsigned cc, size_t target)
{
	patch_to(e, jcc_fwd(e, cc), target);
}

static void jmp_back(struct emit *e, size_t target)
{
	b1(e, 0xe9);
	size_t at = here(e);
	b4(e, 0);
	patch_to(e, at, target);
}

/* ---- Helpers for rare operations: the interpreter's definitions ------------- */

typedef uint64_t (*helper_fn)(uint64_t a, uint64_t b, int64_t imm);

static uint64_t sx32(uint64_t v)
{
	return (uint64_t)(int64_t)(int32_t)v;
}

static uint64_t h_mulh(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return (uint64_t)(((__int128)(int64_t)a * (__int128)(int64_t)b) >> 64);
}
static uint64_t h_mulhu(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return (uint64_t)(((unsigned __int128)a * (unsigned __int128)b) >> 64);
}
static uint64_t h_mulhsu(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return (uint64_t)(((__int128)(int64_t)a * (__int128)(unsigned __int128)b) >> 64);
}
static uint64_t h_div(uint64_t ua, uint64_t ub, int64_t imm)
{
	(void)imm;
	int64_t a = (int64_t)ua, b = (int64_t)ub;
	return b == 0 ? ~0ull : (a == INT64_MIN && b == -1) ? (uint64_t)a : (uint64_t)(a / b);
}
static uint64_t h_divu(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return b == 0 ? ~0ull : a / b;
}
static uint64_t h_rem(uint64_t ua, uint64_t ub, int64_t imm)
{
	(void)imm;
	int64_t a = (int64_t)ua, b = (int64_t)ub;
	return b == 0 ? (uint64_t)a : (a == INT64_MIN && b == -1) ? 0 : (uint64_t)(a % b);
}
static uint64_t h_remu(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return b == 0 ? a : a % b;
}
static uint64_t h_divw(uint64_t ua, uint64_t ub, int64_t imm)
{
	(void)imm;
	int32_t a = (int32_t)ua, b = (int32_t)ub;
	return (uint64_t)(int64_t)(b == 0 ? -1 : (a == INT32_MIN && b == -1) ? a : a / b);
}
static uint64_t h_divuw(uint64_t ua, uint64_t ub, int64_t imm)
{
	(void)imm;
	uint32_t a = (uint32_t)ua, b = (uint32_t)ub;
	return sx32(b == 0 ? ~0u : a / b);
}
static uint64_t h_remw(uint64_t ua, uint64_t ub, int64_t imm)
{
	(void)imm;
	int32_t a = (int32_t)ua, b = (int32_t)ub;
	return (uint64_t)(int64_t)(b == 0 ? a : (a == INT32_MIN && b == -1) ? 0 : a % b);
}
static uint64_t h_remuw(uint64_t ua, uint64_t ub, int64_t imm)
{
	(void)imm;
	uint32_t a = (uint32_t)ua, b = (uint32_t)ub;
	return sx32(b == 0 ? a : a % b);
}
static uint64_t h_sh1add(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return (a << 1) + b;
}
static uint64_t h_sh2add(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return (a << 2) + b;
}
static uint64_t h_sh3add(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return (a << 3) + b;
}
static uint64_t h_add_uw(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return (uint32_t)a + b;
}
static uint64_t h_sh1add_uw(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return ((uint64_t)(uint32_t)a << 1) + b;
}
static uint64_t h_sh2add_uw(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return ((uint64_t)(uint32_t)a << 2) + b;
}
static uint64_t h_sh3add_uw(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return ((uint64_t)(uint32_t)a << 3) + b;
}
static uint64_t h_slli_uw(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b;
	return (uint64_t)(uint32_t)a << (imm & 63);
}
static uint64_t h_andn(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return a & ~b;
}
static uint64_t h_orn(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return a | ~b;
}
static uint64_t h_xnor(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return ~(a ^ b);
}
static uint64_t h_clz(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b, (void)imm;
	return a ? (uint64_t)__builtin_clzll(a) : 64;
}
static uint64_t h_ctz(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b, (void)imm;
	return a ? (uint64_t)__builtin_ctzll(a) : 64;
}
static uint64_t h_cpop(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b, (void)imm;
	return (uint64_t)__builtin_popcountll(a);
}
static uint64_t h_clzw(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b, (void)imm;
	return (uint32_t)a ? (uint64_t)__builtin_clz((uint32_t)a) : 32;
}
static uint64_t h_ctzw(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b, (void)imm;
	return (uint32_t)a ? (uint64_t)__builtin_ctz((uint32_t)a) : 32;
}
static uint64_t h_cpopw(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b, (void)imm;
	return (uint64_t)__builtin_popcount((uint32_t)a);
}
static uint64_t h_max(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return (int64_t)a > (int64_t)b ? a : b;
}
static uint64_t h_maxu(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return a > b ? a : b;
}
static uint64_t h_min(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return (int64_t)a < (int64_t)b ? a : b;
}
static uint64_t h_minu(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return a < b ? a : b;
}
static uint64_t h_sext_b(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b, (void)imm;
	return (uint64_t)(int64_t)(int8_t)a;
}
static uint64_t h_sext_h(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b, (void)imm;
	return (uint64_t)(int64_t)(int16_t)a;
}
static uint64_t h_zext_h(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b, (void)imm;
	return (uint16_t)a;
}
static uint64_t rotr64(uint64_t v, unsigned s)
{
	s &= 63;
	return (v >> s) | (v << ((64 - s) & 63));
}
static uint64_t rotr32(uint64_t a, unsigned s)
{
	uint32_t v = (uint32_t)a;
	s &= 31;
	return sx32((v >> s) | (v << ((32 - s) & 31)));
}
static uint64_t h_rol(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return rotr64(a, (unsigned)(64 - (b & 63)));
}
static uint64_t h_ror(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return rotr64(a, (unsigned)b);
}
static uint64_t h_rori(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b;
	return rotr64(a, (unsigned)imm);
}
static uint64_t h_rolw(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return rotr32(a, (unsigned)(32 - (b & 31)));
}
static uint64_t h_rorw(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return rotr32(a, (unsigned)b);
}
static uint64_t h_roriw(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b;
	return rotr32(a, (unsigned)imm);
}
static uint64_t h_orc_b(uint64_t v, uint64_t b, int64_t imm)
{
	(void)b, (void)imm;
	uint64_t r = 0;
	for (int i = 0; i < 64; i += 8)
		if ((v >> i) & 0xff)
			r |= 0xffull << i;
	return r;
}
static uint64_t h_rev8(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b, (void)imm;
	return __builtin_bswap64(a);
}
static uint64_t h_bclr(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return a & ~(1ull << (b & 63));
}
static uint64_t h_bclri(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b;
	return a & ~(1ull << (imm & 63));
}
static uint64_t h_bext(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return (a >> (b & 63)) & 1;
}
static uint64_t h_bexti(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b;
	return (a >> (imm & 63)) & 1;
}
static uint64_t h_binv(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return a ^ (1ull << (b & 63));
}
static uint64_t h_binvi(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b;
	return a ^ (1ull << (imm & 63));
}
static uint64_t h_bset(uint64_t a, uint64_t b, int64_t imm)
{
	(void)imm;
	return a | (1ull << (b & 63));
}
static uint64_t h_bseti(uint64_t a, uint64_t b, int64_t imm)
{
	(void)b;
	return a | (1ull << (imm & 63));
}

static helper_fn helper_for(enum cpu_op op)
{
	switch (op) {
	case OP_MULH:
		return h_mulh;
	case OP_MULHU:
		return h_mulhu;
	case OP_MULHSU:
		return h_mulhsu;
	case OP_DIV:
		return h_div;
	case OP_DIVU:
		return h_divu;
	case OP_REM:
		return h_rem;
	case OP_REMU:
		return h_remu;
	case OP_DIVW:
		return h_divw;
	case OP_DIVUW:
		return h_divuw;
	case OP_REMW:
		return h_remw;
	case OP_REMUW:
		return h_remuw;
	case OP_SH1ADD:
		return h_sh1add;
	case OP_SH2ADD:
		return h_sh2add;
	case OP_SH3ADD:
		return h_sh3add;
	case OP_ADD_UW:
		return h_add_uw;
	case OP_SH1ADD_UW:
		return h_sh1add_uw;
	case OP_SH2ADD_UW:
		return h_sh2add_uw;
	case OP_SH3ADD_UW:
		return h_sh3add_uw;
	case OP_SLLI_UW:
		return h_slli_uw;
	case OP_ANDN:
		return h_andn;
	case OP_ORN:
		return h_orn;
	case OP_XNOR:
		return h_xnor;
	case OP_CLZ:
		return h_clz;
	case OP_CTZ:
		return h_ctz;
	case OP_CPOP:
		return h_cpop;
	case OP_CLZW:
		return h_clzw;
	case OP_CTZW:
		return h_ctzw;
	case OP_CPOPW:
		return h_cpopw;
	case OP_MAX:
		return h_max;
	case OP_MAXU:
		return h_maxu;
	case OP_MIN:
		return h_min;
	case OP_MINU:
		return h_minu;
	case OP_SEXT_B:
		return h_sext_b;
	case OP_SEXT_H:
		return h_sext_h;
	case OP_ZEXT_H:
		return h_zext_h;
	case OP_ROL:
		return h_rol;
	case OP_ROR:
		return h_ror;
	case OP_RORI:
		return h_rori;
	case OP_ROLW:
		return h_rolw;
	case OP_RORW:
		return h_rorw;
	case OP_RORIW:
		return h_roriw;
	case OP_ORC_B:
		return h_orc_b;
	case OP_REV8:
		return h_rev8;
	case OP_BCLR:
		return h_bclr;
	case OP_BCLRI:
		return h_bclri;
	case OP_BEXT:
		return h_bext;
	case OP_BEXTI:
		return h_bexti;
	case OP_BINV:
		return h_binv;
	case OP_BINVI:
		return h_binvi;
	case OP_BSET:
		return h_bset;
	case OP_BSETI:
		return h_bseti;
	default:
		return NULL;
	}
}

/* ---- Translation ------------------------------------------------------------ */

/* A load or store whose TLB miss path is emitted after the block. */
struct slow {
	size_t jne_at;	/* rel32 of the jne taken on a miss */
	size_t resume;	/* where the fast path continues */
	uint64_t wr;	/* registers written before the access (emit.wr_now) */
	uint64_t dirty; /* ... and emit.dirty there */
	const struct insn *in;
	unsigned index; /* instructions before it in the block */
	int va;		/* the host register holding the virtual address */
	size_t hit;	/* where the fast path goes on with the addend in rcx */
	size_t fix_at;	/* a load's jne taken when its predicted addend is not the entry's */
	int32_t cell;	/* ... and the offset of that prediction in the hart */
	int32_t addend; /* offset of the entry's addend from the TLB set, plus rdx */
};

/*
 * A taken conditional branch, emitted after the block: the block's code
 * runs on straight along the way it was found to go (traces follow the
 * usual direction), and the exits' register writebacks stay out of the
 * instruction cache lines of the path that runs.
 */
struct cold_exit {
	size_t jcc_at;	/* rel32 of the jcc taken to leave */
	uint64_t wr;	/* emit.wr_now at the branch */
	uint64_t dirty; /* ... and emit.dirty */
	int64_t delta;	/* the target, from the block's pc */
	unsigned retired;
};

struct xlate {
	struct emit e;
	struct hart *h;
	struct slow slow[BLOCK_MAX_INSNS + 1];
	unsigned nslow;
	struct cold_exit cold[BLOCK_MAX_INSNS + 1];
	unsigned ncold;
	unsigned skip; /* an instruction emitted together with the one before */
};

struct memop {
	unsigned size;
	bool store;
	unsigned fast_op; /* opcode reading/writing [rcx + rax] */
	int fast_w;
	unsigned ext_op; /* register-form extension after a slow load (0: none) */
	int ext_w;
};

static bool memop_of(enum cpu_op op, struct memop *m)
{
	static const struct memop t[] = {
	    [OP_LB] = {1, false, 0x0fbe, 1, 0x0fbe, 1},
	    [OP_LH] = {2, false, 0x0fbf, 1, 0x0fbf, 1},
	    [OP_LW] = {4, false, 0x63, 1, 0x63, 1},
	    [OP_LD] = {8, false, 0x8b, 1, 0, 0},
	    [OP_LBU] = {1, false, 0x0fb6, 0, 0x0fb6, 0},
	    [OP_LHU] = {2, false, 0x0fb7, 0, 0x0fb7, 0},
	    [OP_LWU] = {4, false, 0x8b, 0, 0x8b, 0},
	    [OP_SB] = {1, true, 0x88, 0, 0x0fb6, 0},
	    [OP_SH] = {2, true, 0x89, 0, 0x0fb7, 0},
	    [OP_SW] = {4, true, 0x89, 0, 0x8b, 0},
	    [OP_SD] = {8, true, 0x89, 1, 0x8b, 1},
	};
	if ((unsigned)op >= sizeof(t) / sizeof(t[0]) || !t[op].size)
		return false;
	*m = t[op];
	return true;
}

/* A load's addend prediction (see struct hart): its offset in the hart, reset. */
static int32_t new_addend_cell(struct hart *h)
{
	unsigned k = h->jit_naddend++ % JIT_ADDEND_CELLS;
	h->jit_addend[k] = (struct jit_addend_cell){.addend = 1}; /* guess wrong first */
	return HOFF(jit_addend) + (int32_t)(k * sizeof(struct jit_addend_cell));
}

/* A wrong guess counts as a strike when it comes within this many instructions of the last. */
#define ADDEND_STRIKE_WINDOW 512
/* Strikes in a row after which a load stops guessing. */
#define ADDEND_STRIKES 16

static void jcc_back(struct emit *e, unsigned cc, size_t target);

/*
 * A load's guessed addend was wrong (rcx, rdx as at the TLB compare):
 * continue with the entry's, which becomes the guess (the hart's guess
 * stub), unless this load has stopped guessing.
 */
static void emit_addend_fix(struct emit *e, const struct slow *s)
{
	patch_to(e, s->fix_at, here(e));
	rmid(e, 1, 0x8b, RCX, DTLB, RDX, s->addend);
	rm(e, 1, 0x83, 7, RBX, s->cell); /* cmp qword [cell], 0: not guessing? */
	b1(e, 0);
	jcc_back(e, CC_E, s->hit);
	b1(e, 0xba); /* mov edx, cell */
	b4(e, (uint32_t)s->cell);
	b1(e, 0xe8); /* call the guess stub */
	b4(e, (uint32_t)(int32_t)(e->guess - (e->p + 4)));
	jmp_back(e, s->hit);
}

/*
 * Shared by a hart's loads: the entry's addend (rcx) becomes the guess of
 * the load whose cell is at rbx + rdx; a load that guesses wrong too often
 * (ADDEND_STRIKES wrong guesses, each within ADDEND_STRIKE_WINDOW
 * instructions of the last) stops guessing.  Keeps every register but rdx.
 */
static void emit_guess_stub(struct emit *e)
{
	b1(e, 0x50); /* push rax */
	rm(e, 1, 0x8d, RAX, RBX, 0);
	rr(e, 1, 0x01, RDX, RAX); /* rax = &cell: lea rax, [rbx]; add rax, rdx */
	rm(e, 1, 0x89, RCX, RAX, 0);
	rr(e, 0, 0x89, INSTRET, RDX); /* edx = instructions since the last wrong guess */
	rm(e, 0, 0x2b, RDX, RAX, (int32_t)offsetof(struct jit_addend_cell, last_miss));
	rm(e, 0, 0x89, INSTRET, RAX, (int32_t)offsetof(struct jit_addend_cell, last_miss));
	int32_t strikes = (int32_t)offsetof(struct jit_addend_cell, strikes);
	alu_imm(e, 0, 7, RDX, ADDEND_STRIKE_WINDOW);
	size_t calm = jcc_fwd(e, CC_AE);
	rm(e, 0, 0x83, 0, RAX, strikes); /* add dword [strikes], 1 */
	b1(e, 1);
	rm(e, 0, 0x83, 7, RAX, strikes);
	b1(e, ADDEND_STRIKES);
	size_t done = jcc_fwd(e, CC_B);
	rm(e, 1, 0xc7, 0, RAX, 0); /* mov qword [cell], 0: guess no more */
	b4(e, 0);
	b1(e, 0xe9); /* jmp done */
	size_t done2 = here(e);
	b4(e, 0);
	patch_to(e, calm, here(e));
	rm(e, 0, 0xc7, 0, RAX, strikes);
	b4(e, 0);
	patch_to(e, done, here(e));
	patch_to(e, done2, here(e));
	b1(e, 0x58); /* pop rax */
	b1(e, 0xc3); /* ret */
}

/* Whether the host has BMI2 (rorx), looked up once. */
static bool host_bmi2;

/* edx = the byte offset of va's entry in a TLB array. */
static void tlb_index(struct emit *e, int va)
{
	if (host_bmi2) {
		/* rorx edx, va32, 8: one instruction, no copy; the bits rotated
		 * to the top are masked off below */
		b1(e, 0xc4);
		b1(e, 0xe3 ^ (va >= 8 ? 0x20 : 0));
		b1(e, 0x7b);
		b1(e, 0xf0);
		b1(e, 0xc0 | (RDX & 7) << 3 | (va & 7));
		b1(e, 12 - 4);
	} else {
		rr(e, 0, 0x89, va, RDX);	 /* mov edx, va32 */
		shift_imm(e, 0, 5, RDX, 12 - 4); /* shr edx, 8 */
	}
	alu_imm(e, 0, 4, RDX, (TLB_SIZE - 1) << 4); /* and edx: the entry's byte offset */
}

/*
 * Inline TLB lookup for the access's virtual address, in the base register
 * itself when the offset is 0, else in rax; on a hit rcx = addend.  Records
 * the miss branch.
 */
static void emit_mem(struct xlate *x, const struct insn *in, unsigned index, const struct memop *m)
{
	struct emit *e = &x->e;
	int va = src_reg(e, in->rs1, RAX);
	uint64_t wr = e->wr_now, dirty_now = e->dirty; /* after the base is made whole */
	if (in->imm != 0) {
		rm(e, 1, 0x8d, RAX, va, in->imm); /* lea rax, [base + imm] */
		va = RAX;
	}
	tlb_index(e, va);
	if (m->size == 1)
		rr(e, 1, 0x89, va, RCX); /* mov rcx, va */
	else
		rm(e, 1, 0x8d, RCX, va, (int32_t)m->size - 1); /* lea rcx, [va + size-1] */
	alu_imm(e, 1, 4, RCX, -4096);			       /* and rcx, ~0xfff */
	int32_t set =
	    m->store ? (int32_t)offsetof(struct tlb_set, w) : (int32_t)offsetof(struct tlb_set, r);
	int32_t addend = set + (int32_t)offsetof(struct tlb_entry, addend);
	rmid(e, 1, 0x3b, RCX, DTLB, RDX, set + (int32_t)offsetof(struct tlb_entry, tag));
	size_t jne = jcc_fwd(e, CC_NE), fix = 0;
	int32_t cell = 0;
	if (m->store) {
		rmid(e, 1, 0x8b, RCX, DTLB, RDX, addend);
	} else {
		/* The addend this load had last time (see struct hart, jit_addend):
		 * the load below waits only for the address, not for the TLB; the
		 * entry's addend confirms it (a mismatch goes by emit_slow) */
		cell = new_addend_cell(x->h);
		rm(e, 1, 0x8b, RCX, RBX, cell);
		rmid(e, 1, 0x3b, RCX, DTLB, RDX, addend);
		fix = jcc_fwd(e, CC_NE);
	}
	size_t hit = here(e);
	if (m->store) {
		int v = m->size == 8 ? src_reg(e, in->rs2, RDX) : src_reg32(e, in->rs2, RDX);
		if (m->size == 1 && v >= RSP && v <= RDI) {
			/* Without a REX prefix these name ah..bh as bytes. */
			rr(e, 1, 0x89, v, RDX);
			v = RDX;
		}
		if (m->size == 2)
			b1(e, 0x66);
		rmi(e, m->fast_w, m->fast_op, v, RCX, va);
	} else {
		int d = dst_reg(e, in->rd);
		rmi(e, m->fast_w, m->fast_op, d, RCX, va);
		finish_rd(e, in->rd, d);
	}
	struct slow *s = &x->slow[x->nslow++];
	s->jne_at = jne;
	s->resume = here(e);
	s->wr = wr;
	s->dirty = dirty_now;
	s->in = in;
	s->index = index;
	s->va = va;
	s->hit = hit;
	s->fix_at = fix;
	s->cell = cell;
	s->addend = addend;
}

/* h->pc = this instruction, retire the ones before it, take h->exc_cause (h->x is
 * already written back: a slow path just did). */
static void emit_raise(struct emit *e, const struct insn *in, unsigned index)
{
	add_instret(e, index);
	pc_plus(e, RAX, in->pc_off);
	rm(e, 1, 0x89, RAX, RBX, HOFF(pc));
	rr(e, 1, 0x89, RBX, RDI);
	rm(e, 1, 0x8b, RSI, RBX, HOFF(exc_cause));
	rm(e, 1, 0x8b, RDX, RBX, HOFF(exc_tval));
	call(e, (const void *)trap_raise);
	epilogue(e);
}

/*
 * The TLB-miss path of one access: va is still in its register (s->va), rcx
 * holds the page compared and rdx the entry's offset.  The second way first
 * (see struct tlb_set), then mem_load/mem_store.
 */
static void emit_slow(struct xlate *x, const struct slow *s)
{
	struct emit *e = &x->e;
	struct memop m = {0};
	memop_of((enum cpu_op)s->in->opc, &m);
	if (!m.store)
		emit_addend_fix(e, s);
	patch_to(e, s->jne_at, here(e));
	int32_t way2 =
	    m.store ? (int32_t)offsetof(struct tlb_set, w2) : (int32_t)offsetof(struct tlb_set, r2);
	rmid(e, 1, 0x3b, RCX, DTLB, RDX, way2 + (int32_t)offsetof(struct tlb_entry, tag));
	size_t miss = jcc_fwd(e, CC_NE);
	rmid(e, 1, 0x8b, RCX, DTLB, RDX, way2 + (int32_t)offsetof(struct tlb_entry, addend));
	jmp_back(e, s->hit);
	patch_to(e, miss, here(e));
	e->wr_now = s->wr;
	e->dirty = s->dirty;
	cache_writeback(e, 0);
	rr(e, 1, 0x89, s->va, RSI); /* before rdi, which may be the base register */
	rr(e, 1, 0x89, RBX, RDI);
	mov_imm(e, RDX, m.size);
	if (m.store) {
		load_mem_x(e, RCX, s->in->rs2);
		rr(e, m.ext_w, m.ext_op, RCX, RCX); /* the value truncated to the access size */
		call_saving(e, (const void *)mem_store);
	} else {
		rr(e, 1, 0x89, RSP, RCX);
		call_saving(e, (const void *)mem_load);
	}
	rr(e, 0, 0x85, RAX, RAX); /* test eax, eax */
	size_t fail = jcc_fwd(e, CC_NE);
	if (!m.store) {
		rm(e, 1, 0x8b, RAX, RSP, 0);
		if (m.ext_op)
			rr(e, m.ext_w, m.ext_op, RAX, RAX);
		store_x(e, s->in->rd, RAX);
	}
	jmp_back(e, s->resume);
	patch_to(e, fail, here(e));
	emit_raise(e, s->in, s->index);
}

/* Conditional branch: leave for pc + imm when 'taken' holds for rs1 vs rs2. */
static void emit_branch(struct xlate *x, const struct insn *in, unsigned index, unsigned taken)
{
	struct emit *e = &x->e;
	unsigned r1 = in->rs1, r2 = in->rs2;
	if (r2 == 0 && r1 != 0 && e->host[r1] >= 0) {
		/* Against x0: test sets the flags cmp with 0 would.  A dirty register's low
		 * half alone tells zero from non-zero. */
		bool low = (taken == CC_E || taken == CC_NE) && dirty(e, r1);
		if (!low)
			sext32(e, r1);
		rr(e, !low, 0x85, e->host[r1], e->host[r1]);
	} else if (r2 == 0 && r1 != 0) {
		rm(e, 1, 0x83, 7, RBX, XOFF(r1)); /* cmp qword [rs1], 0 */
		b1(e, 0);
	} else if (r1 != 0 && e->host[r1] < 0 && e->host[r2] >= 0) {
		sext32(e, r2);
		rm(e, 1, 0x39, e->host[r2], RBX, XOFF(r1)); /* cmp [rs1], b */
	} else {
		int a = src_reg(e, r1, RAX);
		sext32(e, r2);
		if (e->host[r2] < 0)
			rm(e, 1, 0x3b, a, RBX, XOFF(r2)); /* cmp a, [rs2] */
		else
			rr(e, 1, 0x39, e->host[r2], a); /* cmp a, b */
	}
	struct cold_exit *c = &x->cold[x->ncold++];
	c->jcc_at = jcc_fwd(e, taken);
	c->wr = e->wr_now;
	c->dirty = e->dirty;
	c->delta = (int64_t)in->pc_off + in->imm;
	c->retired = index + 1;
}

static void emit_cold_exit(struct xlate *x, const struct cold_exit *c)
{
	struct emit *e = &x->e;
	patch_to(e, c->jcc_at, here(e));
	e->wr_now = c->wr;
	e->dirty = c->dirty;
	exit_static(e, c->delta, c->retired);
}

/* rd = rs1 <op> rs2 with a two-operand x86 ALU opcode; w32 sign-extends a W result. */
/* x86 /ext of the and, or, xor opcodes (81 /ext and the register forms). */
static bool is_bitwise(unsigned op_or_ext, bool imm)
{
	return imm ? (op_or_ext == 1 || op_or_ext == 4 || op_or_ext == 6)
		   : (op_or_ext == 0x09 || op_or_ext == 0x21 || op_or_ext == 0x31);
}

/* Whether guest register i is known to be the sign extension of its low 32 bits. */
static bool sext_known(const struct emit *e, unsigned i)
{
	return i == 0 || dirty(e, i);
}

/* rd = rs1 <op> rs2 with a two-operand x86 ALU opcode; w32: a W instruction. */
static void emit_alu_rr(struct emit *e, const struct insn *in, unsigned op, bool w32)
{
	/* and/or/xor of two sign-extended 32-bit values is one too: it stays dirty */
	bool narrow =
	    w32 || (is_bitwise(op, false) && sext_known(e, in->rs1) && sext_known(e, in->rs2));
	if (e->host[in->rs2] < 0) {
		/* rs2 in h->x: a memory operand (op + 2 is the reg, r/m form) */
		int a = w32 ? src_reg32(e, in->rs1, RAX) : src_reg(e, in->rs1, RAX),
		    d = dst_reg(e, in->rd);
		if (d != a)
			rr(e, 1, 0x89, a, d);
		rm(e, !w32, op + 2, d, RBX, XOFF(in->rs2));
		if (w32)
			finish_rd32(e, in->rd, d);
		else
			finish_rd(e, in->rd, d);
		return;
	}
	int a, b, d = dst_reg(e, in->rd);
	b = narrow ? src_reg32(e, in->rs2, RCX) : src_reg(e, in->rs2, RCX);
	if (in->rs1 != 0 && e->host[in->rs1] < 0 && d != b) {
		load_x(e, d, in->rs1); /* straight into the destination */
		a = d;
	} else {
		a = narrow ? src_reg32(e, in->rs1, RAX) : src_reg(e, in->rs1, RAX);
	}
	if (d == b && d != a) { /* rd is rs2: keep it before rd takes rs1 */
		rr(e, 1, 0x89, b, RCX);
		b = RCX;
	}
	if (d != a)
		rr(e, 1, 0x89, a, d);
	rr(e, !w32, op, b, d);
	if (narrow)
		finish_rd32(e, in->rd, d);
	else
		finish_rd(e, in->rd, d);
}

static void emit_alu_imm(struct emit *e, const struct insn *in, int ext, bool w32)
{
	/* the immediate is a sign-extended 12-bit value: and/or/xor keep a dirty source dirty */
	bool narrow = w32 || (is_bitwise((unsigned)ext, true) && dirty(e, in->rs1));
	int a = narrow ? src_reg32(e, in->rs1, RAX) : src_reg(e, in->rs1, RAX),
	    d = dst_reg(e, in->rd);
	if (w32 && ext == 0 && in->imm == 0) {
		/* sext.w: in a cache register, a copy marked dirty is the same value */
		if (d == RAX) {
			rr(e, 1, 0x63, RAX, a);
			finish_rd(e, in->rd, RAX);
		} else {
			if (d != a)
				rr(e, 1, 0x89, a, d);
			finish_rd32(e, in->rd, d);
		}
		return;
	}
	if (d != a)
		rr(e, 1, 0x89, a, d);
	/* add/or/xor of 0 change nothing (mv) */
	if (in->imm != 0 || ext == 4)
		alu_imm(e, !w32, ext, d, in->imm);
	if (narrow)
		finish_rd32(e, in->rd, d);
	else
		finish_rd(e, in->rd, d);
}

static void emit_shift_imm(struct emit *e, const struct insn *in, int ext, bool w32)
{
	int a = w32 ? src_reg32(e, in->rs1, RAX) : src_reg(e, in->rs1, RAX), d = dst_reg(e, in->rd);
	if (d != a)
		rr(e, 1, 0x89, a, d);
	shift_imm(e, !w32, ext, d, (unsigned)in->imm & (w32 ? 31 : 63));
	if (w32)
		finish_rd32(e, in->rd, d);
	else
		finish_rd(e, in->rd, d);
}

/* Shift by rs2: x86 masks the count by 63 (64-bit) or 31 (32-bit) as RISC-V does, so only
 * the count's low bits matter. */
static void emit_shift_rr(struct emit *e, const struct insn *in, int ext, bool w32)
{
	int b = src_reg32(e, in->rs2, RCX);
	if (b != RCX)
		rr(e, 1, 0x89, b, RCX);
	int a = w32 ? src_reg32(e, in->rs1, RAX) : src_reg(e, in->rs1, RAX), d = dst_reg(e, in->rd);
	if (d != a)
		rr(e, 1, 0x89, a, d);
	rr(e, !w32, 0xd3, ext, d);
	if (w32)
		finish_rd32(e, in->rd, d);
	else
		finish_rd(e, in->rd, d);
}

/* rd = (rs1 <cc> operand) ? 1 : 0, with operand rs2 or the immediate. */
static void emit_set(struct emit *e, const struct insn *in, unsigned cc, bool imm)
{
	load_x(e, RAX, in->rs1);
	rr(e, 0, 0x31, RDX, RDX); /* xor edx, edx */
	if (imm) {
		alu_imm(e, 1, 7, RAX, in->imm);
	} else {
		load_x(e, RCX, in->rs2);
		rr(e, 1, 0x39, RCX, RAX);
	}
	rr(e, 0, 0x0f90 + cc, 0, RDX); /* setcc dl */
	store_x(e, in->rd, RDX);
}

static void emit_helper(struct emit *e, const struct insn *in, helper_fn fn)
{
	cache_writeback(e, 0);
	e->dirty = 0; /* written back whole, and reloaded so after the call */
	load_mem_x(e, RDI, in->rs1);
	load_mem_x(e, RSI, in->rs2);
	mov_imm(e, RDX, in->imm);
	call_saving(e, (const void *)fn);
	store_x(e, in->rd, RAX);
}

/*
 * The next instruction ends in the next virtual page: go on only if that
 * page still maps b->page2 in the fetch TLB and holds the same halfword,
 * else leave for the instruction's pc (see block.c, add_straddling).
 */
static void emit_page2_guard(struct emit *e, const struct block *b, const struct insn *in,
			     unsigned index)
{
	size_t fail[3];
	pc_plus(e, RAX, (int64_t)in->pc_off + 2); /* the next page's virtual address */
	rr(e, 0, 0x89, RAX, RDX);
	shift_imm(e, 0, 5, RDX, 12 - 4);
	alu_imm(e, 0, 4, RDX, (TLB_SIZE - 1) << 4);
	rm(e, 1, 0x03, RDX, RBX, HOFF(itlb));
	int32_t x = (int32_t)offsetof(struct tlb_set, x);
	rm(e, 1, 0x3b, RAX, RDX, x + (int32_t)offsetof(struct tlb_entry, tag));
	fail[0] = jcc_fwd(e, CC_NE);
	rm(e, 1, 0x8b, RCX, RDX, x + (int32_t)offsetof(struct tlb_entry, addend));
	rr(e, 1, 0x01, RAX, RCX); /* rcx = host address of the next page */
	mov_imm(e, RDX, (int64_t)(uintptr_t)b->page2);
	rr(e, 1, 0x39, RDX, RCX);
	fail[1] = jcc_fwd(e, CC_NE);
	rm(e, 0, 0x0fb7, RDX, RCX, 0); /* movzx edx, word [rcx] */
	alu_imm(e, 0, 7, RDX, in->imm);
	fail[2] = jcc_fwd(e, CC_NE);
	b1(e, 0xe9);
	size_t ok = here(e);
	b4(e, 0);
	for (unsigned i = 0; i < 3; i++)
		patch_to(e, fail[i], here(e));
	exit_static(e, in->pc_off, index);
	patch_to(e, ok, here(e));
}

/* rd = rs1, straight between cache registers and h->x where it can (dirtiness goes along). */
static void emit_mv(struct emit *e, const struct insn *in)
{
	unsigned rd = in->rd, rs = in->rs1;
	if (rd == 32)
		return;
	int d = e->host[rd], s = rs ? e->host[rs] : -1;
	if (d >= 0 && s >= 0) {
		if (d != s)
			rr(e, 1, 0x89, s, d);
		bool narrow = dirty(e, rs);
		e->wr_now |= 1ull << rd;
		e->dirty = (e->dirty & ~(1ull << rd)) | (uint64_t)narrow << rd;
	} else if (d >= 0) {
		load_x(e, d, rs); /* from h->x, or 0 */
		finish_rd(e, rd, d);
	} else if (s >= 0 && !dirty(e, rs)) {
		rm(e, 1, 0x89, s, RBX, XOFF(rd));
	} else {
		load_x(e, RAX, rs);
		store_x(e, rd, RAX);
	}
}

/* slli rd, rs, 32; srli rd, rd, 32: the zero extension of rs's low word (zext.w). */
static bool is_zext_w(const struct insn *a, const struct insn *b)
{
	return a->opc == OP_SLLI && a->imm == 32 && b->opc == OP_SRLI && b->imm == 32 &&
	       b->rs1 == a->rd && b->rd == a->rd && a->rd != 32;
}

/* Emit one instruction (a pair, setting x->skip, where two make one host instruction); false if
 * it is not one the JIT handles. */
static bool emit_insn(struct xlate *x, const struct block *b, unsigned i)
{
	struct emit *e = &x->e;
	const struct insn *in = &b->insn[i];
	enum cpu_op op = (enum cpu_op)in->opc;
	struct memop m;
	if (memop_of(op, &m)) {
		emit_mem(x, in, i, &m);
		return true;
	}
	helper_fn fn = helper_for(op);
	if (fn) {
		emit_helper(e, in, fn);
		return true;
	}
	switch (op) {
	case OP_END:
		exit_static(e, in->pc_off, i);
		return true;
	case OP_PAGE2_GUARD:
		emit_page2_guard(e, b, in, i);
		return true;
	case OP_JAL_FOLD:
		if (in->rd != 32) {
			pc_plus(e, RAX, (int64_t)in->pc_off + in->len);
			store_x(e, in->rd, RAX);
		}
		return true;
	case OP_LUI:
	case OP_LI:
		mov_imm(e, RAX, in->imm);
		store_x(e, in->rd, RAX);
		return true;
	case OP_AUIPC:
		pc_plus(e, RAX, (int64_t)in->pc_off + in->imm);
		store_x(e, in->rd, RAX);
		return true;
	case OP_MV:
		emit_mv(e, in);
		return true;
	case OP_JAL:
		pc_plus(e, RCX, (int64_t)in->pc_off + in->len);
		store_x(e, in->rd, RCX);
		exit_static(e, (int64_t)in->pc_off + in->imm, i + 1);
		return true;
	case OP_JALR:
		/* The target first: rd may be rs1. */
		load_x(e, RAX, in->rs1);
		alu_imm(e, 1, 0, RAX, in->imm);
		alu_imm(e, 1, 4, RAX, -2);
		pc_plus(e, RCX, (int64_t)in->pc_off + in->len);
		store_x(e, in->rd, RCX);
		exit_rax(e, i + 1);
		return true;
	case OP_BEQ:
		emit_branch(x, in, i, CC_E);
		return true;
	case OP_BNE:
		emit_branch(x, in, i, CC_NE);
		return true;
	case OP_BLT:
		emit_branch(x, in, i, CC_L);
		return true;
	case OP_BGE:
		emit_branch(x, in, i, CC_GE);
		return true;
	case OP_BLTU:
		emit_branch(x, in, i, CC_B);
		return true;
	case OP_BGEU:
		emit_branch(x, in, i, CC_AE);
		return true;
	case OP_ADDI:
		emit_alu_imm(e, in, 0, false);
		return true;
	case OP_XORI:
		emit_alu_imm(e, in, 6, false);
		return true;
	case OP_ORI:
		emit_alu_imm(e, in, 1, false);
		return true;
	case OP_ANDI:
		emit_alu_imm(e, in, 4, false);
		return true;
	case OP_ADDIW:
		emit_alu_imm(e, in, 0, true);
		return true;
	case OP_SLTI:
		emit_set(e, in, CC_L, true);
		return true;
	case OP_SLTIU:
		emit_set(e, in, CC_B, true);
		return true;
	case OP_SLT:
		emit_set(e, in, CC_L, false);
		return true;
	case OP_SLTU:
		emit_set(e, in, CC_B, false);
		return true;
	case OP_SLLI:
		if (i < b->ninsn && is_zext_w(in, in + 1)) {
			/* a 32-bit mov clears the upper half */
			int a = src_reg32(e, in->rs1, RAX), d = dst_reg(e, in->rd);
			rr(e, 0, 0x89, a, d);
			finish_rd(e, in->rd, d);
			x->skip = i + 1;
			return true;
		}
		emit_shift_imm(e, in, 4, false);
		return true;
	case OP_SRLI:
		emit_shift_imm(e, in, 5, false);
		return true;
	case OP_SRAI:
		emit_shift_imm(e, in, 7, false);
		return true;
	case OP_SLLIW:
		emit_shift_imm(e, in, 4, true);
		return true;
	case OP_SRLIW:
		emit_shift_imm(e, in, 5, true);
		return true;
	case OP_SRAIW:
		emit_shift_imm(e, in, 7, true);
		return true;
	case OP_SLL:
		emit_shift_rr(e, in, 4, false);
		return true;
	case OP_SRL:
		emit_shift_rr(e, in, 5, false);
		return true;
	case OP_SRA:
		emit_shift_rr(e, in, 7, false);
		return true;
	case OP_SLLW:
		emit_shift_rr(e, in, 4, true);
		return true;
	case OP_SRLW:
		emit_shift_rr(e, in, 5, true);
		return true;
	case OP_SRAW:
		emit_shift_rr(e, in, 7, true);
		return true;
	case OP_ADD:
		emit_alu_rr(e, in, 0x01, false);
		return true;
	case OP_SUB:
		emit_alu_rr(e, in, 0x29, false);
		return true;
	case OP_XOR:
		emit_alu_rr(e, in, 0x31, false);
		return true;
	case OP_OR:
		emit_alu_rr(e, in, 0x09, false);
		return true;
	case OP_AND:
		emit_alu_rr(e, in, 0x21, false);
		return true;
	case OP_ADDW:
		emit_alu_rr(e, in, 0x01, true);
		return true;
	case OP_SUBW:
		emit_alu_rr(e, in, 0x29, true);
		return true;
	case OP_MUL:
	case OP_MULW: {
		bool w32 = op == OP_MULW;
		int a = w32 ? src_reg32(e, in->rs1, RAX) : src_reg(e, in->rs1, RAX);
		int b = w32 ? src_reg32(e, in->rs2, RCX) : src_reg(e, in->rs2, RCX);
		int d = dst_reg(e, in->rd);
		if (d == b && d != a) {
			rr(e, !w32, 0x0faf, d, a); /* imul d, a: commutes */
		} else {
			if (d != a)
				rr(e, 1, 0x89, a, d);
			rr(e, !w32, 0x0faf, d, b);
		}
		if (w32)
			finish_rd32(e, in->rd, d);
		else
			finish_rd(e, in->rd, d);
		return true;
	}
	case OP_FENCE:
		/* As the interpreter: only ordering a store before a later load needs mfence. */
		if ((in->imm & 0x50) && (in->imm & 0x0a)) {
			b1(e, 0x0f);
			b1(e, 0xae);
			b1(e, 0xf0);
		}
		return true;
	case OP_FENCE_TSO:
		return true;
	default:
		return false;
	}
}

/*
 * With VESSEL_JIT_PERFMAP set, every translated block is listed in
 * /tmp/perf-PID.map, the file Linux perf reads to name JIT code, so a
 * profile shows which guest blocks the host time goes to.
 */
static FILE *perf_map;
static pthread_mutex_t perf_map_lock = PTHREAD_MUTEX_INITIALIZER;

static void perf_map_open(void)
{
	char path[64];
	if (!getenv("VESSEL_JIT_PERFMAP"))
		return;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	perf_map = fopen(path, "w");
}

static void perf_map_add(const void *code, const uint8_t *bytes, size_t len, const struct block *b,
			 uint64_t pc)
{
	if (!perf_map)
		return;
	pthread_mutex_lock(&perf_map_lock);
	fprintf(perf_map, "%lx %zx guest-%llx-v%llx\n", (unsigned long)(uintptr_t)code, len,
		(unsigned long long)b->paddr, (unsigned long long)pc);
	fflush(perf_map);
	pthread_mutex_unlock(&perf_map_lock);
	if (getenv("VESSEL_JIT_DUMP")) {
		char path[96];
		snprintf(path, sizeof(path), "/tmp/jit-%d-%llx.bin", (int)getpid(),
			 (unsigned long long)pc);
		FILE *f = fopen(path, "w");
		if (f) {
			fwrite(bytes, 1, len, f);
			fclose(f);
		}
	}
}

/*
 * The code buffer is one memory object mapped twice: executable at jit_buf,
 * writable at jit_wr, so no page is ever writable and executable at once
 * (a guest that found a way to make the VMM write where it chooses still
 * could not write code).  Code is emitted at jit_wr + offset and runs at
 * jit_buf + offset; branches between two places of the buffer are relative,
 * the same in both views.
 */
static int jit_buf_map(struct hart *h, size_t size)
{
	int fd = memfd_create("vessel-jit", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = 0;
	void *x = MAP_FAILED, *w = MAP_FAILED;
	if (ftruncate(fd, (off_t)size))
		r = -errno;
	if (!r && (x = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0)) == MAP_FAILED)
		r = -errno;
	if (!r && (w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
		r = -errno;
	close(fd);
	if (r) {
		if (x != MAP_FAILED)
			munmap(x, size);
		return r;
	}
	h->jit_buf = x;
	h->jit_wr = w;
	h->jit_size = size;
	return 0;
}

static void jit_buf_unmap(struct hart *h)
{
	munmap(h->jit_buf, h->jit_size);
	munmap(h->jit_wr, h->jit_size);
}

/* Where the code written at w (in the writable view) runs. */
static void *jit_exec_addr(const struct hart *h, const uint8_t *w)
{
	return h->jit_buf + (w - h->jit_wr);
}

int jit_init(struct hart *h)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, perf_map_open);
	host_bmi2 = __builtin_cpu_supports("bmi2");
	int r = jit_buf_map(h, JIT_BUF_BYTES);
	if (r)
		return r;
	h->jit_used = 0;
	return 0;
}

void jit_destroy(struct hart *h)
{
	if (h->jit_buf)
		jit_buf_unmap(h);
	free(h->jit_links);
	h->jit_links = NULL;
	h->jit_nlinks = h->jit_links_cap = 0;
	h->jit_buf = h->jit_wr = NULL;
	h->jit_size = h->jit_used = 0;
}

/* Whether 'in' may leave its block for the block's own start (a loop). */
static bool exits_to_start(const struct insn *in)
{
	switch ((enum cpu_op)in->opc) {
	case OP_END:
		return in->pc_off == 0;
	case OP_JAL:
	case OP_BEQ:
	case OP_BNE:
	case OP_BLT:
	case OP_BGE:
	case OP_BLTU:
	case OP_BGEU:
		return (int64_t)in->pc_off + in->imm == 0;
	default:
		return false;
	}
}

/* Give the most used guest registers of b host registers. */
static void cache_assign(struct emit *e, const struct block *b)
{
	unsigned uses[33] = {0};
	uint64_t read_first = 0;
	bool loops = false;
	e->written = 0;
	for (unsigned i = 0; i <= b->ninsn; i++) {
		const struct insn *in = &b->insn[i];
		uses[in->rd]++;
		uses[in->rs1]++;
		uses[in->rs2]++;
		read_first |= ((1ull << in->rs1) | (1ull << in->rs2)) & ~e->written;
		e->written |= 1ull << in->rd;
		loops |= exits_to_start(in);
	}
	/* A block that loops on itself runs its body again with every cached
	 * register live: all are loaded at entry and count as written. */
	e->live_in = loops ? ~0ull : read_first;
	e->wr_now = loops ? e->written : 0;
	e->dirty = 0;
	uses[0] = 0; /* x0 reads as 0 and x32 is the sink: neither is cached */
	memset(e->host, -1, sizeof(e->host));
	for (unsigned k = 0; k < NCACHE; k++) {
		unsigned best = 0;
		for (unsigned i = 1; i < 32; i++)
			if (e->host[i] < 0 && uses[i] > uses[best])
				best = i;
		if (uses[best] < 2)
			break;
		e->host[best] = cache_regs[k];
	}
}

int jit_translate(struct hart *h, struct block *b)
{
	if (!h->jit_buf || h->jit_size - h->jit_used < JIT_BLOCK_MAX)
		return -ENOSPC;
	struct xlate x;
	if (h->jit_used == 0 && perf_map) {
		/* Profiling: never reuse addresses perf already has names for (leaks the old
		 * buffer; on failure the old one is reused). */
		jit_buf_map(h, h->jit_size);
	}
	if (h->jit_used == 0) {
		/* A fresh buffer starts with the lookup and chain stubs. */
		x.e.start = x.e.p = h->jit_wr;
		x.e.end = h->jit_wr + h->jit_size;
		x.e.overflow = false;
		emit_lookup_stub(&x.e);
		h->jit_chain_stub = ((size_t)(x.e.p - x.e.start) + 15) & ~(size_t)15;
		x.e.p = x.e.start + h->jit_chain_stub;
		emit_chain_stub(&x.e);
		h->jit_exit_stub = ((size_t)(x.e.p - x.e.start) + 15) & ~(size_t)15;
		x.e.p = x.e.start + h->jit_exit_stub;
		emit_exit_stub(&x.e);
		h->jit_guess_stub = ((size_t)(x.e.p - x.e.start) + 15) & ~(size_t)15;
		x.e.p = x.e.start + h->jit_guess_stub;
		emit_guess_stub(&x.e);
		if (x.e.overflow)
			return -ENOSPC;
		h->jit_used = ((size_t)(x.e.p - x.e.start) + 15) & ~(size_t)15;
	}
	x.e.stub = h->jit_wr;
	x.e.chain = h->jit_wr + h->jit_chain_stub;
	x.e.out = h->jit_wr + h->jit_exit_stub;
	x.e.guess = h->jit_wr + h->jit_guess_stub;
	x.e.start = x.e.p = h->jit_wr + h->jit_used;
	x.e.end = h->jit_wr + h->jit_size;
	x.e.overflow = false;
	x.nslow = 0;
	x.h = h;
	x.ncold = 0;
	cache_assign(&x.e, b);
	x.e.paddr = b->paddr;
	prologue(&x.e);
	b1(&x.e, 0xe9); /* jmp over the chained entry */
	size_t skip = here(&x.e);
	b4(&x.e, 0);
	if (here(&x.e) != JIT_CHAIN_ENTRY) { /* cannot happen: a fixed encoding */
		b->jit_failed = true;
		return -ENOTSUP;
	}
	/* Chained exits of other blocks enter here, past the frame setup. */
	size_t fwd = emit_chain_entry(&x.e);
	if (h->jit_fwd_entry && fwd != h->jit_fwd_entry) { /* cannot happen: fixed encodings */
		b->jit_failed = true;
		return -ENOTSUP;
	}
	h->jit_fwd_entry = fwd;
	patch_to(&x.e, skip, here(&x.e));
	cache_reload(&x.e, 0, x.e.live_in);
	x.e.body = here(&x.e);
	x.skip = 0; /* instruction 0 is never the second of a pair */
	for (unsigned i = 0; i <= b->ninsn; i++) {
		if (i && i == x.skip)
			continue;
		if (!emit_insn(&x, b, i)) {
			b->jit_failed = true;
			return -ENOTSUP;
		}
		if ((enum cpu_op)b->insn[i].opc == OP_END)
			break;
	}
	for (unsigned i = 0; i < x.ncold; i++)
		emit_cold_exit(&x, &x.cold[i]);
	for (unsigned i = 0; i < x.nslow; i++)
		emit_slow(&x, &x.slow[i]);
	if (x.e.overflow)
		return -ENOSPC;
	size_t used = (size_t)(x.e.p - x.e.start);
	h->jit_used += (used + 15) & ~(size_t)15;
	b->jit = (void (*)(struct hart *))jit_exec_addr(h, x.e.start);
	perf_map_add((const void *)b->jit, x.e.start, used, b,
		     h->pc); /* h->pc: where b is entered now */
	return 0;
}
