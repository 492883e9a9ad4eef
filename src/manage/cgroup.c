/* SPDX-License-Identifier: MIT */
#include "manage/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

#define CG_SLICE "vessel.slice"

/* The cgroup2 root: $VESSEL_CGROUP_ROOT, else the first cgroup2 mount. */
static int cg_root(char *out, size_t size)
{
	const char *env = getenv("VESSEL_CGROUP_ROOT");
	if (env && *env)
		return snprintf(out, size, "%s", env) < (int)size ? 0 : -ENAMETOOLONG;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -ENOTSUP;
	char line[4096];
	int r = -ENOTSUP;
	while (r && fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SOURCE SUPER */
		char mnt[PATH_MAX], *sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1)
			r = snprintf(out, size, "%s", mnt) < (int)size ? 0 : -ENAMETOOLONG;
	}
	fclose(f);
	return r;
}

int mcgroup_path(const char *name, char *out, size_t size)
{
	char root[PATH_MAX];
	int r = cg_root(root, sizeof(root));
	if (r)
		return r;
	return snprintf(out, size, "%s/" CG_SLICE "/vm-%s", root, name) < (int)size ? 0
										    : -ENAMETOOLONG;
}

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_str(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, val, strlen(val));
	int e = errno;
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : n < 0 ? -e : -EIO;
}

/* Whether the space-separated list 'list' holds 'word'. */
static int has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return 1;
	return 0;
}

/* The flag a limit comes from, for messages. */
static const char *asked_flag(const struct mdef *d)
{
	return d->cpu_max_percent ? "--cpu-max" : "--memory-limit";
}

int mcgroup_check(const struct mdef *d, struct verr *err)
{
	if (!d->cpu_max_percent && !d->memory_limit)
		return 0;
	char root[PATH_MAX], path[PATH_MAX + 32], ctl[512];
	if (cg_root(root, sizeof(root)))
		return verr_set(err, ENOTSUP, "%s: this host has no cgroup v2 mounted",
				asked_flag(d));
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	if (read_small(path, ctl, sizeof(ctl)))
		return verr_set(err, ENOTSUP, "%s: %s is not a cgroup v2 root", asked_flag(d),
				root);
	if (d->cpu_max_percent && !has_word(ctl, "cpu"))
		return verr_set(err, ENOTSUP,
				"--cpu-max: this host's cgroup v2 (%s) has no cpu controller "
				"(it offers: %s)",
				root, *ctl ? ctl : "none");
	if (d->memory_limit && !has_word(ctl, "memory"))
		return verr_set(err, ENOTSUP,
				"--memory-limit: this host's cgroup v2 (%s) has no memory "
				"controller (it offers: %s)",
				root, *ctl ? ctl : "none");
	if (access(root, W_OK))
		return verr_set(err, ENOTSUP, "%s: this host's cgroup v2 (%s) is not writable",
				asked_flag(d), root);
	return 0;
}

/* mkdir dir and enable the controllers the limits need in its parent. */
static int make_child(const char *parent, const char *child, const char *ctls, char *out,
		      size_t size)
{
	if (snprintf(out, size, "%s/%s", parent, child) >= (int)size)
		return -ENAMETOOLONG;
	int r = write_str(parent, "cgroup.subtree_control", ctls);
	if (r)
		return r;
	if (mkdir(out, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int mcgroup_apply(const struct mdef *d, pid_t pid, struct verr *err)
{
	int r = mcgroup_check(d, err);
	if (r || (!d->cpu_max_percent && !d->memory_limit))
		return r;
	char root[PATH_MAX], slice[PATH_MAX], vm[PATH_MAX], ctls[32] = "", val[64];
	cg_root(root, sizeof(root));
	if (d->cpu_max_percent)
		strcat(ctls, "+cpu ");
	if (d->memory_limit)
		strcat(ctls, "+memory");
	char name[MDEF_NAME_MAX + 4];
	snprintf(name, sizeof(name), "vm-%s", d->name);
	const char *step = "cgroup " CG_SLICE;
	r = make_child(root, CG_SLICE, ctls, slice, sizeof(slice));
	if (!r) {
		step = "cgroup of the VM";
		r = make_child(slice, name, ctls, vm, sizeof(vm));
	}
	if (!r && d->cpu_max_percent) {
		step = "cpu.max";
		/* A quota per 100 ms period: 100% is one host CPU. */
		snprintf(val, sizeof(val), "%u 100000", d->cpu_max_percent * 1000);
		r = write_str(vm, "cpu.max", val);
	}
	if (!r && d->memory_limit) {
		step = "memory.max";
		snprintf(val, sizeof(val), "%llu", (unsigned long long)d->memory_limit);
		r = write_str(vm, "memory.max", val);
	}
	if (!r) {
		step = "cgroup.procs";
		snprintf(val, sizeof(val), "%d", (int)pid);
		r = write_str(vm, "cgroup.procs", val);
	}
	if (r)
		return verr_set(err, -r, "cgroup v2 (%s): %s: %s", root, step, strerror(-r));
	return 0;
}

void mcgroup_remove(const char *name)
{
	char vm[PATH_MAX];
	if (!mcgroup_path(name, vm, sizeof(vm)))
		rmdir(vm);
}
