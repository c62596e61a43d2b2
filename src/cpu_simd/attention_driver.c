/*
 * attention_driver.c — Softmax, Attention and SeqAttention on the CPU SIMD
 * backend: blocking, packing and threading over the per-ISA kernels of
 * attention.h.  Compiled without ISA flags.
 *
 * Attention (flash-attention style, the Sq x Skv scores never exist):
 *
 *   work item = (batch b, query head h, block of 8*mr query rows)
 *   for each block of 512 keys the rows can see (causal: skip what lies
 *   above the diagonal, per group of mr rows):
 *     for each group of mr rows:
 *       s    = q . K^T          scores_packed (K^T packed per kv head)
 *                               or scores_rows (few query rows: unpacked)
 *       p    = exp(s' - m)      online_softmax_row: scale, softcap, mask,
 *                               running max m and sum l per row
 *       acc  = corr*acc + p.V   context
 *   y = acc / l  (0 for rows that saw no key)
 *
 * K^T of every kv head is packed once per call (threads split the
 * panels), then threads take work items one at a time from a shared
 * counter, so a late or slow thread (a busy machine) delays the end by one
 * item at most, and causal items of unequal cost balance themselves.
 * Every item is computed the same way whichever thread runs it, so results
 * do not depend on the thread count.
 *
 * Softmax: rows (inner == 1) or 64-column slabs split across threads.
 * SeqAttention: the query-side projections and, for additive scores,
 * W2 . keys for all keys at once (rows x packed weight panels, the same
 * score kernel), then one batch row per thread at a time.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "tune/tune.h"
#include "cpu_simd/attention.h"
#include "cpu_simd/cpu_simd.h"

#define ATTN_KERNELS(isa) ((const seqk_attn_kernels *)(isa)->attn)

/* One thread's time per unit of work (multiply-adds of the score and
 * context kernels; elements of Softmax; (Dk+Dv+A) per key of the additive
 * SeqAttention, whose tanh dominates), measured on avx512 here (quick and
 * decode suites, 1 thread): the estimates seqk__pool_threads_for turns
 * into a thread count. */
#define NS_PER_MAC 0.03
#define NS_PER_SOFTMAX_ELEM 0.3
#define NS_PER_ADDITIVE_UNIT 0.5

/* Attention blocking: a work item is ATTN_ROW_GROUPS groups of mr query
 * rows; keys go in blocks of ATTN_KEY_BLOCK (K^T and V of a block stay in
 * L2 while every row group of the item passes over them; long blocks
 * amortize the per-row cost of the online softmax). */
#define ATTN_ROW_GROUPS 8
#define ATTN_KEY_BLOCK 512

/* The tuner's view of that blocking (shape {Sq, Skv, Dh, Dv}): row_groups
 * and key_block, defaults ATTN_ROW_GROUPS / ATTN_KEY_BLOCK. */
enum { ATTN_P_ROWS, ATTN_P_KEYS, ATTN_NUM_P };

/* Largest mr of the ISAs' attention kernels (for the L2 estimate). */
#define ATTN_MAX_MR 8

/* The per-thread scratch (two mr x key_block score tiles and the
 * accumulators of a work item) within L2 when known; for a shape, no two
 * key blocks both covering Skv whole, nor row groups beyond Sq.  The
 * defaults, today's blocking, run everywhere. */
static int attn_legal(const int *v, const seqk_tune_limits *lim,
                      const int64_t *shape)
{
    if (v[ATTN_P_ROWS] == ATTN_ROW_GROUPS && v[ATTN_P_KEYS] == ATTN_KEY_BLOCK)
        return 1;
    const int64_t rows = (int64_t)v[ATTN_P_ROWS] * ATTN_MAX_MR;
    if (lim->l2 > 0) {
        const int64_t dv = shape ? shape[3] : 64;
        const int64_t bytes =
            4 * (2 * ATTN_MAX_MR * (int64_t)v[ATTN_P_KEYS] + rows * dv);
        if (bytes > lim->l2)
            return 0;
    }
    if (shape) {
        /* key blocks: the smallest candidate that covers Skv, or less */
        if (v[ATTN_P_KEYS] / 2 >= shape[1] && v[ATTN_P_KEYS] > 64)
            return 0;
        if (v[ATTN_P_ROWS] > 1 && rows / 2 >= shape[0])
            return 0;
    }
    return 1;
}

