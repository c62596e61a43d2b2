/*
 * cmd_bench.c — `seqk bench`: times problems (a named suite or descriptors
 * from the command line) on one or more devices, validates every result
 * against the reference backend on the same inputs, and prints a table,
 * JSON lines or CSV.
 *
 * Per (problem, device): set up once, one untimed warm-up call, then timed
 * calls until both --repeat calls and --min-time milliseconds of op time
 * are reached (at most max(--repeat, RUN_CAP) calls); median and min of the
 * individual call times; GFLOP/s from the median.  Every JSON and CSV
 * result carries the provenance of cli.h (machine, device, build, date,
 * tuning database) so results of several machines can be merged.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "commands.h"
#include "seqk.h"
#include "seqk_tune.h"

#define RUN_CAP 10000

#include "bench_model.h"

typedef struct result {
    const bench_problem *p;
    const device_ctx *dev;
    int ok;        /* the op ran */
    int validated; /* checked (on ref itself: finite) */
    int compared;  /* compared with a separate reference run */
    int valid;
    long runs;
    double ms_median, ms_min, gflops, max_err, atol, rtol;
    double device_ms;  /* median kernel time on the device, < 0: none */
    char error[768];
} result;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: seqk bench [options] [PROBLEM ...]\n"
        "       seqk bench model.onnx [-i NAME=x.npy ...] [--shape NAME=AxB ...]\n"
        "                  [--dim NAME=N ...] [options]\n"
        "\n"
        "Times problems on devices, validates each result against the\n"
        "reference backend and reports median/min milliseconds and GFLOP/s.\n"
        "\n"
        "options:\n"
        "  --suite NAME      quick (default without problems), deepbench\n"
        "                    or decode\n"
        "  --device SPEC     ref, cpu, avx2, opencl:P.D, ... (repeatable);\n"
        "                    all: every available device (the default)\n"
        "  --threads N       threads per context (0: library default; more\n"
        "                    than the cores is allowed, with a warning)\n"
        "  --format F        table (default), json (one object per line), csv\n"
        "  --repeat N        timed runs at least (default 5)\n"
        "  --min-time MS     timed milliseconds at least (default 200)\n"
        "  --no-validate     skip the comparison with the reference\n"
        "  --list            print the problems and their FLOPs, run nothing\n"
        "  --help            this text\n"
        "\n"
        "model.onnx: the whole model (problem = the file's name).  -i uses\n"
        "  a .npy as it is; other inputs are random with --shape's dims, or\n"
        "  the declared ones with --dim for symbolic dims (else 1): token\n"
        "  ids within the embedding table, full sequence lengths, bool\n"
        "  false.  Also reports load_ms and first_run_ms (load to first\n"
        "  result) and peak_rss_mb; outputs are checked against ref.\n"
        "\n"
        "problems:\n"
        "  gemm:m=M,n=N,k=K[,transa=0|1][,transb=0|1]\n"
        "  lstm:hidden=H,batch=B,seq=T[,input=I]\n"
        "       [,direction=forward|bidirectional][,num_layers=L]\n"
        "  gru:...as lstm...[,linear_before_reset=0|1]   (default 1)\n"
        "  rnn:...as lstm...[,act=tanh|relu]\n"
        "  (the short names dir=fwd|bi, layers=L and lbr=0|1 work too)\n"
        "  attention:batch=B,heads=NH,seq=S,dim=D[,kvseq=S2][,causal=0|1]\n"
        "  seqattn:batch=B,seq=S,dim=D,score=dot|scaled_dot|general|\n"
        "          additive|cosine|location[,keyed=0|1]  (keyed: one step\n"
        "          of a keys plan)\n"
        "  linear:m=M,n=N,k=K[,layout=nk|kn][,bias=0|1]  (linear plan)\n"
        "  (lstm, gru, rnn, linear: [,weights=f32|bf16]: bf16 plans)\n"
        "  softmax:rows=R,n=N[,inner=I]   (over n of [R,N] or [R,N,I])\n"
        "\n"
        "\n"
        "JSON and CSV results carry their provenance: cpu, os, device_name,\n"
        "device_vendor, device_driver, seqk_version, seqk_git, date (UTC)\n"
        "and tuning_db (a hash of the database file, or \"untuned\").\n"
        "Merge several machines' JSON with python3 -m seqk.report.\n"
        "\n"
        "exit status: 0 all valid, 1 a result invalid or failed (or no\n"
        "device available), 2 usage error (incl. a device spec naming no\n"
        "usable device)\n");
}

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void bench_sort_stats(double *times, long n, double *median, double *min)
{
    qsort(times, (size_t)n, sizeof *times, cmp_double);
    *min = times[0];
    *median = n % 2 ? times[n / 2]
                    : 0.5 * (times[n / 2 - 1] + times[n / 2]);
}

