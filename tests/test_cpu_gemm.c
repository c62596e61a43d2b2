/*
 * test_cpu_gemm.c — the CPU SIMD SGEMM (microkernels, packing, the
 * blocked/threaded driver, MatMul) on every ISA device this machine has,
 * against the reference kernels: directly at the kernel and problem level
 * (edge tiles, every transpose, alpha/beta, C broadcast forms, padded
 * leading dimensions, sentinels after Y, tiny block sizes that force many
 * K/M/N blocks, 1-3 threads) and through seqk_gemm / seqk_matmul.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_simd/cpu_simd.h"
#include "cpu_simd/gemm.h"
#include "ref/ref.h"
#include "testutil.h"

static const float SENTINEL = 12345.0f;

/* The kernel table behind a device spec; NULL for ref, OpenCL, ... */
static const seqk_cpu_isa *isa_of(const char *spec)
{
    return seqk__cpu_isa_find(spec);
}

static seqk_context *context_threads(int dev, int threads)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = tu_device(dev);
    o.threads = threads;
    seqk_context *ctx = NULL;
    ck_assert_msg(seqk_context_create(&o, &ctx) == SEQK_OK, "%s",
                  seqk_last_error(NULL));
    return ctx;
}

/* ------------------------------------------------------------ microkernel */

/* Every m <= mr, n <= nr and three beta kinds, straight on packed panels;
 * C has padding around the tile that must stay untouched. */
START_TEST(ukernel_edge_tiles)
{
    const seqk_cpu_isa *isa = isa_of(tu_device(_i));
    if (!isa)
        return;
    const seqk_gemm_kernels *k = isa->gemm;
    const int mr = k->mr, nr = k->nr;
    const int64_t kcs[] = {1, 3, 17};
    const float betas[] = {0.0f, 1.0f, -0.5f};
    tu_rng r;
    tu_rng_init(&r, 1);
    const int64_t ldc = nr + 3;
    float *a = seqk__aligned_alloc(sizeof(float) * 17 * (size_t)mr);
    float *b = seqk__aligned_alloc(sizeof(float) * 17 * (size_t)nr);
    float *c = malloc(sizeof(float) * (size_t)((mr + 1) * ldc));
    float *c0 = malloc(sizeof(float) * (size_t)((mr + 1) * ldc));
    ck_assert(a && b && c && c0);
    tu_fill(&r, a, 17 * (size_t)mr, -1, 1);
    tu_fill(&r, b, 17 * (size_t)nr, -1, 1);
    for (int ik = 0; ik < 3; ik++)
        for (int ib = 0; ib < 3; ib++)
            for (int m = 1; m <= mr; m++)
                for (int n = 1; n <= nr; n++) {
                    const int64_t kc = kcs[ik];
                    const float alpha = 1.5f, beta = betas[ib];
                    for (int64_t x = 0; x < (mr + 1) * ldc; x++)
                        c0[x] = tu_uniform(&r, -1, 1);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++)
                            if (beta == 0.0f)
                                c0[i * ldc + j] = NAN;
                    memcpy(c, c0, sizeof(float) * (size_t)((mr + 1) * ldc));
                    k->ukernel(kc, a, b, c, ldc, m, n, alpha, beta);
                    for (int i = 0; i <= mr; i++)
                        for (int j = 0; j < ldc; j++) {
                            float want = c0[i * ldc + j];
                            if (i < m && j < n) {
                                double s = 0;
                                for (int64_t p = 0; p < kc; p++)
                                    s += (double)a[p * mr + i] *
                                         b[p * nr + j];
                                want = (float)(alpha * s +
                                               (beta != 0.0f
                                                    ? beta * want
                                                    : 0.0));
                            }
                            float got = c[i * ldc + j];
                            /* assert only on failure: Check logs every
                             * assertion it evaluates */
                            if (!(fabsf(got - want) <=
                                  1e-5f * (1 + fabsf(want))))
                                ck_abort_msg(
                                    "%s m=%d n=%d kc=%lld beta=%g: "
                                    "c[%d][%d] = %g, want %g",
                                    k->name, m, n, (long long)kc,
                                    (double)beta, i, j, (double)got,
                                    (double)want);
                        }
                }
    seqk__aligned_free(a);
    seqk__aligned_free(b);
    free(c);
    free(c0);
}
END_TEST

/* The ISA's transposing pack and the driver's packing helpers against
 * their layout formulas, zero padding included. */
