/*
 * rnn_plan.h — the RNN plan object (seqk_rnn) and the weight-conversion
 * helpers shared by op_rnn.c (create / set_weights / forward) and
 * rnn_weights.c (format converters).
 *
 * A plan keeps every layer's weights in ONNX order on the host:
 *   W [D, G*H, I_l]   R [D, G*H, H]   B [D, 2*G*H] or NULL   P [D, 3*H] or NULL
 * with I_0 = desc.input_size and I_l = D*H for l > 0.
 */
#ifndef SEQK_CORE_RNN_PLAN_H
#define SEQK_CORE_RNN_PLAN_H

#include "core/internal.h"

typedef struct seqk_rnn_layer_weights {
    int64_t input_size; /* I of this layer */
    float *block;       /* one allocation holding W, R, B, P */
    float *W, *R, *B, *P;
    seqk_backend_cache cache; /* a backend's prepacked copy, see problems.h */
} seqk_rnn_layer_weights;

/* Frees a layer's backend cache (weights changed or plan destroyed). */
void seqk__rnn_cache_clear(seqk_backend_cache *cache);

struct seqk_rnn {
    seqk_context *ctx;
    seqk_rnn_desc desc;
    int num_dirs;   /* D */
    int num_gates;  /* G */
    seqk_activation act[6]; /* act[d*3 + k], expanded to both directions */
    seqk_rnn_layer_weights *layers; /* [num_layers]; block NULL: not set */
    struct seqk_rnn_train *train;   /* gradients (op_rnn_train.c); NULL: none yet */
};

/* op_rnn_train.c: frees rnn->train (seqk_rnn_destroy). */
void seqk__rnn_train_free(seqk_rnn *rnn);
/* op_rnn.c, for op_rnn_train.c: seqk_rnn_forward's checks of a call
 * (sets *T, *B from X), and layer l's problem with the inner layer
 * outputs in inner[l] ([T,B,D,H] each, l < L-1). */
seqk_status seqk__rnn_check_call(const seqk_rnn *rnn, const seqk_tensor *X,
                                 const seqk_tensor *sequence_lens,
                                 const seqk_tensor *initial_h,
                                 const seqk_tensor *initial_c,
                                 const seqk_tensor *Y, const seqk_tensor *Y_h,
                                 const seqk_tensor *Y_c, int64_t *T,
                                 int64_t *B);
void seqk__rnn_layer_problem(const seqk_rnn *rnn, const seqk_tensor *X,
                             const int32_t *lens, const seqk_tensor *initial_h,
                             const seqk_tensor *initial_c, seqk_tensor *Y,
                             seqk_tensor *Y_h, seqk_tensor *Y_c, int64_t T,
                             int64_t B, float *const *inner, int l,
                             seqk_rnn_layer_problem *p);

/* Gates per cell (1, 4, 3) and activation functions per direction (1, 3,
 * 2); 0 for an unknown cell. */
int seqk__rnn_gates(seqk_cell cell);
const char *seqk__rnn_cell_name(seqk_cell cell); /* "LSTM", "GRU", "RNN" */
/* Layer and weight format of a set/get of one layer's weights or
 * gradients (SEQK_OK or the error, set on rnn's context); has_p: the
 * peephole tensor named pname was given. */
seqk_status seqk__rnn_check_layer_format(const seqk_rnn *rnn, int layer,
                                         seqk_weight_format format,
                                         int has_p, const char *pname);
int seqk__rnn_funcs(seqk_cell cell);

/* Floats of W, R and B for one layer in fmt (see seqk.h), overflow-checked;
 * errors are recorded on ctx (NULL: thread-local). */
seqk_status seqk__rnn_weight_sizes(seqk_context *ctx, seqk_cell cell,
                                   int lbr, int num_dirs, int64_t H,
                                   int64_t I, seqk_weight_format fmt,
                                   int64_t *w, int64_t *r, int64_t *b);

/* seqk_rnn_convert_weights with errors recorded on ctx.  B_in NULL means a
 * zero bias; B_out NULL skips the bias.  Inputs and outputs may overlap
 * (the conversion goes through a temporary ONNX copy). */
seqk_status seqk__rnn_convert(seqk_context *ctx, seqk_cell cell, int lbr,
                              int num_dirs, int64_t H, int64_t I,
                              seqk_weight_format from, seqk_weight_format to,
                              const float *W_in, const float *R_in,
                              const float *B_in, float *W_out, float *R_out,
                              float *B_out);

#endif /* SEQK_CORE_RNN_PLAN_H */
