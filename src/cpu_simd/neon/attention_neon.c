/*
 * attention_neon.c — NEON (AArch64 ASIMD) kernels for Softmax, Attention
 * and SeqAttention (the contract is in ../attention.h).
 *
 * Score tile, 6 query rows x one 16-key panel of packed K^T, 24 q-register
 * accumulators; per head-dim step d: 4 loads of kp, 6 broadcasts of q:
 *
 *        kp panel [dh][16]      s (6 x 16)
 *   q0 [dh] --.  k0 k1 k2 k3    c00 c01 c02 c03
 *    ...      |  (4 keys each)   ...
 *   q5 [dh] --'                 c50 c51 c52 c53
 *
 * Context tile, 6 rows x 16 head-dim columns of acc, 24 accumulators; per
 * key j: 4 loads of the V row, 6 broadcasts of p[i][j].  NEON has no
 * masked loads, so column tails run 4 wide and then one column at a time:
 * V and the user's arrays are never read or written past their end.
 * exp is an inline polynomial (under 2 ulp); tanh is SLEEF's.
 */
#include <arm_neon.h>
#include <math.h>
#include <sleef.h>

#include "../attention.h"

/* Row pointer i of a tile with m valid rows: rows past m repeat the last
 * valid one, so every load stays in bounds; their results are dropped. */
static const float *row_ptr(const float *base, int64_t stride, int64_t i,
                            int64_t m)
{
    return base + (i < m ? i : m - 1) * stride;
}

/* exp(x) for softmax: x = n ln2 + t (two-constant reduction), exp(t) by a
 * degree-5 polynomial, 2^n built in the exponent bits.  x below -87.34
 * (where exp leaves the normal range; -inf for excluded keys) gives
 * exactly 0; callers pass x <= 0. */
static inline float32x4_t exp_f32(float32x4_t x)
{
    const float32x4_t n = vrndnq_f32(vmulq_n_f32(x, 0x1.715476p+0f));
    float32x4_t t = vfmaq_n_f32(x, n, -0x1.62E400p-1f);
    t = vfmaq_n_f32(t, n, -0x1.7F7D1Cp-20f);
    float32x4_t p = vfmaq_n_f32(vdupq_n_f32(0x1.573A1Ap-5f), t,
                                0x1.0F9F9Cp-7f);
    p = vfmaq_f32(vdupq_n_f32(0x1.555A80p-3f), p, t);
    p = vfmaq_f32(vdupq_n_f32(0x1.FFFDC6p-2f), p, t);
    p = vfmaq_f32(vdupq_n_f32(0x1.FFFFF6p-1f), p, t);
    /* n >= -126 once x is clamped, so n + 127 is a normal exponent */
    const float32x4_t nc = vmaxq_f32(n, vdupq_n_f32(-126.0f));
    const float32x4_t s = vreinterpretq_f32_s32(
        vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(nc), vdupq_n_s32(127)), 23));
    const float32x4_t f = vfmaq_f32(s, vmulq_f32(t, s), p);
    const uint32x4_t under = vcltq_f32(x, vdupq_n_f32(-0x1.5D589Ep6f));
    return vreinterpretq_f32_u32(
        vbicq_u32(vreinterpretq_u32_f32(f), under));
}

