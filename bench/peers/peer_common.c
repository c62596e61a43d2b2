/*
 * peer_common.c — descriptor parsing, FLOP counts, timing and JSON output
 * shared by the peer benchmark programs (see peer_common.h).  Kept in step
 * with tune/bench_problems.c by hand: the grammar and formulas are the
 * ones bench/README.md documents.
 */
#define _POSIX_C_SOURCE 200809L
#include "peer_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_VALUE 2147483647
#define RUN_CAP 10000

/* ------------------------------------------------------------- parsing */

typedef enum key_type { KEY_SIZE, KEY_FLAG, KEY_CHOICE } key_type;

typedef struct key_spec {
    const char *name;
    key_type type;
    int required;
    size_t offset; /* of an int64_t field of peer_problem */
    const char *const *choices;
} key_spec;

static const char *const dir_choices[] = {"fwd", "bi", NULL};
static const char *const act_choices[] = {"tanh", "relu", NULL};

#define FIELD(f) offsetof(peer_problem, f)

static const key_spec gemm_keys[] = {
    {"m", KEY_SIZE, 1, FIELD(m), NULL},
    {"n", KEY_SIZE, 1, FIELD(n), NULL},
    {"k", KEY_SIZE, 1, FIELD(k), NULL},
    {"transa", KEY_FLAG, 0, FIELD(transa), NULL},
    {"transb", KEY_FLAG, 0, FIELD(transb), NULL},
    {NULL, 0, 0, 0, NULL}
};
static const key_spec rnn_keys[] = {
    {"hidden", KEY_SIZE, 1, FIELD(hidden), NULL},
    {"batch", KEY_SIZE, 1, FIELD(batch), NULL},
    {"seq", KEY_SIZE, 1, FIELD(seq), NULL},
    {"input", KEY_SIZE, 0, FIELD(input), NULL},
    {"dir", KEY_CHOICE, 0, FIELD(bidir), dir_choices},
    {"layers", KEY_SIZE, 0, FIELD(layers), NULL},
    /* lbr only for gru and act only for rnn: checked after parsing */
    {"lbr", KEY_FLAG, 0, FIELD(lbr), NULL},
    {"act", KEY_CHOICE, 0, FIELD(act), act_choices},
    {NULL, 0, 0, 0, NULL}
};
static const key_spec attention_keys[] = {
    {"batch", KEY_SIZE, 1, FIELD(batch), NULL},
    {"heads", KEY_SIZE, 1, FIELD(heads), NULL},
    {"seq", KEY_SIZE, 1, FIELD(seq), NULL},
    {"dim", KEY_SIZE, 1, FIELD(dim), NULL},
    {"kvseq", KEY_SIZE, 0, FIELD(kvseq), NULL},
    {"causal", KEY_FLAG, 0, FIELD(causal), NULL},
    {NULL, 0, 0, 0, NULL}
};

static const struct {
    const char *name;
    peer_kind kind;
    const key_spec *keys;
} kinds[] = {
    {"gemm", PEER_GEMM, gemm_keys},
    {"lstm", PEER_LSTM, rnn_keys},
    {"gru", PEER_GRU, rnn_keys},
    {"rnn", PEER_RNN, rnn_keys},
    {"attention", PEER_ATTENTION, attention_keys},
};
#define NUM_KINDS (sizeof kinds / sizeof kinds[0])

