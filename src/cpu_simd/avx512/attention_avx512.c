/*
 * attention_avx512.c — AVX-512 kernels for Softmax, Attention and
 * SeqAttention (the contract is in ../attention.h).
 *
 * Score tile, 6 query rows x one 64-key panel of packed K^T, 24 zmm
 * accumulators; per head-dim step d: 4 loads of kp, 6 broadcasts of q:
 *
 *        kp panel  [dh][64]          s (6 x 64)
 *   q0 [dh] ----. k0 k1 k2 k3        c00 c01 c02 c03
 *   q1 [dh] ----|  (16 keys each)    c10 ...
 *    ...        |                     ...
 *   q5 [dh] ----'                    c50 c51 c52 c53
 *
 * Context tile, 6 rows x 64 head-dim columns of acc, 24 zmm accumulators;
 * per key j: 4 loads of the V row, 6 broadcasts of p[i][j].  Column tails
 * use masked loads, so V is read in place and never past its end.
 * exp is an inline polynomial (exp_ps, under 2 ulp); tanh is SLEEF's.
 */
#include <immintrin.h>
#include <math.h>
#include <sleef.h>

#include "../attention.h"

static __mmask16 tail_mask(int64_t left)
{
    return left >= 16 ? (__mmask16)0xFFFF
                      : (__mmask16)((1u << (unsigned)left) - 1u);
}

/* Row pointer i of a tile with m valid rows: rows past m repeat the last
 * valid one, so every load stays in bounds; their results are dropped. */
static const float *row_ptr(const float *base, int64_t stride, int64_t i,
                            int64_t m)
{
    return base + (i < m ? i : m - 1) * stride;
}

/* exp(x) for softmax: x = n ln2 + t (two-constant reduction), exp(t) by
 * a degree-5 polynomial, times 2^n with scalef; under 2 ulp.  x below
 * -87.34 (where exp leaves the normal range; -inf for excluded keys)
 * gives exactly 0, NaN stays NaN.  Inline and ~10 instructions, where a
 * SLEEF call costs twice that on the softmax's critical path. */
static inline __m512 exp_ps(__m512 x)
{
    const __mmask16 keep =
        _mm512_cmp_ps_mask(x, _mm512_set1_ps(-0x1.5D589Ep6f), _CMP_NLT_UQ);
    const __m512 n = _mm512_roundscale_ps(
        _mm512_mul_ps(x, _mm512_set1_ps(0x1.715476p+0f)),
        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 t = _mm512_fmadd_ps(n, _mm512_set1_ps(-0x1.62E400p-1f), x);
    t = _mm512_fmadd_ps(n, _mm512_set1_ps(-0x1.7F7D1Cp-20f), t);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(0x1.0F9F9Cp-7f), t,
                               _mm512_set1_ps(0x1.573A1Ap-5f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0x1.555A80p-3f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0x1.FFFDC6p-2f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0x1.FFFFF6p-1f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.0f));
    return _mm512_maskz_scalef_ps(keep, p, n);
}

