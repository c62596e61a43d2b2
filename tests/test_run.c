/*
 * test_run.c — `seqk run` end to end: the built binary ($SEQK_EXE) is run
 * in a fresh directory on .npy inputs written here; every output it writes
 * is compared with the same op called through the public API on the same
 * inputs, once per available device (--device).  Then the error contract:
 * a non-zero exit (2 for usage, 1 for bad data) and exactly one line on
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
#include "testutil.h"

static char tmpdir[256];

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/seqk_run_XXXXXX",
             base && *base ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char p[600];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(tmpdir);
}

static const char *path_of(const char *name)
{
    static char buf[4][600];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 600, "%s/%s", tmpdir, name);
    return p;
}

static int exists(const char *name)
{
    return access(path_of(name), F_OK) == 0;
}

static void put(const char *name, npy_dtype dt, int ndim, const int64_t *dims,
                const void *data)
{
    char err[300];
    ck_assert_msg(npy_write(path_of(name), dt, ndim, dims, data, err,
                            sizeof err) == NPY_OK, "%s", err);
}

static void put_f32(const char *name, int ndim, const int64_t *dims,
                    const float *data)
{
    put(name, NPY_F32, ndim, dims, data);
}

/* Reads output name, checks it is float32 of shape dims, returns data. */
static float *get(const char *name, int ndim, const int64_t *dims)
{
    npy_array a;
    char err[300];
    ck_assert_msg(npy_read(path_of(name), &a, err, sizeof err) == NPY_OK,
                  "%s", err);
    ck_assert_int_eq(a.dtype, NPY_F32);
    ck_assert_int_eq(a.ndim, ndim);
    for (int i = 0; i < ndim; i++)
        ck_assert_msg(a.dims[i] == dims[i], "%s dim %d: %lld want %lld",
                      name, i, (long long)a.dims[i], (long long)dims[i]);
    return a.data;
}

static int64_t numel(int ndim, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= dims[i];
    return n;
}

/* Runs `seqk run args...` (NULL-terminated) in tmpdir; returns the exit
 * status, with stderr (and stdout) captured into the buffers. */
static int run_seqk(const char *const *args, char *err, size_t err_len,
                    char *out, size_t out_len)
{
    const char *exe = getenv("SEQK_EXE");
    ck_assert_msg(exe && *exe, "SEQK_EXE is not set");
    const char *argv[64];
    int n = 0;
    argv[n++] = exe;
    argv[n++] = "run";
    for (int i = 0; args[i]; i++) {
        ck_assert(n < 63);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    const char *ep = path_of(".stderr"), *op = path_of(".stdout");
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fe = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fo = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fe < 0 || fo < 0 || chdir(tmpdir) != 0 || dup2(fe, 2) < 0 ||
            dup2(fo, 1) < 0)
            _exit(126);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int status;
    ck_assert(waitpid(pid, &status, 0) == pid);
    ck_assert_msg(WIFEXITED(status), "seqk run died (signal %d)",
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    const char *files[2] = { ep, op };
    char *bufs[2] = { err, out };
    size_t lens[2] = { err_len, out_len };
    for (int k = 0; k < 2; k++) {
        if (!bufs[k])
            continue;
        FILE *f = fopen(files[k], "rb");
        ck_assert(f != NULL);
        size_t got = fread(bufs[k], 1, lens[k] - 1, f);
        bufs[k][got] = '\0';
        fclose(f);
    }
    return WEXITSTATUS(status);
}

/* Runs and asserts success, printing stderr if not. */
static void run_ok(const char *const *args)
{
    char err[1024];
    int rc = run_seqk(args, err, sizeof err, NULL, 0);
    ck_assert_msg(rc == 0, "seqk run %s exited %d: %s", args[0], rc, err);
    ck_assert_msg(err[0] == '\0', "stderr not empty: %s", err);
}

#define CLOSE(got, want, n) TU_ASSERT_CLOSE(got, want, (size_t)(n), 1e-6f, \
                                            1e-5f)

