/*
 * peak.c — what this machine can do at most, to put kernel speeds in
 * perspective: the FMA throughput per thread (AVX2+FMA and AVX-512F) and
 * the triad (a = b + s*c) and read-only bandwidth from arrays sized for
 * L2, L3 and DRAM.  Prints one JSON line per probe:
 *
 *   {"probe":"fma_avx512","threads":1,"gflops":..,"gflops_median":..,
 *    "gflops_per_thread":..}
 *   {"probe":"triad_l3","threads":1,"bytes":..,"gbs":..,"gbs_median":..}
 *
 * gflops/gbs are the best of --repeat runs (a peak is a best case),
 * *_median the median.  Triad moves 12 bytes per float element (STREAM's
 * count: read b and c, write a; the write-allocate is not counted); read
 * moves 4.  With --threads N every thread works on its own arrays (first
 * touched by that thread) at the same time, and the result is the sum.
 *
 * The FMA loops keep 16 (AVX-512) or 12 (AVX2) independent accumulator
 * chains in registers, enough to cover FMA latency x FMA ports on current
 * x86 cores, so they measure throughput, not latency.  The ISA is chosen
 * per function with target attributes, so the rest of the program runs on
 * any x86-64; a probe whose ISA the CPU lacks is skipped.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ FMA peak */

/* acc = acc*a + b converges to b/(1-a) = 1: no overflow, no denormals. */
__attribute__((target("avx512f"))) static float fma_loop_avx512(long iters)
{
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-6f);
    /* distinct starting values, so the compiler cannot merge chains */
    __m512 c0 = _mm512_set1_ps(0.0f), c1 = _mm512_set1_ps(0.1f),
           c2 = _mm512_set1_ps(0.2f), c3 = _mm512_set1_ps(0.3f),
           c4 = _mm512_set1_ps(0.4f), c5 = _mm512_set1_ps(0.5f),
           c6 = _mm512_set1_ps(0.6f), c7 = _mm512_set1_ps(0.7f),
           c8 = _mm512_set1_ps(0.8f), c9 = _mm512_set1_ps(0.9f),
           c10 = _mm512_set1_ps(1.0f), c11 = _mm512_set1_ps(1.1f),
           c12 = _mm512_set1_ps(1.2f), c13 = _mm512_set1_ps(1.3f),
           c14 = _mm512_set1_ps(1.4f), c15 = _mm512_set1_ps(1.5f);
    for (long i = 0; i < iters; i++) {
        c0 = _mm512_fmadd_ps(c0, a, b);
        c1 = _mm512_fmadd_ps(c1, a, b);
        c2 = _mm512_fmadd_ps(c2, a, b);
        c3 = _mm512_fmadd_ps(c3, a, b);
        c4 = _mm512_fmadd_ps(c4, a, b);
        c5 = _mm512_fmadd_ps(c5, a, b);
        c6 = _mm512_fmadd_ps(c6, a, b);
        c7 = _mm512_fmadd_ps(c7, a, b);
        c8 = _mm512_fmadd_ps(c8, a, b);
        c9 = _mm512_fmadd_ps(c9, a, b);
        c10 = _mm512_fmadd_ps(c10, a, b);
        c11 = _mm512_fmadd_ps(c11, a, b);
        c12 = _mm512_fmadd_ps(c12, a, b);
        c13 = _mm512_fmadd_ps(c13, a, b);
        c14 = _mm512_fmadd_ps(c14, a, b);
        c15 = _mm512_fmadd_ps(c15, a, b);
    }
    __m512 s = _mm512_add_ps(
        _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                      _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7))),
        _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)),
                      _mm512_add_ps(_mm512_add_ps(c12, c13), _mm512_add_ps(c14, c15))));
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float fma_loop_avx2(long iters)
{
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f);
    __m256 c0 = _mm256_set1_ps(0.0f), c1 = _mm256_set1_ps(0.1f),
           c2 = _mm256_set1_ps(0.2f), c3 = _mm256_set1_ps(0.3f),
           c4 = _mm256_set1_ps(0.4f), c5 = _mm256_set1_ps(0.5f),
           c6 = _mm256_set1_ps(0.6f), c7 = _mm256_set1_ps(0.7f),
           c8 = _mm256_set1_ps(0.8f), c9 = _mm256_set1_ps(0.9f),
           c10 = _mm256_set1_ps(1.0f), c11 = _mm256_set1_ps(1.1f);
    for (long i = 0; i < iters; i++) {
        c0 = _mm256_fmadd_ps(c0, a, b);
        c1 = _mm256_fmadd_ps(c1, a, b);
        c2 = _mm256_fmadd_ps(c2, a, b);
        c3 = _mm256_fmadd_ps(c3, a, b);
        c4 = _mm256_fmadd_ps(c4, a, b);
        c5 = _mm256_fmadd_ps(c5, a, b);
        c6 = _mm256_fmadd_ps(c6, a, b);
        c7 = _mm256_fmadd_ps(c7, a, b);
        c8 = _mm256_fmadd_ps(c8, a, b);
        c9 = _mm256_fmadd_ps(c9, a, b);
        c10 = _mm256_fmadd_ps(c10, a, b);
        c11 = _mm256_fmadd_ps(c11, a, b);
    }
    __m256 s = _mm256_add_ps(
        _mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
        _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)),
                      _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11))));
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

