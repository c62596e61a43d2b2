/*
 * op_seq_attention.c — front end of seqk_seq_attention, the classic
 * encoder-decoder attention (one decoder query per batch row against the
 * encoder states), and the score-name helpers.
 *
 *   query [B,Dq]   keys [B,S,Dk]   values [B,S,Dv] (NULL: keys)
 *   key_lens [B] i32 (NULL: all S)  ->  context [B,Dv], weights [B,S]
 *
 * Each score kind takes exactly the parameter tensors it uses:
 *   dot, scaled_dot, cosine  none (Dq == Dk)
 *   general                  W [Dq,Dk]
 *   additive                 W1 [A,Dq], W2 [A,Dk], v [A]   (A from v)
 *   location                 Wloc [S,Dq]
 * Any other one given is an error rather than silently ignored, so a
 * mistaken score kind is caught.  Cosine scores are defined as 0 when the
 * query or the key has norm 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"
#include "core/plans.h"

static const char *const score_names[] = {
    "dot", "scaled_dot", "general", "additive", "cosine", "location",
};
#define NUM_SCORES ((int)(sizeof score_names / sizeof score_names[0]))

int seqk_score_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < NUM_SCORES; i++)
        if (strcasecmp(name, score_names[i]) == 0)
            return i;
    return -1;
}

const char *seqk_score_name(seqk_score_kind kind)
{
    if ((int)kind < 0 || (int)kind >= NUM_SCORES)
        return "unknown";
    return score_names[kind];
}

void seqk_seq_attention_params_init(seqk_seq_attention_params *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->score = SEQK_SCORE_DOT;
}

/* "<what> has shape [..]; expected [..] (<why>)" unless t has dims. */
static seqk_status expect_dims(seqk_context *ctx, const seqk_tensor *t,
                               const char *what, int ndim,
                               const int64_t *dims, const char *why)
{
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->dims[i] == dims[i];
    if (same)
        return SEQK_OK;
    char got[96], want[96];
    return seqk__error(ctx, SEQK_ERR_SHAPE,
                       "%s has shape %s; expected %s (%s)",
                       what, seqk__shape_str(t, got, sizeof got),
                       seqk__dims_str(ndim, dims, want, sizeof want), why);
}

/* A score parameter tensor the kind uses: f32 of shape dims (layout names
 * its dims for the message). */
static seqk_status check_param(seqk_context *ctx, seqk_score_kind score,
                               const seqk_tensor *t, const char *what,
                               int ndim, const int64_t *dims,
                               const char *layout)
{
    char name[64], want[96], why[96];
    seqk_status st;
    if (!t)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "SeqAttention: score=%s needs %s %s = %s but it is "
                           "NULL", seqk_score_name(score), what, layout,
                           seqk__dims_str(ndim, dims, want, sizeof want));
    snprintf(name, sizeof name, "SeqAttention input %s", what);
    snprintf(why, sizeof why, "%s for score=%s", layout,
             seqk_score_name(score));
    if ((st = seqk__check_tensor(ctx, t, name, SEQK_F32, -1)))
        return st;
    return expect_dims(ctx, t, name, ndim, dims, why);
}

/* Parameter tensors the score kind does not use must be NULL: a given
 * one most likely means the wrong kind was asked for. */
static seqk_status check_unused(seqk_context *ctx, seqk_score_kind sk,
                                const seqk_seq_attention_inputs *in)
{
    const struct { const seqk_tensor *t; const char *name; int used; } p[] = {
        {in->W, "W", sk == SEQK_SCORE_GENERAL},
        {in->W1, "W1", sk == SEQK_SCORE_ADDITIVE},
        {in->W2, "W2", sk == SEQK_SCORE_ADDITIVE},
        {in->v, "v", sk == SEQK_SCORE_ADDITIVE},
        {in->Wloc, "Wloc", sk == SEQK_SCORE_LOCATION},
    };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        if (p[i].t && !p[i].used)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "SeqAttention: %s is given but score=%s does "
                               "not use it; pass NULL", p[i].name,
                               seqk_score_name(sk));
    return SEQK_OK;
}

