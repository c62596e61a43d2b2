/*
 * bench_model.c — `seqk bench model.onnx`: a whole ONNX model timed on
 * each device, its outputs checked against the reference device.
 *
 *   seqk bench model.onnx [-i NAME=x.npy ...] [--shape NAME=1x16000 ...]
 *              [--dim NAME=N ...] [--device SPEC ...] [--threads N]
 *              [--format table|json|csv] [--repeat N] [--min-time MS]
 *              [--no-validate]
 *
 * Inputs: a given .npy is used as it is (it must have the dtype the model
 * declares).  Otherwise the shape is --shape's, or the declared one with
 * each symbolic dim from --dim (else 1), and the values are random
 * (seeded, the same on every device): float32 uniform in [-1, 1); integer
 * inputs that index a Gather (token ids) uniform over the table; an RNN's
 * sequence lengths the full length; other integers 0; bool false (no
 * padding).  seqk_model_input_range says which is which.
 *
 * Per device: seqk_model_load on the device's context (load_ms), the
 * first run with its plan, a synchronize and the read of every output
 * (first_run_ms: load + first run is the load-to-first-result time), then
 * timed runs (run + synchronize) until --repeat runs and --min-time ms;
 * median and min.  The ref device's run of the same inputs is the oracle:
 * float outputs within atol + rtol*|ref| (1e-3 each: errors compound
 * through a whole model), integer and bool outputs equal.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cjson/cJSON.h>

#include "bench_model.h"
#include "npy.h"

#define MAX_IO 64
#define RUN_CAP 100000 /* model runs take microseconds: --min-time decides */
#define ATOL 1e-3
#define RTOL 1e-3

typedef struct host_tensor {
    char name[128];
    seqk_dtype dtype;
    int ndim;
    int64_t dims[SEQK_MAX_DIMS];
    size_t bytes;
    void *data;
} host_tensor;

typedef struct model_result {
    const device_ctx *dev;
    int ok, validated, valid, compared;
    long runs;
    double ms_median, ms_min, load_ms, first_ms, max_err, rss_mb;
    char error[768];
} model_result;

static npy_dtype to_npy(seqk_dtype t)
{
    return t == SEQK_I32 ? NPY_I32 : t == SEQK_I64 ? NPY_I64
         : t == SEQK_BOOL ? NPY_BOOL : NPY_F32;
}

static const char *dtype_name(seqk_dtype t)
{
    return npy_dtype_name(to_npy(t));
}

/* The value of "NAME=value" options whose NAME is name, or NULL. */
static const char *named(const char **list, int n, const char *name)
{
    size_t len = strlen(name);
    for (int i = 0; i < n; i++)
        if (!strncmp(list[i], name, len) && list[i][len] == '=')
            return list[i] + len + 1;
    return NULL;
}

/* Every NAME of list must be one of the model's inputs (or, for --dim, a
 * dim name of one): else a usage error. */
static int check_names(seqk_model *m, const char **list, int n,
                       const char *opt, int dims)
{
    for (int i = 0; i < n; i++) {
        size_t len = (size_t)(strchr(list[i], '=') - list[i]);
        int found = 0;
        for (int k = 0; k < seqk_model_input_count(m) && !found; k++) {
            seqk_model_io io = {.struct_size = sizeof io};
            seqk_model_input_info(m, k, &io);
            if (!dims) {
                found = strlen(io.name) == len &&
                        !strncmp(io.name, list[i], len);
                continue;
            }
            for (int d = 0; d < io.ndim && !found; d++)
                found = io.dim_names[d] && strlen(io.dim_names[d]) == len &&
                        !strncmp(io.dim_names[d], list[i], len);
        }
        if (!found) {
            fprintf(stderr, "seqk bench: %s %s: the model has no %s of that "
                    "name\n", opt, list[i], dims ? "symbolic dim" : "input");
            return 2;
        }
    }
    return 0;
}

/* "AxBxC" (or "" for a scalar) into dims; -1 on a bad text. */
static int parse_shape(const char *s, int *ndim, int64_t *dims)
{
    *ndim = 0;
    if (!*s)
        return 0;
    for (;;) {
        char *end = NULL;
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 0 || *ndim == SEQK_MAX_DIMS)
            return -1;
        dims[(*ndim)++] = v;
        if (!*end)
            return 0;
        if (*end != 'x' && *end != ',')
            return -1;
        s = end + 1;
    }
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Shapes and dtypes of every input (from files, --shape, --dim), then
 * the random values, with ranges from a plan of the probe model.
 * Returns 0, 1 (runtime) or 2 (usage). */
