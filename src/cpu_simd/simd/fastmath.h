/*
 * fastmath.h — tanh, sigmoid and erf written once against the vector API,
 * for every ISA: include it after simd/<isa>.h.
 *
 * Inline, with no SLEEF call: a call clobbers every vector register (all
 * are caller-saved), so a kernel that calls SLEEF for each gate of an RNN
 * step spills and reloads around each one; SLEEF's tanhf u35 also costs
 * about three of its own expf.  Both are built on simd_exp_softmax (under
 * 2 ulp for x <= 0, exactly 0 below -87.34); over the whole float range
 * (tests/kernels sweeps it) tanh is within 2 ulp of the exact value,
 * sigmoid within 3.5 (SLEEF's tanhf u35 bound):
 *
 *   sigmoid(x) = 1 / (1 + e)  (x >= 0),  e / (1 + e)  (x < 0),
 *                e = exp(-|x|) in (0, 1]: no overflow, no cancellation
 *   tanh(x)    = x + x^3 P(x^2)                        |x| < ln(3)/2
 *              = sign(x) (1 - e) / (1 + e),  e = exp(-2|x|) <= 1/3
 *     P: minimax for the relative error on [0, ln(3)/2], under 1 ulp;
 *     above ln(3)/2, 1 - e >= 2/3 has no cancellation.
 * NaN stays NaN; tanh(+-inf) = +-1, sigmoid(-inf) = 0, sigmoid(inf) = 1.
 */
#ifndef SEQK_SIMD_FASTMATH_H
#define SEQK_SIMD_FASTMATH_H

SIMD_INLINE simd_f32 simd_sigmoid_fast(simd_f32 x)
{
    const simd_f32 one = simd_set1(1.0f);
    const simd_f32 e = simd_exp_softmax(simd_neg(simd_abs(x)));
    /* NaN: cmp_ge is false, e is NaN */
    const simd_f32 num = simd_select(simd_cmp_ge(x, simd_zero()), one, e);
    return simd_div(num, simd_add(one, e));
}

SIMD_INLINE simd_f32 simd_tanh_fast(simd_f32 x)
{
    const simd_f32 one = simd_set1(1.0f);
    const simd_f32 ax = simd_abs(x);
    const simd_f32 e = simd_exp_softmax(simd_mul(ax, simd_set1(-2.0f)));
    const simd_f32 big = simd_div(simd_sub(one, e), simd_add(one, e));
    const simd_f32 x2 = simd_mul(x, x);
    simd_f32 p = simd_fma(simd_set1(-0x1.9b88d8p-8f), x2,
                          simd_set1(0x1.594bbcp-6f));
    p = simd_fma(p, x2, simd_set1(-0x1.b92a24p-5f));
    p = simd_fma(p, x2, simd_set1(0x1.110d30p-3f));
    p = simd_fma(p, x2, simd_set1(-0x1.55554ap-2f));
    const simd_f32 small = simd_fma(simd_mul(x, x2), p, x);
    /* NaN: not small, and big is NaN whatever its sign */
    const simd_f32 sbig = simd_select(simd_cmp_lt(x, simd_zero()),
                                      simd_neg(big), big);
    return simd_select(simd_cmp_lt(ax, simd_set1(0x1.193ea8p-1f)), small,
                       sbig);
}

/* erf(x), within 2 ulp (tests/kernels sweeps it), ~35 ops where SLEEF's
 * erff u10 call took ~145 cycles a vector (17 % of a transformer layer):
 *   |x| < 1:  x + x Pa(x^2)           minimax for the relative error
 *   |x| >= 1: sign(x) (1 - e^(-x^2) Pb(|x|))   |x| clamped to 4 (erf is
 *             1 in float past 3.92); Pb minimax for the absolute error of
 *             erfc on [1, 4], e^(-x^2) from x^2 = hi + lo (hi rounded, lo
 *             exact by fms) as e^-hi (1 - lo).
 * NaN stays NaN (min(4, NaN) is NaN on every ISA), erf(+-inf) = +-1. */
SIMD_INLINE simd_f32 simd_erf_fast(simd_f32 x)
{
    const simd_f32 one = simd_set1(1.0f);
    const simd_f32 x2 = simd_mul(x, x);
    simd_f32 p = simd_fma(simd_set1(-0x1.273f04p-11f), x2,
                          simd_set1(0x1.4246a4p-8f));
    p = simd_fma(p, x2, simd_set1(-0x1.b5a352p-6f));
    p = simd_fma(p, x2, simd_set1(0x1.ce0942p-4f));
    p = simd_fma(p, x2, simd_set1(-0x1.812674p-2f));
    p = simd_fma(p, x2, simd_set1(0x1.06eba0p-3f)); /* 2/sqrt(pi) - 1 */
    const simd_f32 small = simd_fma(x, p, x);
    const simd_f32 ax = simd_min(simd_set1(4.0f), simd_abs(x));
    const simd_f32 hi = simd_mul(ax, ax);
    const simd_f32 lo = simd_fms(ax, ax, hi);
    simd_f32 e = simd_exp_softmax(simd_neg(hi));
    e = simd_fma(simd_neg(e), lo, e);
    simd_f32 q = simd_fma(simd_set1(-0x1.97c862p-12f), ax,
                          simd_set1(0x1.898ef0p-8f));
    q = simd_fma(q, ax, simd_set1(-0x1.4fdc78p-5f));
    q = simd_fma(q, ax, simd_set1(0x1.502610p-3f));
    q = simd_fma(q, ax, simd_set1(-0x1.ba0adcp-2f));
    q = simd_fma(q, ax, simd_set1(0x1.95cf4cp-1f));
    q = simd_fma(q, ax, simd_set1(-0x1.0c579ep+0f));
    q = simd_fma(q, ax, simd_set1(0x1.f8e5b6p-1f));
    const simd_f32 big = simd_fma(simd_neg(e), q, one);
    const simd_f32 sbig = simd_select(simd_cmp_lt(x, simd_zero()),
                                      simd_neg(big), big);
    return simd_select(simd_cmp_lt(simd_abs(x), one), small, sbig);
}

#endif
