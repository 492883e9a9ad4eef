/* SPDX-License-Identifier: MIT */
/*
 * RV64GC (+ Zba, Zbb, Zbs) decoder.  Compressed instructions are expanded
 * to the operation of their 32-bit equivalent, so the interpreter has one
 * handler per operation whatever the encoding.
 */
#include "cpu/decode.h"

#include <stdbool.h>
#include <string.h>

static inline uint32_t bits(uint32_t v, unsigned hi, unsigned lo)
{
	return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}

static inline int32_t sext(uint32_t v, unsigned width)
{
	return (int32_t)(v << (32 - width)) >> (32 - width);
}

static void set(struct decoded *d, enum cpu_op op, unsigned rd, unsigned rs1, unsigned rs2,
		int32_t imm)
{
	d->op = op;
	d->rd = rd;
	d->rs1 = rs1;
	d->rs2 = rs2;
	d->imm = imm;
}

static void illegal(struct decoded *d, uint32_t raw)
{
	d->op = OP_ILLEGAL;
	d->imm = (int32_t)raw;
	d->ends_block = 1;
}

static int32_t imm_i(uint32_t r)
{
	return (int32_t)r >> 20;
}
static int32_t imm_s(uint32_t r)
{
	return ((int32_t)r >> 25) * 32 | (int32_t)bits(r, 11, 7);
}
static int32_t imm_b(uint32_t r)
{
	return sext(bits(r, 31, 31) << 12 | bits(r, 7, 7) << 11 | bits(r, 30, 25) << 5 |
			bits(r, 11, 8) << 1,
		    13);
}
static int32_t imm_j(uint32_t r)
{
	return sext(bits(r, 31, 31) << 20 | bits(r, 19, 12) << 12 | bits(r, 20, 20) << 11 |
			bits(r, 30, 21) << 1,
		    21);
}

static void decode_op(uint32_t r, struct decoded *d, bool w)
{
	unsigned f3 = bits(r, 14, 12), f7 = bits(r, 31, 25);
	unsigned rd = bits(r, 11, 7), rs1 = bits(r, 19, 15), rs2 = bits(r, 24, 20);
	enum cpu_op op = OP_ILLEGAL;
	static const enum cpu_op base[8] = {OP_ADD, OP_SLL, OP_SLT, OP_SLTU,
					    OP_XOR, OP_SRL, OP_OR,  OP_AND};
	static const enum cpu_op mul[8] = {OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU,
					   OP_DIV, OP_DIVU, OP_REM,    OP_REMU};
	static const enum cpu_op mulw[8] = {OP_MULW, OP_ILLEGAL, OP_ILLEGAL, OP_ILLEGAL,
					    OP_DIVW, OP_DIVUW,	 OP_REMW,    OP_REMUW};
	if (!w) {
		switch (f7) {
		case 0x00:
			op = base[f3];
			break;
		case 0x01:
			op = mul[f3];
			break;
		case 0x20:
			op = f3 == 0   ? OP_SUB
			     : f3 == 5 ? OP_SRA
			     : f3 == 7 ? OP_ANDN
			     : f3 == 6 ? OP_ORN
			     : f3 == 4 ? OP_XNOR
				       : OP_ILLEGAL;
			break;
		case 0x10:
			op = f3 == 2   ? OP_SH1ADD
			     : f3 == 4 ? OP_SH2ADD
			     : f3 == 6 ? OP_SH3ADD
				       : OP_ILLEGAL;
			break;
		case 0x05:
			op = f3 == 4   ? OP_MIN
			     : f3 == 5 ? OP_MINU
			     : f3 == 6 ? OP_MAX
			     : f3 == 7 ? OP_MAXU
				       : OP_ILLEGAL;
			break;
		case 0x30:
			op = f3 == 1 ? OP_ROL : f3 == 5 ? OP_ROR : OP_ILLEGAL;
			break;
		case 0x24:
			op = f3 == 1 ? OP_BCLR : f3 == 5 ? OP_BEXT : OP_ILLEGAL;
			break;
		case 0x34:
			op = f3 == 1 ? OP_BINV : OP_ILLEGAL;
			break;
		case 0x14:
			op = f3 == 1 ? OP_BSET : OP_ILLEGAL;
			break;
		}
	} else {
		switch (f7) {
		case 0x00:
			op = f3 == 0 ? OP_ADDW : f3 == 1 ? OP_SLLW : f3 == 5 ? OP_SRLW : OP_ILLEGAL;
			break;
		case 0x20:
			op = f3 == 0 ? OP_SUBW : f3 == 5 ? OP_SRAW : OP_ILLEGAL;
			break;
		case 0x01:
			op = mulw[f3];
			break;
		case 0x04:
			op = f3 == 0 ? OP_ADD_UW : (f3 == 4 && rs2 == 0) ? OP_ZEXT_H : OP_ILLEGAL;
			break;
		case 0x10:
			op = f3 == 2   ? OP_SH1ADD_UW
			     : f3 == 4 ? OP_SH2ADD_UW
			     : f3 == 6 ? OP_SH3ADD_UW
				       : OP_ILLEGAL;
			break;
		case 0x30:
			op = f3 == 1 ? OP_ROLW : f3 == 5 ? OP_RORW : OP_ILLEGAL;
			break;
		}
	}
	if (op == OP_ILLEGAL)
		return illegal(d, r);
	set(d, op, rd, rs1, rs2, 0);
}

