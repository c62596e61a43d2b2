/*
 * rnn_backward.c — reference RNN / LSTM / GRU training: a forward that
 * records what the backward needs, and backpropagation through time of
 * one layer (every direction, one sequence at a time).
 *
 * Store, not recompute: the reference keeps every gate's pre-activation
 * and every state, so the backward is a plain walk back over the record
 * and the forward stays the one of rnn.c, bit for bit (the same double
 * dot products in the same order, rounded at the same places).  That is
 * the simplest oracle; fast backends may recompute instead.
 *
 * This layer's part of the workspace (floats; D directions, B sequences,
 * T steps, G gates, k = processing step: t = k forward, len-1-k reverse):
 *
 *   pre [D][B][T][rec]   rec = G*H (+ H for GRU): the gates'
 *                        pre-activations a as floats before the clip
 *                        (LSTM i,o,f,c; GRU z,r,h), then for GRU with
 *                        linear_before_reset the term Ht-1 Rh + Rbh
 *   hs  [D][B][T+1][H]   hs[k] = state before step k (hs[0] = h0)
 *   cs  [D][B][T+1][H]   LSTM only, the same for the cell
 *
 * (seqk__rnn_ws_layer_floats in core/problems.h counts it.)  Steps past a
 * sequence's length are zero.  The backward accumulates in
 * double and adds to the plan's float gradients once per call.
 */
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"

static int gates_of(seqk_cell cell)
{
    return cell == SEQK_CELL_LSTM ? 4 : cell == SEQK_CELL_GRU ? 3 : 1;
}

static int64_t rec_floats(seqk_cell cell, int64_t H)
{
    return gates_of(cell) * H + (cell == SEQK_CELL_GRU ? H : 0);
}

/* Where the record of (d, b) starts. */
typedef struct ws_view {
    float *pre, *hs, *cs;
    int64_t rec;
} ws_view;

static ws_view view_of(const seqk_rnn_layer_problem *p, float *ws, int d,
                       int64_t b)
{
    const int64_t H = p->H, T = p->T, rec = rec_floats(p->cell, H);
    const int64_t seq = (int64_t)d * p->B + b, nseq = p->num_dirs * p->B;
    ws_view v;
    v.rec = rec;
    v.pre = ws + seq * T * rec;
    v.hs = ws + nseq * T * rec + seq * (T + 1) * H;
    v.cs = p->cell == SEQK_CELL_LSTM
               ? ws + nseq * T * rec + nseq * (T + 1) * H + seq * (T + 1) * H
               : NULL;
    return v;
}


/* short names for the shared ones (ref.h) */
static inline double dot(const float *a, const float *b, int64_t n)
{
    return seqk__ref_dot(a, b, n);
}
static inline float clipped(double v, float clip)
{
    return seqk__ref_clip(v, clip);
}

/* ----------------------------------------------------- training forward */

/* The steps of rnn.c with the pre-activations recorded in pre. */
static void step_rnn(const seqk_rnn_layer_problem *p, const float *R,
                     const float *wb, const float *rb,
                     const seqk_activation *act, const double *xw,
                     const float *hprev, float *hnew, float *pre)
{
    const int64_t H = p->H;
    for (int64_t h = 0; h < H; h++) {
        double a = xw[h] + dot(R + h * H, hprev, H) + wb[h] + rb[h];
        pre[h] = (float)a;
        hnew[h] = seqk__ref_activate(act[0], clipped(a, p->clip));
    }
}

static void step_lstm(const seqk_rnn_layer_problem *p, const float *R,
                      const float *wb, const float *rb, const float *P,
                      const seqk_activation *act, const double *xw,
                      const float *hprev, const float *cprev, float *hnew,
                      float *cnew, float *pre)
{
    const int64_t H = p->H;
    const int64_t gi = 0, go = H, gf = 2 * H, gc = 3 * H;
    for (int64_t h = 0; h < H; h++) {
        const double cp = cprev[h];
        double a;

        a = xw[gi + h] + dot(R + (gi + h) * H, hprev, H) + wb[gi + h] +
            rb[gi + h];
        if (P)
            a += (double)P[h] * cp;
        pre[gi + h] = (float)a;
        const double it = seqk__ref_activate(act[0], clipped(a, p->clip));

        double ft;
        if (p->input_forget) {
            ft = 1.0 - it;
            pre[gf + h] = 0.0f;
        } else {
            a = xw[gf + h] + dot(R + (gf + h) * H, hprev, H) + wb[gf + h] +
                rb[gf + h];
            if (P)
                a += (double)P[2 * H + h] * cp;
            pre[gf + h] = (float)a;
            ft = seqk__ref_activate(act[0], clipped(a, p->clip));
        }

        a = xw[gc + h] + dot(R + (gc + h) * H, hprev, H) + wb[gc + h] +
            rb[gc + h];
        pre[gc + h] = (float)a;
        const double ct = seqk__ref_activate(act[1], clipped(a, p->clip));

        const float c = (float)(ft * cp + it * ct);

        a = xw[go + h] + dot(R + (go + h) * H, hprev, H) + wb[go + h] +
            rb[go + h];
        if (P)
            a += (double)P[H + h] * c;
        pre[go + h] = (float)a;
        const double ot = seqk__ref_activate(act[0], clipped(a, p->clip));

        cnew[h] = c;
        hnew[h] = (float)(ot * seqk__ref_activate(act[2], c));
    }
}

