/*
 * test_run_attention.c — `seqk run` end to end (as test_run.c), for the
 * attention ops and all-or-nothing outputs; then the error contract: a
 * non-zero exit (2 for usage, 1 for bad data) and exactly one line on
 * stderr naming the culprit, and no output file left behind.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "npy.h"
#include "seqk.h"
#include "run_util.h"
#include "testutil.h"


/* ----------------------------------------------------------- attention */

/* 3-D grouped-query attention with a boolean mask and a scale. */
START_TEST(run_attention_bool_mask)
{
    enum { B = 2, Sq = 3, Skv = 5, Hq = 4, Hkv = 2, Dh = 2, Dv = 3 };
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 7);
    const int64_t qd[3] = { B, Sq, Hq * Dh }, kd[3] = { B, Skv, Hkv * Dh };
    const int64_t vd[3] = { B, Skv, Hkv * Dv }, md[2] = { Sq, Skv };
    const int64_t yd[3] = { B, Sq, Hq * Dv };
    seqk_tensor *Q = rand_input(ctx, &r, "Q.npy", 3, qd);
    seqk_tensor *K = rand_input(ctx, &r, "K.npy", 3, kd);
    seqk_tensor *V = rand_input(ctx, &r, "V.npy", 3, vd);
    uint8_t mask[Sq * Skv];
    for (int k = 0; k < Sq * Skv; k++)
        mask[k] = (uint8_t)(k % 3 != 1);
    put("M.npy", NPY_BOOL, 2, md, mask);
    seqk_tensor *M = tu_bool(ctx, 2, md, mask);
    const char *args[] = { "Attention", "--device", dev, "-i", "Q=Q.npy",
                           "-i", "K=K.npy", "-i", "V=V.npy",
                           "-i", "attn_mask=M.npy", "-a", "q_num_heads=4",
                           "-a", "kv_num_heads=2", "-a", "scale=0.7",
                           "-o", "Y=Y.npy", NULL };
    run_ok(args);

    seqk_attention_params p;
    seqk_attention_params_init(&p);
    p.q_num_heads = Hq;
    p.kv_num_heads = Hkv;
    p.scale = 0.7f;
    seqk_tensor *Y = tu_f32(ctx, 3, yd, NULL);
    TU_OK(ctx, seqk_attention(ctx, &p, Q, K, V, M, Y));
    check_output("Y.npy", Y);

    seqk_tensor *all[] = { Q, K, V, M, Y };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        seqk_tensor_destroy(all[k]);
    seqk_context_destroy(ctx);
}
END_TEST

/* Outputs appear together or not at all: when the second -o cannot be
 * written, the first is not left behind (issue 14, defect 9). */
START_TEST(run_outputs_all_or_nothing)
{
    const int64_t qd[2] = { 2, 4 }, kd[3] = { 2, 3, 4 };
    float x[24];
    for (int k = 0; k < 24; k++)
        x[k] = (float)(k % 7) / 7.0f;
    put_f32("q.npy", 2, qd, x);
    put_f32("k.npy", 3, kd, x);
    char dirpath[600];
    snprintf(dirpath, sizeof dirpath, "%s/w_dir.npy", run_tmpdir);
    ck_assert_int_eq(mkdir(dirpath, 0700), 0);
    remove(path_of("c_only.npy"));
    const char *args[] = { "SeqAttention", "-i", "query=q.npy",
                           "-i", "keys=k.npy", "-o", "context=c_only.npy",
                           "-o", "weights=w_dir.npy", NULL };
    char err[1024];
    ck_assert_int_eq(run_seqk(args, err, sizeof err, NULL, 0), 1);
    ck_assert_msg(strstr(err, "weights") && strstr(err, "not a regular file"),
                  "%s", err);
    ck_assert_msg(access(path_of("c_only.npy"), F_OK) != 0,
                  "context written although weights failed");
    char cmd[800];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q 'c_only'", run_tmpdir);
    ck_assert_msg(system(cmd) != 0, "a temporary was left in %s", run_tmpdir);
    rmdir(dirpath);
}
END_TEST

/* Attributes that would size Y far beyond its inputs are refused before
 * Y is allocated: q_num_heads=110995177 over a 256-byte Q used to ask for
 * 16 GB (issue 14, defect 6). */
