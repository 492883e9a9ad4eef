/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the manager's pieces: VM definitions and their JSON, the
 * state directory (atomic create/remove, listing, liveness of a pid), the
 * HTTP client against a fake API server thread, the configuration requests a
 * start sends, and the cgroup v2 writes (against a directory standing in
 * for the cgroup2 root).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manage/cgroup.h"
#include "manage/client.h"
#include "manage/def.h"
#include "manage/spawn.h"
#include "manage/state.h"
#include "util/log.h"

static int failures;

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);      \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static char tmpdir[256];

static void read_file(const char *path, char *buf, size_t size)
{
	buf[0] = '\0';
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		ssize_t n = write(fd, s, strlen(s));
		(void)n;
		close(fd);
	}
}

/* ---- definitions ---- */

static void test_names(void)
{
	CHECK(mdef_name_valid("vm1"));
	CHECK(mdef_name_valid("a.b-c_D9"));
	CHECK(!mdef_name_valid(""));
	CHECK(!mdef_name_valid("."));
	CHECK(!mdef_name_valid(".."));
	CHECK(!mdef_name_valid("a/b"));
	CHECK(!mdef_name_valid("a b"));
	CHECK(!mdef_name_valid("é"));
	char n64[65], n65[66];
	memset(n64, 'x', 64);
	n64[64] = '\0';
	memset(n65, 'x', 65);
	n65[65] = '\0';
	CHECK(mdef_name_valid(n64));
	CHECK(!mdef_name_valid(n65));
}

static void test_cpuset_net(void)
{
	struct verr e;
	CHECK(!mdef_cpuset_check("0", 2, &e));
	CHECK(!mdef_cpuset_check("0-1", 2, &e));
	CHECK(!mdef_cpuset_check("1,0", 2, &e));
	CHECK(mdef_cpuset_check("2", 2, &e) == -EINVAL && strstr(e.msg, "CPUs 0 to 1"));
	CHECK(mdef_cpuset_check("1-0", 4, &e) == -EINVAL);
	CHECK(mdef_cpuset_check("0,", 4, &e) == -EINVAL);
	CHECK(mdef_cpuset_check("", 4, &e) == -EINVAL);
	CHECK(mdef_cpuset_check("a", 4, &e) == -EINVAL);
	CHECK(mdef_cpuset_check("-1", 4, &e) == -EINVAL);

	struct mdef_net n;
	CHECK(!mdef_net_parse("user", &n, &e) && n.nhostfwd == 0 && !strcmp(n.backend, "user"));
	free(n.backend);
	CHECK(!mdef_net_parse("user,hostfwd=tcp::8080-:80,hostfwd=udp:127.0.0.1:53-10.0.2.15:53",
			      &n, &e));
	CHECK(n.nhostfwd == 2 && !strcmp(n.hostfwd[0], "tcp::8080-:80") &&
	      !strcmp(n.hostfwd[1], "udp:127.0.0.1:53-10.0.2.15:53"));
	free(n.backend);
	free(n.hostfwd[0]);
	free(n.hostfwd[1]);
	CHECK(!mdef_net_parse("user,hostfwd=::8080-:80", &n, &e)); /* tcp by default */
	free(n.backend);
	free(n.hostfwd[0]);
	CHECK(mdef_net_parse("tap", &n, &e) == -EINVAL && strstr(e.msg, "tap"));
	CHECK(mdef_net_parse("user,", &n, &e) == -EINVAL);
	CHECK(mdef_net_parse("user,foo=1", &n, &e) == -EINVAL && strstr(e.msg, "foo"));
	CHECK(mdef_net_parse("user,hostfwd=tcp::x-:22", &n, &e) == -EINVAL);
	CHECK(mdef_net_parse("user,hostfwd=tcp::70000-:22", &n, &e) == -EINVAL);
	CHECK(mdef_net_parse("user,hostfwd=sctp::1-:22", &n, &e) == -EINVAL);
	CHECK(mdef_net_parse("user,hostfwd=tcp:1.2.3:1-:22", &n, &e) == -EINVAL);
	CHECK(mdef_net_parse("user,hostfwd=tcp::1", &n, &e) == -EINVAL);
}

