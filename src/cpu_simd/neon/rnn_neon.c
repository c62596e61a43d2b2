/*
 * rnn_neon.c — the fused RNN step kernel for NEON (AArch64 ASIMD; contract
 * in ../rnn.h): the recurrent GEMM of one tile of hidden units against R
 * prepacked in panels (and, for larger batches, the input projection
 * against W packed the same way), with the gate math of those units done
 * right after their dot products, so pre-activations never leave L1.
 *
 * Per tile (4 units; 8 for single-gate stages) and group of up to MR
 * batch rows:
 *
 *   wpanel [k][v][4]   k < I   x_t rows [r][k]      (fused projection)
 *   panel  [k][v][4]   k < H   h_t-1 rows [r][k]    (recurrence)
 *       (L2; each row group streams them once, one broadcast per row
 *        and k)
 *
 *   acc[r][v] += row[r][k] * panel[k][v]        (registers)
 *   buf[r][v][4] = acc                          (tiny, L1)
 *   gates(buf + XW or bias, c, peepholes) -> h_t, c_t, y    (whole
 *                            vectors; the y row tail lane by lane)
 *
 * Register tiles within the 32 q registers: 8 rows x 2 vectors, 6 x 3,
 * 5 x 4 (at most 24 accumulators + the panel vectors + 1 broadcast).
 * Batch 1 takes a GEMV loop with two accumulator sets (k even / odd) so
 * the FMA latency never limits how fast R streams in.
 */
#include <arm_neon.h>
#include <sleef.h>

#include "../rnn.h"

enum { V = 4, MR_MAX = 8, NVEC_MAX = 4 };

/* ---------------------------------------------------------- dot products */

/* Lines of the next tile's panels a row group prefetches into L2 while it
 * computes (up to two per k step), so that the next tile's first row
 * group does not wait on L3. */
typedef struct prefetch_slice {
    const char *w, *r;    /* of W's panel (during k < KA), of R's (k < KB) */
    int64_t wlines, rlines;
} prefetch_slice;

/* The register tile of nr rows (../rnn.h: nacc = nv + roff vectors each):
 *   acc[r][v]        += x[r][k]  * wa[k][v]     k < KA  (fused projection)
 *   acc[r][roff + v] += in[r][k] * wb[k][v]     k < KB  (recurrence)
 * stored to buf[r][0..nacc).  Inlined with constant nr/nv/roff, so acc
 * lives in registers. */
static inline __attribute__((always_inline)) void
dot_rows(int64_t KA, const float *wa, const float *const *x, int64_t KB,
         const float *wb, const float *const *in, int nr, int nv, int roff,
         const prefetch_slice *pf, float *buf)
{
    const char *pfp = pf->w;
    int64_t pfn = pf->wlines;
    float32x4_t acc[MR_MAX][NVEC_MAX];
#pragma GCC unroll 8
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv + roff; v++)
            acc[r][v] = vdupq_n_f32(0.0f);
    for (int64_t k = 0; k < KA; k++) {
        float32x4_t wv[NVEC_MAX];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            wv[v] = vld1q_f32(wa + v * V);
        wa += nv * V;
        if (pfn > 0) {
            __builtin_prefetch(pfp, 0, 2);
            __builtin_prefetch(pfp + 64, 0, 2);
            pfp += 128;
            pfn -= 2;
        }
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++) {
            const float32x4_t xb = vld1q_dup_f32(x[r] + k);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                acc[r][v] = vfmaq_f32(acc[r][v], xb, wv[v]);
        }
    }
    pfp = pf->r;
    pfn = pf->rlines;
    for (int64_t k = 0; k < KB; k++) {
        float32x4_t wv[NVEC_MAX];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            wv[v] = vld1q_f32(wb + v * V);
        wb += nv * V;
        if (pfn > 0) {
            __builtin_prefetch(pfp, 0, 2);
            __builtin_prefetch(pfp + 64, 0, 2);
            pfp += 128;
            pfn -= 2;
        }
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++) {
            const float32x4_t hb = vld1q_dup_f32(in[r] + k);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                acc[r][roff + v] =
                    vfmaq_f32(acc[r][roff + v], hb, wv[v]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv + roff; v++)
            vst1q_f32(buf + (r * (nv + roff) + v) * V, acc[r][v]);
}

