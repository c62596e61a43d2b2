/*
 * test_linear.c — the "plans" suite (decode-step plans), part 1: the
 * linear plan (seqk_linear_*) on every available device against a double
 * loop and against seqk_gemm on ref: both weight layouts, with and without
 * bias, rows 1..4 (the matrix-vector path), 5..32 (the skinny kernel) and
 * more (the GEMM over the prepacked weights) through the same plan, sizes around the vector
 * widths and panel widths, leading dims; bad input.  main() is here; the
 * keyed-attention cases are in test_attn_keys.c.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

TCase *attn_keys_tcase(void);

static int small_only(void) { return getenv("SEQK_OCL_SMALL") != NULL; }

/* y [M,N] = x [M,K] op(W) + b, in double */
static void naive(int64_t M, int64_t N, int64_t K, int nk, const float *x,
                  const float *W, const float *b, float *y)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double acc = b ? b[j] : 0.0;
            for (int64_t p = 0; p < K; p++)
                acc += (double)x[i * K + p] *
                       (nk ? W[j * K + p] : W[p * N + j]);
            y[i * N + j] = (float)acc;
        }
}

START_TEST(linear_matches_naive)
{
    seqk_context *ctx = tu_context(_i);
    static const int64_t Ks[] = {1, 7, 33, 130};
    static const int64_t Ns[] = {1, 13, 32, 49, 100};
    static const int64_t Ms[] = {1, 2, 3, 4, 5, 8, 17, 32, 33};
    const int nK = small_only() ? 2 : 4, nN = small_only() ? 3 : 5;
    tu_rng rng;
    for (int ki = 0; ki < nK; ki++)
        for (int ni = 0; ni < nN; ni++)
            for (int layout = 0; layout < 2; layout++)
                for (int bias = 0; bias < 2; bias++) {
                    const int64_t K = Ks[ki], N = Ns[ni];
                    const int nk = layout == SEQK_LINEAR_NK;
                    tu_rng_init(&rng, (uint64_t)(ki * 64 + ni * 4 +
                                                 layout * 2 + bias));
                    float *W = tu_rand(&rng, (size_t)(K * N), -1, 1);
                    float *b = tu_rand(&rng, (size_t)N, -1, 1);
                    const int64_t dw[2] = {nk ? N : K, nk ? K : N};
                    const int64_t db[1] = {N};
                    seqk_tensor *tW = tu_f32(ctx, 2, dw, W);
                    seqk_tensor *tb = bias ? tu_f32(ctx, 1, db, b) : NULL;
                    seqk_linear_desc d;
                    seqk_linear_desc_init(&d, K, N);
                    d.weight_layout = (seqk_linear_layout)layout;
                    seqk_linear *lin = NULL;
                    TU_OK(ctx, seqk_linear_create(ctx, &d, tW, tb, &lin));
                    /* the plan keeps copies */
                    seqk_tensor_destroy(tW);
                    seqk_tensor_destroy(tb);
                    for (size_t mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++) {
                        const int64_t M = Ms[mi];
                        float *x = tu_rand(&rng, (size_t)(M * K), -1, 1);
                        float *want = malloc(sizeof(float) * (size_t)(M * N));
                        naive(M, N, K, nk, x, W, bias ? b : NULL, want);
                        const int64_t dx[2] = {M, K}, dy[2] = {M, N};
                        seqk_tensor *tx = tu_f32(ctx, 2, dx, x);
                        seqk_tensor *ty = tu_f32(ctx, 2, dy, NULL);
                        for (int rep = 0; rep < 2; rep++) {
                            TU_OK(ctx, seqk_linear_forward(lin, tx, ty));
                            float *got = tu_read(ty);
                            TU_ASSERT_CLOSE(got, want, (size_t)(M * N),
                                            1e-5f * (float)(K + 1), 1e-5f);
                            free(got);
                        }
                        tu_assert_guard(ty);
                        seqk_tensor_destroy(tx);
                        seqk_tensor_destroy(ty);
                        free(x);
                        free(want);
                    }
                    seqk_linear_destroy(lin);
                    free(W);
                    free(b);
                }
    seqk_context_destroy(ctx);
}
END_TEST

