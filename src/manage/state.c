/* SPDX-License-Identifier: MIT */
#include "manage/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

/* mkdir -p, mode 0700 for what it makes. */
static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		if (!c)
			return 0;
		*p = c;
	}
}

static int root_default(char *out, size_t size)
{
	const char *env = getenv("VESSEL_STATE_DIR");
	if (env && *env)
		return snprintf(out, size, "%s", env) < (int)size ? 0 : -ENAMETOOLONG;
	if (geteuid() == 0)
		return snprintf(out, size, "/var/lib/vessel") < (int)size ? 0 : -ENAMETOOLONG;
	const char *xdg = getenv("XDG_STATE_HOME");
	if (xdg && xdg[0] == '/')
		return snprintf(out, size, "%s/vessel", xdg) < (int)size ? 0 : -ENAMETOOLONG;
	const char *home = getenv("HOME");
	if (!home || home[0] != '/')
		return -ENOENT;
	return snprintf(out, size, "%s/.local/state/vessel", home) < (int)size ? 0 : -ENAMETOOLONG;
}

int mstate_open(struct mstate *s, bool create, struct verr *err)
{
	char raw[PATH_MAX];
	int r = root_default(raw, sizeof(raw));
	if (r == -ENOENT)
		return verr_set(err, ENOENT, "state directory: set VESSEL_STATE_DIR or HOME");
	if (r)
		return verr_set(err, -r, "state directory: path too long");
	if (create && (r = mkdir_p(raw)))
		return verr_set(err, -r, "state directory %s: %s", raw, strerror(-r));
	/* Absolute from here on: the VMM runs in the VM's directory. */
	if (!realpath(raw, s->root)) {
		if (errno == ENOENT && !create) {
			snprintf(s->root, sizeof(s->root), "%s", raw);
			return 0;
		}
		return verr_set(err, errno, "state directory %s: %s", raw, strerror(errno));
	}
	return 0;
}

int mstate_path(const struct mstate *s, const char *name, const char *file, char *out, size_t size)
{
	int n = file ? snprintf(out, size, "%s/%s/%s", s->root, name, file)
		     : snprintf(out, size, "%s/%s", s->root, name);
	return n >= 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

int mstate_lock(const char *path, struct verr *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return verr_set(err, errno, "lock %s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return verr_set(err, e, "lock %s: %s", path, strerror(e));
		}
	}
	return fd;
}

void mstate_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

bool mstate_exists(const struct mstate *s, const char *name)
{
	char p[PATH_MAX];
	struct stat st;
	return !mstate_path(s, name, "vm.json", p, sizeof(p)) && !stat(p, &st);
}

int mstate_write_atomic(const char *path, const char *data, size_t len, struct verr *err)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return verr_set(err, ENAMETOOLONG, "%s: path too long", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return verr_set(err, errno, "%s: %s", tmp, strerror(errno));
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	/* The new content is on disk before the name points at it. */
	int e = done < len ? (errno ? errno : EIO) : (fsync(fd) ? errno : 0);
	close(fd);
	if (!e && rename(tmp, path))
		e = errno;
	if (e) {
		unlink(tmp);
		return verr_set(err, e, "%s: %s", path, strerror(e));
	}
	return 0;
}

static int def_write(const char *path, const struct mdef *d, struct verr *err)
{
	json_t *j = mdef_to_json(d);
	char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (!text)
		return verr_set(err, ENOMEM, "out of memory");
	size_t len = strlen(text);
	text[len] = '\0';
	char *with_nl = realloc(text, len + 2);
	if (!with_nl) {
		free(text);
		return verr_set(err, ENOMEM, "out of memory");
	}
	with_nl[len] = '\n';
	with_nl[len + 1] = '\0';
	int r = mstate_write_atomic(path, with_nl, len + 1, err);
	free(with_nl);
	return r;
}

/* Delete a VM directory's files (it holds no subdirectories), then the directory. */
static int rm_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return -errno;
	struct dirent *e;
	int fd = dirfd(dp), r = 0;
	while ((e = readdir(dp))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!unlinkat(fd, e->d_name, 0) || errno == ENOENT)
			continue;
		r = -errno;
		/* A directory inside (snapshots/ of the named snapshots): emptied too. */
		char sub[PATH_MAX];
		if (r == -EISDIR &&
		    snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) < (int)sizeof(sub))
			r = rm_dir(sub);
	}
	closedir(dp);
	if (!r && rmdir(dir))
		r = -errno;
	return r;
}

int mstate_create(const struct mstate *s, const struct mdef *d, struct verr *err)
{
	char final[PATH_MAX], tmp[PATH_MAX], file[PATH_MAX];
	if (mstate_path(s, d->name, NULL, final, sizeof(final)) ||
	    snprintf(tmp, sizeof(tmp), "%s/.new-%s-XXXXXX", s->root, d->name) >= (int)sizeof(tmp) ||
	    snprintf(file, sizeof(file), "%s/vm.json", tmp) >= (int)sizeof(file))
		return verr_set(err, ENAMETOOLONG, "%s: path too long", d->name);
	if (access(final, F_OK) == 0)
		return verr_set(err, EEXIST, "a VM of that name exists");
	if (!mkdtemp(tmp))
		return verr_set(err, errno, "%s: %s", s->root, strerror(errno));
	/* mkdtemp leaves XXXXXX replaced in 'tmp', not in 'file'. */
	int r = snprintf(file, sizeof(file), "%s/vm.json", tmp) >= (int)sizeof(file)
		    ? verr_set(err, ENAMETOOLONG, "%s: path too long", d->name)
		    : def_write(file, d, err);
	if (!r && renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE)) {
		int e = errno;
		r = e == EEXIST ? verr_set(err, EEXIST, "a VM of that name exists")
				: verr_set(err, e, "%s: %s", final, strerror(e));
	}
	if (r)
		rm_dir(tmp);
	return r;
}

