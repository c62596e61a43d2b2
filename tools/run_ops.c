/*
 * run_ops.c — the op runners of `seqk run`, one per ONNX op: each works
 * out its output shapes from the inputs and attributes (ONNX rules), makes
 * the output tensors and makes one library call.  Problems the library
 * finds are passed through from seqk_last_error.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "run_ops.h"
#include "seqk.h"

/* Shapes of one layer's W and R in a weight format (seqk.h):
 *   onnx, pytorch, cudnn   W [D,G*H,I]   R [D,G*H,H]
 *   onednn                 W [D,I,G,H]   R [D,H,G,H]
 * The library checks them all; the two checks here come first because
 * the library, checking W before R, would blame W for them. */
static const char *const weight_layouts[][2] = {
    { "[D,G*H,I]", "[D,G*H,H]" }, { "[D,G*H,I]", "[D,G*H,H]" },
    { "[D,G*H,I]", "[D,G*H,H]" }, { "[D,I,G,H]", "[D,H,G,H]" },
};

/* W's input dim must be what the layer reads (X's I, or D*H). */
static int check_w_input(const run_state *st, seqk_weight_format fmt,
                         const char *wname, const seqk_tensor *W, int64_t I,
                         const char *what)
{
    char s[160];
    const int onednn = fmt == SEQK_WEIGHTS_ONEDNN;
    if (!W || seqk_tensor_ndim(W) != (onednn ? 4 : 3))
        return 0; /* the library names the expected rank */
    const int64_t got = seqk_tensor_dim(W, onednn ? 1 : 2);
    if (got == I)
        return 0;
    return run_fail(1, "%s: %s has shape %s, input size %lld, but %s has "
                    "size %lld; %s is %s (weight_format=%s)", st->op->name,
                    wname, run_shape_str(W, s, sizeof s), (long long)got,
                    what, (long long)I, wname, weight_layouts[fmt][0],
                    run_attr(st, "weight_format")
                        ? run_attr(st, "weight_format")->text
                        : "onnx");
}

/* H from R's last dim, when hidden_size is not given: R's own dims must
 * agree with it (else R, not W, is what is wrong). */
static int hidden_from_r(const run_state *st, seqk_weight_format fmt, int G,
                         const seqk_tensor *R, int64_t *H)
{
    char s[160];
    const int onednn = fmt == SEQK_WEIGHTS_ONEDNN;
    const int nd = seqk_tensor_ndim(R);
    if (nd != (onednn ? 4 : 3))
        return run_fail(1,
                        "%s: R has shape %s, so hidden_size cannot be "
                        "inferred; R is %s (G=%d gates), or give -a "
                        "hidden_size=N",
                        st->op->name, run_shape_str(R, s, sizeof s),
                        weight_layouts[fmt][1], G);
    *H = seqk_tensor_dim(R, nd - 1);
    const int ok = onednn ? seqk_tensor_dim(R, 1) == *H &&
                                seqk_tensor_dim(R, 2) == G
                          : seqk_tensor_dim(R, 1) == G * *H;
    if (ok)
        return 0;
    char want[96];
    const long long d0 = (long long)seqk_tensor_dim(R, 0), h = (long long)*H;
    if (onednn)
        snprintf(want, sizeof want, "[%lld,%lld,%d,%lld]", d0, h, G, h);
    else
        snprintf(want, sizeof want, "[%lld,%lld,%lld]", d0, G * h, h);
    return run_fail(1,
                    "%s: R has shape %s, whose dims disagree: its last dim "
                    "says hidden_size=%lld, so R must be %s = %s (G=%d "
                    "gates); or give -a hidden_size=N",
                    st->op->name, run_shape_str(R, s, sizeof s), h,
                    weight_layouts[fmt][1], want, G);
}

