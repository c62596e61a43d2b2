/*
 * cl_onnx_ops.c — the ONNX ops of the model runner on OpenCL
 * (kernels/onnx_ops.cl): comparisons and logic, Where, Cast, the layout
 * index map, Reduce, LogSoftmax, LayerNormalization and Conv1d.  Sizes
 * come from the problem; device memory is never read to size a launch,
 * and nothing crosses to the host.  Shapes go to the kernels as 8
 * right-aligned dims (leading dims 1, stride 0, start 0, step 0).
 */
#include <stdio.h>

#include "opencl/cl_internal.h"

static const char src_name[] = "onnx_ops";

/* v[0..n) right-aligned into a long8, leading entries fill. */
static cl_long8 long8_of(int n, const int64_t *v, cl_long fill)
{
    cl_long8 r;
    for (int i = 0; i < 8; i++) {
        const int j = i - (8 - n);
        r.s[i] = j >= 0 ? v[j] : fill;
    }
    return r;
}

#define ARG(i, v) seqk__cl_arg(ctx, k, name, (i), sizeof(v), &(v))
#define MEM(i, ptr, unit) seqk__cl_arg_mem(ctx, k, name, (i), (ptr), (unit))

seqk_status seqk__cl_ew_bool(seqk_context *ctx,
                             const seqk_elementwise_problem *p)
{
    const char *name;
    size_t es;
    switch (p->in_dtype) {
    case SEQK_F32: name = "seqk_cmp_f32"; es = 4; break;
    case SEQK_I32: name = "seqk_cmp_i32"; es = 4; break;
    case SEQK_I64: name = "seqk_cmp_i64"; es = 8; break;
    default: name = "seqk_cmp_u8"; es = 1; break;
    }
    seqk_status st;
    cl_kernel k;
    if ((st = seqk__cl_kernel(ctx, src_name, NULL, name, &k)))
        return st;
    cl_long8 dims = long8_of(p->ndim, p->dims, 1);
    cl_long8 as = long8_of(p->ndim, p->a_str, 0);
    cl_long8 bs = long8_of(p->ndim, p->b_str, 0);
    cl_int op = (cl_int)p->op;
    cl_long numel = p->numel;
    if ((st = ARG(0, op)) || (st = MEM(1, p->A, es)) ||
        (st = MEM(3, p->B ? p->B : p->A, es)) || (st = MEM(5, p->Y, 1)) ||
        (st = ARG(7, numel)) || (st = ARG(8, dims)) || (st = ARG(9, as)) ||
        (st = ARG(10, bs)))
        return st;
    return seqk__cl_launch_1d(ctx, k, name, p->numel);
}

seqk_status seqk__cl_where(seqk_context *ctx, const seqk_where_problem *p)
{
    const size_t es = p->elem_size;
    const char *name = es == 1 ? "seqk_where_u8"
                       : es == 4 ? "seqk_where_u32" : "seqk_where_u64";
    seqk_status st;
    cl_kernel k;
    if ((st = seqk__cl_kernel(ctx, src_name, NULL, name, &k)))
        return st;
    cl_long8 dims = long8_of(p->ndim, p->dims, 1);
    cl_long8 cs = long8_of(p->ndim, p->c_str, 0);
    cl_long8 xs = long8_of(p->ndim, p->x_str, 0);
    cl_long8 ys = long8_of(p->ndim, p->y_str, 0);
    cl_long numel = p->numel;
    if ((st = MEM(0, p->cond, 1)) || (st = MEM(2, p->X, es)) ||
        (st = MEM(4, p->Y, es)) || (st = MEM(6, p->out, es)) ||
        (st = ARG(8, numel)) || (st = ARG(9, dims)) || (st = ARG(10, cs)) ||
        (st = ARG(11, xs)) || (st = ARG(12, ys)))
        return st;
    return seqk__cl_launch_1d(ctx, k, name, p->numel);
}

seqk_status seqk__cl_cast(seqk_context *ctx, const seqk_cast_problem *p)
{
    static const char name[] = "seqk_cast";
    seqk_status st;
    cl_kernel k;
    if ((st = seqk__cl_kernel(ctx, src_name, NULL, name, &k)))
        return st;
    cl_int from = (cl_int)p->from, to = (cl_int)p->to;
    cl_long numel = p->numel;
    if ((st = ARG(0, from)) || (st = ARG(1, to)) ||
        (st = MEM(2, p->X, seqk_dtype_size(p->from))) ||
        (st = MEM(4, p->Y, seqk_dtype_size(p->to))) || (st = ARG(6, numel)))
        return st;
    return seqk__cl_launch_1d(ctx, k, name, p->numel);
}

