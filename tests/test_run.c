/*
 * test_run.c — `seqk run` end to end: the built binary ($SEQK_EXE) is run
 * in a fresh directory on .npy inputs written here; every output it writes
 * is compared with the same op called through the public API on the same
 * inputs, once per available device (--device): the matmuls and RNNs.
 * test_run_attention.c has the attention ops and the error contract;
 * run_util.c what both share.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "npy.h"
#include "seqk.h"
#include "run_util.h"
#include "testutil.h"


/* ---------------------------------------------------------- matmuls */

START_TEST(run_gemm)
{
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 1);
    const int64_t ad[2] = { 4, 3 }, bd[2] = { 4, 5 }, cd[1] = { 5 };
    const int64_t yd[2] = { 3, 5 };
    float *a = tu_rand(&r, 12, -1, 1), *b = tu_rand(&r, 20, -1, 1);
    float *c = tu_rand(&r, 5, -1, 1);
    put_f32("A.npy", 2, ad, a);
    put_f32("B.npy", 2, bd, b);
    put_f32("C.npy", 1, cd, c);
    const char *args[] = { "Gemm", "--device", dev, "-i", "A=A.npy",
                           "-i", "B=B.npy", "-i", "C=C.npy", "-a", "transA=1",
                           "-a", "alpha=0.5", "-a", "beta=2", "-o", "Y=Y.npy",
                           NULL };
    run_ok(args);
    float *got = get("Y.npy", 2, yd);

    seqk_gemm_params p;
    seqk_gemm_params_init(&p);
    p.trans_a = 1;
    p.alpha = 0.5f;
    p.beta = 2.0f;
    seqk_tensor *tA = tu_f32(ctx, 2, ad, a), *tB = tu_f32(ctx, 2, bd, b);
    seqk_tensor *tC = tu_f32(ctx, 1, cd, c), *tY = tu_f32(ctx, 2, yd, NULL);
    TU_OK(ctx, seqk_gemm(ctx, &p, tA, tB, tC, tY));
    float *want = tu_read(tY);
    CLOSE(got, want, 15);
    free(got);
    free(want);
    free(a);
    free(b);
    free(c);
    seqk_tensor_destroy(tA);
    seqk_tensor_destroy(tB);
    seqk_tensor_destroy(tC);
    seqk_tensor_destroy(tY);
    seqk_context_destroy(ctx);
}
END_TEST

/* numpy matmul shapes: broadcast batches, 1-D operands promoted and the
 * promoted axis dropped.  The expected shapes are written out by hand. */
START_TEST(run_matmul)
{
    static const struct {
        int ra, rb, ry;
        int64_t a[4], b[4], y[4];
    } cases[] = {
        { 4, 3, 4, { 2, 1, 3, 4 }, { 3, 4, 5 }, { 2, 3, 3, 5 } },
        { 1, 2, 1, { 4 }, { 4, 5 }, { 5 } },
        { 3, 1, 2, { 2, 3, 4 }, { 4 }, { 2, 3 } },
        { 1, 1, 0, { 4 }, { 4 }, { 0 } },
    };
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 2);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int64_t na = numel(cases[k].ra, cases[k].a);
        int64_t nb = numel(cases[k].rb, cases[k].b);
        int64_t ny = numel(cases[k].ry, cases[k].y);
        float *a = tu_rand(&r, (size_t)na, -1, 1);
        float *b = tu_rand(&r, (size_t)nb, -1, 1);
        put_f32("A.npy", cases[k].ra, cases[k].a, a);
        put_f32("B.npy", cases[k].rb, cases[k].b, b);
        const char *args[] = { "MatMul", "--device", dev, "-i", "A=A.npy",
                               "-i", "B=B.npy", "-o", "Y=Y.npy", NULL };
        run_ok(args);
        float *got = get("Y.npy", cases[k].ry, cases[k].y);
        seqk_tensor *tA = tu_f32(ctx, cases[k].ra, cases[k].a, a);
        seqk_tensor *tB = tu_f32(ctx, cases[k].rb, cases[k].b, b);
        seqk_tensor *tY = tu_f32(ctx, cases[k].ry, cases[k].y, NULL);
        TU_OK(ctx, seqk_matmul(ctx, tA, tB, tY));
        float *want = tu_read(tY);
        CLOSE(got, want, ny);
        free(got);
        free(want);
        free(a);
        free(b);
        seqk_tensor_destroy(tA);
        seqk_tensor_destroy(tB);
        seqk_tensor_destroy(tY);
    }
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(run_softmax)
{
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 3);
    const int64_t d[3] = { 2, 3, 4 };
    float *x = tu_rand(&r, 24, -3, 3);
    put_f32("in.npy", 3, d, x);
    seqk_tensor *tX = tu_f32(ctx, 3, d, x), *tY = tu_f32(ctx, 3, d, NULL);
    for (int axis = -1; axis <= 1; axis += 2) {
        /* axis -1 is the default: the list then ends before "-a" */
        const char *args[] = { "Softmax", "--device", dev,
                               "-i", "input=in.npy", "-o", "output=out.npy",
                               axis == 1 ? "-a" : NULL, "axis=1", NULL };
        run_ok(args);
        float *got = get("out.npy", 3, d);
        TU_OK(ctx, seqk_softmax(ctx, axis, tX, tY));
        float *want = tu_read(tY);
        CLOSE(got, want, 24);
        free(got);
        free(want);
    }
    free(x);
    seqk_tensor_destroy(tX);
    seqk_tensor_destroy(tY);
    seqk_context_destroy(ctx);
}
END_TEST