/* rh: [H] scratch for r_t (.) Ht-1 (lbr=0) or r_t (lbr=1); zt: [H]. */
static void step_gru(const seqk_rnn_layer_problem *p, const float *R,
                     const float *wb, const float *rb,
                     const seqk_activation *act, const double *xw,
                     const float *hprev, float *hnew, float *pre, float *rh,
                     double *zt)
{
    const int64_t H = p->H;
    const int64_t gz = 0, gr = H, gh = 2 * H;
    float *lin = pre + 3 * H;

    for (int64_t h = 0; h < H; h++) {
        double a = xw[gz + h] + dot(R + (gz + h) * H, hprev, H) + wb[gz + h] +
                   rb[gz + h];
        pre[gz + h] = (float)a;
        zt[h] = seqk__ref_activate(act[0], clipped(a, p->clip));
        a = xw[gr + h] + dot(R + (gr + h) * H, hprev, H) + wb[gr + h] +
            rb[gr + h];
        pre[gr + h] = (float)a;
        const float rt = seqk__ref_activate(act[0], clipped(a, p->clip));
        rh[h] = p->linear_before_reset ? rt : rt * hprev[h];
    }
    for (int64_t h = 0; h < H; h++) {
        const float *Rh = R + (gh + h) * H;
        double a;
        if (p->linear_before_reset) {
            const double l = dot(Rh, hprev, H) + rb[gh + h];
            lin[h] = (float)l;
            a = xw[gh + h] + wb[gh + h] + rh[h] * l;
        } else {
            lin[h] = 0.0f;
            a = xw[gh + h] + dot(Rh, rh, H) + rb[gh + h] + wb[gh + h];
        }
        pre[gh + h] = (float)a;
        const double ht = seqk__ref_activate(act[1], clipped(a, p->clip));
        const double z = zt[h];
        hnew[h] = (float)((1.0 - z) * ht + z * hprev[h]);
    }
}

