/*
 * backend_ref.c — the reference backend's table.  It supports every op and
 * every problem, so dispatch always finds a kernel; other backends are
 * tested against it.
 */
#include "core/backend.h"
#include "ref/ref.h"

static seqk_status gemm(seqk_context *c, const seqk_backend *self,
                        const seqk_gemm_problem *p)
{
    (void)c;
    (void)self;
    return seqk__ref_gemm(p);
}

static seqk_status matmul(seqk_context *c, const seqk_backend *self,
                          const seqk_matmul_problem *p)
{
    (void)c;
    (void)self;
    return seqk__ref_matmul(p);
}

static seqk_status softmax(seqk_context *c, const seqk_backend *self,
                           const seqk_softmax_problem *p)
{
    (void)c;
    (void)self;
    return seqk__ref_softmax(p);
}

static seqk_status rnn_layer(seqk_context *c, const seqk_backend *self,
                             const seqk_rnn_layer_problem *p)
{
    (void)c;
    (void)self;
    return seqk__ref_rnn_layer(p);
}

static seqk_status attention(seqk_context *c, const seqk_backend *self,
                             const seqk_attention_problem *p)
{
    (void)c;
    (void)self;
    return seqk__ref_attention(p);
}

static seqk_status seq_attention(seqk_context *c, const seqk_backend *self,
                                 const seqk_seq_attention_problem *p)
{
    (void)c;
    (void)self;
    return seqk__ref_seq_attention(p);
}

/* The tensor ops (tensor_ops.c): the problem is all they need. */
#define REF_ENTRY(op, type)                                                 \
    static seqk_status op(seqk_context *c, const seqk_backend *self,        \
                          const type *p)                                    \
    {                                                                       \
        (void)c;                                                            \
        (void)self;                                                         \
        return seqk__ref_##op(p);                                           \
    }
REF_ENTRY(gather, seqk_gather_problem)
REF_ENTRY(argmax, seqk_argmax_problem)
REF_ENTRY(topk, seqk_topk_problem)
REF_ENTRY(elementwise, seqk_elementwise_problem)
REF_ENTRY(concat, seqk_concat_problem)
REF_ENTRY(where, seqk_where_problem)
REF_ENTRY(cast, seqk_cast_problem)
REF_ENTRY(layout, seqk_layout_problem)
REF_ENTRY(reduce, seqk_reduce_problem)
REF_ENTRY(layer_norm, seqk_layer_norm_problem)
REF_ENTRY(conv1d, seqk_conv1d_problem)
REF_ENTRY(rnn_layer_train, seqk_rnn_train_problem)
REF_ENTRY(rnn_layer_backward, seqk_rnn_backward_problem)

const seqk_backend seqk__backend_ref = {
    .spec = "ref",
    .name = "reference (scalar C, the oracle)",
    .kind = SEQK_DEVICE_REFERENCE,
    .gemm = gemm,
    .matmul = matmul,
    .softmax = softmax,
    .rnn_layer = rnn_layer,
    .attention = attention,
    .seq_attention = seq_attention,
    .gather = gather,
    .argmax = argmax,
    .topk = topk,
    .elementwise = elementwise,
    .concat = concat,
    .where = where,
    .cast = cast,
    .layout = layout,
    .reduce = reduce,
    .layer_norm = layer_norm,
    .conv1d = conv1d,
    .rnn_layer_train = rnn_layer_train,
    .rnn_layer_backward = rnn_layer_backward,
    .kernel_names = {
        [SEQK_OP_GEMM] = "seqk_f32_gemm__ref",
        [SEQK_OP_MATMUL] = "seqk_f32_matmul__ref",
        [SEQK_OP_SOFTMAX] = "seqk_f32_softmax__ref",
        [SEQK_OP_RNN_LAYER] = "seqk_f32_rnn_layer__ref",
        [SEQK_OP_ATTENTION] = "seqk_f32_attention__ref",
        [SEQK_OP_SEQ_ATTENTION] = "seqk_f32_seq_attention__ref",
        [SEQK_OP_GATHER] = "seqk_gather__ref",
        [SEQK_OP_ARGMAX] = "seqk_f32_argmax__ref",
        [SEQK_OP_TOPK] = "seqk_f32_topk__ref",
        [SEQK_OP_ELEMENTWISE] = "seqk_f32_elementwise__ref",
        [SEQK_OP_CONCAT] = "seqk_concat__ref",
        [SEQK_OP_WHERE] = "seqk_where__ref",
        [SEQK_OP_CAST] = "seqk_cast__ref",
        [SEQK_OP_LAYOUT] = "seqk_layout__ref",
        [SEQK_OP_REDUCE] = "seqk_f32_reduce__ref",
        [SEQK_OP_LAYER_NORM] = "seqk_f32_layer_norm__ref",
        [SEQK_OP_CONV1D] = "seqk_f32_conv1d__ref",
        [SEQK_OP_RNN_LAYER_TRAIN] = "seqk_f32_rnn_layer_train__ref",
        [SEQK_OP_RNN_LAYER_BACKWARD] = "seqk_f32_rnn_layer_backward__ref",
    },
};
