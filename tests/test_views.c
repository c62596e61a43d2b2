/*
 * test_views.c — tensor views and wrapped host memory on every available
 * device: reshape and slice views share memory (both directions), keep
 * it alive in any destruction order, and work as inputs and outputs of
 * every op (Gemm, MatMul, Softmax, RNN, Attention, SeqAttention and the
 * tensor ops), including views at odd element offsets; results equal the
 * same op on plain tensors, and the parts of a tensor outside an output
 * view stay untouched.  seqk_tensor_wrap: no copy on host contexts,
 * alignment and size checks, SEQK_ERR_UNSUPPORTED on OpenCL.
 *
 * Built twice like test_tensor_ops.c: "views" and "opencl_views".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static int small_only(void) { return getenv("SEQK_OCL_SMALL") != NULL; }

static int on_device(seqk_context *ctx)
{
    seqk_device_facts f;
    f.struct_size = sizeof f;
    ck_assert_int_eq(seqk_context_device_facts(ctx, &f), SEQK_OK);
    return f.present;
}

static seqk_tensor *view_reshape(seqk_tensor *t, int nd, const int64_t *d)
{
    seqk_tensor *v = NULL;
    TU_OK(NULL, seqk_tensor_reshape_view(t, nd, d, &v));
    return v;
}

static seqk_tensor *view_slice(seqk_tensor *t, int axis, int64_t start,
                               int64_t len)
{
    seqk_tensor *v = NULL;
    TU_OK(NULL, seqk_tensor_slice_view(t, axis, start, len, &v));
    return v;
}

START_TEST(reshape_and_slice_share_memory)
{
    seqk_context *ctx = tu_context(_i);
    float x[24];
    for (int i = 0; i < 24; i++)
        x[i] = (float)i;
    const int64_t d[3] = {2, 3, 4}, d2[2] = {-1, 4};
    seqk_tensor *T = tu_f32(ctx, 3, d, x);
    seqk_tensor *R = view_reshape(T, 2, d2);
    ck_assert_int_eq(seqk_tensor_dim(R, 0), 6);
    ck_assert_int_eq(seqk_tensor_numel(R), 24);
    /* rows 2..3 of [6,4]: elements 8..15 */
    seqk_tensor *S = view_slice(R, 0, 2, 2);
    ck_assert_int_eq(seqk_tensor_dim(S, 0), 2);
    float *got = tu_read(S);
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq(got[i], (float)(8 + i));
    free(got);
    /* writing through the view shows in the parent */
    float w[8] = {-1, -2, -3, -4, -5, -6, -7, -8};
    TU_OK(ctx, seqk_tensor_write(S, w, sizeof w));
    got = tu_read(T);
    for (int i = 0; i < 24; i++)
        ck_assert_float_eq(got[i], i >= 8 && i < 16 ? w[i - 8] : (float)i);
    free(got);
    /* a slice along an axis whose leading dims are 1 */
    seqk_tensor *One = view_reshape(T, 2, (const int64_t[]){1, 24});
    seqk_tensor *Mid = view_slice(One, -1, 20, 3);
    got = tu_read(Mid);
    ck_assert_float_eq(got[0], 20.0f);
    ck_assert_float_eq(got[2], 22.0f);
    free(got);
    /* a view of a view of a view, then the parents go first */
    seqk_tensor *V3 = view_reshape(Mid, 1, (const int64_t[]){3});
    seqk_tensor_destroy(T);
    seqk_tensor_destroy(R);
    seqk_tensor_destroy(One);
    seqk_tensor_destroy(Mid);
    seqk_tensor_destroy(S);
    got = tu_read(V3);
    ck_assert_float_eq(got[1], 21.0f);
    free(got);
    seqk_tensor_destroy(V3);

    if (!small_only()) {
        seqk_tensor *U = tu_f32(ctx, 3, d, x), *v = NULL;
        const int64_t bad1[2] = {5, 5}, bad2[2] = {-1, -1}, bad3[2] = {-1, 5};
        TU_FAILS(ctx, seqk_tensor_reshape_view(U, 2, bad1, &v),
                 SEQK_ERR_SHAPE, "dims [5,5] hold 25 elements but tensor "
                 "[2,3,4] has 24");
        TU_FAILS(ctx, seqk_tensor_reshape_view(U, 2, bad2, &v),
                 SEQK_ERR_SHAPE, "only one dimension may be -1");
        TU_FAILS(ctx, seqk_tensor_reshape_view(U, 2, bad3, &v),
                 SEQK_ERR_SHAPE, "cannot infer the -1");
        TU_FAILS(ctx, seqk_tensor_reshape_view(U, 9, bad3, &v),
                 SEQK_ERR_SHAPE, "ndim 9");
        TU_FAILS(ctx, seqk_tensor_slice_view(U, 1, 0, 2, &v), SEQK_ERR_SHAPE,
                 "not contiguous (dimension 0 is 2, not 1)");
        TU_FAILS(ctx, seqk_tensor_slice_view(U, 0, 1, 2, &v), SEQK_ERR_SHAPE,
                 "[1, 1 + 2) is not inside 0..2 of axis 0");
        TU_FAILS(ctx, seqk_tensor_slice_view(U, 3, 0, 1, &v),
                 SEQK_ERR_INVALID_ARG, "axis 3 is outside [-3, 2]");
        const int64_t big[2] = {INT64_MAX / 2, 4};
        TU_FAILS(ctx, seqk_tensor_reshape_view(U, 2, big, &v),
                 SEQK_ERR_OVERFLOW, "overflow");
        ck_assert_ptr_null(v);
        seqk_tensor_destroy(U);
    }
    seqk_context_destroy(ctx);
}
END_TEST

