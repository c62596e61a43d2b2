/*
 * test_tensor_ops.c — Gather, ArgMax, TopK, the element-wise ops and
 * Concat on every available device, each result against the reference
 * backend (a ref context beside the device's) and both against loops
 * written here; edge shapes (dims of 0 and 1, lengths around the vector
 * widths 4, 8, 16, primes), every axis, broadcasting edge cases, ties and
 * NaN; then each op's bad inputs (status and message).  Gather, ArgMax
 * and TopK here; the element-wise ops and Concat in test_tensor_ops_ew.c.
 *
 * Built twice (tests/meson.build): suite "tensor_ops" (the devices of
 * SEQK_TEST_DEVICES or every host device) and "opencl_tensor_ops"
 * (ref + opencl:0.0), which scripts/oclgrind.sh runs under Oclgrind with
 * SEQK_OCL_SMALL=1: fewer shapes, no errors provoked on purpose.
 */
#include "onnx_ops_util.h"

/* ================================================================ Gather */

static void check_gather(seqk_context *ctx, seqk_context *rctx, int nd,
                         const int64_t *dd, int64_t axis, int ind,
                         const int64_t *id, seqk_dtype dt, seqk_dtype it,
                         uint64_t seed)
{
    tu_rng r;
    tu_rng_init(&r, seed);
    int ax = (int)(axis < 0 ? axis + nd : axis);
    const int64_t n = dd[ax], nidx = oo_numel(ind, id);
    void *data = oo_rand(&r, dt, oo_numel(nd, dd), -4, 4, 0);
    int64_t *ids = malloc((size_t)(nidx ? nidx : 1) * 8);
    for (int64_t j = 0; j < nidx; j++) {
        int64_t v = (int64_t)(tu_uniform(&r, 0, 1) * (float)n);
        v = v >= n ? n - 1 : v;
        ids[j] = tu_uniform(&r, 0, 1) < 0.3f ? v - n : v; /* negative */
    }
    void *idsb = ids;
    int32_t *ids32 = NULL;
    if (it == SEQK_I32) {
        ids32 = malloc((size_t)(nidx ? nidx : 1) * 4);
        for (int64_t j = 0; j < nidx; j++)
            ids32[j] = (int32_t)ids[j];
        idsb = ids32;
    }
    int64_t od[SEQK_MAX_DIMS];
    int ond = 0;
    for (int i = 0; i < ax; i++)
        od[ond++] = dd[i];
    for (int i = 0; i < ind; i++)
        od[ond++] = id[i];
    for (int i = ax + 1; i < nd; i++)
        od[ond++] = dd[i];
    int64_t outer, inner;
    oo_around(nd, dd, ax, &outer, &inner);
    const size_t es = seqk_dtype_size(dt), row = (size_t)inner * es;
    unsigned char *want = malloc((size_t)oo_numel(ond, od) * es + 1);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < nidx; j++) {
            int64_t v = ids[j] < 0 ? ids[j] + n : ids[j];
            memcpy(want + (size_t)(o * nidx + j) * row,
                   (char *)data + (size_t)(o * n + v) * row, row);
        }
    seqk_context *cs[2] = {ctx, rctx};
    for (int c = 0; c < 2; c++) {
        seqk_tensor *D = oo_mk(cs[c], nd, dd, dt, data);
        seqk_tensor *I = oo_mk(cs[c], ind, id, it, idsb);
        seqk_tensor *O = oo_mk(cs[c], ond, od, dt, NULL);
        TU_OK(cs[c], seqk_gather(cs[c], axis, D, I, O));
        tu_assert_guard(O);
        void *got = oo_rd(O);
        ck_assert_msg(!memcmp(got, want, seqk_tensor_bytes(O)),
                      "gather %s: data rank %d axis %lld, %lld ids (%s)",
                      c ? "ref" : "device", nd, (long long)axis,
                      (long long)nidx, it == SEQK_I32 ? "i32" : "i64");
        free(got);
        seqk_tensor_destroy(D);
        seqk_tensor_destroy(I);
        seqk_tensor_destroy(O);
    }
    free(data); free(ids); free(ids32); free(want);
}

