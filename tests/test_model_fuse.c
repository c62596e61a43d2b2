/*
 * test_model_fuse.c — the model runner's pattern fusions (src/model/
 * fuse.c: attention, decomposed Gelu, decomposed LayerNorm) on every test
 * device, over the models tests/models/tiny/make_fuse.py writes and the
 * exported transformer_layer.
 *
 * For each model: the plan's text must name each fusion expected (and no
 * more: near-patterns in the same models must stay unfused); the outputs
 * must match PyTorch's / NumPy's; then the same model loaded with an
 * intermediate value of one fused group kept as an output ("mid" in the
 * tiny models; the Softmax and Erf outputs added to transformer_layer)
 * must not fuse that group, and its outputs (the unfused plan) must equal
 * the fused ones within 1e-6.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "model_cases.h"
#include "testutil.h"

#define MAX_IO 8

typedef struct fcase {
    const char *dir;          /* SEQK_MODEL_DIR or SEQK_MODELS_DIR */
    const char *model;
    const char *outs[MAX_IO]; /* the outputs asked for (NULL-ended) */
    const char *lines[4];     /* each in one "fused:" line (NULL-ended) */
    int groups;               /* fuse.c fusions in the plan */
    const char *keep[3];      /* values kept to block one group */
    const char *blocked;      /* the line that group's fusion had */
} fcase;

static const fcase cases[] = {
    /* 4-D heads, Div after the matmul, float mask; Q * 0.25, no mask */
    {"tiny", "fuse_attn", {"y1", "y2"},
     {"MatMul '/MatMul' ... MatMul '/MatMul_1' (5 nodes) -> attention "
      "(additive mask)",
      "MatMul '/MatMul_2' ... MatMul '/MatMul_3' (4 nodes) -> attention\n"},
     2, {"mid"}, "MatMul '/MatMul' ..."},
    /* K^T an input (scratch transpose); softmax over axis 1 and a mask
     * broadcast over the keys do not fuse */
    {"tiny", "fuse_attn3d", {"y", "y_axis", "y_mask1"},
     {"MatMul 'a_qk' ... MatMul 'a_pv' (5 nodes) -> attention (additive "
      "mask)"},
     1, {"mid"}, "'a_qk'"},
    /* torch's erf Gelu and tanh Gelu */
    {"tiny", "fuse_gelu", {"y_erf", "y_tanh"},
     {"Erf '/Erf' ... Mul '/Mul_1' (5 nodes) -> gelu, elementwise",
      "Tanh '/Tanh' ... Mul '/Mul_8' (9 nodes) -> gelu (tanh), elementwise"},
     2, {"mid"}, "'/Erf'"},
    /* three orders of the products; 0.6, 1.5 and an Erf read twice do not
     * fuse */
    {"tiny", "fuse_gelu_forms",
     {"y_a", "y_b", "y_c", "y_d", "y_e", "y_f", "y_f2"},
     {"Erf 'a_erf' ... Mul 'a_mul' (5 nodes) -> gelu",
      "Erf 'b_erf' ... Mul 'b_mul' (5 nodes) -> gelu",
      "Erf 'c_erf' ... Div 'c_half' (5 nodes) -> gelu"},
     3, {"mid"}, "'b_erf'"},
    /* torch's opset-15 LayerNorm: last axis, last two (gamma [3,8]), no
     * affine */
    {"tiny", "fuse_ln", {"y1", "y2", "y3"},
     {"ReduceMean '/n1/ReduceMean' ... Add '/n1/Add_1' (9 nodes) -> "
      "layer_norm",
      "ReduceMean '/n2/ReduceMean' ... Add '/n2/Add_1' (9 nodes) -> "
      "layer_norm",
      "ReduceMean '/n3/ReduceMean' ... Div '/n3/Div' (7 nodes) -> "
      "layer_norm"},
     3, {"mid"}, "'/n2/ReduceMean'"},
    /* d*d, no beta; Pow 4, a per-feature epsilon, the mean over axis 1 do
     * not fuse */
    {"tiny", "fuse_ln_forms", {"y_a", "y_b", "y_c", "y_d"},
     {"ReduceMean 'a_mean' ... Mul 'a_gamma' (8 nodes) -> layer_norm"},
     1, {"mid"}, "'a_mean'"},
    /* the exported nn.TransformerEncoderLayer: [B*H,S,D] heads, Q scaled,
     * K^T a Transpose(1,2,0) of the heads (K made by a scratch
     * transpose), the key padding mask */
    {"models", "transformer_layer", {"y"},
     {"MatMul '/layer/self_attn/MatMul_1' ... MatMul "
      "'/layer/self_attn/MatMul_2' (8 nodes) -> attention (additive mask)",
      "Erf '/layer/Erf' ... Mul '/layer/Mul_1' (5 nodes) -> gelu"},
     2, {"/layer/self_attn/Softmax_output_0"}, "'/layer/self_attn/MatMul_1'"},
};
#define N_CASES ((int)(sizeof cases / sizeof *cases))