START_TEST(packing_layouts)
{
    const seqk_cpu_isa *isa = isa_of(tu_device(_i));
    if (!isa)
        return;
    const seqk_gemm_kernels *k = isa->gemm;
    tu_rng r;
    tu_rng_init(&r, 2);
    const int64_t ld = 41;
    float *src = tu_rand(&r, (size_t)(100 * ld), -1, 1);
    float *dst = seqk__aligned_alloc(sizeof(float) * 40 * 40 + 64);
    ck_assert_ptr_nonnull(dst);
    const int64_t ks[] = {1, 5, 16, 17, 33};
    const int ws[] = {k->mr, k->nr};
    if (k->pack_t) {
        for (int iw = 0; iw < 2; iw++)
            for (int ik = 0; ik < 5; ik++)
                for (int64_t rows = 1; rows <= ws[iw]; rows++) {
                    const int64_t w = ws[iw], kk = ks[ik];
                    for (int64_t x = 0; x < kk * w + 16; x++)
                        dst[x] = NAN;
                    k->pack_t(kk, rows, w, src, ld, dst, rows % 3);
                    for (int64_t p = 0; p < kk; p++)
                        for (int64_t i = 0; i < w; i++) {
                            float want = i < rows ? src[i * ld + p] : 0.0f;
                            if (dst[p * w + i] != want)
                                ck_abort_msg("pack_t k=%lld rows=%lld w=%lld: "
                                             "[%lld][%lld]", (long long)kk,
                                             (long long)rows, (long long)w,
                                             (long long)p, (long long)i);
                        }
                    ck_assert(isnan(dst[kk * w]));
                }
    }
    /* Whole-matrix helpers, both storage orders of the source. */
    for (int trans = 0; trans < 2; trans++) {
        const int64_t K = 13, N = 2 * k->nr + 3, M = 2 * k->mr + 1;
        const int64_t rs = trans ? 1 : ld, cs = trans ? ld : 1;
        ck_assert_int_le(seqk__cpu_gemm_packed_b_floats(K, N, k->nr),
                         40 * 40);
        seqk__cpu_gemm_pack_b(k, K, N, src, rs, cs, dst);
        int64_t np = (N + k->nr - 1) / k->nr * k->nr;
        for (int64_t j = 0; j < np; j++)
            for (int64_t p = 0; p < K; p++) {
                float want = j < N ? src[p * rs + j * cs] : 0.0f;
                if (dst[(j / k->nr) * K * k->nr + p * k->nr +
                        j % k->nr] != want)
                    ck_abort_msg("pack_b trans=%d [%lld][%lld]", trans,
                                 (long long)p, (long long)j);
            }
        ck_assert_int_le(seqk__cpu_gemm_packed_a_floats(M, K, k->mr),
                         40 * 40);
        seqk__cpu_gemm_pack_a(k, M, K, src, rs, cs, dst);
        int64_t mp = (M + k->mr - 1) / k->mr * k->mr;
        for (int64_t i = 0; i < mp; i++)
            for (int64_t p = 0; p < K; p++) {
                float want = i < M ? src[i * rs + p * cs] : 0.0f;
                if (dst[(i / k->mr) * K * k->mr + p * k->mr +
                        i % k->mr] != want)
                    ck_abort_msg("pack_a trans=%d [%lld][%lld]", trans,
                                 (long long)i, (long long)p);
            }
    }
    free(src);
    seqk__aligned_free(dst);
}
END_TEST

/* ---------------------------------------------------------- problem level */

/* One GEMM with padded leading dimensions and a sentinel-filled tail. */
typedef struct case_data {
    seqk_gemm_problem p;
    float *A, *B, *C, *Y, *want;
    int64_t ysize;
} case_data;

enum { TAIL = 37 };

/* ldb = (trans_b ? K : N) + case_ldb_pad: 0 makes a single column of a
 * plain B contiguous along K (the dot path). */
static int64_t case_ldb_pad = 5;

/* cform: 0 none, 1 [M,N], 2 row [N], 3 column [M,1], 4 scalar. */
static void case_make(case_data *d, int64_t M, int64_t N, int64_t K, int ta,
                      int tb, float alpha, float beta, int cform,
                      uint64_t seed)
{
    tu_rng r;
    tu_rng_init(&r, seed);
    memset(d, 0, sizeof *d);
    seqk_gemm_problem *p = &d->p;
    p->M = M;
    p->N = N;
    p->K = K;
    p->trans_a = ta;
    p->trans_b = tb;
    p->alpha = alpha;
    p->beta = beta;
    p->lda = (ta ? M : K) + 3;
    p->ldb = (tb ? K : N) + case_ldb_pad;
    p->ldy = N + 2;
    int64_t asz = (ta ? K : M) * p->lda, bsz = (tb ? N : K) * p->ldb;
    d->A = tu_rand(&r, (size_t)asz + 1, -1, 1);
    d->B = tu_rand(&r, (size_t)bsz + 1, -1, 1);
    p->A = d->A;
    p->B = d->B;
    if (cform) {
        d->C = tu_rand(&r, (size_t)(M * N) + 1, -1, 1);
        p->C = d->C;
        p->c_sm = cform == 1 ? N : cform == 3 ? 1 : 0;
        p->c_sn = cform == 1 || cform == 2 ? 1 : 0;
    }
    d->ysize = M * p->ldy + TAIL;
    d->Y = malloc(sizeof(float) * (size_t)d->ysize);
    d->want = malloc(sizeof(float) * (size_t)d->ysize);
    ck_assert(d->Y && d->want);
    /* Y's own cells NaN (beta == 0 or no C must not read them), the row
     * gaps and the tail a sentinel that must survive. */
    for (int64_t x = 0; x < d->ysize; x++)
        d->Y[x] = x < M * p->ldy && x % p->ldy < N ? NAN : SENTINEL;
    memcpy(d->want, d->Y, sizeof(float) * (size_t)d->ysize);
    seqk_gemm_problem rp = *p;
    rp.Y = d->want;
    ck_assert_int_eq(seqk__ref_gemm(&rp), SEQK_OK);
    p->Y = d->Y;
}

