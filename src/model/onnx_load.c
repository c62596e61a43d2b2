/*
 * onnx_load.c — ModelProto (protobuf-c, generated from onnx.proto) into
 * the graph of model.h.
 *
 *   opset      the default domain's ("" / "ai.onnx") import, 7..23
 *   tensors    FLOAT, INT64, INT32, BOOL as they are; DOUBLE and FLOAT16
 *              to float32, INT8/UINT8/INT16/UINT16 to int32, at load
 *   external   data_location EXTERNAL: "location" relative to the model's
 *              folder, no "..", no absolute path, and the resolved file
 *              (symlinks followed) still inside that folder
 *   Constant   its value becomes the output's data (no node)
 *   If         both branches inlined (names prefixed "<if>/then/",
 *              "<if>/else/"), then one If node selecting between them:
 *              the planner folds it when the condition is known
 *   Loop/Scan  refused
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "onnx.pb-c.h"

extern const mdl_op seqk__mdl_op_if;

/* Names of a subgraph resolve to its own values first, then outward. */
typedef struct scope {
    const struct scope *parent;
    char **names;
    int *ids;
    int n, cap;
    const char *prefix;
} scope;

static int scope_find(const mdl_graph *g, const scope *s, const char *name)
{
    for (; s; s = s->parent)
        for (int i = s->n - 1; i >= 0; i--)
            if (strcmp(s->names[i], name) == 0)
                return s->ids[i];
    return seqk__mdl_graph_find(g, name);
}

/* A new value for `name` in scope s (top level: s == NULL). */
static int scope_add(mdl_graph *g, scope *s, const char *name)
{
    char buf[512];
    if (!s)
        return seqk__mdl_graph_add_value(g, name);
    snprintf(buf, sizeof buf, "%s%s", s->prefix, name);
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        char **nn = realloc(s->names, (size_t)cap * sizeof *nn);
        if (!nn)
            return -1;
        s->names = nn;
        int *ii = realloc(s->ids, (size_t)cap * sizeof *ii);
        if (!ii)
            return -1;
        s->ids = ii;
        s->cap = cap;
    }
    int id = seqk__mdl_graph_add_value(g, buf);
    if (id < 0)
        return -1;
    s->names[s->n] = g->values[id].name + strlen(s->prefix);
    s->ids[s->n++] = id;
    return id;
}

/* A value `name` declared ahead (build_graph) and not produced yet, or a
 * new one: node outputs may be read by nodes listed before them (the
 * sort then finds the order, or the cycle). */
static int scope_output(mdl_graph *g, scope *s, const char *name)
{
    int id = -1;
    if (s) {
        for (int i = s->n - 1; i >= 0 && id < 0; i--)
            if (strcmp(s->names[i], name) == 0)
                id = s->ids[i];
    } else {
        id = seqk__mdl_graph_find(g, name);
    }
    if (id >= 0 && g->values[id].producer == -2)
        return id;
    return scope_add(g, s, name);
}

static void scope_free(scope *s)
{
    free(s->names);
    free(s->ids);
}

static seqk_dtype dtype_from_onnx(int32_t t, int *convert)
{
    *convert = 0;
    switch (t) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return SEQK_F32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return SEQK_I64;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return SEQK_I32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return SEQK_BOOL;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
        *convert = 1;
        return SEQK_F32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
        *convert = 1;
        return SEQK_I32;
    }
    return (seqk_dtype)0;
}

static const char *onnx_type_name(int32_t t)
{
    static const char *names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8",
        "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL", "FLOAT16",
        "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128",
        "BFLOAT16"};
    return t >= 0 && t < (int32_t)(sizeof names / sizeof *names)
               ? names[t] : "an unknown type";
}

static float half_to_float(uint16_t h)
{
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, f = h & 1023;
    uint32_t bits;
    float out;
    if (e == 0) {
        if (f == 0) {
            bits = s;
        } else { /* subnormal: renormalize */
            e = 113;
            while (!(f & 1024)) {
                f <<= 1;
                e--;
            }
            bits = s | (e << 23) | ((f & 1023) << 13);
        }
    } else if (e == 31) {
        bits = s | 0x7f800000u | (f << 13);
    } else {
        bits = s | ((e + 112) << 23) | (f << 13);
    }
    memcpy(&out, &bits, 4);
    return out;
}

