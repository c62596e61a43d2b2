/*
 * rnn.cl — the per-step kernels of an RNN / LSTM / GRU layer (ONNX
 * semantics; src/ref/rnn.c is the oracle).  G gates, H hidden, D
 * directions, B batch, one launch per step covers every direction.
 *
 * Device data (float offsets; cl_rnn.c owns every buffer but y/h0/c0/yh/yc):
 *
 *   xp   projected input + folded bias, gate row of (d, t, b):
 *        xp[d*xp_sd + t*xp_st + b*xp_sb + g*H + j]        (one GEMM, host)
 *   rg   recurrent GEMM result of this step  rg[(d*B + b)*G*H + g*H + j]
 *   rt   fused = 1: R transposed             rt[d*H*G*H + k*G*H + g*H + j]
 *        fused = 2: R as uploaded            rt[d*G*H*H + (g*H + j)*H + k]
 *   hin/hout, cin/cout  states [D][B][H] (ping-pong halves, hout != hin)
 *   acts [d*9 + k*3 + {0,1,2}] = kind, alpha, beta of activation k (f,g,h)
 *   P    [d*3H + {0,H,2H} + j] peepholes i,o,f     rbh [d*H + j] (GRU Rbh)
 *   y    [t*y_st + d*y_sd + b*y_sb + j]
 *
 * Work-item (d, b, j) = get_global_id(0) as ((d*B + b)*H + j); the global
 * size is rounded up to the work-group size (items past D*B*H return; no
 * kernel here has a barrier).  At step s a sequence of length len runs
 * time t = s (forward) or len-1-s (reverse) while s < len; for s >= len
 * the state is carried over unchanged and y[s] = 0, so after T steps the
 * state is the one after the last valid step and every y row is written
 * exactly once.
 *
 * fused = 0: the recurrent term comes from rg (GEMM on the host queue);
 * fused = 1, 2: the work-item computes it from rt and hin itself
 * (seqk_rnn_rec; hin is the same for the items of one (d, b)).
 */

/* Activation kinds as in seqk.h (seqk_act_kind). */
float seqk_rnn_act(int kind, float a, float b, float x)
{
    switch (kind) {
    case 0: return x < 0.0f ? 0.0f : x;                         /* Relu */
    case 1: return tanh(x);                                     /* Tanh */
    case 2:                                                     /* Sigmoid */
        if (x >= 0.0f)
            return 1.0f / (1.0f + exp(-x));
        else {
            const float e = exp(x);
            return e / (1.0f + e);
        }
    case 3: return a * x + b;                                   /* Affine */
    case 4: return x >= 0.0f ? x : a * x;                       /* LeakyRelu */
    case 5: return x >= a ? x : 0.0f;                           /* ThresholdedRelu */
    case 6: return a * tanh(b * x);                             /* ScaledTanh */
    case 7: return fmin(fmax(a * x + b, 0.0f), 1.0f);           /* HardSigmoid */
    case 8: return x >= 0.0f ? x : a * expm1(x);                /* Elu */
    case 9: return x / (1.0f + fabs(x));                        /* Softsign */
    case 10: return fmax(x, 0.0f) + log1p(exp(-fabs(x)));      /* Softplus */
    default: return NAN;
    }
}

/* Activation k (0 f, 1 g, 2 h) of direction d. */
float seqk_rnn_apply(__global const float *acts, int d, int k, float x)
{
    __global const float *a = acts + d * 9 + k * 3;
    return seqk_rnn_act((int)a[0], a[1], a[2], x);
}

float seqk_rnn_clip(float x, float clip)
{
    return clip > 0.0f ? fmin(fmax(x, -clip), clip) : x;
}

/* Where work-item idx stands at step s: 0 when idx is past the end. */
typedef struct seqk_rnn_pos {
    int d, b, j;
    int active;   /* s < len */
    long t;       /* time of this step when active */
    long st;      /* state index (d*B + b)*H + j */
} seqk_rnn_pos;

