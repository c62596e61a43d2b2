/*
 * test_rnn_props.c — property tests of RNN plans (the second source of
 * test_rnn): a run must equal other runs of the same maths set up
 * differently, and weight formats must convert exactly.
 *
 *   bidirectional   = a forward plan + a reverse plan on the halves
 *   layout 1        = layout 0 on transposed tensors
 *   sequence_lens   = each sequence run alone at its own length (padding,
 *                     even NaN padding, changes nothing valid)
 *   2-3 layers      = single-layer plans chained by hand
 *   PyTorch/cuDNN/oneDNN weights = the ONNX weights they stand for
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_rnn.h"

static void io_init(rnn_io *io, const seqk_rnn_desc *d, int64_t T, int64_t B)
{
    memset(io, 0, sizeof *io);
    io->desc = *d;
    io->T = T;
    io->B = B;
}

static void io_layer(rnn_io *io, int l, const rnn_weights *w)
{
    io->W[l] = w->W;
    io->R[l] = w->R;
    io->Bias[l] = w->B;
    io->P[l] = w->P;
}

static int funcs(seqk_cell cell)
{
    return cell == SEQK_CELL_LSTM ? 3 : cell == SEQK_CELL_GRU ? 2 : 1;
}

/* ---------------------------------------------------------- bidirectional */

START_TEST(test_bidir_is_two_runs)
{
    const int64_t T = 4, B = 3, I = 3, H = 4;
    const int32_t lens[3] = {4, 2, 0};
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        tu_rng r;
        tu_rng_init(&r, 401);
        for (int cell = 0; cell < 3; cell++) {
            const seqk_cell c = (seqk_cell)cell;
            const int k = funcs(c), lstm = c == SEQK_CELL_LSTM;
            const int64_t G = rnn_gates(c);
            seqk_rnn_desc d;
            seqk_rnn_desc_init(&d, c, I, H);
            d.direction = SEQK_BIDIRECTIONAL;
            d.linear_before_reset = c == SEQK_CELL_GRU;
            d.clip = 2.0f;
            /* different functions per direction */
            d.num_activations = 2 * k;
            static const seqk_act_kind rev[3] = {SEQK_ACT_HARD_SIGMOID,
                                                 SEQK_ACT_SOFTSIGN, SEQK_ACT_ELU};
            for (int i = 0; i < k; i++) {
                d.activations[k + i] = seqk_activation_default(rev[i]);
                if (c == SEQK_CELL_RNN)
                    d.activations[k + i] = seqk_activation_default(SEQK_ACT_SOFTSIGN);
            }
            rnn_weights w;
            rnn_weights_rand(&r, c, 2, H, I, 1, lstm, &w);
            float *X = tu_rand(&r, (size_t)(T * B * I), -1, 1);
            float *h0 = tu_rand(&r, (size_t)(2 * B * H), -1, 1);
            float *c0 = lstm ? tu_rand(&r, (size_t)(2 * B * H), -1, 1) : NULL;

            rnn_io bi;
            io_init(&bi, &d, T, B);
            io_layer(&bi, 0, &w);
            bi.X = X;
            bi.lens = lens;
            bi.h0 = h0;
            bi.c0 = c0;
            rnn_run(ctx, &bi);

            for (int dir = 0; dir < 2; dir++) {
                seqk_rnn_desc d1 = d;
                d1.direction = dir ? SEQK_REVERSE : SEQK_FORWARD;
                d1.num_activations = k;
                memmove(d1.activations, d.activations + dir * k, (size_t)k *
                        sizeof d1.activations[0]);
                const rnn_weights half = {
                    w.W + dir * G * H * I, w.R + dir * G * H * H,
                    w.B + dir * 2 * G * H, lstm ? w.P + dir * 3 * H : NULL};
                rnn_io one;
                io_init(&one, &d1, T, B);
                io_layer(&one, 0, &half);
                one.X = X;
                one.lens = lens;
                one.h0 = h0 + dir * B * H;
                one.c0 = c0 ? c0 + dir * B * H : NULL;
                rnn_run(ctx, &one);
                for (int64_t t = 0; t < T; t++)
                    TU_ASSERT_CLOSE(bi.Y + ((t * 2 + dir) * B) * H,
                                    one.Y + t * B * H, (size_t)(B * H), 1e-6f, 1e-6f);
                TU_ASSERT_CLOSE(bi.Yh + dir * B * H, one.Yh, (size_t)(B * H),
                                1e-6f, 1e-6f);
                if (lstm)
                    TU_ASSERT_CLOSE(bi.Yc + dir * B * H, one.Yc, (size_t)(B * H),
                                    1e-6f, 1e-6f);
                rnn_io_free(&one);
            }
            rnn_io_free(&bi);
            rnn_weights_free(&w);
            free(X); free(h0); free(c0);
        }
        seqk_context_destroy(ctx);
    }
}
END_TEST