const char *peer_kind_name(peer_kind kind)
{
    for (size_t i = 0; i < NUM_KINDS; i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return "?";
}

int peer_gates_of(peer_kind kind)
{
    return kind == PEER_LSTM ? 4 : kind == PEER_GRU ? 3 : 1;
}

static int parse_value(const key_spec *k, const char *v, size_t vlen,
                       int64_t *out, char *err, size_t err_len)
{
    if (k->type == KEY_FLAG) {
        if (vlen == 1 && (v[0] == '0' || v[0] == '1')) {
            *out = v[0] - '0';
            return 0;
        }
        snprintf(err, err_len, "%s=%.*s: expected 0 or 1", k->name,
                 (int)vlen, v);
        return -1;
    }
    if (k->type == KEY_CHOICE) {
        for (int64_t i = 0; k->choices[i]; i++) {
            if (strlen(k->choices[i]) == vlen &&
                !strncmp(k->choices[i], v, vlen)) {
                *out = i;
                return 0;
            }
        }
        snprintf(err, err_len, "%s=%.*s: not one of the choices", k->name,
                 (int)vlen, v);
        return -1;
    }
    int64_t value = 0;
    if (vlen == 0)
        goto bad;
    for (size_t i = 0; i < vlen; i++) {
        if (v[i] < '0' || v[i] > '9')
            goto bad;
        value = value * 10 + (v[i] - '0');
        if (value > MAX_VALUE)
            goto bad;
    }
    if (value == 0)
        goto bad;
    *out = value;
    return 0;
bad:
    snprintf(err, err_len, "%s=%.*s: expected an integer in 1..%d", k->name,
             (int)vlen, v, MAX_VALUE);
    return -1;
}

int peer_parse(const char *text, peer_problem *p, char *err, size_t err_len)
{
    memset(p, 0, sizeof *p);
    p->text = text;
    p->input = -1;
    p->kvseq = -1;
    p->layers = 1;
    p->act = -1;
    p->lbr = -1;

    size_t klen = strcspn(text, ":");
    const key_spec *keys = NULL;
    for (size_t i = 0; i < NUM_KINDS; i++) {
        if (strlen(kinds[i].name) == klen &&
            !strncmp(kinds[i].name, text, klen)) {
            p->kind = kinds[i].kind;
            keys = kinds[i].keys;
        }
    }
    if (!keys) {
        snprintf(err, err_len, "unknown or unsupported kind \"%.*s\"",
                 (int)klen, text);
        return -1;
    }

    unsigned seen = 0;
    const char *s = text + klen + (text[klen] == ':');
    while (*s) {
        size_t ilen = strcspn(s, ",");
        const char *eq = memchr(s, '=', ilen);
        if (ilen == 0 || !eq) {
            snprintf(err, err_len, "\"%.*s\" is not key=value", (int)ilen, s);
            return -1;
        }
        size_t nlen = (size_t)(eq - s);
        int ki = -1;
        for (int i = 0; keys[i].name; i++)
            if (strlen(keys[i].name) == nlen && !strncmp(keys[i].name, s, nlen))
                ki = i;
        if (ki < 0 || (seen & (1u << ki))) {
            snprintf(err, err_len, "unknown or repeated key \"%.*s\"",
                     (int)nlen, s);
            return -1;
        }
        seen |= 1u << ki;
        if (parse_value(&keys[ki], eq + 1, ilen - nlen - 1,
                        (int64_t *)((char *)p + keys[ki].offset), err,
                        err_len) != 0)
            return -1;
        s += ilen;
        if (*s == ',')
            s++;
    }
    for (int i = 0; keys[i].name; i++) {
        if (keys[i].required && !(seen & (1u << i))) {
            snprintf(err, err_len, "missing key %s", keys[i].name);
            return -1;
        }
    }
    if ((p->lbr >= 0 && p->kind != PEER_GRU) ||
        (p->act >= 0 && p->kind != PEER_RNN)) {
        snprintf(err, err_len, "lbr is for gru only, act for rnn only");
        return -1;
    }
    if (p->lbr < 0)
        p->lbr = 1;
    if (p->act < 0)
        p->act = 0;
    if (p->input < 0)
        p->input = p->hidden;
    if (p->kvseq < 0)
        p->kvseq = p->seq;
    return 0;
}

/* --------------------------------------------------------------- flops */

double peer_flops(const peer_problem *p)
{
    double b = (double)p->batch, s = (double)p->seq;
    switch (p->kind) {
    case PEER_GEMM:
        return 2.0 * (double)p->m * (double)p->n * (double)p->k;
    case PEER_LSTM:
    case PEER_GRU:
    case PEER_RNN: {
        double dirs = p->bidir ? 2.0 : 1.0, h = (double)p->hidden;
        double g = peer_gates_of(p->kind), total = 0.0;
        for (int64_t l = 0; l < p->layers; l++) {
            double in = l == 0 ? (double)p->input : dirs * h;
            total += dirs * 2.0 * s * b * g * h * (in + h);
        }
        return total;
    }
    case PEER_ATTENTION: {
        double s2 = (double)p->kvseq, pairs = s * s2;
        if (p->causal) {
            if (p->seq <= p->kvseq)
                pairs = s * (s + 1.0) / 2.0;
            else
                pairs = s2 * (s2 + 1.0) / 2.0 + (s - s2) * s2;
        }
        return 4.0 * b * (double)p->heads * (double)p->dim * pairs;
    }
    }
    return 0.0;
}

/* ------------------------------------------------------------ options */

static void usage_exit(const char *usage, const char *msg, const char *arg)
{
    fprintf(stderr, "%s '%s'\n%s", msg, arg ? arg : "", usage);
    exit(2);
}

void peer_parse_args(int argc, char **argv, peer_options *o,
                     const char *usage)
{
    o->threads = 1;
    o->repeat = 5;
    o->min_time_ms = 200.0;
    o->nproblems = 0;
    o->problems = argv + 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            exit(0);
        }
        if (!strcmp(a, "--threads") || !strcmp(a, "--repeat") ||
            !strcmp(a, "--min-time")) {
            if (i + 1 >= argc)
                usage_exit(usage, "missing value after", a);
            char *end;
            double v = strtod(argv[++i], &end);
            if (*end || v < 0 || (strcmp(a, "--min-time") && v < 1))
                usage_exit(usage, "bad value", argv[i]);
            if (!strcmp(a, "--threads"))
                o->threads = (int)v;
            else if (!strcmp(a, "--repeat"))
                o->repeat = (long)v;
            else
                o->min_time_ms = v;
        } else if (a[0] == '-') {
            usage_exit(usage, "unknown option", a);
        } else {
            o->problems[o->nproblems++] = argv[i];
        }
    }
    if (o->nproblems == 0)
        usage_exit(usage, "no problem given", "");
}

