/*
 * cl_seq_attention.c — SeqAttention on OpenCL (kernels/seq_attention.cl).
 *
 * Per call: the projections that do not depend on the key position run
 * once as GEMMs (cl_gemm.h) into a device scratch,
 *   general   u  [B,Dk]   = query W
 *   additive  u  [B,A]    = query W1^T,   kw [B*S,A] = keys W2^T
 * then three kernels: scores (into weights, or into the scratch when the
 * caller gave no weights), a masked softmax per batch row, the context.
 * key_lens may be a device tensor or host memory (uploaded to the
 * scratch).  A keys plan hands kw in (problem wk): only u is computed
 * then.  Tunable "opencl.seq_attention": SWG (softmax work-group, a
 * power of two; 0 = the rule: 128 on a GPU, 2 elsewhere, as for
 * cl_softmax.c: PoCL runs a group's items one after another) and CWG
 * (scores/context work-group).
 */
#include <limits.h>
#include <string.h>

#include "opencl/cl_attention.h"
#include "opencl/cl_gemm.h"

enum { P_SWG = 0, P_CWG, NUM_P };

static int seq_legal(const int *v, const seqk_tune_limits *lim,
                     const int64_t *shape)
{
    (void)shape;
    if (!lim->is_device)
        return 0;
    for (int i = 0; i < NUM_P; i++)
        if (v[i] > lim->max_wg || v[i] > lim->max_item[0])
            return 0;
    return (int64_t)v[P_SWG] * 4 <= lim->local_mem;
}

const seqk_tunable seqk__cl_seq_attention_tunable = {
    .id = "opencl.seq_attention",
    .source = "seq_attention",
    .backend = "opencl",
    .num_shape = 4,
    .shape_names = {"B", "S", "Dk", "Dv"},
    .num_params = NUM_P,
    .params = {
        {"SWG", 9, {0, 1, 2, 4, 16, 32, 64, 128, 256}, 0},
        {"CWG", 5, {16, 32, 64, 128, 256}, 64},
    },
    .legal = seq_legal,
};

/* Adds n elements of size es to a scratch of *total bytes (64-byte
 * aligned pieces); returns the piece's byte offset or -1 on overflow. */
static int64_t reserve(size_t *total, uint64_t n, size_t es)
{
    if (n > (SIZE_MAX - *total - 64) / es)
        return -1;
    size_t at = (*total + 63) / 64 * 64;
    *total = at + (size_t)n * es;
    return (int64_t)at;
}

static seqk_status gemm(seqk_context *ctx, int64_t M, int64_t N, int64_t K,
                        const float *A, int64_t lda, const float *Bm,
                        int64_t ldb, int trans_b, float *Y)
{
    if (M == 0 || N == 0 || K == 0)
        return SEQK_OK; /* Y stays zero (fresh scratch) */
    seqk_gemm_problem g;
    memset(&g, 0, sizeof g);
    g.M = M; g.N = N; g.K = K;
    g.trans_b = trans_b;
    g.alpha = 1.0f;
    g.A = A; g.lda = lda;
    g.B = Bm; g.ldb = ldb;
    g.Y = Y; g.ldy = N;
    return seqk__cl_gemm(ctx, &g);
}

/* Binds (buffer, offset) of an int32 array: dev, or fallback (unread). */
static seqk_status arg_lens(seqk_context *ctx, cl_kernel k, const char *name,
                            cl_uint i, const int32_t *dev,
                            const void *fallback)
{
    cl_mem mem;
    size_t off = 0;
    seqk_status st = dev ? seqk__cl_translate(ctx, dev, 4, &mem, &off)
                         : seqk__cl_translate(ctx, fallback, 4, &mem, &off);
    if (st)
        return st;
    cl_long off_arg = dev ? (cl_long)off : 0;
    if ((st = seqk__cl_arg(ctx, k, name, i, sizeof mem, &mem)))
        return st;
    return seqk__cl_arg(ctx, k, name, i + 1, sizeof off_arg, &off_arg);
}