static int overlaps_input(const seqk_seq_attention_inputs *in,
                          const seqk_tensor *t)
{
    const seqk_tensor *ins[] = {in->query, in->keys, in->values, in->key_lens,
                                in->W, in->W1, in->W2, in->v, in->Wloc};
    for (size_t i = 0; i < sizeof ins / sizeof ins[0]; i++)
        if (seqk__tensors_overlap(t, ins[i]))
            return 1;
    return 0;
}

/* key_lens: i32 [B], every value 0..S (read on the host). */
static seqk_status check_key_lens(seqk_context *ctx, const seqk_tensor *t,
                                  int64_t B, int64_t S)
{
    const int64_t dims[1] = {B};
    seqk_status st;
    if ((st = seqk__check_tensor(ctx, t, "SeqAttention input key_lens",
                                 SEQK_I32, -1)) ||
        (st = expect_dims(ctx, t, "SeqAttention input key_lens", 1, dims,
                          "one length per batch row of query")))
        return st;
    void *tmp = NULL;
    const int32_t *len = seqk__tensor_host(t, &tmp);
    if (!len)
        return seqk__error(ctx, SEQK_ERR_DEVICE,
                           "SeqAttention: cannot read key_lens: %s",
                           seqk_last_error(ctx));
    for (int64_t b = 0; b < B; b++)
        if (len[b] < 0 || len[b] > S) {
            st = seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                             "SeqAttention: key_lens[%lld] is %d but keys "
                             "have S=%lld positions (each length must be "
                             "0..%lld)", (long long)b, (int)len[b],
                             (long long)S, (long long)S);
            free(tmp);
            return st;
        }
    free(tmp);
    return SEQK_OK;
}

