/* SPDX-License-Identifier: MIT */
/*
 * The snapshot paths of the per-VM API (docs/snapshot.md):
 *
 *   PUT /snapshot/create {"path": P}  running or paused VM: save it to P
 *       (and its writable disks to P.disk-ID), then go on as before.
 *   PUT /snapshot/load {"path": P}    configuring VM, configured with the
 *       snapshot's devices: build the machine from P and run it.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/http.h"
#include "api/identity.h"
#include "api/snapshot_routes.h"
#include "api/vm.h"
#include "machine/virt.h"
#include "block/block.h"
#include "devices/virtio_blk.h"
#include "snapshot/format.h"
#include "snapshot/migrate.h"
#include "snapshot/migrate_disk.h"
#include "snapshot/snapshot.h"
#include "util/clock.h"
#include "api/reply.h"
#include "util/log.h"

static void reply_result(struct api_reply *rep, int r, const struct verr *err)
{
	unsigned status = r == -EINVAL || r == -ENOENT || r == -EEXIST ? 400
			  : r == -EBUSY				       ? 409
								       : 500;
	api_reply_error(rep, status, err->msg[0] ? err->msg : strerror(-r));
}

/* The body {"<key>": "..."}: strict, as every other path of the API. */
static const char *body_string(const struct api_request *req, const char *want, json_t **root,
			       struct api_reply *rep)
{
	json_error_t je;
	*root = NULL;
	if (req->body_too_big) {
		api_reply_error(rep, 400, "body too large");
		return NULL;
	}
	json_t *j =
	    json_loadb(req->body ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j)) {
		char msg[200];
		snprintf(msg, sizeof(msg), "body: expected a JSON object%s%s", j ? "" : ": ",
			 j ? "" : je.text);
		json_decref(j);
		api_reply_error(rep, 400, msg);
		return NULL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v)
	{
		if (strcmp(key, want)) {
			char msg[128];
			snprintf(msg, sizeof(msg), "unknown field '%.64s'", key);
			json_decref(j);
			api_reply_error(rep, 400, msg);
			return NULL;
		}
	}
	const char *path = json_string_value(json_object_get(j, want));
	if (!path || !path[0] || strlen(path) > PATH_MAX - 64) {
		char msg[128];
		snprintf(msg, sizeof(msg), "'%s' must be a non-empty string", want);
		json_decref(j);
		api_reply_error(rep, 400, msg);
		return NULL;
	}
	*root = j;
	return path;
}

/* ---- create ------------------------------------------------------------------------------ */

struct save_job {
	const char *path;
	json_t *config; /* the VM's configuration; the drives get their saved files */
	uint64_t bytes;
	struct verr *err;
};

static int save_disks(const struct vm_snapshot_ctx *c, struct save_job *job, struct verr *err)
{
	json_t *drives = json_array();
	json_object_set_new(job->config, "drives", drives);
	for (unsigned i = 0; i < c->ndrives; i++) {
		const struct vm_snapshot_drive *d = &c->drive[i];
		int r = virtio_blk_flush_disk(d->dev);
		if (r)
			return verr_set(err, -r, "drive %s: flush: %s", d->id, strerror(-r));
		struct blk_info bi;
		if ((r = blk_info_get(d->path, &bi, err)))
			return r;
		if (bi.backing[0] && bi.backing[0] != '/')
			return verr_set(err, EINVAL,
					"drive %s: a qcow2 image with a relative backing file "
					"cannot be copied into a snapshot",
					d->id);
		char file[PATH_MAX];
		snprintf(file, sizeof(file), "%s.disk-%s", job->path, d->id);
		/* A read-only disk does not change: the snapshot refers to it. */
		if (!d->read_only && (r = snapshot_copy_file(d->path, file, err)))
			return r;
		const char *base = strrchr(file, '/');
		json_array_append_new(drives,
				      json_pack("{s:s, s:s, s:s, s:b, s:I}", "id", d->id, "file",
						d->read_only ? d->path : (base ? base + 1 : file),
						"format", blk_format_name(bi.format), "read_only",
						d->read_only, "size", (json_int_t)bi.virtual_size));
	}
	return 0;
}

static int save_files(const struct vm_snapshot_ctx *c, struct save_job *job, struct verr *err)
{
	int r = save_disks(c, job, err);
	char *text = r ? NULL : json_dumps(job->config, JSON_COMPACT | JSON_SORT_KEYS);
	if (!r && !text)
		r = verr_set(err, ENOMEM, "out of memory");
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.tmp", job->path);
	int fd = r ? -1 : open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (!r && fd < 0)
		r = verr_set(err, errno, "%s: %s", tmp, strerror(errno));
	if (!r)
		r = snapshot_machine_save(c->m, text, fd, err);
	if (!r && fsync(fd))
		r = verr_set(err, errno, "%s: %s", tmp, strerror(errno));
	if (!r) {
		struct stat st;
		job->bytes = fstat(fd, &st) ? 0 : (uint64_t)st.st_blocks * 512;
	}
	/* Renamed into place whole: a crash leaves no half snapshot under the name. */
	if (!r && rename(tmp, job->path))
		r = verr_set(err, errno, "%s: %s", job->path, strerror(errno));
	if (fd >= 0) {
		close(fd);
		if (r)
			unlink(tmp);
	}
	free(text);
	return r;
}

