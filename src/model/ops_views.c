/*
 * ops_views.c — the op-table rows that only reshape: Reshape, Flatten,
 * Squeeze, Unsqueeze, Identity and Dropout (inference).  Each output is a
 * view of its input's buffer (no kernel, no copy); these rows give only
 * the shape.
 */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "onnx.pb-c.h"

/* ---- views: Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout */

typedef struct view_attrs {
    int64_t axis, allowzero;
    const int64_t *axes;
    size_t n_axes;
} view_attrs;

static seqk_status view_parse(mdl_node *n, const void *p, char *err)
{
    view_attrs *a = calloc(1, sizeof *a);
    seqk_status st;
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    a->axis = 1;
    if ((st = seqk__mdl_attr_int(p, "axis", &a->axis, err)) ||
        (st = seqk__mdl_attr_int(p, "allowzero", &a->allowzero, err)) ||
        (st = seqk__mdl_attr_ints(p, "axes", &a->axes, &a->n_axes, err)))
        return st;
    if (!strcmp(n->op->name, "Dropout") && n->n_out > 1 && n->out[1] >= 0) {
        snprintf(err, MDL_ERR_LEN, "the Dropout mask output is not "
                 "supported");
        return SEQK_ERR_UNSUPPORTED;
    }
    return SEQK_OK;
}

/* axes from the attribute (old opsets) or input 1 (known at plan time) */
static seqk_status view_axes(const mdl_node *n, const mdl_info *in,
                             int64_t *axes, int *n_axes, char *err)
{
    const view_attrs *a = n->attrs;
    *n_axes = 0;
    if (a->n_axes) {
        if (a->n_axes > SEQK_MAX_DIMS)
            goto bad;
        for (size_t i = 0; i < a->n_axes; i++)
            axes[(*n_axes)++] = a->axes[i];
        return SEQK_OK;
    }
    if (n->n_in < 2 || in[1].dtype == 0)
        return SEQK_OK;
    if (!in[1].cval) {
        snprintf(err, MDL_ERR_LEN, "axes must be known at plan time");
        return SEQK_ERR_UNSUPPORTED;
    }
    if (in[1].cval->numel > SEQK_MAX_DIMS)
        goto bad;
    for (int64_t i = 0; i < in[1].cval->numel; i++)
        axes[(*n_axes)++] = seqk__mdl_host_i64(in[1].cval, i);
    return SEQK_OK;
bad:
    snprintf(err, MDL_ERR_LEN, "more than %d axes", SEQK_MAX_DIMS);
    return SEQK_ERR_SHAPE;
}

/* Dropout is the identity only in inference: training_mode (input 2,
 * opset 12) must be known at plan time, and if true the ratio must be 0
 * (else the output is random and the identity would be wrong). */
static seqk_status dropout_check(const mdl_node *n, const mdl_info *in,
                                 char *err)
{
    seqk_status st;
    double ratio = 0.5;
    if (!seqk__mdl_present(n, in, 2))
        return SEQK_OK;
    if ((st = seqk__mdl_need_known(n, in, 2, "Dropout's training_mode", err)))
        return st;
    if (in[2].cval->numel < 1 || !seqk__mdl_host_i64(in[2].cval, 0))
        return SEQK_OK;
    if ((st = seqk__mdl_need_known(n, in, 1, "Dropout's ratio", err)))
        return st;
    if (seqk__mdl_present(n, in, 1) && in[1].cval->numel > 0)
        ratio = seqk__mdl_host_f64(in[1].cval, 0);
    if (ratio != 0) {
        snprintf(err, MDL_ERR_LEN, "training_mode with ratio %g (random "
                 "dropout) is not supported", ratio);
        return SEQK_ERR_UNSUPPORTED;
    }
    return SEQK_OK;
}

