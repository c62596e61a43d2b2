/*
 * seq2seq_model.c — the model, encoder and decode steps of
 * seq2seq_decode.c (diagram there), public seqk API only.
 *
 * Decoder state of a batch, R = B*K rows (row r = b*K + k):
 *   h[i], c[i]  [1,R,Hd]  LSTM states, ping-pong (h2/c2: [R,Hd] views)
 *   ctxv[i]     [R,2He]   attention context; ping-pong only for beams
 *   x           [R,E+2He] LSTM input [e; ctx]   (x3: [1,R,.] view)
 *   hc          [R,Hd+2He] output layer input [h; ctx]
 * Greedy (K = 1) decodes the first step from the encoder's final states
 * (views h0/c0, no copy), then alternates h[0] and h[1].  Beams keep the
 * state in h[0]/c[0]: the LSTM writes h[1]/c[1] and Gather copies the
 * surviving rows back in the beams' new order.
 */
#define _POSIX_C_SOURCE 200809L
#include "seq2seq_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const s2s_op_names[S2S_OPS] = {
    "gather", "concat_in", "lstm", "attention", "concat_out", "linear",
    "pick"};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* Prints the failed call and the library's message; returns -1. */
static int report(seqk_context *ctx, const char *what)
{
    fprintf(stderr, "%s: %s\n", what, seqk_last_error(ctx));
    return -1;
}

#define TRY(expr)                                                          \
    do {                                                                   \
        if ((expr) != SEQK_OK) {                                           \
            rc = report(m->ctx, #expr);                                    \
            goto cleanup;                                                  \
        }                                                                  \
    } while (0)

static seqk_status tensor(seqk_context *ctx, int nd, const int64_t *dims,
                          seqk_dtype dt, const void *host, seqk_tensor **t)
{
    seqk_status st = seqk_tensor_create(ctx, nd, dims, dt, t);
    if (st == SEQK_OK && host)
        st = seqk_tensor_write(*t, host, seqk_tensor_bytes(*t));
    return st;
}

/* ------------------------------------------------------------- model */

static int set_lstm(s2s_model *m, seqk_rnn *rnn, int64_t D, int64_t H,
                    int64_t I, const float *W, const float *R, const float *B)
{
    int rc = 0;
    seqk_tensor *tw = NULL, *tr = NULL, *tb = NULL;
    const int64_t dw[3] = {D, 4 * H, I}, dr[3] = {D, 4 * H, H};
    const int64_t db[2] = {D, 8 * H};
    TRY(tensor(m->ctx, 3, dw, SEQK_F32, W, &tw));
    TRY(tensor(m->ctx, 3, dr, SEQK_F32, R, &tr));
    TRY(tensor(m->ctx, 2, db, SEQK_F32, B, &tb));
    TRY(seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_PYTORCH, tw, tr, tb, NULL));
cleanup:
    seqk_tensor_destroy(tw);
    seqk_tensor_destroy(tr);
    seqk_tensor_destroy(tb);
    return rc;
}

int s2s_model_create(s2s_model *m, const s2s_weights *w)
{
    int rc = 0;
    seqk_tensor *ow = NULL, *ob = NULL;
    m->V = w->V, m->E = w->E, m->He = w->He, m->Hd = w->Hd, m->A = w->A;
    const int64_t de[2] = {w->V, w->E}, d1[2] = {w->A, w->Hd};
    const int64_t d2[2] = {w->A, 2 * w->He}, dv[1] = {w->A};
    const int64_t O = w->Hd + 2 * w->He, dow[2] = {w->V, O}, dob[1] = {w->V};
    TRY(tensor(m->ctx, 2, de, SEQK_F32, w->emb, &m->emb));
    TRY(tensor(m->ctx, 2, d1, SEQK_F32, w->W1, &m->W1));
    TRY(tensor(m->ctx, 2, d2, SEQK_F32, w->W2, &m->W2));
    TRY(tensor(m->ctx, 1, dv, SEQK_F32, w->v, &m->v));

    seqk_rnn_desc d;
    seqk_rnn_desc_init(&d, SEQK_CELL_LSTM, w->E, w->He);
    d.direction = SEQK_BIDIRECTIONAL;
    d.layout = 1; /* Y [B,S,2,He]: the attention's keys [B,S,2He] as is */
    TRY(seqk_rnn_create(m->ctx, &d, &m->enc));
    if (set_lstm(m, m->enc, 2, w->He, w->E, w->enc_W, w->enc_R, w->enc_B))
        return -1;
    seqk_rnn_desc_init(&d, SEQK_CELL_LSTM, w->E + 2 * w->He, w->Hd);
    d.weight_dtype = m->bf16 ? SEQK_BF16 : SEQK_F32;
    TRY(seqk_rnn_create(m->ctx, &d, &m->dec));
    if (set_lstm(m, m->dec, 1, w->Hd, w->E + 2 * w->He, w->dec_W, w->dec_R,
                 w->dec_B))
        return -1;

    seqk_linear_desc ld;
    seqk_linear_desc_init(&ld, O, w->V); /* nn.Linear's weight [V,O] */
    ld.weight_dtype = m->bf16 ? SEQK_BF16 : SEQK_F32;
    TRY(tensor(m->ctx, 2, dow, SEQK_F32, w->out_W, &ow));
    TRY(tensor(m->ctx, 1, dob, SEQK_F32, w->out_b, &ob));
    TRY(seqk_linear_create(m->ctx, &ld, ow, ob, &m->out));
cleanup:
    seqk_tensor_destroy(ow); /* the plan keeps its own copy */
    seqk_tensor_destroy(ob);
    return rc;
}