/* ---------------------------------------------------------------- RNNs */


/* Bidirectional LSTM with every input, int64 sequence_lens, clip, and an
 * activations list whose alpha/beta values go, in order, only to the
 * functions that read them: HardSigmoid takes alpha 0.3 and beta 0.4,
 * LeakyRelu alpha 0.05. */
START_TEST(run_lstm)
{
    enum { T = 4, B = 3, I = 5, H = 4, D = 2 };
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 4);
    const int64_t xd[3] = { T, B, I }, wd[3] = { D, 4 * H, I };
    const int64_t rd[3] = { D, 4 * H, H }, bd[2] = { D, 8 * H };
    const int64_t pd[2] = { D, 3 * H }, hd[3] = { D, B, H };
    const int64_t yd[4] = { T, D, B, H }, ld[1] = { B };
    seqk_tensor *X = rand_input(ctx, &r, "X.npy", 3, xd);
    seqk_tensor *W = rand_input(ctx, &r, "W.npy", 3, wd);
    seqk_tensor *R = rand_input(ctx, &r, "R.npy", 3, rd);
    seqk_tensor *Bi = rand_input(ctx, &r, "B.npy", 2, bd);
    seqk_tensor *P = rand_input(ctx, &r, "P.npy", 2, pd);
    seqk_tensor *h0 = rand_input(ctx, &r, "h0.npy", 3, hd);
    seqk_tensor *c0 = rand_input(ctx, &r, "c0.npy", 3, hd);
    const int64_t lens64[B] = { 4, 0, 2 };
    const int32_t lens32[B] = { 4, 0, 2 };
    put("lens.npy", NPY_I64, 1, ld, lens64);
    seqk_tensor *L = tu_i32(ctx, 1, ld, lens32);

    const char *args[] = {
        "LSTM", "--device", dev, "-i", "X=X.npy", "-i", "W=W.npy", "-i",
        "R=R.npy", "-i", "B=B.npy", "-i", "P=P.npy", "-i", "initial_h=h0.npy",
        "-i", "initial_c=c0.npy", "-i", "sequence_lens=lens.npy",
        "-a", "direction=bidirectional", "-a", "hidden_size=4",
        "-a", "activations=HardSigmoid,Tanh,Tanh,Sigmoid,LeakyRelu,Softsign",
        "-a", "activation_alpha=0.3,0.05", "-a", "activation_beta=0.4",
        "-a", "clip=2.5", "-o", "Y=Y.npy", "-o", "Y_h=Yh.npy",
        "-o", "Y_c=Yc.npy", NULL
    };
    run_ok(args);

    seqk_rnn_desc desc;
    seqk_rnn_desc_init(&desc, SEQK_CELL_LSTM, I, H);
    desc.direction = SEQK_BIDIRECTIONAL;
    desc.clip = 2.5f;
    desc.num_activations = 6;
    const seqk_act_kind kinds[6] = { SEQK_ACT_HARD_SIGMOID, SEQK_ACT_TANH,
                                     SEQK_ACT_TANH, SEQK_ACT_SIGMOID,
                                     SEQK_ACT_LEAKY_RELU, SEQK_ACT_SOFTSIGN };
    for (int k = 0; k < 6; k++)
        desc.activations[k] = seqk_activation_default(kinds[k]);
    desc.activations[0].alpha = 0.3f;
    desc.activations[0].beta = 0.4f;
    desc.activations[4].alpha = 0.05f;
    seqk_rnn *rnn;
    TU_OK(ctx, seqk_rnn_create(ctx, &desc, &rnn));
    TU_OK(ctx, seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_ONNX, W, R, Bi, P));
    seqk_tensor *Y = tu_f32(ctx, 4, yd, NULL), *Yh = tu_f32(ctx, 3, hd, NULL);
    seqk_tensor *Yc = tu_f32(ctx, 3, hd, NULL);
    TU_OK(ctx, seqk_rnn_forward(rnn, X, L, h0, c0, Y, Yh, Yc));
    check_output("Y.npy", Y);
    check_output("Yh.npy", Yh);
    check_output("Yc.npy", Yc);

    seqk_tensor *all[] = { X, W, R, Bi, P, h0, c0, L, Y, Yh, Yc };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        seqk_tensor_destroy(all[k]);
    seqk_rnn_destroy(rnn);
    seqk_context_destroy(ctx);
}
END_TEST

