/*
 * attention_avx512.c — AVX-512 kernels for Softmax, Attention and
 * SeqAttention (contract in attention.h): this ISA's tile choices and K^T
 * pack; the kernels are tmpl/attention_rows.c, compiled here once.
 *
 * Score tile 6 x 64 keys (4 zmm per row, 24 accumulators); context tile
 * 6 rows x 64 columns (24 accumulators), then 16-column steps with masked
 * V loads, so V is read in place and never past its end.  The online
 * softmax keeps two vectors in flight.  exp is simd_exp_softmax (an
 * inline polynomial with scalef, under 2 ulp); tanh is SLEEF's.
 */
#include "cpu_simd/simd/avx512.h"

#define ATTN_MR 6
#define ATTN_SCORES_NV 4
#define ATTN_CTX_NV 4
#define ATTN_CTX_TAIL_NV 1 /* masked 16-column steps */
#define ATTN_CTX_TAIL_PREFETCH 0
#define ATTN_VEC 16
#define ATTN_MASKED_TAILS 1
#define ATTN_SOFTMAX_UNROLL 2
#define ATTN_SCORES_ROWS_TILED 1
#define ATTN_SCORES_FN seqk_f32_attn_scores_6x64__avx512
#define ATTN_CONTEXT_FN seqk_f32_attn_context_6x64__avx512
#define ATTN_PACK_K_FN seqk_f32_attn_pack_k_64__avx512
#define ATTN_NAME "seqk_f32_attn_scores_6x64__avx512"

/* The four cache lines of a 64-float V row. */
SIMD_INLINE void attn_prefetch_v_row(const float *pf)
{
    simd_prefetch_l1(pf);
    simd_prefetch_l1(pf + 16);
    simd_prefetch_l1(pf + 32);
    simd_prefetch_l1(pf + 48);
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
static void ATTN_PACK_K_FN(int64_t n, int64_t dh, const float *k,
                           int64_t k_stride, float *kp)
{
    for (int64_t j0 = 0; j0 < 64; j0 += 16)
        for (int64_t d0 = 0; d0 < dh; d0 += 16) {
            const __mmask16 t = simd__tail_bits(dh - d0);
            __m512 r[16];
            for (int64_t i = 0; i < 16; i++)
                r[i] = j0 + i < n
                           ? _mm512_maskz_loadu_ps(t, k + (j0 + i) * k_stride + d0)
                           : _mm512_setzero_ps();
            transpose16(r);
            const int64_t dn = dh - d0 < 16 ? dh - d0 : 16;
            for (int64_t i = 0; i < dn; i++)
                _mm512_storeu_ps(kp + (d0 + i) * 64 + j0, r[i]);
        }
}

#include "cpu_simd/tmpl/attention_rows.c"
