/* SPDX-License-Identifier: MIT */
/*
 * User-mode NAT through libslirp, on a thread of its own: guest network
 * 10.0.2.0/24 (IPv6 fec0::/64), host/gateway 10.0.2.2, DNS 10.0.2.3, DHCP
 * from 10.0.2.15, like QEMU's "-netdev user".
 */
#ifndef VESSEL_NET_SLIRP_H
#define VESSEL_NET_SLIRP_H

struct net_backend;
struct verr;

/* 'opts' is what follows "user," in the spec ("" for none): hostfwd=... options. */
int net_slirp_create(const char *opts, struct net_backend **out, struct verr *err);

#endif
