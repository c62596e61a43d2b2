/*
 * test_rnn.c — RNN / LSTM / GRU plans against values computed here:
 * activations against their formulas, H=1 cases worked out inline with
 * expf/tanhf, and random layers against a straightforward double-precision
 * transcription of the ONNX equations (naive_layer below), which shares no
 * code with the library.  Property tests (bidirectional, layouts, padding,
 * stacking, weight formats) and argument errors are in test_rnn_props.c.
 *
 * The helpers rnn_run / rnn_weights_* are used by test_rnn_props.c too.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"
#include "test_rnn.h"

/* ---------------------------------------------------------------- helpers */

int rnn_gates(seqk_cell cell)
{
    return cell == SEQK_CELL_LSTM ? 4 : cell == SEQK_CELL_GRU ? 3 : 1;
}

void rnn_weights_rand(tu_rng *r, seqk_cell cell, int D, int64_t H, int64_t I,
                      int bias, int peep, rnn_weights *w)
{
    const size_t GH = (size_t)(rnn_gates(cell) * H);
    w->W = tu_rand(r, D * GH * I, -0.6f, 0.6f);
    w->R = tu_rand(r, D * GH * H, -0.6f, 0.6f);
    w->B = bias ? tu_rand(r, D * 2 * GH, -0.3f, 0.3f) : NULL;
    w->P = peep ? tu_rand(r, (size_t)(D * 3 * H), -0.5f, 0.5f) : NULL;
}

void rnn_weights_free(rnn_weights *w)
{
    free(w->W);
    free(w->R);
    free(w->B);
    free(w->P);
    memset(w, 0, sizeof *w);
}

static void weight_dims(const seqk_rnn_desc *d, seqk_weight_format fmt,
                        int64_t I, int64_t *wd, int64_t *rd, int64_t *bd,
                        int *wn, int *bn)
{
    const int64_t D = d->direction == SEQK_BIDIRECTIONAL ? 2 : 1;
    const int64_t G = rnn_gates(d->cell), H = d->hidden_size;
    if (fmt == SEQK_WEIGHTS_ONEDNN) {
        const int64_t nb = d->cell == SEQK_CELL_GRU && d->linear_before_reset
                               ? 4 : G;
        int64_t w[4] = {D, I, G, H}, r[4] = {D, H, G, H}, b[3] = {D, nb, H};
        memcpy(wd, w, sizeof w);
        memcpy(rd, r, sizeof r);
        memcpy(bd, b, sizeof b);
        *wn = 4;
        *bn = 3;
    } else {
        int64_t w[3] = {D, G * H, I}, r[3] = {D, G * H, H}, b[2] = {D, 2 * G * H};
        memcpy(wd, w, sizeof w);
        memcpy(rd, r, sizeof r);
        memcpy(bd, b, sizeof b);
        *wn = 3;
        *bn = 2;
    }
}

static float *read_out(seqk_tensor *t)
{
    tu_assert_guard(t);
    float *x = tu_read(t);
    seqk_tensor_destroy(t);
    return x;
}

void rnn_run(seqk_context *ctx, rnn_io *io)
{
    const seqk_rnn_desc *d = &io->desc;
    const int64_t D = d->direction == SEQK_BIDIRECTIONAL ? 2 : 1;
    const int64_t L = d->num_layers, H = d->hidden_size, T = io->T, B = io->B;
    const int lstm = d->cell == SEQK_CELL_LSTM;
    seqk_rnn *rnn = NULL;

    TU_OK(ctx, seqk_rnn_create(ctx, d, &rnn));
    for (int l = 0; l < L; l++) {
        int64_t wd[4], rd[4], bd[3], pd[2] = {D, 3 * H};
        int wn, bn;
        weight_dims(d, io->fmt, l ? D * H : d->input_size, wd, rd, bd, &wn, &bn);
        seqk_tensor *W = tu_f32(ctx, wn, wd, io->W[l]);
        seqk_tensor *R = tu_f32(ctx, wn, rd, io->R[l]);
        seqk_tensor *Bt = io->Bias[l] ? tu_f32(ctx, bn, bd, io->Bias[l]) : NULL;
        seqk_tensor *P = io->P[l] ? tu_f32(ctx, 2, pd, io->P[l]) : NULL;
        TU_OK(ctx, seqk_rnn_set_weights(rnn, l, io->fmt, W, R, Bt, P));
        /* the plan copied them */
        seqk_tensor_destroy(W);
        seqk_tensor_destroy(R);
        seqk_tensor_destroy(Bt);
        seqk_tensor_destroy(P);
    }

    const int64_t xd[3] = {d->layout ? B : T, d->layout ? T : B, d->input_size};
    const int64_t sd[3] = {d->layout ? B : L * D, d->layout ? L * D : B, H};
    const int64_t yd0[4] = {T, D, B, H}, yd1[4] = {B, T, D, H};
    const int64_t ld[1] = {B};
    seqk_tensor *X = tu_f32(ctx, 3, xd, io->X);
    seqk_tensor *lens = io->lens ? tu_i32(ctx, 1, ld, io->lens) : NULL;
    seqk_tensor *h0 = io->h0 ? tu_f32(ctx, 3, sd, io->h0) : NULL;
    seqk_tensor *c0 = io->c0 ? tu_f32(ctx, 3, sd, io->c0) : NULL;
    seqk_tensor *Y = tu_f32(ctx, 4, d->layout ? yd1 : yd0, NULL);
    seqk_tensor *Yh, *Yc = NULL;
    if (io->state_alias) {
        ck_assert_ptr_nonnull(h0);
        Yh = h0;
        Yc = c0;
        h0 = c0 = NULL; /* read back as the outputs */
    } else {
        Yh = tu_f32(ctx, 3, sd, NULL);
        Yc = lstm ? tu_f32(ctx, 3, sd, NULL) : NULL;
    }
    TU_OK(ctx, seqk_rnn_forward(rnn, X, lens, io->state_alias ? Yh : h0,
                                io->state_alias ? Yc : c0, Y, Yh, Yc));
    io->Y = read_out(Y);
    io->Yh = read_out(Yh);
    io->Yc = Yc ? read_out(Yc) : NULL;
    seqk_tensor_destroy(X);
    seqk_tensor_destroy(lens);
    seqk_tensor_destroy(h0);
    seqk_tensor_destroy(c0);
    seqk_rnn_destroy(rnn);
}

