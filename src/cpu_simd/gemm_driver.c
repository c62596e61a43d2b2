/*
 * gemm_driver.c — the SGEMM and MatMul drivers of the CPU SIMD backend:
 * cache blocking, panel packing and threading around one ISA's
 * microkernel (loop nest and panel layouts in gemm.h).
 *
 * Compiled without ISA flags: the only vector code it runs is reached
 * through the ISA's kernel table (ukernel, pack_t).
 *
 *   Y = alpha * op(A) op(B) + beta * C
 *
 * C is folded in per register tile: before the first K block the driver
 * writes beta*C into the tile of Y (C may broadcast, strides 0) and the
 * kernel then accumulates with beta = 1; without C (or beta == 0) the
 * first K block runs with beta = 0, so Y is never read and may hold NaN.
 *
 * Threads (the context's pool), two ways:
 *  - shared mode, when M has enough rows (at least 8 register tiles per
 *    thread): per K block the threads pack B together into a shared
 *    buffer, meet at a barrier, then take blocks of A rows off a counter,
 *    so a thread slowed down by other load takes fewer (plan_shared);
 *  - otherwise a static tm x tn grid of sub-problems, each thread packing
 *    its own panels and never waiting on the others; the grid minimises
 *    compute plus packing per thread (wide problems split N).
 * Too small a problem stays on the calling thread.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/registry.h"
#include "tune/tune.h"
#include "cpu_simd/gemm.h"

/* ---------------------------------------------------------------- blocking */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void seqk__cpu_gemm_default_blocking(const seqk_gemm_kernels *k,
                                    seqk_gemm_blocking *out)
{
    seqk_cpu_caches caches;
    seqk__cpu_caches(&caches);
    const int64_t l1d = (int64_t)caches.l1d, l2 = (int64_t)caches.l2;
    /* a core's share of L3 (or a few MiB without one) */
    const int64_t l3 = caches.l3 ? (int64_t)caches.l3 /
                                       (caches.l3_shared_by > 0
                                            ? caches.l3_shared_by
                                            : 1)
                                 : 4 * 1024 * 1024;
    const int64_t f = (int64_t)sizeof(float);
    /* The B micro-panel (kc x nr) stays in two thirds of L1 while every A
     * micro-panel of the block streams past it (the rest holds the A
     * micro-panel and the C tile); larger kc means fewer passes over C. */
    int64_t kc = l1d * 2 / 3 / (k->nr * f);
    kc = clamp64(kc / 8 * 8, 64, 512);
    /* The A block (mc x kc) fills half of L2. */
    int64_t mc = l2 / 2 / (kc * f);
    mc = clamp64(mc / k->mr * k->mr, k->mr, 4096 / k->mr * k->mr);
    /* The B block (kc x nc) takes half of the core's share of L3. */
    int64_t nc = l3 / 2 / (kc * f);
    nc = clamp64(nc / k->nr * k->nr, k->nr, 8192 / k->nr * k->nr);
    out->mc = mc;
    out->kc = kc;
    out->nc = nc;
}

/* ------------------------------------------------------ tuned blocking
 *
 * The tuner's view of the block sizes: one tunable per ISA (its MC and
 * NC are multiples of that ISA's microkernel tile), shape {M, N, K}.  The
 * value 0 of a parameter keeps the cache-derived default above, so the
 * built-in defaults (all 0) are exactly seqk__cpu_gemm_default_blocking. */

enum { GEMM_MC, GEMM_KC, GEMM_NC, GEMM_NUM_P };

/* The default kc/mc for lim's caches, as seqk__cpu_gemm_default_blocking
 * computes them (0 when the cache size is unknown). */
static int64_t lim_default_kc(const seqk_tune_limits *lim, int nr)
{
    if (lim->l1d <= 0)
        return 0;
    return clamp64(lim->l1d * 2 / 3 / (nr * 4) / 8 * 8, 64, 512);
}

/* v is the smallest candidate covering dim (a larger one behaves the
 * same: the block is the whole dimension), or below dim. */
static int covers_once(const seqk_tune_param *p, int v, int64_t dim)
{
    if (v < dim)
        return 1;
    for (int j = 0; j < p->num_values; j++)
        if (p->values[j] > 0 && p->values[j] >= dim)
            return p->values[j] == v;
    return 1;
}

