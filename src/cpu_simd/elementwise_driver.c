/*
 * elementwise_driver.c — the element-wise ops and ArgMax on the CPU
 * backends: walks the problem's rows and calls the ISA's row kernels
 * (elementwise.h).  No ISA flags here.
 *
 *   elementwise  Y's merged dims (problems.h): every run of the last
 *                dimension is one kernel call; the odometer over the
 *                leading dimensions moves each operand's offset by its
 *                strides (0 where it broadcasts); threads take
 *                contiguous ranges of Y's elements when the problem is
 *                large enough (ns_per_elem), starting mid-row
 *   argmax       contiguous rows only (inner == 1, ArgMax over the last
 *                axis, the decoder's case); other axes go to ref
 *
 * ArgMax stays on one thread: a decoder's vocabulary row is small.
 */
#include <stdio.h>

#include "cpu_simd/cpu_simd.h"
#include "cpu_simd/elementwise.h"

/* One thread's time per element (a memory-bound row kernel streaming
 * ~12 bytes an element at ~100 GB/s): the estimate that picks the thread
 * count.  Decoder-sized problems (a few thousand elements) stay on the
 * calling thread. */
#define EW_NS_PER_ELEM 0.1
/* The ops that evaluate a function per element are compute-bound: Tanh
 * (inline, ~25 zmm ops a vector) takes ~0.4 ns an element here, so a
 * decoder's [16, 32, 32] attention Tanh (6 us) is worth a second thread. */
#define EW_NS_PER_ELEM_MATH 0.4
/* Elements per thread share: multiples of a cache line of Y. */
#define EW_ALIGN 16

typedef struct ew_job {
    const seqk_ew_kernels *k;
    const seqk_elementwise_problem *p;
} ew_job;

/* Y's elements [e0, e1): the first and last runs may be partial rows. */
static void ew_range(const seqk_ew_kernels *k,
                     const seqk_elementwise_problem *p, int64_t e0,
                     int64_t e1)
{
    const int last = p->ndim - 1;
    const int64_t n = p->dims[last];
    const int64_t sa = p->a_str[last], sb = p->b_str[last];
    int64_t idx[SEQK_MAX_DIMS] = {0};
    /* f32 in and out: the driver takes only those (supports below) */
    const float *A = p->A, *B = p->B;
    float *Y = p->Y;
    int64_t ia = 0, ib = 0, c = e0 % n;
    /* the odometer at row e0 / n */
    for (int64_t d = last - 1, q = e0 / n; d >= 0; d--) {
        idx[d] = q % p->dims[d];
        q /= p->dims[d];
        ia += idx[d] * p->a_str[d];
        ib += idx[d] * p->b_str[d];
    }
    for (int64_t e = e0; e < e1; c = 0) {
        const int64_t len = n - c < e1 - e ? n - c : e1 - e;
        if (B)
            k->binary(p->op, len, A + ia + c * sa, sa, B + ib + c * sb, sb,
                      Y + e);
        else
            k->unary(p->op, len, p->alpha, p->beta, A + ia + c * sa, Y + e);
        e += len;
        for (int d = last - 1; d >= 0; d--) {
            ia += p->a_str[d];
            ib += p->b_str[d];
            if (++idx[d] < p->dims[d])
                break;
            ia -= p->a_str[d] * p->dims[d];
            ib -= p->b_str[d] * p->dims[d];
            idx[d] = 0;
        }
    }
}

static void ew_worker(void *arg, int tid, int nthreads)
{
    const ew_job *job = arg;
    int64_t e0, e1;
    seqk__split_range(job->p->numel, EW_ALIGN, tid, nthreads, &e0, &e1);
    if (e0 < e1)
        ew_range(job->k, job->p, e0, e1);
}

/* One thread's time per element of op. */
static double ns_per_elem(seqk_elementwise_op op)
{
    switch (op) {
    case SEQK_EW_POW:
    case SEQK_EW_TANH:
    case SEQK_EW_SIGMOID:
    case SEQK_EW_EXP:
    case SEQK_EW_LOG:
    case SEQK_EW_ERF:
    case SEQK_EW_GELU:
    case SEQK_EW_GELU_TANH:
        return EW_NS_PER_ELEM_MATH;
    default:
        return EW_NS_PER_ELEM;
    }
}

seqk_status seqk__cpu_elementwise(seqk_context *ctx, const seqk_cpu_isa *isa,
                                  const seqk_elementwise_problem *p)
{
    if (p->numel == 0)
        return SEQK_OK;
    ew_job job = {isa->ew, p};
    int nthreads = seqk__pool_threads_for(
        seqk__cpu_threads(ctx), (double)p->numel * ns_per_elem(p->op));
    seqk_threadpool *pool = nthreads > 1 ? seqk__pool(ctx) : NULL;
    if (pool)
        seqk__pool_run_tasks(pool, ew_worker, &job, nthreads);
    else
        ew_range(job.k, p, 0, p->numel);
    return SEQK_OK;
}

seqk_status seqk__cpu_argmax(seqk_context *ctx, const seqk_cpu_isa *isa,
                             const seqk_argmax_problem *p)
{
    (void)ctx;
    for (int64_t o = 0; o < p->outer; o++)
        p->Y[o] = isa->ew->argmax(p->n, p->X + o * p->n, p->select_last);
    return SEQK_OK;
}

seqk_status seqk__cpu_layer_norm(seqk_context *ctx, const seqk_cpu_isa *isa,
                                 const seqk_layer_norm_problem *p)
{
    (void)ctx;
    for (int64_t r = 0; r < p->rows && p->n > 0; r++)
        isa->ew->layer_norm_row(p->n, p->epsilon, p->X + r * p->n, p->scale,
                                p->bias, p->Y + r * p->n,
                                p->mean ? p->mean + r : NULL,
                                p->inv_std ? p->inv_std + r : NULL);
    return SEQK_OK;
}

int seqk__cpu_ew_supports(const seqk_cpu_isa *isa, seqk_op op,
                          const void *problem, char *why, size_t why_len)
{
    (void)isa;
    if (!problem || op == SEQK_OP_LAYER_NORM)
        return 1;
    if (op == SEQK_OP_ARGMAX) {
        const seqk_argmax_problem *p = problem;
        if (p->inner != 1) {
            snprintf(why, why_len, "ArgMax over an axis other than the "
                     "last (inner %lld): the kernel takes contiguous rows",
                     (long long)p->inner);
            return 0;
        }
        return 1;
    }
    const seqk_elementwise_problem *p = problem;
    const int last = p->ndim - 1;
    if (p->out_dtype != SEQK_F32) {
        snprintf(why, why_len, "comparisons and logic (bool out) run on "
                 "ref");
        return 0;
    }
    if ((p->a_str[last] != 0 && p->a_str[last] != 1) ||
        (p->B && p->b_str[last] != 0 && p->b_str[last] != 1)) {
        snprintf(why, why_len, "an innermost stride other than 0 or 1");
        return 0;
    }
    return 1;
}
