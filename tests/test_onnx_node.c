/*
 * test_onnx_node.c — the ONNX backend node tests (Debian's libonnx-testdata)
 * for the ops seqk implements: LSTM, GRU, RNN, Gemm, MatMul and Softmax.
 *
 * Each folder of $SEQK_ONNX_NODE_DIR holds model.onnx (a graph of one node)
 * and test_data_set_0/{input,output}_N.pb.  The folders are listed by name
 * at start-up and each becomes one Check test per device (tcase = device,
 * loop index = folder), so the summary counts them; onnx_node_run.c maps
 * the node onto the seqk public API and compares the outputs.
 *
 * A listed folder that cannot be run fails (it is never skipped), and so
 * does finding fewer than MIN_CASES folders: a missing data package must
 * be loud.  The "loader" tcase checks that truncated, corrupt or crafted
 * files give an error message rather than a crash, and that a wrong
 * expected value is caught.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_loader.h"
#include "onnx_node_run.h"
#include "testutil.h"

#define DEFAULT_NODE_DIR "/usr/share/libonnx-testdata/data/node"
#define MAX_CASES 512
#define MIN_CASES 30

typedef struct node_case {
    char name[128];
} node_case;

static node_case cases[MAX_CASES];
static int n_cases;
static char scan_error[OL_MSG_LEN];
static const char *node_dir;

/* ------------------------------------------------------------- listing */

/* The folders this suite runs.  *_expanded graphs are the op decomposed
 * into other ops (no Softmax node): not ours to run. */
static int wanted(const char *name)
{
    static const char *const prefixes[] = {
        "test_lstm_", "test_gru_", "test_rnn_", "test_simple_rnn_",
        "test_softmax_", "test_gemm_"};
    static const char *const exact[] = {
        "test_matmul_2d", "test_matmul_3d", "test_matmul_4d"};

    if (strstr(name, "_expanded"))
        return 0;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
            return 1;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (!strcmp(name, exact[i]))
            return 1;
    return 0;
}

static int case_cmp(const void *a, const void *b)
{
    return strcmp(((const node_case *)a)->name, ((const node_case *)b)->name);
}

static void scan_cases(void)
{
    DIR *d = opendir(node_dir);
    struct dirent *e;

    if (!d) {
        snprintf(scan_error, sizeof scan_error, "cannot open %s", node_dir);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (!wanted(e->d_name))
            continue;
        if (n_cases == MAX_CASES || strlen(e->d_name) >= sizeof cases[0].name) {
            snprintf(scan_error, sizeof scan_error, "too many or too long "
                     "test folder names in %s (at %s)", node_dir, e->d_name);
            break;
        }
        strcpy(cases[n_cases++].name, e->d_name);
    }
    closedir(d);
    qsort(cases, (size_t)n_cases, sizeof cases[0], case_cmp);
}

/* ------------------------------------------------------------- tests */

START_TEST(test_inventory)
{
    static const char *const families[] = {
        "test_lstm_", "test_gru_", "test_rnn_", "test_simple_rnn_",
        "test_softmax_", "test_gemm_", "test_matmul_"};

    ck_assert_msg(!scan_error[0], "%s (install libonnx-testdata or set "
                  "SEQK_ONNX_NODE_DIR)", scan_error);
    ck_assert_msg(n_cases >= MIN_CASES, "only %d ONNX node tests found in "
                  "%s, want >= %d: install libonnx-testdata or set "
                  "SEQK_ONNX_NODE_DIR", n_cases, node_dir, MIN_CASES);
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        int found = 0;
        for (int c = 0; c < n_cases; c++)
            found |= !strncmp(cases[c].name, families[f], strlen(families[f]));
        ck_assert_msg(found, "no %s* folder in %s", families[f], node_dir);
    }
}
END_TEST

START_TEST(test_node)
{
    int dev = _i / n_cases, c = _i % n_cases;
    char dir[OL_PATH_LEN], err[OL_MSG_LEN] = "";
    seqk_context *ctx;
    int rc;

    ck_assert(ol_path_join(dir, node_dir, cases[c].name) == 0);
    ctx = tu_context(dev);
    rc = onnx_node_run(ctx, dir, err);
    seqk_context_destroy(ctx);
    ck_assert_msg(rc == 0, "%s on %s: %s", cases[c].name, tu_device(dev),
                  err);
}
END_TEST

