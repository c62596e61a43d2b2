/*
 * op_rnn.c — RNN plans: the activation table, seqk_rnn_create /
 * set_weights / forward / destroy.
 *
 * The plan keeps the descriptor, the activations expanded to both
 * directions, and every layer's weights converted to ONNX order (see
 * rnn_plan.h).  seqk_rnn_forward validates the tensors, then hands one
 * seqk_rnn_layer_problem per layer to the dispatcher:
 *
 *   layer 0      x = X (layout 0 [T,B,I] or layout 1 [B,T,I], via strides)
 *   layer l > 0  x = layer l-1's output, a scratch [T,B,D,H] buffer, read
 *                as [T,B,I=D*H] with no copy
 *   last layer   y = Y ([T,D,B,H] or [B,T,D,H], via strides)
 *   states       initial_h / Y_h [L*D,B,H] (layout 1 [B,L*D,H]); layer l
 *                owns rows l*D .. l*D+D-1
 *
 * Sequence length 0: Y_h/Y_c are the initial state (zeros without one),
 * i.e. the state after zero steps, as seqk.h documents.  The ONNX spec
 * does not say; onnxruntime's LSTM writes zeros there even when initial_h
 * is given, and its RNN kernel copies Y_h from step len-1 = -1.  Keeping
 * the initial state makes a zero-length chunk of a streamed sequence a
 * no-op, and equals the zeros of onnxruntime when there is no initial_h.
 *
 * Y_h may be the same tensor as initial_h (and Y_c as initial_c): every
 * backend reads a sequence's initial state before writing its final one.
 */
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bf16.h"
#include "core/rnn_plan.h"

/* ------------------------------------------------------------ activations */

static const char *const act_names[SEQK_ACT_COUNT_] = {
    "Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu",
    "ScaledTanh", "HardSigmoid", "Elu", "Softsign", "Softplus",
};

static int name_equal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

int seqk_act_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int k = 0; k < SEQK_ACT_COUNT_; k++)
        if (name_equal(name, act_names[k]))
            return k;
    return -1;
}

static int act_valid(seqk_act_kind kind)
{
    return (int)kind >= 0 && (int)kind < SEQK_ACT_COUNT_;
}

const char *seqk_act_name(seqk_act_kind kind)
{
    return act_valid(kind) ? act_names[kind] : "unknown";
}

seqk_activation seqk_activation_default(seqk_act_kind kind)
{
    seqk_activation a = {kind, 0.0f, 0.0f};
    switch (kind) {
    case SEQK_ACT_LEAKY_RELU: a.alpha = 0.01f; break;
    case SEQK_ACT_THRESHOLDED_RELU: a.alpha = 1.0f; break;
    case SEQK_ACT_SCALED_TANH: a.alpha = 1.0f; a.beta = 1.0f; break;
    case SEQK_ACT_HARD_SIGMOID: a.alpha = 0.2f; a.beta = 0.5f; break;
    case SEQK_ACT_ELU: a.alpha = 1.0f; break;
    case SEQK_ACT_AFFINE: a.alpha = 1.0f; a.beta = 0.0f; break;
    default: break;
    }
    return a;
}

int seqk_act_uses_alpha(seqk_act_kind kind)
{
    switch (kind) {
    case SEQK_ACT_AFFINE:
    case SEQK_ACT_LEAKY_RELU:
    case SEQK_ACT_THRESHOLDED_RELU:
    case SEQK_ACT_SCALED_TANH:
    case SEQK_ACT_HARD_SIGMOID:
    case SEQK_ACT_ELU:
        return 1;
    default:
        return 0;
    }
}

int seqk_act_uses_beta(seqk_act_kind kind)
{
    return kind == SEQK_ACT_AFFINE || kind == SEQK_ACT_SCALED_TANH ||
           kind == SEQK_ACT_HARD_SIGMOID;
}

/* The ONNX default functions of a cell: f, g, h. */
static void default_acts(seqk_cell cell, seqk_activation out[3])
{
    seqk_act_kind k[3] = {SEQK_ACT_TANH, SEQK_ACT_TANH, SEQK_ACT_TANH};
    if (cell == SEQK_CELL_LSTM || cell == SEQK_CELL_GRU)
        k[0] = SEQK_ACT_SIGMOID;
    for (int i = 0; i < 3; i++)
        out[i] = seqk_activation_default(k[i]);
}

