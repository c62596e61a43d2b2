/*
 * gemm_neon.c — SGEMM microkernel 8x12 and the transposing panel pack for
 * AArch64 NEON (ASIMD).
 *
 * Microkernel (contract in ../gemm.h): per k step, three 4-float vectors
 * of the packed B row are multiplied by 8 broadcast A values into 24
 * q-register accumulators:
 *
 *            b[p*12+0..3]  b[p*12+4..7]  b[p*12+8..11]
 *   a[p*8+0]   acc0[0]       acc1[0]       acc2[0]        row 0 of C
 *     ...
 *   a[p*8+7]   acc0[7]       acc1[7]       acc2[7]        row 7 of C
 *
 * 24 accumulators + 3 B vectors + 1 broadcast = 28 of the 32 registers.
 * Edge tiles run the loop for just their m rows (one specialization per
 * m) and just the 4-column groups that n touches; the last partial group
 * is stored lane by lane.
 */
#include <arm_neon.h>

#include "../gemm.h"

enum { MR = 8, NR = 12 };

/* The k loop of a rows x (4*nv) tile; rows and nv are constants at every
 * call site, so the loops unroll and the accumulators stay in registers.
 * They go to acc[3*i + v] once, after the loop. */
static inline __attribute__((always_inline)) void
accumulate(const int rows, const int nv, int64_t kc, const float *a,
           const float *b, float32x4_t *acc)
{
    float32x4_t acc0[MR], acc1[MR], acc2[MR];
    SEQK_UNROLL_FULL
    for (int i = 0; i < rows; i++) {
        acc0[i] = vdupq_n_f32(0.0f);
        acc1[i] = vdupq_n_f32(0.0f);
        acc2[i] = vdupq_n_f32(0.0f);
    }
    for (int64_t p = 0; p < kc; p++) {
        const float32x4_t b0 = vld1q_f32(b);
        const float32x4_t b1 = nv > 1 ? vld1q_f32(b + 4) : b0;
        const float32x4_t b2 = nv > 2 ? vld1q_f32(b + 8) : b0;
        SEQK_UNROLL_FULL
        for (int i = 0; i < rows; i++) {
            const float32x4_t ai = vld1q_dup_f32(a + i);
            acc0[i] = vfmaq_f32(acc0[i], ai, b0);
            if (nv > 1)
                acc1[i] = vfmaq_f32(acc1[i], ai, b1);
            if (nv > 2)
                acc2[i] = vfmaq_f32(acc2[i], ai, b2);
        }
        a += MR;
        b += NR;
    }
    SEQK_UNROLL_FULL
    for (int i = 0; i < rows; i++) {
        acc[3 * i] = acc0[i];
        acc[3 * i + 1] = acc1[i];
        acc[3 * i + 2] = acc2[i];
    }
}

static inline __attribute__((always_inline)) void
accumulate_nv(const int nv, int64_t m, int64_t kc, const float *a,
              const float *b, float32x4_t *acc)
{
    switch (m) {
    case 1: accumulate(1, nv, kc, a, b, acc); break;
    case 2: accumulate(2, nv, kc, a, b, acc); break;
    case 3: accumulate(3, nv, kc, a, b, acc); break;
    case 4: accumulate(4, nv, kc, a, b, acc); break;
    case 5: accumulate(5, nv, kc, a, b, acc); break;
    case 6: accumulate(6, nv, kc, a, b, acc); break;
    case 7: accumulate(7, nv, kc, a, b, acc); break;
    default: accumulate(8, nv, kc, a, b, acc); break;
    }
}

/* Out of line so that alpha and beta do not hold registers in the k
 * loop. */
static __attribute__((noinline)) void accumulate_rows(int64_t m, int64_t n,
                                                      int64_t kc,
                                                      const float *a,
                                                      const float *b,
                                                      float32x4_t *acc)
{
    if (n > 8)
        accumulate_nv(3, m, kc, a, b, acc);
    else if (n > 4)
        accumulate_nv(2, m, kc, a, b, acc);
    else
        accumulate_nv(1, m, kc, a, b, acc);
}

