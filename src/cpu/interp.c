/* SPDX-License-Identifier: MIT */
/*
 * The interpreter: threaded dispatch (computed goto) over pre-decoded
 * blocks.  Between blocks it looks at pending interrupts and, every few
 * thousand instructions, at the clock; inside a block each handler ends by
 * jumping straight to the next instruction's handler.
 *
 * Loads and stores hit a per-mode TLB of host addresses; on a miss (or
 * MMIO, or a page-crossing access) they take the slow path in mmu.c.
 *
 * A block that has run often enough is handed to the JIT (jit.h); from then
 * on the dispatcher calls its host code instead of the handlers.
 */
#include "cpu/interp.h"

#include <errno.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/csr.h"
#include "cpu/fpu.h"
#include "cpu/jit.h"
#include "cpu/ops.h"
#include "cpu/mmu.h"
#include "cpu/trap.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* How often (in instructions) a busy hart looks at the clock for timer interrupts. */
#define TIMER_CHECK_INTERVAL 32768

#define CANON_NAN_F32 0x7fc00000u

static inline uint32_t unbox32(uint64_t v)
{
	return (v >> 32) == 0xffffffffu ? (uint32_t)v : CANON_NAN_F32;
}

static inline uint64_t mulh64(int64_t a, int64_t b)
{
	return (uint64_t)(((__int128)a * (__int128)b) >> 64);
}
static inline uint64_t mulhu64(uint64_t a, uint64_t b)
{
	return (uint64_t)(((unsigned __int128)a * (unsigned __int128)b) >> 64);
}
static inline uint64_t mulhsu64(int64_t a, uint64_t b)
{
	return (uint64_t)(((__int128)a * (__int128)(unsigned __int128)b) >> 64);
}

static inline uint64_t sext32(uint64_t v)
{
	return (uint64_t)(int64_t)(int32_t)v;
}

void interp_init(void)
{
	interp_run(NULL);
}

