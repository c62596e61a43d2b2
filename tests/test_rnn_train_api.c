/*
 * test_rnn_train_api.c — RNN training through the public API on small
 * plans: accumulate, truncated BPTT, sequence lengths, the weight formats
 * of the gradients, every error case, and OpenCL's UNSUPPORTED (the FD
 * checks are in test_rnn_train.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqk.h"
#include "test_rnn_train.h"
#include "testutil.h"

/* A small LSTM plan with weights, its tensors and a training forward. */
typedef struct small {
    seqk_context *ctx;
    seqk_rnn *rnn;
    seqk_tensor *X, *Y, *ws, *dY, *dX, *dW, *dR, *dB;
} small;

static void small_make(small *s, seqk_context *ctx, seqk_cell cell, int64_t T)
{
    const int64_t H = 3, I = 2, B = 2;
    const int G = cell == SEQK_CELL_LSTM ? 4 : cell == SEQK_CELL_GRU ? 3 : 1;
    tu_rng rng;
    tu_rng_init(&rng, 9);
    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    seqk_rnn_desc d;
    seqk_rnn_desc_init(&d, cell, I, H);
    TU_OK(ctx, seqk_rnn_create(ctx, &d, &s->rnn));
    const int64_t wd[3] = {1, G * H, I}, rd[3] = {1, G * H, H}, bd[2] = {1, 2 * G * H};
    float *w = tu_rand(&rng, (size_t)(G * H * (I + H + 2)), -0.5f, 0.5f);
    seqk_tensor *W = tu_f32(ctx, 3, wd, w), *R = tu_f32(ctx, 3, rd, w + G * H * I);
    seqk_tensor *Bt = tu_f32(ctx, 2, bd, w + G * H * (I + H));
    TU_OK(ctx, seqk_rnn_set_weights(s->rnn, 0, SEQK_WEIGHTS_ONNX, W, R, Bt, NULL));
    s->dW = tu_f32(ctx, 3, wd, NULL);
    s->dR = tu_f32(ctx, 3, rd, NULL);
    s->dB = tu_f32(ctx, 2, bd, NULL);
    seqk_tensor_destroy(W);
    seqk_tensor_destroy(R);
    seqk_tensor_destroy(Bt);
    free(w);
    const int64_t xd[3] = {T, B, I}, yd[4] = {T, 1, B, H};
    float *x = tu_rand(&rng, (size_t)(T * B * I), -1, 1);
    float *dy = tu_rand(&rng, (size_t)(T * B * H), -1, 1);
    s->X = tu_f32(ctx, 3, xd, x);
    s->dX = tu_f32(ctx, 3, xd, NULL);
    s->Y = tu_f32(ctx, 4, yd, NULL);
    s->dY = tu_f32(ctx, 4, yd, dy);
    free(x);
    free(dy);
    int64_t n;
    TU_OK(ctx, seqk_rnn_workspace_size(s->rnn, T, B, &n));
    s->ws = tu_f32(ctx, 1, &n, NULL);
}

static void small_free(small *s)
{
    seqk_tensor *ts[] = {s->X, s->Y, s->ws, s->dY, s->dX, s->dW, s->dR, s->dB};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        seqk_tensor_destroy(ts[i]);
    seqk_rnn_destroy(s->rnn);
}

static seqk_rnn_backward_args small_args(const small *s, int accumulate)
{
    seqk_rnn_backward_args a;
    seqk_rnn_backward_args_init(&a);
    a.X = s->X;
    a.dY = s->dY;
    a.dX = s->dX;
    a.accumulate = accumulate;
    return a;
}

static float *grads_of(small *s)
{
    TU_OK(s->ctx, seqk_rnn_get_weight_grads(s->rnn, 0, SEQK_WEIGHTS_ONNX, s->dW,
                                            s->dR, s->dB, NULL));
    const size_t nw = (size_t)seqk_tensor_numel(s->dW), nr = (size_t)seqk_tensor_numel(s->dR);
    const size_t nb = (size_t)seqk_tensor_numel(s->dB);
    float *all = malloc(sizeof(float) * (nw + nr + nb));
    TU_OK(s->ctx, seqk_tensor_read(s->dW, all, nw * sizeof(float)));
    TU_OK(s->ctx, seqk_tensor_read(s->dR, all + nw, nr * sizeof(float)));
    TU_OK(s->ctx, seqk_tensor_read(s->dB, all + nw + nr, nb * sizeof(float)));
    return all;
}

