/*
 * test_conv_nlc.c — seqk_conv1d with input_channels_last (X [N,L,C]) and
 * output_channels_last (Y [N,Lout,M]), all four combinations, on every
 * test device, CPU devices on 1 and 2 threads: against a double loop
 * written here, and against the channels-first conv on the same device;
 * edge shapes (padding wider than the input, strides 1/2/3 and past K,
 * dilation, groups, pointwise, L 1 and 2, N 1, X read in place by the
 * CPU's windows GEMM, M not a vector multiple, a large item that takes
 * im2col + GEMM, speech's two convs).  Then the errors: shapes read
 * channels-last, bad flags, and the structs of callers built before each
 * field (still accepted, read as channels-first).  SEQK_OCL_SMALL=1 (under
 * Oclgrind): the cases up to 50k multiply-adds only.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct ccase {
    int64_t N, C, L, M, K, s, d, pb, pe, g;
    int ap;
} ccase;

static const ccase cases[] = {
    {16, 20, 64, 32, 3, 1, 1, 1, 1, 1, 0}, /* speech conv1 */
    {16, 32, 64, 32, 3, 2, 1, 1, 1, 1, 0}, /* speech conv2 */
    {1, 3, 17, 5, 3, 1, 1, 1, 1, 1, 0},
    {2, 4, 33, 8, 5, 2, 1, 2, 2, 1, 0},
    {1, 6, 20, 6, 3, 1, 2, 0, 0, 3, 0},
    {2, 8, 9, 8, 3, 1, 1, 0, 0, 8, 0},     /* depthwise */
    {3, 4, 5, 6, 3, 1, 1, 7, 6, 2, 0},     /* pads wider than L */
    {5, 6, 33, 9, 4, 3, 2, 2, 1, 3, 0},
    {9, 8, 40, 8, 1, 1, 1, 0, 0, 1, 0},    /* pointwise */
    {2, 3, 1, 4, 5, 1, 1, 4, 0, 1, 0},     /* L 1 */
    {2, 3, 50, 4, 2, 5, 1, 0, 0, 1, 0},    /* stride past K */
    {4, 2, 9, 3, 3, 2, 3, 5, 5, 1, 0},
    {1, 3, 10, 4, 4, 3, 1, 0, 0, 1, 1},    /* SAME_UPPER */
    {1, 3, 10, 4, 4, 3, 1, 0, 0, 1, 2},    /* SAME_LOWER */
    {1, 2, 7, 3, 3, 1, 1, 0, 0, 1, 3},     /* VALID */
    {1, 64, 300, 128, 5, 1, 1, 2, 2, 1, 0}, /* im2col + GEMM */
    {1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0},
    {1, 5, 4, 7, 1, 1, 1, 0, 0, 1, 0},     /* K 1, N 1: X in place */
    {3, 7, 11, 9, 3, 3, 1, 2, 3, 1, 0},    /* stride 3, pads */
    {2, 5, 6, 17, 4, 2, 1, 0, 0, 1, 0},    /* stride 2, X in place */
    {2, 3, 3, 33, 2, 1, 1, 3, 0, 1, 0},    /* pad_begin only, M 33 */
    {2, 4, 10, 6, 3, 2, 1, 0, 2, 1, 0},    /* pad_end only */
    {1, 16, 2, 5, 3, 1, 1, 2, 2, 1, 0},    /* L 2 */
    {2, 6, 12, 10, 3, 1, 2, 2, 2, 1, 0},   /* dilation 2, group 1 */
    {4, 9, 21, 12, 5, 3, 1, 1, 0, 1, 0},   /* stride 3, K 5 */
    {2, 3, 2, 4, 3, 1, 1, 5, 4, 1, 0},     /* pads wider than L, group 1 */
    {1, 2, 1, 3, 1, 5, 1, 3, 0, 1, 0},     /* every window in the pad */
};
#define N_CASES ((int)(sizeof cases / sizeof *cases))

