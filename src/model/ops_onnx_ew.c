/*
 * ops_onnx_ew.c — rows of the element-wise ops the library gained with
 * its "ONNX ops": Pow, Sqrt, Abs, Log, Erf, LeakyRelu, Gelu (20),
 * HardSigmoid, Clip, the comparisons (bool out) and And/Or/Not.  Attributes
 * (alpha, beta, approximate) parse once; Clip's min/max inputs (opset 11)
 * must be known at plan time and are copied into the step's state.  The
 * older element-wise rows (Add ... Neg, with integer folding) are in
 * ops.c.
 */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

/* ---- element-wise ops with attributes or non-float outputs */

typedef struct ew_attrs {
    seqk_elementwise_params p;
} ew_attrs;

static int ew_is_logic(seqk_elementwise_op op)
{
    return (op >= SEQK_EW_EQUAL && op <= SEQK_EW_OR) || op == SEQK_EW_NOT;
}

static seqk_status ew_parse(mdl_node *n, const void *p, char *err)
{
    ew_attrs *a = calloc(1, sizeof *a);
    char approx[16] = "none";
    seqk_status st;
    if (!(n->attrs = a))
        return SEQK_ERR_OUT_OF_MEMORY;
    int op = seqk_elementwise_from_name(n->op->name);
    if (op < 0) {
        snprintf(err, MDL_ERR_LEN, "no element-wise op %s", n->op->name);
        return SEQK_ERR_UNSUPPORTED;
    }
    if (!strcmp(n->op->name, "Gelu")) {
        if ((st = seqk__mdl_attr_string(p, "approximate", approx, sizeof approx,
                                  err)))
            return st;
        if (!strcmp(approx, "tanh"))
            op = SEQK_EW_GELU_TANH;
        else if (strcmp(approx, "none")) {
            snprintf(err, MDL_ERR_LEN, "approximate \"%s\"", approx);
            return SEQK_ERR_FORMAT;
        }
    }
    seqk_elementwise_params_init(&a->p, (seqk_elementwise_op)op);
    /* Clip before opset 11: min/max attributes */
    if ((st = seqk__mdl_attr_float(p, !strcmp(n->op->name, "Clip") ? "min"
                                                              : "alpha",
                             &a->p.alpha, err)) ||
        (st = seqk__mdl_attr_float(p, !strcmp(n->op->name, "Clip") ? "max"
                                                              : "beta",
                             &a->p.beta, err)))
        return st;
    return SEQK_OK;
}

static seqk_status ew_infer(const mdl_node *n, const mdl_info *in,
                            mdl_info *out, char *err)
{
    const ew_attrs *a = n->attrs;
    seqk_elementwise_op op = a->p.op;
    seqk_status st;
    int logic = ew_is_logic(op);
    if (!logic && (st = seqk__mdl_need_f32(in, 0, err)))
        return st;
    if (seqk_elementwise_arity(op) == 1) {
        if (op == SEQK_EW_CLIP &&
            ((st = seqk__mdl_need_known(n, in, 1, "Clip's min", err)) ||
             (st = seqk__mdl_need_known(n, in, 2, "Clip's max", err))))
            return st;
        out[0] = in[0];
        out[0].cval = NULL;
        out[0].dtype = logic ? SEQK_BOOL : in[0].dtype;
        return SEQK_OK;
    }
    if (in[0].dtype != in[1].dtype) {
        snprintf(err, MDL_ERR_LEN, "inputs are %s and %s",
                 seqk__mdl_dtype_name(in[0].dtype),
                 seqk__mdl_dtype_name(in[1].dtype));
        return SEQK_ERR_DTYPE;
    }
    out[0].dtype = logic ? SEQK_BOOL : in[0].dtype;
    return seqk__mdl_broadcast(&in[0], &in[1], &out[0], err);
}

static seqk_status ew_prepare(seqk_context *ctx, const mdl_node *n,
                              const mdl_info *in, const mdl_info *out,
                              seqk_tensor *const *tin,
                              seqk_tensor *const *tout, void **state,
                              void (**free_state)(void *), char *err)
{
    const ew_attrs *a = n->attrs;
    mdl_ivec_state *s;
    seqk_status st;
    (void)ctx; (void)out; (void)tin; (void)tout; (void)err;
    if ((st = seqk__mdl_ivec_new(state, free_state, &s)))
        return st;
    s->f0 = a->p.alpha;
    s->f1 = a->p.beta;
    if (a->p.op == SEQK_EW_CLIP && n->opset >= 11) {
        if (seqk__mdl_present(n, in, 1) && in[1].cval->numel > 0)
            s->f0 = seqk__mdl_host_f64(in[1].cval, 0);
        if (seqk__mdl_present(n, in, 2) && in[2].cval->numel > 0)
            s->f1 = seqk__mdl_host_f64(in[2].cval, 0);
    }
    return SEQK_OK;
}

static seqk_status ew_run(const mdl_run_args *r)
{
    const ew_attrs *a = r->node->attrs;
    const mdl_ivec_state *s = r->state;
    seqk_elementwise_params p = a->p;
    int binary = seqk_elementwise_arity(p.op) == 2;
    p.alpha = (float)s->f0;
    p.beta = (float)s->f1;
    return seqk_elementwise(r->ctx, &p, r->in[0], binary ? r->in[1] : NULL,
                            r->out[0]);
}

#define EW_ROW(var, nm, lo)                                                \
    const mdl_op var = {nm, lo, 23, MDL_OP_KERNEL, "elementwise",          \
                        ew_parse, ew_infer, ew_prepare, ew_run, NULL}
EW_ROW(seqk__mdl_op_pow, "Pow", 7);
EW_ROW(seqk__mdl_op_sqrt, "Sqrt", 6);
EW_ROW(seqk__mdl_op_abs, "Abs", 6);
EW_ROW(seqk__mdl_op_log, "Log", 6);
EW_ROW(seqk__mdl_op_erf, "Erf", 9);
EW_ROW(seqk__mdl_op_leaky_relu, "LeakyRelu", 6);
EW_ROW(seqk__mdl_op_gelu, "Gelu", 20);
EW_ROW(seqk__mdl_op_hard_sigmoid, "HardSigmoid", 6);
EW_ROW(seqk__mdl_op_clip, "Clip", 6);
EW_ROW(seqk__mdl_op_equal, "Equal", 7);
EW_ROW(seqk__mdl_op_less, "Less", 7);
EW_ROW(seqk__mdl_op_greater, "Greater", 7);
EW_ROW(seqk__mdl_op_less_or_equal, "LessOrEqual", 12);
EW_ROW(seqk__mdl_op_greater_or_equal, "GreaterOrEqual", 12);
EW_ROW(seqk__mdl_op_and, "And", 7);
EW_ROW(seqk__mdl_op_or, "Or", 7);
EW_ROW(seqk__mdl_op_not, "Not", 1);
