/*
 * test_rnn_train.c — RNN training (seqk_rnn_forward_training,
 * seqk_rnn_backward, the weight gradients): the library's f32 gradients
 * against central finite differences of a float64 forward written here
 * once (the function differentiated), for every configuration the
 * forward has: cells, directions, layers, layouts, sequence_lens (with
 * zeros), clip, peepholes, input_forget, both GRU forms, all eleven
 * activations with alpha/beta; and forward_training == forward.
 * test_rnn_train_api.c: accumulate, truncated BPTT, lengths, the weight
 * formats, the errors; test_rnn_train_torch.c: PyTorch autograd.
 *
 * Loss: L = sum(dY.*Y) + sum(dY_h.*Y_h) + sum(dY_c.*Y_c) with random dY*,
 * so dL/dtheta is exactly what backward returns for those dY*.
 * Tolerance: |got - fd| <= 2e-6 * max(1, max|fd|) + 2e-5 * |fd|.  The
 * library runs in f32 (its states differ from the float64 ones by ~1e-7
 * relative, a little more after a few steps) and central differences in
 * float64 with eps 1e-6 are good to ~1e-9; the worst error seen on these
 * configurations is ~1/20 of the tolerance (SEQK_TEST_VERBOSE=1 prints
 * it), while a gradient off by 0.1% fails.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqk.h"
#include "test_rnn_train.h"
#include "testutil.h"

/* ------------------------------------------------------ configurations */

typedef struct cfg {
    seqk_cell cell;
    seqk_direction dir;
    int layout, L, lbr, input_forget, peep, bias;
    int64_t H, I, T, B;
    float clip;
    int nact;
    seqk_activation act[6];
    int lens;     /* use sequence_lens (some 0, some < T) */
    int h0;       /* give initial_h (and initial_c) */
} cfg;

static int D_of(const cfg *c) { return c->dir == SEQK_BIDIRECTIONAL ? 2 : 1; }
static int G_of(const cfg *c)
{
    return c->cell == SEQK_CELL_LSTM ? 4 : c->cell == SEQK_CELL_GRU ? 3 : 1;
}
static int K_of(const cfg *c)
{
    return c->cell == SEQK_CELL_LSTM ? 3 : c->cell == SEQK_CELL_GRU ? 2 : 1;
}
static int64_t Il(const cfg *c, int l) { return l ? D_of(c) * c->H : c->I; }

/* the activations of direction d, expanded as the plan does */
static seqk_activation act_of(const cfg *c, int d, int k)
{
    static const seqk_act_kind def[3][3] = {
        {SEQK_ACT_TANH}, {SEQK_ACT_SIGMOID, SEQK_ACT_TANH, SEQK_ACT_TANH},
        {SEQK_ACT_SIGMOID, SEQK_ACT_TANH}};
    if (c->nact == 0)
        return seqk_activation_default(def[c->cell][k]);
    const int set = c->nact == 2 * K_of(c) ? d : 0;
    return c->act[set * K_of(c) + k];
}

/* ------------------------------------------------ the float64 forward */

static double act_d(seqk_activation a, double x)
{
    const double al = a.alpha, be = a.beta;
    switch (a.kind) {
    case SEQK_ACT_RELU: return x < 0 ? 0 : x;
    case SEQK_ACT_TANH: return tanh(x);
    case SEQK_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case SEQK_ACT_AFFINE: return al * x + be;
    case SEQK_ACT_LEAKY_RELU: return x >= 0 ? x : al * x;
    case SEQK_ACT_THRESHOLDED_RELU: return x >= al ? x : 0;
    case SEQK_ACT_SCALED_TANH: return al * tanh(be * x);
    case SEQK_ACT_HARD_SIGMOID: return fmin(fmax(al * x + be, 0), 1);
    case SEQK_ACT_ELU: return x >= 0 ? x : al * (exp(x) - 1);
    case SEQK_ACT_SOFTSIGN: return x / (1 + fabs(x));
    case SEQK_ACT_SOFTPLUS: return log1p(exp(x));
    default: return NAN;
    }
}

static double clipd(const cfg *c, double x)
{
    return c->clip > 0 ? fmin(fmax(x, -c->clip), c->clip) : x;
}

/* All parameters and inputs as one float64 vector, in canonical layouts:
 *   per layer l: W [D,GH,Il] R [D,GH,H] B [D,2GH] P [D,3H]
 *   X [T,B,I], h0 [L*D,B,H], c0 [L*D,B,H]                                */
typedef struct params {
    int64_t off_w[4], off_r[4], off_b[4], off_p[4], off_x, off_h0, off_c0, n;
} params;

