/*
 * ops_onnx.c — op rows of the library's "ONNX ops" (include/seqk.h):
 * Transpose, Expand, Tile, Pad, Split, ReduceSum/Mean/Max,
 * LayerNormalization, Conv (1-D); the element-wise ops added with them
 * are in ops_onnx_ew.c.  Inputs that ONNX gives as
 * tensors but that decide shapes (Expand's shape, Tile's repeats, Pad's
 * pads, Split's split, Reduce's axes, Clip's min/max) must be known at
 * plan time; prepare copies them into the step's state, so run reads no
 * device memory.  Every row folds through `run` on the host context
 * (plan.c) when all its inputs are known.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

seqk_status seqk__mdl_need_known(const mdl_node *n, const mdl_info *in, int k,
                           const char *what, char *err)
{
    if (n->n_in > k && in[k].dtype && !in[k].cval) {
        snprintf(err, MDL_ERR_LEN, "%s must be known at plan time (a "
                 "constant or computed from shapes)", what);
        return SEQK_ERR_UNSUPPORTED;
    }
    return SEQK_OK;
}

int seqk__mdl_present(const mdl_node *n, const mdl_info *in, int k)
{
    return n->n_in > k && n->in[k] >= 0 && in[k].dtype;
}

seqk_status seqk__mdl_need_f32(const mdl_info *in, int k, char *err)
{
    if (in[k].dtype != SEQK_F32) {
        snprintf(err, MDL_ERR_LEN, "input %d is %s: seqk runs this op on "
                 "float32", k, seqk__mdl_dtype_name(in[k].dtype));
        return SEQK_ERR_DTYPE;
    }
    return SEQK_OK;
}

static void ivec_free(void *s) { free(s); }

seqk_status seqk__mdl_ivec_new(void **state, void (**free_state)(void *),
                         mdl_ivec_state **out)
{
    if (!(*out = calloc(1, sizeof **out)))
        return SEQK_ERR_OUT_OF_MEMORY;
    *state = *out;
    *free_state = ivec_free;
    return SEQK_OK;
}

/* ---- Transpose */

typedef mdl_perm_attrs perm_attrs; /* model.h: fuse.c reads them */

static seqk_status transpose_parse(mdl_node *n, const void *p, char *err)
{
    perm_attrs *a = calloc(1, sizeof *a);
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    return seqk__mdl_attr_ints(p, "perm", &a->perm, &a->n, err);
}

static seqk_status transpose_infer(const mdl_node *n, const mdl_info *in,
                                   mdl_info *out, char *err)
{
    const perm_attrs *a = n->attrs;
    unsigned char seen[SEQK_MAX_DIMS] = {0};
    int nd = in[0].ndim;
    out[0].dtype = in[0].dtype;
    out[0].ndim = nd;
    if (a->n && a->n != (size_t)nd) {
        snprintf(err, MDL_ERR_LEN, "perm has %zu entries for rank %d", a->n,
                 nd);
        return SEQK_ERR_SHAPE;
    }
    for (int i = 0; i < nd; i++) {
        int64_t p = a->n ? a->perm[i] : nd - 1 - i;
        if (p < 0 || p >= nd || seen[p]) {
            snprintf(err, MDL_ERR_LEN, "perm is not a permutation of 0..%d",
                     nd - 1);
            return SEQK_ERR_SHAPE;
        }
        seen[p] = 1;
        out[0].dims[i] = in[0].dims[p];
    }
    return SEQK_OK;
}

static seqk_status transpose_run(const mdl_run_args *r)
{
    const perm_attrs *a = r->node->attrs;
    return seqk_transpose(r->ctx, (int)a->n, a->n ? a->perm : NULL, r->in[0],
                          r->out[0]);
}

const mdl_op seqk__mdl_op_transpose = {"Transpose", 1, 23, MDL_OP_KERNEL,
                                 "transpose", transpose_parse,
                                 transpose_infer, NULL, transpose_run, NULL};

/* ---- Expand (shape input) */

