/*
 * isa_avx2.c — the avx2 kernel table: one pointer per op family, set by
 * that family's kernel file in this directory.  NULL: no avx2 kernels for
 * the family yet (dispatch falls back and says so).
 */
#include "../attention.h"
#include "../cpu_simd.h"
#include "../gemm.h"
#include "../rnn.h"

const seqk_cpu_isa seqk_cpu_isa_avx2 = {
    .spec = "avx2",
    .gemm = &seqk_gemm_kernels__avx2,
    .rnn = &seqk_rnn_kernels__avx2,
    .attn = &seqk_attn_kernels__avx2,
};
