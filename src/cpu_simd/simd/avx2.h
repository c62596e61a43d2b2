/*
 * avx2.h — the vector API for AVX2+FMA (8 floats per vector, 16 ymm
 * registers). The templates in ../tmpl/ are written against this API only;
 * each ISA directory's static library compiles them with its own flags.
 * Every ISA header defines the same names with the same meaning:
 *
 *   simd_f32, simd_mask     a vector of SIMD_V floats; a lane mask
 *   SIMD_V, SIMD_NREGS      lanes per vector; architectural vector registers
 *   SIMD_SUFFIX(name)       name##__<isa>: the kernel-name suffix scheme
 *   load (aligned), loadu, load_bf16 (SIMD_V bf16 widened), load_bf16x2
 *   (2*SIMD_V bf16 stored pairwise, two vectors), broadcast,
 *   store, storeu, *_tail (first n
 *   lanes only; lanes past n are never touched, loads fill them with 0)
 *   add sub mul div fma (a*b+c) fms (a*b-c) min max abs neg
 *   max_num(a, b): max that returns b where a is NaN (b never NaN)
 *   cmp_ge/cmp_lt (ordered: false on NaN), select(m, if_true, if_false)
 *   reduce_add/reduce_max, exp/expm1/log1p (SLEEF 1.0 ULP), tanh_u35/u10
 *
 * Names carry no seqk_ prefix: everything here is static inline and never
 * becomes a symbol.
 */
#ifndef SEQK_SIMD_AVX2_H
#define SEQK_SIMD_AVX2_H

#include <immintrin.h>
#include <sleef.h>
#include <stdint.h>

#define SIMD_V 8
#define SIMD_NREGS 16
#define SIMD_SUFFIX(name) name##__avx2
#define SIMD_INLINE static inline __attribute__((always_inline))

typedef __m256 simd_f32;
typedef __m256 simd_mask;

SIMD_INLINE simd_f32 simd_zero(void) { return _mm256_setzero_ps(); }
SIMD_INLINE simd_f32 simd_set1(float x) { return _mm256_set1_ps(x); }
SIMD_INLINE simd_f32 simd_load(const float *p) { return _mm256_load_ps(p); }
SIMD_INLINE simd_f32 simd_loadu(const float *p) { return _mm256_loadu_ps(p); }

/* SIMD_V bfloat16 values (unaligned) widened to f32: a bf16 is the top
 * half of an f32, so zero-extend each to 32 bits and shift it up 16. */
SIMD_INLINE simd_f32 simd_load_bf16(const uint16_t *p)
{
    const __m256i w = _mm256_cvtepu16_epi32(
        _mm_loadu_si128((const __m128i *)(const void *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

/* 2*SIMD_V bf16 stored pairwise (word 2i: lane i of *lo, word 2i+1: lane
 * i of *hi; core/bf16.h seqk__bf16_pack_rows) widened to two vectors: one
 * load, then the low halves shifted up and the high halves masked. */
SIMD_INLINE void simd_load_bf16x2(const uint16_t *p, simd_f32 *lo,
                                  simd_f32 *hi)
{
    const __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)p);
    *lo = _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
    *hi = _mm256_castsi256_ps(
        _mm256_and_si256(w, _mm256_set1_epi32((int)0xffff0000u)));
}
SIMD_INLINE simd_f32 simd_broadcast(const float *p)
{
    return _mm256_broadcast_ss(p);
}
SIMD_INLINE void simd_store(float *p, simd_f32 v) { _mm256_store_ps(p, v); }
SIMD_INLINE void simd_storeu(float *p, simd_f32 v) { _mm256_storeu_ps(p, v); }

/* Lanes 0..n-1 (n clamped to 0..8) as an integer mask for maskload/store. */
SIMD_INLINE __m256i simd__tail_bits(int64_t n)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int k = n < 0 ? 0 : n > SIMD_V ? SIMD_V : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), lane);
}
SIMD_INLINE simd_f32 simd_load_tail(const float *p, int64_t n)
{
    return _mm256_maskload_ps(p, simd__tail_bits(n));
}
SIMD_INLINE void simd_store_tail(float *p, simd_f32 v, int64_t n)
{
    _mm256_maskstore_ps(p, simd__tail_bits(n), v);
}