/* (c) accumulate 0 overwrites, 1 adds; zero_weight_grads clears. */
START_TEST(accumulate)
{
    seqk_context *ctx = tu_context(0);
    small s;
    small_make(&s, ctx, SEQK_CELL_LSTM, 4);
    const size_t n = (size_t)(seqk_tensor_numel(s.dW) + seqk_tensor_numel(s.dR) + seqk_tensor_numel(s.dB));
    float *zero = grads_of(&s); /* a fresh plan: zeros */
    for (size_t i = 0; i < n; i++)
        ck_assert(zero[i] == 0.0f);
    TU_OK(ctx, seqk_rnn_forward_training(s.rnn, s.X, NULL, NULL, NULL, s.Y, NULL, NULL, s.ws));
    seqk_rnn_backward_args a = small_args(&s, 0);
    TU_OK(ctx, seqk_rnn_backward(s.rnn, &a, s.ws));
    float *once = grads_of(&s);
    TU_OK(ctx, seqk_rnn_backward(s.rnn, &a, s.ws)); /* overwrite: same */
    float *again = grads_of(&s);
    ck_assert(memcmp(once, again, n * sizeof(float)) == 0);
    a.accumulate = 1;
    TU_OK(ctx, seqk_rnn_backward(s.rnn, &a, s.ws));
    float *twice = grads_of(&s);
    int nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(fabsf(twice[i] - 2 * once[i]) <= 1e-6f * (1 + fabsf(once[i])),
                      "%zu: %g vs 2 x %g", i, (double)twice[i], (double)once[i]);
        nonzero += once[i] != 0;
    }
    ck_assert_int_gt(nonzero, (int)n / 2);
    TU_OK(ctx, seqk_rnn_zero_weight_grads(s.rnn));
    free(again);
    again = grads_of(&s);
    for (size_t i = 0; i < n; i++)
        ck_assert(again[i] == 0.0f);
    free(zero);
    free(once);
    free(again);
    free(twice);
    small_free(&s);
    seqk_context_destroy(ctx);
}
END_TEST

/* (d) truncated BPTT over two chunks: with the second chunk's dinitial_h
 * (dinitial_c) fed back as the first chunk's dY_h (dY_c), the gradients
 * are those of BPTT over the whole sequence; without it nothing crosses
 * the cut (the first chunk's gradients are those of its own loss). */
