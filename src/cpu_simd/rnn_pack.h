/*
 * rnn_pack.h — the CPU SIMD RNN layer's packed weights (rnn_pack.c): R and
 * W of every direction in the panel layout of rnn.h, per pass of the
 * cell, kept in the plan's seqk_backend_cache.  ISA-independent.
 */
#ifndef SEQK_CPU_SIMD_RNN_PACK_H
#define SEQK_CPU_SIMD_RNN_PACK_H

#include "core/rnn_plan.h"
#include "cpu_simd/cpu_simd.h"
#include "cpu_simd/rnn.h"

/* What the plan's cache holds: R and W of every direction in panels. */
typedef struct rnn_pack {
    const float *W, *R; /* packed from (the plan frees us when they change) */
    seqk_cell cell;
    int num_dirs, lbr, input_forget, vlen;
    int64_t H, I;
    float *block;
    float *panel[2][2];  /* R [direction][pass] */
    float *wpanel[2][2]; /* W [direction][pass] */
    /* a bf16 plan: block again as bf16 (same element offsets, each row's
     * vectors pairwise: core/bf16.h), which the batch-1 step streams
     * instead (rnn.h panel16); NULL otherwise */
    uint16_t *block16;
    int bf16;
} rnn_pack;

/* The passes of one step (GRU with linear_before_reset = 0 needs two)
 * into s; returns their number. */
int seqk__cpu_rnn_cell_stages(const seqk_rnn_layer_problem *p,
                              seqk_rnn_stage *s);

/* The packed weights for p (hidden units padded to Hp): from the cache
 * when this ISA packed them, else packed now and stored in the cache, or
 * handed back in *owned (free it with seqk__cpu_rnn_pack_free). */
seqk_status seqk__cpu_rnn_get_pack(seqk_context *ctx, const seqk_cpu_isa *isa,
                                   const seqk_rnn_layer_problem *p,
                                   int64_t Hp, const rnn_pack **out,
                                   rnn_pack **owned);
void seqk__cpu_rnn_pack_free(void *pack); /* NULL ignored */

#endif
