/* SPDX-License-Identifier: MIT */
#include "machine/virt.h"

#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "devices/goldfish_rtc.h"
#include "devices/sifive_test.h"
#include "devices/uart16550.h"
#include "devices/virtio_mmio.h"
#include "machine/aclint.h"
#include "machine/boot.h"
#include "machine/bus.h"
#include "machine/fdt.h"
#include "machine/guest_mem.h"
#include "machine/host_out.h"
#include "machine/plic.h"
#include "util/clock.h"
#include "util/log.h"

#define MACHINE_RUNNING (-1)

struct machine;

struct machine_hart {
	struct machine *m;
	unsigned id;
	struct cpu *cpu;
	pthread_t thread;
	bool started;
	int run_result;
	/* Under machine.ctl: the thread's CPU clock while it runs, its last reading after. */
	bool clock_valid;
	clockid_t clock;
	uint64_t cpu_ns;
};

struct machine {
	struct vm_config cfg;
	struct guest_mem mem;
	struct bus bus;
	struct timebase tb;
	struct boot_layout boot;
	unsigned nharts;
	struct machine_hart hart[VIRT_MAX_HARTS];
	struct plic *plic;
	struct aclint *clint;
	struct uart16550 *uart;
	struct goldfish_rtc *rtc;
	struct sifive_test *test;
	struct virtio_mmio *virtio[VIRT_VIRTIO_SLOTS];
	struct host_out *out; /* the UART's output */
	int wake_fd;	      /* eventfd: wakes the thread in machine_run() */
	atomic_int exit_how;  /* MACHINE_RUNNING or an enum machine_exit */
	atomic_uint guest_code;
	bool ran;

	/* Pausing: harts park in machine_hart_park() while pause_req is set. */
	pthread_mutex_t ctl;
	pthread_cond_t ctl_cond; /* parked changed, or pause_req/exit changed */
	bool pause_req;
	unsigned parked;
	uint64_t paused_ticks; /* the guest clock when the last hart parked */
};

static void machine_wake(struct machine *m)
{
	uint64_t one = 1;
	/* Only fails when the counter is saturated, which still wakes the loop. */
	ssize_t n = write(m->wake_fd, &one, sizeof(one));
	(void)n;
}

/* Record how the VM ends (the first reason wins); async-signal-safe. */
static bool machine_set_exit(struct machine *m, enum machine_exit how)
{
	int expected = MACHINE_RUNNING;
	bool first = atomic_compare_exchange_strong(&m->exit_how, &expected, (int)how);
	/* A stuck stdout must not keep a hart from stopping. */
	if (m->out)
		host_out_release(m->out);
	machine_wake(m);
	return first;
}

static void machine_stop_harts(struct machine *m)
{
	for (unsigned i = 0; i < m->nharts; i++)
		if (m->hart[i].cpu)
			cpu_request_stop(m->hart[i].cpu);
}

/* The test device: called on the thread of the hart that wrote it. */
static void machine_test_event(void *opaque, enum sifive_test_event ev, unsigned code)
{
	struct machine *m = opaque;
	enum machine_exit how = ev == SIFIVE_TEST_POWEROFF ? MACHINE_EXIT_POWEROFF
				: ev == SIFIVE_TEST_REBOOT ? MACHINE_EXIT_REBOOT
							   : MACHINE_EXIT_GUEST_FAILURE;
	if (!machine_set_exit(m, how))
		return; /* the VM is already ending for another reason */
	/* Read only after every hart thread has been joined. */
	atomic_store(&m->guest_code, code);
	machine_stop_harts(m);
}

static void machine_uart_tx(void *opaque, uint8_t c)
{
	struct machine *m = opaque;
	host_out_put(m->out, c);
}

static void machine_uart_rx_ready(void *opaque)
{
	machine_wake(opaque);
}

void machine_request_quit(struct machine *m)
{
	machine_set_exit(m, MACHINE_EXIT_USER_QUIT);
}

unsigned machine_guest_code(const struct machine *m)
{
	return atomic_load(&m->guest_code);
}

size_t machine_console_input(struct machine *m, const uint8_t *buf, size_t n)
{
	return uart16550_rx_push(m->uart, buf, n);
}

static int machine_add(struct machine *m, uint64_t base, uint64_t size, const struct mmio_ops *ops,
		       void *dev, const char *name, struct verr *err)
{
	if (!dev)
		return verr_set(err, ENOMEM, "%s: cannot create the device", name);
	int r = bus_add(&m->bus, base, size, ops, dev, name);
	if (r)
		return verr_set(err, r, "%s: cannot map at 0x%llx: %s", name,
				(unsigned long long)base, strerror(-r));
	return 0;
}