int run_op_rnn(run_state *st)
{
    const char *opn = st->op->name;
    seqk_cell cell = !strcmp(opn, "LSTM")  ? SEQK_CELL_LSTM
                     : !strcmp(opn, "GRU") ? SEQK_CELL_GRU
                                           : SEQK_CELL_RNN;
    const int G = cell == SEQK_CELL_LSTM ? 4 : cell == SEQK_CELL_GRU ? 3 : 1;
    seqk_tensor *X = run_input(st, "X"), *R = run_input(st, "R");
    seqk_tensor *Y = NULL, *Yh = NULL, *Yc = NULL;
    seqk_rnn *rnn = NULL;
    int rc = 0;

    const int layout = (int)run_attr_int(st, "layout", 0);
    if (run_need_rank(st, "X", X, 3,
                      layout ? "[B,T,I] (layout=1)" : "[T,B,I]"))
        return 1;
    const int64_t T = seqk_tensor_dim(X, layout ? 1 : 0);
    const int64_t B = seqk_tensor_dim(X, layout ? 0 : 1);
    const int64_t I = seqk_tensor_dim(X, 2);
    const attr_val *dir = run_attr(st, "direction");
    const int64_t D = dir && dir->choice == SEQK_BIDIRECTIONAL ? 2 : 1;
    const attr_val *wf = run_attr(st, "weight_format");
    const seqk_weight_format fmt =
        wf ? (seqk_weight_format)wf->choice : SEQK_WEIGHTS_ONNX;
    const int L = (int)run_attr_int(st, "num_layers", 1);

    /* Layers >= 1 come as W_l<l>, R_l<l> (required), B_l<l>, P_l<l>. */
    static const char letter[LW_COUNT] = { 'W', 'R', 'B', 'P' };
    for (int l = 1; l < MAX_RNN_LAYERS; l++)
        for (int w = 0; w < LW_COUNT; w++) {
            if (l < L && w <= LW_R && !st->layer_path[l][w])
                return run_fail(2, "%s: num_layers=%d needs -i %c_l%d=PATH "
                                "(layer %d's %c)", opn, L, letter[w], l, l,
                                letter[w]);
            if (l >= L && st->layer_path[l][w])
                return run_fail(2, "%s: input %c_l%d is for layer %d but "
                                "num_layers=%d (give -a num_layers=%d)",
                                opn, letter[w], l, l, L, l + 1);
        }

    /* PyTorch and cuDNN GRUs are linear_before_reset=1: that is their
     * default here, and 0 with their weights is refused. */
    const int torch_gru = cell == SEQK_CELL_GRU &&
                          (fmt == SEQK_WEIGHTS_PYTORCH ||
                           fmt == SEQK_WEIGHTS_CUDNN);
    const attr_val *lbr = run_attr(st, "linear_before_reset");
    if (torch_gru && lbr && lbr->i == 0)
        return run_fail(2, "attribute linear_before_reset=0: %s GRU weights "
                        "are linear_before_reset=1 (drop the attribute)",
                        wf->text);

    if (check_w_input(st, fmt, "W", run_input(st, "W"), I, "X's last dim"))
        return 1;
    /* ONNX lets hidden_size be implied by R [D,G*H,H]. */
    int64_t H = run_attr_int(st, "hidden_size", 0);
    if (H == 0 && hidden_from_r(st, fmt, G, R, &H))
        return 1;

    seqk_rnn_desc desc;
    seqk_rnn_desc_init(&desc, cell, I, H);
    desc.direction = dir ? (seqk_direction)dir->choice : SEQK_FORWARD;
    desc.layout = layout;
    desc.num_layers = L;
    desc.clip = run_attr_float(st, "clip", 0.0f);
    desc.input_forget = (int)run_attr_int(st, "input_forget", 0);
    desc.linear_before_reset = lbr ? (int)lbr->i : torch_gru;
    if (run_attr(st, "clip") && desc.clip <= 0)
        return run_fail(2, "attribute clip: expected a number > 0, got '%s'",
                        run_attr(st, "clip")->text);
    const attr_val *acts = run_attr(st, "activations");
    if (acts) {
        /* ONNX: f (RNN); f,g (GRU); f,g,h (LSTM) per direction.  One set
         * for both directions is also taken (as the library allows). */
        const int per_dir = cell == SEQK_CELL_LSTM  ? 3
                            : cell == SEQK_CELL_GRU ? 2
                                                    : 1;
        if (acts->n != per_dir && acts->n != per_dir * D)
            return run_fail(2,
                            "attribute activations: %s takes %d "
                            "activations per direction (%d for "
                            "direction=%s), got %d",
                            opn, per_dir, per_dir * (int)D,
                            dir ? dir->text : "forward", acts->n);
        /* alpha/beta lists feed, in order, only the functions that read
         * them (onnxruntime); missing ones keep the defaults. */
        const attr_val *al = run_attr(st, "activation_alpha");
        const attr_val *be = run_attr(st, "activation_beta");
        int ai = 0, bi = 0;
        desc.num_activations = acts->n;
        for (int k = 0; k < acts->n; k++) {
            seqk_act_kind kind = (seqk_act_kind)acts->acts[k];
            seqk_activation a = seqk_activation_default(kind);
            if (seqk_act_uses_alpha(kind) && al && ai < al->n)
                a.alpha = al->list[ai++];
            if (seqk_act_uses_beta(kind) && be && bi < be->n)
                a.beta = be->list[bi++];
            desc.activations[k] = a;
        }
    }

    if (seqk_rnn_create(st->ctx, &desc, &rnn) ||
        seqk_rnn_set_weights(rnn, 0, fmt, run_input(st, "W"), R,
                             run_input(st, "B"), run_input(st, "P"))) {
        rc = run_lib_fail(st);
        goto cleanup;
    }
    for (int l = 1; l < L; l++) {
        seqk_tensor *const *lw = st->layer_in[l];
        char wname[16], what[64];
        snprintf(wname, sizeof wname, "W_l%d", l);
        snprintf(what, sizeof what, "layer %d's input (D*H = %lld*%lld)",
                 l, (long long)D, (long long)H);
        if ((rc = check_w_input(st, fmt, wname, lw[LW_W], D * H, what)))
            goto cleanup;
        if (seqk_rnn_set_weights(rnn, l, fmt, lw[LW_W], lw[LW_R], lw[LW_B],
                                 lw[LW_P])) {
            /* The library names W, R, B, P; here they are W_l<l> ... */
            rc = run_fail(1, "%s: layer %d (W_l%d, R_l%d, B_l%d, P_l%d): %s",
                          opn, l, l, l, l, l, seqk_last_error(st->ctx));
            goto cleanup;
        }
    }
    /* Y [T,D,B,H], Y_h/Y_c [L*D,B,H]; layout 1: [B,T,D,H], [B,L*D,H] */
    const int64_t ydims[4] = { layout ? B : T, layout ? T : D, layout ? D : B,
                               H };
    const int64_t LD = (int64_t)L * D;
    const int64_t hdims[3] = { layout ? B : LD, layout ? LD : B, H };
    if ((run_wants(st, "Y") &&
         (rc = run_make_output(st, "Y", 4, ydims, &Y))) ||
        (run_wants(st, "Y_h") &&
         (rc = run_make_output(st, "Y_h", 3, hdims, &Yh))) ||
        (run_wants(st, "Y_c") &&
         (rc = run_make_output(st, "Y_c", 3, hdims, &Yc))))
        goto cleanup;
    if (seqk_rnn_forward(rnn, X, run_input(st, "sequence_lens"),
                         run_input(st, "initial_h"),
                         run_input(st, "initial_c"), Y, Yh, Yc))
        rc = run_lib_fail(st);

cleanup:
    seqk_rnn_destroy(rnn);
    return rc;
}

