/*
 * test_model_layout.c — the model runner's layout folds (src/model/
 * fuse_layout.c: an LSTM/GRU/RNN run with layout 1 in place of Squeeze +
 * Transpose(1,0,2); a Conv reading a Transpose(0,2,1)'s input
 * channels-last, or writing a Transpose(0,2,1)'s output; Conv ->
 * element-wise -> Conv chains run channels-last) on every test device,
 * over tests/models/tiny/fuse_layout.onnx (make_layout.py: folding
 * branches and near-patterns) and the exported speech and charlm_step
 * models (both input sets; speech folds to no Transpose at all).
 *
 * For each model: the plan's text must name each fold expected and no
 * more (the near-patterns stay as they were); the outputs must match
 * NumPy's / PyTorch's; then the same model with one intermediate of a
 * folded group kept as an output must not fold that group (the other
 * folds may change shape: kept_folds of them), and its outputs (the
 * unfolded plan) must equal the folded ones within 1e-6 (2e-6 where
 * the CPU sums a conv in another order).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "model_cases.h"
#include "testutil.h"

#define MAX_IO 28

typedef struct fcase {
    const char *dir;          /* SEQK_MODEL_DIR or SEQK_MODELS_DIR */
    const char *model;
    const char *set;          /* input set folder ("" for tiny) */
    const char *outs[MAX_IO]; /* the outputs asked for (NULL-ended) */
    const char *lines[12];    /* each in one "fused:" line (NULL-ended) */
    int folds;                /* layout folds in the plan */
    const char *keep[3];      /* values kept to block one fold */
    const char *blocked;      /* that fold's line */
    int kept_folds;           /* folds then */
    const char *kept_line;    /* in one of them (or NULL) */
} fcase;

#define RNN_FOLD ", layout 1 (X: "
#define CONV_FOLD "-> conv1d, X channels-last"
#define CONV_ANY "-> conv1d, X channels-"

static const fcase cases[] = {
    {"tiny", "fuse_layout", "",
     {"y_a", "hn_a", "cn_a", "y_b", "hn_b", "y_c", "y_d", "y_e", "y_f",
      "y_g", "y_g2", "y_h", "y_i", "y_j", "y_j2", "y_k", "y_l", "y_m",
      "y_q", "y_n", "y_n2", "y_o", "y_p", "y_p2"},
     {"LSTM 'a_lstm' + Squeeze 'a_sq' + Transpose 'a_tr' -> rnn_layer, "
      "layout 1 (X: Transpose 'a_tx' absorbed)",
      "GRU 'b_gru' + Squeeze 'b_sq' + Transpose 'b_tr' -> rnn_layer, "
      "layout 1 (X: Transpose 'b_tx' perm (0,2,1))",
      "Transpose 'h_tx' + Conv 'h_conv' " CONV_FOLD ", Y channels-first",
      "Transpose 'i_tx' + Conv 'i_conv' " CONV_FOLD ", Y channels-first",
      "Transpose 'l_tx' + Conv 'l_c1' " CONV_FOLD ", Y channels-last "
      "(chain to Conv 'l_c2' via Tanh 'l_tanh', Relu 'l_relu')",
      "Conv 'l_c2' + Transpose 'l_ty' " CONV_FOLD " (chain), Y "
      "channels-last",
      "Conv 'm_c1' -> conv1d, X channels-first, Y channels-last (chain to "
      "Conv 'm_c2')",
      "Conv 'm_c2' " CONV_FOLD " (chain), Y channels-first",
      "Conv 'q_c' + Transpose 'q_ty' -> conv1d, X channels-first, Y "
      "channels-last"},
     9, {"mid"}, "LSTM 'a_lstm'", 8, "Conv 'l_c2' + Transpose 'l_ty'"},
    /* speech: conv1 -> Relu -> conv2 -> LSTM with no Transpose left */
    {"models", "speech", "/b1", {"probs", "hn", "cn"},
     {"LSTM '/lstm/LSTM' + Squeeze '/lstm/Squeeze' + Transpose "
      "'/lstm/Transpose_1' -> rnn_layer, layout 1 (X: Transpose "
      "'/lstm/Transpose' perm (0,2,1))",
      "Transpose '/Transpose' + Conv '/conv1/Conv' " CONV_FOLD
      ", Y channels-last (chain to Conv '/conv2/Conv' via Relu '/Relu')",
      "Conv '/conv2/Conv' + Transpose '/lstm/Transpose' " CONV_FOLD
      " (chain), Y channels-last"},
     3, {"/lstm/Squeeze_output_0"}, "LSTM '/lstm/LSTM'", 2,
     "Conv '/conv2/Conv' " CONV_FOLD " (chain), Y channels-first"},
    {"models", "speech", "/b3", {"probs", "hn", "cn"},
     {"LSTM '/lstm/LSTM' + Squeeze", "Conv '/conv1/Conv' " CONV_FOLD,
      "Conv '/conv2/Conv' + Transpose '/lstm/Transpose' " CONV_FOLD},
     3, {"/lstm/Squeeze_output_0"}, "LSTM '/lstm/LSTM'", 2,
     "Conv '/conv2/Conv' " CONV_FOLD " (chain), Y channels-first"},
    /* the Relu kept: no chain (conv1 writes channels-first, conv2 reads
     * so and still writes the LSTM's input) */
    {"models", "speech", "/b3", {"probs", "hn", "cn"},
     {"Relu '/Relu')"},
     3, {"/Relu_output_0"}, "chain to Conv '/conv2/Conv'", 3,
     "Conv '/conv2/Conv' + Transpose '/lstm/Transpose' -> conv1d, X "
     "channels-first, Y channels-last"},
    /* conv2's output kept: it is written channels-first, the LSTM's input
     * Transpose runs */
    {"models", "speech", "/b1", {"probs", "hn", "cn"},
     {"Conv '/conv2/Conv' + Transpose"},
     3, {"/conv2/Conv_output_0"}, "Conv '/conv2/Conv' + Transpose", 3,
     "Conv '/conv2/Conv' " CONV_FOLD " (chain), Y channels-first"},
    {"models", "charlm_step", "/b3", {"logprobs", "hn", "cn"},
     {"LSTM '/lstm/LSTM' + Squeeze '/lstm/Squeeze' + Transpose "
      "'/lstm/Transpose_1' -> rnn_layer, layout 1 (X: Transpose "
      "'/lstm/Transpose' absorbed)"},
     1, {"/lstm/Squeeze_output_0"}, "LSTM '/lstm/LSTM'", 0, NULL},
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
    mc_run(m, c->dir, c->model, c->set, c->outs, out, text, text_len);
}

