/* placeholder: the avx2 gemm kernels land here */
typedef int seqk_placeholder_;
