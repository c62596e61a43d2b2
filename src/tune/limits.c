/*
 * limits.c — the device limits tunables' legal() hooks check against: a
 * device backend's facts (core/device.h) on device contexts, the CPU's
 * caches on host contexts.
 */
#include <string.h>

#include "core/registry.h"
#include "tune/tune.h"

void seqk__tune_limits(seqk_context *ctx, seqk_tune_limits *lim)
{
    memset(lim, 0, sizeof *lim);
    lim->threads = ctx->threads;
    if (ctx->dev) {
        seqk__device_facts f;
        /* A fact the device could not report stays 0 (the backend logs
         * why): its tunables then keep to values legal everywhere. */
        (void)ctx->dev->facts(ctx, &f);
        lim->is_device = 1;
        lim->is_gpu = f.is_gpu;
        lim->max_wg = f.max_wg;
        for (int i = 0; i < 3; i++)
            lim->max_item[i] = f.max_item[i];
        lim->local_mem = f.local_mem;
        return;
    }
    seqk_cpu_caches c;
    seqk__cpu_caches(&c);
    lim->l1d = (int64_t)c.l1d;
    lim->l2 = (int64_t)c.l2;
    lim->l3 = (int64_t)c.l3;
}
