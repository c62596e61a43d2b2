/*
 * attn_keys.c — keyed SeqAttention: the keys of one source sentence,
 * projected once, then one call per decoder step
 * (seqk_seq_attention_keys_create / _keyed / _destroy in seqk.h).
 *
 *   create:  keys [B,S,Dk] --copy--> keys'       values --copy--> values'
 *            additive  wk = keys W2^T  [B*S,A]   (GEMM, on the device)
 *            general   kw = keys W^T   [B*S,Dq]  (GEMM); steps then score
 *                      dot against kw: q^T W k = q . (W k)
 *            W1, v, Wloc copied; key_lens kept on the host
 *   step:    query [B,Dq] -> the SeqAttention problem of the template,
 *            dispatched like seqk_seq_attention, with wk and a cache slot
 *            where the CPU backends keep W1 / Wloc packed between steps.
 *
 * Per step, additive costs B*A*Dq (W1 q) + B*S*A tanh instead of also
 * B*S*A*Dk for W2 k: the projection of every key was the bulk of it.
 */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/plans.h"
#include "core/rnn_plan.h" /* seqk__rnn_cache_clear */

enum { KEEP_KEYS, KEEP_VALUES, KEEP_WK, KEEP_W1, KEEP_V, KEEP_WLOC, KEEP_N };

struct seqk_seq_attention_keys {
    seqk_context *ctx;
    seqk_seq_attention_problem tmpl; /* query, context, weights unset */
    int64_t Dq;                      /* of the user's query */
    seqk_tensor *keep[KEEP_N];       /* the plan's own copies (or NULL) */
    int32_t *lens;                   /* key_lens on the host, or NULL */
    seqk_backend_cache cache;        /* packed query-side weights */
};

/* *dst = a tensor of ctx with dims, holding n floats copied from src (a
 * tensor's data on ctx's device, or host memory). */
static seqk_status copy_floats(seqk_context *ctx, int ndim,
                               const int64_t *dims, const void *src,
                               seqk_tensor **dst)
{
    seqk_status st = seqk_tensor_create(ctx, ndim, dims, SEQK_F32, dst);
    if (st || (*dst)->bytes == 0)
        return st;
    if (ctx->dev)
        return ctx->dev->copy(ctx, (*dst)->data, src, (*dst)->bytes);
    memcpy((*dst)->data, src, (*dst)->bytes);
    return SEQK_OK;
}

/* y [M,N] = a [M,K] . w^T, w [N,K]: the key projections, on whatever
 * backend the context dispatches GEMMs to. */
static seqk_status project(seqk_context *ctx, int64_t M, int64_t N,
                           int64_t K, const float *a, const float *w,
                           seqk_tensor *y)
{
    if (M == 0 || N == 0)
        return SEQK_OK;
    seqk_gemm_problem g;
    memset(&g, 0, sizeof g);
    g.M = M; g.N = N; g.K = K;
    g.trans_b = 1;
    g.alpha = 1.0f;
    g.A = a; g.lda = K;
    g.B = w; g.ldb = K;
    g.Y = y->data; g.ldy = N;
    return seqk__dispatch(ctx, SEQK_OP_GEMM, &g);
}

seqk_status seqk_seq_attention_keys_destroy(seqk_seq_attention_keys *h)
{
    if (!h)
        return SEQK_OK;
    for (int i = 0; i < KEEP_N; i++)
        seqk_tensor_destroy(h->keep[i]);
    seqk__rnn_cache_clear(&h->cache);
    free(h->lens);
    seqk__context_release(h->ctx);
    free(h);
    return SEQK_OK;
}

/* Dq the score kind's parameters imply (Dk for the kinds without any, or
 * when the parameter is malformed: the check then says what is wrong). */
static int64_t query_size(seqk_score_kind sk,
                          const seqk_seq_attention_inputs *in, int64_t Dk)
{
    const seqk_tensor *t = sk == SEQK_SCORE_GENERAL    ? in->W
                         : sk == SEQK_SCORE_ADDITIVE   ? in->W1
                         : sk == SEQK_SCORE_LOCATION   ? in->Wloc
                                                       : NULL;
    if (!t || t->ndim != 2)
        return Dk;
    return sk == SEQK_SCORE_GENERAL ? t->dims[0] : t->dims[1];
}

