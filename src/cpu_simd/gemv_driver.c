/*
 * gemv_driver.c — the GEMM of a linear plan (problem b_cache set).  One
 * output feature (N = 1) runs as dot products on W's row in place
 * (gemm_driver_small.c); otherwise op(B) is packed once into the plan's
 * slot, then
 *
 *   M <= SEQK_GEMV_MAX_ROWS   matrix-vector product: threads split the
 *                             nr-column panels; each panel streams once
 *                             through the ISA's gemv kernel for all M rows
 *                             (the weights are the traffic: M*N*K flops
 *                             over N*K*4 bytes)
 *   M <= SEQK_SKINNY_MAX_ROWS the same split, through the skinny kernel
 *                             (register tiles of rows, x read in place,
 *                             the next panel prefetched)
 *   larger M, N <= 128        the direct small kernel (panels in L1/L2,
 *                             bias added in its store) or the skinny
 *                             kernel, threads splitting the rows (A read
 *                             in place, no tile setup)
 *   larger M                  the blocked GEMM (gemm_driver.c) reading the
 *                             same panels instead of packing B per call
 *
 *   packed B: panel q = columns q*nr .. q*nr+nr-1 of op(B), K rows:
 *             bp[q*K*nr + p*nr + j] = op(B)[p, q*nr + j]   (0 past N)
 *
 * The packed layout depends on the ISA's nr, so the slot records which
 * ISA packed it (owner) and is repacked when another ISA runs the plan.
 *
 * A bf16 plan (p->b_bf16: B's values are bf16 already, core/bf16.h) keeps
 * the same panels as bf16 for the matrix-vector product (gemv_bf16, half
 * the bytes to stream) and packs the f32 panels only if more rows come
 * (same values, so the same results either way, only no gain there).
 */
#include <stdlib.h>
#include <string.h>

#include "core/bf16.h"
#include "cpu_simd/gemm.h"
#include "cpu_simd/rnn.h" /* isa->rnn->vlen: the vector width */

/* One core streams packed weights from L2/L3 at ~100 GB/s (bench/decode.sh,
 * 1 thread: 0.52 MB in 5.1 us, 3.07 MB in 37 us): the time estimate that
 * picks the thread count (seqk__pool_threads_for). */
#define GEMV_NS_PER_BYTE 0.01

/* Columns up to which a cached linear of many rows runs through the
 * skinny kernel (rows in place) rather than the blocked GEMM (A packed
 * per call): transformer_layer's 512 x 96 x 32 QKV projection runs
 * faster so. */
#define SKINNY_CACHED_MAX_COLS 128

static void cache_free(void *data) { seqk__aligned_free(data); }

/* The slot of a bf16 plan: either kind of panels, each packed on first
 * use. */
typedef struct bf16_slot {
    float *f32;
    uint16_t *h;
} bf16_slot;

static void bf16_slot_free(void *data)
{
    bf16_slot *s = data;
    if (s) {
        seqk__aligned_free(s->f32);
        seqk__aligned_free(s->h);
        free(s);
    }
}

/* op(B) of p packed into new f32 panels (*out; seqk__aligned_free). */
static seqk_status pack_f32(seqk_context *ctx, const seqk_gemm_kernels *kern,
                            const seqk_gemm_problem *p, float **out)
{
    const int64_t floats = seqk__cpu_gemm_packed_b_floats(p->K, p->N,
                                                          kern->nr);
    *out = NULL;
    if ((uint64_t)floats > SIZE_MAX / sizeof(float))
        return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                           "Linear: packed weights of %lld x %lld are "
                           "too large", (long long)p->K, (long long)p->N);
    float *bp = seqk__aligned_alloc((size_t)floats * sizeof(float));
    if (!bp)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "Linear: out of memory packing %lld x %lld "
                           "weights", (long long)p->K, (long long)p->N);
    /* op(B)[k, n] = B[k*ldb + n], or B[n*ldb + k] transposed */
    seqk__cpu_gemm_pack_b(kern, p->K, p->N, p->B, p->trans_b ? 1 : p->ldb,
                          p->trans_b ? p->ldb : 1, bp);
    *out = bp;
    return SEQK_OK;
}

/* The bf16 panels of slot s (from its f32 panels or packed afresh), in
 * the kernel's pairwise layout (rows of nr / V vectors). */
