/*
 * tensor.c — tensors: a shape, a dtype and device memory.  On host
 * backends the memory is 64-byte aligned host memory followed by
 * SEQK_TENSOR_GUARD_BYTES guard bytes, which the tests check to catch
 * kernels that write past an output.  On a device context the memory is
 * the device backend's (data, then the guard bytes; device.h) and t->data
 * a device address.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

/* The checks every new tensor's descriptor passes (seqk_tensor_create,
 * seqk_tensor_wrap); `fn` starts the messages, and reserve bytes must
 * still fit in a size_t beside the data. */
seqk_status seqk__check_tensor_desc(seqk_context *ctx, const char *fn,
                                    int ndim, const int64_t *dims,
                                    seqk_dtype dtype, size_t reserve,
                                    int64_t *numel)
{
    char shape[128];
    if (ndim < 0 || ndim > SEQK_MAX_DIMS)
        return seqk__error(ctx, SEQK_ERR_SHAPE, "%s: ndim %d is outside 0..%d",
                           fn, ndim, SEQK_MAX_DIMS);
    if (ndim > 0 && !dims)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s: dims is NULL with ndim %d", fn, ndim);
    const size_t esize = seqk_dtype_size(dtype);
    if (esize == 0)
        return seqk__error(ctx, SEQK_ERR_DTYPE, "%s: unknown dtype %d", fn,
                           (int)dtype);
    if (dtype == SEQK_BF16) /* no op reads bf16 tensors */
        return seqk__error(ctx, SEQK_ERR_DTYPE,
                           "%s: SEQK_BF16 is a weight storage type only "
                           "(seqk_linear_desc / seqk_rnn_desc weight_dtype); "
                           "make the tensor SEQK_F32 and let the plan round "
                           "it", fn);
    for (int i = 0; i < ndim; i++)
        if (dims[i] < 0)
            return seqk__error(ctx, SEQK_ERR_SHAPE,
                               "%s: dims %s has a negative dimension", fn,
                               seqk__dims_str(ndim, dims, shape,
                                              sizeof shape));
    if (seqk__numel(ndim, dims, numel) ||
        (uint64_t)*numel > (SIZE_MAX - reserve) / esize)
        return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                           "%s: dims %s are too large to address", fn,
                           seqk__dims_str(ndim, dims, shape, sizeof shape));
    return SEQK_OK;
}

seqk_status seqk_tensor_create(seqk_context *ctx, int ndim,
                               const int64_t *dims, seqk_dtype dtype,
                               seqk_tensor **out)
{
    seqk_tensor *t = NULL;
    int64_t numel = 0;
    char shape[128];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_create: ctx is NULL");
    if (!out)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_create: tensor (the output) is NULL");
    *out = NULL;
    seqk_status st = seqk__check_tensor_desc(ctx, "seqk_tensor_create", ndim,
                                             dims, dtype,
                                             SEQK_TENSOR_GUARD_BYTES + 64,
                                             &numel);
    if (st)
        return st;
    const size_t esize = seqk_dtype_size(dtype);

    t = calloc(1, sizeof *t);
    if (!t)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "seqk_tensor_create: out of memory");
    t->ctx = ctx;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->dims[i] = dims[i];
    t->dtype = dtype;
    t->numel = numel;
    t->bytes = (size_t)numel * esize;
    if (ctx->dev) {
        st = ctx->dev->alloc(ctx, t->bytes, &t->data);
        if (st != SEQK_OK) {
            free(t);
            return st;
        }
        seqk__log(ctx, SEQK_VERBOSE_ALLOC, "tensor %s %s: %zu bytes (%s)",
                  seqk__dims_str(ndim, dims, shape, sizeof shape),
                  seqk__dtype_name(dtype), t->bytes, ctx->dev->title);
        seqk__context_retain(ctx);
        *out = t;
        return SEQK_OK;
    }
    t->data = seqk__aligned_alloc(t->bytes + SEQK_TENSOR_GUARD_BYTES);
    if (!t->data) {
        size_t bytes = t->bytes;
        free(t);
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "seqk_tensor_create: cannot allocate %zu bytes "
                           "for a tensor of shape %s", bytes,
                           seqk__dims_str(ndim, dims, shape, sizeof shape));
    }
    memset(t->data, 0, t->bytes);
    memset((char *)t->data + t->bytes, SEQK_TENSOR_GUARD_BYTE,
           SEQK_TENSOR_GUARD_BYTES);
    seqk__log(ctx, SEQK_VERBOSE_ALLOC, "tensor %s %s: %zu bytes",
              seqk__dims_str(ndim, dims, shape, sizeof shape),
              seqk__dtype_name(dtype), t->bytes);
    seqk__context_retain(ctx);
    *out = t;
    return SEQK_OK;
}

