/* SPDX-License-Identifier: MIT */
/* Bounded reads of the binary format's primitive encodings. */
#include "wasm/reader.h"

#include <stdlib.h>
#include <string.h>

uint8_t wasm_read_u8(struct wasm_reader *r)
{
	if (r->p >= r->end) {
		wasm_reader_fail(r, "unexpected end");
		return 0;
	}
	return *r->p++;
}

/*
 * Unsigned LEB128 of at most 'bits' bits: ceil(bits/7) bytes, and the unused
 * high bits of the last byte must be zero ("integer too large").
 */
static uint64_t read_uleb(struct wasm_reader *r, unsigned bits)
{
	uint64_t v = 0;
	unsigned maxbytes = (bits + 6) / 7;
	for (unsigned i = 0;; i++) {
		if (r->p >= r->end) {
			wasm_reader_fail(r, "unexpected end");
			return 0;
		}
		uint8_t b = *r->p++;
		unsigned shift = 7 * i;
		if (i == maxbytes - 1) {
			if (b & 0x80) {
				wasm_reader_fail(r, "integer representation too long");
				return 0;
			}
			unsigned used = bits - shift;
			if (used < 7 && (b >> used) != 0) {
				wasm_reader_fail(r, "integer too large");
				return 0;
			}
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
}

/* Signed LEB128: the unused bits of the last byte must all equal the sign bit. */
static int64_t read_sleb(struct wasm_reader *r, unsigned bits)
{
	uint64_t v = 0;
	unsigned maxbytes = (bits + 6) / 7;
	for (unsigned i = 0;; i++) {
		if (r->p >= r->end) {
			wasm_reader_fail(r, "unexpected end");
			return 0;
		}
		uint8_t b = *r->p++;
		unsigned shift = 7 * i;
		if (i == maxbytes - 1) {
			if (b & 0x80) {
				wasm_reader_fail(r, "integer representation too long");
				return 0;
			}
			unsigned used = bits - shift; /* value bits in this byte, sign included */
			if (used < 7) {
				/* bits from the sign bit up to bit 6 must all be equal */
				uint8_t mask = (uint8_t)((0x7f >> (used - 1)) << (used - 1));
				uint8_t top = b & mask;
				if (top != 0 && top != mask) {
					wasm_reader_fail(r, "integer too large");
					return 0;
				}
			}
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			shift += 7;
			if (shift < 64 && (b & 0x40))
				v |= ~(uint64_t)0 << shift;
			return (int64_t)v;
		}
	}
}

uint32_t wasm_read_u32(struct wasm_reader *r)
{
	return (uint32_t)read_uleb(r, 32);
}

int32_t wasm_read_s32(struct wasm_reader *r)
{
	return (int32_t)read_sleb(r, 32);
}

int64_t wasm_read_s33(struct wasm_reader *r)
{
	return read_sleb(r, 33);
}

int64_t wasm_read_s64(struct wasm_reader *r)
{
	return read_sleb(r, 64);
}

uint32_t wasm_read_f32(struct wasm_reader *r)
{
	uint32_t v = 0;
	if (wasm_reader_left(r) < 4) {
		wasm_reader_fail(r, "unexpected end");
		return 0;
	}
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)r->p[i] << (8 * i);
	r->p += 4;
	return v;
}

uint64_t wasm_read_f64(struct wasm_reader *r)
{
	uint64_t v = 0;
	if (wasm_reader_left(r) < 8) {
		wasm_reader_fail(r, "unexpected end");
		return 0;
	}
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += 8;
	return v;
}

uint32_t wasm_read_count(struct wasm_reader *r, size_t min_size)
{
	uint32_t n = wasm_read_u32(r);
	if (r->err)
		return 0;
	if (min_size && (uint64_t)n * min_size > wasm_reader_left(r)) {
		wasm_reader_fail(r, "unexpected end of section or function");
		return 0;
	}
	return n;
}

const uint8_t *wasm_read_bytes(struct wasm_reader *r, size_t n)
{
	if (wasm_reader_left(r) < n) {
		wasm_reader_fail(r, "unexpected end of section or function");
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += n;
	return p;
}

bool wasm_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		size_t len;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
		if (cp < min || (cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff)
			return false;
		i += len;
	}
	return true;
}

char *wasm_read_name(struct wasm_reader *r, uint32_t *len)
{
	uint32_t n = wasm_read_u32(r);
	if (r->err)
		return NULL;
	if (n > wasm_reader_left(r)) {
		wasm_reader_fail(r, "length out of bounds");
		return NULL;
	}
	const uint8_t *p = wasm_read_bytes(r, n);
	if (!p)
		return NULL;
	if (!wasm_utf8_valid(p, n)) {
		wasm_reader_fail(r, "malformed UTF-8 encoding");
		return NULL;
	}
	char *s = malloc((size_t)n + 1);
	if (!s) {
		wasm_reader_fail(r, "out of memory");
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = 0;
	if (len)
		*len = n;
	return s;
}
