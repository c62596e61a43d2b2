/*
 * cl_gemm.h — GEMM and MatMul on OpenCL: the own kernels (kernels/gemm.cl)
 * and CLBlast's CLBlastSgemm on the same queue and buffers.
 *
 * Path per call: SEQK_OPENCL_GEMM=own|clblast|auto (unset: auto); see
 * cl_gemm.c for the rule auto follows until the tuner decides.
 */
#ifndef SEQK_OPENCL_CL_GEMM_H
#define SEQK_OPENCL_CL_GEMM_H

#include "opencl/cl_backend.h"

typedef enum seqk_cl_gemm_path {
    SEQK_CL_GEMM_AUTO = 0,
    SEQK_CL_GEMM_OWN,
    SEQK_CL_GEMM_CLBLAST
} seqk_cl_gemm_path;

/* The path SEQK_OPENCL_GEMM asks for (AUTO when unset or unknown). */
seqk_cl_gemm_path seqk__cl_gemm_path_from_env(void);

/* Y = alpha * op(A) op(B) + beta * C (problems.h) with pointers inside
 * device tensors.  path AUTO follows the documented rule; CLBLAST falls
 * back to OWN for what CLBlast cannot express (C broadcast or C with a
 * layout other than Y's, Y rows not dense when beta == 0) and when the
 * library was built without CLBlast.  Enqueued, not waited for. */
seqk_status seqk__cl_gemm_with(seqk_context *ctx, const seqk_gemm_problem *p,
                              seqk_cl_gemm_path path);
/* seqk__cl_gemm_with(ctx, p, seqk__cl_gemm_path_from_env()). */
seqk_status seqk__cl_gemm(seqk_context *ctx, const seqk_gemm_problem *p);
/* Batched MatMul: one GEMM per batch index (offsets per batch, broadcast
 * strides honoured), all enqueued back to back. */
seqk_status seqk__cl_matmul(seqk_context *ctx, const seqk_matmul_problem *p);

#endif /* SEQK_OPENCL_CL_GEMM_H */
