/*
 * tmpl/attention_rows.c — the kernels behind Attention, SeqAttention and
 * Softmax (contract in attention.h), written once against the vector API
 * (simd/<isa>.h); the softmax parts are in tmpl/softmax.c.
 *
 * COMPILED ONCE PER ISA: not a translation unit of its own.  Each ISA's
 * attention_<isa>.c includes its simd/<isa>.h, defines the knobs below
 * and its K^T panel pack, then includes this file, inside that ISA's
 * static library and with its flags; the kernel names get the ISA suffix
 * from SIMD_SUFFIX.  The knobs are the ISA's tile and schedule choices:
 *
 *   ATTN_MR                 query rows per score / context tile (6)
 *   ATTN_SCORES_NV          vectors per score-tile row (nr = NV*SIMD_V keys)
 *   ATTN_CTX_NV             vectors per context-tile row (and per
 *                           weighted_rows block)
 *   ATTN_CTX_TAIL_NV        vectors per context tail tile (masked tails)
 *   ATTN_CTX_TAIL_PREFETCH  whether the tail tiles prefetch V
 *   ATTN_VEC                the table's vec: acc rows padded to it
 *   ATTN_MASKED_TAILS       1: masked loads/stores for partial vectors;
 *                           0: scalar C for the last elements
 *   ATTN_SOFTMAX_UNROLL     vectors in flight in the online softmax
 *   ATTN_SCORES_ROWS_TILED  1: scores_rows runs ATTN_MR rows per key at
 *                           once; 0: one dot product per row and key
 *   ATTN_SCORES_FN, ATTN_CONTEXT_FN, ATTN_NAME   the tile kernels' names
 *   ATTN_PACK_K_FN          the ISA's K^T panel pack (its transpose)
 *   attn_prefetch_v_row()   the V row the context tile fetches ahead
 *
 * Score tile, ATTN_MR query rows x one panel of packed K^T; per head-dim
 * step d: NV loads of kp, ATTN_MR broadcasts of q:
 *
 *        kp panel [dh][nr]         s (MR x nr)
 *   q0 [dh] --.  k0 .. k(NV-1)     c[0][0] .. c[0][NV-1]
 *    ...      |                     ...
 *   q5 [dh] --'                    c[5][0] .. c[5][NV-1]
 *
 * Context tile, ATTN_MR rows x NV vectors of head-dim columns of acc; per
 * key j: NV loads of the V row, ATTN_MR broadcasts of p[i][j].  Rows past
 * m repeat row m-1 (every load in bounds) and are never stored.  V and the
 * user's arrays are never read or written past their end.
 */
#include <math.h>

#include "cpu_simd/attention.h"
#include "cpu_simd/tmpl/unroll.h"

/* Rows of K (or V) ahead that the few-query-row paths prefetch. */
#define PREFETCH_ROWS 8

#include "cpu_simd/tmpl/softmax.c"

/* Row pointer i of a tile with m valid rows: rows past m repeat the last
 * valid one, so every load stays in bounds; their results are dropped. */
SIMD_INLINE const float *row_ptr(const float *base, int64_t stride,
                                 int64_t i, int64_t m)
{
    return base + (i < m ? i : m - 1) * stride;
}

static void ATTN_SCORES_FN(int64_t m, int64_t npanels, int64_t dh,
                           const float *q, int64_t q_stride, const float *kp,
                           float *s, int64_t lds)
{
    enum { MR = ATTN_MR, NV = ATTN_SCORES_NV, NR = NV * SIMD_V };
    const float *qi[MR];
    SEQK_UNROLL_FULL
    for (int i = 0; i < MR; i++)
        qi[i] = row_ptr(q, q_stride, i, m);

    for (int64_t p = 0; p < npanels; p++) {
        const float *k = kp + p * dh * NR;
        simd_f32 c[MR][NV];
        SEQK_UNROLL_FULL
        for (int i = 0; i < MR; i++) {
            SEQK_UNROLL_FULL
            for (int v = 0; v < NV; v++)
                c[i][v] = simd_zero();
        }
        for (int64_t d = 0; d < dh; d++, k += NR) {
            simd_f32 kv[NV];
            SEQK_UNROLL_FULL
            for (int v = 0; v < NV; v++)
                kv[v] = simd_loadu(k + v * SIMD_V);
            SEQK_UNROLL_FULL
            for (int i = 0; i < MR; i++) {
                const simd_f32 a = simd_set1(qi[i][d]);
                SEQK_UNROLL_FULL
                for (int v = 0; v < NV; v++)
                    c[i][v] = simd_fma(a, kv[v], c[i][v]);
            }
        }
        float *o = s + p * NR;
        SEQK_UNROLL_FULL
        for (int i = 0; i < MR; i++)
            if (i == 0 || i < m) {
                SEQK_UNROLL_FULL
                for (int v = 0; v < NV; v++)
                    simd_storeu(o + i * lds + v * SIMD_V, c[i][v]);
            }
    }
}