static seqk_status expand_infer(const mdl_node *n, const mdl_info *in,
                                mdl_info *out, char *err)
{
    const mdl_host *s = in[1].cval;
    mdl_info t;
    seqk_status st = seqk__mdl_need_known(n, in, 1, "the shape input", err);
    if (st)
        return st;
    if (s->ndim != 1 || s->numel > SEQK_MAX_DIMS) {
        snprintf(err, MDL_ERR_LEN, "shape must be 1-D with at most %d "
                 "values", SEQK_MAX_DIMS);
        return SEQK_ERR_SHAPE;
    }
    t.ndim = (int)s->numel;
    for (int i = 0; i < t.ndim; i++)
        if ((t.dims[i] = seqk__mdl_host_i64(s, i)) < 0) {
            snprintf(err, MDL_ERR_LEN, "negative shape value");
            return SEQK_ERR_SHAPE;
        }
    out[0].dtype = in[0].dtype;
    return seqk__mdl_broadcast(&in[0], &t, &out[0], err);
}

static seqk_status expand_run(const mdl_run_args *r)
{
    return seqk_expand(r->ctx, r->in[0], r->out[0]);
}

const mdl_op seqk__mdl_op_expand = {
    "Expand",     8,    23,         MDL_OP_KERNEL, "expand", NULL,
    expand_infer, NULL, expand_run, NULL};

/* ---- Tile (repeats input) */

static seqk_status tile_infer(const mdl_node *n, const mdl_info *in,
                              mdl_info *out, char *err)
{
    const mdl_host *r = in[1].cval;
    seqk_status st = seqk__mdl_need_known(n, in, 1, "repeats", err);
    if (st)
        return st;
    if (r->numel != in[0].ndim) {
        snprintf(err, MDL_ERR_LEN, "repeats has %lld values for rank %d",
                 (long long)r->numel, in[0].ndim);
        return SEQK_ERR_SHAPE;
    }
    out[0] = in[0];
    out[0].cval = NULL;
    for (int i = 0; i < in[0].ndim; i++) {
        int64_t k = seqk__mdl_host_i64(r, i);
        if (k < 0) {
            snprintf(err, MDL_ERR_LEN, "negative repeat");
            return SEQK_ERR_SHAPE;
        }
        if (seqk__mul_i64(in[0].dims[i], k, &out[0].dims[i]))
            return SEQK_ERR_OVERFLOW;
    }
    return SEQK_OK;
}

static seqk_status tile_prepare(seqk_context *ctx, const mdl_node *n,
                                const mdl_info *in, const mdl_info *out,
                                seqk_tensor *const *tin,
                                seqk_tensor *const *tout, void **state,
                                void (**free_state)(void *), char *err)
{
    mdl_ivec_state *s;
    seqk_status st;
    (void)ctx; (void)n; (void)out; (void)tin; (void)tout; (void)err;
    if ((st = seqk__mdl_ivec_new(state, free_state, &s)))
        return st;
    s->n = in[0].ndim;
    for (int i = 0; i < s->n; i++)
        s->v[i] = seqk__mdl_host_i64(in[1].cval, i);
    return SEQK_OK;
}

static seqk_status tile_run(const mdl_run_args *r)
{
    const mdl_ivec_state *s = r->state;
    return seqk_tile(r->ctx, s->v, r->in[0], r->out[0]);
}

const mdl_op seqk__mdl_op_tile = {"Tile", 6, 23, MDL_OP_KERNEL, "tile", NULL,
                            tile_infer, tile_prepare, tile_run, NULL};

/* ---- Pad: pads (and value) as attributes before opset 11, inputs after;
 * axes (opset 18) spread the pads over the listed axes. */

typedef struct pad_attrs {
    seqk_pad_mode mode;
    const int64_t *pads;
    size_t n_pads;
    float value;
} pad_attrs;

static seqk_status pad_parse(mdl_node *n, const void *p, char *err)
{
    pad_attrs *a = calloc(1, sizeof *a);
    char mode[16] = "constant";
    seqk_status st;
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    if ((st = seqk__mdl_attr_string(p, "mode", mode, sizeof mode, err)) ||
        (st = seqk__mdl_attr_ints(p, "pads", &a->pads, &a->n_pads, err)) ||
        (st = seqk__mdl_attr_float(p, "value", &a->value, err)))
        return st;
    if (!strcmp(mode, "constant"))
        a->mode = SEQK_PAD_CONSTANT;
    else if (!strcmp(mode, "reflect"))
        a->mode = SEQK_PAD_REFLECT;
    else if (!strcmp(mode, "edge"))
        a->mode = SEQK_PAD_EDGE;
    else {
        snprintf(err, MDL_ERR_LEN, "mode \"%s\" (seqk has constant, reflect, "
                 "edge)", mode);
        return SEQK_ERR_UNSUPPORTED;
    }
    return SEQK_OK;
}

