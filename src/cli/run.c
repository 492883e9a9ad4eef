/* SPDX-License-Identifier: MIT */
/* vessel run: boot a virt machine from the command line. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/console.h"
#include "cli/run_devices.h"
#include "cli/run_parse.h"
#include "machine/virt.h"
#include "util/log.h"

#define RUN_DEFAULT_FIRMWARE "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
#define RUN_DEFAULT_APPEND   "console=ttyS0"
#define RUN_DEFAULT_MEMORY   (512ull << 20)

static void run_usage(FILE *f)
{
	fputs("usage: vessel run [options]\n"
	      "\n"
	      "Boot a RISC-V virt machine (QEMU-compatible) with its console on stdin/stdout.\n"
	      "\n"
	      "options:\n"
	      "  --kernel FILE     kernel (Linux Image, u-boot.bin or ELF), loaded at 0x80200000\n"
	      "  --initrd FILE     initial ramdisk\n"
	      "  --append ARGS     kernel command line (default \"" RUN_DEFAULT_APPEND "\")\n"
	      "  --firmware FILE   M-mode firmware, ELF or flat binary, at 0x80000000\n"
	      "                    (default " RUN_DEFAULT_FIRMWARE ")\n"
	      "  --memory SIZE     guest RAM, 16M to 64G; K, M, G suffixes, plain number = MiB\n"
	      "                    (default 512M)\n"
	      "  --cpus N          number of harts, 1 to 8 (default 1)\n"
	      "  --dtb-out FILE    also write the generated device tree to FILE\n"
	      "  --disk PATH[,format=raw|qcow2][,readonly]\n"
	      "                    a virtio-blk disk (repeatable; the first is /dev/vda)\n"
	      "  --net user[,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...\n"
	      "                    a virtio-net NIC on user-mode NAT (guest 10.0.2.15 by DHCP,\n"
	      "                    host 10.0.2.2, DNS 10.0.2.3); hostfwd forwards host ports in\n"
	      "  --rng             a virtio-rng device fed from the host's getrandom()\n"
	      "  -h, --help        show this help\n"
	      "  -V, --version     show the version\n"
	      "\n"
	      "On a terminal, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.\n"
	      "\n"
	      "exit status: 0 guest powered off, 1 error, 2 usage error, 3 guest asked for a\n"
	      "reboot, 4 guest reported failure, 5 user quit (Ctrl-A x, SIGINT, SIGTERM)\n",
	      f);
}

uint64_t run_parse_size(const char *s)
{
	if (!s[0] || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return 0;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return 0;
	unsigned shift;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case '\0':
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return 0;
	}
	if (*end && end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))
		return 0;
	if (v > (UINT64_MAX >> shift))
		return 0;
	return v << shift;
}

int run_parse_cpus(const char *s, unsigned *n)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || v < 1 || v > VIRT_MAX_HARTS)
		return -1;
	*n = (unsigned)v;
	return 0;
}

enum {
	OPT_KERNEL = 256,
	OPT_INITRD,
	OPT_APPEND,
	OPT_FIRMWARE,
	OPT_MEMORY,
	OPT_CPUS,
	OPT_DTB_OUT,
	OPT_DISK,
	OPT_NET,
	OPT_RNG,
};

static const struct option run_options[] = {
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"initrd", required_argument, NULL, OPT_INITRD},
    {"append", required_argument, NULL, OPT_APPEND},
    {"firmware", required_argument, NULL, OPT_FIRMWARE},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"dtb-out", required_argument, NULL, OPT_DTB_OUT},
    {"disk", required_argument, NULL, OPT_DISK},
    {"net", required_argument, NULL, OPT_NET},
    {"rng", no_argument, NULL, OPT_RNG},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* A device flag's failure: a malformed spec is a usage error, anything else a failure. */
static int run_device_error(int r, const struct verr *err)
{
	log_error("%s", err->msg);
	return r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE_VMM;
}

