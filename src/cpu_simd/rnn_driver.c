/*
 * rnn_driver.c — one RNN/LSTM/GRU layer (all directions) on the CPU SIMD
 * backend, ISA-independent: prepacking, chunking, threads and the step
 * loop around the per-ISA kernels (rnn.h).
 *
 *   1. R and W of every direction are packed once per plan into the panel
 *      layout of rnn.h and kept in the plan's seqk_backend_cache (a bf16
 *      plan also keeps them as bf16, which one-row steps and projections
 *      stream instead: same values, half the bytes): rnn_pack.c.
 *   2. The input projection, two ways:
 *      - small batches (memory-bound steps, GEMV for batch 1): XW = x .
 *        W^T + bias for a chunk of steps at once, one GEMM over all the
 *        chunk's rows (the project kernel: the step's register tiles over
 *        W's panels); chunks sized so that XW stays in the caches until
 *        the steps read it;
 *      - batches of FUSED_MIN_BATCH_* and more (compute-bound steps):
 *        inside the steps, x_t . W^T accumulated with h_{t-1} . R^T in
 *        the same registers; no XW at all.
 *      (GRU linear_before_reset = 1 keeps x . W_h and Rb_h apart from
 *      h . R_h: they meet inside r (.) (...).)
 *   3. Threads, two ways:
 *      - batch split (the packed weights fit in L2: every thread streams
 *        all of them each step): one seqk__pool_run_tasks for the whole
 *        layer; the tasks claim blocks of batch rows and run each block
 *        through every chunk and step with all its units, no barriers;
 *      - unit split (larger weights): one seqk__pool_run per chunk (one
 *        in all for the fused projection): thread i owns a contiguous
 *        slice of the hidden units (all gates of them) of every direction
 *        for the whole sequence, so its slices of W and R stay in its
 *        caches; it projects the XW of its own units, so no barrier
 *        separates projection and steps.  Both directions advance in the
 *        same step, and seqk__pool_barrier separates steps (h_t of every
 *        unit must exist before step t+1 reads it).
 *
 * Sequences: at step k, batch row b is active while k < len_b, at time
 * t = k (forward) or len_b-1-k (reverse).  Only active rows are computed;
 * the state of a finished row stays where its last step left it, in
 * h[len_b % 2] (h is double-buffered by step parity), and y[k][b] is
 * zeroed for the steps k >= len_b.  h0/c0 are copied into the buffers
 * before the first barrier and yh/yc written after the last one, so yh
 * may alias h0 and yc c0.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/registry.h"
#include "core/rnn_plan.h"
#include "tune/tune.h"
#include "cpu_simd/cpu_simd.h"
#include "cpu_simd/rnn.h"
#include "cpu_simd/rnn_pack.h"

/* A thread per this many multiply-adds of a step at most: below it the
 * barrier between steps costs more than it saves. */
#define MIN_FMAS_PER_THREAD (64 * 1024)
/* From these batch sizes on a step is compute-bound even with the input
 * projection in it: W then streams through the caches with R every step,
 * but XW never goes through memory.  The smaller one applies while W and
 * R fit in half the L3; from DRAM it takes the larger one. */
#define FUSED_MIN_BATCH_L3 8
#define FUSED_MIN_BATCH_DRAM 32

/* Rows per block of the batch split (rnn_task) at least: two register
 * tiles' worth (4-6 rows each); with 4-row blocks the per-step overheads
 * cost 4 % more at batch 16. */
#define BLOCK_MIN_ROWS 8
/* One thread's time per multiply-add of a layer with its gate math
 * (avx512, H 32-64, batch 16: ~0.03 ns), for batch_tasks. */
#define BATCH_NS_PER_FMA 0.03

int64_t seqk__cpu_rnn_xw_chunk_bytes = (int64_t)4 << 20;
int seqk__cpu_rnn_split = 0;