/* Full pads (2*rank: begins then ends) and the constant value. */
static seqk_status pad_calc(const mdl_node *n, const mdl_info *in,
                            int64_t *pads, double *value, char *err)
{
    const pad_attrs *a = n->attrs;
    int nd = in[0].ndim;
    seqk_status st;
    memset(pads, 0, sizeof(int64_t) * 2 * SEQK_MAX_DIMS);
    *value = a->value;
    if (n->opset < 11) {
        if (a->n_pads != (size_t)2 * nd)
            goto bad;
        for (int i = 0; i < 2 * nd; i++)
            pads[i] = a->pads[i];
        return SEQK_OK;
    }
    if (!seqk__mdl_present(n, in, 1)) {
        snprintf(err, MDL_ERR_LEN, "no pads input");
        return SEQK_ERR_FORMAT;
    }
    if ((st = seqk__mdl_need_known(n, in, 1, "pads", err)) ||
        (st = seqk__mdl_need_known(n, in, 2, "constant_value", err)) ||
        (st = seqk__mdl_need_known(n, in, 3, "axes", err)))
        return st;
    if (seqk__mdl_present(n, in, 2) && in[2].cval->numel > 0)
        *value = seqk__mdl_host_f64(in[2].cval, 0);
    const mdl_host *p = in[1].cval;
    if (seqk__mdl_present(n, in, 3)) {
        const mdl_host *ax = in[3].cval;
        if (p->numel != 2 * ax->numel)
            goto bad;
        for (int64_t i = 0; i < ax->numel; i++) {
            int d;
            if (seqk__mdl_axis(seqk__mdl_host_i64(ax, i), nd, &d) < 0)
                goto bad;
            pads[d] = seqk__mdl_host_i64(p, i);
            pads[nd + d] = seqk__mdl_host_i64(p, ax->numel + i);
        }
        return SEQK_OK;
    }
    if (p->numel != 2 * nd)
        goto bad;
    for (int i = 0; i < 2 * nd; i++)
        pads[i] = seqk__mdl_host_i64(p, i);
    return SEQK_OK;
bad:
    snprintf(err, MDL_ERR_LEN, "pads/axes do not match rank %d", nd);
    return SEQK_ERR_SHAPE;
}

static seqk_status pad_infer(const mdl_node *n, const mdl_info *in,
                             mdl_info *out, char *err)
{
    int64_t pads[2 * SEQK_MAX_DIMS];
    double v;
    seqk_status st = pad_calc(n, in, pads, &v, err);
    if (st)
        return st;
    out[0] = in[0];
    out[0].cval = NULL;
    for (int i = 0; i < in[0].ndim; i++) {
        int64_t d = in[0].dims[i] + pads[i] + pads[in[0].ndim + i];
        if (d < 0) {
            snprintf(err, MDL_ERR_LEN, "pads crop axis %d below 0", i);
            return SEQK_ERR_SHAPE;
        }
        out[0].dims[i] = d;
    }
    return SEQK_OK;
}

static seqk_status pad_prepare(seqk_context *ctx, const mdl_node *n,
                               const mdl_info *in, const mdl_info *out,
                               seqk_tensor *const *tin,
                               seqk_tensor *const *tout, void **state,
                               void (**free_state)(void *), char *err)
{
    mdl_ivec_state *s;
    seqk_status st;
    (void)ctx; (void)out; (void)tin; (void)tout;
    if ((st = seqk__mdl_ivec_new(state, free_state, &s)))
        return st;
    s->n = 2 * in[0].ndim;
    return pad_calc(n, in, s->v, &s->f0, err);
}

static seqk_status pad_run(const mdl_run_args *r)
{
    const mdl_ivec_state *s = r->state;
    const pad_attrs *a = r->node->attrs;
    seqk_pad_params p;
    seqk_pad_params_init(&p);
    p.mode = a->mode;
    p.value = s->f0;
    return seqk_pad(r->ctx, &p, s->v, r->in[0], r->out[0]);
}

