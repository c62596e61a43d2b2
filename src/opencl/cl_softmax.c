/*
 * cl_softmax.c — Softmax on OpenCL (kernels/softmax.cl).
 *
 * inner == 1: seqk_f32_softmax_rows, one work-group per row; inner > 1:
 * seqk_f32_softmax_columns, one work-item per column.  Both are tuned
 * through one tunable, "opencl.softmax", by shape {rows = outer*inner, n}:
 *   RWG  the rows kernel's work-group size (a power of two: the kernel's
 *        tree reduction needs one); 0 = the rule: the largest power of two
 *        no larger than the kernel's limit on this device, 256 on a GPU
 *        (RWG_CPU on other devices: a CPU runtime such as PoCL runs a
 *        work-group's items one after another, and 256 of them per row
 *        were 14x slower there), the local memory and the row length
 *        rounded up;
 *   CWG  the columns kernel's work-group size; 0 = the rule:
 *        min(limit, 64);
 *   VW   elements per load in the rows kernel (1, 4, 8 or 16: floatN
 *        vloads); 0 = the rule: 1 on a GPU, 16 elsewhere.
 * The shape does not say which kernel runs (inner is folded into rows),
 * so a tuned entry carries values for both.  Tuned sizes above the
 * kernel's real limit (CL_KERNEL_WORK_GROUP_SIZE) are halved to fit.
 */
#include <stdio.h>

#include "opencl/cl_internal.h"
#include "tune/tune.h"

enum { P_RWG, P_CWG, P_VW, NUM_P };

static int is_pow2(int v)
{
    return v > 0 && (v & (v - 1)) == 0;
}

static int softmax_legal(const int *v, const seqk_tune_limits *lim,
                         const int64_t *shape)
{
    (void)shape; /* every size works; only the device limits matter */
    if (!lim->is_device)
        return 0;
    const int64_t rwg = v[P_RWG], cwg = v[P_CWG];
    if (rwg != 0 && (!is_pow2(v[P_RWG]) || rwg > lim->max_wg ||
                     rwg > lim->max_item[0] ||
                     rwg * (int64_t)sizeof(float) > lim->local_mem))
        return 0;
    if (cwg != 0 && (cwg > lim->max_wg || cwg > lim->max_item[0]))
        return 0;
    return v[P_VW] == 0 || v[P_VW] == 1 || v[P_VW] == 4 || v[P_VW] == 8 ||
           v[P_VW] == 16;
}

const seqk_tunable seqk__cl_softmax_tunable = {
    .id = "opencl.softmax",
    .source = "softmax",
    .backend = "opencl",
    .num_shape = 2,
    .shape_names = {"rows", "n"},
    .num_params = NUM_P,
    .params = {
        {"RWG", 10, {0, 1, 2, 4, 8, 16, 32, 64, 128, 256}, 0},
        {"CWG", 6, {0, 16, 32, 64, 128, 256}, 0},
        {"VW", 5, {0, 1, 4, 8, 16}, 0},
    },
    .legal = softmax_legal,
};

#ifndef RWG_CPU
#define RWG_CPU 4
#endif
static size_t pow2_floor(size_t v)
{
    size_t p = 1;
    while (p * 2 <= v)
        p *= 2;
    return p;
}

/* The rows kernel's work-group size: tuned (halved to the kernel's limit
 * and the local memory) or the rule. */
static size_t rows_wg(seqk_context *ctx, cl_kernel k, int tuned, int64_t n)
{
    size_t kmax = seqk__cl_kernel_max_wg(ctx, k);
    cl_ulong lmem = seqk__cl_local_mem(ctx) / sizeof(float);
    size_t wg = tuned > 0 ? (size_t)tuned : seqk__cl_is_gpu(ctx) ? 256 : RWG_CPU;
    if (tuned <= 0) {
        size_t n_round = pow2_floor((size_t)n);
        if (n_round < (size_t)n)
            n_round *= 2;
        if (wg > n_round)
            wg = n_round;
    }
    while (wg > 1 && (wg > kmax || wg > lmem))
        wg /= 2;
    return pow2_floor(wg);
}

seqk_status seqk__cl_softmax(seqk_context *ctx, const seqk_softmax_problem *p)
{
    seqk_status st;
    cl_kernel k;
    if (p->outer == 0 || p->n == 0 || p->inner == 0)
        return SEQK_OK;
    if (p->log)
        return seqk__cl_log_softmax(ctx, p);
    const int64_t shape[2] = {p->outer * p->inner, p->n};
    int v[NUM_P];
    seqk__tuned(ctx, &seqk__cl_softmax_tunable, shape, v);
    if (p->inner == 1) {
        static const char name[] = "seqk_f32_softmax_rows";
        /* VW 1 builds without options: the same program as the columns
         * kernel's */
        /* the rule: scalar loads on a GPU (neighbouring work-items read
         * neighbouring floats), 16-float vectors elsewhere (PoCL: 3.5x
         * over float4 at 768 x 128) */
        const int vw = v[P_VW] > 0 ? v[P_VW] : seqk__cl_is_gpu(ctx) ? 1 : 16;
        char opts[32];
        snprintf(opts, sizeof opts, "-D SOFTMAX_VW=%d", vw);
        if ((st = seqk__cl_kernel(ctx, "softmax", vw == 1 ? NULL : opts,
                                 name, &k)))
            return st;
        size_t wg = rows_wg(ctx, k, v[P_RWG], p->n);
        cl_long n = p->n;
        if ((st = seqk__cl_arg_ptr(ctx, k, name, 0, p->X)) ||
            (st = seqk__cl_arg_ptr(ctx, k, name, 2, p->Y)) ||
            (st = seqk__cl_arg(ctx, k, name, 4, sizeof n, &n)) ||
            (st = seqk__cl_arg(ctx, k, name, 5, wg * sizeof(float), NULL)))
            return st;
        seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "opencl: %s rows=%lld n=%lld: "
                  "wg %zu, VW %d", name, (long long)p->outer,
                  (long long)p->n, wg, vw);
        size_t global = (size_t)p->outer * wg;
        return seqk__cl_enqueue(ctx, k, name, 1, &global, &wg);
    }
    static const char name[] = "seqk_f32_softmax_columns";
    if ((st = seqk__cl_kernel(ctx, "softmax", NULL, name, &k)))
        return st;
    size_t wg = seqk__cl_kernel_max_wg(ctx, k);
    const size_t want = v[P_CWG] > 0 ? (size_t)v[P_CWG] : 64;
    if (wg > want)
        wg = want;
    cl_long outer = p->outer, n = p->n, inner = p->inner;
    if ((st = seqk__cl_arg_ptr(ctx, k, name, 0, p->X)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 2, p->Y)) ||
        (st = seqk__cl_arg(ctx, k, name, 4, sizeof outer, &outer)) ||
        (st = seqk__cl_arg(ctx, k, name, 5, sizeof n, &n)) ||
        (st = seqk__cl_arg(ctx, k, name, 6, sizeof inner, &inner)))
        return st;
    seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "opencl: %s outer=%lld n=%lld "
              "inner=%lld: wg %zu", name, (long long)p->outer,
              (long long)p->n, (long long)p->inner, wg);
    size_t global = seqk_cl_round_up((size_t)(p->outer * p->inner), wg);
    return seqk__cl_enqueue(ctx, k, name, 1, &global, &wg);
}