/* ---------------------------------------------------------------- layout */

/* [A,B,rest] -> [B,A,rest] */
static float *swap01(const float *x, int64_t a, int64_t b, int64_t rest)
{
    float *y = malloc((size_t)(a * b * rest) * sizeof *y);
    for (int64_t i = 0; i < a; i++)
        for (int64_t j = 0; j < b; j++)
            memcpy(y + (j * a + i) * rest, x + (i * b + j) * rest,
                   (size_t)rest * sizeof *y);
    return y;
}

START_TEST(test_layout1_is_transposed)
{
    const int64_t T = 5, B = 2, I = 3, H = 2, L = 2, D = 2;
    const int32_t lens[2] = {3, 5};
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        tu_rng r;
        tu_rng_init(&r, 402);
        for (int cell = 0; cell < 3; cell++) {
            const seqk_cell c = (seqk_cell)cell;
            const int lstm = c == SEQK_CELL_LSTM;
            seqk_rnn_desc d;
            seqk_rnn_desc_init(&d, c, I, H);
            d.direction = SEQK_BIDIRECTIONAL;
            d.num_layers = (int)L;
            rnn_weights w0, w1;
            rnn_weights_rand(&r, c, (int)D, H, I, 1, lstm, &w0);
            rnn_weights_rand(&r, c, (int)D, H, D * H, 1, lstm, &w1);
            float *X = tu_rand(&r, (size_t)(T * B * I), -1, 1);
            float *h0 = tu_rand(&r, (size_t)(L * D * B * H), -1, 1);
            float *c0 = lstm ? tu_rand(&r, (size_t)(L * D * B * H), -1, 1) : NULL;

            rnn_io a;
            io_init(&a, &d, T, B);
            io_layer(&a, 0, &w0);
            io_layer(&a, 1, &w1);
            a.X = X;
            a.lens = lens;
            a.h0 = h0;
            a.c0 = c0;
            rnn_run(ctx, &a);

            /* the same in layout 1: X [B,T,I], states [B,L*D,H], Y [B,T,D,H] */
            float *X1 = swap01(X, T, B, I);
            float *h1 = swap01(h0, L * D, B, H);
            float *c1 = lstm ? swap01(c0, L * D, B, H) : NULL;
            rnn_io b = a;
            b.desc.layout = 1;
            b.X = X1;
            b.h0 = h1;
            b.c0 = c1;
            b.Y = b.Yh = b.Yc = NULL;
            rnn_run(ctx, &b);

            /* Y [T,D,B,H] -> [B,T,D,H] */
            for (int64_t t = 0; t < T; t++)
                for (int64_t dd = 0; dd < D; dd++)
                    for (int64_t bb = 0; bb < B; bb++)
                        TU_ASSERT_CLOSE(b.Y + ((bb * T + t) * D + dd) * H,
                                        a.Y + ((t * D + dd) * B + bb) * H,
                                        (size_t)H, 0, 0);
            float *Yh = swap01(a.Yh, L * D, B, H);
            TU_ASSERT_CLOSE(b.Yh, Yh, (size_t)(L * D * B * H), 0, 0);
            free(Yh);
            if (lstm) {
                float *Yc = swap01(a.Yc, L * D, B, H);
                TU_ASSERT_CLOSE(b.Yc, Yc, (size_t)(L * D * B * H), 0, 0);
                free(Yc);
            }
            rnn_io_free(&a);
            rnn_io_free(&b);
            rnn_weights_free(&w0);
            rnn_weights_free(&w1);
            free(X); free(h0); free(c0); free(X1); free(h1); free(c1);
        }
        seqk_context_destroy(ctx);
    }
}
END_TEST

