/*
 * tmpl/elementwise.c — the element-wise ops and the ArgMax row (contract
 * in ../elementwise.h), written once against the vector API.
 *
 * COMPILED ONCE PER ISA: not a translation unit of its own.  Each ISA's
 * <isa>/elementwise_<isa>.c includes its simd/<isa>.h, then this file,
 * inside that ISA's static library and with its flags.  The one knob:
 * EW_NAME, the table's name ("seqk_f32_elementwise__avx2").
 *
 *   binary   y[i] = op(a[i*a_inc], b[i*b_inc])   SIMD_V lanes a step,
 *            the last partial step through simd_load_tail/store_tail;
 *            one loop per (op, a_inc, b_inc), the switch outside it
 *   unary    y[i] = op(x[i])                       likewise; alpha and
 *            beta broadcast once per call
 *   argmax   per lane the best value and its index (as float: exact below
 *            2^24), then across lanes, then the n % SIMD_V tail in order;
 *            rows with a NaN or inf (x - x is not 0), and rows longer than
 *            2^24, take the scalar loop so that NaN ordering stays exact
 *   layer_norm_row  tmpl/layer_norm.c
 */
#include <math.h>

#include "cpu_simd/elementwise.h"
#include "cpu_simd/simd/fastmath.h"

SIMD_INLINE simd_f32 ew_binary_op(const seqk_elementwise_op op, simd_f32 a,
                                  simd_f32 b)
{
    switch (op) {
    case SEQK_EW_ADD: return simd_add(a, b);
    case SEQK_EW_SUB: return simd_sub(a, b);
    case SEQK_EW_MUL: return simd_mul(a, b);
    case SEQK_EW_POW: return simd_pow(a, b);
    default: return simd_div(a, b);
    }
}

/* al, be: the op's alpha and beta (LeakyRelu, HardSigmoid, Clip). */
SIMD_INLINE simd_f32 ew_unary_op(const seqk_elementwise_op op, simd_f32 x,
                                 simd_f32 al, simd_f32 be)
{
    const simd_f32 one = simd_set1(1.0f), half = simd_set1(0.5f);
    switch (op) {
    case SEQK_EW_SQRT: return simd_sqrt(x);
    case SEQK_EW_ABS: return simd_abs(x);
    case SEQK_EW_LOG: return simd_log(x);
    case SEQK_EW_ERF: return simd_erf_fast(x);
    case SEQK_EW_LEAKY_RELU:
        return simd_select(simd_cmp_ge(x, simd_zero()), x, simd_mul(x, al));
    case SEQK_EW_GELU: {
        const simd_f32 e =
            simd_erf_fast(simd_mul(x, simd_set1(0.70710678f)));
        return simd_mul(simd_mul(half, x), simd_add(one, e));
    }
    case SEQK_EW_GELU_TANH: {
        /* sqrt(2/pi) * (x + 0.044715 x^3) */
        const simd_f32 x3 = simd_mul(simd_mul(x, x), x);
        const simd_f32 in = simd_mul(simd_set1(0.7978845608f),
                                     simd_fma(simd_set1(0.044715f), x3, x));
        return simd_mul(simd_mul(half, x), simd_add(one, simd_tanh_u10(in)));
    }
    case SEQK_EW_HARD_SIGMOID: {
        /* max/min return the second operand on NaN: NaN stays NaN */
        const simd_f32 v = simd_fma(al, x, be);
        return simd_min(one, simd_max(simd_zero(), v));
    }
    case SEQK_EW_CLIP: {
        const simd_f32 lo = simd_select(simd_cmp_lt(x, al), al, x);
        return simd_select(simd_cmp_lt(be, lo), be, lo);
    }
    /* inline, under 3 ulp (simd/fastmath.h): SLEEF's tanhf u10 was most of
     * a decoder step's attention Tanh */
    case SEQK_EW_TANH: return simd_tanh_fast(x);
    case SEQK_EW_SIGMOID: return simd_sigmoid_fast(x);
    case SEQK_EW_RELU:
        /* ordered compare: NaN stays NaN, as in the reference */
        return simd_select(simd_cmp_lt(x, simd_zero()), simd_zero(), x);
    case SEQK_EW_EXP: return simd_exp(x);
    /* -x as x * -1: 0 - x would give +0 for +0, and Neg(0) is -0 */
    default: return simd_mul(x, simd_set1(-1.0f));
    }
}