static seqk_status run_scores(seqk_context *ctx,
                              const seqk_seq_attention_problem *p,
                              const float *u, const float *kw,
                              const int32_t *lens, float *w, size_t wg)
{
    static const char name[] = "seqk_f32_seq_attention_scores";
    cl_kernel k;
    seqk_status st;
    const cl_int kind = (cl_int)p->score;
    const cl_long B = p->B, S = p->S;
    const cl_int Dq = (cl_int)p->Dq, Dk = (cl_int)p->Dk, A = (cl_int)p->A;
    const cl_int has_lens = lens != NULL;
    const float *par = p->score == SEQK_SCORE_ADDITIVE ? p->v
                     : p->score == SEQK_SCORE_LOCATION ? p->Wloc : NULL;
    /* Unused buffers get w (never read through them). */
    if ((st = seqk__cl_kernel(ctx, "seq_attention", NULL, name, &k)) ||
        (st = seqk__cl_arg(ctx, k, name, 0, sizeof kind, &kind)) ||
        (st = seqk__cl_arg(ctx, k, name, 1, sizeof B, &B)) ||
        (st = seqk__cl_arg(ctx, k, name, 2, sizeof S, &S)) ||
        (st = seqk__cl_arg(ctx, k, name, 3, sizeof Dq, &Dq)) ||
        (st = seqk__cl_arg(ctx, k, name, 4, sizeof Dk, &Dk)) ||
        (st = seqk__cl_arg(ctx, k, name, 5, sizeof A, &A)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 6, p->query)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 8, p->keys)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 10, u ? u : w)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 12, kw ? kw : w)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 14, par ? par : w)) ||
        (st = arg_lens(ctx, k, name, 16, lens, w)) ||
        (st = seqk__cl_arg(ctx, k, name, 18, sizeof has_lens, &has_lens)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 19, w)))
        return st;
    size_t kmax = seqk__cl_kernel_max_wg(ctx, k);
    while (wg > kmax && wg > 1)
        wg /= 2;
    const size_t global[2] = {seqk_cl_round_up((size_t)p->S, wg),
                              (size_t)p->B};
    const size_t local[2] = {wg, 1};
    return seqk__cl_enqueue(ctx, k, name, 2, global, local);
}

static seqk_status run_softmax(seqk_context *ctx,
                               const seqk_seq_attention_problem *p,
                               const int32_t *lens, float *w, size_t wg)
{
    static const char name[] = "seqk_f32_seq_attention_softmax";
    cl_kernel k;
    seqk_status st;
    const cl_long S = p->S;
    const cl_int has_lens = lens != NULL;
    if ((st = seqk__cl_kernel(ctx, "seq_attention", NULL, name, &k)))
        return st;
    size_t kmax = seqk__cl_kernel_max_wg(ctx, k);
    while (wg > kmax && wg > 1)
        wg /= 2;
    if ((st = seqk__cl_arg(ctx, k, name, 0, sizeof S, &S)) ||
        (st = arg_lens(ctx, k, name, 1, lens, w)) ||
        (st = seqk__cl_arg(ctx, k, name, 3, sizeof has_lens, &has_lens)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 4, w)) ||
        (st = seqk__cl_arg(ctx, k, name, 6, wg * sizeof(float), NULL)))
        return st;
    const size_t global = (size_t)p->B * wg;
    return seqk__cl_enqueue(ctx, k, name, 1, &global, &wg);
}

static seqk_status run_context(seqk_context *ctx,
                               const seqk_seq_attention_problem *p,
                               const int32_t *lens, const float *w,
                               size_t wg)
{
    static const char name[] = "seqk_f32_seq_attention_context";
    cl_kernel k;
    seqk_status st;
    const cl_long B = p->B, S = p->S;
    const cl_int Dv = (cl_int)p->Dv, has_lens = lens != NULL;
    if ((st = seqk__cl_kernel(ctx, "seq_attention", NULL, name, &k)) ||
        (st = seqk__cl_arg(ctx, k, name, 0, sizeof B, &B)) ||
        (st = seqk__cl_arg(ctx, k, name, 1, sizeof S, &S)) ||
        (st = seqk__cl_arg(ctx, k, name, 2, sizeof Dv, &Dv)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 3, p->values)) ||
        (st = arg_lens(ctx, k, name, 5, lens, w)) ||
        (st = seqk__cl_arg(ctx, k, name, 7, sizeof has_lens, &has_lens)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 8, w)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 10, p->context)))
        return st;
    size_t kmax = seqk__cl_kernel_max_wg(ctx, k);
    while (wg > kmax && wg > 1)
        wg /= 2;
    const size_t global[2] = {seqk_cl_round_up((size_t)p->Dv, wg),
                              (size_t)p->B};
    const size_t local[2] = {wg, 1};
    return seqk__cl_enqueue(ctx, k, name, 2, global, local);
}

