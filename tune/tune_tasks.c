/*
 * tune_tasks.c — what `seqk tune` tunes on a device (one task per
 * tunable and shape bucket of the suite's problems) and the journal of
 * measured candidates that lets an interrupted run resume.
 *
 * Journal: one line per measured candidate, appended and flushed as it
 * is measured, then one "done" line per finished task:
 *   c KEY OUTCOME MEDIAN_MS MIN_MS N V1 .. VN
 *   d KEY
 * KEY is the task's "tunable@bucket" (no spaces).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tune_tool.h"

static const struct {
    const char *name;
    bench_kind kind;
} op_names[] = {
    {"gemm", BENCH_GEMM},      {"lstm", BENCH_LSTM},
    {"gru", BENCH_GRU},        {"rnn", BENCH_RNN},
    {"attention", BENCH_ATTENTION}, {"seqattn", BENCH_SEQATTN},
    {"softmax", BENCH_SOFTMAX},
};

int tune_parse_ops(const char *list, unsigned *kinds, int *softmax_out,
                   char *err, size_t err_len)
{
    *kinds = 0;
    *softmax_out = 0;
    const char *s = list;
    while (*s) {
        size_t n = strcspn(s, ",");
        int found = 0;
        for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++) {
            if (strlen(op_names[i].name) == n &&
                !strncmp(s, op_names[i].name, n)) {
                found = 1;
                if (op_names[i].kind == BENCH_SOFTMAX)
                    *softmax_out = 1;
                *kinds |= 1u << op_names[i].kind;
            }
        }
        if (!found || n == 0) {
            snprintf(err, err_len,
                     "unknown op '%.*s' in --ops (one of gemm, lstm, gru, "
                     "rnn, attention, seqattn, softmax)", (int)n, s);
            return -1;
        }
        s += n;
        if (*s == ',')
            s++;
    }
    return 0;
}

/* The op part of a tunable id "backend.op.kernel". */
static int id_op_is(const seqk_tunable *t, const char *op)
{
    const char *d = strchr(t->id, '.');
    if (!d)
        return 0;
    size_t n = strcspn(d + 1, ".");
    return strlen(op) == n && !strncmp(d + 1, op, n);
}

int tune_tunable_applies(const seqk_tunable *t, const char *spec)
{
    /* "auto" tunables pick the device of an auto context per op and
     * shape; they are measured on an auto context */
    if (!strcmp(spec, "auto") || !strcmp(t->backend, "auto"))
        return !strcmp(spec, "auto") && !strcmp(t->backend, "auto");
    const int cl = !strncmp(spec, "opencl", 6);
    if (strcmp(t->backend, cl ? "opencl" : "cpu"))
        return 0;
    if (cl)
        return 1;
    /* an ISA-specific id ends in the ISA's name */
    static const char *const isas[] = {
#define SEQK_ISA(name, arch, needs, cflags, title) #name,
#include "cpu_simd/isa.def"
    };
    const char *last = strrchr(t->id, '.');
    last = last ? last + 1 : t->id;
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++)
        if (!strcmp(last, isas[i]))
            return !strcmp(last, spec);
    return 1;
}

/* The size named `name` of problem p, or -1. */
static int64_t problem_dim(const bench_problem *p, const char *name)
{
    switch (p->kind) {
    case BENCH_GEMM:
    case BENCH_LINEAR:
        if (!strcmp(name, "M"))
            return p->m;
        if (!strcmp(name, "N"))
            return p->n;
        if (!strcmp(name, "K"))
            return p->k;
        /* as cl_gemm.c keys the path: 1 + trans (bucket 0 or 1) */
        if (!strcmp(name, "TA"))
            return 1 + (p->transa != 0);
        if (!strcmp(name, "TB"))
            return 1 + (p->transb != 0);
        return -1;
    case BENCH_LSTM:
    case BENCH_GRU:
    case BENCH_RNN:
        if (!strcmp(name, "H"))
            return p->hidden;
        if (!strcmp(name, "B"))
            return p->batch;
        if (!strcmp(name, "T") || !strcmp(name, "S"))
            return p->seq;
        if (!strcmp(name, "I"))
            return p->input;
        if (!strcmp(name, "D"))
            return p->bidir ? 2 : 1;
        return -1;
    case BENCH_ATTENTION:
        if (!strcmp(name, "B"))
            return p->batch;
        if (!strcmp(name, "H") || !strcmp(name, "NH"))
            return p->heads;
        if (!strcmp(name, "Sq") || !strcmp(name, "S"))
            return p->seq;
        if (!strcmp(name, "Skv"))
            return p->kvseq;
        if (!strcmp(name, "Dh") || !strcmp(name, "Dv"))
            return p->dim;
        return -1;
    case BENCH_SEQATTN:
        if (!strcmp(name, "B"))
            return p->batch;
        if (!strcmp(name, "S"))
            return p->seq;
        if (!strcmp(name, "Dk") || !strcmp(name, "Dv"))
            return p->dim;
        return -1;
    case BENCH_SOFTMAX: /* as the library: rows = outer * inner */
        if (!strcmp(name, "rows"))
            return p->rows * (p->inner ? p->inner : 1);
        if (!strcmp(name, "n"))
            return p->n;
        return -1;
    }
    return -1;
}

