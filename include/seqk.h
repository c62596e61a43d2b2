/*
 * seqk.h — the one public header of seqk, a portable backend for the kernels
 * of sequence models (RNN/LSTM/GRU layers, matmuls, softmax, attention).
 *
 * Conventions
 *   - Every function returns a seqk_status; SEQK_OK is 0.
 *   - Handles are opaque.  Option/parameter structs start with struct_size:
 *     set it to sizeof(the struct) (the *_init helpers do), so that later
 *     versions of the library can add fields without breaking old callers.
 *   - On an error, seqk_last_error(ctx) holds one line saying what was wrong.
 *     Errors that happen without a context (seqk_context_create) are kept per
 *     thread and returned by seqk_last_error(NULL).
 *   - The library never aborts and never prints, except under SEQK_VERBOSE.
 *   - Outputs are written only when the call returns SEQK_OK; on an error
 *     their content is unspecified unless the function says otherwise.
 *   - A context and its tensors may be used by one thread at a time (like a
 *     cuDNN handle); use one context per thread for concurrent calls.  The
 *     context itself runs ops on `threads` worker threads.
 *   - Semantics follow the ONNX operators (Gemm, MatMul, Softmax-13, RNN,
 *     LSTM, GRU, Attention-23); see README.md for the notes.
 */
#ifndef SEQK_H
#define SEQK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the shared library exports: every other symbol is hidden
 * (-fvisibility=hidden), so the ABI is exactly this header. */
#if defined(_WIN32) && defined(SEQK_BUILDING_DLL)
#define SEQK_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define SEQK_API __attribute__((visibility("default")))
#else
#define SEQK_API
#endif

#define SEQK_VERSION_MAJOR 0
#define SEQK_VERSION_MINOR 1
#define SEQK_VERSION_PATCH 0

/* ------------------------------------------------------------------ status */

typedef enum seqk_status {
    SEQK_OK = 0,
    SEQK_ERR_INVALID_ARG,   /* NULL pointer, bad enum, bad attribute value */
    SEQK_ERR_SHAPE,         /* tensor ranks or dimensions do not fit */
    SEQK_ERR_DTYPE,         /* tensor element type does not fit */
    SEQK_ERR_UNSUPPORTED,   /* valid request this build/backend cannot do */
    SEQK_ERR_NO_DEVICE,     /* the device spec names nothing available */
    SEQK_ERR_OUT_OF_MEMORY, /* host or device allocation failed */
    SEQK_ERR_OVERFLOW,      /* a size computation would overflow */
    SEQK_ERR_DEVICE,        /* the device or its driver failed */
    SEQK_ERR_IO,            /* a file could not be read or written */
    SEQK_ERR_FORMAT,        /* a file is malformed (npy, protobuf, ...) */
    SEQK_ERR_TUNING_DB,     /* the tuning database is unusable */
    SEQK_ERR_INTERNAL       /* a bug in seqk: please report it */
} seqk_status;

SEQK_API const char *seqk_status_string(seqk_status status);

typedef struct seqk_context seqk_context;
typedef struct seqk_tensor seqk_tensor;
typedef struct seqk_rnn seqk_rnn;

/* The last error message of ctx (or of this thread when ctx is NULL).
 * Never NULL; "" when there was no error.  Valid until the next call. */
SEQK_API const char *seqk_last_error(const seqk_context *ctx);

/* "0.1.0" */
SEQK_API const char *seqk_version_string(void);

/* ----------------------------------------------------------------- context */

typedef struct seqk_options {
    size_t struct_size;    /* sizeof(seqk_options) */
    const char *device;    /* NULL: $SEQK_DEVICE, else "auto".  One of
                              ref, cpu, avx2, avx512, neon, opencl,
                              opencl:P.D, auto */
    int threads;           /* 0: $SEQK_NUM_THREADS, else the default */
    const char *tuning_db; /* NULL: $SEQK_TUNING_DB, else the default path */
} seqk_options;

SEQK_API void seqk_options_init(seqk_options *opts);

/* opts may be NULL (all defaults). */
SEQK_API seqk_status seqk_context_create(const seqk_options *opts, seqk_context **ctx);
/* NULL is accepted and ignored.  Tensors and RNN plans made on ctx keep
 * it alive: they stay usable until destroyed, and the context's memory
 * and device go with the last of them. */
SEQK_API seqk_status seqk_context_destroy(seqk_context *ctx);

/* The backend that ops of this context run on, e.g. "ref". */
SEQK_API const char *seqk_context_device(const seqk_context *ctx);
SEQK_API int seqk_context_threads(const seqk_context *ctx);
/* Waits until every op enqueued on ctx has finished.  Ops on OpenCL
 * devices are enqueued and return before the device has run them (reads
 * of a tensor wait for them); host backends finish before returning, so
 * this is a no-op there.  Use it to time ops. */
SEQK_API seqk_status seqk_context_synchronize(seqk_context *ctx);
/* Waits, then *ms = device time of the OpenCL kernels ctx launched since
 * the previous call (from profiling events; CLBlast's kernels are not
 * counted).  Profiling is on when SEQK_OPENCL_PROFILE=1 at context
 * creation, or for a wrapped queue created with profiling.
 * SEQK_ERR_UNSUPPORTED on host devices or without profiling. */
SEQK_API seqk_status seqk_context_device_time(seqk_context *ctx, double *ms);

/* ----------------------------------------------------------------- devices */

typedef enum seqk_device_kind {
    SEQK_DEVICE_REFERENCE = 0, /* scalar C: the oracle */
    SEQK_DEVICE_CPU_SIMD,      /* hand-vectorized CPU kernels */
    SEQK_DEVICE_OPENCL         /* an OpenCL device */
} seqk_device_kind;

typedef struct seqk_device_info {
    size_t struct_size;       /* sizeof(seqk_device_info) */
    char spec[32];            /* what to pass as options.device: "ref", "avx2" */
    char name[128];           /* human-readable */
    seqk_device_kind kind;
    int available;            /* 1 if a context can be created on it */
    char why_unavailable[160];/* when available == 0 */
} seqk_device_info;

/* Every device seqk knows of, available or not: reference first. */
SEQK_API seqk_status seqk_device_count(int *count);
SEQK_API seqk_status seqk_device_info_get(int index, seqk_device_info *info);

/* CPU ISA features seen at run time, e.g. "sse2 avx avx2 fma avx512f". */
SEQK_API const char *seqk_cpu_features(void);

/* What seqk found out about the CPU (what `seqk info` prints): how it was
 * detected, the ISA features (space-separated names, as in
 * seqk_cpu_features), caches and cores. */
typedef struct seqk_cpu_info {
    size_t struct_size;            /* sizeof(seqk_cpu_info) */
    char name[64];                 /* marketing name; "" if unknown */
    char detection[96];            /* "cpuinfo", or the fallback and why */
    char features_detected[160];   /* what the hardware and OS offer */
    char features_masked[160];     /* of those, what SEQK_DISABLE_CPU_FEATURES
                                      removes ("" when nothing) */
    char features_used[160];       /* detected minus masked */
    /* Data caches of one core, bytes per instance (l3 0: none known);
     * *_shared_by: physical cores sharing one instance (l3: 0 when none). */
    size_t l1d, l2, l3;
    int l2_shared_by, l3_shared_by;
    int physical_cores;
    int logical_cores;             /* that this process may run on */
    int default_threads;           /* threads without SEQK_NUM_THREADS */
} seqk_cpu_info;

