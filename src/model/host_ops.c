/*
 * host_ops.c — rows for the shape chains torch.onnx.export emits (Shape
 * -> Gather -> Unsqueeze -> Concat -> Reshape, ConstantOfShape, Range,
 * Where on shapes).  Shape, Size, ConstantOfShape and Range only fold on
 * the host: every input must be known at plan time (Shape and Size need
 * only the shape).  Cast, Slice and Where fold here too (any dtype, no
 * context needed) and run as seqk_cast / seqk_slice / seqk_where when
 * their inputs are only known at run time.  Also the If row.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "onnx.pb-c.h"

/* Index into x (broadcast to o's shape) of o's flat element i. */
static int64_t bidx(const mdl_info *o, const mdl_info *x, int64_t i)
{
    int64_t idx = 0, stride = 1;
    for (int d = o->ndim - 1; d >= 0; d--) {
        int64_t c = i % o->dims[d];
        i /= o->dims[d];
        int dx = d - (o->ndim - x->ndim);
        if (dx >= 0) {
            idx += (x->dims[dx] == 1 ? 0 : c) * stride;
            stride *= x->dims[dx];
        }
    }
    return idx;
}

static void put(mdl_host *h, int64_t i, double f, int64_t v, int use_f)
{
    switch (h->dtype) {
    case SEQK_F32: ((float *)h->data)[i] = use_f ? (float)f : (float)v; break;
    case SEQK_I64:
        ((int64_t *)h->data)[i] = use_f ? (f != f ? 0 : f >= 9.2e18 ? INT64_MAX
                                           : f <= -9.2e18 ? INT64_MIN
                                           : (int64_t)f) : v;
        break;
    case SEQK_I32: {
        int64_t x = use_f ? (f != f ? 0 : f >= 2.1e9 ? INT32_MAX
                             : f <= -2.1e9 ? INT32_MIN : (int64_t)f) : v;
        ((int32_t *)h->data)[i] = (int32_t)x;
        break;
    }
    case SEQK_BOOL: ((uint8_t *)h->data)[i] = use_f ? f != 0 : v != 0; break;
    case SEQK_BF16: break; /* weights only: never a host tensor's dtype */
    }
}

static seqk_status oom(char *err)
{
    snprintf(err, MDL_ERR_LEN, "out of memory (or the constant is larger "
             "than the fold limit)");
    return SEQK_ERR_OUT_OF_MEMORY;
}

/* ---- Shape, Size */

typedef struct int_attrs {
    int64_t a, b;
    int has_b;
    seqk_dtype dtype;
    double fval;
    int64_t ival;
} int_attrs;

static seqk_status shape_parse(mdl_node *n, const void *p, char *err)
{
    int_attrs *a = calloc(1, sizeof *a);
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    a->b = INT64_MAX;
    a->has_b = seqk__mdl_attr_has(p, "end");
    seqk_status st = seqk__mdl_attr_int(p, "start", &a->a, err);
    return st ? st : seqk__mdl_attr_int(p, "end", &a->b, err);
}

static void shape_range(const int_attrs *a, int nd, int64_t *s, int64_t *e)
{
    *s = a->a < 0 ? a->a + nd : a->a;
    *e = a->b < 0 ? a->b + nd : a->b;
    *s = *s < 0 ? 0 : *s > nd ? nd : *s;
    *e = *e < *s ? *s : *e > nd ? nd : *e;
}

static seqk_status shape_infer(const mdl_node *n, const mdl_info *in,
                               mdl_info *out, char *err)
{
    int64_t s, e;
    (void)err;
    out[0].dtype = SEQK_I64;
    if (!strcmp(n->op->name, "Size")) {
        out[0].ndim = 0;
        return SEQK_OK;
    }
    shape_range(n->attrs, in[0].ndim, &s, &e);
    out[0].ndim = 1;
    out[0].dims[0] = e - s;
    return SEQK_OK;
}

static seqk_status shape_fold(const mdl_node *n, const mdl_info *in,
                              mdl_host **out, char *err)
{
    mdl_info o;
    int64_t s, e, numel;
    shape_infer(n, in, &o, err);
    if (!(out[0] = seqk__mdl_host_new(SEQK_I64, o.ndim, o.dims)))
        return oom(err);
    if (!strcmp(n->op->name, "Size")) {
        if (seqk__numel(in[0].ndim, in[0].dims, &numel))
            return SEQK_ERR_OVERFLOW;
        *(int64_t *)out[0]->data = numel;
        return SEQK_OK;
    }
    shape_range(n->attrs, in[0].ndim, &s, &e);
    for (int64_t i = s; i < e; i++)
        ((int64_t *)out[0]->data)[i - s] = in[0].dims[i];
    return SEQK_OK;
}

