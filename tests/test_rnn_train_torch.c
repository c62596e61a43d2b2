/*
 * test_rnn_train_torch.c — RNN training against PyTorch autograd: the
 * expected forward outputs and gradients that
 * tests/data/rnn_train/gen_torch.py saved (torch 1.13 in float64 from
 * the same f32 inputs and weights; LSTM, GRU, RNN tanh and relu, 1 and 2
 * layers, bidirectional, lengths through packed sequences).  Weights go
 * in and gradients come out in SEQK_WEIGHTS_PYTORCH format.
 *
 * Tolerance: forward 2e-6 + 2e-5 relative; gradients
 * 2e-6 * max(1, max|want|) + 2e-5 relative (the library is f32, torch
 * float64 here).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "seqk.h"
#include "test_rnn_train.h"
#include "testutil.h"

static const char *const configs[] = {"lstm_l2_bi", "lstm_l1", "gru_l1_bi",
                                      "gru_l2", "rnn_tanh_l2", "rnn_relu_bi"};

/* NAME_key.npy of the data folder, or NULL when absent and optional. */
static int load(const char *name, const char *key, npy_array *a, int optional)
{
    const char *dir = getenv("SEQK_TEST_DATA");
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/rnn_train/%s_%s.npy", dir ? dir : "tests/data",
             name, key);
    npy_status st = npy_read(path, a, err, sizeof err);
    if (st != NPY_OK && optional)
        return 0;
    ck_assert_msg(st == NPY_OK, "%s", err);
    return 1;
}

static seqk_tensor *tensor_of(seqk_context *ctx, const npy_array *a)
{
    if (a->dtype == NPY_I32)
        return tu_i32(ctx, a->ndim, a->dims, a->data);
    return tu_f32(ctx, a->ndim, a->dims, a->data);
}

/* got (tensor) vs want (npy) within the stated tolerance. */
static void expect(const char *name, const char *what, const seqk_tensor *got,
                   const npy_array *want, double *worst)
{
    ck_assert_int_eq(seqk_tensor_numel(got), want->numel);
    float *g = tu_read(got);
    const float *w = want->data;
    double big = 1;
    for (int64_t i = 0; i < want->numel; i++)
        big = fmax(big, fabs(w[i]));
    for (int64_t i = 0; i < want->numel; i++) {
        const double tol = 2e-6 * big + 2e-5 * fabs(w[i]);
        const double e = fabs(g[i] - w[i]) / tol;
        *worst = fmax(*worst, e);
        ck_assert_msg(e <= 1, "%s: %s[%lld] is %.9g, PyTorch %.9g", name, what,
                      (long long)i, (double)g[i], (double)w[i]);
    }
    free(g);
}

