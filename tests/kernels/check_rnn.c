/*
 * check_rnn.c — the RNN table (src/cpu_simd/rnn.h): the fused step
 * kernel for every stage (RNN, LSTM with and without input_forget and
 * peepholes, GRU linear_before_reset, GRU z/r and h passes), with and
 * without the fused input projection, and the projection kernel.
 *
 * One pass over tiles [tb, te) of nrows batch rows (rows[] a shuffled
 * subset of B > nrows, so some state rows must stay untouched):
 *
 *   panel  [tile][k][v][lane]   k < H   (wpanel: k < K)
 *   in, hprev, hnew, c, rh      [B][Hp]     Hp = H rounded up to 2V
 *   xw row i                    [Hp/V][ng][V], rows a float apart
 *   y row i                     [H] + a gap that must stay untouched
 *
 * Per tile and row the scalar version forms the accumulators of rnn.h
 * (acc[v] from W, acc[racc + v] from R) in double, then the stage's gate
 * math with the library's scalar activations (seqk__ref_activate).
 *
 * rnn.step_bf16 / rnn.project_bf16: the same for one row with the panels
 * rounded to bf16 and given again as bf16 (panel16/wpanel16, pairwise:
 * core/bf16.h); the f32 panels are overwritten with NaN after the scalar
 * version read them, so only the bf16 path can pass.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkkern.h"
#include "core/bf16.h"
#include "cpu_simd/rnn.h"
#include "ref/ref.h"

typedef struct rnn_case {
    seqk_rnn_stage stage;
    int input_forget, peep;
    const char *label;
} rnn_case;

static const rnn_case CASES[] = {
    {SEQK_RNN_STAGE_RNN, 0, 0, "rnn"},
    {SEQK_RNN_STAGE_LSTM, 0, 0, "lstm"},
    {SEQK_RNN_STAGE_LSTM, 1, 0, "lstm input_forget"},
    {SEQK_RNN_STAGE_LSTM, 0, 1, "lstm peepholes"},
    {SEQK_RNN_STAGE_LSTM, 1, 1, "lstm input_forget peepholes"},
    {SEQK_RNN_STAGE_GRU, 0, 0, "gru lbr"},
    {SEQK_RNN_STAGE_GRU_ZR, 0, 0, "gru zr"},
    {SEQK_RNN_STAGE_GRU_H, 0, 0, "gru h"},
};
enum { NCASES = sizeof CASES / sizeof CASES[0] };

/* Projected gates per V-tile of XW, by the cell the stage belongs to. */
static int xw_gates(const rnn_case *c)
{
    if (c->stage == SEQK_RNN_STAGE_LSTM)
        return c->input_forget ? 3 : 4;
    return c->stage == SEQK_RNN_STAGE_RNN ? 1 : 3;
}

/* Everything one kernel call reads and writes. */
typedef struct rnn_bufs {
    seqk_rnn_step_args a;
    int64_t B, ntiles, U, xws, ys, xs;
    ck_kind kind;
    float *panel, *wpanel, *x, *xw, *xwo, *bias, *y, *in, *hprev, *hnew, *c,
        *rh, *peep, *rbh;
    const float *xp[16], *xwp[16];
    float *xwop[16], *yp[16];
    int32_t rows[16];
} rnn_bufs;

static void bufs_free(rnn_bufs *b)
{
    float *all[] = {b->panel, b->wpanel, b->x,    b->xw,    b->xwo,
                    b->bias,  b->y,      b->in,   b->hprev, b->hnew,
                    b->c,     b->rh,     b->peep, b->rbh};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        ck_free(all[i]);
}

/* Fills rows x width values; CK_LANES gives every unit of a row the same
 * value. */
static void fill_units(ck_rng *r, float *p, int64_t rows, int64_t width,
                       ck_kind kind)
{
    for (int64_t i = 0; i < rows; i++) {
        const float v = ck_value(r, kind);
        for (int64_t u = 0; u < width; u++)
            p[i * width + u] = kind == CK_LANES ? v : ck_value(r, kind);
    }
}