int run_op_gemm(run_state *st)
{
    seqk_tensor *A = run_input(st, "A"), *B = run_input(st, "B"), *Y = NULL;
    seqk_gemm_params p;
    seqk_gemm_params_init(&p);
    p.trans_a = (int)run_attr_int(st, "transA", 0);
    p.trans_b = (int)run_attr_int(st, "transB", 0);
    p.alpha = run_attr_float(st, "alpha", 1.0f);
    p.beta = run_attr_float(st, "beta", 1.0f);
    if (run_need_rank(st, "A", A, 2,
                      p.trans_a ? "[K,M] (transA=1)" : "[M,K]") ||
        run_need_rank(st, "B", B, 2, p.trans_b ? "[N,K] (transB=1)" : "[K,N]"))
        return 1;
    const int64_t dims[2] = { seqk_tensor_dim(A, p.trans_a ? 1 : 0),
                              seqk_tensor_dim(B, p.trans_b ? 0 : 1) };
    if (run_make_output(st, "Y", 2, dims, &Y))
        return 1;
    if (seqk_gemm(st->ctx, &p, A, B, run_input(st, "C"), Y))
        return run_lib_fail(st);
    return 0;
}

/* numpy matmul's output shape: 1-D operands are promoted ([K] -> [1,K] for
 * A, [K,1] for B) and the promoted axis dropped; batch dims broadcast. */
