/*
 * attention.c — reference kernel for ONNX Attention-23 (after the front end
 * in src/core/op_attention.c has resolved layouts into strides).
 *
 * For every (batch b, query head h, query row i) the kernel builds one row
 * of scores over the Skv keys, applies softcap, the mask and the causal
 * rule, takes a max-subtracted softmax and mixes the value rows:
 *
 *        q row i of head h          kv head g = h / (Hq/Hkv)
 *        [Dh]                       K [Skv,Dh]          V [Skv,Dv]
 *          \                          |                    |
 *           '--- s[j] = scale * q.k_j (j < Skv) ----.      |
 *                softcap, + mask, causal -> -inf    |      |
 *                w = softmax(s)  [Skv]  ------------'--> y = sum_j w[j] v_j
 *                                                          [Dv]
 *
 * Excluded keys carry -inf; a row with no key left gives y = 0 (what
 * PyTorch's "safe softmax" does; ONNX's reference would give NaN).
 * Scratch: one row of Skv doubles.  Everything accumulates in double.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "ref/ref.h"

/* Whether key j may be seen by query i under the causal rule. */
static int causal_allows(const seqk_attention_problem *p, int64_t i,
                         int64_t j)
{
    if (!p->is_causal)
        return 1;
    if (p->causal_align == SEQK_CAUSAL_BOTTOM_RIGHT)
        return j <= i + (p->Skv - p->Sq);
    return j <= i;
}

/* Scores of query row i (head h of batch b) into s[0..Skv). */
static void score_row(const seqk_attention_problem *p, int64_t b, int64_t h,
                      int64_t i, double *s)
{
    const int64_t g = h / (p->Hq / p->Hkv);
    const float *q = p->q + b * p->q_sb + h * p->q_sh + i * p->q_ss;

    for (int64_t j = 0; j < p->Skv; j++) {
        const float *k = p->k + b * p->k_sb + g * p->k_sh + j * p->k_ss;
        double dot = 0.0;
        for (int64_t d = 0; d < p->Dh; d++)
            dot += (double)q[d] * (double)k[d];
        double x = (double)p->scale * dot;
        /* softcap comes before the mask so that -inf stays -inf */
        if (p->softcap > 0.0f)
            x = (double)p->softcap * tanh(x / (double)p->softcap);

        if (j >= p->mask_kv_len && p->mask_kind != SEQK_MASK_NONE) {
            x = -INFINITY; /* ONNX pads a short mask with "masked" */
        } else if (p->mask_kind == SEQK_MASK_BOOL) {
            const uint8_t *m = p->mask;
            if (!m[b * p->m_sb + h * p->m_sh + i * p->m_sq + j * p->m_sk])
                x = -INFINITY;
        } else if (p->mask_kind == SEQK_MASK_ADD) {
            const float *m = p->mask;
            x += (double)m[b * p->m_sb + h * p->m_sh + i * p->m_sq +
                           j * p->m_sk];
        }
        if (!causal_allows(p, i, j))
            x = -INFINITY;
        s[j] = x;
    }
}

/* Softmax of s (in place) then y = sum_j s[j] v_j; zeros if no key. */
static void mix_row(const seqk_attention_problem *p, int64_t b, int64_t h,
                    int64_t i, double *s)
{
    const int64_t g = h / (p->Hq / p->Hkv);
    float *y = p->y + b * p->y_sb + h * p->y_sh + i * p->y_ss;

    double mx = -INFINITY;
    for (int64_t j = 0; j < p->Skv; j++)
        if (s[j] > mx)
            mx = s[j];
    if (mx == -INFINITY) {
        for (int64_t d = 0; d < p->Dv; d++)
            y[d] = 0.0f;
        return;
    }

    double sum = 0.0;
    for (int64_t j = 0; j < p->Skv; j++) {
        s[j] = exp(s[j] - mx); /* exp(-inf) = 0 for excluded keys */
        sum += s[j];
    }
    for (int64_t d = 0; d < p->Dv; d++) {
        double acc = 0.0;
        for (int64_t j = 0; j < p->Skv; j++) {
            const float *v = p->v + b * p->v_sb + g * p->v_sh + j * p->v_ss;
            acc += s[j] * (double)v[d];
        }
        y[d] = (float)(acc / sum);
    }
}

seqk_status seqk__ref_attention(const seqk_attention_problem *p)
{
    if ((uint64_t)p->Skv > SIZE_MAX / sizeof(double) - 1)
        return SEQK_ERR_OUT_OF_MEMORY;
    double *s = malloc(((size_t)p->Skv + 1) * sizeof *s);
    if (!s)
        return SEQK_ERR_OUT_OF_MEMORY;

    for (int64_t b = 0; b < p->B; b++)
        for (int64_t h = 0; h < p->Hq; h++)
            for (int64_t i = 0; i < p->Sq; i++) {
                score_row(p, b, h, i, s);
                mix_row(p, b, h, i, s);
            }

    free(s);
    return SEQK_OK;
}