/* acc[v] += sum_k in[k] * w[k][v] for one row: memory-bound (batch 1),
 * so two accumulator chains per vector (k even / odd) keep enough FMAs in
 * flight to take the panel as fast as the caches give it. */
static inline __attribute__((always_inline)) void
dot_row1_seg(int64_t K, const float *w, const float *in, int nv,
             float32x4_t *acc)
{
    float32x4_t a1[NVEC_MAX];
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++)
        a1[v] = vdupq_n_f32(0.0f);
    int64_t k = 0;
    for (; k + 2 <= K; k += 2) {
        const float32x4_t h0 = vld1q_dup_f32(in + k);
        const float32x4_t h1 = vld1q_dup_f32(in + k + 1);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            acc[v] = vfmaq_f32(acc[v], h0, vld1q_f32(w + v * V));
            a1[v] = vfmaq_f32(a1[v], h1, vld1q_f32(w + (nv + v) * V));
        }
        w += 2 * nv * V;
    }
    if (k < K) {
        const float32x4_t h0 = vld1q_dup_f32(in + k);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[v] = vfmaq_f32(acc[v], h0, vld1q_f32(w + v * V));
    }
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++)
        acc[v] = vaddq_f32(acc[v], a1[v]);
}

static inline __attribute__((always_inline)) void
dot_row1(int64_t KA, const float *wa, const float *x, int64_t KB,
         const float *wb, const float *in, int nv, int roff, float *buf)
{
    float32x4_t acc[NVEC_MAX];
#pragma GCC unroll 4
    for (int v = 0; v < nv + roff; v++)
        acc[v] = vdupq_n_f32(0.0f);
    if (KA > 0)
        dot_row1_seg(KA, wa, x, nv, acc);
    dot_row1_seg(KB, wb, in, nv, acc + roff);
#pragma GCC unroll 4
    for (int v = 0; v < nv + roff; v++)
        vst1q_f32(buf + v * V, acc[v]);
}

/* One instance per row count and panel shape (nv vectors, R accumulating
 * from roff). */
