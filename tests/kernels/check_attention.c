/*
 * check_attention.c — the attention table (src/cpu_simd/attention.h):
 * K^T packing, the score tiles, the online-softmax row, the context tile,
 * Softmax and the SeqAttention pieces.
 *
 * Layouts as the contract draws them; every 2-D output here has a row
 * stride a little wider than its rows, and the gap must stay untouched:
 *
 *   s    [m][lds]    lds = npanels*nr + 5  (scores_packed), n + 3 (rows)
 *   acc  [m][ldacc]  ldacc = dv rounded up to vec; dv.. is scratch
 *   kp   [npanels][dh][nr]                  (pack_k: one panel)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkkern.h"
#include "cpu_simd/attention.h"

static const int64_t NS[] = {1, 2, 7, 13, 31, 61, 64, 200};
static const int64_t DHS[] = {1, 7, 13, 16, 61, 64};
enum { NN = sizeof NS / sizeof NS[0], NDH = sizeof DHS / sizeof DHS[0] };

static double *tols(size_t n, double v)
{
    double *t = malloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++)
        t[i] = v;
    return t;
}

/* CK_LANES: p[first + j], j < n, hold the results of equal inputs
 * and must agree bitwise within each vector.  Where a kernel's vector body
 * ends and a scalar tail (with its own exp) begins is its own business, so
 * the check compares aligned groups of 4 (NEON's width; the x86 vectors
 * are multiples of it), which never straddle that boundary. */
static void same_lanes(const char *what, const char *shape, const float *p,
                       int64_t first, int64_t n)
{
    for (int64_t j0 = 0; j0 < n; j0 += 4) {
        size_t idx[4];
        const int64_t m = n - j0 < 4 ? n - j0 : 4;
        for (int64_t j = 0; j < m; j++)
            idx[j] = (size_t)(first + j0 + j);
        ck_same(what, shape, p, idx, (size_t)m);
    }
}

static void check_pack_k(const seqk_attn_kernels *k)
{
    ck_rng r;
    ck_rng_init(&r, 10);
    const int64_t ns[] = {1, k->nr - 1, k->nr};
    for (int in = 0; in < 3; in++)
        for (int id = 0; id < NDH && !ck_failed(); id++) {
            const int64_t n = ns[in], dh = DHS[id], ks = dh + 2;
            float *src = ck_alloc((size_t)(n * ks));
            float *kp = ck_alloc((size_t)(dh * k->nr));
            float *want = ck_alloc((size_t)(dh * k->nr));
            ck_fill(&r, src, (size_t)(n * ks), CK_RANDOM);
            for (int64_t d = 0; d < dh; d++)
                for (int64_t j = 0; j < k->nr; j++)
                    want[d * k->nr + j] = j < n ? src[j * ks + d] : 0.0f;
            k->pack_k(n, dh, src, ks, kp);
            char shape[64];
            snprintf(shape, sizeof shape, "n=%lld dh=%lld", (long long)n,
                     (long long)dh);
            ck_compare1("kp", shape, kp, want, 0.0, (size_t)(dh * k->nr));
            ck_guards(kp, "kp");
            ck_free(src);
            ck_free(kp);
            ck_free(want);
        }
}