const seqk_tunable seqk__cpu_attention_tunable = {
    .id = "cpu.attention",
    .backend = "cpu",
    .num_shape = 4,
    .shape_names = {"Sq", "Skv", "Dh", "Dv"},
    .num_params = ATTN_NUM_P,
    .params = {
        {"row_groups", 5, {1, 2, 4, 8, 16}, ATTN_ROW_GROUPS},
        {"key_block", 6, {64, 128, 256, 512, 1024, 2048}, ATTN_KEY_BLOCK},
    },
    .legal = attn_legal,
};

/* Query rows needed before packing K^T pays for itself. */
#define PACK_MIN_ROWS 32
/* Packed K^T of all kv heads above this many floats (1 GiB): use the
 * keys unpacked rather than double the memory K takes. */
#define PACK_MAX_FLOATS ((int64_t)1 << 28)

int seqk__cpu_attn_supports(const seqk_cpu_isa *isa, seqk_op op,
                           const void *problem, char *why, size_t why_len)
{
    /* every shape, mask and score kind has a path here */
    if (!ATTN_KERNELS(isa)) {
        snprintf(why, why_len, "no %s attention kernels", isa->spec);
        return 0;
    }
    if (op == SEQK_OP_SOFTMAX && problem &&
        ((const seqk_softmax_problem *)problem)->log &&
        ((const seqk_softmax_problem *)problem)->inner != 1) {
        snprintf(why, why_len, "LogSoftmax over an axis other than the "
                 "last runs on ref");
        return 0;
    }
    return 1;
}

static int64_t round_up(int64_t x, int64_t a) { return (x + a - 1) / a * a; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* fn on nthreads threads; tasks: fn never waits at a barrier, so late
 * workers may leave their share to the others (seqk__pool_run_tasks). */
static void run_threads(seqk_context *ctx, seqk_pool_fn fn, void *arg,
                        int nthreads, int tasks)
{
    if (nthreads <= 1)
        fn(arg, 0, 1);
    else if (tasks)
        seqk__pool_run_tasks(seqk__pool(ctx), fn, arg, nthreads);
    else
        seqk__pool_run(seqk__pool(ctx), fn, arg, nthreads);
}

/* Threads for a problem of est_ns on one thread, split in units. */
static int threads_for(seqk_context *ctx, double est_ns, int64_t units)
{
    int64_t n = seqk__pool_threads_for(seqk__cpu_threads(ctx), est_ns);
    return (int)(n < units ? n : units < 1 ? 1 : units);
}

/* One scratch buffer of nthreads slices of per_thread floats each. */
static seqk_status alloc_scratch(seqk_context *ctx, const char *what,
                                 int nthreads, int64_t per_thread,
                                 float **out)
{
    if (per_thread > (int64_t)(SIZE_MAX / sizeof(float) / 64 / nthreads)) {
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "%s: scratch of %d x %lld floats is too large",
                           what, nthreads, (long long)per_thread);
    }
    size_t bytes = (size_t)nthreads * (size_t)per_thread * sizeof(float);
    *out = seqk__aligned_alloc(bytes);
    if (!*out)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "%s: cannot allocate %zu bytes of scratch", what,
                           bytes);
    return SEQK_OK;
}

/* Packs rows [0, n) of a row-major [n, depth] matrix (row stride ld) as
 * K^T panels of nr rows, zero-padded to whole panels:
 *   kp[(p*depth + d)*nr + j] = src[(p*nr + j)*ld + d] */
static void pack_rows(const seqk_attn_kernels *kern, const float *src,
                      int64_t ld, int64_t n, int64_t depth, float *kp)
{
    for (int64_t p0 = 0; p0 < n; p0 += kern->nr)
        kern->pack_k(min64(kern->nr, n - p0), depth, src + p0 * ld, ld,
                     kp + p0 * depth);
}

