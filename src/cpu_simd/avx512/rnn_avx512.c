/*
 * rnn_avx512.c — the RNN step and projection kernels for AVX-512: the
 * shared source tmpl/rnn_step.c (layout and contract there and in rnn.h)
 * with this ISA's register tiles.
 *
 * Tiles: 6 rows x 4 vectors (LSTM; GRU lbr=1 with its four accumulators
 * hx, z, r, hr), 8 rows x 2 or 3 vectors: 24 accumulators + the panel
 * vectors + 1 broadcast within the 32 zmm registers.
 */
#include "cpu_simd/simd/avx512.h"

enum { MR_MAX = 8, PREFETCH_AFTER_LOADS = 1 };

/* Rows per register tile for a panel of nv vectors, R from roff. */
SIMD_INLINE int tile_rows(int nv, int roff)
{
    return nv + roff == 4 ? 6 : 8;
}

#include "cpu_simd/tmpl/rnn_step.c"
