/*
 * check_elementwise.c — the element-wise and ArgMax kernels of each ISA
 * (src/cpu_simd/elementwise.h) against scalar C: every op, every
 * (a_inc, b_inc) pair, lengths around the vector widths (1, 3..5, 7..9,
 * 15..17, primes, 1000) with guard zones around y; ArgMax with ties, NaN
 * and inf in both index modes.  Add/Sub/Mul/Neg/Relu must be bit exact,
 * Div within half an ulp, Tanh/Sigmoid/Exp within 4 ulp of double.
 * Tanh, Sigmoid and Erf (inline, simd/fastmath.h; the RNN gates use the
 * same code) also over a sweep of the whole float range: within 2.5 ulp
 * (Tanh), 3.5 ulp (Sigmoid) and 2 ulp (Erf), results below the normal
 * range within 2^-126, NaN for NaN.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "checkkern.h"
#include "cpu_simd/elementwise.h"

static const int64_t lens[] = {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 61, 1000};
enum { NLENS = sizeof lens / sizeof lens[0] };

static double scalar(seqk_elementwise_op op, double a, double b)
{
    switch (op) {
    case SEQK_EW_ADD: return (float)a + (float)b;
    case SEQK_EW_SUB: return (float)a - (float)b;
    case SEQK_EW_MUL: return (float)a * (float)b;
    case SEQK_EW_DIV: return a / b;
    case SEQK_EW_TANH: return tanh(a);
    case SEQK_EW_SIGMOID: return 1.0 / (1.0 + exp(-a));
    case SEQK_EW_RELU: return a < 0 ? 0 : a;
    case SEQK_EW_EXP: return exp(a);
    case SEQK_EW_ERF: return erf(a);
    default: return -a;
    }
}

static double tol_of(seqk_elementwise_op op, double want)
{
    switch (op) {
    case SEQK_EW_DIV: return fabs(want) * CK_EPS * 0.5;
    case SEQK_EW_TANH:
    case SEQK_EW_SIGMOID:
    case SEQK_EW_EXP: return fabs(want) * CK_EPS * 4 + 1e-30;
    default: return 0;
    }
}

static void check_ops(const seqk_ew_kernels *k, int binary)
{
    static const seqk_elementwise_op bin[] = {SEQK_EW_ADD, SEQK_EW_SUB,
                                              SEQK_EW_MUL, SEQK_EW_DIV};
    static const seqk_elementwise_op un[] = {SEQK_EW_TANH, SEQK_EW_SIGMOID,
                                             SEQK_EW_RELU, SEQK_EW_EXP,
                                             SEQK_EW_NEG};
    const int nops = binary ? 4 : 5;
    char shape[96];
    double tol[1000];
    float want[1000];
    for (int o = 0; o < nops && !ck_failed(); o++)
        for (int l = 0; l < NLENS && !ck_failed(); l++)
            for (int kind = CK_EXACT; kind <= CK_RANDOM; kind++)
                for (int inc = 0; inc < (binary ? 3 : 1); inc++) {
                    const seqk_elementwise_op op = binary ? bin[o] : un[o];
                    const int64_t n = lens[l];
                    const int64_t ai = inc != 2, bi = inc != 1;
                    ck_rng r;
                    ck_rng_init(&r, (uint64_t)(o * 1000 + l * 10 + kind));
                    float *a = ck_alloc((size_t)n), *b = ck_alloc((size_t)n);
                    float *y = ck_alloc((size_t)n);
                    ck_fill(&r, a, (size_t)n, (ck_kind)kind);
                    ck_fill(&r, b, (size_t)n, (ck_kind)kind);
                    for (int64_t i = 0; i < n; i++)
                        if (b[i] == 0)
                            b[i] = 0.5f; /* Div: no 0/0 */
                    for (int64_t i = 0; i < n; i++) {
                        const double w = scalar(op, a[i * ai],
                                                binary ? b[i * bi] : 0);
                        want[i] = (float)w;
                        tol[i] = tol_of(op, w);
                    }
                    if (binary)
                        k->binary(op, n, a, ai, b, bi, y);
                    else
                        k->unary(op, n, 0, 0, a, y);
                    snprintf(shape, sizeof shape, "%s n=%lld incs %lld,%lld "
                             "(%s)", seqk_elementwise_name(op), (long long)n,
                             (long long)ai, (long long)bi,
                             ck_kind_names[kind]);
                    ck_compare("y", shape, y, want, tol, (size_t)n);
                    ck_guards(y, "y");
                    ck_free(a);
                    ck_free(b);
                    ck_free(y);
                }
}

/* Every 509th bit pattern (all exponents, signs, NaN, inf; 8.4 M values)
 * and the specials (past 2^32: 0, 2, -0, -2), in rows of 4096. */