static void dot(int64_t KA, const float *wa, const float *const *x,
                int64_t KB, const float *wb, const float *const *in, int nr,
                int nv, int roff, const prefetch_slice *pf, float *buf)
{
    if (nr == 1) {
        const float *x0 = KA > 0 ? x[0] : NULL, *in0 = KB > 0 ? in[0] : NULL;
        switch (nv * 2 + roff) {
        case 4: dot_row1(KA, wa, x0, KB, wb, in0, 2, 0, buf); break;
        case 6: dot_row1(KA, wa, x0, KB, wb, in0, 3, 0, buf); break;
        case 7: dot_row1(KA, wa, x0, KB, wb, in0, 3, 1, buf); break;
        default: dot_row1(KA, wa, x0, KB, wb, in0, 4, 0, buf); break;
        }
        return;
    }
    switch ((nv * 2 + roff) * 16 + nr) {
    case 4 * 16 + 2: dot_rows(KA, wa, x, KB, wb, in, 2, 2, 0, pf, buf); break;
    case 4 * 16 + 3: dot_rows(KA, wa, x, KB, wb, in, 3, 2, 0, pf, buf); break;
    case 4 * 16 + 4: dot_rows(KA, wa, x, KB, wb, in, 4, 2, 0, pf, buf); break;
    case 4 * 16 + 5: dot_rows(KA, wa, x, KB, wb, in, 5, 2, 0, pf, buf); break;
    case 4 * 16 + 6: dot_rows(KA, wa, x, KB, wb, in, 6, 2, 0, pf, buf); break;
    case 4 * 16 + 7: dot_rows(KA, wa, x, KB, wb, in, 7, 2, 0, pf, buf); break;
    case 4 * 16 + 8: dot_rows(KA, wa, x, KB, wb, in, 8, 2, 0, pf, buf); break;
    case 6 * 16 + 2: dot_rows(KA, wa, x, KB, wb, in, 2, 3, 0, pf, buf); break;
    case 6 * 16 + 3: dot_rows(KA, wa, x, KB, wb, in, 3, 3, 0, pf, buf); break;
    case 6 * 16 + 4: dot_rows(KA, wa, x, KB, wb, in, 4, 3, 0, pf, buf); break;
    case 6 * 16 + 5: dot_rows(KA, wa, x, KB, wb, in, 5, 3, 0, pf, buf); break;
    case 6 * 16 + 6: dot_rows(KA, wa, x, KB, wb, in, 6, 3, 0, pf, buf); break;
    case 7 * 16 + 2: dot_rows(KA, wa, x, KB, wb, in, 2, 3, 1, pf, buf); break;
    case 7 * 16 + 3: dot_rows(KA, wa, x, KB, wb, in, 3, 3, 1, pf, buf); break;
    case 7 * 16 + 4: dot_rows(KA, wa, x, KB, wb, in, 4, 3, 1, pf, buf); break;
    case 7 * 16 + 5: dot_rows(KA, wa, x, KB, wb, in, 5, 3, 1, pf, buf); break;
    case 8 * 16 + 2: dot_rows(KA, wa, x, KB, wb, in, 2, 4, 0, pf, buf); break;
    case 8 * 16 + 3: dot_rows(KA, wa, x, KB, wb, in, 3, 4, 0, pf, buf); break;
    case 8 * 16 + 4: dot_rows(KA, wa, x, KB, wb, in, 4, 4, 0, pf, buf); break;
    default: dot_rows(KA, wa, x, KB, wb, in, 5, 4, 0, pf, buf); break;
    }
}

/* ----------------------------------------------------------- activations */

/* The eleven ONNX activations (seqk.h), as src/ref/activation.c defines
 * them; exp/expm1/log1p from SLEEF at 1.0 ULP, tanh at 3.5 ULP (three
 * times faster than SLEEF's 1.0-ULP tanh, and far inside the tolerance).
 * vmaxnm/vminnm ignore a NaN operand like C's fmax/fmin; vmax propagates
 * it like the reference's x < 0 ? 0 : x. */
static float32x4_t activate(const seqk_activation *f, float32x4_t x)
{
    const float32x4_t zero = vdupq_n_f32(0.0f), one = vdupq_n_f32(1.0f);
    const float32x4_t alpha = vdupq_n_f32(f->alpha);
    const float32x4_t beta = vdupq_n_f32(f->beta);
    switch (f->kind) {
    case SEQK_ACT_RELU:
        return vmaxq_f32(x, zero);
    case SEQK_ACT_TANH:
        return Sleef_tanhf4_u35advsimd(x);
    case SEQK_ACT_SIGMOID: {
        /* e^-x overflows to inf for x < -88: 1/(1+inf) = 0, as wanted */
        const float32x4_t e = Sleef_expf4_u10advsimd(vnegq_f32(x));
        return vdivq_f32(one, vaddq_f32(one, e));
    }
    case SEQK_ACT_AFFINE:
        return vfmaq_f32(beta, alpha, x);
    case SEQK_ACT_LEAKY_RELU:
        return vbslq_f32(vcgeq_f32(x, zero), x, vmulq_f32(alpha, x));
    case SEQK_ACT_THRESHOLDED_RELU:
        return vbslq_f32(vcgeq_f32(x, alpha), x, zero);
    case SEQK_ACT_SCALED_TANH:
        return vmulq_f32(alpha, Sleef_tanhf4_u35advsimd(vmulq_f32(beta, x)));
    case SEQK_ACT_HARD_SIGMOID:
        return vminnmq_f32(vmaxnmq_f32(vfmaq_f32(beta, alpha, x), zero), one);
    case SEQK_ACT_ELU: {
        const float32x4_t em1 = vmulq_f32(alpha, Sleef_expm1f4_u10advsimd(x));
        return vbslq_f32(vcltq_f32(x, zero), em1, x);
    }
    case SEQK_ACT_SOFTSIGN:
        return vdivq_f32(x, vaddq_f32(one, vabsq_f32(x)));
    case SEQK_ACT_SOFTPLUS: {
        /* max(x,0) + log1p(e^-|x|): never overflows */
        const float32x4_t e = Sleef_expf4_u10advsimd(vnegq_f32(vabsq_f32(x)));
        return vaddq_f32(vmaxnmq_f32(x, zero), Sleef_log1pf4_u10advsimd(e));
    }
    default:
        return vdupq_n_f32(__builtin_nanf(""));
    }
}

