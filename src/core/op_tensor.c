/*
 * op_tensor.c — front ends of the tensor ops of the decoder step and the
 * ONNX runner: Gather (the embedding lookup), ArgMax, TopK and Concat,
 * with ONNX semantics.  Each checks its tensors, views them as
 * [outer, n, inner] around the axis and dispatches.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/internal.h"

/* axis in [-rank, rank-1] -> [0, rank-1]; else a message naming what. */
static seqk_status norm_axis(seqk_context *ctx, const char *what,
                             int64_t axis, const seqk_tensor *t, int *out)
{
    char s[96];
    if (axis < -t->ndim || axis >= t->ndim)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s axis %lld is outside [%d, %d] for input %s",
                           what, (long long)axis, -t->ndim, t->ndim - 1,
                           seqk__shape_str(t, s, sizeof s));
    *out = (int)(axis < 0 ? axis + t->ndim : axis);
    return SEQK_OK;
}

/* Products of the dims before and after axis (factors of numel: no
 * overflow). */
static void around(const seqk_tensor *t, int axis, int64_t *outer,
                   int64_t *inner)
{
    *outer = 1;
    *inner = 1;
    for (int i = 0; i < axis; i++)
        *outer *= t->dims[i];
    for (int i = axis + 1; i < t->ndim; i++)
        *inner *= t->dims[i];
}

/* Checks a tensor argument whose dtype may be any (data movement). */
static seqk_status check_any(seqk_context *ctx, const seqk_tensor *t,
                             const char *what)
{
    if (!t)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG, "%s is NULL", what);
    if (t->ctx != ctx)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s belongs to another context", what);
    return SEQK_OK;
}

/* ------------------------------------------------------------------ Gather */

/* The position of flat index j in a tensor of shape dims: "[1,3]". */
static const char *position(int ndim, const int64_t *dims, int64_t j,
                            char *buf, size_t len)
{
    int64_t pos[SEQK_MAX_DIMS];
    for (int i = ndim - 1; i >= 0; i--) {
        pos[i] = dims[i] ? j % dims[i] : 0;
        j = dims[i] ? j / dims[i] : 0;
    }
    return seqk__dims_str(ndim, pos, buf, len);
}

seqk_status seqk__gather_bad_id(seqk_context *ctx,
                                const seqk_gather_problem *p, int64_t j,
                                int64_t id)
{
    char where[96];
    return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                       "Gather index %lld at indices%s is outside [%lld, "
                       "%lld] (data has %lld entries on axis %lld)",
                       (long long)id,
                       position(p->idx_ndim, p->idx_dims, j, where,
                                sizeof where),
                       (long long)-p->n, (long long)p->n - 1,
                       (long long)p->n, (long long)p->axis);
}

seqk_status seqk_gather(seqk_context *ctx, int64_t axis,
                        const seqk_tensor *data, const seqk_tensor *indices,
                        seqk_tensor *output)
{
    seqk_status st;
    int ax = 0;
    char s1[96];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_gather: ctx is NULL");
    if ((st = check_any(ctx, data, "Gather data")) ||
        (st = check_any(ctx, indices, "Gather indices")) ||
        (st = check_any(ctx, output, "Gather output")))
        return st;
    if (indices->dtype != SEQK_I32 && indices->dtype != SEQK_I64)
        return seqk__error(ctx, SEQK_ERR_DTYPE,
                           "Gather indices have dtype %s; expected i32 or "
                           "i64", seqk__dtype_name(indices->dtype));
    if (output->dtype != data->dtype)
        return seqk__error(ctx, SEQK_ERR_DTYPE,
                           "Gather output has dtype %s; expected %s (the "
                           "data's)", seqk__dtype_name(output->dtype),
                           seqk__dtype_name(data->dtype));
    if (data->ndim < 1)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Gather data is a scalar; expected rank >= 1");
    if ((st = norm_axis(ctx, "Gather", axis, data, &ax)))
        return st;
    const int ond = data->ndim - 1 + indices->ndim;
    if (ond > SEQK_MAX_DIMS)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Gather output would have rank %d (data %s, "
                           "indices of rank %d); at most %d", ond,
                           seqk__shape_str(data, s1, sizeof s1),
                           indices->ndim, SEQK_MAX_DIMS);
    int64_t od[SEQK_MAX_DIMS];
    int k = 0;
    for (int i = 0; i < ax; i++)
        od[k++] = data->dims[i];
    for (int i = 0; i < indices->ndim; i++)
        od[k++] = indices->dims[i];
    for (int i = ax + 1; i < data->ndim; i++)
        od[k++] = data->dims[i];
    if ((st = seqk__check_dims(ctx, output, "Gather output", ond, od,
                               "data.shape[:axis] + indices.shape + "
                               "data.shape[axis+1:]")))
        return st;
    if (seqk__tensors_overlap(output, data) ||
        seqk__tensors_overlap(output, indices))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Gather output overlaps an input");

    seqk_gather_problem p = {.n = data->dims[ax], .nidx = indices->numel,
                             .elem_size = seqk_dtype_size(data->dtype),
                             .axis = axis, .data = data->data,
                             .ids = indices->data,
                             .idx64 = indices->dtype == SEQK_I64,
                             .idx_ndim = indices->ndim, .out = output->data};
    around(data, ax, &p.outer, &p.inner);
    for (int i = 0; i < indices->ndim; i++)
        p.idx_dims[i] = indices->dims[i];
    if (output->numel == 0)
        return SEQK_OK;
    /* Host ids are checked here, before anything is written; device
     * backends check on the device (problems.h). */
    if (!ctx->dev)
        for (int64_t j = 0; j < p.nidx; j++) {
            const int64_t id = p.idx64 ? ((const int64_t *)p.ids)[j]
                                       : ((const int32_t *)p.ids)[j];
            if (id < -p.n || id >= p.n)
                return seqk__gather_bad_id(ctx, &p, j, id);
        }
    return seqk__dispatch(ctx, SEQK_OP_GATHER, &p);
}

