/*
 * test_models.c — the exported PyTorch models of tests/models/ (README
 * there) run end to end on every test device (ref, avx2, avx512; PoCL
 * as models_on_opencl), both input sets (b1, b3),
 * against PyTorch's committed outputs at atol 1e-4 (the tolerance that
 * README gives for seqk; the worst error seen is about 5e-7 on ref, the
 * CPU SIMD paths and PoCL).  Inputs and outputs are found by the model's
 * own I/O names: <set>/inputs/<name>.npy, <set>/outputs/<name>.npy.
 *
 * Then the ONNX backend node tests of the ops the model runner gained
 * with the library's "ONNX ops" (Transpose ... Conv, the new element-wise
 * ones): each one-node model through seqk_model_*, with inputs 1.. made
 * initializers (the runner needs pads, axes, ... at plan time; opsets
 * below 7 raised to 7 where the op did not change); float
 * outputs compared at atol 1e-4, rtol 1e-3 (as test_model.c's node
 * tests), bool and integer ones exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "onnx_loader.h"
#include "testutil.h"

static const char *const models[] = {
    "lstm_classifier", "gru_tagger", "seq2seq_encoder",
    "seq2seq_decoder_step", "transformer_layer", "speech", "charlm_step",
    "charlm_step_extdata", "speech_fp16"};
#define N_MODELS ((int)(sizeof models / sizeof *models))
static const char *const sets[] = {"b1", "b3"};

#define MAX_IO 8

static const char *root(void)
{
    const char *d = getenv("SEQK_MODELS_DIR");
    return d ? d : "tests/models";
}

static seqk_dtype from_npy(npy_dtype t)
{
    switch (t) {
    case NPY_F32: return SEQK_F32;
    case NPY_I32: return SEQK_I32;
    case NPY_I64: return SEQK_I64;
    case NPY_BOOL: return SEQK_BOOL;
    }
    return SEQK_F32;
}

static void run_model(int dev, const char *name)
{
    char path[1024], err[512];
    seqk_model_options o;
    seqk_model *m = NULL;
    seqk_model_options_init(&o);
    o.device = tu_device(dev);
    snprintf(path, sizeof path, "%s/%s.onnx", root(), name);
    ck_assert_msg(seqk_model_load(path, &o, &m) == SEQK_OK, "load %s on %s: "
                  "%s", name, o.device, seqk_last_error(NULL));
    seqk_context *ctx = seqk_model_context(m);
    int n_in = seqk_model_input_count(m), n_out = seqk_model_output_count(m);
    ck_assert(n_in > 0 && n_in <= MAX_IO && n_out > 0 && n_out <= MAX_IO);

    for (int s = 0; s < 2; s++) {
        seqk_tensor *in[MAX_IO] = {NULL}, *out[MAX_IO] = {NULL};
        for (int k = 0; k < n_in; k++) {
            seqk_model_io io = {.struct_size = sizeof io};
            npy_array a;
            ck_assert(seqk_model_input_info(m, k, &io) == SEQK_OK);
            snprintf(path, sizeof path, "%s/%s/%s/inputs/%s.npy", root(), name,
                     sets[s], io.name);
            ck_assert_msg(npy_read(path, &a, err, sizeof err) == NPY_OK, "%s",
                          err);
            ck_assert_msg(from_npy(a.dtype) == io.dtype, "%s: dtype", path);
            TU_OK(ctx, seqk_tensor_create(ctx, a.ndim, a.dims, io.dtype,
                                          &in[k]));
            TU_OK(ctx, seqk_tensor_write(in[k], a.data, a.bytes));
            npy_free(&a);
        }
        ck_assert_msg(seqk_model_run(m, n_in, NULL,
                                     (const seqk_tensor *const *)in, n_out,
                                     NULL, out) == SEQK_OK,
                      "run %s %s on %s: %s", name, sets[s], o.device,
                      seqk_last_error(ctx));
        for (int k = 0; k < n_out; k++) {
            seqk_model_io io = {.struct_size = sizeof io};
            npy_array want;
            char msg[256];
            ck_assert(seqk_model_output_info(m, k, &io) == SEQK_OK);
            snprintf(path, sizeof path, "%s/%s/%s/outputs/%s.npy", root(),
                     name, sets[s], io.name);
            ck_assert_msg(npy_read(path, &want, err, sizeof err) == NPY_OK,
                          "%s", err);
            ck_assert(want.dtype == NPY_F32);
            ck_assert_int_eq(seqk_tensor_ndim(out[k]), want.ndim);
            for (int d = 0; d < want.ndim; d++)
                ck_assert_int_eq(seqk_tensor_dim(out[k], d), want.dims[d]);
            float *got = tu_read(out[k]);
            ck_assert_msg(tu_close(got, want.data, (size_t)want.numel, 1e-4f,
                                   0.0f, msg, sizeof msg),
                          "%s %s output %s on %s: %s", name, sets[s], io.name,
                          o.device, msg);
            free(got);
            npy_free(&want);
        }
        for (int k = 0; k < n_in; k++)
            seqk_tensor_destroy(in[k]);
    }
    seqk_model_destroy(m);
}

static const char *const node_tests[] = {
    "test_transpose_default", "test_transpose_all_permutations_3",
    "test_logsoftmax_axis_0", "test_logsoftmax_default_axis",
    "test_logsoftmax_large_number", "test_slice", "test_slice_neg_steps",
    "test_slice_default_axes", "test_split_equal_parts_2d",
    "test_split_variable_parts_1d", "test_expand_dim_changed",
    "test_tile", "test_tile_precomputed", "test_constant_pad",
    "test_edge_pad", "test_reflect_pad",
    "test_reduce_sum_keepdims_random", "test_reduce_sum_do_not_keepdims_random",
    "test_reduce_sum_empty_axes_input_noop_random",
    "test_reduce_mean_default_axes_keepdims_random",
    "test_reduce_mean_negative_axes_keepdims_random",
    "test_reduce_max_do_not_keepdims_random",
    "test_layer_normalization_3d_axis1_epsilon",
    "test_layer_normalization_4d_axis_negative_1",
    "test_layer_normalization_default_axis",
    "test_pow", "test_pow_bcast_array", "test_sqrt", "test_abs", "test_log",
    "test_erf", "test_leakyrelu", "test_leakyrelu_default",
    "test_hardsigmoid", "test_hardsigmoid_default", "test_clip",
    "test_not_2d", "test_and_bcast4v3d", "test_or2d",
    "test_clip_default_min", "test_clip_default_max", "test_clip_splitbounds",
    "test_equal", "test_less_bcast", "test_greater", "test_less_equal",
    "test_greater_equal_bcast", "test_where_example",
};
#define N_NODE ((int)(sizeof node_tests / sizeof *node_tests))

/* A node test's model with inputs 1.. made initializers (their
 * test_data_set_0 values): the runner wants pads, axes, starts, min/max
 * ... at plan time, as exporters give them.  Input 0 stays a graph
 * input, so the node runs its kernel.  0 ok, -1 when absent. */
