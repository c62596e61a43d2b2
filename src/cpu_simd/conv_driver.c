/*
 * conv_driver.c — Conv1d on the CPU backends through the ISA's GEMM
 * kernels: per batch item n and group g one product
 *
 *   Y[n, g*mg .. , :] = W_g [mg, cg*K] * col + B_g
 *   col [cg*K, Lout]:  col[c*K + k, t] = X[n, g*cg + c, t*stride +
 *                      k*dilation - pad_begin]  (0 outside [0, L))
 *
 * Small items (a speech front end: 32 x 64 outputs over 60 taps) write no
 * col at all.  The input is split by phase, padded with zeros:
 *
 *   P[r][c][u] = X[n, g*cg + c, u*stride + r - pad_begin]   r < stride
 *
 * so that with k*dilation = q*stride + r, col's row c*K + k is the
 * contiguous run P[r][c][q .. q + Lout): the direct small kernel
 * (tmpl/gemm_small.c, small_rows) reads those rows through a table of
 * row pointers built once, and W_g in place.  That copies X once instead
 * of K times.  Threads take whole items when together they pay for it,
 * each with its own buffers.
 *
 * Larger items (or an ISA without the direct kernels) write col (each
 * row's padding, then its interior without per-element bounds tests) and
 * run the library's GEMM, threaded on its own; a pointwise conv (K 1,
 * stride 1, dilation 1, no pad) uses X's rows as col directly.
 * The bias enters as GEMM's C (broadcast along the row: c_sm 1, c_sn 0).
 * A channels-last X ([N,L,C], x_nlc) is read by strides while P or col
 * is filled (position by position: its cg channels are adjacent), so a
 * Transpose(0,2,1) before the conv costs nothing; it never takes the
 * pointwise shortcut.
 *
 * Channels-last X with group 1 and dilation 1 (small items) takes neither:
 * Y's row t reads the contiguous run X[n] + (t*stride - pad_begin)*C of
 * K*C floats, so with X[n] zero-padded once (or in place when no pad is
 * read) the conv is one GEMM over overlapping windows,
 *
 *   Y[n] [Lout, M] = Win [Lout, K*C] (row stride stride*C) * Wr [K*C, M]
 *                    + B (a row),   Wr[k*C + c, m] = W[m, c, k]
 *
 * the direct small kernel with ldx = stride*C; Wr is reordered once per
 * call.  A channels-first Y goes through a per-thread [Lout, M] tile and
 * one transpose.  Every other path writes a channels-last Y the same way
 * (its [mg, Lout] block per item transposed into Y's columns).  No ISA
 * flags here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_simd/gemm.h"

/* One thread's rate on a small conv item, flop per ns (speech's conv1
 * items at ~45 on avx512 here): the estimate for seqk__pool_threads_for. */
#define CONV_FLOP_PER_NS 40.0
/* Items up to this many flops take the direct path (no col; threads over
 * items): a threaded GEMM gains nothing on them. */
#define CONV_ITEM_MAX_FLOPS 4.0e6

typedef struct conv_job {
    const seqk_cpu_isa *isa;
    const seqk_conv1d_problem *p;
    int64_t cg, mg, rows;
    int direct;   /* pointwise: X's rows are col */
    int phased;   /* the direct small kernel on phase buffers */
    int64_t lu;   /* phased: P's row length */
    int64_t buf_floats, buf_ptrs; /* per thread */
    float *buf;
    const float **ptrs;
    int windows;  /* channels-last windows GEMM (above) */
    int64_t xrows; /* windows: padded X rows read (0: X in place) */
    float *wr;    /* windows: Wr [K*C, M] */
    int64_t ybuf; /* per thread: floats of the [mg, Lout] / [Lout, M]
                     tile written before a transpose into Y (0: none) */
    seqk_status status[64];
} conv_job;

/* dst[j*ldd + i] = src[i*lds + j], i < rows, j < cols: a conv item's
 * block moved between Y's layouts (8 x 8 blocks keep both sides in
 * cache lines). */
static void transpose_block(int64_t rows, int64_t cols, const float *src,
                            int64_t lds, float *dst, int64_t ldd)
{
    for (int64_t i0 = 0; i0 < rows; i0 += 8)
        for (int64_t j0 = 0; j0 < cols; j0 += 8) {
            const int64_t i1 = i0 + 8 < rows ? i0 + 8 : rows;
            const int64_t j1 = j0 + 8 < cols ? j0 + 8 : cols;
            for (int64_t j = j0; j < j1; j++)
                for (int64_t i = i0; i < i1; i++)
                    dst[j * ldd + i] = src[i * lds + j];
        }
}

