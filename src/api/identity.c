/* SPDX-License-Identifier: MIT */
#include "api/identity.h"

#include <errno.h>
#include <stdint.h>
#include <sys/random.h>

#include "api/vm.h"
#include "devices/virtio_input.h"
#include "machine/virt.h"
#include "util/log.h"

_Static_assert(IDENTITY_SEED_LEN <= VIRTIO_INPUT_MSG_MAX, "one message");

int api_identity_send(struct vm *vm, struct verr *err)
{
	struct virtio_device *button = vm_power_button(vm);
	uint8_t mac[VIRT_VIRTIO_SLOTS][6], seed[IDENTITY_SEED_LEN];
	unsigned n = vm_nic_macs(vm, mac, VIRT_VIRTIO_SLOTS);
	for (unsigned i = 0; i < n; i++)
		if (virtio_input_send_message(button, IDENTITY_KIND_MAC << 16 | i, mac[i], 6))
			return verr_set(err, ENOSPC, "identity: the guest takes no events");
	/* The guest's random state was saved with the snapshot: every restore gets new bytes. */
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return verr_set(err, errno ? errno : EIO, "identity: getrandom failed");
	if (virtio_input_send_message(button, IDENTITY_KIND_SEED << 16 | sizeof(seed), seed,
				      sizeof(seed)))
		return verr_set(err, ENOSPC, "identity: the guest takes no events");
	return 0;
}
