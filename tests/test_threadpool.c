/*
 * test_threadpool.c — the context thread pool (src/core/threadpool.c)
 * under stress: many tiny back-to-back runs of every thread count (the
 * spinning fast path) mixed with pauses longer than the spin (the
 * sleeping path), barriers, runs nested inside runs, two user threads on
 * one pool and on two contexts, an idle pool that must stop using CPU,
 * the per-problem thread count, and the threaded element-wise path
 * against ref.  No timings: the idle check compares CPU time with wall
 * time only to see that nobody spins forever.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/threadpool.h"
#include "testutil.h"

/* Longer than the pool's spin (50 us): the workers are asleep after it. */
static void pause_past_spin(void)
{
    struct timespec ts = {0, 200 * 1000};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------ tiny runs */

#define MAXT 4

typedef struct count_job {
    atomic_int hits[MAXT];
    atomic_int bad; /* a thread saw a wrong tid/nthreads */
    int want_n;
} count_job;

static void count_fn(void *arg, int tid, int nthreads)
{
    count_job *job = arg;
    if (nthreads != job->want_n || tid < 0 || tid >= nthreads)
        atomic_fetch_add(&job->bad, 1);
    else
        atomic_fetch_add(&job->hits[tid], 1);
}

/* n requested threads run on min(n, max) threads, each tid once. */
static void one_run(seqk_threadpool *pool, int max, int n)
{
    count_job job;
    memset(&job, 0, sizeof job);
    job.want_n = n < 1 ? 1 : n > max ? max : n;
    seqk__pool_run(pool, count_fn, &job, n);
    ck_assert_int_eq(atomic_load(&job.bad), 0);
    for (int t = 0; t < MAXT; t++)
        ck_assert_int_eq(atomic_load(&job.hits[t]), t < job.want_n);
}

START_TEST(many_tiny_runs)
{
    for (int max = 1; max <= 3; max++) {
        seqk_threadpool *pool = NULL;
        ck_assert_int_eq(seqk__pool_create(max, &pool), SEQK_OK);
        ck_assert_int_eq(seqk__pool_max_threads(pool), max);
        for (int i = 0; i < 20000; i++) {
            one_run(pool, max, i % (max + 2)); /* 0 .. max+1 */
            if (i % 2500 == 0)
                pause_past_spin();
        }
        seqk__pool_destroy(pool);
    }
    /* created and destroyed without a run, and right after one */
    for (int i = 0; i < 50; i++) {
        seqk_threadpool *pool = NULL;
        ck_assert_int_eq(seqk__pool_create(3, &pool), SEQK_OK);
        if (i % 2)
            one_run(pool, 3, 3);
        seqk__pool_destroy(pool);
    }
    seqk__pool_destroy(NULL);
    one_run(NULL, 1, 2); /* no pool: inline */
}
END_TEST

/* Task runs: every task of [0, min(n, max)) exactly once, whichever
 * thread (the caller, a worker spinning, a worker waking late) takes it. */
static void one_task_run(seqk_threadpool *pool, int max, int n)
{
    count_job job;
    memset(&job, 0, sizeof job);
    job.want_n = n > max ? max : n;
    seqk__pool_run_tasks(pool, count_fn, &job, n);
    ck_assert_int_eq(atomic_load(&job.bad), 0);
    for (int t = 0; t < MAXT; t++)
        ck_assert_int_eq(atomic_load(&job.hits[t]), t < job.want_n);
}

START_TEST(many_tiny_task_runs)
{
    for (int max = 1; max <= 3; max++) {
        seqk_threadpool *pool = NULL;
        ck_assert_int_eq(seqk__pool_create(max, &pool), SEQK_OK);
        for (int i = 0; i < 20000; i++) {
            one_task_run(pool, max, 1 + i % (max + 1)); /* 1 .. max+1 */
            if (i % 7 == 0)
                one_run(pool, max, max); /* modes interleaved */
            if (i % 2500 == 0)
                pause_past_spin();
        }
        seqk__pool_destroy(pool);
    }
    /* no pool (one task), or no tasks */
    one_task_run(NULL, 1, 3);
    seqk__pool_run_tasks(NULL, count_fn, NULL, 0);
}
END_TEST

/* --------------------------------------------------------- barriers */

typedef struct bar_job {
    seqk_threadpool *pool;
    int rounds;
    atomic_int slot[MAXT];
    atomic_int bad;
} bar_job;

/* Each round every thread writes its slot, waits, checks all slots, waits
 * again: a barrier that let one through early shows as a stale slot. */
static void bar_fn(void *arg, int tid, int nthreads)
{
    bar_job *job = arg;
    for (int r = 1; r <= job->rounds; r++) {
        atomic_store(&job->slot[tid], r);
        seqk__pool_barrier(job->pool);
        for (int t = 0; t < nthreads; t++)
            if (atomic_load(&job->slot[t]) != r)
                atomic_fetch_add(&job->bad, 1);
        seqk__pool_barrier(job->pool);
    }
}

START_TEST(barriers)
{
    seqk_threadpool *pool = NULL;
    ck_assert_int_eq(seqk__pool_create(3, &pool), SEQK_OK);
    for (int i = 0; i < 300; i++) {
        bar_job job;
        memset(&job, 0, sizeof job);
        job.pool = pool;
        job.rounds = 20;
        seqk__pool_run(pool, bar_fn, &job, 1 + i % 3);
        ck_assert_int_eq(atomic_load(&job.bad), 0);
        if (i % 100 == 99)
            pause_past_spin();
    }
    seqk__pool_destroy(pool);
}
END_TEST

/* ----------------------------------------------------------- nesting */

typedef struct nest_job {
    seqk_threadpool *outer, *other;
    atomic_int bad;
} nest_job;

static void nest_fn(void *arg, int tid, int nthreads)
{
    (void)tid;
    nest_job *job = arg;
    /* the same pool from inside its own run: inline, 1 thread, and its
     * barriers return (they must not join the outer run's) */
    bar_job inner;
    memset(&inner, 0, sizeof inner);
    inner.pool = job->outer;
    inner.rounds = 3;
    seqk__pool_run(job->outer, bar_fn, &inner, nthreads);
    if (atomic_load(&inner.bad) || atomic_load(&inner.slot[0]) != 3 ||
        atomic_load(&inner.slot[1]) != 0)
        atomic_fetch_add(&job->bad, 1);
    /* a task run from inside: inline, every task on this thread */
    count_job tj;
    memset(&tj, 0, sizeof tj);
    tj.want_n = 2;
    seqk__pool_run_tasks(job->outer, count_fn, &tj, 2);
    if (atomic_load(&tj.bad) || atomic_load(&tj.hits[0]) != 1 ||
        atomic_load(&tj.hits[1]) != 1)
        atomic_fetch_add(&job->bad, 1);
    /* the outer run's barrier still works afterwards */
    seqk__pool_barrier(job->outer);
    /* another pool from thread 0 of this run: a real parallel run */
    if (tid == 0) {
        count_job c;
        memset(&c, 0, sizeof c);
        c.want_n = 2;
        seqk__pool_run(job->other, count_fn, &c, 2);
        if (atomic_load(&c.bad) || atomic_load(&c.hits[0]) != 1 ||
            atomic_load(&c.hits[1]) != 1)
            atomic_fetch_add(&job->bad, 1);
    }
}

START_TEST(nested_runs)
{
    seqk_threadpool *a = NULL, *b = NULL;
    ck_assert_int_eq(seqk__pool_create(2, &a), SEQK_OK);
    ck_assert_int_eq(seqk__pool_create(2, &b), SEQK_OK);
    for (int i = 0; i < 2000; i++) {
        nest_job job = {.outer = a, .other = b};
        atomic_init(&job.bad, 0);
        seqk__pool_run(a, nest_fn, &job, 2);
        ck_assert_int_eq(atomic_load(&job.bad), 0);
    }
    seqk__pool_destroy(b);
    seqk__pool_destroy(a);
}
END_TEST

/* ------------------------------------------- two user threads, one pool */

typedef struct share_arg {
    seqk_threadpool *pool;
    int max;
    atomic_int bad;
} share_arg;

typedef struct share_job {
    atomic_int mask; /* bit tid per call */
    atomic_int calls;
    atomic_int n;    /* nthreads the calls saw */
} share_job;

static void share_fn(void *arg, int tid, int nthreads)
{
    share_job *job = arg;
    atomic_fetch_or(&job->mask, 1 << tid);
    atomic_fetch_add(&job->calls, 1);
    atomic_store(&job->n, nthreads);
}

/* A run that found the pool busy goes inline (1 thread; a task run, its
 * tasks one after the other): every run sees either all its threads or
 * exactly one, never a mix with another run. */
static void *share_main(void *p)
{
    share_arg *s = p;
    for (int i = 0; i < 5000; i++) {
        share_job job;
        atomic_init(&job.mask, 0);
        atomic_init(&job.calls, 0);
        atomic_init(&job.n, 0);
        if (i % 2)
            seqk__pool_run(s->pool, share_fn, &job, s->max);
        else
            seqk__pool_run_tasks(s->pool, share_fn, &job, s->max);
        const int n = atomic_load(&job.n), calls = atomic_load(&job.calls);
        const int mask = atomic_load(&job.mask);
        /* tasks on a busy pool run one by one on this thread, each
         * seeing all max tasks */
        if (!((n == 1 && calls == 1 && mask == 1) ||
              (n == s->max && calls == s->max &&
               mask == (1 << s->max) - 1)))
            atomic_fetch_add(&s->bad, 1);
    }
    return NULL;
}

START_TEST(two_threads_one_pool)
{
    share_arg s = {.max = 3};
    atomic_init(&s.bad, 0);
    ck_assert_int_eq(seqk__pool_create(3, &s.pool), SEQK_OK);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, share_main, &s), 0);
    share_main(&s);
    pthread_join(th, NULL);
    ck_assert_int_eq(atomic_load(&s.bad), 0);
    seqk__pool_destroy(s.pool);
}
END_TEST

