/* placeholder: the neon gemm kernels land here */
typedef int seqk_placeholder_;
