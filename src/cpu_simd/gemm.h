/*
 * gemm.h — SGEMM microkernels and the blocked, threaded driver built on
 * them (BLIS-style).
 *
 * A microkernel computes one register tile from packed panels:
 *
 *   a: kc x mr, packed column-by-column   a[p*mr + i]   (op(A) rows i)
 *   b: kc x nr, packed row-by-row         b[p*nr + j]   (op(B) cols j)
 *   c[i*ldc + j] = alpha * sum_p a[p*mr+i] * b[p*nr+j] + beta * c[i*ldc+j]
 *
 * for i < m <= mr, j < n <= nr (edge tiles write only m x n); beta == 0
 * means c is not read (it may hold NaN).  Panels are 64-byte aligned and
 * zero-padded to mr / nr, so the kernel may always load full vectors of a
 * and b.
 */
#ifndef SEQK_CPU_SIMD_GEMM_H
#define SEQK_CPU_SIMD_GEMM_H

#include <stdint.h>

typedef void (*seqk_sgemm_ukernel_fn)(int64_t kc, const float *a,
                                      const float *b, float *c, int64_t ldc,
                                      int64_t m, int64_t n, float alpha,
                                      float beta);

typedef struct seqk_gemm_kernels {
    const char *name; /* e.g. "seqk_f32_gemm_ukernel_6x16__avx2_fma" */
    int mr, nr;
    seqk_sgemm_ukernel_fn ukernel;
} seqk_gemm_kernels;

#endif