/* ---------------------------------------------------------- matmuls */

START_TEST(run_gemm)
{
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 1);
    const int64_t ad[2] = { 4, 3 }, bd[2] = { 4, 5 }, cd[1] = { 5 };
    const int64_t yd[2] = { 3, 5 };
    float *a = tu_rand(&r, 12, -1, 1), *b = tu_rand(&r, 20, -1, 1);
    float *c = tu_rand(&r, 5, -1, 1);
    put_f32("A.npy", 2, ad, a);
    put_f32("B.npy", 2, bd, b);
    put_f32("C.npy", 1, cd, c);
    const char *args[] = { "Gemm", "--device", dev, "-i", "A=A.npy",
                           "-i", "B=B.npy", "-i", "C=C.npy", "-a", "transA=1",
                           "-a", "alpha=0.5", "-a", "beta=2", "-o", "Y=Y.npy",
                           NULL };
    run_ok(args);
    float *got = get("Y.npy", 2, yd);

    seqk_gemm_params p;
    seqk_gemm_params_init(&p);
    p.trans_a = 1;
    p.alpha = 0.5f;
    p.beta = 2.0f;
    seqk_tensor *tA = tu_f32(ctx, 2, ad, a), *tB = tu_f32(ctx, 2, bd, b);
    seqk_tensor *tC = tu_f32(ctx, 1, cd, c), *tY = tu_f32(ctx, 2, yd, NULL);
    TU_OK(ctx, seqk_gemm(ctx, &p, tA, tB, tC, tY));
    float *want = tu_read(tY);
    CLOSE(got, want, 15);
    free(got);
    free(want);
    free(a);
    free(b);
    free(c);
    seqk_tensor_destroy(tA);
    seqk_tensor_destroy(tB);
    seqk_tensor_destroy(tC);
    seqk_tensor_destroy(tY);
    seqk_context_destroy(ctx);
}
END_TEST

/* numpy matmul shapes: broadcast batches, 1-D operands promoted and the
 * promoted axis dropped.  The expected shapes are written out by hand. */
START_TEST(run_matmul)
{
    static const struct {
        int ra, rb, ry;
        int64_t a[4], b[4], y[4];
    } cases[] = {
        { 4, 3, 4, { 2, 1, 3, 4 }, { 3, 4, 5 }, { 2, 3, 3, 5 } },
        { 1, 2, 1, { 4 }, { 4, 5 }, { 5 } },
        { 3, 1, 2, { 2, 3, 4 }, { 4 }, { 2, 3 } },
        { 1, 1, 0, { 4 }, { 4 }, { 0 } },
    };
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 2);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int64_t na = numel(cases[k].ra, cases[k].a);
        int64_t nb = numel(cases[k].rb, cases[k].b);
        int64_t ny = numel(cases[k].ry, cases[k].y);
        float *a = tu_rand(&r, (size_t)na, -1, 1);
        float *b = tu_rand(&r, (size_t)nb, -1, 1);
        put_f32("A.npy", cases[k].ra, cases[k].a, a);
        put_f32("B.npy", cases[k].rb, cases[k].b, b);
        const char *args[] = { "MatMul", "--device", dev, "-i", "A=A.npy",
                               "-i", "B=B.npy", "-o", "Y=Y.npy", NULL };
        run_ok(args);
        float *got = get("Y.npy", cases[k].ry, cases[k].y);
        seqk_tensor *tA = tu_f32(ctx, cases[k].ra, cases[k].a, a);
        seqk_tensor *tB = tu_f32(ctx, cases[k].rb, cases[k].b, b);
        seqk_tensor *tY = tu_f32(ctx, cases[k].ry, cases[k].y, NULL);
        TU_OK(ctx, seqk_matmul(ctx, tA, tB, tY));
        float *want = tu_read(tY);
        CLOSE(got, want, ny);
        free(got);
        free(want);
        free(a);
        free(b);
        seqk_tensor_destroy(tA);
        seqk_tensor_destroy(tB);
        seqk_tensor_destroy(tY);
    }
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(run_softmax)
{
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 3);
    const int64_t d[3] = { 2, 3, 4 };
    float *x = tu_rand(&r, 24, -3, 3);
    put_f32("in.npy", 3, d, x);
    seqk_tensor *tX = tu_f32(ctx, 3, d, x), *tY = tu_f32(ctx, 3, d, NULL);
    for (int axis = -1; axis <= 1; axis += 2) {
        /* axis -1 is the default: the list then ends before "-a" */
        const char *args[] = { "Softmax", "--device", dev,
                               "-i", "input=in.npy", "-o", "output=out.npy",
                               axis == 1 ? "-a" : NULL, "axis=1", NULL };
        run_ok(args);
        float *got = get("out.npy", 3, d);
        TU_OK(ctx, seqk_softmax(ctx, axis, tX, tY));
        float *want = tu_read(tY);
        CLOSE(got, want, 24);
        free(got);
        free(want);
    }
    free(x);
    seqk_tensor_destroy(tX);
    seqk_tensor_destroy(tY);
    seqk_context_destroy(ctx);
}
END_TEST