void s2s_model_destroy(s2s_model *m)
{
    seqk_linear_destroy(m->out);
    seqk_rnn_destroy(m->enc);
    seqk_rnn_destroy(m->dec);
    seqk_tensor_destroy(m->emb);
    seqk_tensor_destroy(m->W1);
    seqk_tensor_destroy(m->W2);
    seqk_tensor_destroy(m->v);
    seqk_context_destroy(m->ctx); /* goes with the last plan or tensor */
    memset(m, 0, sizeof *m);
}

/* --------------------------------------------------------------- run */

int s2s_run_create(s2s_model *m, s2s_run *r, int64_t B, int64_t K)
{
    int rc = 0;
    seqk_context *ctx = m->ctx;
    const int64_t R = B * K, He = m->He, Hd = m->Hd, E = m->E;
    r->B = B, r->K = K, r->R = R;
    r->ids_host = calloc((size_t)R, sizeof *r->ids_host);
    r->parent_host = calloc((size_t)R, sizeof *r->parent_host);
    r->score = calloc((size_t)R, sizeof *r->score);
    r->topv_host = calloc((size_t)(R * K), sizeof *r->topv_host);
    r->topi_host = calloc((size_t)(R * K), sizeof *r->topi_host);
    if (!r->ids_host || !r->parent_host || !r->score || !r->topv_host ||
        !r->topi_host) {
        fprintf(stderr, "out of memory\n");
        return -1;
    }
    const int64_t dlen[1] = {B}, dR[1] = {R}, de[2] = {R, E};
    const int64_t dx[2] = {R, E + 2 * He}, dx3[3] = {1, R, E + 2 * He};
    const int64_t dh[3] = {1, R, Hd}, dh2[2] = {R, Hd};
    const int64_t dctx[2] = {R, 2 * He}, dhc[2] = {R, Hd + 2 * He};
    const int64_t dlog[2] = {R, m->V}, dtop[2] = {R, K};
    TRY(tensor(ctx, 1, dlen, SEQK_I32, NULL, &r->lens));
    TRY(tensor(ctx, 1, dR, SEQK_I64, NULL, &r->ids));
    TRY(tensor(ctx, 2, de, SEQK_F32, NULL, &r->e));
    TRY(tensor(ctx, 2, dx, SEQK_F32, NULL, &r->x));
    TRY(seqk_tensor_reshape_view(r->x, 3, dx3, &r->x3));
    for (int i = 0; i < 2; i++) {
        TRY(tensor(ctx, 3, dh, SEQK_F32, NULL, &r->h[i]));
        TRY(tensor(ctx, 3, dh, SEQK_F32, NULL, &r->c[i]));
        TRY(seqk_tensor_reshape_view(r->h[i], 2, dh2, &r->h2[i]));
        TRY(seqk_tensor_reshape_view(r->c[i], 2, dh2, &r->c2[i]));
        TRY(tensor(ctx, 2, dctx, SEQK_F32, NULL, &r->ctxv[i]));
    }
    TRY(tensor(ctx, 2, dhc, SEQK_F32, NULL, &r->hc));
    TRY(tensor(ctx, 2, dlog, SEQK_F32, NULL, &r->logits));
    if (K > 1) {
        int64_t *rep = r->parent_host;
        for (int64_t i = 0; i < R; i++)
            rep[i] = i / K;
        TRY(tensor(ctx, 1, dR, SEQK_I64, rep, &r->rep));
        TRY(tensor(ctx, 1, dR, SEQK_I32, NULL, &r->lens_r));
        TRY(tensor(ctx, 2, dlog, SEQK_F32, NULL, &r->probs));
        TRY(tensor(ctx, 2, dtop, SEQK_F32, NULL, &r->topv));
        TRY(tensor(ctx, 2, dtop, SEQK_I64, NULL, &r->topi));
        TRY(tensor(ctx, 1, dR, SEQK_I64, NULL, &r->parent));
    }
cleanup:
    return rc;
}

