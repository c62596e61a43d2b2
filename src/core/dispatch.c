/*
 * dispatch.c — runs one op on the best backend of the context that takes
 * the problem.  Backends are tried best first; each one that has no kernel
 * for the op or refuses the problem is logged with its reason under
 * SEQK_VERBOSE=dispatch, so users can see why a kernel did not run.
 */
#include <stdio.h>

#include "core/internal.h"

const char *seqk__op_name(seqk_op op)
{
    static const char *names[SEQK_OP_COUNT_] = {
        "gemm", "matmul", "softmax", "rnn_layer", "attention",
        "seq_attention", "gather", "argmax", "topk", "elementwise",
        "concat", "where", "cast", "layout", "reduce", "layer_norm",
        "conv1d", "rnn_layer_train", "rnn_layer_backward"};
    return op >= 0 && op < SEQK_OP_COUNT_ ? names[op] : "unknown op";
}

static int has_entry(const seqk_backend *b, seqk_op op)
{
    switch (op) {
    case SEQK_OP_GEMM: return b->gemm != NULL;
    case SEQK_OP_MATMUL: return b->matmul != NULL;
    case SEQK_OP_SOFTMAX: return b->softmax != NULL;
    case SEQK_OP_RNN_LAYER: return b->rnn_layer != NULL;
    case SEQK_OP_ATTENTION: return b->attention != NULL;
    case SEQK_OP_SEQ_ATTENTION: return b->seq_attention != NULL;
    case SEQK_OP_GATHER: return b->gather != NULL;
    case SEQK_OP_ARGMAX: return b->argmax != NULL;
    case SEQK_OP_TOPK: return b->topk != NULL;
    case SEQK_OP_ELEMENTWISE: return b->elementwise != NULL;
    case SEQK_OP_CONCAT: return b->concat != NULL;
    case SEQK_OP_WHERE: return b->where != NULL;
    case SEQK_OP_CAST: return b->cast != NULL;
    case SEQK_OP_LAYOUT: return b->layout != NULL;
    case SEQK_OP_REDUCE: return b->reduce != NULL;
    case SEQK_OP_LAYER_NORM: return b->layer_norm != NULL;
    case SEQK_OP_CONV1D: return b->conv1d != NULL;
    case SEQK_OP_RNN_LAYER_TRAIN: return b->rnn_layer_train != NULL;
    case SEQK_OP_RNN_LAYER_BACKWARD: return b->rnn_layer_backward != NULL;
    case SEQK_OP_COUNT_: break;
    }
    return 0;
}

static seqk_status run(const seqk_backend *b, seqk_context *ctx, seqk_op op,
                       const void *p)
{
    switch (op) {
    case SEQK_OP_GEMM: return b->gemm(ctx, b, p);
    case SEQK_OP_MATMUL: return b->matmul(ctx, b, p);
    case SEQK_OP_SOFTMAX: return b->softmax(ctx, b, p);
    case SEQK_OP_RNN_LAYER: return b->rnn_layer(ctx, b, p);
    case SEQK_OP_ATTENTION: return b->attention(ctx, b, p);
    case SEQK_OP_SEQ_ATTENTION: return b->seq_attention(ctx, b, p);
    case SEQK_OP_GATHER: return b->gather(ctx, b, p);
    case SEQK_OP_ARGMAX: return b->argmax(ctx, b, p);
    case SEQK_OP_TOPK: return b->topk(ctx, b, p);
    case SEQK_OP_ELEMENTWISE: return b->elementwise(ctx, b, p);
    case SEQK_OP_CONCAT: return b->concat(ctx, b, p);
    case SEQK_OP_WHERE: return b->where(ctx, b, p);
    case SEQK_OP_CAST: return b->cast(ctx, b, p);
    case SEQK_OP_LAYOUT: return b->layout(ctx, b, p);
    case SEQK_OP_REDUCE: return b->reduce(ctx, b, p);
    case SEQK_OP_LAYER_NORM: return b->layer_norm(ctx, b, p);
    case SEQK_OP_CONV1D: return b->conv1d(ctx, b, p);
    case SEQK_OP_RNN_LAYER_TRAIN: return b->rnn_layer_train(ctx, b, p);
    case SEQK_OP_RNN_LAYER_BACKWARD: return b->rnn_layer_backward(ctx, b, p);
    case SEQK_OP_COUNT_: break;
    }
    return SEQK_ERR_INTERNAL;
}

seqk_status seqk__dispatch(seqk_context *ctx, seqk_op op, const void *problem)
{
    seqk__clear_error(ctx);
    for (int i = ctx->num_backends - 1; i >= 0; i--) {
        const seqk_backend *b = ctx->backends[i];
        char why[160] = "";
        if (!has_entry(b, op)) {
            seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "%s: %s has no kernel",
                      seqk__op_name(op), b->spec);
            continue;
        }
        if (b->supports && !b->supports(b, op, problem, why, sizeof why)) {
            seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "%s: %s rejected: %s",
                      seqk__op_name(op), b->spec, why);
            continue;
        }
        if (b->accepts && !b->accepts(ctx, b, op, problem, why, sizeof why)) {
            seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "%s: %s passes: %s",
                      seqk__op_name(op), b->spec, why);
            continue;
        }
        seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "%s: running %s on %s",
                  seqk__op_name(op), b->kernel_names[op] ? b->kernel_names[op]
                                                        : "(unnamed)",
                  b->spec);
        seqk_status st = run(b, ctx, op, problem);
        if (st != SEQK_OK && b->falls_back && i > 0) {
            seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "%s: %s failed (%s: %s); "
                      "running on %s instead", seqk__op_name(op), b->spec,
                      seqk_status_string(st), ctx->error,
                      ctx->backends[i - 1]->spec);
            seqk__clear_error(ctx);
            continue;
        }
        if (st != SEQK_OK && ctx->error[0] == '\0')
            seqk__error(ctx, st, "%s: kernel %s on %s failed (%s)",
                        seqk__op_name(op), b->kernel_names[op] ?
                        b->kernel_names[op] : "(unnamed)", b->spec,
                        seqk_status_string(st));
        return st;
    }
    return seqk__error(ctx, SEQK_ERR_INTERNAL,
                       "%s: no backend of device '%s' has a kernel for it",
                       seqk__op_name(op), ctx->device);
}