static void seqk_f32_attn_scores_6x16__neon(int64_t m, int64_t npanels,
                                            int64_t dh, const float *q,
                                            int64_t q_stride, const float *kp,
                                            float *s, int64_t lds)
{
    const float *q0 = row_ptr(q, q_stride, 0, m);
    const float *q1 = row_ptr(q, q_stride, 1, m);
    const float *q2 = row_ptr(q, q_stride, 2, m);
    const float *q3 = row_ptr(q, q_stride, 3, m);
    const float *q4 = row_ptr(q, q_stride, 4, m);
    const float *q5 = row_ptr(q, q_stride, 5, m);

    for (int64_t p = 0; p < npanels; p++) {
        const float *k = kp + p * dh * 16;
        float32x4_t c00 = vdupq_n_f32(0.0f), c01 = c00, c02 = c00, c03 = c00;
        float32x4_t c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        float32x4_t c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        float32x4_t c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        float32x4_t c40 = c00, c41 = c00, c42 = c00, c43 = c00;
        float32x4_t c50 = c00, c51 = c00, c52 = c00, c53 = c00;
        for (int64_t d = 0; d < dh; d++, k += 16) {
            const float32x4_t k0 = vld1q_f32(k), k1 = vld1q_f32(k + 4);
            const float32x4_t k2 = vld1q_f32(k + 8), k3 = vld1q_f32(k + 12);
            float a = q0[d];
            c00 = vfmaq_n_f32(c00, k0, a);
            c01 = vfmaq_n_f32(c01, k1, a);
            c02 = vfmaq_n_f32(c02, k2, a);
            c03 = vfmaq_n_f32(c03, k3, a);
            a = q1[d];
            c10 = vfmaq_n_f32(c10, k0, a);
            c11 = vfmaq_n_f32(c11, k1, a);
            c12 = vfmaq_n_f32(c12, k2, a);
            c13 = vfmaq_n_f32(c13, k3, a);
            a = q2[d];
            c20 = vfmaq_n_f32(c20, k0, a);
            c21 = vfmaq_n_f32(c21, k1, a);
            c22 = vfmaq_n_f32(c22, k2, a);
            c23 = vfmaq_n_f32(c23, k3, a);
            a = q3[d];
            c30 = vfmaq_n_f32(c30, k0, a);
            c31 = vfmaq_n_f32(c31, k1, a);
            c32 = vfmaq_n_f32(c32, k2, a);
            c33 = vfmaq_n_f32(c33, k3, a);
            a = q4[d];
            c40 = vfmaq_n_f32(c40, k0, a);
            c41 = vfmaq_n_f32(c41, k1, a);
            c42 = vfmaq_n_f32(c42, k2, a);
            c43 = vfmaq_n_f32(c43, k3, a);
            a = q5[d];
            c50 = vfmaq_n_f32(c50, k0, a);
            c51 = vfmaq_n_f32(c51, k1, a);
            c52 = vfmaq_n_f32(c52, k2, a);
            c53 = vfmaq_n_f32(c53, k3, a);
        }
        float *o = s + p * 16;
        vst1q_f32(o, c00);
        vst1q_f32(o + 4, c01);
        vst1q_f32(o + 8, c02);
        vst1q_f32(o + 12, c03);
        if (m > 1) {
            o += lds;
            vst1q_f32(o, c10);
            vst1q_f32(o + 4, c11);
            vst1q_f32(o + 8, c12);
            vst1q_f32(o + 12, c13);
        }
        if (m > 2) {
            o += lds;
            vst1q_f32(o, c20);
            vst1q_f32(o + 4, c21);
            vst1q_f32(o + 8, c22);
            vst1q_f32(o + 12, c23);
        }
        if (m > 3) {
            o += lds;
            vst1q_f32(o, c30);
            vst1q_f32(o + 4, c31);
            vst1q_f32(o + 8, c32);
            vst1q_f32(o + 12, c33);
        }
        if (m > 4) {
            o += lds;
            vst1q_f32(o, c40);
            vst1q_f32(o + 4, c41);
            vst1q_f32(o + 8, c42);
            vst1q_f32(o + 12, c43);
        }
        if (m > 5) {
            o += lds;
            vst1q_f32(o, c50);
            vst1q_f32(o + 4, c51);
            vst1q_f32(o + 8, c52);
            vst1q_f32(o + 12, c53);
        }
    }
}

/* One K^T panel: kp[d*16 + j] = j < n ? k[j*k_stride + d] : 0, in 4x4
 * blocks transposed in registers, the last dh % 4 columns one by one. */