static int make_inputs(const bench_opts *o, seqk_model *m, host_tensor *in,
                       int n)
{
    char err[512];
    int rc;
    if ((rc = check_names(m, o->inputs, o->n_inputs, "-i", 0)) ||
        (rc = check_names(m, o->shapes, o->n_shapes, "--shape", 0)) ||
        (rc = check_names(m, o->dims, o->n_dims, "--dim", 1)))
        return rc;
    for (int k = 0; k < n; k++) {
        seqk_model_io io = {.struct_size = sizeof io};
        const char *file, *shape;
        seqk_model_input_info(m, k, &io);
        snprintf(in[k].name, sizeof in[k].name, "%s", io.name);
        in[k].dtype = io.dtype ? io.dtype : SEQK_F32;
        if ((file = named(o->inputs, o->n_inputs, io.name))) {
            npy_array a;
            if (npy_read(file, &a, err, sizeof err)) {
                fprintf(stderr, "seqk bench: input %s: %s\n", io.name, err);
                return 1;
            }
            if (a.dtype != to_npy(in[k].dtype)) {
                fprintf(stderr, "seqk bench: input %s: %s is %s but the "
                        "model declares %s\n", io.name, file,
                        npy_dtype_name(a.dtype), dtype_name(in[k].dtype));
                npy_free(&a);
                return 1;
            }
            in[k].ndim = a.ndim;
            memcpy(in[k].dims, a.dims, sizeof(int64_t) * (size_t)a.ndim);
            in[k].bytes = a.bytes;
            in[k].data = a.data; /* taken over: npy_array holds no more */
            continue;
        }
        if ((shape = named(o->shapes, o->n_shapes, io.name))) {
            if (parse_shape(shape, &in[k].ndim, in[k].dims)) {
                fprintf(stderr, "seqk bench: --shape %s=%s: expected dims "
                        "such as 1x16000\n", io.name, shape);
                return 2;
            }
        } else if (io.ndim < 0) {
            fprintf(stderr, "seqk bench: input %s has no declared rank: "
                    "give --shape %s=AxB... or -i %s=file.npy\n", io.name,
                    io.name, io.name);
            return 2;
        } else {
            in[k].ndim = io.ndim;
            for (int d = 0; d < io.ndim; d++) {
                const char *v = io.dim_names[d]
                    ? named(o->dims, o->n_dims, io.dim_names[d]) : NULL;
                in[k].dims[d] = io.dims[d] >= 0 ? io.dims[d]
                              : v ? atoll(v) : 1;
            }
        }
        size_t numel = 1;
        for (int d = 0; d < in[k].ndim; d++) {
            if (in[k].dims[d] < 0 ||
                (in[k].dims[d] && numel > SIZE_MAX / 8 / (size_t)in[k].dims[d])) {
                fprintf(stderr, "seqk bench: input %s: shape too large\n",
                        io.name);
                return 2;
            }
            numel *= (size_t)in[k].dims[d];
        }
        in[k].bytes = numel * seqk_dtype_size(in[k].dtype);
        if (!(in[k].data = calloc(1, in[k].bytes ? in[k].bytes : 1))) {
            fprintf(stderr, "seqk bench: input %s: cannot allocate %zu "
                    "bytes\n", io.name, in[k].bytes);
            return 1;
        }
    }

    /* value ranges need a plan of these shapes */
    const char *names[MAX_IO];
    int nd[MAX_IO];
    const int64_t *dp[MAX_IO];
    for (int k = 0; k < n; k++) {
        names[k] = in[k].name;
        nd[k] = in[k].ndim;
        dp[k] = in[k].dims;
    }
    if (seqk_model_prepare(m, n, names, nd, dp) != SEQK_OK) {
        fprintf(stderr, "seqk bench: %s: %s\n", o->model,
                seqk_last_error(seqk_model_context(m)));
        return 1;
    }
    for (int k = 0; k < n; k++) {
        uint64_t seed = 0x9E3779B97F4A7C15ull ^ (uint64_t)(k + 1) * 7919u;
        size_t numel = in[k].bytes / seqk_dtype_size(in[k].dtype);
        seqk_model_input_kind kind = SEQK_MODEL_INPUT_OTHER;
        int64_t lo = 0, hi = 0;
        if (named(o->inputs, o->n_inputs, in[k].name))
            continue;
        if (in[k].dtype == SEQK_I32 || in[k].dtype == SEQK_I64)
            seqk_model_input_range(m, k, &kind, &lo, &hi);
        for (size_t i = 0; i < numel; i++) {
            uint64_t r = next_random(&seed);
            int64_t v = kind == SEQK_MODEL_INPUT_INDICES
                ? lo + (int64_t)(r % (uint64_t)(hi - lo + 1))
                : kind == SEQK_MODEL_INPUT_LENGTHS ? hi : 0;
            if (in[k].dtype == SEQK_F32)
                ((float *)in[k].data)[i] =
                    (float)((double)(r >> 11) * 0x1.0p-52 - 1.0);
            else if (in[k].dtype == SEQK_I64)
                ((int64_t *)in[k].data)[i] = v;
            else if (in[k].dtype == SEQK_I32)
                ((int32_t *)in[k].data)[i] = (int32_t)v;
        }
    }
    return 0;
}

