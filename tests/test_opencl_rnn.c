/*
 * test_opencl_rnn.c — the OpenCL RNN layer (src/opencl/cl_rnn.c,
 * kernels/rnn.cl) against the reference backend through the public API:
 * every cell x direction x every step variant (GEMM + gates kernel, two
 * fused kernels, the one-launch sequence kernel)
 * over edge shapes, all eleven activations with alpha/beta, clip,
 * input_forget, peepholes, linear_before_reset 0/1, sequence_lens (0, full,
 * mixed), initial states given or not, layouts 0/1, stacked layers; plan
 * reuse and weight refresh; odd strides at the problem level; and that a
 * forward pass waits for the device a fixed number of times, whatever T.
 *
 * SEQK_OCL_SMALL=1 (the Oclgrind run) keeps only small shapes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opencl/cl_backend.h"
#include "opencl/cl_rnn.h"
#include "ref/ref.h"
#include "testutil.h"
#include "tune/tune.h"

#define ATOL 2e-4f
#define RTOL 1e-3f

static int small_run(void) { return getenv("SEQK_OCL_SMALL") != NULL; }

/* The first OpenCL device of the test list (NULL: none; tests then have
 * nothing to compare and say so). */
static const char *cl_spec(void)
{
    for (int i = 0; i < tu_device_count(); i++)
        if (!strncmp(tu_device(i), "opencl", 6))
            return tu_device(i);
    return NULL;
}

static seqk_context *make_ctx(const char *spec)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = spec;
    seqk_context *ctx = NULL;
    ck_assert_msg(seqk_context_create(&o, &ctx) == SEQK_OK, "context %s: %s",
                  spec, seqk_last_error(NULL));
    return ctx;
}

/* The values of the "opencl.rnn.step" tunable tried (variant, SWG): GEMM
 * + gates, fused from R transposed, fused from R's rows, the sequence
 * kernel with 64 and with 32 work-items (several units per item once
 * H > 32). */
static const struct {
    int v[2];
    const char *name;
} variants[] = {
    {{1, 64}, "gemm"},          {{2, 64}, "fused-rt"},
    {{3, 64}, "fused-rows"},    {{4, 64}, "sequence"},
    {{4, 32}, "sequence-swg32"},
};
#define NUM_VARIANTS ((int)(sizeof variants / sizeof variants[0]))

static void force_variant(seqk_context *ctx, int i)
{
    TU_OK(ctx, seqk__tune_override(ctx, "opencl.rnn.step", variants[i].v));
}

static int gates(seqk_cell c)
{
    return c == SEQK_CELL_LSTM ? 4 : c == SEQK_CELL_GRU ? 3 : 1;
}

static int funcs(seqk_cell c)
{
    return c == SEQK_CELL_LSTM ? 3 : c == SEQK_CELL_GRU ? 2 : 1;
}

static seqk_activation act_of(int k)
{
    seqk_activation a = seqk_activation_default((seqk_act_kind)k);
    /* non-default parameters, so that a kernel ignoring them fails */
    switch (k) {
    case SEQK_ACT_AFFINE: a.alpha = 0.7f; a.beta = 0.1f; break;
    case SEQK_ACT_LEAKY_RELU: a.alpha = 0.15f; break;
    case SEQK_ACT_THRESHOLDED_RELU: a.alpha = 0.2f; break;
    case SEQK_ACT_SCALED_TANH: a.alpha = 1.3f; a.beta = 0.8f; break;
    case SEQK_ACT_HARD_SIGMOID: a.alpha = 0.3f; a.beta = 0.45f; break;
    case SEQK_ACT_ELU: a.alpha = 0.9f; break;
    default: break;
    }
    return a;
}

/* One forward call's inputs (host) and outputs. */
typedef struct rcase {
    seqk_rnn_desc desc;
    int64_t T, B;
    int bias, peep, init, lens; /* lens: 0 none, 1 mixed with 0 and T, 2 all T */
    uint64_t seed;
} rcase;