static seqk_status pack_bf16(seqk_context *ctx, const seqk_cpu_isa *isa,
                             const seqk_gemm_problem *p, bf16_slot *s)
{
    const seqk_gemm_kernels *kern = isa->gemm;
    const int V = isa->rnn->vlen;
    const int64_t n = seqk__cpu_gemm_packed_b_floats(p->K, p->N, kern->nr);
    float *f = s->f32;
    seqk_status st = SEQK_OK;
    if (!f && (st = pack_f32(ctx, kern, p, &f)))
        return st;
    s->h = seqk__aligned_alloc((size_t)n * sizeof(uint16_t));
    if (s->h)
        seqk__bf16_pack_rows(f, s->h, n / kern->nr, kern->nr / V, V);
    else
        st = seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                         "Linear: out of memory packing %lld x %lld bf16 "
                         "weights", (long long)p->K, (long long)p->N);
    if (f != s->f32)
        seqk__aligned_free(f);
    return st;
}

static seqk_status skinny_run(seqk_context *ctx, const seqk_cpu_isa *isa,
                              const seqk_gemm_problem *p, const float *bp);

/* Panels up to this size (K x nr floats) run many rows through the
 * direct small kernel (each register tile re-reads the panel from L1/L2);
 * larger ones through the skinny driver, which blocks K. */
#define PANEL_DIRECT_BYTES (64 * 1024)
/* One thread's rate there (flop per ns, padded columns counted). */
#define PANEL_FLOP_PER_NS 50.0

typedef struct panels_job {
    const seqk_gemm_kernels *kern;
    const seqk_gemm_problem *p;
    const float *bp;
} panels_job;

static void panels_worker(void *arg, int tid, int ntasks)
{
    const panels_job *job = arg;
    const seqk_gemm_problem *p = job->p;
    const int64_t nr = job->kern->nr;
    int64_t i0, i1;
    seqk__split_range(p->M, 4, tid, ntasks, &i0, &i1);
    if (i0 >= i1)
        return;
    const float *c = NULL;
    int add = 0;
    if (p->C && p->beta != 0.0f) {
        if (p->beta == 1.0f && (p->c_sn == 0 || p->c_sn == 1)) {
            c = p->C + i0 * p->c_sm; /* added as the kernel stores */
        } else {
            for (int64_t i = i0; i < i1; i++)
                seqk__gemm_c_row(p->Y + i * p->ldy, p->C + i * p->c_sm,
                                 p->c_sn, p->beta, p->N, 0);
            add = 1;
        }
    }
    for (int64_t j = 0; j < p->N; j += nr)
        job->kern->small(i1 - i0, p->N - j < nr ? p->N - j : nr, p->K,
                         p->A + i0 * p->lda, p->lda, job->bp + j * p->K, nr,
                         p->Y + i0 * p->ldy + j, p->ldy, p->alpha, add,
                         c ? c + j * p->c_sn : NULL, p->c_sm, p->c_sn);
}

/* Rows of A against the cached panels bp through the direct kernel,
 * threads splitting the rows when the work pays for them. */
static seqk_status panels_run(seqk_context *ctx, const seqk_cpu_isa *isa,
                              const seqk_gemm_problem *p, const float *bp)
{
    panels_job job = {isa->gemm, p, bp};
    const int64_t ncols = (p->N + isa->gemm->nr - 1) / isa->gemm->nr *
                          isa->gemm->nr;
    const double flops = 2.0 * (double)p->M * (double)ncols * (double)p->K;
    int n = seqk__pool_threads_for(seqk__cpu_threads(ctx),
                                   flops / PANEL_FLOP_PER_NS);
    if (n > p->M / 16)
        n = (int)(p->M / 16);
    seqk_threadpool *pool = n > 1 ? seqk__pool(ctx) : NULL;
    if (pool)
        seqk__pool_run_tasks(pool, panels_worker, &job, n);
    else
        panels_worker(&job, 0, 1);
    return SEQK_OK;
}

typedef struct gemv_job {
    const seqk_gemm_kernels *kern;
    const seqk_gemm_problem *p;
    const float *bp;
    const uint16_t *bh; /* the bf16 panels instead, or NULL */
} gemv_job;

static void gemv_worker(void *arg, int tid, int nthreads)
{
    const gemv_job *job = arg;
    const seqk_gemm_problem *p = job->p;
    const int64_t nr = job->kern->nr;
    const float *C = p->C && p->beta != 0.0f ? p->C : NULL;
    int64_t j0, j1;
    seqk__split_range(p->N, nr, tid, nthreads, &j0, &j1);
    for (int64_t j = j0; j < j1; j += nr) {
        const int64_t n = j1 - j < nr ? j1 - j : nr;
        const float *bp = job->bp ? job->bp + j * p->K : NULL;
        if (job->bh)
            job->kern->gemv_bf16(p->M, n, p->K, p->A, p->lda,
                                 job->bh + j * p->K, p->Y + j, p->ldy,
                                 p->alpha);
        else if (p->M <= SEQK_GEMV_MAX_ROWS)
            job->kern->gemv(p->M, n, p->K, p->A, p->lda, bp, p->Y + j,
                            p->ldy, p->alpha);
        else /* panels are contiguous: the next one follows this one */
            job->kern->skinny(p->M, n, p->K, p->A, p->lda, bp, p->Y + j,
                              p->ldy, p->alpha, 0,
                              j + nr < j1 ? bp + nr * p->K : NULL);
        if (!C)
            continue;
        /* + beta*C while the slab is hot */
        for (int64_t i = 0; i < p->M; i++)
            seqk__gemm_c_row(p->Y + i * p->ldy + j,
                             C + i * p->c_sm + j * p->c_sn, p->c_sn,
                             p->beta, n, 1);
    }
}