/* Every constraint on explicit block sizes (0: the default): mc a
 * multiple of mr and nc of nr; the B micro-panel kc x nr within L1, the
 * A block mc x kc within L2, the B block kc x nc within L3 (when the
 * caches are known); for a shape, no two sizes that both cover the
 * dimension whole (they run identically). */
static int gemm_blocking_legal(const seqk_tunable *t, int mr, int nr,
                               const int *v, const seqk_tune_limits *lim,
                               const int64_t *shape)
{
    const int64_t f = (int64_t)sizeof(float);
    if (v[GEMM_MC] % mr || v[GEMM_NC] % nr)
        return 0;
    int64_t kc = v[GEMM_KC] ? v[GEMM_KC] : lim_default_kc(lim, nr);
    int64_t mc = v[GEMM_MC];
    if (!mc && lim->l2 > 0 && kc > 0)
        mc = clamp64(lim->l2 / 2 / (kc * f) / mr * mr, mr, 4096 / mr * mr);
    if (v[GEMM_KC] && lim->l1d > 0 && kc * nr * f > lim->l1d)
        return 0;
    if ((v[GEMM_MC] || v[GEMM_KC]) && lim->l2 > 0 && mc * kc * f > lim->l2)
        return 0;
    if (v[GEMM_NC] && lim->l3 > 0 && kc * v[GEMM_NC] * f > lim->l3)
        return 0;
    if (shape) {
        const int64_t M = (shape[0] + mr - 1) / mr * mr;
        const int64_t N = (shape[1] + nr - 1) / nr * nr;
        if ((v[GEMM_MC] && !covers_once(&t->params[GEMM_MC], v[GEMM_MC], M)) ||
            (v[GEMM_KC] &&
             !covers_once(&t->params[GEMM_KC], v[GEMM_KC], shape[2])) ||
            (v[GEMM_NC] && !covers_once(&t->params[GEMM_NC], v[GEMM_NC], N)))
            return 0;
    }
    return 1;
}

static int legal_avx512(const int *v, const seqk_tune_limits *lim,
                        const int64_t *shape);
static int legal_avx2(const int *v, const seqk_tune_limits *lim,
                      const int64_t *shape);
static int legal_neon(const int *v, const seqk_tune_limits *lim,
                      const int64_t *shape);

/* avx512: 14 x 32 tiles */
const seqk_tunable seqk__cpu_gemm_avx512_tunable = {
    .id = "cpu.gemm.blocking.avx512",
    .backend = "cpu",
    .num_shape = 3,
    .shape_names = {"M", "N", "K"},
    .num_params = GEMM_NUM_P,
    .params = {
        {"MC", 12, {0, 42, 84, 126, 168, 252, 336, 504, 672, 1008, 1344,
                    2016}, 0},
        {"KC", 9, {0, 64, 128, 192, 256, 320, 384, 512, 768}, 0},
        {"NC", 7, {0, 256, 512, 1024, 2048, 4096, 8192}, 0},
    },
    .legal = legal_avx512,
};

/* avx2: 6 x 16 tiles */
const seqk_tunable seqk__cpu_gemm_avx2_tunable = {
    .id = "cpu.gemm.blocking.avx2",
    .backend = "cpu",
    .num_shape = 3,
    .shape_names = {"M", "N", "K"},
    .num_params = GEMM_NUM_P,
    .params = {
        {"MC", 12, {0, 48, 96, 144, 192, 288, 384, 576, 768, 1152, 1536,
                    2304}, 0},
        {"KC", 9, {0, 64, 128, 192, 256, 320, 384, 512, 768}, 0},
        {"NC", 7, {0, 256, 512, 1024, 2048, 4096, 8192}, 0},
    },
    .legal = legal_avx2,
};

/* neon: 8 x 12 tiles */
const seqk_tunable seqk__cpu_gemm_neon_tunable = {
    .id = "cpu.gemm.blocking.neon",
    .backend = "cpu",
    .num_shape = 3,
    .shape_names = {"M", "N", "K"},
    .num_params = GEMM_NUM_P,
    .params = {
        {"MC", 11, {0, 64, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048},
         0},
        {"KC", 9, {0, 64, 128, 192, 256, 320, 384, 512, 768}, 0},
        {"NC", 7, {0, 240, 480, 960, 1920, 3840, 7680}, 0},
    },
    .legal = legal_neon,
};

