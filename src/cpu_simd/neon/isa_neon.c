/*
 * isa_neon.c — the neon kernel table: one pointer per op family, set by
 * that family's kernel file in this directory.  NULL: no neon kernels for
 * the family yet (dispatch falls back and says so).
 */
#include "../cpu_simd.h"

const seqk_cpu_isa seqk_cpu_isa_neon = {
    .spec = "neon",
    .gemm = NULL,
    .rnn = NULL,
    .attn = NULL,
};