/* ------------------------------------------------------------- loader */

/* Packs tp and decodes it through the loader, as a .pb file would be. */
static int decode_packed(const Onnx__TensorProto *tp, ol_tensor *t,
                         char *err)
{
    size_t len = onnx__tensor_proto__get_packed_size(tp);
    uint8_t *buf = malloc(len + 1);
    int rc;

    ck_assert(buf);
    onnx__tensor_proto__pack(tp, buf);
    rc = ol_tensor_decode(buf, len, t, err);
    free(buf);
    return rc;
}

START_TEST(test_crafted_tensors)
{
    /* Each bad tensor must be refused with a message containing needle. */
    static const struct {
        int32_t dtype; /* 0: data_type left unset */
        int ndim;
        int64_t dims[SEQK_MAX_DIMS + 1];
        size_t n_float, raw; /* float_data values, raw_data bytes */
        int64_t i64;         /* one int64_data value when dtype is 7 */
        int external;
        const char *needle;
    } bad[] = {
        {1, 2, {2, 3}, 5, 0, 0, 0, "needs 6 elements but holds 5"},
        {1, 2, {INT64_C(1) << 40, INT64_C(1) << 40}, 0, 0, 0, 0, "more elem"},
        {1, 2, {-1, 2}, 0, 0, 0, 0, "want >= 0"},
        {1, 9, {1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 0, 0, 0, "at most 8"},
        {1, 1, {2}, 0, 7, 0, 0, "not a multiple of 4"},
        {1, 1, {2}, 2, 8, 0, 0, "both raw_data and typed"},
        {11, 1, {1}, 0, 8, 0, 0, "data_type 11"},
        {7, 1, {1}, 0, 0, (int64_t)1 << 40, 0, "does not fit in int32"},
        {0, 1, {1}, 1, 0, 0, 0, "no data_type"},
        {1, 1, {1}, 1, 0, 0, 1, "external"},
    };
    static float ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    static uint8_t raw[8];
    /* 1.0, -2.5, 0.15625, 3.0 as little-endian IEEE-754 bits */
    static uint8_t raw_f32[16] = {0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0,
                                  0, 0, 0x20, 0x3e, 0, 0, 0x40, 0x40};
    static uint8_t raw_i32[8] = {1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    static const float want_f32[4] = {1.0f, -2.5f, 0.15625f, 3.0f};
    int64_t dims22[2] = {2, 2}, dims2[1] = {2}, dims03[2] = {0, 3};
    int64_t i64s[2] = {7, -3};
    char err[OL_MSG_LEN];
    ol_tensor t;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Onnx__TensorProto tp;
        Onnx__StringStringEntryProto *no_entries = NULL;
        int64_t v = bad[i].i64;
        onnx__tensor_proto__init(&tp);
        tp.has_data_type = bad[i].dtype != 0;
        tp.data_type = bad[i].dtype;
        tp.n_dims = (size_t)bad[i].ndim;
        tp.dims = (int64_t *)bad[i].dims;
        tp.n_float_data = bad[i].n_float;
        tp.float_data = ones;
        tp.has_raw_data = bad[i].raw != 0;
        tp.raw_data.len = bad[i].raw;
        tp.raw_data.data = raw;
        if (bad[i].dtype == 7) {
            tp.n_int64_data = 1;
            tp.int64_data = &v;
        }
        tp.has_data_location = bad[i].external;
        tp.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        tp.external_data = &no_entries;
        err[0] = '\0';
        ck_assert_msg(decode_packed(&tp, &t, err) == -1,
                      "bad tensor %zu was accepted", i);
        ck_assert_msg(strstr(err, bad[i].needle), "bad tensor %zu: message "
                      "\"%s\" lacks \"%s\"", i, err, bad[i].needle);
        ck_assert(t.data == NULL);
    }

    /* Good ones, against values worked out by hand. */
    Onnx__TensorProto tp;
    onnx__tensor_proto__init(&tp);
    tp.has_data_type = 1;
    tp.data_type = 1;
    tp.n_dims = 2;
    tp.dims = dims22;
    tp.has_raw_data = 1;
    tp.raw_data.len = sizeof raw_f32;
    tp.raw_data.data = raw_f32;
    ck_assert_msg(decode_packed(&tp, &t, err) == 0, "%s", err);
    ck_assert(t.dtype == SEQK_F32 && t.ndim == 2 && t.count == 4);
    ck_assert(!memcmp(t.data, want_f32, sizeof want_f32));
    ol_tensor_free(&t);

    tp.data_type = 6; /* int32 from raw bytes */
    tp.n_dims = 1;
    tp.dims = dims2;
    tp.raw_data.len = sizeof raw_i32;
    tp.raw_data.data = raw_i32;
    ck_assert_msg(decode_packed(&tp, &t, err) == 0, "%s", err);
    ck_assert(t.dtype == SEQK_I32 && t.count == 2);
    ck_assert(((int32_t *)t.data)[0] == 1 && ((int32_t *)t.data)[1] == -1);
    ol_tensor_free(&t);

    tp.data_type = 7; /* int64_data narrowed to int32 */
    tp.has_raw_data = 0;
    tp.n_int64_data = 2;
    tp.int64_data = i64s;
    ck_assert_msg(decode_packed(&tp, &t, err) == 0, "%s", err);
    ck_assert(((int32_t *)t.data)[0] == 7 && ((int32_t *)t.data)[1] == -3);
    ol_tensor_free(&t);

    tp.data_type = 1; /* zero elements: valid, data still non-NULL */
    tp.n_int64_data = 0;
    tp.n_dims = 2;
    tp.dims = dims03;
    ck_assert_msg(decode_packed(&tp, &t, err) == 0, "%s", err);
    ck_assert(t.count == 0 && t.data != NULL);
    ol_tensor_free(&t);
}
END_TEST

/* Packs a model of n_nodes Softmax nodes, with or without an opset. */
static int decode_model(size_t n_nodes, int with_opset, ol_model *m,
                        char *err)
{
    Onnx__ModelProto mp;
    Onnx__GraphProto g;
    Onnx__NodeProto node, *nodes[2] = {&node, &node};
    Onnx__OperatorSetIdProto os, *oss[1] = {&os};
    uint8_t *buf;
    size_t len;
    int rc;

    onnx__model_proto__init(&mp);
    onnx__graph_proto__init(&g);
    onnx__node_proto__init(&node);
    onnx__operator_set_id_proto__init(&os);
    node.op_type = "Softmax";
    g.n_node = n_nodes;
    g.node = nodes;
    mp.graph = &g;
    os.domain = "";
    os.has_version = 1;
    os.version = 13;
    mp.n_opset_import = with_opset ? 1 : 0;
    mp.opset_import = oss;
    len = onnx__model_proto__get_packed_size(&mp);
    buf = malloc(len + 1);
    ck_assert(buf);
    onnx__model_proto__pack(&mp, buf);
    rc = ol_model_decode(buf, len, m, err);
    free(buf);
    return rc;
}

START_TEST(test_crafted_models)
{
    char err[OL_MSG_LEN];
    ol_model m;

    ck_assert_msg(decode_model(1, 1, &m, err) == 0, "%s", err);
    ck_assert(m.opset == 13 && !strcmp(m.node->op_type, "Softmax"));
    ol_model_free(&m);
    ck_assert(decode_model(2, 1, &m, err) == -1);
    ck_assert_msg(strstr(err, "2 nodes"), "%s", err);
    ck_assert(decode_model(0, 1, &m, err) == -1);
    ck_assert(decode_model(1, 0, &m, err) == -1);
    ck_assert_msg(strstr(err, "opset"), "%s", err);
}
END_TEST

/* Every prefix and many byte mutations of real files: an error with a
 * message, or a tensor whose element count matches its dims. */
static void abuse_file(const char *path, int is_model, tu_rng *rng)
{
    uint8_t *full, *buf;
    size_t len;
    char err[OL_MSG_LEN];

    ck_assert_msg(ol_read_file(path, OL_MAX_FILE_BYTES, &full, &len, err) == 0,
                  "%s", err);
    for (size_t k = 0; k < len + 300; k++) {
        /* exact-size copies, so an over-read shows under ASan */
        size_t n = k < len ? k : len;
        int rc;
        buf = malloc(n + 1);
        ck_assert(buf);
        memcpy(buf, full, n);
        if (k >= len) /* mutate a byte or two of the whole file */
            for (int j = 0; j < 1 + (int)(k & 1); j++)
                buf[(size_t)tu_uniform(rng, 0, (float)n) % (n ? n : 1)] =
                    (uint8_t)tu_uniform(rng, 0, 256);
        err[0] = '\0';
        if (is_model) {
            ol_model m;
            rc = ol_model_decode(buf, n, &m, err);
            if (rc == 0)
                ol_model_free(&m);
        } else {
            ol_tensor t;
            rc = ol_tensor_decode(buf, n, &t, err);
            if (rc == 0) {
                int64_t numel = 1;
                for (int i = 0; i < t.ndim; i++)
                    numel *= t.dims[i];
                ck_assert_msg((int64_t)t.count == numel && t.data,
                              "%s: count %zu for dims of %lld elements",
                              path, t.count, (long long)numel);
                ol_tensor_free(&t);
            }
        }
        ck_assert_msg(rc == 0 || err[0], "%s: failed without a message",
                      path);
        free(buf);
    }
    free(full);
}

START_TEST(test_truncated_and_mutated_files)
{
    static const char *const files[] = {
        "model.onnx", "test_data_set_0/input_0.pb",
        "test_data_set_0/output_0.pb"};
    char dir[OL_PATH_LEN], path[OL_PATH_LEN];
    int picks[2] = {0, 0};
    tu_rng rng;

    ck_assert_msg(n_cases > 0, "no ONNX node tests found in %s", node_dir);
    tu_rng_init(&rng, 77);
    /* the first case (a Gemm) and the first LSTM (up to 8 inputs) */
    for (int c = n_cases - 1; c >= 0; c--)
        if (!strncmp(cases[c].name, "test_lstm_", 10))
            picks[1] = c;
    for (int p = 0; p < 2; p++) {
        ck_assert(ol_path_join(dir, node_dir, cases[picks[p]].name) == 0);
        for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
            ck_assert(ol_path_join(path, dir, files[f]) == 0);
            abuse_file(path, f == 0, &rng);
        }
    }
}
END_TEST

