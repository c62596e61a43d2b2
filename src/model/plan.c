/*
 * plan.c — a plan per distinct set of input shapes (cached, at most
 * MDL_MAX_PLANS, least recently used dropped):
 *
 *   A  forward over the topological order: each node's shape function;
 *      nodes whose inputs are all known fold on the host (their own fold,
 *      else the library op on a ref context over wrapped host memory).
 *      A failure is kept with the node and reported only if the node turns
 *      out to be needed (the untaken branch of an If may not fit).
 *   B  backward from the outputs kept: which nodes must run.  A folded If
 *      needs only its chosen branch.
 *   C  steps in order, with fusions: MatMul(X, W const 2-D) [+ Add(b
 *      const [N])] and Gemm(X, B const, C const [N]) -> one seqk_linear
 *      plan (weights packed once) (fuse_at); before them fuse.c's patterns:
 *      attention -> seqk_attention, decomposed Gelu -> one element-wise
 *      op, decomposed LayerNorm -> seqk_layer_norm; then fuse_layout.c's
 *      layout folds (RNN layout 1, channels-last Conv input).
 *
 * plan_exec.c then gives every value its tensor (liveness-based buffers).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

extern const mdl_op seqk__mdl_op_if;

void seqk__mdl_text_add(mdl_plan *p, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    if (p->text_len + (size_t)n + 1 > p->text_cap) {
        size_t cap = (p->text_cap + (size_t)n + 1) * 2;
        char *t = realloc(p->text, cap);
        if (!t)
            return;
        p->text = t;
        p->text_cap = cap;
    }
    memcpy(p->text + p->text_len, line, (size_t)n + 1);
    p->text_len += (size_t)n;
}

void seqk__mdl_plan_free(seqk_model *m, mdl_plan *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].free_state)
            p->steps[i].free_state(p->steps[i].state);
    for (int v = 0; p->t && v < m->g.n_values; v++)
        if (p->own[v])
            seqk_tensor_destroy(p->t[v]);
    for (int b = 0; b < p->n_buffers; b++)
        seqk_tensor_destroy(p->buffers[b]);
    for (int v = 0; p->folded && v < m->g.n_values; v++)
        seqk__mdl_host_free(p->folded[v]);
    free(p->info);
    free(p->folded);
    free(p->t);
    free(p->own);
    free(p->needed);
    free(p->steps);
    free(p->buffers);
    free(p->text);
    free(p);
}

/* The library op of a row on a host context over wrapped host memory. */
static seqk_status fold_generic(seqk_model *m, const mdl_node *nd,
                                const mdl_info *in, const mdl_info *out,
                                mdl_host **res, char *err)
{
    seqk_tensor *ti[MDL_MAX_NODE_IO] = {NULL}, *to[MDL_MAX_NODE_IO] = {NULL};
    void *state = NULL;
    void (*free_state)(void *) = NULL;
    seqk_status st;

    if (!m->host) {
        seqk_options o;
        seqk_options_init(&o);
        o.device = "ref";
        o.threads = 1;
        if ((st = seqk_context_create(&o, &m->host)))
            return st;
    }
    for (int k = 0; k < nd->n_in; k++) {
        const mdl_host *h = in[k].cval;
        if (!h)
            continue;
        if ((st = seqk_tensor_wrap(m->host, h->ndim, h->dims, h->dtype,
                                   h->data, h->bytes, &ti[k])))
            goto cleanup;
    }
    for (int k = 0; k < nd->n_out; k++) {
        if (nd->out[k] < 0)
            continue;
        if (!(res[k] =
                  seqk__mdl_host_new(out[k].dtype, out[k].ndim, out[k].dims))) {
            st = SEQK_ERR_OUT_OF_MEMORY;
            goto cleanup;
        }
        if ((st = seqk_tensor_wrap(m->host, res[k]->ndim, res[k]->dims,
                                   res[k]->dtype, res[k]->data, res[k]->bytes,
                                   &to[k])))
            goto cleanup;
    }
    if (nd->op->prepare &&
        (st = nd->op->prepare(m->host, nd, in, out, ti, to, &state,
                              &free_state, err)))
        goto cleanup;
    mdl_run_args a = {m->host, nd, state, (const seqk_tensor *const *)ti, to};
    st = nd->op->run(&a);
cleanup:
    if (free_state)
        free_state(state);
    for (int k = 0; k < MDL_MAX_NODE_IO; k++) {
        seqk_tensor_destroy(ti[k]);
        seqk_tensor_destroy(to[k]);
    }
    if (st)
        for (int k = 0; k < nd->n_out; k++) {
            seqk__mdl_host_free(res[k]);
            res[k] = NULL;
        }
    return st;
}

