/*
 * cl_interop.c — include/seqk_opencl.h: contexts on a caller's cl_context
 * and queue, tensors over a caller's cl_mem.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "opencl/cl_internal.h"
#include "seqk_opencl.h"

seqk_status seqk_opencl_context_create(cl_context clctx,
                                       cl_command_queue queue,
                                       const seqk_options *opts,
                                       seqk_context **out)
{
    seqk_options o;
    seqk_status st;
    if (!out || !clctx || !queue)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_opencl_context_create: NULL argument");
    *out = NULL;
    seqk_options_init(&o);
    if (opts)
        o.threads = opts->threads;
    o.device = "opencl";
    seqk_context *ctx = NULL;
    if ((st = seqk_context_create(&o, &ctx)))
        return st;
    /* Replace the default device's state with the caller's objects. */
    seqk__cl_close(ctx);
    if ((st = seqk__cl_open_shared(ctx, clctx, queue))) {
        seqk__error(NULL, st, "%s", ctx->error);
        seqk_context_destroy(ctx);
        return st;
    }
    snprintf(ctx->device, sizeof ctx->device, "opencl:shared");
    *out = ctx;
    return SEQK_OK;
}

seqk_status seqk_opencl_tensor_wrap(seqk_context *ctx, cl_mem buf,
                                    size_t offset, int ndim,
                                    const int64_t *dims, seqk_dtype dtype,
                                    seqk_tensor **out)
{
    if (!seqk__cl_state_of(ctx) || !buf || !out || ndim < 0 ||
        ndim > SEQK_MAX_DIMS || (ndim > 0 && !dims))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_opencl_tensor_wrap: NULL argument, bad "
                           "ndim, or a context not on an OpenCL device");
    *out = NULL;
    size_t esize = seqk_dtype_size(dtype);
    int64_t numel = 0;
    if (esize == 0 || dtype == SEQK_BF16 || seqk__numel(ndim, dims, &numel) || offset % esize)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_opencl_tensor_wrap: bad dtype, dims or "
                           "offset %zu", offset);
    size_t size = 0;
    seqk_status st = seqk__cl_check(
        ctx, clGetMemObjectInfo(buf, CL_MEM_SIZE, sizeof size, &size, NULL),
        "clGetMemObjectInfo(CL_MEM_SIZE)");
    if (st)
        return st;
    size_t bytes = (size_t)numel * esize;
    if (offset > size || bytes > size - offset)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "seqk_opencl_tensor_wrap: %zu bytes at offset %zu "
                           "do not fit the buffer's %zu", bytes, offset, size);
    seqk_cl_state *s = seqk_cl_st(ctx);
    if (s->num_ranges == s->cap_ranges) {
        size_t cap = s->cap_ranges ? 2 * s->cap_ranges : 64;
        seqk_cl_range *n = realloc(s->ranges, cap * sizeof *n);
        if (!n)
            return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY, "out of memory");
        s->ranges = n;
        s->cap_ranges = cap;
    }
    seqk_tensor *t = calloc(1, sizeof *t);
    void *base = mmap(NULL, size ? size : 1, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!t || base == MAP_FAILED) {
        free(t);
        if (base != MAP_FAILED)
            munmap(base, size ? size : 1);
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "seqk_opencl_tensor_wrap: out of memory");
    }
    if ((st = seqk__cl_check(ctx, clRetainMemObject(buf),
                            "clRetainMemObject"))) {
        free(t);
        munmap(base, size ? size : 1);
        return st;
    }
    size_t i = 0;
    while (i < s->num_ranges && s->ranges[i].base < (uintptr_t)base)
        i++;
    for (size_t j = s->num_ranges; j > i; j--)
        s->ranges[j] = s->ranges[j - 1];
    s->ranges[i] = (seqk_cl_range){.base = (uintptr_t)base,
                                   .size = size ? size : 1, .mem = buf};
    s->num_ranges++;
    t->ctx = ctx;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        t->dims[d] = dims[d];
    t->dtype = dtype;
    t->numel = numel;
    t->bytes = bytes;
    t->data = (char *)base + offset;
    seqk__context_retain(ctx);
    *out = t;
    return SEQK_OK;
}

seqk_status seqk_opencl_tensor_buffer(const seqk_tensor *t, cl_mem *buf,
                                      size_t *offset)
{
    if (!t || !buf || !offset || !seqk__cl_state_of(t->ctx))
        return seqk__error(t ? t->ctx : NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_opencl_tensor_buffer: NULL argument or not "
                           "an OpenCL tensor");
    const seqk_cl_range *r = seqk__cl_find_range(seqk_cl_st(t->ctx),
                                                t->data);
    if (!r)
        return seqk__error(t->ctx, SEQK_ERR_INTERNAL,
                           "seqk_opencl_tensor_buffer: unknown tensor");
    *buf = r->mem;
    *offset = (size_t)((uintptr_t)t->data - r->base);
    return SEQK_OK;
}

cl_command_queue seqk_opencl_queue(const seqk_context *ctx)
{
    seqk_cl_state *s = seqk__cl_state_of(ctx);
    return s ? s->queue : NULL;
}
