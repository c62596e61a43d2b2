/*
 * fuse_layout.c — layout folds, once per plan (plan.c calls
 * seqk__mdl_fuse_layout right after fuse.c's patterns; the steps made here
 * join fuse.c's):
 *
 *   rnn layout  X' = Transpose(U, p) -> LSTM/GRU/RNN (layout 0, one
 *               direction) -> Y [T,1,B,H] -> Squeeze -> [T,B,H] ->
 *               Transpose(1,0,2) -> [B,T,H]
 *               becomes the RNN with layout 1: X = Transpose(U, q), q = p
 *               with its first two entries swapped (nothing when q is
 *               the identity), Y [B,T,1,H] written straight into the
 *               Transpose's output.  What PyTorch's batch_first LSTM
 *               exports; the library does layout 1 by strides, so the
 *               output transpose (and often the input one) is free.
 *               Y_h/Y_c and initial_h/initial_c are [1,B,H] in layout 0
 *               and [B,1,H] in layout 1: the same memory for one
 *               direction, so only the views change (the graph still sees
 *               [1,B,H]).
 *   conv NLC    Transpose(U [N,L,C], (0,2,1)) -> Conv (1-D)
 *               becomes the Conv reading U channels-last
 *               (seqk_conv_params.input_channels_last): the backends fill
 *               their phase / im2col buffers from it directly (the CPU's
 *               windows GEMM reads it in place).
 *   conv out    Conv -> Transpose(0,2,1) (a node, or the input transpose
 *               an rnn fold above left, e.g. speech's LSTM input)
 *               becomes the Conv writing the Transpose's output
 *               channels-last (output_channels_last).
 *   conv chain  Conv -> unary element-wise op(s) (Relu, Tanh, ...; none
 *               is fine) -> Conv: the first conv writes channels-last,
 *               the element-wise steps run on the [N,L,M] tensors (their
 *               values' shapes permuted; an element-wise op does not care)
 *               and the second conv reads channels-last.  Speech's
 *               conv1 -> Relu -> conv2 -> LSTM so runs with no Transpose.
 *
 * The rnn folds run first (over the whole graph), then the conv folds in
 * graph order, so a conv sees the transposes the rnn folds left.
 *
 * Exact matches only, as in fuse.c: every value inside a group is read
 * only by the group, once, and is no kept graph output; shapes are the
 * ones the rewrite assumes.  Anything else is left as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

typedef struct lf {
    seqk_model *m;
    mdl_plan *p;
    unsigned char *runs;
    int *nread;               /* per value: input slots of running nodes */
    int *reader;              /* per value: one of those nodes */
    unsigned char *chain_in;  /* per node: a Conv whose X a conv chain
                                 made channels-last */
} lf;

static const mdl_node *node(const lf *f, int i) { return &f->m->g.nodes[i]; }

static int is_op(const lf *f, int i, const char *name)
{
    return i >= 0 && !strcmp(node(f, i)->op->name, name);
}

/* The running node, not yet fused, that writes v, or -1. */
static int producer(const lf *f, int v)
{
    int n = v >= 0 ? f->m->g.values[v].producer : -1;
    return n >= 0 && f->runs[n] == 1 ? n : -1;
}

static int kept(const lf *f, int v)
{
    for (int k = 0; k < f->m->n_keep; k++)
        if (f->m->keep[k] == v)
            return 1;
    return 0;
}

/* v is an intermediate read once, by a running node not yet fused: that
 * node, else -1. */
static int sole_reader(const lf *f, int v)
{
    if (v < 0 || kept(f, v) || f->nread[v] != 1 || f->runs[f->reader[v]] != 1)
        return -1;
    return f->reader[v];
}

static const mdl_info *info(const lf *f, int v) { return &f->p->info[v]; }

static int dims_are(const mdl_info *in, int ndim, const int64_t *d)
{
    return in->ndim == ndim &&
           !memcmp(in->dims, d, sizeof(int64_t) * (size_t)ndim);
}

/* A Transpose node's permutation of rank r into perm; 0 when the rank
 * differs. */
static int perm_of(const lf *f, int t, int r, int64_t *perm)
{
    const mdl_perm_attrs *pa = node(f, t)->attrs;
    if (info(f, node(f, t)->in[0])->ndim != r || (pa->n && pa->n != (size_t)r))
        return 0;
    for (int i = 0; i < r; i++)
        perm[i] = pa->n ? pa->perm[i] : r - 1 - i;
    return 1;
}

/* ---- steps */

enum { LF_RNN = 1, LF_TRANSPOSE, LF_CONV };

