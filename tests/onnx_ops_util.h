/*
 * onnx_ops_util.h — what test_onnx_ops.c and test_onnx_ops_layout.c
 * share: tensor shortcuts over any dtype, shape arithmetic, random data
 * and the "run on the device and on ref, check both" helper.
 */
#ifndef SEQK_TESTS_ONNX_OPS_UTIL_H
#define SEQK_TESTS_ONNX_OPS_UTIL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static inline int oo_small(void) { return getenv("SEQK_OCL_SMALL") != NULL; }

static inline seqk_context *oo_ref_ctx(void)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = "ref";
    seqk_context *ctx = NULL;
    ck_assert_msg(seqk_context_create(&o, &ctx) == SEQK_OK, "ref context");
    return ctx;
}

static inline seqk_tensor *oo_mk(seqk_context *ctx, int nd,
                                 const int64_t *d, seqk_dtype dt,
                                 const void *data)
{
    seqk_tensor *t = NULL;
    TU_OK(ctx, seqk_tensor_create(ctx, nd, d, dt, &t));
    if (data)
        TU_OK(ctx, seqk_tensor_write(t, data, seqk_tensor_bytes(t)));
    return t;
}

static inline void *oo_rd(const seqk_tensor *t)
{
    size_t n = seqk_tensor_bytes(t);
    void *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(seqk_tensor_read(t, p, n), SEQK_OK);
    return p;
}

static inline int64_t oo_numel(int nd, const int64_t *d)
{
    int64_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= d[i];
    return n;
}

/* flat index -> multi-index of shape d */
static inline void oo_unravel(int64_t f, int nd, const int64_t *d,
                              int64_t *idx)
{
    for (int i = nd - 1; i >= 0; i--) {
        idx[i] = d[i] ? f % d[i] : 0;
        f = d[i] ? f / d[i] : 0;
    }
}

static inline int64_t oo_ravel(int nd, const int64_t *d, const int64_t *idx)
{
    int64_t f = 0;
    for (int i = 0; i < nd; i++)
        f = f * d[i] + idx[i];
    return f;
}

/* Random elements of dt (bool 0/1; ints of both signs; floats in
 * [lo, hi], from a few levels when ties). */
static inline void *oo_rand(tu_rng *r, seqk_dtype dt, int64_t n, float lo,
                            float hi, int ties)
{
    const size_t es = seqk_dtype_size(dt);
    unsigned char *p = malloc((size_t)(n ? n : 1) * es);
    for (int64_t i = 0; i < n; i++) {
        float u = tu_uniform(r, lo, hi);
        if (ties)
            u = floorf(u);
        switch (dt) {
        case SEQK_F32: ((float *)p)[i] = u; break;
        case SEQK_I32: ((int32_t *)p)[i] = (int32_t)(u * (ties ? 1 : 1000));
            break;
        case SEQK_I64:
            ((int64_t *)p)[i] = (int64_t)(u * (ties ? 1 : 1e6)) *
                                (ties ? 1 : 1000003LL);
            break;
        default: p[i] = u > (lo + hi) / 2; break;
        }
    }
    return p;
}

static const seqk_dtype oo_dtypes[4] = {SEQK_F32, SEQK_I32, SEQK_I64,
                                        SEQK_BOOL};

#endif