int seqk_rnn_where(int D, int B, int H, int T, int s, int reverse,
                   __global const int *lens, int has_lens, seqk_rnn_pos *p)
{
    const long idx = (long)get_global_id(0);
    if (idx >= (long)D * B * H)
        return 0;
    p->j = (int)(idx % H);
    p->b = (int)((idx / H) % B);
    p->d = (int)(idx / ((long)H * B));
    p->st = idx;
    const int len = has_lens ? lens[p->b] : T;
    const int rev = D == 2 ? p->d == 1 : reverse;
    p->active = s < len;
    p->t = rev ? (long)len - 1 - s : (long)s;
    return 1;
}

/* h_{t-1} . R[d][row]^T in a fused variant: fused = 1 reads R transposed
 * (rt[k*GH + row]: consecutive rows, i.e. neighbouring work-items, read
 * consecutive floats, the coalesced order of GPUs); fused = 2 reads R as
 * it is (r[row*H + k]: each work-item streams its own rows 16 floats at a
 * time, the order of CPU devices).  r: direction d's block.  The vectors
 * are float8, not float16: Oclgrind 21.10 loses the shadow of float16
 * swizzles and would report every result as uninitialized. */
float seqk_rnn_rec(__global const float *h, __global const float *r,
                   int fused, int H, int GH, int row)
{
    float acc = 0.0f;
    if (fused == 1) {
        for (int k = 0; k < H; k++)
            acc = fma(h[k], r[(long)k * GH + row], acc);
        return acc;
    }
    __global const float *rr = r + (long)row * H;
    int k = 0;
    if (H >= 16) { /* two 8-float accumulators (see the note above) */
        float8 a0 = vload8(0, h) * vload8(0, rr);
        float8 a1 = vload8(1, h) * vload8(1, rr);
        for (k = 16; k + 16 <= H; k += 16) {
            a0 = fma(vload8(0, h + k), vload8(0, rr + k), a0);
            a1 = fma(vload8(1, h + k), vload8(1, rr + k), a1);
        }
        const float8 a8 = a0 + a1;
        const float4 a4 = a8.lo + a8.hi;
        acc = (a4.x + a4.y) + (a4.z + a4.w);
    }
    for (; k < H; k++)
        acc = fma(h[k], rr[k], acc);
    return acc;
}

/* Initial states: hs/cs [D][B][H] from h0/c0 (strided) or zeros. */
__kernel void seqk_f32_rnn_init(const int D, const int B, const int H,
                            __global const float *h0, const long h0_off,
                            __global const float *c0, const long c0_off,
                            const long h0_sd, const long h0_sb,
                            const int has_h0, const int has_c0,
                            const int lstm,
                            __global float *hs, const long hs_off,
                            __global float *cs, const long cs_off)
{
    const long idx = (long)get_global_id(0);
    if (idx >= (long)D * B * H)
        return;
    const long j = idx % H, b = (idx / H) % B, d = idx / ((long)H * B);
    const long o = d * h0_sd + b * h0_sb + j;
    hs[hs_off + idx] = has_h0 ? h0[h0_off + o] : 0.0f;
    if (lstm)
        cs[cs_off + idx] = has_c0 ? c0[c0_off + o] : 0.0f;
}

/* Final states: yh/yc[d*sd + b*sb + j] from hs/cs [D][B][H]. */
__kernel void seqk_f32_rnn_final(const int D, const int B, const int H,
                             __global const float *hs, const long hs_off,
                             __global const float *cs, const long cs_off,
                             __global float *yh, const long yh_off,
                             __global float *yc, const long yc_off,
                             const long sd, const long sb,
                             const int has_yh, const int has_yc)
{
    const long idx = (long)get_global_id(0);
    if (idx >= (long)D * B * H)
        return;
    const long j = idx % H, b = (idx / H) % B, d = idx / ((long)H * B);
    const long o = d * sd + b * sb + j;
    if (has_yh)
        yh[yh_off + o] = hs[hs_off + idx];
    if (has_yc)
        yc[yc_off + o] = cs[cs_off + idx];
}

/* One LSTM unit j (src/ref/rnn.c step_lstm) in two halves: c_t, then
 * h_t from it.  x the xp row of its sequence and time, ri ro rf rc the
 * recurrent terms of gates i o f c, cp = c_{t-1}, pp the unit's
 * peepholes (P + d*3H + j). */
