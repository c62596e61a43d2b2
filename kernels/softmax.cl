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
 * SOFTMAX_VW (1 or 4, tuned): seqk_f32_softmax_rows reads whole float4 vectors
 * j = lid, lid+lsz, ... (elements 4j..4j+3, vload4: only float alignment
 * needed, so any row offset works), then the n % 4 tail elements one per
 * work-item; neighbouring work-items still read neighbouring memory.
 */

#ifndef SOFTMAX_VW
#define SOFTMAX_VW 1
#endif

__kernel void seqk_f32_softmax_rows(__global const float *x, long x_off,
                           __global float *y, long y_off, long n,
                           __local float *scratch)
{
    const size_t lid = get_local_id(0);
    const size_t lsz = get_local_size(0);
    const long row = (long)get_group_id(0);
    __global const float *xr = x + x_off + row * n;
    __global float *yr = y + y_off + row * n;

#if SOFTMAX_VW == 4
    const long nv = n / 4; /* whole vectors; the tail starts at 4 * nv */
#else
    const long nv = 0;
#endif

    float m = -INFINITY;
#if SOFTMAX_VW == 4
    for (long j = (long)lid; j < nv; j += (long)lsz) {
        const float4 v = vload4((size_t)j, xr);
        m = fmax(m, fmax(fmax(v.s0, v.s1), fmax(v.s2, v.s3)));
    }
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
#if SOFTMAX_VW == 4
    for (long j = (long)lid; j < nv; j += (long)lsz) {
        const float4 e = exp(vload4((size_t)j, xr) - mx);
        sum += (e.s0 + e.s1) + (e.s2 + e.s3);
    }
#endif
    for (long i = SOFTMAX_VW * nv + (long)lid; i < n; i += (long)lsz)
        sum += exp(xr[i] - mx);
    scratch[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t s = lsz / 2; s > 0; s /= 2) {
        if (lid < s)
            scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float inv = 1.0f / scratch[0];

#if SOFTMAX_VW == 4
    for (long j = (long)lid; j < nv; j += (long)lsz)
        vstore4(exp(vload4((size_t)j, xr) - mx) * inv, (size_t)j, yr);
#endif
    for (long i = SOFTMAX_VW * nv + (long)lid; i < n; i += (long)lsz)
        yr[i] = exp(xr[i] - mx) * inv;
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