/* Fills info (set info->struct_size first).  SEQK_ERR_INVALID_ARG when
 * info is NULL or its struct_size is too small. */
SEQK_API seqk_status seqk_cpu_info_get(seqk_cpu_info *info);

/* The number of ops seqk dispatches (gemm, matmul, softmax, rnn_layer,
 * attention, seq_attention, gather, argmax, topk, elementwise, concat):
 * the indices seqk_context_op_kernel takes. */
SEQK_API seqk_status seqk_op_count(int *count);

/* The kernel dispatch picks for an op on a context: that of the best
 * backend of the context that has one and does not refuse the op as a
 * whole.  A backend may still refuse a particular shape at run time
 * (SEQK_VERBOSE=dispatch shows it).  A backend that decides per call
 * (the OpenCL offload of `auto` contexts, large problems only) is listed
 * in refused and the kernel is the one that runs everything else. */
typedef struct seqk_op_kernel {
    size_t struct_size;   /* sizeof(seqk_op_kernel) */
    char op[32];          /* "gemm", "rnn_layer", ... */
    char kernel[64];      /* "seqk_f32_gemm__avx2"; "" when none */
    char backend[32];     /* its backend: "avx2", "opencl", "opencl-offload"
                             ("" when none) */
    char refused[256];    /* better backends that refused the op:
                             "spec: why; spec: why"; "" when none */
} seqk_op_kernel;

/* Fills info for op index op (0 .. seqk_op_count - 1) on ctx.
 * SEQK_ERR_INVALID_ARG for a NULL ctx or info, a too small struct_size
 * or an op outside the range. */
SEQK_API seqk_status seqk_context_op_kernel(seqk_context *ctx, int op,
                                   seqk_op_kernel *info);

/* The facts of a context's accelerator device (OpenCL), as its driver
 * reports them. */
typedef struct seqk_device_facts {
    size_t struct_size;           /* sizeof(seqk_device_facts) */
    int present;                  /* 0: the context runs on the host only
                                     (the fields below are empty) */
    char name[128];
    char vendor[128];
    char driver_version[64];
    char version[256];            /* e.g. "OpenCL 3.0 ..." */
    unsigned compute_units;
    size_t max_work_group_size;
    uint64_t local_mem_size;      /* bytes */
    uint64_t global_mem_size;     /* bytes */
    int fp16;                     /* half precision arithmetic */
} seqk_device_facts;

/* Fills facts for ctx's device: present = 1 and the facts when ctx has
 * an accelerator device; present = 0 when it runs on the host only (ref
 * and the CPU backends, and every context of a build without OpenCL).
 * SEQK_ERR_INVALID_ARG for a NULL ctx or facts or a too small
 * struct_size. */
SEQK_API seqk_status seqk_context_device_facts(seqk_context *ctx,
                                      seqk_device_facts *facts);

/* ----------------------------------------------------------------- tensors */

typedef enum seqk_dtype {
    SEQK_F32 = 1,
    SEQK_I32 = 2,
    SEQK_BOOL = 3, /* one byte per element, 0 or 1 */
    SEQK_I64 = 4,  /* indices: Gather ids, ArgMax/TopK outputs */
    /* bfloat16 (8-bit exponent, 7-bit mantissa): a weight storage type
     * only (seqk_linear_desc / seqk_rnn_desc weight_dtype); tensors of it
     * are refused (SEQK_ERR_DTYPE); seqk_dtype_size gives 2. */
    SEQK_BF16 = 5
} seqk_dtype;

#define SEQK_MAX_DIMS 8

SEQK_API size_t seqk_dtype_size(seqk_dtype dtype); /* 0 for an unknown dtype */

/* ndim 0..SEQK_MAX_DIMS; dims >= 0 (zero-sized tensors are allowed). */
SEQK_API seqk_status seqk_tensor_create(seqk_context *ctx, int ndim,
                               const int64_t *dims, seqk_dtype dtype,
                               seqk_tensor **tensor);
SEQK_API seqk_status seqk_tensor_destroy(seqk_tensor *tensor); /* NULL ignored */
/* bytes must equal the tensor's size in bytes. */
SEQK_API seqk_status seqk_tensor_write(seqk_tensor *tensor, const void *host,
                              size_t bytes);
SEQK_API seqk_status seqk_tensor_read(const seqk_tensor *tensor, void *host,
                             size_t bytes);

SEQK_API int seqk_tensor_ndim(const seqk_tensor *tensor);
SEQK_API int64_t seqk_tensor_dim(const seqk_tensor *tensor, int axis); /* -1 if bad */
SEQK_API seqk_dtype seqk_tensor_dtype(const seqk_tensor *tensor);
SEQK_API int64_t seqk_tensor_numel(const seqk_tensor *tensor);
SEQK_API size_t seqk_tensor_bytes(const seqk_tensor *tensor);

/* ------------------------------------------------ tensor ops and views */

/* Views share the memory of the tensor they come from (no copy): writes
 * through one are seen through the other.  A view is a tensor like any
 * other, usable as the input or output of every op, and destroyed with
 * seqk_tensor_destroy.  The memory is reference-counted: it lives until
 * the tensor and every view of it are destroyed, in any order.  Views of
 * views share the same memory.
 *
 * Reshape: the same elements (row-major) under another shape of the same
 * element count.  dims are >= 0 (0 is a zero-size dimension, as ONNX
 * Reshape with allowzero=1), and at most one may be -1 (inferred).
 *   Y [T,B,2,H] -> keys [T,B,2H]: seqk_tensor_reshape_view(Y, 3, d, &keys) */
SEQK_API seqk_status seqk_tensor_reshape_view(seqk_tensor *tensor, int ndim,
                                              const int64_t *dims,
                                              seqk_tensor **view);
/* Elements [start, start + len) along axis (negative counts from the end):
 * the tensor's shape with dims[axis] = len.  The slice must be one
 * contiguous block, so every dimension before axis must be 1 (axis 0 is
 * always contiguous); SEQK_ERR_SHAPE otherwise.
 *   row b of X [B,D]: seqk_tensor_slice_view(X, 0, b, 1, &row)  ([1,D]) */
SEQK_API seqk_status seqk_tensor_slice_view(seqk_tensor *tensor, int axis,
                                            int64_t start, int64_t len,
                                            seqk_tensor **view);

/* A tensor over the caller's host memory (no copy), on host contexts
 * (ref, cpu, avx2, avx512, neon): ops read and write `host` directly.
 * bytes must equal the tensor's size; host must be aligned to the element
 * size (4 for f32/i32, 8 for i64; the kernels need no more) and stay valid
 * until the tensor and its views are destroyed (seqk never frees it).
 * On OpenCL contexts SEQK_ERR_UNSUPPORTED: wrap a cl_mem with
 * seqk_opencl_tensor_wrap (seqk_opencl.h) instead. */
SEQK_API seqk_status seqk_tensor_wrap(seqk_context *ctx, int ndim,
                                      const int64_t *dims, seqk_dtype dtype,
                                      void *host, size_t bytes,
                                      seqk_tensor **tensor);