START_TEST(gather_shapes)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    /* embedding [V,E] with ids [B] and [B,T]; edge dims */
    static const struct { int nd; int64_t d[3]; int ind; int64_t id[2]; } cs[] = {
        {2, {50, 16}, 1, {5}},   {2, {50, 17}, 2, {3, 4}},
        {1, {7}, 0, {0}},        {3, {3, 5, 4}, 1, {6}},
        {3, {2, 1, 3}, 2, {2, 2}}, {2, {4, 0}, 1, {3}},
        {2, {4, 3}, 1, {0}},     {3, {5, 9, 1}, 2, {1, 1}},
    };
    const int nc = oo_small() ? 3 : (int)(sizeof cs / sizeof cs[0]);
    static const seqk_dtype dts[] = {SEQK_F32, SEQK_I64, SEQK_BOOL, SEQK_I32};
    uint64_t seed = 1;
    for (int c = 0; c < nc; c++)
        for (int64_t ax = -cs[c].nd; ax < cs[c].nd; ax++) {
            if (cs[c].d[ax < 0 ? ax + cs[c].nd : ax] == 0)
                continue; /* no id is valid on an empty axis */
            for (int t = 0; t < (oo_small() ? 2 : 4); t++)
                check_gather(ctx, rctx, cs[c].nd, cs[c].d, ax, cs[c].ind,
                             cs[c].id, dts[t],
                             t % 2 ? SEQK_I32 : SEQK_I64, seed++);
        }
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

/* Gather, then a synchronization: where a device reports bad ids. */
static seqk_status gather_sync(seqk_context *ctx, int64_t axis,
                               const seqk_tensor *data,
                               const seqk_tensor *ids, seqk_tensor *out)
{
    seqk_status st = seqk_gather(ctx, axis, data, ids, out);
    return st ? st : seqk_context_synchronize(ctx);
}