const mdl_op seqk__mdl_op_shape = {
    "Shape",     1,           23,   MDL_OP_HOST, NULL,
    shape_parse, shape_infer, NULL, NULL,        shape_fold};
const mdl_op seqk__mdl_op_size = {"Size", 1, 23, MDL_OP_HOST, NULL, shape_parse,
                            shape_infer, NULL, NULL, shape_fold};

/* ---- ConstantOfShape, Cast */

static seqk_dtype onnx_dtype(int64_t t)
{
    switch (t) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return SEQK_F32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return SEQK_I64;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: return SEQK_I32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return SEQK_BOOL;
    }
    return (seqk_dtype)0;
}

static seqk_status cos_parse(mdl_node *n, const void *p, char *err)
{
    const Onnx__NodeProto *np = p;
    int_attrs *a = calloc(1, sizeof *a);
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    a->dtype = SEQK_F32;
    for (size_t i = 0; i < np->n_attribute; i++) {
        const Onnx__TensorProto *t = np->attribute[i]->t;
        if (!np->attribute[i]->name || strcmp(np->attribute[i]->name, "value")
            || !t)
            continue;
        a->dtype = onnx_dtype(t->data_type);
        if (!a->dtype) {
            snprintf(err, MDL_ERR_LEN, "value of data type %d",
                     (int)t->data_type);
            return SEQK_ERR_UNSUPPORTED;
        }
        if (t->n_float_data)
            a->fval = t->float_data[0];
        else if (t->n_int64_data)
            a->ival = t->int64_data[0], a->fval = (double)a->ival;
        else if (t->n_int32_data)
            a->ival = t->int32_data[0], a->fval = (double)a->ival;
        else if (t->n_double_data)
            a->fval = t->double_data[0];
        else if (t->has_raw_data && t->raw_data.len >= 1) {
            uint8_t b[8] = {0};
            memcpy(b, t->raw_data.data, t->raw_data.len < 8 ? t->raw_data.len
                                                            : 8);
            if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
                float f;
                memcpy(&f, b, 4);
                a->fval = f;
            } else if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64) {
                memcpy(&a->ival, b, 8);
                a->fval = (double)a->ival;
            } else if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
                int32_t v;
                memcpy(&v, b, 4);
                a->ival = v;
                a->fval = v;
            } else {
                a->ival = b[0];
                a->fval = b[0];
            }
        }
    }
    return SEQK_OK;
}

static seqk_status cos_infer(const mdl_node *n, const mdl_info *in,
                             mdl_info *out, char *err)
{
    const int_attrs *a = n->attrs;
    const mdl_host *s = in[0].cval;
    out[0].dtype = a->dtype;
    if (!s || s->ndim != 1 || s->numel > SEQK_MAX_DIMS) {
        snprintf(err, MDL_ERR_LEN, "the shape must be 1-D and known at plan "
                 "time");
        return SEQK_ERR_UNSUPPORTED;
    }
    out[0].ndim = (int)s->numel;
    for (int i = 0; i < out[0].ndim; i++)
        if ((out[0].dims[i] = seqk__mdl_host_i64(s, i)) < 0) {
            snprintf(err, MDL_ERR_LEN, "negative dim");
            return SEQK_ERR_SHAPE;
        }
    return SEQK_OK;
}

static seqk_status cos_fold(const mdl_node *n, const mdl_info *in,
                            mdl_host **out, char *err)
{
    const int_attrs *a = n->attrs;
    mdl_info o;
    seqk_status st = cos_infer(n, in, &o, err);
    if (st)
        return st;
    if (!(out[0] = seqk__mdl_host_new(a->dtype, o.ndim, o.dims)))
        return oom(err);
    for (int64_t i = 0; i < out[0]->numel; i++)
        put(out[0], i, a->fval, a->ival, a->dtype == SEQK_F32);
    return SEQK_OK;
}

const mdl_op seqk__mdl_op_constant_of_shape = {"ConstantOfShape", 9, 23,
    MDL_OP_HOST, NULL, cos_parse, cos_infer, NULL, NULL, cos_fold};

