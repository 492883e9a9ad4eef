/* SPDX-License-Identifier: MIT */
#include "devices/uart16550.h"

#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "machine/fdt.h"
#include "util/log.h"

/* Register offsets (reg-shift 0). */
enum {
	UART_RBR_THR_DLL = 0,
	UART_IER_DLM = 1,
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define IER_RDI	 0x01 /* receive data available */
#define IER_THRI 0x02 /* transmit holding register empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI	 0x08 /* modem status */

#define IIR_NO_INT 0x01
#define IIR_MSI	   0x00
#define IIR_THRI   0x02
#define IIR_RDI	   0x04
#define IIR_RLSI   0x06
#define IIR_CTI	   0x0c /* character timeout: data below the trigger level */
#define IIR_FIFO   0xc0

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02

#define LCR_DLAB 0x80

#define MCR_DTR	 0x01
#define MCR_RTS	 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR	 0x01
#define LSR_OE	 0x02
#define LSR_BI	 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERR	 (LSR_OE | LSR_BI)

#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI	0x40
#define MSR_DCD 0x80

struct uart16550 {
	pthread_mutex_t lock;
	struct irq_line irq;
	uint32_t clock_hz;
	struct uart16550_host host;
	uint8_t ier, lcr, mcr, lsr_err, scr, fcr, dll, dlm;
	bool thr_ipending; /* THR-empty interrupt latched, cleared by an IIR read or a THR write */
	bool rx_wanted;	   /* the host has more input waiting for FIFO space */
	uint8_t iir;	   /* current interrupt identification (without FIFO bits) */
	uint8_t rx[UART16550_FIFO_SIZE];
	unsigned rx_head, rx_count;
};

static unsigned uart_rx_capacity(const struct uart16550 *u)
{
	return (u->fcr & FCR_ENABLE) ? UART16550_FIFO_SIZE : 1;
}

static unsigned uart_rx_trigger(const struct uart16550 *u)
{
	static const unsigned levels[4] = {1, 4, 8, 14};
	return (u->fcr & FCR_ENABLE) ? levels[u->fcr >> 6] : 1;
}

static uint8_t uart_msr(const struct uart16550 *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS; /* a modem that is always ready */
	uint8_t m = 0;
	if (u->mcr & MCR_DTR)
		m |= MSR_DSR;
	if (u->mcr & MCR_RTS)
		m |= MSR_CTS;
	if (u->mcr & MCR_OUT1)
		m |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

/* Recompute IIR by priority and drive the line. */
static void uart_update(struct uart16550 *u)
{
	uint8_t iir = IIR_NO_INT;
	if ((u->ier & IER_RLSI) && (u->lsr_err & LSR_ERR))
		iir = IIR_RLSI;
	else if ((u->ier & IER_RDI) && u->rx_count)
		iir = u->rx_count >= uart_rx_trigger(u) ? IIR_RDI : IIR_CTI;
	else if ((u->ier & IER_THRI) && u->thr_ipending)
		iir = IIR_THRI;
	u->iir = iir;
	irq_set(&u->irq, iir != IIR_NO_INT);
}

static void uart_rx_put(struct uart16550 *u, uint8_t c)
{
	if (u->rx_count >= uart_rx_capacity(u)) {
		u->lsr_err |= LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % UART16550_FIFO_SIZE] = c;
	u->rx_count++;
}

static void uart_rx_clear(struct uart16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

struct uart16550 *uart16550_create(struct irq_line irq, uint32_t clock_hz,
				   const struct uart16550_host *host)
{
	struct uart16550 *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	pthread_mutex_init(&u->lock, NULL);
	u->irq = irq;
	u->clock_hz = clock_hz;
	u->host = *host;
	u->iir = IIR_NO_INT;
	return u;
}

void uart16550_destroy(struct uart16550 *u)
{
	if (!u)
		return;
	pthread_mutex_destroy(&u->lock);
	free(u);
}

size_t uart16550_rx_push(struct uart16550 *u, const uint8_t *buf, size_t n)
{
	pthread_mutex_lock(&u->lock);
	size_t done = 0;
	/* In loopback the receiver hears only the transmitter. */
	if (!(u->mcr & MCR_LOOP)) {
		while (done < n && u->rx_count < uart_rx_capacity(u))
			uart_rx_put(u, buf[done++]);
	}
	u->rx_wanted = done < n;
	uart_update(u);
	pthread_mutex_unlock(&u->lock);
	return done;
}

static uint8_t uart_read_reg(struct uart16550 *u, unsigned reg, bool *notify)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v = 0;
	switch (reg) {
	case UART_RBR_THR_DLL:
		if (dlab)
			return u->dll;
		if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART16550_FIFO_SIZE;
			u->rx_count--;
			if (u->rx_wanted) {
				u->rx_wanted = false;
				*notify = true;
			}
		}
		uart_update(u);
		return v;
	case UART_IER_DLM:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		v = u->iir | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0);
		/* Reading IIR while it reports THR empty acknowledges that interrupt. */
		if (u->iir == IIR_THRI) {
			u->thr_ipending = false;
			uart_update(u);
		}
		return v;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT | u->lsr_err | (u->rx_count ? LSR_DR : 0);
		u->lsr_err = 0; /* error bits clear on read */
		uart_update(u);
		return v;
	case UART_MSR:
		return uart_msr(u);
	case UART_SCR:
		return u->scr;
	}
	return 0;
}

