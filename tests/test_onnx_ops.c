/*
 * test_onnx_ops.c — the ONNX ops of the model runner that compute:
 * the element-wise extensions (Pow, Sqrt, ..., Clip; comparisons and
 * logic into bool), Where, Cast, LogSoftmax, ReduceSum/Mean/Max,
 * LayerNormalization and Conv1d, on every available device and on ref,
 * each against loops written here (double precision) over edge shapes
 * (dims of 0 and 1, broadcasting, negative axes, lengths around the
 * vector widths); then bad inputs.  Layout ops: test_onnx_ops_layout.c.
 *
 * Built twice (tests/meson.build): suite "onnx_ops" and "opencl_onnx_ops"
 * (ref + opencl:0.0; under Oclgrind with SEQK_OCL_SMALL=1).
 */
#include <stdio.h>

#include "onnx_ops_util.h"

/* The broadcast shape of a and b, and for each output element the
 * source flat indices. */
static int bshape(int an, const int64_t *ad, int bn, const int64_t *bd,
                  int64_t *yd)
{
    const int yn = an > bn ? an : bn;
    for (int i = 0; i < yn; i++) {
        const int ia = an - yn + i, ib = bn - yn + i;
        const int64_t da = ia >= 0 ? ad[ia] : 1, db = ib >= 0 ? bd[ib] : 1;
        yd[i] = da == 1 ? db : da;
    }
    return yn;
}
static int64_t bsrc(int64_t y, int yn, const int64_t *yd, int n,
                    const int64_t *d)
{
    int64_t idx[SEQK_MAX_DIMS], f = 0;
    oo_unravel(y, yn, yd, idx);
    for (int i = 0; i < n; i++) {
        const int64_t v = d[i] == 1 ? 0 : idx[yn - n + i];
        f = f * d[i] + v;
    }
    return f;
}

/* ============================================================ element-wise */

static double naive_f32(seqk_elementwise_op op, double a, double b,
                        double al, double be)
{
    switch (op) {
    case SEQK_EW_POW: return pow(a, b);
    case SEQK_EW_SQRT: return sqrt(a);
    case SEQK_EW_ABS: return fabs(a);
    case SEQK_EW_LOG: return log(a);
    case SEQK_EW_ERF: return erf(a);
    case SEQK_EW_LEAKY_RELU: return a >= 0 ? a : al * a;
    case SEQK_EW_GELU: return 0.5 * a * (1 + erf(a / sqrt(2.0)));
    case SEQK_EW_GELU_TANH:
        return 0.5 * a * (1 + tanh(sqrt(2 / 3.14159265358979323846) *
                                   (a + 0.044715 * a * a * a)));
    case SEQK_EW_HARD_SIGMOID: return fmax(0, fmin(1, al * a + be));
    default: return a < al ? al : a > be ? be : a; /* Clip */
    }
}

static const seqk_elementwise_op f32_ops[] = {
    SEQK_EW_POW, SEQK_EW_SQRT, SEQK_EW_ABS, SEQK_EW_LOG, SEQK_EW_ERF,
    SEQK_EW_LEAKY_RELU, SEQK_EW_GELU, SEQK_EW_GELU_TANH,
    SEQK_EW_HARD_SIGMOID, SEQK_EW_CLIP};
enum { NUM_F32_OPS = sizeof f32_ops / sizeof f32_ops[0] };

static const struct { int an; int64_t a[4]; int bn; int64_t b[4]; } bc[] = {
    {1, {37}, 1, {37}},        {2, {3, 17}, 2, {3, 1}},
    {3, {4, 1, 8}, 2, {3, 1}}, {2, {5, 0}, 1, {1}},
    {0, {0}, 2, {4, 9}},       {2, {1, 16}, 2, {9, 1}},
    {1, {1000}, 0, {0}},       {1, {1}, 1, {1}},
};
enum { NUM_BC = sizeof bc / sizeof bc[0] };

static void check_f32_op(seqk_context *ctx, seqk_context *rctx,
                         seqk_elementwise_op op, int c, float al, float be,
                         uint64_t seed)
{
    tu_rng r;
    tu_rng_init(&r, seed);
    const int bin = seqk_elementwise_arity(op) == 2;
    const int an = bc[c].an, bn = bin ? bc[c].bn : 0;
    const int64_t *ad = bc[c].a, *bd = bc[c].b;
    int64_t yd[SEQK_MAX_DIMS];
    const int yn = bshape(an, ad, bn, bd, yd);
    const int64_t na = oo_numel(an, ad), nb = oo_numel(bn, bd);
    const int64_t ny = oo_numel(yn, yd);
    const int pos = op == SEQK_EW_SQRT || op == SEQK_EW_LOG ||
                    op == SEQK_EW_POW;
    float *a = oo_rand(&r, SEQK_F32, na, pos ? 0.01f : -4, 4, 0);
    float *b = oo_rand(&r, SEQK_F32, nb, -3, 3, 0);
    float *want = malloc((size_t)(ny ? ny : 1) * 4);
    for (int64_t y = 0; y < ny; y++)
        want[y] = (float)naive_f32(op, a[bsrc(y, yn, yd, an, ad)],
                                   bin ? b[bsrc(y, yn, yd, bn, bd)] : 0, al,
                                   be);
    seqk_elementwise_params p;
    seqk_elementwise_params_init(&p, op);
    if (op == SEQK_EW_LEAKY_RELU || op == SEQK_EW_HARD_SIGMOID ||
        op == SEQK_EW_CLIP) {
        p.alpha = al;
        p.beta = be;
    }
    seqk_context *cs[2] = {ctx, rctx};
    for (int k = 0; k < 2; k++) {
        seqk_tensor *A = oo_mk(cs[k], an, ad, SEQK_F32, a);
        seqk_tensor *B = bin ? oo_mk(cs[k], bn, bd, SEQK_F32, b) : NULL;
        seqk_tensor *Y = oo_mk(cs[k], yn, yd, SEQK_F32, NULL);
        TU_OK(cs[k], seqk_elementwise(cs[k], &p, A, B, Y));
        tu_assert_guard(Y);
        float *got = oo_rd(Y);
        char msg[256];
        ck_assert_msg(tu_close(got, want, (size_t)ny, 3e-6f, 8e-6f, msg,
                               sizeof msg), "%s on %s: %s",
                      seqk_elementwise_name(op), k ? "ref" : "device", msg);
        free(got);
        seqk_tensor_destroy(A);
        seqk_tensor_destroy(B);
        seqk_tensor_destroy(Y);
    }
    free(a);
    free(b);
    free(want);
}