/* ------------------------------------------------------- sequence_lens */

START_TEST(test_padding_changes_nothing)
{
    const int64_t T = 5, B = 4, I = 2, H = 3;
    const int32_t lens[4] = {5, 3, 0, 1};
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        tu_rng r;
        tu_rng_init(&r, 403);
        for (int cell = 0; cell < 3; cell++)
            for (int dir = 0; dir < 3; dir++) {
                const seqk_cell c = (seqk_cell)cell;
                const int lstm = c == SEQK_CELL_LSTM;
                const int64_t D = dir == SEQK_BIDIRECTIONAL ? 2 : 1;
                seqk_rnn_desc d;
                seqk_rnn_desc_init(&d, c, I, H);
                d.direction = (seqk_direction)dir;
                rnn_weights w;
                rnn_weights_rand(&r, c, (int)D, H, I, 1, lstm, &w);
                float *X = tu_rand(&r, (size_t)(T * B * I), -1, 1);
                float *h0 = tu_rand(&r, (size_t)(D * B * H), -1, 1);
                float *c0 = lstm ? tu_rand(&r, (size_t)(D * B * H), -1, 1) : NULL;
                /* padding is NaN: any read of it would show in the outputs */
                for (int64_t t = 0; t < T; t++)
                    for (int64_t b = 0; b < B; b++)
                        if (t >= lens[b])
                            for (int64_t i = 0; i < I; i++)
                                X[(t * B + b) * I + i] = NAN;

                rnn_io all;
                io_init(&all, &d, T, B);
                io_layer(&all, 0, &w);
                all.X = X;
                all.lens = lens;
                all.h0 = h0;
                all.c0 = c0;
                rnn_run(ctx, &all);

                for (int64_t b = 0; b < B; b++) {
                    const int64_t len = lens[b];
                    /* Y is zero past the length */
                    for (int64_t t = len; t < T; t++)
                        for (int64_t j = 0; j < D * H; j++)
                            ck_assert_float_eq(all.Y[((t * D + j / H) * B + b) * H +
                                                     j % H], 0);
                    /* sequence b alone: B=1, T=len, no sequence_lens */
                    float *xb = malloc((size_t)(len * I + 1) * sizeof *xb);
                    float *hb = malloc((size_t)(D * H) * sizeof *hb);
                    float *cb = malloc((size_t)(D * H) * sizeof *cb);
                    for (int64_t t = 0; t < len; t++)
                        memcpy(xb + t * I, X + (t * B + b) * I, (size_t)I * sizeof *xb);
                    for (int64_t dd = 0; dd < D; dd++) {
                        memcpy(hb + dd * H, h0 + (dd * B + b) * H, (size_t)H * sizeof *hb);
                        if (lstm)
                            memcpy(cb + dd * H, c0 + (dd * B + b) * H,
                                   (size_t)H * sizeof *cb);
                    }
                    rnn_io one;
                    io_init(&one, &d, len, 1);
                    io_layer(&one, 0, &w);
                    one.X = xb;
                    one.h0 = hb;
                    one.c0 = lstm ? cb : NULL;
                    rnn_run(ctx, &one);
                    for (int64_t t = 0; t < len; t++)
                        for (int64_t dd = 0; dd < D; dd++)
                            TU_ASSERT_CLOSE(all.Y + ((t * D + dd) * B + b) * H,
                                            one.Y + (t * D + dd) * H, (size_t)H,
                                            1e-6f, 1e-6f);
                    for (int64_t dd = 0; dd < D; dd++) {
                        /* len 0 gives the initial state back */
                        TU_ASSERT_CLOSE(all.Yh + (dd * B + b) * H, one.Yh + dd * H,
                                        (size_t)H, 1e-6f, 1e-6f);
                        if (lstm)
                            TU_ASSERT_CLOSE(all.Yc + (dd * B + b) * H,
                                            one.Yc + dd * H, (size_t)H, 1e-6f, 1e-6f);
                    }
                    rnn_io_free(&one);
                    free(xb); free(hb); free(cb);
                }
                rnn_io_free(&all);
                rnn_weights_free(&w);
                free(X); free(h0); free(c0);
            }
        seqk_context_destroy(ctx);
    }
}
END_TEST

