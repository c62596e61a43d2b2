/*
 * op_reduce.c — front ends of ONNX ReduceSum / ReduceMean / ReduceMax and
 * LayerNormalization.
 *
 * Reduce marks each axis of X kept or reduced, drops dims of 1 and merges
 * neighbours of the same kind, so backends see the fewest dims:
 *
 *   X [2,3,4,5], axes {1,2}   ->  dims {2,12,5}, reduce {0,1,0}
 *   X [8,1,16],  axes {-1}    ->  dims {8,16},   reduce {0,1}
 *
 * LayerNorm views X as [rows, n] with n the product of dims axis..rank-1.
 */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

void seqk_reduce_params_init(seqk_reduce_params *p, seqk_reduce_op op)
{
    if (!p)
        return;
    *p = (seqk_reduce_params){.struct_size = sizeof *p, .op = op,
                              .keepdims = 1};
}

static const char *reduce_name(seqk_reduce_op op)
{
    switch (op) {
    case SEQK_REDUCE_SUM: return "ReduceSum";
    case SEQK_REDUCE_MEAN: return "ReduceMean";
    default: return "ReduceMax";
    }
}

seqk_status seqk_reduce(seqk_context *ctx, const seqk_reduce_params *params,
                        const seqk_tensor *X, seqk_tensor *Y)
{
    seqk_status st;
    char s1[96], what[48];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_reduce: ctx is NULL");
    if ((st = seqk__check_struct(ctx, params,
                                 params ? params->struct_size : 0,
                                 sizeof(seqk_reduce_params),
                                 "seqk_reduce params")))
        return st;
    if (params->op < SEQK_REDUCE_SUM || params->op > SEQK_REDUCE_MAX)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_reduce: op %d is not Sum (0), Mean (1) or "
                           "Max (2)", (int)params->op);
    const char *name = reduce_name(params->op);
    snprintf(what, sizeof what, "%s input", name);
    if ((st = seqk__check_tensor(ctx, X, what, SEQK_F32, -1)))
        return st;
    snprintf(what, sizeof what, "%s output", name);
    if ((st = seqk__check_tensor(ctx, Y, what, SEQK_F32, -1)))
        return st;
    if (params->keepdims != 0 && params->keepdims != 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s keepdims is %d; expected 0 or 1", name,
                           params->keepdims);
    if (params->naxes < 0 || (params->naxes > 0 && !params->axes))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s has %d axes%s", name, params->naxes,
                           params->naxes > 0 ? " but axes is NULL" : "");
    const int r = X->ndim;
    int red[SEQK_MAX_DIMS] = {0};
    if (params->naxes == 0) {
        for (int i = 0; i < r; i++)
            red[i] = !params->noop_with_empty_axes;
    }
    for (int i = 0; i < params->naxes; i++) {
        int64_t a = params->axes[i];
        if (a < -r || a >= r)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "%s axis %lld is outside [%d, %d] for input "
                               "%s", name, (long long)a, -r, r - 1,
                               seqk__shape_str(X, s1, sizeof s1));
        if (a < 0)
            a += r;
        if (red[a])
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "%s axis %lld appears twice", name,
                               (long long)a);
        red[a] = 1;
    }
    int64_t yd[SEQK_MAX_DIMS];
    int k = 0;
    for (int i = 0; i < r; i++)
        if (!red[i])
            yd[k++] = X->dims[i];
        else if (params->keepdims)
            yd[k++] = 1;
    if ((st = seqk__check_dims(ctx, Y, what, k, yd,
                               params->keepdims
                                   ? "the input with reduced axes 1"
                                   : "the input without reduced axes")))
        return st;
    if (seqk__tensors_overlap(X, Y))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s output overlaps its input", name);
    seqk_reduce_problem p = {.op = params->op, .out_numel = Y->numel,
                             .count = 1, .X = X->data, .Y = Y->data};
    for (int i = 0; i < r; i++)
        if (red[i])
            p.count *= X->dims[i]; /* a factor of numel, or 0 */
    if (Y->numel == 0)
        return SEQK_OK;
    /* merge: skip dims of 1, join neighbours of one kind; a 0-size
     * reduced dim stays (count 0) */
    int n = 0;
    for (int i = 0; i < r; i++) {
        if (X->dims[i] == 1)
            continue;
        if (n > 0 && p.reduce[n - 1] == red[i]) {
            p.dims[n - 1] *= X->dims[i];
            continue;
        }
        p.dims[n] = X->dims[i];
        p.reduce[n] = red[i];
        n++;
    }
    if (n == 0) {
        p.dims[0] = 1;
        p.reduce[0] = 1;
        n = 1;
    }
    p.ndim = n;
    return seqk__dispatch(ctx, SEQK_OP_REDUCE, &p);
}

/* -------------------------------------------------------------- LayerNorm */

