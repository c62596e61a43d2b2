/*
 * op_gemm.c — front ends of Gemm and MatMul: argument checks, ONNX
 * broadcasting resolved into strides, then dispatch.
 */
#include <stddef.h>
#include <stdio.h>

#include "core/internal.h"

void seqk_gemm_params_init(seqk_gemm_params *p)
{
    if (!p)
        return;
    p->struct_size = sizeof *p;
    p->trans_a = 0;
    p->trans_b = 0;
    p->alpha = 1.0f;
    p->beta = 1.0f;
}

seqk_status seqk_gemm(seqk_context *ctx, const seqk_gemm_params *params,
                      const seqk_tensor *A, const seqk_tensor *B,
                      const seqk_tensor *C, seqk_tensor *Y)
{
    seqk_status st;
    seqk_gemm_params prm;
    char s1[96], s2[96];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG, "seqk_gemm: ctx is NULL");
    seqk_gemm_params_init(&prm);
    if (params) {
        st = seqk__check_struct(ctx, params, params->struct_size,
                                sizeof prm, "seqk_gemm: params");
        if (st)
            return st;
        prm = *params;
    }
    if ((st = seqk__check_tensor(ctx, A, "Gemm input A", SEQK_F32, 2)) ||
        (st = seqk__check_tensor(ctx, B, "Gemm input B", SEQK_F32, 2)) ||
        (st = seqk__check_tensor(ctx, Y, "Gemm output Y", SEQK_F32, 2)))
        return st;
    if (C && (st = seqk__check_tensor(ctx, C, "Gemm input C", SEQK_F32, -1)))
        return st;

    int64_t M = prm.trans_a ? A->dims[1] : A->dims[0];
    int64_t K = prm.trans_a ? A->dims[0] : A->dims[1];
    int64_t Kb = prm.trans_b ? B->dims[1] : B->dims[0];
    int64_t N = prm.trans_b ? B->dims[0] : B->dims[1];
    if (K != Kb)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Gemm: A %s (transA=%d) gives K=%lld but B %s "
                           "(transB=%d) gives K=%lld", seqk__shape_str(A, s1,
                           sizeof s1), prm.trans_a, (long long)K,
                           seqk__shape_str(B, s2, sizeof s2), prm.trans_b,
                           (long long)Kb);
    int64_t ydims[2] = {M, N};
    if ((st = seqk__check_dims(ctx, Y, "Gemm output Y", 2, ydims,
                               "op(A) x op(B)")))
        return st;

    /* C broadcasts unidirectionally to [M,N] (right-aligned, 1 or equal). */
    int64_t c_sm = 0, c_sn = 0;
    if (C) {
        if (C->ndim > 2)
            return seqk__error(ctx, SEQK_ERR_SHAPE,
                               "Gemm input C has shape %s; expected at most "
                               "rank 2, broadcastable to [%lld,%lld]",
                               seqk__shape_str(C, s1, sizeof s1),
                               (long long)M, (long long)N);
        int64_t cm = C->ndim == 2 ? C->dims[0] : 1;
        int64_t cn = C->ndim >= 1 ? C->dims[C->ndim - 1] : 1;
        if ((cm != 1 && cm != M) || (cn != 1 && cn != N))
            return seqk__error(ctx, SEQK_ERR_SHAPE,
                               "Gemm input C has shape %s, which does not "
                               "broadcast to [%lld,%lld]",
                               seqk__shape_str(C, s1, sizeof s1),
                               (long long)M, (long long)N);
        c_sn = cn == 1 ? 0 : 1;
        c_sm = cm == 1 ? 0 : cn;
    }
    if (seqk__tensors_overlap(Y, A) || seqk__tensors_overlap(Y, B) ||
        seqk__tensors_overlap(Y, C))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Gemm output Y must not be one of its inputs");

    seqk_gemm_problem p = {
        .M = M, .N = N, .K = K,
        .trans_a = prm.trans_a != 0, .trans_b = prm.trans_b != 0,
        .alpha = prm.alpha, .beta = prm.beta,
        .A = A->data, .lda = A->dims[1],
        .B = B->data, .ldb = B->dims[1],
        .C = C ? C->data : NULL, .c_sm = c_sm, .c_sn = c_sn,
        .Y = Y->data, .ldy = N,
    };
    return seqk__dispatch(ctx, SEQK_OP_GEMM, &p);
}