/* -------------------------------------------------------------- stacking */

START_TEST(test_stack_is_chained_layers)
{
    const int64_t T = 4, B = 2, I = 3, H = 2;
    const int32_t lens[2] = {4, 2};
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        tu_rng r;
        tu_rng_init(&r, 404);
        for (int cell = 0; cell < 3; cell++)
            for (int dir = 0; dir < 3; dir += 2) { /* forward, bidirectional */
                const seqk_cell c = (seqk_cell)cell;
                const int lstm = c == SEQK_CELL_LSTM;
                const int64_t D = dir == SEQK_BIDIRECTIONAL ? 2 : 1;
                const int L = c == SEQK_CELL_RNN ? 3 : 2; /* 3: both scratch buffers */
                seqk_rnn_desc d;
                seqk_rnn_desc_init(&d, c, I, H);
                d.direction = (seqk_direction)dir;
                d.num_layers = L;
                rnn_weights w[3];
                for (int l = 0; l < L; l++)
                    rnn_weights_rand(&r, c, (int)D, H, l ? D * H : I, 1, lstm, &w[l]);
                float *X = tu_rand(&r, (size_t)(T * B * I), -1, 1);
                float *h0 = tu_rand(&r, (size_t)(L * D * B * H), -1, 1);
                float *c0 = lstm ? tu_rand(&r, (size_t)(L * D * B * H), -1, 1) : NULL;

                rnn_io stack;
                io_init(&stack, &d, T, B);
                for (int l = 0; l < L; l++)
                    io_layer(&stack, l, &w[l]);
                stack.X = X;
                stack.lens = lens;
                stack.h0 = h0;
                stack.c0 = c0;
                rnn_run(ctx, &stack);

                float *x = X;
                for (int l = 0; l < L; l++) {
                    seqk_rnn_desc d1 = d;
                    d1.num_layers = 1;
                    d1.input_size = l ? D * H : I;
                    rnn_io one;
                    io_init(&one, &d1, T, B);
                    io_layer(&one, 0, &w[l]);
                    one.X = x;
                    one.lens = lens;
                    one.h0 = h0 + l * D * B * H;
                    one.c0 = c0 ? c0 + l * D * B * H : NULL;
                    rnn_run(ctx, &one);
                    TU_ASSERT_CLOSE(stack.Yh + l * D * B * H, one.Yh,
                                    (size_t)(D * B * H), 1e-6f, 1e-6f);
                    if (lstm)
                        TU_ASSERT_CLOSE(stack.Yc + l * D * B * H, one.Yc,
                                        (size_t)(D * B * H), 1e-6f, 1e-6f);
                    if (l == L - 1)
                        TU_ASSERT_CLOSE(stack.Y, one.Y, (size_t)(T * D * B * H),
                                        1e-6f, 1e-6f);
                    /* next input: Y [T,D,B,H] -> [T,B,D*H] */
                    float *nx = malloc((size_t)(T * B * D * H) * sizeof *nx);
                    for (int64_t t = 0; t < T; t++)
                        for (int64_t dd = 0; dd < D; dd++)
                            for (int64_t b = 0; b < B; b++)
                                memcpy(nx + (t * B + b) * D * H + dd * H,
                                       one.Y + ((t * D + dd) * B + b) * H,
                                       (size_t)H * sizeof *nx);
                    if (x != X)
                        free(x);
                    x = nx;
                    rnn_io_free(&one);
                }
                free(x);
                rnn_io_free(&stack);
                for (int l = 0; l < L; l++)
                    rnn_weights_free(&w[l]);
                free(X); free(h0); free(c0);
            }
        seqk_context_destroy(ctx);
    }
}
END_TEST