/* ------------------------------------------------------------ arguments */

/* The value of option `name` at argv[*i], as "--name=V" or "--name V";
 * NULL if argv[*i] is not this option.  *missing is set when the value is
 * absent. */
static const char *opt_value(int argc, char **argv, int *i, const char *name,
                             int *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return "";
    }
    return argv[++*i];
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, bench_opts *o)
{
    o->repeat = 5;
    o->min_time_ms = 200.0;
    o->validate = 1;
    o->format = FMT_TABLE;
    o->problems = calloc((size_t)argc + 1, sizeof *o->problems);
    o->devices = calloc((size_t)argc + 1, sizeof *o->devices);
    o->inputs = calloc((size_t)argc + 1, sizeof *o->inputs);
    o->shapes = calloc((size_t)argc + 1, sizeof *o->shapes);
    o->dims = calloc((size_t)argc + 1, sizeof *o->dims);
    if (!o->problems || !o->devices || !o->inputs || !o->shapes ||
        !o->dims) {
        fprintf(stderr, "seqk bench: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int missing = 0;
        long n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(a, "--no-validate")) {
            o->validate = 0;
        } else if (!strcmp(a, "--list")) {
            o->list = 1;
        } else if ((v = opt_value(argc, argv, &i, "--suite", &missing))) {
            if (missing || !bench_suite(v)) {
                fprintf(stderr, "seqk bench: --suite '%s': expected one of "
                        "%s\n", v, bench_suite_names());
                return 2;
            }
            o->suite = v;
        } else if ((v = opt_value(argc, argv, &i, "--device", &missing))) {
            if (missing || !*v) {
                fprintf(stderr, "seqk bench: --device needs a device spec "
                        "(ref, cpu, avx2, opencl:P.D, all, ...)\n");
                return 2;
            }
            o->devices[o->n_devices++] = v;
        } else if ((v = opt_value(argc, argv, &i, "--threads", &missing))) {
            if (missing || cli_parse_threads("bench", v, &o->threads))
                return 2;
        } else if ((v = opt_value(argc, argv, &i, "--format", &missing))) {
            if (!strcmp(v, "table"))
                o->format = FMT_TABLE;
            else if (!strcmp(v, "json"))
                o->format = FMT_JSON;
            else if (!strcmp(v, "csv"))
                o->format = FMT_CSV;
            else {
                fprintf(stderr, "seqk bench: --format '%s': expected table, "
                        "json or csv\n", v);
                return 2;
            }
        } else if ((v = opt_value(argc, argv, &i, "--repeat", &missing))) {
            if (missing || parse_long(v, 1, 1000000, &n)) {
                fprintf(stderr, "seqk bench: --repeat '%s': expected an "
                        "integer 1..1000000\n", v);
                return 2;
            }
            o->repeat = n;
        } else if ((v = opt_value(argc, argv, &i, "--min-time", &missing))) {
            char *end = NULL;
            double ms = strtod(v, &end);
            if (missing || !*v || *end || !(ms >= 0.0 && ms <= 1e7)) {
                fprintf(stderr, "seqk bench: --min-time '%s': expected "
                        "milliseconds, 0..1e7\n", v);
                return 2;
            }
            o->min_time_ms = ms;
        } else if ((v = opt_value(argc, argv, &i, "-i", &missing)) ||
                   (v = opt_value(argc, argv, &i, "--input", &missing))) {
            if (missing || !strchr(v, '=')) {
                fprintf(stderr, "seqk bench: -i expects NAME=file.npy\n");
                return 2;
            }
            o->inputs[o->n_inputs++] = v;
        } else if ((v = opt_value(argc, argv, &i, "--shape", &missing))) {
            if (missing || !strchr(v, '=')) {
                fprintf(stderr, "seqk bench: --shape expects NAME=AxBx...\n");
                return 2;
            }
            o->shapes[o->n_shapes++] = v;
        } else if ((v = opt_value(argc, argv, &i, "--dim", &missing))) {
            if (missing || !strchr(v, '=')) {
                fprintf(stderr, "seqk bench: --dim expects NAME=N\n");
                return 2;
            }
            o->dims[o->n_dims++] = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "seqk bench: unknown option '%s' (try seqk bench "
                    "--help)\n", a);
            return 2;
        } else if (seqk_is_model_path(a)) {
            if (o->model) {
                fprintf(stderr, "seqk bench: one model at a time ('%s', "
                        "'%s')\n", o->model, a);
                return 2;
            }
            o->model = a;
        } else {
            o->problems[o->n_problems++] = a;
        }
    }
    if (o->model && (o->suite || o->n_problems)) {
        fprintf(stderr, "seqk bench: a model is benchmarked alone (no "
                "--suite or problems with it)\n");
        return 2;
    }
    if (!o->model && (o->n_inputs || o->n_shapes || o->n_dims)) {
        fprintf(stderr, "seqk bench: -i, --shape and --dim are for a "
                "model (seqk bench model.onnx ...)\n");
        return 2;
    }
    if (!o->suite && o->n_problems == 0 && !o->model)
        o->suite = "quick";
    return 0;
}