typedef struct lf_state {
    int kind;
    int64_t perm[3];          /* LF_TRANSPOSE */
    seqk_conv_params conv;    /* LF_CONV */
    /* LF_RNN: the node with layout-1 attributes, its row's state, and
     * [B,1,H] / [B,T,1,H] views of the graph's tensors */
    mdl_node rnn;
    void *rnn_state;
    void (*rnn_free)(void *);
    seqk_tensor *h0, *c0, *y, *yh, *yc;
} lf_state;

static void state_free(void *p)
{
    lf_state *s = p;
    if (!s)
        return;
    if (s->rnn_free)
        s->rnn_free(s->rnn_state);
    free(s->rnn.attrs);
    seqk_tensor_destroy(s->h0);
    seqk_tensor_destroy(s->c0);
    seqk_tensor_destroy(s->y);
    seqk_tensor_destroy(s->yh);
    seqk_tensor_destroy(s->yc);
    free(s);
}

enum { IN_X, IN_W, IN_R, IN_B, IN_SEQ, IN_H0, IN_C0 };

static seqk_status lf_run(seqk_context *ctx, void *state,
                          const seqk_tensor *const *in,
                          seqk_tensor *const *out)
{
    lf_state *s = state;
    if (s->kind == LF_TRANSPOSE)
        return seqk_transpose(ctx, 3, s->perm, in[0], out[0]);
    if (s->kind == LF_CONV)
        return seqk_conv1d(ctx, &s->conv, in[0], in[1], in[2], out[0]);
    const seqk_tensor *tin[MDL_MAX_NODE_IO];
    seqk_tensor *tout[3] = {s->y, s->yh, s->yc};
    for (int k = 0; k < s->rnn.n_in; k++)
        tin[k] = in[k];
    if (s->h0)
        tin[IN_H0] = s->h0;
    if (s->c0)
        tin[IN_C0] = s->c0;
    mdl_run_args a = {ctx, &s->rnn, s->rnn_state, tin, tout};
    return s->rnn.op->run(&a);
}

/* [1,B,H] as [B,1,H] (NULL stays NULL). */
static seqk_status state_view(seqk_tensor *t, seqk_tensor **out)
{
    if (!t)
        return SEQK_OK;
    const int64_t d[3] = {t->dims[1], 1, t->dims[2]};
    return seqk_tensor_reshape_view(t, 3, d, out);
}

static seqk_status lf_prepare(seqk_context *ctx, mdl_step *step,
                              const mdl_info *in, seqk_tensor *const *tin,
                              seqk_tensor *const *tout)
{
    lf_state *s = step->state;
    seqk_status st;
    char err[MDL_ERR_LEN] = "";
    mdl_info out[3];
    if (s->kind != LF_RNN)
        return SEQK_OK;
    /* Y [B,T,H] (the Transpose's output) as [B,T,1,H] */
    const int64_t *yd = tout[0]->dims;
    const int64_t y4[4] = {yd[0], yd[1], 1, yd[2]};
    if ((st = seqk_tensor_reshape_view(tout[0], 4, y4, &s->y)) ||
        (step->n_out > 1 && (st = state_view(tout[1], &s->yh))) ||
        (step->n_out > 2 && (st = state_view(tout[2], &s->yc))) ||
        (s->rnn.n_in > IN_H0 && (st = state_view(tin[IN_H0], &s->h0))) ||
        (s->rnn.n_in > IN_C0 && (st = state_view(tin[IN_C0], &s->c0))))
        return st;
    memset(out, 0, sizeof out);
    st = s->rnn.op->prepare(ctx, &s->rnn, in, out, tin, tout, &s->rnn_state,
                            &s->rnn_free, err);
    if (st && err[0])
        seqk__error(ctx, st, "%s", err);
    return st;
}

static int add_step(mdl_step **steps, int **at, int *n, int nn, int where,
                    const mdl_step *s)
{
    mdl_step *ns = realloc(*steps, (size_t)(*n + 1) * sizeof *ns);
    if (!ns)
        return -1;
    *steps = ns;
    if (!*at) {
        if (!(*at = malloc(((size_t)nn + 1) * sizeof **at)))
            return -1;
        for (int k = 0; k < nn; k++)
            (*at)[k] = -1;
    }
    (*at)[where] = *n;
    (*steps)[(*n)++] = *s;
    return 0;
}

static void fused_step(mdl_step *s, int node_id, int fused, const char *kind,
                       lf_state *st)
{
    memset(s, 0, sizeof *s);
    s->node = node_id;
    s->fused = fused;
    s->kind = kind;
    s->state = st;
    s->free_state = state_free;
    s->fprepare = lf_prepare;
    s->frun = lf_run;
}