const char *seqk__rnn_cell_name(seqk_cell cell)
{
    return cell == SEQK_CELL_LSTM ? "LSTM" : cell == SEQK_CELL_GRU ? "GRU" : "RNN";
}

/* ------------------------------------------------------------ desc, plan */

void seqk_rnn_desc_init(seqk_rnn_desc *desc, seqk_cell cell,
                        int64_t input_size, int64_t hidden_size)
{
    if (!desc)
        return;
    memset(desc, 0, sizeof *desc);
    desc->struct_size = sizeof *desc;
    desc->cell = cell;
    desc->input_size = input_size;
    desc->hidden_size = hidden_size;
    desc->direction = SEQK_FORWARD;
    desc->layout = 0;
    desc->num_layers = 1;
    desc->num_activations = 0;
    desc->weight_dtype = SEQK_F32;
    /* filled for both directions so a caller can edit one and set
     * num_activations; ignored while num_activations is 0 */
    default_acts(cell, desc->activations);
    default_acts(cell, desc->activations + 3);
}

static seqk_status check_desc(seqk_context *ctx, const seqk_rnn_desc *d)
{
    seqk_status st = seqk__check_struct(ctx, d, d->struct_size, sizeof *d,
                                        "desc");
    if (st != SEQK_OK)
        return st;
    if (seqk__rnn_gates(d->cell) == 0)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc->cell is %d; expected SEQK_CELL_RNN, _LSTM "
                           "or _GRU", (int)d->cell);
    if ((int)d->direction < SEQK_FORWARD || (int)d->direction > SEQK_BIDIRECTIONAL)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc->direction is %d; expected SEQK_FORWARD, "
                           "_REVERSE or _BIDIRECTIONAL", (int)d->direction);
    if (d->layout != 0 && d->layout != 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc->layout is %d; expected 0 ([T,B,I]) or 1 "
                           "([B,T,I])", d->layout);
    if (d->num_layers < 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc->num_layers is %d; expected >= 1",
                           d->num_layers);
    if (d->weight_dtype != SEQK_F32 && d->weight_dtype != SEQK_BF16)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc->weight_dtype is %d (%s); expected SEQK_F32 "
                           "or SEQK_BF16", (int)d->weight_dtype,
                           seqk__dtype_name(d->weight_dtype));
    if (d->hidden_size <= 0)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc->hidden_size is %lld; expected >= 1",
                           (long long)d->hidden_size);
    if (d->input_size <= 0)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc->input_size is %lld; expected >= 1",
                           (long long)d->input_size);
    if (d->input_forget != 0 && d->input_forget != 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc->input_forget is %d; expected 0 or 1",
                           d->input_forget);
    if (d->input_forget && d->cell != SEQK_CELL_LSTM)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc->input_forget is for LSTM only; this plan "
                           "is a %s", seqk__rnn_cell_name(d->cell));
    if (d->linear_before_reset != 0 && d->linear_before_reset != 1)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc->linear_before_reset is %d; expected 0 or 1",
                           d->linear_before_reset);
    if (d->linear_before_reset && d->cell != SEQK_CELL_GRU)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc->linear_before_reset is for GRU only; this "
                           "plan is a %s", seqk__rnn_cell_name(d->cell));
    if (!(d->clip >= 0)) /* also catches NaN */
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc->clip is %g; expected 0 (no clip) or > 0",
                           (double)d->clip);

    const int k = seqk__rnn_funcs(d->cell);
    const int bidir = d->direction == SEQK_BIDIRECTIONAL;
    const int n = d->num_activations;
    if (n != 0 && n != k && !(bidir && n == 2 * k)) {
        if (bidir)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "desc->num_activations is %d but a "
                               "bidirectional %s needs 0 (defaults), %d (both "
                               "directions) or %d (forward then reverse)",
                               n, seqk__rnn_cell_name(d->cell), k, 2 * k);
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc->num_activations is %d but a %s needs 0 "
                           "(defaults) or %d", n, seqk__rnn_cell_name(d->cell), k);
    }
    for (int i = 0; i < n; i++) {
        const seqk_activation *a = &d->activations[i];
        if (!act_valid(a->kind))
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "desc->activations[%d].kind is %d; expected a "
                               "seqk_act_kind (0..%d)", i, (int)a->kind,
                               SEQK_ACT_COUNT_ - 1);
        if (!isfinite(a->alpha) || !isfinite(a->beta))
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "desc->activations[%d] (%s) has alpha=%g "
                               "beta=%g; expected finite numbers", i,
                               act_names[a->kind], (double)a->alpha,
                               (double)a->beta);
    }
    return SEQK_OK;
}

