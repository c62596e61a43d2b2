/*
 * op_softmax.c — front end of ONNX Softmax-13 and LogSoftmax-13: one
 * axis, viewed as [outer, n, inner].
 */
#include "core/internal.h"

static seqk_status softmax(seqk_context *ctx, int64_t axis,
                           const seqk_tensor *X, seqk_tensor *Y, int log)
{
    seqk_status st;
    char s1[96];

    if ((st = seqk__check_tensor(ctx, X, "Softmax input", SEQK_F32, -1)) ||
        (st = seqk__check_tensor(ctx, Y, "Softmax output", SEQK_F32, -1)))
        return st;
    if (X->ndim < 1)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Softmax input is a scalar; expected rank >= 1");
    if (axis < -X->ndim || axis >= X->ndim)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Softmax axis %lld is outside [%d, %d] for input "
                           "%s", (long long)axis, -X->ndim, X->ndim - 1,
                           seqk__shape_str(X, s1, sizeof s1));
    if ((st = seqk__check_dims(ctx, Y, log ? "LogSoftmax output"
                                           : "Softmax output",
                               X->ndim, X->dims,
                               "the input")))
        return st;
    if (axis < 0)
        axis += X->ndim;
    seqk_softmax_problem p = {.outer = 1, .n = X->dims[axis], .inner = 1,
                              .log = log, .X = X->data, .Y = Y->data};
    for (int i = 0; i < axis; i++)
        p.outer *= X->dims[i];
    for (int i = (int)axis + 1; i < X->ndim; i++)
        p.inner *= X->dims[i];
    return seqk__dispatch(ctx, SEQK_OP_SOFTMAX, &p);
}

seqk_status seqk_softmax(seqk_context *ctx, int64_t axis,
                         const seqk_tensor *X, seqk_tensor *Y)
{
    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_softmax: ctx is NULL");
    return softmax(ctx, axis, X, Y, 0);
}

seqk_status seqk_log_softmax(seqk_context *ctx, int64_t axis,
                             const seqk_tensor *X, seqk_tensor *Y)
{
    seqk_status st;
    char s1[96];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_log_softmax: ctx is NULL");
    if ((st = seqk__check_tensor(ctx, X, "LogSoftmax input", SEQK_F32,
                                 -1)) ||
        (st = seqk__check_tensor(ctx, Y, "LogSoftmax output", SEQK_F32, -1)))
        return st;
    if (X->ndim < 1)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "LogSoftmax input is a scalar; expected rank >= "
                           "1");
    if (axis < -X->ndim || axis >= X->ndim)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "LogSoftmax axis %lld is outside [%d, %d] for "
                           "input %s", (long long)axis, -X->ndim,
                           X->ndim - 1, seqk__shape_str(X, s1, sizeof s1));
    return softmax(ctx, axis, X, Y, 1);
}
