/*
 * onnx_ops_util.h — what the op suites share (test_tensor_ops*.c,
 * test_onnx_ops*.c): tensor shortcuts over any dtype, shape arithmetic
 * (broadcasting included), random data, and the entry points of the
 * suites' second files.
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

/* The products of d's dims before and after axis ax. */
static inline void oo_around(int nd, const int64_t *d, int ax,
                             int64_t *outer, int64_t *inner)
{
    *outer = *inner = 1;
    for (int i = 0; i < ax; i++)
        *outer *= d[i];
    for (int i = ax + 1; i < nd; i++)
        *inner *= d[i];
}

/* The broadcast shape of a and b into yd; returns its rank. */
static inline int oo_bshape(int an, const int64_t *ad, int bn,
                            const int64_t *bd, int64_t *yd)
{
    const int yn = an > bn ? an : bn;
    for (int i = 0; i < yn; i++) {
        const int ia = an - yn + i, ib = bn - yn + i;
        const int64_t da = ia >= 0 ? ad[ia] : 1, db = ib >= 0 ? bd[ib] : 1;
        yd[i] = da == 1 ? db : da;
    }
    return yn;
}

/* The flat index in an input of shape (n, d) broadcast to (yn, yd) that
 * output element y reads. */
static inline int64_t oo_bsrc(int64_t y, int yn, const int64_t *yd, int n,
                              const int64_t *d)
{
    int64_t idx[SEQK_MAX_DIMS], f = 0;
    oo_unravel(y, yn, yd, idx);
    for (int i = 0; i < n; i++) {
        const int64_t v = d[i] == 1 ? 0 : idx[yn - n + i];
        f = f * d[i] + v;
    }
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

/* Destroys the n tensors of objs (NULLs allowed). */
static inline void oo_destroy(seqk_tensor *const *objs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        seqk_tensor_destroy(objs[i]);
}
#define OO_DESTROY(objs) oo_destroy((objs), sizeof(objs) / sizeof((objs)[0]))

/* The second files of the split suites add their tests (looped over the
 * nd devices) to the main file's test case. */
void tensor_ops_ew_tests(TCase *tc, int nd); /* test_tensor_ops_ew.c */
void onnx_ops_nn_tests(TCase *tc, int nd);   /* test_onnx_ops_nn.c */

#endif
