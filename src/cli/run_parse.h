/* SPDX-License-Identifier: MIT */
/* The value parsers of 'vessel run' (cli/run.c), shared with the managed-VM commands. */
#ifndef VESSEL_CLI_RUN_PARSE_H
#define VESSEL_CLI_RUN_PARSE_H

#include <stdint.h>

/* "512M", "1G", "65536K", "256" (MiB, as QEMU's -m); 0 on garbage or overflow. */
uint64_t run_parse_size(const char *s);
/* A hart count from 1 to VIRT_MAX_HARTS; 0, or -1 on anything else. */
int run_parse_cpus(const char *s, unsigned *n);

#endif
