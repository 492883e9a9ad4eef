/* SPDX-License-Identifier: MIT */
/*
 * Guest console output to a host file descriptor, written by a thread of
 * its own.  Harts append bytes to a ring and go on; the writer batches what
 * accumulates within a couple of milliseconds into one write(), so a guest
 * printing a lot costs a few syscalls instead of one per byte, and a slow or
 * stuck stdout never holds a device lock.
 */
#ifndef VESSEL_MACHINE_HOST_OUT_H
#define VESSEL_MACHINE_HOST_OUT_H

#include <stdint.h>

struct host_out;
struct verr;

/* Start the writer for fd (not closed at the end). */
struct host_out *host_out_create(int fd, struct verr *err);

/* Append one byte; waits while the ring is full, unless host_out_release() was called. */
void host_out_put(struct host_out *o, uint8_t c);

/* From now on, drop bytes that would have to wait for room.  Async-signal-safe. */
void host_out_release(struct host_out *o);

/* Write what is buffered (giving up after a second if fd is stuck) and stop the
 * writer; later bytes are dropped.  Idempotent. */
void host_out_stop(struct host_out *o);

/* Stop, then free. */
void host_out_destroy(struct host_out *o);

#endif
