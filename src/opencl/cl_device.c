/*
 * cl_device.c — opening an OpenCL device for a context (cl_context plus an
 * in-order queue), the device facts `seqk info` and the kernels' launch
 * code need, and translation of CL error codes into seqk statuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opencl/cl_internal.h"

const char *seqk__cl_error_name(cl_int err)
{
    switch (err) {
    case CL_SUCCESS: return "CL_SUCCESS";
    case CL_DEVICE_NOT_FOUND: return "CL_DEVICE_NOT_FOUND";
    case CL_DEVICE_NOT_AVAILABLE: return "CL_DEVICE_NOT_AVAILABLE";
    case CL_COMPILER_NOT_AVAILABLE: return "CL_COMPILER_NOT_AVAILABLE";
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
        return "CL_MEM_OBJECT_ALLOCATION_FAILURE";
    case CL_OUT_OF_RESOURCES: return "CL_OUT_OF_RESOURCES";
    case CL_OUT_OF_HOST_MEMORY: return "CL_OUT_OF_HOST_MEMORY";
    case CL_PROFILING_INFO_NOT_AVAILABLE:
        return "CL_PROFILING_INFO_NOT_AVAILABLE";
    case CL_MEM_COPY_OVERLAP: return "CL_MEM_COPY_OVERLAP";
    case CL_IMAGE_FORMAT_MISMATCH: return "CL_IMAGE_FORMAT_MISMATCH";
    case CL_IMAGE_FORMAT_NOT_SUPPORTED: return "CL_IMAGE_FORMAT_NOT_SUPPORTED";
    case CL_BUILD_PROGRAM_FAILURE: return "CL_BUILD_PROGRAM_FAILURE";
    case CL_MAP_FAILURE: return "CL_MAP_FAILURE";
    case CL_MISALIGNED_SUB_BUFFER_OFFSET:
        return "CL_MISALIGNED_SUB_BUFFER_OFFSET";
    case CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST:
        return "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST";
    case CL_COMPILE_PROGRAM_FAILURE: return "CL_COMPILE_PROGRAM_FAILURE";
    case CL_LINKER_NOT_AVAILABLE: return "CL_LINKER_NOT_AVAILABLE";
    case CL_LINK_PROGRAM_FAILURE: return "CL_LINK_PROGRAM_FAILURE";
    case CL_DEVICE_PARTITION_FAILED: return "CL_DEVICE_PARTITION_FAILED";
    case CL_KERNEL_ARG_INFO_NOT_AVAILABLE:
        return "CL_KERNEL_ARG_INFO_NOT_AVAILABLE";
    case CL_INVALID_VALUE: return "CL_INVALID_VALUE";
    case CL_INVALID_DEVICE_TYPE: return "CL_INVALID_DEVICE_TYPE";
    case CL_INVALID_PLATFORM: return "CL_INVALID_PLATFORM";
    case CL_INVALID_DEVICE: return "CL_INVALID_DEVICE";
    case CL_INVALID_CONTEXT: return "CL_INVALID_CONTEXT";
    case CL_INVALID_QUEUE_PROPERTIES: return "CL_INVALID_QUEUE_PROPERTIES";
    case CL_INVALID_COMMAND_QUEUE: return "CL_INVALID_COMMAND_QUEUE";
    case CL_INVALID_HOST_PTR: return "CL_INVALID_HOST_PTR";
    case CL_INVALID_MEM_OBJECT: return "CL_INVALID_MEM_OBJECT";
    case CL_INVALID_IMAGE_FORMAT_DESCRIPTOR:
        return "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR";
    case CL_INVALID_IMAGE_SIZE: return "CL_INVALID_IMAGE_SIZE";
    case CL_INVALID_SAMPLER: return "CL_INVALID_SAMPLER";
    case CL_INVALID_BINARY: return "CL_INVALID_BINARY";
    case CL_INVALID_BUILD_OPTIONS: return "CL_INVALID_BUILD_OPTIONS";
    case CL_INVALID_PROGRAM: return "CL_INVALID_PROGRAM";
    case CL_INVALID_PROGRAM_EXECUTABLE: return "CL_INVALID_PROGRAM_EXECUTABLE";
    case CL_INVALID_KERNEL_NAME: return "CL_INVALID_KERNEL_NAME";
    case CL_INVALID_KERNEL_DEFINITION: return "CL_INVALID_KERNEL_DEFINITION";
    case CL_INVALID_KERNEL: return "CL_INVALID_KERNEL";
    case CL_INVALID_ARG_INDEX: return "CL_INVALID_ARG_INDEX";
    case CL_INVALID_ARG_VALUE: return "CL_INVALID_ARG_VALUE";
    case CL_INVALID_ARG_SIZE: return "CL_INVALID_ARG_SIZE";
    case CL_INVALID_KERNEL_ARGS: return "CL_INVALID_KERNEL_ARGS";
    case CL_INVALID_WORK_DIMENSION: return "CL_INVALID_WORK_DIMENSION";
    case CL_INVALID_WORK_GROUP_SIZE: return "CL_INVALID_WORK_GROUP_SIZE";
    case CL_INVALID_WORK_ITEM_SIZE: return "CL_INVALID_WORK_ITEM_SIZE";
    case CL_INVALID_GLOBAL_OFFSET: return "CL_INVALID_GLOBAL_OFFSET";
    case CL_INVALID_EVENT_WAIT_LIST: return "CL_INVALID_EVENT_WAIT_LIST";
    case CL_INVALID_EVENT: return "CL_INVALID_EVENT";
    case CL_INVALID_OPERATION: return "CL_INVALID_OPERATION";
    case CL_INVALID_GL_OBJECT: return "CL_INVALID_GL_OBJECT";
    case CL_INVALID_BUFFER_SIZE: return "CL_INVALID_BUFFER_SIZE";
    case CL_INVALID_MIP_LEVEL: return "CL_INVALID_MIP_LEVEL";
    case CL_INVALID_GLOBAL_WORK_SIZE: return "CL_INVALID_GLOBAL_WORK_SIZE";
    case CL_INVALID_PROPERTY: return "CL_INVALID_PROPERTY";
    case CL_INVALID_IMAGE_DESCRIPTOR: return "CL_INVALID_IMAGE_DESCRIPTOR";
    case CL_INVALID_COMPILER_OPTIONS: return "CL_INVALID_COMPILER_OPTIONS";
    case CL_INVALID_LINKER_OPTIONS: return "CL_INVALID_LINKER_OPTIONS";
    case CL_INVALID_DEVICE_PARTITION_COUNT:
        return "CL_INVALID_DEVICE_PARTITION_COUNT";
    }
    static _Thread_local char unknown[32];
    snprintf(unknown, sizeof unknown, "CL_ERROR_%d", (int)err);
    return unknown;
}

seqk_status seqk__cl_status(cl_int err)
{
    switch (err) {
    case CL_SUCCESS:
        return SEQK_OK;
    case CL_OUT_OF_HOST_MEMORY:
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
        return SEQK_ERR_OUT_OF_MEMORY;
    case CL_INVALID_VALUE:
    case CL_INVALID_ARG_INDEX:
    case CL_INVALID_ARG_VALUE:
    case CL_INVALID_ARG_SIZE:
    case CL_INVALID_KERNEL_ARGS:
    case CL_INVALID_WORK_DIMENSION:
    case CL_INVALID_WORK_GROUP_SIZE:
    case CL_INVALID_WORK_ITEM_SIZE:
    case CL_INVALID_GLOBAL_WORK_SIZE:
    case CL_INVALID_KERNEL_NAME:
        return SEQK_ERR_INTERNAL;
    default:
        return SEQK_ERR_DEVICE;
    }
}

seqk_status seqk__cl_check(seqk_context *ctx, cl_int err, const char *what)
{
    if (err == CL_SUCCESS)
        return SEQK_OK;
    return seqk__error(ctx, seqk__cl_status(err), "OpenCL: %s: %s (%d)", what,
                       seqk__cl_error_name(err), (int)err);
}

static void info_string(cl_device_id dev, cl_device_info what, char *buf,
                        size_t len)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(dev, what, len - 1, buf, NULL) != CL_SUCCESS)
        buf[0] = '\0';
    buf[len - 1] = '\0';
}

seqk_status seqk__cl_query_facts(cl_device_id dev, seqk_cl_device_facts *f)
{
    memset(f, 0, sizeof *f);
    info_string(dev, CL_DEVICE_NAME, f->name, sizeof f->name);
    info_string(dev, CL_DEVICE_VENDOR, f->vendor, sizeof f->vendor);
    info_string(dev, CL_DRIVER_VERSION, f->driver_version,
                sizeof f->driver_version);
    info_string(dev, CL_DEVICE_VERSION, f->version, sizeof f->version);
    cl_int err = clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS,
                                 sizeof f->compute_units, &f->compute_units,
                                 NULL);
    if (!err)
        err = clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE,
                              sizeof f->max_work_group_size,
                              &f->max_work_group_size, NULL);
    if (!err)
        err = clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_ITEM_SIZES,
                              sizeof f->max_work_item_sizes,
                              f->max_work_item_sizes, NULL);
    if (!err)
        err = clGetDeviceInfo(dev, CL_DEVICE_LOCAL_MEM_SIZE,
                              sizeof f->local_mem_size, &f->local_mem_size,
                              NULL);
    if (!err)
        err = clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE,
                              sizeof f->global_mem_size, &f->global_mem_size,
                              NULL);
    if (!err)
        err = clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE,
                              sizeof f->max_alloc_size, &f->max_alloc_size,
                              NULL);
    if (!err)
        err = clGetDeviceInfo(dev, CL_DEVICE_MEM_BASE_ADDR_ALIGN,
                              sizeof f->mem_base_addr_align,
                              &f->mem_base_addr_align, NULL);
    if (err)
        return seqk__cl_status(err);
    char ext[4096];
    info_string(dev, CL_DEVICE_EXTENSIONS, ext, sizeof ext);
    f->fp16 = strstr(ext, "cl_khr_fp16") != NULL;
    cl_device_type type = 0;
    f->type_err = clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type,
                                  NULL);
    f->is_gpu = f->type_err == CL_SUCCESS && (type & CL_DEVICE_TYPE_GPU);
    cl_platform_id platform = NULL;
    f->platform_err = clGetDeviceInfo(dev, CL_DEVICE_PLATFORM,
                                      sizeof platform, &platform, NULL);
    if (f->platform_err == CL_SUCCESS)
        f->platform_err = clGetPlatformInfo(
            platform, CL_PLATFORM_VERSION, sizeof f->platform_version - 1,
            f->platform_version, NULL);
    if (f->platform_err != CL_SUCCESS)
        f->platform_version[0] = '\0';
    if (f->max_work_group_size == 0)
        f->max_work_group_size = 1;
    return SEQK_OK;
}

static seqk_status find_device(seqk_context *ctx, int platform, int device,
                               cl_platform_id *pid, cl_device_id *did)
{
    cl_platform_id platforms[8];
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(8, platforms, &np);
    if (err != CL_SUCCESS || np == 0)
        return seqk__error(ctx, SEQK_ERR_NO_DEVICE,
                           "OpenCL: clGetPlatformIDs found no platform: %s",
                           seqk__cl_error_name(err));
    if (platform < 0 || (cl_uint)platform >= np || platform >= 8)
        return seqk__error(ctx, SEQK_ERR_NO_DEVICE,
                           "OpenCL: no platform %d (found %u)", platform,
                           (unsigned)np);
    cl_device_id devs[32];
    cl_uint nd = 0;
    err = clGetDeviceIDs(platforms[platform], CL_DEVICE_TYPE_ALL, 32, devs,
                         &nd);
    if (err != CL_SUCCESS)
        return seqk__cl_check(ctx, err, "clGetDeviceIDs");
    if (device < 0 || (cl_uint)device >= nd || device >= 32)
        return seqk__error(ctx, SEQK_ERR_NO_DEVICE,
                           "OpenCL: platform %d has no device %d (found %u)",
                           platform, device, (unsigned)nd);
    *pid = platforms[platform];
    *did = devs[device];
    return SEQK_OK;
}

seqk_status seqk__cl_open(seqk_context *ctx, int platform, int device)
{
    seqk_status st;
    cl_int err = CL_SUCCESS;
    seqk_cl_state *s = calloc(1, sizeof *s);
    if (!s)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "OpenCL: out of memory for the device state");
    if ((st = find_device(ctx, platform, device, &s->platform, &s->device)))
        goto fail;
    if ((st = seqk__cl_query_facts(s->device, &s->facts))) {
        seqk__error(ctx, st, "OpenCL: cannot query device %d.%d", platform,
                    device);
        goto fail;
    }
    cl_context_properties props[] = {
        CL_CONTEXT_PLATFORM, (cl_context_properties)s->platform, 0};
    s->context = clCreateContext(props, 1, &s->device, NULL, NULL, &err);
    if ((st = seqk__cl_check(ctx, err, "clCreateContext")))
        goto fail;
    /* In-order queue: kernels of one call follow each other without
     * events, and reads see every earlier write. */
    s->queue = clCreateCommandQueue(s->context, s->device,
                                    seqk__cl_profile_queue_props(), &err);
    if ((st = seqk__cl_check(ctx, err, "clCreateCommandQueue")))
        goto fail;
    seqk__cl_profile_init(s);
    ctx->dev_state = s;
    return SEQK_OK;
