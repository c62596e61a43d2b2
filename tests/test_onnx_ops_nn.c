/*
 * test_onnx_ops_nn.c — LogSoftmax, ReduceSum/Mean/Max, LayerNormalization
 * and Conv1d of the onnx_ops suites (test_onnx_ops.c has the element-wise
 * ops, Where, Cast, the bad inputs and main): on the device and on ref,
 * each against loops written here in double precision, over every axis
 * and edge shapes.
 */
#include <stdio.h>

#include "onnx_ops_util.h"

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
                OO_DESTROY(objs);
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

void onnx_ops_nn_tests(TCase *tc, int nd)
{
    tcase_add_loop_test(tc, log_softmax_axes, 0, nd);
    tcase_add_loop_test(tc, reduce_axes, 0, nd);
    tcase_add_loop_test(tc, layer_norm_shapes, 0, nd);
    tcase_add_loop_test(tc, conv1d_shapes, 0, nd);
}