void seqk_layer_norm_params_init(seqk_layer_norm_params *p)
{
    if (!p)
        return;
    *p = (seqk_layer_norm_params){.struct_size = sizeof *p, .axis = -1,
                                  .epsilon = 1e-5f};
}

/* scale / bias: X.shape[axis:] with leading 1s droppable (numel n). */
static seqk_status check_norm_param(seqk_context *ctx, const seqk_tensor *t,
                                    const char *what, const seqk_tensor *X,
                                    int ax)
{
    seqk_status st;
    char s1[96], s2[96];
    if ((st = seqk__check_tensor(ctx, t, what, SEQK_F32, -1)))
        return st;
    const int tail = X->ndim - ax;
    int ok = t->ndim <= tail || t->ndim == 0;
    for (int i = 0; ok && i < t->ndim; i++)
        ok = t->dims[t->ndim - 1 - i] == X->dims[X->ndim - 1 - i];
    for (int i = t->ndim; ok && i < tail; i++)
        ok = X->dims[X->ndim - 1 - i] == 1;
    if (!ok)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "LayerNormalization %s has shape %s; expected "
                           "the input %s from axis %d on",
                           what, seqk__shape_str(t, s1, sizeof s1),
                           seqk__shape_str(X, s2, sizeof s2), ax);
    return SEQK_OK;
}

seqk_status seqk_layer_norm(seqk_context *ctx,
                            const seqk_layer_norm_params *params,
                            const seqk_tensor *X, const seqk_tensor *scale,
                            const seqk_tensor *bias, seqk_tensor *Y,
                            seqk_tensor *mean, seqk_tensor *inv_std_dev)
{
    seqk_status st;
    char s1[96];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_layer_norm: ctx is NULL");
    if ((st = seqk__check_struct(ctx, params,
                                 params ? params->struct_size : 0,
                                 sizeof(seqk_layer_norm_params),
                                 "seqk_layer_norm params")))
        return st;
    if ((st = seqk__check_tensor(ctx, X, "LayerNormalization input",
                                 SEQK_F32, -1)) ||
        (st = seqk__check_tensor(ctx, Y, "LayerNormalization output",
                                 SEQK_F32, -1)))
        return st;
    const int r = X->ndim;
    if (r < 1)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "LayerNormalization input is a scalar; expected "
                           "rank >= 1");
    if (params->axis < -r || params->axis >= r)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "LayerNormalization axis %lld is outside [%d, "
                           "%d] for input %s", (long long)params->axis, -r,
                           r - 1, seqk__shape_str(X, s1, sizeof s1));
    if (!(params->epsilon >= 0))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "LayerNormalization epsilon is %g; expected >= 0",
                           (double)params->epsilon);
    const int ax = (int)(params->axis < 0 ? params->axis + r : params->axis);
    if ((st = check_norm_param(ctx, scale, "scale", X, ax)) ||
        (bias && (st = check_norm_param(ctx, bias, "bias", X, ax))))
        return st;
    if ((st = seqk__check_dims(ctx, Y, "LayerNormalization output", r,
                               X->dims, "the input")))
        return st;
    int64_t sd[SEQK_MAX_DIMS];
    for (int i = 0; i < r; i++)
        sd[i] = i < ax ? X->dims[i] : 1;
    seqk_tensor *stats[2] = {mean, inv_std_dev};
    static const char *const sn[2] = {"LayerNormalization mean",
                                      "LayerNormalization inv_std_dev"};
    for (int i = 0; i < 2; i++)
        if (stats[i] &&
            ((st = seqk__check_tensor(ctx, stats[i], sn[i], SEQK_F32, -1)) ||
             (st = seqk__check_dims(ctx, stats[i], sn[i], r, sd,
                                    "the input with axes from axis on 1"))))
            return st;
    const seqk_tensor *ins[3] = {X, scale, bias};
    seqk_tensor *outs[3] = {Y, mean, inv_std_dev};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if (seqk__tensors_overlap(outs[i], ins[j]) ||
                (j < i && seqk__tensors_overlap(outs[i], outs[j])))
                return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                                   "LayerNormalization outputs overlap the "
                                   "inputs or each other");
    seqk_layer_norm_problem p = {.rows = 1, .n = 1,
                                 .epsilon = params->epsilon, .X = X->data,
                                 .scale = scale->data,
                                 .bias = bias ? bias->data : NULL,
                                 .Y = Y->data,
                                 .mean = mean ? mean->data : NULL,
                                 .inv_std = inv_std_dev ? inv_std_dev->data
                                                        : NULL};
    for (int i = 0; i < r; i++) {
        if (i < ax)
            p.rows *= X->dims[i];
        else
            p.n *= X->dims[i];
    }
    if (p.rows == 0)
        return SEQK_OK;
    return seqk__dispatch(ctx, SEQK_OP_LAYER_NORM, &p);
}
