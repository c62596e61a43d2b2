/*
 * conv_driver.c — Conv1d on the CPU backends through the ISA's GEMM
 * (gemm_driver.c): per batch item n and group g, im2col then one GEMM.
 * No ISA flags here.
 *
 *   col [cg*K, Lout]:  col[c*K + k, t] = X[n, g*cg + c, t*stride +
 *                      k*dilation - pad_begin]  (0 outside [0, L))
 *   Y[n, g*mg .. , :] = W_g [mg, cg*K] * col + B_g  (bias as GEMM's C,
 *                      broadcast along the row: c_sm 1, c_sn 0)
 *
 * A pointwise conv (K 1, stride 1, dilation 1, no pad) uses X's rows as
 * col directly.  The GEMM threads as the library's GEMM does.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cpu_simd/cpu_simd.h"

seqk_status seqk__cpu_conv1d(seqk_context *ctx, const seqk_cpu_isa *isa,
                             const seqk_conv1d_problem *p)
{
    seqk_status st = SEQK_OK;
    const int64_t cg = p->C / p->group, mg = p->M / p->group;
    const int64_t rows = cg * p->K; /* <= W's numel: no overflow */
    const int direct = p->K == 1 && p->stride == 1 && p->pad_begin == 0 &&
                       p->Lout == p->L;
    float *col = NULL;
    if (!direct) {
        int64_t n;
        if (seqk__mul_i64(rows, p->Lout, &n) ||
            n > (int64_t)(SIZE_MAX / sizeof(float)))
            return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                               "Conv: im2col of %lld x %lld overflows",
                               (long long)rows, (long long)p->Lout);
        col = seqk__aligned_alloc((size_t)(n ? n : 1) * sizeof(float));
        if (!col)
            return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                               "Conv: out of memory for the im2col buffer "
                               "(%lld floats)", (long long)n);
    }
    for (int64_t n = 0; n < p->N && st == SEQK_OK; n++)
        for (int64_t g = 0; g < p->group && st == SEQK_OK; g++) {
            const float *x = p->X + (n * p->C + g * cg) * p->L;
            const float *B = x;
            if (!direct) {
                for (int64_t c = 0; c < cg; c++)
                    for (int64_t k = 0; k < p->K; k++) {
                        float *row = col + (c * p->K + k) * p->Lout;
                        const float *xr = x + c * p->L;
                        const int64_t off = k * p->dilation - p->pad_begin;
                        for (int64_t t = 0; t < p->Lout; t++) {
                            const int64_t at = t * p->stride + off;
                            row[t] = at >= 0 && at < p->L ? xr[at] : 0.0f;
                        }
                    }
                B = col;
            }
            seqk_gemm_problem gp = {
                .M = mg, .N = p->Lout, .K = rows, .alpha = 1.0f,
                .beta = p->B ? 1.0f : 0.0f,
                .A = p->W + g * mg * rows, .lda = rows,
                .B = B, .ldb = p->Lout,
                .C = p->B ? p->B + g * mg : NULL, .c_sm = 1, .c_sn = 0,
                .Y = p->Y + (n * p->M + g * mg) * p->Lout, .ldy = p->Lout};
            st = seqk__cpu_gemm(ctx, isa, &gp);
        }
    seqk__aligned_free(col);
    return st;
}
