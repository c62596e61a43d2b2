/*
 * check_gemm.c — the GEMM table (src/cpu_simd/gemm.h): the register-tile
 * microkernel and the transposing panel pack.
 *
 *   ukernel   a[p*mr + i], b[p*nr + j] packed panels (64-byte aligned,
 *             zero-padded to mr / nr); c is m rows of ldc = n + gap:
 *
 *               c  [ m x n tile | gap ]   gap untouched
 *                  [      ...   | gap ]   rows >= m: past the buffer
 *
 *             c[i*ldc + j] = alpha * sum_p a[p*mr+i] b[p*nr+j]
 *                            + beta * c[i*ldc + j]   (beta 0: c is NaN)
 *   pack_t    dst[p*w + i] = src[i*ld + p] (i < rows), 0 (rows <= i < w)
 *   gemv, skinny   x rows times one packed panel (check_gemv, check_skinny)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkkern.h"
#include "core/bf16.h"
#include "cpu_simd/gemm.h"
#include "cpu_simd/rnn.h"

static const int64_t KCS[] = {1, 2, 7, 13, 31, 61, 256};
enum { NKC = sizeof KCS / sizeof KCS[0] };

static void check_ukernel(const seqk_gemm_kernels *k)
{
    const int mr = k->mr, nr = k->nr;
    const float betas[] = {0.0f, 1.0f, -0.5f};
    const int64_t kmax = KCS[NKC - 1];
    int ns[] = {1, 2, 7, 13, nr / 2 + 1, nr - 1, nr};
    ck_rng r;
    ck_rng_init(&r, 1);
    float *a = ck_alloc((size_t)(kmax * mr));
    float *b = ck_alloc((size_t)(kmax * nr));
    for (int kind = CK_EXACT; kind <= CK_RANDOM; kind++)
        for (int ik = 0; ik < NKC; ik++)
            for (int m = 1; m <= mr; m++)
                for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++)
                    for (int ib = 0; ib < 3; ib++) {
                        const int n = ns[in];
                        if (n > nr || (in > 0 && n == ns[in - 1]))
                            continue;
                        const int64_t kc = KCS[ik], ldc = n + 3;
                        const float alpha = ib == 1 ? 1.0f : 1.5f;
                        const float beta = betas[ib];
                        ck_fill(&r, a, (size_t)(kc * mr), (ck_kind)kind);
                        ck_fill(&r, b, (size_t)(kc * nr), (ck_kind)kind);
                        const size_t nc = (size_t)(m * ldc);
                        float *c = ck_alloc(nc), *want = ck_alloc(nc);
                        double *tol = calloc(nc, sizeof *tol);
                        ck_fill(&r, c, nc, (ck_kind)kind);
                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < n && beta == 0.0f; j++)
                                c[i * ldc + j] = NAN;
                        memcpy(want, c, nc * sizeof *c);
                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < n; j++) {
                                double s = 0, mag = 0;
                                for (int64_t p = 0; p < kc; p++) {
                                    const double t =
                                        (double)a[p * mr + i] * b[p * nr + j];
                                    s += t;
                                    mag += fabs(t);
                                }
                                const double c0 =
                                    beta != 0.0f ? c[i * ldc + j] : 0.0;
                                const double w = alpha * s + beta * c0;
                                want[i * ldc + j] = (float)w;
                                tol[i * ldc + j] =
                                    kind == CK_EXACT
                                        ? 0.0
                                        : CK_EPS * (2 * fabs(w) +
                                                    (double)(kc + 2) *
                                                        (alpha * mag +
                                                         fabs(beta * c0)));
                            }
                        k->ukernel(kc, a, b, c, ldc, m, n, alpha, beta);
                        char shape[96];
                        snprintf(shape, sizeof shape,
                                 "%s m=%d n=%d kc=%lld alpha=%g beta=%g",
                                 ck_kind_names[kind], m, n, (long long)kc,
                                 (double)alpha, (double)beta);
                        ck_compare("c", shape, c, want, tol, nc);
                        ck_guards(c, "c");
                        ck_free(c);
                        ck_free(want);
                        free(tol);
                        if (ck_failed())
                            goto done;
                    }
done:
    ck_free(a);
    ck_free(b);
}

static void check_pack_t(const seqk_gemm_kernels *k)
{
    const int ws[] = {k->mr, k->nr};
    ck_rng r;
    ck_rng_init(&r, 2);
    for (int iw = 0; iw < 2; iw++)
        for (int ik = 0; ik < NKC; ik++)
            for (int dr = 2; dr >= 0; dr--)
                for (int next = 0; next <= 1; next++) {
                    const int w = ws[iw];
                    const int64_t kk = KCS[ik], rows = w - dr;
                    if (rows < 1)
                        continue;
                    const int64_t ld = kk + 5, next_rows = next ? w : 0;
                    const size_t nsrc = (size_t)((rows + next_rows) * ld);
                    float *src = ck_alloc(nsrc);
                    float *dst = ck_alloc((size_t)(kk * w));
                    float *want = ck_alloc((size_t)(kk * w));
                    ck_fill(&r, src, nsrc, CK_RANDOM);
                    for (int64_t p = 0; p < kk; p++)
                        for (int64_t i = 0; i < w; i++)
                            want[p * w + i] = i < rows ? src[i * ld + p] : 0.0f;
                    k->pack_t(kk, rows, w, src, ld, dst, next_rows);
                    char shape[80];
                    snprintf(shape, sizeof shape,
                             "k=%lld rows=%lld w=%d next_rows=%lld",
                             (long long)kk, (long long)rows, w,
                             (long long)next_rows);
                    ck_compare1("dst", shape, dst, want, 0.0, (size_t)(kk * w));
                    ck_guards(dst, "dst");
                    ck_free(src);
                    ck_free(dst);
                    ck_free(want);
                    if (ck_failed())
                        return;
                }
}

/* ------------------------------------------------------------- bench */

