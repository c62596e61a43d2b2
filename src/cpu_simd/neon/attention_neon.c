/* placeholder: the neon attention kernels land here */
typedef int seqk_placeholder_;