/* Input size of layer l: desc.input_size, then D*H (checked in create). */
static int64_t layer_input(const seqk_rnn *rnn, int l)
{
    return l == 0 ? rnn->desc.input_size
                  : rnn->num_dirs * rnn->desc.hidden_size;
}

seqk_status seqk_rnn_create(seqk_context *ctx, const seqk_rnn_desc *desc,
                            seqk_rnn **out)
{
    seqk_status st;
    seqk_rnn *rnn = NULL;

    if (out)
        *out = NULL;
    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "ctx is NULL; expected a context from "
                           "seqk_context_create");
    if (!desc)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "desc is NULL; expected a seqk_rnn_desc filled by "
                           "seqk_rnn_desc_init");
    if (!out)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "rnn is NULL; expected a place for the plan");
    /* descs from before weight_dtype are smaller: it reads as 0 (f32) */
    seqk_rnn_desc dcopy;
    st = seqk__check_struct(ctx, desc, desc->struct_size,
                            offsetof(seqk_rnn_desc, weight_dtype), "desc");
    if (st != SEQK_OK)
        return st;
    memset(&dcopy, 0, sizeof dcopy);
    memcpy(&dcopy, desc, desc->struct_size < sizeof dcopy
                             ? desc->struct_size : sizeof dcopy);
    dcopy.struct_size = sizeof dcopy;
    if (dcopy.weight_dtype == 0)
        dcopy.weight_dtype = SEQK_F32;
    desc = &dcopy;
    st = check_desc(ctx, desc);
    if (st != SEQK_OK)
        return st;

    const int D = desc->direction == SEQK_BIDIRECTIONAL ? 2 : 1;
    const int64_t H = desc->hidden_size;
    int64_t dh, w, r, b, all;
    /* every layer's sizes (layer 0 and the D*H-input layers) must fit */
    if (seqk__mul_i64(D, H, &dh))
        return seqk__error(ctx, SEQK_ERR_OVERFLOW, "desc->hidden_size=%lld "
                           "is too large: sizes overflow", (long long)H);
    for (int l = 0; l < 2 && l < desc->num_layers; l++) {
        const int64_t I = l == 0 ? desc->input_size : dh;
        st = seqk__rnn_weight_sizes(ctx, desc->cell, desc->linear_before_reset,
                                    D, H, I, SEQK_WEIGHTS_ONNX, &w, &r, &b);
        if (st != SEQK_OK)
            return st;
        /* the plan stores W, R, B and P ([D,3H]) of a layer in one block */
        if (seqk__add_i64(w, r, &all) || seqk__add_i64(all, b, &all) ||
            seqk__add_i64(all, 3 * dh, &all) || all > INT64_MAX / 16 ||
            (uint64_t)all > SIZE_MAX / sizeof(float))
            return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                               "hidden_size=%lld, input_size=%lld: the "
                               "weight sizes overflow", (long long)H,
                               (long long)I);
    }

    rnn = calloc(1, sizeof *rnn);
    if (!rnn)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY, "out of memory "
                           "creating an RNN plan");
    rnn->layers = calloc((size_t)desc->num_layers, sizeof *rnn->layers);
    if (!rnn->layers) {
        free(rnn);
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY, "out of memory "
                           "creating an RNN plan of %d layers",
                           desc->num_layers);
    }
    rnn->ctx = ctx;
    seqk__context_retain(ctx);
    rnn->desc = *desc;
    rnn->num_dirs = D;
    rnn->num_gates = seqk__rnn_gates(desc->cell);
    for (int l = 0; l < desc->num_layers; l++)
        rnn->layers[l].input_size = layer_input(rnn, l);

    /* act[d*3 + k]: defaults, one set for both directions, or two sets */
    const int k = seqk__rnn_funcs(desc->cell);
    default_acts(desc->cell, rnn->act);
    default_acts(desc->cell, rnn->act + 3);
    for (int d = 0; d < 2 && desc->num_activations > 0; d++) {
        const int set = desc->num_activations == 2 * k ? d : 0;
        for (int i = 0; i < k; i++)
            rnn->act[d * 3 + i] = desc->activations[set * k + i];
    }

    *out = rnn;
    return SEQK_OK;
}