static int node_model_bytes(const char *dir, uint8_t **out, size_t *out_len)
{
    char file[1200], err[OL_MSG_LEN];
    uint8_t *buf = NULL;
    size_t len = 0;
    snprintf(file, sizeof file, "%s/model.onnx", dir);
    FILE *f = fopen(file, "rb");
    if (!f)
        return -1;
    fclose(f);
    ck_assert_msg(ol_read_file(file, OL_MAX_FILE_BYTES, &buf, &len, err) == 0,
                  "%s", err);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    ck_assert(mp && mp->graph);
    Onnx__GraphProto *g = mp->graph;
    size_t n_init = g->n_initializer;
    g->initializer = realloc(g->initializer,
                             (n_init + g->n_input) * sizeof *g->initializer);
    ck_assert(g->initializer != NULL);
    for (size_t k = 1; k < g->n_input; k++) {
        snprintf(file, sizeof file, "%s/test_data_set_0/input_%zu.pb", dir, k);
        ck_assert_msg(ol_read_file(file, OL_MAX_FILE_BYTES, &buf, &len, err) ==
                      0, "%s", err);
        Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
        free(buf);
        ck_assert(tp != NULL);
        free(tp->name);
        tp->name = strdup(g->input[k]->name);
        g->initializer[n_init++] = tp;
        onnx__value_info_proto__free_unpacked(g->input[k], NULL);
    }
    g->n_initializer = n_init;
    if (g->n_input > 1)
        g->n_input = 1;
    /* Not-1 and HardSigmoid-6 are still those ops' latest versions: the
     * same model at opset 7, the lowest the runner reads */
    for (size_t i = 0; i < mp->n_opset_import; i++)
        if (mp->opset_import[i]->version < 7)
            mp->opset_import[i]->version = 7;
    *out_len = onnx__model_proto__get_packed_size(mp);
    *out = malloc(*out_len + 1);
    ck_assert(*out != NULL);
    onnx__model_proto__pack(mp, *out);
    onnx__model_proto__free_unpacked(mp, NULL);
    return 0;
}

