/*
 * test_onnx_ops.c — the ONNX ops of the model runner that compute:
 * the element-wise extensions (Pow, Sqrt, ..., Clip; comparisons and
 * logic into bool), Where, Cast, LogSoftmax, ReduceSum/Mean/Max,
 * LayerNormalization and Conv1d, on every available device and on ref,
 * each against loops written here (double precision) over edge shapes
 * (dims of 0 and 1, broadcasting, negative axes, lengths around the
 * vector widths); then bad inputs.  LogSoftmax, Reduce, LayerNorm and
 * Conv1d are in test_onnx_ops_nn.c; layout ops: test_onnx_ops_layout.c.
 *
 * Built twice (tests/meson.build): suite "onnx_ops" and "opencl_onnx_ops"
 * (ref + opencl:0.0; under Oclgrind with SEQK_OCL_SMALL=1).
 */
#include <stdio.h>

#include "onnx_ops_util.h"

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
    const int yn = oo_bshape(an, ad, bn, bd, yd);
    const int64_t na = oo_numel(an, ad), nb = oo_numel(bn, bd);
    const int64_t ny = oo_numel(yn, yd);
    const int pos = op == SEQK_EW_SQRT || op == SEQK_EW_LOG ||
                    op == SEQK_EW_POW;
    float *a = oo_rand(&r, SEQK_F32, na, pos ? 0.01f : -4, 4, 0);
    float *b = oo_rand(&r, SEQK_F32, nb, -3, 3, 0);
    float *want = malloc((size_t)(ny ? ny : 1) * 4);
    for (int64_t y = 0; y < ny; y++)
        want[y] = (float)naive_f32(op, a[oo_bsrc(y, yn, yd, an, ad)],
                                   bin ? b[oo_bsrc(y, yn, yd, bn, bd)] : 0, al,
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
                const int yn = oo_bshape(an, bc[c].a, bn, bc[c].b, yd);
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
                            dt, a, oo_bsrc(y, yn, yd, an, bc[c].a));
                        const double v = bin ? value_at(
                            dt, b, oo_bsrc(y, yn, yd, bn, bc[c].b)) : 0;
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
            int tn = oo_bshape(cs[c].n[0], cs[c].d[0], cs[c].n[1], cs[c].d[1],
                            t1);
            const int yn = oo_bshape(tn, t1, cs[c].n[2], cs[c].d[2], yd);
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
                    const int64_t ic = oo_bsrc(o, yn, yd, cs[c].n[0],
                                            cs[c].d[0]);
                    const int64_t ix = oo_bsrc(o, yn, yd, cs[c].n[1],
                                            cs[c].d[1]);
                    const int64_t iy = oo_bsrc(o, yn, yd, cs[c].n[2],
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
                OO_DESTROY(objs);
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
    OO_DESTROY(objs);
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
    onnx_ops_nn_tests(tc, nd);
    tcase_add_loop_test(tc, onnx_ops_bad_input, 0, nd);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