const mdl_op seqk__mdl_op_pad = {"Pad", 2, 23, MDL_OP_KERNEL, "pad", pad_parse,
                           pad_infer, pad_prepare, pad_run, NULL};

/* ---- Split: sizes from the split attribute (< 13) or input (13+), or
 * num_outputs / the output count (even parts, the last one smaller). */

typedef struct split_attrs {
    int64_t axis, num_outputs;
    const int64_t *split;
    size_t n_split;
} split_attrs;

static seqk_status split_parse(mdl_node *n, const void *p, char *err)
{
    split_attrs *a = calloc(1, sizeof *a);
    seqk_status st;
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    if ((st = seqk__mdl_attr_int(p, "axis", &a->axis, err)) ||
        (st = seqk__mdl_attr_int(p, "num_outputs", &a->num_outputs, err)) ||
        (st = seqk__mdl_attr_ints(p, "split", &a->split, &a->n_split, err)))
        return st;
    return SEQK_OK;
}

static seqk_status split_infer(const mdl_node *n, const mdl_info *in,
                               mdl_info *out, char *err)
{
    const split_attrs *a = n->attrs;
    int ax, k = n->n_out;
    int64_t total = 0;
    seqk_status st;
    if (seqk__mdl_axis(a->axis, in[0].ndim, &ax) < 0) {
        snprintf(err, MDL_ERR_LEN, "axis %lld outside rank %d",
                 (long long)a->axis, in[0].ndim);
        return SEQK_ERR_SHAPE;
    }
    if ((st = seqk__mdl_need_known(n, in, 1, "split", err)))
        return st;
    int64_t dim = in[0].dims[ax];
    for (int o = 0; o < k; o++) {
        int64_t d;
        if (seqk__mdl_present(n, in, 1)) {
            if (in[1].cval->numel != k)
                goto bad;
            d = seqk__mdl_host_i64(in[1].cval, o);
        } else if (a->n_split) {
            if (a->n_split != (size_t)k)
                goto bad;
            d = a->split[o];
        } else {
            int64_t part = (dim + k - 1) / k;
            d = dim - part * o < part ? dim - part * o : part;
            if (!a->num_outputs && dim % k)
                goto bad;
        }
        if (d < 0 || d > dim - total) /* never past dim: no overflow */
            goto bad;
        out[o] = in[0];
        out[o].cval = NULL;
        out[o].dims[ax] = d;
        total += d;
    }
    if (total != dim)
        goto bad;
    return SEQK_OK;
bad:
    snprintf(err, MDL_ERR_LEN, "split sizes do not add up to dim %lld over "
             "%d outputs", (long long)in[0].dims[ax], k);
    return SEQK_ERR_SHAPE;
}

/* Outputs nobody reads still need a tensor: the library op writes all. */
typedef struct split_state {
    seqk_tensor *spare[MDL_MAX_NODE_IO];
} split_state;

static void split_free(void *p)
{
    split_state *s = p;
    for (int i = 0; s && i < MDL_MAX_NODE_IO; i++)
        seqk_tensor_destroy(s->spare[i]);
    free(s);
}

static seqk_status split_prepare(seqk_context *ctx, const mdl_node *n,
                                 const mdl_info *in, const mdl_info *out,
                                 seqk_tensor *const *tin,
                                 seqk_tensor *const *tout, void **state,
                                 void (**free_state)(void *), char *err)
{
    split_state *s = calloc(1, sizeof *s);
    seqk_status st = SEQK_OK;
    (void)in; (void)tin; (void)err;
    if (!s)
        return SEQK_ERR_OUT_OF_MEMORY;
    *state = s;
    *free_state = split_free;
    for (int o = 0; o < n->n_out && !st; o++)
        if (!tout[o])
            st = seqk_tensor_create(ctx, out[o].ndim, out[o].dims,
                                    out[o].dtype, &s->spare[o]);
    return st;
}

static seqk_status split_run(const mdl_run_args *r)
{
    const split_attrs *a = r->node->attrs;
    const split_state *s = r->state;
    seqk_tensor *outs[MDL_MAX_NODE_IO];
    for (int o = 0; o < r->node->n_out; o++)
        outs[o] = r->out[o] ? r->out[o] : s->spare[o];
    return seqk_split(r->ctx, a->axis, r->node->n_out, r->in[0], outs);
}