static int legal_avx512(const int *v, const seqk_tune_limits *lim,
                        const int64_t *shape)
{
    return gemm_blocking_legal(&seqk__cpu_gemm_avx512_tunable, 14, 32, v, lim,
                               shape);
}

static int legal_avx2(const int *v, const seqk_tune_limits *lim,
                      const int64_t *shape)
{
    return gemm_blocking_legal(&seqk__cpu_gemm_avx2_tunable, 6, 16, v, lim,
                               shape);
}

static int legal_neon(const int *v, const seqk_tune_limits *lim,
                      const int64_t *shape)
{
    return gemm_blocking_legal(&seqk__cpu_gemm_neon_tunable, 8, 12, v, lim,
                               shape);
}

/* The tunable of kernels k (by tile size), or NULL. */
static const seqk_tunable *blocking_tunable(const seqk_gemm_kernels *k)
{
    if (k->mr == 14 && k->nr == 32)
        return &seqk__cpu_gemm_avx512_tunable;
    if (k->mr == 6 && k->nr == 16)
        return &seqk__cpu_gemm_avx2_tunable;
    if (k->mr == 8 && k->nr == 12)
        return &seqk__cpu_gemm_neon_tunable;
    return NULL;
}

/* The defaults with the tuned sizes of ctx (database or tuner) for p. */
static void tuned_blocking(seqk_context *ctx, const seqk_gemm_kernels *k,
                           const seqk_gemm_problem *p,
                           seqk_gemm_blocking *out)
{
    seqk__cpu_gemm_default_blocking(k, out);
    const seqk_tunable *t = blocking_tunable(k);
    if (!t)
        return;
    const int64_t shape[3] = {p->M, p->N, p->K};
    int v[GEMM_NUM_P];
    seqk__tuned(ctx, t, shape, v);
    if (v[GEMM_MC])
        out->mc = v[GEMM_MC];
    if (v[GEMM_KC])
        out->kc = v[GEMM_KC];
    if (v[GEMM_NC])
        out->nc = v[GEMM_NC];
}

/* ----------------------------------------------------------------- packing */

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

/* dst[p*w + i] = X[i, p] = src[i*rs + p*cs] for i < rows, p < k; zero for
 * rows <= i < w.  The case with p contiguous is a transpose and goes to
 * the ISA's vector pack when it has one; next_rows rows of X follow the
 * panel (the next panel, which the pack prefetches). */
static void pack_panel(const seqk_gemm_kernels *kern, int64_t k,
                       int64_t rows, int64_t w, const float *src,
                       int64_t rs, int64_t cs, float *dst, int64_t next_rows)
{
    if (rs == 1 || rows == 1) {
        for (int64_t p = 0; p < k; p++) {
            const float *s = src + p * cs;
            float *d = dst + p * w;
            for (int64_t i = 0; i < rows; i++)
                d[i] = s[i];
            for (int64_t i = rows; i < w; i++)
                d[i] = 0.0f;
        }
    } else if (cs == 1 && kern->pack_t) {
        kern->pack_t(k, rows, w, src, rs, dst, next_rows);
    } else {
        for (int64_t p = 0; p < k; p++) {
            float *d = dst + p * w;
            for (int64_t i = 0; i < rows; i++)
                d[i] = src[i * rs + p * cs];
            for (int64_t i = rows; i < w; i++)
                d[i] = 0.0f;
        }
    }
}

/* Height of the next register tile with rest rows left: mr, except that
 * a short last tile is balanced with the one before it (16 rows as 8 + 8
 * rather than 14 + 2: a 2-row tile has too few accumulators to hide the
 * FMA latency).  The tile count stays ceil(rest / mr). */
static int64_t tile_rows(int64_t rest, int64_t mr)
{
    if (rest > mr && rest < mr + mr / 2)
        return (rest + 1) / 2;
    return min64(rest, mr);
}

/* Rows [p0, p1) of a block of panels whose rows are contiguous in memory
 * (rs == 1: op(B) not transposed, op(A) transposed), swept source row by
 * source row: reading each row once, in order, keeps the hardware
 * prefetcher and the TLB happy, where packing panel by panel would touch
 * k pages (ld apart) for every 128 bytes.  The block's panels are k rows
 * long and follow the tiling of the loops that read them (balanced:
 * tile_rows). */