static void layout_params(const cfg *c, params *p)
{
    const int64_t D = D_of(c), GH = G_of(c) * c->H, H = c->H;
    int64_t o = 0;
    for (int l = 0; l < c->L; l++) {
        p->off_w[l] = o; o += D * GH * Il(c, l);
        p->off_r[l] = o; o += D * GH * H;
        p->off_b[l] = o; o += D * 2 * GH;
        p->off_p[l] = o; o += D * 3 * H;
    }
    p->off_x = o; o += c->T * c->B * c->I;
    p->off_h0 = o; o += c->L * D * c->B * H;
    p->off_c0 = o; o += c->L * D * c->B * H;
    p->n = o;
}

/* Y [T,B,D,H] of the last layer, Yh/Yc [L*D,B,H]; returns the loss with
 * gY/gYh/gYc (same layouts) when they are given. */
static double forward_d(const cfg *c, const params *pp, const double *th,
                        const int32_t *lens, double *Y, double *Yh, double *Yc)
{
    const int64_t D = D_of(c), H = c->H, T = c->T, B = c->B, G = G_of(c);
    const int64_t GH = G * H;
    double *in = malloc(sizeof(double) * (size_t)(T * B * (c->I > D * H ? c->I : D * H)));
    double *out = malloc(sizeof(double) * (size_t)(T * B * D * H));
    double *hp = malloc(sizeof(double) * (size_t)(6 * H + GH));
    double *cp = hp + H, *hn = cp + H, *cn = hn + H, *r = cn + H, *z = r + H;
    double *a = z + H;
    memcpy(in, th + pp->off_x, sizeof(double) * (size_t)(T * B * c->I));
    for (int l = 0; l < c->L; l++) {
        const int64_t I = Il(c, l);
        memset(out, 0, sizeof(double) * (size_t)(T * B * D * H));
        for (int d = 0; d < D; d++) {
            const double *W = th + pp->off_w[l] + d * GH * I;
            const double *R = th + pp->off_r[l] + d * GH * H;
            const double *wb = th + pp->off_b[l] + d * 2 * GH, *rb = wb + GH;
            const double *P = th + pp->off_p[l] + d * 3 * H;
            const int rev = D == 2 ? d == 1 : c->dir == SEQK_REVERSE;
            const seqk_activation f = act_of(c, d, 0), g = act_of(c, d, 1),
                                  hh = act_of(c, d, 2);
            for (int64_t b = 0; b < B; b++) {
                const int64_t len = lens ? lens[b] : T;
                const int64_t srow = ((l * D + d) * B + b) * H;
                for (int64_t h = 0; h < H; h++) {
                    hp[h] = c->h0 ? th[pp->off_h0 + srow + h] : 0;
                    cp[h] = c->h0 ? th[pp->off_c0 + srow + h] : 0;
                }
                for (int64_t k = 0; k < len; k++) {
                    const int64_t t = rev ? len - 1 - k : k;
                    const double *x = in + (t * B + b) * I;
                    for (int64_t q = 0; q < GH; q++) {
                        double s = wb[q];
                        for (int64_t i = 0; i < I; i++)
                            s += W[q * I + i] * x[i];
                        a[q] = s;
                    }
                    if (c->cell == SEQK_CELL_RNN) {
                        for (int64_t h = 0; h < H; h++) {
                            double s = a[h] + rb[h];
                            for (int64_t j = 0; j < H; j++)
                                s += R[h * H + j] * hp[j];
                            hn[h] = act_d(f, clipd(c, s));
                        }
                    } else if (c->cell == SEQK_CELL_LSTM) {
                        for (int64_t h = 0; h < H; h++) {
                            double s[4];
                            for (int q = 0; q < 4; q++) {
                                s[q] = a[q * H + h] + rb[q * H + h];
                                for (int64_t j = 0; j < H; j++)
                                    s[q] += R[(q * H + h) * H + j] * hp[j];
                            }
                            /* P is zero in th without peepholes: the
                             * gradient there is still defined */
                            const double pi = P[h], po = P[H + h], pf = P[2 * H + h];
                            const double it = act_d(f, clipd(c, s[0] + pi * cp[h]));
                            const double ft = c->input_forget
                                                  ? 1 - it
                                                  : act_d(f, clipd(c, s[2] + pf * cp[h]));
                            const double ct = act_d(g, clipd(c, s[3]));
                            cn[h] = ft * cp[h] + it * ct;
                            const double ot = act_d(f, clipd(c, s[1] + po * cn[h]));
                            hn[h] = ot * act_d(hh, cn[h]);
                        }
                    } else {
                        for (int64_t h = 0; h < H; h++) {
                            double sz = a[h] + rb[h], sr = a[H + h] + rb[H + h];
                            for (int64_t j = 0; j < H; j++) {
                                sz += R[h * H + j] * hp[j];
                                sr += R[(H + h) * H + j] * hp[j];
                            }
                            z[h] = act_d(f, clipd(c, sz));
                            r[h] = act_d(f, clipd(c, sr));
                        }
                        for (int64_t h = 0; h < H; h++) {
                            const double *Rh = R + (2 * H + h) * H;
                            double s = a[2 * H + h], lin = rb[2 * H + h];
                            for (int64_t j = 0; j < H; j++)
                                lin += Rh[j] * (c->lbr ? hp[j] : r[j] * hp[j]);
                            s += c->lbr ? r[h] * lin : lin;
                            const double ht = act_d(g, clipd(c, s));
                            hn[h] = (1 - z[h]) * ht + z[h] * hp[h];
                        }
                    }
                    memcpy(hp, hn, sizeof(double) * (size_t)H);
                    if (c->cell == SEQK_CELL_LSTM)
                        memcpy(cp, cn, sizeof(double) * (size_t)H);
                    memcpy(out + ((t * B + b) * D + d) * H, hn,
                           sizeof(double) * (size_t)H);
                }
                for (int64_t h = 0; h < H; h++) {
                    Yh[srow + h] = hp[h];
                    Yc[srow + h] = c->cell == SEQK_CELL_LSTM ? cp[h] : 0;
                }
            }
        }
        memcpy(in, out, sizeof(double) * (size_t)(T * B * D * H));
    }
    memcpy(Y, out, sizeof(double) * (size_t)(T * B * D * H));
    free(in);
    free(out);
    free(hp);
    return 0;
}

