/*
 * op_rnn_train.c — RNN training front end: seqk_rnn_workspace_size,
 * seqk_rnn_forward_training, seqk_rnn_backward and the plan's weight
 * gradients (seqk_rnn_get_weight_grads, seqk_rnn_zero_weight_grads).
 *
 * The calls are checked like seqk_rnn_forward (op_rnn.c), then handed one
 * layer at a time to the dispatcher (ops rnn_layer_train and
 * rnn_layer_backward).  Only the reference backend has these kernels so
 * far, so CPU contexts run them through the dispatcher's fall-back to ref;
 * a context with no kernel (OpenCL) gets SEQK_ERR_UNSUPPORTED up front.
 *
 * The workspace (floats):
 *   header  [16 + B]   magic, T, B, the plan's serial, then each
 *                      sequence's length (int32 bits): the stamp the
 *                      backward checks, so that a workspace of another
 *                      plan, shape or sequence_lens, or one no training
 *                      forward filled, is refused
 *   layers  L x the per-layer record (problems.h, ref/rnn_backward.c)
 *   inner   (L-1) x [T,B,D,H]: the outputs of layers 0..L-2, which are
 *                      the inputs of the layers above (their dW needs them)
 * The magic is written last, so a failed forward leaves no valid stamp.
 *
 * Gradients live in the plan, one block per layer in ONNX order like the
 * weights: dW [D,G*H,I] | dR [D,G*H,H] | dB [D,2*G*H] | dP [D,3*H].
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backend.h"
#include "core/rnn_plan.h"

#define WS_MAGIC 0x574b5153u /* "SQKW" */
#define WS_HEADER 16

struct seqk_rnn_train {
    uint32_t serial;  /* stamps this plan's workspaces */
    float **grad;     /* [num_layers] blocks, see above */
    int64_t *count;   /* [num_layers] floats of each block */
};

void seqk__rnn_train_free(seqk_rnn *rnn)
{
    if (!rnn->train)
        return;
    for (int l = 0; l < rnn->desc.num_layers; l++)
        free(rnn->train->grad[l]);
    free(rnn->train->grad);
    free(rnn->train->count);
    free(rnn->train);
    rnn->train = NULL;
}


/* Floats of layer l's gradient block, and its parts. */
static void grad_parts(const seqk_rnn *rnn, int l, int64_t *w, int64_t *r,
                       int64_t *b, int64_t *p)
{
    const int64_t D = rnn->num_dirs, GH = rnn->num_gates * rnn->desc.hidden_size;
    *w = D * GH * rnn->layers[l].input_size;
    *r = D * GH * rnn->desc.hidden_size;
    *b = D * 2 * GH;
    *p = D * 3 * rnn->desc.hidden_size;
}

/* The plan's gradient blocks, made (zero) on first use. */
static seqk_status train_state(seqk_rnn *rnn)
{
    static _Atomic uint32_t next_serial = 1;
    if (rnn->train)
        return SEQK_OK;
    const int L = rnn->desc.num_layers;
    struct seqk_rnn_train *t = calloc(1, sizeof *t);
    if (t) {
        t->grad = calloc((size_t)L, sizeof *t->grad);
        t->count = calloc((size_t)L, sizeof *t->count);
    }
    rnn->train = t;
    if (!t || !t->grad || !t->count) {
        if (t) {
            free(t->grad);
            free(t->count);
            free(t);
        }
        rnn->train = NULL;
        return seqk__error(rnn->ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "out of memory making the weight gradients");
    }
    t->serial = atomic_fetch_add(&next_serial, 1);
    for (int l = 0; l < L; l++) {
        int64_t w, r, b, p;
        grad_parts(rnn, l, &w, &r, &b, &p); /* fit: checked in create */
        t->count[l] = w + r + b + p;
        t->grad[l] = calloc((size_t)t->count[l], sizeof(float));
        if (!t->grad[l]) {
            seqk__rnn_train_free(rnn);
            return seqk__error(rnn->ctx, SEQK_ERR_OUT_OF_MEMORY,
                               "out of memory making the weight gradients "
                               "of layer %d (%lld floats)", l,
                               (long long)t->count[l]);
        }
    }
    return SEQK_OK;
}

