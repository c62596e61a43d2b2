/* placeholder: the avx2 attention kernels land here */
typedef int seqk_placeholder_;