typedef struct loss_w {
    double *gY, *gYh, *gYc; /* canonical layouts */
} loss_w;

static double loss_d(const cfg *c, const params *pp, const double *th,
                     const int32_t *lens, const loss_w *lw)
{
    const int64_t nY = c->T * c->B * D_of(c) * c->H;
    const int64_t nS = c->L * D_of(c) * c->B * c->H;
    double *Y = malloc(sizeof(double) * (size_t)(nY + 2 * nS));
    double *Yh = Y + nY, *Yc = Yh + nS;
    forward_d(c, pp, th, lens, Y, Yh, Yc);
    double s = 0;
    for (int64_t i = 0; i < nY; i++)
        s += lw->gY[i] * Y[i];
    for (int64_t i = 0; i < nS; i++)
        s += lw->gYh[i] * Yh[i] + (c->cell == SEQK_CELL_LSTM ? lw->gYc[i] * Yc[i] : 0);
    free(Y);
    return s;
}

/* ------------------------------------------- layouts for the library */

/* canonical [T,B,X] <-> layout 1 [B,T,X] */
static void to_layout(const cfg *c, const double *src, float *dst, int64_t T,
                      int64_t B, int64_t X)
{
    for (int64_t t = 0; t < T; t++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t x = 0; x < X; x++)
                dst[(c->layout ? b * T + t : t * B + b) * X + x] =
                    (float)src[(t * B + b) * X + x];
}

static void from_layout(const cfg *c, const float *src, double *dst,
                        int64_t T, int64_t B, int64_t X)
{
    for (int64_t t = 0; t < T; t++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t x = 0; x < X; x++)
                dst[(t * B + b) * X + x] =
                    src[(c->layout ? b * T + t : t * B + b) * X + x];
}

/* canonical Y [T,B,D,H] -> library [T,D,B,H] / layout 1 [B,T,D,H] */
static int64_t y_index(const cfg *c, int64_t t, int64_t b, int64_t d,
                       int64_t h)
{
    const int64_t D = D_of(c), H = c->H, T = c->T, B = c->B;
    return c->layout ? ((b * T + t) * D + d) * H + h
                     : ((t * D + d) * B + b) * H + h;
}

/* ----------------------------------------------------- the checker */

/* An uninitialised f32 tensor of t's shape. */
static seqk_tensor *like(seqk_context *ctx, const seqk_tensor *t)
{
    int64_t dims[8];
    const int n = seqk_tensor_ndim(t);
    for (int i = 0; i < n; i++)
        dims[i] = seqk_tensor_dim(t, i);
    return tu_f32(ctx, n, dims, NULL);
}

