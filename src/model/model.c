/*
 * model.c — the public seqk_model_* functions: load (a file or bytes),
 * the input/output queries, prepare/run through the plan cache, describe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

void seqk_model_options_init(seqk_model_options *opts)
{
    if (opts)
        *opts = (seqk_model_options){.struct_size = sizeof *opts};
}

static seqk_status load(const void *data, size_t size,
                        const seqk_model_options *opts, const char *base_dir,
                        seqk_model **out)
{
    seqk_model_options o;
    seqk_model *m = NULL;
    seqk_status st;

    seqk_model_options_init(&o);
    if (opts) {
        if (opts->struct_size < sizeof(size_t) + sizeof(void *))
            return seqk__error(NULL, SEQK_ERR_INVALID_ARG, "seqk_model_load: "
                               "options.struct_size is too small");
        memcpy(&o, opts, opts->struct_size < sizeof o ? opts->struct_size
                                                      : sizeof o);
    }
    if (!(m = calloc(1, sizeof *m)))
        return seqk__error(NULL, SEQK_ERR_OUT_OF_MEMORY, "model: out of "
                           "memory");
    if (o.context) {
        m->ctx = o.context;
        seqk__context_retain(m->ctx);
    } else {
        seqk_options co;
        seqk_options_init(&co);
        co.device = o.device;
        co.threads = o.threads;
        if ((st = seqk_context_create(&co, &m->ctx)))
            goto fail;
    }
    if ((st = seqk__mdl_load(m, data, size, base_dir)))
        goto fail;
    /* the outputs to keep */
    m->keep = calloc((size_t)m->g.n_outputs + 1, sizeof *m->keep);
    if (!m->keep) {
        st = seqk__error(NULL, SEQK_ERR_OUT_OF_MEMORY, "model: out of memory");
        goto fail;
    }
    if (o.n_outputs > 0 && o.outputs) {
        for (int i = 0; i < o.n_outputs; i++) {
            int found = -1;
            for (int k = 0; k < m->g.n_outputs; k++)
                if (o.outputs[i] &&
                    !strcmp(m->g.values[m->g.outputs[k]].name, o.outputs[i]))
                    found = m->g.outputs[k];
            if (found < 0) {
                st = seqk__error(NULL, SEQK_ERR_INVALID_ARG, "model: options "
                                 "name output '%s', which the model does not "
                                 "have", o.outputs[i] ? o.outputs[i] : "");
                goto fail;
            }
            if (m->n_keep < m->g.n_outputs)
                m->keep[m->n_keep++] = found;
        }
    } else {
        for (int k = 0; k < m->g.n_outputs; k++)
            m->keep[m->n_keep++] = m->g.outputs[k];
    }
    *out = m;
    return SEQK_OK;
fail:
    {
        /* the message lives in the thread's slot: the context goes */
        char msg[SEQK_ERROR_LEN];
        snprintf(msg, sizeof msg, "%s", seqk_last_error(NULL));
        if (!msg[0] && m->ctx)
            snprintf(msg, sizeof msg, "%s", seqk_last_error(m->ctx));
        seqk_model_destroy(m);
        seqk__error(NULL, st, "%s", msg);
    }
    return st;
}

seqk_status seqk_model_load_bytes(const void *data, size_t size,
                                  const seqk_model_options *opts,
                                  seqk_model **model)
{
    seqk__clear_error(NULL);
    if (!model || (!data && size))
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG, "seqk_model_load_bytes:"
                           " model (the output) or data is NULL");
    *model = NULL;
    const char *base = NULL;
    if (opts && opts->struct_size >= offsetof(seqk_model_options, base_dir) +
                                         sizeof(const char *))
        base = opts->base_dir;
    return load(data ? data : "", size, opts, base, model);
}

