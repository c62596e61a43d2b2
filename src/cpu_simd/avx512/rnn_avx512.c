/*
 * rnn_avx512.c — the fused RNN step kernel for AVX-512 (contract in
 * ../rnn.h): the recurrent GEMM of one tile of hidden units against R
 * prepacked in panels (and, for larger batches, the input projection
 * against W packed the same way), with the gate math of those units done
 * right after their dot products, so pre-activations never leave L1.
 *
 * Per tile (16 units; 32 for single-gate stages) and group of up to MR
 * batch rows:
 *
 *   wpanel [k][v][16]   k < I   x_t rows [r][k]      (fused projection)
 *   panel  [k][v][16]   k < H   h_t-1 rows [r][k]    (recurrence)
 *       (L2; each row group streams them once, one broadcast per row
 *        and k)
 *
 *   acc[r][v] += row[r][k] * panel[k][v]        (registers)
 *   buf[r][v][16] = acc                          (tiny, L1)
 *   gates(buf + XW or bias, c, peepholes) -> h_t, c_t, y    (whole
 *                                    vectors; the y row tail masked)
 *
 * Register tiles: 6 rows x 4 vectors (LSTM; GRU lbr=1 with its four
 * accumulators hx, z, r, hr), 8 rows x 2 or 3 vectors: 24 accumulators +
 * the panel vectors + 1 broadcast within the 32 zmm registers.
 * Batch 1 takes a GEMV loop with two accumulator sets (k even / odd) so
 * the FMA latency never limits how fast R streams in.
 */
#include <immintrin.h>
#include <sleef.h>

#include "../rnn.h"

enum { V = 16, MR_MAX = 8, NVEC_MAX = 4 };

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
    __m512 acc[MR_MAX][NVEC_MAX];
#pragma GCC unroll 8
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv + roff; v++)
            acc[r][v] = _mm512_setzero_ps();
    for (int64_t k = 0; k < KA; k++) {
        __m512 wv[NVEC_MAX];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            wv[v] = _mm512_load_ps(wa + v * V);
        wa += nv * V;
        if (pfn > 0) {
            _mm_prefetch(pfp, _MM_HINT_T1);
            _mm_prefetch(pfp + 64, _MM_HINT_T1);
            pfp += 128;
            pfn -= 2;
        }
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++) {
            const __m512 xb = _mm512_set1_ps(x[r][k]);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                acc[r][v] = _mm512_fmadd_ps(xb, wv[v], acc[r][v]);
        }
    }
    pfp = pf->r;
    pfn = pf->rlines;
    for (int64_t k = 0; k < KB; k++) {
        __m512 wv[NVEC_MAX];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            wv[v] = _mm512_load_ps(wb + v * V);
        wb += nv * V;
        if (pfn > 0) {
            _mm_prefetch(pfp, _MM_HINT_T1);
            _mm_prefetch(pfp + 64, _MM_HINT_T1);
            pfp += 128;
            pfn -= 2;
        }
#pragma GCC unroll 8
        for (int r = 0; r < nr; r++) {
            const __m512 hb = _mm512_set1_ps(in[r][k]);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                acc[r][roff + v] =
                    _mm512_fmadd_ps(hb, wv[v], acc[r][roff + v]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < nr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv + roff; v++)
            _mm512_store_ps(buf + (r * (nv + roff) + v) * V, acc[r][v]);
}

/* acc[v] += sum_k in[k] * w[k][v] for one row: memory-bound (batch 1),
 * so two accumulator chains per vector (k even / odd) keep enough FMAs in
 * flight to take the panel as fast as the caches give it. */
static inline __attribute__((always_inline)) void
dot_row1_seg(int64_t K, const float *w, const float *in, int nv, __m512 *acc)
{
    __m512 a1[NVEC_MAX];
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++)
        a1[v] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 2 <= K; k += 2) {
        const __m512 h0 = _mm512_set1_ps(in[k]);
        const __m512 h1 = _mm512_set1_ps(in[k + 1]);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            acc[v] = _mm512_fmadd_ps(h0, _mm512_load_ps(w + v * V), acc[v]);
            a1[v] = _mm512_fmadd_ps(h1, _mm512_load_ps(w + (nv + v) * V),
                                    a1[v]);
        }
        w += 2 * nv * V;
    }
    if (k < K) {
        const __m512 h0 = _mm512_set1_ps(in[k]);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[v] = _mm512_fmadd_ps(h0, _mm512_load_ps(w + v * V), acc[v]);
    }
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++)
        acc[v] = _mm512_add_ps(acc[v], a1[v]);
}

