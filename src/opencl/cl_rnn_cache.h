/*
 * cl_rnn_cache.h — what an OpenCL RNN layer keeps on the device between
 * calls (cl_rnn_cache.c): the plan's weights, uploaded once into the
 * layer's seqk_backend_cache, and the scratch cl_rnn.c lays out and grows.
 */
#ifndef SEQK_OPENCL_CL_RNN_CACHE_H
#define SEQK_OPENCL_CL_RNN_CACHE_H

#include <stdint.h>

#include "opencl/cl_backend.h"

/* Device ranges are carved in multiples of this many floats. */
#define SEQK_CL_RNN_ALIGN_FLOATS 16

typedef struct seqk_cl_rnn_cache {
    seqk_context *ctx;
    /* what the weights are for */
    seqk_cell cell;
    int D, lbr, has_bias, has_p;
    int64_t H, I;
    const float *src_W, *src_R, *src_bias, *src_P;
    seqk_activation act[6];
    /* one range: W | R | xbias [D][GH] | rbh [D][H] | P [D][3H] | acts */
    void *wrange;
    float *W, *R, *xbias, *rbh, *P, *acts;
    void *rtrange; /* R transposed [D][H][GH], made when fused runs */
    float *RT;
    /* scratch: xp | rg | hs[2] | cs[2] | z | rh | lens */
    void *srange;
    size_t sbytes;
    int32_t *lens_host; /* lengths on the device (lens_n valid ones) */
    int64_t lens_cap, lens_n;
} seqk_cl_rnn_cache;

static inline int seqk_cl_rnn_gates(seqk_cell cell)
{
    return cell == SEQK_CELL_LSTM ? 4 : cell == SEQK_CELL_GRU ? 3 : 1;
}

/* a * b without overflow; 0 on overflow. */
static inline int seqk_cl_rnn_mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a && b > UINT64_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

static inline uint64_t seqk_cl_rnn_round_floats(uint64_t n)
{
    return (n + SEQK_CL_RNN_ALIGN_FLOATS - 1) / SEQK_CL_RNN_ALIGN_FLOATS *
           SEQK_CL_RNN_ALIGN_FLOATS;
}

/* A new cache with p's weights on the device. */
seqk_status seqk__cl_rnn_cache_create(seqk_context *ctx,
                                      const seqk_rnn_layer_problem *p,
                                      seqk_cl_rnn_cache **out);
/* Frees c (a seqk_cl_rnn_cache *; NULL is fine): the free_fn of the
 * plan's seqk_backend_cache. */
void seqk__cl_rnn_cache_free(void *c);
/* Whether c holds the weights of p (same cell, sizes and host arrays). */
int seqk__cl_rnn_cache_matches(const seqk_cl_rnn_cache *c,
                               const seqk_rnn_layer_problem *p);
/* Writes acts [D][3][kind, alpha, beta] from p->act to the device. */
seqk_status seqk__cl_rnn_cache_upload_acts(seqk_context *ctx,
                                           seqk_cl_rnn_cache *c,
                                           const seqk_rnn_layer_problem *p);
/* R transposed into c->RT, for the fused variant (made once per plan). */
seqk_status seqk__cl_rnn_cache_rt(seqk_context *ctx, seqk_cl_rnn_cache *c);

#endif /* SEQK_OPENCL_CL_RNN_CACHE_H */