seqk_status seqk_model_load(const char *path, const seqk_model_options *opts,
                            seqk_model **model)
{
    FILE *f = NULL;
    uint8_t *buf = NULL;
    char dir[4096];
    long len;
    seqk_status st;

    seqk__clear_error(NULL);
    if (!model || !path)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG, "seqk_model_load: "
                           "path or model (the output) is NULL");
    *model = NULL;
    if (!(f = fopen(path, "rb")))
        return seqk__error(NULL, SEQK_ERR_IO, "model: cannot open '%s'", path);
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return seqk__error(NULL, SEQK_ERR_IO, "model: cannot read '%s'", path);
    }
    if ((unsigned long)len > MDL_MAX_FILE_BYTES) {
        fclose(f);
        return seqk__error(NULL, SEQK_ERR_UNSUPPORTED, "model: '%s' is over "
                           "2 GiB (protobuf's limit); keep weights as "
                           "external data", path);
    }
    buf = malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(buf);
        return seqk__error(NULL, buf ? SEQK_ERR_IO : SEQK_ERR_OUT_OF_MEMORY,
                           "model: cannot read '%s'", path);
    }
    fclose(f);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    st = load(buf, (size_t)len, opts, dir, model);
    free(buf);
    return st;
}

seqk_status seqk_model_destroy(seqk_model *m)
{
    if (!m)
        return SEQK_OK;
    for (int i = 0; i < m->n_plans; i++)
        seqk__mdl_plan_free(m, m->plans[i]);
    for (int v = 0; m->uploads && v < m->g.n_values; v++)
        seqk_tensor_destroy(m->uploads[v]);
    free(m->uploads);
    free(m->keep);
    seqk__mdl_unload(m);
    seqk_context_destroy(m->host);
    seqk_context_destroy(m->ctx);
    free(m);
    return SEQK_OK;
}

seqk_context *seqk_model_context(const seqk_model *m)
{
    return m ? m->ctx : NULL;
}

int seqk_model_input_count(const seqk_model *m)
{
    return m ? m->g.n_inputs : -1;
}

int seqk_model_output_count(const seqk_model *m)
{
    return m ? m->n_keep : -1;
}

static seqk_status io_info(const seqk_model *m, int v, seqk_model_io *info)
{
    const mdl_value *x = &m->g.values[v];
    info->name = x->name;
    info->dtype = x->dtype;
    info->ndim = x->ndim;
    for (int d = 0; d < SEQK_MAX_DIMS; d++) {
        info->dims[d] = d < x->ndim ? x->dims[d] : 0;
        info->dim_names[d] = d < x->ndim ? x->dim_names[d] : NULL;
    }
    return SEQK_OK;
}

seqk_status seqk_model_input_info(const seqk_model *m, int i,
                                  seqk_model_io *info)
{
    if (!m || !info || info->struct_size < sizeof *info || i < 0 ||
        i >= m->g.n_inputs)
        return seqk__error(m ? m->ctx : NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_model_input_info: NULL model or info, small "
                           "struct_size, or input %d outside 0..%d", i,
                           m ? m->g.n_inputs - 1 : -1);
    return io_info(m, m->g.inputs[i], info);
}

seqk_status seqk_model_output_info(const seqk_model *m, int i,
                                   seqk_model_io *info)
{
    if (!m || !info || info->struct_size < sizeof *info || i < 0 ||
        i >= m->n_keep)
        return seqk__error(m ? m->ctx : NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_model_output_info: NULL model or info, "
                           "small struct_size, or output %d outside 0..%d",
                           i, m ? m->n_keep - 1 : -1);
    return io_info(m, m->keep[i], info);
}

/* Maps (names, n) onto the model's input order: slot[k] = caller index. */
static seqk_status map_inputs(seqk_model *m, const char *fn, int n,
                              const char *const *names, int *slot)
{
    if (n != m->g.n_inputs)
        return seqk__error(m->ctx, SEQK_ERR_INVALID_ARG, "%s: %d inputs "
                           "given, the model has %d", fn, n, m->g.n_inputs);
    for (int k = 0; k < n; k++)
        slot[k] = names ? -1 : k;
    for (int i = 0; names && i < n; i++) {
        int found = -1;
        for (int k = 0; k < n; k++)
            if (names[i] && !strcmp(m->g.values[m->g.inputs[k]].name, names[i]))
                found = k;
        if (found < 0 || slot[found] >= 0)
            return seqk__error(m->ctx, SEQK_ERR_INVALID_ARG, "%s: '%s' is not "
                               "an input of the model (or is given twice)",
                               fn, names[i] ? names[i] : "(null)");
        slot[found] = i;
    }
    return SEQK_OK;
}

