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

/* One kernel argument: a value (size bytes at p) or, when unit > 0, a
 * pointer into a tensor, passed as (buffer, offset in units): two
 * arguments (seqk__cl_arg_mem). */
typedef struct kernel_arg {
    const void *p;
    size_t size, unit;
} kernel_arg;
#define VAL(v) {&(v), sizeof(v), 0}
#define MEM(ptr, unit) {(ptr), 0, (unit)}
#define NUM_ARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Sets kernel name's arguments to args, in order from 0, and enqueues
 * items work-items; every op here is one such launch. */
static seqk_status launch(seqk_context *ctx, const char *name,
                          const kernel_arg *args, int n, int64_t items)
{
    cl_kernel k;
    seqk_status st = seqk__cl_kernel(ctx, src_name, NULL, name, &k);
    cl_uint i = 0;
    for (int a = 0; a < n && !st; a++) {
        st = args[a].unit
                 ? seqk__cl_arg_mem(ctx, k, name, i, args[a].p, args[a].unit)
                 : seqk__cl_arg(ctx, k, name, i, args[a].size, args[a].p);
        i += args[a].unit ? 2 : 1;
    }
    return st ? st : seqk__cl_launch_1d(ctx, k, name, items);
}

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
    const cl_long8 dims = long8_of(p->ndim, p->dims, 1);
    const cl_long8 as = long8_of(p->ndim, p->a_str, 0);
    const cl_long8 bs = long8_of(p->ndim, p->b_str, 0);
    const cl_int op = (cl_int)p->op;
    const cl_long numel = p->numel;
    const kernel_arg a[] = {VAL(op), MEM(p->A, es),
                            MEM(p->B ? p->B : p->A, es), MEM(p->Y, 1),
                            VAL(numel), VAL(dims), VAL(as), VAL(bs)};
    return launch(ctx, name, a, NUM_ARGS(a), p->numel);
}

seqk_status seqk__cl_where(seqk_context *ctx, const seqk_where_problem *p)
{
    const size_t es = p->elem_size;
    const char *name = es == 1 ? "seqk_where_u8"
                       : es == 4 ? "seqk_where_u32" : "seqk_where_u64";
    const cl_long8 dims = long8_of(p->ndim, p->dims, 1);
    const cl_long8 cs = long8_of(p->ndim, p->c_str, 0);
    const cl_long8 xs = long8_of(p->ndim, p->x_str, 0);
    const cl_long8 ys = long8_of(p->ndim, p->y_str, 0);
    const cl_long numel = p->numel;
    const kernel_arg a[] = {MEM(p->cond, 1), MEM(p->X, es), MEM(p->Y, es),
                            MEM(p->out, es), VAL(numel), VAL(dims),
                            VAL(cs), VAL(xs), VAL(ys)};
    return launch(ctx, name, a, NUM_ARGS(a), p->numel);
}

seqk_status seqk__cl_cast(seqk_context *ctx, const seqk_cast_problem *p)
{
    const cl_int from = (cl_int)p->from, to = (cl_int)p->to;
    const cl_long numel = p->numel;
    const kernel_arg a[] = {VAL(from), VAL(to),
                            MEM(p->X, seqk_dtype_size(p->from)),
                            MEM(p->Y, seqk_dtype_size(p->to)), VAL(numel)};
    return launch(ctx, "seqk_cast", a, NUM_ARGS(a), p->numel);
}

seqk_status seqk__cl_layout(seqk_context *ctx, const seqk_layout_problem *p)
{
    const size_t es = p->elem_size;
    const char *name = es == 1 ? "seqk_layout_u8"
                       : es == 4 ? "seqk_layout_u32" : "seqk_layout_u64";
    const cl_int mode = (cl_int)p->mode;
    const cl_long numel = p->numel;
    const cl_long8 dims = long8_of(p->ndim, p->dims, 1);
    const cl_long8 sd = long8_of(p->ndim, p->src_dims, 1);
    const cl_long8 ss = long8_of(p->ndim, p->src_str, 0);
    const cl_long8 st0 = long8_of(p->ndim, p->start, 0);
    const cl_long8 sp = long8_of(p->ndim, p->step, 0);
    const cl_ulong pad = p->pad_bits;
    const kernel_arg a[] = {VAL(mode), MEM(p->X, es), MEM(p->Y, es),
                            VAL(numel), VAL(dims), VAL(sd), VAL(ss),
                            VAL(st0), VAL(sp), VAL(pad)};
    return launch(ctx, name, a, NUM_ARGS(a), p->numel);
}

