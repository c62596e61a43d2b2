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
 * and b.  kc >= 1.
 *
 * The driver (gemm_driver.c) loops BLIS-style over those tiles:
 *
 *   for jc in N step nc            B block  kc x nc  (L3)
 *     for pc in K step kc
 *       for ic in M step mc        A block  mc x kc  (L2)
 *         for jr in nc step nr     B micro-panel kc x nr  (L1)
 *           for ir in mc step mr   A micro-panel kc x mr, streamed from L2
 *             ukernel
 *
 * Micro-panels are packed when first used (A during the first jr, B
 * during the first ic), while they are hot in L1.  Threads split M and N
 * into a grid of sub-problems, each with its own packing buffers.
 *
 * Tiny problems (up to 2M multiply-adds; seqk__cpu_gemm_small_kind) skip
 * all of that: the direct kernels of tmpl/gemm_small.c read both operands
 * in place (gemm_driver_small.c).
 */
#ifndef SEQK_CPU_SIMD_GEMM_H
#define SEQK_CPU_SIMD_GEMM_H

#include <stdint.h>

#include "cpu_simd/cpu_simd.h"
#include "cpu_simd/tmpl/unroll.h" /* SEQK_UNROLL_FULL */


typedef void (*seqk_sgemm_ukernel_fn)(int64_t kc, const float *a,
                                      const float *b, float *c, int64_t ldc,
                                      int64_t m, int64_t n, float alpha,
                                      float beta);

/* Transposing panel pack, the costly packing case (op(A) with K
 * contiguous, op(B) with K contiguous, e.g. ONNX W [G*H, I]):
 *   dst[p*w + i] = src[i*ld + p]   for i < rows, p < k
 *   dst[p*w + i] = 0               for rows <= i < w
 * rows <= w; dst 64-byte aligned.  w is mr or nr.  next_rows: how many
 * rows follow the panel in memory (src + (rows + i)*ld, i < next_rows,
 * the next panel, 0 for none); the pack prefetches them into L2 as it
 * goes, since its many short row streams defeat the hardware prefetcher
 * (about twice the bandwidth from L3/DRAM). */
typedef void (*seqk_sgemm_pack_t_fn)(int64_t k, int64_t rows, int64_t w,
                                     const float *src, int64_t ld,
                                     float *dst, int64_t next_rows);

/* The direct small products of tmpl/gemm_small.c (no packing):
 *   small: y[i*ldy + j] = (add ? y : 0) + alpha * sum_p x[i*ldx + p] *
 *          b[p*ldb + j] + (c ? c[i*c_sm + j*c_sn] : 0)
 *          (op(B) row-major in place; c_sn 0 or 1)
 *   dot:   the same with b[j*ldb + p]   (op(B)'s columns K-contiguous)
 * for i < m, j < n, any m, n, k >= 0. */
typedef void (*seqk_sgemm_small_fn)(int64_t m, int64_t n, int64_t k,
                                    const float *x, int64_t ldx,
                                    const float *b, int64_t ldb, float *y,
                                    int64_t ldy, float alpha, int add,
                                    const float *c, int64_t c_sm,
                                    int64_t c_sn);