/* The tuner's view of the layer (shape {H, B}); every default (0) keeps
 * the rules above:
 *   fuse     0 the FUSED_MIN_BATCH_* rule, 1 never fuse the projection,
 *            2 always fuse it;
 *   threads  0 the MIN_FMAS_PER_THREAD rule, else at most this many
 *            (still no more than the context has, nor than slices);
 *   granule  hidden units per thread slice are multiples of
 *            granule * 2 vectors;
 *   xw_kb    0 seqk__cpu_rnn_xw_chunk_bytes, else the XW chunk in KiB. */
enum { RNN_FUSE, RNN_THREADS, RNN_GRANULE, RNN_XW_KB, RNN_NUM_P };

/* threads no more than the context's; granule leaves more than one
 * slice; xw_kb only where there is an XW (not always fused), within
 * the L3 when known. */
static int rnn_step_legal(const int *v, const seqk_tune_limits *lim,
                          const int64_t *shape)
{
    if (v[RNN_THREADS] > 0 && lim->threads > 0 &&
        v[RNN_THREADS] > lim->threads)
        return 0;
    if (v[RNN_FUSE] == 2 && v[RNN_XW_KB])
        return 0;
    if (v[RNN_XW_KB] && lim->l3 > 0 && (int64_t)v[RNN_XW_KB] * 1024 > lim->l3)
        return 0;
    /* 16 units: two vectors of the narrowest ISA (NEON) */
    if (shape && v[RNN_GRANULE] > 1 && shape[0] <= 16 * v[RNN_GRANULE] / 2)
        return 0;
    return 1;
}

const seqk_tunable seqk__cpu_rnn_step_tunable = {
    .id = "cpu.rnn.step",
    .backend = "cpu",
    .num_shape = 2,
    .shape_names = {"H", "B"},
    .num_params = RNN_NUM_P,
    .params = {
        {"fuse", 3, {0, 1, 2}, 0},
        {"threads", 9, {0, 1, 2, 3, 4, 8, 16, 32, 64}, 0},
        {"granule", 3, {1, 2, 4}, 1},
        {"xw_kb", 7, {0, 256, 512, 1024, 2048, 8192, 16384}, 0},
    },
    .legal = rnn_step_legal,
};

/* H rounded up to two vectors: every stage's tiles divide it. */
static int64_t padded_hidden(int64_t H, int vlen)
{
    const int64_t a = 2 * (int64_t)vlen;
    return (H + a - 1) / a * a;
}

/* The ONNX gates the input projection computes, in XW slot order (see
 * rnn.h): LSTM with input_forget has no f gate to project. */
static int proj_gates(const seqk_rnn_layer_problem *p, int gate[4])
{
    const int ng = p->cell == SEQK_CELL_LSTM ? (p->input_forget ? 3 : 4)
                   : p->cell == SEQK_CELL_GRU ? 3 : 1;
    for (int i = 0; i < ng; i++)
        gate[i] = i;
    if (ng == 3 && p->cell == SEQK_CELL_LSTM)
        gate[2] = 3;
    return ng;
}

/* --------------------------------------------------------------- chunks */

/* The steps run in chunks [k0, k1) whose XW fits in the caches.  In a
 * chunk, XW slot s of direction d holds step k0 + s (forward) or
 * k1 - 1 - s (reverse): for each sequence b, time t = t0 + s with
 * t0 = k0 (forward) or len_b - k1 (reverse).
 *   XW row (s, b) at xw + (s*B + b)*ld, direction d at + d*ng*Hp */
typedef struct rnn_chunk {
    int64_t k0, k1;
    int first, last; /* load the initial state / write the final one */
} rnn_chunk;

static int64_t seq_len(const seqk_rnn_layer_problem *p, int64_t b)
{
    return p->seq_lens ? p->seq_lens[b] : p->T;
}

static int is_reverse(const seqk_rnn_layer_problem *p, int d)
{
    return p->num_dirs == 2 ? d == 1 : p->reverse;
}

