/*
 * ops.c — the op table: one row per ONNX op (name, opsets, how its
 * attributes parse, its shape function, the library call that runs it),
 * plus the shape helpers rows share (attribute readers: ops_attr.c;
 * views: ops_views.c).  A new library op joins as one row here (or in
 * its own ops_*.c) and one line in rows[].
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "onnx.pb-c.h"

/* ---- shapes */

const char *seqk__mdl_dtype_name(seqk_dtype t)
{
    switch (t) {
    case SEQK_F32: return "float32";
    case SEQK_I32: return "int32";
    case SEQK_I64: return "int64";
    case SEQK_BOOL: return "bool";
    case SEQK_BF16: return "bfloat16";
    }
    return "unknown";
}

int seqk__mdl_axis(int64_t axis, int ndim, int *out)
{
    if (axis < -(int64_t)ndim || axis >= ndim)
        return -1;
    *out = (int)(axis < 0 ? axis + ndim : axis);
    return 0;
}

seqk_status seqk__mdl_broadcast(const mdl_info *a, const mdl_info *b,
                          mdl_info *out, char *err)
{
    int n = a->ndim > b->ndim ? a->ndim : b->ndim;
    out->ndim = n;
    for (int i = 0; i < n; i++) {
        int ia = i - (n - a->ndim), ib = i - (n - b->ndim);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            snprintf(err, MDL_ERR_LEN, "shapes do not broadcast: dim %d is "
                     "%lld and %lld", i, (long long)da, (long long)db);
            return SEQK_ERR_SHAPE;
        }
        out->dims[i] = da == 1 ? db : da;
    }
    return SEQK_OK;
}

static void info_copy_shape(mdl_info *dst, const mdl_info *src)
{
    dst->ndim = src->ndim;
    memcpy(dst->dims, src->dims, sizeof dst->dims);
}

static seqk_status need_f32(const mdl_info *in, int k, char *err)
{
    if (in[k].dtype != SEQK_F32) {
        snprintf(err, MDL_ERR_LEN, "input %d is %s: seqk runs this op on "
                 "float32", k, seqk__mdl_dtype_name(in[k].dtype));
        return SEQK_ERR_DTYPE;
    }
    return SEQK_OK;
}

/* ---- MatMul */

static seqk_status matmul_infer(const mdl_node *n, const mdl_info *in,
                                mdl_info *out, char *err)
{
    (void)n;
    mdl_info a = in[0], b = in[1], ba, bb, o;
    seqk_status st;
    if ((st = need_f32(in, 0, err)) || (st = need_f32(in, 1, err)))
        return st;
    if (a.ndim < 1 || b.ndim < 1) {
        snprintf(err, MDL_ERR_LEN, "MatMul of a scalar");
        return SEQK_ERR_SHAPE;
    }
    int64_t m = a.ndim == 1 ? 1 : a.dims[a.ndim - 2], k = a.dims[a.ndim - 1];
    int64_t kb = b.ndim == 1 ? b.dims[0] : b.dims[b.ndim - 2];
    int64_t nn = b.ndim == 1 ? 1 : b.dims[b.ndim - 1];
    if (k != kb) {
        snprintf(err, MDL_ERR_LEN, "MatMul inner dims differ: %lld and %lld",
                 (long long)k, (long long)kb);
        return SEQK_ERR_SHAPE;
    }
    ba.ndim = a.ndim > 2 ? a.ndim - 2 : 0;
    bb.ndim = b.ndim > 2 ? b.ndim - 2 : 0;
    memcpy(ba.dims, a.dims, sizeof ba.dims);
    memcpy(bb.dims, b.dims, sizeof bb.dims);
    if ((st = seqk__mdl_broadcast(&ba, &bb, &o, err)))
        return st;
    out[0].dtype = SEQK_F32;
    out[0].ndim = o.ndim;
    memcpy(out[0].dims, o.dims, sizeof o.dims);
    if (a.ndim > 1)
        out[0].dims[out[0].ndim++] = m;
    if (b.ndim > 1)
        out[0].dims[out[0].ndim++] = nn;
    return SEQK_OK;
}