void seqk__rnn_cache_clear(seqk_backend_cache *cache)
{
    if (cache->data && cache->free_fn)
        cache->free_fn(cache->data);
    memset(cache, 0, sizeof *cache);
}

seqk_status seqk_rnn_destroy(seqk_rnn *rnn)
{
    if (!rnn)
        return SEQK_OK;
    for (int l = 0; l < rnn->desc.num_layers; l++) {
        seqk__rnn_cache_clear(&rnn->layers[l].cache);
        seqk__aligned_free(rnn->layers[l].block);
    }
    free(rnn->layers);
    seqk__rnn_train_free(rnn);
    seqk__context_release(rnn->ctx);
    free(rnn);
    return SEQK_OK;
}

/* ------------------------------------------------------------- weights */


/* Layer and weight format of a set/get of one layer's weights (or their
 * gradients); has_p: peepholes (named pname) were given. */
seqk_status seqk__rnn_check_layer_format(const seqk_rnn *rnn, int layer,
                                         seqk_weight_format format,
                                         int has_p, const char *pname)
{
    seqk_context *ctx = rnn->ctx;
    const seqk_rnn_desc *d = &rnn->desc;
    if (layer < 0 || layer >= d->num_layers)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "layer is %d; expected 0..%d (num_layers=%d)",
                           layer, d->num_layers - 1, d->num_layers);
    if ((int)format < SEQK_WEIGHTS_ONNX || (int)format > SEQK_WEIGHTS_ONEDNN)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "format is %d; expected SEQK_WEIGHTS_ONNX, "
                           "_PYTORCH, _CUDNN or _ONEDNN", (int)format);
    if (d->cell == SEQK_CELL_GRU && !d->linear_before_reset &&
        (format == SEQK_WEIGHTS_PYTORCH || format == SEQK_WEIGHTS_CUDNN))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s GRU weights are linear_before_reset=1 but the "
                           "plan has linear_before_reset=0: set it to 1",
                           format == SEQK_WEIGHTS_PYTORCH ? "PyTorch" : "cuDNN");
    if (has_p && d->cell != SEQK_CELL_LSTM)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s (peepholes) is for LSTM only; pass NULL for "
                           "a %s", pname, seqk__rnn_cell_name(d->cell));
    return SEQK_OK;
}