/* Loads the model on ctx and makes its input tensors. */
static seqk_model *load(const bench_opts *o, seqk_context *ctx,
                        const host_tensor *in, int n, seqk_tensor **t,
                        char *err, size_t elen)
{
    seqk_model_options mo;
    seqk_model *m = NULL;
    seqk_model_options_init(&mo);
    mo.context = ctx;
    if (seqk_model_load(o->model, &mo, &m) != SEQK_OK) {
        snprintf(err, elen, "%s", seqk_last_error(NULL));
        return NULL;
    }
    for (int k = 0; k < n; k++)
        if (seqk_tensor_create(ctx, in[k].ndim, in[k].dims, in[k].dtype,
                               &t[k]) ||
            seqk_tensor_write(t[k], in[k].data, in[k].bytes)) {
            snprintf(err, elen, "input %s: %s", in[k].name,
                     seqk_last_error(ctx));
            seqk_model_destroy(m);
            return NULL;
        }
    return m;
}

static void free_outputs(host_tensor *out, int n)
{
    for (int k = 0; k < n; k++) {
        free(out[k].data);
        out[k].data = NULL;
    }
}

/* One run, then every output read to the host. */
static int run_and_read(seqk_model *m, const host_tensor *in, int n_in,
                        seqk_tensor **t, host_tensor *out, int n_out,
                        char *err, size_t elen)
{
    seqk_context *ctx = seqk_model_context(m);
    const char *names[MAX_IO];
    seqk_tensor *res[MAX_IO];
    for (int k = 0; k < n_in; k++)
        names[k] = in[k].name;
    if (seqk_model_run(m, n_in, names, (const seqk_tensor *const *)t, n_out,
                       NULL, res) != SEQK_OK) {
        snprintf(err, elen, "%s", seqk_last_error(ctx));
        return -1;
    }
    for (int k = 0; k < n_out; k++) {
        seqk_model_io io = {.struct_size = sizeof io};
        seqk_model_output_info(m, k, &io);
        snprintf(out[k].name, sizeof out[k].name, "%s", io.name);
        out[k].dtype = seqk_tensor_dtype(res[k]);
        out[k].ndim = seqk_tensor_ndim(res[k]);
        for (int d = 0; d < out[k].ndim; d++)
            out[k].dims[d] = seqk_tensor_dim(res[k], d);
        out[k].bytes = seqk_tensor_bytes(res[k]);
        free(out[k].data);
        if (!(out[k].data = malloc(out[k].bytes ? out[k].bytes : 1)) ||
            seqk_tensor_read(res[k], out[k].data, out[k].bytes) != SEQK_OK) {
            snprintf(err, elen, "output %s: %s", out[k].name,
                     out[k].data ? seqk_last_error(ctx) : "out of memory");
            return -1;
        }
    }
    return 0;
}