START_TEST(elementwise_math)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    const int nc = oo_small() ? 3 : NUM_BC;
    uint64_t seed = 1;
    for (int o = 0; o < NUM_F32_OPS; o++)
        for (int c = 0; c < nc; c++) {
            float al = 0.1f, be = 0.6f;
            if (f32_ops[o] == SEQK_EW_CLIP) {
                al = -1.5f;
                be = 2.0f;
            }
            check_f32_op(ctx, rctx, f32_ops[o], c, al, be, seed++);
        }
    /* Clip's defaults leave values alone; NaN stays NaN */
    const int64_t n[1] = {5};
    const float x[5] = {-1e30f, NAN, 3, -INFINITY, INFINITY};
    seqk_tensor *X = oo_mk(ctx, 1, n, SEQK_F32, x);
    seqk_tensor *Y = oo_mk(ctx, 1, n, SEQK_F32, NULL);
    seqk_elementwise_params p;
    seqk_elementwise_params_init(&p, SEQK_EW_CLIP);
    TU_OK(ctx, seqk_elementwise(ctx, &p, X, NULL, Y));
    float *got = oo_rd(Y);
    TU_ASSERT_CLOSE(got, x, 5, 0, 0);
    free(got);
    seqk_tensor_destroy(X);
    seqk_tensor_destroy(Y);
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

static int naive_bool(seqk_elementwise_op op, double x, double y)
{
    switch (op) {
    case SEQK_EW_EQUAL: return x == y;
    case SEQK_EW_LESS: return x < y;
    case SEQK_EW_GREATER: return x > y;
    case SEQK_EW_LESS_OR_EQUAL: return x <= y;
    case SEQK_EW_GREATER_OR_EQUAL: return x >= y;
    case SEQK_EW_AND: return x != 0 && y != 0;
    case SEQK_EW_OR: return x != 0 || y != 0;
    default: return x == 0;
    }
}

static double value_at(seqk_dtype dt, const void *p, int64_t i)
{
    switch (dt) {
    case SEQK_F32: return ((const float *)p)[i];
    case SEQK_I32: return ((const int32_t *)p)[i];
    case SEQK_I64: return (double)((const int64_t *)p)[i];
    default: return ((const uint8_t *)p)[i];
    }
}

START_TEST(elementwise_compare)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    static const seqk_elementwise_op ops[] = {
        SEQK_EW_EQUAL, SEQK_EW_LESS, SEQK_EW_GREATER, SEQK_EW_LESS_OR_EQUAL,
        SEQK_EW_GREATER_OR_EQUAL, SEQK_EW_AND, SEQK_EW_OR, SEQK_EW_NOT};
    const int nc = oo_small() ? 3 : NUM_BC;
    uint64_t seed = 500;
    for (int o = 0; o < 8; o++)
        for (int t = 0; t < 4; t++) {
            const seqk_dtype dt = oo_dtypes[t];
            const int logic = o >= 5;
            if (logic != (dt == SEQK_BOOL) &&
                !(ops[o] == SEQK_EW_EQUAL && dt == SEQK_BOOL))
                continue;
            for (int c = 0; c < nc; c++) {
                tu_rng r;
                tu_rng_init(&r, seed++);
                const int bin = ops[o] != SEQK_EW_NOT;
                const int an = bc[c].an, bn = bin ? bc[c].bn : 0;
                int64_t yd[SEQK_MAX_DIMS];
                const int yn = bshape(an, bc[c].a, bn, bc[c].b, yd);
                const int64_t ny = oo_numel(yn, yd);
                void *a = oo_rand(&r, dt, oo_numel(an, bc[c].a), -3, 3, 1);
                void *b = oo_rand(&r, dt, oo_numel(bn, bc[c].b), -3, 3, 1);
                if (dt == SEQK_F32 && oo_numel(an, bc[c].a) > 2)
                    ((float *)a)[1] = NAN; /* compares false */
                seqk_elementwise_params p;
                seqk_elementwise_params_init(&p, ops[o]);
                seqk_context *cs[2] = {ctx, rctx};
                for (int k = 0; k < 2; k++) {
                    seqk_tensor *A = oo_mk(cs[k], an, bc[c].a, dt, a);
                    seqk_tensor *B = bin ? oo_mk(cs[k], bn, bc[c].b, dt, b)
                                         : NULL;
                    seqk_tensor *Y = oo_mk(cs[k], yn, yd, SEQK_BOOL, NULL);
                    TU_OK(cs[k], seqk_elementwise(cs[k], &p, A, B, Y));
                    uint8_t *got = oo_rd(Y);
                    for (int64_t y = 0; y < ny; y++) {
                        const double x = value_at(
                            dt, a, bsrc(y, yn, yd, an, bc[c].a));
                        const double v = bin ? value_at(
                            dt, b, bsrc(y, yn, yd, bn, bc[c].b)) : 0;
                        ck_assert_msg(got[y] == naive_bool(ops[o], x, v),
                                      "%s dtype %d case %d on %s: [%lld] "
                                      "is %d", seqk_elementwise_name(ops[o]),
                                      (int)dt, c, k ? "ref" : "device",
                                      (long long)y, got[y]);
                    }
                    free(got);
                    seqk_tensor_destroy(A);
                    seqk_tensor_destroy(B);
                    seqk_tensor_destroy(Y);
                }
                free(a);
                free(b);
            }
        }
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