START_TEST(run_attention_huge_heads_refused)
{
    const int64_t d[3] = { 1, 8, 8 };
    float x[64];
    for (int k = 0; k < 64; k++)
        x[k] = (float)k / 64.0f;
    put_f32("Q.npy", 3, d, x);
    put_f32("K.npy", 3, d, x);
    put_f32("V.npy", 3, d, x);
    const char *args[] = { "Attention", "-i", "Q=Q.npy", "-i", "K=K.npy",
                           "-i", "V=V.npy", "-a", "q_num_heads=110995177",
                           "-a", "kv_num_heads=1", "-o", "Y=Y.npy", NULL };
    char err[1024];
    ck_assert_int_eq(run_seqk(args, err, sizeof err, NULL, 0), 1);
    ck_assert_msg(strstr(err, "not a multiple of q_num_heads=110995177"),
                  "%s", err);
}
END_TEST

/* 4-D, additive float mask, bottom-right causal, softcap. */
START_TEST(run_attention_4d_causal)
{
    enum { B = 1, H = 2, Sq = 3, Skv = 5, Dh = 4 };
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 8);
    const int64_t qd[4] = { B, H, Sq, Dh }, kd[4] = { B, H, Skv, Dh };
    const int64_t md[2] = { Sq, Skv };
    seqk_tensor *Q = rand_input(ctx, &r, "Q.npy", 4, qd);
    seqk_tensor *K = rand_input(ctx, &r, "K.npy", 4, kd);
    seqk_tensor *V = rand_input(ctx, &r, "V.npy", 4, kd);
    seqk_tensor *M = rand_input(ctx, &r, "M.npy", 2, md);
    const char *args[] = { "Attention", "--device", dev, "-i", "Q=Q.npy",
                           "-i", "K=K.npy", "-i", "V=V.npy",
                           "-i", "attn_mask=M.npy", "-a", "is_causal=1",
                           "-a", "causal_align=bottom_right",
                           "-a", "softcap=5", "-o", "Y=Y.npy", NULL };
    run_ok(args);

    seqk_attention_params p;
    seqk_attention_params_init(&p);
    p.is_causal = 1;
    p.causal_align = SEQK_CAUSAL_BOTTOM_RIGHT;
    p.softcap = 5.0f;
    seqk_tensor *Y = tu_f32(ctx, 4, qd, NULL);
    TU_OK(ctx, seqk_attention(ctx, &p, Q, K, V, M, Y));
    check_output("Y.npy", Y);

    seqk_tensor *all[] = { Q, K, V, M, Y };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        seqk_tensor_destroy(all[k]);
    seqk_context_destroy(ctx);
}
END_TEST

/* Additive scores with int64 key_lens, then general scores with int32
 * key_lens where only the weights are asked for. */
START_TEST(run_seq_attention)
{
    enum { B = 2, S = 4, Dq = 3, Dk = 5, Dv = 6, A = 3 };
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 9);
    const int64_t qd[2] = { B, Dq }, kd[3] = { B, S, Dk }, vd[3] = { B, S, Dv };
    const int64_t w1d[2] = { A, Dq }, w2d[2] = { A, Dk }, ad[1] = { A };
    const int64_t gd[2] = { Dq, Dk }, ld[1] = { B };
    const int64_t cd[2] = { B, Dv }, wd[2] = { B, S };
    seqk_tensor *q = rand_input(ctx, &r, "q.npy", 2, qd);
    seqk_tensor *keys = rand_input(ctx, &r, "k.npy", 3, kd);
    seqk_tensor *vals = rand_input(ctx, &r, "v.npy", 3, vd);
    seqk_tensor *W1 = rand_input(ctx, &r, "W1.npy", 2, w1d);
    seqk_tensor *W2 = rand_input(ctx, &r, "W2.npy", 2, w2d);
    seqk_tensor *v = rand_input(ctx, &r, "va.npy", 1, ad);
    seqk_tensor *W = rand_input(ctx, &r, "W.npy", 2, gd);
    const int64_t lens64[B] = { 4, 2 };
    const int32_t lens32[B] = { 4, 2 };
    put("l64.npy", NPY_I64, 1, ld, lens64);
    put("l32.npy", NPY_I32, 1, ld, lens32);
    seqk_tensor *L = tu_i32(ctx, 1, ld, lens32);
    seqk_tensor *C = tu_f32(ctx, 2, cd, NULL), *Wt = tu_f32(ctx, 2, wd, NULL);

    const char *args1[] = { "SeqAttention", "--device", dev,
                            "-i", "query=q.npy", "-i", "keys=k.npy",
                            "-i", "values=v.npy", "-i", "key_lens=l64.npy",
                            "-i", "W1=W1.npy", "-i", "W2=W2.npy",
                            "-i", "v=va.npy", "-a", "score=additive",
                            "-o", "context=c.npy", "-o", "weights=w.npy",
                            NULL };
    run_ok(args1);
    seqk_seq_attention_params p;
    seqk_seq_attention_params_init(&p);
    p.score = SEQK_SCORE_ADDITIVE;
    seqk_seq_attention_inputs in = { 0 };
    in.query = q;
    in.keys = keys;
    in.values = vals;
    in.key_lens = L;
    in.W1 = W1;
    in.W2 = W2;
    in.v = v;
    TU_OK(ctx, seqk_seq_attention(ctx, &p, &in, C, Wt));
    check_output("c.npy", C);
    check_output("w.npy", Wt);

    const char *args2[] = { "SeqAttention", "--device", dev,
                            "-i", "query=q.npy", "-i", "keys=k.npy",
                            "-i", "values=v.npy", "-i", "key_lens=l32.npy",
                            "-i", "W=W.npy", "-a", "score=general",
                            "-o", "weights=w2.npy", NULL };
    run_ok(args2);
    p.score = SEQK_SCORE_GENERAL;
    in.W1 = in.W2 = in.v = NULL;
    in.W = W;
    TU_OK(ctx, seqk_seq_attention(ctx, &p, &in, C, Wt));
    check_output("w2.npy", Wt);

    seqk_tensor *all[] = { q, keys, vals, W1, W2, v, W, L, C, Wt };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        seqk_tensor_destroy(all[k]);
    seqk_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------- error contract */