static void fill_def(struct mdef *d, const char *name)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->vcpus = 2;
	d->memory_mib = 128;
	d->cpuset = strdup("0-1");
	d->kernel = strdup("/boot/Image");
	d->append = strdup("console=ttyS0 quiet \"x\"");
	d->drive[0].path = strdup("/d/a.qcow2");
	d->drive[0].format = strdup("qcow2");
	d->drive[1].path = strdup("/d/b.raw");
	d->drive[1].read_only = true;
	d->ndrives = 2;
	struct verr e;
	mdef_net_parse("user,hostfwd=tcp::2222-:22", &d->net[0], &e);
	d->nnets = 1;
	d->rng = true;
	d->cpu_max_percent = 150;
	d->memory_limit = 200ull << 20;
}

static void test_def_json(void)
{
	struct mdef d, back;
	struct verr e;
	fill_def(&d, "vm-1");
	json_t *j = mdef_to_json(&d);
	CHECK(j);
	CHECK(!mdef_from_json(j, &back, &e));
	CHECK(!strcmp(back.name, "vm-1") && back.vcpus == 2 && back.memory_mib == 128);
	CHECK(back.cpuset && !strcmp(back.cpuset, "0-1"));
	CHECK(back.kernel && !strcmp(back.kernel, "/boot/Image") && !back.initrd && !back.firmware);
	CHECK(back.append && !strcmp(back.append, d.append));
	CHECK(back.ndrives == 2 && !strcmp(back.drive[0].format, "qcow2") &&
	      !back.drive[1].format && back.drive[1].read_only && !back.drive[0].read_only);
	CHECK(back.nnets == 1 && back.net[0].nhostfwd == 1 &&
	      !strcmp(back.net[0].hostfwd[0], "tcp::2222-:22"));
	CHECK(back.rng && back.cpu_max_percent == 150 && back.memory_limit == 200ull << 20);
	mdef_free(&back);

	/* Strictness: unknown keys, wrong types, bad values. */
	json_t *k = json_deep_copy(j);
	json_object_set_new(k, "bogus", json_true());
	CHECK(mdef_from_json(k, &back, &e) == -EINVAL && strstr(e.msg, "bogus"));
	json_decref(k);
	k = json_deep_copy(j);
	json_object_set_new(k, "vcpus", json_string("2"));
	CHECK(mdef_from_json(k, &back, &e) == -EINVAL);
	json_decref(k);
	k = json_deep_copy(j);
	json_object_set_new(k, "vcpus", json_integer(9));
	CHECK(mdef_from_json(k, &back, &e) == -EINVAL);
	json_decref(k);
	k = json_deep_copy(j);
	json_object_set_new(k, "name", json_string("../x"));
	CHECK(mdef_from_json(k, &back, &e) == -EINVAL);
	json_decref(k);
	k = json_deep_copy(j);
	json_object_set_new(json_array_get(json_object_get(k, "drives"), 0), "path",
			    json_string("relative.img"));
	CHECK(mdef_from_json(k, &back, &e) == -EINVAL);
	json_decref(k);
	k = json_deep_copy(j);
	json_array_append_new(
	    json_object_get(json_array_get(json_object_get(k, "nets"), 0), "hostfwd"),
	    json_string("nonsense"));
	CHECK(mdef_from_json(k, &back, &e) == -EINVAL);
	json_decref(k);
	/* Too many devices for the machine's slots. */
	k = json_deep_copy(j);
	for (int i = 0; i < 6; i++)
		json_array_append(json_object_get(k, "drives"),
				  json_array_get(json_object_get(k, "drives"), 0));
	CHECK(mdef_from_json(k, &back, &e) == -EINVAL);
	json_decref(k);
	json_decref(j);
	mdef_free(&d);
}

/* ---- state directory ---- */