static void case_check(const case_data *d, const char *what)
{
    const seqk_gemm_problem *p = &d->p;
    const float atol = 2e-6f * (float)(p->K + 4), rtol = 1e-5f;
    for (int64_t x = 0; x < d->ysize; x++) {
        float got = d->Y[x], want = d->want[x];
        int inside = x < p->M * p->ldy && x % p->ldy < p->N;
        int ok = inside ? fabsf(got - want) <= atol + rtol * fabsf(want)
                        : got == SENTINEL;
        if (!ok)
            ck_abort_msg("%s M=%lld N=%lld K=%lld ta=%d tb=%d alpha=%g "
                      "beta=%g C=%s: Y[%lld] (%s) = %g, want %g",
                         what, (long long)p->M, (long long)p->N,
                         (long long)p->K, p->trans_a, p->trans_b,
                         (double)p->alpha, (double)p->beta,
                         p->C ? "yes" : "no", (long long)x,
                         inside ? "inside" : "sentinel", (double)got,
                         (double)want);
    }
}

static void case_free(case_data *d)
{
    free(d->A);
    free(d->B);
    free(d->C);
    free(d->Y);
    free(d->want);
}

/* Edge sizes for this ISA: around the tile sizes, across a K block,
 * primes. */
static int edge_sizes(const seqk_cpu_isa *isa, int64_t *out)
{
    seqk_gemm_blocking blk;
    seqk__cpu_gemm_default_blocking(isa->gemm, &blk);
    const int mr = isa->gemm->mr, nr = isa->gemm->nr;
    int64_t v[] = {1, mr - 1, mr, mr + 1, nr - 1, nr, nr + 1,
                   2 * blk.kc + 1, 37, 97};
    int n = 0;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int dup = v[i] < 1;
        for (int j = 0; j < n; j++)
            dup |= out[j] == v[i];
        if (!dup)
            out[n++] = v[i];
    }
    return n;
}

/* M x N over the edge sizes, K over a few of them, every transpose; the
 * C form and alpha/beta cycle along so that each meets every shape kind. */
START_TEST(problem_edge_shapes)
{
    const seqk_cpu_isa *isa = isa_of(tu_device(_i));
    if (!isa)
        return;
    seqk_context *ctx = context_threads(_i, 1);
    int64_t sz[16];
    int ns = edge_sizes(isa, sz);
    seqk_gemm_blocking blk;
    seqk__cpu_gemm_default_blocking(isa->gemm, &blk);
    const int64_t ks[] = {1, isa->gemm->mr + 1, 37, 2 * blk.kc + 1};
    const float ab[][2] = {{1, 1}, {0.75f, -1.5f}, {1, 0}, {-2, 0.5f}};
    int counter = 0;
    for (int im = 0; im < ns; im++)
        for (int in = 0; in < ns; in++)
            for (int ik = 0; ik < 4; ik++) {
                int t = counter++;
                int ta = t & 1, tb = (t >> 1) & 1;
                int cform = (t / 4 + im) % 5;
                const float *x = ab[(t / 3) % 4];
                /* the large-K cases only on a diagonal, to stay quick */
                if (ik == 3 && (im + in) % 4)
                    continue;
                case_data d;
                case_make(&d, sz[im], sz[in], ks[ik], ta, tb, x[0], x[1],
                          cform, (uint64_t)t);
                TU_OK(ctx, seqk__cpu_gemm(ctx, isa, &d.p));
                case_check(&d, tu_device(_i));
                case_free(&d);
            }
    /* every transpose with every C form on one awkward shape */
    for (int t = 0; t < 4 * 5; t++) {
        case_data d;
        case_make(&d, 2 * isa->gemm->mr + 3, 2 * isa->gemm->nr - 1, 29,
                  t & 1, (t >> 1) & 1, 1.25f, t % 3 ? -0.75f : 0.0f, t / 4,
                  (uint64_t)(1000 + t));
        TU_OK(ctx, seqk__cpu_gemm(ctx, isa, &d.p));
        case_check(&d, tu_device(_i));
        case_free(&d);
    }
    seqk_context_destroy(ctx);
}
END_TEST

/* Block sizes far below the defaults (the tuner may set anything): many
 * M, N and K blocks, packing at every block edge. */
START_TEST(problem_small_blocks)
{
    const seqk_cpu_isa *isa = isa_of(tu_device(_i));
    if (!isa)
        return;
    seqk_context *ctx = context_threads(_i, 2);
    const int mr = isa->gemm->mr, nr = isa->gemm->nr;
    const seqk_gemm_blocking blks[] = {
        {mr, 7, nr}, {2 * mr, 16, 3 * nr}, {5, 1, 3}, {3 * mr, 50, nr}};
    for (int b = 0; b < 4; b++)
        for (int t = 0; t < 4; t++) {
            case_data d;
            case_make(&d, 5 * mr + 2, 4 * nr + 3, 61, t & 1, t >> 1, 0.5f,
                      t == 2 ? 0.0f : 2.0f, 1 + (b + t) % 4,
                      (uint64_t)(2000 + 4 * b + t));
            TU_OK(ctx, seqk__cpu_gemm_ex(ctx, isa, &d.p, &blks[b], 0));
            case_check(&d, "small blocks");
            case_free(&d);
        }
    seqk_context_destroy(ctx);
    /* enough rows for the shared mode: threads pack B blocks together and
     * share out A blocks, over many K and N blocks */
    ctx = context_threads(_i, 3);
    for (int b = 0; b < 4; b++) {
        case_data d;
        case_make(&d, 30 * mr + 5, 3 * nr + 1, 45, b & 1, b >> 1, 1.0f,
                  b == 1 ? 0.0f : 0.5f, b, (uint64_t)(2100 + b));
        TU_OK(ctx, seqk__cpu_gemm_ex(ctx, isa, &d.p, &blks[b], 0));
        case_check(&d, "small blocks, shared");
        case_free(&d);
    }
    seqk_context_destroy(ctx);
}
END_TEST