/* ---- rnn layout */

static int match_rnn(lf *f, int r, mdl_step **steps, int **at, int *n)
{
    const mdl_node *rn = node(f, r);
    int y = rn->out[0], x = rn->in[IN_X], sq, tr, tx;
    int64_t p[3], q[3];
    if (rn->n_out < 1 || y < 0 || seqk__mdl_rnn_layout(rn) != 0 ||
        seqk__mdl_rnn_dirs(rn) != 1)
        return 0;
    const mdl_info *yi = info(f, y), *xi = info(f, x);
    const int64_t T = yi->dims[0], B = yi->dims[2], H = yi->dims[3];
    /* Y -> Squeeze -> [T,B,H] -> Transpose(1,0,2) -> [B,T,H] */
    sq = sole_reader(f, y);
    if (!is_op(f, sq, "Squeeze") || node(f, sq)->in[0] != y)
        return 0;
    const int64_t tbh[3] = {T, B, H}, bth[3] = {B, T, H};
    if (!dims_are(info(f, node(f, sq)->out[0]), 3, tbh))
        return 0;
    tr = sole_reader(f, node(f, sq)->out[0]);
    if (!is_op(f, tr, "Transpose") || !perm_of(f, tr, 3, p) || p[0] != 1 ||
        p[1] != 0 || p[2] != 2 ||
        !dims_are(info(f, node(f, tr)->out[0]), 3, bth))
        return 0;
    /* initial_h/c as the RNN checks them ([1,B,H]), so that the [B,1,H]
     * views do not pass a shape the unfolded RNN would refuse */
    const int64_t one_bh[3] = {1, B, H};
    for (int k = IN_H0; k <= IN_C0 && k < rn->n_in; k++)
        if (rn->in[k] >= 0 && !dims_are(info(f, rn->in[k]), 3, one_bh))
            return 0;
    /* X = Transpose(U, p) read only by the RNN */
    tx = producer(f, x);
    if (!is_op(f, tx, "Transpose") || sole_reader(f, x) != r ||
        !perm_of(f, tx, 3, p) || xi->ndim != 3)
        return 0;
    q[0] = p[1];
    q[1] = p[0];
    q[2] = p[2];
    int ident = q[0] == 0 && q[1] == 1 && q[2] == 2;

    lf_state *rs = calloc(1, sizeof *rs), *ts = NULL;
    if (!rs)
        return -1;
    rs->kind = LF_RNN;
    rs->rnn = *rn;
    if (!(rs->rnn.attrs = seqk__mdl_rnn_attrs_layout(rn, 1)))
        goto oom;
    mdl_step s, t;
    if (!ident) {
        /* the input Transpose writes [B,T,I] instead of [T,B,I] */
        if (!(ts = calloc(1, sizeof *ts)))
            goto oom;
        ts->kind = LF_TRANSPOSE;
        memcpy(ts->perm, q, sizeof q);
        fused_step(&t, tx, -1, "transpose", ts);
        t.n_in = 1;
        t.in[0] = node(f, tx)->in[0];
        t.n_out = 1;
        t.out[0] = x;
        if (add_step(steps, at, n, f->m->g.n_nodes, tx, &t))
            goto oom;
        ts = NULL;
        mdl_info *xm = &f->p->info[x];
        int64_t t0 = xm->dims[0];
        xm->dims[0] = xm->dims[1];
        xm->dims[1] = t0;
    }
    fused_step(&s, r, tr, "rnn_layer", rs);
    s.n_in = rn->n_in;
    memcpy(s.in, rn->in, sizeof s.in);
    s.in[IN_X] = ident ? node(f, tx)->in[0] : x;
    s.n_out = rn->n_out < 3 ? rn->n_out : 3;
    memcpy(s.out, rn->out, sizeof s.out);
    s.out[0] = node(f, tr)->out[0];
    /* in the RNN's place: Y_h/Y_c may be read before the Transpose */
    if (add_step(steps, at, n, f->m->g.n_nodes, r, &s))
        goto oom;
    f->runs[r] = f->runs[sq] = f->runs[tr] = f->runs[tx] = 2;
    f->p->n_fusions++;
    seqk__mdl_text_add(f->p, "fused: %s '%s' + Squeeze '%s' + Transpose '%s' "
                       "-> rnn_layer, layout 1 (X: Transpose '%s' %s)\n",
                       rn->op->name, rn->name, node(f, sq)->name,
                       node(f, tr)->name, node(f, tx)->name,
                       ident ? "absorbed" : "perm (0,2,1)");
    seqk__log(f->m->ctx, SEQK_VERBOSE_DISPATCH, "model: %s '%s' runs with "
              "layout 1 (Squeeze '%s', Transpose '%s' folded)", rn->op->name,
              rn->name, node(f, sq)->name, node(f, tr)->name);
    return 1;
oom:
    state_free(rs);
    state_free(ts);
    return -1;
}

