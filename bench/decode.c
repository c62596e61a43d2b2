/*
 * decode.c — the decode-step figures of issue 11 item 3, as ratios
 * measured in one run (bench/decode.sh builds and runs it; public API
 * only).  The machine is shared and noisy, so every comparison is
 * interleaved: round after round, each side timed back to back, and the
 * medians over rounds compared.
 *
 * 1. keyed SeqAttention: one step of seqk_seq_attention_keyed against the
 *    per-call seqk_seq_attention (additive and general), B=8 S=20 D=512.
 * 2. linear plan at batch 1: seqk_linear_forward against seqk_gemm (the
 *    per-call GEMM, transB) and against the read bandwidth of the same
 *    bytes: a SIMD sum over a buffer of the weights' size, split over the
 *    same number of threads the same way (each thread its contiguous
 *    share, every round), weights hot in L2/L3 as in a decode loop.
 *
 *   decode [device]      device: a seqk device spec (default "cpu")
 */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seqk.h"

#define ROUNDS 41

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

#define CHECK(ctx, expr)                                                    \
    do {                                                                    \
        seqk_status st_ = (expr);                                           \
        if (st_ != SEQK_OK) {                                               \
            fprintf(stderr, "%s: %s\n", #expr, seqk_last_error(ctx));       \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

static seqk_tensor *rand_tensor(seqk_context *ctx, int nd, const int64_t *d,
                                float scale, unsigned *seed)
{
    seqk_tensor *t;
    CHECK(ctx, seqk_tensor_create(ctx, nd, d, SEQK_F32, &t));
    size_t n = (size_t)seqk_tensor_numel(t);
    float *h = malloc(n * sizeof *h + 1);
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        h[i] = scale * ((float)(*seed >> 8) / 8388608.0f - 1.0f);
    }
    CHECK(ctx, seqk_tensor_write(t, h, n * sizeof *h));
    free(h);
    return t;
}

/* ms per call of fn over reps calls (after the context finishes them) */
typedef void (*call_fn)(void *);
static double time_calls(seqk_context *ctx, call_fn fn, void *arg, int reps)
{
    double t0 = now_ms();
    for (int i = 0; i < reps; i++)
        fn(arg);
    seqk_context_synchronize(ctx);
    return (now_ms() - t0) / reps;
}

/* ---------------------------------------------------------- attention */

typedef struct {
    seqk_context *ctx;
    seqk_seq_attention_params prm;
    seqk_seq_attention_inputs in;
    seqk_seq_attention_keys *keys;
    seqk_tensor *c, *w;
} attn;

static void per_call(void *a_)
{
    attn *a = a_;
    CHECK(a->ctx, seqk_seq_attention(a->ctx, &a->prm, &a->in, a->c, a->w));
}

static void keyed(void *a_)
{
    attn *a = a_;
    CHECK(a->ctx, seqk_seq_attention_keyed(a->ctx, a->keys, a->in.query,
                                           a->c, a->w));
}

static void bench_attention(seqk_context *ctx, seqk_score_kind kind)
{
    const int64_t B = 8, S = 20, D = 512;
    const int64_t dq[2] = {B, D}, dk[3] = {B, S, D}, dw[2] = {D, D};
    const int64_t dv[1] = {D}, dw2[2] = {B, S};
    unsigned seed = 7;
    attn a;
    memset(&a, 0, sizeof a);
    a.ctx = ctx;
    seqk_seq_attention_params_init(&a.prm);
    a.prm.score = kind;
    a.in.query = rand_tensor(ctx, 2, dq, 1, &seed);
    a.in.keys = rand_tensor(ctx, 3, dk, 1, &seed);
    a.in.values = rand_tensor(ctx, 3, dk, 1, &seed);
    if (kind == SEQK_SCORE_GENERAL) {
        a.in.W = rand_tensor(ctx, 2, dw, 0.05f, &seed);
    } else {
        a.in.W1 = rand_tensor(ctx, 2, dw, 0.05f, &seed);
        a.in.W2 = rand_tensor(ctx, 2, dw, 0.05f, &seed);
        a.in.v = rand_tensor(ctx, 1, dv, 0.05f, &seed);
    }
    CHECK(ctx, seqk_tensor_create(ctx, 2, dq, SEQK_F32, &a.c));
    CHECK(ctx, seqk_tensor_create(ctx, 2, dw2, SEQK_F32, &a.w));
    seqk_seq_attention_inputs kin = a.in;
    kin.query = NULL;
    CHECK(ctx, seqk_seq_attention_keys_create(ctx, &a.prm, &kin, &a.keys));

    double tp[ROUNDS], tk[ROUNDS];
    time_calls(ctx, per_call, &a, 5);
    time_calls(ctx, keyed, &a, 20);
    for (int r = 0; r < ROUNDS; r++) {
        tp[r] = time_calls(ctx, per_call, &a, 5);
        tk[r] = time_calls(ctx, keyed, &a, 20);
    }
    double mp = median(tp, ROUNDS), mk = median(tk, ROUNDS);
    printf("seqattn %-8s B=8 S=20 D=512  per-call %.4f ms  keyed %.4f ms  "
           "speedup %.1fx\n", seqk_score_name(kind), mp, mk, mp / mk);
    seqk_seq_attention_keys_destroy(a.keys);
    const seqk_tensor *ts[] = {a.in.query, a.in.keys, a.in.values, a.in.W,
                               a.in.W1, a.in.W2, a.in.v, a.c, a.w};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        seqk_tensor_destroy((seqk_tensor *)ts[i]);
}

/* -------------------------------------------------------------- linear */

typedef struct {
    const float *buf;
    size_t floats;   /* this thread's share */
    int reps;
    double ms;       /* per pass */
    float sink;
    pthread_barrier_t *start;
} reader;

/* A sum over the share, 4 independent AVX accumulators, reps times. */
__attribute__((target("avx2,fma"))) static void *read_loop(void *arg)
{
    reader *r = arg;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    pthread_barrier_wait(r->start);
    double t0 = now_ms();
    for (int rep = 0; rep < r->reps; rep++) {
        const float *p = r->buf;
        for (size_t i = 0; i + 32 <= r->floats; i += 32) {
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
            a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16));
            a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
        }
    }
    r->ms = (now_ms() - t0) / r->reps;
    float out[8];
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(a0, a1),
                                        _mm256_add_ps(a2, a3)));
    r->sink = out[0];
    return NULL;
}