static int all_known(const mdl_plan *p, const mdl_node *nd)
{
    for (int k = 0; k < nd->n_in; k++)
        if (nd->in[k] >= 0 && !p->info[nd->in[k]].cval)
            return 0;
    return 1;
}

static void try_fold(seqk_model *m, mdl_plan *p, const mdl_node *nd,
                     const mdl_info *in, const mdl_info *out)
{
    mdl_host *res[MDL_MAX_NODE_IO] = {NULL};
    char err[MDL_ERR_LEN] = "";
    int host_only =
        nd->op == &seqk__mdl_op_shape || nd->op == &seqk__mdl_op_size;
    size_t total = 0;
    seqk_status st = SEQK_OK;

    if (nd->op->kind == MDL_OP_IF) {
        const mdl_host *c = in[0].cval;
        if (!c || c->numel < 1)
            return;
        int off = seqk__mdl_host_i64(c, 0) ? 1 : 1 + nd->n_out;
        for (int o = 0; o < nd->n_out; o++)
            if (nd->out[o] >= 0)
                p->info[nd->out[o]].cval = in[off + o].cval;
        return;
    }
    if (!host_only && !all_known(p, nd))
        return;
    for (int o = 0; o < nd->n_out; o++) {
        int64_t n;
        if (seqk__numel(out[o].ndim, out[o].dims, &n))
            return;
        total += (size_t)n * 8;
    }
    if (total > MDL_MAX_FOLD_BYTES)
        return;
    if (nd->op->kind == MDL_OP_VIEW) {
        if (!(res[0] =
                  seqk__mdl_host_new(out[0].dtype, out[0].ndim, out[0].dims)))
            return;
        memcpy(res[0]->data, in[0].cval->data, res[0]->bytes);
    } else if (nd->op->fold) {
        st = nd->op->fold(nd, in, res, err);
    }
    if (st == SEQK_OK && !res[0] && nd->op->run)
        st = fold_generic(m, nd, in, out, res, err);
    for (int o = 0; o < nd->n_out; o++) {
        if (st != SEQK_OK || nd->out[o] < 0) {
            seqk__mdl_host_free(res[o]);
            continue;
        }
        p->folded[nd->out[o]] = res[o];
        p->info[nd->out[o]].cval = res[o];
    }
}

static seqk_status input_shapes(seqk_model *m, mdl_plan *p)
{
    char s1[96], s2[96];
    for (int i = 0; i < m->g.n_inputs; i++) {
        const mdl_value *v = &m->g.values[m->g.inputs[i]];
        mdl_info *in = &p->info[m->g.inputs[i]];
        in->dtype = v->dtype ? v->dtype : SEQK_F32;
        in->ndim = p->in_ndim[i];
        memcpy(in->dims, p->in_dims[i], sizeof in->dims);
        int bad = v->ndim >= 0 && v->ndim != in->ndim;
        for (int d = 0; !bad && v->ndim >= 0 && d < v->ndim; d++)
            bad = v->dims[d] >= 0 && v->dims[d] != in->dims[d];
        if (bad)
            return seqk__error(m->ctx, SEQK_ERR_SHAPE, "model: input '%s' "
                               "has shape %s but the model declares %s "
                               "(-1: any)", v->name,
                               seqk__dims_str(in->ndim, in->dims, s1, 96),
                               seqk__dims_str(v->ndim, v->dims, s2, 96));
    }
    return SEQK_OK;
}