static void seqk_f32_attn_pack_k_16__neon(int64_t n, int64_t dh,
                                          const float *k, int64_t k_stride,
                                          float *kp)
{
    const float32x4_t zero = vdupq_n_f32(0.0f);
    int64_t d0 = 0;
    for (; d0 + 4 <= dh; d0 += 4)
        for (int64_t j0 = 0; j0 < 16; j0 += 4) {
            const float *r = k + j0 * k_stride + d0;
            const float32x4_t r0 = j0 < n ? vld1q_f32(r) : zero;
            const float32x4_t r1 =
                j0 + 1 < n ? vld1q_f32(r + k_stride) : zero;
            const float32x4_t r2 =
                j0 + 2 < n ? vld1q_f32(r + 2 * k_stride) : zero;
            const float32x4_t r3 =
                j0 + 3 < n ? vld1q_f32(r + 3 * k_stride) : zero;
            const float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(r0, r1));
            const float64x2_t t1 = vreinterpretq_f64_f32(vtrn2q_f32(r0, r1));
            const float64x2_t t2 = vreinterpretq_f64_f32(vtrn1q_f32(r2, r3));
            const float64x2_t t3 = vreinterpretq_f64_f32(vtrn2q_f32(r2, r3));
            float *o = kp + d0 * 16 + j0;
            vst1q_f32(o, vreinterpretq_f32_f64(vtrn1q_f64(t0, t2)));
            vst1q_f32(o + 16, vreinterpretq_f32_f64(vtrn1q_f64(t1, t3)));
            vst1q_f32(o + 32, vreinterpretq_f32_f64(vtrn2q_f64(t0, t2)));
            vst1q_f32(o + 48, vreinterpretq_f32_f64(vtrn2q_f64(t1, t3)));
        }
    for (; d0 < dh; d0++)
        for (int64_t j = 0; j < 16; j++)
            kp[d0 * 16 + j] = j < n ? k[j * k_stride + d0] : 0.0f;
}

/* Dot product of a and b (n floats): 4-wide, then one at a time. */
static float seqk_f32_dot__neon(int64_t n, const float *a, const float *b)
{
    float32x4_t c0 = vdupq_n_f32(0.0f), c1 = c0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        c0 = vfmaq_f32(c0, vld1q_f32(a + i), vld1q_f32(b + i));
        c1 = vfmaq_f32(c1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    }
    for (; i + 4 <= n; i += 4)
        c0 = vfmaq_f32(c0, vld1q_f32(a + i), vld1q_f32(b + i));
    float acc = vaddvq_f32(vaddq_f32(c0, c1));
    for (; i < n; i++)
        acc += a[i] * b[i];
    return acc;
}

/* Rows of K (or V) ahead that the few-query-row paths prefetch. */
#define PREFETCH_ROWS 8

/* Dot products of up to 6 query rows with unpacked key rows. */
static void seqk_f32_attn_scores_rows_6__neon(int64_t m, int64_t n,
                                              int64_t dh, const float *q,
                                              int64_t q_stride,
                                              const float *k,
                                              int64_t k_stride, float *s,
                                              int64_t lds)
{
    for (int64_t j = 0; j < n; j++) {
        const float *kj = k + j * k_stride;
        /* few rows per key: streaming K is the cost, so fetch ahead */
        if (j + PREFETCH_ROWS < n)
            for (int64_t d = 0; d < dh; d += 16)
                __builtin_prefetch(kj + PREFETCH_ROWS * k_stride + d);
        for (int64_t i = 0; i < m; i++)
            s[i * lds + j] = seqk_f32_dot__neon(dh, q + i * q_stride, kj);
    }
}

