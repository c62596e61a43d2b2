/*
 * fuse.c — pattern fusions, once per plan (plan.c calls seqk__mdl_fuse_patterns
 * between its needed-node pass and its steps):
 *
 *   attention  MatMul(Q', K'^T) [* or / scalars] [+ mask] -> Softmax(last)
 *              -> MatMul(., V), Q', K'^T possibly scaled by scalars, K'^T
 *              possibly a Transpose  -> one seqk_attention (4-D views;
 *              K transposed into a scratch tensor when its layout needs it)
 *   Gelu       x * 0.5 * (1 + Erf(x / sqrt2))  (or * 1/sqrt2; any order
 *              of the products torch and others emit), and the tanh form
 *              0.5 x (1 + Tanh(sqrt(2/pi) (x + 0.044715 x^3)))
 *              -> one seqk_elementwise Gelu
 *   LayerNorm  ReduceMean, Sub, Pow 2 (or Mul d*d), ReduceMean, Add eps,
 *              Sqrt, Div [, Mul gamma] [, Add beta]  -> seqk_layer_norm
 *
 * Exact matches only: every value inside a group is read only by the
 * group's nodes and is no graph output kept; constants must be scalars of
 * the expected value (float rounding allowed for sqrt2-like ones); shapes
 * must be the ones the fused op computes (no broadcast beyond them).  A
 * pattern that does not match is left as it was, node by node.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

#define FZ_MAX_GROUP 16

typedef struct fz {
    seqk_model *m;
    mdl_plan *p;
    unsigned char *runs;
    int *ncons;               /* per value: reads by running nodes */
    int *cstart, *cnode;      /* per value: its reading nodes (CSR) */
    int grp[FZ_MAX_GROUP], n_grp;
} fz;

enum { FZ_ATTN = 1, FZ_GELU, FZ_LN };

typedef struct fz_state {
    int kind;
    seqk_elementwise_params ew;
    seqk_layer_norm_params ln;
    seqk_attention_params at;
    int k_rank;               /* > 0: K = transpose(in[1], k_perm) */
    int64_t k_perm[SEQK_MAX_DIMS];
    int ln_dims[2];           /* LN: rank of X, n normalized elements */
    seqk_tensor *q, *k, *kbuf, *v, *mask, *y, *scale, *bias;
} fz_state;

static void state_free(void *p)
{
    fz_state *s = p;
    if (!s)
        return;
    seqk_tensor_destroy(s->q);
    seqk_tensor_destroy(s->k);
    seqk_tensor_destroy(s->kbuf);
    seqk_tensor_destroy(s->v);
    seqk_tensor_destroy(s->mask);
    seqk_tensor_destroy(s->y);
    seqk_tensor_destroy(s->scale);
    seqk_tensor_destroy(s->bias);
    free(s);
}

/* ---- graph queries */

static const mdl_node *node(const fz *f, int i) { return &f->m->g.nodes[i]; }

static int is_op(const fz *f, int i, const char *name)
{
    return i >= 0 && !strcmp(node(f, i)->op->name, name);
}

/* The running (not yet fused) node that writes v, or -1. */
static int producer(const fz *f, int v)
{
    int n = v >= 0 ? f->m->g.values[v].producer : -1;
    return n >= 0 && f->runs[n] == 1 ? n : -1;
}

/* The one running node reading v (once), or -1. */
static int sole_reader(const fz *f, int v)
{
    return v >= 0 && f->ncons[v] == 1 ? f->cnode[f->cstart[v]] : -1;
}

static int kept(const fz *f, int v)
{
    for (int k = 0; k < f->m->n_keep; k++)
        if (f->m->keep[k] == v)
            return 1;
    return 0;
}

static const mdl_info *info(const fz *f, int v) { return &f->p->info[v]; }

static int is_f32(const fz *f, int v)
{
    return v >= 0 && info(f, v)->dtype == SEQK_F32;
}