/* input_0 / output_k of a node test as host data: float, int32/int64 (to
 * want), bool (one byte each).  0 ok, -1 a dtype not read here. */
static int node_tensor(const char *path, seqk_dtype want, int *ndim,
                       int64_t *dims, void **data, size_t *bytes)
{
    char err[OL_MSG_LEN];
    uint8_t *buf = NULL;
    size_t len = 0;
    ck_assert_msg(ol_read_file(path, OL_MAX_FILE_BYTES, &buf, &len, err) == 0,
                  "%s", err);
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    ck_assert(tp != NULL && tp->n_dims <= SEQK_MAX_DIMS);
    int64_t n = 1;
    *ndim = (int)tp->n_dims;
    for (size_t d = 0; d < tp->n_dims; d++)
        n *= (dims[d] = tp->dims[d]);
    int rc = 0;
    if (tp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL &&
        want == SEQK_BOOL) {
        uint8_t *b = malloc((size_t)n + 1);
        ck_assert(b != NULL);
        for (int64_t i = 0; i < n; i++)
            b[i] = tp->raw_data.len ? tp->raw_data.data[i] != 0
                                    : tp->int32_data[i] != 0;
        *data = b;
        *bytes = (size_t)n;
    } else if (tp->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__BOOL) {
        ol_tensor t;
        rc = ol_tensor_from_proto(tp, &t, err);
        if (rc == 0 && want == SEQK_I64 && t.dtype == SEQK_I32) {
            int64_t *w = malloc(t.count * sizeof *w + 1);
            ck_assert(w != NULL);
            for (size_t i = 0; i < t.count; i++)
                w[i] = ((const int32_t *)t.data)[i];
            ol_tensor_free(&t);
            *data = w;
            *bytes = t.count * sizeof *w;
        } else if (rc == 0 && t.dtype == want) {
            *data = t.data;
            *bytes = t.count * seqk_dtype_size(t.dtype);
        } else {
            if (rc == 0)
                ol_tensor_free(&t);
            rc = -1;
        }
    } else {
        rc = -1;
    }
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return rc;
}

