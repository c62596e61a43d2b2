/*
 * test_cpu_rnn.c — the CPU SIMD RNN layer (src/cpu_simd/rnn_driver.c and
 * the per-ISA step kernels) against the reference layer, at the problem
 * level on every ISA device this machine has, and once through the public
 * API.
 *
 * Every run fills its outputs (and the gaps of strided layouts, and a
 * guard zone after each) with a sentinel, runs the reference and the ISA
 * on identical inputs, and compares the whole buffers: a value written
 * where it should not be, or left unwritten, shows as a mismatch.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_simd/cpu_simd.h"
#include "cpu_simd/rnn.h"
#include "ref/ref.h"
#include "testutil.h"

#define GUARD 37          /* floats after each output */
#define SENTINEL 777.25f

/* ------------------------------------------------------------ ISAs */

typedef struct isa_dev {
    const char *spec;
    const seqk_cpu_isa *isa;
    int vlen;
} isa_dev;

static int g_nisa;
static isa_dev g_isa[4];

static void find_isas(void)
{
    g_nisa = 0;
    for (int i = 0; i < tu_device_count(); i++) {
        const char *s = tu_device(i);
        const seqk_cpu_isa *isa = seqk__cpu_isa_find(s);
        if (isa && isa->rnn && g_nisa < 4)
            g_isa[g_nisa++] = (isa_dev){s, isa, isa->rnn->vlen};
    }
}

static seqk_context *make_ctx(const char *spec, int threads)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = spec;
    o.threads = threads;
    seqk_context *ctx = NULL;
    ck_assert_msg(seqk_context_create(&o, &ctx) == SEQK_OK, "context %s: %s",
                  spec, seqk_last_error(NULL));
    return ctx;
}

/* ------------------------------------------------------------ cases */

enum { LAYOUT_TBI = 0, LAYOUT_BTI, LAYOUT_STACKED, LAYOUT_ODD, LAYOUT_COUNT };

typedef struct rnn_case {
    seqk_cell cell;
    seqk_direction dir;
    int64_t T, B, I, H;
    int lbr, input_forget, peep, bias, init; /* init: h0 (and c0) given */
    float clip;
    seqk_activation act[6];
    int lens;   /* 0: none; 1: random with a 0 and a T; 2: all T */
    int layout;
    int alias;  /* yh = h0 and yc = c0 */
    int no_y;   /* y NULL (only the final states) */
} rnn_case;

static int gates(seqk_cell c)
{
    return c == SEQK_CELL_LSTM ? 4 : c == SEQK_CELL_GRU ? 3 : 1;
}

static seqk_activation act_of(seqk_act_kind k)
{
    seqk_activation a = seqk_activation_default(k);
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

/* A case with the ONNX default activations and the given shape. */
static rnn_case base_case(seqk_cell cell, seqk_direction dir, int64_t T,
                          int64_t B, int64_t I, int64_t H)
{
    rnn_case c;
    memset(&c, 0, sizeof c);
    c.cell = cell;
    c.dir = dir;
    c.T = T;
    c.B = B;
    c.I = I;
    c.H = H;
    c.bias = 1;
    c.init = 1;
    for (int d = 0; d < 2; d++) {
        if (cell == SEQK_CELL_RNN) {
            c.act[d * 3] = act_of(SEQK_ACT_TANH);
        } else {
            c.act[d * 3] = act_of(SEQK_ACT_SIGMOID);
            c.act[d * 3 + 1] = act_of(SEQK_ACT_TANH);
            c.act[d * 3 + 2] = act_of(SEQK_ACT_TANH);
        }
    }
    return c;
}

/* Inputs and outputs of one case: inputs shared, outputs per run. */
typedef struct rnn_data {
    int D;
    float *x, *W, *R, *bias, *P, *h0, *c0;
    int32_t *lens;
    int64_t x_st, x_sb, y_st, y_sd, y_sb, s_off, s_sd, s_sb;
    size_t xn, yn, sn; /* floats, without the guard */
} rnn_data;

typedef struct rnn_out {
    float *y, *yh, *yc;
} rnn_out;

static float *filled(size_t n, float v)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        p[i] = v;
    return p;
}

static float *rand_buf(tu_rng *r, size_t n, float lo, float hi)
{
    float *p = filled(n, 0.0f);
    tu_fill(r, p, n, lo, hi);
    return p;
}

