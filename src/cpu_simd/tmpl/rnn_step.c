/*
 * rnn_step.c — TEMPLATE, compiled once per ISA; not a translation unit of
 * its own.  avx2/rnn_avx2.c, avx512/rnn_avx512.c and neon/rnn_neon.c each
 * include their vector API (simd/<isa>.h), define what really differs per
 * ISA, the register tiles (MR_MAX and tile_rows(): rows per tile for each
 * panel shape), then include this file, so each ISA's static library
 * (src/cpu_simd/<isa>/meson.build) compiles it with its own flags.
 * Written against the vector API only (simd/avx2.h documents it): no
 * intrinsics here.  Includes resolve from src/cpu_simd/.
 *
 * The fused RNN step kernel (contract in rnn.h): the recurrent GEMM of one
 * tile of hidden units against R prepacked in panels (and, for larger
 * batches, the input projection against W packed the same way), with the
 * gate math of those units done right after their dot products, so
 * pre-activations never leave L1.  V = SIMD_V floats per vector.
 *
 * Per tile (V units; 2V for single-gate stages) and group of up to MR
 * batch rows (MR = tile_rows(): by ISA and panel shape):
 *
 *   wpanel [k][v][V]   k < I   x_t rows [r][k]      (fused projection)
 *   panel  [k][v][V]   k < H   h_t-1 rows [r][k]    (recurrence)
 *       (L2; each row group streams them once, one broadcast per row
 *        and k)
 *
 *   acc[r][v] += row[r][k] * panel[k][v]        (registers)
 *   buf[r][v][V] = acc                          (tiny, L1)
 *   gates(buf + XW or bias, c, peepholes) -> h_t, c_t, y    (whole
 *                                    vectors; the y row tail masked)
 *
 * Batch 1 takes a GEMV loop with two accumulator sets (k even / odd) so
 * the FMA latency never limits how fast R streams in; with a bf16 plan's
 * panels (panel16/wpanel16, pairwise: core/bf16.h) that loop reads bf16
 * and widens on load.
 *
 * Activation NaN semantics follow each ISA's simd_max (x86 maxps returns
 * its second operand on NaN, NEON vmax propagates) and simd_max_num
 * (maxps(x, 0) / vmaxnm), so every ISA keeps the results it always had.
 */
#include "cpu_simd/rnn.h"
#include "cpu_simd/simd/fastmath.h"

/* TILE_ROWS: the most rows any ISA's register tile has; the instances
 * below go up to it and those past the ISA's tile_rows() fold away. */
enum { V = SIMD_V, NVEC_MAX = 4, TILE_ROWS = 8 };
_Static_assert((int)MR_MAX <= (int)TILE_ROWS, "MR_MAX past the tiles below");

#define RNN_STR_(x) #x
#define RNN_STR(x) RNN_STR_(x)

/* ---------------------------------------------------------- dot products */

/* Lines of the next tile's panels a row group prefetches into L2 while it
 * computes (up to two per k step), so that the next tile's first row
 * group does not wait on L3. */
typedef struct prefetch_slice {
    const char *w, *r;    /* of W's panel (during k < KA), of R's (k < KB) */
    int64_t wlines, rlines;
} prefetch_slice;

/* The next two lines of a prefetch slice, while it has any left. */
SIMD_INLINE void prefetch_next(const char **p, int64_t *n)
{
    if (*n > 0) {
        simd_prefetch_l2(*p);
        simd_prefetch_l2(*p + 64);
        *p += 128;
        *n -= 2;
    }
}

/* One k step of the register tile: acc[r][off + v] += row[r][k] * w[v],
 * then *wp advanced to the next k.  The ISA's schedule
 * (PREFETCH_AFTER_LOADS) puts the prefetches and the pointer bump after
 * the panel loads (AVX-512, NEON) or the prefetches first and the bump
 * last (AVX2).  Inlined with constant shapes; the order keeps every tile
 * within the SIMD_NREGS registers: panel vectors first (nv + 1 broadcast
 * + nr*nacc), or, when that does not fit (AVX2's 3 rows x 4 vectors),
 * broadcasts first (nr + 1 panel vector + nr*nacc). */