START_TEST(gather_bad_input)
{
    if (oo_small())
        return;
    seqk_context *ctx = tu_context(_i);
    const int64_t dd[2] = {5, 3}, id[2] = {2, 2}, od[3] = {2, 2, 3};
    const int64_t ids[4] = {0, -5, 4, 5}, ids2[4] = {0, -6, 1, 2};
    const int32_t ids32[4] = {1, 2, 3, 2147483647};
    seqk_tensor *D = oo_mk(ctx, 2, dd, SEQK_F32, NULL);
    seqk_tensor *I = oo_mk(ctx, 2, id, SEQK_I64, ids);
    seqk_tensor *I2 = oo_mk(ctx, 2, id, SEQK_I64, ids2);
    seqk_tensor *I32 = oo_mk(ctx, 2, id, SEQK_I32, ids32);
    seqk_tensor *F = oo_mk(ctx, 2, id, SEQK_F32, NULL);
    seqk_tensor *O = oo_mk(ctx, 3, od, SEQK_F32, NULL);
    seqk_tensor *Oi = oo_mk(ctx, 3, od, SEQK_I32, NULL);
    TU_FAILS(ctx, gather_sync(ctx, 0, D, I, O), SEQK_ERR_INVALID_ARG,
             "Gather index 5 at indices[1,1] is outside [-5, 4]");
    TU_FAILS(ctx, gather_sync(ctx, 0, D, I2, O), SEQK_ERR_INVALID_ARG,
             "Gather index -6 at indices[0,1]");
    TU_FAILS(ctx, gather_sync(ctx, -2, D, I32, O), SEQK_ERR_INVALID_ARG,
             "Gather index 2147483647 at indices[1,1]");
    if (!strncmp(seqk_context_device(ctx), "opencl", 6)) {
        /* On a device the check is reported at the next synchronization
         * (no host wait per Gather): by a read, or by the first of
         * several calls' bad ids; a good call in between is no error. */
        const int64_t ok[4] = {0, 1, 2, 3};
        seqk_tensor *G = oo_mk(ctx, 2, id, SEQK_I64, ok);
        float out[12];
        TU_OK(ctx, seqk_gather(ctx, 0, D, I, O));
        TU_FAILS(ctx, seqk_tensor_read(O, out, sizeof out),
                 SEQK_ERR_INVALID_ARG, "Gather index 5 at indices[1,1]");
        TU_OK(ctx, seqk_gather(ctx, 0, D, G, O));
        TU_OK(ctx, seqk_gather(ctx, 0, D, I2, O));
        TU_OK(ctx, seqk_gather(ctx, 0, D, I, O));
        TU_FAILS(ctx, seqk_context_synchronize(ctx), SEQK_ERR_INVALID_ARG,
                 "Gather index -6 at indices[0,1]");
        TU_OK(ctx, seqk_context_synchronize(ctx)); /* reported once */
        /* more calls than flag slots between synchronizations */
        for (int i = 0; i < 200; i++)
            TU_OK(ctx, seqk_gather(ctx, 0, D, G, O));
        TU_OK(ctx, seqk_tensor_read(O, out, sizeof out));
        seqk_tensor_destroy(G);
    }
    TU_FAILS(ctx, seqk_gather(ctx, 0, D, F, O), SEQK_ERR_DTYPE,
             "expected i32 or i64");
    TU_FAILS(ctx, seqk_gather(ctx, 0, D, I, Oi), SEQK_ERR_DTYPE,
             "Gather output has dtype i32");
    TU_FAILS(ctx, seqk_gather(ctx, 2, D, I, O), SEQK_ERR_INVALID_ARG,
             "Gather axis 2 is outside [-2, 1]");
    TU_FAILS(ctx, seqk_gather(ctx, 1, D, I, O), SEQK_ERR_SHAPE,
             "Gather output has shape [2,2,3]");
    TU_FAILS(ctx, seqk_gather(ctx, 0, D, NULL, O), SEQK_ERR_INVALID_ARG,
             "Gather indices is NULL");
    seqk_tensor *objs[] = {D, I, I2, I32, F, O, Oi};
    OO_DESTROY(objs);
    seqk_context_destroy(ctx);
}
END_TEST

/* ================================================================ ArgMax */

static int greater(float a, float b)
{
    if (isnan(a))
        return !isnan(b);
    return !isnan(b) && a > b;
}

static void check_argmax(seqk_context *ctx, seqk_context *rctx, int nd,
                         const int64_t *d, int64_t axis, int keep, int last,
                         int ties, int nans, uint64_t seed)
{
    tu_rng r;
    tu_rng_init(&r, seed);
    const int ax = (int)(axis < 0 ? axis + nd : axis);
    const int64_t n = d[ax];
    float *x = oo_rand(&r, SEQK_F32, oo_numel(nd, d), -4, 4, ties);
    for (int i = 0; i < nans && oo_numel(nd, d) > 0; i++)
        x[(int64_t)(tu_uniform(&r, 0, 0.999f) * (float)oo_numel(nd, d))] = NAN;
    int64_t outer, inner, yd[SEQK_MAX_DIMS];
    oo_around(nd, d, ax, &outer, &inner);
    int ynd = 0;
    for (int i = 0; i < nd; i++)
        if (i != ax)
            yd[ynd++] = d[i];
        else if (keep)
            yd[ynd++] = 1;
    int64_t *want = malloc((size_t)(outer * inner + 1) * 8);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < inner; c++) {
            int64_t b = 0;
            for (int64_t i = 1; i < n; i++) {
                float v = x[(o * n + i) * inner + c];
                float bv = x[(o * n + b) * inner + c];
                if (greater(v, bv) || (last && !greater(bv, v)))
                    b = i;
            }
            want[o * inner + c] = b;
        }
    seqk_argmax_params p;
    seqk_argmax_params_init(&p);
    p.axis = axis;
    p.keepdims = keep;
    p.select_last_index = last;
    seqk_context *cs[2] = {ctx, rctx};
    for (int c = 0; c < 2; c++) {
        seqk_tensor *X = oo_mk(cs[c], nd, d, SEQK_F32, x);
        seqk_tensor *Y = oo_mk(cs[c], ynd, yd, SEQK_I64, NULL);
        TU_OK(cs[c], seqk_argmax(cs[c], &p, X, Y));
        tu_assert_guard(Y);
        int64_t *got = oo_rd(Y);
        for (int64_t i = 0; i < outer * inner; i++)
            ck_assert_msg(got[i] == want[i],
                          "argmax %s n=%lld axis %lld last %d: [%lld] got "
                          "%lld want %lld", c ? "ref" : "device",
                          (long long)n, (long long)axis, last, (long long)i,
                          (long long)got[i], (long long)want[i]);
        free(got);
        seqk_tensor_destroy(X);
        seqk_tensor_destroy(Y);
    }
    free(x);
    free(want);
}

