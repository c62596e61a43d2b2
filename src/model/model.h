/*
 * model.h — the ONNX model runner's insides: the graph IR the loader
 * builds, the op table the planner reads, and the plan the executor runs.
 *
 *   load  (onnx_load.c)  ModelProto -> graph: values (dtype, declared dims,
 *                        constant data) and nodes (op row, parsed attrs);
 *                        If branches inlined, one node per If selecting
 *   graph (graph.c)      name table, topological order, cycle check
 *   plan  (plan.c)       per input-shape set: shapes, constant folding on
 *                        the host, dead nodes, fusions, liveness -> buffers
 *   fuse  (fuse.c)       pattern fusions: attention, Gelu, LayerNorm
 *         (fuse_layout.c) layout folds: RNN layout 1, channels-last Conv
 *   exec  (plan_exec.c)  tensors over the buffers, one library op per step
 *   ops   (ops*.c)       the op table: one row per ONNX op
 *
 * Values are numbered; node inputs/outputs are value ids (-1 = absent).
 */
#ifndef SEQK_MODEL_MODEL_H
#define SEQK_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/internal.h"
#include "seqk.h"

/* Size caps (README "Run an ONNX model": limits). */
#define MDL_MAX_FILE_BYTES ((size_t)2 << 30)   /* protobuf's own limit */
#define MDL_MAX_NODES 200000
#define MDL_MAX_VALUES 800000
#define MDL_MAX_NODE_IO 64                     /* inputs or outputs of a node */
#define MDL_MAX_IF_DEPTH 8
#define MDL_MAX_FOLD_BYTES ((size_t)256 << 20) /* one folded constant */
#define MDL_MAX_PLANS 16                       /* cached shape sets */
#define MDL_OPSET_MIN 7
#define MDL_OPSET_MAX 23

/* A host tensor: initializers, Constant values, folded results. */
typedef struct mdl_host {
    seqk_dtype dtype;
    int ndim;
    int64_t dims[SEQK_MAX_DIMS];
    int64_t numel;
    size_t bytes;
    void *data;               /* malloc'd, never NULL (even when empty) */
} mdl_host;

mdl_host *seqk__mdl_host_new(seqk_dtype dtype, int ndim, const int64_t *dims);
void seqk__mdl_host_free(mdl_host *h);
/* Element i as int64 (i32/i64/bool) or as double (any dtype). */
int64_t seqk__mdl_host_i64(const mdl_host *h, int64_t i);
double seqk__mdl_host_f64(const mdl_host *h, int64_t i);

typedef struct mdl_value {
    char *name;
    seqk_dtype dtype;         /* 0 when not declared */
    int ndim;                 /* -1 when not declared */
    int64_t dims[SEQK_MAX_DIMS];      /* -1: symbolic or unknown */
    char *dim_names[SEQK_MAX_DIMS];   /* symbolic names (or NULL) */
    mdl_host *data;           /* initializer or Constant: known at load */
    int producer;             /* node id, -1 for inputs and initializers */
    int is_input, is_output;
} mdl_value;

struct mdl_op;

typedef struct mdl_node {
    char *name;               /* the node's name, or "#<index>" */
    const struct mdl_op *op;
    int opset;
    int n_in, n_out;
    int in[MDL_MAX_NODE_IO], out[MDL_MAX_NODE_IO];
    void *attrs;              /* the op's parsed attributes (malloc'd) */
} mdl_node;

typedef struct mdl_graph {
    mdl_value *values;
    int n_values, cap_values;
    mdl_node *nodes;
    int n_nodes, cap_nodes;
    int *order;               /* topological order of the nodes */
    int *inputs, n_inputs;    /* graph inputs that are not initializers */
    int *outputs, n_outputs;
    /* name -> value id (open addressing; graph.c) */
    int *table;
    size_t table_cap;
} mdl_graph;

int seqk__mdl_graph_find(const mdl_graph *g, const char *name);
/* A new value (name copied); -1 out of memory.  Names may repeat (If
 * branches are renamed by the loader, so they do not). */
int seqk__mdl_graph_add_value(mdl_graph *g, const char *name);
seqk_status seqk__mdl_graph_add_node(mdl_graph *g, mdl_node **node);
/* Topological order into g->order; SEQK_ERR_FORMAT naming a node of a
 * cycle. */
