/*
 * seqk_opencl.h — sharing OpenCL objects with seqk (optional; only in
 * builds with OpenCL).  A framework that already has a cl_context, an
 * in-order cl_command_queue and cl_mem buffers wraps them, so that seqk
 * ops read and write its buffers without copies and run on its queue.
 *
 *   seqk_context *ctx;
 *   seqk_opencl_context_create(my_ctx, my_queue, NULL, &ctx);
 *   seqk_tensor *x;
 *   seqk_opencl_tensor_wrap(ctx, my_buf, 0, 2, dims, SEQK_F32, &x);
 *   seqk_softmax(ctx, -1, x, y);      enqueued on my_queue
 *
 * seqk retains what it wraps and releases it when the tensor / context
 * is destroyed.  Calls enqueue work and return without waiting (reads of
 * results through seqk_tensor_read block); order against your own work
 * comes from the shared in-order queue.
 */
#ifndef SEQK_OPENCL_H
#define SEQK_OPENCL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "seqk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A context on queue's device that runs on queue (which must be in-order
 * and belong to clctx).  opts may be NULL; its device field is ignored. */
SEQK_API seqk_status seqk_opencl_context_create(cl_context clctx,
                                       cl_command_queue queue,
                                       const seqk_options *opts,
                                       seqk_context **ctx);

/* A tensor over bytes [offset, offset + size) of buf, which must belong
 * to the context's cl_context.  offset is a multiple of the element size.
 * Wrapped tensors have no guard bytes after their data. */
SEQK_API seqk_status seqk_opencl_tensor_wrap(seqk_context *ctx, cl_mem buf,
                                    size_t offset, int ndim,
                                    const int64_t *dims, seqk_dtype dtype,
                                    seqk_tensor **tensor);

/* The buffer and byte offset behind a tensor of an OpenCL context. */
SEQK_API seqk_status seqk_opencl_tensor_buffer(const seqk_tensor *tensor, cl_mem *buf,
                                      size_t *offset);

/* The context's queue (NULL when ctx is not on an OpenCL device). */
SEQK_API cl_command_queue seqk_opencl_queue(const seqk_context *ctx);

#ifdef __cplusplus
}
#endif

#endif /* SEQK_OPENCL_H */
