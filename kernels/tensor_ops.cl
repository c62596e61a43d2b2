/*
 * tensor_ops.cl — Gather, Concat (row copies), element-wise ops, ArgMax
 * and TopK.  One work-item per output element (Gather, copies,
 * element-wise) or per reduced row (ArgMax, TopK); global sizes are
 * rounded up to the work-group size, so every kernel checks its range.
 * Buffers come with an element offset (no sub-buffers).
 *
 * Data movement works in words: _u32 kernels move 4-byte words (f32, i32,
 * i64 as two words, bool rows of a multiple of 4 bytes at 4-byte
 * offsets), _u8 kernels bytes; the host picks.
 *
 *   gather     data [outer, n, inner], ids [nidx] (int, or long when
 *              idx64; negative counts from the end), out [outer, nidx,
 *              inner].  A bad id never reads data: its output words are
 *              0 and atomic_min(err[slot], position) records the first
 *              bad position (slots start at INT_MAX; the host reads them
 *              at its next synchronization, src/opencl/cl_checks.c).
 *   copy_rows  dst[r*dst_ld + c] = src[r*cols + c], r < rows, c < cols
 *   elementwise  y[g] = op(a[ia], b[ib]) over 8 right-aligned dims;
 *              ia, ib from the index digits and the strides (0 where an
 *              operand broadcasts).  op codes are seqk_elementwise_op's
 *              values (seqk.h): 0 Add, 1 Sub, 2 Mul, 3 Div, 4 Pow,
 *              100 Tanh, 101 Sigmoid, 102 Relu, 103 Exp, 104 Neg,
 *              105 Sqrt, 106 Abs, 107 Log, 108 Erf, 109 LeakyRelu,
 *              110 Gelu, 111 Gelu tanh, 112 HardSigmoid, 113 Clip (al,
 *              be: the op's alpha and beta); comparisons in onnx_ops.cl
 *   argmax     X [outer, n, inner] -> Y [outer, inner] (long)
 *   topk       X [outer, n, inner] -> values, indices [outer, k, inner],
 *              k passes, each taking the best item after the previous
 *              one in the order (better value, then lower index)
 *
 * NaN counts as larger than every number in ArgMax and TopK, as in the
 * reference backend.
 */

#define GATHER_BODY(T)                                                      \
    const long g = get_global_id(0);                                        \
    if (g >= outer * nidx * inner)                                          \
        return;                                                             \
    const long c = g % inner;                                               \
    const long j = (g / inner) % nidx;                                      \
    const long o = g / (inner * nidx);                                      \
    long id = idx64 ? ((__global const long *)ids)[i_off + j]               \
                    : (long)ids[i_off + j];                                 \
    if (id < 0)                                                             \
        id += n;                                                            \
    if (id < 0 || id >= n) {                                                \
        atomic_min(err + slot, (int)min(j, (long)INT_MAX));                 \
        out[o_off + g] = (T)0;                                              \
        return;                                                             \
    }                                                                       \
    out[o_off + g] = data[d_off + (o * n + id) * inner + c];

/* i_off counts ids elements: ints, or longs when idx64. */
__kernel void seqk_gather_u32(__global const uint *data, long d_off,
                              __global const int *ids, long i_off,
                              int idx64, __global uint *out, long o_off,
                              __global int *err, long slot, long outer,
                              long n, long nidx, long inner)
{
    GATHER_BODY(uint)
}

__kernel void seqk_gather_u8(__global const uchar *data, long d_off,
                             __global const int *ids, long i_off, int idx64,
                             __global uchar *out, long o_off,
                             __global int *err, long slot, long outer,
                             long n, long nidx, long inner)
{
    GATHER_BODY(uchar)
}

__kernel void seqk_copy_rows_u32(__global const uint *src, long s_off,
                                 __global uint *dst, long d_off, long rows,
                                 long cols, long dst_ld)
{
    const long g = get_global_id(0);
    if (g >= rows * cols)
        return;
    const long r = g / cols, c = g % cols;
    dst[d_off + r * dst_ld + c] = src[s_off + g];
}

__kernel void seqk_copy_rows_u8(__global const uchar *src, long s_off,
                                __global uchar *dst, long d_off, long rows,
                                long cols, long dst_ld)
{
    const long g = get_global_id(0);
    if (g >= rows * cols)
        return;
    const long r = g / cols, c = g % cols;
    dst[d_off + r * dst_ld + c] = src[s_off + g];
}

