/*
 * tensor_ops.c — reference Gather, ArgMax, TopK, Concat and the
 * element-wise ops (problems.h), plain loops.  The data-movement ops copy
 * elem_size-byte elements with memcpy, so they serve every dtype.
 *
 *   Gather  data [outer, n, inner] -> out [outer, nidx, inner]
 *   ArgMax  X [outer, n, inner]    -> Y [outer, inner]
 *   TopK    X [outer, n, inner]    -> values, indices [outer, k, inner]
 *   Concat  inputs [outer, cols_i] -> out [outer, row]
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"

seqk_status seqk__ref_gather(const seqk_gather_problem *p)
{
    const size_t row = (size_t)p->inner * p->elem_size;
    const char *data = p->data;
    char *out = p->out;
    for (int64_t o = 0; o < p->outer; o++)
        for (int64_t j = 0; j < p->nidx; j++) {
            int64_t id = p->idx64 ? ((const int64_t *)p->ids)[j]
                                  : ((const int32_t *)p->ids)[j];
            if (id < 0)
                id += p->n; /* checked by the front end */
            memcpy(out + (size_t)(o * p->nidx + j) * row,
                   data + (size_t)(o * p->n + id) * row, row);
        }
    return SEQK_OK;
}

/* a before b in "larger first" order: NaN beyond every number. */
static int greater(float a, float b)
{
    if (isnan(a))
        return !isnan(b);
    return !isnan(b) && a > b;
}

seqk_status seqk__ref_argmax(const seqk_argmax_problem *p)
{
    for (int64_t o = 0; o < p->outer; o++)
        for (int64_t c = 0; c < p->inner; c++) {
            const float *x = p->X + o * p->n * p->inner + c;
            int64_t best = 0;
            for (int64_t i = 1; i < p->n; i++) {
                const float v = x[i * p->inner], b = x[best * p->inner];
                if (greater(v, b) ||
                    (p->select_last && !greater(b, v)))
                    best = i;
            }
            p->Y[o * p->inner + c] = best;
        }
    return SEQK_OK;
}

typedef struct { float v; int64_t i; int largest; } topk_item;

/* The TopK order: better value first, ties to the lower index. */
static int topk_cmp(const void *pa, const void *pb)
{
    const topk_item *a = pa, *b = pb;
    const int a_first = a->largest ? greater(a->v, b->v) : greater(b->v, a->v);
    const int b_first = a->largest ? greater(b->v, a->v) : greater(a->v, b->v);
    if (a_first != b_first)
        return a_first ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

seqk_status seqk__ref_topk(const seqk_topk_problem *p)
{
    topk_item *items = malloc((size_t)(p->n ? p->n : 1) * sizeof *items);
    if (!items)
        return SEQK_ERR_OUT_OF_MEMORY;
    for (int64_t o = 0; o < p->outer; o++)
        for (int64_t c = 0; c < p->inner; c++) {
            const float *x = p->X + o * p->n * p->inner + c;
            for (int64_t i = 0; i < p->n; i++)
                items[i] = (topk_item){x[i * p->inner], i, p->largest};
            qsort(items, (size_t)p->n, sizeof *items, topk_cmp);
            for (int64_t j = 0; j < p->k; j++) {
                const int64_t at = (o * p->k + j) * p->inner + c;
                p->values[at] = items[j].v;
                p->indices[at] = items[j].i;
            }
        }
    free(items);
    return SEQK_OK;
}

seqk_status seqk__ref_concat(const seqk_concat_problem *p)
{
    char *out = p->out;
    for (int i = 0; i < p->n; i++) {
        const size_t len = (size_t)p->cols[i] * p->elem_size;
        const char *src = p->src[i];
        for (int64_t o = 0; o < p->outer; o++)
            memcpy(out + (size_t)(o * p->row + p->off[i]) * p->elem_size,
                   src + (size_t)o * len, len);
    }
    return SEQK_OK;
}

float seqk__ref_ew_unary_ab(seqk_elementwise_op op, float x, float alpha,
                           float beta)
{
    const double d = x;
    switch (op) {
    case SEQK_EW_TANH:
        return seqk__ref_activate((seqk_activation){SEQK_ACT_TANH, 0, 0}, x);
    case SEQK_EW_SIGMOID:
        return seqk__ref_activate((seqk_activation){SEQK_ACT_SIGMOID, 0, 0},
                                  x);
    case SEQK_EW_RELU:
        return seqk__ref_activate((seqk_activation){SEQK_ACT_RELU, 0, 0}, x);
    case SEQK_EW_EXP: return (float)exp(d);
    case SEQK_EW_NEG: return -x;
    case SEQK_EW_SQRT: return (float)sqrt(d);
    case SEQK_EW_ABS: return fabsf(x);
    case SEQK_EW_LOG: return (float)log(d);
    case SEQK_EW_ERF: return (float)erf(d);
    case SEQK_EW_LEAKY_RELU: return x >= 0 ? x : alpha * x;
    case SEQK_EW_GELU: return (float)(0.5 * d * (1.0 + erf(d / sqrt(2.0))));
    case SEQK_EW_GELU_TANH:
        return (float)(0.5 * d *
                       (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) *
                                   (d + 0.044715 * d * d * d))));
    case SEQK_EW_HARD_SIGMOID: {
        const double v = (double)alpha * d + beta;
        return isnan(v) ? (float)v : (float)(v < 0 ? 0 : v > 1 ? 1 : v);
    }
    case SEQK_EW_CLIP: return x < alpha ? alpha : x > beta ? beta : x;
    default: return NAN;
    }
}