fail:
    if (s->context)
        clReleaseContext(s->context);
    free(s);
    return st;
}

seqk_status seqk__cl_open_shared(seqk_context *ctx, cl_context clctx,
                                cl_command_queue queue)
{
    seqk_status st;
    seqk_cl_state *s = calloc(1, sizeof *s);
    if (!s)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "OpenCL: out of memory for the device state");
    cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE,
                                       sizeof s->device, &s->device, NULL);
    if ((st = seqk__cl_check(ctx, err, "clGetCommandQueueInfo(DEVICE)")))
        goto fail;
    err = clGetDeviceInfo(s->device, CL_DEVICE_PLATFORM, sizeof s->platform,
                          &s->platform, NULL);
    if ((st = seqk__cl_check(ctx, err, "clGetDeviceInfo(PLATFORM)")))
        goto fail;
    if ((st = seqk__cl_query_facts(s->device, &s->facts))) {
        seqk__error(ctx, st, "OpenCL: cannot query the queue's device");
        goto fail;
    }
    if ((st = seqk__cl_check(ctx, clRetainContext(clctx),
                            "clRetainContext")))
        goto fail;
    s->context = clctx;
    if ((st = seqk__cl_check(ctx, clRetainCommandQueue(queue),
                            "clRetainCommandQueue"))) {
        clReleaseContext(clctx);
        goto fail;
    }
    s->queue = queue;
    seqk__cl_profile_init(s); /* on when the caller's queue profiles */
    ctx->dev_state = s;
    return SEQK_OK;