typedef struct rdata {
    int D, L;
    float *W[2], *R[2], *Bi[2], *P[2];
    float *X, *h0, *c0;
    int32_t *lens;
    int64_t xn, yn, sn;
} rdata;

typedef struct rout {
    float *Y, *Yh, *Yc;
} rout;

static float *rnd(tu_rng *r, int64_t n, float lo, float hi)
{
    return tu_rand(r, (size_t)(n ? n : 1), lo, hi);
}

static void data_make(const rcase *c, rdata *d)
{
    const seqk_rnn_desc *s = &c->desc;
    tu_rng r;
    tu_rng_init(&r, c->seed);
    memset(d, 0, sizeof *d);
    d->D = s->direction == SEQK_BIDIRECTIONAL ? 2 : 1;
    d->L = s->num_layers;
    const int64_t D = d->D, H = s->hidden_size, G = gates(s->cell);
    for (int l = 0; l < d->L; l++) {
        const int64_t I = l ? D * H : s->input_size;
        const float ws = 1.0f / sqrtf((float)I), rs = 1.0f / sqrtf((float)H);
        d->W[l] = rnd(&r, D * G * H * I, -ws, ws);
        d->R[l] = rnd(&r, D * G * H * H, -1.5f * rs, 1.5f * rs);
        d->Bi[l] = c->bias ? rnd(&r, D * 2 * G * H, -0.5f, 0.5f) : NULL;
        d->P[l] = c->peep ? rnd(&r, D * 3 * H, -0.7f, 0.7f) : NULL;
    }
    d->xn = c->T * c->B * s->input_size;
    d->yn = c->T * D * c->B * H;
    d->sn = d->L * D * c->B * H;
    d->X = rnd(&r, d->xn, -1.0f, 1.0f);
    if (c->init) {
        d->h0 = rnd(&r, d->sn, -1.0f, 1.0f);
        if (s->cell == SEQK_CELL_LSTM)
            d->c0 = rnd(&r, d->sn, -1.0f, 1.0f);
    }
    if (c->lens) {
        d->lens = malloc((size_t)c->B * sizeof(int32_t));
        ck_assert_ptr_nonnull(d->lens);
        for (int64_t b = 0; b < c->B; b++)
            d->lens[b] = c->lens == 2 ? (int32_t)c->T
                       : (int32_t)((uint64_t)(tu_uniform(&r, 0, 1) * 1e6) %
                                   (uint64_t)(c->T + 1));
        if (c->lens == 1) {
            d->lens[0] = (int32_t)c->T;
            if (c->B > 1)
                d->lens[c->B - 1] = 0;
        }
    }
}

static void data_free(rdata *d)
{
    for (int l = 0; l < 2; l++) {
        free(d->W[l]); free(d->R[l]); free(d->Bi[l]); free(d->P[l]);
    }
    free(d->X); free(d->h0); free(d->c0); free(d->lens);
}

static void set_weights(seqk_context *ctx, seqk_rnn *rnn, const rcase *c,
                        const rdata *d)
{
    const seqk_rnn_desc *s = &c->desc;
    const int64_t D = d->D, H = s->hidden_size, G = gates(s->cell);
    for (int l = 0; l < d->L; l++) {
        const int64_t I = l ? D * H : s->input_size;
        const int64_t wd[3] = {D, G * H, I}, rd[3] = {D, G * H, H};
        const int64_t bd[2] = {D, 2 * G * H}, pd[2] = {D, 3 * H};
        seqk_tensor *W = tu_f32(ctx, 3, wd, d->W[l]);
        seqk_tensor *R = tu_f32(ctx, 3, rd, d->R[l]);
        seqk_tensor *Bt = d->Bi[l] ? tu_f32(ctx, 2, bd, d->Bi[l]) : NULL;
        seqk_tensor *P = d->P[l] ? tu_f32(ctx, 2, pd, d->P[l]) : NULL;
        TU_OK(ctx, seqk_rnn_set_weights(rnn, l, SEQK_WEIGHTS_ONNX, W, R, Bt, P));
        seqk_tensor_destroy(W);
        seqk_tensor_destroy(R);
        seqk_tensor_destroy(Bt);
        seqk_tensor_destroy(P);
    }
}

