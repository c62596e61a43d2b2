/*
 * test_tensor_ops.c — Gather, ArgMax, TopK, the element-wise ops and
 * Concat on every available device, each result against the reference
 * backend (a ref context beside the device's) and both against loops
 * written here; edge shapes (dims of 0 and 1, lengths around the vector
 * widths 4, 8, 16, primes), every axis, broadcasting edge cases, ties and
 * NaN; then each op's bad inputs (status and message).
 *
 * Built twice (tests/meson.build): suite "tensor_ops" (the devices of
 * SEQK_TEST_DEVICES or every host device) and "opencl_tensor_ops"
 * (ref + opencl:0.0), which scripts/oclgrind.sh runs under Oclgrind with
 * SEQK_OCL_SMALL=1: fewer shapes, no errors provoked on purpose.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static int small_only(void) { return getenv("SEQK_OCL_SMALL") != NULL; }

static seqk_context *ref_ctx(void)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = "ref";
    seqk_context *ctx = NULL;
    ck_assert_msg(seqk_context_create(&o, &ctx) == SEQK_OK, "ref context");
    return ctx;
}

static seqk_tensor *mk(seqk_context *ctx, int ndim, const int64_t *dims,
                       seqk_dtype dt, const void *data)
{
    seqk_tensor *t = NULL;
    TU_OK(ctx, seqk_tensor_create(ctx, ndim, dims, dt, &t));
    if (data)
        TU_OK(ctx, seqk_tensor_write(t, data, seqk_tensor_bytes(t)));
    return t;
}

static void *rd(const seqk_tensor *t)
{
    size_t n = seqk_tensor_bytes(t);
    void *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(seqk_tensor_read(t, p, n), SEQK_OK);
    return p;
}

static int64_t numel(int nd, const int64_t *d)
{
    int64_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= d[i];
    return n;
}

static void around(int nd, const int64_t *d, int ax, int64_t *outer,
                   int64_t *inner)
{
    *outer = *inner = 1;
    for (int i = 0; i < ax; i++)
        *outer *= d[i];
    for (int i = ax + 1; i < nd; i++)
        *inner *= d[i];
}

/* Random bytes for any dtype (bool 0/1); floats from a few levels when
 * ties is set. */
static void *rand_data(tu_rng *r, seqk_dtype dt, int64_t n, int ties)
{
    size_t es = seqk_dtype_size(dt);
    unsigned char *p = malloc((size_t)(n ? n : 1) * es);
    for (int64_t i = 0; i < n; i++) {
        float u = tu_uniform(r, -4, 4);
        if (ties)
            u = floorf(u);
        switch (dt) {
        case SEQK_F32: ((float *)p)[i] = u; break;
        case SEQK_I32: ((int32_t *)p)[i] = (int32_t)(u * 1000); break;
        case SEQK_I64:
            ((int64_t *)p)[i] = (int64_t)(u * 1e6) * 1000003LL;
            break;
        default: p[i] = u > 0; break;
        }
    }
    return p;
}

/* ================================================================ Gather */