START_TEST(argmax_shapes)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    static const int64_t rows[] = {1, 3, 7, 8, 9, 16, 17, 33, 100, 1000};
    const int nr = oo_small() ? 5 : (int)(sizeof rows / sizeof rows[0]);
    uint64_t seed = 7;
    for (int k = 0; k < nr; k++)
        for (int v = 0; v < 4; v++) {
            const int64_t d2[2] = {3, rows[k]};
            check_argmax(ctx, rctx, 2, d2, -1, v & 1, v >> 1, v & 1, 0,
                         seed++);
            check_argmax(ctx, rctx, 2, d2, -1, 1, v & 1, 1, v >> 1,
                         seed++);
            const int64_t d3[3] = {2, rows[k], 5};
            check_argmax(ctx, rctx, 3, d3, 1, v & 1, v >> 1, v & 1, v >> 1,
                         seed++);
        }
    const int64_t d1[1] = {1}, d0[3] = {0, 4, 2}, dinf[1] = {20};
    check_argmax(ctx, rctx, 1, d1, 0, 0, 0, 0, 0, 1);
    check_argmax(ctx, rctx, 3, d0, 2, 1, 1, 0, 0, 2);
    check_argmax(ctx, rctx, 1, dinf, 0, 1, 0, 0, 0, 3);
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

/* ============================================================== TopK */

static void check_topk(seqk_context *ctx, seqk_context *rctx, int nd,
                       const int64_t *d, int64_t axis, int64_t k,
                       int largest, int ties, uint64_t seed)
{
    tu_rng r;
    tu_rng_init(&r, seed);
    const int ax = (int)(axis < 0 ? axis + nd : axis);
    const int64_t n = d[ax];
    float *x = oo_rand(&r, SEQK_F32, oo_numel(nd, d), -4, 4, ties);
    if (ties && oo_numel(nd, d) > 2)
        x[1] = NAN;
    int64_t outer, inner, od[SEQK_MAX_DIMS];
    oo_around(nd, d, ax, &outer, &inner);
    for (int i = 0; i < nd; i++)
        od[i] = i == ax ? k : d[i];
    const int64_t on = outer * k * inner;
    float *wv = malloc((size_t)(on + 1) * 4);
    int64_t *wi = malloc((size_t)(on + 1) * 8);
    char *used = malloc((size_t)n + 1);
    /* selection: the best unused item, ties to the lower index */
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < inner; c++) {
            memset(used, 0, (size_t)n + 1);
            for (int64_t j = 0; j < k; j++) {
                int64_t b = -1;
                for (int64_t i = 0; i < n; i++) {
                    if (used[i])
                        continue;
                    float v = x[(o * n + i) * inner + c];
                    if (b < 0) {
                        b = i;
                        continue;
                    }
                    float bv = x[(o * n + b) * inner + c];
                    if (largest ? greater(v, bv) : greater(bv, v))
                        b = i;
                }
                used[b] = 1;
                wv[(o * k + j) * inner + c] = x[(o * n + b) * inner + c];
                wi[(o * k + j) * inner + c] = b;
            }
        }
    seqk_topk_params p;
    seqk_topk_params_init(&p, k);
    p.axis = axis;
    p.largest = largest;
    seqk_context *cs[2] = {ctx, rctx};
    for (int c = 0; c < 2; c++) {
        seqk_tensor *X = oo_mk(cs[c], nd, d, SEQK_F32, x);
        seqk_tensor *V = oo_mk(cs[c], nd, od, SEQK_F32, NULL);
        seqk_tensor *I = oo_mk(cs[c], nd, od, SEQK_I64, NULL);
        TU_OK(cs[c], seqk_topk(cs[c], &p, X, V, I));
        tu_assert_guard(V);
        tu_assert_guard(I);
        float *gv = oo_rd(V);
        int64_t *gi = oo_rd(I);
        for (int64_t i = 0; i < on; i++)
            ck_assert_msg(gi[i] == wi[i] &&
                              (gv[i] == wv[i] || (isnan(gv[i]) &&
                                                  isnan(wv[i]))),
                          "topk %s n=%lld k=%lld axis %lld largest %d: [%lld]"
                          " got %g@%lld want %g@%lld", c ? "ref" : "device",
                          (long long)n, (long long)k, (long long)axis,
                          largest, (long long)i, gv[i], (long long)gi[i],
                          wv[i], (long long)wi[i]);
        free(gv);
        free(gi);
        seqk_tensor_destroy(X);
        seqk_tensor_destroy(V);
        seqk_tensor_destroy(I);
    }
    free(x); free(wv); free(wi); free(used);
}

