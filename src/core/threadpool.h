/*
 * threadpool.h — a persistent pool of worker threads per context.
 *
 * Workers are created once (on first use) and sleep between calls, so no
 * call creates threads.  seqk__pool_run() runs one function on n threads
 * (the caller is thread 0) and returns when all are done.  Inside a run,
 * seqk__pool_barrier() synchronises the n threads of that run: the RNN
 * uses it between time steps so each thread keeps its slice of the
 * recurrent weights in its own cache for the whole sequence.
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

/* Runs fn on min(nthreads, max) threads; nthreads <= 1 runs inline. */
void seqk__pool_run(seqk_threadpool *pool, seqk_pool_fn fn, void *arg,
                    int nthreads);

/* Waits until every thread of the current run has arrived.  Call it the
 * same number of times on every thread of a run. */
void seqk__pool_barrier(seqk_threadpool *pool);

/* Splits [0, n) into nthreads contiguous ranges whose starts are multiples
 * of align (except the last end); thread tid gets [*begin, *end). */
void seqk__split_range(int64_t n, int64_t align, int tid, int nthreads,
                       int64_t *begin, int64_t *end);

#endif
