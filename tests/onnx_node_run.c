/*
 * onnx_node_run.c — runs one ONNX backend node test folder through the seqk
 * public API: the one node's op_type, attributes and inputs are mapped onto
 * seqk_gemm, seqk_matmul, seqk_softmax or an RNN plan, and every graph
 * output is compared with its test_data_set_0/output_N.pb.
 *
 *   graph inputs that are not initializers, in order  <-  input_0.pb, ...
 *   graph outputs, in order                           <-  output_0.pb, ...
 *   node input k:  ""  = absent, else a graph input or initializer by name
 *   node output k: ""  = not requested
 *
 * Output shapes are inferred here from the inputs as ONNX defines them, so
 * a wrong shape in seqk (or in the expectation) is reported, not assumed.
 */
#include "onnx_node_run.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_loader.h"
#include "testutil.h"

#define MAX_OWNED 24

/* One run of one test folder on one context. */
typedef struct node_run {
    seqk_context *ctx;
    ol_case c;
    /* per node output slot: the result and its ONNX shape */
    seqk_tensor *out[OL_MAX_IO];
    int out_ndim[OL_MAX_IO];
    int64_t out_dims[OL_MAX_IO][SEQK_MAX_DIMS];
    seqk_tensor *owned[MAX_OWNED];
    int n_owned;
    char err[OL_MSG_LEN];
} node_run;

