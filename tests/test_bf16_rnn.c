/*
 * test_bf16_rnn.c — the "bf16" suite, part 2: RNN, LSTM and GRU plans with
 * weight_dtype = SEQK_BF16 on every available device (see test_bf16.c for
 * what a device is held to): bit-equal to the same device's f32 plan with
 * W and R rounded by this test, within f32 tolerance of ref's bf16 plan,
 * over hidden sizes 1..70 (every vector-width edge), odd input sizes,
 * batch 1 (the bf16 GEMV step) and batches with unequal lengths (steps
 * where one row is left), both directions, two layers.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_bf16.h"

typedef struct rnn_case {
    seqk_cell cell;
    int lbr, bidir, layers;
    int64_t H, I, T, B;
} rnn_case;

static int gates(seqk_cell c)
{
    return c == SEQK_CELL_LSTM ? 4 : c == SEQK_CELL_GRU ? 3 : 1;
}

/* Y then Y_h (and Y_c) of one forward, concatenated (malloc'd, *n). */
static float *run_rnn(seqk_context *ctx, const rnn_case *c, seqk_dtype wdt,
                      float *const *W, float *const *R, float *const *Bs,
                      const float *X, const int32_t *lens, size_t *n)
{
    const int64_t D = c->bidir ? 2 : 1, H = c->H, G = gates(c->cell);
    const int64_t L = c->layers, T = c->T, B = c->B;
    seqk_rnn_desc d;
    seqk_rnn_desc_init(&d, c->cell, c->I, H);
    d.direction = c->bidir ? SEQK_BIDIRECTIONAL : SEQK_FORWARD;
    d.num_layers = c->layers;
    d.linear_before_reset = c->lbr;
    d.weight_dtype = wdt;
    seqk_rnn *rnn = NULL;
    TU_OK(ctx, seqk_rnn_create(ctx, &d, &rnn));
    for (int l = 0; l < L; l++) {
        const int64_t I = l ? D * H : c->I;
        const int64_t wd[3] = {D, G * H, I}, rd[3] = {D, G * H, H};
        const int64_t bd[2] = {D, 2 * G * H};
        seqk_tensor *tW = tu_f32(ctx, 3, wd, W[l]);
        seqk_tensor *tR = tu_f32(ctx, 3, rd, R[l]);
        seqk_tensor *tB = tu_f32(ctx, 2, bd, Bs[l]);
        TU_OK(ctx, seqk_rnn_set_weights(rnn, l, SEQK_WEIGHTS_ONNX, tW, tR,
                                        tB, NULL));
        seqk_tensor_destroy(tW);
        seqk_tensor_destroy(tR);
        seqk_tensor_destroy(tB);
    }
    const int64_t xd[3] = {T, B, c->I}, yd[4] = {T, D, B, H};
    const int64_t sd[3] = {L * D, B, H}, ld[1] = {B};
    seqk_tensor *tX = tu_f32(ctx, 3, xd, X);
    seqk_tensor *tL = lens ? tu_i32(ctx, 1, ld, lens) : NULL;
    seqk_tensor *tY = tu_f32(ctx, 4, yd, NULL), *tYh = tu_f32(ctx, 3, sd, NULL);
    seqk_tensor *tYc = c->cell == SEQK_CELL_LSTM ? tu_f32(ctx, 3, sd, NULL)
                                                 : NULL;
    TU_OK(ctx, seqk_rnn_forward(rnn, tX, tL, NULL, NULL, tY, tYh, tYc));
    /* again: the packed (bf16) panels from the plan's cache */
    TU_OK(ctx, seqk_rnn_forward(rnn, tX, tL, NULL, NULL, tY, tYh, tYc));
    const size_t ny = (size_t)(T * D * B * H), ns = (size_t)(L * D * B * H);
    *n = ny + ns * (tYc ? 2 : 1);
    float *out = malloc(*n * sizeof *out);
    ck_assert_ptr_nonnull(out);
    float *y = tu_read(tY), *yh = tu_read(tYh);
    memcpy(out, y, ny * sizeof *out);
    memcpy(out + ny, yh, ns * sizeof *out);
    free(y);
    free(yh);
    if (tYc) {
        float *yc = tu_read(tYc);
        memcpy(out + ny + ns, yc, ns * sizeof *out);
        free(yc);
    }
    seqk_tensor *all[] = {tX, tL, tY, tYh, tYc};
    for (size_t i = 0; i < 5; i++)
        seqk_tensor_destroy(all[i]);
    seqk_rnn_destroy(rnn);
    return out;
}

