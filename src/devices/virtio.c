/* SPDX-License-Identifier: MIT */
#include "devices/virtio.h"

#include <stdlib.h>

void virtio_device_init(struct virtio_device *vdev, uint32_t device_id, unsigned num_queues,
			uint16_t queue_max, const struct virtio_device_ops *ops)
{
	vdev->device_id = device_id;
	vdev->num_queues = num_queues;
	vdev->ops = ops;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		virtq_init(&vdev->vq[i], vdev);
		vdev->queue_max[i] = i < num_queues ? queue_max : 0;
	}
	atomic_init(&vdev->driver_features, 0);
	atomic_init(&vdev->driver_ok, false);
}

void virtio_device_destroy(struct virtio_device *vdev)
{
	if (!vdev)
		return;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		virtq_stop(&vdev->vq[i]);
	if (vdev->ops->destroy)
		vdev->ops->destroy(vdev);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		virtq_destroy(&vdev->vq[i]);
	free(vdev);
}

void virtio_irq_used(struct virtio_device *vdev)
{
	if (vdev->transport_ops)
		vdev->transport_ops->raise(vdev->transport, VIRTIO_INT_USED);
}

void virtio_config_changed(struct virtio_device *vdev)
{
	if (vdev->transport_ops)
		vdev->transport_ops->config_changed(vdev->transport);
}

void virtio_device_fail(struct virtio_device *vdev)
{
	if (vdev->transport_ops)
		vdev->transport_ops->needs_reset(vdev->transport);
}