/* The file `location` inside base_dir, read at [offset, offset+len). */
static seqk_status read_external(const char *base_dir, const char *location,
                                 int64_t offset, size_t len, void *dst,
                                 char *err)
{
    char path[PATH_MAX], real_base[PATH_MAX], real[PATH_MAX];
    FILE *f = NULL;
    seqk_status st = SEQK_ERR_IO;

    if (!base_dir) {
        snprintf(err, MDL_ERR_LEN, "external data '%s' but the model was "
                 "loaded from bytes without options.base_dir", location);
        return SEQK_ERR_UNSUPPORTED;
    }
    if (location[0] == '/' || location[0] == '\\' || strstr(location, "..") ||
        strchr(location, ':')) {
        snprintf(err, MDL_ERR_LEN, "external data location '%s' is absolute "
                 "or climbs out of the model's folder ('..'): refused",
                 location);
        return SEQK_ERR_INVALID_ARG;
    }
    if (snprintf(path, sizeof path, "%s/%s", base_dir, location) >=
            (int)sizeof path || !realpath(base_dir, real_base)) {
        snprintf(err, MDL_ERR_LEN, "external data '%s': bad model folder",
                 location);
        return SEQK_ERR_IO;
    }
    if (!realpath(path, real)) {
        snprintf(err, MDL_ERR_LEN, "external data file '%.150s': %s", path,
                 strerror(errno));
        return SEQK_ERR_IO;
    }
    size_t bl = strlen(real_base);
    if (strncmp(real, real_base, bl) != 0 || (real[bl] != '/' &&
                                              strcmp(real_base, "/") != 0)) {
        snprintf(err, MDL_ERR_LEN,
                 "external data '%.60s' resolves to '%.100s', "
                 "outside the model's folder: refused",
                 location, real);
        return SEQK_ERR_INVALID_ARG;
    }
    f = fopen(real, "rb");
    if (!f) {
        snprintf(err, MDL_ERR_LEN, "external data file '%.150s': %s", real,
                 strerror(errno));
        return SEQK_ERR_IO;
    }
    if (offset < 0 || fseeko(f, (off_t)offset, SEEK_SET) != 0 ||
        fread(dst, 1, len, f) != len) {
        snprintf(err, MDL_ERR_LEN, "external data file '%.150s' has no %zu "
                 "bytes at offset %lld", real, len, (long long)offset);
        st = SEQK_ERR_FORMAT;
        goto cleanup;
    }
    st = SEQK_OK;
cleanup:
    fclose(f);
    return st;
}