const mdl_op seqk__mdl_op_split = {"Split", 2, 23, MDL_OP_KERNEL, "split",
                             split_parse, split_infer, split_prepare,
                             split_run, NULL};

/* ---- ReduceSum (axes input from 13), ReduceMean / ReduceMax (from 18) */

typedef struct reduce_attrs {
    int64_t keepdims, noop;
    const int64_t *axes;
    size_t n_axes;
} reduce_attrs;

static seqk_status reduce_parse(mdl_node *n, const void *p, char *err)
{
    reduce_attrs *a = calloc(1, sizeof *a);
    seqk_status st;
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    a->keepdims = 1;
    if ((st = seqk__mdl_attr_int(p, "keepdims", &a->keepdims, err)) ||
        (st = seqk__mdl_attr_int(p, "noop_with_empty_axes", &a->noop, err)) ||
        (st = seqk__mdl_attr_ints(p, "axes", &a->axes, &a->n_axes, err)))
        return st;
    return SEQK_OK;
}

static seqk_reduce_op reduce_kind(const mdl_node *n)
{
    return !strcmp(n->op->name, "ReduceSum")    ? SEQK_REDUCE_SUM
           : !strcmp(n->op->name, "ReduceMean") ? SEQK_REDUCE_MEAN
                                                : SEQK_REDUCE_MAX;
}

/* The axes (attribute or input 1) into s->v, s->n. */
static seqk_status reduce_axes(const mdl_node *n, const mdl_info *in,
                               mdl_ivec_state *s, char *err)
{
    const reduce_attrs *a = n->attrs;
    seqk_status st;
    s->n = 0;
    if (a->n_axes) {
        if (a->n_axes > SEQK_MAX_DIMS)
            goto bad;
        for (size_t i = 0; i < a->n_axes; i++)
            s->v[s->n++] = a->axes[i];
        return SEQK_OK;
    }
    if ((st = seqk__mdl_need_known(n, in, 1, "axes", err)))
        return st;
    if (!seqk__mdl_present(n, in, 1))
        return SEQK_OK;
    if (in[1].cval->numel > SEQK_MAX_DIMS)
        goto bad;
    for (int64_t i = 0; i < in[1].cval->numel; i++)
        s->v[s->n++] = seqk__mdl_host_i64(in[1].cval, i);
    return SEQK_OK;
bad:
    snprintf(err, MDL_ERR_LEN, "more than %d axes", SEQK_MAX_DIMS);
    return SEQK_ERR_SHAPE;
}

static seqk_status reduce_infer(const mdl_node *n, const mdl_info *in,
                                mdl_info *out, char *err)
{
    const reduce_attrs *a = n->attrs;
    unsigned char red[SEQK_MAX_DIMS] = {0};
    mdl_ivec_state s;
    int nd = 0, ax;
    seqk_status st;
    if ((st = seqk__mdl_need_f32(in, 0, err)) ||
        (st = reduce_axes(n, in, &s, err)))
        return st;
    for (int i = 0; i < s.n; i++) {
        if (seqk__mdl_axis(s.v[i], in[0].ndim, &ax) < 0 || red[ax]) {
            snprintf(err, MDL_ERR_LEN, "bad or repeated axis %lld",
                     (long long)s.v[i]);
            return SEQK_ERR_SHAPE;
        }
        red[ax] = 1;
    }
    out[0].dtype = SEQK_F32;
    for (int i = 0; i < in[0].ndim; i++) {
        int r = s.n ? red[i] : !a->noop;
        if (!r)
            out[0].dims[nd++] = in[0].dims[i];
        else if (a->keepdims)
            out[0].dims[nd++] = 1;
    }
    out[0].ndim = nd;
    return SEQK_OK;
}

static seqk_status reduce_prepare(seqk_context *ctx, const mdl_node *n,
                                  const mdl_info *in, const mdl_info *out,
                                  seqk_tensor *const *tin,
                                  seqk_tensor *const *tout, void **state,
                                  void (**free_state)(void *), char *err)
{
    mdl_ivec_state *s;
    seqk_status st;
    (void)ctx; (void)out; (void)tin; (void)tout;
    if ((st = seqk__mdl_ivec_new(state, free_state, &s)))
        return st;
    return reduce_axes(n, in, s, err);
}

