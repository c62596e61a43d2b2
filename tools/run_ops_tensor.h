/*
 * run_ops_tensor.h — the `seqk run` runners of the tensor ops
 * (run_ops_tensor.c): Gather, ArgMax, TopK, Concat and the element-wise
 * ops, registered in cmd_run.c's op table like the others (run_ops.h).
 */
#ifndef SEQK_TOOLS_RUN_OPS_TENSOR_H
#define SEQK_TOOLS_RUN_OPS_TENSOR_H

#include "run_ops.h"

int run_op_gather(run_state *st);
int run_op_argmax(run_state *st);
int run_op_topk(run_state *st);
int run_op_concat(run_state *st);
/* Add, Sub, Mul, Div (inputs A, B; output C) and Tanh, Exp (input ->
 * output), Sigmoid, Relu, Neg (X -> Y): the op is the table row's name. */
int run_op_elementwise(run_state *st);

#endif
