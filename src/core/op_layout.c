/*
 * op_layout.c — front ends of the ONNX layout ops: Transpose, Slice,
 * Split, Expand, Tile and Pad.  Each is a copy of any dtype, described to
 * the backends as one index map over Y's dims (problems.h,
 * seqk_layout_problem): per output dim the source extent, stride, start
 * and step, plus how out-of-range source indices are treated.
 *
 *   Transpose  X [2,3,4], perm {2,0,1}  ->  Y [4,2,3], src_str {1,12,4}
 *   Slice      axis 1 of [2,10], start 8, step -3  ->  Y [2,3], start 8
 *   Expand     X [3,1] -> Y [2,3,5]: src_str {0,1,0}
 *   Tile       X [2,3], repeats {2,1}: j = i mod src_dims
 *   Pad        begin 2: start -2, j outside [0, dim) padded
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

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

/* X and Y present, one dtype, not overlapping. */
static seqk_status check_xy(seqk_context *ctx, const char *op,
                            const seqk_tensor *X, const seqk_tensor *Y)
{
    seqk_status st;
    char what[48];
    snprintf(what, sizeof what, "%s input", op);
    if ((st = check_any(ctx, X, what)))
        return st;
    snprintf(what, sizeof what, "%s output", op);
    if ((st = check_any(ctx, Y, what)))
        return st;
    if (Y->dtype != X->dtype)
        return seqk__error(ctx, SEQK_ERR_DTYPE,
                           "%s output has dtype %s; expected %s (the "
                           "input's)", op, seqk__dtype_name(Y->dtype),
                           seqk__dtype_name(X->dtype));
    if (seqk__tensors_overlap(X, Y))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s output overlaps its input", op);
    return SEQK_OK;
}

/* A problem copying X into Y unchanged (identity map over X's dims);
 * callers then edit the dims they change.  Rank 0 becomes [1]. */
static void identity(seqk_layout_problem *p, const seqk_tensor *X,
                     const seqk_tensor *Y)
{
    memset(p, 0, sizeof *p);
    p->mode = SEQK_LAYOUT_COPY;
    p->ndim = X->ndim ? X->ndim : 1;
    int64_t s = 1;
    for (int i = p->ndim - 1; i >= 0; i--) {
        const int64_t d = X->ndim ? X->dims[i] : 1;
        p->dims[i] = p->src_dims[i] = d;
        p->src_str[i] = s;
        p->step[i] = 1;
        s *= d;
    }
    p->elem_size = seqk_dtype_size(X->dtype);
    p->X = X->data;
    p->Y = Y->data;
    p->numel = Y->numel;
}

static seqk_status run(seqk_context *ctx, seqk_layout_problem *p)
{
    if (p->numel == 0)
        return SEQK_OK;
    return seqk__dispatch(ctx, SEQK_OP_LAYOUT, p);
}

/* --------------------------------------------------------------- Transpose */

seqk_status seqk_transpose(seqk_context *ctx, int n, const int64_t *perm,
                           const seqk_tensor *X, seqk_tensor *Y)
{
    seqk_status st;
    char s1[96];
    int64_t pm[SEQK_MAX_DIMS], yd[SEQK_MAX_DIMS];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_transpose: ctx is NULL");
    if ((st = check_xy(ctx, "Transpose", X, Y)))
        return st;
    const int r = X->ndim;
    if (perm && n != r)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Transpose perm has %d entries; input %s has "
                           "rank %d", n, seqk__shape_str(X, s1, sizeof s1),
                           r);
    int seen[SEQK_MAX_DIMS] = {0};
    for (int i = 0; i < r; i++) {
        pm[i] = perm ? perm[i] : r - 1 - i;
        if (pm[i] < 0 || pm[i] >= r || seen[pm[i]])
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "Transpose perm is not a permutation of "
                               "0..%d (entry %d is %lld)", r - 1, i,
                               (long long)pm[i]);
        seen[pm[i]] = 1;
        yd[i] = X->dims[pm[i]];
    }
    if ((st = seqk__check_dims(ctx, Y, "Transpose output", r, yd,
                               "the input's dims in perm order")))
        return st;
    seqk_layout_problem p, id;
    identity(&id, X, Y);
    identity(&p, X, Y);
    for (int i = 0; i < r; i++) {
        p.dims[i] = p.src_dims[i] = yd[i];
        p.src_str[i] = id.src_str[pm[i]];
    }
    return run(ctx, &p);
}