/* One node test on one device: 1 compared, 0 skipped. */
static int run_node_test(int dev, const char *name)
{
    const char *rootdir = getenv("SEQK_ONNX_NODE_DIR");
    char dir[1024], file[1200];
    seqk_tensor *in = NULL, *out[MAX_IO] = {NULL};
    int compared = 0, ndim;
    int64_t dims[SEQK_MAX_DIMS];
    uint8_t *bytes = NULL;
    size_t len = 0, nb;
    void *data = NULL;
    snprintf(dir, sizeof dir, "%s/%s",
             rootdir ? rootdir : "/usr/share/libonnx-testdata/data/node", name);
    if (node_model_bytes(dir, &bytes, &len))
        return 0;
    seqk_model_options o;
    seqk_model *m = NULL;
    seqk_model_options_init(&o);
    o.device = tu_device(dev);
    ck_assert_msg(seqk_model_load_bytes(bytes, len, &o, &m) == SEQK_OK,
                  "%s: %s", name, seqk_last_error(NULL));
    free(bytes);
    seqk_context *ctx = seqk_model_context(m);
    int n_out = seqk_model_output_count(m);
    seqk_model_io io = {.struct_size = sizeof io};
    ck_assert(seqk_model_input_count(m) == 1 && n_out <= MAX_IO);
    ck_assert(seqk_model_input_info(m, 0, &io) == SEQK_OK);
    snprintf(file, sizeof file, "%s/test_data_set_0/input_0.pb", dir);
    if (node_tensor(file, io.dtype, &ndim, dims, &data, &nb) == 0) {
        TU_OK(ctx, seqk_tensor_create(ctx, ndim, dims, io.dtype, &in));
        TU_OK(ctx, seqk_tensor_write(in, data, nb));
        free(data);
        ck_assert_msg(seqk_model_run(m, 1, NULL,
                                     (const seqk_tensor *const *)&in, n_out,
                                     NULL, out) == SEQK_OK,
                      "%s on %s: %s", name, o.device, seqk_last_error(ctx));
    } else {
        n_out = 0;
    }
    for (int k = 0; k < n_out; k++) {
        seqk_dtype dt = seqk_tensor_dtype(out[k]);
        snprintf(file, sizeof file, "%s/test_data_set_0/output_%d.pb", dir,
                 k);
        if (node_tensor(file, dt, &ndim, dims, &data, &nb) != 0)
            continue;
        ck_assert_int_eq(seqk_tensor_ndim(out[k]), ndim);
        for (int d = 0; d < ndim; d++)
            ck_assert_int_eq(seqk_tensor_dim(out[k], d), dims[d]);
        if (dt == SEQK_F32) {
            char msg[256];
            float *got = tu_read(out[k]);
            ck_assert_msg(tu_close(got, data, nb / sizeof(float), 1e-4f,
                                   1e-3f, msg, sizeof msg),
                          "%s output %d on %s: %s", name, k, o.device, msg);
            free(got);
        } else {
            void *got = malloc(nb + 1);
            ck_assert(got != NULL);
            TU_OK(ctx, seqk_tensor_read(out[k], got, nb));
            ck_assert_msg(memcmp(got, data, nb) == 0, "%s output %d on %s "
                          "differs", name, k, o.device);
            free(got);
        }
        free(data);
        compared = 1;
    }
    seqk_tensor_destroy(in);
    seqk_model_destroy(m);
    if (!compared)
        printf("models: %s not compared on %s (a dtype this test does not "
               "read)\n", name, o.device);
    return compared;
}

START_TEST(onnx_node_tests)
{
    int ran = 0;
    if (getenv("SEQK_MODELS_ONLY"))
        return;
    for (int t = 0; t < N_NODE; t++)
        ran += run_node_test(_i, node_tests[t]);
    /* without libonnx-testdata nothing runs (as test_model.c) */
    printf("models: %d of %d node tests compared on %s\n", ran, N_NODE,
           tu_device(_i));
}
END_TEST

/* SEQK_MODELS_ONLY=a,b: only those models, no node tests (the subset
 * scripts/oclgrind.sh runs under the simulator) */
static int selected(const char *name)
{
    const char *p = getenv("SEQK_MODELS_ONLY");
    size_t len = strlen(name);
    if (!p)
        return 1;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == len && !strncmp(p, name, len))
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

/* _i runs over devices x models */
START_TEST(exported_models)
{
    if (selected(models[_i % N_MODELS]))
        run_model(_i / N_MODELS, models[_i % N_MODELS]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("models");
    TCase *tc = tcase_create("models");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, exported_models, 0,
                        tu_device_count() * N_MODELS);
    tcase_add_loop_test(tc, onnx_node_tests, 0, tu_device_count());
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