/* ------------------------------------------------------------- devices */

static int add_device(device_ctx *devs, int *n, const char *spec)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(devs[i].spec, spec))
            return 0;
    if (strlen(spec) >= sizeof devs[0].spec) {
        fprintf(stderr, "seqk bench: device spec '%s' is too long\n", spec);
        return 2;
    }
    snprintf(devs[*n].spec, sizeof devs[0].spec, "%s", spec);
    (*n)++;
    return 0;
}

/* Expands the --device list ("all" or none: every available device but
 * auto) into devs, which must hold n_devices + seqk_device_count entries. */
static int resolve_devices(const bench_opts *o, device_ctx *devs, int *n)
{
    int count = 0, want_all = o->n_devices == 0, rc;
    for (int i = 0; i < o->n_devices; i++) {
        if (!strcmp(o->devices[i], "all")) {
            want_all = 1;
            continue;
        }
        if ((rc = add_device(devs, n, o->devices[i])) != 0)
            return rc;
    }
    if (want_all) {
        seqk_device_count(&count);
        for (int i = 0; i < count; i++) {
            seqk_device_info info;
            memset(&info, 0, sizeof info);
            info.struct_size = sizeof info;
            if (seqk_device_info_get(i, &info) != SEQK_OK || !info.available ||
                !strcmp(info.spec, "auto"))
                continue;
            if ((rc = add_device(devs, n, info.spec)) != 0)
                return rc;
        }
    }
    if (*n == 0) {
        fprintf(stderr, "seqk bench: no available device\n");
        return 1;
    }
    return 0;
}

seqk_status bench_open_context(const char *spec, int threads,
                                seqk_context **ctx)
{
    seqk_options opts;
    seqk_options_init(&opts);
    opts.device = spec;
    opts.threads = threads;
    return seqk_context_create(&opts, ctx);
}

/* ---------------------------------------------------------------- output */

typedef struct printer {
    out_format format;
    int w_problem, w_device;
} printer;

