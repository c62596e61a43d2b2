/*
 * tmpl/gemm_small.c — TEMPLATE, compiled once per ISA; not a translation
 * unit of its own.  Each gemm_<isa>.c includes its simd/<isa>.h, defines
 * GEMM_NV and SKINNY_MR (as for tmpl/gemm_skinny.c), then includes this
 * file.
 *
 * Direct products for the tiny GEMMs whole models run (a 32 x 32 linear
 * over 16 x 32 rows, a conv's W x im2col per batch item, M = 1 batched
 * MatMuls): no packing, both operands read where they are.  Packing a
 * block costs as much as multiplying it when K and N are a few dozen.
 *
 * small: op(B) row-major in place (N contiguous, row stride ldb):
 *
 *   y[i*ldy + j] = (add ? y[i*ldy + j] : 0)
 *                  + alpha * sum_{p<k} x[i*ldx + p] * b[p*ldb + j]
 *
 *   for i < m, j < n (any m, n, k >= 0).  Columns in blocks of
 *   nr = GEMM_NV * SIMD_V, rows in register tiles of up to SKINNY_MR
 *   (split evenly as the skinny kernel does); per tile and k step, nv
 *   loads of b's row (the last one masked to n) and r x nv FMAs.
 *
 * Every entry also adds C (c != NULL): y[i*ldy + j] += c[i*c_sm + j*c_sn],
 * c_sn 0 (a value per row: a conv's bias) or 1 (a row: a linear's bias,
 * or a full C): with alpha 1 it starts each tile's sums, else it is added
 * to each tile right after it is stored (in L1); no separate pass over y.
 *
 * small_rows: the same with op(B)'s row p at rows[p] (any addresses; a
 * conv's shifted input rows, so that no im2col is written).
 *
 * dot: op(B) given by its columns, K contiguous (a transposed B, or a
 * single column), w[j*ldw + p] = op(B)[p, j]:
 *
 *   y[i*ldy + j] = (add ? y[i*ldy + j] : 0)
 *                  + alpha * sum_{p<k} x[i*ldx + p] * w[j*ldw + p]
 *
 *   tiles of up to 4 rows x 4 (16 registers: 2) columns of dot
 *   products, vectors along k (the last one masked), one horizontal sum
 *   per output.  For N = 1
 *   (a linear to one feature) this is the product with no padding of N
 *   to a panel width.
 */
#include "cpu_simd/tmpl/unroll.h"

#if !defined(GEMM_NV) || !defined(SKINNY_MR)
#error "define GEMM_NV and SKINNY_MR before including tmpl/gemm_small.c"
#endif

/* One register tile of r rows x nv vectors; the last vector holds
 * `last` (1..SIMD_V) columns, loaded masked when tail.  b's row p is
 * b + p*ldb, or rows[p] + j0 when ind.  r, nv, tail and ind are constants
 * at every call site. */
