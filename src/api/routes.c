/* SPDX-License-Identifier: MIT */
/*
 * The API's paths (docs/api/openapi.yaml): strict JSON in, JSON out.  A body
 * is checked completely (object, known fields, types, ranges) before the VM
 * is touched, so a bad request changes nothing.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/console_log.h"
#include "api/http.h"
#include "api/snapshot_routes.h"
#include "api/vm.h"
#include "api/reply.h"
#include "util/log.h"

enum field_type { F_INT, F_STRING, F_BOOL, F_STRINGS };

struct field {
	const char *name;
	enum field_type type;
	bool nullable;
};

static const char *const field_type_names[] = {
    [F_INT] = "an integer",
    [F_STRING] = "a string",
    [F_BOOL] = "true or false",
    [F_STRINGS] = "an array of strings",
};

/* A vm_* result: -errno to its HTTP status. */
static void reply_result(struct api_reply *rep, int r, const struct verr *err)
{
	if (!r) {
		rep->status = 204;
		return;
	}
	unsigned status = r == -EINVAL || r == -ENOSPC ? 400
			  : r == -ENOENT	       ? 404
			  : r == -EBUSY		       ? 409
						       : 500;
	api_reply_error(rep, status, err->msg[0] ? err->msg : strerror(-r));
}

static bool field_type_ok(const json_t *v, const struct field *f)
{
	if (json_is_null(v))
		return f->nullable;
	switch (f->type) {
	case F_INT:
		return json_is_integer(v);
	case F_STRING:
		return json_is_string(v);
	case F_BOOL:
		return json_is_boolean(v);
	case F_STRINGS: {
		if (!json_is_array(v))
			return false;
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) if (!json_is_string(e)) return false;
		return true;
	}
	}
	return false;
}

/* Parse the body as an object whose fields are all in 'fields' with their types. */
static json_t *parse_body(const struct api_request *req, const struct field *fields, size_t n,
			  const char *const *required, struct api_reply *rep)
{
	if (req->body_too_big) {
		api_reply_error(rep, 400, "request body larger than 65536 bytes");
		return NULL;
	}
	json_error_t jerr;
	json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	char msg[300];
	if (!j) {
		snprintf(msg, sizeof(msg), "malformed JSON: %s (line %d, column %d)", jerr.text,
			 jerr.line, jerr.column);
		api_reply_error(rep, 400, msg);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		api_reply_error(rep, 400, "the body must be a JSON object");
		return NULL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v)
	{
		const struct field *f = NULL;
		for (size_t i = 0; i < n && !f; i++)
			if (!strcmp(fields[i].name, key))
				f = &fields[i];
		if (!f) {
			snprintf(msg, sizeof(msg), "unknown field \"%.64s\"", key);
			goto bad;
		}
		if (!field_type_ok(v, f)) {
			snprintf(msg, sizeof(msg), "field \"%s\" must be %s%s", key,
				 field_type_names[f->type], f->nullable ? " or null" : "");
			goto bad;
		}
	}
	for (size_t i = 0; required && required[i]; i++)
		if (!json_object_get(j, required[i])) {
			snprintf(msg, sizeof(msg), "field \"%s\" is required", required[i]);
			goto bad;
		}
	return j;
bad:
	json_decref(j);
	api_reply_error(rep, 400, msg);
	return NULL;
}