SIMD_INLINE void kstep(const float **wp, const float *const *row, int64_t k,
                       int nr, int nv, int off,
                       simd_f32 acc[TILE_ROWS][NVEC_MAX], const char **pfp,
                       int64_t *pfn)
{
    const float *w = *wp;
    if (!PREFETCH_AFTER_LOADS)
        prefetch_next(pfp, pfn);
    if (nv + 1 + nr * (nv + off) <= SIMD_NREGS) {
        simd_f32 wv[NVEC_MAX];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            wv[v] = simd_load(w + v * V);
        if (PREFETCH_AFTER_LOADS) {
            *wp += nv * V;
            prefetch_next(pfp, pfn);
        }
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++) {
            const simd_f32 b = simd_broadcast(row[r] + k);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                acc[r][off + v] = simd_fma(b, wv[v], acc[r][off + v]);
        }
    } else {
        simd_f32 bv[TILE_ROWS];
        if (PREFETCH_AFTER_LOADS) {
            *wp += nv * V;
            prefetch_next(pfp, pfn);
        }
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++)
            bv[r] = simd_broadcast(row[r] + k);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            const simd_f32 wv = simd_load(w + v * V);
#pragma GCC unroll 8
            for (int r = 0; r < nr; r++)
                acc[r][off + v] = simd_fma(bv[r], wv, acc[r][off + v]);
        }
    }
    if (!PREFETCH_AFTER_LOADS)
        *wp += nv * V;
}

/* The register tile of nr rows (rnn.h: nacc = nv + roff vectors each):
 *   acc[r][v]        += x[r][k]  * wa[k][v]     k < KA  (fused projection)
 *   acc[r][roff + v] += in[r][k] * wb[k][v]     k < KB  (recurrence)
 * stored to buf[r][0..nacc).  Inlined with constant nr/nv/roff, so acc
 * lives in registers. */
SIMD_INLINE void dot_rows(int64_t KA, const float *wa, const float *const *x,
                          int64_t KB, const float *wb,
                          const float *const *in, int nr, int nv, int roff,
                          const prefetch_slice *pf, float *buf)
{
    const char *pfp = pf->w;
    int64_t pfn = pf->wlines;
    simd_f32 acc[TILE_ROWS][NVEC_MAX];
#pragma GCC unroll 8
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv + roff; v++)
            acc[r][v] = simd_zero();
    for (int64_t k = 0; k < KA; k++)
        kstep(&wa, x, k, nr, nv, 0, acc, &pfp, &pfn);
    pfp = pf->r;
    pfn = pf->rlines;
    for (int64_t k = 0; k < KB; k++)
        kstep(&wb, in, k, nr, nv, roff, acc, &pfp, &pfn);
#pragma GCC unroll 8
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv + roff; v++)
            simd_store(buf + (r * (nv + roff) + v) * V, acc[r][v]);
}

/* The nv vectors of a panel row at element offset o: f32 (aligned), or
 * bf16 in the pairwise layout (core/bf16.h seqk__bf16_pack_rows; bf
 * constant: a bf16 plan's panels, rnn.h panel16). */
SIMD_INLINE void panel_row(const void *w, int bf, int64_t o, int nv,
                           simd_f32 *out)
{
    if (!bf) {
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            out[v] = simd_load((const float *)w + o + v * V);
        return;
    }
    const uint16_t *h = (const uint16_t *)w + o;
#pragma GCC unroll 4
    for (int v = 0; v + 2 <= nv; v += 2)
        simd_load_bf16x2(h + v * V, &out[v], &out[v + 1]);
    if (nv % 2)
        out[nv - 1] = simd_load_bf16(h + (nv - 1) * V);
}

/* acc[v] += sum_k in[k] * w[k][v] for one row: memory-bound (batch 1),
 * so two accumulator chains per vector (k even / odd) keep enough FMAs in
 * flight to take the panel as fast as the caches give it. */
SIMD_INLINE void dot_row1_seg(int64_t K, const void *w, int bf,
                              const float *in, int nv, simd_f32 *acc)
{
    simd_f32 a1[NVEC_MAX];
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++)
        a1[v] = simd_zero();
    int64_t k = 0, o = 0;
    for (; k + 2 <= K; k += 2) {
        simd_f32 r0[NVEC_MAX], r1[NVEC_MAX];
        const simd_f32 h0 = simd_broadcast(in + k);
        const simd_f32 h1 = simd_broadcast(in + k + 1);
        panel_row(w, bf, o, nv, r0);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[v] = simd_fma(h0, r0[v], acc[v]);
        panel_row(w, bf, o + nv * V, nv, r1);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            a1[v] = simd_fma(h1, r1[v], a1[v]);
        o += 2 * nv * V;
    }
    if (k < K) {
        simd_f32 r0[NVEC_MAX];
        const simd_f32 h0 = simd_broadcast(in + k);
        panel_row(w, bf, o, nv, r0);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[v] = simd_fma(h0, r0[v], acc[v]);
    }
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++)
        acc[v] = simd_add(acc[v], a1[v]);
}