static inline float32x4_t clamp(float32x4_t x, float clip)
{
    if (clip > 0)
        x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-clip)), vdupq_n_f32(clip));
    return x;
}

/* f(clip(x)) for gate function k of the direction. */
static inline float32x4_t gate(const seqk_rnn_step_args *a, int k,
                               float32x4_t x)
{
    return activate(&a->act[k], clamp(x, a->clip));
}

/* XW of row i, projected gate slot g, units of V-tile q (see ../rnn.h). */
static inline const float *xw_at(const seqk_rnn_step_args *a, int64_t i,
                                 int64_t q, int g)
{
    return a->xw[i] + (q * a->xw_gates + g) * V;
}

/* Stores the units u.. of h into the user's y row (the tail at H lane by
 * lane). */
static inline void store_y(const seqk_rnn_step_args *a, int64_t i, int64_t u,
                           float32x4_t h)
{
    if (!a->y)
        return;
    const int64_t n = a->H - u;
    float *y = a->y[i] + u;
    if (n >= V) {
        vst1q_f32(y, h);
        return;
    }
    if (n > 0)
        vst1q_lane_f32(y, h, 0);
    if (n > 1)
        vst1q_lane_f32(y + 1, h, 1);
    if (n > 2)
        vst1q_lane_f32(y + 2, h, 2);
}

/* ------------------------------------------------------------ gate math */

/* Rows i0..i0+nr-1 of the pass; buf[r][v][4] from the dot products.
 * Two passes over the rows, each with independent activations only, so
 * the out-of-order core overlaps the SLEEF calls of different rows
 * instead of waiting on one row's i -> c -> o -> h chain. */
static void finish_lstm(const seqk_rnn_step_args *a, int64_t tile,
                        int64_t i0, int nr, float *buf)
{
    const int64_t Hp = a->Hp, u = tile * V;
    const int nv = a->input_forget ? 3 : 4;
    /* i, f, c~ from the pre-activations and c_{t-1}, into buf */
    for (int r = 0; r < nr; r++) {
        const float *xw = xw_at(a, i0 + r, tile, 0);
        float *acc = buf + r * nv * V;
        const float32x4_t cp = vld1q_f32(a->c + a->rows[i0 + r] * Hp + u);
        float32x4_t ai = vaddq_f32(vld1q_f32(acc), vld1q_f32(xw));
        if (a->peep)
            ai = vfmaq_f32(ai, vld1q_f32(a->peep + u), cp);
        vst1q_f32(acc, gate(a, 0, ai));
        if (!a->input_forget) {
            float32x4_t af = vaddq_f32(vld1q_f32(acc + 2 * V),
                                      vld1q_f32(xw + 2 * V));
            if (a->peep)
                af = vfmaq_f32(af, vld1q_f32(a->peep + 2 * Hp + u), cp);
            vst1q_f32(acc + 2 * V, gate(a, 0, af));
        }
        const float32x4_t ac = vaddq_f32(vld1q_f32(acc + (nv - 1) * V),
                                        vld1q_f32(xw + (nv - 1) * V));
        vst1q_f32(acc + (nv - 1) * V, gate(a, 1, ac));
    }
    /* c_t, then o (its peephole reads c_t) and h(c_t) */
    for (int r = 0; r < nr; r++) {
        const int64_t b = a->rows[i0 + r];
        const float *acc = buf + r * nv * V;
        float *c = a->c + b * Hp + u;
        const float32x4_t it = vld1q_f32(acc);
        const float32x4_t ft = a->input_forget
                              ? vsubq_f32(vdupq_n_f32(1.0f), it)
                              : vld1q_f32(acc + 2 * V);
        const float32x4_t ct = vld1q_f32(acc + (nv - 1) * V);
        const float32x4_t cn = vfmaq_f32(vmulq_f32(it, ct), ft, vld1q_f32(c));
        float32x4_t ao = vaddq_f32(vld1q_f32(acc + V),
                                  vld1q_f32(xw_at(a, i0 + r, tile, 1)));
        if (a->peep)
            ao = vfmaq_f32(ao, vld1q_f32(a->peep + Hp + u), cn);
        const float32x4_t h = vmulq_f32(gate(a, 0, ao),
                                       activate(&a->act[2], cn));
        vst1q_f32(c, cn);
        vst1q_f32(a->hnew + b * Hp + u, h);
        store_y(a, i0 + r, u, h);
    }
}