static seqk_status matmul_run(const mdl_run_args *a)
{
    return seqk_matmul(a->ctx, a->in[0], a->in[1], a->out[0]);
}

static const mdl_op op_matmul = {"MatMul", 1, 23, MDL_OP_KERNEL, "matmul",
                                 NULL, matmul_infer, NULL, matmul_run, NULL};

/* ---- Gemm */

typedef mdl_gemm_attrs gemm_attrs;

static seqk_status gemm_parse(mdl_node *n, const void *p, char *err)
{
    gemm_attrs *g = calloc(1, sizeof *g);
    seqk_status st;
    if (!(n->attrs = g))
        return SEQK_ERR_OUT_OF_MEMORY;
    g->alpha = g->beta = 1.0f;
    if ((st = seqk__mdl_attr_int(p, "transA", &g->trans_a, err)) ||
        (st = seqk__mdl_attr_int(p, "transB", &g->trans_b, err)) ||
        (st = seqk__mdl_attr_float(p, "alpha", &g->alpha, err)) ||
        (st = seqk__mdl_attr_float(p, "beta", &g->beta, err)))
        return st;
    if (seqk__mdl_attr_has(p, "broadcast") && n->opset < 7) {
        snprintf(err, MDL_ERR_LEN, "legacy broadcast attribute");
        return SEQK_ERR_UNSUPPORTED;
    }
    return SEQK_OK;
}

static seqk_status gemm_infer(const mdl_node *n, const mdl_info *in,
                              mdl_info *out, char *err)
{
    const gemm_attrs *g = n->attrs;
    seqk_status st;
    if ((st = need_f32(in, 0, err)) || (st = need_f32(in, 1, err)))
        return st;
    if (in[0].ndim != 2 || in[1].ndim != 2) {
        snprintf(err, MDL_ERR_LEN, "Gemm takes 2-D A and B");
        return SEQK_ERR_SHAPE;
    }
    out[0].dtype = SEQK_F32;
    out[0].ndim = 2;
    out[0].dims[0] = in[0].dims[g->trans_a ? 1 : 0];
    out[0].dims[1] = in[1].dims[g->trans_b ? 0 : 1];
    return SEQK_OK;
}

static seqk_status gemm_run(const mdl_run_args *a)
{
    const gemm_attrs *g = a->node->attrs;
    seqk_gemm_params p;
    seqk_gemm_params_init(&p);
    p.trans_a = (int)g->trans_a;
    p.trans_b = (int)g->trans_b;
    p.alpha = g->alpha;
    p.beta = g->beta;
    return seqk_gemm(a->ctx, &p, a->in[0], a->in[1],
                     a->node->n_in > 2 ? a->in[2] : NULL, a->out[0]);
}

static const mdl_op op_gemm = {"Gemm", 7, 23, MDL_OP_KERNEL, "gemm",
                               gemm_parse, gemm_infer, NULL, gemm_run, NULL};

/* ---- Softmax: opset 13 is one axis; before it, the input is read as 2-D
 * [prod(dims[:axis]), prod(dims[axis:])] (views made in prepare). */

typedef mdl_axis_attrs axis_attrs; /* model.h: fuse.c reads them */

static seqk_status softmax_parse(mdl_node *n, const void *p, char *err)
{
    axis_attrs *a = calloc(1, sizeof *a);
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    a->axis = n->opset >= 13 ? -1 : 1;
    return seqk__mdl_attr_int(p, "axis", &a->axis, err);
}

static seqk_status same_f32_infer(const mdl_node *n, const mdl_info *in,
                                  mdl_info *out, char *err)
{
    (void)n;
    seqk_status st = need_f32(in, 0, err);
    out[0].dtype = SEQK_F32;
    info_copy_shape(&out[0], &in[0]);
    return st;
}

static seqk_status softmax_infer(const mdl_node *n, const mdl_info *in,
                                 mdl_info *out, char *err)
{
    const axis_attrs *a = n->attrs;
    int ax;
    if (seqk__mdl_axis(a->axis, in[0].ndim, &ax) < 0) {
        snprintf(err, MDL_ERR_LEN, "axis %lld outside rank %d",
                 (long long)a->axis, in[0].ndim);
        return SEQK_ERR_SHAPE;
    }
    return same_f32_infer(n, in, out, err);
}

