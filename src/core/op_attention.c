/*
 * op_attention.c — front end of seqk_attention (ONNX Attention-23).
 *
 * Checks Q, K, V, attn_mask and Y, resolves the 3-D and 4-D layouts and
 * the mask broadcasting into element strides (seqk_attention_problem in
 * problems.h) and dispatches.  Layouts, head dim d contiguous in both:
 *
 *   4-D  Q [B,Hq,Sq,Dh]      q[b, h, s, d]  strides (Hq*Sq*Dh, Sq*Dh, Dh)
 *   3-D  Q [B,Sq,Hq*Dh]      q[b, s, h, d]  strides (Sq*Hq*Dh, Dh, Hq*Dh)
 *
 * and likewise K, V (Hkv heads) and Y (Hq heads of Dv).  The mask is
 * aligned to the right of [B,Hq,Sq,Skv] as numpy does; a dim of 1
 * broadcasts (stride 0).  Its last dim is not broadcast but padded, as in
 * ONNX: a last dim m < Skv leaves keys m..Skv-1 masked, so a [Sq,1] mask
 * lets every query see key 0 only.
 */
#include <math.h>
#include <string.h>

#include "core/internal.h"

void seqk_attention_params_init(seqk_attention_params *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->causal_align = SEQK_CAUSAL_TOP_LEFT;
}

/* Copies the caller's params (NULL: defaults) and checks the fields. */
static seqk_status read_params(seqk_context *ctx,
                               const seqk_attention_params *in,
                               seqk_attention_params *p)
{
    seqk_status st;
    seqk_attention_params_init(p);
    if (in) {
        st = seqk__check_struct(ctx, in, in->struct_size, sizeof *p,
                                "seqk_attention: params");
        if (st)
            return st;
        *p = *in;
    }
    if (p->q_num_heads < 0 || p->kv_num_heads < 0)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Attention: q_num_heads=%lld and kv_num_heads=%lld "
                           "must not be negative", (long long)p->q_num_heads,
                           (long long)p->kv_num_heads);
    if (!isfinite(p->scale))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Attention: scale is %g; it must be finite (0 for "
                           "1/sqrt(head_size))", (double)p->scale);
    if (!isfinite(p->softcap) || p->softcap < 0.0f)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Attention: softcap is %g; it must be >= 0 "
                           "(0: off)", (double)p->softcap);
    if (p->causal_align != SEQK_CAUSAL_TOP_LEFT &&
        p->causal_align != SEQK_CAUSAL_BOTTOM_RIGHT)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Attention: causal_align is %d; use "
                           "SEQK_CAUSAL_TOP_LEFT or SEQK_CAUSAL_BOTTOM_RIGHT",
                           (int)p->causal_align);
    return SEQK_OK;
}

static int same_dims(const seqk_tensor *t, int ndim, const int64_t *dims)
{
    if (t->ndim != ndim)
        return 0;
    for (int i = 0; i < ndim; i++)
        if (t->dims[i] != dims[i])
            return 0;
    return 1;
}

/* One of Q, K, V: checks dtype and rank, returns its [B, H, S, D] view
 * and element strides (sb, sh, ss).  heads is the attribute (0: none). */
typedef struct {
    int64_t B, H, S, D;
    int64_t sb, sh, ss;
} qkv_view;

static seqk_status view_qkv(seqk_context *ctx, const seqk_tensor *t,
                            const char *what, int ndim, int64_t heads,
                            const char *heads_name, qkv_view *v)
{
    char shape[96];
    seqk_status st = seqk__check_tensor(ctx, t, what, SEQK_F32, -1);
    if (st != SEQK_OK)
        return st;
    if (t->ndim != ndim)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "%s has shape %s but Q is %d-D; "
                           "Q, K and V must all be 3-D or all 4-D", what,
                           seqk__shape_str(t, shape, sizeof shape), ndim);

    v->B = t->dims[0];
    if (ndim == 4) {
        v->H = t->dims[1];
        v->S = t->dims[2];
        v->D = t->dims[3];
        if (heads != 0 && heads != v->H)
            return seqk__error(ctx, SEQK_ERR_SHAPE,
                               "%s has shape %s (%lld heads) "
                               "but %s=%lld", what,
                               seqk__shape_str(t, shape, sizeof shape),
                               (long long)v->H, heads_name,
                               (long long)heads);
        if (v->H < 1)
            return seqk__error(ctx, SEQK_ERR_SHAPE,
                               "%s has shape %s: it needs at "
                               "least one head", what,
                               seqk__shape_str(t, shape, sizeof shape));
        v->ss = v->D;
        v->sh = v->S * v->D;
        v->sb = v->H * v->sh;
    } else {
        if (heads < 1)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "%s is 3-D %s, which needs %s > 0 to "
                               "split its last dim into heads", what,
                               seqk__shape_str(t, shape, sizeof shape),
                               heads_name);
        int64_t hidden = t->dims[2];
        if (hidden % heads != 0)
            return seqk__error(ctx, SEQK_ERR_SHAPE,
                               "%s has shape %s but its "
                               "hidden size %lld is not divisible by "
                               "%s=%lld", what,
                               seqk__shape_str(t, shape, sizeof shape),
                               (long long)hidden, heads_name,
                               (long long)heads);
        v->H = heads;
        v->S = t->dims[1];
        v->D = hidden / heads;
        v->sh = v->D;
        v->ss = hidden;
        v->sb = v->S * hidden;
    }
    return SEQK_OK;
}