static void test_state(void)
{
	char root[300], path[PATH_MAX], buf[4096];
	struct verr e;
	snprintf(root, sizeof(root), "%s/state/sub", tmpdir);
	setenv("VESSEL_STATE_DIR", root, 1);
	struct mstate s;
	CHECK(!mstate_open(&s, false, &e)); /* missing is fine for reading */
	char **names;
	size_t n;
	CHECK(!mstate_list(&s, &names, &n, &e) && n == 0);
	CHECK(!mstate_open(&s, true, &e));
	struct stat st;
	CHECK(!stat(root, &st) && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);

	struct mdef d, back;
	fill_def(&d, "beta");
	CHECK(!mstate_create(&s, &d, &e));
	CHECK(mstate_create(&s, &d, &e) == -EEXIST && strstr(e.msg, "exists"));
	mdef_free(&d);
	fill_def(&d, "alpha");
	CHECK(!mstate_create(&s, &d, &e));
	CHECK(mstate_exists(&s, "alpha") && !mstate_exists(&s, "gamma"));
	CHECK(!mstate_list(&s, &names, &n, &e) && n == 2 && !strcmp(names[0], "alpha") &&
	      !strcmp(names[1], "beta"));
	mstate_list_free(names, n);

	CHECK(!mstate_load(&s, "alpha", &back, &e) && back.cpu_max_percent == 150);
	mdef_free(&back);
	CHECK(mstate_load(&s, "gamma", &back, &e) == -ENOENT && strstr(e.msg, "no such VM"));
	CHECK(mstate_load(&s, "../x", &back, &e) == -EINVAL);
	d.vcpus = 1;
	CHECK(!mstate_save(&s, &d, &e));
	CHECK(!mstate_load(&s, "alpha", &back, &e) && back.vcpus == 1);
	mdef_free(&back);
	mstate_path(&s, "alpha", "vm.json.tmp", path, sizeof(path));
	CHECK(access(path, F_OK)); /* no temporary left */

	/* A corrupt vm.json: a clear error, not a crash. */
	mstate_path(&s, "beta", "vm.json", path, sizeof(path));
	read_file(path, buf, sizeof(buf));
	write_file(path, "{\"version\": 1, \"name\": ");
	CHECK(mstate_load(&s, "beta", &back, &e) == -EINVAL && strstr(e.msg, "vm.json"));
	write_file(path, buf);
	CHECK(!mstate_load(&s, "beta", &back, &e));
	mdef_free(&back);

	/* Liveness: no pid file, a stale pid, a pid that is not a VMM. */
	CHECK(mstate_pid(&s, "alpha") == 0);
	CHECK(!mstate_write_pid(&s, "alpha", getpid(), &e));
	CHECK(mstate_pid(&s, "alpha") == 0); /* this test is not 'vessel vmm' */
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	mstate_write_pid(&s, "alpha", child, &e);
	CHECK(mstate_pid(&s, "alpha") == 0); /* gone */
	/* A stand-in VMM: this binary as "vessel vmm", in alpha's directory. */
	char dir[PATH_MAX];
	mstate_path(&s, "alpha", NULL, dir, sizeof(dir));
	child = fork();
	if (child == 0) {
		if (chdir(dir) == 0)
			execl("/proc/self/exe", "vessel", "vmm", (char *)NULL);
		_exit(1);
	}
	mstate_write_pid(&s, "alpha", child, &e);
	for (int i = 0; i < 200 && !mstate_pid(&s, "alpha"); i++)
		usleep(10000);
	CHECK(mstate_pid(&s, "alpha") == child);
	/* The same process is not beta's VMM (its cwd is alpha's directory). */
	mstate_write_pid(&s, "beta", child, &e);
	CHECK(mstate_pid(&s, "beta") == 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* What 'vessel vmm' becomes: the vessel-vmm executable. */
	child = fork();
	if (child == 0) {
		if (chdir(dir) == 0)
			execl("/proc/self/exe", "/usr/bin/vessel-vmm", "--api-sock", "api.sock",
			      (char *)NULL);
		_exit(1);
	}
	mstate_write_pid(&s, "alpha", child, &e);
	for (int i = 0; i < 200 && !mstate_pid(&s, "alpha"); i++)
		usleep(10000);
	CHECK(mstate_pid(&s, "alpha") == child);
	kill(child, SIGKILL);
	/* A zombie does not count either. */
	usleep(50000);
	CHECK(mstate_pid(&s, "alpha") == 0);
	waitpid(child, NULL, 0);
	mstate_clear_pid(&s, "alpha");
	mstate_path(&s, "alpha", "pid", path, sizeof(path));
	CHECK(access(path, F_OK));

	/* Locks exclude each other across processes. */
	mstate_path(&s, "alpha", "lock", path, sizeof(path));
	int fd = mstate_lock(path, &e);
	CHECK(fd >= 0);
	child = fork();
	if (child == 0) {
		int f2 = open(path, O_RDWR);
		_exit(flock(f2, LOCK_EX | LOCK_NB) == 0 ? 1 : 0);
	}
	int wst;
	waitpid(child, &wst, 0);
	CHECK(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
	mstate_unlock(fd);

	/* Removal is whole: nothing left, no hidden leftovers either. */
	mstate_path(&s, "alpha", "console.log", path, sizeof(path));
	write_file(path, "boot\n");
	CHECK(!mstate_remove(&s, "alpha", &e));
	CHECK(!mstate_exists(&s, "alpha"));
	CHECK(mstate_remove(&s, "alpha", &e) == -ENOENT);
	CHECK(!mstate_remove(&s, "beta", &e));
	CHECK(!mstate_list(&s, &names, &n, &e) && n == 0);
	int entries = 0;
	DIR *dp = opendir(root);
	for (struct dirent *de; dp && (de = readdir(dp));)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			entries++;
	if (dp)
		closedir(dp);
	CHECK(entries == 0);
	mdef_free(&d);

	/* The default root without VESSEL_STATE_DIR. */
	unsetenv("VESSEL_STATE_DIR");
	setenv("HOME", "/nonexistent-home", 1);
	CHECK(!mstate_open(&s, false, &e));
	CHECK(!strcmp(s.root, geteuid() == 0 ? "/var/lib/vessel"
					     : "/nonexistent-home/.local/state/vessel"));
}

/* ---- a fake API server ---- */

struct fake {
	int lfd;
	char sock[PATH_MAX];
	pthread_t thread;
	char log[16384]; /* "METHOD PATH BODY\n" per request */
	pthread_mutex_t lock;
	int refuse_path_substr; /* answer 400 to the request whose path has "disk1" */
};

static void send_str(int fd, const char *s)
{
	ssize_t n = send(fd, s, strlen(s), MSG_NOSIGNAL);
	(void)n;
}

/* Read one request: the header, then Content-Length bytes. */
static int read_req(int fd, char *buf, size_t size, char **body)
{
	size_t len = 0;
	char *end = NULL;
	while (!end) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	char *cl = strcasestr(buf, "Content-Length:");
	size_t want = cl ? strtoul(cl + 15, NULL, 10) : 0;
	*body = end + 4;
	while ((size_t)(buf + len - *body) < want) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
	}
	return 0;
}

static void serve(struct fake *f, int c)
{
	char buf[8192], method[16], path[256], ans[1024];
	char *body;
	if (read_req(c, buf, sizeof(buf), &body) || sscanf(buf, "%15s %255s", method, path) != 2)
		return;
	pthread_mutex_lock(&f->lock);
	size_t l = strlen(f->log);
	snprintf(f->log + l, sizeof(f->log) - l, "%s %s %s\n", method, path, body);
	pthread_mutex_unlock(&f->lock);
	if (!strcmp(path, "/json")) {
		char js[512];
		snprintf(js, sizeof(js), "{\"method\":\"%s\",\"len\":%zu}", method, strlen(body));
		snprintf(ans, sizeof(ans),
			 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nX-Console-Offset: 42\r\n\r\n%s",
			 strlen(js), js);
		send_str(c, ans);
	} else if (!strcmp(path, "/chunked")) {
		/* Split over several writes, as a streaming server would. */
		send_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
		usleep(20000);
		send_str(c, "7;ext=1\r\n, world\r\n0\r\n\r\n");
	} else if (!strcmp(path, "/eof")) {
		send_str(c, "HTTP/1.1 200 OK\r\n\r\nuntil the end");
	} else if (!strcmp(path, "/conflict") || (f->refuse_path_substr && strstr(path, "disk1"))) {
		const char *js = "{\"error\":\"the VM is already paused\"}";
		snprintf(ans, sizeof(ans), "HTTP/1.1 409 Conflict\r\nContent-Length: %zu\r\n\r\n%s",
			 strlen(js), js);
		send_str(c, ans);
	} else if (!strcmp(path, "/garbage")) {
		send_str(c, "SSH-2.0-nonsense\r\n\r\n");
	} else if (!strcmp(path, "/short")) {
		send_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
	} else if (!strcmp(path, "/upgrade")) {
		if (!strcasestr(buf, "Upgrade: vessel-console")) {
			send_str(c, "HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n");
			return;
		}
		send_str(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
			    "Upgrade: vessel-console\r\n\r\nearly");
		/* Echo, upper-cased, until the client closes. */
		char b[256];
		ssize_t n;
		while ((n = recv(c, b, sizeof(b), 0)) > 0) {
			for (ssize_t i = 0; i < n; i++)
				if (b[i] >= 'a' && b[i] <= 'z')
					b[i] -= 32;
			send(c, b, (size_t)n, MSG_NOSIGNAL);
		}
	} else if (!strcmp(method, "PUT")) {
		send_str(c, "HTTP/1.1 204 No Content\r\n\r\n");
	} else {
		send_str(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 21\r\n\r\n"
			    "{\"error\":\"not found\"}");
	}
}

static void *fake_main(void *opaque)
{
	struct fake *f = opaque;
	for (;;) {
		int c = accept(f->lfd, NULL, NULL);
		if (c < 0)
			return NULL;
		serve(f, c);
		close(c);
	}
}

static int fake_start(struct fake *f, const char *sock)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	snprintf(f->sock, sizeof(f->sock), "%s", sock);
	/* Bind through the directory's fd: the path may be longer than sun_path. */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", sock);
	*strrchr(dir, '/') = '\0';
	int dfd = open(dir, O_PATH | O_DIRECTORY);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd,
		 strrchr(sock, '/') + 1);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(f->lfd, 16))
		return -1;
	close(dfd);
	return pthread_create(&f->thread, NULL, fake_main, f);
}