void rnn_io_free(rnn_io *io)
{
    free(io->Y);
    free(io->Yh);
    free(io->Yc);
    io->Y = io->Yh = io->Yc = NULL;
}

/* ----------------------------------------------------- independent oracle */

/* The ONNX activation formulas, in double. */
static double naive_act(seqk_activation a, double x)
{
    switch (a.kind) {
    case SEQK_ACT_RELU: return x > 0 ? x : 0;
    case SEQK_ACT_TANH: return tanh(x);
    case SEQK_ACT_SIGMOID: return 1 / (1 + exp(-x));
    case SEQK_ACT_AFFINE: return a.alpha * x + a.beta;
    case SEQK_ACT_LEAKY_RELU: return x >= 0 ? x : a.alpha * x;
    case SEQK_ACT_THRESHOLDED_RELU: return x >= a.alpha ? x : 0;
    case SEQK_ACT_SCALED_TANH: return a.alpha * tanh(a.beta * x);
    case SEQK_ACT_HARD_SIGMOID: return fmin(fmax(a.alpha * x + a.beta, 0), 1);
    case SEQK_ACT_ELU: return x >= 0 ? x : a.alpha * (exp(x) - 1);
    case SEQK_ACT_SOFTSIGN: return x / (1 + fabs(x));
    case SEQK_ACT_SOFTPLUS: return log(1 + exp(x));
    default: ck_abort_msg("bad activation %d", (int)a.kind);
    }
    return 0;
}

static double naive_clip(double x, float clip)
{
    return clip > 0 ? fmax(-clip, fmin(clip, x)) : x;
}

/* y[g] = M[g,:] . v for rows g0..g0+n-1 of M (row length k). */
static void matvec(const float *M, int64_t g0, int64_t n, int64_t k,
                   const double *v, double *y)
{
    for (int64_t g = 0; g < n; g++) {
        y[g] = 0;
        for (int64_t j = 0; j < k; j++)
            y[g] += M[(g0 + g) * k + j] * v[j];
    }
}

/* One ONNX layer, layout 0: X [T,B,I] -> Y [T,D,B,H], Yh/Yc [D,B,H].
 * acts: the f,g,h of each direction (act[d*3+k]). */