seqk_status seqk__mdl_graph_sort(mdl_graph *g);
void seqk__mdl_graph_free(mdl_graph *g);

/* ---- plans */

/* What the planner knows of a value for one input-shape set. */
typedef struct mdl_info {
    seqk_dtype dtype;
    int ndim;
    int64_t dims[SEQK_MAX_DIMS];
    const mdl_host *cval;     /* the value, when known at plan time */
} mdl_info;

struct mdl_plan;

/* A step: one node (or a fused group) and the tensors it runs on. */
typedef struct mdl_step {
    int node;                 /* the node the step runs */
    int fused;                /* a second node folded into it (-1) */
    const char *kind;         /* what it became: "matmul", "linear", ... */
    int n_in, n_out;
    int in[MDL_MAX_NODE_IO], out[MDL_MAX_NODE_IO];   /* value ids */
    void *state;              /* the op's plan objects (rnn, linear) */
    void (*free_state)(void *state);
    int views;                /* a view: no kernel runs */
    int linear;               /* fused into a seqk_linear plan: in[0] X,
                                 in[1] W, in[2] b (or -1); layout */
    seqk_linear_layout layout;
    int is_if;                /* If chosen at run time: in[0] cond, then
                                 outputs, else outputs */
    /* A pattern fused by fuse.c (attention, Gelu, LayerNorm): its own
     * plan-time setup (views, scratch; state made by fuse.c) and run,
     * instead of the node's row. */
    seqk_status (*fprepare)(seqk_context *ctx, struct mdl_step *s,
                            const mdl_info *in, seqk_tensor *const *tin,
                            seqk_tensor *const *tout);
    seqk_status (*frun)(seqk_context *ctx, void *state,
                        const seqk_tensor *const *in,
                        seqk_tensor *const *out);
} mdl_step;

/* Op rows: one per ONNX op type.  parse reads the node's attributes into
 * node->attrs; infer gives output dtypes/dims (and may use inputs' cval);
 * prepare makes the step's plan objects (may be NULL); run executes it
 * on the plan's tensors.  A row with kind MDL_OP_VIEW runs nothing: its
 * output 0 is a view of input 0.  MDL_OP_HOST rows only fold (all inputs
 * must be known at plan time).  fold, when set, computes the outputs on
 * the host; otherwise constant inputs are run through `run` on a host
 * (ref) context. */
enum { MDL_OP_KERNEL = 0, MDL_OP_VIEW, MDL_OP_HOST, MDL_OP_IF };

typedef struct mdl_run_args {
    seqk_context *ctx;
    const mdl_node *node;
    void *state;
    const seqk_tensor *const *in;  /* NULL for absent inputs */
    seqk_tensor *const *out;       /* NULL for unused outputs */
} mdl_run_args;

typedef struct mdl_op {
    const char *name;
    int opset_min, opset_max;
    int kind;
    const char *core_op;      /* the library op's name ("gemm"), or NULL */
    seqk_status (*parse)(mdl_node *n, const void *proto, char *err);
    seqk_status (*infer)(const mdl_node *n, const mdl_info *in,
                         mdl_info *out, char *err);
    seqk_status (*prepare)(seqk_context *ctx, const mdl_node *n,
                           const mdl_info *in, const mdl_info *out,
                           seqk_tensor *const *tin, seqk_tensor *const *tout,
                           void **state, void (**free_state)(void *),
                           char *err);
    seqk_status (*run)(const mdl_run_args *a);
    seqk_status (*fold)(const mdl_node *n, const mdl_info *in,
                        mdl_host **out, char *err);
} mdl_op;

#define MDL_ERR_LEN 256

/* Gemm's attributes (ops.c parses them; plan.c's fusion reads them). */
typedef struct mdl_gemm_attrs {
    int64_t trans_a, trans_b;
    float alpha, beta;
} mdl_gemm_attrs;

/* Transpose's (ops_onnx.c) and Softmax/ArgMax/TopK/Concat's (ops.c)
 * attributes, read by fuse.c. */
typedef struct mdl_perm_attrs {
    const int64_t *perm;      /* n == 0: reversed axes */
    size_t n;
} mdl_perm_attrs;
typedef struct mdl_axis_attrs {
    int64_t axis, keepdims, select_last, k, largest, sorted;
} mdl_axis_attrs;