/* The tensors that depend on the source length S (made at first encode). */
static int run_source_tensors(s2s_model *m, s2s_run *r, int64_t S)
{
    int rc = 0;
    seqk_context *ctx = m->ctx;
    const int64_t B = r->B, R = r->R, He = m->He, Hd = m->Hd;
    const int64_t ds[2] = {B, S}, dx[3] = {B, S, m->E};
    const int64_t dy[4] = {B, S, 2, He}, dk[3] = {B, S, 2 * He};
    const int64_t dst[3] = {B, 2, He}, d0[3] = {1, B, Hd};
    const int64_t dk2[2] = {B, S * 2 * He}, dkr[2] = {R, S * 2 * He};
    const int64_t dkr3[3] = {R, S, 2 * He}, dhB[2] = {B, Hd};
    r->S = S;
    TRY(tensor(ctx, 2, ds, SEQK_I64, NULL, &r->src));
    TRY(tensor(ctx, 3, dx, SEQK_F32, NULL, &r->enc_x));
    TRY(tensor(ctx, 4, dy, SEQK_F32, NULL, &r->enc_y));
    TRY(tensor(ctx, 3, dst, SEQK_F32, NULL, &r->enc_h));
    TRY(tensor(ctx, 3, dst, SEQK_F32, NULL, &r->enc_c));
    if (r->K == 1) {
        TRY(seqk_tensor_reshape_view(r->enc_y, 3, dk, &r->keys));
        TRY(seqk_tensor_reshape_view(r->enc_h, 3, d0, &r->h0));
        TRY(seqk_tensor_reshape_view(r->enc_c, 3, d0, &r->c0));
    } else {
        /* beams: keys and states repeated per row (2-D views for Gather) */
        TRY(seqk_tensor_reshape_view(r->enc_y, 2, dk2, &r->keys));
        TRY(seqk_tensor_reshape_view(r->enc_h, 2, dhB, &r->h0));
        TRY(seqk_tensor_reshape_view(r->enc_c, 2, dhB, &r->c0));
        TRY(tensor(ctx, 2, dkr, SEQK_F32, NULL, &r->keys_r));
        TRY(seqk_tensor_reshape_view(r->keys_r, 3, dkr3, &r->keys_r3));
    }
cleanup:
    return rc;
}

void s2s_run_destroy(s2s_run *r)
{
    seqk_tensor *t[] = {r->src, r->lens, r->enc_x, r->enc_y, r->enc_h,
                        r->enc_c, r->keys, r->h0, r->c0, r->rep, r->keys_r,
                        r->keys_r3, r->lens_r, r->ids, r->e, r->x, r->x3,
                        r->h[0], r->h[1], r->c[0], r->c[1], r->h2[0],
                        r->h2[1], r->c2[0], r->c2[1], r->ctxv[0], r->ctxv[1],
                        r->hc, r->logits, r->probs, r->topv, r->topi,
                        r->parent};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        seqk_tensor_destroy(t[i]);
    seqk_seq_attention_keys_destroy(r->att);
    free(r->ids_host);
    free(r->parent_host);
    free(r->score);
    free(r->topv_host);
    free(r->topi_host);
    free(r->hist_tok);
    free(r->hist_par);
    memset(r, 0, sizeof *r);
}

