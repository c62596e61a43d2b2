/*
 * neon.h — the vector API for AArch64 Advanced SIMD (4 floats per vector,
 * 32 v registers). Same names and meanings as avx2.h, which documents the
 * API. vmax/vmin propagate NaN; vmaxnm/vminnm ignore a NaN operand like
 * C's fmax/fmin, which is what simd_max_num promises.
 */
#ifndef SEQK_SIMD_NEON_H
#define SEQK_SIMD_NEON_H

#include <arm_neon.h>
#include <sleef.h>
#include <stdint.h>

#define SIMD_V 4
#define SIMD_NREGS 32
#define SIMD_SUFFIX(name) name##__neon
#define SIMD_INLINE static inline __attribute__((always_inline))

typedef float32x4_t simd_f32;
typedef uint32x4_t simd_mask;

SIMD_INLINE simd_f32 simd_zero(void) { return vdupq_n_f32(0.0f); }
SIMD_INLINE simd_f32 simd_set1(float x) { return vdupq_n_f32(x); }
SIMD_INLINE simd_f32 simd_load(const float *p) { return vld1q_f32(p); }
SIMD_INLINE simd_f32 simd_loadu(const float *p) { return vld1q_f32(p); }

/* SIMD_V bfloat16 values widened to f32: a bf16 is the top half of an
 * f32 (shift-left-long by 16). */
SIMD_INLINE simd_f32 simd_load_bf16(const uint16_t *p)
{
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
}

/* 2*SIMD_V bf16 stored pairwise (word 2i: lane i of *lo, word 2i+1: lane
 * i of *hi; core/bf16.h seqk__bf16_pack_rows) widened to two vectors. */
SIMD_INLINE void simd_load_bf16x2(const uint16_t *p, simd_f32 *lo,
                                  simd_f32 *hi)
{
    const uint32x4_t w = vreinterpretq_u32_u16(vld1q_u16(p));
    *lo = vreinterpretq_f32_u32(vshlq_n_u32(w, 16));
    *hi = vreinterpretq_f32_u32(vandq_u32(w, vdupq_n_u32(0xffff0000u)));
}
SIMD_INLINE simd_f32 simd_broadcast(const float *p) { return vld1q_dup_f32(p); }
SIMD_INLINE void simd_store(float *p, simd_f32 v) { vst1q_f32(p, v); }
SIMD_INLINE void simd_storeu(float *p, simd_f32 v) { vst1q_f32(p, v); }

/* No masked loads on NEON: the tail goes lane by lane, touching only
 * p[0..n-1]. */
SIMD_INLINE simd_f32 simd_load_tail(const float *p, int64_t n)
{
    if (n >= SIMD_V)
        return vld1q_f32(p);
    simd_f32 v = vdupq_n_f32(0.0f);
    if (n > 0) v = vld1q_lane_f32(p, v, 0);
    if (n > 1) v = vld1q_lane_f32(p + 1, v, 1);
    if (n > 2) v = vld1q_lane_f32(p + 2, v, 2);
    return v;
}
SIMD_INLINE void simd_store_tail(float *p, simd_f32 v, int64_t n)
{
    if (n >= SIMD_V) {
        vst1q_f32(p, v);
        return;
    }
    if (n > 0) vst1q_lane_f32(p, v, 0);
    if (n > 1) vst1q_lane_f32(p + 1, v, 1);
    if (n > 2) vst1q_lane_f32(p + 2, v, 2);
}

SIMD_INLINE simd_f32 simd_add(simd_f32 a, simd_f32 b) { return vaddq_f32(a, b); }
SIMD_INLINE simd_f32 simd_sub(simd_f32 a, simd_f32 b) { return vsubq_f32(a, b); }
SIMD_INLINE simd_f32 simd_mul(simd_f32 a, simd_f32 b) { return vmulq_f32(a, b); }
SIMD_INLINE simd_f32 simd_div(simd_f32 a, simd_f32 b) { return vdivq_f32(a, b); }
SIMD_INLINE simd_f32 simd_fma(simd_f32 a, simd_f32 b, simd_f32 c)
{
    return vfmaq_f32(c, a, b);
}
SIMD_INLINE simd_f32 simd_fms(simd_f32 a, simd_f32 b, simd_f32 c)
{
    return vnegq_f32(vfmsq_f32(c, a, b));
}
SIMD_INLINE simd_f32 simd_min(simd_f32 a, simd_f32 b) { return vminq_f32(a, b); }
SIMD_INLINE simd_f32 simd_max(simd_f32 a, simd_f32 b) { return vmaxq_f32(a, b); }
SIMD_INLINE simd_f32 simd_max_num(simd_f32 a, simd_f32 b) { return vmaxnmq_f32(a, b); }
SIMD_INLINE simd_f32 simd_min_num(simd_f32 a, simd_f32 b) { return vminnmq_f32(a, b); }
SIMD_INLINE simd_f32 simd_abs(simd_f32 x) { return vabsq_f32(x); }
SIMD_INLINE simd_f32 simd_neg(simd_f32 x) { return vnegq_f32(x); }

