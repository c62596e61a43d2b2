/*
 * unroll.h — SEQK_UNROLL_FULL, for the microkernels and templates whose
 * arrays of accumulators must live in registers.
 */
#ifndef SEQK_CPU_SIMD_UNROLL_H
#define SEQK_CPU_SIMD_UNROLL_H

/* Fully unrolls the loop that follows (a small constant trip count), so
 * that the microkernels' arrays of accumulators live in registers; GCC
 * and clang spell the pragma differently. */
#if defined(__clang__)
#define SEQK_UNROLL_FULL _Pragma("clang loop unroll(full)")
#else
#define SEQK_UNROLL_FULL _Pragma("GCC unroll 16")
#endif

#endif