seqk_status seqk__ref_rnn_layer_train(const seqk_rnn_train_problem *tp)
{
    const seqk_rnn_layer_problem *p = &tp->fwd;
    const int64_t T = p->T, I = p->I, H = p->H;
    const int64_t G = gates_of(p->cell), GH = G * H;
    double *xw = calloc((size_t)(GH + H), sizeof(double));
    float *fl = calloc((size_t)(H + 2 * GH), sizeof(float));
    if (!xw || !fl) {
        free(xw);
        free(fl);
        return SEQK_ERR_OUT_OF_MEMORY;
    }
    double *zt = xw + GH;
    float *rh = fl;
    const float *zero_bias = fl + H; /* calloc'd: stays zero */

    for (int d = 0; d < p->num_dirs; d++) {
        const float *W = p->W + d * GH * I;
        const float *R = p->R + d * GH * H;
        const float *wb = p->bias ? p->bias + d * 2 * GH : zero_bias;
        const float *rb = p->bias ? wb + GH : zero_bias;
        const float *P = p->P ? p->P + d * 3 * H : NULL;
        const seqk_activation *act = &p->act[d * 3];
        const int reverse = p->num_dirs == 2 ? d == 1 : p->reverse;
        for (int64_t b = 0; b < p->B; b++) {
            const int64_t len = p->seq_lens ? p->seq_lens[b] : T;
            ws_view v = view_of(p, tp->ws, d, b);
            memset(v.pre, 0, (size_t)(T * v.rec) * sizeof(float));
            memset(v.hs, 0, (size_t)((T + 1) * H) * sizeof(float));
            if (v.cs)
                memset(v.cs, 0, (size_t)((T + 1) * H) * sizeof(float));
            for (int64_t h = 0; h < H; h++) {
                const int64_t o = d * p->h0_sd + b * p->h0_sb + h;
                v.hs[h] = p->h0 ? p->h0[o] : 0.0f;
                if (v.cs)
                    v.cs[h] = p->c0 ? p->c0[o] : 0.0f;
            }
            for (int64_t k = 0; k < len; k++) {
                const int64_t t = reverse ? len - 1 - k : k;
                const float *xt = p->x + t * p->x_st + b * p->x_sb;
                float *pre = v.pre + k * v.rec;
                const float *hp = v.hs + k * H;
                float *hn = v.hs + (k + 1) * H;
                for (int64_t g = 0; g < GH; g++)
                    xw[g] = dot(W + g * I, xt, I);
                if (p->cell == SEQK_CELL_LSTM)
                    step_lstm(p, R, wb, rb, P, act, xw, hp, v.cs + k * H, hn,
                              v.cs + (k + 1) * H, pre);
                else if (p->cell == SEQK_CELL_GRU)
                    step_gru(p, R, wb, rb, act, xw, hp, hn, pre, rh, zt);
                else
                    step_rnn(p, R, wb, rb, act, xw, hp, hn, pre);
                if (p->y)
                    memcpy(p->y + t * p->y_st + d * p->y_sd + b * p->y_sb, hn,
                           (size_t)H * sizeof(float));
            }
            if (p->y)
                for (int64_t t = len; t < T; t++)
                    memset(p->y + t * p->y_st + d * p->y_sd + b * p->y_sb, 0,
                           (size_t)H * sizeof(float));
            for (int64_t h = 0; h < H; h++) {
                const int64_t o = d * p->yh_sd + b * p->yh_sb + h;
                if (p->yh)
                    p->yh[o] = v.hs[len * H + h];
                if (p->yc)
                    p->yc[o] = v.cs[len * H + h];
            }
        }
    }
    free(xw);
    free(fl);
    return SEQK_OK;
}

/* ------------------------------------------------------------- backward */

/* d act(clip(a)) / da: zero where the clip was active. */
static double dact(seqk_activation act, float a, float clip)
{
    if (clip > 0 && (a < -clip || a > clip))
        return 0.0;
    return seqk__ref_activate_grad(act, a);
}

static double actv(seqk_activation act, float a, float clip)
{
    return seqk__ref_activate(act, clipped(a, clip));
}

/* Double accumulators of one layer's gradients. */
typedef struct grads {
    double *W, *R, *B, *P; /* ONNX layouts, all directions */
    double *x;             /* [T][B][I] or NULL */
    /* per step: */
    double *dh, *dc;       /* [H] dL/dH_t, dL/dC_t (after the step) */
    double *dhp, *dcp;     /* [H] dL/dH_t-1, dL/dC_t-1 */
    double *da;            /* [G*H] dL/d pre-activation (W, Wb and x) */
    double *dr;            /* [G*H] what the R rows and Rb see */
    double *q;             /* [H] GRU lbr=0: Rh^T da_h */
    float *hv;             /* [H] GRU lbr=0: r (.) Ht-1 */
} grads;

/* Gate gradients of one LSTM step (gates i,o,f,c). */
static void back_lstm(const seqk_rnn_backward_problem *bp, const float *P,
                      const seqk_activation *act, const float *pre,
                      const float *cp, const float *cn, double *gP, grads *g)
{
    const seqk_rnn_layer_problem *p = &bp->fwd;
    const int64_t H = p->H, gi = 0, go = H, gf = 2 * H, gc = 3 * H;
    const float clip = p->clip;
    for (int64_t h = 0; h < H; h++) {
        const double it = actv(act[0], pre[gi + h], clip);
        const double ft = p->input_forget ? 1.0 - it
                                          : actv(act[0], pre[gf + h], clip);
        const double ct = actv(act[1], pre[gc + h], clip);
        const double ot = actv(act[0], pre[go + h], clip);
        const double c = cn[h];
        const double hc = seqk__ref_activate(act[2], cn[h]);
        const double pi = P ? P[h] : 0, po = P ? P[H + h] : 0;
        const double pf = P ? P[2 * H + h] : 0;

        const double da_o = g->dh[h] * hc * dact(act[0], pre[go + h], clip);
        const double dct = g->dc[h] +
                           g->dh[h] * ot * seqk__ref_activate_grad(act[2], c) +
                           da_o * po;
        double d_i = dct * ct, d_f = dct * cp[h];
        double da_f = 0;
        if (p->input_forget)
            d_i -= d_f; /* ft = 1 - it */
        else
            da_f = d_f * dact(act[0], pre[gf + h], clip);
        const double da_i = d_i * dact(act[0], pre[gi + h], clip);
        const double da_c = dct * it * dact(act[1], pre[gc + h], clip);

        g->da[gi + h] = da_i;
        g->da[go + h] = da_o;
        g->da[gf + h] = da_f;
        g->da[gc + h] = da_c;
        g->dcp[h] = dct * ft + da_i * pi + da_f * pf;
        g->dhp[h] = 0;
        gP[h] += da_i * cp[h];
        gP[H + h] += da_o * c;
        gP[2 * H + h] += da_f * cp[h];
    }
    memcpy(g->dr, g->da, (size_t)(4 * H) * sizeof(double));
}

