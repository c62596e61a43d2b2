/*
 * cl_rnn.h — the RNN / LSTM / GRU layer on OpenCL (cl_rnn.c,
 * kernels/rnn.cl).
 */
#ifndef SEQK_OPENCL_CL_RNN_H
#define SEQK_OPENCL_CL_RNN_H

#include "opencl/cl_backend.h"
#include "tune/tune.h"

/* One layer of p (problems.h): W, R, bias, P and seq_lens are host
 * pointers (the plan's); x, y, h0, c0, yh, yc point into device tensors.
 * Weights go to the device once per plan, into p->cache.  Everything is
 * enqueued; nothing waits for the device between steps. */
seqk_status seqk__cl_rnn_layer(seqk_context *ctx,
                              const seqk_rnn_layer_problem *p);

/* "opencl.rnn.gates": WG, the work-group size of the step kernels. */
extern const seqk_tunable seqk__cl_rnn_gates_tunable;
/* "opencl.rnn.step": variant 0 auto, 1 GEMM + gates kernel, 2 fused
 * (recurrent dot products inside the gates kernel). */
extern const seqk_tunable seqk__cl_rnn_step_tunable;

#endif /* SEQK_OPENCL_CL_RNN_H */
