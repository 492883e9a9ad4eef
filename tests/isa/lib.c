/* SPDX-License-Identifier: MIT */
/* Runtime for the ISA tests: output, verdicts, checks, the trap handler. */
#include <stdarg.h>

#include "isa.h"

volatile struct trap_rec trap_last;
volatile int trap_action;
volatile u64 trap_resume_pc;
void (*volatile irq_hook)(u64 cause);
volatile int lower_active;
int test_cases;

static int first_fail_line;
static int fail_count;
static u64 lower_stack[2048] __attribute__((aligned(16)));
u64 lower_stack_top = (u64)&lower_stack[2048];

void uart_putc(char c)
{
	if (c == '\n')
		uart_putc('\r');
	while (!(*(volatile uint8_t *)(UART_BASE + 5) & 0x20))
		;
	*(volatile uint8_t *)UART_BASE = (uint8_t)c;
}

void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

void uart_hex(u64 v)
{
	uart_puts("0x");
	for (int i = 60; i >= 0; i -= 4)
		uart_putc("0123456789abcdef"[(v >> i) & 15]);
}

void uart_dec(u64 v)
{
	char buf[24];
	int n = 0;
	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		uart_putc(buf[--n]);
}

void tprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			uart_putc(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 's':
			uart_puts(va_arg(ap, const char *));
			break;
		case 'x':
			uart_hex(va_arg(ap, u64));
			break;
		case 'd': {
			s64 v = va_arg(ap, s64);
			if (v < 0) {
				uart_putc('-');
				v = -v;
			}
			uart_dec((u64)v);
			break;
		}
		case 'u':
			uart_dec(va_arg(ap, u64));
			break;
		case 'c':
			uart_putc((char)va_arg(ap, int));
			break;
		case 0:
			fmt--;
			break;
		default:
			uart_putc(*fmt);
		}
	}
	va_end(ap);
}

void test_pass(void)
{
	tprintf("PASS %s (%d checks)\n", test_name, (s64)test_cases);
	mmio_write32(TEST_DEV_BASE, 0x5555);
	for (;;)
		asm volatile("wfi");
}

void test_fail_code(u64 code)
{
	/* QEMU exits with the code: keep it off 0, 77 (skip) and 99 (error). */
	u64 c = code & 0xff;
	if (c == 0 || c == 77 || c == 99)
		code = 1;
	tprintf("FAIL %s (code %u)\n", test_name, code & 0xffff);
	mmio_write32(TEST_DEV_BASE, (u32)(((code & 0xffff) << 16) | 0x3333));
	for (;;)
		asm volatile("wfi");
}

void test_fail_at(const char *file, int line, const char *msg)
{
	tprintf("FAIL %s:%d: %s\n", file, (s64)line, msg);
	test_fail_code((u64)line);
}

void check_eq_at(const char *file, int line, const char *what, u64 a, u64 b, u64 got, u64 want)
{
	test_cases++;
	if (got == want)
		return;
	tprintf("FAIL %s:%d: %s (%x, %x): got %x, expected %x\n", file, (s64)line, what, a, b, got,
		want);
	if (!first_fail_line)
		first_fail_line = line;
	if (++fail_count >= 40)
		test_fail_code((u64)first_fail_line);
}

int test_result(void)
{
	return first_fail_line;
}

void expect_trap(int action)
{
	trap_last.count = 0;
	trap_last.cause = ~0UL;
	trap_last.tval = ~0UL;
	trap_last.epc = ~0UL;
	asm volatile("" ::: "memory");
	trap_action = action;
}

static void trap_end_run(u64 *frame, u64 cause)
{
	lower_active = 0;
	frame[10] = cause;
	csr_write(mepc, (u64)run_in_mode_return);
	csr_set(mstatus, MSTATUS_MPP);
}

void trap_handler(u64 *frame)
{
	u64 cause = csr_read(mcause), epc = csr_read(mepc);
	u64 tval = csr_read(mtval), mstatus = csr_read(mstatus);
	u64 mpp = (mstatus >> 11) & 3;

	if (cause & CAUSE_INTR) {
		if (irq_hook) {
			irq_hook(cause & ~CAUSE_INTR);
			return;
		}
		tprintf("unexpected interrupt %x at %x\n", cause, epc);
		FAIL_NOW("unexpected interrupt");
	}
	if (lower_active && mpp != MODE_M && (cause == CAUSE_ECALL_U || cause == CAUSE_ECALL_S)) {
		trap_last.cause = cause;
		trap_last.epc = epc;
		trap_last.tval = tval;
		trap_last.mpp = mpp;
		trap_last.mstatus = mstatus;
		trap_end_run(frame, cause);
		return;
	}
	int action = trap_action;
	if (action == TRAP_NONE) {
		tprintf("unexpected trap: mcause %x mepc %x mtval %x from mode %u\n", cause, epc,
			tval, mpp);
		FAIL_NOW("unexpected trap");
	}
	trap_action = TRAP_NONE;
	trap_last.cause = cause;
	trap_last.epc = epc;
	trap_last.tval = tval;
	trap_last.mpp = mpp;
	trap_last.mstatus = mstatus;
	trap_last.count++;
	switch (action) {
	case TRAP_SKIP: {
		uint16_t insn = *(volatile uint16_t *)epc;
		csr_write(mepc, epc + ((insn & 3) == 3 ? 4 : 2));
		break;
	}
	case TRAP_EXIT:
		if (!lower_active || mpp == MODE_M)
			FAIL_NOW("TRAP_EXIT outside run_in_mode");
		trap_end_run(frame, cause);
		break;
	case TRAP_RESUME:
		csr_write(mepc, trap_resume_pc);
		break;
	}
}