static void data_make(const rnn_case *c, uint64_t salt, rnn_data *d)
{
    tu_rng r;
    tu_rng_init(&r, salt);
    memset(d, 0, sizeof *d);
    const int D = c->dir == SEQK_BIDIRECTIONAL ? 2 : 1;
    const int64_t T = c->T, B = c->B, I = c->I, H = c->H, G = gates(c->cell);
    d->D = D;

    switch (c->layout) {
    case LAYOUT_TBI:
        d->x_st = B * I; d->x_sb = I;
        d->y_st = D * B * H; d->y_sd = B * H; d->y_sb = H;
        d->s_off = 0; d->s_sd = B * H; d->s_sb = H;
        break;
    case LAYOUT_BTI:
        d->x_st = I; d->x_sb = T * I;
        d->y_sb = T * D * H; d->y_st = D * H; d->y_sd = H;
        d->s_off = 0; d->s_sd = H; d->s_sb = D * H;
        break;
    case LAYOUT_STACKED:
        /* layer 1 of 2 in layout 1: x is the inner layers' [T,B,D,H]
         * scratch, y the same, states [B, 2*D, H] from row D */
        d->x_st = B * I; d->x_sb = I;
        d->y_st = B * D * H; d->y_sd = H; d->y_sb = D * H;
        d->s_off = D * H; d->s_sd = H; d->s_sb = 2 * D * H;
        break;
    default:
        /* gaps everywhere */
        d->x_sb = I + 3; d->x_st = B * (I + 3) + 5;
        d->y_sb = H + 2; d->y_sd = B * (H + 2) + 1; d->y_st = D * d->y_sd + 3;
        d->s_off = 1; d->s_sb = H + 1; d->s_sd = B * (H + 1) + 2;
        break;
    }
    d->xn = (size_t)((T - 1) * d->x_st + (B - 1) * d->x_sb + I);
    d->yn = (size_t)((T - 1) * d->y_st + (D - 1) * d->y_sd +
                     (B - 1) * d->y_sb + H);
    d->sn = (size_t)(d->s_off + (D - 1) * d->s_sd + (B - 1) * d->s_sb + H);

    const float ws = 1.0f / sqrtf((float)I), rs = 1.0f / sqrtf((float)H);
    d->x = rand_buf(&r, d->xn, -1.0f, 1.0f);
    d->W = rand_buf(&r, (size_t)(D * G * H * I), -ws, ws);
    d->R = rand_buf(&r, (size_t)(D * G * H * H), -1.5f * rs, 1.5f * rs);
    d->bias = c->bias ? rand_buf(&r, (size_t)(D * 2 * G * H), -0.5f, 0.5f)
                      : NULL;
    d->P = c->peep ? rand_buf(&r, (size_t)(D * 3 * H), -0.7f, 0.7f) : NULL;
    d->h0 = c->init ? rand_buf(&r, d->sn, -1.0f, 1.0f) : NULL;
    d->c0 = c->init && c->cell == SEQK_CELL_LSTM
                ? rand_buf(&r, d->sn, -1.0f, 1.0f) : NULL;
    if (c->lens) {
        d->lens = malloc((size_t)B * sizeof(int32_t));
        ck_assert_ptr_nonnull(d->lens);
        for (int64_t b = 0; b < B; b++)
            d->lens[b] = c->lens == 2 ? (int32_t)T
                       : (int32_t)((uint64_t)(tu_uniform(&r, 0, 1) * 1e6) %
                                   (uint64_t)(T + 1));
        if (c->lens == 1) {
            d->lens[0] = (int32_t)T;
            if (B > 1)
                d->lens[B - 1] = 0;
            if (B > 2)
                d->lens[1] = 0;
        }
    }
}

static void data_free(rnn_data *d)
{
    free(d->x); free(d->W); free(d->R); free(d->bias); free(d->P);
    free(d->h0); free(d->c0); free(d->lens);
}

static void out_make(const rnn_case *c, const rnn_data *d, rnn_out *o)
{
    o->y = filled(d->yn + GUARD, SENTINEL);
    o->yh = filled(d->sn + GUARD, SENTINEL);
    o->yc = filled(d->sn + GUARD, SENTINEL);
    if (c->alias) {
        /* the run's initial state is its own output buffer */
        if (d->h0)
            memcpy(o->yh, d->h0, d->sn * sizeof(float));
        if (d->c0)
            memcpy(o->yc, d->c0, d->sn * sizeof(float));
    }
}