seqk_status seqk_seq_attention_keys_create(
    seqk_context *ctx, const seqk_seq_attention_params *params,
    const seqk_seq_attention_inputs *in, seqk_seq_attention_keys **out)
{
    seqk_seq_attention_keys *h = NULL;
    seqk_seq_attention_problem p;
    seqk_status st;

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_seq_attention_keys_create: ctx is NULL");
    if (!out)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_seq_attention_keys_create: keys (the "
                           "output) is NULL");
    *out = NULL;
    if (!in)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_seq_attention_keys_create: in (the inputs) "
                           "is NULL");
    if (in->query)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_seq_attention_keys_create: in->query must "
                           "be NULL (the query comes with each step, "
                           "seqk_seq_attention_keyed)");
    if ((st = seqk__check_tensor(ctx, in->keys, "SeqAttention input keys",
                                 SEQK_F32, 3)))
        return st;
    const seqk_score_kind sk =
        params && params->struct_size >= sizeof *params ? params->score
                                                        : SEQK_SCORE_DOT;

    /* The per-call checks, with stand-ins for the query and the outputs
     * (no data: they never overlap anything). */
    const int64_t B = in->keys->dims[0], S = in->keys->dims[1];
    const int64_t Dk = in->keys->dims[2];
    const seqk_tensor *vals = in->values ? in->values : in->keys;
    seqk_tensor q, c, w;
    memset(&q, 0, sizeof q);
    q.ctx = ctx;
    q.dtype = SEQK_F32;
    q.ndim = 2;
    q.dims[0] = B;
    q.dims[1] = query_size(sk, in, Dk);
    c = q;
    c.dims[1] = vals->ndim == 3 ? vals->dims[2] : 0;
    w = q;
    w.dims[1] = S;
    seqk_seq_attention_inputs in2 = *in;
    in2.query = &q;
    if ((st = seqk__seq_attention_check(ctx, params, &in2, &c, &w, &p)))
        return st;

    h = calloc(1, sizeof *h);
    if (!h)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "seqk_seq_attention_keys_create: out of memory");
    h->ctx = ctx;
    seqk__context_retain(ctx);
    h->Dq = p.Dq;

    const int64_t dk[3] = {B, S, p.Dk}, dv[3] = {B, S, p.Dv};
    if ((st = copy_floats(ctx, 3, dk, p.keys, &h->keep[KEEP_KEYS])) ||
        (st = copy_floats(ctx, 3, dv, p.values, &h->keep[KEEP_VALUES])))
        goto cleanup;
    if (p.key_lens) {
        /* checked 0..S already; read on the host once */
        void *tmp = NULL;
        const int32_t *len = seqk__tensor_host(in->key_lens, &tmp);
        h->lens = malloc((size_t)(B > 0 ? B : 1) * sizeof *h->lens);
        if (!len || !h->lens) {
            free(tmp);
            st = seqk__error(ctx, len ? SEQK_ERR_OUT_OF_MEMORY
                                      : SEQK_ERR_DEVICE,
                             "seqk_seq_attention_keys_create: cannot keep "
                             "key_lens%s", len ? ": out of memory" : "");
            goto cleanup;
        }
        memcpy(h->lens, len, (size_t)B * sizeof *h->lens);
        free(tmp);
    }

    seqk_seq_attention_problem *t = &h->tmpl;
    *t = p;
    t->keys = h->keep[KEEP_KEYS]->data;
    t->values = h->keep[KEEP_VALUES]->data;
    t->key_lens = h->lens;
    t->W = t->W1 = t->W2 = t->v = t->Wloc = NULL;
    t->query = NULL;
    t->context = t->weights = NULL;
    int64_t bs;
    if (seqk__mul_i64(B, S, &bs)) {
        st = seqk__error(ctx, SEQK_ERR_OVERFLOW,
                         "seqk_seq_attention_keys_create: B*S overflows");
        goto cleanup;
    }

    if (sk == SEQK_SCORE_GENERAL) {
        /* kw = keys W^T [B,S,Dq]; steps score q . kw */
        const int64_t dkw[3] = {B, S, p.Dq};
        if ((st = seqk_tensor_create(ctx, 3, dkw, SEQK_F32,
                                     &h->keep[KEEP_WK])) ||
            (st = project(ctx, bs, p.Dq, p.Dk, p.keys, p.W,
                          h->keep[KEEP_WK])))
            goto cleanup;
        t->score = SEQK_SCORE_DOT;
        t->keys = h->keep[KEEP_WK]->data;
        t->Dk = p.Dq;
    } else if (sk == SEQK_SCORE_ADDITIVE) {
        const int64_t dwk[3] = {B, S, p.A}, dw1[2] = {p.A, p.Dq};
        const int64_t dvv[1] = {p.A};
        if ((st = seqk_tensor_create(ctx, 3, dwk, SEQK_F32,
                                     &h->keep[KEEP_WK])) ||
            (st = project(ctx, bs, p.A, p.Dk, p.keys, p.W2,
                          h->keep[KEEP_WK])) ||
            (st = copy_floats(ctx, 2, dw1, p.W1, &h->keep[KEEP_W1])) ||
            (st = copy_floats(ctx, 1, dvv, p.v, &h->keep[KEEP_V])))
            goto cleanup;
        t->wk = h->keep[KEEP_WK]->data;
        t->W1 = h->keep[KEEP_W1]->data;
        t->v = h->keep[KEEP_V]->data;
        t->cache = &h->cache;
    } else if (sk == SEQK_SCORE_LOCATION) {
        const int64_t dwl[2] = {S, p.Dq};
        if ((st = copy_floats(ctx, 2, dwl, p.Wloc, &h->keep[KEEP_WLOC])))
            goto cleanup;
        t->Wloc = h->keep[KEEP_WLOC]->data;
        t->cache = &h->cache;
    }
    /* the projections may still be running on a device: later steps are
     * queued behind them, and the user's tensors may go now */
    if (ctx->dev && (st = ctx->dev->synchronize(ctx)))
        goto cleanup;
    *out = h;
    h = NULL;
    st = SEQK_OK;