static void naive_layer(const seqk_rnn_desc *d, const seqk_activation *act,
                        int64_t T, int64_t B, const float *X,
                        const int32_t *lens, const float *h0, const float *c0,
                        const rnn_weights *w, float *Y, float *Yh, float *Yc)
{
    const int D = d->direction == SEQK_BIDIRECTIONAL ? 2 : 1;
    const int64_t H = d->hidden_size, I = d->input_size, G = rnn_gates(d->cell);
    const int64_t GH = G * H;
    double *x = calloc((size_t)I, sizeof *x), *h = calloc((size_t)H, sizeof *h);
    double *c = calloc((size_t)H, sizeof *c), *xw = calloc((size_t)GH, sizeof *xw);
    double *hr = calloc((size_t)GH, sizeof *hr), *v = calloc((size_t)H, sizeof *v);
    double *z = calloc((size_t)H, sizeof *z), *rr = calloc((size_t)H, sizeof *rr);

    for (int dir = 0; dir < D; dir++) {
        const int rev = dir == 1 || d->direction == SEQK_REVERSE;
        const float *W = w->W + dir * GH * I, *R = w->R + dir * GH * H;
        const float *P = w->P ? w->P + dir * 3 * H : NULL;
        const seqk_activation *f = &act[dir * 3];
        for (int64_t b = 0; b < B; b++) {
            const int64_t len = lens ? lens[b] : T;
            for (int64_t j = 0; j < H; j++) {
                h[j] = h0 ? h0[(dir * B + b) * H + j] : 0;
                c[j] = c0 ? c0[(dir * B + b) * H + j] : 0;
            }
            for (int64_t t = 0; t < T; t++)
                for (int64_t j = 0; j < H; j++)
                    Y[((t * D + dir) * B + b) * H + j] = 0;
            for (int64_t s = 0; s < len; s++) {
                const int64_t t = rev ? len - 1 - s : s;
                for (int64_t i = 0; i < I; i++)
                    x[i] = X[(t * B + b) * I + i];
                matvec(W, 0, GH, I, x, xw);
                matvec(R, 0, GH, H, h, hr);
                for (int64_t g = 0; g < GH; g++) {
                    const double wb = w->B ? w->B[dir * 2 * GH + g] : 0;
                    const double rb = w->B ? w->B[dir * 2 * GH + GH + g] : 0;
                    xw[g] += wb;
                    hr[g] += rb;
                }
                if (d->cell == SEQK_CELL_RNN) {
                    for (int64_t j = 0; j < H; j++)
                        h[j] = naive_act(f[0], naive_clip(xw[j] + hr[j], d->clip));
                } else if (d->cell == SEQK_CELL_LSTM) {
                    for (int64_t j = 0; j < H; j++) {
                        double ai = xw[j] + hr[j], af = xw[2 * H + j] + hr[2 * H + j];
                        if (P) {
                            ai += P[j] * c[j];
                            af += P[2 * H + j] * c[j];
                        }
                        const double it = naive_act(f[0], naive_clip(ai, d->clip));
                        const double ft = d->input_forget ? 1 - it
                                          : naive_act(f[0], naive_clip(af, d->clip));
                        const double ct = naive_act(f[1], naive_clip(xw[3 * H + j] +
                                                    hr[3 * H + j], d->clip));
                        c[j] = ft * c[j] + it * ct;
                        double ao = xw[H + j] + hr[H + j] + (P ? P[H + j] * c[j] : 0);
                        const double ot = naive_act(f[0], naive_clip(ao, d->clip));
                        h[j] = ot * naive_act(f[2], c[j]);
                    }
                } else {
                    for (int64_t j = 0; j < H; j++) {
                        z[j] = naive_act(f[0], naive_clip(xw[j] + hr[j], d->clip));
                        rr[j] = naive_act(f[0], naive_clip(xw[H + j] + hr[H + j], d->clip));
                    }
                    if (!d->linear_before_reset) {
                        /* (r . h) Rh^T + Rbh */
                        for (int64_t j = 0; j < H; j++)
                            v[j] = rr[j] * h[j];
                        matvec(R, 2 * H, H, H, v, hr + 2 * H);
                        for (int64_t j = 0; j < H; j++)
                            hr[2 * H + j] += w->B ? w->B[dir * 2 * GH + GH + 2 * H + j] : 0;
                    }
                    for (int64_t j = 0; j < H; j++) {
                        const double a = d->linear_before_reset
                                             ? xw[2 * H + j] + rr[j] * hr[2 * H + j]
                                             : xw[2 * H + j] + hr[2 * H + j];
                        const double ht = naive_act(f[1], naive_clip(a, d->clip));
                        v[j] = (1 - z[j]) * ht + z[j] * h[j];
                    }
                    for (int64_t j = 0; j < H; j++)
                        h[j] = v[j];
                }
                for (int64_t j = 0; j < H; j++)
                    Y[((t * D + dir) * B + b) * H + j] = (float)h[j];
            }
            for (int64_t j = 0; j < H; j++) {
                Yh[(dir * B + b) * H + j] = (float)h[j];
                if (Yc)
                    Yc[(dir * B + b) * H + j] = (float)c[j];
            }
        }
    }
    free(x); free(h); free(c); free(xw); free(hr); free(v); free(z); free(rr);
}

/* ------------------------------------------------------------ activations */