typedef struct run {
    seqk_context *ctx;
    seqk_rnn *rnn;
    seqk_tensor *X, *lens, *h0, *c0, *Y, *Yh, *Yc, *ws;
    seqk_tensor *dY, *dYh, *dYc, *dX, *dh0, *dc0;
} run;

static seqk_tensor *state_tensor(seqk_context *ctx, const cfg *c,
                                 const double *src)
{
    const int64_t LD = c->L * D_of(c);
    const int64_t dims[3] = {c->layout ? c->B : LD, c->layout ? LD : c->B, c->H};
    float *f = malloc(sizeof(float) * (size_t)(LD * c->B * c->H));
    to_layout(c, src, f, LD, c->B, c->H);
    seqk_tensor *t = tu_f32(ctx, 3, dims, f);
    free(f);
    return t;
}

static void state_back(const cfg *c, const seqk_tensor *t, double *dst)
{
    float *f = tu_read(t);
    from_layout(c, f, dst, c->L * D_of(c), c->B, c->H);
    free(f);
}

/* Makes the plan, sets weights from th (rounded to f32, and th rounded
 * with them so that both forwards see the same numbers), runs the
 * training forward and the backward.  dY* from lw. */
static void run_lib(const cfg *c, const params *pp, double *th,
                    const int32_t *lens, const loss_w *lw, int dev, run *r)
{
    const int64_t D = D_of(c), H = c->H, T = c->T, B = c->B;
    const int64_t GH = G_of(c) * H, LD = c->L * D;
    memset(r, 0, sizeof *r);
    for (int64_t i = 0; i < pp->n; i++)
        th[i] = (float)th[i];
    r->ctx = tu_context(dev);
    seqk_rnn_desc d;
    seqk_rnn_desc_init(&d, c->cell, c->I, H);
    d.direction = c->dir;
    d.layout = c->layout;
    d.num_layers = c->L;
    d.linear_before_reset = c->lbr;
    d.input_forget = c->input_forget;
    d.clip = c->clip;
    d.num_activations = c->nact;
    memcpy(d.activations, c->act, sizeof c->act);
    TU_OK(r->ctx, seqk_rnn_create(r->ctx, &d, &r->rnn));
    for (int l = 0; l < c->L; l++) {
        const int64_t I = Il(c, l);
        const int64_t wd[3] = {D, GH, I}, rd[3] = {D, GH, H}, bd[2] = {D, 2 * GH};
        const int64_t pd[2] = {D, 3 * H};
        float *f = malloc(sizeof(float) * (size_t)(pp->off_p[l] + D * 3 * H - pp->off_w[l]));
        for (int64_t i = 0; i < pp->off_p[l] + D * 3 * H - pp->off_w[l]; i++)
            f[i] = (float)th[pp->off_w[l] + i];
        seqk_tensor *W = tu_f32(r->ctx, 3, wd, f);
        seqk_tensor *R = tu_f32(r->ctx, 3, rd, f + (pp->off_r[l] - pp->off_w[l]));
        seqk_tensor *Bt = c->bias ? tu_f32(r->ctx, 2, bd, f + (pp->off_b[l] - pp->off_w[l])) : NULL;
        seqk_tensor *P = c->peep ? tu_f32(r->ctx, 2, pd, f + (pp->off_p[l] - pp->off_w[l])) : NULL;
        TU_OK(r->ctx, seqk_rnn_set_weights(r->rnn, l, SEQK_WEIGHTS_ONNX, W, R, Bt, P));
        seqk_tensor_destroy(W);
        seqk_tensor_destroy(R);
        seqk_tensor_destroy(Bt);
        seqk_tensor_destroy(P);
        free(f);
    }
    const int64_t xd[3] = {c->layout ? B : T, c->layout ? T : B, c->I};
    float *f = malloc(sizeof(float) * (size_t)(T * B * (c->I + D * H)));
    to_layout(c, th + pp->off_x, f, T, B, c->I);
    r->X = tu_f32(r->ctx, 3, xd, f);
    r->dX = tu_f32(r->ctx, 3, xd, NULL);
    if (lens) {
        const int64_t ld[1] = {B};
        r->lens = tu_i32(r->ctx, 1, ld, lens);
    }
    if (c->h0) {
        r->h0 = state_tensor(r->ctx, c, th + pp->off_h0);
        r->dh0 = state_tensor(r->ctx, c, th + pp->off_h0);
        if (c->cell == SEQK_CELL_LSTM) {
            r->c0 = state_tensor(r->ctx, c, th + pp->off_c0);
            r->dc0 = state_tensor(r->ctx, c, th + pp->off_c0);
        }
    }
    const int64_t yd[4] = {c->layout ? B : T, c->layout ? T : D, c->layout ? D : B, H};
    r->Y = tu_f32(r->ctx, 4, yd, NULL);
    for (int64_t t = 0; t < T; t++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t dd = 0; dd < D; dd++)
                for (int64_t h = 0; h < H; h++)
                    f[y_index(c, t, b, dd, h)] =
                        (float)lw->gY[((t * B + b) * D + dd) * H + h];
    r->dY = tu_f32(r->ctx, 4, yd, f);
    r->Yh = state_tensor(r->ctx, c, lw->gYh);
    r->dYh = state_tensor(r->ctx, c, lw->gYh);
    if (c->cell == SEQK_CELL_LSTM) {
        r->Yc = state_tensor(r->ctx, c, lw->gYc);
        r->dYc = state_tensor(r->ctx, c, lw->gYc);
    }
    free(f);
    (void)LD;
    int64_t n;
    TU_OK(r->ctx, seqk_rnn_workspace_size(r->rnn, T, B, &n));
    r->ws = tu_f32(r->ctx, 1, &n, NULL);
    TU_OK(r->ctx, seqk_rnn_forward_training(r->rnn, r->X, r->lens, r->h0, r->c0,
                                            r->Y, r->Yh, r->Yc, r->ws));
    seqk_rnn_backward_args a;
    seqk_rnn_backward_args_init(&a);
    a.X = r->X;
    a.sequence_lens = r->lens;
    a.initial_h = r->h0;
    a.initial_c = r->c0;
    a.dY = r->dY;
    a.dY_h = r->dYh;
    a.dY_c = r->dYc;
    a.dX = r->dX;
    a.dinitial_h = r->dh0;
    a.dinitial_c = r->dc0;
    TU_OK(r->ctx, seqk_rnn_backward(r->rnn, &a, r->ws));
}