static seqk_status view_infer(const mdl_node *n, const mdl_info *in,
                              mdl_info *out, char *err)
{
    const view_attrs *a = n->attrs;
    const char *nm = n->op->name;
    int64_t axes[SEQK_MAX_DIMS], numel;
    int n_axes = 0, ax;
    seqk_status st;
    mdl_info *o = &out[0];

    o->dtype = in[0].dtype;
    o->ndim = in[0].ndim;
    memcpy(o->dims, in[0].dims, sizeof o->dims);
    if (seqk__numel(in[0].ndim, in[0].dims, &numel))
        return SEQK_ERR_OVERFLOW;
    if (!strcmp(nm, "Dropout"))
        return dropout_check(n, in, err);
    if (!strcmp(nm, "Identity"))
        return SEQK_OK;
    if (!strcmp(nm, "Flatten")) {
        if (a->axis < -(int64_t)in[0].ndim || a->axis > in[0].ndim)
        {
            snprintf(err, MDL_ERR_LEN, "axis %lld outside rank %d",
                     (long long)a->axis, in[0].ndim);
            return SEQK_ERR_SHAPE;
        }
        ax = (int)(a->axis < 0 ? a->axis + in[0].ndim : a->axis);
        o->ndim = 2;
        o->dims[0] = o->dims[1] = 1;
        for (int i = 0; i < in[0].ndim; i++)
            o->dims[i >= ax] *= in[0].dims[i];
        return SEQK_OK;
    }
    if (!strcmp(nm, "Reshape")) {
        const mdl_host *s = n->n_in > 1 ? in[1].cval : NULL;
        int infer = -1;
        int64_t prod = 1;
        if (!s) {
            snprintf(err, MDL_ERR_LEN, "the shape input must be known at "
                     "plan time (a constant or computed from shapes)");
            return SEQK_ERR_UNSUPPORTED;
        }
        if (s->ndim != 1 || s->numel > SEQK_MAX_DIMS) {
            snprintf(err, MDL_ERR_LEN, "shape must be 1-D with at most %d "
                     "values", SEQK_MAX_DIMS);
            return SEQK_ERR_SHAPE;
        }
        o->ndim = (int)s->numel;
        for (int i = 0; i < o->ndim; i++) {
            int64_t d = seqk__mdl_host_i64(s, i);
            if (d == 0 && !a->allowzero)
                d = i < in[0].ndim ? in[0].dims[i] : -3;
            if (d == -1 && infer < 0) {
                infer = i;
                d = 1;
            } else if (d < 0) {
                snprintf(err, MDL_ERR_LEN, "bad shape value %lld at %d",
                         (long long)seqk__mdl_host_i64(s, i), i);
                return SEQK_ERR_SHAPE;
            }
            o->dims[i] = d;
            if (seqk__mul_i64(prod, d, &prod))
                return SEQK_ERR_OVERFLOW;
        }
        if (infer >= 0) {
            if (prod == 0 || numel % prod) {
                snprintf(err, MDL_ERR_LEN, "cannot infer -1: %lld elements "
                         "over %lld", (long long)numel, (long long)prod);
                return SEQK_ERR_SHAPE;
            }
            o->dims[infer] = numel / prod;
            prod = numel;
        }
        if (prod != numel) {
            snprintf(err, MDL_ERR_LEN, "%lld elements cannot take a shape "
                     "of %lld", (long long)numel, (long long)prod);
            return SEQK_ERR_SHAPE;
        }
        return SEQK_OK;
    }
    if ((st = view_axes(n, in, axes, &n_axes, err)))
        return st;
    if (!strcmp(nm, "Squeeze")) {
        unsigned char drop[SEQK_MAX_DIMS] = {0};
        o->ndim = 0;
        for (int i = 0; i < n_axes; i++) {
            if (seqk__mdl_axis(axes[i], in[0].ndim, &ax) < 0 ||
                in[0].dims[ax] != 1) {
                snprintf(err, MDL_ERR_LEN, "axis %lld is not a dim of size 1",
                         (long long)axes[i]);
                return SEQK_ERR_SHAPE;
            }
            drop[ax] = 1;
        }
        for (int i = 0; i < in[0].ndim; i++)
            if (!(n_axes ? drop[i] : in[0].dims[i] == 1))
                o->dims[o->ndim++] = in[0].dims[i];
        return SEQK_OK;
    }
    /* Unsqueeze */
    unsigned char ins[SEQK_MAX_DIMS] = {0};
    int rank = in[0].ndim + n_axes, k = 0;
    if (rank > SEQK_MAX_DIMS || n_axes == 0) {
        snprintf(err, MDL_ERR_LEN, "Unsqueeze to rank %d (1..%d)", rank,
                 SEQK_MAX_DIMS);
        return SEQK_ERR_SHAPE;
    }
    for (int i = 0; i < n_axes; i++) {
        if (seqk__mdl_axis(axes[i], rank, &ax) < 0 || ins[ax]) {
            snprintf(err, MDL_ERR_LEN, "bad or repeated axis %lld",
                     (long long)axes[i]);
            return SEQK_ERR_SHAPE;
        }
        ins[ax] = 1;
    }
    o->ndim = rank;
    for (int i = 0; i < rank; i++)
        o->dims[i] = ins[i] ? 1 : in[0].dims[k++];
    return SEQK_OK;
}

#define VIEW_ROW(var, nm, lo)                                              \
    const mdl_op var = {nm, lo, 23, MDL_OP_VIEW, NULL, view_parse,         \
                        view_infer, NULL, NULL, NULL}
VIEW_ROW(seqk__mdl_op_reshape, "Reshape", 5);
VIEW_ROW(seqk__mdl_op_flatten, "Flatten", 1);
VIEW_ROW(seqk__mdl_op_squeeze, "Squeeze", 1);
VIEW_ROW(seqk__mdl_op_unsqueeze, "Unsqueeze", 1);
VIEW_ROW(seqk__mdl_op_identity, "Identity", 1);
VIEW_ROW(seqk__mdl_op_dropout, "Dropout", 1);