/* al, be: the op's alpha and beta (LeakyRelu, HardSigmoid, Clip) */
static float ew_apply(int op, float a, float b, float al, float be)
{
    switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return pow(a, b);
    case 100: return tanh(a);
    case 101: return 1.0f / (1.0f + exp(-a));
    case 102: return a < 0.0f ? 0.0f : a;
    case 103: return exp(a);
    case 105: return sqrt(a);
    case 106: return fabs(a);
    case 107: return log(a);
    case 108: return erf(a);
    case 109: return a >= 0.0f ? a : al * a;
    case 110: return 0.5f * a * (1.0f + erf(a * 0.70710678f));
    case 111:
        return 0.5f * a *
               (1.0f + tanh(0.7978845608f * (a + 0.044715f * a * a * a)));
    case 112: {
        const float v = al * a + be;
        return isnan(v) ? v : clamp(v, 0.0f, 1.0f);
    }
    case 113: return a < al ? al : a > be ? be : a;
    default: return -a;
    }
}

/* dims/as/bs: 8 right-aligned dimensions (leading ones 1, stride 0). */
__kernel void seqk_f32_elementwise(int op, __global const float *a,
                                   long a_off, __global const float *b,
                                   long b_off, __global float *y, long y_off,
                                   long numel, long8 dims, long8 as,
                                   long8 bs, float al, float be)
{
    const long g = get_global_id(0);
    if (g >= numel)
        return;
    long d[8], sa[8], sb[8];
    vstore8(dims, 0, d);
    vstore8(as, 0, sa);
    vstore8(bs, 0, sb);
    long rem = g, ia = a_off, ib = b_off;
    for (int k = 7; k >= 0 && rem; k--) {
        const long i = rem % d[k];
        rem /= d[k];
        ia += i * sa[k];
        ib += i * sb[k];
    }
    y[y_off + g] = ew_apply(op, a[ia], op < 100 ? b[ib] : 0.0f, al, be);
}

/* a before b in "larger first" order */
static int greater(float a, float b)
{
    if (isnan(a))
        return !isnan(b);
    return !isnan(b) && a > b;
}

__kernel void seqk_f32_argmax(__global const float *x, long x_off,
                              __global long *y, long y_off, long outer,
                              long n, long inner, int select_last)
{
    const long g = get_global_id(0);
    if (g >= outer * inner)
        return;
    const long o = g / inner, c = g % inner;
    __global const float *xr = x + x_off + o * n * inner + c;
    long best = 0;
    float bv = xr[0];
    for (long i = 1; i < n; i++) {
        const float v = xr[i * inner];
        if (greater(v, bv) || (select_last && !greater(bv, v))) {
            best = i;
            bv = v;
        }
    }
    y[y_off + g] = best;
}

/* (va, ia) comes before (vb, ib) in the TopK order */
static int before(int largest, float va, long ia, float vb, long ib)
{
    const int a_first = largest ? greater(va, vb) : greater(vb, va);
    const int b_first = largest ? greater(vb, va) : greater(va, vb);
    if (a_first != b_first)
        return a_first;
    return ia < ib;
}

__kernel void seqk_f32_topk(__global const float *x, long x_off,
                            __global float *values, long v_off,
                            __global long *indices, long i_off, long outer,
                            long n, long inner, long k, int largest)
{
    const long g = get_global_id(0);
    if (g >= outer * inner)
        return;
    const long o = g / inner, c = g % inner;
    __global const float *xr = x + x_off + o * n * inner + c;
    float pv = 0.0f;
    long pi = -1;
    for (long j = 0; j < k; j++) {
        long best = -1;
        float bv = 0.0f;
        for (long i = 0; i < n; i++) {
            const float v = xr[i * inner];
            if (pi >= 0 && !before(largest, pv, pi, v, i))
                continue;
            if (best < 0 || before(largest, v, i, bv, best)) {
                best = i;
                bv = v;
            }
        }
        const long at = (o * k + j) * inner + c;
        values[v_off + at] = bv;
        indices[i_off + at] = best;
        pv = bv;
        pi = best;
    }
}
