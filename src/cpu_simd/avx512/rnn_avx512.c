/* placeholder: the avx512 rnn kernels land here */
typedef int seqk_placeholder_;
