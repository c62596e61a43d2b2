/*
 * onnx_loader.c — decoding of ONNX node-test files: TensorProto to host
 * arrays (typed fields or little-endian raw_data), ModelProto to its one
 * node and default-domain opset, and typed attribute access.  Every count
 * taken from a file is checked against the bytes actually present before
 * anything is allocated.
 */
#include "onnx_loader.h"

#include <errno.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(char *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, OL_MSG_LEN, fmt, ap);
    va_end(ap);
    return -1;
}

void ol_tensor_free(ol_tensor *t)
{
    if (t) {
        free(t->data);
        t->data = NULL;
        t->count = 0;
    }
}

int ol_read_file(const char *path, size_t max_bytes, uint8_t **buf,
                 size_t *len, char *err)
{
    FILE *f = NULL;
    uint8_t *data = NULL;
    size_t cap = 4096, n = 0;
    int ret = -1;

    *buf = NULL;
    *len = 0;
    f = fopen(path, "rb");
    if (!f) {
        fail(err, "cannot open %s: %s", path, strerror(errno));
        goto cleanup;
    }
    /* Read in growing chunks: no trust in ftell, and a cap on the size. */
    for (;;) {
        if (n == cap) {
            uint8_t *grown;
            if (cap >= max_bytes) {
                fail(err, "%s is larger than %zu bytes", path, max_bytes);
                goto cleanup;
            }
            cap = cap * 2 < max_bytes ? cap * 2 : max_bytes;
            grown = realloc(data, cap);
            if (!grown) {
                fail(err, "out of memory reading %s", path);
                goto cleanup;
            }
            data = grown;
        } else if (!data) {
            data = malloc(cap);
            if (!data) {
                fail(err, "out of memory reading %s", path);
                goto cleanup;
            }
        }
        size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                fail(err, "cannot read %s", path);
                goto cleanup;
            }
            break;
        }
    }
    *buf = data;
    *len = n;
    data = NULL;
    ret = 0;
cleanup:
    free(data);
    if (f)
        fclose(f);
    return ret;
}

const char *ol_dims_str(int ndim, const int64_t *dims, char *buf,
                        size_t len)
{
    size_t off = 0;

    off += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < ndim && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%lld",
                                i ? "," : "", (long long)dims[i]);
    if (off < len)
        snprintf(buf + off, len - off, "]");
    return buf;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* int64 element i of the tensor, from int64_data or raw_data. */
static int64_t elem_i64(const Onnx__TensorProto *tp, size_t i)
{
    uint64_t u;
    int64_t v;

    if (!tp->has_raw_data)
        return tp->int64_data[i];
    u = le64(tp->raw_data.data + 8 * i);
    memcpy(&v, &u, sizeof v);
    return v;
}

/* How one data_type is stored: esize bytes per raw_data element, the
 * typed field's count, the decoded dtype and its size in t->data. */
typedef struct elem_layout {
    size_t esize, typed, out_size;
    seqk_dtype dtype;
} elem_layout;

static int layout_of(const Onnx__TensorProto *tp, int typed_mode,
                     elem_layout *l)
{
    switch (tp->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
        *l = (elem_layout){4, tp->n_float_data, 4, SEQK_F32};
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
        *l = (elem_layout){4, tp->n_int32_data, 4, SEQK_I32};
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
        *l = typed_mode ? (elem_layout){8, tp->n_int64_data, 8, SEQK_I64}
                        : (elem_layout){8, tp->n_int64_data, 4, SEQK_I32};
        return 0;
    default:
        break;
    }
    if (!typed_mode)
        return -1;
    switch (tp->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: /* typed: in int32_data */
        *l = (elem_layout){1, tp->n_int32_data, 1, SEQK_BOOL};
        return 0;
    default:
        return -1;
    }
}

/* Element i into out (l->out_size bytes); -1 when an int64 does not fit
 * the int32 of the legacy decode. */
static int decode_elem(const Onnx__TensorProto *tp, const elem_layout *l,
                       size_t i, void *out)
{
    const uint8_t *raw = tp->has_raw_data ? tp->raw_data.data : NULL;
    int32_t i32;
    uint64_t u;
    int64_t v;

    switch (tp->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
        v = elem_i64(tp, i);
        if (l->out_size == 8) {
            memcpy(out, &v, 8);
            return 0;
        }
        if (v < INT32_MIN || v > INT32_MAX)
            return -1;
        i32 = (int32_t)v;
        memcpy(out, &i32, 4);
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
        *(uint8_t *)out = raw ? raw[i] != 0 : tp->int32_data[i] != 0;
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
        if (!raw) {
            memcpy(out, &tp->float_data[i], 4);
            return 0;
        }
        break;
    default: /* INT32 */
        if (!raw) {
            memcpy(out, &tp->int32_data[i], 4);
            return 0;
        }
        break;
    }
    u = le32(raw + 4 * i); /* float or int32 bits */
    i32 = (int32_t)(uint32_t)u;
    memcpy(out, &i32, 4);
    return 0;
}