static float seqk_f32_attn_online_softmax_row__neon(
    int64_t n, int64_t n_pad, float scale, float softcap, const float *bias,
    float *s, float *max, float *sum)
{
    /* plain scaled scores: scale folds into the exp's argument */
    const int plain = softcap == 0.0f && !bias && scale > 0.0f;
    float32x4_t vmax = vdupq_n_f32(-INFINITY);
    float bmax = -INFINITY;
    int64_t j = 0;

    /* pass 1: the max (and, unless plain, the final scores in place) */
    if (plain) {
        for (; j + 4 <= n; j += 4)
            vmax = vmaxq_f32(vmax, vld1q_f32(s + j));
        for (; j < n; j++)
            bmax = s[j] > bmax ? s[j] : bmax;
    } else {
        const float32x4_t vscale = vdupq_n_f32(scale);
        for (; j + 4 <= n; j += 4) {
            float32x4_t x = vmulq_f32(vld1q_f32(s + j), vscale);
            if (softcap > 0.0f) {
                const float32x4_t vcap = vdupq_n_f32(softcap);
                x = vmulq_f32(vcap,
                              Sleef_tanhf4_u10advsimd(vdivq_f32(x, vcap)));
            }
            if (bias)
                x = vaddq_f32(x, vld1q_f32(bias + j));
            vst1q_f32(s + j, x);
            vmax = vmaxq_f32(vmax, x);
        }
        for (; j < n; j++) {
            float x = s[j] * scale;
            if (softcap > 0.0f)
                x = softcap * tanhf(x / softcap);
            if (bias)
                x += bias[j];
            s[j] = x;
            bmax = x > bmax ? x : bmax;
        }
    }
    const float vm = vmaxvq_f32(vmax);
    bmax = vm > bmax ? vm : bmax;
    if (plain)
        bmax *= scale;
    const float m_old = *max;
    const float m_new = bmax > m_old ? bmax : m_old;
    if (m_new == -INFINITY) {
        for (j = 0; j < n_pad; j++)
            s[j] = 0.0f;
        return 1.0f;
    }

    /* pass 2: exp and their sum; excluded keys (-inf) give 0 */
    const float fs = plain ? scale : 1.0f;
    const float32x4_t vnm = vdupq_n_f32(-m_new);
    float32x4_t vsum = vdupq_n_f32(0.0f);
    float tail = 0.0f;
    for (j = 0; j + 4 <= n; j += 4) {
        const float32x4_t e = exp_f32(vfmaq_n_f32(vnm, vld1q_f32(s + j), fs));
        vst1q_f32(s + j, e);
        vsum = vaddq_f32(vsum, e);
    }
    for (; j < n; j++) {
        s[j] = expf(s[j] * fs - m_new);
        tail += s[j];
    }
    for (; j < n_pad; j++)
        s[j] = 0.0f;

    const float corr = expf(m_old - m_new);
    *sum = *sum * corr + vaddvq_f32(vsum) + tail;
    *max = m_new;
    return corr;
}

