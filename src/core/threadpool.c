/*
 * threadpool.c — persistent pthreads pool (see threadpool.h).
 *
 * pthreads rather than OpenMP: the library must not impose an OpenMP
 * runtime on its users (two runtimes in one process oversubscribe), and the
 * RNN needs a barrier inside a long-lived parallel region, which is a few
 * lines here.
 *
 * Dispatch: a run is published in one 64-bit word, `run` =
 * generation << 16 | nthreads.  The caller writes fn/arg, then bumps the
 * word (release); workers watch it.  After a run a worker spins on the
 * word for SPIN_NS (pause/yield instructions), so the back-to-back calls
 * of a decoder loop reach it in ~1 us instead of the 10-20 us of a
 * condition-variable wake-up; past SPIN_NS it sleeps on `wake`, so an idle
 * pool uses no CPU.  The caller waits for `remaining` the same way.
 *
 * Sleeping without a lost wake-up: a sleeper increments `sleepers` and
 * then re-reads the word under the mutex; the caller bumps the word and
 * then reads `sleepers`.  Both are sequentially consistent, so either the
 * sleeper sees the new run or the caller sees the sleeper (and broadcasts
 * under the mutex, which the sleeper holds until it waits).  The same
 * pattern guards the caller's sleep on `remaining`.
 *
 * Task runs (seqk__pool_run_tasks, no barriers): the n tasks are claimed
 * off `next_task`, tagged with the generation, by the caller and by the
 * workers as they arrive; a late worker finds them taken and the caller
 * never waits for a thread that has not started (a loaded machine often
 * gives the pool one core).  The caller waits only for tasks in progress.
 *
 * One word carries nthreads so that a worker outside a run (tid >= n) never
 * reads fn/arg, which the caller may already be rewriting for the next run;
 * a worker inside a run reads them before it counts itself out, and the
 * caller writes the next run only after every such worker has.
 *
 * Barrier: sense-reversing, spinning briefly and then yielding, so it stays
 * cheap between RNN steps and still behaves when there are more threads
 * than cores.
 */
#include "core/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* How long a worker (or the waiting caller) spins before it sleeps:
 * longer than the gap between the ops of a decoder step, short enough
 * that an idle pool is asleep at once (OpenMP runtimes spin for ~200 ms). */
#define SPIN_NS 50000
/* Past this, the spinning thread yields its core between checks: on a
 * machine with more runnable threads than cores the scheduler often puts
 * caller and worker on one core, where spinning only delays the thread
 * waited for (measured here: each us of pure spin added ~2 us per call
 * then; 1 us keeps that case within 1 us of a condition variable). */
#define YIELD_NS 1000
/* pause instructions between two clock reads while spinning (~0.4 us) */
#define SPIN_CHECK 16
/* the run word: generation << RUN_N_BITS | RUN_TASKS? | nthreads */
#define RUN_N_BITS 16
#define RUN_TASKS (1u << (RUN_N_BITS - 1))
#define RUN_N_MASK (RUN_TASKS - 1)

#if defined(__x86_64__) || defined(__i386__)
static inline void cpu_relax(void) { __builtin_ia32_pause(); }
#elif defined(__aarch64__) || defined(__arm__)
static inline void cpu_relax(void) { __asm__ __volatile__("yield"); }
#else
static inline void cpu_relax(void) {}
#endif

struct seqk_threadpool {
    int max_threads;
    pthread_t *threads; /* max_threads - 1 workers */
    int started;        /* workers actually running */
    /* the current run: written by the caller before it publishes `run` */
    seqk_pool_fn fn;
    void *arg;
    _Atomic uint64_t run; /* generation << RUN_N_BITS | flags | nthreads */
    /* tasks mode: generation << RUN_N_BITS | next task to claim */
    _Atomic uint64_t next_task;
    atomic_int remaining; /* workers (tasks mode: tasks) not yet done */
    atomic_int busy;      /* a run is in progress (nested calls go inline) */
    atomic_int shutdown;
    /* sleeping */
    pthread_mutex_t lock;
    pthread_cond_t wake;     /* workers: a new run or shutdown */
    pthread_cond_t done;     /* caller: remaining reached 0 */
    atomic_int sleepers;     /* workers asleep (or about to be) on wake */
    atomic_int caller_asleep;
    /* barrier of the current run */
    atomic_int bar_count;
    atomic_int bar_sense;
};

