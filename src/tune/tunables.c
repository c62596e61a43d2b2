/*
 * tunables.c — the list of every tunable the library declares; each
 * declaration lives beside the code that uses it.
 */
#include "seqk_config.h"
#include "tune.h"

/* Declared beside their code. */
#if SEQK_HAVE_OPENCL
/* auto: the device per op and shape (src/opencl/cl_offload.c) */
extern const seqk_tunable seqk_tunable_auto_gemm, seqk_tunable_auto_matmul,
    seqk_tunable_auto_softmax, seqk_tunable_auto_rnn_layer,
    seqk_tunable_auto_attention;
/* OpenCL GEMM (src/opencl/cl_gemm.c) */
extern const seqk_tunable seqk_cl_gemm_tiled_tunable, seqk_cl_gemm_direct_tunable;
extern const seqk_tunable seqk_cl_gemm_rows_tunable, seqk_cl_gemm_path_tunable;
/* OpenCL RNN (src/opencl/cl_rnn.c) */
extern const seqk_tunable seqk_cl_rnn_gates_tunable, seqk_cl_rnn_step_tunable;
/* OpenCL attention (src/opencl/cl_attention.c, cl_seq_attention.c) */
extern const seqk_tunable seqk_cl_attention_tunable;
extern const seqk_tunable seqk_cl_seq_attention_tunable;
/* OpenCL softmax (src/opencl/cl_softmax.c) */
extern const seqk_tunable seqk_cl_softmax_tunable;
#endif
/* CPU (src/cpu_simd/) */
extern const seqk_tunable seqk_cpu_gemm_avx512_tunable;
extern const seqk_tunable seqk_cpu_gemm_avx2_tunable;
extern const seqk_tunable seqk_cpu_gemm_neon_tunable;
extern const seqk_tunable seqk_cpu_rnn_step_tunable;
extern const seqk_tunable seqk_cpu_attention_tunable;

const seqk_tunable *const seqk_tunables[] = {
#if SEQK_HAVE_OPENCL
    &seqk_tunable_auto_gemm,
    &seqk_tunable_auto_matmul,
    &seqk_tunable_auto_softmax,
    &seqk_tunable_auto_rnn_layer,
    &seqk_tunable_auto_attention,
    /* OpenCL GEMM */
    &seqk_cl_gemm_tiled_tunable,
    &seqk_cl_gemm_direct_tunable,
    &seqk_cl_gemm_rows_tunable,
    &seqk_cl_gemm_path_tunable,
    /* OpenCL RNN */
    &seqk_cl_rnn_gates_tunable,
    &seqk_cl_rnn_step_tunable,
    /* OpenCL attention */
    &seqk_cl_attention_tunable,
    &seqk_cl_seq_attention_tunable,
    /* OpenCL softmax */
    &seqk_cl_softmax_tunable,
#endif
    /* CPU */
    &seqk_cpu_gemm_avx512_tunable,
    &seqk_cpu_gemm_avx2_tunable,
    &seqk_cpu_gemm_neon_tunable,
    &seqk_cpu_rnn_step_tunable,
    &seqk_cpu_attention_tunable,
    NULL
};