seqk_status seqk_model_prepare(seqk_model *m, int n_in,
                               const char *const *in_names, const int *ndims,
                               const int64_t *const *dims)
{
    int slot[64], nd[64];
    int64_t d[64][SEQK_MAX_DIMS];
    mdl_plan *p;
    seqk_status st;

    if (!m)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG, "seqk_model_prepare: "
                           "model is NULL");
    seqk__clear_error(m->ctx);
    if ((st = map_inputs(m, "seqk_model_prepare", n_in, in_names, slot)))
        return st;
    if (n_in && (!ndims || !dims))
        return seqk__error(m->ctx, SEQK_ERR_INVALID_ARG, "seqk_model_prepare:"
                           " ndims or dims is NULL");
    memset(d, 0, sizeof d);
    for (int k = 0; k < n_in; k++) {
        int i = slot[k];
        if (ndims[i] < 0 || ndims[i] > SEQK_MAX_DIMS ||
            (ndims[i] && !dims[i]))
            return seqk__error(m->ctx, SEQK_ERR_SHAPE, "seqk_model_prepare: "
                               "input %d has a bad rank or NULL dims", i);
        nd[k] = ndims[i];
        for (int j = 0; j < nd[k]; j++)
            if ((d[k][j] = dims[i][j]) < 0)
                return seqk__error(m->ctx, SEQK_ERR_SHAPE, "seqk_model_"
                                   "prepare: input %d has a negative dim", i);
    }
    return seqk__mdl_plan_get(m, nd, (const int64_t (*)[SEQK_MAX_DIMS])d, &p);
}

seqk_status seqk_model_run(seqk_model *m, int n_in,
                           const char *const *in_names,
                           const seqk_tensor *const *inputs, int n_out,
                           const char *const *out_names,
                           seqk_tensor **outputs)
{
    int slot[64], nd[64];
    int64_t d[64][SEQK_MAX_DIMS];
    const seqk_tensor *ordered[64];
    mdl_plan *p;
    seqk_status st;

    if (!m)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG, "seqk_model_run: "
                           "model is NULL");
    seqk__clear_error(m->ctx);
    if ((st = map_inputs(m, "seqk_model_run", n_in, in_names, slot)))
        return st;
    if (n_in && !inputs)
        return seqk__error(m->ctx, SEQK_ERR_INVALID_ARG, "seqk_model_run: "
                           "inputs is NULL");
    if (n_out < 0 || n_out > (out_names ? 1 << 20 : m->n_keep) ||
        (n_out && !outputs))
        return seqk__error(m->ctx, SEQK_ERR_INVALID_ARG, "seqk_model_run: "
                           "%d outputs asked, the model computes %d (or "
                           "outputs is NULL)", n_out, m->n_keep);
    for (int k = 0; k < n_in; k++) {
        const seqk_tensor *t = inputs[slot[k]];
        const mdl_value *v = &m->g.values[m->g.inputs[k]];
        if (!t)
            return seqk__error(m->ctx, SEQK_ERR_INVALID_ARG, "seqk_model_run:"
                               " input '%s' is NULL", v->name);
        if (v->dtype && t->dtype != v->dtype)
            return seqk__error(m->ctx, SEQK_ERR_DTYPE, "seqk_model_run: input "
                               "'%s' is %s but the model declares %s", v->name,
                               seqk__mdl_dtype_name(t->dtype),
                               seqk__mdl_dtype_name(v->dtype));
        ordered[k] = t;
        nd[k] = t->ndim;
        memcpy(d[k], t->dims, sizeof d[k]);
    }
    /* the outputs asked for, before anything runs */
    int which[64];
    for (int i = 0; i < n_out; i++) {
        which[i % 64] = -1;
        if (i >= 64)
            return seqk__error(m->ctx, SEQK_ERR_INVALID_ARG, "seqk_model_run:"
                               " more than 64 outputs");
        for (int k = 0; k < m->n_keep; k++)
            if (out_names ? (out_names[i] &&
                             !strcmp(m->g.values[m->keep[k]].name,
                                     out_names[i]))
                          : k == i)
                which[i] = m->keep[k];
        if (which[i] < 0)
            return seqk__error(m->ctx, SEQK_ERR_INVALID_ARG, "seqk_model_run: "
                               "'%s' is not an output the model computes",
                               out_names && out_names[i] ? out_names[i] : "");
    }
    if ((st = seqk__mdl_plan_get(m, nd, (const int64_t(*)[SEQK_MAX_DIMS])d,
                                 &p)) ||
        (st = seqk__mdl_plan_run(m, p, ordered)))
        return st;
    for (int i = 0; i < n_out; i++)
        outputs[i] = p->t[which[i]];
    return SEQK_OK;
}