static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	close(f->lfd);
	pthread_join(f->thread, NULL);
	unlink(f->sock);
}

static void test_client(const char *sock)
{
	struct fake f;
	CHECK(!fake_start(&f, sock));
	struct verr e;
	struct mclient_resp r;
	char v[64];

	CHECK(!mclient_request(sock, "GET", "/json", NULL, 0, &r, &e));
	CHECK(r.status == 200 && strstr(r.body, "\"GET\"") && r.len == strlen(r.body));
	CHECK(!mclient_resp_header(&r, "x-console-offset", v, sizeof(v)) && !strcmp(v, "42"));
	CHECK(mclient_resp_header(&r, "X-Missing", v, sizeof(v)) == -ENOENT);
	mclient_resp_free(&r);

	CHECK(!mclient_request(sock, "GET", "/chunked", NULL, 0, &r, &e));
	CHECK(r.status == 200 && r.len == 12 && !strcmp(r.body, "hello, world"));
	mclient_resp_free(&r);

	CHECK(!mclient_request(sock, "GET", "/eof", NULL, 0, &r, &e));
	CHECK(r.status == 200 && !strcmp(r.body, "until the end"));
	mclient_resp_free(&r);

	CHECK(mclient_request(sock, "GET", "/garbage", NULL, 0, &r, &e) == -EPROTO &&
	      strstr(e.msg, "not an HTTP answer"));
	CHECK(mclient_request(sock, "GET", "/short", NULL, 0, &r, &e) == -EPROTO);

	/* JSON in and out; the API's error message comes through. */
	json_t *req = json_pack("{s:s}", "action", "pause"), *ans;
	CHECK(mclient_json(sock, "PUT", "/json", req, &ans, &e) == 200);
	CHECK(ans && json_integer_value(json_object_get(ans, "len")) == 18);
	json_decref(ans);
	CHECK(strstr(f.log, "PUT /json {\"action\":\"pause\"}"));
	CHECK(mclient_json(sock, "PUT", "/conflict", req, &ans, &e) == 409);
	CHECK(!strcmp(e.msg, "the VM is already paused"));
	json_decref(ans);
	CHECK(mclient_json(sock, "GET", "/nowhere", NULL, &ans, &e) == 404);
	json_decref(ans);
	json_decref(req);

	/* The console upgrade: early bytes, then a raw two-way stream. */
	char *early;
	size_t elen;
	int fd = mclient_upgrade(sock, "/upgrade", "vessel-console", &early, &elen, &e);
	CHECK(fd >= 0);
	if (fd >= 0) {
		char got[64] = "";
		size_t have = elen;
		memcpy(got, early, elen);
		while (have < 5) {
			ssize_t n = read(fd, got + have, sizeof(got) - 1 - have);
			if (n <= 0)
				break;
			have += (size_t)n;
		}
		CHECK(have == 5 && !memcmp(got, "early", 5));
		CHECK(write(fd, "ls -l\n", 6) == 6);
		have = 0;
		while (have < 6) {
			ssize_t n = read(fd, got + have, sizeof(got) - 1 - have);
			if (n <= 0)
				break;
			have += (size_t)n;
		}
		CHECK(have == 6 && !memcmp(got, "LS -L\n", 6));
		close(fd);
	}
	free(early);
	CHECK(mclient_upgrade(sock, "/nowhere", "vessel-console", &early, &elen, &e) == -EIO &&
	      strstr(e.msg, "not found"));

	/* The configuration a start sends, in order; a refusal stops it. */
	struct mdef d;
	fill_def(&d, "cfg");
	pthread_mutex_lock(&f.lock);
	f.log[0] = '\0';
	pthread_mutex_unlock(&f.lock);
	CHECK(!mspawn_configure(sock, &d, &e));
	const char *want[] = {
	    "PUT /machine-config {\"vcpus\":2,\"memory_mib\":128,\"cpuset\":\"0-1\"}",
	    "PUT /boot-source {\"kernel\":\"/boot/Image\",\"append\":\"console=ttyS0 quiet "
	    "\\\"x\\\"\"}",
	    "PUT /drives/disk0 {\"path\":\"/d/a.qcow2\",\"read_only\":false,\"format\":\"qcow2\"}",
	    "PUT /drives/disk1 {\"path\":\"/d/b.raw\",\"read_only\":true}",
	    "PUT /network-interfaces/net0 {\"backend\":\"user\",\"hostfwd\":[\"tcp::2222-:22\"]}",
	    "PUT /rng {\"enabled\":true}",
	    "PUT /actions {\"action\":\"start\"}",
	};
	const char *p = f.log;
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *at = strstr(p, want[i]);
		if (!at)
			fprintf(stderr, "missing in order: %s\nlog:\n%s", want[i], f.log);
		CHECK(at);
		if (at)
			p = at + strlen(want[i]);
	}
	pthread_mutex_lock(&f.lock);
	f.log[0] = '\0';
	f.refuse_path_substr = 1;
	pthread_mutex_unlock(&f.lock);
	CHECK(mspawn_configure(sock, &d, &e) == -EIO);
	CHECK(strstr(e.msg, "PUT /drives/disk1: the VM is already paused"));
	CHECK(!strstr(f.log, "/actions")); /* not started after a refusal */
	mdef_free(&d);
	fake_stop(&f);
	/* Nobody listening. */
	CHECK(mclient_request(sock, "GET", "/vm", NULL, 0, &r, &e) == -ENOENT);
}

