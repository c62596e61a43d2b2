/*
 * cmd_model.c — `seqk run model.onnx` and `seqk info model.onnx`: the
 * commands over the model API (seqk_model_*).
 *
 *   seqk run model.onnx -i NAME=x.npy ... [-o NAME=y.npy ...]
 *            [--device SPEC] [--threads N]
 *   seqk info model.onnx [--device SPEC] [--dim NAME=N ...]
 *
 * Inputs take the dtype the model declares (float32, int64, int32, bool;
 * 0-d scalars too); outputs are written in their own dtype, all or none
 * (npy_stage / npy_commit).  Without -o every output goes to NAME.npy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "npy.h"
#include "seqk.h"

#define MAX_IO 64

static int fail(int code, const char *what, const char *msg)
{
    fprintf(stderr, "seqk: %s%s%s\n", what, msg && *msg ? ": " : "",
            msg ? msg : "");
    return code;
}

int seqk_is_model_path(const char *arg)
{
    size_t n = arg ? strlen(arg) : 0;
    return n > 5 && !strcmp(arg + n - 5, ".onnx");
}

static npy_dtype to_npy(seqk_dtype t)
{
    switch (t) {
    case SEQK_F32: return NPY_F32;
    case SEQK_I32: return NPY_I32;
    case SEQK_I64: return NPY_I64;
    case SEQK_BOOL: return NPY_BOOL;
    case SEQK_BF16: break; /* weights only: no model input or output */
    }
    return (npy_dtype)0;
}

/* "NAME=value" into name (truncated) and *value */
static int split(const char *arg, char *name, size_t len, const char **value)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || (size_t)(eq - arg) >= len)
        return -1;
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    *value = eq + 1;
    return 0;
}

static seqk_model *open_model(const char *path, const char *device,
                              int threads)
{
    seqk_model_options o;
    seqk_model *m = NULL;
    seqk_model_options_init(&o);
    o.device = device;
    o.threads = threads;
    if (seqk_model_load(path, &o, &m) != SEQK_OK)
        fail(1, path, seqk_last_error(NULL));
    return m;
}

static int opt_value(int argc, char **argv, int *i, const char *opt,
                     const char **val)
{
    size_t n = strlen(opt);
    if (!strcmp(argv[*i], opt) && *i + 1 < argc) {
        *val = argv[++*i];
        return 1;
    }
    if (!strncmp(argv[*i], opt, n) && argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return 1;
    }
    return 0;
}