/* ---- conv NLC */

static int is_perm021(const lf *f, int t)
{
    int64_t p[3];
    return is_op(f, t, "Transpose") && perm_of(f, t, 3, p) && p[0] == 0 &&
           p[1] == 2 && p[2] == 1;
}

/* A 1-D Conv node (rank-3 X and Y, one output), running, not fused. */
static int is_conv1d(const lf *f, int c)
{
    return is_op(f, c, "Conv") && f->runs[c] == 1 &&
           node(f, c)->n_out == 1 && node(f, c)->out[0] >= 0 &&
           info(f, node(f, c)->in[0])->ndim == 3 &&
           info(f, node(f, c)->out[0])->ndim == 3;
}

/* A running float element-wise node of one input and one output. */
static int is_unary_ew(const lf *f, int e)
{
    if (e < 0)
        return 0;
    const mdl_node *en = node(f, e);
    return f->runs[e] == 1 && en->op->kind == MDL_OP_KERNEL &&
           en->op->core_op && !strcmp(en->op->core_op, "elementwise") &&
           en->n_in == 1 && en->n_out == 1 && en->out[0] >= 0 &&
           info(f, en->in[0])->dtype == SEQK_F32 &&
           !info(f, en->in[0])->cval;
}

/* The rnn fold's transpose step (0,2,1) that alone reads y: its index in
 * steps, else -1. */
static int transpose_step_reading(const lf *f, int y, mdl_step *steps,
                                  const int *at)
{
    if (y < 0 || kept(f, y) || f->nread[y] != 1 || !at)
        return -1;
    int r = f->reader[y];
    if (f->runs[r] != 2 || at[r] < 0)
        return -1;
    const mdl_step *s = &steps[at[r]];
    const lf_state *ts = s->state;
    if (s->frun != lf_run || !ts || ts->kind != LF_TRANSPOSE ||
        s->in[0] != y || ts->perm[0] != 0 || ts->perm[1] != 2 ||
        ts->perm[2] != 1)
        return -1;
    return at[r];
}

/* [A,B,C] -> [A,C,B] in a value's plan info (a chain's intermediates). */
static void swap_last(lf *f, int v)
{
    mdl_info *in = &f->p->info[v];
    int64_t t = in->dims[1];
    in->dims[1] = in->dims[2];
    in->dims[2] = t;
}

