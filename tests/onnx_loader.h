/*
 * onnx_loader.h — reads the files of an ONNX backend node test (model.onnx,
 * test_data_set_0/input_N.pb, output_N.pb) through the protobuf-c code that
 * meson generates from onnx.proto, into plain host arrays the tests hand to
 * seqk.  Nothing here calls seqk: it only borrows SEQK_MAX_DIMS and the
 * dtype enum.
 *
 * Every function returns 0 on success and -1 on failure, writing one line
 * into err (OL_MSG_LEN bytes) that says what was wrong.  Malformed,
 * truncated or oversized input gives an error, never a crash or a huge
 * allocation.
 */
#ifndef SEQK_TESTS_ONNX_LOADER_H
#define SEQK_TESTS_ONNX_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"
#include "seqk.h"

#define OL_MSG_LEN 512
/* Test files are small; anything larger than this is refused unread. */
#define OL_MAX_FILE_BYTES ((size_t)64 << 20)

/* A decoded TensorProto.  FLOAT becomes SEQK_F32 (float data); INT32 and
 * INT64 become SEQK_I32 (int32_t data; int64 values must fit).  data is
 * never NULL after a successful decode, even for zero elements.
 * onnx_type is the file's TensorProto data_type. */
typedef struct ol_tensor {
    int ndim;
    int64_t dims[SEQK_MAX_DIMS];
    seqk_dtype dtype;
    size_t count;
    void *data;
    int onnx_type;
} ol_tensor;

void ol_tensor_free(ol_tensor *t); /* frees data, keeps the struct */

/* Whole file into a malloc'd buffer (at most max_bytes). */
int ol_read_file(const char *path, size_t max_bytes, uint8_t **buf,
                 size_t *len, char *err);

int ol_tensor_from_proto(const Onnx__TensorProto *tp, ol_tensor *t,
                         char *err);
/* A serialized TensorProto (an input_N.pb / output_N.pb). */
int ol_tensor_decode(const uint8_t *buf, size_t len, ol_tensor *t,
                     char *err);
int ol_tensor_load(const char *path, ol_tensor *t, char *err);

/* The same, keeping each type the model runner has at its graph I/O as
 * its own seqk dtype: FLOAT -> SEQK_F32, INT32 -> SEQK_I32, INT64 ->
 * SEQK_I64 (int64_t data, no range limit), BOOL -> SEQK_BOOL (one byte,
 * 0 or 1): the runner's graph I/O types.  Other types (int8, uint8,
 * double, float16, strings, ...) are an error. */
int ol_tensor_from_proto_typed(const Onnx__TensorProto *tp, ol_tensor *t,
                               char *err);
int ol_tensor_load_typed(const char *path, ol_tensor *t, char *err);

/* A model whose graph is one node.  opset is the version imported for the
 * default domain ("" or "ai.onnx"). */
typedef struct ol_model {
    Onnx__ModelProto *proto;
    const Onnx__GraphProto *graph;
    const Onnx__NodeProto *node;
    int64_t opset;
} ol_model;

int ol_model_decode(const uint8_t *buf, size_t len, ol_model *m, char *err);
int ol_model_load(const char *path, ol_model *m, char *err);
void ol_model_free(ol_model *m);

/* A test folder: the model, its initializers, and the graph inputs that
 * are not initializers, fed in order from test_data_set_0/input_N.pb (a
 * data file past the last input is an error: the mapping would be off). */
#define OL_MAX_IO 16
#define OL_PATH_LEN 1024

typedef struct ol_case {
    char dir[OL_PATH_LEN];
    ol_model model;
    size_t n_in, n_init;
    const char *in_names[OL_MAX_IO], *init_names[OL_MAX_IO];
    ol_tensor in[OL_MAX_IO], init[OL_MAX_IO];
} ol_case;

int ol_case_load(const char *dir, ol_case *c, char *err);
void ol_case_free(ol_case *c);
/* Node input k: *t = NULL when absent ("" or past the end); an error when
 * the name is neither a graph input nor an initializer. */
int ol_case_input(const ol_case *c, size_t k, const ol_tensor **t,
                  char *err);
/* The expected value of graph output i (test_data_set_0/output_i.pb). */
int ol_case_output(const ol_case *c, size_t i, ol_tensor *t, char *err);
/* Whether test_data_set_0/<kind>_<n>.pb exists (kind "input"/"output"). */
int ol_case_has_file(const ol_case *c, const char *kind, size_t n);

/* dir/file into buf (OL_PATH_LEN bytes); -1 when too long. */
int ol_path_join(char *buf, const char *dir, const char *file);
/* "[2,3,4]" into buf. */
const char *ol_dims_str(int ndim, const int64_t *dims, char *buf,
                        size_t len);
int ol_write_file(const char *path, const void *buf, size_t len, char *err);

/* Typed attribute values; fail when the attribute has another type. */
int ol_attr_int(const Onnx__AttributeProto *a, int64_t *v, char *err);
int ol_attr_float(const Onnx__AttributeProto *a, float *v, char *err);
/* A string attribute into buf (NUL-terminated, at most len-1 bytes). */
int ol_attr_string(const Onnx__AttributeProto *a, char *buf, size_t len,
                   char *err);
int ol_attr_floats(const Onnx__AttributeProto *a, const float **v,
                   size_t *n, char *err);
int ol_attr_strings(const Onnx__AttributeProto *a,
                    const ProtobufCBinaryData **v, size_t *n, char *err);

#endif /* SEQK_TESTS_ONNX_LOADER_H */
