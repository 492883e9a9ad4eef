/* SPDX-License-Identifier: MIT */
#include "cpu/csr.h"

#include "cpu/mmu.h"
#include "cpu/pmp.h"
#include "cpu/trap.h"
#include "util/clock.h"

enum {
	CSR_FFLAGS = 0x001,
	CSR_FRM = 0x002,
	CSR_FCSR = 0x003,
	CSR_CYCLE = 0xc00,
	CSR_TIME = 0xc01,
	CSR_INSTRET = 0xc02,
	CSR_HPMCOUNTER3 = 0xc03,
	CSR_HPMCOUNTER31 = 0xc1f,
	CSR_SSTATUS = 0x100,
	CSR_SIE = 0x104,
	CSR_STVEC = 0x105,
	CSR_SCOUNTEREN = 0x106,
	CSR_SENVCFG = 0x10a,
	CSR_SSCRATCH = 0x140,
	CSR_SEPC = 0x141,
	CSR_SCAUSE = 0x142,
	CSR_STVAL = 0x143,
	CSR_SIP = 0x144,
	CSR_STIMECMP = 0x14d,
	CSR_SATP = 0x180,
	CSR_MVENDORID = 0xf11,
	CSR_MARCHID = 0xf12,
	CSR_MIMPID = 0xf13,
	CSR_MHARTID = 0xf14,
	CSR_MCONFIGPTR = 0xf15,
	CSR_MSTATUS = 0x300,
	CSR_MISA = 0x301,
	CSR_MEDELEG = 0x302,
	CSR_MIDELEG = 0x303,
	CSR_MIE = 0x304,
	CSR_MTVEC = 0x305,
	CSR_MCOUNTEREN = 0x306,
	CSR_MENVCFG = 0x30a,
	CSR_MCOUNTINHIBIT = 0x320,
	CSR_MHPMEVENT3 = 0x323,
	CSR_MHPMEVENT31 = 0x33f,
	CSR_MSCRATCH = 0x340,
	CSR_MEPC = 0x341,
	CSR_MCAUSE = 0x342,
	CSR_MTVAL = 0x343,
	CSR_MIP = 0x344,
	CSR_MTINST = 0x34a,
	CSR_PMPCFG0 = 0x3a0,
	CSR_PMPCFG15 = 0x3af,
	CSR_PMPADDR0 = 0x3b0,
	CSR_PMPADDR63 = 0x3ef,
	CSR_MCYCLE = 0xb00,
	CSR_MINSTRET = 0xb02,
	CSR_MHPMCOUNTER3 = 0xb03,
	CSR_MHPMCOUNTER31 = 0xb1f,
};

#define MSTATUS_WRITABLE                                                                           \
	(MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |     \
	 MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW |        \
	 MSTATUS_TSR)
#define SSTATUS_VISIBLE                                                                            \
	(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR |       \
	 MSTATUS_UXL | MSTATUS_SD)
#define SSTATUS_WRITABLE                                                                           \
	(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR)

#define S_INTERRUPTS ((1ull << IRQ_S_SOFT) | (1ull << IRQ_S_TIMER) | (1ull << IRQ_S_EXT))
#define M_INTERRUPTS ((1ull << IRQ_M_SOFT) | (1ull << IRQ_M_TIMER) | (1ull << IRQ_M_EXT))
/* Exceptions S-mode may handle: everything but ecall from M and reserved codes. */
#define MEDELEG_WRITABLE 0xb3ffull

#define MISA_VALUE                                                                                 \
	((2ull << 62) | (1u << ('A' - 'A')) | (1u << ('C' - 'A')) | (1u << ('D' - 'A')) |          \
	 (1u << ('F' - 'A')) | (1u << ('I' - 'A')) | (1u << ('M' - 'A')) | (1u << ('S' - 'A')) |   \
	 (1u << ('U' - 'A')))

void csr_reset(struct hart *h)
{
	h->misa = MISA_VALUE;
	h->mstatus = (2ull << 32) | (2ull << 34); /* UXL = SXL = 64 */
	h->priv = PRV_M;
	h->satp = 0;
	h->menvcfg = 0;
	h->mtvec = 0;
	h->medeleg = h->mideleg = h->mie = 0;
	h->mcounteren = h->scounteren = 0;
	h->fflags = h->frm = 0;
	atomic_store(&h->mtimecmp, UINT64_MAX);
	h->stimecmp = UINT64_MAX;
}

static uint64_t read_mstatus(const struct hart *h)
{
	uint64_t s = h->mstatus;
	if ((s & MSTATUS_FS) == MSTATUS_FS)
		s |= MSTATUS_SD;
	return s;
}

/* May the current mode read the counter at 'csr' (cycle, time, instret, hpm)? */
static bool counter_allowed(const struct hart *h, unsigned csr)
{
	unsigned bit = csr & 31;
	if (h->priv == PRV_M)
		return true;
	if (!((h->mcounteren >> bit) & 1))
		return false;
	if (h->priv == PRV_U && !((h->scounteren >> bit) & 1))
		return false;
	return true;
}