typedef struct rnn_run {
    const seqk_rnn_layer_problem *p;
    const seqk_rnn_kernels *kern;
    const rnn_pack *pack;
    seqk_threadpool *pool;
    seqk_rnn_stage stage[2];
    int nstages;
    int fused;        /* input projection inside the steps (rnn.h) */
    int ng;           /* projected gates per V-tile of XW */
    int64_t Hp, ld;   /* ld: floats of an XW row (all directions) */
    int64_t chunk_len; /* steps per chunk */
    int64_t granule;   /* thread slices: multiples of this many units */
    int nblocks;       /* batch split: blocks of rows the tasks claim */
    atomic_int next_block;
    rnn_chunk chunk;
    float *xw;        /* the chunk's XW (not fused) */
    const float *bias; /* [D][ng*Hp]: Wb + Rb as XW rows */
    float *h[2];      /* [D][B][Hp] by step parity */
    float *c;         /* [D][B][Hp] LSTM cell, GRU lbr=0 z; or NULL */
    float *rh;        /* [D][B][Hp] GRU lbr=0 r (.) h; or NULL */
    const float *peep; /* [D][3][Hp] or NULL */
    const float *rbh; /* [D][Hp] */
    /* per thread [nthreads][D][B]: the active rows of the current step,
     * and [nthreads][chunk_len*B]: the rows of the chunk's projection */
    int32_t *rows;
    const float **xwp, **xp;
    float **yp;
    const float **pxp;
    float **pxwp;
} rnn_run;

/* Arguments common to both kernels for direction d, stage s. */
static void kernel_args(const rnn_run *r, int d, int s, seqk_rnn_step_args *a)
{
    const seqk_rnn_layer_problem *p = r->p;
    memset(a, 0, sizeof *a);
    a->stage = r->stage[s];
    a->input_forget = p->cell == SEQK_CELL_LSTM && p->input_forget;
    a->H = p->H;
    a->Hp = r->Hp;
    a->panel = r->pack->panel[d][s];
    a->wpanel = r->pack->wpanel[d][s];
    if (r->pack->block16) {
        a->panel16 = r->pack->block16 + (a->panel - r->pack->block);
        a->wpanel16 = r->pack->block16 + (a->wpanel - r->pack->block);
    }
    a->xw_gates = r->ng;
    a->bias = r->bias + d * r->ng * r->Hp;
}

/* What one thread runs: batch rows [b0, b1) and hidden units [u0, u1) of
 * every direction, with its own row lists.  sync: other threads share
 * these rows (they own other units), so the steps meet at barriers; a
 * part with every unit of its rows depends on no other thread. */
typedef struct rnn_part {
    int64_t b0, b1, u0, u1;
    int sync;
    int32_t *rows;          /* [D*B] the active rows of the current step */
    const float **xwp, **xp;
    float **yp;
    const float **pxp;      /* [chunk_len*B] the chunk's projection rows */
    float **pxwp;
} rnn_part;

/* The lists of thread (or task) i (rnn_run). */
static void part_lists(const rnn_run *r, int64_t i, rnn_part *pt)
{
    const int64_t o = i * r->p->num_dirs * r->p->B;
    const int64_t po = i * (r->fused ? 0 : r->chunk_len * r->p->B);
    pt->rows = r->rows + o;
    pt->xwp = r->xwp + o;
    pt->xp = r->xp + o;
    pt->yp = r->yp + o;
    pt->pxp = r->pxp + po;
    pt->pxwp = r->pxwp + po;
}

/* The chunk's XW of the part's units and rows, every direction: the rows
 * (slot, b) of steps the sequences have. */
