/*
 * cl_softmax.c — Softmax on OpenCL (kernels/softmax.cl).
 *
 * inner == 1: softmax_rows, one work-group per row; the work-group size is
 * the largest power of two (the kernel's tree reduction needs one) no
 * larger than the kernel's limit on this device, 256, the local memory
 * and the row length rounded up.  inner > 1: softmax_columns, one
 * work-item per column.
 */
#include "cl_internal.h"

static size_t pow2_floor(size_t v)
{
    size_t p = 1;
    while (p * 2 <= v)
        p *= 2;
    return p;
}

seqk_status seqk_cl_softmax(seqk_context *ctx, const seqk_softmax_problem *p)
{
    seqk_status st;
    cl_kernel k;
    if (p->outer == 0 || p->n == 0 || p->inner == 0)
        return SEQK_OK;
    if (p->inner == 1) {
        if ((st = seqk_cl_kernel(ctx, "softmax", NULL, "softmax_rows", &k)))
            return st;
        size_t wg = seqk_cl_kernel_max_wg(ctx, k);
        if (wg > 256)
            wg = 256;
        cl_ulong lmem = seqk_cl_local_mem(ctx) / sizeof(float);
        if (wg > lmem)
            wg = (size_t)lmem;
        size_t n_round = pow2_floor((size_t)p->n);
        if (n_round < (size_t)p->n)
            n_round *= 2;
        if (wg > n_round)
            wg = n_round;
        wg = pow2_floor(wg);
        cl_long n = p->n;
        if ((st = seqk_cl_arg_ptr(ctx, k, "softmax_rows", 0, p->X)) ||
            (st = seqk_cl_arg_ptr(ctx, k, "softmax_rows", 2, p->Y)) ||
            (st = seqk_cl_arg(ctx, k, "softmax_rows", 4, sizeof n, &n)) ||
            (st = seqk_cl_arg(ctx, k, "softmax_rows", 5, wg * sizeof(float),
                              NULL)))
            return st;
        size_t global = (size_t)p->outer * wg;
        return seqk_cl_enqueue(ctx, k, "softmax_rows", 1, &global, &wg);
    }
    if ((st = seqk_cl_kernel(ctx, "softmax", NULL, "softmax_columns", &k)))
        return st;
    size_t wg = seqk_cl_kernel_max_wg(ctx, k);
    if (wg > 64)
        wg = 64;
    cl_long outer = p->outer, n = p->n, inner = p->inner;
    if ((st = seqk_cl_arg_ptr(ctx, k, "softmax_columns", 0, p->X)) ||
        (st = seqk_cl_arg_ptr(ctx, k, "softmax_columns", 2, p->Y)) ||
        (st = seqk_cl_arg(ctx, k, "softmax_columns", 4, sizeof outer,
                          &outer)) ||
        (st = seqk_cl_arg(ctx, k, "softmax_columns", 5, sizeof n, &n)) ||
        (st = seqk_cl_arg(ctx, k, "softmax_columns", 6, sizeof inner,
                          &inner)))
        return st;
    size_t global = seqk_cl_round_up((size_t)(p->outer * p->inner), wg);
    return seqk_cl_enqueue(ctx, k, "softmax_columns", 1, &global, &wg);
}