START_TEST(truncated_bptt)
{
    for (int dev = 0; dev < tu_device_count(); dev++) {
        if (!rnn_train_host_device(dev))
            continue;
        seqk_context *ctx = tu_context(dev);
        const int64_t T = 6, T1 = 2, B = 2, H = 3, I = 2;
        const int64_t T2 = T - T1;
        small s;
        small_make(&s, ctx, SEQK_CELL_LSTM, T);
        const size_t ng = (size_t)(seqk_tensor_numel(s.dW) + seqk_tensor_numel(s.dR) + seqk_tensor_numel(s.dB));
        float *x = tu_read(s.X), *dy = tu_read(s.dY);
        /* whole sequence */
        TU_OK(ctx, seqk_rnn_forward_training(s.rnn, s.X, NULL, NULL, NULL, s.Y, NULL, NULL, s.ws));
        seqk_rnn_backward_args a = small_args(&s, 0);
        TU_OK(ctx, seqk_rnn_backward(s.rnn, &a, s.ws));
        float *g_full = grads_of(&s), *dx_full = tu_read(s.dX);

        /* chunks: X[0:T1] then X[T1:T], the state carried */
        const int64_t x1d[3] = {T1, B, I}, x2d[3] = {T2, B, I};
        const int64_t y1d[4] = {T1, 1, B, H}, y2d[4] = {T2, 1, B, H};
        const int64_t sd[3] = {1, B, H};
        seqk_tensor *X1 = tu_f32(ctx, 3, x1d, x), *X2 = tu_f32(ctx, 3, x2d, x + T1 * B * I);
        seqk_tensor *dY1 = tu_f32(ctx, 4, y1d, dy), *dY2 = tu_f32(ctx, 4, y2d, dy + T1 * B * H);
        seqk_tensor *Y1 = tu_f32(ctx, 4, y1d, NULL), *Y2 = tu_f32(ctx, 4, y2d, NULL);
        seqk_tensor *h = tu_f32(ctx, 3, sd, NULL), *c = tu_f32(ctx, 3, sd, NULL);
        seqk_tensor *dh = tu_f32(ctx, 3, sd, NULL), *dc = tu_f32(ctx, 3, sd, NULL);
        seqk_tensor *dX1 = tu_f32(ctx, 3, x1d, NULL), *dX2 = tu_f32(ctx, 3, x2d, NULL);
        int64_t n1, n2;
        TU_OK(ctx, seqk_rnn_workspace_size(s.rnn, T1, B, &n1));
        TU_OK(ctx, seqk_rnn_workspace_size(s.rnn, T2, B, &n2));
        seqk_tensor *ws1 = tu_f32(ctx, 1, &n1, NULL), *ws2 = tu_f32(ctx, 1, &n2, NULL);
        TU_OK(ctx, seqk_rnn_forward_training(s.rnn, X1, NULL, NULL, NULL, Y1, h, c, ws1));
        /* Y_h = initial_h in place: the state carried over the cut */
        TU_OK(ctx, seqk_rnn_forward_training(s.rnn, X2, NULL, h, c, Y2, h, c, ws2));

        for (int feed = 1; feed >= 0; feed--) {
            seqk_rnn_backward_args a2;
            seqk_rnn_backward_args_init(&a2);
            a2.X = X2;
            a2.initial_h = h; /* shapes only: the states are in ws2 */
            a2.initial_c = c;
            a2.dY = dY2;
            a2.dX = dX2;
            a2.dinitial_h = dh;
            a2.dinitial_c = dc;
            TU_OK(ctx, seqk_rnn_backward(s.rnn, &a2, ws2));
            seqk_rnn_backward_args a1;
            seqk_rnn_backward_args_init(&a1);
            a1.X = X1;
            a1.dY = dY1;
            a1.dX = dX1;
            a1.dY_h = feed ? dh : NULL;
            a1.dY_c = feed ? dc : NULL;
            a1.accumulate = 1;
            TU_OK(ctx, seqk_rnn_backward(s.rnn, &a1, ws1));
            float *g = grads_of(&s), *d1 = tu_read(dX1), *d2 = tu_read(dX2);
            if (feed) {
                TU_ASSERT_CLOSE(g, g_full, ng, 1e-5f, 1e-5f);
                TU_ASSERT_CLOSE(d1, dx_full, (size_t)(T1 * B * I), 1e-5f, 1e-5f);
                TU_ASSERT_CLOSE(d2, dx_full + T1 * B * I, (size_t)(T2 * B * I), 1e-6f, 1e-6f);
            } else {
                /* the first chunk lost what came over the cut (tu_close,
                 * not a max loop here: aarch64 gcc 12's vectorizer has an
                 * internal error on that fmax reduction in this function) */
                char msg[256];
                ck_assert_msg(!tu_close(d1, dx_full, (size_t)(T1 * B * I),
                                        1e-3f, 0.0f, msg, sizeof msg),
                              "no gradient crossed the cut, yet dX of chunk "
                              "1 is within 1e-3 of BPTT's");
                /* and is exactly the gradient of chunk 1 alone */
                seqk_rnn_backward_args a0 = a1;
                a0.accumulate = 0;
                seqk_tensor *dX0 = tu_f32(ctx, 3, x1d, NULL);
                a0.dX = dX0;
                TU_OK(ctx, seqk_rnn_backward(s.rnn, &a0, ws1));
                float *d0 = tu_read(dX0);
                ck_assert(memcmp(d0, d1, sizeof(float) * (size_t)(T1 * B * I)) == 0);
                free(d0);
                seqk_tensor_destroy(dX0);
            }
            free(g);
            free(d1);
            free(d2);
        }
        seqk_tensor *ts[] = {X1, X2, dY1, dY2, Y1, Y2, h, c, dh, dc, dX1, dX2, ws1, ws2};
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
            seqk_tensor_destroy(ts[i]);
        free(x);
        free(dy);
        free(g_full);
        free(dx_full);
        small_free(&s);
        seqk_context_destroy(ctx);
    }
}
END_TEST

/* (e) sequence_lens: dX is zero past each length, and dY there is
 * ignored (Y is the constant 0 there). */