typedef struct seqk_gemm_kernels {
    const char *name; /* e.g. "seqk_f32_gemm_ukernel_6x16__avx2" */
    int mr, nr;
    seqk_sgemm_ukernel_fn ukernel;
    /* Optional vectorized transposing pack; NULL: plain C in the driver. */
    seqk_sgemm_pack_t_fn pack_t;
    /* Matrix-vector product over one prepacked B panel (tmpl/gemv.c; the
     * panel layout of seqk__cpu_gemm_pack_b with the full K, nr columns
     * zero-padded), for 1..SEQK_GEMV_MAX_ROWS rows of x:
     *   y[i*ldy + j] = alpha * sum_{p<k} x[i*ldx + p] * b[p*nr + j]
     * for i < m, j < n <= nr; k >= 0.  NULL: the GEMM path serves all
     * rows. */
    void (*gemv)(int64_t m, int64_t n, int64_t k, const float *x,
                 int64_t ldx, const float *b, float *y, int64_t ldy,
                 float alpha);
    const char *gemv_name; /* "seqk_f32_gemv_4x16__avx2" */
    /* gemv over the same panel held as bfloat16 (bf16 linear plans), in
     * the pairwise layout of core/bf16.h seqk__bf16_pack_rows (rows of
     * nr / V vectors): widened on load, same arithmetic and results.
     * NULL: none. */
    void (*gemv_bf16)(int64_t m, int64_t n, int64_t k, const float *x,
                      int64_t ldx, const uint16_t *b, float *y, int64_t ldy,
                      float alpha);
    /* The small-M product over one prepacked B panel (tmpl/gemm_skinny.c):
     * x rows read in place, any m >= 1, the panel streamed once per
     * register tile of rows:
     *   y[i*ldy + j] = (add ? y[i*ldy + j] : 0)
     *                  + alpha * sum_{p<k} x[i*ldx + p] * b[p*nr + j]
     * for i < m, j < n <= nr; k >= 0.  pf: the next panel the caller will
     * use (prefetched into L2 meanwhile), or NULL.  NULL entry: no skinny
     * path on this ISA. */
    void (*skinny)(int64_t m, int64_t n, int64_t k, const float *x,
                   int64_t ldx, const float *b, float *y, int64_t ldy,
                   float alpha, int add, const float *pf);
    const char *skinny_name; /* "seqk_f32_gemm_skinny_6x16__avx2" */
    /* Direct small products (NULL: none on this ISA); small_rows is small
     * with op(B)'s row p at rows[p] (columns 0..n-1 there). */
    seqk_sgemm_small_fn small, dot;
    void (*small_rows)(int64_t m, int64_t n, int64_t k, const float *x,
                       int64_t ldx, const float *const *rows, float *y,
                       int64_t ldy, float alpha, int add, const float *c,
                       int64_t c_sm, int64_t c_sn);
    const char *small_name, *dot_name;
} seqk_gemm_kernels;

/* Rows up to which a linear plan's GEMM runs as a matrix-vector product. */
#define SEQK_GEMV_MAX_ROWS 4
/* ... and up to which, past that, through the skinny kernel; more rows
 * take the blocked GEMM (by measurement: bench/skinny.md). */
#define SEQK_SKINNY_MAX_ROWS 32
/* A plain GEMM with at most this many columns (the recurrent shapes: M =
 * 4H weights rows, N = batch) runs through the skinny kernel with the
 * roles turned: A's rows read in place, op(B) packed into panels. */
#define SEQK_SKINNY_MAX_COLS 64

/* The per-ISA tables (gemm_<isa>.c). */
extern const seqk_gemm_kernels seqk__gemm_kernels__avx2;
extern const seqk_gemm_kernels seqk__gemm_kernels__avx512;
extern const seqk_gemm_kernels seqk__gemm_kernels__neon;

/* Cache block sizes, in elements: mc a multiple of mr, nc of nr.  Kept in
 * one struct so that the tuner can override them. */
typedef struct seqk_gemm_blocking {
    int64_t mc, kc, nc;
} seqk_gemm_blocking;

/* Default block sizes for kernels k, derived from this CPU's caches. */
void seqk__cpu_gemm_default_blocking(const seqk_gemm_kernels *k,
                                    seqk_gemm_blocking *out);

/* seqk__cpu_gemm (cpu_simd.h) with explicit block sizes (NULL: defaults)
 * and at most max_threads threads of ctx's pool (<= 0: the context's
 * count).  Plain row-major GEMM on host pointers for any driver: call it
 * from the thread that owns ctx, not from inside a seqk__pool_run. */
seqk_status seqk__cpu_gemm_ex(seqk_context *ctx, const seqk_cpu_isa *isa,
                             const seqk_gemm_problem *p,
                             const seqk_gemm_blocking *blk,
                             int max_threads);

/* A GEMM whose op(B) comes prepacked whole: nr-column panels of all K
 * rows, as seqk__cpu_gemm_pack_b(kern, K, N, ...) lays them out (b_packed
 * 64-byte aligned); p->B is not read. */
seqk_status seqk__cpu_gemm_prepacked_b(seqk_context *ctx,
                                      const seqk_cpu_isa *isa,
                                      const seqk_gemm_problem *p,
                                      const float *b_packed);

/* A GEMM with p->b_cache (a linear plan, gemv_driver.c): packs op(B) into
 * the slot once, then runs rows 1..SEQK_GEMV_MAX_ROWS as a matrix-vector
 * product, up to SEQK_SKINNY_MAX_ROWS through the skinny kernel, more rows
 * as seqk__cpu_gemm_prepacked_b. */
seqk_status seqk__cpu_gemm_cached(seqk_context *ctx, const seqk_cpu_isa *isa,
                                 const seqk_gemm_problem *p);