/* Nothing to multiply: M/N/K of 0, alpha == 0. */
START_TEST(problem_degenerate)
{
    const seqk_cpu_isa *isa = isa_of(tu_device(_i));
    if (!isa)
        return;
    seqk_context *ctx = context_threads(_i, 1);
    const int64_t shapes[][3] = {{0, 5, 3}, {4, 0, 3}, {4, 5, 0}, {0, 0, 0},
                                 {1, 1, 0}};
    for (int s = 0; s < 5; s++)
        for (int cform = 0; cform < 5; cform++) {
            case_data d;
            case_make(&d, shapes[s][0], shapes[s][1], shapes[s][2], 0, 1,
                      1.0f, 0.5f, cform, (uint64_t)(3000 + s));
            TU_OK(ctx, seqk__cpu_gemm(ctx, isa, &d.p));
            case_check(&d, "degenerate");
            case_free(&d);
        }
    case_data d;
    case_make(&d, 9, 11, 7, 1, 0, 0.0f, -1.0f, 2, 3100);
    TU_OK(ctx, seqk__cpu_gemm(ctx, isa, &d.p));
    case_check(&d, "alpha == 0");
    case_free(&d);
    seqk_context_destroy(ctx);
}
END_TEST

/* 1, 2 and 3 threads: each close to ref and to one another, on a large
 * square problem and on tall and wide ones (the grid splits M or N). */
START_TEST(problem_threads)
{
    const seqk_cpu_isa *isa = isa_of(tu_device(_i));
    if (!isa)
        return;
    const int64_t shapes[][3] = {{389, 461, 433}, {700, 7, 300},
                                 {5, 900, 301}, {257, 129, 1}};
    for (int s = 0; s < 4; s++) {
        int t = s;
        case_data d;
        case_make(&d, shapes[s][0], shapes[s][1], shapes[s][2], t & 1,
                  (t >> 1) & 1, 1.0f, 1.0f, 1 + s % 4, (uint64_t)(4000 + s));
        float *first = malloc(sizeof(float) * (size_t)d.ysize);
        ck_assert_ptr_nonnull(first);
        for (int threads = 1; threads <= 3; threads++) {
            seqk_context *ctx = context_threads(_i, threads);
            for (int64_t x = 0; x < d.ysize; x++)
                d.Y[x] = x < d.p.M * d.p.ldy && x % d.p.ldy < d.p.N
                             ? NAN
                             : SENTINEL;
            TU_OK(ctx, seqk__cpu_gemm(ctx, isa, &d.p));
            case_check(&d, threads == 1   ? "1 thread"
                           : threads == 2 ? "2 threads"
                                          : "3 threads");
            if (threads == 1)
                memcpy(first, d.Y, sizeof(float) * (size_t)d.ysize);
            else
                TU_ASSERT_CLOSE(d.Y, first, (size_t)d.ysize, 1e-6f, 1e-6f);
            seqk_context_destroy(ctx);
        }
        free(first);
        case_free(&d);
    }
}
END_TEST

