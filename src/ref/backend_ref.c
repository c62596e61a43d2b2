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
    .kernel_names = {
        [SEQK_OP_GEMM] = "seqk_f32_gemm__ref",
        [SEQK_OP_MATMUL] = "seqk_f32_matmul__ref",
        [SEQK_OP_SOFTMAX] = "seqk_f32_softmax__ref",
        [SEQK_OP_RNN_LAYER] = "seqk_f32_rnn_layer__ref",
        [SEQK_OP_ATTENTION] = "seqk_f32_attention__ref",
        [SEQK_OP_SEQ_ATTENTION] = "seqk_f32_seq_attention__ref",
    },
};
