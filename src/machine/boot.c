/* SPDX-License-Identifier: MIT */
#include "machine/boot.h"

#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine/fdt.h"
#include "machine/guest_mem.h"
#include "util/log.h"

#define MiB		  (1024ull * 1024)
#define GiB		  (1024 * MiB)
#define BOOT_KERNEL_ALIGN (2 * MiB)
#define BOOT_DTB_ALIGN	  (2 * MiB)
#define BOOT_DTB_WINDOW	  (3 * GiB) /* keep the tree in the first 3 GiB of RAM */
#define BOOT_INITRD_ALIGN 4096
#define BOOT_IMAGE_MAGIC  "RISCV\0\0\0"
#define BOOT_IMAGE_MAGIC2 "RSC\x05"

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static uint64_t ram_end(const struct guest_mem *mem)
{
	return mem->base + mem->size;
}

/* An open image file and its size; at most 'max' bytes, not empty. */
struct image {
	const char *what, *path;
	int fd;
	uint64_t size;
};

static int image_open(struct image *im, const char *what, const char *path, uint64_t max,
		      struct verr *err)
{
	*im = (struct image){.what = what, .path = path, .fd = -1};
	im->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (im->fd < 0)
		return verr_set(err, errno, "%s %s: %s", what, path, strerror(errno));
	struct stat st;
	int e = 0;
	if (fstat(im->fd, &st) < 0)
		e = verr_set(err, errno, "%s %s: %s", what, path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		e = verr_set(err, EINVAL, "%s %s: not a regular file", what, path);
	else if (st.st_size == 0)
		e = verr_set(err, EINVAL, "%s %s: file is empty", what, path);
	else if ((uint64_t)st.st_size > max)
		e = verr_set(err, EFBIG, "%s %s: %lld bytes do not fit in guest RAM", what, path,
			     (long long)st.st_size);
	if (e) {
		close(im->fd);
		im->fd = -1;
		return e;
	}
	im->size = (uint64_t)st.st_size;
	return 0;
}

static void image_close(struct image *im)
{
	if (im->fd >= 0)
		close(im->fd);
	im->fd = -1;
}

static int image_pread(struct image *im, void *buf, uint64_t len, uint64_t off, struct verr *err)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = pread(im->fd, p, len > (1u << 30) ? (1u << 30) : len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return verr_set(err, errno, "%s %s: %s", im->what, im->path,
					strerror(errno));
		if (n == 0)
			return verr_set(err, EIO, "%s %s: file shrank while reading", im->what,
					im->path);
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* Read [off, off+len) of the file to guest address gpa, which must be in RAM. */
static int image_to_guest(struct image *im, struct guest_mem *mem, uint64_t gpa, uint64_t off,
			  uint64_t len, struct verr *err)
{
	void *dst = guest_mem_ptr_w(mem, gpa, len);
	if (!dst)
		return verr_set(err, EFBIG, "%s %s: does not fit in guest RAM at 0x%llx", im->what,
				im->path, (unsigned long long)gpa);
	return image_pread(im, dst, len, off, err);
}

static const char *elf_machine_name(unsigned m)
{
	switch (m) {
	case EM_X86_64:
		return "x86-64";
	case EM_386:
		return "i386";
	case EM_AARCH64:
		return "AArch64";
	case EM_ARM:
		return "ARM";
	case EM_PPC64:
		return "PowerPC64";
	case EM_S390:
		return "s390";
	case EM_MIPS:
		return "MIPS";
	case EM_LOONGARCH:
		return "LoongArch";
	}
	return NULL;
}

static bool image_is_elf(struct image *im)
{
	uint8_t magic[SELFMAG];
	struct verr ignore;
	return im->size >= SELFMAG && !image_pread(im, magic, SELFMAG, 0, &ignore) &&
	       !memcmp(magic, ELFMAG, SELFMAG);
}

/* Check the ELF header: 64-bit little-endian RISC-V executable. */
static int elf_check_header(struct image *im, Elf64_Ehdr *eh, struct verr *err)
{
	if (im->size < sizeof(*eh))
		return verr_set(err, ENOEXEC, "%s %s: truncated ELF header", im->what, im->path);
	int r = image_pread(im, eh, sizeof(*eh), 0, err);
	if (r)
		return r;
	if (eh->e_ident[EI_DATA] == ELFDATA2LSB && eh->e_machine != EM_RISCV) {
		const char *name = elf_machine_name(eh->e_machine);
		if (name)
			return verr_set(err, ENOEXEC, "%s %s: ELF for %s, not RISC-V", im->what,
					im->path, name);
		return verr_set(err, ENOEXEC, "%s %s: ELF for machine %u, not RISC-V", im->what,
				im->path, eh->e_machine);
	}
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return verr_set(err, ENOEXEC, "%s %s: big-endian ELF, not RISC-V", im->what,
				im->path);
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return verr_set(err, ENOEXEC, "%s %s: 32-bit ELF, need a 64-bit RISC-V one",
				im->what, im->path);
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		return verr_set(err, ENOEXEC, "%s %s: ELF is not an executable", im->what,
				im->path);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phoff > im->size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > im->size - eh->e_phoff)
		return verr_set(err, ENOEXEC, "%s %s: bad ELF program header table", im->what,
				im->path);
	return 0;
}

/*
 * Load every PT_LOAD segment at its physical address.  Each must lie wholly
 * in RAM and in the file.  Returns the lowest and highest loaded addresses.
 */
static int elf_load(struct image *im, struct guest_mem *mem, uint64_t *entry, uint64_t *lo,
		    uint64_t *hi, struct verr *err)
{
	Elf64_Ehdr eh;
	int r = elf_check_header(im, &eh, err);
	if (r)
		return r;
	Elf64_Phdr *ph = calloc(eh.e_phnum, sizeof(*ph));
	if (!ph)
		return verr_set(err, ENOMEM, "%s %s: out of memory", im->what, im->path);
	r = image_pread(im, ph, eh.e_phnum * sizeof(*ph), eh.e_phoff, err);
	*lo = UINT64_MAX;
	*hi = 0;
	for (unsigned i = 0; !r && i < eh.e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		if (p->p_filesz > p->p_memsz || p->p_offset > im->size ||
		    p->p_filesz > im->size - p->p_offset) {
			r = verr_set(err, ENOEXEC, "%s %s: segment %u lies outside the file",
				     im->what, im->path, i);
		} else if (!guest_mem_contains(mem, p->p_paddr, p->p_memsz)) {
			r = verr_set(err, ENOEXEC,
				     "%s %s: segment %u at 0x%llx (0x%llx bytes) is outside guest "
				     "RAM 0x%llx-0x%llx",
				     im->what, im->path, i, (unsigned long long)p->p_paddr,
				     (unsigned long long)p->p_memsz, (unsigned long long)mem->base,
				     (unsigned long long)ram_end(mem) - 1);
		} else {
			r = image_to_guest(im, mem, p->p_paddr, p->p_offset, p->p_filesz, err);
			if (!r) {
				void *bss = guest_mem_ptr_w(mem, p->p_paddr + p->p_filesz,
							    p->p_memsz - p->p_filesz);
				memset(bss, 0, p->p_memsz - p->p_filesz);
			}
			if (p->p_paddr < *lo)
				*lo = p->p_paddr;
			if (p->p_paddr + p->p_memsz > *hi)
				*hi = p->p_paddr + p->p_memsz;
		}
	}
	free(ph);
	if (!r && *hi == 0)
		r = verr_set(err, ENOEXEC, "%s %s: ELF has nothing to load", im->what, im->path);
	*entry = eh.e_entry;
	return r;
}

int boot_load_firmware(struct guest_mem *mem, const char *path, struct boot_layout *bl,
		       struct verr *err)
{
	struct image im;
	int r = image_open(&im, "firmware", path, mem->size, err);
	if (r)
		return r;
	if (image_is_elf(&im)) {
		uint64_t entry;
		r = elf_load(&im, mem, &entry, &bl->fw_start, &bl->fw_end, err);
		if (!r && (entry < bl->fw_start || entry >= bl->fw_end))
			r = verr_set(err, ENOEXEC,
				     "firmware %s: entry point 0x%llx not in a segment", path,
				     (unsigned long long)entry);
		bl->fw_entry = entry;
	} else {
		bl->fw_start = bl->fw_entry = mem->base;
		bl->fw_end = mem->base + im.size;
		r = image_to_guest(&im, mem, mem->base, 0, im.size, err);
	}
	image_close(&im);
	/* The kernel goes at the next 2 MiB boundary, as on QEMU. */
	bl->kernel_addr = bl->kernel_end = align_up(bl->fw_end, BOOT_KERNEL_ALIGN);
	return r;
}

/* A Linux RISC-V Image header: how much memory the kernel needs, or 0 if not an Image. */
static uint64_t image_linux_size(struct image *im)
{
	uint8_t h[64];
	struct verr ignore;
	if (im->size < sizeof(h) || image_pread(im, h, sizeof(h), 0, &ignore))
		return 0;
	if (memcmp(h + 48, BOOT_IMAGE_MAGIC, 8) || memcmp(h + 56, BOOT_IMAGE_MAGIC2, 4))
		return 0;
	uint64_t size;
	memcpy(&size, h + 16, sizeof(size));
	return le64toh(size);
}

int boot_load_kernel(struct guest_mem *mem, const char *path, struct boot_layout *bl,
		     struct verr *err)
{
	struct image im;
	int r = image_open(&im, "kernel", path, mem->size, err);
	if (r)
		return r;
	if (image_is_elf(&im)) {
		uint64_t entry, lo, hi;
		r = elf_load(&im, mem, &entry, &lo, &hi, err);
		if (!r && lo < bl->fw_end && hi > bl->fw_start)
			r = verr_set(err, EINVAL, "kernel %s: overlaps the firmware", path);
		/* Entered at its lowest physical address, as QEMU does. */
		bl->kernel_addr = lo;
		bl->kernel_end = hi;
	} else {
		uint64_t need = image_linux_size(&im);
		if (need < im.size)
			need = im.size;
		if (!guest_mem_contains(mem, bl->kernel_addr, need))
			r = verr_set(err, EFBIG,
				     "kernel %s: needs %llu bytes at 0x%llx, more than guest RAM",
				     path, (unsigned long long)need,
				     (unsigned long long)bl->kernel_addr);
		else
			r = image_to_guest(&im, mem, bl->kernel_addr, 0, im.size, err);
		bl->kernel_end = bl->kernel_addr + need;
	}
	image_close(&im);
	return r;
}

void boot_plan(const struct guest_mem *mem, struct boot_layout *bl)
{
	uint64_t top = ram_end(mem);
	if (top - mem->base > BOOT_DTB_WINDOW)
		top = mem->base + BOOT_DTB_WINDOW;
	bl->dtb_addr = align_down(top - FDT_MAX_SIZE, BOOT_DTB_ALIGN);
	if (bl->dtb_addr < mem->base)
		bl->dtb_addr = mem->base;
	bl->dtb_limit = top;
}

/* The highest end of what is loaded below the initrd. */
static uint64_t boot_low_end(const struct boot_layout *bl)
{
	return bl->kernel_end > bl->fw_end ? bl->kernel_end : bl->fw_end;
}

int boot_load_initrd(struct guest_mem *mem, const char *path, struct boot_layout *bl,
		     struct verr *err)
{
	struct image im;
	int r = image_open(&im, "initrd", path, mem->size, err);
	if (r)
		return r;
	uint64_t end = align_down(bl->dtb_addr, BOOT_INITRD_ALIGN);
	uint64_t low = boot_low_end(bl);
	if (end < low || end - low < im.size) {
		r = verr_set(err, EFBIG,
			     "initrd %s: %llu bytes do not fit between the kernel and the device "
			     "tree (%llu bytes free; use more --memory)",
			     path, (unsigned long long)im.size,
			     (unsigned long long)(end > low ? end - low : 0));
	} else {
		bl->initrd_start = align_down(end - im.size, BOOT_INITRD_ALIGN);
		bl->initrd_end = bl->initrd_start + im.size;
		r = image_to_guest(&im, mem, bl->initrd_start, 0, im.size, err);
	}
	image_close(&im);
	return r;
}

int boot_place_dtb(struct guest_mem *mem, const void *dtb, size_t size, struct boot_layout *bl,
		   struct verr *err)
{
	bl->info_addr = align_up(bl->dtb_addr + size, 64);
	uint64_t end = bl->info_addr + sizeof(struct fw_dynamic_info);
	if (bl->dtb_addr < boot_low_end(bl) || end > bl->dtb_limit ||
	    !guest_mem_contains(mem, bl->dtb_addr, end - bl->dtb_addr))
		return verr_set(
		    err, EFBIG,
		    "device tree: no room at 0x%llx above the kernel (use more --memory)",
		    (unsigned long long)bl->dtb_addr);
	struct fw_dynamic_info info = {
	    .magic = htole64(FW_DYNAMIC_INFO_MAGIC),
	    .version = htole64(FW_DYNAMIC_INFO_VERSION),
	    .next_addr = htole64(bl->kernel_addr),
	    .next_mode = htole64(FW_DYNAMIC_NEXT_MODE_S),
	    .options = 0,
	    .boot_hart = htole64(UINT64_MAX), /* any hart may boot (lottery) */
	};
	if (guest_mem_write(mem, bl->dtb_addr, dtb, size) ||
	    guest_mem_write(mem, bl->info_addr, &info, sizeof(info)))
		return verr_set(err, EFAULT, "device tree: cannot write to guest RAM");
	return 0;
}
