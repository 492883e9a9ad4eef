/* SPDX-License-Identifier: MIT */
#include "devices/virtio_rng.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "devices/virtio.h"

#define RNG_QUEUE_SIZE 64
/* Cap one request so a huge guest buffer cannot keep a hart busy for long. */
#define RNG_MAX_REQUEST 65536

/* Fill one writable buffer; returns bytes written (short on error). */
static size_t rng_fill(uint8_t *p, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = getrandom(p + done, len - done, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		done += (size_t)n;
	}
	return done;
}

static void rng_notify(struct virtio_device *vdev, unsigned qi)
{
	struct virtq *q = &vdev->vq[qi];
	struct virtq_elem *e;
	while (virtq_pop(q, &e) > 0) {
		size_t total = 0;
		for (unsigned i = e->n_out; i < e->n_out + e->n_in && total < RNG_MAX_REQUEST;
		     i++) {
			size_t want = e->iov[i].len;
			if (want > RNG_MAX_REQUEST - total)
				want = RNG_MAX_REQUEST - total;
			size_t got = rng_fill(e->iov[i].p, want);
			total += got;
			if (got < want)
				break;
		}
		virtq_complete(q, e, (uint32_t)total);
	}
}

static const struct virtio_device_ops rng_ops = {
    .queue_notify = rng_notify,
};

struct virtio_device *virtio_rng_create(void)
{
	struct virtio_device *vdev = calloc(1, sizeof(*vdev));
	if (!vdev)
		return NULL;
	virtio_device_init(vdev, VIRTIO_ID_RNG, 1, RNG_QUEUE_SIZE, &rng_ops);
	return vdev;
}