/* Columns [d, d+16) of up to 6 acc rows (all within dv). */
static void context_cols16(int64_t m, int64_t n, int64_t d, const float *p,
                           int64_t ldp, const float *v, int64_t v_stride,
                           const float *corr, float *acc, int64_t ldacc)
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
    float f = corr[0];
    float32x4_t c00 = vmulq_n_f32(vld1q_f32(a0), f);
    float32x4_t c01 = vmulq_n_f32(vld1q_f32(a0 + 4), f);
    float32x4_t c02 = vmulq_n_f32(vld1q_f32(a0 + 8), f);
    float32x4_t c03 = vmulq_n_f32(vld1q_f32(a0 + 12), f);
    f = corr[m1 < 1 ? m1 : 1];
    float32x4_t c10 = vmulq_n_f32(vld1q_f32(a1), f);
    float32x4_t c11 = vmulq_n_f32(vld1q_f32(a1 + 4), f);
    float32x4_t c12 = vmulq_n_f32(vld1q_f32(a1 + 8), f);
    float32x4_t c13 = vmulq_n_f32(vld1q_f32(a1 + 12), f);
    f = corr[m1 < 2 ? m1 : 2];
    float32x4_t c20 = vmulq_n_f32(vld1q_f32(a2), f);
    float32x4_t c21 = vmulq_n_f32(vld1q_f32(a2 + 4), f);
    float32x4_t c22 = vmulq_n_f32(vld1q_f32(a2 + 8), f);
    float32x4_t c23 = vmulq_n_f32(vld1q_f32(a2 + 12), f);
    f = corr[m1 < 3 ? m1 : 3];
    float32x4_t c30 = vmulq_n_f32(vld1q_f32(a3), f);
    float32x4_t c31 = vmulq_n_f32(vld1q_f32(a3 + 4), f);
    float32x4_t c32 = vmulq_n_f32(vld1q_f32(a3 + 8), f);
    float32x4_t c33 = vmulq_n_f32(vld1q_f32(a3 + 12), f);
    f = corr[m1 < 4 ? m1 : 4];
    float32x4_t c40 = vmulq_n_f32(vld1q_f32(a4), f);
    float32x4_t c41 = vmulq_n_f32(vld1q_f32(a4 + 4), f);
    float32x4_t c42 = vmulq_n_f32(vld1q_f32(a4 + 8), f);
    float32x4_t c43 = vmulq_n_f32(vld1q_f32(a4 + 12), f);
    f = corr[m1 < 5 ? m1 : 5];
    float32x4_t c50 = vmulq_n_f32(vld1q_f32(a5), f);
    float32x4_t c51 = vmulq_n_f32(vld1q_f32(a5 + 4), f);
    float32x4_t c52 = vmulq_n_f32(vld1q_f32(a5 + 8), f);
    float32x4_t c53 = vmulq_n_f32(vld1q_f32(a5 + 12), f);

    const float *vj = v + d;
    for (int64_t j = 0; j < n; j++, vj += v_stride) {
        if (m < 6 && j + PREFETCH_ROWS < n)
            __builtin_prefetch(vj + PREFETCH_ROWS * v_stride); /* decoding */
        const float32x4_t v0 = vld1q_f32(vj), v1 = vld1q_f32(vj + 4);
        const float32x4_t v2 = vld1q_f32(vj + 8), v3 = vld1q_f32(vj + 12);
        float a = p0[j];
        c00 = vfmaq_n_f32(c00, v0, a);
        c01 = vfmaq_n_f32(c01, v1, a);
        c02 = vfmaq_n_f32(c02, v2, a);
        c03 = vfmaq_n_f32(c03, v3, a);
        a = p1[j];
        c10 = vfmaq_n_f32(c10, v0, a);
        c11 = vfmaq_n_f32(c11, v1, a);
        c12 = vfmaq_n_f32(c12, v2, a);
        c13 = vfmaq_n_f32(c13, v3, a);
        a = p2[j];
        c20 = vfmaq_n_f32(c20, v0, a);
        c21 = vfmaq_n_f32(c21, v1, a);
        c22 = vfmaq_n_f32(c22, v2, a);
        c23 = vfmaq_n_f32(c23, v3, a);
        a = p3[j];
        c30 = vfmaq_n_f32(c30, v0, a);
        c31 = vfmaq_n_f32(c31, v1, a);
        c32 = vfmaq_n_f32(c32, v2, a);
        c33 = vfmaq_n_f32(c33, v3, a);
        a = p4[j];
        c40 = vfmaq_n_f32(c40, v0, a);
        c41 = vfmaq_n_f32(c41, v1, a);
        c42 = vfmaq_n_f32(c42, v2, a);
        c43 = vfmaq_n_f32(c43, v3, a);
        a = p5[j];
        c50 = vfmaq_n_f32(c50, v0, a);
        c51 = vfmaq_n_f32(c51, v1, a);
        c52 = vfmaq_n_f32(c52, v2, a);
        c53 = vfmaq_n_f32(c53, v3, a);
    }
    vst1q_f32(a0, c00);
    vst1q_f32(a0 + 4, c01);
    vst1q_f32(a0 + 8, c02);
    vst1q_f32(a0 + 12, c03);
    if (m > 1) {
        vst1q_f32(a1, c10);
        vst1q_f32(a1 + 4, c11);
        vst1q_f32(a1 + 8, c12);
        vst1q_f32(a1 + 12, c13);
    }
    if (m > 2) {
        vst1q_f32(a2, c20);
        vst1q_f32(a2 + 4, c21);
        vst1q_f32(a2 + 8, c22);
        vst1q_f32(a2 + 12, c23);
    }
    if (m > 3) {
        vst1q_f32(a3, c30);
        vst1q_f32(a3 + 4, c31);
        vst1q_f32(a3 + 8, c32);
        vst1q_f32(a3 + 12, c33);
    }
    if (m > 4) {
        vst1q_f32(a4, c40);
        vst1q_f32(a4 + 4, c41);
        vst1q_f32(a4 + 8, c42);
        vst1q_f32(a4 + 12, c43);
    }
    if (m > 5) {
        vst1q_f32(a5, c50);
        vst1q_f32(a5 + 4, c51);
        vst1q_f32(a5 + 8, c52);
        vst1q_f32(a5 + 12, c53);
    }
}