static seqk_context *context_threads(int dev, int threads)
{
    seqk_options o;
    seqk_context *ctx = NULL;
    seqk_options_init(&o);
    o.device = tu_device(dev);
    o.threads = threads;
    ck_assert_msg(seqk_context_create(&o, &ctx) == SEQK_OK, "context %s",
                  o.device);
    return ctx;
}

static void params_of(const ccase *c, int nlc, int ynlc,
                      seqk_conv_params *p)
{
    seqk_conv_params_init(p);
    p->stride = c->s;
    p->dilation = c->d;
    p->pad_begin = c->pb;
    p->pad_end = c->pe;
    p->group = c->g;
    p->auto_pad = (seqk_auto_pad)c->ap;
    p->input_channels_last = nlc;
    p->output_channels_last = ynlc;
}

static int64_t lout_of(const ccase *c, int64_t *pb)
{
    const int64_t ext = c->d * (c->K - 1) + 1;
    int64_t b = c->pb, e = c->pe;
    if (c->ap == SEQK_AUTO_PAD_VALID) {
        b = e = 0;
    } else if (c->ap != SEQK_AUTO_PAD_NOTSET) {
        const int64_t out = (c->L + c->s - 1) / c->s;
        int64_t need = (out - 1) * c->s + ext - c->L;
        need = need < 0 ? 0 : need;
        b = c->ap == SEQK_AUTO_PAD_SAME_UPPER ? need / 2 : (need + 1) / 2;
        e = need - b;
    }
    *pb = b;
    return (c->L + b + e - ext) / c->s + 1;
}

static float *run_conv(seqk_context *ctx, const seqk_conv_params *p,
                       const int64_t *xd, const float *x, const int64_t *wd,
                       const float *w, const float *b, const int64_t *yd)
{
    seqk_tensor *X = tu_f32(ctx, 3, xd, x), *W = tu_f32(ctx, 3, wd, w);
    seqk_tensor *B = b ? tu_f32(ctx, 1, wd, b) : NULL, *Y = NULL;
    TU_OK(ctx, seqk_tensor_create(ctx, 3, yd, SEQK_F32, &Y));
    TU_OK(ctx, seqk_conv1d(ctx, p, X, W, B, Y));
    tu_assert_guard(Y);
    float *got = tu_read(Y);
    seqk_tensor_destroy(X);
    seqk_tensor_destroy(W);
    seqk_tensor_destroy(B);
    seqk_tensor_destroy(Y);
    return got;
}

