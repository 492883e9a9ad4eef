/* SPDX-License-Identifier: MIT */
/* Kernel: a small stack-bytecode interpreter (switch dispatch) counting primes below 60000
 * by trial division, 5 times. */
#include <stdlib.h>

#include "kernel.h"

enum op { PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, LT, LE, JZ, JMP, INC, HALT };

/* Registers: r0 n, r1 i, r2 d, r3 count, r4 limit, r5 isprime. */
static const int32_t prog[] = {
    PUSH, 2, STORE, 0,				   /*  0: n = 2 */
    PUSH, 0, STORE, 3,				   /*  4: count = 0 */
    LOAD, 0, LOAD,  4,	LT,  JZ,   58,		   /*  8: while n < limit */
    PUSH, 1, STORE, 5,				   /* 15: isprime = 1 */
    PUSH, 2, STORE, 2,				   /* 19: d = 2 */
    LOAD, 2, LOAD,  2,	MUL, LOAD, 0,  LE, JZ, 48, /* 23: while d * d <= n */
    LOAD, 0, LOAD,  2,	MOD, JZ,   44,		   /* 33: if n % d == 0, not prime */
    INC,  2, JMP,   23,				   /* 40: d++ */
    PUSH, 0, STORE, 5,				   /* 44: isprime = 0 */
    LOAD, 5, JZ,    54,				   /* 48: if isprime */
    INC,  3,					   /* 52: count++ */
    INC,  0, JMP,   8,				   /* 54: n++ */
    HALT,					   /* 58 */
};

static int64_t run(const int32_t *code, int64_t *reg)
{
	int64_t stack[64];
	int sp = 0;
	long pc = 0;
	uint64_t steps = 0;
	for (;;) {
		steps++;
		switch (code[pc]) {
		case PUSH:
			stack[sp++] = code[pc + 1];
			pc += 2;
			break;
		case LOAD:
			stack[sp++] = reg[code[pc + 1]];
			pc += 2;
			break;
		case STORE:
			reg[code[pc + 1]] = stack[--sp];
			pc += 2;
			break;
		case ADD:
			sp--;
			stack[sp - 1] += stack[sp];
			pc++;
			break;
		case SUB:
			sp--;
			stack[sp - 1] -= stack[sp];
			pc++;
			break;
		case MUL:
			sp--;
			stack[sp - 1] *= stack[sp];
			pc++;
			break;
		case MOD:
			sp--;
			stack[sp - 1] %= stack[sp];
			pc++;
			break;
		case LT:
			sp--;
			stack[sp - 1] = stack[sp - 1] < stack[sp];
			pc++;
			break;
		case LE:
			sp--;
			stack[sp - 1] = stack[sp - 1] <= stack[sp];
			pc++;
			break;
		case JZ:
			pc = stack[--sp] ? pc + 2 : code[pc + 1];
			break;
		case JMP:
			pc = code[pc + 1];
			break;
		case INC:
			reg[code[pc + 1]]++;
			pc += 2;
			break;
		case HALT:
			return (int64_t)steps;
		default:
			pc++;
			break;
		}
	}
}

int main(void)
{
	uint64_t res = 0;
	int64_t t0 = kernel_now_ns();
	for (int r = 0; r < 5; r++) {
		int64_t reg[8] = {0};
		reg[4] = 60000 + r;
		int64_t steps = run(prog, reg);
		res = res * 1000003 + (uint64_t)reg[3] * 7 + (uint64_t)steps;
	}
	kernel_report("interp", res, kernel_now_ns() - t0);
	return 0;
}