seqk_status seqk_rnn_set_weights(seqk_rnn *rnn, int layer,
                                 seqk_weight_format format,
                                 const seqk_tensor *W, const seqk_tensor *R,
                                 const seqk_tensor *B, const seqk_tensor *P)
{
    if (!rnn)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "rnn is NULL; expected a plan from seqk_rnn_create");
    seqk_context *ctx = rnn->ctx;
    const seqk_rnn_desc *d = &rnn->desc;
    const int D = rnn->num_dirs, G = rnn->num_gates;
    const int lbr = d->linear_before_reset;
    const int64_t H = d->hidden_size;
    seqk_status st;

    if ((st = seqk__rnn_check_layer_format(rnn, layer, format, P != NULL,
                                           "P")))
        return st;

    const int64_t I = rnn->layers[layer].input_size;
    char why[160];
    snprintf(why, sizeof why, "hidden_size=%lld with input_size=%lld "
             "(layer %d, %d direction%s)", (long long)H, (long long)I, layer,
             D, D == 2 ? "s" : "");

    /* shapes of the format (see seqk.h) */
    int64_t wd[4], rd[4], bd[3];
    int wn, bn;
    if (format == SEQK_WEIGHTS_ONEDNN) {
        const int nb = d->cell == SEQK_CELL_GRU && lbr ? 4 : G;
        wn = 4;
        wd[0] = D; wd[1] = I; wd[2] = G; wd[3] = H;
        rd[0] = D; rd[1] = H; rd[2] = G; rd[3] = H;
        bn = 3;
        bd[0] = D; bd[1] = nb; bd[2] = H;
    } else {
        wn = 3;
        wd[0] = D; wd[1] = G * H; wd[2] = I;
        rd[0] = D; rd[1] = G * H; rd[2] = H;
        bn = 2;
        bd[0] = D; bd[1] = 2 * G * H;
    }
    const int64_t pd[2] = {D, 3 * H};
    if ((st = seqk__check_f32_dims(ctx, W, "W", wn, wd, why)) != SEQK_OK ||
        (st = seqk__check_f32_dims(ctx, R, "R", wn, rd, why)) != SEQK_OK)
        return st;
    if (B && (st = seqk__check_f32_dims(ctx, B, "B", bn, bd, why)) != SEQK_OK)
        return st;
    if (P && (st = seqk__check_f32_dims(ctx, P, "P", 2, pd, why)) != SEQK_OK)
        return st;

    /* one block: W [D,GH,I] | R [D,GH,H] | B [D,2GH] | P [D,3H] (sizes
     * checked in seqk_rnn_create) */
    const int64_t nw = D * G * H * I, nr = D * G * H * H;
    const int64_t nb = B ? D * 2 * G * H : 0, np = P ? D * 3 * H : 0;
    float *block = seqk__aligned_alloc((size_t)(nw + nr + nb + np) * sizeof(float));
    if (!block)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "out of memory copying the weights of layer %d "
                           "(%lld floats)", layer, (long long)(nw + nr + nb + np));
    float *Wd = block, *Rd = Wd + nw, *Bd = B ? Rd + nr : NULL;
    float *Pd = P ? Rd + nr + nb : NULL;

    /* The weights are read on the host (device tensors are downloaded). */
    void *tw = NULL, *tr = NULL, *tb = NULL, *tp = NULL;
    const void *hw = seqk__tensor_host(W, &tw);
    const void *hr = hw ? seqk__tensor_host(R, &tr) : NULL;
    const void *hb = hr && B ? seqk__tensor_host(B, &tb) : NULL;
    const void *hp = hr && P ? seqk__tensor_host(P, &tp) : NULL;
    if (!hw || !hr || (B && !hb) || (P && !hp))
        st = SEQK_ERR_DEVICE;
    else
        st = seqk__rnn_convert(ctx, d->cell, lbr, D, H, I, format,
                               SEQK_WEIGHTS_ONNX, hw, hr, hb, Wd, Rd, Bd);
    if (st == SEQK_OK && P)
        memcpy(Pd, hp, (size_t)np * sizeof(float));
    /* bf16 plans: W and R (contiguous) rounded once; every backend then
     * computes in f32 with these values (core/bf16.h) */
    if (st == SEQK_OK && d->weight_dtype == SEQK_BF16)
        seqk__bf16_round_array(Wd, (size_t)(nw + nr));
    free(tw);
    free(tr);
    free(tb);
    free(tp);
    if (st != SEQK_OK) {
        seqk__aligned_free(block);
        return st;
    }

    seqk_rnn_layer_weights *lw = &rnn->layers[layer];
    seqk__rnn_cache_clear(&lw->cache);
    seqk__aligned_free(lw->block);
    lw->block = block;
    lw->W = Wd;
    lw->R = Rd;
    lw->B = Bd;
    lw->P = Pd;
    return SEQK_OK;
}

/* ------------------------------------------------------------- forward */

/* Checks an optional state tensor (initial_h/c, Y_h/c): f32 of ctx, shape
 * [L*D,B,H] (layout 1: [B,L*D,H]). */
static seqk_status check_state(seqk_context *ctx, const seqk_rnn *rnn,
                               const seqk_tensor *t, const char *what,
                               int64_t LD, int64_t B)
{
    if (!t)
        return SEQK_OK;
    const int64_t H = rnn->desc.hidden_size;
    int64_t dims[3] = {LD, B, H};
    if (rnn->desc.layout == 1) {
        dims[0] = B;
        dims[1] = LD;
    }
    char why[160];
    snprintf(why, sizeof why, "%d layer%s x %d direction%s, batch=%lld, "
             "hidden_size=%lld%s", rnn->desc.num_layers,
             rnn->desc.num_layers > 1 ? "s" : "", rnn->num_dirs,
             rnn->num_dirs > 1 ? "s" : "", (long long)B, (long long)H,
             rnn->desc.layout ? " (layout 1)" : "");
    return seqk__check_f32_dims(ctx, t, what, 3, dims, why);
}