static int tensor_from_proto(const Onnx__TensorProto *tp, ol_tensor *t,
                             char *err, int typed_mode)
{
    char shape[160];
    size_t numel = 1, have;
    int64_t max_elems = (int64_t)OL_MAX_FILE_BYTES;
    elem_layout l;

    memset(t, 0, sizeof *t);
    if (tp->has_data_location &&
        tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return fail(err, "tensor '%s' keeps its data in an external file",
                    tp->name ? tp->name : "");
    if (tp->segment)
        return fail(err, "segmented tensors are not supported");
    if (tp->n_dims > SEQK_MAX_DIMS)
        return fail(err, "tensor has %zu dims, at most %d are supported",
                    tp->n_dims, SEQK_MAX_DIMS);
    t->ndim = (int)tp->n_dims;
    for (int i = 0; i < t->ndim; i++) {
        int64_t d = tp->dims[i];
        t->dims[i] = d;
        if (d < 0)
            return fail(err, "dimension %d is %lld, want >= 0", i,
                        (long long)d);
        /* No element takes less than a byte of file, so a count past the
         * file size limit is a lie (and would overflow soon after). */
        if (d > max_elems || (d > 0 && (int64_t)numel > max_elems / d))
            return fail(err, "dims %s hold more elements than a %zu-byte "
                        "file can", ol_dims_str(t->ndim, t->dims, shape,
                        sizeof shape), OL_MAX_FILE_BYTES);
        numel *= (size_t)d;
    }
    ol_dims_str(t->ndim, t->dims, shape, sizeof shape);
    if (!tp->has_data_type)
        return fail(err, "tensor %s has no data_type", shape);
    if (layout_of(tp, typed_mode, &l))
        return fail(err, typed_mode
                    ? "tensor %s has data_type %d; only 1 (float), 6 "
                      "(int32), 7 (int64) and 9 (bool) are supported"
                    : "tensor %s has data_type %d; only 1 (float), "
                      "6 (int32) and 7 (int64) are supported", shape,
                    (int)tp->data_type);
    t->dtype = l.dtype;
    t->onnx_type = (int)tp->data_type;
    if (tp->has_raw_data && l.typed > 0)
        return fail(err, "tensor %s has both raw_data and typed data",
                    shape);
    if (tp->has_raw_data && tp->raw_data.len % l.esize)
        return fail(err, "tensor %s: raw_data has %zu bytes, not a "
                    "multiple of %zu", shape, tp->raw_data.len, l.esize);
    have = tp->has_raw_data ? tp->raw_data.len / l.esize : l.typed;
    if (have != numel)
        return fail(err, "tensor %s needs %zu elements but holds %zu",
                    shape, numel, have);

    t->data = malloc((numel ? numel : 1) * l.out_size);
    if (!t->data)
        return fail(err, "out of memory for tensor %s", shape);
    t->count = numel;
    for (size_t i = 0; i < numel; i++)
        if (decode_elem(tp, &l, i, (char *)t->data + i * l.out_size)) {
            long long v = (long long)elem_i64(tp, i);
            ol_tensor_free(t);
            return fail(err, "tensor %s: int64 element %zu = %lld does "
                        "not fit in int32", shape, i, v);
        }
    return 0;
}

int ol_tensor_from_proto(const Onnx__TensorProto *tp, ol_tensor *t,
                         char *err)
{
    return tensor_from_proto(tp, t, err, 0);
}

int ol_tensor_from_proto_typed(const Onnx__TensorProto *tp, ol_tensor *t,
                               char *err)
{
    return tensor_from_proto(tp, t, err, 1);
}

static int tensor_decode(const uint8_t *buf, size_t len, ol_tensor *t,
                         char *err, int typed_mode)
{
    Onnx__TensorProto *tp;
    int ret;

    memset(t, 0, sizeof *t);
    tp = onnx__tensor_proto__unpack(NULL, len, buf);
    if (!tp)
        return fail(err, "not a valid TensorProto (%zu bytes): truncated "
                    "or corrupt", len);
    ret = tensor_from_proto(tp, t, err, typed_mode);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return ret;
}

int ol_tensor_decode(const uint8_t *buf, size_t len, ol_tensor *t,
                     char *err)
{
    return tensor_decode(buf, len, t, err, 0);
}

static int tensor_load(const char *path, ol_tensor *t, char *err,
                       int typed_mode)
{
    uint8_t *buf;
    size_t len;
    char why[OL_MSG_LEN];
    int ret;

    memset(t, 0, sizeof *t);
    if (ol_read_file(path, OL_MAX_FILE_BYTES, &buf, &len, err))
        return -1;
    ret = tensor_decode(buf, len, t, why, typed_mode);
    if (ret)
        fail(err, "%s: %s", path, why);
    free(buf);
    return ret;
}

int ol_tensor_load(const char *path, ol_tensor *t, char *err)
{
    return tensor_load(path, t, err, 0);
}

int ol_tensor_load_typed(const char *path, ol_tensor *t, char *err)
{
    return tensor_load(path, t, err, 1);
}

static int is_default_domain(const char *d)
{
    return !d || !d[0] || !strcmp(d, "ai.onnx");
}

int ol_model_decode(const uint8_t *buf, size_t len, ol_model *m, char *err)
{
    const Onnx__ModelProto *p;

    memset(m, 0, sizeof *m);
    m->proto = onnx__model_proto__unpack(NULL, len, buf);
    if (!m->proto)
        return fail(err, "not a valid ModelProto (%zu bytes): truncated "
                    "or corrupt", len);
    p = m->proto;
    m->opset = -1;
    for (size_t i = 0; i < p->n_opset_import; i++)
        if (is_default_domain(p->opset_import[i]->domain) &&
            p->opset_import[i]->has_version)
            m->opset = p->opset_import[i]->version;
    if (m->opset < 1) {
        fail(err, "model imports no opset for the default ONNX domain");
        goto fail;
    }
    m->graph = p->graph;
    if (!m->graph) {
        fail(err, "model has no graph");
        goto fail;
    }
    if (m->graph->n_node != 1) {
        fail(err, "graph has %zu nodes, want a single node",
             m->graph->n_node);
        goto fail;
    }
    m->node = m->graph->node[0];
    if (!m->node->op_type || !is_default_domain(m->node->domain)) {
        fail(err, "the node has no op_type or a non-ONNX domain '%s'",
             m->node->domain ? m->node->domain : "");
        goto fail;
    }
    return 0;
fail:
    ol_model_free(m);
    return -1;
}

int ol_model_load(const char *path, ol_model *m, char *err)
{
    uint8_t *buf;
    size_t len;
    char why[OL_MSG_LEN];
    int ret;

    memset(m, 0, sizeof *m);
    if (ol_read_file(path, OL_MAX_FILE_BYTES, &buf, &len, err))
        return -1;
    ret = ol_model_decode(buf, len, m, why);
    if (ret)
        fail(err, "%s: %s", path, why);
    free(buf);
    return ret;
}

void ol_model_free(ol_model *m)
{
    if (m && m->proto)
        onnx__model_proto__free_unpacked(m->proto, NULL);
    if (m)
        memset(m, 0, sizeof *m);
}

int ol_write_file(const char *path, const void *buf, size_t len, char *err)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f)
        return fail(err, "cannot create %s: %s", path, strerror(errno));
    ok = fwrite(buf, 1, len, f) == len;
    ok &= fclose(f) == 0;
    return ok ? 0 : fail(err, "cannot write %s", path);
}