static void pack_block_rows(int64_t p0, int64_t p1, int64_t k, int64_t rows,
                            int64_t w, int balanced, const float *src,
                            int64_t cs, float *dst)
{
    for (int64_t p = p0; p < p1; p++) {
        const float *s = src + p * cs;
        int64_t h;
        for (int64_t r0 = 0, q = 0; r0 < rows; r0 += h, q++) {
            h = balanced ? tile_rows(rows - r0, w) : min64(w, rows - r0);
            float *d = dst + (q * k + p) * w;
            for (int64_t i = 0; i < h; i++)
                d[i] = s[r0 + i];
            for (int64_t i = h; i < w; i++)
                d[i] = 0.0f;
        }
    }
}

int64_t seqk__cpu_gemm_packed_b_floats(int64_t k, int64_t n, int nr)
{
    return (n + nr - 1) / nr * nr * k;
}

int64_t seqk__cpu_gemm_packed_a_floats(int64_t m, int64_t k, int mr)
{
    return (m + mr - 1) / mr * mr * k;
}

void seqk__cpu_gemm_pack_b(const seqk_gemm_kernels *kern, int64_t k,
                          int64_t n, const float *src, int64_t rs,
                          int64_t cs, float *dst)
{
    /* Panel rows are the columns j of X[k, n] = src[k*rs + n*cs]. */
    for (int64_t j = 0; j < n; j += kern->nr) {
        int64_t nb = n - j < kern->nr ? n - j : kern->nr;
        pack_panel(kern, k, nb, kern->nr, src + j * cs, cs, rs, dst + j * k,
                   min64(kern->nr, n - j - nb));
    }
}

void seqk__cpu_gemm_pack_a(const seqk_gemm_kernels *kern, int64_t m,
                          int64_t k, const float *src, int64_t rs,
                          int64_t cs, float *dst)
{
    for (int64_t i = 0; i < m; i += kern->mr) {
        int64_t mb = m - i < kern->mr ? m - i : kern->mr;
        pack_panel(kern, k, mb, kern->mr, src + i * rs, rs, cs, dst + i * k,
                   min64(kern->mr, m - i - mb));
    }
}

/* -------------------------------------------------------------- the GEMM */

/* One GEMM resolved into panel views:
 *   op(A)[m, k] = A[m*a_rs + k*a_cs]    op(B)[k, n] = B[n*b_rs + k*b_cs] */
typedef struct gemm_plan {
    const seqk_gemm_kernels *kern;
    seqk_gemm_blocking blk;
    int64_t M, N, K;
    const float *A; int64_t a_rs, a_cs;
    const float *B; int64_t b_rs, b_cs;
    const float *b_packed;              /* op(B) prepacked whole, or NULL */
    float alpha, beta;
    const float *C; int64_t c_sm, c_sn; /* NULL when beta*C is not added */
    float *Y; int64_t ldy;
    int tm, tn;                         /* static thread grid, or */
    int shared;                         /* shared mode (plan_shared): */
    int64_t mu, snc, nphase;            /*   A block rows, B block cols */
    atomic_llong *next;                 /*   work counters, 2 per B block */
    seqk_threadpool *pool;
    int64_t abuf_floats, bbuf_floats;   /* per thread (B: per buffer) */
    float *bufs;
} gemm_plan;


static void plan_init(gemm_plan *g, const seqk_gemm_kernels *kern,
                      const seqk_gemm_problem *p,
                      const seqk_gemm_blocking *blk)
{
    memset(g, 0, sizeof *g);
    g->kern = kern;
    if (blk)
        g->blk = *blk;
    else
        seqk__cpu_gemm_default_blocking(kern, &g->blk);
    /* Guard a tuner's odd values: multiples of the tile, at least one. */
    g->blk.kc = g->blk.kc < 1 ? 1 : g->blk.kc;
    g->blk.mc = round_up(g->blk.mc < 1 ? 1 : g->blk.mc, kern->mr);
    g->blk.nc = round_up(g->blk.nc < 1 ? 1 : g->blk.nc, kern->nr);
    g->M = p->M;
    g->N = p->N;
    g->K = p->K;
    g->A = p->A;
    g->a_rs = p->trans_a ? 1 : p->lda;
    g->a_cs = p->trans_a ? p->lda : 1;
    g->B = p->B;
    g->b_rs = p->trans_b ? p->ldb : 1;
    g->b_cs = p->trans_b ? 1 : p->ldb;
    g->alpha = p->alpha;
    g->beta = p->beta;
    g->C = p->C && p->beta != 0.0f ? p->C : NULL;
    g->c_sm = p->c_sm;
    g->c_sn = p->c_sn;
    g->Y = p->Y;
    g->ldy = p->ldy;
    g->tm = g->tn = 1;
}

