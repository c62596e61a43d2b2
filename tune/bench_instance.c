/*
 * bench_instance.c — one `seqk bench` problem set up on one context: its
 * tensors (seeded random inputs, so every device sees the same data), the
 * RNN plan, one timed call through the public API, and reading outputs
 * back for validation.  The tensors each problem uses are listed at the
 * top of bench_problems.c.
 */
#include "bench_problems.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ instances */

#define MAX_INPUTS 8
#define MAX_OUTPUTS 3

struct bench_instance {
    seqk_context *ctx;
    bench_problem p;
    seqk_tensor *in[MAX_INPUTS];
    seqk_tensor *out[MAX_OUTPUTS];
    int n_in, n_out;
    seqk_rnn *rnn;
    seqk_gemm_params gemm;
    seqk_attention_params attn;
    seqk_seq_attention_params sattn;
    seqk_seq_attention_inputs sin;
    seqk_seq_attention_keys *keys; /* seqattn keyed=1 */
    seqk_linear *lin;              /* linear */
};

/* splitmix64 over a seed from the descriptor text and a per-tensor salt. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t seed_of(const char *text, uint64_t salt)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
        h = (h ^ *c) * 0x100000001b3ull;
    return h ^ (salt * 0x9e3779b97f4a7c15ull);
}

static seqk_status fail(seqk_context *ctx, seqk_status st, const char *what,
                        char *err, size_t err_len)
{
    snprintf(err, err_len, "%s: %s: %s", what, seqk_status_string(st),
             seqk_last_error(ctx));
    return st;
}

/* Creates a tensor; salt != 0 fills it with uniform [-scale, scale], salt
 * 0 (outputs) with NaN so that unwritten elements fail validation. */
static seqk_status make_tensor(bench_instance *inst, int ndim,
                               const int64_t *dims, uint64_t salt,
                               float scale, seqk_tensor **t, char *err,
                               size_t err_len)
{
    *t = NULL;
    seqk_status st = seqk_tensor_create(inst->ctx, ndim, dims, SEQK_F32, t);
    if (st != SEQK_OK)
        return fail(inst->ctx, st, "seqk_tensor_create", err, err_len);
    size_t n = (size_t)seqk_tensor_numel(*t);
    float *host = malloc(n ? n * sizeof(float) : 1);
    if (!host) {
        snprintf(err, err_len, "out of host memory for %zu floats", n);
        return SEQK_ERR_OUT_OF_MEMORY;
    }
    uint64_t state = seed_of(inst->p.text, salt);
    for (size_t i = 0; i < n; i++) {
        if (salt == 0) {
            host[i] = NAN;
        } else {
            double u = (double)(next_u64(&state) >> 11) * 0x1.0p-53;
            host[i] = (float)((2.0 * u - 1.0) * scale);
        }
    }
    st = seqk_tensor_write(*t, host, n * sizeof(float));
    free(host);
    if (st != SEQK_OK)
        return fail(inst->ctx, st, "seqk_tensor_write", err, err_len);
    return SEQK_OK;
}

static seqk_status add_input(bench_instance *inst, int ndim,
                             const int64_t *dims, float scale,
                             const seqk_tensor **t, char *err,
                             size_t err_len)
{
    seqk_status st = make_tensor(inst, ndim, dims, (uint64_t)inst->n_in + 1,
                                 scale, &inst->in[inst->n_in], err, err_len);
    if (inst->in[inst->n_in])
        *t = inst->in[inst->n_in++];
    return st;
}

static seqk_status add_output(bench_instance *inst, int ndim,
                              const int64_t *dims, char *err, size_t err_len)
{
    seqk_status st = make_tensor(inst, ndim, dims, 0, 0.0f,
                                 &inst->out[inst->n_out], err, err_len);
    if (inst->out[inst->n_out])
        inst->n_out++;
    return st;
}

static seqk_status setup_gemm(bench_instance *inst, char *err, size_t len)
{
    const bench_problem *p = &inst->p;
    int64_t a[2] = {p->m, p->k}, b[2] = {p->k, p->n}, y[2] = {p->m, p->n};
    const seqk_tensor *t;
    seqk_status st;
    if (p->transa) {
        a[0] = p->k;
        a[1] = p->m;
    }
    if (p->transb) {
        b[0] = p->n;
        b[1] = p->k;
    }
    seqk_gemm_params_init(&inst->gemm);
    inst->gemm.trans_a = (int)p->transa;
    inst->gemm.trans_b = (int)p->transb;
    if ((st = add_input(inst, 2, a, 1.0f, &t, err, len)) != SEQK_OK ||
        (st = add_input(inst, 2, b, 1.0f, &t, err, len)) != SEQK_OK)
        return st;
    return add_output(inst, 2, y, err, len);
}

