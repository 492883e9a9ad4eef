/* SPDX-License-Identifier: MIT */
/* 'vessel disk': create disk images and show what an image holds. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "cli/cli.h"
#include "util/log.h"

static const char disk_usage[] = "usage: vessel disk create PATH [SIZE] [--format qcow2|raw] "
				 "[--backing BASE]\n"
				 "       vessel disk info PATH\n";

static const char create_help[] =
    "usage: vessel disk create PATH [SIZE] [--format qcow2|raw] [--backing BASE]\n"
    "\n"
    "Create a disk image.  qcow2 images are thin: they take host space only\n"
    "for what the guest writes.\n"
    "\n"
    "  SIZE             virtual size in bytes, or with a binary suffix K, M, G or T\n"
    "                   (1G = 1024^3); optional with --backing (defaults to the\n"
    "                   backing image's size)\n"
    "  --format FMT     qcow2 (default) or raw\n"
    "  --backing BASE   make a copy-on-write overlay of BASE (qcow2 only); a\n"
    "                   relative BASE is relative to PATH's directory, as in qemu-img\n"
    "  -h, --help       show this help\n";

static const char info_help[] = "usage: vessel disk info PATH\n"
				"\n"
				"Show an image's format, virtual size, host space in use and\n"
				"its whole backing chain.\n"
				"\n"
				"  -h, --help   show this help\n";

static bool is_help(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help");
}

/* "10G", "512M", "4096": binary suffixes; the result must fit in 63 bits. */
static int disk_size_parse(const char *s, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	unsigned shift = 0;
	if (*end) {
		const char *units = "KMGT";
		const char *u = strchr(units, end[0] >= 'a' ? end[0] - 32 : end[0]);
		if (!u || !*u)
			return -EINVAL;
		shift = 10 * (unsigned)(u - units + 1);
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (v > (UINT64_MAX >> 1) >> shift)
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static void disk_human(uint64_t v, char *buf, size_t len)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned u = 0;
	double d = (double)v;
	while (d >= 1024 && u < 6) {
		d /= 1024;
		u++;
	}
	if (u == 0 || d == (double)(uint64_t)d)
		snprintf(buf, len, "%.0f %s", d, units[u]);
	else
		snprintf(buf, len, "%.1f %s", d, units[u]);
}

struct create_args {
	const char *path, *size, *backing;
	enum blk_format fmt;
};

static int create_parse(int argc, char **argv, struct create_args *a)
{
	int pos = 0;
	a->fmt = BLK_FMT_QCOW2;
	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i], *val = NULL;
		if (!strncmp(arg, "--format", 8) || !strncmp(arg, "--backing", 9)) {
			const char *eq = strchr(arg, '=');
			size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
			bool fmt = n == 8 && !strncmp(arg, "--format", 8);
			if (!fmt && !(n == 9 && !strncmp(arg, "--backing", 9)))
				goto unknown;
			val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!val) {
				log_error("disk create: %.*s needs a value", (int)n, arg);
				return EXIT_USAGE;
			}
			if (!fmt) {
				a->backing = val;
			} else if (blk_format_parse(val, &a->fmt) < 0 || a->fmt == BLK_FMT_AUTO) {
				log_error("disk create: unknown format '%s' (qcow2 or raw)", val);
				return EXIT_USAGE;
			}
			continue;
		}
		if (arg[0] == '-' && arg[1])
			goto unknown;
		if (pos == 0)
			a->path = arg;
		else if (pos == 1)
			a->size = arg;
		else {
			log_error("disk create: unexpected argument '%s'", arg);
			return EXIT_USAGE;
		}
		pos++;
		continue;
	unknown:
		log_error("disk create: unknown option '%s' (try 'vessel disk create --help')",
			  arg);
		return EXIT_USAGE;
	}
	if (!a->path || (!a->size && !a->backing)) {
		log_error("disk create: missing %s (try 'vessel disk create --help')",
			  a->path ? "SIZE" : "PATH");
		return EXIT_USAGE;
	}
	return 0;
}

