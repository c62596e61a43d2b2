/*
 * run_ops.h — what the two halves of `seqk run` share: cmd_run.c parses
 * the command line and moves .npy files in and out; run_ops.c holds one
 * runner per op (output shapes, the library call).  A runner gets the
 * parsed request with its inputs loaded as tensors, creates the outputs it
 * computes with run_make_output, and returns an exit code (0, or the code
 * of the one error line it printed through run_fail).
 */
#ifndef SEQK_TOOLS_RUN_OPS_H
#define SEQK_TOOLS_RUN_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "seqk.h"

#define MAX_OP_INPUTS 10
#define MAX_OP_ATTRS 10
#define MAX_OP_OUTPUTS 3
#define MAX_LIST 16
#define MAX_ATTR_DEFS 32 /* room for every attribute name of every op */
#define MAX_RNN_LAYERS 64 /* num_layers of LSTM/GRU/RNN */

/* The weights of an RNN layer >= 1, given as -i W_l1=... R_l1=... */
enum { LW_W, LW_R, LW_B, LW_P, LW_COUNT };

typedef enum in_kind {
    IN_F32,  /* float32 */
    IN_LENS, /* int32 or int64 lengths, converted to int32 */
    IN_MASK  /* bool (attend) or float32 (additive) */
} in_kind;

typedef struct in_spec {
    const char *name;
    in_kind kind;
    int required;
} in_spec;

typedef struct run_state run_state;

typedef struct op_spec {
    const char *name;
    in_spec inputs[MAX_OP_INPUTS];
    const char *attrs[MAX_OP_ATTRS];
    const char *outputs[MAX_OP_OUTPUTS];
    int (*run)(run_state *st);
} op_spec;

/* One attribute as given on the command line, already parsed. */
typedef struct attr_val {
    int set;
    const char *text;
    int64_t i;
    float f;
    int n;               /* list length */
    float list[MAX_LIST];
    int acts[MAX_LIST];  /* seqk_act_kind */
    int choice;          /* enum attributes: index into the choices */
} attr_val;

struct run_state {
    const op_spec *op;
    const char *device;
    const char *in_path[MAX_OP_INPUTS];   /* indexed like op->inputs */
    attr_val attrs[MAX_ATTR_DEFS];        /* indexed like the attr table */
    const char *out_path[MAX_OP_OUTPUTS]; /* indexed like op->outputs */
    seqk_context *ctx;
    seqk_tensor *in[MAX_OP_INPUTS];       /* NULL when not given */
    seqk_tensor *out[MAX_OP_OUTPUTS];     /* made by the runner */
    int threads;                          /* --threads (0: default) */
    /* RNN layers l >= 1: W_l<l>, R_l<l>, B_l<l>, P_l<l> (index l) */
    const char *layer_path[MAX_RNN_LAYERS][LW_COUNT];
    seqk_tensor *layer_in[MAX_RNN_LAYERS][LW_COUNT];
};

/* Prints "seqk run: <message>" as one line on stderr; returns code. */
int run_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A library call failed: "<Op>: <seqk_last_error>", exit code 1. */
int run_lib_fail(const run_state *st);

/* The tensor given for an input, or NULL when it was not given. */
seqk_tensor *run_input(const run_state *st, const char *name);
/* The attribute if given, else NULL / the default. */
const attr_val *run_attr(const run_state *st, const char *name);
int64_t run_attr_int(const run_state *st, const char *name, int64_t def);
float run_attr_float(const run_state *st, const char *name, float def);
/* Whether the user asked for output name. */
int run_wants(const run_state *st, const char *name);

/* "[2,3,4]" */
const char *run_shape_str(const seqk_tensor *t, char *buf, size_t len);
/* 0 if t has rank ndim, else prints "<Op>: NAME has shape [..] but must be
 * N-D <layout>" and returns 1. */
int run_need_rank(const run_state *st, const char *name,
                  const seqk_tensor *t, int ndim, const char *layout);
/* Creates float32 output name with shape dims; 0 or exit code 1. */
int run_make_output(run_state *st, const char *name, int ndim,
                    const int64_t *dims, seqk_tensor **t);

/* Loads every given input, RNN layer weights included (run_io.c). */
int run_load_inputs(run_state *st);
/* Writes the requested outputs, all or none (run_io.c). */
int run_write_outputs(const run_state *st);

/* The runners (run_ops.c). */
int run_op_rnn(run_state *st);
int run_op_gemm(run_state *st);
int run_op_matmul(run_state *st);
int run_op_softmax(run_state *st);
int run_op_attention(run_state *st);
int run_op_seq_attention(run_state *st);

#endif /* SEQK_TOOLS_RUN_OPS_H */