/* =================================================================== Where */

START_TEST(where_broadcasting)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    static const struct { int n[3]; int64_t d[3][3]; } cs[] = {
        {{2, 2, 2}, {{3, 5}, {3, 5}, {3, 5}}},
        {{1, 2, 0}, {{5}, {3, 1}, {0}}},
        {{3, 1, 2}, {{2, 1, 4}, {1}, {3, 1}}},
        {{2, 2, 2}, {{0, 3}, {1, 3}, {1, 1}}},
    };
    uint64_t seed = 900;
    const int nc = oo_small() ? 2 : 4;
    for (int c = 0; c < nc; c++)
        for (int t = 0; t < 4; t++) {
            tu_rng r;
            tu_rng_init(&r, seed++);
            const seqk_dtype dt = oo_dtypes[t];
            const size_t es = seqk_dtype_size(dt);
            int64_t t1[SEQK_MAX_DIMS], yd[SEQK_MAX_DIMS];
            int tn = bshape(cs[c].n[0], cs[c].d[0], cs[c].n[1], cs[c].d[1],
                            t1);
            const int yn = bshape(tn, t1, cs[c].n[2], cs[c].d[2], yd);
            const int64_t ny = oo_numel(yn, yd);
            void *cd = oo_rand(&r, SEQK_BOOL, oo_numel(cs[c].n[0],
                                                      cs[c].d[0]), 0, 1, 0);
            void *x = oo_rand(&r, dt, oo_numel(cs[c].n[1], cs[c].d[1]), -4,
                              4, 0);
            void *y = oo_rand(&r, dt, oo_numel(cs[c].n[2], cs[c].d[2]), -4,
                              4, 0);
            seqk_context *ctxs[2] = {ctx, rctx};
            for (int k = 0; k < 2; k++) {
                seqk_tensor *C = oo_mk(ctxs[k], cs[c].n[0], cs[c].d[0],
                                       SEQK_BOOL, cd);
                seqk_tensor *X = oo_mk(ctxs[k], cs[c].n[1], cs[c].d[1], dt,
                                       x);
                seqk_tensor *Y = oo_mk(ctxs[k], cs[c].n[2], cs[c].d[2], dt,
                                       y);
                seqk_tensor *O = oo_mk(ctxs[k], yn, yd, dt, NULL);
                TU_OK(ctxs[k], seqk_where(ctxs[k], C, X, Y, O));
                tu_assert_guard(O);
                unsigned char *got = oo_rd(O);
                for (int64_t o = 0; o < ny; o++) {
                    const int64_t ic = bsrc(o, yn, yd, cs[c].n[0],
                                            cs[c].d[0]);
                    const int64_t ix = bsrc(o, yn, yd, cs[c].n[1],
                                            cs[c].d[1]);
                    const int64_t iy = bsrc(o, yn, yd, cs[c].n[2],
                                            cs[c].d[2]);
                    const char *want = ((uint8_t *)cd)[ic]
                                           ? (char *)x + ix * es
                                           : (char *)y + iy * es;
                    ck_assert_msg(!memcmp(got + o * es, want, es),
                                  "Where case %d dtype %d on %s: [%lld]", c,
                                  (int)dt, k ? "ref" : "device",
                                  (long long)o);
                }
                free(got);
                seqk_tensor *objs[] = {C, X, Y, O};
                for (int i = 0; i < 4; i++)
                    seqk_tensor_destroy(objs[i]);
            }
            free(cd);
            free(x);
            free(y);
        }
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

/* ==================================================================== Cast */

