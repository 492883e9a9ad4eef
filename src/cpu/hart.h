/* SPDX-License-Identifier: MIT */
/*
 * One RV64GC hart: architectural state (a plain struct that can be saved)
 * and the interpreter's caches (TLBs, decoded blocks), which are derived
 * state and are simply dropped on restore.
 */
#ifndef VESSEL_CPU_HART_H
#define VESSEL_CPU_HART_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* Privilege levels. */
#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

/* mstatus fields. */
#define MSTATUS_SIE	  (1ull << 1)
#define MSTATUS_MIE	  (1ull << 3)
#define MSTATUS_SPIE	  (1ull << 5)
#define MSTATUS_MPIE	  (1ull << 7)
#define MSTATUS_SPP	  (1ull << 8)
#define MSTATUS_MPP	  (3ull << 11)
#define MSTATUS_FS	  (3ull << 13)
#define MSTATUS_MPRV	  (1ull << 17)
#define MSTATUS_SUM	  (1ull << 18)
#define MSTATUS_MXR	  (1ull << 19)
#define MSTATUS_TVM	  (1ull << 20)
#define MSTATUS_TW	  (1ull << 21)
#define MSTATUS_TSR	  (1ull << 22)
#define MSTATUS_UXL	  (3ull << 32)
#define MSTATUS_SXL	  (3ull << 34)
#define MSTATUS_SD	  (1ull << 63)
#define MSTATUS_MPP_SHIFT 11

/* Exception causes. */
#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS     1
#define CAUSE_ILLEGAL_INSN     2
#define CAUSE_BREAKPOINT       3
#define CAUSE_MISALIGNED_LOAD  4
#define CAUSE_LOAD_ACCESS      5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS     7
#define CAUSE_ECALL_U	       8
#define CAUSE_ECALL_S	       9
#define CAUSE_ECALL_M	       11
#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT  13
#define CAUSE_STORE_PAGE_FAULT 15
#define CAUSE_INTERRUPT	       (1ull << 63)

/* Interrupt numbers (bit positions in mip/mie). */
#define IRQ_S_SOFT  1
#define IRQ_M_SOFT  3
#define IRQ_S_TIMER 5
#define IRQ_M_TIMER 7
#define IRQ_S_EXT   9
#define IRQ_M_EXT   11

/* Not interrupts: requests from other threads, seen between blocks. */
#define PENDING_STOP	  (1ull << 63) /* leave the run loop */
#define PENDING_TLB_FLUSH (1ull << 62) /* drop cached translations (dirty logging began) */
#define PENDING_REQUESTS  (PENDING_STOP | PENDING_TLB_FLUSH)

/* menvcfg.STCE: Sstc's stimecmp is enabled for S-mode. */
#define MENVCFG_STCE (1ull << 63)

/* Memory access kinds, for translation and fault causes. */
enum access {
	ACC_LOAD = 0,
	ACC_STORE = 1,
	ACC_FETCH = 2,
};

/* ---- Pre-decoded instructions and blocks ---------------------------------- */

struct insn {
	const void *op; /* handler address in the interpreter */
	int32_t imm;
	uint8_t rd, rs1, rs2, rs3; /* rd == 0 is redirected to a sink register */
	int16_t pc_off;		   /* byte offset of this instruction from the block's start */
	uint8_t len;		   /* 2 or 4 */
	uint8_t rm;		   /* FP rounding mode field; CSR number high bits live in imm */
	uint16_t opc;		   /* enum cpu_op, for the JIT */
};

struct hart;

struct block {
	uint64_t paddr;	     /* guest-physical address of the first instruction */
	struct block *next;  /* hash chain */
	uint64_t gen;	     /* code generation (fence.i count) when its bytes were last checked */
	const uint8_t *code; /* copy of the guest bytes it was decoded from: size bytes */
	uint32_t code_off;   /* where in the page those bytes start */
	uint32_t ninsn;	     /* instructions, not counting the END terminator */
	uint32_t size;	     /* bytes of the page span its instructions come from */
	uint32_t execs;	     /* times run by the interpreter, until the JIT takes it */
	uint32_t taken;	     /* ... of which its last instruction, a branch, was taken */
	bool jit_failed;     /* holds an instruction the JIT does not translate */
	bool trace;	     /* rebuilt along its hot path (block_retrace) */
	struct block *replaced;	     /* that trace, which stands for it from now on */
	void (*jit)(struct hart *h); /* translated host code, or NULL */
	const uint8_t *page2; /* host page its last instruction ends in (PAGE2_GUARD), or NULL */
	struct insn insn[];   /* ninsn + 1 entries */
};

#define BLOCK_MAX_INSNS 128

/* ---- Software TLB ---------------------------------------------------------- */

#define TLB_SIZE 1024

struct tlb_entry {
	uint64_t tag;	  /* virtual page address, or TLB_INVALID */
	uintptr_t addend; /* host address = addend + virtual address */
};
#define TLB_INVALID  (~0ull)
#define TLB_FILL_LOG 512

/* One set per translation context: U, S with SUM=0, S with SUM=1, M. */
enum tlb_ctx { TLBC_U, TLBC_S, TLBC_S_SUM, TLBC_M, TLBC_COUNT };

/*
 * Direct-mapped by virtual page number, with a second way for data: a fill
 * moves the entry it displaces from r/w to r2/w2 at the same index, so two
 * pages whose numbers collide (a program's data at 0x1b7000 and a buffer at
 * 0x7ffff79b7000, say) both stay cached when accesses alternate between
 * them, instead of a page walk each time.  Lookups try r/w first.
 */