static void out_free(rnn_out *o)
{
    free(o->y); free(o->yh); free(o->yc);
}

static seqk_rnn_layer_problem problem_of(const rnn_case *c, const rnn_data *d,
                                         rnn_out *o)
{
    seqk_rnn_layer_problem p;
    memset(&p, 0, sizeof p);
    p.cell = c->cell;
    p.num_dirs = d->D;
    p.reverse = c->dir == SEQK_REVERSE;
    p.T = c->T; p.B = c->B; p.I = c->I; p.H = c->H;
    p.x = d->x; p.x_st = d->x_st; p.x_sb = d->x_sb;
    p.W = d->W; p.R = d->R; p.bias = d->bias;
    p.P = c->cell == SEQK_CELL_LSTM ? d->P : NULL;
    p.seq_lens = d->lens;
    p.h0 = d->h0 ? (c->alias ? o->yh : d->h0) + d->s_off : NULL;
    p.c0 = d->c0 ? (c->alias ? o->yc : d->c0) + d->s_off : NULL;
    p.h0_sd = d->s_sd; p.h0_sb = d->s_sb;
    if (!c->no_y) {
        p.y = o->y;
        p.y_st = d->y_st; p.y_sd = d->y_sd; p.y_sb = d->y_sb;
    }
    p.yh = o->yh + d->s_off;
    p.yc = c->cell == SEQK_CELL_LSTM ? o->yc + d->s_off : NULL;
    p.yh_sd = d->s_sd; p.yh_sb = d->s_sb;
    memcpy(p.act, c->act, sizeof p.act);
    p.clip = c->clip;
    p.input_forget = c->input_forget;
    p.linear_before_reset = c->lbr;
    return p;
}

static void describe(const rnn_case *c, const char *isa, int threads,
                     char *buf, size_t len)
{
    static const char *const cells[] = {"RNN", "LSTM", "GRU"};
    static const char *const dirs[] = {"fwd", "rev", "bi"};
    snprintf(buf, len,
             "%s t%d %s %s T=%lld B=%lld I=%lld H=%lld lbr=%d if=%d peep=%d "
             "bias=%d init=%d clip=%g acts=%d,%d,%d lens=%d layout=%d "
             "alias=%d no_y=%d", isa, threads, cells[c->cell], dirs[c->dir],
             (long long)c->T, (long long)c->B, (long long)c->I,
             (long long)c->H, c->lbr, c->input_forget, c->peep, c->bias,
             c->init, (double)c->clip, c->act[0].kind, c->act[1].kind,
             c->act[2].kind, c->lens, c->layout, c->alias, c->no_y);
}

static void compare(const float *got, const float *want, size_t n,
                    const rnn_case *c, const char *what, const char *desc)
{
    /* float accumulation against the double oracle over H + I terms,
     * compounded over the steps */
    const float atol = 2e-5f + 2e-7f * (float)(c->H + c->I);
    char msg[256];
    ck_assert_msg(tu_close(got, want, n, atol, 1e-4f, msg, sizeof msg),
                  "%s: %s: %s", desc, what, msg);
}

/* Runs case c on data d on isa with a context of `threads` threads and
 * checks it against the reference.  cache may be NULL. */
static void check_data(const rnn_case *c, const rnn_data *d,
                       const isa_dev *dev, int threads,
                       seqk_backend_cache *cache)
{
    char desc[320];
    describe(c, dev->spec, threads, desc, sizeof desc);
    rnn_out want, got;
    out_make(c, d, &want);
    out_make(c, d, &got);

    seqk_rnn_layer_problem p = problem_of(c, d, &want);
    ck_assert_int_eq(seqk__ref_rnn_layer(&p), SEQK_OK);

    seqk_context *ctx = make_ctx(dev->spec, threads);
    p = problem_of(c, d, &got);
    p.cache = cache;
    char why[128] = "";
    ck_assert_msg(seqk__cpu_supports(dev->isa, SEQK_OP_RNN_LAYER, &p, why,
                                    sizeof why), "%s: refused: %s", desc, why);
    seqk_status st = seqk__cpu_rnn_layer(ctx, dev->isa, &p);
    ck_assert_msg(st == SEQK_OK, "%s: %s: %s", desc, seqk_status_string(st),
                  seqk_last_error(ctx));
    seqk_context_destroy(ctx);

    compare(got.y, want.y, d->yn + GUARD, c, "Y", desc);
    compare(got.yh, want.yh, d->sn + GUARD, c, "Y_h", desc);
    compare(got.yc, want.yc, d->sn + GUARD, c, "Y_c", desc);
    out_free(&want);
    out_free(&got);
}

