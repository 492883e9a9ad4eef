/* SPDX-License-Identifier: MIT */
#include "machine/fdt.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "util/clock.h"
#include "util/log.h"

#define FDT_RNG_SEED_SIZE 64
#define FDT_CPU_ISA	  "rv64imafdc_zicsr_zifencei_zba_zbb_zbs_sstc"

uint32_t fdt_ctx_alloc_phandle(struct fdt_ctx *ctx)
{
	return ctx->next_phandle++;
}

static int fdt_set_reg(void *fdt, int node, uint64_t base, uint64_t size)
{
	uint64_t cells[2] = {cpu_to_fdt64(base), cpu_to_fdt64(size)};
	return fdt_setprop(fdt, node, "reg", cells, sizeof(cells));
}

int fdt_ctx_add_soc_node(struct fdt_ctx *ctx, const char *name)
{
	int soc = fdt_path_offset(ctx->fdt, "/soc");
	if (soc < 0)
		return soc;
	char full[64];
	snprintf(full, sizeof(full), "%s@%llx", name, (unsigned long long)ctx->region->base);
	int node = fdt_add_subnode(ctx->fdt, soc, full);
	if (node < 0)
		return node;
	int r = fdt_set_reg(ctx->fdt, node, ctx->region->base, ctx->region->size);
	return r < 0 ? r : node;
}

int fdt_ctx_set_irq(struct fdt_ctx *ctx, int node, unsigned line)
{
	int r = fdt_setprop_u32(ctx->fdt, node, "interrupts", line);
	if (r)
		return r;
	return fdt_setprop_u32(ctx->fdt, node, "interrupt-parent", ctx->plic_phandle);
}

static int fdt_add_cpu(struct fdt_ctx *ctx, int cpus, unsigned h, uint32_t cpu_ph)
{
	void *fdt = ctx->fdt;
	char name[32];
	snprintf(name, sizeof(name), "cpu@%u", h);
	int cpu = fdt_add_subnode(fdt, cpus, name);
	if (cpu < 0)
		return cpu;
	int r;
	if ((r = fdt_setprop_u32(fdt, cpu, "phandle", cpu_ph)) ||
	    (r = fdt_setprop_string(fdt, cpu, "device_type", "cpu")) ||
	    (r = fdt_setprop_u32(fdt, cpu, "reg", h)) ||
	    (r = fdt_setprop_string(fdt, cpu, "status", "okay")) ||
	    (r = fdt_setprop_string(fdt, cpu, "compatible", "riscv")) ||
	    (r = fdt_setprop_string(fdt, cpu, "riscv,isa", FDT_CPU_ISA)) ||
	    (r = fdt_setprop_string(fdt, cpu, "mmu-type", "riscv,sv48")))
		return r;
	int intc = fdt_add_subnode(fdt, cpu, "interrupt-controller");
	if (intc < 0)
		return intc;
	if ((r = fdt_setprop_u32(fdt, intc, "#interrupt-cells", 1)) ||
	    (r = fdt_setprop_empty(fdt, intc, "interrupt-controller")) ||
	    (r = fdt_setprop_string(fdt, intc, "compatible", "riscv,cpu-intc")) ||
	    (r = fdt_setprop_u32(fdt, intc, "phandle", ctx->intc_phandle[h])))
		return r;
	return 0;
}

/* /cpus with one node per hart, each with its interrupt controller, and the cpu-map. */
static int fdt_add_cpus(struct fdt_ctx *ctx)
{
	void *fdt = ctx->fdt;
	uint32_t cpu_ph[FDT_MAX_HARTS];
	int r;
	int cpus = fdt_add_subnode(fdt, 0, "cpus");
	if (cpus < 0)
		return cpus;
	if ((r = fdt_setprop_u32(fdt, cpus, "#address-cells", 1)) ||
	    (r = fdt_setprop_u32(fdt, cpus, "#size-cells", 0)) ||
	    (r = fdt_setprop_u32(fdt, cpus, "timebase-frequency", (uint32_t)TIMEBASE_HZ)))
		return r;
	/* Added in reverse: libfdt inserts each new subnode first. */
	for (unsigned i = ctx->nharts; i-- > 0;) {
		cpu_ph[i] = fdt_ctx_alloc_phandle(ctx);
		ctx->intc_phandle[i] = fdt_ctx_alloc_phandle(ctx);
	}
	int map = fdt_add_subnode(fdt, cpus, "cpu-map");
	if (map < 0)
		return map;
	int cluster = fdt_add_subnode(fdt, map, "cluster0");
	if (cluster < 0)
		return cluster;
	for (unsigned i = ctx->nharts; i-- > 0;) {
		char name[32];
		snprintf(name, sizeof(name), "core%u", i);
		int core = fdt_add_subnode(fdt, cluster, name);
		if (core < 0)
			return core;
		if ((r = fdt_setprop_u32(fdt, core, "cpu", cpu_ph[i])))
			return r;
	}
	cpus = fdt_path_offset(fdt, "/cpus");
	for (unsigned i = ctx->nharts; i-- > 0;) {
		if ((r = fdt_add_cpu(ctx, cpus, i, cpu_ph[i])))
			return r;
		cpus = fdt_path_offset(fdt, "/cpus");
	}
	return 0;
}