/* Compares got with the reference; fills r->max_err, r->valid, error. */
static void compare(const host_tensor *got, const host_tensor *want, int n,
                    model_result *r)
{
    r->compared = 1;
    r->valid = 1;
    r->max_err = 0.0;
    for (int k = 0; k < n && r->valid; k++) {
        const host_tensor *g = &got[k], *w = &want[k];
        if (g->dtype != w->dtype || g->bytes != w->bytes) {
            snprintf(r->error, sizeof r->error, "output %.127s: %s of %zu bytes, "
                     "ref %s of %zu", g->name, dtype_name(g->dtype),
                     g->bytes, dtype_name(w->dtype), w->bytes);
            r->valid = 0;
        } else if (g->dtype != SEQK_F32) {
            if (memcmp(g->data, w->data, g->bytes)) {
                snprintf(r->error, sizeof r->error, "output %.127s (%s) differs "
                         "from ref", g->name, dtype_name(g->dtype));
                r->valid = 0;
            }
        } else {
            const float *a = g->data, *b = w->data;
            for (size_t i = 0; i < g->bytes / 4; i++) {
                double e = fabs((double)a[i] - (double)b[i]);
                if (isnan(a[i]) != isnan(b[i]) ||
                    (!isnan(a[i]) && !(e <= ATOL + RTOL * fabs(b[i])))) {
                    snprintf(r->error, sizeof r->error, "output %.127s differs "
                             "from ref at %zu: %g, ref %g (atol %g + rtol "
                             "%g*|ref|)", g->name, i, a[i], b[i], ATOL, RTOL);
                    r->valid = 0;
                    r->max_err = isnan(e) ? NAN : e;
                    break;
                }
                if (e > r->max_err)
                    r->max_err = e;
            }
        }
    }
}

static void measure(const bench_opts *o, const device_ctx *dev,
                    const host_tensor *in, int n_in, host_tensor *out,
                    int n_out, model_result *r)
{
    seqk_tensor *t[MAX_IO] = {NULL};
    const char *names[MAX_IO];
    seqk_tensor *res[MAX_IO];
    long cap = o->repeat > RUN_CAP ? o->repeat : RUN_CAP;
    double *times = malloc((size_t)cap * sizeof *times), total = 0.0;
    double t0 = bench_now_ms();
    seqk_model *m = load(o, dev->ctx, in, n_in, t, r->error, sizeof r->error);
    double t1 = bench_now_ms();
    if (!m || !times) {
        if (!times)
            snprintf(r->error, sizeof r->error, "out of host memory");
        goto cleanup;
    }
    if (run_and_read(m, in, n_in, t, out, n_out, r->error, sizeof r->error))
        goto cleanup;
    double t2 = bench_now_ms();
    r->load_ms = t1 - t0;
    r->first_ms = t2 - t1;
    for (int k = 0; k < n_in; k++)
        names[k] = in[k].name;
    while (r->runs < cap && (r->runs < o->repeat || total < o->min_time_ms)) {
        double a = bench_now_ms();
        seqk_status st = seqk_model_run(m, n_in, names,
                                        (const seqk_tensor *const *)t, n_out,
                                        NULL, res);
        if (st == SEQK_OK)
            st = seqk_context_synchronize(dev->ctx);
        double b = bench_now_ms();
        if (st != SEQK_OK) {
            snprintf(r->error, sizeof r->error, "%s",
                     seqk_last_error(dev->ctx));
            goto cleanup;
        }
        times[r->runs++] = b - a;
        total += b - a;
    }
    /* the outputs of the last timed run are the ones validated */
    if (run_and_read(m, in, n_in, t, out, n_out, r->error, sizeof r->error))
        goto cleanup;
    bench_sort_stats(times, r->runs, &r->ms_median, &r->ms_min);
    r->ok = 1;
cleanup:;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        r->rss_mb = (double)ru.ru_maxrss / 1024.0;
    for (int k = 0; k < n_in; k++)
        seqk_tensor_destroy(t[k]);
    seqk_model_destroy(m);
    free(times);
}

/* "ids=1x32:int64,mask=1x32:bool" */
static void shapes_text(const host_tensor *in, int n, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int k = 0; k < n && at < len; k++) {
        at += (size_t)snprintf(buf + at, len - at, "%s%s=", k ? "," : "",
                               in[k].name);
        for (int d = 0; d < in[k].ndim && at < len; d++)
            at += (size_t)snprintf(buf + at, len - at, "%s%lld", d ? "x" : "",
                                   (long long)in[k].dims[d]);
        if (at < len)
            at += (size_t)snprintf(buf + at, len - at, ":%s",
                                   dtype_name(in[k].dtype));
    }
}