int tune_task_shape(const seqk_tunable *t, const bench_problem *p,
                    int64_t *shape)
{
    int takes;
    switch (p->kind) {
    case BENCH_GEMM:
        takes = id_op_is(t, "gemm"); /* bench problems call Gemm */
        break;
    case BENCH_LSTM:
    case BENCH_GRU:
    case BENCH_RNN:
        takes = id_op_is(t, "rnn") || id_op_is(t, "rnn_layer");
        break;
    case BENCH_ATTENTION:
        takes = id_op_is(t, "attention");
        break;
    case BENCH_SEQATTN:
        takes = id_op_is(t, "seq_attention");
        break;
    case BENCH_SOFTMAX:
        takes = id_op_is(t, "softmax");
        break;
    default:
        takes = 0;
        break;
    }
    if (!takes || t->num_shape > SEQK_TUNE_MAX_SHAPE)
        return -1;
    for (int i = 0; i < t->num_shape; i++)
        if ((shape[i] = problem_dim(p, t->shape_names[i])) < 0)
            return -1;
    return 0;
}

/* The recurrent GEMMs of one step of an RNN layer on OpenCL, as GEMM
 * descriptors: h [B, H] . R^T, the calls cl_rnn.c's recurrent() makes
 * (N = G*H; GRU with linear_before_reset = 0 makes two, N = 2H and H).
 * They run once per step, so a layer's time is mostly theirs (or
 * launches): the tuner tunes them with the layer.  Returns the count. */
static int rnn_step_gemms(const bench_problem *p, char descs[2][128])
{
    const int64_t B = p->batch, H = p->hidden;
    const int lbr0 = p->kind == BENCH_GRU && !p->lbr;
    const int64_t n[2] = {lbr0 ? 2 * H : bench_gates_of(p->kind) * H, H};
    const int count = lbr0 ? 2 : 1;
    for (int i = 0; i < count; i++)
        snprintf(descs[i], 128, "gemm:m=%lld,n=%lld,k=%lld,transb=1",
                 (long long)B, (long long)n[i], (long long)H);
    return count;
}

/* Appends the tasks of problem desc (parsed as p) to *tasks; only
 * tunables whose id is in only[] when only is not NULL.  Returns 0 or -1
 * (out of memory). */
static int add_tasks(const char *spec, const char *desc,
                     const bench_problem *p, const char *const *only,
                     tune_task **tasks, int *count, int *cap)
{
    if (strlen(desc) >= sizeof(*tasks)[0].desc) {
        fprintf(stderr, "seqk tune: problem \"%s\" is too long to tune "
                "(at most %zu characters)\n", desc,
                sizeof(*tasks)[0].desc - 1);
        return 0;
    }
    const seqk_tunable *const *all = seqk__tunable_list();
    for (int j = 0; all[j]; j++) {
        const seqk_tunable *t = all[j];
        tune_task k;
        memset(&k, 0, sizeof k);
        int listed = !only;
        for (int o = 0; only && only[o] && !listed; o++)
            listed = !strcmp(only[o], t->id);
        if (!listed || !tune_tunable_applies(t, spec) ||
            tune_task_shape(t, p, k.shape))
            continue;
        k.t = t;
        memcpy(k.desc, desc, strlen(desc) + 1);
        seqk__tune_bucket(t->num_shape, k.shape, k.bucket);
        int len = snprintf(k.key, sizeof k.key, "%s@", t->id);
        for (int d = 0; d < t->num_shape && len < (int)sizeof k.key; d++)
            len += snprintf(k.key + len, sizeof k.key - (size_t)len,
                            "%s%d", d ? "," : "", k.bucket[d]);
        int dup = 0;
        for (int q = 0; q < *count && !dup; q++)
            dup = !strcmp((*tasks)[q].key, k.key);
        if (dup)
            continue;
        if (*count == *cap) {
            tune_task *nt = realloc(*tasks, (size_t)(*cap * 2) * sizeof *nt);
            if (!nt)
                return -1;
            *tasks = nt;
            *cap *= 2;
        }
        (*tasks)[(*count)++] = k;
    }
    return 0;
}