/* The same panels from a [depth, n] matrix (column j of row d at
 * src[d*ld + j]): kp[(p*depth + d)*nr + j] = src[d*ld + p*nr + j] */
static void pack_cols(const float *src, int64_t ld, int64_t n,
                      int64_t depth, int64_t nr, float *kp)
{
    for (int64_t p0 = 0; p0 < n; p0 += nr) {
        float *panel = kp + p0 * depth;
        int64_t w = min64(nr, n - p0);
        for (int64_t d = 0; d < depth; d++) {
            memcpy(panel + d * nr, src + d * ld + p0,
                   (size_t)w * sizeof(float));
            memset(panel + d * nr + w, 0, (size_t)(nr - w) * sizeof(float));
        }
    }
}

/* ------------------------------------------------------------- Softmax */

/* Columns per work unit of the strided path. */
#define SOFTMAX_COLS 64

typedef struct softmax_job {
    const seqk_softmax_problem *p;
    const seqk_attn_kernels *kern;
    int64_t chunks; /* column chunks per outer index */
} softmax_job;

static void softmax_worker(void *arg, int tid, int nthreads)
{
    const softmax_job *job = arg;
    const seqk_softmax_problem *p = job->p;
    int64_t u0, u1;
    seqk__split_range(p->outer * job->chunks, 1, tid, nthreads, &u0, &u1);
    for (int64_t u = u0; u < u1; u++) {
        int64_t o = u / job->chunks;
        int64_t c0 = (u % job->chunks) * SOFTMAX_COLS;
        int64_t c1 = min64(p->inner, c0 + SOFTMAX_COLS);
        int64_t off = o * p->n * p->inner;
        if (p->log) /* inner == 1 (supports) */
            job->kern->log_softmax_row(p->n, p->X + off, p->Y + off);
        else
            job->kern->softmax(p->n, p->inner, c0, c1, p->X + off,
                               p->Y + off);
    }
}

seqk_status seqk__cpu_softmax(seqk_context *ctx, const seqk_cpu_isa *isa,
                             const seqk_softmax_problem *p)
{
    if (p->outer == 0 || p->n == 0 || p->inner == 0)
        return SEQK_OK;
    softmax_job job = {p, ATTN_KERNELS(isa),
                       (p->inner + SOFTMAX_COLS - 1) / SOFTMAX_COLS};
    double work = (double)p->outer * (double)p->n * (double)p->inner;
    run_threads(ctx, softmax_worker, &job,
                threads_for(ctx, work * NS_PER_SOFTMAX_ELEM,
                            p->outer * job.chunks), 1);
    return SEQK_OK;
}

/* ----------------------------------------------------------- Attention */

typedef struct attn_job {
    const seqk_attention_problem *p;
    const seqk_attn_kernels *kern;
    int64_t mq, nk;     /* query rows per item, keys per block */
    int64_t nqb, items; /* query blocks per head, work items */
    float *kp;          /* packed K^T, kp_head floats per (b, kv head) */
    int64_t kp_head, ldacc;
    float *scratch;
    int64_t per_thread; /* floats of scratch per thread */
    atomic_llong next;  /* next work item */
    seqk_threadpool *pool; /* for the barrier after packing */
} attn_job;

/* Per-thread scratch, carved from job->scratch. */
typedef struct attn_scratch {
    float *s, *bias;    /* mr x nk scores / mask values */
    float *acc;         /* mq x ldacc context accumulators */
    float *mx, *sum;    /* mq running max and sum */
    float *corr;        /* mr rescale factors */
} attn_scratch;

static int64_t attn_scratch_floats(const attn_job *job)
{
    int64_t mr = job->kern->mr;
    return 2 * round_up(mr * job->nk, 16) + job->mq * job->ldacc +
           2 * round_up(job->mq, 16) + round_up(mr, 16);
}

