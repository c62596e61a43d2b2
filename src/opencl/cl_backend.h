/*
 * cl_backend.h — host side of the OpenCL backend: the per-context device
 * state, programs built from the kernels/<name>.cl sources (embedded at build
 * time, or read from $SEQK_KERNEL_DIR), pointer translation and checked
 * kernel launches.  Op drivers (cl_softmax.c, cl_gemm.c, ...) use only this.
 *
 * Memory model: a device tensor's t->data is a reserved PROT_NONE host
 * address range, never dereferenced.  Problem structs carry such pointers
 * (tensor->data + offsets); seqk__cl_translate() maps them to (cl_mem,
 * element offset).  Kernels take (buffer, element offset, strides) — never
 * sub-buffers.
 *
 * Every call here checks every OpenCL call; on failure it records a
 * message naming the CL call and error (e.g. "clEnqueueNDRangeKernel
 * (seqk_f32_softmax_rows): CL_OUT_OF_RESOURCES") in seqk_last_error(ctx)
 * and returns the translated status.  One context = one in-order queue, used
 * from one thread at a time (like every seqk context).
 */
#ifndef SEQK_OPENCL_CL_BACKEND_H
#define SEQK_OPENCL_CL_BACKEND_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stddef.h>

#include "core/internal.h"

/* Device facts, read once when the context opens the device. */
typedef struct seqk_cl_device_facts {
    char name[128], vendor[128], driver_version[64], version[256];
    cl_uint compute_units;
    size_t max_work_group_size;
    size_t max_work_item_sizes[3];
    cl_ulong local_mem_size;
    cl_ulong global_mem_size;
    cl_ulong max_alloc_size;
    cl_uint mem_base_addr_align;   /* bits, as CL reports it */
    int fp16;                      /* cl_khr_fp16 */
    /* For tuning limits and fingerprints only, so a failed query is kept
     * (type_err, platform_err) rather than failing the open: */
    int is_gpu;                    /* CL_DEVICE_TYPE_GPU */
    char platform_version[256];    /* CL_PLATFORM_VERSION */
    cl_int type_err, platform_err;
} seqk_cl_device_facts;

typedef struct seqk_cl_state seqk_cl_state; /* opaque, one per context */

/* ---- device ---------------------------------------------------------- */

/* Opens OpenCL device (platform, device) for ctx: creates its cl_context
 * and in-order queue and stores the state in ctx->dev_state.
 * SEQK_ERR_NO_DEVICE when there is no such device. */
seqk_status seqk__cl_open(seqk_context *ctx, int platform, int device);
/* Wraps a caller's context/queue (seqk_opencl.h); nothing is released at
 * close except our own references (retained here). */
seqk_status seqk__cl_open_shared(seqk_context *ctx, cl_context clctx,
                                cl_command_queue queue);
/* Releases programs, kernels, queue and context (ctx->dev_state becomes
 * NULL). */
void seqk__cl_close(seqk_context *ctx);

/* ctx's state, or NULL when ctx is not an OpenCL context. */
seqk_cl_state *seqk__cl_state_of(const seqk_context *ctx);
const seqk_cl_device_facts *seqk__cl_facts(const seqk_context *ctx);
cl_command_queue seqk__cl_queue(const seqk_context *ctx);
cl_device_id seqk__cl_device(const seqk_context *ctx);

/* Reads facts for a device without opening a context (`seqk info`). */
seqk_status seqk__cl_query_facts(cl_device_id dev, seqk_cl_device_facts *out);

/* ---- errors ---------------------------------------------------------- */

/* "CL_OUT_OF_RESOURCES", ... ("CL_ERROR_<n>" for unknown codes; the
 * string is static unless unknown, then thread-local). */
const char *seqk__cl_error_name(cl_int err);
/* CL_OUT_OF_HOST_MEMORY / CL_MEM_OBJECT_ALLOCATION_FAILURE ->
 * SEQK_ERR_OUT_OF_MEMORY, CL_INVALID_VALUE / CL_INVALID_ARG_* ->
 * SEQK_ERR_INTERNAL (our bug), everything else -> SEQK_ERR_DEVICE. */
seqk_status seqk__cl_status(cl_int err);
/* SEQK_OK for CL_SUCCESS; else records "<what>: <CL name> (<code>)" in ctx
 * and returns seqk__cl_status(err).  Use: st = seqk__cl_check(ctx, err,
 * "clSetKernelArg(seqk_f32_softmax_rows, 2)"); */
seqk_status seqk__cl_check(seqk_context *ctx, cl_int err, const char *what);

/* ---- programs and kernels -------------------------------------------- */

/* The kernel `kernel_name` from program source `source` ("softmax" means
 * kernels/softmax.cl, or $SEQK_KERNEL_DIR/softmax.cl) built with `options`
 * ("-D MWG=64 -D NWG=64", may be NULL or "").  Programs are cached in
 * memory per (source, options) for the context's device, and on disk as
 * binaries (see cl_program.c); a corrupt disk entry is rebuilt.  A build
 * failure returns SEQK_ERR_DEVICE with the build log in seqk_last_error.
 * The cl_kernel belongs to the cache (do not release it); it stays valid
 * until the context is destroyed.  Set all its arguments before each
 * enqueue (kernels are shared between calls, not between threads). */
