/*
 * linear.c — the linear plan (seqk_linear_*): a GEMM whose B and bias are
 * the plan's own, so that a backend packs B once.
 *
 *   X [...,K] viewed as [M,K]      W [N,K] (NK) or [K,N] (KN)     b [N]
 *   Y [...,N] viewed as [M,N] = X op(W) + b
 *
 * A forward is one SEQK_OP_GEMM problem: trans_b = (layout == NK), C = b
 * broadcast over rows (c_sm 0, c_sn 1, beta 1), and b_cache = the plan's
 * slot, in which the CPU backends keep W packed (gemv_driver.c: rows 1..4
 * as a matrix-vector product, more rows as the GEMM over prepacked
 * panels).  Backends without a packed path (ref, OpenCL) ignore the slot.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/bf16.h"
#include "core/internal.h"
#include "core/rnn_plan.h" /* seqk__rnn_cache_clear */

struct seqk_linear {
    seqk_context *ctx;
    seqk_linear_desc desc;
    seqk_tensor *W, *b;     /* the plan's copies; b may be NULL */
    seqk_backend_cache cache;
};

void seqk_linear_desc_init(seqk_linear_desc *desc, int64_t in_features,
                           int64_t out_features)
{
    if (!desc)
        return;
    memset(desc, 0, sizeof *desc);
    desc->struct_size = sizeof *desc;
    desc->in_features = in_features;
    desc->out_features = out_features;
    desc->weight_layout = SEQK_LINEAR_NK;
    desc->weight_dtype = SEQK_F32;
}

static seqk_status copy_tensor(seqk_context *ctx, const seqk_tensor *src,
                               seqk_tensor **dst)
{
    seqk_status st = seqk_tensor_create(ctx, src->ndim, src->dims, src->dtype,
                                        dst);
    if (st || src->bytes == 0)
        return st;
    if (ctx->dev)
        return ctx->dev->copy(ctx, (*dst)->data, src->data, src->bytes);
    memcpy((*dst)->data, src->data, src->bytes);
    return SEQK_OK;
}

/* The plan's W rounded to bf16 in place (on the host, then written back
 * for a device context): every backend then computes with those values. */
static seqk_status round_bf16(seqk_context *ctx, seqk_tensor *W)
{
    float *h = malloc(W->bytes ? W->bytes : 1);
    if (!h)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "Linear: out of memory rounding W to bf16");
    seqk_status st = seqk_tensor_read(W, h, W->bytes);
    if (st == SEQK_OK) {
        seqk__bf16_round_array(h, (size_t)W->numel);
        st = seqk_tensor_write(W, h, W->bytes);
    }
    free(h);
    return st;
}

seqk_status seqk_linear_destroy(seqk_linear *lin)
{
    if (!lin)
        return SEQK_OK;
    seqk__rnn_cache_clear(&lin->cache);
    seqk_tensor_destroy(lin->W);
    seqk_tensor_destroy(lin->b);
    seqk__context_release(lin->ctx);
    free(lin);
    return SEQK_OK;
}

