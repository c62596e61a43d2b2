/*
 * attention_avx2.c — AVX2+FMA kernels for Softmax, Attention and
 * SeqAttention (the contract is in ../attention.h).
 *
 * Score tile, 6 query rows x one 16-key panel of packed K^T, 12 ymm
 * accumulators; per head-dim step d: 2 loads of kp, 6 broadcasts of q:
 *
 *        kp panel [dh][16]     s (6 x 16)
 *   q0 [dh] --.  k0  k1        c00 c01
 *    ...      |  (8 keys each)  ...
 *   q5 [dh] --'                c50 c51
 *
 * Context tile, 6 rows x 16 head-dim columns of acc, 12 accumulators; per
 * key j: 2 loads of the V row, 6 broadcasts of p[i][j].  Column tails go
 * through maskload/maskstore (lanes past the end are neither read nor
 * written), so V and the user's arrays are never touched past their end.
 * exp is an inline polynomial (exp_ps, under 2 ulp); tanh is SLEEF's.
 */
#include <immintrin.h>
#include <math.h>
#include <sleef.h>

#include "../attention.h"

/* Lane mask selecting the first min(left, 8) lanes. */
static __m256i tail_mask(int64_t left)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int lanes = left > 8 ? 8 : (int)left;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), idx);
}

static float hsum(__m256 x)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(x),
                          _mm256_extractf128_ps(x, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static float hmax(__m256 x)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(x),
                          _mm256_extractf128_ps(x, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Row pointer i of a tile with m valid rows: rows past m repeat the last
 * valid one, so every load stays in bounds; their results are dropped. */
static const float *row_ptr(const float *base, int64_t stride, int64_t i,
                            int64_t m)
{
    return base + (i < m ? i : m - 1) * stride;
}

/* exp(x) for softmax: x = n ln2 + t (two-constant reduction), exp(t) by
 * a degree-5 polynomial, 2^n built in the exponent bits (the magic bias
 * rounds x*log2e and leaves n + 127 in the low mantissa bits); under
 * 2 ulp.  x below -87.34 (where exp leaves the normal range; -inf for
 * excluded keys) gives exactly 0; callers pass x <= 0 (x - max), so 2^n
 * never overflows.  Inline and ~12 instructions, where a SLEEF call
 * costs twice that on the softmax's critical path. */
static inline __m256 exp_ps(__m256 x)
{
    const __m256 magic = _mm256_set1_ps(0x1.8000FEp23f);
    __m256 n = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), magic);
    const __m256 s =
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(n), 23));
    n = _mm256_sub_ps(n, magic);
    __m256 t = _mm256_fmadd_ps(n, _mm256_set1_ps(-0x1.62E400p-1f), x);
    t = _mm256_fmadd_ps(n, _mm256_set1_ps(-0x1.7F7D1Cp-20f), t);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(0x1.0F9F9Cp-7f), t,
                               _mm256_set1_ps(0x1.573A1Ap-5f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0x1.555A80p-3f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0x1.FFFDC6p-2f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0x1.FFFFF6p-1f));
    t = _mm256_mul_ps(t, s);
    const __m256 f = _mm256_fmadd_ps(t, p, s);
    const __m256 under =
        _mm256_cmp_ps(x, _mm256_set1_ps(-0x1.5D589Ep6f), _CMP_LT_OQ);
    return _mm256_andnot_ps(under, f);
}