static attn_scratch attn_scratch_of(const attn_job *job, int tid)
{
    int64_t mr = job->kern->mr;
    float *f = job->scratch + (int64_t)tid * job->per_thread;
    attn_scratch sc;
    sc.s = f;
    f += round_up(mr * job->nk, 16);
    sc.bias = f;
    f += round_up(mr * job->nk, 16);
    sc.acc = f;
    f += job->mq * job->ldacc;
    sc.mx = f;
    f += round_up(job->mq, 16);
    sc.sum = f;
    f += round_up(job->mq, 16);
    sc.corr = f;
    return sc;
}

/* Mask values of row i for keys [j0, j0+n): bool -> 0 / -inf. */
static const float *mask_row(const seqk_attention_problem *p, int64_t b,
                             int64_t h, int64_t i, int64_t j0, int64_t n,
                             float *bias)
{
    int64_t off = b * p->m_sb + h * p->m_sh + i * p->m_sq + j0 * p->m_sk;
    if (p->mask_kind == SEQK_MASK_ADD) {
        const float *m = (const float *)p->mask + off;
        if (p->m_sk == 1)
            return m;
        for (int64_t j = 0; j < n; j++)
            bias[j] = m[j * p->m_sk];
    } else {
        const uint8_t *m = (const uint8_t *)p->mask + off;
        for (int64_t j = 0; j < n; j++)
            bias[j] = m[j * p->m_sk] ? 0.0f : -INFINITY;
    }
    return bias;
}

/* Keys row i may see: [0, attn_key_end(i)). */
static int64_t attn_key_end(const seqk_attention_problem *p, int64_t i)
{
    int64_t end = p->Skv;
    if (p->mask_kind != SEQK_MASK_NONE)
        end = min64(end, p->mask_kv_len);
    if (p->is_causal) {
        int64_t off = p->causal_align == SEQK_CAUSAL_BOTTOM_RIGHT
                          ? p->Skv - p->Sq
                          : 0;
        end = min64(end, i + off + 1);
    }
    return end < 0 ? 0 : end;
}

/* Query rows [i0, i0+rows) of head h in batch b. */
static void attn_block(const attn_job *job, attn_scratch *sc, int64_t b,
                       int64_t h, int64_t i0, int64_t rows)
{
    const seqk_attention_problem *p = job->p;
    const seqk_attn_kernels *kern = job->kern;
    const int64_t mr = kern->mr, nk = job->nk, ldacc = job->ldacc;
    const int64_t g = h / (p->Hq / p->Hkv);
    const float *q = p->q + b * p->q_sb + h * p->q_sh + i0 * p->q_ss;
    const float *k = p->k + b * p->k_sb + g * p->k_sh;
    const float *v = p->v + b * p->v_sb + g * p->v_sh;
    const float *kp = job->kp ? job->kp + (b * p->Hkv + g) * job->kp_head
                              : NULL;

    memset(sc->acc, 0, (size_t)(rows * ldacc) * sizeof(float));
    for (int64_t i = 0; i < rows; i++) {
        sc->mx[i] = -INFINITY;
        sc->sum[i] = 0.0f;
    }

    /* the last row sees the most keys (causal rules only add keys) */
    const int64_t block_end = attn_key_end(p, i0 + rows - 1);
    for (int64_t j0 = 0; j0 < block_end; j0 += nk) {
        for (int64_t r0 = 0; r0 < rows; r0 += mr) {
            const int64_t m = min64(mr, rows - r0);
            const int64_t n = min64(nk, attn_key_end(p, i0 + r0 + m - 1) - j0);
            if (n <= 0)
                continue; /* above the diagonal for this group */
            const float *qr = q + r0 * p->q_ss;
            if (kp)
                kern->scores_packed(m, (n + kern->nr - 1) / kern->nr, p->Dh,
                                    qr, p->q_ss, kp + j0 * p->Dh, sc->s, nk);
            else
                kern->scores_rows(m, n, p->Dh, qr, p->q_ss,
                                  k + j0 * p->k_ss, p->k_ss, sc->s, nk);
            for (int64_t r = 0; r < m; r++) {
                const int64_t i = i0 + r0 + r;
                int64_t nv = min64(n, attn_key_end(p, i) - j0);
                if (nv < 0)
                    nv = 0;
                const float *bias = NULL;
                if (p->mask_kind != SEQK_MASK_NONE)
                    bias = mask_row(p, b, h, i, j0, nv, sc->bias + r * nk);
                sc->corr[r] = kern->online_softmax_row(
                    nv, n, p->scale, p->softcap, bias, sc->s + r * nk,
                    &sc->mx[r0 + r], &sc->sum[r0 + r]);
            }
            kern->context(m, n, p->Dv, sc->s, nk, v + j0 * p->v_ss, p->v_ss,
                          sc->corr, sc->acc + r0 * ldacc, ldacc);
        }
    }

    float *y = p->y + b * p->y_sb + h * p->y_sh + i0 * p->y_ss;
    for (int64_t r = 0; r < rows; r++, y += p->y_ss) {
        const float *a = sc->acc + r * ldacc;
        if (sc->sum[r] > 0.0f) {
            const float inv = 1.0f / sc->sum[r];
            for (int64_t d = 0; d < p->Dv; d++)
                y[d] = a[d] * inv;
        } else {
            for (int64_t d = 0; d < p->Dv; d++)
                y[d] = 0.0f; /* no key to attend */
        }
    }
}