/* The context has a kernel for op (else UNSUPPORTED, naming what). */
static seqk_status need_kernel(seqk_context *ctx, seqk_op op, const char *fn)
{
    for (int i = 0; i < ctx->num_backends; i++)
        if (ctx->backends[i]->kernel_names[op])
            return SEQK_OK;
    return seqk__error(ctx, SEQK_ERR_UNSUPPORTED,
                       "%s: device '%s' has no %s kernel yet (RNN training "
                       "runs on ref and CPU contexts)", fn, ctx->device,
                       seqk__op_name(op));
}

/* Workspace floats: the header, the layers' records, the inner outputs. */
static seqk_status ws_layout(const seqk_rnn *rnn, int64_t T, int64_t B,
                             int64_t *layer, int64_t *total)
{
    const int D = rnn->num_dirs, L = rnn->desc.num_layers;
    const int64_t H = rnn->desc.hidden_size;
    int64_t all = 0, inner = 0;
    *layer = 0;
    *total = 0;
    if (seqk__rnn_ws_layer_floats(rnn->desc.cell, D, T, B, H, layer) ||
        seqk__mul_i64(*layer, L, &all) || seqk__add_i64(all, WS_HEADER + B, &all) ||
        seqk__mul_i64(T, B, &inner) || seqk__mul_i64(inner, (int64_t)D * H, &inner) ||
        seqk__mul_i64(inner, L - 1, &inner) || seqk__add_i64(all, inner, &all) ||
        all > INT64_MAX / 16 || (uint64_t)all > SIZE_MAX / sizeof(float))
        return seqk__error(rnn->ctx, SEQK_ERR_OVERFLOW,
                           "the RNN workspace of seq_len=%lld, batch=%lld, "
                           "hidden_size=%lld overflows", (long long)T,
                           (long long)B, (long long)H);
    *total = all;
    return SEQK_OK;
}

seqk_status seqk_rnn_workspace_size(seqk_rnn *rnn, int64_t seq_len,
                                    int64_t batch, int64_t *floats)
{
    if (!rnn)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "rnn is NULL; expected a plan from seqk_rnn_create");
    if (!floats)
        return seqk__error(rnn->ctx, SEQK_ERR_INVALID_ARG,
                           "floats is NULL; expected a place for the size");
    if (seq_len < 0 || batch < 0)
        return seqk__error(rnn->ctx, SEQK_ERR_INVALID_ARG,
                           "seq_len=%lld, batch=%lld; expected >= 0",
                           (long long)seq_len, (long long)batch);
    int64_t layer;
    return ws_layout(rnn, seq_len, batch, &layer, floats);
}

static void put_u32(float *ws, int64_t i, uint32_t v)
{
    memcpy(ws + i, &v, sizeof v);
}

static uint32_t get_u32(const float *ws, int64_t i)
{
    uint32_t v;
    memcpy(&v, ws + i, sizeof v);
    return v;
}

/* Checks the workspace tensor: f32 of ctx with exactly the floats of
 * (T, B); *data its host data. */
static seqk_status check_ws(seqk_rnn *rnn, const seqk_tensor *ws, int64_t T,
                            int64_t B, int64_t *layer)
{
    seqk_context *ctx = rnn->ctx;
    int64_t total = 0;
    seqk_status st = ws_layout(rnn, T, B, layer, &total);
    if (st != SEQK_OK)
        return st;
    if ((st = seqk__check_tensor(ctx, ws, "workspace", SEQK_F32, -1)) != SEQK_OK)
        return st;
    if (ws->numel != total)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "workspace has %lld floats but seq_len=%lld, "
                           "batch=%lld need %lld (seqk_rnn_workspace_size)",
                           (long long)ws->numel, (long long)T, (long long)B,
                           (long long)total);
    return SEQK_OK;
}

