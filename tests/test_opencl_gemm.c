/*
 * test_opencl_gemm.c — the OpenCL GEMM paths (own kernels of
 * kernels/gemm.cl, and CLBlast when built in) against seqk_ref_gemm.
 *
 * Problems are built directly on device tensors (pointers inside their
 * reserved ranges, with element offsets) and handed to
 * seqk_cl_gemm_with(); outputs start as NaN and the tensors' guards are
 * checked afterwards.  Shapes cover 1, tile-1, tile, tile+1 and primes for
 * the tiled (64), direct (8 rows) and rows (8 x 16) kernels, every
 * transpose, beta == 0 with NaN in C, C broadcast forms, padded leading
 * dimensions, and MatMul batch broadcasting.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "opencl/cl_gemm.h"
#include "ref/ref.h"
#include "testutil.h"

/* The OpenCL devices among the test devices. */
static int cl_devices[8];
static int num_cl_devices;

static void find_cl_devices(void)
{
    num_cl_devices = 0;
    for (int i = 0; i < tu_device_count() && num_cl_devices < 8; i++)
        if (strncmp(tu_device(i), "opencl", 6) == 0)
            cl_devices[num_cl_devices++] = i;
}

static seqk_tensor *vec(seqk_context *ctx, int64_t n, const float *data)
{
    const int64_t dims[1] = {n};
    return tu_f32(ctx, 1, dims, data);
}

typedef enum c_form { C_NONE, C_FULL, C_ROW, C_COL, C_SCALAR } c_form;

/* One GEMM on device d via path, compared with the reference.  Operands
 * sit at odd element offsets inside their tensors; lda/ldb/ldy are padded
 * by pad elements. */
static void check_gemm(int d, seqk_cl_gemm_path path, int64_t M, int64_t N,
                       int64_t K, int ta, int tb, float beta, c_form cf,
                       int64_t pad)
{
    seqk_context *ctx = tu_context(d);
    tu_rng rng;
    tu_rng_init(&rng, (uint64_t)(M * 131 + N * 17 + K * 3 + ta * 2 + tb));
    const int64_t off = 3;
    const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad;
    const int64_t ldy = N + pad;
    const int64_t na = off + (ta ? K : M) * lda;
    const int64_t nb = off + (tb ? N : K) * ldb;
    int64_t c_sm = 0, c_sn = 0;
    switch (cf) {
    case C_FULL: c_sm = N; c_sn = 1; break;
    case C_ROW: c_sm = 0; c_sn = 1; break;   /* one row for all m */
    case C_COL: c_sm = 1; c_sn = 0; break;   /* one column for all n */
    default: break;
    }
    const int64_t nc = off + (M - 1) * c_sm + (N - 1) * c_sn + 1;
    const int64_t ny = off + M * ldy;
    float *ha = tu_rand(&rng, (size_t)na, -1.0f, 1.0f);
    float *hb = tu_rand(&rng, (size_t)nb, -1.0f, 1.0f);
    float *hc = tu_rand(&rng, (size_t)nc, -1.0f, 1.0f);
    if (beta == 0.0f) /* beta == 0 must not read C */
        for (int64_t i = 0; i < nc; i++)
            hc[i] = NAN;
    seqk_tensor *a = vec(ctx, na, ha), *b = vec(ctx, nb, hb);
    seqk_tensor *c = vec(ctx, nc, hc), *y = vec(ctx, ny, NULL);

    seqk_gemm_problem p = {
        .M = M, .N = N, .K = K, .trans_a = ta, .trans_b = tb,
        .alpha = 0.75f, .beta = beta,
        .A = (const float *)a->data + off, .lda = lda,
        .B = (const float *)b->data + off, .ldb = ldb,
        .C = cf == C_NONE ? NULL : (const float *)c->data + off,
        .c_sm = c_sm, .c_sn = c_sn,
        .Y = (float *)y->data + off, .ldy = ldy};
    TU_OK(ctx, seqk_cl_gemm_with(ctx, &p, path));
    TU_OK(ctx, seqk_cl_finish(ctx));

    float *want = malloc((size_t)ny * sizeof(float));
    ck_assert_ptr_nonnull(want);
    for (int64_t i = 0; i < ny; i++)
        want[i] = NAN; /* padding and the offset stay untouched */
    seqk_gemm_problem r = p;
    r.A = ha + off;
    r.B = hb + off;
    r.C = cf == C_NONE ? NULL : hc + off;
    r.Y = want + off;
    if (beta == 0.0f)
        r.C = NULL; /* the reference would multiply NaN by 0 */
    ck_assert_int_eq(seqk_ref_gemm(&r), SEQK_OK);

    float *got = tu_read(y);
    const float tol = 1e-5f * (float)(K + 8);
    char msg[256];
    ck_assert_msg(tu_close(got, want, (size_t)ny, tol, tol, msg, sizeof msg),
                  "%s path %d M=%lld N=%lld K=%lld ta=%d tb=%d beta=%g c=%d "
                  "pad=%lld: %s", tu_device(d), (int)path, (long long)M,
                  (long long)N, (long long)K, ta, tb, (double)beta, (int)cf,
                  (long long)pad, msg);
    tu_assert_guard(y);
    free(got);
    free(want);
    free(ha);
    free(hb);
    free(hc);
    seqk_tensor_destroy(a);
    seqk_tensor_destroy(b);
    seqk_tensor_destroy(c);
    seqk_tensor_destroy(y);
    seqk_context_destroy(ctx);
}