/* ------------------------------------------------------------------- Slice */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

seqk_status seqk_slice(seqk_context *ctx, int n, const int64_t *starts,
                       const int64_t *ends, const int64_t *axes,
                       const int64_t *steps, const seqk_tensor *X,
                       seqk_tensor *Y)
{
    seqk_status st;
    char s1[96];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_slice: ctx is NULL");
    if ((st = check_xy(ctx, "Slice", X, Y)))
        return st;
    const int r = X->ndim;
    if (n < 0 || n > r || (n > 0 && (!starts || !ends)))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Slice has %d entries%s; input %s has rank %d",
                           n, n > 0 && (!starts || !ends)
                                  ? " but starts or ends is NULL" : "",
                           seqk__shape_str(X, s1, sizeof s1), r);
    seqk_layout_problem p;
    identity(&p, X, Y);
    int seen[SEQK_MAX_DIMS] = {0};
    for (int i = 0; i < n; i++) {
        int64_t a = axes ? axes[i] : i;
        if (a < -r || a >= r)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "Slice axis %lld is outside [%d, %d] for "
                               "input %s", (long long)a, -r, r - 1,
                               seqk__shape_str(X, s1, sizeof s1));
        if (a < 0)
            a += r;
        if (seen[a])
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "Slice axis %lld appears twice",
                               (long long)a);
        seen[a] = 1;
        const int64_t step = steps ? steps[i] : 1, dim = X->dims[a];
        if (step == 0)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "Slice step %d is 0", i);
        int64_t s = starts[i], e = ends[i];
        if (s < 0)
            s = s < -dim ? -dim : s; /* no overflow: dim >= 0 */
        if (e < 0)
            e = e < -dim - 1 ? -dim - 1 : e;
        if (s < 0)
            s += dim;
        if (e < 0)
            e += dim;
        int64_t len;
        if (step > 0) {
            s = clamp64(s, 0, dim);
            e = clamp64(e, 0, dim);
            len = e > s ? (e - s - 1) / step + 1 : 0;
        } else {
            s = clamp64(s, 0, dim - 1);
            e = clamp64(e, -1, dim - 1);
            /* -INT64_MIN overflows: that step takes one element */
            len = s <= e ? 0 : step == INT64_MIN ? 1
                                                 : (s - e - 1) / -step + 1;
        }
        p.dims[a] = len;
        p.start[a] = s;
        p.step[a] = step;
    }
    if ((st = seqk__check_dims(ctx, Y, "Slice output", r, p.dims,
                               "the sliced input")))
        return st;
    if (r == 0)
        p.dims[0] = 1;
    return run(ctx, &p);
}

/* ------------------------------------------------------------------- Split */

