/*
 * conv_driver.c — Conv1d on the CPU backends through the ISA's GEMM
 * (gemm_driver.c): per batch item n and group g, im2col then one GEMM.
 * No ISA flags here.
 *
 *   col [cg*K, Lout]:  col[c*K + k, t] = X[n, g*cg + c, t*stride +
 *                      k*dilation - pad_begin]  (0 outside [0, L))
 *   Y[n, g*mg .. , :] = W_g [mg, cg*K] * col + B_g  (bias as GEMM's C,
 *                      broadcast along the row: c_sm 1, c_sn 0)
 *
 * A pointwise conv (K 1, stride 1, dilation 1, no pad) uses X's rows as
 * col directly.  im2col fills each row's padding and copies its interior
 * without a per-element bounds test.
 *
 * Threads: when the (batch item, group) products are small (a speech
 * front end: 32 x 64 outputs per item) and together pay for threads,
 * threads take whole items, each with its own col buffer and one-thread
 * GEMMs (the direct kernels for such sizes); otherwise items run in turn
 * with the GEMM threaded as the library's GEMM is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_simd/gemm.h"

/* One thread's rate on a conv's GEMM plus im2col at these sizes, flop per
 * ns (for seqk__pool_threads_for). */
#define CONV_FLOP_PER_NS 30.0
/* Items per thread above which items are split rather than each GEMM:
 * products up to this many flops gain nothing from a threaded GEMM. */
#define CONV_ITEM_MAX_FLOPS 4.0e6

typedef struct conv_job {
    const seqk_cpu_isa *isa;
    const seqk_conv1d_problem *p;
    int64_t cg, mg, rows, col_floats;
    int direct;
    float *col; /* col_floats per thread */
    seqk_status status[64];
} conv_job;

/* col for item x (the group's cg channels). */
static void im2col(const seqk_conv1d_problem *p, int64_t cg,
                   const float *x, float *col)
{
    const int64_t L = p->L, Lout = p->Lout, s = p->stride;
    for (int64_t c = 0; c < cg; c++)
        for (int64_t k = 0; k < p->K; k++) {
            float *row = col + (c * p->K + k) * Lout;
            const float *xr = x + c * L;
            const int64_t off = k * p->dilation - p->pad_begin;
            /* t*s + off in [0, L) for t in [lo, hi) */
            int64_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
            int64_t hi = L - 1 - off < 0 ? 0 : (L - 1 - off) / s + 1;
            lo = lo < Lout ? lo : Lout;
            hi = hi < Lout ? hi : Lout;
            hi = hi > lo ? hi : lo;
            for (int64_t t = 0; t < lo; t++)
                row[t] = 0.0f;
            if (s == 1) {
                memcpy(row + lo, xr + lo + off,
                       (size_t)(hi - lo) * sizeof(float));
            } else {
                for (int64_t t = lo; t < hi; t++)
                    row[t] = xr[t * s + off];
            }
            for (int64_t t = hi; t < Lout; t++)
                row[t] = 0.0f;
        }
}

/* The GEMM of item n, group g, its col in col (unused when direct). */
static seqk_gemm_problem item_gemm(const conv_job *job, int64_t n,
                                   int64_t g, float *col)
{
    const seqk_conv1d_problem *p = job->p;
    const float *x = p->X + (n * p->C + g * job->cg) * p->L;
    if (!job->direct)
        im2col(p, job->cg, x, col);
    seqk_gemm_problem gp = {
        .M = job->mg, .N = p->Lout, .K = job->rows, .alpha = 1.0f,
        .beta = p->B ? 1.0f : 0.0f,
        .A = p->W + g * job->mg * job->rows, .lda = job->rows,
        .B = job->direct ? x : col, .ldb = p->Lout,
        .C = p->B ? p->B + g * job->mg : NULL, .c_sm = 1, .c_sn = 0,
        .Y = p->Y + (n * p->M + g * job->mg) * p->Lout, .ldy = p->Lout};
    return gp;
}

static void conv_items(void *arg, int tid, int ntasks)
{
    conv_job *job = arg;
    const seqk_conv1d_problem *p = job->p;
    float *col = job->col ? job->col + (int64_t)tid * job->col_floats : NULL;
    int64_t i0, i1;
    seqk__split_range(p->N * p->group, 1, tid, ntasks, &i0, &i1);
    for (int64_t i = i0; i < i1; i++) {
        seqk_gemm_problem gp = item_gemm(job, i / p->group, i % p->group,
                                         col);
        seqk_status st = seqk__cpu_gemm_1t(job->isa, &gp);
        if (st != SEQK_OK)
            job->status[tid] = st;
    }
}

seqk_status seqk__cpu_conv1d(seqk_context *ctx, const seqk_cpu_isa *isa,
                             const seqk_conv1d_problem *p)
{
    seqk_status st = SEQK_OK;
    conv_job job = {.isa = isa, .p = p};
    job.cg = p->C / p->group;
    job.mg = p->M / p->group;
    job.rows = job.cg * p->K; /* <= W's numel: no overflow */
    job.direct = p->K == 1 && p->stride == 1 && p->pad_begin == 0 &&
                 p->Lout == p->L;
    const int64_t items = p->N * p->group;
    if (items == 0)
        return SEQK_OK;

    /* threads over items when each is too small to thread on its own */
    const double item_flops = 2.0 * (double)job.mg * (double)p->Lout *
                              (double)job.rows;
    int threads = seqk__cpu_threads(ctx);
    threads = threads > 64 ? 64 : threads;
    int nt = 1;
    if (item_flops <= CONV_ITEM_MAX_FLOPS) {
        nt = seqk__pool_threads_for(threads, item_flops * (double)items /
                                                 CONV_FLOP_PER_NS);
        nt = nt < items ? nt : (int)items;
    }
    if (!job.direct) {
        int64_t n;
        if (seqk__mul_i64(job.rows, p->Lout, &n) ||
            n > (int64_t)(SIZE_MAX / sizeof(float)) / nt)
            return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                               "Conv: im2col of %lld x %lld overflows",
                               (long long)job.rows, (long long)p->Lout);
        /* a whole number of cache lines per thread's buffer */
        job.col_floats = (n + 15) / 16 * 16;
        job.col = seqk__aligned_alloc(
            (size_t)(job.col_floats ? job.col_floats : 16) * (size_t)nt *
            sizeof(float));
        if (!job.col)
            return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                               "Conv: out of memory for the im2col buffer "
                               "(%lld floats)", (long long)n);
    }
    seqk_threadpool *pool = nt > 1 ? seqk__pool(ctx) : NULL;
    if (pool) {
        seqk__pool_run_tasks(pool, conv_items, &job, nt);
        for (int t = 0; t < nt && st == SEQK_OK; t++)
            if (job.status[t] != SEQK_OK)
                st = seqk__error(ctx, job.status[t],
                                 "Conv: out of memory for packing buffers");
    } else if (item_flops <= CONV_ITEM_MAX_FLOPS) {
        conv_items(&job, 0, 1);
        if (job.status[0] != SEQK_OK)
            st = seqk__error(ctx, job.status[0],
                             "Conv: out of memory for packing buffers");
    } else {
        for (int64_t i = 0; i < items && st == SEQK_OK; i++) {
            seqk_gemm_problem gp = item_gemm(&job, i / p->group,
                                             i % p->group, job.col);
            st = seqk__cpu_gemm(ctx, isa, &gp);
        }
    }
    seqk__aligned_free(job.col);
    return st;
}