START_TEST(test_act_table)
{
    static const char *names[SEQK_ACT_COUNT_] = {
        "Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu",
        "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus"};
    for (int k = 0; k < SEQK_ACT_COUNT_; k++) {
        ck_assert_str_eq(seqk_act_name((seqk_act_kind)k), names[k]);
        ck_assert_int_eq(seqk_act_from_name(names[k]), k);
    }
    ck_assert_int_eq(seqk_act_from_name("leakyrelu"), SEQK_ACT_LEAKY_RELU);
    ck_assert_int_eq(seqk_act_from_name("SIGMOID"), SEQK_ACT_SIGMOID);
    ck_assert_int_eq(seqk_act_from_name("Gelu"), -1);
    ck_assert_int_eq(seqk_act_from_name("Tanh "), -1);
    ck_assert_int_eq(seqk_act_from_name(""), -1);
    ck_assert_int_eq(seqk_act_from_name(NULL), -1);

    seqk_activation a = seqk_activation_default(SEQK_ACT_LEAKY_RELU);
    ck_assert(a.kind == SEQK_ACT_LEAKY_RELU && a.alpha == 0.01f && a.beta == 0);
    a = seqk_activation_default(SEQK_ACT_THRESHOLDED_RELU);
    ck_assert(a.alpha == 1.0f && a.beta == 0);
    a = seqk_activation_default(SEQK_ACT_SCALED_TANH);
    ck_assert(a.alpha == 1.0f && a.beta == 1.0f);
    a = seqk_activation_default(SEQK_ACT_HARD_SIGMOID);
    ck_assert(a.alpha == 0.2f && a.beta == 0.5f);
    a = seqk_activation_default(SEQK_ACT_ELU);
    ck_assert(a.alpha == 1.0f && a.beta == 0);
    a = seqk_activation_default(SEQK_ACT_AFFINE);
    ck_assert(a.alpha == 1.0f && a.beta == 0);
    a = seqk_activation_default(SEQK_ACT_SOFTPLUS);
    ck_assert(a.kind == SEQK_ACT_SOFTPLUS && a.alpha == 0 && a.beta == 0);

    /* alpha: Affine LeakyRelu ThresholdedRelu ScaledTanh HardSigmoid Elu;
     * beta: Affine ScaledTanh HardSigmoid */
    static const int alpha[SEQK_ACT_COUNT_] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0};
    static const int beta[SEQK_ACT_COUNT_] = {0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0};
    for (int k = 0; k < SEQK_ACT_COUNT_; k++) {
        ck_assert_int_eq(!!seqk_act_uses_alpha((seqk_act_kind)k), alpha[k]);
        ck_assert_int_eq(!!seqk_act_uses_beta((seqk_act_kind)k), beta[k]);
    }
}
END_TEST

/* Each function against its formula, evaluated here in double. */
START_TEST(test_activate_formulas)
{
    static const float xs[] = {-100, -20, -3, -1, -0.5f, -0.01f, 0, 0.01f,
                               0.3f, 0.7f, 1, 2.5f, 20, 100};
    static const float ab[][2] = {{0.7f, -0.2f}, {1.3f, 0.4f}, {0.2f, 0.5f}};
    for (int k = 0; k < SEQK_ACT_COUNT_; k++)
        for (size_t p = 0; p < sizeof ab / sizeof ab[0]; p++)
            for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
                const double x = xs[i], a = ab[p][0], b = ab[p][1];
                double want;
                switch (k) {
                case SEQK_ACT_RELU: want = x > 0 ? x : 0; break;
                case SEQK_ACT_TANH: want = tanh(x); break;
                case SEQK_ACT_SIGMOID: want = 1 / (1 + exp(-x)); break;
                case SEQK_ACT_AFFINE: want = a * x + b; break;
                case SEQK_ACT_LEAKY_RELU: want = x >= 0 ? x : a * x; break;
                case SEQK_ACT_THRESHOLDED_RELU: want = x >= a ? x : 0; break;
                case SEQK_ACT_SCALED_TANH: want = a * tanh(b * x); break;
                case SEQK_ACT_HARD_SIGMOID:
                    want = a * x + b < 0 ? 0 : a * x + b > 1 ? 1 : a * x + b;
                    break;
                case SEQK_ACT_ELU: want = x >= 0 ? x : a * (exp(x) - 1); break;
                case SEQK_ACT_SOFTSIGN: want = x / (1 + fabs(x)); break;
                default: want = log(1 + exp(x)); break; /* Softplus */
                }
                seqk_activation act = {(seqk_act_kind)k, ab[p][0], ab[p][1]};
                const float got = seqk__ref_activate(act, xs[i]);
                const float wf = (float)want;
                ck_assert_msg(fabsf(got - wf) <= 1e-6f + 1e-6f * fabsf(wf),
                              "%s(%g) alpha=%g beta=%g: got %.9g want %.9g",
                              seqk_act_name((seqk_act_kind)k), x, a, b,
                              (double)got, want);
            }
    /* ThresholdedRelu keeps x == alpha (seqk.h: x >= alpha) */
    seqk_activation tr = {SEQK_ACT_THRESHOLDED_RELU, 0.5f, 0};
    ck_assert_float_eq(seqk__ref_activate(tr, 0.5f), 0.5f);
    ck_assert_float_eq(seqk__ref_activate(tr, 0.49f), 0.0f);
}
END_TEST

/* --------------------------------------------------- hand-checked, H=1 */