/* Both score kernels: packed (npanels > 0) or rows (n keys). */
static void check_scores(const seqk_attn_kernels *k, int packed)
{
    ck_rng r;
    ck_rng_init(&r, packed ? 11 : 12);
    const int64_t pans[] = {1, 2, 3};
    for (int kind = CK_EXACT; kind <= CK_RANDOM; kind++)
        for (int m = 1; m <= k->mr; m++)
            for (int ip = 0; ip < (packed ? 3 : NN); ip++)
                for (int id = 0; id < NDH && !ck_failed(); id++) {
                    const int64_t dh = DHS[id], qs = dh + 3;
                    const int64_t n = packed ? pans[ip] * k->nr : NS[ip];
                    const int64_t lds = n + (packed ? 5 : 3);
                    const int64_t ks = dh + 1; /* rows: K unpacked */
                    const size_t nk = (size_t)(packed ? n * dh : n * ks);
                    float *q = ck_alloc((size_t)(m * qs));
                    float *kk = ck_alloc(nk);
                    float *s = ck_alloc((size_t)(m * lds));
                    float *want = ck_alloc((size_t)(m * lds));
                    double *tol = tols((size_t)(m * lds), 0.0);
                    ck_fill(&r, q, (size_t)(m * qs), (ck_kind)kind);
                    ck_fill(&r, kk, nk, (ck_kind)kind);
                    ck_fill(&r, s, (size_t)(m * lds), (ck_kind)kind);
                    memcpy(want, s, sizeof(float) * (size_t)(m * lds));
                    for (int i = 0; i < m; i++)
                        for (int64_t j = 0; j < n; j++) {
                            double sum = 0, mag = 0;
                            for (int64_t d = 0; d < dh; d++) {
                                const float kv =
                                    packed ? kk[((j / k->nr) * dh + d) * k->nr +
                                                j % k->nr]
                                           : kk[j * ks + d];
                                const double t = (double)q[i * qs + d] * kv;
                                sum += t;
                                mag += fabs(t);
                            }
                            want[i * lds + j] = (float)sum;
                            if (kind != CK_EXACT)
                                tol[i * lds + j] =
                                    CK_EPS *
                                    (fabs(sum) + (double)(dh + 1) * mag);
                        }
                    if (packed)
                        k->scores_packed(m, n / k->nr, dh, q, qs, kk, s, lds);
                    else
                        k->scores_rows(m, n, dh, q, qs, kk, ks, s, lds);
                    char shape[80];
                    snprintf(shape, sizeof shape, "%s m=%d n=%lld dh=%lld",
                             ck_kind_names[kind], m, (long long)n,
                             (long long)dh);
                    ck_compare("s", shape, s, want, tol, (size_t)(m * lds));
                    ck_guards(s, "s");
                    ck_free(q);
                    ck_free(kk);
                    ck_free(s);
                    ck_free(want);
                    free(tol);
                }
}