/* Gate gradients of one GRU step (gates z,r,h); R the direction's. */
static void back_gru(const seqk_rnn_backward_problem *bp, const float *R,
                     const seqk_activation *act, const float *pre,
                     const float *hp, grads *g)
{
    const seqk_rnn_layer_problem *p = &bp->fwd;
    const int64_t H = p->H, gz = 0, gr = H, gh = 2 * H;
    const float clip = p->clip;
    const float *lin = pre + 3 * H;
    for (int64_t h = 0; h < H; h++) {
        const double z = actv(act[0], pre[gz + h], clip);
        const double ht = actv(act[1], pre[gh + h], clip);
        const double r = actv(act[0], pre[gr + h], clip);
        g->da[gz + h] = g->dh[h] * (hp[h] - ht) *
                        dact(act[0], pre[gz + h], clip);
        g->da[gh + h] = g->dh[h] * (1.0 - z) * dact(act[1], pre[gh + h], clip);
        g->dhp[h] = g->dh[h] * z;
        if (p->linear_before_reset) {
            /* ht~ = g(... + r.lin): lin = Ht-1 Rh + Rbh */
            g->dr[gh + h] = g->da[gh + h] * r;
            g->da[gr + h] = g->da[gh + h] * lin[h] *
                            dact(act[0], pre[gr + h], clip);
        } else {
            g->hv[h] = (float)(r * hp[h]);
            g->dr[gh + h] = g->da[gh + h];
        }
    }
    if (!p->linear_before_reset) {
        /* ht~ = g(... + (r.Ht-1) Rh): q = Rh^T da_h flows to r and Ht-1 */
        for (int64_t j = 0; j < H; j++)
            g->q[j] = 0;
        for (int64_t h = 0; h < H; h++)
            for (int64_t j = 0; j < H; j++)
                g->q[j] += g->da[gh + h] * R[(gh + h) * H + j];
        for (int64_t j = 0; j < H; j++) {
            const double r = actv(act[0], pre[gr + j], clip);
            g->da[gr + j] = g->q[j] * hp[j] * dact(act[0], pre[gr + j], clip);
            g->dhp[j] += g->q[j] * r;
        }
    }
    for (int64_t h = 0; h < 2 * H; h++)
        g->dr[h] = g->da[h];
}