seqk_status seqk_linear_create(seqk_context *ctx, const seqk_linear_desc *desc,
                               const seqk_tensor *W, const seqk_tensor *b,
                               seqk_linear **out)
{
    seqk_linear_desc d;
    seqk_linear *lin = NULL;
    seqk_status st;

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_linear_create: ctx is NULL");
    if (!out)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_linear_create: lin (the output) is NULL");
    *out = NULL;
    /* descs from before weight_dtype are smaller: it reads as 0 (f32) */
    if ((st = seqk__check_struct(ctx, desc, desc ? desc->struct_size : 0,
                                 offsetof(seqk_linear_desc, weight_dtype),
                                 "seqk_linear_create: desc")))
        return st;
    memset(&d, 0, sizeof d);
    memcpy(&d, desc, desc->struct_size < sizeof d ? desc->struct_size
                                                  : sizeof d);
    if (d.weight_dtype == 0)
        d.weight_dtype = SEQK_F32;
    if (d.weight_dtype != SEQK_F32 && d.weight_dtype != SEQK_BF16)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Linear: weight_dtype is %d (%s); expected "
                           "SEQK_F32 or SEQK_BF16", (int)d.weight_dtype,
                           seqk__dtype_name(d.weight_dtype));
    if (d.in_features < 1 || d.out_features < 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Linear: in_features (%lld) and out_features "
                           "(%lld) must be >= 1", (long long)d.in_features,
                           (long long)d.out_features);
    if (d.weight_layout != SEQK_LINEAR_NK && d.weight_layout != SEQK_LINEAR_KN)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Linear: weight_layout is %d; use SEQK_LINEAR_NK "
                           "([out,in], nn.Linear) or SEQK_LINEAR_KN ([in,out])",
                           (int)d.weight_layout);
    const int64_t K = d.in_features, N = d.out_features;
    const int nk = d.weight_layout == SEQK_LINEAR_NK;
    const int64_t dw[2] = {nk ? N : K, nk ? K : N}, db[1] = {N};
    int64_t kn;
    if (seqk__mul_i64(K, N, &kn))
        return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                           "Linear: in_features %lld x out_features %lld "
                           "overflows", (long long)K, (long long)N);
    if ((st = seqk__check_tensor(ctx, W, "Linear weight W", SEQK_F32, -1)) ||
        (st = seqk__check_dims(ctx, W, "Linear weight W", 2, dw,
                               nk ? "[out_features,in_features] for layout NK"
                                  : "[in_features,out_features] for layout KN")))
        return st;
    if (b && ((st = seqk__check_tensor(ctx, b, "Linear bias b", SEQK_F32,
                                       -1)) ||
              (st = seqk__check_dims(ctx, b, "Linear bias b", 1, db,
                                     "[out_features]"))))
        return st;

    lin = calloc(1, sizeof *lin);
    if (!lin)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "seqk_linear_create: out of memory");
    lin->ctx = ctx;
    seqk__context_retain(ctx);
    lin->desc = d;
    if ((st = copy_tensor(ctx, W, &lin->W)) ||
        (b && (st = copy_tensor(ctx, b, &lin->b))) ||
        (d.weight_dtype == SEQK_BF16 && (st = round_bf16(ctx, lin->W)))) {
        seqk_linear_destroy(lin);
        return st;
    }
    *out = lin;
    return SEQK_OK;
}

seqk_status seqk_linear_forward(seqk_linear *lin, const seqk_tensor *X,
                                seqk_tensor *Y)
{
    char s1[96], s2[96];
    seqk_status st;
    if (!lin)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_linear_forward: lin is NULL");
    seqk_context *ctx = lin->ctx;
    const int64_t K = lin->desc.in_features, N = lin->desc.out_features;
    if ((st = seqk__check_tensor(ctx, X, "Linear input X", SEQK_F32, -1)) ||
        (st = seqk__check_tensor(ctx, Y, "Linear output Y", SEQK_F32, -1)))
        return st;
    if (X->ndim < 1 || X->dims[X->ndim - 1] != K)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Linear input X has shape %s; expected [...,%lld] "
                           "(last dim = in_features)",
                           seqk__shape_str(X, s1, sizeof s1), (long long)K);
    int same = Y->ndim == X->ndim && Y->dims[Y->ndim - 1] == N;
    for (int i = 0; same && i < X->ndim - 1; i++)
        same = Y->dims[i] == X->dims[i];
    if (!same) {
        int64_t want[SEQK_MAX_DIMS];
        memcpy(want, X->dims, sizeof want);
        want[X->ndim - 1] = N;
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Linear output Y has shape %s; expected %s (X's "
                           "leading dims, then out_features)",
                           seqk__shape_str(Y, s1, sizeof s1),
                           seqk__dims_str(X->ndim, want, s2, sizeof s2));
    }
    if (seqk__tensors_overlap(X, Y))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Linear output Y must not share memory with X");
    const int64_t M = X->numel / K;
    if (M == 0)
        return SEQK_OK;

    seqk_gemm_problem p;
    memset(&p, 0, sizeof p);
    p.M = M; p.N = N; p.K = K;
    p.trans_b = lin->desc.weight_layout == SEQK_LINEAR_NK;
    p.alpha = 1.0f;
    p.beta = lin->b ? 1.0f : 0.0f;
    p.A = X->data; p.lda = K;
    p.B = lin->W->data; p.ldb = p.trans_b ? K : N;
    p.C = lin->b ? lin->b->data : NULL;
    p.c_sm = 0; p.c_sn = 1;
    p.Y = Y->data; p.ldy = N;
    p.b_cache = &lin->cache;
    p.b_bf16 = lin->desc.weight_dtype == SEQK_BF16;
    return seqk__dispatch(ctx, SEQK_OP_GEMM, &p);
}