int s2s_encode(s2s_model *m, s2s_run *r, const s2s_weights *w)
{
    int rc = 0;
    const int64_t B = r->B, R = r->R, K = r->K;
    float *zeros = NULL;
    if (!r->src && run_source_tensors(m, r, w->S))
        return -1;
    TRY(seqk_tensor_write(r->src, w->src, (size_t)(B * w->S) * sizeof *w->src));
    TRY(seqk_tensor_write(r->lens, w->lens, (size_t)B * sizeof *w->lens));
    TRY(seqk_gather(m->ctx, 0, m->emb, r->src, r->enc_x));
    TRY(seqk_rnn_forward(m->enc, r->enc_x, r->lens, NULL, NULL, r->enc_y,
                         r->enc_h, r->enc_c));
    seqk_seq_attention_params ap;
    seqk_seq_attention_params_init(&ap);
    ap.score = SEQK_SCORE_ADDITIVE;
    seqk_seq_attention_inputs in;
    memset(&in, 0, sizeof in);
    in.keys = r->keys, in.key_lens = r->lens;
    in.W1 = m->W1, in.W2 = m->W2, in.v = m->v;
    if (K > 1) {
        TRY(seqk_gather(m->ctx, 0, r->keys, r->rep, r->keys_r));
        TRY(seqk_gather(m->ctx, 0, r->lens, r->rep, r->lens_r));
        TRY(seqk_gather(m->ctx, 0, r->h0, r->rep, r->h2[0]));
        TRY(seqk_gather(m->ctx, 0, r->c0, r->rep, r->c2[0]));
        in.keys = r->keys_r3, in.key_lens = r->lens_r;
        for (int64_t i = 0; i < R; i++) /* only beam 0 is live at first */
            r->score[i] = i % K ? -INFINITY : 0.0f;
    }
    seqk_seq_attention_keys_destroy(r->att);
    r->att = NULL;
    TRY(seqk_seq_attention_keys_create(m->ctx, &ap, &in, &r->att));
    /* the first step's input: BOS and a zero context */
    if (!(zeros = calloc(seqk_tensor_bytes(r->ctxv[0]) + 1, 1))) {
        rc = report(NULL, "out of memory");
        goto cleanup;
    }
    TRY(seqk_tensor_write(r->ctxv[0], zeros, seqk_tensor_bytes(r->ctxv[0])));
    for (int64_t i = 0; i < R; i++)
        r->ids_host[i] = S2S_BOS;
    TRY(seqk_tensor_write(r->ids, r->ids_host, (size_t)R * sizeof *r->ids_host));
    TRY(seqk_context_synchronize(m->ctx)); /* encoder time ends here */
cleanup:
    free(zeros);
    return rc;
}

/* ------------------------------------------------------------ decode */

/* Beam search on the host: from each live row's K most likely tokens
 * (probabilities in topv, ids in topi, [R,K]) the K best extensions per
 * sentence by summed log-probability; ties go to the lower row, then the
 * more likely token, as the enumeration order.  Fills parent_host and
 * ids_host and the step's history. */
static void beam_select(s2s_run *r, long t)
{
    const int64_t K = r->K;
    for (int64_t b = 0; b < r->B; b++) {
        float best_s[64];
        int64_t best_row[64], best_tok[64];
        int64_t n = 0;
        for (int64_t k = 0; k < K; k++) {
            const int64_t row = b * K + k;
            if (r->score[row] == -INFINITY)
                continue;
            for (int64_t j = 0; j < K; j++) {
                const float s = r->score[row] + logf(r->topv_host[row * K + j]);
                /* insert into the sorted list of the K best */
                int64_t pos = n < K ? n : K;
                while (pos > 0 && s > best_s[pos - 1])
                    pos--;
                if (pos >= K)
                    continue;
                int64_t last = n < K ? n : K - 1;
                for (int64_t q = last; q > pos; q--) {
                    best_s[q] = best_s[q - 1];
                    best_row[q] = best_row[q - 1];
                    best_tok[q] = best_tok[q - 1];
                }
                best_s[pos] = s;
                best_row[pos] = row;
                best_tok[pos] = r->topi_host[row * K + j];
                if (n < K)
                    n++;
            }
        }
        for (int64_t k = 0; k < K; k++) {
            const int64_t row = b * K + k;
            r->score[row] = k < n ? best_s[k] : -INFINITY;
            r->parent_host[row] = k < n ? best_row[k] : b * K;
            r->ids_host[row] = k < n ? best_tok[k] : S2S_BOS;
            r->hist_par[t * r->R + row] = r->parent_host[row];
            r->hist_tok[t * r->R + row] = r->ids_host[row];
        }
    }
}

