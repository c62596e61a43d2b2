/*
 * run_ops_tensor.c — `seqk run` for the tensor ops: Gather, ArgMax, TopK,
 * Concat and the element-wise ops.  Each runner works out the output
 * shape by the ONNX rules, makes the output (int64 for ArgMax's reduced
 * and TopK's Indices) and makes one library call; the library's checks
 * and messages do the rest.
 */
#include <stdint.h>
#include <string.h>

#include "run_ops_tensor.h"
#include "seqk.h"

/* Creates output name with the dtype and shape; 0 or exit code 1. */
static int make_out(run_state *st, const char *name, seqk_dtype dtype,
                    int ndim, const int64_t *dims, seqk_tensor **t)
{
    for (int i = 0; i < MAX_OP_OUTPUTS && st->op->outputs[i]; i++)
        if (!strcmp(st->op->outputs[i], name)) {
            if (seqk_tensor_create(st->ctx, ndim, dims, dtype, &st->out[i]))
                return run_fail(1, "output %s: %s", name,
                                seqk_last_error(st->ctx));
            *t = st->out[i];
            return 0;
        }
    return run_fail(1, "output %s: not an output of %s", name, st->op->name);
}

/* axis in [-rank, rank-1], as rank-relative index; else a message. */
static int axis_of(run_state *st, const seqk_tensor *t, int64_t axis,
                   int *out)
{
    const int nd = seqk_tensor_ndim(t);
    char s[160];
    if (axis < -nd || axis >= nd || nd == 0)
        return run_fail(1, "%s: axis %lld is outside [%d, %d] for input %s",
                        st->op->name, (long long)axis, -nd, nd - 1,
                        run_shape_str(t, s, sizeof s));
    *out = (int)(axis < 0 ? axis + nd : axis);
    return 0;
}

int run_op_gather(run_state *st)
{
    seqk_tensor *data = run_input(st, "data"), *ids = run_input(st, "indices");
    seqk_tensor *out = NULL;
    const int64_t axis = run_attr_int(st, "axis", 0);
    int ax = 0, rc;
    if ((rc = axis_of(st, data, axis, &ax)))
        return rc;
    const int dn = seqk_tensor_ndim(data), in = seqk_tensor_ndim(ids);
    if (dn - 1 + in > SEQK_MAX_DIMS)
        return run_fail(1, "Gather: the output would have rank %d; at most "
                        "%d", dn - 1 + in, SEQK_MAX_DIMS);
    int64_t od[SEQK_MAX_DIMS];
    int k = 0;
    for (int i = 0; i < ax; i++)
        od[k++] = seqk_tensor_dim(data, i);
    for (int i = 0; i < in; i++)
        od[k++] = seqk_tensor_dim(ids, i);
    for (int i = ax + 1; i < dn; i++)
        od[k++] = seqk_tensor_dim(data, i);
    if ((rc = make_out(st, "output", seqk_tensor_dtype(data), k, od, &out)))
        return rc;
    return seqk_gather(st->ctx, axis, data, ids, out) ? run_lib_fail(st) : 0;
}

int run_op_argmax(run_state *st)
{
    seqk_tensor *X = run_input(st, "data"), *Y = NULL;
    seqk_argmax_params p;
    seqk_argmax_params_init(&p);
    p.axis = run_attr_int(st, "axis", 0);
    p.keepdims = (int)run_attr_int(st, "keepdims", 1);
    p.select_last_index = (int)run_attr_int(st, "select_last_index", 0);
    int ax = 0, rc;
    if ((rc = axis_of(st, X, p.axis, &ax)))
        return rc;
    int64_t yd[SEQK_MAX_DIMS];
    int k = 0;
    for (int i = 0; i < seqk_tensor_ndim(X); i++)
        if (i != ax)
            yd[k++] = seqk_tensor_dim(X, i);
        else if (p.keepdims)
            yd[k++] = 1;
    if ((rc = make_out(st, "reduced", SEQK_I64, k, yd, &Y)))
        return rc;
    return seqk_argmax(st->ctx, &p, X, Y) ? run_lib_fail(st) : 0;
}