/* Consumers among the nodes that run: the one reading v, when only one. */
static int sole_consumer(const seqk_model *m, const unsigned char *runs,
                         int v)
{
    int found = -1;
    for (int i = 0; i < m->g.n_nodes; i++) {
        if (!runs[i])
            continue;
        for (int k = 0; k < m->g.nodes[i].n_in; k++)
            if (m->g.nodes[i].in[k] == v) {
                if (found >= 0 && found != i)
                    return -1;
                found = i;
            }
    }
    return found;
}

static int is_bias(const mdl_info *b, int64_t n)
{
    return b->cval && b->dtype == SEQK_F32 && b->cval->numel == n &&
           (b->ndim == 1 || (b->ndim == 2 && b->dims[0] == 1));
}

/* Fusions starting at node i: MatMul/Gemm with constant weights (the
 * multi-node patterns are fuse.c's, matched before).  1 when the step was
 * filled in. */
static int fuse_at(seqk_model *m, mdl_plan *p, unsigned char *runs, int i,
                   mdl_step *s)
{
    const mdl_node *nd = &m->g.nodes[i];
    const mdl_info *in0 = nd->n_in > 0 && nd->in[0] >= 0 ? &p->info[nd->in[0]]
                                                          : NULL;
    const mdl_info *in1 = nd->n_in > 1 && nd->in[1] >= 0 ? &p->info[nd->in[1]]
                                                          : NULL;
    if (!in0 || !in1 || in0->cval || !in1->cval || in1->dtype != SEQK_F32 ||
        in1->ndim != 2 || in0->ndim < 2 || in1->dims[0] < 1 ||
        in1->dims[1] < 1)
        return 0;
    if (!strcmp(nd->op->name, "MatMul")) {
        int out = nd->out[0], add = -1, bias = -1, keep = 0;
        for (int k = 0; k < m->n_keep; k++)
            keep |= m->keep[k] == out;
        int c = keep ? -1 : sole_consumer(m, runs, out);
        if (c >= 0 && runs[c] == 1 &&
            !strcmp(m->g.nodes[c].op->name, "Add") &&
            m->g.nodes[c].n_in == 2) {
            const mdl_node *an = &m->g.nodes[c];
            int other = an->in[0] == out ? an->in[1] : an->in[0];
            if (other >= 0 && is_bias(&p->info[other], in1->dims[1]) &&
                (an->in[0] == out) != (an->in[1] == out)) {
                add = c;
                bias = other;
            }
        }
        s->linear = 1;
        s->layout = SEQK_LINEAR_KN;
        s->in[0] = nd->in[0];
        s->in[1] = nd->in[1];
        s->in[2] = bias;
        s->n_in = 3;
        s->kind = "linear";
        if (add >= 0) {
            runs[add] = 0;
            s->fused = add;
            s->out[0] = m->g.nodes[add].out[0];
            seqk__mdl_text_add(p, "fused: MatMul '%s' + Add '%s' -> linear\n",
                     nd->name, m->g.nodes[add].name);
            seqk__log(m->ctx, SEQK_VERBOSE_DISPATCH, "model: fused MatMul "
                      "'%s' + Add '%s' -> linear", nd->name,
                      m->g.nodes[add].name);
        } else {
            s->out[0] = out;
            seqk__mdl_text_add(
                p, "fused: MatMul '%s' (constant weights) -> linear\n",
                nd->name);
            seqk__log(m->ctx, SEQK_VERBOSE_DISPATCH, "model: MatMul '%s' "
                      "(constant weights) -> linear", nd->name);
        }
        s->n_out = 1;
        p->n_fusions++;
        return 1;
    }
    if (!strcmp(nd->op->name, "Gemm")) {
        const mdl_gemm_attrs *ga = nd->attrs;
        int64_t n = ga->trans_b ? in1->dims[0] : in1->dims[1];
        int c = nd->n_in > 2 ? nd->in[2] : -1;
        if (ga->trans_a || ga->alpha != 1.0f || in0->ndim != 2 ||
            (c >= 0 && (ga->beta != 1.0f || !is_bias(&p->info[c], n))))
            return 0;
        s->linear = 1;
        s->layout = ga->trans_b ? SEQK_LINEAR_NK : SEQK_LINEAR_KN;
        s->in[0] = nd->in[0];
        s->in[1] = nd->in[1];
        s->in[2] = c;
        s->n_in = 3;
        s->out[0] = nd->out[0];
        s->n_out = 1;
        s->kind = "linear";
        seqk__mdl_text_add(p, "fused: Gemm '%s' (constant B) -> linear\n",
                           nd->name);
        p->n_fusions++;
        return 1;
    }
    return 0;
}