static float sigf(float x) { return 1.0f / (1.0f + expf(-x)); }

/* Runs a 1-unit, 1-input, 1-batch plan over x[0..T-1] with ONNX weights. */
static void run_h1(seqk_context *ctx, seqk_rnn_desc *d, const float *W,
                   const float *R, const float *B, const float *P,
                   const float *x, int64_t T, const float *h0,
                   const float *c0, rnn_io *io)
{
    memset(io, 0, sizeof *io);
    io->desc = *d;
    io->T = T;
    io->B = 1;
    io->fmt = SEQK_WEIGHTS_ONNX;
    io->W[0] = W;
    io->R[0] = R;
    io->Bias[0] = B;
    io->P[0] = P;
    io->X = x;
    io->h0 = h0;
    io->c0 = c0;
    rnn_run(ctx, io);
}

START_TEST(test_rnn_hand)
{
    const float W = 0.5f, R = -0.3f, Bi[2] = {0.1f, 0.2f}, x[3] = {1, -2, 0.5f};
    const float h0 = 0.4f;
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        seqk_rnn_desc d;
        rnn_io io;

        /* forward, default Tanh */
        seqk_rnn_desc_init(&d, SEQK_CELL_RNN, 1, 1);
        run_h1(ctx, &d, &W, &R, Bi, NULL, x, 3, &h0, NULL, &io);
        float h1 = tanhf(W * x[0] + R * h0 + 0.3f);
        float h2 = tanhf(W * x[1] + R * h1 + 0.3f);
        float h3 = tanhf(W * x[2] + R * h2 + 0.3f);
        const float want[3] = {h1, h2, h3};
        TU_ASSERT_CLOSE(io.Y, want, 3, 1e-6f, 1e-5f);
        TU_ASSERT_CLOSE(io.Yh, &h3, 1, 1e-6f, 1e-5f);
        rnn_io_free(&io);

        /* reverse with Relu: walks x[2], x[1], x[0]; Y_h after x[0] */
        d.direction = SEQK_REVERSE;
        d.num_activations = 1;
        d.activations[0] = seqk_activation_default(SEQK_ACT_RELU);
        run_h1(ctx, &d, &W, &R, Bi, NULL, x, 3, &h0, NULL, &io);
        float r2 = fmaxf(0, W * x[2] + R * h0 + 0.3f);
        float r1 = fmaxf(0, W * x[1] + R * r2 + 0.3f);
        float r0 = fmaxf(0, W * x[0] + R * r1 + 0.3f);
        const float wantr[3] = {r0, r1, r2};
        TU_ASSERT_CLOSE(io.Y, wantr, 3, 1e-6f, 1e-5f);
        TU_ASSERT_CLOSE(io.Yh, &r0, 1, 1e-6f, 1e-5f);
        rnn_io_free(&io);
        seqk_context_destroy(ctx);
    }
}
END_TEST

START_TEST(test_lstm_hand)
{
    /* gates i,o,f,c */
    const float W[4] = {0.5f, -0.4f, 0.3f, 0.8f}, R[4] = {0.2f, 0.1f, -0.5f, 0.6f};
    const float B[8] = {0.1f, 0.2f, 0.3f, -0.1f, 0.05f, -0.05f, 0.1f, 0.2f};
    const float P[3] = {0.3f, -0.2f, 0.4f}; /* i,o,f */
    const float x[2] = {1.0f, -0.5f}, h0 = 0.3f, c0 = -0.6f;
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        for (int variant = 0; variant < 3; variant++) {
            /* 0: peepholes; 1: + input_forget; 2: + clip 0.25 */
            seqk_rnn_desc d;
            seqk_rnn_desc_init(&d, SEQK_CELL_LSTM, 1, 1);
            d.input_forget = variant >= 1;
            d.clip = variant == 2 ? 0.25f : 0;
            const float cl = variant == 2 ? 0.25f : 1e30f;
#define CL(v) fmaxf(-cl, fminf(cl, (v)))
            float h = h0, c = c0, want[2];
            for (int t = 0; t < 2; t++) {
                float it = sigf(CL(W[0] * x[t] + R[0] * h + B[0] + B[4] + P[0] * c));
                float ft = d.input_forget ? 1 - it
                         : sigf(CL(W[2] * x[t] + R[2] * h + B[2] + B[6] + P[2] * c));
                float ct = tanhf(CL(W[3] * x[t] + R[3] * h + B[3] + B[7]));
                float cn = ft * c + it * ct;
                float ot = sigf(CL(W[1] * x[t] + R[1] * h + B[1] + B[5] + P[1] * cn));
                h = ot * tanhf(cn); /* h(Ct) is never clipped */
                c = cn;
                want[t] = h;
            }
#undef CL
            rnn_io io;
            run_h1(ctx, &d, W, R, B, P, x, 2, &h0, &c0, &io);
            TU_ASSERT_CLOSE(io.Y, want, 2, 1e-6f, 1e-5f);
            TU_ASSERT_CLOSE(io.Yh, &h, 1, 1e-6f, 1e-5f);
            TU_ASSERT_CLOSE(io.Yc, &c, 1, 1e-6f, 1e-5f);
            rnn_io_free(&io);
        }
        seqk_context_destroy(ctx);
    }
}
END_TEST