/* v is a known float scalar (numel 1): its value in *x. */
static int scalar(const fz *f, int v, double *x)
{
    const mdl_info *in = v >= 0 ? info(f, v) : NULL;
    if (!in || !in->cval || in->dtype != SEQK_F32 || in->cval->numel != 1)
        return 0;
    *x = seqk__mdl_host_f64(in->cval, 0);
    return 1;
}

static int near(double x, double want)
{
    return fabs(x - want) <= 1e-6 * fabs(want);
}

static int same_shape(const fz *f, int a, int b)
{
    const mdl_info *x = info(f, a), *y = info(f, b);
    return x->ndim == y->ndim &&
           !memcmp(x->dims, y->dims, sizeof(int64_t) * (size_t)x->ndim);
}

/* A binary node reading v: its other input (v on both sides: -1). */
static int other_in(const fz *f, int n, int v)
{
    const mdl_node *nd = node(f, n);
    if (nd->n_in != 2 || (nd->in[0] == v) == (nd->in[1] == v))
        return -1;
    return nd->in[0] == v ? nd->in[1] : nd->in[0];
}

/* A binary node (Mul, or Div when v is the dividend) of v and a scalar
 * constant, its output shaped as v: the factor in *x. */
static int scaled_by(const fz *f, int n, int v, double *x)
{
    const mdl_node *nd = n >= 0 ? node(f, n) : NULL;
    int o = nd ? other_in(f, n, v) : -1;
    if (o < 0 || !scalar(f, o, x) || !same_shape(f, nd->out[0], v))
        return 0;
    if (is_op(f, n, "Mul"))
        return 1;
    if (is_op(f, n, "Div") && nd->in[0] == v && *x != 0) {
        *x = 1.0 / *x;
        return 1;
    }
    return 0;
}

static void grp_add(fz *f, int n)
{
    if (f->n_grp < FZ_MAX_GROUP)
        f->grp[f->n_grp++] = n;
}

static int in_grp(const fz *f, int n)
{
    for (int k = 0; k < f->n_grp; k++)
        if (f->grp[k] == n)
            return 1;
    return 0;
}

/* Every group node but the last writes values read only inside the group
 * (and kept by no one); the last one has one output. */
static int grp_closed(const fz *f, int last)
{
    if (f->n_grp >= FZ_MAX_GROUP || node(f, last)->n_out != 1)
        return 0;
    for (int k = 0; k < f->n_grp; k++) {
        const mdl_node *nd = node(f, f->grp[k]);
        if (f->grp[k] == last)
            continue;
        for (int o = 0; o < nd->n_out; o++) {
            int v = nd->out[o];
            if (v < 0)
                continue;
            if (kept(f, v))
                return 0;
            for (int c = f->cstart[v]; c < f->cstart[v + 1]; c++)
                if (!in_grp(f, f->cnode[c]))
                    return 0;
        }
    }
    return 1;
}

/* ---- run */

static seqk_status fz_run(seqk_context *ctx, void *state,
                          const seqk_tensor *const *in,
                          seqk_tensor *const *out)
{
    fz_state *s = state;
    seqk_status st;
    switch (s->kind) {
    case FZ_ATTN:
        if (s->kbuf &&
            (st = seqk_transpose(ctx, s->k_rank, s->k_perm, in[1], s->kbuf)))
            return st;
        return seqk_attention(ctx, &s->at, s->q, s->k, s->v, s->mask, s->y);
    case FZ_GELU:
        return seqk_elementwise(ctx, &s->ew, in[0], NULL, out[0]);
    default:
        return seqk_layer_norm(ctx, &s->ln, in[0], s->scale,
                               s->bias, out[0], NULL, NULL);
    }
}

/* dims of t right-aligned into 4 (leading 1s). */
static seqk_status view4(seqk_tensor *t, const mdl_info *in,
                         seqk_tensor **out)
{
    int64_t d[4] = {1, 1, 1, 1};
    for (int i = 0; i < in->ndim; i++)
        d[4 - in->ndim + i] = in->dims[i];
    return seqk_tensor_reshape_view(t, 4, d, out);
}