static seqk_status node_fail(seqk_model *m, const mdl_node *nd,
                             seqk_status st, const char *why)
{
    return seqk__error(m->ctx, st, "model: node '%s' (%s, opset %d): %s",
                       nd->name, nd->op->name, nd->opset, why);
}

static seqk_status build(seqk_model *m, mdl_plan *p)
{
    mdl_graph *g = &m->g;
    int nv = g->n_values, nn = g->n_nodes;
    seqk_status st = SEQK_ERR_OUT_OF_MEMORY;
    unsigned char *runs = calloc((size_t)nn + 1, 1);
    char **nerr = calloc((size_t)nn + 1, sizeof *nerr);
    seqk_status *nst = calloc((size_t)nn + 1, sizeof *nst);
    int *bad = malloc(((size_t)nv + 1) * sizeof *bad); /* failing node */
    mdl_step *fz = NULL;
    int *fz_at = NULL, n_fz = 0;

    p->info = calloc((size_t)nv + 1, sizeof *p->info);
    p->folded = calloc((size_t)nv + 1, sizeof *p->folded);
    p->needed = calloc((size_t)nv + 1, 1);
    p->steps = calloc((size_t)nn + 1, sizeof *p->steps);
    if (!runs || !nerr || !nst || !bad || !p->info || !p->folded ||
        !p->needed || !p->steps)
        goto cleanup;
    for (int v = 0; v < nv; v++) {
        const mdl_host *h = g->values[v].data;
        bad[v] = -1;
        if (!h)
            continue;
        p->info[v].dtype = h->dtype;
        p->info[v].ndim = h->ndim;
        memcpy(p->info[v].dims, h->dims, sizeof h->dims);
        p->info[v].cval = h;
    }
    if ((st = input_shapes(m, p)))
        goto cleanup;

    /* A: shapes and folding */
    for (int oi = 0; oi < nn; oi++) {
        int i = g->order[oi];
        const mdl_node *nd = &g->nodes[i];
        mdl_info in[MDL_MAX_NODE_IO], out[MDL_MAX_NODE_IO];
        char err[MDL_ERR_LEN] = "";
        int from = -1;
        memset(in, 0, sizeof in);
        memset(out, 0, sizeof out);
        for (int k = 0; k < nd->n_in; k++)
            if (nd->in[k] >= 0) {
                if (bad[nd->in[k]] >= 0 && from < 0)
                    from = bad[nd->in[k]];
                in[k] = p->info[nd->in[k]];
            }
        /* a folded If needs only its chosen branch to be good */
        if (from >= 0 && nd->op->kind == MDL_OP_IF && in[0].cval &&
            bad[nd->in[0]] < 0) {
            int off = seqk__mdl_host_i64(in[0].cval, 0) ? 1 : 1 + nd->n_out;
            from = -1;
            for (int o = 0; o < nd->n_out; o++)
                if (nd->in[off + o] >= 0 && bad[nd->in[off + o]] >= 0)
                    from = bad[nd->in[off + o]];
        }
        if (from < 0) {
            nst[i] = nd->op->infer(nd, in, out, err);
            if (nst[i]) {
                from = i;
                nerr[i] = strdup(err[0] ? err : "shape inference failed");
            }
        }
        for (int o = 0; o < nd->n_out; o++) {
            if (nd->out[o] < 0)
                continue;
            bad[nd->out[o]] = from;
            if (from < 0) {
                int64_t n;
                if (out[o].ndim < 0 || out[o].ndim > SEQK_MAX_DIMS ||
                    seqk__numel(out[o].ndim, out[o].dims, &n)) {
                    bad[nd->out[o]] = i;
                    nst[i] = SEQK_ERR_OVERFLOW;
                    free(nerr[i]);
                    nerr[i] = strdup("output dims overflow");
                    from = i;
                }
                p->info[nd->out[o]] = out[o];
                p->info[nd->out[o]].cval = NULL;
            }
        }
        if (from < 0)
            try_fold(m, p, nd, in, out);
    }

    /* B: what must run, backward from the kept outputs */
    for (int k = 0; k < m->n_keep; k++)
        p->needed[m->keep[k]] = 1;
    for (int oi = nn - 1; oi >= 0; oi--) {
        int i = g->order[oi];
        const mdl_node *nd = &g->nodes[i];
        int need = 0;
        for (int o = 0; o < nd->n_out; o++)
            if (nd->out[o] >= 0 && p->needed[nd->out[o]] &&
                (bad[nd->out[o]] >= 0 || !p->info[nd->out[o]].cval))
                need = 1;
        if (!need)
            continue;
        for (int o = 0; o < nd->n_out; o++)
            if (nd->out[o] >= 0 && bad[nd->out[o]] >= 0) {
                int f = bad[nd->out[o]];
                st = node_fail(m, &g->nodes[f], nst[f] ? nst[f]
                               : SEQK_ERR_INTERNAL, nerr[f] ? nerr[f] : "");
                goto cleanup;
            }
        runs[i] = 1;
        if (nd->op->kind == MDL_OP_IF && p->info[nd->in[0]].cval) {
            int off = seqk__mdl_host_i64(p->info[nd->in[0]].cval, 0) ? 1
                                                                : 1 + nd->n_out;
            for (int o = 0; o < nd->n_out; o++)
                if (nd->out[o] >= 0 && p->needed[nd->out[o]] &&
                    nd->in[off + o] >= 0)
                    p->needed[nd->in[off + o]] = 1;
            continue;
        }
        if (nd->op->kind == MDL_OP_HOST) {
            const mdl_info *x = &p->info[nd->in[0]], *y = &p->info[nd->out[0]];
            /* a Cast to the type it already has is a view */
            if (nd->op != &seqk__mdl_op_cast || x->dtype != y->dtype) {
                st = node_fail(m, nd, SEQK_ERR_UNSUPPORTED, "its inputs are "
                               "only known at run time, and seqk has no "
                               "run-time kernel for this op yet (it folds "
                               "it when the inputs are constants or shapes)");
                goto cleanup;
            }
        }
        for (int k = 0; k < nd->n_in; k++)
            if (nd->in[k] >= 0)
                p->needed[nd->in[k]] = 1;
    }

    /* C: steps, the patterns fuse.c matched first (each in place of its
     * last node; runs[i] == 2 marks their nodes) */
    if ((st = seqk__mdl_fuse_patterns(m, p, runs, &fz, &fz_at, &n_fz)) ||
        (st = seqk__mdl_fuse_layout(m, p, runs, &fz, &fz_at, &n_fz)))
        goto cleanup;
    for (int oi = 0; oi < nn; oi++) {
        int i = g->order[oi];
        const mdl_node *nd = &g->nodes[i];
        mdl_step *s = &p->steps[p->n_steps];
        if (!runs[i])
            continue;
        if (runs[i] == 2) {
            if (fz_at && fz_at[i] >= 0) {
                *s = fz[fz_at[i]];
                fz[fz_at[i]].state = NULL;
                p->n_steps++;
            }
            continue;
        }
        memset(s, 0, sizeof *s);
        s->node = i;
        s->fused = -1;
        if (fuse_at(m, p, runs, i, s)) {
            p->n_steps++;
            continue;
        }
        s->n_in = nd->n_in;
        s->n_out = nd->n_out;
        memcpy(s->in, nd->in, sizeof s->in);
        memcpy(s->out, nd->out, sizeof s->out);
        s->kind = nd->op->core_op ? nd->op->core_op : "view";
        if (nd->op->kind == MDL_OP_VIEW || nd->op->kind == MDL_OP_HOST)
            s->views = 1;
        if (nd->op->kind == MDL_OP_IF) {
            if (p->info[nd->in[0]].cval) {
                s->views = 2; /* outputs alias the chosen branch */
                s->kind = "if (folded)";
            } else {
                s->is_if = 1;
                s->kind = "if (run time)";
            }
        }
        p->n_steps++;
    }
    st = SEQK_OK;
cleanup:
    for (int i = 0; nerr && i < nn; i++)
        free(nerr[i]);
    free(nerr);
    free(nst);
    free(bad);
    free(runs);
    for (int k = 0; k < n_fz; k++)
        if (fz[k].state)
            fz[k].free_state(fz[k].state);
    free(fz);
    free(fz_at);
    return st;
}