static void check_gather(seqk_context *ctx, seqk_context *rctx, int nd,
                         const int64_t *dd, int64_t axis, int ind,
                         const int64_t *id, seqk_dtype dt, seqk_dtype it,
                         uint64_t seed)
{
    tu_rng r;
    tu_rng_init(&r, seed);
    int ax = (int)(axis < 0 ? axis + nd : axis);
    const int64_t n = dd[ax], nidx = numel(ind, id);
    void *data = rand_data(&r, dt, numel(nd, dd), 0);
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
    around(nd, dd, ax, &outer, &inner);
    const size_t es = seqk_dtype_size(dt), row = (size_t)inner * es;
    unsigned char *want = malloc((size_t)numel(ond, od) * es + 1);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < nidx; j++) {
            int64_t v = ids[j] < 0 ? ids[j] + n : ids[j];
            memcpy(want + (size_t)(o * nidx + j) * row,
                   (char *)data + (size_t)(o * n + v) * row, row);
        }
    seqk_context *cs[2] = {ctx, rctx};
    for (int c = 0; c < 2; c++) {
        seqk_tensor *D = mk(cs[c], nd, dd, dt, data);
        seqk_tensor *I = mk(cs[c], ind, id, it, idsb);
        seqk_tensor *O = mk(cs[c], ond, od, dt, NULL);
        TU_OK(cs[c], seqk_gather(cs[c], axis, D, I, O));
        tu_assert_guard(O);
        void *got = rd(O);
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
    seqk_context *ctx = tu_context(_i), *rctx = ref_ctx();
    /* embedding [V,E] with ids [B] and [B,T]; edge dims */
    static const struct { int nd; int64_t d[3]; int ind; int64_t id[2]; } cs[] = {
        {2, {50, 16}, 1, {5}},   {2, {50, 17}, 2, {3, 4}},
        {1, {7}, 0, {0}},        {3, {3, 5, 4}, 1, {6}},
        {3, {2, 1, 3}, 2, {2, 2}}, {2, {4, 0}, 1, {3}},
        {2, {4, 3}, 1, {0}},     {3, {5, 9, 1}, 2, {1, 1}},
    };
    const int nc = small_only() ? 3 : (int)(sizeof cs / sizeof cs[0]);
    static const seqk_dtype dts[] = {SEQK_F32, SEQK_I64, SEQK_BOOL, SEQK_I32};
    uint64_t seed = 1;
    for (int c = 0; c < nc; c++)
        for (int64_t ax = -cs[c].nd; ax < cs[c].nd; ax++) {
            if (cs[c].d[ax < 0 ? ax + cs[c].nd : ax] == 0)
                continue; /* no id is valid on an empty axis */
            for (int t = 0; t < (small_only() ? 2 : 4); t++)
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
    if (small_only())
        return;
    seqk_context *ctx = tu_context(_i);
    const int64_t dd[2] = {5, 3}, id[2] = {2, 2}, od[3] = {2, 2, 3};
    const int64_t ids[4] = {0, -5, 4, 5}, ids2[4] = {0, -6, 1, 2};
    const int32_t ids32[4] = {1, 2, 3, 2147483647};
    seqk_tensor *D = mk(ctx, 2, dd, SEQK_F32, NULL);
    seqk_tensor *I = mk(ctx, 2, id, SEQK_I64, ids);
    seqk_tensor *I2 = mk(ctx, 2, id, SEQK_I64, ids2);
    seqk_tensor *I32 = mk(ctx, 2, id, SEQK_I32, ids32);
    seqk_tensor *F = mk(ctx, 2, id, SEQK_F32, NULL);
    seqk_tensor *O = mk(ctx, 3, od, SEQK_F32, NULL);
    seqk_tensor *Oi = mk(ctx, 3, od, SEQK_I32, NULL);
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
        seqk_tensor *G = mk(ctx, 2, id, SEQK_I64, ok);
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
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        seqk_tensor_destroy(objs[i]);
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
    float *x = rand_data(&r, SEQK_F32, numel(nd, d), ties);
    for (int i = 0; i < nans && numel(nd, d) > 0; i++)
        x[(int64_t)(tu_uniform(&r, 0, 0.999f) * (float)numel(nd, d))] = NAN;
    int64_t outer, inner, yd[SEQK_MAX_DIMS];
    around(nd, d, ax, &outer, &inner);
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
        seqk_tensor *X = mk(cs[c], nd, d, SEQK_F32, x);
        seqk_tensor *Y = mk(cs[c], ynd, yd, SEQK_I64, NULL);
        TU_OK(cs[c], seqk_argmax(cs[c], &p, X, Y));
        tu_assert_guard(Y);
        int64_t *got = rd(Y);
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
    seqk_context *ctx = tu_context(_i), *rctx = ref_ctx();
    static const int64_t rows[] = {1, 3, 7, 8, 9, 16, 17, 33, 100, 1000};
    const int nr = small_only() ? 5 : (int)(sizeof rows / sizeof rows[0]);
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
    float *x = rand_data(&r, SEQK_F32, numel(nd, d), ties);
    if (ties && numel(nd, d) > 2)
        x[1] = NAN;
    int64_t outer, inner, od[SEQK_MAX_DIMS];
    around(nd, d, ax, &outer, &inner);
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
        seqk_tensor *X = mk(cs[c], nd, d, SEQK_F32, x);
        seqk_tensor *V = mk(cs[c], nd, od, SEQK_F32, NULL);
        seqk_tensor *I = mk(cs[c], nd, od, SEQK_I64, NULL);
        TU_OK(cs[c], seqk_topk(cs[c], &p, X, V, I));
        tu_assert_guard(V);
        tu_assert_guard(I);
        float *gv = rd(V);
        int64_t *gi = rd(I);
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
    seqk_context *ctx = tu_context(_i), *rctx = ref_ctx();
    static const int64_t rows[] = {1, 2, 7, 9, 17, 64};
    const int nr = small_only() ? 3 : (int)(sizeof rows / sizeof rows[0]);
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
    seqk_tensor *X = mk(ctx, 2, d, SEQK_F32, x);
    seqk_tensor *V = mk(ctx, 2, od, SEQK_F32, NULL);
    seqk_tensor *I = mk(ctx, 2, od, SEQK_I64, NULL);
    seqk_topk_params p;
    seqk_topk_params_init(&p, 3);
    TU_OK(ctx, seqk_topk(ctx, &p, X, V, I));
    float *gv = rd(V);
    int64_t *gi = rd(I);
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
    if (small_only())
        return;
    seqk_context *ctx = tu_context(_i);
    const int64_t d[2] = {3, 4}, d1[2] = {3, 1}, d5[2] = {3, 5};
    seqk_tensor *X = mk(ctx, 2, d, SEQK_F32, NULL);
    seqk_tensor *Y = mk(ctx, 2, d1, SEQK_I64, NULL);
    seqk_tensor *Y32 = mk(ctx, 2, d1, SEQK_I32, NULL);
    seqk_tensor *V5 = mk(ctx, 2, d5, SEQK_F32, NULL);
    seqk_tensor *I5 = mk(ctx, 2, d5, SEQK_I64, NULL);
    seqk_tensor *V = mk(ctx, 2, d, SEQK_F32, NULL);
    seqk_tensor *I32 = mk(ctx, 2, d, SEQK_I32, NULL);
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
    seqk_tensor *E = mk(ctx, 2, e, SEQK_F32, NULL);
    seqk_tensor *Ey = mk(ctx, 1, e1, SEQK_I64, NULL);
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
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        seqk_tensor_destroy(objs[i]);
    seqk_context_destroy(ctx);
}
END_TEST

/* =========================================================== Element-wise */

static double naive_ew(seqk_elementwise_op op, double a, double b)
{
    switch (op) {
    case SEQK_EW_ADD: return a + b;
    case SEQK_EW_SUB: return a - b;
    case SEQK_EW_MUL: return a * b;
    case SEQK_EW_DIV: return a / b;
    case SEQK_EW_TANH: return tanh(a);
    case SEQK_EW_SIGMOID: return 1.0 / (1.0 + exp(-a));
    case SEQK_EW_RELU: return a < 0 ? 0 : a;
    case SEQK_EW_EXP: return exp(a);
    default: return -a;
    }
}

static const seqk_elementwise_op all_ops[] = {
    SEQK_EW_ADD, SEQK_EW_SUB, SEQK_EW_MUL, SEQK_EW_DIV, SEQK_EW_TANH,
    SEQK_EW_SIGMOID, SEQK_EW_RELU, SEQK_EW_EXP, SEQK_EW_NEG};
enum { NUM_EW = sizeof all_ops / sizeof all_ops[0] };

/* op on A (and B); in_place: Y is A itself (A must have Y's shape). */
static void check_ew(seqk_context *ctx, seqk_context *rctx,
                     seqk_elementwise_op op, int an, const int64_t *ad,
                     int bn, const int64_t *bd, int in_place, uint64_t seed)
{
    tu_rng r;
    tu_rng_init(&r, seed);
    const int bin = seqk_elementwise_arity(op) == 2;
    const int64_t na = numel(an, ad), nb = bin ? numel(bn, bd) : 0;
    float *a = tu_rand(&r, (size_t)(na ? na : 1), -3, 3);
    float *b = tu_rand(&r, (size_t)(nb ? nb : 1), 0.5f, 2);
    for (int64_t i = 0; i < nb; i += 2)
        b[i] = -b[i]; /* both signs, away from 0 for Div */
    int yn = bin && bn > an ? bn : an;
    int64_t yd[SEQK_MAX_DIMS];
    for (int i = 0; i < yn; i++) {
        int ia = an - yn + i, ib = bin ? bn - yn + i : -1;
        int64_t da = ia >= 0 ? ad[ia] : 1, db = ib >= 0 ? bd[ib] : 1;
        yd[i] = da == 1 ? db : da;
    }
    const int64_t ny = numel(yn, yd);
    float *want = malloc((size_t)(ny ? ny : 1) * 4);
    for (int64_t y = 0; y < ny; y++) {
        int64_t rem = y, ia = 0, ib = 0, sa = 1, sb = 1;
        for (int i = yn - 1; i >= 0; i--) {
            int64_t v = rem % yd[i];
            rem /= yd[i];
            int ja = an - yn + i, jb = bin ? bn - yn + i : -1;
            if (ja >= 0) {
                ia += (ad[ja] == 1 ? 0 : v) * sa;
                sa *= ad[ja];
            }
            if (jb >= 0) {
                ib += (bd[jb] == 1 ? 0 : v) * sb;
                sb *= bd[jb];
            }
        }
        want[y] = (float)naive_ew(op, a[ia], bin ? b[ib] : 0);
    }
    seqk_elementwise_params p;
    seqk_elementwise_params_init(&p, op);
    seqk_context *cs[2] = {ctx, rctx};
    float *from[2] = {NULL, NULL};
    for (int c = 0; c < 2; c++) {
        seqk_tensor *A = mk(cs[c], an, ad, SEQK_F32, a);
        seqk_tensor *B = bin ? mk(cs[c], bn, bd, SEQK_F32, b) : NULL;
        seqk_tensor *Y = in_place ? A : mk(cs[c], yn, yd, SEQK_F32, NULL);
        TU_OK(cs[c], seqk_elementwise(cs[c], &p, A, B, Y));
        tu_assert_guard(Y);
        from[c] = rd(Y);
        char what[64];
        snprintf(what, sizeof what, "%s %s", seqk_elementwise_name(op),
                 c ? "ref" : "device");
        char msg[256];
        ck_assert_msg(tu_close(from[c], want, (size_t)ny, 1e-6f, 4e-6f, msg,
                               sizeof msg), "%s: %s", what, msg);
        if (!in_place)
            seqk_tensor_destroy(Y);
        seqk_tensor_destroy(A);
        seqk_tensor_destroy(B);
    }
    /* the device against ref itself */
    TU_ASSERT_CLOSE(from[0], from[1], (size_t)ny, 1e-6f, 4e-6f);
    free(from[0]); free(from[1]); free(a); free(b); free(want);
}

START_TEST(elementwise_broadcasting)
{
    seqk_context *ctx = tu_context(_i), *rctx = ref_ctx();
    static const struct { int an; int64_t a[4]; int bn; int64_t b[4]; } cs[] = {
        {1, {37}, 1, {37}},           {2, {3, 33}, 1, {33}},
        {2, {3, 17}, 2, {3, 1}},      {0, {0}, 2, {4, 9}},
        {3, {4, 1, 8}, 2, {3, 1}},    {1, {1}, 1, {1}},
        {2, {5, 0}, 1, {1}},          {4, {2, 3, 1, 5}, 3, {3, 7, 1}},
        {2, {1, 16}, 2, {9, 1}},      {1, {1000}, 0, {0}},
        {3, {2, 1, 31}, 3, {1, 3, 31}}, {1, {4}, 1, {4}},
    };
    const int nc = small_only() ? 4 : (int)(sizeof cs / sizeof cs[0]);
    uint64_t seed = 3;
    for (int o = 0; o < NUM_EW; o++)
        for (int c = 0; c < nc; c++) {
            check_ew(ctx, rctx, all_ops[o], cs[c].an, cs[c].a, cs[c].bn,
                     cs[c].b, 0, seed++);
            if (seqk_elementwise_arity(all_ops[o]) == 2)
                check_ew(ctx, rctx, all_ops[o], cs[c].bn, cs[c].b,
                         cs[c].an, cs[c].a, 0, seed++);
        }
    /* in place (Y is A), with and without broadcasting B */
    const int64_t d[2] = {3, 19}, b1[1] = {19};
    for (int o = 0; o < NUM_EW; o++) {
        check_ew(ctx, rctx, all_ops[o], 2, d, 2, d, 1, seed++);
        check_ew(ctx, rctx, all_ops[o], 2, d, 1, b1, 1, seed++);
    }
    /* large values: sigmoid and tanh saturate, exp overflows to inf */
    const int64_t n1[1] = {40};
    seqk_tensor *A = mk(ctx, 1, n1, SEQK_F32, NULL), *Y = mk(ctx, 1, n1,
                                                           SEQK_F32, NULL);
    float big[40];
    for (int i = 0; i < 40; i++)
        big[i] = (i % 2 ? -1 : 1) * (float)(i * 5);
    TU_OK(ctx, seqk_tensor_write(A, big, sizeof big));
    seqk_elementwise_params p;
    seqk_elementwise_params_init(&p, SEQK_EW_SIGMOID);
    TU_OK(ctx, seqk_elementwise(ctx, &p, A, NULL, Y));
    float *got = rd(Y);
    for (int i = 0; i < 40; i++)
        ck_assert_msg(fabsf(got[i] - (float)(1 / (1 + exp(-big[i])))) < 1e-6f,
                      "sigmoid(%g) = %g", big[i], got[i]);
    free(got);
    seqk_tensor_destroy(A);
    seqk_tensor_destroy(Y);
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(elementwise_bad_input)
{
    if (small_only())
        return;
    seqk_context *ctx = tu_context(_i);
    const int64_t d3[1] = {3}, d4[1] = {4}, d34[2] = {3, 4}, d6[1] = {6};
    seqk_tensor *A = mk(ctx, 1, d3, SEQK_F32, NULL);
    seqk_tensor *B = mk(ctx, 1, d4, SEQK_F32, NULL);
    seqk_tensor *Y = mk(ctx, 1, d3, SEQK_F32, NULL);
    seqk_tensor *Y34 = mk(ctx, 2, d34, SEQK_F32, NULL);
    seqk_tensor *I = mk(ctx, 1, d3, SEQK_I32, NULL);
    seqk_tensor *Big = mk(ctx, 1, d6, SEQK_F32, NULL);
    seqk_tensor *Part = NULL;
    TU_OK(ctx, seqk_tensor_slice_view(Big, 0, 1, 3, &Part));
    seqk_tensor *Head = NULL;
    TU_OK(ctx, seqk_tensor_slice_view(Big, 0, 0, 3, &Head));
    seqk_elementwise_params p;
    seqk_elementwise_params_init(&p, SEQK_EW_ADD);
    TU_FAILS(ctx, seqk_elementwise(ctx, &p, A, B, Y), SEQK_ERR_SHAPE,
             "Add inputs A [3] and B [4] do not broadcast");
    TU_FAILS(ctx, seqk_elementwise(ctx, &p, A, NULL, Y), SEQK_ERR_INVALID_ARG,
             "Add input B is NULL");
    TU_FAILS(ctx, seqk_elementwise(ctx, &p, A, I, Y), SEQK_ERR_DTYPE,
             "Add input B has dtype i32");
    TU_FAILS(ctx, seqk_elementwise(ctx, &p, A, A, Y34), SEQK_ERR_SHAPE,
             "Add output has shape [3,4]");
    /* Y overlapping A partly (a view one element on) is refused */
    TU_FAILS(ctx, seqk_elementwise(ctx, &p, Head, Head, Part),
             SEQK_ERR_INVALID_ARG, "overlaps an input");
    seqk_elementwise_params_init(&p, SEQK_EW_TANH);
    TU_FAILS(ctx, seqk_elementwise(ctx, &p, A, A, Y), SEQK_ERR_INVALID_ARG,
             "Tanh is unary: B must be NULL");
    p.op = (seqk_elementwise_op)55;
    TU_FAILS(ctx, seqk_elementwise(ctx, &p, A, NULL, Y), SEQK_ERR_INVALID_ARG,
             "op 55 is not an element-wise op");
    ck_assert_int_eq(seqk_elementwise_from_name("sigmoid"), SEQK_EW_SIGMOID);
    ck_assert_int_eq(seqk_elementwise_from_name("Pow"), SEQK_EW_POW);
    ck_assert_int_eq(seqk_elementwise_from_name("Atan2"), -1);
    ck_assert_str_eq(seqk_elementwise_name(SEQK_EW_DIV), "Div");
    seqk_tensor *objs[] = {A, B, Y, Y34, I, Part, Head, Big};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        seqk_tensor_destroy(objs[i]);
    seqk_context_destroy(ctx);
}
END_TEST

/* ================================================================ Concat */

static void check_concat(seqk_context *ctx, seqk_context *rctx, int n,
                         int nd, const int64_t *d, const int64_t *lens,
                         int64_t axis, seqk_dtype dt, uint64_t seed)
{
    tu_rng r;
    tu_rng_init(&r, seed);
    const int ax = (int)(axis < 0 ? axis + nd : axis);
    const size_t es = seqk_dtype_size(dt);
    void *in[8];
    int64_t dims[8][SEQK_MAX_DIMS], od[SEQK_MAX_DIMS], sum = 0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < nd; k++)
            dims[i][k] = k == ax ? lens[i] : d[k];
        sum += lens[i];
        in[i] = rand_data(&r, dt, numel(nd, dims[i]), 0);
    }
    for (int k = 0; k < nd; k++)
        od[k] = k == ax ? sum : d[k];
    int64_t outer, inner;
    around(nd, od, ax, &outer, &inner);
    unsigned char *want = malloc((size_t)numel(nd, od) * es + 1);
    size_t at = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int i = 0; i < n; i++) {
            size_t len = (size_t)(lens[i] * inner) * es;
            memcpy(want + at, (char *)in[i] + (size_t)o * len, len);
            at += len;
        }
    seqk_context *cs[2] = {ctx, rctx};
    for (int c = 0; c < 2; c++) {
        seqk_tensor *T[8];
        for (int i = 0; i < n; i++)
            T[i] = mk(cs[c], nd, dims[i], dt, in[i]);
        seqk_tensor *O = mk(cs[c], nd, od, dt, NULL);
        TU_OK(cs[c], seqk_concat(cs[c], axis, n,
                                 (const seqk_tensor *const *)T, O));
        tu_assert_guard(O);
        void *got = rd(O);
        ck_assert_msg(!memcmp(got, want, seqk_tensor_bytes(O)),
                      "concat %s: %d inputs, axis %lld", c ? "ref" : "device",
                      n, (long long)axis);
        free(got);
        for (int i = 0; i < n; i++)
            seqk_tensor_destroy(T[i]);
        seqk_tensor_destroy(O);
    }
    for (int i = 0; i < n; i++)
        free(in[i]);
    free(want);
}