SIMD_INLINE simd_mask simd_cmp_ge(simd_f32 a, simd_f32 b) { return vcgeq_f32(a, b); }
SIMD_INLINE simd_mask simd_cmp_lt(simd_f32 a, simd_f32 b) { return vcltq_f32(a, b); }
SIMD_INLINE simd_f32 simd_select(simd_mask m, simd_f32 t, simd_f32 f)
{
    return vbslq_f32(m, t, f);
}

SIMD_INLINE float simd_reduce_add(simd_f32 x) { return vaddvq_f32(x); }
SIMD_INLINE float simd_reduce_max(simd_f32 x) { return vmaxvq_f32(x); }

SIMD_INLINE simd_f32 simd_exp(simd_f32 x) { return Sleef_expf4_u10advsimd(x); }
SIMD_INLINE simd_f32 simd_expm1(simd_f32 x) { return Sleef_expm1f4_u10advsimd(x); }
SIMD_INLINE simd_f32 simd_log1p(simd_f32 x) { return Sleef_log1pf4_u10advsimd(x); }
SIMD_INLINE simd_f32 simd_tanh_u35(simd_f32 x) { return Sleef_tanhf4_u35advsimd(x); }
SIMD_INLINE simd_f32 simd_tanh_u10(simd_f32 x) { return Sleef_tanhf4_u10advsimd(x); }
/* The ONNX math ops (tmpl/elementwise.c): SLEEF 1.0 ULP; sqrt is the
 * correctly rounded instruction. */
SIMD_INLINE simd_f32 simd_log(simd_f32 x) { return Sleef_logf4_u10advsimd(x); }
SIMD_INLINE simd_f32 simd_erf(simd_f32 x) { return Sleef_erff4_u10advsimd(x); }
SIMD_INLINE simd_f32 simd_pow(simd_f32 x, simd_f32 y)
{
    return Sleef_powf4_u10advsimd(x, y);
}
SIMD_INLINE simd_f32 simd_sqrt(simd_f32 x) { return vsqrtq_f32(x); }

SIMD_INLINE void simd_prefetch_l2(const void *p) { __builtin_prefetch(p, 0, 2); }
/* Into L1: the rows the next RNN tile or the next K/V rows of attention
 * read soon. */
SIMD_INLINE void simd_prefetch_l1(const void *p) { __builtin_prefetch(p); }

/* ---- attention ---- */
#include <math.h>

/* exp(x) for softmax: x = n ln2 + t (two-constant reduction), exp(t) by a
 * degree-5 polynomial, 2^n built in the exponent bits.  x below -87.34
 * (where exp leaves the normal range; -inf for excluded keys) gives
 * exactly 0; callers pass x <= 0. */
SIMD_INLINE simd_f32 simd_exp_softmax(simd_f32 x)
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

/* Lanes 0..n-1 (n clamped to 0..4) as a mask. */
SIMD_INLINE simd_mask simd__tail_lanes(int64_t n)
{
    const uint32_t lane[4] = {0, 1, 2, 3};
    const uint32_t k = n < 0 ? 0 : n > SIMD_V ? SIMD_V : (uint32_t)n;
    return vcltq_u32(vld1q_u32(lane), vdupq_n_u32(k));
}
/* max(acc, x) in the first n lanes; lanes past n take x as -inf. */
SIMD_INLINE simd_f32 simd_max_tail(simd_f32 acc, simd_f32 x, int64_t n)
{
    return vmaxq_f32(acc, vbslq_f32(simd__tail_lanes(n), x,
                                    vdupq_n_f32(-INFINITY)));
}
/* acc + x in the first n lanes; lanes past n add 0. */
SIMD_INLINE simd_f32 simd_add_tail(simd_f32 acc, simd_f32 x, int64_t n)
{
    return vaddq_f32(acc, vreinterpretq_f32_u32(vandq_u32(
                              vreinterpretq_u32_f32(x), simd__tail_lanes(n))));
}

#endif