static void decode_op_imm(uint32_t r, struct decoded *d)
{
	unsigned f3 = bits(r, 14, 12), f6 = bits(r, 31, 26), f12 = bits(r, 31, 20);
	unsigned rd = bits(r, 11, 7), rs1 = bits(r, 19, 15);
	int32_t imm = imm_i(r), sh = (int32_t)bits(r, 25, 20);
	enum cpu_op op = OP_ILLEGAL;
	switch (f3) {
	case 0:
		op = OP_ADDI;
		break;
	case 2:
		op = OP_SLTI;
		break;
	case 3:
		op = OP_SLTIU;
		break;
	case 4:
		op = OP_XORI;
		break;
	case 6:
		op = OP_ORI;
		break;
	case 7:
		op = OP_ANDI;
		break;
	case 1:
		imm = sh;
		if (f6 == 0x00)
			op = OP_SLLI;
		else if (f6 == 0x12)
			op = OP_BCLRI;
		else if (f6 == 0x1a)
			op = OP_BINVI;
		else if (f6 == 0x0a)
			op = OP_BSETI;
		else if (f12 == 0x600)
			op = OP_CLZ;
		else if (f12 == 0x601)
			op = OP_CTZ;
		else if (f12 == 0x602)
			op = OP_CPOP;
		else if (f12 == 0x604)
			op = OP_SEXT_B;
		else if (f12 == 0x605)
			op = OP_SEXT_H;
		break;
	case 5:
		imm = sh;
		if (f6 == 0x00)
			op = OP_SRLI;
		else if (f6 == 0x10)
			op = OP_SRAI;
		else if (f6 == 0x12)
			op = OP_BEXTI;
		else if (f6 == 0x18)
			op = OP_RORI;
		else if (f12 == 0x287)
			op = OP_ORC_B;
		else if (f12 == 0x6b8)
			op = OP_REV8;
		break;
	}
	if (op == OP_ILLEGAL)
		return illegal(d, r);
	if (op == OP_ADDI && rs1 == 0)
		op = OP_LI;
	else if (op == OP_ADDI && imm == 0)
		op = OP_MV;
	set(d, op, rd, rs1, 0, imm);
}