static seqk_status setup_rnn(bench_instance *inst, char *err, size_t len)
{
    const bench_problem *p = &inst->p;
    seqk_context *ctx = inst->ctx;
    int64_t d = p->bidir ? 2 : 1, g = bench_gates_of(p->kind), h = p->hidden;
    float wscale = 1.0f / sqrtf((float)h);
    seqk_cell cell = p->kind == BENCH_LSTM  ? SEQK_CELL_LSTM
                     : p->kind == BENCH_GRU ? SEQK_CELL_GRU
                                            : SEQK_CELL_RNN;
    seqk_rnn_desc desc;
    seqk_tensor *W = NULL, *R = NULL, *B = NULL;
    const seqk_tensor *t;
    seqk_status st;

    seqk_rnn_desc_init(&desc, cell, p->input, h);
    desc.direction = p->bidir ? SEQK_BIDIRECTIONAL : SEQK_FORWARD;
    desc.num_layers = (int)p->layers;
    desc.weight_dtype = p->wbf16 ? SEQK_BF16 : SEQK_F32;
    if (cell == SEQK_CELL_GRU)
        desc.linear_before_reset = (int)p->lbr;
    if (cell == SEQK_CELL_RNN && p->act == 1) {
        desc.num_activations = 1;
        desc.activations[0] = seqk_activation_default(SEQK_ACT_RELU);
    }
    st = seqk_rnn_create(ctx, &desc, &inst->rnn);
    if (st != SEQK_OK)
        return fail(ctx, st, "seqk_rnn_create", err, len);

    /* Weights ~ U(-1/sqrt(H), 1/sqrt(H)) keep the gates out of saturation
     * and a ReLU recurrence stable; salts past the inputs' range. */
    for (int64_t l = 0; l < p->layers; l++) {
        int64_t in = l == 0 ? p->input : d * h;
        int64_t wd[3] = {d, g * h, in}, rd[3] = {d, g * h, h};
        int64_t bd[2] = {d, 2 * g * h};
        uint64_t salt = 100 + 3 * (uint64_t)l;
        if ((st = make_tensor(inst, 3, wd, salt, wscale, &W, err, len)) ||
            (st = make_tensor(inst, 3, rd, salt + 1, wscale, &R, err, len)) ||
            (st = make_tensor(inst, 2, bd, salt + 2, wscale, &B, err, len)))
            goto cleanup;
        st = seqk_rnn_set_weights(inst->rnn, (int)l, SEQK_WEIGHTS_ONNX, W, R,
                                  B, NULL);
        if (st != SEQK_OK) {
            fail(ctx, st, "seqk_rnn_set_weights", err, len);
            goto cleanup;
        }
        seqk_tensor_destroy(W);
        seqk_tensor_destroy(R);
        seqk_tensor_destroy(B);
        W = R = B = NULL;
    }

    int64_t xd[3] = {p->seq, p->batch, p->input};
    int64_t yd[4] = {p->seq, d, p->batch, h};
    int64_t hd[3] = {p->layers * d, p->batch, h};
    if ((st = add_input(inst, 3, xd, 1.0f, &t, err, len)) != SEQK_OK ||
        (st = add_output(inst, 4, yd, err, len)) != SEQK_OK ||
        (st = add_output(inst, 3, hd, err, len)) != SEQK_OK)
        goto cleanup;
    if (cell == SEQK_CELL_LSTM)
        st = add_output(inst, 3, hd, err, len);

cleanup:
    seqk_tensor_destroy(W);
    seqk_tensor_destroy(R);
    seqk_tensor_destroy(B);
    return st;
}

static seqk_status setup_attention(bench_instance *inst, char *err,
                                   size_t len)
{
    const bench_problem *p = &inst->p;
    int64_t qd[4] = {p->batch, p->heads, p->seq, p->dim};
    int64_t kd[4] = {p->batch, p->heads, p->kvseq, p->dim};
    const seqk_tensor *t;
    seqk_status st;
    seqk_attention_params_init(&inst->attn);
    inst->attn.is_causal = (int)p->causal;
    if ((st = add_input(inst, 4, qd, 1.0f, &t, err, len)) != SEQK_OK ||
        (st = add_input(inst, 4, kd, 1.0f, &t, err, len)) != SEQK_OK ||
        (st = add_input(inst, 4, kd, 1.0f, &t, err, len)) != SEQK_OK)
        return st;
    return add_output(inst, 4, qd, err, len);
}