size_t seqk_model_describe(seqk_model *m, char *buf, size_t len)
{
    char *text = NULL;
    size_t n = 0, cap = 0;
    int counts[64] = {0};
    const mdl_op *const *rows = seqk__mdl_op_table();
#define ADD(...)                                                            \
    do {                                                                    \
        char line_[512];                                                    \
        int k_ = snprintf(line_, sizeof line_, __VA_ARGS__);                \
        if (k_ < 0) break;                                                  \
        if ((size_t)k_ >= sizeof line_) k_ = sizeof line_ - 1;              \
        if (n + (size_t)k_ + 1 > cap) {                                     \
            size_t c_ = (cap + (size_t)k_ + 1) * 2;                         \
            char *t_ = realloc(text, c_);                                   \
            if (!t_) break;                                                 \
            text = t_;                                                      \
            cap = c_;                                                       \
        }                                                                   \
        memcpy(text + n, line_, (size_t)k_ + 1);                            \
        n += (size_t)k_;                                                    \
    } while (0)

    if (!m) {
        if (buf && len)
            buf[0] = '\0';
        return 0;
    }
    ADD("opset %d, %d nodes, %d values, device %s\n", m->opset, m->g.n_nodes,
        m->g.n_values, seqk_context_device(m->ctx));
    for (int pass = 0; pass < 2; pass++) {
        int cnt = pass ? m->n_keep : m->g.n_inputs;
        for (int i = 0; i < cnt; i++) {
            const mdl_value *v = &m->g.values[pass ? m->keep[i]
                                                   : m->g.inputs[i]];
            char dims[256] = "?";
            size_t o = 0;
            if (v->ndim >= 0) {
                o += (size_t)snprintf(dims, sizeof dims, "[");
                for (int d = 0; d < v->ndim && o < sizeof dims - 40; d++) {
                    if (v->dims[d] >= 0)
                        o += (size_t)snprintf(dims + o, sizeof dims - o,
                                              "%s%lld", d ? "," : "",
                                              (long long)v->dims[d]);
                    else
                        o += (size_t)snprintf(dims + o, sizeof dims - o,
                                              "%s%.24s", d ? "," : "",
                                              v->dim_names[d] ? v->dim_names[d]
                                                              : "?");
                }
                snprintf(dims + o, sizeof dims - o, "]");
            }
            ADD("%s %-20s %-8s %s\n", pass ? "output" : "input ", v->name,
                v->dtype ? seqk__mdl_dtype_name(v->dtype) : "?", dims);
        }
    }
    for (int i = 0; i < m->g.n_nodes; i++)
        for (int r = 0; rows[r] && r < 64; r++)
            if (rows[r] == m->g.nodes[i].op)
                counts[r]++;
    ADD("ops:");
    for (int r = 0; rows[r] && r < 64; r++)
        if (counts[r])
            ADD(" %s x%d", rows[r]->name, counts[r]);
    ADD("\n");
    if (m->last)
        ADD("plan (%d of %d cached):\n", m->n_plans, MDL_MAX_PLANS);
    if (m->last && m->last->text) {
        const char *l = m->last->text;
        while (*l) {
            const char *e = strchr(l, '\n');
            int k = e ? (int)(e - l) + 1 : (int)strlen(l);
            ADD("%.*s", k, l);
            l += k;
        }
    }
#undef ADD
    if (buf && len) {
        size_t c = n < len - 1 ? n : len - 1;
        if (text)
            memcpy(buf, text, c);
        buf[c] = '\0';
    }
    free(text);
    return n;
}

size_t seqk__model_alloc_count(const seqk_model *m)
{
    return m ? m->n_allocs : 0;
}
