/*
 * graph.c — the model's graph: values and nodes in growable arrays, a
 * name table (open addressing over value ids), Kahn's topological order,
 * and host tensors.
 */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

mdl_host *seqk__mdl_host_new(seqk_dtype dtype, int ndim, const int64_t *dims)
{
    int64_t numel = 1;
    size_t es = seqk_dtype_size(dtype);
    mdl_host *h;

    if (ndim < 0 || ndim > SEQK_MAX_DIMS || !es)
        return NULL;
    for (int i = 0; i < ndim; i++)
        if (dims[i] < 0 || seqk__mul_i64(numel, dims[i], &numel))
            return NULL;
    if ((uint64_t)numel > MDL_MAX_FOLD_BYTES * 8 / es)
        return NULL;
    h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->dtype = dtype;
    h->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        h->dims[i] = dims[i];
    h->numel = numel;
    h->bytes = (size_t)numel * es;
    /* 64-byte aligned so seqk_tensor_wrap takes it for every dtype */
    h->data = seqk__aligned_alloc(h->bytes);
    if (!h->data) {
        free(h);
        return NULL;
    }
    memset(h->data, 0, h->bytes);
    return h;
}

void seqk__mdl_host_free(mdl_host *h)
{
    if (!h)
        return;
    seqk__aligned_free(h->data);
    free(h);
}

int64_t seqk__mdl_host_i64(const mdl_host *h, int64_t i)
{
    switch (h->dtype) {
    case SEQK_I64: return ((const int64_t *)h->data)[i];
    case SEQK_I32: return ((const int32_t *)h->data)[i];
    case SEQK_BOOL: return ((const uint8_t *)h->data)[i] != 0;
    case SEQK_F32: {
        float f = ((const float *)h->data)[i];
        /* saturate: casting an out-of-range float is undefined */
        if (!(f == f))
            return 0;
        if (f >= 9.2e18f)
            return INT64_MAX;
        if (f <= -9.2e18f)
            return INT64_MIN;
        return (int64_t)f;
    }
    case SEQK_BF16: break; /* weights only: never a host tensor's dtype */
    }
    return 0;
}

double seqk__mdl_host_f64(const mdl_host *h, int64_t i)
{
    if (h->dtype == SEQK_F32)
        return ((const float *)h->data)[i];
    return (double)seqk__mdl_host_i64(h, i);
}

static uint64_t hash_str(const char *s)
{
    uint64_t x = 1469598103934665603ull;  /* FNV-1a */
    for (; *s; s++)
        x = (x ^ (unsigned char)*s) * 1099511628211ull;
    return x;
}

int seqk__mdl_graph_find(const mdl_graph *g, const char *name)
{
    if (!g->table_cap || !name)
        return -1;
    size_t mask = g->table_cap - 1, i = hash_str(name) & mask;
    for (; g->table[i] >= 0; i = (i + 1) & mask)
        if (strcmp(g->values[g->table[i]].name, name) == 0)
            return g->table[i];
    return -1;
}

static int table_put(mdl_graph *g, int id)
{
    if (2 * ((size_t)g->n_values + 1) > g->table_cap) {
        size_t cap = g->table_cap ? g->table_cap * 2 : 256;
        int *t = malloc(cap * sizeof *t);
        if (!t)
            return -1;
        for (size_t i = 0; i < cap; i++)
            t[i] = -1;
        for (size_t i = 0; i < g->table_cap; i++) {
            if (g->table[i] < 0)
                continue;
            size_t j = hash_str(g->values[g->table[i]].name) & (cap - 1);
            while (t[j] >= 0)
                j = (j + 1) & (cap - 1);
            t[j] = g->table[i];
        }
        free(g->table);
        g->table = t;
        g->table_cap = cap;
    }
    size_t mask = g->table_cap - 1, i = hash_str(g->values[id].name) & mask;
    while (g->table[i] >= 0) {
        /* the first value of a name wins lookups */
        if (strcmp(g->values[g->table[i]].name, g->values[id].name) == 0)
            return 0;
        i = (i + 1) & mask;
    }
    g->table[i] = id;
    return 0;
}