static seqk_status fz_prepare(seqk_context *ctx, mdl_step *step,
                              const mdl_info *in, seqk_tensor *const *tin,
                              seqk_tensor *const *tout)
{
    fz_state *s = step->state;
    seqk_status st = SEQK_OK;
    if (s->kind == FZ_ATTN) {
        mdl_info kin = in[1];
        seqk_tensor *k = tin[1];
        if (s->k_rank) {
            for (int i = 0; i < s->k_rank; i++)
                kin.dims[i] = in[1].dims[s->k_perm[i]];
            if ((st = seqk_tensor_create(ctx, kin.ndim, kin.dims, SEQK_F32,
                                         &s->kbuf)))
                return st;
            k = s->kbuf;
        }
        mdl_info yin = in[0];
        yin.dims[yin.ndim - 1] = in[2].dims[in[2].ndim - 1];
        if ((st = view4(tin[0], &in[0], &s->q)) ||
            (st = view4(k, &kin, &s->k)) ||
            (st = view4(tin[2], &in[2], &s->v)) ||
            (st = view4(tout[0], &yin, &s->y)))
            return st;
        if (step->in[3] >= 0)
            st = view4(tin[3], &in[3], &s->mask);
        return st;
    }
    if (s->kind == FZ_LN) {
        /* scale, bias viewed as X.shape[axis:] (the group checked their
         * shapes); no gamma: ones */
        int a = (int)s->ln.axis, nd = in[0].ndim - a;
        int64_t n = s->ln_dims[1];
        if (step->in[1] >= 0)
            st = seqk_tensor_reshape_view(tin[1], nd, in[0].dims + a,
                                          &s->scale);
        else if (!(st = seqk_tensor_create(ctx, nd, in[0].dims + a,
                                           SEQK_F32, &s->scale))) {
            float *one = malloc((size_t)n * sizeof *one);
            if (!one)
                return SEQK_ERR_OUT_OF_MEMORY;
            for (int64_t i = 0; i < n; i++)
                one[i] = 1.0f;
            st = seqk_tensor_write(s->scale, one, (size_t)n * sizeof *one);
            free(one);
        }
        if (!st && step->in[2] >= 0)
            st = seqk_tensor_reshape_view(tin[2], nd, in[0].dims + a,
                                          &s->bias);
    }
    return st;
}

/* The group as step `s` (state: s->state already made). */
static void make_step(fz *f, mdl_step *s, int first, int last,
                      const char *kind, const char *what)
{
    for (int k = 0; k < f->n_grp; k++)
        f->runs[f->grp[k]] = 2;
    s->node = first;
    s->fused = last;
    s->kind = kind;
    s->n_out = 1;
    s->out[0] = node(f, last)->out[0];
    s->free_state = state_free;
    s->fprepare = fz_prepare;
    s->frun = fz_run;
    f->p->n_fusions++;
    seqk__mdl_text_add(f->p, "fused: %s '%s' ... %s '%s' (%d nodes) -> %s\n",
                 node(f, first)->op->name, node(f, first)->name,
                 node(f, last)->op->name, node(f, last)->name, f->n_grp,
                 what);
    seqk__log(f->m->ctx, SEQK_VERBOSE_DISPATCH, "model: fused %s '%s' ... "
              "%s '%s' (%d nodes) -> %s", node(f, first)->op->name,
              node(f, first)->name, node(f, last)->op->name,
              node(f, last)->name, f->n_grp, what);
}

static fz_state *state_new(int kind)
{
    fz_state *s = calloc(1, sizeof *s);
    if (s)
        s->kind = kind;
    return s;
}

/* ---- Gelu */

/* a = 1 + g(x) is read by one Mul: the rest of x * 0.5 * a, in any
 * order.  The node writing the result, or -1. */
