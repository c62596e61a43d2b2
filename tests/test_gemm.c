/*
 * test_gemm.c — Gemm, MatMul and Softmax on every available device against
 * straightforward loops written here, over edge shapes (1, primes, around
 * typical tile sizes), every transpose, alpha/beta and every ONNX C
 * broadcast form; plus the argument checks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Expected Gemm computed independently of the library. */
static void naive_gemm(int64_t M, int64_t N, int64_t K, int ta, int tb,
                       float alpha, float beta, const float *A,
                       const float *B, const float *C, int64_t cm,
                       int64_t cn, float *Y)
{
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++) {
                double a = ta ? A[k * M + m] : A[m * K + k];
                double b = tb ? B[n * K + k] : B[k * N + n];
                s += a * b;
            }
            double c = 0;
            if (C)
                c = C[(cm == 1 ? 0 : m) * cn + (cn == 1 ? 0 : n)];
            Y[m * N + n] = (float)(alpha * s + beta * c);
        }
}

static const int64_t edge[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 33};
enum { NEDGE = sizeof edge / sizeof edge[0] };

static void check_gemm(seqk_context *ctx, int64_t M, int64_t N, int64_t K,
                       int ta, int tb, float alpha, float beta, int cform)
{
    tu_rng r;
    tu_rng_init(&r, (uint64_t)(M * 131 + N * 17 + K + ta * 7 + tb * 3 + cform));
    float *A = tu_rand(&r, (size_t)(M * K), -1, 1);
    float *B = tu_rand(&r, (size_t)(K * N), -1, 1);
    /* cform: 0 none, 1 [M,N], 2 [N], 3 [M,1], 4 [1], 5 scalar [] */
    int64_t cdims[2], cm = 1, cn = 1;
    int cnd = 0;
    switch (cform) {
    case 1: cdims[0] = M; cdims[1] = N; cnd = 2; cm = M; cn = N; break;
    case 2: cdims[0] = N; cnd = 1; cn = N; break;
    case 3: cdims[0] = M; cdims[1] = 1; cnd = 2; cm = M; break;
    case 4: cdims[0] = 1; cnd = 1; break;
    case 5: cnd = 0; break;
    }
    float *C = cform ? tu_rand(&r, (size_t)(cm * cn), -1, 1) : NULL;
    float *want = malloc(sizeof(float) * (size_t)(M * N));
    naive_gemm(M, N, K, ta, tb, alpha, beta, A, B, C, cm, cn, want);

    int64_t ad[2] = {ta ? K : M, ta ? M : K}, bd[2] = {tb ? N : K, tb ? K : N};
    int64_t yd[2] = {M, N};
    seqk_tensor *tA = tu_f32(ctx, 2, ad, A), *tB = tu_f32(ctx, 2, bd, B);
    seqk_tensor *tC = cform ? tu_f32(ctx, cnd, cdims, C) : NULL;
    seqk_tensor *tY = tu_f32(ctx, 2, yd, NULL);
    seqk_gemm_params p;
    seqk_gemm_params_init(&p);
    p.trans_a = ta;
    p.trans_b = tb;
    p.alpha = alpha;
    p.beta = beta;
    TU_OK(ctx, seqk_gemm(ctx, &p, tA, tB, tC, tY));
    tu_assert_guard(tY);
    float *got = tu_read(tY);
    TU_ASSERT_CLOSE(got, want, (size_t)(M * N), 1e-5f * (float)(K + 1), 1e-5f);
    free(got); free(want); free(A); free(B); free(C);
    seqk_tensor_destroy(tA); seqk_tensor_destroy(tB);
    seqk_tensor_destroy(tC); seqk_tensor_destroy(tY);
}