typedef struct views2 {
    seqk_tensor *x, *y;
} views2;

static void views2_free(void *s)
{
    views2 *v = s;
    if (!v)
        return;
    seqk_tensor_destroy(v->x);
    seqk_tensor_destroy(v->y);
    free(v);
}

static seqk_status softmax_prepare(seqk_context *ctx, const mdl_node *n,
                                   const mdl_info *in, const mdl_info *out,
                                   seqk_tensor *const *tin,
                                   seqk_tensor *const *tout, void **state,
                                   void (**free_state)(void *), char *err)
{
    const axis_attrs *a = n->attrs;
    int ax;
    int64_t d[2] = {1, 1};
    views2 *v;
    seqk_status st;
    (void)ctx; (void)out; (void)err;
    if (n->opset >= 13 || seqk__mdl_axis(a->axis, in[0].ndim, &ax) < 0 ||
        ax == in[0].ndim - 1)
        return SEQK_OK;
    for (int i = 0; i < in[0].ndim; i++)
        d[i >= ax] *= in[0].dims[i];
    if (!(v = calloc(1, sizeof *v)))
        return SEQK_ERR_OUT_OF_MEMORY;
    if ((st = seqk_tensor_reshape_view(tin[0], 2, d, &v->x)) ||
        (st = seqk_tensor_reshape_view(tout[0], 2, d, &v->y))) {
        views2_free(v);
        return st;
    }
    *state = v;
    *free_state = views2_free;
    return SEQK_OK;
}

static seqk_status softmax_run(const mdl_run_args *a)
{
    const axis_attrs *at = a->node->attrs;
    const views2 *v = a->state;
    /* LogSoftmax shares the row's attributes and 2-D views */
    seqk_status (*fn)(seqk_context *, int64_t, const seqk_tensor *,
                      seqk_tensor *) =
        a->node->op->name[0] == 'L' ? seqk_log_softmax : seqk_softmax;
    if (v)
        return fn(a->ctx, 1, v->x, v->y);
    return fn(a->ctx, at->axis, a->in[0], a->out[0]);
}

static const mdl_op op_softmax = {"Softmax", 1, 23, MDL_OP_KERNEL, "softmax",
                                  softmax_parse, softmax_infer,
                                  softmax_prepare, softmax_run, NULL};
static const mdl_op op_log_softmax = {"LogSoftmax", 1, 23, MDL_OP_KERNEL,
                                      "log_softmax", softmax_parse,
                                      softmax_infer, softmax_prepare,
                                      softmax_run, NULL};

/* ---- element-wise: f32 on the device; integer ones (shape arithmetic)
 * only fold on the host. */

static seqk_status ew_infer(const mdl_node *n, const mdl_info *in,
                            mdl_info *out, char *err)
{
    int op = seqk_elementwise_from_name(n->op->name);
    seqk_status st;
    if (seqk_elementwise_arity((seqk_elementwise_op)op) == 1 ||
        n->n_in < 2) {
        out[0].dtype = in[0].dtype;
        info_copy_shape(&out[0], &in[0]);
        return SEQK_OK;
    }
    if (in[0].dtype != in[1].dtype) {
        snprintf(err, MDL_ERR_LEN, "inputs are %s and %s",
                 seqk__mdl_dtype_name(in[0].dtype),
                 seqk__mdl_dtype_name(in[1].dtype));
        return SEQK_ERR_DTYPE;
    }
    out[0].dtype = in[0].dtype;
    st = seqk__mdl_broadcast(&in[0], &in[1], &out[0], err);
    return st;
}

static seqk_status ew_run(const mdl_run_args *a)
{
    seqk_elementwise_params p;
    if (seqk_tensor_dtype(a->in[0]) != SEQK_F32)
        return seqk__error(a->ctx, SEQK_ERR_UNSUPPORTED,
                           "model: node '%s' (%s, opset %d): %s at run time "
                           "is float32 only (integer inputs must be known "
                           "at plan time)", a->node->name,
                           a->node->op->name, a->node->opset,
                           a->node->op->name);
    seqk_elementwise_params_init(
        &p, (seqk_elementwise_op)seqk_elementwise_from_name(a->node->op->name));
    return seqk_elementwise(a->ctx, &p, a->in[0],
                            a->node->n_in > 1 ? a->in[1] : NULL, a->out[0]);
}