float seqk_rnn_lstm_c(__global const float *x, int H, int j, float ri,
                      float rf, float rc, float cp, __global const float *pp,
                      int has_p, int input_forget, __global const float *a,
                      int d, float clip)
{
    float v = x[j] + ri;
    if (has_p)
        v += pp[0] * cp;
    const float it = seqk_rnn_apply(a, d, 0, seqk_rnn_clip(v, clip));
    float ft;
    if (input_forget) {
        ft = 1.0f - it;
    } else {
        v = x[2 * H + j] + rf;
        if (has_p)
            v += pp[2 * H] * cp;
        ft = seqk_rnn_apply(a, d, 0, seqk_rnn_clip(v, clip));
    }
    const float ct = seqk_rnn_apply(a, d, 1,
                                    seqk_rnn_clip(x[3 * H + j] + rc, clip));
    return ft * cp + it * ct;
}

float seqk_rnn_lstm_h(__global const float *x, int H, int j, float ro,
                      float c, __global const float *pp, int has_p,
                      __global const float *a, int d, float clip)
{
    float v = x[H + j] + ro;
    if (has_p)
        v += pp[H] * c;
    const float ot = seqk_rnn_apply(a, d, 0, seqk_rnn_clip(v, clip));
    return ot * seqk_rnn_apply(a, d, 2, c);
}

/* GRU output: h_t = (1 - z) (.) g(v) + z (.) h_{t-1}. */
float seqk_rnn_gru_out(float zt, float v, float hp, __global const float *a,
                       int d, float clip)
{
    const float ht = seqk_rnn_apply(a, d, 1, seqk_rnn_clip(v, clip));
    return (1.0f - zt) * ht + zt * hp;
}

/* Shared argument prefix of the step kernels (indices 0..29):
 *   D B H T s reverse | lens lens_off has_lens |
 *   xp xp_off xp_sd xp_st xp_sb | rg rg_off | rt rt_off fused |
 *   hin hin_off hout hout_off | y y_off y_sd y_st y_sb has_y |
 *   acts acts_off clip */

/* Vanilla RNN: H_t = f(xp + rec). */
__kernel void seqk_f32_rnn_step_rnn(
    const int D, const int B, const int H, const int T, const int s,
    const int reverse, __global const int *lens, const long lens_off,
    const int has_lens, __global const float *xp, const long xp_off,
    const long xp_sd, const long xp_st, const long xp_sb,
    __global const float *rg, const long rg_off, __global const float *rt,
    const long rt_off, const int fused, __global const float *hin,
    const long hin_off, __global float *hout, const long hout_off,
    __global float *y, const long y_off, const long y_sd, const long y_st,
    const long y_sb, const int has_y, __global const float *acts,
    const long acts_off, const float clip)
{
    seqk_rnn_pos p;
    if (!seqk_rnn_where(D, B, H, T, s, reverse, lens + lens_off, has_lens,
                        &p))
        return;
    const float hp = hin[hin_off + p.st];
    if (!p.active) {
        hout[hout_off + p.st] = hp;
        if (has_y)
            y[y_off + s * y_st + p.d * y_sd + p.b * y_sb + p.j] = 0.0f;
        return;
    }
    __global const float *x = xp + xp_off + p.d * xp_sd + p.t * xp_st +
                              p.b * xp_sb;
    const long hrow = hin_off + ((long)p.d * B + p.b) * H;
    float rec;
    if (fused)
        rec = seqk_rnn_rec(hin + hrow, rt + rt_off + (long)p.d * H * H, fused,
                           H, H, p.j);
    else
        rec = rg[rg_off + p.st];
    const float h = seqk_rnn_apply(acts + acts_off, p.d, 0,
                                   seqk_rnn_clip(x[p.j] + rec, clip));
    hout[hout_off + p.st] = h;
    if (has_y)
        y[y_off + p.t * y_st + p.d * y_sd + p.b * y_sb + p.j] = h;
}

