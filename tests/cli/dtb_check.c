/* SPDX-License-Identifier: MIT */
/*
 * Check a device tree written by 'vessel run --dtb-out' against the VM's
 * configuration and the shape of QEMU's virt board.
 *
 *   dtb_check FILE CPUS MEMORY_BYTES BOOTARGS [INITRD_BYTES]
 *   dtb_check --compare FILE QEMU_DTB
 *
 * The second form checks that every node and property vessel generates
 * exists in QEMU's tree for the same configuration with the same value
 * (phandle numbering and a few deliberate differences aside), and that QEMU
 * has no node vessel lacks beyond the devices vessel does not model.
 */
#include <libfdt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);                                \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static void *load(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	size_t n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	if (n < sizeof(struct fdt_header) || fdt_check_header(buf) || fdt_totalsize(buf) > n) {
		free(buf);
		return NULL;
	}
	return buf;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* Properties whose values legitimately differ from QEMU's. */
static const char *const differ_value[] = {"phandle",
					   "interrupt-parent",
					   "interrupts-extended",
					   "regmap",
					   "cpu",
					   "rng-seed",
					   "model",	/* riscv-virtio,vessel */
					   "riscv,isa", /* the extensions vessel implements */
					   "riscv,ndev",
					   NULL};
/* QEMU nodes for devices vessel does not model. */
static const char *const absent_nodes[] = {
    "/pmu", "/fw-cfg@10100000", "/flash@20000000", "/platform-bus@4000000", "/soc/pci@30000000",
    NULL};

static bool compare_node(const void *ours, int off, const void *qemu)
{
	char path[256];
	if (fdt_get_path(ours, off, path, sizeof(path)))
		return false;
	int qoff = fdt_path_offset(qemu, path);
	CHECK(qoff >= 0, "%s: not in QEMU's tree", path);
	if (qoff < 0)
		return false;
	int p;
	fdt_for_each_property_offset(p, ours, off)
	{
		const char *name;
		int len, qlen;
		const void *v = fdt_getprop_by_offset(ours, p, &name, &len);
		const void *qv = fdt_getprop(qemu, qoff, name, &qlen);
		CHECK(qv, "%s: property %s not in QEMU's tree", path, name);
		if (qv && !in_list(name, differ_value))
			CHECK(len == qlen && !memcmp(v, qv, (size_t)len),
			      "%s %s: differs from QEMU", path, name);
	}
	fdt_for_each_property_offset(p, qemu, qoff)
	{
		const char *name;
		int len;
		fdt_getprop_by_offset(qemu, p, &name, &len);
		CHECK(fdt_getprop(ours, off, name, NULL) || !strcmp(name, "dma-coherent"),
		      "%s: QEMU has property %s, vessel does not", path, name);
	}
	return true;
}

static int compare_with_qemu(const void *ours, const void *qemu)
{
	int off = -1, depth = 0;
	while ((off = fdt_next_node(ours, off, &depth)) >= 0)
		compare_node(ours, off, qemu);
	off = -1;
	depth = 0;
	while ((off = fdt_next_node(qemu, off, &depth)) >= 0) {
		char path[256];
		if (fdt_get_path(qemu, off, path, sizeof(path)))
			continue;
		bool under_absent = false;
		for (const char *const *a = absent_nodes; *a; a++)
			if (!strncmp(path, *a, strlen(*a)))
				under_absent = true;
		if (!under_absent)
			CHECK(fdt_path_offset(ours, path) >= 0, "QEMU has %s, vessel does not",
			      path);
	}
	if (failures) {
		printf("%d difference(s) from QEMU\n", failures);
		return 1;
	}
	printf("same shape as QEMU's virt device tree\n");
	return 0;
}

static int node(const void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);
	CHECK(off >= 0, "node %s missing", path);
	return off;
}