typedef struct err_case {
    const char *args[24];
    int exit_code;
    const char *needle1, *needle2;
} err_case;

#define LSTM_OK "-i", "X=X.npy", "-i", "W=W.npy", "-i", "R=R.npy"

static const err_case err_cases[] = {
    { { "LSTM", "-i", "X=nope.npy", "-i", "W=W.npy", "-i", "R=R.npy", "-o",
        "Y=out.npy" }, 1, "input X", "nope.npy" },
    { { "LSTM", "-i", "X=X.npy", "-i", "W=garbage.npy", "-i", "R=R.npy",
        "-o", "Y=out.npy" }, 1, "input W", "bad magic" },
    { { "LSTM", "-i", "X=X.npy", "-i", "W=trunc.npy", "-i", "R=R.npy",
        "-o", "Y=out.npy" }, 1, "input W", "truncated data" },
    { { "LSTM", "-i", "X=X.npy", "-i", "W=fortran.npy", "-i", "R=R.npy",
        "-o", "Y=out.npy" }, 1, "input W", "Fortran-order" },
    { { "LSTM", "-i", "X=X.npy", "-i", "W=Wi64.npy", "-i", "R=R.npy",
        "-o", "Y=out.npy" }, 1, "input W: expected float32, got int64", "" },
    { { "LSTM", LSTM_OK, "-a", "hidden_size=3", "-o", "Y=out.npy" }, 1,
      "W has shape [1,16,5]", "[1,12,5]" },
    { { "LSTM", LSTM_OK, "-a", "direction=bidirectional", "-o", "Y=out.npy" },
      1, "LSTM", "W has shape [1,16,5]" },
    { { "Foo", LSTM_OK, "-o", "Y=out.npy" }, 2, "unknown op 'Foo'", "" },
    { { "LSTM", LSTM_OK, "-a", "foo=1", "-o", "Y=out.npy" }, 2,
      "no attribute 'foo'", "" },
    { { "LSTM", LSTM_OK, "-a", "activations=Sigmoid,Bogus,Tanh", "-o",
        "Y=out.npy" }, 2, "unknown activation 'Bogus'", "" },
    { { "LSTM", LSTM_OK, "-a", "activations=Sigmoid,Tanh", "-o",
        "Y=out.npy" }, 2, "activations", "got 2" },
    { { "LSTM", LSTM_OK, "-a", "hidden_size=abc", "-o", "Y=out.npy" }, 2,
      "hidden_size", "'abc'" },
    { { "LSTM", LSTM_OK, "-a", "direction=sideways", "-o", "Y=out.npy" }, 2,
      "direction", "sideways" },
    { { "LSTM", LSTM_OK, "-o", "Z=out.npy" }, 2, "no output 'Z'", "" },
    { { "LSTM", "-i", "X=X.npy", "-i", "W=W.npy", "-o", "Y=out.npy" }, 2,
      "needs input R", "" },
    { { "LSTM", LSTM_OK, "-i", "Q=X.npy", "-o", "Y=out.npy" }, 2,
      "no input 'Q'", "" },
    { { "LSTM", LSTM_OK, "-i", "X=X.npy", "-o", "Y=out.npy" }, 2,
      "input X given twice", "" },
    { { "LSTM", LSTM_OK }, 2, "no outputs requested", "" },
    { { "LSTM", LSTM_OK, "-i", "sequence_lens=X.npy", "-o", "Y=out.npy" }, 1,
      "input sequence_lens", "int32 or int64" },
    { { "LSTM", "--device", "nonsense", LSTM_OK, "-o", "Y=out.npy" }, 2,
      "nonsense", "" },
    { { "SeqAttention", "-i", "query=X.npy", "-i", "keys=X.npy",
        "-i", "key_lens=big.npy", "-o", "context=out.npy" }, 1,
      "input key_lens", "does not fit int32" },
    { { "Attention", "-i", "Q=X.npy", "-i", "K=X.npy", "-i", "V=X.npy",
        "-i", "attn_mask=i32.npy", "-a", "q_num_heads=1",
        "-a", "kv_num_heads=1", "-o", "Y=out.npy" }, 1,
      "input attn_mask", "bool or float32" },
    { { "Gemm", "-i", "A=X.npy", "-i", "B=X.npy", "-o", "Y=out.npy" }, 1,
      "A has shape [3,2,5]", "" },
    /* R is the wrong tensor (hidden_size comes from its last dim): R is
     * blamed, not W */
    { { "LSTM", "-i", "X=X.npy", "-i", "W=W.npy", "-i", "R=R3.npy", "-o",
        "Y=out.npy" }, 1, "R has shape [1,16,3]", "[1,12,3]" },
    /* W disagrees with X's input size */
    { { "LSTM", "-i", "X=X.npy", "-i", "W=W6.npy", "-i", "R=R.npy", "-o",
        "Y=out.npy" }, 1, "W has shape [1,16,6]", "X's last dim has size 5" },
    /* numpy's default float64: how to convert */
    { { "LSTM", "-i", "X=X64.npy", "-i", "W=W.npy", "-i", "R=R.npy", "-o",
        "Y=out.npy" }, 1, "float64", "x.astype(np.float32)" },
    { { "GRU", LSTM_OK, "-a", "weight_format=pytorch", "-a",
        "linear_before_reset=0", "-o", "Y=out.npy" }, 2,
      "linear_before_reset=0", "pytorch GRU weights" },
    { { "LSTM", LSTM_OK, "-a", "weight_format=keras", "-o", "Y=out.npy" }, 2,
      "weight_format", "onnx|pytorch|cudnn|onednn" },
    { { "LSTM", LSTM_OK, "-i", "W_l1=W.npy", "-i", "R_l1=R.npy", "-o",
        "Y=out.npy" }, 2, "W_l1 is for layer 1", "num_layers=2" },
    { { "LSTM", LSTM_OK, "-a", "num_layers=2", "-o", "Y=out.npy" }, 2,
      "needs -i W_l1=PATH", "" },
    { { "LSTM", LSTM_OK, "-i", "W_l0=W.npy", "-o", "Y=out.npy" }, 2,
      "layer 0's weights are W", "" },
    { { "LSTM", LSTM_OK, "-a", "num_layers=2", "-i", "W_l1=W.npy", "-i",
        "R_l1=R.npy", "-o", "Y=out.npy" }, 1, "W_l1 has shape [1,16,5]",
      "layer 1's input" },
    { { "LSTM", LSTM_OK, "-a", "lbr=1", "-o", "Y=out.npy" }, 2,
      "no attribute 'lbr'", "" },
    { { "LSTM", LSTM_OK, "-a", "dir=fwd", "-a", "direction=forward", "-o",
        "Y=out.npy" }, 2, "attribute direction given twice", "" },
    { { "LSTM", LSTM_OK, "--threads", "many", "-o", "Y=out.npy" }, 2,
      "--threads 'many'", "0..1024" },
};