/* The tensors of one forward call and what they give: T and B from X,
 * the host copy of sequence_lens, the scratch of inner layer outputs. */
typedef struct rnn_io {
    const seqk_tensor *X, *sequence_lens, *initial_h, *initial_c;
    seqk_tensor *Y, *Y_h, *Y_c;
    int64_t T, B;
    const int32_t *lens;  /* host copy of sequence_lens, or NULL */
    float *scratch;       /* layers l < L-1 write [T,B,D,H]: two alternate */
    int64_t snum;         /* floats of one scratch buffer */
} rnn_io;

/* Checks every tensor of a forward call against the plan (shapes, types,
 * the context, no overlap between outputs and inputs) and sets io->T and
 * io->B. Reads no tensor data. */
static seqk_status check_forward(const seqk_rnn *rnn, rnn_io *io)
{
    seqk_context *ctx = rnn->ctx;
    const seqk_rnn_desc *d = &rnn->desc;
    const int D = rnn->num_dirs, L = d->num_layers, layout = d->layout;
    const int64_t H = d->hidden_size, I = d->input_size;
    seqk_status st;

    for (int l = 0; l < L; l++)
        if (!rnn->layers[l].block)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "layer %d has no weights: call "
                               "seqk_rnn_set_weights", l);
    if (d->cell != SEQK_CELL_LSTM && (io->initial_c || io->Y_c))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s is for LSTM only; pass NULL for a %s",
                           io->initial_c ? "initial_c" : "Y_c",
                           seqk__rnn_cell_name(d->cell));

    /* X gives T and B */
    const seqk_tensor *X = io->X;
    st = seqk__check_tensor(ctx, X, "X", SEQK_F32, 3);
    if (st != SEQK_OK)
        return st;
    const int64_t T = X->dims[layout ? 1 : 0], Bn = X->dims[layout ? 0 : 1];
    {
        const int64_t xd[3] = {layout ? Bn : T, layout ? T : Bn, I};
        char why[64];
        snprintf(why, sizeof why, "input_size=%lld", (long long)I);
        st = seqk__check_dims(ctx, X, "X", 3, xd, why);
        if (st != SEQK_OK)
            return st;
    }
    io->T = T;
    io->B = Bn;

    if (io->sequence_lens) {
        const int64_t sd[1] = {Bn};
        st = seqk__check_tensor(ctx, io->sequence_lens, "sequence_lens",
                                SEQK_I32, 1);
        if (st == SEQK_OK)
            st = seqk__check_dims(ctx, io->sequence_lens, "sequence_lens", 1,
                                  sd, "the batch size of X");
        if (st != SEQK_OK)
            return st;
    }

    const int64_t LD = (int64_t)L * D;
    if ((st = check_state(ctx, rnn, io->initial_h, "initial_h", LD, Bn)) != SEQK_OK ||
        (st = check_state(ctx, rnn, io->initial_c, "initial_c", LD, Bn)) != SEQK_OK ||
        (st = check_state(ctx, rnn, io->Y_h, "Y_h", LD, Bn)) != SEQK_OK ||
        (st = check_state(ctx, rnn, io->Y_c, "Y_c", LD, Bn)) != SEQK_OK)
        return st;
    if (io->Y) {
        const int64_t yd0[4] = {T, D, Bn, H}, yd1[4] = {Bn, T, D, H};
        char why[96];
        snprintf(why, sizeof why, "%d direction%s, hidden_size=%lld%s", D,
                 D > 1 ? "s" : "", (long long)H, layout ? " (layout 1)" : "");
        if ((st = seqk__check_f32_dims(ctx, io->Y, "Y", 4, layout ? yd1 : yd0, why)) != SEQK_OK)
            return st;
    }
    /* outputs are written while inputs are read: no sharing, except a
     * final state over its own initial state (read first, see above) */
    const seqk_tensor *outs[3] = {io->Y, io->Y_h, io->Y_c};
    const seqk_tensor *ins[6] = {X, io->sequence_lens, io->initial_h,
                                 io->initial_c, io->Y_h, io->Y_c};
    static const char *const out_names[3] = {"Y", "Y_h", "Y_c"};
    static const char *const in_names[6] = {"X", "sequence_lens", "initial_h",
                                            "initial_c", "Y_h", "Y_c"};
    for (int o = 0; o < 3; o++)
        for (int i = 0; i < 6; i++) {
            if ((o > 0 && i == o + 3) ||
                (o == 1 && i == 2 && io->Y_h == io->initial_h) ||
                (o == 2 && i == 3 && io->Y_c == io->initial_c))
                continue;
            if (seqk__tensors_overlap(outs[o], ins[i]))
                return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                                   "%s shares memory with %s; expected a "
                                   "separate tensor (only Y_h = initial_h "
                                   "and Y_c = initial_c may be shared)",
                                   out_names[o], in_names[i]);
        }
    return SEQK_OK;
}