seqk_status seqk_matmul(seqk_context *ctx, const seqk_tensor *A,
                        const seqk_tensor *B, seqk_tensor *Y)
{
    seqk_status st;
    char s1[96], s2[96];

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_matmul: ctx is NULL");
    if ((st = seqk__check_tensor(ctx, A, "MatMul input A", SEQK_F32, -1)) ||
        (st = seqk__check_tensor(ctx, B, "MatMul input B", SEQK_F32, -1)) ||
        (st = seqk__check_tensor(ctx, Y, "MatMul output Y", SEQK_F32, -1)))
        return st;
    if (A->ndim < 1 || B->ndim < 1)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "MatMul: A %s and B %s must have rank >= 1",
                           seqk__shape_str(A, s1, sizeof s1),
                           seqk__shape_str(B, s2, sizeof s2));

    /* numpy: a 1-D A is [1,K] and a 1-D B is [K,1]; the added axis is
     * removed from the result. */
    int64_t M = A->ndim == 1 ? 1 : A->dims[A->ndim - 2];
    int64_t K = A->dims[A->ndim - 1];
    int64_t Kb = B->ndim == 1 ? B->dims[0] : B->dims[B->ndim - 2];
    int64_t N = B->ndim == 1 ? 1 : B->dims[B->ndim - 1];
    if (K != Kb)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "MatMul: A %s has K=%lld but B %s has K=%lld",
                           seqk__shape_str(A, s1, sizeof s1), (long long)K,
                           seqk__shape_str(B, s2, sizeof s2), (long long)Kb);

    int abat = A->ndim > 2 ? A->ndim - 2 : 0;
    int bbat = B->ndim > 2 ? B->ndim - 2 : 0;
    int nb = abat > bbat ? abat : bbat;
    seqk_matmul_problem p = {.M = M, .N = N, .K = K, .nbatch = nb,
                             .A = A->data, .B = B->data, .Y = Y->data};
    int64_t ydims[SEQK_MAX_DIMS];
    int yn = 0;
    /* Batch strides of dense A/B: walk from the innermost batch dim out. */
    int64_t astride = M * K, bstride = K * N;
    for (int j = nb - 1; j >= 0; j--) {
        int ia = j - (nb - abat), ib = j - (nb - bbat);
        int64_t da = ia >= 0 ? A->dims[ia] : 1;
        int64_t db = ib >= 0 ? B->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return seqk__error(ctx, SEQK_ERR_SHAPE,
                               "MatMul: batch dims of A %s and B %s do not "
                               "broadcast",
                               seqk__shape_str(A, s1, sizeof s1),
                               seqk__shape_str(B, s2, sizeof s2));
        p.batch_dims[j] = da > db ? da : db;
        if (da == 0 || db == 0)
            p.batch_dims[j] = 0;
        p.a_bstride[j] = da == 1 ? 0 : astride;
        p.b_bstride[j] = db == 1 ? 0 : bstride;
        astride *= da;
        bstride *= db;
    }
    for (int j = 0; j < nb; j++)
        ydims[yn++] = p.batch_dims[j];
    if (A->ndim > 1)
        ydims[yn++] = M;
    if (B->ndim > 1)
        ydims[yn++] = N;
    if ((st = seqk__check_dims(ctx, Y, "MatMul output Y", yn, ydims,
                               "the broadcast of A and B")))
        return st;
    if (seqk__tensors_overlap(Y, A) || seqk__tensors_overlap(Y, B))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "MatMul output Y must not be one of its inputs");
    return seqk__dispatch(ctx, SEQK_OP_MATMUL, &p);
}
