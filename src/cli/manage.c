/* SPDX-License-Identifier: MIT */
/*
 * Managed VMs, the way virsh manages domains: definitions kept in a state
 * directory (manage/state.h), one VMM process per running VM driven through
 * its HTTP API (manage/client.h).  This file: dispatch, help, ls, inspect, rm.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/manage.h"
#include "manage/cgroup.h"
#include "manage/client.h"
#include "manage/spawn.h"
#include "util/log.h"

static const char *const manage_cmds[] = {
    "create",  "start",	    "stop",   "pause",	     "resume",	 "reset",   "ls",
    "inspect", "console",   "logs",   "rm",	     "snapshot", "restore", "clone",
    "migrate", "snapshots", "revert", "snapshot-rm", "receive",	 NULL};

int cmd_manage_handles(const char *cmd)
{
	for (unsigned i = 0; manage_cmds[i]; i++)
		if (!strcmp(cmd, manage_cmds[i]))
			return 1;
	return 0;
}

void manage_usage(FILE *f)
{
	fputs(
	    "usage: vessel <command> NAME [options]   (managed VMs)\n"
	    "\n"
	    "  create NAME [--cpus N] [--memory SIZE] [--disk SPEC]... [--net SPEC]... [--rng]\n"
	    "         [--kernel F] [--initrd F] [--append S] [--firmware F]\n"
	    "         [--cpuset LIST] [--cpu-max PERCENT] [--memory-limit SIZE]\n"
	    "                 define a VM (flags as 'vessel run'; --cpuset pins vCPU i to the\n"
	    "                 i-th listed host CPU; --cpu-max caps CPU time, 100 = one host CPU,\n"
	    "                 and --memory-limit caps host memory, both through cgroup v2;\n"
	    "                 --net also takes mac=52:54:00:12:34:56)\n"
	    "  start NAME [--attach]   start it (and attach to its console)\n"
	    "  stop NAME [--force] [--timeout SEC]\n"
	    "                 ask the guest to power off (the power button, pressed again every\n"
	    "                 5 s), wait (default 30 s), then stop it hard;\n"
	    "                 --force stops it hard at once\n"
	    "  pause NAME, resume NAME, reset NAME\n"
	    "  ls             list the VMs: name, state, pid, vCPUs, memory\n"
	    "  inspect NAME   definition, live state and metrics as JSON\n"
	    "  console NAME   attach to the serial console; Ctrl-] detaches (on a terminal).\n"
	    "                 With stdin not a terminal, bytes are passed through and the\n"
	    "                 command ends 1 s after stdin ends with no more output\n"
	    "  logs NAME [--follow]    the console output of the current or last run\n"
	    "  rm NAME [--force]       remove a VM (--force: stop it first if running)\n"
	    "  snapshot NAME PATH      save a running or paused VM to PATH (+ PATH.disk-*)\n"
	    "  snapshot NAME --tag TAG save it as snapshot TAG in its state directory, a child\n"
	    "                 of its current snapshot (the last one taken or reverted to)\n"
	    "  snapshots NAME [--json] its snapshots as a tree (* marks the current one)\n"
	    "  revert NAME TAG         put the VM back at snapshot TAG, in place, running (its\n"
	    "                 process is replaced, its disks become overlays of TAG's copies)\n"
	    "  snapshot-rm NAME TAG [--recursive]\n"
	    "                 remove snapshot TAG (refused when it has snapshots below it,\n"
	    "                 unless --recursive removes them too); rm NAME removes them all\n"
	    "  restore PATH --name NEW a new managed VM from a snapshot, running at once\n"
	    "  clone PATH --name PREFIX [--count N]\n"
	    "                 N VMs PREFIX-1..N from one snapshot (shared memory pages,\n"
	    "                 copy-on-write overlays of its disks), each with its own random\n"
	    "                 MAC address and random seed (docs/snapshot.md)\n"
	    "  migrate NAME --to tcp:HOST:PORT [--copy-storage] [--verify]\n"
	    "                 live-migrate to a VMM waiting in PUT /migrate/incoming (vessel\n"
	    "                 receive); its disks on shared storage or copied along; --verify:\n"
	    "                 the destination checks every page against the source's\n"
	    "  receive NAME --listen tcp:HOST:PORT [--copy-storage] [flags of create]\n"
	    "                 define NAME and wait there for it to migrate in (the same\n"
	    "                 machine and devices as the source; disks: the same images or,\n"
	    "                 with --copy-storage, empty ones of the same sizes)\n"
	    "\n"
	    "The state directory is $VESSEL_STATE_DIR, else /var/lib/vessel for root,\n"
	    "else $XDG_STATE_HOME/vessel or ~/.local/state/vessel.\n",
	    f);
}

int manage_fail(const char *cmd, const char *name, const char *why)
{
	if (name)
		log_error("%s %s: %s", cmd, name, why);
	else
		log_error("%s: %s", cmd, why);
	return EXIT_FAILURE_VMM;
}

int manage_open(const char *cmd, struct mstate *s, bool create)
{
	struct verr err = {{0}};
	if (mstate_open(s, create, &err))
		return manage_fail(cmd, NULL, err.msg);
	return 0;
}

int manage_load(const char *cmd, const struct mstate *s, const char *name, struct mdef *d)
{
	struct verr err = {{0}};
	if (mstate_load(s, name, d, &err))
		return manage_fail(cmd, name, err.msg);
	return 0;
}

int manage_parse_name(int argc, char **argv, const char *flag_name, const char **name, bool *flag)
{
	const struct option opts[] = {{flag_name ? flag_name : "help", no_argument, NULL, 'f'},
				      {"help", no_argument, NULL, 'h'},
				      {NULL, 0, NULL, 0}};
	int opt;
	opterr = 0;
	optind = 1;
	*name = NULL;
	while ((opt = getopt_long(argc, argv, "-:h", opts, NULL)) != -1) {
		if (opt == 1) {
			if (*name) {
				log_error("%s: unexpected argument '%s'", argv[0], optarg);
				return EXIT_USAGE;
			}
			*name = optarg;
			continue;
		}
		if (opt == 'h' || (opt == 'f' && !flag_name)) {
			manage_usage(stdout);
			return 0;
		}
		if (opt != 'f') {
			log_error("%s: unknown option '%s' (try 'vessel %s --help')", argv[0],
				  argv[optind - 1], argv[0]);
			return EXIT_USAGE;
		}
		*flag = true;
	}
	return manage_check_name(argv[0], *name);
}

int manage_check_name(const char *cmd, const char *name)
{
	if (!name) {
		log_error("%s: which VM? (vessel %s NAME)", cmd, cmd);
		return EXIT_USAGE;
	}
	if (!mdef_name_valid(name))
		return manage_fail(cmd, name, "invalid name (1 to 64 of A-Z a-z 0-9 _ . -)");
	return -1;
}

/* "running", "paused", ... from the API; "stopped" when no VMM runs. */
static void live_state(const struct mstate *s, const char *name, pid_t pid, char *out, size_t size)
{
	if (!pid) {
		snprintf(out, size, "stopped");
		return;
	}
	char sock[PATH_MAX];
	json_t *j = NULL;
	struct verr e;
	const char *st = NULL;
	if (!mstate_path(s, name, "api.sock", sock, sizeof(sock)) &&
	    mclient_json(sock, "GET", "/vm", NULL, &j, &e) == 200)
		st = json_string_value(json_object_get(j, "state"));
	snprintf(out, size, "%s", st ? st : "unknown");
	json_decref(j);
}

