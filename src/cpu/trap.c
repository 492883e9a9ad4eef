/* SPDX-License-Identifier: MIT */
#include "cpu/trap.h"

#include "cpu/mmu.h"
#include "util/clock.h"

/* Interrupt priority order of the privileged spec (section 3.1.9). */
static const int irq_priority[] = {IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER,
				   IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER};

void hart_update_mode(struct hart *h)
{
	uint64_t m_on = (h->priv < PRV_M || (h->mstatus & MSTATUS_MIE)) ? ~h->mideleg : 0;
	uint64_t s_on =
	    (h->priv < PRV_S || (h->priv == PRV_S && (h->mstatus & MSTATUS_SIE))) ? h->mideleg : 0;
	h->take_mask = ((m_on | s_on) & h->mie) | PENDING_REQUESTS;

	unsigned dp = mmu_data_priv(h);
	enum tlb_ctx dc = dp == PRV_M		       ? TLBC_M
			  : dp == PRV_U		       ? TLBC_U
			  : (h->mstatus & MSTATUS_SUM) ? TLBC_S_SUM
						       : TLBC_S;
	h->dtlb = &h->tlb[dc];
	h->itlb = &h->tlb[h->priv == PRV_M ? TLBC_M : h->priv == PRV_U ? TLBC_U : TLBC_S];
	h->jc_key = h->jc_epoch << 2 | h->priv;
}

void hart_set_pending(struct hart *h, uint64_t bits, bool level)
{
	if (level)
		atomic_fetch_or(&h->pending, bits);
	else
		atomic_fetch_and(&h->pending, ~bits);
}

static void set_if_changed(struct hart *h, uint64_t bit, bool level)
{
	uint64_t cur = atomic_load_explicit(&h->pending, memory_order_relaxed);
	if (!!(cur & bit) != level)
		hart_set_pending(h, bit, level);
}

void hart_check_timers(struct hart *h)
{
	uint64_t now = timebase_now(h->tb);
	set_if_changed(h, 1ull << IRQ_M_TIMER, now >= atomic_load(&h->mtimecmp));
	if (h->menvcfg & MENVCFG_STCE)
		set_if_changed(h, 1ull << IRQ_S_TIMER, now >= h->stimecmp);
}

static void trap_enter(struct hart *h, uint64_t cause, uint64_t tval, bool interrupt)
{
	unsigned code = cause & 63;
	uint64_t deleg = interrupt ? h->mideleg : h->medeleg;
	h->resv_valid = false;
	if (h->priv <= PRV_S && ((deleg >> code) & 1)) {
		h->scause = cause;
		h->sepc = h->pc;
		h->stval = tval;
		uint64_t s = h->mstatus & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE);
		if (h->priv == PRV_S)
			s |= MSTATUS_SPP;
		if (h->mstatus & MSTATUS_SIE)
			s |= MSTATUS_SPIE;
		h->mstatus = s;
		h->priv = PRV_S;
		uint64_t base = h->stvec & ~3ull;
		h->pc = (interrupt && (h->stvec & 1)) ? base + 4 * code : base;
	} else {
		h->mcause = cause;
		h->mepc = h->pc;
		h->mtval = tval;
		uint64_t s = h->mstatus & ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE);
		s |= (uint64_t)h->priv << MSTATUS_MPP_SHIFT;
		if (h->mstatus & MSTATUS_MIE)
			s |= MSTATUS_MPIE;
		h->mstatus = s;
		h->priv = PRV_M;
		uint64_t base = h->mtvec & ~3ull;
		h->pc = (interrupt && (h->mtvec & 1)) ? base + 4 * code : base;
	}
	hart_update_mode(h);
}

void trap_raise(struct hart *h, uint64_t cause, uint64_t tval)
{
	trap_enter(h, cause, tval, false);
}

void trap_take_interrupt(struct hart *h, uint64_t bits)
{
	for (unsigned i = 0; i < sizeof(irq_priority) / sizeof(irq_priority[0]); i++) {
		int irq = irq_priority[i];
		if (bits & (1ull << irq)) {
			trap_enter(h, CAUSE_INTERRUPT | (uint64_t)irq, 0, true);
			return;
		}
	}
}

void trap_mret(struct hart *h)
{
	unsigned mpp = (h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
	uint64_t s = h->mstatus & ~(MSTATUS_MPP | MSTATUS_MIE);
	if (h->mstatus & MSTATUS_MPIE)
		s |= MSTATUS_MIE;
	s |= MSTATUS_MPIE;
	if (mpp != PRV_M)
		s &= ~MSTATUS_MPRV;
	h->mstatus = s;
	h->priv = mpp;
	h->pc = h->mepc;
	hart_update_mode(h);
}

void trap_sret(struct hart *h)
{
	unsigned spp = (h->mstatus & MSTATUS_SPP) ? PRV_S : PRV_U;
	uint64_t s = h->mstatus & ~(MSTATUS_SPP | MSTATUS_SIE | MSTATUS_MPRV);
	if (h->mstatus & MSTATUS_SPIE)
		s |= MSTATUS_SIE;
	s |= MSTATUS_SPIE;
	h->mstatus = s;
	h->priv = spp;
	h->pc = h->sepc;
	hart_update_mode(h);
}
