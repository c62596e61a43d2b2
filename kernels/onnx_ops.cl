/*
 * onnx_ops.cl — the ONNX ops of the model runner: comparisons and logic,
 * Where, Cast, the layout index map (Transpose, Slice, Split, Expand,
 * Tile, Pad), Reduce, LogSoftmax, LayerNormalization and Conv1d.  One
 * work-item per output element (per reduced output, per row for
 * LogSoftmax and LayerNorm); global sizes are rounded up to the
 * work-group size, so every kernel checks its range.  Buffers come with
 * an element offset (no sub-buffers).  Shapes come as 8 right-aligned
 * dims (long8; leading dims 1 with stride 0).  No double, no atomics.
 *
 *   cmp_T      y[g] = op(a[ia], b[ib]) as uchar; op codes are
 *              seqk_elementwise_op's (seqk.h): 5 Equal, 6 Less,
 *              7 Greater, 8 LessOrEqual, 9 GreaterOrEqual, 10 And, 11 Or,
 *              114 Not
 *   where_T    out[g] = cond[ic] ? x[ix] : y[iy]       (T by element size)
 *   cast       y[g] = (to) x[g], dtype codes of seqk_dtype: 1 f32,
 *              2 i32, 3 bool, 4 i64; floats to ints saturate (NaN 0)
 *   layout_T   y[g] = x[sum_d j_d * str_d] or the pad value, j_d from
 *              start + i*step and the mode (problems.h)
 *   reduce     y[g] = sum / mean / max over the reduced digits (red_mask
 *              bit 7-d marks dim d of the 8)
 *   log_softmax_columns  one work-item per (o, r) of [outer, n, inner]
 *   layer_norm  one work-item per row of [rows, n]
 *   conv1d     one work-item per Y[n, m, t]
 */

/* The flat index g's offsets into up to three operands. */
#define WALK8(g, d, s0, o0, s1, o1, s2, o2)                                 \
    do {                                                                    \
        long rem_ = (g);                                                    \
        for (int k_ = 7; k_ >= 0 && rem_; k_--) {                           \
            const long i_ = rem_ % d[k_];                                   \
            rem_ /= d[k_];                                                  \
            o0 += i_ * s0[k_];                                              \
            o1 += i_ * s1[k_];                                              \
            o2 += i_ * s2[k_];                                              \
        }                                                                   \
    } while (0)

#define CMP_KERNEL(NAME, T)                                                 \
__kernel void NAME(int op, __global const T *a, long a_off,                 \
                   __global const T *b, long b_off, __global uchar *y,      \
                   long y_off, long numel, long8 dims, long8 as, long8 bs)  \
{                                                                           \
    const long g = get_global_id(0);                                        \
    if (g >= numel)                                                         \
        return;                                                             \
    long d[8], sa[8], sb[8], z[8] = {0, 0, 0, 0, 0, 0, 0, 0};               \
    vstore8(dims, 0, d);                                                    \
    vstore8(as, 0, sa);                                                     \
    vstore8(bs, 0, sb);                                                     \
    long ia = a_off, ib = b_off, iz = 0;                                    \
    WALK8(g, d, sa, ia, sb, ib, z, iz);                                     \
    const T x = a[ia], v = op == 114 ? (T)0 : b[ib];                        \
    int r;                                                                  \
    switch (op) {                                                           \
    case 5: r = x == v; break;                                              \
    case 6: r = x < v; break;                                               \
    case 7: r = x > v; break;                                               \
    case 8: r = x <= v; break;                                              \
    case 9: r = x >= v; break;                                              \
    case 10: r = x != (T)0 && v != (T)0; break;                             \
    case 11: r = x != (T)0 || v != (T)0; break;                             \
    default: r = x == (T)0; break;                                          \
    }                                                                       \
    y[y_off + g] = (uchar)r;                                                \
}