START_TEST(gemm_edge_shapes)
{
    seqk_context *ctx = tu_context(_i);
    for (int a = 0; a < NEDGE; a += 2)
        for (int b = 0; b < NEDGE; b += 3)
            for (int c = 0; c < NEDGE; c += 2)
                check_gemm(ctx, edge[a], edge[b], edge[c], 0, 0, 1.0f, 1.0f,
                           1);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(gemm_transposes_and_bias_forms)
{
    seqk_context *ctx = tu_context(_i);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int cform = 0; cform <= 5; cform++) {
                check_gemm(ctx, 9, 17, 8, ta, tb, 0.75f, -1.5f, cform);
                check_gemm(ctx, 1, 33, 7, ta, tb, 1.0f, 0.0f, cform);
            }
    check_gemm(ctx, 64, 48, 96, 1, 0, 2.0f, 0.5f, 1);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(gemm_hand_checked)
{
    seqk_context *ctx = tu_context(_i);
    /* [[1,2],[3,4]] x [[5,6],[7,8]] = [[19,22],[43,50]]; *2 + [1,-1] */
    float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8}, C[2] = {1, -1};
    float want[4] = {39, 43, 87, 99};
    int64_t d2[2] = {2, 2}, d1[1] = {2};
    seqk_tensor *tA = tu_f32(ctx, 2, d2, A), *tB = tu_f32(ctx, 2, d2, B);
    seqk_tensor *tC = tu_f32(ctx, 1, d1, C), *tY = tu_f32(ctx, 2, d2, NULL);
    seqk_gemm_params p;
    seqk_gemm_params_init(&p);
    p.alpha = 2.0f;
    TU_OK(ctx, seqk_gemm(ctx, &p, tA, tB, tC, tY));
    float *got = tu_read(tY);
    TU_ASSERT_CLOSE(got, want, 4, 0, 0);
    free(got);
    /* NULL params means ONNX defaults */
    TU_OK(ctx, seqk_gemm(ctx, NULL, tA, tB, NULL, tY));
    got = tu_read(tY);
    float want2[4] = {19, 22, 43, 50};
    TU_ASSERT_CLOSE(got, want2, 4, 0, 0);
    free(got);
    seqk_tensor_destroy(tA); seqk_tensor_destroy(tB);
    seqk_tensor_destroy(tC); seqk_tensor_destroy(tY);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(gemm_bad_input)
{
    seqk_context *ctx = tu_context(_i);
    int64_t d23[2] = {2, 3}, d43[2] = {4, 3}, d22[2] = {2, 2}, d3[1] = {3};
    int64_t d24[2] = {2, 4}, d333[3] = {1, 2, 4};
    seqk_tensor *A = tu_f32(ctx, 2, d23, NULL), *B = tu_f32(ctx, 2, d43, NULL);
    seqk_tensor *Y = tu_f32(ctx, 2, d22, NULL), *Y24 = tu_f32(ctx, 2, d24, NULL);
    seqk_tensor *v3 = tu_f32(ctx, 1, d3, NULL), *r3 = tu_f32(ctx, 3, d333, NULL);
    seqk_tensor *I = tu_i32(ctx, 2, d23, NULL);
    TU_FAILS(ctx, seqk_gemm(ctx, NULL, A, B, NULL, Y24), SEQK_ERR_SHAPE, "K=");
    TU_FAILS(ctx, seqk_gemm(ctx, NULL, NULL, B, NULL, Y), SEQK_ERR_INVALID_ARG,
             "Gemm input A is NULL");
    TU_FAILS(ctx, seqk_gemm(ctx, NULL, I, B, NULL, Y), SEQK_ERR_DTYPE,
             "expected f32");
    TU_FAILS(ctx, seqk_gemm(ctx, NULL, v3, B, NULL, Y), SEQK_ERR_SHAPE, "rank");
    seqk_gemm_params p;
    seqk_gemm_params_init(&p);
    p.trans_b = 1; /* A [2,3] x B^T [3,4] = [2,4] */
    TU_FAILS(ctx, seqk_gemm(ctx, &p, A, B, NULL, Y), SEQK_ERR_SHAPE,
             "Gemm output Y has shape [2,2] but op(A) x op(B) needs [2,4]");
    TU_FAILS(ctx, seqk_gemm(ctx, &p, A, B, v3, Y24), SEQK_ERR_SHAPE,
             "does not broadcast");
    TU_FAILS(ctx, seqk_gemm(ctx, &p, A, B, r3, Y24), SEQK_ERR_SHAPE, "rank 2");
    TU_FAILS(ctx, seqk_gemm(ctx, &p, A, B, Y24, Y24), SEQK_ERR_INVALID_ARG,
             "must not be one of its inputs");
    p.struct_size = 1;
    TU_FAILS(ctx, seqk_gemm(ctx, &p, A, B, NULL, Y24), SEQK_ERR_INVALID_ARG,
             "struct_size");
    ck_assert_int_eq(seqk_gemm(NULL, NULL, A, B, NULL, Y), SEQK_ERR_INVALID_ARG);
    seqk_tensor_destroy(A); seqk_tensor_destroy(B); seqk_tensor_destroy(Y);
    seqk_tensor_destroy(Y24); seqk_tensor_destroy(v3); seqk_tensor_destroy(r3);
    seqk_tensor_destroy(I);
    seqk_context_destroy(ctx);
}
END_TEST

/* MatMul against numpy rules written out: shapes, then a naive loop. */
static void check_matmul(seqk_context *ctx, int an, const int64_t *ad,
                         int bn, const int64_t *bd, int yn,
                         const int64_t *yd)
{
    tu_rng r;
    tu_rng_init(&r, (uint64_t)(an * 10 + bn));
    int64_t na = 1, nb = 1, ny = 1;
    for (int i = 0; i < an; i++) na *= ad[i];
    for (int i = 0; i < bn; i++) nb *= bd[i];
    for (int i = 0; i < yn; i++) ny *= yd[i];
    float *A = tu_rand(&r, (size_t)na, -1, 1), *B = tu_rand(&r, (size_t)nb, -1, 1);
    float *want = calloc((size_t)ny + 1, sizeof(float));
    /* Promote to 4-D [b0,b1,M,K] etc. with explicit broadcasting. */
    int64_t A4[4] = {1, 1, 1, 1}, B4[4] = {1, 1, 1, 1};
    if (an == 1) A4[3] = ad[0];
    else for (int i = 0; i < an; i++) A4[4 - an + i] = ad[i];
    if (bn == 1) B4[2] = bd[0];
    else for (int i = 0; i < bn; i++) B4[4 - bn + i] = bd[i];
    int64_t M = A4[2], K = A4[3], N = B4[3];
    int64_t b0 = A4[0] > B4[0] ? A4[0] : B4[0], b1 = A4[1] > B4[1] ? A4[1] : B4[1];
    for (int64_t i = 0; i < b0; i++)
        for (int64_t j = 0; j < b1; j++)
            for (int64_t m = 0; m < M; m++)
                for (int64_t n = 0; n < N; n++) {
                    int64_t ia = (A4[0] == 1 ? 0 : i) * A4[1] + (A4[1] == 1 ? 0 : j);
                    int64_t ib = (B4[0] == 1 ? 0 : i) * B4[1] + (B4[1] == 1 ? 0 : j);
                    double s = 0;
                    for (int64_t k = 0; k < K; k++)
                        s += (double)A[ia * M * K + m * K + k] *
                             B[ib * K * N + k * N + n];
                    want[((i * b1 + j) * M + m) * N + n] = (float)s;
                }
    seqk_tensor *tA = tu_f32(ctx, an, ad, A), *tB = tu_f32(ctx, bn, bd, B);
    seqk_tensor *tY = tu_f32(ctx, yn, yd, NULL);
    TU_OK(ctx, seqk_matmul(ctx, tA, tB, tY));
    tu_assert_guard(tY);
    float *got = tu_read(tY);
    TU_ASSERT_CLOSE(got, want, (size_t)ny, 1e-5f * (float)(K + 1), 1e-5f);
    free(got); free(want); free(A); free(B);
    seqk_tensor_destroy(tA); seqk_tensor_destroy(tB); seqk_tensor_destroy(tY);
}

START_TEST(matmul_broadcasting)
{
    seqk_context *ctx = tu_context(_i);
    { int64_t a[2] = {3, 4}, b[2] = {4, 5}, y[2] = {3, 5};
      check_matmul(ctx, 2, a, 2, b, 2, y); }
    { int64_t a[3] = {2, 3, 4}, b[2] = {4, 5}, y[3] = {2, 3, 5};
      check_matmul(ctx, 3, a, 2, b, 3, y); }
    { int64_t a[4] = {2, 1, 3, 4}, b[3] = {3, 4, 5}, y[4] = {2, 3, 3, 5};
      check_matmul(ctx, 4, a, 3, b, 4, y); }
    { int64_t a[1] = {4}, b[3] = {2, 4, 5}, y[2] = {2, 5};
      check_matmul(ctx, 1, a, 3, b, 2, y); }
    { int64_t a[3] = {2, 3, 4}, b[1] = {4}, y[2] = {2, 3};
      check_matmul(ctx, 3, a, 1, b, 2, y); }
    { int64_t a[1] = {4}, b[1] = {4};
      check_matmul(ctx, 1, a, 1, b, 0, NULL); }
    { int64_t a[4] = {1, 2, 1, 7}, b[4] = {3, 1, 7, 1}, y[4] = {3, 2, 1, 1};
      check_matmul(ctx, 4, a, 4, b, 4, y); }
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(matmul_bad_input)
{
    seqk_context *ctx = tu_context(_i);
    int64_t a[3] = {2, 3, 4}, b[3] = {3, 4, 5}, y[3] = {2, 3, 5}, bk[2] = {5, 5};
    seqk_tensor *tA = tu_f32(ctx, 3, a, NULL), *tB = tu_f32(ctx, 3, b, NULL);
    seqk_tensor *tY = tu_f32(ctx, 3, y, NULL), *tK = tu_f32(ctx, 2, bk, NULL);
    TU_FAILS(ctx, seqk_matmul(ctx, tA, tB, tY), SEQK_ERR_SHAPE, "broadcast");
    TU_FAILS(ctx, seqk_matmul(ctx, tA, tK, tY), SEQK_ERR_SHAPE, "K=4");
    seqk_tensor *s = NULL;
    TU_OK(ctx, seqk_tensor_create(ctx, 0, NULL, SEQK_F32, &s));
    TU_FAILS(ctx, seqk_matmul(ctx, s, tB, tY), SEQK_ERR_SHAPE, "rank >= 1");
    TU_FAILS(ctx, seqk_matmul(ctx, tA, NULL, tY), SEQK_ERR_INVALID_ARG, "NULL");
    seqk_tensor_destroy(tA); seqk_tensor_destroy(tB); seqk_tensor_destroy(tY);
    seqk_tensor_destroy(tK); seqk_tensor_destroy(s);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(softmax_axes)
{
    seqk_context *ctx = tu_context(_i);
    int64_t d[3] = {3, 5, 4};
    tu_rng r;
    tu_rng_init(&r, 99);
    float *x = tu_rand(&r, 60, -5, 5);
    x[7] = 80.0f; /* large values must not overflow */
    seqk_tensor *tX = tu_f32(ctx, 3, d, x), *tY = tu_f32(ctx, 3, d, NULL);
    for (int axis = -3; axis < 3; axis++) {
        int ax = axis < 0 ? axis + 3 : axis;
        int64_t outer = 1, inner = 1, n = d[ax];
        for (int i = 0; i < ax; i++) outer *= d[i];
        for (int i = ax + 1; i < 3; i++) inner *= d[i];
        float want[60];
        for (int64_t o = 0; o < outer; o++)
            for (int64_t q = 0; q < inner; q++) {
                double mx = -1e30, s = 0;
                for (int64_t i = 0; i < n; i++)
                    mx = fmax(mx, x[(o * n + i) * inner + q]);
                for (int64_t i = 0; i < n; i++)
                    s += exp(x[(o * n + i) * inner + q] - mx);
                for (int64_t i = 0; i < n; i++)
                    want[(o * n + i) * inner + q] =
                        (float)(exp(x[(o * n + i) * inner + q] - mx) / s);
            }
        TU_OK(ctx, seqk_softmax(ctx, axis, tX, tY));
        tu_assert_guard(tY);
        float *got = tu_read(tY);
        TU_ASSERT_CLOSE(got, want, 60, 1e-6f, 1e-5f);
        free(got);
    }
    int64_t d2[2] = {5, 4};
    seqk_tensor *bad = tu_f32(ctx, 2, d2, NULL);
    TU_FAILS(ctx, seqk_softmax(ctx, 3, tX, tY), SEQK_ERR_INVALID_ARG,
             "axis 3 is outside [-3, 2]");
    TU_FAILS(ctx, seqk_softmax(ctx, 0, tX, bad), SEQK_ERR_SHAPE,
             "Softmax output has shape [5,4]");
    free(x);
    seqk_tensor_destroy(tX); seqk_tensor_destroy(tY); seqk_tensor_destroy(bad);
    seqk_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("gemm");
    int nd = tu_device_count();
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, gemm_edge_shapes, 0, nd);
    tcase_add_loop_test(tc, gemm_transposes_and_bias_forms, 0, nd);
    tcase_add_loop_test(tc, gemm_hand_checked, 0, nd);
    tcase_add_loop_test(tc, gemm_bad_input, 0, nd);
    tcase_add_loop_test(tc, matmul_broadcasting, 0, nd);
    tcase_add_loop_test(tc, matmul_bad_input, 0, nd);
    tcase_add_loop_test(tc, softmax_axes, 0, nd);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