static void print_json(const char *problem, const char *inputs,
                       const model_result *r)
{
    cJSON *j = cJSON_CreateObject();
    const cli_provenance *pv = &r->dev->prov;
    if (!j)
        return;
    cJSON_AddStringToObject(j, "problem", problem);
    cJSON_AddStringToObject(j, "op", "model");
    cJSON_AddStringToObject(j, "inputs", inputs);
    cJSON_AddStringToObject(j, "device", r->dev->spec);
    cJSON_AddStringToObject(j, "backend", seqk_context_device(r->dev->ctx));
    cJSON_AddNumberToObject(j, "threads", seqk_context_threads(r->dev->ctx));
    if (r->ok) {
        cJSON_AddNumberToObject(j, "runs", (double)r->runs);
        cJSON_AddNumberToObject(j, "ms_median", r->ms_median);
        cJSON_AddNumberToObject(j, "ms_min", r->ms_min);
        cJSON_AddNumberToObject(j, "context_ms", r->dev->open_ms);
        cJSON_AddNumberToObject(j, "load_ms", r->load_ms);
        cJSON_AddNumberToObject(j, "first_run_ms", r->first_ms);
    } else {
        cJSON_AddNullToObject(j, "ms_median");
    }
    cJSON_AddNumberToObject(j, "peak_rss_mb", r->rss_mb);
    cJSON_AddBoolToObject(j, "valid", r->ok && (!r->validated || r->valid));
    cJSON_AddBoolToObject(j, "validated", r->validated);
    if (r->compared) {
        cJSON_AddNumberToObject(j, "max_abs_err", r->max_err);
        cJSON_AddNumberToObject(j, "atol", ATOL);
        cJSON_AddNumberToObject(j, "rtol", RTOL);
    }
    if (r->error[0])
        cJSON_AddStringToObject(j, "error", r->error);
    cJSON_AddStringToObject(j, "cpu", pv->cpu);
    cJSON_AddStringToObject(j, "os", pv->os);
    cJSON_AddStringToObject(j, "device_name", pv->device_name);
    cJSON_AddStringToObject(j, "device_vendor", pv->device_vendor);
    cJSON_AddStringToObject(j, "device_driver", pv->device_driver);
    cJSON_AddStringToObject(j, "seqk_version", pv->seqk_version);
    cJSON_AddStringToObject(j, "seqk_git", pv->seqk_git);
    cJSON_AddStringToObject(j, "date", pv->date);
    cJSON_AddStringToObject(j, "tuning_db", pv->tuning_db);
    char *s = cJSON_PrintUnformatted(j);
    if (s)
        printf("%s\n", s);
    cJSON_free(s);
    cJSON_Delete(j);
}

static const char *valid_word(const model_result *r)
{
    if (!r->ok || (r->validated && !r->valid))
        return "false";
    return r->validated ? "true" : "skip";
}

static void print_result(out_format f, const char *problem,
                         const char *inputs, const model_result *r, int w)
{
    int threads = seqk_context_threads(r->dev->ctx);
    if (f == FMT_JSON) {
        print_json(problem, inputs, r);
    } else if (f == FMT_TABLE) {
        if (r->ok)
            printf("%-*s  %-12s  %7d  %11.4f  %11.4f  %9.2f  %9.2f  %s\n", w,
                   problem, r->dev->spec, threads, r->ms_median, r->ms_min,
                   r->load_ms, r->first_ms, valid_word(r));
        else
            printf("%-*s  %-12s  %7d  %11s  %11s  %9s  %9s  %s\n", w, problem,
                   r->dev->spec, threads, "-", "-", "-", "-", valid_word(r));
    } else {
        bench_csv_field(problem);
        putchar(',');
        bench_csv_field(r->dev->spec);
        printf(",%d,", threads);
        if (r->ok)
            printf("%.6g,%.6g,%.6g,%.6g,%ld", r->ms_median, r->ms_min,
                   r->load_ms, r->first_ms, r->runs);
        else
            printf(",,,,");
        printf(",%.1f,%s,", r->rss_mb, valid_word(r));
        if (r->compared)
            printf("%.3g", r->max_err);
        putchar(',');
        bench_csv_field(inputs);
        putchar(',');
        bench_csv_field(r->error);
        putchar('\n');
    }
    fflush(stdout);
    if (f != FMT_JSON && r->error[0])
        fprintf(stderr, "seqk bench: %s on %s: %s\n", problem, r->dev->spec,
                r->error);
}