static void seqk_f32_attn_scores_6x64__avx512f(
    int64_t m, int64_t npanels, int64_t dh, const float *q,
    int64_t q_stride, const float *kp, float *s, int64_t lds)
{
    const float *q0 = row_ptr(q, q_stride, 0, m);
    const float *q1 = row_ptr(q, q_stride, 1, m);
    const float *q2 = row_ptr(q, q_stride, 2, m);
    const float *q3 = row_ptr(q, q_stride, 3, m);
    const float *q4 = row_ptr(q, q_stride, 4, m);
    const float *q5 = row_ptr(q, q_stride, 5, m);

    for (int64_t p = 0; p < npanels; p++) {
        const float *k = kp + p * dh * 64;
        __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00;
        __m512 c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        __m512 c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        __m512 c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        __m512 c40 = c00, c41 = c00, c42 = c00, c43 = c00;
        __m512 c50 = c00, c51 = c00, c52 = c00, c53 = c00;
        for (int64_t d = 0; d < dh; d++, k += 64) {
            const __m512 k0 = _mm512_loadu_ps(k);
            const __m512 k1 = _mm512_loadu_ps(k + 16);
            const __m512 k2 = _mm512_loadu_ps(k + 32);
            const __m512 k3 = _mm512_loadu_ps(k + 48);
            __m512 a = _mm512_set1_ps(q0[d]);
            c00 = _mm512_fmadd_ps(a, k0, c00);
            c01 = _mm512_fmadd_ps(a, k1, c01);
            c02 = _mm512_fmadd_ps(a, k2, c02);
            c03 = _mm512_fmadd_ps(a, k3, c03);
            a = _mm512_set1_ps(q1[d]);
            c10 = _mm512_fmadd_ps(a, k0, c10);
            c11 = _mm512_fmadd_ps(a, k1, c11);
            c12 = _mm512_fmadd_ps(a, k2, c12);
            c13 = _mm512_fmadd_ps(a, k3, c13);
            a = _mm512_set1_ps(q2[d]);
            c20 = _mm512_fmadd_ps(a, k0, c20);
            c21 = _mm512_fmadd_ps(a, k1, c21);
            c22 = _mm512_fmadd_ps(a, k2, c22);
            c23 = _mm512_fmadd_ps(a, k3, c23);
            a = _mm512_set1_ps(q3[d]);
            c30 = _mm512_fmadd_ps(a, k0, c30);
            c31 = _mm512_fmadd_ps(a, k1, c31);
            c32 = _mm512_fmadd_ps(a, k2, c32);
            c33 = _mm512_fmadd_ps(a, k3, c33);
            a = _mm512_set1_ps(q4[d]);
            c40 = _mm512_fmadd_ps(a, k0, c40);
            c41 = _mm512_fmadd_ps(a, k1, c41);
            c42 = _mm512_fmadd_ps(a, k2, c42);
            c43 = _mm512_fmadd_ps(a, k3, c43);
            a = _mm512_set1_ps(q5[d]);
            c50 = _mm512_fmadd_ps(a, k0, c50);
            c51 = _mm512_fmadd_ps(a, k1, c51);
            c52 = _mm512_fmadd_ps(a, k2, c52);
            c53 = _mm512_fmadd_ps(a, k3, c53);
        }
        float *o = s + p * 64;
        _mm512_storeu_ps(o, c00);
        _mm512_storeu_ps(o + 16, c01);
        _mm512_storeu_ps(o + 32, c02);
        _mm512_storeu_ps(o + 48, c03);
        if (m > 1) {
            o += lds;
            _mm512_storeu_ps(o, c10);
            _mm512_storeu_ps(o + 16, c11);
            _mm512_storeu_ps(o + 32, c12);
            _mm512_storeu_ps(o + 48, c13);
        }
        if (m > 2) {
            o += lds;
            _mm512_storeu_ps(o, c20);
            _mm512_storeu_ps(o + 16, c21);
            _mm512_storeu_ps(o + 32, c22);
            _mm512_storeu_ps(o + 48, c23);
        }
        if (m > 3) {
            o += lds;
            _mm512_storeu_ps(o, c30);
            _mm512_storeu_ps(o + 16, c31);
            _mm512_storeu_ps(o + 32, c32);
            _mm512_storeu_ps(o + 48, c33);
        }
        if (m > 4) {
            o += lds;
            _mm512_storeu_ps(o, c40);
            _mm512_storeu_ps(o + 16, c41);
            _mm512_storeu_ps(o + 32, c42);
            _mm512_storeu_ps(o + 48, c43);
        }
        if (m > 5) {
            o += lds;
            _mm512_storeu_ps(o, c50);
            _mm512_storeu_ps(o + 16, c51);
            _mm512_storeu_ps(o + 32, c52);
            _mm512_storeu_ps(o + 48, c53);
        }
    }
}

/* 16x16 transpose in registers: r[i] lane j -> r[j] lane i. */
static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(
            _mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(
            _mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(
            _mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(
            _mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
    /* r[4a + b] now holds rows 4a..4a+3, column group b of every 128-bit
     * lane; gather the lanes */
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xDD);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xDD);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xDD);
    }
}

