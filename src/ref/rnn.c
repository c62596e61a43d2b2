/*
 * rnn.c — reference RNN / LSTM / GRU layer with ONNX semantics: every
 * direction of one layer, one sequence at a time, one step at a time.
 *
 * Data (strides in elements, see seqk_rnn_layer_problem):
 *
 *   x    [t*x_st + b*x_sb + i]                i < I
 *   W    [d][g*H + h][i]       R [d][g*H + h][j]      gates g in ONNX order
 *   bias [d][g*H + h] = Wb,    [d][G*H + g*H + h] = Rb
 *   P    [d][h] = Pi,  [d][H + h] = Po,  [d][2H + h] = Pf
 *   y    [t*y_st + d*y_sd + b*y_sb + h]
 *   h0/c0 [d*h0_sd + b*h0_sb + h],  yh/yc [d*yh_sd + b*yh_sb + h]
 *
 * Sequence b of length len in direction d:
 *
 *   forward   t = 0, 1, ..., len-1      reverse   t = len-1, ..., 1, 0
 *   state = cell(x[t], state);  y[t] = state.h
 *   y[t] = 0 for len <= t < T;  yh/yc = the state after the last step
 *   (the initial state, or zeros, when len == 0).
 *
 * Dot products accumulate in double; each pre-activation is rounded to
 * float once, clipped, and passed to seqk__ref_activate.  The state is kept
 * in float, as every real backend keeps it.
 *
 * clip (> 0) clamps the input of every f and g (all gates of all cells,
 * LSTM peephole terms included, as onnxruntime does); the LSTM cell state
 * goes into h unclipped (onnxruntime does not clip it either).
 *
 * h0/c0 are copied into scratch before anything is written, one
 * (direction, sequence) at a time, so yh may alias h0 and yc may alias c0
 * (stateful streaming: pass the same tensor as initial_h and Y_h).
 */
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"

typedef struct rnn_scratch {
    double *xw;    /* [G*H] x_t . W^T of each gate row */
    double *gate;  /* [H] GRU: the update gate z_t */
    float *hprev;  /* [H] H_{t-1} */
    float *hnew;   /* [H] H_t */
    float *cprev;  /* [H] LSTM C_{t-1} */
    float *rh;     /* [H] GRU: r_t (.) H_{t-1}, or r_t itself for lbr=1 */
} rnn_scratch;

