/*
 * ref.h — the reference kernels: plain scalar C, written to be obviously
 * right.  They are the oracle every other backend is tested against, so
 * they favour clarity over speed (double accumulation where it is cheap,
 * no blocking, no vectorization).
 *
 * Each takes a validated problem (src/core/problems.h) and returns SEQK_OK,
 * or SEQK_ERR_OUT_OF_MEMORY when scratch memory cannot be had.
 */
#ifndef SEQK_REF_H
#define SEQK_REF_H

#include "core/problems.h"

seqk_status seqk__ref_gemm(const seqk_gemm_problem *p);
seqk_status seqk__ref_matmul(const seqk_matmul_problem *p);
seqk_status seqk__ref_softmax(const seqk_softmax_problem *p);
seqk_status seqk__ref_rnn_layer(const seqk_rnn_layer_problem *p);
seqk_status seqk__ref_attention(const seqk_attention_problem *p);
seqk_status seqk__ref_seq_attention(const seqk_seq_attention_problem *p);

seqk_status seqk__ref_gather(const seqk_gather_problem *p);
seqk_status seqk__ref_argmax(const seqk_argmax_problem *p);
seqk_status seqk__ref_topk(const seqk_topk_problem *p);
seqk_status seqk__ref_concat(const seqk_concat_problem *p);
seqk_status seqk__ref_elementwise(const seqk_elementwise_problem *p);
/* One element-wise op on scalars (NaN for an op of the other arity). */
float seqk__ref_ew_unary(seqk_elementwise_op op, float x);
float seqk__ref_ew_unary_ab(seqk_elementwise_op op, float x, float alpha,
                           float beta);
float seqk__ref_ew_binary(seqk_elementwise_op op, float a, float b);

seqk_status seqk__ref_where(const seqk_where_problem *p);
seqk_status seqk__ref_cast(const seqk_cast_problem *p);
seqk_status seqk__ref_layout(const seqk_layout_problem *p);
seqk_status seqk__ref_reduce(const seqk_reduce_problem *p);
seqk_status seqk__ref_layer_norm(const seqk_layer_norm_problem *p);
seqk_status seqk__ref_conv1d(const seqk_conv1d_problem *p);

/* RNN training (rnn_backward.c): the training forward (the forward of
 * rnn.c, bit for bit, recording what backward needs in the layout of
 * seqk__rnn_ws_layer_floats) and the backward of one layer. */
seqk_status seqk__ref_rnn_layer_train(const seqk_rnn_train_problem *p);
seqk_status seqk__ref_rnn_layer_backward(const seqk_rnn_backward_problem *p);
/* The derivative of an activation at x (as seqk__ref_activate's x). */
double seqk__ref_activate_grad(seqk_activation act, double x);

/* One ONNX RNN activation applied to a scalar. */
float seqk__ref_activate(seqk_activation act, float x);
/* The RNN reference's dot product (double sum) and pre-activation clip:
 * v rounded to float, clamped to [-clip, clip] when clip > 0 (ONNX: clip
 * bounds the inputs of the activations); rnn.c, shared by the training
 * forward (rnn_backward.c) so that it is the forward bit for bit. */
double seqk__ref_dot(const float *a, const float *b, int64_t n);
float seqk__ref_clip(double v, float clip);

#endif /* SEQK_REF_H */
