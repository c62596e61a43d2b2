/*
 * gemv.c — the matrix-vector kernel of linear plans, written once against
 * the simd/<isa>.h API and included by each gemm_<isa>.c after it defines
 * GEMM_NV (vectors per packed B panel row, so nr = GEMM_NV * SIMD_V).
 *
 *   x rows  [m][k]   (m <= 4, row stride ldx)
 *   b panel [k][nr]  (the GEMM's packed B panel, full K, zero-padded)
 *   y rows  [m][n]   y[i][j] = alpha * sum_p x[i][p] * b[p][j],  n <= nr
 *
 *   for p in k (unrolled U times, U accumulator sets):
 *       bv[v]        = b[p][v*V .. v*V+V)         GEMM_NV loads
 *       acc[u][i][v] += x[i][p] * bv[v]           one broadcast per row
 *
 * The panel is the memory traffic: it is read once for all m rows.  U
 * independent accumulator sets (k split U ways) keep enough FMAs in
 * flight that their latency never limits the stream; U shrinks as m
 * grows so the accumulators stay in registers.
 *
 * seqk_bf16_gemv is the same kernel over the same panel in bfloat16 (a
 * bf16 linear plan), each row's vectors stored pairwise
 * (core/bf16.h seqk__bf16_pack_rows): half the bytes stream in, widened
 * on load (simd_load_bf16x2), the arithmetic unchanged, so its results
 * equal the f32 kernel's on the same (bf16-valued) weights.
 */
#include "cpu_simd/tmpl/unroll.h"

#ifndef GEMM_NV
#error "define GEMM_NV before including tmpl/gemv.c"
#endif

/* Accumulators the kernel may keep: enough chains to cover the FMA
 * latency, with registers left for the panel row and a broadcast. */
#define GEMV_BUDGET (SIMD_NREGS - GEMM_NV - 3 < 16 ? SIMD_NREGS - GEMM_NV - 3 \
                                                   : 16)
#define GEMV_U(m)                                                          \
    ((m) * 4 * GEMM_NV <= GEMV_BUDGET   ? 4                               \
     : (m) * 2 * GEMM_NV <= GEMV_BUDGET ? 2                               \
                                        : 1)

/* The GEMM_NV vectors of a panel row at element offset o: f32, or bf16
 * in the pairwise layout (core/bf16.h seqk__bf16_pack_rows; bf constant),
 * where one load and two bit operations widen two vectors. */
SIMD_INLINE void gemv_row(const void *b, int bf, int64_t o, simd_f32 *bv)
{
    if (!bf) {
        SEQK_UNROLL_FULL
        for (int v = 0; v < GEMM_NV; v++)
            bv[v] = simd_loadu((const float *)b + o + v * SIMD_V);
        return;
    }
    const uint16_t *h = (const uint16_t *)b + o;
    SEQK_UNROLL_FULL
    for (int v = 0; v + 2 <= GEMM_NV; v += 2)
        simd_load_bf16x2(h + v * SIMD_V, &bv[v], &bv[v + 1]);
    if (GEMM_NV % 2)
        bv[GEMM_NV - 1] = simd_load_bf16(h + (GEMM_NV - 1) * SIMD_V);
}

SIMD_INLINE void gemv_rows(const int m, const int U, const int bf, int64_t n,
                           int64_t k, const float *x, int64_t ldx,
                           const void *b, float *y, int64_t ldy, float alpha)
{
    enum { NV = GEMM_NV, NR = GEMM_NV * SIMD_V };
    simd_f32 acc[4 * 4 * GEMM_NV]; /* [u][i][v] */
    SEQK_UNROLL_FULL
    for (int a = 0; a < U * m * NV; a++)
        acc[a] = simd_zero();

    int64_t p = 0;
    for (; p + U <= k; p += U) {
        SEQK_UNROLL_FULL
        for (int u = 0; u < U; u++) {
            simd_f32 bv[GEMM_NV];
            gemv_row(b, bf, (p + u) * NR, bv);
            SEQK_UNROLL_FULL
            for (int i = 0; i < m; i++) {
                const simd_f32 xb = simd_broadcast(x + i * ldx + p + u);
                SEQK_UNROLL_FULL
                for (int v = 0; v < NV; v++)
                    acc[(u * m + i) * NV + v] =
                        simd_fma(xb, bv[v], acc[(u * m + i) * NV + v]);
            }
        }
    }
    for (; p < k; p++) {
        simd_f32 bv[GEMM_NV];
        gemv_row(b, bf, p * NR, bv);
        SEQK_UNROLL_FULL
        for (int i = 0; i < m; i++) {
            const simd_f32 xb = simd_broadcast(x + i * ldx + p);
            SEQK_UNROLL_FULL
            for (int v = 0; v < NV; v++)
                acc[i * NV + v] = simd_fma(xb, bv[v], acc[i * NV + v]);
        }
    }

    const simd_f32 va = simd_set1(alpha);
    SEQK_UNROLL_FULL
    for (int i = 0; i < m; i++) {
        SEQK_UNROLL_FULL
        for (int v = 0; v < NV; v++) {
            simd_f32 s = acc[i * NV + v];
            SEQK_UNROLL_FULL
            for (int u = 1; u < U; u++)
                s = simd_add(s, acc[(u * m + i) * NV + v]);
            s = simd_mul(s, va);
            const int64_t left = n - (int64_t)v * SIMD_V;
            float *yr = y + i * ldy + v * SIMD_V;
            if (left >= SIMD_V)
                simd_storeu(yr, s);
            else if (left > 0)
                simd_store_tail(yr, s, left);
        }
    }
}

static void SIMD_SUFFIX(seqk_f32_gemv)(int64_t m, int64_t n, int64_t k,
                                       const float *x, int64_t ldx,
                                       const float *b, float *y, int64_t ldy,
                                       float alpha)
{
    switch (m) {
    case 1: gemv_rows(1, GEMV_U(1), 0, n, k, x, ldx, b, y, ldy, alpha); break;
    case 2: gemv_rows(2, GEMV_U(2), 0, n, k, x, ldx, b, y, ldy, alpha); break;
    case 3: gemv_rows(3, GEMV_U(3), 0, n, k, x, ldx, b, y, ldy, alpha); break;
    case 4: gemv_rows(4, GEMV_U(4), 0, n, k, x, ldx, b, y, ldy, alpha); break;
    default: break;
    }
}

static void SIMD_SUFFIX(seqk_bf16_gemv)(int64_t m, int64_t n, int64_t k,
                                        const float *x, int64_t ldx,
                                        const uint16_t *b, float *y,
                                        int64_t ldy, float alpha)
{
    switch (m) {
    case 1: gemv_rows(1, GEMV_U(1), 1, n, k, x, ldx, b, y, ldy, alpha); break;
    case 2: gemv_rows(2, GEMV_U(2), 1, n, k, x, ldx, b, y, ldy, alpha); break;
    case 3: gemv_rows(3, GEMV_U(3), 1, n, k, x, ldx, b, y, ldy, alpha); break;
    case 4: gemv_rows(4, GEMV_U(4), 1, n, k, x, ldx, b, y, ldy, alpha); break;
    default: break;
    }
}