/* Item n through the windows GEMM; xp: this thread's padded-X rows,
 * yt: its [Lout, M] tile (channels-first Y only). */
static void item_windows(const conv_job *job, int64_t n, float *xp,
                         float *yt)
{
    const seqk_conv1d_problem *p = job->p;
    const int64_t C = p->C, M = p->M, Lout = p->Lout;
    const float *x = p->X + n * p->L * C;
    if (job->xrows) {
        /* rows [0, pad_begin) and [pad_begin + L, xrows) are zeros */
        const int64_t pb = p->pad_begin < job->xrows ? p->pad_begin
                                                     : job->xrows;
        int64_t nx = job->xrows - pb;
        nx = nx < p->L ? nx : p->L;
        memset(xp, 0, (size_t)(pb * C) * sizeof(float));
        memcpy(xp + pb * C, x, (size_t)(nx * C) * sizeof(float));
        memset(xp + (pb + nx) * C, 0,
               (size_t)((job->xrows - pb - nx) * C) * sizeof(float));
        x = xp;
    }
    float *y = p->Y + n * Lout * M;
    job->isa->gemm->small(Lout, M, job->rows, x, p->stride * C, job->wr, M,
                          yt ? yt : y, M, 1.0f, 0, p->B, 0, 1);
    if (yt)
        transpose_block(Lout, M, yt, M, y, Lout);
}

/* col for the group's cg channels x ([cg,L] rows of L, or channels-last:
 * positions C apart). */
static void im2col(const seqk_conv1d_problem *p, int64_t cg,
                   const float *x, float *col)
{
    const int64_t L = p->L, Lout = p->Lout, s = p->stride, C = p->C;
    for (int64_t k = 0; k < p->K; k++) {
        const int64_t off = k * p->dilation - p->pad_begin;
        /* t*s + off in [0, L) for t in [lo, hi) */
        int64_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
        int64_t hi = L - 1 - off < 0 ? 0 : (L - 1 - off) / s + 1;
        lo = lo < Lout ? lo : Lout;
        hi = hi < Lout ? hi : Lout;
        hi = hi > lo ? hi : lo;
        for (int64_t c = 0; c < cg; c++) {
            float *row = col + (c * p->K + k) * Lout;
            const float *xr = p->x_nlc ? x : x + c * L; /* NCL rows */
            for (int64_t t = 0; t < lo; t++)
                row[t] = 0.0f;
            for (int64_t t = hi; t < Lout; t++)
                row[t] = 0.0f;
            if (p->x_nlc) {
                continue;
            } else if (s == 1) {
                memcpy(row + lo, xr + lo + off,
                       (size_t)(hi - lo) * sizeof(float));
            } else {
                for (int64_t t = lo; t < hi; t++)
                    row[t] = xr[t * s + off];
            }
        }
        if (p->x_nlc)
            for (int64_t t = lo; t < hi; t++) {
                const float *xs = x + (t * s + off) * C;
                for (int64_t c = 0; c < cg; c++)
                    col[(c * p->K + k) * Lout + t] = xs[c];
            }
    }
}

/* The phase buffers P of the group's cg channels x (layout above; x as
 * in im2col). */
static void phase_split(const seqk_conv1d_problem *p, int64_t cg,
                        int64_t lu, const float *x, float *P)
{
    const int64_t L = p->L, s = p->stride, C = p->C;
    for (int64_t r = 0; r < s; r++) {
        const int64_t off = r - p->pad_begin;
        /* u*s + off in [0, L) for u in [lo, hi) */
        int64_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
        int64_t hi = L - 1 - off < 0 ? 0 : (L - 1 - off) / s + 1;
        lo = lo < lu ? lo : lu;
        hi = hi < lu ? hi : lu;
        hi = hi > lo ? hi : lo;
        for (int64_t c = 0; c < cg; c++) {
            float *row = P + (r * cg + c) * lu;
            const float *xr = p->x_nlc ? x : x + c * L; /* NCL rows */
            for (int64_t u = 0; u < lo; u++)
                row[u] = 0.0f;
            for (int64_t u = hi; u < lu; u++)
                row[u] = 0.0f;
            if (p->x_nlc) {
                continue;
            } else if (s == 1) {
                memcpy(row + lo, xr + lo + off,
                       (size_t)(hi - lo) * sizeof(float));
            } else if (s == 2) { /* a constant stride the compiler vectorizes */
                const float *xo = xr + off;
                for (int64_t u = lo; u < hi; u++)
                    row[u] = xo[2 * u];
            } else {
                for (int64_t u = lo; u < hi; u++)
                    row[u] = xr[u * s + off];
            }
        }
        if (p->x_nlc) {
            float *pr = P + r * cg * lu;
            for (int64_t u = lo; u < hi; u++) {
                const float *xs = x + (u * s + off) * C;
                for (int64_t c = 0; c < cg; c++)
                    pr[c * lu + u] = xs[c];
            }
        }
    }
}

