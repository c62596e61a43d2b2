/*
 * oclgrind-shadow.c — LD_PRELOAD shim for scripts/oclgrind.sh.
 *
 * Works around a bug in Oclgrind 21.10's --uninitialized plugin
 * (src/plugins/Uninitialized.cpp): on every host-side store into a
 * buffer (clEnqueueWriteBuffer, each pattern of clEnqueueFillBuffer,
 * clEnqueueCopyBuffer, each row of the *Rect commands) hostMemoryStore()
 * calls ShadowMemory::allocate(address, size), which throws away the
 * buffer's whole shadow and puts a new one of just `size` bytes in its
 * place; the "clean" store into it is then skipped whenever the store's
 * offset is not 0.  Afterwards every load past that size reads as
 * uninitialized and every kernel store past it is dropped, so a value one
 * kernel writes is "uninitialized" when the next kernel reads it.  Only a
 * host store of a whole buffer at offset 0 leaves a correct shadow.
 *
 * So after each such command this shim reads the whole buffer back and
 * writes it again in one piece: same bytes, and a full-size clean shadow.
 * Marking every byte of the buffer initialized is exact for seqk, whose
 * tensors are filled (zeros, then guard bytes) when allocated.  Kernels
 * are not touched: their stores keep the shadow they compute.
 *
 * Built and preloaded (in front of liboclgrind-rt.so) by
 * scripts/oclgrind.sh; cl* calls go to the next definition (Oclgrind's).
 */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef cl_int (*write_fn)(cl_command_queue, cl_mem, cl_bool, size_t, size_t,
                           const void *, cl_uint, const cl_event *,
                           cl_event *);
typedef cl_int (*read_fn)(cl_command_queue, cl_mem, cl_bool, size_t, size_t,
                          void *, cl_uint, const cl_event *, cl_event *);
typedef cl_int (*write_rect_fn)(cl_command_queue, cl_mem, cl_bool,
                                const size_t *, const size_t *,
                                const size_t *, size_t, size_t, size_t,
                                size_t, const void *, cl_uint,
                                const cl_event *, cl_event *);
typedef cl_int (*fill_fn)(cl_command_queue, cl_mem, const void *, size_t,
                          size_t, size_t, cl_uint, const cl_event *,
                          cl_event *);
typedef cl_int (*copy_fn)(cl_command_queue, cl_mem, cl_mem, size_t, size_t,
                          size_t, cl_uint, const cl_event *, cl_event *);
typedef cl_int (*copy_rect_fn)(cl_command_queue, cl_mem, cl_mem,
                               const size_t *, const size_t *,
                               const size_t *, size_t, size_t, size_t,
                               size_t, cl_uint, const cl_event *,
                               cl_event *);

/* The next definition of `name` (Oclgrind's); exits if there is none. */
static void *next(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        fprintf(stderr, "oclgrind-shadow: no next definition of %s\n", name);
        exit(70);
    }
    return f;
}

static read_fn real_read(void)
{
    static read_fn f;
    if (!f)
        f = (read_fn)next("clEnqueueReadBuffer");
    return f;
}

static write_fn real_write(void)
{
    static write_fn f;
    if (!f)
        f = (write_fn)next("clEnqueueWriteBuffer");
    return f;
}

static size_t mem_size(cl_mem mem)
{
    size_t size = 0;
    if (clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof size, &size, NULL))
        return 0;
    return size;
}

/* mem's root buffer (sub-buffers share their parent's shadow). */
static cl_mem root(cl_mem mem)
{
    cl_mem parent = NULL;
    if (clGetMemObjectInfo(mem, CL_MEM_ASSOCIATED_MEMOBJECT, sizeof parent,
                           &parent, NULL) == CL_SUCCESS && parent)
        return parent;
    return mem;
}

/* Did a store of [offset, offset + size) cover all of mem in one piece? */
static int whole(cl_mem mem, size_t offset, size_t size)
{
    return root(mem) == mem && offset == 0 && size == mem_size(mem);
}

/* After `done`: rewrite mem's whole root buffer with its own contents. */
static void refresh(cl_command_queue q, cl_mem mem, cl_event done)
{
    cl_mem r = root(mem);
    size_t size = mem_size(r);
    void *tmp = size ? malloc(size) : NULL;
    cl_int err = CL_SUCCESS;
    if (!tmp) {
        fprintf(stderr, "oclgrind-shadow: cannot refresh a buffer of %zu "
                        "bytes\n", size);
        return;
    }
    err = real_read()(q, r, CL_TRUE, 0, size, tmp, done ? 1 : 0,
                      done ? &done : NULL, NULL);
    if (!err)
        err = real_write()(q, r, CL_TRUE, 0, size, tmp, 0, NULL, NULL);
    if (err)
        fprintf(stderr, "oclgrind-shadow: refresh failed (error %d)\n", err);
    free(tmp);
}

