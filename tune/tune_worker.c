/*
 * tune_worker.c — the process that measures candidates for `seqk tune`
 * (fork + exec of the seqk binary itself, `seqk tune --worker`), and the
 * parent's side of it: the pipes and the watchdog.
 *
 * Why a process: a candidate may crash (a signal) or hang, and OpenCL
 * drivers do not survive fork() without exec (PoCL's threads are gone in
 * the child), so each worker is a fresh exec; the parent kills it on a
 * timeout and starts another after a crash.
 *
 * A measurement (library code throughout, through the public API):
 *   1. the tuner override for the tunable (seqk__tune_override), so the
 *      library's own code path runs with the candidate values;
 *   2. one run, checked against the oracle: the reference backend on the
 *      same inputs, or for problems too large for it (> ORACLE_REF_FLOPS)
 *      the built-in defaults on the device (validated configurations);
 *      tolerance bench_tolerance() (scaled by the reduction lengths);
 *   3. timing: runs per sample so that a sample lasts >= SAMPLE_MS, the
 *      device synchronized before the clock stops, 3..MAX_SAMPLES
 *      samples; the median and the minimum per run.
 *
 * Test hooks (environment of `seqk tune`, inherited by the worker): with
 * SEQK_TUNE_TEST_CRASH=N the worker kills itself with SIGSEGV when asked
 * for candidate number N of the run (0: the first candidate measured),
 * SEQK_TUNE_TEST_HANG=N makes it sleep forever, SEQK_TUNE_TEST_WRONG=N
 * corrupts that candidate's output before verification.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tune_tool.h"

#define ORACLE_REF_FLOPS 4.0e9
#define SAMPLE_MS 2.0
#define MAX_SAMPLES 9
#define MIN_SAMPLES 3
#define SAMPLES_TOTAL_MS 200.0

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* ------------------------------------------------------------ worker */

typedef struct worker_state {
    seqk_context *ctx, *ref;
    char desc[128];
    bench_problem prob;
    bench_instance *inst;
    float *want;        /* the oracle's outputs */
    size_t count;
    double atol, rtol;
    const char *oracle; /* "ref" or "defaults" */
} worker_state;

static void drop_problem(worker_state *w)
{
    bench_destroy(w->inst);
    free(w->want);
    w->inst = NULL;
    w->want = NULL;
    w->desc[0] = '\0';
}