SIMD_INLINE void dot_row1(int64_t KA, const void *wa, const float *x,
                          int64_t KB, const void *wb, const float *in,
                          int nv, int roff, int bf, float *buf)
{
    simd_f32 acc[NVEC_MAX];
#pragma GCC unroll 4
    for (int v = 0; v < nv + roff; v++)
        acc[v] = simd_zero();
    if (KA > 0)
        dot_row1_seg(KA, wa, bf, x, nv, acc);
    if (KB > 0)
        dot_row1_seg(KB, wb, bf, in, nv, acc + roff);
#pragma GCC unroll 4
    for (int v = 0; v < nv + roff; v++)
        simd_store(buf + v * V, acc[v]);
}

/* The batch-1 GEMV over bf16 panels (rnn.h panel16/wpanel16): half the
 * bytes of the f32 panels, the same arithmetic and results. */
static void dot1_bf16(int64_t KA, const uint16_t *wa, const float *x,
                      int64_t KB, const uint16_t *wb, const float *in,
                      int nv, int roff, float *buf)
{
    switch (nv * 2 + roff) {
    case 4: dot_row1(KA, wa, x, KB, wb, in, 2, 0, 1, buf); break;
    case 6: dot_row1(KA, wa, x, KB, wb, in, 3, 0, 1, buf); break;
    case 7: dot_row1(KA, wa, x, KB, wb, in, 3, 1, 1, buf); break;
    default: dot_row1(KA, wa, x, KB, wb, in, 4, 0, 1, buf); break;
    }
}

/* dot_rows() if the ISA has a register tile of nr rows for this panel
 * shape (nr <= tile_rows(nv, roff)).  Called with constants only, so the
 * check folds away, and so do the tiles the ISA does not have. */
SIMD_INLINE void tile(int nr, int nv, int roff, int64_t KA, const float *wa,
                      const float *const *x, int64_t KB, const float *wb,
                      const float *const *in, const prefetch_slice *pf,
                      float *buf)
{
    if (nr <= tile_rows(nv, roff))
        dot_rows(KA, wa, x, KB, wb, in, nr, nv, roff, pf, buf);
}

/* One instance per row count and panel shape (nv vectors, R accumulating
 * from roff): the GEMV of batch 1, else the ISA's register tiles. */
