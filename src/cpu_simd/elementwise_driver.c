/*
 * elementwise_driver.c — the element-wise ops and ArgMax on the CPU
 * backends: walks the problem's rows and calls the ISA's row kernels
 * (elementwise.h).  No ISA flags here.
 *
 *   elementwise  Y's merged dims (problems.h): every run of the last
 *                dimension is one kernel call; the odometer over the
 *                leading dimensions moves each operand's offset by its
 *                strides (0 where it broadcasts)
 *   argmax       contiguous rows only (inner == 1, ArgMax over the last
 *                axis, the decoder's case); other axes go to ref
 *
 * One thread: these ops are memory-bound and small in a decoder step.
 */
#include <stdio.h>

#include "cpu_simd/cpu_simd.h"
#include "cpu_simd/elementwise.h"

seqk_status seqk__cpu_elementwise(seqk_context *ctx, const seqk_cpu_isa *isa,
                                  const seqk_elementwise_problem *p)
{
    (void)ctx;
    const seqk_ew_kernels *k = isa->ew;
    const int last = p->ndim - 1;
    const int64_t n = p->dims[last];
    const int64_t rows = p->numel / n;
    int64_t idx[SEQK_MAX_DIMS] = {0};
    int64_t ia = 0, ib = 0;
    const float *A = p->A, *B = p->B;
    for (int64_t r = 0; r < rows; r++) {
        float *y = (float *)p->Y + r * n;
        if (B)
            k->binary(p->op, n, A + ia, p->a_str[last], B + ib,
                      p->b_str[last], y);
        else
            k->unary(p->op, n, p->alpha, p->beta, A + ia, y);
        for (int d = last - 1; d >= 0; d--) {
            ia += p->a_str[d];
            ib += p->b_str[d];
            if (++idx[d] < p->dims[d])
                break;
            ia -= p->a_str[d] * p->dims[d];
            ib -= p->b_str[d] * p->dims[d];
            idx[d] = 0;
        }
    }
    return SEQK_OK;
}

seqk_status seqk__cpu_argmax(seqk_context *ctx, const seqk_cpu_isa *isa,
                             const seqk_argmax_problem *p)
{
    (void)ctx;
    for (int64_t o = 0; o < p->outer; o++)
        p->Y[o] = isa->ew->argmax(p->n, p->X + o * p->n, p->select_last);
    return SEQK_OK;
}

int seqk__cpu_ew_supports(const seqk_cpu_isa *isa, seqk_op op,
                          const void *problem, char *why, size_t why_len)
{
    (void)isa;
    if (!problem)
        return 1;
    if (op == SEQK_OP_ARGMAX) {
        const seqk_argmax_problem *p = problem;
        if (p->inner != 1) {
            snprintf(why, why_len, "ArgMax over an axis other than the "
                     "last (inner %lld): the kernel takes contiguous rows",
                     (long long)p->inner);
            return 0;
        }
        return 1;
    }
    const seqk_elementwise_problem *p = problem;
    const int last = p->ndim - 1;
    if (p->out_dtype != SEQK_F32) {
        snprintf(why, why_len, "comparisons and logic (bool out) run on "
                 "ref");
        return 0;
    }
    if ((p->a_str[last] != 0 && p->a_str[last] != 1) ||
        (p->B && p->b_str[last] != 0 && p->b_str[last] != 1)) {
        snprintf(why, why_len, "an innermost stride other than 0 or 1");
        return 0;
    }
    return 1;
}
