/*
 * attention_neon.c — NEON (AArch64 ASIMD) kernels for Softmax, Attention
 * and SeqAttention (contract in attention.h): this ISA's tile choices and
 * K^T pack; the kernels are tmpl/attention_rows.c, compiled here once.
 *
 * Score tile 6 x 16 keys (4 q registers per row, 24 accumulators);
 * context tile 6 rows x 16 columns (24 accumulators).  NEON has no masked
 * loads, so column tails run 4 wide and then one element at a time in
 * scalar C: V and the user's arrays are never read or written past their
 * end.  exp is simd_exp_softmax (an inline polynomial, under 2 ulp); tanh
 * is SLEEF's.
 */
#include "cpu_simd/simd/neon.h"

#define ATTN_MR 6
#define ATTN_SCORES_NV 4
#define ATTN_CTX_NV 4
#define ATTN_CTX_TAIL_NV 1 /* unused: no masked tails */
#define ATTN_CTX_TAIL_PREFETCH 0
#define ATTN_VEC 16 /* context steps 16 columns */
#define ATTN_MASKED_TAILS 0
#define ATTN_SOFTMAX_UNROLL 1
#define ATTN_SCORES_ROWS_TILED 0
#define ATTN_SCORES_FN seqk_f32_attn_scores_6x16__neon
#define ATTN_CONTEXT_FN seqk_f32_attn_context_6x16__neon
#define ATTN_PACK_K_FN seqk_f32_attn_pack_k_16__neon
#define ATTN_NAME "seqk_f32_attn_scores_6x16__neon"

SIMD_INLINE void attn_prefetch_v_row(const float *pf)
{
    simd_prefetch_l1(pf);
}

/* One K^T panel: kp[d*16 + j] = j < n ? k[j*k_stride + d] : 0, in 4x4
 * blocks transposed in registers, the last dh % 4 columns one by one. */
static void ATTN_PACK_K_FN(int64_t n, int64_t dh, const float *k,
                           int64_t k_stride, float *kp)
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

#include "cpu_simd/tmpl/attention_rows.c"