/* ONNX Gather: output = data.shape[:axis] + indices.shape +
 * data.shape[axis+1:], the dtype of data (f32, i32, i64 or bool).
 * indices i32 or i64; negative ids count from the end of the axis.  An id
 * outside [-n, n-1] is SEQK_ERR_INVALID_ARG with a message naming the id
 * and its position; nothing is read out of bounds.  Host contexts check
 * the ids before writing anything; OpenCL checks them on the device
 * (output rows of bad ids are zero) and reads back one error flag. */
SEQK_API seqk_status seqk_gather(seqk_context *ctx, int64_t axis,
                                 const seqk_tensor *data,
                                 const seqk_tensor *indices,
                                 seqk_tensor *output);

/* ONNX ArgMax (f32 in, i64 out).  keepdims 1: the axis stays with size 1;
 * 0: it is removed.  Ties give the first index, or the last with
 * select_last_index.  NaN counts as larger than every number. */
typedef struct seqk_argmax_params {
    size_t struct_size;
    int64_t axis;            /* default 0 */
    int keepdims;            /* default 1 */
    int select_last_index;   /* default 0 */
} seqk_argmax_params;
SEQK_API void seqk_argmax_params_init(seqk_argmax_params *p);
SEQK_API seqk_status seqk_argmax(seqk_context *ctx,
                                 const seqk_argmax_params *params,
                                 const seqk_tensor *X, seqk_tensor *Y);

/* ONNX TopK: the k largest (or smallest) elements along axis.  values
 * (f32) and indices (i64) have X's shape with dims[axis] = k; 0 <= k <=
 * dims[axis].  Results are in order (largest first, or smallest first);
 * equal values give the lower index first; NaN counts as larger than
 * every number.  sorted = 0 is accepted and gives the same order. */
typedef struct seqk_topk_params {
    size_t struct_size;
    int64_t k;
    int64_t axis;            /* default -1 */
    int largest;             /* default 1 */
    int sorted;              /* default 1 */
} seqk_topk_params;
SEQK_API void seqk_topk_params_init(seqk_topk_params *p, int64_t k);
SEQK_API seqk_status seqk_topk(seqk_context *ctx,
                               const seqk_topk_params *params,
                               const seqk_tensor *X, seqk_tensor *values,
                               seqk_tensor *indices);

/* Element-wise ops (f32, except the comparisons and logic below).
 * Binary ops take A and B with ONNX
 * multidirectional (numpy) broadcasting; unary ops take A and B = NULL.
 * Y has the broadcast shape and may be A or B itself (in place) when that
 * input already has Y's shape; other overlaps are refused.  Values are
 * grouped by arity so that later ops (Pow, Sqrt, Erf, ...) join without
 * renumbering. */
typedef enum seqk_elementwise_op {
    SEQK_EW_ADD = 0,         /* A + B */
    SEQK_EW_SUB,             /* A - B */
    SEQK_EW_MUL,             /* A * B */
    SEQK_EW_DIV,             /* A / B (IEEE: x/0 is inf or NaN) */
    SEQK_EW_POW,             /* powf(A, B) (C99 rules: pow(x, 0) = 1) */
    /* Comparisons and logic: Y is bool (0/1).  Equal, Less, Greater,
     * LessOrEqual and GreaterOrEqual take A and B of one dtype, f32, i32
     * or i64 (Equal also bool); NaN compares false (Equal(NaN, NaN) = 0).
     * And, Or (binary) and Not (unary) take bool. */
    SEQK_EW_EQUAL,
    SEQK_EW_LESS,
    SEQK_EW_GREATER,
    SEQK_EW_LESS_OR_EQUAL,
    SEQK_EW_GREATER_OR_EQUAL,
    SEQK_EW_AND,
    SEQK_EW_OR,
    SEQK_EW_TANH = 100,
    SEQK_EW_SIGMOID,         /* 1 / (1 + exp(-A)) */
    SEQK_EW_RELU,            /* max(A, 0) */
    SEQK_EW_EXP,
    SEQK_EW_NEG,             /* -A */
    SEQK_EW_SQRT,
    SEQK_EW_ABS,
    SEQK_EW_LOG,             /* natural log; log(0) = -inf, log(<0) = NaN */
    SEQK_EW_ERF,
    SEQK_EW_LEAKY_RELU,      /* A >= 0 ? A : alpha*A (alpha default 0.01) */
    SEQK_EW_GELU,            /* Gelu approximate="none": A/2 (1+erf(A/√2)) */
    SEQK_EW_GELU_TANH,       /* approximate="tanh":
                                A/2 (1+tanh(√(2/π) (A + 0.044715 A^3))) */
    SEQK_EW_HARD_SIGMOID,    /* max(0, min(1, alpha*A + beta)),
                                defaults 0.2, 0.5 */
    SEQK_EW_CLIP,            /* min(max(A, alpha), beta): alpha = min,
                                beta = max, defaults -inf, +inf; NaN stays */
    SEQK_EW_NOT              /* bool in, bool out */
} seqk_elementwise_op;

typedef struct seqk_elementwise_params {
    size_t struct_size;
    seqk_elementwise_op op;
    float alpha, beta;       /* the op's attributes; init sets its defaults
                                (LeakyRelu, HardSigmoid, Clip), else 0 */
} seqk_elementwise_params;
SEQK_API void seqk_elementwise_params_init(seqk_elementwise_params *p,
                                           seqk_elementwise_op op);
/* 2 for binary ops, 1 for unary ones, 0 for a value that is no op. */
SEQK_API int seqk_elementwise_arity(seqk_elementwise_op op);
/* The ONNX name ("Add", case-insensitive; "GeluTanh" for Gelu with
 * approximate="tanh") to an op; -1 if unknown. */
SEQK_API int seqk_elementwise_from_name(const char *name);
SEQK_API const char *seqk_elementwise_name(seqk_elementwise_op op);
SEQK_API seqk_status seqk_elementwise(seqk_context *ctx,
                                      const seqk_elementwise_params *params,
                                      const seqk_tensor *A,
                                      const seqk_tensor *B, seqk_tensor *Y);

/* ONNX Concat of n >= 1 inputs of one dtype along axis (negative counts
 * from the end): every other dimension equal; output's dims[axis] is the
 * sum.  The output must not overlap an input. */
SEQK_API seqk_status seqk_concat(seqk_context *ctx, int64_t axis, int n,
                                 const seqk_tensor *const *inputs,
                                 seqk_tensor *output);

/* ------------------------------------------------------------ ONNX ops */

/* Further ONNX ops for the model runner, with ONNX semantics; every op
 * runs on every device.  Outputs never overlap inputs unless said. */

/* ONNX Where: out = cond ? X : Y with multidirectional broadcasting of
 * the three; cond bool, X and Y (and out) one dtype, any. */
SEQK_API seqk_status seqk_where(seqk_context *ctx, const seqk_tensor *cond,
                                const seqk_tensor *X, const seqk_tensor *Y,
                                seqk_tensor *out);

/* ONNX Cast between f32, i32, i64 and bool, any way; X and Y of one
 * shape.  float -> int truncates toward zero; NaN and out-of-range floats
 * saturate (NaN -> 0, +-inf and beyond -> the type's max / min) where C
 * would be undefined; i64 -> i32 keeps the low 32 bits (two's complement
 * wrap, as numpy); anything -> bool is x != 0 (NaN -> 1); bool -> f32 is
 * 0 or 1. */
SEQK_API seqk_status seqk_cast(seqk_context *ctx, const seqk_tensor *X,
                               seqk_tensor *Y);