/* Copies node_dir/name (model.onnx, input_N.pb and output_N.pb, N < 8)
 * into a fresh temporary folder tmp (OL_PATH_LEN bytes). */
static void tmp_case(const char *name, char *tmp)
{
    const char *base = getenv("TMPDIR");
    char src[OL_PATH_LEN], from[OL_PATH_LEN], to[OL_PATH_LEN];
    char file[64], err[OL_MSG_LEN];
    uint8_t *buf;
    size_t len;

    ck_assert(!ol_path_join(src, node_dir, name));
    snprintf(tmp, OL_PATH_LEN, "%s/seqk-onnx-XXXXXX", base ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmp), "mkdtemp %s failed", tmp);
    ck_assert(!ol_path_join(to, tmp, "test_data_set_0"));
    ck_assert(mkdir(to, 0700) == 0);
    for (int i = -1; i < 16; i++) {
        if (i < 0)
            snprintf(file, sizeof file, "model.onnx");
        else
            snprintf(file, sizeof file, "test_data_set_0/%s_%d.pb",
                     i < 8 ? "input" : "output", i % 8);
        ck_assert(!ol_path_join(from, src, file) &&
                  !ol_path_join(to, tmp, file));
        if (access(from, F_OK))
            continue;
        ck_assert_msg(!ol_read_file(from, OL_MAX_FILE_BYTES, &buf, &len, err),
                      "%s", err);
        ck_assert_msg(!ol_write_file(to, buf, len, err), "%s", err);
        free(buf);
    }
}