static void seqk_f32_attn_scores_6x16__avx2_fma(
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
        const float *k = kp + p * dh * 16;
        __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00;
        __m256 c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        __m256 c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int64_t d = 0; d < dh; d++, k += 16) {
            const __m256 k0 = _mm256_loadu_ps(k);
            const __m256 k1 = _mm256_loadu_ps(k + 8);
            __m256 a = _mm256_broadcast_ss(q0 + d);
            c00 = _mm256_fmadd_ps(a, k0, c00);
            c01 = _mm256_fmadd_ps(a, k1, c01);
            a = _mm256_broadcast_ss(q1 + d);
            c10 = _mm256_fmadd_ps(a, k0, c10);
            c11 = _mm256_fmadd_ps(a, k1, c11);
            a = _mm256_broadcast_ss(q2 + d);
            c20 = _mm256_fmadd_ps(a, k0, c20);
            c21 = _mm256_fmadd_ps(a, k1, c21);
            a = _mm256_broadcast_ss(q3 + d);
            c30 = _mm256_fmadd_ps(a, k0, c30);
            c31 = _mm256_fmadd_ps(a, k1, c31);
            a = _mm256_broadcast_ss(q4 + d);
            c40 = _mm256_fmadd_ps(a, k0, c40);
            c41 = _mm256_fmadd_ps(a, k1, c41);
            a = _mm256_broadcast_ss(q5 + d);
            c50 = _mm256_fmadd_ps(a, k0, c50);
            c51 = _mm256_fmadd_ps(a, k1, c51);
        }
        float *o = s + p * 16;
        _mm256_storeu_ps(o, c00);
        _mm256_storeu_ps(o + 8, c01);
        if (m > 1) {
            _mm256_storeu_ps(o + lds, c10);
            _mm256_storeu_ps(o + lds + 8, c11);
        }
        if (m > 2) {
            _mm256_storeu_ps(o + 2 * lds, c20);
            _mm256_storeu_ps(o + 2 * lds + 8, c21);
        }
        if (m > 3) {
            _mm256_storeu_ps(o + 3 * lds, c30);
            _mm256_storeu_ps(o + 3 * lds + 8, c31);
        }
        if (m > 4) {
            _mm256_storeu_ps(o + 4 * lds, c40);
            _mm256_storeu_ps(o + 4 * lds + 8, c41);
        }
        if (m > 5) {
            _mm256_storeu_ps(o + 5 * lds, c50);
            _mm256_storeu_ps(o + 5 * lds + 8, c51);
        }
    }
}

/* 8x8 transpose in registers: r[i] lane j -> r[j] lane i. */
static inline void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

/* One K^T panel: kp[d*16 + j] = j < n ? k[j*k_stride + d] : 0, in 8x8
 * blocks transposed in registers (keys past n load as zero rows). */
static void seqk_f32_attn_pack_k_16__avx2(int64_t n, int64_t dh,
                                          const float *k, int64_t k_stride,
                                          float *kp)
{
    for (int64_t j0 = 0; j0 < 16; j0 += 8)
        for (int64_t d0 = 0; d0 < dh; d0 += 8) {
            const __m256i t = tail_mask(dh - d0);
            __m256 r[8];
            for (int64_t i = 0; i < 8; i++)
                r[i] = j0 + i < n
                           ? _mm256_maskload_ps(k + (j0 + i) * k_stride + d0, t)
                           : _mm256_setzero_ps();
            transpose8(r);
            const int64_t dn = dh - d0 < 8 ? dh - d0 : 8;
            for (int64_t i = 0; i < dn; i++)
                _mm256_storeu_ps(kp + (d0 + i) * 16 + j0, r[i]);
        }
}

/* Rows of K (or V) ahead that the few-query-row paths prefetch. */
#define PREFETCH_ROWS 8