seqk_status seqk__cl_reduce(seqk_context *ctx, const seqk_reduce_problem *p)
{
    cl_int mask = 0;
    for (int d = 0; d < p->ndim; d++)
        if (p->reduce[d])
            mask |= 1 << (d + 8 - p->ndim);
    const cl_int op = (cl_int)p->op;
    const cl_long out = p->out_numel, count = p->count;
    const cl_long8 dims = long8_of(p->ndim, p->dims, 1);
    const kernel_arg a[] = {VAL(op), MEM(p->X, 4), MEM(p->Y, 4), VAL(out),
                            VAL(count), VAL(dims), VAL(mask)};
    return launch(ctx, "seqk_f32_reduce", a, NUM_ARGS(a), p->out_numel);
}

seqk_status seqk__cl_log_softmax(seqk_context *ctx,
                                 const seqk_softmax_problem *p)
{
    const cl_long outer = p->outer, n = p->n, inner = p->inner;
    const kernel_arg a[] = {MEM(p->X, 4), MEM(p->Y, 4), VAL(outer), VAL(n),
                            VAL(inner)};
    return launch(ctx, "seqk_f32_log_softmax_columns", a, NUM_ARGS(a),
                  p->outer * p->inner);
}

seqk_status seqk__cl_layer_norm(seqk_context *ctx,
                                const seqk_layer_norm_problem *p)
{
    /* absent tensors: any valid buffer in their place, never touched */
    const cl_int has =
        (p->bias ? 1 : 0) | (p->mean ? 2 : 0) | (p->inv_std ? 4 : 0);
    const cl_long rows = p->rows, n = p->n;
    const cl_float eps = p->epsilon;
    const kernel_arg a[] = {MEM(p->X, 4), MEM(p->scale, 4),
                            MEM(p->bias ? p->bias : p->scale, 4),
                            MEM(p->Y, 4), MEM(p->mean ? p->mean : p->Y, 4),
                            MEM(p->inv_std ? p->inv_std : p->Y, 4),
                            VAL(rows), VAL(n), VAL(eps), VAL(has)};
    return launch(ctx, "seqk_f32_layer_norm", a, NUM_ARGS(a), p->rows);
}

seqk_status seqk__cl_conv1d(seqk_context *ctx, const seqk_conv1d_problem *p)
{
    const cl_int has_b = p->B != NULL;
    /* X[n, c, l] at n*C*L + c*v[10] + l*v[11], Y[n, m, t] at n*M*Lout +
     * m*v[12] + t*v[13] (channels-last: strides) */
    const cl_long v[14] = {p->N, p->C, p->L, p->M, p->K, p->Lout, p->stride,
                           p->dilation, p->pad_begin, p->group,
                           p->x_nlc ? 1 : p->L, p->x_nlc ? p->C : 1,
                           p->y_nlc ? 1 : p->Lout, p->y_nlc ? p->M : 1};
    const kernel_arg a[] = {
        MEM(p->X, 4), MEM(p->W, 4), MEM(p->B ? p->B : p->W, 4),
        VAL(has_b), MEM(p->Y, 4), VAL(v[0]), VAL(v[1]), VAL(v[2]),
        VAL(v[3]), VAL(v[4]), VAL(v[5]), VAL(v[6]), VAL(v[7]), VAL(v[8]),
        VAL(v[9]), VAL(v[10]), VAL(v[11]), VAL(v[12]), VAL(v[13])};
    return launch(ctx, "seqk_f32_conv1d", a, NUM_ARGS(a),
                  p->N * p->M * p->Lout);
}