/* ---------------------------------------------------------------- RNNs */

/* Writes f32 input name of shape dims with random data and returns the
 * matching tensor on ctx. */
static seqk_tensor *rand_input(seqk_context *ctx, tu_rng *r, const char *name,
                               int ndim, const int64_t *dims)
{
    size_t n = (size_t)numel(ndim, dims);
    float *x = tu_rand(r, n, -1, 1);
    put_f32(name, ndim, dims, x);
    seqk_tensor *t = tu_f32(ctx, ndim, dims, x);
    free(x);
    return t;
}

/* Compares output file name with tensor t (same shape). */
static void check_output(const char *name, const seqk_tensor *t)
{
    int64_t dims[SEQK_MAX_DIMS];
    int nd = seqk_tensor_ndim(t);
    for (int i = 0; i < nd; i++)
        dims[i] = seqk_tensor_dim(t, i);
    float *got = get(name, nd, dims);
    float *want = tu_read(t);
    CLOSE(got, want, seqk_tensor_numel(t));
    free(got);
    free(want);
}

/* Bidirectional LSTM with every input, int64 sequence_lens, clip, and an
 * activations list whose alpha/beta values go, in order, only to the
 * functions that read them: HardSigmoid takes alpha 0.3 and beta 0.4,
 * LeakyRelu alpha 0.05. */