/* ------------------------------------------------------------ bandwidth */

/* a = b + s*c; n a multiple of 32. */
__attribute__((target("avx2,fma"))) static void triad_avx2(float *a,
                                                           const float *b,
                                                           const float *c,
                                                           size_t n, float s)
{
    const __m256 vs = _mm256_set1_ps(s);
    for (size_t i = 0; i < n; i += 32) {
        __m256 c0 = _mm256_load_ps(c + i), c1 = _mm256_load_ps(c + i + 8);
        __m256 c2 = _mm256_load_ps(c + i + 16), c3 = _mm256_load_ps(c + i + 24);
        _mm256_store_ps(a + i, _mm256_fmadd_ps(vs, c0, _mm256_load_ps(b + i)));
        _mm256_store_ps(a + i + 8, _mm256_fmadd_ps(vs, c1, _mm256_load_ps(b + i + 8)));
        _mm256_store_ps(a + i + 16, _mm256_fmadd_ps(vs, c2, _mm256_load_ps(b + i + 16)));
        _mm256_store_ps(a + i + 24, _mm256_fmadd_ps(vs, c3, _mm256_load_ps(b + i + 24)));
    }
}

/* Sum of x[0..n), n a multiple of 32; four chains hide the add latency. */
__attribute__((target("avx2,fma"))) static float read_avx2(const float *x,
                                                          size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t i = 0; i < n; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_load_ps(x + i));
        s1 = _mm256_add_ps(s1, _mm256_load_ps(x + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_load_ps(x + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_load_ps(x + i + 24));
    }
    float out[8];
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

/* Called through volatile pointers: the compiler can neither inline a
 * probe nor hoist a pass whose inputs did not change out of its loop. */
static float (*volatile fma512_fn)(long) = fma_loop_avx512;
static float (*volatile fma2_fn)(long) = fma_loop_avx2;
static void (*volatile triad_fn)(float *, const float *, const float *,
                                 size_t, float) = triad_avx2;
static float (*volatile read_fn)(const float *, size_t) = read_avx2;

/* ------------------------------------------------------------- threads */

typedef enum probe_kind { FMA_AVX512, FMA_AVX2, TRIAD, READ } probe_kind;

typedef struct worker {
    pthread_t tid;
    pthread_barrier_t *start;
    probe_kind kind;
    long iters;        /* FMA iterations, or passes over the arrays */
    size_t n;          /* floats per array */
    float *a, *b, *c;  /* this thread's arrays */
    double seconds;    /* of the timed part */
    float sink;
    int ok;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    if (w->kind == TRIAD || w->kind == READ) {
        /* first touch by this thread, and one untimed pass to warm up */
        size_t bytes = w->n * sizeof(float);
        w->b = aligned_alloc(64, bytes);
        if (w->kind == TRIAD) {
            w->a = aligned_alloc(64, bytes);
            w->c = aligned_alloc(64, bytes);
        }
        w->ok = w->b && (w->kind == READ || (w->a && w->c));
        if (w->ok) {
            for (size_t i = 0; i < w->n; i++)
                w->b[i] = 1.0f;
            if (w->kind == TRIAD) {
                for (size_t i = 0; i < w->n; i++) {
                    w->a[i] = 0.0f;
                    w->c[i] = 0.5f;
                }
                triad_fn(w->a, w->b, w->c, w->n, 0.5f);
            } else {
                w->sink = read_fn(w->b, w->n);
            }
        }
    } else {
        w->ok = 1;
    }
    pthread_barrier_wait(w->start);
    double t0 = now_s();
    float sink = 0.0f;
    if (w->ok) {
        switch (w->kind) {
        case FMA_AVX512:
            sink = fma512_fn(w->iters);
            break;
        case FMA_AVX2:
            sink = fma2_fn(w->iters);
            break;
        case TRIAD:
            for (long r = 0; r < w->iters; r++)
                triad_fn(w->a, w->b, w->c, w->n, 0.5f + (float)(r & 1));
            sink = w->a[w->n / 2];
            break;
        case READ:
            for (long r = 0; r < w->iters; r++)
                sink += read_fn(w->b, w->n);
            break;
        }
    }
    w->seconds = now_s() - t0;
    w->sink = sink;
    free(w->a);
    free(w->b);
    free(w->c);
    return NULL;
}

/* Runs the probe on nthreads threads; returns the slowest thread's time,
 * or a negative value on failure. */
static double run_probe(probe_kind kind, int nthreads, long iters, size_t n)
{
    worker *w = calloc((size_t)nthreads, sizeof *w);
    pthread_barrier_t start;
    double worst = 0.0;
    int ok = 1;
    if (!w)
        return -1.0;
    pthread_barrier_init(&start, NULL, (unsigned)nthreads);
    for (int t = 0; t < nthreads; t++) {
        w[t].start = &start;
        w[t].kind = kind;
        w[t].iters = iters;
        w[t].n = n;
    }
    for (int t = 1; t < nthreads; t++)
        if (pthread_create(&w[t].tid, NULL, work, &w[t]) != 0)
            abort(); /* the barrier would hang: nothing sensible to do */
    work(&w[0]);
    for (int t = 1; t < nthreads; t++)
        pthread_join(w[t].tid, NULL);
    for (int t = 0; t < nthreads; t++) {
        ok &= w[t].ok;
        if (w[t].seconds > worst)
            worst = w[t].seconds;
        if (w[t].sink == 12345.678f) /* keep the results alive */
            puts("");
    }
    pthread_barrier_destroy(&start);
    free(w);
    return ok ? worst : -1.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Best and median of `repeat` rates work/seconds. */
static int measure(probe_kind kind, int nthreads, long iters, size_t n,
                   double work_units, int repeat, double *best,
                   double *median)
{
    double rates[64];
    if (repeat > 64)
        repeat = 64;
    for (int r = 0; r < repeat; r++) {
        double s = run_probe(kind, nthreads, iters, n);
        if (s <= 0.0)
            return -1;
        rates[r] = work_units / s;
    }
    qsort(rates, (size_t)repeat, sizeof rates[0], cmp_double);
    *best = rates[repeat - 1];
    *median = rates[repeat / 2];
    return 0;
}

/* Floats per array when `arrays` arrays take `bytes` together, rounded
 * down to a multiple of 32 (the loops' step), at least 32. */
static size_t array_floats(double bytes, int arrays)
{
    size_t n = (size_t)(bytes / arrays / sizeof(float));
    return n < 32 ? 32 : n / 32 * 32;
}

/* Triad or read bandwidth over `total_bytes` split evenly between the
 * threads (each its own arrays); prints one JSON line. */
static int bandwidth_probe(const char *name, probe_kind kind, int nthreads,
                           double total_bytes, int repeat)
{
    int arrays = kind == TRIAD ? 3 : 1;
    size_t n = array_floats(total_bytes / nthreads, arrays);
    double bytes_per_pass = (kind == TRIAD ? 12.0 : 4.0) * (double)n;
    /* about 2 GB moved per run, at least 3 passes */
    long passes = (long)(2e9 / (bytes_per_pass * nthreads)) + 3;
    double best, med;
    if (measure(kind, nthreads, passes, n,
                bytes_per_pass * (double)passes * nthreads * 1e-9, repeat,
                &best, &med) != 0) {
        fprintf(stderr, "peak: out of memory\n");
        return -1;
    }
    printf("{\"probe\":\"%s\",\"threads\":%d,\"bytes\":%.0f,\"gbs\":%.2f,"
           "\"gbs_median\":%.2f}\n",
           name, nthreads, (double)arrays * (double)n * sizeof(float) * nthreads,
           best, med);
    fflush(stdout);
    return 0;
}

static void usage(void)
{
    fputs("usage: peak [--threads N] [--repeat N] [--l2-kib K] [--l3-mib M]\n"
          "            [--dram-mib M] [--stream-bytes B]...\n"
          "Prints one JSON line per probe: the FMA peak (AVX-512, AVX2) and "
          "the triad\nand read bandwidth from arrays sized for L2 (per "
          "thread, default 512 KiB),\nL3 (all threads together, default "
          "16 MiB) and DRAM (default 384 MiB).\n"
          "--stream-bytes B: instead, only the read bandwidth of re-reading "
          "one\nB-byte array split between the threads (repeatable); "
          "probe \"stream\".\n", stderr);
}

int main(int argc, char **argv)
{
    int nthreads = 1, repeat = 7, nstream = 0;
    double l2_kib = 512, l3_mib = 16, dram_mib = 384, stream[64];
    for (int i = 1; i < argc; i++) {
        double *dst = NULL;
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            nthreads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--l2-kib"))
            dst = &l2_kib;
        else if (!strcmp(argv[i], "--l3-mib"))
            dst = &l3_mib;
        else if (!strcmp(argv[i], "--dram-mib"))
            dst = &dram_mib;
        else if (!strcmp(argv[i], "--stream-bytes") && nstream < 64)
            dst = &stream[nstream++];
        else {
            usage();
            return 2;
        }
        if (dst && (i + 1 >= argc || (*dst = atof(argv[++i])) <= 0)) {
            usage();
            return 2;
        }
    }
    if (nthreads < 1 || nthreads > 256 || repeat < 1) {
        usage();
        return 2;
    }
    __builtin_cpu_init();
    int has_avx2 = __builtin_cpu_supports("avx2") &&
                   __builtin_cpu_supports("fma");

    if (nstream > 0) {
        if (!has_avx2) {
            puts("{\"probe\":\"stream\",\"error\":\"needs AVX2+FMA\"}");
            return 1;
        }
        for (int i = 0; i < nstream; i++)
            if (bandwidth_probe("stream", READ, nthreads, stream[i], repeat))
                return 1;
        return 0;
    }

    /* FMA: 2 flops x lanes x chains per iteration, ~0.1-0.2 s per run. */
    static const struct {
        const char *name, *isa;
        probe_kind kind;
        double flops_per_iter;
    } fmas[] = {
        {"fma_avx512", "avx512f", FMA_AVX512, 2.0 * 16 * 16},
        {"fma_avx2", "avx2+fma", FMA_AVX2, 2.0 * 8 * 12},
    };
    for (size_t f = 0; f < sizeof fmas / sizeof fmas[0]; f++) {
        int has = f == 0 ? __builtin_cpu_supports("avx512f") : has_avx2;
        if (!has) {
            printf("{\"probe\":\"%s\",\"threads\":%d,\"gflops\":null,"
                   "\"error\":\"no %s on this CPU\"}\n",
                   fmas[f].name, nthreads, fmas[f].isa);
            continue;
        }
        long iters = 50000000;
        double best, med;
        if (measure(fmas[f].kind, nthreads, iters, 0,
                    fmas[f].flops_per_iter * (double)iters * nthreads * 1e-9,
                    repeat, &best, &med) != 0)
            return 1;
        printf("{\"probe\":\"%s\",\"threads\":%d,\"gflops\":%.1f,"
               "\"gflops_median\":%.1f,\"gflops_per_thread\":%.1f}\n",
               fmas[f].name, nthreads, best, med, best / nthreads);
        fflush(stdout);
    }

    if (!has_avx2) {
        puts("{\"probe\":\"triad\",\"error\":\"needs AVX2+FMA\"}");
        return 0;
    }
    const double sizes[3] = {l2_kib * 1024.0 * nthreads, l3_mib * 1048576.0,
                             dram_mib * 1048576.0};
    static const char *const names[3][2] = {
        {"triad_l2", "read_l2"}, {"triad_l3", "read_l3"},
        {"triad_dram", "read_dram"}};
    for (int l = 0; l < 3; l++)
        if (bandwidth_probe(names[l][0], TRIAD, nthreads, sizes[l], repeat) ||
            bandwidth_probe(names[l][1], READ, nthreads, sizes[l], repeat))
            return 1;
    return 0;
}
