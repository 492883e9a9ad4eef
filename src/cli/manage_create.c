/* SPDX-License-Identifier: MIT */
/*
 * vessel create: check every flag and file now (so a defined VM can start
 * later), then write the definition in one step.  Flags and their syntax are
 * those of 'vessel run' (its parsers), plus the resource limits.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "block/block.h"
#include "cli/cli.h"
#include "cli/manage.h"
#include "cli/run_devices.h"
#include "cli/run_parse.h"
#include "manage/cgroup.h"
#include "util/log.h"

#define CREATE_DEFAULT_MEMORY_MIB 512

enum {
	OPT_KERNEL = 256,
	OPT_INITRD,
	OPT_APPEND,
	OPT_FIRMWARE,
	OPT_MEMORY,
	OPT_CPUS,
	OPT_DISK,
	OPT_NET,
	OPT_RNG,
	OPT_CPUSET,
	OPT_CPU_MAX,
	OPT_MEMORY_LIMIT,
};

static const struct option create_options[] = {
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"initrd", required_argument, NULL, OPT_INITRD},
    {"append", required_argument, NULL, OPT_APPEND},
    {"firmware", required_argument, NULL, OPT_FIRMWARE},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"disk", required_argument, NULL, OPT_DISK},
    {"net", required_argument, NULL, OPT_NET},
    {"rng", no_argument, NULL, OPT_RNG},
    {"cpuset", required_argument, NULL, OPT_CPUSET},
    {"cpu-max", required_argument, NULL, OPT_CPU_MAX},
    {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* An existing file, made absolute (the VMM runs elsewhere): 0 or -errno. */
static int abs_file(const char *flag, const char *path, char **out, struct verr *err)
{
	char *abs = realpath(path, NULL);
	if (!abs)
		return verr_set(err, errno, "%s %s: %s", flag, path, strerror(errno));
	if (access(abs, R_OK)) {
		int e = errno;
		free(abs);
		return verr_set(err, e, "%s %s: %s", flag, path, strerror(e));
	}
	free(*out);
	*out = abs;
	return 0;
}

/* --disk: parsed as by 'vessel run', and the image opened once (read-only) to check it. */
static int add_disk(struct mdef *d, const char *spec, struct verr *err)
{
	struct run_disk_spec ds;
	int r = run_devices_parse_disk(spec, &ds, err);
	if (r)
		return r;
	struct mdef_drive *dr = &d->drive[d->ndrives];
	r = abs_file("--disk", ds.path, &dr->path, err);
	if (!r) {
		struct blk *b;
		struct verr e = {{0}};
		r = blk_open(dr->path, ds.fmt, true, &b, &e);
		if (r) {
			r = verr_set(err, -r, "--disk %s: %s", ds.path, e.msg);
			r = r == -EINVAL ? -EIO : r; /* a bad image is not a bad flag */
		} else {
			blk_close(b);
		}
	}
	if (!r && ds.fmt != BLK_FMT_AUTO && !(dr->format = strdup(blk_format_name(ds.fmt))))
		r = verr_set(err, ENOMEM, "out of memory");
	dr->read_only = ds.readonly;
	free(ds.path);
	/* Counted even when it failed: mdef_free releases what it holds. */
	d->ndrives++;
	return r;
}

static int parse_percent(const char *s, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || (*end && strcmp(end, "%")) || s[0] == '-' || s[0] == '+' ||
	    v < 1 || v > 100 * 1024)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int too_many(struct verr *err)
{
	return verr_set(err, ENOSPC,
			"no free virtio slot (a managed VM has %d for disks, NICs and rng)",
			MDEF_DEVICES_MAX);
}

