/*
 * softmax.cl — ONNX Softmax over the middle axis of X viewed as
 * [outer, n, inner] (dense, row-major):
 *
 *   inner == 1:  softmax_rows     one work-group per row o
 *       X[o*n + i], i < n; work-items stride over i, then a local-memory
 *       tree reduction for the max and again for the sum.
 *   inner  > 1:  softmax_columns  one work-item per (o, r) column
 *       X[o*n*inner + i*inner + r]; neighbouring work-items read
 *       neighbouring r, so loads coalesce.
 *
 * Buffers come with an element offset (no sub-buffers).  softmax_rows
 * needs a power-of-two work-group size and a __local scratch of that many
 * floats, both chosen by the host from the device limits; every work-item
 * reaches every barrier (the loops over i have no barriers inside).
 */

__kernel void softmax_rows(__global const float *x, long x_off,
                           __global float *y, long y_off, long n,
                           __local float *scratch)
{
    const size_t lid = get_local_id(0);
    const size_t lsz = get_local_size(0);
    const long row = (long)get_group_id(0);
    __global const float *xr = x + x_off + row * n;
    __global float *yr = y + y_off + row * n;

    float m = -INFINITY;
    for (long i = (long)lid; i < n; i += (long)lsz)
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
    for (long i = (long)lid; i < n; i += (long)lsz)
        sum += exp(xr[i] - mx);
    scratch[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t s = lsz / 2; s > 0; s /= 2) {
        if (lid < s)
            scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float inv = 1.0f / scratch[0];

    for (long i = (long)lid; i < n; i += (long)lsz)
        yr[i] = exp(xr[i] - mx) * inv;
}

__kernel void softmax_columns(__global const float *x, long x_off,
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
