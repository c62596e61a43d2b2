/*
 * onnx_node_run.h — runs one ONNX backend node test folder (model.onnx with
 * a single Gemm, MatMul, Softmax, RNN, GRU or LSTM node, and
 * test_data_set_0/{input,output}_N.pb) on a seqk context and compares the
 * results with the expected outputs.
 */
#ifndef SEQK_TESTS_ONNX_NODE_RUN_H
#define SEQK_TESTS_ONNX_NODE_RUN_H

#include "seqk.h"

/* ONNX's backend tests use rtol 1e-3, atol 1e-7; float sums need more. */
#define ONNX_NODE_ATOL 1e-5f
#define ONNX_NODE_RTOL 1e-3f

/* 0 when every graph output matches within the tolerance; else -1 with one
 * line in err (OL_MSG_LEN bytes) naming the output and the first mismatch,
 * or what kept the folder from running.  Never crashes on bad files; a
 * seqk output whose guard bytes were overwritten fails a Check assertion. */
int onnx_node_run(seqk_context *ctx, const char *dir, char *err);

#endif /* SEQK_TESTS_ONNX_NODE_RUN_H */
