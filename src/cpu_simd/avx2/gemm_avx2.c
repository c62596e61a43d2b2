/*
 * gemm_avx2.c — SGEMM microkernel 6x16 and the transposing panel pack
 * for AVX2+FMA.
 *
 * Microkernel (contract in gemm.h; its k loop is tmpl/gemm_accumulate.c,
 * compiled here with this ISA's tile): per k step, two 8-float vectors of
 * the packed B row are multiplied by 6 broadcast A values into 12 ymm
 * accumulators:
 *
 *            b[p*16 + 0..7]  b[p*16 + 8..15]
 *   a[p*6+0]   acc0[0]         acc1[0]          row 0 of C
 *     ...
 *   a[p*6+5]   acc0[5]         acc1[5]          row 5 of C
 *
 * 12 accumulators + 2 B vectors + 1 broadcast = 15 of the 16 ymm
 * registers; 12 independent FMA chains cover two pipes of 4-cycle
 * latency.  Edge tiles run the loop for just their m rows (one
 * specialization per m) and only the first 8 columns when n <= 8; the
 * last partial 8-column group is stored through a lane mask.
 */
#include "cpu_simd/gemm.h"
#include "cpu_simd/simd/avx2.h"

#define GEMM_MR 6
#define GEMM_NV 2
#include "cpu_simd/tmpl/gemm_accumulate.c"
#include "cpu_simd/tmpl/gemv.c"
#define SKINNY_MR 6
#include "cpu_simd/tmpl/gemm_skinny.c"
#include "cpu_simd/tmpl/gemm_small.c"

enum { MR = GEMM_MR, NR = GEMM_NV * SIMD_V };

/* maskload/maskstore lane mask selecting the first n (0..8) lanes. */
static inline __m256i lane_mask(int64_t n)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int lanes = n < 0 ? 0 : n > 8 ? 8 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), idx);
}

static inline void store_row(float *c, __m256 acc, int64_t n, __m256 valpha,
                             float beta)
{
    __m256 v = _mm256_mul_ps(acc, valpha);
    if (n >= 8) {
        if (beta == 1.0f)
            v = _mm256_add_ps(v, _mm256_loadu_ps(c));
        else if (beta != 0.0f)
            v = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(c), v);
        _mm256_storeu_ps(c, v);
    } else if (n > 0) {
        const __m256i mask = lane_mask(n);
        if (beta == 1.0f)
            v = _mm256_add_ps(v, _mm256_maskload_ps(c, mask));
        else if (beta != 0.0f)
            v = _mm256_fmadd_ps(_mm256_set1_ps(beta),
                                _mm256_maskload_ps(c, mask), v);
        _mm256_maskstore_ps(c, mask, v);
    }
}

static void seqk_f32_gemm_ukernel_6x16__avx2(int64_t kc, const float *a,
                                             const float *b, float *c,
                                             int64_t ldc, int64_t m, int64_t n,
                                             float alpha, float beta)
{
    /* C is read (or written) only after the k loop: fetch it meanwhile */
    for (int64_t i = 0; i < m; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + n - 1), _MM_HINT_T0);
    }
    __m256 acc[2 * MR];
    accumulate_rows(m, n, kc, a, b, acc);
    const __m256 valpha = _mm256_set1_ps(alpha);
    for (int64_t i = 0; i < m; i++) {
        store_row(c + i * ldc, acc[2 * i], n, valpha, beta);
        if (n > 8)
            store_row(c + i * ldc + 8, acc[2 * i + 1], n - 8, valpha, beta);
    }
}

/* 8x8 transpose of r[0..7] in registers (rows become columns). */
static inline void transpose8(__m256 r[8])
{
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    /* 128-bit lane L of u[4q + s] holds column 4L + s of rows 4q..4q+3. */
    for (int q = 0; q < 8; q += 4) {
        u[q] = _mm256_shuffle_ps(t[q], t[q + 2], 0x44);
        u[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], 0xEE);
        u[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0x44);
        u[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0xEE);
    }
    for (int s = 0; s < 4; s++) {
        r[s] = _mm256_permute2f128_ps(u[s], u[4 + s], 0x20);
        r[4 + s] = _mm256_permute2f128_ps(u[s], u[4 + s], 0x31);
    }
}

/* dst[p*w + i] = src[i*ld + p] in 8x8 blocks; rows past `rows` are zero,
 * the k tail goes through masked loads and the w tail through masked
 * stores.  Each row load comes with an L2 prefetch of the same columns of
 * the next panel (next_rows rows further on). */
static void seqk_f32_gemm_pack_t__avx2(int64_t k, int64_t rows, int64_t w,
                                       const float *src, int64_t ld,
                                       float *dst, int64_t next_rows)
{
    for (int64_t i0 = 0; i0 < w; i0 += 8) {
        const int64_t nrow = rows - i0 < 0 ? 0 : rows - i0;
        const int64_t npf = next_rows - i0 < 0 ? 0 : next_rows - i0;
        const int64_t nst = w - i0 < 8 ? w - i0 : 8;
        const __m256i smask = lane_mask(nst);
        for (int64_t p0 = 0; p0 < k; p0 += 8) {
            const int64_t kk = k - p0 < 8 ? k - p0 : 8;
            const __m256i lmask = lane_mask(kk);
            __m256 r[8];
            for (int i = 0; i < 8; i++) {
                const float *s = src + (i0 + i) * ld + p0;
                if (i < npf)
                    _mm_prefetch((const char *)(s + rows * ld), _MM_HINT_T1);
                if (i >= nrow)
                    r[i] = _mm256_setzero_ps();
                else if (kk == 8)
                    r[i] = _mm256_loadu_ps(s);
                else
                    r[i] = _mm256_maskload_ps(s, lmask);
            }
            transpose8(r);
            for (int64_t q = 0; q < kk; q++) {
                if (nst == 8)
                    _mm256_storeu_ps(dst + (p0 + q) * w + i0, r[q]);
                else
                    _mm256_maskstore_ps(dst + (p0 + q) * w + i0, smask, r[q]);
            }
        }
    }
}

const seqk_gemm_kernels seqk__gemm_kernels__avx2 = {
    .name = "seqk_f32_gemm_ukernel_6x16__avx2",
    .mr = MR,
    .nr = NR,
    .ukernel = seqk_f32_gemm_ukernel_6x16__avx2,
    .pack_t = seqk_f32_gemm_pack_t__avx2,
    .gemv = seqk_f32_gemv__avx2,
    .gemv_bf16 = seqk_bf16_gemv__avx2,
    .gemv_name = "seqk_f32_gemv_4x16__avx2",
    .skinny = seqk_f32_gemm_skinny__avx2,
    .skinny_name = "seqk_f32_gemm_skinny_6x16__avx2",
    .small = seqk_f32_gemm_small__avx2,
    .small_name = "seqk_f32_gemm_small_6x16__avx2",
    .dot = seqk_f32_gemm_dot__avx2,
    .small_rows = seqk_f32_gemm_small_rows__avx2,
    .dot_name = "seqk_f32_gemm_dot_4x2__avx2",
};