void interp_run(struct hart *h)
{
	static const void *const labels[OP_COUNT] = {
#define CPU_OP_LABEL(name) [OP_##name] = &&op_##name,
	    CPU_OPS(CPU_OP_LABEL)
#undef CPU_OP_LABEL
	};
	if (!h) {
		cpu_op_labels = labels;
		return;
	}

	uint64_t *const x = h->x;
	uint64_t *const f = h->f;
	const struct insn *ip;
	struct block *blk;
	struct tlb_set *dtlb;
	uint64_t bpc; /* virtual address of the current block */

#define NEXT                                                                                       \
	do {                                                                                       \
		ip++;                                                                              \
		goto * ip->op;                                                                     \
	} while (0)
#define PC	(bpc + ip->pc_off)
#define RETIRED ((uint64_t)(ip - blk->insn))
/* Leave the block after this instruction retires, continuing at 'target'. */
#define JUMP(target)                                                                               \
	do {                                                                                       \
		h->instret += RETIRED + 1;                                                         \
		h->pc = (target);                                                                  \
		goto dispatch;                                                                     \
	} while (0)
#define RD  x[ip->rd]
#define RS1 x[ip->rs1]
#define RS2 x[ip->rs2]
#define IMM ((int64_t)ip->imm)

	h->jit_link = NULL;
dispatch:
	if (unlikely(h->instret >= h->next_timer_check)) {
		hart_check_timers(h);
		h->next_timer_check = h->instret + TIMER_CHECK_INTERVAL;
	}
	{
		uint64_t p = atomic_load_explicit(&h->pending, memory_order_relaxed) & h->take_mask;
		if (unlikely(p)) {
			if (p & PENDING_STOP)
				return;
			if (p & PENDING_TLB_FLUSH) {
				atomic_fetch_and(&h->pending, ~PENDING_TLB_FLUSH);
				tlb_flush_everything(h);
				dtlb = h->dtlb;
			}
			if (p & ~PENDING_REQUESTS)
				trap_take_interrupt(h, p & ~PENDING_REQUESTS);
		}
	}
	{
		uint64_t pc = h->pc;
		const struct jc_entry *e = &h->jc[(pc >> 1) & (JC_SIZE - 1)];
		const struct tlb_entry *t = &h->itlb->x[(pc >> 12) & (TLB_SIZE - 1)];
		if (likely(e->vpc == pc && e->key == h->jc_key && t->tag == (pc & ~0xfffull) &&
			   t->addend == e->addend)) {
			blk = e->blk;
		} else {
			blk = block_lookup(h, pc);
			if (unlikely(!blk)) {
				trap_raise(h, h->exc_cause, h->exc_tval);
				goto dispatch;
			}
		}
		if (unlikely(!blk->jit && h->jit_enabled) && blk->replaced) {
			/* By its trace (block_retrace); only a block left untranslated can
			 * have one, and only with the JIT on: the interpreter alone never
			 * looks. */
			blk = blk->replaced;
		}
		if (unlikely(!blk->jit && h->jit_enabled && !blk->jit_failed &&
			     blk != h->scratch_block && blk->execs++ >= h->jit_threshold)) {
			blk = block_retrace(h, blk, pc);
			if (jit_translate(h, blk) == -ENOSPC) {
				/* Code buffer full: both caches start afresh (blk too). */
				block_cache_flush(h);
				goto dispatch;
			}
		}
		if (h->jit_link) {
			/* The exit just taken may chain to this block from now on
			 * (if no interrupt sent us elsewhere). */
			jit_link(h, h->jit_link, blk);
			h->jit_link = NULL;
		}
		if (blk->jit) {
			blk->jit(h);
			goto dispatch;
		}
		bpc = pc;
		dtlb = h->dtlb;
		ip = blk->insn;
		goto * ip->op;
	}

mem_exception:
	/* A slow path stored the exception in h->exc_cause / h->exc_tval. */
	h->instret += RETIRED;
	h->pc = PC;
	trap_raise(h, h->exc_cause, h->exc_tval);
	goto dispatch;

illegal_insn:
	h->instret += RETIRED;
	h->pc = PC;
	trap_raise(h, CAUSE_ILLEGAL_INSN, 0);
	goto dispatch;

op_END:
	h->instret += RETIRED;
	h->pc = PC;
	goto dispatch;

op_PAGE2_GUARD : { /* the next instruction ends in the next page (block.c) */
	uint64_t va2 = PC + 2;
	const struct tlb_entry *t = &h->itlb->x[(va2 >> 12) & (TLB_SIZE - 1)];
	const uint8_t *p2 = (const uint8_t *)(t->addend + va2);
	uint16_t half;
	if (likely(t->tag == va2 && p2 == blk->page2 &&
		   (memcpy(&half, p2, 2), half == (uint16_t)ip->imm)))
		NEXT;
	h->instret += RETIRED; /* changed: decode it afresh at its pc */
	h->pc = PC;
	goto dispatch;
}
op_JAL_FOLD: /* a jal whose target the block goes on with */
	RD = PC + ip->len;
	NEXT;

op_ILLEGAL:
	h->instret += RETIRED;
	h->pc = PC;
	trap_raise(h, CAUSE_ILLEGAL_INSN, (uint64_t)(uint32_t)ip->imm);
	goto dispatch;

	/* ---- RV64I ---------------------------------------------------------------- */
op_LUI:
	RD = IMM;
	NEXT;
op_AUIPC:
	RD = PC + IMM;
	NEXT;
op_LI:
	RD = IMM;
	NEXT;
op_MV:
	RD = RS1;
	NEXT;
op_JAL : {
	uint64_t pc = PC;
	RD = pc + ip->len;
	JUMP(pc + IMM);
}
op_JALR : {
	uint64_t target = (RS1 + IMM) & ~1ull;
	RD = PC + ip->len;
	JUMP(target);
}

#define BRANCH(name, cond)                                                                         \
	op_##name : if (cond)                                                                      \
	{                                                                                          \
		blk->taken++; /* the profile block_retrace reads */                                \
		JUMP(PC + IMM);                                                                    \
	}                                                                                          \
	NEXT;
	BRANCH(BEQ, RS1 == RS2)
	BRANCH(BNE, RS1 != RS2)
	BRANCH(BLT, (int64_t)RS1 < (int64_t)RS2)
	BRANCH(BGE, (int64_t)RS1 >= (int64_t)RS2)
	BRANCH(BLTU, RS1 < RS2)
	BRANCH(BGEU, RS1 >= RS2)

	/* Loads: TLB hit when the entry for va's page is tagged with the page of the last byte,
	 * which also rules out page-crossing accesses. */
#define LOAD(name, T, EXT)                                                                         \
	op_##name:                                                                                 \
	{                                                                                          \
		uint64_t va = RS1 + IMM;                                                           \
		const struct tlb_entry *e = &dtlb->r[(va >> 12) & (TLB_SIZE - 1)];                 \
		if (likely(e->tag == ((va + sizeof(T) - 1) & ~0xfffull))) {                        \
			T v;                                                                       \
			memcpy(&v, (const void *)(e->addend + va), sizeof(T));                     \
			RD = (uint64_t)(EXT)v;                                                     \
		} else {                                                                           \
			uint64_t v;                                                                \
			if (mem_load(h, va, sizeof(T), &v))                                        \
				goto mem_exception;                                                \
			RD = (uint64_t)(EXT)(T)v;                                                  \
		}                                                                                  \
		NEXT;                                                                              \
	}
	LOAD(LB, int8_t, int64_t)
	LOAD(LH, int16_t, int64_t)
	LOAD(LW, int32_t, int64_t)
	LOAD(LD, uint64_t, uint64_t)
	LOAD(LBU, uint8_t, uint64_t)
	LOAD(LHU, uint16_t, uint64_t)
	LOAD(LWU, uint32_t, uint64_t)

#define STORE_VAL(T, val)                                                                          \
	do {                                                                                       \
		uint64_t va = RS1 + IMM;                                                           \
		const struct tlb_entry *e = &dtlb->w[(va >> 12) & (TLB_SIZE - 1)];                 \
		T v = (T)(val);                                                                    \
		if (likely(e->tag == ((va + sizeof(T) - 1) & ~0xfffull))) {                        \
			memcpy((void *)(e->addend + va), &v, sizeof(T));                           \
		} else if (mem_store(h, va, sizeof(T), (uint64_t)v)) {                             \
			goto mem_exception;                                                        \
		}                                                                                  \
	} while (0)
op_SB:
	STORE_VAL(uint8_t, RS2);
	NEXT;
op_SH:
	STORE_VAL(uint16_t, RS2);
	NEXT;
op_SW:
	STORE_VAL(uint32_t, RS2);
	NEXT;
op_SD:
	STORE_VAL(uint64_t, RS2);
	NEXT;

op_ADDI:
	RD = RS1 + IMM;
	NEXT;
op_SLTI:
	RD = (int64_t)RS1 < IMM;
	NEXT;
op_SLTIU:
	RD = RS1 < (uint64_t)IMM;
	NEXT;
op_XORI:
	RD = RS1 ^ IMM;
	NEXT;
op_ORI:
	RD = RS1 | IMM;
	NEXT;
op_ANDI:
	RD = RS1 & IMM;
	NEXT;
op_SLLI:
	RD = RS1 << ip->imm;
	NEXT;
op_SRLI:
	RD = RS1 >> ip->imm;
	NEXT;
op_SRAI:
	RD = (uint64_t)((int64_t)RS1 >> ip->imm);
	NEXT;
op_ADD:
	RD = RS1 + RS2;
	NEXT;
op_SUB:
	RD = RS1 - RS2;
	NEXT;
op_SLL:
	RD = RS1 << (RS2 & 63);
	NEXT;
op_SLT:
	RD = (int64_t)RS1 < (int64_t)RS2;
	NEXT;
op_SLTU:
	RD = RS1 < RS2;
	NEXT;
op_XOR:
	RD = RS1 ^ RS2;
	NEXT;
op_SRL:
	RD = RS1 >> (RS2 & 63);
	NEXT;
op_SRA:
	RD = (uint64_t)((int64_t)RS1 >> (RS2 & 63));
	NEXT;
op_OR:
	RD = RS1 | RS2;
	NEXT;
op_AND:
	RD = RS1 & RS2;
	NEXT;
op_ADDIW:
	RD = sext32(RS1 + IMM);
	NEXT;
op_SLLIW:
	RD = sext32((uint32_t)RS1 << ip->imm);
	NEXT;
op_SRLIW:
	RD = sext32((uint32_t)RS1 >> ip->imm);
	NEXT;
op_SRAIW:
	RD = (uint64_t)(int64_t)((int32_t)RS1 >> ip->imm);
	NEXT;
op_ADDW:
	RD = sext32(RS1 + RS2);
	NEXT;
op_SUBW:
	RD = sext32(RS1 - RS2);
	NEXT;
op_SLLW:
	RD = sext32((uint32_t)RS1 << (RS2 & 31));
	NEXT;
op_SRLW:
	RD = sext32((uint32_t)RS1 >> (RS2 & 31));
	NEXT;
op_SRAW:
	RD = (uint64_t)(int64_t)((int32_t)RS1 >> (RS2 & 31));
	NEXT;

op_FENCE:
	/* x86 keeps every order but store->load; only that one needs a real fence. */
	if ((ip->imm & 0x50) && (ip->imm & 0x0a))
		atomic_thread_fence(memory_order_seq_cst);
	else
		atomic_signal_fence(memory_order_seq_cst);
	NEXT;
op_FENCE_TSO:
	atomic_signal_fence(memory_order_seq_cst);
	NEXT;
op_FENCE_I:
	h->instret += RETIRED + 1;
	h->pc = PC + ip->len;
	block_cache_fence_i(h);
	goto dispatch;

op_ECALL:
	h->instret += RETIRED;
	h->pc = PC;
	trap_raise(h, h->priv == PRV_M ? CAUSE_ECALL_M : CAUSE_ECALL_U + h->priv, 0);
	goto dispatch;
op_EBREAK:
	h->instret += RETIRED;
	h->pc = PC;
	trap_raise(h, CAUSE_BREAKPOINT, PC);
	goto dispatch;
op_MRET:
	if (h->priv != PRV_M)
		goto illegal_insn;
	h->instret += RETIRED + 1;
	trap_mret(h);
	goto dispatch;
op_SRET:
	if (h->priv == PRV_U || (h->priv == PRV_S && (h->mstatus & MSTATUS_TSR)))
		goto illegal_insn;
	h->instret += RETIRED + 1;
	trap_sret(h);
	goto dispatch;
op_WFI:
	if (h->priv == PRV_U || (h->priv == PRV_S && (h->mstatus & MSTATUS_TW)))
		goto illegal_insn;
	h->instret += RETIRED + 1;
	h->pc = PC + ip->len;
	hart_wfi(h);
	goto dispatch;
op_SFENCE_VMA:
	if (h->priv == PRV_U || (h->priv == PRV_S && (h->mstatus & MSTATUS_TVM)))
		goto illegal_insn;
	if (ip->rs1 == 0)
		tlb_flush_all(h);
	else
		tlb_flush_va(h, RS1);
	JUMP(PC + ip->len);

	/* ---- Zicsr ---------------------------------------------------------------- */
#define CSR(name, kind, operand, writes)                                                           \
	op_##name:                                                                                 \
	{                                                                                          \
		uint64_t old;                                                                      \
		h->instret += RETIRED;                                                             \
		if (csr_op(h, (unsigned)ip->imm & 0xfff, kind, operand, ip->rd != 32, writes,      \
			   &old)) {                                                                \
			h->pc = PC;                                                                \
			trap_raise(h, CAUSE_ILLEGAL_INSN, 0);                                      \
			goto dispatch;                                                             \
		}                                                                                  \
		RD = old;                                                                          \
		h->instret += 1;                                                                   \
		h->pc = PC + ip->len;                                                              \
		goto dispatch;                                                                     \
	}
	CSR(CSRRW, CSR_OP_WRITE, RS1, true)
	CSR(CSRRS, CSR_OP_SET, RS1, ip->rs1 != 0)
	CSR(CSRRC, CSR_OP_CLEAR, RS1, ip->rs1 != 0)
	CSR(CSRRWI, CSR_OP_WRITE, ip->rs1, true)
	CSR(CSRRSI, CSR_OP_SET, ip->rs1, ip->rs1 != 0)
	CSR(CSRRCI, CSR_OP_CLEAR, ip->rs1, ip->rs1 != 0)

	/* ---- M -------------------------------------------------------------------- */
op_MUL:
	RD = RS1 * RS2;
	NEXT;
op_MULH:
	RD = mulh64((int64_t)RS1, (int64_t)RS2);
	NEXT;
op_MULHSU:
	RD = mulhsu64((int64_t)RS1, RS2);
	NEXT;
op_MULHU:
	RD = mulhu64(RS1, RS2);
	NEXT;
op_DIV : {
	int64_t a = (int64_t)RS1, b = (int64_t)RS2;
	RD = b == 0 ? ~0ull : (a == INT64_MIN && b == -1) ? (uint64_t)a : (uint64_t)(a / b);
	NEXT;
}
op_DIVU:
	RD = RS2 == 0 ? ~0ull : RS1 / RS2;
	NEXT;
op_REM : {
	int64_t a = (int64_t)RS1, b = (int64_t)RS2;
	RD = b == 0 ? (uint64_t)a : (a == INT64_MIN && b == -1) ? 0 : (uint64_t)(a % b);
	NEXT;
}
op_REMU:
	RD = RS2 == 0 ? RS1 : RS1 % RS2;
	NEXT;
op_MULW:
	RD = sext32((uint32_t)RS1 * (uint32_t)RS2);
	NEXT;
op_DIVW : {
	int32_t a = (int32_t)RS1, b = (int32_t)RS2;
	RD = (uint64_t)(int64_t)(b == 0 ? -1 : (a == INT32_MIN && b == -1) ? a : a / b);
	NEXT;
}
op_DIVUW : {
	uint32_t a = (uint32_t)RS1, b = (uint32_t)RS2;
	RD = sext32(b == 0 ? ~0u : a / b);
	NEXT;
}
op_REMW : {
	int32_t a = (int32_t)RS1, b = (int32_t)RS2;
	RD = (uint64_t)(int64_t)(b == 0 ? a : (a == INT32_MIN && b == -1) ? 0 : a % b);
	NEXT;
}
op_REMUW : {
	uint32_t a = (uint32_t)RS1, b = (uint32_t)RS2;
	RD = sext32(b == 0 ? a : a % b);
	NEXT;
}

/* ---- A -------------------------------------------------------------------- */
/* Host pointer for an AMO/SC at RS1: write TLB hit (aligned), else the slow path. */
#define AMO_PTR(T, p, is_lr)                                                                       \
	do {                                                                                       \
		uint64_t va = RS1;                                                                 \
		const struct tlb_entry *e = is_lr ? &dtlb->r[(va >> 12) & (TLB_SIZE - 1)]          \
						  : &dtlb->w[(va >> 12) & (TLB_SIZE - 1)];         \
		if (likely(e->tag == (va & ~0xfffull) && !(va & (sizeof(T) - 1))))                 \
			p = (T *)(e->addend + va);                                                 \
		else if (mem_amo_ptr(h, va, sizeof(T), is_lr, (void **)&p))                        \
			goto mem_exception;                                                        \
	} while (0)

op_LR_W : {
	int32_t *p;
	AMO_PTR(int32_t, p, true);
	int32_t v = __atomic_load_n(p, __ATOMIC_SEQ_CST);
	h->resv_valid = true;
	h->resv_addr = (uintptr_t)p;
	h->resv_val = (uint32_t)v;
	RD = (uint64_t)(int64_t)v;
	NEXT;
}
op_LR_D : {
	uint64_t *p;
	AMO_PTR(uint64_t, p, true);
	uint64_t v = __atomic_load_n(p, __ATOMIC_SEQ_CST);
	h->resv_valid = true;
	h->resv_addr = (uintptr_t)p;
	h->resv_val = v;
	RD = v;
	NEXT;
}
op_SC_W : {
	uint32_t *p;
	AMO_PTR(uint32_t, p, false);
	uint32_t expect = (uint32_t)h->resv_val;
	bool ok = h->resv_valid && h->resv_addr == (uintptr_t)p &&
		  __atomic_compare_exchange_n(p, &expect, (uint32_t)RS2, false, __ATOMIC_SEQ_CST,
					      __ATOMIC_SEQ_CST);
	h->resv_valid = false;
	RD = !ok;
	NEXT;
}
op_SC_D : {
	uint64_t *p;
	AMO_PTR(uint64_t, p, false);
	uint64_t expect = h->resv_val;
	bool ok =
	    h->resv_valid && h->resv_addr == (uintptr_t)p &&
	    __atomic_compare_exchange_n(p, &expect, RS2, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	h->resv_valid = false;
	RD = !ok;
	NEXT;
}

#define AMO_FETCH(name, T, ST, fn)                                                                 \
	op_##name:                                                                                 \
	{                                                                                          \
		T *p;                                                                              \
		AMO_PTR(T, p, false);                                                              \
		RD = (uint64_t)(ST)fn(p, (T)RS2, __ATOMIC_SEQ_CST);                                \
		NEXT;                                                                              \
	}
	AMO_FETCH(AMOSWAP_W, uint32_t, int32_t, __atomic_exchange_n)
	AMO_FETCH(AMOADD_W, uint32_t, int32_t, __atomic_fetch_add)
	AMO_FETCH(AMOXOR_W, uint32_t, int32_t, __atomic_fetch_xor)
	AMO_FETCH(AMOAND_W, uint32_t, int32_t, __atomic_fetch_and)
	AMO_FETCH(AMOOR_W, uint32_t, int32_t, __atomic_fetch_or)
	AMO_FETCH(AMOSWAP_D, uint64_t, uint64_t, __atomic_exchange_n)
	AMO_FETCH(AMOADD_D, uint64_t, uint64_t, __atomic_fetch_add)
	AMO_FETCH(AMOXOR_D, uint64_t, uint64_t, __atomic_fetch_xor)
	AMO_FETCH(AMOAND_D, uint64_t, uint64_t, __atomic_fetch_and)
	AMO_FETCH(AMOOR_D, uint64_t, uint64_t, __atomic_fetch_or)

#define AMO_CAS(name, T, ST, pick)                                                                 \
	op_##name:                                                                                 \
	{                                                                                          \
		T *p;                                                                              \
		AMO_PTR(T, p, false);                                                              \
		T b = (T)RS2, a = __atomic_load_n(p, __ATOMIC_RELAXED), n;                         \
		do {                                                                               \
			n = (pick) ? a : b;                                                        \
		} while (!__atomic_compare_exchange_n(p, &a, n, true, __ATOMIC_SEQ_CST,            \
						      __ATOMIC_RELAXED));                          \
		RD = (uint64_t)(ST)a;                                                              \
		NEXT;                                                                              \
	}
	AMO_CAS(AMOMIN_W, uint32_t, int32_t, (int32_t)a < (int32_t)b)
	AMO_CAS(AMOMAX_W, uint32_t, int32_t, (int32_t)a > (int32_t)b)
	AMO_CAS(AMOMINU_W, uint32_t, int32_t, a < b)
	AMO_CAS(AMOMAXU_W, uint32_t, int32_t, a > b)
	AMO_CAS(AMOMIN_D, uint64_t, uint64_t, (int64_t)a < (int64_t)b)
	AMO_CAS(AMOMAX_D, uint64_t, uint64_t, (int64_t)a > (int64_t)b)
	AMO_CAS(AMOMINU_D, uint64_t, uint64_t, a < b)
	AMO_CAS(AMOMAXU_D, uint64_t, uint64_t, a > b)

	/* ---- F and D ---------------------------------------------------------------- */
#define FP_ON()                                                                                    \
	do {                                                                                       \
		if (unlikely(!(h->mstatus & MSTATUS_FS)))                                          \
			goto illegal_insn;                                                         \
	} while (0)
#define FP_DIRTY() (h->mstatus |= MSTATUS_FS)
#define RM                                                                                         \
	({                                                                                         \
		unsigned rm_ = ip->rm == 7 ? h->frm : ip->rm;                                      \
		if (unlikely(rm_ > 4))                                                             \
			goto illegal_insn;                                                         \
		(int)rm_;                                                                          \
	})
#define FS1 unbox32(f[ip->rs1])
#define FS2 unbox32(f[ip->rs2])
#define FS3 unbox32(f[ip->rs3])
#define FD1 f[ip->rs1]
#define FD2 f[ip->rs2]
#define FD3 f[ip->rs3]
#define SET_FS(v)                                                                                  \
	do {                                                                                       \
		f[ip->rd] = 0xffffffff00000000ull | (uint32_t)(v);                                 \
		FP_DIRTY();                                                                        \
	} while (0)
#define SET_FD(v)                                                                                  \
	do {                                                                                       \
		f[ip->rd] = (v);                                                                   \
		FP_DIRTY();                                                                        \
	} while (0)
#define SET_X_FROM_FP(v)                                                                           \
	do {                                                                                       \
		RD = (v);                                                                          \
		FP_DIRTY();                                                                        \
	} while (0)
#define SIGN32 0x80000000u
#define SIGN64 0x8000000000000000ull

op_FLW : {
	FP_ON();
	uint64_t va = RS1 + IMM, v;
	const struct tlb_entry *e = &dtlb->r[(va >> 12) & (TLB_SIZE - 1)];
	if (likely(e->tag == ((va + 3) & ~0xfffull))) {
		uint32_t w;
		memcpy(&w, (const void *)(e->addend + va), 4);
		v = w;
	} else if (mem_load(h, va, 4, &v)) {
		goto mem_exception;
	}
	SET_FS(v);
	NEXT;
}
op_FLD : {
	FP_ON();
	uint64_t va = RS1 + IMM, v;
	const struct tlb_entry *e = &dtlb->r[(va >> 12) & (TLB_SIZE - 1)];
	if (likely(e->tag == ((va + 7) & ~0xfffull)))
		memcpy(&v, (const void *)(e->addend + va), 8);
	else if (mem_load(h, va, 8, &v))
		goto mem_exception;
	SET_FD(v);
	NEXT;
}
op_FSW:
	FP_ON();
	STORE_VAL(uint32_t, f[ip->rs2]);
	NEXT;
op_FSD:
	FP_ON();
	STORE_VAL(uint64_t, f[ip->rs2]);
	NEXT;

op_FMADD_S:
	FP_ON();
	SET_FS(f32_fma(FS1, FS2, FS3, RM, &h->fflags));
	NEXT;
op_FMSUB_S:
	FP_ON();
	SET_FS(f32_fma(FS1, FS2, FS3 ^ SIGN32, RM, &h->fflags));
	NEXT;
op_FNMSUB_S:
	FP_ON();
	SET_FS(f32_fma(FS1 ^ SIGN32, FS2, FS3, RM, &h->fflags));
	NEXT;
op_FNMADD_S:
	FP_ON();
	SET_FS(f32_fma(FS1 ^ SIGN32, FS2, FS3 ^ SIGN32, RM, &h->fflags));
	NEXT;
op_FADD_S:
	FP_ON();
	SET_FS(f32_add(FS1, FS2, RM, &h->fflags));
	NEXT;
op_FSUB_S:
	FP_ON();
	SET_FS(f32_sub(FS1, FS2, RM, &h->fflags));
	NEXT;
op_FMUL_S:
	FP_ON();
	SET_FS(f32_mul(FS1, FS2, RM, &h->fflags));
	NEXT;
op_FDIV_S:
	FP_ON();
	SET_FS(f32_div(FS1, FS2, RM, &h->fflags));
	NEXT;
op_FSQRT_S:
	FP_ON();
	SET_FS(f32_sqrt(FS1, RM, &h->fflags));
	NEXT;
op_FSGNJ_S:
	FP_ON();
	SET_FS((FS1 & ~SIGN32) | (FS2 & SIGN32));
	NEXT;
op_FSGNJN_S:
	FP_ON();
	SET_FS((FS1 & ~SIGN32) | (~FS2 & SIGN32));
	NEXT;
op_FSGNJX_S:
	FP_ON();
	SET_FS(FS1 ^ (FS2 & SIGN32));
	NEXT;
op_FMIN_S:
	FP_ON();
	SET_FS(f32_min(FS1, FS2, &h->fflags));
	NEXT;
op_FMAX_S:
	FP_ON();
	SET_FS(f32_max(FS1, FS2, &h->fflags));
	NEXT;
op_FCVT_W_S:
	FP_ON();
	SET_X_FROM_FP(f32_to_i32(FS1, RM, &h->fflags));
	NEXT;
op_FCVT_WU_S:
	FP_ON();
	SET_X_FROM_FP(f32_to_u32(FS1, RM, &h->fflags));
	NEXT;
op_FCVT_L_S:
	FP_ON();
	SET_X_FROM_FP(f32_to_i64(FS1, RM, &h->fflags));
	NEXT;
op_FCVT_LU_S:
	FP_ON();
	SET_X_FROM_FP(f32_to_u64(FS1, RM, &h->fflags));
	NEXT;
op_FMV_X_W:
	FP_ON();
	RD = sext32(f[ip->rs1]);
	NEXT;
op_FCLASS_S:
	FP_ON();
	RD = f32_classify(FS1);
	NEXT;
op_FEQ_S:
	FP_ON();
	SET_X_FROM_FP((uint64_t)f32_eq(FS1, FS2, &h->fflags));
	NEXT;
op_FLT_S:
	FP_ON();
	SET_X_FROM_FP((uint64_t)f32_lt(FS1, FS2, &h->fflags));
	NEXT;
op_FLE_S:
	FP_ON();
	SET_X_FROM_FP((uint64_t)f32_le(FS1, FS2, &h->fflags));
	NEXT;
op_FCVT_S_W:
	FP_ON();
	SET_FS(i32_to_f32((int32_t)RS1, RM, &h->fflags));
	NEXT;
op_FCVT_S_WU:
	FP_ON();
	SET_FS(u32_to_f32((uint32_t)RS1, RM, &h->fflags));
	NEXT;
op_FCVT_S_L:
	FP_ON();
	SET_FS(i64_to_f32((int64_t)RS1, RM, &h->fflags));
	NEXT;
op_FCVT_S_LU:
	FP_ON();
	SET_FS(u64_to_f32(RS1, RM, &h->fflags));
	NEXT;
op_FMV_W_X:
	FP_ON();
	SET_FS((uint32_t)RS1);
	NEXT;

op_FMADD_D:
	FP_ON();
	SET_FD(f64_fma(FD1, FD2, FD3, RM, &h->fflags));
	NEXT;
op_FMSUB_D:
	FP_ON();
	SET_FD(f64_fma(FD1, FD2, FD3 ^ SIGN64, RM, &h->fflags));
	NEXT;
op_FNMSUB_D:
	FP_ON();
	SET_FD(f64_fma(FD1 ^ SIGN64, FD2, FD3, RM, &h->fflags));
	NEXT;
op_FNMADD_D:
	FP_ON();
	SET_FD(f64_fma(FD1 ^ SIGN64, FD2, FD3 ^ SIGN64, RM, &h->fflags));
	NEXT;
op_FADD_D:
	FP_ON();
	SET_FD(f64_add(FD1, FD2, RM, &h->fflags));
	NEXT;
op_FSUB_D:
	FP_ON();
	SET_FD(f64_sub(FD1, FD2, RM, &h->fflags));
	NEXT;
op_FMUL_D:
	FP_ON();
	SET_FD(f64_mul(FD1, FD2, RM, &h->fflags));
	NEXT;
op_FDIV_D:
	FP_ON();
	SET_FD(f64_div(FD1, FD2, RM, &h->fflags));
	NEXT;
op_FSQRT_D:
	FP_ON();
	SET_FD(f64_sqrt(FD1, RM, &h->fflags));
	NEXT;
op_FSGNJ_D:
	FP_ON();
	SET_FD((FD1 & ~SIGN64) | (FD2 & SIGN64));
	NEXT;
op_FSGNJN_D:
	FP_ON();
	SET_FD((FD1 & ~SIGN64) | (~FD2 & SIGN64));
	NEXT;
op_FSGNJX_D:
	FP_ON();
	SET_FD(FD1 ^ (FD2 & SIGN64));
	NEXT;
op_FMIN_D:
	FP_ON();
	SET_FD(f64_min(FD1, FD2, &h->fflags));
	NEXT;
op_FMAX_D:
	FP_ON();
	SET_FD(f64_max(FD1, FD2, &h->fflags));
	NEXT;
op_FCVT_S_D:
	FP_ON();
	SET_FS(f64_to_f32(FD1, RM, &h->fflags));
	NEXT;
op_FCVT_D_S:
	FP_ON();
	(void)RM;
	SET_FD(f32_to_f64(FS1, &h->fflags));
	NEXT;
op_FCVT_W_D:
	FP_ON();
	SET_X_FROM_FP(f64_to_i32(FD1, RM, &h->fflags));
	NEXT;
op_FCVT_WU_D:
	FP_ON();
	SET_X_FROM_FP(f64_to_u32(FD1, RM, &h->fflags));
	NEXT;
op_FCVT_L_D:
	FP_ON();
	SET_X_FROM_FP(f64_to_i64(FD1, RM, &h->fflags));
	NEXT;
op_FCVT_LU_D:
	FP_ON();
	SET_X_FROM_FP(f64_to_u64(FD1, RM, &h->fflags));
	NEXT;
op_FMV_X_D:
	FP_ON();
	RD = FD1;
	NEXT;
op_FCLASS_D:
	FP_ON();
	RD = f64_classify(FD1);
	NEXT;
op_FEQ_D:
	FP_ON();
	SET_X_FROM_FP((uint64_t)f64_eq(FD1, FD2, &h->fflags));
	NEXT;
op_FLT_D:
	FP_ON();
	SET_X_FROM_FP((uint64_t)f64_lt(FD1, FD2, &h->fflags));
	NEXT;
op_FLE_D:
	FP_ON();
	SET_X_FROM_FP((uint64_t)f64_le(FD1, FD2, &h->fflags));
	NEXT;
op_FCVT_D_W:
	FP_ON();
	SET_FD(i32_to_f64((int32_t)RS1, RM, &h->fflags));
	NEXT;
op_FCVT_D_WU:
	FP_ON();
	SET_FD(u32_to_f64((uint32_t)RS1, RM, &h->fflags));
	NEXT;
op_FCVT_D_L:
	FP_ON();
	SET_FD(i64_to_f64((int64_t)RS1, RM, &h->fflags));
	NEXT;
op_FCVT_D_LU:
	FP_ON();
	SET_FD(u64_to_f64(RS1, RM, &h->fflags));
	NEXT;
op_FMV_D_X:
	FP_ON();
	SET_FD(RS1);
	NEXT;

	/* ---- Zba, Zbb, Zbs ---------------------------------------------------------- */
op_SH1ADD:
	RD = (RS1 << 1) + RS2;
	NEXT;
op_SH2ADD:
	RD = (RS1 << 2) + RS2;
	NEXT;
op_SH3ADD:
	RD = (RS1 << 3) + RS2;
	NEXT;
op_ADD_UW:
	RD = (uint32_t)RS1 + RS2;
	NEXT;
op_SH1ADD_UW:
	RD = ((uint64_t)(uint32_t)RS1 << 1) + RS2;
	NEXT;
op_SH2ADD_UW:
	RD = ((uint64_t)(uint32_t)RS1 << 2) + RS2;
	NEXT;
op_SH3ADD_UW:
	RD = ((uint64_t)(uint32_t)RS1 << 3) + RS2;
	NEXT;
op_SLLI_UW:
	RD = (uint64_t)(uint32_t)RS1 << ip->imm;
	NEXT;
op_ANDN:
	RD = RS1 & ~RS2;
	NEXT;
op_ORN:
	RD = RS1 | ~RS2;
	NEXT;
op_XNOR:
	RD = ~(RS1 ^ RS2);
	NEXT;
op_CLZ:
	RD = RS1 ? (uint64_t)__builtin_clzll(RS1) : 64;
	NEXT;
op_CTZ:
	RD = RS1 ? (uint64_t)__builtin_ctzll(RS1) : 64;
	NEXT;
op_CPOP:
	RD = (uint64_t)__builtin_popcountll(RS1);
	NEXT;
op_CLZW:
	RD = (uint32_t)RS1 ? (uint64_t)__builtin_clz((uint32_t)RS1) : 32;
	NEXT;
op_CTZW:
	RD = (uint32_t)RS1 ? (uint64_t)__builtin_ctz((uint32_t)RS1) : 32;
	NEXT;
op_CPOPW:
	RD = (uint64_t)__builtin_popcount((uint32_t)RS1);
	NEXT;
op_MAX:
	RD = (int64_t)RS1 > (int64_t)RS2 ? RS1 : RS2;
	NEXT;
op_MAXU:
	RD = RS1 > RS2 ? RS1 : RS2;
	NEXT;
op_MIN:
	RD = (int64_t)RS1 < (int64_t)RS2 ? RS1 : RS2;
	NEXT;
op_MINU:
	RD = RS1 < RS2 ? RS1 : RS2;
	NEXT;
op_SEXT_B:
	RD = (uint64_t)(int64_t)(int8_t)RS1;
	NEXT;
op_SEXT_H:
	RD = (uint64_t)(int64_t)(int16_t)RS1;
	NEXT;
op_ZEXT_H:
	RD = (uint16_t)RS1;
	NEXT;
op_ROL : {
	unsigned s = RS2 & 63;
	RD = (RS1 << s) | (RS1 >> ((64 - s) & 63));
	NEXT;
}
op_ROR : {
	unsigned s = RS2 & 63;
	RD = (RS1 >> s) | (RS1 << ((64 - s) & 63));
	NEXT;
}
op_RORI : {
	unsigned s = (unsigned)ip->imm & 63;
	RD = (RS1 >> s) | (RS1 << ((64 - s) & 63));
	NEXT;
}
op_ROLW : {
	uint32_t v = (uint32_t)RS1;
	unsigned s = RS2 & 31;
	RD = sext32((v << s) | (v >> ((32 - s) & 31)));
	NEXT;
}
op_RORW : {
	uint32_t v = (uint32_t)RS1;
	unsigned s = RS2 & 31;
	RD = sext32((v >> s) | (v << ((32 - s) & 31)));
	NEXT;
}
op_RORIW : {
	uint32_t v = (uint32_t)RS1;
	unsigned s = (unsigned)ip->imm & 31;
	RD = sext32((v >> s) | (v << ((32 - s) & 31)));
	NEXT;
}
op_ORC_B : {
	uint64_t v = RS1, r = 0;
	for (int i = 0; i < 64; i += 8)
		if ((v >> i) & 0xff)
			r |= 0xffull << i;
	RD = r;
	NEXT;
}
op_REV8:
	RD = __builtin_bswap64(RS1);
	NEXT;
op_BCLR:
	RD = RS1 & ~(1ull << (RS2 & 63));
	NEXT;
op_BCLRI:
	RD = RS1 & ~(1ull << (ip->imm & 63));
	NEXT;
op_BEXT:
	RD = (RS1 >> (RS2 & 63)) & 1;
	NEXT;
op_BEXTI:
	RD = (RS1 >> (ip->imm & 63)) & 1;
	NEXT;
op_BINV:
	RD = RS1 ^ (1ull << (RS2 & 63));
	NEXT;
op_BINVI:
	RD = RS1 ^ (1ull << (ip->imm & 63));
	NEXT;
op_BSET:
	RD = RS1 | (1ull << (RS2 & 63));
	NEXT;
op_BSETI:
	RD = RS1 | (1ull << (ip->imm & 63));
	NEXT;
}
