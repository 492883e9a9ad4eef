/* SPDX-License-Identifier: MIT */
#include "api/reply.h"

#include <stdlib.h>
#include <string.h>

void api_reply_json(struct api_reply *rep, unsigned status, json_t *j)
{
	rep->status = status;
	rep->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	rep->len = rep->body ? strlen(rep->body) : 0;
	rep->content_type = "application/json";
	if (j && !rep->body)
		rep->status = 500;
	json_decref(j);
}

void api_reply_error(struct api_reply *rep, unsigned status, const char *msg)
{
	api_reply_json(rep, status, json_pack("{s:s}", "error", msg));
}
