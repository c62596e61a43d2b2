/*
 * elementwise_neon.c — the element-wise and ArgMax kernels for neon
 * (contract in elementwise.h): tmpl/elementwise.c compiled once here.
 */
#include "cpu_simd/simd/neon.h"

#define EW_NAME "seqk_f32_elementwise__neon"

#include "cpu_simd/tmpl/elementwise.c"