/* ------------------------------------------------------- weight formats */

/* The gate orders, written out here independently of the library:
 * format slot k holds ONNX gate perm[k]. */
static const int *test_perm(seqk_cell c, seqk_weight_format f)
{
    static const int id[4] = {0, 1, 2, 3}, lstm[4] = {0, 2, 3, 1}, gru[3] = {1, 0, 2};
    if (f == SEQK_WEIGHTS_ONNX || c == SEQK_CELL_RNN)
        return id;
    if (c == SEQK_CELL_LSTM)
        return lstm; /* i,f,g,o (PyTorch, cuDNN) and i,f,c,o (oneDNN) */
    return f == SEQK_WEIGHTS_ONEDNN ? id : gru; /* u,r,o or r,z,n */
}

/* Builds fmt weights from ONNX ones by the layout rules of seqk.h. */
static void build_format(seqk_cell c, int lbr, int D, int64_t H, int64_t I,
                         seqk_weight_format f, const rnn_weights *o,
                         rnn_weights *out)
{
    const int64_t G = rnn_gates(c), GH = G * H;
    const int *perm = test_perm(c, f);
    out->W = malloc((size_t)(D * GH * I) * sizeof(float));
    out->R = malloc((size_t)(D * GH * H) * sizeof(float));
    out->B = malloc((size_t)(D * 2 * GH) * sizeof(float));
    out->P = NULL;
    for (int d = 0; d < D; d++)
        for (int64_t k = 0; k < G; k++)
            for (int64_t h = 0; h < H; h++) {
                const int64_t src = d * GH + perm[k] * H + h; /* ONNX row */
                for (int64_t i = 0; i < I; i++) {
                    float v = o->W[src * I + i];
                    if (f == SEQK_WEIGHTS_ONEDNN)
                        out->W[((d * I + i) * G + k) * H + h] = v;
                    else
                        out->W[(d * GH + k * H + h) * I + i] = v;
                }
                for (int64_t j = 0; j < H; j++) {
                    float v = o->R[src * H + j];
                    if (f == SEQK_WEIGHTS_ONEDNN)
                        out->R[((d * H + j) * G + k) * H + h] = v;
                    else
                        out->R[(d * GH + k * H + h) * H + j] = v;
                }
                const float wb = o->B[d * 2 * GH + perm[k] * H + h];
                const float rb = o->B[d * 2 * GH + GH + perm[k] * H + h];
                if (f != SEQK_WEIGHTS_ONEDNN) {
                    out->B[d * 2 * GH + k * H + h] = wb;
                    out->B[d * 2 * GH + GH + k * H + h] = rb;
                } else if (c == SEQK_CELL_GRU && lbr) {
                    /* [D,4,H] = bz, br, bh, bh' */
                    out->B[(d * 4 + k) * H + h] = k == 2 ? wb : wb + rb;
                    if (k == 2)
                        out->B[(d * 4 + 3) * H + h] = rb;
                } else {
                    out->B[(d * G + k) * H + h] = wb + rb;
                }
            }
}