static const void *prop(const void *fdt, const char *path, const char *name, int *len)
{
	int off = fdt_path_offset(fdt, path);
	if (off < 0) {
		CHECK(0, "node %s missing", path);
		return NULL;
	}
	const void *p = fdt_getprop(fdt, off, name, len);
	CHECK(p, "%s: property %s missing", path, name);
	return p;
}

static void expect_str(const void *fdt, const char *path, const char *name, const char *want)
{
	int len;
	const char *p = prop(fdt, path, name, &len);
	if (p)
		CHECK(len == (int)strlen(want) + 1 && !memcmp(p, want, (size_t)len),
		      "%s %s: want \"%s\", got \"%.*s\"", path, name, want, len, p);
}

/* A string list, NULs included. */
static void expect_strlist(const void *fdt, const char *path, const char *name, const char *want,
			   int wlen)
{
	int len;
	const char *p = prop(fdt, path, name, &len);
	if (p)
		CHECK(len == wlen && !memcmp(p, want, (size_t)len), "%s %s: wrong string list",
		      path, name);
}

static uint32_t get_u32(const void *fdt, const char *path, const char *name)
{
	int len;
	const fdt32_t *p = prop(fdt, path, name, &len);
	if (!p)
		return 0;
	CHECK(len == 4, "%s %s: length %d", path, name, len);
	return fdt32_to_cpu(*p);
}

static void expect_u32(const void *fdt, const char *path, const char *name, uint32_t want)
{
	uint32_t v = get_u32(fdt, path, name);
	CHECK(v == want, "%s %s: want 0x%x, got 0x%x", path, name, want, v);
}

static uint64_t get_u64(const void *fdt, const char *path, const char *name)
{
	int len;
	const void *p = prop(fdt, path, name, &len);
	if (!p || len != 8) {
		CHECK(0, "%s %s: not 8 bytes", path, name);
		return 0;
	}
	return fdt64_ld(p); /* properties are only 4-byte aligned */
}

static void expect_reg(const void *fdt, const char *path, uint64_t base, uint64_t size)
{
	int len;
	const fdt32_t *p = prop(fdt, path, "reg", &len);
	if (!p)
		return;
	CHECK(len == 16, "%s reg: length %d", path, len);
	if (len != 16)
		return;
	uint64_t b = ((uint64_t)fdt32_to_cpu(p[0]) << 32) | fdt32_to_cpu(p[1]);
	uint64_t s = ((uint64_t)fdt32_to_cpu(p[2]) << 32) | fdt32_to_cpu(p[3]);
	CHECK(b == base && s == size, "%s reg: want 0x%llx+0x%llx, got 0x%llx+0x%llx", path,
	      (unsigned long long)base, (unsigned long long)size, (unsigned long long)b,
	      (unsigned long long)s);
}

static void expect_device(const void *fdt, const char *path, uint64_t base, uint64_t size,
			  unsigned irq, uint32_t plic)
{
	expect_reg(fdt, path, base, size);
	expect_u32(fdt, path, "interrupts", irq);
	expect_u32(fdt, path, "interrupt-parent", plic);
}

/* interrupts-extended = <intc[h] a intc[h] b> for every hart. */
static void expect_irqs_ext(const void *fdt, const char *path, unsigned ncpus, const uint32_t *intc,
			    uint32_t a, uint32_t b)
{
	int len;
	const fdt32_t *p = prop(fdt, path, "interrupts-extended", &len);
	if (!p)
		return;
	CHECK(len == (int)(16 * ncpus), "%s interrupts-extended: length %d for %u harts", path, len,
	      ncpus);
	if (len != (int)(16 * ncpus))
		return;
	for (unsigned h = 0; h < ncpus; h++)
		CHECK(fdt32_to_cpu(p[4 * h]) == intc[h] && fdt32_to_cpu(p[4 * h + 1]) == a &&
			  fdt32_to_cpu(p[4 * h + 2]) == intc[h] && fdt32_to_cpu(p[4 * h + 3]) == b,
		      "%s interrupts-extended: hart %u wrong", path, h);
}