START_TEST(cast_all_ways)
{
    seqk_context *ctx = tu_context(_i);
    const float fv[12] = {0, -0.0f, 1.5f, -1.5f, -2.9f, 1e10f, -1e10f, NAN,
                          INFINITY, -INFINITY, 2147483520.0f, 0.25f};
    const int32_t iv[12] = {0, 1, -1, 7, INT32_MAX, INT32_MIN, 16777217, -3,
                            100, 2, -100000, 5};
    const int64_t lv[12] = {0, 1, -1, 4294967297LL, INT64_MAX, INT64_MIN,
                            -4294967296LL, 123456789012LL, 2147483648LL,
                            -2147483649LL, 9, -9};
    const uint8_t bv[12] = {0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0};
    const void *src[4] = {fv, iv, lv, bv};
    const int64_t n[1] = {12};
    for (int f = 0; f < 4; f++)
        for (int t = 0; t < 4; t++) {
            const seqk_dtype from = oo_dtypes[f], to = oo_dtypes[t];
            seqk_tensor *X = oo_mk(ctx, 1, n, from, src[f]);
            seqk_tensor *Y = oo_mk(ctx, 1, n, to, NULL);
            TU_OK(ctx, seqk_cast(ctx, X, Y));
            void *got = oo_rd(Y);
            for (int i = 0; i < 12; i++) {
                const double v = value_at(from, src[f], i);
                const int is_f = from == SEQK_F32;
                const int64_t iv64 = from == SEQK_I64 ? lv[i]
                                     : (int64_t)(is_f ? 0 : v);
                switch (to) {
                case SEQK_F32: {
                    const float w = is_f ? fv[i] : (float)iv64;
                    const float g = ((float *)got)[i];
                    ck_assert_msg(g == w || (isnan(g) && isnan(w)),
                                  "cast %d->f32 [%d]: %g want %g", f, i, g,
                                  w);
                    break;
                }
                case SEQK_I32: {
                    int32_t w = (int32_t)(uint32_t)(uint64_t)iv64;
                    if (is_f)
                        w = isnan(v) ? 0 : v >= 2147483647.0 ? INT32_MAX
                            : v <= -2147483648.0 ? INT32_MIN : (int32_t)v;
                    ck_assert_msg(((int32_t *)got)[i] == w,
                                  "cast %d->i32 [%d]: %d want %d", f, i,
                                  ((int32_t *)got)[i], w);
                    break;
                }
                case SEQK_I64: {
                    int64_t w = iv64;
                    if (is_f)
                        w = isnan(v) ? 0 : v >= 9.2233720368547758e18
                            ? INT64_MAX : v <= -9.2233720368547758e18
                            ? INT64_MIN : (int64_t)v;
                    ck_assert_msg(((int64_t *)got)[i] == w,
                                  "cast %d->i64 [%d]: %lld want %lld", f, i,
                                  (long long)((int64_t *)got)[i],
                                  (long long)w);
                    break;
                }
                default: {
                    const int w = is_f ? v != 0 : iv64 != 0;
                    ck_assert_msg(((uint8_t *)got)[i] == w,
                                  "cast %d->bool [%d]", f, i);
                }
                }
            }
            free(got);
            seqk_tensor_destroy(X);
            seqk_tensor_destroy(Y);
        }
    seqk_context_destroy(ctx);
}
END_TEST

/* ============================================================== LogSoftmax */

START_TEST(log_softmax_axes)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    static const struct { int n; int64_t d[3]; } cs[] = {
        {2, {3, 17}}, {3, {2, 5, 4}}, {1, {1}}, {2, {4, 1000}}, {2, {0, 3}},
    };
    uint64_t seed = 1200;
    const int nc = oo_small() ? 2 : 5;
    for (int c = 0; c < nc; c++)
        for (int axis = -cs[c].n; axis < cs[c].n; axis++) {
            tu_rng r;
            tu_rng_init(&r, seed++);
            const int ax = axis < 0 ? axis + cs[c].n : axis;
            const int64_t nx = oo_numel(cs[c].n, cs[c].d);
            float *x = oo_rand(&r, SEQK_F32, nx, -50, 50, 0);
            float *want = malloc((size_t)(nx ? nx : 1) * 4);
            int64_t outer = 1, inner = 1, n = cs[c].d[ax];
            for (int i = 0; i < ax; i++)
                outer *= cs[c].d[i];
            for (int i = ax + 1; i < cs[c].n; i++)
                inner *= cs[c].d[i];
            for (int64_t o = 0; o < outer; o++)
                for (int64_t in = 0; in < inner; in++) {
                    double mx = -INFINITY, s = 0;
                    for (int64_t i = 0; i < n; i++)
                        mx = fmax(mx, x[(o * n + i) * inner + in]);
                    for (int64_t i = 0; i < n; i++)
                        s += exp(x[(o * n + i) * inner + in] - mx);
                    for (int64_t i = 0; i < n; i++)
                        want[(o * n + i) * inner + in] = (float)(
                            x[(o * n + i) * inner + in] - mx - log(s));
                }
            seqk_context *ctxs[2] = {ctx, rctx};
            for (int k = 0; k < 2; k++) {
                seqk_tensor *X = oo_mk(ctxs[k], cs[c].n, cs[c].d, SEQK_F32,
                                       x);
                seqk_tensor *Y = oo_mk(ctxs[k], cs[c].n, cs[c].d, SEQK_F32,
                                       NULL);
                TU_OK(ctxs[k], seqk_log_softmax(ctxs[k], axis, X, Y));
                float *got = oo_rd(Y);
                TU_ASSERT_CLOSE(got, want, (size_t)nx, 2e-5f, 2e-6f);
                free(got);
                seqk_tensor_destroy(X);
                seqk_tensor_destroy(Y);
            }
            free(x);
            free(want);
        }
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