/* ------------------------------------------------------------------ ArgMax */

void seqk_argmax_params_init(seqk_argmax_params *p)
{
    if (!p)
        return;
    *p = (seqk_argmax_params){.struct_size = sizeof *p, .keepdims = 1};
}

seqk_status seqk_argmax(seqk_context *ctx, const seqk_argmax_params *params,
                        const seqk_tensor *X, seqk_tensor *Y)
{
    seqk_status st;
    int ax = 0;
    char s1[96];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_argmax: ctx is NULL");
    if ((st = seqk__check_struct(ctx, params,
                                 params ? params->struct_size : 0,
                                 sizeof(seqk_argmax_params),
                                 "seqk_argmax params")))
        return st;
    if ((st = seqk__check_tensor(ctx, X, "ArgMax input", SEQK_F32, -1)) ||
        (st = seqk__check_tensor(ctx, Y, "ArgMax output", SEQK_I64, -1)))
        return st;
    if (X->ndim < 1)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "ArgMax input is a scalar; expected rank >= 1");
    if ((st = norm_axis(ctx, "ArgMax", params->axis, X, &ax)))
        return st;
    if (params->keepdims != 0 && params->keepdims != 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "ArgMax keepdims is %d; expected 0 or 1",
                           params->keepdims);
    if (params->select_last_index != 0 && params->select_last_index != 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "ArgMax select_last_index is %d; expected 0 or 1",
                           params->select_last_index);
    int64_t yd[SEQK_MAX_DIMS];
    int k = 0;
    for (int i = 0; i < X->ndim; i++)
        if (i != ax)
            yd[k++] = X->dims[i];
        else if (params->keepdims)
            yd[k++] = 1;
    if ((st = seqk__check_dims(ctx, Y, "ArgMax output", k, yd,
                               params->keepdims ? "the input with axis 1"
                                                : "the input without axis")))
        return st;
    seqk_argmax_problem p = {.n = X->dims[ax],
                             .select_last = params->select_last_index,
                             .X = X->data, .Y = Y->data};
    around(X, ax, &p.outer, &p.inner);
    if (Y->numel == 0)
        return SEQK_OK;
    if (p.n == 0)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "ArgMax over axis %d of input %s, which is empty",
                           ax, seqk__shape_str(X, s1, sizeof s1));
    return seqk__dispatch(ctx, SEQK_OP_ARGMAX, &p);
}

/* -------------------------------------------------------------------- TopK */

void seqk_topk_params_init(seqk_topk_params *p, int64_t k)
{
    if (!p)
        return;
    *p = (seqk_topk_params){.struct_size = sizeof *p, .k = k, .axis = -1,
                            .largest = 1, .sorted = 1};
}

seqk_status seqk_topk(seqk_context *ctx, const seqk_topk_params *params,
                      const seqk_tensor *X, seqk_tensor *values,
                      seqk_tensor *indices)
{
    seqk_status st;
    int ax = 0;
    char s1[96];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_topk: ctx is NULL");
    if ((st = seqk__check_struct(ctx, params,
                                 params ? params->struct_size : 0,
                                 sizeof(seqk_topk_params),
                                 "seqk_topk params")))
        return st;
    if ((st = seqk__check_tensor(ctx, X, "TopK input", SEQK_F32, -1)) ||
        (st = seqk__check_tensor(ctx, values, "TopK values", SEQK_F32,
                                 -1)) ||
        (st = seqk__check_tensor(ctx, indices, "TopK indices", SEQK_I64,
                                 -1)))
        return st;
    if (X->ndim < 1)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "TopK input is a scalar; expected rank >= 1");
    if ((st = norm_axis(ctx, "TopK", params->axis, X, &ax)))
        return st;
    if (params->largest != 0 && params->largest != 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "TopK largest is %d; expected 0 or 1",
                           params->largest);
    if (params->sorted != 0 && params->sorted != 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "TopK sorted is %d; expected 0 or 1",
                           params->sorted);
    if (params->k < 0 || params->k > X->dims[ax])
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "TopK k = %lld is outside 0..%lld (axis %d of "
                           "input %s)", (long long)params->k,
                           (long long)X->dims[ax], ax,
                           seqk__shape_str(X, s1, sizeof s1));
    int64_t od[SEQK_MAX_DIMS];
    for (int i = 0; i < X->ndim; i++)
        od[i] = i == ax ? params->k : X->dims[i];
    if ((st = seqk__check_dims(ctx, values, "TopK values", X->ndim, od,
                               "the input with dims[axis] = k")) ||
        (st = seqk__check_dims(ctx, indices, "TopK indices", X->ndim, od,
                               "the input with dims[axis] = k")))
        return st;
    if (seqk__tensors_overlap(values, X) ||
        seqk__tensors_overlap(indices, X) ||
        seqk__tensors_overlap(values, indices))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "TopK outputs overlap the input or each other");
    seqk_topk_problem p = {.n = X->dims[ax], .k = params->k,
                           .largest = params->largest, .X = X->data,
                           .values = values->data,
                           .indices = indices->data};
    around(X, ax, &p.outer, &p.inner);
    if (values->numel == 0)
        return SEQK_OK;
    return seqk__dispatch(ctx, SEQK_OP_TOPK, &p);
}