static seqk_status cast_parse(mdl_node *n, const void *p, char *err)
{
    int_attrs *a = calloc(1, sizeof *a);
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    seqk_status st = seqk__mdl_attr_int(p, "to", &a->a, err);
    if (st)
        return st;
    if (!(a->dtype = onnx_dtype(a->a))) {
        snprintf(err, MDL_ERR_LEN, "Cast to data type %lld", (long long)a->a);
        return SEQK_ERR_UNSUPPORTED;
    }
    return SEQK_OK;
}

static seqk_status cast_infer(const mdl_node *n, const mdl_info *in,
                              mdl_info *out, char *err)
{
    (void)err;
    out[0] = in[0];
    out[0].cval = NULL;
    out[0].dtype = ((const int_attrs *)n->attrs)->dtype;
    return SEQK_OK;
}

static seqk_status cast_fold(const mdl_node *n, const mdl_info *in,
                             mdl_host **out, char *err)
{
    const int_attrs *a = n->attrs;
    const mdl_host *x = in[0].cval;
    if (!(out[0] = seqk__mdl_host_new(a->dtype, x->ndim, x->dims)))
        return oom(err);
    for (int64_t i = 0; i < x->numel; i++)
        put(out[0], i, seqk__mdl_host_f64(x, i), seqk__mdl_host_i64(x, i),
            x->dtype == SEQK_F32);
    return SEQK_OK;
}

static seqk_status cast_run(const mdl_run_args *r)
{
    return seqk_cast(r->ctx, r->in[0], r->out[0]);
}

const mdl_op seqk__mdl_op_cast = {
    "Cast",     6,          23,   MDL_OP_KERNEL, "cast",
    cast_parse, cast_infer, NULL, cast_run,      cast_fold};

/* ---- Range */

static seqk_status range_infer(const mdl_node *n, const mdl_info *in,
                               mdl_info *out, char *err)
{
    (void)n;
    for (int k = 0; k < 3; k++)
        if (!in[k].cval || in[k].cval->numel != 1) {
            snprintf(err, MDL_ERR_LEN, "start, limit, delta must be scalars "
                     "known at plan time");
            return SEQK_ERR_UNSUPPORTED;
        }
    double s = seqk__mdl_host_f64(in[0].cval, 0),
           l = seqk__mdl_host_f64(in[1].cval, 0);
    double d = seqk__mdl_host_f64(in[2].cval, 0), c = ceil((l - s) / d);
    if (d == 0 || !(c < 1e9)) {
        snprintf(err, MDL_ERR_LEN, "Range of delta 0 or too many values");
        return SEQK_ERR_SHAPE;
    }
    out[0].dtype = in[0].dtype;
    out[0].ndim = 1;
    out[0].dims[0] = c > 0 ? (int64_t)c : 0;
    return SEQK_OK;
}

static seqk_status range_fold(const mdl_node *n, const mdl_info *in,
                              mdl_host **out, char *err)
{
    mdl_info o;
    seqk_status st = range_infer(n, in, &o, err);
    if (st)
        return st;
    if (!(out[0] = seqk__mdl_host_new(o.dtype, 1, o.dims)))
        return oom(err);
    double s = seqk__mdl_host_f64(in[0].cval, 0),
           d = seqk__mdl_host_f64(in[2].cval, 0);
    int64_t si = seqk__mdl_host_i64(in[0].cval, 0),
            di = seqk__mdl_host_i64(in[2].cval, 0);
    for (int64_t i = 0; i < o.dims[0]; i++)
        put(out[0], i, s + (double)i * d,
            (int64_t)((uint64_t)si + (uint64_t)i * (uint64_t)di),
            o.dtype == SEQK_F32);
    return SEQK_OK;
}

const mdl_op seqk__mdl_op_range = {"Range", 11, 23, MDL_OP_HOST, NULL, NULL,
                             range_infer, NULL, NULL, range_fold};

/* ---- Slice (opset 10+: starts, ends, axes, steps as inputs) */

typedef struct slice_plan {
    int64_t start[SEQK_MAX_DIMS], step[SEQK_MAX_DIMS];
} slice_plan;