/* One flag into d: 0, -EINVAL (usage error) or another -errno. */
static int create_flag(int opt, const char *arg, struct mdef *d, struct verr *err)
{
	uint64_t size;
	switch (opt) {
	case OPT_KERNEL:
		return abs_file("--kernel", arg, &d->kernel, err);
	case OPT_INITRD:
		return abs_file("--initrd", arg, &d->initrd, err);
	case OPT_FIRMWARE:
		return abs_file("--firmware", arg, &d->firmware, err);
	case OPT_APPEND:
		free(d->append);
		d->append = strdup(arg);
		return d->append ? 0 : verr_set(err, ENOMEM, "out of memory");
	case OPT_MEMORY:
		size = run_parse_size(arg);
		if (size < VIRT_MEM_MIN || size > VIRT_MEM_MAX)
			return verr_set(err, EINVAL, "--memory %s: need a size from 16M to 64G",
					arg);
		d->memory_mib = (size + (1 << 20) - 1) >> 20; /* the API counts MiB */
		return 0;
	case OPT_CPUS:
		if (run_parse_cpus(arg, &d->vcpus))
			return verr_set(err, EINVAL, "--cpus %s: need a number from 1 to %d", arg,
					VIRT_MAX_HARTS);
		return 0;
	case OPT_DISK:
		return mdef_devices(d) == MDEF_DEVICES_MAX ? too_many(err) : add_disk(d, arg, err);
	case OPT_NET:
		if (mdef_devices(d) == MDEF_DEVICES_MAX)
			return too_many(err);
		if (mdef_net_parse(arg, &d->net[d->nnets], err))
			return -EINVAL;
		d->nnets++;
		return 0;
	case OPT_RNG:
		if (d->rng)
			return verr_set(err, EINVAL, "--rng: given twice");
		if (mdef_devices(d) == MDEF_DEVICES_MAX)
			return too_many(err);
		d->rng = true;
		return 0;
	case OPT_CPUSET:
		if (mdef_cpuset_check(arg, (unsigned)get_nprocs_conf(), err))
			return -EINVAL;
		free(d->cpuset);
		d->cpuset = strdup(arg);
		return d->cpuset ? 0 : verr_set(err, ENOMEM, "out of memory");
	case OPT_CPU_MAX:
		if (parse_percent(arg, &d->cpu_max_percent))
			return verr_set(err, EINVAL,
					"--cpu-max %s: need a percentage of one host CPU, 1 to %d",
					arg, 100 * 1024);
		return 0;
	case OPT_MEMORY_LIMIT:
		size = run_parse_size(arg);
		if (size < VIRT_MEM_MIN)
			return verr_set(err, EINVAL,
					"--memory-limit %s: need a size of 16M or more", arg);
		d->memory_limit = size;
		return 0;
	}
	return verr_set(err, EINVAL, "unknown option");
}

/* Parse argv into d: -1 to go on, else the exit status. */
static int create_parse(int argc, char **argv, struct mdef *d, const char **name)
{
	struct verr err = {{0}};
	int opt, r;
	opterr = 0;
	optind = 1;
	*name = NULL;
	while ((opt = getopt_long(argc, argv, "-:h", create_options, NULL)) != -1) {
		if (opt == 1) {
			if (*name) {
				log_error("create: unexpected argument '%s'", optarg);
				return EXIT_USAGE;
			}
			*name = optarg;
			if ((r = manage_check_name("create", *name)) >= 0)
				return r;
			continue;
		}
		if (opt == 'h') {
			manage_usage(stdout);
			return 0;
		}
		if (opt == ':' || opt == '?') {
			log_error("create: %s '%s' (try 'vessel create --help')",
				  opt == ':' ? "option needs an argument" : "unknown option",
				  argv[optind - 1]);
			return EXIT_USAGE;
		}
		if ((r = create_flag(opt, optarg, d, &err))) {
			if (*name)
				log_error("create %s: %s", *name, err.msg);
			else
				log_error("create: %s", err.msg);
			return r == -EINVAL ? EXIT_USAGE : EXIT_FAILURE_VMM;
		}
	}
	return manage_check_name("create", *name);
}

int manage_create(int argc, char **argv)
{
	struct mdef d = {.vcpus = 1, .memory_mib = CREATE_DEFAULT_MEMORY_MIB};
	const char *name;
	int st = create_parse(argc, argv, &d, &name);
	if (st >= 0) {
		mdef_free(&d);
		return st;
	}
	snprintf(d.name, sizeof(d.name), "%s", name);
	struct verr err = {{0}};
	struct mstate s;
	char lock[PATH_MAX];
	int fd = -1;
	if (mcgroup_check(&d, &err))
		st = manage_fail("create", name, err.msg);
	else if ((st = manage_open("create", &s, true)))
		;
	else if (snprintf(lock, sizeof(lock), "%s/.lock", s.root) >= (int)sizeof(lock))
		st = manage_fail("create", name, "path too long");
	else if ((fd = mstate_lock(lock, &err)) < 0)
		st = manage_fail("create", name, err.msg);
	else if (mstate_create(&s, &d, &err))
		st = manage_fail("create", name, err.msg);
	else
		st = 0;
	mstate_unlock(fd);
	mdef_free(&d);
	return st;
}