/* CSV field, quoted when it holds a comma, quote or newline. */
void bench_csv_field(const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void print_header(const printer *pr)
{
    if (pr->format == FMT_TABLE)
        printf("%-*s  %-*s  %7s  %11s  %11s  %10s  %s\n", pr->w_problem,
               "problem", pr->w_device, "device", "threads", "ms_median",
               "ms_min", "gflops", "valid");
    else if (pr->format == FMT_CSV)
        printf("problem,device,threads,ms_median,ms_min,gflops,valid,op,"
               "backend,runs,max_abs_err,error,cpu,os,device_name,"
               "device_vendor,device_driver,seqk_version,seqk_git,date,"
               "tuning_db\n");
    fflush(stdout);
}

static const char *valid_word(const result *r)
{
    if (!r->ok || (r->validated && !r->valid))
        return "false";
    return r->validated ? "true" : "skip";
}

static void print_json(const result *r)
{
    const char *op = bench_kind_name(r->p->kind);
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        printf("{\"problem\":\"?\",\"valid\":false,\"error\":\"out of memory\"}\n");
        return;
    }
    cJSON_AddStringToObject(o, "problem", r->p->text);
    cJSON_AddStringToObject(o, "op", op);
    cJSON_AddStringToObject(o, "device", r->dev->spec);
    cJSON_AddStringToObject(o, "backend", seqk_context_device(r->dev->ctx));
    cJSON_AddNumberToObject(o, "threads", seqk_context_threads(r->dev->ctx));
    cJSON_AddNumberToObject(o, "flops", bench_flops(r->p));
    if (r->ok) {
        cJSON_AddNumberToObject(o, "runs", (double)r->runs);
        cJSON_AddNumberToObject(o, "ms_median", r->ms_median);
        cJSON_AddNumberToObject(o, "ms_min", r->ms_min);
        cJSON_AddNumberToObject(o, "gflops", r->gflops);
        if (r->device_ms >= 0.0)
            cJSON_AddNumberToObject(o, "device_ms_median", r->device_ms);
    } else {
        cJSON_AddNullToObject(o, "runs");
        cJSON_AddNullToObject(o, "ms_median");
        cJSON_AddNullToObject(o, "ms_min");
        cJSON_AddNullToObject(o, "gflops");
    }
    cJSON_AddBoolToObject(o, "valid", r->ok && (!r->validated || r->valid));
    cJSON_AddBoolToObject(o, "validated", r->validated);
    if (r->compared) {
        cJSON_AddNumberToObject(o, "max_abs_err", r->max_err);
        cJSON_AddNumberToObject(o, "atol", r->atol);
        cJSON_AddNumberToObject(o, "rtol", r->rtol);
    }
    if (r->error[0])
        cJSON_AddStringToObject(o, "error", r->error);
    const cli_provenance *pv = &r->dev->prov;
    cJSON_AddStringToObject(o, "cpu", pv->cpu);
    cJSON_AddStringToObject(o, "os", pv->os);
    cJSON_AddStringToObject(o, "device_name", pv->device_name);
    cJSON_AddStringToObject(o, "device_vendor", pv->device_vendor);
    cJSON_AddStringToObject(o, "device_driver", pv->device_driver);
    cJSON_AddStringToObject(o, "seqk_version", pv->seqk_version);
    cJSON_AddStringToObject(o, "seqk_git", pv->seqk_git);
    cJSON_AddStringToObject(o, "date", pv->date);
    cJSON_AddStringToObject(o, "tuning_db", pv->tuning_db);
    char *s = cJSON_PrintUnformatted(o);
    if (s)
        printf("%s\n", s);
    cJSON_free(s);
    cJSON_Delete(o);
}

