/*
 * tensor_view.c — tensors without copies: reshape and slice views of a
 * tensor's memory, and host memory the caller owns (seqk_tensor_wrap).
 *
 *   owner  t->base == NULL; its memory is freed when it is destroyed and
 *          its views are gone (t->views counts them, t->dead marks an
 *          owner the user destroyed while views lived)
 *   view   t->base = the owner (never a view: views of views point at the
 *          owner), t->data = owner->data + byte offset
 *
 * A view's data pointer is an ordinary pointer into the owner's memory, so
 * every op takes views unchanged: host kernels read it, and on device
 * contexts the backend maps it to (buffer, element offset) as it maps any
 * pointer inside a tensor (src/opencl/README.md, "Memory model"); there
 * are no sub-buffers and so no CL_DEVICE_MEM_BASE_ADDR_ALIGN limit.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

/* A view of t with shape (ndim, dims) starting byte_off bytes into t. */
static seqk_status make_view(seqk_tensor *t, int ndim, const int64_t *dims,
                             int64_t numel, size_t byte_off,
                             seqk_tensor **out)
{
    seqk_tensor *owner = t->base ? t->base : t;
    seqk_tensor *v = calloc(1, sizeof *v);
    if (!v)
        return seqk__error(t->ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "tensor view: out of memory");
    v->ctx = t->ctx;
    v->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        v->dims[i] = dims[i];
    v->dtype = t->dtype;
    v->numel = numel;
    v->bytes = (size_t)numel * seqk_dtype_size(t->dtype);
    v->data = (char *)t->data + byte_off;
    v->base = owner;
    atomic_fetch_add(&owner->views, 1);
    seqk__context_retain(t->ctx);
    *out = v;
    return SEQK_OK;
}

seqk_status seqk_tensor_reshape_view(seqk_tensor *t, int ndim,
                                     const int64_t *dims, seqk_tensor **view)
{
    int64_t d[SEQK_MAX_DIMS], numel = 1;
    int infer = -1;
    char s1[96], s2[96];

    if (!t)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_reshape_view: tensor is NULL");
    if (!view)
        return seqk__error(t->ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_reshape_view: view (the output) is "
                           "NULL");
    *view = NULL;
    if (ndim < 0 || ndim > SEQK_MAX_DIMS)
        return seqk__error(t->ctx, SEQK_ERR_SHAPE,
                           "seqk_tensor_reshape_view: ndim %d is outside "
                           "0..%d", ndim, SEQK_MAX_DIMS);
    if (ndim > 0 && !dims)
        return seqk__error(t->ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_reshape_view: dims is NULL with "
                           "ndim %d", ndim);
    for (int i = 0; i < ndim; i++) {
        d[i] = dims[i];
        if (d[i] == -1 && infer < 0) {
            infer = i;
            continue;
        }
        if (d[i] < 0)
            return seqk__error(t->ctx, SEQK_ERR_SHAPE,
                               "seqk_tensor_reshape_view: dims %s: only one "
                               "dimension may be -1 and none other negative",
                               seqk__dims_str(ndim, dims, s1, sizeof s1));
        if (seqk__mul_i64(numel, d[i], &numel))
            return seqk__error(t->ctx, SEQK_ERR_OVERFLOW,
                               "seqk_tensor_reshape_view: dims %s overflow",
                               seqk__dims_str(ndim, dims, s1, sizeof s1));
    }
    if (infer >= 0) {
        if (numel == 0 || t->numel % numel)
            return seqk__error(t->ctx, SEQK_ERR_SHAPE,
                               "seqk_tensor_reshape_view: cannot infer the "
                               "-1 in %s from tensor %s (%lld elements)",
                               seqk__dims_str(ndim, dims, s1, sizeof s1),
                               seqk__shape_str(t, s2, sizeof s2),
                               (long long)t->numel);
        d[infer] = t->numel / numel;
        numel = t->numel;
    }
    if (numel != t->numel)
        return seqk__error(t->ctx, SEQK_ERR_SHAPE,
                           "seqk_tensor_reshape_view: dims %s hold %lld "
                           "elements but tensor %s has %lld",
                           seqk__dims_str(ndim, d, s1, sizeof s1),
                           (long long)numel,
                           seqk__shape_str(t, s2, sizeof s2),
                           (long long)t->numel);
    return make_view(t, ndim, d, numel, 0, view);
}