typedef struct ukernel_bench {
    const seqk_gemm_kernels *k;
    int64_t kc;
    float *a, *b, *c;
} ukernel_bench;

static void run_ukernel(void *p)
{
    ukernel_bench *u = p;
    u->k->ukernel(u->kc, u->a, u->b, u->c, u->k->nr, u->k->mr, u->k->nr, 1.0f,
                  1.0f);
}

/* gemv: x rows [m][k] (ldx = k + 3), one packed panel [k][nr], y rows
 * [m][n] (ldy = n + 2, the gap untouched), for m = 1..SEQK_GEMV_MAX_ROWS.
 * bf16: gemv_bf16 over the panel rounded to bf16 (core/bf16.h), against
 * the same sum over the rounded values (bit for bit on exact inputs). */
static void check_gemv(const seqk_gemm_kernels *k, int bf16, int V)
{
    const int nr = k->nr;
    const int64_t ks[] = {0, 1, 2, 3, 5, 7, 13, 61, 256};
    int ns[] = {1, 2, 7, nr / 2 + 1, nr - 1, nr};
    ck_rng r;
    ck_rng_init(&r, 5);
    for (int kind = CK_EXACT; kind <= CK_RANDOM; kind++)
        for (size_t ik = 0; ik < sizeof ks / sizeof ks[0]; ik++)
            for (int m = 1; m <= SEQK_GEMV_MAX_ROWS; m++)
                for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++) {
                    const int64_t kk = ks[ik], ldx = kk + 3;
                    const int n = ns[in], ldy = n + 2;
                    const float alpha = kind == CK_EXACT ? 1.0f : 1.5f;
                    float *x = ck_alloc((size_t)(m * ldx));
                    float *b = ck_alloc((size_t)((kk > 0 ? kk : 1) * nr));
                    float *y = ck_alloc((size_t)(m * ldy));
                    float *want = ck_alloc((size_t)(m * ldy));
                    double *tol = calloc((size_t)(m * ldy), sizeof *tol);
                    ck_fill(&r, x, (size_t)(m * ldx), (ck_kind)kind);
                    ck_fill(&r, b, (size_t)(kk * nr), (ck_kind)kind);
                    uint16_t *bh = NULL;
                    if (bf16) { /* the values the bf16 kernel sees */
                        bh = malloc(sizeof *bh * (size_t)(kk > 0 ? kk * nr
                                                                 : 1));
                        for (int64_t q = 0; q < kk * nr; q++)
                            b[q] = seqk__bf16_to_f32(seqk__bf16_from_f32(b[q]));
                        seqk__bf16_pack_rows(b, bh, kk, nr / V, V);
                    }
                    memcpy(want, y, sizeof(float) * (size_t)(m * ldy));
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            double s = 0, mag = 0;
                            for (int64_t p = 0; p < kk; p++) {
                                const double t =
                                    (double)x[i * ldx + p] * b[p * nr + j];
                                s += t;
                                mag += fabs(t);
                            }
                            want[i * ldy + j] = (float)(alpha * s);
                            tol[i * ldy + j] =
                                kind == CK_EXACT
                                    ? 0.0
                                    : CK_EPS * (2 * fabs(alpha * s) +
                                                (double)(kk + 2) * alpha * mag);
                        }
                    if (bf16)
                        k->gemv_bf16(m, n, kk, x, ldx, bh, y, ldy, alpha);
                    else
                        k->gemv(m, n, kk, x, ldx, b, y, ldy, alpha);
                    free(bh);
                    char shape[96];
                    snprintf(shape, sizeof shape, "%s%s m=%d n=%d k=%lld",
                             bf16 ? "bf16 " : "", ck_kind_names[kind], m, n,
                             (long long)kk);
                    ck_compare("y", shape, y, want, tol, (size_t)(m * ldy));
                    ck_guards(y, "y");
                    ck_free(x);
                    ck_free(b);
                    ck_free(y);
                    ck_free(want);
                    free(tol);
                    if (ck_failed())
                        return;
                }
}