seqk_status seqk__seq_attention_check(seqk_context *ctx,
                                      const seqk_seq_attention_params *params,
                                      const seqk_seq_attention_inputs *in,
                                      const seqk_tensor *context,
                                      const seqk_tensor *weights,
                                      seqk_seq_attention_problem *out)
{
    seqk_seq_attention_params prm;
    seqk_seq_attention_problem p;
    char s1[96], s2[96];
    seqk_status st;

    seqk_seq_attention_params_init(&prm);
    if (params) {
        st = seqk__check_struct(ctx, params, params->struct_size, sizeof prm,
                                "seqk_seq_attention: params");
        if (st)
            return st;
        prm = *params;
    }
    const seqk_score_kind sk = prm.score;
    if ((int)sk < 0 || (int)sk >= NUM_SCORES)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "SeqAttention: score is %d; use a seqk_score_kind "
                           "(SEQK_SCORE_DOT ... SEQK_SCORE_LOCATION) or "
                           "seqk_score_from_name()", (int)sk);
    if (!in)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_seq_attention: in (the inputs) is NULL");

    /* query [B,Dq], keys [B,S,Dk], values [B,S,Dv] */
    if ((st = seqk__check_tensor(ctx, in->query, "SeqAttention input query",
                                 SEQK_F32, 2)) ||
        (st = seqk__check_tensor(ctx, in->keys, "SeqAttention input keys",
                                 SEQK_F32, 3)))
        return st;
    const int64_t B = in->query->dims[0], Dq = in->query->dims[1];
    const int64_t S = in->keys->dims[1], Dk = in->keys->dims[2];
    if (in->keys->dims[0] != B)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "SeqAttention input keys has shape %s but query %s "
                           "has batch %lld",
                           seqk__shape_str(in->keys, s1, sizeof s1),
                           seqk__shape_str(in->query, s2, sizeof s2),
                           (long long)B);
    const seqk_tensor *values = in->values ? in->values : in->keys;
    if (in->values &&
        (st = seqk__check_tensor(ctx, in->values, "SeqAttention input values",
                                 SEQK_F32, 3)))
        return st;
    const int64_t Dv = values->dims[2];
    if (values->dims[0] != B || values->dims[1] != S)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "SeqAttention input values has shape %s but keys "
                           "%s need [%lld,%lld,Dv]",
                           seqk__shape_str(values, s1, sizeof s1),
                           seqk__shape_str(in->keys, s2, sizeof s2),
                           (long long)B, (long long)S);
    if (in->key_lens && (st = check_key_lens(ctx, in->key_lens, B, S)))
        return st;

    /* the score kind's parameters */
    if ((st = check_unused(ctx, sk, in)))
        return st;
    if ((sk == SEQK_SCORE_DOT || sk == SEQK_SCORE_SCALED_DOT ||
         sk == SEQK_SCORE_COSINE) && Dq != Dk)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "SeqAttention: score=%s needs query and keys of "
                           "the same size, but query is %s and keys are %s "
                           "(use score=general when they differ)",
                           seqk_score_name(sk),
                           seqk__shape_str(in->query, s1, sizeof s1),
                           seqk__shape_str(in->keys, s2, sizeof s2));
    int64_t A = 0;
    if (sk == SEQK_SCORE_GENERAL) {
        const int64_t dW[2] = {Dq, Dk};
        if ((st = check_param(ctx, sk, in->W, "W", 2, dW, "[Dq,Dk]")))
            return st;
    } else if (sk == SEQK_SCORE_ADDITIVE) {
        /* A comes from v, so v is checked first */
        if (!in->v)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "SeqAttention: score=additive needs v [A] but "
                               "it is NULL");
        if ((st = seqk__check_tensor(ctx, in->v, "SeqAttention input v",
                                     SEQK_F32, 1)))
            return st;
        A = in->v->dims[0];
        const int64_t dW1[2] = {A, Dq}, dW2[2] = {A, Dk};
        if ((st = check_param(ctx, sk, in->W1, "W1", 2, dW1, "[A,Dq]")) ||
            (st = check_param(ctx, sk, in->W2, "W2", 2, dW2, "[A,Dk]")))
            return st;
    } else if (sk == SEQK_SCORE_LOCATION) {
        const int64_t dWl[2] = {S, Dq};
        if ((st = check_param(ctx, sk, in->Wloc, "Wloc", 2, dWl,
                              "[S,Dq], S from keys")))
            return st;
    }

    /* outputs: context [B,Dv], weights [B,S] or NULL */
    const int64_t dc[2] = {B, Dv}, dw[2] = {B, S};
    if ((st = seqk__check_tensor(ctx, context, "SeqAttention output context",
                                 SEQK_F32, -1)) ||
        (st = expect_dims(ctx, context, "SeqAttention output context", 2, dc,
                          "[B,Dv] from query and values")))
        return st;
    if (weights &&
        ((st = seqk__check_tensor(ctx, weights, "SeqAttention output weights",
                                  SEQK_F32, -1)) ||
         (st = expect_dims(ctx, weights, "SeqAttention output weights", 2, dw,
                           "[B,S] from keys"))))
        return st;
    if (overlaps_input(in, context) || overlaps_input(in, weights) ||
        seqk__tensors_overlap(context, weights))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "SeqAttention outputs context and weights must be "
                           "distinct from each other and from the inputs");

    memset(&p, 0, sizeof p);
    p.score = sk;
    p.B = B; p.S = S; p.Dq = Dq; p.Dk = Dk; p.Dv = Dv; p.A = A;
    p.query = in->query->data;
    p.keys = in->keys->data;
    p.values = values->data;
    p.key_lens = in->key_lens ? in->key_lens->data : NULL;
    p.W = in->W ? in->W->data : NULL;
    p.W1 = in->W1 ? in->W1->data : NULL;
    p.W2 = in->W2 ? in->W2->data : NULL;
    p.v = in->v ? in->v->data : NULL;
    p.Wloc = in->Wloc ? in->Wloc->data : NULL;
    p.context = context->data;
    p.weights = weights ? weights->data : NULL;
    *out = p;
    return SEQK_OK;
}

seqk_status seqk_seq_attention(seqk_context *ctx,
                               const seqk_seq_attention_params *params,
                               const seqk_seq_attention_inputs *in,
                               seqk_tensor *context, seqk_tensor *weights)
{
    seqk_seq_attention_problem p;
    seqk_status st;
    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_seq_attention: ctx is NULL");
    if ((st = seqk__seq_attention_check(ctx, params, in, context, weights,
                                        &p)))
        return st;
    return seqk__dispatch(ctx, SEQK_OP_SEQ_ATTENTION, &p);
}
