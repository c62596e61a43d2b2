/*
 * test_rnn_errors.c — bad arguments to every RNN plan function get the
 * right status and a message naming the culprit (the third source of
 * test_rnn).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_rnn.h"

START_TEST(test_errors_create)
{
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        seqk_rnn *rnn = (seqk_rnn *)&rnn; /* must be reset to NULL */
        seqk_rnn_desc d;
        seqk_rnn_desc_init(&d, SEQK_CELL_LSTM, 5, 4);

        TU_FAILS(NULL, seqk_rnn_create(NULL, &d, &rnn), SEQK_ERR_INVALID_ARG, "ctx");
        ck_assert_ptr_null(rnn);
        TU_FAILS(ctx, seqk_rnn_create(ctx, NULL, &rnn), SEQK_ERR_INVALID_ARG, "desc");
        TU_FAILS(ctx, seqk_rnn_create(ctx, &d, NULL), SEQK_ERR_INVALID_ARG, "rnn");
#define BAD(field, value, status, needle)                                     \
    do {                                                                      \
        seqk_rnn_desc b_ = d;                                                 \
        b_.field = value;                                                     \
        TU_FAILS(ctx, seqk_rnn_create(ctx, &b_, &rnn), status, needle);       \
        ck_assert_ptr_null(rnn);                                              \
    } while (0)
        BAD(struct_size, 0, SEQK_ERR_INVALID_ARG, "struct_size");
        BAD(cell, (seqk_cell)7, SEQK_ERR_INVALID_ARG, "cell");
        BAD(direction, (seqk_direction)3, SEQK_ERR_INVALID_ARG, "direction");
        BAD(layout, 2, SEQK_ERR_INVALID_ARG, "layout");
        BAD(num_layers, 0, SEQK_ERR_INVALID_ARG, "num_layers");
        BAD(hidden_size, 0, SEQK_ERR_INVALID_ARG, "hidden_size is 0");
        BAD(hidden_size, -3, SEQK_ERR_INVALID_ARG, "hidden_size is -3");
        BAD(input_size, 0, SEQK_ERR_INVALID_ARG, "input_size");
        BAD(hidden_size, INT64_MAX / 2, SEQK_ERR_OVERFLOW, "overflow");
        BAD(input_size, INT64_MAX / 4, SEQK_ERR_OVERFLOW, "overflow");
        BAD(clip, -1.0f, SEQK_ERR_INVALID_ARG, "clip");
        BAD(clip, NAN, SEQK_ERR_INVALID_ARG, "clip");
        BAD(input_forget, 2, SEQK_ERR_INVALID_ARG, "input_forget");
        BAD(linear_before_reset, 1, SEQK_ERR_INVALID_ARG, "GRU only");
        BAD(num_activations, 2, SEQK_ERR_INVALID_ARG, "needs 0 (defaults) or 3");
        BAD(num_activations, 6, SEQK_ERR_INVALID_ARG, "num_activations is 6");
        d.num_activations = 3;
        BAD(activations[1].kind, (seqk_act_kind)99, SEQK_ERR_INVALID_ARG,
            "activations[1].kind is 99");
        BAD(activations[2].alpha, INFINITY, SEQK_ERR_INVALID_ARG, "activations[2]");
        seqk_rnn_desc_init(&d, SEQK_CELL_GRU, 5, 4);
        BAD(input_forget, 1, SEQK_ERR_INVALID_ARG, "LSTM only");
        d.direction = SEQK_BIDIRECTIONAL;
        BAD(num_activations, 3, SEQK_ERR_INVALID_ARG, "bidirectional GRU needs");
#undef BAD
        d.num_activations = 4; /* 2 per direction is fine */
        TU_OK(ctx, seqk_rnn_create(ctx, &d, &rnn));
        seqk_rnn_destroy(rnn);
        ck_assert_int_eq(seqk_rnn_destroy(NULL), SEQK_OK);
        seqk_context_destroy(ctx);
    }
}
END_TEST