static void fmt_mib(uint64_t mib, char *out, size_t size)
{
	if (mib % 1024 == 0)
		snprintf(out, size, "%lluG", (unsigned long long)(mib / 1024));
	else
		snprintf(out, size, "%lluM", (unsigned long long)mib);
}

static int manage_ls(int argc, char **argv)
{
	if (argc > 1) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			manage_usage(stdout);
			return 0;
		}
		log_error("ls: unexpected argument '%s'", argv[1]);
		return EXIT_USAGE;
	}
	struct mstate s;
	int st = manage_open("ls", &s, false);
	if (st)
		return st;
	char **names;
	size_t n;
	struct verr err = {{0}};
	if (mstate_list(&s, &names, &n, &err))
		return manage_fail("ls", NULL, err.msg);
	printf("%-20s %-12s %-8s %-6s %s\n", "NAME", "STATE", "PID", "VCPUS", "MEMORY");
	printf("------------------------------------------------------------\n");
	for (size_t i = 0; i < n; i++) {
		struct mdef d;
		char state[32], pid_s[16] = "-", mem[32] = "?", cpus[16] = "?";
		pid_t pid = mstate_pid(&s, names[i]);
		live_state(&s, names[i], pid, state, sizeof(state));
		if (pid)
			snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
		if (!mstate_load(&s, names[i], &d, &err)) {
			fmt_mib(d.memory_mib, mem, sizeof(mem));
			snprintf(cpus, sizeof(cpus), "%u", d.vcpus);
			mdef_free(&d);
		}
		printf("%-20s %-12s %-8s %-6s %s\n", names[i], state, pid_s, cpus, mem);
	}
	mstate_list_free(names, n);
	return 0;
}