static int machine_add_devices(struct machine *m, struct verr *err)
{
	const struct vm_config *c = &m->cfg;
	m->plic = plic_create(m->nharts, VIRT_PLIC_NDEV);
	m->clint = aclint_create(m->nharts, &m->tb);
	struct irq_chip *chip = m->plic ? plic_irq_chip(m->plic) : NULL;
	struct uart16550_host uh = {
	    .opaque = m, .tx = machine_uart_tx, .rx_ready = machine_uart_rx_ready};
	m->uart = uart16550_create((struct irq_line){chip, VIRT_UART_IRQ}, VIRT_UART_CLOCK_HZ, &uh);
	m->rtc = goldfish_rtc_create((struct irq_line){chip, VIRT_RTC_IRQ});
	struct sifive_test_host th = {.opaque = m, .event = machine_test_event};
	m->test = sifive_test_create(&th);
	int r;
	if ((r = machine_add(m, VIRT_TEST_BASE, SIFIVE_TEST_SIZE, &sifive_test_ops, m->test, "test",
			     err)) ||
	    (r = machine_add(m, VIRT_RTC_BASE, GOLDFISH_RTC_SIZE, &goldfish_rtc_ops, m->rtc, "rtc",
			     err)) ||
	    (r = machine_add(m, VIRT_CLINT_BASE, ACLINT_SIZE, &aclint_mmio_ops, m->clint, "clint",
			     err)) ||
	    (r = machine_add(m, VIRT_PLIC_BASE, PLIC_SIZE, &plic_mmio_ops, m->plic, "plic", err)) ||
	    (r = machine_add(m, VIRT_UART_BASE, UART16550_SIZE, &uart16550_ops, m->uart, "uart0",
			     err)))
		return r;
	for (unsigned i = 0; i < VIRT_VIRTIO_SLOTS; i++) {
		struct irq_line irq = {chip, VIRT_VIRTIO_IRQ + i};
		m->virtio[i] = virtio_mmio_create(&m->mem, irq, c->virtio[i]);
		r = machine_add(m, VIRT_VIRTIO_BASE + i * VIRTIO_MMIO_SLOT_SIZE,
				VIRTIO_MMIO_SLOT_SIZE, &virtio_mmio_ops, m->virtio[i],
				"virtio-mmio", err);
		if (r)
			return r;
	}
	return 0;
}

static int machine_write_dtb_file(const char *path, const void *dtb, size_t size, struct verr *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return verr_set(err, errno, "--dtb-out %s: %s", path, strerror(errno));
	const uint8_t *p = dtb;
	size_t left = size;
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return verr_set(err, e, "--dtb-out %s: %s", path, strerror(e));
		}
		p += n;
		left -= (size_t)n;
	}
	if (close(fd) < 0)
		return verr_set(err, errno, "--dtb-out %s: %s", path, strerror(errno));
	return 0;
}

/* Load the images, build the device tree and put it in RAM. */
static int machine_boot_setup(struct machine *m, struct verr *err)
{
	const struct vm_config *c = &m->cfg;
	struct boot_layout *bl = &m->boot;
	int r = boot_load_firmware(&m->mem, c->firmware, bl, err);
	if (!r && c->kernel)
		r = boot_load_kernel(&m->mem, c->kernel, bl, err);
	boot_plan(&m->mem, bl);
	if (!r && c->initrd)
		r = boot_load_initrd(&m->mem, c->initrd, bl, err);
	if (r)
		return r;
	struct fdt_simple_node slots[VIRT_VIRTIO_SLOTS];
	for (unsigned i = 0; i < VIRT_VIRTIO_SLOTS; i++)
		slots[i] =
		    (struct fdt_simple_node){VIRT_VIRTIO_BASE + i * VIRTIO_MMIO_SLOT_SIZE,
					     "virtio_mmio", "virtio,mmio", VIRT_VIRTIO_IRQ + i};
	struct fdt_params fp = {
	    .nharts = m->nharts,
	    .ram_base = m->mem.base,
	    .ram_size = m->mem.size,
	    .bootargs = c->cmdline,
	    .initrd_start = bl->initrd_start,
	    .initrd_end = bl->initrd_end,
	    .simple = slots,
	    .nsimple = VIRT_VIRTIO_SLOTS,
	};
	void *dtb = malloc(FDT_MAX_SIZE);
	if (!dtb)
		return verr_set(err, ENOMEM, "device tree: out of memory");
	r = fdt_build(dtb, &fp, &m->bus, err);
	size_t size = r ? 0 : fdt_totalsize(dtb);
	if (!r && c->dtb_out)
		r = machine_write_dtb_file(c->dtb_out, dtb, size, err);
	if (!r)
		r = boot_place_dtb(&m->mem, dtb, size, bl, err);
	free(dtb);
	return r;
}

