/* placeholder: the avx512 attention kernels land here */
typedef int seqk_placeholder_;