/* LSTM, gates i,o,f,c: see src/ref/rnn.c step_lstm. */
__kernel void seqk_f32_rnn_step_lstm(
    const int D, const int B, const int H, const int T, const int s,
    const int reverse, __global const int *lens, const long lens_off,
    const int has_lens, __global const float *xp, const long xp_off,
    const long xp_sd, const long xp_st, const long xp_sb,
    __global const float *rg, const long rg_off, __global const float *rt,
    const long rt_off, const int fused, __global const float *hin,
    const long hin_off, __global float *hout, const long hout_off,
    __global float *y, const long y_off, const long y_sd, const long y_st,
    const long y_sb, const int has_y, __global const float *acts,
    const long acts_off, const float clip,
    __global const float *cin, const long cin_off, __global float *cout,
    const long cout_off, __global const float *P, const long P_off,
    const int has_p, const int input_forget)
{
    seqk_rnn_pos p;
    if (!seqk_rnn_where(D, B, H, T, s, reverse, lens + lens_off, has_lens,
                        &p))
        return;
    const float cp = cin[cin_off + p.st];
    if (!p.active) {
        hout[hout_off + p.st] = hin[hin_off + p.st];
        cout[cout_off + p.st] = cp;
        if (has_y)
            y[y_off + s * y_st + p.d * y_sd + p.b * y_sb + p.j] = 0.0f;
        return;
    }
    const int GH = 4 * H, j = p.j;
    __global const float *x = xp + xp_off + p.d * xp_sd + p.t * xp_st +
                              p.b * xp_sb;
    float ri, ro, rf, rc;
    if (fused) {
        __global const float *h = hin + hin_off + ((long)p.d * B + p.b) * H;
        __global const float *r = rt + rt_off + (long)p.d * H * GH;
        ri = seqk_rnn_rec(h, r, fused, H, GH, j);
        ro = seqk_rnn_rec(h, r, fused, H, GH, H + j);
        rf = seqk_rnn_rec(h, r, fused, H, GH, 2 * H + j);
        rc = seqk_rnn_rec(h, r, fused, H, GH, 3 * H + j);
    } else {
        __global const float *g = rg + rg_off + ((long)p.d * B + p.b) * GH + j;
        ri = g[0];
        ro = g[H];
        rf = g[2 * H];
        rc = g[3 * H];
    }
    __global const float *a = acts + acts_off;
    __global const float *pp = P + P_off + (long)p.d * 3 * H + j;
    const float c = seqk_rnn_lstm_c(x, H, j, ri, rf, rc, cp, pp, has_p,
                                    input_forget, a, p.d, clip);
    const float h = seqk_rnn_lstm_h(x, H, j, ro, c, pp, has_p, a, p.d, clip);
    cout[cout_off + p.st] = c;
    hout[hout_off + p.st] = h;
    if (has_y)
        y[y_off + p.t * y_st + p.d * y_sd + p.b * y_sb + j] = h;
}

/* GRU with linear_before_reset = 0, first half: z and r from h_{t-1};
 * writes z and r (.) h_{t-1} (the A of the candidate's GEMM) to zr and rh
 * [D][B][H].  Inactive rows write defined values (never read as results). */
__kernel void seqk_f32_rnn_step_gru_zr(
    const int D, const int B, const int H, const int T, const int s,
    const int reverse, __global const int *lens, const long lens_off,
    const int has_lens, __global const float *xp, const long xp_off,
    const long xp_sd, const long xp_st, const long xp_sb,
    __global const float *rg, const long rg_off, __global const float *rt,
    const long rt_off, const int fused, __global const float *hin,
    const long hin_off, __global float *z, const long z_off,
    __global float *rh, const long rh_off, __global const float *acts,
    const long acts_off, const float clip)
{
    seqk_rnn_pos p;
    if (!seqk_rnn_where(D, B, H, T, s, reverse, lens + lens_off, has_lens,
                        &p))
        return;
    const float hp = hin[hin_off + p.st];
    if (!p.active) {
        z[z_off + p.st] = 1.0f;
        rh[rh_off + p.st] = hp;
        return;
    }
    const int GH = 3 * H, j = p.j;
    __global const float *x = xp + xp_off + p.d * xp_sd + p.t * xp_st +
                              p.b * xp_sb;
    float rz, rr;
    if (fused) {
        __global const float *h = hin + hin_off + ((long)p.d * B + p.b) * H;
        __global const float *r = rt + rt_off + (long)p.d * H * GH;
        rz = seqk_rnn_rec(h, r, fused, H, GH, j);
        rr = seqk_rnn_rec(h, r, fused, H, GH, H + j);
    } else {
        __global const float *g = rg + rg_off + ((long)p.d * B + p.b) * GH + j;
        rz = g[0];
        rr = g[H];
    }
    __global const float *a = acts + acts_off;
    const float zt = seqk_rnn_apply(a, p.d, 0, seqk_rnn_clip(x[j] + rz, clip));
    const float rt_ = seqk_rnn_apply(a, p.d, 0,
                                     seqk_rnn_clip(x[H + j] + rr, clip));
    z[z_off + p.st] = zt;
    rh[rh_off + p.st] = rt_ * hp;
}

