/*
 * cmd_tune.c — `seqk tune`: measures the library's tunable kernels on
 * this machine's devices and records the best values per device and
 * shape bucket in the tuning database (src/tune/db.h); --show, --export,
 * --import, --check and --reset manage that database.
 *
 * Per device: the tasks (tune_tasks.c: one per tunable and shape bucket
 * of the suite's problems), smallest search spaces first, each given an
 * equal share of what is left of the budget; per task the legal space
 * (search.c), searched fixed set first, then local search and
 * random sampling; every
 * candidate measured by a worker process (tune_worker.c) under a
 * watchdog; the defaults and the leaders re-timed in interleaved rounds
 * before one is chosen.  Every measured candidate goes to a journal next to the
 * database, so a re-run with the same arguments resumes; the journal is
 * removed when the device is done.  An entry is written (under the
 * database lock, merged with what others wrote) for every task whose
 * defaults measured: the best candidate when it beat the defaults,
 * measured in the same run, by --min-gain, else the defaults themselves
 * (speedup 1: the lookup then keeps the defaults in that bucket rather
 * than borrow a neighbouring bucket's winner).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tune_tool.h"

#define MAX_PROBLEMS 64

typedef enum tune_mode {
    MODE_TUNE, MODE_SHOW, MODE_EXPORT, MODE_IMPORT, MODE_CHECK, MODE_RESET
} tune_mode;

typedef struct tune_args {
    tune_mode mode;
    const char *file;
    const char *devices[MAX_DEVICES];
    int ndev;
    unsigned kinds;
    int softmax;
    double budget, timeout, min_gain;
    unsigned long long seed;
    const char *problems[MAX_PROBLEMS];
    int nprob;
    char db[1024];
} tune_args;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: seqk tune [--device SPEC]... [--ops LIST] [--budget S]\n"
        "                 [--db PATH] [--suite NAME | --problem DESC...]\n"
        "       seqk tune --show | --export FILE | --import FILE |\n"
        "                 --check [FILE] | --reset      [--db PATH]\n"
        "\n"
        "Measures the library's kernel variants on this machine and records\n"
        "the best per device and shape bucket in the tuning database.\n"
        "\n"
        "  --device SPEC   a device (repeatable); default: the best CPU\n"
        "                  backend, every OpenCL device of `seqk info`\n"
        "                  and, when there is one, `auto` (which device\n"
        "                  an auto context runs each op and shape on).\n"
        "                  A device named twice (or cpu and the backend\n"
        "                  it resolves to) is tuned once.\n"
        "  --ops LIST      gemm,lstm,gru,rnn,attention,seqattn,softmax\n"
        "                  (default: all)\n"
        "  --budget S      seconds per device (default 180: with no\n"
        "                  --device, a CPU and one OpenCL device take\n"
        "                  3 x 180 s including auto)\n"
        "  --threads N     threads of the measured contexts (as\n"
        "                  SEQK_NUM_THREADS; 0: the library default)\n"
        "  --db PATH       database (default $SEQK_TUNING_DB, else\n"
        "                  $XDG_CACHE_HOME/seqk/tuning.json)\n"
        "  --suite NAME    the problems whose shapes are tuned (%s;\n"
        "                  default deepbench)\n"
        "  --problem DESC  tune this problem instead (repeatable), e.g.\n"
        "                  gemm:m=256,n=64,k=512\n"
        "  --seed N        search seed (default 1)\n"
        "  --timeout S     watchdog per candidate (default 60)\n"
        "  --min-gain PCT  record only when this much faster than the\n"
        "                  defaults (default 3; -100 records the best even\n"
        "                  if it is the defaults, for testing)\n"
        "  --show          what is stored for this machine's devices\n"
        "  --export FILE   write this machine's entries to FILE\n"
        "  --import FILE   merge FILE's entries for this machine\n"
        "  --check [FILE]  validate a database file (default: the database;\n"
        "                  no database yet is an empty one, as for --show)\n"
        "  --reset         remove this machine's entries\n"
        "\n"
        "An interrupted run resumes when re-run with the same arguments\n"
        "(journal <db>.journal-*).\n"
        "\n"
        "exit status: 0 success, 1 failure, 2 usage error (incl. a device\n"
        "spec naming no usable device), 130 interrupted\n",
        bench_suite_names());
}

/* --------------------------------------------------------- measuring */