/* The driver-level entry points other drivers call. */
START_TEST(driver_entry_points)
{
    const seqk_cpu_isa *isa = isa_of(tu_device(_i));
    if (!isa)
        return;
    char why[128] = "";
    ck_assert(seqk__cpu_gemm_supports(isa, SEQK_OP_GEMM, NULL, why,
                                     sizeof why));
    ck_assert(seqk__cpu_gemm_supports(isa, SEQK_OP_MATMUL, NULL, why,
                                     sizeof why));
    /* the RNN's input projection: x [T*B, I] times W [G*H, I]^T */
    case_data d;
    case_make(&d, 6 * 5, 4 * 19, 23, 0, 1, 1.0f, 1.0f, 2, 5000);
    ck_assert_int_eq(seqk__cpu_gemm_1t(isa, &d.p), SEQK_OK);
    case_check(&d, "seqk_cpu_gemm_1t");
    case_free(&d);
    seqk_context *ctx = context_threads(_i, 3);
    case_make(&d, 300, 200, 100, 1, 1, 1.0f, 0.0f, 0, 5001);
    TU_OK(ctx, seqk__cpu_gemm_ex(ctx, isa, &d.p, NULL, 2));
    case_check(&d, "seqk_cpu_gemm_ex max_threads=2");
    case_free(&d);
    seqk_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------ direct small path */

/* The small, small_rows and dot kernels straight: every row count of a
 * register tile and past it, column counts around the vector and panel
 * widths, K of 0, 1, odd; add on and off; no C, a value per row, a full
 * C, with alpha 1 (C starts the sums) and not; padded strides with
 * sentinels that must stay. */
START_TEST(small_kernels_direct)
{
    const seqk_cpu_isa *isa = isa_of(tu_device(_i));
    if (!isa || !isa->gemm->small)
        return;
    const seqk_gemm_kernels *kern = isa->gemm;
    const int64_t nr = kern->nr, v = nr / (kern->nr % 3 ? 2 : 3);
    const int64_t ms[] = {0, 1, 2, 3, 4, 5, 7, 13, 14, 15, 17, 33};
    const int64_t ns[] = {0, 1, 3, v - 1, v, v + 1, nr - 1, nr, nr + 1,
                          2 * nr + 3};
    const int64_t ks[] = {0, 1, 5, 16, 33};
    tu_rng r;
    tu_rng_init(&r, 6000);
    float *x = tu_rand(&r, 40 * 80, -1, 1);
    float *b = tu_rand(&r, 80 * 80, -1, 1);
    float *cv = tu_rand(&r, 40 * 80, -1, 1); /* C, row stride 80 */
    float *y = malloc(sizeof(float) * 40 * 80);
    float *want = malloc(sizeof(float) * 40 * 80);
    ck_assert(y && want);
    /* mode 0: small, 1: dot, 2: small_rows with B's rows in reverse */
    const float *rows[40];
    for (int mode = 0; mode < 3; mode++)
        for (size_t im = 0; im < sizeof ms / sizeof ms[0]; im++)
            for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++)
                for (size_t ik = 0; ik < sizeof ks / sizeof ks[0]; ik++) {
                    const int dot = mode == 1;
                    const int64_t m = ms[im], n = ns[in], k = ks[ik];
                    const int64_t ldx = k + 1, ldb = dot ? k + 3 : n + 2;
                    for (int64_t p = 0; p < k; p++)
                        rows[p] = b + (k - 1 - p) * ldb;
                    const int64_t ldy = n + 1;
                    const int add = (int)((im + in + ik) % 2);
                    /* alpha 1: C starts the sums; else C after */
                    static const float alphas[] = {1.0f, -0.5f, 1.25f};
                    const float alpha = alphas[(im + in + 2 * ik) % 3];
                    /* C: none, a value per row (c_sn 0), or a full C */
                    const int cf = (int)((im + 2 * in + ik) % 3);
                    const float *c = cf ? cv : NULL;
                    const int64_t c_sm = cf == 1 ? 1 : 80, c_sn = cf == 2;
                    for (int64_t q = 0; q < 40 * 80; q++)
                        y[q] = q < m * ldy && q % ldy < n ? (float)q / 7.0f
                                                          : SENTINEL;
                    memcpy(want, y, sizeof(float) * 40 * 80);
                    for (int64_t i = 0; i < m; i++)
                        for (int64_t j = 0; j < n; j++) {
                            double acc = 0;
                            for (int64_t p = 0; p < k; p++)
                                acc += (double)x[i * ldx + p] *
                                       (dot ? b[j * ldb + p]
                                        : mode ? rows[p][j]
                                               : b[p * ldb + j]);
                            want[i * ldy + j] =
                                (float)((add ? want[i * ldy + j] : 0.0) +
                                        alpha * acc +
                                        (c ? c[i * c_sm + j * c_sn] : 0.0));
                        }
                    if (mode == 2)
                        kern->small_rows(m, n, k, x, ldx, rows, y, ldy, alpha,
                                         add, c, c_sm, c_sn);
                    else
                        (dot ? kern->dot : kern->small)(m, n, k, x, ldx, b,
                                                        ldb, y, ldy, alpha,
                                                        add, c, c_sm, c_sn);
                    char msg[256];
                    if (!tu_close(y, want, 40 * 80, 1e-5f, 1e-5f, msg,
                                  sizeof msg))
                        ck_abort_msg("%s%s m=%lld n=%lld k=%lld add=%d "
                                     "C form %d: %s",
                                     dot ? kern->dot_name : kern->small_name,
                                     mode == 2 ? " (rows)" : "",
                                     (long long)m, (long long)n,
                                     (long long)k, add, cf, msg);
                }
    free(x);
    free(b);
    free(cv);
    free(y);
    free(want);
}
END_TEST

/* Problems the driver sends down the direct path (the kind asserted), on
 * 1 and 2 threads: every C form, a single column both ways, a transposed
 * B, shapes that split rows and that split columns across threads. */
START_TEST(small_path_problems)
{
    const seqk_cpu_isa *isa = isa_of(tu_device(_i));
    if (!isa || !isa->gemm->small)
        return;
    static const struct {
        int64_t M, N, K;
        int tb, pad, kind;
    } cs[] = {
        {512, 32, 32, 0, 5, SEQK_GEMM_SMALL_B},  /* splits rows */
        {16, 70, 64, 0, 5, SEQK_GEMM_SMALL_B},
        {1, 32, 32, 0, 5, SEQK_GEMM_SMALL_B},    /* an attention step */
        {3, 2000, 300, 0, 5, SEQK_GEMM_SMALL_B}, /* splits columns */
        {29, 1, 31, 0, 0, SEQK_GEMM_SMALL_DOT},  /* one column, ldb 1 */
        {5000, 1, 64, 1, 5, SEQK_GEMM_SMALL_DOT},
        {13, 7, 19, 1, 5, SEQK_GEMM_SMALL_DOT},  /* tiny, transposed B */
        {29, 1, 31, 0, 5, SEQK_GEMM_SMALL_B},    /* one column, strided */
    };
    for (int threads = 1; threads <= 2; threads++) {
        seqk_context *ctx = context_threads(_i, threads);
        for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++)
            for (int cform = 0; cform < 5; cform++) {
                case_data d;
                case_ldb_pad = cs[c].pad;
                case_make(&d, cs[c].M, cs[c].N, cs[c].K, 0, cs[c].tb,
                          cform == 3 ? 0.5f : 1.0f, cform == 2 ? -1.0f : 1.0f,
                          cform, (uint64_t)(6100 + 8 * c + (size_t)cform));
                case_ldb_pad = 5;
                ck_assert_int_eq(seqk__cpu_gemm_small_kind(isa, &d.p),
                                 cs[c].kind);
                TU_OK(ctx, seqk__cpu_gemm(ctx, isa, &d.p));
                case_check(&d, threads == 1 ? "small path"
                                            : "small path, 2 threads");
                /* the one-thread entry takes the same path */
                for (int64_t x = 0; x < d.p.M * d.p.ldy; x++)
                    if (x % d.p.ldy < d.p.N)
                        d.Y[x] = NAN;
                ck_assert_int_eq(seqk__cpu_gemm_1t(isa, &d.p), SEQK_OK);
                case_check(&d, "small path, seqk__cpu_gemm_1t");
                case_free(&d);
            }
        seqk_context_destroy(ctx);
    }
}
END_TEST