/* Batch-first reverse GRU with linear_before_reset, hidden_size inferred
 * from R, int32 sequence_lens. */
START_TEST(run_gru_layout1)
{
    enum { T = 5, B = 2, I = 3, H = 6 };
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 5);
    const int64_t xd[3] = { B, T, I }, wd[3] = { 1, 3 * H, I };
    const int64_t rd[3] = { 1, 3 * H, H }, bd[2] = { 1, 6 * H };
    const int64_t yd[4] = { B, T, 1, H }, hd[3] = { B, 1, H }, ld[1] = { B };
    seqk_tensor *X = rand_input(ctx, &r, "X.npy", 3, xd);
    seqk_tensor *W = rand_input(ctx, &r, "W.npy", 3, wd);
    seqk_tensor *R = rand_input(ctx, &r, "R.npy", 3, rd);
    seqk_tensor *Bi = rand_input(ctx, &r, "B.npy", 2, bd);
    const int32_t lens[B] = { 3, 5 };
    put("lens.npy", NPY_I32, 1, ld, lens);
    seqk_tensor *L = tu_i32(ctx, 1, ld, lens);
    const char *args[] = {
        "GRU", "--device", dev, "-i", "X=X.npy", "-i", "W=W.npy", "-i",
        "R=R.npy", "-i", "B=B.npy", "-i", "sequence_lens=lens.npy",
        "-a", "layout=1", "-a", "direction=reverse",
        "-a", "linear_before_reset=1", "-o", "Y=Y.npy", "-o", "Y_h=Yh.npy",
        NULL
    };
    run_ok(args);

    seqk_rnn_desc desc;
    seqk_rnn_desc_init(&desc, SEQK_CELL_GRU, I, H);
    desc.direction = SEQK_REVERSE;
    desc.layout = 1;
    desc.linear_before_reset = 1;
    seqk_rnn *rnn;
    TU_OK(ctx, seqk_rnn_create(ctx, &desc, &rnn));
    TU_OK(ctx, seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_ONNX, W, R, Bi,
                                    NULL));
    seqk_tensor *Y = tu_f32(ctx, 4, yd, NULL), *Yh = tu_f32(ctx, 3, hd, NULL);
    TU_OK(ctx, seqk_rnn_forward(rnn, X, L, NULL, NULL, Y, Yh, NULL));
    check_output("Y.npy", Y);
    check_output("Yh.npy", Yh);

    seqk_tensor *all[] = { X, W, R, Bi, L, Y, Yh };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        seqk_tensor_destroy(all[k]);
    seqk_rnn_destroy(rnn);
    seqk_context_destroy(ctx);
}
END_TEST

/* Two stacked bidirectional GRU layers in PyTorch's weight format, given
 * with the short spellings (dir=bi, layers=2) and --threads: layer 1's
 * weights as W_l1/R_l1/B_l1, and linear_before_reset defaulting to 1 (a
 * PyTorch GRU).  The library with the same weights is the oracle. */