/* sequence_lens on the host, checked 0..T; NULL when not given. */
static seqk_status host_lens(seqk_context *ctx, const seqk_tensor *t,
                             int64_t T, int64_t B, const int32_t **lens,
                             void **tmp)
{
    *lens = NULL;
    *tmp = NULL;
    if (!t)
        return SEQK_OK;
    *lens = seqk__tensor_host(t, tmp);
    if (!*lens)
        return SEQK_ERR_DEVICE;
    for (int64_t b = 0; b < B; b++)
        if ((*lens)[b] < 0 || (*lens)[b] > T)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "sequence_lens[%lld] is %d; expected 0..%lld "
                               "(the sequence length of X)", (long long)b,
                               (int)(*lens)[b], (long long)T);
    return SEQK_OK;
}

/* Where layer l's record and the inner outputs are in the workspace. */
static void ws_parts(const seqk_rnn *rnn, float *ws, int64_t T, int64_t B,
                     int64_t layer, float **rec, float **inner)
{
    const int D = rnn->num_dirs, L = rnn->desc.num_layers;
    const int64_t H = rnn->desc.hidden_size;
    for (int l = 0; l < L; l++)
        rec[l] = ws + WS_HEADER + B + l * layer;
    for (int l = 0; l < L - 1; l++)
        inner[l] = ws + WS_HEADER + B + L * layer + l * T * B * D * H;
}

seqk_status seqk_rnn_forward_training(seqk_rnn *rnn, const seqk_tensor *X,
                                      const seqk_tensor *sequence_lens,
                                      const seqk_tensor *initial_h,
                                      const seqk_tensor *initial_c,
                                      seqk_tensor *Y, seqk_tensor *Y_h,
                                      seqk_tensor *Y_c, seqk_tensor *workspace)
{
    if (!rnn)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "rnn is NULL; expected a plan from seqk_rnn_create");
    seqk_context *ctx = rnn->ctx;
    const int L = rnn->desc.num_layers;
    int64_t T = 0, B = 0, layer = 0;
    void *lens_tmp = NULL;
    const int32_t *lens;
    float **rec = NULL, **inner = NULL;
    seqk_status st = need_kernel(ctx, SEQK_OP_RNN_LAYER_TRAIN,
                                 "seqk_rnn_forward_training");
    if (st != SEQK_OK)
        return st;
    st = seqk__rnn_check_call(rnn, X, sequence_lens, initial_h, initial_c, Y,
                              Y_h, Y_c, &T, &B);
    if (st != SEQK_OK)
        return st;
    if ((st = check_ws(rnn, workspace, T, B, &layer)) != SEQK_OK)
        return st;
    const seqk_tensor *ins[4] = {X, sequence_lens, initial_h, initial_c};
    const seqk_tensor *outs[3] = {Y, Y_h, Y_c};
    for (int i = 0; i < 4; i++)
        if (seqk__tensors_overlap(workspace, ins[i]) ||
            (i < 3 && seqk__tensors_overlap(workspace, outs[i])))
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "workspace shares memory with an input or "
                               "output; expected a tensor of its own");
    if ((st = host_lens(ctx, sequence_lens, T, B, &lens, &lens_tmp)) != SEQK_OK)
        goto cleanup;

    float *ws = workspace->data;
    rec = calloc((size_t)L, sizeof *rec);
    inner = calloc((size_t)L, sizeof *inner);
    if (!rec || !inner) {
        st = seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY, "out of memory");
        goto cleanup;
    }
    ws_parts(rnn, ws, T, B, layer, rec, inner);
    put_u32(ws, 0, 0); /* no valid stamp until the end */
    for (int l = 0; l < L; l++) {
        seqk_rnn_train_problem tp;
        seqk__rnn_layer_problem(rnn, X, lens, initial_h, initial_c, Y, Y_h,
                                Y_c, T, B, inner, l, &tp.fwd);
        tp.ws = rec[l];
        if ((st = seqk__dispatch(ctx, SEQK_OP_RNN_LAYER_TRAIN, &tp)) != SEQK_OK)
            goto cleanup;
    }
    if ((st = train_state(rnn)) != SEQK_OK)
        goto cleanup;
    put_u32(ws, 1, (uint32_t)T);
    put_u32(ws, 2, (uint32_t)((uint64_t)T >> 32));
    put_u32(ws, 3, (uint32_t)B);
    put_u32(ws, 4, (uint32_t)((uint64_t)B >> 32));
    put_u32(ws, 5, rnn->train->serial);
    for (int64_t b = 0; b < B; b++)
        put_u32(ws, WS_HEADER + b, (uint32_t)(lens ? lens[b] : (int32_t)T));
    put_u32(ws, 0, WS_MAGIC);
    st = SEQK_OK;