/* Packs this thread's share of K^T (every batch and kv head), one panel
 * of nr keys per unit. */
static void attn_pack(const attn_job *job, int tid, int nthreads)
{
    const seqk_attention_problem *p = job->p;
    const int64_t nr = job->kern->nr, npan = job->kp_head / (nr * p->Dh);
    int64_t u0, u1;
    seqk__split_range(p->B * p->Hkv * npan, 1, tid, nthreads, &u0, &u1);
    for (int64_t u = u0; u < u1; u++) {
        int64_t bg = u / npan, j0 = (u % npan) * nr;
        int64_t b = bg / p->Hkv, g = bg % p->Hkv;
        job->kern->pack_k(min64(nr, p->Skv - j0), p->Dh,
                          p->k + b * p->k_sb + g * p->k_sh + j0 * p->k_ss,
                          p->k_ss, job->kp + bg * job->kp_head + j0 * p->Dh);
    }
}

/* Packing, a barrier, then work items (batch, query head, query block of
 * mq rows) one at a time. */
static void attn_worker(void *arg, int tid, int nthreads)
{
    attn_job *job = arg;
    const seqk_attention_problem *p = job->p;
    attn_scratch sc = attn_scratch_of(job, tid);
    if (job->kp) {
        attn_pack(job, tid, nthreads);
        if (nthreads > 1)
            seqk__pool_barrier(job->pool);
    }
    for (;;) {
        int64_t it = (int64_t)atomic_fetch_add(&job->next, 1);
        if (it >= job->items)
            break;
        int64_t qb = it % job->nqb, bh = it / job->nqb;
        int64_t i0 = qb * job->mq;
        attn_block(job, &sc, bh / p->Hq, bh % p->Hq, i0,
                   min64(job->mq, p->Sq - i0));
    }
}