/* ------------------------------------------------------------- timing */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int peer_time(peer_call_fn fn, void *arg, const peer_options *o,
              peer_result *r, char *err, size_t err_len)
{
    long cap = o->repeat > RUN_CAP ? o->repeat : RUN_CAP;
    double *times = malloc((size_t)cap * sizeof *times), total = 0.0;
    int rc;
    if (!times) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    r->runs = 0;
    rc = fn(arg, err, err_len); /* warm-up */
    while (rc == 0 && r->runs < cap &&
           (r->runs < o->repeat || total < o->min_time_ms)) {
        double t0 = now_ms();
        rc = fn(arg, err, err_len);
        double t = now_ms() - t0;
        times[r->runs++] = t;
        total += t;
    }
    if (rc == 0) {
        qsort(times, (size_t)r->runs, sizeof *times, cmp_double);
        r->ms_min = times[0];
        r->ms_median = r->runs % 2 ? times[r->runs / 2]
                                   : 0.5 * (times[r->runs / 2 - 1] +
                                            times[r->runs / 2]);
    }
    free(times);
    return rc;
}

/* ------------------------------------------------------------- output */

static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_head(const char *problem, const char *op,
                       const char *device, int threads)
{
    fputs("{\"problem\":", stdout);
    print_json_string(problem);
    fputs(",\"op\":", stdout);
    print_json_string(op);
    fputs(",\"device\":", stdout);
    print_json_string(device);
    printf(",\"threads\":%d", threads);
}

void peer_print_result(const peer_problem *p, const char *device,
                       const char *backend, int threads,
                       const peer_result *r)
{
    double flops = peer_flops(p);
    print_head(p->text, peer_kind_name(p->kind), device, threads);
    fputs(",\"backend\":", stdout);
    print_json_string(backend);
    printf(",\"flops\":%.17g,\"runs\":%ld,\"ms_median\":%.17g,"
           "\"ms_min\":%.17g,\"gflops\":%.17g,\"valid\":true,"
           "\"validated\":false}\n",
           flops, r->runs, r->ms_median, r->ms_min,
           r->ms_median > 0.0 ? flops / (r->ms_median * 1e6) : 0.0);
    fflush(stdout);
}

void peer_print_error(const char *problem, const char *op,
                      const char *device, int threads, const char *msg)
{
    print_head(problem, op, device, threads);
    fputs(",\"ms_median\":null,\"ms_min\":null,\"gflops\":null,"
          "\"valid\":false,\"validated\":false,\"error\":", stdout);
    print_json_string(msg);
    fputs("}\n", stdout);
    fflush(stdout);
}

/* --------------------------------------------------------------- data */

uint64_t peer_seed(const char *text)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *text; text++)
        h = (h ^ (unsigned char)*text) * 1099511628211ull;
    return h;
}

void peer_fill(float *x, size_t n, float lo, float hi, uint64_t seed)
{
    uint64_t s = seed ? seed : 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = lo + (hi - lo) * (float)((s >> 40) * (1.0 / 16777216.0));
    }
}

float *peer_alloc(size_t count)
{
    void *p = NULL;
    size_t bytes = (count * sizeof(float) + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0)
        return NULL;
    memset(p, 0, bytes);
    return p;
}

size_t peer_count_nonfinite(const float *x, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !isfinite(x[i]);
    return bad;
}
