/*
 * isa_table.c — an ISA's kernel table, seqk__cpu_isa_<isa>: one pointer per
 * op family, each table defined by that family's kernel file in the ISA's
 * directory (seqk__gemm_kernels__<isa>, ...).
 *
 * Compiled once inside every ISA library, with -DSEQK_ISA_NAME=<isa> from
 * src/cpu_simd/meson.build.  An ISA without kernels for a family would set
 * that pointer NULL (dispatch then falls back and says so).
 */
#include "cpu_simd/attention.h"
#include "cpu_simd/cpu_simd.h"
#include "cpu_simd/elementwise.h"
#include "cpu_simd/gemm.h"
#include "cpu_simd/rnn.h"

#ifndef SEQK_ISA_NAME
#error "isa_table.c is compiled with -DSEQK_ISA_NAME=<isa> (meson.build)"
#endif

/* Two levels, so that SEQK_ISA_NAME is expanded before pasting. */
#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)

const seqk_cpu_isa PASTE(seqk__cpu_isa_, SEQK_ISA_NAME) = {
    .spec = STR(SEQK_ISA_NAME),
    .gemm = &PASTE(seqk__gemm_kernels__, SEQK_ISA_NAME),
    .rnn = &PASTE(seqk__rnn_kernels__, SEQK_ISA_NAME),
    .attn = &PASTE(seqk__attn_kernels__, SEQK_ISA_NAME),
    .ew = &PASTE(seqk__ew_kernels__, SEQK_ISA_NAME),
};
