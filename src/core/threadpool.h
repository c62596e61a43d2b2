/*
 * threadpool.h — a persistent pool of worker threads per context.
 *
 * Workers are created once (on first use), spin briefly after each run
 * (so back-to-back calls reach them in about a microsecond) and then
 * sleep, so no call creates threads and an idle pool takes no CPU.
 * seqk__pool_run() runs one function on n threads (the caller is thread
 * 0) and returns when all are done.  Inside a run, seqk__pool_barrier()
 * synchronises the n threads of that run: the RNN uses it between time
 * steps so each thread keeps its slice of the recurrent weights in its own
 * cache for the whole sequence.
 *
 * How many threads a problem gets is the op driver's choice, through
 * seqk__pool_threads_for(): see "Threads" in src/core/README.md.
 */
#ifndef SEQK_CORE_THREADPOOL_H
#define SEQK_CORE_THREADPOOL_H

#include "seqk.h"

typedef struct seqk_threadpool seqk_threadpool;

/* fn(arg, tid, nthreads), tid in 0..nthreads-1. */
typedef void (*seqk_pool_fn)(void *arg, int tid, int nthreads);

/* A pool that can run up to max_threads threads (the caller included). */
seqk_status seqk__pool_create(int max_threads, seqk_threadpool **pool);
void seqk__pool_destroy(seqk_threadpool *pool); /* NULL ignored */
int seqk__pool_max_threads(const seqk_threadpool *pool);

/* Runs fn on min(nthreads, max) threads; nthreads <= 1 runs inline, and
 * so does a call made while the pool is running another (from inside fn,
 * or from a second thread on the same context). */
void seqk__pool_run(seqk_threadpool *pool, seqk_pool_fn fn, void *arg,
                    int nthreads);

/* Runs fn(arg, task, n) for every task in [0, n), n = min(ntasks, max)
 * (max 1 without a pool; ntasks < 1 runs nothing), on up to n threads: workers claim tasks as they arrive, so one that
 * arrives late (a busy machine, a worker asleep) finds its task done by
 * the caller and delays nothing; the worst case is the caller running all
 * n tasks itself.  fn must not call seqk__pool_barrier (it returns at once
 * there); use it for every run whose threads need not meet. */
void seqk__pool_run_tasks(seqk_threadpool *pool, seqk_pool_fn fn, void *arg,
                          int ntasks);

/* Waits until every thread of the current run has arrived.  Call it the
 * same number of times on every thread of a run. */
void seqk__pool_barrier(seqk_threadpool *pool);

/* The per-problem thread count: a problem that takes est_ns on one
 * thread gets one thread per SEQK_POOL_GRAIN_NS of it, at most
 * max_threads, at least 1.  The grain is about twice what dispatching a
 * thread costs when the pool is awake and each thread has a core (0.2-1
 * us here), so a thread's share always pays for its dispatch; op drivers
 * turn their problem into est_ns with a rate measured on this machine. */
#define SEQK_POOL_GRAIN_NS 2000.0
int seqk__pool_threads_for(int max_threads, double est_ns);

/* Splits [0, n) into nthreads contiguous ranges whose starts are multiples
 * of align (except the last end); thread tid gets [*begin, *end). */
void seqk__split_range(int64_t n, int64_t align, int tid, int nthreads,
                       int64_t *begin, int64_t *end);

#endif
