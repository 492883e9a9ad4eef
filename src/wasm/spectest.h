/* SPDX-License-Identifier: MIT */
/*
 * The spec-test harness: runs the JSON script wast2json makes from a .wast
 * file (with the .wasm files next to it) against the engine.
 */
#ifndef VESSEL_WASM_SPECTEST_H
#define VESSEL_WASM_SPECTEST_H

#include <stdio.h>

#include "util/log.h"

/*
 * Run every command of the script; prints "PASS <line> <command>" or
 * "FAIL <line> <reason>" per assertion and a summary line to 'out'.  Returns
 * 0 when the script could be run (check *failed), or -errno with 'err' set
 * when it could not be read.
 */
int wasm_spectest_run(const char *json_path, FILE *out, unsigned *passed, unsigned *failed,
		      struct verr *err);

#endif
