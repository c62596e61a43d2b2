/*
 * op_elementwise.c — front end of the element-wise ops (ONNX Add, Sub,
 * Mul, Div, Pow, the comparisons and logic with multidirectional
 * broadcasting; Tanh, Sigmoid, Relu, Exp, Neg, Sqrt, ... Not), of Where
 * (three operands) and of Cast.  It resolves the broadcast into per-operand strides over Y's
 * shape, then merges dimensions so that kernels see the fewest, longest
 * contiguous runs (problems.h):
 *
 *   A [4,1,8]  B [3,1]  ->  Y [4,3,8], a_str {8,0,1}, b_str {0,1,0}
 *   A [2,3,4]  B [2,3,4] -> Y [24],    a_str {1},     b_str {1}
 */
#include <math.h>
#include <stdio.h>
#include <strings.h>

#include "core/internal.h"

static const struct {
    seqk_elementwise_op op;
    const char *name;
    int arity;
} ops[] = {
    {SEQK_EW_ADD, "Add", 2},         {SEQK_EW_SUB, "Sub", 2},
    {SEQK_EW_MUL, "Mul", 2},         {SEQK_EW_DIV, "Div", 2},
    {SEQK_EW_TANH, "Tanh", 1},       {SEQK_EW_SIGMOID, "Sigmoid", 1},
    {SEQK_EW_RELU, "Relu", 1},       {SEQK_EW_EXP, "Exp", 1},
    {SEQK_EW_NEG, "Neg", 1},         {SEQK_EW_POW, "Pow", 2},
    {SEQK_EW_EQUAL, "Equal", 2},     {SEQK_EW_LESS, "Less", 2},
    {SEQK_EW_GREATER, "Greater", 2},
    {SEQK_EW_LESS_OR_EQUAL, "LessOrEqual", 2},
    {SEQK_EW_GREATER_OR_EQUAL, "GreaterOrEqual", 2},
    {SEQK_EW_AND, "And", 2},         {SEQK_EW_OR, "Or", 2},
    {SEQK_EW_SQRT, "Sqrt", 1},       {SEQK_EW_ABS, "Abs", 1},
    {SEQK_EW_LOG, "Log", 1},         {SEQK_EW_ERF, "Erf", 1},
    {SEQK_EW_LEAKY_RELU, "LeakyRelu", 1},
    {SEQK_EW_GELU, "Gelu", 1},       {SEQK_EW_GELU_TANH, "GeluTanh", 1},
    {SEQK_EW_HARD_SIGMOID, "HardSigmoid", 1},
    {SEQK_EW_CLIP, "Clip", 1},       {SEQK_EW_NOT, "Not", 1},
};
enum { NUM_OPS = sizeof ops / sizeof ops[0] };

int seqk_elementwise_arity(seqk_elementwise_op op)
{
    for (int i = 0; i < NUM_OPS; i++)
        if (ops[i].op == op)
            return ops[i].arity;
    return 0;
}

int seqk_elementwise_from_name(const char *name)
{
    for (int i = 0; name && i < NUM_OPS; i++)
        if (!strcasecmp(ops[i].name, name))
            return (int)ops[i].op;
    return -1;
}

const char *seqk_elementwise_name(seqk_elementwise_op op)
{
    for (int i = 0; i < NUM_OPS; i++)
        if (ops[i].op == op)
            return ops[i].name;
    return "unknown";
}

void seqk_elementwise_params_init(seqk_elementwise_params *p,
                                  seqk_elementwise_op op)
{
    if (!p)
        return;
    *p = (seqk_elementwise_params){.struct_size = sizeof *p, .op = op};
    /* ONNX's attribute defaults */
    if (op == SEQK_EW_LEAKY_RELU)
        p->alpha = 0.01f;
    else if (op == SEQK_EW_HARD_SIGMOID) {
        p->alpha = 0.2f;
        p->beta = 0.5f;
    } else if (op == SEQK_EW_CLIP) {
        p->alpha = -INFINITY;
        p->beta = INFINITY;
    }
}