/* Integer element-wise on the host: shape chains (Mul(dim, heads), ...). */
static seqk_status ew_fold(const mdl_node *n, const mdl_info *in,
                           mdl_host **out, char *err)
{
    const mdl_info *o = NULL;
    mdl_info oi;
    const char *nm = n->op->name;
    int binary = n->n_in > 1;
    (void)err;
    if (in[0].dtype == SEQK_F32)
        return SEQK_OK; /* the library op folds it */
    if (binary) {
        if (seqk__mdl_broadcast(&in[0], &in[1], &oi, err))
            return SEQK_ERR_SHAPE;
    } else {
        info_copy_shape(&oi, &in[0]);
    }
    o = &oi;
    mdl_host *h = seqk__mdl_host_new(in[0].dtype, o->ndim, o->dims);
    if (!h)
        return SEQK_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < h->numel; i++) {
        /* index of i in each (broadcast) input */
        int64_t ia = 0, ib = 0, sa = 1, sb = 1, r = i;
        for (int d = o->ndim - 1; d >= 0; d--) {
            int64_t c = r % o->dims[d];
            r /= o->dims[d];
            int da = d - (o->ndim - in[0].ndim);
            if (da >= 0) {
                ia += (in[0].dims[da] == 1 ? 0 : c) * sa;
                sa *= in[0].dims[da];
            }
            if (binary) {
                int db = d - (o->ndim - in[1].ndim);
                if (db >= 0) {
                    ib += (in[1].dims[db] == 1 ? 0 : c) * sb;
                    sb *= in[1].dims[db];
                }
            }
        }
        int64_t x = seqk__mdl_host_i64(in[0].cval, ia), y = 0, z = 0;
        if (binary)
            y = seqk__mdl_host_i64(in[1].cval, ib);
        /* unsigned arithmetic: wraps like ONNX Runtime, no UB */
        if (!strcmp(nm, "Add"))
            z = (int64_t)((uint64_t)x + (uint64_t)y);
        else if (!strcmp(nm, "Sub"))
            z = (int64_t)((uint64_t)x - (uint64_t)y);
        else if (!strcmp(nm, "Mul"))
            z = (int64_t)((uint64_t)x * (uint64_t)y);
        else if (!strcmp(nm, "Div"))
            z = y == 0 || (y == -1 && x == INT64_MIN) ? 0 : x / y;
        else if (!strcmp(nm, "Neg"))
            z = (int64_t)(0 - (uint64_t)x);
        else if (!strcmp(nm, "Relu"))
            z = x > 0 ? x : 0;
        else {
            seqk__mdl_host_free(h);
            snprintf(err, MDL_ERR_LEN, "%s on %s", nm,
                     seqk__mdl_dtype_name(in[0].dtype));
            return SEQK_ERR_DTYPE;
        }
        if (h->dtype == SEQK_I64)
            ((int64_t *)h->data)[i] = z;
        else if (h->dtype == SEQK_I32)
            ((int32_t *)h->data)[i] = (int32_t)z;
        else
            ((uint8_t *)h->data)[i] = z != 0;
    }
    out[0] = h;
    return SEQK_OK;
}

#define EW_ROW(var, nm)                                                    \
    static const mdl_op var = {nm, 1, 23, MDL_OP_KERNEL, "elementwise",    \
                               NULL, ew_infer, NULL, ew_run, ew_fold}
EW_ROW(op_add, "Add");
EW_ROW(op_sub, "Sub");
EW_ROW(op_mul, "Mul");
EW_ROW(op_div, "Div");
EW_ROW(op_tanh, "Tanh");
EW_ROW(op_sigmoid, "Sigmoid");
EW_ROW(op_relu, "Relu");
EW_ROW(op_exp, "Exp");
EW_ROW(op_neg, "Neg");