seqk_status seqk_tensor_slice_view(seqk_tensor *t, int axis, int64_t start,
                                   int64_t len, seqk_tensor **view)
{
    char s1[96];

    if (!t)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_slice_view: tensor is NULL");
    if (!view)
        return seqk__error(t->ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_slice_view: view (the output) is "
                           "NULL");
    *view = NULL;
    if (t->ndim < 1)
        return seqk__error(t->ctx, SEQK_ERR_SHAPE,
                           "seqk_tensor_slice_view: the tensor is a scalar; "
                           "there is no axis to slice");
    if (axis < -t->ndim || axis >= t->ndim)
        return seqk__error(t->ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_slice_view: axis %d is outside "
                           "[%d, %d] for tensor %s", axis, -t->ndim,
                           t->ndim - 1, seqk__shape_str(t, s1, sizeof s1));
    if (axis < 0)
        axis += t->ndim;
    const int64_t n = t->dims[axis];
    if (start < 0 || len < 0 || start > n || len > n - start)
        return seqk__error(t->ctx, SEQK_ERR_SHAPE,
                           "seqk_tensor_slice_view: [%lld, %lld + %lld) is "
                           "not inside 0..%lld of axis %d of tensor %s",
                           (long long)start, (long long)start,
                           (long long)len, (long long)n, axis,
                           seqk__shape_str(t, s1, sizeof s1));
    for (int i = 0; i < axis; i++)
        if (t->dims[i] != 1)
            return seqk__error(t->ctx, SEQK_ERR_SHAPE,
                               "seqk_tensor_slice_view: a slice of axis %d "
                               "of tensor %s is not contiguous (dimension "
                               "%d is %lld, not 1); slice axis 0 or reshape "
                               "first", axis,
                               seqk__shape_str(t, s1, sizeof s1), i,
                               (long long)t->dims[i]);
    int64_t d[SEQK_MAX_DIMS], inner = 1, numel = 0;
    for (int i = 0; i < t->ndim; i++)
        d[i] = t->dims[i];
    d[axis] = len;
    for (int i = axis + 1; i < t->ndim; i++)
        inner *= t->dims[i]; /* a factor of t->numel: no overflow */
    seqk__numel(t->ndim, d, &numel);
    const size_t off = (size_t)(start * inner) * seqk_dtype_size(t->dtype);
    return make_view(t, t->ndim, d, numel, off, view);
}

seqk_status seqk_tensor_wrap(seqk_context *ctx, int ndim,
                             const int64_t *dims, seqk_dtype dtype,
                             void *host, size_t bytes, seqk_tensor **out)
{
    int64_t numel = 0;
    char shape[96];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_wrap: ctx is NULL");
    if (!out)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_wrap: tensor (the output) is NULL");
    *out = NULL;
    if (ctx->dev)
        return seqk__error(ctx, SEQK_ERR_UNSUPPORTED,
                           "seqk_tensor_wrap: context '%s' keeps tensors in "
                           "%s device memory, not host memory; wrap a "
                           "cl_mem with seqk_opencl_tensor_wrap "
                           "(seqk_opencl.h) or copy with seqk_tensor_write",
                           ctx->device, ctx->dev->title);
    seqk_status st = seqk__check_tensor_desc(ctx, "seqk_tensor_wrap", ndim,
                                             dims, dtype, 0, &numel);
    if (st)
        return st;
    const size_t esize = seqk_dtype_size(dtype);
    const size_t need = (size_t)numel * esize;
    if (bytes != need)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "seqk_tensor_wrap: %zu bytes given but %s %s "
                           "needs %zu", bytes,
                           seqk__dims_str(ndim, dims, shape, sizeof shape),
                           seqk__dtype_name(dtype), need);
    if (!host && need)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_wrap: host is NULL");
    if ((uintptr_t)host % esize)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_wrap: host %p is not aligned to the "
                           "%zu-byte elements of %s", host, esize,
                           seqk__dtype_name(dtype));
    seqk_tensor *t = calloc(1, sizeof *t);
    if (!t)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "seqk_tensor_wrap: out of memory");
    t->ctx = ctx;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->dims[i] = dims[i];
    t->dtype = dtype;
    t->numel = numel;
    t->bytes = need;
    /* a unique non-NULL pointer for empty tensors, as allocation gives */
    t->data = host ? host : (void *)t;
    t->foreign = 1;
    seqk__context_retain(ctx);
    *out = t;
    return SEQK_OK;
}
