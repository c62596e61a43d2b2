/*
 * cl_memory.c — device tensors and pointer translation.
 *
 * A device tensor's data pointer is a reserved PROT_NONE host range (so a
 * stray host access faults instead of reading garbage); the buffer behind
 * it has the same size: data, then SEQK_TENSOR_GUARD_BYTES guard bytes.
 * The context keeps the ranges sorted by base; translation is a binary
 * search.
 */
/* MAP_ANONYMOUS and MAP_NORESERVE are not POSIX. */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "opencl/cl_internal.h"

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

/* Index of the last range with base <= p, or -1. */
static long last_at_or_below(const seqk_cl_state *s, uintptr_t p)
{
    long lo = 0, hi = (long)s->num_ranges - 1, best = -1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (s->ranges[mid].base <= p) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return best;
}

const seqk_cl_range *seqk__cl_find_range(const seqk_cl_state *s,
                                        const void *ptr)
{
    uintptr_t p = (uintptr_t)ptr;
    long i = last_at_or_below(s, p);
    if (i < 0 || p > s->ranges[i].base + s->ranges[i].size)
        return NULL;
    return &s->ranges[i];
}

seqk_status seqk__cl_translate(seqk_context *ctx, const void *ptr,
                              size_t elem_size, cl_mem *mem,
                              size_t *elem_offset)
{
    *mem = NULL;
    *elem_offset = 0;
    if (!ptr)
        return SEQK_OK;
    const seqk_cl_range *r = seqk__cl_find_range(seqk_cl_st(ctx), ptr);
    if (!r)
        return seqk__error(ctx, SEQK_ERR_INTERNAL,
                           "OpenCL: pointer %p is not inside a tensor of "
                           "this context", ptr);
    size_t off = (size_t)((uintptr_t)ptr - r->base);
    if (elem_size == 0 || off % elem_size)
        return seqk__error(ctx, SEQK_ERR_INTERNAL,
                           "OpenCL: pointer %p is %zu bytes into its tensor, "
                           "not a multiple of the element size %zu", ptr,
                           off, elem_size);
    *mem = r->mem;
    *elem_offset = off / elem_size;
    return SEQK_OK;
}

/* Range, byte offset of [dev, dev + bytes), checked to lie in one tensor. */
static seqk_status locate(seqk_context *ctx, const void *dev, size_t bytes,
                          const char *what, const seqk_cl_range **r,
                          size_t *off)
{
    *r = seqk__cl_find_range(seqk_cl_st(ctx), dev);
    if (!*r)
        return seqk__error(ctx, SEQK_ERR_INTERNAL,
                           "OpenCL %s: pointer %p is not inside a tensor of "
                           "this context", what, dev);
    *off = (size_t)((uintptr_t)dev - (*r)->base);
    if (bytes > (*r)->size - *off)
        return seqk__error(ctx, SEQK_ERR_INTERNAL,
                           "OpenCL %s: %zu bytes at offset %zu run past the "
                           "tensor's %zu bytes", what, bytes, *off,
                           (*r)->size);
    return SEQK_OK;
}

seqk_status seqk__cl_write(seqk_context *ctx, void *dev, const void *host,
                          size_t bytes)
{
    const seqk_cl_range *r = NULL;
    size_t off = 0;
    seqk_status st;
    if (bytes == 0)
        return SEQK_OK;
    if ((st = locate(ctx, dev, bytes, "write", &r, &off)))
        return st;
    seqk__cl_host_wait();
    cl_command_queue q = seqk_cl_st(ctx)->queue;
    return seqk__cl_check(ctx,
                         clEnqueueWriteBuffer(q, r->mem, CL_TRUE, off, bytes,
                                              host, 0, NULL, NULL),
                         "clEnqueueWriteBuffer");
}

seqk_status seqk__cl_read(seqk_context *ctx, void *host, const void *dev,
                         size_t bytes)
{
    const seqk_cl_range *r = NULL;
    size_t off = 0;
    seqk_status st;
    if (bytes == 0)
        return SEQK_OK;
    if ((st = locate(ctx, dev, bytes, "read", &r, &off)))
        return st;
    seqk__cl_host_wait();
    /* The host waits here anyway: report device-side checks first. */
    if ((st = seqk__cl_checks_drain(ctx)))
        return st;
    cl_command_queue q = seqk_cl_st(ctx)->queue;
    return seqk__cl_check(ctx,
                         clEnqueueReadBuffer(q, r->mem, CL_TRUE, off, bytes,
                                             host, 0, NULL, NULL),
                         "clEnqueueReadBuffer");
}