/* One K^T panel: kp[d*64 + j] = j < n ? k[j*k_stride + d] : 0, in 16x16
 * blocks transposed in registers (keys past n load as zero rows). */
static void seqk_f32_attn_pack_k_64__avx512f(int64_t n, int64_t dh,
                                             const float *k,
                                             int64_t k_stride, float *kp)
{
    for (int64_t j0 = 0; j0 < 64; j0 += 16)
        for (int64_t d0 = 0; d0 < dh; d0 += 16) {
            const __mmask16 t = tail_mask(dh - d0);
            __m512 r[16];
            for (int64_t i = 0; i < 16; i++)
                r[i] = j0 + i < n ? _mm512_maskz_loadu_ps(
                                        t, k + (j0 + i) * k_stride + d0)
                                  : _mm512_setzero_ps();
            transpose16(r);
            const int64_t dn = dh - d0 < 16 ? dh - d0 : 16;
            for (int64_t i = 0; i < dn; i++)
                _mm512_storeu_ps(kp + (d0 + i) * 64 + j0, r[i]);
        }
}

/* Rows of K (or V) ahead that the few-query-row paths prefetch. */
#define PREFETCH_ROWS 8

/* Dot products of up to 6 query rows with unpacked key rows: a vector
 * accumulator per row over the head dim, reduced once per key. */
static void seqk_f32_attn_scores_rows_6__avx512f(
    int64_t m, int64_t n, int64_t dh, const float *q, int64_t q_stride,
    const float *k, int64_t k_stride, float *s, int64_t lds)
{
    const float *q0 = row_ptr(q, q_stride, 0, m);
    const float *q1 = row_ptr(q, q_stride, 1, m);
    const float *q2 = row_ptr(q, q_stride, 2, m);
    const float *q3 = row_ptr(q, q_stride, 3, m);
    const float *q4 = row_ptr(q, q_stride, 4, m);
    const float *q5 = row_ptr(q, q_stride, 5, m);

    if (m == 1) {
        /* one query row (decoding): no redundant rows */
        for (int64_t j = 0; j < n; j++) {
            const float *kj = k + j * k_stride;
            if (j + PREFETCH_ROWS < n)
                for (int64_t d = 0; d < dh; d += 16)
                    _mm_prefetch(
                        (const char *)(kj + PREFETCH_ROWS * k_stride + d),
                        _MM_HINT_T0);
            __m512 c0 = _mm512_setzero_ps(), c1 = c0;
            int64_t d = 0;
            for (; d + 32 <= dh; d += 32) {
                c0 = _mm512_fmadd_ps(_mm512_loadu_ps(q0 + d),
                                     _mm512_loadu_ps(kj + d), c0);
                c1 = _mm512_fmadd_ps(_mm512_loadu_ps(q0 + d + 16),
                                     _mm512_loadu_ps(kj + d + 16), c1);
            }
            for (; d < dh; d += 16) {
                const __mmask16 t = tail_mask(dh - d);
                c0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(t, q0 + d),
                                     _mm512_maskz_loadu_ps(t, kj + d), c0);
            }
            s[j] = _mm512_reduce_add_ps(_mm512_add_ps(c0, c1));
        }
        return;
    }
    for (int64_t j = 0; j < n; j++) {
        const float *kj = k + j * k_stride;
        /* few rows per key: streaming K is the cost, so fetch ahead */
        if (j + PREFETCH_ROWS < n)
            for (int64_t d = 0; d < dh; d += 16)
                _mm_prefetch((const char *)(kj + PREFETCH_ROWS * k_stride + d),
                             _MM_HINT_T0);
        __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
        __m512 c4 = c0, c5 = c0;
        for (int64_t d = 0; d < dh; d += 16) {
            const __mmask16 t = tail_mask(dh - d);
            const __m512 kv = _mm512_maskz_loadu_ps(t, kj + d);
            c0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(t, q0 + d), kv, c0);
            c1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(t, q1 + d), kv, c1);
            c2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(t, q2 + d), kv, c2);
            c3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(t, q3 + d), kv, c3);
            c4 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(t, q4 + d), kv, c4);
            c5 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(t, q5 + d), kv, c5);
        }
        float *o = s + j;
        o[0] = _mm512_reduce_add_ps(c0);
        if (m > 1)
            o[lds] = _mm512_reduce_add_ps(c1);
        if (m > 2)
            o[2 * lds] = _mm512_reduce_add_ps(c2);
        if (m > 3)
            o[3 * lds] = _mm512_reduce_add_ps(c3);
        if (m > 4)
            o[4 * lds] = _mm512_reduce_add_ps(c4);
        if (m > 5)
            o[5 * lds] = _mm512_reduce_add_ps(c5);
    }
}