static int disk_create(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (is_help(argv[i])) {
			fputs(create_help, stdout);
			return 0;
		}
	struct create_args a = {0};
	int r = create_parse(argc, argv, &a);
	if (r)
		return r;
	uint64_t size = 0;
	if (a.size && disk_size_parse(a.size, &size) < 0) {
		log_error("disk create: invalid size '%s' (e.g. 512M, 10G)", a.size);
		return EXIT_USAGE;
	}
	if (a.backing && a.fmt == BLK_FMT_RAW) {
		log_error("disk create: a raw image cannot have a backing file");
		return EXIT_USAGE;
	}
	struct verr err = {{0}};
	if (blk_create(a.path, a.fmt, size, a.backing, &err) < 0) {
		log_error("disk create: %s", err.msg);
		return EXIT_FAILURE_VMM;
	}
	return 0;
}

static void info_print(const char *label, const char *path, const struct blk_info *in)
{
	char vs[32], al[32];
	disk_human(in->virtual_size, vs, sizeof(vs));
	disk_human(in->allocated_bytes, al, sizeof(al));
	printf("%s%s (%s, virtual size %s (%" PRIu64 " bytes), allocated %s (%" PRIu64 " bytes))\n",
	       label, path, blk_format_name(in->format), vs, in->virtual_size, al,
	       in->allocated_bytes);
}

/* Follow the backing chain from 'top', printing one line per image. */
static int info_chain(const char *top, const struct blk_info *first)
{
	char cur[4096], next[4096];
	struct blk_info in = *first;
	snprintf(cur, sizeof(cur), "%s", top);
	printf("backing chain:\n");
	info_print("  ", cur, &in);
	for (int depth = 1; in.backing[0]; depth++) {
		if (depth >= 16) {
			log_error("disk info: backing chain deeper than 16 images (a loop?)");
			return EXIT_FAILURE_VMM;
		}
		const char *slash = strrchr(cur, '/');
		int n = in.backing[0] == '/' || !slash
			    ? snprintf(next, sizeof(next), "%s", in.backing)
			    : snprintf(next, sizeof(next), "%.*s/%s", (int)(slash - cur), cur,
				       in.backing);
		if (n < 0 || (size_t)n >= sizeof(next)) {
			log_error("disk info: backing file name too long");
			return EXIT_FAILURE_VMM;
		}
		struct verr err = {{0}};
		if (blk_info_get(next, &in, &err) < 0) {
			log_error("disk info: backing file: %s", err.msg);
			return EXIT_FAILURE_VMM;
		}
		memcpy(cur, next, sizeof(cur));
		info_print("  -> ", cur, &in);
	}
	return 0;
}

static int disk_info(int argc, char **argv)
{
	const char *path = NULL;
	for (int i = 2; i < argc; i++) {
		if (is_help(argv[i])) {
			fputs(info_help, stdout);
			return 0;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			log_error("disk info: unknown option '%s' (try 'vessel disk info --help')",
				  argv[i]);
			return EXIT_USAGE;
		}
		if (path) {
			log_error("disk info: unexpected argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
		path = argv[i];
	}
	if (!path) {
		log_error("disk info: missing PATH (try 'vessel disk info --help')");
		return EXIT_USAGE;
	}
	struct blk_info in;
	struct verr err = {{0}};
	if (blk_info_get(path, &in, &err) < 0) {
		log_error("disk info: %s", err.msg);
		return EXIT_FAILURE_VMM;
	}
	char vs[32], al[32];
	disk_human(in.virtual_size, vs, sizeof(vs));
	disk_human(in.allocated_bytes, al, sizeof(al));
	printf("image: %s\nformat: %s\nvirtual size: %s (%" PRIu64 " bytes)\n"
	       "allocated: %s (%" PRIu64 " bytes)\n",
	       path, blk_format_name(in.format), vs, in.virtual_size, al, in.allocated_bytes);
	if (!in.backing[0])
		return 0;
	printf("backing file: %s\n", in.backing);
	return info_chain(path, &in);
}

int cmd_disk(int argc, char **argv)
{
	if (argc < 2) {
		fputs(disk_usage, stderr);
		return EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		fputs(disk_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "create"))
		return disk_create(argc, argv);
	if (!strcmp(argv[1], "info"))
		return disk_info(argc, argv);
	log_error("disk: unknown subcommand '%s' (create or info)", argv[1]);
	return EXIT_USAGE;
}