/* The run this thread is in: barriers of pool use n threads; anything
 * else (inline runs, no run) makes seqk__pool_barrier return at once.
 * Per thread, so a run that went inline because the pool was busy never
 * joins the barrier of the run that made it busy. */
static _Thread_local seqk_threadpool *tls_pool;
static _Thread_local int tls_n;

/* fn(arg, tid, n) as a thread of pool's run of n threads (pool NULL:
 * inline). */
static void call(seqk_threadpool *pool, seqk_pool_fn fn, void *arg, int tid,
                 int n)
{
    seqk_threadpool *outer_pool = tls_pool;
    int outer_n = tls_n;
    tls_pool = pool;
    tls_n = n;
    fn(arg, tid, n);
    tls_pool = outer_pool;
    tls_n = outer_n;
}

typedef struct worker_arg {
    seqk_threadpool *pool;
    int tid;
} worker_arg;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One step of a bounded spin; *start is 0 before the first.  Returns 0
 * once the thread has spun for SPIN_NS and should sleep.  Yields past
 * yield_ns. */
static int spin_step(int64_t *start, int *i, int64_t yield_ns)
{
    if (++*i % SPIN_CHECK) {
        cpu_relax();
        return 1;
    }
    int64_t t = now_ns();
    if (!*start)
        *start = t;
    if (t - *start > SPIN_NS)
        return 0;
    if (t - *start >= yield_ns)
        sched_yield();
    return 1;
}

/* The run word once it differs from seen (or shutdown): spins, then
 * sleeps on pool->wake. */
static uint64_t wait_for_run(seqk_threadpool *pool, uint64_t seen)
{
    uint64_t w;
    int64_t start = 0;
    int i = 0;
    do {
        w = atomic_load_explicit(&pool->run, memory_order_acquire);
        if (w != seen || atomic_load_explicit(&pool->shutdown,
                                              memory_order_relaxed))
            return w;
    } while (spin_step(&start, &i, YIELD_NS));
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add(&pool->sleepers, 1); /* seq_cst: see the top */
    while ((w = atomic_load(&pool->run)) == seen &&
           !atomic_load(&pool->shutdown))
        pthread_cond_wait(&pool->wake, &pool->lock);
    atomic_fetch_sub(&pool->sleepers, 1);
    pthread_mutex_unlock(&pool->lock);
    return w;
}

/* One unit of the run done (a worker's share, or a task); the last one
 * wakes a sleeping caller.  Release: the unit's reads of fn/arg and its
 * results happen before the caller's return and its next run. */
static void count_out(seqk_threadpool *pool)
{
    if (atomic_fetch_sub(&pool->remaining, 1) == 1 &&
        atomic_load(&pool->caller_asleep)) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_signal(&pool->done);
        pthread_mutex_unlock(&pool->lock);
    }
}

/* Claims and runs tasks of run gen until none is left.  A claim names
 * the generation, so a worker that arrives after its run has ended (the
 * caller ran every task itself) claims nothing and never reads fn/arg;
 * a successful claim keeps the run (and fn/arg) alive until count_out. */
static void run_tasks(seqk_threadpool *pool, uint64_t gen, int ntasks)
{
    uint64_t w = atomic_load_explicit(&pool->next_task, memory_order_relaxed);
    for (;;) {
        if (w >> RUN_N_BITS != gen || (int)(w & RUN_N_MASK) >= ntasks)
            return;
        if (!atomic_compare_exchange_weak_explicit(
                &pool->next_task, &w, w + 1, memory_order_acquire,
                memory_order_relaxed))
            continue;
        call(NULL, pool->fn, pool->arg, (int)(w & RUN_N_MASK), ntasks);
        count_out(pool);
        w = atomic_load_explicit(&pool->next_task, memory_order_relaxed);
    }
}