/* The online-softmax row, against the contract in double. */
static void check_online_softmax(const seqk_attn_kernels *k)
{
    ck_rng r;
    ck_rng_init(&r, 13);
    const float scales[] = {0.25f, 1.0f, -0.5f};
    for (int kind = CK_EXACT; kind < CK_KINDS; kind++)
        for (int in = 0; in < NN; in++)
            for (int variant = 0; variant < 6 && !ck_failed(); variant++) {
                /* variant: bit 0 bias (with -inf keys), bit 1 softcap,
                 * 4/5: a running max/sum from an earlier block */
                const int64_t n = NS[in], n_pad = n + (n % 8 ? 8 - n % 8 : 0);
                const int use_bias = variant & 1 && kind != CK_LANES;
                const float softcap = variant & 2 ? 2.0f : 0.0f;
                const float scale = scales[(in + variant) % 3];
                const int earlier = variant >= 4;
                float *s = ck_alloc((size_t)n_pad);
                float *bias = ck_alloc((size_t)n);
                float *want = ck_alloc((size_t)n_pad);
                double *tol = tols((size_t)n_pad, 0.0);
                const float c0 = ck_value(&r, (ck_kind)kind);
                for (int64_t j = 0; j < n; j++)
                    s[j] =
                        kind == CK_LANES ? c0 : ck_value(&r, (ck_kind)kind) * 4;
                for (int64_t j = n; j < n_pad; j++)
                    s[j] = 7.0f; /* padding: must become 0 */
                for (int64_t j = 0; j < n; j++)
                    bias[j] = ck_int(&r, 0, 5) == 0 ? -INFINITY
                                                    : ck_value(&r, CK_EXACT);
                if (variant == 1 && n <= 2) /* every key excluded */
                    for (int64_t j = 0; j < n; j++)
                        bias[j] = -INFINITY;
                float mx = earlier ? 1.5f : -INFINITY;
                float sum = earlier ? 3.25f : 0.0f;
                /* x in double; the max as the kernel's floats see it */
                double *x = malloc(sizeof(double) * (size_t)n);
                float m_new = mx;
                for (int64_t j = 0; j < n; j++) {
                    double v = (double)scale * s[j];
                    if (softcap > 0)
                        v = softcap * tanh(v / softcap);
                    if (use_bias)
                        v += bias[j];
                    x[j] = v;
                    if ((float)v > m_new)
                        m_new = (float)v;
                }
                double want_sum = sum, want_corr = 1.0, sum_tol = 0;
                if (m_new == -INFINITY) {
                    for (int64_t j = 0; j < n_pad; j++)
                        want[j] = 0.0f;
                } else {
                    want_corr = exp((double)mx - m_new);
                    want_sum = sum * want_corr;
                    /* x's own error (scale, softcap) moves exp's argument */
                    const double ex = softcap > 0 ? 8 * CK_EPS * softcap : 0;
                    for (int64_t j = 0; j < n_pad; j++) {
                        const double e = j < n ? exp(x[j] - m_new) : 0.0;
                        want[j] = (float)e;
                        want_sum += e;
                        tol[j] =
                            e == 0.0
                                ? 0.0
                                : e * (8 * CK_EPS + ex +
                                       2 * CK_EPS * (fabs(x[j]) + fabs(m_new)));
                        sum_tol += tol[j] + CK_EPS * (double)n * e;
                        if (j >= n)
                            tol[j] = 0.0;
                    }
                    sum_tol += 8 * CK_EPS * want_sum;
                }
                const float corr =
                    k->online_softmax_row(n, n_pad, scale, softcap,
                                          use_bias ? bias : NULL, s, &mx, &sum);
                char shape[192];
                snprintf(shape, sizeof shape,
                         "%s n=%lld n_pad=%lld scale=%g softcap=%g bias=%d "
                         "earlier=%d",
                         ck_kind_names[kind], (long long)n, (long long)n_pad,
                         (double)scale, (double)softcap, use_bias, earlier);
                ck_compare("s", shape, s, want, tol, (size_t)n_pad);
                if (kind == CK_LANES)
                    same_lanes("s", shape, s, 0, n);
                /* the max is exact unless softcap's tanh rounds it */
                const double max_tol =
                    softcap > 0 && m_new != -INFINITY
                        ? 8 * CK_EPS * (fabs(m_new) + softcap)
                        : 0.0;
                const float wmax = m_new, wsum = (float)want_sum;
                ck_compare1("max", shape, &mx, &wmax, max_tol, 1);
                ck_compare1("sum", shape, &sum, &wsum,
                            m_new == -INFINITY ? 0.0 : sum_tol, 1);
                const float wcorr = (float)want_corr;
                ck_compare1("corr", shape, &corr, &wcorr,
                            want_corr * (8 * CK_EPS + 2 * max_tol) + 1e-30, 1);
                ck_guards(s, "s");
                free(x);
                ck_free(s);
                ck_free(bias);
                ck_free(want);
                free(tol);
            }
}

static void check_context(const seqk_attn_kernels *k)
{
    ck_rng r;
    ck_rng_init(&r, 14);
    const int64_t dvs[] = {1, 7, 8, 13, 16, 17, 64, 65};
    for (int kind = CK_EXACT; kind <= CK_RANDOM; kind++)
        for (int m = 1; m <= k->mr; m++)
            for (int in = 0; in < NN - 1; in++)
                for (size_t id = 0; id < sizeof dvs / sizeof dvs[0]; id++) {
                    if (ck_failed())
                        return;
                    const int64_t n = NS[in], dv = dvs[id];
                    const int64_t ldp = n + 2, vs = dv + 1;
                    const int64_t ldacc = (dv + k->vec - 1) / k->vec * k->vec;
                    const size_t nacc = (size_t)(m * ldacc);
                    float *p = ck_alloc((size_t)(m * ldp));
                    float *v = ck_alloc((size_t)(n * vs));
                    float corr[32];
                    float *acc = ck_alloc(nacc), *want = ck_alloc(nacc);
                    double *tol = tols(nacc, 0.0);
                    ck_fill(&r, p, (size_t)(m * ldp), (ck_kind)kind);
                    ck_fill(&r, v, (size_t)(n * vs), (ck_kind)kind);
                    ck_fill(&r, corr, (size_t)m, CK_EXACT);
                    ck_fill(&r, acc, nacc, (ck_kind)kind);
                    for (int i = 0; i < m; i++)
                        for (int64_t d = 0; d < ldacc; d++) {
                            const size_t o = (size_t)(i * ldacc + d);
                            if (d >= dv) {
                                tol[o] = -1; /* scratch */
                                continue;
                            }
                            double s = (double)corr[i] * acc[o];
                            double mag = fabs(s);
                            for (int64_t j = 0; j < n; j++) {
                                const double t =
                                    (double)p[i * ldp + j] * v[j * vs + d];
                                s += t;
                                mag += fabs(t);
                            }
                            want[o] = (float)s;
                            if (kind != CK_EXACT)
                                tol[o] =
                                    CK_EPS * (fabs(s) + (double)(n + 2) * mag);
                        }
                    k->context(m, n, dv, p, ldp, v, vs, corr, acc, ldacc);
                    char shape[80];
                    snprintf(shape, sizeof shape, "%s m=%d n=%lld dv=%lld",
                             ck_kind_names[kind], m, (long long)n,
                             (long long)dv);
                    ck_compare("acc", shape, acc, want, tol, nacc);
                    ck_guards(acc, "acc");
                    ck_free(p);
                    ck_free(v);
                    ck_free(acc);
                    ck_free(want);
                    free(tol);
                }
}

