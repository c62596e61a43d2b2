/*
 * gemm.c — reference GEMM: Y = alpha * op(A) op(B) + beta * C.
 *
 *   op(A) [M,K]: A[m*lda + k], or A[k*lda + m] when trans_a
 *   op(B) [K,N]: B[k*ldb + n], or B[n*ldb + k] when trans_b
 *   C     [M,N]: C[m*c_sm + n*c_sn], strides 0 where C broadcasts
 *   Y     [M,N]: Y[m*ldy + n]
 *
 * One dot product per output in double: slow and obviously right.
 */
#include "ref/ref.h"

seqk_status seqk__ref_gemm(const seqk_gemm_problem *p)
{
    for (int64_t m = 0; m < p->M; m++) {
        for (int64_t n = 0; n < p->N; n++) {
            double acc = 0.0;
            for (int64_t k = 0; k < p->K; k++) {
                float a = p->trans_a ? p->A[k * p->lda + m]
                                     : p->A[m * p->lda + k];
                float b = p->trans_b ? p->B[n * p->ldb + k]
                                     : p->B[k * p->ldb + n];
                acc += (double)a * (double)b;
            }
            double y = (double)p->alpha * acc;
            if (p->C)
                y += (double)p->beta * p->C[m * p->c_sm + n * p->c_sn];
            p->Y[m * p->ldy + n] = (float)y;
        }
    }
    return SEQK_OK;
}
