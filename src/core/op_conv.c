/*
 * op_conv.c — front end of ONNX Conv with one spatial dimension:
 *
 *   X [N,C,L]  W [M,C/group,K]  B [M]  ->  Y [N,M,Lout]
 *
 * (X [N,L,C] with input_channels_last, Y [N,Lout,M] with
 * output_channels_last; the backends index them by strides.)
 * It resolves auto_pad into pad_begin (pad_end only sizes Lout) and
 * checks every size with overflow checks, then dispatches.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

void seqk_conv_params_init(seqk_conv_params *p)
{
    if (!p)
        return;
    *p = (seqk_conv_params){.struct_size = sizeof *p, .stride = 1,
                            .dilation = 1, .group = 1};
}

seqk_status seqk_conv1d(seqk_context *ctx, const seqk_conv_params *params,
                        const seqk_tensor *X, const seqk_tensor *W,
                        const seqk_tensor *B, seqk_tensor *Y)
{
    seqk_status st;
    char s1[96], s2[96];
    seqk_conv_params prm;

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_conv1d: ctx is NULL");
    /* callers built before input_channels_last (or output_channels_last)
     * pass a shorter struct: the fields it has, defaults for the rest */
    if ((st = seqk__check_struct(ctx, params,
                                 params ? params->struct_size : 0,
                                 offsetof(seqk_conv_params,
                                          input_channels_last),
                                 "seqk_conv1d params")))
        return st;
    seqk_conv_params_init(&prm);
    memcpy(&prm, params, params->struct_size < sizeof prm
                             ? params->struct_size : sizeof prm);
    prm.struct_size = sizeof prm;
    if ((st = seqk__check_tensor(ctx, X, "Conv input X", SEQK_F32, 3)) ||
        (st = seqk__check_tensor(ctx, W, "Conv weight W", SEQK_F32, 3)) ||
        (B && (st = seqk__check_tensor(ctx, B, "Conv bias B", SEQK_F32,
                                       1))) ||
        (st = seqk__check_tensor(ctx, Y, "Conv output Y", SEQK_F32, 3)))
        return st;
    const seqk_conv_params *q = &prm;
    if (q->input_channels_last != 0 && q->input_channels_last != 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Conv input_channels_last is %d; use 0 (X "
                           "[N,C,L]) or 1 (X [N,L,C])",
                           q->input_channels_last);
    if (q->output_channels_last != 0 && q->output_channels_last != 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Conv output_channels_last is %d; use 0 (Y "
                           "[N,M,Lout]) or 1 (Y [N,Lout,M])",
                           q->output_channels_last);
    const int nlc = q->input_channels_last, ynlc = q->output_channels_last;
    if (q->stride < 1 || q->dilation < 1 || q->group < 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Conv stride %lld, dilation %lld and group %lld "
                           "must be >= 1", (long long)q->stride,
                           (long long)q->dilation, (long long)q->group);
    if (q->auto_pad < SEQK_AUTO_PAD_NOTSET ||
        q->auto_pad > SEQK_AUTO_PAD_VALID)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Conv auto_pad %d is not NOTSET, SAME_UPPER, "
                           "SAME_LOWER or VALID", (int)q->auto_pad);
    if (q->auto_pad == SEQK_AUTO_PAD_NOTSET &&
        (q->pad_begin < 0 || q->pad_end < 0))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Conv pads %lld, %lld must be >= 0",
                           (long long)q->pad_begin, (long long)q->pad_end);
    const int64_t N = X->dims[0], C = X->dims[nlc ? 2 : 1],
                  L = X->dims[nlc ? 1 : 2];
    const int64_t M = W->dims[0], K = W->dims[2], G = q->group;
    if (C % G || M % G || W->dims[1] != C / G)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Conv weight W %s does not fit input X %s %s "
                           "with group %lld (expected [M,C/group,K] with C "
                           "= %lld and M multiples of group)",
                           seqk__shape_str(W, s1, sizeof s1),
                           seqk__shape_str(X, s2, sizeof s2),
                           nlc ? "(channels-last [N,L,C])" : "([N,C,L])",
                           (long long)G, (long long)C);
    if (B && B->dims[0] != M)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Conv bias B has %lld entries; W has M = %lld "
                           "output channels", (long long)B->dims[0],
                           (long long)M);
    /* effective kernel extent dilation*(K-1)+1, overflow-checked */
    int64_t ext, padded, lout, pb = q->pad_begin, pe = q->pad_end;
    if (K < 1)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Conv weight W %s has kernel size 0",
                           seqk__shape_str(W, s1, sizeof s1));
    if (seqk__mul_i64(q->dilation, K - 1, &ext) || ++ext < 1)
        return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                           "Conv: dilation * (K - 1) overflows");
    if (q->auto_pad == SEQK_AUTO_PAD_VALID) {
        pb = pe = 0;
    } else if (q->auto_pad != SEQK_AUTO_PAD_NOTSET) {
        const int64_t want = (L + q->stride - 1) / q->stride;
        int64_t need = (want - 1) * q->stride + ext - L; /* may be < 0 */
        if (need < 0)
            need = 0;
        pb = q->auto_pad == SEQK_AUTO_PAD_SAME_UPPER ? need / 2
                                                     : need - need / 2;
        pe = need - pb;
    }
    if (seqk__add_i64(L, pb, &padded) || seqk__add_i64(padded, pe, &padded))
        return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                           "Conv: L + pads overflows");
    lout = padded < ext ? 0 : (padded - ext) / q->stride + 1;
    if (padded < ext && L > 0)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Conv kernel extent %lld (K %lld, dilation "
                           "%lld) is longer than the padded input (%lld)",
                           (long long)ext, (long long)K,
                           (long long)q->dilation, (long long)padded);
    const int64_t yd[3] = {N, ynlc ? lout : M, ynlc ? M : lout};
    if ((st = seqk__check_dims(ctx, Y, "Conv output Y", 3, yd,
                               ynlc ? "[N, Lout, M] (output_channels_last)"
                                    : "[N, M, Lout]")))
        return st;
    if (seqk__tensors_overlap(Y, X) || seqk__tensors_overlap(Y, W) ||
        seqk__tensors_overlap(Y, B))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Conv output Y overlaps an input");
    seqk_conv1d_problem p = {.N = N, .C = C, .L = L, .M = M, .K = K,
                             .Lout = lout, .stride = q->stride,
                             .dilation = q->dilation, .pad_begin = pb,
                             .group = G, .x_nlc = nlc, .y_nlc = ynlc, .X = X->data, .W = W->data,
                             .B = B ? B->data : NULL, .Y = Y->data};
    if (Y->numel == 0)
        return SEQK_OK;
    return seqk__dispatch(ctx, SEQK_OP_CONV1D, &p);
}
