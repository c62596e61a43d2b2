/* bench_model.h — what `seqk bench` (cmd_bench.c) shares with its model
 * form (bench_model.c, `seqk bench model.onnx`): the parsed options, the
 * opened devices and a few helpers. */
#ifndef SEQK_TOOLS_BENCH_MODEL_H
#define SEQK_TOOLS_BENCH_MODEL_H

#include "cli.h"
#include "seqk.h"

typedef enum out_format { FMT_TABLE, FMT_JSON, FMT_CSV } out_format;

typedef struct bench_opts {
    const char *suite;
    const char **problems; /* from the command line */
    int n_problems;
    const char **devices;  /* specs as given; "all" expanded later */
    int n_devices;
    int threads;
    out_format format;
    long repeat;
    double min_time_ms;
    int validate;
    int list;
    /* seqk bench model.onnx */
    const char *model;
    const char **inputs;   /* NAME=file.npy */
    int n_inputs;
    const char **shapes;   /* NAME=AxBx... */
    int n_shapes;
    const char **dims;     /* NAME=N: a symbolic dim */
    int n_dims;
} bench_opts;

typedef struct device_ctx {
    char spec[64];
    seqk_context *ctx;
    int is_ref;
    int profiled; /* device time can be read (OpenCL profiling on) */
    double open_ms; /* seqk_context_create */
    cli_provenance prov;
} device_ctx;

double bench_now_ms(void);
seqk_status bench_open_context(const char *spec, int threads,
                               seqk_context **ctx);
/* Sorts times[0..n) (n >= 1) and gives their median and minimum. */
void bench_sort_stats(double *times, long n, double *median, double *min);
/* A CSV field, quoted when it holds a comma, quote or newline. */
void bench_csv_field(const char *s);

/* bench_model.c: times o->model on every device and validates each
 * device's outputs against ref (*ref_ctx opened on demand).  Returns the
 * exit code. */
int bench_model(const bench_opts *o, device_ctx *devs, int n_devs,
                seqk_context **ref_ctx);

#endif
