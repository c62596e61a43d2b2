/*
 * test_rnn.h — helpers test_rnn.c shares with the property and error
 * tests (test_rnn_props.c, test_rnn_errors.c): random weights, one plan run
 * from host arrays, and the extra test cases.
 */
#ifndef SEQK_TEST_RNN_H
#define SEQK_TEST_RNN_H

#include "testutil.h"

/* ONNX-format weights of one layer: W [D,GH,I] R [D,GH,H] B [D,2GH] P [D,3H]. */
typedef struct rnn_weights {
    float *W, *R, *B, *P;
} rnn_weights;
/* Everything one seqk_rnn_forward call needs, host side.  Weights are
 * given per layer in fmt; X, states and outputs in desc.layout. */
typedef struct rnn_io {
    seqk_rnn_desc desc;
    int64_t T, B;
    seqk_weight_format fmt;
    const float *W[4], *R[4], *Bias[4], *P[4];
    const float *X;
    const int32_t *lens;
    const float *h0, *c0;
    int state_alias;    /* pass initial_h as Y_h and initial_c as Y_c */
    float *Y, *Yh, *Yc; /* filled by rnn_run (malloc'd) */
} rnn_io;
int rnn_gates(seqk_cell cell);
void rnn_weights_rand(tu_rng *r, seqk_cell cell, int D, int64_t H, int64_t I,
                      int bias, int peep, rnn_weights *w);
void rnn_weights_free(rnn_weights *w);
void rnn_run(seqk_context *ctx, rnn_io *io);
void rnn_io_free(rnn_io *io);

TCase *rnn_props_tcase(void);
TCase *rnn_errors_tcase(void);

#endif
