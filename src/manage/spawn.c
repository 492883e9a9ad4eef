/* SPDX-License-Identifier: MIT */
#include "manage/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "manage/cgroup.h"
#include "manage/client.h"
#include "util/log.h"

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_int(int fd, int v)
{
	ssize_t r = write(fd, &v, sizeof(v));
	(void)r;
}

/* In the grandchild: a clean process in the VM's directory, then exec the VMM. */
static void child_exec(int report, const char *dir, const char *exe, char *const argv[])
{
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	write_int(report, (int)getpid());
	int e = 0;
	if (chdir(dir))
		e = errno;
	int null = e ? -1 : open("/dev/null", O_RDWR);
	int log = e ? -1 : open("vmm.log", O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (!e && (null < 0 || log < 0))
		e = errno;
	if (!e && (dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0))
		e = errno;
	if (!e) {
		/* Nothing of the CLI's leaks in: not its pipes, not its locks. */
		close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
		execv(exe, argv);
		e = errno;
	}
	write_int(report, e);
	_exit(127);
}

/* Fork twice: the VMM is nobody's child (it outlives the CLI) in a session of its own. */
static int spawn_vmm(const char *dir, const char *name, pid_t *out, struct verr *err)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return verr_set(err, errno, "/proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	char *const argv[] = {"vessel",	    "vmm",   "--api-sock",  "api.sock", "--name",
			      (char *)name, "--log", "console.log", NULL};
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return verr_set(err, errno, "pipe: %s", strerror(errno));
	pid_t mid = fork();
	if (mid == 0) {
		close(p[0]);
		setsid();
		pid_t vmm = fork();
		if (vmm == 0)
			child_exec(p[1], dir, exe, argv);
		_exit(vmm < 0 ? 1 : 0);
	}
	close(p[1]);
	if (mid < 0) {
		int e = errno;
		close(p[0]);
		return verr_set(err, e, "fork: %s", strerror(e));
	}
	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	int pid = 0, e = 0;
	ssize_t r1 = read(p[0], &pid, sizeof(pid));
	ssize_t r2 = r1 == sizeof(pid) ? read(p[0], &e, sizeof(e)) : 0;
	close(p[0]);
	if (r1 != sizeof(pid))
		return verr_set(err, EAGAIN, "fork: failed");
	if (r2 == sizeof(e))
		return verr_set(err, e, "cannot run the VMM %s: %s", exe, strerror(e));
	*out = pid;
	return 0;
}

/* The last non-empty line of the VMM's log, for an error message. */
static void last_log_line(const char *dir, char *out, size_t size)
{
	char path[PATH_MAX], buf[4096];
	out[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/vmm.log", dir) >= (int)sizeof(path))
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n <= 0)
		return;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	const char *line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	size_t len = strnlen(line, size - 1);
	memcpy(out, line, len);
	out[len] = '\0';
}

/*
 * Whether process 'pid' exists and is not a zombie.  For a VMM known to be
 * ours: unlike mstate_pid_is_vmm() this does not read its command line, which
 * is briefly unreadable while 'vessel vmm' replaces itself with vessel-vmm.
 */