static void check_config(const char *name, int dev, double *worst)
{
    npy_array meta, x, h0, c0, lens, dy, dyh, dyc;
    load(name, "meta", &meta, 0);
    const int32_t *m = meta.data;
    const seqk_cell cell = (seqk_cell)m[0];
    const int L = m[1], D = m[2];
    const int64_t H = m[3], I = m[4];
    const int has_lens = m[7], relu = m[8];
    const int lstm = cell == SEQK_CELL_LSTM;
    load(name, "x", &x, 0);
    load(name, "h0", &h0, 0);
    load(name, "dy", &dy, 0);
    load(name, "dyh", &dyh, 0);
    if (lstm) {
        load(name, "c0", &c0, 0);
        load(name, "dyc", &dyc, 0);
    }
    if (has_lens)
        load(name, "lens", &lens, 0);

    seqk_context *ctx = tu_context(dev);
    seqk_rnn_desc d;
    seqk_rnn_desc_init(&d, cell, I, H);
    d.num_layers = L;
    d.direction = D == 2 ? SEQK_BIDIRECTIONAL : SEQK_FORWARD;
    d.linear_before_reset = cell == SEQK_CELL_GRU; /* PyTorch's GRU */
    if (relu) {
        d.num_activations = 1;
        d.activations[0] = seqk_activation_default(SEQK_ACT_RELU);
    }
    seqk_rnn *rnn;
    TU_OK(ctx, seqk_rnn_create(ctx, &d, &rnn));
    for (int l = 0; l < L; l++) {
        char k[3][16];
        npy_array w[3];
        snprintf(k[0], sizeof k[0], "w%d", l);
        snprintf(k[1], sizeof k[1], "r%d", l);
        snprintf(k[2], sizeof k[2], "b%d", l);
        seqk_tensor *t[3];
        for (int i = 0; i < 3; i++) {
            load(name, k[i], &w[i], 0);
            t[i] = tensor_of(ctx, &w[i]);
        }
        TU_OK(ctx, seqk_rnn_set_weights(rnn, l, SEQK_WEIGHTS_PYTORCH, t[0], t[1], t[2], NULL));
        for (int i = 0; i < 3; i++) {
            seqk_tensor_destroy(t[i]);
            npy_free(&w[i]);
        }
    }
    seqk_tensor *X = tensor_of(ctx, &x), *H0 = tensor_of(ctx, &h0);
    seqk_tensor *C0 = lstm ? tensor_of(ctx, &c0) : NULL;
    seqk_tensor *Ln = has_lens ? tensor_of(ctx, &lens) : NULL;
    seqk_tensor *dY = tensor_of(ctx, &dy), *dYh = tensor_of(ctx, &dyh);
    seqk_tensor *dYc = lstm ? tensor_of(ctx, &dyc) : NULL;
    seqk_tensor *Y = tu_f32(ctx, dy.ndim, dy.dims, NULL);
    seqk_tensor *Yh = tu_f32(ctx, 3, h0.dims, NULL);
    seqk_tensor *Yc = lstm ? tu_f32(ctx, 3, h0.dims, NULL) : NULL;
    seqk_tensor *dX = tu_f32(ctx, 3, x.dims, NULL);
    seqk_tensor *dH0 = tu_f32(ctx, 3, h0.dims, NULL);
    seqk_tensor *dC0 = lstm ? tu_f32(ctx, 3, h0.dims, NULL) : NULL;
    int64_t n;
    TU_OK(ctx, seqk_rnn_workspace_size(rnn, x.dims[0], x.dims[1], &n));
    seqk_tensor *ws = tu_f32(ctx, 1, &n, NULL);
    TU_OK(ctx, seqk_rnn_forward_training(rnn, X, Ln, H0, C0, Y, Yh, Yc, ws));
    seqk_rnn_backward_args a;
    seqk_rnn_backward_args_init(&a);
    a.X = X;
    a.sequence_lens = Ln;
    a.initial_h = H0;
    a.initial_c = C0;
    a.dY = dY;
    a.dY_h = dYh;
    a.dY_c = dYc;
    a.dX = dX;
    a.dinitial_h = dH0;
    a.dinitial_c = dC0;
    TU_OK(ctx, seqk_rnn_backward(rnn, &a, ws));

    struct { const char *key; seqk_tensor *t; } outs[] = {
        {"y", Y}, {"yh", Yh}, {"yc", Yc}, {"dx", dX}, {"dh0", dH0}, {"dc0", dC0}};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        if (!outs[i].t)
            continue;
        npy_array want;
        load(name, outs[i].key, &want, 0);
        expect(name, outs[i].key, outs[i].t, &want, worst);
        npy_free(&want);
    }
    for (int l = 0; l < L; l++) {
        char k[3][16];
        npy_array w[3];
        snprintf(k[0], sizeof k[0], "dw%d", l);
        snprintf(k[1], sizeof k[1], "dr%d", l);
        snprintf(k[2], sizeof k[2], "db%d", l);
        seqk_tensor *t[3];
        for (int i = 0; i < 3; i++) {
            load(name, k[i], &w[i], 0);
            t[i] = tu_f32(ctx, w[i].ndim, w[i].dims, NULL);
        }
        TU_OK(ctx, seqk_rnn_get_weight_grads(rnn, l, SEQK_WEIGHTS_PYTORCH, t[0], t[1], t[2], NULL));
        for (int i = 0; i < 3; i++) {
            expect(name, k[i], t[i], &w[i], worst);
            seqk_tensor_destroy(t[i]);
            npy_free(&w[i]);
        }
    }

    seqk_tensor *ts[] = {X, H0, C0, Ln, dY, dYh, dYc, Y, Yh, Yc, dX, dH0, dC0, ws};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        seqk_tensor_destroy(ts[i]);
    seqk_rnn_destroy(rnn);
    seqk_context_destroy(ctx);
    npy_free(&meta);
    npy_free(&x);
    npy_free(&h0);
    npy_free(&dy);
    npy_free(&dyh);
    if (lstm) {
        npy_free(&c0);
        npy_free(&dyc);
    }
    if (has_lens)
        npy_free(&lens);
}

START_TEST(pytorch_autograd)
{
    for (int dev = 0; dev < tu_device_count(); dev++) {
        if (!rnn_train_host_device(dev))
            continue;
        double worst = 0;
        for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++)
            check_config(configs[i], dev, &worst);
        if (getenv("SEQK_TEST_VERBOSE"))
            fprintf(stderr, "pytorch_autograd on %s: worst error %.3f of the "
                    "tolerance\n", tu_device(dev), worst);
    }
}
END_TEST

void rnn_train_add_torch(TCase *tc)
{
    tcase_add_test(tc, pytorch_autograd);
}
