/*
 * introspect_host.c — seqk_context_device_facts (seqk.h) in a build
 * without a device backend: every context runs on the host.  With
 * OpenCL, src/opencl/cl_introspect.c is built instead (src/meson.build).
 */
#include <string.h>

#include "core/internal.h"

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
    size_t size = facts->struct_size;
    memset(facts, 0, sizeof *facts);
    facts->struct_size = size; /* present = 0 */
    return SEQK_OK;
}