/* c[0..n) = alpha*acc + beta*c for n <= 4 columns of one row. */
static inline void store_group(float *c, float32x4_t acc, int64_t n,
                               float alpha, float beta)
{
    float32x4_t v = vmulq_n_f32(acc, alpha);
    if (n >= 4) {
        if (beta != 0.0f)
            v = vfmaq_n_f32(v, vld1q_f32(c), beta);
        vst1q_f32(c, v);
        return;
    }
    float t[4];
    vst1q_f32(t, v);
    for (int64_t j = 0; j < n; j++)
        c[j] = beta != 0.0f ? t[j] + beta * c[j] : t[j];
}

static void seqk_f32_gemm_ukernel_8x12__neon(int64_t kc, const float *a,
                                             const float *b, float *c,
                                             int64_t ldc, int64_t m,
                                             int64_t n, float alpha,
                                             float beta)
{
    float32x4_t acc[3 * MR];
    accumulate_rows(m, n, kc, a, b, acc);
    for (int64_t i = 0; i < m; i++)
        for (int64_t v = 0; v * 4 < n; v++)
            store_group(c + i * ldc + v * 4, acc[3 * i + v], n - v * 4,
                        alpha, beta);
}

/* dst[p*w + i] = src[i*ld + p]: 4x4 blocks through registers, the k tail
 * and missing rows element by element (rows past `rows` are zero). */
static void seqk_f32_gemm_pack_t__neon(int64_t k, int64_t rows, int64_t w,
                                       const float *src, int64_t ld,
                                       float *dst, int64_t next_rows)
{
    (void)next_rows; /* no prefetch hints here yet */
    const int64_t k4 = k / 4 * 4;
    for (int64_t i0 = 0; i0 < w; i0 += 4) {
        const int64_t ni = w - i0 < 4 ? w - i0 : 4;
        if (i0 + 4 <= rows && ni == 4) {
            const float *s = src + i0 * ld;
            for (int64_t p = 0; p < k4; p += 4) {
                float32x4_t r0 = vld1q_f32(s + p);
                float32x4_t r1 = vld1q_f32(s + ld + p);
                float32x4_t r2 = vld1q_f32(s + 2 * ld + p);
                float32x4_t r3 = vld1q_f32(s + 3 * ld + p);
                /* 2x2 blocks of pairs, then pairs of pairs */
                float32x4_t t0 = vtrn1q_f32(r0, r1), t1 = vtrn2q_f32(r0, r1);
                float32x4_t t2 = vtrn1q_f32(r2, r3), t3 = vtrn2q_f32(r2, r3);
                float64x2_t u0 = vreinterpretq_f64_f32(t0);
                float64x2_t u1 = vreinterpretq_f64_f32(t1);
                float64x2_t u2 = vreinterpretq_f64_f32(t2);
                float64x2_t u3 = vreinterpretq_f64_f32(t3);
                vst1q_f32(dst + p * w + i0,
                          vreinterpretq_f32_f64(vtrn1q_f64(u0, u2)));
                vst1q_f32(dst + (p + 1) * w + i0,
                          vreinterpretq_f32_f64(vtrn1q_f64(u1, u3)));
                vst1q_f32(dst + (p + 2) * w + i0,
                          vreinterpretq_f32_f64(vtrn2q_f64(u0, u2)));
                vst1q_f32(dst + (p + 3) * w + i0,
                          vreinterpretq_f32_f64(vtrn2q_f64(u1, u3)));
            }
            for (int64_t p = k4; p < k; p++)
                for (int64_t i = 0; i < 4; i++)
                    dst[p * w + i0 + i] = s[i * ld + p];
        } else {
            for (int64_t p = 0; p < k; p++)
                for (int64_t i = 0; i < ni; i++)
                    dst[p * w + i0 + i] =
                        i0 + i < rows ? src[(i0 + i) * ld + p] : 0.0f;
        }
    }
}

const seqk_gemm_kernels seqk_gemm_kernels__neon = {
    .name = "seqk_f32_gemm_ukernel_8x12__neon",
    .mr = MR,
    .nr = NR,
    .ukernel = seqk_f32_gemm_ukernel_8x12__neon,
    .pack_t = seqk_f32_gemm_pack_t__neon,
};