/* Mask checks and strides, right-aligned onto [B,Hq,Sq,Skv]. */
static seqk_status view_mask(seqk_context *ctx, const seqk_tensor *m,
                             const int64_t target[4],
                             seqk_attention_problem *p)
{
    char shape[96], tshape[96];
    if (m->dtype != SEQK_BOOL && m->dtype != SEQK_F32)
        return seqk__error(ctx, SEQK_ERR_DTYPE,
                           "Attention input attn_mask has dtype %s; it must "
                           "be bool (true = attend) or f32 (added to the "
                           "scores)", seqk__dtype_name(m->dtype));
    seqk_status st = seqk__check_tensor(ctx, m, "Attention input attn_mask",
                                        m->dtype, -1);
    if (st != SEQK_OK)
        return st;
    seqk__shape_str(m, shape, sizeof shape);
    seqk__dims_str(4, target, tshape, sizeof tshape);
    if (m->ndim < 2 || m->ndim > 4)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Attention input attn_mask has shape %s; it must "
                           "be 2-D to 4-D, broadcastable to [B,Hq,Sq,Skv] = "
                           "%s", shape, tshape);

    /* strides of the mask's own dims, dense row-major */
    int64_t own[4] = {0, 0, 0, 0}, stride = 1;
    for (int a = m->ndim - 1; a >= 0; a--) {
        own[a] = stride;
        stride *= m->dims[a]; /* <= numel: no overflow */
    }

    int64_t st4[4] = {0, 0, 0, 0};
    for (int a = 0; a < m->ndim; a++) {
        int t = 4 - m->ndim + a; /* target axis */
        int64_t d = m->dims[a];
        if (t == 3) {
            if (d > target[3])
                return seqk__error(ctx, SEQK_ERR_SHAPE,
                                   "Attention input attn_mask has shape %s: "
                                   "its last dim %lld is longer than the %lld "
                                   "keys (it may be shorter: missing keys "
                                   "are masked)", shape, (long long)d,
                                   (long long)target[3]);
            st4[3] = own[a];
        } else if (d == target[t]) {
            st4[t] = d == 1 ? 0 : own[a];
        } else if (d == 1) {
            st4[t] = 0;
        } else {
            static const char *const names[4] = {"B", "Hq", "Sq", "Skv"};
            return seqk__error(ctx, SEQK_ERR_SHAPE,
                               "Attention input attn_mask has shape %s, not "
                               "broadcastable to [B,Hq,Sq,Skv] = %s: dim %d "
                               "is %lld but %s=%lld (use 1 to broadcast)",
                               shape, tshape, a, (long long)d, names[t],
                               (long long)target[t]);
        }
    }
    p->mask_kind = m->dtype == SEQK_BOOL ? SEQK_MASK_BOOL : SEQK_MASK_ADD;
    p->mask = m->data;
    p->m_sb = st4[0];
    p->m_sh = st4[1];
    p->m_sq = st4[2];
    p->m_sk = st4[3];
    p->mask_kv_len = m->dims[m->ndim - 1];
    return SEQK_OK;
}