START_TEST(test_convert_weights)
{
    tu_rng r;
    tu_rng_init(&r, 405);
    for (int cell = 0; cell < 3; cell++)
        for (int D = 1; D <= 2; D++)
            for (int lbr = 0; lbr <= (cell == SEQK_CELL_GRU); lbr++)
                for (int f = 1; f <= 3; f++) {
                    const seqk_cell c = (seqk_cell)cell;
                    const seqk_weight_format fmt = (seqk_weight_format)f;
                    const int64_t H = 3, I = 2;
                    size_t nw, nr, nb, nw1, nr1, nb1;
                    if (c == SEQK_CELL_GRU && !lbr && fmt != SEQK_WEIGHTS_ONEDNN) {
                        float x[256], y[256], z[256];
                        memset(x, 0, sizeof x);
                        TU_FAILS(NULL, seqk_rnn_convert_weights(c, 0, D, H, I, fmt,
                                 SEQK_WEIGHTS_ONNX, x, x, x, y, y, z),
                                 SEQK_ERR_INVALID_ARG, "linear_before_reset");
                        continue;
                    }
                    TU_OK(NULL, seqk_rnn_weight_sizes(c, lbr, D, H, I, fmt, &nw, &nr, &nb));
                    TU_OK(NULL, seqk_rnn_weight_sizes(c, lbr, D, H, I,
                                                      SEQK_WEIGHTS_ONNX, &nw1, &nr1, &nb1));
                    const size_t G = (size_t)rnn_gates(c);
                    ck_assert_uint_eq(nw, D * G * H * I);
                    ck_assert_uint_eq(nr, D * G * H * H);
                    ck_assert_uint_eq(nb1, D * 2 * G * H);
                    ck_assert_uint_eq(nb, fmt != SEQK_WEIGHTS_ONEDNN ? D * 2 * G * H
                                      : c == SEQK_CELL_GRU && lbr ? (size_t)(D * 4 * H)
                                                                  : D * G * H);

                    /* ONNX -> fmt matches the layout built by hand */
                    rnn_weights o, want;
                    rnn_weights_rand(&r, c, D, H, I, 1, 0, &o);
                    build_format(c, lbr, D, H, I, fmt, &o, &want);
                    float *W = malloc(nw * sizeof *W), *R = malloc(nr * sizeof *R);
                    float *B = malloc(nb * sizeof *B);
                    TU_OK(NULL, seqk_rnn_convert_weights(c, lbr, D, H, I,
                          SEQK_WEIGHTS_ONNX, fmt, o.W, o.R, o.B, W, R, B));
                    TU_ASSERT_CLOSE(W, want.W, nw, 0, 0);
                    TU_ASSERT_CLOSE(R, want.R, nr, 0, 0);
                    TU_ASSERT_CLOSE(B, want.B, nb, 0, 0);

                    /* fmt -> ONNX -> fmt is exact */
                    float *W2 = malloc(nw1 * sizeof *W2), *R2 = malloc(nr1 * sizeof *R2);
                    float *B2 = malloc(nb1 * sizeof *B2);
                    float *W3 = malloc(nw * sizeof *W3), *R3 = malloc(nr * sizeof *R3);
                    float *B3 = malloc(nb * sizeof *B3);
                    TU_OK(NULL, seqk_rnn_convert_weights(c, lbr, D, H, I, fmt,
                          SEQK_WEIGHTS_ONNX, W, R, B, W2, R2, B2));
                    TU_OK(NULL, seqk_rnn_convert_weights(c, lbr, D, H, I,
                          SEQK_WEIGHTS_ONNX, fmt, W2, R2, B2, W3, R3, B3));
                    TU_ASSERT_CLOSE(W3, W, nw, 0, 0);
                    TU_ASSERT_CLOSE(R3, R, nr, 0, 0);
                    TU_ASSERT_CLOSE(B3, B, nb, 0, 0);
                    if (fmt != SEQK_WEIGHTS_ONEDNN) /* lossless both ways */
                        TU_ASSERT_CLOSE(B2, o.B, nb1, 0, 0);
                    /* in place, and a NULL bias reads as zeros */
                    TU_OK(NULL, seqk_rnn_convert_weights(c, lbr, D, H, I, fmt, fmt,
                          W, R, NULL, W, R, B));
                    TU_ASSERT_CLOSE(W, want.W, nw, 0, 0);
                    for (size_t i = 0; i < nb; i++)
                        ck_assert_float_eq(B[i], 0);

                    free(W); free(R); free(B); free(W2); free(R2); free(B2);
                    free(W3); free(R3); free(B3);
                    rnn_weights_free(&o);
                    rnn_weights_free(&want);
                }
}
END_TEST