seqk_status seqk__cpu_attention(seqk_context *ctx, const seqk_cpu_isa *isa,
                               const seqk_attention_problem *p)
{
    if (p->B == 0 || p->Hq == 0 || p->Sq == 0)
        return SEQK_OK;
    const seqk_attn_kernels *kern = ATTN_KERNELS(isa);
    attn_job job;
    memset(&job, 0, sizeof job);
    job.p = p;
    job.kern = kern;
    const int64_t tshape[4] = {p->Sq, p->Skv, p->Dh, p->Dv};
    int tv[ATTN_NUM_P];
    seqk__tuned(ctx, &seqk__cpu_attention_tunable, tshape, tv);
    job.mq = kern->mr * (int64_t)tv[ATTN_P_ROWS];
    job.nk = round_up(tv[ATTN_P_KEYS], kern->nr);
    job.nqb = (p->Sq + job.mq - 1) / job.mq;
    job.items = p->B * p->Hq * job.nqb;
    job.kp_head = round_up(p->Skv, kern->nr) * p->Dh;
    job.ldacc = round_up(p->Dv > 0 ? p->Dv : 1, kern->vec);
    job.per_thread = attn_scratch_floats(&job);
    atomic_init(&job.next, 0);
    const int64_t kp_all = p->B * p->Hkv * job.kp_head;
    const int packed = p->Sq >= PACK_MIN_ROWS && job.kp_head > 0 &&
                       kp_all <= PACK_MAX_FLOATS;

    double work = (double)p->B * (double)p->Hq * (double)p->Sq *
                  (double)p->Skv * (double)(p->Dh + p->Dv + 1);
    int nthreads = threads_for(ctx, work * NS_PER_MAC, job.items);
    seqk_status st = alloc_scratch(ctx, "Attention", nthreads,
                                   job.per_thread, &job.scratch);
    if (st == SEQK_OK && packed)
        st = alloc_scratch(ctx, "Attention (packed K)", 1, kp_all, &job.kp);
    if (st == SEQK_OK) {
        job.pool = nthreads > 1 ? seqk__pool(ctx) : NULL;
        run_threads(ctx, attn_worker, &job, nthreads, 0);
    }
    seqk__aligned_free(job.kp);
    seqk__aligned_free(job.scratch);
    return st;
}

/* -------------------------------------------------------- SeqAttention */

/* out[i*ldo + j] = sum_d a[i*lda + d] * kp-panels[d][j] for i < m rows:
 * rows x packed panels, the small GEMMs of SeqAttention (W2 . keys,
 * W1 . query, W^T . query, Wloc . query). */
typedef struct rows_job {
    const seqk_attn_kernels *kern;
    int64_t m, depth, npanels;
    const float *a; int64_t lda;
    const float *kp;
    float *out; int64_t ldo;
} rows_job;

/* Rows per block: the block and one panel stay in L2 while the panels
 * stream past. */
#define ROWS_BLOCK 96

static void rows_worker(void *arg, int tid, int nthreads)
{
    const rows_job *job = arg;
    const int64_t mr = job->kern->mr, nr = job->kern->nr;
    int64_t r0, r1;
    seqk__split_range(job->m, mr, tid, nthreads, &r0, &r1);
    for (int64_t rb = r0; rb < r1; rb += ROWS_BLOCK) {
        int64_t re = min64(r1, rb + ROWS_BLOCK);
        for (int64_t pn = 0; pn < job->npanels; pn++)
            for (int64_t r = rb; r < re; r += mr)
                job->kern->scores_packed(
                    min64(mr, re - r), 1, job->depth, job->a + r * job->lda,
                    job->lda, job->kp + pn * job->depth * nr,
                    job->out + r * job->ldo + pn * nr, job->ldo);
    }
}

static void run_rows(seqk_context *ctx, const seqk_attn_kernels *kern,
                     int64_t m, int64_t n, int64_t depth, const float *a,
                     int64_t lda, const float *kp, float *out, int64_t ldo)
{
    rows_job job = {kern, m, depth, (n + kern->nr - 1) / kern->nr,
                    a, lda, kp, out, ldo};
    double work = (double)m * (double)n * (double)depth;
    run_threads(ctx, rows_worker, &job,
                threads_for(ctx, work * NS_PER_MAC,
                            (m + kern->mr - 1) / kern->mr), 1);
}

typedef struct seq_job {
    const seqk_seq_attention_problem *p;
    const seqk_attn_kernels *kern;
    const float *u; int64_t ldu;   /* per-row projection of the query */
    const float *wk; int64_t ldwk; /* additive: W2 . keys, [B*S, ldwk] */
    float *scratch; int64_t per_thread;
} seq_job;