static void tmp_case_remove(const char *tmp)
{
    char path[OL_PATH_LEN], file[64];

    for (int i = -1; i < 16; i++) {
        if (i < 0)
            snprintf(file, sizeof file, "model.onnx");
        else
            snprintf(file, sizeof file, "test_data_set_0/%s_%d.pb",
                     i < 8 ? "input" : "output", i % 8);
        if (!ol_path_join(path, tmp, file))
            unlink(path);
    }
    if (!ol_path_join(path, tmp, "test_data_set_0"))
        rmdir(path);
    rmdir(tmp);
}

static void write_tensor_pb(const char *dir, const char *file,
                            const Onnx__TensorProto *tp)
{
    char path[OL_PATH_LEN], err[OL_MSG_LEN];
    size_t len = onnx__tensor_proto__get_packed_size(tp);
    uint8_t *buf = malloc(len + 1);

    ck_assert(buf && !ol_path_join(path, dir, file));
    onnx__tensor_proto__pack(tp, buf);
    ck_assert_msg(!ol_write_file(path, buf, len, err), "%s", err);
    free(buf);
}

static int find_case(const char *name)
{
    for (int c = 0; c < n_cases; c++)
        if (!strcmp(cases[c].name, name))
            return c;
    ck_abort_msg("no %s in %s", name, node_dir);
    return -1;
}