typedef struct task_run {
    const tune_args *a;
    const tune_task *task;
    int index, ntasks;
    tune_worker *w;
    const char *self;
    long *seq;
    FILE *journal;
    double dev_start, dev_deadline;
    int tty;
    const char *spec;
} task_run;

static void format_values(const seqk_tunable *t, const int *v, char *buf,
                          size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->num_params && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s=%d", i ? " " : "",
                              t->params[i].name, v[i]);
}

static void progress(const task_run *tr, const char *line)
{
    const double now = now_s();
    if (!tr->tty) {
        fprintf(stderr, "tune %s [%d/%d] %s\n", tr->spec, tr->index + 1,
                tr->ntasks, line);
        return;
    }
    const double total = tr->dev_deadline - tr->dev_start;
    double frac = total > 0 ? (now - tr->dev_start) / total : 1.0;
    frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
    char bar[31];
    for (int i = 0; i < 30; i++)
        bar[i] = i < (int)(frac * 30) ? '#' : '.';
    bar[30] = '\0';
    const double eta = tr->dev_deadline - now > 0 ? tr->dev_deadline - now
                                                  : 0;
    fprintf(stderr, "\r\033[K%s [%s] %3.0f%% ETA %dm%02ds task %d/%d %.60s",
            tr->spec, bar, frac * 100, (int)eta / 60, (int)eta % 60,
            tr->index + 1, tr->ntasks, line);
    fflush(stderr);
}

static double clock_fn(void *user)
{
    (void)user;
    return now_s();
}

static int measure_fn(void *user, int index, const int *values,
                      seqk_tune_result *r)
{
    task_run *tr = user;
    const seqk_tunable *t = tr->task->t;
    char msg[512], vals[256], line[900];
    (void)index;
    if (!tr->w->pid) {
        char err[300];
        if (tune_worker_start(tr->w, tr->self, tr->spec, tr->a->db, err,
                              sizeof err)) {
            fprintf(stderr, "seqk tune: %s\n", err);
            r->outcome = SEQK_TUNE_CRASH;
            return 1;
        }
    }
    tune_worker_measure(tr->w, (*tr->seq)++, tr->task->desc, t, values,
                        tr->a->timeout, r, msg, sizeof msg);
    if (interrupted)
        return 1; /* the worker saw the signal too: not the candidate's */
    format_values(t, values, vals, sizeof vals);
    if (r->outcome == SEQK_TUNE_OK)
        snprintf(line, sizeof line, "%s %s: %.4f ms", t->id, vals,
                 r->median_ms);
    else
        snprintf(line, sizeof line, "%s %s: %s (%s)", t->id, vals,
                 seqk__tune_outcome_name(r->outcome), msg);
    progress(tr, line);
    tune_journal_line l;
    memset(&l, 0, sizeof l);
    snprintf(l.key, sizeof l.key, "%s", tr->task->key);
    l.r = *r;
    l.num_values = t->num_params;
    memcpy(l.values, values, (size_t)t->num_params * sizeof *values);
    if (tr->journal && tune_journal_append(tr->journal, &l))
        fprintf(stderr, "seqk tune: cannot write the journal: %s\n",
                strerror(errno));
    return 0;
}

