/*
 * softmax.cl — ONNX Softmax over the middle axis of X viewed as
 * [outer, n, inner] (dense, row-major):
 *
 *   inner == 1:  seqk_f32_softmax_rows     one work-group per row o
 *       X[o*n + i], i < n; work-items stride over i, then a local-memory
 *       tree reduction for the max and again for the sum.
 *   inner  > 1:  seqk_f32_softmax_columns  one work-item per (o, r) column
 *       X[o*n*inner + i*inner + r]; neighbouring work-items read
 *       neighbouring r, so loads coalesce.
 *
 * Buffers come with an element offset (no sub-buffers).  seqk_f32_softmax_rows
 * needs a power-of-two work-group size and a __local scratch of that many
 * floats, both chosen by the host from the device limits; every work-item
 * reaches every barrier (the loops over i have no barriers inside).
 *
 * SOFTMAX_VW (1, 4, 8 or 16, tuned): seqk_f32_softmax_rows reads whole
 * vectors j = lid, lid+lsz, ... (elements VW*j.., vloadN: only float
 * alignment needed, so any row offset works), then the n % VW tail
 * elements one per work-item; neighbouring work-items still read
 * neighbouring memory.
 */

#ifndef SOFTMAX_VW
#define SOFTMAX_VW 1
#endif

inline float hmax4(float4 v)
{
    return fmax(fmax(v.s0, v.s1), fmax(v.s2, v.s3));
}
inline float hsum4(float4 v) { return (v.s0 + v.s1) + (v.s2 + v.s3); }
inline float hmax8(float8 v) { return hmax4(fmax(v.lo, v.hi)); }
inline float hsum8(float8 v) { return hsum4(v.lo + v.hi); }

/* Block j of SOFTMAX_VW floats of a row: its max; e = exp(x - mx) stored
 * to y and summed; y scaled.  16 as two float8 (a float16 built from
 * halves, or vload16, gets false "uninitialized" reports from Oclgrind
 * 21.10; PoCL merges the halves again). */
#if SOFTMAX_VW == 16
inline float blk_max(size_t j, __global const float *x)
{
    return hmax8(fmax(vload8(2 * j, x), vload8(2 * j + 1, x)));
}
inline float blk_exp(size_t j, __global const float *x, __global float *y,
                     float mx)
{
    const float8 e0 = exp(vload8(2 * j, x) - mx);
    const float8 e1 = exp(vload8(2 * j + 1, x) - mx);
    vstore8(e0, 2 * j, y);
    vstore8(e1, 2 * j + 1, y);
    return hsum8(e0 + e1);
}
inline void blk_scale(size_t j, __global float *y, float s)
{
    vstore8(vload8(2 * j, y) * s, 2 * j, y);
    vstore8(vload8(2 * j + 1, y) * s, 2 * j + 1, y);
}
#elif SOFTMAX_VW == 8 || SOFTMAX_VW == 4
#if SOFTMAX_VW == 8
#define VEC float8
#define VLOAD vload8
#define VSTORE vstore8
#define HMAX hmax8
#define HSUM hsum8
#else
#define VEC float4
#define VLOAD vload4
#define VSTORE vstore4
#define HMAX hmax4
#define HSUM hsum4
#endif
inline float blk_max(size_t j, __global const float *x)
{
    return HMAX(VLOAD(j, x));
}
inline float blk_exp(size_t j, __global const float *x, __global float *y,
                     float mx)
{
    const VEC e = exp(VLOAD(j, x) - mx);
    VSTORE(e, j, y);
    return HSUM(e);
}
inline void blk_scale(size_t j, __global float *y, float s)
{
    VSTORE(VLOAD(j, y) * s, j, y);
}
#endif

/* Each work-item reads back only the elements it wrote itself (the same
 * strides in every pass), so y holds e^(x - max) between the sum and the
 * scaling without a barrier: one exp per element, not two. */
__kernel void seqk_f32_softmax_rows(__global const float *x, long x_off,
                           __global float *y, long y_off, long n,
                           __local float *scratch)
{
    const size_t lid = get_local_id(0);
    const size_t lsz = get_local_size(0);
    const long row = (long)get_group_id(0);
    __global const float *xr = x + x_off + row * n;
    __global float *yr = y + y_off + row * n;

#if SOFTMAX_VW > 1
    const long nv = n / SOFTMAX_VW; /* whole vectors; then the tail */
#else
    const long nv = 0;
#endif

    float m = -INFINITY;
#if SOFTMAX_VW > 1
    for (long j = (long)lid; j < nv; j += (long)lsz)
        m = fmax(m, blk_max((size_t)j, xr));
#endif
    for (long i = SOFTMAX_VW * nv + (long)lid; i < n; i += (long)lsz)
        m = fmax(m, xr[i]);
    scratch[lid] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t s = lsz / 2; s > 0; s /= 2) {
        if (lid < s)
            scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float mx = scratch[0];
    /* Everyone has read the max before scratch is reused for the sum. */
    barrier(CLK_LOCAL_MEM_FENCE);

    float sum = 0.0f;
#if SOFTMAX_VW > 1
    for (long j = (long)lid; j < nv; j += (long)lsz)
        sum += blk_exp((size_t)j, xr, yr, mx);
#endif
    for (long i = SOFTMAX_VW * nv + (long)lid; i < n; i += (long)lsz) {
        const float e = exp(xr[i] - mx);
        yr[i] = e;
        sum += e;
    }
    scratch[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t s = lsz / 2; s > 0; s /= 2) {
        if (lid < s)
            scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float inv = 1.0f / scratch[0];

#if SOFTMAX_VW > 1
    for (long j = (long)lid; j < nv; j += (long)lsz)
        blk_scale((size_t)j, yr, inv);
#endif
    for (long i = SOFTMAX_VW * nv + (long)lid; i < n; i += (long)lsz)
        yr[i] *= inv;
}

__kernel void seqk_f32_softmax_columns(__global const float *x, long x_off,
                              __global float *y, long y_off, long outer,
                              long n, long inner)
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
    const float inv = 1.0f / sum;
    for (long i = 0; i < n; i++)
        yc[i * inner] = exp(xc[i * inner] - mx) * inv;
}