static int gelu_half(fz *f, int x, int a)
{
    int c1 = sole_reader(f, a), o, c2, h;
    double c;
    if (!is_op(f, c1, "Mul") || (o = other_in(f, c1, a)) < 0)
        return -1;
    grp_add(f, c1);
    if (o == x) {                        /* (x * a) * 0.5 */
        c2 = sole_reader(f, node(f, c1)->out[0]);
        if (!scaled_by(f, c2, node(f, c1)->out[0], &c) || c != 0.5)
            return -1;
        grp_add(f, c2);
        return c2;
    }
    if (scalar(f, o, &c)) {              /* (a * 0.5) * x */
        c2 = sole_reader(f, node(f, c1)->out[0]);
        if (c != 0.5 || !is_op(f, c2, "Mul") ||
            other_in(f, c2, node(f, c1)->out[0]) != x)
            return -1;
        grp_add(f, c2);
        return c2;
    }
    h = producer(f, o);                  /* (x * 0.5) * a */
    if (!is_op(f, h, "Mul") || !scalar(f, other_in(f, h, x), &c) ||
        c != 0.5 || !same_shape(f, o, x))
        return -1;
    grp_add(f, h);
    return c1;
}

/* e = Erf(x / sqrt2) or Tanh(sqrt(2/pi) (x + 0.044715 x^3)): x, or -1. */
static int gelu_inner(fz *f, int e, int *tanh_form)
{
    const mdl_node *en = node(f, e);
    int u = en->in[0], pu = producer(f, u), x = -1;
    double c;
    if (pu < 0)
        return -1;
    grp_add(f, pu);
    *tanh_form = is_op(f, e, "Tanh");
    if (!*tanh_form) {
        const mdl_node *nd = node(f, pu);
        if (is_op(f, pu, "Div") && scalar(f, nd->in[1], &c) &&
            near(c, sqrt(2.0)))
            x = nd->in[0];
        else if (is_op(f, pu, "Mul") &&
                 (scalar(f, nd->in[1], &c) || scalar(f, nd->in[0], &c)) &&
                 near(c, sqrt(0.5)))
            x = scalar(f, nd->in[1], &c) ? nd->in[0] : nd->in[1];
        return x >= 0 && same_shape(f, x, u) && !info(f, x)->cval ? x : -1;
    }
    /* u = c * s, s = x + k3, k3 = 0.044715 * cube, cube = x * (x * x) */
    const mdl_node *nd = node(f, pu);
    int s = -1, k3, cube, pk, pc, sq;
    if (!is_op(f, pu, "Mul"))
        return -1;
    if (scalar(f, nd->in[0], &c))
        s = nd->in[1];
    else if (scalar(f, nd->in[1], &c))
        s = nd->in[0];
    int ps = producer(f, s);
    if (s < 0 || !near(c, sqrt(2.0 / 3.14159265358979323846)) ||
        !is_op(f, ps, "Add"))
        return -1;
    grp_add(f, ps);
    for (int side = 0; side < 2 && x < 0; side++) {
        k3 = node(f, ps)->in[side];
        pk = producer(f, k3);
        if (!is_op(f, pk, "Mul"))
            continue;
        const mdl_node *kn = node(f, pk);
        if (scalar(f, kn->in[0], &c))
            cube = kn->in[1];
        else if (scalar(f, kn->in[1], &c))
            cube = kn->in[0];
        else
            continue;
        if (!near(c, 0.044715) || (pc = producer(f, cube)) < 0 ||
            !is_op(f, pc, "Mul"))
            continue;
        int cx = node(f, ps)->in[1 - side];
        const mdl_node *cn = node(f, pc);
        if (cn->in[0] != cx && cn->in[1] != cx)
            continue;
        sq = cn->in[0] == cx ? cn->in[1] : cn->in[0];
        int psq = producer(f, sq);
        if (!is_op(f, psq, "Mul") || node(f, psq)->in[0] != cx ||
            node(f, psq)->in[1] != cx)
            continue;
        grp_add(f, pk);
        grp_add(f, pc);
        grp_add(f, psq);
        x = cx;
    }
    return x >= 0 && same_shape(f, x, u) && !info(f, x)->cval ? x : -1;
}