static void project_chunk(const rnn_run *r, const rnn_chunk *ch,
                          const rnn_part *pt)
{
    const seqk_rnn_layer_problem *p = r->p;
    const int64_t B = p->B, S = ch->k1 - ch->k0;
    for (int d = 0; d < p->num_dirs; d++) {
        int64_t n = 0;
        for (int64_t s = 0; s < S; s++)
            for (int64_t b = pt->b0; b < pt->b1; b++) {
                const int64_t t = is_reverse(p, d)
                                      ? seq_len(p, b) - ch->k1 + s
                                      : ch->k0 + s;
                if (t < 0 || t >= seq_len(p, b))
                    continue;
                pt->pxp[n] = p->x + t * p->x_st + b * p->x_sb;
                pt->pxwp[n] = r->xw + (s * B + b) * r->ld + d * r->ng * r->Hp;
                n++;
            }
        for (int s = 0; s < r->nstages && n > 0; s++) {
            const int64_t U =
                (int64_t)seqk_rnn_stage_vpg(r->stage[s]) * r->kern->vlen;
            seqk_rnn_step_args a;
            kernel_args(r, d, s, &a);
            a.K = p->I;
            a.x = pt->pxp;
            a.xw_out = pt->pxwp;
            a.nrows = n;
            r->kern->project(&a, pt->u0 / U, (pt->u1 + U - 1) / U);
        }
    }
}

/* Lists the part's rows of direction d still running at step k; returns
 * their count. */
static int64_t active_rows(const rnn_run *r, const rnn_chunk *ch,
                           const rnn_part *pt, int d, int64_t k)
{
    const seqk_rnn_layer_problem *p = r->p;
    const int rev = is_reverse(p, d);
    const int64_t s = rev ? ch->k1 - 1 - k : k - ch->k0;
    const int64_t o = d * p->B;
    int64_t n = 0;
    for (int64_t b = pt->b0; b < pt->b1; b++) {
        const int64_t len = seq_len(p, b);
        if (k >= len)
            continue;
        const int64_t t = rev ? len - 1 - k : k;
        pt->rows[o + n] = (int32_t)b;
        if (r->fused) {
            pt->xwp[o + n] = r->bias + d * r->ng * r->Hp;
            pt->xp[o + n] = p->x + t * p->x_st + b * p->x_sb;
        } else {
            pt->xwp[o + n] =
                r->xw + (s * p->B + b) * r->ld + d * r->ng * r->Hp;
        }
        pt->yp[o + n] =
            p->y ? p->y + t * p->y_st + d * p->y_sd + b * p->y_sb : NULL;
        n++;
    }
    return n;
}

/* One step k of every direction over the part's units and rows. */
static void step(const rnn_run *r, const rnn_chunk *ch, const rnn_part *pt,
                 int64_t k)
{
    const seqk_rnn_layer_problem *p = r->p;
    const int64_t B = p->B, Hp = r->Hp, D = p->num_dirs;
    const int64_t u0 = pt->u0, u1 = pt->u1;
    const int V = r->kern->vlen, cur = (int)(k & 1);
    int64_t nact[2] = {0, 0};

    for (int d = 0; d < D; d++)
        nact[d] = active_rows(r, ch, pt, d, k);
    for (int s = 0; s < r->nstages; s++) {
        for (int d = 0; d < D && u1 > u0 && nact[d] > 0; d++) {
            const int64_t U = (int64_t)seqk_rnn_stage_vpg(r->stage[s]) * V;
            const int64_t off = d * B * Hp;
            seqk_rnn_step_args a;
            kernel_args(r, d, s, &a);
            if (r->fused) {
                a.K = p->I;
                a.x = pt->xp + d * B;
            }
            a.nrows = nact[d];
            a.rows = pt->rows + d * B;
            a.xw = pt->xwp + d * B;
            a.y = p->y ? (float *const *)(pt->yp + d * B) : NULL;
            a.hprev = r->h[cur] + off;
            a.in = a.stage == SEQK_RNN_STAGE_GRU_H ? r->rh + off : a.hprev;
            a.hnew = r->h[cur ^ 1] + off;
            a.c = r->c ? r->c + off : NULL;
            a.rh = r->rh ? r->rh + off : NULL;
            a.peep = r->peep ? r->peep + d * 3 * Hp : NULL;
            a.rbh = r->rbh + d * Hp;
            memcpy(a.act, &p->act[d * 3], sizeof a.act);
            a.clip = p->clip;
            r->kern->step(&a, u0 / U, (u1 + U - 1) / U);
        }
        /* GRU: r (.) h of every unit first (a part with all the units of
         * its rows has them already) */
        if (s + 1 < r->nstages && pt->sync)
            seqk__pool_barrier(r->pool);
    }
    /* y is zero past the end of each sequence */
    if (p->y && u1 > u0)
        for (int64_t d = 0; d < D; d++)
            for (int64_t b = pt->b0; b < pt->b1; b++)
                if (k >= seq_len(p, b))
                    memset(p->y + k * p->y_st + d * p->y_sd + b * p->y_sb +
                               u0, 0, (size_t)(u1 - u0) * sizeof(float));
}