static int match_conv(lf *f, int c, mdl_step **steps, int **at, int *n)
{
    const mdl_node *cn = node(f, c);
    int x = cn->in[0], y = cn->out[0], tx = -1, ty = -1, ts = -1, c2 = -1;
    int src = x, dst = y, x_nlc = 0, y_nlc = 0, chain[8], n_chain = 0;
    char via[256] = "";
    if (!is_conv1d(f, c))
        return 0;
    /* X: channels-last from a chain, or a Transpose(0,2,1) read only here */
    if (f->chain_in[c]) {
        x_nlc = 1;
    } else if (is_perm021(f, producer(f, x)) && sole_reader(f, x) == c) {
        tx = producer(f, x);
        src = node(f, tx)->in[0];
        x_nlc = 1;
    }
    /* Y: read only by a Transpose(0,2,1) (a node, or an rnn fold's step),
     * or a chain of unary element-wise nodes into a Conv's X */
    int r = sole_reader(f, y);
    if (r >= 0 && is_perm021(f, r) && node(f, r)->in[0] == y) {
        ty = r;
        dst = node(f, r)->out[0];
        y_nlc = 1;
    } else if ((ts = transpose_step_reading(f, y, *steps, *at)) >= 0) {
        ty = (*steps)[ts].node;
        dst = (*steps)[ts].out[0];
        y_nlc = 1;
    } else {
        int v = y;
        while (n_chain < 8 && is_unary_ew(f, r) &&
               node(f, r)->in[0] == v) {
            chain[n_chain++] = r;
            v = node(f, r)->out[0];
            r = sole_reader(f, v);
        }
        if (is_conv1d(f, r) && node(f, r)->in[0] == v) {
            c2 = r;
            y_nlc = 1;
        }
    }
    if (!x_nlc && !y_nlc)
        return 0;

    lf_state *cs = calloc(1, sizeof *cs);
    if (!cs)
        return -1;
    cs->kind = LF_CONV;
    cs->conv = *seqk__mdl_conv_params(cn);
    cs->conv.input_channels_last = x_nlc;
    cs->conv.output_channels_last = y_nlc;
    mdl_step s;
    fused_step(&s, c, ty >= 0 ? ty : tx, "conv1d", cs);
    s.n_in = 3;
    s.in[0] = src;
    s.in[1] = cn->in[1];
    s.in[2] = cn->n_in > 2 ? cn->in[2] : -1;
    s.n_out = 1;
    s.out[0] = dst;
    if (add_step(steps, at, n, f->m->g.n_nodes, c, &s)) {
        state_free(cs);
        return -1;
    }
    f->runs[c] = 2;
    if (tx >= 0)
        f->runs[tx] = 2;
    if (ty >= 0) {
        /* the Transpose (node or rnn-fold step) runs no more; an rnn
         * step left in steps is freed with the rest */
        f->runs[ty] = 2;
        (*at)[ty] = -1;
    }
    if (c2 >= 0) {
        /* the chain's values become [N,L,M]; the second conv reads so */
        swap_last(f, y);
        for (int k = 0; k < n_chain; k++) {
            swap_last(f, node(f, chain[k])->out[0]);
            size_t u = strlen(via);
            snprintf(via + u, sizeof via - u, "%s%s '%s'", k ? ", " : " via ",
                     node(f, chain[k])->op->name, node(f, chain[k])->name);
        }
        f->chain_in[c2] = 1;
    }
    f->p->n_fusions++;
    seqk__mdl_text_add(f->p, "fused: %s%s%sConv '%s'%s%s%s -> conv1d, X "
                       "channels-%s%s, Y channels-%s%s%s%s%s%s\n",
                       tx >= 0 ? "Transpose '" : "",
                       tx >= 0 ? node(f, tx)->name : "",
                       tx >= 0 ? "' + " : "", cn->name,
                       ty >= 0 ? " + Transpose '" : "",
                       ty >= 0 ? node(f, ty)->name : "", ty >= 0 ? "'" : "",
                       x_nlc ? "last" : "first",
                       f->chain_in[c] ? " (chain)" : "",
                       y_nlc ? "last" : "first",
                       c2 >= 0 ? " (chain to Conv '" : "",
                       c2 >= 0 ? node(f, c2)->name : "", c2 >= 0 ? "'" : "",
                       via, c2 >= 0 ? ")" : "");
    seqk__log(f->m->ctx, SEQK_VERBOSE_DISPATCH, "model: Conv '%s' runs "
              "with X channels-%s, Y channels-%s", cn->name,
              x_nlc ? "last" : "first", y_nlc ? "last" : "first");
    return 1;
}

/* ---- the pass */

seqk_status seqk__mdl_fuse_layout(seqk_model *m, mdl_plan *p,
                                  unsigned char *runs, mdl_step **steps,
                                  int **at, int *n)
{
    const mdl_graph *g = &m->g;
    int nv = g->n_values, nn = g->n_nodes;
    lf f = {m, p, runs, NULL, NULL, NULL};
    seqk_status st = SEQK_ERR_OUT_OF_MEMORY;

    f.nread = calloc((size_t)nv + 1, sizeof *f.nread);
    f.reader = calloc((size_t)nv + 1, sizeof *f.reader);
    f.chain_in = calloc((size_t)nn + 1, 1);
    if (!f.nread || !f.reader || !f.chain_in)
        goto cleanup;
    for (int i = 0; i < nn; i++)
        for (int k = 0; runs[i] && k < g->nodes[i].n_in; k++) {
            int v = g->nodes[i].in[k];
            if (v >= 0) {
                f.nread[v]++;
                f.reader[v] = i;
            }
        }
    /* the rnn folds first: the transposes they leave are the conv
     * folds' to take */
    for (int pass = 0; pass < 2; pass++)
        for (int oi = 0; oi < nn; oi++) {
            int i = g->order[oi], r = 0;
            if (runs[i] != 1)
                continue;
            if (pass == 0 && (is_op(&f, i, "LSTM") || is_op(&f, i, "GRU") ||
                              is_op(&f, i, "RNN")))
                r = match_rnn(&f, i, steps, at, n);
            else if (pass == 1 && is_op(&f, i, "Conv"))
                r = match_conv(&f, i, steps, at, n);
            if (r < 0)
                goto cleanup;
        }
    st = SEQK_OK;
cleanup:
    free(f.nread);
    free(f.reader);
    free(f.chain_in);
    return st;
}