static int csr_read(struct hart *h, unsigned csr, uint64_t *v)
{
	switch (csr) {
	case CSR_FFLAGS:
		*v = h->fflags;
		return 0;
	case CSR_FRM:
		*v = h->frm;
		return 0;
	case CSR_FCSR:
		*v = h->fflags | h->frm << 5;
		return 0;
	case CSR_CYCLE:
	case CSR_INSTRET:
		if (!counter_allowed(h, csr))
			return -1;
		*v = h->instret;
		return 0;
	case CSR_TIME:
		if (!counter_allowed(h, csr))
			return -1;
		*v = timebase_now(h->tb);
		return 0;
	case CSR_SSTATUS:
		*v = read_mstatus(h) & SSTATUS_VISIBLE;
		return 0;
	case CSR_SIE:
		*v = h->mie & h->mideleg;
		return 0;
	case CSR_STVEC:
		*v = h->stvec;
		return 0;
	case CSR_SCOUNTEREN:
		*v = h->scounteren;
		return 0;
	case CSR_SENVCFG:
		*v = h->senvcfg;
		return 0;
	case CSR_SSCRATCH:
		*v = h->sscratch;
		return 0;
	case CSR_SEPC:
		*v = h->sepc;
		return 0;
	case CSR_SCAUSE:
		*v = h->scause;
		return 0;
	case CSR_STVAL:
		*v = h->stval;
		return 0;
	case CSR_SIP:
		*v = atomic_load(&h->pending) & h->mideleg & S_INTERRUPTS;
		return 0;
	case CSR_STIMECMP:
		if (h->priv == PRV_S && !(h->menvcfg & MENVCFG_STCE))
			return -1;
		if (h->priv == PRV_S && !(h->mcounteren & 2))
			return -1;
		*v = h->stimecmp;
		return 0;
	case CSR_SATP:
		if (h->priv == PRV_S && (h->mstatus & MSTATUS_TVM))
			return -1;
		*v = h->satp;
		return 0;
	case CSR_MVENDORID:
	case CSR_MARCHID:
	case CSR_MIMPID:
	case CSR_MCONFIGPTR:
		*v = 0;
		return 0;
	case CSR_MHARTID:
		*v = h->mhartid;
		return 0;
	case CSR_MSTATUS:
		*v = read_mstatus(h);
		return 0;
	case CSR_MISA:
		*v = h->misa;
		return 0;
	case CSR_MEDELEG:
		*v = h->medeleg;
		return 0;
	case CSR_MIDELEG:
		*v = h->mideleg;
		return 0;
	case CSR_MIE:
		*v = h->mie;
		return 0;
	case CSR_MTVEC:
		*v = h->mtvec;
		return 0;
	case CSR_MCOUNTEREN:
		*v = h->mcounteren;
		return 0;
	case CSR_MENVCFG:
		*v = h->menvcfg;
		return 0;
	case CSR_MCOUNTINHIBIT:
		*v = h->mcountinhibit;
		return 0;
	case CSR_MSCRATCH:
		*v = h->mscratch;
		return 0;
	case CSR_MEPC:
		*v = h->mepc;
		return 0;
	case CSR_MCAUSE:
		*v = h->mcause;
		return 0;
	case CSR_MTVAL:
		*v = h->mtval;
		return 0;
	case CSR_MTINST:
		*v = 0;
		return 0;
	case CSR_MIP:
		*v = atomic_load(&h->pending) & (S_INTERRUPTS | M_INTERRUPTS);
		return 0;
	case CSR_MCYCLE:
	case CSR_MINSTRET:
		*v = h->instret;
		return 0;
	}
	if ((csr >= CSR_HPMCOUNTER3 && csr <= CSR_HPMCOUNTER31)) {
		if (!counter_allowed(h, csr))
			return -1;
		*v = 0;
		return 0;
	}
	if ((csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) ||
	    (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31)) {
		*v = 0;
		return 0;
	}
	if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
		if (csr & 1)
			return -1; /* odd pmpcfg registers do not exist on RV64 */
		unsigned i = (csr - CSR_PMPCFG0) / 2;
		*v = i < 2 ? h->pmpcfg[i] : 0;
		return 0;
	}
	if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
		unsigned i = csr - CSR_PMPADDR0;
		*v = i < 16 ? h->pmpaddr[i] : 0;
		return 0;
	}
	return -1;
}

