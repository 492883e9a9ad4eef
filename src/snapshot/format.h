/* SPDX-License-Identifier: MIT */
/*
 * The snapshot file format (docs/snapshot.md): a header, then sections one
 * after the other, each with its own header (type, id, length, CRC32) and
 * payload.  The guest memory section's payload starts on a page boundary so
 * that a restore can map it; zero pages are holes in a sparse file.  An END
 * section closes the file: a file without it is truncated.
 *
 * Fields are little-endian (the layout of the structs on the host; Vessel
 * runs on little-endian hosts only).  The same sections make up the live
 * migration stream (snapshot/migrate.c).
 */
#ifndef VESSEL_SNAPSHOT_FORMAT_H
#define VESSEL_SNAPSHOT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct verr;
struct guest_mem;

#define SNAP_MAGIC	  "VESSELSN"
#define SNAP_VERSION	  1
#define SNAP_PAGE	  4096u
#define SNAP_MAX_SECTIONS 64
#define SNAP_MAX_STATE	  (1u << 20) /* largest non-memory section */

enum snap_section_type {
	SNAP_SEC_CONFIG = 1,  /* JSON: machine and VM configuration */
	SNAP_SEC_MACHINE = 2, /* struct snap_machine */
	SNAP_SEC_HART = 3,    /* struct cpu_state, id = hart */
	SNAP_SEC_PLIC = 4,
	SNAP_SEC_CLINT = 5,
	SNAP_SEC_UART = 6,
	SNAP_SEC_RTC = 7,
	SNAP_SEC_VIRTIO = 8,	 /* struct virtio_mmio_state, id = slot */
	SNAP_SEC_VIRTIO_DEV = 9, /* device-specific state, id = slot */
	SNAP_SEC_MEMORY = 10,	 /* guest RAM, page-aligned, sparse */
	SNAP_SEC_END = 0x454e44, /* "END" */
};

struct snap_file_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size; /* sizeof(struct snap_file_header) */
	uint64_t flags;	      /* none defined: must be 0 */
	uint32_t reserved;
	uint32_t crc; /* CRC32 of this header with crc = 0 */
};

struct snap_section_header {
	uint32_t type;
	uint32_t id;
	uint64_t length;      /* payload bytes */
	uint64_t data_offset; /* from this header's start to the payload (memory: page-aligned in
				 the file) */
	uint32_t data_crc;    /* CRC32 of the payload (memory: of its non-zero pages, in order) */
	uint32_t crc;	      /* CRC32 of this header with crc = 0 */
};

struct snap_machine {
	uint64_t guest_ticks; /* the guest clock (mtime) at the save */
	uint64_t mem_base, mem_size;
	uint32_t nharts, nslots;
	uint32_t device_id[8]; /* per virtio slot, 0: empty */
};

/* ---- Writing ---- */
struct snap_writer {
	int fd;
	uint64_t pos;
};

/* Start a snapshot on 'fd' (an empty file or a stream) with the file header. */
int snap_writer_begin(struct snap_writer *w, int fd, struct verr *err);
int snap_write_section(struct snap_writer *w, uint32_t type, uint32_t id, const void *data,
		       uint64_t len, struct verr *err);
/* Guest RAM at a page boundary of the file; zero pages are left as holes. */
int snap_write_memory(struct snap_writer *w, const uint8_t *mem, uint64_t size, struct verr *err);
/* The END section; the file is complete after it. */
int snap_writer_end(struct snap_writer *w, struct verr *err);

/* ---- Reading ---- */
struct snap_section {
	uint32_t type, id;
	uint64_t length;
	uint64_t file_offset; /* of the payload */
	uint32_t data_crc;
	void *data; /* the payload, read and checked; NULL for memory */
};

struct snap_reader {
	int fd;
	uint64_t file_size;
	unsigned n;
	struct snap_section sec[SNAP_MAX_SECTIONS];
};

/*
 * Open and check a snapshot: header, version, every section header, every
 * state section's CRC, the END section.  Guest memory is not read (it is
 * mapped lazily); snap_verify_memory() checks it.  0 or -errno, err says why.
 */
int snap_reader_open(struct snap_reader *r, const char *path, struct verr *err);
void snap_reader_close(struct snap_reader *r);
/* The section of that type and id, or NULL. */
const struct snap_section *snap_find(const struct snap_reader *r, uint32_t type, uint32_t id);
/* A state section that must be there with exactly 'len' bytes; NULL with err filled otherwise. */
const void *snap_need(const struct snap_reader *r, uint32_t type, uint32_t id, uint64_t len,
		      const char *what, struct verr *err);
/* Read the memory section through and check its CRC. */
int snap_verify_memory(const struct snap_reader *r, struct verr *err);

uint32_t snap_crc32(uint32_t crc, const void *data, size_t len);
/* Whether a page holds only zero bytes. */
bool snap_page_is_zero(const uint8_t *p);

#endif
