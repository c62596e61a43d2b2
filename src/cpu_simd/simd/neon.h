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

SIMD_INLINE void simd_prefetch_l2(const void *p) { __builtin_prefetch(p, 0, 2); }

/* ---- rnn ---- */

/* Into L1 (the rows the next tile reads and writes). */
SIMD_INLINE void simd_prefetch_l1(const void *p) { __builtin_prefetch(p); }

#endif