seqk_status seqk_split(seqk_context *ctx, int64_t axis, int n,
                       const seqk_tensor *X, seqk_tensor *const *outputs)
{
    seqk_status st;
    char s1[96], s2[96], what[48];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_split: ctx is NULL");
    if ((st = check_any(ctx, X, "Split input")))
        return st;
    if (n < 1 || !outputs)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Split needs at least one output (n = %d%s)", n,
                           outputs ? "" : ", outputs NULL");
    const int r = X->ndim;
    if (r < 1)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Split input is a scalar; expected rank >= 1");
    if (axis < -r || axis >= r)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Split axis %lld is outside [%d, %d] for input "
                           "%s", (long long)axis, -r, r - 1,
                           seqk__shape_str(X, s1, sizeof s1));
    const int ax = (int)(axis < 0 ? axis + r : axis);
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        const seqk_tensor *O = outputs[i];
        snprintf(what, sizeof what, "Split output %d", i);
        if ((st = check_xy(ctx, "Split", X, O)))
            return st;
        int same = O->ndim == r;
        for (int d = 0; same && d < r; d++)
            same = d == ax || O->dims[d] == X->dims[d];
        if (!same)
            return seqk__error(ctx, SEQK_ERR_SHAPE,
                               "%s has shape %s; expected the input's %s "
                               "but for axis %d", what,
                               seqk__shape_str(O, s1, sizeof s1),
                               seqk__shape_str(X, s2, sizeof s2), ax);
        sum += O->dims[ax]; /* each <= a numel: no overflow for n <= 2^31 */
        for (int j = 0; j < i; j++)
            if (seqk__tensors_overlap(O, outputs[j]))
                return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                                   "Split outputs %d and %d overlap", j, i);
    }
    if (sum != X->dims[ax])
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Split outputs have %lld entries on axis %d in "
                           "all; the input %s has %lld", (long long)sum, ax,
                           seqk__shape_str(X, s1, sizeof s1),
                           (long long)X->dims[ax]);
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        seqk_layout_problem p;
        identity(&p, X, outputs[i]);
        p.dims[ax] = outputs[i]->dims[ax];
        p.start[ax] = at;
        at += p.dims[ax];
        if ((st = run(ctx, &p)))
            return st;
    }
    return SEQK_OK;
}

/* ------------------------------------------------------------------ Expand */

seqk_status seqk_expand(seqk_context *ctx, const seqk_tensor *X,
                        seqk_tensor *Y)
{
    seqk_status st;
    char s1[96], s2[96];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_expand: ctx is NULL");
    if ((st = check_xy(ctx, "Expand", X, Y)))
        return st;
    int ok = Y->ndim >= X->ndim;
    for (int i = 0; ok && i < X->ndim; i++) {
        const int64_t xd = X->dims[i], yd = Y->dims[Y->ndim - X->ndim + i];
        ok = xd == yd || xd == 1;
    }
    if (!ok)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Expand input %s does not broadcast to the "
                           "output's shape %s",
                           seqk__shape_str(X, s1, sizeof s1),
                           seqk__shape_str(Y, s2, sizeof s2));
    seqk_layout_problem p, id;
    identity(&id, X, Y);
    identity(&p, Y, Y); /* Y's dims; sources set below */
    p.X = X->data;
    for (int i = 0; i < p.ndim; i++) {
        const int j = i - (Y->ndim - X->ndim);
        const int64_t xd = j >= 0 ? X->dims[j] : 1;
        p.src_dims[i] = xd;
        p.src_str[i] = xd == 1 ? 0 : id.src_str[j];
        p.step[i] = xd == 1 ? 0 : 1;
    }
    return run(ctx, &p);
}

/* -------------------------------------------------------------------- Tile */

seqk_status seqk_tile(seqk_context *ctx, const int64_t *repeats,
                      const seqk_tensor *X, seqk_tensor *Y)
{
    seqk_status st;
    int64_t yd[SEQK_MAX_DIMS];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_tile: ctx is NULL");
    if ((st = check_xy(ctx, "Tile", X, Y)))
        return st;
    if (!repeats && X->ndim > 0)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Tile repeats is NULL");
    for (int i = 0; i < X->ndim; i++) {
        if (repeats[i] < 0)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "Tile repeats[%d] is %lld; expected >= 0", i,
                               (long long)repeats[i]);
        if (seqk__mul_i64(X->dims[i], repeats[i], &yd[i]))
            return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                               "Tile: dims[%d] = %lld * %lld overflows", i,
                               (long long)X->dims[i],
                               (long long)repeats[i]);
    }
    if ((st = seqk__check_dims(ctx, Y, "Tile output", X->ndim, yd,
                               "the input's dims times repeats")))
        return st;
    seqk_layout_problem p;
    identity(&p, X, Y);
    p.mode = SEQK_LAYOUT_TILE;
    for (int i = 0; i < X->ndim; i++)
        p.dims[i] = yd[i];
    return run(ctx, &p);
}