/* ================================================================== Reduce */

static void check_reduce(seqk_context *ctx, seqk_context *rctx,
                         seqk_reduce_op op, int xn, const int64_t *xd,
                         int naxes, const int64_t *axes, int keep, int noop,
                         uint64_t seed)
{
    tu_rng r;
    tu_rng_init(&r, seed);
    int red[SEQK_MAX_DIMS] = {0};
    for (int i = 0; i < naxes; i++)
        red[axes[i] < 0 ? axes[i] + xn : axes[i]] = 1;
    if (naxes == 0)
        for (int i = 0; i < xn; i++)
            red[i] = !noop;
    int64_t yd[SEQK_MAX_DIMS], kd[SEQK_MAX_DIMS];
    int yn = 0, kn = 0;
    for (int i = 0; i < xn; i++) {
        if (!red[i] || keep)
            yd[yn++] = red[i] ? 1 : xd[i];
        kd[kn++] = red[i] ? 1 : xd[i];
    }
    const int64_t nx = oo_numel(xn, xd), ny = oo_numel(yn, yd);
    float *x = oo_rand(&r, SEQK_F32, nx, -3, 3, 0);
    double *acc = calloc((size_t)(ny ? ny : 1), sizeof *acc);
    int64_t *cnt = calloc((size_t)(ny ? ny : 1), sizeof *cnt);
    for (int64_t i = 0; i < ny; i++)
        acc[i] = op == SEQK_REDUCE_MAX ? -INFINITY : 0;
    int64_t idx[SEQK_MAX_DIMS];
    for (int64_t f = 0; f < nx; f++) {
        oo_unravel(f, xn, xd, idx);
        for (int i = 0; i < xn; i++)
            if (red[i])
                idx[i] = 0;
        const int64_t o = oo_ravel(kn, kd, idx);
        acc[o] = op == SEQK_REDUCE_MAX ? fmax(acc[o], x[f]) : acc[o] + x[f];
        cnt[o]++;
    }
    float *want = malloc((size_t)(ny ? ny : 1) * 4);
    for (int64_t i = 0; i < ny; i++)
        want[i] = (float)(op == SEQK_REDUCE_MEAN ? acc[i] / (double)cnt[i]
                                                 : acc[i]);
    seqk_reduce_params p;
    seqk_reduce_params_init(&p, op);
    p.naxes = naxes;
    p.axes = axes;
    p.keepdims = keep;
    p.noop_with_empty_axes = noop;
    seqk_context *cs[2] = {ctx, rctx};
    for (int k = 0; k < 2; k++) {
        seqk_tensor *X = oo_mk(cs[k], xn, xd, SEQK_F32, x);
        seqk_tensor *Y = oo_mk(cs[k], yn, yd, SEQK_F32, NULL);
        TU_OK(cs[k], seqk_reduce(cs[k], &p, X, Y));
        tu_assert_guard(Y);
        float *got = oo_rd(Y);
        char msg[256];
        ck_assert_msg(tu_close(got, want, (size_t)ny, 2e-5f, 2e-5f, msg,
                               sizeof msg), "reduce op %d on %s: %s",
                      (int)op, k ? "ref" : "device", msg);
        free(got);
        seqk_tensor_destroy(X);
        seqk_tensor_destroy(Y);
    }
    free(x);
    free(acc);
    free(cnt);
    free(want);
}

START_TEST(reduce_axes)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    static const struct { int n; int64_t d[4]; int na; int64_t ax[3]; } cs[] = {
        {2, {5, 37}, 1, {-1}},      {2, {5, 37}, 1, {0}},
        {3, {2, 3, 4}, 2, {0, 2}},  {3, {2, 3, 4}, 1, {1}},
        {4, {2, 3, 4, 5}, 2, {1, 2}}, {3, {4, 1, 17}, 1, {2}},
        {2, {3, 4}, 0, {0}},        {2, {1000, 3}, 1, {0}},
        {3, {3, 0, 2}, 1, {2}},     {1, {1}, 1, {0}},
    };
    const int nc = oo_small() ? 3 : (int)(sizeof cs / sizeof cs[0]);
    uint64_t seed = 1500;
    for (int op = 0; op < 3; op++)
        for (int c = 0; c < nc; c++)
            for (int keep = 0; keep < 2; keep++)
                check_reduce(ctx, rctx, (seqk_reduce_op)op, cs[c].n, cs[c].d,
                             cs[c].na, cs[c].ax, keep, 0, seed++);
    /* noop_with_empty_axes: Y = X */
    const int64_t d[2] = {3, 4};
    check_reduce(ctx, rctx, SEQK_REDUCE_SUM, 2, d, 0, NULL, 1, 1, seed++);
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

/* =============================================================== LayerNorm */