static void bufs_init(rnn_bufs *b, const rnn_case *cs, int V, int64_t H,
                      int64_t nrows, int64_t K, int with_y, float clip,
                      ck_kind kind, ck_rng *r)
{
    memset(b, 0, sizeof *b);
    b->kind = kind;
    seqk_rnn_step_args *a = &b->a;
    const int nv = seqk_rnn_stage_nvec(cs->stage, cs->input_forget);
    const int vpg = seqk_rnn_stage_vpg(cs->stage);
    const int64_t Hp = (H + 2 * V - 1) / (2 * V) * (2 * V);
    const int ng = xw_gates(cs);
    b->U = (int64_t)vpg * V;
    b->ntiles = Hp / b->U;
    b->B = nrows + 2;
    b->xws = Hp * ng + 1; /* XW rows a float apart: unaligned on purpose */
    b->ys = H + 3;
    b->xs = K + 1;
    const int64_t B = b->B;
    /* panels: lane-uniform for CK_LANES (a value per tile, k and vector
     * slot's gate), zero past H otherwise (rnn.h) */
    const int64_t npan = b->ntiles * H * nv * V, nwpan = b->ntiles * K * nv * V;
    b->panel = ck_alloc((size_t)npan);
    b->wpanel = ck_alloc((size_t)(nwpan > 0 ? nwpan : 1));
    float *pans[2] = {b->panel, b->wpanel};
    const int64_t ks[2] = {H, K};
    for (int w = 0; w < 2; w++)
        for (int64_t t = 0; t < b->ntiles; t++)
            for (int64_t k = 0; k < ks[w]; k++) {
                float same = 0; /* CK_LANES: one value per gate (v / vpg) */
                for (int v = 0; v < nv; v++) {
                    if (v % vpg == 0)
                        same = ck_value(r, kind);
                    for (int l = 0; l < V; l++) {
                        const int64_t u = t * b->U + (v % vpg) * V + l;
                        float *dst =
                            pans[w] + ((t * ks[w] + k) * nv + v) * V + l;
                        *dst = kind == CK_LANES ? same
                               : u < H          ? ck_value(r, kind)
                                                : 0.0f;
                    }
                }
            }
    b->x = ck_alloc((size_t)(nrows * b->xs));
    ck_fill(r, b->x, (size_t)(nrows * b->xs), kind);
    b->xw = ck_alloc((size_t)(nrows * b->xws));
    b->xwo = ck_alloc((size_t)(nrows * b->xws));
    b->bias = ck_alloc((size_t)(Hp * ng));
    b->y = ck_alloc((size_t)(nrows * b->ys));
    /* XW and bias rows: per gate slot, the same over units for CK_LANES */
    for (int64_t i = 0; i <= nrows; i++) {
        float *row = i < nrows ? b->xw + i * b->xws : b->bias;
        float slot[4];
        for (int g = 0; g < ng; g++)
            slot[g] = ck_value(r, kind);
        for (int64_t q = 0; q < Hp / V; q++)
            for (int g = 0; g < ng; g++)
                for (int l = 0; l < V; l++)
                    row[(q * ng + g) * V + l] =
                        kind == CK_LANES ? slot[g] : ck_value(r, kind);
    }
    ck_fill(r, b->xwo, (size_t)(nrows * b->xws), CK_EXACT);
    ck_fill(r, b->y, (size_t)(nrows * b->ys), CK_EXACT);
    float **state[] = {&b->in, &b->hprev, &b->hnew, &b->c, &b->rh};
    for (int s = 0; s < 5; s++) {
        *state[s] = ck_alloc((size_t)(B * Hp));
        fill_units(r, *state[s], B, Hp, kind);
    }
    b->peep = ck_alloc((size_t)(3 * Hp));
    fill_units(r, b->peep, 3, Hp, kind);
    b->rbh = ck_alloc((size_t)Hp);
    fill_units(r, b->rbh, 1, Hp, kind);
    /* rows: a shuffled subset of the batch */
    int32_t perm[18];
    for (int i = 0; i < B; i++)
        perm[i] = i;
    for (int i = (int)B - 1; i > 0; i--) {
        const int j = ck_int(r, 0, i);
        const int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int64_t i = 0; i < nrows; i++) {
        b->rows[i] = perm[i];
        b->xp[i] = b->x + i * b->xs;
        b->xwp[i] = b->xw + i * b->xws;
        b->xwop[i] = b->xwo + i * b->xws;
        b->yp[i] = b->y + i * b->ys;
    }
    static const seqk_act_kind f_of[] = {SEQK_ACT_TANH, SEQK_ACT_SIGMOID,
                                         SEQK_ACT_SIGMOID, SEQK_ACT_SIGMOID,
                                         SEQK_ACT_SIGMOID};
    a->stage = cs->stage;
    a->input_forget = cs->input_forget;
    a->H = H;
    a->Hp = Hp;
    a->panel = b->panel;
    a->K = K;
    a->wpanel = b->wpanel;
    a->x = b->xp;
    a->nrows = nrows;
    a->rows = b->rows;
    a->xw_gates = ng;
    a->xw = b->xwp;
    a->xw_out = b->xwop;
    a->bias = b->bias;
    a->y = with_y ? b->yp : NULL;
    a->in = b->in;
    a->hprev = b->hprev;
    a->hnew = b->hnew;
    a->c = b->c;
    a->rh = b->rh;
    a->peep = cs->peep ? b->peep : NULL;
    a->rbh = b->rbh;
    a->act[0] = seqk_activation_default(f_of[cs->stage]);
    a->act[1] = seqk_activation_default(SEQK_ACT_TANH);
    a->act[2] = seqk_activation_default(SEQK_ACT_TANH);
    a->clip = clip;
}

