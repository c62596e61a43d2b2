/*
 * elementwise.h — the per-ISA kernels behind the element-wise ops and
 * ArgMax (tmpl/elementwise.c, compiled once per ISA), and the driver's
 * view of them (elementwise_driver.c).
 *
 * The driver walks Y's shape (problems.h: merged dims, per-operand
 * strides) row by row; a kernel handles one innermost run of n elements,
 * each operand either contiguous (inc 1) or one broadcast value (inc 0):
 *
 *   y[0 .. n)  <-  op(a[i*a_inc], b[i*b_inc])
 *
 * Kernels read exactly a[0..n) (a[0] when a_inc is 0), likewise b, and
 * write exactly y[0..n); y may be a or b itself (inc 1), never partly
 * overlap them.
 */
#ifndef SEQK_CPU_SIMD_ELEMENTWISE_H
#define SEQK_CPU_SIMD_ELEMENTWISE_H

#include <stdint.h>

#include "seqk.h"

typedef struct seqk_ew_kernels {
    const char *name; /* "seqk_f32_elementwise__avx2" */
    /* y[i] = op(a[i*a_inc], b[i*b_inc]), i < n; a binary op; incs 0 or 1 */
    void (*binary)(seqk_elementwise_op op, int64_t n, const float *a,
                   int64_t a_inc, const float *b, int64_t b_inc, float *y);
    /* y[i] = op(x[i]), i < n; a unary f32 op; alpha, beta its
     * attributes (LeakyRelu, HardSigmoid, Clip) */
    void (*unary)(seqk_elementwise_op op, int64_t n, float alpha,
                  float beta, const float *x, float *y);
    /* The first (last when select_last) index of the maximum of x[0..n),
     * 1 <= n; NaN is larger than every number. */
    int64_t (*argmax)(int64_t n, const float *x, int select_last);
    /* LayerNorm of one row x[0..n), n >= 1, into y[0..n) (y may be x):
     * scale[n], bias[n] or NULL; *mean_out, *inv_out when not NULL. */
    void (*layer_norm_row)(int64_t n, float eps, const float *x,
                           const float *scale, const float *bias, float *y,
                           float *mean_out, float *inv_out);
} seqk_ew_kernels;

#define SEQK_ISA(name, arch, needs, cflags, title)                          \
    extern const seqk_ew_kernels seqk__ew_kernels__##name;
#include "cpu_simd/isa.def"

#endif