static void decode_op_imm32(uint32_t r, struct decoded *d)
{
	unsigned f3 = bits(r, 14, 12), f7 = bits(r, 31, 25), f12 = bits(r, 31, 20);
	unsigned rd = bits(r, 11, 7), rs1 = bits(r, 19, 15);
	int32_t sh = (int32_t)bits(r, 24, 20);
	enum cpu_op op = OP_ILLEGAL;
	if (f3 == 0) {
		set(d, OP_ADDIW, rd, rs1, 0, imm_i(r));
		return;
	}
	if (f3 == 1) {
		if (f7 == 0)
			op = OP_SLLIW;
		else if (bits(r, 31, 26) == 0x02) {
			op = OP_SLLI_UW;
			sh = (int32_t)bits(r, 25, 20);
		} else if (f12 == 0x600)
			op = OP_CLZW;
		else if (f12 == 0x601)
			op = OP_CTZW;
		else if (f12 == 0x602)
			op = OP_CPOPW;
	} else if (f3 == 5) {
		op = f7 == 0	  ? OP_SRLIW
		     : f7 == 0x20 ? OP_SRAIW
		     : f7 == 0x30 ? OP_RORIW
				  : OP_ILLEGAL;
	}
	if (op == OP_ILLEGAL)
		return illegal(d, r);
	set(d, op, rd, rs1, 0, sh);
}

static void decode_system(uint32_t r, struct decoded *d)
{
	unsigned f3 = bits(r, 14, 12);
	unsigned rd = bits(r, 11, 7), rs1 = bits(r, 19, 15), rs2 = bits(r, 24, 20);
	d->ends_block = 1;
	if (f3 == 0) {
		if (r == 0x00000073)
			set(d, OP_ECALL, 0, 0, 0, 0);
		else if (r == 0x00100073)
			set(d, OP_EBREAK, 0, 0, 0, 0);
		else if (r == 0x30200073)
			set(d, OP_MRET, 0, 0, 0, 0);
		else if (r == 0x10200073)
			set(d, OP_SRET, 0, 0, 0, 0);
		else if (r == 0x10500073)
			set(d, OP_WFI, 0, 0, 0, 0);
		else if (bits(r, 31, 25) == 0x09 && rd == 0)
			set(d, OP_SFENCE_VMA, 0, rs1, rs2, 0);
		else
			illegal(d, r);
		return;
	}
	static const enum cpu_op csr[8] = {OP_ILLEGAL, OP_CSRRW,  OP_CSRRS,  OP_CSRRC,
					   OP_ILLEGAL, OP_CSRRWI, OP_CSRRSI, OP_CSRRCI};
	if (csr[f3] == OP_ILLEGAL)
		return illegal(d, r);
	set(d, csr[f3], rd, rs1, 0, (int32_t)bits(r, 31, 20));
}

static void decode_amo(uint32_t r, struct decoded *d)
{
	unsigned f3 = bits(r, 14, 12), f5 = bits(r, 31, 27);
	unsigned rd = bits(r, 11, 7), rs1 = bits(r, 19, 15), rs2 = bits(r, 24, 20);
	static const struct {
		unsigned f5;
		enum cpu_op w, dw;
	} amo[] = {
	    {0x02, OP_LR_W, OP_LR_D},		{0x03, OP_SC_W, OP_SC_D},
	    {0x01, OP_AMOSWAP_W, OP_AMOSWAP_D}, {0x00, OP_AMOADD_W, OP_AMOADD_D},
	    {0x04, OP_AMOXOR_W, OP_AMOXOR_D},	{0x0c, OP_AMOAND_W, OP_AMOAND_D},
	    {0x08, OP_AMOOR_W, OP_AMOOR_D},	{0x10, OP_AMOMIN_W, OP_AMOMIN_D},
	    {0x14, OP_AMOMAX_W, OP_AMOMAX_D},	{0x18, OP_AMOMINU_W, OP_AMOMINU_D},
	    {0x1c, OP_AMOMAXU_W, OP_AMOMAXU_D},
	};
	if (f3 != 2 && f3 != 3)
		return illegal(d, r);
	for (unsigned i = 0; i < sizeof(amo) / sizeof(amo[0]); i++) {
		if (amo[i].f5 != f5)
			continue;
		if (f5 == 0x02 && rs2 != 0)
			break;
		set(d, f3 == 2 ? amo[i].w : amo[i].dw, rd, rs1, rs2, 0);
		return;
	}
	illegal(d, r);
}