/* Y tile = beta * C (C broadcast by its strides). */
static void init_tile(const gemm_plan *g, int64_t i0, int64_t j0, int64_t m,
                      int64_t n)
{
    for (int64_t i = 0; i < m; i++) {
        float *y = g->Y + (i0 + i) * g->ldy + j0;
        const float *c = g->C + (i0 + i) * g->c_sm + j0 * g->c_sn;
        seqk__gemm_c_row(y, c, g->c_sn, g->beta, n, 0);
    }
}

/* The tiles of rows [ic, ic+mcb) x columns [jc, jc+ncb) for K block
 * [pc, pc+kcb), from A panels in abuf (packed already, or here during the
 * first column panel: a_packed == 0) and B panels in bbuf (packed here,
 * one before its first tile, when pack_b). */
static void macro_kernel(const gemm_plan *g, int64_t ic, int64_t mcb,
                         int64_t jc, int64_t ncb, int64_t pc, int64_t kcb,
                         float *abuf, int a_packed, float *bbuf, int pack_b)
{
    const seqk_gemm_kernels *kern = g->kern;
    const int64_t mr = kern->mr, nr = kern->nr;
    const int first = pc == 0;
    /* without C the first K block must not read Y */
    const float beta = first && !g->C ? 0.0f : 1.0f;
    for (int64_t jr = 0; jr < ncb; jr += nr) {
        const int64_t nb = min64(nr, ncb - jr);
        /* prepacked: panel (jc+jr)/nr of K rows, from row pc (jc, jr and
         * every block start are multiples of nr) */
        const float *bp = g->b_packed ? g->b_packed + (jc + jr) * g->K +
                                            pc * nr
                                      : bbuf + jr * kcb;
        if (pack_b)
            pack_panel(kern, kcb, nb, nr,
                       g->B + (jc + jr) * g->b_rs + pc * g->b_cs, g->b_rs,
                       g->b_cs, bbuf + jr * kcb, min64(nr, ncb - jr - nb));
        int64_t mb;
        for (int64_t ir = 0, q = 0; ir < mcb; ir += mb, q++) {
            mb = tile_rows(mcb - ir, mr);
            float *ap = abuf + q * mr * kcb;
            if (!a_packed && jr == 0)
                pack_panel(kern, kcb, mb, mr,
                           g->A + (ic + ir) * g->a_rs + pc * g->a_cs,
                           g->a_rs, g->a_cs, ap, min64(mr, mcb - ir - mb));
            if (first && g->C)
                init_tile(g, ic + ir, jc + jr, mb, nb);
            kern->ukernel(kcb, ap, bp, g->Y + (ic + ir) * g->ldy + jc + jr,
                          g->ldy, mb, nb, g->alpha, beta);
        }
    }
}

/* Rows [m0, m1) x columns [n0, n1) of Y on one thread with its own
 * buffers.  Panels whose rows are contiguous in memory are packed a block
 * at a time before use (pack_block_rows); transposing panels one by one,
 * when first needed, while they are hot in L1. */
static void gemm_range(const gemm_plan *g, int64_t m0, int64_t m1,
                       int64_t n0, int64_t n1, float *abuf, float *bbuf)
{
    const int a_sweep = g->a_rs == 1;
    const int b_sweep = g->b_rs == 1 && !g->b_packed;
    for (int64_t jc = n0; jc < n1; jc += g->blk.nc) {
        const int64_t ncb = min64(g->blk.nc, n1 - jc);
        for (int64_t pc = 0; pc < g->K; pc += g->blk.kc) {
            const int64_t kcb = min64(g->blk.kc, g->K - pc);
            if (b_sweep)
                pack_block_rows(0, kcb, kcb, ncb, g->kern->nr, 0,
                                g->B + jc + pc * g->b_cs, g->b_cs, bbuf);
            for (int64_t ic = m0; ic < m1; ic += g->blk.mc) {
                const int64_t mcb = min64(g->blk.mc, m1 - ic);
                if (a_sweep)
                    pack_block_rows(0, kcb, kcb, mcb, g->kern->mr, 1,
                                    g->A + ic + pc * g->a_cs, g->a_cs, abuf);
                macro_kernel(g, ic, mcb, jc, ncb, pc, kcb, abuf, a_sweep,
                             bbuf, !b_sweep && !g->b_packed && ic == m0);
            }
        }
    }
}