/* ONNX LogSoftmax-13 along one axis (negative counts from the end):
 * x - max - log(sum(exp(x - max))), stable for large inputs. */
SEQK_API seqk_status seqk_log_softmax(seqk_context *ctx, int64_t axis,
                                      const seqk_tensor *X, seqk_tensor *Y);

/* Layout ops: copies, any dtype. */

/* ONNX Transpose: Y.dims[i] = X.dims[perm[i]]; perm NULL (n ignored)
 * reverses the axes, as ONNX's default.  perm must be a permutation of
 * 0..rank-1 (n = rank). */
SEQK_API seqk_status seqk_transpose(seqk_context *ctx, int n,
                                    const int64_t *perm,
                                    const seqk_tensor *X, seqk_tensor *Y);

/* ONNX Slice-13: n entries of starts, ends, axes (NULL: 0..n-1; negative
 * counts from the end; no axis twice) and steps (NULL: all 1; never 0).
 * starts/ends clamp as ONNX: negative + dim, then to [0, dim] for a
 * positive step and [-1, dim-1] for a negative one (INT64_MAX / MIN mean
 * "to the end").  Y has the sliced shape (possibly 0 on an axis). */
SEQK_API seqk_status seqk_slice(seqk_context *ctx, int n,
                                const int64_t *starts, const int64_t *ends,
                                const int64_t *axes, const int64_t *steps,
                                const seqk_tensor *X, seqk_tensor *Y);

/* ONNX Split: X cut along axis into n outputs; output i has X's shape
 * with dims[axis] = its own size, and those sizes must add up to X's.
 * (The ONNX split input or num_outputs only decides those shapes.) */
SEQK_API seqk_status seqk_split(seqk_context *ctx, int64_t axis, int n,
                                const seqk_tensor *X,
                                seqk_tensor *const *outputs);

/* ONNX Expand: X broadcast (numpy rules) to Y's shape.  The caller gives
 * Y the shape broadcast(X.shape, shape) as ONNX defines it; X must
 * broadcast to it (each X dim equal to Y's or 1). */
SEQK_API seqk_status seqk_expand(seqk_context *ctx, const seqk_tensor *X,
                                 seqk_tensor *Y);

/* ONNX Tile: repeats[i] >= 0 per X axis (rank entries);
 * Y.dims[i] = X.dims[i] * repeats[i]. */
SEQK_API seqk_status seqk_tile(seqk_context *ctx, const int64_t *repeats,
                               const seqk_tensor *X, seqk_tensor *Y);

typedef enum seqk_pad_mode {
    SEQK_PAD_CONSTANT = 0,
    SEQK_PAD_REFLECT,   /* mirror without repeating the edge (numpy) */
    SEQK_PAD_EDGE       /* repeat the edge value */
} seqk_pad_mode;

/* ONNX Pad-18: pads has 2*rank entries, all begins then all ends (ONNX's
 * order); a negative pad crops.  Y.dims[i] = X.dims[i] + begin + end.
 * value (constant mode) is converted to X's dtype.  Edge and reflect need
 * a non-empty axis where they pad; reflect on an axis of 1 repeats it. */
typedef struct seqk_pad_params {
    size_t struct_size;
    seqk_pad_mode mode;      /* default constant */
    double value;            /* default 0 */
} seqk_pad_params;
SEQK_API void seqk_pad_params_init(seqk_pad_params *p);
SEQK_API seqk_status seqk_pad(seqk_context *ctx,
                              const seqk_pad_params *params,
                              const int64_t *pads, const seqk_tensor *X,
                              seqk_tensor *Y);

/* ONNX ReduceSum / ReduceMean / ReduceMax-18 (f32): axes (naxes entries,
 * negative counts from the end, no axis twice); naxes = 0 reduces every
 * axis, or none (Y = X) with noop_with_empty_axes.  keepdims 1 keeps the
 * reduced axes with size 1.  Sums accumulate in a fixed order per output
 * (deterministic whatever the thread count).  Over an empty axis: Sum 0,
 * Mean NaN (0/0), Max -inf.  ReduceMax propagates NaN. */
typedef enum seqk_reduce_op {
    SEQK_REDUCE_SUM = 0,
    SEQK_REDUCE_MEAN,
    SEQK_REDUCE_MAX
} seqk_reduce_op;
typedef struct seqk_reduce_params {
    size_t struct_size;
    seqk_reduce_op op;
    int naxes;
    const int64_t *axes;
    int keepdims;               /* default 1 */
    int noop_with_empty_axes;   /* default 0 */
} seqk_reduce_params;
SEQK_API void seqk_reduce_params_init(seqk_reduce_params *p,
                                      seqk_reduce_op op);
SEQK_API seqk_status seqk_reduce(seqk_context *ctx,
                                 const seqk_reduce_params *params,
                                 const seqk_tensor *X, seqk_tensor *Y);

/* ONNX LayerNormalization-17 (f32): X normalized over axes axis..rank-1
 * (n elements per row), Y = (X - mean) / sqrt(var + epsilon) * scale +
 * bias.  scale (and bias, may be NULL) have X.shape[axis:] (leading 1s
 * may be dropped: numel n).  mean and inv_std_dev (each may be NULL) are
 * X's shape with dims axis.. set to 1. */
typedef struct seqk_layer_norm_params {
    size_t struct_size;
    int64_t axis;            /* default -1 */
    float epsilon;           /* default 1e-5 */
} seqk_layer_norm_params;
SEQK_API void seqk_layer_norm_params_init(seqk_layer_norm_params *p);
SEQK_API seqk_status seqk_layer_norm(seqk_context *ctx,
                                     const seqk_layer_norm_params *params,
                                     const seqk_tensor *X,
                                     const seqk_tensor *scale,
                                     const seqk_tensor *bias,
                                     seqk_tensor *Y, seqk_tensor *mean,
                                     seqk_tensor *inv_std_dev);

/* ONNX Conv with one spatial dimension (f32): X [N,C,L], W [M,C/group,K],
 * B [M] or NULL, Y [N,M,Lout],
 *   Lout = (L + pad_begin + pad_end - dilation*(K-1) - 1) / stride + 1.
 * auto_pad SAME_UPPER / SAME_LOWER pick the pads for Lout = ceil(L /
 * stride) (the odd one at the end / the beginning) and VALID uses none;
 * then pad_begin/pad_end are ignored.  input_channels_last: X is given as
 * [N,L,C] (what a Transpose(0,2,1) of a [batch,time,features] tensor
 * would feed the conv).  output_channels_last: Y is written as [N,Lout,M]
 * (what a Transpose(0,2,1) after the conv would make; a chain of convs
 * stays channels-last).  Either flag is independent of the other. */
typedef enum seqk_auto_pad {
    SEQK_AUTO_PAD_NOTSET = 0,
    SEQK_AUTO_PAD_SAME_UPPER,
    SEQK_AUTO_PAD_SAME_LOWER,
    SEQK_AUTO_PAD_VALID
} seqk_auto_pad;
typedef struct seqk_conv_params {
    size_t struct_size;
    int64_t stride, dilation;      /* defaults 1 */
    int64_t pad_begin, pad_end;    /* defaults 0 */
    int64_t group;                 /* default 1 */
    seqk_auto_pad auto_pad;        /* default NOTSET */
    int input_channels_last;       /* X is [N,L,C] (default 0: [N,C,L]) */
    int output_channels_last;      /* Y is [N,Lout,M] (default 0: [N,M,Lout]) */
} seqk_conv_params;
SEQK_API void seqk_conv_params_init(seqk_conv_params *p);
SEQK_API seqk_status seqk_conv1d(seqk_context *ctx,
                                 const seqk_conv_params *params,
                                 const seqk_tensor *X, const seqk_tensor *W,
                                 const seqk_tensor *B, seqk_tensor *Y);