/* Dot products of up to 6 query rows with unpacked key rows. */
static void seqk_f32_attn_scores_rows_6__avx2_fma(
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
            __m256 c0 = _mm256_setzero_ps(), c1 = c0;
            int64_t d = 0;
            for (; d + 16 <= dh; d += 16) {
                c0 = _mm256_fmadd_ps(_mm256_loadu_ps(q0 + d),
                                     _mm256_loadu_ps(kj + d), c0);
                c1 = _mm256_fmadd_ps(_mm256_loadu_ps(q0 + d + 8),
                                     _mm256_loadu_ps(kj + d + 8), c1);
            }
            for (; d < dh; d += 8) {
                const __m256i t = tail_mask(dh - d);
                c0 = _mm256_fmadd_ps(_mm256_maskload_ps(q0 + d, t),
                                     _mm256_maskload_ps(kj + d, t), c0);
            }
            s[j] = hsum(_mm256_add_ps(c0, c1));
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
        __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
        __m256 c4 = c0, c5 = c0;
        for (int64_t d = 0; d < dh; d += 8) {
            const __m256i t = tail_mask(dh - d);
            const __m256 kv = _mm256_maskload_ps(kj + d, t);
            c0 = _mm256_fmadd_ps(_mm256_maskload_ps(q0 + d, t), kv, c0);
            c1 = _mm256_fmadd_ps(_mm256_maskload_ps(q1 + d, t), kv, c1);
            c2 = _mm256_fmadd_ps(_mm256_maskload_ps(q2 + d, t), kv, c2);
            c3 = _mm256_fmadd_ps(_mm256_maskload_ps(q3 + d, t), kv, c3);
            c4 = _mm256_fmadd_ps(_mm256_maskload_ps(q4 + d, t), kv, c4);
            c5 = _mm256_fmadd_ps(_mm256_maskload_ps(q5 + d, t), kv, c5);
        }
        float *o = s + j;
        o[0] = hsum(c0);
        if (m > 1)
            o[lds] = hsum(c1);
        if (m > 2)
            o[2 * lds] = hsum(c2);
        if (m > 3)
            o[3 * lds] = hsum(c3);
        if (m > 4)
            o[4 * lds] = hsum(c4);
        if (m > 5)
            o[5 * lds] = hsum(c5);
    }
}

