/*
 * avx512.h — the vector API for AVX-512F (16 floats per vector, 32 zmm
 * registers, k-register masks). Same names and meanings as avx2.h, which
 * documents the API.
 */
#ifndef SEQK_SIMD_AVX512_H
#define SEQK_SIMD_AVX512_H

#include <immintrin.h>
#include <sleef.h>
#include <stdint.h>

#define SIMD_V 16
#define SIMD_NREGS 32
#define SIMD_SUFFIX(name) name##__avx512
#define SIMD_INLINE static inline __attribute__((always_inline))

typedef __m512 simd_f32;
typedef __mmask16 simd_mask;

SIMD_INLINE simd_f32 simd_zero(void) { return _mm512_setzero_ps(); }
SIMD_INLINE simd_f32 simd_set1(float x) { return _mm512_set1_ps(x); }
SIMD_INLINE simd_f32 simd_load(const float *p) { return _mm512_load_ps(p); }
SIMD_INLINE simd_f32 simd_loadu(const float *p) { return _mm512_loadu_ps(p); }

/* SIMD_V bfloat16 values (unaligned) widened to f32: a bf16 is the top
 * half of an f32, so zero-extend each to 32 bits and shift it up 16. */
SIMD_INLINE simd_f32 simd_load_bf16(const uint16_t *p)
{
    const __m512i w = _mm512_cvtepu16_epi32(
        _mm256_loadu_si256((const __m256i *)(const void *)p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}

/* 2*SIMD_V bf16 stored pairwise (word 2i: lane i of *lo, word 2i+1: lane
 * i of *hi; core/bf16.h seqk__bf16_pack_rows) widened to two vectors: one
 * load, then the low halves shifted up and the high halves masked. */
SIMD_INLINE void simd_load_bf16x2(const uint16_t *p, simd_f32 *lo,
                                  simd_f32 *hi)
{
    const __m512i w = _mm512_loadu_si512((const void *)p);
    *lo = _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
    *hi = _mm512_castsi512_ps(
        _mm512_and_si512(w, _mm512_set1_epi32((int)0xffff0000u)));
}
SIMD_INLINE simd_f32 simd_broadcast(const float *p) { return _mm512_set1_ps(*p); }
SIMD_INLINE void simd_store(float *p, simd_f32 v) { _mm512_store_ps(p, v); }
SIMD_INLINE void simd_storeu(float *p, simd_f32 v) { _mm512_storeu_ps(p, v); }

SIMD_INLINE __mmask16 simd__tail_bits(int64_t n)
{
    return n >= SIMD_V ? (__mmask16)0xFFFF
         : n <= 0      ? (__mmask16)0
                       : (__mmask16)((1u << n) - 1);
}
SIMD_INLINE simd_f32 simd_load_tail(const float *p, int64_t n)
{
    return _mm512_maskz_loadu_ps(simd__tail_bits(n), p);
}
SIMD_INLINE void simd_store_tail(float *p, simd_f32 v, int64_t n)
{
    _mm512_mask_storeu_ps(p, simd__tail_bits(n), v);
}

SIMD_INLINE simd_f32 simd_add(simd_f32 a, simd_f32 b) { return _mm512_add_ps(a, b); }
SIMD_INLINE simd_f32 simd_sub(simd_f32 a, simd_f32 b) { return _mm512_sub_ps(a, b); }
SIMD_INLINE simd_f32 simd_mul(simd_f32 a, simd_f32 b) { return _mm512_mul_ps(a, b); }
SIMD_INLINE simd_f32 simd_div(simd_f32 a, simd_f32 b) { return _mm512_div_ps(a, b); }
SIMD_INLINE simd_f32 simd_fma(simd_f32 a, simd_f32 b, simd_f32 c)
{
    return _mm512_fmadd_ps(a, b, c);
}
SIMD_INLINE simd_f32 simd_fms(simd_f32 a, simd_f32 b, simd_f32 c)
{
    return _mm512_fmsub_ps(a, b, c);
}
SIMD_INLINE simd_f32 simd_min(simd_f32 a, simd_f32 b) { return _mm512_min_ps(a, b); }
SIMD_INLINE simd_f32 simd_max(simd_f32 a, simd_f32 b) { return _mm512_max_ps(a, b); }
SIMD_INLINE simd_f32 simd_max_num(simd_f32 a, simd_f32 b) { return _mm512_max_ps(a, b); }
SIMD_INLINE simd_f32 simd_min_num(simd_f32 a, simd_f32 b) { return _mm512_min_ps(a, b); }
SIMD_INLINE simd_f32 simd_abs(simd_f32 x) { return _mm512_abs_ps(x); }
SIMD_INLINE simd_f32 simd_neg(simd_f32 x)
{
    return _mm512_sub_ps(_mm512_setzero_ps(), x);
}

SIMD_INLINE simd_mask simd_cmp_ge(simd_f32 a, simd_f32 b)
{
    return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ);
}
SIMD_INLINE simd_mask simd_cmp_lt(simd_f32 a, simd_f32 b)
{
    return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ);
}
SIMD_INLINE simd_f32 simd_select(simd_mask m, simd_f32 t, simd_f32 f)
{
    return _mm512_mask_mov_ps(f, m, t);
}