/* Y = beta*C (or 0) when there is nothing to multiply (K == 0, alpha == 0). */
static void fill_without_product(const gemm_plan *g)
{
    for (int64_t i = 0; i < g->M; i++) {
        if (g->C) {
            init_tile(g, i, 0, 1, g->N);
        } else {
            float *y = g->Y + i * g->ldy;
            for (int64_t j = 0; j < g->N; j++)
                y[j] = 0.0f;
        }
    }
}

/* Work of one thread of a tm x tn grid in flop-equivalents: its (padded)
 * share of the multiply plus the panels it packs; a transposing pack of
 * one element costs about as much as 16 flops of the kernel. */
static double grid_cost(const gemm_plan *g, int tm, int tn)
{
    const int64_t mr = g->kern->mr, nr = g->kern->nr;
    const int64_t mt = (g->M + mr - 1) / mr, nt = (g->N + nr - 1) / nr;
    const double rows = (double)((mt + tm - 1) / tm * mr);
    const double cols = (double)((nt + tn - 1) / tn * nr);
    const double repack_a = (double)((g->N + g->blk.nc - 1) / g->blk.nc);
    return 2.0 * rows * cols * (double)g->K +
           16.0 * (rows * repack_a + cols) * (double)g->K;
}

/* flop-equivalents per ns of one thread's grid share (gemm 128^3 at 90
 * GFLOP/s on avx512 here) */
#define GEMM_FLOP_PER_NS 90.0

/* Picks the thread grid; fewer threads than allowed when the problem is
 * too small to pay for dispatching them: each extra thread costs one
 * grain of seqk__pool_threads_for. */
static void choose_grid(gemm_plan *g, int max_threads)
{
    const double wake = SEQK_POOL_GRAIN_NS * GEMM_FLOP_PER_NS;
    double best = grid_cost(g, 1, 1);
    g->tm = g->tn = 1;
    for (int t = 2; t <= max_threads; t++) {
        for (int tm = 1; tm <= t; tm++) {
            if (t % tm)
                continue;
            double c = grid_cost(g, tm, t / tm) + wake;
            if (c < best * 0.97) {
                best = c;
                g->tm = tm;
                g->tn = t / tm;
            }
        }
    }
}

/* Shared mode, for problems with enough rows: the threads pack each B
 * block together into a shared buffer, then take A blocks of mu rows off
 * a counter and multiply them against it.  No panel is packed twice, and
 * a thread slowed down by other load simply takes fewer blocks.  Two B
 * buffers alternate, so one barrier per B block suffices: a buffer is
 * refilled only after every thread has passed the barrier that follows
 * the filling of the other one. */
static void plan_shared(gemm_plan *g, int nthreads)
{
    const int64_t mr = g->kern->mr, nr = g->kern->nr;
    g->shared = nthreads > 1 && (g->M + mr - 1) / mr >= 8 * (int64_t)nthreads;
    if (!g->shared)
        return;
    /* about four A blocks per thread, at most mc rows each */
    g->mu = round_up((g->M + 4 * nthreads - 1) / (4 * nthreads), mr);
    g->mu = g->mu > g->blk.mc ? g->blk.mc : g->mu;
    g->snc = min64(round_up(g->N, nr), round_up(g->blk.nc / 2, nr));
    g->nphase = (g->N + g->snc - 1) / g->snc *
                ((g->K + g->blk.kc - 1) / g->blk.kc);
}

/* Packing buffer sizes: per thread, the A and B blocks of its largest
 * share (static grid), or its A block (shared mode, plus two shared B
 * blocks). */
static void size_buffers(gemm_plan *g)
{
    const int64_t mr = g->kern->mr, nr = g->kern->nr;
    const int64_t kc = min64(g->blk.kc, g->K);
    if (g->shared) {
        g->abuf_floats = round_up(g->mu * kc, 16);
        g->bbuf_floats = round_up(g->snc * kc, 16);
        return;
    }
    const int64_t mt = (g->M + mr - 1) / mr, nt = (g->N + nr - 1) / nr;
    const int64_t rows = (mt + g->tm - 1) / g->tm * mr;
    const int64_t cols = (nt + g->tn - 1) / g->tn * nr;
    g->abuf_floats = round_up(min64(g->blk.mc, rows) * kc, 16);
    g->bbuf_floats = round_up(min64(g->blk.nc, cols) * kc, 16);
}

