/*
 * attention_avx2.c — AVX2+FMA kernels for Softmax, Attention and
 * SeqAttention (contract in attention.h): this ISA's tile choices and K^T
 * pack; the kernels are tmpl/attention_rows.c, compiled here once.
 *
 * Score tile 6 x 16 keys (2 ymm per row, 12 accumulators); context tile
 * 6 rows x 16 columns (12 accumulators), whose last partial step loads V
 * through lane masks (maskload: lanes past the end are never touched).
 * exp is simd_exp_softmax (an inline polynomial, under 2 ulp); tanh is
 * SLEEF's.
 */
#include "cpu_simd/simd/avx2.h"

#define ATTN_MR 6
#define ATTN_SCORES_NV 2
#define ATTN_CTX_NV 2
#define ATTN_CTX_TAIL_NV 2 /* one masked 16-column step */
#define ATTN_CTX_TAIL_PREFETCH 1
#define ATTN_VEC 16 /* context steps 16 columns */
#define ATTN_MASKED_TAILS 1
#define ATTN_SOFTMAX_UNROLL 1
#define ATTN_SCORES_ROWS_TILED 1
#define ATTN_SCORES_FN seqk_f32_attn_scores_6x16__avx2
#define ATTN_CONTEXT_FN seqk_f32_attn_context_6x16__avx2
#define ATTN_PACK_K_FN seqk_f32_attn_pack_k_16__avx2
#define ATTN_NAME "seqk_f32_attn_scores_6x16__avx2"

/* 16 floats may straddle two cache lines: fetch the first and the last. */
SIMD_INLINE void attn_prefetch_v_row(const float *pf)
{
    simd_prefetch_l1(pf);
    simd_prefetch_l1(pf + 15);
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
static void ATTN_PACK_K_FN(int64_t n, int64_t dh, const float *k,
                           int64_t k_stride, float *kp)
{
    for (int64_t j0 = 0; j0 < 16; j0 += 8)
        for (int64_t d0 = 0; d0 < dh; d0 += 8) {
            const __m256i t = simd__tail_bits(dh - d0);
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

#include "cpu_simd/tmpl/attention_rows.c"