seqk_status seqk__cl_copy(seqk_context *ctx, void *dst_dev,
                         const void *src_dev, size_t bytes)
{
    const seqk_cl_range *rd = NULL, *rs = NULL;
    size_t od = 0, os = 0;
    seqk_status st;
    if (bytes == 0)
        return SEQK_OK;
    if ((st = locate(ctx, dst_dev, bytes, "copy", &rd, &od)) ||
        (st = locate(ctx, src_dev, bytes, "copy", &rs, &os)))
        return st;
    cl_command_queue q = seqk_cl_st(ctx)->queue;
    return seqk__cl_check(ctx,
                         clEnqueueCopyBuffer(q, rs->mem, rd->mem, os, od,
                                             bytes, 0, NULL, NULL),
                         "clEnqueueCopyBuffer");
}

seqk_status seqk__cl_alloc(seqk_context *ctx, size_t bytes, void **range)
{
    seqk_cl_state *s = seqk_cl_st(ctx);
    size_t size = bytes + SEQK_TENSOR_GUARD_BYTES;
    cl_int err = CL_SUCCESS;
    seqk_status st;
    *range = NULL;
    if (s->num_ranges == s->cap_ranges) {
        size_t cap = s->cap_ranges ? 2 * s->cap_ranges : 64;
        seqk_cl_range *n = realloc(s->ranges, cap * sizeof *n);
        if (!n)
            return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                               "OpenCL: out of memory for the tensor table");
        s->ranges = n;
        s->cap_ranges = cap;
    }
    if ((cl_ulong)size > s->facts.max_alloc_size)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "OpenCL: a tensor of %zu bytes exceeds the "
                           "device's CL_DEVICE_MAX_MEM_ALLOC_SIZE (%llu)",
                           bytes, (unsigned long long)s->facts.max_alloc_size);
    void *base = mmap(NULL, size, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "OpenCL: cannot reserve %zu bytes of address "
                           "space for a tensor", size);
    cl_mem mem = clCreateBuffer(s->context, CL_MEM_READ_WRITE, size, NULL,
                                &err);
    if ((st = seqk__cl_check(ctx, err, "clCreateBuffer"))) {
        munmap(base, size);
        return st;
    }
    /* Zero data (tensors start zeroed on every backend), then the guard
     * pattern: tests read it back to catch kernels writing past outputs. */
    static const float zero = 0.0f;
    static const unsigned char guard_byte = SEQK_TENSOR_GUARD_BYTE;
    if (bytes)
        err = clEnqueueFillBuffer(s->queue, mem, &zero, sizeof zero, 0,
                                  bytes - bytes % sizeof zero, 0, NULL, NULL);
    if (!err && bytes % sizeof zero) {
        unsigned char z[4] = {0};
        err = clEnqueueWriteBuffer(s->queue, mem, CL_TRUE,
                                   bytes - bytes % sizeof zero,
                                   bytes % sizeof zero, z, 0, NULL, NULL);
    }
    if (!err)
        err = clEnqueueFillBuffer(s->queue, mem, &guard_byte, 1, bytes,
                                  SEQK_TENSOR_GUARD_BYTES, 0, NULL, NULL);
    if ((st = seqk__cl_check(ctx, err, "clEnqueueFillBuffer"))) {
        clReleaseMemObject(mem);
        munmap(base, size);
        return st;
    }
    uintptr_t b = (uintptr_t)base;
    long i = last_at_or_below(s, b) + 1;
    memmove(&s->ranges[i + 1], &s->ranges[i],
            (s->num_ranges - (size_t)i) * sizeof *s->ranges);
    s->ranges[i] = (seqk_cl_range){.base = b, .size = size, .mem = mem};
    s->num_ranges++;
    *range = base;
    return SEQK_OK;
}

void seqk__cl_free(seqk_context *ctx, void *range)
{
    seqk_cl_state *s = seqk__cl_state_of(ctx);
    if (!s || !range)
        return;
    /* range is the tensor's data: the range base, or inside it for a
     * wrapped buffer with an offset (cl_interop.c) */
    long i = last_at_or_below(s, (uintptr_t)range);
    if (i < 0 || (uintptr_t)range > s->ranges[i].base + s->ranges[i].size)
        return;
    clReleaseMemObject(s->ranges[i].mem);
    munmap((void *)s->ranges[i].base, s->ranges[i].size);
    memmove(&s->ranges[i], &s->ranges[i + 1],
            (s->num_ranges - (size_t)i - 1) * sizeof *s->ranges);
    s->num_ranges--;
}

void seqk__cl_memory_release(seqk_cl_state *s)
{
    for (size_t i = 0; i < s->num_ranges; i++) {
        clReleaseMemObject(s->ranges[i].mem);
        munmap((void *)s->ranges[i].base, s->ranges[i].size);
    }
    free(s->ranges);
    s->ranges = NULL;
    s->num_ranges = s->cap_ranges = 0;
}
