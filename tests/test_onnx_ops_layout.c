/*
 * test_onnx_ops_layout.c — the ONNX layout ops (Transpose, Slice, Split,
 * Expand, Tile, Pad) on every available device and on ref, each against
 * an index loop written here (ONNX's definitions), byte for byte, over
 * every dtype and edge shapes (dims of 0 and 1, negative axes and steps,
 * clamped starts/ends, negative pads); then bad inputs.
 *
 * Built twice (tests/meson.build): suite "onnx_ops_layout" (host devices)
 * and "opencl_onnx_ops_layout" (ref + opencl:0.0, also under Oclgrind
 * with SEQK_OCL_SMALL=1: fewer shapes, no errors provoked).
 */
#include <stdio.h>

#include "onnx_ops_util.h"

/* The source multi-index of output index y, or 0 for a padded element. */
typedef int (*src_fn)(const void *arg, int xn, const int64_t *xd,
                      const int64_t *y, int64_t *x);

/* A layout op under test: runs on ctx from X into Y. */
typedef seqk_status (*run_fn)(seqk_context *ctx, const void *arg,
                              const seqk_tensor *X, seqk_tensor *Y);

static void check_layout(seqk_context *ctx, seqk_context *rctx,
                         const char *what, int xn, const int64_t *xd,
                         int yn, const int64_t *yd, seqk_dtype dt,
                         const void *pad, src_fn src, run_fn run,
                         const void *arg, uint64_t seed)
{
    tu_rng r;
    tu_rng_init(&r, seed);
    const size_t es = seqk_dtype_size(dt);
    const int64_t nx = oo_numel(xn, xd), ny = oo_numel(yn, yd);
    void *x = oo_rand(&r, dt, nx, -4, 4, 0);
    unsigned char *want = malloc((size_t)(ny ? ny : 1) * es);
    int64_t yi[SEQK_MAX_DIMS], xi[SEQK_MAX_DIMS];
    for (int64_t f = 0; f < ny; f++) {
        oo_unravel(f, yn, yd, yi);
        if (src(arg, xn, xd, yi, xi))
            memcpy(want + f * es,
                   (char *)x + oo_ravel(xn, xd, xi) * (int64_t)es, es);
        else if (pad) /* only Pad's constant mode has positions without a
                       * source; the others never get here */
            memcpy(want + f * es, pad, es);
        else
            ck_abort_msg("%s: output %lld has no source", what,
                         (long long)f);
    }
    seqk_context *cs[2] = {ctx, rctx};
    for (int c = 0; c < 2; c++) {
        seqk_tensor *X = oo_mk(cs[c], xn, xd, dt, x);
        seqk_tensor *Y = oo_mk(cs[c], yn, yd, dt, NULL);
        TU_OK(cs[c], run(cs[c], arg, X, Y));
        tu_assert_guard(Y);
        unsigned char *got = oo_rd(Y);
        for (int64_t f = 0; f < ny; f++)
            ck_assert_msg(!memcmp(got + f * es, want + f * es, es),
                          "%s (%s, dtype %d) on %s: element %lld differs",
                          what, c ? "ref" : "device", (int)dt,
                          seqk_tensor_dtype(Y) == dt ? "ok" : "?",
                          (long long)f);
        free(got);
        seqk_tensor_destroy(X);
        seqk_tensor_destroy(Y);
    }
    free(x);
    free(want);
}

/* =============================================================== Transpose */

static int tr_src(const void *arg, int xn, const int64_t *xd,
                  const int64_t *y, int64_t *x)
{
    const int64_t *perm = arg;
    (void)xd;
    for (int i = 0; i < xn; i++)
        x[perm[i]] = y[i];
    return 1;
}

typedef struct { int n; const int64_t *perm; } tr_arg;
static seqk_status tr_run(seqk_context *ctx, const void *arg,
                          const seqk_tensor *X, seqk_tensor *Y)
{
    const tr_arg *a = arg;
    return seqk_transpose(ctx, a->n, a->perm, X, Y);
}
static int tr_src2(const void *arg, int xn, const int64_t *xd,
                   const int64_t *y, int64_t *x)
{
    return tr_src(((const tr_arg *)arg)->perm, xn, xd, y, x);
}