static seqk_status setup_seqattn(bench_instance *inst, char *err,
                                 size_t len)
{
    const bench_problem *p = &inst->p;
    seqk_seq_attention_inputs *in = &inst->sin;
    int64_t qd[2] = {p->batch, p->dim};
    int64_t kd[3] = {p->batch, p->seq, p->dim};
    int64_t wd[2] = {p->dim, p->dim}, vd[1] = {p->dim};
    int64_t ld[2] = {p->seq, p->dim}, od[2] = {p->batch, p->seq};
    float ws = 1.0f / sqrtf((float)p->dim);
    seqk_status st;

    seqk_seq_attention_params_init(&inst->sattn);
    inst->sattn.score = (seqk_score_kind)p->score;
    memset(in, 0, sizeof *in);
    if ((st = add_input(inst, 2, qd, 1.0f, &in->query, err, len)) ||
        (st = add_input(inst, 3, kd, 1.0f, &in->keys, err, len)) ||
        (st = add_input(inst, 3, kd, 1.0f, &in->values, err, len)))
        return st;
    switch (inst->sattn.score) {
    case SEQK_SCORE_GENERAL:
        st = add_input(inst, 2, wd, ws, &in->W, err, len);
        break;
    case SEQK_SCORE_ADDITIVE:
        if ((st = add_input(inst, 2, wd, ws, &in->W1, err, len)) ||
            (st = add_input(inst, 2, wd, ws, &in->W2, err, len)))
            return st;
        st = add_input(inst, 1, vd, ws, &in->v, err, len);
        break;
    case SEQK_SCORE_LOCATION:
        st = add_input(inst, 2, ld, ws, &in->Wloc, err, len);
        break;
    default:
        break;
    }
    if (st != SEQK_OK || (st = add_output(inst, 2, qd, err, len)) != SEQK_OK ||
        (st = add_output(inst, 2, od, err, len)) != SEQK_OK)
        return st;
    if (p->keyed) {
        /* the keys of the sentence projected once, outside the timing */
        seqk_seq_attention_inputs kin = *in;
        kin.query = NULL;
        st = seqk_seq_attention_keys_create(inst->ctx, &inst->sattn, &kin,
                                            &inst->keys);
        if (st != SEQK_OK)
            return fail(inst->ctx, st, "seqk_seq_attention_keys_create", err,
                        len);
    }
    return SEQK_OK;
}

/* X [M,K], W [N,K] or [K,N], b [N]: the plan is made here (and packs on
 * the first, untimed, warm-up call). */
static seqk_status setup_linear(bench_instance *inst, char *err, size_t len)
{
    const bench_problem *p = &inst->p;
    const int64_t dx[2] = {p->m, p->k}, dy[2] = {p->m, p->n};
    const int64_t dw[2] = {p->layout ? p->k : p->n, p->layout ? p->n : p->k};
    const int64_t db[1] = {p->n};
    const seqk_tensor *x = NULL, *w = NULL, *b = NULL;
    seqk_status st;
    if ((st = add_input(inst, 2, dx, 1.0f, &x, err, len)) ||
        (st = add_input(inst, 2, dw, 1.0f / sqrtf((float)p->k), &w, err,
                        len)) ||
        (p->bias && (st = add_input(inst, 1, db, 1.0f, &b, err, len))) ||
        (st = add_output(inst, 2, dy, err, len)))
        return st;
    seqk_linear_desc d;
    seqk_linear_desc_init(&d, p->k, p->n);
    d.weight_layout = p->layout ? SEQK_LINEAR_KN : SEQK_LINEAR_NK;
    d.weight_dtype = p->wbf16 ? SEQK_BF16 : SEQK_F32;
    if ((st = seqk_linear_create(inst->ctx, &d, w, b, &inst->lin)))
        return fail(inst->ctx, st, "seqk_linear_create", err, len);
    return SEQK_OK;
}

/* Logits in [-8, 8]: the max shift matters, no row is all but uniform. */
static seqk_status setup_softmax(bench_instance *inst, char *err, size_t len)
{
    const bench_problem *p = &inst->p;
    const int64_t dims[3] = {p->rows, p->n, p->inner};
    const int ndim = p->inner ? 3 : 2;
    const seqk_tensor *t;
    seqk_status st = add_input(inst, ndim, dims, 8.0f, &t, err, len);
    if (st != SEQK_OK)
        return st;
    return add_output(inst, ndim, dims, err, len);
}

