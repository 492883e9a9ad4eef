/* SPDX-License-Identifier: MIT */
/*
 * The 'virt' board: RAM, harts and devices laid out as QEMU's riscv64 virt
 * machine, so firmware and kernels built for it boot unchanged.
 *
 *   0x00100000  sifive,test / syscon (power off, reboot)
 *   0x00101000  goldfish RTC, irq 11
 *   0x02000000  CLINT
 *   0x0c000000  PLIC
 *   0x10000000  UART0 ns16550a, irq 10
 *   0x10001000  virtio-mmio slots 0..7 (0x1000 each), irq 1..8
 *   0x80000000  RAM
 */
#ifndef VESSEL_MACHINE_VIRT_H
#define VESSEL_MACHINE_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct verr;
struct virtio_device;
struct machine;

#define VIRT_MAX_HARTS	   8
#define VIRT_VIRTIO_SLOTS  8
#define VIRT_TEST_BASE	   0x100000ull
#define VIRT_RTC_BASE	   0x101000ull
#define VIRT_CLINT_BASE	   0x2000000ull
#define VIRT_PLIC_BASE	   0xc000000ull
#define VIRT_UART_BASE	   0x10000000ull
#define VIRT_VIRTIO_BASE   0x10001000ull
#define VIRT_RAM_BASE	   0x80000000ull
#define VIRT_UART_IRQ	   10
#define VIRT_RTC_IRQ	   11
#define VIRT_VIRTIO_IRQ	   1 /* slot i uses VIRT_VIRTIO_IRQ + i */
#define VIRT_PLIC_NDEV	   95
#define VIRT_UART_CLOCK_HZ 3686400

#define VIRT_MEM_MIN (16ull << 20)
#define VIRT_MEM_MAX (64ull << 30)

/* Everything that describes a VM; the CLI fills it from flags. */
struct vm_config {
	const char *firmware; /* required */
	const char *kernel;   /* optional */
	const char *initrd;   /* optional */
	const char *cmdline;  /* /chosen/bootargs */
	const char *dtb_out;  /* optional: write the generated device tree here */
	uint64_t mem_size;    /* bytes, a multiple of 4 KiB */
	unsigned ncpus;	      /* 1..VIRT_MAX_HARTS */
	int console_out_fd;   /* where the UART's output goes */
	struct virtio_device *virtio[VIRT_VIRTIO_SLOTS]; /* NULL: empty slot */
	bool pin_harts; /* run hart i's thread on host CPU hart_cpu[i] */
	int hart_cpu[VIRT_MAX_HARTS];
	/* Build the machine without loading firmware, kernel or device tree:
	 * its whole state is about to come from a snapshot (snapshot/). */
	bool restoring;
};

/* How machine_run() ended. */
enum machine_exit {
	MACHINE_EXIT_POWEROFF,
	MACHINE_EXIT_REBOOT,
	MACHINE_EXIT_GUEST_FAILURE, /* code in machine_guest_code() */
	MACHINE_EXIT_USER_QUIT,
	MACHINE_EXIT_ERROR, /* message in the verr given to machine_run() */
};

/* The host side of the console, serviced on the thread of machine_run(). */
enum { MACHINE_CONSOLE_OK, MACHINE_CONSOLE_EOF, MACHINE_CONSOLE_QUIT };

struct machine_console {
	void *opaque;
	int in_fd; /* polled while wants_input() says so; -1: never */
	bool (*wants_input)(void *opaque);
	/*
	 * Called after every wake-up, 'readable' when in_fd has data: read it and
	 * feed it with machine_console_input().  Returns MACHINE_CONSOLE_OK,
	 * _EOF (stop polling in_fd) or _QUIT (end the VM: user quit).
	 */
	int (*service)(void *opaque, struct machine *m, bool readable);
};

/* Build the machine and load the images; NULL with err filled on failure. */
struct machine *machine_create(const struct vm_config *cfg, struct verr *err);

/*
 * Start one thread per hart and service the console on the calling thread
 * until the guest powers off, reboots or fails, the user quits, or a fatal
 * error.  A machine runs once.
 */
enum machine_exit machine_run(struct machine *m, const struct machine_console *con,
			      struct verr *err);

void machine_destroy(struct machine *m);

/* Offer console input to the UART; returns how many bytes it took. */
size_t machine_console_input(struct machine *m, const uint8_t *buf, size_t n);

/* End the VM as a user quit.  Async-signal-safe. */
void machine_request_quit(struct machine *m);

/* The code the guest reported with MACHINE_EXIT_GUEST_FAILURE. */
unsigned machine_guest_code(const struct machine *m);

/*
 * Pause: every hart leaves its run loop and its thread parks (no host CPU),
 * and the guest clock (mtime, the time CSR) stops.  Any thread, while
 * machine_run() runs; returns 0 once all harts are parked, or -ESRCH if the
 * machine is ending.  Devices keep running (I/O in flight completes).
 */
int machine_pause(struct machine *m);
/* Resume: the clock continues from where it stopped and the harts run on. */
void machine_resume(struct machine *m);

/* Per-hart counters; any thread.  cpu_ns is the host CPU time of the hart's thread. */
struct machine_hart_stats {
	uint64_t instret;
	uint64_t cpu_ns;
};
unsigned machine_hart_count(const struct machine *m);
void machine_hart_stats(struct machine *m, unsigned hart, struct machine_hart_stats *st);

/* Bytes of guest RAM resident in the host (pages the guest or a device touched). */
uint64_t machine_mem_touched(const struct machine *m);

/* The parts of a machine, for saving and restoring its state (snapshot/). */
struct cpu;
struct plic;
struct aclint;
struct uart16550;
struct goldfish_rtc;
struct virtio_mmio;
struct guest_mem;
struct timebase;
struct machine_parts {
	struct guest_mem *mem;
	struct timebase *tb;
	unsigned nharts;
	struct cpu *cpu[VIRT_MAX_HARTS];
	struct plic *plic;
	struct aclint *clint;
	struct uart16550 *uart;
	struct goldfish_rtc *rtc;
	struct virtio_mmio *virtio[VIRT_VIRTIO_SLOTS];
	struct virtio_device *vdev[VIRT_VIRTIO_SLOTS]; /* NULL: empty slot */
};
void machine_get_parts(struct machine *m, struct machine_parts *p);
/* The guest clock while the machine is paused (machine_pause() returned 0). */
uint64_t machine_paused_ticks(struct machine *m);

#endif