/* Item i's input channels: X[n, g*cg ..] (channels-last: X[n, 0, g*cg]). */
static const float *item_x(const conv_job *job, int64_t i)
{
    const seqk_conv1d_problem *p = job->p;
    return p->X + i / p->group * p->C * p->L +
           i % p->group * job->cg * (p->x_nlc ? 1 : p->L);
}

/* Item i's GEMM, its col written into col first (unless direct). */
static seqk_gemm_problem item_gemm(const conv_job *job, int64_t i,
                                   float *col, float *yt)
{
    const seqk_conv1d_problem *p = job->p;
    const int64_t n = i / p->group, g = i % p->group;
    const float *x = item_x(job, i);
    if (!job->direct)
        im2col(p, job->cg, x, col);
    seqk_gemm_problem gp = {
        .M = job->mg, .N = p->Lout, .K = job->rows, .alpha = 1.0f,
        .beta = p->B ? 1.0f : 0.0f,
        .A = p->W + g * job->mg * job->rows, .lda = job->rows,
        .B = job->direct ? x : col, .ldb = p->Lout,
        .C = p->B ? p->B + g * job->mg : NULL, .c_sm = 1, .c_sn = 0,
        .Y = yt ? yt : p->Y + (n * p->M + g * job->mg) * p->Lout,
        .ldy = p->Lout};
    return gp;
}

/* Item i through the direct kernel on this thread's phase buffers. */
static void item_phased(const conv_job *job, int64_t i, float *P,
                        const float **ptrs, float *yt)
{
    const seqk_conv1d_problem *p = job->p;
    const seqk_gemm_kernels *kern = job->isa->gemm;
    const int64_t n = i / p->group, g = i % p->group;
    phase_split(p, job->cg, job->lu, item_x(job, i), P);
    /* the bias, one value per output row, added to each tile in L1 */
    kern->small_rows(job->mg, p->Lout, job->rows,
                     p->W + g * job->mg * job->rows, job->rows, ptrs,
                     yt ? yt : p->Y + (n * p->M + g * job->mg) * p->Lout,
                     p->Lout, 1.0f, 0, p->B ? p->B + g * job->mg : NULL, 1,
                     0);
}

/* A channels-last Y: item i's [mg, Lout] block yt into Y[n, :, g*mg ..]. */
static void item_to_nlc(const conv_job *job, int64_t i, const float *yt)
{
    const seqk_conv1d_problem *p = job->p;
    const int64_t n = i / p->group, g = i % p->group;
    transpose_block(job->mg, p->Lout, yt, p->Lout,
                    p->Y + n * p->Lout * p->M + g * job->mg, p->M);
}