static void run_free(run *r)
{
    seqk_tensor *ts[] = {r->X, r->lens, r->h0, r->c0, r->Y, r->Yh, r->Yc,
                         r->ws, r->dY, r->dYh, r->dYc, r->dX, r->dh0, r->dc0};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        if (ts[i])
            tu_assert_guard(ts[i]);
        seqk_tensor_destroy(ts[i]);
    }
    seqk_rnn_destroy(r->rnn);
    seqk_context_destroy(r->ctx);
}

/* The library's gradient of every entry of the parameter vector. */
static void lib_grads(const cfg *c, const params *pp, const run *r, double *g)
{
    const int64_t D = D_of(c), H = c->H, GH = G_of(c) * H;
    memset(g, 0, sizeof(double) * (size_t)pp->n);
    for (int l = 0; l < c->L; l++) {
        const int64_t I = Il(c, l);
        const int64_t wd[3] = {D, GH, I}, rd[3] = {D, GH, H}, bd[2] = {D, 2 * GH};
        const int64_t pd[2] = {D, 3 * H};
        seqk_tensor *W = tu_f32(r->ctx, 3, wd, NULL), *R = tu_f32(r->ctx, 3, rd, NULL);
        seqk_tensor *B = tu_f32(r->ctx, 2, bd, NULL);
        seqk_tensor *P = c->cell == SEQK_CELL_LSTM ? tu_f32(r->ctx, 2, pd, NULL) : NULL;
        TU_OK(r->ctx, seqk_rnn_get_weight_grads(r->rnn, l, SEQK_WEIGHTS_ONNX, W, R, B, P));
        seqk_tensor *ts[4] = {W, R, B, P};
        const int64_t off[4] = {pp->off_w[l], pp->off_r[l], pp->off_b[l], pp->off_p[l]};
        for (int k = 0; k < 4; k++) {
            if (!ts[k])
                continue;
            float *f = tu_read(ts[k]);
            const int64_t n = seqk_tensor_numel(ts[k]);
            for (int64_t i = 0; i < n; i++)
                g[off[k] + i] = f[i];
            free(f);
            seqk_tensor_destroy(ts[k]);
        }
    }
    float *f = tu_read(r->dX);
    from_layout(c, f, g + pp->off_x, c->T, c->B, c->I);
    free(f);
    if (r->dh0)
        state_back(c, r->dh0, g + pp->off_h0);
    if (r->dc0)
        state_back(c, r->dc0, g + pp->off_c0);
}