START_TEST(test_errors_weights)
{
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev), *other = tu_context(dev);
        seqk_rnn *lstm = NULL, *gru = NULL;
        seqk_rnn_desc d;
        seqk_rnn_desc_init(&d, SEQK_CELL_LSTM, 5, 4);
        d.num_layers = 2;
        d.direction = SEQK_BIDIRECTIONAL;
        TU_OK(ctx, seqk_rnn_create(ctx, &d, &lstm));
        seqk_rnn_desc_init(&d, SEQK_CELL_GRU, 5, 4);
        TU_OK(ctx, seqk_rnn_create(ctx, &d, &gru));

        const int64_t w2[3] = {2, 16, 5}, r2[3] = {2, 16, 4}, b2[2] = {2, 32};
        const int64_t wbad[3] = {2, 12, 5}, w1l[3] = {2, 16, 8}, p2[2] = {2, 12};
        const int64_t g1[3] = {1, 12, 5}, gr[3] = {1, 12, 4}, gp[2] = {1, 12};
        seqk_tensor *W = tu_f32(ctx, 3, w2, NULL), *R = tu_f32(ctx, 3, r2, NULL);
        seqk_tensor *B = tu_f32(ctx, 2, b2, NULL), *P = tu_f32(ctx, 2, p2, NULL);
        seqk_tensor *Wbad = tu_f32(ctx, 3, wbad, NULL), *Wi = NULL;
        seqk_tensor *Wl1 = tu_f32(ctx, 3, w1l, NULL), *Wo = tu_f32(other, 3, w2, NULL);
        seqk_tensor *GW = tu_f32(ctx, 3, g1, NULL), *GR = tu_f32(ctx, 3, gr, NULL);
        seqk_tensor *GP = tu_f32(ctx, 2, gp, NULL);
        TU_OK(ctx, seqk_tensor_create(ctx, 3, w2, SEQK_I32, &Wi));

        TU_FAILS(NULL, seqk_rnn_set_weights(NULL, 0, SEQK_WEIGHTS_ONNX, W, R, B, P),
                 SEQK_ERR_INVALID_ARG, "rnn is NULL");
        TU_FAILS(ctx, seqk_rnn_set_weights(lstm, 2, SEQK_WEIGHTS_ONNX, W, R, B, P),
                 SEQK_ERR_INVALID_ARG, "layer is 2; expected 0..1");
        TU_FAILS(ctx, seqk_rnn_set_weights(lstm, 0, (seqk_weight_format)9, W, R, B, P),
                 SEQK_ERR_INVALID_ARG, "format");
        TU_FAILS(ctx, seqk_rnn_set_weights(lstm, 0, SEQK_WEIGHTS_ONNX, Wbad, R, B, P),
                 SEQK_ERR_SHAPE, "W has shape [2,12,5] but hidden_size=4");
        ck_assert_ptr_nonnull(strstr(seqk_last_error(ctx), "[2,16,5]"));
        TU_FAILS(ctx, seqk_rnn_set_weights(lstm, 0, SEQK_WEIGHTS_ONNX, NULL, R, B, P),
                 SEQK_ERR_INVALID_ARG, "W is NULL");
        TU_FAILS(ctx, seqk_rnn_set_weights(lstm, 0, SEQK_WEIGHTS_ONNX, Wi, R, B, P),
                 SEQK_ERR_DTYPE, "W has dtype i32");
        TU_FAILS(ctx, seqk_rnn_set_weights(lstm, 0, SEQK_WEIGHTS_ONNX, W, W, B, P),
                 SEQK_ERR_SHAPE, "R has shape [2,16,5]");
        TU_FAILS(ctx, seqk_rnn_set_weights(lstm, 0, SEQK_WEIGHTS_ONNX, W, R, P, P),
                 SEQK_ERR_SHAPE, "B has shape [2,12]");
        TU_FAILS(ctx, seqk_rnn_set_weights(lstm, 0, SEQK_WEIGHTS_ONNX, W, R, B, B),
                 SEQK_ERR_SHAPE, "P has shape [2,32]");
        TU_FAILS(ctx, seqk_rnn_set_weights(lstm, 0, SEQK_WEIGHTS_ONEDNN, W, R, B, P),
                 SEQK_ERR_SHAPE, "[2,5,4,4]");
        TU_FAILS(ctx, seqk_rnn_set_weights(lstm, 0, SEQK_WEIGHTS_ONNX, Wo, R, B, P),
                 SEQK_ERR_INVALID_ARG, "another context");
        /* layer 1 reads D*H = 8 features */
        TU_FAILS(ctx, seqk_rnn_set_weights(lstm, 1, SEQK_WEIGHTS_ONNX, W, R, B, P),
                 SEQK_ERR_SHAPE, "[2,16,8]");
        TU_OK(ctx, seqk_rnn_set_weights(lstm, 1, SEQK_WEIGHTS_ONNX, Wl1, R, B, P));
        TU_FAILS(ctx, seqk_rnn_set_weights(gru, 0, SEQK_WEIGHTS_ONNX, GW, GR, NULL, GP),
                 SEQK_ERR_INVALID_ARG, "LSTM only");
        TU_FAILS(ctx, seqk_rnn_set_weights(gru, 0, SEQK_WEIGHTS_PYTORCH, GW, GR, NULL,
                 NULL), SEQK_ERR_INVALID_ARG, "linear_before_reset");
        TU_FAILS(ctx, seqk_rnn_set_weights(gru, 0, SEQK_WEIGHTS_CUDNN, GW, GR, NULL,
                 NULL), SEQK_ERR_INVALID_ARG, "linear_before_reset");

        /* forward refuses until every layer has weights */
        const int64_t xd[3] = {3, 2, 5};
        seqk_tensor *X = tu_f32(ctx, 3, xd, NULL);
        TU_FAILS(ctx, seqk_rnn_forward(lstm, X, NULL, NULL, NULL, NULL, NULL, NULL),
                 SEQK_ERR_INVALID_ARG,
                 "layer 0 has no weights: call seqk_rnn_set_weights");

        /* context-free converters */
        size_t a, b, c;
        float buf[64] = {0};
        TU_FAILS(NULL, seqk_rnn_weight_sizes(SEQK_CELL_LSTM, 0, 1, 4, 5,
                 SEQK_WEIGHTS_ONNX, NULL, &b, &c), SEQK_ERR_INVALID_ARG, "w_count");
        TU_FAILS(NULL, seqk_rnn_weight_sizes(SEQK_CELL_LSTM, 0, 3, 4, 5,
                 SEQK_WEIGHTS_ONNX, &a, &b, &c), SEQK_ERR_INVALID_ARG, "num_directions");
        TU_FAILS(NULL, seqk_rnn_weight_sizes(SEQK_CELL_LSTM, 0, 1, INT64_MAX / 2, 5,
                 SEQK_WEIGHTS_ONNX, &a, &b, &c), SEQK_ERR_OVERFLOW, "overflow");
        TU_FAILS(NULL, seqk_rnn_weight_sizes(SEQK_CELL_GRU, 0, 1, 4, 5,
                 (seqk_weight_format)4, &a, &b, &c), SEQK_ERR_INVALID_ARG, "format");
        TU_FAILS(NULL, seqk_rnn_convert_weights(SEQK_CELL_RNN, 0, 1, 2, 2,
                 SEQK_WEIGHTS_ONNX, SEQK_WEIGHTS_ONEDNN, NULL, buf, buf, buf, buf,
                 buf), SEQK_ERR_INVALID_ARG, "W_in");
        TU_FAILS(NULL, seqk_rnn_convert_weights(SEQK_CELL_RNN, 0, 1, 2, 2,
                 SEQK_WEIGHTS_ONNX, SEQK_WEIGHTS_ONEDNN, buf, buf, buf, buf, buf,
                 NULL), SEQK_ERR_INVALID_ARG, "B_out");
        TU_FAILS(NULL, seqk_rnn_convert_weights(SEQK_CELL_GRU, 2, 1, 2, 2,
                 SEQK_WEIGHTS_ONNX, SEQK_WEIGHTS_ONEDNN, buf, buf, buf, buf, buf,
                 buf), SEQK_ERR_INVALID_ARG, "linear_before_reset is 2");

        seqk_tensor *all[] = {W, R, B, P, Wbad, Wi, Wl1, GW, GR, GP, X};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            seqk_tensor_destroy(all[i]);
        seqk_tensor_destroy(Wo);
        seqk_rnn_destroy(lstm);
        seqk_rnn_destroy(gru);
        seqk_context_destroy(other);
        seqk_context_destroy(ctx);
    }
}
END_TEST