static int match_gelu(fz *f, int e, mdl_step *s)
{
    int tanh_form, x, a, pa, last;
    double c;
    f->n_grp = 0;
    grp_add(f, e);
    if ((x = gelu_inner(f, e, &tanh_form)) < 0 || !is_f32(f, x))
        return 0;
    pa = sole_reader(f, node(f, e)->out[0]);
    if (!is_op(f, pa, "Add") ||
        !scalar(f, other_in(f, pa, node(f, e)->out[0]), &c) || c != 1.0 ||
        !same_shape(f, node(f, pa)->out[0], x))
        return 0;
    grp_add(f, pa);
    a = node(f, pa)->out[0];
    if ((last = gelu_half(f, x, a)) < 0 || !same_shape(f, x,
                                                       node(f, last)->out[0]))
        return 0;
    if (!grp_closed(f, last))
        return 0;
    fz_state *st = state_new(FZ_GELU);
    if (!st)
        return -1;
    seqk_elementwise_params_init(&st->ew, tanh_form ? SEQK_EW_GELU_TANH
                                                    : SEQK_EW_GELU);
    s->state = st;
    s->n_in = 1;
    s->in[0] = x;
    make_step(f, s, e, last, "elementwise",
              tanh_form ? "gelu (tanh), elementwise"
                                     : "gelu, elementwise");
    return 1;
}

/* ---- LayerNorm */

/* ReduceMean node r keeping dims over X's trailing axes: the first of
 * them (a size-1 axis reduced or not is the same), or -1. */
static int mean_axis(const fz *f, int r)
{
    const mdl_node *nd = node(f, r);
    const mdl_info *x = info(f, nd->in[0]), *y = info(f, nd->out[0]);
    int a;
    if (!is_op(f, r, "ReduceMean") || nd->n_out != 1 || y->ndim != x->ndim ||
        x->ndim < 1)
        return -1;
    for (a = x->ndim; a > 0 && y->dims[a - 1] == 1; a--)
        ;
    for (int i = 0; i < a; i++)
        if (y->dims[i] != x->dims[i])
            return -1;
    return a < x->ndim ? a : -1;
}

/* Constant c of X's trailing shape from axis a on (1s before), f32. */
static int affine_ok(const fz *f, int c, int x, int a)
{
    const mdl_info *ci = c >= 0 ? info(f, c) : NULL, *xi = info(f, x);
    if (!ci || !ci->cval || ci->dtype != SEQK_F32 || ci->ndim > xi->ndim)
        return 0;
    for (int i = 0; i < xi->ndim; i++) {
        int j = i - (xi->ndim - ci->ndim);
        int64_t d = j >= 0 ? ci->dims[j] : 1;
        if (d != (i >= a ? xi->dims[i] : 1))
            return 0;
    }
    return 1;
}