static inline __attribute__((always_inline)) void
dot_row1(int64_t KA, const float *wa, const float *x, int64_t KB,
         const float *wb, const float *in, int nv, int roff, float *buf)
{
    __m512 acc[NVEC_MAX];
#pragma GCC unroll 4
    for (int v = 0; v < nv + roff; v++)
        acc[v] = _mm512_setzero_ps();
    if (KA > 0)
        dot_row1_seg(KA, wa, x, nv, acc);
    dot_row1_seg(KB, wb, in, nv, acc + roff);
#pragma GCC unroll 4
    for (int v = 0; v < nv + roff; v++)
        _mm512_store_ps(buf + v * V, acc[v]);
}

/* One instance per row count and panel shape (nv vectors, R accumulating
 * from roff): 24 accumulators + nv panel vectors at most. */
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
    case 6 * 16 + 7: dot_rows(KA, wa, x, KB, wb, in, 7, 3, 0, pf, buf); break;
    case 6 * 16 + 8: dot_rows(KA, wa, x, KB, wb, in, 8, 3, 0, pf, buf); break;
    case 7 * 16 + 2: dot_rows(KA, wa, x, KB, wb, in, 2, 3, 1, pf, buf); break;
    case 7 * 16 + 3: dot_rows(KA, wa, x, KB, wb, in, 3, 3, 1, pf, buf); break;
    case 7 * 16 + 4: dot_rows(KA, wa, x, KB, wb, in, 4, 3, 1, pf, buf); break;
    case 7 * 16 + 5: dot_rows(KA, wa, x, KB, wb, in, 5, 3, 1, pf, buf); break;
    case 7 * 16 + 6: dot_rows(KA, wa, x, KB, wb, in, 6, 3, 1, pf, buf); break;
    case 8 * 16 + 2: dot_rows(KA, wa, x, KB, wb, in, 2, 4, 0, pf, buf); break;
    case 8 * 16 + 3: dot_rows(KA, wa, x, KB, wb, in, 3, 4, 0, pf, buf); break;
    case 8 * 16 + 4: dot_rows(KA, wa, x, KB, wb, in, 4, 4, 0, pf, buf); break;
    case 8 * 16 + 5: dot_rows(KA, wa, x, KB, wb, in, 5, 4, 0, pf, buf); break;
    default: dot_rows(KA, wa, x, KB, wb, in, 6, 4, 0, pf, buf); break;
    }
}

/* ----------------------------------------------------------- activations */

/* The eleven ONNX activations (seqk.h), as src/ref/activation.c defines
 * them; exp/expm1/log1p from SLEEF at 1.0 ULP, tanh at 3.5 ULP (three
 * times faster than SLEEF's 1.0-ULP tanh, and far inside the tolerance). */
static __m512 activate(const seqk_activation *f, __m512 x)
{
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    const __m512 alpha = _mm512_set1_ps(f->alpha);
    const __m512 beta = _mm512_set1_ps(f->beta);
    switch (f->kind) {
    case SEQK_ACT_RELU:
        return _mm512_max_ps(zero, x); /* NaN: max returns operand 2 */
    case SEQK_ACT_TANH:
        return Sleef_tanhf16_u35avx512f(x);
    case SEQK_ACT_SIGMOID: {
        /* e^-x overflows to inf for x < -88: 1/(1+inf) = 0, as wanted */
        const __m512 e = Sleef_expf16_u10avx512f(_mm512_sub_ps(zero, x));
        return _mm512_div_ps(one, _mm512_add_ps(one, e));
    }
    case SEQK_ACT_AFFINE:
        return _mm512_fmadd_ps(alpha, x, beta);
    case SEQK_ACT_LEAKY_RELU: {
        const __mmask16 neg = _mm512_cmp_ps_mask(x, zero, _CMP_NGE_UQ);
        return _mm512_mask_mul_ps(x, neg, alpha, x);
    }
    case SEQK_ACT_THRESHOLDED_RELU:
        return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, alpha, _CMP_GE_OQ),
                                   x);
    case SEQK_ACT_SCALED_TANH:
        return _mm512_mul_ps(alpha,
                             Sleef_tanhf16_u35avx512f(_mm512_mul_ps(beta, x)));
    case SEQK_ACT_HARD_SIGMOID:
        return _mm512_min_ps(
            _mm512_max_ps(_mm512_fmadd_ps(alpha, x, beta), zero), one);
    case SEQK_ACT_ELU: {
        const __mmask16 neg = _mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ);
        const __m512 em1 = Sleef_expm1f16_u10avx512f(x);
        return _mm512_mask_mul_ps(x, neg, alpha, em1);
    }
    case SEQK_ACT_SOFTSIGN:
        return _mm512_div_ps(x, _mm512_add_ps(one, _mm512_abs_ps(x)));
    case SEQK_ACT_SOFTPLUS: {
        /* max(x,0) + log1p(e^-|x|): never overflows */
        const __m512 e =
            Sleef_expf16_u10avx512f(_mm512_sub_ps(zero, _mm512_abs_ps(x)));
        return _mm512_add_ps(_mm512_max_ps(x, zero),
                             Sleef_log1pf16_u10avx512f(e));
    }
    default:
        return _mm512_set1_ps(__builtin_nanf(""));
    }
}