/* TensorProto -> host tensor (converted to seqk dtypes). */
static seqk_status tensor_from_proto(const Onnx__TensorProto *tp,
                                     const char *base_dir, mdl_host **out,
                                     char *err)
{
    int convert;
    seqk_dtype dt = dtype_from_onnx(tp->data_type, &convert);
    int64_t dims[SEQK_MAX_DIMS];
    mdl_host *h = NULL;
    void *raw = NULL;
    seqk_status st = SEQK_ERR_FORMAT;
    size_t src_es;

    *out = NULL;
    if (!dt) {
        snprintf(err, MDL_ERR_LEN, "tensor '%s' has data type %s: seqk "
                 "takes float, float16, double, int8..int64 and bool",
                 tp->name ? tp->name : "", onnx_type_name(tp->data_type));
        return SEQK_ERR_UNSUPPORTED;
    }
    if (tp->n_dims > SEQK_MAX_DIMS) {
        snprintf(err, MDL_ERR_LEN, "tensor '%s' has %zu dims (at most %d)",
                 tp->name, tp->n_dims, SEQK_MAX_DIMS);
        return SEQK_ERR_SHAPE;
    }
    int64_t numel = 1;
    for (size_t i = 0; i < tp->n_dims; i++) {
        dims[i] = tp->dims[i];
        if (dims[i] < 0 || seqk__mul_i64(numel, dims[i], &numel))
            numel = -1; /* host_new reports it */
    }
    switch (tp->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: src_es = 8; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: src_es = 4; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: src_es = 2; break;
    default: src_es = 1;
    }
    /* inline data must be all there before the tensor is allocated: a
     * few bytes of model must not claim gigabytes (fuzz_onnx_load) */
    const int external =
        tp->has_data_location &&
        tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (numel >= 0 && !external) {
        size_t have = tp->has_raw_data ? tp->raw_data.len / src_es
                      : tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
                          ? tp->n_float_data
                      : tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE
                          ? tp->n_double_data
                      : tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64
                          ? tp->n_int64_data
                          : tp->n_int32_data;
        if (have != (uint64_t)numel ||
            (tp->has_raw_data && tp->raw_data.len % src_es)) {
            snprintf(err, MDL_ERR_LEN, "tensor '%s' has %zu values but its "
                     "dims need %lld (truncated?)", tp->name, have,
                     (long long)numel);
            return SEQK_ERR_FORMAT;
        }
    }
    h = seqk__mdl_host_new(dt, (int)tp->n_dims, dims);
    if (!h) {
        snprintf(err, MDL_ERR_LEN, "tensor '%s': bad or too large dims "
                 "(product overflows or exceeds %zu MB)", tp->name,
                 MDL_MAX_FOLD_BYTES * 8 >> 20);
        return SEQK_ERR_OVERFLOW;
    }
    size_t want = (size_t)h->numel * src_es;
    const uint8_t *bytes = NULL;
    if (external) {
        const char *loc = NULL;
        int64_t off = 0, len = -1;
        for (size_t i = 0; i < tp->n_external_data; i++) {
            const Onnx__StringStringEntryProto *e = tp->external_data[i];
            if (!e->key || !e->value)
                continue;
            if (!strcmp(e->key, "location"))
                loc = e->value;
            else if (!strcmp(e->key, "offset"))
                off = strtoll(e->value, NULL, 10);
            else if (!strcmp(e->key, "length"))
                len = strtoll(e->value, NULL, 10);
        }
        if (!loc) {
            snprintf(err, MDL_ERR_LEN, "tensor '%s': external data without "
                     "a location", tp->name);
            goto cleanup;
        }
        if (len >= 0 && (uint64_t)len != want) {
            snprintf(err, MDL_ERR_LEN, "tensor '%s': external length %lld "
                     "but its dims need %zu bytes", tp->name, (long long)len,
                     want);
            goto cleanup;
        }
        raw = malloc(want ? want : 1);
        if (!raw) {
            st = SEQK_ERR_OUT_OF_MEMORY;
            snprintf(err, MDL_ERR_LEN, "tensor '%s': out of memory", tp->name);
            goto cleanup;
        }
        st = read_external(base_dir, loc, off, want, raw, err);
        if (st != SEQK_OK)
            goto cleanup;
        st = SEQK_ERR_FORMAT;
        bytes = raw;
    } else if (tp->has_raw_data) {
        bytes = tp->raw_data.data; /* its length checked above */
    }
    int64_t n = h->numel;
    if (bytes) {
        for (int64_t i = 0; i < n; i++) {
            const uint8_t *p = bytes + (size_t)i * src_es;
            switch (tp->data_type) {
            case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: {
                double d;
                memcpy(&d, p, 8);
                ((float *)h->data)[i] = (float)d;
                break;
            }
            case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: {
                uint16_t u;
                memcpy(&u, p, 2);
                ((float *)h->data)[i] = half_to_float(u);
                break;
            }
            case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: {
                int16_t u;
                memcpy(&u, p, 2);
                ((int32_t *)h->data)[i] = u;
                break;
            }
            case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: {
                uint16_t u;
                memcpy(&u, p, 2);
                ((int32_t *)h->data)[i] = u;
                break;
            }
            case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
                ((int32_t *)h->data)[i] = (int8_t)*p;
                break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
                ((int32_t *)h->data)[i] = *p;
                break;
            case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
                ((uint8_t *)h->data)[i] = *p != 0;
                break;
            default:
                memcpy((uint8_t *)h->data + (size_t)i * src_es, p, src_es);
            }
        }
        st = SEQK_OK;
        goto cleanup;
    }
    /* typed fields (their count checked above) */
    for (int64_t i = 0; i < n; i++) {
        switch (tp->data_type) {
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
            ((float *)h->data)[i] = tp->float_data[i];
            break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
            ((float *)h->data)[i] = (float)tp->double_data[i];
            break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
            ((int64_t *)h->data)[i] = tp->int64_data[i];
            break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
            ((float *)h->data)[i] = half_to_float((uint16_t)tp->int32_data[i]);
            break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
            ((uint8_t *)h->data)[i] = tp->int32_data[i] != 0;
            break;
        default:
            ((int32_t *)h->data)[i] = tp->int32_data[i];
        }
    }
    st = SEQK_OK;
cleanup:
    free(raw);
    if (st == SEQK_OK)
        *out = h;
    else
        seqk__mdl_host_free(h);
    return st;
}

