/* placeholder: the avx2 rnn kernels land here */
typedef int seqk_placeholder_;