int bench_model(const bench_opts *o, device_ctx *devs, int n_devs,
                seqk_context **ref_ctx)
{
    host_tensor in[MAX_IO], ref_out[MAX_IO], out[MAX_IO];
    seqk_tensor *ref_t[MAX_IO] = {NULL};
    seqk_model *probe = NULL;
    const char *problem = strrchr(o->model, '/');
    char inputs[1024], err[768] = "";
    int n_in = 0, n_out = 0, rc = 0, have_ref = 0;

    problem = problem ? problem + 1 : o->model;
    memset(in, 0, sizeof in);
    memset(ref_out, 0, sizeof ref_out);
    memset(out, 0, sizeof out);
    if (!*ref_ctx && bench_open_context("ref", o->threads, ref_ctx)) {
        fprintf(stderr, "seqk bench: cannot open the reference device: %s\n",
                seqk_last_error(NULL));
        return 1;
    }
    /* the reference model: input ranges, then the oracle's outputs */
    seqk_model_options mo;
    seqk_model_options_init(&mo);
    mo.context = *ref_ctx;
    if (seqk_model_load(o->model, &mo, &probe) != SEQK_OK) {
        fprintf(stderr, "seqk bench: %s\n", seqk_last_error(NULL));
        return 1;
    }
    n_in = seqk_model_input_count(probe);
    n_out = seqk_model_output_count(probe);
    if (n_in > MAX_IO || n_out > MAX_IO) {
        fprintf(stderr, "seqk bench: %s has %d inputs and %d outputs (at "
                "most %d each)\n", o->model, n_in, n_out, MAX_IO);
        rc = 1;
        goto cleanup;
    }
    if ((rc = make_inputs(o, probe, in, n_in)))
        goto cleanup;
    shapes_text(in, n_in, inputs, sizeof inputs);
    if (o->validate) {
        for (int k = 0; k < n_in && !err[0]; k++)
            if (seqk_tensor_create(*ref_ctx, in[k].ndim, in[k].dims,
                                   in[k].dtype, &ref_t[k]) ||
                seqk_tensor_write(ref_t[k], in[k].data, in[k].bytes))
                snprintf(err, sizeof err, "input %s: %s", in[k].name,
                         seqk_last_error(*ref_ctx));
        have_ref = !err[0] && !run_and_read(probe, in, n_in, ref_t, ref_out,
                                            n_out, err, sizeof err);
    }
    seqk_model_destroy(probe); /* frees its plan before the timed runs */
    probe = NULL;

    int w = (int)strlen(problem) > 7 ? (int)strlen(problem) : 7;
    if (o->format == FMT_TABLE)
        printf("%-*s  %-12s  %7s  %11s  %11s  %9s  %9s  %s\n", w, "problem",
               "device", "threads", "ms_median", "ms_min", "load_ms",
               "first_ms", "valid");
    else if (o->format == FMT_CSV)
        printf("problem,device,threads,ms_median,ms_min,load_ms,"
               "first_run_ms,runs,peak_rss_mb,valid,max_abs_err,inputs,"
               "error\n");
    if (o->format == FMT_TABLE)
        fprintf(stderr, "seqk bench: inputs %s\n", inputs);
    for (int d = 0; d < n_devs; d++) {
        model_result r;
        memset(&r, 0, sizeof r);
        r.dev = &devs[d];
        measure(o, &devs[d], in, n_in, out, n_out, &r);
        if (r.ok && o->validate) {
            r.validated = 1;
            if (!have_ref) {
                snprintf(r.error, sizeof r.error, "reference run failed: "
                         "%.700s", err);
                r.valid = 0;
            } else {
                compare(out, ref_out, n_out, &r);
            }
        }
        if (!r.ok || (r.validated && !r.valid))
            rc = 1;
        print_result(o->format, problem, inputs, &r, w);
        free_outputs(out, n_out);
    }
cleanup:
    seqk_model_destroy(probe);
    for (int k = 0; k < MAX_IO; k++)
        seqk_tensor_destroy(ref_t[k]);
    for (int k = 0; k < n_in && k < MAX_IO; k++)
        free(in[k].data);
    free_outputs(ref_out, n_out < MAX_IO ? n_out : MAX_IO);
    return rc;
}