static void uart_write_reg(struct uart16550 *u, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & LCR_DLAB;
	switch (reg) {
	case UART_RBR_THR_DLL:
		if (dlab) {
			u->dll = v;
			return;
		}
		if (u->mcr & MCR_LOOP)
			uart_rx_put(u, v);
		else if (u->host.tx)
			u->host.tx(u->host.opaque, v);
		/* The byte left at once: the holding register is empty again. */
		u->thr_ipending = true;
		break;
	case UART_IER_DLM:
		if (dlab) {
			u->dlm = v;
			return;
		}
		/* Enabling THRI while the holding register is empty raises it at once. */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_ipending = true;
		u->ier = v & 0x0f;
		break;
	case UART_IIR_FCR:
		if ((v ^ u->fcr) & FCR_ENABLE)
			uart_rx_clear(u);
		if (v & FCR_CLEAR_RX)
			uart_rx_clear(u);
		u->fcr = v & (FCR_ENABLE | 0xc0);
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
	uart_update(u);
}

static int uart_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct uart16550 *u = dev;
	(void)size;
	*val = 0;
	if (off >= 8)
		return 0;
	bool notify = false;
	pthread_mutex_lock(&u->lock);
	*val = uart_read_reg(u, (unsigned)off, &notify);
	pthread_mutex_unlock(&u->lock);
	if (notify && u->host.rx_ready)
		u->host.rx_ready(u->host.opaque);
	return 0;
}

static int uart_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct uart16550 *u = dev;
	(void)size;
	if (off >= 8)
		return 0;
	pthread_mutex_lock(&u->lock);
	uart_write_reg(u, (unsigned)off, (uint8_t)val);
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static int uart_fdt(void *dev, struct fdt_ctx *ctx)
{
	struct uart16550 *u = dev;
	int node = fdt_ctx_add_soc_node(ctx, "serial");
	if (node < 0)
		return node;
	int r;
	if ((r = fdt_ctx_set_irq(ctx, node, u->irq.line)) ||
	    (r = fdt_setprop_u32(ctx->fdt, node, "clock-frequency", u->clock_hz)) ||
	    (r = fdt_setprop_string(ctx->fdt, node, "compatible", "ns16550a")))
		return r;
	return 0;
}

const struct mmio_ops uart16550_ops = {.read = uart_read, .write = uart_write, .fdt = uart_fdt};

void uart16550_save(struct uart16550 *u, struct uart16550_state *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&u->lock);
	*st = (struct uart16550_state){
	    .ier = u->ier,
	    .lcr = u->lcr,
	    .mcr = u->mcr,
	    .lsr_err = u->lsr_err,
	    .scr = u->scr,
	    .fcr = u->fcr,
	    .dll = u->dll,
	    .dlm = u->dlm,
	    .thr_ipending = u->thr_ipending,
	    .rx_head = (uint8_t)u->rx_head,
	    .rx_count = (uint8_t)u->rx_count,
	};
	memcpy(st->rx, u->rx, sizeof(st->rx));
	pthread_mutex_unlock(&u->lock);
}

int uart16550_load(struct uart16550 *u, const struct uart16550_state *st, struct verr *err)
{
	if (st->ier & ~0x0f || st->mcr & ~0x1f || st->lsr_err & ~LSR_ERR ||
	    st->fcr & ~(FCR_ENABLE | 0xc0) || st->thr_ipending > 1 ||
	    st->rx_head >= UART16550_FIFO_SIZE ||
	    st->rx_count > ((st->fcr & FCR_ENABLE) ? UART16550_FIFO_SIZE : 1))
		return verr_set(err, EINVAL, "uart: bad register state");
	pthread_mutex_lock(&u->lock);
	u->ier = st->ier;
	u->lcr = st->lcr;
	u->mcr = st->mcr;
	u->lsr_err = st->lsr_err;
	u->scr = st->scr;
	u->fcr = st->fcr;
	u->dll = st->dll;
	u->dlm = st->dlm;
	u->thr_ipending = st->thr_ipending;
	u->rx_head = st->rx_head;
	u->rx_count = st->rx_count;
	u->rx_wanted = false;
	memcpy(u->rx, st->rx, sizeof(u->rx));
	uart_update(u);
	pthread_mutex_unlock(&u->lock);
	return 0;
}