static int fdt_add_memory(void *fdt, const struct fdt_params *p)
{
	char name[32];
	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)p->ram_base);
	int mem = fdt_add_subnode(fdt, 0, name);
	if (mem < 0)
		return mem;
	int r = fdt_setprop_string(fdt, mem, "device_type", "memory");
	return r ? r : fdt_set_reg(fdt, mem, p->ram_base, p->ram_size);
}

static int fdt_add_chosen(void *fdt, const struct fdt_params *p)
{
	int chosen = fdt_add_subnode(fdt, 0, "chosen");
	if (chosen < 0)
		return chosen;
	int r;
	if (p->bootargs && p->bootargs[0] &&
	    (r = fdt_setprop_string(fdt, chosen, "bootargs", p->bootargs)))
		return r;
	if ((r = fdt_setprop_string(fdt, chosen, "stdout-path", "/soc/serial@10000000")))
		return r;
	if (p->initrd_end > p->initrd_start &&
	    ((r = fdt_setprop_u64(fdt, chosen, "linux,initrd-start", p->initrd_start)) ||
	     (r = fdt_setprop_u64(fdt, chosen, "linux,initrd-end", p->initrd_end))))
		return r;
	/* Entropy for the guest's early random pool, as QEMU gives. */
	uint8_t seed[FDT_RNG_SEED_SIZE];
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return -FDT_ERR_INTERNAL;
	return fdt_setprop(fdt, chosen, "rng-seed", seed, sizeof(seed));
}

static int fdt_add_root(void *fdt, const struct fdt_params *p)
{
	int r;
	if ((r = fdt_setprop_u32(fdt, 0, "#address-cells", 2)) ||
	    (r = fdt_setprop_u32(fdt, 0, "#size-cells", 2)) ||
	    (r = fdt_setprop_string(fdt, 0, "compatible", "riscv-virtio")) ||
	    (r = fdt_setprop_string(fdt, 0, "model", "riscv-virtio,vessel")))
		return r;
	int soc = fdt_add_subnode(fdt, 0, "soc");
	if (soc < 0)
		return soc;
	if ((r = fdt_setprop_u32(fdt, soc, "#address-cells", 2)) ||
	    (r = fdt_setprop_u32(fdt, soc, "#size-cells", 2)) ||
	    (r = fdt_setprop_string(fdt, soc, "compatible", "simple-bus")) ||
	    (r = fdt_setprop_empty(fdt, soc, "ranges")))
		return r;
	if ((r = fdt_add_memory(fdt, p)) || (r = fdt_add_chosen(fdt, p)))
		return r;
	return 0;
}

static int fdt_add_simple(struct fdt_ctx *ctx, const struct fdt_params *p)
{
	for (unsigned i = 0; i < p->nsimple; i++) {
		const struct fdt_simple_node *s = &p->simple[i];
		if (s->base != ctx->region->base)
			continue;
		int node = fdt_ctx_add_soc_node(ctx, s->name);
		if (node < 0)
			return node;
		int r;
		if ((r = fdt_ctx_set_irq(ctx, node, s->irq)) ||
		    (r = fdt_setprop_string(ctx->fdt, node, "compatible", s->compatible)))
			return r;
	}
	return 0;
}

int fdt_build(void *buf, const struct fdt_params *p, const struct bus *bus, struct verr *err)
{
	if (p->nharts == 0 || p->nharts > FDT_MAX_HARTS)
		return verr_set(err, EINVAL, "device tree: %u harts", p->nharts);
	struct fdt_ctx ctx = {.fdt = buf, .nharts = p->nharts, .next_phandle = 1};
	int r = fdt_create_empty_tree(buf, FDT_MAX_SIZE);
	if (!r)
		r = fdt_add_root(buf, p);
	if (!r)
		r = fdt_add_cpus(&ctx);
	ctx.plic_phandle = fdt_ctx_alloc_phandle(&ctx);
	/* Walk the bus from the top so that, with libfdt inserting each new node
	 * first, /soc lists the devices in address order. */
	for (unsigned i = bus->n; !r && i-- > 0;) {
		const struct bus_region *reg = &bus->r[i];
		ctx.region = reg;
		r = reg->ops->fdt ? reg->ops->fdt(reg->dev, &ctx) : fdt_add_simple(&ctx, p);
		if (r > 0)
			r = 0;
	}
	if (!r)
		r = fdt_pack(buf);
	if (r)
		return verr_set(err, r == -FDT_ERR_NOSPACE ? ENOSPC : EINVAL, "device tree: %s",
				fdt_strerror(r));
	return 0;
}
