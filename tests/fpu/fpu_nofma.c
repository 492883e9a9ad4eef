// SPDX-License-Identifier: MIT
/*
 * The SSE engine as it runs on x86-64 hosts without FMA (fma() from libm in
 * place of vfmadd), every public name prefixed with nofma_.
 */
#define FPU_NO_HW_FMA 1
#define FPU_RENAME(x) nofma_##x
#include "fpu_rename.h"

#include "cpu/fpu.c"

#include "fpu_impl.h"

const struct fpu_impl fpu_nofma = FPU_IMPL_INIT("hw-nofma");