START_TEST(transpose_shapes)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    static const struct { int n; int64_t d[5]; int64_t perm[5]; } cs[] = {
        {2, {3, 17}, {1, 0}},          {3, {2, 3, 4}, {2, 0, 1}},
        {3, {1, 5, 1}, {2, 1, 0}},     {4, {2, 0, 3, 1}, {3, 1, 0, 2}},
        {4, {2, 3, 5, 7}, {0, 2, 1, 3}}, {1, {9}, {0}},
        {5, {2, 1, 3, 2, 5}, {4, 3, 2, 1, 0}}, {2, {33, 9}, {1, 0}},
    };
    const int nc = oo_small() ? 3 : (int)(sizeof cs / sizeof cs[0]);
    uint64_t seed = 1;
    for (int c = 0; c < nc; c++)
        for (int t = 0; t < 4; t++) {
            int64_t yd[5];
            for (int i = 0; i < cs[c].n; i++)
                yd[i] = cs[c].d[cs[c].perm[i]];
            tr_arg a = {cs[c].n, cs[c].perm};
            check_layout(ctx, rctx, "Transpose", cs[c].n, cs[c].d, cs[c].n,
                         yd, oo_dtypes[t], NULL, tr_src2, tr_run, &a,
                         seed++);
        }
    /* perm NULL reverses the axes */
    const int64_t d[3] = {2, 3, 4}, rev[3] = {2, 1, 0}, yd[3] = {4, 3, 2};
    tr_arg a = {0, NULL}, b = {3, rev};
    (void)a;
    check_layout(ctx, rctx, "Transpose default perm", 3, d, 3, yd, SEQK_F32,
                 NULL, tr_src2, tr_run, &b, seed++);
    seqk_tensor *X = oo_mk(ctx, 3, d, SEQK_F32, NULL);
    seqk_tensor *Y = oo_mk(ctx, 3, yd, SEQK_F32, NULL);
    TU_OK(ctx, seqk_transpose(ctx, 0, NULL, X, Y));
    seqk_tensor_destroy(X);
    seqk_tensor_destroy(Y);
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

/* =================================================================== Slice */

typedef struct {
    int n;
    const int64_t *starts, *ends, *axes, *steps;
    int64_t st[SEQK_MAX_DIMS], sp[SEQK_MAX_DIMS]; /* resolved per axis */
} sl_arg;

static int sl_src(const void *arg, int xn, const int64_t *xd,
                  const int64_t *y, int64_t *x)
{
    const sl_arg *a = arg;
    (void)xd;
    for (int i = 0; i < xn; i++)
        x[i] = a->st[i] + y[i] * a->sp[i];
    return 1;
}
static seqk_status sl_run(seqk_context *ctx, const void *arg,
                          const seqk_tensor *X, seqk_tensor *Y)
{
    const sl_arg *a = arg;
    return seqk_slice(ctx, a->n, a->starts, a->ends, a->axes, a->steps, X, Y);
}

/* ONNX's Slice shape rules, written the way the spec states them. */
static void sl_resolve(sl_arg *a, int xn, const int64_t *xd, int64_t *yd)
{
    for (int i = 0; i < xn; i++) {
        a->st[i] = 0;
        a->sp[i] = 1;
        yd[i] = xd[i];
    }
    for (int i = 0; i < a->n; i++) {
        int64_t ax = a->axes ? a->axes[i] : i;
        if (ax < 0)
            ax += xn;
        const int64_t dim = xd[ax], step = a->steps ? a->steps[i] : 1;
        double s = (double)a->starts[i], e = (double)a->ends[i];
        if (s < 0)
            s += (double)dim;
        if (e < 0)
            e += (double)dim;
        if (step > 0) {
            s = s < 0 ? 0 : s > dim ? dim : s;
            e = e < 0 ? 0 : e > dim ? dim : e;
        } else {
            s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
        }
        const double len = ceil((e - s) / (double)step);
        yd[ax] = len > 0 ? (int64_t)len : 0;
        a->st[ax] = (int64_t)s;
        a->sp[ax] = step;
    }
}