static seqk_status slice_calc(const mdl_node *n, const mdl_info *in,
                              mdl_info *out, slice_plan *sp, char *err)
{
    const mdl_host *st = in[1].cval, *en = n->n_in > 2 ? in[2].cval : NULL;
    const mdl_host *ax = n->n_in > 3 ? in[3].cval : NULL;
    const mdl_host *sp_ = n->n_in > 4 ? in[4].cval : NULL;
    int nd = in[0].ndim;
    if (!st || !en || (n->n_in > 3 && in[3].dtype && !ax) ||
        (n->n_in > 4 && in[4].dtype && !sp_)) {
        snprintf(err, MDL_ERR_LEN, "starts/ends/axes/steps must be known at "
                 "plan time");
        return SEQK_ERR_UNSUPPORTED;
    }
    if (st->numel != en->numel || (ax && ax->numel != st->numel) ||
        (sp_ && sp_->numel != st->numel) || st->numel > nd) {
        snprintf(err, MDL_ERR_LEN, "starts/ends/axes/steps lengths differ");
        return SEQK_ERR_SHAPE;
    }
    *out = in[0];
    out->cval = NULL;
    for (int d = 0; d < nd; d++) {
        sp->start[d] = 0;
        sp->step[d] = 1;
    }
    for (int64_t i = 0; i < st->numel; i++) {
        int a;
        if (seqk__mdl_axis(ax ? seqk__mdl_host_i64(ax, i) : i, nd, &a) < 0) {
            snprintf(err, MDL_ERR_LEN, "bad axis");
            return SEQK_ERR_SHAPE;
        }
        int64_t dim = in[0].dims[a], s = seqk__mdl_host_i64(st, i);
        int64_t e = seqk__mdl_host_i64(en, i),
                k = sp_ ? seqk__mdl_host_i64(sp_, i) : 1;
        if (k == 0) {
            snprintf(err, MDL_ERR_LEN, "step 0");
            return SEQK_ERR_SHAPE;
        }
        if (s < 0)
            s = s < -dim ? 0 : s + dim;
        if (e < 0)
            e = e < -dim ? -1 : e + dim;
        if (k > 0) {
            s = s > dim ? dim : s;
            e = e > dim ? dim : e < 0 ? 0 : e;
            out->dims[a] = e > s ? (e - s + k - 1) / k : 0;
        } else {
            s = s > dim - 1 ? dim - 1 : s;
            e = e > dim - 1 ? dim - 1 : e;
            out->dims[a] = s > e && k > INT64_MIN ? (s - e + (-k) - 1) / (-k)
                                                  : 0;
        }
        sp->start[a] = s;
        sp->step[a] = k;
    }
    return SEQK_OK;
}

static seqk_status slice_infer(const mdl_node *n, const mdl_info *in,
                               mdl_info *out, char *err)
{
    slice_plan sp;
    return slice_calc(n, in, out, &sp, err);
}

static seqk_status slice_fold(const mdl_node *n, const mdl_info *in,
                              mdl_host **out, char *err)
{
    slice_plan sp;
    mdl_info o;
    seqk_status st = slice_calc(n, in, &o, &sp, err);
    if (st)
        return st;
    if (!(out[0] = seqk__mdl_host_new(o.dtype, o.ndim, o.dims)))
        return oom(err);
    size_t es = seqk_dtype_size(o.dtype);
    for (int64_t i = 0; i < out[0]->numel; i++) {
        int64_t r = i, src = 0, stride = 1;
        for (int d = o.ndim - 1; d >= 0; d--) {
            int64_t c = r % o.dims[d];
            r /= o.dims[d];
            src += (sp.start[d] + c * sp.step[d]) * stride;
            stride *= in[0].dims[d];
        }
        memcpy((char *)out[0]->data + (size_t)i * es,
               (const char *)in[0].cval->data + (size_t)src * es, es);
    }
    return SEQK_OK;
}

/* starts, ends, axes, steps as given (seqk_slice clamps them as
 * slice_calc does), copied at plan time. */
typedef struct slice_state {
    int n;
    int64_t v[4][SEQK_MAX_DIMS];
    int has_axes, has_steps;
} slice_state;

static void slice_free(void *s) { free(s); }