/* Gemm and Softmax with every operand a view at an odd element offset;
 * the rows of the big output outside the view stay zero. */
START_TEST(views_in_gemm_and_softmax)
{
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 99);
    const int64_t M = 5, K = 7, N = 3;
    const int64_t abig[2] = {M + 3, K}, bflat[1] = {K * N};
    const int64_t ybig[2] = {M + 4, N};
    float *a = tu_rand(&r, (size_t)((M + 3) * K), -1, 1);
    float *b = tu_rand(&r, (size_t)(K * N), -1, 1);
    seqk_tensor *Abig = tu_f32(ctx, 2, abig, a);
    seqk_tensor *Bflat = tu_f32(ctx, 1, bflat, b);
    seqk_tensor *Ybig = NULL;
    TU_OK(ctx, seqk_tensor_create(ctx, 2, ybig, SEQK_F32, &Ybig));
    seqk_tensor *A = view_slice(Abig, 0, 3, M);      /* rows 3..7 */
    seqk_tensor *B = view_reshape(Bflat, 2, (const int64_t[]){K, N});
    seqk_tensor *Y = view_slice(Ybig, 0, 1, M);      /* rows 1..5 */
    seqk_gemm_params p;
    seqk_gemm_params_init(&p);
    TU_OK(ctx, seqk_gemm(ctx, &p, A, B, NULL, Y));
    /* the same on plain tensors */
    const int64_t ad[2] = {M, K}, bd[2] = {K, N}, yd[2] = {M, N};
    seqk_tensor *Ap = tu_f32(ctx, 2, ad, a + 3 * K), *Bp = tu_f32(ctx, 2, bd, b);
    seqk_tensor *Yp = tu_f32(ctx, 2, yd, NULL);
    TU_OK(ctx, seqk_gemm(ctx, &p, Ap, Bp, NULL, Yp));
    float *want = tu_read(Yp), *got = tu_read(Ybig);
    for (int64_t i = 0; i < (M + 4) * N; i++) {
        const int64_t row = i / N;
        const float w = row >= 1 && row <= M ? want[i - N] : 0.0f;
        ck_assert_msg(fabsf(got[i] - w) <= 1e-5f, "gemm via views [%lld]: "
                      "%g want %g", (long long)i, got[i], w);
    }
    free(got);
    tu_assert_guard(Ybig);
    /* MatMul on the same views */
    TU_OK(ctx, seqk_matmul(ctx, A, B, Y));
    got = tu_read(Y);
    TU_ASSERT_CLOSE(got, want, (size_t)(M * N), 1e-5f, 1e-5f);
    free(got);
    /* Softmax in place on a slice view (rows 1..5 of Ybig) */
    seqk_tensor *S = view_slice(Ybig, 0, 2, 3);
    TU_OK(ctx, seqk_softmax(ctx, -1, S, S));
    got = tu_read(Ybig);
    for (int64_t row = 0; row < M + 4; row++) {
        float sum = 0;
        for (int64_t j = 0; j < N; j++)
            sum += got[row * N + j];
        if (row >= 2 && row <= 4)
            ck_assert_msg(fabsf(sum - 1) < 1e-5f, "softmax row %lld", (long long)row);
    }
    free(got);
    free(want);
    free(a);
    free(b);
    seqk_tensor *objs[] = {Abig, Bflat, Ybig, A, B, Y, Ap, Bp, Yp, S};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        seqk_tensor_destroy(objs[i]);
    seqk_context_destroy(ctx);
}
END_TEST