/* Backpropagates sequence b of direction d through its steps. */
static void back_sequence(const seqk_rnn_backward_problem *bp, int d,
                          int64_t b, grads *g)
{
    const seqk_rnn_layer_problem *p = &bp->fwd;
    const int64_t T = p->T, I = p->I, H = p->H;
    const int64_t G = gates_of(p->cell), GH = G * H;
    const float *W = p->W + d * GH * I;
    const float *R = p->R + d * GH * H;
    const float *P = p->P ? p->P + d * 3 * H : NULL;
    double *gW = g->W + d * GH * I, *gR = g->R + d * GH * H;
    double *gwb = g->B + d * 2 * GH, *grb = gwb + GH;
    double *gP = g->P + d * 3 * H;
    const seqk_activation *act = &p->act[d * 3];
    const int reverse = p->num_dirs == 2 ? d == 1 : p->reverse;
    const int64_t len = p->seq_lens ? p->seq_lens[b] : T;
    const int gru_lbr0 = p->cell == SEQK_CELL_GRU && !p->linear_before_reset;
    ws_view v = view_of(p, (float *)bp->ws, d, b);

    for (int64_t h = 0; h < H; h++) {
        const int64_t o = d * bp->dyh_sd + b * bp->dyh_sb + h;
        g->dh[h] = bp->dyh ? bp->dyh[o] : 0.0;
        g->dc[h] = bp->dyc ? bp->dyc[o] : 0.0;
    }
    for (int64_t k = len - 1; k >= 0; k--) {
        const int64_t t = reverse ? len - 1 - k : k;
        const float *pre = v.pre + k * v.rec;
        const float *hp = v.hs + k * H;
        const float *xt = p->x + t * p->x_st + b * p->x_sb;
        if (bp->dy)
            for (int64_t h = 0; h < H; h++)
                g->dh[h] += bp->dy[t * bp->dy_st + d * bp->dy_sd +
                                   b * bp->dy_sb + h];

        if (p->cell == SEQK_CELL_LSTM) {
            back_lstm(bp, P, act, pre, v.cs + k * H, v.cs + (k + 1) * H, gP, g);
        } else if (p->cell == SEQK_CELL_GRU) {
            back_gru(bp, R, act, pre, hp, g);
        } else {
            for (int64_t h = 0; h < H; h++) {
                g->da[h] = g->dh[h] * dact(act[0], pre[h], p->clip);
                g->dr[h] = g->da[h];
                g->dhp[h] = 0;
            }
        }

        /* the matrices: W sees da, R and Rb see dr */
        for (int64_t r = 0; r < GH; r++) {
            const int hgate = gru_lbr0 && r >= 2 * H;
            const float *hin = hgate ? g->hv : hp;
            const double da = g->da[r], dr = g->dr[r];
            gwb[r] += da;
            grb[r] += dr;
            for (int64_t i = 0; i < I; i++)
                gW[r * I + i] += da * xt[i];
            for (int64_t j = 0; j < H; j++)
                gR[r * H + j] += dr * hin[j];
            if (!hgate) /* lbr=0's candidate row went through q above */
                for (int64_t j = 0; j < H; j++)
                    g->dhp[j] += dr * R[r * H + j];
            if (g->x)
                for (int64_t i = 0; i < I; i++)
                    g->x[(t * p->B + b) * I + i] += da * W[r * I + i];
        }
        memcpy(g->dh, g->dhp, (size_t)H * sizeof(double));
        if (p->cell == SEQK_CELL_LSTM)
            memcpy(g->dc, g->dcp, (size_t)H * sizeof(double));
    }
    for (int64_t h = 0; h < H; h++) {
        const int64_t o = d * bp->dh0_sd + b * bp->dh0_sb + h;
        if (bp->dh0)
            bp->dh0[o] = (float)g->dh[h];
        if (bp->dc0)
            bp->dc0[o] = (float)g->dc[h];
    }
}

seqk_status seqk__ref_rnn_layer_backward(const seqk_rnn_backward_problem *bp)
{
    const seqk_rnn_layer_problem *p = &bp->fwd;
    const int64_t T = p->T, I = p->I, H = p->H, D = p->num_dirs;
    const int64_t GH = gates_of(p->cell) * H;
    const int64_t nw = D * GH * I, nr = D * GH * H, nb = D * 2 * GH;
    const int64_t np = D * 3 * H, nx = bp->dx ? T * p->B * I : 0;
    const size_t nd = (size_t)(nw + nr + nb + np + nx + 4 * H + 2 * GH + H);
    double *block = calloc(nd, sizeof(double));
    float *hv = calloc((size_t)H, sizeof(float));
    if (!block || !hv) {
        free(block);
        free(hv);
        return SEQK_ERR_OUT_OF_MEMORY;
    }
    grads g;
    g.W = block;
    g.R = g.W + nw;
    g.B = g.R + nr;
    g.P = g.B + nb;
    g.x = bp->dx ? g.P + np : NULL;
    g.dh = g.P + np + nx;
    g.dc = g.dh + H;
    g.dhp = g.dc + H;
    g.dcp = g.dhp + H;
    g.da = g.dcp + H;
    g.dr = g.da + GH;
    g.q = g.dr + GH;
    g.hv = hv;

    for (int d = 0; d < p->num_dirs; d++)
        for (int64_t b = 0; b < p->B; b++)
            back_sequence(bp, d, b, &g);

    for (int64_t i = 0; i < nw; i++)
        bp->dW[i] += (float)g.W[i];
    for (int64_t i = 0; i < nr; i++)
        bp->dR[i] += (float)g.R[i];
    for (int64_t i = 0; i < nb; i++)
        bp->dB[i] += (float)g.B[i];
    if (p->cell == SEQK_CELL_LSTM)
        for (int64_t i = 0; i < np; i++)
            bp->dP[i] += (float)g.P[i];
    if (bp->dx)
        for (int64_t t = 0; t < T; t++)
            for (int64_t b = 0; b < p->B; b++)
                for (int64_t i = 0; i < I; i++)
                    bp->dx[t * bp->dx_st + b * bp->dx_sb + i] =
                        (float)g.x[(t * p->B + b) * I + i];
    free(block);
    free(hv);
    return SEQK_OK;
}