static int machine_add_harts(struct machine *m, struct verr *err)
{
	for (unsigned i = 0; i < m->nharts; i++) {
		struct machine_hart *h = &m->hart[i];
		struct cpu_config cc = {.hartid = i, .mem = &m->mem, .bus = &m->bus, .tb = &m->tb};
		h->m = m;
		h->id = i;
		h->cpu = cpu_create(&cc, err);
		if (!h->cpu)
			return -EINVAL;
		struct hart_port port = cpu_hart_port(h->cpu);
		plic_attach_hart(m->plic, i, port);
		aclint_attach_hart(m->clint, i, port);
		/* Every hart enters the firmware, as from QEMU's reset vector. */
		cpu_reset(h->cpu, m->boot.fw_entry, i, m->boot.dtb_addr, m->boot.info_addr);
	}
	return 0;
}

struct machine *machine_create(const struct vm_config *cfg, struct verr *err)
{
	if (cfg->ncpus == 0 || cfg->ncpus > VIRT_MAX_HARTS) {
		verr_set(err, EINVAL, "%u cpus: must be 1 to %d", cfg->ncpus, VIRT_MAX_HARTS);
		return NULL;
	}
	if (cfg->mem_size < VIRT_MEM_MIN || cfg->mem_size > VIRT_MEM_MAX ||
	    cfg->mem_size % GUEST_PAGE_SIZE) {
		verr_set(err, EINVAL, "memory size %llu: must be 16M to 64G in 4K pages",
			 (unsigned long long)cfg->mem_size);
		return NULL;
	}
	struct machine *m = calloc(1, sizeof(*m));
	if (!m) {
		verr_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	m->cfg = *cfg;
	m->nharts = cfg->ncpus;
	m->wake_fd = -1;
	atomic_init(&m->exit_how, MACHINE_RUNNING);
	atomic_init(&m->guest_code, 0);
	pthread_mutex_init(&m->ctl, NULL);
	pthread_cond_init(&m->ctl_cond, NULL);
	timebase_init(&m->tb, 0);
	int r = guest_mem_init(&m->mem, VIRT_RAM_BASE, cfg->mem_size);
	if (r) {
		verr_set(err, r, "guest RAM of %llu bytes: %s", (unsigned long long)cfg->mem_size,
			 strerror(-r));
		free(m);
		return NULL;
	}
	m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->wake_fd < 0)
		r = verr_set(err, errno, "eventfd: %s", strerror(errno));
	if (!r) {
		m->out = host_out_create(cfg->console_out_fd, err);
		if (!m->out)
			r = -ENOMEM;
	}
	if (!r)
		r = machine_add_devices(m, err);
	if (!r && !cfg->restoring)
		r = machine_boot_setup(m, err);
	if (!r)
		r = machine_add_harts(m, err);
	if (r) {
		machine_destroy(m);
		return NULL;
	}
	return m;
}

/* Park a hart that left cpu_run() for a pause; true when it is to run again. */
static bool machine_hart_park(struct machine_hart *h)
{
	struct machine *m = h->m;
	pthread_mutex_lock(&m->ctl);
	bool again = m->pause_req && atomic_load(&m->exit_how) == MACHINE_RUNNING;
	if (again) {
		m->parked++;
		pthread_cond_broadcast(&m->ctl_cond);
		while (m->pause_req && atomic_load(&m->exit_how) == MACHINE_RUNNING)
			pthread_cond_wait(&m->ctl_cond, &m->ctl);
		m->parked--;
		again = atomic_load(&m->exit_how) == MACHINE_RUNNING;
		/* Under ctl: a pause requested from now on sets the stop bit again. */
		if (again)
			cpu_clear_stop(h->cpu);
	}
	pthread_mutex_unlock(&m->ctl);
	return again;
}

static void machine_hart_pin(struct machine_hart *h)
{
	if (!h->m->cfg.pin_harts)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(h->m->cfg.hart_cpu[h->id], &set);
	int r = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (r)
		log_warn("hart %u: cannot pin to host CPU %d: %s", h->id, h->m->cfg.hart_cpu[h->id],
			 strerror(r));
}

