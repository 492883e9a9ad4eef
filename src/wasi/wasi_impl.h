/* SPDX-License-Identifier: MIT */
/*
 * WASI internals shared by the files of src/wasi/: the descriptor table, the
 * ABI constants of wasi_snapshot_preview1 (wasm32 layout, little-endian), and
 * helpers that check every guest pointer before it is touched.
 */
#ifndef VESSEL_WASI_WASI_IMPL_H
#define VESSEL_WASI_WASI_IMPL_H

#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "wasi/wasi.h"

/* errno values of the WASI ABI (only those used by name). */
enum {
	WASI_ESUCCESS = 0,
	WASI_E2BIG = 1,
	WASI_EBADF = 8,
	WASI_EEXIST = 20,
	WASI_EFAULT = 21,
	WASI_EINVAL = 28,
	WASI_EIO = 29,
	WASI_EISDIR = 31,
	WASI_ELOOP = 32,
	WASI_EMFILE = 33,
	WASI_ENAMETOOLONG = 37,
	WASI_ENOENT = 44,
	WASI_ENOMEM = 48,
	WASI_ENOSYS = 52,
	WASI_ENOTDIR = 54,
	WASI_ENOTSUP = 58,
	WASI_EOVERFLOW = 61,
	WASI_EPERM = 63,
	WASI_ESPIPE = 70,
	WASI_ENOTCAPABLE = 76,
};

enum {
	WASI_FILETYPE_UNKNOWN = 0,
	WASI_FILETYPE_BLOCK_DEVICE = 1,
	WASI_FILETYPE_CHARACTER_DEVICE = 2,
	WASI_FILETYPE_DIRECTORY = 3,
	WASI_FILETYPE_REGULAR_FILE = 4,
	WASI_FILETYPE_SOCKET_DGRAM = 5,
	WASI_FILETYPE_SOCKET_STREAM = 6,
	WASI_FILETYPE_SYMBOLIC_LINK = 7,
};

/* Rights: bit n of a 64-bit mask. */
#define WASI_RIGHT_FD_DATASYNC		   (1ull << 0)
#define WASI_RIGHT_FD_READ		   (1ull << 1)
#define WASI_RIGHT_FD_SEEK		   (1ull << 2)
#define WASI_RIGHT_FD_FDSTAT_SET_FLAGS	   (1ull << 3)
#define WASI_RIGHT_FD_SYNC		   (1ull << 4)
#define WASI_RIGHT_FD_TELL		   (1ull << 5)
#define WASI_RIGHT_FD_WRITE		   (1ull << 6)
#define WASI_RIGHT_FD_ADVISE		   (1ull << 7)
#define WASI_RIGHT_FD_ALLOCATE		   (1ull << 8)
#define WASI_RIGHT_PATH_CREATE_DIRECTORY   (1ull << 9)
#define WASI_RIGHT_PATH_CREATE_FILE	   (1ull << 10)
#define WASI_RIGHT_PATH_LINK_SOURCE	   (1ull << 11)
#define WASI_RIGHT_PATH_LINK_TARGET	   (1ull << 12)
#define WASI_RIGHT_PATH_OPEN		   (1ull << 13)
#define WASI_RIGHT_FD_READDIR		   (1ull << 14)
#define WASI_RIGHT_PATH_READLINK	   (1ull << 15)
#define WASI_RIGHT_PATH_RENAME_SOURCE	   (1ull << 16)
#define WASI_RIGHT_PATH_RENAME_TARGET	   (1ull << 17)
#define WASI_RIGHT_PATH_FILESTAT_GET	   (1ull << 18)
#define WASI_RIGHT_PATH_FILESTAT_SET_SIZE  (1ull << 19)
#define WASI_RIGHT_PATH_FILESTAT_SET_TIMES (1ull << 20)
#define WASI_RIGHT_FD_FILESTAT_GET	   (1ull << 21)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE	   (1ull << 22)
#define WASI_RIGHT_FD_FILESTAT_SET_TIMES   (1ull << 23)
#define WASI_RIGHT_PATH_SYMLINK		   (1ull << 24)
#define WASI_RIGHT_PATH_REMOVE_DIRECTORY   (1ull << 25)
#define WASI_RIGHT_PATH_UNLINK_FILE	   (1ull << 26)
#define WASI_RIGHT_POLL_FD_READWRITE	   (1ull << 27)