/* A string field, NULL when absent or null. */
static const char *get_str(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/* ---- Handlers ------------------------------------------------------------------------ */

static void put_machine(struct vm *vm, const struct api_request *req, struct api_reply *rep)
{
	static const struct field f[] = {
	    {"vcpus", F_INT, false}, {"memory_mib", F_INT, false}, {"cpuset", F_STRING, true}};
	json_t *j = parse_body(req, f, 3, NULL, rep);
	if (!j)
		return;
	json_t *vc = json_object_get(j, "vcpus"), *mem = json_object_get(j, "memory_mib");
	json_int_t vcpus = vc ? json_integer_value(vc) : 1;
	json_int_t mib = mem ? json_integer_value(mem) : VM_DEFAULT_MEMORY_MIB;
	struct verr err = {{0}};
	int r;
	/* Range checks here too: a huge value must not wrap into a valid one. */
	if (vcpus < 1 || vcpus > 8)
		r = verr_set(&err, EINVAL, "vcpus %lld: must be 1 to 8", (long long)vcpus);
	else if (mib < VM_MIN_MEMORY_MIB || mib > VM_MAX_MEMORY_MIB)
		r = verr_set(&err, EINVAL, "memory_mib %lld: must be %d to %d", (long long)mib,
			     VM_MIN_MEMORY_MIB, VM_MAX_MEMORY_MIB);
	else
		r = vm_set_machine(vm, (unsigned)vcpus, (uint64_t)mib, get_str(j, "cpuset"), &err);
	reply_result(rep, r, &err);
	json_decref(j);
}

static void put_boot(struct vm *vm, const struct api_request *req, struct api_reply *rep)
{
	static const struct field f[] = {{"kernel", F_STRING, true},
					 {"initrd", F_STRING, true},
					 {"append", F_STRING, false},
					 {"firmware", F_STRING, false}};
	json_t *j = parse_body(req, f, 4, NULL, rep);
	if (!j)
		return;
	struct verr err = {{0}};
	int r = vm_set_boot(vm, get_str(j, "kernel"), get_str(j, "initrd"), get_str(j, "append"),
			    get_str(j, "firmware"), &err);
	reply_result(rep, r, &err);
	json_decref(j);
}

static void put_drive(struct vm *vm, const char *id, const struct api_request *req,
		      struct api_reply *rep)
{
	static const struct field f[] = {
	    {"path", F_STRING, false}, {"format", F_STRING, false}, {"read_only", F_BOOL, false}};
	static const char *const required[] = {"path", NULL};
	json_t *j = parse_body(req, f, 3, required, rep);
	if (!j)
		return;
	struct verr err = {{0}};
	int r = 0;
	enum blk_format fmt = BLK_FMT_AUTO;
	const char *format = get_str(j, "format");
	if (format && (!strcmp(format, "auto") || blk_format_parse(format, &fmt)))
		r = verr_set(&err, EINVAL, "format \"%s\": raw or qcow2 (or leave it out to probe)",
			     format);
	if (!r && !get_str(j, "path")[0])
		r = verr_set(&err, EINVAL, "path: empty");
	if (!r)
		r = vm_put_drive(vm, id, get_str(j, "path"), fmt,
				 json_is_true(json_object_get(j, "read_only")), &err);
	reply_result(rep, r, &err);
	json_decref(j);
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* "52:54:00:12:34:56": exactly six pairs of hex digits. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[i * 3]), lo = hex_digit(s[i * 3 + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void put_nic(struct vm *vm, const char *id, const struct api_request *req,
		    struct api_reply *rep)
{
	static const struct field f[] = {
	    {"backend", F_STRING, false}, {"hostfwd", F_STRINGS, false}, {"mac", F_STRING, false}};
	static const char *const required[] = {"backend", NULL};
	json_t *j = parse_body(req, f, 3, required, rep);
	if (!j)
		return;
	struct verr err = {{0}};
	int r = 0;
	uint8_t mac[6];
	const char *macs = get_str(j, "mac");
	json_t *fwd = json_object_get(j, "hostfwd");
	size_t nfwd = fwd ? json_array_size(fwd) : 0;
	const char *rules[16];
	if (strcmp(get_str(j, "backend"), "user"))
		r = verr_set(&err, EINVAL, "backend \"%s\": only \"user\" is supported",
			     get_str(j, "backend"));
	else if (macs && parse_mac(macs, mac))
		r = verr_set(&err, EINVAL,
			     "mac \"%s\": expected six hex bytes like 52:54:00:12:34:56", macs);
	else if (nfwd > 16)
		r = verr_set(&err, EINVAL, "hostfwd: at most 16 rules");
	if (!r) {
		for (size_t i = 0; i < nfwd; i++)
			rules[i] = json_string_value(json_array_get(fwd, i));
		r = vm_put_nic(vm, id, rules, (unsigned)nfwd, macs ? mac : NULL, &err);
	}
	reply_result(rep, r, &err);
	json_decref(j);
}

static void put_rng(struct vm *vm, const struct api_request *req, struct api_reply *rep)
{
	static const struct field f[] = {{"enabled", F_BOOL, false}};
	static const char *const required[] = {"enabled", NULL};
	json_t *j = parse_body(req, f, 1, required, rep);
	if (!j)
		return;
	struct verr err = {{0}};
	int r = vm_set_rng(vm, json_is_true(json_object_get(j, "enabled")), &err);
	reply_result(rep, r, &err);
	json_decref(j);
}

static void put_action(struct vm *vm, const struct api_request *req, struct api_reply *rep)
{
	static const struct field f[] = {{"action", F_STRING, false}};
	static const char *const required[] = {"action", NULL};
	static const struct {
		const char *name;
		enum vm_action a;
	} actions[] = {
	    {"start", VM_ACTION_START},	  {"pause", VM_ACTION_PAUSE},
	    {"resume", VM_ACTION_RESUME}, {"shutdown", VM_ACTION_SHUTDOWN},
	    {"stop", VM_ACTION_STOP},	  {"reset", VM_ACTION_RESET},
	};
	json_t *j = parse_body(req, f, 1, required, rep);
	if (!j)
		return;
	const char *name = get_str(j, "action");
	struct verr err = {{0}};
	int r =
	    verr_set(&err, EINVAL,
		     "action \"%.64s\": one of start, pause, resume, shutdown, stop, reset", name);
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (!strcmp(actions[i].name, name)) {
			err.msg[0] = '\0';
			r = vm_do_action(vm, actions[i].a, &err);
			break;
		}
	reply_result(rep, r, &err);
	json_decref(j);
}

static void get_console(struct console_log *con, const struct api_request *req,
			struct api_reply *rep)
{
	uint64_t offset = 0;
	if (req->offset) {
		const char *p = req->offset;
		if (!*p || strlen(p) > 19) {
			api_reply_error(rep, 400, "offset: expected a byte offset (a number)");
			return;
		}
		for (; *p; p++) {
			if (*p < '0' || *p > '9') {
				api_reply_error(rep, 400,
						"offset: expected a byte offset (a number)");
				return;
			}
			offset = offset * 10 + (uint64_t)(*p - '0');
		}
	}
	uint8_t *data;
	size_t len;
	uint64_t start;
	if (console_log_read(con, offset, &data, &len, &start)) {
		api_reply_error(rep, 500, "out of memory");
		return;
	}
	rep->status = 200;
	rep->body = (char *)data;
	rep->len = len;
	rep->content_type = "application/octet-stream";
	rep->console_range = true;
	rep->console_start = start;
	rep->console_end = start + len;
}

/* ---- Dispatch -------------------------------------------------------------------------- */

enum { M_GET = 1, M_PUT = 2 };

static void method_not_allowed(struct api_reply *rep, unsigned allowed, const char *method)
{
	rep->allow = allowed == (M_GET | M_PUT) ? "GET, PUT" : allowed == M_GET ? "GET" : "PUT";
	char msg[128];
	snprintf(msg, sizeof(msg), "method %.16s not allowed here (use %s)", method, rep->allow);
	api_reply_error(rep, 405, msg);
}

/* "/drives/ID" -> ID, for prefix "/drives/". */
static const char *path_id(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) ? NULL : path + n;
}

static void route_device(struct vm *vm, const char *id, bool drive, unsigned m,
			 const struct api_request *req, struct api_reply *rep)
{
	if (m == M_PUT) {
		if (drive)
			put_drive(vm, id, req, rep);
		else
			put_nic(vm, id, req, rep);
		return;
	}
	json_t *j = vm_id_valid(id) ? (drive ? vm_json_drive(vm, id) : vm_json_nic(vm, id)) : NULL;
	if (!j) {
		char msg[128];
		snprintf(msg, sizeof(msg), "no %s \"%.64s\"", drive ? "drive" : "network interface",
			 id);
		api_reply_error(rep, 404, msg);
		return;
	}
	api_reply_json(rep, 200, j);
}

void api_route(struct vm *vm, struct console_log *con, const struct api_request *req,
	       struct api_reply *rep)
{
	memset(rep, 0, sizeof(*rep));
	unsigned m = !strcmp(req->method, "GET") ? M_GET : !strcmp(req->method, "PUT") ? M_PUT : 0;
	const char *p = req->path;
	const char *id;
	unsigned allowed;
	if (api_snapshot_route(vm, req, rep))
		return;
	/* Each path: the methods it takes, then what each does. */
	if (!strcmp(p, "/vm") || !strcmp(p, "/drives") || !strcmp(p, "/network-interfaces") ||
	    !strcmp(p, "/metrics") || !strcmp(p, "/console") || !strcmp(p, "/console/attach"))
		allowed = M_GET;
	else if (!strcmp(p, "/actions"))
		allowed = M_PUT;
	else if (!strcmp(p, "/machine-config") || !strcmp(p, "/boot-source") || !strcmp(p, "/rng"))
		allowed = M_GET | M_PUT;
	else if (((id = path_id(p, "/drives/")) || (id = path_id(p, "/network-interfaces/"))) &&
		 *id && !strchr(id, '/'))
		allowed = M_GET | M_PUT;
	else {
		char msg[128];
		snprintf(msg, sizeof(msg), "no such path: %.64s", p);
		api_reply_error(rep, 404, msg);
		return;
	}
	if (!(m & allowed)) {
		method_not_allowed(rep, allowed, req->method);
		return;
	}
	if (!strcmp(p, "/vm"))
		api_reply_json(rep, 200, vm_json_info(vm));
	else if (!strcmp(p, "/metrics"))
		api_reply_json(rep, 200, vm_json_metrics(vm));
	else if (!strcmp(p, "/drives"))
		api_reply_json(rep, 200, vm_json_drives(vm));
	else if (!strcmp(p, "/network-interfaces"))
		api_reply_json(rep, 200, vm_json_nics(vm));
	else if (!strcmp(p, "/console"))
		get_console(con, req, rep);
	else if (!strcmp(p, "/console/attach")) {
		if (req->wants_console)
			rep->upgrade_console = true;
		else
			api_reply_error(rep, 400,
					"attach needs the headers Connection: Upgrade and Upgrade: "
					"vessel-console");
	} else if (!strcmp(p, "/actions"))
		put_action(vm, req, rep);
	else if (!strcmp(p, "/machine-config"))
		m == M_GET ? api_reply_json(rep, 200, vm_json_machine(vm))
			   : put_machine(vm, req, rep);
	else if (!strcmp(p, "/boot-source"))
		m == M_GET ? api_reply_json(rep, 200, vm_json_boot(vm)) : put_boot(vm, req, rep);
	else if (!strcmp(p, "/rng"))
		m == M_GET ? api_reply_json(rep, 200, vm_json_rng(vm)) : put_rng(vm, req, rep);
	else if ((id = path_id(p, "/drives/")))
		route_device(vm, id, true, m, req, rep);
	else
		route_device(vm, path_id(p, "/network-interfaces/"), false, m, req, rep);
}