START_TEST(lengths)
{
    seqk_context *ctx = tu_context(0);
    const int64_t T = 5, B = 2, I = 2;
    small s;
    small_make(&s, ctx, SEQK_CELL_GRU, T);
    const int32_t lv[2] = {3, 0};
    const int64_t ld[1] = {B};
    seqk_tensor *lens = tu_i32(ctx, 1, ld, lv);
    TU_OK(ctx, seqk_rnn_forward_training(s.rnn, s.X, lens, NULL, NULL, s.Y, NULL, NULL, s.ws));
    seqk_rnn_backward_args a = small_args(&s, 0);
    a.sequence_lens = lens;
    TU_OK(ctx, seqk_rnn_backward(s.rnn, &a, s.ws));
    float *g1 = grads_of(&s), *dx = tu_read(s.dX);
    for (int64_t t = 0; t < T; t++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t i = 0; i < I; i++) {
                const float v = dx[(t * B + b) * I + i];
                if (t >= lv[b])
                    ck_assert_msg(v == 0.0f, "dX[%lld,%lld] = %g past the length",
                                  (long long)t, (long long)b, (double)v);
                else
                    ck_assert(v != 0.0f);
            }
    /* change dY past the lengths: nothing moves */
    float *dy = tu_read(s.dY);
    for (int64_t t = 0; t < T; t++)
        for (int64_t b = 0; b < B; b++)
            if (t >= lv[b])
                for (int64_t h = 0; h < 3; h++)
                    dy[(t * B + b) * 3 + h] = 100.0f;
    TU_OK(ctx, seqk_tensor_write(s.dY, dy, sizeof(float) * (size_t)(T * B * 3)));
    TU_OK(ctx, seqk_rnn_backward(s.rnn, &a, s.ws));
    float *g2 = grads_of(&s), *dx2 = tu_read(s.dX);
    const size_t ng = (size_t)(seqk_tensor_numel(s.dW) + seqk_tensor_numel(s.dR) + seqk_tensor_numel(s.dB));
    ck_assert(memcmp(g1, g2, ng * sizeof(float)) == 0);
    ck_assert(memcmp(dx, dx2, sizeof(float) * (size_t)(T * B * I)) == 0);
    free(g1);
    free(g2);
    free(dx);
    free(dx2);
    free(dy);
    seqk_tensor_destroy(lens);
    small_free(&s);
    seqk_context_destroy(ctx);
}
END_TEST

/* The weight formats: gradients convert like weights; oneDNN's summed
 * bias gets dWb (the gradient with respect to that one bias). */
START_TEST(formats)
{
    seqk_context *ctx = tu_context(0);
    small s;
    small_make(&s, ctx, SEQK_CELL_LSTM, 3);
    TU_OK(ctx, seqk_rnn_forward_training(s.rnn, s.X, NULL, NULL, NULL, s.Y, NULL, NULL, s.ws));
    seqk_rnn_backward_args a = small_args(&s, 0);
    TU_OK(ctx, seqk_rnn_backward(s.rnn, &a, s.ws));
    float *onnx = grads_of(&s);
    const int64_t H = 3, I = 2, G = 4, GH = G * H;
    size_t nw, nr, nb;
    for (int f = SEQK_WEIGHTS_PYTORCH; f <= SEQK_WEIGHTS_ONEDNN; f++) {
        TU_OK(ctx, seqk_rnn_weight_sizes(SEQK_CELL_LSTM, 0, 1, H, I, (seqk_weight_format)f,
                                         &nw, &nr, &nb));
        const int64_t n4w[4] = {1, I, G, H}, n4r[4] = {1, H, G, H}, n3b[3] = {1, G, H};
        const int64_t n3w[3] = {1, GH, I}, n3r[3] = {1, GH, H}, n2b[2] = {1, 2 * GH};
        const int od = f == SEQK_WEIGHTS_ONEDNN;
        seqk_tensor *W = od ? tu_f32(ctx, 4, n4w, NULL) : tu_f32(ctx, 3, n3w, NULL);
        seqk_tensor *R = od ? tu_f32(ctx, 4, n4r, NULL) : tu_f32(ctx, 3, n3r, NULL);
        seqk_tensor *Bt = od ? tu_f32(ctx, 3, n3b, NULL) : tu_f32(ctx, 2, n2b, NULL);
        TU_OK(ctx, seqk_rnn_get_weight_grads(s.rnn, 0, (seqk_weight_format)f, W, R, Bt, NULL));
        float *w = tu_read(W), *r = tu_read(R), *b = tu_read(Bt);
        /* expected: the library's own converter applied to the ONNX
         * gradients, with a zero Rb for oneDNN */
        float *ew = malloc(sizeof(float) * nw), *er = malloc(sizeof(float) * nr);
        float *eb = malloc(sizeof(float) * nb), *ob = malloc(sizeof(float) * 2 * GH);
        memcpy(ob, onnx + GH * (I + H), sizeof(float) * 2 * GH);
        if (od)
            memset(ob + GH, 0, sizeof(float) * GH);
        TU_OK(NULL, seqk_rnn_convert_weights(SEQK_CELL_LSTM, 0, 1, H, I, SEQK_WEIGHTS_ONNX,
                                             (seqk_weight_format)f, onnx, onnx + GH * I, ob,
                                             ew, er, eb));
        ck_assert(memcmp(w, ew, sizeof(float) * nw) == 0);
        ck_assert(memcmp(r, er, sizeof(float) * nr) == 0);
        ck_assert(memcmp(b, eb, sizeof(float) * nb) == 0);
        if (od) /* dWb == dRb for every LSTM gate: oneDNN's db is either */
            for (int64_t k = 0; k < GH; k++)
                ck_assert_msg(fabsf(onnx[GH * (I + H) + k] - onnx[GH * (I + H) + GH + k]) <= 1e-6f,
                              "dWb[%lld] != dRb", (long long)k);
        free(w); free(r); free(b); free(ew); free(er); free(eb); free(ob);
        seqk_tensor_destroy(W);
        seqk_tensor_destroy(R);
        seqk_tensor_destroy(Bt);
    }
    free(onnx);
    small_free(&s);
    seqk_context_destroy(ctx);
}
END_TEST