/* The part's share of one chunk. */
static void run_chunk(const rnn_run *r, const rnn_chunk *ch,
                      const rnn_part *pt)
{
    const seqk_rnn_layer_problem *p = r->p;
    const int64_t B = p->B, Hp = r->Hp, D = p->num_dirs;
    const int64_t u0 = pt->u0;
    const size_t bytes = (size_t)(pt->u1 - u0) * sizeof(float);

    if (ch->first) {
        /* initial state of my units (the buffers are zeroed) */
        for (int64_t d = 0; d < D && bytes; d++)
            for (int64_t b = pt->b0; b < pt->b1; b++) {
                const int64_t o = (d * B + b) * Hp + u0;
                const int64_t s = d * p->h0_sd + b * p->h0_sb + u0;
                if (p->h0)
                    memcpy(r->h[0] + o, p->h0 + s, bytes);
                if (p->c0 && p->cell == SEQK_CELL_LSTM)
                    memcpy(r->c + o, p->c0 + s, bytes);
            }
        if (pt->sync)
            seqk__pool_barrier(r->pool);
    }

    if (!r->fused && bytes)
        project_chunk(r, ch, pt);
    for (int64_t k = ch->k0; k < ch->k1; k++) {
        step(r, ch, pt, k);
        if (pt->sync) /* h_k complete before step k+1 */
            seqk__pool_barrier(r->pool);
    }

    if (ch->last) {
        /* final states: the buffer the last valid step wrote */
        for (int64_t d = 0; d < D && bytes; d++)
            for (int64_t b = pt->b0; b < pt->b1; b++) {
                const int64_t len = seq_len(p, b);
                const int64_t o = (d * B + b) * Hp + u0;
                const int64_t s = d * p->yh_sd + b * p->yh_sb + u0;
                if (p->yh)
                    memcpy(p->yh + s, r->h[len & 1] + o, bytes);
                if (p->yc)
                    memcpy(p->yc + s, r->c + o, bytes);
            }
    }
}

/* Chunk i of the layer: steps [i * chunk_len, ...) up to T; chunk 0
 * always exists (the states of T = 0).  Returns 0 past the last. */
static int chunk_of(const rnn_run *r, int64_t i, rnn_chunk *ch)
{
    const int64_t T = r->p->T, k0 = i * r->chunk_len;
    if (i > 0 && k0 >= T)
        return 0;
    ch->k0 = k0;
    ch->k1 = k0 + r->chunk_len < T ? k0 + r->chunk_len : T;
    ch->first = i == 0;
    ch->last = ch->k1 == T;
    return 1;
}

/* Unit split: every thread all the rows and a slice of the units, one
 * chunk per run (r->chunk), barriers between steps. */
static void rnn_thread(void *arg, int tid, int nthreads)
{
    const rnn_run *r = arg;
    rnn_part pt = {0, r->p->B, 0, 0, 1, NULL, NULL, NULL, NULL, NULL, NULL};
    seqk__split_range(r->p->H, r->granule, tid, nthreads, &pt.u0, &pt.u1);
    part_lists(r, tid, &pt);
    run_chunk(r, &r->chunk, &pt);
}