static bool proc_alive(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static int wait_socket(const char *dir, const char *sock, pid_t pid, struct verr *err)
{
	long long deadline = now_ms() + MSPAWN_SOCKET_WAIT_MS;
	for (;;) {
		struct verr ignore;
		int fd = mclient_connect(sock, &ignore);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (!proc_alive(pid)) {
			char line[300];
			last_log_line(dir, line, sizeof(line));
			return verr_set(err, EIO, "the VMM exited at once%s%s", line[0] ? ": " : "",
					line);
		}
		if (now_ms() > deadline)
			return verr_set(err, ETIMEDOUT,
					"the VMM's API socket did not appear in %d s",
					MSPAWN_SOCKET_WAIT_MS / 1000);
		sleep_ms(10);
	}
}

/* PUT 'body' (stolen) to 'path': 0 on a 2xx answer. */
static int put(const char *sock, const char *path, json_t *body, struct verr *err)
{
	if (!body)
		return verr_set(err, ENOMEM, "out of memory");
	json_t *answer;
	struct verr e = {{0}};
	int st = mclient_json(sock, "PUT", path, body, &answer, &e);
	json_decref(body);
	json_decref(answer);
	if (st < 0)
		return verr_set(err, -st, "%s", e.msg);
	if (st >= 300)
		return verr_set(err, EIO, "PUT %s: %s", path, e.msg);
	return 0;
}

static json_t *boot_source(const struct mdef *d)
{
	json_t *j = json_object();
	if (j && d->kernel)
		json_object_set_new(j, "kernel", json_string(d->kernel));
	if (j && d->initrd)
		json_object_set_new(j, "initrd", json_string(d->initrd));
	if (j && d->append)
		json_object_set_new(j, "append", json_string(d->append));
	if (j && d->firmware)
		json_object_set_new(j, "firmware", json_string(d->firmware));
	return j;
}

static int put_devices(const char *sock, const struct mdef *d, struct verr *err)
{
	char path[64];
	int r = 0;
	for (unsigned i = 0; !r && i < d->ndrives; i++) {
		const struct mdef_drive *dr = &d->drive[i];
		json_t *j = json_pack("{s:s, s:b}", "path", dr->path, "read_only", dr->read_only);
		if (j && dr->format)
			json_object_set_new(j, "format", json_string(dr->format));
		snprintf(path, sizeof(path), "/drives/disk%u", i);
		r = put(sock, path, j, err);
	}
	for (unsigned i = 0; !r && i < d->nnets; i++) {
		const struct mdef_net *n = &d->net[i];
		json_t *fw = json_array();
		for (unsigned k = 0; fw && k < n->nhostfwd; k++)
			json_array_append_new(fw, json_string(n->hostfwd[k]));
		snprintf(path, sizeof(path), "/network-interfaces/net%u", i);
		json_t *j = json_pack("{s:s, s:o*}", "backend", n->backend, "hostfwd", fw);
		if (j && n->mac[0])
			json_object_set_new(j, "mac", json_string(n->mac));
		r = put(sock, path, j, err);
	}
	if (!r && d->rng)
		r = put(sock, "/rng", json_pack("{s:b}", "enabled", 1), err);
	return r;
}

int mspawn_configure(const char *sock, const struct mdef *d, struct verr *err)
{
	json_t *mc = json_pack("{s:i, s:I}", "vcpus", (int)d->vcpus, "memory_mib",
			       (json_int_t)d->memory_mib);
	if (mc && d->cpuset)
		json_object_set_new(mc, "cpuset", json_string(d->cpuset));
	int r = put(sock, "/machine-config", mc, err);
	if (!r && (d->kernel || d->initrd || d->append || d->firmware))
		r = put(sock, "/boot-source", boot_source(d), err);
	if (!r)
		r = put_devices(sock, d, err);
	if (!r && d->restore_from) /* vessel restore: the snapshot instead of a boot */
		r = put(sock, "/snapshot/load", json_pack("{s:s}", "path", d->restore_from), err);
	else if (!r && d->incoming) /* vessel receive: the guest comes from a migration */
		r = put(sock, "/migrate/incoming",
			json_pack("{s:s, s:b}", "listen", d->incoming, "copy_storage",
				  d->incoming_copy),
			err);
	else if (!r)
		r = put(sock, "/actions", json_pack("{s:s}", "action", "start"), err);
	return r;
}

bool mspawn_wait_gone(pid_t pid, unsigned ms)
{
	long long deadline = now_ms() + ms;
	while (proc_alive(pid)) {
		if (now_ms() >= deadline)
			return false;
		sleep_ms(20);
	}
	return true;
}

/* A console log of this start only. */
static int fresh_file(const char *dir, const char *file, struct verr *err)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return verr_set(err, ENAMETOOLONG, "path too long");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return verr_set(err, errno, "%s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

/* After the VMM is gone: no pid, no socket, no cgroup. */
static void cleanup(const struct mstate *s, const char *name)
{
	char sock[PATH_MAX];
	mstate_clear_pid(s, name);
	if (!mstate_path(s, name, "api.sock", sock, sizeof(sock)))
		unlink(sock);
	mcgroup_remove(name);
}

int mspawn_start(const struct mstate *s, const struct mdef *d, pid_t *pid_out, struct verr *err)
{
	char dir[PATH_MAX], sock[PATH_MAX];
	if (mstate_path(s, d->name, NULL, dir, sizeof(dir)) ||
	    mstate_path(s, d->name, "api.sock", sock, sizeof(sock)))
		return verr_set(err, ENAMETOOLONG, "path too long");
	int r = mcgroup_check(d, err);
	if (r)
		return r;
	cleanup(s, d->name);
	if ((r = fresh_file(dir, "console.log", err)) || (r = fresh_file(dir, "vmm.log", err)))
		return r;
	pid_t pid = 0;
	if ((r = spawn_vmm(dir, d->name, &pid, err)))
		return r;
	r = mstate_write_pid(s, d->name, pid, err);
	if (!r)
		r = mcgroup_apply(d, pid, err);
	if (!r)
		r = wait_socket(dir, sock, pid, err);
	if (!r)
		r = mspawn_configure(sock, d, err);
	if (r) {
		kill(pid, SIGKILL);
		mspawn_wait_gone(pid, 2000);
		cleanup(s, d->name);
		return r;
	}
	*pid_out = pid;
	return 0;
}

/* The VM's state and exit reason from GET /vm; -errno when the API does not answer. */
static int vm_state(const char *sock, char *state, size_t ss, char *exit_how, size_t es)
{
	json_t *j;
	struct verr e;
	int st = mclient_json(sock, "GET", "/vm", NULL, &j, &e);
	if (st != 200) {
		json_decref(j);
		return st < 0 ? st : -EIO;
	}
	const char *v = json_string_value(json_object_get(j, "state"));
	const char *x = json_string_value(json_object_get(j, "exit"));
	snprintf(state, ss, "%s", v ? v : "");
	snprintf(exit_how, es, "%s", x ? x : "");
	json_decref(j);
	return 0;
}

/*
 * Wait for the VMM to end, noting the exit reason the API reports on the way.
 * With 'repeat', press the power button again every MSPAWN_SHUTDOWN_REPEAT_MS:
 * a guest still booting may not have been listening for the first press.
 */
static bool wait_end(const char *sock, pid_t pid, unsigned ms, bool repeat, char *how, size_t size)
{
	long long start = now_ms(), deadline = start + ms, next = start + MSPAWN_SHUTDOWN_REPEAT_MS;
	while (proc_alive(pid)) {
		char state[32], x[32];
		struct verr e;
		bool answered = !vm_state(sock, state, sizeof(state), x, sizeof(x));
		if (answered && x[0])
			snprintf(how, size, "%s", x);
		long long now = now_ms();
		if (now >= deadline)
			return false;
		if (repeat && answered && !strcmp(state, "running") && now >= next) {
			put(sock, "/actions", json_pack("{s:s}", "action", "shutdown"), &e);
			next = now + MSPAWN_SHUTDOWN_REPEAT_MS;
		}
		sleep_ms(50);
	}
	return true;
}

int mspawn_stop(const struct mstate *s, const char *name, pid_t pid, bool force,
		unsigned timeout_ms, char *seen, size_t seen_size, struct verr *err)
{
	char sock[PATH_MAX];
	if (mstate_path(s, name, "api.sock", sock, sizeof(sock)))
		return verr_set(err, ENAMETOOLONG, "path too long");
	seen[0] = '\0';
	struct verr e;
	char state[32], x[32];
	/* A paused guest cannot see the power button: let it run to honour it. */
	if (!force && !vm_state(sock, state, sizeof(state), x, sizeof(x)) &&
	    !strcmp(state, "paused"))
		put(sock, "/actions", json_pack("{s:s}", "action", "resume"), &e);
	if (!force && !put(sock, "/actions", json_pack("{s:s}", "action", "shutdown"), &e) &&
	    wait_end(sock, pid, timeout_ms, true, seen, seen_size))
		goto gone;
	/* Hard stop: the API first (the VMM ends cleanly), then the signal. */
	if (!put(sock, "/actions", json_pack("{s:s}", "action", "stop"), &e) &&
	    wait_end(sock, pid, 3000, false, seen, seen_size))
		goto gone;
	if (kill(pid, SIGKILL) && errno != ESRCH)
		return verr_set(err, errno, "kill %d: %s", (int)pid, strerror(errno));
	if (!mspawn_wait_gone(pid, 5000))
		return verr_set(err, ETIMEDOUT, "process %d does not end", (int)pid);
	snprintf(seen, seen_size, "killed");
gone:
	if (!seen[0])
		snprintf(seen, seen_size, "stopped");
	cleanup(s, name);
	return 0;
}