/* Pass 1 of the online softmax on one vector: the final scores (stored
 * back unless plain) folded into the running max. */
static inline __m512 softmax_max_step(__m512 vmax, __mmask16 t, float *s,
                                      int plain, __m512 vscale,
                                      float softcap, const float *bias)
{
    __m512 x = _mm512_maskz_loadu_ps(t, s);
    if (!plain) {
        x = _mm512_mul_ps(x, vscale);
        if (softcap > 0.0f) {
            const __m512 vcap = _mm512_set1_ps(softcap);
            x = _mm512_mul_ps(vcap,
                              Sleef_tanhf16_u10avx512f(_mm512_div_ps(x, vcap)));
        }
        if (bias)
            x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(t, bias));
        _mm512_mask_storeu_ps(s, t, x);
    }
    return _mm512_mask_max_ps(vmax, t, vmax, x);
}

static float seqk_f32_attn_online_softmax_row__avx512f(
    int64_t n, int64_t n_pad, float scale, float softcap, const float *bias,
    float *s, float *max, float *sum)
{
    const __m512 vscale = _mm512_set1_ps(scale);
    /* plain scaled scores: scale folds into the exp's argument and pass 1
     * only reads (max(scale*s) = scale*max(s) for scale > 0) */
    const int plain = softcap == 0.0f && !bias && scale > 0.0f;
    const __mmask16 all = 0xFFFF;
    __m512 vmax0 = _mm512_set1_ps(-INFINITY), vmax1 = vmax0;
    int64_t j = 0;

    /* pass 1: the max (and, unless plain, the final scores in place);
     * two accumulators keep two vectors in flight */
    for (; j + 32 <= n; j += 32) {
        vmax0 = softmax_max_step(vmax0, all, s + j, plain, vscale, softcap,
                                 bias ? bias + j : NULL);
        vmax1 = softmax_max_step(vmax1, all, s + j + 16, plain, vscale,
                                 softcap, bias ? bias + j + 16 : NULL);
    }
    for (; j < n; j += 16)
        vmax0 = softmax_max_step(vmax0, tail_mask(n - j), s + j, plain,
                                 vscale, softcap, bias ? bias + j : NULL);
    float bmax = _mm512_reduce_max_ps(_mm512_max_ps(vmax0, vmax1));
    if (plain)
        bmax *= scale;
    const float m_old = *max;
    const float m_new = bmax > m_old ? bmax : m_old;
    if (m_new == -INFINITY) {
        for (j = 0; j < n_pad; j += 16)
            _mm512_mask_storeu_ps(s + j, tail_mask(n_pad - j),
                                  _mm512_setzero_ps());
        return 1.0f;
    }

    /* pass 2: exp and their sum; excluded keys (-inf) give 0 */
    const __m512 vm = _mm512_set1_ps(m_new);
    const __m512 vs = plain ? vscale : _mm512_set1_ps(1.0f);
    __m512 vsum0 = _mm512_setzero_ps(), vsum1 = vsum0;
    for (j = 0; j + 32 <= n; j += 32) {
        const __m512 e0 =
            exp_ps(_mm512_fmsub_ps(_mm512_loadu_ps(s + j), vs, vm));
        const __m512 e1 =
            exp_ps(_mm512_fmsub_ps(_mm512_loadu_ps(s + j + 16), vs, vm));
        _mm512_storeu_ps(s + j, e0);
        _mm512_storeu_ps(s + j + 16, e1);
        vsum0 = _mm512_add_ps(vsum0, e0);
        vsum1 = _mm512_add_ps(vsum1, e1);
    }
    for (; j < n; j += 16) {
        const __mmask16 t = tail_mask(n - j);
        const __m512 e =
            exp_ps(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(t, s + j), vs, vm));
        _mm512_mask_storeu_ps(s + j, t, e);
        vsum0 = _mm512_mask_add_ps(vsum0, t, vsum0, e);
    }
    for (j = n; j < n_pad; j++)
        s[j] = 0.0f;

    const float corr = expf(m_old - m_new);
    *sum = *sum * corr + _mm512_reduce_add_ps(_mm512_add_ps(vsum0, vsum1));
    *max = m_new;
    return corr;
}