/* GRU, gates z,r,h.  lbr = 1: everything from h_{t-1} (rbh is Rbh, kept
 * out of xp because r multiplies it).  lbr = 0: z from
 * seqk_f32_rnn_step_gru_zr, the candidate's recurrent term from rg's h
 * column (GEMM over rh) or, fused, from rh directly. */
__kernel void seqk_f32_rnn_step_gru(
    const int D, const int B, const int H, const int T, const int s,
    const int reverse, __global const int *lens, const long lens_off,
    const int has_lens, __global const float *xp, const long xp_off,
    const long xp_sd, const long xp_st, const long xp_sb,
    __global const float *rg, const long rg_off, __global const float *rt,
    const long rt_off, const int fused, __global const float *hin,
    const long hin_off, __global float *hout, const long hout_off,
    __global float *y, const long y_off, const long y_sd, const long y_st,
    const long y_sb, const int has_y, __global const float *acts,
    const long acts_off, const float clip,
    const int lbr, __global const float *z, const long z_off,
    __global const float *rh, const long rh_off,
    __global const float *rbh, const long rbh_off)
{
    seqk_rnn_pos p;
    if (!seqk_rnn_where(D, B, H, T, s, reverse, lens + lens_off, has_lens,
                        &p))
        return;
    const float hp = hin[hin_off + p.st];
    if (!p.active) {
        hout[hout_off + p.st] = hp;
        if (has_y)
            y[y_off + s * y_st + p.d * y_sd + p.b * y_sb + p.j] = 0.0f;
        return;
    }
    const int GH = 3 * H, j = p.j;
    __global const float *x = xp + xp_off + p.d * xp_sd + p.t * xp_st +
                              p.b * xp_sb;
    __global const float *a = acts + acts_off;
    const long row = ((long)p.d * B + p.b) * H;
    __global const float *r = rt + rt_off + (long)p.d * H * GH;
    float zt, v;
    if (lbr) {
        float rz, rr, rh_;
        if (fused) {
            __global const float *h = hin + hin_off + row;
            rz = seqk_rnn_rec(h, r, fused, H, GH, j);
            rr = seqk_rnn_rec(h, r, fused, H, GH, H + j);
            rh_ = seqk_rnn_rec(h, r, fused, H, GH, 2 * H + j);
        } else {
            __global const float *g = rg + rg_off + ((long)p.d * B + p.b) * GH + j;
            rz = g[0];
            rr = g[H];
            rh_ = g[2 * H];
        }
        zt = seqk_rnn_apply(a, p.d, 0, seqk_rnn_clip(x[j] + rz, clip));
        const float rt_ = seqk_rnn_apply(a, p.d, 0,
                                         seqk_rnn_clip(x[H + j] + rr, clip));
        v = x[2 * H + j] + rt_ * (rh_ + rbh[rbh_off + (long)p.d * H + j]);
    } else {
        zt = z[z_off + p.st];
        float rec;
        if (fused)
            rec = seqk_rnn_rec(rh + rh_off + row, r, fused, H, GH, 2 * H + j);
        else
            rec = rg[rg_off + ((long)p.d * B + p.b) * GH + 2 * H + j];
        v = x[2 * H + j] + rec;
    }
    const float h = seqk_rnn_gru_out(zt, v, hp, a, p.d, clip);
    hout[hout_off + p.st] = h;
    if (has_y)
        y[y_off + p.t * y_st + p.d * y_sd + p.b * y_sb + j] = h;
}