/* (f) errors: clear status and message. */
START_TEST(errors)
{
    seqk_context *ctx = tu_context(0);
    small s;
    small_make(&s, ctx, SEQK_CELL_LSTM, 3);
    seqk_rnn_backward_args a = small_args(&s, 0);
    int64_t n = 0;

    TU_FAILS(NULL, seqk_rnn_workspace_size(NULL, 3, 2, &n), SEQK_ERR_INVALID_ARG, "rnn is NULL");
    TU_FAILS(ctx, seqk_rnn_workspace_size(s.rnn, -1, 2, &n), SEQK_ERR_INVALID_ARG, "seq_len=-1");
    TU_FAILS(ctx, seqk_rnn_workspace_size(s.rnn, 3, 2, NULL), SEQK_ERR_INVALID_ARG, "floats");
    TU_FAILS(ctx, seqk_rnn_workspace_size(s.rnn, INT64_MAX / 4, 1 << 20, &n),
             SEQK_ERR_OVERFLOW, "overflow");

    /* a workspace no training forward filled */
    TU_FAILS(ctx, seqk_rnn_backward(s.rnn, &a, s.ws), SEQK_ERR_INVALID_ARG,
             "not filled by a training forward");
    /* wrong size */
    const int64_t small_n = seqk_tensor_numel(s.ws) - 1;
    seqk_tensor *ws_bad = tu_f32(ctx, 1, &small_n, NULL);
    TU_FAILS(ctx, seqk_rnn_forward_training(s.rnn, s.X, NULL, NULL, NULL, s.Y, NULL, NULL, ws_bad),
             SEQK_ERR_SHAPE, "seqk_rnn_workspace_size");
    TU_FAILS(ctx, seqk_rnn_backward(s.rnn, &a, ws_bad), SEQK_ERR_SHAPE, "workspace has");
    seqk_tensor_destroy(ws_bad);
    TU_FAILS(ctx, seqk_rnn_forward_training(s.rnn, s.X, NULL, NULL, NULL, s.Y, NULL, NULL, NULL),
             SEQK_ERR_INVALID_ARG, "workspace");
    /* an i32 workspace */
    const int64_t ws_n = seqk_tensor_numel(s.ws);
    seqk_tensor *ws_i = tu_i32(ctx, 1, &ws_n, NULL);
    TU_FAILS(ctx, seqk_rnn_forward_training(s.rnn, s.X, NULL, NULL, NULL, s.Y, NULL, NULL, ws_i),
             SEQK_ERR_DTYPE, "workspace");
    seqk_tensor_destroy(ws_i);

    TU_OK(ctx, seqk_rnn_forward_training(s.rnn, s.X, NULL, NULL, NULL, s.Y, NULL, NULL, s.ws));
    /* other lengths than the forward's */
    const int32_t lv[2] = {3, 1};
    const int64_t ld[1] = {2};
    seqk_tensor *lens = tu_i32(ctx, 1, ld, lv);
    a.sequence_lens = lens;
    TU_FAILS(ctx, seqk_rnn_backward(s.rnn, &a, s.ws), SEQK_ERR_INVALID_ARG,
             "sequence_lens[1] is 1 but the training forward ran with 3");
    a.sequence_lens = NULL;
    seqk_tensor_destroy(lens);
    /* gradients of the wrong shape or dtype */
    const int64_t bad_d[4] = {3, 1, 2, 4};
    seqk_tensor *bad = tu_f32(ctx, 4, bad_d, NULL);
    a.dY = bad;
    TU_FAILS(ctx, seqk_rnn_backward(s.rnn, &a, s.ws), SEQK_ERR_SHAPE, "dY has shape [3,1,2,4]");
    a.dY = s.dY;
    a.dX = (seqk_tensor *)bad;
    TU_FAILS(ctx, seqk_rnn_backward(s.rnn, &a, s.ws), SEQK_ERR_SHAPE, "dX");
    a.dX = s.dX;
    a.dinitial_h = bad;
    TU_FAILS(ctx, seqk_rnn_backward(s.rnn, &a, s.ws), SEQK_ERR_SHAPE, "dinitial_h");
    a.dinitial_h = NULL;
    seqk_tensor_destroy(bad);
    const int64_t yd[4] = {3, 1, 2, 3};
    seqk_tensor *dyi = tu_i32(ctx, 4, yd, NULL);
    a.dY = dyi;
    TU_FAILS(ctx, seqk_rnn_backward(s.rnn, &a, s.ws), SEQK_ERR_DTYPE, "dY");
    a.dY = s.dY;
    seqk_tensor_destroy(dyi);
    /* dX sharing memory with dY-like inputs */
    a.dX = (seqk_tensor *)s.X;
    TU_FAILS(ctx, seqk_rnn_backward(s.rnn, &a, s.ws), SEQK_ERR_INVALID_ARG, "shares memory");
    a.dX = s.dX;
    /* a tensor of another context */
    seqk_context *other = tu_context(0);
    seqk_tensor *foreign = tu_f32(other, 4, yd, NULL);
    a.dY = foreign;
    TU_FAILS(ctx, seqk_rnn_backward(s.rnn, &a, s.ws), SEQK_ERR_INVALID_ARG, "dY");
    a.dY = s.dY;
    seqk_tensor_destroy(foreign);
    seqk_context_destroy(other);
    /* args */
    TU_FAILS(ctx, seqk_rnn_backward(s.rnn, NULL, s.ws), SEQK_ERR_INVALID_ARG, "args");
    seqk_rnn_backward_args a0 = a;
    a0.struct_size = 4;
    TU_FAILS(ctx, seqk_rnn_backward(s.rnn, &a0, s.ws), SEQK_ERR_INVALID_ARG, "struct_size");
    /* a workspace of another plan, same shapes */
    small s2;
    small_make(&s2, ctx, SEQK_CELL_LSTM, 3);
    TU_FAILS(ctx, seqk_rnn_backward(s2.rnn, &a, s.ws), SEQK_ERR_INVALID_ARG, "another RNN plan");
    /* a GRU's dY_c */
    small g;
    small_make(&g, ctx, SEQK_CELL_GRU, 3);
    TU_OK(ctx, seqk_rnn_forward_training(g.rnn, g.X, NULL, NULL, NULL, g.Y, NULL, NULL, g.ws));
    seqk_rnn_backward_args ag = small_args(&g, 0);
    const int64_t sd[3] = {1, 2, 3};
    seqk_tensor *st = tu_f32(ctx, 3, sd, NULL);
    ag.dY_c = st;
    TU_FAILS(ctx, seqk_rnn_backward(g.rnn, &ag, g.ws), SEQK_ERR_INVALID_ARG, "LSTM only");
    seqk_tensor_destroy(st);
    /* weight grads: bad layer, format, shapes */
    TU_FAILS(ctx, seqk_rnn_get_weight_grads(s.rnn, 1, SEQK_WEIGHTS_ONNX, s.dW, s.dR, NULL, NULL),
             SEQK_ERR_INVALID_ARG, "layer is 1");
    TU_FAILS(ctx, seqk_rnn_get_weight_grads(s.rnn, 0, (seqk_weight_format)9, s.dW, s.dR, NULL, NULL),
             SEQK_ERR_INVALID_ARG, "format");
    TU_FAILS(ctx, seqk_rnn_get_weight_grads(s.rnn, 0, SEQK_WEIGHTS_ONNX, s.dR, s.dR, NULL, NULL),
             SEQK_ERR_SHAPE, "dW has shape [1,12,3]");
    TU_FAILS(ctx, seqk_rnn_get_weight_grads(g.rnn, 0, SEQK_WEIGHTS_PYTORCH, g.dW, g.dR, NULL, NULL),
             SEQK_ERR_INVALID_ARG, "linear_before_reset");
    TU_FAILS(ctx, seqk_rnn_get_weight_grads(g.rnn, 0, SEQK_WEIGHTS_ONNX, g.dW, g.dR, NULL, g.dB),
             SEQK_ERR_INVALID_ARG, "LSTM only");
    TU_FAILS(NULL, seqk_rnn_zero_weight_grads(NULL), SEQK_ERR_INVALID_ARG, "rnn is NULL");
    small_free(&g);
    small_free(&s2);

    /* backward before any weights: a plan with none */
    seqk_rnn_desc d;
    seqk_rnn_desc_init(&d, SEQK_CELL_LSTM, 2, 3);
    seqk_rnn *bare;
    TU_OK(ctx, seqk_rnn_create(ctx, &d, &bare));
    TU_FAILS(ctx, seqk_rnn_forward_training(bare, s.X, NULL, NULL, NULL, s.Y, NULL, NULL, s.ws),
             SEQK_ERR_INVALID_ARG, "no weights");
    TU_FAILS(ctx, seqk_rnn_backward(bare, &a, s.ws), SEQK_ERR_INVALID_ARG, "no weights");
    seqk_rnn_destroy(bare);
    /* non-f32 input */
    const int64_t xd[3] = {3, 2, 2};
    seqk_tensor *xi = tu_i32(ctx, 3, xd, NULL);
    TU_FAILS(ctx, seqk_rnn_forward_training(s.rnn, xi, NULL, NULL, NULL, s.Y, NULL, NULL, s.ws),
             SEQK_ERR_DTYPE, "X");
    seqk_tensor_destroy(xi);
    /* the workspace still holds the good forward */
    TU_OK(ctx, seqk_rnn_backward(s.rnn, &a, s.ws));
    /* a refused forward leaves the workspace as it was */
    const int32_t lbad[2] = {3, 7};
    seqk_tensor *lb = tu_i32(ctx, 1, ld, lbad);
    TU_FAILS(ctx, seqk_rnn_forward_training(s.rnn, s.X, lb, NULL, NULL, s.Y, NULL, NULL, s.ws),
             SEQK_ERR_INVALID_ARG, "sequence_lens[1] is 7");
    seqk_tensor_destroy(lb);
    TU_OK(ctx, seqk_rnn_backward(s.rnn, &a, s.ws));
    small_free(&s);
    seqk_context_destroy(ctx);
}
END_TEST