START_TEST(run_gru_pytorch_stacked)
{
    enum { T = 4, B = 2, I = 3, H = 5, D = 2, L = 2 };
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 7);
    const int64_t xd[3] = { T, B, I }, wd0[3] = { D, 3 * H, I };
    const int64_t wd1[3] = { D, 3 * H, D * H }, rd[3] = { D, 3 * H, H };
    const int64_t bd[2] = { D, 6 * H }, hd[3] = { L * D, B, H };
    const int64_t yd[4] = { T, D, B, H };
    seqk_tensor *X = rand_input(ctx, &r, "X.npy", 3, xd);
    seqk_tensor *W0 = rand_input(ctx, &r, "W.npy", 3, wd0);
    seqk_tensor *R0 = rand_input(ctx, &r, "R.npy", 3, rd);
    seqk_tensor *B0 = rand_input(ctx, &r, "B.npy", 2, bd);
    seqk_tensor *W1 = rand_input(ctx, &r, "W1.npy", 3, wd1);
    seqk_tensor *R1 = rand_input(ctx, &r, "R1.npy", 3, rd);
    seqk_tensor *B1 = rand_input(ctx, &r, "B1.npy", 2, bd);
    seqk_tensor *h0 = rand_input(ctx, &r, "h0.npy", 3, hd);
    const char *args[] = {
        "GRU", "--device", dev, "--threads", "1", "-i", "X=X.npy",
        "-i", "W=W.npy", "-i", "R=R.npy", "-i", "B=B.npy",
        "-i", "W_l1=W1.npy", "-i", "R_l1=R1.npy", "-i", "B_l1=B1.npy",
        "-i", "initial_h=h0.npy", "-a", "weight_format=pytorch",
        "-a", "dir=bi", "-a", "layers=2", "-o", "Y=Y.npy",
        "-o", "Y_h=Yh.npy", NULL
    };
    run_ok(args);

    seqk_rnn_desc desc;
    seqk_rnn_desc_init(&desc, SEQK_CELL_GRU, I, H);
    desc.direction = SEQK_BIDIRECTIONAL;
    desc.num_layers = L;
    desc.linear_before_reset = 1;
    seqk_rnn *rnn;
    TU_OK(ctx, seqk_rnn_create(ctx, &desc, &rnn));
    TU_OK(ctx, seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_PYTORCH, W0, R0, B0,
                                    NULL));
    TU_OK(ctx, seqk_rnn_set_weights(rnn, 1, SEQK_WEIGHTS_PYTORCH, W1, R1, B1,
                                    NULL));
    seqk_tensor *Y = tu_f32(ctx, 4, yd, NULL), *Yh = tu_f32(ctx, 3, hd, NULL);
    TU_OK(ctx, seqk_rnn_forward(rnn, X, NULL, h0, NULL, Y, Yh, NULL));
    check_output("Y.npy", Y);
    check_output("Yh.npy", Yh);

    seqk_tensor *all[] = { X, W0, R0, B0, W1, R1, B1, h0, Y, Yh };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        seqk_tensor_destroy(all[k]);
    seqk_rnn_destroy(rnn);
    seqk_context_destroy(ctx);
}
END_TEST

/* Plain RNN with Relu and an initial state; only Y_h is asked for. */
START_TEST(run_rnn_only_yh)
{
    enum { T = 3, B = 2, I = 4, H = 3 };
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 6);
    const int64_t xd[3] = { T, B, I }, wd[3] = { 1, H, I };
    const int64_t rd[3] = { 1, H, H }, hd[3] = { 1, B, H };
    seqk_tensor *X = rand_input(ctx, &r, "X.npy", 3, xd);
    seqk_tensor *W = rand_input(ctx, &r, "W.npy", 3, wd);
    seqk_tensor *R = rand_input(ctx, &r, "R.npy", 3, rd);
    seqk_tensor *h0 = rand_input(ctx, &r, "h0.npy", 3, hd);
    const char *args[] = { "RNN", "--device", dev, "-i", "X=X.npy",
                           "-i", "W=W.npy", "-i", "R=R.npy",
                           "-i", "initial_h=h0.npy", "-a", "activations=Relu",
                           "-a", "hidden_size=3", "-o", "Y_h=Yh.npy", NULL };
    run_ok(args);

    seqk_rnn_desc desc;
    seqk_rnn_desc_init(&desc, SEQK_CELL_RNN, I, H);
    desc.num_activations = 1;
    desc.activations[0] = seqk_activation_default(SEQK_ACT_RELU);
    seqk_rnn *rnn;
    TU_OK(ctx, seqk_rnn_create(ctx, &desc, &rnn));
    TU_OK(ctx, seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_ONNX, W, R, NULL,
                                    NULL));
    seqk_tensor *Yh = tu_f32(ctx, 3, hd, NULL);
    TU_OK(ctx, seqk_rnn_forward(rnn, X, NULL, h0, NULL, NULL, Yh, NULL));
    check_output("Yh.npy", Yh);

    seqk_tensor *all[] = { X, W, R, h0, Yh };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        seqk_tensor_destroy(all[k]);
    seqk_rnn_destroy(rnn);
    seqk_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("run");
    TCase *tc = tcase_create("run");
    int nd = tu_device_count();
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, run_setup, run_teardown);
    tcase_add_loop_test(tc, run_gemm, 0, nd);
    tcase_add_loop_test(tc, run_matmul, 0, nd);
    tcase_add_loop_test(tc, run_softmax, 0, nd);
    tcase_add_loop_test(tc, run_lstm, 0, nd);
    tcase_add_loop_test(tc, run_gru_layout1, 0, nd);
    tcase_add_loop_test(tc, run_gru_pytorch_stacked, 0, nd);
    tcase_add_loop_test(tc, run_rnn_only_yh, 0, nd);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