START_TEST(test_gru_hand)
{
    /* gates z,r,h */
    const float W[3] = {0.5f, -0.4f, 0.9f}, R[3] = {0.3f, 0.7f, -0.8f};
    const float B[6] = {0.1f, 0.2f, 0.3f, -0.1f, 0.05f, 0.4f};
    const float x[2] = {0.8f, -1.2f}, h0 = 0.5f;
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        for (int lbr = 0; lbr < 2; lbr++) {
            seqk_rnn_desc d;
            seqk_rnn_desc_init(&d, SEQK_CELL_GRU, 1, 1);
            d.linear_before_reset = lbr;
            float h = h0, want[2];
            for (int t = 0; t < 2; t++) {
                float z = sigf(W[0] * x[t] + R[0] * h + B[0] + B[3]);
                float r = sigf(W[1] * x[t] + R[1] * h + B[1] + B[4]);
                float n = lbr ? tanhf(W[2] * x[t] + r * (R[2] * h + B[5]) + B[2])
                              : tanhf(W[2] * x[t] + R[2] * (r * h) + B[5] + B[2]);
                h = (1 - z) * n + z * h;
                want[t] = h;
            }
            rnn_io io;
            run_h1(ctx, &d, W, R, B, NULL, x, 2, &h0, NULL, &io);
            TU_ASSERT_CLOSE(io.Y, want, 2, 1e-6f, 1e-5f);
            TU_ASSERT_CLOSE(io.Yh, &h, 1, 1e-6f, 1e-5f);
            rnn_io_free(&io);
        }
        seqk_context_destroy(ctx);
    }
}
END_TEST

/* ------------------------------------------------- random vs the oracle */

static seqk_activation rand_act(tu_rng *r)
{
    seqk_activation a;
    a.kind = (seqk_act_kind)(int)tu_uniform(r, 0, SEQK_ACT_COUNT_ - 0.001f);
    a.alpha = tu_uniform(r, 0.1f, 1.2f);
    a.beta = tu_uniform(r, -0.4f, 0.4f);
    return a;
}

/* One random single-layer case against naive_layer.  Returns nothing; all
 * checks are ck_asserts. */
static void check_random_case(seqk_context *ctx, tu_rng *r, seqk_cell cell,
                              seqk_direction dir, int variant)
{
    const int64_t T = 1 + (int64_t)tu_uniform(r, 0, 5), B = 1 + (int64_t)tu_uniform(r, 0, 3);
    const int64_t I = 1 + (int64_t)tu_uniform(r, 0, 4), H = 1 + (int64_t)tu_uniform(r, 0, 5);
    const int D = dir == SEQK_BIDIRECTIONAL ? 2 : 1;
    const int k = cell == SEQK_CELL_LSTM ? 3 : cell == SEQK_CELL_GRU ? 2 : 1;
    seqk_rnn_desc d;
    seqk_rnn_desc_init(&d, cell, I, H);
    d.direction = dir;
    d.clip = variant & 1 ? tu_uniform(r, 0.3f, 1.5f) : 0;
    if (cell == SEQK_CELL_LSTM)
        d.input_forget = (variant >> 1) & 1;
    if (cell == SEQK_CELL_GRU)
        d.linear_before_reset = (variant >> 1) & 1;

    /* activations: defaults, one set, or (bidirectional) two sets */
    seqk_activation act[6];
    const int mode = variant % 3;
    d.num_activations = mode == 0 ? 0 : mode == 1 || D == 1 ? k : 2 * k;
    for (int i = 0; i < d.num_activations; i++)
        d.activations[i] = rand_act(r);
    for (int dd = 0; dd < 2; dd++)
        for (int i = 0; i < 3; i++) {
            seqk_act_kind def = i == 0 && cell != SEQK_CELL_RNN ? SEQK_ACT_SIGMOID
                                                                : SEQK_ACT_TANH;
            int src = d.num_activations == 2 * k ? dd * k + i : i;
            act[dd * 3 + i] = d.num_activations && i < k ? d.activations[src]
                                                         : seqk_activation_default(def);
        }

    rnn_weights w;
    rnn_weights_rand(r, cell, D, H, I, variant != 2, cell == SEQK_CELL_LSTM &&
                     variant != 1, &w);
    float *X = tu_rand(r, (size_t)(T * B * I), -1.5f, 1.5f);
    float *h0 = variant & 2 ? tu_rand(r, (size_t)(D * B * H), -0.8f, 0.8f) : NULL;
    float *c0 = variant & 2 && cell == SEQK_CELL_LSTM
                    ? tu_rand(r, (size_t)(D * B * H), -0.8f, 0.8f) : NULL;
    int32_t *lens = NULL;
    if (variant >= 2) {
        lens = malloc((size_t)B * sizeof *lens);
        for (int64_t b = 0; b < B; b++)
            lens[b] = (int32_t)tu_uniform(r, 0, (float)T + 0.999f);
    }

    rnn_io io;
    memset(&io, 0, sizeof io);
    io.desc = d;
    io.T = T;
    io.B = B;
    io.W[0] = w.W;
    io.R[0] = w.R;
    io.Bias[0] = w.B;
    io.P[0] = w.P;
    io.X = X;
    io.lens = lens;
    io.h0 = h0;
    io.c0 = c0;
    rnn_run(ctx, &io);

    const size_t ny = (size_t)(T * D * B * H), nh = (size_t)(D * B * H);
    float *Y = malloc(ny * sizeof *Y), *Yh = malloc(nh * sizeof *Yh);
    float *Yc = malloc(nh * sizeof *Yc);
    naive_layer(&d, act, T, B, X, lens, h0, c0, &w, Y, Yh,
                cell == SEQK_CELL_LSTM ? Yc : NULL);
    TU_ASSERT_CLOSE(io.Y, Y, ny, 2e-5f, 1e-4f);
    TU_ASSERT_CLOSE(io.Yh, Yh, nh, 2e-5f, 1e-4f);
    if (cell == SEQK_CELL_LSTM)
        TU_ASSERT_CLOSE(io.Yc, Yc, nh, 2e-5f, 1e-4f);

    rnn_io_free(&io);
    rnn_weights_free(&w);
    free(X); free(h0); free(c0); free(lens); free(Y); free(Yh); free(Yc);
}