const mdl_op *seqk__mdl_op_find(const char *name, int opset, int *opset_bad);
int seqk__mdl_op_min_inputs(const mdl_op *op);
/* Every row, NULL-terminated (for `seqk info` and the README table). */
const mdl_op *const *seqk__mdl_op_table(void);
/* Attributes input_range.c reads: Gather's axis (as given, may be
 * negative), an LSTM/GRU/RNN node's layout. */
int seqk__mdl_gather_axis(const mdl_node *n);
int seqk__mdl_rnn_layout(const mdl_node *n);
/* For fuse_layout.c: an LSTM/GRU/RNN node's number of directions; a
 * malloc'd copy of its attributes with another layout (for its row's
 * prepare and run on a copy of the node); a Conv node's parameters. */
int seqk__mdl_rnn_dirs(const mdl_node *n);
void *seqk__mdl_rnn_attrs_layout(const mdl_node *n, int layout);
const seqk_conv_params *seqk__mdl_conv_params(const mdl_node *n);
/* Rows in ops_rnn.c, host_ops.c */
extern const mdl_op seqk__mdl_op_lstm, seqk__mdl_op_gru, seqk__mdl_op_rnn;
/* ops_views.c */
extern const mdl_op seqk__mdl_op_reshape, seqk__mdl_op_flatten,
    seqk__mdl_op_squeeze, seqk__mdl_op_unsqueeze, seqk__mdl_op_identity,
    seqk__mdl_op_dropout;
extern const mdl_op seqk__mdl_op_shape, seqk__mdl_op_constant_of_shape,
    seqk__mdl_op_cast, seqk__mdl_op_range, seqk__mdl_op_slice,
    seqk__mdl_op_where, seqk__mdl_op_size;
/* Rows in ops_onnx.c, ops_onnx_ew.c */
extern const mdl_op seqk__mdl_op_transpose, seqk__mdl_op_expand,
    seqk__mdl_op_tile, seqk__mdl_op_pad, seqk__mdl_op_split,
    seqk__mdl_op_reduce_sum, seqk__mdl_op_reduce_mean, seqk__mdl_op_reduce_max,
    seqk__mdl_op_layer_norm, seqk__mdl_op_conv, seqk__mdl_op_pow,
    seqk__mdl_op_sqrt, seqk__mdl_op_abs, seqk__mdl_op_log, seqk__mdl_op_erf,
    seqk__mdl_op_leaky_relu, seqk__mdl_op_gelu, seqk__mdl_op_hard_sigmoid,
    seqk__mdl_op_clip, seqk__mdl_op_equal, seqk__mdl_op_less,
    seqk__mdl_op_greater, seqk__mdl_op_less_or_equal,
    seqk__mdl_op_greater_or_equal, seqk__mdl_op_and, seqk__mdl_op_or,
    seqk__mdl_op_not;

/* ops_onnx.c helpers: input k, when the node has it, must be known at
 * plan time (SEQK_ERR_UNSUPPORTED naming `what`); whether input k is
 * present; input k must be float32.  A step state of int64 values read
 * at plan time (pads, axes, repeats) and two doubles. */
seqk_status seqk__mdl_need_known(const mdl_node *n, const mdl_info *in, int k,
                           const char *what, char *err);
int seqk__mdl_present(const mdl_node *n, const mdl_info *in, int k);
seqk_status seqk__mdl_need_f32(const mdl_info *in, int k, char *err);
typedef struct mdl_ivec_state {
    int n;
    int64_t v[4 * SEQK_MAX_DIMS];
    double f0, f1;
} mdl_ivec_state;
seqk_status seqk__mdl_ivec_new(void **state, void (**free_state)(void *),
                         mdl_ivec_state **out);

/* Attribute helpers over Onnx__NodeProto (ops.c); absent keeps *v. */
seqk_status seqk__mdl_attr_int(const void *proto, const char *name, int64_t *v,
                         char *err);
seqk_status seqk__mdl_attr_float(const void *proto, const char *name, float *v,
                           char *err);
seqk_status seqk__mdl_attr_string(const void *proto, const char *name,
                            char *buf, size_t len, char *err);
/* ints / floats lists: *n = count (0 when absent); pointers stay valid
 * while the model lives. */
seqk_status seqk__mdl_attr_ints(const void *proto, const char *name,
                          const int64_t **v, size_t *n, char *err);