SIMD_INLINE void small_tile(const int r, const int nv, const int tail,
                            const int ind, int64_t last, int64_t k,
                            const float *x, int64_t ldx, const float *b,
                            int64_t ldb, const float *const *rows,
                            int64_t j0, float *y, int64_t ldy, float alpha,
                            int add, const float *c, int64_t c_sm,
                            int64_t c_sn)
{
    simd_f32 acc[SKINNY_MR][GEMM_NV];
    /* C (alpha 1 only) starts the sums: no pass over the tile after */
    SEQK_UNROLL_FULL
    for (int i = 0; i < r; i++) {
        SEQK_UNROLL_FULL
        for (int v = 0; v < nv; v++)
            acc[i][v] = !c ? simd_zero()
                        : !c_sn ? simd_broadcast(c + i * c_sm)
                        : tail && v == nv - 1
                            ? simd_load_tail(c + i * c_sm + v * SIMD_V, last)
                            : simd_loadu(c + i * c_sm + v * SIMD_V);
    }
    for (int64_t p = 0; p < k; p++) {
        const float *bp = ind ? rows[p] + j0 : b + p * ldb;
        simd_f32 bv[GEMM_NV];
        SEQK_UNROLL_FULL
        for (int v = 0; v < nv; v++)
            bv[v] = tail && v == nv - 1
                        ? simd_load_tail(bp + v * SIMD_V, last)
                        : simd_loadu(bp + v * SIMD_V);
        SEQK_UNROLL_FULL
        for (int i = 0; i < r; i++) {
            const simd_f32 xb = simd_broadcast(x + i * ldx + p);
            SEQK_UNROLL_FULL
            for (int v = 0; v < nv; v++)
                acc[i][v] = simd_fma(xb, bv[v], acc[i][v]);
        }
    }
    const simd_f32 va = simd_set1(alpha);
    SEQK_UNROLL_FULL
    for (int i = 0; i < r; i++) {
        SEQK_UNROLL_FULL
        for (int v = 0; v < nv; v++) {
            float *yr = y + i * ldy + v * SIMD_V;
            if (tail && v == nv - 1) {
                simd_f32 s = add ? simd_fma(acc[i][v], va,
                                            simd_load_tail(yr, last))
                                 : simd_mul(acc[i][v], va);
                simd_store_tail(yr, s, last);
            } else {
                simd_f32 s = add ? simd_fma(acc[i][v], va, simd_loadu(yr))
                                 : simd_mul(acc[i][v], va);
                simd_storeu(yr, s);
            }
        }
    }
}

/* y[i*ldy + j] += c[i*c_sm + j*c_sn] for i < m, j < n (c_sn 0 or 1): C
 * added to a tile just stored, while it is in L1, when alpha is not 1
 * (else C starts the tile's sums).  A loop of its own, not part of the
 * unrolled tile stores (which it would double). */
static void small_add_c(int64_t m, int64_t n, float *y, int64_t ldy,
                        const float *c, int64_t c_sm, int64_t c_sn)
{
    for (int64_t i = 0; i < m; i++) {
        float *yr = y + i * ldy;
        const float *ci = c + i * c_sm;
        const simd_f32 c0 = simd_broadcast(ci);
        int64_t j = 0;
        for (; j + SIMD_V <= n; j += SIMD_V)
            simd_storeu(yr + j, simd_add(simd_loadu(yr + j),
                                         c_sn ? simd_loadu(ci + j) : c0));
        if (j < n)
            simd_store_tail(yr + j,
                            simd_add(simd_load_tail(yr + j, n - j),
                                     c_sn ? simd_load_tail(ci + j, n - j)
                                          : c0),
                            n - j);
    }
}

#define SMALL_ROWS(r) ((r) < SKINNY_MR ? (r) : SKINNY_MR)

/* The arguments of one column block of a tile, passed down the
 * specializations. */
typedef struct small_args {
    int64_t last, k, ldx, ldb, j0, ldy;
    const float *x, *b;
    const float *const *rows;
    float *y;
    float alpha;
    int add;
    const float *c; /* C at the tile's first row and column, or NULL */
    int64_t c_sm, c_sn;
} small_args;

SIMD_INLINE void small_rows_nv(const int nv, const int tail, const int ind,
                               int r, const small_args *a)
{
#define SMALL_CASE(R)                                                       \
    case R:                                                                 \
        small_tile(SMALL_ROWS(R), nv, tail, ind, a->last, a->k, a->x,       \
                   a->ldx, a->b, a->ldb, a->rows, a->j0, a->y, a->ldy,      \
                   a->alpha, a->add, a->c, a->c_sm, a->c_sn);               \
        return;
    switch (r) {
    SMALL_CASE(1) SMALL_CASE(2) SMALL_CASE(3) SMALL_CASE(4)
    SMALL_CASE(5) SMALL_CASE(6) SMALL_CASE(7) SMALL_CASE(8)
    SMALL_CASE(9) SMALL_CASE(10) SMALL_CASE(11) SMALL_CASE(12)
    SMALL_CASE(13) SMALL_CASE(14) SMALL_CASE(15) SMALL_CASE(16)
    default: break;
    }
#undef SMALL_CASE
}

/* Out of line per (vector count, tail, ind), so each instance's
 * registers are its own. */