/* Declared type and shape of a graph input/output. */
static seqk_status value_info(mdl_graph *g, int id,
                              const Onnx__ValueInfoProto *vi, char *err)
{
    mdl_value *v = &g->values[id];
    const Onnx__TypeProto *tp = vi->type;
    int convert;

    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !tp->tensor_type) {
        snprintf(err, MDL_ERR_LEN, "'%s' is not a tensor (sequences, maps "
                 "and optionals are not supported)", vi->name);
        return SEQK_ERR_UNSUPPORTED;
    }
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type && tt->elem_type) {
        v->dtype = dtype_from_onnx(tt->elem_type, &convert);
        if (!v->dtype || convert) {
            snprintf(err, MDL_ERR_LEN, "'%s' has element type %s: seqk "
                     "inputs and outputs are float, int64, int32 or bool",
                     vi->name, onnx_type_name(tt->elem_type));
            return SEQK_ERR_UNSUPPORTED;
        }
    }
    if (tt->shape) {
        if (tt->shape->n_dim > SEQK_MAX_DIMS) {
            snprintf(err, MDL_ERR_LEN, "'%s' has %zu dims (at most %d)",
                     vi->name, tt->shape->n_dim, SEQK_MAX_DIMS);
            return SEQK_ERR_SHAPE;
        }
        /* an output listed twice is described twice: drop the old names */
        for (int i = 0; i < SEQK_MAX_DIMS; i++) {
            free(v->dim_names[i]);
            v->dim_names[i] = NULL;
        }
        v->ndim = (int)tt->shape->n_dim;
        for (int i = 0; i < v->ndim; i++) {
            const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
            v->dims[i] = -1;
            if (d->value_case ==
                    ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                d->dim_value >= 0)
                v->dims[i] = d->dim_value;
            else if (d->value_case ==
                         ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                     d->dim_param && !(v->dim_names[i] = strdup(d->dim_param)))
                return SEQK_ERR_OUT_OF_MEMORY;
        }
    }
    return SEQK_OK;
}

static seqk_status constant_value(const Onnx__NodeProto *np,
                                  const char *base_dir, mdl_host **out,
                                  char *err)
{
    int64_t one = 1;
    *out = NULL;
    for (size_t i = 0; i < np->n_attribute; i++) {
        const Onnx__AttributeProto *a = np->attribute[i];
        const char *nm = a->name ? a->name : "";
        mdl_host *h = NULL;
        if (!strcmp(nm, "value") && a->t)
            return tensor_from_proto(a->t, base_dir, out, err);
        if (!strcmp(nm, "value_float") &&
            (h = seqk__mdl_host_new(SEQK_F32, 0, NULL)))
            *(float *)h->data = a->f;
        else if (!strcmp(nm, "value_int") &&
                 (h = seqk__mdl_host_new(SEQK_I64, 0, NULL)))
            *(int64_t *)h->data = a->i;
        else if (!strcmp(nm, "value_floats") &&
                 (one = (int64_t)a->n_floats,
                  h = seqk__mdl_host_new(SEQK_F32, 1, &one))) {
            if (a->n_floats) /* an empty list's pointer may be NULL */
                memcpy(h->data, a->floats, a->n_floats * sizeof(float));
        }
        else if (!strcmp(nm, "value_ints") &&
                 (one = (int64_t)a->n_ints,
                  h = seqk__mdl_host_new(SEQK_I64, 1, &one))) {
            if (a->n_ints)
                memcpy(h->data, a->ints, a->n_ints * sizeof(int64_t));
        }
        else
            continue;
        *out = h;
        return SEQK_OK;
    }
    snprintf(err, MDL_ERR_LEN, "no value attribute seqk can read "
             "(value, value_float(s), value_int(s))");
    return SEQK_ERR_UNSUPPORTED;
}

static seqk_status build_graph(seqk_model *m, const Onnx__GraphProto *gp,
                               scope *sc, const char *base_dir, int depth,
                               int *outs, size_t n_outs);

static seqk_status node_error(const Onnx__NodeProto *np, int opset,
                              seqk_status st, const char *what)
{
    return seqk__error(NULL, st, "model: node '%s' (%s, opset %d): %s",
                       np->name && *np->name ? np->name : "(unnamed)",
                       np->op_type ? np->op_type : "?", opset, what);
}

