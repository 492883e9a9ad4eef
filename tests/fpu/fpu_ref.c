// SPDX-License-Identifier: MIT
/*
 * The software engine of fpu.c as an independent reference: the same source
 * built with FPU_SOFT_ONLY, every public name prefixed with ref_ so it links
 * next to the real library.
 */
#define FPU_SOFT_ONLY 1
#define FPU_RENAME(x) ref_##x
#include "fpu_rename.h"

#include "cpu/fpu.c"

#include "fpu_impl.h"

const struct fpu_impl fpu_soft = FPU_IMPL_INIT("soft");