/* ---- Gather, ArgMax, TopK, Concat */

static seqk_status axis_parse(mdl_node *n, const void *p, char *err)
{
    axis_attrs *a = calloc(1, sizeof *a);
    seqk_status st;
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    a->axis = !strcmp(n->op->name, "TopK") ? -1 : 0;
    a->keepdims = a->largest = a->sorted = 1;
    a->k = -1;
    if ((st = seqk__mdl_attr_int(p, "axis", &a->axis, err)) ||
        (st = seqk__mdl_attr_int(p, "keepdims", &a->keepdims, err)) ||
        (st = seqk__mdl_attr_int(p, "select_last_index", &a->select_last,
                                 err)) ||
        (st = seqk__mdl_attr_int(p, "largest", &a->largest, err)) ||
        (st = seqk__mdl_attr_int(p, "sorted", &a->sorted, err)) ||
        (st = seqk__mdl_attr_int(p, "k", &a->k, err)))
        return st;
    if (!strcmp(n->op->name, "Concat") && !seqk__mdl_attr_has(p, "axis")) {
        snprintf(err, MDL_ERR_LEN, "Concat without axis");
        return SEQK_ERR_FORMAT;
    }
    return SEQK_OK;
}

static seqk_status bad_axis(const axis_attrs *a, int ndim, char *err)
{
    snprintf(err, MDL_ERR_LEN, "axis %lld outside rank %d",
             (long long)a->axis, ndim);
    return SEQK_ERR_SHAPE;
}

static seqk_status gather_infer(const mdl_node *n, const mdl_info *in,
                                mdl_info *out, char *err)
{
    const axis_attrs *a = n->attrs;
    int ax, nd = 0;
    if (seqk__mdl_axis(a->axis, in[0].ndim, &ax) < 0)
        return bad_axis(a, in[0].ndim, err);
    if (in[1].dtype != SEQK_I64 && in[1].dtype != SEQK_I32) {
        snprintf(err, MDL_ERR_LEN, "indices are %s (int32 or int64)",
                 seqk__mdl_dtype_name(in[1].dtype));
        return SEQK_ERR_DTYPE;
    }
    if (in[0].ndim - 1 + in[1].ndim > SEQK_MAX_DIMS) {
        snprintf(err, MDL_ERR_LEN, "output rank above %d", SEQK_MAX_DIMS);
        return SEQK_ERR_SHAPE;
    }
    out[0].dtype = in[0].dtype;
    for (int i = 0; i < ax; i++)
        out[0].dims[nd++] = in[0].dims[i];
    for (int i = 0; i < in[1].ndim; i++)
        out[0].dims[nd++] = in[1].dims[i];
    for (int i = ax + 1; i < in[0].ndim; i++)
        out[0].dims[nd++] = in[0].dims[i];
    out[0].ndim = nd;
    return SEQK_OK;
}

static seqk_status gather_run(const mdl_run_args *a)
{
    const axis_attrs *at = a->node->attrs;
    return seqk_gather(a->ctx, at->axis, a->in[0], a->in[1], a->out[0]);
}

static const mdl_op op_gather = {"Gather", 1, 23, MDL_OP_KERNEL, "gather",
                                 axis_parse, gather_infer, NULL, gather_run,
                                 NULL};

static seqk_status argmax_infer(const mdl_node *n, const mdl_info *in,
                                mdl_info *out, char *err)
{
    const axis_attrs *a = n->attrs;
    int ax, nd = 0;
    seqk_status st = need_f32(in, 0, err);
    if (st)
        return st;
    if (seqk__mdl_axis(a->axis, in[0].ndim, &ax) < 0)
        return bad_axis(a, in[0].ndim, err);
    for (int i = 0; i < in[0].ndim; i++)
        if (i != ax)
            out[0].dims[nd++] = in[0].dims[i];
        else if (a->keepdims)
            out[0].dims[nd++] = 1;
    out[0].ndim = nd;
    out[0].dtype = SEQK_I64;
    return SEQK_OK;
}