/* Columns [d, d+16) of up to 6 acc rows, masked to dv. */
static void context_cols16(int64_t m, int64_t n, int64_t d, __mmask16 t,
                           const float *p, int64_t ldp, const float *v,
                           int64_t v_stride, const float *corr, float *acc,
                           int64_t ldacc)
{
    const float *p0 = row_ptr(p, ldp, 0, m), *p1 = row_ptr(p, ldp, 1, m);
    const float *p2 = row_ptr(p, ldp, 2, m), *p3 = row_ptr(p, ldp, 3, m);
    const float *p4 = row_ptr(p, ldp, 4, m), *p5 = row_ptr(p, ldp, 5, m);
    float *a0 = acc + d;
    __m512 c0 = _mm512_mul_ps(_mm512_loadu_ps(a0), _mm512_set1_ps(corr[0]));
    __m512 c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    if (m > 1)
        c1 = _mm512_mul_ps(_mm512_loadu_ps(a0 + ldacc),
                           _mm512_set1_ps(corr[1]));
    if (m > 2)
        c2 = _mm512_mul_ps(_mm512_loadu_ps(a0 + 2 * ldacc),
                           _mm512_set1_ps(corr[2]));
    if (m > 3)
        c3 = _mm512_mul_ps(_mm512_loadu_ps(a0 + 3 * ldacc),
                           _mm512_set1_ps(corr[3]));
    if (m > 4)
        c4 = _mm512_mul_ps(_mm512_loadu_ps(a0 + 4 * ldacc),
                           _mm512_set1_ps(corr[4]));
    if (m > 5)
        c5 = _mm512_mul_ps(_mm512_loadu_ps(a0 + 5 * ldacc),
                           _mm512_set1_ps(corr[5]));
    for (int64_t j = 0; j < n; j++) {
        const __m512 vv = _mm512_maskz_loadu_ps(t, v + j * v_stride + d);
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(p0[j]), vv, c0);
        c1 = _mm512_fmadd_ps(_mm512_set1_ps(p1[j]), vv, c1);
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(p2[j]), vv, c2);
        c3 = _mm512_fmadd_ps(_mm512_set1_ps(p3[j]), vv, c3);
        c4 = _mm512_fmadd_ps(_mm512_set1_ps(p4[j]), vv, c4);
        c5 = _mm512_fmadd_ps(_mm512_set1_ps(p5[j]), vv, c5);
    }
    _mm512_storeu_ps(a0, c0);
    if (m > 1)
        _mm512_storeu_ps(a0 + ldacc, c1);
    if (m > 2)
        _mm512_storeu_ps(a0 + 2 * ldacc, c2);
    if (m > 3)
        _mm512_storeu_ps(a0 + 3 * ldacc, c3);
    if (m > 4)
        _mm512_storeu_ps(a0 + 4 * ldacc, c4);
    if (m > 5)
        _mm512_storeu_ps(a0 + 5 * ldacc, c5);
}

