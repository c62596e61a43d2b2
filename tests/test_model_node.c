/*
 * test_model_node.c — the ONNX backend node tests (Debian
 * libonnx-testdata, ONNX 1.12: one folder per case with model.onnx and
 * test_data_set_N/{input,output}_K.pb) of every op the model runner
 * supports, through seqk_model_load_bytes + seqk_model_run on every test
 * device.  Folders are selected by name pattern (groups[] below); a
 * selected folder either passes on every device or is on excluded[]
 * with its reason.  An excluded folder must be refused (an error at
 * load or run, or an I/O type the test does not feed), checked on ref:
 * one that passes or gives a wrong result is an error too, so the list
 * stays honest.  The counts are printed.
 *
 * Inputs the runner needs at plan time (Slice's starts, Pad's pads,
 * Clip's min/max, axes, shapes, K, ...) become initializers with their
 * test_data_set values, as exporters give them (group.runtime says how
 * many leading inputs stay graph inputs fed at run time).  Outputs:
 * float32 within atol 1e-5 + rtol 1e-4; int32, int64 and bool exactly;
 * shapes exactly.
 */
#include <dirent.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx_loader.h"
#include "testutil.h"

#define ALL (-1)

/* pattern (fnmatch) -> how many leading graph inputs stay run-time
 * inputs (ALL: every one); the first matching group counts */
typedef struct group {
    const char *pattern;
    int runtime;
} group;

static const group groups[] = {
    /* element-wise, comparisons, logic, Where, Cast */
    {"test_abs", ALL}, {"test_add*", ALL}, {"test_sub*", ALL},
    {"test_mul*", ALL}, {"test_div*", ALL}, {"test_pow*", ALL},
    {"test_neg*", ALL}, {"test_exp", ALL}, {"test_exp_*", ALL},
    {"test_log", ALL}, {"test_log_*", ALL}, {"test_sqrt*", ALL},
    {"test_tanh*", ALL}, {"test_sigmoid*", ALL}, {"test_relu", ALL},
    {"test_erf", ALL}, {"test_leakyrelu*", ALL}, {"test_hardsigmoid*", ALL},
    {"test_hardswish_expanded", ALL}, {"test_clip*", 1},
    {"test_equal*", ALL}, {"test_less*", ALL}, {"test_greater*", ALL},
    {"test_and*", ALL}, {"test_or*", ALL}, {"test_not_*", ALL},
    {"test_where_*", ALL}, {"test_cast_*", ALL},
    {"test_castlike_*_expanded", ALL},
    /* GEMM, normalizations, reductions */
    {"test_matmul_*", ALL}, {"test_gemm_*", ALL}, {"test_softmax_*", ALL},
    {"test_logsoftmax_*", ALL}, {"test_layer_normalization_*", ALL},
    {"test_mvn_expanded", ALL}, {"test_reduce_sum_*", 1},
    {"test_reduce_mean_*", 1}, {"test_reduce_max_*", 1},
    {"test_argmax_*", ALL}, {"test_top_k*", 1},
    /* layout */
    {"test_transpose_*", ALL}, {"test_concat_*", ALL}, {"test_slice*", 1},
    {"test_split_*", 1}, {"test_expand_*", 1}, {"test_tile*", 1},
    {"test_constant_pad", 1}, {"test_edge_pad", 1}, {"test_reflect_pad", 1},
    {"test_gather_*", ALL}, {"test_reshape_*", 1}, {"test_flatten_*", ALL},
    {"test_squeeze*", 1}, {"test_unsqueeze_*", 1},
    {"test_identity*", ALL}, {"test_dropout_*", 1},
    {"test_training_dropout*", 1},
    /* shape chains, constants, control flow */
    {"test_shape*", ALL}, {"test_size*", ALL}, {"test_constantofshape_*", 0},
    {"test_range_*", 0}, {"test_constant", ALL}, {"test_if*", ALL},
    /* recurrent, convolution */
    {"test_lstm_*", ALL}, {"test_gru_*", ALL}, {"test_rnn_*", ALL},
    {"test_simple_rnn_*", ALL}, {"test_conv_*", ALL},
    {"test_basic_conv_*", ALL},
};
#define N_GROUPS (sizeof groups / sizeof *groups)

