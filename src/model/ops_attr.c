/*
 * ops_attr.c — reading a node's ONNX attributes for the op-table rows:
 * has, int, float, string, ints, floats, each with a clear message when
 * the attribute has another type.
 */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "onnx.pb-c.h"

/* ---- attributes */

static const Onnx__AttributeProto *attr(const void *proto, const char *name)
{
    const Onnx__NodeProto *np = proto;
    for (size_t i = 0; i < np->n_attribute; i++)
        if (np->attribute[i]->name && !strcmp(np->attribute[i]->name, name))
            return np->attribute[i];
    return NULL;
}

int seqk__mdl_attr_has(const void *proto, const char *name)
{
    return attr(proto, name) != NULL;
}

seqk_status seqk__mdl_attr_int(const void *proto, const char *name, int64_t *v,
                         char *err)
{
    const Onnx__AttributeProto *a = attr(proto, name);
    if (!a)
        return SEQK_OK;
    if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT) {
        snprintf(err, MDL_ERR_LEN, "attribute %s is not an int", name);
        return SEQK_ERR_FORMAT;
    }
    *v = a->i;
    return SEQK_OK;
}

seqk_status seqk__mdl_attr_float(const void *proto, const char *name, float *v,
                           char *err)
{
    const Onnx__AttributeProto *a = attr(proto, name);
    if (!a)
        return SEQK_OK;
    if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT) {
        snprintf(err, MDL_ERR_LEN, "attribute %s is not a float", name);
        return SEQK_ERR_FORMAT;
    }
    *v = a->f;
    return SEQK_OK;
}

seqk_status seqk__mdl_attr_string(const void *proto, const char *name,
                                  char *buf, size_t len, char *err)
{
    const Onnx__AttributeProto *a = attr(proto, name);
    if (!a)
        return SEQK_OK;
    if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING) {
        snprintf(err, MDL_ERR_LEN, "attribute %s is not a string", name);
        return SEQK_ERR_FORMAT;
    }
    size_t n = a->s.len < len - 1 ? a->s.len : len - 1;
    if (n) /* an empty string's data may be NULL */
        memcpy(buf, a->s.data, n);
    buf[n] = '\0';
    return SEQK_OK;
}

seqk_status seqk__mdl_attr_ints(const void *proto, const char *name,
                          const int64_t **v, size_t *n, char *err)
{
    const Onnx__AttributeProto *a = attr(proto, name);
    *n = 0;
    if (!a)
        return SEQK_OK;
    if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS) {
        snprintf(err, MDL_ERR_LEN, "attribute %s is not a list of ints",
                 name);
        return SEQK_ERR_FORMAT;
    }
    *v = a->ints;
    *n = a->n_ints;
    return SEQK_OK;
}

seqk_status seqk__mdl_attr_floats(const void *proto, const char *name,
                            const float **v, size_t *n, char *err)
{
    const Onnx__AttributeProto *a = attr(proto, name);
    *n = 0;
    if (!a)
        return SEQK_OK;
    if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS) {
        snprintf(err, MDL_ERR_LEN, "attribute %s is not a list of floats",
                 name);
        return SEQK_ERR_FORMAT;
    }
    *v = a->floats;
    *n = a->n_floats;
    return SEQK_OK;
}