/* 64 columns of an acc row: loaded times the row's correction factor,
 * stored back. */
static void load_row64(const float *r, float f, __m512 *c0, __m512 *c1,
                       __m512 *c2, __m512 *c3)
{
    const __m512 vf = _mm512_set1_ps(f);
    *c0 = _mm512_mul_ps(_mm512_loadu_ps(r), vf);
    *c1 = _mm512_mul_ps(_mm512_loadu_ps(r + 16), vf);
    *c2 = _mm512_mul_ps(_mm512_loadu_ps(r + 32), vf);
    *c3 = _mm512_mul_ps(_mm512_loadu_ps(r + 48), vf);
}

static void store_row64(float *r, __m512 c0, __m512 c1, __m512 c2, __m512 c3)
{
    _mm512_storeu_ps(r, c0);
    _mm512_storeu_ps(r + 16, c1);
    _mm512_storeu_ps(r + 32, c2);
    _mm512_storeu_ps(r + 48, c3);
}

static void seqk_f32_attn_context_6x64__avx512f(
    int64_t m, int64_t n, int64_t dv, const float *p, int64_t ldp,
    const float *v, int64_t v_stride, const float *corr, float *acc,
    int64_t ldacc)
{
    const float *p0 = row_ptr(p, ldp, 0, m), *p1 = row_ptr(p, ldp, 1, m);
    const float *p2 = row_ptr(p, ldp, 2, m), *p3 = row_ptr(p, ldp, 3, m);
    const float *p4 = row_ptr(p, ldp, 4, m), *p5 = row_ptr(p, ldp, 5, m);
    /* rows past m load row 0 (always valid) and are never stored */
    const int64_t i1 = m > 1 ? 1 : 0, i2 = m > 2 ? 2 : 0, i3 = m > 3 ? 3 : 0;
    const int64_t i4 = m > 4 ? 4 : 0, i5 = m > 5 ? 5 : 0;
    int64_t d = 0;

    for (; d + 64 <= dv; d += 64) {
        __m512 c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23;
        __m512 c30, c31, c32, c33, c40, c41, c42, c43, c50, c51, c52, c53;
        load_row64(acc + d, corr[0], &c00, &c01, &c02, &c03);
        load_row64(acc + i1 * ldacc + d, corr[i1], &c10, &c11, &c12, &c13);
        load_row64(acc + i2 * ldacc + d, corr[i2], &c20, &c21, &c22, &c23);
        load_row64(acc + i3 * ldacc + d, corr[i3], &c30, &c31, &c32, &c33);
        load_row64(acc + i4 * ldacc + d, corr[i4], &c40, &c41, &c42, &c43);
        load_row64(acc + i5 * ldacc + d, corr[i5], &c50, &c51, &c52, &c53);
        const float *vj = v + d;
        for (int64_t j = 0; j < n; j++, vj += v_stride) {
            if (m < 6 && j + PREFETCH_ROWS < n) {
                /* few rows (decoding): streaming V is the cost */
                const float *pf = vj + PREFETCH_ROWS * v_stride;
                _mm_prefetch((const char *)pf, _MM_HINT_T0);
                _mm_prefetch((const char *)(pf + 16), _MM_HINT_T0);
                _mm_prefetch((const char *)(pf + 32), _MM_HINT_T0);
                _mm_prefetch((const char *)(pf + 48), _MM_HINT_T0);
            }
            const __m512 v0 = _mm512_loadu_ps(vj);
            const __m512 v1 = _mm512_loadu_ps(vj + 16);
            const __m512 v2 = _mm512_loadu_ps(vj + 32);
            const __m512 v3 = _mm512_loadu_ps(vj + 48);
            __m512 a = _mm512_set1_ps(p0[j]);
            c00 = _mm512_fmadd_ps(a, v0, c00);
            c01 = _mm512_fmadd_ps(a, v1, c01);
            c02 = _mm512_fmadd_ps(a, v2, c02);
            c03 = _mm512_fmadd_ps(a, v3, c03);
            a = _mm512_set1_ps(p1[j]);
            c10 = _mm512_fmadd_ps(a, v0, c10);
            c11 = _mm512_fmadd_ps(a, v1, c11);
            c12 = _mm512_fmadd_ps(a, v2, c12);
            c13 = _mm512_fmadd_ps(a, v3, c13);
            a = _mm512_set1_ps(p2[j]);
            c20 = _mm512_fmadd_ps(a, v0, c20);
            c21 = _mm512_fmadd_ps(a, v1, c21);
            c22 = _mm512_fmadd_ps(a, v2, c22);
            c23 = _mm512_fmadd_ps(a, v3, c23);
            a = _mm512_set1_ps(p3[j]);
            c30 = _mm512_fmadd_ps(a, v0, c30);
            c31 = _mm512_fmadd_ps(a, v1, c31);
            c32 = _mm512_fmadd_ps(a, v2, c32);
            c33 = _mm512_fmadd_ps(a, v3, c33);
            a = _mm512_set1_ps(p4[j]);
            c40 = _mm512_fmadd_ps(a, v0, c40);
            c41 = _mm512_fmadd_ps(a, v1, c41);
            c42 = _mm512_fmadd_ps(a, v2, c42);
            c43 = _mm512_fmadd_ps(a, v3, c43);
            a = _mm512_set1_ps(p5[j]);
            c50 = _mm512_fmadd_ps(a, v0, c50);
            c51 = _mm512_fmadd_ps(a, v1, c51);
            c52 = _mm512_fmadd_ps(a, v2, c52);
            c53 = _mm512_fmadd_ps(a, v3, c53);
        }
        store_row64(acc + d, c00, c01, c02, c03);
        if (m > 1)
            store_row64(acc + 1 * ldacc + d, c10, c11, c12, c13);
        if (m > 2)
            store_row64(acc + 2 * ldacc + d, c20, c21, c22, c23);
        if (m > 3)
            store_row64(acc + 3 * ldacc + d, c30, c31, c32, c33);
        if (m > 4)
            store_row64(acc + 4 * ldacc + d, c40, c41, c42, c43);
        if (m > 5)
            store_row64(acc + 5 * ldacc + d, c50, c51, c52, c53);
    }
    for (; d < dv; d += 16)
        context_cols16(m, n, d, tail_mask(dv - d), p, ldp, v, v_stride, corr,
                       acc, ldacc);
}