int tune_build_tasks(const char *spec, const char *const *descs, int n,
                     unsigned kinds, tune_task **out)
{
    /* the kernel a step's A . B^T runs under the rule, and the path */
    static const char *const step_gemm_tunables[] = {
        "opencl.gemm.direct", "opencl.gemm.path", NULL};
    int count = 0, cap = 16;
    tune_task *tasks = malloc((size_t)cap * sizeof *tasks);
    *out = NULL;
    if (!tasks)
        return -1;
    for (int i = 0; i < n; i++) {
        bench_problem p;
        char err[200];
        if (bench_parse(descs[i], &p, err, sizeof err) ||
            !(kinds & (1u << p.kind)))
            continue;
        if (add_tasks(spec, descs[i], &p, NULL, &tasks, &count, &cap))
            goto oom;
        if ((p.kind != BENCH_LSTM && p.kind != BENCH_GRU &&
             p.kind != BENCH_RNN) || strncmp(spec, "opencl", 6))
            continue;
        char gemm[2][128];
        const int ng = rnn_step_gemms(&p, gemm);
        for (int g = 0; g < ng; g++) {
            bench_problem gp;
            if (!bench_parse(gemm[g], &gp, err, sizeof err) &&
                add_tasks(spec, gemm[g], &gp, step_gemm_tunables, &tasks,
                          &count, &cap))
                goto oom;
        }
    }
    *out = tasks;
    return count;
oom:
    free(tasks);
    return -1;
}

/* ----------------------------------------------------------- journal */

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void tune_journal_path(const char *db_path, const seqk_tune_fp *fp,
                       const char *args, char *buf, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const char *fields[] = {fp->backend, fp->vendor, fp->device, fp->driver,
                            fp->platform, fp->isa, args};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        h = fnv(h, fields[i], strlen(fields[i]) + 1);
    const int64_t nums[] = {fp->compute_units, fp->local_mem, fp->cpu_family,
                            fp->cpu_model, fp->l1d, fp->l2, fp->l3};
    h = fnv(h, nums, sizeof nums);
    snprintf(buf, len, "%s.journal-%016llx", db_path, (unsigned long long)h);
}

static int parse_line(char *s, tune_journal_line *l)
{
    memset(l, 0, sizeof *l);
    char *save = NULL;
    char *tok = strtok_r(s, " \n", &save);
    if (!tok)
        return -1;
    const int done = !strcmp(tok, "d");
    if (!done && strcmp(tok, "c"))
        return -1;
    tok = strtok_r(NULL, " \n", &save);
    if (!tok || strlen(tok) >= sizeof l->key)
        return -1;
    snprintf(l->key, sizeof l->key, "%s", tok);
    l->done = done;
    if (done)
        return strtok_r(NULL, " \n", &save) ? -1 : 0;
    char *o = strtok_r(NULL, " \n", &save);
    char *med = strtok_r(NULL, " \n", &save);
    char *mn = strtok_r(NULL, " \n", &save);
    char *np = strtok_r(NULL, " \n", &save);
    if (!o || !med || !mn || !np)
        return -1;
    int oc = seqk__tune_outcome_from_name(o);
    char *end;
    l->r.median_ms = strtod(med, &end);
    if (oc < 0 || *end)
        return -1;
    l->r.min_ms = strtod(mn, &end);
    if (*end)
        return -1;
    l->r.outcome = (seqk_tune_outcome)oc;
    long n = strtol(np, &end, 10);
    if (*end || n < 0 || n > SEQK_TUNE_MAX_PARAMS)
        return -1;
    l->num_values = (int)n;
    for (int i = 0; i < n; i++) {
        tok = strtok_r(NULL, " \n", &save);
        if (!tok)
            return -1;
        long v = strtol(tok, &end, 10);
        if (*end || v < -2147483647L || v > 2147483647L)
            return -1;
        l->values[i] = (int)v;
    }
    return strtok_r(NULL, " \n", &save) ? -1 : 0;
}

int tune_journal_read(const char *path, tune_journal_line **lines)
{
    *lines = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int n = 0, cap = 0;
    char buf[512];
    while (fgets(buf, sizeof buf, f)) {
        if (!strchr(buf, '\n'))
            break; /* torn (interrupted) or overlong line: stop here */
        tune_journal_line l;
        if (parse_line(buf, &l))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            tune_journal_line *nl = realloc(*lines, (size_t)cap * sizeof *nl);
            if (!nl)
                break;
            *lines = nl;
        }
        (*lines)[n++] = l;
    }
    fclose(f);
    return n;
}

int tune_journal_append(FILE *f, const tune_journal_line *l)
{
    if (l->done) {
        fprintf(f, "d %s\n", l->key);
    } else {
        fprintf(f, "c %s %s %.6f %.6f %d", l->key,
                seqk__tune_outcome_name(l->r.outcome), l->r.median_ms,
                l->r.min_ms, l->num_values);
        for (int i = 0; i < l->num_values; i++)
            fprintf(f, " %d", l->values[i]);
        fputc('\n', f);
    }
    if (fflush(f) || fsync(fileno(f)))
        return -1;
    return 0;
}