/* The last dv % 16 columns, row by row: 4 wide, then one at a time. */
static void context_tail(int64_t m, int64_t n, int64_t d0, int64_t dv,
                         const float *p, int64_t ldp, const float *v,
                         int64_t v_stride, const float *corr, float *acc,
                         int64_t ldacc)
{
    for (int64_t i = 0; i < m; i++) {
        const float *pi = p + i * ldp;
        float *ai = acc + i * ldacc;
        int64_t d = d0;
        for (; d + 4 <= dv; d += 4) {
            float32x4_t c = vmulq_n_f32(vld1q_f32(ai + d), corr[i]);
            for (int64_t j = 0; j < n; j++)
                c = vfmaq_n_f32(c, vld1q_f32(v + j * v_stride + d), pi[j]);
            vst1q_f32(ai + d, c);
        }
        for (; d < dv; d++) {
            float c = ai[d] * corr[i];
            for (int64_t j = 0; j < n; j++)
                c += pi[j] * v[j * v_stride + d];
            ai[d] = c;
        }
    }
}

static void seqk_f32_attn_context_6x16__neon(int64_t m, int64_t n,
                                             int64_t dv, const float *p,
                                             int64_t ldp, const float *v,
                                             int64_t v_stride,
                                             const float *corr, float *acc,
                                             int64_t ldacc)
{
    int64_t d = 0;
    for (; d + 16 <= dv; d += 16)
        context_cols16(m, n, d, p, ldp, v, v_stride, corr, acc, ldacc);
    if (d < dv)
        context_tail(m, n, d, dv, p, ldp, v, v_stride, corr, acc, ldacc);
}

