/*
 * rnn_weights.c — RNN weight formats: sizes and host-side conversion of
 * one layer between ONNX, PyTorch, cuDNN and oneDNN layouts.
 *
 * Every conversion goes through ONNX (the plan's own format):
 *
 *   ONNX / PYTORCH / CUDNN ("gate-major", only the gate order differs)
 *     W [D][G][H][I]   R [D][G][H][H]   B [D][2][G][H]  (Wb, Rb / b_ih, b_hh)
 *   ONEDNN (ldigo / ldgo)
 *     W [D][I][G][H]   R [D][H][G][H]   B [D][G][H], lbr GRU B [D][4][H]
 *
 * Gate orders, as "format slot k holds ONNX gate perm[k]":
 *   ONNX     LSTM i,o,f,c  -> 0,1,2,3      GRU z,r,h -> 0,1,2
 *   PYTORCH  LSTM i,f,g,o  -> 0,2,3,1      GRU r,z,n -> 1,0,2
 *   CUDNN    as PYTORCH (LSTM i,f,c,o; GRU r,z,h)
 *   ONEDNN   LSTM i,f,c,o  -> 0,2,3,1      GRU u,r,o -> 0,1,2
 *
 * oneDNN keeps one bias per gate: ONNX -> oneDNN sums Wb + Rb, oneDNN ->
 * ONNX puts it in Wb with Rb = 0.  Its linear-before-reset GRU keeps a
 * fourth bias bu' (the recurrent bias of the candidate, inside r.(...)):
 * B = [bz, br, bh, bu'] <-> Wb = [bz, br, bh], Rb = [0, 0, bu'] (the z, r
 * parts summed going to oneDNN).
 */
#include <stdlib.h>
#include <string.h>

#include "core/rnn_plan.h"

static const int perm_identity[4] = {0, 1, 2, 3};
static const int perm_lstm_ifco[4] = {0, 2, 3, 1}; /* i,f,c,o -> i,o,f,c */
static const int perm_gru_rzh[3] = {1, 0, 2};      /* r,z,h -> z,r,h */

int seqk__rnn_gates(seqk_cell cell)
{
    switch (cell) {
    case SEQK_CELL_RNN: return 1;
    case SEQK_CELL_LSTM: return 4;
    case SEQK_CELL_GRU: return 3;
    default: return 0;
    }
}

int seqk__rnn_funcs(seqk_cell cell)
{
    switch (cell) {
    case SEQK_CELL_RNN: return 1;
    case SEQK_CELL_LSTM: return 3;
    case SEQK_CELL_GRU: return 2;
    default: return 0;
    }
}

static const int *gate_perm(seqk_cell cell, seqk_weight_format fmt)
{
    if (fmt == SEQK_WEIGHTS_ONNX || cell == SEQK_CELL_RNN)
        return perm_identity;
    if (cell == SEQK_CELL_LSTM)
        return perm_lstm_ifco; /* PyTorch, cuDNN and oneDNN agree */
    return fmt == SEQK_WEIGHTS_ONEDNN ? perm_identity : perm_gru_rzh;
}

static const char *format_name(seqk_weight_format fmt)
{
    switch (fmt) {
    case SEQK_WEIGHTS_ONNX: return "ONNX";
    case SEQK_WEIGHTS_PYTORCH: return "PYTORCH";
    case SEQK_WEIGHTS_CUDNN: return "CUDNN";
    case SEQK_WEIGHTS_ONEDNN: return "ONEDNN";
    default: return "?";
    }
}

/* Number of biases per direction in oneDNN's layout. */
static int onednn_biases(seqk_cell cell, int lbr, int G)
{
    return cell == SEQK_CELL_GRU && lbr ? 4 : G;
}

seqk_status seqk__rnn_weight_sizes(seqk_context *ctx, seqk_cell cell,
                                   int lbr, int num_dirs, int64_t H,
                                   int64_t I, seqk_weight_format fmt,
                                   int64_t *w, int64_t *r, int64_t *b)
{
    const int G = seqk__rnn_gates(cell);
    if (G == 0)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "cell is %d; expected SEQK_CELL_RNN, _LSTM or _GRU",
                           (int)cell);
    if (lbr != 0 && lbr != 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "linear_before_reset is %d; expected 0 or 1", lbr);
    if (num_dirs != 1 && num_dirs != 2)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "num_directions is %d; expected 1 or 2", num_dirs);
    if (H < 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "hidden_size is %lld; expected >= 1", (long long)H);
    if (I < 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "input_size is %lld; expected >= 1", (long long)I);
    if (fmt < SEQK_WEIGHTS_ONNX || fmt > SEQK_WEIGHTS_ONEDNN)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "weight format is %d; expected SEQK_WEIGHTS_ONNX, "
                           "_PYTORCH, _CUDNN or _ONEDNN", (int)fmt);

    const int64_t nb = fmt == SEQK_WEIGHTS_ONEDNN
                           ? onednn_biases(cell, lbr, G) : 2 * G;
    const int64_t wd[4] = {num_dirs, G, H, I};
    const int64_t rd[4] = {num_dirs, G, H, H};
    const int64_t bd[3] = {num_dirs, nb, H};
    /* numel caps at INT64_MAX/16, so byte counts fit as well */
    if (seqk__numel(4, wd, w) || seqk__numel(4, rd, r) || seqk__numel(3, bd, b) ||
        (uint64_t)*w > SIZE_MAX / sizeof(float) ||
        (uint64_t)*r > SIZE_MAX / sizeof(float))
        return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                           "hidden_size=%lld, input_size=%lld: the weight "
                           "sizes overflow", (long long)H, (long long)I);
    return SEQK_OK;
}