/* ------------------------------------------------- the sequence variant
 *
 * One work-group per (d, b) = get_group_id(0) as d*B + b runs all T steps
 * of that sequence ("opencl.rnn.step" variant 4): one launch per layer.
 * Directions and batch rows are independent recurrences, so groups never
 * wait for each other (no inter-group synchronisation); inside a group
 * h_{t-1} sits in local memory and a barrier ends each step.  Work-item
 * lid owns units lid, lid + WG, ... for the whole sequence (its LSTM c
 * stays in its own global slots).  R is read as uploaded,
 * R[d*G*H*H + (g*H + j)*H + k].
 *
 * Local memory hl: h ping-pong [2][H]; GRU lbr=0 adds r (.) h and z [H]
 * each (4H floats).  Steps s >= len leave the state alone and zero y[s];
 * len is the same for the whole group, so every work-item meets the same
 * barriers.
 *
 * Arguments (0..28):
 *   D B H T reverse | lens lens_off has_lens | xp xp_off xp_sd xp_st xp_sb |
 *   R R_off | hin hin_off hout hout_off | y y_off y_sd y_st y_sb has_y |
 *   acts acts_off clip | hl
 * then LSTM: cin cin_off cout cout_off P P_off has_p input_forget;
 * GRU: lbr rbh rbh_off.  hout (cout) may be hin (cin).
 */

/* h . R[row]^T with h in local memory: seqk_rnn_rec's row loop again, as
 * OpenCL 1.2 has no generic address space for one function to take
 * both. */
float seqk_rnn_rec_local(__local const float *h, __global const float *r,
                         int H, int row)
{
    __global const float *rr = r + (long)row * H;
    float acc = 0.0f;
    int k = 0;
    if (H >= 16) { /* two 8-float accumulators (see the note above) */
        float8 a0 = vload8(0, h) * vload8(0, rr);
        float8 a1 = vload8(1, h) * vload8(1, rr);
        for (k = 16; k + 16 <= H; k += 16) {
            a0 = fma(vload8(0, h + k), vload8(0, rr + k), a0);
            a1 = fma(vload8(1, h + k), vload8(1, rr + k), a1);
        }
        const float8 a8 = a0 + a1;
        const float4 a4 = a8.lo + a8.hi;
        acc = (a4.x + a4.y) + (a4.z + a4.w);
    }
    for (; k < H; k++)
        acc = fma(h[k], rr[k], acc);
    return acc;
}

typedef struct seqk_rnn_seq {
    int d, b, len, rev;
    long row; /* (d*B + b)*H: the sequence's state row */
} seqk_rnn_seq;

seqk_rnn_seq seqk_rnn_seq_where(int D, int B, int H, int T, int reverse,
                                __global const int *lens, int has_lens)
{
    seqk_rnn_seq q;
    const int g = (int)get_group_id(0);
    q.d = g / B;
    q.b = g % B;
    q.len = has_lens ? lens[q.b] : T;
    q.rev = D == 2 ? q.d == 1 : reverse;
    q.row = ((long)q.d * B + q.b) * H;
    return q;
}

/* The work-item's units of a state row: local <- global, and back. */
void seqk_rnn_seq_load(__local float *hl, __global const float *h, int H)
{
    for (int j = (int)get_local_id(0); j < H; j += (int)get_local_size(0))
        hl[j] = h[j];
}

void seqk_rnn_seq_store(__global float *h, __local const float *hl, int H)
{
    for (int j = (int)get_local_id(0); j < H; j += (int)get_local_size(0))
        h[j] = hl[j];
}

/* y row yr[s*y_st + j] = 0 for the work-item's units (a step past len). */
void seqk_rnn_seq_zero_y(__global float *yr, long s, long y_st, int H,
                         int has_y)
{
    for (int j = (int)get_local_id(0); j < H && has_y;
         j += (int)get_local_size(0))
        yr[s * y_st + j] = 0.0f;
}