static const char *part_name(const cfg *c, const params *pp, int64_t i,
                             char *buf, size_t len)
{
    for (int l = c->L - 1; l >= 0; l--) {
        const int64_t o[4] = {pp->off_w[l], pp->off_r[l], pp->off_b[l], pp->off_p[l]};
        static const char *const nm[4] = {"dW", "dR", "dB", "dP"};
        for (int k = 3; k >= 0; k--)
            if (i >= o[k] && i < pp->off_x && (k < 3 || i < o[3] + 3 * D_of(c) * c->H) &&
                (l == c->L - 1 || i < pp->off_w[l + 1])) {
                snprintf(buf, len, "layer %d %s[%lld]", l, nm[k], (long long)(i - o[k]));
                return buf;
            }
    }
    const char *n = i >= pp->off_c0 ? "dinitial_c" : i >= pp->off_h0 ? "dinitial_h" : "dX";
    const int64_t o = i >= pp->off_c0 ? pp->off_c0 : i >= pp->off_h0 ? pp->off_h0 : pp->off_x;
    snprintf(buf, len, "%s[%lld]", n, (long long)(i - o));
    return buf;
}

static void describe(const cfg *c, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s dir=%d layout=%d L=%d H=%lld I=%lld T=%lld "
                     "B=%lld lbr=%d if=%d peep=%d bias=%d clip=%g lens=%d h0=%d acts",
                     c->cell == SEQK_CELL_LSTM ? "LSTM" : c->cell == SEQK_CELL_GRU ? "GRU" : "RNN",
                     c->dir, c->layout, c->L, (long long)c->H, (long long)c->I,
                     (long long)c->T, (long long)c->B, c->lbr, c->input_forget,
                     c->peep, c->bias, (double)c->clip, c->lens, c->h0);
    for (int i = 0; i < c->nact && n < (int)len; i++)
        n += snprintf(buf + n, len - (size_t)n, " %s(%g,%g)",
                      seqk_act_name(c->act[i].kind), (double)c->act[i].alpha,
                      (double)c->act[i].beta);
}

/* Random data, the library's gradients and FD; returns the worst error
 * relative to the tolerance (<= 1 passes). */
static double check_cfg(const cfg *c, int dev, uint64_t salt)
{
    tu_rng rng;
    tu_rng_init(&rng, salt);
    params pp;
    layout_params(c, &pp);
    const int64_t D = D_of(c);
    double *th = calloc((size_t)pp.n, sizeof(double));
    for (int64_t i = 0; i < pp.n; i++)
        th[i] = tu_uniform(&rng, -0.6f, 0.6f);
    if (!c->bias)
        for (int l = 0; l < c->L; l++)
            memset(th + pp.off_b[l], 0, sizeof(double) * (size_t)(D * 2 * G_of(c) * c->H));
    if (!c->peep)
        for (int l = 0; l < c->L; l++)
            memset(th + pp.off_p[l], 0, sizeof(double) * (size_t)(D * 3 * c->H));
    if (!c->h0)
        memset(th + pp.off_h0, 0, sizeof(double) * (size_t)(pp.n - pp.off_h0));
    if (c->cell != SEQK_CELL_LSTM)
        memset(th + pp.off_c0, 0, sizeof(double) * (size_t)(pp.n - pp.off_c0));
    int32_t lens[8];
    for (int64_t b = 0; b < c->B; b++)
        lens[b] = (int32_t)(b == 0 ? c->T : (int64_t)(((uint64_t)b * 7 + salt) % (uint64_t)(c->T + 1)));
    const int64_t nY = c->T * c->B * D * c->H, nS = c->L * D * c->B * c->H;
    loss_w lw;
    lw.gY = malloc(sizeof(double) * (size_t)(nY + 2 * nS));
    lw.gYh = lw.gY + nY;
    lw.gYc = lw.gYh + nS;
    for (int64_t i = 0; i < nY + 2 * nS; i++)
        lw.gY[i] = (float)tu_uniform(&rng, -1, 1);

    run r;
    run_lib(c, &pp, th, c->lens ? lens : NULL, &lw, dev, &r);
    double *g = malloc(sizeof(double) * (size_t)pp.n);
    double *fd = malloc(sizeof(double) * (size_t)pp.n);
    lib_grads(c, &pp, &r, g);

    const double eps = 1e-6;
    double big = 1;
    for (int64_t i = 0; i < pp.n; i++) {
        const int unused = (i >= pp.off_h0 && !c->h0) ||
                           (i >= pp.off_c0 && c->cell != SEQK_CELL_LSTM);
        if (unused) {
            fd[i] = 0;
            continue;
        }
        const double keep = th[i];
        th[i] = keep + eps;
        const double lp = loss_d(c, &pp, th, c->lens ? lens : NULL, &lw);
        th[i] = keep - eps;
        const double lm = loss_d(c, &pp, th, c->lens ? lens : NULL, &lw);
        th[i] = keep;
        fd[i] = (lp - lm) / (2 * eps);
        if (fabs(fd[i]) > big)
            big = fabs(fd[i]);
    }
    double worst = 0;
    int64_t wi = -1;
    for (int64_t i = 0; i < pp.n; i++) {
        if (i >= pp.off_h0 && (!c->h0 || (i >= pp.off_c0 && c->cell != SEQK_CELL_LSTM)))
            continue;
        const double tol = 2e-6 * big + 2e-5 * fabs(fd[i]);
        const double e = fabs(g[i] - fd[i]) / tol;
        if (e > worst) {
            worst = e;
            wi = i;
        }
    }
    if (worst > 1) {
        char what[96], desc[512];
        describe(c, desc, sizeof desc);
        ck_abort_msg("%s on %s: %s is %.9g, finite differences %.9g (scale %g)",
                     desc, tu_device(dev), part_name(c, &pp, wi, what, sizeof what),
                     g[wi], fd[wi], big);
    }
    run_free(&r);
    free(th);
    free(g);
    free(fd);
    free(lw.gY);
    return worst;
}