/* "fused:" lines of layout folds in a plan text */
static int folds(const char *text)
{
    return mc_count(text, RNN_FOLD) + mc_count(text, CONV_ANY);
}

/* _i runs over devices x cases */
START_TEST(layout_folds)
{
    const fcase *c = &cases[_i % N_CASES];
    int dev = _i / N_CASES, n_out = 0;
    static char text[1 << 16], text2[1 << 16];
    char path[1200], err[512], msg[256];
    seqk_tensor *out[MAX_IO] = {NULL}, *out2[MAX_IO] = {NULL};
    float *got[MAX_IO] = {NULL};

    while (n_out < MAX_IO && c->outs[n_out])
        n_out++;
    /* folded: the lines, the count, NumPy's / PyTorch's outputs */
    seqk_model *m = load(c, dev, 0);
    run(c, m, out, text, sizeof text);
    for (int k = 0; k < 12 && c->lines[k]; k++)
        ck_assert_msg(strstr(text, c->lines[k]), "%s%s on %s: no fold "
                      "\"%s\" in\n%s", c->model, c->set, tu_device(dev),
                      c->lines[k], text);
    ck_assert_msg(folds(text) == c->folds, "%s%s on %s: %d folds, want "
                  "%d:\n%s", c->model, c->set, tu_device(dev), folds(text),
                  c->folds, text);
    for (int k = 0; k < n_out; k++) {
        npy_array want;
        snprintf(path, sizeof path, "%s/%s%s/outputs/%s.npy", mc_dir(c->dir),
                 c->model, c->set, c->outs[k]);
        ck_assert_msg(npy_read(path, &want, err, sizeof err) == NPY_OK, "%s",
                      err);
        ck_assert_int_eq((int64_t)seqk_tensor_numel(out[k]), want.numel);
        got[k] = tu_read(out[k]);
        ck_assert_msg(tu_close(got[k], want.data, (size_t)want.numel, 2e-5f,
                               1e-5f, msg, sizeof msg),
                      "%s%s output %s on %s: %s", c->model, c->set,
                      c->outs[k], tu_device(dev), msg);
        npy_free(&want);
    }

    /* a kept intermediate blocks its fold; the unfolded plan's outputs
     * equal the folded ones */
    seqk_model *m2 = load(c, dev, 1);
    run(c, m2, out2, text2, sizeof text2);
    ck_assert_msg(folds(text2) == c->kept_folds &&
                      !strstr(text2, c->blocked),
                  "%s%s on %s: kept '%s' but still folded (%d folds, want "
                  "%d):\n%s", c->model, c->set, tu_device(dev), c->keep[0],
                  folds(text2), c->kept_folds, text2);
    ck_assert_msg(!c->kept_line || strstr(text2, c->kept_line),
                  "%s%s on %s: kept '%s': no fold \"%s\" in\n%s", c->model,
                  c->set, tu_device(dev), c->keep[0], c->kept_line, text2);
    for (int k = 0; k < n_out; k++) {
        float *g2 = tu_read(out2[k]);
        ck_assert_msg(tu_close(g2, got[k], (size_t)seqk_tensor_numel(out[k]),
                               2e-6f, 2e-6f, msg, sizeof msg),
                      "%s%s output %s on %s, folded vs unfolded: %s",
                      c->model, c->set, c->outs[k], tu_device(dev), msg);
        free(g2);
        free(got[k]);
    }
    seqk_model_destroy(m2);
    seqk_model_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model_layout");
    TCase *tc = tcase_create("layout_folds");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, layout_folds, 0, tu_device_count() * N_CASES);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