static int rfail(node_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int rfail(node_run *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* ------------------------------------------------------------- helpers */

static int node_input(node_run *r, size_t k, const ol_tensor **t)
{
    return ol_case_input(&r->c, k, t, r->err);
}

static int wants_output(const node_run *r, size_t k)
{
    const Onnx__NodeProto *n = r->c.model.node;
    return k < n->n_output && n->output[k][0];
}

static int check_arity(node_run *r, size_t max_in, size_t max_out)
{
    const Onnx__NodeProto *n = r->c.model.node;

    if (n->n_input > max_in || n->n_output > max_out)
        return rfail(r, "%s node has %zu inputs and %zu outputs, at most "
                     "%zu and %zu are defined", n->op_type, n->n_input,
                     n->n_output, max_in, max_out);
    return 0;
}

static int unknown_attr(node_run *r, const Onnx__AttributeProto *a)
{
    return rfail(r, "attribute '%s' of %s is not mapped by this test",
                 a->name ? a->name : "", r->c.model.node->op_type);
}

static int seqk_ok(node_run *r, seqk_status st, const char *call)
{
    if (st == SEQK_OK)
        return 0;
    return rfail(r, "%s failed: %s: %s", call, seqk_status_string(st),
                 seqk_last_error(r->ctx));
}

/* A seqk tensor owned by the run, filled from data, or with NaN when data
 * is NULL (f32 outputs) so that an element seqk forgets to write shows. */
static int make_tensor(node_run *r, int ndim, const int64_t *dims,
                       seqk_dtype dtype, const void *data, const char *what,
                       seqk_tensor **t)
{
    char shape[160];
    float *nan = NULL;
    size_t bytes;
    int ret;

    *t = NULL;
    if (r->n_owned == MAX_OWNED)
        return rfail(r, "more than %d tensors", MAX_OWNED);
    if (seqk_tensor_create(r->ctx, ndim, dims, dtype, t) != SEQK_OK)
        return rfail(r, "creating %s %s: %s", what,
                     ol_dims_str(ndim, dims, shape, sizeof shape),
                     seqk_last_error(r->ctx));
    r->owned[r->n_owned++] = *t;
    bytes = seqk_tensor_bytes(*t);
    if (!data && dtype == SEQK_F32) {
        nan = malloc(bytes ? bytes : 1);
        if (!nan)
            return rfail(r, "out of memory");
        for (size_t i = 0; i < bytes / sizeof *nan; i++)
            nan[i] = NAN;
        data = nan;
    }
    ret = data ? seqk_ok(r, seqk_tensor_write(*t, data, bytes),
                         "seqk_tensor_write")
               : 0;
    free(nan);
    return ret;
}

/* h as a seqk tensor of dtype want; NULL stays NULL (absent input). */
static int to_seqk(node_run *r, const ol_tensor *h, const char *what,
                   seqk_dtype want, seqk_tensor **t)
{
    *t = NULL;
    if (!h)
        return 0;
    if (h->dtype != want)
        return rfail(r, "input %s holds %s, want %s", what,
                     h->dtype == SEQK_F32 ? "float" : "integers",
                     want == SEQK_F32 ? "float" : "int32");
    return make_tensor(r, h->ndim, h->dims, h->dtype, h->data, what, t);
}

/* Records t as the result of node output slot, with its ONNX shape. */
static void set_output(node_run *r, size_t slot, seqk_tensor *t, int ndim,
                       const int64_t *dims)
{
    r->out[slot] = t;
    r->out_ndim[slot] = ndim;
    memcpy(r->out_dims[slot], dims, (size_t)ndim * sizeof dims[0]);
}

static int make_output(node_run *r, size_t slot, int ndim,
                       const int64_t *dims, seqk_tensor **t)
{
    if (make_tensor(r, ndim, dims, SEQK_F32, NULL, "output", t))
        return -1;
    set_output(r, slot, *t, ndim, dims);
    return 0;
}

/* ------------------------------------------------------------- ops */

static int run_gemm(node_run *r)
{
    const Onnx__NodeProto *n = r->c.model.node;
    seqk_gemm_params p;
    int64_t ta = 0, tb = 0, dims[2];
    const ol_tensor *ha, *hb, *hc;
    seqk_tensor *A, *B, *C, *Y;

    seqk_gemm_params_init(&p);
    if (check_arity(r, 3, 1))
        return -1;
    for (size_t i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->attribute[i];
        const char *an = a->name ? a->name : "";
        int rc = !strcmp(an, "alpha")    ? ol_attr_float(a, &p.alpha, r->err)
                 : !strcmp(an, "beta")   ? ol_attr_float(a, &p.beta, r->err)
                 : !strcmp(an, "transA") ? ol_attr_int(a, &ta, r->err)
                 : !strcmp(an, "transB") ? ol_attr_int(a, &tb, r->err)
                                         : unknown_attr(r, a);
        if (rc)
            return -1;
    }
    p.trans_a = ta != 0;
    p.trans_b = tb != 0;
    if (node_input(r, 0, &ha) || node_input(r, 1, &hb) ||
        node_input(r, 2, &hc))
        return -1;
    if (!ha || !hb || ha->ndim != 2 || hb->ndim != 2)
        return rfail(r, "Gemm needs 2-D inputs A and B");
    dims[0] = p.trans_a ? ha->dims[1] : ha->dims[0];
    dims[1] = p.trans_b ? hb->dims[0] : hb->dims[1];
    if (to_seqk(r, ha, "A", SEQK_F32, &A) ||
        to_seqk(r, hb, "B", SEQK_F32, &B) ||
        to_seqk(r, hc, "C", SEQK_F32, &C) || make_output(r, 0, 2, dims, &Y))
        return -1;
    return seqk_ok(r, seqk_gemm(r->ctx, &p, A, B, C, Y), "seqk_gemm");
}

/* numpy matmul shape: 1-D operands promoted then their axis dropped, the
 * batch dims broadcast. */
static int run_matmul(node_run *r)
{
    const Onnx__NodeProto *n = r->c.model.node;
    const ol_tensor *ha, *hb;
    seqk_tensor *A, *B, *Y;
    int64_t dims[SEQK_MAX_DIMS];
    int nd = 0, ra, rb, nb;

    if (check_arity(r, 2, 1))
        return -1;
    if (n->n_attribute)
        return unknown_attr(r, n->attribute[0]);
    if (node_input(r, 0, &ha) || node_input(r, 1, &hb))
        return -1;
    if (!ha || !hb || ha->ndim < 1 || hb->ndim < 1)
        return rfail(r, "MatMul needs inputs A and B of rank >= 1");
    ra = ha->ndim >= 2 ? ha->ndim - 2 : 0;
    rb = hb->ndim >= 2 ? hb->ndim - 2 : 0;
    nb = ra > rb ? ra : rb;
    if (nb + 2 > SEQK_MAX_DIMS)
        return rfail(r, "MatMul result would have more than %d dims",
                     SEQK_MAX_DIMS);
    for (int i = 0; i < nb; i++) {
        int64_t da = i >= nb - ra ? ha->dims[i - (nb - ra)] : 1;
        int64_t db = i >= nb - rb ? hb->dims[i - (nb - rb)] : 1;
        if (da != db && da != 1 && db != 1)
            return rfail(r, "MatMul batch dims %lld and %lld do not "
                         "broadcast", (long long)da, (long long)db);
        dims[nd++] = da == 1 ? db : da;
    }
    if (ha->ndim >= 2)
        dims[nd++] = ha->dims[ha->ndim - 2];
    if (hb->ndim >= 2)
        dims[nd++] = hb->dims[hb->ndim - 1];
    if (to_seqk(r, ha, "A", SEQK_F32, &A) ||
        to_seqk(r, hb, "B", SEQK_F32, &B) ||
        make_output(r, 0, nd, dims, &Y))
        return -1;
    return seqk_ok(r, seqk_matmul(r->ctx, A, B, Y), "seqk_matmul");
}

/* Softmax-13 runs along the axis; before opset 13 the input is coerced to
 * 2-D [prod(dims[:axis]), prod(dims[axis:])] and normalized along axis 1. */
static int run_softmax(node_run *r)
{
    const Onnx__NodeProto *n = r->c.model.node;
    int old = r->c.model.opset < 13;
    int64_t axis = old ? 1 : -1, flat[2] = {1, 1}, a;
    const ol_tensor *hx;
    seqk_tensor *X, *Y;

    if (check_arity(r, 1, 1))
        return -1;
    for (size_t i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->attribute[i];
        int rc = a->name && !strcmp(a->name, "axis")
                     ? ol_attr_int(a, &axis, r->err)
                     : unknown_attr(r, a);
        if (rc)
            return -1;
    }
    if (node_input(r, 0, &hx))
        return -1;
    if (!hx || hx->ndim < 1)
        return rfail(r, "Softmax needs an input of rank >= 1");
    a = axis < 0 ? axis + hx->ndim : axis;
    if (a < 0 || a >= hx->ndim)
        return rfail(r, "Softmax axis %lld is out of range for rank %d",
                     (long long)axis, hx->ndim);
    if (!old) {
        if (to_seqk(r, hx, "X", SEQK_F32, &X) ||
            make_output(r, 0, hx->ndim, hx->dims, &Y))
            return -1;
        return seqk_ok(r, seqk_softmax(r->ctx, axis, X, Y), "seqk_softmax");
    }
    /* The products cannot overflow: the loader bounded the element count. */
    for (int i = 0; i < hx->ndim; i++)
        flat[i < a ? 0 : 1] *= hx->dims[i];
    if (make_tensor(r, 2, flat, SEQK_F32, hx->data, "X", &X) ||
        make_tensor(r, 2, flat, SEQK_F32, NULL, "output", &Y))
        return -1;
    set_output(r, 0, Y, hx->ndim, hx->dims);
    return seqk_ok(r, seqk_softmax(r->ctx, 1, X, Y), "seqk_softmax (2-D)");
}

/* The activations list with its alpha/beta values, consumed in order by
 * the functions that read them (seqk.h, as onnxruntime does). */
static int rnn_activations(node_run *r, seqk_rnn_desc *desc,
                           const ProtobufCBinaryData *names, size_t n,
                           const float *alpha, size_t n_alpha,
                           const float *beta, size_t n_beta)
{
    size_t ia = 0, ib = 0;

    if (n > SEQK_RNN_MAX_ACTIVATIONS)
        return rfail(r, "%zu activations, at most %d", n,
                     SEQK_RNN_MAX_ACTIVATIONS);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        int kind;
        seqk_activation act;
        if (names[i].len >= sizeof name)
            return rfail(r, "activation name %zu is too long", i);
        memcpy(name, names[i].data, names[i].len);
        name[names[i].len] = '\0';
        kind = seqk_act_from_name(name);
        if (kind < 0)
            return rfail(r, "activation '%s' is unknown to seqk", name);
        act = seqk_activation_default((seqk_act_kind)kind);
        if (seqk_act_uses_alpha((seqk_act_kind)kind) && ia < n_alpha)
            act.alpha = alpha[ia++];
        if (seqk_act_uses_beta((seqk_act_kind)kind) && ib < n_beta)
            act.beta = beta[ib++];
        desc->activations[i] = act;
    }
    if (ia < n_alpha || ib < n_beta)
        return rfail(r, "activation_alpha/beta have %zu/%zu values but the "
                     "activations use %zu/%zu", n_alpha, n_beta, ia, ib);
    desc->num_activations = (int)n;
    return 0;
}

enum { IN_X, IN_W, IN_R, IN_B, IN_SEQ, IN_H0, IN_C0, IN_P, IN_COUNT };

static int run_rnn(node_run *r, seqk_cell cell)
{
    static const char *const in_names[IN_COUNT] = {
        "X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};
    const Onnx__NodeProto *n = r->c.model.node;
    int lstm = cell == SEQK_CELL_LSTM;
    size_t max_in = lstm ? 8 : 6;
    int64_t hidden = -1, layout = 0, input_forget = 0, lbr = 0;
    int64_t T, Bn, D, ydims[4], hdims[3];
    float clip = 0;
    char dir[32] = "forward";
    const ProtobufCBinaryData *acts = NULL;
    const float *alpha = NULL, *beta = NULL;
    size_t n_acts = 0, n_alpha = 0, n_beta = 0;
    const ol_tensor *h[IN_COUNT] = {NULL};
    seqk_tensor *t[IN_COUNT] = {NULL}, *Y = NULL, *Yh = NULL, *Yc = NULL;
    seqk_rnn_desc desc;
    seqk_rnn *rnn = NULL;
    int ret = -1;

    if (check_arity(r, max_in, lstm ? 3 : 2))
        return -1;
    for (size_t i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->attribute[i];
        const char *an = a->name ? a->name : "";
        int rc;
        if (!strcmp(an, "hidden_size"))
            rc = ol_attr_int(a, &hidden, r->err);
        else if (!strcmp(an, "direction"))
            rc = ol_attr_string(a, dir, sizeof dir, r->err);
        else if (!strcmp(an, "layout"))
            rc = ol_attr_int(a, &layout, r->err);
        else if (!strcmp(an, "activations"))
            rc = ol_attr_strings(a, &acts, &n_acts, r->err);
        else if (!strcmp(an, "activation_alpha"))
            rc = ol_attr_floats(a, &alpha, &n_alpha, r->err);
        else if (!strcmp(an, "activation_beta"))
            rc = ol_attr_floats(a, &beta, &n_beta, r->err);
        else if (!strcmp(an, "clip"))
            rc = ol_attr_float(a, &clip, r->err);
        else if (lstm && !strcmp(an, "input_forget"))
            rc = ol_attr_int(a, &input_forget, r->err);
        else if (cell == SEQK_CELL_GRU && !strcmp(an, "linear_before_reset"))
            rc = ol_attr_int(a, &lbr, r->err);
        else
            rc = unknown_attr(r, a);
        if (rc)
            return -1;
    }
    for (size_t k = 0; k < max_in; k++)
        if (node_input(r, k, &h[k]))
            return -1;
    if (!h[IN_X] || !h[IN_W] || !h[IN_R] || h[IN_X]->ndim != 3 ||
        h[IN_R]->ndim != 3)
        return rfail(r, "%s needs X, W and R, X and R 3-D", n->op_type);
    if (layout != 0 && layout != 1)
        return rfail(r, "layout %lld is neither 0 nor 1", (long long)layout);
    if (hidden < 0) /* absent: R is [D, G*H, H] */
        hidden = h[IN_R]->dims[2];
    seqk_rnn_desc_init(&desc, cell, h[IN_X]->dims[2], hidden);
    if (!strcmp(dir, "forward"))
        desc.direction = SEQK_FORWARD;
    else if (!strcmp(dir, "reverse"))
        desc.direction = SEQK_REVERSE;
    else if (!strcmp(dir, "bidirectional"))
        desc.direction = SEQK_BIDIRECTIONAL;
    else
        return rfail(r, "direction '%s' is unknown", dir);
    desc.layout = (int)layout;
    desc.clip = clip;
    desc.input_forget = input_forget != 0;
    desc.linear_before_reset = lbr != 0;
    if (rnn_activations(r, &desc, acts, n_acts, alpha, n_alpha, beta, n_beta))
        return -1;

    for (int k = 0; k < IN_COUNT; k++)
        if (to_seqk(r, h[k], in_names[k], k == IN_SEQ ? SEQK_I32 : SEQK_F32,
                    &t[k]))
            return -1;
    D = desc.direction == SEQK_BIDIRECTIONAL ? 2 : 1;
    T = h[IN_X]->dims[layout ? 1 : 0];
    Bn = h[IN_X]->dims[layout ? 0 : 1];
    if (layout) {
        int64_t y[4] = {Bn, T, D, hidden}, s[3] = {Bn, D, hidden};
        memcpy(ydims, y, sizeof y);
        memcpy(hdims, s, sizeof s);
    } else {
        int64_t y[4] = {T, D, Bn, hidden}, s[3] = {D, Bn, hidden};
        memcpy(ydims, y, sizeof y);
        memcpy(hdims, s, sizeof s);
    }
    if ((wants_output(r, 0) && make_output(r, 0, 4, ydims, &Y)) ||
        (wants_output(r, 1) && make_output(r, 1, 3, hdims, &Yh)) ||
        (wants_output(r, 2) && make_output(r, 2, 3, hdims, &Yc)))
        return -1;

    if (seqk_ok(r, seqk_rnn_create(r->ctx, &desc, &rnn), "seqk_rnn_create") ||
        seqk_ok(r, seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_ONNX, t[IN_W],
                                        t[IN_R], t[IN_B], t[IN_P]),
                "seqk_rnn_set_weights") ||
        seqk_ok(r, seqk_rnn_forward(rnn, t[IN_X], t[IN_SEQ], t[IN_H0],
                                    t[IN_C0], Y, Yh, Yc),
                "seqk_rnn_forward"))
        goto cleanup;
    ret = 0;
cleanup:
    seqk_rnn_destroy(rnn);
    return ret;
}

/* ------------------------------------------------------------- compare */

static int compare_output(node_run *r, size_t i)
{
    const Onnx__GraphProto *g = r->c.model.graph;
    const Onnx__NodeProto *n = r->c.model.node;
    const char *name = g->output[i]->name ? g->output[i]->name : "";
    char s1[160], s2[160], msg[256];
    ol_tensor want = {0};
    float *got = NULL;
    size_t slot = n->n_output;
    int ret = -1;

    for (size_t k = 0; k < n->n_output; k++)
        if (n->output[k][0] && !strcmp(n->output[k], name))
            slot = k;
    if (slot == n->n_output || !r->out[slot])
        return rfail(r, "graph output '%s' is not a computed node output",
                     name);
    if (ol_case_output(&r->c, i, &want, r->err))
        return -1;
    if (want.dtype != SEQK_F32) {
        rfail(r, "output '%s': expected data is not float", name);
        goto cleanup;
    }
    if (want.ndim != r->out_ndim[slot] ||
        memcmp(want.dims, r->out_dims[slot],
               (size_t)want.ndim * sizeof want.dims[0])) {
        rfail(r, "output '%s': the node gives shape %s, the data %s", name,
              ol_dims_str(r->out_ndim[slot], r->out_dims[slot], s1, sizeof s1),
              ol_dims_str(want.ndim, want.dims, s2, sizeof s2));
        goto cleanup;
    }
    tu_assert_guard(r->out[slot]);
    if ((size_t)seqk_tensor_numel(r->out[slot]) != want.count) {
        rfail(r, "output '%s': %lld elements, want %zu", name,
              (long long)seqk_tensor_numel(r->out[slot]), want.count);
        goto cleanup;
    }
    got = malloc(want.count ? want.count * sizeof *got : 1);
    if (!got) {
        rfail(r, "out of memory");
        goto cleanup;
    }
    if (seqk_ok(r, seqk_tensor_read(r->out[slot], got,
                                    want.count * sizeof *got),
                "seqk_tensor_read"))
        goto cleanup;
    if (!tu_close(got, want.data, want.count, ONNX_NODE_ATOL, ONNX_NODE_RTOL,
                  msg, sizeof msg)) {
        rfail(r, "output '%s': %s", name, msg);
        goto cleanup;
    }
    ret = 0;
cleanup:
    free(got);
    ol_tensor_free(&want);
    return ret;
}

static int compare_outputs(node_run *r)
{
    const Onnx__GraphProto *g = r->c.model.graph;

    if (g->n_output == 0)
        return rfail(r, "graph has no outputs to compare");
    for (size_t i = 0; i < g->n_output; i++)
        if (compare_output(r, i))
            return -1;
    if (ol_case_has_file(&r->c, "output", g->n_output))
        return rfail(r, "output_%zu.pb exists but the graph has only %zu "
                     "outputs", g->n_output, g->n_output);
    return 0;
}

int onnx_node_run(seqk_context *ctx, const char *dir, char *err)
{
    node_run *r = calloc(1, sizeof *r);
    const char *op;
    int ret = -1;

    if (!r) {
        snprintf(err, OL_MSG_LEN, "out of memory");
        return -1;
    }
    r->ctx = ctx;
    if (ol_case_load(dir, &r->c, r->err))
        goto cleanup;
    op = r->c.model.node->op_type;
    if (!strcmp(op, "Gemm"))
        ret = run_gemm(r);
    else if (!strcmp(op, "MatMul"))
        ret = run_matmul(r);
    else if (!strcmp(op, "Softmax"))
        ret = run_softmax(r);
    else if (!strcmp(op, "LSTM"))
        ret = run_rnn(r, SEQK_CELL_LSTM);
    else if (!strcmp(op, "GRU"))
        ret = run_rnn(r, SEQK_CELL_GRU);
    else if (!strcmp(op, "RNN"))
        ret = run_rnn(r, SEQK_CELL_RNN);
    else
        ret = rfail(r, "op %s is not one this suite maps to seqk", op);
    if (ret == 0)
        ret = compare_outputs(r);
cleanup:
    snprintf(err, OL_MSG_LEN, "%s", r->err);
    for (int i = 0; i < r->n_owned; i++)
        seqk_tensor_destroy(r->owned[i]);
    ol_case_free(&r->c);
    free(r);
    return ret;
}