/* A linear plan's GEMM (b_cache set) on the paths that read the cached
 * or unpacked weights: one output feature (dot products, W's row in
 * place), few rows (gemv / skinny), many rows of up to 128 columns
 * (the direct kernel over the cached panels, or the skinny driver for
 * long panels), and the blocked GEMM past them; twice each, the second
 * call from the cache. */
START_TEST(cached_linear_paths)
{
    const seqk_cpu_isa *isa = isa_of(tu_device(_i));
    if (!isa)
        return;
    const int64_t shapes[][3] = {{512, 1, 32},  {3, 1, 70},    {512, 32, 32},
                                 {100, 64, 17}, {40, 70, 64},  {16, 70, 64},
                                 {512, 96, 32}, {200, 150, 40},
                                 {64, 40, 1100}};
    for (int threads = 1; threads <= 2; threads++) {
        seqk_context *ctx = context_threads(_i, threads);
        for (int s = 0; s < 9; s++)
            for (int tb = 0; tb < 2; tb++) {
                seqk_backend_cache cache;
                memset(&cache, 0, sizeof cache);
                case_data d;
                case_ldb_pad = tb ? 5 : 0;
                /* a linear's bias row mostly; the other C forms too */
                const int cform = (s + tb) % 3 ? 2 : (s + threads) % 5;
                case_make(&d, shapes[s][0], shapes[s][1], shapes[s][2], 0,
                          tb, 1.0f, cform % 2 ? 0.5f : 1.0f, cform,
                          (uint64_t)(6200 + 2 * s + tb));
                case_ldb_pad = 5;
                d.p.b_cache = &cache;
                for (int rep = 0; rep < 2; rep++) {
                    for (int64_t x = 0; x < d.p.M * d.p.ldy; x++)
                        if (x % d.p.ldy < d.p.N)
                            d.Y[x] = NAN;
                    TU_OK(ctx, seqk__cpu_gemm(ctx, isa, &d.p));
                    case_check(&d, rep ? "cached linear, from the cache"
                                       : "cached linear");
                }
                if (cache.data && cache.free_fn)
                    cache.free_fn(cache.data);
                case_free(&d);
            }
        seqk_context_destroy(ctx);
    }
}
END_TEST

/* Conv1d through the driver on 1 and 2 threads against a plain loop:
 * padding wider than the input, strides (below and past K), dilation,
 * groups, pointwise, a large item (im2col and the threaded GEMM), and
 * enough small items that threads take whole items. */
START_TEST(conv_items_threads)
{
    const seqk_cpu_isa *isa = isa_of(tu_device(_i));
    if (!isa)
        return;
    static const struct {
        int64_t N, C, L, M, K, s, d, pb, pe, g;
    } cs[] = {
        {16, 20, 64, 32, 3, 1, 1, 1, 1, 1}, {16, 32, 64, 32, 3, 2, 1, 1, 1, 1},
        {3, 4, 5, 6, 3, 1, 1, 7, 6, 2},     {5, 6, 33, 9, 4, 3, 2, 2, 1, 3},
        {9, 8, 40, 8, 1, 1, 1, 0, 0, 1},    {2, 3, 1, 4, 5, 1, 1, 4, 0, 1},
        {1, 64, 300, 128, 5, 1, 1, 2, 2, 1}, {2, 3, 50, 4, 2, 5, 1, 0, 0, 1},
        {4, 2, 9, 3, 3, 2, 3, 5, 5, 1},
    };
    for (int threads = 1; threads <= 2; threads++) {
        seqk_context *ctx = context_threads(_i, threads);
        for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
            seqk_conv1d_problem p = {
                .N = cs[c].N, .C = cs[c].C, .L = cs[c].L, .M = cs[c].M,
                .K = cs[c].K, .stride = cs[c].s, .dilation = cs[c].d,
                .pad_begin = cs[c].pb, .group = cs[c].g};
            const int64_t ext = p.dilation * (p.K - 1) + 1;
            p.Lout = (p.L + cs[c].pb + cs[c].pe - ext) / p.stride + 1;
            const int64_t cg = p.C / p.group, mg = p.M / p.group;
            const size_t ny = (size_t)(p.N * p.M * p.Lout);
            tu_rng r;
            tu_rng_init(&r, 6300 + c);
            float *x = tu_rand(&r, (size_t)(p.N * p.C * p.L), -1, 1);
            float *w = tu_rand(&r, (size_t)(p.M * cg * p.K), -1, 1);
            float *b = tu_rand(&r, (size_t)p.M, -1, 1);
            float *y = malloc(sizeof(float) * (ny + TAIL));
            float *want = malloc(sizeof(float) * (ny + TAIL));
            ck_assert(y && want);
            for (size_t q = 0; q < ny + TAIL; q++)
                y[q] = want[q] = q < ny ? NAN : SENTINEL;
            for (int64_t n = 0; n < p.N; n++)
                for (int64_t m = 0; m < p.M; m++)
                    for (int64_t t = 0; t < p.Lout; t++) {
                        double acc = c % 2 ? 0 : b[m];
                        for (int64_t ci = 0; ci < cg; ci++)
                            for (int64_t k = 0; k < p.K; k++) {
                                int64_t at = t * p.stride + k * p.dilation -
                                             p.pad_begin;
                                if (at >= 0 && at < p.L)
                                    acc += (double)w[(m * cg + ci) * p.K + k] *
                                           x[(n * p.C + (m / mg) * cg + ci) *
                                                 p.L + at];
                            }
                        want[(n * p.M + m) * p.Lout + t] = (float)acc;
                    }
            p.X = x;
            p.W = w;
            p.B = c % 2 ? NULL : b;
            p.Y = y;
            TU_OK(ctx, seqk__cpu_conv1d(ctx, isa, &p));
            char msg[256];
            ck_assert_msg(tu_close(y, want, ny + TAIL, 2e-5f, 2e-5f, msg,
                                   sizeof msg),
                          "conv case %d, %d threads: %s", (int)c, threads,
                          msg);
            free(x);
            free(w);
            free(b);
            free(y);
            free(want);
        }
        seqk_context_destroy(ctx);
    }
}
END_TEST