static void print_result(const printer *pr, const result *r)
{
    const char *dev = r->dev->spec;
    int threads = seqk_context_threads(r->dev->ctx);
    if (pr->format == FMT_JSON) {
        print_json(r);
    } else if (pr->format == FMT_TABLE) {
        if (r->ok)
            printf("%-*s  %-*s  %7d  %11.4f  %11.4f  %10.3f  %s\n",
                   pr->w_problem, r->p->text, pr->w_device, dev, threads,
                   r->ms_median, r->ms_min, r->gflops, valid_word(r));
        else
            printf("%-*s  %-*s  %7d  %11s  %11s  %10s  %s\n", pr->w_problem,
                   r->p->text, pr->w_device, dev, threads, "-", "-", "-",
                   valid_word(r));
    } else {
        bench_csv_field(r->p->text);
        putchar(',');
        bench_csv_field(dev);
        printf(",%d,", threads);
        if (r->ok)
            printf("%.6g,%.6g,%.6g", r->ms_median, r->ms_min, r->gflops);
        else
            printf(",,");
        printf(",%s,%s,", valid_word(r), bench_kind_name(r->p->kind));
        bench_csv_field(seqk_context_device(r->dev->ctx));
        if (r->ok)
            printf(",%ld,", r->runs);
        else
            printf(",,");
        if (r->compared)
            printf("%.3g", r->max_err);
        putchar(',');
        bench_csv_field(r->error);
        const cli_provenance *pv = &r->dev->prov;
        const char *prov[] = {pv->cpu, pv->os, pv->device_name,
                              pv->device_vendor, pv->device_driver,
                              pv->seqk_version, pv->seqk_git, pv->date,
                              pv->tuning_db};
        for (size_t k = 0; k < sizeof prov / sizeof prov[0]; k++) {
            putchar(',');
            bench_csv_field(prov[k]);
        }
        putchar('\n');
    }
    fflush(stdout);
    /* JSON carries the error itself; the other formats say it on stderr. */
    if (pr->format != FMT_JSON && r->error[0]) {
        fprintf(stderr, "seqk bench: %s on %s: %s\n", r->p->text, dev,
                r->error);
        fflush(stderr);
    }
}

/* ------------------------------------------------------------- running */

/* Setup, warm-up, timed runs and the final outputs of one problem on one
 * device.  On failure r->ok stays 0 and r->error says why. */
static void measure(const bench_opts *o, const bench_problem *p,
                    const device_ctx *dev, result *r, float **out, size_t *n)
{
    seqk_context *ctx = dev->ctx;
    bench_instance *inst = NULL;
    long cap = o->repeat > RUN_CAP ? o->repeat : RUN_CAP;
    double *times = malloc((size_t)cap * sizeof *times), total = 0.0;
    double *dtimes = NULL;
    char *err = r->error;
    size_t elen = sizeof r->error;

    *out = NULL;
    *n = 0;
    if (!times) {
        snprintf(err, elen, "out of host memory");
        return;
    }
    if (bench_setup(ctx, p, &inst, err, elen) != SEQK_OK)
        goto cleanup;
    if (bench_run(inst, err, elen) != SEQK_OK) /* warm-up */
        goto cleanup;
    /* OpenCL with SEQK_OPENCL_PROFILE=1: device time too (this call
     * resets the count).  Asked only where it can work, so a failure is
     * a real one and SEQK_VERBOSE logs no error for a mere probe. */
    double dev_ms = 0.0;
    int profiled = dev->profiled &&
                   seqk_context_device_time(ctx, &dev_ms) == SEQK_OK;
    dtimes = profiled ? malloc((size_t)cap * sizeof *dtimes) : NULL;
    r->device_ms = -1.0;
    while (r->runs < cap && (r->runs < o->repeat || total < o->min_time_ms)) {
        double t0 = bench_now_ms();
        seqk_status st = bench_run(inst, err, elen);
        double t1 = bench_now_ms();
        if (st != SEQK_OK)
            goto cleanup;
        if (dtimes && seqk_context_device_time(ctx, &dev_ms) == SEQK_OK)
            dtimes[r->runs] = dev_ms;
        times[r->runs++] = t1 - t0;
        total += t1 - t0;
    }
    if (dtimes) {
        qsort(dtimes, (size_t)r->runs, sizeof *dtimes, cmp_double);
        r->device_ms = dtimes[r->runs / 2];
    }
    if (bench_read_outputs(inst, out, n, err, elen) != SEQK_OK)
        goto cleanup;

    bench_sort_stats(times, r->runs, &r->ms_median, &r->ms_min);
    r->gflops = r->ms_median > 0.0 ? bench_flops(p) / (r->ms_median * 1e6)
                                   : 0.0;
    r->ok = 1;

cleanup:
    bench_destroy(inst);
    free(times);
    free(dtimes);
}

