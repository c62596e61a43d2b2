/*
 * tmpl/layer_norm.c — one LayerNorm row (contract in ../elementwise.h),
 * written once against the vector API; included by tmpl/elementwise.c
 * (so COMPILED ONCE PER ISA, inside that ISA's library).
 *
 *   x[0 .. n)  ->  mean (lanes, then across), var = mean((x - mean)^2)
 *                  (two passes: no cancellation), inv = 1/sqrt(var + eps)
 *   y[i] = (x[i] - mean) * inv * scale[i] + bias[i]
 *
 * The partial last step of the sums runs in scalar code: a tail load's
 * zero lanes would add (0 - mean)^2 to the variance.
 */
static void SIMD_SUFFIX(seqk_f32_layer_norm_row)(int64_t n, float eps,
                                                 const float *x,
                                                 const float *scale,
                                                 const float *bias, float *y,
                                                 float *mean_out,
                                                 float *inv_out)
{
    simd_f32 acc = simd_zero();
    int64_t i = 0;
    for (; i + SIMD_V <= n; i += SIMD_V)
        acc = simd_add(acc, simd_loadu(x + i));
    float sum = simd_reduce_add(acc);
    for (; i < n; i++)
        sum += x[i];
    const float mean = sum / (float)n;
    const simd_f32 vm = simd_set1(mean);
    acc = simd_zero();
    for (i = 0; i + SIMD_V <= n; i += SIMD_V) {
        const simd_f32 d = simd_sub(simd_loadu(x + i), vm);
        acc = simd_fma(d, d, acc);
    }
    float sq = simd_reduce_add(acc);
    for (; i < n; i++)
        sq += (x[i] - mean) * (x[i] - mean);
    const float inv = (float)(1.0 / sqrt((double)(sq / (float)n) + eps));
    const simd_f32 vi = simd_set1(inv);
    for (i = 0; i + SIMD_V <= n; i += SIMD_V) {
        simd_f32 v = simd_mul(simd_mul(simd_sub(simd_loadu(x + i), vm), vi),
                              simd_loadu(scale + i));
        if (bias)
            v = simd_add(v, simd_loadu(bias + i));
        simd_storeu(y + i, v);
    }
    if (i < n) {
        const int64_t t = n - i;
        simd_f32 v = simd_mul(simd_mul(simd_sub(simd_load_tail(x + i, t), vm),
                                       vi),
                              simd_load_tail(scale + i, t));
        if (bias)
            v = simd_add(v, simd_load_tail(bias + i, t));
        simd_store_tail(y + i, v, t);
    }
    if (mean_out)
        *mean_out = mean;
    if (inv_out)
        *inv_out = inv;
}