/* in (format fmt) -> ONNX W/R/B.  B_in NULL gives zeros. */
static void to_onnx(seqk_cell cell, int lbr, int D, int64_t H, int64_t I,
                    seqk_weight_format fmt, const float *W_in,
                    const float *R_in, const float *B_in, float *W, float *R,
                    float *B)
{
    const int G = seqk__rnn_gates(cell);
    const int *perm = gate_perm(cell, fmt);
    const int64_t GH = G * H;

    if (fmt != SEQK_WEIGHTS_ONEDNN) {
        for (int d = 0; d < D; d++)
            for (int k = 0; k < G; k++) {
                const int64_t so = (d * G + k) * H, to = (d * G + perm[k]) * H;
                memcpy(W + to * I, W_in + so * I, (size_t)(H * I) * sizeof(float));
                memcpy(R + to * H, R_in + so * H, (size_t)(H * H) * sizeof(float));
                for (int half = 0; half < 2; half++)
                    for (int64_t h = 0; h < H; h++)
                        B[d * 2 * GH + half * GH + perm[k] * H + h] =
                            B_in ? B_in[d * 2 * GH + half * GH + k * H + h] : 0;
            }
        return;
    }

    const int nb = onednn_biases(cell, lbr, G);
    const int lbr_gru = cell == SEQK_CELL_GRU && lbr;
    memset(B, 0, (size_t)(D * 2 * GH) * sizeof(float));
    for (int d = 0; d < D; d++) {
        for (int k = 0; k < G; k++) {
            const int64_t row = (d * G + perm[k]) * H;
            for (int64_t h = 0; h < H; h++) {
                for (int64_t i = 0; i < I; i++)
                    W[(row + h) * I + i] = W_in[((d * I + i) * G + k) * H + h];
                for (int64_t j = 0; j < H; j++)
                    R[(row + h) * H + j] = R_in[((d * H + j) * G + k) * H + h];
                if (B_in)
                    B[d * 2 * GH + perm[k] * H + h] = B_in[(d * nb + k) * H + h];
            }
        }
        if (lbr_gru && B_in) /* bu': Rb of the candidate (ONNX gate h = 2) */
            for (int64_t h = 0; h < H; h++)
                B[d * 2 * GH + GH + 2 * H + h] = B_in[(d * 4 + 3) * H + h];
    }
}

/* ONNX W/R/B -> out (format fmt).  B_out may be NULL. */
static void from_onnx(seqk_cell cell, int lbr, int D, int64_t H, int64_t I,
                      seqk_weight_format fmt, const float *W, const float *R,
                      const float *B, float *W_out, float *R_out,
                      float *B_out)
{
    const int G = seqk__rnn_gates(cell);
    const int *perm = gate_perm(cell, fmt);
    const int64_t GH = G * H;

    if (fmt != SEQK_WEIGHTS_ONEDNN) {
        for (int d = 0; d < D; d++)
            for (int k = 0; k < G; k++) {
                const int64_t so = (d * G + perm[k]) * H, to = (d * G + k) * H;
                memcpy(W_out + to * I, W + so * I, (size_t)(H * I) * sizeof(float));
                memcpy(R_out + to * H, R + so * H, (size_t)(H * H) * sizeof(float));
                for (int half = 0; half < 2 && B_out; half++)
                    for (int64_t h = 0; h < H; h++)
                        B_out[d * 2 * GH + half * GH + k * H + h] =
                            B[d * 2 * GH + half * GH + perm[k] * H + h];
            }
        return;
    }

    const int nb = onednn_biases(cell, lbr, G);
    const int lbr_gru = cell == SEQK_CELL_GRU && lbr;
    for (int d = 0; d < D; d++) {
        const float *Wb = B + d * 2 * GH, *Rb = Wb + GH;
        for (int k = 0; k < G; k++) {
            const int64_t row = (d * G + perm[k]) * H;
            for (int64_t h = 0; h < H; h++) {
                for (int64_t i = 0; i < I; i++)
                    W_out[((d * I + i) * G + k) * H + h] = W[(row + h) * I + i];
                for (int64_t j = 0; j < H; j++)
                    R_out[((d * H + j) * G + k) * H + h] = R[(row + h) * H + j];
            }
        }
        if (!B_out)
            continue;
        for (int k = 0; k < G; k++) {
            const int64_t g = perm[k] * H;
            /* lbr GRU keeps the candidate's Rb apart as bu' */
            const int sum = !(lbr_gru && perm[k] == 2);
            for (int64_t h = 0; h < H; h++)
                B_out[(d * nb + k) * H + h] = Wb[g + h] + (sum ? Rb[g + h] : 0);
        }
        if (lbr_gru)
            for (int64_t h = 0; h < H; h++)
                B_out[(d * 4 + 3) * H + h] = Rb[2 * H + h];
    }
}

