/*
 * elementwise_avx2.c — the element-wise and ArgMax kernels for avx2
 * (contract in elementwise.h): tmpl/elementwise.c compiled once here.
 */
#include "cpu_simd/simd/avx2.h"

#define EW_NAME "seqk_f32_elementwise__avx2"

#include "cpu_simd/tmpl/elementwise.c"
