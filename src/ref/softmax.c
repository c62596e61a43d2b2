/*
 * softmax.c — reference softmax over the middle axis of [outer, n, inner]:
 *   Y[o,i,r] = exp(X[o,i,r] - max_i X[o,:,r]) / sum_i exp(...)
 * Max-subtracted so large inputs do not overflow; sums in double.
 * LogSoftmax (p->log): Y = X - max - log(sum).
 */
#include <math.h>

#include "ref/ref.h"

seqk_status seqk__ref_softmax(const seqk_softmax_problem *p)
{
    for (int64_t o = 0; o < p->outer; o++) {
        for (int64_t r = 0; r < p->inner; r++) {
            const float *x = p->X + o * p->n * p->inner + r;
            float *y = p->Y + o * p->n * p->inner + r;
            float mx = -INFINITY;
            for (int64_t i = 0; i < p->n; i++)
                if (x[i * p->inner] > mx)
                    mx = x[i * p->inner];
            double sum = 0.0;
            for (int64_t i = 0; i < p->n; i++)
                sum += exp((double)x[i * p->inner] - mx);
            const double lse = log(sum);
            for (int64_t i = 0; i < p->n; i++)
                y[i * p->inner] =
                    p->log ? (float)((double)x[i * p->inner] - mx - lse)
                           : (float)(exp((double)x[i * p->inner] - mx) /
                                     sum);
        }
    }
    return SEQK_OK;
}