START_TEST(layer_norm_shapes)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    static const struct { int n; int64_t d[3]; int64_t axis; } cs[] = {
        {2, {4, 37}, -1}, {3, {2, 3, 16}, 1}, {2, {3, 1}, -1},
        {3, {2, 5, 8}, 0}, {2, {1, 1000}, 1}, {3, {0, 4, 7}, 2},
    };
    const int nc = oo_small() ? 3 : (int)(sizeof cs / sizeof cs[0]);
    uint64_t seed = 1800;
    for (int c = 0; c < nc; c++)
        for (int v = 0; v < 2; v++) {
            tu_rng r;
            tu_rng_init(&r, seed++);
            const int nd = cs[c].n;
            const int ax = (int)(cs[c].axis < 0 ? cs[c].axis + nd
                                                : cs[c].axis);
            int64_t rows = 1, n = 1, sd[3];
            for (int i = 0; i < nd; i++) {
                if (i < ax)
                    rows *= cs[c].d[i];
                else
                    n *= cs[c].d[i];
                sd[i] = i < ax ? cs[c].d[i] : 1;
            }
            float *x = oo_rand(&r, SEQK_F32, rows * n, -3, 5, 0);
            float *sc = oo_rand(&r, SEQK_F32, n, 0.5f, 2, 0);
            float *bi = oo_rand(&r, SEQK_F32, n, -1, 1, 0);
            float *want = malloc((size_t)(rows * n + 1) * 4);
            float *wm = malloc((size_t)(rows + 1) * 4);
            float *wi = malloc((size_t)(rows + 1) * 4);
            for (int64_t i = 0; i < rows; i++) {
                double m = 0, q = 0;
                for (int64_t j = 0; j < n; j++)
                    m += x[i * n + j];
                m /= (double)n;
                for (int64_t j = 0; j < n; j++)
                    q += (x[i * n + j] - m) * (x[i * n + j] - m);
                const double inv = 1 / sqrt(q / (double)n + 1e-5);
                for (int64_t j = 0; j < n; j++)
                    want[i * n + j] = (float)((x[i * n + j] - m) * inv * sc[j] +
                                              (v ? bi[j] : 0));
                wm[i] = (float)m;
                wi[i] = (float)inv;
            }
            seqk_layer_norm_params p;
            seqk_layer_norm_params_init(&p);
            p.axis = cs[c].axis;
            seqk_context *ctxs[2] = {ctx, rctx};
            for (int k = 0; k < 2; k++) {
                seqk_context *cc = ctxs[k];
                seqk_tensor *X = oo_mk(cc, nd, cs[c].d, SEQK_F32, x);
                seqk_tensor *S = oo_mk(cc, nd - ax, cs[c].d + ax, SEQK_F32,
                                       sc);
                seqk_tensor *B = v ? oo_mk(cc, nd - ax, cs[c].d + ax,
                                           SEQK_F32, bi) : NULL;
                seqk_tensor *Y = oo_mk(cc, nd, cs[c].d, SEQK_F32, NULL);
                seqk_tensor *M = v ? oo_mk(cc, nd, sd, SEQK_F32, NULL) : NULL;
                seqk_tensor *I = v ? oo_mk(cc, nd, sd, SEQK_F32, NULL) : NULL;
                TU_OK(cc, seqk_layer_norm(cc, &p, X, S, B, Y, M, I));
                tu_assert_guard(Y);
                float *got = oo_rd(Y);
                TU_ASSERT_CLOSE(got, want, (size_t)(rows * n), 3e-5f, 3e-5f);
                free(got);
                if (v) {
                    got = oo_rd(M);
                    TU_ASSERT_CLOSE(got, wm, (size_t)rows, 2e-5f, 2e-5f);
                    free(got);
                    got = oo_rd(I);
                    TU_ASSERT_CLOSE(got, wi, (size_t)rows, 2e-5f, 2e-5f);
                    free(got);
                }
                seqk_tensor *objs[] = {X, S, B, Y, M, I};
                for (int i = 0; i < 6; i++)
                    seqk_tensor_destroy(objs[i]);
            }
            free(x); free(sc); free(bi); free(want); free(wm); free(wi);
        }
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

/* ================================================================== Conv1d */