static __attribute__((noinline)) void small_rows(int nv, int tail, int ind,
                                                 int r, const small_args *a)
{
#define SMALL_NV(NV)                                                        \
    if (tail && ind)                                                        \
        small_rows_nv(NV, 1, 1, r, a);                                      \
    else if (tail)                                                          \
        small_rows_nv(NV, 1, 0, r, a);                                      \
    else if (ind)                                                           \
        small_rows_nv(NV, 0, 1, r, a);                                      \
    else                                                                    \
        small_rows_nv(NV, 0, 0, r, a);                                      \
    return;
    if (GEMM_NV > 2 && nv > 2) {
        SMALL_NV(GEMM_NV)
    }
    if (GEMM_NV > 1 && nv > 1) {
        SMALL_NV(GEMM_NV > 1 ? 2 : 1)
    }
    SMALL_NV(1)
#undef SMALL_NV
}

/* Both entries: b's rows b + p*ldb, or rows[p] (rows != NULL). */
static void small_any(int64_t m, int64_t n, int64_t k, const float *x,
                      int64_t ldx, const float *b, int64_t ldb,
                      const float *const *rows, float *y, int64_t ldy,
                      float alpha, int add, const float *c, int64_t c_sm,
                      int64_t c_sn)
{
    enum { NR = GEMM_NV * SIMD_V };
    if (m <= 0 || n <= 0)
        return;
    const int64_t g = (m + SKINNY_MR - 1) / SKINNY_MR;
    for (int64_t j = 0; j < n; j += NR) {
        const int64_t nb = n - j < NR ? n - j : NR;
        const int nv = (int)((nb + SIMD_V - 1) / SIMD_V);
        small_args a = {.last = nb - (int64_t)(nv - 1) * SIMD_V, .k = k,
                        .ldx = ldx, .ldb = ldb, .j0 = j, .ldy = ldy,
                        .b = rows ? NULL : b + j, .rows = rows,
                        .alpha = alpha, .add = add};
        for (int64_t q = 0; q < g; q++) {
            const int64_t i0 = q * m / g, i1 = (q + 1) * m / g;
            a.x = x + i0 * ldx;
            a.y = y + i0 * ldy + j;
            a.c = c && alpha == 1.0f ? c + i0 * c_sm + j * c_sn : NULL;
            a.c_sm = c_sm;
            a.c_sn = c_sn;
            small_rows(nv, a.last < SIMD_V, rows != NULL, (int)(i1 - i0),
                       &a);
            if (c && !a.c)
                small_add_c(i1 - i0, nb, a.y, ldy, c + i0 * c_sm + j * c_sn,
                            c_sm, c_sn);
        }
    }
}

static void SIMD_SUFFIX(seqk_f32_gemm_small)(int64_t m, int64_t n,
                                             int64_t k, const float *x,
                                             int64_t ldx, const float *b,
                                             int64_t ldb, float *y,
                                             int64_t ldy, float alpha,
                                             int add, const float *c,
                                             int64_t c_sm, int64_t c_sn)
{
    small_any(m, n, k, x, ldx, b, ldb, NULL, y, ldy, alpha, add, c, c_sm,
              c_sn);
}

static void SIMD_SUFFIX(seqk_f32_gemm_small_rows)(
    int64_t m, int64_t n, int64_t k, const float *x, int64_t ldx,
    const float *const *rows, float *y, int64_t ldy, float alpha, int add,
    const float *c, int64_t c_sm, int64_t c_sn)
{
    small_any(m, n, k, x, ldx, NULL, 0, rows, y, ldy, alpha, add, c, c_sm,
              c_sn);
}

/* ------------------------------------------------------------------ dot */