/* --------------------------------------------------------------- matmuls */

/* ONNX Gemm: Y = alpha * A' * B' + beta * C, A' = transA ? A^T : A.
 * A is [M,K] ([K,M] if trans_a), B is [K,N] ([N,K] if trans_b); C (may be
 * NULL) broadcasts unidirectionally to [M,N]: [], [1], [N], [1,N], [M,1],
 * [M], ... as ONNX allows; Y is [M,N]. */
typedef struct seqk_gemm_params {
    size_t struct_size;
    int trans_a, trans_b;
    float alpha, beta; /* defaults 1, 1 */
} seqk_gemm_params;

SEQK_API void seqk_gemm_params_init(seqk_gemm_params *p);
SEQK_API seqk_status seqk_gemm(seqk_context *ctx, const seqk_gemm_params *params,
                      const seqk_tensor *A, const seqk_tensor *B,
                      const seqk_tensor *C, seqk_tensor *Y);

/* ONNX MatMul (numpy matmul): batched with broadcasting, 1-D operands
 * promoted and the promoted axis removed from Y. */
SEQK_API seqk_status seqk_matmul(seqk_context *ctx, const seqk_tensor *A,
                        const seqk_tensor *B, seqk_tensor *Y);

/* ONNX Softmax-13 along one axis (negative counts from the end). */
SEQK_API seqk_status seqk_softmax(seqk_context *ctx, int64_t axis,
                         const seqk_tensor *X, seqk_tensor *Y);

/* -------------------------------------------------------------- RNN plans */

typedef enum seqk_cell {
    SEQK_CELL_RNN = 0, /* 1 gate  */
    SEQK_CELL_LSTM,    /* 4 gates, ONNX order i,o,f,c */
    SEQK_CELL_GRU      /* 3 gates, ONNX order z,r,h */
} seqk_cell;

typedef enum seqk_direction {
    SEQK_FORWARD = 0,
    SEQK_REVERSE,
    SEQK_BIDIRECTIONAL
} seqk_direction;

/* The eleven ONNX RNN activation functions. */
typedef enum seqk_act_kind {
    SEQK_ACT_RELU = 0,
    SEQK_ACT_TANH,
    SEQK_ACT_SIGMOID,
    SEQK_ACT_AFFINE,           /* alpha*x + beta */
    SEQK_ACT_LEAKY_RELU,       /* x >= 0 ? x : alpha*x */
    SEQK_ACT_THRESHOLDED_RELU, /* x >= alpha ? x : 0 */
    SEQK_ACT_SCALED_TANH,      /* alpha*tanh(beta*x) */
    SEQK_ACT_HARD_SIGMOID,     /* min(max(alpha*x + beta, 0), 1) */
    SEQK_ACT_ELU,              /* x >= 0 ? x : alpha*(e^x - 1) */
    SEQK_ACT_SOFTSIGN,         /* x / (1 + |x|) */
    SEQK_ACT_SOFTPLUS,         /* log(1 + e^x) */
    SEQK_ACT_COUNT_
} seqk_act_kind;

typedef struct seqk_activation {
    seqk_act_kind kind;
    float alpha, beta;
} seqk_activation;

/* The ONNX name ("LeakyRelu", case-insensitive) to a kind; -1 if unknown. */
SEQK_API int seqk_act_from_name(const char *name);
SEQK_API const char *seqk_act_name(seqk_act_kind kind);
/* kind with the default alpha/beta onnxruntime uses (LeakyRelu 0.01,
 * ThresholdedRelu 1, ScaledTanh 1/1, HardSigmoid 0.2/0.5, Elu 1, Affine 1/0). */
SEQK_API seqk_activation seqk_activation_default(seqk_act_kind kind);
/* Whether kind reads alpha / beta: activation_alpha/beta lists are consumed
 * only by the functions that read them, in order (as onnxruntime does). */
SEQK_API int seqk_act_uses_alpha(seqk_act_kind kind);
SEQK_API int seqk_act_uses_beta(seqk_act_kind kind);

#define SEQK_RNN_MAX_ACTIVATIONS 6 /* 3 per direction (LSTM f,g,h) */

typedef struct seqk_rnn_desc {
    size_t struct_size;
    seqk_cell cell;
    int64_t input_size;   /* I of layer 0 */
    int64_t hidden_size;  /* H */
    seqk_direction direction;
    int layout;           /* 0: X [T,B,I]; 1: X [B,T,I] (ONNX layout) */
    int num_layers;       /* >= 1; layer l>0 reads layer l-1's output */
    /* 0: the ONNX defaults (RNN Tanh; LSTM Sigmoid,Tanh,Tanh; GRU
     * Sigmoid,Tanh).  Else 1,2,3 per direction; for bidirectional the
     * forward ones first then the reverse ones, or just one set used for
     * both directions. */
    int num_activations;
    seqk_activation activations[SEQK_RNN_MAX_ACTIVATIONS];
    float clip;               /* > 0: clip gate pre-activations to [-clip, clip]; 0: none */
    int input_forget;         /* LSTM: couple input and forget gates */
    int linear_before_reset;  /* GRU */
    /* How the plan stores W and R: SEQK_F32 (default; 0 means the same)
     * or SEQK_BF16: seqk_rnn_set_weights rounds them to bfloat16 (to
     * nearest, ties to even; NaN and inf kept, finite values past the bf16
     * range become inf).  The result is exactly the f32 computation with
     * the rounded weights; activations, biases, peepholes, states and
     * accumulation stay f32.  CPU backends stream the bf16 panels in the
     * batch-1 step (half the bytes); README "bf16 weights". */
    seqk_dtype weight_dtype;
} seqk_rnn_desc;

/* Fills defaults: one forward layer, layout 0, default activations. */
SEQK_API void seqk_rnn_desc_init(seqk_rnn_desc *desc, seqk_cell cell,
                        int64_t input_size, int64_t hidden_size);

SEQK_API seqk_status seqk_rnn_create(seqk_context *ctx, const seqk_rnn_desc *desc,
                            seqk_rnn **rnn);
SEQK_API seqk_status seqk_rnn_destroy(seqk_rnn *rnn); /* NULL ignored */

/* Weight formats.  D = number of directions, G = gates (1, 3 or 4), H
 * hidden, I input size of the layer.
 *   ONNX:    W [D,G*H,I], R [D,G*H,H], B [D,2*G*H] (Wb then Rb), gates in
 *            ONNX order (LSTM i,o,f,c; GRU z,r,h).
 *   PYTORCH: as ONNX but gates in PyTorch order (LSTM i,f,g,o; GRU r,z,n)
 *            and B = [b_ih, b_hh] per direction.  PyTorch GRU is
 *            linear_before_reset=1.
 *   CUDNN:   cuDNN's canonical per-gate matrices, same gate orders and
 *            shapes as PYTORCH (LSTM i,f,c,o; GRU r,z,h).
 *   ONEDNN:  oneDNN ldigo/ldgo layouts for one layer: W [D,I,G,H],
 *            R [D,H,G,H], B [D,G,H] ([D,4,H] for linear-before-reset GRU);
 *            LSTM i,f,c,o; GRU u(z),r,o(h).
 * P (LSTM peepholes) is always ONNX [D,3*H] in order i,o,f; may be NULL. */