/* A bidirectional LSTM's Y [T,2,B,H] (layout 0) read as keys for
 * SeqAttention and Attention through views, weights set from views, and
 * the decoder's row of a batch through a slice view. */
START_TEST(views_in_rnn_and_attention)
{
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 5);
    const int64_t T = 4, B = 1, I = 3, H = 5, D = 2;
    seqk_rnn_desc desc;
    seqk_rnn_desc_init(&desc, SEQK_CELL_LSTM, I, H);
    desc.direction = SEQK_BIDIRECTIONAL;
    seqk_rnn *rnn = NULL;
    TU_OK(ctx, seqk_rnn_create(ctx, &desc, &rnn));
    const int64_t wflat[1] = {D * 4 * H * I + 1}, rd[3] = {D, 4 * H, H};
    float *w = tu_rand(&r, (size_t)wflat[0], -0.5f, 0.5f);
    float *rw = tu_rand(&r, (size_t)(D * 4 * H * H), -0.5f, 0.5f);
    seqk_tensor *Wflat = tu_f32(ctx, 1, wflat, w);
    /* W at element offset 1 of a bigger tensor, then reshaped */
    seqk_tensor *W1 = view_slice(Wflat, 0, 1, D * 4 * H * I);
    seqk_tensor *W = view_reshape(W1, 3, (const int64_t[]){D, 4 * H, I});
    seqk_tensor *R = tu_f32(ctx, 3, rd, rw);
    TU_OK(ctx, seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_ONNX, W, R, NULL,
                                    NULL));
    const int64_t xd[3] = {T, B, I}, yd[4] = {T, D, B, H};
    float *x = tu_rand(&r, (size_t)(T * B * I), -1, 1);
    seqk_tensor *X = tu_f32(ctx, 3, xd, x);
    seqk_tensor *Y = tu_f32(ctx, 4, yd, NULL);
    TU_OK(ctx, seqk_rnn_forward(rnn, X, NULL, NULL, NULL, Y, NULL, NULL));
    /* with B = 1, Y [T,2,1,H] is keys [1,T,2H] for SeqAttention */
    seqk_tensor *keys = view_reshape(Y, 3, (const int64_t[]){B, T, D * H});
    const int64_t qd[2] = {B, D * H}, cd[2] = {B, D * H}, wd[2] = {B, T};
    float *q = tu_rand(&r, (size_t)(B * D * H), -1, 1);
    seqk_tensor *Q = tu_f32(ctx, 2, qd, q), *C = tu_f32(ctx, 2, cd, NULL);
    seqk_tensor *Wt = tu_f32(ctx, 2, wd, NULL);
    seqk_seq_attention_params sp;
    seqk_seq_attention_params_init(&sp);
    seqk_seq_attention_inputs in = {.query = Q, .keys = keys};
    TU_OK(ctx, seqk_seq_attention(ctx, &sp, &in, C, Wt));
    /* the same with a plain copy of keys */
    float *yv = tu_read(Y);
    seqk_tensor *Kp = tu_f32(ctx, 3, (const int64_t[]){B, T, D * H}, yv);
    seqk_tensor *Cp = tu_f32(ctx, 2, cd, NULL);
    in.keys = Kp;
    TU_OK(ctx, seqk_seq_attention(ctx, &sp, &in, Cp, NULL));
    float *g1 = tu_read(C), *g2 = tu_read(Cp);
    TU_ASSERT_CLOSE(g1, g2, (size_t)(B * D * H), 1e-6f, 1e-6f);
    free(g1);
    free(g2);
    /* Attention-23 4-D with Q, K, V all views of the same Y: [1,1,T,2H] */
    seqk_tensor *K4 = view_reshape(Y, 4, (const int64_t[]){1, 1, T, D * H});
    seqk_tensor *Y4 = tu_f32(ctx, 4, (const int64_t[]){1, 1, T, D * H}, NULL);
    seqk_attention_params ap;
    seqk_attention_params_init(&ap);
    TU_OK(ctx, seqk_attention(ctx, &ap, K4, K4, K4, NULL, Y4));
    seqk_tensor *K4p = tu_f32(ctx, 4, (const int64_t[]){1, 1, T, D * H}, yv);
    seqk_tensor *Y4p = tu_f32(ctx, 4, (const int64_t[]){1, 1, T, D * H}, NULL);
    TU_OK(ctx, seqk_attention(ctx, &ap, K4p, K4p, K4p, NULL, Y4p));
    g1 = tu_read(Y4);
    g2 = tu_read(Y4p);
    TU_ASSERT_CLOSE(g1, g2, (size_t)(T * D * H), 1e-6f, 1e-6f);
    free(g1);
    free(g2);
    /* the last time step's state, one slice: Y[T-1] as [1,2,1,H]; argmax
     * over it and a gather of its rows through views */
    seqk_tensor *last = view_slice(Y, 0, T - 1, 1);
    seqk_tensor *lastv = view_reshape(last, 2, (const int64_t[]){D, H});
    seqk_tensor *am = NULL;
    TU_OK(ctx, seqk_tensor_create(ctx, 1, (const int64_t[]){D}, SEQK_I64, &am));
    seqk_argmax_params amp;
    seqk_argmax_params_init(&amp);
    amp.axis = 1;
    amp.keepdims = 0;
    TU_OK(ctx, seqk_argmax(ctx, &amp, lastv, am));
    int64_t idx[2];
    TU_OK(ctx, seqk_tensor_read(am, idx, sizeof idx));
    for (int d = 0; d < D; d++) {
        const float *row = yv + ((T - 1) * D + d) * H;
        int64_t b = 0;
        for (int64_t h = 1; h < H; h++)
            if (row[h] > row[b])
                b = h;
        ck_assert_int_eq(idx[d], b);
    }
    free(yv);
    free(w);
    free(rw);
    free(x);
    free(q);
    seqk_tensor *objs[] = {Wflat, W1, W, R, X, Y, keys, Q, C, Wt, Kp, Cp,
                           K4, Y4, K4p, Y4p, last, lastv, am};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        seqk_tensor_destroy(objs[i]);
    seqk_rnn_destroy(rnn);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(wrap_host_memory)
{
    seqk_context *ctx = tu_context(_i);
    float buf[13] = {0};
    const int64_t d[2] = {3, 4};
    seqk_tensor *t = NULL;
    if (on_device(ctx)) {
        TU_FAILS(ctx, seqk_tensor_wrap(ctx, 2, d, SEQK_F32, buf,
                                       12 * sizeof(float), &t),
                 SEQK_ERR_UNSUPPORTED, "seqk_opencl_tensor_wrap");
        ck_assert_ptr_null(t);
        seqk_context_destroy(ctx);
        return;
    }
    for (int i = 0; i < 12; i++)
        buf[i] = (float)(i % 4);
    TU_OK(ctx, seqk_tensor_wrap(ctx, 2, d, SEQK_F32, buf, 12 * sizeof(float),
                                &t));
    /* ops write the caller's memory directly */
    TU_OK(ctx, seqk_softmax(ctx, -1, t, t));
    for (int i = 0; i < 12; i++)
        ck_assert_msg(fabsf(buf[i] - (float)(exp(i % 4) /
                                            (1 + exp(1) + exp(2) + exp(3)))) <
                          1e-6f, "buf[%d] = %g", i, buf[i]);
    /* a view of wrapped memory outlives the wrapper; the memory stays the
     * caller's */
    seqk_tensor *row = view_slice(t, 0, 1, 1);
    seqk_tensor_destroy(t);
    seqk_elementwise_params ep;
    seqk_elementwise_params_init(&ep, SEQK_EW_NEG);
    TU_OK(ctx, seqk_elementwise(ctx, &ep, row, NULL, row));
    ck_assert(buf[4] < 0 && buf[3] > 0 && buf[8] > 0);
    seqk_tensor_destroy(row);
    /* an i64 wrap, Gather into it */
    int64_t ids_out[3] = {9, 9, 9};
    const int64_t d3[1] = {3};
    seqk_tensor *o = NULL, *data = NULL, *ids = NULL;
    int64_t table[5] = {10, 11, 12, 13, 14};
    int32_t idv[3] = {4, -5, 2};
    TU_OK(ctx, seqk_tensor_wrap(ctx, 1, d3, SEQK_I64, ids_out, sizeof ids_out,
                                &o));
    TU_OK(ctx, seqk_tensor_wrap(ctx, 1, (const int64_t[]){5}, SEQK_I64, table,
                                sizeof table, &data));
    TU_OK(ctx, seqk_tensor_wrap(ctx, 1, d3, SEQK_I32, idv, sizeof idv, &ids));
    TU_OK(ctx, seqk_gather(ctx, 0, data, ids, o));
    ck_assert(ids_out[0] == 14 && ids_out[1] == 10 && ids_out[2] == 12);
    seqk_tensor_destroy(o);
    seqk_tensor_destroy(data);
    seqk_tensor_destroy(ids);
    /* empty tensors may wrap NULL */
    const int64_t z[1] = {0};
    TU_OK(ctx, seqk_tensor_wrap(ctx, 1, z, SEQK_F32, NULL, 0, &t));
    seqk_tensor_destroy(t);
    if (!small_only()) {
        TU_FAILS(ctx, seqk_tensor_wrap(ctx, 2, d, SEQK_F32,
                                       (char *)buf + 2, 48, &t),
                 SEQK_ERR_INVALID_ARG, "not aligned to the 4-byte elements");
        TU_FAILS(ctx, seqk_tensor_wrap(ctx, 2, d, SEQK_F32, buf, 52, &t),
                 SEQK_ERR_SHAPE, "52 bytes given but [3,4] f32 needs 48");
        TU_FAILS(ctx, seqk_tensor_wrap(ctx, 2, d, SEQK_F32, NULL, 48, &t),
                 SEQK_ERR_INVALID_ARG, "host is NULL");
        TU_FAILS(ctx, seqk_tensor_wrap(ctx, 2, d, (seqk_dtype)9, buf, 48, &t),
                 SEQK_ERR_DTYPE, "unknown dtype 9");
        const int64_t huge[2] = {INT64_MAX / 4, 8};
        TU_FAILS(ctx, seqk_tensor_wrap(ctx, 2, huge, SEQK_F32, buf, 48, &t),
                 SEQK_ERR_OVERFLOW, "too large");
        ck_assert_ptr_null(t);
    }
    seqk_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("views");
    TCase *tc = tcase_create("views");
    int nd = tu_device_count();
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, reshape_and_slice_share_memory, 0, nd);
    tcase_add_loop_test(tc, views_in_gemm_and_softmax, 0, nd);
    tcase_add_loop_test(tc, views_in_rnn_and_attention, 0, nd);
    tcase_add_loop_test(tc, wrap_host_memory, 0, nd);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
