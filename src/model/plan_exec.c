/*
 * plan_exec.c — a plan's memory and its run.
 *
 *   roots     a value a step writes (or a graph input); views (Reshape,
 *             Squeeze, folded If, ...) share their input's root
 *   liveness  a root lives from its step to its last reader; kept outputs
 *             to the end.  Roots take buffers freed by dead ones (smallest
 *             that fits, else the largest free one, grown), so the
 *             buffers total about the widest point of the graph
 *   tensors   each buffer is one device allocation (a byte tensor); each
 *             value's tensor is an alias of it with its own dtype and dims
 *             (no copy; the device maps the pointer as for any view);
 *             constants are uploaded once (initializers: once per model)
 *
 * A run copies the inputs into their buffers and calls one library op per
 * step: it allocates nothing.
 */
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

/* A tensor over t's memory with another dtype and shape (bytes within
 * t's). */
static seqk_status alias(seqk_model *m, seqk_tensor *t, seqk_dtype dt,
                         int ndim, const int64_t *dims, seqk_tensor **out)
{
    seqk_tensor *owner = t->base ? t->base : t;
    seqk_tensor *v = calloc(1, sizeof *v);
    if (!v)
        return SEQK_ERR_OUT_OF_MEMORY;
    v->ctx = t->ctx;
    v->ndim = ndim;
    memcpy(v->dims, dims, sizeof(int64_t) * (size_t)ndim);
    v->dtype = dt;
    seqk__numel(ndim, dims, &v->numel);
    v->bytes = (size_t)v->numel * seqk_dtype_size(dt);
    v->data = t->data;
    v->base = owner;
    atomic_fetch_add(&owner->views, 1);
    seqk__context_retain(t->ctx);
    m->n_allocs++;
    *out = v;
    return SEQK_OK;
}

static size_t value_bytes(const mdl_info *in)
{
    int64_t n = 0;
    seqk__numel(in->ndim, in->dims, &n);
    return (size_t)n * seqk_dtype_size(in->dtype);
}

/* The tensor of constant v: the model's upload of an initializer, or a
 * per-plan upload of a folded value. */
static seqk_status upload(seqk_model *m, mdl_plan *p, int v)
{
    const mdl_host *h = p->info[v].cval;
    int model_level = h == m->g.values[v].data;
    seqk_tensor **slot = model_level ? &m->uploads[v] : &p->t[v];
    seqk_status st;
    if (!*slot) {
        if ((st = seqk_tensor_create(m->ctx, h->ndim, h->dims, h->dtype,
                                     slot)))
            return st;
        m->n_allocs++;
        if ((st = seqk_tensor_write(*slot, h->data, h->bytes)))
            return st;
        if (!model_level)
            p->own[v] = 1;
    }
    p->t[v] = *slot;
    return SEQK_OK;
}

static void kernel_name(seqk_context *ctx, const char *core_op, char *buf,
                        size_t len)
{
    int n = 0;
    snprintf(buf, len, "-");
    if (!core_op || seqk_op_count(&n))
        return;
    for (int i = 0; i < n; i++) {
        seqk_op_kernel k = {.struct_size = sizeof k};
        if (seqk_context_op_kernel(ctx, i, &k) == SEQK_OK &&
            !strcmp(k.op, core_op)) {
            snprintf(buf, len, "%s", k.kernel[0] ? k.kernel : "-");
            return;
        }
    }
}

static void linear_free(void *s) { seqk_linear_destroy(s); }

typedef struct bufslot {
    size_t bytes;
    int busy;
} bufslot;