static void decode_fp(uint32_t r, struct decoded *d)
{
	unsigned f7 = bits(r, 31, 25), rm = bits(r, 14, 12);
	unsigned rd = bits(r, 11, 7), rs1 = bits(r, 19, 15), rs2 = bits(r, 24, 20);
	bool dbl = f7 & 1;
	enum cpu_op op = OP_ILLEGAL;
	if ((f7 & 2))
		return illegal(d, r); /* H and Q formats */
	switch (f7 >> 2) {
	case 0x00:
		op = dbl ? OP_FADD_D : OP_FADD_S;
		break;
	case 0x01:
		op = dbl ? OP_FSUB_D : OP_FSUB_S;
		break;
	case 0x02:
		op = dbl ? OP_FMUL_D : OP_FMUL_S;
		break;
	case 0x03:
		op = dbl ? OP_FDIV_D : OP_FDIV_S;
		break;
	case 0x0b:
		if (rs2 == 0)
			op = dbl ? OP_FSQRT_D : OP_FSQRT_S;
		break;
	case 0x04:
		if (rm <= 2) {
			static const enum cpu_op s[3] = {OP_FSGNJ_S, OP_FSGNJN_S, OP_FSGNJX_S};
			static const enum cpu_op dd[3] = {OP_FSGNJ_D, OP_FSGNJN_D, OP_FSGNJX_D};
			op = dbl ? dd[rm] : s[rm];
		}
		break;
	case 0x05:
		if (rm <= 1)
			op = dbl ? (rm ? OP_FMAX_D : OP_FMIN_D) : (rm ? OP_FMAX_S : OP_FMIN_S);
		break;
	case 0x08:
		if (!dbl && rs2 == 1)
			op = OP_FCVT_S_D;
		else if (dbl && rs2 == 0)
			op = OP_FCVT_D_S;
		break;
	case 0x14:
		if (rm <= 2) {
			static const enum cpu_op s[3] = {OP_FLE_S, OP_FLT_S, OP_FEQ_S};
			static const enum cpu_op dd[3] = {OP_FLE_D, OP_FLT_D, OP_FEQ_D};
			op = dbl ? dd[rm] : s[rm];
		}
		break;
	case 0x18:
		if (rs2 <= 3) {
			static const enum cpu_op s[4] = {OP_FCVT_W_S, OP_FCVT_WU_S, OP_FCVT_L_S,
							 OP_FCVT_LU_S};
			static const enum cpu_op dd[4] = {OP_FCVT_W_D, OP_FCVT_WU_D, OP_FCVT_L_D,
							  OP_FCVT_LU_D};
			op = dbl ? dd[rs2] : s[rs2];
		}
		break;
	case 0x1a:
		if (rs2 <= 3) {
			static const enum cpu_op s[4] = {OP_FCVT_S_W, OP_FCVT_S_WU, OP_FCVT_S_L,
							 OP_FCVT_S_LU};
			static const enum cpu_op dd[4] = {OP_FCVT_D_W, OP_FCVT_D_WU, OP_FCVT_D_L,
							  OP_FCVT_D_LU};
			op = dbl ? dd[rs2] : s[rs2];
		}
		break;
	case 0x1c:
		if (rs2 == 0 && rm == 0)
			op = dbl ? OP_FMV_X_D : OP_FMV_X_W;
		else if (rs2 == 0 && rm == 1)
			op = dbl ? OP_FCLASS_D : OP_FCLASS_S;
		break;
	case 0x1e:
		if (rs2 == 0 && rm == 0)
			op = dbl ? OP_FMV_D_X : OP_FMV_W_X;
		break;
	}
	if (op == OP_ILLEGAL)
		return illegal(d, r);
	set(d, op, rd, rs1, rs2, 0);
	d->rm = rm;
}

