/*
 * seq2seq_model.h — the encoder-decoder of seq2seq_decode.c on seqk's
 * public API: the model (weights on the device, plans), one batch's run
 * state, the encoder and the step loop.  The diagram is in
 * seq2seq_decode.c.
 */
#ifndef SEQK_EXAMPLE_SEQ2SEQ_MODEL_H
#define SEQK_EXAMPLE_SEQ2SEQ_MODEL_H

#include <stdint.h>

#include "seqk.h"

#define S2S_BOS 1 /* the first input token of every sentence */

/* Host weights in PyTorch layouts (see bench/decode_torch.py). */
typedef struct s2s_weights {
    int64_t V, E, He, Hd, A; /* vocab, embedding, encoder H per direction,
                                decoder H (= 2 He), attention size */
    int64_t B, S;            /* source sentences and their padded length */
    float *emb;              /* [V,E] */
    float *enc_W, *enc_R, *enc_B; /* [2,4He,E] [2,4He,He] [2,8He] */
    float *dec_W, *dec_R, *dec_B; /* [1,4Hd,E+2He] [1,4Hd,Hd] [1,8Hd] */
    float *W1, *W2, *v;      /* [A,Hd] [A,2He] [A] */
    float *out_W, *out_b;    /* [V,Hd+2He] [V] */
    int64_t *src;            /* [B,S] */
    int32_t *lens;           /* [B], 1..S */
} s2s_weights;

typedef struct s2s_model {
    seqk_context *ctx;
    int64_t V, E, He, Hd, A;
    seqk_tensor *emb, *W1, *W2, *v;
    seqk_rnn *enc, *dec;
    seqk_linear *out;
    /* set before s2s_model_create: the decoder LSTM and the output layer
     * (the plans a step streams) keep bf16 weights (weight_dtype) */
    int bf16;
} s2s_model;

/* The tensors of one batch: B sentences, K beams, R = B*K rows. */
typedef struct s2s_run {
    int64_t B, K, R, S;
    seqk_tensor *src, *lens;           /* [B,S] i64, [B] i32 */
    seqk_tensor *enc_x, *enc_y;        /* [B,S,E], [B,S,2,He] */
    seqk_tensor *enc_h, *enc_c;        /* [B,2,He] */
    seqk_tensor *keys, *h0, *c0;       /* views [B,S,2He], [1,B,Hd] */
    seqk_tensor *rep;                  /* [R] i64: r / K (beam) */
    seqk_tensor *keys_r, *keys_r3, *lens_r; /* keys, lens per row (beam) */
    seqk_seq_attention_keys *att;
    seqk_tensor *ids;                  /* [R] i64: this step's input */
    seqk_tensor *e, *x, *x3;           /* [R,E], [R,E+2He] + view [1,R,.] */
    seqk_tensor *h[2], *c[2], *h2[2], *c2[2]; /* [1,R,Hd] + [R,Hd] views */
    seqk_tensor *ctxv[2];              /* [R,2He] */
    seqk_tensor *hc, *logits;          /* [R,Hd+2He], [R,V] */
    seqk_tensor *probs, *topv, *topi, *parent; /* beam: [R,V] [R,K] [R,K] [R] */
    /* host side */
    int64_t *ids_host, *parent_host, *hist_tok, *hist_par;
    float *topv_host, *score;
    int64_t *topi_host;
    long hist_steps;
} s2s_run;

/* What --profile times per step, in order. */
enum { S2S_OP_GATHER, S2S_OP_CONCAT_IN, S2S_OP_LSTM, S2S_OP_ATTENTION,
       S2S_OP_CONCAT_OUT, S2S_OP_LINEAR, S2S_OP_PICK, S2S_OPS };
extern const char *const s2s_op_names[S2S_OPS];

/* Each returns 0, or -1 after printing what failed. */
int s2s_model_create(s2s_model *m, const s2s_weights *w);
void s2s_model_destroy(s2s_model *m);
int s2s_run_create(s2s_model *m, s2s_run *r, int64_t B, int64_t K);
void s2s_run_destroy(s2s_run *r);
/* The encoder over the first B sentences of w, the keyed attention plan
 * and the decoder's initial state. */
int s2s_encode(s2s_model *m, s2s_run *r, const s2s_weights *w);
/* steps decode steps; tokens [B,steps] (the best beam's with K > 1);
 * step_ms [steps] wall time of each step, op_ms [steps][S2S_OPS] with a
 * wait after each op (NULL: not timed). */
int s2s_decode(s2s_model *m, s2s_run *r, long steps, int64_t *tokens,
               double *step_ms, double *op_ms);

#endif