seqk_status seqk__mdl_plan_alloc(seqk_model *m, mdl_plan *p)
{
    const mdl_graph *g = &m->g;
    int nv = g->n_values, ns = p->n_steps, nb = 0;
    int *root = malloc(((size_t)nv + 1) * sizeof *root);
    int *last = malloc(((size_t)nv + 1) * sizeof *last);
    int *buf_of = malloc(((size_t)nv + 1) * sizeof *buf_of);
    bufslot *bufs = calloc((size_t)nv + 1, sizeof *bufs);
    seqk_status st = SEQK_ERR_OUT_OF_MEMORY;
    char *fusions = NULL;

    p->t = calloc((size_t)nv + 1, sizeof *p->t);
    p->own = calloc((size_t)nv + 1, 1);
    if (!m->uploads)
        m->uploads = calloc((size_t)nv + 1, sizeof *m->uploads);
    if (!root || !last || !buf_of || !bufs || !p->t || !p->own || !m->uploads)
        goto cleanup;
    for (int v = 0; v < nv; v++) {
        root[v] = -1;
        last[v] = INT_MIN;
        buf_of[v] = -1;
    }
    /* roots and their last readers */
    for (int i = 0; i < g->n_inputs; i++)
        root[g->inputs[i]] = g->inputs[i];
    for (int i = 0; i < ns; i++) {
        const mdl_step *s = &p->steps[i];
        const mdl_node *nd = &g->nodes[s->node];
        for (int k = 0; k < s->n_in; k++) {
            int v = s->in[k];
            if (v >= 0 && root[v] >= 0 && last[root[v]] < i)
                last[root[v]] = i;
        }
        for (int o = 0; o < s->n_out; o++) {
            int v = s->out[o], src = -1;
            if (v < 0)
                continue;
            if (s->views == 1 && o == 0)
                src = s->in[0];
            else if (s->views == 2)
                src = nd->in[(seqk__mdl_host_i64(p->info[nd->in[0]].cval, 0)
                                  ? 1 : 1 + nd->n_out) + o];
            root[v] = src >= 0 ? (root[src] >= 0 ? root[src] : -2 - src) : v;
        }
    }
    for (int k = 0; k < m->n_keep; k++)
        if (root[m->keep[k]] >= 0)
            last[root[m->keep[k]]] = INT_MAX;
    /* buffers: inputs first, then each step's new roots; free after last */
    for (int i = -1; i < ns; i++) {
        int cand[MDL_MAX_NODE_IO + 64], nc = 0;
        if (i < 0)
            for (int k = 0; k < g->n_inputs; k++)
                cand[nc++] = g->inputs[k];
        else
            for (int o = 0; o < p->steps[i].n_out; o++) {
                int v = p->steps[i].out[o];
                if (v >= 0 && root[v] == v)
                    cand[nc++] = v;
            }
        for (int c = 0; c < nc; c++) {
            int v = cand[c], best = -1;
            size_t need = value_bytes(&p->info[v]);
            for (int b = 0; b < nb; b++) {
                if (bufs[b].busy)
                    continue;
                if (best < 0 ||
                    (bufs[b].bytes >= need &&
                     (bufs[best].bytes < need ||
                      bufs[b].bytes < bufs[best].bytes)) ||
                    (bufs[b].bytes < need && bufs[best].bytes < need &&
                     bufs[b].bytes > bufs[best].bytes))
                    best = b;
            }
            if (best < 0)
                best = nb++;
            if (bufs[best].bytes < need)
                bufs[best].bytes = need;
            bufs[best].busy = 1;
            buf_of[v] = best;
        }
        /* free what died here (and what nobody reads) */
        for (int c = 0; c < nc; c++)
            if (last[cand[c]] < i + 1 && last[cand[c]] != INT_MAX &&
                last[cand[c]] <= i)
                bufs[buf_of[cand[c]]].busy = 0;
        if (i >= 0)
            for (int k = 0; k < p->steps[i].n_in; k++) {
                int v = p->steps[i].in[k];
                if (v >= 0 && root[v] >= 0 && last[root[v]] == i &&
                    buf_of[root[v]] >= 0)
                    bufs[buf_of[root[v]]].busy = 0;
            }
    }
    p->buffers = calloc((size_t)nb + 1, sizeof *p->buffers);
    if (!p->buffers)
        goto cleanup;
    for (int b = 0; b < nb; b++) {
        int64_t d = (int64_t)bufs[b].bytes;
        if ((st = seqk_tensor_create(m->ctx, 1, &d, SEQK_BOOL,
                                     &p->buffers[b])))
            goto cleanup;
        p->n_buffers++;
        m->n_allocs++;
        p->buffer_bytes += bufs[b].bytes;
    }
    /* value tensors, in step order (a view needs its input's tensor) */
    for (int k = 0; k < g->n_inputs; k++) {
        int v = g->inputs[k];
        if ((st = alias(m, p->buffers[buf_of[v]], p->info[v].dtype,
                        p->info[v].ndim, p->info[v].dims, &p->t[v])))
            goto cleanup;
        p->own[v] = 1;
    }
    for (int i = 0; i < ns; i++) {
        mdl_step *s = &p->steps[i];
        const mdl_node *nd = &g->nodes[s->node];
        for (int k = 0; k < s->n_in; k++) {
            int v = s->in[k];
            if (v >= 0 && !p->t[v] && p->info[v].cval &&
                (st = upload(m, p, v)))
                goto cleanup;
        }
        for (int o = 0; o < s->n_out; o++) {
            int v = s->out[o];
            seqk_tensor *base;
            if (v < 0)
                continue;
            if (root[v] == v) {
                base = p->buffers[buf_of[v]];
            } else {
                int src =
                    s->views == 1
                        ? s->in[0]
                        : nd->in[(seqk__mdl_host_i64(p->info[nd->in[0]].cval, 0)
                                      ? 1
                                      : 1 + nd->n_out) +
                                 o];
                if (!p->t[src] && p->info[src].cval &&
                    (st = upload(m, p, src)))
                    goto cleanup;
                base = p->t[src];
            }
            if ((st = alias(m, base, p->info[v].dtype, p->info[v].ndim,
                            p->info[v].dims, &p->t[v])))
                goto cleanup;
            p->own[v] = 1;
        }
    }
    for (int k = 0; k < m->n_keep; k++) {
        int v = m->keep[k];
        if (!p->t[v] && p->info[v].cval && (st = upload(m, p, v)))
            goto cleanup;
    }
    /* the steps' plan objects, and what each step became (the step lines
     * first, then the fusion lines plan.c wrote) */
    fusions = p->text;
    p->text = NULL;
    p->text_len = p->text_cap = 0;
    for (int i = 0; i < ns; i++) {
        mdl_step *s = &p->steps[i];
        const mdl_node *nd = &g->nodes[s->node];
        seqk_tensor *tin[MDL_MAX_NODE_IO] = {NULL},
                    *tout[MDL_MAX_NODE_IO] = {NULL};
        mdl_info in[MDL_MAX_NODE_IO], out[MDL_MAX_NODE_IO];
        char err[MDL_ERR_LEN] = "", kname[64];
        for (int k = 0; k < s->n_in; k++) {
            tin[k] = s->in[k] >= 0 ? p->t[s->in[k]] : NULL;
            in[k] = s->in[k] >= 0 ? p->info[s->in[k]] : (mdl_info){0};
        }
        for (int o = 0; o < s->n_out; o++) {
            tout[o] = s->out[o] >= 0 ? p->t[s->out[o]] : NULL;
            out[o] = s->out[o] >= 0 ? p->info[s->out[o]] : (mdl_info){0};
        }
        if (s->linear) {
            seqk_linear_desc d;
            seqk_linear *lin = NULL;
            int kn = s->layout == SEQK_LINEAR_KN;
            seqk_linear_desc_init(&d, in[1].dims[kn ? 0 : 1],
                                  in[1].dims[kn ? 1 : 0]);
            d.weight_layout = s->layout;
            st = seqk_linear_create(m->ctx, &d, tin[1],
                                    s->in[2] >= 0 ? tin[2] : NULL, &lin);
            s->state = lin;
            s->free_state = linear_free;
        } else if (s->frun) {
            st = s->fprepare ? s->fprepare(m->ctx, s, in, tin, tout)
                             : SEQK_OK;
        } else if (nd->op->prepare && !s->views && !s->is_if) {
            st = nd->op->prepare(m->ctx, nd, in, out, tin, tout, &s->state,
                                 &s->free_state, err);
            if (st && err[0])
                seqk__error(m->ctx, st, "%s", err);
        }
        if (st) {
            char msg[SEQK_ERROR_LEN];
            snprintf(msg, sizeof msg, "%s", seqk_last_error(m->ctx));
            seqk__error(m->ctx, st, "model: node '%s' (%s, opset %d): %s",
                        nd->name, nd->op->name, nd->opset, msg);
            goto cleanup;
        }
        kernel_name(m->ctx,
                    s->linear ? "gemm"
                    : s->frun ? s->kind
                              : nd->op->core_op,
                    kname, sizeof kname);
        char shape[96];
        seqk__dims_str(out[0].ndim, out[0].dims, shape, sizeof shape);
        const char *dev =
            s->views || s->is_if ? "-" : seqk_context_device(m->ctx);
        if (s->views)
            snprintf(kname, sizeof kname, "(no kernel)");
        seqk__log(m->ctx, SEQK_VERBOSE_DISPATCH, "model: step %d: %s '%s'%s%s "
                  "-> %s %s, kernel %s on %s", i, nd->op->name, nd->name,
                  s->fused >= 0 ? " + " : "",
                  s->fused >= 0 ? g->nodes[s->fused].op->name : "", s->kind,
                  shape, kname, dev);
        seqk__mdl_text_add(
            p, "  %3d  %-10s %-24.24s%s%-8s -> %-12s %-14s %s on %s\n", i,
            nd->op->name, nd->name, s->fused >= 0 ? " + " : "",
            s->fused >= 0 ? g->nodes[s->fused].op->name : "", s->kind, shape,
            kname, dev);
    }
    if (fusions) {
        for (const char *l = fusions; *l;) {
            const char *e = strchr(l, '\n');
            int n = e ? (int)(e - l) + 1 : (int)strlen(l);
            seqk__mdl_text_add(p, "%.*s", n, l);
            l += n;
        }
        free(fusions);
        fusions = NULL;
    }
    seqk__mdl_text_add(p,
                       "%d steps, %d fusions, %d buffers of %zu bytes in all\n",
                       ns, p->n_fusions, p->n_buffers, p->buffer_bytes);
    st = SEQK_OK;
cleanup:
    free(fusions);
    free(root);
    free(last);
    free(buf_of);
    free(bufs);
    return st;
}