/* set_weights in PyTorch / cuDNN / oneDNN format runs the same layer. */
START_TEST(test_formats_same_output)
{
    const int64_t T = 3, B = 2, I = 3, H = 2, D = 2;
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        tu_rng r;
        tu_rng_init(&r, 406);
        for (int cell = 0; cell < 3; cell++)
            for (int lbr = 0; lbr <= (cell == SEQK_CELL_GRU); lbr++) {
                const seqk_cell c = (seqk_cell)cell;
                seqk_rnn_desc d;
                seqk_rnn_desc_init(&d, c, I, H);
                d.direction = SEQK_BIDIRECTIONAL;
                d.num_layers = 2;
                d.linear_before_reset = lbr;
                rnn_weights o[2];
                rnn_weights_rand(&r, c, (int)D, H, I, 1, 0, &o[0]);
                rnn_weights_rand(&r, c, (int)D, H, D * H, 1, 0, &o[1]);
                float *X = tu_rand(&r, (size_t)(T * B * I), -1, 1);
                rnn_io ref;
                io_init(&ref, &d, T, B);
                io_layer(&ref, 0, &o[0]);
                io_layer(&ref, 1, &o[1]);
                ref.X = X;
                rnn_run(ctx, &ref);
                for (int f = 1; f <= 3; f++) {
                    const seqk_weight_format fmt = (seqk_weight_format)f;
                    if (c == SEQK_CELL_GRU && !lbr && fmt != SEQK_WEIGHTS_ONEDNN)
                        continue; /* refused: see test_errors_weights */
                    rnn_weights w[2];
                    build_format(c, lbr, (int)D, H, I, fmt, &o[0], &w[0]);
                    build_format(c, lbr, (int)D, H, D * H, fmt, &o[1], &w[1]);
                    rnn_io io = ref;
                    io.Y = io.Yh = io.Yc = NULL;
                    io.fmt = fmt;
                    io_layer(&io, 0, &w[0]);
                    io_layer(&io, 1, &w[1]);
                    rnn_run(ctx, &io);
                    /* oneDNN sums Wb+Rb: one rounding away from ONNX */
                    const float tol = fmt == SEQK_WEIGHTS_ONEDNN ? 1e-5f : 0;
                    TU_ASSERT_CLOSE(io.Y, ref.Y, (size_t)(T * D * B * H), tol, tol);
                    TU_ASSERT_CLOSE(io.Yh, ref.Yh, (size_t)(2 * D * B * H), tol, tol);
                    rnn_io_free(&io);
                    rnn_weights_free(&w[0]);
                    rnn_weights_free(&w[1]);
                }
                rnn_io_free(&ref);
                rnn_weights_free(&o[0]);
                rnn_weights_free(&o[1]);
                free(X);
            }
        seqk_context_destroy(ctx);
    }
}
END_TEST

TCase *rnn_props_tcase(void)
{
    TCase *tc = tcase_create("properties");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_bidir_is_two_runs);
    tcase_add_test(tc, test_layout1_is_transposed);
    tcase_add_test(tc, test_padding_changes_nothing);
    tcase_add_test(tc, test_stack_is_chained_layers);
    tcase_add_test(tc, test_convert_weights);
    tcase_add_test(tc, test_formats_same_output);
    return tc;
}