int run_op_matmul(run_state *st)
{
    seqk_tensor *A = run_input(st, "A"), *B = run_input(st, "B"), *Y = NULL;
    char sa[160], sb[160];
    const int ra = seqk_tensor_ndim(A), rb = seqk_tensor_ndim(B);
    if (ra == 0 || rb == 0)
        return run_fail(1,
                        "MatMul: %s is a scalar (shape []); MatMul needs at "
                        "least 1-D operands",
                        ra == 0 ? "A" : "B");
    const int64_t M = ra >= 2 ? seqk_tensor_dim(A, ra - 2) : 1;
    const int64_t N = rb >= 2 ? seqk_tensor_dim(B, rb - 1) : 1;
    const int na = ra > 2 ? ra - 2 : 0, nb = rb > 2 ? rb - 2 : 0;
    const int nbatch = na > nb ? na : nb;
    int64_t dims[SEQK_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < nbatch; i++) {
        /* Align batch dims from the right. */
        int ia = i - (nbatch - na), ib = i - (nbatch - nb);
        int64_t da = ia >= 0 ? seqk_tensor_dim(A, ia) : 1;
        int64_t db = ib >= 0 ? seqk_tensor_dim(B, ib) : 1;
        if (da != db && da != 1 && db != 1)
            return run_fail(1,
                            "MatMul: A has shape %s and B has shape %s, "
                            "whose batch dims %lld and %lld do not broadcast",
                            run_shape_str(A, sa, sizeof sa),
                            run_shape_str(B, sb, sizeof sb), (long long)da,
                            (long long)db);
        dims[nd++] = da == 1 ? db : da;
    }
    if (ra >= 2)
        dims[nd++] = M;
    if (rb >= 2)
        dims[nd++] = N;
    if (run_make_output(st, "Y", nd, dims, &Y))
        return 1;
    if (seqk_matmul(st->ctx, A, B, Y))
        return run_lib_fail(st);
    return 0;
}

int run_op_softmax(run_state *st)
{
    seqk_tensor *X = run_input(st, "input"), *Y = NULL;
    int64_t dims[SEQK_MAX_DIMS];
    const int nd = seqk_tensor_ndim(X);
    for (int i = 0; i < nd; i++)
        dims[i] = seqk_tensor_dim(X, i);
    if (run_make_output(st, "output", nd, dims, &Y))
        return 1;
    if (seqk_softmax(st->ctx, run_attr_int(st, "axis", -1), X, Y))
        return run_lib_fail(st);
    return 0;
}

