/*
 * gemm_avx512.c — SGEMM microkernel 14x32 and the transposing panel pack
 * for AVX-512F.
 *
 * Microkernel (contract in gemm.h; its k loop is tmpl/gemm_accumulate.c,
 * compiled here with this ISA's tile): per k step, two 16-float vectors of
 * the packed B row are multiplied by 14 broadcast A values (embedded
 * {1to16} broadcasts) into 28 zmm accumulators:
 *
 *            b[p*32 + 0..15]  b[p*32 + 16..31]
 *   a[p*14+0]  acc[0][0]        acc[0][1]         row 0 of C
 *   a[p*14+1]  acc[1][0]        acc[1][1]
 *     ...
 *   a[p*14+13] acc[13][0]       acc[13][1]        row 13 of C
 *
 * 28 FMAs per k step against 2 vector loads + 14 broadcasts keeps both
 * FMA pipes busy (28 independent chains cover the 4-cycle latency twice
 * over); 28 + 2 = 30 of the 32 zmm registers.  Edge tiles run the same
 * loop for just the m rows they have (one specialization per m) and only
 * the first 16 columns when n <= 16, so narrow problems (batch 16, a
 * 16-wide C) do not pay for padding; stores are masked to n columns.
 */
#include "cpu_simd/gemm.h"
#include "cpu_simd/simd/avx512.h"

#define GEMM_MR 14
#define GEMM_NV 2
#include "cpu_simd/tmpl/gemm_accumulate.c"
#include "cpu_simd/tmpl/gemv.c"
#define SKINNY_MR 14
#include "cpu_simd/tmpl/gemm_skinny.c"
#include "cpu_simd/tmpl/gemm_small.c"

enum { MR = GEMM_MR, NR = GEMM_NV * SIMD_V };

/* Column masks for the two 16-wide halves of an n-column tile. */
static inline __mmask16 lane_mask(int64_t n)
{
    if (n >= 16)
        return (__mmask16)0xFFFF;
    return n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

static inline void store_row(float *c, __m512 acc, __mmask16 mask,
                             __m512 valpha, float beta)
{
    __m512 v = _mm512_mul_ps(acc, valpha);
    if (beta == 1.0f)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, c));
    else if (beta != 0.0f)
        v = _mm512_fmadd_ps(_mm512_set1_ps(beta),
                            _mm512_maskz_loadu_ps(mask, c), v);
    _mm512_mask_storeu_ps(c, mask, v);
}

static void seqk_f32_gemm_ukernel_14x32__avx512(int64_t kc, const float *a,
                                                const float *b, float *c,
                                                int64_t ldc, int64_t m,
                                                int64_t n, float alpha,
                                                float beta)
{
    /* C is read (or written) only after the k loop: fetch it meanwhile */
    for (int64_t i = 0; i < m; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + n - 1), _MM_HINT_T0);
    }
    __m512 acc[2 * MR];
    accumulate_rows(m, n, kc, a, b, acc);
    const __m512 valpha = _mm512_set1_ps(alpha);
    const __mmask16 m0 = lane_mask(n), m1 = lane_mask(n - 16);
    for (int64_t i = 0; i < m; i++) {
        store_row(c + i * ldc, acc[2 * i], m0, valpha, beta);
        if (n > 16)
            store_row(c + i * ldc + 16, acc[2 * i + 1], m1, valpha, beta);
    }
}

/* 16x16 transpose of r[0..15] in registers (rows become columns). */
static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        __m512d t0 = _mm512_castps_pd(t[i]), t1 = _mm512_castps_pd(t[i + 1]);
        __m512d t2 = _mm512_castps_pd(t[i + 2]);
        __m512d t3 = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    /* 128-bit lane L of r[4q + s] now holds column 4L + s of rows
     * 4q..4q+3; gather the four lanes of each column. */
    for (int s = 0; s < 4; s++) {
        __m512 x0 = r[s], x1 = r[4 + s], x2 = r[8 + s], x3 = r[12 + s];
        __m512 y0 = _mm512_shuffle_f32x4(x0, x1, 0x44);
        __m512 y1 = _mm512_shuffle_f32x4(x0, x1, 0xEE);
        __m512 y2 = _mm512_shuffle_f32x4(x2, x3, 0x44);
        __m512 y3 = _mm512_shuffle_f32x4(x2, x3, 0xEE);
        t[s] = _mm512_shuffle_f32x4(y0, y2, 0x88);
        t[4 + s] = _mm512_shuffle_f32x4(y0, y2, 0xDD);
        t[8 + s] = _mm512_shuffle_f32x4(y1, y3, 0x88);
        t[12 + s] = _mm512_shuffle_f32x4(y1, y3, 0xDD);
    }
    for (int i = 0; i < 16; i++)
        r[i] = t[i];
}

/* dst[p*w + i] = src[i*ld + p] in 16x16 blocks: masked loads cover the
 * k tail and missing rows (zeros), masked stores the w tail.  Each row
 * load comes with an L2 prefetch of the same columns of the next panel
 * (next_rows rows further on). */
static void seqk_f32_gemm_pack_t__avx512(int64_t k, int64_t rows,
                                         int64_t w, const float *src,
                                         int64_t ld, float *dst,
                                         int64_t next_rows)
{
    for (int64_t i0 = 0; i0 < w; i0 += 16) {
        const int64_t nrow = rows - i0 < 0 ? 0 : rows - i0;
        const int64_t npf = next_rows - i0 < 0 ? 0 : next_rows - i0;
        const __mmask16 smask = lane_mask(w - i0);
        for (int64_t p0 = 0; p0 < k; p0 += 16) {
            const int64_t kk = k - p0 < 16 ? k - p0 : 16;
            const __mmask16 lmask = lane_mask(kk);
            __m512 r[16];
            for (int i = 0; i < 16; i++) {
                const float *s = src + (i0 + i) * ld + p0;
                if (i < npf)
                    _mm_prefetch((const char *)(s + rows * ld), _MM_HINT_T1);
                r[i] = i < nrow ? _mm512_maskz_loadu_ps(lmask, s)
                                : _mm512_setzero_ps();
            }
            transpose16(r);
            for (int64_t q = 0; q < kk; q++)
                _mm512_mask_storeu_ps(dst + (p0 + q) * w + i0, smask, r[q]);
        }
    }
}

const seqk_gemm_kernels seqk__gemm_kernels__avx512 = {
    .name = "seqk_f32_gemm_ukernel_14x32__avx512",
    .mr = MR,
    .nr = NR,
    .ukernel = seqk_f32_gemm_ukernel_14x32__avx512,
    .pack_t = seqk_f32_gemm_pack_t__avx512,
    .gemv = seqk_f32_gemv__avx512,
    .gemv_bf16 = seqk_bf16_gemv__avx512,
    .gemv_name = "seqk_f32_gemv_4x32__avx512",
    .skinny = seqk_f32_gemm_skinny__avx512,
    .skinny_name = "seqk_f32_gemm_skinny_14x32__avx512",
    .small = seqk_f32_gemm_small__avx512,
    .small_name = "seqk_f32_gemm_small_14x32__avx512",
    .dot = seqk_f32_gemm_dot__avx512,
    .small_rows = seqk_f32_gemm_small_rows__avx512,
    .dot_name = "seqk_f32_gemm_dot_4x4__avx512",
};