static int same_shapes(const mdl_plan *p, int n, const int *ndims,
                       const int64_t (*dims)[SEQK_MAX_DIMS])
{
    for (int i = 0; i < n; i++) {
        if (p->in_ndim[i] != ndims[i])
            return 0;
        for (int d = 0; d < ndims[i]; d++)
            if (p->in_dims[i][d] != dims[i][d])
                return 0;
    }
    return 1;
}

seqk_status seqk__mdl_plan_get(seqk_model *m, const int *ndims,
                         const int64_t (*dims)[SEQK_MAX_DIMS],
                         mdl_plan **out)
{
    int n = m->g.n_inputs;
    mdl_plan *p;
    seqk_status st;

    for (int i = 0; i < m->n_plans; i++)
        if (same_shapes(m->plans[i], n, ndims, dims)) {
            m->plans[i]->last_use = ++m->clock;
            *out = m->last = m->plans[i];
            return SEQK_OK;
        }
    if (!(p = calloc(1, sizeof *p)))
        return seqk__error(m->ctx, SEQK_ERR_OUT_OF_MEMORY, "model: out of "
                           "memory");
    p->n_inputs = n;
    for (int i = 0; i < n; i++) {
        p->in_ndim[i] = ndims[i];
        memcpy(p->in_dims[i], dims[i], sizeof p->in_dims[i]);
    }
    if ((st = build(m, p)) || (st = seqk__mdl_plan_alloc(m, p))) {
        if (st == SEQK_ERR_OUT_OF_MEMORY && !seqk_last_error(m->ctx)[0])
            seqk__error(m->ctx, st, "model: out of memory making a plan");
        seqk__mdl_plan_free(m, p);
        return st;
    }
    if (m->n_plans == MDL_MAX_PLANS) {
        int lru = 0;
        for (int i = 1; i < m->n_plans; i++)
            if (m->plans[i]->last_use < m->plans[lru]->last_use)
                lru = i;
        if (m->last == m->plans[lru])
            m->last = NULL;
        seqk__mdl_plan_free(m, m->plans[lru]);
        m->plans[lru] = m->plans[--m->n_plans];
    }
    p->last_use = ++m->clock;
    m->plans[m->n_plans++] = p;
    *out = m->last = p;
    return SEQK_OK;
}
