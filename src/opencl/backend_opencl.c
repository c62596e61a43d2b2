/*
 * backend_opencl.c — the OpenCL backend's table: every op runs OpenCL
 * kernels (kernels/NAME.cl) on device buffers, enqueued on the context's
 * in-order queue without waiting (reads of outputs wait).  Host-side
 * inputs the front end owns (RNN weight blocks, lengths) are uploaded by
 * the drivers (cl_rnn.c keeps them per plan).
 */
#include <stdio.h>
#include <string.h>

#include "opencl/cl_gemm.h"
#include "opencl/cl_internal.h"
#include "opencl/cl_rnn.h"

static seqk_status cl_gemm(seqk_context *ctx, const seqk_backend *self,
                           const seqk_gemm_problem *p)
{
    (void)self;
    return seqk__cl_gemm(ctx, p);
}

static seqk_status cl_matmul(seqk_context *ctx, const seqk_backend *self,
                             const seqk_matmul_problem *p)
{
    (void)self;
    return seqk__cl_matmul(ctx, p);
}

static seqk_status cl_softmax(seqk_context *ctx, const seqk_backend *self,
                              const seqk_softmax_problem *p)
{
    (void)self;
    return seqk__cl_softmax(ctx, p);
}

static seqk_status cl_rnn_layer(seqk_context *ctx, const seqk_backend *self,
                                const seqk_rnn_layer_problem *p)
{
    (void)self;
    return seqk__cl_rnn_layer(ctx, p);
}

static seqk_status cl_attention(seqk_context *ctx, const seqk_backend *self,
                                const seqk_attention_problem *p)
{
    (void)self;
    return seqk__cl_attention(ctx, p);
}

static seqk_status cl_seq_attention(seqk_context *ctx,
                                    const seqk_backend *self,
                                    const seqk_seq_attention_problem *p)
{
    (void)self;
    return seqk__cl_seq_attention(ctx, p);
}

/* The tensor ops (cl_tensor_ops.c): the problem is all they need. */
#define CL_ENTRY(op, type)                                                  \
    static seqk_status cl_##op(seqk_context *ctx, const seqk_backend *self, \
                               const type *p)                               \
    {                                                                       \
        (void)self;                                                         \
        return seqk__cl_##op(ctx, p);                                       \
    }
CL_ENTRY(gather, seqk_gather_problem)
CL_ENTRY(argmax, seqk_argmax_problem)
CL_ENTRY(topk, seqk_topk_problem)
CL_ENTRY(elementwise, seqk_elementwise_problem)
CL_ENTRY(concat, seqk_concat_problem)
/* The ONNX ops (cl_onnx_ops.c). */
CL_ENTRY(where, seqk_where_problem)
CL_ENTRY(cast, seqk_cast_problem)
CL_ENTRY(layout, seqk_layout_problem)
CL_ENTRY(reduce, seqk_reduce_problem)
CL_ENTRY(layer_norm, seqk_layer_norm_problem)
CL_ENTRY(conv1d, seqk_conv1d_problem)

const seqk_backend seqk__backend_opencl = {
    .spec = "opencl",
    .name = "OpenCL",
    .kind = SEQK_DEVICE_OPENCL,
    .gemm = cl_gemm,
    .matmul = cl_matmul,
    .softmax = cl_softmax,
    .rnn_layer = cl_rnn_layer,
    .attention = cl_attention,
    .seq_attention = cl_seq_attention,
    .gather = cl_gather,
    .argmax = cl_argmax,
    .topk = cl_topk,
    .elementwise = cl_elementwise,
    .concat = cl_concat,
    .where = cl_where,
    .cast = cl_cast,
    .layout = cl_layout,
    .reduce = cl_reduce,
    .layer_norm = cl_layer_norm,
    .conv1d = cl_conv1d,
    .kernel_names = {
        [SEQK_OP_GEMM] = "seqk_f32_gemm__opencl",
        [SEQK_OP_MATMUL] = "seqk_f32_matmul__opencl",
        [SEQK_OP_SOFTMAX] = "seqk_f32_softmax__opencl",
        [SEQK_OP_RNN_LAYER] = "seqk_f32_rnn_layer__opencl",
        [SEQK_OP_ATTENTION] = "seqk_f32_attention__opencl",
        [SEQK_OP_SEQ_ATTENTION] = "seqk_f32_seq_attention__opencl",
        [SEQK_OP_GATHER] = "seqk_gather__opencl",
        [SEQK_OP_ARGMAX] = "seqk_f32_argmax__opencl",
        [SEQK_OP_TOPK] = "seqk_f32_topk__opencl",
        [SEQK_OP_ELEMENTWISE] = "seqk_f32_elementwise__opencl",
        [SEQK_OP_CONCAT] = "seqk_concat__opencl",
        [SEQK_OP_WHERE] = "seqk_where__opencl",
        [SEQK_OP_CAST] = "seqk_cast__opencl",
        [SEQK_OP_LAYOUT] = "seqk_layout__opencl",
        [SEQK_OP_REDUCE] = "seqk_f32_reduce__opencl",
        [SEQK_OP_LAYER_NORM] = "seqk_f32_layer_norm__opencl",
        [SEQK_OP_CONV1D] = "seqk_f32_conv1d__opencl",
    },
};