/* ------------------------------------------------------- through the API */

START_TEST(api_gemm)
{
    if (!isa_of(tu_device(_i)))
        return;
    seqk_context *ctx = tu_context(_i);
    const int64_t shapes[][3] = {{1, 1, 1},   {15, 33, 17}, {97, 37, 200},
                                 {16, 260, 64}, {260, 16, 64}, {2, 3, 500}};
    /* ONNX C shapes: none, [M,N], [N], [M,1], [1], [] */
    for (int s = 0; s < 6; s++)
        for (int t = 0; t < 4; t++)
            for (int cform = 0; cform <= 5; cform++) {
                const int64_t M = shapes[s][0], N = shapes[s][1],
                              K = shapes[s][2];
                const int ta = t & 1, tb = t >> 1;
                const float alpha = 0.5f + (float)t,
                            beta = cform % 2 ? 0.0f : -1.25f;
                tu_rng r;
                tu_rng_init(&r, (uint64_t)(6000 + 24 * s + 6 * t + cform));
                float *A = tu_rand(&r, (size_t)(M * K), -1, 1);
                float *B = tu_rand(&r, (size_t)(K * N), -1, 1);
                float *C = tu_rand(&r, (size_t)(M * N), -1, 1);
                int64_t ad[2] = {ta ? K : M, ta ? M : K};
                int64_t bd[2] = {tb ? N : K, tb ? K : N};
                int64_t yd[2] = {M, N}, cd[2] = {M, N};
                int cnd = 2;
                int64_t c_sm = N, c_sn = 1;
                switch (cform) {
                case 2: cd[0] = N; cnd = 1; c_sm = 0; break;
                case 3: cd[1] = 1; c_sn = 0; c_sm = 1; break;
                case 4: cd[0] = 1; cnd = 1; c_sm = 0; c_sn = 0; break;
                case 5: cnd = 0; c_sm = 0; c_sn = 0; break;
                default: break;
                }
                seqk_gemm_problem rp = {
                    .M = M, .N = N, .K = K, .trans_a = ta, .trans_b = tb,
                    .alpha = alpha, .beta = beta, .A = A,
                    .lda = ta ? M : K, .B = B, .ldb = tb ? K : N,
                    .C = cform ? C : NULL, .c_sm = c_sm, .c_sn = c_sn,
                    .ldy = N};
                float *want = malloc(sizeof(float) * (size_t)(M * N));
                rp.Y = want;
                ck_assert_int_eq(seqk__ref_gemm(&rp), SEQK_OK);
                seqk_tensor *tA = tu_f32(ctx, 2, ad, A);
                seqk_tensor *tB = tu_f32(ctx, 2, bd, B);
                seqk_tensor *tC = cform ? tu_f32(ctx, cnd, cd, C) : NULL;
                seqk_tensor *tY = tu_f32(ctx, 2, yd, NULL);
                seqk_gemm_params gp;
                seqk_gemm_params_init(&gp);
                gp.trans_a = ta;
                gp.trans_b = tb;
                gp.alpha = alpha;
                gp.beta = beta;
                TU_OK(ctx, seqk_gemm(ctx, &gp, tA, tB, tC, tY));
                tu_assert_guard(tY);
                float *got = tu_read(tY);
                TU_ASSERT_CLOSE(got, want, (size_t)(M * N),
                                2e-6f * (float)(K + 4), 1e-5f);
                free(got);
                free(want);
                free(A);
                free(B);
                free(C);
                seqk_tensor_destroy(tA);
                seqk_tensor_destroy(tB);
                seqk_tensor_destroy(tC);
                seqk_tensor_destroy(tY);
            }
    seqk_context_destroy(ctx);
}
END_TEST