static seqk_status slice_prepare(seqk_context *ctx, const mdl_node *n,
                                 const mdl_info *in, const mdl_info *out,
                                 seqk_tensor *const *tin,
                                 seqk_tensor *const *tout, void **state,
                                 void (**free_state)(void *), char *err)
{
    slice_state *s = calloc(1, sizeof *s);
    (void)ctx; (void)out; (void)tin; (void)tout; (void)err;
    if (!s)
        return SEQK_ERR_OUT_OF_MEMORY;
    *state = s;
    *free_state = slice_free;
    s->n = (int)in[1].cval->numel; /* <= rank: slice_calc checked it */
    for (int k = 1; k < 5; k++) {
        const mdl_host *h = n->n_in > k && n->in[k] >= 0 ? in[k].cval : NULL;
        if (!h)
            continue;
        if (k == 3)
            s->has_axes = 1;
        if (k == 4)
            s->has_steps = 1;
        for (int i = 0; i < s->n; i++)
            s->v[k - 1][i] = seqk__mdl_host_i64(h, i);
    }
    return SEQK_OK;
}

static seqk_status slice_run(const mdl_run_args *r)
{
    const slice_state *s = r->state;
    return seqk_slice(r->ctx, s->n, s->v[0], s->v[1],
                      s->has_axes ? s->v[2] : NULL,
                      s->has_steps ? s->v[3] : NULL, r->in[0], r->out[0]);
}

const mdl_op seqk__mdl_op_slice = {
    "Slice",   10,        23,          MDL_OP_KERNEL,
    "slice",   NULL,      slice_infer, slice_prepare,
    slice_run, slice_fold};

/* ---- Where */

static seqk_status where_infer(const mdl_node *n, const mdl_info *in,
                               mdl_info *out, char *err)
{
    mdl_info t;
    seqk_status st;
    (void)n;
    if (in[1].dtype != in[2].dtype) {
        snprintf(err, MDL_ERR_LEN, "X and Y dtypes differ");
        return SEQK_ERR_DTYPE;
    }
    if ((st = seqk__mdl_broadcast(&in[0], &in[1], &t, err)) ||
        (st = seqk__mdl_broadcast(&t, &in[2], &out[0], err)))
        return st;
    out[0].dtype = in[1].dtype;
    return SEQK_OK;
}

static seqk_status where_fold(const mdl_node *n, const mdl_info *in,
                              mdl_host **out, char *err)
{
    mdl_info o;
    seqk_status st = where_infer(n, in, &o, err);
    if (st)
        return st;
    if (!(out[0] = seqk__mdl_host_new(o.dtype, o.ndim, o.dims)))
        return oom(err);
    size_t es = seqk_dtype_size(o.dtype);
    for (int64_t i = 0; i < out[0]->numel; i++) {
        int c = seqk__mdl_host_i64(in[0].cval, bidx(&o, &in[0], i)) != 0;
        const mdl_info *src = c ? &in[1] : &in[2];
        memcpy((char *)out[0]->data + (size_t)i * es,
               (const char *)src->cval->data + (size_t)bidx(&o, src, i) * es,
               es);
    }
    return SEQK_OK;
}

static seqk_status where_run(const mdl_run_args *r)
{
    return seqk_where(r->ctx, r->in[0], r->in[1], r->in[2], r->out[0]);
}

const mdl_op seqk__mdl_op_where = {"Where", 9, 23, MDL_OP_KERNEL, "where", NULL,
                             where_infer, NULL, where_run, where_fold};

/* ---- If: inputs cond, then outputs..., else outputs... (onnx_load.c).
 * A known condition folds it into views of the chosen branch (plan.c);
 * otherwise both branches must agree in dtype and shape, and the run
 * copies the chosen one. */

static seqk_status if_infer(const mdl_node *n, const mdl_info *in,
                            mdl_info *out, char *err)
{
    int k = n->n_out;
    if (in[0].cval && in[0].cval->numel >= 1) {
        int c = seqk__mdl_host_i64(in[0].cval, 0) != 0;
        for (int o = 0; o < k; o++) {
            out[o] = in[1 + (c ? 0 : k) + o];
            out[o].cval = NULL;
        }
        return SEQK_OK;
    }
    for (int o = 0; o < k; o++) {
        const mdl_info *t = &in[1 + o], *e = &in[1 + k + o];
        if (t->dtype != e->dtype || t->ndim != e->ndim ||
            memcmp(t->dims, e->dims, sizeof(int64_t) * (size_t)t->ndim)) {
            snprintf(err, MDL_ERR_LEN, "the condition is only known at run "
                     "time and output %d differs between the branches", o);
            return SEQK_ERR_UNSUPPORTED;
        }
        out[o] = *t;
        out[o].cval = NULL;
    }
    return SEQK_OK;
}

const mdl_op seqk__mdl_op_if = {"If", 1, 23, MDL_OP_IF, NULL, NULL, if_infer,
                          NULL, NULL, NULL};
