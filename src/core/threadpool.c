/*
 * threadpool.c — persistent pthreads pool (see threadpool.h).
 *
 * pthreads rather than OpenMP: the library must not impose an OpenMP
 * runtime on its users (two runtimes in one process oversubscribe), and the
 * RNN needs a barrier inside a long-lived parallel region, which is a few
 * lines here.
 *
 * Dispatch: the caller publishes (fn, arg, n) under the mutex, bumps the
 * generation and wakes the workers; each worker with tid < n runs fn and
 * counts itself out.  Barrier: sense-reversing, spinning briefly and then
 * yielding, so it stays cheap between RNN steps and still behaves when
 * there are more threads than cores.
 */
#include "core/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

struct seqk_threadpool {
    int max_threads;
    pthread_t *threads; /* max_threads - 1 workers */
    int started;        /* workers actually running */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t done;
    unsigned long generation;
    int shutdown;
    /* the current run */
    seqk_pool_fn fn;
    void *arg;
    int nthreads;
    int remaining;
    /* barrier of the current run */
    atomic_int bar_count;
    atomic_int bar_sense;
};

typedef struct worker_arg {
    seqk_threadpool *pool;
    int tid;
} worker_arg;

static void *worker_main(void *p)
{
    worker_arg wa = *(worker_arg *)p;
    free(p);
    seqk_threadpool *pool = wa.pool;
    unsigned long seen = 0;

    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->shutdown && pool->generation == seen)
            pthread_cond_wait(&pool->wake, &pool->lock);
        if (pool->shutdown)
            break;
        seen = pool->generation;
        if (wa.tid >= pool->nthreads)
            continue;
        seqk_pool_fn fn = pool->fn;
        void *arg = pool->arg;
        int n = pool->nthreads;
        pthread_mutex_unlock(&pool->lock);
        fn(arg, wa.tid, n);
        pthread_mutex_lock(&pool->lock);
        if (--pool->remaining == 0)
            pthread_cond_signal(&pool->done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

seqk_status seqk__pool_create(int max_threads, seqk_threadpool **out)
{
    *out = NULL;
    if (max_threads < 1)
        max_threads = 1;
    seqk_threadpool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return SEQK_ERR_OUT_OF_MEMORY;
    pool->max_threads = max_threads;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
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
    pool->shutdown = 1;
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

void seqk__pool_run(seqk_threadpool *pool, seqk_pool_fn fn, void *arg,
                    int nthreads)
{
    if (!pool || nthreads <= 1 || pool->max_threads <= 1) {
        if (pool)
            pool->nthreads = 1; /* barriers of an inline run return */
        fn(arg, 0, 1);
        return;
    }
    if (nthreads > pool->max_threads)
        nthreads = pool->max_threads;
    pthread_mutex_lock(&pool->lock);
    pool->fn = fn;
    pool->arg = arg;
    pool->nthreads = nthreads;
    pool->remaining = nthreads - 1;
    atomic_store(&pool->bar_count, 0);
    atomic_store(&pool->bar_sense, 0);
    pool->generation++;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);

    fn(arg, 0, nthreads);

    pthread_mutex_lock(&pool->lock);
    while (pool->remaining > 0)
        pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}

void seqk__pool_barrier(seqk_threadpool *pool)
{
    if (!pool)
        return;
    int n = pool->nthreads;
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