/* r rows x c columns of dot products (r, c <= 4, constants). */
SIMD_INLINE void dot_tile(const int r, const int c, int64_t k,
                          const float *x, int64_t ldx, const float *w,
                          int64_t ldw, float *y, int64_t ldy, float alpha,
                          int add)
{
    simd_f32 acc[4][4];
    SEQK_UNROLL_FULL
    for (int i = 0; i < r; i++) {
        SEQK_UNROLL_FULL
        for (int j = 0; j < c; j++)
            acc[i][j] = simd_zero();
    }
    int64_t p = 0;
    for (; p + SIMD_V <= k; p += SIMD_V) {
        simd_f32 wv[4];
        SEQK_UNROLL_FULL
        for (int j = 0; j < c; j++)
            wv[j] = simd_loadu(w + j * ldw + p);
        SEQK_UNROLL_FULL
        for (int i = 0; i < r; i++) {
            const simd_f32 xv = simd_loadu(x + i * ldx + p);
            SEQK_UNROLL_FULL
            for (int j = 0; j < c; j++)
                acc[i][j] = simd_fma(xv, wv[j], acc[i][j]);
        }
    }
    if (p < k) { /* masked: zero lanes past k */
        simd_f32 wv[4];
        SEQK_UNROLL_FULL
        for (int j = 0; j < c; j++)
            wv[j] = simd_load_tail(w + j * ldw + p, k - p);
        SEQK_UNROLL_FULL
        for (int i = 0; i < r; i++) {
            const simd_f32 xv = simd_load_tail(x + i * ldx + p, k - p);
            SEQK_UNROLL_FULL
            for (int j = 0; j < c; j++)
                acc[i][j] = simd_fma(xv, wv[j], acc[i][j]);
        }
    }
    SEQK_UNROLL_FULL
    for (int i = 0; i < r; i++) {
        SEQK_UNROLL_FULL
        for (int j = 0; j < c; j++) {
            const float s = alpha * simd_reduce_add(acc[i][j]);
            y[i * ldy + j] = add ? y[i * ldy + j] + s : s;
        }
    }
}

/* Columns per tile: 4 x 4 accumulators plus 4 + 1 operands fit 32
 * registers; with 16, 4 x 2. */
#define DOT_NC (SIMD_NREGS >= 32 ? 4 : 2)

SIMD_INLINE void dot_rows_c(const int c, int r, int64_t k, const float *x,
                            int64_t ldx, const float *w, int64_t ldw,
                            float *y, int64_t ldy, float alpha, int add)
{
    switch (r) {
    case 4: dot_tile(4, c, k, x, ldx, w, ldw, y, ldy, alpha, add); break;
    case 3: dot_tile(3, c, k, x, ldx, w, ldw, y, ldy, alpha, add); break;
    case 2: dot_tile(2, c, k, x, ldx, w, ldw, y, ldy, alpha, add); break;
    case 1: dot_tile(1, c, k, x, ldx, w, ldw, y, ldy, alpha, add); break;
    default: break;
    }
}

static void SIMD_SUFFIX(seqk_f32_gemm_dot)(int64_t m, int64_t n, int64_t k,
                                           const float *x, int64_t ldx,
                                           const float *w, int64_t ldw,
                                           float *y, int64_t ldy,
                                           float alpha, int add,
                                           const float *cm, int64_t c_sm,
                                           int64_t c_sn)
{
    for (int64_t i = 0; i < m; i += 4) {
        const int r = (int)(m - i < 4 ? m - i : 4);
        for (int64_t j = 0; j < n; j += DOT_NC) {
            const int c = (int)(n - j < DOT_NC ? n - j : DOT_NC);
            const float *xi = x + i * ldx, *wj = w + j * ldw;
            float *yij = y + i * ldy + j;
            switch (c) {
            case 4: dot_rows_c(4, r, k, xi, ldx, wj, ldw, yij, ldy, alpha,
                               add); break;
            case 3: dot_rows_c(3, r, k, xi, ldx, wj, ldw, yij, ldy, alpha,
                               add); break;
            case 2: dot_rows_c(2, r, k, xi, ldx, wj, ldw, yij, ldy, alpha,
                               add); break;
            default: dot_rows_c(1, r, k, xi, ldx, wj, ldw, yij, ldy, alpha,
                                add); break;
            }
            if (cm) /* + C while the tile is in L1 */
                for (int a = 0; a < r; a++)
                    for (int b = 0; b < c; b++)
                        yij[a * ldy + b] +=
                            cm[(i + a) * c_sm + (j + b) * c_sn];
        }
    }
}