/* The dtypes an op takes (A and B one of them) and gives. */
static int is_compare(seqk_elementwise_op op)
{
    return op >= SEQK_EW_EQUAL && op <= SEQK_EW_GREATER_OR_EQUAL;
}
static int is_logic(seqk_elementwise_op op)
{
    return op == SEQK_EW_AND || op == SEQK_EW_OR || op == SEQK_EW_NOT;
}
static int in_dtype_ok(seqk_elementwise_op op, seqk_dtype dt)
{
    if (is_logic(op))
        return dt == SEQK_BOOL;
    if (is_compare(op))
        return dt == SEQK_F32 || dt == SEQK_I32 || dt == SEQK_I64 ||
               (op == SEQK_EW_EQUAL && dt == SEQK_BOOL);
    return dt == SEQK_F32;
}
static const char *in_dtypes(seqk_elementwise_op op)
{
    if (is_logic(op))
        return "bool";
    if (op == SEQK_EW_EQUAL)
        return "f32, i32, i64 or bool";
    if (is_compare(op))
        return "f32, i32 or i64";
    return "f32";
}

/* Checks an element-wise operand: present, ctx's, a dtype op takes. */
static seqk_status check_operand(seqk_context *ctx, seqk_elementwise_op op,
                                 const seqk_tensor *t, const char *what)
{
    if (!t)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG, "%s is NULL", what);
    if (t->ctx != ctx)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s belongs to another context", what);
    if (!in_dtype_ok(op, t->dtype))
        return seqk__error(ctx, SEQK_ERR_DTYPE,
                           "%s has dtype %s; expected %s", what,
                           seqk__dtype_name(t->dtype), in_dtypes(op));
    return SEQK_OK;
}

/* Strides of t (dense, row-major) over Y's ndim dims, right-aligned: 0
 * where t has no dimension or a broadcast 1. */
static void bcast_strides(const seqk_tensor *t, int ndim, int64_t *str)
{
    int64_t s = 1;
    for (int i = ndim - 1, j = t->ndim - 1; i >= 0; i--, j--) {
        if (j < 0 || t->dims[j] == 1) {
            str[i] = 0;
            continue;
        }
        str[i] = s;
        s *= t->dims[j];
    }
}

/* Drops dims of 1, then merges dim i into i+1 where every operand's
 * stride allows (str[i] == str[i+1] * dims[i+1]); returns the new rank
 * (>= 1). */
static int merge_dims(int ndim, int64_t *dims, int nops, int64_t **strs)
{
    int n = 0;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] == 1)
            continue;
        if (n > 0) {
            int ok = 1;
            for (int k = 0; k < nops; k++)
                ok &= strs[k][n - 1] == strs[k][i] * dims[i];
            if (ok) {
                dims[n - 1] *= dims[i];
                for (int k = 0; k < nops; k++)
                    strs[k][n - 1] = strs[k][i];
                continue;
            }
        }
        dims[n] = dims[i];
        for (int k = 0; k < nops; k++)
            strs[k][n] = strs[k][i];
        n++;
    }
    if (n == 0) { /* every dim 1: one element */
        dims[0] = 1;
        for (int k = 0; k < nops; k++)
            strs[k][0] = 0;
        n = 1;
    }
    return n;
}

/* The numpy broadcast of n shapes into dims (rank *ndim); SEQK_ERR_SHAPE
 * naming the op when two do not broadcast. */