seqk_status seqk__rnn_convert(seqk_context *ctx, seqk_cell cell, int lbr,
                              int num_dirs, int64_t H, int64_t I,
                              seqk_weight_format from, seqk_weight_format to,
                              const float *W_in, const float *R_in,
                              const float *B_in, float *W_out, float *R_out,
                              float *B_out)
{
    int64_t nw, nr, nb, nw2, nr2, nb2;
    seqk_status st;

    st = seqk__rnn_weight_sizes(ctx, cell, lbr, num_dirs, H, I, from, &nw, &nr, &nb);
    if (st != SEQK_OK)
        return st;
    st = seqk__rnn_weight_sizes(ctx, cell, lbr, num_dirs, H, I, to, &nw2, &nr2, &nb2);
    if (st != SEQK_OK)
        return st;
    if (cell == SEQK_CELL_GRU && !lbr) {
        seqk_weight_format f = from == SEQK_WEIGHTS_PYTORCH ||
                                       from == SEQK_WEIGHTS_CUDNN ? from : to;
        if (f == SEQK_WEIGHTS_PYTORCH || f == SEQK_WEIGHTS_CUDNN)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "%s GRU weights are linear_before_reset=1, but "
                               "linear_before_reset=0 was asked: set it to 1",
                               format_name(f));
    }
    if (!W_in || !R_in)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG, "%s is NULL; expected "
                           "the input weights", !W_in ? "W_in" : "R_in");
    if (!W_out || !R_out)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG, "%s is NULL; expected "
                           "room for the output weights",
                           !W_out ? "W_out" : "R_out");

    /* ONNX temporaries: nb of ONNX = D*2*G*H, whatever the formats */
    const int64_t nb_onnx = (int64_t)num_dirs * 2 * seqk__rnn_gates(cell) * H;
    const size_t total = (size_t)nw + (size_t)nr + (size_t)nb_onnx;
    if (total < (size_t)nw || total > SIZE_MAX / sizeof(float))
        return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                           "hidden_size=%lld, input_size=%lld: the weight "
                           "sizes overflow", (long long)H, (long long)I);
    float *tmp = malloc(total * sizeof(float));
    if (!tmp)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "out of memory converting RNN weights "
                           "(%zu bytes)", total * sizeof(float));
    float *W = tmp, *R = W + nw, *B = R + nr;

    to_onnx(cell, lbr, num_dirs, H, I, from, W_in, R_in, B_in, W, R, B);
    from_onnx(cell, lbr, num_dirs, H, I, to, W, R, B, W_out, R_out, B_out);
    free(tmp);
    return SEQK_OK;
}

seqk_status seqk_rnn_convert_weights(seqk_cell cell, int linear_before_reset,
                                     int num_directions, int64_t hidden_size,
                                     int64_t input_size,
                                     seqk_weight_format from,
                                     seqk_weight_format to,
                                     const float *W_in, const float *R_in,
                                     const float *B_in, float *W_out,
                                     float *R_out, float *B_out)
{
    if (!B_out)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "B_out is NULL; expected room for the %s bias",
                           format_name(to));
    return seqk__rnn_convert(NULL, cell, linear_before_reset, num_directions,
                             hidden_size, input_size, from, to, W_in, R_in,
                             B_in, W_out, R_out, B_out);
}

seqk_status seqk_rnn_weight_sizes(seqk_cell cell, int linear_before_reset,
                                  int num_directions, int64_t hidden_size,
                                  int64_t input_size, seqk_weight_format fmt,
                                  size_t *w_count, size_t *r_count,
                                  size_t *b_count)
{
    int64_t w, r, b;
    if (!w_count || !r_count || !b_count)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "%s is NULL; expected a place for the count",
                           !w_count ? "w_count" : !r_count ? "r_count"
                                                           : "b_count");
    seqk_status st = seqk__rnn_weight_sizes(NULL, cell, linear_before_reset,
                                            num_directions, hidden_size,
                                            input_size, fmt, &w, &r, &b);
    if (st != SEQK_OK)
        return st;
    *w_count = (size_t)w;
    *r_count = (size_t)r;
    *b_count = (size_t)b;
    return SEQK_OK;
}