seqk_status seqk__cl_layout(seqk_context *ctx, const seqk_layout_problem *p)
{
    const size_t es = p->elem_size;
    const char *name = es == 1 ? "seqk_layout_u8"
                       : es == 4 ? "seqk_layout_u32" : "seqk_layout_u64";
    seqk_status st;
    cl_kernel k;
    if ((st = seqk__cl_kernel(ctx, src_name, NULL, name, &k)))
        return st;
    cl_int mode = (cl_int)p->mode;
    cl_long numel = p->numel;
    cl_long8 dims = long8_of(p->ndim, p->dims, 1);
    cl_long8 sd = long8_of(p->ndim, p->src_dims, 1);
    cl_long8 ss = long8_of(p->ndim, p->src_str, 0);
    cl_long8 st0 = long8_of(p->ndim, p->start, 0);
    cl_long8 sp = long8_of(p->ndim, p->step, 0);
    cl_ulong pad = p->pad_bits;
    if ((st = ARG(0, mode)) || (st = MEM(1, p->X, es)) ||
        (st = MEM(3, p->Y, es)) || (st = ARG(5, numel)) ||
        (st = ARG(6, dims)) || (st = ARG(7, sd)) || (st = ARG(8, ss)) ||
        (st = ARG(9, st0)) || (st = ARG(10, sp)) || (st = ARG(11, pad)))
        return st;
    return seqk__cl_launch_1d(ctx, k, name, p->numel);
}

seqk_status seqk__cl_reduce(seqk_context *ctx, const seqk_reduce_problem *p)
{
    static const char name[] = "seqk_f32_reduce";
    seqk_status st;
    cl_kernel k;
    if ((st = seqk__cl_kernel(ctx, src_name, NULL, name, &k)))
        return st;
    cl_int op = (cl_int)p->op, mask = 0;
    for (int d = 0; d < p->ndim; d++)
        if (p->reduce[d])
            mask |= 1 << (d + 8 - p->ndim);
    cl_long out = p->out_numel, count = p->count;
    cl_long8 dims = long8_of(p->ndim, p->dims, 1);
    if ((st = ARG(0, op)) || (st = MEM(1, p->X, 4)) ||
        (st = MEM(3, p->Y, 4)) || (st = ARG(5, out)) ||
        (st = ARG(6, count)) || (st = ARG(7, dims)) || (st = ARG(8, mask)))
        return st;
    return seqk__cl_launch_1d(ctx, k, name, p->out_numel);
}

seqk_status seqk__cl_log_softmax(seqk_context *ctx,
                                 const seqk_softmax_problem *p)
{
    static const char name[] = "seqk_f32_log_softmax_columns";
    seqk_status st;
    cl_kernel k;
    if ((st = seqk__cl_kernel(ctx, src_name, NULL, name, &k)))
        return st;
    cl_long outer = p->outer, n = p->n, inner = p->inner;
    if ((st = MEM(0, p->X, 4)) || (st = MEM(2, p->Y, 4)) ||
        (st = ARG(4, outer)) || (st = ARG(5, n)) || (st = ARG(6, inner)))
        return st;
    return seqk__cl_launch_1d(ctx, k, name, p->outer * p->inner);
}

seqk_status seqk__cl_layer_norm(seqk_context *ctx,
                                const seqk_layer_norm_problem *p)
{
    static const char name[] = "seqk_f32_layer_norm";
    seqk_status st;
    cl_kernel k;
    if ((st = seqk__cl_kernel(ctx, src_name, NULL, name, &k)))
        return st;
    /* absent tensors: any valid buffer in their place, never touched */
    cl_int has = (p->bias ? 1 : 0) | (p->mean ? 2 : 0) | (p->inv_std ? 4 : 0);
    cl_long rows = p->rows, n = p->n;
    cl_float eps = p->epsilon;
    if ((st = MEM(0, p->X, 4)) || (st = MEM(2, p->scale, 4)) ||
        (st = MEM(4, p->bias ? p->bias : p->scale, 4)) ||
        (st = MEM(6, p->Y, 4)) ||
        (st = MEM(8, p->mean ? p->mean : p->Y, 4)) ||
        (st = MEM(10, p->inv_std ? p->inv_std : p->Y, 4)) ||
        (st = ARG(12, rows)) || (st = ARG(13, n)) || (st = ARG(14, eps)) ||
        (st = ARG(15, has)))
        return st;
    return seqk__cl_launch_1d(ctx, k, name, p->rows);
}

seqk_status seqk__cl_conv1d(seqk_context *ctx, const seqk_conv1d_problem *p)
{
    static const char name[] = "seqk_f32_conv1d";
    seqk_status st;
    cl_kernel k;
    if ((st = seqk__cl_kernel(ctx, src_name, NULL, name, &k)))
        return st;
    cl_int has_b = p->B != NULL;
    cl_long v[10] = {p->N, p->C, p->L, p->M, p->K, p->Lout, p->stride,
                     p->dilation, p->pad_begin, p->group};
    if ((st = MEM(0, p->X, 4)) || (st = MEM(2, p->W, 4)) ||
        (st = MEM(4, p->B ? p->B : p->W, 4)) || (st = ARG(6, has_b)) ||
        (st = MEM(7, p->Y, 4)))
        return st;
    for (int i = 0; i < 10; i++)
        if ((st = ARG(9 + i, v[i])))
            return st;
    return seqk__cl_launch_1d(ctx, k, name, p->N * p->M * p->Lout);
}