/* One MatMul through the API against seqk__ref_matmul. */
static void check_matmul(seqk_context *ctx, int an, const int64_t *ad,
                         int bn, const int64_t *bd, uint64_t seed)
{
    tu_rng r;
    tu_rng_init(&r, seed);
    int64_t na = 1, nb = 1;
    for (int j = 0; j < an; j++)
        na *= ad[j];
    for (int j = 0; j < bn; j++)
        nb *= bd[j];
    float *A = tu_rand(&r, (size_t)na + 1, -1, 1);
    float *B = tu_rand(&r, (size_t)nb + 1, -1, 1);
    seqk_tensor *tA = tu_f32(ctx, an, ad, A), *tB = tu_f32(ctx, bn, bd, B);
    /* Y's shape: broadcast batch dims, then M (if A is 2-D+), N (if B
     * is). */
    int64_t M = an == 1 ? 1 : ad[an - 2], K = ad[an - 1];
    int64_t N = bn == 1 ? 1 : bd[bn - 1];
    int abat = an > 2 ? an - 2 : 0, bbat = bn > 2 ? bn - 2 : 0;
    int nbat = abat > bbat ? abat : bbat;
    seqk_matmul_problem p = {.M = M, .N = N, .K = K, .nbatch = nbat,
                             .A = A, .B = B};
    int64_t yd[SEQK_MAX_DIMS];
    int yn = 0;
    int64_t as = M * K, bs = K * N, batches = 1;
    for (int j = nbat - 1; j >= 0; j--) {
        int ia = j - (nbat - abat), ib = j - (nbat - bbat);
        int64_t da = ia >= 0 ? ad[ia] : 1, db = ib >= 0 ? bd[ib] : 1;
        p.batch_dims[j] = da == 0 || db == 0 ? 0 : da > db ? da : db;
        p.a_bstride[j] = da == 1 ? 0 : as;
        p.b_bstride[j] = db == 1 ? 0 : bs;
        as *= da;
        bs *= db;
        batches *= p.batch_dims[j];
    }
    for (int j = 0; j < nbat; j++)
        yd[yn++] = p.batch_dims[j];
    if (an > 1)
        yd[yn++] = M;
    if (bn > 1)
        yd[yn++] = N;
    float *want = malloc(sizeof(float) * (size_t)(batches * M * N + 1));
    p.Y = want;
    ck_assert_int_eq(seqk__ref_matmul(&p), SEQK_OK);
    seqk_tensor *tY = tu_f32(ctx, yn, yd, NULL);
    TU_OK(ctx, seqk_matmul(ctx, tA, tB, tY));
    tu_assert_guard(tY);
    float *got = tu_read(tY);
    TU_ASSERT_CLOSE(got, want, (size_t)(batches * M * N),
                    2e-6f * (float)(K + 4), 1e-5f);
    free(got);
    free(want);
    free(A);
    free(B);
    seqk_tensor_destroy(tA);
    seqk_tensor_destroy(tB);
    seqk_tensor_destroy(tY);
}

START_TEST(api_matmul_broadcast)
{
    if (!isa_of(tu_device(_i)))
        return;
    for (int threads = 1; threads <= 3; threads += 2) {
        seqk_context *ctx = context_threads(_i, threads);
        /* batches folded into M (B shared, A dense) */
        check_matmul(ctx, 3, (int64_t[]){4, 9, 21}, 2,
                     (int64_t[]){21, 35}, 1);
        /* B broadcast over the leading dim only */
        check_matmul(ctx, 4, (int64_t[]){2, 3, 7, 19}, 3,
                     (int64_t[]){3, 19, 5}, 2);
        /* A broadcast over batches of B */
        check_matmul(ctx, 2, (int64_t[]){13, 40}, 3,
                     (int64_t[]){5, 40, 33}, 3);
        /* both broadcast: [2,1,M,K] x [1,3,K,N] */
        check_matmul(ctx, 4, (int64_t[]){2, 1, 17, 9}, 4,
                     (int64_t[]){1, 3, 9, 18}, 4);
        /* 1-D operands */
        check_matmul(ctx, 1, (int64_t[]){31}, 3, (int64_t[]){2, 31, 6}, 5);
        check_matmul(ctx, 3, (int64_t[]){2, 6, 31}, 1, (int64_t[]){31}, 6);
        /* many small batches (threads take whole batches) */
        check_matmul(ctx, 3, (int64_t[]){24, 5, 7}, 3,
                     (int64_t[]){24, 7, 3}, 7);
        /* one large batch pair (each threaded) */
        check_matmul(ctx, 3, (int64_t[]){2, 150, 90}, 3,
                     (int64_t[]){2, 90, 170}, 8);
        /* empty batch */
        check_matmul(ctx, 3, (int64_t[]){0, 5, 7}, 2, (int64_t[]){7, 3}, 9);
        seqk_context_destroy(ctx);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu_gemm");
    TCase *tc = tcase_create("cpu_gemm");
    int nd = tu_device_count();
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, ukernel_edge_tiles, 0, nd);
    tcase_add_loop_test(tc, packing_layouts, 0, nd);
    tcase_add_loop_test(tc, problem_edge_shapes, 0, nd);
    tcase_add_loop_test(tc, problem_small_blocks, 0, nd);
    tcase_add_loop_test(tc, problem_degenerate, 0, nd);
    tcase_add_loop_test(tc, problem_threads, 0, nd);
    tcase_add_loop_test(tc, driver_entry_points, 0, nd);
    tcase_add_loop_test(tc, small_kernels_direct, 0, nd);
    tcase_add_loop_test(tc, small_path_problems, 0, nd);
    tcase_add_loop_test(tc, cached_linear_paths, 0, nd);
    tcase_add_loop_test(tc, conv_items_threads, 0, nd);
    tcase_add_loop_test(tc, api_gemm, 0, nd);
    tcase_add_loop_test(tc, api_matmul_broadcast, 0, nd);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
