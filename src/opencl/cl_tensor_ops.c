/*
 * cl_tensor_ops.c — Gather, Concat, the element-wise ops, ArgMax and
 * TopK on OpenCL (kernels/tensor_ops.cl).  Sizes come from the problem
 * (the tensors' shapes); device memory is never read to size a launch.
 *
 * Data movement picks 4-byte words when every byte offset and row length
 * is a multiple of 4, else bytes.  Gather checks its ids on the device:
 * bad ids write zeros and record their first position in a flag slot,
 * reported by value and position at the next read or synchronize
 * (cl_checks.c) — no host wait per call.  Work-groups are
 * min(64, the kernel's limit); global sizes are rounded up to them and the
 * kernels check their range.
 */
#include <limits.h>
#include <stdio.h>

#include "opencl/cl_internal.h"

static const char src_name[] = "tensor_ops";

/* Buffer argument i and its offset argument i + 1, in units of unit
 * bytes (the pointer must be a multiple of unit into its tensor). */
seqk_status seqk__cl_arg_mem(seqk_context *ctx, cl_kernel k,
                             const char *name, cl_uint i, const void *ptr,
                             size_t unit)
{
    cl_mem mem;
    size_t off;
    seqk_status st = seqk__cl_translate(ctx, ptr, unit, &mem, &off);
    if (st)
        return st;
    cl_long off_arg = (cl_long)off;
    if ((st = seqk__cl_arg(ctx, k, name, i, sizeof mem, &mem)))
        return st;
    return seqk__cl_arg(ctx, k, name, i + 1, sizeof off_arg, &off_arg);
}

/* Byte offset of a pointer inside its tensor's buffer. */
static seqk_status byte_off(seqk_context *ctx, const void *ptr, size_t *off)
{
    cl_mem mem;
    return seqk__cl_translate(ctx, ptr, 1, &mem, off);
}

seqk_status seqk__cl_launch_1d(seqk_context *ctx, cl_kernel k,
                               const char *name, int64_t items)
{
    size_t wg = seqk__cl_kernel_max_wg(ctx, k);
    if (wg > 64)
        wg = 64;
    size_t global = seqk_cl_round_up((size_t)items, wg);
    return seqk__cl_enqueue(ctx, k, name, 1, &global, &wg);
}

/* 4 when the byte offsets and lengths are all multiples of 4, else 1. */
static size_t word_of(const size_t *bytes, int n)
{
    for (int i = 0; i < n; i++)
        if (bytes[i] % 4)
            return 1;
    return 4;
}

seqk_status seqk__cl_gather(seqk_context *ctx, const seqk_gather_problem *p)
{
    seqk_status st;
    cl_kernel k;
    size_t doff = 0, ooff = 0;
    if ((st = byte_off(ctx, p->data, &doff)) ||
        (st = byte_off(ctx, p->out, &ooff)))
        return st;
    const size_t row = (size_t)p->inner * p->elem_size;
    const size_t sizes[3] = {doff, ooff, row};
    const size_t w = word_of(sizes, 3);
    const char *name = w == 4 ? "seqk_gather_u32" : "seqk_gather_u8";
    if ((st = seqk__cl_kernel(ctx, src_name, NULL, name, &k)))
        return st;
    cl_mem flags = NULL;
    cl_long slot = 0;
    if ((st = seqk__cl_check_slot(ctx, p, &flags, &slot)))
        return st;
    const size_t isz = p->idx64 ? 8 : 4;
    cl_int idx64 = p->idx64;
    cl_long outer = p->outer, n = p->n, nidx = p->nidx;
    cl_long inner = (cl_long)(row / w);
    if ((st = seqk__cl_arg_mem(ctx, k, name, 0, p->data, w)) ||
        (st = seqk__cl_arg_mem(ctx, k, name, 2, p->ids, isz)) ||
        (st = seqk__cl_arg(ctx, k, name, 4, sizeof idx64, &idx64)) ||
        (st = seqk__cl_arg_mem(ctx, k, name, 5, p->out, w)) ||
        (st = seqk__cl_arg(ctx, k, name, 7, sizeof flags, &flags)) ||
        (st = seqk__cl_arg(ctx, k, name, 8, sizeof slot, &slot)) ||
        (st = seqk__cl_arg(ctx, k, name, 9, sizeof outer, &outer)) ||
        (st = seqk__cl_arg(ctx, k, name, 10, sizeof n, &n)) ||
        (st = seqk__cl_arg(ctx, k, name, 11, sizeof nidx, &nidx)) ||
        (st = seqk__cl_arg(ctx, k, name, 12, sizeof inner, &inner)))
        return st;
    /* No wait: a bad id is reported at the next read or synchronize
     * (cl_checks.c). */
    return seqk__cl_launch_1d(ctx, k, name, p->outer * p->nidx * inner);
}