/* Sets up desc on the device and computes the oracle's outputs. */
static int load_problem(worker_state *w, const char *desc,
                        const seqk_tunable *t, char *msg, size_t len)
{
    if (!strcmp(w->desc, desc))
        return 0;
    drop_problem(w);
    /* the descriptor must outlive bench_problem.text */
    snprintf(w->desc, sizeof w->desc, "%s", desc);
    if (bench_parse(w->desc, &w->prob, msg, len))
        goto fail;
    bench_tolerance(&w->prob, &w->atol, &w->rtol);
    if (bench_setup(w->ctx, &w->prob, &w->inst, msg, len) != SEQK_OK)
        goto fail;
    if (bench_flops(&w->prob) <= ORACLE_REF_FLOPS) {
        bench_instance *ri = NULL;
        seqk_status st = bench_setup(w->ref, &w->prob, &ri, msg, len);
        if (st == SEQK_OK)
            st = bench_run(ri, msg, len);
        if (st == SEQK_OK)
            st = bench_read_outputs(ri, &w->want, &w->count, msg, len);
        bench_destroy(ri);
        w->oracle = "ref";
        if (st != SEQK_OK)
            goto fail;
    } else {
        int def[SEQK_TUNE_MAX_PARAMS];
        seqk__tunable_defaults(t, def);
        seqk_status st = seqk__tune_override(w->ctx, t->id, def);
        if (st == SEQK_OK)
            st = bench_run(w->inst, msg, len);
        if (st == SEQK_OK)
            st = bench_read_outputs(w->inst, &w->want, &w->count, msg, len);
        seqk__tune_override(w->ctx, t->id, NULL);
        w->oracle = "defaults";
        if (st != SEQK_OK)
            goto fail;
    }
    return 0;
fail:
    drop_problem(w);
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int env_is(const char *name, long seq)
{
    const char *v = getenv(name);
    return v && *v && strtol(v, NULL, 10) == seq;
}

/* Runs, verifies and times the current problem; the override is set. */
static seqk_tune_outcome measure(worker_state *w, long seq,
                                 seqk_tune_result *r, char *msg, size_t len)
{
    float *got = NULL;
    size_t count = 0;
    if (bench_run(w->inst, msg, len) != SEQK_OK ||
        bench_read_outputs(w->inst, &got, &count, msg, len) != SEQK_OK)
        return SEQK_TUNE_BUILD;
    if (env_is("SEQK_TUNE_TEST_WRONG", seq) && count > 0)
        got[0] += 1000.0f;
    seqk_tune_outcome o = SEQK_TUNE_OK;
    if (count != w->count) {
        snprintf(msg, len, "%zu outputs, the oracle has %zu", count,
                 w->count);
        o = SEQK_TUNE_WRONG;
    }
    for (size_t i = 0; i < count && o == SEQK_TUNE_OK; i++) {
        const double g = got[i], x = w->want[i];
        if (!(fabs(g - x) <= w->atol + w->rtol * fabs(x))) {
            snprintf(msg, len, "output %zu: %g, %s says %g", i, g, w->oracle,
                     x);
            o = SEQK_TUNE_WRONG;
        }
    }
    free(got);
    if (o != SEQK_TUNE_OK)
        return o;

    /* one timed run to size the samples */
    double t0 = now_ms();
    if (bench_run(w->inst, msg, len) != SEQK_OK ||
        seqk_context_synchronize(w->ctx) != SEQK_OK)
        return SEQK_TUNE_BUILD;
    const double est = now_ms() - t0;
    long reps = est >= SAMPLE_MS ? 1 : (long)ceil(SAMPLE_MS / (est + 1e-6));
    reps = reps > 100000 ? 100000 : reps;
    double samples[MAX_SAMPLES], total = 0.0;
    int n = 0;
    while (n < MAX_SAMPLES && (n < MIN_SAMPLES || total < SAMPLES_TOTAL_MS)) {
        t0 = now_ms();
        for (long i = 0; i < reps; i++)
            if (bench_run(w->inst, msg, len) != SEQK_OK)
                return SEQK_TUNE_BUILD;
        if (seqk_context_synchronize(w->ctx) != SEQK_OK) {
            snprintf(msg, len, "%s", seqk_last_error(w->ctx));
            return SEQK_TUNE_BUILD;
        }
        const double dt = now_ms() - t0;
        samples[n++] = dt / (double)reps;
        total += dt;
    }
    qsort(samples, (size_t)n, sizeof samples[0], cmp_double);
    r->median_ms = n % 2 ? samples[n / 2]
                         : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
    r->min_ms = samples[0];
    snprintf(msg, len, "verified against %s", w->oracle);
    return SEQK_TUNE_OK;
}

/* Handles one request line; writes the answer to out. */
static void serve(worker_state *w, char *line, FILE *out)
{
    char msg[512] = "";
    seqk_tune_result r = {SEQK_TUNE_BUILD, 0.0, 0.0};
    char *save = NULL;
    char *cmd = strtok_r(line, " \n", &save);
    char *seqs = strtok_r(NULL, " \n", &save);
    char *desc = strtok_r(NULL, " \n", &save);
    char *id = strtok_r(NULL, " \n", &save);
    char *ns = strtok_r(NULL, " \n", &save);
    long seq = seqs ? strtol(seqs, NULL, 10) : -1;
    const seqk_tunable *t = id ? seqk__tunable_find(id) : NULL;
    int v[SEQK_TUNE_MAX_PARAMS];
    long n = ns ? strtol(ns, NULL, 10) : -1;
    if (!cmd || strcmp(cmd, "measure") || !desc || !t ||
        n != t->num_params) {
        snprintf(msg, sizeof msg, "bad request");
        goto answer;
    }
    for (long i = 0; i < n; i++) {
        char *tok = strtok_r(NULL, " \n", &save);
        if (!tok) {
            snprintf(msg, sizeof msg, "bad request");
            goto answer;
        }
        v[i] = (int)strtol(tok, NULL, 10);
    }
    if (env_is("SEQK_TUNE_TEST_CRASH", seq))
        raise(SIGSEGV);
    if (env_is("SEQK_TUNE_TEST_HANG", seq))
        for (;;)
            pause();
    if (load_problem(w, desc, t, msg, sizeof msg))
        goto answer;
    if (seqk__tune_override(w->ctx, t->id, v) != SEQK_OK) {
        snprintf(msg, sizeof msg, "%s", seqk_last_error(w->ctx));
        goto answer;
    }
    r.outcome = measure(w, seq, &r, msg, sizeof msg);
    seqk__tune_override(w->ctx, t->id, NULL);
answer:
    for (char *c = msg; *c; c++)
        if (*c == '\n')
            *c = ' ';
    fprintf(out, "result %ld %s %.6f %.6f %s\n", seq,
            seqk__tune_outcome_name(r.outcome), r.median_ms, r.min_ms, msg);
    fflush(out);
}

int tune_worker_main(int argc, char **argv)
{
    const char *spec = NULL, *db = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--device") && i + 1 < argc)
            spec = argv[++i];
        else if (!strcmp(argv[i], "--db") && i + 1 < argc)
            db = argv[++i];
    }
    if (!spec) {
        fprintf(stderr, "seqk tune --worker: --device is required\n");
        return 2;
    }
    /* the protocol owns the original stdout; stray prints go to stderr */
    int fd = dup(1);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out || dup2(2, 1) < 0) {
        fprintf(stderr, "seqk tune --worker: cannot set up stdout\n");
        return 1;
    }
    worker_state w;
    memset(&w, 0, sizeof w);
    seqk_options o;
    seqk_options_init(&o);
    o.device = spec;
    o.tuning_db = db;
    if (seqk_context_create(&o, &w.ctx) != SEQK_OK) {
        fprintf(stderr, "seqk tune --worker: device %s: %s\n", spec,
                seqk_last_error(NULL));
        return 1;
    }
    seqk_options_init(&o);
    o.device = "ref";
    if (seqk_context_create(&o, &w.ref) != SEQK_OK) {
        fprintf(stderr, "seqk tune --worker: ref: %s\n",
                seqk_last_error(NULL));
        seqk_context_destroy(w.ctx);
        return 1;
    }
    char line[4096];
    while (fgets(line, sizeof line, stdin))
        serve(&w, line, out);
    drop_problem(&w);
    seqk_context_destroy(w.ref);
    seqk_context_destroy(w.ctx);
    fclose(out);
    return 0;
}