/* One forward on a plan; outputs read back, guards checked. */
static void forward(seqk_context *ctx, seqk_rnn *rnn, const rcase *c,
                    const rdata *d, rout *o)
{
    const seqk_rnn_desc *s = &c->desc;
    const int64_t D = d->D, H = s->hidden_size, T = c->T, B = c->B;
    const int64_t LD = d->L * D;
    const int lay = s->layout, lstm = s->cell == SEQK_CELL_LSTM;
    const int64_t xd[3] = {lay ? B : T, lay ? T : B, s->input_size};
    const int64_t sd[3] = {lay ? B : LD, lay ? LD : B, H};
    const int64_t yd0[4] = {T, D, B, H}, yd1[4] = {B, T, D, H};
    const int64_t ld[1] = {B};
    seqk_tensor *X = tu_f32(ctx, 3, xd, d->X);
    seqk_tensor *lens = d->lens ? tu_i32(ctx, 1, ld, d->lens) : NULL;
    seqk_tensor *h0 = d->h0 ? tu_f32(ctx, 3, sd, d->h0) : NULL;
    seqk_tensor *c0 = d->c0 ? tu_f32(ctx, 3, sd, d->c0) : NULL;
    seqk_tensor *Y = tu_f32(ctx, 4, lay ? yd1 : yd0, NULL);
    seqk_tensor *Yh = tu_f32(ctx, 3, sd, NULL);
    seqk_tensor *Yc = lstm ? tu_f32(ctx, 3, sd, NULL) : NULL;
    TU_OK(ctx, seqk_rnn_forward(rnn, X, lens, h0, c0, Y, Yh, Yc));
    tu_assert_guard(Y);
    tu_assert_guard(Yh);
    o->Y = tu_read(Y);
    o->Yh = tu_read(Yh);
    o->Yc = NULL;
    if (Yc) {
        tu_assert_guard(Yc);
        o->Yc = tu_read(Yc);
    }
    seqk_tensor_destroy(X);
    seqk_tensor_destroy(lens);
    seqk_tensor_destroy(h0);
    seqk_tensor_destroy(c0);
    seqk_tensor_destroy(Y);
    seqk_tensor_destroy(Yh);
    seqk_tensor_destroy(Yc);
}

static void run(seqk_context *ctx, const rcase *c, const rdata *d, rout *o)
{
    seqk_rnn *rnn = NULL;
    TU_OK(ctx, seqk_rnn_create(ctx, &c->desc, &rnn));
    set_weights(ctx, rnn, c, d);
    forward(ctx, rnn, c, d, o);
    seqk_rnn_destroy(rnn);
}

static void out_free(rout *o)
{
    free(o->Y); free(o->Yh); free(o->Yc);
    memset(o, 0, sizeof *o);
}

static void compare(const rcase *c, const rdata *d, const rout *got,
                    const rout *want, const char *what)
{
    char msg[256];
    const struct { const float *g, *w; int64_t n; const char *name; } v[3] = {
        {got->Y, want->Y, d->yn, "Y"},
        {got->Yh, want->Yh, d->sn, "Y_h"},
        {got->Yc, want->Yc, want->Yc ? d->sn : 0, "Y_c"}};
    for (int i = 0; i < 3; i++) {
        if (!v[i].n)
            continue;
        ck_assert_msg(tu_close(v[i].g, v[i].w, (size_t)v[i].n, ATOL, RTOL, msg,
                               sizeof msg),
                      "%s %s (cell %d dir %d T=%lld B=%lld I=%lld H=%lld "
                      "clip %g if %d lbr %d peep %d lens %d init %d "
                      "layout %d L %d): %s", what, v[i].name,
                      (int)c->desc.cell, (int)c->desc.direction,
                      (long long)c->T, (long long)c->B,
                      (long long)c->desc.input_size,
                      (long long)c->desc.hidden_size, (double)c->desc.clip,
                      c->desc.input_forget, c->desc.linear_before_reset,
                      c->peep, c->lens, c->init, c->desc.layout,
                      c->desc.num_layers, msg);
    }
}

