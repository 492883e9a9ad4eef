/* SPDX-License-Identifier: MIT */
/* Building a machine back from a snapshot (snapshot/snapshot.h). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/cpu_state.h"
#include "devices/goldfish_rtc.h"
#include "devices/uart16550.h"
#include "devices/virtio.h"
#include "devices/virtio_input.h"
#include "devices/virtio_mmio.h"
#include "machine/aclint.h"
#include "machine/guest_mem.h"
#include "machine/plic.h"
#include "machine/virt.h"
#include "snapshot/format.h"
#include "snapshot/snapshot.h"
#include "util/clock.h"
#include "util/log.h"

const char *snapshot_config(const struct snap_reader *r, struct verr *err)
{
	const struct snap_section *s = snap_find(r, SNAP_SEC_CONFIG, 0);
	if (!s || s->length == 0 || ((const char *)s->data)[s->length - 1] != '\0' ||
	    strlen(s->data) != s->length - 1) {
		verr_set(err, EINVAL, "snapshot: missing or bad configuration section");
		return NULL;
	}
	return s->data;
}

/* The snapshot must describe this very machine. */
static int load_check_machine(const struct snap_machine *sm, const struct machine_parts *p,
			      struct verr *err)
{
	if (sm->nharts != p->nharts)
		return verr_set(err, EINVAL, "snapshot of a VM with %u vCPUs, this one has %u",
				sm->nharts, p->nharts);
	if (sm->mem_base != p->mem->base || sm->mem_size != p->mem->size)
		return verr_set(err, EINVAL,
				"snapshot of a VM with %llu MiB of memory, this one has %llu",
				(unsigned long long)(sm->mem_size >> 20),
				(unsigned long long)(p->mem->size >> 20));
	if (sm->nslots != VIRT_VIRTIO_SLOTS)
		return verr_set(err, EINVAL, "snapshot: bad number of device slots");
	for (unsigned i = 0; i < VIRT_VIRTIO_SLOTS; i++) {
		uint32_t id = p->vdev[i] ? p->vdev[i]->device_id : 0;
		if (sm->device_id[i] != id)
			return verr_set(err, EINVAL,
					"snapshot of a VM with other devices: slot %u has virtio "
					"device %u, this VM has %u",
					i, sm->device_id[i], id);
	}
	return 0;
}

/* Guest RAM becomes a private mapping of the file: pages are read when first touched. */
static int load_memory(const struct snap_reader *r, struct guest_mem *mem, struct verr *err)
{
	const struct snap_section *s = snap_find(r, SNAP_SEC_MEMORY, 0);
	if (!s || s->length != mem->size)
		return verr_set(err, EINVAL, "snapshot: guest memory missing or of the wrong size");
	void *p = mmap(mem->host, mem->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, r->fd, (off_t)s->file_offset);
	if (p == MAP_FAILED)
		return verr_set(err, errno, "snapshot: cannot map guest memory: %s",
				strerror(errno));
	return 0;
}

static int load_harts(const struct snap_reader *r, const struct machine_parts *p, struct verr *err)
{
	for (unsigned i = 0; i < p->nharts; i++) {
		const struct cpu_state *cs =
		    snap_need(r, SNAP_SEC_HART, i, sizeof(*cs), "hart", err);
		if (!cs)
			return -EINVAL;
		int e = cpu_load(p->cpu[i], cs, err);
		if (e)
			return e;
	}
	if (snap_find(r, SNAP_SEC_HART, p->nharts))
		return verr_set(err, EINVAL, "snapshot: more harts than the machine");
	return 0;
}

static int load_virtio(const struct snap_reader *r, const struct machine_parts *p, struct verr *err)
{
	for (unsigned i = 0; i < VIRT_VIRTIO_SLOTS; i++) {
		const struct virtio_mmio_state *vs =
		    snap_need(r, SNAP_SEC_VIRTIO, i, sizeof(*vs), "virtio", err);
		if (!vs)
			return -EINVAL;
		struct verr e2 = {{0}};
		int e = virtio_mmio_load(p->virtio[i], vs, &e2);
		if (e)
			return verr_set(err, -e, "slot %u: %s", i, e2.msg);
		bool input = p->vdev[i] && p->vdev[i]->device_id == VIRTIO_INPUT_DEVICE_ID;
		const struct snap_section *ds = snap_find(r, SNAP_SEC_VIRTIO_DEV, i);
		if (!input && ds)
			return verr_set(err, EINVAL, "snapshot: stray device state for slot %u", i);
		if (!input)
			continue;
		const struct virtio_input_state *is =
		    snap_need(r, SNAP_SEC_VIRTIO_DEV, i, sizeof(*is), "virtio-input", err);
		if (!is || (e = virtio_input_load(p->vdev[i], is, err)))
			return is ? e : -EINVAL;
	}
	return 0;
}

static int load_devices(const struct snap_reader *r, const struct machine_parts *p,
			struct verr *err)
{
	const struct plic_state *plic = snap_need(r, SNAP_SEC_PLIC, 0, sizeof(*plic), "plic", err);
	const struct aclint_state *clint =
	    plic ? snap_need(r, SNAP_SEC_CLINT, 0, sizeof(*clint), "clint", err) : NULL;
	const struct uart16550_state *uart =
	    clint ? snap_need(r, SNAP_SEC_UART, 0, sizeof(*uart), "uart", err) : NULL;
	const struct goldfish_rtc_state *rtc =
	    uart ? snap_need(r, SNAP_SEC_RTC, 0, sizeof(*rtc), "rtc", err) : NULL;
	if (!rtc)
		return -EINVAL;
	int e;
	if ((e = plic_load(p->plic, plic, err)) || (e = aclint_load(p->clint, clint, err)) ||
	    (e = uart16550_load(p->uart, uart, err)) || (e = goldfish_rtc_load(p->rtc, rtc, err)))
		return e;
	return load_virtio(r, p, err);
}

int snapshot_machine_load(struct machine *m, const struct snap_reader *r, struct verr *err)
{
	return snapshot_machine_load_ex(m, r, false, err);
}

int snapshot_machine_load_ex(struct machine *m, const struct snap_reader *r, bool memory_in_place,
			     struct verr *err)
{
	struct machine_parts p;
	machine_get_parts(m, &p);
	const struct snap_machine *sm =
	    snap_need(r, SNAP_SEC_MACHINE, 0, sizeof(*sm), "machine", err);
	if (!sm)
		return -EINVAL;
	int e = load_check_machine(sm, &p, err);
	/* Memory first: queue addresses are checked against it. */
	if (!e && memory_in_place && snap_find(r, SNAP_SEC_MEMORY, 0))
		e = verr_set(err, EINVAL, "migration: unexpected memory section");
	else if (!e && !memory_in_place)
		e = load_memory(r, p.mem, err);
	if (!e)
		e = load_harts(r, &p, err);
	if (!e)
		e = load_devices(r, &p, err);
	if (e)
		return e;
	/* Nothing runs yet: the guest clock restarts where it stopped. */
	timebase_init(p.tb, sm->guest_ticks);
	for (unsigned i = 0; i < VIRT_VIRTIO_SLOTS; i++)
		virtio_mmio_kick_all(p.virtio[i]);
	return 0;
}