static inline __m512 clamp(__m512 x, float clip)
{
    if (clip > 0)
        x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-clip)),
                          _mm512_set1_ps(clip));
    return x;
}

/* f(clip(x)) for gate function k of the direction. */
static inline __m512 gate(const seqk_rnn_step_args *a, int k, __m512 x)
{
    return activate(&a->act[k], clamp(x, a->clip));
}

/* XW of row i, projected gate slot g, units of V-tile q (see ../rnn.h). */
static inline const float *xw_at(const seqk_rnn_step_args *a, int64_t i,
                                 int64_t q, int g)
{
    return a->xw[i] + (q * a->xw_gates + g) * V;
}

/* Stores the units u.. of h into the user's y row (masked at H). */
static inline void store_y(const seqk_rnn_step_args *a, int64_t i, int64_t u,
                           __m512 h)
{
    if (!a->y)
        return;
    const int64_t n = a->H - u;
    if (n <= 0)
        return;
    const __mmask16 m = n >= V ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
    _mm512_mask_storeu_ps(a->y[i] + u, m, h);
}

/* ------------------------------------------------------------ gate math */

/* Rows i0..i0+nr-1 of the pass; buf[r][v][16] from the dot products.
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
        const __m512 cp = _mm512_load_ps(a->c + a->rows[i0 + r] * Hp + u);
        __m512 ai = _mm512_add_ps(_mm512_load_ps(acc), _mm512_loadu_ps(xw));
        if (a->peep)
            ai = _mm512_fmadd_ps(_mm512_load_ps(a->peep + u), cp, ai);
        _mm512_store_ps(acc, gate(a, 0, ai));
        if (!a->input_forget) {
            __m512 af = _mm512_add_ps(_mm512_load_ps(acc + 2 * V),
                                      _mm512_loadu_ps(xw + 2 * V));
            if (a->peep)
                af = _mm512_fmadd_ps(_mm512_load_ps(a->peep + 2 * Hp + u), cp,
                                     af);
            _mm512_store_ps(acc + 2 * V, gate(a, 0, af));
        }
        const __m512 ac = _mm512_add_ps(_mm512_load_ps(acc + (nv - 1) * V),
                                        _mm512_loadu_ps(xw + (nv - 1) * V));
        _mm512_store_ps(acc + (nv - 1) * V, gate(a, 1, ac));
    }
    /* c_t, then o (its peephole reads c_t) and h(c_t) */
    for (int r = 0; r < nr; r++) {
        const int64_t b = a->rows[i0 + r];
        const float *acc = buf + r * nv * V;
        float *c = a->c + b * Hp + u;
        const __m512 it = _mm512_load_ps(acc);
        const __m512 ft = a->input_forget
                              ? _mm512_sub_ps(_mm512_set1_ps(1.0f), it)
                              : _mm512_load_ps(acc + 2 * V);
        const __m512 ct = _mm512_load_ps(acc + (nv - 1) * V);
        const __m512 cn = _mm512_fmadd_ps(ft, _mm512_load_ps(c),
                                          _mm512_mul_ps(it, ct));
        __m512 ao = _mm512_add_ps(_mm512_load_ps(acc + V),
                                  _mm512_loadu_ps(xw_at(a, i0 + r, tile, 1)));
        if (a->peep)
            ao = _mm512_fmadd_ps(_mm512_load_ps(a->peep + Hp + u), cn, ao);
        const __m512 h = _mm512_mul_ps(gate(a, 0, ao),
                                       activate(&a->act[2], cn));
        _mm512_store_ps(c, cn);
        _mm512_store_ps(a->hnew + b * Hp + u, h);
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
    const __m512 rbh = _mm512_load_ps(a->rbh + u);
    for (int r = 0; r < nr; r++) {
        const float *xw = xw_at(a, i0 + r, tile, 0);
        float *acc = buf + r * 4 * V;
        _mm512_store_ps(acc + V,
                        gate(a, 0, _mm512_add_ps(_mm512_load_ps(acc + V),
                                                 _mm512_loadu_ps(xw))));
        _mm512_store_ps(acc + 2 * V,
                        gate(a, 0, _mm512_add_ps(_mm512_load_ps(acc + 2 * V),
                                                 _mm512_loadu_ps(xw + V))));
    }
    for (int r = 0; r < nr; r++) {
        const int64_t b = a->rows[i0 + r];
        const float *acc = buf + r * 4 * V;
        const __m512 xh = _mm512_add_ps(
            _mm512_load_ps(acc), _mm512_loadu_ps(xw_at(a, i0 + r, tile, 2)));
        const __m512 lin = _mm512_add_ps(_mm512_load_ps(acc + 3 * V), rbh);
        const __m512 ht =
            gate(a, 1, _mm512_fmadd_ps(_mm512_load_ps(acc + 2 * V), lin, xh));
        const __m512 zt = _mm512_load_ps(acc + V);
        const __m512 hp = _mm512_load_ps(a->hprev + b * Hp + u);
        /* (1 - z) ht + z hp */
        const __m512 h = _mm512_fmadd_ps(zt, _mm512_sub_ps(hp, ht), ht);
        _mm512_store_ps(a->hnew + b * Hp + u, h);
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
        const __m512 zt = gate(a, 0, _mm512_add_ps(_mm512_load_ps(acc),
                                                   _mm512_loadu_ps(xw)));
        const __m512 rt = gate(a, 0, _mm512_add_ps(_mm512_load_ps(acc + V),
                                                   _mm512_loadu_ps(xw + V)));
        _mm512_store_ps(a->c + o, zt);
        _mm512_store_ps(a->rh + o,
                        _mm512_mul_ps(rt, _mm512_load_ps(a->hprev + o)));
    }
}