/* Batch split: each task claims blocks of rows until none is left and
 * runs every unit of them through every chunk, no barriers (the block's
 * sequences depend on no other rows).  Blocks rather than one slice per
 * task: a worker that starts late (a busy machine) still takes what the
 * caller has not, instead of leaving it all to the caller or making it
 * wait. */
static void rnn_task(void *arg, int task, int ntasks)
{
    rnn_run *r = arg;
    rnn_part pt = {0, 0, 0, r->p->H, 0, NULL, NULL, NULL, NULL, NULL, NULL};
    (void)ntasks;
    part_lists(r, task, &pt);
    for (;;) {
        const int blk = atomic_fetch_add_explicit(&r->next_block, 1,
                                                  memory_order_relaxed);
        if (blk >= r->nblocks)
            break;
        seqk__split_range(r->p->B, 1, blk, r->nblocks, &pt.b0, &pt.b1);
        rnn_chunk ch;
        for (int64_t i = 0; chunk_of(r, i, &ch); i++)
            run_chunk(r, &ch, &pt);
    }
}

/* ------------------------------------------------------------ the entry */

static int fuse_projection(const seqk_rnn_layer_problem *p, int64_t Hp,
                           int mode)
{
    if (mode)
        return mode == 2;
    int gate[4];
    seqk_cpu_caches caches;
    seqk__cpu_caches(&caches);
    const double wr = 4.0 * p->num_dirs * proj_gates(p, gate) * Hp *
                      (double)(p->H + p->I);
    return p->B >= FUSED_MIN_BATCH_DRAM ||
           (p->B >= FUSED_MIN_BATCH_L3 && wr <= caches.l3 / 2.0);
}

/* Tasks of the batch split (rnn_task), or 0 for the unit split: when the
 * packed weights stay in one core's L2 (every task streams all of them
 * each step), a task per SEQK_POOL_GRAIN_NS of the layer's one-thread
 * time (BATCH_NS_PER_FMA), at most one per batch row.  No barrier
 * between steps: a 16-row LSTM step of H = 32 is ~1 us, what a barrier
 * costs when the other thread is late. */
static int64_t batch_tasks(const seqk_rnn_layer_problem *p, int64_t Hp,
                           int64_t nthreads)
{
    int gate[4];
    seqk_cpu_caches caches;
    seqk__cpu_caches(&caches);
    const size_t l2 = caches.l2 ? caches.l2 : (size_t)256 << 10;
    const double wbytes = 4.0 * p->num_dirs * proj_gates(p, gate) * Hp *
                          (double)(p->H + p->I);
    if (nthreads < 2 || p->B < 2 || seqk__cpu_rnn_split == 1)
        return 0;
    if (seqk__cpu_rnn_split == 2)
        return nthreads < p->B ? nthreads : p->B;
    if (wbytes > l2 / 2.0)
        return 0;
    const double fmas = (double)p->T * p->B * p->num_dirs *
                        seqk__rnn_gates(p->cell) * p->H * (p->H + p->I);
    int64_t n = seqk__pool_threads_for((int)nthreads, fmas * BATCH_NS_PER_FMA);
    if (n > p->B)
        n = p->B;
    return n > 1 ? n : 0;
}

int seqk__cpu_rnn_supports(const seqk_cpu_isa *isa,
                          const seqk_rnn_layer_problem *p, char *why,
                          size_t why_len)
{
    if (!p)
        return 1;
    /* the largest buffers: packed weights D*4*Hp*(H+I), the state and
     * one step of XW D*4*Hp*B (floats), with room for the byte counts */
    const int64_t Hp = padded_hidden(p->H, isa->rnn->vlen);
    const int64_t lim = INT64_MAX / 64;
    int64_t w, st;
    if (Hp > lim || p->H > lim - p->I ||
        seqk__mul_i64(Hp * 4 * p->num_dirs, p->H + p->I, &w) || w > lim ||
        seqk__mul_i64(Hp * 4 * p->num_dirs, p->B, &st) || st > lim ||
        seqk__mul_i64(p->T, p->B, &w) || w > lim) {
        snprintf(why, why_len, "the RNN layer's buffers would overflow");
        return 0;
    }
    return 1;
}