static seqk_status broadcast(seqk_context *ctx, const char *name, int n,
                             const seqk_tensor *const *ts,
                             const char *const *names, int *ndim,
                             int64_t *dims)
{
    char s1[96], s2[96];
    int nd = 0;
    for (int k = 0; k < n; k++)
        if (ts[k] && ts[k]->ndim > nd)
            nd = ts[k]->ndim;
    for (int i = 0; i < nd; i++) {
        int64_t d = 1;
        int from = -1;
        for (int k = 0; k < n; k++) {
            const int j = ts[k] ? ts[k]->ndim - nd + i : -1;
            const int64_t dk = j >= 0 ? ts[k]->dims[j] : 1;
            if (dk == 1)
                continue;
            if (d != 1 && dk != d)
                return seqk__error(ctx, SEQK_ERR_SHAPE,
                                   "%s inputs %s %s and %s %s do not "
                                   "broadcast (dimension %d: %lld vs %lld)",
                                   name, names[from],
                                   seqk__shape_str(ts[from], s1, sizeof s1),
                                   names[k],
                                   seqk__shape_str(ts[k], s2, sizeof s2), i,
                                   (long long)d, (long long)dk);
            d = dk;
            from = k;
        }
        dims[i] = d;
    }
    *ndim = nd;
    return SEQK_OK;
}

/* Y may be exactly A (same memory, Y's shape), never partly overlap it. */
static int bad_alias(const seqk_tensor *Y, const seqk_tensor *X)
{
    if (!seqk__tensors_overlap(Y, X))
        return 0;
    return !(X->data == Y->data && X->numel == Y->numel);
}

seqk_status seqk_elementwise(seqk_context *ctx,
                             const seqk_elementwise_params *params,
                             const seqk_tensor *A, const seqk_tensor *B,
                             seqk_tensor *Y)
{
    seqk_status st;
    char what[64];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_elementwise: ctx is NULL");
    if ((st = seqk__check_struct(ctx, params,
                                 params ? params->struct_size : 0,
                                 sizeof(seqk_elementwise_params),
                                 "seqk_elementwise params")))
        return st;
    const int arity = seqk_elementwise_arity(params->op);
    if (arity == 0)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_elementwise: op %d is not an element-wise "
                           "op", (int)params->op);
    const char *name = seqk_elementwise_name(params->op);
    snprintf(what, sizeof what, "%s input A", name);
    if ((st = check_operand(ctx, params->op, A, what)))
        return st;
    if (arity == 2) {
        snprintf(what, sizeof what, "%s input B", name);
        if ((st = check_operand(ctx, params->op, B, what)))
            return st;
        if (B->dtype != A->dtype)
            return seqk__error(ctx, SEQK_ERR_DTYPE,
                               "%s input B has dtype %s but A has %s; "
                               "expected the same", name,
                               seqk__dtype_name(B->dtype),
                               seqk__dtype_name(A->dtype));
    } else if (B) {
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s is unary: B must be NULL", name);
    }
    snprintf(what, sizeof what, "%s output", name);
    const seqk_dtype ydt = is_compare(params->op) || is_logic(params->op)
                               ? SEQK_BOOL : SEQK_F32;
    if ((st = seqk__check_tensor(ctx, Y, what, ydt, -1)))
        return st;

    /* numpy broadcasting: right-aligned, each pair equal or one of 1 */
    seqk_elementwise_problem p = {.op = params->op, .alpha = params->alpha,
                                  .beta = params->beta,
                                  .in_dtype = A->dtype,
                                  .out_dtype = Y->dtype, .A = A->data,
                                  .B = B ? B->data : NULL, .Y = Y->data};
    const seqk_tensor *ts[2] = {A, B};
    static const char *const ab[2] = {"A", "B"};
    if ((st = broadcast(ctx, name, 2, ts, ab, &p.ndim, p.dims)))
        return st;
    if ((st = seqk__check_dims(ctx, Y, what, p.ndim, p.dims,
                               arity == 2 ? "the broadcast of A and B"
                                          : "the input")))
        return st;
    if (bad_alias(Y, A) || (B && bad_alias(Y, B)) ||
        (ydt != A->dtype && (seqk__tensors_overlap(Y, A) ||
                             seqk__tensors_overlap(Y, B))))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s output overlaps an input without being it "
                           "(in place needs Y to be the input itself)",
                           name);
    p.numel = Y->numel;
    if (Y->numel == 0)
        return SEQK_OK;
    bcast_strides(A, p.ndim, p.a_str);
    if (B)
        bcast_strides(B, p.ndim, p.b_str);
    int64_t *strs[2] = {p.a_str, p.b_str};
    p.ndim = merge_dims(p.ndim, p.dims, B ? 2 : 1, strs);
    return seqk__dispatch(ctx, SEQK_OP_ELEMENTWISE, &p);
}