/* Fill cfg and devs from the flags; returns -1 to continue, else the exit status. */
static int run_parse(int argc, char **argv, struct vm_config *cfg, struct run_devices *devs)
{
	struct verr err = {{0}};
	int r;
	opterr = 0;
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, ":hV", run_options, NULL)) != -1) {
		switch (opt) {
		case OPT_KERNEL:
			cfg->kernel = optarg;
			break;
		case OPT_INITRD:
			cfg->initrd = optarg;
			break;
		case OPT_APPEND:
			cfg->cmdline = optarg;
			break;
		case OPT_FIRMWARE:
			cfg->firmware = optarg;
			break;
		case OPT_MEMORY:
			cfg->mem_size = run_parse_size(optarg);
			if (cfg->mem_size < VIRT_MEM_MIN || cfg->mem_size > VIRT_MEM_MAX) {
				log_error("--memory %s: need a size from 16M to 64G", optarg);
				return EXIT_USAGE;
			}
			/* Whole pages: round K sizes that are not. */
			cfg->mem_size &= ~4095ull;
			break;
		case OPT_CPUS:
			if (run_parse_cpus(optarg, &cfg->ncpus)) {
				log_error("--cpus %s: need a number from 1 to %d", optarg,
					  VIRT_MAX_HARTS);
				return EXIT_USAGE;
			}
			break;
		case OPT_DTB_OUT:
			cfg->dtb_out = optarg;
			break;
		case OPT_DISK:
			if ((r = run_devices_add_disk(devs, optarg, &err)))
				return run_device_error(r, &err);
			break;
		case OPT_NET:
			if ((r = run_devices_add_net(devs, optarg, &err)))
				return run_device_error(r, &err);
			break;
		case OPT_RNG:
			if ((r = run_devices_add_rng(devs, &err)))
				return run_device_error(r, &err);
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		case 'V':
			printf("vessel %s\n", VESSEL_VERSION);
			return 0;
		case ':':
			log_error("run: option %s needs an argument (try 'vessel run --help')",
				  argv[optind - 1]);
			return EXIT_USAGE;
		default:
			log_error("run: unknown option '%s' (try 'vessel run --help')",
				  argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("run: unexpected argument '%s' (try 'vessel run --help')", argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

static int run_exit_status(enum machine_exit how, struct machine *m, const struct verr *err)
{
	switch (how) {
	case MACHINE_EXIT_POWEROFF:
		return EXIT_GUEST_POWEROFF;
	case MACHINE_EXIT_REBOOT:
		return EXIT_GUEST_REBOOT;
	case MACHINE_EXIT_GUEST_FAILURE:
		log_error("guest reported failure code %u", machine_guest_code(m));
		return EXIT_GUEST_FAILED;
	case MACHINE_EXIT_USER_QUIT:
		return EXIT_USER_QUIT;
	case MACHINE_EXIT_ERROR:
		break;
	}
	log_error("%s", err->msg);
	return EXIT_FAILURE_VMM;
}

int cmd_run(int argc, char **argv)
{
	struct vm_config cfg = {
	    .firmware = RUN_DEFAULT_FIRMWARE,
	    .cmdline = RUN_DEFAULT_APPEND,
	    .mem_size = RUN_DEFAULT_MEMORY,
	    .ncpus = 1,
	    .console_out_fd = STDOUT_FILENO,
	};
	struct run_devices devs = {0};
	int st = run_parse(argc, argv, &cfg, &devs);
	if (st >= 0) {
		run_devices_destroy(&devs);
		return st;
	}
	for (unsigned i = 0; i < devs.n; i++)
		cfg.virtio[i] = devs.slot[i];
	struct verr err = {{0}};
	struct machine *m = machine_create(&cfg, &err);
	if (!m) {
		run_devices_destroy(&devs);
		log_error("%s", err.msg);
		return EXIT_FAILURE_VMM;
	}
	struct console *con = console_open(STDIN_FILENO, STDOUT_FILENO, &err);
	if (!con) {
		machine_destroy(m);
		run_devices_destroy(&devs);
		log_error("%s", err.msg);
		return EXIT_FAILURE_VMM;
	}
	enum machine_exit how = machine_run(m, console_attach(con, m), &err);
	/* The terminal comes back before anything is printed. */
	console_close(con);
	st = run_exit_status(how, m, &err);
	machine_destroy(m);
	run_devices_destroy(&devs);
	return st;
}