typedef enum seqk_weight_format {
    SEQK_WEIGHTS_ONNX = 0,
    SEQK_WEIGHTS_PYTORCH,
    SEQK_WEIGHTS_CUDNN,
    SEQK_WEIGHTS_ONEDNN
} seqk_weight_format;

/* Sets the weights of one layer; B and P may be NULL (zero).  Weights are
 * copied: the tensors may be destroyed afterwards. */
SEQK_API seqk_status seqk_rnn_set_weights(seqk_rnn *rnn, int layer,
                                 seqk_weight_format format,
                                 const seqk_tensor *W, const seqk_tensor *R,
                                 const seqk_tensor *B, const seqk_tensor *P);

/* Host-side conversion between formats for one layer (no context).  B_in
 * may be NULL (zero bias); B_out must hold the format's bias size.  The
 * sizes are those documented above.  linear_before_reset matters for GRU:
 * PyTorch and cuDNN GRU weights mean linear_before_reset=1 and are refused
 * otherwise.  Going to ONEDNN, the biases ONNX keeps apart (Wb, Rb) are
 * summed where oneDNN has one bias. */
SEQK_API seqk_status seqk_rnn_convert_weights(seqk_cell cell, int linear_before_reset,
                                     int num_directions, int64_t hidden_size,
                                     int64_t input_size,
                                     seqk_weight_format from,
                                     seqk_weight_format to,
                                     const float *W_in, const float *R_in,
                                     const float *B_in, float *W_out,
                                     float *R_out, float *B_out);
/* Number of floats of W, R, B for one layer in a format. */
SEQK_API seqk_status seqk_rnn_weight_sizes(seqk_cell cell, int linear_before_reset,
                                  int num_directions, int64_t hidden_size,
                                  int64_t input_size, seqk_weight_format fmt,
                                  size_t *w_count, size_t *r_count,
                                  size_t *b_count);

/* Runs all layers.  With L layers and D directions:
 *   X              [T,B,I] (layout 1: [B,T,I]), f32
 *   sequence_lens  [B] i32, 0 <= len <= T, or NULL (all T)
 *   initial_h/c    [L*D,B,H] (layout 1: [B,L*D,H]) or NULL (zeros)
 *   Y              [T,D,B,H] (layout 1: [B,T,D,H]) of the last layer, or NULL
 *   Y_h / Y_c      [L*D,B,H] (layout 1: [B,L*D,H]) or NULL
 * Y is zero past each sequence's length; Y_h/Y_c hold the state at the last
 * valid step (zero for length 0 without initial state). Y_c and initial_c
 * are for LSTM only. */
SEQK_API seqk_status seqk_rnn_forward(seqk_rnn *rnn, const seqk_tensor *X,
                             const seqk_tensor *sequence_lens,
                             const seqk_tensor *initial_h,
                             const seqk_tensor *initial_c, seqk_tensor *Y,
                             seqk_tensor *Y_h, seqk_tensor *Y_c);

/* ---------------------------------------------------- RNN training (slice 1)
 * cuDNN-style training: a training forward that also fills a workspace,
 * then a backward that reads it and gives the data gradients (dX,
 * dinitial_h, dinitial_c) and adds the weight gradients (dW, dR, dB, dP)
 * into per-layer gradient buffers the plan owns, read back in any weight
 * format.  The loss gradient flows in through dY, dY_h, dY_c.
 *
 * Semantics: those of seqk_rnn_forward, differentiated.  No gradient flows
 * past a sequence's length (Y is the constant 0 there); where clip was
 * active the gate's gradient is zero; at the kink of a piecewise function
 * (Relu, LeakyRelu, ThresholdedRelu, HardSigmoid, Elu) the derivative is
 * that of the left side, except ThresholdedRelu (x >= alpha: 1), as the
 * forward's comparisons go (Relu'(0) = 0 as in PyTorch).
 * Truncated BPTT: run each chunk with the previous chunk's Y_h (Y_c) as
 * initial_h (initial_c); nothing flows across the cut unless the caller
 * feeds the next chunk's dinitial_h back as the previous chunk's dY_h.
 *
 * Where it runs: the reference kernels, on ref and CPU contexts (the SIMD
 * backends have no training kernels yet: dispatch falls back to ref).
 * OpenCL contexts return SEQK_ERR_UNSUPPORTED. */

/* Floats of the f32 workspace tensor (any shape with that many elements,
 * on rnn's context) that a training forward over X of seq_len steps and
 * batch batch fills and the backward reads. */
SEQK_API seqk_status seqk_rnn_workspace_size(seqk_rnn *rnn, int64_t seq_len,
                                    int64_t batch, int64_t *floats);

/* seqk_rnn_forward (same tensors, same results: bit-equal on ref contexts,
 * within the SIMD forward's tolerance on CPU contexts, which run the
 * reference kernel here) that also fills workspace for seqk_rnn_backward.
 * The workspace is stamped with the plan, T, B and sequence_lens. */
SEQK_API seqk_status seqk_rnn_forward_training(seqk_rnn *rnn, const seqk_tensor *X,
                                      const seqk_tensor *sequence_lens,
                                      const seqk_tensor *initial_h,
                                      const seqk_tensor *initial_c,
                                      seqk_tensor *Y, seqk_tensor *Y_h,
                                      seqk_tensor *Y_c,
                                      seqk_tensor *workspace);

typedef struct seqk_rnn_backward_args {
    size_t struct_size;              /* sizeof(seqk_rnn_backward_args) */
    /* The training forward's inputs (shapes as seqk_rnn_forward).  The
     * states themselves are read from the workspace; sequence_lens must
     * hold the values the forward saw. */
    const seqk_tensor *X, *sequence_lens, *initial_h, *initial_c;
    /* Gradients of the forward's outputs, shapes of Y, Y_h, Y_c; NULL =
     * zero. */
    const seqk_tensor *dY, *dY_h, *dY_c;
    /* Gradients wanted, shapes of X, initial_h, initial_c (overwritten);
     * NULL = not wanted. */
    seqk_tensor *dX, *dinitial_h, *dinitial_c;
    int accumulate;                  /* weight gradients: 0 overwrite, 1 add */
} seqk_rnn_backward_args;

/* All NULL, accumulate 0, struct_size set. */
SEQK_API void seqk_rnn_backward_args_init(seqk_rnn_backward_args *a);

/* Backpropagation through the whole sequence of the last training forward
 * that filled workspace (the plan's weights must not have changed since).
 * Weight gradients of every layer go to the plan's gradient buffers
 * (zeroed first unless a->accumulate). */
SEQK_API seqk_status seqk_rnn_backward(seqk_rnn *rnn, const seqk_rnn_backward_args *a,
                              const seqk_tensor *workspace);

/* The weight gradients of one layer in format (the shapes of
 * seqk_rnn_set_weights).  dB, dP may be NULL (not wanted); dP is LSTM
 * only.  Gradients convert like weights, except oneDNN's one bias per
 * gate: its gradient is that of the ONNX Wb (= that of Rb, both add to
 * the same pre-activation), not their sum.  A plan that never ran a
 * backward has zero gradients. */