static seqk_status add_node(seqk_model *m, const Onnx__NodeProto *np,
                            scope *sc, const char *base_dir, int depth)
{
    mdl_graph *g = &m->g;
    char err[MDL_ERR_LEN] = "";
    const char *type = np->op_type ? np->op_type : "";
    mdl_node *nd = NULL;
    seqk_status st;
    int bad_opset = 0, then_out[MDL_MAX_NODE_IO], else_out[MDL_MAX_NODE_IO];
    const mdl_op *op;

    if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx") != 0) {
        snprintf(err, sizeof err, "domain '%s' is not supported (only the "
                 "default ONNX domain)", np->domain);
        return node_error(np, m->opset, SEQK_ERR_UNSUPPORTED, err);
    }
    if (np->n_input > MDL_MAX_NODE_IO || np->n_output > MDL_MAX_NODE_IO ||
        np->n_output < 1)
        return node_error(np, m->opset, SEQK_ERR_FORMAT,
                          "0 outputs or more than 64 inputs or outputs");
    if (!strcmp(type, "Constant")) {
        mdl_host *h;
        st = constant_value(np, base_dir, &h, err);
        if (st != SEQK_OK)
            return node_error(np, m->opset, st, err);
        int id = np->output[0] && *np->output[0]
                     ? scope_output(g, sc, np->output[0]) : -1;
        if (id < 0) {
            seqk__mdl_host_free(h);
            return node_error(np, m->opset, SEQK_ERR_OUT_OF_MEMORY,
                              "out of memory, or no output name");
        }
        seqk__mdl_host_free(g->values[id].data);
        g->values[id].data = h;
        g->values[id].dtype = h->dtype;
        g->values[id].producer = -1; /* made: a repeated name is a new value */
        return SEQK_OK;
    }
    if (!strcmp(type, "Loop") || !strcmp(type, "Scan"))
        return node_error(np, m->opset, SEQK_ERR_UNSUPPORTED,
                          "control flow Loop/Scan is not supported (only If)");
    op = !strcmp(type, "If") ? &seqk__mdl_op_if
                             : seqk__mdl_op_find(type, m->opset, &bad_opset);
    if (!op) {
        if (bad_opset)
            snprintf(err, sizeof err, "seqk implements %s only for other "
                     "opsets", type);
        else
            snprintf(err, sizeof err, "no seqk op implements %s", type);
        return node_error(np, m->opset, SEQK_ERR_UNSUPPORTED, err);
    }
    int n_extra = 0;
    if (op == &seqk__mdl_op_if) {
        const Onnx__GraphProto *br[2] = {NULL, NULL};
        if (depth >= MDL_MAX_IF_DEPTH)
            return node_error(np, m->opset, SEQK_ERR_UNSUPPORTED,
                              "If nested deeper than 8");
        for (size_t i = 0; i < np->n_attribute; i++) {
            const Onnx__AttributeProto *a = np->attribute[i];
            if (a->name && !strcmp(a->name, "then_branch"))
                br[0] = a->g;
            else if (a->name && !strcmp(a->name, "else_branch"))
                br[1] = a->g;
        }
        if (!br[0] || !br[1] || np->n_input != 1 ||
            br[0]->n_output != np->n_output ||
            br[1]->n_output != np->n_output)
            return node_error(np, m->opset, SEQK_ERR_FORMAT,
                              "If needs one condition, then_branch and "
                              "else_branch with one output per If output");
        for (int b = 0; b < 2; b++) {
            char prefix[300];
            scope sub = {sc, NULL, NULL, 0, 0, prefix};
            snprintf(prefix, sizeof prefix, "%.200s/%s/",
                     np->name && *np->name ? np->name : "If",
                     b ? "else" : "then");
            st = build_graph(m, br[b], &sub, base_dir, depth + 1,
                             b ? else_out : then_out, np->n_output);
            scope_free(&sub);
            if (st != SEQK_OK)
                return st;
        }
        n_extra = 2 * (int)np->n_output;
        if (1 + n_extra > MDL_MAX_NODE_IO)
            return node_error(np, m->opset, SEQK_ERR_UNSUPPORTED,
                              "If with more than 31 outputs");
    }
    st = seqk__mdl_graph_add_node(g, &nd);
    if (st != SEQK_OK)
        return node_error(np, m->opset, st, "too many nodes");
    nd->op = op;
    nd->opset = m->opset;
    if (np->name && *np->name)
        nd->name = strdup(np->name);
    else {
        snprintf(err, sizeof err, "#%d", g->n_nodes - 1);
        nd->name = strdup(err);
    }
    if (!nd->name)
        return SEQK_ERR_OUT_OF_MEMORY;
    nd->n_in = (int)np->n_input;
    for (size_t k = 0; k < np->n_input; k++) {
        const char *nm = np->input[k];
        nd->in[k] = -1;
        if (!nm || !*nm)
            continue;
        nd->in[k] = scope_find(g, sc, nm);
        if (nd->in[k] < 0) {
            snprintf(err, sizeof err, "input '%s' is no graph input, "
                     "initializer or node output (missing initializer?)", nm);
            return node_error(np, m->opset, SEQK_ERR_FORMAT, err);
        }
    }
    for (int k = 0; k < seqk__mdl_op_min_inputs(op); k++)
        if (k >= nd->n_in || nd->in[k] < 0) {
            snprintf(err, sizeof err, "input %d is missing (%s needs %d)", k,
                     op->name, seqk__mdl_op_min_inputs(op));
            return node_error(np, m->opset, SEQK_ERR_FORMAT, err);
        }
    for (int k = 0; k < n_extra; k++)
        nd->in[nd->n_in++] = k < n_extra / 2 ? then_out[k]
                                             : else_out[k - n_extra / 2];
    nd->n_out = (int)np->n_output;
    for (size_t k = 0; k < np->n_output; k++) {
        const char *nm = np->output[k];
        nd->out[k] = -1;
        if (!nm || !*nm)
            continue;
        int id = scope_output(g, sc, nm);
        if (id < 0)
            return node_error(np, m->opset, SEQK_ERR_OUT_OF_MEMORY,
                              "too many values");
        g->values[id].producer = g->n_nodes - 1;
        nd->out[k] = id;
    }
    if (op->parse) {
        st = op->parse(nd, np, err);
        if (st != SEQK_OK)
            return node_error(np, m->opset, st, err);
    }
    return SEQK_OK;
}