/* dst <- src (same bytes): inputs from any host tensor or one on ctx. */
static seqk_status tcopy(seqk_context *ctx, seqk_tensor *dst,
                         const seqk_tensor *src)
{
    if (!dst->bytes)
        return SEQK_OK;
    if (src->ctx == ctx && ctx->dev)
        return ctx->dev->copy(ctx, dst->data, src->data, dst->bytes);
    if (!src->ctx->dev && !ctx->dev) {
        memmove(dst->data, src->data, dst->bytes);
        return SEQK_OK;
    }
    if (!src->ctx->dev)
        return seqk_tensor_write(dst, src->data, dst->bytes);
    return seqk__error(ctx, SEQK_ERR_INVALID_ARG, "model: an input tensor "
                       "is on another device context: make inputs on "
                       "seqk_model_context(model)");
}

seqk_status seqk__mdl_plan_run(seqk_model *m, mdl_plan *p,
                         const seqk_tensor *const *inputs)
{
    const mdl_graph *g = &m->g;
    seqk_status st;

    for (int k = 0; k < g->n_inputs; k++)
        if ((st = tcopy(m->ctx, p->t[g->inputs[k]], inputs[k])))
            return st;
    for (int i = 0; i < p->n_steps; i++) {
        const mdl_step *s = &p->steps[i];
        const mdl_node *nd = &g->nodes[s->node];
        const seqk_tensor *tin[MDL_MAX_NODE_IO];
        seqk_tensor *tout[MDL_MAX_NODE_IO];
        if (s->views)
            continue;
        for (int k = 0; k < s->n_in; k++)
            tin[k] = s->in[k] >= 0 ? p->t[s->in[k]] : NULL;
        for (int o = 0; o < s->n_out; o++)
            tout[o] = s->out[o] >= 0 ? p->t[s->out[o]] : NULL;
        if (s->linear) {
            st = seqk_linear_forward(s->state, tin[0], tout[0]);
        } else if (s->frun) {
            st = s->frun(m->ctx, s->state, tin, tout);
        } else if (s->is_if) {
            /* the one host round trip a run may make: the condition */
            uint8_t c[8] = {0};
            const seqk_tensor *ct = tin[0];
            st = ct->bytes <= sizeof c && ct->numel >= 1
                     ? seqk_tensor_read(ct, c, ct->bytes) : SEQK_ERR_SHAPE;
            int take = 0;
            for (size_t b = 0; b < seqk_dtype_size(ct->dtype); b++)
                take |= c[b] != 0;
            for (int o = 0; st == SEQK_OK && o < nd->n_out; o++)
                if (tout[o])
                    st = tcopy(m->ctx, tout[o],
                               tin[(take ? 1 : 1 + nd->n_out) + o]);
        } else {
            mdl_run_args a = {m->ctx, nd, s->state, tin, tout};
            st = nd->op->run(&a);
        }
        if (st) {
            char msg[SEQK_ERROR_LEN];
            snprintf(msg, sizeof msg, "%s", seqk_last_error(m->ctx));
            if (strncmp(msg, "model:", 6) != 0)
                seqk__error(m->ctx, st, "model: node '%s' (%s, opset %d): %s",
                            nd->name, nd->op->name, nd->opset, msg);
            return st;
        }
    }
    return SEQK_OK;
}
