/*
 * matmul_driver.c — ONNX MatMul on the CPU backends: batched and
 * broadcast products as GEMM calls.  Batches that fold into one GEMM
 * (B shared, A's batches dense) are one call with M' = batches * M; tiny
 * batches (the direct kernels take them) run one after another on the
 * caller unless their total pays for threads; many small batches are
 * one-thread GEMMs with threads taking whole batches; otherwise each batch
 * is a GEMM threaded on its own.
 */
#include "cpu_simd/gemm.h"

/* One thread's rate on the direct small kernels (as gemm_driver_small.c
 * estimates it), flop per ns. */
#define MATMUL_SMALL_FLOP_PER_NS 40.0

typedef struct matmul_job {
    const seqk_cpu_isa *isa;
    const seqk_matmul_problem *p;
    int64_t batches;
    seqk_status status[64];
} matmul_job;

/* The GEMM of flat batch index b. */
static seqk_gemm_problem matmul_batch(const seqk_matmul_problem *p,
                                      int64_t flat)
{
    int64_t rem = flat, a_off = 0, b_off = 0;
    for (int j = p->nbatch - 1; j >= 0; j--) {
        int64_t i = rem % p->batch_dims[j];
        rem /= p->batch_dims[j];
        a_off += i * p->a_bstride[j];
        b_off += i * p->b_bstride[j];
    }
    seqk_gemm_problem g = {
        .M = p->M, .N = p->N, .K = p->K, .alpha = 1.0f, .beta = 0.0f,
        .A = p->A + a_off, .lda = p->K,
        .B = p->B + b_off, .ldb = p->N,
        .Y = p->Y + flat * p->M * p->N, .ldy = p->N,
    };
    return g;
}

static void matmul_thread(void *arg, int tid, int nthreads)
{
    matmul_job *job = arg;
    int64_t b0, b1;
    seqk__split_range(job->batches, 1, tid, nthreads, &b0, &b1);
    for (int64_t b = b0; b < b1; b++) {
        seqk_gemm_problem g = matmul_batch(job->p, b);
        seqk_status st = seqk__cpu_gemm_1t(job->isa, &g);
        if (st != SEQK_OK)
            job->status[tid] = st;
    }
}

/* Whether all batches share B and A's batches are dense [batches*M, K]:
 * then the batches are one GEMM with M' = batches*M. */
static int matmul_folds(const seqk_matmul_problem *p)
{
    int64_t dense = p->M * p->K;
    for (int j = p->nbatch - 1; j >= 0; j--) {
        if (p->batch_dims[j] > 1 &&
            (p->b_bstride[j] != 0 || p->a_bstride[j] != dense))
            return 0;
        dense *= p->batch_dims[j];
    }
    return 1;
}

seqk_status seqk__cpu_matmul(seqk_context *ctx, const seqk_cpu_isa *isa,
                            const seqk_matmul_problem *p)
{
    int64_t batches = 1;
    for (int j = 0; j < p->nbatch; j++)
        batches *= p->batch_dims[j];
    if (batches == 0 || p->M == 0 || p->N == 0)
        return SEQK_OK;
    if (matmul_folds(p)) {
        seqk_gemm_problem g = matmul_batch(p, 0);
        g.M = batches * p->M;
        return seqk__cpu_gemm(ctx, isa, &g);
    }
    /* Many small batches: whole batches per thread; otherwise each batch
     * is threaded on its own. */
    int threads = seqk__cpu_threads(ctx);
    if (threads > 64)
        threads = 64;
    const double flops = 2.0 * (double)p->M * (double)p->N * (double)p->K;
    seqk_threadpool *pool = NULL;
    seqk_gemm_problem g0 = matmul_batch(p, 0);
    if (seqk__cpu_gemm_small_kind(isa, &g0)) {
        /* tiny batches (an attention step's M = 1 products): the direct
         * kernel per batch, threads only when the whole pays for them */
        int n = seqk__pool_threads_for(
            threads, flops * (double)batches / MATMUL_SMALL_FLOP_PER_NS);
        threads = n < batches ? n : (int)batches;
        pool = threads > 1 ? seqk__pool(ctx) : NULL;
        matmul_job job = {.isa = isa, .p = p, .batches = batches};
        if (pool)
            seqk__pool_run_tasks(pool, matmul_thread, &job, threads);
        else
            matmul_thread(&job, 0, 1);
        return SEQK_OK; /* the direct path allocates nothing */
    }
    if (threads > 1 && batches >= 2 * threads && flops < 64.0e6 &&
        (pool = seqk__pool(ctx))) {
        matmul_job job = {.isa = isa, .p = p, .batches = batches};
        seqk__pool_run_tasks(pool, matmul_thread, &job, threads);
        for (int t = 0; t < threads; t++)
            if (job.status[t] != SEQK_OK)
                return seqk__error(ctx, job.status[t],
                                   "MatMul: out of memory for packing "
                                   "buffers");
        return SEQK_OK;
    }
    for (int64_t b = 0; b < batches; b++) {
        seqk_gemm_problem g = matmul_batch(p, b);
        seqk_status st = seqk__cpu_gemm(ctx, isa, &g);
        if (st != SEQK_OK)
            return st;
    }
    return SEQK_OK;
}
