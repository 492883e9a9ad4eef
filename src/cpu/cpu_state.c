/* SPDX-License-Identifier: MIT */
/* Saving and loading a hart's architectural state (cpu/cpu_state.h). */
#include "cpu/cpu_state.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/cpu.h"
#include "cpu/csr.h"
#include "cpu/hart.h"
#include "cpu/mmu.h"
#include "cpu/trap.h"
#include "util/log.h"

/* The interrupt bits of mip the controllers and the guest may set. */
#define MIP_BITS                                                                                   \
	((1ull << IRQ_S_SOFT) | (1ull << IRQ_M_SOFT) | (1ull << IRQ_S_TIMER) |                     \
	 (1ull << IRQ_M_TIMER) | (1ull << IRQ_S_EXT) | (1ull << IRQ_M_EXT))

/* The hart behind a cpu: the engine hands it out as its interrupt port's opaque. */
static struct hart *cpu_hart(struct cpu *c)
{
	return cpu_hart_port(c).hart;
}

void cpu_save(struct cpu *c, struct cpu_state *st)
{
	struct hart *h = cpu_hart(c);
	memset(st, 0, sizeof(*st));
	memcpy(st->x, h->x, sizeof(st->x));
	st->x[0] = 0;
	memcpy(st->f, h->f, sizeof(st->f));
	st->pc = h->pc;
	st->priv = h->priv;
	st->fflags = h->fflags;
	st->frm = h->frm;
	st->resv_valid = h->resv_valid;
	st->resv_addr = h->resv_addr;
	st->resv_val = h->resv_val;
	st->mstatus = h->mstatus;
	st->misa = h->misa;
	st->medeleg = h->medeleg;
	st->mideleg = h->mideleg;
	st->mie = h->mie;
	st->mtvec = h->mtvec;
	st->mscratch = h->mscratch;
	st->mepc = h->mepc;
	st->mcause = h->mcause;
	st->mtval = h->mtval;
	st->mcounteren = h->mcounteren;
	st->mcountinhibit = h->mcountinhibit;
	st->menvcfg = h->menvcfg;
	st->stvec = h->stvec;
	st->sscratch = h->sscratch;
	st->sepc = h->sepc;
	st->scause = h->scause;
	st->stval = h->stval;
	st->satp = h->satp;
	st->scounteren = h->scounteren;
	st->senvcfg = h->senvcfg;
	st->stimecmp = h->stimecmp;
	st->mtimecmp = atomic_load(&h->mtimecmp);
	memcpy(st->pmpcfg, h->pmpcfg, sizeof(st->pmpcfg));
	memcpy(st->pmpaddr, h->pmpaddr, sizeof(st->pmpaddr));
	st->mhartid = h->mhartid;
	st->instret = h->instret;
	st->mip = atomic_load(&h->pending) & MIP_BITS;
}

struct csr_slot {
	unsigned csr;
	const char *name;
	size_t state_off; /* in struct cpu_state */
	size_t hart_off;  /* in struct hart */
};

#define SLOT(num, f)                                                                               \
	{                                                                                          \
		num, #f, offsetof(struct cpu_state, f), offsetof(struct hart, f)                   \
	}

/* In write order: misa and mstatus first, pmpaddr before the pmpcfg that may lock it. */
static const struct csr_slot csr_slots[] = {
    SLOT(0x301, misa),	     SLOT(0x300, mstatus),  SLOT(0x302, medeleg),
    SLOT(0x303, mideleg),    SLOT(0x304, mie),	    SLOT(0x305, mtvec),
    SLOT(0x306, mcounteren), SLOT(0x30a, menvcfg),  SLOT(0x320, mcountinhibit),
    SLOT(0x340, mscratch),   SLOT(0x341, mepc),	    SLOT(0x342, mcause),
    SLOT(0x343, mtval),	     SLOT(0x105, stvec),    SLOT(0x106, scounteren),
    SLOT(0x10a, senvcfg),    SLOT(0x140, sscratch), SLOT(0x141, sepc),
    SLOT(0x142, scause),     SLOT(0x143, stval),    SLOT(0x180, satp),
    SLOT(0x14d, stimecmp),
};

