/*
 * fastmath.h — tanh and sigmoid written once against the vector API, for
 * every ISA: include it after simd/<isa>.h.
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

#endif