/* skinny: x rows [m][k] (ldx = k + 3), two packed panels [k][nr] (the
 * second is only prefetched, when pf is set), y rows [m][n] (ldy = n + 2,
 * the gap untouched; add = 1 starts from random y), m = 1..33 */
static void check_skinny(const seqk_gemm_kernels *k)
{
    const int nr = k->nr;
    const int64_t ks[] = {0, 1, 2, 7, 13, 61, 256};
    int ns[] = {1, 2, 7, nr / 2 + 1, nr - 1, nr};
    ck_rng r;
    ck_rng_init(&r, 6);
    for (int kind = CK_EXACT; kind <= CK_RANDOM; kind++)
        for (size_t ik = 0; ik < sizeof ks / sizeof ks[0]; ik++)
            for (int m = 1; m <= 33; m++)
                for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++) {
                    const int64_t kk = ks[ik], ldx = kk + 3;
                    const int n = ns[in], ldy = n + 2;
                    const int add = (m + (int)in) % 2, pf = m % 3 == 0;
                    const float alpha = kind == CK_EXACT ? 1.0f : 1.5f;
                    const size_t nb = (size_t)((kk > 0 ? kk : 1) * nr);
                    float *x = ck_alloc((size_t)(m * ldx));
                    float *b = ck_alloc(2 * nb);
                    float *y = ck_alloc((size_t)(m * ldy));
                    float *want = ck_alloc((size_t)(m * ldy));
                    double *tol = calloc((size_t)(m * ldy), sizeof *tol);
                    ck_fill(&r, x, (size_t)(m * ldx), (ck_kind)kind);
                    ck_fill(&r, b, 2 * nb, (ck_kind)kind);
                    ck_fill(&r, y, (size_t)(m * ldy), (ck_kind)kind);
                    memcpy(want, y, sizeof(float) * (size_t)(m * ldy));
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            double s = 0, mag = 0;
                            for (int64_t p = 0; p < kk; p++) {
                                const double t =
                                    (double)x[i * ldx + p] * b[p * nr + j];
                                s += t;
                                mag += fabs(t);
                            }
                            const double y0 = add ? y[i * ldy + j] : 0.0;
                            want[i * ldy + j] = (float)(y0 + alpha * s);
                            tol[i * ldy + j] =
                                kind == CK_EXACT
                                    ? 0.0
                                    : CK_EPS * (2 * fabs(y0 + alpha * s) +
                                                fabs(y0) +
                                                (double)(kk + 2) * alpha * mag);
                        }
                    k->skinny(m, n, kk, x, ldx, b, y, ldy, alpha, add,
                              pf ? b + nb : NULL);
                    char shape[96];
                    snprintf(shape, sizeof shape,
                             "%s m=%d n=%d k=%lld add=%d pf=%d",
                             ck_kind_names[kind], m, n, (long long)kk, add,
                             pf);
                    ck_compare("y", shape, y, want, tol, (size_t)(m * ldy));
                    ck_guards(y, "y");
                    ck_free(x);
                    ck_free(b);
                    ck_free(y);
                    ck_free(want);
                    free(tol);
                    if (ck_failed())
                        return;
                }
}

typedef struct skinny_bench {
    const seqk_gemm_kernels *k;
    int64_t m, kk;
    float *x, *b, *y;
} skinny_bench;

static void run_skinny(void *p)
{
    skinny_bench *u = p;
    u->k->skinny(u->m, u->k->nr, u->kk, u->x, u->kk, u->b, u->y, u->k->nr,
                 1.0f, 0, NULL);
}

typedef struct gemv_bench {
    const seqk_gemm_kernels *k;
    int64_t kk;
    float *x, *b, *y;
} gemv_bench;

static void run_gemv(void *p)
{
    gemv_bench *u = p;
    u->k->gemv(1, u->k->nr, u->kk, u->x, u->kk, u->b, u->y, u->k->nr, 1.0f);
}

static void run_gemv_bf16(void *p) /* (the panel's values do not matter) */
{
    gemv_bench *u = p;
    u->k->gemv_bf16(1, u->k->nr, u->kk, u->x, u->kk, (const uint16_t *)u->b,
                    u->y, u->k->nr, 1.0f);
}

typedef struct pack_bench {
    const seqk_gemm_kernels *k;
    int64_t kc;
    float *src, *dst;
} pack_bench;