static void check_case(const rnn_case *c, const isa_dev *dev, int threads,
                       seqk_backend_cache *cache, uint64_t salt)
{
    rnn_data d;
    data_make(c, salt, &d);
    check_data(c, &d, dev, threads, cache);
    data_free(&d);
}

static void check_all_isas(const rnn_case *c, int threads, uint64_t salt)
{
    for (int i = 0; i < g_nisa; i++)
        check_case(c, &g_isa[i], threads, NULL, salt);
}

/* ------------------------------------------------------------ tests */

static const seqk_direction k_dirs[3] = {SEQK_FORWARD, SEQK_REVERSE,
                                         SEQK_BIDIRECTIONAL};

/* Every cell x direction x variant (lbr, input_forget, peepholes, clip,
 * bias, initial state), on a few small shapes. */
START_TEST(test_variants)
{
    static const int64_t shapes[][4] = {/* T, B, I, H */
        {3, 2, 5, 17}, {25, 1, 7, 33}, {4, 5, 3, 130}, {1, 16, 9, 40}};
    int n = 0;
    for (int cell = 0; cell < 3; cell++)
        for (int di = 0; di < 3; di++)
            for (int v = 0; v < 16; v++) {
                const int lbr = v & 1, inf = (v >> 1) & 1, peep = (v >> 2) & 1;
                const int clip = (v >> 3) & 1;
                if (cell != SEQK_CELL_GRU && lbr)
                    continue;
                if (cell != SEQK_CELL_LSTM && (inf || peep))
                    continue;
                const int64_t *s = shapes[n % 4];
                rnn_case c = base_case((seqk_cell)cell, k_dirs[di], s[0], s[1],
                                       s[2], s[3]);
                c.lbr = lbr;
                c.input_forget = inf;
                c.peep = peep;
                c.clip = clip ? 0.6f : 0.0f;
                c.bias = n % 5 != 3;
                c.init = n % 3 != 1;
                c.lens = n % 4 == 2;
                check_all_isas(&c, 1, 100 + (uint64_t)n);
                n++;
            }
}
END_TEST

/* Hidden sizes around the vector width (and twice it: single-gate tiles
 * are two vectors), batch sizes around the register tile heights, and
 * sequence lengths, for every cell. */
START_TEST(test_shapes)
{
    static const int64_t Bs[] = {1, 2, 5, 7, 9, 16};
    static const int64_t Ts[] = {1, 3, 25};
    int n = 0;
    for (int i = 0; i < g_nisa; i++) {
        const int V = g_isa[i].vlen;
        const int64_t Hs[] = {1, V - 1, V, V + 1, 2 * V - 1, 2 * V + 1, 17,
                              64, 130};
        for (int cell = 0; cell < 3; cell++)
            for (size_t h = 0; h < sizeof Hs / sizeof Hs[0]; h++)
                for (size_t b = 0; b < sizeof Bs / sizeof Bs[0]; b++) {
                    if (Hs[h] < 1)
                        continue;
                    /* all T for small problems, one T for the larger */
                    for (size_t t = 0; t < 3; t++) {
                        if (Hs[h] * Bs[b] > 256 && t != (size_t)n % 3)
                            continue;
                        rnn_case c = base_case((seqk_cell)cell,
                                               k_dirs[n % 3], Ts[t], Bs[b],
                                               1 + n % 11, Hs[h]);
                        c.lbr = n & 1;
                        c.lens = n % 4 == 1;
                        check_case(&c, &g_isa[i], 1, NULL, 500 + (uint64_t)n);
                        n++;
                    }
                }
    }
}
END_TEST