/* A copy of a real folder with a wrong expected value, a truncated input
 * or a missing output must fail with a message that says so. */
START_TEST(test_bad_folders_fail)
{
    char dir[OL_PATH_LEN], path[OL_PATH_LEN], err[OL_MSG_LEN];
    const char *out0 = "test_data_set_0/output_0.pb";
    const char *in0 = "test_data_set_0/input_0.pb";
    seqk_context *ctx = tu_context(0);
    ol_tensor t;

    tmp_case(cases[find_case("test_gemm_default_matrix_bias")].name, dir);
    ck_assert_msg(onnx_node_run(ctx, dir, err) == 0, "intact copy: %s", err);

    /* One expected value moved well outside the tolerance. */
    ck_assert(!ol_path_join(path, dir, out0));
    ck_assert_msg(!ol_tensor_load(path, &t, err), "%s", err);
    {
        Onnx__TensorProto tp;
        onnx__tensor_proto__init(&tp);
        tp.n_dims = (size_t)t.ndim;
        tp.dims = t.dims;
        tp.has_data_type = 1;
        tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
        tp.n_float_data = t.count;
        tp.float_data = t.data;
        tp.float_data[1] += 1.0f + fabsf(tp.float_data[1]);
        write_tensor_pb(dir, out0, &tp);
    }
    ol_tensor_free(&t);
    ck_assert(onnx_node_run(ctx, dir, err) == -1);
    ck_assert_msg(strstr(err, "output 'y'") && strstr(err, "index 1 "),
                  "wrong value: %s", err);

    /* input_0.pb cut in half */
    tmp_case_remove(dir);
    tmp_case(cases[find_case("test_gemm_default_matrix_bias")].name, dir);
    {
        uint8_t *buf;
        size_t len;
        ck_assert(!ol_path_join(path, dir, in0));
        ck_assert(!ol_read_file(path, OL_MAX_FILE_BYTES, &buf, &len, err));
        ck_assert(!ol_write_file(path, buf, len / 2, err));
        free(buf);
    }
    ck_assert(onnx_node_run(ctx, dir, err) == -1);
    ck_assert_msg(strstr(err, "input_0.pb"), "truncated input: %s", err);

    /* output_0.pb missing */
    tmp_case_remove(dir);
    tmp_case(cases[find_case("test_gemm_default_matrix_bias")].name, dir);
    ck_assert(!ol_path_join(path, dir, out0) && unlink(path) == 0);
    ck_assert(onnx_node_run(ctx, dir, err) == -1);
    ck_assert_msg(strstr(err, "output_0.pb"), "missing output: %s", err);

    tmp_case_remove(dir);
    seqk_context_destroy(ctx);
}
END_TEST