START_TEST(test_random_vs_naive)
{
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        tu_rng r;
        tu_rng_init(&r, 101);
        for (int cell = 0; cell < 3; cell++)
            for (int dir = 0; dir < 3; dir++)
                for (int variant = 0; variant < 6; variant++)
                    check_random_case(ctx, &r, (seqk_cell)cell,
                                      (seqk_direction)dir, variant);
        seqk_context_destroy(ctx);
    }
}
END_TEST

/* Every activation in every slot, one at a time, through a whole layer. */
START_TEST(test_each_activation_in_layer)
{
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        tu_rng r;
        tu_rng_init(&r, 202);
        for (int cell = 0; cell < 3; cell++) {
            const int k = cell == SEQK_CELL_LSTM ? 3 : cell == SEQK_CELL_GRU ? 2 : 1;
            for (int slot = 0; slot < k; slot++)
                for (int kind = 0; kind < SEQK_ACT_COUNT_; kind++) {
                    const int64_t T = 3, B = 2, I = 2, H = 3;
                    seqk_rnn_desc d;
                    seqk_rnn_desc_init(&d, (seqk_cell)cell, I, H);
                    d.num_activations = k;
                    d.activations[slot].kind = (seqk_act_kind)kind;
                    d.activations[slot].alpha = 0.6f;
                    d.activations[slot].beta = 0.3f;
                    seqk_activation act[6];
                    for (int i = 0; i < 6; i++)
                        act[i] = d.activations[i % 3];
                    rnn_weights w;
                    rnn_weights_rand(&r, (seqk_cell)cell, 1, H, I, 1, 0, &w);
                    float *X = tu_rand(&r, (size_t)(T * B * I), -1, 1);
                    rnn_io io;
                    memset(&io, 0, sizeof io);
                    io.desc = d;
                    io.T = T;
                    io.B = B;
                    io.W[0] = w.W;
                    io.R[0] = w.R;
                    io.Bias[0] = w.B;
                    io.X = X;
                    rnn_run(ctx, &io);
                    float Y[18], Yh[6], Yc[6];
                    naive_layer(&d, act, T, B, X, NULL, NULL, NULL, &w, Y, Yh,
                                cell == SEQK_CELL_LSTM ? Yc : NULL);
                    TU_ASSERT_CLOSE(io.Y, Y, 18, 2e-5f, 1e-4f);
                    TU_ASSERT_CLOSE(io.Yh, Yh, 6, 2e-5f, 1e-4f);
                    rnn_io_free(&io);
                    rnn_weights_free(&w);
                    free(X);
                }
        }
        seqk_context_destroy(ctx);
    }
}
END_TEST