START_TEST(run_lstm)
{
    enum { T = 4, B = 3, I = 5, H = 4, D = 2 };
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 4);
    const int64_t xd[3] = { T, B, I }, wd[3] = { D, 4 * H, I };
    const int64_t rd[3] = { D, 4 * H, H }, bd[2] = { D, 8 * H };
    const int64_t pd[2] = { D, 3 * H }, hd[3] = { D, B, H };
    const int64_t yd[4] = { T, D, B, H }, ld[1] = { B };
    seqk_tensor *X = rand_input(ctx, &r, "X.npy", 3, xd);
    seqk_tensor *W = rand_input(ctx, &r, "W.npy", 3, wd);
    seqk_tensor *R = rand_input(ctx, &r, "R.npy", 3, rd);
    seqk_tensor *Bi = rand_input(ctx, &r, "B.npy", 2, bd);
    seqk_tensor *P = rand_input(ctx, &r, "P.npy", 2, pd);
    seqk_tensor *h0 = rand_input(ctx, &r, "h0.npy", 3, hd);
    seqk_tensor *c0 = rand_input(ctx, &r, "c0.npy", 3, hd);
    const int64_t lens64[B] = { 4, 0, 2 };
    const int32_t lens32[B] = { 4, 0, 2 };
    put("lens.npy", NPY_I64, 1, ld, lens64);
    seqk_tensor *L = tu_i32(ctx, 1, ld, lens32);

    const char *args[] = {
        "LSTM", "--device", dev, "-i", "X=X.npy", "-i", "W=W.npy", "-i",
        "R=R.npy", "-i", "B=B.npy", "-i", "P=P.npy", "-i", "initial_h=h0.npy",
        "-i", "initial_c=c0.npy", "-i", "sequence_lens=lens.npy",
        "-a", "direction=bidirectional", "-a", "hidden_size=4",
        "-a", "activations=HardSigmoid,Tanh,Tanh,Sigmoid,LeakyRelu,Softsign",
        "-a", "activation_alpha=0.3,0.05", "-a", "activation_beta=0.4",
        "-a", "clip=2.5", "-o", "Y=Y.npy", "-o", "Y_h=Yh.npy",
        "-o", "Y_c=Yc.npy", NULL
    };
    run_ok(args);

    seqk_rnn_desc desc;
    seqk_rnn_desc_init(&desc, SEQK_CELL_LSTM, I, H);
    desc.direction = SEQK_BIDIRECTIONAL;
    desc.clip = 2.5f;
    desc.num_activations = 6;
    const seqk_act_kind kinds[6] = { SEQK_ACT_HARD_SIGMOID, SEQK_ACT_TANH,
                                     SEQK_ACT_TANH, SEQK_ACT_SIGMOID,
                                     SEQK_ACT_LEAKY_RELU, SEQK_ACT_SOFTSIGN };
    for (int k = 0; k < 6; k++)
        desc.activations[k] = seqk_activation_default(kinds[k]);
    desc.activations[0].alpha = 0.3f;
    desc.activations[0].beta = 0.4f;
    desc.activations[4].alpha = 0.05f;
    seqk_rnn *rnn;
    TU_OK(ctx, seqk_rnn_create(ctx, &desc, &rnn));
    TU_OK(ctx, seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_ONNX, W, R, Bi, P));
    seqk_tensor *Y = tu_f32(ctx, 4, yd, NULL), *Yh = tu_f32(ctx, 3, hd, NULL);
    seqk_tensor *Yc = tu_f32(ctx, 3, hd, NULL);
    TU_OK(ctx, seqk_rnn_forward(rnn, X, L, h0, c0, Y, Yh, Yc));
    check_output("Y.npy", Y);
    check_output("Yh.npy", Yh);
    check_output("Yc.npy", Yc);

    seqk_tensor *all[] = { X, W, R, Bi, P, h0, c0, L, Y, Yh, Yc };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        seqk_tensor_destroy(all[k]);
    seqk_rnn_destroy(rnn);
    seqk_context_destroy(ctx);
}
END_TEST

/* Batch-first reverse GRU with linear_before_reset, hidden_size inferred
 * from R, int32 sequence_lens. */
