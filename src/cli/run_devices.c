/* SPDX-License-Identifier: MIT */
#include "cli/run_devices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "devices/virtio.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "net/netdev.h"
#include "util/log.h"

static int take_slot(struct run_devices *d, struct verr *err)
{
	if (d->n == VIRT_VIRTIO_SLOTS)
		return verr_set(err, ENOSPC, "no free virtio slot (the machine has %d)",
				VIRT_VIRTIO_SLOTS);
	return 0;
}

/* path[,format=raw|qcow2][,readonly] */
int run_devices_parse_disk(const char *spec, struct run_disk_spec *out, struct verr *err)
{
	char *copy = strdup(spec);
	if (!copy)
		return verr_set(err, ENOMEM, "out of memory");
	int r = 0;
	out->fmt = BLK_FMT_AUTO;
	out->readonly = false;
	char *path = copy, *rest = strchr(copy, ',');
	if (rest)
		*rest++ = '\0';
	char *save = NULL;
	for (char *opt = rest ? strtok_r(rest, ",", &save) : NULL; opt;
	     opt = strtok_r(NULL, ",", &save)) {
		if (!strncmp(opt, "format=", 7)) {
			if (blk_format_parse(opt + 7, &out->fmt)) {
				r = verr_set(err, EINVAL,
					     "--disk %s: unknown format '%s' (raw or qcow2)", spec,
					     opt + 7);
				goto out;
			}
		} else if (!strcmp(opt, "readonly") || !strcmp(opt, "readonly=on")) {
			out->readonly = true;
		} else if (!strcmp(opt, "readonly=off")) {
			out->readonly = false;
		} else {
			r = verr_set(err, EINVAL,
				     "--disk %s: unknown option '%s' (format=raw|qcow2, readonly)",
				     spec, opt);
			goto out;
		}
	}
	if (!*path) {
		r = verr_set(err, EINVAL, "--disk %s: no image path", spec);
		goto out;
	}
	/* The spec minus its options: the path, moved to the front of the copy. */
	out->path = copy;
	return 0;
out:
	free(copy);
	return r;
}

int run_devices_add_disk(struct run_devices *d, const char *spec, struct verr *err)
{
	int r = take_slot(d, err);
	if (r)
		return r;
	struct run_disk_spec ds;
	if ((r = run_devices_parse_disk(spec, &ds, err)))
		return r;
	const char *path = ds.path;
	struct blk *disk;
	struct verr e = {{0}};
	r = blk_open(path, ds.fmt, ds.readonly, &disk, &e);
	if (r) {
		verr_set(err, -r, "--disk %s: %s", path, e.msg);
		r = r == -EINVAL ? -EIO : r; /* a bad image is not a bad flag */
		goto out;
	}
	struct virtio_device *v = virtio_blk_create(disk, &e);
	if (!v) {
		blk_close(disk);
		r = verr_set(err, EIO, "--disk %s: %s", path, e.msg);
		goto out;
	}
	char serial[21];
	snprintf(serial, sizeof(serial), "vessel-disk%u", d->n);
	virtio_blk_set_serial(v, serial);
	d->slot[d->n++] = v;
out:
	free(ds.path);
	return r;
}

int run_devices_add_net(struct run_devices *d, const char *spec, struct verr *err)
{
	int r = take_slot(d, err);
	if (r)
		return r;
	struct net_backend *be;
	struct verr e = {{0}};
	r = net_backend_parse(spec, &be, &e);
	if (r)
		return verr_set(err, -r, "--net %s: %s", spec, e.msg);
	uint8_t mac[6];
	virtio_net_default_mac(d->nics, mac);
	struct virtio_device *v = virtio_net_create(be, mac, &e);
	if (!v) {
		net_backend_destroy(be);
		return verr_set(err, EIO, "--net %s: %s", spec, e.msg);
	}
	d->nics++;
	d->slot[d->n++] = v;
	return 0;
}

int run_devices_add_rng(struct run_devices *d, struct verr *err)
{
	int r = take_slot(d, err);
	if (r)
		return r;
	struct virtio_device *v = virtio_rng_create();
	if (!v)
		return verr_set(err, ENOMEM, "--rng: out of memory");
	d->slot[d->n++] = v;
	return 0;
}

void run_devices_destroy(struct run_devices *d)
{
	for (unsigned i = 0; i < d->n; i++)
		virtio_device_destroy(d->slot[i]);
	memset(d, 0, sizeof(*d));
}