/* ------------------------------------------------------------------ Concat */

seqk_status seqk_concat(seqk_context *ctx, int64_t axis, int n,
                        const seqk_tensor *const *inputs,
                        seqk_tensor *output)
{
    seqk_status st = SEQK_OK;
    int ax = 0;
    char s1[96], s2[96], what[48];
    const void **src = NULL;
    int64_t *cols = NULL, *off = NULL;

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_concat: ctx is NULL");
    if (n < 1 || !inputs)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Concat needs at least one input (n = %d%s)", n,
                           inputs ? "" : ", inputs NULL");
    for (int i = 0; i < n; i++) {
        snprintf(what, sizeof what, "Concat input %d", i);
        if ((st = check_any(ctx, inputs[i], what)))
            return st;
    }
    if ((st = check_any(ctx, output, "Concat output")))
        return st;
    const seqk_tensor *t0 = inputs[0];
    if (t0->ndim < 1)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Concat input 0 is a scalar; expected rank >= 1");
    if ((st = norm_axis(ctx, "Concat", axis, t0, &ax)))
        return st;
    int64_t od[SEQK_MAX_DIMS], sum = 0;
    for (int i = 0; i < n; i++) {
        const seqk_tensor *t = inputs[i];
        if (t->dtype != t0->dtype)
            return seqk__error(ctx, SEQK_ERR_DTYPE,
                               "Concat input %d has dtype %s but input 0 "
                               "has %s", i, seqk__dtype_name(t->dtype),
                               seqk__dtype_name(t0->dtype));
        int same = t->ndim == t0->ndim;
        for (int d = 0; same && d < t0->ndim; d++)
            same = d == ax || t->dims[d] == t0->dims[d];
        if (!same)
            return seqk__error(ctx, SEQK_ERR_SHAPE,
                               "Concat input %d has shape %s but input 0 "
                               "has %s; all dims but axis %d must match", i,
                               seqk__shape_str(t, s1, sizeof s1),
                               seqk__shape_str(t0, s2, sizeof s2), ax);
        if (seqk__add_i64(sum, t->dims[ax], &sum))
            return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                               "Concat: the sum of axis %d overflows", ax);
        if (seqk__tensors_overlap(output, t))
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "Concat output overlaps input %d", i);
    }
    if (output->dtype != t0->dtype)
        return seqk__error(ctx, SEQK_ERR_DTYPE,
                           "Concat output has dtype %s; expected %s",
                           seqk__dtype_name(output->dtype),
                           seqk__dtype_name(t0->dtype));
    for (int d = 0; d < t0->ndim; d++)
        od[d] = d == ax ? sum : t0->dims[d];
    if ((st = seqk__check_dims(ctx, output, "Concat output", t0->ndim, od,
                               "the inputs joined along axis")))
        return st;
    if (output->numel == 0)
        return SEQK_OK;
    int64_t outer = 1, inner = 1;
    around(t0, ax, &outer, &inner);
    src = calloc((size_t)n, sizeof *src);
    cols = calloc((size_t)n, sizeof *cols);
    off = calloc((size_t)n, sizeof *off);
    if (!src || !cols || !off) {
        st = seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                         "Concat: out of memory for %d inputs", n);
        goto cleanup;
    }
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        src[i] = inputs[i]->data;
        cols[i] = inputs[i]->dims[ax] * inner; /* <= output numel */
        off[i] = at;
        at += cols[i];
    }
    seqk_concat_problem p = {.outer = outer, .row = at,
                             .elem_size = seqk_dtype_size(t0->dtype),
                             .n = n, .src = src, .cols = cols, .off = off,
                             .out = output->data};
    st = seqk__dispatch(ctx, SEQK_OP_CONCAT, &p);

cleanup:
    free(src);
    free(cols);
    free(off);
    return st;
}