int run_op_topk(run_state *st)
{
    seqk_tensor *X = run_input(st, "X"), *K = run_input(st, "K");
    seqk_tensor *V = NULL, *I = NULL;
    int32_t k = 0;
    char s[160];
    /* ONNX: K is a 1-D tensor of one int64 (read as int32 here) */
    if (seqk_tensor_numel(K) != 1 || seqk_tensor_ndim(K) > 1)
        return run_fail(1, "TopK: K has shape %s; expected one value [1]",
                        run_shape_str(K, s, sizeof s));
    if (seqk_tensor_read(K, &k, sizeof k))
        return run_lib_fail(st);
    seqk_topk_params p;
    seqk_topk_params_init(&p, k);
    p.axis = run_attr_int(st, "axis", -1);
    p.largest = (int)run_attr_int(st, "largest", 1);
    p.sorted = (int)run_attr_int(st, "sorted", 1);
    int ax = 0, rc;
    if ((rc = axis_of(st, X, p.axis, &ax)))
        return rc;
    const int64_t n = seqk_tensor_dim(X, ax);
    if (k < 0 || k > n)
        return run_fail(1, "TopK: K = %d is outside 0..%lld (axis %d of X "
                        "%s)", (int)k, (long long)n, ax,
                        run_shape_str(X, s, sizeof s));
    int64_t od[SEQK_MAX_DIMS];
    for (int i = 0; i < seqk_tensor_ndim(X); i++)
        od[i] = i == ax ? k : seqk_tensor_dim(X, i);
    const int nd = seqk_tensor_ndim(X);
    if ((rc = make_out(st, "Values", SEQK_F32, nd, od, &V)) ||
        (rc = make_out(st, "Indices", SEQK_I64, nd, od, &I)))
        return rc;
    return seqk_topk(st->ctx, &p, X, V, I) ? run_lib_fail(st) : 0;
}

int run_op_concat(run_state *st)
{
    const seqk_tensor *in[MAX_OP_INPUTS];
    seqk_tensor *out = NULL;
    int n = 0, ax = 0, rc;
    for (int i = 0; i < MAX_OP_INPUTS && st->op->inputs[i].name; i++)
        if (st->in[i])
            in[n++] = st->in[i];
    const int64_t axis = run_attr_int(st, "axis", 0);
    if ((rc = axis_of(st, in[0], axis, &ax)))
        return rc;
    int64_t od[SEQK_MAX_DIMS];
    const int nd = seqk_tensor_ndim(in[0]);
    for (int d = 0; d < nd; d++)
        od[d] = seqk_tensor_dim(in[0], d);
    od[ax] = 0;
    for (int i = 0; i < n; i++) {
        const int64_t v = seqk_tensor_dim(in[i], ax);
        if (v < 0 || od[ax] > INT64_MAX - v)
            break; /* rank mismatch or overflow: the library says which */
        od[ax] += v;
    }
    if ((rc = make_out(st, "concat_result", seqk_tensor_dtype(in[0]), nd, od,
                       &out)))
        return rc;
    return seqk_concat(st->ctx, axis, n, in, out) ? run_lib_fail(st) : 0;
}

int run_op_elementwise(run_state *st)
{
    const int op = seqk_elementwise_from_name(st->op->name);
    const int binary = seqk_elementwise_arity((seqk_elementwise_op)op) == 2;
    /* the first input is A / input / X, the output C / output / Y */
    seqk_tensor *A = st->in[0], *B = binary ? st->in[1] : NULL, *Y = NULL;
    int64_t yd[SEQK_MAX_DIMS];
    int yn = seqk_tensor_ndim(A);
    char sa[160], sb[160];
    if (binary && seqk_tensor_ndim(B) > yn)
        yn = seqk_tensor_ndim(B);
    for (int i = 0; i < yn; i++) {
        const int ia = seqk_tensor_ndim(A) - yn + i;
        const int ib = binary ? seqk_tensor_ndim(B) - yn + i : -1;
        const int64_t da = ia >= 0 ? seqk_tensor_dim(A, ia) : 1;
        const int64_t db = ib >= 0 ? seqk_tensor_dim(B, ib) : 1;
        if (da != db && da != 1 && db != 1)
            return run_fail(1, "%s: A %s and B %s do not broadcast",
                            st->op->name, run_shape_str(A, sa, sizeof sa),
                            run_shape_str(B, sb, sizeof sb));
        yd[i] = da == 1 ? db : da;
    }
    int rc = make_out(st, st->op->outputs[0], SEQK_F32, yn, yd, &Y);
    if (rc)
        return rc;
    seqk_elementwise_params p;
    seqk_elementwise_params_init(&p, (seqk_elementwise_op)op);
    return seqk_elementwise(st->ctx, &p, A, B, Y) ? run_lib_fail(st) : 0;
}
