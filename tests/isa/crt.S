/* SPDX-License-Identifier: MIT */
/*
 * Runtime shared by the ISA tests: reset entry, per-hart stacks, the
 * M-mode trap entry (registers saved in a frame handed to trap_handler()
 * in lib.c) and run_in_mode(), which drops to S or U mode and comes back
 * when the lower mode ecalls (or a test asks a trap to end the run).
 */
#define STACK_SIZE 16384
#define TRAP_STACK_SIZE 8192
#define MAX_HARTS 4
#define FRAME 256

	.section .text.init, "ax"
	.option norvc
	.globl _start
_start:
	/* Park harts we have no stack for. */
	li t0, MAX_HARTS
	bgeu a0, t0, park
	/*
	 * Open PMP entry 0 over all memory so S and U mode may run.  A
	 * machine without PMP may trap here: mtvec points just past it.
	 */
	la t0, 1f
	csrw mtvec, t0
	li t0, -1
	csrw pmpaddr0, t0
	li t0, 0x1f
	csrw pmpcfg0, t0
	.align 2
1:	la t0, trap_entry
	csrw mtvec, t0
	mv tp, a0
	.option push
	.option norelax
	la gp, __global_pointer$
	.option pop
	/* sp = top of this hart's stack; mscratch = top of its trap stack. */
	addi t0, a0, 1
	li t1, STACK_SIZE
	mul t1, t0, t1
	la sp, __stacks
	add sp, sp, t1
	li t1, TRAP_STACK_SIZE
	mul t1, t0, t1
	la t2, __trap_stacks
	add t2, t2, t1
	csrw mscratch, t2
	/* FS = Initial so C code may use the FPU; fpu.c tests FS itself. */
	li t0, (1 << 13)
	csrs mstatus, t0
	csrwi fcsr, 0
	bnez a0, secondary
	/* Hart 0 clears .bss, then releases the others. */
	la t0, __bss_start
	la t1, __bss_end
1:	bgeu t0, t1, 2f
	sd zero, 0(t0)
	addi t0, t0, 8
	j 1b
2:	fence rw, rw
	la t0, boot_released
	li t1, 1
	sw t1, 0(t0)
	mv s0, a0
	call main
	/* main returns 0 on success, else a case id for the fail code. */
	bnez a0, 3f
	call test_pass
3:	call test_fail_code
secondary:
	la t0, boot_released
1:	lw t1, 0(t0)
	beqz t1, 1b
	fence rw, rw
	call secondary_main
park:
	wfi
	j park

	/* Weak default for harts other than 0: sleep forever. */
	.weak secondary_main
secondary_main:
	j park

/*
 * Trap entry (mtvec direct mode, and every vectored slot in tests that use
 * vectored mode jumps here).  Runs on the per-hart trap stack in mscratch,
 * so a trap from a lower mode with a bogus or virtual sp still works.
 */
	.align 6
	.globl trap_entry
trap_entry:
	csrrw sp, mscratch, sp
	addi sp, sp, -FRAME
	sd x1, 8(sp)
	sd x3, 24(sp)
	sd x4, 32(sp)
	sd x5, 40(sp)
	sd x6, 48(sp)
	sd x7, 56(sp)
	sd x8, 64(sp)
	sd x9, 72(sp)
	sd x10, 80(sp)
	sd x11, 88(sp)
	sd x12, 96(sp)
	sd x13, 104(sp)
	sd x14, 112(sp)
	sd x15, 120(sp)
	sd x16, 128(sp)
	sd x17, 136(sp)
	sd x18, 144(sp)
	sd x19, 152(sp)
	sd x20, 160(sp)
	sd x21, 168(sp)
	sd x22, 176(sp)
	sd x23, 184(sp)
	sd x24, 192(sp)
	sd x25, 200(sp)
	sd x26, 208(sp)
	sd x27, 216(sp)
	sd x28, 224(sp)
	sd x29, 232(sp)
	sd x30, 240(sp)
	sd x31, 248(sp)
	csrr t0, mscratch
	sd t0, 16(sp)
	addi t0, sp, FRAME
	csrw mscratch, t0
	.option push
	.option norelax
	la gp, __global_pointer$
	.option pop
	mv a0, sp
	call trap_handler
	/* trap_handler may have changed the frame, mepc and mstatus. */
	ld x1, 8(sp)
	ld x3, 24(sp)
	ld x4, 32(sp)
	ld x5, 40(sp)
	ld x6, 48(sp)
	ld x7, 56(sp)
	ld x8, 64(sp)
	ld x9, 72(sp)
	ld x10, 80(sp)
	ld x11, 88(sp)
	ld x12, 96(sp)
	ld x13, 104(sp)
	ld x14, 112(sp)
	ld x15, 120(sp)
	ld x16, 128(sp)
	ld x17, 136(sp)
	ld x18, 144(sp)
	ld x19, 152(sp)
	ld x20, 160(sp)
	ld x21, 168(sp)
	ld x22, 176(sp)
	ld x23, 184(sp)
	ld x24, 192(sp)
	ld x25, 200(sp)
	ld x26, 208(sp)
	ld x27, 216(sp)
	ld x28, 224(sp)
	ld x29, 232(sp)
	ld x30, 240(sp)
	ld x31, 248(sp)
	ld sp, 16(sp)
	mret

/*
 * uint64_t run_in_mode(unsigned mode, void (*fn)(uint64_t), uint64_t arg)
 * Enter 'fn' in mode 0 (U) or 1 (S) with its own stack; returns the
 * mcause of the trap that ended the run (an ecall, normally).
 */
	.text
	.globl run_in_mode
run_in_mode:
	la t0, m_ctx
	sd ra, 0(t0)
	sd sp, 8(t0)
	sd s0, 16(t0)
	sd s1, 24(t0)
	sd s2, 32(t0)
	sd s3, 40(t0)
	sd s4, 48(t0)
	sd s5, 56(t0)
	sd s6, 64(t0)
	sd s7, 72(t0)
	sd s8, 80(t0)
	sd s9, 88(t0)
	sd s10, 96(t0)
	sd s11, 104(t0)
	sd gp, 112(t0)
	sd tp, 120(t0)
	li t1, (3 << 11)
	csrc mstatus, t1
	andi a0, a0, 3
	slli a0, a0, 11
	csrs mstatus, a0
	csrw mepc, a1
	la t0, lower_active
	li t1, 1
	sw t1, 0(t0)
	mv a0, a2
	la sp, lower_stack_top
	ld sp, 0(sp)
	/* a lower mode returning from fn lands in lower_fell_off */
	la ra, lower_fell_off
	mret

lower_fell_off:
	ecall
1:	j 1b

	/* trap_handler points mepc here (in M-mode) with a0 = the cause. */
	.globl run_in_mode_return
run_in_mode_return:
	la t0, m_ctx
	ld ra, 0(t0)
	ld sp, 8(t0)
	ld s0, 16(t0)
	ld s1, 24(t0)
	ld s2, 32(t0)
	ld s3, 40(t0)
	ld s4, 48(t0)
	ld s5, 56(t0)
	ld s6, 64(t0)
	ld s7, 72(t0)
	ld s8, 80(t0)
	ld s9, 88(t0)
	ld s10, 96(t0)
	ld s11, 104(t0)
	ld gp, 112(t0)
	ld tp, 120(t0)
	ret

	.data
	.align 3
	.globl boot_released
boot_released:
	.word 0
	.word 0
	.bss
	.align 4
m_ctx:
	.space 128