fail:
    free(s);
    return st;
}

void seqk__cl_close(seqk_context *ctx)
{
    seqk_cl_state *s = seqk__cl_state_of(ctx);
    if (!s)
        return;
    if (s->queue)
        clFinish(s->queue);
    seqk__cl_checks_release(s);
    seqk__cl_profile_release(s);
    seqk__cl_programs_release(s);
    seqk__cl_memory_release(s);
    if (s->queue)
        clReleaseCommandQueue(s->queue);
    if (s->context)
        clReleaseContext(s->context);
    free(s);
    ctx->dev_state = NULL;
}

seqk_cl_state *seqk__cl_state_of(const seqk_context *ctx)
{
    return ctx && ctx->dev == &seqk__device_opencl ? ctx->dev_state : NULL;
}

const seqk_cl_device_facts *seqk__cl_facts(const seqk_context *ctx)
{
    seqk_cl_state *s = seqk__cl_state_of(ctx);
    return s ? &s->facts : NULL;
}

cl_command_queue seqk__cl_queue(const seqk_context *ctx)
{
    return seqk_cl_st(ctx)->queue;
}
cl_device_id seqk__cl_device(const seqk_context *ctx)
{
    return seqk_cl_st(ctx)->device;
}

cl_ulong seqk__cl_local_mem(const seqk_context *ctx)
{
    return seqk_cl_st(ctx)->facts.local_mem_size;
}