/* _i runs over devices x cases */
START_TEST(conv_nlc_shapes)
{
    const ccase *c = &cases[_i % N_CASES];
    const int dev = _i / N_CASES;
    const int cpu = strncmp(tu_device(dev), "opencl", 6) != 0;
    const int64_t cg = c->C / c->g, mg = c->M / c->g;
    int64_t pb;
    const int64_t lout = lout_of(c, &pb);
    const int64_t xd[3] = {c->N, c->L, c->C}, xt_d[3] = {c->N, c->C, c->L};
    const int64_t wd[3] = {c->M, cg, c->K}, yd[3] = {c->N, c->M, lout};
    const int64_t yt_d[3] = {c->N, lout, c->M};
    const size_t ny = (size_t)(c->N * c->M * lout);
    if (getenv("SEQK_OCL_SMALL") && (double)ny * (double)(cg * c->K) > 5e4)
        return;
    tu_rng r;
    tu_rng_init(&r, 7100 + (uint64_t)(_i % N_CASES));
    float *x = tu_rand(&r, (size_t)(c->N * c->L * c->C), -1, 1);
    float *xt = malloc(sizeof(float) * (size_t)(c->N * c->L * c->C));
    float *w = tu_rand(&r, (size_t)(c->M * cg * c->K), -1, 1);
    float *b = _i % 2 ? NULL : tu_rand(&r, (size_t)c->M, -1, 1);
    float *want = malloc(sizeof(float) * (ny + 1));
    ck_assert(xt && want);
    /* x [N,L,C]; xt its [N,C,L] */
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t l = 0; l < c->L; l++)
            for (int64_t ch = 0; ch < c->C; ch++)
                xt[(n * c->C + ch) * c->L + l] =
                    x[(n * c->L + l) * c->C + ch];
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t m = 0; m < c->M; m++)
            for (int64_t t = 0; t < lout; t++) {
                double acc = b ? b[m] : 0;
                for (int64_t ci = 0; ci < cg; ci++)
                    for (int64_t k = 0; k < c->K; k++) {
                        const int64_t at = t * c->s + k * c->d - pb;
                        if (at >= 0 && at < c->L)
                            acc += (double)w[(m * cg + ci) * c->K + k] *
                                   x[(n * c->L + at) * c->C +
                                     (m / mg) * cg + ci];
                    }
                want[(n * c->M + m) * lout + t] = (float)acc;
            }
    for (int threads = 1; threads <= (cpu ? 2 : 1); threads++) {
        seqk_context *ctx = context_threads(dev, threads);
        float *first = NULL;
        /* layouts: bit 0 X channels-last, bit 1 Y channels-last */
        for (int lay = 0; lay < 4; lay++) {
            const int xn = lay & 1, yn = lay >> 1;
            seqk_conv_params pp;
            params_of(c, xn, yn, &pp);
            float *got = run_conv(ctx, &pp, xn ? xd : xt_d, xn ? x : xt, wd,
                                  w, b, yn ? yt_d : yd);
            if (yn) { /* [N,Lout,M] back to [N,M,Lout] */
                float *g2 = malloc(sizeof(float) * (ny + 1));
                ck_assert(g2);
                for (int64_t n = 0; n < c->N; n++)
                    for (int64_t t = 0; t < lout; t++)
                        for (int64_t m = 0; m < c->M; m++)
                            g2[(n * c->M + m) * lout + t] =
                                got[(n * lout + t) * c->M + m];
                free(got);
                got = g2;
            }
            char msg[256];
            ck_assert_msg(tu_close(got, want, ny, 2e-5f, 2e-5f, msg,
                                   sizeof msg),
                          "case %d on %s, %d threads, X %s, Y %s: %s",
                          _i % N_CASES, tu_device(dev), threads,
                          xn ? "NLC" : "NCL", yn ? "NLC" : "NCL", msg);
            /* the same sums (maybe another order) as channels-first */
            if (first)
                ck_assert_msg(tu_close(got, first, ny, 1e-5f, 1e-5f, msg,
                                       sizeof msg),
                              "case %d on %s, %d threads, X %s, Y %s vs "
                              "channels-first: %s", _i % N_CASES,
                              tu_device(dev), threads, xn ? "NLC" : "NCL",
                              yn ? "NLC" : "NCL", msg);
            if (!first)
                first = got;
            else
                free(got);
        }
        free(first);
        seqk_context_destroy(ctx);
    }
    free(x);
    free(xt);
    free(w);
    free(b);
    free(want);
}
END_TEST

