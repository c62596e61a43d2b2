/*
 * test_models.c — the exported PyTorch models of tests/models/ (README
 * there) run end to end on every test device (ref, avx2, avx512; PoCL
 * as models_on_opencl), both input sets (b1, b3),
 * against PyTorch's committed outputs at atol 1e-4 (the tolerance that
 * README gives for seqk; the worst error seen is about 5e-7 on ref, the
 * CPU SIMD paths and PoCL).  Inputs and outputs are found by the model's
 * own I/O names: <set>/inputs/<name>.npy, <set>/outputs/<name>.npy.
 * (The ONNX backend node tests through the runner are test_model_node.c.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
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

/* SEQK_MODELS_ONLY=a,b: only those models (the subset
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
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
