/*
 * cl_introspect.c — seqk_context_device_facts (seqk.h) for OpenCL
 * contexts: the device facts read when the context opened its device.
 * Builds without OpenCL take core/introspect_host.c instead.
 */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "opencl/cl_backend.h"

seqk_status seqk_context_device_facts(seqk_context *ctx,
                                      seqk_device_facts *facts)
{
    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_context_device_facts: ctx is NULL");
    if (!facts || facts->struct_size < sizeof *facts)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_context_device_facts: facts is NULL or its "
                           "struct_size is not sizeof(seqk_device_facts)");
    const seqk_cl_device_facts *f = seqk_cl_facts(ctx);
    size_t size = facts->struct_size;
    memset(facts, 0, sizeof *facts);
    facts->struct_size = size;
    if (!f)
        return SEQK_OK; /* host only: not present */
    facts->present = 1;
    snprintf(facts->name, sizeof facts->name, "%s", f->name);
    snprintf(facts->vendor, sizeof facts->vendor, "%s", f->vendor);
    snprintf(facts->driver_version, sizeof facts->driver_version, "%s",
             f->driver_version);
    snprintf(facts->version, sizeof facts->version, "%s", f->version);
    facts->compute_units = (unsigned)f->compute_units;
    facts->max_work_group_size = f->max_work_group_size;
    facts->local_mem_size = (uint64_t)f->local_mem_size;
    facts->global_mem_size = (uint64_t)f->global_mem_size;
    facts->fp16 = f->fp16;
    return SEQK_OK;
}
