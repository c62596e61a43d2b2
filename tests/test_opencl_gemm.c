/*
 * test_opencl_gemm.c — the OpenCL GEMM paths (own kernels of
 * kernels/gemm.cl, and CLBlast when built in) against seqk__ref_gemm.
 *
 * Problems are built directly on device tensors (pointers inside their
 * reserved ranges, with element offsets) and handed to
 * seqk__cl_gemm_with(); outputs start as NaN and the tensors' guards are
 * checked afterwards.  Shapes cover 1, tile-1, tile, tile+1 and primes for
 * the tiled (64), direct (4 x 4) and rows (4 x 64) kernels, every
 * transpose, beta == 0 with NaN in C, C broadcast forms, padded leading
 * dimensions, and MatMul batch broadcasting.
 *
 * Each kernel also runs with several non-default legal parameter sets
 * (forced with seqk__tune_override, which seqk__tuned honours), and the
 * tunables' legal() hooks are checked to reject illegal combinations.
 * SEQK_OCL_SMALL=1 (the Oclgrind run) keeps only small shapes and skips
 * the CLBlast path (Oclgrind would check CLBlast's kernels, not ours).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "opencl/cl_gemm.h"
#include "ref/ref.h"
#include "seqk_config.h"
#include "testutil.h"
#include "tune/tune.h"

static int small_run(void) { return getenv("SEQK_OCL_SMALL") != NULL; }

/* Up to three tuner overrides for one check (id NULL: none). */
typedef struct gemm_override {
    const char *id;
    int v[SEQK_TUNE_MAX_PARAMS];
} gemm_override;

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
static void check_gemm_ov(int d, seqk_cl_gemm_path path, int64_t M,
                          int64_t N, int64_t K, int ta, int tb, float beta,
                          c_form cf, int64_t pad, const gemm_override *ov)
{
    seqk_context *ctx = tu_context(d);
    for (int i = 0; ov && i < 3 && ov[i].id; i++)
        TU_OK(ctx, seqk__tune_override(ctx, ov[i].id, ov[i].v));
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
    TU_OK(ctx, seqk__cl_gemm_with(ctx, &p, path));
    TU_OK(ctx, seqk__cl_finish(ctx));

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
    ck_assert_int_eq(seqk__ref_gemm(&r), SEQK_OK);

    float *got = tu_read(y);
    const float tol = 1e-5f * (float)(K + 8);
    char msg[256];
    ck_assert_msg(tu_close(got, want, (size_t)ny, tol, tol, msg, sizeof msg),
                  "%s path %d%s%s M=%lld N=%lld K=%lld ta=%d tb=%d beta=%g "
                  "c=%d pad=%lld: %s", tu_device(d), (int)path,
                  ov && ov[1].id ? " " : "", ov && ov[1].id ? ov[1].id : "",
                  (long long)M,
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

static void check_gemm(int d, seqk_cl_gemm_path path, int64_t M, int64_t N,
                       int64_t K, int ta, int tb, float beta, c_form cf,
                       int64_t pad)
{
    check_gemm_ov(d, path, M, N, K, ta, tb, beta, cf, pad, NULL);
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
    if (_i && small_run())
        return; /* Oclgrind checks our kernels, not CLBlast's */
    for (int di = 0; di < num_cl_devices; di++) {
        int n = 0;
        for (int t = 0; t < 4; t++)
            for (int im = 0; im < NEDGE; im += small_run() ? 4 : 1)
                for (int in = (im * 5) % 3; in < NEDGE; in += 3)
                    for (int ik = n % 2; ik < NEDGE; ik += 4) {
                        if (small_run() && (edge[in] > 17 || edge[ik] > 17))
                            continue;
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
        {128, 1, 67}, {5, 131, 7}, {257, 16, 129}, {131, 64, 97},
        {200, 150, 70},
        {67, 129, 131}, {1, 300, 33}, {300, 1, 33}, {70, 70, 0}};
    const seqk_cl_gemm_path path = _i ? SEQK_CL_GEMM_CLBLAST
                                      : SEQK_CL_GEMM_OWN;
    if (_i && small_run())
        return; /* Oclgrind checks our kernels, not CLBlast's */
    /* Small: {5, 131, 7} still takes the rows kernel's multi-vector
     * columns (RWN 64: two full blocks and an edge one). */
    const size_t nshapes = small_run() ? 2 : sizeof shapes / sizeof shapes[0];
    for (int di = 0; di < num_cl_devices; di++)
        for (size_t s = 0; s < nshapes; s++)
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
        TU_OK(ctx, seqk__cl_matmul(ctx, &p));
        TU_OK(ctx, seqk__cl_finish(ctx));
        float *want = malloc((size_t)(6 * M * N) * sizeof(float));
        ck_assert_ptr_nonnull(want);
        seqk_matmul_problem r = p;
        r.A = ha;
        r.B = hb;
        r.Y = want;
        ck_assert_int_eq(seqk__ref_matmul(&r), SEQK_OK);
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

/* Kernels forced by the path tunable with non-default legal parameters
 * (the defaults run in gemm_edges/gemm_routes).  _i: the set. */
static const gemm_override param_sets[][3] = {
    /* tiled: MWG NWG KWG MDIMC NDIMC VWM VWN KWI */
    {{"opencl.gemm.path", {1}},
     {"opencl.gemm.tiled", {32, 32, 8, 8, 4, 1, 4, 2}}},
    {{"opencl.gemm.path", {1}},
     {"opencl.gemm.tiled", {16, 64, 32, 4, 16, 2, 2, 8}}},
    {{"opencl.gemm.path", {1}},
     {"opencl.gemm.tiled", {128, 16, 16, 16, 4, 8, 4, 1}}},
    {{"opencl.gemm.path", {1}},
     {"opencl.gemm.tiled", {64, 64, 16, 8, 4, 1, 16, 4}}},
    /* direct: DWM DWN DVK LWM LWN */
    {{"opencl.gemm.path", {2}}, {"opencl.gemm.direct", {1, 1, 1, 1, 1}}},
    {{"opencl.gemm.path", {2}}, {"opencl.gemm.direct", {2, 4, 4, 2, 16}}},
    {{"opencl.gemm.path", {2}}, {"opencl.gemm.direct", {16, 1, 16, 4, 4}}},
    {{"opencl.gemm.path", {2}}, {"opencl.gemm.direct", {4, 8, 2, 32, 1}}},
    {{"opencl.gemm.path", {2}}, {"opencl.gemm.direct", {8, 2, 16, 8, 8}}},
    {{"opencl.gemm.path", {2}}, {"opencl.gemm.direct", {2, 8, 16, 4, 8}}},
    /* rows: RWM RWN LWM LWN */
    {{"opencl.gemm.path", {3}}, {"opencl.gemm.rows", {1, 4, 1, 1}}},
    {{"opencl.gemm.path", {3}}, {"opencl.gemm.rows", {4, 8, 16, 2}}},
    {{"opencl.gemm.path", {3}}, {"opencl.gemm.rows", {16, 16, 2, 8}}},
    {{"opencl.gemm.path", {3}}, {"opencl.gemm.rows", {2, 16, 32, 1}}},
    {{"opencl.gemm.path", {3}}, {"opencl.gemm.rows", {8, 32, 8, 8}}},
    {{"opencl.gemm.path", {3}}, {"opencl.gemm.rows", {2, 64, 4, 2}}},
    {{"opencl.gemm.path", {3}}, {"opencl.gemm.rows", {4, 32, 2, 4}}},
    /* the rule under auto, other kernels' values forced alongside */
    {{"opencl.gemm.path", {0}}, {"opencl.gemm.direct", {4, 2, 8, 2, 2}},
     {"opencl.gemm.rows", {4, 4, 4, 4}}},
};
#define NSETS ((int)(sizeof param_sets / sizeof param_sets[0]))

START_TEST(gemm_params)
{
    static const int64_t dims[] = {1, 15, 16, 17, 33, 64, 65, 131};
    const int nd = small_run() ? 4 : 8;
    find_cl_devices();
    for (int di = 0; di < num_cl_devices; di++) {
        int n = _i;
        for (int t = 0; t < 4; t++)
            for (int s = 0; s < (small_run() ? 2 : 5); s++, n++) {
                const int64_t M = dims[(n * 3) % nd];
                const int64_t N = dims[(n * 5 + 1) % nd];
                const int64_t K = dims[(n * 7 + 2) % nd];
                check_gemm_ov(cl_devices[di], SEQK_CL_GEMM_AUTO, M, N, K,
                              t & 1, t >> 1, n % 3 ? 0.5f : 0.0f,
                              (c_form)(n % 5), n % 2, param_sets[_i]);
            }
    }
}
END_TEST

/* legal(): every constraint rejects, on fabricated device limits. */
START_TEST(legal_rejects)
{
    const seqk_tunable *tiled = seqk__tunable_find("opencl.gemm.tiled");
    const seqk_tunable *direct = seqk__tunable_find("opencl.gemm.direct");
    const seqk_tunable *rows = seqk__tunable_find("opencl.gemm.rows");
    const seqk_tunable *path = seqk__tunable_find("opencl.gemm.path");
    ck_assert_ptr_nonnull(tiled);
    ck_assert_ptr_nonnull(direct);
    ck_assert_ptr_nonnull(rows);
    ck_assert_ptr_nonnull(path);
    const int64_t shape[5] = {100, 100, 100, 1, 2};
    /* A GPU like the smallest the defaults must fit, and a tiny device. */
    seqk_tune_limits gpu = {.is_device = 1, .is_gpu = 1, .max_wg = 256,
                            .max_item = {256, 256, 64},
                            .local_mem = 32768, .threads = 1};
    seqk_tune_limits tiny = gpu;
    tiny.max_wg = 32;
    tiny.max_item[0] = tiny.max_item[1] = 16;
    tiny.local_mem = 4096;
    seqk_tune_limits cpu = {.threads = 2}; /* not an OpenCL device */
    int v[SEQK_TUNE_MAX_PARAMS];

    /* The defaults are legal on the GPU; nothing is legal off OpenCL. */
    const seqk_tunable *all[] = {tiled, direct, rows, path};
    for (int i = 0; i < 4; i++) {
        seqk__tunable_defaults(all[i], v);
        ck_assert_msg(seqk__tunable_legal(all[i], v, &gpu, shape),
                      "%s defaults", all[i]->id);
        ck_assert(!seqk__tunable_legal(all[i], v, &cpu, shape));
    }

    /* tiled: MWG NWG KWG MDIMC NDIMC VWM VWN KWI */
    const int ok[8] = {64, 64, 16, 8, 8, 1, 8, 4};
    memcpy(v, ok, sizeof ok);
    ck_assert(seqk__tunable_legal(tiled, v, &gpu, shape));
    v[0] = 32; v[5] = 8;      /* MWG % (MDIMC*VWM): 32 % 64 */
    ck_assert(!seqk__tunable_legal(tiled, v, &gpu, shape));
    memcpy(v, ok, sizeof ok);
    v[1] = 32; v[4] = 8; v[6] = 8; /* NWG % (NDIMC*VWN): 32 % 64 */
    ck_assert(!seqk__tunable_legal(tiled, v, &gpu, shape));
    memcpy(v, ok, sizeof ok);
    v[2] = 32; v[7] = 16;     /* KWG % KWI: 32 % 16 */
    ck_assert(seqk__tunable_legal(tiled, v, &gpu, shape));
    v[2] = 8;                 /* 8 % 16 */
    ck_assert(!seqk__tunable_legal(tiled, v, &gpu, shape));
    memcpy(v, ok, sizeof ok);
    v[3] = 32; v[4] = 16; v[0] = 128; v[1] = 128; v[6] = 8;
    ck_assert(!seqk__tunable_legal(tiled, v, &gpu, shape)); /* wg 512 */
    memcpy(v, ok, sizeof ok);
    v[4] = 32; v[3] = 4; v[1] = 128; v[6] = 4; v[0] = 64;
    ck_assert(seqk__tunable_legal(tiled, v, &gpu, shape));   /* wg 128 */
    seqk_tune_limits narrow = gpu; /* work-group fits, dimension 0 not */
    narrow.max_item[0] = 16;
    ck_assert(!seqk__tunable_legal(tiled, v, &narrow, shape)); /* NDIMC 32 */
    memcpy(v, ok, sizeof ok);
    ck_assert(!seqk__tunable_legal(tiled, v, &tiny, shape)); /* wg 64 > 32 */
    memcpy(v, ok, sizeof ok);
    v[3] = 4; v[4] = 8; v[2] = 64;   /* (64+64)*64*4 = 32 KiB */
    ck_assert(seqk__tunable_legal(tiled, v, &gpu, shape));
    v[0] = 128;                       /* 48 KiB */
    ck_assert(!seqk__tunable_legal(tiled, v, &gpu, shape));
    memcpy(v, ok, sizeof ok);
    v[3] = 4; v[4] = 4; v[6] = 16; /* 16 x 16 registers per work-item */
    ck_assert(seqk__tunable_legal(tiled, v, &gpu, shape));
    v[0] = 128;                    /* 32 x 16: more than the cap */
    ck_assert(!seqk__tunable_legal(tiled, v, &gpu, shape));
    memcpy(v, ok, sizeof ok);
    v[6] = 3;                      /* not a candidate vector width */
    ck_assert(!seqk__tunable_legal(tiled, v, &gpu, shape));

    /* direct: DWM DWN DVK LWM LWN */
    const int dok[5] = {8, 1, 16, 8, 8};
    memcpy(v, dok, sizeof dok);
    ck_assert(seqk__tunable_legal(direct, v, &gpu, shape));
    ck_assert(!seqk__tunable_legal(direct, v, &tiny, shape)); /* 64 > 32 */
    v[3] = 32; v[4] = 16;                              /* wg 512 */
    ck_assert(!seqk__tunable_legal(direct, v, &gpu, shape));
    memcpy(v, dok, sizeof dok);
    v[1] = 4;                                          /* 8*4*16 regs */
    ck_assert(!seqk__tunable_legal(direct, v, &gpu, shape));

    /* rows: RWM RWN LWM LWN */
    const int rok[4] = {8, 16, 8, 8};
    memcpy(v, rok, sizeof rok);
    ck_assert(seqk__tunable_legal(rows, v, &gpu, shape));
    v[2] = 1; v[3] = 32;
    ck_assert(seqk__tunable_legal(rows, v, &gpu, shape));
    ck_assert(!seqk__tunable_legal(rows, v, &narrow, shape)); /* LWN 32 */
    memcpy(v, rok, sizeof rok);
    v[0] = 16;                                             /* 16 x 16 */
    ck_assert(seqk__tunable_legal(rows, v, &gpu, shape));
    v[1] = 2;                                      /* not a candidate */
    ck_assert(!seqk__tunable_legal(rows, v, &gpu, shape));
    v[0] = 4; v[1] = 64;                                   /* 4 x 64 */
    ck_assert(seqk__tunable_legal(rows, v, &gpu, shape));
    v[0] = 8;                                      /* 8*64 regs */
    ck_assert(!seqk__tunable_legal(rows, v, &gpu, shape));

    /* path: tiled needs local memory; CLBlast needs the build to have it */
    v[0] = 1;
    ck_assert(seqk__tunable_legal(path, v, &gpu, shape));
    seqk_tune_limits nolocal = gpu;
    nolocal.local_mem = 512;
    ck_assert(!seqk__tunable_legal(path, v, &nolocal, shape));
    v[0] = 4;
    ck_assert_int_eq(seqk__tunable_legal(path, v, &gpu, shape),
                     SEQK_HAVE_CLBLAST);
}
END_TEST

/* SEQK_OPENCL_GEMM parsing. */
START_TEST(path_env)
{
    setenv("SEQK_OPENCL_GEMM", "own", 1);
    ck_assert_int_eq(seqk__cl_gemm_path_from_env(), SEQK_CL_GEMM_OWN);
    setenv("SEQK_OPENCL_GEMM", "clblast", 1);
    ck_assert_int_eq(seqk__cl_gemm_path_from_env(), SEQK_CL_GEMM_CLBLAST);
    setenv("SEQK_OPENCL_GEMM", "bogus", 1);
    ck_assert_int_eq(seqk__cl_gemm_path_from_env(), SEQK_CL_GEMM_AUTO);
    unsetenv("SEQK_OPENCL_GEMM");
    ck_assert_int_eq(seqk__cl_gemm_path_from_env(), SEQK_CL_GEMM_AUTO);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("opencl_gemm");
    TCase *tc = tcase_create("opencl_gemm");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, gemm_edges, 0, 2);
    tcase_add_loop_test(tc, gemm_routes, 0, 2);
    tcase_add_loop_test(tc, gemm_params, 0, NSETS);
    tcase_add_test(tc, legal_rejects);
    tcase_add_test(tc, matmul_broadcast);
    tcase_add_test(tc, path_env);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
