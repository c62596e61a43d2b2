/*
 * test_bf16.c — the "bf16" suite: plans with weight_dtype = SEQK_BF16
 * (seqk_linear_desc, seqk_rnn_desc) on every available device (ref, the
 * CPU ISAs, OpenCL when named).  What a bf16 plan means is "W rounded to
 * bf16 (nearest, ties to even), then the f32 computation", so each device
 * is held to:
 *   - the rounding itself against an independent rint()-based rounding,
 *     with ties, NaN, inf and overflow to inf;
 *   - bit equality with an f32 plan of the same device given weights this
 *     test rounded (the bf16 panels change storage, not arithmetic);
 *   - the ref device's bf16 plan within the usual f32 tolerance;
 *   - against the unrounded f32 weights: the error bound of a 2^-8
 *     relative error per weight (half an ulp of an 8-bit significand);
 *   - bad weight_dtype values and bf16 tensors refused with messages.
 * Linear here; the RNN cases are in test_bf16_rnn.c.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_bf16.h"

/* An independent bf16 rounding: the value rounded to 8 significant bits
 * by rint() (ties to even in the default mode), the subnormal range at
 * bf16's fixed exponent, overflow to inf. */
float tb_bf16_round(float x)
{
    if (isnan(x) || isinf(x) || x == 0.0f)
        return x;
    int e = ilogbf(x);
    if (e < -126)
        e = -126; /* bf16 subnormals: the same spacing as f32's */
    const double q = ldexp(rint(ldexp((double)x, 7 - e)), e - 7);
    /* past the largest bf16 (0x7f7f): RNE gives inf */
    if (fabs(q) > 3.3895313892515355e38)
        return x > 0 ? INFINITY : -INFINITY;
    return (float)q;
}

float *tb_rounded(const float *x, size_t n)
{
    float *y = malloc(n * sizeof *y);
    ck_assert_ptr_nonnull(y);
    for (size_t i = 0; i < n; i++)
        y[i] = tb_bf16_round(x[i]);
    return y;
}

void tb_assert_same(const float *got, const float *want, size_t n,
                    const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(memcmp(&got[i], &want[i], sizeof(float)) == 0 ||
                          (isnan(got[i]) && isnan(want[i])),
                      "%s [%zu]: %.9g, expected bit-equal %.9g", what, i,
                      (double)got[i], (double)want[i]);
}

static int small_only(void) { return getenv("SEQK_OCL_SMALL") != NULL; }