int s2s_decode(s2s_model *m, s2s_run *r, long steps, int64_t *tokens,
               double *step_ms, double *op_ms)
{
    int rc = 0;
    seqk_context *ctx = m->ctx;
    const int64_t R = r->R, K = r->K;
    if (K > 64) {
        fprintf(stderr, "beam width %lld: at most 64\n", (long long)K);
        return -1;
    }
    if (K > 1 && r->hist_steps < steps) {
        free(r->hist_tok);
        free(r->hist_par);
        r->hist_tok = malloc((size_t)(steps * R) * sizeof *r->hist_tok);
        r->hist_par = malloc((size_t)(steps * R) * sizeof *r->hist_par);
        if (!r->hist_tok || !r->hist_par) {
            r->hist_steps = 0;
            return report(NULL, "out of memory");
        }
        r->hist_steps = steps;
    }
    seqk_argmax_params amax;
    seqk_argmax_params_init(&amax);
    amax.axis = 1, amax.keepdims = 0;
    seqk_topk_params tk;
    seqk_topk_params_init(&tk, K);
    int o = 0, cc = 0;
    const seqk_tensor *hin = K == 1 ? r->h0 : r->h[0];
    const seqk_tensor *cin = K == 1 ? r->c0 : r->c[0];
    for (long t = 0; t < steps; t++) {
        const double t0 = now_ms();
        double tp = t0;
        double *om = op_ms ? op_ms + t * S2S_OPS : NULL;
        /* --profile: wait after each op and charge its time */
#define OP(k, expr)                                                        \
    do {                                                                   \
        TRY(expr);                                                         \
        if (om) {                                                          \
            TRY(seqk_context_synchronize(ctx));                            \
            const double tn_ = now_ms();                                   \
            om[k] += tn_ - tp;                                             \
            tp = tn_;                                                      \
        }                                                                  \
    } while (0)
        if (K > 1)
            o = 1; /* beams: state in h[0]/c[0], the LSTM writes h[1]/c[1] */
        const seqk_tensor *xin[2] = {r->e, r->ctxv[cc]};
        const seqk_tensor *hcin[2] = {r->h2[o], r->ctxv[cc]};
        OP(S2S_OP_GATHER, seqk_gather(ctx, 0, m->emb, r->ids, r->e));
        OP(S2S_OP_CONCAT_IN, seqk_concat(ctx, 1, 2, xin, r->x));
        OP(S2S_OP_LSTM, seqk_rnn_forward(m->dec, r->x3, NULL, hin, cin, NULL,
                                         r->h[o], r->c[o]));
        OP(S2S_OP_ATTENTION, seqk_seq_attention_keyed(ctx, r->att, r->h2[o],
                                                      r->ctxv[cc], NULL));
        OP(S2S_OP_CONCAT_OUT, seqk_concat(ctx, 1, 2, hcin, r->hc));
        OP(S2S_OP_LINEAR, seqk_linear_forward(m->out, r->hc, r->logits));
        if (K == 1) {
            TRY(seqk_argmax(ctx, &amax, r->logits, r->ids));
            /* the step's one wait: the host needs the tokens */
            OP(S2S_OP_PICK, seqk_tensor_read(r->ids, r->ids_host,
                                             (size_t)R * sizeof *r->ids_host));
            for (int64_t b = 0; b < r->B; b++)
                tokens[b * steps + t] = r->ids_host[b];
            hin = r->h[o], cin = r->c[o];
            o = 1 - o;
        } else {
            TRY(seqk_softmax(ctx, 1, r->logits, r->probs));
            TRY(seqk_topk(ctx, &tk, r->probs, r->topv, r->topi));
            TRY(seqk_tensor_read(r->topv, r->topv_host,
                                 (size_t)(R * K) * sizeof *r->topv_host));
            TRY(seqk_tensor_read(r->topi, r->topi_host,
                                 (size_t)(R * K) * sizeof *r->topi_host));
            beam_select(r, t);
            TRY(seqk_tensor_write(r->ids, r->ids_host,
                                  (size_t)R * sizeof *r->ids_host));
            TRY(seqk_tensor_write(r->parent, r->parent_host,
                                  (size_t)R * sizeof *r->parent_host));
            TRY(seqk_gather(ctx, 0, r->h2[1], r->parent, r->h2[0]));
            TRY(seqk_gather(ctx, 0, r->c2[1], r->parent, r->c2[0]));
            OP(S2S_OP_PICK, seqk_gather(ctx, 0, r->ctxv[cc], r->parent,
                                        r->ctxv[1 - cc]));
            cc = 1 - cc;
        }
#undef OP
        if (step_ms) {
            TRY(seqk_context_synchronize(ctx)); /* no-op after a read */
            step_ms[t] = now_ms() - t0;
        }
    }
    if (K > 1) {
        /* the best beam of each sentence, back to front */
        for (int64_t b = 0; b < r->B; b++) {
            int64_t row = b * K;
            for (int64_t k = 1; k < K; k++)
                if (r->score[b * K + k] > r->score[row])
                    row = b * K + k;
            for (long t = steps - 1; t >= 0; t--) {
                tokens[b * steps + t] = r->hist_tok[t * R + row];
                row = r->hist_par[t * R + row];
            }
        }
    }
cleanup:
    return rc;
}