SIMD_INLINE float simd_reduce_add(simd_f32 x) { return _mm512_reduce_add_ps(x); }
SIMD_INLINE float simd_reduce_max(simd_f32 x) { return _mm512_reduce_max_ps(x); }

SIMD_INLINE simd_f32 simd_exp(simd_f32 x) { return Sleef_expf16_u10avx512f(x); }
SIMD_INLINE simd_f32 simd_expm1(simd_f32 x) { return Sleef_expm1f16_u10avx512f(x); }
SIMD_INLINE simd_f32 simd_log1p(simd_f32 x) { return Sleef_log1pf16_u10avx512f(x); }
SIMD_INLINE simd_f32 simd_tanh_u35(simd_f32 x) { return Sleef_tanhf16_u35avx512f(x); }
SIMD_INLINE simd_f32 simd_tanh_u10(simd_f32 x) { return Sleef_tanhf16_u10avx512f(x); }
/* The ONNX math ops (tmpl/elementwise.c): SLEEF 1.0 ULP; sqrt is the
 * correctly rounded instruction. */
SIMD_INLINE simd_f32 simd_log(simd_f32 x) { return Sleef_logf16_u10avx512f(x); }
SIMD_INLINE simd_f32 simd_erf(simd_f32 x) { return Sleef_erff16_u10avx512f(x); }
SIMD_INLINE simd_f32 simd_pow(simd_f32 x, simd_f32 y)
{
    return Sleef_powf16_u10avx512f(x, y);
}
SIMD_INLINE simd_f32 simd_sqrt(simd_f32 x) { return _mm512_sqrt_ps(x); }

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
 * a degree-5 polynomial, times 2^n with scalef; under 2 ulp.  x below
 * -87.34 (where exp leaves the normal range; -inf for excluded keys)
 * gives exactly 0, NaN stays NaN.  Inline and ~10 instructions, where a
 * SLEEF call costs twice that on the softmax's critical path. */
SIMD_INLINE simd_f32 simd_exp_softmax(simd_f32 x)
{
    const __mmask16 keep =
        _mm512_cmp_ps_mask(x, _mm512_set1_ps(-0x1.5D589Ep6f), _CMP_NLT_UQ);
    const __m512 n = _mm512_roundscale_ps(
        _mm512_mul_ps(x, _mm512_set1_ps(0x1.715476p+0f)),
        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 t = _mm512_fmadd_ps(n, _mm512_set1_ps(-0x1.62E400p-1f), x);
    t = _mm512_fmadd_ps(n, _mm512_set1_ps(-0x1.7F7D1Cp-20f), t);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(0x1.0F9F9Cp-7f), t,
                               _mm512_set1_ps(0x1.573A1Ap-5f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0x1.555A80p-3f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0x1.FFFDC6p-2f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0x1.FFFFF6p-1f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.0f));
    return _mm512_maskz_scalef_ps(keep, p, n);
}

/* max(acc, x) in the first n lanes; lanes past n keep acc. */
SIMD_INLINE simd_f32 simd_max_tail(simd_f32 acc, simd_f32 x, int64_t n)
{
    return _mm512_mask_max_ps(acc, simd__tail_bits(n), acc, x);
}
/* acc + x in the first n lanes; lanes past n keep acc. */
SIMD_INLINE simd_f32 simd_add_tail(simd_f32 acc, simd_f32 x, int64_t n)
{
    return _mm512_mask_add_ps(acc, simd__tail_bits(n), acc, x);
}

#endif
