/* SPDX-License-Identifier: MIT */
/*
 * Loading the boot images into guest RAM, laid out as QEMU's virt board
 * does: firmware at the start of RAM, the kernel at the next 2 MiB boundary
 * after it (0x80200000 for OpenSBI), the device tree in the last 2 MiB-aligned
 * block below min(end of RAM, RAM base + 3 GiB), the initrd just below the
 * device tree.  The firmware gets OpenSBI's fw_dynamic information block.
 */
#ifndef VESSEL_MACHINE_BOOT_H
#define VESSEL_MACHINE_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem;
struct verr;

/* OpenSBI's struct fw_dynamic_info (version 2), all fields XLEN wide. */
#define FW_DYNAMIC_INFO_MAGIC	0x4942534full
#define FW_DYNAMIC_INFO_VERSION 2
#define FW_DYNAMIC_NEXT_MODE_S	1

struct fw_dynamic_info {
	uint64_t magic;
	uint64_t version;
	uint64_t next_addr;
	uint64_t next_mode;
	uint64_t options;
	uint64_t boot_hart;
};

struct boot_layout {
	uint64_t fw_entry, fw_start, fw_end;
	uint64_t kernel_addr, kernel_end;  /* kernel_end == kernel_addr: no kernel */
	uint64_t initrd_start, initrd_end; /* equal: no initrd */
	uint64_t dtb_addr;
	uint64_t dtb_limit; /* the device tree must end below this */
	uint64_t info_addr; /* struct fw_dynamic_info */
};

/*
 * Each returns 0 or -errno with err filled ("<what> <path>: <why>").
 * Call in this order: firmware, kernel, initrd, then boot_place_dtb().
 */
int boot_load_firmware(struct guest_mem *mem, const char *path, struct boot_layout *bl,
		       struct verr *err);
int boot_load_kernel(struct guest_mem *mem, const char *path, struct boot_layout *bl,
		     struct verr *err);
int boot_load_initrd(struct guest_mem *mem, const char *path, struct boot_layout *bl,
		     struct verr *err);
/* Copy the device tree to bl->dtb_addr and the fw_dynamic_info after it. */
int boot_place_dtb(struct guest_mem *mem, const void *dtb, size_t size, struct boot_layout *bl,
		   struct verr *err);

/* Where the device tree will go; fixed before the tree is built (it names the initrd). */
void boot_plan(const struct guest_mem *mem, struct boot_layout *bl);

#endif