static void decode_fma(uint32_t r, struct decoded *d, unsigned opcode)
{
	unsigned fmt = bits(r, 26, 25);
	static const enum cpu_op s[4] = {OP_FMADD_S, OP_FMSUB_S, OP_FNMSUB_S, OP_FNMADD_S};
	static const enum cpu_op dd[4] = {OP_FMADD_D, OP_FMSUB_D, OP_FNMSUB_D, OP_FNMADD_D};
	if (fmt > 1)
		return illegal(d, r);
	unsigned k = (opcode >> 2) & 3;
	set(d, fmt ? dd[k] : s[k], bits(r, 11, 7), bits(r, 19, 15), bits(r, 24, 20), 0);
	d->rs3 = bits(r, 31, 27);
	d->rm = bits(r, 14, 12);
}

static void decode32(uint32_t r, struct decoded *d)
{
	unsigned opcode = bits(r, 6, 0), f3 = bits(r, 14, 12);
	unsigned rd = bits(r, 11, 7), rs1 = bits(r, 19, 15), rs2 = bits(r, 24, 20);
	switch (opcode) {
	case 0x37:
		set(d, OP_LUI, rd, 0, 0, (int32_t)(r & 0xfffff000));
		break;
	case 0x17:
		set(d, OP_AUIPC, rd, 0, 0, (int32_t)(r & 0xfffff000));
		break;
	case 0x6f:
		set(d, OP_JAL, rd, 0, 0, imm_j(r));
		d->ends_block = 1;
		break;
	case 0x67:
		if (f3)
			return illegal(d, r);
		set(d, OP_JALR, rd, rs1, 0, imm_i(r));
		d->ends_block = 1;
		break;
	case 0x63: {
		static const enum cpu_op br[8] = {OP_BEQ, OP_BNE, OP_ILLEGAL, OP_ILLEGAL,
						  OP_BLT, OP_BGE, OP_BLTU,    OP_BGEU};
		if (br[f3] == OP_ILLEGAL)
			return illegal(d, r);
		set(d, br[f3], 0, rs1, rs2, imm_b(r));
		d->ends_block = 1;
		break;
	}
	case 0x03: {
		static const enum cpu_op ld[8] = {OP_LB,  OP_LH,  OP_LW,  OP_LD,
						  OP_LBU, OP_LHU, OP_LWU, OP_ILLEGAL};
		if (ld[f3] == OP_ILLEGAL)
			return illegal(d, r);
		set(d, ld[f3], rd, rs1, 0, imm_i(r));
		break;
	}
	case 0x23: {
		static const enum cpu_op st[4] = {OP_SB, OP_SH, OP_SW, OP_SD};
		if (f3 > 3)
			return illegal(d, r);
		set(d, st[f3], 0, rs1, rs2, imm_s(r));
		break;
	}
	case 0x07:
		if (f3 != 2 && f3 != 3)
			return illegal(d, r);
		set(d, f3 == 2 ? OP_FLW : OP_FLD, rd, rs1, 0, imm_i(r));
		break;
	case 0x27:
		if (f3 != 2 && f3 != 3)
			return illegal(d, r);
		set(d, f3 == 2 ? OP_FSW : OP_FSD, 0, rs1, rs2, imm_s(r));
		break;
	case 0x13:
		decode_op_imm(r, d);
		break;
	case 0x1b:
		decode_op_imm32(r, d);
		break;
	case 0x33:
		decode_op(r, d, false);
		break;
	case 0x3b:
		decode_op(r, d, true);
		break;
	case 0x0f:
		if (f3 == 0)
			set(d, r == 0x8330000f ? OP_FENCE_TSO : OP_FENCE, 0, 0, 0,
			    (int32_t)bits(r, 27, 20));
		else if (f3 == 1) {
			set(d, OP_FENCE_I, 0, 0, 0, 0);
			d->ends_block = 1;
		} else
			illegal(d, r);
		break;
	case 0x73:
		decode_system(r, d);
		break;
	case 0x2f:
		decode_amo(r, d);
		break;
	case 0x53:
		decode_fp(r, d);
		break;
	case 0x43:
	case 0x47:
	case 0x4b:
	case 0x4f:
		decode_fma(r, d, opcode);
		break;
	default:
		illegal(d, r);
		break;
	}
}