/* ---- cgroup v2 ---- */

static void test_cgroup(void)
{
	char root[300], path[PATH_MAX], buf[256];
	struct verr e;
	struct mdef d = {.name = "cg1", .vcpus = 1, .memory_mib = 128};
	snprintf(root, sizeof(root), "%s/cgroot", tmpdir);
	mkdir(root, 0755);
	setenv("VESSEL_CGROUP_ROOT", root, 1);

	/* No limit asked: no cgroup needed, whatever the host has. */
	CHECK(!mcgroup_check(&d, &e) && !mcgroup_apply(&d, getpid(), &e));
	snprintf(path, sizeof(path), "%s/vessel.slice", root);
	CHECK(access(path, F_OK));

	/* Controllers bound elsewhere (a hybrid host): a clear error. */
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	write_file(path, "hugetlb pids\n");
	d.cpu_max_percent = 50;
	CHECK(mcgroup_check(&d, &e) == -ENOTSUP && strstr(e.msg, "--cpu-max") &&
	      strstr(e.msg, "no cpu controller") && strstr(e.msg, "hugetlb pids"));
	d.cpu_max_percent = 0;
	d.memory_limit = 64 << 20;
	CHECK(mcgroup_check(&d, &e) == -ENOTSUP && strstr(e.msg, "--memory-limit") &&
	      strstr(e.msg, "no memory controller"));
	/* "cpuset" is not "cpu". */
	write_file(path, "cpuset memory\n");
	d.cpu_max_percent = 50;
	CHECK(mcgroup_check(&d, &e) == -ENOTSUP);

	/* A usable root: the slice, the VM's group, its limits and its process. */
	write_file(path, "cpuset cpu io memory pids\n");
	CHECK(!mcgroup_check(&d, &e));
	CHECK(!mcgroup_apply(&d, 4242, &e));
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
	read_file(path, buf, sizeof(buf));
	CHECK(!strcmp(buf, "+cpu +memory"));
	snprintf(path, sizeof(path), "%s/vessel.slice/cgroup.subtree_control", root);
	read_file(path, buf, sizeof(buf));
	CHECK(!strcmp(buf, "+cpu +memory"));
	snprintf(path, sizeof(path), "%s/vessel.slice/vm-cg1/cpu.max", root);
	read_file(path, buf, sizeof(buf));
	CHECK(!strcmp(buf, "50000 100000"));
	snprintf(path, sizeof(path), "%s/vessel.slice/vm-cg1/memory.max", root);
	read_file(path, buf, sizeof(buf));
	CHECK(!strcmp(buf, "67108864"));
	snprintf(path, sizeof(path), "%s/vessel.slice/vm-cg1/cgroup.procs", root);
	read_file(path, buf, sizeof(buf));
	CHECK(!strcmp(buf, "4242"));
	char cg[PATH_MAX];
	CHECK(!mcgroup_path("cg1", cg, sizeof(cg)) && strstr(cg, "/vessel.slice/vm-cg1"));
	unsetenv("VESSEL_CGROUP_ROOT");
}

int main(int argc, char **argv)
{
	/* The stand-in VMM of test_state(). */
	if ((argc == 2 && !strcmp(argv[1], "vmm")) ||
	    (argc > 1 && !strcmp(argv[1], "--api-sock"))) {
		pause();
		return 0;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vessel-manage-test-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	test_names();
	test_cpuset_net();
	test_def_json();
	test_state();
	char sock[PATH_MAX + 16];
	snprintf(sock, sizeof(sock), "%s/api.sock", tmpdir);
	test_client(sock);
	/* A socket path longer than sun_path (108 bytes) still connects. */
	char deep[512];
	snprintf(deep, sizeof(deep), "%s/%0120d", tmpdir, 0);
	mkdir(deep, 0700);
	snprintf(sock, sizeof(sock), "%s/api.sock", deep);
	test_client(sock);
	test_cgroup();
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd))
		failures++;
	if (failures) {
		fprintf(stderr, "FAIL: %d check(s)\n", failures);
		return 1;
	}
	printf("PASS: manage unit tests\n");
	return 0;
}