/* ------------------------------------------------------------- scalar */

/* A value and a bound on its error against the kernel's float math. */
typedef struct val {
    double v, e;
} val;

static val act(const seqk_rnn_step_args *a, int k, val x)
{
    float in = (float)x.v;
    if (k < 2 && a->clip > 0)
        in = fminf(fmaxf(in, -a->clip), a->clip);
    const float y = seqk__ref_activate(a->act[k], in);
    /* the SIMD activations are within a few ulp of libm (SLEEF u35) */
    return (val){y, x.e + 16 * CK_EPS * (fabs(y) + 0x1p-20)};
}

/* The accumulator of vector slot v (< nacc) of row i, tile t, lane l;
 * the projection's (W only) when project. */
static val accum_(const rnn_bufs *b, int64_t i, int64_t t, int v, int l,
                  int project)
{
    const seqk_rnn_step_args *a = &b->a;
    const int nv = seqk_rnn_stage_nvec(a->stage, a->input_forget);
    const int racc = seqk_rnn_stage_racc(a->stage);
    const int64_t V = b->U / seqk_rnn_stage_vpg(a->stage);
    double s = 0, mag = 0;
    if (v < nv)
        for (int64_t k = 0; k < a->K; k++) {
            const double p = (double)a->x[i][k] *
                             a->wpanel[((t * a->K + k) * nv + v) * V + l];
            s += p;
            mag += fabs(p);
        }
    if (!project && v >= racc && v - racc < nv)
        for (int64_t k = 0; k < a->H; k++) {
            const double p = (double)a->in[a->rows[i] * a->Hp + k] *
                             a->panel[((t * a->H + k) * nv + v - racc) * V + l];
            s += p;
            mag += fabs(p);
        }
    /* exact data: every product and partial sum is a float */
    if (b->kind != CK_RANDOM)
        return (val){s, 0.0};
    return (val){s, CK_EPS * (fabs(s) + (double)(a->H + a->K + 1) * mag)};
}

static val accum(const rnn_bufs *b, int64_t i, int64_t t, int v, int l)
{
    return accum_(b, i, t, v, l, 0);
}

/* Whether the kernel's float result is exactly x: then any slip shows. */
static int exact(val x)
{
    return x.e == 0.0 && (double)(float)x.v == x.v;
}

static val add(val x, double y)
{
    const double s = x.v + y;
    const val r = {s, x.e};
    return exact(r) ? r : (val){s, x.e + CK_EPS * fabs(s)};
}