/* ------------------------------------ two user threads, two contexts */

/* Host (CPU SIMD) devices of the test list, or -1. */
static int host_device(void)
{
    for (int i = 1; i < tu_device_count(); i++)
        if (strncmp(tu_device(i), "opencl", 6) != 0)
            return i;
    return -1;
}

static seqk_context *context_on(const char *device, int threads)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = device;
    o.threads = threads;
    seqk_context *ctx = NULL;
    seqk_status st = seqk_context_create(&o, &ctx);
    ck_assert_msg(st == SEQK_OK, "context on %s: %s", device,
                  seqk_last_error(NULL));
    return ctx;
}

typedef struct ctx_arg {
    const char *device;
    int salt;
    int ok;
} ctx_arg;

/* A decoder-like loop of small ops (softmax, add, gemm) on a context of
 * its own, results checked against the same ops on ref. */
static void *ctx_main(void *p)
{
    ctx_arg *a = p;
    enum { R = 64, N = 300 };
    seqk_context *cpu = context_on(a->device, 2);
    seqk_context *ref = context_on("ref", 1);
    tu_rng rng;
    tu_rng_init(&rng, (uint64_t)a->salt);
    float *x = tu_rand(&rng, R * N, -3.0f, 3.0f);
    float *w = tu_rand(&rng, N * N, -0.1f, 0.1f);
    const int64_t dx[2] = {R, N}, dw[2] = {N, N};
    seqk_tensor *t[2][4];
    seqk_context *c[2] = {cpu, ref};
    float *out[2][3];
    int ok = 1;
    seqk_elementwise_params ew;
    seqk_elementwise_params_init(&ew, SEQK_EW_ADD);
    seqk_gemm_params gp;
    seqk_gemm_params_init(&gp);
    for (int k = 0; k < 2; k++) {
        t[k][0] = tu_f32(c[k], 2, dx, x);
        t[k][1] = tu_f32(c[k], 2, dw, w);
        t[k][2] = tu_f32(c[k], 2, dx, NULL);
        t[k][3] = tu_f32(c[k], 2, dx, NULL);
    }
    for (int it = 0; it < 200 && ok; it++)
        for (int k = 0; k < 2; k++) {
            ok &= seqk_softmax(c[k], -1, t[k][0], t[k][2]) == SEQK_OK;
            ok &= seqk_elementwise(c[k], &ew, t[k][2], t[k][0], t[k][3]) ==
                  SEQK_OK;
            ok &= seqk_gemm(c[k], &gp, t[k][3], t[k][1], NULL, t[k][2]) ==
                  SEQK_OK;
        }
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 3; j++)
            out[k][j] = tu_read(t[k][j + 1]);
    char msg[256];
    ok &= tu_close(out[0][1], out[1][1], R * N, 1e-4f, 1e-4f, msg,
                   sizeof msg);
    ok &= tu_close(out[0][2], out[1][2], R * N, 1e-5f, 1e-5f, msg,
                   sizeof msg);
    for (int k = 0; k < 2; k++) {
        for (int j = 0; j < 4; j++)
            seqk_tensor_destroy(t[k][j]);
        for (int j = 0; j < 3; j++)
            free(out[k][j]);
    }
    free(x);
    free(w);
    seqk_context_destroy(ref);
    seqk_context_destroy(cpu);
    a->ok = ok;
    return NULL;
}