static void grid_thread(void *arg, int tid, int nthreads)
{
    const gemm_plan *g = arg;
    (void)nthreads;
    int ti = tid / g->tn, tj = tid % g->tn;
    int64_t m0, m1, n0, n1;
    seqk__split_range(g->M, g->kern->mr, ti, g->tm, &m0, &m1);
    seqk__split_range(g->N, g->kern->nr, tj, g->tn, &n0, &n1);
    if (m0 >= m1 || n0 >= n1)
        return;
    float *abuf = g->bufs + (int64_t)tid * (g->abuf_floats + g->bbuf_floats);
    gemm_range(g, m0, m1, n0, n1, abuf, abuf + g->abuf_floats);
}

static void shared_thread(void *arg, int tid, int nthreads)
{
    gemm_plan *g = arg;
    (void)nthreads;
    const int64_t mr = g->kern->mr, nr = g->kern->nr;
    const int a_sweep = g->a_rs == 1, b_sweep = g->b_rs == 1;
    float *abuf = g->bufs + 2 * g->bbuf_floats + tid * g->abuf_floats;
    const int64_t ablocks = (g->M + g->mu - 1) / g->mu;
    int64_t phase = 0;
    for (int64_t jc = 0; jc < g->N; jc += g->snc) {
        const int64_t ncb = min64(g->snc, g->N - jc);
        for (int64_t pc = 0; pc < g->K; pc += g->blk.kc, phase++) {
            const int64_t kcb = min64(g->blk.kc, g->K - pc);
            float *bbuf = g->bufs + (phase & 1) * g->bbuf_floats;
            /* the B block: 16 source rows or one panel per unit */
            const int64_t bunits = g->b_packed ? 0
                                   : b_sweep ? (kcb + 15) / 16
                                             : (ncb + nr - 1) / nr;
            for (int64_t u; (u = atomic_fetch_add(&g->next[2 * phase], 1)) <
                            bunits;) {
                if (b_sweep) {
                    pack_block_rows(u * 16, min64(u * 16 + 16, kcb), kcb,
                                    ncb, nr, 0, g->B + jc + pc * g->b_cs,
                                    g->b_cs, bbuf);
                } else {
                    const int64_t jr = u * nr;
                    const int64_t nb = min64(nr, ncb - jr);
                    pack_panel(g->kern, kcb, nb, nr,
                               g->B + (jc + jr) * g->b_rs + pc * g->b_cs,
                               g->b_rs, g->b_cs, bbuf + jr * kcb,
                               min64(nr, ncb - jr - nb));
                }
            }
            seqk__pool_barrier(g->pool);
            for (int64_t u;
                 (u = atomic_fetch_add(&g->next[2 * phase + 1], 1)) <
                 ablocks;) {
                const int64_t ic = u * g->mu, mcb = min64(g->mu, g->M - ic);
                if (a_sweep)
                    pack_block_rows(0, kcb, kcb, mcb, mr, 1,
                                    g->A + ic + pc * g->a_cs, g->a_cs, abuf);
                macro_kernel(g, ic, mcb, jc, ncb, pc, kcb, abuf, a_sweep,
                             bbuf, 0);
            }
        }
    }
}

/* Runs a planned GEMM on nthreads threads of pool (NULL or 1: the caller
 * alone). */
static seqk_status run_plan(gemm_plan *g, seqk_threadpool *pool,
                            int nthreads)
{
    if (g->M == 0 || g->N == 0)
        return SEQK_OK;
    if (g->K == 0 || g->alpha == 0.0f) {
        fill_without_product(g);
        return SEQK_OK;
    }
    if (!pool || nthreads <= 1) {
        nthreads = 1;
        g->tm = g->tn = 1;
        g->shared = 0;
    }
    size_buffers(g);
    size_t floats = g->shared ? (size_t)g->abuf_floats * (size_t)nthreads +
                                    2 * (size_t)g->bbuf_floats
                              : (size_t)(g->abuf_floats + g->bbuf_floats) *
                                    (size_t)nthreads;
    g->bufs = seqk__aligned_alloc(floats * sizeof(float));
    if (g->shared)
        g->next = malloc(sizeof *g->next * (size_t)(2 * g->nphase));
    seqk_status st = SEQK_ERR_OUT_OF_MEMORY;
    if (!g->bufs || (g->shared && !g->next))
        goto cleanup;
    if (g->shared) {
        for (int64_t i = 0; i < 2 * g->nphase; i++)
            atomic_init(&g->next[i], 0);
        g->pool = pool;
        seqk__pool_run(pool, shared_thread, g, nthreads);
    } else if (nthreads > 1) {
        seqk__pool_run_tasks(pool, grid_thread, g, nthreads);
    } else {
        gemm_range(g, 0, g->M, 0, g->N, g->bufs, g->bufs + g->abuf_floats);
    }
    st = SEQK_OK;
cleanup:
    seqk__aligned_free(g->bufs);
    free(g->next);
    g->bufs = NULL;
    g->next = NULL;
    return st;
}