cleanup:
    free(rec);
    free(inner);
    free(lens_tmp);
    return st;
}

void seqk_rnn_backward_args_init(seqk_rnn_backward_args *a)
{
    if (!a)
        return;
    memset(a, 0, sizeof *a);
    a->struct_size = sizeof *a;
}

/* A gradient tensor: NULL, or f32 of ctx with the dims of its primal. */
static seqk_status check_grad(seqk_context *ctx, const seqk_tensor *g,
                              const char *what, const seqk_tensor *like,
                              const char *like_name, int ndim,
                              const int64_t *dims)
{
    if (!g)
        return SEQK_OK;
    seqk_status st = seqk__check_tensor(ctx, g, what, SEQK_F32, -1);
    if (st != SEQK_OK)
        return st;
    char why[64];
    snprintf(why, sizeof why, "the shape of %s", like_name);
    if (like)
        return seqk__check_dims(ctx, g, what, like->ndim, like->dims, why);
    return seqk__check_dims(ctx, g, what, ndim, dims, why);
}

/* Checks the stamp against this plan, T, B and the lengths. */
static seqk_status check_stamp(seqk_rnn *rnn, const float *ws, int64_t T,
                               int64_t B, const int32_t *lens)
{
    seqk_context *ctx = rnn->ctx;
    if (get_u32(ws, 0) != WS_MAGIC)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "workspace was not filled by a training forward: "
                           "call seqk_rnn_forward_training first");
    const uint64_t wt = get_u32(ws, 1) | (uint64_t)get_u32(ws, 2) << 32;
    const uint64_t wb = get_u32(ws, 3) | (uint64_t)get_u32(ws, 4) << 32;
    if (!rnn->train || get_u32(ws, 5) != rnn->train->serial)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "workspace was filled by the training forward of "
                           "another RNN plan");
    if (wt != (uint64_t)T || wb != (uint64_t)B)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "workspace holds a forward of seq_len=%llu, "
                           "batch=%llu but X has seq_len=%lld, batch=%lld",
                           (unsigned long long)wt, (unsigned long long)wb,
                           (long long)T, (long long)B);
    for (int64_t b = 0; b < B; b++) {
        const int32_t want = lens ? lens[b] : (int32_t)T;
        const int32_t had = (int32_t)get_u32(ws, WS_HEADER + b);
        if (had != want)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "sequence_lens[%lld] is %d but the training "
                               "forward ran with %d; pass the same "
                               "sequence_lens", (long long)b, (int)want,
                               (int)had);
    }
    return SEQK_OK;
}