/* The reference outputs of p, computed once on a lazily opened ref
 * context; 0 on success, else -1 with err. */
static int reference(const bench_opts *o, const bench_problem *p,
                     seqk_context **ref_ctx, float **out, size_t *n,
                     char *err, size_t elen)
{
    bench_instance *inst = NULL;
    int rc = -1;
    if (!*ref_ctx && bench_open_context("ref", o->threads, ref_ctx) != SEQK_OK) {
        snprintf(err, elen, "cannot open the reference device: %s",
                 seqk_last_error(NULL));
        return -1;
    }
    if (bench_setup(*ref_ctx, p, &inst, err, elen) == SEQK_OK &&
        bench_run(inst, err, elen) == SEQK_OK &&
        bench_read_outputs(inst, out, n, err, elen) == SEQK_OK)
        rc = 0;
    bench_destroy(inst);
    return rc;
}

/* max |got - want| and whether every element is within atol + rtol*|want|
 * (NaN anywhere fails). */
static int compare(const float *got, const float *want, size_t n,
                   double atol, double rtol, double *max_err)
{
    int ok = 1;
    *max_err = 0.0;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], w = want[i], e = fabs(g - w);
        if (isnan(g) || isnan(w)) {
            *max_err = NAN;
            return 0;
        }
        if (!(e <= atol + rtol * fabs(w)))
            ok = 0;
        if (e > *max_err)
            *max_err = e;
    }
    return ok;
}

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* Runs p on every device; returns 1 if any result failed or is invalid. */
static int bench_problem_all(const bench_opts *o, const printer *pr,
                             const bench_problem *p, device_ctx *devs,
                             int n_devs, seqk_context **ref_ctx)
{
    float *ref_out = NULL;
    size_t ref_n = 0;
    int ref_failed = 0, bad = 0;
    char ref_err[512] = "";

    for (int d = 0; d < n_devs; d++) {
        result r;
        float *out = NULL;
        size_t n = 0;
        memset(&r, 0, sizeof r);
        r.p = p;
        r.dev = &devs[d];
        measure(o, p, &devs[d], &r, &out, &n);
        if (r.ok && o->validate) {
            r.validated = 1;
            bench_tolerance(p, &r.atol, &r.rtol);
            if (devs[d].is_ref) {
                /* The device is the oracle: only check it is finite. */
                r.valid = all_finite(out, n);
                if (!r.valid)
                    snprintf(r.error, sizeof r.error, "the reference "
                             "output holds NaN or Inf");
                if (!ref_out && r.valid) {
                    ref_out = out;
                    ref_n = n;
                    out = NULL;
                }
            } else {
                if (!ref_out && !ref_failed &&
                    reference(o, p, ref_ctx, &ref_out, &ref_n, ref_err,
                              sizeof ref_err) != 0)
                    ref_failed = 1;
                if (ref_failed) {
                    snprintf(r.error, sizeof r.error, "reference run "
                             "failed: %s", ref_err);
                } else if (ref_n != n) {
                    snprintf(r.error, sizeof r.error, "output has %zu "
                             "elements, reference %zu", n, ref_n);
                } else {
                    r.compared = 1;
                    r.valid = compare(out, ref_out, n, r.atol, r.rtol,
                                      &r.max_err);
                    if (!r.valid)
                        snprintf(r.error, sizeof r.error, "differs from "
                                 "ref: max |error| %.3g > atol %.3g + rtol "
                                 "%.3g*|ref|", r.max_err, r.atol, r.rtol);
                }
            }
        }
        if (!r.ok || (r.validated && !r.valid))
            bad = 1;
        print_result(pr, &r);
        free(out);
    }
    free(ref_out);
    return bad;
}

