/*
 * tmpl/gemm_accumulate.c — the k loop of the SGEMM microkernels (contract
 * in gemm.h), written once against the vector API (simd/<isa>.h).
 *
 * COMPILED ONCE PER ISA: not a translation unit of its own.  Each ISA's
 * gemm_<isa>.c includes its simd/<isa>.h, defines GEMM_MR (rows of the
 * register tile, at most 16) and GEMM_NV (vectors per row, at most 3;
 * nr = GEMM_NV*SIMD_V), includes this file and keeps what really differs:
 * how the tile is stored to C, and the transposing pack.
 *
 * Per k step, GEMM_NV vectors of the packed B row times GEMM_MR broadcast
 * A values into GEMM_MR x GEMM_NV accumulators:
 *
 *            b[p*nr + 0..V)  ..  b[p*nr + (NV-1)V..)
 *   a[p*MR+0]   acc[0]       ..   acc[NV-1]            row 0 of C
 *     ...
 *   a[p*MR+i]   acc[NV*i]    ..   acc[NV*i + NV-1]     row i of C
 */
#include "cpu_simd/tmpl/unroll.h"

/* The k loop of a rows x (nv*SIMD_V) tile; rows and nv are constants at
 * every call site, so the loops unroll and the accumulators stay in
 * registers.  They go to acc[GEMM_NV*i + v] once, after the loop. */
SIMD_INLINE void accumulate(const int rows, const int nv, int64_t kc,
                            const float *a, const float *b, simd_f32 *acc)
{
    simd_f32 c[GEMM_MR][GEMM_NV];
    SEQK_UNROLL_FULL
    for (int i = 0; i < rows; i++) {
        SEQK_UNROLL_FULL
        for (int v = 0; v < GEMM_NV; v++)
            c[i][v] = simd_zero();
    }
    for (int64_t p = 0; p < kc; p++) {
        simd_f32 bv[GEMM_NV];
        SEQK_UNROLL_FULL
        for (int v = 0; v < GEMM_NV; v++)
            bv[v] = v < nv ? simd_load(b + v * SIMD_V) : bv[0];
        SEQK_UNROLL_FULL
        for (int i = 0; i < rows; i++) {
            const simd_f32 ai = simd_broadcast(a + i);
            SEQK_UNROLL_FULL
            for (int v = 0; v < nv; v++)
                c[i][v] = simd_fma(ai, bv[v], c[i][v]);
        }
        a += GEMM_MR;
        b += GEMM_NV * SIMD_V;
    }
    SEQK_UNROLL_FULL
    for (int i = 0; i < rows; i++) {
        SEQK_UNROLL_FULL
        for (int v = 0; v < GEMM_NV; v++)
            acc[GEMM_NV * i + v] = c[i][v];
    }
}

/* rows, clamped to the tile so that the cases past GEMM_MR (never taken)
 * stay in bounds. */
#define ROWS(r) ((r) < GEMM_MR ? (r) : GEMM_MR)

/* One specialization per row count keeps edge tiles at full speed. */
SIMD_INLINE void accumulate_m(const int nv, int64_t m, int64_t kc,
                              const float *a, const float *b, simd_f32 *acc)
{
    switch (m) {
    case 1: accumulate(ROWS(1), nv, kc, a, b, acc); return;
    case 2: accumulate(ROWS(2), nv, kc, a, b, acc); return;
    case 3: accumulate(ROWS(3), nv, kc, a, b, acc); return;
    case 4: accumulate(ROWS(4), nv, kc, a, b, acc); return;
    case 5: accumulate(ROWS(5), nv, kc, a, b, acc); return;
    case 6:
        if (GEMM_MR > 6) { accumulate(ROWS(6), nv, kc, a, b, acc); return; }
        break;
    case 7:
        if (GEMM_MR > 7) { accumulate(ROWS(7), nv, kc, a, b, acc); return; }
        break;
    case 8:
        if (GEMM_MR > 8) { accumulate(ROWS(8), nv, kc, a, b, acc); return; }
        break;
    case 9:
        if (GEMM_MR > 9) { accumulate(ROWS(9), nv, kc, a, b, acc); return; }
        break;
    case 10:
        if (GEMM_MR > 10) { accumulate(ROWS(10), nv, kc, a, b, acc); return; }
        break;
    case 11:
        if (GEMM_MR > 11) { accumulate(ROWS(11), nv, kc, a, b, acc); return; }
        break;
    case 12:
        if (GEMM_MR > 12) { accumulate(ROWS(12), nv, kc, a, b, acc); return; }
        break;
    case 13:
        if (GEMM_MR > 13) { accumulate(ROWS(13), nv, kc, a, b, acc); return; }
        break;
    case 14:
        if (GEMM_MR > 14) { accumulate(ROWS(14), nv, kc, a, b, acc); return; }
        break;
    case 15:
        if (GEMM_MR > 15) { accumulate(ROWS(15), nv, kc, a, b, acc); return; }
        break;
    default: break;
    }
    accumulate(GEMM_MR, nv, kc, a, b, acc);
}

/* The accumulators of an m x n edge (or whole) tile: only the vectors
 * that n touches.  Kept out of line so that alpha and beta do not hold
 * registers during the k loop. */
static __attribute__((noinline)) void
accumulate_rows(int64_t m, int64_t n, int64_t kc, const float *a,
                     const float *b, simd_f32 *acc)
{
    if (GEMM_NV > 2 && n > 2 * SIMD_V)
        accumulate_m(GEMM_NV, m, kc, a, b, acc);
    else if (GEMM_NV > 1 && n > SIMD_V)
        accumulate_m(GEMM_NV > 1 ? 2 : 1, m, kc, a, b, acc);
    else
        accumulate_m(1, m, kc, a, b, acc);
}
