/* SPDX-License-Identifier: MIT */
#include "manage/def.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

bool mdef_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n < 1 || n > MDEF_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
	       n;
}

/* A decimal number without sign or leading junk; -1 on anything else. */
static long parse_uint(const char *s, size_t n, long max)
{
	if (n == 0 || n > 9)
		return -1;
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

int mdef_cpuset_check(const char *list, unsigned ncpus_host, struct verr *err)
{
	const char *p = list;
	if (!*p)
		return verr_set(err, EINVAL, "--cpuset '': empty CPU list");
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *dash = memchr(p, '-', n);
		size_t n1 = dash ? (size_t)(dash - p) : n;
		long a = parse_uint(p, n1, 1 << 20), b = a;
		if (dash)
			b = parse_uint(dash + 1, n - n1 - 1, 1 << 20);
		if (a < 0 || b < 0 || b < a)
			return verr_set(err, EINVAL,
					"--cpuset %s: '%.*s' is not a CPU or a range like 0-3",
					list, (int)n, p);
		if ((unsigned long)b >= ncpus_host)
			return verr_set(err, EINVAL, "--cpuset %s: the host has CPUs 0 to %u", list,
					ncpus_host - 1);
		p += n;
		if (*p == ',' && !*++p)
			return verr_set(err, EINVAL, "--cpuset %s: trailing ','", list);
	}
	return 0;
}

/* [ADDR]:PORT with an IPv4 ADDR; 'port_min' is 0 where a port 0 (any) makes sense. */
static bool endpoint_valid(const char *s, size_t n, long port_min)
{
	const char *colon = memchr(s, ':', n);
	if (!colon)
		return false;
	size_t alen = (size_t)(colon - s);
	if (alen) {
		char addr[INET_ADDRSTRLEN];
		struct in_addr a;
		if (alen >= sizeof(addr))
			return false;
		memcpy(addr, s, alen);
		addr[alen] = '\0';
		if (inet_pton(AF_INET, addr, &a) != 1)
			return false;
	}
	long port = parse_uint(colon + 1, n - alen - 1, 65535);
	return port >= port_min;
}

/* [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT */
static bool hostfwd_valid(const char *v)
{
	size_t p = strcspn(v, ":");
	if (!v[p] || (p && strncmp(v, "tcp", p) && strncmp(v, "udp", p)) || (p && p != 3))
		return false;
	const char *host = v + p + 1;
	const char *dash = strchr(host, '-');
	if (!dash)
		return false;
	return endpoint_valid(host, (size_t)(dash - host), 1) &&
	       endpoint_valid(dash + 1, strlen(dash + 1), 1);
}

bool mdef_mac_valid(const char *mac)
{
	if (strlen(mac) != MDEF_MAC_LEN)
		return false;
	for (unsigned i = 0; i < MDEF_MAC_LEN; i++)
		if (i % 3 == 2 ? mac[i] != ':' : !isxdigit((unsigned char)mac[i]))
			return false;
	/* The low bit of the first byte marks a group (multicast) address. */
	unsigned first = (unsigned)strtoul(mac, NULL, 16);
	return !(first & 1);
}

static void net_free(struct mdef_net *n)
{
	free(n->backend);
	for (unsigned i = 0; i < n->nhostfwd; i++)
		free(n->hostfwd[i]);
	memset(n, 0, sizeof(*n));
}

int mdef_net_parse(const char *spec, struct mdef_net *n, struct verr *err)
{
	memset(n, 0, sizeof(*n));
	size_t len = strcspn(spec, ",");
	if (len != 4 || strncmp(spec, "user", 4))
		return verr_set(err, EINVAL,
				"--net %s: unknown network backend '%.*s' (supported: user)", spec,
				(int)len, spec);
	n->backend = strdup("user");
	const char *p = spec + len;
	while (n->backend && *p == ',') {
		p++;
		size_t m = strcspn(p, ",");
		if (m > 4 && !strncmp(p, "mac=", 4)) {
			snprintf(n->mac, sizeof(n->mac), "%.*s", (int)(m - 4), p + 4);
			if (m - 4 != MDEF_MAC_LEN || !mdef_mac_valid(n->mac)) {
				net_free(n);
				return verr_set(err, EINVAL,
						"--net %s: bad mac '%.*s' (want a unicast address "
						"like 52:54:00:12:34:56)",
						spec, (int)(m - 4), p + 4);
			}
			p += m;
			continue;
		}
		if (m < 8 || strncmp(p, "hostfwd=", 8)) {
			net_free(n);
			return verr_set(err, EINVAL,
					"--net %s: unknown option '%.*s' (hostfwd=..., mac=...)",
					spec, (int)m, p);
		}
		if (n->nhostfwd == MDEF_HOSTFWD_MAX) {
			net_free(n);
			return verr_set(err, EINVAL, "--net %s: more than %d hostfwd options", spec,
					MDEF_HOSTFWD_MAX);
		}
		char *v = strndup(p + 8, m - 8);
		if (!v)
			break;
		n->hostfwd[n->nhostfwd++] = v;
		if (!hostfwd_valid(v)) {
			net_free(n);
			return verr_set(err, EINVAL,
					"--net %s: bad hostfwd '%.*s' (want "
					"[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)",
					spec, (int)(m - 8), p + 8);
		}
		p += m;
	}
	if (!n->backend || *p) {
		net_free(n);
		return verr_set(err, ENOMEM, "--net %s: out of memory", spec);
	}
	return 0;
}