/* Dot product of a and b (n floats): two vectors in flight, then one. */
SIMD_INLINE float dot(int64_t n, const float *a, const float *b)
{
    simd_f32 c0 = simd_zero(), c1 = c0;
    int64_t i = 0;
    for (; i + 2 * SIMD_V <= n; i += 2 * SIMD_V) {
        c0 = simd_fma(simd_loadu(a + i), simd_loadu(b + i), c0);
        c1 = simd_fma(simd_loadu(a + i + SIMD_V), simd_loadu(b + i + SIMD_V),
                      c1);
    }
    if (ATTN_MASKED_TAILS) {
        /* whole and partial vectors through one masked loop: fewer
         * branches on the decoding path, where dh is small */
        for (; i < n; i += SIMD_V)
            c0 = simd_fma(simd_load_tail(a + i, n - i),
                          simd_load_tail(b + i, n - i), c0);
        return simd_reduce_add(simd_add(c0, c1));
    }
    for (; i + SIMD_V <= n; i += SIMD_V)
        c0 = simd_fma(simd_loadu(a + i), simd_loadu(b + i), c0);
    float acc = simd_reduce_add(simd_add(c0, c1));
    for (; i < n; i++)
        acc += a[i] * b[i];
    return acc;
}

static float SIMD_SUFFIX(seqk_f32_dot)(int64_t n, const float *a,
                                       const float *b)
{
    return dot(n, a, b);
}

/* Few rows per key: streaming K is the cost, so fetch ahead. */
SIMD_INLINE void prefetch_k_row(int64_t j, int64_t n, int64_t dh,
                                const float *kj, int64_t k_stride)
{
    if (j + PREFETCH_ROWS < n)
        for (int64_t d = 0; d < dh; d += 16)
            simd_prefetch_l1(kj + PREFETCH_ROWS * k_stride + d);
}

/* Dot products of up to ATTN_MR query rows with unpacked key rows. */
static void SIMD_SUFFIX(seqk_f32_attn_scores_rows)(
    int64_t m, int64_t n, int64_t dh, const float *q, int64_t q_stride,
    const float *k, int64_t k_stride, float *s, int64_t lds)
{
    enum { MR = ATTN_MR };
    if (!ATTN_SCORES_ROWS_TILED || m == 1) {
        /* one query row (decoding): no redundant rows */
        for (int64_t j = 0; j < n; j++) {
            const float *kj = k + j * k_stride;
            prefetch_k_row(j, n, dh, kj, k_stride);
            if (ATTN_SCORES_ROWS_TILED) /* m == 1 */
                s[j] = dot(dh, q, kj);
            else
                for (int64_t i = 0; i < m; i++)
                    s[i * lds + j] = dot(dh, q + i * q_stride, kj);
        }
        return;
    }
    /* a vector accumulator per row over the head dim, reduced once per
     * key */
    const float *qi[MR];
    SEQK_UNROLL_FULL
    for (int i = 0; i < MR; i++)
        qi[i] = row_ptr(q, q_stride, i, m);
    for (int64_t j = 0; j < n; j++) {
        const float *kj = k + j * k_stride;
        prefetch_k_row(j, n, dh, kj, k_stride);
        simd_f32 c[MR];
        SEQK_UNROLL_FULL
        for (int i = 0; i < MR; i++)
            c[i] = simd_zero();
        int64_t d = 0;
        for (; d + SIMD_V <= dh; d += SIMD_V) {
            const simd_f32 kv = simd_loadu(kj + d);
            SEQK_UNROLL_FULL
            for (int i = 0; i < MR; i++)
                c[i] = simd_fma(simd_loadu(qi[i] + d), kv, c[i]);
        }
        if (d < dh) {
            const simd_f32 kv = simd_load_tail(kj + d, dh - d);
            SEQK_UNROLL_FULL
            for (int i = 0; i < MR; i++)
                c[i] = simd_fma(simd_load_tail(qi[i] + d, dh - d), kv, c[i]);
        }
        SEQK_UNROLL_FULL
        for (int i = 0; i < MR; i++)
            if (i == 0 || i < m)
                s[i * lds + j] = simd_reduce_add(c[i]);
    }
}

/* One context tile: NV vectors of columns from d of up to ATTN_MR acc
 * rows.  nv, tail and prefetch are constants at each call: tail loads V
 * through masks up to dv (acc rows are padded to ATTN_VEC, so acc needs
 * none). */
