/*
 * util.c — overflow-checked sizes, shape strings and the argument checks
 * every front end uses, so that messages read the same everywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

int seqk__mul_i64(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

int seqk__add_i64(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

/* The bound leaves room for byte counts of 8-byte elements plus guards. */
int seqk__numel(int ndim, const int64_t *dims, int64_t *out)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0 || seqk__mul_i64(n, dims[i], &n) ||
            n > INT64_MAX / 16)
            return 1;
    }
    *out = n;
    return 0;
}

const char *seqk__dims_str(int ndim, const int64_t *dims, char *buf,
                           size_t len)
{
    size_t used = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < ndim && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld",
                                 i ? "," : "", (long long)dims[i]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

const char *seqk__shape_str(const seqk_tensor *t, char *buf, size_t len)
{
    return seqk__dims_str(t->ndim, t->dims, buf, len);
}

const char *seqk__dtype_name(seqk_dtype dtype)
{
    switch (dtype) {
    case SEQK_BF16: return "bf16";
    case SEQK_F32: return "f32";
    case SEQK_I32: return "i32";
    case SEQK_BOOL: return "bool";
    case SEQK_I64: return "i64";
    }
    return "unknown dtype";
}

size_t seqk_dtype_size(seqk_dtype dtype)
{
    switch (dtype) {
    case SEQK_BF16: return 2;
    case SEQK_F32: return 4;
    case SEQK_I32: return 4;
    case SEQK_BOOL: return 1;
    case SEQK_I64: return 8;
    }
    return 0;
}

seqk_status seqk__check_tensor(seqk_context *ctx, const seqk_tensor *t,
                               const char *what, seqk_dtype dtype, int ndim)
{
    char shape[96];
    if (!t)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG, "%s is NULL", what);
    if (t->ctx != ctx)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s belongs to another context", what);
    if (t->dtype != dtype)
        return seqk__error(ctx, SEQK_ERR_DTYPE, "%s has dtype %s; expected %s",
                           what, seqk__dtype_name(t->dtype),
                           seqk__dtype_name(dtype));
    if (ndim >= 0 && t->ndim != ndim)
        return seqk__error(ctx, SEQK_ERR_SHAPE,
                           "%s has shape %s (rank %d); expected rank %d",
                           what, seqk__shape_str(t, shape, sizeof shape),
                           t->ndim, ndim);
    return SEQK_OK;
}

seqk_status seqk__check_dims(seqk_context *ctx, const seqk_tensor *t,
                             const char *what, int ndim, const int64_t *dims,
                             const char *why)
{
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->dims[i] == dims[i];
    if (same)
        return SEQK_OK;
    char got[96], want[96];
    seqk__shape_str(t, got, sizeof got);
    seqk__dims_str(ndim, dims, want, sizeof want);
    if (why)
        return seqk__error(ctx, SEQK_ERR_SHAPE, "%s has shape %s but %s needs %s",
                           what, got, why, want);
    return seqk__error(ctx, SEQK_ERR_SHAPE, "%s has shape %s; expected %s",
                       what, got, want);
}

int seqk__tensors_overlap(const seqk_tensor *a, const seqk_tensor *b)
{
    if (!a || !b || a->bytes == 0 || b->bytes == 0)
        return 0;
    const char *a0 = a->data, *b0 = b->data;
    return a0 < b0 + b->bytes && b0 < a0 + a->bytes;
}

seqk_status seqk__check_struct(seqk_context *ctx, const void *p,
                               size_t struct_size, size_t min_size,
                               const char *what)
{
    if (!p)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG, "%s is NULL", what);
    if (struct_size < min_size)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "%s->struct_size is %zu; set it with the "
                           "matching *_init() function", what, struct_size);
    return SEQK_OK;
}

void *seqk__aligned_alloc(size_t bytes)
{
    void *p = NULL;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded < bytes)
        return NULL;
    if (rounded == 0)
        rounded = 64;
    if (posix_memalign(&p, 64, rounded) != 0)
        return NULL;
    return p;
}

void seqk__aligned_free(void *p) { free(p); }

seqk_status seqk__check_f32_dims(seqk_context *ctx, const seqk_tensor *t,
                                 const char *what, int ndim,
                                 const int64_t *dims, const char *why)
{
    seqk_status st = seqk__check_tensor(ctx, t, what, SEQK_F32, -1);
    if (st != SEQK_OK)
        return st;
    return seqk__check_dims(ctx, t, what, ndim, dims, why);
}