START_TEST(two_threads_two_contexts)
{
    int d = host_device();
    if (d < 0)
        return;
    ctx_arg a[2] = {{tu_device(d), 1, 0}, {tu_device(d), 2, 0}};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, ctx_main, &a[1]), 0);
    ctx_main(&a[0]);
    pthread_join(th, NULL);
    ck_assert_msg(a[0].ok && a[1].ok, "a context op failed or differs "
                  "from ref (thread 1: %d, thread 2: %d)", a[0].ok, a[1].ok);
}
END_TEST

/* --------------------------------------------------------------- idle */

static double seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* After its last run an idle pool sleeps: over 300 ms of idling the
 * process uses far less than 300 ms of CPU (a worker spinning forever
 * would use all of it). */
START_TEST(idle_pool_sleeps)
{
    seqk_threadpool *pool = NULL;
    ck_assert_int_eq(seqk__pool_create(3, &pool), SEQK_OK);
    for (int i = 0; i < 1000; i++)
        one_run(pool, 3, 3);
    struct timespec settle = {0, 20 * 1000 * 1000};
    nanosleep(&settle, NULL); /* past the spin */
    double cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    struct timespec idle = {0, 300 * 1000 * 1000};
    nanosleep(&idle, NULL);
    double used = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    ck_assert_msg(used < 0.1, "idle pool used %.3f s of CPU in 0.3 s",
                  used);
    one_run(pool, 3, 3); /* and wakes up again */
    seqk__pool_destroy(pool);
}
END_TEST