/* ---- Compressed instructions ---------------------------------------------- */

static void decode16(uint32_t c, struct decoded *d)
{
	unsigned op = c & 3, f3 = bits(c, 15, 13);
	unsigned rd = bits(c, 11, 7), rs2 = bits(c, 6, 2);
	unsigned rdp = bits(c, 4, 2) + 8, rs1p = bits(c, 9, 7) + 8;
	int32_t imm6 = sext(bits(c, 12, 12) << 5 | bits(c, 6, 2), 6);
	uint32_t uimm;

	if (op == 0) {
		switch (f3) {
		case 0:
			uimm = bits(c, 12, 11) << 4 | bits(c, 10, 7) << 6 | bits(c, 6, 6) << 2 |
			       bits(c, 5, 5) << 3;
			if (uimm == 0)
				return illegal(d, c);
			return set(d, OP_ADDI, rdp, 2, 0, (int32_t)uimm);
		case 1:
		case 3:
		case 5:
		case 7:
			uimm = bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6;
			if (f3 == 1)
				return set(d, OP_FLD, rdp, rs1p, 0, (int32_t)uimm);
			if (f3 == 3)
				return set(d, OP_LD, rdp, rs1p, 0, (int32_t)uimm);
			if (f3 == 5)
				return set(d, OP_FSD, 0, rs1p, rdp, (int32_t)uimm);
			return set(d, OP_SD, 0, rs1p, rdp, (int32_t)uimm);
		case 2:
		case 6:
			uimm = bits(c, 12, 10) << 3 | bits(c, 6, 6) << 2 | bits(c, 5, 5) << 6;
			if (f3 == 2)
				return set(d, OP_LW, rdp, rs1p, 0, (int32_t)uimm);
			return set(d, OP_SW, 0, rs1p, rdp, (int32_t)uimm);
		default:
			return illegal(d, c);
		}
	}
	if (op == 1) {
		switch (f3) {
		case 0:
			return set(d, imm6 || rd ? OP_ADDI : OP_MV, rd, rd, 0, imm6);
		case 1:
			if (rd == 0)
				return illegal(d, c);
			return set(d, OP_ADDIW, rd, rd, 0, imm6);
		case 2:
			return set(d, OP_LI, rd, 0, 0, imm6);
		case 3:
			if (rd == 2) {
				int32_t imm = sext(bits(c, 12, 12) << 9 | bits(c, 6, 6) << 4 |
						       bits(c, 5, 5) << 6 | bits(c, 4, 3) << 7 |
						       bits(c, 2, 2) << 5,
						   10);
				if (imm == 0)
					return illegal(d, c);
				return set(d, OP_ADDI, 2, 2, 0, imm);
			}
			if (imm6 == 0)
				return illegal(d, c);
			return set(d, OP_LUI, rd, 0, 0, imm6 * 4096);
		case 4: {
			unsigned f2 = bits(c, 11, 10);
			int32_t sh = (int32_t)(bits(c, 12, 12) << 5 | bits(c, 6, 2));
			if (f2 == 0)
				return set(d, OP_SRLI, rs1p, rs1p, 0, sh);
			if (f2 == 1)
				return set(d, OP_SRAI, rs1p, rs1p, 0, sh);
			if (f2 == 2)
				return set(d, OP_ANDI, rs1p, rs1p, 0, imm6);
			static const enum cpu_op a[8] = {OP_SUB,  OP_XOR,  OP_OR,      OP_AND,
							 OP_SUBW, OP_ADDW, OP_ILLEGAL, OP_ILLEGAL};
			enum cpu_op o = a[bits(c, 12, 12) << 2 | bits(c, 6, 5)];
			if (o == OP_ILLEGAL)
				return illegal(d, c);
			return set(d, o, rs1p, rs1p, rdp, 0);
		}
		case 5: {
			int32_t imm = sext(bits(c, 12, 12) << 11 | bits(c, 11, 11) << 4 |
					       bits(c, 10, 9) << 8 | bits(c, 8, 8) << 10 |
					       bits(c, 7, 7) << 6 | bits(c, 6, 6) << 7 |
					       bits(c, 5, 3) << 1 | bits(c, 2, 2) << 5,
					   12);
			set(d, OP_JAL, 0, 0, 0, imm);
			d->ends_block = 1;
			return;
		}
		default: { /* 6, 7: c.beqz, c.bnez */
			int32_t imm =
			    sext(bits(c, 12, 12) << 8 | bits(c, 11, 10) << 3 | bits(c, 6, 5) << 6 |
				     bits(c, 4, 3) << 1 | bits(c, 2, 2) << 5,
				 9);
			set(d, f3 == 6 ? OP_BEQ : OP_BNE, 0, rs1p, 0, imm);
			d->ends_block = 1;
			return;
		}
		}
	}
	/* op == 2 */
	switch (f3) {
	case 0:
		return set(d, OP_SLLI, rd, rd, 0, (int32_t)(bits(c, 12, 12) << 5 | bits(c, 6, 2)));
	case 1:
	case 3:
		uimm = bits(c, 12, 12) << 5 | bits(c, 6, 5) << 3 | bits(c, 4, 2) << 6;
		if (f3 == 3 && rd == 0)
			return illegal(d, c);
		return set(d, f3 == 1 ? OP_FLD : OP_LD, rd, 2, 0, (int32_t)uimm);
	case 2:
		uimm = bits(c, 12, 12) << 5 | bits(c, 6, 4) << 2 | bits(c, 3, 2) << 6;
		if (rd == 0)
			return illegal(d, c);
		return set(d, OP_LW, rd, 2, 0, (int32_t)uimm);
	case 4:
		if (!bits(c, 12, 12)) {
			if (rs2 == 0) {
				if (rd == 0)
					return illegal(d, c);
				set(d, OP_JALR, 0, rd, 0, 0);
				d->ends_block = 1;
				return;
			}
			return set(d, OP_MV, rd, rs2, 0, 0);
		}
		if (rs2 == 0) {
			if (rd == 0) {
				set(d, OP_EBREAK, 0, 0, 0, 0);
				d->ends_block = 1;
				return;
			}
			set(d, OP_JALR, 1, rd, 0, 0);
			d->ends_block = 1;
			return;
		}
		return set(d, OP_ADD, rd, rd, rs2, 0);
	case 5:
	case 7:
		uimm = bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6;
		return set(d, f3 == 5 ? OP_FSD : OP_SD, 0, 2, rs2, (int32_t)uimm);
	default: /* 6 */
		uimm = bits(c, 12, 9) << 2 | bits(c, 8, 7) << 6;
		return set(d, OP_SW, 0, 2, rs2, (int32_t)uimm);
	}
}

void decode_insn(uint32_t raw, struct decoded *d)
{
	memset(d, 0, sizeof(*d));
	if ((raw & 3) == 3) {
		d->len = 4;
		decode32(raw, d);
	} else {
		d->len = 2;
		raw &= 0xffff;
		decode16(raw, d);
	}
	if (d->op == OP_ILLEGAL)
		d->imm = (int32_t)raw;
}