double seqk__ref_dot(const float *a, const float *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

float seqk__ref_clip(double v, float clip)
{
    float f = (float)v;
    if (clip > 0) {
        if (f < -clip)
            f = -clip;
        else if (f > clip)
            f = clip;
    }
    return f;
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

/* Ht = f(Xt Wi^T + Ht-1 Ri^T + Wbi + Rbi) */
static void step_rnn(const seqk_rnn_layer_problem *p, const float *R,
                     const float *wb, const float *rb,
                     const seqk_activation *act, rnn_scratch *s)
{
    const int64_t H = p->H;
    for (int64_t h = 0; h < H; h++) {
        double a = s->xw[h] + dot(R + h * H, s->hprev, H) + wb[h] + rb[h];
        s->hnew[h] = seqk__ref_activate(act[0], clipped(a, p->clip));
    }
}

/* Gates i,o,f,c (rows 0,H,2H,3H), peepholes i,o,f:
 *   it = f(Xt Wi + Ht-1 Ri + Pi.Ct-1 + Wbi + Rbi)
 *   ft = f(Xt Wf + Ht-1 Rf + Pf.Ct-1 + Wbf + Rbf)   (1 - it: input_forget)
 *   ct~ = g(Xt Wc + Ht-1 Rc + Wbc + Rbc)
 *   Ct = ft.Ct-1 + it.ct~
 *   ot = f(Xt Wo + Ht-1 Ro + Po.Ct + Wbo + Rbo)
 *   Ht = ot.h(Ct)
 * clip applies to the inputs of f and g, never to Ct before h (as
 * onnxruntime does). */
static void step_lstm(const seqk_rnn_layer_problem *p, const float *R,
                      const float *wb, const float *rb, const float *P,
                      const seqk_activation *act, rnn_scratch *s,
                      float *cnew)
{
    const int64_t H = p->H;
    const int64_t gi = 0, go = H, gf = 2 * H, gc = 3 * H;
    for (int64_t h = 0; h < H; h++) {
        const double cp = s->cprev[h];
        double a;

        a = s->xw[gi + h] + dot(R + (gi + h) * H, s->hprev, H) +
            wb[gi + h] + rb[gi + h];
        if (P)
            a += (double)P[h] * cp;
        const double it = seqk__ref_activate(act[0], clipped(a, p->clip));

        double ft;
        if (p->input_forget) {
            ft = 1.0 - it;
        } else {
            a = s->xw[gf + h] + dot(R + (gf + h) * H, s->hprev, H) +
                wb[gf + h] + rb[gf + h];
            if (P)
                a += (double)P[2 * H + h] * cp;
            ft = seqk__ref_activate(act[0], clipped(a, p->clip));
        }

        a = s->xw[gc + h] + dot(R + (gc + h) * H, s->hprev, H) +
            wb[gc + h] + rb[gc + h];
        const double ct = seqk__ref_activate(act[1], clipped(a, p->clip));

        const float c = (float)(ft * cp + it * ct);

        a = s->xw[go + h] + dot(R + (go + h) * H, s->hprev, H) +
            wb[go + h] + rb[go + h];
        if (P)
            a += (double)P[H + h] * c;
        const double ot = seqk__ref_activate(act[0], clipped(a, p->clip));

        cnew[h] = c;
        s->hnew[h] = (float)(ot * seqk__ref_activate(act[2], c));
    }
}

/* Gates z,r,h (rows 0,H,2H):
 *   zt = f(Xt Wz + Ht-1 Rz + Wbz + Rbz)
 *   rt = f(Xt Wr + Ht-1 Rr + Wbr + Rbr)
 *   lbr=0: ht~ = g(Xt Wh + (rt.Ht-1) Rh + Rbh + Wbh)
 *   lbr=1: ht~ = g(Xt Wh + rt.(Ht-1 Rh + Rbh) + Wbh)
 *   Ht = (1 - zt).ht~ + zt.Ht-1 */
static void step_gru(const seqk_rnn_layer_problem *p, const float *R,
                     const float *wb, const float *rb,
                     const seqk_activation *act, rnn_scratch *s)
{
    const int64_t H = p->H;
    const int64_t gz = 0, gr = H, gh = 2 * H;

    /* all of rt is needed before the candidate (lbr=0 multiplies Ht-1) */
    for (int64_t h = 0; h < H; h++) {
        double a = s->xw[gz + h] + dot(R + (gz + h) * H, s->hprev, H) +
                   wb[gz + h] + rb[gz + h];
        s->gate[h] = seqk__ref_activate(act[0], clipped(a, p->clip));
        a = s->xw[gr + h] + dot(R + (gr + h) * H, s->hprev, H) +
            wb[gr + h] + rb[gr + h];
        const float rt = seqk__ref_activate(act[0], clipped(a, p->clip));
        s->rh[h] = p->linear_before_reset ? rt : rt * s->hprev[h];
    }
    for (int64_t h = 0; h < H; h++) {
        const float *Rh = R + (gh + h) * H;
        double a;
        if (p->linear_before_reset)
            a = s->xw[gh + h] + wb[gh + h] +
                s->rh[h] * (dot(Rh, s->hprev, H) + rb[gh + h]);
        else
            a = s->xw[gh + h] + dot(Rh, s->rh, H) + rb[gh + h] + wb[gh + h];
        const double ht = seqk__ref_activate(act[1], clipped(a, p->clip));
        const double zt = s->gate[h];
        s->hnew[h] = (float)((1.0 - zt) * ht + zt * s->hprev[h]);
    }
}

static int num_gates(seqk_cell cell)
{
    return cell == SEQK_CELL_LSTM ? 4 : cell == SEQK_CELL_GRU ? 3 : 1;
}

/* Runs sequence b in direction d from its initial state to its end. */
static void run_sequence(const seqk_rnn_layer_problem *p, int d, int64_t b,
                         const float *zero_bias, rnn_scratch *s, float *cnew)
{
    const int64_t T = p->T, I = p->I, H = p->H;
    const int64_t G = num_gates(p->cell), GH = G * H;
    const float *W = p->W + d * GH * I;
    const float *R = p->R + d * GH * H;
    const float *wb = p->bias ? p->bias + d * 2 * GH : zero_bias;
    const float *rb = p->bias ? wb + GH : zero_bias;
    const float *P = p->P ? p->P + d * 3 * H : NULL;
    const seqk_activation *act = &p->act[d * 3];
    const int reverse = p->num_dirs == 2 ? d == 1 : p->reverse;
    const int64_t len = p->seq_lens ? p->seq_lens[b] : T;

    for (int64_t h = 0; h < H; h++) {
        const int64_t o = d * p->h0_sd + b * p->h0_sb + h;
        s->hprev[h] = p->h0 ? p->h0[o] : 0.0f;
        s->cprev[h] = p->c0 ? p->c0[o] : 0.0f;
    }

    for (int64_t k = 0; k < len; k++) {
        const int64_t t = reverse ? len - 1 - k : k;
        const float *xt = p->x + t * p->x_st + b * p->x_sb;
        for (int64_t g = 0; g < GH; g++)
            s->xw[g] = dot(W + g * I, xt, I);

        if (p->cell == SEQK_CELL_LSTM)
            step_lstm(p, R, wb, rb, P, act, s, cnew);
        else if (p->cell == SEQK_CELL_GRU)
            step_gru(p, R, wb, rb, act, s);
        else
            step_rnn(p, R, wb, rb, act, s);

        memcpy(s->hprev, s->hnew, (size_t)H * sizeof(float));
        if (p->cell == SEQK_CELL_LSTM)
            memcpy(s->cprev, cnew, (size_t)H * sizeof(float));
        if (p->y) {
            float *yt = p->y + t * p->y_st + d * p->y_sd + b * p->y_sb;
            memcpy(yt, s->hnew, (size_t)H * sizeof(float));
        }
    }

    if (p->y) {
        for (int64_t t = len; t < T; t++) {
            float *yt = p->y + t * p->y_st + d * p->y_sd + b * p->y_sb;
            memset(yt, 0, (size_t)H * sizeof(float));
        }
    }
    for (int64_t h = 0; h < H; h++) {
        const int64_t o = d * p->yh_sd + b * p->yh_sb + h;
        if (p->yh)
            p->yh[o] = s->hprev[h];
        if (p->yc)
            p->yc[o] = s->cprev[h];
    }
}

seqk_status seqk__ref_rnn_layer(const seqk_rnn_layer_problem *p)
{
    const int64_t H = p->H, GH = num_gates(p->cell) * H;
    /* one block: xw[GH] gate[H] (doubles), then 5 float vectors of H
     * (hprev hnew cprev rh cnew) and a zero bias of 2*GH floats */
    const size_t bytes = (size_t)(GH + H) * sizeof(double) +
                         (size_t)(5 * H + 2 * GH) * sizeof(float);
    void *block = calloc(1, bytes);
    if (!block)
        return SEQK_ERR_OUT_OF_MEMORY;

    rnn_scratch s;
    s.xw = block;
    s.gate = s.xw + GH;
    s.hprev = (float *)(s.gate + H);
    s.hnew = s.hprev + H;
    s.cprev = s.hnew + H;
    s.rh = s.cprev + H;
    float *cnew = s.rh + H;
    const float *zero_bias = cnew + H; /* calloc'd: stays zero */

    for (int d = 0; d < p->num_dirs; d++)
        for (int64_t b = 0; b < p->B; b++)
            run_sequence(p, d, b, zero_bias, &s, cnew);

    free(block);
    return SEQK_OK;
}