static seqk_status reduce_run(const mdl_run_args *r)
{
    const reduce_attrs *a = r->node->attrs;
    const mdl_ivec_state *s = r->state;
    seqk_reduce_params p;
    seqk_reduce_params_init(&p, reduce_kind(r->node));
    p.naxes = s->n;
    p.axes = s->v;
    p.keepdims = (int)a->keepdims;
    p.noop_with_empty_axes = (int)a->noop;
    return seqk_reduce(r->ctx, &p, r->in[0], r->out[0]);
}

#define REDUCE_ROW(var, nm)                                                \
    const mdl_op var = {nm, 1, 23, MDL_OP_KERNEL, "reduce", reduce_parse,  \
                        reduce_infer, reduce_prepare, reduce_run, NULL}
REDUCE_ROW(seqk__mdl_op_reduce_sum, "ReduceSum");
REDUCE_ROW(seqk__mdl_op_reduce_mean, "ReduceMean");
REDUCE_ROW(seqk__mdl_op_reduce_max, "ReduceMax");

/* ---- LayerNormalization (17) */

typedef struct ln_attrs {
    int64_t axis;
    float epsilon;
} ln_attrs;

static seqk_status ln_parse(mdl_node *n, const void *p, char *err)
{
    ln_attrs *a = calloc(1, sizeof *a);
    seqk_status st;
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    a->axis = -1;
    a->epsilon = 1e-5f;
    if ((st = seqk__mdl_attr_int(p, "axis", &a->axis, err)) ||
        (st = seqk__mdl_attr_float(p, "epsilon", &a->epsilon, err)))
        return st;
    return SEQK_OK;
}

static seqk_status ln_infer(const mdl_node *n, const mdl_info *in,
                            mdl_info *out, char *err)
{
    const ln_attrs *a = n->attrs;
    int ax;
    seqk_status st;
    if ((st = seqk__mdl_need_f32(in, 0, err)) ||
        (st = seqk__mdl_need_f32(in, 1, err)) ||
        (seqk__mdl_present(n, in, 2) && (st = seqk__mdl_need_f32(in, 2, err))))
        return st;
    if (seqk__mdl_axis(a->axis, in[0].ndim, &ax) < 0) {
        snprintf(err, MDL_ERR_LEN, "axis %lld outside rank %d",
                 (long long)a->axis, in[0].ndim);
        return SEQK_ERR_SHAPE;
    }
    for (int o = 0; o < n->n_out && o < 3; o++) {
        out[o] = in[0];
        out[o].cval = NULL;
        out[o].dtype = SEQK_F32;
        if (o > 0)
            for (int i = ax; i < in[0].ndim; i++)
                out[o].dims[i] = 1;
    }
    return SEQK_OK;
}

static seqk_status ln_run(const mdl_run_args *r)
{
    const ln_attrs *a = r->node->attrs;
    const mdl_node *n = r->node;
    seqk_layer_norm_params p;
    seqk_layer_norm_params_init(&p);
    p.axis = a->axis;
    p.epsilon = a->epsilon;
    return seqk_layer_norm(r->ctx, &p, r->in[0], r->in[1],
                           n->n_in > 2 ? r->in[2] : NULL, r->out[0],
                           n->n_out > 1 ? r->out[1] : NULL,
                           n->n_out > 2 ? r->out[2] : NULL);
}

const mdl_op seqk__mdl_op_layer_norm = {"LayerNormalization", 17, 23,
                                  MDL_OP_KERNEL, "layer_norm", ln_parse,
                                  ln_infer, NULL, ln_run, NULL};

/* ---- Conv (one spatial dimension: X [N,C,L]) */

typedef struct conv_attrs {
    seqk_conv_params p;
} conv_attrs;

