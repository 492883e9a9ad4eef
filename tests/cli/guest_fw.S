/* SPDX-License-Identifier: MIT */
/*
 * Tiny M-mode firmware images for the cli tests, one per -DTEST_* variant.
 * They run where OpenSBI would (0x80000000, a0 = hartid, a1 = device tree,
 * a2 = fw_dynamic_info) and end the VM through the sifive,test device, so
 * the test sees the outcome as vessel's exit status.
 */
#define UART	  0x10000000
#define UART_LSR  5
#define UART_IER  1
#define TEST_DEV  0x100000
#define PLIC	  0x0c000000
#define CLINT	  0x02000000
#define UART_IRQ  10

/* End the VM reporting failure code n: (n << 16) | 0x3333. */
#define FAIL(n)                                                                                    \
	li t6, ((n) << 16) | 0x3333;                                                               \
	j exit_with

	.section .text.init, "ax"
	.globl _start
_start:
	lla t0, trap
	csrw mtvec, t0
	csrr t0, mhartid
	beq t0, a0, 1f
	FAIL(1)
1:
#if defined(TEST_POWEROFF)
	li t6, 0x5555
	j exit_with
#elif defined(TEST_REBOOT)
	li t6, 0x7777
	j exit_with
#elif defined(TEST_FAIL)
	FAIL(7)
#elif defined(TEST_CHECK)
	bnez a0, park
	/* The device tree: big-endian magic 0xd00dfeed. */
	beqz a1, 2f
	lwu t0, 0(a1)
	li t1, 0xedfe0dd0
	beq t0, t1, 3f
2:	FAIL(2)
3:	/* OpenSBI's fw_dynamic_info, version 2. */
	ld t0, 0(a2)
	li t1, 0x4942534f
	beq t0, t1, 4f
	FAIL(3)
4:	ld t0, 8(a2)
	li t1, 2
	beq t0, t1, 5f
	FAIL(4)
5:	ld t0, 16(a2)
	li t1, 0x80200000
	beq t0, t1, 6f
	FAIL(5)
6:	ld t0, 24(a2)
	li t1, 1
	beq t0, t1, 7f
	FAIL(6)
7:	ld t0, 40(a2)
	li t1, -1
	beq t0, t1, 8f
	FAIL(8)
8:	lla a0, msg_ok
	call puts
	li t6, 0x5555
	j exit_with
#elif defined(TEST_SMP)
	/* Every hart checks in; hart 0 powers off once SMP_HARTS have. */
	lla t0, counter
	li t1, 1
	amoadd.w zero, t1, (t0)
	bnez a0, park
9:	lw t1, 0(t0)
	li t2, SMP_HARTS
	blt t1, t2, 9b
	lla a0, msg_ok
	call puts
	li t6, 0x5555
	j exit_with
#elif defined(TEST_ECHO)
	/* Polled echo until 'q'. */
10:	li t0, UART
	lbu t1, UART_LSR(t0)
	andi t1, t1, 1
	beqz t1, 10b
	lbu a0, 0(t0)
	li t1, 'q'
	beq a0, t1, 11f
	sb a0, 0(t0)
	j 10b
11:	li t6, 0x5555
	j exit_with
#elif defined(TEST_IRQ)
	/* Interrupt-driven echo through the PLIC (M-mode context of hart 0). */
	bnez a0, park
	lla t0, irq_trap
	csrw mtvec, t0
	li t0, PLIC
	li t1, 1
	sw t1, (4 * UART_IRQ)(t0)	/* priority */
	li t0, PLIC + 0x2000
	li t1, 1 << UART_IRQ
	sw t1, 0(t0)			/* enable, context 0 */
	li t0, PLIC + 0x200000
	sw zero, 0(t0)			/* threshold */
	li t0, UART
	li t1, 1
	sb t1, UART_IER(t0)		/* receive data interrupt */
	li t0, 1 << 11
	csrw mie, t0
	csrsi mstatus, 8
12:	wfi
	j 12b
#elif defined(TEST_TIMER)
	/* A CLINT timer interrupt 10 ms from now. */
	bnez a0, park
	lla t0, timer_trap
	csrw mtvec, t0
	li t0, CLINT + 0xbff8
	ld t1, 0(t0)
	li t2, 100000
	add s1, t1, t2
	li t0, CLINT + 0x4000
	sd s1, 0(t0)
	li t0, 1 << 7
	csrw mie, t0
	csrsi mstatus, 8
13:	wfi
	j 13b
#else
#error "no TEST_ variant"
#endif

park:
	wfi
	j park

exit_with:
	li t0, TEST_DEV
	sw t6, 0(t0)
14:	j 14b

/* Unexpected trap: fail with 0x100 + cause (0x200 + cause for interrupts). */
	.balign 4
trap:
	csrr t0, mcause
	andi t1, t0, 0xff
	addi t1, t1, 0x100
	bgez t0, 15f
	addi t1, t1, 0x100
15:	slli t6, t1, 16
	li t1, 0x3333
	or t6, t6, t1
	j exit_with

#if defined(TEST_IRQ)
	.balign 4
irq_trap:
	csrr t0, mcause
	li t1, 0x800000000000000b
	bne t0, t1, trap
	li t2, PLIC + 0x200004
	lw t3, 0(t2)			/* claim */
	li t1, UART_IRQ
	beq t3, t1, 16f
	FAIL(9)
16:	li t0, UART
	lbu t1, UART_LSR(t0)
	andi t1, t1, 1
	beqz t1, 17f
	lbu t4, 0(t0)
	li t1, 'q'
	beq t4, t1, 18f
	sb t4, 0(t0)
	j 16b
17:	sw t3, 0(t2)			/* complete */
	mret
18:	li t6, 0x5555
	j exit_with
#endif

#if defined(TEST_TIMER)
	.balign 4
timer_trap:
	csrr t0, mcause
	li t1, 0x8000000000000007
	bne t0, t1, trap
	li t0, CLINT + 0xbff8
	ld t1, 0(t0)
	bgeu t1, s1, 19f
	FAIL(10)
19:	lla a0, msg_ok
	call puts
	li t6, 0x5555
	j exit_with
#endif

/* Print the NUL-terminated string at a0, polling THRE. */
puts:
	li t0, UART
20:	lbu t1, 0(a0)
	beqz t1, 22f
21:	lbu t2, UART_LSR(t0)
	andi t2, t2, 0x20
	beqz t2, 21b
	sb t1, 0(t0)
	addi a0, a0, 1
	j 20b
22:	ret

	.section .rodata
msg_ok:
	.asciz "guest ok\n"

	.section .data
	.balign 8
counter:
	.word 0