static void check_conv(seqk_context *ctx, seqk_context *rctx, int64_t N,
                       int64_t C, int64_t L, int64_t M, int64_t K,
                       const seqk_conv_params *cp, int bias, uint64_t seed)
{
    tu_rng r;
    tu_rng_init(&r, seed);
    const int64_t G = cp->group, cg = C / G, mg = M / G;
    int64_t pb = cp->pad_begin, pe = cp->pad_end;
    const int64_t ext = cp->dilation * (K - 1) + 1;
    if (cp->auto_pad == SEQK_AUTO_PAD_VALID) {
        pb = pe = 0;
    } else if (cp->auto_pad != SEQK_AUTO_PAD_NOTSET) {
        const int64_t out = (L + cp->stride - 1) / cp->stride;
        int64_t need = (out - 1) * cp->stride + ext - L;
        need = need < 0 ? 0 : need;
        pb = cp->auto_pad == SEQK_AUTO_PAD_SAME_UPPER ? need / 2
                                                       : (need + 1) / 2;
        pe = need - pb;
    }
    const int64_t lout = (L + pb + pe - ext) / cp->stride + 1;
    const int64_t xd[3] = {N, C, L}, wd[3] = {M, cg, K}, yd[3] = {N, M, lout};
    float *x = oo_rand(&r, SEQK_F32, N * C * L, -1, 1, 0);
    float *w = oo_rand(&r, SEQK_F32, M * cg * K, -1, 1, 0);
    float *b = oo_rand(&r, SEQK_F32, M, -1, 1, 0);
    float *want = malloc((size_t)(N * M * lout + 1) * 4);
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t t = 0; t < lout; t++) {
                double acc = bias ? b[m] : 0;
                for (int64_t c = 0; c < cg; c++)
                    for (int64_t k = 0; k < K; k++) {
                        const int64_t at = t * cp->stride + k * cp->dilation - pb;
                        if (at >= 0 && at < L)
                            acc += (double)w[(m * cg + c) * K + k] *
                                   x[(n * C + (m / mg) * cg + c) * L + at];
                    }
                want[(n * M + m) * lout + t] = (float)acc;
            }
    seqk_context *cs[2] = {ctx, rctx};
    for (int k = 0; k < 2; k++) {
        seqk_tensor *X = oo_mk(cs[k], 3, xd, SEQK_F32, x);
        seqk_tensor *W = oo_mk(cs[k], 3, wd, SEQK_F32, w);
        seqk_tensor *B = bias ? oo_mk(cs[k], 1, &M, SEQK_F32, b) : NULL;
        seqk_tensor *Y = oo_mk(cs[k], 3, yd, SEQK_F32, NULL);
        TU_OK(cs[k], seqk_conv1d(cs[k], cp, X, W, B, Y));
        tu_assert_guard(Y);
        float *got = oo_rd(Y);
        char msg[256];
        ck_assert_msg(tu_close(got, want, (size_t)(N * M * lout), 2e-5f,
                               2e-5f, msg, sizeof msg),
                      "Conv N%lld C%lld L%lld M%lld K%lld s%lld d%lld g%lld "
                      "auto %d on %s: %s", (long long)N, (long long)C,
                      (long long)L, (long long)M, (long long)K,
                      (long long)cp->stride, (long long)cp->dilation,
                      (long long)G, (int)cp->auto_pad, k ? "ref" : "device",
                      msg);
        free(got);
        seqk_tensor_destroy(X);
        seqk_tensor_destroy(W);
        seqk_tensor_destroy(B);
        seqk_tensor_destroy(Y);
    }
    free(x); free(w); free(b); free(want);
}

START_TEST(conv1d_shapes)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    static const struct {
        int64_t N, C, L, M, K, s, d, pb, pe, g; int ap;
    } cs[] = {
        {1, 3, 17, 5, 3, 1, 1, 1, 1, 1, 0}, {2, 4, 33, 8, 5, 2, 1, 2, 2, 1, 0},
        {1, 6, 20, 6, 3, 1, 2, 0, 0, 3, 0}, {2, 8, 9, 8, 3, 1, 1, 0, 0, 8, 0},
        {1, 3, 10, 4, 4, 3, 1, 0, 0, 1, 1}, {1, 3, 10, 4, 4, 3, 1, 0, 0, 1, 2},
        {1, 2, 7, 3, 3, 1, 1, 0, 0, 1, 3},  {3, 16, 40, 24, 1, 1, 1, 0, 0, 1, 0},
        {1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0},  {1, 5, 64, 7, 7, 1, 3, 9, 9, 1, 0},
    };
    const int nc = oo_small() ? 3 : (int)(sizeof cs / sizeof cs[0]);
    for (int c = 0; c < nc; c++) {
        seqk_conv_params p;
        seqk_conv_params_init(&p);
        p.stride = cs[c].s;
        p.dilation = cs[c].d;
        p.pad_begin = cs[c].pb;
        p.pad_end = cs[c].pe;
        p.group = cs[c].g;
        p.auto_pad = (seqk_auto_pad)cs[c].ap;
        check_conv(ctx, rctx, cs[c].N, cs[c].C, cs[c].L, cs[c].M, cs[c].K, &p,
                   c % 2 == 0, 2000 + (uint64_t)c);
    }
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

/* =============================================================== bad input */