static void dot(int64_t KA, const float *wa, const float *const *x,
                int64_t KB, const float *wb, const float *const *in, int nr,
                int nv, int roff, const prefetch_slice *pf, float *buf)
{
    if (nr == 1) {
        const float *x0 = KA > 0 ? x[0] : NULL, *in0 = KB > 0 ? in[0] : NULL;
        switch (nv * 2 + roff) {
        case 4: dot_row1(KA, wa, x0, KB, wb, in0, 2, 0, 0, buf); break;
        case 6: dot_row1(KA, wa, x0, KB, wb, in0, 3, 0, 0, buf); break;
        case 7: dot_row1(KA, wa, x0, KB, wb, in0, 3, 1, 0, buf); break;
        default: dot_row1(KA, wa, x0, KB, wb, in0, 4, 0, 0, buf); break;
        }
        return;
    }
    switch ((nv * 2 + roff) * 16 + nr) {
    case 4 * 16 + 2: tile(2, 2, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 4 * 16 + 3: tile(3, 2, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 4 * 16 + 4: tile(4, 2, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 4 * 16 + 5: tile(5, 2, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 4 * 16 + 6: tile(6, 2, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 4 * 16 + 7: tile(7, 2, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 4 * 16 + 8: tile(8, 2, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 6 * 16 + 2: tile(2, 3, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 6 * 16 + 3: tile(3, 3, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 6 * 16 + 4: tile(4, 3, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 6 * 16 + 5: tile(5, 3, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 6 * 16 + 6: tile(6, 3, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 6 * 16 + 7: tile(7, 3, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 6 * 16 + 8: tile(8, 3, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 7 * 16 + 2: tile(2, 3, 1, KA, wa, x, KB, wb, in, pf, buf); break;
    case 7 * 16 + 3: tile(3, 3, 1, KA, wa, x, KB, wb, in, pf, buf); break;
    case 7 * 16 + 4: tile(4, 3, 1, KA, wa, x, KB, wb, in, pf, buf); break;
    case 7 * 16 + 5: tile(5, 3, 1, KA, wa, x, KB, wb, in, pf, buf); break;
    case 7 * 16 + 6: tile(6, 3, 1, KA, wa, x, KB, wb, in, pf, buf); break;
    case 7 * 16 + 7: tile(7, 3, 1, KA, wa, x, KB, wb, in, pf, buf); break;
    case 7 * 16 + 8: tile(8, 3, 1, KA, wa, x, KB, wb, in, pf, buf); break;
    case 8 * 16 + 2: tile(2, 4, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 8 * 16 + 3: tile(3, 4, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 8 * 16 + 4: tile(4, 4, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 8 * 16 + 5: tile(5, 4, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 8 * 16 + 6: tile(6, 4, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 8 * 16 + 7: tile(7, 4, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    case 8 * 16 + 8: tile(8, 4, 0, KA, wa, x, KB, wb, in, pf, buf); break;
    }
}

/* ----------------------------------------------------------- activations */

/* The eleven ONNX activations (seqk.h), as src/ref/activation.c defines
 * them; tanh and sigmoid inline (simd/fastmath.h, under 3 ulp),
 * expm1/log1p from SLEEF at 1.0 ULP.
 * relu is simd_max(0, x): NaN stays NaN on every ISA, like the reference's
 * x < 0 ? 0 : x; hard_sigmoid and softplus use simd_max_num/min_num
 * (fmax/fmin: a NaN operand is ignored). */
static simd_f32 activate(const seqk_activation *f, simd_f32 x)
{
    const simd_f32 zero = simd_zero(), one = simd_set1(1.0f);
    const simd_f32 alpha = simd_set1(f->alpha);
    const simd_f32 beta = simd_set1(f->beta);
    switch (f->kind) {
    case SEQK_ACT_RELU:
        return simd_max(zero, x);
    case SEQK_ACT_TANH:
        return simd_tanh_fast(x);
    case SEQK_ACT_SIGMOID:
        return simd_sigmoid_fast(x);
    case SEQK_ACT_AFFINE:
        return simd_fma(alpha, x, beta);
    case SEQK_ACT_LEAKY_RELU: /* NaN: alpha * x */
        return simd_select(simd_cmp_ge(x, zero), x, simd_mul(alpha, x));
    case SEQK_ACT_THRESHOLDED_RELU:
        return simd_select(simd_cmp_ge(x, alpha), x, zero);
    case SEQK_ACT_SCALED_TANH:
        return simd_mul(alpha, simd_tanh_fast(simd_mul(beta, x)));
    case SEQK_ACT_HARD_SIGMOID:
        return simd_min_num(simd_max_num(simd_fma(alpha, x, beta), zero), one);
    case SEQK_ACT_ELU: {
        const simd_f32 em1 = simd_mul(alpha, simd_expm1(x));
        return simd_select(simd_cmp_lt(x, zero), em1, x);
    }
    case SEQK_ACT_SOFTSIGN:
        return simd_div(x, simd_add(one, simd_abs(x)));
    case SEQK_ACT_SOFTPLUS: {
        /* max(x,0) + log1p(e^-|x|): never overflows */
        const simd_f32 e = simd_exp(simd_neg(simd_abs(x)));
        return simd_add(simd_max_num(x, zero), simd_log1p(e));
    }
    default:
        return simd_set1(__builtin_nanf(""));
    }
}

static inline simd_f32 clamp(simd_f32 x, float clip)
{
    if (clip > 0)
        x = simd_min(simd_max(x, simd_set1(-clip)), simd_set1(clip));
    return x;
}

/* Activation k of the direction.  std: the direction has the default
 * activations (sigmoid for k = 0, tanh for k = 1, 2), a constant after
 * inlining: then inline math, no call (which would spill every vector
 * register) and no switch. */
SIMD_INLINE simd_f32 act_fn(const seqk_rnn_step_args *a, int std, int k,
                            simd_f32 x)
{
    if (std)
        return k == 0 ? simd_sigmoid_fast(x) : simd_tanh_fast(x);
    return activate(&a->act[k], x);
}

/* f(clip(x)) for gate function k of the direction. */
SIMD_INLINE simd_f32 gate(const seqk_rnn_step_args *a, int std, int k,
                          simd_f32 x)
{
    return act_fn(a, std, k, clamp(x, a->clip));
}

/* Whether the gate math may take act_fn's std path: the stage's gate
 * functions are sigmoid (f) and tanh (g, and h for LSTM). */
static int std_acts(const seqk_rnn_step_args *a)
{
    if (a->stage == SEQK_RNN_STAGE_RNN)
        return 0;
    return a->act[0].kind == SEQK_ACT_SIGMOID &&
           a->act[1].kind == SEQK_ACT_TANH &&
           (a->stage != SEQK_RNN_STAGE_LSTM ||
            a->act[2].kind == SEQK_ACT_TANH);
}

/* XW of row i, projected gate slot g, units of V-tile q (see rnn.h). */
static inline const float *xw_at(const seqk_rnn_step_args *a, int64_t i,
                                 int64_t q, int g)
{
    return a->xw[i] + (q * a->xw_gates + g) * V;
}

/* Stores the units u.. of h into the user's y row (masked at H; masked-off
 * lanes are never accessed).  Whole vectors unmasked: AVX2's masked store
 * is slower. */
static inline void store_y(const seqk_rnn_step_args *a, int64_t i, int64_t u,
                           simd_f32 h)
{
    if (!a->y)
        return;
    const int64_t n = a->H - u;
    if (n <= 0)
        return;
    if (n >= V) {
        simd_storeu(a->y[i] + u, h);
        return;
    }
    simd_store_tail(a->y[i] + u, h, n);
}

/* ------------------------------------------------------------ gate math */

/* Rows i0..i0+nr-1 of the pass; buf[r][v][V] from the dot products.
 * Two passes over the rows, each with independent activations only, so
 * the out-of-order core overlaps the SLEEF calls of different rows
 * instead of waiting on one row's i -> c -> o -> h chain. */
SIMD_INLINE void finish_lstm(const seqk_rnn_step_args *a, int std, int64_t tile,
                        int64_t i0, int nr, float *buf)
{
    const int64_t Hp = a->Hp, u = tile * V;
    const int nv = a->input_forget ? 3 : 4;
    /* i, f, c~ from the pre-activations and c_{t-1}, into buf */
    for (int r = 0; r < nr; r++) {
        const float *xw = xw_at(a, i0 + r, tile, 0);
        float *acc = buf + r * nv * V;
        const simd_f32 cp = simd_load(a->c + a->rows[i0 + r] * Hp + u);
        simd_f32 ai = simd_add(simd_load(acc), simd_loadu(xw));
        if (a->peep)
            ai = simd_fma(simd_load(a->peep + u), cp, ai);
        simd_store(acc, gate(a, std, 0, ai));
        if (!a->input_forget) {
            simd_f32 af =
                simd_add(simd_load(acc + 2 * V), simd_loadu(xw + 2 * V));
            if (a->peep)
                af = simd_fma(simd_load(a->peep + 2 * Hp + u), cp, af);
            simd_store(acc + 2 * V, gate(a, std, 0, af));
        }
        const simd_f32 ac = simd_add(simd_load(acc + (nv - 1) * V),
                                     simd_loadu(xw + (nv - 1) * V));
        simd_store(acc + (nv - 1) * V, gate(a, std, 1, ac));
    }
    /* c_t, then o (its peephole reads c_t) and h(c_t) */
    for (int r = 0; r < nr; r++) {
        const int64_t b = a->rows[i0 + r];
        const float *acc = buf + r * nv * V;
        float *c = a->c + b * Hp + u;
        const simd_f32 it = simd_load(acc);
        const simd_f32 ft = a->input_forget
                                ? simd_sub(simd_set1(1.0f), it)
                                : simd_load(acc + 2 * V);
        const simd_f32 ct = simd_load(acc + (nv - 1) * V);
        const simd_f32 cn = simd_fma(ft, simd_load(c), simd_mul(it, ct));
        simd_f32 ao = simd_add(simd_load(acc + V),
                               simd_loadu(xw_at(a, i0 + r, tile, 1)));
        if (a->peep)
            ao = simd_fma(simd_load(a->peep + Hp + u), cn, ao);
        const simd_f32 h = simd_mul(gate(a, std, 0, ao), act_fn(a, std, 2, cn));
        simd_store(c, cn);
        simd_store(a->hnew + b * Hp + u, h);
        store_y(a, i0 + r, u, h);
    }
}

/* GRU, linear_before_reset = 1: all three gates from h_{t-1}; acc per row
 * hx, z, r, hr (hx: the fused x . W_h, else 0 and in XW).  z and r of
 * every row first, then the candidates (independent activations per pass,
 * as in finish_lstm). */
SIMD_INLINE void finish_gru(const seqk_rnn_step_args *a, int std, int64_t tile, int64_t i0,
                       int nr, float *buf)
{
    const int64_t Hp = a->Hp, u = tile * V;
    const simd_f32 rbh = simd_load(a->rbh + u);
    for (int r = 0; r < nr; r++) {
        const float *xw = xw_at(a, i0 + r, tile, 0);
        float *acc = buf + r * 4 * V;
        simd_store(acc + V,
                   gate(a, std, 0, simd_add(simd_load(acc + V), simd_loadu(xw))));
        simd_store(acc + 2 * V, gate(a, std, 0, simd_add(simd_load(acc + 2 * V),
                                                    simd_loadu(xw + V))));
    }
    for (int r = 0; r < nr; r++) {
        const int64_t b = a->rows[i0 + r];
        const float *acc = buf + r * 4 * V;
        const simd_f32 xh = simd_add(simd_load(acc),
                                     simd_loadu(xw_at(a, i0 + r, tile, 2)));
        const simd_f32 lin = simd_add(simd_load(acc + 3 * V), rbh);
        const simd_f32 ht =
            gate(a, std, 1, simd_fma(simd_load(acc + 2 * V), lin, xh));
        const simd_f32 zt = simd_load(acc + V);
        const simd_f32 hp = simd_load(a->hprev + b * Hp + u);
        /* (1 - z) ht + z hp */
        const simd_f32 h = simd_fma(zt, simd_sub(hp, ht), ht);
        simd_store(a->hnew + b * Hp + u, h);
        store_y(a, i0 + r, u, h);
    }
}

/* GRU, linear_before_reset = 0, pass 1: z and r (.) h_{t-1}. */
SIMD_INLINE void finish_gru_zr(const seqk_rnn_step_args *a, int std, int64_t tile,
                          int64_t i0, int nr, const float *buf)
{
    const int64_t Hp = a->Hp, u = tile * V;
    for (int r = 0; r < nr; r++) {
        const int64_t o = a->rows[i0 + r] * Hp + u;
        const float *xw = xw_at(a, i0 + r, tile, 0);
        const float *acc = buf + r * 2 * V;
        const simd_f32 zt =
            gate(a, std, 0, simd_add(simd_load(acc), simd_loadu(xw)));
        const simd_f32 rt =
            gate(a, std, 0, simd_add(simd_load(acc + V), simd_loadu(xw + V)));
        simd_store(a->c + o, zt);
        simd_store(a->rh + o, simd_mul(rt, simd_load(a->hprev + o)));
    }
}

/* GRU, linear_before_reset = 0, pass 2 (tiles of 2V units). */
SIMD_INLINE void finish_gru_h(const seqk_rnn_step_args *a, int std, int64_t tile,
                         int64_t i0, int nr, const float *buf)
{
    const int64_t Hp = a->Hp;
    for (int r = 0; r < nr; r++) {
        const int64_t b = a->rows[i0 + r];
        for (int v = 0; v < 2; v++) {
            const int64_t u = tile * 2 * V + v * V, o = b * Hp + u;
            const simd_f32 ht = gate(a, std, 1, simd_add(
                simd_load(buf + (r * 2 + v) * V),
                simd_loadu(xw_at(a, i0 + r, 2 * tile + v, 2))));
            const simd_f32 zt = simd_load(a->c + o);
            const simd_f32 hp = simd_load(a->hprev + o);
            const simd_f32 h = simd_fma(zt, simd_sub(hp, ht), ht);
            simd_store(a->hnew + o, h);
            store_y(a, i0 + r, u, h);
        }
    }
}

/* Plain RNN (tiles of 2V units). */
static void finish_rnn(const seqk_rnn_step_args *a, int64_t tile, int64_t i0,
                       int nr, const float *buf)
{
    const int64_t Hp = a->Hp;
    for (int r = 0; r < nr; r++) {
        const int64_t b = a->rows[i0 + r];
        for (int v = 0; v < 2; v++) {
            const int64_t u = tile * 2 * V + v * V;
            const simd_f32 h = gate(a, 0, 0, simd_add(
                simd_load(buf + (r * 2 + v) * V),
                simd_loadu(xw_at(a, i0 + r, 2 * tile + v, 0))));
            simd_store(a->hnew + b * Hp + u, h);
            store_y(a, i0 + r, u, h);
        }
    }
}

/* ------------------------------------------------------------ the kernel */

/* Prefetches the XW and y lines rows i0.. read and write at tile j: one
 * stream per row is more than the hardware prefetchers follow. */
static void prefetch_rows(const seqk_rnn_step_args *a, int64_t j, int64_t i0,
                          int nr, int vpg)
{
    const int64_t xw_bytes = (int64_t)vpg * a->xw_gates * V * 4;
    for (int r = 0; r < nr; r++) {
        const char *x =
            (const char *)(a->xw[i0 + r] + j * vpg * a->xw_gates * V);
        for (int64_t o = 0; o < xw_bytes; o += 64)
            simd_prefetch_l1(x + o);
        if (a->y)
            simd_prefetch_l1(a->y[i0 + r] + j * vpg * V);
    }
}

/* The part of the next tile's panels (after wa: K rows, after wb: H rows)
 * that row group g of n prefetches: 1/n of each, none for one group (the
 * hardware prefetchers follow a single stream). */
static void next_panels(int64_t n, int64_t g, int nv, const float *wa,
                        int64_t K, const float *wb, int64_t H,
                        prefetch_slice *pf)
{
    if (n <= 1)
        return;
    const int64_t wl = K * nv * V * 4 / 64, rl = H * nv * V * 4 / 64;
    const int64_t wper = (wl + n - 1) / n, rper = (rl + n - 1) / n;
    if (K > 0 && g * wper < wl) {
        pf->w = (const char *)(wa + K * nv * V) + g * wper * 64;
        pf->wlines = wl - g * wper < wper ? wl - g * wper : wper;
    }
    if (H > 0 && g * rper < rl) {
        pf->r = (const char *)(wb + H * nv * V) + g * rper * 64;
        pf->rlines = rl - g * rper < rper ? rl - g * rper : rper;
    }
}

static void finish(const seqk_rnn_step_args *a, int64_t j, int64_t i0,
                   int nr, float *buf)
{
    /* the default activations as their own instances (std_acts) */
    const int std = std_acts(a);
    switch (a->stage) {
    case SEQK_RNN_STAGE_LSTM:
        if (std)
            finish_lstm(a, 1, j, i0, nr, buf);
        else
            finish_lstm(a, 0, j, i0, nr, buf);
        break;
    case SEQK_RNN_STAGE_GRU:
        if (std)
            finish_gru(a, 1, j, i0, nr, buf);
        else
            finish_gru(a, 0, j, i0, nr, buf);
        break;
    case SEQK_RNN_STAGE_GRU_ZR:
        if (std)
            finish_gru_zr(a, 1, j, i0, nr, buf);
        else
            finish_gru_zr(a, 0, j, i0, nr, buf);
        break;
    case SEQK_RNN_STAGE_GRU_H:
        if (std)
            finish_gru_h(a, 1, j, i0, nr, buf);
        else
            finish_gru_h(a, 0, j, i0, nr, buf);
        break;
    case SEQK_RNN_STAGE_RNN: finish_rnn(a, j, i0, nr, buf); break;
    }
}

/* Rows in group g of n over nrows: the rows spread evenly (16 rows in
 * tiles of 6: 6, 5, 5, not 6, 6, 4), so no group runs a narrow tile. */
static inline int group_rows(int64_t nrows, int64_t n, int64_t g)
{
    return (int)(nrows / n + (g < nrows % n));
}

static inline int64_t group_start(int64_t nrows, int64_t n, int64_t g)
{
    return g * (nrows / n) + (g < nrows % n ? g : nrows % n);
}

/* The step when all rows fit in one register tile (batch 1, small
 * batches): the dot products of up to MR_MAX / nrows tiles first, then
 * their gate math, so that the tiles' activation chains overlap (with one
 * row the gate math is latency-bound: i, g -> c -> tanh(c) -> h). */
static void step_one_group(const seqk_rnn_step_args *a, int64_t tile_begin,
                           int64_t tile_end, float *buf)
{
    const int nv = seqk_rnn_stage_nvec(a->stage, a->input_forget);
    const int roff = seqk_rnn_stage_racc(a->stage);
    const int vpg = seqk_rnn_stage_vpg(a->stage);
    const int nr = (int)a->nrows, nacc = nv + roff;
    const int64_t H = a->H, K = a->K, per = MR_MAX / nr;
    const float *in[MR_MAX], *x[MR_MAX];
    const prefetch_slice pf = {NULL, NULL, 0, 0};
    for (int r = 0; r < nr; r++) {
        in[r] = a->in + a->rows[r] * a->Hp;
        x[r] = K > 0 ? a->x[r] : NULL;
    }
    for (int64_t j0 = tile_begin; j0 < tile_end; j0 += per) {
        const int64_t j1 = j0 + per < tile_end ? j0 + per : tile_end;
        for (int64_t j = j0; j < j1; j++) {
            if (j + 1 < tile_end)
                prefetch_rows(a, j + 1, 0, nr, vpg);
            if (nr == 1 && a->panel16 && (K == 0 || a->wpanel16))
                dot1_bf16(K, K > 0 ? a->wpanel16 + j * K * nv * V : NULL,
                          x[0], H, a->panel16 + j * H * nv * V, in[0], nv,
                          roff, buf + (j - j0) * nacc * V);
            else
                dot(K, K > 0 ? a->wpanel + j * K * nv * V : NULL, x, H,
                    a->panel + j * H * nv * V, in, nr, nv, roff, &pf,
                    buf + (j - j0) * nr * nacc * V);
        }
        for (int64_t j = j0; j < j1; j++)
            finish(a, j, 0, nr, buf + (j - j0) * nr * nacc * V);
    }
}

/* Tiles [tile_begin, tile_end) for all rows, one register tile of rows
 * at a time: its dot products over the whole k range (the tile's panels
 * stay in L2 for the next row group), then its gates. */
static void SIMD_SUFFIX(seqk_f32_rnn_step)(const seqk_rnn_step_args *a,
                                           int64_t tile_begin,
                                           int64_t tile_end)
{
    const int nv = seqk_rnn_stage_nvec(a->stage, a->input_forget);
    const int roff = seqk_rnn_stage_racc(a->stage);
    const int vpg = seqk_rnn_stage_vpg(a->stage);
    const int mr = tile_rows(nv, roff);
    const int64_t ngroups = (a->nrows + mr - 1) / mr;
    const int64_t H = a->H, K = a->K;
    _Alignas(64) float buf[MR_MAX * NVEC_MAX * V];
    const float *in[MR_MAX], *x[MR_MAX];

    if (ngroups == 1) {
        step_one_group(a, tile_begin, tile_end, buf);
        return;
    }
    for (int64_t j = tile_begin; j < tile_end; j++) {
        const float *wb = a->panel + j * H * nv * V;
        const float *wa = K > 0 ? a->wpanel + j * K * nv * V : NULL;
        for (int64_t g = 0; g < ngroups; g++) {
            const int64_t i0 = group_start(a->nrows, ngroups, g);
            const int nr = group_rows(a->nrows, ngroups, g);
            for (int r = 0; r < nr; r++) {
                in[r] = a->in + a->rows[i0 + r] * a->Hp;
                x[r] = K > 0 ? a->x[i0 + r] : NULL;
            }
            prefetch_slice pf = {NULL, NULL, 0, 0};
            if (j + 1 < tile_end) {
                prefetch_rows(a, j + 1, i0, nr, vpg);
                next_panels(ngroups, g, nv, wa, K, wb, H, &pf);
            }
            dot(K, wa, x, H, wb, in, nr, nv, roff, &pf, buf);
            finish(a, j, i0, nr, buf);
        }
    }
}

/* XW of rows i0.. at tile j: the W accumulators plus the bias, each
 * vector to its XW slot (rnn.h). */
static void store_xw(const seqk_rnn_step_args *a, int64_t j, int64_t i0,
                     int nr, const float *buf, int nv, int nacc, int vpg)
{
    for (int r = 0; r < nr; r++)
        for (int v = 0; v < nv; v++) {
            const int slot = seqk_rnn_stage_wslot(a->stage, v / vpg);
            const int64_t o = ((j * vpg + v % vpg) * a->xw_gates + slot) * V;
            simd_storeu(a->xw_out[i0 + r] + o,
                        simd_add(simd_load(buf + (r * nacc + v) * V),
                                 simd_load(a->bias + o)));
        }
}

/* The input projection of tiles [tile_begin, tile_end) for all rows (a
 * chunk of steps): the register tiles of the step, over W's panels. */
static void SIMD_SUFFIX(seqk_f32_rnn_project)(const seqk_rnn_step_args *a,
                                              int64_t tile_begin,
                                              int64_t tile_end)
{
    const int nv = seqk_rnn_stage_nvec(a->stage, a->input_forget);
    const int roff = seqk_rnn_stage_racc(a->stage);
    const int vpg = seqk_rnn_stage_vpg(a->stage);
    const int mr = tile_rows(nv, roff);
    const int64_t ngroups = (a->nrows + mr - 1) / mr;
    const int64_t K = a->K;
    _Alignas(64) float buf[MR_MAX * NVEC_MAX * V];
    const float *x[MR_MAX];

    for (int64_t j = tile_begin; j < tile_end; j++) {
        const float *wa = a->wpanel + j * K * nv * V;
        for (int64_t g = 0; g < ngroups; g++) {
            const int64_t i0 = group_start(a->nrows, ngroups, g);
            const int nr = group_rows(a->nrows, ngroups, g);
            for (int r = 0; r < nr; r++)
                x[r] = a->x[i0 + r];
            prefetch_slice pf = {NULL, NULL, 0, 0};
            if (j + 1 < tile_end)
                next_panels(ngroups, g, nv, wa, K, NULL, 0, &pf);
            if (nr == 1 && a->wpanel16)
                dot1_bf16(K, a->wpanel16 + j * K * nv * V, x[0], 0, NULL,
                          NULL, nv, roff, buf);
            else
                dot(K, wa, x, 0, NULL, NULL, nr, nv, roff, &pf, buf);
            store_xw(a, j, i0, nr, buf, nv, nv + roff, vpg);
        }
    }
}

const seqk_rnn_kernels SIMD_SUFFIX(seqk__rnn_kernels) = {
    .name = RNN_STR(SIMD_SUFFIX(seqk_f32_rnn_step)),
    .vlen = V,
    .step = SIMD_SUFFIX(seqk_f32_rnn_step),
    .project = SIMD_SUFFIX(seqk_f32_rnn_project),
};
