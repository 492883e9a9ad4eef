/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM: one anonymous host mapping (MAP_NORESERVE, so untouched RAM
 * costs nothing) and an optional dirty-page log for snapshots and migration.
 *
 * Every access a device makes to guest memory goes through guest_mem_ptr()
 * or the read/write helpers below, which check that the whole range lies in
 * RAM without overflow.  Addresses and lengths come from the guest and are
 * hostile until checked here.
 */
#ifndef VESSEL_MACHINE_GUEST_MEM_H
#define VESSEL_MACHINE_GUEST_MEM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_PAGE_SHIFT 12
#define GUEST_PAGE_SIZE	 (1ull << GUEST_PAGE_SHIFT)

struct guest_mem {
	uint8_t *host;		 /* host address of guest-physical 'base' */
	uint64_t base;		 /* guest-physical address of the first byte */
	uint64_t size;		 /* bytes, a multiple of GUEST_PAGE_SIZE */
	_Atomic uint64_t *dirty; /* one bit per page; NULL until logging starts */
	atomic_bool dirty_log;	 /* set while dirty pages are being logged */
};

int guest_mem_init(struct guest_mem *m, uint64_t base, uint64_t size);
void guest_mem_destroy(struct guest_mem *m);

/* True when [gpa, gpa+len) lies wholly inside RAM. */
static inline bool guest_mem_contains(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t off = gpa - m->base;
	return gpa >= m->base && off <= m->size && len <= m->size - off;
}

/* Host pointer for reading [gpa, gpa+len), or NULL if not all in RAM. */
static inline void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (!guest_mem_contains(m, gpa, len))
		return NULL;
	return m->host + (gpa - m->base);
}

/* Mark the pages of [gpa, gpa+len) dirty (the range must be in RAM). */
void guest_mem_mark_dirty_slow(struct guest_mem *m, uint64_t gpa, uint64_t len);

static inline void guest_mem_mark_dirty(struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (atomic_load_explicit(&m->dirty_log, memory_order_relaxed))
		guest_mem_mark_dirty_slow(m, gpa, len);
}

/* Host pointer for writing [gpa, gpa+len): checks the range and logs the pages dirty. */
static inline void *guest_mem_ptr_w(struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(m, gpa, len);
	if (p)
		guest_mem_mark_dirty(m, gpa, len);
	return p;
}

/* Copy helpers: 0 on success, -EFAULT if the range is not all in RAM. */
int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *buf, size_t len);
int guest_mem_write(struct guest_mem *m, uint64_t gpa, const void *buf, size_t len);

/*
 * Dirty logging.  Starting it clears the log.  Harts log a page when they
 * cache its write translation, so after starting the log and after every
 * fetch the caller must make each hart drop its cached write translations
 * (cpu_flush_write_tlb): the next store to each page then logs it again.
 */
int guest_mem_dirty_log_start(struct guest_mem *m);
void guest_mem_dirty_log_stop(struct guest_mem *m);
/* Copy out and clear the log: bitmap must hold size/4096 bits. */
void guest_mem_dirty_log_fetch(struct guest_mem *m, uint64_t *bitmap);

#endif