struct tlb_set {
	struct tlb_entry r[TLB_SIZE], w[TLB_SIZE], x[TLB_SIZE];
	struct tlb_entry r2[TLB_SIZE], w2[TLB_SIZE];
};

/* Jump cache: virtual pc -> decoded block, tagged by mode and flush epoch. */
#define JC_SIZE 4096
struct jc_entry {
	uint64_t vpc;
	uint64_t key;
	struct block *blk;
	uintptr_t addend; /* the fetch TLB entry it was made under: a hit needs the same */
};

#define BLOCK_HASH_SIZE 16384

#define JIT_ADDEND_CELLS 8192

/* ---- The hart --------------------------------------------------------------- */

struct hart {
	/* Architectural state. */
	uint64_t x[33]; /* x[32] receives writes to x0 */
	uint64_t f[32];
	uint64_t pc;
	unsigned priv;
	uint32_t fflags;
	uint32_t frm;

	uint64_t mstatus, misa, medeleg, mideleg, mie, mtvec, mscratch, mepc, mcause, mtval;
	uint64_t mcounteren, mcountinhibit, menvcfg;
	uint64_t stvec, sscratch, sepc, scause, stval, satp, scounteren, senvcfg;
	uint64_t stimecmp;
	_Atomic uint64_t mtimecmp;
	uint64_t pmpcfg[2], pmpaddr[16];
	uint64_t mhartid;
	uint64_t instret;

	/* mip, written by other threads (interrupt controllers), plus PENDING_STOP. */
	_Atomic uint64_t pending;

	/* LR/SC reservation (physical address and the value loaded). */
	bool resv_valid;
	uint64_t resv_addr, resv_val;

	/* The exception a slow path reported (see mmu.h). */
	uint64_t exc_cause, exc_tval;

	/* Derived state, recomputed when its inputs change. */
	uint64_t take_mask;   /* pending bits that trap now, plus PENDING_STOP */
	struct tlb_set *dtlb; /* data accesses in the current effective mode */
	struct tlb_set *itlb; /* fetches in the current mode */
	/* Virtual ranges of the superpages behind cached TLB entries: an sfence.vma of an
	 * address inside one must drop every entry, since one leaf stands behind them all. */
	struct {
		uint64_t base, mask;
	} tlb_super[8];
	unsigned tlb_nsuper; /* > 8: too many to track, any sfence.vma flushes all */
	/* Entries filled since the last full flush (beyond TLB_FILL_LOG: memset instead). */
	struct tlb_entry *tlb_filled[TLB_FILL_LOG];
	unsigned tlb_nfilled;
	uint64_t jc_key;
	uint64_t jc_epoch;
	uint64_t next_timer_check; /* instret at which to look at the clock */

	/* Environment. */
	struct guest_mem *mem;
	const struct bus *bus;
	const struct timebase *tb;

	/* wfi sleeping. */
	pthread_mutex_t lock;
	pthread_cond_t wake;

	/* Caches. */
	struct tlb_set tlb[TLBC_COUNT];
	struct jc_entry jc[JC_SIZE];
	uint64_t code_gen; /* advanced by fence.i: blocks of older generations are rechecked */
	struct block *block_hash[BLOCK_HASH_SIZE];
	uint8_t *code_buf; /* arena for decoded blocks */
	size_t code_size, code_used;
	struct block *scratch_block; /* for an instruction that straddles two pages */
	uint8_t *jit_buf; /* host code of translated blocks (executable, never writable) */
	uint8_t *jit_wr;  /* the same memory mapped writable elsewhere: code is written here */
	size_t jit_size, jit_used;
	size_t jit_chain_stub; /* offset of the shared chaining code in jit_buf */
	size_t jit_exit_stub;  /* offset of the way back from a declining chained entry */
	size_t jit_guess_stub; /* offset of the shared part of a wrong addend guess */
	size_t jit_fwd_entry;  /* offset in a block of its entry for forward chained exits */
	uint32_t *jit_links;   /* offsets of the linked exits' slots (undone by a fence.i) */
	/*
	 * The TLB addend each translated load saw last, one cell per load
	 * (shared round-robin once all are given out).  A predicted addend lets
	 * the load start as soon as its address is known; the TLB entry only
	 * confirms it.  Pages of the kernel's linear map, a stack, or a buffer
	 * the guest allocated in one go mostly share one addend, so a pointer
	 * chase through them no longer waits on a TLB lookup per step.  A load
	 * whose addend keeps changing (a wrong guess costs a mispredicted
	 * branch) stops guessing: addend 0.
	 */
	struct jit_addend_cell {
		uint64_t addend;    /* the guess; 0: this load does not guess */
		uint32_t last_miss; /* low half of instret at the last wrong guess */
		uint32_t strikes;   /* wrong guesses in quick succession */
	} jit_addend[JIT_ADDEND_CELLS];
	uint32_t jit_naddend;
	size_t jit_nlinks, jit_links_cap;
	bool jit_enabled;
	uint32_t jit_threshold; /* interpreted runs of a block before it is translated */
	uint64_t *jit_link;	/* link slot of the exit just taken, for the dispatcher to fill */
};

/*
 * Invalidate the jump cache (decoded code changed).  Translation changes need
 * no bump: a jump-cache hit also requires the fetch TLB to map the page as it
 * did when the entry was made.
 */
static inline void hart_bump_epoch(struct hart *h)
{
	h->jc_epoch++;
	h->jc_key = h->jc_epoch << 2 | h->priv;
}

#endif