/* The data only has Softmax-13.  Re-stamp test_softmax_default_axis as
 * opset 11, where the default axis is 1 and x [3,4,5] is seen as [3,20],
 * and check against a softmax over each row of 20 computed here. */
START_TEST(test_softmax_old_opset)
{
    char dir[OL_PATH_LEN], path[OL_PATH_LEN], err[OL_MSG_LEN];
    seqk_context *ctx = tu_context(0);
    Onnx__ModelProto *mp;
    Onnx__TensorProto tp;
    ol_tensor x;
    float *want;
    uint8_t *buf;
    size_t len, rows, cols;

    tmp_case(cases[find_case("test_softmax_default_axis")].name, dir);
    ck_assert(!ol_path_join(path, dir, "model.onnx"));
    ck_assert(!ol_read_file(path, OL_MAX_FILE_BYTES, &buf, &len, err));
    mp = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    ck_assert(mp && mp->n_opset_import == 1 && mp->graph->n_node == 1 &&
              mp->graph->node[0]->n_attribute == 0);
    mp->opset_import[0]->version = 11;
    len = onnx__model_proto__get_packed_size(mp);
    buf = malloc(len);
    ck_assert(buf);
    onnx__model_proto__pack(mp, buf);
    onnx__model_proto__free_unpacked(mp, NULL);
    ck_assert(!ol_write_file(path, buf, len, err));
    free(buf);

    ck_assert(!ol_path_join(path, dir, "test_data_set_0/input_0.pb"));
    ck_assert_msg(!ol_tensor_load(path, &x, err), "%s", err);
    ck_assert(x.ndim == 3 && x.dtype == SEQK_F32);
    rows = (size_t)x.dims[0];
    cols = x.count / rows;
    want = malloc(x.count * sizeof *want);
    ck_assert(want);
    for (size_t r = 0; r < rows; r++) {
        const float *in = (const float *)x.data + r * cols;
        double mx = in[0], sum = 0;
        for (size_t j = 1; j < cols; j++)
            mx = in[j] > mx ? in[j] : mx;
        for (size_t j = 0; j < cols; j++)
            sum += exp(in[j] - mx);
        for (size_t j = 0; j < cols; j++)
            want[r * cols + j] = (float)(exp(in[j] - mx) / sum);
    }
    onnx__tensor_proto__init(&tp);
    tp.n_dims = 3;
    tp.dims = x.dims;
    tp.has_data_type = 1;
    tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tp.n_float_data = x.count;
    tp.float_data = want;
    write_tensor_pb(dir, "test_data_set_0/output_0.pb", &tp);
    free(want);
    ol_tensor_free(&x);

    ck_assert_msg(onnx_node_run(ctx, dir, err) == 0, "opset 11: %s", err);
    tmp_case_remove(dir);
    seqk_context_destroy(ctx);
}
END_TEST

int main(void)
{
    static char tc_names[16][16];
    Suite *s = suite_create("onnx_node");
    TCase *tc;

    node_dir = getenv("SEQK_ONNX_NODE_DIR");
    if (!node_dir || !node_dir[0])
        node_dir = DEFAULT_NODE_DIR;
    scan_cases();

    tc = tcase_create("inventory");
    tcase_add_test(tc, test_inventory);
    suite_add_tcase(s, tc);
    tc = tcase_create("loader");
    tcase_add_test(tc, test_crafted_tensors);
    tcase_add_test(tc, test_crafted_models);
    tcase_add_test(tc, test_truncated_and_mutated_files);
    tcase_add_test(tc, test_bad_folders_fail);
    tcase_add_test(tc, test_softmax_old_opset);
    suite_add_tcase(s, tc);
    /* One tcase per device; tu_device() ck_asserts, so not called here
     * outside a test: the messages name the device instead. */
    for (int d = 0; d < tu_device_count() && d < 16; d++) {
        snprintf(tc_names[d], sizeof tc_names[d], "device%d", d);
        tc = tcase_create(tc_names[d]);
        tcase_add_loop_test(tc, test_node, d * n_cases, (d + 1) * n_cases);
        suite_add_tcase(s, tc);
    }
    return tu_run_suite(s);
}
