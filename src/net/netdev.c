/* SPDX-License-Identifier: MIT */
#include "net/netdev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/slirp.h"
#include "util/log.h"

void net_backend_init(struct net_backend *be, const struct net_backend_ops *ops, const char *kind)
{
	be->ops = ops;
	be->kind = kind;
	be->peer_ops = NULL;
	be->peer = NULL;
	pthread_mutex_init(&be->peer_lock, NULL);
}

void net_backend_fini(struct net_backend *be)
{
	pthread_mutex_destroy(&be->peer_lock);
}

void net_backend_attach(struct net_backend *be, const struct net_peer_ops *ops, void *peer)
{
	pthread_mutex_lock(&be->peer_lock);
	be->peer_ops = ops;
	be->peer = peer;
	pthread_mutex_unlock(&be->peer_lock);
}

void net_backend_destroy(struct net_backend *be)
{
	if (be)
		be->ops->destroy(be);
}

int net_backend_deliver(struct net_backend *be, const uint8_t *frame, size_t len)
{
	pthread_mutex_lock(&be->peer_lock);
	int r = be->peer_ops ? be->peer_ops->receive(be->peer, frame, len) : 0;
	pthread_mutex_unlock(&be->peer_lock);
	return r;
}

void net_queue_init(struct net_queue *q, unsigned max)
{
	q->head = NULL;
	q->tail = &q->head;
	q->count = 0;
	q->max = max;
	q->dropped = 0;
}

void net_queue_clear(struct net_queue *q)
{
	while (q->head) {
		struct net_frame *f = q->head;
		q->head = f->next;
		free(f);
	}
	net_queue_init(q, q->max);
}

int net_queue_push(struct net_queue *q, const uint8_t *frame, size_t len)
{
	struct net_frame *f = NULL;
	if (q->count < q->max && len <= NET_MAX_FRAME)
		f = malloc(sizeof(*f) + len);
	if (!f) {
		q->dropped++;
		return -ENOBUFS;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->data, frame, len);
	*q->tail = f;
	q->tail = &f->next;
	q->count++;
	return 0;
}

void net_queue_flush(struct net_queue *q, struct net_backend *be)
{
	while (q->head) {
		struct net_frame *f = q->head;
		if (net_backend_deliver(be, f->data, f->len) == -EAGAIN)
			return;
		q->head = f->next;
		if (!q->head)
			q->tail = &q->head;
		q->count--;
		free(f);
	}
}

void net_queue_deliver(struct net_queue *q, struct net_backend *be, const uint8_t *frame,
		       size_t len)
{
	if (q->head)
		net_queue_flush(q, be);
	if (!q->head && net_backend_deliver(be, frame, len) != -EAGAIN)
		return;
	net_queue_push(q, frame, len);
}

/* Split "kind[,options]" and hand the options to the backend. */
int net_backend_parse(const char *spec, struct net_backend **out, struct verr *err)
{
	size_t n = strcspn(spec, ",");
	const char *opts = spec[n] ? spec + n + 1 : "";
	if (spec[n] && !*opts)
		return verr_set(err, EINVAL, "empty option after ','");
	if (n == 4 && !strncmp(spec, "user", 4))
		return net_slirp_create(opts, out, err);
	return verr_set(err, EINVAL, "unknown network backend '%.*s' (supported: user)", (int)n,
			spec);
}