static seqk_status conv_parse(mdl_node *n, const void *p, char *err)
{
    conv_attrs *a = calloc(1, sizeof *a);
    const int64_t *v;
    size_t k;
    char ap[24] = "NOTSET";
    seqk_status st;
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    seqk_conv_params_init(&a->p);
    if ((st = seqk__mdl_attr_int(p, "group", &a->p.group, err)) ||
        (st = seqk__mdl_attr_string(p, "auto_pad", ap, sizeof ap, err)))
        return st;
    static const char *const one[] = {"strides", "dilations",
                                      "kernel_shape"};
    for (int i = 0; i < 3; i++) {
        if ((st = seqk__mdl_attr_ints(p, one[i], &v, &k, err)))
            return st;
        if (k > 1)
            goto not1d;
        if (k == 1 && i == 0)
            a->p.stride = v[0];
        if (k == 1 && i == 1)
            a->p.dilation = v[0];
    }
    if ((st = seqk__mdl_attr_ints(p, "pads", &v, &k, err)))
        return st;
    if (k > 2)
        goto not1d;
    if (k == 2) {
        a->p.pad_begin = v[0];
        a->p.pad_end = v[1];
    }
    if (!strcmp(ap, "SAME_UPPER"))
        a->p.auto_pad = SEQK_AUTO_PAD_SAME_UPPER;
    else if (!strcmp(ap, "SAME_LOWER"))
        a->p.auto_pad = SEQK_AUTO_PAD_SAME_LOWER;
    else if (!strcmp(ap, "VALID"))
        a->p.auto_pad = SEQK_AUTO_PAD_VALID;
    else if (strcmp(ap, "NOTSET")) {
        snprintf(err, MDL_ERR_LEN, "auto_pad \"%s\"", ap);
        return SEQK_ERR_FORMAT;
    }
    return SEQK_OK;
not1d:
    snprintf(err, MDL_ERR_LEN, "seqk runs Conv with one spatial dimension "
             "(X [N,C,L]) only");
    return SEQK_ERR_UNSUPPORTED;
}

static seqk_status conv_infer(const mdl_node *n, const mdl_info *in,
                              mdl_info *out, char *err)
{
    const seqk_conv_params *p = &((const conv_attrs *)n->attrs)->p;
    seqk_status st;
    if ((st = seqk__mdl_need_f32(in, 0, err)) ||
        (st = seqk__mdl_need_f32(in, 1, err)))
        return st;
    if (in[0].ndim != 3 || in[1].ndim != 3) {
        snprintf(err, MDL_ERR_LEN, "seqk runs Conv with one spatial "
                 "dimension (X [N,C,L], W [M,C/group,K]) only");
        return SEQK_ERR_UNSUPPORTED;
    }
    if (p->stride < 1 || p->dilation < 1 || p->group < 1) {
        snprintf(err, MDL_ERR_LEN, "strides, dilations, group must be >= 1");
        return SEQK_ERR_SHAPE;
    }
    int64_t L = in[0].dims[2], K = in[1].dims[2], lo;
    if (p->auto_pad == SEQK_AUTO_PAD_SAME_UPPER ||
        p->auto_pad == SEQK_AUTO_PAD_SAME_LOWER)
        lo = (L + p->stride - 1) / p->stride;
    else {
        int64_t pb = p->auto_pad == SEQK_AUTO_PAD_VALID ? 0 : p->pad_begin;
        int64_t pe = p->auto_pad == SEQK_AUTO_PAD_VALID ? 0 : p->pad_end;
        int64_t span = L + pb + pe - p->dilation * (K - 1) - 1;
        lo = span < 0 ? 0 : span / p->stride + 1;
    }
    out[0].dtype = SEQK_F32;
    out[0].ndim = 3;
    out[0].dims[0] = in[0].dims[0];
    out[0].dims[1] = in[1].dims[0];
    out[0].dims[2] = lo;
    return SEQK_OK;
}

static seqk_status conv_run(const mdl_run_args *r)
{
    const conv_attrs *a = r->node->attrs;
    return seqk_conv1d(r->ctx, &a->p, r->in[0], r->in[1],
                       r->node->n_in > 2 ? r->in[2] : NULL, r->out[0]);
}

const mdl_op seqk__mdl_op_conv = {"Conv", 1, 23, MDL_OP_KERNEL, "conv1d",
                            conv_parse, conv_infer, NULL, conv_run, NULL};

const seqk_conv_params *seqk__mdl_conv_params(const mdl_node *n)
{
    return &((const conv_attrs *)n->attrs)->p;
}
