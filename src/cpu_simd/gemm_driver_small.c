/*
 * gemm_driver_small.c — tiny GEMMs straight through the ISA's direct
 * kernels (tmpl/gemm_small.c), without packing either operand.
 *
 * The problems whole models run are often a few dozen wide (a 32 x 32
 * linear over 512 rows, a conv's W x im2col per batch item, the M = 1
 * products of an attention step): there the blocked driver spends as long
 * packing panels, clearing tiles and setting up as multiplying.  Here:
 *
 *   small   op(B) row-major in place (not transposed)
 *   dot     op(B) with K contiguous: transposed B, or a single column
 *           (N = 1: a matrix-vector product along K, no nr padding)
 *
 * The kernels add C as they store when beta is 1 and C is a row, a bias
 * row or a bias column; other forms are written into Y first as beta*C
 * and the kernel accumulates onto them.  Threads split M (or N when M is too short)
 * only when each one gets enough work to pay for its dispatch.
 */
#include "cpu_simd/gemm.h"

/* One thread's rate on these kernels for the sizes they take (flop per
 * ns; 32 x 32 x 512 runs at ~45 on avx512 here): the estimate that picks
 * the thread count (seqk__pool_threads_for). */
#define SMALL_FLOP_PER_NS 40.0
/* Up to this M*N*K the direct kernels beat packing (the operands sit in
 * L1/L2 while they are re-read); larger problems take the blocked GEMM. */
#define SMALL_MAX_MNK (1 << 21)
/* A transposed B costs one horizontal sum per output in the dot kernel:
 * only for the tiniest problems. */
#define DOT_MAX_MNK (1 << 16)

int seqk__cpu_gemm_small_kind(const seqk_cpu_isa *isa,
                             const seqk_gemm_problem *p)
{
    const seqk_gemm_kernels *k = isa->gemm;
    if (!k || !k->small || !k->dot || p->trans_a || p->M <= 0 ||
        p->N <= 0 || p->K <= 0 || p->alpha == 0.0f)
        return SEQK_GEMM_SMALL_NONE;
    const double mnk = (double)p->M * (double)p->N * (double)p->K;
    /* one column with K contiguous: dot products at any size */
    if (p->N == 1 && (p->trans_b || p->ldb == 1))
        return SEQK_GEMM_SMALL_DOT;
    if (p->trans_b)
        return mnk <= DOT_MAX_MNK ? SEQK_GEMM_SMALL_DOT
                                  : SEQK_GEMM_SMALL_NONE;
    return mnk <= SMALL_MAX_MNK ? SEQK_GEMM_SMALL_B : SEQK_GEMM_SMALL_NONE;
}

void seqk__cpu_gemm_small_block(const seqk_cpu_isa *isa,
                                const seqk_gemm_problem *p, int kind,
                                int64_t i0, int64_t i1, int64_t j0,
                                int64_t j1)
{
    const seqk_gemm_kernels *k = isa->gemm;
    if (i0 >= i1 || j0 >= j1)
        return;
    int add = 0;
    const float *c = NULL;
    if (p->C && p->beta != 0.0f) {
        if (p->beta == 1.0f && (p->c_sn == 0 || p->c_sn == 1)) {
            /* the kernel adds C as it stores (a bias row or column) */
            c = p->C + i0 * p->c_sm + j0 * p->c_sn;
        } else {
            for (int64_t i = i0; i < i1; i++)
                seqk__gemm_c_row(p->Y + i * p->ldy + j0,
                                 p->C + i * p->c_sm + j0 * p->c_sn, p->c_sn,
                                 p->beta, j1 - j0, 0);
            add = 1;
        }
    }
    /* op(B) column j starts at B + j (small) or B + j*ldb (dot) */
    const float *b = p->B + (kind == SEQK_GEMM_SMALL_DOT ? j0 * p->ldb : j0);
    (kind == SEQK_GEMM_SMALL_DOT ? k->dot : k->small)(
        i1 - i0, j1 - j0, p->K, p->A + i0 * p->lda, p->lda, b, p->ldb,
        p->Y + i0 * p->ldy + j0, p->ldy, p->alpha, add, c, p->c_sm,
        p->c_sn);
}

typedef struct small_job {
    const seqk_cpu_isa *isa;
    const seqk_gemm_problem *p;
    int kind, split_n;
    int64_t align;
} small_job;

static void small_task(void *arg, int tid, int ntasks)
{
    const small_job *job = arg;
    const seqk_gemm_problem *p = job->p;
    int64_t a, b;
    if (job->split_n) {
        seqk__split_range(p->N, job->align, tid, ntasks, &a, &b);
        seqk__cpu_gemm_small_block(job->isa, p, job->kind, 0, p->M, a, b);
    } else {
        seqk__split_range(p->M, job->align, tid, ntasks, &a, &b);
        seqk__cpu_gemm_small_block(job->isa, p, job->kind, a, b, 0, p->N);
    }
}

seqk_status seqk__cpu_gemm_small(seqk_context *ctx, const seqk_cpu_isa *isa,
                                 const seqk_gemm_problem *p, int kind,
                                 int max_threads)
{
    small_job job = {isa, p, kind, 0, 4};
    int threads = ctx ? seqk__cpu_threads(ctx) : 1;
    if (max_threads > 0 && max_threads < threads)
        threads = max_threads;
    const double flops = 2.0 * (double)p->M * (double)p->N * (double)p->K;
    int n = seqk__pool_threads_for(threads, flops / SMALL_FLOP_PER_NS);
    if (n > 1) {
        /* rows in multiples of 4, or (too few rows) columns in panels */
        job.split_n = p->M < 8 * (int64_t)n;
        job.align = job.split_n ? (kind == SEQK_GEMM_SMALL_DOT
                                       ? 4
                                       : isa->gemm->nr)
                                : 4;
        const int64_t units = ((job.split_n ? p->N : p->M) + job.align - 1) /
                              job.align;
        if (n > units)
            n = (int)units;
    }
    seqk_threadpool *pool = n > 1 ? seqk__pool(ctx) : NULL;
    if (pool)
        seqk__pool_run_tasks(pool, small_task, &job, n);
    else
        seqk__cpu_gemm_small_block(isa, p, kind, 0, p->M, 0, p->N);
    return SEQK_OK;
}
