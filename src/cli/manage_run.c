/* SPDX-License-Identifier: MIT */
/* vessel start, stop, pause, resume, reset: a VM's lifecycle through its VMM's API. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/manage.h"
#include "manage/client.h"
#include "manage/spawn.h"
#include "util/log.h"

#define STOP_DEFAULT_TIMEOUT_S 30

/* Take VM NAME's lock (it must exist): the fd, or -1 with the error printed. */
static int lock_vm(const char *cmd, const struct mstate *s, const char *name)
{
	char path[PATH_MAX];
	struct verr err = {{0}};
	if (!mstate_exists(s, name)) {
		manage_fail(cmd, name, "no such VM");
		return -1;
	}
	if (mstate_path(s, name, "lock", path, sizeof(path))) {
		manage_fail(cmd, name, "path too long");
		return -1;
	}
	int fd = mstate_lock(path, &err);
	if (fd < 0) {
		manage_fail(cmd, name, err.msg);
		return -1;
	}
	/* Removed while we waited? */
	if (!mstate_exists(s, name)) {
		mstate_unlock(fd);
		manage_fail(cmd, name, "no such VM");
		return -1;
	}
	return fd;
}

/*
 * Whether the VMM 'pid' has a stopped machine and is gone within a moment
 * (it answers for about half a second after the guest powered off).
 */
static bool vmm_ending(const struct mstate *s, const char *name, pid_t pid)
{
	char sock[PATH_MAX];
	json_t *j = NULL;
	struct verr e;
	if (mstate_path(s, name, "api.sock", sock, sizeof(sock)))
		return false;
	const char *state = NULL;
	if (mclient_json(sock, "GET", "/vm", NULL, &j, &e) == 200)
		state = json_string_value(json_object_get(j, "state"));
	bool stopped = state && !strcmp(state, "stopped");
	json_decref(j);
	return stopped && mspawn_wait_gone(pid, 3000);
}

int manage_start(int argc, char **argv)
{
	const char *name;
	bool attach = false;
	int st = manage_parse_name(argc, argv, "attach", &name, &attach);
	if (st >= 0)
		return st;
	struct mstate s;
	struct mdef d;
	if ((st = manage_open("start", &s, false)) || (st = manage_load("start", &s, name, &d)))
		return st;
	int fd = lock_vm("start", &s, name);
	if (fd < 0) {
		mdef_free(&d);
		return EXIT_FAILURE_VMM;
	}
	struct verr err = {{0}};
	pid_t pid = mstate_pid(&s, name);
	if (pid && vmm_ending(&s, name, pid))
		pid = 0;
	if (pid)
		st = manage_fail("start", name, "already running");
	else if (mspawn_start(&s, &d, &pid, &err))
		st = manage_fail("start", name, err.msg);
	mstate_unlock(fd);
	mdef_free(&d);
	if (st)
		return st;
	if (attach)
		return manage_console_attach(&s, name);
	printf("%s: started (pid %d)\n", name, (int)pid);
	return 0;
}

static int parse_timeout(const char *s, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > 3600)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int manage_stop(int argc, char **argv)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
					     {"timeout", required_argument, NULL, 't'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *name = NULL;
	bool force = false;
	unsigned timeout = STOP_DEFAULT_TIMEOUT_S;
	int opt, st;
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "-:h", opts, NULL)) != -1) {
		if (opt == 1) {
			if (name) {
				log_error("stop: unexpected argument '%s'", optarg);
				return EXIT_USAGE;
			}
			name = optarg;
		} else if (opt == 'f') {
			force = true;
		} else if (opt == 't') {
			if (parse_timeout(optarg, &timeout)) {
				log_error("stop: --timeout %s: need seconds, 0 to 3600", optarg);
				return EXIT_USAGE;
			}
		} else if (opt == 'h') {
			manage_usage(stdout);
			return 0;
		} else {
			log_error("stop: %s '%s' (try 'vessel stop --help')",
				  opt == ':' ? "option needs an argument" : "unknown option",
				  argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if ((st = manage_check_name("stop", name)) >= 0)
		return st;
	struct mstate s;
	if ((st = manage_open("stop", &s, false)))
		return st;
	int fd = lock_vm("stop", &s, name);
	if (fd < 0)
		return EXIT_FAILURE_VMM;
	struct verr err = {{0}};
	char how[32] = "";
	pid_t pid = mstate_pid(&s, name);
	if (!pid)
		st = manage_fail("stop", name, "not running");
	else if (mspawn_stop(&s, name, pid, force, timeout * 1000, how, sizeof(how), &err))
		st = manage_fail("stop", name, err.msg);
	else
		printf("%s: stopped (%s)\n", name, how);
	mstate_unlock(fd);
	return st;
}

/* pause, resume, reset: one action of the API; its 409 message says why not. */
int manage_action(int argc, char **argv)
{
	const char *cmd = argv[0], *name;
	int st = manage_parse_name(argc, argv, NULL, &name, NULL);
	if (st >= 0)
		return st;
	struct mstate s;
	if ((st = manage_open(cmd, &s, false)))
		return st;
	if (!mstate_exists(&s, name))
		return manage_fail(cmd, name, "no such VM");
	if (!mstate_pid(&s, name))
		return manage_fail(cmd, name, "not running");
	char sock[PATH_MAX];
	if (mstate_path(&s, name, "api.sock", sock, sizeof(sock)))
		return manage_fail(cmd, name, "path too long");
	json_t *req = json_pack("{s:s}", "action", cmd), *answer;
	struct verr err = {{0}};
	st = mclient_json(sock, "PUT", "/actions", req, &answer, &err);
	json_decref(req);
	json_decref(answer);
	if (st < 200 || st >= 300)
		return manage_fail(cmd, name, err.msg);
	return 0;
}