static void set(float *want, double *tol, int64_t o, val x)
{
    want[o] = (float)x.v;
    tol[o] = exact(x) ? 0.0 : x.e + 2 * CK_EPS * fabs(x.v) + 1e-30;
}

/* Expected state buffers (hnew, c, rh), y and, for project, XW. */
typedef struct rnn_want {
    float *hnew, *c, *rh, *y, *xwo;
    double *th, *tc, *tr, *ty, *tx;
} rnn_want;

static void expect(const rnn_bufs *b, int project, int64_t tb, int64_t te,
                   rnn_want *w)
{
    const seqk_rnn_step_args *a = &b->a;
    const int vpg = seqk_rnn_stage_vpg(a->stage);
    const int V = (int)(b->U / vpg), ng = a->xw_gates;
    const int nv = seqk_rnn_stage_nvec(a->stage, a->input_forget);
    const int64_t Hp = a->Hp;
    for (int64_t i = 0; i < a->nrows; i++) {
        const int64_t row = a->rows[i], so = row * Hp;
        for (int64_t t = tb; t < te; t++)
            for (int l = 0; l < V; l++) {
                if (project) {
                    for (int v = 0; v < nv; v++) {
                        const int slot =
                            seqk_rnn_stage_wslot(a->stage, v / vpg);
                        const int64_t o =
                            ((t * vpg + v % vpg) * ng + slot) * V + l;
                        set(w->xwo, w->tx, i * b->xws + o,
                            add(accum_(b, i, t, v, l, 1), a->bias[o]));
                    }
                    continue;
                }
                /* xw of V-tile q, slot g */
#define XW(q, g) ((double)a->xw[i][((q)*ng + (g)) * V + l])
                switch (a->stage) {
                case SEQK_RNN_STAGE_RNN:
                case SEQK_RNN_STAGE_GRU_H:
                    for (int v = 0; v < 2; v++) {
                        const int64_t u = t * b->U + v * V + l;
                        const int g = a->stage == SEQK_RNN_STAGE_RNN ? 0 : 2;
                        val h =
                            act(a, a->stage == SEQK_RNN_STAGE_RNN ? 0 : 1,
                                add(accum(b, i, t, v, l), XW(2 * t + v, g)));
                        if (a->stage == SEQK_RNN_STAGE_GRU_H) {
                            const double z = a->c[so + u],
                                         hp = a->hprev[so + u];
                            h = (val){z * (hp - h.v) + h.v,
                                      h.e * (1 + fabs(z)) +
                                          4 * CK_EPS * (fabs(hp) + fabs(h.v))};
                        }
                        set(w->hnew, w->th, so + u, h);
                        if (a->y && u < a->H)
                            set(w->y, w->ty, i * b->ys + u, h);
                    }
                    break;
                case SEQK_RNN_STAGE_LSTM: {
                    const int64_t u = t * V + l;
                    const int nvl = a->input_forget ? 3 : 4;
                    const double cp = a->c[so + u];
                    const float *pp = a->peep;
                    val ai = add(accum(b, i, t, 0, l), XW(t, 0));
                    if (pp)
                        ai = add(ai, pp[u] * cp);
                    const val it = act(a, 0, ai);
                    val ft;
                    if (a->input_forget) {
                        ft = (val){1.0 - it.v, it.e + CK_EPS};
                    } else {
                        val af = add(accum(b, i, t, 2, l), XW(t, 2));
                        if (pp)
                            af = add(af, pp[2 * Hp + u] * cp);
                        ft = act(a, 0, af);
                    }
                    const val ct = act(
                        a, 1, add(accum(b, i, t, nvl - 1, l), XW(t, nvl - 1)));
                    const double cn = ft.v * cp + it.v * ct.v;
                    const val c = {cn, fabs(cp) * ft.e + fabs(ct.v) * it.e +
                                           fabs(it.v) * ct.e +
                                           4 * CK_EPS * (fabs(cn) + fabs(cp))};
                    val ao = add(accum(b, i, t, 1, l), XW(t, 1));
                    if (pp)
                        ao = add(ao, pp[Hp + u] * (float)cn);
                    ao.e += pp ? fabs(pp[Hp + u]) * c.e : 0;
                    const val ot = act(a, 0, ao);
                    const val hc = act(a, 2, (val){(float)cn, c.e});
                    const val h = {ot.v * hc.v,
                                   ot.e * fabs(hc.v) + fabs(ot.v) * hc.e +
                                       2 * CK_EPS * fabs(ot.v * hc.v)};
                    set(w->c, w->tc, so + u, c);
                    set(w->hnew, w->th, so + u, h);
                    if (a->y && u < a->H)
                        set(w->y, w->ty, i * b->ys + u, h);
                    break;
                }
                case SEQK_RNN_STAGE_GRU: {
                    const int64_t u = t * V + l;
                    const val z =
                        act(a, 0, add(accum(b, i, t, 1, l), XW(t, 0)));
                    const val rr =
                        act(a, 0, add(accum(b, i, t, 2, l), XW(t, 1)));
                    const val xh = add(accum(b, i, t, 0, l), XW(t, 2));
                    const val lin = add(accum(b, i, t, 3, l), a->rbh[u]);
                    const double pre = rr.v * lin.v + xh.v;
                    const val ht =
                        act(a, 1,
                            (val){pre, rr.e * fabs(lin.v) + fabs(rr.v) * lin.e +
                                           xh.e + 2 * CK_EPS * fabs(pre)});
                    const double hp = a->hprev[so + u];
                    const val h = {z.v * (hp - ht.v) + ht.v,
                                   z.e * fabs(hp - ht.v) +
                                       ht.e * (1 + fabs(z.v)) +
                                       4 * CK_EPS * (fabs(hp) + fabs(ht.v))};
                    set(w->hnew, w->th, so + u, h);
                    if (a->y && u < a->H)
                        set(w->y, w->ty, i * b->ys + u, h);
                    break;
                }
                case SEQK_RNN_STAGE_GRU_ZR: {
                    const int64_t u = t * V + l;
                    const val z =
                        act(a, 0, add(accum(b, i, t, 0, l), XW(t, 0)));
                    const val rr =
                        act(a, 0, add(accum(b, i, t, 1, l), XW(t, 1)));
                    const double hp = a->hprev[so + u];
                    set(w->c, w->tc, so + u, z);
                    set(w->rh, w->tr, so + u,
                        (val){rr.v * hp,
                              rr.e * fabs(hp) + CK_EPS * fabs(rr.v * hp)});
                    break;
                }
                }
#undef XW
            }
    }
}