/* ------------------------------------------------- thread count model */

START_TEST(threads_for_model)
{
    const double g = SEQK_POOL_GRAIN_NS;
    ck_assert_int_eq(seqk__pool_threads_for(8, 0.0), 1);
    ck_assert_int_eq(seqk__pool_threads_for(8, 1.99 * g), 1);
    ck_assert_int_eq(seqk__pool_threads_for(8, 2.0 * g), 2);
    ck_assert_int_eq(seqk__pool_threads_for(8, 5.5 * g), 5);
    ck_assert_int_eq(seqk__pool_threads_for(8, 1e12), 8);
    ck_assert_int_eq(seqk__pool_threads_for(1, 1e12), 1);
    ck_assert_int_eq(seqk__pool_threads_for(0, 1e12), 1);
    ck_assert_int_eq(seqk__pool_threads_for(4, -1.0), 1);
    ck_assert_int_eq(seqk__pool_threads_for(4, 0.0 / 0.0), 1);
}
END_TEST

/* ------------------------------------- threaded element-wise vs ref */

/* Shapes large enough to split (threads start mid-row), with broadcast
 * along rows, along columns and none; every thread count gives the ref
 * result, and the same bits as one thread. */
START_TEST(elementwise_threaded)
{
    int d = host_device();
    if (d < 0)
        return;
    enum { R = 97, N = 1003 };
    const int64_t dy[2] = {R, N}, drow[2] = {1, N}, dcol[2] = {R, 1};
    const int64_t *db[3] = {dy, drow, dcol};
    const seqk_elementwise_op ops[3] = {SEQK_EW_SUB, SEQK_EW_DIV,
                                        SEQK_EW_TANH};
    tu_rng rng;
    tu_rng_init(&rng, 77);
    float *a = tu_rand(&rng, R * N, -2.0f, 2.0f);
    float *b = tu_rand(&rng, R * N, 0.5f, 2.0f);
    seqk_context *ref = context_on("ref", 1);
    for (int oi = 0; oi < 3; oi++)
        for (int bi = 0; bi < 3; bi++) {
            seqk_elementwise_params p;
            seqk_elementwise_params_init(&p, ops[oi]);
            const int binary = seqk_elementwise_arity(ops[oi]) == 2;
            if (!binary && bi)
                continue;
            float *want = NULL, *one = NULL;
            for (int threads = 0; threads <= 3; threads++) {
                seqk_context *c =
                    threads ? context_on(tu_device(d), threads) : ref;
                seqk_tensor *A = tu_f32(c, 2, dy, a);
                seqk_tensor *B = binary ? tu_f32(c, 2, db[bi], b) : NULL;
                seqk_tensor *Y = tu_f32(c, 2, dy, NULL);
                TU_OK(c, seqk_elementwise(c, &p, A, B, Y));
                tu_assert_guard(Y);
                float *got = tu_read(Y);
                if (!want) {
                    want = got;
                } else {
                    TU_ASSERT_CLOSE(got, want, R * N, 1e-6f, 1e-5f);
                    if (!one)
                        one = got;
                    else {
                        ck_assert_msg(!memcmp(got, one, sizeof(float) *
                                                            R * N),
                                      "%d threads differ from one",
                                      threads);
                        free(got);
                    }
                }
                seqk_tensor_destroy(Y);
                seqk_tensor_destroy(B);
                seqk_tensor_destroy(A);
                if (threads)
                    seqk_context_destroy(c);
            }
            free(want);
            free(one);
        }
    seqk_context_destroy(ref);
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threadpool");
    TCase *tc = tcase_create("threadpool");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, many_tiny_runs);
    tcase_add_test(tc, many_tiny_task_runs);
    tcase_add_test(tc, barriers);
    tcase_add_test(tc, nested_runs);
    tcase_add_test(tc, two_threads_one_pool);
    tcase_add_test(tc, two_threads_two_contexts);
    tcase_add_test(tc, idle_pool_sleeps);
    tcase_add_test(tc, threads_for_model);
    tcase_add_test(tc, elementwise_threaded);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