static void check_softmax(const seqk_attn_kernels *k)
{
    ck_rng r;
    ck_rng_init(&r, 15);
    const int64_t inners[] = {1, 2, 7, 13, 33};
    for (int kind = CK_EXACT; kind < CK_KINDS; kind++)
        for (int in = 0; in < NN; in++)
            for (size_t ii = 0; ii < sizeof inners / sizeof inners[0]; ii++)
                for (int sub = 0; sub < 2; sub++)
                    for (int inplace = 0; inplace < 2 && !ck_failed();
                         inplace++) {
                        const int64_t n = NS[in], inner = inners[ii];
                        const int64_t c0 = sub && inner > 2 ? 1 : 0;
                        const int64_t c1 = sub && inner > 2 ? inner - 1 : inner;
                        const size_t nx = (size_t)(n * inner);
                        float *x = ck_alloc(nx), *y = ck_alloc(nx);
                        float *want = ck_alloc(nx);
                        double *tol = tols(nx, 0.0);
                        for (int64_t i = 0; i < n; i++) {
                            const float xi = ck_value(&r, (ck_kind)kind) * 8;
                            for (int64_t c = 0; c < inner; c++)
                                x[i * inner + c] =
                                    kind == CK_LANES
                                        ? (inner == 1 ? 0.5f : xi)
                                        : ck_value(&r, (ck_kind)kind) * 8;
                        }
                        if (inplace)
                            memcpy(y, x, nx * sizeof *x);
                        else
                            ck_fill(&r, y, nx, CK_EXACT);
                        memcpy(want, y, nx * sizeof *y);
                        for (int64_t c = c0; c < c1; c++) {
                            double mx = -INFINITY, sum = 0;
                            for (int64_t i = 0; i < n; i++)
                                mx = fmax(mx, x[i * inner + c]);
                            for (int64_t i = 0; i < n; i++)
                                sum += exp(x[i * inner + c] - mx);
                            for (int64_t i = 0; i < n; i++) {
                                const size_t o = (size_t)(i * inner + c);
                                const double w = exp(x[o] - mx) / sum;
                                want[o] = (float)w;
                                tol[o] = CK_EPS * w *
                                         (12 + (double)n + 2 * fabs(x[o] - mx));
                            }
                        }
                        k->softmax(n, inner, c0, c1, inplace ? y : x, y);
                        char shape[96];
                        snprintf(shape, sizeof shape,
                                 "%s n=%lld inner=%lld cols=%lld..%lld%s",
                                 ck_kind_names[kind], (long long)n,
                                 (long long)inner, (long long)c0, (long long)c1,
                                 inplace ? " in place" : "");
                        ck_compare("y", shape, y, want, tol, nx);
                        /* columns alike (one column: its rows) */
                        if (kind == CK_LANES && inner == 1)
                            same_lanes("y", shape, y, 0, n);
                        for (int64_t i = 0;
                             i < n && kind == CK_LANES && inner > 1; i++)
                            same_lanes("y", shape, y, i * inner + c0, c1 - c0);
                        ck_guards(y, "y");
                        ck_free(x);
                        ck_free(y);
                        ck_free(want);
                        free(tol);
                    }
}