static void remove_disk_copies(const struct save_job *job, const struct vm_snapshot_ctx *c)
{
	for (unsigned i = 0; i < c->ndrives; i++) {
		if (c->drive[i].read_only)
			continue;
		char file[PATH_MAX];
		snprintf(file, sizeof(file), "%s.disk-%s", job->path, c->drive[i].id);
		unlink(file);
	}
}

static int save_paused(const struct vm_snapshot_ctx *c, void *arg)
{
	struct save_job *job = arg;
	snapshot_machine_quiesce(c->m);
	int r = save_files(c, job, job->err);
	snapshot_machine_release(c->m);
	if (r)
		remove_disk_copies(job, c);
	return r;
}

static json_t *vm_config_json(struct vm *vm)
{
	return json_pack("{s:i, s:o, s:o, s:o, s:o}", "vessel_snapshot", 1, "machine",
			 vm_json_machine(vm), "boot", vm_json_boot(vm), "network-interfaces",
			 vm_json_nics(vm), "rng", vm_json_rng(vm));
}

static void snapshot_create(struct vm *vm, const struct api_request *req, struct api_reply *rep)
{
	json_t *body;
	const char *path = body_string(req, "path", &body, rep);
	if (!path)
		return;
	struct verr err = {{0}};
	struct save_job job = {.path = path, .config = vm_config_json(vm), .err = &err};
	int r = 0;
	if (!job.config)
		r = verr_set(&err, ENOMEM, "out of memory");
	else if (!access(path, F_OK))
		r = verr_set(&err, EEXIST, "snapshot %s: the file exists", path);
	if (!r) {
		int64_t t0 = host_monotonic_ns();
		r = vm_with_paused_machine(vm, save_paused, &job, &err);
		int64_t t1 = host_monotonic_ns();
		if (!r)
			api_reply_json(rep, 200,
				       json_pack("{s:s, s:I, s:I}", "path", path, "bytes",
						 (json_int_t)job.bytes, "paused_us",
						 (json_int_t)((t1 - t0) / 1000)));
	}
	if (r)
		reply_result(rep, r, &err);
	json_decref(job.config);
	json_decref(body);
}

/* ---- load -------------------------------------------------------------------------------- */

static int load_machine(struct machine *m, void *arg)
{
	struct snap_reader *r = ((void **)arg)[0];
	struct verr *err = ((void **)arg)[1];
	/* Drives opened while another process wrote them are ours now. */
	int e = migdisk_acquire(m, err);
	return e ? e : snapshot_machine_load(m, r, err);
}

static void snapshot_load(struct vm *vm, const struct api_request *req, struct api_reply *rep)
{
	json_t *body;
	const char *path = body_string(req, "path", &body, rep);
	if (!path)
		return;
	struct verr err = {{0}};
	struct snap_reader r;
	int e = snap_reader_open(&r, path, &err);
	if (e) {
		char msg[sizeof(err.msg) + 64];
		snprintf(msg, sizeof(msg), "snapshot: %s", err.msg);
		api_reply_error(rep, e == -ENOENT ? 400 : e == -EINVAL ? 400 : 500, msg);
		json_decref(body);
		return;
	}
	void *arg[2] = {&r, &err};
	e = vm_start_restored(vm, load_machine, arg, &err);
	snap_reader_close(&r);
	/* A new MAC (a clone's) and random seed for the guest: docs/snapshot.md. */
	if (!e && api_identity_send(vm, &err))
		log_warn("%s", err.msg);
	if (e)
		reply_result(rep, e == -EBUSY ? e : -EINVAL, &err);
	else
		rep->status = 204;
	json_decref(body);
}

/* ---- migration --------------------------------------------------------------------------- */

/* The optional booleans of a migration request. */
struct migrate_flags {
	bool copy_storage, verify;
};

/* Take an optional boolean out of the request (*j, replaced by a copy without it): false and
 * an answer if it is not a boolean. */
static bool take_flag(json_t **j, const char *name, bool *val, struct api_reply *rep)
{
	json_t *flag = json_is_object(*j) ? json_object_get(*j, name) : NULL;
	*val = json_is_true(flag);
	if (!flag)
		return true;
	if (!json_is_boolean(flag)) {
		char msg[80];
		snprintf(msg, sizeof(msg), "'%s' must be true or false", name);
		api_reply_error(rep, 400, msg);
		return false;
	}
	json_t *rest = json_copy(*j);
	json_object_del(rest, name);
	json_decref(*j);
	*j = rest;
	return true;
}

/*
 * {"<key>": "tcp:H:P", "copy_storage": bool, "verify": bool} (the booleans optional,
 * "verify" only for the source): the address, or NULL (answered).
 */