/* The event to wait for: the caller's, or a local one released later. */
static cl_event *event_out(cl_event *caller, cl_event *local)
{
    *local = NULL;
    return caller ? caller : local;
}

static void finish(cl_command_queue q, cl_mem mem, cl_int err,
                   cl_event *caller, cl_event local)
{
    if (err == CL_SUCCESS)
        refresh(q, mem, caller ? *caller : local);
    if (local)
        clReleaseEvent(local);
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueWriteBuffer(cl_command_queue q, cl_mem mem, cl_bool blocking,
                     size_t offset, size_t size, const void *ptr, cl_uint n,
                     const cl_event *wait, cl_event *ev)
{
    if (whole(mem, offset, size))
        return real_write()(q, mem, blocking, offset, size, ptr, n, wait, ev);
    cl_event local;
    cl_event *out = event_out(ev, &local);
    cl_int err = real_write()(q, mem, blocking, offset, size, ptr, n, wait,
                              out);
    finish(q, mem, err, ev, local);
    return err;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueWriteBufferRect(cl_command_queue q, cl_mem mem, cl_bool blocking,
                         const size_t *buffer_origin,
                         const size_t *host_origin, const size_t *region,
                         size_t buffer_row_pitch, size_t buffer_slice_pitch,
                         size_t host_row_pitch, size_t host_slice_pitch,
                         const void *ptr, cl_uint n, const cl_event *wait,
                         cl_event *ev)
{
    static write_rect_fn f;
    if (!f)
        f = (write_rect_fn)next("clEnqueueWriteBufferRect");
    cl_event local;
    cl_event *out = event_out(ev, &local);
    cl_int err = f(q, mem, blocking, buffer_origin, host_origin, region,
                   buffer_row_pitch, buffer_slice_pitch, host_row_pitch,
                   host_slice_pitch, ptr, n, wait, out);
    finish(q, mem, err, ev, local);
    return err;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueFillBuffer(cl_command_queue q, cl_mem mem, const void *pattern,
                    size_t pattern_size, size_t offset, size_t size,
                    cl_uint n, const cl_event *wait, cl_event *ev)
{
    static fill_fn f;
    if (!f)
        f = (fill_fn)next("clEnqueueFillBuffer");
    /* Oclgrind stores the pattern once per repetition: never whole
     * unless there is one repetition. */
    if (pattern_size == size && whole(mem, offset, size))
        return f(q, mem, pattern, pattern_size, offset, size, n, wait, ev);
    cl_event local;
    cl_event *out = event_out(ev, &local);
    cl_int err = f(q, mem, pattern, pattern_size, offset, size, n, wait, out);
    finish(q, mem, err, ev, local);
    return err;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueCopyBuffer(cl_command_queue q, cl_mem src, cl_mem dst,
                    size_t src_offset, size_t dst_offset, size_t size,
                    cl_uint n, const cl_event *wait, cl_event *ev)
{
    static copy_fn f;
    if (!f)
        f = (copy_fn)next("clEnqueueCopyBuffer");
    if (whole(dst, dst_offset, size))
        return f(q, src, dst, src_offset, dst_offset, size, n, wait, ev);
    cl_event local;
    cl_event *out = event_out(ev, &local);
    cl_int err = f(q, src, dst, src_offset, dst_offset, size, n, wait, out);
    finish(q, dst, err, ev, local);
    return err;
}

CL_API_ENTRY cl_int CL_API_CALL
clEnqueueCopyBufferRect(cl_command_queue q, cl_mem src, cl_mem dst,
                        const size_t *src_origin, const size_t *dst_origin,
                        const size_t *region, size_t src_row_pitch,
                        size_t src_slice_pitch, size_t dst_row_pitch,
                        size_t dst_slice_pitch, cl_uint n,
                        const cl_event *wait, cl_event *ev)
{
    static copy_rect_fn f;
    if (!f)
        f = (copy_rect_fn)next("clEnqueueCopyBufferRect");
    cl_event local;
    cl_event *out = event_out(ev, &local);
    cl_int err = f(q, src, dst, src_origin, dst_origin, region,
                   src_row_pitch, src_slice_pitch, dst_row_pitch,
                   dst_slice_pitch, n, wait, out);
    finish(q, dst, err, ev, local);
    return err;
}