static seqk_status build_graph(seqk_model *m, const Onnx__GraphProto *gp,
                               scope *sc, const char *base_dir, int depth,
                               int *outs, size_t n_outs)
{
    mdl_graph *g = &m->g;
    char err[MDL_ERR_LEN] = "";
    seqk_status st;

    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        mdl_host *h;
        st = tensor_from_proto(tp, base_dir, &h, err);
        if (st != SEQK_OK)
            return seqk__error(NULL, st, "model: initializer: %s", err);
        int id = scope_add(g, sc, tp->name ? tp->name : "");
        if (id < 0) {
            seqk__mdl_host_free(h);
            return seqk__error(NULL, SEQK_ERR_OUT_OF_MEMORY,
                               "model: too many values");
        }
        g->values[id].data = h;
        g->values[id].dtype = h->dtype;
        g->values[id].ndim = h->ndim;
        for (int d = 0; d < h->ndim; d++)
            g->values[id].dims[d] = h->dims[d];
    }
    if (!sc) {
        g->inputs = calloc(gp->n_input + 1, sizeof *g->inputs);
        if (!g->inputs)
            return SEQK_ERR_OUT_OF_MEMORY;
        for (size_t i = 0; i < gp->n_input; i++) {
            const Onnx__ValueInfoProto *vi = gp->input[i];
            const char *nm = vi->name ? vi->name : "";
            int id = seqk__mdl_graph_find(g, nm);
            if (id >= 0 && g->values[id].data)
                continue; /* an initializer with a default: not an input */
            if (id >= 0)
                return seqk__error(NULL, SEQK_ERR_FORMAT,
                                   "model: graph input '%s' is declared "
                                   "twice", nm);
            if (g->n_inputs >= 64)
                return seqk__error(NULL, SEQK_ERR_UNSUPPORTED,
                                   "model: more than 64 graph inputs");
            id = seqk__mdl_graph_add_value(g, nm);
            if (id < 0)
                return SEQK_ERR_OUT_OF_MEMORY;
            st = value_info(g, id, vi, err);
            if (st != SEQK_OK)
                return seqk__error(NULL, st, "model: graph input %s", err);
            g->values[id].is_input = 1;
            g->inputs[g->n_inputs++] = id;
        }
    } else if (gp->n_input) {
        return seqk__error(NULL, SEQK_ERR_FORMAT,
                           "model: an If branch has inputs");
    }
    /* declare every node output first (producer -2: not yet made) */
    for (size_t i = 0; i < gp->n_node; i++)
        for (size_t k = 0; k < gp->node[i]->n_output; k++) {
            const char *nm = gp->node[i]->output[k];
            if (!nm || !*nm || scope_find(g, sc, nm) >= 0)
                continue;
            int id = scope_add(g, sc, nm);
            if (id < 0)
                return seqk__error(NULL, SEQK_ERR_OUT_OF_MEMORY,
                                   "model: too many values");
            g->values[id].producer = -2;
        }
    for (size_t i = 0; i < gp->n_node; i++) {
        st = add_node(m, gp->node[i], sc, base_dir, depth);
        if (st != SEQK_OK)
            return st;
    }
    if (!sc) {
        g->outputs = calloc(gp->n_output + 1, sizeof *g->outputs);
        if (!g->outputs)
            return SEQK_ERR_OUT_OF_MEMORY;
    }
    for (size_t i = 0; i < gp->n_output && (sc ? i < n_outs : 1); i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        int id = scope_find(g, sc, vi->name ? vi->name : "");
        if (id < 0)
            return seqk__error(NULL, SEQK_ERR_FORMAT,
                               "model: graph output '%s' is produced by no "
                               "node", vi->name ? vi->name : "");
        if (sc) {
            outs[i] = id;
            continue;
        }
        if (!g->values[id].dtype || g->values[id].ndim < 0) {
            mdl_value save = g->values[id];
            st = value_info(g, id, vi, err);
            if (st != SEQK_OK)
                return seqk__error(NULL, st, "model: graph output %s", err);
            if (save.data) { /* a constant's own shape wins */
                g->values[id].ndim = save.data->ndim;
                for (int d = 0; d < save.data->ndim; d++)
                    g->values[id].dims[d] = save.data->dims[d];
            }
        }
        g->values[id].is_output = 1;
        g->outputs[g->n_outputs++] = id;
    }
    return SEQK_OK;
}

