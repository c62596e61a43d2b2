/* placeholder: the driver lands with its kernels */
#include <stdio.h>
#include "cpu_simd.h"
int seqk_cpu_rnn_supports(const seqk_cpu_isa *isa, const seqk_rnn_layer_problem *p, char *why, size_t why_len)
{ (void)isa; (void)p; snprintf(why, why_len, "RNN driver not implemented"); return 0; }
seqk_status seqk_cpu_rnn_layer(seqk_context *ctx, const seqk_cpu_isa *isa, const seqk_rnn_layer_problem *p)
{ (void)ctx; (void)isa; (void)p; return SEQK_ERR_UNSUPPORTED; }