static const char *migrate_body(const struct api_request *req, const char *key,
				struct migrate_flags *f, bool with_verify, json_t **root,
				struct api_reply *rep)
{
	*f = (struct migrate_flags){0};
	json_t *j = NULL;
	json_error_t je;
	if (!req->body_too_big)
		j = json_loadb(req->body ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES,
			       &je);
	if (!j || !take_flag(&j, "copy_storage", &f->copy_storage, rep) ||
	    (with_verify && !take_flag(&j, "verify", &f->verify, rep))) {
		bool answered = j != NULL;
		json_decref(j);
		/* Not JSON at all: body_string() gives the usual answer. */
		return answered ? NULL : body_string(req, key, root, rep);
	}
	/* The rest as strictly as the other paths. */
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	struct api_request r2 = *req;
	r2.body = text;
	r2.body_len = text ? strlen(text) : 0;
	const char *v = text ? body_string(&r2, key, root, rep) : NULL;
	if (!text)
		api_reply_error(rep, 500, "out of memory");
	free(text);
	return v;
}

struct migrate_job {
	const char *to;
	struct migrate_flags f;
	json_t *config;
	struct migrate_stats st;
	struct verr *err;
};

static int migrate_running(const struct vm_snapshot_ctx *c, void *arg)
{
	struct migrate_job *job = arg;
	int fd = migrate_connect(job->to, job->err);
	if (fd < 0)
		return fd;
	char *text = json_dumps(job->config, JSON_COMPACT | JSON_SORT_KEYS);
	int r = text ? migrate_send(c->m, text, fd, job->f.copy_storage, job->f.verify, &job->st,
				    job->err)
		     : verr_set(job->err, ENOMEM, "out of memory");
	free(text);
	close(fd);
	/* The guest runs on at the destination: this copy ends. */
	if (!r)
		machine_request_quit(c->m);
	return r;
}

static void migrate_out(struct vm *vm, const struct api_request *req, struct api_reply *rep)
{
	json_t *body;
	struct migrate_flags f;
	const char *to = migrate_body(req, "to", &f, true, &body, rep);
	if (!to)
		return;
	struct verr err = {{0}};
	struct migrate_job job = {.to = to, .f = f, .config = vm_config_json(vm), .err = &err};
	int r = job.config ? vm_with_running_machine(vm, migrate_running, &job, &err)
			   : verr_set(&err, ENOMEM, "out of memory");
	if (r)
		reply_result(rep, r == -EBUSY || r == -EINVAL ? r : -EIO, &err);
	else
		api_reply_json(rep, 200,
			       json_pack("{s:i, s:I, s:I, s:I, s:I, s:i, s:I, s:I, s:I}", "rounds",
					 (int)job.st.rounds, "pages", (json_int_t)job.st.pages_sent,
					 "bytes", (json_int_t)job.st.bytes_sent, "total_ms",
					 (json_int_t)(job.st.total_us / 1000), "downtime_us",
					 (json_int_t)job.st.downtime_us, "throttle_ms",
					 (int)job.st.throttle_ms, "disk_chunks",
					 (json_int_t)job.st.disk_chunks, "disk_bytes",
					 (json_int_t)job.st.disk_bytes, "verified_pages",
					 (json_int_t)job.st.verified_pages));
	json_decref(job.config);
	json_decref(body);
}

struct incoming {
	int fd;
	bool copy_storage;
	struct verr *err;
};

static int receive_machine(struct machine *m, void *arg)
{
	struct incoming *in = arg;
	return migrate_receive(m, in->fd, in->copy_storage, in->err);
}

static void migrate_in(struct vm *vm, const struct api_request *req, struct api_reply *rep)
{
	json_t *body;
	struct migrate_flags f;
	const char *listen_on = migrate_body(req, "listen", &f, false, &body, rep);
	if (!listen_on)
		return;
	struct verr err = {{0}};
	int fd = migrate_accept(listen_on, 60000, &err);
	int r = fd;
	if (fd >= 0) {
		struct incoming in = {fd, f.copy_storage, &err};
		r = vm_start_restored(vm, receive_machine, &in, &err);
		migrate_answer(fd, r, err.msg);
		close(fd);
	}
	if (r)
		reply_result(rep, r == -EBUSY ? r : -EINVAL, &err);
	else
		rep->status = 204;
	json_decref(body);
}

bool api_snapshot_route(struct vm *vm, const struct api_request *req, struct api_reply *rep)
{
	static const char *const paths[] = {"/snapshot/create", "/snapshot/load", "/migrate",
					    "/migrate/incoming"};
	static void (*const handlers[])(struct vm *, const struct api_request *,
					struct api_reply *) = {snapshot_create, snapshot_load,
							       migrate_out, migrate_in};
	for (unsigned i = 0; i < 4; i++) {
		if (strcmp(req->path, paths[i]))
			continue;
		if (strcmp(req->method, "PUT")) {
			api_reply_error(rep, 405, "method not allowed");
			rep->allow = "PUT";
		} else {
			handlers[i](vm, req, rep);
		}
		return true;
	}
	return false;
}