/* GRU, linear_before_reset = 1: all three gates from h_{t-1}; acc per row
 * hx, z, r, hr (hx: the fused x . W_h, else 0 and in XW).  z and r of
 * every row first, then the candidates (independent activations per pass,
 * as in finish_lstm). */
static void finish_gru(const seqk_rnn_step_args *a, int64_t tile, int64_t i0,
                       int nr, float *buf)
{
    const int64_t Hp = a->Hp, u = tile * V;
    const float32x4_t rbh = vld1q_f32(a->rbh + u);
    for (int r = 0; r < nr; r++) {
        const float *xw = xw_at(a, i0 + r, tile, 0);
        float *acc = buf + r * 4 * V;
        vst1q_f32(acc + V,
                        gate(a, 0, vaddq_f32(vld1q_f32(acc + V),
                                                 vld1q_f32(xw))));
        vst1q_f32(acc + 2 * V,
                        gate(a, 0, vaddq_f32(vld1q_f32(acc + 2 * V),
                                                 vld1q_f32(xw + V))));
    }
    for (int r = 0; r < nr; r++) {
        const int64_t b = a->rows[i0 + r];
        const float *acc = buf + r * 4 * V;
        const float32x4_t xh = vaddq_f32(
            vld1q_f32(acc), vld1q_f32(xw_at(a, i0 + r, tile, 2)));
        const float32x4_t lin = vaddq_f32(vld1q_f32(acc + 3 * V), rbh);
        const float32x4_t ht =
            gate(a, 1, vfmaq_f32(xh, vld1q_f32(acc + 2 * V), lin));
        const float32x4_t zt = vld1q_f32(acc + V);
        const float32x4_t hp = vld1q_f32(a->hprev + b * Hp + u);
        /* (1 - z) ht + z hp */
        const float32x4_t h = vfmaq_f32(ht, zt, vsubq_f32(hp, ht));
        vst1q_f32(a->hnew + b * Hp + u, h);
        store_y(a, i0 + r, u, h);
    }
}

/* GRU, linear_before_reset = 0, pass 1: z and r (.) h_{t-1}. */
static void finish_gru_zr(const seqk_rnn_step_args *a, int64_t tile,
                          int64_t i0, int nr, const float *buf)
{
    const int64_t Hp = a->Hp, u = tile * V;
    for (int r = 0; r < nr; r++) {
        const int64_t o = a->rows[i0 + r] * Hp + u;
        const float *xw = xw_at(a, i0 + r, tile, 0);
        const float *acc = buf + r * 2 * V;
        const float32x4_t zt =
            gate(a, 0, vaddq_f32(vld1q_f32(acc), vld1q_f32(xw)));
        const float32x4_t rt =
            gate(a, 0, vaddq_f32(vld1q_f32(acc + V), vld1q_f32(xw + V)));
        vst1q_f32(a->c + o, zt);
        vst1q_f32(a->rh + o, vmulq_f32(rt, vld1q_f32(a->hprev + o)));
    }
}