seqk_status seqk__cpu_gemm_cached(seqk_context *ctx, const seqk_cpu_isa *isa,
                                 const seqk_gemm_problem *p)
{
    const seqk_gemm_kernels *kern = isa->gemm;
    seqk_backend_cache *cache = p->b_cache;
    /* nothing to multiply, or A transposed: the plain driver knows */
    if (p->M == 0 || p->N == 0 || p->K == 0 || p->alpha == 0.0f ||
        p->trans_a)
        return seqk__cpu_gemm_ex(ctx, isa, p, NULL, 0);
    /* one output feature: dot products with W's row in place (a panel
     * would pad it to nr columns) */
    if (p->N == 1) {
        const int kind = seqk__cpu_gemm_small_kind(isa, p);
        if (kind)
            return seqk__cpu_gemm_small(ctx, isa, p, kind, 0);
    }

    const int bf = p->b_bf16 && kern->gemv && kern->gemv_bf16 && isa->rnn;
    if (cache->owner != isa || !cache->data) {
        void *data = NULL;
        seqk_status st = SEQK_OK;
        if (bf) {
            data = calloc(1, sizeof(bf16_slot));
            if (!data)
                return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                                   "Linear: out of memory");
        } else {
            float *f = NULL;
            if ((st = pack_f32(ctx, kern, p, &f)))
                return st;
            data = f;
        }
        if (cache->data && cache->free_fn)
            cache->free_fn(cache->data);
        cache->owner = isa;
        cache->data = data;
        cache->free_fn = bf ? bf16_slot_free : cache_free;
    }
    const float *bp = cache->data;
    const uint16_t *bh = NULL;
    if (bf) {
        bf16_slot *slot = cache->data;
        seqk_status st = SEQK_OK;
        if (p->M <= SEQK_GEMV_MAX_ROWS) {
            if (!slot->h && (st = pack_bf16(ctx, isa, p, slot)))
                return st;
            bh = slot->h;
        } else if (!slot->f32 && (st = pack_f32(ctx, kern, p, &slot->f32))) {
            return st;
        }
        bp = slot->f32;
    }

    /* many rows, few columns: the rows in place against the cached
     * panels (no A packing, no tile setup); panels that stay in L1/L2
     * through the direct kernel, which adds the bias as it stores */
    if (p->M > SEQK_SKINNY_MAX_ROWS && p->N <= SKINNY_CACHED_MAX_COLS) {
        if (kern->small && p->K * kern->nr * 4 <= PANEL_DIRECT_BYTES)
            return panels_run(ctx, isa, p, bp);
        if (kern->skinny)
            return skinny_run(ctx, isa, p, bp);
    }
    if (!kern->gemv || (p->M > SEQK_GEMV_MAX_ROWS &&
                        (p->M > SEQK_SKINNY_MAX_ROWS || !kern->skinny)))
        return seqk__cpu_gemm_prepacked_b(ctx, isa, p, bp);

    gemv_job job = {kern, p, bh ? NULL : bp, bh};
    const int64_t panels = (p->N + kern->nr - 1) / kern->nr;
    int nthreads = seqk__pool_threads_for(
        seqk__cpu_threads(ctx), (double)p->N * (double)p->K *
                                    (bh ? 2.0 : 4.0) * GEMV_NS_PER_BYTE);
    if (nthreads > panels)
        nthreads = (int)panels;
    seqk_threadpool *pool = nthreads > 1 ? seqk__pool(ctx) : NULL;
    if (pool)
        seqk__pool_run_tasks(pool, gemv_worker, &job, nthreads);
    else
        gemv_worker(&job, 0, 1);
    return SEQK_OK;
}

/* ------------------------------------------------- GEMM with few columns */

/* Rows of A a thread takes at a time: their K columns stay in L2 while
 * every panel of B passes over them (at least one register tile). */
#define SKINNY_CHUNK_BYTES (256 * 1024)
/* K rows of a panel per pass: the panel part stays in L2 while every row
 * tile of the chunk streams it. */
