/*
 * limits.c — the device limits tunables' legal() hooks check against.
 */
#include <string.h>

#include "core/registry.h"
#include "seqk_config.h"
#include "tune.h"
#if SEQK_HAVE_OPENCL
#include "opencl/cl_backend.h"
#endif

void seqk__tune_limits(seqk_context *ctx, seqk_tune_limits *lim)
{
    memset(lim, 0, sizeof *lim);
    lim->threads = ctx->threads;
#if SEQK_HAVE_OPENCL
    if (seqk_cl_state_of(ctx)) {
        const seqk_cl_device_facts *f = seqk_cl_facts(ctx);
        cl_device_type type = 0;
        clGetDeviceInfo(seqk_cl_device(ctx), CL_DEVICE_TYPE, sizeof type,
                        &type, NULL);
        lim->is_opencl = 1;
        lim->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
        lim->max_wg = (int64_t)f->max_work_group_size;
        for (int i = 0; i < 3; i++)
            lim->max_item[i] = (int64_t)f->max_work_item_sizes[i];
        lim->local_mem = (int64_t)f->local_mem_size;
        return;
    }
#endif
    seqk_cpu_caches c;
    seqk__cpu_caches(&c);
    lim->l1d = (int64_t)c.l1d;
    lim->l2 = (int64_t)c.l2;
    lim->l3 = (int64_t)c.l3;
}