static void write_mstatus(struct hart *h, uint64_t val, uint64_t mask)
{
	uint64_t old = h->mstatus;
	uint64_t s = (old & ~mask) | (val & mask);
	if (((s & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2)
		s = (s & ~MSTATUS_MPP) | (old & MSTATUS_MPP); /* reserved: keep the old mode */
	h->mstatus = s;
	if ((old ^ s) & MSTATUS_MXR)
		tlb_flush_all(h);
}

static int csr_write(struct hart *h, unsigned csr, uint64_t v)
{
	switch (csr) {
	case CSR_FFLAGS:
		h->fflags = v & 0x1f;
		break;
	case CSR_FRM:
		h->frm = v & 7;
		break;
	case CSR_FCSR:
		h->fflags = v & 0x1f;
		h->frm = (v >> 5) & 7;
		break;
	case CSR_SSTATUS:
		write_mstatus(h, v, SSTATUS_WRITABLE);
		break;
	case CSR_SIE:
		h->mie = (h->mie & ~h->mideleg) | (v & h->mideleg);
		break;
	case CSR_STVEC:
		h->stvec = v & ~2ull;
		break;
	case CSR_SCOUNTEREN:
		h->scounteren = v & 0xffffffff;
		break;
	case CSR_SENVCFG:
		h->senvcfg = 0;
		break;
	case CSR_SSCRATCH:
		h->sscratch = v;
		break;
	case CSR_SEPC:
		h->sepc = v & ~1ull;
		break;
	case CSR_SCAUSE:
		h->scause = v;
		break;
	case CSR_STVAL:
		h->stval = v;
		break;
	case CSR_SIP:
		if (h->mideleg & (1ull << IRQ_S_SOFT))
			hart_set_pending(h, 1ull << IRQ_S_SOFT, v & (1ull << IRQ_S_SOFT));
		break;
	case CSR_STIMECMP:
		if (h->priv == PRV_S && (!(h->menvcfg & MENVCFG_STCE) || !(h->mcounteren & 2)))
			return -1;
		h->stimecmp = v;
		hart_check_timers(h);
		break;
	case CSR_SATP: {
		if (h->priv == PRV_S && (h->mstatus & MSTATUS_TVM))
			return -1;
		unsigned mode = v >> 60;
		if (mode != 0 && mode != 8 && mode != 9)
			break; /* unsupported modes leave satp unchanged */
		/* ASIDs are not implemented (ASIDLEN = 0): the field reads as zero. */
		h->satp = v & ~(0xffffull << 44);
		tlb_flush_all(h);
		break;
	}
	case CSR_MSTATUS:
		write_mstatus(h, v, MSTATUS_WRITABLE);
		break;
	case CSR_MISA:
		break;
	case CSR_MEDELEG:
		h->medeleg = v & MEDELEG_WRITABLE;
		break;
	case CSR_MIDELEG:
		h->mideleg = v & S_INTERRUPTS;
		break;
	case CSR_MIE:
		h->mie = v & (S_INTERRUPTS | M_INTERRUPTS);
		break;
	case CSR_MTVEC:
		h->mtvec = v & ~2ull;
		break;
	case CSR_MCOUNTEREN:
		h->mcounteren = v & 0xffffffff;
		break;
	case CSR_MENVCFG:
		h->menvcfg = v & MENVCFG_STCE;
		if (!(h->menvcfg & MENVCFG_STCE))
			hart_set_pending(h, 1ull << IRQ_S_TIMER, false);
		hart_check_timers(h);
		break;
	case CSR_MCOUNTINHIBIT:
		h->mcountinhibit = v & 0xfffffffd;
		break;
	case CSR_MSCRATCH:
		h->mscratch = v;
		break;
	case CSR_MEPC:
		h->mepc = v & ~1ull;
		break;
	case CSR_MCAUSE:
		h->mcause = v;
		break;
	case CSR_MTVAL:
		h->mtval = v;
		break;
	case CSR_MTINST:
		break;
	case CSR_MIP: {
		uint64_t writable = (1ull << IRQ_S_SOFT) | (1ull << IRQ_S_EXT);
		if (!(h->menvcfg & MENVCFG_STCE))
			writable |= 1ull << IRQ_S_TIMER;
		uint64_t cur = atomic_load(&h->pending);
		hart_set_pending(h, writable & v & ~cur, true);
		hart_set_pending(h, writable & ~v & cur, false);
		break;
	}
	case CSR_MCYCLE:
	case CSR_MINSTRET:
		h->instret = v;
		break;
	default:
		if ((csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) ||
		    (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31))
			break;
		if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
			unsigned i = (csr - CSR_PMPCFG0) / 2;
			if (csr & 1)
				return -1;
			if (i < 2)
				pmp_write_cfg(h, i, v);
			break;
		}
		if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
			unsigned i = csr - CSR_PMPADDR0;
			if (i < 16)
				pmp_write_addr(h, i, v);
			break;
		}
		return -1;
	}
	return 0;
}

int csr_op(struct hart *h, unsigned csr, enum csr_op_kind kind, uint64_t operand, bool do_read,
	   bool do_write, uint64_t *old)
{
	unsigned min_priv = (csr >> 8) & 3;
	if (h->priv < min_priv)
		return -1;
	if (do_write && (csr >> 10) == 3)
		return -1; /* read-only CSR */
	if (csr <= CSR_FCSR && !(h->mstatus & MSTATUS_FS))
		return -1;
	uint64_t cur = 0;
	if ((do_read || kind != CSR_OP_WRITE) && csr_read(h, csr, &cur))
		return -1;
	if (do_write) {
		uint64_t nv = kind == CSR_OP_WRITE ? operand
			      : kind == CSR_OP_SET ? cur | operand
						   : cur & ~operand;
		if (csr_write(h, csr, nv))
			return -1;
		if (csr <= CSR_FCSR)
			h->mstatus |= MSTATUS_FS;
		hart_update_mode(h);
	}
	*old = cur;
	return 0;
}