#define SKINNY_PANEL_BYTES (256 * 1024)
/* One thread's rate through the skinny kernel at these sizes (flop per
 * ns, counting the padded columns), for seqk__pool_threads_for. */
#define SKINNY_FLOP_PER_NS 50.0

typedef struct skinny_job {
    const seqk_gemm_kernels *kern;
    const seqk_gemm_problem *p;
    const float *bp;
    int64_t rows, kb; /* rows per chunk, K rows per panel pass */
} skinny_job;

static void skinny_worker(void *arg, int tid, int nthreads)
{
    const skinny_job *job = arg;
    const seqk_gemm_problem *p = job->p;
    const int64_t nr = job->kern->nr, K = p->K;
    int64_t i0, i1;
    seqk__split_range(p->M, 1, tid, nthreads, &i0, &i1);
    for (int64_t i = i0; i < i1; i += job->rows) {
        const int64_t m = i1 - i < job->rows ? i1 - i : job->rows;
        const int from_c = p->C && p->beta != 0.0f;
        if (from_c) /* Y = beta*C first, as the blocked driver does */
            for (int64_t r = 0; r < m; r++)
                seqk__gemm_c_row(p->Y + (i + r) * p->ldy,
                                 p->C + (i + r) * p->c_sm, p->c_sn, p->beta,
                                 p->N, 0);
        for (int64_t j = 0; j < p->N; j += nr) {
            const int64_t n = p->N - j < nr ? p->N - j : nr;
            for (int64_t k0 = 0; k0 < K; k0 += job->kb) {
                const int64_t kk = K - k0 < job->kb ? K - k0 : job->kb;
                job->kern->skinny(m, n, kk, p->A + i * p->lda + k0, p->lda,
                                  job->bp + j * K + k0 * nr,
                                  p->Y + i * p->ldy + j, p->ldy, p->alpha,
                                  from_c || k0 > 0, NULL);
            }
        }
    }
}

int seqk__cpu_gemm_skinny_n(const seqk_cpu_isa *isa,
                           const seqk_gemm_problem *p)
{
    return isa->gemm->skinny && !p->trans_a && !p->b_cache && p->M > 0 &&
           p->N > 0 && p->N <= SEQK_SKINNY_MAX_COLS && p->K > 0 &&
           p->alpha != 0.0f;
}

seqk_status seqk__cpu_gemm_skinny(seqk_context *ctx, const seqk_cpu_isa *isa,
                                 const seqk_gemm_problem *p)
{
    const seqk_gemm_kernels *kern = isa->gemm;
    const int64_t floats = seqk__cpu_gemm_packed_b_floats(p->K, p->N,
                                                          kern->nr);
    if ((uint64_t)floats > SIZE_MAX / sizeof(float))
        return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                           "GEMM: packed B of %lld x %lld is too large",
                           (long long)p->K, (long long)p->N);
    float *bp = seqk__aligned_alloc((size_t)floats * sizeof(float));
    if (!bp)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "GEMM %lldx%lldx%lld: out of memory for packing "
                           "buffers",
                           (long long)p->M, (long long)p->N, (long long)p->K);
    seqk__cpu_gemm_pack_b(kern, p->K, p->N, p->B, p->trans_b ? 1 : p->ldb,
                          p->trans_b ? p->ldb : 1, bp);
    seqk_status st = skinny_run(ctx, isa, p, bp);
    seqk__aligned_free(bp);
    return st;
}

/* The skinny product of p's rows against packed panels bp. */
static seqk_status skinny_run(seqk_context *ctx, const seqk_cpu_isa *isa,
                              const seqk_gemm_problem *p, const float *bp)
{
    const seqk_gemm_kernels *kern = isa->gemm;
    skinny_job job = {kern, p, bp, 0, 0};
    job.rows = SKINNY_CHUNK_BYTES / 4 / p->K;
    if (job.rows < 16)
        job.rows = 16;
    job.kb = SKINNY_PANEL_BYTES / 4 / kern->nr;
    /* a thread per 16 rows at least, and per grain of work (at the
     * padded width the kernel computes) */
    const int64_t ncols = (p->N + kern->nr - 1) / kern->nr * kern->nr;
    const double flops = 2.0 * (double)p->M * (double)ncols * (double)p->K;
    int nthreads = seqk__pool_threads_for(seqk__cpu_threads(ctx),
                                          flops / SKINNY_FLOP_PER_NS);
    if (nthreads > p->M / 16)
        nthreads = (int)(p->M / 16);
    seqk_threadpool *pool = nthreads > 1 ? seqk__pool(ctx) : NULL;
    if (pool)
        seqk__pool_run_tasks(pool, skinny_worker, &job, nthreads);
    else
        skinny_worker(&job, 0, 1);
    return SEQK_OK;
}
