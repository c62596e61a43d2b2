/*
 * tmpl/gemm_skinny.c — TEMPLATE, compiled once per ISA; not a translation
 * unit of its own.  Each gemm_<isa>.c includes its simd/<isa>.h, defines
 * GEMM_NV (vectors per packed B panel row: nr = GEMM_NV * SIMD_V) and
 * SKINNY_MR (rows of its register tile), then includes this file.
 *
 * The small-M ("skinny") product over one prepacked B panel: x rows are
 * read where they are (no packing of A), the panel is the stream.
 *
 *   x rows  [m][k]    any m >= 1, row stride ldx (activations, or the
 *                     rows of A of a GEMM with few columns)
 *   b panel [k][nr]   the GEMM's packed B panel, full K, zero-padded
 *   y rows  [m][n]    y[i][j] = (add ? y[i][j] : 0)
 *                               + alpha * sum_p x[i][p] * b[p][j], n <= nr
 *
 *   rows split evenly into g = ceil(m / SKINNY_MR) register tiles
 *   (m = 8 with SKINNY_MR 6: 4 + 4, not 6 + 2, so that every tile keeps
 *   enough FMA chains); per tile:
 *
 *     for p in k:  bv[v]      = b[p][v*V ..)               NV loads
 *                  acc[i][v] += x[i][p] * bv[v]            r x NV FMAs
 *
 * The first tile reads the panel from L3 or memory, the others from L1/L2.
 * pf: the next panel to be used (or NULL); the first tile prefetches it
 * into L2 at the pace it consumes this one, since its stream starts cold
 * (a linear plan's weights are larger than L2, and each panel is its own
 * short stream).
 */
#include "cpu_simd/tmpl/unroll.h"

#ifndef SKINNY_MR
#error "define SKINNY_MR before including tmpl/gemm_skinny.c"
#endif

/* One register tile of r rows and nv (<= GEMM_NV) vectors; r and nv are
 * constants at every call site so acc stays in registers. */
SIMD_INLINE void skinny_tile(const int r, const int nv, int64_t n, int64_t k,
                             const float *x, int64_t ldx, const float *b,
                             float *y, int64_t ldy, float alpha, int add,
                             const float *pf)
{
    enum { NR = GEMM_NV * SIMD_V };
    simd_f32 acc[SKINNY_MR][GEMM_NV];
    SEQK_UNROLL_FULL
    for (int i = 0; i < r; i++) {
        SEQK_UNROLL_FULL
        for (int v = 0; v < nv; v++)
            acc[i][v] = simd_zero();
    }
    if (pf) {
        /* the panel is NR*4 bytes per p: prefetch as many of the next */
        for (int64_t p = 0; p < k; p++) {
            SEQK_UNROLL_FULL
            for (int l = 0; l < NR * 4; l += 64)
                simd_prefetch_l2((const char *)(pf + p * NR) + l);
            simd_f32 bv[GEMM_NV];
            SEQK_UNROLL_FULL
            for (int v = 0; v < nv; v++)
                bv[v] = simd_loadu(b + p * NR + v * SIMD_V);
            SEQK_UNROLL_FULL
            for (int i = 0; i < r; i++) {
                const simd_f32 xb = simd_broadcast(x + i * ldx + p);
                SEQK_UNROLL_FULL
                for (int v = 0; v < nv; v++)
                    acc[i][v] = simd_fma(xb, bv[v], acc[i][v]);
            }
        }
    } else {
        for (int64_t p = 0; p < k; p++) {
            simd_f32 bv[GEMM_NV];
            SEQK_UNROLL_FULL
            for (int v = 0; v < nv; v++)
                bv[v] = simd_loadu(b + p * NR + v * SIMD_V);
            SEQK_UNROLL_FULL
            for (int i = 0; i < r; i++) {
                const simd_f32 xb = simd_broadcast(x + i * ldx + p);
                SEQK_UNROLL_FULL
                for (int v = 0; v < nv; v++)
                    acc[i][v] = simd_fma(xb, bv[v], acc[i][v]);
            }
        }
    }
    const simd_f32 va = simd_set1(alpha);
    SEQK_UNROLL_FULL
    for (int i = 0; i < r; i++) {
        SEQK_UNROLL_FULL
        for (int v = 0; v < nv; v++) {
            const int64_t left = n - (int64_t)v * SIMD_V;
            float *yr = y + i * ldy + v * SIMD_V;
            if (left >= SIMD_V) {
                simd_f32 s = add ? simd_fma(acc[i][v], va, simd_loadu(yr))
                                 : simd_mul(acc[i][v], va);
                simd_storeu(yr, s);
            } else if (left > 0) {
                simd_f32 s = add ? simd_fma(acc[i][v], va,
                                            simd_load_tail(yr, left))
                                 : simd_mul(acc[i][v], va);
                simd_store_tail(yr, s, left);
            }
        }
    }
}