static void check_sweep(const seqk_ew_kernels *k)
{
    static const seqk_elementwise_op ops[] = {SEQK_EW_TANH, SEQK_EW_SIGMOID,
                                              SEQK_EW_ERF};
    static const double bound[] = {2.5, 3.5, 2.0};
    enum { N = 4096 };
    float *x = ck_alloc(N), *y = ck_alloc(N);
    for (int o = 0; o < 3 && !ck_failed(); o++) {
        double worst = 0;
        float at = 0;
        for (uint64_t u = 0; u < ((uint64_t)1 << 32) + N * 509 &&
                             !ck_failed(); u += N * 509) {
            for (int i = 0; i < N; i++) {
                const uint64_t v = u + (uint64_t)i * 509;
                const uint32_t bits = v < ((uint64_t)1 << 32)
                                          ? (uint32_t)v
                                          : (uint32_t)(i & 3) << 30;
                memcpy(&x[i], &bits, sizeof bits);
            }
            x[0] = INFINITY;
            x[1] = -INFINITY;
            k->unary(ops[o], N, 0, 0, x, y);
            for (int i = 0; i < N; i++) {
                const double w = scalar(ops[o], x[i], 0);
                if (isnan(x[i]) ? !isnan(y[i])
                    : fabs(w) < 0x1p-126 ? !(fabs(y[i] - w) <= 0x1p-126)
                                         : 0) {
                    ck_fail("%s(%a) = %a, want %a",
                            seqk_elementwise_name(ops[o]), x[i], y[i], w);
                    break;
                }
                if (isnan(x[i]) || fabs(w) < 0x1p-126)
                    continue;
                const float fw = (float)fabs(w);
                const double ulp = nextafterf(fw, INFINITY) - fw;
                const double e = fabs(y[i] - w) / ulp;
                if (!(e <= worst)) {
                    worst = e;
                    at = x[i];
                }
            }
        }
        if (!(worst <= bound[o]))
            ck_fail("%s: %.2f ulp at %a", seqk_elementwise_name(ops[o]),
                    worst, at);
    }
    ck_guards(x, "x");
    ck_guards(y, "y");
    ck_free(x);
    ck_free(y);
}

static int greater(float a, float b)
{
    if (isnan(a))
        return !isnan(b);
    return !isnan(b) && a > b;
}

static void check_argmax(const seqk_ew_kernels *k)
{
    for (int l = 0; l < NLENS && !ck_failed(); l++)
        for (int v = 0; v < 8 && !ck_failed(); v++) {
            const int64_t n = lens[l];
            const int last = v & 1, special = v >> 1; /* 0, 1 NaN, 2 inf, 3 ties */
            ck_rng r;
            ck_rng_init(&r, (uint64_t)(l * 8 + v + 500));
            float *x = ck_alloc((size_t)n);
            ck_fill(&r, x, (size_t)n, CK_EXACT);
            if (special == 1)
                x[ck_int(&r, 0, (int)n - 1)] = NAN;
            if (special == 2)
                x[ck_int(&r, 0, (int)n - 1)] = INFINITY;
            if (special == 3)
                for (int64_t i = 0; i < n; i++)
                    x[i] = x[i] > 0 ? 1.0f : 0.0f;
            int64_t want = 0;
            for (int64_t i = 1; i < n; i++)
                if (greater(x[i], x[want]) ||
                    (last && !greater(x[want], x[i])))
                    want = i;
            const int64_t got = k->argmax(n, x, last);
            if (got != want)
                ck_fail("argmax n=%lld last=%d case %d: got %lld want %lld",
                        (long long)n, last, special, (long long)got,
                        (long long)want);
            ck_guards(x, "x");
            ck_free(x);
        }
}

typedef struct { const seqk_ew_kernels *k; float *a, *b, *y; } bench_args;

static void run_add(void *p)
{
    bench_args *b = p;
    b->k->binary(SEQK_EW_ADD, 4096, b->a, 1, b->b, 1, b->y);
}

static void run_sigmoid(void *p)
{
    bench_args *b = p;
    b->k->unary(SEQK_EW_SIGMOID, 4096, 0, 0, b->a, b->y);
}

static void run_argmax(void *p)
{
    bench_args *b = p;
    b->y[0] = (float)b->k->argmax(4096, b->a, 0);
}

void check_elementwise(const seqk_cpu_isa *isa)
{
    const seqk_ew_kernels *k = isa->ew;
    const char *entries[] = {"ew.binary", "ew.unary", "ew.argmax"};
    void (*runs[])(void *) = {run_add, run_sigmoid, run_argmax};
    const char *shapes[] = {"Add n=4096", "Sigmoid n=4096", "n=4096"};
    for (int e = 0; e < 3; e++) {
        if (!ck_want(entries[e]))
            continue;
        if (e < 2)
            check_ops(k, e == 0);
        if (e == 1 && !ck_failed())
            check_sweep(k);
        else
            check_argmax(k);
        if (ck_bench_on()) {
            ck_rng r;
            ck_rng_init(&r, 21);
            bench_args b = {k, ck_alloc(4096), ck_alloc(4096), ck_alloc(4096)};
            ck_fill(&r, b.a, 4096, CK_RANDOM);
            ck_fill(&r, b.b, 4096, CK_RANDOM);
            /* bytes moved: a, b and y; x and y; x */
            const double bytes[] = {4096 * 12.0, 4096 * 8.0, 4096 * 4.0};
            ck_bench(shapes[e], runs[e], &b, 0, bytes[e]);
            ck_free(b.a);
            ck_free(b.b);
            ck_free(b.y);
        }
        ck_done();
    }
}