int seqk__mdl_graph_add_value(mdl_graph *g, const char *name)
{
    if (g->n_values >= MDL_MAX_VALUES)
        return -1;
    if (g->n_values == g->cap_values) {
        int cap = g->cap_values ? g->cap_values * 2 : 64;
        mdl_value *v = realloc(g->values, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        g->values = v;
        g->cap_values = cap;
    }
    mdl_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = strdup(name ? name : "");
    if (!v->name)
        return -1;
    v->ndim = -1;
    v->producer = -1;
    int id = g->n_values++;
    if (table_put(g, id) < 0) {
        free(v->name);
        g->n_values--;
        return -1;
    }
    return id;
}

seqk_status seqk__mdl_graph_add_node(mdl_graph *g, mdl_node **node)
{
    if (g->n_nodes >= MDL_MAX_NODES)
        return SEQK_ERR_OVERFLOW;
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
        mdl_node *n = realloc(g->nodes, (size_t)cap * sizeof *n);
        if (!n)
            return SEQK_ERR_OUT_OF_MEMORY;
        g->nodes = n;
        g->cap_nodes = cap;
    }
    *node = &g->nodes[g->n_nodes++];
    memset(*node, 0, sizeof **node);
    return SEQK_OK;
}

seqk_status seqk__mdl_graph_sort(mdl_graph *g)
{
    seqk_status st = SEQK_ERR_OUT_OF_MEMORY;
    int n = g->n_nodes, head = 0, tail = 0;
    int *indeg = calloc((size_t)n + 1, sizeof *indeg);
    /* consumers as a CSR list: value -> nodes reading it */
    int *start = calloc((size_t)g->n_values + 1, sizeof *start);
    int *cons = NULL, *fill = NULL;
    size_t n_edges = 0;

    free(g->order);
    g->order = malloc(((size_t)n + 1) * sizeof *g->order);
    if (!indeg || !start || !g->order)
        goto cleanup;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++) {
            int v = g->nodes[i].in[k];
            if (v >= 0 && g->values[v].producer >= 0) {
                indeg[i]++;
                start[v + 1]++;
                n_edges++;
            }
        }
    for (int v = 0; v < g->n_values; v++)
        start[v + 1] += start[v];
    cons = malloc((n_edges + 1) * sizeof *cons);
    fill = calloc((size_t)g->n_values + 1, sizeof *fill);
    if (!cons || !fill)
        goto cleanup;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++) {
            int v = g->nodes[i].in[k];
            if (v >= 0 && g->values[v].producer >= 0)
                cons[start[v] + fill[v]++] = i;
        }
    for (int i = 0; i < n; i++)
        if (indeg[i] == 0)
            g->order[tail++] = i;
    while (head < tail) {
        const mdl_node *nd = &g->nodes[g->order[head++]];
        for (int k = 0; k < nd->n_out; k++) {
            int v = nd->out[k];
            if (v < 0)
                continue;
            for (int e = start[v]; e < start[v + 1]; e++)
                if (--indeg[cons[e]] == 0)
                    g->order[tail++] = cons[e];
        }
    }
    if (tail != n) {
        for (int i = 0; i < n; i++)
            if (indeg[i] > 0) {
                st = seqk__error(NULL, SEQK_ERR_FORMAT,
                                 "model: node '%s' (%s) is on a cycle: a "
                                 "graph must be acyclic",
                                 g->nodes[i].name, g->nodes[i].op->name);
                break;
            }
        goto cleanup;
    }
    st = SEQK_OK;
cleanup:
    free(indeg);
    free(start);
    free(cons);
    free(fill);
    return st;
}

void seqk__mdl_graph_free(mdl_graph *g)
{
    for (int i = 0; i < g->n_values; i++) {
        free(g->values[i].name);
        for (int d = 0; d < SEQK_MAX_DIMS; d++)
            free(g->values[i].dim_names[d]);
        seqk__mdl_host_free(g->values[i].data);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        free(g->nodes[i].name);
        free(g->nodes[i].attrs);
    }
    free(g->values);
    free(g->nodes);
    free(g->order);
    free(g->inputs);
    free(g->outputs);
    free(g->table);
    memset(g, 0, sizeof *g);
}