/* A batch large enough for many register tiles per hidden tile. */
START_TEST(test_large_batch)
{
    for (int cell = 0; cell < 3; cell++) {
        rnn_case c = base_case((seqk_cell)cell, SEQK_BIDIRECTIONAL, 3, 64,
                               48, 96);
        c.lbr = cell == SEQK_CELL_GRU;
        c.lens = 1;
        check_all_isas(&c, 2, 900 + (uint64_t)cell);
        c.lbr = 0;
        c.H = 256;
        c.B = 13;
        check_all_isas(&c, 1, 910 + (uint64_t)cell);
    }
}
END_TEST

/* The steps in several chunks (the driver projects a chunk of steps at a
 * time; shrunk here from 4 MiB of XW to 20 KiB): forward and reverse
 * with sequence_lens, layout 1, odd strides, and a batch that takes the
 * fused projection (no chunks) for comparison. */
START_TEST(test_chunks)
{
    const int64_t saved = seqk__cpu_rnn_xw_chunk_bytes;
    seqk__cpu_rnn_xw_chunk_bytes = 20 * 1024;
    rnn_case c = base_case(SEQK_CELL_LSTM, SEQK_BIDIRECTIONAL, 25, 5, 8, 70);
    c.lens = 1;
    c.peep = 1;
    check_all_isas(&c, 2, 950);
    c = base_case(SEQK_CELL_GRU, SEQK_REVERSE, 25, 3, 8, 100);
    c.lens = 1;
    c.layout = LAYOUT_BTI;
    c.alias = 1;
    check_all_isas(&c, 1, 951);
    c = base_case(SEQK_CELL_RNN, SEQK_FORWARD, 25, 1, 8, 300);
    c.layout = LAYOUT_ODD;
    check_all_isas(&c, 1, 952);
    c = base_case(SEQK_CELL_GRU, SEQK_BIDIRECTIONAL, 25, 33, 8, 64);
    c.lens = 1;
    check_all_isas(&c, 3, 953);
    /* the chunks of a batch split: each thread its rows through all of
     * them (5 rows: 3 + 2), GRU lbr=0's two passes with no barrier */
    seqk__cpu_rnn_split = 2;
    c = base_case(SEQK_CELL_LSTM, SEQK_BIDIRECTIONAL, 25, 5, 8, 70);
    c.lens = 1;
    c.peep = 1;
    check_all_isas(&c, 2, 954);
    c = base_case(SEQK_CELL_GRU, SEQK_BIDIRECTIONAL, 25, 5, 8, 40);
    c.lens = 1;
    c.lbr = 0;
    check_all_isas(&c, 2, 955);
    seqk__cpu_rnn_split = 0;
    seqk__cpu_rnn_xw_chunk_bytes = saved;
}
END_TEST

/* All eleven activations in every function slot, with non-default
 * alpha/beta, and different ones for the reverse direction. */
START_TEST(test_activations)
{
    int n = 0;
    for (int cell = 0; cell < 3; cell++)
        for (int k = 0; k < SEQK_ACT_COUNT_; k++)
            for (int slot = 0; slot < (cell == SEQK_CELL_LSTM ? 3 :
                                       cell == SEQK_CELL_GRU ? 2 : 1);
                 slot++) {
                rnn_case c = base_case((seqk_cell)cell, SEQK_BIDIRECTIONAL, 3,
                                       3, 6, 21);
                c.act[slot] = act_of((seqk_act_kind)k);
                c.act[3 + slot] = act_of((seqk_act_kind)((k + 4) %
                                                         SEQK_ACT_COUNT_));
                c.lbr = n & 1;
                c.peep = n % 3 == 0;
                c.clip = n % 4 == 0 ? 0.8f : 0.0f;
                check_all_isas(&c, 1, 1000 + (uint64_t)n);
                n++;
            }
}
END_TEST

/* sequence_lens with zeros and maxima, with and without initial states,
 * every direction; y NULL (final states only) too. */
START_TEST(test_seq_lens)
{
    int n = 0;
    for (int cell = 0; cell < 3; cell++)
        for (int di = 0; di < 3; di++)
            for (int v = 0; v < 4; v++) {
                rnn_case c = base_case((seqk_cell)cell, k_dirs[di], 6, 7, 5,
                                       19 + 7 * v);
                c.lens = v == 3 ? 2 : 1;
                c.init = v & 1;
                c.no_y = v == 2;
                c.lbr = (v >> 1) & 1;
                check_all_isas(&c, v == 1 ? 2 : 1, 1200 + (uint64_t)n);
                n++;
            }
}
END_TEST