START_TEST(test_errors_forward)
{
    const int64_t T = 3, B = 2, I = 5, H = 4;
    for (int dev = 0; dev < tu_device_count(); dev++) {
        seqk_context *ctx = tu_context(dev);
        seqk_rnn *rnn = NULL, *gru = NULL;
        seqk_rnn_desc d;
        seqk_rnn_desc_init(&d, SEQK_CELL_GRU, I, H);
        TU_OK(ctx, seqk_rnn_create(ctx, &d, &gru));
        seqk_rnn_desc_init(&d, SEQK_CELL_RNN, I, H);
        TU_OK(ctx, seqk_rnn_create(ctx, &d, &rnn));
        const int64_t wd[3] = {1, H, I}, rd[3] = {1, H, H}, gw[3] = {1, 3 * H, I};
        const int64_t gr[3] = {1, 3 * H, H};
        seqk_tensor *W = tu_f32(ctx, 3, wd, NULL), *R = tu_f32(ctx, 3, rd, NULL);
        seqk_tensor *GW = tu_f32(ctx, 3, gw, NULL), *GR = tu_f32(ctx, 3, gr, NULL);
        TU_OK(ctx, seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_ONNX, W, R, NULL, NULL));
        TU_OK(ctx, seqk_rnn_set_weights(gru, 0, SEQK_WEIGHTS_ONNX, GW, GR, NULL, NULL));

        const int64_t xd[3] = {T, B, I}, x2[2] = {T, B}, xi[3] = {T, B, 4};
        const int64_t sd[3] = {1, B, H}, sbad[3] = {1, B, 3}, ld[1] = {B};
        const int64_t ld3[1] = {B + 1}, yd[4] = {T, 1, B, H}, ybad[4] = {B, T, 1, H};
        const int32_t lens_hi[2] = {3, 4}, lens_neg[2] = {-1, 2};
        seqk_tensor *X = tu_f32(ctx, 3, xd, NULL), *X2 = tu_f32(ctx, 2, x2, NULL);
        seqk_tensor *Xi = tu_f32(ctx, 3, xi, NULL), *Xint = NULL;
        TU_OK(ctx, seqk_tensor_create(ctx, 3, xd, SEQK_I32, &Xint));
        seqk_tensor *h = tu_f32(ctx, 3, sd, NULL), *hbad = tu_f32(ctx, 3, sbad, NULL);
        seqk_tensor *h2 = tu_f32(ctx, 3, sd, NULL);
        seqk_tensor *Lhi = tu_i32(ctx, 1, ld, lens_hi), *Lneg = tu_i32(ctx, 1, ld, lens_neg);
        seqk_tensor *L3 = tu_i32(ctx, 1, ld3, NULL), *Lf = tu_f32(ctx, 1, ld, NULL);
        seqk_tensor *Y = tu_f32(ctx, 4, yd, NULL), *Ybad = tu_f32(ctx, 4, ybad, NULL);

        TU_FAILS(NULL, seqk_rnn_forward(NULL, X, NULL, NULL, NULL, Y, NULL, NULL),
                 SEQK_ERR_INVALID_ARG, "rnn is NULL");
        TU_FAILS(ctx, seqk_rnn_forward(rnn, NULL, NULL, NULL, NULL, Y, NULL, NULL),
                 SEQK_ERR_INVALID_ARG, "X is NULL");
        TU_FAILS(ctx, seqk_rnn_forward(rnn, X2, NULL, NULL, NULL, Y, NULL, NULL),
                 SEQK_ERR_SHAPE, "expected rank 3");
        TU_FAILS(ctx, seqk_rnn_forward(rnn, Xi, NULL, NULL, NULL, Y, NULL, NULL),
                 SEQK_ERR_SHAPE, "X has shape [3,2,4] but input_size=5 needs [3,2,5]");
        TU_FAILS(ctx, seqk_rnn_forward(rnn, Xint, NULL, NULL, NULL, Y, NULL, NULL),
                 SEQK_ERR_DTYPE, "X has dtype i32");
        TU_FAILS(ctx, seqk_rnn_forward(rnn, X, Lf, NULL, NULL, Y, NULL, NULL),
                 SEQK_ERR_DTYPE, "sequence_lens");
        TU_FAILS(ctx, seqk_rnn_forward(rnn, X, L3, NULL, NULL, Y, NULL, NULL),
                 SEQK_ERR_SHAPE, "sequence_lens has shape [3]");
        TU_FAILS(ctx, seqk_rnn_forward(rnn, X, Lhi, NULL, NULL, Y, NULL, NULL),
                 SEQK_ERR_INVALID_ARG, "sequence_lens[1] is 4; expected 0..3");
        TU_FAILS(ctx, seqk_rnn_forward(rnn, X, Lneg, NULL, NULL, Y, NULL, NULL),
                 SEQK_ERR_INVALID_ARG, "sequence_lens[0] is -1");
        TU_FAILS(ctx, seqk_rnn_forward(rnn, X, NULL, hbad, NULL, Y, NULL, NULL),
                 SEQK_ERR_SHAPE, "initial_h has shape [1,2,3] but");
        ck_assert_ptr_nonnull(strstr(seqk_last_error(ctx), "hidden_size=4 needs [1,2,4]"));
        TU_FAILS(ctx, seqk_rnn_forward(rnn, X, NULL, NULL, NULL, Y, hbad, NULL),
                 SEQK_ERR_SHAPE, "Y_h has shape [1,2,3]");
        TU_FAILS(ctx, seqk_rnn_forward(gru, X, NULL, h, h2, Y, NULL, NULL),
                 SEQK_ERR_INVALID_ARG, "initial_c is for LSTM only");
        TU_FAILS(ctx, seqk_rnn_forward(rnn, X, NULL, NULL, NULL, Y, h, h2),
                 SEQK_ERR_INVALID_ARG, "Y_c is for LSTM only");
        TU_FAILS(ctx, seqk_rnn_forward(rnn, X, NULL, NULL, NULL, Ybad, NULL, NULL),
                 SEQK_ERR_SHAPE, "Y has shape [2,3,1,4] but");
        /* Y_h may be initial_h itself; other sharing is refused */
        TU_OK(ctx, seqk_rnn_forward(rnn, X, NULL, h, NULL, Y, h2, NULL));
        TU_OK(ctx, seqk_rnn_forward(rnn, X, NULL, h, NULL, NULL, h, NULL));
        seqk_rnn_desc_init(&d, SEQK_CELL_LSTM, H, H);
        seqk_rnn *lstm = NULL;
        TU_OK(ctx, seqk_rnn_create(ctx, &d, &lstm));
        const int64_t lw[3] = {1, 4 * H, H}, xs[3] = {1, B, H};
        seqk_tensor *LW = tu_f32(ctx, 3, lw, NULL), *XS = tu_f32(ctx, 3, xs, NULL);
        TU_OK(ctx, seqk_rnn_set_weights(lstm, 0, SEQK_WEIGHTS_ONNX, LW, LW, NULL, NULL));
        TU_FAILS(ctx, seqk_rnn_forward(lstm, XS, NULL, NULL, NULL, NULL, h, h),
                 SEQK_ERR_INVALID_ARG, "Y_h shares memory with Y_c");
        TU_FAILS(ctx, seqk_rnn_forward(lstm, XS, NULL, NULL, NULL, NULL, XS, NULL),
                 SEQK_ERR_INVALID_ARG, "Y_h shares memory with X");
        TU_FAILS(ctx, seqk_rnn_forward(lstm, XS, NULL, h, NULL, NULL, NULL, h),
                 SEQK_ERR_INVALID_ARG, "Y_c shares memory with initial_h");

        seqk_tensor *all[] = {W, R, GW, GR, X, X2, Xi, Xint, h, hbad, h2, Lhi, Lneg,
                              L3, Lf, Y, Ybad, LW, XS};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            seqk_tensor_destroy(all[i]);
        seqk_rnn_destroy(rnn);
        seqk_rnn_destroy(gru);
        seqk_rnn_destroy(lstm);
        seqk_context_destroy(ctx);
    }
}
END_TEST

TCase *rnn_errors_tcase(void)
{
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, test_errors_create);
    tcase_add_test(tc, test_errors_weights);
    tcase_add_test(tc, test_errors_forward);
    return tc;
}