static void conv_items(void *arg, int tid, int ntasks)
{
    conv_job *job = arg;
    const seqk_conv1d_problem *p = job->p;
    float *buf = job->buf ? job->buf + (int64_t)tid * job->buf_floats : NULL;
    float *yt = job->ybuf ? buf + job->buf_floats - job->ybuf : NULL;
    const float **ptrs = NULL;
    if (job->phased) {
        /* col's row c*K + k is P[r][c] + q, k*dilation = q*stride + r */
        ptrs = job->ptrs + (int64_t)tid * job->buf_ptrs;
        for (int64_t c = 0; c < job->cg; c++)
            for (int64_t k = 0; k < p->K; k++) {
                const int64_t kd = k * p->dilation;
                ptrs[c * p->K + k] = buf + ((kd % p->stride) * job->cg + c) *
                                               job->lu +
                                     kd / p->stride;
            }
    }
    int64_t i0, i1;
    seqk__split_range(p->N * p->group, 1, tid, ntasks, &i0, &i1);
    for (int64_t i = i0; i < i1; i++) {
        if (job->windows) {
            item_windows(job, i, buf, yt);
            continue;
        }
        if (job->phased) {
            item_phased(job, i, buf, ptrs, yt);
        } else {
            seqk_gemm_problem gp = item_gemm(job, i, buf, yt);
            seqk_status st = seqk__cpu_gemm_1t(job->isa, &gp);
            if (st != SEQK_OK)
                job->status[tid] = st;
        }
        if (yt)
            item_to_nlc(job, i, yt);
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
                 p->Lout == p->L && !p->x_nlc;
    const int64_t items = p->N * p->group;
    if (items == 0 || p->Lout == 0 || job.mg == 0)
        return SEQK_OK;

    /* small items: the direct kernel, threads over items when together
     * they pay for it */
    const double item_flops = 2.0 * (double)job.mg * (double)p->Lout *
                              (double)job.rows;
    const int small = item_flops <= CONV_ITEM_MAX_FLOPS;
    int nt = 1;
    if (small) {
        int threads = seqk__cpu_threads(ctx);
        threads = threads > 64 ? 64 : threads;
        nt = seqk__pool_threads_for(threads, item_flops * (double)items /
                                                 CONV_FLOP_PER_NS);
        nt = nt < items ? nt : (int)items;
    }
    /* (no more phases than taps: a stride past K would copy X's unused
     * columns into phases no tap reads) */
    job.windows = small && p->x_nlc && p->group == 1 && p->dilation == 1 &&
                  isa->gemm->small && job.rows > 0;
    job.phased = small && !job.windows && !job.direct &&
                 isa->gemm->small_rows && job.rows > 0 && p->stride <= p->K;
    int64_t floats = 0, yfl = 0;
    int ovf = seqk__mul_i64(job.mg, p->Lout, &yfl);
    if (job.windows) {
        /* window rows read: (Lout-1)*stride + K; X in place when they all
         * lie in X[n] */
        const int64_t need = (p->Lout - 1) * p->stride + p->K;
        job.xrows = p->pad_begin == 0 && need <= p->L ? 0 : need;
        ovf = ovf || seqk__mul_i64(job.xrows, p->C, &floats);
    } else if (job.phased) {
        /* P: stride phases x cg rows of Lout + the largest q */
        job.lu = p->Lout + (p->K - 1) * p->dilation / p->stride;
        ovf = ovf || seqk__mul_i64(p->stride * job.cg, job.lu, &floats);
        job.buf_ptrs = job.rows;
    } else if (!job.direct) {
        ovf = ovf || seqk__mul_i64(job.rows, p->Lout, &floats);
    }
    /* a tile in the other layout, transposed into Y: the windows GEMM
     * makes [Lout, M], every other path [mg, Lout] */
    if (job.windows != p->y_nlc) {
        job.ybuf = (yfl + 15) / 16 * 16;
        floats += job.ybuf;
    }
    if (ovf || floats > (int64_t)(SIZE_MAX / sizeof(float)) / 2 / nt)
        return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                           "Conv: the %s buffer of %lld x %lld overflows",
                           job.phased ? "input" : "im2col",
                           (long long)job.rows, (long long)p->Lout);
    if (floats > 0) {
        /* whole cache lines per thread */
        job.buf_floats = (floats + 15) / 16 * 16;
        job.buf = seqk__aligned_alloc((size_t)job.buf_floats * (size_t)nt *
                                      sizeof(float));
        job.ptrs = job.buf_ptrs ? malloc(sizeof *job.ptrs *
                                         (size_t)(job.buf_ptrs * nt))
                                : NULL;
        if (!job.buf || (job.buf_ptrs && !job.ptrs)) {
            st = seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                             "Conv: out of memory for the %s buffer (%lld "
                             "floats)", job.phased ? "input" : "im2col",
                             (long long)floats);
            goto cleanup;
        }
    }
    if (job.windows) {
        /* Wr[k*C + c, m] = W[m, c, k]: the GEMM's B, read by every item */
        const int64_t C = p->C, K = p->K, M = p->M;
        job.wr = seqk__aligned_alloc((size_t)(job.rows * M) * sizeof(float));
        if (!job.wr) {
            st = seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                             "Conv: out of memory for the reordered weight "
                             "(%lld floats)", (long long)(job.rows * M));
            goto cleanup;
        }
        for (int64_t m = 0; m < M; m++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t k = 0; k < K; k++)
                    job.wr[(k * C + c) * M + m] = p->W[(m * C + c) * K + k];
    }
    seqk_threadpool *pool = nt > 1 ? seqk__pool(ctx) : NULL;
    if (small) {
        if (pool)
            seqk__pool_run_tasks(pool, conv_items, &job, nt);
        else
            conv_items(&job, 0, 1);
        for (int t = 0; t < nt && st == SEQK_OK; t++)
            if (job.status[t] != SEQK_OK)
                st = seqk__error(ctx, job.status[t],
                                 "Conv: out of memory for packing buffers");
    } else {
        float *yt = job.ybuf ? job.buf + job.buf_floats - job.ybuf : NULL;
        for (int64_t i = 0; i < items && st == SEQK_OK; i++) {
            seqk_gemm_problem gp = item_gemm(&job, i, job.buf, yt);
            st = seqk__cpu_gemm(ctx, isa, &gp);
            if (yt)
                item_to_nlc(&job, i, yt);
        }
    }
cleanup:
    seqk__aligned_free(job.buf);
    seqk__aligned_free(job.wr);
    free(job.ptrs);
    return st;
}