/* The case's model with its `keep` values kept as outputs or not. */
static seqk_model *load(const fcase *c, int dev, int with_keep)
{
    return mc_load(c->dir, c->model, c->outs, with_keep ? c->keep : NULL,
                   dev);
}

/* Runs m on the case's inputs; outputs in out[], plan text in text. */
static void run(const fcase *c, seqk_model *m, seqk_tensor **out, char *text,
                size_t text_len)
{
    mc_run(m, c->dir, c->model, strcmp(c->dir, "tiny") ? "/b1" : "", c->outs, out, text, text_len);
}

/* _i runs over devices x cases */
START_TEST(fusions)
{
    const fcase *c = &cases[_i % N_CASES];
    int dev = _i / N_CASES, n_out = 0;
    static char text[1 << 16], text2[1 << 16];
    char path[1200], err[512], msg[256];
    seqk_tensor *out[MAX_IO] = {NULL}, *out2[MAX_IO] = {NULL};
    float *got[MAX_IO] = {NULL};
    const char *set = strcmp(c->dir, "tiny") ? "/b1" : "";

    while (n_out < MAX_IO && c->outs[n_out])
        n_out++;
    /* fused: the lines, the count, PyTorch's / NumPy's outputs */
    seqk_model *m = load(c, dev, 0);
    run(c, m, out, text, sizeof text);
    for (int k = 0; k < 4 && c->lines[k]; k++)
        ck_assert_msg(strstr(text, c->lines[k]), "%s on %s: no fusion "
                      "\"%s\" in\n%s", c->model, tu_device(dev), c->lines[k],
                      text);
    ck_assert_msg(mc_count(text, " nodes) -> ") == c->groups, "%s on %s: %d "
                  "fusions, want %d:\n%s", c->model, tu_device(dev),
                  mc_count(text, " nodes) -> "), c->groups, text);
    for (int k = 0; k < n_out; k++) {
        npy_array want;
        snprintf(path, sizeof path, "%s/%s%s/outputs/%s.npy", mc_dir(c->dir),
                 c->model, set, c->outs[k]);
        ck_assert_msg(npy_read(path, &want, err, sizeof err) == NPY_OK, "%s",
                      err);
        ck_assert_int_eq((int64_t)seqk_tensor_numel(out[k]), want.numel);
        got[k] = tu_read(out[k]);
        ck_assert_msg(tu_close(got[k], want.data, (size_t)want.numel, 2e-5f,
                               1e-5f, msg, sizeof msg),
                      "%s output %s on %s: %s", c->model, c->outs[k],
                      tu_device(dev), msg);
        npy_free(&want);
    }

    /* a kept intermediate blocks its group; the unfused plan's outputs
     * equal the fused ones */
    seqk_model *m2 = load(c, dev, 1);
    run(c, m2, out2, text2, sizeof text2);
    ck_assert_msg(mc_count(text2, " nodes) -> ") == c->groups - 1 &&
                      !strstr(text2, c->blocked),
                  "%s on %s: kept '%s' but still fused:\n%s", c->model,
                  tu_device(dev), c->keep[0], text2);
    for (int k = 0; k < n_out; k++) {
        float *g2 = tu_read(out2[k]);
        ck_assert_msg(tu_close(g2, got[k], (size_t)seqk_tensor_numel(out[k]),
                               1e-6f, 1e-6f, msg, sizeof msg),
                      "%s output %s on %s, fused vs unfused: %s", c->model,
                      c->outs[k], tu_device(dev), msg);
        free(g2);
        free(got[k]);
    }
    seqk_model_destroy(m2);
    seqk_model_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model_fuse");
    TCase *tc = tcase_create("fusions");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, fusions, 0, tu_device_count() * N_CASES);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