/* Strided layouts: ONNX layout 1, a stacked layer's strides, odd gaps;
 * and yh/yc aliasing h0/c0. */
START_TEST(test_layouts)
{
    int n = 0;
    for (int layout = 0; layout < LAYOUT_COUNT; layout++)
        for (int cell = 0; cell < 3; cell++)
            for (int alias = 0; alias < 2; alias++) {
                rnn_case c = base_case((seqk_cell)cell,
                                       n % 2 ? SEQK_BIDIRECTIONAL
                                             : k_dirs[n % 3],
                                       5, 3, 10, 23);
                c.layout = layout;
                c.alias = alias;
                c.lens = 1;
                c.lbr = n % 4 < 2;
                check_all_isas(&c, 1 + n % 3, 1400 + (uint64_t)n);
                n++;
            }
}
END_TEST

/* Thread counts 1, 2 and 3 give the same results (and the reference's). */
START_TEST(test_threads)
{
    static const int64_t Hs[] = {130, 100, 200};
    for (int i = 0; i < g_nisa; i++)
        for (int cell = 0; cell < 3; cell++) {
            rnn_case c = base_case((seqk_cell)cell, k_dirs[cell], 7, 16, 12,
                                   Hs[cell]);
            c.lens = 1;
            c.peep = 1;
            c.lbr = 0;
            rnn_data d;
            data_make(&c, 1600 + (uint64_t)cell, &d);
            rnn_out out1 = {NULL, NULL, NULL};
            /* 2, 3 threads by units, then by rows (16 rows: 8 + 8 and
             * 6 + 5 + 5) */
            for (int t = 1; t <= 5; t++) {
                const int nt = t <= 3 ? t : t - 2;
                seqk__cpu_rnn_split = t <= 3 ? 1 : 2;
                char desc[320];
                describe(&c, g_isa[i].spec, nt, desc, sizeof desc);
                rnn_out o;
                out_make(&c, &d, &o);
                seqk_context *ctx = make_ctx(g_isa[i].spec, nt);
                seqk_rnn_layer_problem p = problem_of(&c, &d, &o);
                ck_assert_int_eq(seqk__cpu_rnn_layer(ctx, g_isa[i].isa, &p),
                                 SEQK_OK);
                seqk_context_destroy(ctx);
                if (t == 1) {
                    out1 = o;
                    continue;
                }
                compare(o.y, out1.y, d.yn + GUARD, &c, "Y vs 1 thread", desc);
                compare(o.yh, out1.yh, d.sn + GUARD, &c, "Y_h vs 1 thread",
                        desc);
                compare(o.yc, out1.yc, d.sn + GUARD, &c, "Y_c vs 1 thread",
                        desc);
                out_free(&o);
            }
            seqk__cpu_rnn_split = 0;
            out_free(&out1);
            data_free(&d);
            check_case(&c, &g_isa[i], 3, NULL, 1600 + (uint64_t)cell);
        }
}
END_TEST

static void cache_clear(seqk_backend_cache *cache)
{
    if (cache->data && cache->free_fn)
        cache->free_fn(cache->data);
    memset(cache, 0, sizeof *cache);
}

/* The prepacked R in the plan's cache: reused while it is this ISA's, and
 * never used for other weights (the plan clears it when they change; a
 * different R pointer or another ISA's data is repacked anyway). */
