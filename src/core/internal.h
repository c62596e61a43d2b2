/*
 * internal.h — the context and tensor objects and the helpers every front
 * end uses: error reporting, verbose logging, overflow-checked sizes,
 * shape messages.
 */
#ifndef SEQK_CORE_INTERNAL_H
#define SEQK_CORE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/backend.h"
#include "core/device.h"
#include "seqk.h"
#include "core/threadpool.h"

#define SEQK_ERROR_LEN 512
#define SEQK_MAX_BACKENDS 8

struct seqk_context {
    /* References: the user's (dropped by seqk_context_destroy), one per
     * live tensor and RNN plan; freed when the last goes, so destroying
     * a context before its tensors is safe. */
    _Atomic int refs;
    char device[32];             /* the spec the user asked for, resolved */
    int threads;
    char tuning_db[512];
    /* Backends usable for ops, best last; [0] is ref on host devices (a
     * context on a device backend has only that backend's table). */
    const seqk_backend *backends[SEQK_MAX_BACKENDS];
    int num_backends;
    unsigned verbose;            /* SEQK_VERBOSE_* bits */
    seqk_threadpool *pool;       /* created on first use, see seqk__pool() */
    /* A context on a device backend (device.h): its table and its state,
     * opaque here.  Its tensors then live in device memory and t->data is
     * a device address, never dereferenced on the host.  NULL on host
     * contexts. */
    const seqk_device_iface *dev;
    void *dev_state;
    /* Tuning (src/tune/): overrides and the database, made on first use. */
    struct seqk_tune_state *tune;
    /* auto contexts: the device for tuned ops (offload.c). */
    void *offload;
    char error[SEQK_ERROR_LEN];
};

struct seqk_tensor {
    seqk_context *ctx;
    int ndim;
    int64_t dims[SEQK_MAX_DIMS];
    seqk_dtype dtype;
    int64_t numel;
    size_t bytes;
    void *data;                  /* host memory, 64-byte aligned (views
                                    and wrapped memory: element-aligned);
                                    on a device context a device address
                                    (device.h) */
    /* Views (tensor_view.c): base is the tensor owning the memory (NULL
     * for an owner; never a view itself).  An owner counts its live views
     * in views; seqk_tensor_destroy of an owner with live views only marks
     * it dead, and the last view's destroy frees it.  foreign: the memory
     * is the caller's (seqk_tensor_wrap) and is never freed.  Tensors
     * calloc'd elsewhere (seqk_opencl_tensor_wrap) are owners with 0s. */
    struct seqk_tensor *base;
    _Atomic int views;
    int dead;
    int foreign;
};

/* The tensor's values readable on the host: t->data for host tensors; for
 * device tensors a download into *tmp (malloc'd; the caller frees it, NULL
 * when nothing was allocated).  NULL with a message in t->ctx on failure
 * (*tmp is then NULL). */
void seqk__context_retain(seqk_context *ctx);
void seqk__context_release(seqk_context *ctx);

const void *seqk__tensor_host(const seqk_tensor *t, void **tmp);

/* SEQK_VERBOSE is a comma list: dispatch, alloc, all (or 1). */
enum {
    SEQK_VERBOSE_DISPATCH = 1u << 0,
    SEQK_VERBOSE_ALLOC = 1u << 1
};
unsigned seqk__verbose_from_env(void);

/* Records a message (printf format) for seqk_last_error(ctx) — ctx may be
 * NULL (thread-local) — and returns status, so callers write
 *   return seqk__error(ctx, SEQK_ERR_SHAPE, "W has shape %s ...", s); */
seqk_status seqk__error(seqk_context *ctx, seqk_status status,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void seqk__clear_error(seqk_context *ctx);

/* Prints "seqk: <line>" to stderr when ctx's verbose mask has bit. */
void seqk__log(const seqk_context *ctx, unsigned bit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Overflow-checked arithmetic: return 1 on overflow (out unspecified). */
int seqk__mul_i64(int64_t a, int64_t b, int64_t *out);
int seqk__add_i64(int64_t a, int64_t b, int64_t *out);
/* numel of dims (each >= 0); 1 on overflow past INT64_MAX/16. */
int seqk__numel(int ndim, const int64_t *dims, int64_t *out);

/* "[2,3,4]" into buf (always terminated). */
const char *seqk__dims_str(int ndim, const int64_t *dims, char *buf,
                           size_t len);
const char *seqk__shape_str(const seqk_tensor *t, char *buf, size_t len);
const char *seqk__dtype_name(seqk_dtype dtype);

/* Checks t is non-NULL, belongs to ctx, has dtype and, when ndim >= 0,
 * that rank; otherwise records a message naming `what` and returns the
 * status.  Use for every tensor argument. */
seqk_status seqk__check_tensor(seqk_context *ctx, const seqk_tensor *t,
                               const char *what, seqk_dtype dtype, int ndim);
/* Checks t has exactly the dims given; the message names what and the
 * expected shape, with `why` appended when not NULL
 * ("W has shape [1,12,5] but hidden_size=4 needs [1,16,5]"). */
seqk_status seqk__check_dims(seqk_context *ctx, const seqk_tensor *t,
                             const char *what, int ndim,
                             const int64_t *dims, const char *why);
/* Both: t is an f32 tensor of ctx with exactly dims. */
seqk_status seqk__check_f32_dims(seqk_context *ctx, const seqk_tensor *t,
                                 const char *what, int ndim,
                                 const int64_t *dims, const char *why);

/* tensor.c: the checks of a new tensor's descriptor (ndim in range,
 * dims non-NULL and >= 0, a known dtype, numel elements plus reserve
 * bytes addressable), messages starting with fn; *numel on success. */
seqk_status seqk__check_tensor_desc(seqk_context *ctx, const char *fn,
                                    int ndim, const int64_t *dims,
                                    seqk_dtype dtype, size_t reserve,
                                    int64_t *numel);

/* Whether the data of two tensors share memory (NULLs and empty tensors
 * never do); outputs must not overlap inputs. */
int seqk__tensors_overlap(const seqk_tensor *a, const seqk_tensor *b);

/* Checks a size-versioned struct: non-NULL and struct_size at least the
 * size of its first version (min_size).  Later fields are read only when
 * struct_size covers them. */
seqk_status seqk__check_struct(seqk_context *ctx, const void *p,
                               size_t struct_size, size_t min_size,
                               const char *what);

/* The guard bytes after a tensor's data are intact (tests). */
int seqk__tensor_guard_intact(const seqk_tensor *t);
#define SEQK_TENSOR_GUARD_BYTES 64
#define SEQK_TENSOR_GUARD_BYTE 0xA5

/* 64-byte aligned allocation; size 0 gives a valid unique pointer. */
void *seqk__aligned_alloc(size_t bytes);
void seqk__aligned_free(void *p);

/* dispatch.c: picks the backend for op/problem as described in backend.h
 * and runs it; records a message when the kernel fails without one. */
seqk_status seqk__dispatch(seqk_context *ctx, seqk_op op, const void *problem);

/* op_tensor.c: records "Gather index <id> at indices[<pos>] is outside
 * ..." for the id at flat position j of p's indices (device backends that
 * find a bad id call it) and returns SEQK_ERR_INVALID_ARG. */
seqk_status seqk__gather_bad_id(seqk_context *ctx,
                                const struct seqk_gather_problem *p,
                                int64_t j, int64_t id);

/* The context's thread pool (ctx->threads threads), created on first
 * use; NULL when it cannot be created (callers then run on one thread). */
seqk_threadpool *seqk__pool(seqk_context *ctx);

#endif /* SEQK_CORE_INTERNAL_H */