/* OpenCL contexts have no training kernels yet: UNSUPPORTED, naming the op. */
START_TEST(unsupported_on_opencl)
{
    int seen = 0;
    for (int dev = 0; dev < tu_device_count(); dev++) {
        if (rnn_train_host_device(dev))
            continue;
        seen++;
        seqk_context *ctx = tu_context(dev);
        small s;
        small_make(&s, ctx, SEQK_CELL_GRU, 3);
        TU_FAILS(ctx, seqk_rnn_forward_training(s.rnn, s.X, NULL, NULL, NULL, s.Y, NULL, NULL, s.ws),
                 SEQK_ERR_UNSUPPORTED, "no rnn_layer_train kernel");
        seqk_rnn_backward_args a = small_args(&s, 0);
        TU_FAILS(ctx, seqk_rnn_backward(s.rnn, &a, s.ws), SEQK_ERR_UNSUPPORTED,
                 "no rnn_layer_backward kernel");
        small_free(&s);
        seqk_context_destroy(ctx);
    }
    if (getenv("SEQK_TEST_VERBOSE"))
        fprintf(stderr, "unsupported_on_opencl: %d OpenCL device(s)\n", seen);
}
END_TEST

void rnn_train_add_api(TCase *tc)
{
    tcase_add_test(tc, accumulate);
    tcase_add_test(tc, truncated_bptt);
    tcase_add_test(tc, lengths);
    tcase_add_test(tc, formats);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, unsupported_on_opencl);
}
