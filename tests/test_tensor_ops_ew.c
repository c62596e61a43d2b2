/*
 * test_tensor_ops_ew.c — the element-wise ops (broadcasting, in place,
 * saturation) and Concat of the tensor_ops suites (test_tensor_ops.c
 * has the rest and main): each result on the device and on ref against
 * loops written here, then bad inputs.
 */
#include <stdio.h>

#include "onnx_ops_util.h"

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
    const int64_t na = oo_numel(an, ad), nb = bin ? oo_numel(bn, bd) : 0;
    float *a = tu_rand(&r, (size_t)(na ? na : 1), -3, 3);
    float *b = tu_rand(&r, (size_t)(nb ? nb : 1), 0.5f, 2);
    for (int64_t i = 0; i < nb; i += 2)
        b[i] = -b[i]; /* both signs, away from 0 for Div */
    int64_t yd[SEQK_MAX_DIMS];
    const int yn = oo_bshape(an, ad, bin ? bn : 0, bd, yd);
    const int64_t ny = oo_numel(yn, yd);
    float *want = malloc((size_t)(ny ? ny : 1) * 4);
    for (int64_t y = 0; y < ny; y++)
        want[y] = (float)naive_ew(op, a[oo_bsrc(y, yn, yd, an, ad)],
                                  bin ? b[oo_bsrc(y, yn, yd, bn, bd)] : 0);
    seqk_elementwise_params p;
    seqk_elementwise_params_init(&p, op);
    seqk_context *cs[2] = {ctx, rctx};
    float *from[2] = {NULL, NULL};
    for (int c = 0; c < 2; c++) {
        seqk_tensor *A = oo_mk(cs[c], an, ad, SEQK_F32, a);
        seqk_tensor *B = bin ? oo_mk(cs[c], bn, bd, SEQK_F32, b) : NULL;
        seqk_tensor *Y = in_place ? A : oo_mk(cs[c], yn, yd, SEQK_F32, NULL);
        TU_OK(cs[c], seqk_elementwise(cs[c], &p, A, B, Y));
        tu_assert_guard(Y);
        from[c] = oo_rd(Y);
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
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    static const struct { int an; int64_t a[4]; int bn; int64_t b[4]; } cs[] = {
        {1, {37}, 1, {37}},           {2, {3, 33}, 1, {33}},
        {2, {3, 17}, 2, {3, 1}},      {0, {0}, 2, {4, 9}},
        {3, {4, 1, 8}, 2, {3, 1}},    {1, {1}, 1, {1}},
        {2, {5, 0}, 1, {1}},          {4, {2, 3, 1, 5}, 3, {3, 7, 1}},
        {2, {1, 16}, 2, {9, 1}},      {1, {1000}, 0, {0}},
        {3, {2, 1, 31}, 3, {1, 3, 31}}, {1, {4}, 1, {4}},
    };
    const int nc = oo_small() ? 4 : (int)(sizeof cs / sizeof cs[0]);
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
    seqk_tensor *A = oo_mk(ctx, 1, n1, SEQK_F32, NULL);
    seqk_tensor *Y = oo_mk(ctx, 1, n1, SEQK_F32, NULL);
    float big[40];
    for (int i = 0; i < 40; i++)
        big[i] = (i % 2 ? -1 : 1) * (float)(i * 5);
    TU_OK(ctx, seqk_tensor_write(A, big, sizeof big));
    seqk_elementwise_params p;
    seqk_elementwise_params_init(&p, SEQK_EW_SIGMOID);
    TU_OK(ctx, seqk_elementwise(ctx, &p, A, NULL, Y));
    float *got = oo_rd(Y);
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
    if (oo_small())
        return;
    seqk_context *ctx = tu_context(_i);
    const int64_t d3[1] = {3}, d4[1] = {4}, d34[2] = {3, 4}, d6[1] = {6};
    seqk_tensor *A = oo_mk(ctx, 1, d3, SEQK_F32, NULL);
    seqk_tensor *B = oo_mk(ctx, 1, d4, SEQK_F32, NULL);
    seqk_tensor *Y = oo_mk(ctx, 1, d3, SEQK_F32, NULL);
    seqk_tensor *Y34 = oo_mk(ctx, 2, d34, SEQK_F32, NULL);
    seqk_tensor *I = oo_mk(ctx, 1, d3, SEQK_I32, NULL);
    seqk_tensor *Big = oo_mk(ctx, 1, d6, SEQK_F32, NULL);
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
    OO_DESTROY(objs);
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
        in[i] = oo_rand(&r, dt, oo_numel(nd, dims[i]), -4, 4, 0);
    }
    for (int k = 0; k < nd; k++)
        od[k] = k == ax ? sum : d[k];
    int64_t outer, inner;
    oo_around(nd, od, ax, &outer, &inner);
    unsigned char *want = malloc((size_t)oo_numel(nd, od) * es + 1);
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
            T[i] = oo_mk(cs[c], nd, dims[i], dt, in[i]);
        seqk_tensor *O = oo_mk(cs[c], nd, od, dt, NULL);
        TU_OK(cs[c], seqk_concat(cs[c], axis, n,
                                 (const seqk_tensor *const *)T, O));
        tu_assert_guard(O);
        void *got = oo_rd(O);
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
    seqk_context *ctx = tu_context(_i), *rctx = oo_ref_ctx();
    const int64_t d[3] = {3, 5, 7};
    const int64_t lens[4] = {2, 0, 1, 5};
    static const seqk_dtype dts[] = {SEQK_F32, SEQK_I64, SEQK_BOOL};
    uint64_t seed = 5;
    for (int t = 0; t < (oo_small() ? 1 : 3); t++)
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
    if (oo_small())
        return;
    seqk_context *ctx = tu_context(_i);
    const int64_t a[2] = {2, 3}, b[2] = {3, 3}, o[2] = {5, 3}, bad[2] = {5, 4};
    seqk_tensor *A = oo_mk(ctx, 2, a, SEQK_F32, NULL);
    seqk_tensor *B = oo_mk(ctx, 2, b, SEQK_F32, NULL);
    seqk_tensor *Bi = oo_mk(ctx, 2, b, SEQK_I32, NULL);
    seqk_tensor *O = oo_mk(ctx, 2, o, SEQK_F32, NULL);
    seqk_tensor *Ob = oo_mk(ctx, 2, bad, SEQK_F32, NULL);
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
    OO_DESTROY(objs);
    seqk_context_destroy(ctx);
}
END_TEST

void tensor_ops_ew_tests(TCase *tc, int nd)
{
    tcase_add_loop_test(tc, elementwise_broadcasting, 0, nd);
    tcase_add_loop_test(tc, elementwise_bad_input, 0, nd);
    tcase_add_loop_test(tc, concat_shapes, 0, nd);
    tcase_add_loop_test(tc, concat_bad_input, 0, nd);
}