static int match_ln(fz *f, int r1, mdl_step *s)
{
    const mdl_node *n1 = node(f, r1);
    int x = n1->in[0], a = mean_axis(f, r1), sub, d, pw = -1, dv = -1, r2;
    int ad, sq, last, gamma = -1, beta = -1;
    double c;
    f->n_grp = 0;
    if (a < 0 || !is_f32(f, x) || info(f, x)->cval)
        return 0;
    grp_add(f, r1);
    sub = sole_reader(f, n1->out[0]);
    if (!is_op(f, sub, "Sub") || node(f, sub)->in[0] != x ||
        node(f, sub)->in[1] != n1->out[0])
        return 0;
    grp_add(f, sub);
    d = node(f, sub)->out[0];
    if (!same_shape(f, d, x))
        return 0;
    /* d feeds (d^2 or d*d) and the Div */
    for (int k = f->cstart[d]; k < f->cstart[d + 1]; k++) {
        int n = f->cnode[k];
        const mdl_node *nd = node(f, n);
        if (is_op(f, n, "Pow") && nd->in[0] == d &&
            scalar(f, nd->in[1], &c) && c == 2.0)
            pw = n;
        else if (is_op(f, n, "Mul") && nd->in[0] == d && nd->in[1] == d)
            pw = n;
        else if (is_op(f, n, "Div") && nd->in[0] == d)
            dv = n;
    }
    if (pw < 0 || dv < 0)
        return 0;
    grp_add(f, pw);
    grp_add(f, dv);
    r2 = sole_reader(f, node(f, pw)->out[0]);
    if (!is_op(f, r2, "ReduceMean") || mean_axis(f, r2) != a ||
        !same_shape(f, node(f, r2)->out[0], n1->out[0]))
        return 0;
    grp_add(f, r2);
    ad = sole_reader(f, node(f, r2)->out[0]);
    if (!is_op(f, ad, "Add") ||
        !scalar(f, other_in(f, ad, node(f, r2)->out[0]), &c) || !(c >= 0) ||
        !same_shape(f, node(f, ad)->out[0], n1->out[0]))
        return 0;
    float eps = (float)c;
    grp_add(f, ad);
    sq = sole_reader(f, node(f, ad)->out[0]);
    if (!is_op(f, sq, "Sqrt") || node(f, dv)->in[1] != node(f, sq)->out[0] ||
        !same_shape(f, node(f, dv)->out[0], x))
        return 0;
    grp_add(f, sq);
    last = dv;
    int nx = sole_reader(f, node(f, last)->out[0]);
    if (is_op(f, nx, "Mul") &&
        affine_ok(f, other_in(f, nx, node(f, last)->out[0]), x, a) &&
        same_shape(f, node(f, nx)->out[0], x)) {
        gamma = other_in(f, nx, node(f, last)->out[0]);
        grp_add(f, last = nx);
        nx = sole_reader(f, node(f, last)->out[0]);
    }
    if (is_op(f, nx, "Add") &&
        affine_ok(f, other_in(f, nx, node(f, last)->out[0]), x, a) &&
        same_shape(f, node(f, nx)->out[0], x)) {
        beta = other_in(f, nx, node(f, last)->out[0]);
        grp_add(f, last = nx);
    }
    if (!grp_closed(f, last))
        return 0;
    fz_state *st = state_new(FZ_LN);
    if (!st)
        return -1;
    seqk_layer_norm_params_init(&st->ln);
    st->ln.axis = a;
    st->ln.epsilon = eps;
    st->ln_dims[0] = info(f, x)->ndim;
    int64_t n = 1;
    for (int i = a; i < info(f, x)->ndim; i++)
        n *= info(f, x)->dims[i];
    st->ln_dims[1] = (int)n;
    if (n != st->ln_dims[1]) {
        free(st);
        return 0;
    }
    s->state = st;
    s->n_in = 3;
    s->in[0] = x;
    s->in[1] = gamma;
    s->in[2] = beta;
    make_step(f, s, r1, last, "layer_norm", "layer_norm");
    return 1;
}

/* ---- attention */

/* Walks back from v through scalar Mul/Div nodes read only once,
 * multiplying *scale: the value they started from. */
static int unscale(fz *f, int v, double *scale)
{
    for (;;) {
        int n = producer(f, v), src = -1;
        double c;
        if (f->ncons[v] != 1 || n < 0 || f->n_grp >= FZ_MAX_GROUP - 4)
            return v;
        for (int k = 0; k < 2 && src < 0; k++) {
            int u = node(f, n)->in[k];
            if (u >= 0 && !info(f, u)->cval && scaled_by(f, n, u, &c))
                src = u;
        }
        if (src < 0)
            return v;
        *scale *= c;
        grp_add(f, n);
        v = src;
    }
}

