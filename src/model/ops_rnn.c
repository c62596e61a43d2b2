/*
 * ops_rnn.c — the LSTM, GRU and RNN rows: one seqk_rnn plan per model
 * plan, its weights (W, R, B, P: constants) set once in prepare; a run is
 * one seqk_rnn_forward.
 *
 *   X [T,B,I] (layout 1: [B,T,I]) -> Y [T,D,B,H] ([B,T,D,H]),
 *   Y_h / Y_c [D,B,H] ([B,D,H])
 */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "onnx.pb-c.h"

enum { IN_X, IN_W, IN_R, IN_B, IN_SEQ, IN_H0, IN_C0, IN_P };

typedef struct rnn_attrs {
    seqk_rnn_desc desc;       /* all but input_size */
    int64_t hidden;           /* -1: from R */
} rnn_attrs;

static seqk_cell cell_of(const mdl_node *n)
{
    return !strcmp(n->op->name, "LSTM") ? SEQK_CELL_LSTM
           : !strcmp(n->op->name, "GRU") ? SEQK_CELL_GRU : SEQK_CELL_RNN;
}

static seqk_status rnn_parse(mdl_node *n, const void *p, char *err)
{
    const Onnx__NodeProto *np = p;
    seqk_cell cell = cell_of(n);
    rnn_attrs *a = calloc(1, sizeof *a);
    int64_t layout = 0, input_forget = 0, lbr = 0;
    char dir[32] = "forward";
    const float *alpha = NULL, *beta = NULL;
    size_t n_alpha = 0, n_beta = 0, ia = 0, ib = 0;
    const ProtobufCBinaryData *acts = NULL;
    size_t n_acts = 0;
    seqk_status st;

    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    a->hidden = -1;
    seqk_rnn_desc_init(&a->desc, cell, 1, 1);
    if ((st = seqk__mdl_attr_int(p, "hidden_size", &a->hidden, err)) ||
        (st = seqk__mdl_attr_int(p, "layout", &layout, err)) ||
        (st = seqk__mdl_attr_int(p, "input_forget", &input_forget, err)) ||
        (st = seqk__mdl_attr_int(p, "linear_before_reset", &lbr, err)) ||
        (st = seqk__mdl_attr_float(p, "clip", &a->desc.clip, err)) ||
        (st = seqk__mdl_attr_string(p, "direction", dir, sizeof dir, err)) ||
        (st = seqk__mdl_attr_floats(p, "activation_alpha", &alpha, &n_alpha,
                                    err)) ||
        (st = seqk__mdl_attr_floats(p, "activation_beta", &beta, &n_beta, err)))
        return st;
    for (size_t i = 0; i < np->n_attribute; i++)
        if (np->attribute[i]->name &&
            !strcmp(np->attribute[i]->name, "activations")) {
            acts = np->attribute[i]->strings;
            n_acts = np->attribute[i]->n_strings;
        }
    if (!strcmp(dir, "forward"))
        a->desc.direction = SEQK_FORWARD;
    else if (!strcmp(dir, "reverse"))
        a->desc.direction = SEQK_REVERSE;
    else if (!strcmp(dir, "bidirectional"))
        a->desc.direction = SEQK_BIDIRECTIONAL;
    else {
        snprintf(err, MDL_ERR_LEN, "direction '%.31s' is unknown", dir);
        return SEQK_ERR_INVALID_ARG;
    }
    if (layout != 0 && layout != 1) {
        snprintf(err, MDL_ERR_LEN, "layout %lld is neither 0 nor 1",
                 (long long)layout);
        return SEQK_ERR_INVALID_ARG;
    }
    a->desc.layout = (int)layout;
    a->desc.input_forget = input_forget != 0;
    a->desc.linear_before_reset = lbr != 0;
    if (n_acts > SEQK_RNN_MAX_ACTIVATIONS) {
        snprintf(err, MDL_ERR_LEN, "%zu activations, at most %d", n_acts,
                 SEQK_RNN_MAX_ACTIVATIONS);
        return SEQK_ERR_UNSUPPORTED;
    }
    for (size_t i = 0; i < n_acts; i++) {
        char name[32];
        int kind;
        size_t len = acts[i].len < sizeof name - 1 ? acts[i].len
                                                   : sizeof name - 1;
        memcpy(name, acts[i].data, len);
        name[len] = '\0';
        if ((kind = seqk_act_from_name(name)) < 0) {
            snprintf(err, MDL_ERR_LEN, "activation '%s' is unknown to seqk",
                     name);
            return SEQK_ERR_UNSUPPORTED;
        }
        seqk_activation act = seqk_activation_default((seqk_act_kind)kind);
        if (seqk_act_uses_alpha((seqk_act_kind)kind) && ia < n_alpha)
            act.alpha = alpha[ia++];
        if (seqk_act_uses_beta((seqk_act_kind)kind) && ib < n_beta)
            act.beta = beta[ib++];
        a->desc.activations[i] = act;
    }
    a->desc.num_activations = (int)n_acts;
    if (n->n_in < 3) {
        snprintf(err, MDL_ERR_LEN, "needs inputs X, W and R");
        return SEQK_ERR_FORMAT;
    }
    return SEQK_OK;
}