SIMD_INLINE simd_f32 simd_add(simd_f32 a, simd_f32 b) { return _mm256_add_ps(a, b); }
SIMD_INLINE simd_f32 simd_sub(simd_f32 a, simd_f32 b) { return _mm256_sub_ps(a, b); }
SIMD_INLINE simd_f32 simd_mul(simd_f32 a, simd_f32 b) { return _mm256_mul_ps(a, b); }
SIMD_INLINE simd_f32 simd_div(simd_f32 a, simd_f32 b) { return _mm256_div_ps(a, b); }
SIMD_INLINE simd_f32 simd_fma(simd_f32 a, simd_f32 b, simd_f32 c)
{
    return _mm256_fmadd_ps(a, b, c);
}
SIMD_INLINE simd_f32 simd_fms(simd_f32 a, simd_f32 b, simd_f32 c)
{
    return _mm256_fmsub_ps(a, b, c);
}
/* maxps/minps return the second operand when either is NaN. */
SIMD_INLINE simd_f32 simd_min(simd_f32 a, simd_f32 b) { return _mm256_min_ps(a, b); }
SIMD_INLINE simd_f32 simd_max(simd_f32 a, simd_f32 b) { return _mm256_max_ps(a, b); }
SIMD_INLINE simd_f32 simd_max_num(simd_f32 a, simd_f32 b) { return _mm256_max_ps(a, b); }
SIMD_INLINE simd_f32 simd_min_num(simd_f32 a, simd_f32 b) { return _mm256_min_ps(a, b); }
SIMD_INLINE simd_f32 simd_abs(simd_f32 x)
{
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
}
SIMD_INLINE simd_f32 simd_neg(simd_f32 x)
{
    return _mm256_sub_ps(_mm256_setzero_ps(), x);
}

SIMD_INLINE simd_mask simd_cmp_ge(simd_f32 a, simd_f32 b)
{
    return _mm256_cmp_ps(a, b, _CMP_GE_OQ);
}
SIMD_INLINE simd_mask simd_cmp_lt(simd_f32 a, simd_f32 b)
{
    return _mm256_cmp_ps(a, b, _CMP_LT_OQ);
}
SIMD_INLINE simd_f32 simd_select(simd_mask m, simd_f32 t, simd_f32 f)
{
    return _mm256_blendv_ps(f, t, m);
}

SIMD_INLINE float simd_reduce_add(simd_f32 x)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(x),
                          _mm256_extractf128_ps(x, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
SIMD_INLINE float simd_reduce_max(simd_f32 x)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(x),
                          _mm256_extractf128_ps(x, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

SIMD_INLINE simd_f32 simd_exp(simd_f32 x) { return Sleef_expf8_u10avx2(x); }
SIMD_INLINE simd_f32 simd_expm1(simd_f32 x) { return Sleef_expm1f8_u10avx2(x); }
SIMD_INLINE simd_f32 simd_log1p(simd_f32 x) { return Sleef_log1pf8_u10avx2(x); }
SIMD_INLINE simd_f32 simd_tanh_u35(simd_f32 x) { return Sleef_tanhf8_u35avx2(x); }
SIMD_INLINE simd_f32 simd_tanh_u10(simd_f32 x) { return Sleef_tanhf8_u10avx2(x); }
/* The ONNX math ops (tmpl/elementwise.c): SLEEF 1.0 ULP; sqrt is the
 * correctly rounded instruction. */
SIMD_INLINE simd_f32 simd_log(simd_f32 x) { return Sleef_logf8_u10avx2(x); }
SIMD_INLINE simd_f32 simd_erf(simd_f32 x) { return Sleef_erff8_u10avx2(x); }
SIMD_INLINE simd_f32 simd_pow(simd_f32 x, simd_f32 y)
{
    return Sleef_powf8_u10avx2(x, y);
}
SIMD_INLINE simd_f32 simd_sqrt(simd_f32 x) { return _mm256_sqrt_ps(x); }

/* Into L2 (the next tile's panels), not L1. */
SIMD_INLINE void simd_prefetch_l2(const void *p)
{
    _mm_prefetch((const char *)p, _MM_HINT_T1);
}
/* Into L1: the rows the next RNN tile or the next K/V rows of attention
 * read soon. */
SIMD_INLINE void simd_prefetch_l1(const void *p)
{
    _mm_prefetch((const char *)p, _MM_HINT_T0);
}

/* ---- attention ---- */
#include <math.h>

/* exp(x) for softmax: x = n ln2 + t (two-constant reduction), exp(t) by
 * a degree-5 polynomial, 2^n built in the exponent bits (the magic bias
 * rounds x*log2e and leaves n + 127 in the low mantissa bits); under
 * 2 ulp.  x below -87.34 (where exp leaves the normal range; -inf for
 * excluded keys) gives exactly 0; callers pass x <= 0 (x - max), so 2^n
 * never overflows.  Inline and ~12 instructions, where a SLEEF call
 * costs twice that on the softmax's critical path. */
SIMD_INLINE simd_f32 simd_exp_softmax(simd_f32 x)
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

/* max(acc, x) in the first n lanes; lanes past n take x as -inf. */
SIMD_INLINE simd_f32 simd_max_tail(simd_f32 acc, simd_f32 x, int64_t n)
{
    const __m256 in = _mm256_castsi256_ps(simd__tail_bits(n));
    return _mm256_max_ps(acc, _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), x,
                                               in));
}
/* acc + x in the first n lanes; lanes past n add 0. */
SIMD_INLINE simd_f32 simd_add_tail(simd_f32 acc, simd_f32 x, int64_t n)
{
    const __m256 in = _mm256_castsi256_ps(simd__tail_bits(n));
    return _mm256_add_ps(acc, _mm256_and_ps(x, in));
}

#endif
