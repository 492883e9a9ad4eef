/* SPDX-License-Identifier: MIT */
/*
 * A bounded cursor over module bytes: LEB128 integers, floats, names.
 *
 * Every read checks the remaining length first; the first error sticks in
 * r->err (a spec wording such as "unexpected end") and later reads return 0,
 * so decoders can read a whole record and test once.
 */
#ifndef VESSEL_WASM_READER_H
#define VESSEL_WASM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wasm_reader {
	const uint8_t *p, *end;
	const char *err; /* first error, NULL while all is well */
};

static inline void wasm_reader_init(struct wasm_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->end = p + len;
	r->err = NULL;
}

static inline size_t wasm_reader_left(const struct wasm_reader *r)
{
	return (size_t)(r->end - r->p);
}

static inline void wasm_reader_fail(struct wasm_reader *r, const char *why)
{
	if (!r->err)
		r->err = why;
	r->p = r->end;
}

uint8_t wasm_read_u8(struct wasm_reader *r);
uint32_t wasm_read_u32(struct wasm_reader *r);
int32_t wasm_read_s32(struct wasm_reader *r);
int64_t wasm_read_s33(struct wasm_reader *r);
int64_t wasm_read_s64(struct wasm_reader *r);
uint32_t wasm_read_f32(struct wasm_reader *r);
uint64_t wasm_read_f64(struct wasm_reader *r);
/* A vector count: also rejects counts that cannot fit in the bytes left
 * (each element takes at least min_size bytes), so callers may allocate it. */
uint32_t wasm_read_count(struct wasm_reader *r, size_t min_size);
/* A length-prefixed UTF-8 name, returned as a new NUL-terminated string (it may hold NULs:
 * *len is its length; len may be NULL). */
char *wasm_read_name(struct wasm_reader *r, uint32_t *len);
/* n raw bytes; returns a pointer into the input. */
const uint8_t *wasm_read_bytes(struct wasm_reader *r, size_t n);
bool wasm_utf8_valid(const uint8_t *s, size_t n);

#endif