/* GET path as JSON, or JSON null when the VM does not answer. */
static json_t *api_get(const char *sock, const char *path)
{
	json_t *j = NULL;
	struct verr e;
	if (mclient_json(sock, "GET", path, NULL, &j, &e) != 200 || !j) {
		json_decref(j);
		return json_null();
	}
	return j;
}

static int manage_inspect(int argc, char **argv)
{
	const char *name;
	int st = manage_parse_name(argc, argv, NULL, &name, NULL);
	if (st >= 0)
		return st;
	struct mstate s;
	struct mdef d;
	if ((st = manage_open("inspect", &s, false)) || (st = manage_load("inspect", &s, name, &d)))
		return st;
	char dir[PATH_MAX], sock[PATH_MAX], cg[PATH_MAX];
	mstate_path(&s, name, NULL, dir, sizeof(dir));
	mstate_path(&s, name, "api.sock", sock, sizeof(sock));
	pid_t pid = mstate_pid(&s, name);
	json_t *vm =
	    pid ? api_get(sock, "/vm") : json_pack("{s:s, s:n}", "state", "stopped", "exit");
	json_t *metrics = pid ? api_get(sock, "/metrics") : json_null();
	bool limited = d.cpu_max_percent || d.memory_limit;
	json_t *out = json_pack(
	    "{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "name", name, "dir", dir, "pid",
	    pid ? json_integer(pid) : json_null(), "definition", mdef_to_json(&d), "live", vm,
	    "metrics", metrics, "cgroup",
	    limited && pid && !mcgroup_path(name, cg, sizeof(cg)) ? json_string(cg) : json_null());
	mdef_free(&d);
	if (!out)
		return manage_fail("inspect", name, "out of memory");
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(out);
	return 0;
}

static int manage_rm(int argc, char **argv)
{
	const char *name;
	bool force = false;
	int st = manage_parse_name(argc, argv, "force", &name, &force);
	if (st >= 0)
		return st;
	struct mstate s;
	if ((st = manage_open("rm", &s, false)))
		return st;
	char path[PATH_MAX];
	struct verr err = {{0}};
	if (snprintf(path, sizeof(path), "%s/.lock", s.root) >= (int)sizeof(path))
		return manage_fail("rm", name, "path too long");
	if (!mstate_exists(&s, name))
		return manage_fail("rm", name, "no such VM");
	int root_lock = mstate_lock(path, &err);
	if (root_lock < 0)
		return manage_fail("rm", name, err.msg);
	mstate_path(&s, name, "lock", path, sizeof(path));
	int vm_lock = mstate_lock(path, &err);
	st = 0;
	if (vm_lock < 0 || !mstate_exists(&s, name)) {
		st = manage_fail("rm", name, vm_lock < 0 ? err.msg : "no such VM");
		goto out;
	}
	pid_t pid = mstate_pid(&s, name);
	if (pid && !force) {
		st = manage_fail("rm", name, "it is running (stop it first, or rm --force)");
		goto out;
	}
	char how[32];
	if (pid && mspawn_stop(&s, name, pid, true, 0, how, sizeof(how), &err)) {
		st = manage_fail("rm", name, err.msg);
		goto out;
	}
	if (mstate_remove(&s, name, &err))
		st = manage_fail("rm", name, err.msg);
	mcgroup_remove(name);
out:
	mstate_unlock(vm_lock);
	mstate_unlock(root_lock);
	return st;
}

int cmd_manage(int argc, char **argv)
{
	const char *cmd = argv[0];
	if (!strcmp(cmd, "create"))
		return manage_create(argc, argv);
	if (!strcmp(cmd, "start"))
		return manage_start(argc, argv);
	if (!strcmp(cmd, "stop"))
		return manage_stop(argc, argv);
	if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume") || !strcmp(cmd, "reset"))
		return manage_action(argc, argv);
	if (!strcmp(cmd, "ls"))
		return manage_ls(argc, argv);
	if (!strcmp(cmd, "inspect"))
		return manage_inspect(argc, argv);
	if (!strcmp(cmd, "console"))
		return manage_console(argc, argv);
	if (!strcmp(cmd, "logs"))
		return manage_logs(argc, argv);
	if (!strcmp(cmd, "rm"))
		return manage_rm(argc, argv);
	if (!strcmp(cmd, "migrate") || !strcmp(cmd, "receive"))
		return manage_migrate_cmd(argc, argv);
	if (!strcmp(cmd, "snapshot") || !strcmp(cmd, "restore") || !strcmp(cmd, "clone") ||
	    !strcmp(cmd, "snapshots") || !strcmp(cmd, "revert") || !strcmp(cmd, "snapshot-rm"))
		return manage_snapshot_cmd(argc, argv);
	manage_usage(stderr);
	return EXIT_USAGE;
}