/* --------------------------------------------------------------------- Pad */

void seqk_pad_params_init(seqk_pad_params *p)
{
    if (!p)
        return;
    *p = (seqk_pad_params){.struct_size = sizeof *p,
                           .mode = SEQK_PAD_CONSTANT};
}

/* value in dtype's bytes, little-endian in the low bytes (host order:
 * every target seqk builds for is little-endian). */
static uint64_t pad_bits(seqk_dtype dt, double v)
{
    uint64_t bits = 0;
    switch (dt) {
    case SEQK_F32: {
        const float f = (float)v;
        memcpy(&bits, &f, 4);
        break;
    }
    case SEQK_I32: {
        const int32_t i = v != v ? 0 : v >= 2147483647.0 ? INT32_MAX
                          : v <= -2147483648.0 ? INT32_MIN : (int32_t)v;
        memcpy(&bits, &i, 4);
        break;
    }
    case SEQK_I64: {
        const int64_t i = v != v ? 0 : v >= 9.2233720368547758e18
                              ? INT64_MAX
                          : v <= -9.2233720368547758e18 ? INT64_MIN
                                                        : (int64_t)v;
        memcpy(&bits, &i, 8);
        break;
    }
    default:
        bits = v != 0;
        break;
    }
    return bits;
}

seqk_status seqk_pad(seqk_context *ctx, const seqk_pad_params *params,
                     const int64_t *pads, const seqk_tensor *X,
                     seqk_tensor *Y)
{
    seqk_status st;
    char s1[96];
    int64_t yd[SEQK_MAX_DIMS];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_pad: ctx is NULL");
    if ((st = seqk__check_struct(ctx, params,
                                 params ? params->struct_size : 0,
                                 sizeof(seqk_pad_params),
                                 "seqk_pad params")))
        return st;
    if ((st = check_xy(ctx, "Pad", X, Y)))
        return st;
    if (params->mode < SEQK_PAD_CONSTANT || params->mode > SEQK_PAD_EDGE)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Pad mode %d is not constant (0), reflect (1) "
                           "or edge (2)", (int)params->mode);
    const int r = X->ndim;
    if (!pads && r > 0)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG, "Pad pads is NULL");
    for (int i = 0; i < r; i++) {
        const int64_t b = pads[i], e = pads[r + i];
        int64_t d;
        if (seqk__add_i64(X->dims[i], b, &d) || seqk__add_i64(d, e, &d))
            return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                               "Pad: axis %d size overflows", i);
        if (d < 0)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "Pad pads %lld and %lld on axis %d crop "
                               "more than input %s has", (long long)b,
                               (long long)e, i,
                               seqk__shape_str(X, s1, sizeof s1));
        if (params->mode != SEQK_PAD_CONSTANT && X->dims[i] == 0 && d > 0)
            return seqk__error(ctx, SEQK_ERR_SHAPE,
                               "Pad %s mode pads axis %d of input %s, "
                               "which is empty",
                               params->mode == SEQK_PAD_EDGE ? "edge"
                                                             : "reflect",
                               i, seqk__shape_str(X, s1, sizeof s1));
        yd[i] = d;
    }
    if ((st = seqk__check_dims(ctx, Y, "Pad output", r, yd,
                               "the input's dims plus the pads")))
        return st;
    seqk_layout_problem p;
    identity(&p, X, Y);
    p.mode = params->mode == SEQK_PAD_CONSTANT ? SEQK_LAYOUT_PAD_CONSTANT
             : params->mode == SEQK_PAD_REFLECT ? SEQK_LAYOUT_PAD_REFLECT
                                                : SEQK_LAYOUT_PAD_EDGE;
    p.pad_bits = pad_bits(X->dtype, params->value);
    for (int i = 0; i < r; i++) {
        p.dims[i] = yd[i];
        p.start[i] = -pads[i];
    }
    return run(ctx, &p);
}
