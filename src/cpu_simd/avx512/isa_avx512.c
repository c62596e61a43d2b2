/*
 * isa_avx512.c — the avx512 kernel table: one pointer per op family, set by
 * that family's kernel file in this directory.  NULL: no avx512 kernels for
 * the family yet (dispatch falls back and says so).
 */
#include "../cpu_simd.h"

const seqk_cpu_isa seqk_cpu_isa_avx512 = {
    .spec = "avx512",
    .gemm = NULL,
    .rnn = NULL,
    .attn = NULL,
};