static void *worker_main(void *p)
{
    worker_arg wa = *(worker_arg *)p;
    free(p);
    seqk_threadpool *pool = wa.pool;
    uint64_t seen = 0; /* not the word now: a first run may be out */

    for (;;) {
        seen = wait_for_run(pool, seen);
        if (atomic_load_explicit(&pool->shutdown, memory_order_relaxed))
            break;
        const int n = (int)(seen & RUN_N_MASK);
        if (wa.tid >= n)
            continue; /* not in this run: fn/arg are not ours to read */
        if (seen & RUN_TASKS) {
            run_tasks(pool, seen >> RUN_N_BITS, n);
            continue;
        }
        call(pool, pool->fn, pool->arg, wa.tid, n);
        count_out(pool);
    }
    return NULL;
}

seqk_status seqk__pool_create(int max_threads, seqk_threadpool **out)
{
    *out = NULL;
    if (max_threads < 1)
        max_threads = 1;
    if (max_threads > (int)RUN_N_MASK) /* 1024 at most: context.c */
        max_threads = (int)RUN_N_MASK;
    seqk_threadpool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return SEQK_ERR_OUT_OF_MEMORY;
    pool->max_threads = max_threads;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
    atomic_init(&pool->run, 0);
    atomic_init(&pool->next_task, 0);
    atomic_init(&pool->remaining, 0);
    atomic_init(&pool->busy, 0);
    atomic_init(&pool->shutdown, 0);
    atomic_init(&pool->sleepers, 0);
    atomic_init(&pool->caller_asleep, 0);
    atomic_init(&pool->bar_count, 0);
    atomic_init(&pool->bar_sense, 0);
    if (max_threads > 1) {
        pool->threads = calloc((size_t)max_threads - 1, sizeof(pthread_t));
        if (!pool->threads) {
            seqk__pool_destroy(pool);
            return SEQK_ERR_OUT_OF_MEMORY;
        }
    }
    for (int t = 1; t < max_threads; t++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) {
            seqk__pool_destroy(pool);
            return SEQK_ERR_OUT_OF_MEMORY;
        }
        wa->pool = pool;
        wa->tid = t;
        if (pthread_create(&pool->threads[t - 1], NULL, worker_main, wa)) {
            free(wa);
            seqk__pool_destroy(pool);
            return SEQK_ERR_OUT_OF_MEMORY;
        }
        pool->started++;
    }
    *out = pool;
    return SEQK_OK;
}

void seqk__pool_destroy(seqk_threadpool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->shutdown, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int t = 0; t < pool->started; t++)
        pthread_join(pool->threads[t], NULL);
    pthread_cond_destroy(&pool->done);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool->threads);
    free(pool);
}

int seqk__pool_max_threads(const seqk_threadpool *pool)
{
    return pool ? pool->max_threads : 1;
}

/* Waits until the workers of the current run are done: spins, then
 * sleeps on pool->done.  After waking sleepers it yields at once: the
 * scheduler tends to queue a woken worker on the waker's core. */
static void wait_for_workers(seqk_threadpool *pool, int woke)
{
    const int64_t yield_ns = woke ? 0 : YIELD_NS;
    int64_t start = 0;
    int i = 0;
    do {
        if (atomic_load_explicit(&pool->remaining, memory_order_acquire) == 0)
            return;
    } while (spin_step(&start, &i, yield_ns));
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->caller_asleep, 1); /* seq_cst: see the top */
    while (atomic_load(&pool->remaining) > 0)
        pthread_cond_wait(&pool->done, &pool->lock);
    atomic_store(&pool->caller_asleep, 0);
    pthread_mutex_unlock(&pool->lock);
}

/* Publishes a run of n threads (tasks: n tasks) of fn; returns whether
 * it woke sleeping workers.  The caller owns the pool (busy). */
