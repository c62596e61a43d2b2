/*
 * matmul.c — reference batched MatMul after numpy broadcasting.
 *
 *   batch index (i0..i{nb-1}) walks batch_dims row-major;
 *   A_b = A + sum_j i_j * a_bstride[j]   [M,K] row-major
 *   B_b = B + sum_j i_j * b_bstride[j]   [K,N] row-major
 *   Y_b = Y + flat_batch * M*N           [M,N] row-major
 */
#include "ref/ref.h"

seqk_status seqk__ref_matmul(const seqk_matmul_problem *p)
{
    int64_t batches = 1;
    for (int j = 0; j < p->nbatch; j++)
        batches *= p->batch_dims[j];

    for (int64_t flat = 0; flat < batches; flat++) {
        /* Unravel flat into per-dim indices to find A_b and B_b. */
        int64_t rem = flat, a_off = 0, b_off = 0;
        for (int j = p->nbatch - 1; j >= 0; j--) {
            int64_t i = rem % p->batch_dims[j];
            rem /= p->batch_dims[j];
            a_off += i * p->a_bstride[j];
            b_off += i * p->b_bstride[j];
        }
        const float *A = p->A + a_off;
        const float *B = p->B + b_off;
        float *Y = p->Y + flat * p->M * p->N;
        for (int64_t m = 0; m < p->M; m++)
            for (int64_t n = 0; n < p->N; n++) {
                double acc = 0.0;
                for (int64_t k = 0; k < p->K; k++)
                    acc += (double)A[m * p->K + k] * (double)B[k * p->N + n];
                Y[m * p->N + n] = (float)acc;
            }
    }
    return SEQK_OK;
}