/* What an open file may be granted, and what a directory may. */
#define WASI_RIGHTS_FILE                                                                           \
	(WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK |                        \
	 WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_TELL |                \
	 WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ADVISE | WASI_RIGHT_FD_ALLOCATE |                     \
	 WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_SIZE |                            \
	 WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_DIR                                                                            \
	(WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_ADVISE |              \
	 WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE |                          \
	 WASI_RIGHT_PATH_LINK_SOURCE | WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_OPEN |        \
	 WASI_RIGHT_FD_READDIR | WASI_RIGHT_PATH_READLINK | WASI_RIGHT_PATH_RENAME_SOURCE |        \
	 WASI_RIGHT_PATH_RENAME_TARGET | WASI_RIGHT_PATH_FILESTAT_GET |                            \
	 WASI_RIGHT_PATH_FILESTAT_SET_SIZE | WASI_RIGHT_PATH_FILESTAT_SET_TIMES |                  \
	 WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_PATH_SYMLINK | \
	 WASI_RIGHT_PATH_REMOVE_DIRECTORY | WASI_RIGHT_PATH_UNLINK_FILE |                          \
	 WASI_RIGHT_POLL_FD_READWRITE)
/* Rights that need the host descriptor open for writing. */
#define WASI_RIGHTS_WRITING                                                                        \
	(WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE | WASI_RIGHT_FD_FILESTAT_SET_SIZE |          \
	 WASI_RIGHT_FD_DATASYNC)

/* fdflags */
#define WASI_FDFLAG_APPEND   1u
#define WASI_FDFLAG_DSYNC    2u
#define WASI_FDFLAG_NONBLOCK 4u
#define WASI_FDFLAG_RSYNC    8u
#define WASI_FDFLAG_SYNC     16u
/* oflags */
#define WASI_O_CREAT	 1u
#define WASI_O_DIRECTORY 2u
#define WASI_O_EXCL	 4u
#define WASI_O_TRUNC	 8u
/* lookupflags */
#define WASI_LOOKUP_SYMLINK_FOLLOW 1u
/* fstflags */
#define WASI_FST_ATIM	  1u
#define WASI_FST_ATIM_NOW 2u
#define WASI_FST_MTIM	  4u
#define WASI_FST_MTIM_NOW 8u

/* Descriptors: the guest's numbers index this table. */
#define WASI_MAX_FDS 1024

struct wasi_fd {
	int host; /* host descriptor, -1 when the slot is free */
	uint8_t type;
	uint16_t flags; /* fdflags as last set */
	uint64_t rights, inheriting;
	char *preopen;	  /* the name a granted directory is visible under, else NULL */
	DIR *dir;	  /* fd_readdir's stream (its own descriptor) */
	uint64_t dir_pos; /* cookie of the entry 'dir' reads next */
};

struct wasi {
	char **argv, **env;
	uint32_t argc, envc;
	struct wasi_fd *fds;
	uint32_t nfds; /* slots in use or free below this */
	struct wasi_binding *bindings;
	int64_t deadline; /* CLOCK_MONOTONIC ns at which sleeping stops; INT64_MAX: never */
};

/* One host function call: the instance's memory and the WASI state. */
struct wasi_call {
	struct wasi *w;
	struct wasm_call *call;
	struct wasm_memory *mem;
};

/* A guest range [addr, addr+len) as a host pointer, or NULL when it is not all inside memory. */
static inline uint8_t *wasi_mem(const struct wasi_call *c, uint64_t addr, uint64_t len)
{
	if (!c->mem || wasm_memory_check(c->mem, addr, len))
		return NULL;
	return wasm_memory_data(c->mem) + addr;
}

static inline void wasi_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void wasi_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void wasi_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t wasi_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t wasi_get_u64(const uint8_t *p)
{
	return (uint64_t)wasi_get_u32(p) | (uint64_t)wasi_get_u32(p + 4) << 32;
}

static inline uint16_t wasi_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Store a u32/u64 result at a guest address; WASI errno. */
int wasi_store_u32(const struct wasi_call *c, uint32_t addr, uint32_t v);
int wasi_store_u64(const struct wasi_call *c, uint32_t addr, uint64_t v);

/* The sandbox's "path leads outside the granted directory" (not a host errno value). */
#define WASI_HOST_ENOTCAPABLE 4096

/* A host errno (positive) as a WASI errno. */
int wasi_errno(int host_errno);

/* Descriptor 'fd' when it is open and has all of 'rights'; NULL with *e set otherwise. */
struct wasi_fd *wasi_fd_get(struct wasi *w, uint32_t fd, uint64_t rights, int *e);
/* Put a host descriptor into the lowest free slot; returns the slot or -WASI errno. */
int wasi_fd_install(struct wasi *w, int host, uint8_t type, uint64_t rights, uint64_t inheriting);
void wasi_fd_release(struct wasi_fd *f);
uint8_t wasi_filetype(mode_t mode);
/* WASI atim/mtim/fstflags as utimensat's pair; WASI errno. */
int wasi_times(uint64_t atim, uint64_t mtim, uint32_t fstflags, struct timespec ts[2]);
/* A struct stat as a WASI filestat (64 bytes at p). */
void wasi_filestat_put(uint8_t *p, const struct stat *st);

/* ---- sandboxed path resolution (sandbox.c) ---- */
/* Open 'path' beneath directory 'base' with open(2) 'flags'; the last component is
 * followed when it is a symlink only if 'follow'.  Returns a host fd or -errno. */
int wasi_sandbox_open(int base, const char *path, int flags, mode_t mode, int follow);
/* The directory holding the last component of 'path', opened O_PATH beneath 'base', with
 * that component copied to name[WASI_NAME_BUF].  The last component is not followed; a
 * path ending in "." or ".." names the directory itself and gives name ".".  Returns the
 * directory's fd or -errno. */
#define WASI_NAME_BUF 256
int wasi_sandbox_parent(int base, const char *path, char *name);

/* ---- host functions, by file ---- */
typedef int (*wasi_handler)(struct wasi_call *c, const struct wasm_val *a);

struct wasi_import {
	const char *name;
	const char *params; /* 'i' i32, 'I' i64 */
	const char *results;
	wasi_handler fn;
};

/* Tables of the functions each file implements, ending with a NULL name. */
extern const struct wasi_import wasi_imports_proc[];
extern const struct wasi_import wasi_imports_fd[];
extern const struct wasi_import wasi_imports_path[];

/* Handlers return these (not WASI errnos) to end the call: proc_exit, and poll_oneoff
 * woken by the run's time limit. */
#define WASI_EXIT_REQUEST  (-1)
#define WASI_LIMIT_REACHED (-2)

#endif