int ol_path_join(char *buf, const char *dir, const char *file)
{
    int n = snprintf(buf, OL_PATH_LEN, "%s/%s", dir, file);
    return n < 0 || n >= OL_PATH_LEN ? -1 : 0;
}

static int case_file(const ol_case *c, const char *kind, size_t n,
                     char *path)
{
    char file[64];

    snprintf(file, sizeof file, "test_data_set_0/%s_%zu.pb", kind, n);
    return ol_path_join(path, c->dir, file);
}

int ol_case_has_file(const ol_case *c, const char *kind, size_t n)
{
    char path[OL_PATH_LEN];
    return case_file(c, kind, n, path) == 0 && access(path, F_OK) == 0;
}

static int is_initializer(const Onnx__GraphProto *g, const char *name)
{
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name && !strcmp(g->initializer[i]->name, name))
            return 1;
    return 0;
}

int ol_case_load(const char *dir, ol_case *c, char *err)
{
    char path[OL_PATH_LEN], why[OL_MSG_LEN];
    const Onnx__GraphProto *g;

    memset(c, 0, sizeof *c);
    if (strlen(dir) >= sizeof c->dir || ol_path_join(path, dir, "model.onnx"))
        return fail(err, "path too long: %s", dir);
    strcpy(c->dir, dir);
    if (ol_model_load(path, &c->model, err))
        return -1;
    g = c->model.graph;
    for (size_t i = 0; i < g->n_initializer; i++) {
        const char *name = g->initializer[i]->name;
        if (c->n_init == OL_MAX_IO)
            return fail(err, "more than %d initializers", OL_MAX_IO);
        if (ol_tensor_from_proto(g->initializer[i], &c->init[c->n_init], why))
            return fail(err, "initializer '%s': %s", name ? name : "", why);
        c->init_names[c->n_init++] = name ? name : "";
    }
    for (size_t i = 0; i < g->n_input; i++) {
        const char *name = g->input[i]->name ? g->input[i]->name : "";
        if (is_initializer(g, name))
            continue;
        if (c->n_in == OL_MAX_IO)
            return fail(err, "more than %d graph inputs", OL_MAX_IO);
        if (case_file(c, "input", c->n_in, path))
            return fail(err, "path too long: %s", dir);
        if (ol_tensor_load(path, &c->in[c->n_in], err))
            return -1;
        c->in_names[c->n_in++] = name;
    }
    if (ol_case_has_file(c, "input", c->n_in))
        return fail(err, "%s has input_%zu.pb but the graph has only %zu "
                    "inputs", dir, c->n_in, c->n_in);
    return 0;
}