/* ms per pass of `threads` threads reading floats floats (the slowest). */
static double read_pass(const float *buf, size_t floats, int threads,
                        int reps)
{
    pthread_t th[64];
    reader rd[64];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (int t = 0; t < threads; t++) {
        size_t share = floats / (size_t)threads;
        rd[t] = (reader){buf + (size_t)t * share, share, reps, 0, 0, &start};
        if (t > 0)
            pthread_create(&th[t], NULL, read_loop, &rd[t]);
    }
    read_loop(&rd[0]);
    double worst = rd[0].ms;
    for (int t = 1; t < threads; t++) {
        pthread_join(th[t], NULL);
        worst = rd[t].ms > worst ? rd[t].ms : worst;
    }
    pthread_barrier_destroy(&start);
    return worst;
}

typedef struct {
    seqk_context *ctx;
    seqk_linear *lin;
    seqk_gemm_params gp;
    seqk_tensor *x, *W, *b, *y;
} lin;

static void lin_fwd(void *l_)
{
    lin *l = l_;
    CHECK(l->ctx, seqk_linear_forward(l->lin, l->x, l->y));
}

static void lin_gemm(void *l_)
{
    lin *l = l_;
    CHECK(l->ctx, seqk_gemm(l->ctx, &l->gp, l->x, l->W, l->b, l->y));
}

static void bench_linear(seqk_context *ctx, int64_t N, int64_t K)
{
    const int threads = seqk_context_threads(ctx);
    const int64_t dx[2] = {1, K}, dw[2] = {N, K}, db[1] = {N}, dy[2] = {1, N};
    unsigned seed = 3;
    lin l;
    memset(&l, 0, sizeof l);
    l.ctx = ctx;
    l.x = rand_tensor(ctx, 2, dx, 1, &seed);
    l.W = rand_tensor(ctx, 2, dw, 0.05f, &seed);
    l.b = rand_tensor(ctx, 1, db, 1, &seed);
    CHECK(ctx, seqk_tensor_create(ctx, 2, dy, SEQK_F32, &l.y));
    seqk_linear_desc d;
    seqk_linear_desc_init(&d, K, N);
    CHECK(ctx, seqk_linear_create(ctx, &d, l.W, l.b, &l.lin));
    seqk_gemm_params_init(&l.gp);
    l.gp.trans_b = 1;

    const size_t floats = (size_t)(N * K);
    float *buf = aligned_alloc(64, (floats * 4 + 63) / 64 * 64);
    for (size_t i = 0; i < floats; i++)
        buf[i] = (float)(i & 7);
    const double mb = (double)floats * 4.0 / 1e6;
    const int reps = (int)(2e7 / (double)floats) + 1;
    double tl[ROUNDS], tg[ROUNDS], tr[ROUNDS];
    time_calls(ctx, lin_fwd, &l, reps);
    read_pass(buf, floats, threads, reps);
    for (int r = 0; r < ROUNDS; r++) {
        tl[r] = time_calls(ctx, lin_fwd, &l, reps);
        tr[r] = read_pass(buf, floats, threads, reps);
        tg[r] = time_calls(ctx, lin_gemm, &l, reps / 8 + 1);
    }
    double ml = median(tl, ROUNDS), mr = median(tr, ROUNDS);
    double mg = median(tg, ROUNDS);
    /* GB/s of weights: MB / ms = GB/s */
    printf("linear m=1 n=%lld k=%lld (%.2f MB, %d threads)  linear %.4f ms "
           "= %.1f GB/s (%.1f GFLOP/s)  gemm %.4f ms (%.1f GFLOP/s)  "
           "read loop %.4f ms = %.1f GB/s  linear/read %.0f%%  "
           "linear vs gemm %.1fx\n",
           (long long)N, (long long)K, mb, threads, ml, mb / ml,
           2.0 * N * K / ml / 1e6, mg, 2.0 * N * K / mg / 1e6, mr, mb / mr,
           100.0 * mr / ml, mg / ml);
    free(buf);
    seqk_linear_destroy(l.lin);
    seqk_tensor_destroy(l.x);
    seqk_tensor_destroy(l.W);
    seqk_tensor_destroy(l.b);
    seqk_tensor_destroy(l.y);
}

int main(int argc, char **argv)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = argc > 1 ? argv[1] : "cpu";
    seqk_context *ctx;
    CHECK(NULL, seqk_context_create(&o, &ctx));
    printf("device %s, %d threads\n", seqk_context_device(ctx),
           seqk_context_threads(ctx));
    bench_attention(ctx, SEQK_SCORE_ADDITIVE);
    bench_attention(ctx, SEQK_SCORE_GENERAL);
    bench_linear(ctx, 1000, 768);
    bench_linear(ctx, 256, 512);
    seqk_context_destroy(ctx);
    return 0;
}
