/*
 * op_elementwise.c — front end of the element-wise ops (ONNX Add, Sub,
 * Mul, Div with multidirectional broadcasting; Tanh, Sigmoid, Relu, Exp,
 * Neg).  It resolves the broadcast into per-operand strides over Y's
 * shape, then merges dimensions so that kernels see the fewest, longest
 * contiguous runs (problems.h):
 *
 *   A [4,1,8]  B [3,1]  ->  Y [4,3,8], a_str {8,0,1}, b_str {0,1,0}
 *   A [2,3,4]  B [2,3,4] -> Y [24],    a_str {1},     b_str {1}
 */
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
    {SEQK_EW_NEG, "Neg", 1},
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
 * stride allows (str[i] == str[i+1] * dims[i+1]). */
static void merge_dims(seqk_elementwise_problem *p, int nops,
                       int64_t *strs[2])
{
    int n = 0;
    for (int i = 0; i < p->ndim; i++) {
        if (p->dims[i] == 1)
            continue;
        if (n > 0) {
            int ok = 1;
            for (int k = 0; k < nops; k++)
                ok &= strs[k][n - 1] == strs[k][i] * p->dims[i];
            if (ok) {
                p->dims[n - 1] *= p->dims[i];
                for (int k = 0; k < nops; k++)
                    strs[k][n - 1] = strs[k][i];
                continue;
            }
        }
        p->dims[n] = p->dims[i];
        for (int k = 0; k < nops; k++)
            strs[k][n] = strs[k][i];
        n++;
    }
    if (n == 0) { /* every dim 1: one element */
        p->dims[0] = 1;
        for (int k = 0; k < nops; k++)
            strs[k][0] = 0;
        n = 1;
    }
    p->ndim = n;
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
    char s1[96], s2[96], what[64];

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
    if ((st = seqk__check_tensor(ctx, A, what, SEQK_F32, -1)))
        return st;
    if (arity == 2) {
        snprintf(what, sizeof what, "%s input B", name);
        if ((st = seqk__check_tensor(ctx, B, what, SEQK_F32, -1)))
            return st;
    } else if (B) {
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s is unary: B must be NULL", name);
    }
    snprintf(what, sizeof what, "%s output", name);
    if ((st = seqk__check_tensor(ctx, Y, what, SEQK_F32, -1)))
        return st;

    /* numpy broadcasting: right-aligned, each pair equal or one of 1 */
    seqk_elementwise_problem p = {.op = params->op, .alpha = params->alpha,
                                  .beta = params->beta, .A = A->data,
                                  .B = B ? B->data : NULL, .Y = Y->data};
    p.ndim = A->ndim;
    if (B && B->ndim > p.ndim)
        p.ndim = B->ndim;
    for (int i = 0; i < p.ndim; i++) {
        const int ja = A->ndim - p.ndim + i, jb = B ? B->ndim - p.ndim + i
                                                    : -1;
        const int64_t da = ja >= 0 ? A->dims[ja] : 1;
        const int64_t db = jb >= 0 ? B->dims[jb] : 1;
        if (da != db && da != 1 && db != 1)
            return seqk__error(ctx, SEQK_ERR_SHAPE,
                               "%s inputs A %s and B %s do not broadcast "
                               "(dimension %d: %lld vs %lld)", name,
                               seqk__shape_str(A, s1, sizeof s1),
                               seqk__shape_str(B, s2, sizeof s2), i,
                               (long long)da, (long long)db);
        p.dims[i] = da == 1 ? db : da;
    }
    if ((st = seqk__check_dims(ctx, Y, what, p.ndim, p.dims,
                               arity == 2 ? "the broadcast of A and B"
                                          : "the input")))
        return st;
    if (bad_alias(Y, A) || (B && bad_alias(Y, B)))
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
    merge_dims(&p, B ? 2 : 1, strs);
    return seqk__dispatch(ctx, SEQK_OP_ELEMENTWISE, &p);
}
