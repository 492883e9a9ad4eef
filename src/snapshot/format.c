/* SPDX-License-Identifier: MIT */
/* Writing and reading snapshot files (snapshot/format.h, docs/snapshot.md). */
#include "snapshot/format.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/log.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "snapshots are little-endian");
_Static_assert(sizeof(struct snap_file_header) == 32, "file header layout");
_Static_assert(sizeof(struct snap_section_header) == 32, "section header layout");

#define SNAP_ALIGN 8u

uint32_t snap_crc32(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;
	/* zlib takes uInt lengths. */
	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

bool snap_page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	for (unsigned i = 0; i < SNAP_PAGE / 8; i += 8) {
		uint64_t acc = w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] |
			       w[i + 6] | w[i + 7];
		if (acc)
			return false;
	}
	return true;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static int write_at(int fd, const void *buf, size_t len, uint64_t off, struct verr *err)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return verr_set(err, errno, "write: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int read_at(int fd, void *buf, size_t len, uint64_t off, struct verr *err)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return verr_set(err, errno, "read: %s", strerror(errno));
		if (n == 0)
			return verr_set(err, EINVAL, "truncated");
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int snap_writer_begin(struct snap_writer *w, int fd, struct verr *err)
{
	struct snap_file_header h = {.version = SNAP_VERSION, .header_size = sizeof(h)};
	memcpy(h.magic, SNAP_MAGIC, 8);
	h.crc = snap_crc32(0, &h, sizeof(h));
	w->fd = fd;
	w->pos = 0;
	int r = write_at(fd, &h, sizeof(h), 0, err);
	if (!r)
		w->pos = sizeof(h);
	return r;
}

static int write_section_header(struct snap_writer *w, uint64_t at, uint32_t type, uint32_t id,
				uint64_t len, uint64_t data_offset, uint32_t data_crc,
				struct verr *err)
{
	struct snap_section_header h = {.type = type,
					.id = id,
					.length = len,
					.data_offset = data_offset,
					.data_crc = data_crc};
	h.crc = snap_crc32(0, &h, sizeof(h));
	return write_at(w->fd, &h, sizeof(h), at, err);
}

int snap_write_section(struct snap_writer *w, uint32_t type, uint32_t id, const void *data,
		       uint64_t len, struct verr *err)
{
	if (len > SNAP_MAX_STATE)
		return verr_set(err, EINVAL, "section %u: %llu bytes is too large", type,
				(unsigned long long)len);
	uint64_t at = w->pos;
	uint64_t data_at = at + sizeof(struct snap_section_header);
	int r = write_section_header(w, at, type, id, len, sizeof(struct snap_section_header),
				     snap_crc32(0, data, len), err);
	if (!r && len)
		r = write_at(w->fd, data, len, data_at, err);
	if (!r)
		w->pos = align_up(data_at + len, SNAP_ALIGN);
	return r;
}

int snap_write_memory(struct snap_writer *w, const uint8_t *mem, uint64_t size, struct verr *err)
{
	uint64_t at = w->pos;
	uint64_t data_at = align_up(at + sizeof(struct snap_section_header), SNAP_PAGE);
	uint32_t crc = 0;
	/* Runs of non-zero pages go out in one write; zero pages stay holes. */
	uint64_t run = 0, run_len = 0;
	for (uint64_t off = 0; off < size; off += SNAP_PAGE) {
		const uint8_t *p = mem + off;
		if (snap_page_is_zero(p)) {
			if (run_len) {
				int r = write_at(w->fd, mem + run, run_len, data_at + run, err);
				if (r)
					return r;
				run_len = 0;
			}
			continue;
		}
		crc = snap_crc32(crc, p, SNAP_PAGE);
		if (!run_len)
			run = off;
		run_len += SNAP_PAGE;
		if (run_len >= (8u << 20)) {
			int r = write_at(w->fd, mem + run, run_len, data_at + run, err);
			if (r)
				return r;
			run_len = 0;
		}
	}
	if (run_len) {
		int r = write_at(w->fd, mem + run, run_len, data_at + run, err);
		if (r)
			return r;
	}
	int r = write_section_header(w, at, SNAP_SEC_MEMORY, 0, size, data_at - at, crc, err);
	if (!r)
		w->pos = data_at + size;
	return r;
}

int snap_writer_end(struct snap_writer *w, struct verr *err)
{
	int r = write_section_header(w, w->pos, SNAP_SEC_END, 0, 0,
				     sizeof(struct snap_section_header), 0, err);
	if (r)
		return r;
	w->pos += sizeof(struct snap_section_header);
	/* The memory's trailing holes count: the file ends where END does. */
	if (ftruncate(w->fd, (off_t)w->pos))
		return verr_set(err, errno, "write: %s", strerror(errno));
	return 0;
}

/* ---- Reading ---------------------------------------------------------------------- */

static bool type_known(uint32_t t)
{
	return (t >= SNAP_SEC_CONFIG && t <= SNAP_SEC_MEMORY) || t == SNAP_SEC_END;
}

static int read_file_header(struct snap_reader *r, struct verr *err)
{
	struct snap_file_header h;
	if (r->file_size < sizeof(h))
		return verr_set(err, EINVAL, "not a Vessel snapshot (too short)");
	int e = read_at(r->fd, &h, sizeof(h), 0, err);
	if (e)
		return e;
	if (memcmp(h.magic, SNAP_MAGIC, 8))
		return verr_set(err, EINVAL, "not a Vessel snapshot (bad magic)");
	uint32_t crc = h.crc;
	h.crc = 0;
	if (snap_crc32(0, &h, sizeof(h)) != crc)
		return verr_set(err, EINVAL, "corrupt snapshot: header checksum mismatch");
	if (h.version != SNAP_VERSION)
		return verr_set(err, EINVAL, "snapshot format version %u, this Vessel reads %u",
				h.version, SNAP_VERSION);
	if (h.header_size != sizeof(h) || h.flags || h.reserved)
		return verr_set(err, EINVAL, "corrupt snapshot: bad header fields");
	return 0;
}

/* Check one section header at 'pos' against the file; fill 's'. */
static int read_section_header(struct snap_reader *r, uint64_t pos, struct snap_section *s,
			       struct verr *err)
{
	struct snap_section_header h;
	if (r->file_size - pos < sizeof(h))
		return verr_set(err, EINVAL, "truncated snapshot: no END section");
	int e = read_at(r->fd, &h, sizeof(h), pos, err);
	if (e)
		return e;
	uint32_t crc = h.crc;
	h.crc = 0;
	if (snap_crc32(0, &h, sizeof(h)) != crc)
		return verr_set(err, EINVAL, "corrupt snapshot: section header at %llu",
				(unsigned long long)pos);
	if (!type_known(h.type))
		return verr_set(err, EINVAL, "corrupt snapshot: unknown section type %u", h.type);
	bool mem = h.type == SNAP_SEC_MEMORY;
	if (mem ? ((pos + h.data_offset) % SNAP_PAGE || h.length % SNAP_PAGE ||
		   h.data_offset < sizeof(h) || h.data_offset > sizeof(h) + SNAP_PAGE)
		: (h.data_offset != sizeof(h) || h.length > SNAP_MAX_STATE))
		return verr_set(err, EINVAL, "corrupt snapshot: section %u has a bad layout",
				h.type);
	if (h.type == SNAP_SEC_END && h.length)
		return verr_set(err, EINVAL, "corrupt snapshot: bad END section");
	uint64_t room = r->file_size - pos;
	if (h.data_offset > room || h.length > room - h.data_offset)
		return verr_set(err, EINVAL, "truncated snapshot: section %u ends past the file",
				h.type);
	*s = (struct snap_section){.type = h.type,
				   .id = h.id,
				   .length = h.length,
				   .file_offset = pos + h.data_offset,
				   .data_crc = h.data_crc};
	return 0;
}

static int read_section_data(struct snap_reader *r, struct snap_section *s, struct verr *err)
{
	s->data = malloc(s->length ? s->length : 1);
	if (!s->data)
		return verr_set(err, ENOMEM, "out of memory");
	int e = read_at(r->fd, s->data, s->length, s->file_offset, err);
	if (e)
		return e;
	if (snap_crc32(0, s->data, s->length) != s->data_crc)
		return verr_set(err, EINVAL, "corrupt snapshot: section %u/%u checksum mismatch",
				s->type, s->id);
	return 0;
}

static int read_sections(struct snap_reader *r, struct verr *err)
{
	uint64_t pos = sizeof(struct snap_file_header);
	for (;;) {
		struct snap_section s;
		int e = read_section_header(r, pos, &s, err);
		if (e)
			return e;
		if (s.type == SNAP_SEC_END) {
			if (s.file_offset != r->file_size)
				return verr_set(err, EINVAL, "corrupt snapshot: data after END");
			return 0;
		}
		if (snap_find(r, s.type, s.id))
			return verr_set(err, EINVAL, "corrupt snapshot: section %u/%u twice",
					s.type, s.id);
		if (r->n == SNAP_MAX_SECTIONS)
			return verr_set(err, EINVAL, "corrupt snapshot: too many sections");
		r->sec[r->n] = s;
		if (s.type != SNAP_SEC_MEMORY && (e = read_section_data(r, &r->sec[r->n], err))) {
			free(r->sec[r->n].data);
			return e;
		}
		r->n++;
		pos = s.file_offset + s.length;
		if (s.type != SNAP_SEC_MEMORY)
			pos = align_up(pos, SNAP_ALIGN);
	}
}

int snap_reader_open(struct snap_reader *r, const char *path, struct verr *err)
{
	memset(r, 0, sizeof(*r));
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return verr_set(err, errno, "%s: %s", path, strerror(errno));
	struct stat st;
	int e = 0;
	if (fstat(r->fd, &st))
		e = verr_set(err, errno, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		e = verr_set(err, EINVAL, "%s: not a regular file", path);
	r->file_size = (uint64_t)st.st_size;
	if (!e)
		e = read_file_header(r, err);
	if (!e)
		e = read_sections(r, err);
	if (e)
		snap_reader_close(r);
	return e;
}

void snap_reader_close(struct snap_reader *r)
{
	for (unsigned i = 0; i < r->n; i++)
		free(r->sec[i].data);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

const struct snap_section *snap_find(const struct snap_reader *r, uint32_t type, uint32_t id)
{
	for (unsigned i = 0; i < r->n; i++)
		if (r->sec[i].type == type && r->sec[i].id == id)
			return &r->sec[i];
	return NULL;
}

const void *snap_need(const struct snap_reader *r, uint32_t type, uint32_t id, uint64_t len,
		      const char *what, struct verr *err)
{
	const struct snap_section *s = snap_find(r, type, id);
	if (!s) {
		verr_set(err, EINVAL, "snapshot has no %s state", what);
		return NULL;
	}
	if (s->length != len) {
		verr_set(err, EINVAL, "snapshot: %s state is %llu bytes, expected %llu", what,
			 (unsigned long long)s->length, (unsigned long long)len);
		return NULL;
	}
	return s->data;
}

int snap_verify_memory(const struct snap_reader *r, struct verr *err)
{
	const struct snap_section *s = snap_find(r, SNAP_SEC_MEMORY, 0);
	if (!s)
		return verr_set(err, EINVAL, "snapshot has no memory");
	uint8_t *page = malloc(SNAP_PAGE);
	if (!page)
		return verr_set(err, ENOMEM, "out of memory");
	uint32_t crc = 0;
	int e = 0;
	for (uint64_t off = 0; off < s->length && !e; off += SNAP_PAGE) {
		e = read_at(r->fd, page, SNAP_PAGE, s->file_offset + off, err);
		if (!e && !snap_page_is_zero(page))
			crc = snap_crc32(crc, page, SNAP_PAGE);
	}
	free(page);
	if (!e && crc != s->data_crc)
		e = verr_set(err, EINVAL, "corrupt snapshot: guest memory checksum mismatch");
	return e;
}