static uint64_t machine_clock_ns(clockid_t clock)
{
	struct timespec ts;
	if (clock_gettime(clock, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *machine_hart_thread(void *arg)
{
	struct machine_hart *h = arg;
	struct machine *m = h->m;
	char name[16];
	snprintf(name, sizeof(name), "vcpu%u", h->id);
	pthread_setname_np(pthread_self(), name); /* for top -H and the tests */
	machine_hart_pin(h);
	pthread_mutex_lock(&m->ctl);
	h->clock_valid = pthread_getcpuclockid(pthread_self(), &h->clock) == 0;
	pthread_mutex_unlock(&m->ctl);
	do
		h->run_result = cpu_run(h->cpu);
	while (machine_hart_park(h));
	pthread_mutex_lock(&m->ctl);
	if (h->clock_valid)
		h->cpu_ns = machine_clock_ns(h->clock);
	h->clock_valid = false;
	pthread_mutex_unlock(&m->ctl);
	/* A hart that returns on its own (not asked to stop) is a fatal error. */
	if (machine_set_exit(m, MACHINE_EXIT_ERROR))
		machine_stop_harts(m);
	return NULL;
}

int machine_pause(struct machine *m)
{
	pthread_mutex_lock(&m->ctl);
	bool was = m->pause_req;
	m->pause_req = true;
	pthread_mutex_unlock(&m->ctl);
	if (!was)
		machine_stop_harts(m);
	pthread_mutex_lock(&m->ctl);
	while (m->parked < m->nharts && atomic_load(&m->exit_how) == MACHINE_RUNNING)
		pthread_cond_wait(&m->ctl_cond, &m->ctl);
	int r = m->parked == m->nharts && atomic_load(&m->exit_how) == MACHINE_RUNNING ? 0 : -ESRCH;
	/* No hart reads the clock now: remember it, to restart it from here. */
	if (!r && !was)
		m->paused_ticks = timebase_now(&m->tb);
	pthread_mutex_unlock(&m->ctl);
	return r;
}

void machine_resume(struct machine *m)
{
	pthread_mutex_lock(&m->ctl);
	if (m->pause_req) {
		/* Harts are parked, so nothing reads the timebase while it moves. */
		if (m->parked == m->nharts)
			timebase_init(&m->tb, m->paused_ticks);
		m->pause_req = false;
		pthread_cond_broadcast(&m->ctl_cond);
	}
	pthread_mutex_unlock(&m->ctl);
}

/* The machine is ending: wake parked harts and a waiting machine_pause(). */
static void machine_unpark(struct machine *m)
{
	pthread_mutex_lock(&m->ctl);
	pthread_cond_broadcast(&m->ctl_cond);
	pthread_mutex_unlock(&m->ctl);
}

unsigned machine_hart_count(const struct machine *m)
{
	return m->nharts;
}

void machine_hart_stats(struct machine *m, unsigned hart, struct machine_hart_stats *st)
{
	*st = (struct machine_hart_stats){0};
	if (hart >= m->nharts)
		return;
	struct machine_hart *h = &m->hart[hart];
	/* A racy read of a counter only its hart writes: good enough for metrics. */
	st->instret = cpu_instret(h->cpu);
	pthread_mutex_lock(&m->ctl);
	if (h->clock_valid)
		h->cpu_ns = machine_clock_ns(h->clock);
	st->cpu_ns = h->cpu_ns;
	pthread_mutex_unlock(&m->ctl);
}

void machine_get_parts(struct machine *m, struct machine_parts *p)
{
	*p = (struct machine_parts){
	    .mem = &m->mem,
	    .tb = &m->tb,
	    .nharts = m->nharts,
	    .plic = m->plic,
	    .clint = m->clint,
	    .uart = m->uart,
	    .rtc = m->rtc,
	};
	for (unsigned i = 0; i < m->nharts; i++)
		p->cpu[i] = m->hart[i].cpu;
	for (unsigned i = 0; i < VIRT_VIRTIO_SLOTS; i++) {
		p->virtio[i] = m->virtio[i];
		p->vdev[i] = m->cfg.virtio[i];
	}
}

uint64_t machine_paused_ticks(struct machine *m)
{
	pthread_mutex_lock(&m->ctl);
	uint64_t t = m->paused_ticks;
	pthread_mutex_unlock(&m->ctl);
	return t;
}

uint64_t machine_mem_touched(const struct machine *m)
{
	enum { WINDOW = 4096 }; /* pages per mincore() call */
	unsigned char vec[WINDOW];
	uint64_t pages = m->mem.size / GUEST_PAGE_SIZE, resident = 0;
	for (uint64_t p = 0; p < pages; p += WINDOW) {
		uint64_t n = pages - p < WINDOW ? pages - p : WINDOW;
		if (mincore(m->mem.host + p * GUEST_PAGE_SIZE, n * GUEST_PAGE_SIZE, vec))
			return 0;
		for (uint64_t i = 0; i < n; i++)
			resident += vec[i] & 1;
	}
	return resident * GUEST_PAGE_SIZE;
}

/* Stop every hart and wait for its thread; re-ask in case a stop raced its start. */
static void machine_join_harts(struct machine *m)
{
	for (unsigned i = 0; i < m->nharts; i++) {
		struct machine_hart *h = &m->hart[i];
		if (!h->started)
			continue;
		for (;;) {
			cpu_request_stop(h->cpu);
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (pthread_timedjoin_np(h->thread, NULL, &ts) == 0)
				break;
		}
		h->started = false;
	}
}

static void machine_loop(struct machine *m, const struct machine_console *con)
{
	bool in_open = con && con->in_fd >= 0;
	while (atomic_load(&m->exit_how) == MACHINE_RUNNING) {
		struct pollfd pfd[2] = {{.fd = m->wake_fd, .events = POLLIN},
					{.fd = con ? con->in_fd : -1, .events = POLLIN}};
		nfds_t n = in_open && con->wants_input(con->opaque) ? 2 : 1;
		if (poll(pfd, n, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			uint64_t v;
			ssize_t rd = read(m->wake_fd, &v, sizeof(v));
			(void)rd;
		}
		if (!con)
			continue;
		bool readable = n == 2 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR));
		int s = con->service(con->opaque, m, readable);
		if (s == MACHINE_CONSOLE_EOF)
			in_open = false;
		else if (s == MACHINE_CONSOLE_QUIT)
			machine_set_exit(m, MACHINE_EXIT_USER_QUIT);
	}
}

enum machine_exit machine_run(struct machine *m, const struct machine_console *con,
			      struct verr *err)
{
	err->msg[0] = '\0';
	if (m->ran) {
		verr_set(err, EBUSY, "machine already ran");
		return MACHINE_EXIT_ERROR;
	}
	m->ran = true;
	for (unsigned i = 0; i < m->nharts; i++) {
		struct machine_hart *h = &m->hart[i];
		int r = pthread_create(&h->thread, NULL, machine_hart_thread, h);
		if (r) {
			verr_set(err, r, "cannot start hart %u: %s", i, strerror(r));
			machine_set_exit(m, MACHINE_EXIT_ERROR);
			break;
		}
		h->started = true;
	}
	machine_loop(m, con);
	int how = atomic_load(&m->exit_how);
	if (how == MACHINE_RUNNING) {
		verr_set(err, errno, "console loop: %s", strerror(errno));
		machine_set_exit(m, MACHINE_EXIT_ERROR);
		how = MACHINE_EXIT_ERROR;
	}
	machine_stop_harts(m);
	machine_unpark(m);
	machine_join_harts(m);
	/* All guest output is out before the caller prints anything. */
	host_out_stop(m->out);
	if (how == MACHINE_EXIT_ERROR && !err->msg[0]) {
		for (unsigned i = 0; i < m->nharts; i++)
			if (m->hart[i].run_result)
				verr_set(err, EIO, "hart %u stopped: cpu engine error %d", i,
					 m->hart[i].run_result);
		if (!err->msg[0])
			verr_set(err, EIO, "a hart stopped unexpectedly");
	}
	return (enum machine_exit)how;
}

void machine_destroy(struct machine *m)
{
	if (!m)
		return;
	machine_stop_harts(m);
	machine_join_harts(m);
	for (unsigned i = 0; i < m->nharts; i++)
		if (m->hart[i].cpu)
			cpu_destroy(m->hart[i].cpu);
	for (unsigned i = 0; i < VIRT_VIRTIO_SLOTS; i++)
		if (m->virtio[i])
			virtio_mmio_destroy(m->virtio[i]);
	sifive_test_destroy(m->test);
	goldfish_rtc_destroy(m->rtc);
	uart16550_destroy(m->uart);
	aclint_destroy(m->clint);
	plic_destroy(m->plic);
	host_out_destroy(m->out);
	if (m->wake_fd >= 0)
		close(m->wake_fd);
	guest_mem_destroy(&m->mem);
	pthread_mutex_destroy(&m->ctl);
	pthread_cond_destroy(&m->ctl_cond);
	free(m);
}
