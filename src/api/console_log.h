/* SPDX-License-Identifier: MIT */
/*
 * The VM's serial console inside the VMM: everything the guest prints is
 * kept in a ring (GET /console), appended to an optional log file and copied
 * to every attached client (GET /console/attach); what attached clients send
 * goes to the UART's input.  One thread moves the bytes; it outlives the
 * machines of a VM (a reset builds a new machine on the same console).
 */
#ifndef VESSEL_API_CONSOLE_LOG_H
#define VESSEL_API_CONSOLE_LOG_H

#include <stddef.h>
#include <stdint.h>

struct console_log;
struct machine_console;
struct verr;

#define CONSOLE_LOG_RING	 (1u << 20)   /* bytes of output kept */
#define CONSOLE_LOG_CLIENT_QUEUE (256u << 10) /* output queued for a slow client */
#define CONSOLE_LOG_MAX_CLIENTS	 64

/* Start the console; log_path (optional) is opened for appending. */
struct console_log *console_log_create(const char *log_path, struct verr *err);
/* Stop the thread, detach every client, free. */
void console_log_destroy(struct console_log *cl);

/* The fd the machine's UART writes to (vm_config.console_out_fd). */
int console_log_out_fd(const struct console_log *cl);
/* What machine_run() polls for input from attached clients. */
const struct machine_console *console_log_machine_console(struct console_log *cl);

/*
 * Copy the output from byte 'offset' (counted from the first byte ever
 * printed): *data is malloc'ed (free it), *start is the offset of its first
 * byte (later than 'offset' when that part left the ring), *len its size.
 * Returns 0 or -ENOMEM.
 */
int console_log_read(struct console_log *cl, uint64_t offset, uint8_t **data, size_t *len,
		     uint64_t *start);

/*
 * Attach a client socket: 'initial' bytes it already sent go to the guest.
 * close_fn(close_arg) is called (on the console thread, or in destroy) when
 * the client is gone; the console never close()s fd itself.  Returns 0, or
 * -EMFILE with too many clients, -ESHUTDOWN after console_log_detach_all()
 * (then close_fn is not called).
 */
int console_log_attach(struct console_log *cl, int fd, const void *initial, size_t initial_len,
		       void (*close_fn)(void *arg), void *close_arg);

/* Detach every client now and refuse new ones (before the HTTP server stops). */
void console_log_detach_all(struct console_log *cl);

/* Clients attached now (for tests). */
unsigned console_log_clients(struct console_log *cl);

#endif
