/*
 * isa_avx2.c — the avx2 kernel table: one pointer per op family, set by
 * that family's kernel file in this directory.  NULL: no avx2 kernels for
 * the family yet (dispatch falls back and says so).
 */
#include "../cpu_simd.h"

const seqk_cpu_isa seqk_cpu_isa_avx2 = {
    .spec = "avx2",
    .gemm = NULL,
    .rnn = NULL,
    .attn = NULL,
};