static void check_cpus(const void *fdt, unsigned ncpus, uint32_t *intc)
{
	expect_u32(fdt, "/cpus", "timebase-frequency", 10000000);
	expect_u32(fdt, "/cpus", "#address-cells", 1);
	expect_u32(fdt, "/cpus", "#size-cells", 0);
	char path[128];
	for (unsigned h = 0; h < ncpus; h++) {
		snprintf(path, sizeof(path), "/cpus/cpu@%u", h);
		expect_str(fdt, path, "device_type", "cpu");
		expect_str(fdt, path, "compatible", "riscv");
		expect_str(fdt, path, "status", "okay");
		expect_str(fdt, path, "mmu-type", "riscv,sv48");
		expect_str(fdt, path, "riscv,isa", "rv64imafdc_zicsr_zifencei_zba_zbb_zbs_sstc");
		expect_u32(fdt, path, "reg", h);
		uint32_t cpu_ph = get_u32(fdt, path, "phandle");
		snprintf(path, sizeof(path), "/cpus/cpu@%u/interrupt-controller", h);
		expect_str(fdt, path, "compatible", "riscv,cpu-intc");
		expect_u32(fdt, path, "#interrupt-cells", 1);
		int len;
		prop(fdt, path, "interrupt-controller", &len);
		intc[h] = get_u32(fdt, path, "phandle");
		CHECK(intc[h] != 0 && cpu_ph != 0 && intc[h] != cpu_ph, "hart %u phandles", h);
		snprintf(path, sizeof(path), "/cpus/cpu-map/cluster0/core%u", h);
		expect_u32(fdt, path, "cpu", cpu_ph);
	}
	snprintf(path, sizeof(path), "/cpus/cpu@%u", ncpus);
	CHECK(fdt_path_offset(fdt, path) < 0, "%s exists but only %u cpus", path, ncpus);
	int n = 0, off;
	fdt_for_each_subnode(off, fdt, fdt_path_offset(fdt, "/cpus")) n++;
	CHECK(n == (int)ncpus + 1, "/cpus has %d children, want %u cpus + cpu-map", n, ncpus);
}

