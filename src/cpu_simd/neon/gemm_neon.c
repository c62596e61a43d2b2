/*
 * gemm_neon.c — SGEMM microkernel 8x12 and the transposing panel pack for
 * AArch64 NEON (ASIMD).
 *
 * Microkernel (contract in gemm.h; its k loop is tmpl/gemm_accumulate.c,
 * compiled here with this ISA's tile): per k step, three 4-float vectors
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
#include "cpu_simd/gemm.h"
#include "cpu_simd/simd/neon.h"

#define GEMM_MR 8
#define GEMM_NV 3
#include "cpu_simd/tmpl/gemm_accumulate.c"
#include "cpu_simd/tmpl/gemv.c"
#define SKINNY_MR 8
#include "cpu_simd/tmpl/gemm_skinny.c"
#include "cpu_simd/tmpl/gemm_small.c"

enum { MR = GEMM_MR, NR = GEMM_NV * SIMD_V };

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

const seqk_gemm_kernels seqk__gemm_kernels__neon = {
    .name = "seqk_f32_gemm_ukernel_8x12__neon",
    .mr = MR,
    .nr = NR,
    .ukernel = seqk_f32_gemm_ukernel_8x12__neon,
    .pack_t = seqk_f32_gemm_pack_t__neon,
    .gemv = seqk_f32_gemv__neon,
    .gemv_bf16 = seqk_bf16_gemv__neon,
    .gemv_name = "seqk_f32_gemv_4x12__neon",
    .skinny = seqk_f32_gemm_skinny__neon,
    .skinny_name = "seqk_f32_gemm_skinny_8x12__neon",
    .small = seqk_f32_gemm_small__neon,
    .small_name = "seqk_f32_gemm_small_8x12__neon",
    .dot = seqk_f32_gemm_dot__neon,
    .small_rows = seqk_f32_gemm_small_rows__neon,
    .dot_name = "seqk_f32_gemm_dot_4x4__neon",
};
