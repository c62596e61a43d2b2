/*
 * bf16.h — bfloat16 weight storage (seqk_linear_desc / seqk_rnn_desc
 * weight_dtype = SEQK_BF16).
 *
 * A bf16 value is the top 16 bits of an f32, so widening is exact (a
 * 16-bit shift) and a bf16 plan is defined as "round the weights to bf16
 * once, then compute in f32": the front end rounds W (and R) on the host
 * before any backend sees them, every backend computes the same f32
 * arithmetic on those values, and a backend may keep its packed copy as
 * 16-bit halves (seqk_gemm_problem.b_bf16, seqk_rnn_layer_problem
 * .weights_bf16) without changing a single result bit.
 */
#ifndef SEQK_CORE_BF16_H
#define SEQK_CORE_BF16_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* f32 -> bf16 bits, round to nearest, ties to even.  NaN stays NaN (the
 * quiet bit is set so a payload only in the low bits survives); inf stays
 * inf; finite values past the largest bf16 round to inf, as RNE says. */
static inline uint16_t seqk__bf16_from_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float seqk__bf16_to_f32(uint16_t h)
{
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* x[i] = bf16(x[i]) widened back: the values a bf16 plan computes with. */
static inline void seqk__bf16_round_array(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = seqk__bf16_to_f32(seqk__bf16_from_f32(x[i]));
}

/* The bf16 bits of values already rounded (exact: the low half is 0). */
static inline void seqk__bf16_truncate_array(const float *x, uint16_t *out,
                                             size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        out[i] = (uint16_t)(u >> 16);
    }
}

/* The bf16 layout of CPU weight panels (simd_load_bf16x2): rows of nv
 * vectors of V floats, values already bf16 (exact).  Vectors 2j and
 * 2j + 1 of a row become 2V words, lane i of the first at word 2i and of
 * the second at word 2i + 1, so one load and two bit operations widen
 * both; an odd last vector stays as V plain words (simd_load_bf16).  Each
 * row keeps its nv * V elements, so element offsets match the f32 panel.
 */
static inline void seqk__bf16_pack_rows(const float *src, uint16_t *dst,
                                        int64_t rows, int nv, int V)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *s = src + r * nv * V;
        uint16_t *d = dst + r * nv * V;
        int v = 0;
        for (; v + 2 <= nv; v += 2)
            for (int i = 0; i < V; i++) {
                seqk__bf16_truncate_array(s + v * V + i, d + v * V + 2 * i, 1);
                seqk__bf16_truncate_array(s + (v + 1) * V + i,
                                          d + v * V + 2 * i + 1, 1);
            }
        if (v < nv)
            seqk__bf16_truncate_array(s + v * V, d + v * V, (size_t)V);
    }
}

#endif /* SEQK_CORE_BF16_H */