static void run_pack(void *p)
{
    pack_bench *u = p;
    u->k->pack_t(u->kc, u->k->mr, u->k->mr, u->src, u->kc, u->dst, 0);
}

void check_gemm(const seqk_cpu_isa *isa)
{
    const seqk_gemm_kernels *k = isa->gemm;
    const int64_t kc = 256;
    ck_rng r;
    ck_rng_init(&r, 3);
    char shape[64];
    if (ck_want("gemm.ukernel")) {
        check_ukernel(k);
        if (ck_bench_on()) {
            ukernel_bench u = {k, kc, ck_alloc((size_t)(kc * k->mr)),
                               ck_alloc((size_t)(kc * k->nr)),
                               ck_alloc((size_t)(k->mr * k->nr))};
            ck_fill(&r, u.a, (size_t)(kc * k->mr), CK_RANDOM);
            ck_fill(&r, u.b, (size_t)(kc * k->nr), CK_RANDOM);
            ck_fill(&r, u.c, (size_t)(k->mr * k->nr), CK_RANDOM);
            snprintf(shape, sizeof shape, "%dx%d kc=%lld", k->mr, k->nr,
                     (long long)kc);
            ck_bench(shape, run_ukernel, &u, 2.0 * k->mr * k->nr * kc, 0);
            ck_free(u.a);
            ck_free(u.b);
            ck_free(u.c);
        }
        ck_done();
    }
    if (k->gemv_bf16 && ck_want("gemm.gemv_bf16")) {
        check_gemv(k, 1, isa->rnn->vlen);
        if (ck_bench_on()) {
            /* the same panel as bf16: half the bytes per call */
            gemv_bench u = {k, 768, ck_alloc(768),
                            ck_alloc((size_t)(768 * k->nr)),
                            ck_alloc((size_t)k->nr)};
            ck_fill(&r, u.x, 768, CK_RANDOM);
            ck_fill(&r, u.b, (size_t)(768 * k->nr), CK_RANDOM);
            snprintf(shape, sizeof shape, "bf16 1x%d k=768", k->nr);
            ck_bench(shape, run_gemv_bf16, &u, 0, 2.0 * 768 * k->nr);
            ck_free(u.x);
            ck_free(u.b);
            ck_free(u.y);
        }
        ck_done();
    }
    if (k->gemv && ck_want("gemm.gemv")) {
        check_gemv(k, 0, 0);
        if (ck_bench_on()) {
            /* one panel of 768 rows (L1/L2): bytes of the panel per call */
            gemv_bench u = {k, 768, ck_alloc(768),
                            ck_alloc((size_t)(768 * k->nr)),
                            ck_alloc((size_t)k->nr)};
            ck_fill(&r, u.x, 768, CK_RANDOM);
            ck_fill(&r, u.b, (size_t)(768 * k->nr), CK_RANDOM);
            snprintf(shape, sizeof shape, "1x%d k=768", k->nr);
            ck_bench(shape, run_gemv, &u, 0, 4.0 * 768 * k->nr);
            ck_free(u.x);
            ck_free(u.b);
            ck_free(u.y);
        }
        ck_done();
    }
    if (k->skinny && ck_want("gemm.skinny")) {
        check_skinny(k);
        if (ck_bench_on())
            for (int64_t m = 8; m <= 16; m += 8) {
                /* one panel of 512 rows (L1/L2), as a decode step's
                 * linear layer reads it */
                skinny_bench u = {k, m, 512, ck_alloc((size_t)(m * 512)),
                                  ck_alloc((size_t)(512 * k->nr)),
                                  ck_alloc((size_t)(m * k->nr))};
                ck_fill(&r, u.x, (size_t)(m * 512), CK_RANDOM);
                ck_fill(&r, u.b, (size_t)(512 * k->nr), CK_RANDOM);
                snprintf(shape, sizeof shape, "%lldx%d k=512", (long long)m,
                         k->nr);
                ck_bench(shape, run_skinny, &u, 2.0 * m * k->nr * 512, 0);
                ck_free(u.x);
                ck_free(u.b);
                ck_free(u.y);
            }
        ck_done();
    }
    if (k->pack_t && ck_want("gemm.pack_t")) {
        check_pack_t(k);
        if (ck_bench_on()) {
            pack_bench u = {k, kc, ck_alloc((size_t)(kc * k->mr)),
                            ck_alloc((size_t)(kc * k->mr))};
            ck_fill(&r, u.src, (size_t)(kc * k->mr), CK_RANDOM);
            snprintf(shape, sizeof shape, "k=%lld w=%d", (long long)kc, k->mr);
            ck_bench(shape, run_pack, &u, 0, 8.0 * kc * k->mr);
            ck_free(u.src);
            ck_free(u.dst);
        }
        ck_done();
    }
}