START_TEST(run_gru_layout1)
{
    enum { T = 5, B = 2, I = 3, H = 6 };
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 5);
    const int64_t xd[3] = { B, T, I }, wd[3] = { 1, 3 * H, I };
    const int64_t rd[3] = { 1, 3 * H, H }, bd[2] = { 1, 6 * H };
    const int64_t yd[4] = { B, T, 1, H }, hd[3] = { B, 1, H }, ld[1] = { B };
    seqk_tensor *X = rand_input(ctx, &r, "X.npy", 3, xd);
    seqk_tensor *W = rand_input(ctx, &r, "W.npy", 3, wd);
    seqk_tensor *R = rand_input(ctx, &r, "R.npy", 3, rd);
    seqk_tensor *Bi = rand_input(ctx, &r, "B.npy", 2, bd);
    const int32_t lens[B] = { 3, 5 };
    put("lens.npy", NPY_I32, 1, ld, lens);
    seqk_tensor *L = tu_i32(ctx, 1, ld, lens);
    const char *args[] = {
        "GRU", "--device", dev, "-i", "X=X.npy", "-i", "W=W.npy", "-i",
        "R=R.npy", "-i", "B=B.npy", "-i", "sequence_lens=lens.npy",
        "-a", "layout=1", "-a", "direction=reverse",
        "-a", "linear_before_reset=1", "-o", "Y=Y.npy", "-o", "Y_h=Yh.npy",
        NULL
    };
    run_ok(args);

    seqk_rnn_desc desc;
    seqk_rnn_desc_init(&desc, SEQK_CELL_GRU, I, H);
    desc.direction = SEQK_REVERSE;
    desc.layout = 1;
    desc.linear_before_reset = 1;
    seqk_rnn *rnn;
    TU_OK(ctx, seqk_rnn_create(ctx, &desc, &rnn));
    TU_OK(ctx, seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_ONNX, W, R, Bi,
                                    NULL));
    seqk_tensor *Y = tu_f32(ctx, 4, yd, NULL), *Yh = tu_f32(ctx, 3, hd, NULL);
    TU_OK(ctx, seqk_rnn_forward(rnn, X, L, NULL, NULL, Y, Yh, NULL));
    check_output("Y.npy", Y);
    check_output("Yh.npy", Yh);

    seqk_tensor *all[] = { X, W, R, Bi, L, Y, Yh };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        seqk_tensor_destroy(all[k]);
    seqk_rnn_destroy(rnn);
    seqk_context_destroy(ctx);
}
END_TEST

/* Two stacked bidirectional GRU layers in PyTorch's weight format, given
 * with the short spellings (dir=bi, layers=2) and --threads: layer 1's
 * weights as W_l1/R_l1/B_l1, and linear_before_reset defaulting to 1 (a
 * PyTorch GRU).  The library with the same weights is the oracle. */
START_TEST(run_gru_pytorch_stacked)
{
    enum { T = 4, B = 2, I = 3, H = 5, D = 2, L = 2 };
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 7);
    const int64_t xd[3] = { T, B, I }, wd0[3] = { D, 3 * H, I };
    const int64_t wd1[3] = { D, 3 * H, D * H }, rd[3] = { D, 3 * H, H };
    const int64_t bd[2] = { D, 6 * H }, hd[3] = { L * D, B, H };
    const int64_t yd[4] = { T, D, B, H };
    seqk_tensor *X = rand_input(ctx, &r, "X.npy", 3, xd);
    seqk_tensor *W0 = rand_input(ctx, &r, "W.npy", 3, wd0);
    seqk_tensor *R0 = rand_input(ctx, &r, "R.npy", 3, rd);
    seqk_tensor *B0 = rand_input(ctx, &r, "B.npy", 2, bd);
    seqk_tensor *W1 = rand_input(ctx, &r, "W1.npy", 3, wd1);
    seqk_tensor *R1 = rand_input(ctx, &r, "R1.npy", 3, rd);
    seqk_tensor *B1 = rand_input(ctx, &r, "B1.npy", 2, bd);
    seqk_tensor *h0 = rand_input(ctx, &r, "h0.npy", 3, hd);
    const char *args[] = {
        "GRU", "--device", dev, "--threads", "1", "-i", "X=X.npy",
        "-i", "W=W.npy", "-i", "R=R.npy", "-i", "B=B.npy",
        "-i", "W_l1=W1.npy", "-i", "R_l1=R1.npy", "-i", "B_l1=B1.npy",
        "-i", "initial_h=h0.npy", "-a", "weight_format=pytorch",
        "-a", "dir=bi", "-a", "layers=2", "-o", "Y=Y.npy",
        "-o", "Y_h=Yh.npy", NULL
    };
    run_ok(args);

    seqk_rnn_desc desc;
    seqk_rnn_desc_init(&desc, SEQK_CELL_GRU, I, H);
    desc.direction = SEQK_BIDIRECTIONAL;
    desc.num_layers = L;
    desc.linear_before_reset = 1;
    seqk_rnn *rnn;
    TU_OK(ctx, seqk_rnn_create(ctx, &desc, &rnn));
    TU_OK(ctx, seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_PYTORCH, W0, R0, B0,
                                    NULL));
    TU_OK(ctx, seqk_rnn_set_weights(rnn, 1, SEQK_WEIGHTS_PYTORCH, W1, R1, B1,
                                    NULL));
    seqk_tensor *Y = tu_f32(ctx, 4, yd, NULL), *Yh = tu_f32(ctx, 3, hd, NULL);
    TU_OK(ctx, seqk_rnn_forward(rnn, X, NULL, h0, NULL, Y, Yh, NULL));
    check_output("Y.npy", Y);
    check_output("Yh.npy", Yh);

    seqk_tensor *all[] = { X, W0, R0, B0, W1, R1, B1, h0, Y, Yh };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        seqk_tensor_destroy(all[k]);
    seqk_rnn_destroy(rnn);
    seqk_context_destroy(ctx);
}
END_TEST