static float seqk_f32_attn_online_softmax_row__avx2_fma(
    int64_t n, int64_t n_pad, float scale, float softcap, const float *bias,
    float *s, float *max, float *sum)
{
    const __m256 vscale = _mm256_set1_ps(scale);
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    /* plain scaled scores: scale folds into the exp's argument and pass 1
     * only reads (max(scale*s) = scale*max(s) for scale > 0) */
    const int plain = softcap == 0.0f && !bias && scale > 0.0f;
    __m256 vmax = ninf;

    /* pass 1: the max (and, unless plain, the final scores in place) */
    for (int64_t j = 0; j < n; j += 8) {
        const __m256i t = tail_mask(n - j);
        __m256 x = _mm256_maskload_ps(s + j, t);
        if (!plain) {
            x = _mm256_mul_ps(x, vscale);
            if (softcap > 0.0f) {
                const __m256 vcap = _mm256_set1_ps(softcap);
                x = _mm256_mul_ps(vcap, Sleef_tanhf8_u10avx2(
                                            _mm256_div_ps(x, vcap)));
            }
            if (bias)
                x = _mm256_add_ps(x, _mm256_maskload_ps(bias + j, t));
            _mm256_maskstore_ps(s + j, t, x);
        }
        /* lanes past n count as -inf */
        x = _mm256_blendv_ps(ninf, x, _mm256_castsi256_ps(t));
        vmax = _mm256_max_ps(vmax, x);
    }
    float bmax = hmax(vmax);
    if (plain)
        bmax *= scale;
    const float m_old = *max;
    const float m_new = bmax > m_old ? bmax : m_old;
    if (m_new == -INFINITY) {
        for (int64_t j = 0; j < n_pad; j++)
            s[j] = 0.0f;
        return 1.0f;
    }

    /* pass 2: exp and their sum; excluded keys (-inf) give 0 */
    const __m256 vm = _mm256_set1_ps(m_new);
    const __m256 vs = plain ? vscale : _mm256_set1_ps(1.0f);
    __m256 vsum = _mm256_setzero_ps();
    for (int64_t j = 0; j < n; j += 8) {
        const __m256i t = tail_mask(n - j);
        __m256 e = exp_ps(_mm256_fmsub_ps(_mm256_maskload_ps(s + j, t), vs, vm));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(t));
        _mm256_maskstore_ps(s + j, t, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    for (int64_t j = n; j < n_pad; j++)
        s[j] = 0.0f;

    const float corr = expf(m_old - m_new);
    *sum = *sum * corr + hsum(vsum);
    *max = m_new;
    return corr;
}

/* 16 columns (2 vectors) from d of up to 6 acc rows.  full is a constant
 * at each call: whole vectors of V, or loads through the masks t0/t1
 * (maskload is slower, so only the last column step uses it). */
static inline __attribute__((always_inline)) void
context_cols16(const int full, int64_t m, int64_t n, int64_t d, __m256i t0,
               __m256i t1, const float *p, int64_t ldp, const float *v,
               int64_t v_stride, const float *corr, float *acc,
               int64_t ldacc)
{
    const float *p0 = row_ptr(p, ldp, 0, m), *p1 = row_ptr(p, ldp, 1, m);
    const float *p2 = row_ptr(p, ldp, 2, m), *p3 = row_ptr(p, ldp, 3, m);
    const float *p4 = row_ptr(p, ldp, 4, m), *p5 = row_ptr(p, ldp, 5, m);
    /* rows past m read row m-1 of acc and are never stored */
    float *a0 = acc + d;
    float *a1 = (float *)row_ptr(a0, ldacc, 1, m);
    float *a2 = (float *)row_ptr(a0, ldacc, 2, m);
    float *a3 = (float *)row_ptr(a0, ldacc, 3, m);
    float *a4 = (float *)row_ptr(a0, ldacc, 4, m);
    float *a5 = (float *)row_ptr(a0, ldacc, 5, m);
    const int64_t m1 = m - 1;
    __m256 f = _mm256_set1_ps(corr[0]);
    __m256 c00 = _mm256_mul_ps(_mm256_loadu_ps(a0), f);
    __m256 c01 = _mm256_mul_ps(_mm256_loadu_ps(a0 + 8), f);
    f = _mm256_set1_ps(corr[m1 < 1 ? m1 : 1]);
    __m256 c10 = _mm256_mul_ps(_mm256_loadu_ps(a1), f);
    __m256 c11 = _mm256_mul_ps(_mm256_loadu_ps(a1 + 8), f);
    f = _mm256_set1_ps(corr[m1 < 2 ? m1 : 2]);
    __m256 c20 = _mm256_mul_ps(_mm256_loadu_ps(a2), f);
    __m256 c21 = _mm256_mul_ps(_mm256_loadu_ps(a2 + 8), f);
    f = _mm256_set1_ps(corr[m1 < 3 ? m1 : 3]);
    __m256 c30 = _mm256_mul_ps(_mm256_loadu_ps(a3), f);
    __m256 c31 = _mm256_mul_ps(_mm256_loadu_ps(a3 + 8), f);
    f = _mm256_set1_ps(corr[m1 < 4 ? m1 : 4]);
    __m256 c40 = _mm256_mul_ps(_mm256_loadu_ps(a4), f);
    __m256 c41 = _mm256_mul_ps(_mm256_loadu_ps(a4 + 8), f);
    f = _mm256_set1_ps(corr[m1 < 5 ? m1 : 5]);
    __m256 c50 = _mm256_mul_ps(_mm256_loadu_ps(a5), f);
    __m256 c51 = _mm256_mul_ps(_mm256_loadu_ps(a5 + 8), f);

    const float *vj = v + d;
    for (int64_t j = 0; j < n; j++, vj += v_stride) {
        if (m < 6 && j + PREFETCH_ROWS < n) {
            /* few rows (decoding): streaming V is the cost */
            const float *pf = vj + PREFETCH_ROWS * v_stride;
            _mm_prefetch((const char *)pf, _MM_HINT_T0);
            _mm_prefetch((const char *)(pf + 15), _MM_HINT_T0);
        }
        const __m256 v0 = full ? _mm256_loadu_ps(vj)
                               : _mm256_maskload_ps(vj, t0);
        const __m256 v1 = full ? _mm256_loadu_ps(vj + 8)
                               : _mm256_maskload_ps(vj + 8, t1);
        __m256 a = _mm256_broadcast_ss(p0 + j);
        c00 = _mm256_fmadd_ps(a, v0, c00);
        c01 = _mm256_fmadd_ps(a, v1, c01);
        a = _mm256_broadcast_ss(p1 + j);
        c10 = _mm256_fmadd_ps(a, v0, c10);
        c11 = _mm256_fmadd_ps(a, v1, c11);
        a = _mm256_broadcast_ss(p2 + j);
        c20 = _mm256_fmadd_ps(a, v0, c20);
        c21 = _mm256_fmadd_ps(a, v1, c21);
        a = _mm256_broadcast_ss(p3 + j);
        c30 = _mm256_fmadd_ps(a, v0, c30);
        c31 = _mm256_fmadd_ps(a, v1, c31);
        a = _mm256_broadcast_ss(p4 + j);
        c40 = _mm256_fmadd_ps(a, v0, c40);
        c41 = _mm256_fmadd_ps(a, v1, c41);
        a = _mm256_broadcast_ss(p5 + j);
        c50 = _mm256_fmadd_ps(a, v0, c50);
        c51 = _mm256_fmadd_ps(a, v1, c51);
    }
    _mm256_storeu_ps(a0, c00);
    _mm256_storeu_ps(a0 + 8, c01);
    if (m > 1) {
        _mm256_storeu_ps(a1, c10);
        _mm256_storeu_ps(a1 + 8, c11);
    }
    if (m > 2) {
        _mm256_storeu_ps(a2, c20);
        _mm256_storeu_ps(a2 + 8, c21);
    }
    if (m > 3) {
        _mm256_storeu_ps(a3, c30);
        _mm256_storeu_ps(a3 + 8, c31);
    }
    if (m > 4) {
        _mm256_storeu_ps(a4, c40);
        _mm256_storeu_ps(a4 + 8, c41);
    }
    if (m > 5) {
        _mm256_storeu_ps(a5, c50);
        _mm256_storeu_ps(a5 + 8, c51);
    }
}

/* The table's vec is 16, so acc rows are padded to whole 16-column steps
 * and only V needs the column masks. */
static void seqk_f32_attn_context_6x16__avx2_fma(
    int64_t m, int64_t n, int64_t dv, const float *p, int64_t ldp,
    const float *v, int64_t v_stride, const float *corr, float *acc,
    int64_t ldacc)
{
    const __m256i all = _mm256_set1_epi32(-1);
    int64_t d = 0;
    for (; d + 16 <= dv; d += 16)
        context_cols16(1, m, n, d, all, all, p, ldp, v, v_stride, corr, acc,
                       ldacc);
    if (d < dv)
        context_cols16(0, m, n, d, tail_mask(dv - d), tail_mask(dv - d - 8),
                       p, ldp, v, v_stride, corr, acc, ldacc);
}

static void softmax_contiguous(int64_t n, const float *x, float *y)
{
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 vmax = ninf;
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i t = tail_mask(n - i);
        vmax = _mm256_max_ps(vmax,
                             _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + i, t),
                                              _mm256_castsi256_ps(t)));
    }
    const __m256 vm = _mm256_set1_ps(hmax(vmax));
    __m256 vsum = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i t = tail_mask(n - i);
        __m256 e = exp_ps(
            _mm256_sub_ps(_mm256_maskload_ps(x + i, t), vm));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(t));
        _mm256_maskstore_ps(y + i, t, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    const __m256 inv = _mm256_set1_ps(1.0f / hsum(vsum));
    for (int64_t i = 0; i < n; i += 8) {
        const __m256i t = tail_mask(n - i);
        _mm256_maskstore_ps(y + i, t,
                            _mm256_mul_ps(_mm256_maskload_ps(y + i, t), inv));
    }
}