START_TEST(run_errors)
{
    const err_case *c = &err_cases[_i];
    tu_rng r;
    tu_rng_init(&r, 10);
    const int64_t xd[3] = { 3, 2, 5 }, wd[3] = { 1, 16, 5 };
    const int64_t rd[3] = { 1, 16, 4 }, ld[1] = { 2 };
    float *w = tu_rand(&r, 80, -1, 1), *rr = tu_rand(&r, 64, -1, 1);
    put_f32("X.npy", 3, xd, w);
    FILE *f;
    put_f32("W.npy", 3, wd, w);
    put_f32("R.npy", 3, rd, rr);
    const int64_t r3d[3] = { 1, 16, 3 }, w6d[3] = { 1, 16, 6 };
    put_f32("R3.npy", 3, r3d, rr);
    float *w6 = tu_rand(&r, 96, -1, 1);
    put_f32("W6.npy", 3, w6d, w6);
    free(w6);
    /* X64.npy: float64, as np.save writes it by default */
    f = fopen(path_of("X64.npy"), "wb");
    static const char f8[] = "\x93NUMPY\x01\x00\x76\x00{'descr': '<f8', "
                             "'fortran_order': False, 'shape': (2,), }";
    char hdr[128];
    memset(hdr, ' ', sizeof hdr);
    memcpy(hdr, f8, sizeof f8 - 1);
    hdr[127] = '\n';
    const double two[2] = { 1.0, 2.0 };
    ck_assert(f && fwrite(hdr, 1, 128, f) == 128 &&
              fwrite(two, sizeof two, 1, f) == 1 && !fclose(f));
    int64_t wi[80] = { 0 };
    put("Wi64.npy", NPY_I64, 3, wd, wi);
    const int64_t big[2] = { 3, 5000000000LL };
    put("big.npy", NPY_I64, 1, ld, big);
    const int32_t small[2] = { 1, 0 };
    put("i32.npy", NPY_I32, 1, ld, small);
    f = fopen(path_of("garbage.npy"), "wb");
    ck_assert(f && fputs("this is not an array\n", f) >= 0 && !fclose(f));
    /* trunc.npy: W.npy less its last 4 bytes */
    npy_array a;
    char err[1024];
    ck_assert(npy_read(path_of("W.npy"), &a, err, sizeof err) == 0);
    npy_free(&a);
    f = fopen(path_of("W.npy"), "rb");
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    f = fopen(path_of("trunc.npy"), "wb");
    ck_assert(f && fwrite(buf, 1, n - 4, f) == n - 4 && !fclose(f));
    /* fortran.npy: the same bytes with fortran_order True */
    char *fo = strstr(buf + 10, "False");
    ck_assert(fo != NULL);
    memcpy(fo, "True ", 5);
    f = fopen(path_of("fortran.npy"), "wb");
    ck_assert(f && fwrite(buf, 1, n, f) == n && !fclose(f));

    int rc = run_seqk(c->args, err, sizeof err, NULL, 0);
    ck_assert_msg(rc == c->exit_code, "case %d: exit %d want %d: %s", _i, rc,
                  c->exit_code, err);
    char *nl = strchr(err, '\n');
    ck_assert_msg(nl && nl[1] == '\0',
                  "case %d: stderr is not exactly one line: \"%s\"", _i, err);
    ck_assert_msg(strncmp(err, "seqk run: ", 10) == 0, "%s", err);
    ck_assert_msg(strstr(err, c->needle1) && strstr(err, c->needle2),
                  "case %d: \"%s\" lacks \"%s\" / \"%s\"", _i, err,
                  c->needle1, c->needle2);
    ck_assert_msg(!exists("out.npy") && !exists("out.npy.tmp"),
                  "case %d left an output behind", _i);
    free(w);
    free(rr);
}
END_TEST