seqk_status bench_setup(seqk_context *ctx, const bench_problem *p,
                        bench_instance **out, char *err, size_t err_len)
{
    seqk_status st = SEQK_ERR_INTERNAL;
    bench_instance *inst = calloc(1, sizeof *inst);
    *out = NULL;
    if (!inst) {
        snprintf(err, err_len, "out of host memory");
        return SEQK_ERR_OUT_OF_MEMORY;
    }
    inst->ctx = ctx;
    inst->p = *p;
    switch (p->kind) {
    case BENCH_GEMM:
        st = setup_gemm(inst, err, err_len);
        break;
    case BENCH_LSTM:
    case BENCH_GRU:
    case BENCH_RNN:
        st = setup_rnn(inst, err, err_len);
        break;
    case BENCH_ATTENTION:
        st = setup_attention(inst, err, err_len);
        break;
    case BENCH_SEQATTN:
        st = setup_seqattn(inst, err, err_len);
        break;
    case BENCH_SOFTMAX:
        st = setup_softmax(inst, err, err_len);
        break;
    case BENCH_LINEAR:
        st = setup_linear(inst, err, err_len);
        break;
    }
    if (st != SEQK_OK) {
        bench_destroy(inst);
        return st;
    }
    *out = inst;
    return SEQK_OK;
}

seqk_status bench_run(bench_instance *inst, char *err, size_t err_len)
{
    seqk_status st = SEQK_ERR_INTERNAL;
    const char *what = "?";
    switch (inst->p.kind) {
    case BENCH_GEMM:
        what = "seqk_gemm";
        st = seqk_gemm(inst->ctx, &inst->gemm, inst->in[0], inst->in[1],
                       NULL, inst->out[0]);
        break;
    case BENCH_LSTM:
    case BENCH_GRU:
    case BENCH_RNN:
        what = "seqk_rnn_forward";
        st = seqk_rnn_forward(inst->rnn, inst->in[0], NULL, NULL, NULL,
                              inst->out[0], inst->out[1],
                              inst->n_out > 2 ? inst->out[2] : NULL);
        break;
    case BENCH_ATTENTION:
        what = "seqk_attention";
        st = seqk_attention(inst->ctx, &inst->attn, inst->in[0], inst->in[1],
                            inst->in[2], NULL, inst->out[0]);
        break;
    case BENCH_SEQATTN:
        if (inst->keys) {
            what = "seqk_seq_attention_keyed";
            st = seqk_seq_attention_keyed(inst->ctx, inst->keys,
                                          inst->sin.query, inst->out[0],
                                          inst->out[1]);
            break;
        }
        what = "seqk_seq_attention";
        st = seqk_seq_attention(inst->ctx, &inst->sattn, &inst->sin,
                                inst->out[0], inst->out[1]);
        break;
    case BENCH_LINEAR:
        what = "seqk_linear_forward";
        st = seqk_linear_forward(inst->lin, inst->in[0], inst->out[0]);
        break;
    case BENCH_SOFTMAX:
        what = "seqk_softmax";
        st = seqk_softmax(inst->ctx, 1, inst->in[0], inst->out[0]);
        break;
    }
    if (st == SEQK_OK) {
        /* OpenCL ops are only enqueued: time until the device is done. */
        what = "seqk_context_synchronize";
        st = seqk_context_synchronize(inst->ctx);
    }
    if (st != SEQK_OK)
        return fail(inst->ctx, st, what, err, err_len);
    return SEQK_OK;
}

seqk_status bench_read_outputs(bench_instance *inst, float **out,
                               size_t *count, char *err, size_t err_len)
{
    size_t total = 0, at = 0;
    for (int i = 0; i < inst->n_out; i++)
        total += (size_t)seqk_tensor_numel(inst->out[i]);
    float *buf = malloc(total ? total * sizeof(float) : 1);
    *out = NULL;
    *count = 0;
    if (!buf) {
        snprintf(err, err_len, "out of host memory for %zu floats", total);
        return SEQK_ERR_OUT_OF_MEMORY;
    }
    for (int i = 0; i < inst->n_out; i++) {
        size_t n = (size_t)seqk_tensor_numel(inst->out[i]);
        seqk_status st = seqk_tensor_read(inst->out[i], buf + at,
                                          n * sizeof(float));
        if (st != SEQK_OK) {
            free(buf);
            return fail(inst->ctx, st, "seqk_tensor_read", err, err_len);
        }
        at += n;
    }
    *out = buf;
    *count = total;
    return SEQK_OK;
}

void bench_destroy(bench_instance *inst)
{
    if (!inst)
        return;
    for (int i = 0; i < inst->n_in; i++)
        seqk_tensor_destroy(inst->in[i]);
    for (int i = 0; i < inst->n_out; i++)
        seqk_tensor_destroy(inst->out[i]);
    seqk_rnn_destroy(inst->rnn);
    seqk_seq_attention_keys_destroy(inst->keys);
    seqk_linear_destroy(inst->lin);
    free(inst);
}
