/*
 * isa_avx512.c — the avx512 kernel table: one pointer per op family, set by
 * that family's kernel file in this directory.  NULL: no avx512 kernels for
 * the family yet (dispatch falls back and says so).
 */
#include "../attention.h"
#include "../cpu_simd.h"
#include "../gemm.h"
#include "../rnn.h"

const seqk_cpu_isa seqk_cpu_isa_avx512 = {
    .spec = "avx512",
    .gemm = &seqk_gemm_kernels__avx512,
    .rnn = &seqk_rnn_kernels__avx512,
    .attn = &seqk_attn_kernels__avx512,
};