/* ref once, then OpenCL with every step variant. */
static void check_case(seqk_context *ref, seqk_context *cl, const rcase *c)
{
    rdata d;
    rout want, got;
    data_make(c, &d);
    run(ref, c, &d, &want);
    for (int variant = 0; variant < NUM_VARIANTS; variant++) {
        force_variant(cl, variant);
        run(cl, c, &d, &got);
        compare(c, &d, &got, &want, variants[variant].name);
        out_free(&got);
    }
    out_free(&want);
    data_free(&d);
}

static rcase make_case(seqk_cell cell, seqk_direction dir, int64_t T,
                       int64_t B, int64_t I, int64_t H, int n)
{
    rcase c;
    memset(&c, 0, sizeof c);
    seqk_rnn_desc_init(&c.desc, cell, I, H);
    c.desc.direction = dir;
    c.T = T;
    c.B = B;
    c.bias = 1;
    c.seed = 1000 + (uint64_t)n;
    /* activations cycle through all eleven; a second set for the reverse
     * direction of bidirectional layers */
    const int k = funcs(cell), sets = dir == SEQK_BIDIRECTIONAL ? 2 : 1;
    c.desc.num_activations = k * sets;
    for (int s = 0; s < sets; s++)
        for (int i = 0; i < k; i++)
            c.desc.activations[s * k + i] = act_of((n + 4 * i + 5 * s) % 11);
    return c;
}