int seqk__cl_is_gpu(const seqk_context *ctx)
{
    return seqk_cl_st(ctx)->facts.is_gpu;
}

static _Atomic unsigned long host_waits;

unsigned long seqk__cl_host_waits(void) { return host_waits; }
void seqk__cl_host_wait(void) { host_waits++; }

seqk_status seqk__cl_finish(seqk_context *ctx)
{
    seqk__cl_host_wait();
    seqk_status st = seqk__cl_check(ctx, clFinish(seqk_cl_st(ctx)->queue),
                                    "clFinish");
    return st ? st : seqk__cl_checks_drain(ctx);
}

/* ---- launching ------------------------------------------------------- */

seqk_status seqk__cl_arg(seqk_context *ctx, cl_kernel k, const char *name,
                        cl_uint i, size_t size, const void *value)
{
    cl_int err = clSetKernelArg(k, i, size, value);
    if (err == CL_SUCCESS)
        return SEQK_OK;
    char what[128];
    snprintf(what, sizeof what, "clSetKernelArg(%s, %u)", name, (unsigned)i);
    return seqk__cl_check(ctx, err, what);
}

seqk_status seqk__cl_arg_ptr(seqk_context *ctx, cl_kernel k, const char *name,
                            cl_uint i, const void *dev_ptr)
{
    cl_mem mem;
    size_t off;
    seqk_status st = seqk__cl_translate(ctx, dev_ptr, sizeof(float), &mem,
                                       &off);
    if (st)
        return st;
    cl_long off_arg = (cl_long)off;
    if ((st = seqk__cl_arg(ctx, k, name, i, sizeof mem, &mem)))
        return st;
    return seqk__cl_arg(ctx, k, name, i + 1, sizeof off_arg, &off_arg);
}