/* One specialised loop: op, a_inc and b_inc are constants after inlining. */
SIMD_INLINE void ew_binary_loop(const seqk_elementwise_op op, int64_t n,
                                const float *a, const int a_inc,
                                const float *b, const int b_inc, float *y)
{
    const simd_f32 va0 = simd_broadcast(a), vb0 = simd_broadcast(b);
    int64_t i = 0;
    for (; i + SIMD_V <= n; i += SIMD_V) {
        const simd_f32 va = a_inc ? simd_loadu(a + i) : va0;
        const simd_f32 vb = b_inc ? simd_loadu(b + i) : vb0;
        simd_storeu(y + i, ew_binary_op(op, va, vb));
    }
    if (i < n) {
        const simd_f32 va = a_inc ? simd_load_tail(a + i, n - i) : va0;
        const simd_f32 vb = b_inc ? simd_load_tail(b + i, n - i) : vb0;
        simd_store_tail(y + i, ew_binary_op(op, va, vb), n - i);
    }
}

SIMD_INLINE void ew_binary_incs(const seqk_elementwise_op op, int64_t n,
                                const float *a, int64_t a_inc,
                                const float *b, int64_t b_inc, float *y)
{
    if (a_inc && b_inc)
        ew_binary_loop(op, n, a, 1, b, 1, y);
    else if (a_inc)
        ew_binary_loop(op, n, a, 1, b, 0, y);
    else if (b_inc)
        ew_binary_loop(op, n, a, 0, b, 1, y);
    else
        ew_binary_loop(op, n, a, 0, b, 0, y);
}

static void SIMD_SUFFIX(seqk_f32_ew_binary)(seqk_elementwise_op op,
                                            int64_t n, const float *a,
                                            int64_t a_inc, const float *b,
                                            int64_t b_inc, float *y)
{
    switch (op) {
    case SEQK_EW_ADD: ew_binary_incs(SEQK_EW_ADD, n, a, a_inc, b, b_inc, y); break;
    case SEQK_EW_SUB: ew_binary_incs(SEQK_EW_SUB, n, a, a_inc, b, b_inc, y); break;
    case SEQK_EW_MUL: ew_binary_incs(SEQK_EW_MUL, n, a, a_inc, b, b_inc, y); break;
    case SEQK_EW_POW: ew_binary_incs(SEQK_EW_POW, n, a, a_inc, b, b_inc, y); break;
    default: ew_binary_incs(SEQK_EW_DIV, n, a, a_inc, b, b_inc, y); break;
    }
}

SIMD_INLINE void ew_unary_loop(const seqk_elementwise_op op, int64_t n,
                               float alpha, float beta, const float *x,
                               float *y)
{
    const simd_f32 al = simd_set1(alpha), be = simd_set1(beta);
    int64_t i = 0;
    for (; i + SIMD_V <= n; i += SIMD_V)
        simd_storeu(y + i, ew_unary_op(op, simd_loadu(x + i), al, be));
    if (i < n)
        simd_store_tail(y + i,
                        ew_unary_op(op, simd_load_tail(x + i, n - i), al, be),
                        n - i);
}

#define EW_UNARY_CASE(OP)                                                   \
    case OP: ew_unary_loop(OP, n, alpha, beta, x, y); break;

