/* SPDX-License-Identifier: MIT */
/* JSON answers of the routes (routes.c, snapshot_routes.c). */
#ifndef VESSEL_API_REPLY_H
#define VESSEL_API_REPLY_H

#include <jansson.h>

#include "api/http.h"

/* Answer 'status' with the JSON value j (its reference is taken); 500 if it cannot be dumped. */
void api_reply_json(struct api_reply *rep, unsigned status, json_t *j);
/* Answer 'status' with {"error": msg}. */
void api_reply_error(struct api_reply *rep, unsigned status, const char *msg);

#endif