int seqk_cmd_model_run(int argc, char **argv)
{
    const char *path = argv[1], *device = NULL, *val;
    char in_name[MAX_IO][128], out_name[MAX_IO][128], def_path[MAX_IO][136];
    const char *in_path[MAX_IO], *out_path[MAX_IO], *names[MAX_IO];
    const char *onames[MAX_IO];
    seqk_tensor *in[MAX_IO] = {NULL}, *out[MAX_IO] = {NULL};
    char *staged[MAX_IO] = {NULL};
    int n_in = 0, n_out = 0, threads = 0, rc = 1;
    seqk_model *m = NULL;
    char err[512];

    for (int i = 2; i < argc; i++) {
        if (opt_value(argc, argv, &i, "--device", &device))
            continue;
        if (opt_value(argc, argv, &i, "--threads", &val)) {
            threads = atoi(val);
            continue;
        }
        int is_in = !strcmp(argv[i], "-i") || !strcmp(argv[i], "--input");
        int is_out = !strcmp(argv[i], "-o") || !strcmp(argv[i], "--output");
        if ((is_in || is_out) && i + 1 < argc) {
            i++;
            if (is_in ? n_in >= MAX_IO : n_out >= MAX_IO)
                return fail(2, "too many -i/-o", NULL);
            if (split(argv[i], is_in ? in_name[n_in] : out_name[n_out], 128,
                      is_in ? &in_path[n_in] : &out_path[n_out]))
                return fail(2, argv[i], "expected NAME=file.npy");
            if (is_in) {
                names[n_in] = in_name[n_in];
                n_in++;
            } else {
                onames[n_out] = out_name[n_out];
                n_out++;
            }
            continue;
        }
        return fail(2, argv[i], "unknown argument (seqk run model.onnx "
                    "-i NAME=x.npy ... -o NAME=y.npy [--device S] "
                    "[--threads N])");
    }
    if (!(m = open_model(path, device, threads)))
        return 1;
    seqk_context *ctx = seqk_model_context(m);
    for (int k = 0; k < n_in; k++) {
        npy_array a;
        seqk_model_io io = {.struct_size = sizeof io};
        seqk_dtype want = SEQK_F32;
        for (int j = 0; j < seqk_model_input_count(m); j++)
            if (seqk_model_input_info(m, j, &io) == SEQK_OK &&
                !strcmp(io.name, names[k]) && io.dtype)
                want = io.dtype;
        if (npy_read(in_path[k], &a, err, sizeof err)) {
            rc = fail(1, "input", err);
            goto cleanup;
        }
        if (a.dtype != to_npy(want)) {
            snprintf(err, sizeof err, "%s is %s but the model declares %s",
                     in_path[k], npy_dtype_name(a.dtype),
                     npy_dtype_name(to_npy(want)));
            npy_free(&a);
            rc = fail(1, names[k], err);
            goto cleanup;
        }
        seqk_status s = seqk_tensor_create(ctx, a.ndim, a.dims, want, &in[k]);
        if (!s)
            s = seqk_tensor_write(in[k], a.data, a.bytes);
        npy_free(&a);
        if (s) {
            rc = fail(1, names[k], seqk_last_error(ctx));
            goto cleanup;
        }
    }
    if (!n_out) {
        n_out = seqk_model_output_count(m);
        for (int k = 0; k < n_out && k < MAX_IO; k++) {
            seqk_model_io io = {.struct_size = sizeof io};
            seqk_model_output_info(m, k, &io);
            snprintf(out_name[k], 128, "%s", io.name);
            onames[k] = out_name[k];
            snprintf(def_path[k], sizeof def_path[k], "%.120s.npy", io.name);
            out_path[k] = def_path[k];
        }
    }
    if (seqk_model_run(m, n_in, names, (const seqk_tensor *const *)in, n_out,
                       onames, out)) {
        rc = fail(1, path, seqk_last_error(ctx));
        goto cleanup;
    }
    rc = 0;
    for (int k = 0; !rc && k < n_out; k++) {
        size_t bytes = seqk_tensor_bytes(out[k]);
        void *host = malloc(bytes ? bytes : 1);
        int64_t dims[SEQK_MAX_DIMS];
        int nd = seqk_tensor_ndim(out[k]);
        for (int d = 0; d < nd; d++)
            dims[d] = seqk_tensor_dim(out[k], d);
        if (!host || seqk_tensor_read(out[k], host, bytes))
            rc = fail(1, onames[k], seqk_last_error(ctx));
        else if (npy_stage(out_path[k], to_npy(seqk_tensor_dtype(out[k])), nd,
                           dims, host, &staged[k], err, sizeof err))
            rc = fail(1, onames[k], err);
        free(host);
    }
    for (int k = 0; k < n_out; k++) {
        if (!staged[k])
            continue;
        if (rc)
            npy_discard(staged[k]);
        else if (npy_commit(staged[k], out_path[k], err, sizeof err))
            rc = fail(1, onames[k], err);
    }
cleanup:
    for (int k = 0; k < MAX_IO; k++)
        seqk_tensor_destroy(in[k]);
    seqk_model_destroy(m);
    return rc;
}

int seqk_cmd_model_info(int argc, char **argv)
{
    const char *path = argv[1], *device = NULL, *val;
    char dname[16][64];
    int64_t dval[16];
    int n_dims = 0, threads = 0;

    for (int i = 2; i < argc; i++) {
        if (opt_value(argc, argv, &i, "--device", &device))
            continue;
        if (opt_value(argc, argv, &i, "--threads", &val)) {
            threads = atoi(val);
            continue;
        }
        if (opt_value(argc, argv, &i, "--dim", &val) && n_dims < 16) {
            if (split(val, dname[n_dims], 64, &val))
                return fail(2, val, "expected --dim NAME=N");
            dval[n_dims++] = atoll(val);
            continue;
        }
        return fail(2, argv[i], "unknown argument (seqk info model.onnx "
                    "[--device S] [--dim NAME=N ...])");
    }
    seqk_model *m = open_model(path, device, threads);
    if (!m)
        return 1;
    /* plan with symbolic dims from --dim, else 1 */
    int n = seqk_model_input_count(m), nd[MAX_IO];
    int64_t dims[MAX_IO][SEQK_MAX_DIMS];
    const int64_t *dp[MAX_IO];
    for (int k = 0; k < n && k < MAX_IO; k++) {
        seqk_model_io io = {.struct_size = sizeof io};
        seqk_model_input_info(m, k, &io);
        nd[k] = io.ndim < 0 ? 0 : io.ndim;
        for (int d = 0; d < nd[k]; d++) {
            dims[k][d] = io.dims[d] >= 0 ? io.dims[d] : 1;
            for (int j = 0; j < n_dims; j++)
                if (io.dim_names[d] && !strcmp(io.dim_names[d], dname[j]))
                    dims[k][d] = dval[j];
        }
        dp[k] = dims[k];
    }
    printf("model %s\n", path);
    if (seqk_model_prepare(m, n, NULL, nd, dp))
        printf("plan (symbolic dims = 1): %s\n",
               seqk_last_error(seqk_model_context(m)));
    size_t len = seqk_model_describe(m, NULL, 0);
    char *text = malloc(len + 1);
    if (text) {
        seqk_model_describe(m, text, len + 1);
        fputs(text, stdout);
        free(text);
    }
    seqk_model_destroy(m);
    return 0;
}