/* dot, additive_score and weighted_rows */
static void check_seq_pieces(const seqk_attn_kernels *k, int which)
{
    ck_rng r;
    ck_rng_init(&r, 16 + (uint64_t)which);
    const int64_t dvs[] = {1, 7, 8, 9, 13, 16, 17, 64, 65};
    for (int kind = CK_EXACT; kind <= CK_RANDOM; kind++)
        for (int in = -1; in < NN; in++)
            for (size_t id = 0;
                 id < (which == 2 ? sizeof dvs / sizeof dvs[0] : 1) &&
                 !ck_failed();
                 id++) {
                const int64_t n = in < 0 ? (which == 2 ? 0 : 1000) : NS[in];
                const int64_t dv = dvs[id], xs = dv + 2;
                char shape[64];
                snprintf(shape, sizeof shape, "%s n=%lld dv=%lld",
                         ck_kind_names[kind], (long long)n,
                         (long long)(which == 2 ? dv : 0));
                const size_t na = (size_t)(n > 0 ? n : 1);
                float *a = ck_alloc(na), *b = ck_alloc(na), *c = ck_alloc(na);
                ck_fill(&r, a, na, (ck_kind)kind);
                ck_fill(&r, b, na, (ck_kind)kind);
                ck_fill(&r, c, na, (ck_kind)kind);
                if (which == 0) {
                    double s = 0, mag = 0;
                    for (int64_t j = 0; j < n; j++) {
                        s += (double)a[j] * b[j];
                        mag += fabs((double)a[j] * b[j]);
                    }
                    const float got = k->dot(n, a, b), want = (float)s;
                    ck_compare1("dot", shape, &got, &want,
                                kind == CK_EXACT
                                    ? 0.0
                                    : CK_EPS *
                                          (fabs(s) + (double)(n + 1) * mag),
                                1);
                } else if (which == 1) {
                    double s = 0, mag = 0;
                    for (int64_t j = 0; j < n; j++) {
                        const double t = c[j] * tanh((double)a[j] + b[j]);
                        s += t;
                        mag += fabs(c[j]) * (fabs(t) + 2 * fabs(a[j] + b[j]));
                    }
                    const float got = k->additive_score(n, a, b, c);
                    const float want = (float)s;
                    ck_compare1("score", shape, &got, &want,
                                CK_EPS * (fabs(s) + (double)(n + 8) * mag), 1);
                    /* the keyed step's, tanh at 3.5 ULP */
                    const float got35 = k->additive_score_u35(n, a, b, c);
                    ck_compare1("score_u35", shape, &got35, &want,
                                CK_EPS * (fabs(s) + (double)(n + 8) * mag), 1);
                } else {
                    float *x = ck_alloc((size_t)(n * xs + 1));
                    float *y = ck_alloc((size_t)dv),
                          *want = ck_alloc((size_t)dv);
                    double *tol = tols((size_t)dv, 0.0);
                    ck_fill(&r, x, (size_t)(n * xs), (ck_kind)kind);
                    for (int64_t d = 0; d < dv; d++) {
                        double s = 0, mag = 0;
                        for (int64_t j = 0; j < n; j++) {
                            s += (double)a[j] * x[j * xs + d];
                            mag += fabs((double)a[j] * x[j * xs + d]);
                        }
                        want[d] = (float)s;
                        if (kind != CK_EXACT)
                            tol[d] = CK_EPS * (fabs(s) + (double)(n + 1) * mag);
                    }
                    k->weighted_rows(n, dv, a, x, xs, y);
                    ck_compare("y", shape, y, want, tol, (size_t)dv);
                    ck_guards(y, "y");
                    ck_free(x);
                    ck_free(y);
                    ck_free(want);
                    free(tol);
                }
                ck_free(a);
                ck_free(b);
                ck_free(c);
            }
}

/* ------------------------------------------------------------- bench */

typedef struct attn_bench {
    const seqk_attn_kernels *k;
    int64_t m, n, d;
    float *q, *kk, *s, *v, *corr, *acc, *x;
    float mx, sum;
} attn_bench;

static void run_pack_k(void *p)
{
    attn_bench *b = p;
    b->k->pack_k(b->k->nr, b->d, b->kk, b->d, b->s);
}

static void run_scores_packed(void *p)
{
    attn_bench *b = p;
    b->k->scores_packed(b->m, b->n / b->k->nr, b->d, b->q, b->d, b->kk, b->s,
                        b->n);
}

