/*
 * seq_attention.c — reference kernel for encoder-decoder attention
 * (src/core/op_seq_attention.c validates and fills the problem).
 *
 * Per batch row b, with L = key_lens[b] (or S):
 *
 *   query [Dq]      keys [S,Dk]       values [S,Dv]
 *       \              |                   |
 *        '-- score[s] (s < L) --.          |
 *            w = softmax(score) '-- context = sum_{s<L} w[s] values[s]
 *            w[s] = 0 for s >= L                    [Dv]
 *
 *   dot         q . k_s
 *   scaled_dot  q . k_s / sqrt(Dk)
 *   general     q^T W k_s          = u . k_s with u = W^T q   (W [Dq,Dk])
 *   additive    v^T tanh(W1 q + W2 k_s)   (W1 q computed once per b;
 *               W2 k_s read from wk [B*S,A] when a keys plan gives it)
 *   cosine      q . k_s / (|q| |k_s|), 0 when either norm is 0
 *   location    (Wloc q)[s]               (Wloc [S,Dq])
 *
 * L = 0 gives all-zero weights and context.  Scratch: S scores plus
 * max(Dk, A) doubles for the per-row projection.  Double accumulation.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "ref/ref.h"

static double dot_f(const float *a, const float *b, int64_t n)
{
    double acc = 0.0;
    for (int64_t i = 0; i < n; i++)
        acc += (double)a[i] * (double)b[i];
    return acc;
}

/* Per-row work that does not depend on s: u = W^T q (general) or
 * u = W1 q (additive). */
static void project_query(const seqk_seq_attention_problem *p,
                          const float *q, double *u)
{
    if (p->score == SEQK_SCORE_GENERAL) {
        for (int64_t e = 0; e < p->Dk; e++) {
            double acc = 0.0;
            for (int64_t d = 0; d < p->Dq; d++)
                acc += (double)q[d] * (double)p->W[d * p->Dk + e];
            u[e] = acc;
        }
    } else if (p->score == SEQK_SCORE_ADDITIVE) {
        for (int64_t a = 0; a < p->A; a++)
            u[a] = dot_f(p->W1 + a * p->Dq, q, p->Dq);
    }
}

static double score_one(const seqk_seq_attention_problem *p, const float *q,
                        const double *u, int64_t s, const float *k,
                        const float *wk)
{
    switch (p->score) {
    case SEQK_SCORE_DOT:
        return dot_f(q, k, p->Dk);
    case SEQK_SCORE_SCALED_DOT:
        return dot_f(q, k, p->Dk) / sqrt((double)p->Dk);
    case SEQK_SCORE_GENERAL: {
        double acc = 0.0;
        for (int64_t e = 0; e < p->Dk; e++)
            acc += u[e] * (double)k[e];
        return acc;
    }
    case SEQK_SCORE_ADDITIVE: {
        double acc = 0.0;
        for (int64_t a = 0; a < p->A; a++) {
            double t = u[a] + (wk ? (double)wk[a]
                                  : dot_f(p->W2 + a * p->Dk, k, p->Dk));
            acc += (double)p->v[a] * tanh(t);
        }
        return acc;
    }
    case SEQK_SCORE_COSINE: {
        double qq = dot_f(q, q, p->Dq), kk = dot_f(k, k, p->Dk);
        if (qq == 0.0 || kk == 0.0)
            return 0.0;
        return dot_f(q, k, p->Dk) / (sqrt(qq) * sqrt(kk));
    }
    case SEQK_SCORE_LOCATION:
        return dot_f(p->Wloc + s * p->Dq, q, p->Dq);
    }
    return 0.0;
}

seqk_status seqk__ref_seq_attention(const seqk_seq_attention_problem *p)
{
    int64_t nu = p->Dk > p->A ? p->Dk : p->A;
    if ((uint64_t)p->S > SIZE_MAX / sizeof(double) / 2 - 1 ||
        (uint64_t)nu > SIZE_MAX / sizeof(double) / 2 - 1)
        return SEQK_ERR_OUT_OF_MEMORY;
    double *sc = malloc(((size_t)p->S + 1) * sizeof *sc);
    double *u = malloc(((size_t)nu + 1) * sizeof *u);
    seqk_status st = SEQK_ERR_OUT_OF_MEMORY;
    if (!sc || !u)
        goto cleanup;

    for (int64_t b = 0; b < p->B; b++) {
        const float *q = p->query + b * p->Dq;
        const float *keys = p->keys + b * p->S * p->Dk;
        const float *vals = p->values + b * p->S * p->Dv;
        float *ctx = p->context + b * p->Dv;
        float *w = p->weights ? p->weights + b * p->S : NULL;
        int64_t L = p->key_lens ? p->key_lens[b] : p->S;

        project_query(p, q, u);
        double mx = -INFINITY;
        for (int64_t s = 0; s < L; s++) {
            sc[s] = score_one(p, q, u, s, keys + s * p->Dk,
                              p->wk ? p->wk + (b * p->S + s) * p->A : NULL);
            if (sc[s] > mx)
                mx = sc[s];
        }
        double sum = 0.0;
        for (int64_t s = 0; s < L; s++) {
            sc[s] = exp(sc[s] - mx);
            sum += sc[s];
        }
        for (int64_t s = 0; s < L; s++)
            sc[s] /= sum;

        for (int64_t d = 0; d < p->Dv; d++) {
            double acc = 0.0;
            for (int64_t s = 0; s < L; s++)
                acc += sc[s] * (double)vals[s * p->Dv + d];
            ctx[d] = (float)acc; /* 0 when L == 0 */
        }
        if (w)
            for (int64_t s = 0; s < p->S; s++)
                w[s] = s < L ? (float)sc[s] : 0.0f;
    }
    st = SEQK_OK;

cleanup:
    free(sc);
    free(u);
    return st;
}
