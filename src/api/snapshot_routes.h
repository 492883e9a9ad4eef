/* SPDX-License-Identifier: MIT */
/* The snapshot paths of the per-VM API (api/snapshot_routes.c). */
#ifndef VESSEL_API_SNAPSHOT_ROUTES_H
#define VESSEL_API_SNAPSHOT_ROUTES_H

#include <stdbool.h>

struct vm;
struct api_request;
struct api_reply;

/* Answer 'req' if it is a /snapshot/ path (true), else leave 'rep' alone (false). */
bool api_snapshot_route(struct vm *vm, const struct api_request *req, struct api_reply *rep);

#endif