__kernel void seqk_f32_rnn_seq_rnn(
    const int D, const int B, const int H, const int T, const int reverse,
    __global const int *lens, const long lens_off, const int has_lens,
    __global const float *xp, const long xp_off, const long xp_sd,
    const long xp_st, const long xp_sb, __global const float *R,
    const long R_off, __global const float *hin, const long hin_off,
    __global float *hout, const long hout_off, __global float *y,
    const long y_off, const long y_sd, const long y_st, const long y_sb,
    const int has_y, __global const float *acts, const long acts_off,
    const float clip, __local float *hl)
{
    const seqk_rnn_seq q = seqk_rnn_seq_where(D, B, H, T, reverse,
                                              lens + lens_off, has_lens);
    const int lid = (int)get_local_id(0), wg = (int)get_local_size(0);
    __global const float *r = R + R_off + (long)q.d * H * H;
    __global const float *a = acts + acts_off;
    __global float *yr = y + y_off + q.d * y_sd + q.b * y_sb;
    seqk_rnn_seq_load(hl, hin + hin_off + q.row, H);
    barrier(CLK_LOCAL_MEM_FENCE);
    int cur = 0;
    for (int s = 0; s < T; s++) {
        if (s >= q.len) {
            seqk_rnn_seq_zero_y(yr, s, y_st, H, has_y);
            continue;
        }
        const long t = q.rev ? q.len - 1 - s : s;
        __global const float *x = xp + xp_off + q.d * xp_sd + t * xp_st +
                                  q.b * xp_sb;
        __local const float *h = hl + cur * H;
        for (int j = lid; j < H; j += wg) {
            const float v = x[j] + seqk_rnn_rec_local(h, r, H, j);
            const float hn = seqk_rnn_apply(a, q.d, 0, seqk_rnn_clip(v, clip));
            hl[(cur ^ 1) * H + j] = hn;
            if (has_y)
                yr[t * y_st + j] = hn;
        }
        cur ^= 1;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    seqk_rnn_seq_store(hout + hout_off + q.row, hl + cur * H, H);
}

__kernel void seqk_f32_rnn_seq_lstm(
    const int D, const int B, const int H, const int T, const int reverse,
    __global const int *lens, const long lens_off, const int has_lens,
    __global const float *xp, const long xp_off, const long xp_sd,
    const long xp_st, const long xp_sb, __global const float *R,
    const long R_off, __global const float *hin, const long hin_off,
    __global float *hout, const long hout_off, __global float *y,
    const long y_off, const long y_sd, const long y_st, const long y_sb,
    const int has_y, __global const float *acts, const long acts_off,
    const float clip, __local float *hl,
    __global const float *cin, const long cin_off, __global float *cout,
    const long cout_off, __global const float *P, const long P_off,
    const int has_p, const int input_forget)
{
    const seqk_rnn_seq q = seqk_rnn_seq_where(D, B, H, T, reverse,
                                              lens + lens_off, has_lens);
    const int lid = (int)get_local_id(0), wg = (int)get_local_size(0);
    const int GH = 4 * H;
    __global const float *r = R + R_off + (long)q.d * GH * H;
    __global const float *a = acts + acts_off;
    __global const float *pp = P + P_off + (long)q.d * 3 * H;
    __global float *c = cout + cout_off + q.row;
    __global float *yr = y + y_off + q.d * y_sd + q.b * y_sb;
    seqk_rnn_seq_load(hl, hin + hin_off + q.row, H);
    for (int j = lid; j < H; j += wg)
        c[j] = cin[cin_off + q.row + j];
    barrier(CLK_LOCAL_MEM_FENCE);
    int cur = 0;
    for (int s = 0; s < T; s++) {
        if (s >= q.len) {
            seqk_rnn_seq_zero_y(yr, s, y_st, H, has_y);
            continue;
        }
        const long t = q.rev ? q.len - 1 - s : s;
        __global const float *x = xp + xp_off + q.d * xp_sd + t * xp_st +
                                  q.b * xp_sb;
        __local const float *h = hl + cur * H;
        for (int j = lid; j < H; j += wg) {
            const float cn = seqk_rnn_lstm_c(
                x, H, j, seqk_rnn_rec_local(h, r, H, j),
                seqk_rnn_rec_local(h, r, H, 2 * H + j),
                seqk_rnn_rec_local(h, r, H, 3 * H + j), c[j], pp + j, has_p,
                input_forget, a, q.d, clip);
            const float hn = seqk_rnn_lstm_h(
                x, H, j, seqk_rnn_rec_local(h, r, H, H + j), cn, pp + j,
                has_p, a, q.d, clip);
            c[j] = cn;
            hl[(cur ^ 1) * H + j] = hn;
            if (has_y)
                yr[t * y_st + j] = hn;
        }
        cur ^= 1;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    seqk_rnn_seq_store(hout + hout_off + q.row, hl + cur * H, H);
}

__kernel void seqk_f32_rnn_seq_gru(
    const int D, const int B, const int H, const int T, const int reverse,
    __global const int *lens, const long lens_off, const int has_lens,
    __global const float *xp, const long xp_off, const long xp_sd,
    const long xp_st, const long xp_sb, __global const float *R,
    const long R_off, __global const float *hin, const long hin_off,
    __global float *hout, const long hout_off, __global float *y,
    const long y_off, const long y_sd, const long y_st, const long y_sb,
    const int has_y, __global const float *acts, const long acts_off,
    const float clip, __local float *hl,
    const int lbr, __global const float *rbh, const long rbh_off)
{
    const seqk_rnn_seq q = seqk_rnn_seq_where(D, B, H, T, reverse,
                                              lens + lens_off, has_lens);
    const int lid = (int)get_local_id(0), wg = (int)get_local_size(0);
    const int GH = 3 * H;
    __global const float *r = R + R_off + (long)q.d * GH * H;
    __global const float *a = acts + acts_off;
    __global const float *rb = rbh + rbh_off + (long)q.d * H;
    __global float *yr = y + y_off + q.d * y_sd + q.b * y_sb;
    __local float *rl = hl + 2 * H, *zl = hl + 3 * H; /* lbr = 0 only */
    seqk_rnn_seq_load(hl, hin + hin_off + q.row, H);
    barrier(CLK_LOCAL_MEM_FENCE);
    int cur = 0;
    for (int s = 0; s < T; s++) {
        if (s >= q.len) {
            seqk_rnn_seq_zero_y(yr, s, y_st, H, has_y);
            continue;
        }
        const long t = q.rev ? q.len - 1 - s : s;
        __global const float *x = xp + xp_off + q.d * xp_sd + t * xp_st +
                                  q.b * xp_sb;
        __local const float *h = hl + cur * H;
        if (!lbr) { /* z and r (.) h of every unit first */
            for (int j = lid; j < H; j += wg) {
                const float zv = x[j] + seqk_rnn_rec_local(h, r, H, j);
                const float rv = x[H + j] + seqk_rnn_rec_local(h, r, H, H + j);
                zl[j] = seqk_rnn_apply(a, q.d, 0, seqk_rnn_clip(zv, clip));
                rl[j] = seqk_rnn_apply(a, q.d, 0, seqk_rnn_clip(rv, clip)) *
                        h[j];
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        for (int j = lid; j < H; j += wg) {
            float zt, v;
            if (lbr) {
                const float zv = x[j] + seqk_rnn_rec_local(h, r, H, j);
                const float rv = x[H + j] + seqk_rnn_rec_local(h, r, H, H + j);
                zt = seqk_rnn_apply(a, q.d, 0, seqk_rnn_clip(zv, clip));
                const float rt = seqk_rnn_apply(a, q.d, 0,
                                                seqk_rnn_clip(rv, clip));
                v = x[2 * H + j] +
                    rt * (seqk_rnn_rec_local(h, r, H, 2 * H + j) + rb[j]);
            } else {
                zt = zl[j];
                v = x[2 * H + j] + seqk_rnn_rec_local(rl, r, H, 2 * H + j);
            }
            const float hn = seqk_rnn_gru_out(zt, v, h[j], a, q.d, clip);
            hl[(cur ^ 1) * H + j] = hn;
            if (has_y)
                yr[t * y_st + j] = hn;
        }
        cur ^= 1;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    seqk_rnn_seq_store(hout + hout_off + q.row, hl + cur * H, H);
}
