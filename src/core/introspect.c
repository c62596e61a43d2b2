/*
 * introspect.c — what the library can tell about itself (seqk.h): the CPU
 * as detected (features, caches, cores) and the kernel dispatch picks per
 * op on a context.  `seqk info` prints these; nothing here changes state.
 */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "core/registry.h"

seqk_status seqk_cpu_info_get(seqk_cpu_info *info)
{
    if (!info || info->struct_size < sizeof *info)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_cpu_info_get: info is NULL or its "
                           "struct_size is not sizeof(seqk_cpu_info)");
    size_t size = info->struct_size;
    unsigned det = seqk__cpu_detected(), msk = seqk__cpu_masked() & det;
    seqk_cpu_caches c;
    memset(info, 0, sizeof *info);
    info->struct_size = size;
    snprintf(info->name, sizeof info->name, "%s", seqk__cpu_name());
    snprintf(info->detection, sizeof info->detection, "%s",
             seqk__cpu_source());
    seqk__cpu_flag_names(det, info->features_detected,
                         sizeof info->features_detected);
    seqk__cpu_flag_names(msk, info->features_masked,
                         sizeof info->features_masked);
    seqk__cpu_flag_names(det & ~msk, info->features_used,
                         sizeof info->features_used);
    seqk__cpu_caches(&c);
    info->l1d = c.l1d;
    info->l2 = c.l2;
    info->l3 = c.l3;
    info->l2_shared_by = c.l2_shared_by;
    info->l3_shared_by = c.l3_shared_by;
    info->physical_cores = seqk__cpu_physical_cores();
    info->logical_cores = seqk__cpu_logical_cores();
    info->default_threads = seqk__cpu_default_threads();
    return SEQK_OK;
}

seqk_status seqk_op_count(int *count)
{
    if (!count)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_op_count: count is NULL");
    *count = SEQK_OP_COUNT_;
    return SEQK_OK;
}

seqk_status seqk_context_op_kernel(seqk_context *ctx, int op,
                                   seqk_op_kernel *info)
{
    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_context_op_kernel: ctx is NULL");
    if (!info || info->struct_size < sizeof *info)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_context_op_kernel: info is NULL or its "
                           "struct_size is not sizeof(seqk_op_kernel)");
    if (op < 0 || op >= SEQK_OP_COUNT_)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_context_op_kernel: op %d is outside 0..%d",
                           op, SEQK_OP_COUNT_ - 1);
    size_t size = info->struct_size;
    memset(info, 0, sizeof *info);
    info->struct_size = size;
    snprintf(info->op, sizeof info->op, "%s", seqk__op_name((seqk_op)op));
    /* Best backend first, as the dispatcher walks them; supports() with
     * no problem answers for the op as a whole. */
    for (int i = ctx->num_backends - 1; i >= 0; i--) {
        const seqk_backend *b = ctx->backends[i];
        char why[160] = "";
        if (!b->kernel_names[op])
            continue;
        if (b->supports && !b->supports(b, (seqk_op)op, NULL, why,
                                        sizeof why)) {
            size_t used = strlen(info->refused);
            snprintf(info->refused + used, sizeof info->refused - used,
                     "%s%s: %s", used ? "; " : "", b->spec, why);
            continue;
        }
        if (b->accepts && i > 0) {
            /* decides per call (the offload of large problems): the next
             * backend is what runs the others */
            size_t used = strlen(info->refused);
            snprintf(info->refused + used, sizeof info->refused - used,
                     "%s%s: takes only the problems it accepts per call",
                     used ? "; " : "", b->spec);
            continue;
        }
        snprintf(info->kernel, sizeof info->kernel, "%s", b->kernel_names[op]);
        snprintf(info->backend, sizeof info->backend, "%s", b->spec);
        break;
    }
    return SEQK_OK;
}

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
    facts->struct_size = size;
    if (!ctx->dev)
        return SEQK_OK; /* host only: not present */
    /* A query that failed when the device opened leaves its fact empty;
     * the device table logs it where it matters (tuning), not here. */
    seqk__device_facts f;
    (void)ctx->dev->facts(ctx, &f);
    facts->present = 1;
    snprintf(facts->name, sizeof facts->name, "%s", f.name);
    snprintf(facts->vendor, sizeof facts->vendor, "%s", f.vendor);
    snprintf(facts->driver_version, sizeof facts->driver_version, "%s",
             f.driver);
    snprintf(facts->version, sizeof facts->version, "%s", f.version);
    facts->compute_units = (unsigned)f.compute_units;
    facts->max_work_group_size = (size_t)f.max_wg;
    facts->local_mem_size = (uint64_t)f.local_mem;
    facts->global_mem_size = (uint64_t)f.global_mem;
    facts->fp16 = f.fp16;
    return SEQK_OK;
}