int seqk_cmd_bench(int argc, char **argv)
{
    bench_opts o;
    bench_problem *probs = NULL;
    device_ctx *devs = NULL;
    seqk_context *ref_ctx = NULL;
    const char *const *suite = NULL;
    printer pr = {FMT_TABLE, 7, 6};
    int n_probs = 0, n_suite = 0, n_devs = 0, count = 0, rc = 0;
    char err[256];

    memset(&o, 0, sizeof o);
    rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        rc = rc < 0 ? 0 : rc; /* --help */
        goto cleanup;
    }

    /* Every descriptor is checked before anything runs. */
    suite = o.suite ? bench_suite(o.suite) : NULL;
    while (suite && suite[n_suite])
        n_suite++;
    probs = calloc((size_t)(n_suite + o.n_problems) + 1, sizeof *probs);
    if (!probs) {
        fprintf(stderr, "seqk bench: out of memory\n");
        rc = 1;
        goto cleanup;
    }
    for (int i = 0; i < n_suite + o.n_problems; i++) {
        const char *text = i < n_suite ? suite[i] : o.problems[i - n_suite];
        if (bench_parse(text, &probs[n_probs], err, sizeof err) != 0) {
            fprintf(stderr, "seqk bench: bad problem \"%s\": %s\n", text,
                    err);
            rc = 2;
            goto cleanup;
        }
        n_probs++;
    }
    if (o.list) {
        for (int i = 0; i < n_probs; i++)
            printf("%-56s %12.4g flop\n", probs[i].text,
                   bench_flops(&probs[i]));
        goto cleanup;
    }

    /* Listing devices starts every OpenCL platform (hundreds of MB with
     * PoCL): only for "all" */
    for (int i = 0; i < o.n_devices; i++)
        if (!strcmp(o.devices[i], "all"))
            count = -1; /* then listed below */
    if (o.n_devices == 0 || count < 0) {
        count = 0;
        seqk_device_count(&count);
    }
    devs = calloc((size_t)(o.n_devices + count) + 1, sizeof *devs);
    if (!devs) {
        fprintf(stderr, "seqk bench: out of memory\n");
        rc = 1;
        goto cleanup;
    }
    if ((rc = resolve_devices(&o, devs, &n_devs)) != 0)
        goto cleanup;
    const char *prof = getenv("SEQK_OPENCL_PROFILE");
    for (int d = 0; d < n_devs; d++) {
        double t0 = bench_now_ms();
        seqk_status st = bench_open_context(devs[d].spec, o.threads, &devs[d].ctx);
        devs[d].open_ms = bench_now_ms() - t0;
        if (st != SEQK_OK) {
            /* The same code as seqk run: a spec naming no usable device
             * is the user's to fix. */
            fprintf(stderr, "seqk bench: cannot use device '%s': %s\n",
                    devs[d].spec, seqk_last_error(NULL));
            rc = cli_device_exit_code(st);
            goto cleanup;
        }
        devs[d].is_ref = !strcmp(seqk_context_device(devs[d].ctx), "ref");
        cli_provenance_get(devs[d].ctx, &devs[d].prov);
        /* seqk.h: profiling is on for OpenCL contexts created with
         * SEQK_OPENCL_PROFILE=1. */
        seqk_device_facts f = {.struct_size = sizeof f};
        devs[d].profiled = prof && prof[0] == '1' &&
                           seqk_context_device_facts(devs[d].ctx, &f) ==
                               SEQK_OK &&
                           f.present;
    }

    pr.format = o.format;
    for (int i = 0; i < n_probs; i++) {
        int w = (int)strlen(probs[i].text);
        pr.w_problem = w > pr.w_problem ? w : pr.w_problem;
    }
    for (int d = 0; d < n_devs; d++) {
        int w = (int)strlen(devs[d].spec);
        pr.w_device = w > pr.w_device ? w : pr.w_device;
    }
    if (o.model) {
        rc = bench_model(&o, devs, n_devs, &ref_ctx);
        goto cleanup;
    }
    print_header(&pr);
    for (int i = 0; i < n_probs; i++)
        if (bench_problem_all(&o, &pr, &probs[i], devs, n_devs, &ref_ctx))
            rc = 1;

cleanup:
    for (int d = 0; devs && d < n_devs; d++)
        seqk_context_destroy(devs[d].ctx);
    seqk_context_destroy(ref_ctx);
    free(devs);
    free(probs);
    free(o.problems);
    free(o.devices);
    free(o.inputs);
    free(o.shapes);
    free(o.dims);
    return rc;
}