size_t seqk__cl_kernel_max_wg(seqk_context *ctx, cl_kernel k)
{
    const seqk_cl_state *s = seqk_cl_st(ctx);
    size_t dev_max = s->facts.max_work_group_size;
    size_t k_max = 0;
    if (clGetKernelWorkGroupInfo(k, s->device, CL_KERNEL_WORK_GROUP_SIZE,
                                 sizeof k_max, &k_max, NULL) != CL_SUCCESS ||
        k_max == 0)
        k_max = dev_max;
    return k_max < dev_max ? k_max : dev_max;
}

seqk_status seqk__cl_enqueue(seqk_context *ctx, cl_kernel k, const char *name,
                            cl_uint dims, const size_t *global,
                            const size_t *local)
{
    const seqk_cl_device_facts *f = &seqk_cl_st(ctx)->facts;
    if (dims < 1 || dims > 3)
        return seqk__error(ctx, SEQK_ERR_INTERNAL,
                           "OpenCL %s: %u work dimensions", name,
                           (unsigned)dims);
    for (cl_uint d = 0; d < dims; d++)
        if (global[d] == 0)
            return SEQK_OK; /* nothing to do: CL rejects empty ranges */
    if (local) {
        size_t total = 1;
        for (cl_uint d = 0; d < dims; d++) {
            if (local[d] == 0 || local[d] > f->max_work_item_sizes[d] ||
                global[d] % local[d])
                return seqk__error(ctx, SEQK_ERR_INTERNAL,
                                   "OpenCL %s: local size %zu in dimension "
                                   "%u is 0, above the device's %zu, or does "
                                   "not divide global size %zu", name,
                                   local[d], (unsigned)d,
                                   f->max_work_item_sizes[d], global[d]);
            total *= local[d];
        }
        size_t max = seqk__cl_kernel_max_wg(ctx, k);
        if (total > max)
            return seqk__error(ctx, SEQK_ERR_INTERNAL,
                               "OpenCL %s: work-group of %zu work-items "
                               "exceeds the limit %zu for this kernel on %s",
                               name, total, max, f->name);
    }
    seqk__log(ctx, SEQK_VERBOSE_DISPATCH,
              "opencl: enqueue %s global [%zu,%zu,%zu] local [%zu,%zu,%zu]",
              name, global[0], dims > 1 ? global[1] : 1,
              dims > 2 ? global[2] : 1, local ? local[0] : 0,
              local && dims > 1 ? local[1] : 0,
              local && dims > 2 ? local[2] : 0);
    cl_event *ev = seqk__cl_profile_slot(ctx);
    cl_int err = clEnqueueNDRangeKernel(seqk_cl_st(ctx)->queue, k, dims,
                                        NULL, global, local, 0, NULL, ev);
    if (err == CL_SUCCESS) {
        if (ev)
            seqk__cl_profile_commit(ctx);
        return SEQK_OK;
    }
    char what[128];
    snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s)", name);
    return seqk__cl_check(ctx, err, what);
}