seqk_status seqk__mdl_load(seqk_model *m, const uint8_t *data, size_t size,
                     const char *base_dir)
{
    Onnx__ModelProto *mp;
    int found = 0;

    if (size > MDL_MAX_FILE_BYTES)
        return seqk__error(NULL, SEQK_ERR_UNSUPPORTED, "model: %zu bytes is "
                           "more than the 2 GiB protobuf allows", size);
    mp = onnx__model_proto__unpack(NULL, size, data);
    if (!mp)
        return seqk__error(NULL, SEQK_ERR_FORMAT, "model: not an ONNX "
                           "ModelProto (malformed or truncated protobuf)");
    m->proto = mp;
    if (!mp->graph)
        return seqk__error(NULL, SEQK_ERR_FORMAT, "model: no graph");
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        if (!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx")) {
            if (!o->has_version)
                continue;
            m->opset = o->version < 0 || o->version > 1000 ? 0
                                                           : (int)o->version;
            found = 1;
        }
    }
    if (!found)
        return seqk__error(NULL, SEQK_ERR_FORMAT, "model: no opset import "
                           "for the default ONNX domain");
    if (m->opset < MDL_OPSET_MIN || m->opset > MDL_OPSET_MAX)
        return seqk__error(NULL, SEQK_ERR_UNSUPPORTED, "model: opset %d is "
                           "outside the %d..%d seqk reads", m->opset,
                           MDL_OPSET_MIN, MDL_OPSET_MAX);
    seqk_status st = build_graph(m, mp->graph, NULL, base_dir, 0, NULL, 0);
    if (st != SEQK_OK)
        return st;
    if (m->g.n_outputs == 0)
        return seqk__error(NULL, SEQK_ERR_FORMAT, "model: no graph outputs");
    for (int v = 0; v < m->g.n_values; v++)
        if (m->g.values[v].producer == -2)
            m->g.values[v].producer = -1; /* declared, never produced */
    return seqk__mdl_graph_sort(&m->g);
}

void seqk__mdl_unload(seqk_model *m)
{
    seqk__mdl_graph_free(&m->g);
    if (m->proto)
        onnx__model_proto__free_unpacked(m->proto, NULL);
    m->proto = NULL;
}