void ol_case_free(ol_case *c)
{
    for (size_t i = 0; i < OL_MAX_IO; i++) {
        ol_tensor_free(&c->in[i]);
        ol_tensor_free(&c->init[i]);
    }
    ol_model_free(&c->model);
    c->n_in = c->n_init = 0;
}

int ol_case_input(const ol_case *c, size_t k, const ol_tensor **t,
                  char *err)
{
    const Onnx__NodeProto *n = c->model.node;

    *t = NULL;
    if (k >= n->n_input || !n->input[k][0])
        return 0;
    for (size_t i = 0; i < c->n_in; i++)
        if (!strcmp(c->in_names[i], n->input[k])) {
            *t = &c->in[i];
            return 0;
        }
    for (size_t i = 0; i < c->n_init; i++)
        if (!strcmp(c->init_names[i], n->input[k])) {
            *t = &c->init[i];
            return 0;
        }
    return fail(err, "node input %zu '%s' is neither a graph input nor an "
                "initializer", k, n->input[k]);
}

int ol_case_output(const ol_case *c, size_t i, ol_tensor *t, char *err)
{
    char path[OL_PATH_LEN];

    memset(t, 0, sizeof *t);
    if (case_file(c, "output", i, path))
        return fail(err, "path too long: %s", c->dir);
    return ol_tensor_load(path, t, err);
}

/* Old writers leave `type` unset; then the presence of the value decides. */
static int attr_is(const Onnx__AttributeProto *a,
                   Onnx__AttributeProto__AttributeType type, int has_value)
{
    return a->has_type ? a->type == type : has_value;
}

static int attr_wrong(const Onnx__AttributeProto *a, const char *want,
                      char *err)
{
    return fail(err, "attribute '%s' has type %d, want %s",
                a->name ? a->name : "",
                a->has_type ? (int)a->type : -1, want);
}

int ol_attr_int(const Onnx__AttributeProto *a, int64_t *v, char *err)
{
    if (!attr_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, a->has_i))
        return attr_wrong(a, "INT", err);
    *v = a->i;
    return 0;
}

int ol_attr_float(const Onnx__AttributeProto *a, float *v, char *err)
{
    if (!attr_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, a->has_f))
        return attr_wrong(a, "FLOAT", err);
    *v = a->f;
    return 0;
}

int ol_attr_string(const Onnx__AttributeProto *a, char *buf, size_t len,
                   char *err)
{
    if (!attr_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING,
                 a->has_s))
        return attr_wrong(a, "STRING", err);
    if (a->s.len >= len)
        return fail(err, "attribute '%s' is %zu bytes long, at most %zu "
                    "expected", a->name ? a->name : "", a->s.len, len - 1);
    if (a->s.len)
        memcpy(buf, a->s.data, a->s.len);
    buf[a->s.len] = '\0';
    return 0;
}

int ol_attr_floats(const Onnx__AttributeProto *a, const float **v,
                   size_t *n, char *err)
{
    if (!attr_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS,
                 a->n_floats > 0))
        return attr_wrong(a, "FLOATS", err);
    *v = a->floats;
    *n = a->n_floats;
    return 0;
}

int ol_attr_strings(const Onnx__AttributeProto *a,
                    const ProtobufCBinaryData **v, size_t *n, char *err)
{
    if (!attr_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS,
                 a->n_strings > 0))
        return attr_wrong(a, "STRINGS", err);
    *v = a->strings;
    *n = a->n_strings;
    return 0;
}