/* Y [M,N] of a linear plan on ctx (fresh each call). */
static float *run_linear(seqk_context *ctx, int64_t M, int64_t N, int64_t K,
                         int nk, seqk_dtype wdt, const float *W,
                         const float *b, const float *x)
{
    const int64_t dw[2] = {nk ? N : K, nk ? K : N}, db[1] = {N};
    const int64_t dx[2] = {M, K}, dy[2] = {M, N};
    seqk_tensor *tW = tu_f32(ctx, 2, dw, W);
    seqk_tensor *tb = b ? tu_f32(ctx, 1, db, b) : NULL;
    seqk_tensor *tx = tu_f32(ctx, 2, dx, x), *ty = tu_f32(ctx, 2, dy, NULL);
    seqk_linear_desc d;
    seqk_linear_desc_init(&d, K, N);
    d.weight_layout = nk ? SEQK_LINEAR_NK : SEQK_LINEAR_KN;
    d.weight_dtype = wdt;
    seqk_linear *lin = NULL;
    TU_OK(ctx, seqk_linear_create(ctx, &d, tW, tb, &lin));
    TU_OK(ctx, seqk_linear_forward(lin, tx, ty));
    float *y = tu_read(ty);
    /* a second forward reads the cached (bf16) panels */
    TU_OK(ctx, seqk_linear_forward(lin, tx, ty));
    float *y2 = tu_read(ty);
    tb_assert_same(y2, y, (size_t)(M * N), "second forward");
    free(y2);
    tu_assert_guard(ty);
    seqk_linear_destroy(lin);
    seqk_tensor *all[] = {tW, tb, tx, ty};
    for (size_t i = 0; i < 4; i++)
        seqk_tensor_destroy(all[i]);
    return y;
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The rounding, seen through a plan: X = [1] rows, K = 1, so Y = W as the
 * plan stores it.  M = 1 reads the bf16 panels (CPU), M = 5 the f32 ones. */
START_TEST(bf16_rounding)
{
    seqk_context *ctx = tu_context(_i);
    static const uint32_t special[] = {
        0x3f800000, /* 1 */
        0x3f808000, /* 1 + 2^-8: tie, to even 1 */
        0x3f818000, /* 1 + 3*2^-8: tie, to even 1 + 2^-6 */
        0x3f808001, /* just past the tie: up */
        0x3f807fff, /* just below the tie: down */
        0xbf818000, /* negative tie */
        0x7f800000, 0xff800000, /* inf */
        0x7fc00000, 0xffc00001, 0x7f800001, /* NaNs, one in the low bits */
        0x7f7fffff, /* FLT_MAX: past bf16's largest, RNE -> inf */
        0x7f7f7fff, /* just below the tie at the top: stays finite */
        0x00000001, 0x00008000, 0x00018000, 0x80008001, /* subnormals */
        0x00000000, 0x3eaaaaab, 0x42f6e979, 0xc2f6e979,
    };
    enum { NS = sizeof special / sizeof special[0], N = NS + 200 };
    float W[N], x[5] = {1, 1, 1, 1, 1};
    tu_rng rng;
    tu_rng_init(&rng, 1601);
    for (int i = 0; i < NS; i++)
        W[i] = from_bits(special[i]);
    for (int i = NS; i < N; i++) /* random magnitudes 2^-40 .. 2^40 */
        W[i] = ldexpf(tu_uniform(&rng, -1, 1), (int)tu_uniform(&rng, -40, 40));
    for (int M = 1; M <= 5; M += 4) {
        float *y = run_linear(ctx, M, N, 1, 1, SEQK_BF16, W, NULL, x);
        for (int r = 0; r < M; r++)
            for (int i = 0; i < N; i++) {
                const float want = tb_bf16_round(W[i]), got = y[r * N + i];
                if (isnan(want)) {
                    ck_assert_msg(isnan(got), "W %08x: %g, expected NaN",
                                  bits(W[i]), (double)got);
                    continue;
                }
                /* x*w with x = 1 is w, but +0 for -0 */
                ck_assert_msg(got == want && (bits(got) & 0xffff) == 0,
                              "W %08x (%.9g): got %08x, expected %08x",
                              bits(W[i]), (double)W[i], bits(got),
                              bits(want));
            }
        free(y);
    }
    /* the table's expectations spelled out, so that the oracle is tested
     * too */
    ck_assert_uint_eq(bits(tb_bf16_round(from_bits(0x3f808000))), 0x3f800000);
    ck_assert_uint_eq(bits(tb_bf16_round(from_bits(0x3f818000))), 0x3f820000);
    ck_assert_uint_eq(bits(tb_bf16_round(from_bits(0x3f808001))), 0x3f810000);
    ck_assert_uint_eq(bits(tb_bf16_round(from_bits(0x7f7fffff))), 0x7f800000);
    ck_assert_uint_eq(bits(tb_bf16_round(from_bits(0x7f7f7fff))), 0x7f7f0000);
    ck_assert_uint_eq(bits(tb_bf16_round(from_bits(0x00018000))), 0x00020000);
    seqk_context_destroy(ctx);
}
END_TEST

/* Random plans over edge shapes: bit-equal to an f32 plan of the same
 * device with pre-rounded W, close to ref's bf16 plan, and within the
 * bf16 error bound of the unrounded product. */
START_TEST(bf16_linear_matches)
{
    seqk_context *ctx = tu_context(_i), *ref = tu_context(0);
    static const int64_t Ks[] = {1, 7, 33, 130, 257};
    static const int64_t Ns[] = {1, 13, 32, 49, 100};
    static const int64_t Ms[] = {1, 2, 3, 4, 5, 8};
    const int nK = small_only() ? 3 : 5, nN = small_only() ? 3 : 5;
    tu_rng rng;
    for (int ki = 0; ki < nK; ki++)
        for (int ni = 0; ni < nN; ni++)
            for (int layout = 0; layout < 2; layout++) {
                const int64_t K = Ks[ki], N = Ns[ni];
                const int nk = layout == 0, bias = (ki + ni) % 2;
                tu_rng_init(&rng, (uint64_t)(ki * 64 + ni * 4 + layout));
                float *W = tu_rand(&rng, (size_t)(K * N), -1, 1);
                float *b = tu_rand(&rng, (size_t)N, -1, 1);
                float *Wr = tb_rounded(W, (size_t)(K * N));
                for (size_t mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++) {
                    const int64_t M = Ms[mi];
                    const size_t n = (size_t)(M * N);
                    float *x = tu_rand(&rng, (size_t)(M * K), -1, 1);
                    const float *bb = bias ? b : NULL;
                    float *got = run_linear(ctx, M, N, K, nk, SEQK_BF16, W,
                                            bb, x);
                    float *same = run_linear(ctx, M, N, K, nk, SEQK_F32, Wr,
                                             bb, x);
                    float *oracle = run_linear(ref, M, N, K, nk, SEQK_BF16,
                                               W, bb, x);
                    float *f32 = run_linear(ref, M, N, K, nk, SEQK_F32, W,
                                            bb, x);
                    tb_assert_same(got, same, n, "bf16 vs f32(rounded W)");
                    TU_ASSERT_CLOSE(got, oracle, n, 1e-5f * (float)(K + 1),
                                    1e-5f);
                    /* |sum x (w - bf16(w))| <= 2^-8 sum |x w| (+ f32):
                     * half an ulp of an 8-bit significand per weight */
                    for (int64_t i = 0; i < M; i++)
                        for (int64_t j = 0; j < N; j++) {
                            double mag = 0;
                            for (int64_t p = 0; p < K; p++)
                                mag += fabs((double)x[i * K + p] *
                                            (nk ? W[j * K + p]
                                                : W[p * N + j]));
                            const double err =
                                fabs((double)got[i * N + j] - f32[i * N + j]);
                            ck_assert_msg(err <= mag * 0x1p-8 + 1e-5 * (K + 1),
                                          "M%lld N%lld K%lld [%lld,%lld]: "
                                          "|bf16 - f32| %g > bound %g",
                                          (long long)M, (long long)N,
                                          (long long)K, (long long)i,
                                          (long long)j, err, mag * 0x1p-8);
                        }
                    free(x);
                    free(got);
                    free(same);
                    free(oracle);
                    free(f32);
                }
                free(W);
                free(b);
                free(Wr);
            }
    seqk_context_destroy(ref);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(bf16_bad_input)
{
    seqk_context *ctx = tu_context(_i);
    const int64_t dw[2] = {5, 3}, dx[2] = {2, 3}, dy[2] = {2, 5};
    seqk_tensor *W = tu_f32(ctx, 2, dw, NULL), *t = NULL;
    seqk_linear_desc d;
    seqk_linear *lin = NULL;

    ck_assert_uint_eq(seqk_dtype_size(SEQK_BF16), 2);
    TU_FAILS(ctx, seqk_tensor_create(ctx, 2, dw, SEQK_BF16, &t),
             SEQK_ERR_DTYPE, "weight storage type only");
    ck_assert_ptr_null(t);

    static const int bad[] = {SEQK_I32, SEQK_BOOL, SEQK_I64, 99, -1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seqk_linear_desc_init(&d, 3, 5);
        d.weight_dtype = (seqk_dtype)bad[i];
        TU_FAILS(ctx, seqk_linear_create(ctx, &d, W, NULL, &lin),
                 SEQK_ERR_INVALID_ARG, "weight_dtype is");
        ck_assert_ptr_null(lin);
        seqk_rnn_desc rd;
        seqk_rnn_desc_init(&rd, SEQK_CELL_LSTM, 3, 4);
        rd.weight_dtype = (seqk_dtype)bad[i];
        seqk_rnn *rnn = NULL;
        TU_FAILS(ctx, seqk_rnn_create(ctx, &rd, &rnn), SEQK_ERR_INVALID_ARG,
                 "weight_dtype is");
        ck_assert_ptr_null(rnn);
    }

    /* a desc from before weight_dtype (smaller struct_size): f32 */
    seqk_linear_desc_init(&d, 3, 5);
    d.weight_dtype = SEQK_BF16; /* past struct_size: not read */
    d.struct_size = offsetof(seqk_linear_desc, weight_dtype);
    float w[15], x[6] = {1, 2, 3, 4, 5, 6};
    for (int i = 0; i < 15; i++)
        w[i] = 1.0f + (float)(i + 1) * 0x1p-12f; /* not bf16 values */
    seqk_tensor_destroy(W);
    W = tu_f32(ctx, 2, dw, w);
    seqk_tensor *tx = tu_f32(ctx, 2, dx, x), *ty = tu_f32(ctx, 2, dy, NULL);
    TU_OK(ctx, seqk_linear_create(ctx, &d, W, NULL, &lin));
    TU_OK(ctx, seqk_linear_forward(lin, tx, ty));
    float *y = tu_read(ty);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 5; j++) {
            double want = 0;
            for (int p = 0; p < 3; p++)
                want += (double)x[i * 3 + p] * w[j * 3 + p];
            ck_assert_msg(fabs(y[i * 5 + j] - want) < 1e-5,
                          "old-size desc: [%d,%d] %g, want %g (f32)", i, j,
                          (double)y[i * 5 + j], want);
        }
    free(y);
    seqk_linear_destroy(lin);
    d.struct_size = offsetof(seqk_linear_desc, weight_dtype) - 1;
    TU_FAILS(ctx, seqk_linear_create(ctx, &d, W, NULL, &lin),
             SEQK_ERR_INVALID_ARG, "struct_size");
    seqk_tensor_destroy(W);
    seqk_tensor_destroy(tx);
    seqk_tensor_destroy(ty);
    seqk_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bf16");
    TCase *tc = tcase_create("linear");
    int n = tu_device_count();
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, bf16_rounding, 0, n);
    tcase_add_loop_test(tc, bf16_linear_matches, 0, n);
    tcase_add_loop_test(tc, bf16_bad_input, 0, n);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, bf16_rnn_tcase());
    return tu_run_suite(s);
}