seqk_status seqk__mdl_attr_floats(const void *proto, const char *name,
                            const float **v, size_t *n, char *err);
seqk_status seqk__mdl_attr_strings(const void *proto, const char *name,
                             char ***v, size_t *n, char *err);
/* Whether the node has an attribute `name`. */
int seqk__mdl_attr_has(const void *proto, const char *name);

/* Shape helpers (ops.c). */
seqk_status seqk__mdl_broadcast(const mdl_info *a, const mdl_info *b,
                          mdl_info *out, char *err);
int seqk__mdl_axis(int64_t axis, int ndim,
                   int *out); /* 0 ok, -1 out of range */
const char *seqk__mdl_dtype_name(seqk_dtype t);

typedef struct mdl_plan {
    int n_inputs;
    int in_ndim[64];
    int64_t in_dims[64][SEQK_MAX_DIMS];
    mdl_info *info;           /* per value */
    mdl_host **folded;        /* per value: owned folded constants */
    seqk_tensor **t;          /* per value: its tensor (view over a buffer,
                                 an uploaded constant, or NULL) */
    unsigned char *needed;    /* per value */
    mdl_step *steps;
    int n_steps;
    seqk_tensor **buffers;    /* owners; every value tensor views one */
    int n_buffers;
    size_t buffer_bytes, const_bytes;
    int n_fusions;
    char *text;               /* what seqk_model_describe prints */
    size_t text_len, text_cap;
    unsigned char *own;       /* per value: t[v] is the plan's to destroy */
    uint64_t last_use;        /* LRU stamp */
} mdl_plan;

struct seqk_model {
    seqk_context *ctx;
    seqk_context *host;       /* a ref context for folding (on demand) */
    void *proto;              /* Onnx__ModelProto (kept: nodes point in) */
    mdl_graph g;
    int opset;
    int *keep, n_keep;        /* the outputs to compute (value ids) */
    mdl_plan *plans[MDL_MAX_PLANS];
    int n_plans;
    mdl_plan *last;
    uint64_t clock;
    /* uploaded initializers: per value, shared by every plan */
    seqk_tensor **uploads;
    size_t n_allocs;          /* tensors created since load (tests) */
    char **strings;           /* names given out by io queries */
};

/* plan.c */
void seqk__mdl_text_add(mdl_plan *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
seqk_status seqk__mdl_plan_get(seqk_model *m, const int *ndims,
                         const int64_t (*dims)[SEQK_MAX_DIMS],
                         mdl_plan **plan);
void seqk__mdl_plan_free(seqk_model *m, mdl_plan *p);
/* fuse.c: the pattern fusions (attention, Gelu, decomposed LayerNorm)
 * over the nodes that run (runs[i] == 1).  Each match sets runs[i] = 2 on
 * its nodes and becomes steps[k] (*n of them), to take the place of node
 * at[k] (its group's last node in topological order). */
seqk_status seqk__mdl_fuse_patterns(seqk_model *m, mdl_plan *p,
                              unsigned char *runs, mdl_step **steps,
                              int **at, int *n);
/* fuse_layout.c: layout folds over the nodes that run (after
 * seqk__mdl_fuse_patterns, appending to its steps and at[]): an
 * LSTM/GRU/RNN whose Y goes through Squeeze(1) + Transpose(1,0,2) runs
 * with layout 1 (X's Transpose composed with the swap); a Conv reading a
 * Transpose(0,2,1) reads its input channels-last. */
seqk_status seqk__mdl_fuse_layout(seqk_model *m, mdl_plan *p,
                                  unsigned char *runs, mdl_step **steps,
                                  int **at, int *n);
/* plan_exec.c */
seqk_status seqk__mdl_plan_alloc(seqk_model *m, mdl_plan *p);
seqk_status seqk__mdl_plan_run(seqk_model *m, mdl_plan *p,
                         const seqk_tensor *const *inputs);
size_t seqk__mdl_describe(seqk_model *m, char *buf, size_t len);
/* onnx_load.c */
seqk_status seqk__mdl_load(seqk_model *m, const uint8_t *data, size_t size,
                     const char *base_dir);
void seqk__mdl_unload(seqk_model *m);

/* Tests: tensors the model has created since it was loaded. */
size_t seqk__model_alloc_count(const seqk_model *m);

#endif /* SEQK_MODEL_MODEL_H */
