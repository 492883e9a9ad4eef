/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the bare-metal ISA tests (see README.md): CSR access, UART
 * output, self-checking macros and the trap-expectation API of lib.c.
 */
#ifndef ISA_H
#define ISA_H

#include <stdint.h>

typedef uint64_t u64;
typedef int64_t s64;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint16_t u16;
typedef uint8_t u8;

/* The machine (same map as QEMU virt). */
#define UART_BASE	  0x10000000UL
#define TEST_DEV_BASE	  0x100000UL
#define CLINT_BASE	  0x2000000UL
#define CLINT_MSIP(h)	  (CLINT_BASE + 4 * (h))
#define CLINT_MTIMECMP(h) (CLINT_BASE + 0x4000 + 8 * (h))
#define CLINT_MTIME	  (CLINT_BASE + 0xbff8)

#define MSTATUS_SIE  (1UL << 1)
#define MSTATUS_MIE  (1UL << 3)
#define MSTATUS_SPIE (1UL << 5)
#define MSTATUS_MPIE (1UL << 7)
#define MSTATUS_SPP  (1UL << 8)
#define MSTATUS_MPP  (3UL << 11)
#define MSTATUS_FS   (3UL << 13)
#define MSTATUS_MPRV (1UL << 17)
#define MSTATUS_SUM  (1UL << 18)
#define MSTATUS_MXR  (1UL << 19)
#define MSTATUS_TVM  (1UL << 20)
#define MSTATUS_TW   (1UL << 21)
#define MSTATUS_TSR  (1UL << 22)
#define MSTATUS_UXL  (3UL << 32)
#define MSTATUS_SXL  (3UL << 34)
#define MSTATUS_SD   (1UL << 63)

#define IRQ_SSI	   1
#define IRQ_MSI	   3
#define IRQ_STI	   5
#define IRQ_MTI	   7
#define IRQ_SEI	   9
#define IRQ_MEI	   11
#define CAUSE_INTR (1UL << 63)

enum {
	CAUSE_MISALIGNED_FETCH = 0,
	CAUSE_FETCH_ACCESS = 1,
	CAUSE_ILLEGAL = 2,
	CAUSE_BREAKPOINT = 3,
	CAUSE_MISALIGNED_LOAD = 4,
	CAUSE_LOAD_ACCESS = 5,
	CAUSE_MISALIGNED_STORE = 6,
	CAUSE_STORE_ACCESS = 7,
	CAUSE_ECALL_U = 8,
	CAUSE_ECALL_S = 9,
	CAUSE_ECALL_M = 11,
	CAUSE_FETCH_PAGE = 12,
	CAUSE_LOAD_PAGE = 13,
	CAUSE_STORE_PAGE = 15,
};

enum { MODE_U = 0, MODE_S = 1, MODE_M = 3 };

#define STR_(x) #x
#define STR(x)	STR_(x)

#define csr_read(csr)                                                                              \
	({                                                                                         \
		u64 v_;                                                                            \
		asm volatile("csrr %0, " STR(csr) : "=r"(v_)::"memory");                           \
		v_;                                                                                \
	})
#define csr_write(csr, val) asm volatile("csrw " STR(csr) ", %0" ::"r"((u64)(val)) : "memory")
#define csr_set(csr, val)   asm volatile("csrs " STR(csr) ", %0" ::"r"((u64)(val)) : "memory")
#define csr_clear(csr, val) asm volatile("csrc " STR(csr) ", %0" ::"r"((u64)(val)) : "memory")
#define csr_swap(csr, val)                                                                         \
	({                                                                                         \
		u64 v_;                                                                            \
		asm volatile("csrrw %0, " STR(csr) ", %1"                                          \
			     : "=r"(v_)                                                            \
			     : "r"((u64)(val))                                                     \
			     : "memory");                                                          \
		v_;                                                                                \
	})

static inline void mmio_write32(u64 addr, u32 v)
{
	*(volatile u32 *)addr = v;
}
static inline u32 mmio_read32(u64 addr)
{
	return *(volatile u32 *)addr;
}
static inline void mmio_write64(u64 addr, u64 v)
{
	*(volatile u64 *)addr = v;
}
static inline u64 mmio_read64(u64 addr)
{
	return *(volatile u64 *)addr;
}

/* Output. */
void uart_putc(char c);
void uart_puts(const char *s);
void uart_hex(u64 v);
void uart_dec(u64 v);
void tprintf(const char *fmt, ...); /* %s %x (64-bit hex) %d %u %c */

/* Verdicts: power off through the sifive,test device. */
extern const char *test_name;
__attribute__((noreturn)) void test_pass(void);
__attribute__((noreturn)) void test_fail_code(u64 code);
/* Stop right now: prints "FAIL file:line: msg" and fails with 'line'. */
#define FAIL_NOW(msg) test_fail_at(__FILE__, __LINE__, msg)
__attribute__((noreturn)) void test_fail_at(const char *file, int line, const char *msg);