START_TEST(concat_shapes)
{
    seqk_context *ctx = tu_context(_i), *rctx = ref_ctx();
    const int64_t d[3] = {3, 5, 7};
    const int64_t lens[4] = {2, 0, 1, 5};
    static const seqk_dtype dts[] = {SEQK_F32, SEQK_I64, SEQK_BOOL};
    uint64_t seed = 5;
    for (int t = 0; t < (small_only() ? 1 : 3); t++)
        for (int64_t ax = -3; ax < 3; ax++)
            for (int n = 1; n <= 4; n++)
                check_concat(ctx, rctx, n, 3, d, lens, ax, dts[t], seed++);
    const int64_t d1[1] = {0}, l1[2] = {3, 4};
    check_concat(ctx, rctx, 2, 1, d1, l1, 0, SEQK_F32, 1);
    const int64_t d2[2] = {0, 3}, l2[2] = {1, 2};
    check_concat(ctx, rctx, 2, 2, d2, l2, 1, SEQK_I32, 2);
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(concat_bad_input)
{
    if (small_only())
        return;
    seqk_context *ctx = tu_context(_i);
    const int64_t a[2] = {2, 3}, b[2] = {3, 3}, o[2] = {5, 3}, bad[2] = {5, 4};
    seqk_tensor *A = mk(ctx, 2, a, SEQK_F32, NULL);
    seqk_tensor *B = mk(ctx, 2, b, SEQK_F32, NULL);
    seqk_tensor *Bi = mk(ctx, 2, b, SEQK_I32, NULL);
    seqk_tensor *O = mk(ctx, 2, o, SEQK_F32, NULL);
    seqk_tensor *Ob = mk(ctx, 2, bad, SEQK_F32, NULL);
    const seqk_tensor *ab[2] = {A, B}, *abi[2] = {A, Bi}, *aO[2] = {A, O};
    TU_OK(ctx, seqk_concat(ctx, -2, 2, ab, O));
    TU_FAILS(ctx, seqk_concat(ctx, 1, 2, ab, O), SEQK_ERR_SHAPE,
             "Concat input 1 has shape [3,3] but input 0 has [2,3]");
    TU_FAILS(ctx, seqk_concat(ctx, 0, 2, abi, O), SEQK_ERR_DTYPE,
             "Concat input 1 has dtype i32");
    TU_FAILS(ctx, seqk_concat(ctx, 0, 2, ab, Ob), SEQK_ERR_SHAPE,
             "Concat output has shape [5,4]");
    TU_FAILS(ctx, seqk_concat(ctx, 2, 2, ab, O), SEQK_ERR_INVALID_ARG,
             "Concat axis 2 is outside [-2, 1]");
    TU_FAILS(ctx, seqk_concat(ctx, 0, 0, ab, O), SEQK_ERR_INVALID_ARG,
             "at least one input");
    TU_FAILS(ctx, seqk_concat(ctx, 0, 2, aO, O), SEQK_ERR_INVALID_ARG,
             "Concat output overlaps input 1");
    seqk_tensor *objs[] = {A, B, Bi, O, Ob};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        seqk_tensor_destroy(objs[i]);
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
    tcase_add_loop_test(tc, elementwise_broadcasting, 0, nd);
    tcase_add_loop_test(tc, elementwise_bad_input, 0, nd);
    tcase_add_loop_test(tc, concat_shapes, 0, nd);
    tcase_add_loop_test(tc, concat_bad_input, 0, nd);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
