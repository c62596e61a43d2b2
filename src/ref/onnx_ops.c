/*
 * onnx_ops.c — reference Where, Cast, the layout index map (Transpose,
 * Slice, Split, Expand, Tile, Pad), Reduce, LayerNormalization and Conv1d
 * (problems.h), plain loops; sums in double.
 *
 *   Where   out[o] = cond[c] ? X[x] : Y[y] over merged dims
 *   Layout  Y[i] = X[sum_d j_d(i_d) * src_str[d]] (or the pad value)
 *   Reduce  X merged dims, reduce flags -> Y [kept dims]
 *   LayerNorm  X [rows, n] -> Y [rows, n], mean/inv_std [rows]
 *   Conv1d  X [N,C,L], W [M,C/G,K] -> Y [N,M,Lout]
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ref/ref.h"

seqk_status seqk__ref_where(const seqk_where_problem *p)
{
    int64_t idx[SEQK_MAX_DIMS] = {0};
    int64_t ic = 0, ix = 0, iy = 0;
    const size_t es = p->elem_size;
    for (int64_t o = 0; o < p->numel; o++) {
        const char *src = p->cond[ic] ? (const char *)p->X + ix * es
                                      : (const char *)p->Y + iy * es;
        memcpy((char *)p->out + o * es, src, es);
        for (int d = p->ndim - 1; d >= 0; d--) {
            ic += p->c_str[d];
            ix += p->x_str[d];
            iy += p->y_str[d];
            if (++idx[d] < p->dims[d])
                break;
            ic -= p->c_str[d] * p->dims[d];
            ix -= p->x_str[d] * p->dims[d];
            iy -= p->y_str[d] * p->dims[d];
            idx[d] = 0;
        }
    }
    return SEQK_OK;
}

/* float -> integer of [lo, hi]: truncation, NaN 0, saturating outside. */
static int64_t f2i(double v, double lo, double hi, int64_t ilo, int64_t ihi)
{
    if (v != v)
        return 0;
    if (v <= lo)
        return ilo;
    if (v >= hi)
        return ihi;
    return (int64_t)v;
}

seqk_status seqk__ref_cast(const seqk_cast_problem *p)
{
    for (int64_t i = 0; i < p->numel; i++) {
        double f = 0; /* the value, as float or as integer */
        int64_t v = 0;
        int is_f = 0;
        switch (p->from) {
        case SEQK_F32: f = ((const float *)p->X)[i]; is_f = 1; break;
        case SEQK_I32: v = ((const int32_t *)p->X)[i]; break;
        case SEQK_I64: v = ((const int64_t *)p->X)[i]; break;
        default: v = ((const uint8_t *)p->X)[i] != 0; break;
        }
        switch (p->to) {
        case SEQK_F32:
            ((float *)p->Y)[i] = is_f ? (float)f : (float)v;
            break;
        case SEQK_I32:
            /* i64 -> i32 wraps (two's complement), as numpy */
            ((int32_t *)p->Y)[i] =
                is_f ? (int32_t)f2i(f, -2147483648.0, 2147483647.0,
                                    INT32_MIN, INT32_MAX)
                     : (int32_t)(uint32_t)(uint64_t)v;
            break;
        case SEQK_I64:
            ((int64_t *)p->Y)[i] =
                is_f ? f2i(f, -9223372036854775808.0, 9223372036854775807.0,
                           INT64_MIN, INT64_MAX)
                     : v;
            break;
        default:
            ((uint8_t *)p->Y)[i] = is_f ? f != 0 : v != 0;
            break;
        }
    }
    return SEQK_OK;
}

/* The source index along dim d for output index i; -1: constant pad. */
static int64_t layout_src(const seqk_layout_problem *p, int d, int64_t i)
{
    int64_t j = p->start[d] + i * p->step[d];
    const int64_t n = p->src_dims[d];
    if (p->mode == SEQK_LAYOUT_TILE)
        return j % n;
    if (j >= 0 && j < n)
        return j;
    switch (p->mode) {
    case SEQK_LAYOUT_PAD_CONSTANT: return -1;
    case SEQK_LAYOUT_PAD_EDGE: return j < 0 ? 0 : n - 1;
    case SEQK_LAYOUT_PAD_REFLECT: {
        if (n == 1)
            return 0;
        const int64_t period = 2 * (n - 1);
        j %= period;
        if (j < 0)
            j += period;
        return j < n ? j : period - j;
    }
    default: return j; /* COPY: always in range */
    }
}