seqk_status seqk_rnn_backward(seqk_rnn *rnn, const seqk_rnn_backward_args *a,
                              const seqk_tensor *workspace)
{
    if (!rnn)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "rnn is NULL; expected a plan from seqk_rnn_create");
    seqk_context *ctx = rnn->ctx;
    const seqk_rnn_desc *d = &rnn->desc;
    const int D = rnn->num_dirs, L = d->num_layers;
    const int64_t H = d->hidden_size;
    int64_t T = 0, B = 0, layer = 0;
    void *lens_tmp = NULL;
    const int32_t *lens = NULL;
    float **rec = NULL, **inner = NULL;
    seqk_tensor *dscratch = NULL;
    seqk_status st = seqk__check_struct(ctx, a, a ? a->struct_size : 0,
                                        sizeof *a, "args");
    if (st != SEQK_OK)
        return st;
    if ((st = need_kernel(ctx, SEQK_OP_RNN_LAYER_BACKWARD,
                          "seqk_rnn_backward")) != SEQK_OK)
        return st;
    st = seqk__rnn_check_call(rnn, a->X, a->sequence_lens, a->initial_h,
                              a->initial_c, NULL, NULL, NULL, &T, &B);
    if (st != SEQK_OK)
        return st;
    if (d->cell != SEQK_CELL_LSTM && (a->dY_c || a->dinitial_c))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s is for LSTM only; pass NULL for a %s",
                           a->dY_c ? "dY_c" : "dinitial_c", seqk__rnn_cell_name(d->cell));

    const int64_t LD = (int64_t)L * D;
    const int64_t sdims[3] = {d->layout ? B : LD, d->layout ? LD : B, H};
    const int64_t ydims[4] = {d->layout ? B : T, d->layout ? T : D,
                              d->layout ? D : B, H};
    if ((st = check_grad(ctx, a->dY, "dY", NULL, "Y", 4, ydims)) != SEQK_OK ||
        (st = check_grad(ctx, a->dY_h, "dY_h", NULL, "Y_h", 3, sdims)) != SEQK_OK ||
        (st = check_grad(ctx, a->dY_c, "dY_c", NULL, "Y_c", 3, sdims)) != SEQK_OK ||
        (st = check_grad(ctx, a->dX, "dX", a->X, "X", 0, NULL)) != SEQK_OK ||
        (st = check_grad(ctx, a->dinitial_h, "dinitial_h", NULL, "initial_h",
                         3, sdims)) != SEQK_OK ||
        (st = check_grad(ctx, a->dinitial_c, "dinitial_c", NULL, "initial_c",
                         3, sdims)) != SEQK_OK)
        return st;
    {
        const seqk_tensor *outs[3] = {a->dX, a->dinitial_h, a->dinitial_c};
        const seqk_tensor *ins[8] = {a->X, a->sequence_lens, a->initial_h,
                                     a->initial_c, a->dY, a->dY_h, a->dY_c,
                                     workspace};
        for (int o = 0; o < 3; o++) {
            for (int i = 0; i < 8; i++)
                if (seqk__tensors_overlap(outs[o], ins[i]))
                    return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                                       "a gradient output (dX, dinitial_h, "
                                       "dinitial_c) shares memory with an "
                                       "input; expected separate tensors");
            for (int j = o + 1; j < 3; j++)
                if (seqk__tensors_overlap(outs[o], outs[j]))
                    return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                                       "the gradient outputs share memory");
        }
    }
    if ((st = check_ws(rnn, workspace, T, B, &layer)) != SEQK_OK)
        return st;
    if ((st = host_lens(ctx, a->sequence_lens, T, B, &lens, &lens_tmp)) != SEQK_OK)
        goto cleanup;
    if ((st = check_stamp(rnn, workspace->data, T, B, lens)) != SEQK_OK)
        goto cleanup;

    rec = calloc((size_t)L, sizeof *rec);
    inner = calloc((size_t)L, sizeof *inner);
    if (!rec || !inner) {
        st = seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY, "out of memory");
        goto cleanup;
    }
    ws_parts(rnn, workspace->data, T, B, layer, rec, inner);
    if (L > 1) {
        /* the gradients between layers: two alternating [T,B,D*H] */
        const int64_t n = 2 * T * B * D * H;
        if ((st = seqk_tensor_create(ctx, 1, &n, SEQK_F32, &dscratch)) != SEQK_OK)
            goto cleanup;
    }
    if (!a->accumulate)
        seqk_rnn_zero_weight_grads(rnn);

    const int64_t s_sd = d->layout ? H : B * H, s_sb = d->layout ? LD * H : H;
    const int64_t s_layer = d->layout ? (int64_t)D * H : (int64_t)D * B * H;
    const int64_t half = T * B * D * H;
    for (int l = L - 1; l >= 0; l--) {
        seqk_rnn_backward_problem bp;
        memset(&bp, 0, sizeof bp);
        seqk__rnn_layer_problem(rnn, a->X, lens, NULL, NULL, NULL, NULL, NULL,
                                T, B, inner, l, &bp.fwd);
        bp.ws = rec[l];
        if (l == L - 1) {
            bp.dy = a->dY ? a->dY->data : NULL;
            bp.dy_st = d->layout ? D * H : D * B * H;
            bp.dy_sd = d->layout ? H : B * H;
            bp.dy_sb = d->layout ? T * D * H : H;
        } else {
            bp.dy = (float *)dscratch->data + ((l + 1) % 2) * half;
            bp.dy_st = B * D * H;
            bp.dy_sd = H;
            bp.dy_sb = D * H;
        }
        bp.dyh = a->dY_h ? (const float *)a->dY_h->data + l * s_layer : NULL;
        bp.dyc = a->dY_c ? (const float *)a->dY_c->data + l * s_layer : NULL;
        bp.dyh_sd = s_sd;
        bp.dyh_sb = s_sb;
        if (l > 0) {
            bp.dx = (float *)dscratch->data + (l % 2) * half;
            bp.dx_st = B * D * H;
            bp.dx_sb = D * H;
        } else if (a->dX) {
            bp.dx = a->dX->data;
            bp.dx_st = bp.fwd.x_st;
            bp.dx_sb = bp.fwd.x_sb;
        }
        bp.dh0 = a->dinitial_h ? (float *)a->dinitial_h->data + l * s_layer
                               : NULL;
        bp.dc0 = a->dinitial_c ? (float *)a->dinitial_c->data + l * s_layer
                               : NULL;
        bp.dh0_sd = s_sd;
        bp.dh0_sb = s_sb;
        int64_t w, r, b, p;
        grad_parts(rnn, l, &w, &r, &b, &p);
        bp.dW = rnn->train->grad[l];
        bp.dR = bp.dW + w;
        bp.dB = bp.dR + r;
        bp.dP = bp.dB + b;
        if ((st = seqk__dispatch(ctx, SEQK_OP_RNN_LAYER_BACKWARD, &bp)) != SEQK_OK)
            goto cleanup;
    }
    st = SEQK_OK;