/* ------------------------------------------------------------- check */

static double *zeros(size_t n)
{
    return calloc(n, sizeof(double));
}

static float *copy(const float *p, size_t n)
{
    float *q = ck_alloc(n);
    memcpy(q, p, n * sizeof *p);
    return q;
}

/* Units of one tile of a state row that must agree bitwise (CK_LANES). */
static void same_units(const char *what, const char *shape, const float *p,
                       int64_t o, int64_t n)
{
    size_t idx[64];
    for (int64_t u = 0; u < n && u < 64; u++)
        idx[u] = (size_t)(o + u);
    ck_same(what, shape, p, idx, (size_t)(n < 64 ? n : 64));
}

/* bf16: the panels rounded in place, their pairwise bf16 copies in
 * *p16 / *w16 (malloc'd) set as panel16 / wpanel16. */
static void bf16_panels(rnn_bufs *b, const rnn_case *cs, int V,
                        uint16_t **p16, uint16_t **w16)
{
    const int nv = seqk_rnn_stage_nvec(cs->stage, cs->input_forget);
    const int64_t rows[2] = {b->ntiles * b->a.H, b->ntiles * b->a.K};
    float *f[2] = {b->panel, b->wpanel};
    uint16_t **h[2] = {p16, w16};
    for (int m = 0; m < 2; m++) {
        const size_t n = (size_t)(rows[m] * nv * V);
        for (size_t i = 0; i < n; i++)
            f[m][i] = seqk__bf16_to_f32(seqk__bf16_from_f32(f[m][i]));
        *h[m] = malloc(sizeof(uint16_t) * (n ? n : 1));
        seqk__bf16_pack_rows(f[m], *h[m], rows[m], nv, V);
    }
    b->a.panel16 = *p16;
    b->a.wpanel16 = *w16;
}