/* Every cell x direction over edge shapes, the options varied per shape. */
START_TEST(cells_directions_shapes)
{
    const char *spec = cl_spec();
    if (!spec) {
        fprintf(stderr, "opencl_rnn: no OpenCL device in SEQK_TEST_DEVICES\n");
        return;
    }
    static const int64_t shapes[][4] = {
        /* T, B, I, H */
        {5, 3, 13, 7}, {1, 1, 1, 1}, {5, 17, 13, 33}, {5, 3, 1, 16},
        {1, 17, 13, 7}, {5, 1, 13, 33}, {3, 2, 5, 33}};
    /* Oclgrind: shape 1 (T=B=H=1) is left out; see the report.  Shape 6
     * (H = 33: the 16-float dot products and their tail, two units per
     * work-item of a 32-item sequence kernel) stands in for 2 and 5. */
    static const int all[] = {0, 1, 2, 3, 4, 5}, small[] = {0, 4, 6};
    const int *list = small_run() ? small : all;
    const int nshapes = small_run() ? 3 : 6;
    seqk_context *ref = make_ctx("ref"), *cl = make_ctx(spec);
    int n = 0;
    for (int cell = 0; cell < 3; cell++)
        for (int dir = 0; dir < 3; dir++)
            for (int si = 0; si < nshapes; si++, n++) {
                const int s = list[si];
                const seqk_cell ce = cell == 0 ? SEQK_CELL_LSTM
                                   : cell == 1 ? SEQK_CELL_GRU : SEQK_CELL_RNN;
                rcase c = make_case(ce, (seqk_direction)dir, shapes[s][0],
                                    shapes[s][1], shapes[s][2], shapes[s][3],
                                    n);
                c.init = s != 1 && s != 4;
                c.lens = s % 3 == 0 ? 1 : s % 3 == 1 ? 0 : 2;
                c.bias = s != 3;
                c.desc.clip = s % 2 ? 0.9f : 0.0f;
                c.desc.layout = s == 5 || s == 2;
                if (ce == SEQK_CELL_LSTM) {
                    c.peep = s % 2 == 0;
                    c.desc.input_forget = s == 1 || s == 2 || s == 5;
                }
                if (ce == SEQK_CELL_GRU)
                    c.desc.linear_before_reset = (s + dir) % 2;
                check_case(ref, cl, &c);
            }
    /* GRU lbr 0 and 1 on one shape with every direction and lengths */
    for (int dir = 0; dir < 3; dir++)
        for (int lbr = 0; lbr < 2; lbr++, n++) {
            rcase c = make_case(SEQK_CELL_GRU, (seqk_direction)dir, 5, 3, 13,
                                16, n);
            c.desc.linear_before_reset = lbr;
            c.init = 1;
            c.lens = 1;
            check_case(ref, cl, &c);
        }
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* Stacked layers (the context scratch tensor between layers), with and
 * without initial states. */
START_TEST(stacked_layers)
{
    const char *spec = cl_spec();
    if (!spec)
        return;
    seqk_context *ref = make_ctx("ref"), *cl = make_ctx(spec);
    for (int cell = 0; cell < 3; cell++)
        for (int init = 0; init < 2; init++) {
            const seqk_cell ce = cell == 0 ? SEQK_CELL_LSTM
                               : cell == 1 ? SEQK_CELL_GRU : SEQK_CELL_RNN;
            rcase c = make_case(ce, SEQK_BIDIRECTIONAL, 5, 3, 7, 9,
                                50 + cell * 2 + init);
            c.desc.num_layers = 2;
            c.desc.layout = init;
            c.init = init;
            c.lens = 1;
            c.peep = ce == SEQK_CELL_LSTM;
            check_case(ref, cl, &c);
        }
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* One plan: a second forward uses the cached weights (and a larger T/B
 * grows the scratch); set_weights again refreshes them. */
START_TEST(plan_reuse)
{
    const char *spec = cl_spec();
    if (!spec)
        return;
    seqk_context *ref = make_ctx("ref"), *cl = make_ctx(spec);
    for (int variant = 0; variant < NUM_VARIANTS; variant++) {
        force_variant(cl, variant);
        rcase c = make_case(SEQK_CELL_LSTM, SEQK_BIDIRECTIONAL, 3, 2, 5, 8, 70);
        c.lens = 1;
        c.init = 1;
        c.peep = 1;
        rdata d1, d2;
        rout want, got;
        data_make(&c, &d1);
        seqk_rnn *rnn = NULL;
        TU_OK(cl, seqk_rnn_create(cl, &c.desc, &rnn));
        set_weights(cl, rnn, &c, &d1);
        for (int rep = 0; rep < 2; rep++) {
            run(ref, &c, &d1, &want);
            forward(cl, rnn, &c, &d1, &got);
            compare(&c, &d1, &got, &want, "reuse");
            out_free(&got);
            out_free(&want);
        }
        /* larger T and B on the same plan */
        rcase c2 = c;
        c2.T = 6;
        c2.B = 5;
        c2.seed = 71;
        data_make(&c2, &d2);
        /* same weights as d1, new inputs */
        for (int l = 0; l < d2.L; l++) {
            memcpy(d2.W[l], d1.W[l], (size_t)(2 * 4 * 8 * 5) * sizeof(float));
            memcpy(d2.R[l], d1.R[l], (size_t)(2 * 4 * 8 * 8) * sizeof(float));
            memcpy(d2.Bi[l], d1.Bi[l], (size_t)(2 * 2 * 4 * 8) * sizeof(float));
            memcpy(d2.P[l], d1.P[l], (size_t)(2 * 3 * 8) * sizeof(float));
        }
        run(ref, &c2, &d2, &want);
        forward(cl, rnn, &c2, &d2, &got);
        compare(&c2, &d2, &got, &want, "grown");
        out_free(&got);
        out_free(&want);
        data_free(&d2);
        /* new weights: the cache must not serve the old ones */
        c2.seed = 72;
        data_make(&c2, &d2);
        set_weights(cl, rnn, &c2, &d2);
        run(ref, &c2, &d2, &want);
        forward(cl, rnn, &c2, &d2, &got);
        compare(&c2, &d2, &got, &want, "refreshed");
        out_free(&got);
        out_free(&want);
        data_free(&d2);
        data_free(&d1);
        seqk_rnn_destroy(rnn);
    }
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* Problem level: strides with gaps everywhere (X cannot be one matrix, so
 * the input projection runs one GEMM per step), yh aliasing h0. */
START_TEST(odd_strides)
{
    const char *spec = cl_spec();
    if (!spec)
        return;
    seqk_context *cl = make_ctx(spec);
    for (int variant = 0; variant < NUM_VARIANTS; variant++)
        for (int cell = 0; cell < 3; cell++) {
            force_variant(cl, variant);
            const seqk_cell ce = cell == 0 ? SEQK_CELL_LSTM
                               : cell == 1 ? SEQK_CELL_GRU : SEQK_CELL_RNN;
            const int64_t T = 4, B = 3, I = 5, H = 6, D = 2, G = gates(ce);
            seqk_rnn_layer_problem p;
            memset(&p, 0, sizeof p);
            p.cell = ce;
            p.num_dirs = 2;
            p.T = T; p.B = B; p.I = I; p.H = H;
            p.x_sb = I + 3; p.x_st = B * (I + 3) + 5;
            p.y_sb = H + 2; p.y_sd = B * (H + 2) + 1; p.y_st = D * p.y_sd + 3;
            p.h0_sb = H + 1; p.h0_sd = B * (H + 1) + 2;
            p.yh_sb = p.h0_sb; p.yh_sd = p.h0_sd;
            p.clip = 2.0f;
            p.linear_before_reset = 0;
            for (int i = 0; i < 6; i++)
                p.act[i] = act_of(i == 0 || i == 3 ? SEQK_ACT_SIGMOID
                                                   : SEQK_ACT_TANH);
            if (ce == SEQK_CELL_RNN)
                p.act[0] = p.act[3] = act_of(SEQK_ACT_TANH);
            const int64_t xn = (T - 1) * p.x_st + (B - 1) * p.x_sb + I;
            const int64_t yn = (T - 1) * p.y_st + (D - 1) * p.y_sd +
                               (B - 1) * p.y_sb + H;
            const int64_t sn = 1 + (D - 1) * p.h0_sd + (B - 1) * p.h0_sb + H;
            tu_rng r;
            tu_rng_init(&r, 90 + (uint64_t)cell);
            float *x = rnd(&r, xn, -1, 1);
            float *W = rnd(&r, D * G * H * I, -0.5f, 0.5f);
            float *R = rnd(&r, D * G * H * H, -0.5f, 0.5f);
            float *bias = rnd(&r, D * 2 * G * H, -0.5f, 0.5f);
            float *P = rnd(&r, D * 3 * H, -0.5f, 0.5f);
            float *h0 = rnd(&r, sn, -1, 1), *c0 = rnd(&r, sn, -1, 1);
            float *y = rnd(&r, yn, 5, 6); /* gaps keep their values */
            int32_t lens[3] = {4, 0, 2};
            /* device copies; h0 is also yh (read before written) */
            seqk_tensor *tx = tu_f32(cl, 1, &xn, x), *ty = tu_f32(cl, 1, &yn, y);
            seqk_tensor *th = tu_f32(cl, 1, &sn, h0), *tc = tu_f32(cl, 1, &sn, c0);
            /* host ref on host copies */
            float *hy = malloc((size_t)yn * sizeof(float));
            float *hh = malloc((size_t)sn * sizeof(float));
            float *hc = malloc((size_t)sn * sizeof(float));
            ck_assert(hy && hh && hc);
            memcpy(hy, y, (size_t)yn * sizeof(float));
            memcpy(hh, h0, (size_t)sn * sizeof(float));
            memcpy(hc, c0, (size_t)sn * sizeof(float));
            p.W = W; p.R = R; p.bias = bias; p.seq_lens = lens;
            p.P = ce == SEQK_CELL_LSTM ? P : NULL;
            seqk_rnn_layer_problem q = p;
            q.x = x; q.y = hy; q.h0 = hh + 1; q.yh = hh + 1;
            q.c0 = ce == SEQK_CELL_LSTM ? hc + 1 : NULL;
            q.yc = ce == SEQK_CELL_LSTM ? hc + 1 : NULL;
            ck_assert_int_eq(seqk__ref_rnn_layer(&q), SEQK_OK);
            p.x = tx->data; p.y = ty->data;
            p.h0 = (const float *)th->data + 1;
            p.yh = (float *)th->data + 1;
            p.c0 = ce == SEQK_CELL_LSTM ? (const float *)tc->data + 1 : NULL;
            p.yc = ce == SEQK_CELL_LSTM ? (float *)tc->data + 1 : NULL;
            TU_OK(cl, seqk__cl_rnn_layer(cl, &p));
            float *gy = tu_read(ty), *gh = tu_read(th), *gc = tu_read(tc);
            TU_ASSERT_CLOSE(gy, hy, (size_t)yn, ATOL, RTOL);
            TU_ASSERT_CLOSE(gh, hh, (size_t)sn, ATOL, RTOL);
            TU_ASSERT_CLOSE(gc, hc, (size_t)sn, ATOL, RTOL);
            tu_assert_guard(ty);
            tu_assert_guard(th);
            tu_assert_guard(tc);
            free(gy); free(gh); free(gc); free(hy); free(hh); free(hc);
            free(x); free(W); free(R); free(bias); free(P); free(h0);
            free(c0); free(y);
            seqk_tensor_destroy(tx); seqk_tensor_destroy(ty);
            seqk_tensor_destroy(th); seqk_tensor_destroy(tc);
        }
    seqk_context_destroy(cl);
}
END_TEST

/* Host waits during seqk_rnn_forward do not grow with T: none per step. */
START_TEST(no_host_wait_per_step)
{
    const char *spec = cl_spec();
    if (!spec)
        return;
    const int64_t H = small_run() ? 8 : 128, B = small_run() ? 3 : 16;
    seqk_context *ref = make_ctx("ref"), *cl = make_ctx(spec);
    for (int variant = 0; variant < NUM_VARIANTS; variant++) {
        force_variant(cl, variant);
        rcase c = make_case(SEQK_CELL_LSTM, SEQK_FORWARD, 25, B, 32, H, 80);
        c.desc.num_activations = 0;
        c.lens = 1;
        c.init = 1;
        rdata d;
        rout want, got;
        data_make(&c, &d);
        seqk_rnn *rnn = NULL;
        TU_OK(cl, seqk_rnn_create(cl, &c.desc, &rnn));
        set_weights(cl, rnn, &c, &d);
        /* warm: weights uploaded, programs built, scratch sized for T=25 */
        forward(cl, rnn, &c, &d, &got);
        out_free(&got);
        unsigned long waits[2];
        for (int i = 0; i < 2; i++) {
            rcase ci = c;
            ci.T = i == 0 ? 5 : 25;
            ci.seed = 81 + (uint64_t)i;
            rdata di;
            data_make(&ci, &di);
            const int64_t D = 1, I = 32;
            memcpy(di.W[0], d.W[0], (size_t)(D * 4 * H * I) * sizeof(float));
            memcpy(di.R[0], d.R[0], (size_t)(D * 4 * H * H) * sizeof(float));
            memcpy(di.Bi[0], d.Bi[0], (size_t)(D * 8 * H) * sizeof(float));
            /* the same tensors as forward() makes, timed around the call */
            const int64_t xd[3] = {ci.T, B, I}, sd[3] = {1, B, H};
            const int64_t yd[4] = {ci.T, 1, B, H}, ld[1] = {B};
            seqk_tensor *X = tu_f32(cl, 3, xd, di.X);
            seqk_tensor *L = tu_i32(cl, 1, ld, di.lens);
            seqk_tensor *h0 = tu_f32(cl, 3, sd, di.h0);
            seqk_tensor *c0 = tu_f32(cl, 3, sd, di.c0);
            seqk_tensor *Y = tu_f32(cl, 4, yd, NULL);
            seqk_tensor *Yh = tu_f32(cl, 3, sd, NULL);
            seqk_tensor *Yc = tu_f32(cl, 3, sd, NULL);
            const unsigned long w0 = seqk__cl_host_waits();
            TU_OK(cl, seqk_rnn_forward(rnn, X, L, h0, c0, Y, Yh, Yc));
            waits[i] = seqk__cl_host_waits() - w0;
            /* and the outputs are right */
            run(ref, &ci, &di, &want);
            got.Y = tu_read(Y);
            got.Yh = tu_read(Yh);
            got.Yc = tu_read(Yc);
            compare(&ci, &di, &got, &want, "no-wait");
            tu_assert_guard(Y);
            out_free(&got);
            out_free(&want);
            seqk_tensor_destroy(X); seqk_tensor_destroy(L);
            seqk_tensor_destroy(h0); seqk_tensor_destroy(c0);
            seqk_tensor_destroy(Y); seqk_tensor_destroy(Yh);
            seqk_tensor_destroy(Yc);
            data_free(&di);
        }
        ck_assert_msg(waits[0] == waits[1],
                      "%s: %lu host waits at T=5 but %lu at T=25",
                      variants[variant].name, waits[0], waits[1]);
        /* the front end reads sequence_lens (1) and the driver may upload
         * them (1): a small constant, not one per step */
        ck_assert_msg(waits[1] <= 2, "%s: %lu host waits",
                      variants[variant].name, waits[1]);
        seqk_rnn_destroy(rnn);
        data_free(&d);
    }
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* "opencl.rnn.step": SWG varies only with the sequence variant and stays
 * within the device's work-group limits; the sequence kernel's local
 * memory (4H floats for GRU lbr=0) must fit. */
START_TEST(step_tunable_constraints)
{
    const seqk_tunable *t = seqk__tunable_find("opencl.rnn.step");
    ck_assert(t != NULL);
    seqk_tune_limits lim;
    memset(&lim, 0, sizeof lim);
    lim.is_device = lim.is_gpu = 1;
    lim.max_wg = 128;
    lim.max_item[0] = lim.max_item[1] = 128;
    lim.max_item[2] = 64;
    lim.local_mem = 32 << 10;
    const int64_t fits[3] = {2048, 1, 1}, too_big[3] = {2049, 1, 1};
    const int seq64[2] = {4, 64}, seq256[2] = {4, 256}, gemm64[2] = {1, 64},
              gemm32[2] = {1, 32};
    ck_assert(seqk__tunable_legal(t, seq64, &lim, fits));
    ck_assert(!seqk__tunable_legal(t, seq64, &lim, too_big));
    ck_assert(!seqk__tunable_legal(t, seq256, &lim, fits));
    ck_assert(seqk__tunable_legal(t, gemm64, &lim, too_big));
    ck_assert(!seqk__tunable_legal(t, gemm32, &lim, fits));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("opencl_rnn");
    TCase *tc = tcase_create("opencl_rnn");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, step_tunable_constraints);
    tcase_add_test(tc, cells_directions_shapes);
    tcase_add_test(tc, odd_strides);
    tcase_add_test(tc, no_host_wait_per_step);
    if (!small_run()) {
        tcase_add_test(tc, stacked_layers);
        tcase_add_test(tc, plan_reuse);
    }
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