cleanup:
    seqk_tensor_destroy(dscratch);
    free(rec);
    free(inner);
    free(lens_tmp);
    return st;
}

seqk_status seqk_rnn_zero_weight_grads(seqk_rnn *rnn)
{
    if (!rnn)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "rnn is NULL; expected a plan from seqk_rnn_create");
    if (!rnn->train)
        return SEQK_OK; /* made zero on first use */
    for (int l = 0; l < rnn->desc.num_layers; l++)
        memset(rnn->train->grad[l], 0,
               (size_t)rnn->train->count[l] * sizeof(float));
    return SEQK_OK;
}


seqk_status seqk_rnn_get_weight_grads(seqk_rnn *rnn, int layer,
                                      seqk_weight_format format,
                                      seqk_tensor *dW, seqk_tensor *dR,
                                      seqk_tensor *dB, seqk_tensor *dP)
{
    if (!rnn)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "rnn is NULL; expected a plan from seqk_rnn_create");
    seqk_context *ctx = rnn->ctx;
    const seqk_rnn_desc *d = &rnn->desc;
    const int D = rnn->num_dirs, G = rnn->num_gates, lbr = d->linear_before_reset;
    const int64_t H = d->hidden_size;
    seqk_status st;
    if ((st = seqk__rnn_check_layer_format(rnn, layer, format, dP != NULL,
                                           "dP")))
        return st;
    if (!dW || !dR)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s is NULL; expected a tensor for it",
                           !dW ? "dW" : "dR");

    const int64_t I = rnn->layers[layer].input_size;
    char why[160];
    snprintf(why, sizeof why, "hidden_size=%lld with input_size=%lld "
             "(layer %d, %d direction%s)", (long long)H, (long long)I, layer,
             D, D == 2 ? "s" : "");
    int64_t wd[4], rd[4], bd[3];
    int wn, bn;
    if (format == SEQK_WEIGHTS_ONEDNN) {
        wn = 4;
        wd[0] = D; wd[1] = I; wd[2] = G; wd[3] = H;
        rd[0] = D; rd[1] = H; rd[2] = G; rd[3] = H;
        bn = 3;
        bd[0] = D; bd[1] = d->cell == SEQK_CELL_GRU && lbr ? 4 : G; bd[2] = H;
    } else {
        wn = 3;
        wd[0] = D; wd[1] = G * H; wd[2] = I;
        rd[0] = D; rd[1] = G * H; rd[2] = H;
        bn = 2;
        bd[0] = D; bd[1] = 2 * G * H;
    }
    const int64_t pd[2] = {D, 3 * H};
    if ((st = seqk__check_f32_dims(ctx, dW, "dW", wn, wd, why)) != SEQK_OK ||
        (st = seqk__check_f32_dims(ctx, dR, "dR", wn, rd, why)) != SEQK_OK ||
        (dB && (st = seqk__check_f32_dims(ctx, dB, "dB", bn, bd, why)) != SEQK_OK) ||
        (dP && (st = seqk__check_f32_dims(ctx, dP, "dP", 2, pd, why)) != SEQK_OK))
        return st;
    if ((st = train_state(rnn)) != SEQK_OK)
        return st;

    int64_t w, r, b, p;
    grad_parts(rnn, layer, &w, &r, &b, &p);
    const float *g = rnn->train->grad[layer];
    float *out = malloc((size_t)(w + r + 2 * b) * sizeof(float));
    if (!out)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY, "out of memory");
    float *bias_in = out + w + r + b;
    memcpy(bias_in, g + w + r, (size_t)b * sizeof(float));
    if (format == SEQK_WEIGHTS_ONEDNN) {
        /* oneDNN's one bias per gate stands for Wb + Rb: its gradient is
         * dWb (= dRb), not their sum, so the Rb half going into the sum is
         * zeroed; the lbr GRU keeps Rbh apart (its fourth bias). */
        const int64_t GH = (int64_t)G * H;
        for (int dd = 0; dd < D; dd++)
            for (int64_t k = 0; k < GH; k++) {
                const int keep = d->cell == SEQK_CELL_GRU && lbr && k >= 2 * H;
                if (!keep)
                    bias_in[dd * 2 * GH + GH + k] = 0.0f;
            }
    }
    st = seqk__rnn_convert(ctx, d->cell, lbr, D, H, I, SEQK_WEIGHTS_ONNX,
                           format, g, g + w, bias_in, out, out + w,
                           dB ? out + w + r : NULL);
    if (st == SEQK_OK)
        st = seqk_tensor_write(dW, out, (size_t)w * sizeof(float));
    if (st == SEQK_OK)
        st = seqk_tensor_write(dR, out + w, (size_t)r * sizeof(float));
    if (st == SEQK_OK && dB)
        st = seqk_tensor_write(dB, out + w + r, dB->bytes);
    if (st == SEQK_OK && dP)
        st = seqk_tensor_write(dP, g + w + r + b, (size_t)p * sizeof(float));
    free(out);
    return st;
}