/* Checks record the first failing case and go on; main returns test_result(). */
void check_eq_at(const char *file, int line, const char *what, u64 a, u64 b, u64 got, u64 want);
int test_result(void);
extern int test_cases;

#define CHECK(what, got, want) check_eq_at(__FILE__, __LINE__, what, 0, 0, (u64)(got), (u64)(want))
/* TEST(n, expected, code): 'code' leaves its value in 'result'. */
#define TEST(n, want, ...)                                                                         \
	do {                                                                                       \
		u64 result = 0;                                                                    \
		__VA_ARGS__;                                                                       \
		check_eq_at(__FILE__, __LINE__, "case " #n, n, 0, result, (u64)(want));            \
	} while (0)

/* One instruction, register operands. */
#define TEST_RR(op, a, b, want)                                                                    \
	do {                                                                                       \
		u64 r_, a_ = (u64)(a), b_ = (u64)(b);                                              \
		asm volatile(op " %0, %1, %2" : "=r"(r_) : "r"(a_), "r"(b_));                      \
		check_eq_at(__FILE__, __LINE__, op, a_, b_, r_, (u64)(want));                      \
	} while (0)
#define TEST_RI(op, a, imm, want)                                                                  \
	do {                                                                                       \
		u64 r_, a_ = (u64)(a);                                                             \
		asm volatile(op " %0, %1, %2" : "=r"(r_) : "r"(a_), "i"(imm));                     \
		check_eq_at(__FILE__, __LINE__, op, a_, (u64)(imm), r_, (u64)(want));              \
	} while (0)
#define TEST_R(op, a, want)                                                                        \
	do {                                                                                       \
		u64 r_, a_ = (u64)(a);                                                             \
		asm volatile(op " %0, %1" : "=r"(r_) : "r"(a_));                                   \
		check_eq_at(__FILE__, __LINE__, op, a_, 0, r_, (u64)(want));                       \
	} while (0)

/*
 * Traps.  A test arms one expected exception with expect_trap(); the
 * handler records it in trap_last and then, by 'action':
 *   TRAP_SKIP   - resumes after the trapping instruction (its code must be
 *                 readable at mepc as a physical address),
 *   TRAP_EXIT   - ends the current run_in_mode() (returns the cause),
 *   TRAP_RESUME - resumes at trap_resume_pc.
 * The expectation is one-shot; an unexpected exception fails the test.
 * An ecall from S/U during run_in_mode() always ends the run.
 */
enum { TRAP_NONE = 0, TRAP_SKIP, TRAP_EXIT, TRAP_RESUME };
struct trap_rec {
	u64 cause, epc, tval, mpp, mstatus, count;
};
extern volatile struct trap_rec trap_last;
extern volatile int trap_action;
extern volatile u64 trap_resume_pc;
void expect_trap(int action);
/* Interrupts go to irq_hook(cause without bit 63) when set. */
extern void (*volatile irq_hook)(u64 cause);
/* Stack for run_in_mode (an address valid in the lower mode). */
extern u64 lower_stack_top;

u64 run_in_mode(unsigned mode, void (*fn)(u64), u64 arg);
void run_in_mode_return(void);
void trap_entry(void);

/* A lower-mode function ends its run with this. */
static inline void lower_exit(void)
{
	asm volatile("ecall" ::: "memory");
}

/* Whether a run_in_mode() ended with the lower mode's own ecall (no fault). */
static inline int lower_ended_ok(u64 cause)
{
	return cause == CAUSE_ECALL_S || cause == CAUSE_ECALL_U;
}

/* A run that ended without a fault, its probe having read 'got' (want expected). */
#define EXPECT_RUN_OK(what, c, got, want)                                                          \
	do {                                                                                       \
		u64 c_ = (c);                                                                      \
		CHECK(what ": no fault", lower_ended_ok(c_) ? 0 : c_, 0);                          \
		CHECK(what ": value", got, want);                                                  \
	} while (0)
/* A run that ended in exception 'cause' with tval 'want_tval'. */
#define EXPECT_RUN_FAULT(what, c, cause, want_tval)                                                \
	do {                                                                                       \
		CHECK(what ": cause", (c), cause);                                                 \
		CHECK(what ": tval", trap_last.tval, want_tval);                                   \
	} while (0)

/* Records a trap and its instruction as the case under test, compactly. */
#define CHECK_TRAP(what, want_cause, want_tval)                                                    \
	do {                                                                                       \
		CHECK(what ": trap taken", trap_last.count, 1);                                    \
		CHECK(what ": cause", trap_last.cause, want_cause);                                \
		CHECK(what ": tval", trap_last.tval, want_tval);                                   \
	} while (0)

int main(u64 hartid);
void secondary_main(u64 hartid);

#endif