START_TEST(topk_shapes)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    static const int64_t rows[] = {1, 2, 7, 9, 17, 64};
    const int nr = oo_small() ? 3 : (int)(sizeof rows / sizeof rows[0]);
    uint64_t seed = 11;
    for (int q = 0; q < nr; q++) {
        const int64_t n = rows[q];
        const int64_t ks[] = {0, 1, n / 2, n};
        for (int kk = 0; kk < 4; kk++)
            for (int v = 0; v < 4; v++) {
                const int64_t d2[2] = {4, n};
                check_topk(ctx, rctx, 2, d2, -1, ks[kk], v & 1, v >> 1,
                           seed++);
                const int64_t d3[3] = {2, n, 3};
                check_topk(ctx, rctx, 3, d3, 1, ks[kk], v & 1, v >> 1,
                           seed++);
            }
    }
    const int64_t d0[2] = {0, 5};
    check_topk(ctx, rctx, 2, d0, 1, 2, 1, 0, 1);
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

/* ONNX TopK's example: ties go to the lower index. */
START_TEST(topk_onnx_example)
{
    seqk_context *ctx = tu_context(_i);
    const int64_t d[2] = {3, 4}, od[2] = {3, 3};
    const float x[12] = {0, 1, 2, 3, 4, 5, 6, 7, 11, 10, 9, 8};
    const float wv[9] = {3, 2, 1, 7, 6, 5, 11, 10, 9};
    const int64_t wi[9] = {3, 2, 1, 3, 2, 1, 0, 1, 2};
    seqk_tensor *X = oo_mk(ctx, 2, d, SEQK_F32, x);
    seqk_tensor *V = oo_mk(ctx, 2, od, SEQK_F32, NULL);
    seqk_tensor *I = oo_mk(ctx, 2, od, SEQK_I64, NULL);
    seqk_topk_params p;
    seqk_topk_params_init(&p, 3);
    TU_OK(ctx, seqk_topk(ctx, &p, X, V, I));
    float *gv = oo_rd(V);
    int64_t *gi = oo_rd(I);
    for (int i = 0; i < 9; i++)
        ck_assert(gv[i] == wv[i] && gi[i] == wi[i]);
    free(gv);
    free(gi);
    seqk_tensor_destroy(X);
    seqk_tensor_destroy(V);
    seqk_tensor_destroy(I);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(argmax_topk_bad_input)
{
    if (oo_small())
        return;
    seqk_context *ctx = tu_context(_i);
    const int64_t d[2] = {3, 4}, d1[2] = {3, 1}, d5[2] = {3, 5};
    seqk_tensor *X = oo_mk(ctx, 2, d, SEQK_F32, NULL);
    seqk_tensor *Y = oo_mk(ctx, 2, d1, SEQK_I64, NULL);
    seqk_tensor *Y32 = oo_mk(ctx, 2, d1, SEQK_I32, NULL);
    seqk_tensor *V5 = oo_mk(ctx, 2, d5, SEQK_F32, NULL);
    seqk_tensor *I5 = oo_mk(ctx, 2, d5, SEQK_I64, NULL);
    seqk_tensor *V = oo_mk(ctx, 2, d, SEQK_F32, NULL);
    seqk_tensor *I32 = oo_mk(ctx, 2, d, SEQK_I32, NULL);
    seqk_argmax_params a;
    seqk_argmax_params_init(&a);
    a.axis = 1;
    TU_FAILS(ctx, seqk_argmax(ctx, &a, X, Y32), SEQK_ERR_DTYPE,
             "ArgMax output has dtype i32; expected i64");
    a.axis = 2;
    TU_FAILS(ctx, seqk_argmax(ctx, &a, X, Y), SEQK_ERR_INVALID_ARG,
             "ArgMax axis 2 is outside [-2, 1]");
    a.axis = 0;
    TU_FAILS(ctx, seqk_argmax(ctx, &a, X, Y), SEQK_ERR_SHAPE,
             "ArgMax output has shape [3,1]");
    const int64_t e[2] = {0, 4}, e1[1] = {4};
    seqk_tensor *E = oo_mk(ctx, 2, e, SEQK_F32, NULL);
    seqk_tensor *Ey = oo_mk(ctx, 1, e1, SEQK_I64, NULL);
    a.keepdims = 0;
    TU_FAILS(ctx, seqk_argmax(ctx, &a, E, Ey), SEQK_ERR_SHAPE,
             "ArgMax over axis 0 of input [0,4], which is empty");
    seqk_tensor_destroy(E);
    seqk_tensor_destroy(Ey);
    a.struct_size = 4;
    TU_FAILS(ctx, seqk_argmax(ctx, &a, X, Y), SEQK_ERR_INVALID_ARG,
             "struct_size");
    seqk_topk_params p;
    seqk_topk_params_init(&p, 5);
    TU_FAILS(ctx, seqk_topk(ctx, &p, X, V5, I5), SEQK_ERR_INVALID_ARG,
             "TopK k = 5 is outside 0..4");
    p.k = -1;
    TU_FAILS(ctx, seqk_topk(ctx, &p, X, V5, I5), SEQK_ERR_INVALID_ARG,
             "TopK k = -1");
    p.k = 4;
    TU_FAILS(ctx, seqk_topk(ctx, &p, X, V, I32), SEQK_ERR_DTYPE,
             "TopK indices has dtype i32");
    TU_FAILS(ctx, seqk_topk(ctx, &p, X, V, NULL), SEQK_ERR_INVALID_ARG,
             "TopK indices is NULL");
    p.k = 3;
    TU_FAILS(ctx, seqk_topk(ctx, &p, X, V, I5), SEQK_ERR_SHAPE,
             "TopK values has shape [3,4]");
    seqk_tensor *objs[] = {X, Y, Y32, V5, I5, V, I32};
    OO_DESTROY(objs);
    seqk_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tensor_ops");
    TCase *tc = tcase_create("tensor_ops");
    int nd = tu_device_count();
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, gather_shapes, 0, nd);
    tcase_add_loop_test(tc, gather_bad_input, 0, nd);
    tcase_add_loop_test(tc, argmax_shapes, 0, nd);
    tcase_add_loop_test(tc, topk_shapes, 0, nd);
    tcase_add_loop_test(tc, topk_onnx_example, 0, nd);
    tcase_add_loop_test(tc, argmax_topk_bad_input, 0, nd);
    tensor_ops_ew_tests(tc, nd);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