SIMD_INLINE void context_tile(const int nv, const int tail,
                              const int prefetch, int64_t m, int64_t n,
                              int64_t d, int64_t dv, const float *p,
                              int64_t ldp, const float *v, int64_t v_stride,
                              const float *corr, float *acc, int64_t ldacc)
{
    enum { MR = ATTN_MR, NV = ATTN_CTX_NV > ATTN_CTX_TAIL_NV
                                 ? ATTN_CTX_NV : ATTN_CTX_TAIL_NV };
    const float *pi[MR];
    float *ai[MR];
    simd_f32 c[MR][NV];
    SEQK_UNROLL_FULL
    for (int i = 0; i < MR; i++) {
        pi[i] = row_ptr(p, ldp, i, m);
        /* rows past m read row m-1 of acc and are never stored */
        ai[i] = (float *)row_ptr(acc + d, ldacc, i, m);
        const simd_f32 f = simd_set1(corr[i < m - 1 ? i : m - 1]);
        SEQK_UNROLL_FULL
        for (int k = 0; k < nv; k++)
            c[i][k] = simd_mul(simd_loadu(ai[i] + k * SIMD_V), f);
    }
    const float *vj = v + d;
    for (int64_t j = 0; j < n; j++, vj += v_stride) {
        /* few rows (decoding): streaming V is the cost */
        if (prefetch && m < MR && j + PREFETCH_ROWS < n)
            attn_prefetch_v_row(vj + PREFETCH_ROWS * v_stride);
        simd_f32 vk[NV];
        SEQK_UNROLL_FULL
        for (int k = 0; k < nv; k++)
            vk[k] = tail ? simd_load_tail(vj + k * SIMD_V, dv - d - k * SIMD_V)
                         : simd_loadu(vj + k * SIMD_V);
        SEQK_UNROLL_FULL
        for (int i = 0; i < MR; i++) {
            const simd_f32 a = simd_set1(pi[i][j]);
            SEQK_UNROLL_FULL
            for (int k = 0; k < nv; k++)
                c[i][k] = simd_fma(a, vk[k], c[i][k]);
        }
    }
    SEQK_UNROLL_FULL
    for (int i = 0; i < MR; i++)
        if (i == 0 || i < m) {
            SEQK_UNROLL_FULL
            for (int k = 0; k < nv; k++)
                simd_storeu(ai[i] + k * SIMD_V, c[i][k]);
        }
}

/* The last dv % (ATTN_CTX_NV*SIMD_V) columns without masked loads, row by
 * row: whole vectors, then one column at a time. */
static void context_rows_tail(int64_t m, int64_t n, int64_t d0, int64_t dv,
                              const float *p, int64_t ldp, const float *v,
                              int64_t v_stride, const float *corr,
                              float *acc, int64_t ldacc)
{
    for (int64_t i = 0; i < m; i++) {
        const float *pi = p + i * ldp;
        float *ai = acc + i * ldacc;
        int64_t d = d0;
        for (; d + SIMD_V <= dv; d += SIMD_V) {
            simd_f32 c = simd_mul(simd_loadu(ai + d), simd_set1(corr[i]));
            for (int64_t j = 0; j < n; j++)
                c = simd_fma(simd_set1(pi[j]),
                             simd_loadu(v + j * v_stride + d), c);
            simd_storeu(ai + d, c);
        }
        for (; d < dv; d++) {
            float c = ai[d] * corr[i];
            for (int64_t j = 0; j < n; j++)
                c += pi[j] * v[j * v_stride + d];
            ai[d] = c;
        }
    }
}

static void ATTN_CONTEXT_FN(int64_t m, int64_t n, int64_t dv, const float *p,
                            int64_t ldp, const float *v, int64_t v_stride,
                            const float *corr, float *acc, int64_t ldacc)
{
    enum { W = ATTN_CTX_NV * SIMD_V, TW = ATTN_CTX_TAIL_NV * SIMD_V };
    int64_t d = 0;
    for (; d + W <= dv; d += W)
        context_tile(ATTN_CTX_NV, 0, 1, m, n, d, dv, p, ldp, v, v_stride,
                     corr, acc, ldacc);
    if (ATTN_MASKED_TAILS) {
        for (; d < dv; d += TW)
            context_tile(ATTN_CTX_TAIL_NV, 1, ATTN_CTX_TAIL_PREFETCH, m, n, d,
                         dv, p, ldp, v, v_stride, corr, acc, ldacc);
    } else if (d < dv) {
        context_rows_tail(m, n, d, dv, p, ldp, v, v_stride, corr, acc, ldacc);
    }
}

/* sum_{a<na} v[a] * tanh(u[a] + wk[a]) */
/* fast: tanh at 3.5 ULP (about three times cheaper than the 1.0-ULP one,
 * far inside the tolerance), for the keyed step, where the tanh are most
 * of the work; the per-call form keeps the 1.0-ULP tanh it always had. */