cleanup:
    seqk_seq_attention_keys_destroy(h);
    return st;
}

seqk_status seqk_seq_attention_keyed(seqk_context *ctx,
                                     seqk_seq_attention_keys *h,
                                     const seqk_tensor *query,
                                     seqk_tensor *context,
                                     seqk_tensor *weights)
{
    seqk_status st;
    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_seq_attention_keyed: ctx is NULL");
    if (!h)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_seq_attention_keyed: keys is NULL");
    if (h->ctx != ctx)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_seq_attention_keyed: keys was made on "
                           "another context");
    const seqk_seq_attention_problem *t = &h->tmpl;
    const int64_t dq[2] = {t->B, h->Dq}, dc[2] = {t->B, t->Dv};
    const int64_t dw[2] = {t->B, t->S};
    if ((st = seqk__check_tensor(ctx, query, "SeqAttention input query",
                                 SEQK_F32, -1)) ||
        (st = seqk__check_dims(ctx, query, "SeqAttention input query", 2, dq,
                               "[B,Dq] of the keys plan")) ||
        (st = seqk__check_tensor(ctx, context, "SeqAttention output context",
                                 SEQK_F32, -1)) ||
        (st = seqk__check_dims(ctx, context, "SeqAttention output context",
                               2, dc, "[B,Dv] of the keys plan")))
        return st;
    if (weights &&
        ((st = seqk__check_tensor(ctx, weights, "SeqAttention output weights",
                                  SEQK_F32, -1)) ||
         (st = seqk__check_dims(ctx, weights, "SeqAttention output weights",
                                2, dw, "[B,S] of the keys plan"))))
        return st;
    if (seqk__tensors_overlap(context, query) ||
        seqk__tensors_overlap(weights, query) ||
        seqk__tensors_overlap(context, weights))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "SeqAttention outputs context and weights must be "
                           "distinct from each other and from the query");

    seqk_seq_attention_problem p = *t;
    p.query = query->data;
    p.context = context->data;
    p.weights = weights ? weights->data : NULL;
    return seqk__dispatch(ctx, SEQK_OP_SEQ_ATTENTION, &p);
}
