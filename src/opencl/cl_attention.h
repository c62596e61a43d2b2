/*
 * cl_attention.h — the attention drivers' tunables (cl_attention.c,
 * cl_seq_attention.c); the drivers themselves are in cl_internal.h.
 */
#ifndef SEQK_OPENCL_CL_ATTENTION_H
#define SEQK_OPENCL_CL_ATTENTION_H

#include "opencl/cl_internal.h"
#include "tune/tune.h"

/* "opencl.attention": PATH (0 flash, 1 row), BQ, BK, TPR, RWG; shape
 * Sq, Skv, Dh, Dv. */
extern const seqk_tunable seqk__cl_attention_tunable;
/* "opencl.seq_attention": SWG, CWG; shape B, S, Dk, Dv. */
extern const seqk_tunable seqk__cl_seq_attention_tunable;

/* The values the attention driver runs with for v (tuned or defaults):
 * v when legal, else the nearest legal flash or row configuration.
 * 0 when nothing fits the limits. */
int seqk__cl_attention_pick(const seqk_tune_limits *lim, const int64_t *shape,
                           int *v);

#endif /* SEQK_OPENCL_CL_ATTENTION_H */