/* GRU, linear_before_reset = 0, pass 2 (tiles of 8 units). */
static void finish_gru_h(const seqk_rnn_step_args *a, int64_t tile,
                         int64_t i0, int nr, const float *buf)
{
    const int64_t Hp = a->Hp;
    for (int r = 0; r < nr; r++) {
        const int64_t b = a->rows[i0 + r];
        for (int v = 0; v < 2; v++) {
            const int64_t u = tile * 2 * V + v * V, o = b * Hp + u;
            const float32x4_t ht = gate(a, 1, vaddq_f32(
                vld1q_f32(buf + (r * 2 + v) * V),
                vld1q_f32(xw_at(a, i0 + r, 2 * tile + v, 2))));
            const float32x4_t zt = vld1q_f32(a->c + o);
            const float32x4_t hp = vld1q_f32(a->hprev + o);
            const float32x4_t h = vfmaq_f32(ht, zt, vsubq_f32(hp, ht));
            vst1q_f32(a->hnew + o, h);
            store_y(a, i0 + r, u, h);
        }
    }
}

/* Plain RNN (tiles of 8 units). */
static void finish_rnn(const seqk_rnn_step_args *a, int64_t tile, int64_t i0,
                       int nr, const float *buf)
{
    const int64_t Hp = a->Hp;
    for (int r = 0; r < nr; r++) {
        const int64_t b = a->rows[i0 + r];
        for (int v = 0; v < 2; v++) {
            const int64_t u = tile * 2 * V + v * V;
            const float32x4_t h = gate(a, 0, vaddq_f32(
                vld1q_f32(buf + (r * 2 + v) * V),
                vld1q_f32(xw_at(a, i0 + r, 2 * tile + v, 0))));
            vst1q_f32(a->hnew + b * Hp + u, h);
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
        for (int64_t o = 0; o < xw_bytes; o += 64) {
            const char *line = x + o;
            __builtin_prefetch(line);
        }
        if (a->y) {
            const char *line = (const char *)(a->y[i0 + r] + j * vpg * V);
            __builtin_prefetch(line);
        }
    }
}

/* The part of the next tile's panels (after wa: K rows, after wb: H rows)
 * that the row group at i0 prefetches: 1/n of each for n row groups, none
 * for one group (the hardware prefetchers follow a single stream). */
static void next_panels(int64_t nrows, int mr, int64_t i0, int nv,
                        const float *wa, int64_t K, const float *wb,
                        int64_t H, prefetch_slice *pf)
{
    if (nrows <= mr)
        return;
    const int64_t n = (nrows + mr - 1) / mr, g = i0 / mr;
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
    switch (a->stage) {
    case SEQK_RNN_STAGE_LSTM: finish_lstm(a, j, i0, nr, buf); break;
    case SEQK_RNN_STAGE_GRU: finish_gru(a, j, i0, nr, buf); break;
    case SEQK_RNN_STAGE_GRU_ZR: finish_gru_zr(a, j, i0, nr, buf); break;
    case SEQK_RNN_STAGE_GRU_H: finish_gru_h(a, j, i0, nr, buf); break;
    case SEQK_RNN_STAGE_RNN: finish_rnn(a, j, i0, nr, buf); break;
    }
}

/* Tiles [tile_begin, tile_end) for all rows, one register tile of rows
 * at a time: its dot products over the whole k range (the tile's panels
 * stay in L2 for the next row group), then its gates. */
static void seqk_f32_rnn_step__neon(const seqk_rnn_step_args *a,
                                    int64_t tile_begin, int64_t tile_end)
{
    const int nv = seqk_rnn_stage_nvec(a->stage, a->input_forget);
    const int roff = seqk_rnn_stage_racc(a->stage);
    const int vpg = seqk_rnn_stage_vpg(a->stage);
    /* rows per register tile by panel shape (see dot) */
    const int mr = nv + roff == 4 ? 5 : nv == 3 ? 6 : 8;
    const int64_t H = a->H, K = a->K;
    _Alignas(64) float buf[MR_MAX * NVEC_MAX * V];
    const float *in[MR_MAX], *x[MR_MAX];

    for (int64_t j = tile_begin; j < tile_end; j++) {
        const float *wb = a->panel + j * H * nv * V;
        const float *wa = K > 0 ? a->wpanel + j * K * nv * V : NULL;
        for (int64_t i0 = 0; i0 < a->nrows; i0 += mr) {
            const int nr = a->nrows - i0 < mr ? (int)(a->nrows - i0) : mr;
            for (int r = 0; r < nr; r++) {
                in[r] = a->in + a->rows[i0 + r] * a->Hp;
                x[r] = K > 0 ? a->x[i0 + r] : NULL;
            }
            prefetch_slice pf = {NULL, NULL, 0, 0};
            if (j + 1 < tile_end) {
                prefetch_rows(a, j + 1, i0, nr, vpg);
                next_panels(a->nrows, mr, i0, nv, wa, K, wb, H, &pf);
            }
            dot(K, wa, x, H, wb, in, nr, nv, roff, &pf, buf);
            finish(a, j, i0, nr, buf);
        }
    }
}

/* XW of rows i0.. at tile j: the W accumulators plus the bias, each
 * vector to its XW slot (../rnn.h). */
static void store_xw(const seqk_rnn_step_args *a, int64_t j, int64_t i0,
                     int nr, const float *buf, int nv, int nacc, int vpg)
{
    for (int r = 0; r < nr; r++)
        for (int v = 0; v < nv; v++) {
            const int slot = seqk_rnn_stage_wslot(a->stage, v / vpg);
            const int64_t o = ((j * vpg + v % vpg) * a->xw_gates + slot) * V;
            vst1q_f32(a->xw_out[i0 + r] + o,
                    vaddq_f32(vld1q_f32(buf + (r * nacc + v) * V),
                                  vld1q_f32(a->bias + o)));
        }
}

/* The input projection of tiles [tile_begin, tile_end) for all rows (a
 * chunk of steps): the register tiles of the step, over W's panels. */
static void seqk_f32_rnn_project__neon(const seqk_rnn_step_args *a,
                                       int64_t tile_begin, int64_t tile_end)
{
    const int nv = seqk_rnn_stage_nvec(a->stage, a->input_forget);
    const int roff = seqk_rnn_stage_racc(a->stage);
    const int vpg = seqk_rnn_stage_vpg(a->stage);
    const int mr = nv + roff == 4 ? 5 : nv == 3 ? 6 : 8;
    const int64_t K = a->K;
    _Alignas(64) float buf[MR_MAX * NVEC_MAX * V];
    const float *x[MR_MAX];

    for (int64_t j = tile_begin; j < tile_end; j++) {
        const float *wa = a->wpanel + j * K * nv * V;
        for (int64_t i0 = 0; i0 < a->nrows; i0 += mr) {
            const int nr = a->nrows - i0 < mr ? (int)(a->nrows - i0) : mr;
            for (int r = 0; r < nr; r++)
                x[r] = a->x[i0 + r];
            prefetch_slice pf = {NULL, NULL, 0, 0};
            if (j + 1 < tile_end)
                next_panels(a->nrows, mr, i0, nv, wa, K, NULL, 0, &pf);
            dot(K, wa, x, 0, NULL, NULL, nr, nv, roff, &pf, buf);
            store_xw(a, j, i0, nr, buf, nv, nv + roff, vpg);
        }
    }
}

const seqk_rnn_kernels seqk_rnn_kernels__neon = {
    .name = "seqk_f32_rnn_step__neon",
    .vlen = V,
    .step = seqk_f32_rnn_step__neon,
    .project = seqk_f32_rnn_project__neon,
};
