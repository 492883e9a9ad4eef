/* SPDX-License-Identifier: MIT */
#include "cli/console.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "util/log.h"

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */
#define CONSOLE_BUF    256

struct console {
	int in_fd, out_fd;
	bool tty;		  /* in_fd is a terminal: raw mode and escape keys */
	bool escape;		  /* Ctrl-A seen, waiting for the command key */
	uint8_t buf[CONSOLE_BUF]; /* input the UART has not taken yet */
	size_t start, len;
	struct machine_console mc;
	struct machine *m;
};

/* State the signal handlers reach; one console per process. */
static struct termios console_saved;
static volatile sig_atomic_t console_raw_fd = -1;
static _Atomic(struct machine *) console_machine;
static volatile sig_atomic_t console_quit_signal;

static const int console_quit_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
static const int console_fatal_signals[] = {SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};

static void console_restore_tty(void)
{
	int fd = console_raw_fd;
	if (fd >= 0) {
		tcsetattr(fd, TCSAFLUSH, &console_saved);
		console_raw_fd = -1;
	}
}

static void console_on_quit_signal(int sig)
{
	(void)sig;
	console_quit_signal = 1;
	struct machine *m = atomic_load(&console_machine);
	if (m)
		machine_request_quit(m);
}

/* A crash: give the terminal back, then die of the same signal. */
static void console_on_fatal_signal(int sig)
{
	console_restore_tty();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void console_set_signals(bool install, bool fatal)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = install ? console_on_quit_signal : SIG_DFL;
	for (size_t i = 0; i < sizeof(console_quit_signals) / sizeof(int); i++)
		sigaction(console_quit_signals[i], &sa, NULL);
	if (!fatal)
		return;
	sa.sa_handler = install ? console_on_fatal_signal : SIG_DFL;
	for (size_t i = 0; i < sizeof(console_fatal_signals) / sizeof(int); i++)
		sigaction(console_fatal_signals[i], &sa, NULL);
}

static int console_make_raw(struct console *c, struct verr *err)
{
	if (tcgetattr(c->in_fd, &console_saved) < 0)
		return verr_set(err, errno, "console: %s", strerror(errno));
	struct termios t = console_saved;
	/* Every key goes to the guest (Ctrl-C included); output processing stays
	 * on so a guest printing bare '\n' still starts new lines. */
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	console_raw_fd = c->in_fd;
	if (tcsetattr(c->in_fd, TCSAFLUSH, &t) < 0) {
		console_raw_fd = -1;
		return verr_set(err, errno, "console: %s", strerror(errno));
	}
	atexit(console_restore_tty);
	return 0;
}

static void console_help(void)
{
	static const char help[] = "\r\nvessel console keys:\r\n"
				   "  Ctrl-A x       quit (the VM ends)\r\n"
				   "  Ctrl-A Ctrl-A  send Ctrl-A to the guest\r\n"
				   "  Ctrl-A h       this help\r\n";
	ssize_t n = write(STDERR_FILENO, help, sizeof(help) - 1);
	(void)n;
}

/* Append input to the buffer, interpreting escape keys on a terminal; true to quit. */
static bool console_take(struct console *c, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = in[i];
		if (c->tty && c->escape) {
			c->escape = false;
			if (ch == 'x' || ch == 'X')
				return true;
			if (ch == 'h' || ch == 'H' || ch == '?')
				console_help();
			if (ch != CONSOLE_ESCAPE)
				continue;
		} else if (c->tty && ch == CONSOLE_ESCAPE) {
			c->escape = true;
			continue;
		}
		c->buf[c->start + c->len++] = ch;
	}
	return false;
}

static void console_flush_input(struct console *c, struct machine *m)
{
	size_t took = machine_console_input(m, c->buf + c->start, c->len);
	c->start += took;
	c->len -= took;
	if (c->len == 0)
		c->start = 0;
}

static bool console_wants_input(void *opaque)
{
	struct console *c = opaque;
	return c->len == 0;
}

static int console_service(void *opaque, struct machine *m, bool readable)
{
	struct console *c = opaque;
	if (c->len)
		console_flush_input(c, m);
	if (!readable || c->len)
		return MACHINE_CONSOLE_OK;
	uint8_t in[CONSOLE_BUF];
	ssize_t n = read(c->in_fd, in, sizeof(in));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? MACHINE_CONSOLE_OK : MACHINE_CONSOLE_EOF;
	if (n == 0)
		return MACHINE_CONSOLE_EOF; /* the guest runs on without input */
	if (console_take(c, in, (size_t)n))
		return MACHINE_CONSOLE_QUIT;
	console_flush_input(c, m);
	return MACHINE_CONSOLE_OK;
}

struct console *console_open(int in_fd, int out_fd, struct verr *err)
{
	struct console *c = calloc(1, sizeof(*c));
	if (!c) {
		verr_set(err, ENOMEM, "console: out of memory");
		return NULL;
	}
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->tty = in_fd >= 0 && isatty(in_fd);
	if (c->tty && console_make_raw(c, err)) {
		free(c);
		return NULL;
	}
	console_quit_signal = 0;
	console_set_signals(true, c->tty);
	if (c->tty)
		fputs("vessel: console on this terminal; Ctrl-A x quits, Ctrl-A h for help\r\n",
		      stderr);
	c->mc = (struct machine_console){.opaque = c,
					 .in_fd = in_fd,
					 .wants_input = console_wants_input,
					 .service = console_service};
	return c;
}

const struct machine_console *console_attach(struct console *c, struct machine *m)
{
	c->m = m;
	atomic_store(&console_machine, m);
	/* A signal that came before the machine existed still counts. */
	if (console_quit_signal)
		machine_request_quit(m);
	return &c->mc;
}

bool console_signalled(const struct console *c)
{
	(void)c;
	return console_quit_signal;
}

void console_close(struct console *c)
{
	if (!c)
		return;
	atomic_store(&console_machine, NULL);
	console_set_signals(false, c->tty);
	console_restore_tty();
	free(c);
}