typedef struct exclusion {
    const char *pattern, *reason;
} exclusion;

static const exclusion excluded[] = {
    {"test_*_uint8", "uint8 graph I/O (the runner's are f32/i32/i64/bool)"},
    {"test_clip_default_int8_*", "int8 graph I/O"},
    {"test_pow_types_*uint*", "uint32/uint64 graph I/O"},
    {"test_pow_types_*", "Pow of integers or by an integer exponent "
                         "(float32 only)"},
    {"test_cast*BFLOAT16*", "bfloat16"},
    {"test_cast*STRING*", "strings"},
    {"test_cast*DOUBLE*", "double graph I/O"},
    {"test_cast*FLOAT16*", "float16 graph I/O"},
    {"test_*dropout*_mask*", "Dropout's mask output (refused)"},
    {"test_training_dropout", "training-mode Dropout is random (refused)"},
    {"test_training_dropout_default", "training-mode Dropout is random "
                                      "(refused)"},
    {"test_identity_opt", "optional-typed value"},
    {"test_identity_sequence", "sequence-typed value"},
    {"test_if_opt", "optional-typed value"},
    {"test_if_seq", "sequence-typed value"},
    {"test_gather_elements_*", "GatherElements: no seqk op"},
    {"test_reduce_sum_square_*", "ReduceSumSquare: no seqk op"},
    {"test_range_*_expanded", "Loop: refused by the runner"},
    {"test_layer_normalization_*_expanded", "Reciprocal: no seqk op"},
    {"test_conv_*", "2-D Conv (seqk_conv1d: one spatial dimension)"},
    {"test_basic_conv_*", "2-D Conv (seqk_conv1d: one spatial dimension)"},
};
#define N_EXCLUDED (sizeof excluded / sizeof *excluded)

static const char *node_root(void)
{
    const char *d = getenv("SEQK_ONNX_NODE_DIR");
    return d ? d : "/usr/share/libonnx-testdata/data/node";
}

static const group *group_of(const char *name)
{
    for (size_t g = 0; g < N_GROUPS; g++)
        if (!fnmatch(groups[g].pattern, name, 0))
            return &groups[g];
    return NULL;
}

static const exclusion *exclusion_of(const char *name)
{
    for (size_t e = 0; e < N_EXCLUDED; e++)
        if (!fnmatch(excluded[e].pattern, name, 0))
            return &excluded[e];
    return NULL;
}

/* The selected folders, sorted; read once. */
static struct dirent **entries;
static int n_entries = -1;

/* SEQK_NODE_ONLY=pattern,pattern narrows the selection (the subset
 * scripts/oclgrind.sh runs under the simulator) */
