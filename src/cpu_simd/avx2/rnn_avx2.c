/*
 * rnn_avx2.c — the RNN step and projection kernels for AVX2+FMA: the
 * shared source tmpl/rnn_step.c (layout and contract there and in rnn.h)
 * with this ISA's register tiles.
 *
 * Tiles within the 16 ymm registers: 6 rows x 2 vectors, 4 x 3, 3 x 4
 * (12 accumulators each).  3 x 4 leaves no room for all the panel
 * vectors, so kstep() loads its broadcasts first (3 + 1 panel vector +
 * 12); 3 x 3 with GRU's extra accumulator fits panel-first.
 */
#include "cpu_simd/simd/avx2.h"

enum { MR_MAX = 6, PREFETCH_AFTER_LOADS = 0 };

/* Rows per register tile for a panel of nv vectors, R from roff. */
SIMD_INLINE int tile_rows(int nv, int roff)
{
    return nv + roff == 4 ? 3 : nv == 3 ? 4 : 6;
}

#include "cpu_simd/tmpl/rnn_step.c"