seqk_status seqk__ref_layout(const seqk_layout_problem *p)
{
    int64_t idx[SEQK_MAX_DIMS] = {0};
    const size_t es = p->elem_size;
    for (int64_t o = 0; o < p->numel; o++) {
        int64_t off = 0;
        int pad = 0;
        for (int d = 0; d < p->ndim && !pad; d++) {
            const int64_t j = layout_src(p, d, idx[d]);
            if (j < 0)
                pad = 1;
            else
                off += j * p->src_str[d];
        }
        char *dst = (char *)p->Y + o * es;
        if (pad)
            memcpy(dst, &p->pad_bits, es); /* little-endian low bytes */
        else
            memcpy(dst, (const char *)p->X + off * (int64_t)es, es);
        for (int d = p->ndim - 1; d >= 0; d--) {
            if (++idx[d] < p->dims[d])
                break;
            idx[d] = 0;
        }
    }
    return SEQK_OK;
}

seqk_status seqk__ref_reduce(const seqk_reduce_problem *p)
{
    /* X strides of the merged dims; then for each output walk the
     * reduced dims in row-major order */
    int64_t str[SEQK_MAX_DIMS], s = 1;
    for (int d = p->ndim - 1; d >= 0; d--) {
        str[d] = s;
        s *= p->dims[d];
    }
    int64_t kidx[SEQK_MAX_DIMS] = {0};
    for (int64_t o = 0; o < p->out_numel; o++) {
        int64_t base = 0;
        for (int d = 0; d < p->ndim; d++)
            if (!p->reduce[d])
                base += kidx[d] * str[d];
        double acc = p->op == SEQK_REDUCE_MAX ? -INFINITY : 0.0;
        int64_t ridx[SEQK_MAX_DIMS] = {0};
        for (int64_t r = 0; r < p->count; r++) {
            int64_t off = base;
            for (int d = 0; d < p->ndim; d++)
                if (p->reduce[d])
                    off += ridx[d] * str[d];
            const double v = p->X[off];
            if (p->op != SEQK_REDUCE_MAX)
                acc += v;
            else if (v > acc || isnan(v))
                acc = isnan(acc) ? acc : v;
            for (int d = p->ndim - 1; d >= 0; d--) {
                if (!p->reduce[d])
                    continue;
                if (++ridx[d] < p->dims[d])
                    break;
                ridx[d] = 0;
            }
        }
        if (p->op == SEQK_REDUCE_MEAN)
            acc = p->count ? acc / (double)p->count : NAN;
        p->Y[o] = (float)acc;
        for (int d = p->ndim - 1; d >= 0; d--) {
            if (p->reduce[d])
                continue;
            if (++kidx[d] < p->dims[d])
                break;
            kidx[d] = 0;
        }
    }
    return SEQK_OK;
}

seqk_status seqk__ref_layer_norm(const seqk_layer_norm_problem *p)
{
    for (int64_t r = 0; r < p->rows; r++) {
        const float *x = p->X + r * p->n;
        float *y = p->Y + r * p->n;
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < p->n; i++)
            sum += x[i];
        const double mean = sum / (double)p->n;
        for (int64_t i = 0; i < p->n; i++)
            sq += (x[i] - mean) * (x[i] - mean);
        const double inv = 1.0 / sqrt(sq / (double)p->n + p->epsilon);
        for (int64_t i = 0; i < p->n; i++)
            y[i] = (float)((x[i] - mean) * inv * p->scale[i] +
                           (p->bias ? p->bias[i] : 0.0));
        if (p->mean)
            p->mean[r] = (float)mean;
        if (p->inv_std)
            p->inv_std[r] = (float)inv;
    }
    return SEQK_OK;
}

seqk_status seqk__ref_conv1d(const seqk_conv1d_problem *p)
{
    const int64_t cg = p->C / p->group, mg = p->M / p->group;
    /* X[n, c, l] at n*C*L + c*sc + l*sl */
    const int64_t sc = p->x_nlc ? 1 : p->L, sl = p->x_nlc ? p->C : 1;
    /* Y[n, m, t] at n*M*Lout + m*ym + t*yt */
    const int64_t ym = p->y_nlc ? 1 : p->Lout, yt = p->y_nlc ? p->M : 1;
    for (int64_t n = 0; n < p->N; n++)
        for (int64_t m = 0; m < p->M; m++) {
            const int64_t g = m / mg;
            for (int64_t t = 0; t < p->Lout; t++) {
                double acc = p->B ? p->B[m] : 0.0;
                for (int64_t c = 0; c < cg; c++) {
                    const float *x =
                        p->X + n * p->C * p->L + (g * cg + c) * sc;
                    const float *w = p->W + (m * cg + c) * p->K;
                    for (int64_t k = 0; k < p->K; k++) {
                        const int64_t at =
                            t * p->stride + k * p->dilation - p->pad_begin;
                        if (at >= 0 && at < p->L)
                            acc += (double)w[k] * x[at * sl];
                    }
                }
                p->Y[n * p->M * p->Lout + m * ym + t * yt] = (float)acc;
            }
        }
    return SEQK_OK;
}