/* ------------------------------------------------------------ parent */

int tune_worker_start(tune_worker *w, const char *self, const char *spec,
                      const char *db, char *err, size_t err_len)
{
    int to[2], from[2];
    snprintf(w->spec, sizeof w->spec, "%s", spec);
    snprintf(w->db, sizeof w->db, "%s", db);
    w->pid = 0;
    w->have = 0;
    if (pipe(to))
        goto fail;
    if (pipe(from)) {
        close(to[0]);
        close(to[1]);
        goto fail;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(to[0]);
        close(to[1]);
        close(from[0]);
        close(from[1]);
        goto fail;
    }
    if (pid == 0) {
        /* only async-signal-safe calls until exec */
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[0]);
        close(to[1]);
        close(from[0]);
        close(from[1]);
        execl(self, self, "tune", "--worker", "--device", spec, "--db", db,
              (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    fcntl(to[1], F_SETFD, FD_CLOEXEC);
    fcntl(from[0], F_SETFD, FD_CLOEXEC);
    w->pid = pid;
    w->to_fd = to[1];
    w->from_fd = from[0];
    return 0;
fail:
    snprintf(err, err_len, "cannot start a worker: %s", strerror(errno));
    return -1;
}

void tune_worker_stop(tune_worker *w)
{
    if (!w->pid)
        return;
    close(w->to_fd);
    close(w->from_fd);
    /* a worker in the middle of nothing exits on EOF; give it a moment */
    int status;
    for (int i = 0; i < 50 && waitpid(w->pid, &status, WNOHANG) == 0; i++) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (i == 49) {
            kill(w->pid, SIGKILL);
            waitpid(w->pid, &status, 0);
        }
    }
    w->pid = 0;
}

/* The worker died: reap it and say how. */
static void reap(tune_worker *w, char *msg, size_t len)
{
    int status = 0;
    close(w->to_fd);
    close(w->from_fd);
    waitpid(w->pid, &status, 0);
    w->pid = 0;
    if (WIFSIGNALED(status))
        snprintf(msg, len, "worker killed by signal %d (%s)",
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(msg, len, "worker exited with status %d",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

void tune_worker_measure(tune_worker *w, long seq, const char *desc,
                         const seqk_tunable *t, const int *values,
                         double timeout_s, seqk_tune_result *r, char *msg,
                         size_t msg_len)
{
    char req[1024];
    int len = snprintf(req, sizeof req, "measure %ld %s %s %d", seq, desc,
                       t->id, t->num_params);
    for (int i = 0; i < t->num_params && len < (int)sizeof req; i++)
        len += snprintf(req + len, sizeof req - (size_t)len, " %d",
                        values[i]);
    if (len < (int)sizeof req - 1)
        req[len++] = '\n';
    memset(r, 0, sizeof *r);
    r->outcome = SEQK_TUNE_CRASH;
    w->have = 0;
    if (write_all(w->to_fd, req, (size_t)len)) {
        reap(w, msg, msg_len);
        return;
    }
    const double deadline = now_ms() + timeout_s * 1e3;
    char *nl;
    while (!(nl = memchr(w->buf, '\n', w->have))) {
        const double left = deadline - now_ms();
        if (left <= 0.0) {
            kill(w->pid, SIGKILL);
            reap(w, msg, msg_len);
            snprintf(msg, msg_len, "no answer within %.0f s: killed",
                     timeout_s);
            r->outcome = SEQK_TUNE_TIMEOUT;
            return;
        }
        struct pollfd pfd = {w->from_fd, POLLIN, 0};
        int pr = poll(&pfd, 1, (int)(left < 1000.0 ? left + 1 : 1000));
        if (pr < 0 && errno != EINTR) {
            kill(w->pid, SIGKILL);
            reap(w, msg, msg_len);
            return;
        }
        if (pr <= 0)
            continue;
        ssize_t k = read(w->from_fd, w->buf + w->have,
                         sizeof w->buf - 1 - w->have);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0 || w->have + (size_t)k >= sizeof w->buf - 1) {
            if (k > 0)
                kill(w->pid, SIGKILL);
            reap(w, msg, msg_len);
            return;
        }
        w->have += (size_t)k;
    }
    *nl = '\0';
    /* "result SEQ OUTCOME MEDIAN MIN MESSAGE" */
    char outcome[16];
    long rseq;
    int off = 0;
    if (sscanf(w->buf, "result %ld %15s %lf %lf %n", &rseq, outcome,
               &r->median_ms, &r->min_ms, &off) < 4 || rseq != seq ||
        seqk__tune_outcome_from_name(outcome) < 0) {
        snprintf(msg, msg_len, "garbled answer from the worker");
        kill(w->pid, SIGKILL);
        reap(w, msg, 0);
        r->outcome = SEQK_TUNE_CRASH;
        return;
    }
    r->outcome = (seqk_tune_outcome)seqk__tune_outcome_from_name(outcome);
    snprintf(msg, msg_len, "%s", off > 0 ? w->buf + off : "");
    w->have = 0;
}