int run_op_attention(run_state *st)
{
    seqk_tensor *Q = run_input(st, "Q"), *V = run_input(st, "V"), *Y = NULL;
    char sq[160], sv[160];
    seqk_attention_params p;
    seqk_attention_params_init(&p);
    p.q_num_heads = run_attr_int(st, "q_num_heads", 0);
    p.kv_num_heads = run_attr_int(st, "kv_num_heads", 0);
    p.scale = run_attr_float(st, "scale", 0.0f);
    p.softcap = run_attr_float(st, "softcap", 0.0f);
    p.is_causal = (int)run_attr_int(st, "is_causal", 0);
    const attr_val *align = run_attr(st, "causal_align");
    if (align)
        p.causal_align =
            align->choice ? SEQK_CAUSAL_BOTTOM_RIGHT : SEQK_CAUSAL_TOP_LEFT;

    const int rq = seqk_tensor_ndim(Q), rv = seqk_tensor_ndim(V);
    if ((rq != 3 && rq != 4) || rv != rq)
        return run_fail(1,
                        "Attention: Q has shape %s and V has shape %s; Q, K "
                        "and V must be all 3-D [B,S,heads*D] or all 4-D "
                        "[B,heads,S,D]",
                        run_shape_str(Q, sq, sizeof sq),
                        run_shape_str(V, sv, sizeof sv));
    int64_t dims[4];
    if (rq == 4) {
        dims[0] = seqk_tensor_dim(Q, 0);
        dims[1] = seqk_tensor_dim(Q, 1);
        dims[2] = seqk_tensor_dim(Q, 2);
        dims[3] = seqk_tensor_dim(V, 3);
    } else {
        if (!p.q_num_heads || !p.kv_num_heads)
            return run_fail(1,
                            "Attention: 3-D Q, K and V need -a q_num_heads=N "
                            "and -a kv_num_heads=N");
        /* Y's size follows from these attributes: check them against Q
         * before allocating Y, so that q_num_heads=16777216 over a tiny
         * Q is refused rather than allocated (the library checks the
         * rest once Y exists). */
        const int64_t qd = seqk_tensor_dim(Q, 2);
        if (p.q_num_heads < 0 || p.kv_num_heads < 0 ||
            p.q_num_heads > qd || qd % p.q_num_heads)
            return run_fail(1,
                            "Attention: Q has shape %s whose last dim is not "
                            "a multiple of q_num_heads=%lld",
                            run_shape_str(Q, sq, sizeof sq),
                            (long long)p.q_num_heads);
        const int64_t vd = seqk_tensor_dim(V, 2);
        if (vd % p.kv_num_heads)
            return run_fail(1,
                            "Attention: V has shape %s whose last dim is not "
                            "a multiple of kv_num_heads=%lld",
                            run_shape_str(V, sv, sizeof sv),
                            (long long)p.kv_num_heads);
        const int64_t dv = vd / p.kv_num_heads;
        if (dv && p.q_num_heads > INT64_MAX / dv)
            return run_fail(1, "Attention: q_num_heads=%lld is too large",
                            (long long)p.q_num_heads);
        dims[0] = seqk_tensor_dim(Q, 0);
        dims[1] = seqk_tensor_dim(Q, 1);
        dims[2] = p.q_num_heads * dv;
    }
    if (run_make_output(st, "Y", rq, dims, &Y))
        return 1;
    if (seqk_attention(st->ctx, &p, Q, run_input(st, "K"), V,
                       run_input(st, "attn_mask"), Y))
        return run_lib_fail(st);
    return 0;
}

int run_op_seq_attention(run_state *st)
{
    seqk_seq_attention_inputs in = { 0 };
    seqk_tensor *ctxt = NULL, *weights = NULL;
    seqk_tensor *query = run_input(st, "query"), *keys = run_input(st, "keys");
    seqk_tensor *values = run_input(st, "values");
    seqk_seq_attention_params p;
    seqk_seq_attention_params_init(&p);
    const attr_val *score = run_attr(st, "score");
    if (score)
        p.score = (seqk_score_kind)seqk_score_from_name(score->text);

    if (run_need_rank(st, "query", query, 2, "[B,Dq]") ||
        run_need_rank(st, "keys", keys, 3, "[B,S,Dk]") ||
        (values && run_need_rank(st, "values", values, 3, "[B,S,Dv]")))
        return 1;
    const seqk_tensor *vals = values ? values : keys;
    const int64_t cdims[2] = { seqk_tensor_dim(query, 0),
                               seqk_tensor_dim(vals, 2) };
    const int64_t wdims[2] = { seqk_tensor_dim(query, 0),
                               seqk_tensor_dim(keys, 1) };
    if (run_make_output(st, "context", 2, cdims, &ctxt) ||
        (run_wants(st, "weights") &&
         run_make_output(st, "weights", 2, wdims, &weights)))
        return 1;
    in.query = query;
    in.keys = keys;
    in.values = values;
    in.key_lens = run_input(st, "key_lens");
    in.W = run_input(st, "W");
    in.W1 = run_input(st, "W1");
    in.W2 = run_input(st, "W2");
    in.v = run_input(st, "v");
    in.Wloc = run_input(st, "Wloc");
    if (seqk_seq_attention(st->ctx, &p, &in, ctxt, weights))
        return run_lib_fail(st);
    return 0;
}
