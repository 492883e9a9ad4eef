/* SPDX-License-Identifier: MIT */
#include "devices/sifive_test.h"

#include <libfdt.h>
#include <stdlib.h>

#include "machine/fdt.h"

#define TEST_FAIL  0x3333
#define TEST_PASS  0x5555
#define TEST_RESET 0x7777

struct sifive_test {
	struct sifive_test_host host;
};

struct sifive_test *sifive_test_create(const struct sifive_test_host *host)
{
	struct sifive_test *t = calloc(1, sizeof(*t));
	if (t)
		t->host = *host;
	return t;
}

void sifive_test_destroy(struct sifive_test *t)
{
	free(t);
}

static int test_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	(void)dev;
	(void)off;
	(void)size;
	*val = 0;
	return 0;
}

static int test_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct sifive_test *t = dev;
	if (off != 0 || size < 2 || !t->host.event) /* OpenSBI writes 16 bits */
		return 0;
	switch (val & 0xffff) {
	case TEST_PASS:
		t->host.event(t->host.opaque, SIFIVE_TEST_POWEROFF, 0);
		break;
	case TEST_RESET:
		t->host.event(t->host.opaque, SIFIVE_TEST_REBOOT, 0);
		break;
	case TEST_FAIL:
		t->host.event(t->host.opaque, SIFIVE_TEST_FAIL, (unsigned)((val >> 16) & 0xffff));
		break;
	default: /* anything else is ignored, as on QEMU */
		break;
	}
	return 0;
}

/* The syscon node plus the /poweroff and /reboot nodes that point at it. */
static int test_fdt(void *dev, struct fdt_ctx *ctx)
{
	(void)dev;
	uint32_t ph = fdt_ctx_alloc_phandle(ctx);
	int node = fdt_ctx_add_soc_node(ctx, "test");
	if (node < 0)
		return node;
	static const char compat[] = "sifive,test1\0sifive,test0\0syscon";
	int r;
	if ((r = fdt_setprop_u32(ctx->fdt, node, "phandle", ph)) ||
	    (r = fdt_setprop(ctx->fdt, node, "compatible", compat, sizeof(compat))))
		return r;
	static const struct {
		const char *name, *compat;
		uint32_t value;
	} acts[] = {{"poweroff", "syscon-poweroff", TEST_PASS},
		    {"reboot", "syscon-reboot", TEST_RESET}};
	for (unsigned i = 0; i < 2; i++) {
		int n = fdt_add_subnode(ctx->fdt, 0, acts[i].name);
		if (n < 0)
			return n;
		if ((r = fdt_setprop_u32(ctx->fdt, n, "value", acts[i].value)) ||
		    (r = fdt_setprop_u32(ctx->fdt, n, "offset", 0)) ||
		    (r = fdt_setprop_u32(ctx->fdt, n, "regmap", ph)) ||
		    (r = fdt_setprop_string(ctx->fdt, n, "compatible", acts[i].compat)))
			return r;
	}
	return 0;
}

const struct mmio_ops sifive_test_ops = {.read = test_read, .write = test_write, .fdt = test_fdt};