/* Whether a plain GEMM (no b_cache, op(A) = A) takes the skinny path, and
 * that path (gemv_driver.c): op(B) packed into panels per call, threads
 * split M, chunks of A's rows against every panel, no A packing. */
int seqk__cpu_gemm_skinny_n(const seqk_cpu_isa *isa,
                           const seqk_gemm_problem *p);
seqk_status seqk__cpu_gemm_skinny(seqk_context *ctx, const seqk_cpu_isa *isa,
                                 const seqk_gemm_problem *p);

/* The direct small path (gemm_driver_small.c): which kernel serves p
 * without packing (SEQK_GEMM_SMALL_NONE: none does; the blocked or skinny
 * driver runs it), the whole product on up to max_threads threads (<= 0:
 * the context's count), and the block of rows [i0, i1) x columns
 * [j0, j1) on the calling thread. */
enum {
    SEQK_GEMM_SMALL_NONE = 0,
    SEQK_GEMM_SMALL_B,   /* op(B) row-major in place: the small kernel */
    SEQK_GEMM_SMALL_DOT  /* op(B) with K contiguous: the dot kernel */
};
int seqk__cpu_gemm_small_kind(const seqk_cpu_isa *isa,
                             const seqk_gemm_problem *p);
seqk_status seqk__cpu_gemm_small(seqk_context *ctx, const seqk_cpu_isa *isa,
                                 const seqk_gemm_problem *p, int kind,
                                 int max_threads);
void seqk__cpu_gemm_small_block(const seqk_cpu_isa *isa,
                                const seqk_gemm_problem *p, int kind,
                                int64_t i0, int64_t i1, int64_t j0,
                                int64_t j1);

/* y[j] = beta * c[j*c_sn] (add: +=) for j < n, with the unit and zero
 * strides (a row of C, a bias broadcast along the row) as loops the
 * compiler vectorizes. */
static inline void seqk__gemm_c_row(float *y, const float *c, int64_t c_sn,
                                    float beta, int64_t n, int add)
{
    if (c_sn == 0) {
        const float v = beta * c[0];
        if (add)
            for (int64_t j = 0; j < n; j++)
                y[j] += v;
        else
            for (int64_t j = 0; j < n; j++)
                y[j] = v;
    } else if (c_sn == 1) {
        if (add)
            for (int64_t j = 0; j < n; j++)
                y[j] += beta * c[j];
        else
            for (int64_t j = 0; j < n; j++)
                y[j] = beta * c[j];
    } else {
        for (int64_t j = 0; j < n; j++)
            y[j] = (add ? y[j] : 0.0f) + beta * c[j * c_sn];
    }
}

/* One-thread GEMM that never touches the pool, for use inside a pool run
 * (each thread its own problem).  Allocates its packing buffers; returns
 * SEQK_ERR_OUT_OF_MEMORY (no message) when it cannot. */
seqk_status seqk__cpu_gemm_1t(const seqk_cpu_isa *isa,
                             const seqk_gemm_problem *p);

/* Packs an op(B) block into nr-wide micro-panels, the layout the
 * microkernel reads (e.g. to prepack RNN weights once per plan):
 *   X[k, n] = src[k*rs + n*cs]      (rs, cs) = (ldb, 1), or (1, ldb)
 *                                   for B stored transposed
 *   dst[(j/nr)*k*nr + p*nr + j%nr] = X[p, j]   for p < k, j < n,
 * zero-padded to a multiple of nr columns.  dst needs
 * seqk__cpu_gemm_packed_b_floats(k, n, nr) floats, 64-byte aligned. */
int64_t seqk__cpu_gemm_packed_b_floats(int64_t k, int64_t n, int nr);
void seqk__cpu_gemm_pack_b(const seqk_gemm_kernels *kern, int64_t k,
                          int64_t n, const float *src, int64_t rs,
                          int64_t cs, float *dst);

/* The same for op(A) into mr-high micro-panels:
 *   X[m, k] = src[m*rs + k*cs]
 *   dst[(i/mr)*k*mr + p*mr + i%mr] = X[i, p]   for i < m, p < k,
 * zero-padded to a multiple of mr rows. */
int64_t seqk__cpu_gemm_packed_a_floats(int64_t m, int64_t k, int mr);
void seqk__cpu_gemm_pack_a(const seqk_gemm_kernels *kern, int64_t m,
                          int64_t k, const float *src, int64_t rs,
                          int64_t cs, float *dst);

#endif