static void check_one(const seqk_rnn_kernels *kern, const rnn_case *cs,
                      int project, int64_t H, int64_t nrows, int64_t K,
                      int with_y, float clip, int sub, ck_kind kind, ck_rng *r,
                      int bf16)
{
    rnn_bufs b;
    uint16_t *p16 = NULL, *w16 = NULL;
    bufs_init(&b, cs, kern->vlen, H, nrows, K, with_y, clip, kind, r);
    if (bf16)
        bf16_panels(&b, cs, kern->vlen, &p16, &w16);
    const int64_t tb = sub && b.ntiles > 2 ? 1 : 0;
    const int64_t te = sub && b.ntiles > 2 ? b.ntiles - 1 : b.ntiles;
    const size_t ns = (size_t)(b.B * b.a.Hp), ny = (size_t)(nrows * b.ys);
    const size_t nx = (size_t)(nrows * b.xws);
    rnn_want w = {copy(b.hnew, ns), copy(b.c, ns),   copy(b.rh, ns),
                  copy(b.y, ny),    copy(b.xwo, nx), zeros(ns),
                  zeros(ns),        zeros(ns),       zeros(ny),
                  zeros(nx)};
    expect(&b, project, tb, te, &w);
    if (bf16) { /* the kernel must read the bf16 copies */
        const int nv = seqk_rnn_stage_nvec(cs->stage, cs->input_forget);
        for (int64_t i = 0; i < b.ntiles * H * nv * kern->vlen; i++)
            b.panel[i] = NAN;
        for (int64_t i = 0; i < b.ntiles * K * nv * kern->vlen; i++)
            b.wpanel[i] = NAN;
    }
    (project ? kern->project : kern->step)(&b.a, tb, te);
    free(p16);
    free(w16);
    char shape[160];
    snprintf(shape, sizeof shape,
             "%s%s %s H=%lld rows=%lld K=%lld%s clip=%g tiles=%lld..%lld",
             bf16 ? "bf16 " : "", ck_kind_names[kind], cs->label, (long long)H, (long long)nrows,
             (long long)K, with_y ? " y" : "", (double)clip, (long long)tb,
             (long long)te);
    ck_compare("hnew", shape, b.hnew, w.hnew, w.th, ns);
    ck_compare("c", shape, b.c, w.c, w.tc, ns);
    ck_compare("rh", shape, b.rh, w.rh, w.tr, ns);
    ck_compare("y", shape, b.y, w.y, w.ty, ny);
    ck_compare("xw_out", shape, b.xwo, w.xwo, w.tx, nx);
    if (kind == CK_LANES && !project)
        for (int64_t i = 0; i < nrows; i++)
            for (int64_t t = tb; t < te; t++) {
                const int64_t o = b.rows[i] * b.a.Hp + t * b.U;
                same_units("hnew", shape, b.hnew, o, b.U);
                same_units("c", shape, b.c, o, b.U);
                same_units("rh", shape, b.rh, o, b.U);
            }
    if (kind == CK_LANES && project)
        for (int64_t i = 0; i < nrows; i++)
            for (int64_t q = tb * (b.U / kern->vlen);
                 q < te * (b.U / kern->vlen); q++)
                for (int gi = 0;
                     gi < seqk_rnn_stage_gates(cs->stage, cs->input_forget);
                     gi++) {
                    const int g = seqk_rnn_stage_wslot(cs->stage, gi);
                    same_units("xw_out", shape, b.xwo,
                               i * b.xws + (q * b.a.xw_gates + g) * kern->vlen,
                               kern->vlen);
                }
    const char *names[] = {"hnew", "c", "rh", "y", "xw_out"};
    const float *outs[] = {b.hnew, b.c, b.rh, b.y, b.xwo};
    for (int i = 0; i < 5; i++)
        ck_guards(outs[i], names[i]);
    float *wf[] = {w.hnew, w.c, w.rh, w.y, w.xwo};
    double *wt[] = {w.th, w.tc, w.tr, w.ty, w.tx};
    for (int i = 0; i < 5; i++) {
        ck_free(wf[i]);
        free(wt[i]);
    }
    bufs_free(&b);
}