static const int64_t edge[] = {1, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 97};
#define NEDGE ((int)(sizeof edge / sizeof edge[0]))

/* Every transpose over edge shapes; C forms and beta rotate with the
 * shape so each appears with every transpose.  _i: the path. */
START_TEST(gemm_edges)
{
    find_cl_devices();
    const seqk_cl_gemm_path path = _i ? SEQK_CL_GEMM_CLBLAST
                                      : SEQK_CL_GEMM_OWN;
    for (int di = 0; di < num_cl_devices; di++) {
        int n = 0;
        for (int t = 0; t < 4; t++)
            for (int im = 0; im < NEDGE; im += 1)
                for (int in = (im * 5) % 3; in < NEDGE; in += 3)
                    for (int ik = n % 2; ik < NEDGE; ik += 4) {
                        const c_form cf = (c_form)(n % 5);
                        const float beta = (n % 3 == 0) ? 0.0f : 0.5f;
                        check_gemm(cl_devices[di], path, edge[im], edge[in],
                                   edge[ik], t & 1, t >> 1, beta, cf, n % 2);
                        n++;
                    }
    }
}
END_TEST

/* Shapes the kernel choice rule routes differently: large enough for the
 * tiled and rows kernels, skinny (the recurrent step), primes, K == 0. */
START_TEST(gemm_routes)
{
    find_cl_devices();
    static const int64_t shapes[][3] = {
        {128, 1, 67}, {257, 16, 129}, {131, 64, 97}, {200, 150, 70},
        {67, 129, 131}, {1, 300, 33}, {300, 1, 33}, {70, 70, 0}};
    const seqk_cl_gemm_path path = _i ? SEQK_CL_GEMM_CLBLAST
                                      : SEQK_CL_GEMM_OWN;
    for (int di = 0; di < num_cl_devices; di++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int t = 0; t < 4; t++)
                check_gemm(cl_devices[di], path, shapes[s][0], shapes[s][1],
                           shapes[s][2], t & 1, t >> 1, t == 2 ? 0.0f : 1.25f,
                           (c_form)(1 + (s + (size_t)t) % 4), (int64_t)t);
}
END_TEST

/* MatMul with batch broadcasting: A [2,1,M,K] x B [3,K,N] -> [2,3,M,N]. */
START_TEST(matmul_broadcast)
{
    find_cl_devices();
    for (int di = 0; di < num_cl_devices; di++) {
        const int d = cl_devices[di];
        seqk_context *ctx = tu_context(d);
        tu_rng rng;
        tu_rng_init(&rng, 99);
        const int64_t M = 19, N = 23, K = 70;
        float *ha = tu_rand(&rng, (size_t)(2 * M * K), -1.0f, 1.0f);
        float *hb = tu_rand(&rng, (size_t)(3 * K * N), -1.0f, 1.0f);
        seqk_tensor *a = vec(ctx, 2 * M * K, ha);
        seqk_tensor *b = vec(ctx, 3 * K * N, hb);
        seqk_tensor *y = vec(ctx, 6 * M * N, NULL);
        seqk_matmul_problem p = {
            .M = M, .N = N, .K = K, .nbatch = 2,
            .batch_dims = {2, 3}, .a_bstride = {M * K, 0},
            .b_bstride = {0, K * N},
            .A = a->data, .B = b->data, .Y = y->data};
        TU_OK(ctx, seqk_cl_matmul(ctx, &p));
        TU_OK(ctx, seqk_cl_finish(ctx));
        float *want = malloc((size_t)(6 * M * N) * sizeof(float));
        ck_assert_ptr_nonnull(want);
        seqk_matmul_problem r = p;
        r.A = ha;
        r.B = hb;
        r.Y = want;
        ck_assert_int_eq(seqk_ref_matmul(&r), SEQK_OK);
        float *got = tu_read(y);
        TU_ASSERT_CLOSE(got, want, (size_t)(6 * M * N), 1e-4f, 1e-4f);
        tu_assert_guard(y);
        free(got);
        free(want);
        free(ha);
        free(hb);
        seqk_tensor_destroy(a);
        seqk_tensor_destroy(b);
        seqk_tensor_destroy(y);
        seqk_context_destroy(ctx);
    }
}
END_TEST

/* SEQK_OPENCL_GEMM parsing. */
START_TEST(path_env)
{
    setenv("SEQK_OPENCL_GEMM", "own", 1);
    ck_assert_int_eq(seqk_cl_gemm_path_from_env(), SEQK_CL_GEMM_OWN);
    setenv("SEQK_OPENCL_GEMM", "clblast", 1);
    ck_assert_int_eq(seqk_cl_gemm_path_from_env(), SEQK_CL_GEMM_CLBLAST);
    setenv("SEQK_OPENCL_GEMM", "bogus", 1);
    ck_assert_int_eq(seqk_cl_gemm_path_from_env(), SEQK_CL_GEMM_AUTO);
    unsetenv("SEQK_OPENCL_GEMM");
    ck_assert_int_eq(seqk_cl_gemm_path_from_env(), SEQK_CL_GEMM_AUTO);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("opencl_gemm");
    TCase *tc = tcase_create("opencl_gemm");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, gemm_edges, 0, 2);
    tcase_add_loop_test(tc, gemm_routes, 0, 2);
    tcase_add_test(tc, matmul_broadcast);
    tcase_add_test(tc, path_env);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