static seqk_status argmax_run(const mdl_run_args *a)
{
    const axis_attrs *at = a->node->attrs;
    seqk_argmax_params p;
    seqk_argmax_params_init(&p);
    p.axis = at->axis;
    p.keepdims = (int)at->keepdims;
    p.select_last_index = (int)at->select_last;
    return seqk_argmax(a->ctx, &p, a->in[0], a->out[0]);
}

static const mdl_op op_argmax = {"ArgMax", 1, 23, MDL_OP_KERNEL, "argmax",
                                 axis_parse, argmax_infer, NULL, argmax_run,
                                 NULL};

/* k: the attribute before opset 10, input 1 (known at plan time) after */
static int64_t topk_k(const mdl_node *n, const mdl_info *in)
{
    const axis_attrs *a = n->attrs;
    if (n->opset < 10)
        return a->k;
    if (n->n_in < 2 || !in[1].cval || in[1].cval->numel != 1)
        return -2;
    return seqk__mdl_host_i64(in[1].cval, 0);
}

static seqk_status topk_infer(const mdl_node *n, const mdl_info *in,
                              mdl_info *out, char *err)
{
    const axis_attrs *a = n->attrs;
    int ax;
    int64_t k = topk_k(n, in);
    seqk_status st = need_f32(in, 0, err);
    if (st)
        return st;
    if (k == -2) {
        snprintf(err, MDL_ERR_LEN, "K must be known at plan time (a "
                 "constant or computed from shapes)");
        return SEQK_ERR_UNSUPPORTED;
    }
    if (seqk__mdl_axis(a->axis, in[0].ndim, &ax) < 0)
        return bad_axis(a, in[0].ndim, err);
    if (k < 0 || k > in[0].dims[ax]) {
        snprintf(err, MDL_ERR_LEN, "K=%lld outside 0..%lld", (long long)k,
                 (long long)in[0].dims[ax]);
        return SEQK_ERR_SHAPE;
    }
    for (int o = 0; o < 2; o++) {
        info_copy_shape(&out[o], &in[0]);
        out[o].dims[ax] = k;
    }
    out[0].dtype = SEQK_F32;
    out[1].dtype = SEQK_I64;
    return SEQK_OK;
}

static seqk_status topk_run(const mdl_run_args *a)
{
    const axis_attrs *at = a->node->attrs;
    seqk_topk_params p;
    seqk_topk_params_init(&p, seqk_tensor_dim(a->out[0], (int)(
        at->axis < 0 ? at->axis + seqk_tensor_ndim(a->out[0]) : at->axis)));
    p.axis = at->axis;
    p.largest = (int)at->largest;
    p.sorted = (int)at->sorted;
    return seqk_topk(a->ctx, &p, a->in[0], a->out[0], a->out[1]);
}

static const mdl_op op_topk = {"TopK", 1, 23, MDL_OP_KERNEL, "topk",
                               axis_parse, topk_infer, NULL, topk_run, NULL};

static seqk_status concat_infer(const mdl_node *n, const mdl_info *in,
                                mdl_info *out, char *err)
{
    const axis_attrs *a = n->attrs;
    int ax;
    if (seqk__mdl_axis(a->axis, in[0].ndim, &ax) < 0)
        return bad_axis(a, in[0].ndim, err);
    info_copy_shape(&out[0], &in[0]);
    out[0].dtype = in[0].dtype;
    out[0].dims[ax] = 0;
    for (int k = 0; k < n->n_in; k++) {
        if (in[k].dtype != in[0].dtype || in[k].ndim != in[0].ndim) {
            snprintf(err, MDL_ERR_LEN, "input %d differs in dtype or rank",
                     k);
            return SEQK_ERR_SHAPE;
        }
        for (int d = 0; d < in[0].ndim; d++)
            if (d != ax && in[k].dims[d] != in[0].dims[d]) {
                snprintf(err, MDL_ERR_LEN, "input %d differs in dim %d", k, d);
                return SEQK_ERR_SHAPE;
            }
        if (seqk__add_i64(out[0].dims[ax], in[k].dims[ax], &out[0].dims[ax]))
            return SEQK_ERR_OVERFLOW;
    }
    return SEQK_OK;
}