/* Length 0 keeps the initial state; Y_h may be initial_h itself. */
START_TEST(test_len0_and_state_alias)
{
    const int64_t T = 3, B = 3, I = 2, H = 2;
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        tu_rng r;
        tu_rng_init(&r, 303);
        for (int dir = 0; dir < 3; dir++) {
            const int D = dir == SEQK_BIDIRECTIONAL ? 2 : 1;
            seqk_rnn_desc d;
            seqk_rnn_desc_init(&d, SEQK_CELL_LSTM, I, H);
            d.direction = (seqk_direction)dir;
            rnn_weights w;
            rnn_weights_rand(&r, SEQK_CELL_LSTM, D, H, I, 1, 1, &w);
            float *X = tu_rand(&r, (size_t)(T * B * I), -1, 1);
            float *h0 = tu_rand(&r, (size_t)(D * B * H), -1, 1);
            float *c0 = tu_rand(&r, (size_t)(D * B * H), -1, 1);
            const int32_t lens[3] = {0, 2, 3};
            rnn_io io;
            memset(&io, 0, sizeof io);
            io.desc = d;
            io.T = T;
            io.B = B;
            io.W[0] = w.W;
            io.R[0] = w.R;
            io.Bias[0] = w.B;
            io.P[0] = w.P;
            io.X = X;
            io.lens = lens;
            io.h0 = h0;
            io.c0 = c0;
            rnn_run(ctx, &io);
            for (int dd = 0; dd < D; dd++) {
                /* sequence 0 is empty: initial state out, Y all zero */
                TU_ASSERT_CLOSE(io.Yh + (dd * B + 0) * H, h0 + (dd * B + 0) * H,
                                (size_t)H, 0, 0);
                TU_ASSERT_CLOSE(io.Yc + (dd * B + 0) * H, c0 + (dd * B + 0) * H,
                                (size_t)H, 0, 0);
                for (int64_t t = 0; t < T; t++)
                    for (int64_t j = 0; j < H; j++)
                        ck_assert_float_eq(io.Y[((t * D + dd) * B + 0) * H + j], 0);
            }
            rnn_io alias = io;
            alias.Y = alias.Yh = alias.Yc = NULL;
            alias.state_alias = 1;
            rnn_run(ctx, &alias);
            TU_ASSERT_CLOSE(alias.Y, io.Y, (size_t)(T * D * B * H), 0, 0);
            TU_ASSERT_CLOSE(alias.Yh, io.Yh, (size_t)(D * B * H), 0, 0);
            TU_ASSERT_CLOSE(alias.Yc, io.Yc, (size_t)(D * B * H), 0, 0);
            rnn_io_free(&alias);
            rnn_io_free(&io);
            rnn_weights_free(&w);
            free(X); free(h0); free(c0);
        }
        seqk_context_destroy(ctx);
    }
}
END_TEST

/* T = 0 returns the initial state; B = 0 is an empty, valid call. */
START_TEST(test_empty_shapes)
{
    const int64_t I = 2, H = 3;
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        tu_rng r;
        tu_rng_init(&r, 304);
        for (int64_t B = 0; B <= 2; B += 2) {
            const int64_t T = B ? 0 : 3;
            seqk_rnn_desc d;
            seqk_rnn_desc_init(&d, SEQK_CELL_LSTM, I, H);
            d.direction = SEQK_BIDIRECTIONAL;
            rnn_weights w;
            rnn_weights_rand(&r, SEQK_CELL_LSTM, 2, H, I, 1, 1, &w);
            float *X = tu_rand(&r, (size_t)(T * B * I), -1, 1);
            float *h0 = tu_rand(&r, (size_t)(2 * B * H), -1, 1);
            float *c0 = tu_rand(&r, (size_t)(2 * B * H), -1, 1);
            rnn_io io;
            memset(&io, 0, sizeof io);
            io.desc = d;
            io.T = T;
            io.B = B;
            io.W[0] = w.W;
            io.R[0] = w.R;
            io.Bias[0] = w.B;
            io.P[0] = w.P;
            io.X = X;
            io.h0 = h0;
            io.c0 = c0;
            rnn_run(ctx, &io);
            TU_ASSERT_CLOSE(io.Yh, h0, (size_t)(2 * B * H), 0, 0);
            TU_ASSERT_CLOSE(io.Yc, c0, (size_t)(2 * B * H), 0, 0);
            rnn_io_free(&io);
            rnn_weights_free(&w);
            free(X); free(h0); free(c0);
        }
        seqk_context_destroy(ctx);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rnn");
    TCase *tc = tcase_create("values");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_act_table);
    tcase_add_test(tc, test_activate_formulas);
    tcase_add_test(tc, test_rnn_hand);
    tcase_add_test(tc, test_lstm_hand);
    tcase_add_test(tc, test_gru_hand);
    tcase_add_test(tc, test_random_vs_naive);
    tcase_add_test(tc, test_each_activation_in_layer);
    tcase_add_test(tc, test_len0_and_state_alias);
    tcase_add_test(tc, test_empty_shapes);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, rnn_props_tcase());
    suite_add_tcase(s, rnn_errors_tcase());
    return tu_run_suite(s);
}
