/*
 * attention.h — the per-ISA kernels behind Softmax, Attention and
 * SeqAttention, and the drivers' view of them.
 *
 * Attention runs flash-attention style (attention_driver.c): for a block
 * of query rows it walks the keys in blocks, and for each group of mr rows
 *
 *   scores    S[mr, nk]  = Q[mr, Dh] . K^T          (register-tiled)
 *   softmax   P[mr, nk]  = exp(scale*S + mask - running max), per row,
 *             updating the running max m and sum l  (online softmax)
 *   context   acc[mr,Dv] = corr * acc + P . V[nk, Dv]
 *
 * so the Sq x Skv score matrix never exists; y = acc / l at the end.
 *
 * K^T is packed per kv head into panels of nr keys, zero-padded to a
 * whole panel (pack_k, one panel per call):
 *
 *   kp[(p*dh + d)*nr + j] = K[key p*nr + j][d]
 *
 * V, Q and the user's arrays are read where they are (rows strided, the
 * head dim contiguous); kernels read exactly the elements named below and
 * write only the outputs named below.
 */
#ifndef SEQK_CPU_SIMD_ATTENTION_H
#define SEQK_CPU_SIMD_ATTENTION_H

#include <stdint.h>

typedef struct seqk_attn_kernels {
    const char *name; /* e.g. "seqk_f32_attn_scores_6x64__avx512" */
    int mr;           /* query rows per score / context tile */
    int nr;           /* keys per packed K^T panel */
    int vec;          /* acc rows are padded to a multiple of this */

    /* One panel of packed K^T: kp[d*nr + j] = k[j*k_stride + d] for
     * j < n <= nr, 0 for n <= j < nr; d < dh. */
    void (*pack_k)(int64_t n, int64_t dh, const float *k, int64_t k_stride,
                   float *kp);
    /* s[i*lds + p*nr + j] = sum_{d<dh} q[i*q_stride + d] * kp[(p*dh+d)*nr+j]
     * for i < m <= mr, p < npanels, j < nr. */
    void (*scores_packed)(int64_t m, int64_t npanels, int64_t dh,
                          const float *q, int64_t q_stride, const float *kp,
                          float *s, int64_t lds);
    /* s[i*lds + j] = sum_{d<dh} q[i*q_stride + d] * k[j*k_stride + d]
     * for i < m <= mr, j < n (K unpacked: for few query rows). */
    void (*scores_rows)(int64_t m, int64_t n, int64_t dh, const float *q,
                        int64_t q_stride, const float *k, int64_t k_stride,
                        float *s, int64_t lds);
    /* One row of one key block of the online softmax.  On entry s[j]
     * (j < n) holds raw dot products; x = scale*s, then softcap*tanh(x /
     * softcap) when softcap > 0, then + bias[j] when bias != NULL.  With
     * m_new = max(*max, max_j x) it writes s[j] = exp(x - m_new) for
     * j < n and 0 for n <= j < n_pad, sets *sum = *sum*corr + sum_j s[j],
     * *max = m_new and returns corr = exp(old max - m_new).  When every
     * score so far is -inf, s[0..n_pad) = 0 and it returns 1. */
    float (*online_softmax_row)(int64_t n, int64_t n_pad, float scale,
                                float softcap, const float *bias, float *s,
                                float *max, float *sum);
    /* acc[i*ldacc + d] = corr[i]*acc[i*ldacc + d]
     *                   + sum_{j<n} p[i*ldp + j] * v[j*v_stride + d]
     * for i < m <= mr, d < dv; ldacc is a multiple of vec and acc columns
     * dv..ldacc may be read and written (scratch). */
    void (*context)(int64_t m, int64_t n, int64_t dv, const float *p,
                    int64_t ldp, const float *v, int64_t v_stride,
                    const float *corr, float *acc, int64_t ldacc);

    /* Softmax over the rows of an [n, inner] slab, columns c0..c1:
     *   y[i*inner + c] = exp(x[i*inner+c] - max_i) / sum_i exp(...)
     * x may equal y (in place). */
    void (*softmax)(int64_t n, int64_t inner, int64_t c0, int64_t c1,
                    const float *x, float *y);
    /* LogSoftmax of one contiguous row x[0..n) into y (may be x). */
    void (*log_softmax_row)(int64_t n, const float *x, float *y);

    /* SeqAttention pieces. */
    float (*dot)(int64_t n, const float *a, const float *b);
    /* sum_{a<na} v[a] * tanh(u[a] + wk[a]) */
    float (*additive_score)(int64_t na, const float *u, const float *wk,
                            const float *v);
    /* The same with tanh at 3.5 ULP (SLEEF u35): the keyed step's. */
    float (*additive_score_u35)(int64_t na, const float *u, const float *wk,
                                const float *v);
    /* y[d] = sum_{j<n} w[j] * x[j*x_stride + d], d < dv (0 when n == 0) */
    void (*weighted_rows)(int64_t n, int64_t dv, const float *w,
                          const float *x, int64_t x_stride, float *y);
} seqk_attn_kernels;

extern const seqk_attn_kernels seqk__attn_kernels__avx2;
extern const seqk_attn_kernels seqk__attn_kernels__avx512;
extern const seqk_attn_kernels seqk__attn_kernels__neon;

#endif