seqk_status seqk_attention(seqk_context *ctx,
                           const seqk_attention_params *params,
                           const seqk_tensor *Q, const seqk_tensor *K,
                           const seqk_tensor *V, const seqk_tensor *attn_mask,
                           seqk_tensor *Y)
{
    seqk_attention_params prm;
    seqk_attention_problem p;
    qkv_view q, k, v;
    char s1[96], s2[96];
    seqk_status st;

    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_attention: ctx is NULL");
    if ((st = read_params(ctx, params, &prm)) != SEQK_OK)
        return st;
    if ((st = seqk__check_tensor(ctx, Q, "Attention input Q", SEQK_F32,
                                 -1)))
        return st;
    if (Q->ndim != 3 && Q->ndim != 4)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Attention input Q has shape %s; it must be 3-D "
                           "[B,Sq,Hq*Dh] or 4-D [B,Hq,Sq,Dh]",
                           seqk__shape_str(Q, s1, sizeof s1));
    int nd = Q->ndim;
    if ((st = view_qkv(ctx, Q, "Attention input Q", nd, prm.q_num_heads,
                       "q_num_heads", &q)) ||
        (st = view_qkv(ctx, K, "Attention input K", nd, prm.kv_num_heads,
                       "kv_num_heads", &k)) ||
        (st = view_qkv(ctx, V, "Attention input V", nd, prm.kv_num_heads,
                       "kv_num_heads", &v)))
        return st;

    if (k.B != q.B || v.B != q.B)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Attention: Q %s, K %s and V (batch %lld) "
                           "must have the same batch size",
                           seqk__shape_str(Q, s1, sizeof s1),
                           seqk__shape_str(K, s2, sizeof s2),
                           (long long)v.B);
    if (nd == 4 && v.H != k.H)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Attention: K has %lld heads but V has %lld",
                           (long long)k.H, (long long)v.H);
    if (v.S != k.S)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Attention: K %s and V %s differ in the "
                           "number of keys", seqk__shape_str(K, s1, sizeof s1),
                           seqk__shape_str(V, s2, sizeof s2));
    if (k.D != q.D)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Attention: Q %s has head size %lld but K %s "
                           "has %lld", seqk__shape_str(Q, s1, sizeof s1),
                           (long long)q.D, seqk__shape_str(K, s2, sizeof s2),
                           (long long)k.D);
    if (q.H % k.H != 0)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Attention: %lld query heads are not a "
                           "multiple of %lld key/value heads (grouped-query "
                           "attention needs Hq %% Hkv == 0)", (long long)q.H,
                           (long long)k.H);
    if (prm.scale == 0.0f && q.D == 0)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Attention: head size is 0, so the default "
                           "scale 1/sqrt(head_size) is undefined; give scale");

    /* Y: same layout as Q, Dv per head */
    int64_t ydims[4], hdv;
    if (seqk__mul_i64(q.H, v.D, &hdv))
        return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                           "Attention: Hq*Dv = %lld*%lld overflows",
                           (long long)q.H, (long long)v.D);
    if (nd == 4) {
        ydims[0] = q.B; ydims[1] = q.H; ydims[2] = q.S; ydims[3] = v.D;
    } else {
        ydims[0] = q.B; ydims[1] = q.S; ydims[2] = hdv;
    }
    if ((st = seqk__check_tensor(ctx, Y, "Attention output Y", SEQK_F32,
                                 -1)))
        return st;
    if (!same_dims(Y, nd, ydims)) {
        char s3[96], s4[96];
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "Attention output Y has shape %s; Q %s and V %s "
                           "need %s (%s)", seqk__shape_str(Y, s1, sizeof s1),
                           seqk__shape_str(Q, s2, sizeof s2),
                           seqk__shape_str(V, s3, sizeof s3),
                           seqk__dims_str(nd, ydims, s4, sizeof s4),
                           nd == 4 ? "[B,Hq,Sq,Dv]" : "[B,Sq,Hq*Dv]");
    }
    if (seqk__tensors_overlap(Y, Q) || seqk__tensors_overlap(Y, K) ||
        seqk__tensors_overlap(Y, V) ||
        seqk__tensors_overlap(Y, attn_mask))
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "Attention output Y must not be one of its "
                           "inputs");

    memset(&p, 0, sizeof p);
    p.B = q.B; p.Hq = q.H; p.Hkv = k.H; p.Sq = q.S; p.Skv = k.S;
    p.Dh = q.D; p.Dv = v.D;
    p.scale = prm.scale != 0.0f ? prm.scale
                                : (float)(1.0 / sqrt((double)q.D));
    p.softcap = prm.softcap;
    p.is_causal = prm.is_causal != 0;
    p.causal_align = prm.causal_align;
    p.q = Q->data; p.q_sb = q.sb; p.q_sh = q.sh; p.q_ss = q.ss;
    p.k = K->data; p.k_sb = k.sb; p.k_sh = k.sh; p.k_ss = k.ss;
    p.v = V->data; p.v_sb = v.sb; p.v_sh = v.sh; p.v_ss = v.ss;
    p.y = Y->data;
    if (nd == 4) {
        p.y_ss = v.D;
        p.y_sh = q.S * v.D;
        p.y_sb = q.H * p.y_sh;
    } else {
        p.y_sh = v.D;
        p.y_ss = hdv;
        p.y_sb = q.S * hdv;
    }
    p.mask_kind = SEQK_MASK_NONE;
    if (attn_mask) {
        const int64_t target[4] = {q.B, q.H, q.S, k.S};
        if ((st = view_mask(ctx, attn_mask, target, &p)) != SEQK_OK)
            return st;
    }
    return seqk__dispatch(ctx, SEQK_OP_ATTENTION, &p);
}