/* A configuration from index n: every cell, direction and layout, with
 * the other options varied by n. */
static cfg base_cfg(int n, tu_rng *rng)
{
    cfg c;
    memset(&c, 0, sizeof c);
    c.cell = (seqk_cell)(n % 3);
    c.dir = (seqk_direction)((n / 3) % 3);
    c.layout = (n / 9) % 2;
    c.L = 1 + (n / 2) % 2;
    c.H = 1 + (int64_t)((n * 5 + 3) % 5);
    c.I = 1 + (int64_t)((n * 3 + 1) % 4);
    c.T = 1 + (int64_t)((n * 7 + 2) % 5);
    c.B = 1 + (int64_t)(n % 3);
    c.lbr = c.cell == SEQK_CELL_GRU && (n / 4) % 2;
    c.input_forget = c.cell == SEQK_CELL_LSTM && (n / 5) % 3 == 1;
    c.peep = c.cell == SEQK_CELL_LSTM && (n / 3) % 2;
    c.bias = n % 5 != 4;
    c.clip = (n / 7) % 3 == 2 ? 0.7f : 0;
    c.lens = (n / 2) % 3 != 0;
    c.h0 = n % 4 != 3;
    (void)rng;
    return c;
}

int rnn_train_host_device(int dev)
{
    return strncmp(tu_device(dev), "opencl", 6) != 0;
}

/* (a) finite differences: every cell x direction x layout, options
 * varied, on every host device. */
START_TEST(fd_structures)
{
    for (int dev = 0; dev < tu_device_count(); dev++) {
        if (!rnn_train_host_device(dev))
            continue;
        double worst = 0;
        for (int n = 0; n < 36; n++) {
            cfg c = base_cfg(n, NULL);
            const double w = check_cfg(&c, dev, 100 + (uint64_t)n);
            if (w > worst)
                worst = w;
        }
        if (getenv("SEQK_TEST_VERBOSE"))
            fprintf(stderr, "fd_structures on %s: worst error %.3f of the "
                    "tolerance\n", tu_device(dev), worst);
    }
}
END_TEST

/* An activation of kind with alpha/beta in a range away from
 * degenerate values. */
static seqk_activation rand_act(seqk_act_kind k, tu_rng *rng)
{
    seqk_activation a = seqk_activation_default(k);
    switch (k) {
    case SEQK_ACT_AFFINE: a.alpha = tu_uniform(rng, 0.5f, 1.5f); a.beta = tu_uniform(rng, -0.5f, 0.5f); break;
    case SEQK_ACT_LEAKY_RELU: a.alpha = tu_uniform(rng, 0.05f, 0.3f); break;
    case SEQK_ACT_THRESHOLDED_RELU: a.alpha = tu_uniform(rng, 0.05f, 0.3f); break;
    case SEQK_ACT_SCALED_TANH: a.alpha = tu_uniform(rng, 0.5f, 1.5f); a.beta = tu_uniform(rng, 0.5f, 1.5f); break;
    case SEQK_ACT_HARD_SIGMOID: a.alpha = tu_uniform(rng, 0.2f, 0.5f); a.beta = tu_uniform(rng, 0.4f, 0.6f); break;
    case SEQK_ACT_ELU: a.alpha = tu_uniform(rng, 0.5f, 1.5f); break;
    default: break;
    }
    return a;
}

/* (a) finite differences: each of the eleven activations in every slot
 * of every cell (f, g, h), bidirectional with two sets, clip on and off. */