static int narrowed(const char *name)
{
    const char *p = getenv("SEQK_NODE_ONLY");
    char pat[128];
    if (!p)
        return 1;
    while (*p) {
        size_t n = strcspn(p, ",");
        snprintf(pat, sizeof pat, "%.*s", (int)n, p);
        if (!fnmatch(pat, name, 0))
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

static int selected(const struct dirent *e)
{
    return group_of(e->d_name) != NULL && narrowed(e->d_name);
}

static int list_folders(void)
{
    if (n_entries < 0)
        n_entries = scandir(node_root(), &entries, selected, alphasort);
    return n_entries;
}

static int why_fmt(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int why_fmt(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Not-1 and HardSigmoid-6 are still those ops' latest versions; the
 * runner reads opset 7 and up, so such a model is the same at 7. */
static void raise_unchanged_opset(Onnx__ModelProto *mp)
{
    for (size_t i = 0; i < mp->graph->n_node; i++) {
        const char *op = mp->graph->node[i]->op_type;
        if (strcmp(op, "Not") && strcmp(op, "HardSigmoid"))
            return;
    }
    for (size_t i = 0; i < mp->n_opset_import; i++)
        if (mp->opset_import[i]->version < 7)
            mp->opset_import[i]->version = 7;
}

/* The folder's model with graph inputs runtime.. made initializers
 * (their values from set_dir), serialized into *bytes. */
static int model_bytes(const char *dir, const char *set_dir, int runtime,
                       uint8_t **bytes, size_t *len, Onnx__ModelProto **out,
                       char *why, size_t why_len)
{
    char path[OL_PATH_LEN + 64], err[OL_MSG_LEN];
    uint8_t *buf = NULL;
    size_t n = 0;
    Onnx__ModelProto *mp = NULL;
    int ret = -1;

    snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (ol_read_file(path, OL_MAX_FILE_BYTES, &buf, &n, err)) {
        why_fmt(why, why_len, "%s", err);
        goto cleanup;
    }
    mp = onnx__model_proto__unpack(NULL, n, buf);
    if (!mp || !mp->graph) {
        why_fmt(why, why_len, "%s: not a ModelProto", path);
        goto cleanup;
    }
    Onnx__GraphProto *g = mp->graph;
    if (runtime != ALL && (size_t)runtime < g->n_input) {
        size_t n_init = g->n_initializer;
        Onnx__TensorProto **grown = realloc(
            g->initializer, (n_init + g->n_input) * sizeof *grown);
        if (!grown) {
            why_fmt(why, why_len, "out of memory");
            goto cleanup;
        }
        g->initializer = grown;
        for (size_t k = (size_t)runtime; k < g->n_input; k++) {
            uint8_t *tb = NULL;
            size_t tl = 0;
            snprintf(path, sizeof path, "%s/input_%zu.pb", set_dir, k);
            if (ol_read_file(path, OL_MAX_FILE_BYTES, &tb, &tl, err)) {
                why_fmt(why, why_len, "%s", err);
                goto cleanup;
            }
            Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, tl, tb);
            free(tb);
            if (!tp) {
                why_fmt(why, why_len, "%s: not a TensorProto", path);
                goto cleanup;
            }
            free(tp->name);
            tp->name = strdup(g->input[k]->name);
            g->initializer[n_init++] = tp;
            g->n_initializer = n_init;
            onnx__value_info_proto__free_unpacked(g->input[k], NULL);
            g->input[k] = NULL;
        }
        g->n_input = (size_t)runtime;
    }
    raise_unchanged_opset(mp);
    *len = onnx__model_proto__get_packed_size(mp);
    *bytes = malloc(*len + 1);
    if (!*bytes) {
        why_fmt(why, why_len, "out of memory");
        goto cleanup;
    }
    onnx__model_proto__pack(mp, *bytes);
    *out = mp;
    mp = NULL;
    ret = 0;
cleanup:
    free(buf);
    if (mp)
        onnx__model_proto__free_unpacked(mp, NULL);
    return ret;
}

/* outputs and elements compared (this process) */
static long n_outputs, n_elems;

/* got (a seqk output) against want; 0 when equal within tolerance */
static int compare(const seqk_tensor *got, const ol_tensor *want,
                   char *why, size_t why_len)
{
    char a[160], b[160];
    int64_t dims[SEQK_MAX_DIMS];
    int nd = seqk_tensor_ndim(got), ret = -1;
    void *host = NULL;

    for (int d = 0; d < nd && d < SEQK_MAX_DIMS; d++)
        dims[d] = seqk_tensor_dim(got, d);
    if (nd != want->ndim ||
        memcmp(dims, want->dims, (size_t)nd * sizeof *dims))
        return why_fmt(why, why_len, "shape %s, want %s",
                    ol_dims_str(nd, dims, a, sizeof a),
                    ol_dims_str(want->ndim, want->dims, b, sizeof b));
    if (seqk_tensor_dtype(got) != want->dtype)
        return why_fmt(why, why_len, "dtype %d, want %d (onnx type %d)",
                    (int)seqk_tensor_dtype(got), (int)want->dtype,
                    want->onnx_type);
    size_t es = seqk_dtype_size(want->dtype), bytes = want->count * es;
    host = malloc(bytes + 1);
    if (!host)
        return why_fmt(why, why_len, "out of memory");
    if (seqk_tensor_read(got, host, bytes) != SEQK_OK) {
        why_fmt(why, why_len, "read: %s", seqk_last_error(NULL));
        goto cleanup;
    }
    if (want->dtype == SEQK_F32) {
        char msg[256];
        if (!tu_close(host, want->data, want->count, 1e-5f, 1e-4f, msg,
                      sizeof msg)) {
            why_fmt(why, why_len, "%s", msg);
            goto cleanup;
        }
    } else {
        for (size_t i = 0; i < want->count; i++)
            if (memcmp((char *)host + i * es, (char *)want->data + i * es,
                       es)) {
                long long g = 0, w = 0;
                if (want->dtype == SEQK_I64) {
                    g = ((int64_t *)host)[i];
                    w = ((int64_t *)want->data)[i];
                } else if (want->dtype == SEQK_I32) {
                    g = ((int32_t *)host)[i];
                    w = ((int32_t *)want->data)[i];
                } else {
                    g = ((uint8_t *)host)[i];
                    w = ((uint8_t *)want->data)[i];
                }
                why_fmt(why, why_len, "index %zu: got %lld want %lld", i, g, w);
                goto cleanup;
            }
    }
    n_outputs++;
    n_elems += (long)want->count;
    ret = 0;
cleanup:
    free(host);
    return ret;
}

/* One folder on one device, every test_data_set_N: 0 passed, -1 refused
 * (load, run or an input type; why says which), -2 a wrong output, 1
 * nothing to run (no model.onnx). */
static int run_folder(const char *device, const char *name, int runtime,
                      char *why, size_t why_len)
{
    char dir[OL_PATH_LEN], set_dir[OL_PATH_LEN + 32],
        path[OL_PATH_LEN + 64], err[OL_MSG_LEN];
    int ret = 0;

    snprintf(dir, sizeof dir, "%s/%s", node_root(), name);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (access(path, R_OK))
        return 1;
    for (int set = 0; ret == 0; set++) {
        Onnx__ModelProto *mp = NULL;
        seqk_model *m = NULL;
        seqk_tensor *in[OL_MAX_IO] = {NULL}, *out[OL_MAX_IO] = {NULL};
        const char *in_names[OL_MAX_IO];
        uint8_t *bytes = NULL;
        size_t len = 0, n_in = 0;
        seqk_model_options o;

        snprintf(set_dir, sizeof set_dir, "%s/test_data_set_%d", dir, set);
        if (access(set_dir, R_OK)) {
            if (set == 0)
                ret = why_fmt(why, why_len, "no test_data_set_0");
            break;
        }
        if (model_bytes(dir, set_dir, runtime, &bytes, &len, &mp, why,
                        why_len)) {
            ret = -1;
            break;
        }
        seqk_model_options_init(&o);
        o.device = device;
        if (seqk_model_load_bytes(bytes, len, &o, &m) != SEQK_OK) {
            ret = why_fmt(why, why_len, "load: %s", seqk_last_error(NULL));
            goto next;
        }
        seqk_context *ctx = seqk_model_context(m);
        n_in = mp->graph->n_input;
        if (n_in > OL_MAX_IO) {
            ret = why_fmt(why, why_len, "%zu inputs", n_in);
            goto next;
        }
        for (size_t k = 0; k < n_in; k++) {
            ol_tensor t;
            in_names[k] = mp->graph->input[k]->name;
            snprintf(path, sizeof path, "%s/input_%zu.pb", set_dir, k);
            if (ol_tensor_load_typed(path, &t, err)) {
                ret = why_fmt(why, why_len, "%s", err);
                goto next;
            }
            seqk_status st = seqk_tensor_create(ctx, t.ndim, t.dims, t.dtype,
                                                &in[k]);
            if (st == SEQK_OK)
                st = seqk_tensor_write(in[k], t.data,
                                       t.count * seqk_dtype_size(t.dtype));
            ol_tensor_free(&t);
            if (st != SEQK_OK) {
                ret = why_fmt(why, why_len, "input %zu: %s", k,
                           seqk_last_error(ctx));
                goto next;
            }
        }
        int n_out = seqk_model_output_count(m);
        if (n_out < 1 || n_out > OL_MAX_IO ||
            (size_t)n_out != mp->graph->n_output) {
            ret = why_fmt(why, why_len, "%d outputs", n_out);
            goto next;
        }
        if (seqk_model_run(m, (int)n_in, in_names,
                           (const seqk_tensor *const *)in, n_out, NULL,
                           out) != SEQK_OK) {
            ret = why_fmt(why, why_len, "run: %s", seqk_last_error(ctx));
            goto next;
        }
        for (int k = 0; k < n_out && ret == 0; k++) {
            ol_tensor want;
            char msg[OL_MSG_LEN];
            snprintf(path, sizeof path, "%s/output_%d.pb", set_dir, k);
            if (ol_tensor_load_typed(path, &want, err)) {
                ret = why_fmt(why, why_len, "%s", err);
                break;
            }
            if (compare(out[k], &want, msg, sizeof msg)) {
                why_fmt(why, why_len, "set %d output %d '%s': %s", set, k,
                        mp->graph->output[k]->name, msg);
                ret = -2;
            }
            ol_tensor_free(&want);
        }
    next:
        for (size_t k = 0; k < OL_MAX_IO; k++)
            seqk_tensor_destroy(in[k]);
        seqk_model_destroy(m);
        free(bytes);
        if (mp)
            onnx__model_proto__free_unpacked(mp, NULL);
    }
    return ret;
}

/* Every selected folder on device _i; the excluded ones on ref only,
 * where each must still fail. */
START_TEST(node_folders)
{
    const char *dev = tu_device(_i);
    int n = list_folders(), ran = 0, skipped = 0, failed = 0, stale = 0;
    n_outputs = n_elems = 0;
    if (n < 0) {
        printf("model_node: no %s (libonnx-testdata): skipped\n",
               node_root());
        return;
    }
    for (int f = 0; f < n; f++) {
        const char *name = entries[f]->d_name;
        const exclusion *ex = exclusion_of(name);
        char why[1024];
        if (ex && _i != 0) {
            skipped++;
            continue;
        }
        int rc = run_folder(dev, name, group_of(name)->runtime, why,
                            sizeof why);
        if (ex) {
            skipped++;
            if (rc == 0) {
                printf("model_node: %s passes on %s but is excluded (%s): "
                       "take it off the list\n", name, dev, ex->reason);
                stale++;
            } else if (rc == -2) {
                /* excluded means refused, never silently wrong */
                printf("model_node: FAIL %s (excluded: %s) gives a wrong "
                       "result on %s instead of an error: %s\n", name,
                       ex->reason, dev, why);
                failed++;
            }
        } else if (rc < 0) {
            printf("model_node: FAIL %s on %s: %s\n", name, dev, why);
            failed++;
        } else if (rc == 0) {
            ran++;
        }
    }
    printf("model_node: %d of %d selected folders passed on %s (%ld "
           "outputs, %ld values), %d failed, %d excluded\n", ran, n, dev,
           n_outputs, n_elems, failed, skipped);
    fflush(stdout);
    ck_assert_msg(failed == 0, "%d node tests failed on %s (see the log)",
                  failed, dev);
    ck_assert_msg(stale == 0, "%d excluded node tests pass", stale);
}
END_TEST

/* Every exclusion pattern names at least one folder (no dead entries). */
START_TEST(exclusions_match)
{
    int n = list_folders();
    if (n < 0 || getenv("SEQK_NODE_ONLY"))
        return;
    for (size_t e = 0; e < N_EXCLUDED; e++) {
        int hits = 0;
        for (int f = 0; f < n; f++)
            hits += !fnmatch(excluded[e].pattern, entries[f]->d_name, 0);
        ck_assert_msg(hits > 0, "exclusion '%s' matches no selected folder",
                      excluded[e].pattern);
        printf("model_node: excluded %-36s %2d folder(s): %s\n",
               excluded[e].pattern, hits, excluded[e].reason);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model_node");
    TCase *tc = tcase_create("model_node");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, exclusions_match);
    tcase_add_loop_test(tc, node_folders, 0, tu_device_count());
    suite_add_tcase(s, tc);
    int rc = tu_run_suite(s);
    if (n_entries > 0) {
        for (int f = 0; f < n_entries; f++)
            free(entries[f]);
        free(entries);
    }
    return rc;
}