/* Plain RNN with Relu and an initial state; only Y_h is asked for. */
START_TEST(run_rnn_only_yh)
{
    enum { T = 3, B = 2, I = 4, H = 3 };
    const char *dev = tu_device(_i);
    seqk_context *ctx = tu_context(_i);
    tu_rng r;
    tu_rng_init(&r, 6);
    const int64_t xd[3] = { T, B, I }, wd[3] = { 1, H, I };
    const int64_t rd[3] = { 1, H, H }, hd[3] = { 1, B, H };
    seqk_tensor *X = rand_input(ctx, &r, "X.npy", 3, xd);
    seqk_tensor *W = rand_input(ctx, &r, "W.npy", 3, wd);
    seqk_tensor *R = rand_input(ctx, &r, "R.npy", 3, rd);
    seqk_tensor *h0 = rand_input(ctx, &r, "h0.npy", 3, hd);
    const char *args[] = { "RNN", "--device", dev, "-i", "X=X.npy",
                           "-i", "W=W.npy", "-i", "R=R.npy",
                           "-i", "initial_h=h0.npy", "-a", "activations=Relu",
                           "-a", "hidden_size=3", "-o", "Y_h=Yh.npy", NULL };
    run_ok(args);

    seqk_rnn_desc desc;
    seqk_rnn_desc_init(&desc, SEQK_CELL_RNN, I, H);
    desc.num_activations = 1;
    desc.activations[0] = seqk_activation_default(SEQK_ACT_RELU);
    seqk_rnn *rnn;
    TU_OK(ctx, seqk_rnn_create(ctx, &desc, &rnn));
    TU_OK(ctx, seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_ONNX, W, R, NULL,
                                    NULL));
    seqk_tensor *Yh = tu_f32(ctx, 3, hd, NULL);
    TU_OK(ctx, seqk_rnn_forward(rnn, X, NULL, h0, NULL, NULL, Yh, NULL));
    check_output("Yh.npy", Yh);

    seqk_tensor *all[] = { X, W, R, h0, Yh };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        seqk_tensor_destroy(all[k]);
    seqk_rnn_destroy(rnn);
    seqk_context_destroy(ctx);
}
END_TEST

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
    snprintf(dirpath, sizeof dirpath, "%s/w_dir.npy", tmpdir);
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
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q 'c_only'", tmpdir);
    ck_assert_msg(system(cmd) != 0, "a temporary was left in %s", tmpdir);
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
    Suite *s = suite_create("run");
    TCase *tc = tcase_create("run");
    int nd = tu_device_count();
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, run_gemm, 0, nd);
    tcase_add_loop_test(tc, run_matmul, 0, nd);
    tcase_add_loop_test(tc, run_softmax, 0, nd);
    tcase_add_loop_test(tc, run_lstm, 0, nd);
    tcase_add_loop_test(tc, run_gru_layout1, 0, nd);
    tcase_add_loop_test(tc, run_gru_pytorch_stacked, 0, nd);
    tcase_add_loop_test(tc, run_rnn_only_yh, 0, nd);
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