static uint64_t load_u64(const void *base, size_t off)
{
	uint64_t v;
	memcpy(&v, (const uint8_t *)base + off, sizeof(v));
	return v;
}

/* Write one CSR the way csrw does (in M-mode) and check it kept the saved value. */
static int cpu_load_csr(struct hart *h, unsigned csr, const char *name, uint64_t want,
			uint64_t got_off, struct verr *err)
{
	uint64_t old;
	if (csr_op(h, csr, CSR_OP_WRITE, want, false, true, &old))
		return verr_set(err, EINVAL, "hart %llu: cannot restore %s",
				(unsigned long long)h->mhartid, name);
	if (load_u64(h, got_off) != want)
		return verr_set(err, EINVAL, "hart %llu: saved %s 0x%llx is not a legal value",
				(unsigned long long)h->mhartid, name, (unsigned long long)want);
	return 0;
}

static int cpu_load_check(const struct hart *h, const struct cpu_state *st, struct verr *err)
{
	unsigned long long id = (unsigned long long)h->mhartid;
	if (st->mhartid != h->mhartid)
		return verr_set(err, EINVAL, "hart %llu: saved as hart %llu", id,
				(unsigned long long)st->mhartid);
	if (st->priv != PRV_U && st->priv != PRV_S && st->priv != PRV_M)
		return verr_set(err, EINVAL, "hart %llu: bad privilege level %u", id, st->priv);
	if (st->pc & 1)
		return verr_set(err, EINVAL, "hart %llu: misaligned pc", id);
	if (st->fflags > 0x1f || st->frm > 7 || st->resv_valid > 1)
		return verr_set(err, EINVAL, "hart %llu: bad fcsr or reservation", id);
	if (st->mip & ~MIP_BITS)
		return verr_set(err, EINVAL, "hart %llu: bad pending interrupts", id);
	return 0;
}

int cpu_load(struct cpu *c, const struct cpu_state *st, struct verr *err)
{
	struct hart *h = cpu_hart(c);
	int r = cpu_load_check(h, st, err);
	if (r)
		return r;
	/* From reset, in M-mode, where every CSR may be written. */
	csr_reset(h);
	h->priv = PRV_M;
	for (size_t i = 0; i < sizeof(csr_slots) / sizeof(csr_slots[0]) && !r; i++) {
		const struct csr_slot *s = &csr_slots[i];
		r = cpu_load_csr(h, s->csr, s->name, load_u64(st, s->state_off), s->hart_off, err);
	}
	for (unsigned i = 0; i < 16 && !r; i++)
		r = cpu_load_csr(h, 0x3b0 + i, "pmpaddr", st->pmpaddr[i],
				 offsetof(struct hart, pmpaddr) + i * sizeof(uint64_t), err);
	for (unsigned i = 0; i < 2 && !r; i++)
		r = cpu_load_csr(h, 0x3a0 + 2 * i, "pmpcfg", st->pmpcfg[i],
				 offsetof(struct hart, pmpcfg) + i * sizeof(uint64_t), err);
	if (r)
		return r;
	memcpy(h->x, st->x, sizeof(st->x));
	h->x[0] = 0;
	h->x[32] = 0;
	memcpy(h->f, st->f, sizeof(h->f));
	h->pc = st->pc;
	h->fflags = st->fflags;
	h->frm = st->frm;
	h->resv_valid = st->resv_valid;
	h->resv_addr = st->resv_addr;
	h->resv_val = st->resv_val;
	atomic_store(&h->mtimecmp, st->mtimecmp);
	h->instret = st->instret;
	atomic_store(&h->pending, st->mip);
	h->next_timer_check = 0;
	h->priv = st->priv;
	/* Nothing cached survives: the memory behind it is new. */
	tlb_flush_everything(h);
	block_cache_flush(h);
	hart_update_mode(h);
	return 0;
}