seqk_status seqk__cl_seq_attention(seqk_context *ctx,
                                  const seqk_seq_attention_problem *p)
{
    if (p->B == 0)
        return SEQK_OK;
    if (p->Dq > INT_MAX || p->Dk > INT_MAX || p->Dv > INT_MAX ||
        p->A > INT_MAX || (uint64_t)p->S > SIZE_MAX / 4096 ||
        (uint64_t)p->Dv > SIZE_MAX / 4096)
        return seqk__error(ctx, SEQK_ERR_UNSUPPORTED,
                           "OpenCL SeqAttention: sizes out of range for the "
                           "kernels (S %lld, Dq %lld, Dk %lld, Dv %lld, A "
                           "%lld)", (long long)p->S, (long long)p->Dq,
                           (long long)p->Dk, (long long)p->Dv,
                           (long long)p->A);

    /* scratch pieces (byte offsets; -2: not needed) */
    size_t total = 0;
    int64_t o_w = -2, o_u = -2, o_kw = -2, o_len = -2;
    const uint64_t B = (uint64_t)p->B, S = (uint64_t)p->S;
    const int host_lens = p->key_lens &&
                          !seqk__cl_find_range(seqk_cl_st(ctx), p->key_lens);
    if (!p->weights && S > 0)
        o_w = reserve(&total, B * S, sizeof(float));
    if (p->score == SEQK_SCORE_GENERAL)
        o_u = reserve(&total, B * (uint64_t)p->Dk, sizeof(float));
    if (p->score == SEQK_SCORE_ADDITIVE) {
        o_u = reserve(&total, B * (uint64_t)p->A, sizeof(float));
        /* with wk, a keys plan computed kw already */
        if (p->wk)
            o_kw = -2;
        else if (S > UINT64_MAX / B || B * S > UINT64_MAX / ((uint64_t)p->A + 1))
            o_kw = -1;
        else
            o_kw = reserve(&total, B * S * (uint64_t)p->A, sizeof(float));
    }
    if (host_lens)
        o_len = reserve(&total, B, sizeof(int32_t));
    if (o_w == -1 || o_u == -1 || o_kw == -1 || o_len == -1)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "OpenCL SeqAttention: scratch size overflows");

    seqk_tune_limits lim;
    const int64_t shape[4] = {p->B, p->S, p->Dk, p->Dv};
    int v[NUM_P];
    seqk__tune_limits(ctx, &lim);
    seqk__tuned(ctx, &seqk__cl_seq_attention_tunable, shape, v);
    if (!seqk__tunable_legal(&seqk__cl_seq_attention_tunable, v, &lim, shape))
        v[P_SWG] = v[P_CWG] = 16; /* the smallest candidates */
    if (v[P_SWG] == 0)
        v[P_SWG] = seqk__cl_is_gpu(ctx) ? 128 : 2;

    char *scratch = NULL;
    seqk_status st = SEQK_OK;
    if (total > 0 && (st = seqk__cl_alloc(ctx, total, (void **)&scratch)))
        return st;
    float *w = o_w >= 0 ? (float *)(scratch + o_w) : p->weights;
    float *u = o_u >= 0 ? (float *)(scratch + o_u) : NULL;
    float *own_kw = o_kw >= 0 ? (float *)(scratch + o_kw) : NULL;
    const float *kw = own_kw ? own_kw : p->wk;
    const int32_t *lens = p->key_lens;
    if (host_lens) {
        lens = (const int32_t *)(scratch + o_len);
        if ((st = seqk__cl_write(ctx, scratch + o_len, p->key_lens,
                                (size_t)B * sizeof(int32_t))))
            goto cleanup;
    }

    if (p->score == SEQK_SCORE_GENERAL)
        st = gemm(ctx, p->B, p->Dk, p->Dq, p->query, p->Dq, p->W, p->Dk, 0,
                  u);
    else if (p->score == SEQK_SCORE_ADDITIVE &&
             !(st = gemm(ctx, p->B, p->A, p->Dq, p->query, p->Dq, p->W1,
                         p->Dq, 1, u)) && own_kw)
        st = gemm(ctx, p->B * p->S, p->A, p->Dk, p->keys, p->Dk, p->W2,
                  p->Dk, 1, own_kw);
    if (st)
        goto cleanup;
    if (S > 0 &&
        ((st = run_scores(ctx, p, u, kw, lens, w, (size_t)v[P_CWG])) ||
         (st = run_softmax(ctx, p, lens, w, (size_t)v[P_SWG]))))
        goto cleanup;
    if (p->Dv > 0)
        st = run_context(ctx, p, lens, w ? w : p->context,
                         (size_t)v[P_CWG]);

cleanup:
    /* Enqueued work keeps the buffer alive until it completes. */
    if (scratch)
        seqk__cl_free(ctx, scratch);
    return st;
}