START_TEST(fd_activations)
{
    tu_rng rng;
    tu_rng_init(&rng, 7);
    int n = 0;
    double worst = 0;
    for (int k = 0; k < SEQK_ACT_COUNT_; k++)
        for (int cell = 0; cell < 3; cell++) {
            cfg c = base_cfg(n * 5 + 1, NULL);
            c.cell = (seqk_cell)cell;
            c.lbr = cell == SEQK_CELL_GRU && k % 2;
            c.input_forget = cell == SEQK_CELL_LSTM && k % 3 == 2;
            c.peep = cell == SEQK_CELL_LSTM && k % 2 == 0;
            c.L = 1 + k % 2;
            c.dir = k % 3 == 0 ? SEQK_BIDIRECTIONAL : (seqk_direction)(k % 2);
            c.clip = k % 4 == 1 ? 0.8f : 0;
            const int K = K_of(&c);
            c.nact = c.dir == SEQK_BIDIRECTIONAL ? 2 * K : K;
            for (int i = 0; i < c.nact; i++) {
                /* kind k in slot i % K of the forward set, defaults-ish
                 * (but random alpha/beta) elsewhere */
                const seqk_act_kind other = i % K == 0 && cell != SEQK_CELL_RNN
                                                ? SEQK_ACT_SIGMOID : SEQK_ACT_TANH;
                c.act[i] = rand_act(i < K || k % 2 ? (seqk_act_kind)k : other, &rng);
            }
            const double w = check_cfg(&c, 0, 1000 + (uint64_t)n);
            if (w > worst)
                worst = w;
            n++;
        }
    if (getenv("SEQK_TEST_VERBOSE"))
        fprintf(stderr, "fd_activations on ref: worst error %.3f of the "
                "tolerance\n", worst);
}
END_TEST

/* (b) the training forward gives seqk_rnn_forward's results: bit-equal
 * on ref, within the SIMD forward's tolerance on CPU contexts. */
START_TEST(forward_training_is_forward)
{
    for (int dev = 0; dev < tu_device_count(); dev++) {
        if (!rnn_train_host_device(dev))
            continue;
        for (int n = 0; n < 18; n++) {
            cfg c = base_cfg(n * 2 + 1, NULL);
            c.H = 3 + n % 4;
            c.T = 4;
            c.B = 3;
            tu_rng rng;
            tu_rng_init(&rng, 50 + (uint64_t)n);
            params pp;
            layout_params(&c, &pp);
            double *th = malloc(sizeof(double) * (size_t)pp.n);
            for (int64_t i = 0; i < pp.n; i++)
                th[i] = tu_uniform(&rng, -0.6f, 0.6f);
            const int64_t nY = c.T * c.B * D_of(&c) * c.H, nS = c.L * D_of(&c) * c.B * c.H;
            loss_w lw;
            lw.gY = calloc((size_t)(nY + 2 * nS), sizeof(double));
            lw.gYh = lw.gY + nY;
            lw.gYc = lw.gYh + nS;
            int32_t lens[3] = {4, 0, 2};
            run r;
            run_lib(&c, &pp, th, c.lens ? lens : NULL, &lw, dev, &r);
            seqk_tensor *Y = like(r.ctx, r.Y), *Yh = like(r.ctx, r.Yh);
            seqk_tensor *Yc = r.Yc ? like(r.ctx, r.Yc) : NULL;
            TU_OK(r.ctx, seqk_rnn_forward(r.rnn, r.X, r.lens, r.h0, r.c0, Y, Yh, Yc));
            seqk_tensor *a[3] = {Y, Yh, Yc}, *b[3] = {r.Y, r.Yh, r.Yc};
            for (int k = 0; k < 3; k++) {
                if (!a[k])
                    continue;
                float *fa = tu_read(a[k]), *fb = tu_read(b[k]);
                if (dev == 0)
                    ck_assert_msg(memcmp(fa, fb, sizeof(float) * (size_t)(k ? nS : nY)) == 0,
                                  "config %d: output %d differs from the forward", n, k);
                else
                    TU_ASSERT_CLOSE(fb, fa, (size_t)(k ? nS : nY), 1e-5f, 1e-4f);
                free(fa);
                free(fb);
                seqk_tensor_destroy(a[k]);
            }
            run_free(&r);
            free(th);
            free(lw.gY);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rnn_train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, fd_structures);
    tcase_add_test(tc, fd_activations);
    tcase_add_test(tc, forward_training_is_forward);
    rnn_train_add_api(tc);
    rnn_train_add_torch(tc);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
