/* SPDX-License-Identifier: MIT */
/*
 * Test launcher for the boot test of the virtio devices: the virt machine
 * with virtio-rng, virtio-blk and virtio-net attached through the library
 * API (independent of the vessel CLI flags), console on stdin/stdout.
 *
 *   virtio_vm run --kernel K --initrd I [--cpus N] [--memory MiB]
 *                 [--disk PATH[,readonly]]... [--net SPEC] [--rng]
 *
 * Exit status 0 when the guest powers off, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "cli/console.h"
#include "devices/virtio.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "machine/virt.h"
#include "net/netdev.h"
#include "util/log.h"

#define FIRMWARE "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"

static int add_disk(struct vm_config *cfg, unsigned *slot, const char *arg, struct verr *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", arg);
	bool ro = false;
	char *comma = strchr(path, ',');
	if (comma) {
		ro = !strcmp(comma + 1, "readonly");
		*comma = 0;
	}
	struct blk *b;
	if (blk_open(path, BLK_FMT_AUTO, ro, &b, err))
		return -1;
	cfg->virtio[(*slot)++] = virtio_blk_create(b, err);
	return cfg->virtio[*slot - 1] ? 0 : -1;
}

static int add_net(struct vm_config *cfg, unsigned *slot, const char *spec, struct verr *err)
{
	struct net_backend *be;
	if (net_backend_parse(spec, &be, err))
		return -1;
	uint8_t mac[6];
	virtio_net_default_mac(0, mac);
	cfg->virtio[(*slot)++] = virtio_net_create(be, mac, err);
	return cfg->virtio[*slot - 1] ? 0 : -1;
}

static int parse(int argc, char **argv, struct vm_config *cfg, struct verr *err)
{
	unsigned slot = 0;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int r = 0;
		if (!strcmp(a, "--rng")) {
			cfg->virtio[slot++] = virtio_rng_create();
			continue;
		}
		if (!v || slot >= VIRT_VIRTIO_SLOTS)
			return verr_set(err, 22, "bad arguments at '%s'", a);
		i++;
		if (!strcmp(a, "--kernel"))
			cfg->kernel = v;
		else if (!strcmp(a, "--initrd"))
			cfg->initrd = v;
		else if (!strcmp(a, "--cpus"))
			cfg->ncpus = (unsigned)atoi(v);
		else if (!strcmp(a, "--memory"))
			cfg->mem_size = (uint64_t)atoi(v) << 20;
		else if (!strcmp(a, "--disk"))
			r = add_disk(cfg, &slot, v, err);
		else if (!strcmp(a, "--net"))
			r = add_net(cfg, &slot, v, err);
		else
			return verr_set(err, 22, "unknown option '%s'", a);
		if (r)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct vm_config cfg = {.firmware = FIRMWARE,
				.cmdline = "console=ttyS0",
				.mem_size = 256ull << 20,
				.ncpus = 1,
				.console_out_fd = STDOUT_FILENO};
	struct verr err = {{0}};
	int st = 1;
	if (argc < 2 || strcmp(argv[1], "run") || parse(argc, argv, &cfg, &err)) {
		log_error("virtio_vm: %s", err.msg[0] ? err.msg : "usage: virtio_vm run ...");
		goto out;
	}
	struct machine *m = machine_create(&cfg, &err);
	if (!m) {
		log_error("%s", err.msg);
		goto out;
	}
	struct console *con = console_open(STDIN_FILENO, STDOUT_FILENO, &err);
	if (con) {
		enum machine_exit how = machine_run(m, console_attach(con, m), &err);
		console_close(con);
		st = how == MACHINE_EXIT_POWEROFF ? 0 : 1;
	}
	machine_destroy(m);
out:
	for (unsigned i = 0; i < VIRT_VIRTIO_SLOTS; i++)
		virtio_device_destroy(cfg.virtio[i]);
	return st;
}