/* Strided axis: 8 columns at a time, each lane its own softmax. */
static void seqk_f32_softmax__avx2_fma(int64_t n, int64_t inner, int64_t c0,
                                       int64_t c1, const float *x, float *y)
{
    if (inner == 1) {
        softmax_contiguous(n, x, y);
        return;
    }
    for (int64_t c = c0; c < c1; c += 8) {
        const __m256i t = tail_mask(c1 - c);
        __m256 vmax = _mm256_set1_ps(-INFINITY);
        for (int64_t i = 0; i < n; i++)
            vmax = _mm256_max_ps(vmax,
                                 _mm256_maskload_ps(x + i * inner + c, t));
        __m256 vsum = _mm256_setzero_ps();
        for (int64_t i = 0; i < n; i++) {
            const __m256 e = exp_ps(_mm256_sub_ps(
                _mm256_maskload_ps(x + i * inner + c, t), vmax));
            _mm256_maskstore_ps(y + i * inner + c, t, e);
            vsum = _mm256_add_ps(vsum, e);
        }
        const __m256 inv = _mm256_div_ps(_mm256_set1_ps(1.0f), vsum);
        for (int64_t i = 0; i < n; i++) {
            float *yi = y + i * inner + c;
            _mm256_maskstore_ps(yi, t,
                                _mm256_mul_ps(_mm256_maskload_ps(yi, t), inv));
        }
    }
}