static void seq_worker(void *arg, int tid, int nthreads)
{
    const seq_job *job = arg;
    const seqk_seq_attention_problem *p = job->p;
    const seqk_attn_kernels *kern = job->kern;
    float *sc = job->scratch + (int64_t)tid * job->per_thread;
    int64_t b0, b1;
    seqk__split_range(p->B, 1, tid, nthreads, &b0, &b1);

    for (int64_t b = b0; b < b1; b++) {
        const float *q = p->query + b * p->Dq;
        const float *keys = p->keys + b * p->S * p->Dk;
        const float *u = job->u ? job->u + b * job->ldu : NULL;
        const int64_t L = p->key_lens ? p->key_lens[b] : p->S;
        float qq = 0.0f;
        if (p->score == SEQK_SCORE_COSINE)
            qq = kern->dot(p->Dq, q, q);

        for (int64_t s = 0; s < L; s++) {
            const float *k = keys + s * p->Dk;
            switch (p->score) {
            case SEQK_SCORE_DOT:
                sc[s] = kern->dot(p->Dk, q, k);
                break;
            case SEQK_SCORE_SCALED_DOT:
                sc[s] = kern->dot(p->Dk, q, k) / sqrtf((float)p->Dk);
                break;
            case SEQK_SCORE_GENERAL:
                sc[s] = kern->dot(p->Dk, u, k);
                break;
            case SEQK_SCORE_ADDITIVE:
                /* keyed (p->wk): the tanh are the bulk of a step */
                sc[s] = (p->wk ? kern->additive_score_u35
                               : kern->additive_score)(
                    p->A, u, job->wk + (b * p->S + s) * job->ldwk, p->v);
                break;
            case SEQK_SCORE_COSINE: {
                float kk = kern->dot(p->Dk, k, k);
                sc[s] = qq == 0.0f || kk == 0.0f
                            ? 0.0f
                            : kern->dot(p->Dk, q, k) / (sqrtf(qq) * sqrtf(kk));
                break;
            }
            case SEQK_SCORE_LOCATION:
                sc[s] = u[s];
                break;
            }
        }
        if (L > 0)
            kern->softmax(L, 1, 0, 1, sc, sc);
        /* L == 0: an empty sum, so the context is 0 */
        kern->weighted_rows(L, p->Dv, sc, p->values + b * p->S * p->Dv,
                            p->Dv, p->context + b * p->Dv);
        if (p->weights) {
            float *w = p->weights + b * p->S;
            memcpy(w, sc, (size_t)L * sizeof(float));
            memset(w + L, 0, (size_t)(p->S - L) * sizeof(float));
        }
    }
}

/* The panels of the query-side weights (W^T, W1 or Wloc) for
 * rows x panels: ceil(proj_n / nr) panels of Dq rows. */
static void pack_query_weights(const seqk_attn_kernels *kern,
                               const seqk_seq_attention_problem *p,
                               int64_t proj_n, float *kp)
{
    if (p->score == SEQK_SCORE_GENERAL)
        pack_cols(p->W, p->Dk, p->Dk, p->Dq, kern->nr, kp);
    else
        pack_rows(kern, p->score == SEQK_SCORE_ADDITIVE ? p->W1 : p->Wloc,
                  p->Dq, proj_n, p->Dq, kp);
}

static void cache_free(void *data) { seqk__aligned_free(data); }

/* Those panels kept in the keys plan's slot (packed on this ISA's first
 * step: the slot's weights never change). */
static seqk_status cached_panels(const seqk_attn_kernels *kern,
                                 const seqk_cpu_isa *isa,
                                 const seqk_seq_attention_problem *p,
                                 int64_t proj_n, const float **panels)
{
    seqk_backend_cache *c = p->cache;
    if (c->owner != isa || !c->data) {
        const int64_t floats = round_up(proj_n, kern->nr) * p->Dq;
        float *kp = seqk__aligned_alloc((size_t)(floats > 0 ? floats : 1) *
                                        sizeof(float));
        if (!kp)
            return SEQK_ERR_OUT_OF_MEMORY;
        pack_query_weights(kern, p, proj_n, kp);
        if (c->data && c->free_fn)
            c->free_fn(c->data);
        c->owner = isa;
        c->data = kp;
        c->free_fn = cache_free;
    }
    *panels = c->data;
    return SEQK_OK;
}