static seqk_status concat_run(const mdl_run_args *a)
{
    const axis_attrs *at = a->node->attrs;
    return seqk_concat(a->ctx, at->axis, a->node->n_in,
                       (const seqk_tensor *const *)a->in, a->out[0]);
}

static const mdl_op op_concat = {"Concat", 4, 23, MDL_OP_KERNEL, "concat",
                                 axis_parse, concat_infer, NULL, concat_run,
                                 NULL};

/* ---- Attention (opset 23) */

typedef struct attn_attrs {
    int64_t is_causal, q_heads, kv_heads, mode;
    float scale, softcap;
} attn_attrs;

static seqk_status attn_parse(mdl_node *n, const void *p, char *err)
{
    attn_attrs *a = calloc(1, sizeof *a);
    seqk_status st;
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    if ((st = seqk__mdl_attr_int(p, "is_causal", &a->is_causal, err)) ||
        (st = seqk__mdl_attr_int(p, "q_num_heads", &a->q_heads, err)) ||
        (st = seqk__mdl_attr_int(p, "kv_num_heads", &a->kv_heads, err)) ||
        (st = seqk__mdl_attr_int(p, "qk_matmul_output_mode", &a->mode, err)) ||
        (st = seqk__mdl_attr_float(p, "scale", &a->scale, err)) ||
        (st = seqk__mdl_attr_float(p, "softcap", &a->softcap, err)))
        return st;
    if (n->n_in > 4 || n->n_out > 1) {
        snprintf(err, MDL_ERR_LEN, "past_key/past_value and the present/qk "
                 "outputs are not supported");
        return SEQK_ERR_UNSUPPORTED;
    }
    return SEQK_OK;
}

static seqk_status attn_infer(const mdl_node *n, const mdl_info *in,
                              mdl_info *out, char *err)
{
    const attn_attrs *a = n->attrs;
    seqk_status st;
    if ((st = need_f32(in, 0, err)) || (st = need_f32(in, 1, err)) ||
        (st = need_f32(in, 2, err)))
        return st;
    int nd = in[0].ndim;
    if ((nd != 3 && nd != 4) || in[1].ndim != nd || in[2].ndim != nd) {
        snprintf(err, MDL_ERR_LEN, "Q, K, V must all be 3-D or 4-D");
        return SEQK_ERR_SHAPE;
    }
    info_copy_shape(&out[0], &in[0]);
    out[0].dtype = SEQK_F32;
    if (nd == 4) {
        out[0].dims[3] = in[2].dims[3];
    } else {
        if (a->q_heads <= 0 || a->kv_heads <= 0 ||
            in[2].dims[2] % a->kv_heads) {
            snprintf(err, MDL_ERR_LEN, "3-D Attention needs q_num_heads and "
                     "kv_num_heads dividing the hidden sizes");
            return SEQK_ERR_SHAPE;
        }
        out[0].dims[2] = in[2].dims[2] / a->kv_heads * a->q_heads;
    }
    return SEQK_OK;
}

static seqk_status attn_run(const mdl_run_args *r)
{
    const attn_attrs *a = r->node->attrs;
    seqk_attention_params p;
    seqk_attention_params_init(&p);
    p.q_num_heads = a->q_heads;
    p.kv_num_heads = a->kv_heads;
    p.scale = a->scale;
    p.softcap = a->softcap;
    p.is_causal = (int)a->is_causal;
    p.causal_align = SEQK_CAUSAL_TOP_LEFT;
    return seqk_attention(r->ctx, &p, r->in[0], r->in[1], r->in[2],
                          r->node->n_in > 3 ? r->in[3] : NULL, r->out[0]);
}

static const mdl_op op_attention = {"Attention", 23, 23, MDL_OP_KERNEL,
                                    "attention", attn_parse, attn_infer,
                                    NULL, attn_run, NULL};

/* ---- the table */