static void softmax_contiguous(int64_t n, const float *x, float *y)
{
    float32x4_t vmax = vdupq_n_f32(-INFINITY);
    float mx = -INFINITY;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        vmax = vmaxq_f32(vmax, vld1q_f32(x + i));
    for (; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    const float vm = vmaxvq_f32(vmax);
    mx = vm > mx ? vm : mx;

    const float32x4_t vmx = vdupq_n_f32(mx);
    float32x4_t vsum = vdupq_n_f32(0.0f);
    float sum = 0.0f;
    for (i = 0; i + 4 <= n; i += 4) {
        const float32x4_t e = exp_f32(vsubq_f32(vld1q_f32(x + i), vmx));
        vst1q_f32(y + i, e);
        vsum = vaddq_f32(vsum, e);
    }
    for (; i < n; i++) {
        y[i] = expf(x[i] - mx);
        sum += y[i];
    }
    const float inv = 1.0f / (vaddvq_f32(vsum) + sum);
    for (i = 0; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vmulq_n_f32(vld1q_f32(y + i), inv));
    for (; i < n; i++)
        y[i] *= inv;
}

/* Strided axis: 4 columns at a time (each lane its own softmax), then
 * single columns. */
static void seqk_f32_softmax__neon(int64_t n, int64_t inner, int64_t c0,
                                   int64_t c1, const float *x, float *y)
{
    if (inner == 1) {
        softmax_contiguous(n, x, y);
        return;
    }
    int64_t c = c0;
    for (; c + 4 <= c1; c += 4) {
        float32x4_t vmax = vdupq_n_f32(-INFINITY);
        for (int64_t i = 0; i < n; i++)
            vmax = vmaxq_f32(vmax, vld1q_f32(x + i * inner + c));
        float32x4_t vsum = vdupq_n_f32(0.0f);
        for (int64_t i = 0; i < n; i++) {
            const float32x4_t e =
                exp_f32(vsubq_f32(vld1q_f32(x + i * inner + c), vmax));
            vst1q_f32(y + i * inner + c, e);
            vsum = vaddq_f32(vsum, e);
        }
        const float32x4_t inv = vdivq_f32(vdupq_n_f32(1.0f), vsum);
        for (int64_t i = 0; i < n; i++)
            vst1q_f32(y + i * inner + c,
                      vmulq_f32(vld1q_f32(y + i * inner + c), inv));
    }
    for (; c < c1; c++) {
        float mx = -INFINITY, sum = 0.0f;
        for (int64_t i = 0; i < n; i++)
            mx = x[i * inner + c] > mx ? x[i * inner + c] : mx;
        for (int64_t i = 0; i < n; i++) {
            y[i * inner + c] = expf(x[i * inner + c] - mx);
            sum += y[i * inner + c];
        }
        const float inv = 1.0f / sum;
        for (int64_t i = 0; i < n; i++)
            y[i * inner + c] *= inv;
    }
}

static float seqk_f32_additive_score__neon(int64_t na, const float *u,
                                           const float *wk, const float *v)
{
    float32x4_t c = vdupq_n_f32(0.0f);
    int64_t a = 0;
    for (; a + 4 <= na; a += 4) {
        const float32x4_t h = Sleef_tanhf4_u10advsimd(
            vaddq_f32(vld1q_f32(u + a), vld1q_f32(wk + a)));
        c = vfmaq_f32(c, vld1q_f32(v + a), h);
    }
    float acc = vaddvq_f32(c);
    for (; a < na; a++)
        acc += v[a] * tanhf(u[a] + wk[a]);
    return acc;
}

static void seqk_f32_weighted_rows__neon(int64_t n, int64_t dv,
                                         const float *w, const float *x,
                                         int64_t x_stride, float *y)
{
    int64_t d = 0;
    for (; d + 16 <= dv; d += 16) {
        float32x4_t c0 = vdupq_n_f32(0.0f), c1 = c0, c2 = c0, c3 = c0;
        const float *xj = x + d;
        for (int64_t j = 0; j < n; j++, xj += x_stride) {
            c0 = vfmaq_n_f32(c0, vld1q_f32(xj), w[j]);
            c1 = vfmaq_n_f32(c1, vld1q_f32(xj + 4), w[j]);
            c2 = vfmaq_n_f32(c2, vld1q_f32(xj + 8), w[j]);
            c3 = vfmaq_n_f32(c3, vld1q_f32(xj + 12), w[j]);
        }
        vst1q_f32(y + d, c0);
        vst1q_f32(y + d + 4, c1);
        vst1q_f32(y + d + 8, c2);
        vst1q_f32(y + d + 12, c3);
    }
    for (; d + 4 <= dv; d += 4) {
        float32x4_t c = vdupq_n_f32(0.0f);
        for (int64_t j = 0; j < n; j++)
            c = vfmaq_n_f32(c, vld1q_f32(x + j * x_stride + d), w[j]);
        vst1q_f32(y + d, c);
    }
    for (; d < dv; d++) {
        float c = 0.0f;
        for (int64_t j = 0; j < n; j++)
            c += w[j] * x[j * x_stride + d];
        y[d] = c;
    }
}

const seqk_attn_kernels seqk_attn_kernels__neon = {
    .name = "seqk_f32_attn_scores_6x16__neon",
    .mr = 6,
    .nr = 16,
    .vec = 16, /* context steps 16 columns */
    .scores_packed = seqk_f32_attn_scores_6x16__neon,
    .pack_k = seqk_f32_attn_pack_k_16__neon,
    .scores_rows = seqk_f32_attn_scores_rows_6__neon,
    .online_softmax_row = seqk_f32_attn_online_softmax_row__neon,
    .context = seqk_f32_attn_context_6x16__neon,
    .softmax = seqk_f32_softmax__neon,
    .dot = seqk_f32_dot__neon,
    .additive_score = seqk_f32_additive_score__neon,
    .weighted_rows = seqk_f32_weighted_rows__neon,
};
