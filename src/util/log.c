/* SPDX-License-Identifier: MIT */
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int verr_set(struct verr *e, int err, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return err > 0 ? -err : (err ? err : -EINVAL);
}

static void log_v(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "vessel: %s%s\n", prefix, buf);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v("", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v("warning: ", fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	static int enabled = -1;
	if (enabled < 0)
		enabled = getenv("VESSEL_DEBUG") != NULL;
	if (!enabled)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_v("debug: ", fmt, ap);
	va_end(ap);
}