seqk_status seqk__cl_kernel(seqk_context *ctx, const char *source,
                           const char *options, const char *kernel_name,
                           cl_kernel *out);

/* Process-wide counters of the program caches (tests, SEQK_VERBOSE):
 * programs loaded from disk, built from source, disk entries rejected. */
void seqk__cl_cache_stats(int *disk_hits, int *builds, int *disk_rejects);

/* The embedded source of kernels/<name>.cl (NULL if none). */
const char *seqk__cl_embedded_source(const char *name);

/* Largest work-group size usable for k on this device:
 * min(CL_DEVICE_MAX_WORK_GROUP_SIZE, CL_KERNEL_WORK_GROUP_SIZE). */
size_t seqk__cl_kernel_max_wg(seqk_context *ctx, cl_kernel k);
/* Local memory of the device in bytes (for tile sizes). */
cl_ulong seqk__cl_local_mem(const seqk_context *ctx);
/* CL_DEVICE_TYPE_GPU (0 when the query failed). */
int seqk__cl_is_gpu(const seqk_context *ctx);

/* ---- memory ---------------------------------------------------------- */

/* Maps a pointer inside (or one past) a device tensor's reserved range to
 * its buffer and the offset in elements of elem_size bytes.  NULL ptr
 * gives *mem = NULL, *elem_offset = 0 and SEQK_OK (optional inputs).
 * SEQK_ERR_INTERNAL when ptr is not in any range or not element-aligned. */
seqk_status seqk__cl_translate(seqk_context *ctx, const void *ptr,
                              size_t elem_size, cl_mem *mem,
                              size_t *elem_offset);

/* Host <-> device copies of `bytes` at device pointer dev (inside a
 * tensor range).  read is blocking; write is blocking too (host memory may
 * go away).  copy is device-to-device, enqueued (in-order queue). */
seqk_status seqk__cl_write(seqk_context *ctx, void *dev, const void *host,
                          size_t bytes);
seqk_status seqk__cl_read(seqk_context *ctx, void *host, const void *dev,
                         size_t bytes);
seqk_status seqk__cl_copy(seqk_context *ctx, void *dst_dev,
                         const void *src_dev, size_t bytes);

/* Tensor memory (tensor.c): reserves a PROT_NONE range of bytes + guard,
 * creates a buffer of the same size, zeroes the data and writes the guard
 * pattern after it; *range is the tensor's data pointer. */
seqk_status seqk__cl_alloc(seqk_context *ctx, size_t bytes, void **range);
void seqk__cl_free(seqk_context *ctx, void *range);

/* ---- launching ------------------------------------------------------- */

/* Sets argument i of k (checked; `name` for the message). */
seqk_status seqk__cl_arg(seqk_context *ctx, cl_kernel k, const char *name,
                        cl_uint i, size_t size, const void *value);
/* Sets a buffer argument and the following cl_long offset argument from a
 * device pointer: args i (cl_mem) and i + 1 (long, in floats). */
seqk_status seqk__cl_arg_ptr(seqk_context *ctx, cl_kernel k, const char *name,
                            cl_uint i, const void *dev_ptr);

/* Enqueues k over global[dims] with local[dims] (NULL: implementation
 * picks).  Validates local against the device (max work-group size, max
 * work-item sizes) and the kernel (CL_KERNEL_WORK_GROUP_SIZE), and that
 * each global is a multiple of local (OpenCL 1.2); SEQK_ERR_INTERNAL with
 * a message otherwise.  Logs the launch under SEQK_VERBOSE=dispatch. */
seqk_status seqk__cl_enqueue(seqk_context *ctx, cl_kernel k, const char *name,
                            cl_uint dims, const size_t *global,
                            const size_t *local);
/* Waits, then the device milliseconds of the kernels launched since the
 * last call (SEQK_ERR_UNSUPPORTED when the queue does not profile). */
seqk_status seqk__cl_device_time(seqk_context *ctx, double *ms);
/* clFinish on the context's queue (checked). */
seqk_status seqk__cl_finish(seqk_context *ctx);
/* Process-wide count of host waits for a device (seqk__cl_finish, blocking
 * reads and writes), so tests and logs can show that a loop enqueues
 * without waiting.  seqk__cl_host_wait() counts one. */
unsigned long seqk__cl_host_waits(void);
void seqk__cl_host_wait(void);

/* Rounds n up to a multiple of m (m > 0). */
static inline size_t seqk_cl_round_up(size_t n, size_t m)
{
    return (n + m - 1) / m * m;
}

/* The backend (backend_opencl.c) and the device table core/ and tune/
 * use (cl_device_iface.c; core/device.h). */
extern const seqk_backend seqk__backend_opencl;
extern const seqk_device_iface seqk__device_opencl;

/* The kernels' embedded or $SEQK_KERNEL_DIR source text (malloc'd), as
 * seqk__cl_kernel() would build it; NULL if none (cl_program.c). */
char *seqk__cl_source_text(const char *name);
/* OpenCL devices seen through the ICD loader (cl_probe.c): the device
 * table's probe. */
int seqk__cl_probe(seqk_device_desc *out, int max, char *why,
                  size_t why_len);

#endif /* SEQK_OPENCL_CL_BACKEND_H */
