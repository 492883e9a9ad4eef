/* SPDX-License-Identifier: MIT */
#include "manage/snapshot_def.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "block/block.h"
#include "snapshot/format.h"
#include "snapshot/snapshot.h"
#include "util/log.h"

static char *dup_or_null(json_t *v)
{
	const char *s = json_string_value(v);
	return s ? strdup(s) : NULL;
}

/* A drive's file: absolute as saved (read-only disks), else beside the snapshot. */
static char *drive_file(const char *snap, const char *file)
{
	if (file[0] == '/')
		return strdup(file);
	if (strchr(file, '/'))
		return NULL; /* only a name beside the snapshot */
	const char *slash = strrchr(snap, '/');
	size_t dirlen = slash ? (size_t)(slash - snap) : 0;
	char *p = malloc(dirlen + strlen(file) + 2);
	if (p)
		sprintf(p, "%.*s/%s", (int)dirlen, snap, file);
	return p;
}

static int def_drives(const char *snap, json_t *drives, struct mdef *d, struct verr *err)
{
	size_t i;
	json_t *dr;
	if (!json_is_array(drives) || json_array_size(drives) > MDEF_DEVICES_MAX)
		return verr_set(err, EINVAL, "snapshot: bad drive list");
	json_array_foreach(drives, i, dr)
	{
		const char *file = json_string_value(json_object_get(dr, "file"));
		const char *fmt = json_string_value(json_object_get(dr, "format"));
		json_t *ro = json_object_get(dr, "read_only");
		if (!file || !fmt || !json_is_boolean(ro))
			return verr_set(err, EINVAL, "snapshot: bad drive entry");
		struct mdef_drive *md = &d->drive[d->ndrives++];
		md->read_only = json_is_true(ro);
		md->path = drive_file(snap, file);
		md->format = strdup(fmt);
		if (!md->path || !md->format)
			return verr_set(err, EINVAL, "snapshot: bad drive file %s", file);
	}
	return 0;
}

static int def_nets(json_t *nics, struct mdef *d, struct verr *err)
{
	size_t i;
	json_t *n;
	if (!json_is_array(nics) || json_array_size(nics) > MDEF_DEVICES_MAX)
		return verr_set(err, EINVAL, "snapshot: bad interface list");
	json_array_foreach(nics, i, n)
	{
		struct mdef_net *mn = &d->net[d->nnets++];
		mn->backend = strdup("user");
		/* The MAC the VM had (a restore keeps it; a clone gets a new one). */
		const char *mac = json_string_value(json_object_get(n, "mac"));
		if (mac && mdef_mac_valid(mac))
			snprintf(mn->mac, sizeof(mn->mac), "%s", mac);
		json_t *fwd = json_object_get(n, "hostfwd");
		size_t k;
		json_t *f;
		if (!mn->backend || !json_is_array(fwd) || json_array_size(fwd) > MDEF_HOSTFWD_MAX)
			return verr_set(err, EINVAL, "snapshot: bad interface entry");
		json_array_foreach(fwd, k, f)
		{
			if (!json_is_string(f) || !(mn->hostfwd[mn->nhostfwd++] = dup_or_null(f)))
				return verr_set(err, EINVAL, "snapshot: bad hostfwd rule");
		}
	}
	return 0;
}

static int def_from_config(const char *snap, json_t *c, struct mdef *d, struct verr *err)
{
	json_t *mc = json_object_get(c, "machine"), *boot = json_object_get(c, "boot");
	json_int_t vcpus = json_integer_value(json_object_get(mc, "vcpus"));
	json_int_t mib = json_integer_value(json_object_get(mc, "memory_mib"));
	if (json_integer_value(json_object_get(c, "vessel_snapshot")) != 1 || vcpus < 1 ||
	    vcpus > VIRT_MAX_HARTS || mib < 16 || mib > 65536 || !json_is_object(boot))
		return verr_set(err, EINVAL, "snapshot: bad configuration section");
	d->vcpus = (unsigned)vcpus;
	d->memory_mib = (uint64_t)mib;
	/* Kept for a later reboot of the restored VM, which boots these. */
	d->kernel = dup_or_null(json_object_get(boot, "kernel"));
	d->initrd = dup_or_null(json_object_get(boot, "initrd"));
	d->append = dup_or_null(json_object_get(boot, "append"));
	d->firmware = dup_or_null(json_object_get(boot, "firmware"));
	d->rng = json_is_true(json_object_get(json_object_get(c, "rng"), "enabled"));
	int r = def_drives(snap, json_object_get(c, "drives"), d, err);
	if (!r)
		r = def_nets(json_object_get(c, "network-interfaces"), d, err);
	if (!r && mdef_devices(d) > MDEF_DEVICES_MAX)
		r = verr_set(err, EINVAL, "snapshot: too many devices");
	return r;
}

int msnap_def_from_snapshot(const char *snap, const char *name, struct mdef *d, struct verr *err)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	struct snap_reader r;
	int e = snap_reader_open(&r, snap, err);
	if (e)
		return e;
	const char *text = snapshot_config(&r, err);
	json_error_t je;
	json_t *c = text ? json_loads(text, 0, &je) : NULL;
	if (text && !json_is_object(c))
		e = verr_set(err, EINVAL, "snapshot: configuration is not a JSON object");
	else if (!text)
		e = -EINVAL;
	else
		e = def_from_config(snap, c, d, err);
	json_decref(c);
	snap_reader_close(&r);
	if (e)
		mdef_free(d);
	return e;
}

int msnap_new_macs(struct mdef *d, struct verr *err)
{
	for (unsigned i = 0; i < d->nnets; i++) {
		uint8_t m[6];
		if (getrandom(m, sizeof(m), 0) != (ssize_t)sizeof(m))
			return verr_set(err, EIO, "getrandom: %s", strerror(errno));
		/* Locally administered (bit 1), unicast (bit 0 clear). */
		m[0] = (uint8_t)((m[0] & 0xfc) | 0x02);
		snprintf(d->net[i].mac, sizeof(d->net[i].mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 m[0], m[1], m[2], m[3], m[4], m[5]);
	}
	return 0;
}

int msnap_make_overlays(const struct mstate *s, struct mdef *d, const char *suffix,
			struct verr *err)
{
	for (unsigned i = 0; i < d->ndrives; i++) {
		struct mdef_drive *md = &d->drive[i];
		if (md->read_only)
			continue;
		char file[64], path[PATH_MAX];
		snprintf(file, sizeof(file), "disk%u.qcow2%s", i, suffix ? suffix : "");
		if (mstate_path(s, d->name, file, path, sizeof(path)))
			return verr_set(err, ENAMETOOLONG, "path too long");
		struct verr e = {{0}};
		/* Size 0: the backing image's. */
		int r = blk_create(path, BLK_FMT_QCOW2, 0, md->path, &e);
		if (r)
			return verr_set(err, -r, "overlay of %s: %s", md->path, e.msg);
		char *p = strdup(path), *f = strdup("qcow2");
		if (!p || !f) {
			free(p);
			free(f);
			return verr_set(err, ENOMEM, "out of memory");
		}
		free(md->path);
		free(md->format);
		md->path = p;
		md->format = f;
	}
	return 0;
}