seqk_status seqk__cpu_rnn_layer(seqk_context *ctx, const seqk_cpu_isa *isa,
                               const seqk_rnn_layer_problem *p)
{
    const seqk_rnn_kernels *kern = isa->rnn;
    const int V = kern->vlen;
    const int64_t T = p->T, B = p->B, H = p->H, I = p->I, D = p->num_dirs;
    const int64_t G = seqk__rnn_gates(p->cell), Hp = padded_hidden(H, V);
    const int lbr = p->cell == SEQK_CELL_GRU && p->linear_before_reset;
    rnn_pack *owned = NULL;
    float *xw = NULL, *state = NULL;
    void *lists = NULL;
    seqk_status st;

    rnn_run r;
    memset(&r, 0, sizeof r);
    r.p = p;
    r.kern = kern;
    r.Hp = Hp;
    r.nstages = seqk__cpu_rnn_cell_stages(p, r.stage);
    const int64_t tshape[2] = {H, B};
    int tv[RNN_NUM_P];
    seqk__tuned(ctx, &seqk__cpu_rnn_step_tunable, tshape, tv);
    r.fused = fuse_projection(p, Hp, tv[RNN_FUSE]);
    r.granule = 2 * (int64_t)V * (tv[RNN_GRANULE] > 0 ? tv[RNN_GRANULE] : 1);

    st = seqk__cpu_rnn_get_pack(ctx, isa, p, Hp, &r.pack, &owned);
    if (st != SEQK_OK)
        goto cleanup;

    /* threads: a slice of the batch each (batch_tasks), else a slice of
     * the units, each with two vectors of units at least, and enough
     * work per step to be worth a barrier */
    int64_t nthreads = seqk__cpu_threads(ctx);
    if (tv[RNN_THREADS] > 0 && nthreads > tv[RNN_THREADS])
        nthreads = tv[RNN_THREADS];
    int64_t ntasks = batch_tasks(p, Hp, nthreads);
    const int64_t slices = (H + r.granule - 1) / r.granule;
    const int64_t work = B * G * H * (H + I) / MIN_FMAS_PER_THREAD;
    if (nthreads > slices)
        nthreads = slices;
    if (!tv[RNN_THREADS] && nthreads > work)
        nthreads = work;
    if (nthreads < 1)
        nthreads = 1;
    r.pool = nthreads > 1 || ntasks > 1 ? seqk__pool(ctx) : NULL;
    if (!r.pool)
        nthreads = ntasks = 1;
    else if (nthreads > seqk__pool_max_threads(r.pool))
        nthreads = seqk__pool_max_threads(r.pool);
    /* lists for each thread or task */
    const int64_t nparts = ntasks > nthreads ? ntasks : nthreads;

    /* steps per chunk: its XW within seqk__cpu_rnn_xw_chunk_bytes (fused:
     * no XW, one chunk) */
    int gate[4];
    r.ng = proj_gates(p, gate);
    r.ld = D * r.ng * Hp;
    const int64_t step_bytes = B * r.ld * (int64_t)sizeof(float);
    const int64_t xw_bytes = tv[RNN_XW_KB] > 0
                                 ? (int64_t)tv[RNN_XW_KB] * 1024
                                 : seqk__cpu_rnn_xw_chunk_bytes;
    int64_t chunk = step_bytes > 0 && !r.fused ? xw_bytes / step_bytes : T;
    r.chunk_len = chunk = chunk < 1 ? 1 : chunk > T ? T : chunk;

    /* state: h[2], c, rh ([D][B][Hp] each), peepholes [D][3][Hp], Rbh
     * [D][Hp], the bias as XW rows [D][ng*Hp] */
    const int64_t sbuf = D * B * Hp;
    const int64_t nstate = 4 * sbuf + D * 4 * Hp + r.ld;
    const int64_t plist = r.fused ? 0 : chunk * B; /* projection rows */
    const int64_t nlist = nparts * (3 * D * B + 2 * plist) + 1;
    state = seqk__aligned_alloc((size_t)nstate * sizeof(float));
    xw = r.fused ? NULL
                 : seqk__aligned_alloc((size_t)(chunk * B * r.ld) *
                                       sizeof(float));
    lists = malloc((size_t)nlist * sizeof(float *) +
                   (size_t)(nparts * D * B + 1) * sizeof(int32_t));
    if (!state || (!r.fused && !xw) || !lists) {
        st = seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                         "out of memory for the RNN layer's buffers");
        goto cleanup;
    }
    memset(state, 0, (size_t)nstate * sizeof(float));
    r.h[0] = state;
    r.h[1] = state + sbuf;
    r.c = p->cell == SEQK_CELL_LSTM || (p->cell == SEQK_CELL_GRU && !lbr)
              ? state + 2 * sbuf : NULL;
    r.rh = p->cell == SEQK_CELL_GRU && !lbr ? state + 3 * sbuf : NULL;
    float *peep = state + 4 * sbuf;
    float *rbh = peep + D * 3 * Hp;
    float *bias = rbh + D * Hp;
    r.peep = p->P && p->cell == SEQK_CELL_LSTM ? peep : NULL;
    r.rbh = rbh;
    r.bias = bias;
    r.xw = xw;
    r.xwp = lists;
    r.xp = r.xwp + nparts * D * B;
    r.yp = (float **)(r.xp + nparts * D * B);
    r.pxp = (const float **)(r.yp + nparts * D * B);
    r.pxwp = (float **)(r.pxp + nparts * plist);
    r.rows = (int32_t *)(r.pxwp + nparts * plist);

    for (int64_t d = 0; d < D; d++) {
        if (r.peep)
            for (int q = 0; q < 3; q++)
                memcpy(peep + (d * 3 + q) * Hp, p->P + (d * 3 + q) * H,
                       (size_t)H * sizeof(float));
        if (!p->bias)
            continue;
        /* Wb + Rb in XW order; Rb of the GRU lbr=1 h gate goes inside
         * r (.) (...) instead */
        const float *wb = p->bias + d * 2 * G * H, *rb = wb + G * H;
        for (int64_t u = 0; u < H; u++)
            for (int s = 0; s < r.ng; s++) {
                const int64_t i = gate[s] * H + u;
                const int keep_rb = !(lbr && gate[s] == 2);
                bias[d * r.ng * Hp + ((u / V) * r.ng + s) * V + u % V] =
                    wb[i] + (keep_rb ? rb[i] : 0.0f);
            }
        if (lbr)
            memcpy(rbh + d * Hp, rb + 2 * H, (size_t)H * sizeof(float));
    }

    if (ntasks > 1) { /* batch split: every chunk in one run */
        /* blocks of BLOCK_MIN_ROWS rows at least, up to four per task */
        int64_t nb = B / BLOCK_MIN_ROWS;
        nb = nb > 4 * ntasks ? 4 * ntasks : nb < ntasks ? ntasks : nb;
        r.nblocks = (int)nb;
        atomic_init(&r.next_block, 0);
        seqk__pool_run_tasks(r.pool, rnn_task, &r, (int)ntasks);
    }
    else /* chunk by chunk */
        for (int64_t i = 0; chunk_of(&r, i, &r.chunk); i++)
            seqk__pool_run(r.pool, rnn_thread, &r, (int)nthreads);
    st = SEQK_OK;

cleanup:
    seqk__cpu_rnn_pack_free(owned);
    free(lists);
    seqk__aligned_free(xw);
    seqk__aligned_free(state);
    return st;
}