/* GRU, linear_before_reset = 0, pass 2 (tiles of 32 units). */
static void finish_gru_h(const seqk_rnn_step_args *a, int64_t tile,
                         int64_t i0, int nr, const float *buf)
{
    const int64_t Hp = a->Hp;
    for (int r = 0; r < nr; r++) {
        const int64_t b = a->rows[i0 + r];
        for (int v = 0; v < 2; v++) {
            const int64_t u = tile * 2 * V + v * V, o = b * Hp + u;
            const __m512 ht = gate(a, 1, _mm512_add_ps(
                _mm512_load_ps(buf + (r * 2 + v) * V),
                _mm512_loadu_ps(xw_at(a, i0 + r, 2 * tile + v, 2))));
            const __m512 zt = _mm512_load_ps(a->c + o);
            const __m512 hp = _mm512_load_ps(a->hprev + o);
            const __m512 h = _mm512_fmadd_ps(zt, _mm512_sub_ps(hp, ht), ht);
            _mm512_store_ps(a->hnew + o, h);
            store_y(a, i0 + r, u, h);
        }
    }
}

/* Plain RNN (tiles of 32 units). */
static void finish_rnn(const seqk_rnn_step_args *a, int64_t tile, int64_t i0,
                       int nr, const float *buf)
{
    const int64_t Hp = a->Hp;
    for (int r = 0; r < nr; r++) {
        const int64_t b = a->rows[i0 + r];
        for (int v = 0; v < 2; v++) {
            const int64_t u = tile * 2 * V + v * V;
            const __m512 h = gate(a, 0, _mm512_add_ps(
                _mm512_load_ps(buf + (r * 2 + v) * V),
                _mm512_loadu_ps(xw_at(a, i0 + r, 2 * tile + v, 0))));
            _mm512_store_ps(a->hnew + b * Hp + u, h);
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
            _mm_prefetch(line, _MM_HINT_T0);
        }
        if (a->y) {
            const char *line = (const char *)(a->y[i0 + r] + j * vpg * V);
            _mm_prefetch(line, _MM_HINT_T0);
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
static void seqk_f32_rnn_step__avx512(const seqk_rnn_step_args *a,
                                      int64_t tile_begin, int64_t tile_end)
{
    const int nv = seqk_rnn_stage_nvec(a->stage, a->input_forget);
    const int roff = seqk_rnn_stage_racc(a->stage);
    const int vpg = seqk_rnn_stage_vpg(a->stage);
    const int mr = nv + roff == 4 ? 6 : 8;
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
            _mm512_storeu_ps(a->xw_out[i0 + r] + o,
                    _mm512_add_ps(_mm512_load_ps(buf + (r * nacc + v) * V),
                                  _mm512_load_ps(a->bias + o)));
        }
}

/* The input projection of tiles [tile_begin, tile_end) for all rows (a
 * chunk of steps): the register tiles of the step, over W's panels. */
static void seqk_f32_rnn_project__avx512(const seqk_rnn_step_args *a,
                                         int64_t tile_begin, int64_t tile_end)
{
    const int nv = seqk_rnn_stage_nvec(a->stage, a->input_forget);
    const int roff = seqk_rnn_stage_racc(a->stage);
    const int vpg = seqk_rnn_stage_vpg(a->stage);
    const int mr = nv + roff == 4 ? 6 : 8;
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

const seqk_rnn_kernels seqk_rnn_kernels__avx512 = {
    .name = "seqk_f32_rnn_step__avx512",
    .vlen = V,
    .step = seqk_f32_rnn_step__avx512,
    .project = seqk_f32_rnn_project__avx512,
};
