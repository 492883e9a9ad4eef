/* SPDX-License-Identifier: MIT */
/*
 * Network backends: where the frames of a guest NIC go.  User-mode NAT
 * (slirp) now; a tap device (bridged) or a VM-to-VM switch (host-only) plug
 * into the same interface later.
 *
 * Frames are plain Ethernet frames (no virtio header, no FCS).  A backend
 * hands received frames to its peer (the NIC model) through the peer's
 * receive callback; the NIC sends the guest's frames with net_backend_send().
 * When the guest has no receive buffer the peer answers -EAGAIN: the backend
 * keeps a bounded number of frames (struct net_queue) and drops the rest,
 * and retries when the NIC calls net_backend_rx_ready().
 */
#ifndef VESSEL_NET_NETDEV_H
#define VESSEL_NET_NETDEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct verr;
struct net_backend;

#define NET_MAX_FRAME 65536 /* larger frames are dropped */
#define NET_QUEUE_MAX 256   /* frames a backend keeps while the guest has no buffer */

/* The NIC side of a backend. */
struct net_peer_ops {
	/*
	 * Deliver one frame to the guest, on the backend's thread.  Returns 0
	 * when delivered (or dropped for good, e.g. too big for the buffer),
	 * -EAGAIN when the guest has no receive buffer right now.  Must not
	 * call back into the backend except net_backend_rx_ready().
	 */
	int (*receive)(void *opaque, const uint8_t *frame, size_t len);
};

struct net_backend_ops {
	/* A frame from the guest, on a hart thread: queue it, do not block.
	 * Returns 0, or -errno when the frame was dropped. */
	int (*send)(struct net_backend *be, const uint8_t *frame, size_t len);
	/* The guest posted receive buffers: deliver what was held back.  Any thread. */
	void (*rx_ready)(struct net_backend *be);
	/* Stop the backend's threads and free it. */
	void (*destroy)(struct net_backend *be);
};

struct net_backend {
	const struct net_backend_ops *ops;
	const char *kind; /* "user", ... */
	pthread_mutex_t peer_lock;
	const struct net_peer_ops *peer_ops;
	void *peer;
};

/*
 * Parse and create a backend from a --net spec:
 *   user[,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...
 * An empty HOSTADDR listens on all host addresses, an empty GUESTADDR is the
 * guest's DHCP address (10.0.2.15).  0 or -errno with 'err' filled.
 */
int net_backend_parse(const char *spec, struct net_backend **out, struct verr *err);

static inline int net_backend_send(struct net_backend *be, const uint8_t *frame, size_t len)
{
	return be->ops->send(be, frame, len);
}

static inline void net_backend_rx_ready(struct net_backend *be)
{
	be->ops->rx_ready(be);
}

/* Connect a NIC (ops NULL disconnects; waits for a delivery under way). */
void net_backend_attach(struct net_backend *be, const struct net_peer_ops *ops, void *peer);
/* Free a backend (NULL is fine); detach its NIC first. */
void net_backend_destroy(struct net_backend *be);

/* --- for backend implementations --- */

void net_backend_init(struct net_backend *be, const struct net_backend_ops *ops, const char *kind);
void net_backend_fini(struct net_backend *be);
/* Hand a frame to the peer: 0 delivered or no peer (dropped), -EAGAIN no buffer. */
int net_backend_deliver(struct net_backend *be, const uint8_t *frame, size_t len);

/* A bounded FIFO of frames held back from the peer.  Not locked. */
struct net_frame {
	struct net_frame *next;
	size_t len;
	uint8_t data[];
};

struct net_queue {
	struct net_frame *head, **tail;
	unsigned count, max;
	uint64_t dropped;
};

void net_queue_init(struct net_queue *q, unsigned max);
void net_queue_clear(struct net_queue *q);
/* Copy a frame in; -ENOBUFS (and counted as dropped) when full. */
int net_queue_push(struct net_queue *q, const uint8_t *frame, size_t len);
/* Deliver queued frames in order until the peer answers -EAGAIN. */
void net_queue_flush(struct net_queue *q, struct net_backend *be);
/*
 * Deliver a new frame, keeping order: straight to the peer when nothing is
 * queued, otherwise (or on -EAGAIN) into the queue.
 */
void net_queue_deliver(struct net_queue *q, struct net_backend *be, const uint8_t *frame,
		       size_t len);

#endif