START_TEST(run_help)
{
    char out[8192], err[256];
    const char *args[] = { "--help", NULL };
    ck_assert_int_eq(run_seqk(args, err, sizeof err, out, sizeof out), 0);
    const char *want[] = { "usage: seqk run", "LSTM", "GRU", "RNN", "Gemm",
                           "MatMul", "Softmax", "Attention", "SeqAttention",
                           "sequence_lens", "key_lens", "causal_align",
                           "Y_c", "weights" };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        ck_assert_msg(strstr(out, want[k]) != NULL, "help lacks %s", want[k]);
    const char *none[] = { NULL };
    ck_assert_int_eq(run_seqk(none, err, sizeof err, NULL, 0), 2);
    ck_assert(strstr(err, "missing op") != NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("run_attention");
    TCase *tc = tcase_create("run");
    int nd = tu_device_count();
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, run_setup, run_teardown);
    tcase_add_loop_test(tc, run_attention_bool_mask, 0, nd);
    tcase_add_loop_test(tc, run_attention_4d_causal, 0, nd);
    tcase_add_test(tc, run_attention_huge_heads_refused);
    tcase_add_test(tc, run_outputs_all_or_nothing);
    tcase_add_loop_test(tc, run_seq_attention, 0, nd);
    tcase_add_loop_test(tc, run_errors, 0,
                        (int)(sizeof err_cases / sizeof err_cases[0]));
    tcase_add_test(tc, run_help);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