float seqk__ref_ew_unary(seqk_elementwise_op op, float x)
{
    return seqk__ref_ew_unary_ab(op, x, 0, 0);
}

float seqk__ref_ew_binary(seqk_elementwise_op op, float a, float b)
{
    switch (op) {
    case SEQK_EW_ADD: return a + b;
    case SEQK_EW_SUB: return a - b;
    case SEQK_EW_MUL: return a * b;
    case SEQK_EW_DIV: return a / b;
    case SEQK_EW_POW: return (float)pow((double)a, (double)b);
    default: return NAN;
    }
}

/* A comparison or logic op on element i of a and j of b (dtype dt). */
static uint8_t ref_ew_bool(seqk_elementwise_op op, seqk_dtype dt,
                           const void *a, int64_t i, const void *b,
                           int64_t j)
{
    if (dt == SEQK_F32) {
        const float x = ((const float *)a)[i];
        const float y = b ? ((const float *)b)[j] : 0;
        switch (op) {
        case SEQK_EW_EQUAL: return x == y;
        case SEQK_EW_LESS: return x < y;
        case SEQK_EW_GREATER: return x > y;
        case SEQK_EW_LESS_OR_EQUAL: return x <= y;
        default: return x >= y;
        }
    }
    int64_t x, y = 0;
    if (dt == SEQK_I32) {
        x = ((const int32_t *)a)[i];
        y = ((const int32_t *)b)[j];
    } else if (dt == SEQK_I64) {
        x = ((const int64_t *)a)[i];
        y = ((const int64_t *)b)[j];
    } else { /* bool: any nonzero byte is true */
        x = ((const uint8_t *)a)[i] != 0;
        if (b)
            y = ((const uint8_t *)b)[j] != 0;
    }
    switch (op) {
    case SEQK_EW_EQUAL: return x == y;
    case SEQK_EW_LESS: return x < y;
    case SEQK_EW_GREATER: return x > y;
    case SEQK_EW_LESS_OR_EQUAL: return x <= y;
    case SEQK_EW_GREATER_OR_EQUAL: return x >= y;
    case SEQK_EW_AND: return x && y;
    case SEQK_EW_OR: return x || y;
    default: return !x; /* Not */
    }
}

seqk_status seqk__ref_elementwise(const seqk_elementwise_problem *p)
{
    int64_t idx[SEQK_MAX_DIMS] = {0};
    int64_t ia = 0, ib = 0;
    const float *A = p->A, *B = p->B;
    for (int64_t y = 0; y < p->numel; y++) {
        if (p->out_dtype == SEQK_BOOL)
            ((uint8_t *)p->Y)[y] = ref_ew_bool(p->op, p->in_dtype, p->A, ia,
                                               p->B, ib);
        else
            ((float *)p->Y)[y] =
                B ? seqk__ref_ew_binary(p->op, A[ia], B[ib])
                  : seqk__ref_ew_unary_ab(p->op, A[ia], p->alpha, p->beta);
        /* odometer over dims, moving the operands' offsets with it */
        for (int d = p->ndim - 1; d >= 0; d--) {
            ia += p->a_str[d];
            ib += p->b_str[d];
            if (++idx[d] < p->dims[d])
                break;
            ia -= p->a_str[d] * p->dims[d];
            ib -= p->b_str[d] * p->dims[d];
            idx[d] = 0;
        }
    }
    return SEQK_OK;
}