unsigned mdef_devices(const struct mdef *d)
{
	return d->ndrives + d->nnets + (d->rng ? 1 : 0);
}

/* A string member, or JSON null for NULL. */
static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *drives_to_json(const struct mdef *d)
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < d->ndrives; i++) {
		const struct mdef_drive *dr = &d->drive[i];
		if (json_array_append_new(a, json_pack("{s:s, s:o, s:b}", "path", dr->path,
						       "format", str_or_null(dr->format),
						       "read_only", dr->read_only))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *nets_to_json(const struct mdef *d)
{
	json_t *a = json_array();
	for (unsigned i = 0; a && i < d->nnets; i++) {
		const struct mdef_net *n = &d->net[i];
		json_t *fw = json_array();
		for (unsigned k = 0; fw && k < n->nhostfwd; k++)
			json_array_append_new(fw, json_string(n->hostfwd[k]));
		json_t *j = json_pack("{s:s, s:o*}", "backend", n->backend, "hostfwd", fw);
		if (j && n->mac[0])
			json_object_set_new(j, "mac", json_string(n->mac));
		if (json_array_append_new(a, j) || !fw) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *mdef_to_json(const struct mdef *d)
{
	json_t *drives = drives_to_json(d), *nets = nets_to_json(d);
	if (!drives || !nets) {
		json_decref(drives);
		json_decref(nets);
		return NULL;
	}
	return json_pack("{s:i, s:s, s:i, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:i, s:I}",
			 "version", 1, "name", d->name, "vcpus", (int)d->vcpus, "memory_mib",
			 (json_int_t)d->memory_mib, "cpuset", str_or_null(d->cpuset), "kernel",
			 str_or_null(d->kernel), "initrd", str_or_null(d->initrd), "append",
			 str_or_null(d->append), "firmware", str_or_null(d->firmware), "drives",
			 drives, "nets", nets, "rng", d->rng, "cpu_max_percent",
			 (int)d->cpu_max_percent, "memory_limit_bytes",
			 (json_int_t)d->memory_limit);
}

/* An optional string member: NULL when null; -EINVAL when not a string. */
static int opt_str(const json_t *v, const char *key, char **out, struct verr *err)
{
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !json_string_length(v))
		return verr_set(err, EINVAL, "'%s' must be a non-empty string or null", key);
	*out = strdup(json_string_value(v));
	return *out ? 0 : verr_set(err, ENOMEM, "out of memory");
}

static int drive_from_json(const json_t *j, struct mdef_drive *dr, struct verr *err)
{
	const char *path;
	json_t *fmt = NULL;
	int ro = 0;
	json_error_t je;
	if (json_unpack_ex((json_t *)j, &je, JSON_STRICT, "{s:s, s?o, s?b}", "path", &path,
			   "format", &fmt, "read_only", &ro))
		return verr_set(err, EINVAL, "drive: %s", je.text);
	if (path[0] != '/')
		return verr_set(err, EINVAL, "drive: path '%s' is not absolute", path);
	if (fmt && !json_is_null(fmt) &&
	    (!json_is_string(fmt) ||
	     (strcmp(json_string_value(fmt), "raw") && strcmp(json_string_value(fmt), "qcow2"))))
		return verr_set(err, EINVAL, "drive %s: format must be raw, qcow2 or null", path);
	dr->path = strdup(path);
	dr->read_only = ro;
	if (dr->path && fmt && !json_is_null(fmt))
		dr->format = strdup(json_string_value(fmt));
	return dr->path ? 0 : verr_set(err, ENOMEM, "out of memory");
}

static int net_from_json(const json_t *j, struct mdef_net *n, struct verr *err)
{
	const char *backend, *mac = NULL;
	json_t *fw = NULL;
	json_error_t je;
	if (json_unpack_ex((json_t *)j, &je, JSON_STRICT, "{s:s, s?o, s?s}", "backend", &backend,
			   "hostfwd", &fw, "mac", &mac))
		return verr_set(err, EINVAL, "net: %s", je.text);
	/* Rebuild the --net spec and parse it: one validator for both forms. */
	size_t len = strlen(backend) + 1 + (mac ? 5 + strlen(mac) : 0);
	size_t i;
	json_t *v;
	if (fw && !json_is_array(fw))
		return verr_set(err, EINVAL, "net: hostfwd must be an array");
	json_array_foreach(fw, i, v)
	{
		if (!json_is_string(v))
			return verr_set(err, EINVAL, "net: hostfwd entries must be strings");
		len += 9 + json_string_length(v);
	}
	char *spec = malloc(len);
	if (!spec)
		return verr_set(err, ENOMEM, "out of memory");
	strcpy(spec, backend);
	json_array_foreach(fw, i, v)
	{
		strcat(spec, ",hostfwd=");
		strcat(spec, json_string_value(v));
	}
	if (mac) {
		strcat(spec, ",mac=");
		strcat(spec, mac);
	}
	int r = mdef_net_parse(spec, n, err);
	free(spec);
	return r;
}

static int devices_from_json(const json_t *drives, const json_t *nets, struct mdef *d,
			     struct verr *err)
{
	size_t i;
	json_t *v;
	int r;
	if (!json_is_array(drives) || !json_is_array(nets))
		return verr_set(err, EINVAL, "'drives' and 'nets' must be arrays");
	if (json_array_size(drives) + json_array_size(nets) > MDEF_DEVICES_MAX)
		return verr_set(err, EINVAL, "more than %d devices", MDEF_DEVICES_MAX);
	json_array_foreach(drives, i, v)
	{
		if ((r = drive_from_json(v, &d->drive[d->ndrives], err)))
			return r;
		d->ndrives++;
	}
	json_array_foreach(nets, i, v)
	{
		if ((r = net_from_json(v, &d->net[d->nnets], err)))
			return r;
		d->nnets++;
	}
	return 0;
}

static int fill_from_json(const json_t *j, struct mdef *d, struct verr *err)
{
	const char *name;
	json_int_t vcpus, mem, cpu_max = 0, mem_limit = 0, version;
	json_t *cpuset = NULL, *kernel = NULL, *initrd = NULL, *append = NULL, *firmware = NULL;
	json_t *drives, *nets;
	int rng = 0, r;
	json_error_t je;
	if (json_unpack_ex((json_t *)j, &je, JSON_STRICT,
			   "{s:I, s:s, s:I, s:I, s?o, s?o, s?o, s?o, s?o, s:o, s:o, s?b, s?I, s?I}",
			   "version", &version, "name", &name, "vcpus", &vcpus, "memory_mib", &mem,
			   "cpuset", &cpuset, "kernel", &kernel, "initrd", &initrd, "append",
			   &append, "firmware", &firmware, "drives", &drives, "nets", &nets, "rng",
			   &rng, "cpu_max_percent", &cpu_max, "memory_limit_bytes", &mem_limit))
		return verr_set(err, EINVAL, "%s", je.text);
	if (version != 1)
		return verr_set(err, EINVAL, "unknown version %lld", (long long)version);
	if (!mdef_name_valid(name))
		return verr_set(err, EINVAL, "bad name '%s'", name);
	if (vcpus < 1 || vcpus > VIRT_MAX_HARTS)
		return verr_set(err, EINVAL, "vcpus %lld out of 1..%d", (long long)vcpus,
				VIRT_MAX_HARTS);
	if (mem < (json_int_t)(VIRT_MEM_MIN >> 20) || mem > (json_int_t)(VIRT_MEM_MAX >> 20))
		return verr_set(err, EINVAL, "memory_mib %lld out of range", (long long)mem);
	if (cpu_max < 0 || cpu_max > 100 * 1024 || mem_limit < 0)
		return verr_set(err, EINVAL, "bad limits");
	strcpy(d->name, name);
	d->vcpus = (unsigned)vcpus;
	d->memory_mib = (uint64_t)mem;
	d->rng = rng;
	d->cpu_max_percent = (unsigned)cpu_max;
	d->memory_limit = (uint64_t)mem_limit;
	if ((r = opt_str(cpuset, "cpuset", &d->cpuset, err)) ||
	    (r = opt_str(kernel, "kernel", &d->kernel, err)) ||
	    (r = opt_str(initrd, "initrd", &d->initrd, err)) ||
	    (r = opt_str(append, "append", &d->append, err)) ||
	    (r = opt_str(firmware, "firmware", &d->firmware, err)))
		return r;
	return devices_from_json(drives, nets, d, err);
}

int mdef_from_json(const json_t *j, struct mdef *d, struct verr *err)
{
	memset(d, 0, sizeof(*d));
	int r = fill_from_json(j, d, err);
	if (r)
		mdef_free(d);
	else if (mdef_devices(d) > MDEF_DEVICES_MAX) {
		mdef_free(d);
		r = verr_set(err, EINVAL, "more than %d devices", MDEF_DEVICES_MAX);
	}
	return r;
}

void mdef_free(struct mdef *d)
{
	free(d->cpuset);
	free(d->kernel);
	free(d->initrd);
	free(d->append);
	free(d->firmware);
	for (unsigned i = 0; i < d->ndrives; i++) {
		free(d->drive[i].path);
		free(d->drive[i].format);
	}
	for (unsigned i = 0; i < d->nnets; i++)
		net_free(&d->net[i]);
	memset(d, 0, sizeof(*d));
}
