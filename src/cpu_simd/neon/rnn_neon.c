/* placeholder: the neon rnn kernels land here */
typedef int seqk_placeholder_;
