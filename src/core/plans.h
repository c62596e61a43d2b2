/*
 * plans.h — what the decode-step plans (attn_keys.c, linear.c) share with
 * the per-call front ends.
 */
#ifndef SEQK_CORE_PLANS_H
#define SEQK_CORE_PLANS_H

#include "core/internal.h"

/* Validates a seqk_seq_attention call exactly as seqk_seq_attention does
 * (ctx non-NULL) and fills *out for dispatch; the message names what was
 * wrong.  context and weights (may be NULL) are only checked. */
seqk_status seqk__seq_attention_check(seqk_context *ctx,
                                      const seqk_seq_attention_params *params,
                                      const seqk_seq_attention_inputs *in,
                                      const seqk_tensor *context,
                                      const seqk_tensor *weights,
                                      seqk_seq_attention_problem *out);

#endif