/* The entry for the best point of a finished task. */
static void make_entry(const seqk_tune_fp *fp, const tune_task *k,
                       const int *v, const seqk_tune_result *best,
                       double default_ms, seqk_tune_entry *e)
{
    const seqk_tunable *t = k->t;
    memset(e, 0, sizeof *e);
    e->fp = *fp;
    snprintf(e->kernel, sizeof e->kernel, "%s", t->id);
    seqk__tunable_hash(t, e->source_hash);
    snprintf(e->dtype, sizeof e->dtype, "f32");
    e->num_shape = t->num_shape;
    memcpy(e->bucket, k->bucket, sizeof e->bucket);
    e->num_params = t->num_params;
    for (int i = 0; i < t->num_params; i++) {
        snprintf(e->names[i], sizeof e->names[i], "%s", t->params[i].name);
        e->values[i] = v[i];
    }
    e->median_ms = best->median_ms;
    e->min_ms = best->min_ms;
    e->default_ms = default_ms;
    snprintf(e->tuner_version, sizeof e->tuner_version, "%s",
             SEQK_TUNER_VERSION);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(e->date, sizeof e->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Re-times the defaults and the CONFIRM_TOP fastest other candidates in
 * interleaved rounds (CONFIRM_ROUNDS at most, until the deadline), so
 * that they are compared under the same load: on a shared machine the
 * load changes from second to second, and a candidate measured once in a
 * quiet moment would beat defaults measured in a busy one.  Each pick's
 * result becomes the median (and min) of its confirmation runs; only the
 * picks that beat the defaults by --min-gain in every round can be the
 * best afterwards.  Returns the complete rounds. */
#define CONFIRM_TOP 3
/* 5 rounds: with 3, a 0.17 ms GEMM whose config left a core idle won
 * every round in the tuner and ran at 0.65x in seqk bench; short kernels
 * afford more rounds, long ones stop at the deadline (2 at least). */
#define CONFIRM_ROUNDS 5
#define CONFIRM_MIN_ROUNDS 2
static int confirm(task_run *tr, seqk_tune_search *s, double deadline)
{
    int pick[CONFIRM_TOP + 1], n = 0, rounds = 0;
    double med[CONFIRM_TOP + 1][CONFIRM_ROUNDS];
    double mins[CONFIRM_TOP + 1];
    int ok[CONFIRM_TOP + 1];
    const int d = s->default_index;
    if (d < 0 || !s->measured[d] || s->results[d].outcome != SEQK_TUNE_OK)
        return 0;
    pick[n++] = d;
    for (int k = 0; k < CONFIRM_TOP; k++) {
        int b = -1;
        for (int i = 0; i < s->sp->num_points; i++) {
            int taken = 0;
            for (int j = 0; j < n; j++)
                taken |= pick[j] == i;
            if (!taken && s->measured[i] &&
                s->results[i].outcome == SEQK_TUNE_OK &&
                (b < 0 || s->results[i].median_ms < s->results[b].median_ms))
                b = i;
        }
        if (b < 0)
            break;
        pick[n++] = b;
    }
    if (n < 2)
        return 0;
    for (int j = 0; j < n; j++) {
        ok[j] = 1;
        mins[j] = INFINITY;
    }
    for (int round = 0; round < CONFIRM_ROUNDS; round++) {
        for (int j = 0; j < n; j++) {
            if (now_s() >= deadline || interrupted)
                goto out;
            seqk_tune_result r;
            char msg[512];
            if (!tr->w->pid) {
                char err[300];
                if (tune_worker_start(tr->w, tr->self, tr->spec, tr->a->db,
                                      err, sizeof err))
                    goto out;
            }
            tune_worker_measure(tr->w, (*tr->seq)++, tr->task->desc,
                                tr->task->t,
                                seqk__tune_space_point(s->sp, pick[j]),
                                tr->a->timeout, &r, msg, sizeof msg);
            if (interrupted)
                goto out;
            if (r.outcome != SEQK_TUNE_OK) {
                /* failed on a second try: flaky, never chosen */
                ok[j] = 0;
                s->results[pick[j]] = r;
                continue;
            }
            med[j][round] = r.median_ms;
            mins[j] = r.min_ms < mins[j] ? r.min_ms : mins[j];
        }
        rounds++;
    }
out:
    if (rounds == 0)
        return 0;
    /* A winner must beat the defaults in every round, not only in the
     * median: on a loaded machine a 2-3 round median still lets noise win
     * (measured: a 50 us GEMM "1.35x faster" that was 0.6x in seqk bench). */
    if (ok[0] && tr->a->min_gain > -100.0) {
        const double need = 1.0 + tr->a->min_gain / 100.0;
        for (int j = 1; j < n; j++)
            for (int r = 0; r < rounds && ok[j]; r++)
                if (med[j][r] * need >= med[0][r])
                    ok[j] = 0;
    }
    s->best = -1;
    for (int j = 0; j < n; j++) {
        if (!ok[j])
            continue;
        /* median of the rounds (insertion sort of at most 5) */
        double v[CONFIRM_ROUNDS];
        for (int r = 0; r < rounds; r++) {
            int q = r;
            while (q > 0 && v[q - 1] > med[j][r]) {
                v[q] = v[q - 1];
                q--;
            }
            v[q] = med[j][r];
        }
        seqk_tune_result *res = &s->results[pick[j]];
        res->median_ms = rounds % 2 ? v[rounds / 2]
                                    : 0.5 * (v[rounds / 2 - 1] +
                                             v[rounds / 2]);
        res->min_ms = mins[j];
        if (s->best < 0 || res->median_ms < s->results[s->best].median_ms)
            s->best = pick[j];
    }
    return rounds;
}

/* Runs one task; returns 0 when it ran its course (not interrupted). */
static int run_task(task_run *tr, const seqk_tune_fp *fp,
                    const seqk_tune_limits *lim,
                    const tune_journal_line *jl, int njl, double deadline)
{
    const tune_task *k = tr->task;
    seqk_tune_space sp;
    seqk_tune_search s;
    int status = -1;
    if (seqk__tune_space_build(k->t, lim, k->shape, 0, &sp)) {
        fprintf(stderr, "seqk tune: out of memory\n");
        return -1;
    }
    uint64_t seed = tr->a->seed;
    for (const char *c = k->key; *c; c++)
        seed = seed * 31 + (unsigned char)*c;
    if (seqk__tune_search_init(&s, &sp, seed)) {
        seqk__tune_space_free(&sp);
        fprintf(stderr, "seqk tune: out of memory\n");
        return -1;
    }
    int resumed = 0;
    for (int i = 0; i < njl; i++) {
        if (jl[i].done || strcmp(jl[i].key, k->key) ||
            jl[i].num_values != k->t->num_params)
            continue;
        int p = seqk__tune_space_find(&sp, jl[i].values);
        if (p >= 0 && !s.measured[p]) {
            seqk__tune_search_report(&s, p, &jl[i].r);
            resumed++;
        }
    }
    char head[300];
    snprintf(head, sizeof head, "%s on %s (bucket %s): %d legal points%s",
             k->t->id, k->desc, strchr(k->key, '@') + 1, sp.num_points,
             resumed ? ", resumed" : "");
    progress(tr, head);
    /* the last quarter of the share re-times the leaders (below) */
    const double start = now_s();
    seqk__tune_search_run(&s, measure_fn, tr, clock_fn, NULL,
                         start + 0.6 * (deadline - start));
    if (interrupted)
        goto done;
    status = 0;
    const int rounds = confirm(tr, &s, deadline);
    if (interrupted) {
        status = -1;
        goto done;
    }

    const int d = s.default_index, b = seqk_tune_search_best(&s);
    char vals[256], line[512];
    if (d < 0 || !s.measured[d] || s.results[d].outcome != SEQK_TUNE_OK) {
        snprintf(line, sizeof line, "%s: the defaults did not measure; "
                 "nothing recorded", k->t->id);
    } else if (b != d && b >= 0 && rounds < CONFIRM_MIN_ROUNDS) {
        snprintf(line, sizeof line, "%s: defaults kept (%d measured; no "
                 "time left to confirm a winner)", k->t->id, s.num_measured);
    } else {
        /* A winner, or the defaults: recorded as well, so that this
         * bucket keeps its defaults instead of a neighbour's winner. */
        const int keep = b < 0 || (b == d && tr->a->min_gain > -100.0) ||
                         s.results[b].median_ms *
                                 (1.0 + tr->a->min_gain / 100.0) >=
                             s.results[d].median_ms;
        const int w = keep ? d : b;
        seqk_tune_entry e;
        char msg[512];
        make_entry(fp, k, seqk__tune_space_point(&sp, w), &s.results[w],
                   s.results[d].median_ms, &e);
        format_values(k->t, e.values, vals, sizeof vals);
        if (seqk__tune_db_update(tr->a->db, &e, 1, msg, sizeof msg) !=
            SEQK_OK) {
            fprintf(stderr, "%sseqk tune: %s: %s\n", tr->tty ? "\n" : "",
                    tr->a->db, msg);
            status = -1;
            goto done;
        }
        if (msg[0]) /* e.g. an unusable database moved aside */
            fprintf(stderr, "%sseqk tune: %s\n", tr->tty ? "\n" : "", msg);
        if (keep)
            snprintf(line, sizeof line, "%s: defaults kept (%.4f ms; %d "
                     "measured): recorded as this bucket's best", k->t->id,
                     s.results[d].median_ms, s.num_measured);
        else
            snprintf(line, sizeof line, "%s: %s %.4f ms, %.2fx over the "
                     "defaults (%.4f ms; %d measured): recorded", k->t->id,
                     vals, e.median_ms, seqk__tune_entry_speedup(&e),
                     e.default_ms, s.num_measured);
    }
    if (tr->tty)
        fprintf(stderr, "\r\033[K");
    fprintf(stderr, "tune %s [%d/%d] %s\n", tr->spec, tr->index + 1,
            tr->ntasks, line);
done:
    seqk__tune_search_free(&s);
    seqk__tune_space_free(&sp);
    return status;
}

/* Smallest legal spaces first: they finish inside their share and hand
 * what is left to the large ones (a GEMM's tiled space uses whatever it
 * gets; an RNN step variant needs a few seconds, and as the last of 56
 * tasks under the default budget it got too little to confirm a winner).
 * Stable, so the order and the journal of a resumed run are the same. */
static void order_tasks(tune_task *tasks, int n, const seqk_tune_limits *lim)
{
    int *size = malloc((size_t)n * sizeof *size);
    if (!size)
        return; /* keep the suite's order */
    for (int i = 0; i < n; i++) {
        seqk_tune_space sp;
        size[i] = INT_MAX;
        if (!seqk__tune_space_build(tasks[i].t, lim, tasks[i].shape, 0, &sp)) {
            size[i] = sp.num_points;
            seqk__tune_space_free(&sp);
        }
    }
    for (int i = 1; i < n; i++) {
        const tune_task k = tasks[i];
        const int z = size[i];
        int j = i;
        for (; j > 0 && size[j - 1] > z; j--) {
            tasks[j] = tasks[j - 1];
            size[j] = size[j - 1];
        }
        tasks[j] = k;
        size[j] = z;
    }
    free(size);
}

static int tune_device(const tune_args *a, const char *spec,
                       const char *self)
{
    seqk_tune_fp fp;
    seqk_tune_limits lim;
    tune_task *tasks = NULL;
    tune_journal_line *jl = NULL;
    FILE *journal = NULL;
    int rc = 1, njl = 0;
    if (tune_device_facts(spec, &fp, &lim))
        return 1;
    const char *const *descs = a->nprob ? a->problems
                                        : bench_suite("deepbench");
    int n = 0;
    while (descs[n])
        n++;
    int ntasks = tune_build_tasks(spec, descs, n, a->kinds, &tasks);
    if (ntasks < 0) {
        fprintf(stderr, "seqk tune: out of memory\n");
        return 1;
    }
    if (ntasks == 0) {
        fprintf(stderr, "tune %s: no tunable kernel for the selected ops "
                "on this device\n", spec);
        free(tasks);
        return 0;
    }
    order_tasks(tasks, ntasks, &lim);
    /* the journal is specific to what this run searches */
    char args[4096], jpath[1200];
    int len = snprintf(args, sizeof args, "%s|%llu", spec, a->seed);
    for (int i = 0; i < ntasks && len < (int)sizeof args; i++)
        len += snprintf(args + len, sizeof args - (size_t)len, "|%s %s",
                        tasks[i].key, tasks[i].desc);
    tune_journal_path(a->db, &fp, args, jpath, sizeof jpath);
    njl = tune_journal_read(jpath, &jl);
    if (njl > 0)
        fprintf(stderr, "tune %s: resuming from %s (%d lines)\n", spec,
                jpath, njl);
    journal = fopen(jpath, "a");
    if (!journal) {
        fprintf(stderr, "seqk tune: cannot write the journal %s: %s\n",
                jpath, strerror(errno));
        goto cleanup;
    }

    tune_worker w;
    memset(&w, 0, sizeof w);
    long seq = 0;
    task_run tr = {.a = a, .ntasks = ntasks, .w = &w, .self = self,
                   .seq = &seq, .journal = journal, .tty = isatty(2),
                   .spec = spec};
    tr.dev_start = now_s();
    tr.dev_deadline = tr.dev_start + a->budget;
    int left = 0, failed = 0;
    for (int i = 0; i < ntasks; i++) {
        int done = 0;
        for (int j = 0; j < njl && !done; j++)
            done = jl[j].done && !strcmp(jl[j].key, tasks[i].key);
        left += !done;
    }
    fprintf(stderr, "tune %s: %d tasks, budget %.0f s\n", spec, ntasks,
            a->budget);
    for (int i = 0; i < ntasks && !interrupted; i++) {
        int done = 0;
        for (int j = 0; j < njl && !done; j++)
            done = jl[j].done && !strcmp(jl[j].key, tasks[i].key);
        if (done)
            continue;
        tr.index = i;
        tr.task = &tasks[i];
        const double now = now_s();
        double share = (tr.dev_deadline - now) / left--;
        if (run_task(&tr, &fp, &lim, jl, njl, now + (share > 0 ? share : 0))) {
            failed = 1;
            if (!interrupted)
                continue;
            break;
        }
        tune_journal_line dl;
        memset(&dl, 0, sizeof dl);
        dl.done = 1;
        snprintf(dl.key, sizeof dl.key, "%s", tasks[i].key);
        tune_journal_append(journal, &dl);
    }
    tune_worker_stop(&w);
    fclose(journal);
    journal = NULL;
    if (interrupted) {
        fprintf(stderr, "%stune %s: interrupted; re-run with the same "
                "arguments to resume (%s)\n", tr.tty ? "\n" : "", spec,
                jpath);
        goto cleanup;
    }
    if (!failed)
        unlink(jpath);
    fprintf(stderr, "tune %s: done in %.1f s\n", spec,
            now_s() - tr.dev_start);
    rc = failed;
cleanup:
    if (journal)
        fclose(journal);
    free(jl);
    free(tasks);
    return rc;
}

/* ------------------------------------------------------------- main */

static int number(const char *opt, const char *s, double lo, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= lo) || !isfinite(v)) {
        fprintf(stderr, "seqk tune: %s needs a number >= %g, not '%s'\n",
                opt, lo, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, tune_args *a)
{
    int modes = 0;
    const char *ops = "gemm,lstm,gru,rnn,attention,seqattn,softmax";
    const char *suite = NULL, *db = NULL;
    memset(a, 0, sizeof *a);
    a->budget = 180.0;
    a->timeout = 60.0;
    a->min_gain = 3.0;
    a->seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        int takes = !strcmp(o, "--device") || !strcmp(o, "--ops") ||
                    !strcmp(o, "--budget") || !strcmp(o, "--db") ||
                    !strcmp(o, "--suite") || !strcmp(o, "--problem") ||
                    !strcmp(o, "--seed") || !strcmp(o, "--timeout") ||
                    !strcmp(o, "--min-gain") || !strcmp(o, "--export") ||
                    !strcmp(o, "--import");
        if (takes && !v) {
            fprintf(stderr, "seqk tune: %s needs a value\n", o);
            return -1;
        }
        if (!strcmp(o, "--device")) {
            if (a->ndev == MAX_DEVICES) {
                fprintf(stderr, "seqk tune: too many --device\n");
                return -1;
            }
            a->devices[a->ndev++] = v;
        } else if (!strcmp(o, "--ops")) {
            ops = v;
        } else if (!strcmp(o, "--budget")) {
            if (number(o, v, 0.0, &a->budget))
                return -1;
        } else if (!strcmp(o, "--timeout")) {
            if (number(o, v, 0.1, &a->timeout))
                return -1;
        } else if (!strcmp(o, "--min-gain")) {
            if (number(o, v, -100.0, &a->min_gain))
                return -1;
        } else if (!strcmp(o, "--seed")) {
            if (number(o, v, 0.0, &d))
                return -1;
            a->seed = (unsigned long long)d;
        } else if (!strcmp(o, "--db")) {
            db = v;
        } else if (!strcmp(o, "--suite")) {
            suite = v;
        } else if (!strcmp(o, "--problem")) {
            bench_problem p;
            char err[200];
            if (bench_parse(v, &p, err, sizeof err)) {
                fprintf(stderr, "seqk tune: --problem %s: %s\n", v, err);
                return -1;
            }
            if (a->nprob == MAX_PROBLEMS - 1) {
                fprintf(stderr, "seqk tune: too many --problem\n");
                return -1;
            }
            a->problems[a->nprob++] = v;
        } else if (!strcmp(o, "--show") || !strcmp(o, "--reset")) {
            a->mode = o[2] == 's' ? MODE_SHOW : MODE_RESET;
            modes++;
            continue;
        } else if (!strcmp(o, "--export") || !strcmp(o, "--import")) {
            a->mode = o[2] == 'e' ? MODE_EXPORT : MODE_IMPORT;
            a->file = v;
            modes++;
        } else if (!strcmp(o, "--check")) {
            a->mode = MODE_CHECK;
            modes++;
            if (v && strncmp(v, "--", 2)) {
                a->file = v;
                i++;
            }
            continue;
        } else {
            fprintf(stderr, "seqk tune: unknown option '%s' (try seqk tune "
                    "--help)\n", o);
            return -1;
        }
        i++;
    }
    char err[300];
    if (modes > 1) {
        fprintf(stderr, "seqk tune: --show, --export, --import, --check and "
                "--reset exclude each other\n");
        return -1;
    }
    if (tune_parse_ops(ops, &a->kinds, &a->softmax, err, sizeof err)) {
        fprintf(stderr, "seqk tune: %s\n", err);
        return -1;
    }
    if (suite && a->nprob) {
        fprintf(stderr, "seqk tune: --suite and --problem exclude each "
                "other\n");
        return -1;
    }
    if (suite) {
        const char *const *s = bench_suite(suite);
        if (!s) {
            fprintf(stderr, "seqk tune: unknown suite '%s' (%s)\n", suite,
                    bench_suite_names());
            return -1;
        }
        while (*s && a->nprob < MAX_PROBLEMS - 1)
            a->problems[a->nprob++] = *s++;
    }
    if (db) {
        snprintf(a->db, sizeof a->db, "%s", db);
    } else {
        seqk__tune_db_path(NULL, a->db, sizeof a->db);
        if (!a->db[0]) {
            fprintf(stderr, "seqk tune: no database path: set --db, "
                    "$SEQK_TUNING_DB, $XDG_CACHE_HOME or $HOME\n");
            return -1;
        }
    }
    return 0;
}

int seqk_tune_command(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--worker"))
            return tune_worker_main(argc, argv);
    }
    tune_args a;
    if (parse_args(argc, argv, &a))
        return 2;
    switch (a.mode) {
    case MODE_SHOW:
        return tune_cmd_show(a.db);
    case MODE_EXPORT:
    case MODE_IMPORT:
        return tune_cmd_export_import(a.db, a.file, a.mode == MODE_IMPORT);
    case MODE_CHECK:
        return tune_cmd_check(a.db, a.file);
    case MODE_RESET:
        return tune_cmd_reset(a.db);
    case MODE_TUNE:
        break;
    }
    /* The worker is this binary, started again.  SEQK_TUNE_WORKER names
     * another program to start instead (a wrapper, e.g. under an
     * emulator, where the kernel cannot exec this binary directly). */
    char self[4096];
    const char *wk = getenv("SEQK_TUNE_WORKER");
    ssize_t n = wk && *wk ? (ssize_t)snprintf(self, sizeof self, "%s", wk)
                          : readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || (size_t)n >= sizeof self) {
        fprintf(stderr, "seqk tune: cannot find the seqk binary "
                "(/proc/self/exe)\n");
        return 1;
    }
    self[n] = '\0';
    char specs[MAX_DEVICES][32];
    int ndev = a.ndev;
    for (int i = 0; i < a.ndev; i++)
        snprintf(specs[i], 32, "%s", a.devices[i]);
    if (!ndev)
        ndev = tune_default_devices(specs, MAX_DEVICES, 0, 0);
    int urc = tune_unique_devices(specs, &ndev);
    if (urc)
        return urc;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int rc = 0;
    for (int i = 0; i < ndev && !interrupted; i++) {
        if (!strcmp(specs[i], "ref")) {
            fprintf(stderr, "tune ref: the reference backend has nothing "
                    "to tune\n");
            continue;
        }
        rc |= tune_device(&a, specs[i], self);
    }
    return interrupted ? 130 : rc;
}