START_TEST(slice_shapes)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    const int64_t d2[2] = {5, 10}, d3[3] = {4, 1, 9}, d0[2] = {0, 3};
    static const struct {
        int nd, n; int64_t s[3], e[3], ax[3], st[3]; int axes, steps;
    } cs[] = {
        {2, 2, {0, 1}, {3, 8}, {0, 1}, {1, 2}, 1, 1},
        {2, 1, {8}, {1}, {1}, {-3}, 1, 1},           /* negative step */
        {2, 1, {-1}, {INT64_MIN}, {1}, {-1}, 1, 1},  /* reverse all */
        {2, 1, {2}, {INT64_MAX}, {-2}, {1}, 1, 0},   /* to the end */
        {2, 2, {-100, 100}, {100, -100}, {0, 1}, {1, -1}, 0, 1}, /* clamp */
        {3, 2, {0, 7}, {1, 2}, {1, 2}, {1, -2}, 1, 1},
        {3, 1, {3}, {3}, {2}, {1}, 1, 1},             /* empty */
        {2, 1, {0}, {5}, {1}, {3}, 1, 1},             /* from the 0 dim */
    };
    const int nc = oo_small() ? 3 : (int)(sizeof cs / sizeof cs[0]);
    uint64_t seed = 100;
    for (int c = 0; c < nc; c++) {
        const int64_t *xd = cs[c].nd == 3 ? d3 : c == 7 ? d0 : d2;
        sl_arg a = {cs[c].n, cs[c].s, cs[c].e, cs[c].axes ? cs[c].ax : NULL,
                    cs[c].steps ? cs[c].st : NULL, {0}, {0}};
        int64_t yd[3];
        sl_resolve(&a, cs[c].nd, xd, yd);
        for (int t = 0; t < (oo_small() ? 2 : 4); t++)
            check_layout(ctx, rctx, "Slice", cs[c].nd, xd, cs[c].nd, yd,
                         oo_dtypes[t], NULL, sl_src, sl_run, &a, seed++);
    }
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

/* ============================================================ Expand, Tile */

static int ex_src(const void *arg, int xn, const int64_t *xd,
                  const int64_t *y, int64_t *x)
{
    const int yn = *(const int *)arg;
    for (int i = 0; i < xn; i++)
        x[i] = xd[i] == 1 ? 0 : y[yn - xn + i];
    return 1;
}
static seqk_status ex_run(seqk_context *ctx, const void *arg,
                          const seqk_tensor *X, seqk_tensor *Y)
{
    (void)arg;
    return seqk_expand(ctx, X, Y);
}

static int ti_src(const void *arg, int xn, const int64_t *xd,
                  const int64_t *y, int64_t *x)
{
    (void)arg;
    for (int i = 0; i < xn; i++)
        x[i] = y[i] % xd[i];
    return 1;
}
static seqk_status ti_run(seqk_context *ctx, const void *arg,
                          const seqk_tensor *X, seqk_tensor *Y)
{
    return seqk_tile(ctx, arg, X, Y);
}

START_TEST(expand_tile_shapes)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    static const struct { int xn; int64_t x[4]; int yn; int64_t y[4]; } ex[] = {
        {2, {3, 1}, 3, {2, 3, 5}}, {1, {1}, 2, {4, 7}}, {2, {1, 6}, 2, {3, 6}},
        {3, {2, 1, 4}, 4, {3, 2, 5, 4}}, {1, {5}, 1, {5}}, {2, {1, 1}, 2, {0, 3}},
    };
    uint64_t seed = 200;
    const int ne = oo_small() ? 2 : (int)(sizeof ex / sizeof ex[0]);
    for (int c = 0; c < ne; c++)
        for (int t = 0; t < 4; t++)
            check_layout(ctx, rctx, "Expand", ex[c].xn, ex[c].x, ex[c].yn,
                         ex[c].y, oo_dtypes[t], NULL, ex_src, ex_run,
                         &ex[c].yn, seed++);
    static const struct { int n; int64_t x[3], rep[3]; } ti[] = {
        {2, {2, 3}, {2, 1}}, {1, {5}, {3}}, {3, {1, 2, 3}, {4, 1, 2}},
        {2, {3, 4}, {0, 2}}, {2, {1, 1}, {3, 3}},
    };
    const int nt = oo_small() ? 2 : (int)(sizeof ti / sizeof ti[0]);
    for (int c = 0; c < nt; c++) {
        int64_t yd[3];
        for (int i = 0; i < ti[c].n; i++)
            yd[i] = ti[c].x[i] * ti[c].rep[i];
        for (int t = 0; t < 4; t++)
            check_layout(ctx, rctx, "Tile", ti[c].n, ti[c].x, ti[c].n, yd,
                         oo_dtypes[t], NULL, ti_src, ti_run, ti[c].rep,
                         seed++);
    }
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

/* ===================================================================== Pad */

typedef struct { seqk_pad_mode mode; const int64_t *pads; double v; } pad_arg;

static int pad_src(const void *arg, int xn, const int64_t *xd,
                   const int64_t *y, int64_t *x)
{
    const pad_arg *a = arg;
    for (int i = 0; i < xn; i++) {
        int64_t j = y[i] - a->pads[i];
        const int64_t n = xd[i];
        if (j < 0 || j >= n) {
            if (a->mode == SEQK_PAD_CONSTANT)
                return 0;
            if (a->mode == SEQK_PAD_EDGE)
                j = j < 0 ? 0 : n - 1;
            else if (n == 1)
                j = 0;
            else /* numpy reflect, one bounce at a time */
                while (j < 0 || j >= n)
                    j = j < 0 ? -j : 2 * (n - 1) - j;
        }
        x[i] = j;
    }
    return 1;
}
static seqk_status pad_run(seqk_context *ctx, const void *arg,
                           const seqk_tensor *X, seqk_tensor *Y)
{
    const pad_arg *a = arg;
    seqk_pad_params p;
    seqk_pad_params_init(&p);
    p.mode = a->mode;
    p.value = a->v;
    return seqk_pad(ctx, &p, a->pads, X, Y);
}