seqk_status seqk__cl_concat(seqk_context *ctx, const seqk_concat_problem *p)
{
    seqk_status st;
    cl_kernel k;
    size_t ooff = 0;
    if ((st = byte_off(ctx, p->out, &ooff)))
        return st;
    for (int i = 0; i < p->n; i++) {
        size_t soff = 0;
        if (p->cols[i] == 0)
            continue;
        if ((st = byte_off(ctx, p->src[i], &soff)))
            return st;
        const size_t sizes[4] = {soff, ooff + (size_t)p->off[i] * p->elem_size,
                                 (size_t)p->cols[i] * p->elem_size,
                                 (size_t)p->row * p->elem_size};
        const size_t w = word_of(sizes, 4);
        const char *name = w == 4 ? "seqk_copy_rows_u32" : "seqk_copy_rows_u8";
        if ((st = seqk__cl_kernel(ctx, src_name, NULL, name, &k)))
            return st;
        /* everything in words of w bytes (sizes[] are multiples of w) */
        cl_long rows = p->outer;
        cl_long cols = (cl_long)(sizes[2] / w), ld = (cl_long)(sizes[3] / w);
        if ((st = seqk__cl_arg_mem(ctx, k, name, 0, p->src[i], w)) ||
            (st = seqk__cl_arg_mem(ctx, k, name, 2,
                          (const char *)p->out +
                              (size_t)p->off[i] * p->elem_size,
                          w)) ||
            (st = seqk__cl_arg(ctx, k, name, 4, sizeof rows, &rows)) ||
            (st = seqk__cl_arg(ctx, k, name, 5, sizeof cols, &cols)) ||
            (st = seqk__cl_arg(ctx, k, name, 6, sizeof ld, &ld)) ||
            (st = seqk__cl_launch_1d(ctx, k, name, rows * cols)))
            return st;
    }
    return SEQK_OK;
}

seqk_status seqk__cl_elementwise(seqk_context *ctx,
                                 const seqk_elementwise_problem *p)
{
    static const char name[] = "seqk_f32_elementwise";
    seqk_status st;
    cl_kernel k;
    if (p->out_dtype != SEQK_F32) /* comparisons, logic: cl_onnx_ops.c */
        return seqk__cl_ew_bool(ctx, p);
    if ((st = seqk__cl_kernel(ctx, src_name, NULL, name, &k)))
        return st;
    /* right-aligned into 8 dims: leading ones with stride 0 */
    cl_long8 dims, as, bs;
    for (int i = 0; i < 8; i++) {
        const int j = i - (8 - p->ndim);
        dims.s[i] = j >= 0 ? p->dims[j] : 1;
        as.s[i] = j >= 0 ? p->a_str[j] : 0;
        bs.s[i] = j >= 0 && p->B ? p->b_str[j] : 0;
    }
    cl_int op = (cl_int)p->op;
    cl_long numel = p->numel;
    if ((st = seqk__cl_arg(ctx, k, name, 0, sizeof op, &op)) ||
        (st = seqk__cl_arg_mem(ctx, k, name, 1, p->A, sizeof(float))) ||
        (st = seqk__cl_arg_mem(ctx, k, name, 3, p->B ? p->B : p->A,
                               sizeof(float))) ||
        (st = seqk__cl_arg_mem(ctx, k, name, 5, p->Y, sizeof(float))) ||
        (st = seqk__cl_arg(ctx, k, name, 7, sizeof numel, &numel)) ||
        (st = seqk__cl_arg(ctx, k, name, 8, sizeof dims, &dims)) ||
        (st = seqk__cl_arg(ctx, k, name, 9, sizeof as, &as)) ||
        (st = seqk__cl_arg(ctx, k, name, 10, sizeof bs, &bs)) ||
        (st = seqk__cl_arg(ctx, k, name, 11, sizeof p->alpha, &p->alpha)) ||
        (st = seqk__cl_arg(ctx, k, name, 12, sizeof p->beta, &p->beta)))
        return st;
    return seqk__cl_launch_1d(ctx, k, name, p->numel);
}

seqk_status seqk__cl_argmax(seqk_context *ctx, const seqk_argmax_problem *p)
{
    static const char name[] = "seqk_f32_argmax";
    seqk_status st;
    cl_kernel k;
    if ((st = seqk__cl_kernel(ctx, src_name, NULL, name, &k)))
        return st;
    cl_long outer = p->outer, n = p->n, inner = p->inner;
    cl_int last = p->select_last;
    if ((st = seqk__cl_arg_mem(ctx, k, name, 0, p->X, sizeof(float))) ||
        (st = seqk__cl_arg_mem(ctx, k, name, 2, p->Y, sizeof(int64_t))) ||
        (st = seqk__cl_arg(ctx, k, name, 4, sizeof outer, &outer)) ||
        (st = seqk__cl_arg(ctx, k, name, 5, sizeof n, &n)) ||
        (st = seqk__cl_arg(ctx, k, name, 6, sizeof inner, &inner)) ||
        (st = seqk__cl_arg(ctx, k, name, 7, sizeof last, &last)))
        return st;
    return seqk__cl_launch_1d(ctx, k, name, p->outer * p->inner);
}

seqk_status seqk__cl_topk(seqk_context *ctx, const seqk_topk_problem *p)
{
    static const char name[] = "seqk_f32_topk";
    seqk_status st;
    cl_kernel k;
    if ((st = seqk__cl_kernel(ctx, src_name, NULL, name, &k)))
        return st;
    cl_long outer = p->outer, n = p->n, inner = p->inner, kk = p->k;
    cl_int largest = p->largest;
    if ((st = seqk__cl_arg_mem(ctx, k, name, 0, p->X, sizeof(float))) ||
        (st = seqk__cl_arg_mem(ctx, k, name, 2, p->values, sizeof(float))) ||
        (st = seqk__cl_arg_mem(ctx, k, name, 4, p->indices, sizeof(int64_t))) ||
        (st = seqk__cl_arg(ctx, k, name, 6, sizeof outer, &outer)) ||
        (st = seqk__cl_arg(ctx, k, name, 7, sizeof n, &n)) ||
        (st = seqk__cl_arg(ctx, k, name, 8, sizeof inner, &inner)) ||
        (st = seqk__cl_arg(ctx, k, name, 9, sizeof kk, &kk)) ||
        (st = seqk__cl_arg(ctx, k, name, 10, sizeof largest, &largest)))
        return st;
    return seqk__cl_launch_1d(ctx, k, name, p->outer * p->inner);
}