static const mdl_op *const rows[] = {&op_matmul,
                                     &op_gemm,
                                     &op_softmax,
                                     &op_add,
                                     &op_sub,
                                     &op_mul,
                                     &op_div,
                                     &op_tanh,
                                     &op_sigmoid,
                                     &op_relu,
                                     &op_exp,
                                     &op_neg,
                                     &op_gather,
                                     &op_argmax,
                                     &op_topk,
                                     &op_concat,
                                     &op_attention,
                                     &seqk__mdl_op_lstm,
                                     &seqk__mdl_op_gru,
                                     &seqk__mdl_op_rnn,
                                     &seqk__mdl_op_reshape,
                                     &seqk__mdl_op_flatten,
                                     &seqk__mdl_op_squeeze,
                                     &seqk__mdl_op_unsqueeze,
                                     &seqk__mdl_op_identity,
                                     &seqk__mdl_op_dropout,
                                     &seqk__mdl_op_shape,
                                     &seqk__mdl_op_size,
                                     &seqk__mdl_op_constant_of_shape,
                                     &seqk__mdl_op_cast,
                                     &seqk__mdl_op_range,
                                     &seqk__mdl_op_slice,
                                     &seqk__mdl_op_where,
                                     &op_log_softmax,
                                     &seqk__mdl_op_transpose,
                                     &seqk__mdl_op_expand,
                                     &seqk__mdl_op_tile,
                                     &seqk__mdl_op_pad,
                                     &seqk__mdl_op_split,
                                     &seqk__mdl_op_reduce_sum,
                                     &seqk__mdl_op_reduce_mean,
                                     &seqk__mdl_op_reduce_max,
                                     &seqk__mdl_op_layer_norm,
                                     &seqk__mdl_op_conv,
                                     &seqk__mdl_op_pow,
                                     &seqk__mdl_op_sqrt,
                                     &seqk__mdl_op_abs,
                                     &seqk__mdl_op_log,
                                     &seqk__mdl_op_erf,
                                     &seqk__mdl_op_leaky_relu,
                                     &seqk__mdl_op_gelu,
                                     &seqk__mdl_op_hard_sigmoid,
                                     &seqk__mdl_op_clip,
                                     &seqk__mdl_op_equal,
                                     &seqk__mdl_op_less,
                                     &seqk__mdl_op_greater,
                                     &seqk__mdl_op_less_or_equal,
                                     &seqk__mdl_op_greater_or_equal,
                                     &seqk__mdl_op_and,
                                     &seqk__mdl_op_or,
                                     &seqk__mdl_op_not,
                                     NULL};

const mdl_op *const *seqk__mdl_op_table(void) { return rows; }

/* Inputs a node of the op must have (present, not ""): the shape and run
 * functions read them without checking. */
int seqk__mdl_op_min_inputs(const mdl_op *op)
{
    static const struct { const char *name; int n; } mins[] = {
        {"MatMul", 2}, {"Gemm", 2}, {"Add", 2}, {"Sub", 2}, {"Mul", 2},
        {"Div", 2}, {"Gather", 2}, {"Equal", 2}, {"Where", 3},
        {"Pow", 2}, {"Less", 2}, {"Greater", 2}, {"LessOrEqual", 2},
        {"GreaterOrEqual", 2}, {"And", 2}, {"Or", 2}, {"Expand", 2},
        {"Tile", 2}, {"LayerNormalization", 2}, {"Conv", 2},
        {"Range", 3}, {"Slice", 3}, {"Reshape", 2}, {"LSTM", 3},
        {"GRU", 3}, {"RNN", 3}, {"Attention", 3}, {"If", 1}};
    for (size_t i = 0; i < sizeof mins / sizeof *mins; i++)
        if (!strcmp(op->name, mins[i].name))
            return mins[i].n;
    return 1;
}

const mdl_op *seqk__mdl_op_find(const char *name, int opset, int *opset_bad)
{
    *opset_bad = 0;
    for (int i = 0; rows[i]; i++) {
        if (strcmp(rows[i]->name, name) != 0)
            continue;
        if (opset >= rows[i]->opset_min && opset <= rows[i]->opset_max)
            return rows[i];
        *opset_bad = 1;
    }
    return NULL;
}

int seqk__mdl_gather_axis(const mdl_node *n)
{
    return (int)((const axis_attrs *)n->attrs)->axis;
}