/* Checks the values of sequence_lens (host copy in io->lens): 0..T. */
static seqk_status check_lens(seqk_context *ctx, const rnn_io *io)
{
    for (int64_t b = 0; b < io->B; b++)
        if (io->lens[b] < 0 || io->lens[b] > io->T)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "sequence_lens[%lld] is %d; expected "
                               "0..%lld (the sequence length of X)",
                               (long long)b, (int)io->lens[b],
                               (long long)io->T);
    return SEQK_OK;
}

/* Layer l's problem: where its input, states and outputs are and their
 * strides. Layer l reads layer l-1's scratch and writes the other one
 * (or Y for the last layer). */
static void layer_problem(const seqk_rnn *rnn, const rnn_io *io, int l,
                          seqk_rnn_layer_problem *p)
{
    const seqk_rnn_desc *d = &rnn->desc;
    const int D = rnn->num_dirs, L = d->num_layers, layout = d->layout;
    const int64_t H = d->hidden_size, I = d->input_size;
    const int64_t T = io->T, Bn = io->B, LD = (int64_t)L * D;
    /* state strides and the offset of layer l's first row */
    const int64_t s_sd = layout ? H : Bn * H, s_sb = layout ? LD * H : H;
    const int64_t s_layer = layout ? (int64_t)D * H : (int64_t)D * Bn * H;
    seqk_rnn_layer_weights *lw = &rnn->layers[l];

    memset(p, 0, sizeof *p);
    p->cell = d->cell;
    p->num_dirs = D;
    p->reverse = d->direction == SEQK_REVERSE;
    p->T = T;
    p->B = Bn;
    p->I = lw->input_size;
    p->H = H;
    if (l == 0) {
        p->x = io->X->data;
        p->x_st = layout ? I : Bn * I;
        p->x_sb = layout ? T * I : I;
    } else {
        p->x = io->scratch + ((l - 1) % 2) * io->snum;
        p->x_st = Bn * D * H;
        p->x_sb = D * H;
    }
    p->W = lw->W;
    p->R = lw->R;
    p->bias = lw->B;
    p->P = lw->P;
    p->cache = &lw->cache;
    p->weights_bf16 = d->weight_dtype == SEQK_BF16;
    p->seq_lens = io->lens;
    p->h0 = io->initial_h ? (const float *)io->initial_h->data + l * s_layer
                          : NULL;
    p->c0 = io->initial_c ? (const float *)io->initial_c->data + l * s_layer
                          : NULL;
    p->h0_sd = s_sd;
    p->h0_sb = s_sb;
    if (l < L - 1) {
        p->y = io->scratch + (l % 2) * io->snum;
        p->y_st = Bn * D * H;
        p->y_sd = H;
        p->y_sb = D * H;
    } else if (io->Y) {
        p->y = io->Y->data;
        p->y_st = layout ? D * H : D * Bn * H;
        p->y_sd = layout ? H : Bn * H;
        p->y_sb = layout ? T * D * H : H;
    }
    p->yh = io->Y_h ? (float *)io->Y_h->data + l * s_layer : NULL;
    p->yc = io->Y_c ? (float *)io->Y_c->data + l * s_layer : NULL;
    p->yh_sd = s_sd;
    p->yh_sb = s_sb;
    memcpy(p->act, rnn->act, sizeof p->act);
    p->clip = d->clip;
    p->input_forget = d->input_forget;
    p->linear_before_reset = d->linear_before_reset;
}