START_TEST(pad_shapes)
{
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    static const struct { int n; int64_t x[3], pads[6]; } cs[] = {
        {2, {3, 4}, {1, 2, 0, 3}},     {1, {5}, {7, 9}},
        {2, {3, 4}, {-1, 0, 1, -2}},   {3, {2, 1, 3}, {0, 2, 1, 1, 0, 2}},
        {1, {1}, {2, 3}},              {2, {4, 2}, {0, 0, 0, 0}},
    };
    const int nc = oo_small() ? 2 : (int)(sizeof cs / sizeof cs[0]);
    uint64_t seed = 300;
    for (int c = 0; c < nc; c++)
        for (int m = 0; m < 3; m++)
            for (int t = 0; t < 4; t++) {
                const seqk_dtype dt = oo_dtypes[t];
                int64_t yd[3];
                for (int i = 0; i < cs[c].n; i++)
                    yd[i] = cs[c].x[i] + cs[c].pads[i] +
                            cs[c].pads[cs[c].n + i];
                const double v = dt == SEQK_BOOL ? 1 : -7.5;
                unsigned char pad[8] = {0};
                const float vf = -7.5f;
                const int32_t vi = -7;
                const int64_t vl = -7;
                if (dt == SEQK_F32)
                    memcpy(pad, &vf, 4);
                else if (dt == SEQK_I32)
                    memcpy(pad, &vi, 4);
                else if (dt == SEQK_I64)
                    memcpy(pad, &vl, 8);
                else
                    pad[0] = 1;
                pad_arg a = {(seqk_pad_mode)m, cs[c].pads, v};
                check_layout(ctx, rctx, "Pad", cs[c].n, cs[c].x, cs[c].n, yd,
                             dt, pad, pad_src, pad_run, &a, seed++);
            }
    seqk_context_destroy(rctx);
    seqk_context_destroy(ctx);
}
END_TEST

/* =================================================================== Split */

START_TEST(split_shapes)
{
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 400);
    const int64_t xd[3] = {2, 9, 3};
    for (int t = 0; t < 4; t++)
        for (int axis = -3; axis < 3; axis++) {
            const int ax = axis < 0 ? axis + 3 : axis;
            const seqk_dtype dt = oo_dtypes[t];
            const size_t es = seqk_dtype_size(dt);
            int64_t sizes[3] = {0, 0, 0};
            sizes[0] = xd[ax] / 3;
            sizes[1] = 0;
            sizes[2] = xd[ax] - sizes[0];
            void *x = oo_rand(&r, dt, 54, -4, 4, 0);
            seqk_tensor *X = oo_mk(ctx, 3, xd, dt, x), *O[3];
            for (int i = 0; i < 3; i++) {
                int64_t od[3] = {xd[0], xd[1], xd[2]};
                od[ax] = sizes[i];
                O[i] = oo_mk(ctx, 3, od, dt, NULL);
            }
            TU_OK(ctx, seqk_split(ctx, axis, 3, X, O));
            int64_t at = 0;
            for (int i = 0; i < 3; i++) {
                unsigned char *got = oo_rd(O[i]);
                int64_t od[3] = {xd[0], xd[1], xd[2]}, idx[3];
                od[ax] = sizes[i];
                for (int64_t f = 0; f < oo_numel(3, od); f++) {
                    oo_unravel(f, 3, od, idx);
                    idx[ax] += at;
                    ck_assert_msg(!memcmp(got + f * es,
                                          (char *)x +
                                              oo_ravel(3, xd, idx) * es,
                                          es),
                                  "Split axis %d output %d element %lld",
                                  axis, i, (long long)f);
                }
                at += sizes[i];
                free(got);
                tu_assert_guard(O[i]);
                seqk_tensor_destroy(O[i]);
            }
            seqk_tensor_destroy(X);
            free(x);
        }
    seqk_context_destroy(ctx);
}
END_TEST

/* ============================================================== bad input */

