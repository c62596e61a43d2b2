/* placeholder: the avx512 gemm kernels land here */
typedef int seqk_placeholder_;