seqk_status seqk_rnn_forward(seqk_rnn *rnn, const seqk_tensor *X,
                             const seqk_tensor *sequence_lens,
                             const seqk_tensor *initial_h,
                             const seqk_tensor *initial_c, seqk_tensor *Y,
                             seqk_tensor *Y_h, seqk_tensor *Y_c)
{
    if (!rnn)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "rnn is NULL; expected a plan from seqk_rnn_create");
    seqk_context *ctx = rnn->ctx;
    const int D = rnn->num_dirs, L = rnn->desc.num_layers;
    const int64_t H = rnn->desc.hidden_size;
    rnn_io io = {.X = X, .sequence_lens = sequence_lens,
                 .initial_h = initial_h, .initial_c = initial_c,
                 .Y = Y, .Y_h = Y_h, .Y_c = Y_c};
    seqk_tensor *scratch_t = NULL;
    void *lens_tmp = NULL;
    seqk_status st = check_forward(rnn, &io);
    if (st != SEQK_OK)
        return st;

    if (sequence_lens) {
        /* read on the host: a download for device tensors */
        io.lens = seqk__tensor_host(sequence_lens, &lens_tmp);
        if (!io.lens)
            return SEQK_ERR_DEVICE;
        if ((st = check_lens(ctx, &io)) != SEQK_OK)
            goto cleanup;
    }

    /* A tensor of the context, so that the scratch lives where the
     * kernels run. */
    if (L > 1) {
        const int64_t sdims[4] = {io.T, io.B, D, H};
        if (seqk__numel(4, sdims, &io.snum) ||
            (uint64_t)io.snum > SIZE_MAX / (2 * sizeof(float))) {
            st = seqk__error(ctx, SEQK_ERR_OVERFLOW,
                             "the layer outputs [%lld,%lld,%d,%lld] overflow",
                             (long long)io.T, (long long)io.B, D,
                             (long long)H);
            goto cleanup;
        }
        const int64_t sn = io.snum * (L > 2 ? 2 : 1);
        st = seqk_tensor_create(ctx, 1, &sn, SEQK_F32, &scratch_t);
        if (st != SEQK_OK)
            goto cleanup;
        io.scratch = scratch_t->data;
    }

    for (int l = 0; l < L; l++) {
        seqk_rnn_layer_problem p;
        layer_problem(rnn, &io, l, &p);
        st = seqk__dispatch(ctx, SEQK_OP_RNN_LAYER, &p);
        if (st != SEQK_OK)
            goto cleanup;
    }
    st = SEQK_OK;

cleanup:
    seqk_tensor_destroy(scratch_t);
    free(lens_tmp);
    return st;
}

/* ------------------------------------------------ for op_rnn_train.c */

seqk_status seqk__rnn_check_call(const seqk_rnn *rnn, const seqk_tensor *X,
                                 const seqk_tensor *sequence_lens,
                                 const seqk_tensor *initial_h,
                                 const seqk_tensor *initial_c,
                                 const seqk_tensor *Y, const seqk_tensor *Y_h,
                                 const seqk_tensor *Y_c, int64_t *T,
                                 int64_t *B)
{
    rnn_io io = {.X = X, .sequence_lens = sequence_lens,
                 .initial_h = initial_h, .initial_c = initial_c,
                 .Y = (seqk_tensor *)Y, .Y_h = (seqk_tensor *)Y_h,
                 .Y_c = (seqk_tensor *)Y_c};
    seqk_status st = check_forward(rnn, &io);
    *T = io.T;
    *B = io.B;
    return st;
}

void seqk__rnn_layer_problem(const seqk_rnn *rnn, const seqk_tensor *X,
                             const int32_t *lens, const seqk_tensor *initial_h,
                             const seqk_tensor *initial_c, seqk_tensor *Y,
                             seqk_tensor *Y_h, seqk_tensor *Y_c, int64_t T,
                             int64_t B, float *const *inner, int l,
                             seqk_rnn_layer_problem *p)
{
    rnn_io io = {.X = X, .initial_h = initial_h, .initial_c = initial_c,
                 .Y = Y, .Y_h = Y_h, .Y_c = Y_c, .T = T, .B = B,
                 .lens = lens};
    layer_problem(rnn, &io, l, p);
    /* inner layer outputs in their own [T,B,D,H] buffers (same strides as
     * the alternating scratch of the forward) */
    if (l > 0)
        p->x = inner[l - 1];
    if (l < rnn->desc.num_layers - 1)
        p->y = inner[l];
}