SEQK_API seqk_status seqk_rnn_get_weight_grads(seqk_rnn *rnn, int layer,
                                      seqk_weight_format format,
                                      seqk_tensor *dW, seqk_tensor *dR,
                                      seqk_tensor *dB, seqk_tensor *dP);
/* Sets every layer's weight gradients to zero. */
SEQK_API seqk_status seqk_rnn_zero_weight_grads(seqk_rnn *rnn);

/* -------------------------------------------------------------- attention */

typedef enum seqk_causal_align {
    /* Query i attends key j iff j <= i: ONNX Attention-23 without a KV
     * cache, and PyTorch's scaled_dot_product_attention(is_causal=True). */
    SEQK_CAUSAL_TOP_LEFT = 0,
    /* Query i attends key j iff j <= i + (Skv - Sq): the queries are the
     * last Sq positions (ONNX with past_key, FlashAttention). */
    SEQK_CAUSAL_BOTTOM_RIGHT
} seqk_causal_align;

typedef struct seqk_attention_params {
    size_t struct_size;
    int64_t q_num_heads;  /* required for 3-D Q/K/V; 0 (or equal) for 4-D */
    int64_t kv_num_heads; /* likewise; must divide q_num_heads */
    float scale;          /* 0: 1/sqrt(head_size) */
    float softcap;        /* > 0: softcap*tanh(score/softcap) before masks */
    int is_causal;
    seqk_causal_align causal_align;
} seqk_attention_params;

SEQK_API void seqk_attention_params_init(seqk_attention_params *p);

/* ONNX Attention-23.  Q [B,Sq,Hq*Dh] or [B,Hq,Sq,Dh]; K [B,Skv,Hkv*Dh] or
 * [B,Hkv,Skv,Dh]; V [B,Skv,Hkv*Dv] or [B,Hkv,Skv,Dv]; attn_mask (may be
 * NULL) bool (true = attend) or f32 (added to the scores), 2-D to 4-D,
 * broadcast to [B,Hq,Sq,Skv]; a last dim shorter than Skv is padded as
 * masked (ONNX).  Y [B,Sq,Hq*Dv] or [B,Hq,Sq,Dv].  A query row with no key
 * left to attend gives zeros (not NaN). */
SEQK_API seqk_status seqk_attention(seqk_context *ctx,
                           const seqk_attention_params *params,
                           const seqk_tensor *Q, const seqk_tensor *K,
                           const seqk_tensor *V, const seqk_tensor *attn_mask,
                           seqk_tensor *Y);

typedef enum seqk_score_kind {
    SEQK_SCORE_DOT = 0,    /* q . k                        (Dq == Dk) */
    SEQK_SCORE_SCALED_DOT, /* q . k / sqrt(Dk)             (Dq == Dk) */
    SEQK_SCORE_GENERAL,    /* q^T W k, W [Dq,Dk] */
    SEQK_SCORE_ADDITIVE,   /* v^T tanh(W1 q + W2 k), W1 [A,Dq], W2 [A,Dk], v [A] */
    SEQK_SCORE_COSINE,     /* q . k / (|q| |k|)            (Dq == Dk) */
    SEQK_SCORE_LOCATION    /* (Wloc q)[s], Wloc [S,Dq]; keys only give values */
} seqk_score_kind;

SEQK_API int seqk_score_from_name(const char *name); /* "dot" ... "location"; -1 */
SEQK_API const char *seqk_score_name(seqk_score_kind kind);

typedef struct seqk_seq_attention_params {
    size_t struct_size;
    seqk_score_kind score;
} seqk_seq_attention_params;

SEQK_API void seqk_seq_attention_params_init(seqk_seq_attention_params *p);

/* Encoder-decoder attention.  query [B,Dq]; keys [B,S,Dk]; values [B,S,Dv]
 * or NULL (= keys); key_lens i32 [B] or NULL: positions s >= key_lens[b]
 * are masked (weight 0; a length of 0 gives zero weights and context);
 * the parameter tensors the score kind needs (others must be NULL).
 * Outputs: context [B,Dv]; weights [B,S] (may be NULL). */
typedef struct seqk_seq_attention_inputs {
    const seqk_tensor *query, *keys, *values, *key_lens;
    const seqk_tensor *W;         /* general */
    const seqk_tensor *W1, *W2, *v; /* additive */
    const seqk_tensor *Wloc;      /* location */
} seqk_seq_attention_inputs;

SEQK_API seqk_status seqk_seq_attention(seqk_context *ctx,
                               const seqk_seq_attention_params *params,
                               const seqk_seq_attention_inputs *in,
                               seqk_tensor *context, seqk_tensor *weights);

/* -------------------------------------------------- decode-step plans */

/* Plans for the work a decoder repeats at every step: whatever does not
 * depend on the step is done once, at create time.
 *
 * Keyed SeqAttention: the keys of one source sentence, projected once.
 * in is what seqk_seq_attention takes, without the query (in->query must
 * be NULL): keys, values (NULL: keys), key_lens (NULL: all S) and the
 * score kind's parameter tensors.  Every tensor is copied (it may be
 * destroyed or changed afterwards) and checked as seqk_seq_attention
 * checks it.  At create time:
 *   additive  wk = keys W2^T [B,S,A] (W2 is not kept), W1 packed by the
 *             backend on its first step
 *   general   kw = keys W^T  [B,S,Dq]: a step scores q . kw[s]
 *   location  Wloc packed by the backend on its first step
 * A step then computes only what depends on the query. */
typedef struct seqk_seq_attention_keys seqk_seq_attention_keys;

SEQK_API seqk_status seqk_seq_attention_keys_create(
    seqk_context *ctx, const seqk_seq_attention_params *params,
    const seqk_seq_attention_inputs *in, seqk_seq_attention_keys **keys);
SEQK_API seqk_status seqk_seq_attention_keys_destroy(
    seqk_seq_attention_keys *keys); /* NULL ignored */

/* One decoder step: query [B,Dq] -> context [B,Dv], weights [B,S] (may be
 * NULL), the results seqk_seq_attention gives for the same inputs (up to
 * rounding: general sums q^T (W k) instead of (W^T q)^T k).  ctx must be
 * the context keys was made on. */
SEQK_API seqk_status seqk_seq_attention_keyed(seqk_context *ctx,
                                     seqk_seq_attention_keys *keys,
                                     const seqk_tensor *query,
                                     seqk_tensor *context,
                                     seqk_tensor *weights);

/* Linear layer (ONNX Gemm with a constant B, PyTorch nn.Linear):
 *   Y = X W^T + b    W [N,K] (SEQK_LINEAR_NK, nn.Linear's weight), or
 *   Y = X W   + b    W [K,N] (SEQK_LINEAR_KN)
 * K = in_features, N = out_features; b [N] or NULL.  The plan copies W and
 * b; CPU backends pack W once (on the first forward) and keep it packed.
 * Batches of 1..4 rows run as a matrix-vector product that streams the
 * packed weights once for all rows, threads splitting N. */
typedef enum seqk_linear_layout {
    SEQK_LINEAR_NK = 0, /* W [out_features, in_features] */
    SEQK_LINEAR_KN      /* W [in_features, out_features] */
} seqk_linear_layout;