static void softmax_contiguous(int64_t n, const float *x, float *y)
{
    __m512 vmax = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 t = tail_mask(n - i);
        vmax = _mm512_mask_max_ps(vmax, t, vmax, _mm512_maskz_loadu_ps(t, x + i));
    }
    const __m512 vm = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
    __m512 vsum = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 t = tail_mask(n - i);
        const __m512 e = exp_ps(
            _mm512_sub_ps(_mm512_maskz_loadu_ps(t, x + i), vm));
        _mm512_mask_storeu_ps(y + i, t, e);
        vsum = _mm512_mask_add_ps(vsum, t, vsum, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 t = tail_mask(n - i);
        _mm512_mask_storeu_ps(
            y + i, t, _mm512_mul_ps(_mm512_maskz_loadu_ps(t, y + i), inv));
    }
}

/* Strided axis: 16 columns at a time, each lane its own softmax. */
static void seqk_f32_softmax__avx512f(int64_t n, int64_t inner, int64_t c0,
                                      int64_t c1, const float *x, float *y)
{
    if (inner == 1) {
        softmax_contiguous(n, x, y);
        return;
    }
    for (int64_t c = c0; c < c1; c += 16) {
        const __mmask16 t = tail_mask(c1 - c);
        __m512 vmax = _mm512_set1_ps(-INFINITY);
        for (int64_t i = 0; i < n; i++)
            vmax = _mm512_max_ps(
                vmax, _mm512_maskz_loadu_ps(t, x + i * inner + c));
        __m512 vsum = _mm512_setzero_ps();
        for (int64_t i = 0; i < n; i++) {
            const __m512 e = exp_ps(_mm512_sub_ps(
                _mm512_maskz_loadu_ps(t, x + i * inner + c), vmax));
            _mm512_mask_storeu_ps(y + i * inner + c, t, e);
            vsum = _mm512_add_ps(vsum, e);
        }
        const __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.0f), vsum);
        for (int64_t i = 0; i < n; i++) {
            float *yi = y + i * inner + c;
            _mm512_mask_storeu_ps(
                yi, t, _mm512_mul_ps(_mm512_maskz_loadu_ps(t, yi), inv));
        }
    }
}