static int match_attention(fz *f, int sm, mdl_step *s)
{
    const mdl_node *smn = node(f, sm);
    const mdl_axis_attrs *sa = smn->attrs;
    const mdl_info *sc = info(f, smn->in[0]);
    int r = sc->ndim, ax, pv, qk, q, kt, k, v, mask = -1, add, scores;
    double scale = 1.0, one;
    fz_state *st;
    f->n_grp = 0;
    if (r < 2 || r > 4 || sc->dtype != SEQK_F32 ||
        seqk__mdl_axis(sa->axis, r, &ax) < 0 || ax != r - 1)
        return 0;
    grp_add(f, sm);
    /* P @ V */
    pv = sole_reader(f, smn->out[0]);
    if (!is_op(f, pv, "MatMul") || node(f, pv)->in[0] != smn->out[0] ||
        node(f, pv)->in[1] == smn->out[0])
        return 0;
    v = node(f, pv)->in[1];
    /* scores [+ mask] */
    scores = smn->in[0];
    add = producer(f, scores);
    if (is_op(f, add, "Add") && f->ncons[scores] == 1 &&
        same_shape(f, node(f, add)->out[0], scores)) {
        int side = -1;
        for (int k2 = 0; k2 < 2 && side < 0; k2++) {
            double tmp = 1.0;
            int u = node(f, add)->in[k2];
            int n0 = f->n_grp;
            int w = unscale(f, u, &tmp);
            f->n_grp = n0;
            if (is_op(f, producer(f, w), "MatMul") && f->ncons[u] == 1)
                side = k2;
        }
        if (side < 0)
            return 0;
        grp_add(f, add);
        scores = node(f, add)->in[side];
        mask = node(f, add)->in[1 - side];
        one = 1.0;
        mask = unscale(f, mask, &one);
        if (one != 1.0 || !is_f32(f, mask))
            return 0;
    }
    scores = unscale(f, scores, &scale);
    qk = producer(f, scores);
    if (!is_op(f, qk, "MatMul") || f->ncons[scores] != 1)
        return 0;
    grp_add(f, qk);
    q = unscale(f, node(f, qk)->in[0], &scale);
    kt = unscale(f, node(f, qk)->in[1], &scale);
    /* shapes: Q [..,Sq,D], K^T [..,D,Skv], V [..,Skv,Dv], same batch */
    const mdl_info *qi = info(f, q), *ki = info(f, kt), *vi = info(f, v);
    if (!is_f32(f, q) || !is_f32(f, kt) || !is_f32(f, v) || qi->ndim != r ||
        ki->ndim != r || vi->ndim != r || ki->dims[r - 2] != qi->dims[r - 1] ||
        vi->dims[r - 2] != ki->dims[r - 1] ||
        !same_shape(f, node(f, qk)->out[0], smn->in[0]))
        return 0;
    for (int i = 0; i < r - 2; i++)
        if (qi->dims[i] != ki->dims[i] || qi->dims[i] != vi->dims[i])
            return 0;
    if (mask >= 0) {
        const mdl_info *mi = info(f, mask);
        if (mi->ndim < 1 || mi->ndim > r ||
            mi->dims[mi->ndim - 1] != sc->dims[r - 1])
            return 0;
        for (int i = 0; i < mi->ndim; i++) {
            int64_t d = mi->dims[i], want = sc->dims[r - mi->ndim + i];
            if (d != 1 && d != want)
                return 0;
        }
    }
    if (!isfinite((float)scale) || (float)scale == 0.0f)
        return 0;
    /* K: K^T's Transpose with the last two axes swapped back, else K^T
     * transposed */
    int64_t perm[SEQK_MAX_DIMS];
    int tp = producer(f, kt), ident = 1;
    for (int i = 0; i < r; i++)
        perm[i] = i;
    k = kt;
    if (is_op(f, tp, "Transpose") && f->ncons[kt] == 1) {
        const mdl_perm_attrs *pa = node(f, tp)->attrs;
        for (int i = 0; i < r; i++)
            perm[i] = pa->n ? pa->perm[i] : r - 1 - i;
        k = node(f, tp)->in[0];
        grp_add(f, tp);
    }
    int64_t t = perm[r - 1];
    perm[r - 1] = perm[r - 2];
    perm[r - 2] = t;
    for (int i = 0; i < r; i++)
        ident &= perm[i] == i;
    grp_add(f, pv);
    if (!grp_closed(f, pv))
        return 0;
    if (!(st = state_new(FZ_ATTN)))
        return -1;
    seqk_attention_params_init(&st->at);
    st->at.scale = (float)scale;
    if (!ident) {
        st->k_rank = r;
        memcpy(st->k_perm, perm, sizeof perm);
    }
    s->state = st;
    s->n_in = 4;
    s->in[0] = q;
    s->in[1] = k;
    s->in[2] = v;
    s->in[3] = mask;
    make_step(f, s, qk, pv, "attention", mask >= 0 ? "attention (additive mask)"
                                                    : "attention");
    return 1;
}