CMP_KERNEL(seqk_cmp_f32, float)
CMP_KERNEL(seqk_cmp_i32, int)
CMP_KERNEL(seqk_cmp_i64, long)
/* bool: any nonzero byte is true, so compare truth values */
__kernel void seqk_cmp_u8(int op, __global const uchar *a, long a_off,
                          __global const uchar *b, long b_off,
                          __global uchar *y, long y_off, long numel,
                          long8 dims, long8 as, long8 bs)
{
    const long g = get_global_id(0);
    if (g >= numel)
        return;
    long d[8], sa[8], sb[8], z[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    vstore8(dims, 0, d);
    vstore8(as, 0, sa);
    vstore8(bs, 0, sb);
    long ia = a_off, ib = b_off, iz = 0;
    WALK8(g, d, sa, ia, sb, ib, z, iz);
    const int x = a[ia] != 0, v = op == 114 ? 0 : b[ib] != 0;
    int r;
    switch (op) {
    case 5: r = x == v; break;
    case 10: r = x && v; break;
    case 11: r = x || v; break;
    default: r = !x; break;
    }
    y[y_off + g] = (uchar)r;
}

#define WHERE_KERNEL(NAME, T)                                               \
__kernel void NAME(__global const uchar *c, long c_off,                     \
                   __global const T *x, long x_off, __global const T *y,    \
                   long y_off, __global T *out, long o_off, long numel,     \
                   long8 dims, long8 cs, long8 xs, long8 ys)                \
{                                                                           \
    const long g = get_global_id(0);                                        \
    if (g >= numel)                                                         \
        return;                                                             \
    long d[8], sc[8], sx[8], sy[8];                                         \
    vstore8(dims, 0, d);                                                    \
    vstore8(cs, 0, sc);                                                     \
    vstore8(xs, 0, sx);                                                     \
    vstore8(ys, 0, sy);                                                     \
    long ic = c_off, ix = x_off, iy = y_off;                                \
    WALK8(g, d, sc, ic, sx, ix, sy, iy);                                    \
    out[o_off + g] = c[ic] ? x[ix] : y[iy];                                 \
}

WHERE_KERNEL(seqk_where_u8, uchar)
WHERE_KERNEL(seqk_where_u32, uint)
WHERE_KERNEL(seqk_where_u64, ulong)

/* x and y are the buffers as bytes; offsets in elements of their types */
__kernel void seqk_cast(int from, int to, __global const uchar *x,
                        long x_off, __global uchar *y, long y_off,
                        long numel)
{
    const long g = get_global_id(0);
    if (g >= numel)
        return;
    float f = 0.0f;
    long v = 0;
    int is_f = 0;
    switch (from) {
    case 1: f = ((__global const float *)x)[x_off + g]; is_f = 1; break;
    case 2: v = ((__global const int *)x)[x_off + g]; break;
    case 4: v = ((__global const long *)x)[x_off + g]; break;
    default: v = x[x_off + g] != 0; break;
    }
    switch (to) {
    case 1:
        ((__global float *)y)[y_off + g] = is_f ? f : (float)v;
        break;
    case 2:
        /* i64 -> i32 keeps the low 32 bits */
        ((__global int *)y)[y_off + g] =
            is_f ? (isnan(f) ? 0 : convert_int_sat_rtz(f))
                 : as_int((uint)(ulong)v);
        break;
    case 4:
        /* NaN -> 0 by hand: not every implementation's _sat does it */
        ((__global long *)y)[y_off + g] =
            is_f ? (isnan(f) ? 0 : convert_long_sat_rtz(f)) : v;
        break;
    default:
        y[y_off + g] = (uchar)(is_f ? f != 0.0f : v != 0);
        break;
    }
}

/* The source index for output index i of one dim; -1: constant pad.
 * modes: 0 copy, 1 tile, 2 pad constant, 3 reflect, 4 edge. */
static long layout_src(int mode, long start, long step, long n, long i)
{
    long j = start + i * step;
    if (mode == 1)
        return j % n;
    if (j >= 0 && j < n)
        return j;
    if (mode == 2)
        return -1;
    if (mode == 4)
        return j < 0 ? 0 : n - 1;
    if (n == 1)
        return 0;
    const long period = 2 * (n - 1);
    j %= period;
    if (j < 0)
        j += period;
    return j < n ? j : period - j;
}

#define LAYOUT_KERNEL(NAME, T)                                              \
__kernel void NAME(int mode, __global const T *x, long x_off,               \
                   __global T *y, long y_off, long numel, long8 dims,       \
                   long8 src_dims, long8 src_str, long8 start, long8 step,  \
                   ulong pad)                                               \
{                                                                           \
    const long g = get_global_id(0);                                        \
    if (g >= numel)                                                         \
        return;                                                             \
    long d[8], sd[8], ss[8], st[8], sp[8];                                  \
    vstore8(dims, 0, d);                                                    \
    vstore8(src_dims, 0, sd);                                               \
    vstore8(src_str, 0, ss);                                                \
    vstore8(start, 0, st);                                                  \
    vstore8(step, 0, sp);                                                   \
    long rem = g, off = x_off;                                              \
    for (int k = 7; k >= 0; k--) {                                          \
        const long i = rem % d[k];                                          \
        rem /= d[k];                                                        \
        const long j = layout_src(mode, st[k], sp[k], sd[k], i);            \
        if (j < 0) {                                                        \
            y[y_off + g] = (T)pad;                                          \
            return;                                                         \
        }                                                                   \
        off += j * ss[k];                                                   \
    }                                                                       \
    y[y_off + g] = x[off];                                                  \
}

LAYOUT_KERNEL(seqk_layout_u8, uchar)
LAYOUT_KERNEL(seqk_layout_u32, uint)
LAYOUT_KERNEL(seqk_layout_u64, ulong)

/* op: 0 sum, 1 mean, 2 max.  dims: X's merged dims right-aligned;
 * red_mask bit k set when dim k (of the 8) is reduced. */
__kernel void seqk_f32_reduce(int op, __global const float *x, long x_off,
                              __global float *y, long y_off, long out_numel,
                              long count, long8 dims, int red_mask)
{
    const long g = get_global_id(0);
    if (g >= out_numel)
        return;
    long d[8], str[8], s = 1;
    vstore8(dims, 0, d);
    for (int k = 7; k >= 0; k--) {
        str[k] = s;
        s *= d[k];
    }
    long rem = g, base = x_off;
    for (int k = 7; k >= 0; k--) {
        if (red_mask & (1 << k))
            continue;
        base += (rem % d[k]) * str[k];
        rem /= d[k];
    }
    float acc = op == 2 ? -INFINITY : 0.0f;
    for (long r = 0; r < count; r++) {
        long rr = r, off = base;
        for (int k = 7; k >= 0; k--) {
            if (!(red_mask & (1 << k)))
                continue;
            off += (rr % d[k]) * str[k];
            rr /= d[k];
        }
        const float v = x[off];
        if (op != 2)
            acc += v;
        else if (!isnan(acc) && (v > acc || isnan(v)))
            acc = v;
    }
    if (op == 1)
        acc = count ? acc / (float)count : NAN;
    y[y_off + g] = acc;
}

__kernel void seqk_f32_log_softmax_columns(__global const float *x,
                                           long x_off, __global float *y,
                                           long y_off, long outer, long n,
                                           long inner)
{
    const long gid = (long)get_global_id(0);
    if (gid >= outer * inner)
        return;
    const long o = gid / inner, r = gid % inner;
    __global const float *xc = x + x_off + o * n * inner + r;
    __global float *yc = y + y_off + o * n * inner + r;
    float mx = -INFINITY;
    for (long i = 0; i < n; i++)
        mx = fmax(mx, xc[i * inner]);
    float sum = 0.0f;
    for (long i = 0; i < n; i++)
        sum += exp(xc[i * inner] - mx);
    /* (x - max) - log(sum), not x - (max + log(sum)): with large x the
     * sum max + log(sum) would round away log(sum)'s low bits */
    const float ls = log(sum);
    for (long i = 0; i < n; i++)
        yc[i * inner] = (xc[i * inner] - mx) - ls;
}

/* has: bit 0 bias, bit 1 mean, bit 2 inv_std (absent ones get any valid
 * buffer and are not touched) */
__kernel void seqk_f32_layer_norm(__global const float *x, long x_off,
                                  __global const float *scale, long s_off,
                                  __global const float *bias, long b_off,
                                  __global float *y, long y_off,
                                  __global float *mean, long m_off,
                                  __global float *inv_std, long i_off,
                                  long rows, long n, float eps, int has)
{
    const long r = (long)get_global_id(0);
    if (r >= rows)
        return;
    __global const float *xr = x + x_off + r * n;
    __global float *yr = y + y_off + r * n;
    float sum = 0.0f;
    for (long i = 0; i < n; i++)
        sum += xr[i];
    const float mu = sum / (float)n;
    float sq = 0.0f;
    for (long i = 0; i < n; i++) {
        const float c = xr[i] - mu;
        sq += c * c;
    }
    const float inv = 1.0f / sqrt(sq / (float)n + eps);
    for (long i = 0; i < n; i++) {
        const float b = (has & 1) ? bias[b_off + i] : 0.0f;
        yr[i] = (xr[i] - mu) * inv * scale[s_off + i] + b;
    }
    if (has & 2)
        mean[m_off + r] = mu;
    if (has & 4)
        inv_std[i_off + r] = inv;
}

__kernel void seqk_f32_conv1d(__global const float *x, long x_off,
                              __global const float *w, long w_off,
                              __global const float *b, long b_off, int has_b,
                              __global float *y, long y_off, long N, long C,
                              long L, long M, long K, long Lout, long stride,
                              long dilation, long pad_begin, long group,
                              long sc, long sl, long ym, long yt)
{
    /* X[n, c, l] at n*C*L + c*sc + l*sl: [N,C,L] or channels-last [N,L,C];
     * Y[n, m, t] at n*M*Lout + m*ym + t*yt likewise.  Work-item g walks
     * Y in memory order (m fastest when channels-last: ym == 1). */
    const long g = get_global_id(0);
    if (g >= N * M * Lout)
        return;
    const long n = g / (Lout * M), r = g % (Lout * M);
    const long t = ym == 1 ? r / M : r % Lout, m = ym == 1 ? r % M : r / Lout;
    const long cg = C / group, grp = m / (M / group);
    float acc = has_b ? b[b_off + m] : 0.0f;
    for (long c = 0; c < cg; c++) {
        __global const float *xr = x + x_off + n * C * L + (grp * cg + c) * sc;
        __global const float *wr = w + w_off + (m * cg + c) * K;
        for (long k = 0; k < K; k++) {
            const long at = t * stride + k * dilation - pad_begin;
            if (at >= 0 && at < L)
                acc = fma(wr[k], xr[at * sl], acc);
        }
    }
    y[y_off + n * M * Lout + m * ym + t * yt] = acc;
}