/* X [2,3,K] -> Y [2,3,N]; the same as seqk_gemm (trans_b) on ref. */
START_TEST(linear_leading_dims_match_gemm)
{
    seqk_context *ctx = tu_context(_i), *ref = tu_context(0);
    const int64_t K = 768, N = small_only() ? 40 : 1000;
    tu_rng rng;
    tu_rng_init(&rng, 99);
    float *W = tu_rand(&rng, (size_t)(K * N), -0.1f, 0.1f);
    float *b = tu_rand(&rng, (size_t)N, -1, 1);
    float *x = tu_rand(&rng, (size_t)(6 * K), -1, 1);
    const int64_t dw[2] = {N, K}, db[1] = {N}, dx[3] = {2, 3, K};
    const int64_t dy[3] = {2, 3, N}, dx2[2] = {6, K}, dy2[2] = {6, N};
    seqk_tensor *tW = tu_f32(ctx, 2, dw, W), *tb = tu_f32(ctx, 1, db, b);
    seqk_tensor *tx = tu_f32(ctx, 3, dx, x), *ty = tu_f32(ctx, 3, dy, NULL);
    seqk_tensor *rW = tu_f32(ref, 2, dw, W), *rb = tu_f32(ref, 1, db, b);
    seqk_tensor *rx = tu_f32(ref, 2, dx2, x), *ry = tu_f32(ref, 2, dy2, NULL);
    seqk_linear_desc d;
    seqk_linear_desc_init(&d, K, N);
    seqk_linear *lin = NULL;
    TU_OK(ctx, seqk_linear_create(ctx, &d, tW, tb, &lin));
    TU_OK(ctx, seqk_linear_forward(lin, tx, ty));
    seqk_gemm_params gp;
    seqk_gemm_params_init(&gp);
    gp.trans_b = 1;
    TU_OK(ref, seqk_gemm(ref, &gp, rx, rW, rb, ry));
    float *got = tu_read(ty), *want = tu_read(ry);
    TU_ASSERT_CLOSE(got, want, (size_t)(6 * N), 2e-4f, 1e-4f);
    free(got);
    free(want);
    seqk_linear_destroy(lin);
    seqk_tensor *all[] = {tW, tb, tx, ty, rW, rb, rx, ry};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        seqk_tensor_destroy(all[i]);
    free(W);
    free(b);
    free(x);
    seqk_context_destroy(ref);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(linear_bad_input)
{
    seqk_context *ctx = tu_context(_i);
    const int64_t dw[2] = {5, 3}, dwbad[2] = {3, 5}, db[1] = {5};
    const int64_t dbbad[1] = {4}, dx[2] = {2, 3}, dy[2] = {2, 5};
    const int64_t dxbad[2] = {2, 4}, dybad[2] = {3, 5}, dx0[1] = {3};
    seqk_tensor *W = tu_f32(ctx, 2, dw, NULL), *Wbad = tu_f32(ctx, 2, dwbad, NULL);
    seqk_tensor *Wi = tu_i32(ctx, 2, dw, NULL);
    seqk_tensor *b = tu_f32(ctx, 1, db, NULL), *bbad = tu_f32(ctx, 1, dbbad, NULL);
    seqk_tensor *x = tu_f32(ctx, 2, dx, NULL), *y = tu_f32(ctx, 2, dy, NULL);
    seqk_tensor *xbad = tu_f32(ctx, 2, dxbad, NULL);
    seqk_tensor *ybad = tu_f32(ctx, 2, dybad, NULL);
    seqk_tensor *x1 = tu_f32(ctx, 1, dx0, NULL);
    seqk_linear_desc d;
    seqk_linear_desc_init(&d, 3, 5);
    seqk_linear *lin = NULL;

    TU_FAILS(NULL, seqk_linear_create(NULL, &d, W, b, &lin),
             SEQK_ERR_INVALID_ARG, "ctx is NULL");
    TU_FAILS(ctx, seqk_linear_create(ctx, NULL, W, b, &lin),
             SEQK_ERR_INVALID_ARG, "desc");
    TU_FAILS(ctx, seqk_linear_create(ctx, &d, W, b, NULL),
             SEQK_ERR_INVALID_ARG, "lin (the output) is NULL");
    TU_FAILS(ctx, seqk_linear_create(ctx, &d, NULL, b, &lin),
             SEQK_ERR_INVALID_ARG, "Linear weight W");
    TU_FAILS(ctx, seqk_linear_create(ctx, &d, Wbad, b, &lin), SEQK_ERR_SHAPE,
             "Linear weight W has shape [3,5]");
    TU_FAILS(ctx, seqk_linear_create(ctx, &d, Wi, b, &lin), SEQK_ERR_DTYPE,
             "Linear weight W");
    TU_FAILS(ctx, seqk_linear_create(ctx, &d, W, bbad, &lin), SEQK_ERR_SHAPE,
             "Linear bias b has shape [4]");
    d.weight_layout = SEQK_LINEAR_KN;
    TU_FAILS(ctx, seqk_linear_create(ctx, &d, W, b, &lin), SEQK_ERR_SHAPE,
             "layout KN");
    d.weight_layout = (seqk_linear_layout)7;
    TU_FAILS(ctx, seqk_linear_create(ctx, &d, W, b, &lin),
             SEQK_ERR_INVALID_ARG, "weight_layout is 7");
    seqk_linear_desc_init(&d, 0, 5);
    TU_FAILS(ctx, seqk_linear_create(ctx, &d, W, b, &lin),
             SEQK_ERR_INVALID_ARG, "must be >= 1");
    seqk_linear_desc_init(&d, INT64_C(1) << 40, INT64_C(1) << 40);
    TU_FAILS(ctx, seqk_linear_create(ctx, &d, W, b, &lin), SEQK_ERR_OVERFLOW,
             "overflows");
    seqk_linear_desc_init(&d, 3, 5);
    d.struct_size = 4;
    TU_FAILS(ctx, seqk_linear_create(ctx, &d, W, b, &lin),
             SEQK_ERR_INVALID_ARG, "desc");
    ck_assert_ptr_null(lin);

    seqk_linear_desc_init(&d, 3, 5);
    TU_OK(ctx, seqk_linear_create(ctx, &d, W, NULL, &lin));
    TU_FAILS(NULL, seqk_linear_forward(NULL, x, y), SEQK_ERR_INVALID_ARG,
             "lin is NULL");
    TU_FAILS(ctx, seqk_linear_forward(lin, xbad, y), SEQK_ERR_SHAPE,
             "Linear input X has shape [2,4]");
    TU_FAILS(ctx, seqk_linear_forward(lin, x, ybad), SEQK_ERR_SHAPE,
             "expected [2,5]");
    TU_FAILS(ctx, seqk_linear_forward(lin, x1, y), SEQK_ERR_SHAPE,
             "Linear output Y has shape [2,5]; expected [5]");
    TU_FAILS(ctx, seqk_linear_forward(lin, x, NULL), SEQK_ERR_INVALID_ARG,
             "Linear output Y");
    TU_FAILS(ctx, seqk_linear_forward(lin, Wi, y), SEQK_ERR_DTYPE,
             "Linear input X");
    TU_OK(ctx, seqk_linear_forward(lin, x, y));
    ck_assert_int_eq(seqk_linear_destroy(NULL), SEQK_OK);
    seqk_linear_destroy(lin);

    seqk_tensor *all[] = {W, Wbad, Wi, b, bbad, x, y, xbad, ybad, x1};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        seqk_tensor_destroy(all[i]);
    seqk_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plans");
    TCase *tc = tcase_create("linear");
    int n = tu_device_count();
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, linear_matches_naive, 0, n);
    tcase_add_loop_test(tc, linear_leading_dims_match_gemm, 0, n);
    tcase_add_loop_test(tc, linear_bad_input, 0, n);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, attn_keys_tcase());
    return tu_run_suite(s);
}