START_TEST(layout_bad_input)
{
    if (oo_small())
        return;
    seqk_context *ctx = tu_context(_i);
    const int64_t d[2] = {3, 4}, dt[2] = {4, 3}, d5[2] = {3, 5};
    seqk_tensor *X = oo_mk(ctx, 2, d, SEQK_F32, NULL);
    seqk_tensor *Y = oo_mk(ctx, 2, dt, SEQK_F32, NULL);
    seqk_tensor *Yi = oo_mk(ctx, 2, dt, SEQK_I32, NULL);
    seqk_tensor *Y5 = oo_mk(ctx, 2, d5, SEQK_F32, NULL);
    const int64_t bad[2] = {0, 0}, oob[2] = {0, 2}, ok[2] = {1, 0};
    TU_FAILS(ctx, seqk_transpose(ctx, 2, bad, X, Y), SEQK_ERR_INVALID_ARG,
             "not a permutation");
    TU_FAILS(ctx, seqk_transpose(ctx, 2, oob, X, Y), SEQK_ERR_INVALID_ARG,
             "not a permutation");
    TU_FAILS(ctx, seqk_transpose(ctx, 1, ok, X, Y), SEQK_ERR_INVALID_ARG,
             "perm has 1 entries");
    TU_FAILS(ctx, seqk_transpose(ctx, 2, ok, X, Yi), SEQK_ERR_DTYPE,
             "Transpose output has dtype i32");
    TU_FAILS(ctx, seqk_transpose(ctx, 2, ok, X, X), SEQK_ERR_INVALID_ARG,
             "overlaps");
    TU_FAILS(ctx, seqk_transpose(ctx, 2, ok, X, NULL), SEQK_ERR_INVALID_ARG,
             "Transpose output is NULL");
    const int64_t s0[1] = {0}, e9[1] = {9}, z[1] = {0}, ax5[1] = {5};
    TU_FAILS(ctx, seqk_slice(ctx, 1, s0, e9, NULL, z, X, Y),
             SEQK_ERR_INVALID_ARG, "Slice step 0 is 0");
    TU_FAILS(ctx, seqk_slice(ctx, 1, s0, e9, ax5, NULL, X, Y),
             SEQK_ERR_INVALID_ARG, "Slice axis 5 is outside");
    TU_FAILS(ctx, seqk_slice(ctx, 1, s0, e9, NULL, NULL, X, Y),
             SEQK_ERR_SHAPE, "Slice output has shape [4,3]");
    TU_FAILS(ctx, seqk_expand(ctx, X, Y), SEQK_ERR_SHAPE,
             "does not broadcast");
    const int64_t rep[2] = {-1, 1}, huge[2] = {INT64_MAX / 2, 1};
    TU_FAILS(ctx, seqk_tile(ctx, rep, X, Y), SEQK_ERR_INVALID_ARG,
             "Tile repeats[0] is -1");
    TU_FAILS(ctx, seqk_tile(ctx, huge, X, Y), SEQK_ERR_OVERFLOW,
             "overflows");
    seqk_pad_params pp;
    seqk_pad_params_init(&pp);
    const int64_t pads[4] = {0, 0, 0, 1}, crop[4] = {-2, 0, -2, 0};
    TU_OK(ctx, seqk_pad(ctx, &pp, pads, X, Y5));
    TU_FAILS(ctx, seqk_pad(ctx, &pp, crop, X, Y5), SEQK_ERR_INVALID_ARG,
             "crop more than");
    pp.mode = (seqk_pad_mode)7;
    TU_FAILS(ctx, seqk_pad(ctx, &pp, pads, X, Y5), SEQK_ERR_INVALID_ARG,
             "Pad mode 7");
    seqk_tensor *outs[2] = {Y, Y5};
    TU_FAILS(ctx, seqk_split(ctx, 0, 2, X, outs), SEQK_ERR_SHAPE,
             "Split");
    TU_FAILS(ctx, seqk_split(ctx, 3, 2, X, outs), SEQK_ERR_INVALID_ARG,
             "Split axis 3 is outside");
    seqk_tensor *objs[] = {X, Y, Yi, Y5};
    OO_DESTROY(objs);
    seqk_context_destroy(ctx);
}
END_TEST

int main(void)
{
    const int nd = tu_device_count();
    Suite *s = suite_create("onnx_ops_layout");
    TCase *tc = tcase_create("onnx_ops_layout");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, transpose_shapes, 0, nd);
    tcase_add_loop_test(tc, slice_shapes, 0, nd);
    tcase_add_loop_test(tc, expand_tile_shapes, 0, nd);
    tcase_add_loop_test(tc, pad_shapes, 0, nd);
    tcase_add_loop_test(tc, split_shapes, 0, nd);
    tcase_add_loop_test(tc, layout_bad_input, 0, nd);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