SIMD_INLINE simd_f32 additive_tanh(simd_f32 x, int fast)
{
    return fast ? simd_tanh_u35(x) : simd_tanh_u10(x);
}

SIMD_INLINE float additive_score(int64_t na, const float *u, const float *wk,
                                 const float *v, int fast)
{
    simd_f32 c = simd_zero();
    int64_t a = 0;
    for (; a + SIMD_V <= na; a += SIMD_V) {
        const simd_f32 h = additive_tanh(
            simd_add(simd_loadu(u + a), simd_loadu(wk + a)), fast);
        c = simd_fma(simd_loadu(v + a), h, c);
    }
    if (ATTN_MASKED_TAILS) {
        if (a < na) {
            const simd_f32 h = additive_tanh(
                simd_add(simd_load_tail(u + a, na - a),
                         simd_load_tail(wk + a, na - a)), fast);
            c = simd_fma(simd_load_tail(v + a, na - a), h, c);
        }
        return simd_reduce_add(c);
    }
    float acc = simd_reduce_add(c);
    for (; a < na; a++)
        acc += v[a] * tanhf(u[a] + wk[a]);
    return acc;
}

static float SIMD_SUFFIX(seqk_f32_additive_score)(int64_t na, const float *u,
                                                  const float *wk,
                                                  const float *v)
{
    return additive_score(na, u, wk, v, 0);
}

static float SIMD_SUFFIX(seqk_f32_additive_score_u35)(int64_t na,
                                                      const float *u,
                                                      const float *wk,
                                                      const float *v)
{
    return additive_score(na, u, wk, v, 1);
}

/* y[d] = sum_{j<n} w[j] * x[j*x_stride + d]: blocks of ATTN_CTX_NV
 * vectors, then single vectors, then the tail. */
static void SIMD_SUFFIX(seqk_f32_weighted_rows)(int64_t n, int64_t dv,
                                                const float *w,
                                                const float *x,
                                                int64_t x_stride, float *y)
{
    enum { NV = ATTN_CTX_NV };
    int64_t d = 0;
    for (; d + NV * SIMD_V <= dv; d += NV * SIMD_V) {
        simd_f32 c[NV];
        SEQK_UNROLL_FULL
        for (int k = 0; k < NV; k++)
            c[k] = simd_zero();
        const float *xj = x + d;
        for (int64_t j = 0; j < n; j++, xj += x_stride) {
            const simd_f32 a = simd_set1(w[j]);
            SEQK_UNROLL_FULL
            for (int k = 0; k < NV; k++)
                c[k] = simd_fma(a, simd_loadu(xj + k * SIMD_V), c[k]);
        }
        SEQK_UNROLL_FULL
        for (int k = 0; k < NV; k++)
            simd_storeu(y + d + k * SIMD_V, c[k]);
    }
    for (; d + SIMD_V <= dv; d += SIMD_V) {
        simd_f32 c = simd_zero();
        for (int64_t j = 0; j < n; j++)
            c = simd_fma(simd_set1(w[j]), simd_loadu(x + j * x_stride + d), c);
        simd_storeu(y + d, c);
    }
    if (ATTN_MASKED_TAILS) {
        if (d < dv) {
            simd_f32 c = simd_zero();
            for (int64_t j = 0; j < n; j++)
                c = simd_fma(simd_set1(w[j]),
                             simd_load_tail(x + j * x_stride + d, dv - d), c);
            simd_store_tail(y + d, c, dv - d);
        }
        return;
    }
    for (; d < dv; d++) {
        float c = 0.0f;
        for (int64_t j = 0; j < n; j++)
            c += w[j] * x[j * x_stride + d];
        y[d] = c;
    }
}

const seqk_attn_kernels SIMD_SUFFIX(seqk__attn_kernels) = {
    .name = ATTN_NAME,
    .mr = ATTN_MR,
    .nr = ATTN_SCORES_NV * SIMD_V,
    .vec = ATTN_VEC,
    .scores_packed = ATTN_SCORES_FN,
    .pack_k = ATTN_PACK_K_FN,
    .scores_rows = SIMD_SUFFIX(seqk_f32_attn_scores_rows),
    .online_softmax_row = SIMD_SUFFIX(seqk_f32_attn_online_softmax_row),
    .context = ATTN_CONTEXT_FN,
    .softmax = SIMD_SUFFIX(seqk_f32_softmax),
    .log_softmax_row = SIMD_SUFFIX(seqk_f32_log_softmax_row),
    .dot = SIMD_SUFFIX(seqk_f32_dot),
    .additive_score = SIMD_SUFFIX(seqk_f32_additive_score),
    .additive_score_u35 = SIMD_SUFFIX(seqk_f32_additive_score_u35),
    .weighted_rows = SIMD_SUFFIX(seqk_f32_weighted_rows),
};