static void SIMD_SUFFIX(seqk_f32_ew_unary)(seqk_elementwise_op op,
                                           int64_t n, float alpha,
                                           float beta, const float *x,
                                           float *y)
{
    switch (op) {
    EW_UNARY_CASE(SEQK_EW_TANH)
    EW_UNARY_CASE(SEQK_EW_SIGMOID)
    EW_UNARY_CASE(SEQK_EW_RELU)
    EW_UNARY_CASE(SEQK_EW_EXP)
    EW_UNARY_CASE(SEQK_EW_SQRT)
    EW_UNARY_CASE(SEQK_EW_ABS)
    EW_UNARY_CASE(SEQK_EW_LOG)
    EW_UNARY_CASE(SEQK_EW_ERF)
    EW_UNARY_CASE(SEQK_EW_LEAKY_RELU)
    EW_UNARY_CASE(SEQK_EW_GELU)
    EW_UNARY_CASE(SEQK_EW_GELU_TANH)
    EW_UNARY_CASE(SEQK_EW_HARD_SIGMOID)
    EW_UNARY_CASE(SEQK_EW_CLIP)
    default: ew_unary_loop(SEQK_EW_NEG, n, alpha, beta, x, y); break;
    }
}

/* b before a in "larger first" order (NaN beyond every number). */
static inline int ew_greater(float a, float b)
{
    if (isnan(a))
        return !isnan(b);
    return !isnan(b) && a > b;
}

static int64_t ew_argmax_scalar(int64_t n, const float *x, int last)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (ew_greater(x[i], x[best]) || (last && !ew_greater(x[best], x[i])))
            best = i;
    return best;
}

static int64_t SIMD_SUFFIX(seqk_f32_argmax)(int64_t n, const float *x,
                                            int select_last)
{
    const int64_t nv = n - n % SIMD_V;
    if (nv == 0 || n > (1 << 24))
        return ew_argmax_scalar(n, x, select_last);
    float lane[SIMD_V];
    for (int l = 0; l < SIMD_V; l++)
        lane[l] = (float)l;
    simd_f32 vbest = simd_loadu(x), vidx = simd_loadu(lane);
    simd_f32 vcur = vidx, vchk = simd_sub(vbest, vbest);
    const simd_f32 step = simd_set1((float)SIMD_V);
    for (int64_t i = SIMD_V; i < nv; i += SIMD_V) {
        const simd_f32 v = simd_loadu(x + i);
        vcur = simd_add(vcur, step);
        vchk = simd_add(vchk, simd_sub(v, v));
        /* first: strictly greater; last: greater or equal */
        const simd_mask m = select_last ? simd_cmp_ge(v, vbest)
                                        : simd_cmp_lt(vbest, v);
        vbest = simd_select(m, v, vbest);
        vidx = simd_select(m, vcur, vidx);
    }
    if (simd_reduce_add(vchk) != 0.0f) /* NaN: a NaN or inf was seen */
        return ew_argmax_scalar(n, x, select_last);
    float bv[SIMD_V], bi[SIMD_V];
    simd_storeu(bv, vbest);
    simd_storeu(bi, vidx);
    float best = bv[0];
    int64_t at = (int64_t)bi[0];
    for (int l = 1; l < SIMD_V; l++) {
        const int64_t il = (int64_t)bi[l];
        if (bv[l] > best ||
            (bv[l] == best && (select_last ? il > at : il < at))) {
            best = bv[l];
            at = il;
        }
    }
    for (int64_t i = nv; i < n; i++) {
        if (isnan(x[i]))
            return ew_argmax_scalar(n, x, select_last);
        if (x[i] > best || (select_last && x[i] == best)) {
            best = x[i];
            at = i;
        }
    }
    return at;
}

#include "cpu_simd/tmpl/layer_norm.c"

const seqk_ew_kernels SIMD_SUFFIX(seqk__ew_kernels) = {
    .name = EW_NAME,
    .binary = SIMD_SUFFIX(seqk_f32_ew_binary),
    .unary = SIMD_SUFFIX(seqk_f32_ew_unary),
    .argmax = SIMD_SUFFIX(seqk_f32_argmax),
    .layer_norm_row = SIMD_SUFFIX(seqk_f32_layer_norm_row),
};