static seqk_status rnn_infer(const mdl_node *n, const mdl_info *in,
                             mdl_info *out, char *err)
{
    const rnn_attrs *a = n->attrs;
    int64_t D = a->desc.direction == SEQK_BIDIRECTIONAL ? 2 : 1, H;
    for (int k = 0; k < n->n_in && k <= IN_P; k++)
        if (in[k].dtype && k != IN_SEQ && in[k].dtype != SEQK_F32) {
            snprintf(err, MDL_ERR_LEN, "input %d is %s (float32)", k,
                     seqk__mdl_dtype_name(in[k].dtype));
            return SEQK_ERR_DTYPE;
        }
    if (in[IN_X].ndim != 3 || in[IN_R].ndim != 3) {
        snprintf(err, MDL_ERR_LEN, "X and R must be 3-D");
        return SEQK_ERR_SHAPE;
    }
    H = a->hidden >= 0 ? a->hidden : in[IN_R].dims[2];
    int64_t T = in[IN_X].dims[a->desc.layout ? 1 : 0];
    int64_t B = in[IN_X].dims[a->desc.layout ? 0 : 1];
    for (int o = 0; o < n->n_out && o < 3; o++) {
        out[o].dtype = SEQK_F32;
        if (o == 0) {
            out[o].ndim = 4;
            int64_t y0[4] = {T, D, B, H}, y1[4] = {B, T, D, H};
            memcpy(out[o].dims, a->desc.layout ? y1 : y0, sizeof y0);
        } else {
            out[o].ndim = 3;
            int64_t s0[3] = {D, B, H}, s1[3] = {B, D, H};
            memcpy(out[o].dims, a->desc.layout ? s1 : s0, sizeof s0);
        }
    }
    return SEQK_OK;
}

/* Weights that are constants are set once; weights that are graph inputs
 * (ONNX node tests do that) are set again at every run. */
typedef struct rnn_state {
    seqk_rnn *rnn;
    int per_run;
} rnn_state;

static void rnn_free(void *s)
{
    rnn_state *r = s;
    if (r)
        seqk_rnn_destroy(r->rnn);
    free(r);
}

static seqk_status set_weights(seqk_rnn *rnn, int n_in,
                               const seqk_tensor *const *t)
{
    return seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_ONNX, t[IN_W], t[IN_R],
                                n_in > IN_B ? t[IN_B] : NULL,
                                n_in > IN_P ? t[IN_P] : NULL);
}

static seqk_status rnn_prepare(seqk_context *ctx, const mdl_node *n,
                               const mdl_info *in, const mdl_info *out,
                               seqk_tensor *const *tin,
                               seqk_tensor *const *tout, void **state,
                               void (**free_state)(void *), char *err)
{
    const rnn_attrs *a = n->attrs;
    seqk_rnn_desc d = a->desc;
    seqk_rnn *rnn = NULL;
    seqk_status st;
    (void)out; (void)tout; (void)err;
    d.input_size = in[IN_X].dims[2];
    d.hidden_size = a->hidden >= 0 ? a->hidden : in[IN_R].dims[2];
    if ((st = seqk_rnn_create(ctx, &d, &rnn)))
        return st;
    rnn_state *rs = calloc(1, sizeof *rs);
    if (!rs) {
        seqk_rnn_destroy(rnn);
        return SEQK_ERR_OUT_OF_MEMORY;
    }
    rs->rnn = rnn;
    for (int k = IN_W; k < n->n_in && k <= IN_P; k++)
        if ((k == IN_W || k == IN_R || k == IN_B || k == IN_P) &&
            in[k].dtype && !in[k].cval)
            rs->per_run = 1;
    st = rs->per_run ? SEQK_OK
                     : set_weights(rnn, n->n_in,
                                   (const seqk_tensor *const *)tin);
    if (st) {
        rnn_free(rs);
        return st;
    }
    *state = rs;
    *free_state = rnn_free;
    return SEQK_OK;
}

static seqk_status rnn_run(const mdl_run_args *a)
{
    int n = a->node->n_in, m = a->node->n_out;
    const rnn_state *rs = a->state;
    seqk_status st;
    if (rs->per_run && (st = set_weights(rs->rnn, n, a->in)))
        return st;
    return seqk_rnn_forward(rs->rnn, a->in[IN_X],
                            n > IN_SEQ ? a->in[IN_SEQ] : NULL,
                            n > IN_H0 ? a->in[IN_H0] : NULL,
                            n > IN_C0 ? a->in[IN_C0] : NULL,
                            a->out[0], m > 1 ? a->out[1] : NULL,
                            m > 2 ? a->out[2] : NULL);
}

const mdl_op seqk__mdl_op_lstm = {"LSTM", 7, 23, MDL_OP_KERNEL, "rnn_layer",
                            rnn_parse, rnn_infer, rnn_prepare, rnn_run, NULL};
const mdl_op seqk__mdl_op_gru = {"GRU", 7, 23, MDL_OP_KERNEL, "rnn_layer",
                           rnn_parse, rnn_infer, rnn_prepare, rnn_run, NULL};
const mdl_op seqk__mdl_op_rnn = {"RNN", 7, 23, MDL_OP_KERNEL, "rnn_layer",
                           rnn_parse, rnn_infer, rnn_prepare, rnn_run, NULL};

int seqk__mdl_rnn_layout(const mdl_node *n)
{
    return ((const rnn_attrs *)n->attrs)->desc.layout;
}

int seqk__mdl_rnn_dirs(const mdl_node *n)
{
    return ((const rnn_attrs *)n->attrs)->desc.direction ==
                   SEQK_BIDIRECTIONAL ? 2 : 1;
}

void *seqk__mdl_rnn_attrs_layout(const mdl_node *n, int layout)
{
    rnn_attrs *a = malloc(sizeof *a);
    if (a) {
        *a = *(const rnn_attrs *)n->attrs;
        a->desc.layout = layout;
    }
    return a;
}