/* Runs plan g on a grid of at most threads threads (choose_grid decides
 * how many pay); an out-of-memory status gets its message. */
static seqk_status run_gridded(seqk_context *ctx, gemm_plan *g, int threads,
                               const seqk_gemm_problem *p)
{
    seqk_threadpool *pool = NULL;
    if (threads > 1) {
        choose_grid(g, threads);
        threads = g->tm * g->tn;
        plan_shared(g, threads);
        if (threads > 1)
            pool = seqk__pool(ctx);
    }
    seqk_status st = run_plan(g, pool, threads);
    if (st == SEQK_ERR_OUT_OF_MEMORY)
        return seqk__error(ctx, st,
                           "GEMM %lldx%lldx%lld: out of memory for packing "
                           "buffers",
                           (long long)p->M, (long long)p->N, (long long)p->K);
    return st;
}

seqk_status seqk__cpu_gemm_ex(seqk_context *ctx, const seqk_cpu_isa *isa,
                             const seqk_gemm_problem *p,
                             const seqk_gemm_blocking *blk,
                             int max_threads)
{
    gemm_plan g;
    seqk_gemm_blocking tuned;
    if (!blk) {
        tuned_blocking(ctx, isa->gemm, p, &tuned);
        blk = &tuned;
    }
    plan_init(&g, isa->gemm, p, blk);
    int threads = seqk__cpu_threads(ctx);
    if (max_threads > 0 && max_threads < threads)
        threads = max_threads;
    return run_gridded(ctx, &g, threads, p);
}

seqk_status seqk__cpu_gemm(seqk_context *ctx, const seqk_cpu_isa *isa,
                          const seqk_gemm_problem *p)
{
    if (p->b_cache)
        return seqk__cpu_gemm_cached(ctx, isa, p);
    const int small = seqk__cpu_gemm_small_kind(isa, p);
    if (small)
        return seqk__cpu_gemm_small(ctx, isa, p, small, 0);
    if (seqk__cpu_gemm_skinny_n(isa, p))
        return seqk__cpu_gemm_skinny(ctx, isa, p);
    return seqk__cpu_gemm_ex(ctx, isa, p, NULL, 0);
}

seqk_status seqk__cpu_gemm_prepacked_b(seqk_context *ctx,
                                      const seqk_cpu_isa *isa,
                                      const seqk_gemm_problem *p,
                                      const float *b_packed)
{
    gemm_plan g;
    seqk_gemm_blocking tuned;
    tuned_blocking(ctx, isa->gemm, p, &tuned);
    plan_init(&g, isa->gemm, p, &tuned);
    g.b_packed = b_packed;
    int threads = seqk__cpu_threads(ctx);
    return run_gridded(ctx, &g, threads, p);
}

seqk_status seqk__cpu_gemm_1t(const seqk_cpu_isa *isa,
                             const seqk_gemm_problem *p)
{
    const int small = seqk__cpu_gemm_small_kind(isa, p);
    if (small) {
        seqk__cpu_gemm_small_block(isa, p, small, 0, p->M, 0, p->N);
        return SEQK_OK;
    }
    gemm_plan g;
    plan_init(&g, isa->gemm, p, NULL);
    return run_plan(&g, NULL, 1);
}

int seqk__cpu_gemm_supports(const seqk_cpu_isa *isa, seqk_op op,
                           const void *problem, char *why, size_t why_len)
{
    (void)op;
    (void)problem;
    if (!isa->gemm) {
        snprintf(why, why_len, "no %s GEMM kernels in this build", isa->spec);
        return 0;
    }
    return 1;
}