START_TEST(test_cache)
{
    for (int cell = 0; cell < 3; cell++) {
        seqk_backend_cache cache;
        memset(&cache, 0, sizeof cache);
        rnn_case c = base_case((seqk_cell)cell, SEQK_BIDIRECTIONAL, 4, 3, 8,
                               37);
        c.input_forget = 1;
        rnn_data a, b;
        data_make(&c, 1700, &a);
        data_make(&c, 1701, &b); /* other weights, alive at the same time */
        for (int i = 0; i < g_nisa; i++) {
            check_data(&c, &a, &g_isa[i], 1, &cache);
            ck_assert_ptr_eq(cache.owner, g_isa[i].isa);
            const void *packed = cache.data;
            ck_assert_ptr_nonnull(packed);
            check_data(&c, &a, &g_isa[i], 2, &cache); /* cache hit */
            ck_assert_ptr_eq(cache.data, packed);
            /* new weights, cache cleared as the plan does */
            cache_clear(&cache);
            check_data(&c, &b, &g_isa[i], 1, &cache);
            ck_assert_ptr_nonnull(cache.data);
            /* other weights (another R pointer), cache not cleared */
            check_data(&c, &a, &g_isa[i], 1, &cache);
        }
        /* another ISA's data in the slot is replaced, not used */
        for (int i = 0; i < g_nisa && g_nisa > 1; i++) {
            const void *before = cache.owner;
            check_data(&c, &a, &g_isa[i], 1, &cache);
            ck_assert_ptr_ne(before, cache.owner);
            ck_assert_ptr_eq(cache.owner, g_isa[i].isa);
        }
        cache_clear(&cache);
        data_free(&a);
        data_free(&b);
    }
}
END_TEST

/* Through the public API on every device: a bidirectional 2-layer LSTM
 * with sequence_lens and initial states, forward twice (the second with
 * the packed weights cached), then new weights for layer 0. */
static void api_forward(seqk_context *ctx, seqk_rnn *rnn, const float *X,
                        const int32_t *lens, const float *h0, const float *c0,
                        int64_t T, int64_t B, int64_t I, int64_t H,
                        float *Y, float *Yh, float *Yc)
{
    const int64_t xd[3] = {T, B, I}, ld[1] = {B}, sd[3] = {4, B, H},
                  yd[4] = {T, 2, B, H};
    seqk_tensor *x = tu_f32(ctx, 3, xd, X), *l = tu_i32(ctx, 1, ld, lens);
    seqk_tensor *th = tu_f32(ctx, 3, sd, h0), *tc = tu_f32(ctx, 3, sd, c0);
    seqk_tensor *y = tu_f32(ctx, 4, yd, NULL), *yh = tu_f32(ctx, 3, sd, NULL);
    seqk_tensor *yc = tu_f32(ctx, 3, sd, NULL);
    TU_OK(ctx, seqk_rnn_forward(rnn, x, l, th, tc, y, yh, yc));
    tu_assert_guard(y);
    tu_assert_guard(yh);
    tu_assert_guard(yc);
    const size_t ny = (size_t)(T * 2 * B * H), ns = (size_t)(4 * B * H);
    float *r = tu_read(y);
    memcpy(Y, r, ny * sizeof(float));
    free(r);
    r = tu_read(yh);
    memcpy(Yh, r, ns * sizeof(float));
    free(r);
    r = tu_read(yc);
    memcpy(Yc, r, ns * sizeof(float));
    free(r);
    seqk_tensor *all[] = {x, l, th, tc, y, yh, yc};
    for (size_t i = 0; i < 7; i++)
        seqk_tensor_destroy(all[i]);
}

static void api_set_layer(seqk_context *ctx, seqk_rnn *rnn, int layer,
                          int64_t I, int64_t H, const float *W, const float *R,
                          const float *Bias)
{
    const int64_t wd[3] = {2, 4 * H, I}, rd[3] = {2, 4 * H, H},
                  bd[2] = {2, 8 * H};
    seqk_tensor *w = tu_f32(ctx, 3, wd, W), *r = tu_f32(ctx, 3, rd, R);
    seqk_tensor *b = tu_f32(ctx, 2, bd, Bias);
    TU_OK(ctx, seqk_rnn_set_weights(rnn, layer, SEQK_WEIGHTS_ONNX, w, r, b,
                                    NULL));
    seqk_tensor_destroy(w);
    seqk_tensor_destroy(r);
    seqk_tensor_destroy(b);
}

