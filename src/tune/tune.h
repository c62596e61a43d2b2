/*
 * tune.h — tunable kernels, the tuning database and its runtime lookup.
 *
 * A kernel (or a whole routine: the recurrent step, a GEMM path choice)
 * that has parameters declares them once, as a seqk_tunable: the
 * parameters with their candidate values and built-in defaults, the shape
 * it is bucketed by, and a legal() hook holding every constraint
 * (divisibility, local memory, work-group limits, cache sizes).  The
 * tuner generates its search space from that declaration alone; the
 * library asks seqk__tuned() for the values to use on each call.
 *
 * Lookup order (seqk__tuned):
 *   1. a tuner override on this context (seqk__tune_override), so the
 *      tuner times the library's own code path with candidate values;
 *   2. the tuning database (db.c), loaded once per context:
 *      device: exact device+driver -> same device, other driver ->
 *              same device name -> same vendor;
 *      shape:  exact bucket -> nearest bucket whose values are legal here;
 *      only entries that beat the defaults when they were tuned;
 *   3. the built-in defaults of the declaration.
 * Whatever is returned is legal for the device and shape (checked).
 *
 * Shape buckets: ceil(log2(d)) of each shape dimension (0 for d <= 1).
 */
#ifndef SEQK_TUNE_TUNE_H
#define SEQK_TUNE_TUNE_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

#define SEQK_TUNE_MAX_PARAMS 12
#define SEQK_TUNE_MAX_VALUES 16
#define SEQK_TUNE_MAX_SHAPE 6

/* What legal() may depend on, filled from the context's device. */
typedef struct seqk_tune_limits {
    int is_device;            /* a device backend's context (device.h) */
    int is_gpu;
    int64_t max_wg;           /* device: largest work-group */
    int64_t max_item[3];      /* device: largest work-group per dimension */
    int64_t local_mem;        /* device: bytes of local memory */
    int64_t l1d, l2, l3;      /* CPU caches in bytes (0: unknown) */
    int threads;              /* the context's threads */
} seqk_tune_limits;

typedef struct seqk_tune_param {
    const char *name;                    /* "MWG", "mc", "path" */
    int num_values;
    int values[SEQK_TUNE_MAX_VALUES];    /* candidates, ascending */
    int def;                             /* built-in default (a value) */
} seqk_tune_param;

typedef struct seqk_tunable {
    const char *id;          /* "opencl.gemm.direct": backend.op.kernel */
    const char *source;      /* kernels/<source>.cl for OpenCL kernels (its
                                text is hashed into the key); NULL for host
                                code (the library version is used) */
    const char *backend;     /* "opencl" or "cpu" */
    int num_shape;
    const char *shape_names[SEQK_TUNE_MAX_SHAPE]; /* "M", "N", "K" */
    int num_params;
    seqk_tune_param params[SEQK_TUNE_MAX_PARAMS];
    /* 1 when values v[num_params] are usable under lim for a problem of
     * this shape (shape NULL: for some shape, i.e. device limits only).
     * Must hold every constraint; the tuner and the lookup both rely on
     * it.  NULL: every combination is legal. */
    int (*legal)(const int *v, const seqk_tune_limits *lim,
                 const int64_t *shape);
} seqk_tunable;

/* Every tunable the library has (tunables.c), NULL-terminated: the auto
 * offload's (when a device backend is built), each device backend's, the
 * CPU's. */
const seqk_tunable *const *seqk__tunable_list(void);
const seqk_tunable *seqk__tunable_find(const char *id);

/* The values to use for tunable t on ctx for a problem of `shape`
 * (t->num_shape dims): see the lookup order above.  Writes
 * t->num_params values to out.  Never fails: falls back to the defaults
 * (logged under SEQK_VERBOSE=dispatch with the entry used). */
void seqk__tuned(seqk_context *ctx, const seqk_tunable *t,
                 const int64_t *shape, int *out);

/* The defaults of t. */
void seqk__tunable_defaults(const seqk_tunable *t, int *out);
/* 1 when v are candidate values of t (each in its list) and legal. */
int seqk__tunable_legal(const seqk_tunable *t, const int *v,
                       const seqk_tune_limits *lim, const int64_t *shape);
/* The shape bucket of shape (ceil log2 per dim). */
void seqk__tune_bucket(int n, const int64_t *shape, int *bucket);

/* The limits of ctx's device. */
void seqk__tune_limits(seqk_context *ctx, seqk_tune_limits *lim);

/* Tuner hook: until cleared (values NULL), seqk__tuned(ctx, t, ...) for
 * tunable `id` returns these values (copied) whatever the shape.  One
 * override per tunable id; up to SEQK_TUNE_MAX_OVERRIDES at once. */
#define SEQK_TUNE_MAX_OVERRIDES 8
seqk_status seqk__tune_override(seqk_context *ctx, const char *id,
                                const int *values);

#endif /* SEQK_TUNE_TUNE_H */