/* ---- the pass */

seqk_status seqk__mdl_fuse_patterns(seqk_model *m, mdl_plan *p,
                              unsigned char *runs, mdl_step **steps,
                              int **at, int *n)
{
    const mdl_graph *g = &m->g;
    int nv = g->n_values, nn = g->n_nodes, cap = 0;
    fz f = {m, p, runs, NULL, NULL, NULL, {0}, 0};
    seqk_status st = SEQK_ERR_OUT_OF_MEMORY;

    *steps = NULL;
    *n = 0;
    *at = NULL;
    f.ncons = calloc((size_t)nv + 1, sizeof *f.ncons);
    f.cstart = calloc((size_t)nv + 2, sizeof *f.cstart);
    if (!f.ncons || !f.cstart)
        goto cleanup;
    /* readers of each value among the nodes that run */
    size_t total = 0;
    for (int i = 0; i < nn; i++)
        for (int k = 0; runs[i] && k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] >= 0) {
                f.ncons[g->nodes[i].in[k]]++;
                total++;
            }
    for (int v = 0; v < nv; v++)
        f.cstart[v + 1] = f.cstart[v] + f.ncons[v];
    if (!(f.cnode = malloc((total + 1) * sizeof *f.cnode)))
        goto cleanup;
    int *fill = calloc((size_t)nv + 1, sizeof *fill);
    if (!fill)
        goto cleanup;
    for (int i = 0; i < nn; i++)
        for (int k = 0; runs[i] && k < g->nodes[i].n_in; k++) {
            int v = g->nodes[i].in[k];
            if (v >= 0)
                f.cnode[f.cstart[v] + fill[v]++] = i;
        }
    free(fill);

    for (int oi = 0; oi < nn; oi++) {
        int i = g->order[oi], r = 0;
        mdl_step s;
        if (runs[i] != 1)
            continue;
        memset(&s, 0, sizeof s);
        s.fused = -1;
        if (is_op(&f, i, "Softmax"))
            r = match_attention(&f, i, &s);
        else if (is_op(&f, i, "Erf") || is_op(&f, i, "Tanh"))
            r = match_gelu(&f, i, &s);
        else if (is_op(&f, i, "ReduceMean"))
            r = match_ln(&f, i, &s);
        if (r < 0)
            goto cleanup;
        if (!r)
            continue;
        if (!*at) {
            if (!(*at = malloc(((size_t)nn + 1) * sizeof **at)))
                goto cleanup_step;
            for (int k = 0; k < nn; k++)
                (*at)[k] = -1;
        }
        if (*n == cap) {
            mdl_step *ns = realloc(*steps, (size_t)(cap ? 2 * cap : 8) *
                                               sizeof *ns);
            if (!ns)
                goto cleanup_step;
            *steps = ns;
            cap = cap ? 2 * cap : 8;
        }
        (*at)[s.fused] = *n;
        (*steps)[(*n)++] = s;
        continue;
cleanup_step:
        state_free(s.state);
        goto cleanup;
    }
    st = SEQK_OK;
cleanup:
    free(f.ncons);
    free(f.cstart);
    free(f.cnode);
    return st;
}