int mstate_load(const struct mstate *s, const char *name, struct mdef *d, struct verr *err)
{
	char path[PATH_MAX];
	memset(d, 0, sizeof(*d));
	if (!mdef_name_valid(name))
		return verr_set(err, EINVAL, "invalid name (1 to %d of A-Z a-z 0-9 _ . -)",
				MDEF_NAME_MAX);
	if (mstate_path(s, name, "vm.json", path, sizeof(path)))
		return verr_set(err, ENAMETOOLONG, "path too long");
	json_error_t je;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		if (access(path, F_OK))
			return verr_set(err, ENOENT, "no such VM");
		return verr_set(err, EINVAL, "%s: %s", path, je.text);
	}
	struct verr e = {{0}};
	int r = mdef_from_json(j, d, &e);
	json_decref(j);
	if (r)
		return verr_set(err, -r, "%s: %s", path, e.msg);
	if (strcmp(d->name, name)) {
		verr_set(err, EINVAL, "%s: names VM '%s'", path, d->name);
		mdef_free(d);
		return -EINVAL;
	}
	return 0;
}

int mstate_save(const struct mstate *s, const struct mdef *d, struct verr *err)
{
	char path[PATH_MAX];
	if (mstate_path(s, d->name, "vm.json", path, sizeof(path)))
		return verr_set(err, ENAMETOOLONG, "path too long");
	return def_write(path, d, err);
}

int mstate_remove(const struct mstate *s, const char *name, struct verr *err)
{
	char dir[PATH_MAX], gone[PATH_MAX];
	if (mstate_path(s, name, NULL, dir, sizeof(dir)) ||
	    snprintf(gone, sizeof(gone), "%s/.rm-%s-XXXXXX", s->root, name) >= (int)sizeof(gone))
		return verr_set(err, ENAMETOOLONG, "path too long");
	/* A unique name for the leaving directory: mkdtemp, then rename over it (empty). */
	if (!mkdtemp(gone))
		return verr_set(err, errno, "%s: %s", s->root, strerror(errno));
	if (rename(dir, gone)) {
		int e = errno;
		rmdir(gone);
		return verr_set(err, e, "%s: %s", dir, e == ENOENT ? "no such VM" : strerror(e));
	}
	int r = rm_dir(gone);
	if (r)
		return verr_set(err, -r, "%s: %s", gone, strerror(-r));
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mstate_list(const struct mstate *s, char ***names, size_t *n, struct verr *err)
{
	*names = NULL;
	*n = 0;
	DIR *dp = opendir(s->root);
	if (!dp)
		return errno == ENOENT ? 0
				       : verr_set(err, errno, "%s: %s", s->root, strerror(errno));
	size_t cap = 0;
	struct dirent *e;
	int r = 0;
	while ((e = readdir(dp))) {
		/* Hidden entries are locks and VMs being made or removed. */
		if (e->d_name[0] == '.' || !mdef_name_valid(e->d_name) ||
		    !mstate_exists(s, e->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			char **bigger = realloc(*names, cap * sizeof(char *));
			if (!bigger) {
				r = -ENOMEM;
				break;
			}
			*names = bigger;
		}
		if (!((*names)[*n] = strdup(e->d_name))) {
			r = -ENOMEM;
			break;
		}
		(*n)++;
	}
	closedir(dp);
	if (r) {
		mstate_list_free(*names, *n);
		*names = NULL;
		*n = 0;
		return verr_set(err, -r, "out of memory");
	}
	if (*n)
		qsort(*names, *n, sizeof(char *), cmp_str);
	return 0;
}

void mstate_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * /proc/PID/cmdline is that of a VMM: "vessel vmm ..." or, once that has
 * replaced itself with the API server's executable, "vessel-vmm ...".  A
 * zombie has an empty command line.
 */
static bool proc_is_vmm(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	size_t a0 = strlen(buf);
	const char *base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	if (!strcmp(base, "vessel-vmm"))
		return true;
	return (size_t)n > a0 + 1 && !strncmp(base, "vessel", 6) && !strcmp(buf + a0 + 1, "vmm");
}

bool mstate_pid_is_vmm(pid_t pid, const char *dir)
{
	if (pid <= 0 || !proc_is_vmm(pid))
		return false;
	char link[64], cwd[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	ssize_t n = readlink(link, cwd, sizeof(cwd) - 1);
	if (n <= 0)
		return false;
	cwd[n] = '\0';
	return !strcmp(cwd, dir);
}

pid_t mstate_pid(const struct mstate *s, const char *name)
{
	char path[PATH_MAX], dir[PATH_MAX], buf[32];
	if (mstate_path(s, name, "pid", path, sizeof(path)) ||
	    mstate_path(s, name, NULL, dir, sizeof(dir)))
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *end;
	long pid = strtol(buf, &end, 10);
	if (end == buf || pid <= 0 || pid > 0x7fffffff)
		return 0;
	return mstate_pid_is_vmm((pid_t)pid, dir) ? (pid_t)pid : 0;
}

int mstate_write_pid(const struct mstate *s, const char *name, pid_t pid, struct verr *err)
{
	char path[PATH_MAX], buf[32];
	if (mstate_path(s, name, "pid", path, sizeof(path)))
		return verr_set(err, ENAMETOOLONG, "path too long");
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	return mstate_write_atomic(path, buf, (size_t)n, err);
}

void mstate_clear_pid(const struct mstate *s, const char *name)
{
	char path[PATH_MAX];
	if (!mstate_path(s, name, "pid", path, sizeof(path)))
		unlink(path);
}