/* rows, clamped to the tile so that the cases past SKINNY_MR (never
 * taken) stay in bounds. */
#define SKINNY_ROWS(r) ((r) < SKINNY_MR ? (r) : SKINNY_MR)

/* One specialization per row count; the vectors that n touches only. */
SIMD_INLINE void skinny_rows_nv(const int nv, int r, int64_t n, int64_t k,
                                const float *x, int64_t ldx, const float *b,
                                float *y, int64_t ldy, float alpha, int add,
                                const float *pf)
{
#define SKINNY_CASE(R)                                                      \
    case R:                                                                 \
        skinny_tile(SKINNY_ROWS(R), nv, n, k, x, ldx, b, y, ldy, alpha,     \
                    add, pf);                                               \
        return;
    switch (r) {
    SKINNY_CASE(1) SKINNY_CASE(2) SKINNY_CASE(3) SKINNY_CASE(4)
    SKINNY_CASE(5) SKINNY_CASE(6) SKINNY_CASE(7) SKINNY_CASE(8)
    SKINNY_CASE(9) SKINNY_CASE(10) SKINNY_CASE(11) SKINNY_CASE(12)
    SKINNY_CASE(13) SKINNY_CASE(14) SKINNY_CASE(15) SKINNY_CASE(16)
    default: break;
    }
#undef SKINNY_CASE
}

_Static_assert(SKINNY_MR <= 16, "SKINNY_MR past the cases above");

/* Kept out of line per vector count, so that each instance's registers
 * are its own. */
static __attribute__((noinline)) void
skinny_rows(int nv, int r, int64_t n, int64_t k, const float *x,
            int64_t ldx, const float *b, float *y, int64_t ldy, float alpha,
            int add, const float *pf)
{
    if (GEMM_NV > 2 && nv > 2)
        skinny_rows_nv(GEMM_NV, r, n, k, x, ldx, b, y, ldy, alpha, add, pf);
    else if (GEMM_NV > 1 && nv > 1)
        skinny_rows_nv(GEMM_NV > 1 ? 2 : 1, r, n, k, x, ldx, b, y, ldy,
                       alpha, add, pf);
    else
        skinny_rows_nv(1, r, n, k, x, ldx, b, y, ldy, alpha, add, pf);
}

static void SIMD_SUFFIX(seqk_f32_gemm_skinny)(int64_t m, int64_t n,
                                              int64_t k, const float *x,
                                              int64_t ldx, const float *b,
                                              float *y, int64_t ldy,
                                              float alpha, int add,
                                              const float *pf)
{
    if (m <= 0 || n <= 0)
        return;
    const int nv = (int)((n + SIMD_V - 1) / SIMD_V);
    const int64_t g = (m + SKINNY_MR - 1) / SKINNY_MR;
    for (int64_t q = 0; q < g; q++) {
        const int64_t i0 = q * m / g, i1 = (q + 1) * m / g;
        skinny_rows(nv, (int)(i1 - i0), n, k, x + i0 * ldx, ldx, b,
                    y + i0 * ldy, ldy, alpha, add, q == 0 ? pf : NULL);
    }
}