static float seqk_f32_dot__avx512f(int64_t n, const float *a, const float *b)
{
    __m512 c0 = _mm512_setzero_ps(), c1 = c0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        c0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i),
                             c0);
        c1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16),
                             _mm512_loadu_ps(b + i + 16), c1);
    }
    for (; i < n; i += 16) {
        const __mmask16 t = tail_mask(n - i);
        c0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(t, a + i),
                             _mm512_maskz_loadu_ps(t, b + i), c0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(c0, c1));
}

static float seqk_f32_additive_score__avx512f(int64_t na, const float *u,
                                              const float *wk, const float *v)
{
    __m512 c = _mm512_setzero_ps();
    for (int64_t a = 0; a < na; a += 16) {
        const __mmask16 t = tail_mask(na - a);
        const __m512 h = Sleef_tanhf16_u10avx512f(_mm512_add_ps(
            _mm512_maskz_loadu_ps(t, u + a), _mm512_maskz_loadu_ps(t, wk + a)));
        c = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(t, v + a), h, c);
    }
    return _mm512_reduce_add_ps(c);
}

static void seqk_f32_weighted_rows__avx512f(int64_t n, int64_t dv,
                                            const float *w, const float *x,
                                            int64_t x_stride, float *y)
{
    int64_t d = 0;
    for (; d + 64 <= dv; d += 64) {
        __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
        const float *xj = x + d;
        for (int64_t j = 0; j < n; j++, xj += x_stride) {
            const __m512 a = _mm512_set1_ps(w[j]);
            c0 = _mm512_fmadd_ps(a, _mm512_loadu_ps(xj), c0);
            c1 = _mm512_fmadd_ps(a, _mm512_loadu_ps(xj + 16), c1);
            c2 = _mm512_fmadd_ps(a, _mm512_loadu_ps(xj + 32), c2);
            c3 = _mm512_fmadd_ps(a, _mm512_loadu_ps(xj + 48), c3);
        }
        _mm512_storeu_ps(y + d, c0);
        _mm512_storeu_ps(y + d + 16, c1);
        _mm512_storeu_ps(y + d + 32, c2);
        _mm512_storeu_ps(y + d + 48, c3);
    }
    for (; d < dv; d += 16) {
        const __mmask16 t = tail_mask(dv - d);
        __m512 c = _mm512_setzero_ps();
        for (int64_t j = 0; j < n; j++)
            c = _mm512_fmadd_ps(_mm512_set1_ps(w[j]),
                                _mm512_maskz_loadu_ps(t, x + j * x_stride + d),
                                c);
        _mm512_mask_storeu_ps(y + d, t, c);
    }
}

const seqk_attn_kernels seqk_attn_kernels__avx512 = {
    .name = "seqk_f32_attn_scores_6x64__avx512f",
    .mr = 6,
    .nr = 64,
    .vec = 16,
    .scores_packed = seqk_f32_attn_scores_6x64__avx512f,
    .pack_k = seqk_f32_attn_pack_k_64__avx512f,
    .scores_rows = seqk_f32_attn_scores_rows_6__avx512f,
    .online_softmax_row = seqk_f32_attn_online_softmax_row__avx512f,
    .context = seqk_f32_attn_context_6x64__avx512f,
    .softmax = seqk_f32_softmax__avx512f,
    .dot = seqk_f32_dot__avx512f,
    .additive_score = seqk_f32_additive_score__avx512f,
    .weighted_rows = seqk_f32_weighted_rows__avx512f,
};