static void check_case(seqk_context *ctx, seqk_context *ref,
                       const rnn_case *c, uint64_t seed)
{
    const int64_t D = c->bidir ? 2 : 1, H = c->H, G = gates(c->cell);
    tu_rng rng;
    tu_rng_init(&rng, seed);
    float *W[2], *R[2], *Bs[2], *Wr[2], *Rr[2];
    for (int l = 0; l < c->layers; l++) {
        const size_t nw = (size_t)(D * G * H * (l ? D * H : c->I));
        const size_t nr = (size_t)(D * G * H * H);
        W[l] = tu_rand(&rng, nw, -0.7f, 0.7f);
        R[l] = tu_rand(&rng, nr, -0.7f, 0.7f);
        Bs[l] = tu_rand(&rng, (size_t)(D * 2 * G * H), -0.5f, 0.5f);
        Wr[l] = tb_rounded(W[l], nw);
        Rr[l] = tb_rounded(R[l], nr);
    }
    float *X = tu_rand(&rng, (size_t)(c->T * c->B * c->I), -1, 1);
    int32_t lens[8];
    for (int64_t b = 0; b < c->B; b++) /* unequal: steps with one row left */
        lens[b] = (int32_t)(c->T - (b % c->T));
    const int32_t *lp = c->B > 1 ? lens : NULL;
    size_t n, n2, n3;
    float *got = run_rnn(ctx, c, SEQK_BF16, W, R, Bs, X, lp, &n);
    float *same = run_rnn(ctx, c, SEQK_F32, Wr, Rr, Bs, X, lp, &n2);
    float *oracle = run_rnn(ref, c, SEQK_BF16, W, R, Bs, X, lp, &n3);
    ck_assert_uint_eq(n, n2);
    ck_assert_uint_eq(n, n3);
    char what[160];
    snprintf(what, sizeof what, "cell %d lbr %d D %lld L %d H %lld I %lld "
             "T %lld B %lld: bf16 vs f32(rounded)", (int)c->cell, c->lbr,
             (long long)D, c->layers, (long long)H, (long long)c->I,
             (long long)c->T, (long long)c->B);
    tb_assert_same(got, same, n, what);
    TU_ASSERT_CLOSE(got, oracle, n, 2e-5f, 2e-5f);
    free(got);
    free(same);
    free(oracle);
    free(X);
    for (int l = 0; l < c->layers; l++) {
        free(W[l]);
        free(R[l]);
        free(Bs[l]);
        free(Wr[l]);
        free(Rr[l]);
    }
}

START_TEST(bf16_rnn_matches)
{
    seqk_context *ctx = tu_context(_i), *ref = tu_context(0);
    static const int64_t Hs[] = {1, 5, 8, 16, 17, 31, 33, 48, 64, 70};
    static const int64_t Is[] = {1, 7, 20};
    const int small = getenv("SEQK_OCL_SMALL") != NULL;
    uint64_t seed = 1;
    for (size_t hi = 0; hi < sizeof Hs / sizeof Hs[0]; hi++)
        for (int cell = 0; cell < 4; cell++) {
            if (small && hi % 3)
                continue;
            rnn_case c;
            memset(&c, 0, sizeof c);
            c.cell = cell == 0 ? SEQK_CELL_RNN
                     : cell == 1 ? SEQK_CELL_LSTM : SEQK_CELL_GRU;
            c.lbr = cell == 3;
            c.H = Hs[hi];
            c.I = Is[(hi + (size_t)cell) % 3];
            /* batch 1 (the bf16 step), one direction and both */
            c.T = 3;
            c.B = 1;
            c.layers = 1;
            c.bidir = (int)(hi % 2);
            check_case(ctx, ref, &c, seed++);
            /* batch 3 with unequal lengths, two layers */
            c.B = 3;
            c.T = 4;
            c.layers = 2;
            c.bidir = (int)((hi + 1) % 2);
            check_case(ctx, ref, &c, seed++);
        }
    seqk_context_destroy(ref);
    seqk_context_destroy(ctx);
}
END_TEST

/* The decoder's shapes: batch 1, one step, H 256, input feeding (I 512). */
START_TEST(bf16_rnn_decoder_step)
{
    seqk_context *ctx = tu_context(_i), *ref = tu_context(0);
    rnn_case c = {SEQK_CELL_LSTM, 0, 0, 1, 256, 512, 1, 1};
    check_case(ctx, ref, &c, 77);
    c.cell = SEQK_CELL_GRU;
    c.lbr = 1;
    c.H = 130;
    c.I = 67;
    c.T = 2;
    check_case(ctx, ref, &c, 78);
    seqk_context_destroy(ref);
    seqk_context_destroy(ctx);
}
END_TEST

TCase *bf16_rnn_tcase(void)
{
    TCase *tc = tcase_create("rnn");
    int n = tu_device_count();
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, bf16_rnn_matches, 0, n);
    tcase_add_loop_test(tc, bf16_rnn_decoder_step, 0, n);
    return tc;
}