static float seqk_f32_dot__avx2_fma(int64_t n, const float *a, const float *b)
{
    __m256 c0 = _mm256_setzero_ps(), c1 = c0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        c0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i),
                             c0);
        c1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8),
                             _mm256_loadu_ps(b + i + 8), c1);
    }
    for (; i < n; i += 8) {
        const __m256i t = tail_mask(n - i);
        c0 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, t),
                             _mm256_maskload_ps(b + i, t), c0);
    }
    return hsum(_mm256_add_ps(c0, c1));
}

static float seqk_f32_additive_score__avx2_fma(int64_t na, const float *u,
                                               const float *wk,
                                               const float *v)
{
    __m256 c = _mm256_setzero_ps();
    for (int64_t a = 0; a < na; a += 8) {
        const __m256i t = tail_mask(na - a);
        const __m256 h = Sleef_tanhf8_u10avx2(_mm256_add_ps(
            _mm256_maskload_ps(u + a, t), _mm256_maskload_ps(wk + a, t)));
        c = _mm256_fmadd_ps(_mm256_maskload_ps(v + a, t), h, c);
    }
    return hsum(c);
}

static void seqk_f32_weighted_rows__avx2_fma(int64_t n, int64_t dv,
                                             const float *w, const float *x,
                                             int64_t x_stride, float *y)
{
    for (int64_t d = 0; d < dv; d += 16) {
        const __m256i t0 = tail_mask(dv - d), t1 = tail_mask(dv - d - 8);
        __m256 c0 = _mm256_setzero_ps(), c1 = c0;
        const float *xj = x + d;
        for (int64_t j = 0; j < n; j++, xj += x_stride) {
            const __m256 a = _mm256_broadcast_ss(w + j);
            c0 = _mm256_fmadd_ps(a, _mm256_maskload_ps(xj, t0), c0);
            c1 = _mm256_fmadd_ps(a, _mm256_maskload_ps(xj + 8, t1), c1);
        }
        _mm256_maskstore_ps(y + d, t0, c0);
        _mm256_maskstore_ps(y + d + 8, t1, c1);
    }
}

const seqk_attn_kernels seqk_attn_kernels__avx2 = {
    .name = "seqk_f32_attn_scores_6x16__avx2_fma",
    .mr = 6,
    .nr = 16,
    .vec = 16, /* context steps 16 columns */
    .scores_packed = seqk_f32_attn_scores_6x16__avx2_fma,
    .pack_k = seqk_f32_attn_pack_k_16__avx2,
    .scores_rows = seqk_f32_attn_scores_rows_6__avx2_fma,
    .online_softmax_row = seqk_f32_attn_online_softmax_row__avx2_fma,
    .context = seqk_f32_attn_context_6x16__avx2_fma,
    .softmax = seqk_f32_softmax__avx2_fma,
    .dot = seqk_f32_dot__avx2_fma,
    .additive_score = seqk_f32_additive_score__avx2_fma,
    .weighted_rows = seqk_f32_weighted_rows__avx2_fma,
};
