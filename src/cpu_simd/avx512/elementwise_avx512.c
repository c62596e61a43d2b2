/*
 * elementwise_avx512.c — the element-wise and ArgMax kernels for avx512
 * (contract in elementwise.h): tmpl/elementwise.c compiled once here.
 */
#include "cpu_simd/simd/avx512.h"

#define EW_NAME "seqk_f32_elementwise__avx512"

#include "cpu_simd/tmpl/elementwise.c"
