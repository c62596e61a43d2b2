/*
 * isa_neon.c — the neon kernel table: one pointer per op family, set by
 * that family's kernel file in this directory.  NULL: no neon kernels for
 * the family yet (dispatch falls back and says so).
 */
#include "../attention.h"
#include "../cpu_simd.h"
#include "../gemm.h"
#include "../rnn.h"

const seqk_cpu_isa seqk_cpu_isa_neon = {
    .spec = "neon",
    .gemm = &seqk_gemm_kernels__neon,
    .rnn = &seqk_rnn_kernels__neon,
    .attn = &seqk_attn_kernels__neon,
};