START_TEST(conv_nlc_errors)
{
    seqk_context *ctx = tu_context(_i);
    const int64_t xd[3] = {2, 9, 4}, wd[3] = {6, 4, 3}, yd[3] = {2, 6, 7};
    const int64_t w5[3] = {6, 5, 3}, ybad[3] = {2, 6, 2};
    seqk_tensor *X = tu_f32(ctx, 3, xd, NULL), *W = tu_f32(ctx, 3, wd, NULL);
    seqk_tensor *W5 = tu_f32(ctx, 3, w5, NULL), *Y = tu_f32(ctx, 3, yd, NULL);
    seqk_tensor *Yb = tu_f32(ctx, 3, ybad, NULL);
    const int64_t ynlc[3] = {2, 7, 6};
    seqk_tensor *Yn = tu_f32(ctx, 3, ynlc, NULL);
    seqk_conv_params p;
    seqk_conv_params_init(&p);
    p.input_channels_last = 1;
    /* X [2,9,4] channels-last: C 4, L 9 -> Lout 7 */
    TU_OK(ctx, seqk_conv1d(ctx, &p, X, W, NULL, Y));
    TU_FAILS(ctx, seqk_conv1d(ctx, &p, X, W5, NULL, Y), SEQK_ERR_SHAPE,
             "channels-last [N,L,C]");
    TU_FAILS(ctx, seqk_conv1d(ctx, &p, X, W, NULL, Yb), SEQK_ERR_SHAPE,
             "Conv output Y");
    /* Y channels-last [N,Lout,M] = [2,7,6]; the [N,M,Lout] Y is refused
     * naming the layout assumed */
    p.output_channels_last = 1;
    TU_OK(ctx, seqk_conv1d(ctx, &p, X, W, NULL, Yn));
    TU_FAILS(ctx, seqk_conv1d(ctx, &p, X, W, NULL, Y), SEQK_ERR_SHAPE,
             "[N, Lout, M] (output_channels_last)");
    p.output_channels_last = 0;
    TU_FAILS(ctx, seqk_conv1d(ctx, &p, X, W, NULL, Yn), SEQK_ERR_SHAPE,
             "[N, M, Lout]");
    p.output_channels_last = -1;
    TU_FAILS(ctx, seqk_conv1d(ctx, &p, X, W, NULL, Yn), SEQK_ERR_INVALID_ARG,
             "output_channels_last is -1");
    p.output_channels_last = 0;
    p.input_channels_last = 2;
    TU_FAILS(ctx, seqk_conv1d(ctx, &p, X, W, NULL, Y), SEQK_ERR_INVALID_ARG,
             "input_channels_last is 2");
    /* read as [N,C,L] = [2,9,4]: W's 4 channels do not fit C 9 */
    p.input_channels_last = 0;
    TU_FAILS(ctx, seqk_conv1d(ctx, &p, X, W, NULL, Y), SEQK_ERR_SHAPE,
             "([N,C,L])");
    /* a caller built before the field: the shorter struct, channels-first
     * (the field past its end is garbage and must not be read) */
    struct {
        seqk_conv_params p;
        char pad[16];
    } old;
    memset(&old, 0x5a, sizeof old);
    seqk_conv_params_init(&old.p);
    old.p.struct_size = offsetof(seqk_conv_params, input_channels_last);
    old.p.input_channels_last = 1234;
    const int64_t x2[3] = {2, 4, 9};
    seqk_tensor *X2 = tu_f32(ctx, 3, x2, NULL);
    TU_OK(ctx, seqk_conv1d(ctx, &old.p, X2, W, NULL, Y));
    /* built before output_channels_last: X channels-last as asked, Y
     * channels-first (the garbage past the struct not read) */
    memset(&old, 0x5a, sizeof old);
    seqk_conv_params_init(&old.p);
    old.p.struct_size = offsetof(seqk_conv_params, output_channels_last);
    old.p.input_channels_last = 1;
    old.p.output_channels_last = 77;
    TU_OK(ctx, seqk_conv1d(ctx, &old.p, X, W, NULL, Y));
    TU_FAILS(ctx, seqk_conv1d(ctx, &old.p, X, W, NULL, Yn), SEQK_ERR_SHAPE,
             "[N, M, Lout]");
    old.p.struct_size = sizeof(size_t);
    TU_FAILS(ctx, seqk_conv1d(ctx, &old.p, X2, W, NULL, Y),
             SEQK_ERR_INVALID_ARG, "struct_size");
    seqk_tensor *objs[] = {X, W, W5, Y, Yb, X2, Yn};
    for (size_t i = 0; i < sizeof objs / sizeof *objs; i++)
        seqk_tensor_destroy(objs[i]);
    seqk_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conv_nlc");
    TCase *tc = tcase_create("conv_nlc");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, conv_nlc_shapes, 0, tu_device_count() * N_CASES);
    tcase_add_loop_test(tc, conv_nlc_errors, 0, tu_device_count());
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
