/*
 * rnn_neon.c — the RNN step and projection kernels for NEON (AArch64
 * ASIMD): the shared source tmpl/rnn_step.c (layout and contract there and
 * in rnn.h) with this ISA's register tiles.
 *
 * Tiles within the 32 q registers: 8 rows x 2 vectors, 6 x 3, 5 x 4 (at
 * most 24 accumulators + the panel vectors + 1 broadcast).
 */
#include "cpu_simd/simd/neon.h"

enum { MR_MAX = 8, PREFETCH_AFTER_LOADS = 1 };

/* Rows per register tile for a panel of nv vectors, R from roff. */
SIMD_INLINE int tile_rows(int nv, int roff)
{
    return nv + roff == 4 ? 5 : nv == 3 ? 6 : 8;
}

#include "cpu_simd/tmpl/rnn_step.c"