/* ------------------------------------------------------------------- Where */

/* Checks a tensor of any dtype: present and ctx's. */
static seqk_status check_any(seqk_context *ctx, const seqk_tensor *t,
                             const char *what)
{
    if (!t)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG, "%s is NULL", what);
    if (t->ctx != ctx)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s belongs to another context", what);
    return SEQK_OK;
}

seqk_status seqk_where(seqk_context *ctx, const seqk_tensor *cond,
                       const seqk_tensor *X, const seqk_tensor *Y,
                       seqk_tensor *out)
{
    seqk_status st;

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_where: ctx is NULL");
    if ((st = seqk__check_tensor(ctx, cond, "Where condition", SEQK_BOOL,
                                 -1)) ||
        (st = check_any(ctx, X, "Where input X")) ||
        (st = check_any(ctx, Y, "Where input Y")) ||
        (st = check_any(ctx, out, "Where output")))
        return st;
    if (Y->dtype != X->dtype || out->dtype != X->dtype)
        return seqk__error(ctx, SEQK_ERR_DTYPE,
                           "Where X, Y and output have dtypes %s, %s and "
                           "%s; expected one dtype",
                           seqk__dtype_name(X->dtype),
                           seqk__dtype_name(Y->dtype),
                           seqk__dtype_name(out->dtype));
    seqk_where_problem p = {.elem_size = seqk_dtype_size(X->dtype),
                            .cond = cond->data, .X = X->data, .Y = Y->data,
                            .out = out->data};
    const seqk_tensor *ts[3] = {cond, X, Y};
    static const char *const names[3] = {"condition", "X", "Y"};
    if ((st = broadcast(ctx, "Where", 3, ts, names, &p.ndim, p.dims)))
        return st;
    if ((st = seqk__check_dims(ctx, out, "Where output", p.ndim, p.dims,
                               "the broadcast of condition, X and Y")))
        return st;
    if (seqk__tensors_overlap(out, cond) || seqk__tensors_overlap(out, X) ||
        seqk__tensors_overlap(out, Y))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Where output overlaps an input");
    p.numel = out->numel;
    if (p.numel == 0)
        return SEQK_OK;
    bcast_strides(cond, p.ndim, p.c_str);
    bcast_strides(X, p.ndim, p.x_str);
    bcast_strides(Y, p.ndim, p.y_str);
    int64_t *strs[3] = {p.c_str, p.x_str, p.y_str};
    p.ndim = merge_dims(p.ndim, p.dims, 3, strs);
    return seqk__dispatch(ctx, SEQK_OP_WHERE, &p);
}

/* -------------------------------------------------------------------- Cast */

seqk_status seqk_cast(seqk_context *ctx, const seqk_tensor *X,
                      seqk_tensor *Y)
{
    seqk_status st;
    char s1[96];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_cast: ctx is NULL");
    if ((st = check_any(ctx, X, "Cast input")) ||
        (st = check_any(ctx, Y, "Cast output")))
        return st;
    if ((st = seqk__check_dims(ctx, Y, "Cast output", X->ndim, X->dims,
                               "the input's")))
        return st;
    if (seqk__tensors_overlap(Y, X))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Cast output overlaps its input %s",
                           seqk__shape_str(X, s1, sizeof s1));
    seqk_cast_problem p = {.from = X->dtype, .to = Y->dtype,
                           .numel = X->numel, .X = X->data, .Y = Y->data};
    if (p.numel == 0)
        return SEQK_OK;
    return seqk__dispatch(ctx, SEQK_OP_CAST, &p);
}
