/* placeholder: the driver lands with its kernels */
#include <stdio.h>
#include "cpu_simd.h"
int seqk_cpu_attn_supports(const seqk_cpu_isa *isa, seqk_op op, const void *problem, char *why, size_t why_len)
{ (void)isa; (void)op; (void)problem; snprintf(why, why_len, "attention driver not implemented"); return 0; }
seqk_status seqk_cpu_softmax(seqk_context *ctx, const seqk_cpu_isa *isa, const seqk_softmax_problem *p)
{ (void)ctx; (void)isa; (void)p; return SEQK_ERR_UNSUPPORTED; }
seqk_status seqk_cpu_attention(seqk_context *ctx, const seqk_cpu_isa *isa, const seqk_attention_problem *p)
{ (void)ctx; (void)isa; (void)p; return SEQK_ERR_UNSUPPORTED; }
seqk_status seqk_cpu_seq_attention(seqk_context *ctx, const seqk_cpu_isa *isa, const seqk_seq_attention_problem *p)
{ (void)ctx; (void)isa; (void)p; return SEQK_ERR_UNSUPPORTED; }