static void check_entry(const seqk_rnn_kernels *kern, int project, int bf16)
{
    const int V = kern->vlen;
    const int64_t Hs[] = {1, V - 1, V, V + 1, 2 * V + 1, 13, 61, 200};
    const int64_t rowss[] = {1, 2, 3, 5, 7, 13};
    ck_rng r;
    ck_rng_init(&r, project ? 31 : 30);
    for (int kind = CK_EXACT; kind < CK_KINDS; kind++)
        for (int ci = 0; ci < NCASES; ci++)
            for (size_t ih = 0; ih < sizeof Hs / sizeof Hs[0]; ih++)
                for (size_t ir = 0; ir < sizeof rowss / sizeof rowss[0]; ir++) {
                    const int64_t H = Hs[ih], nrows = rowss[ir];
                    if (H < 1 || (ih > 0 && H == Hs[ih - 1]))
                        continue;
                    if (H >= 61 && nrows != 1 && nrows != 7)
                        continue; /* large: a GEMV and one full tile */
                    if (bf16 && nrows != 1)
                        continue; /* bf16 panels serve one row */
                    /* vary the rest with the shape */
                    const int v =
                        (int)(ih * 7 + ir * 3 + (size_t)ci + (size_t)kind);
                    const int64_t K =
                        project ? 1 + (int64_t)(v % 4) * 20 : (v % 2 ? 13 : 0);
                    const int with_y = !project && v % 3 != 0;
                    const float clip = v % 5 == 0 ? 0.5f : 0.0f;
                    check_one(kern, &CASES[ci], project, H, nrows, K, with_y,
                              clip, v % 4 == 1, (ck_kind)kind, &r, bf16);
                    if (ck_failed())
                        return;
                }
}

/* ------------------------------------------------------------- bench */

typedef struct step_bench {
    const seqk_rnn_kernels *k;
    rnn_bufs b;
    int project;
} step_bench;

static void run_step(void *p)
{
    step_bench *s = p;
    (s->project ? s->k->project : s->k->step)(&s->b.a, 0, s->b.ntiles);
}

static void bench(const seqk_rnn_kernels *kern, int project)
{
    const int64_t H = 256, nrows = 8, K = project ? 256 : 0;
    const int cases[] = {1, 5, 0};
    ck_rng r;
    ck_rng_init(&r, 40);
    for (int i = 0; i < 3; i++) {
        step_bench s = {.k = kern, .project = project};
        const rnn_case *cs = &CASES[cases[i]];
        bufs_init(&s.b, cs, kern->vlen, H, nrows, K, 1, 0.0f, CK_RANDOM, &r);
        const int nv = seqk_rnn_stage_nvec(cs->stage, cs->input_forget);
        const double flops = 2.0 * nrows * (double)(project ? K : H) *
                             (double)s.b.a.Hp * nv /
                             seqk_rnn_stage_vpg(cs->stage);
        char shape[64];
        snprintf(shape, sizeof shape, "%s H=%lld rows=%lld%s", cs->label,
                 (long long)H, (long long)nrows, project ? " K=256" : "");
        ck_bench(shape, run_step, &s, flops, 0);
        bufs_free(&s.b);
    }
}

void check_rnn(const seqk_cpu_isa *isa)
{
    const seqk_rnn_kernels *k = isa->rnn;
    if (ck_want("rnn.step_bf16")) {
        check_entry(k, 0, 1);
        ck_done();
    }
    if (ck_want("rnn.project_bf16")) {
        check_entry(k, 1, 1);
        ck_done();
    }
    if (ck_want("rnn.step")) {
        check_entry(k, 0, 0);
        if (ck_bench_on())
            bench(k, 0);
        ck_done();
    }
    if (ck_want("rnn.project")) {
        check_entry(k, 1, 0);
        if (ck_bench_on())
            bench(k, 1);
        ck_done();
    }
}