static int publish(seqk_threadpool *pool, seqk_pool_fn fn, void *arg, int n,
                   unsigned tasks, uint64_t *gen)
{
    pool->fn = fn;
    pool->arg = arg;
    atomic_store_explicit(&pool->remaining, tasks ? n : n - 1,
                          memory_order_relaxed);
    atomic_store_explicit(&pool->bar_count, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->bar_sense, 0, memory_order_relaxed);
    *gen = (atomic_load_explicit(&pool->run, memory_order_relaxed) >>
            RUN_N_BITS) + 1;
    atomic_store_explicit(&pool->next_task, *gen << RUN_N_BITS,
                          memory_order_relaxed);
    atomic_store(&pool->run, *gen << RUN_N_BITS | tasks | (uint64_t)n);
    const int woke = atomic_load(&pool->sleepers) > 0;
    if (woke) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
    return woke;
}

void seqk__pool_run(seqk_threadpool *pool, seqk_pool_fn fn, void *arg,
                    int nthreads)
{
    if (!pool || nthreads <= 1 || pool->max_threads <= 1) {
        call(NULL, fn, arg, 0, 1);
        return;
    }
    /* a run from inside a run of this pool (or a second user thread on
     * the same context) would wait for itself: run it inline instead */
    if (atomic_exchange_explicit(&pool->busy, 1, memory_order_acquire)) {
        call(NULL, fn, arg, 0, 1);
        return;
    }
    if (nthreads > pool->max_threads)
        nthreads = pool->max_threads;
    uint64_t gen;
    const int woke = publish(pool, fn, arg, nthreads, 0, &gen);
    call(pool, fn, arg, 0, nthreads);
    wait_for_workers(pool, woke);
    atomic_store_explicit(&pool->busy, 0, memory_order_release);
}

void seqk__pool_run_tasks(seqk_threadpool *pool, seqk_pool_fn fn, void *arg,
                          int ntasks)
{
    const int max = seqk__pool_max_threads(pool);
    if (ntasks > max)
        ntasks = max;
    if (ntasks < 1)
        return;
    if (ntasks == 1 ||
        atomic_exchange_explicit(&pool->busy, 1, memory_order_acquire)) {
        for (int t = 0; t < ntasks; t++)
            call(NULL, fn, arg, t, ntasks);
        return;
    }
    uint64_t gen;
    const int woke = publish(pool, fn, arg, ntasks, RUN_TASKS, &gen);
    run_tasks(pool, gen, ntasks);
    wait_for_workers(pool, woke);
    atomic_store_explicit(&pool->busy, 0, memory_order_release);
}

void seqk__pool_barrier(seqk_threadpool *pool)
{
    if (!pool || tls_pool != pool)
        return;
    int n = tls_n;
    if (n <= 1)
        return;
    int sense = atomic_load_explicit(&pool->bar_sense, memory_order_acquire);
    if (atomic_fetch_add_explicit(&pool->bar_count, 1,
                                  memory_order_acq_rel) == n - 1) {
        atomic_store_explicit(&pool->bar_count, 0, memory_order_relaxed);
        atomic_store_explicit(&pool->bar_sense, !sense, memory_order_release);
        return;
    }
    for (int spins = 0;
         atomic_load_explicit(&pool->bar_sense, memory_order_acquire) == sense;
         spins++)
        if (spins > 2000)
            sched_yield();
}

int seqk__pool_threads_for(int max_threads, double est_ns)
{
    const double n = est_ns / SEQK_POOL_GRAIN_NS;
    if (!(n >= 2.0) || max_threads < 2)
        return 1;
    return n < (double)max_threads ? (int)n : max_threads;
}

void seqk__split_range(int64_t n, int64_t align, int tid, int nthreads,
                       int64_t *begin, int64_t *end)
{
    if (align < 1)
        align = 1;
    int64_t units = (n + align - 1) / align;
    int64_t per = units / nthreads, extra = units % nthreads;
    int64_t ub = tid * per + (tid < extra ? tid : extra);
    int64_t ue = ub + per + (tid < extra ? 1 : 0);
    *begin = ub * align < n ? ub * align : n;
    *end = ue * align < n ? ue * align : n;
}
