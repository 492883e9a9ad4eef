/* SPDX-License-Identifier: MIT */
/* Saving a paused machine (snapshot/snapshot.h). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

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
#include "util/log.h"

static int save_machine_section(struct snap_writer *w, struct machine *m,
				const struct machine_parts *p, struct verr *err)
{
	struct snap_machine sm = {
	    .guest_ticks = machine_paused_ticks(m),
	    .mem_base = p->mem->base,
	    .mem_size = p->mem->size,
	    .nharts = p->nharts,
	    .nslots = VIRT_VIRTIO_SLOTS,
	};
	for (unsigned i = 0; i < VIRT_VIRTIO_SLOTS; i++)
		sm.device_id[i] = p->vdev[i] ? p->vdev[i]->device_id : 0;
	return snap_write_section(w, SNAP_SEC_MACHINE, 0, &sm, sizeof(sm), err);
}

static int save_devices(struct snap_writer *w, const struct machine_parts *p, struct verr *err)
{
	static struct plic_state
	    plic; /* large: not on the stack; saves are serialized by the VM lock */
	struct aclint_state clint;
	struct uart16550_state uart;
	struct goldfish_rtc_state rtc;
	plic_save(p->plic, &plic);
	aclint_save(p->clint, &clint);
	uart16550_save(p->uart, &uart);
	goldfish_rtc_save(p->rtc, &rtc);
	int r;
	if ((r = snap_write_section(w, SNAP_SEC_PLIC, 0, &plic, sizeof(plic), err)) ||
	    (r = snap_write_section(w, SNAP_SEC_CLINT, 0, &clint, sizeof(clint), err)) ||
	    (r = snap_write_section(w, SNAP_SEC_UART, 0, &uart, sizeof(uart), err)) ||
	    (r = snap_write_section(w, SNAP_SEC_RTC, 0, &rtc, sizeof(rtc), err)))
		return r;
	for (unsigned i = 0; i < VIRT_VIRTIO_SLOTS; i++) {
		struct virtio_mmio_state vs;
		virtio_mmio_save(p->virtio[i], &vs);
		if ((r = snap_write_section(w, SNAP_SEC_VIRTIO, i, &vs, sizeof(vs), err)))
			return r;
		if (p->vdev[i] && p->vdev[i]->device_id == VIRTIO_INPUT_DEVICE_ID) {
			struct virtio_input_state is;
			virtio_input_save(p->vdev[i], &is);
			if ((r = snap_write_section(w, SNAP_SEC_VIRTIO_DEV, i, &is, sizeof(is),
						    err)))
				return r;
		}
	}
	return 0;
}

static int save_all(struct snap_writer *w, struct machine *m, const struct machine_parts *p,
		    const char *config, bool memory, struct verr *err)
{
	int r = snap_write_section(w, SNAP_SEC_CONFIG, 0, config, strlen(config) + 1, err);
	if (!r)
		r = save_machine_section(w, m, p, err);
	for (unsigned i = 0; !r && i < p->nharts; i++) {
		struct cpu_state cs;
		cpu_save(p->cpu[i], &cs);
		r = snap_write_section(w, SNAP_SEC_HART, i, &cs, sizeof(cs), err);
	}
	if (!r)
		r = save_devices(w, p, err);
	if (!r && memory)
		r = snap_write_memory(w, p->mem->host, p->mem->size, err);
	if (!r)
		r = snap_writer_end(w, err);
	return r;
}

void snapshot_machine_quiesce(struct machine *m)
{
	struct machine_parts p;
	machine_get_parts(m, &p);
	for (unsigned i = 0; i < VIRT_VIRTIO_SLOTS; i++)
		virtio_mmio_freeze(p.virtio[i]);
}

void snapshot_machine_release(struct machine *m)
{
	struct machine_parts p;
	machine_get_parts(m, &p);
	for (unsigned i = 0; i < VIRT_VIRTIO_SLOTS; i++)
		virtio_mmio_thaw(p.virtio[i]);
}

int snapshot_machine_save(struct machine *m, const char *config, int fd, struct verr *err)
{
	struct machine_parts p;
	machine_get_parts(m, &p);
	struct snap_writer w;
	int r = snap_writer_begin(&w, fd, err);
	if (!r)
		r = save_all(&w, m, &p, config, true, err);
	return r;
}

int snapshot_machine_save_state(struct machine *m, const char *config, int fd, struct verr *err)
{
	struct machine_parts p;
	machine_get_parts(m, &p);
	struct snap_writer w;
	int r = snap_writer_begin(&w, fd, err);
	if (!r)
		r = save_all(&w, m, &p, config, false, err);
	return r;
}