static void check_soc(const void *fdt, unsigned ncpus, const uint32_t *intc)
{
	expect_strlist(fdt, "/soc", "compatible", "simple-bus", sizeof("simple-bus"));
	uint32_t plic = get_u32(fdt, "/soc/plic@c000000", "phandle");
	static const char plic_compat[] = "sifive,plic-1.0.0\0riscv,plic0";
	expect_strlist(fdt, "/soc/plic@c000000", "compatible", plic_compat, sizeof(plic_compat));
	expect_reg(fdt, "/soc/plic@c000000", 0xc000000, 0x600000);
	expect_u32(fdt, "/soc/plic@c000000", "riscv,ndev", 95);
	expect_u32(fdt, "/soc/plic@c000000", "#interrupt-cells", 1);
	expect_irqs_ext(fdt, "/soc/plic@c000000", ncpus, intc, 11, 9);
	static const char clint_compat[] = "sifive,clint0\0riscv,clint0";
	expect_strlist(fdt, "/soc/clint@2000000", "compatible", clint_compat, sizeof(clint_compat));
	expect_reg(fdt, "/soc/clint@2000000", 0x2000000, 0x10000);
	expect_irqs_ext(fdt, "/soc/clint@2000000", ncpus, intc, 3, 7);

	expect_str(fdt, "/soc/serial@10000000", "compatible", "ns16550a");
	expect_device(fdt, "/soc/serial@10000000", 0x10000000, 0x100, 10, plic);
	expect_u32(fdt, "/soc/serial@10000000", "clock-frequency", 3686400);
	expect_str(fdt, "/soc/rtc@101000", "compatible", "google,goldfish-rtc");
	expect_device(fdt, "/soc/rtc@101000", 0x101000, 0x1000, 11, plic);
	for (unsigned i = 0; i < 8; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/soc/virtio_mmio@%x", 0x10001000 + i * 0x1000);
		expect_str(fdt, path, "compatible", "virtio,mmio");
		expect_device(fdt, path, 0x10001000 + i * 0x1000, 0x1000, 1 + i, plic);
	}
	static const char test_compat[] = "sifive,test1\0sifive,test0\0syscon";
	expect_strlist(fdt, "/soc/test@100000", "compatible", test_compat, sizeof(test_compat));
	expect_reg(fdt, "/soc/test@100000", 0x100000, 0x1000);
	uint32_t test = get_u32(fdt, "/soc/test@100000", "phandle");
	expect_str(fdt, "/poweroff", "compatible", "syscon-poweroff");
	expect_u32(fdt, "/poweroff", "regmap", test);
	expect_u32(fdt, "/poweroff", "offset", 0);
	expect_u32(fdt, "/poweroff", "value", 0x5555);
	expect_str(fdt, "/reboot", "compatible", "syscon-reboot");
	expect_u32(fdt, "/reboot", "regmap", test);
	expect_u32(fdt, "/reboot", "value", 0x7777);
	CHECK(test != plic && test && plic, "phandles of test device and PLIC");
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--compare")) {
		void *ours = load(argv[2]), *qemu = load(argv[3]);
		int r = 1;
		if (ours && qemu)
			r = compare_with_qemu(ours, qemu);
		else
			printf("FAIL: cannot read %s or %s as a device tree\n", argv[2], argv[3]);
		free(ours);
		free(qemu);
		return r;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: dtb_check FILE CPUS MEMORY BOOTARGS [INITRD_BYTES]\n");
		return 2;
	}
	void *fdt = load(argv[1]);
	if (!fdt) {
		printf("FAIL: %s is not a device tree\n", argv[1]);
		return 1;
	}
	unsigned ncpus = (unsigned)strtoul(argv[2], NULL, 0);
	uint64_t mem = strtoull(argv[3], NULL, 0);
	uint32_t intc[8] = {0};
	if (ncpus < 1 || ncpus > 8) {
		free(fdt);
		return 2;
	}

	expect_u32(fdt, "/", "#address-cells", 2);
	expect_u32(fdt, "/", "#size-cells", 2);
	expect_str(fdt, "/", "compatible", "riscv-virtio");
	check_cpus(fdt, ncpus, intc);
	expect_str(fdt, "/memory@80000000", "device_type", "memory");
	expect_reg(fdt, "/memory@80000000", 0x80000000, mem);
	check_soc(fdt, ncpus, intc);

	node(fdt, "/chosen");
	expect_str(fdt, "/chosen", "bootargs", argv[4]);
	expect_str(fdt, "/chosen", "stdout-path", "/soc/serial@10000000");
	int len;
	prop(fdt, "/chosen", "rng-seed", &len);
	CHECK(len == 64, "rng-seed: %d bytes, want 64", len);
	int chosen = fdt_path_offset(fdt, "/chosen");
	if (argc > 5) {
		uint64_t size = strtoull(argv[5], NULL, 0);
		uint64_t start = get_u64(fdt, "/chosen", "linux,initrd-start");
		uint64_t end = get_u64(fdt, "/chosen", "linux,initrd-end");
		CHECK(end - start == size, "initrd range 0x%llx-0x%llx, want %llu bytes",
		      (unsigned long long)start, (unsigned long long)end, (unsigned long long)size);
		CHECK(start >= 0x80200000 && end <= 0x80000000 + mem && start % 4096 == 0,
		      "initrd 0x%llx-0x%llx not inside RAM above the kernel",
		      (unsigned long long)start, (unsigned long long)end);
	} else {
		CHECK(!fdt_getprop(fdt, chosen, "linux,initrd-start", NULL),
		      "initrd-start without an initrd");
	}
	free(fdt);
	if (failures) {
		printf("%d check(s) failed\n", failures);
		return 1;
	}
	printf("device tree ok: %u cpus, %llu bytes of RAM\n", ncpus, (unsigned long long)mem);
	return 0;
}