START_TEST(test_api_stacked_lstm)
{
    const int64_t T = 9, B = 4, I = 11, H = 40;
    tu_rng rng;
    tu_rng_init(&rng, 1800);
    float *X = tu_rand(&rng, (size_t)(T * B * I), -1, 1);
    float *h0 = tu_rand(&rng, (size_t)(4 * B * H), -1, 1);
    float *c0 = tu_rand(&rng, (size_t)(4 * B * H), -1, 1);
    float *W[2], *R[3], *Bs[2];
    for (int l = 0; l < 2; l++) {
        const int64_t Il = l ? 2 * H : I;
        W[l] = tu_rand(&rng, (size_t)(2 * 4 * H * Il), -0.3f, 0.3f);
        R[l] = tu_rand(&rng, (size_t)(2 * 4 * H * H), -0.2f, 0.2f);
        Bs[l] = tu_rand(&rng, (size_t)(2 * 8 * H), -0.5f, 0.5f);
    }
    R[2] = tu_rand(&rng, (size_t)(2 * 4 * H * H), -0.2f, 0.2f);
    const int32_t lens[4] = {9, 0, 4, 7};
    const size_t ny = (size_t)(T * 2 * B * H), ns = (size_t)(4 * B * H);
    float *want[3][3], *got[3][3]; /* [forward #][Y, Yh, Yc] */
    for (int f = 0; f < 3; f++)
        for (int o = 0; o < 3; o++) {
            want[f][o] = malloc((o ? ns : ny) * sizeof(float));
            got[f][o] = malloc((o ? ns : ny) * sizeof(float));
        }

    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        seqk_rnn_desc desc;
        seqk_rnn_desc_init(&desc, SEQK_CELL_LSTM, I, H);
        desc.direction = SEQK_BIDIRECTIONAL;
        desc.num_layers = 2;
        seqk_rnn *rnn = NULL;
        TU_OK(ctx, seqk_rnn_create(ctx, &desc, &rnn));
        api_set_layer(ctx, rnn, 0, I, H, W[0], R[0], Bs[0]);
        api_set_layer(ctx, rnn, 1, 2 * H, H, W[1], R[1], Bs[1]);
        float *(*out)[3] = dev == 0 ? want : got;
        api_forward(ctx, rnn, X, lens, h0, c0, T, B, I, H, out[0][0],
                    out[0][1], out[0][2]);
        api_forward(ctx, rnn, X, lens, h0, c0, T, B, I, H, out[1][0],
                    out[1][1], out[1][2]);
        api_set_layer(ctx, rnn, 0, I, H, W[0], R[2], Bs[0]);
        api_forward(ctx, rnn, X, lens, h0, c0, T, B, I, H, out[2][0],
                    out[2][1], out[2][2]);
        seqk_rnn_destroy(rnn);
        if (dev > 0) {
            for (int f = 0; f < 3; f++)
                for (int o = 0; o < 3; o++) {
                    char msg[256];
                    ck_assert_msg(tu_close(got[f][o], want[f][o],
                                           o ? ns : ny, 1e-4f, 1e-4f, msg,
                                           sizeof msg),
                                  "%s forward %d output %d: %s",
                                  tu_device(dev), f, o, msg);
                }
            /* new R changed the result: the cache was not reused */
            char msg[256];
            ck_assert_msg(!tu_close(got[2][0], got[1][0], ny, 1e-4f, 1e-4f,
                                    msg, sizeof msg),
                          "%s: new weights left Y unchanged", tu_device(dev));
        }
        seqk_context_destroy(ctx);
    }
    for (int f = 0; f < 3; f++)
        for (int o = 0; o < 3; o++) {
            free(want[f][o]);
            free(got[f][o]);
        }
    for (int l = 0; l < 2; l++) {
        free(W[l]);
        free(R[l]);
        free(Bs[l]);
    }
    free(R[2]);
    free(X);
    free(h0);
    free(c0);
}
END_TEST

/* `seqk info` asks without a problem: every ISA with kernels says yes. */
START_TEST(test_supports)
{
    for (int i = 0; i < g_nisa; i++) {
        char why[128] = "";
        ck_assert_msg(seqk__cpu_supports(g_isa[i].isa, SEQK_OP_RNN_LAYER, NULL,
                                        why, sizeof why),
                      "%s: %s", g_isa[i].spec, why);
    }
}
END_TEST

int main(void)
{
    find_isas();
    Suite *s = suite_create("cpu_rnn");
    TCase *tc = tcase_create("cpu_rnn");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_supports);
    tcase_add_test(tc, test_variants);
    tcase_add_test(tc, test_shapes);
    tcase_add_test(tc, test_large_batch);
    tcase_add_test(tc, test_chunks);
    tcase_add_test(tc, test_activations);
    tcase_add_test(tc, test_seq_lens);
    tcase_add_test(tc, test_layouts);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_cache);
    tcase_add_test(tc, test_api_stacked_lstm);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