/* Frees an owner's memory and the owner itself. */
static void free_owner(seqk_tensor *t)
{
    seqk_context *ctx = t->ctx;
    if (t->foreign)
        ;                        /* the caller's memory */
    else if (ctx->dev)
        ctx->dev->free(ctx, t->data);
    else
        seqk__aligned_free(t->data);
    free(t);
    seqk__context_release(ctx);
}

seqk_status seqk_tensor_destroy(seqk_tensor *t)
{
    if (!t)
        return SEQK_OK;
    if (t->base) {
        /* a view: drop its reference; the owner goes with the last one
         * once it has been destroyed itself */
        seqk_tensor *owner = t->base;
        seqk_context *ctx = t->ctx;
        free(t);
        seqk__context_release(ctx);
        if (atomic_fetch_sub(&owner->views, 1) == 1 && owner->dead)
            free_owner(owner);
        return SEQK_OK;
    }
    if (atomic_load(&t->views) > 0) {
        t->dead = 1;
        return SEQK_OK;
    }
    free_owner(t);
    return SEQK_OK;
}

seqk_status seqk_tensor_write(seqk_tensor *t, const void *host, size_t bytes)
{
    if (!t)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_write: tensor is NULL");
    if (!host && bytes)
        return seqk__error(t->ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_write: host is NULL");
    if (bytes != t->bytes)
        return seqk__error(t->ctx, SEQK_ERR_SHAPE,
                           "seqk_tensor_write: %zu bytes given but the "
                           "tensor holds %zu", bytes, t->bytes);
    if (t->ctx->dev)
        return t->ctx->dev->write(t->ctx, t->data, host, bytes);
    if (bytes)
        memcpy(t->data, host, bytes);
    return SEQK_OK;
}

seqk_status seqk_tensor_read(const seqk_tensor *t, void *host, size_t bytes)
{
    if (!t)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_read: tensor is NULL");
    if (!host && bytes)
        return seqk__error(t->ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_tensor_read: host is NULL");
    if (bytes != t->bytes)
        return seqk__error(t->ctx, SEQK_ERR_SHAPE,
                           "seqk_tensor_read: %zu bytes asked but the "
                           "tensor holds %zu", bytes, t->bytes);
    if (t->ctx->dev)
        return t->ctx->dev->read(t->ctx, host, t->data, bytes);
    if (bytes)
        memcpy(host, t->data, bytes);
    return SEQK_OK;
}

int seqk_tensor_ndim(const seqk_tensor *t) { return t ? t->ndim : -1; }

int64_t seqk_tensor_dim(const seqk_tensor *t, int axis)
{
    if (!t || axis < 0 || axis >= t->ndim)
        return -1;
    return t->dims[axis];
}

seqk_dtype seqk_tensor_dtype(const seqk_tensor *t)
{
    return t ? t->dtype : (seqk_dtype)0;
}

int64_t seqk_tensor_numel(const seqk_tensor *t) { return t ? t->numel : -1; }

size_t seqk_tensor_bytes(const seqk_tensor *t) { return t ? t->bytes : 0; }

const void *seqk__tensor_host(const seqk_tensor *t, void **tmp)
{
    *tmp = NULL;
    if (t->ctx->dev) {
        void *buf = malloc(t->bytes ? t->bytes : 1);
        if (!buf) {
            seqk__error(t->ctx, SEQK_ERR_OUT_OF_MEMORY,
                        "out of memory for a host copy of %zu bytes",
                        t->bytes);
            return NULL;
        }
        if (t->ctx->dev->read(t->ctx, buf, t->data, t->bytes) != SEQK_OK) {
            free(buf);
            return NULL;
        }
        *tmp = buf;
        return buf;
    }
    return t->data;
}

int seqk__tensor_guard_intact(const seqk_tensor *t)
{
    /* a view: the guard after its owner's memory; wrapped host memory has
     * none */
    if (t->base)
        t = t->base;
    if (t->foreign)
        return 1;
    if (t->ctx->dev) {
        unsigned char g[SEQK_TENSOR_GUARD_BYTES];
        if (t->ctx->dev->read(t->ctx, g, (const char *)t->data + t->bytes,
                              sizeof g) != SEQK_OK)
            return 0;
        for (int i = 0; i < SEQK_TENSOR_GUARD_BYTES; i++)
            if (g[i] != SEQK_TENSOR_GUARD_BYTE)
                return 0;
        return 1;
    }
    const unsigned char *g = (const unsigned char *)t->data + t->bytes;
    for (int i = 0; i < SEQK_TENSOR_GUARD_BYTES; i++)
        if (g[i] != SEQK_TENSOR_GUARD_BYTE)
            return 0;
    return 1;
}