static void run_scores_rows(void *p)
{
    attn_bench *b = p;
    b->k->scores_rows(b->m, b->n, b->d, b->q, b->d, b->kk, b->d, b->s, b->n);
}

static void run_online(void *p)
{
    attn_bench *b = p;
    b->mx = -INFINITY;
    b->sum = 0;
    b->k->online_softmax_row(b->n, b->n, 0.125f, 0.0f, NULL, b->x, &b->mx,
                             &b->sum);
}

static void run_context(void *p)
{
    attn_bench *b = p;
    b->k->context(b->m, b->n, b->d, b->s, b->n, b->v, b->d, b->corr, b->acc,
                  b->d);
}

static void run_softmax(void *p)
{
    attn_bench *b = p;
    b->k->softmax(b->n, b->d, 0, b->d, b->x, b->x);
}

static void run_dot(void *p)
{
    attn_bench *b = p;
    b->mx = b->k->dot(b->n, b->q, b->kk);
}

static void run_additive(void *p)
{
    attn_bench *b = p;
    b->mx = b->k->additive_score(b->n, b->q, b->kk, b->v);
}

static void run_weighted(void *p)
{
    attn_bench *b = p;
    b->k->weighted_rows(b->n, b->d, b->q, b->v, b->d, b->acc);
}

void check_attention(const seqk_cpu_isa *isa)
{
    const seqk_attn_kernels *k = isa->attn;
    const int64_t n = 256, d = 64;
    attn_bench b = {.k = k, .m = k->mr, .n = n, .d = d};
    if (ck_want("attn.pack_k")) {
        check_pack_k(k);
        if (ck_bench_on()) {
            b.kk = ck_alloc((size_t)(n * d));
            b.s = ck_alloc((size_t)(k->nr * d));
            ck_fill(&(ck_rng){1}, b.kk, (size_t)(n * d), CK_RANDOM);
            ck_bench("n=nr dh=64", run_pack_k, &b, 0,
                     8.0 * (double)(k->nr * d));
            ck_free(b.kk);
            ck_free(b.s);
        }
        ck_done();
    }
    const char *entries[] = {
        "attn.scores_packed",  "attn.scores_rows",  "attn.online_softmax_row",
        "attn.context",        "attn.softmax",      "attn.dot",
        "attn.additive_score", "attn.weighted_rows"};
    void (*runs[])(void *) = {run_scores_packed, run_scores_rows, run_online,
                              run_context,       run_softmax,     run_dot,
                              run_additive,      run_weighted};
    const double flops[] = {2.0 * k->mr * n * d,
                            2.0 * k->mr * n * d,
                            4.0 * n,
                            2.0 * k->mr * n * d,
                            4.0 * n * d,
                            2.0 * n,
                            3.0 * n,
                            2.0 * n * d};
    const char *shapes[] = {"m=mr n=256 dh=64", "m=mr n=256 dh=64", "n=256",
                            "m=mr n=256 dv=64", "n=256 inner=64",   "n=256",
                            "na=256",           "n=256 dv=64"};
    for (int e = 0; e < 8; e++) {
        if (!ck_want(entries[e]))
            continue;
        switch (e) {
        case 0: check_scores(k, 1); break;
        case 1: check_scores(k, 0); break;
        case 2: check_online_softmax(k); break;
        case 3: check_context(k); break;
        case 4: check_softmax(k); break;
        default: check_seq_pieces(k, e - 5); break;
        }
        if (ck_bench_on()) {
            ck_rng r;
            ck_rng_init(&r, 20);
            const size_t big = (size_t)(n * d) + 64;
            float **bufs[] = {&b.q, &b.kk, &b.s, &b.v, &b.acc, &b.x};
            for (int i = 0; i < 6; i++) {
                *bufs[i] = ck_alloc(big);
                ck_fill(&r, *bufs[i], big, CK_RANDOM);
            }
            b.corr = ck_alloc(64);
            ck_fill(&r, b.corr, 64, CK_RANDOM);
            ck_bench(shapes[e], runs[e], &b, flops[e], 0);
            for (int i = 0; i < 6; i++)
                ck_free(*bufs[i]);
            ck_free(b.corr);
        }
        ck_done();
    }
}