typedef struct seqk_linear_desc {
    size_t struct_size;          /* sizeof(seqk_linear_desc) */
    int64_t in_features;         /* K >= 1 */
    int64_t out_features;        /* N >= 1 */
    seqk_linear_layout weight_layout;
    /* SEQK_F32 (default; 0 means the same) or SEQK_BF16: W is rounded to
     * bfloat16 at create time (to nearest, ties to even; NaN and inf
     * kept), then Y is exactly the f32 product with the rounded W; X, b,
     * Y and accumulation stay f32.  CPU backends stream W as bf16 for 1..4
     * rows (half the bytes); README "bf16 weights". */
    seqk_dtype weight_dtype;
} seqk_linear_desc;

typedef struct seqk_linear seqk_linear;

/* Fills defaults: layout SEQK_LINEAR_NK. */
SEQK_API void seqk_linear_desc_init(seqk_linear_desc *desc,
                                    int64_t in_features,
                                    int64_t out_features);
/* W f32 in the desc's layout; b f32 [N] or NULL (no bias). */
SEQK_API seqk_status seqk_linear_create(seqk_context *ctx,
                                        const seqk_linear_desc *desc,
                                        const seqk_tensor *W,
                                        const seqk_tensor *b,
                                        seqk_linear **lin);
SEQK_API seqk_status seqk_linear_destroy(seqk_linear *lin); /* NULL ignored */
/* X [...,K] (any leading dims, flattened to M rows) -> Y [...,N] with the
 * same leading dims.  Tensors on the plan's context. */
SEQK_API seqk_status seqk_linear_forward(seqk_linear *lin,
                                         const seqk_tensor *X,
                                         seqk_tensor *Y);

/* ------------------------------------------------------------- models */

/* Whole ONNX models (README "Run an ONNX model").  A model is loaded once
 * (ONNX opsets 7..23, default domain); each distinct set of input shapes
 * gets a plan, made on first use and cached: shapes, constant folding,
 * dead-node removal, fusions, prepacked weights, buffers reused by
 * liveness.  Every node runs a library op on the model's context, so a
 * model runs on every device; on OpenCL the plan stays on the device.
 * Built without protobuf-c (meson -Donnx=disabled), load returns
 * SEQK_ERR_UNSUPPORTED.  Load errors are in seqk_last_error(NULL); errors
 * of a loaded model in seqk_last_error(seqk_model_context(m)).  Each names
 * the node, its op and opset and what is missing. */
typedef struct seqk_model seqk_model;

typedef struct seqk_model_options {
    size_t struct_size;      /* sizeof(seqk_model_options) */
    /* The context the model runs on (retained; the caller may destroy its
     * own reference).  NULL: the model makes its own from device and
     * threads. */
    seqk_context *context;
    const char *device;      /* NULL: $SEQK_DEVICE, else "auto" */
    int threads;             /* 0: $SEQK_NUM_THREADS, else the default */
    /* The graph outputs to compute (NULL: all); nodes that feed none of
     * them are dropped. */
    int n_outputs;
    const char *const *outputs;
    /* Folder external data is read from when loading from bytes (NULL:
     * external data is refused).  Ignored by seqk_model_load, which uses
     * the model file's folder. */
    const char *base_dir;
} seqk_model_options;

SEQK_API void seqk_model_options_init(seqk_model_options *opts);
/* opts may be NULL (all defaults). */
SEQK_API seqk_status seqk_model_load(const char *path,
                                     const seqk_model_options *opts,
                                     seqk_model **model);
SEQK_API seqk_status seqk_model_load_bytes(const void *data, size_t size,
                                           const seqk_model_options *opts,
                                           seqk_model **model);
SEQK_API seqk_status seqk_model_destroy(seqk_model *model); /* NULL ignored */
/* The context inputs must be made on (and outputs live on). */
SEQK_API seqk_context *seqk_model_context(const seqk_model *model);

/* A graph input or output as the model declares it.  dims[i] is -1 for a
 * symbolic or unknown dimension; dim_names[i] is then its name (or NULL).
 * Strings stay valid while the model lives. */
typedef struct seqk_model_io {
    size_t struct_size;      /* sizeof(seqk_model_io) */
    const char *name;
    seqk_dtype dtype;
    int ndim;                /* -1: rank unknown */
    int64_t dims[SEQK_MAX_DIMS];
    const char *dim_names[SEQK_MAX_DIMS];
} seqk_model_io;

SEQK_API int seqk_model_input_count(const seqk_model *model);
SEQK_API int seqk_model_output_count(const seqk_model *model);
SEQK_API seqk_status seqk_model_input_info(const seqk_model *model, int i,
                                           seqk_model_io *info);
SEQK_API seqk_status seqk_model_output_info(const seqk_model *model, int i,
                                            seqk_model_io *info);

/* What an integer input may hold, in the last plan prepared or run (so
 * that tools such as `seqk bench` can make valid random inputs): kind
 * SEQK_MODEL_INPUT_INDICES when it indexes a Gather (through Cast,
 * Reshape-like and Identity nodes): valid values lo..hi (0..axis length
 * - 1; negative ids are valid too); SEQK_MODEL_INPUT_LENGTHS when it is
 * an RNN's sequence_lens: lo..hi = 0..T; SEQK_MODEL_INPUT_OTHER otherwise
 * (lo = hi = 0).  Where an input feeds several such nodes, the tightest
 * range is given.  SEQK_ERR_INVALID_ARG before any plan exists. */
typedef enum seqk_model_input_kind {
    SEQK_MODEL_INPUT_OTHER = 0,
    SEQK_MODEL_INPUT_INDICES = 1,
    SEQK_MODEL_INPUT_LENGTHS = 2
} seqk_model_input_kind;

SEQK_API seqk_status seqk_model_input_range(const seqk_model *model, int i,
                                            seqk_model_input_kind *kind,
                                            int64_t *lo, int64_t *hi);

/* Runs the model.  inputs[i] (on the model's context, the dtype the model
 * declares) feeds the input named in_names[i] (in_names NULL: the model's
 * inputs in order; every input must be given).  outputs[i] receives the
 * output named out_names[i] (NULL: the outputs in order, n_out <= count):
 * a tensor OWNED BY THE MODEL, with its own dtype, valid until the next
 * run or prepare of the model or its destruction; read it, never destroy
 * it.  Running again with the same input shapes allocates nothing. */
SEQK_API seqk_status seqk_model_run(seqk_model *model, int n_in,
                                    const char *const *in_names,
                                    const seqk_tensor *const *inputs,
                                    int n_out, const char *const *out_names,
                                    seqk_tensor **outputs);
/* Makes (or finds) the plan for these input shapes without running it:
 * ndims[i], dims[i] of the input named in_names[i] (NULL: in order). */
SEQK_API seqk_status seqk_model_prepare(seqk_model *model, int n_in,
                                        const char *const *in_names,
                                        const int *ndims,
                                        const int64_t *const *dims);
/* Text describing the last plan prepared or run (one line per step: the
 * nodes, what they became after fusion, the kernel and device; then the
 * fusions and buffer totals), or the loaded graph when there is no plan
 * yet.  Like snprintf: writes at most len bytes (terminated when len > 0)
 * and returns the length of the whole text. */
SEQK_API size_t seqk_model_describe(seqk_model *model, char *buf,
                                    size_t len);

#ifdef __cplusplus
}
#endif

#endif /* SEQK_H */