seqk_status seqk__cpu_seq_attention(seqk_context *ctx,
                                   const seqk_cpu_isa *isa,
                                   const seqk_seq_attention_problem *p)
{
    const seqk_attn_kernels *kern = ATTN_KERNELS(isa);
    const int64_t nr = kern->nr;
    seq_job job;
    memset(&job, 0, sizeof job);
    job.p = p;
    job.kern = kern;
    if (p->B == 0)
        return SEQK_OK;

    /* Query-side projections (one row per batch row) and, for additive,
     * W2 . keys for every key: panels of the weights, then rows x panels.
     * A keys plan gives W2 . keys (p->wk) and a cache slot that keeps the
     * query-side panels from one step to the next. */
    const int own_wk = p->score == SEQK_SCORE_ADDITIVE && !p->wk;
    int64_t proj_n = 0, proj_depth = 0, kp_floats = 0, ldwk = 0;
    switch (p->score) {
    case SEQK_SCORE_GENERAL:  /* u = W^T q, W [Dq,Dk] */
        proj_n = p->Dk;
        proj_depth = p->Dq;
        break;
    case SEQK_SCORE_ADDITIVE: /* u = W1 q, W1 [A,Dq]; wk = W2 k, W2 [A,Dk] */
        proj_n = p->A;
        proj_depth = p->Dq;
        if (own_wk) {
            ldwk = round_up(p->A, nr);
            kp_floats = ldwk * p->Dk;
        }
        break;
    case SEQK_SCORE_LOCATION: /* u = Wloc q, Wloc [S,Dq] */
        proj_n = p->S;
        proj_depth = p->Dq;
        break;
    default:
        break;
    }
    const int64_t ldu = round_up(proj_n, nr);
    const int cached = proj_n > 0 && p->cache;
    if (proj_n > 0 && !cached)
        kp_floats = kp_floats > ldu * proj_depth ? kp_floats
                                                 : ldu * proj_depth;
    const int64_t u_floats = round_up(p->B * ldu, 16);
    const int64_t wk_floats = p->B * p->S * ldwk;

    int nthreads = threads_for(
        ctx, (double)p->B * (double)p->S * (double)(p->Dk + p->Dv + p->A) *
                 (p->score == SEQK_SCORE_ADDITIVE ? NS_PER_ADDITIVE_UNIT
                                                  : NS_PER_MAC),
        p->B);
    job.per_thread = round_up(p->S + 1, 16);
    float *buf = NULL;
    seqk_status st = alloc_scratch(
        ctx, "SeqAttention", 1,
        round_up(kp_floats, 16) + u_floats + round_up(wk_floats, 16) +
            nthreads * job.per_thread,
        &buf);
    if (st != SEQK_OK)
        return st;
    float *kp = buf, *u = kp + round_up(kp_floats, 16);
    float *wk = u + u_floats;
    job.scratch = wk + round_up(wk_floats, 16);

    if (own_wk && p->S > 0) {
        pack_rows(kern, p->W2, p->Dk, p->A, p->Dk, kp);
        run_rows(ctx, kern, p->B * p->S, p->A, p->Dk, p->keys, p->Dk, kp,
                 wk, ldwk);
        job.wk = wk;
        job.ldwk = ldwk;
    } else if (p->wk) {
        job.wk = p->wk;
        job.ldwk = p->A;
    }
    if (proj_n > 0) {
        const float *panels = kp;
        if (cached && (st = cached_panels(kern, isa, p, proj_n, &panels))) {
            seqk__aligned_free(buf);
            return seqk__error(ctx, st, "SeqAttention: out of memory for "
                               "the packed query-side weights");
        }
        if (!cached)
            pack_query_weights(kern, p, proj_n, kp);
        run_rows(ctx, kern, p->B, proj_n, proj_depth, p->query, p->Dq,
                 panels, u, ldu);
        job.u = u;
        job.ldu = ldu;
    }
    run_threads(ctx, seq_worker, &job, nthreads, 1);
    seqk__aligned_free(buf);
    return SEQK_OK;
}