START_TEST(onnx_ops_bad_input)
{
    if (oo_small())
        return;
    seqk_context *ctx = tu_context(_i);
    const int64_t d[2] = {3, 4}, d2[2] = {4, 3}, c3[3] = {1, 3, 4};
    seqk_tensor *X = oo_mk(ctx, 2, d, SEQK_F32, NULL);
    seqk_tensor *Y = oo_mk(ctx, 2, d, SEQK_F32, NULL);
    seqk_tensor *Yb = oo_mk(ctx, 2, d, SEQK_BOOL, NULL);
    seqk_tensor *Xi = oo_mk(ctx, 2, d, SEQK_I32, NULL);
    seqk_tensor *Y43 = oo_mk(ctx, 2, d2, SEQK_F32, NULL);
    seqk_elementwise_params p;
    seqk_elementwise_params_init(&p, SEQK_EW_LESS);
    TU_FAILS(ctx, seqk_elementwise(ctx, &p, X, X, Y), SEQK_ERR_DTYPE,
             "Less output has dtype f32; expected bool");
    TU_FAILS(ctx, seqk_elementwise(ctx, &p, X, Xi, Yb), SEQK_ERR_DTYPE,
             "Less input B has dtype i32 but A has f32");
    seqk_elementwise_params_init(&p, SEQK_EW_AND);
    TU_FAILS(ctx, seqk_elementwise(ctx, &p, X, X, Yb), SEQK_ERR_DTYPE,
             "And input A has dtype f32; expected bool");
    seqk_elementwise_params_init(&p, SEQK_EW_SQRT);
    TU_FAILS(ctx, seqk_elementwise(ctx, &p, Xi, NULL, Y), SEQK_ERR_DTYPE,
             "Sqrt input A has dtype i32; expected f32");
    TU_FAILS(ctx, seqk_where(ctx, X, X, X, Y), SEQK_ERR_DTYPE,
             "Where condition has dtype f32");
    TU_FAILS(ctx, seqk_where(ctx, Yb, X, Xi, Y), SEQK_ERR_DTYPE,
             "Where X, Y and output have dtypes f32, i32 and f32");
    TU_FAILS(ctx, seqk_where(ctx, Yb, X, Y43, Y), SEQK_ERR_SHAPE,
             "do not broadcast");
    TU_FAILS(ctx, seqk_cast(ctx, X, Y43), SEQK_ERR_SHAPE,
             "Cast output has shape [4,3]");
    TU_FAILS(ctx, seqk_log_softmax(ctx, 2, X, Y), SEQK_ERR_INVALID_ARG,
             "LogSoftmax axis 2 is outside [-2, 1]");
    seqk_reduce_params rp;
    seqk_reduce_params_init(&rp, SEQK_REDUCE_MEAN);
    const int64_t twice[2] = {1, -1}, far[1] = {2};
    rp.naxes = 2;
    rp.axes = twice;
    TU_FAILS(ctx, seqk_reduce(ctx, &rp, X, Y), SEQK_ERR_INVALID_ARG,
             "ReduceMean axis 1 appears twice");
    rp.naxes = 1;
    rp.axes = far;
    TU_FAILS(ctx, seqk_reduce(ctx, &rp, X, Y), SEQK_ERR_INVALID_ARG,
             "ReduceMean axis 2 is outside");
    rp.axes = NULL;
    TU_FAILS(ctx, seqk_reduce(ctx, &rp, X, Y), SEQK_ERR_INVALID_ARG,
             "axes is NULL");
    rp.naxes = 0;
    TU_FAILS(ctx, seqk_reduce(ctx, &rp, X, Y), SEQK_ERR_SHAPE,
             "ReduceMean output has shape [3,4]");
    seqk_layer_norm_params lp;
    seqk_layer_norm_params_init(&lp);
    TU_FAILS(ctx, seqk_layer_norm(ctx, &lp, X, X, NULL, Y, NULL, NULL),
             SEQK_ERR_SHAPE, "LayerNormalization scale has shape [3,4]");
    lp.axis = -3;
    TU_FAILS(ctx, seqk_layer_norm(ctx, &lp, X, X, NULL, Y, NULL, NULL),
             SEQK_ERR_INVALID_ARG, "axis -3 is outside");
    seqk_conv_params cp;
    seqk_conv_params_init(&cp);
    seqk_tensor *X3 = oo_mk(ctx, 3, c3, SEQK_F32, NULL);
    const int64_t wd[3] = {2, 2, 3}, wk[3] = {2, 3, 9}, yd[3] = {1, 2, 2};
    seqk_tensor *W = oo_mk(ctx, 3, wd, SEQK_F32, NULL);
    seqk_tensor *Wk = oo_mk(ctx, 3, wk, SEQK_F32, NULL);
    seqk_tensor *Y3 = oo_mk(ctx, 3, yd, SEQK_F32, NULL);
    TU_FAILS(ctx, seqk_conv1d(ctx, &cp, X3, W, NULL, Y3), SEQK_ERR_SHAPE,
             "does not fit input X [1,3,4]");
    TU_FAILS(ctx, seqk_conv1d(ctx, &cp, X3, Wk, NULL, Y3), SEQK_ERR_SHAPE,
             "longer than the padded input");
    cp.stride = 0;
    TU_FAILS(ctx, seqk_conv1d(ctx, &cp, X3, Wk, NULL, Y3),
             SEQK_ERR_INVALID_ARG, "must be >= 1");
    seqk_conv_params_init(&cp);
    cp.dilation = INT64_MAX / 2;
    TU_FAILS(ctx, seqk_conv1d(ctx, &cp, X3, Wk, NULL, Y3), SEQK_ERR_OVERFLOW,
             "overflows");
    seqk_tensor *objs[] = {X, Y, Yb, Xi, Y43, X3, W, Wk, Y3};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        seqk_tensor_destroy(objs[i]);
    seqk_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const int nd = tu_device_count();
    Suite *s = suite_create("onnx_ops");
    TCase *tc = tcase_create("onnx_ops");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, elementwise_math, 0, nd);
    tcase_add_loop_test(tc, elementwise_compare, 0, nd);
    tcase_add_loop_test(tc, where_broadcasting, 0, nd);
    tcase_add_loop_test(tc, cast_all_ways, 0, nd);
    tcase_add_loop_test(tc, log_softmax_axes, 0, nd);
    tcase_add_loop_test(tc, reduce_axes, 0, nd);
    tcase_add_loop_test(tc, layer_norm_shapes, 0, nd);
    tcase_add_loop_test(tc, conv1d_shapes, 0, nd);
    tcase_add_loop_test(tc, onnx_ops_bad_input, 0, nd);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
