/*
 * test_tune_search.c — the tuner: legal-space generation against a brute
 * force enumeration (every library tunable and fabricated ones), the
 * search on fabricated cost functions (budget, invalid candidates never
 * chosen, resume), the journal, the CPU tunables giving the reference's
 * answers under every sampled legal override, and `seqk tune` end to end
 * through $SEQK_EXE (show, check, export/import, a corrupt database, a
 * crashing / hanging / wrong candidate via the SEQK_TUNE_TEST_* hooks).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_problems.h"
#include "cpu_simd/cpu_simd.h"
#include "seqk_config.h"
#include "testutil.h"
#include "search.h"
#include "tune_tool.h"

/* ---------------------------------------------------- limits, shapes */

static seqk_tune_limits cpu_limits(void)
{
    seqk_tune_limits l;
    memset(&l, 0, sizeof l);
    l.l1d = 48 << 10;
    l.l2 = 1 << 20;
    l.l3 = 32 << 20;
    l.threads = 2;
    return l;
}

static seqk_tune_limits gpu_limits(void)
{
    seqk_tune_limits l;
    memset(&l, 0, sizeof l);
    l.is_device = l.is_gpu = 1;
    l.max_wg = 256;
    l.max_item[0] = l.max_item[1] = 256;
    l.max_item[2] = 64;
    l.local_mem = 32 << 10;
    l.threads = 1;
    return l;
}

static const int64_t dims_tried[] = {1, 7, 64, 129, 1000};

/* Brute force: every combination by a mixed-radix counter, checked with
 * seqk__tunable_legal; compares with the generated space. */
static void check_space(const seqk_tunable *t, const seqk_tune_limits *lim,
                        const int64_t *shape)
{
    seqk_tune_space sp;
    ck_assert_int_eq(seqk__tune_space_build(t, lim, shape, 1 << 30, &sp), 0);
    int64_t combos = 1, legal = 0;
    for (int i = 0; i < t->num_params; i++)
        combos *= t->params[i].num_values;
    int v[SEQK_TUNE_MAX_PARAMS];
    for (int64_t c = 0; c < combos; c++) {
        int64_t r = c;
        for (int i = t->num_params - 1; i >= 0; i--) {
            v[i] = t->params[i].values[r % t->params[i].num_values];
            r /= t->params[i].num_values;
        }
        int is_legal = seqk__tunable_legal(t, v, lim, shape);
        int found = seqk__tune_space_find(&sp, v);
        ck_assert_msg(is_legal == (found >= 0),
                      "%s: combination %lld legal=%d but found=%d", t->id,
                      (long long)c, is_legal, found);
        legal += is_legal;
    }
    ck_assert_int_eq(sp.total, legal);
    ck_assert_int_eq(sp.num_points, legal);
    for (int i = 0; i < sp.num_points; i++)
        ck_assert(seqk__tunable_legal(t, seqk__tune_space_point(&sp, i), lim,
                                     shape));
    seqk__tune_space_free(&sp);
}

START_TEST(space_of_library_tunables)
{
    const seqk_tune_limits lims[2] = {cpu_limits(), gpu_limits()};
    int checked = 0;
    const seqk_tunable *const *all = seqk__tunable_list();
    for (int k = 0; all[k]; k++) {
        const seqk_tunable *t = all[k];
        const int is_cl = !strcmp(t->backend, "opencl");
        const seqk_tune_limits *lim = &lims[is_cl];
        check_space(t, lim, NULL);
        int64_t shape[SEQK_TUNE_MAX_SHAPE];
        for (size_t a = 0; a < sizeof dims_tried / sizeof dims_tried[0];
             a++) {
            for (int d = 0; d < t->num_shape; d++)
                shape[d] = dims_tried[(a + (size_t)d) %
                                      (sizeof dims_tried /
                                       sizeof dims_tried[0])];
            check_space(t, lim, shape);
            /* CPU defaults are today's behaviour: legal everywhere */
            if (!is_cl) {
                int def[SEQK_TUNE_MAX_PARAMS];
                seqk__tunable_defaults(t, def);
                ck_assert_msg(seqk__tunable_legal(t, def, lim, shape),
                              "%s: defaults illegal", t->id);
            }
        }
        checked++;
    }
    ck_assert_int_ge(checked, 5);
}
END_TEST

/* A fabricated tunable with a known constraint: a*b <= 12, a+b even. */
static int fab_legal(const int *v, const seqk_tune_limits *lim,
                     const int64_t *shape)
{
    (void)lim;
    (void)shape;
    return v[0] * v[1] <= 12 && (v[0] + v[1]) % 2 == 0;
}

static const seqk_tunable fab = {
    .id = "test.fab",
    .backend = "cpu",
    .num_shape = 1,
    .shape_names = {"N"},
    .num_params = 3,
    .params = {
        {"a", 6, {1, 2, 3, 4, 5, 6}, 2},
        {"b", 4, {1, 2, 4, 8}, 2},
        {"c", 5, {10, 20, 30, 40, 50}, 30},
    },
    .legal = fab_legal,
};

START_TEST(space_of_fabricated_tunable)
{
    seqk_tune_limits lim = cpu_limits();
    check_space(&fab, &lim, NULL);
    int expect = 0;
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 4; b++) {
            int x = fab.params[0].values[a], y = fab.params[1].values[b];
            expect += (x * y <= 12 && (x + y) % 2 == 0) * 5;
        }
    seqk_tune_space sp;
    ck_assert_int_eq(seqk__tune_space_build(&fab, &lim, NULL, 0, &sp), 0);
    ck_assert_int_eq(sp.num_points, expect);
    for (int i = 0; i < sp.num_points; i++) {
        const int *v = seqk__tune_space_point(&sp, i);
        ck_assert(v[0] * v[1] <= 12 && (v[0] + v[1]) % 2 == 0);
    }
    seqk__tune_space_free(&sp);
    /* the cap keeps the first points and still counts them all */
    ck_assert_int_eq(seqk__tune_space_build(&fab, &lim, NULL, 3, &sp), 0);
    ck_assert_int_eq(sp.num_points, 3);
    ck_assert_int_eq(sp.total, expect);
    seqk__tune_space_free(&sp);
}
END_TEST

/* ------------------------------------------------------------ search */

typedef struct fake {
    double clock;          /* advanced by each measurement */
    int invalid;           /* index measured as WRONG (cheapest cost) */
    int count;
    int order[4096];       /* measured indices */
} fake;

/* Cost: a bowl around a=4, b=2, c=40; the invalid point is "fastest". */
static int fake_measure(void *user, int index, const int *v,
                        seqk_tune_result *r)
{
    fake *f = user;
    f->clock += 1.0;
    f->order[f->count++] = index;
    r->outcome = SEQK_TUNE_OK;
    r->median_ms = 1.0 + (v[0] - 4) * (v[0] - 4) + (v[1] - 2) * (v[1] - 2) +
                   (v[2] - 40) * (v[2] - 40) / 100.0;
    r->min_ms = r->median_ms;
    if (index == f->invalid) {
        r->outcome = SEQK_TUNE_WRONG;
        r->median_ms = r->min_ms = 0.001;
    }
    return 0;
}

static double fake_clock(void *user)
{
    return ((fake *)user)->clock;
}

/* The best OK point among those measured, by brute force. */
static int best_measured(const seqk_tune_search *s)
{
    int b = -1;
    for (int i = 0; i < s->sp->num_points; i++)
        if (s->measured[i] && s->results[i].outcome == SEQK_TUNE_OK &&
            (b < 0 || s->results[i].median_ms < s->results[b].median_ms))
            b = i;
    return b;
}

START_TEST(search_within_budget)
{
    seqk_tune_limits lim = cpu_limits();
    seqk_tune_space sp;
    ck_assert_int_eq(seqk__tune_space_build(&fab, &lim, NULL, 0, &sp), 0);
    static fake f1, f2;
    memset(&f1, 0, sizeof f1);
    f1.invalid = -1;
    seqk_tune_search s;
    ck_assert_int_eq(seqk__tune_search_init(&s, &sp, 7), 0);
    int n = seqk__tune_search_run(&s, fake_measure, &f1, fake_clock, &f1, 12);
    ck_assert_int_eq(n, 12); /* the budget, in fake seconds */
    ck_assert_int_eq(s.num_measured, 12);
    ck_assert_int_eq(f1.order[0], s.default_index); /* defaults first */
    ck_assert_int_eq(seqk_tune_search_best(&s), best_measured(&s));
    /* no point twice */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            ck_assert_int_ne(f1.order[i], f1.order[j]);
    seqk__tune_search_free(&s);
    /* the same seed gives the same run */
    memset(&f2, 0, sizeof f2);
    f2.invalid = -1;
    ck_assert_int_eq(seqk__tune_search_init(&s, &sp, 7), 0);
    seqk__tune_search_run(&s, fake_measure, &f2, fake_clock, &f2, 12);
    ck_assert_mem_eq(f1.order, f2.order, 12 * sizeof f1.order[0]);
    seqk__tune_search_free(&s);
    /* an unlimited budget measures each point once and finds the optimum */
    memset(&f2, 0, sizeof f2);
    f2.invalid = -1;
    ck_assert_int_eq(seqk__tune_search_init(&s, &sp, 3), 0);
    n = seqk__tune_search_run(&s, fake_measure, &f2, fake_clock, &f2, 1e9);
    ck_assert_int_eq(n, sp.num_points);
    const int *bv = seqk__tune_space_point(&sp, seqk_tune_search_best(&s));
    ck_assert(bv[0] == 4 && bv[1] == 2 && bv[2] == 40);
    ck_assert_int_eq(seqk__tune_search_next(&s), -1);
    seqk__tune_search_free(&s);
    seqk__tune_space_free(&sp);
}
END_TEST

START_TEST(invalid_candidate_never_chosen)
{
    seqk_tune_limits lim = cpu_limits();
    seqk_tune_space sp;
    ck_assert_int_eq(seqk__tune_space_build(&fab, &lim, NULL, 0, &sp), 0);
    const int opt[3] = {4, 2, 40};
    static fake f;
    for (int budget = 3; budget <= sp.num_points + 1; budget += 7) {
        memset(&f, 0, sizeof f);
        f.invalid = seqk__tune_space_find(&sp, opt);
        ck_assert_int_ge(f.invalid, 0);
        seqk_tune_search s;
        ck_assert_int_eq(seqk__tune_search_init(&s, &sp, (uint64_t)budget),
                         0);
        seqk__tune_search_run(&s, fake_measure, &f, fake_clock, &f, budget);
        ck_assert_int_ne(seqk_tune_search_best(&s), f.invalid);
        ck_assert_int_eq(seqk_tune_search_best(&s), best_measured(&s));
        seqk__tune_search_free(&s);
    }
    seqk__tune_space_free(&sp);
}
END_TEST

START_TEST(resume_skips_measured)
{
    seqk_tune_limits lim = cpu_limits();
    seqk_tune_space sp;
    ck_assert_int_eq(seqk__tune_space_build(&fab, &lim, NULL, 0, &sp), 0);
    static fake a, b;
    memset(&a, 0, sizeof a);
    a.invalid = -1;
    seqk_tune_search s;
    ck_assert_int_eq(seqk__tune_search_init(&s, &sp, 11), 0);
    seqk__tune_search_run(&s, fake_measure, &a, fake_clock, &a, 10);
    seqk__tune_search_free(&s);
    /* a new search told about the first ten measures none of them */
    memset(&b, 0, sizeof b);
    b.invalid = -1;
    ck_assert_int_eq(seqk__tune_search_init(&s, &sp, 11), 0);
    for (int i = 0; i < a.count; i++) {
        seqk_tune_result r;
        fake_measure(&b, a.order[i], seqk__tune_space_point(&sp, a.order[i]),
                     &r);
        seqk__tune_search_report(&s, a.order[i], &r);
    }
    b.count = 0;
    int n = seqk__tune_search_run(&s, fake_measure, &b, fake_clock, &b, 1e9);
    ck_assert_int_eq(n, sp.num_points - a.count);
    for (int i = 0; i < b.count; i++)
        for (int j = 0; j < a.count; j++)
            ck_assert_int_ne(b.order[i], a.order[j]);
    ck_assert_int_eq(seqk_tune_search_best(&s), best_measured(&s));
    seqk__tune_search_free(&s);
    seqk__tune_space_free(&sp);
}
END_TEST

START_TEST(journal_round_trip)
{
    char path[] = "/tmp/seqk_journal_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    tune_journal_line l;
    memset(&l, 0, sizeof l);
    snprintf(l.key, sizeof l.key, "cpu.x@1,2");
    l.r.outcome = SEQK_TUNE_CRASH;
    l.num_values = 2;
    l.values[0] = 7;
    l.values[1] = -1;
    ck_assert_int_eq(tune_journal_append(f, &l), 0);
    l.r.outcome = SEQK_TUNE_OK;
    l.r.median_ms = 1.5;
    l.r.min_ms = 1.25;
    ck_assert_int_eq(tune_journal_append(f, &l), 0);
    l.done = 1;
    ck_assert_int_eq(tune_journal_append(f, &l), 0);
    fputs("c cpu.x@1,2 ok 1.0 1.0 2 3", f); /* torn: no newline */
    fclose(f);
    tune_journal_line *got = NULL;
    ck_assert_int_eq(tune_journal_read(path, &got), 3);
    ck_assert_int_eq(got[0].r.outcome, SEQK_TUNE_CRASH);
    ck_assert_int_eq(got[0].values[1], -1);
    ck_assert_int_eq(got[1].r.outcome, SEQK_TUNE_OK);
    ck_assert(got[1].r.median_ms == 1.5 && got[1].r.min_ms == 1.25);
    ck_assert(got[2].done && !strcmp(got[2].key, "cpu.x@1,2"));
    free(got);
    unlink(path);
}
END_TEST

/* The tasks of a device: on OpenCL an RNN problem also tunes its step's
 * GEMM (h . R^T: the direct kernel and the path), under the buckets the
 * library looks up (the path's TA/TB are 1 + trans); on a CPU it does
 * not; --ops filters kinds and equal buckets are tuned once. */
static int has_task(const tune_task *t, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(t[i].key, key))
            return 1;
    return 0;
}

START_TEST(tasks_of_devices)
{
    static const char *const descs[] = {
        "lstm:hidden=512,batch=4,seq=25", "lstm:hidden=512,batch=4,seq=30",
        "gru:hidden=64,batch=2,seq=5,lbr=0", "gemm:m=64,n=64,k=64"};
    const unsigned rnn = 1u << BENCH_LSTM | 1u << BENCH_GRU;
    tune_task *t = NULL;
    int n = tune_build_tasks("avx512", descs, 4, rnn, &t);
    ck_assert_int_ge(n, 1);
    for (int i = 0; i < n; i++)
        ck_assert_msg(strncmp(t[i].key, "opencl.", 7) &&
                      strncmp(t[i].key, "cpu.gemm", 8), "%s", t[i].key);
    ck_assert(has_task(t, n, "cpu.rnn.step@9,2"));
    free(t);
#if SEQK_HAVE_OPENCL
    n = tune_build_tasks("opencl:0.0", descs, 4, rnn, &t);
    /* B=4, 4H=2048, K=H=512; GRU lbr=0: N = 2H and N = H */
    const int64_t lib[5] = {4, 2048, 512, 1, 2};
    int b[5];
    seqk__tune_bucket(5, lib, b);
    char path_key[64];
    snprintf(path_key, sizeof path_key, "opencl.gemm.path@%d,%d,%d,%d,%d",
             b[0], b[1], b[2], b[3], b[4]);
    ck_assert(has_task(t, n, "opencl.rnn.step@9,2,0"));
    ck_assert(has_task(t, n, "opencl.gemm.direct@2,11,9"));
    ck_assert_msg(has_task(t, n, path_key), "%s", path_key);
    ck_assert(has_task(t, n, "opencl.gemm.direct@1,7,6"));
    ck_assert(has_task(t, n, "opencl.gemm.direct@1,6,6"));
    ck_assert(!has_task(t, n, "opencl.gemm.tiled@2,11,9"));
    ck_assert(!has_task(t, n, "opencl.gemm.direct@6,6,6")); /* not --ops */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            ck_assert_msg(strcmp(t[i].key, t[j].key), "%s twice", t[i].key);
    free(t);
#endif
}
END_TEST

/* ------------------------------- CPU tunables give the reference's answer */

static const char *const cpu_problems[] = {
    "gemm:m=37,n=45,k=300",
    "gemm:m=200,n=33,k=129,transb=1",
    "lstm:hidden=40,batch=3,seq=5",
    "gru:hidden=72,batch=9,seq=4",
    "rnn:hidden=33,batch=1,seq=6",
    "attention:batch=1,heads=2,seq=70,kvseq=300,dim=16,causal=1",
};

static float *outputs(seqk_context *ctx, bench_problem *p, size_t *n)
{
    bench_instance *inst = NULL;
    char err[300];
    float *out = NULL;
    ck_assert_msg(bench_setup(ctx, p, &inst, err, sizeof err) == SEQK_OK,
                  "%s", err);
    ck_assert_msg(bench_run(inst, err, sizeof err) == SEQK_OK, "%s", err);
    ck_assert_msg(bench_read_outputs(inst, &out, n, err, sizeof err) ==
                      SEQK_OK, "%s", err);
    bench_destroy(inst);
    return out;
}

START_TEST(cpu_tunables_match_ref)
{
    const char *spec = tu_device(_i);
    if (!seqk__cpu_isa_find(spec))
        return;
    seqk_context *ctx = tu_context(_i), *ref = tu_context(0);
    seqk_tune_limits lim;
    seqk__tune_limits(ctx, &lim);
    int tried = 0;
    for (size_t q = 0; q < sizeof cpu_problems / sizeof cpu_problems[0];
         q++) {
        bench_problem p;
        char err[200];
        ck_assert_int_eq(bench_parse(cpu_problems[q], &p, err, sizeof err),
                         0);
        size_t nw = 0, ng = 0;
        float *want = outputs(ref, &p, &nw);
        double atol, rtol;
        bench_tolerance(&p, &atol, &rtol);
        const seqk_tunable *const *all = seqk__tunable_list();
        for (int k = 0; all[k]; k++) {
            const seqk_tunable *t = all[k];
            int64_t shape[SEQK_TUNE_MAX_SHAPE];
            if (!tune_tunable_applies(t, spec) ||
                tune_task_shape(t, &p, shape))
                continue;
            seqk_tune_space sp;
            ck_assert_int_eq(seqk__tune_space_build(t, &lim, shape, 0, &sp),
                             0);
            ck_assert_int_gt(sp.num_points, 0);
            /* the first, last and a few points between */
            for (int j = 0; j < 6; j++) {
                int i = (int)((int64_t)j * (sp.num_points - 1) / 5);
                TU_OK(ctx, seqk__tune_override(
                               ctx, t->id, seqk__tune_space_point(&sp, i)));
                float *got = outputs(ctx, &p, &ng);
                ck_assert_uint_eq(ng, nw);
                TU_ASSERT_CLOSE(got, want, nw, (float)atol, (float)rtol);
                free(got);
                tried++;
            }
            TU_OK(ctx, seqk__tune_override(ctx, t->id, NULL));
            seqk__tune_space_free(&sp);
        }
        free(want);
    }
    ck_assert_int_ge(tried, 6 * 6);
    seqk_context_destroy(ctx);
    seqk_context_destroy(ref);
}
END_TEST

/* ------------------------------------------------ `seqk tune` end to end */

static char tmpdir[256];

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/seqk_tune_XXXXXX",
             base && *base ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *path_of(const char *name)
{
    static char buf[4][600];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 600, "%s/%s", tmpdir, name);
    return p;
}

/* The best CPU SIMD device, or NULL. */
static const char *cpu_device(void)
{
    static char spec[32];
    int count = 0;
    spec[0] = '\0';
    seqk_device_count(&count);
    for (int i = 0; i < count; i++) {
        seqk_device_info d;
        memset(&d, 0, sizeof d);
        d.struct_size = sizeof d;
        if (seqk_device_info_get(i, &d) == SEQK_OK && d.available &&
            d.kind == SEQK_DEVICE_CPU_SIMD &&
            (!spec[0] || !strcmp(d.spec, "avx512")))
            snprintf(spec, sizeof spec, "%s", d.spec);
    }
    return spec[0] ? spec : NULL;
}

static char out_buf[65536], err_buf[65536];

/* Runs $SEQK_EXE with args (NULL-terminated) and env "K=V" pairs
 * (NULL-terminated, may be NULL); output in out_buf / err_buf. */
static int run_exe(const char *const *args, const char *const *env)
{
    const char *exe = getenv("SEQK_EXE");
    ck_assert_msg(exe && *exe, "SEQK_EXE is not set");
    const char *argv[64];
    int n = 0;
    argv[n++] = exe;
    for (int i = 0; args[i]; i++) {
        ck_assert(n < 63);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    const char *ep = path_of(".stderr"), *op = path_of(".stdout");
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fe = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fo = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fe < 0 || fo < 0 || dup2(fe, 2) < 0 || dup2(fo, 1) < 0)
            _exit(126);
        for (int i = 0; env && env[i]; i++) {
            char kv[700];
            snprintf(kv, sizeof kv, "%s", env[i]);
            char *eq = strchr(kv, '=');
            if (!eq)
                _exit(126);
            *eq = '\0';
            setenv(kv, eq + 1, 1);
        }
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int status;
    ck_assert(waitpid(pid, &status, 0) == pid);
    ck_assert_msg(WIFEXITED(status), "seqk died (signal %d)",
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    const char *files[2] = {ep, op};
    char *bufs[2] = {err_buf, out_buf};
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(files[k], "rb");
        ck_assert(f != NULL);
        size_t got = fread(bufs[k], 1, sizeof err_buf - 1, f);
        bufs[k][got] = '\0';
        fclose(f);
    }
    return WEXITSTATUS(status);
}

#define TUNE_PROBLEM "gemm:m=64,n=48,k=256"

START_TEST(e2e_tune_show_check_export_import)
{
    const char *dev = cpu_device();
    if (!dev)
        return;
    char db[600], exp[600];
    snprintf(db, sizeof db, "%s", path_of("db.json"));
    snprintf(exp, sizeof exp, "%s", path_of("export.json"));
    const char *tune[] = {"tune", "--device", dev, "--ops", "gemm",
                          "--budget", "3", "--db", db, "--problem",
                          TUNE_PROBLEM, "--min-gain", "-100", NULL};
    ck_assert_msg(run_exe(tune, NULL) == 0, "%s", err_buf);
    ck_assert_msg(strstr(err_buf, "recorded"), "%s", err_buf);
    /* done: no journal left */
    char cmd[800];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q journal", tmpdir);
    ck_assert_msg(system(cmd) != 0, "journal left behind");

    const char *show[] = {"tune", "--show", "--db", db, NULL};
    ck_assert_int_eq(run_exe(show, NULL), 0);
    ck_assert_msg(strstr(out_buf, "cpu.gemm.blocking.") &&
                      strstr(out_buf, dev), "%s", out_buf);
    const char *check[] = {"tune", "--check", db, NULL};
    ck_assert_int_eq(run_exe(check, NULL), 0);
    ck_assert_msg(strstr(out_buf, "OK, 1 entries"), "%s", out_buf);
    const char *export_[] = {"tune", "--export", exp, "--db", db, NULL};
    ck_assert_msg(run_exe(export_, NULL) == 0, "%s", err_buf);
    ck_assert_msg(strstr(out_buf, "exported 1 entries"), "%s", out_buf);
    const char *reset[] = {"tune", "--reset", "--db", db, NULL};
    ck_assert_int_eq(run_exe(reset, NULL), 0);
    ck_assert_msg(strstr(out_buf, "removed 1 entries"), "%s", out_buf);
    ck_assert_int_eq(run_exe(show, NULL), 0);
    ck_assert_msg(strstr(out_buf, "no entries"), "%s", out_buf);
    const char *import[] = {"tune", "--import", exp, "--db", db, NULL};
    ck_assert_msg(run_exe(import, NULL) == 0, "%s", err_buf);
    ck_assert_msg(strstr(out_buf, "imported 1 entries"), "%s", out_buf);
    ck_assert_int_eq(run_exe(check, NULL), 0);
    ck_assert_msg(strstr(out_buf, "OK, 1 entries"), "%s", out_buf);

    /* A missing import file is an error (a typo), not zero entries. */
    const char *missing[] = {"tune", "--import", path_of("no-such.json"),
                             "--db", db, NULL};
    ck_assert_int_eq(run_exe(missing, NULL), 1);
    ck_assert_msg(strstr(err_buf, "no such file"), "%s", err_buf);

    /* An import never overwrites a database it cannot read (here a newer
     * version): the file moves aside, whole, and the command says so. */
    static const char v2[] =
        "{\"format\":\"seqk-tuning\",\"version\":2,\"entries\":[]}";
    FILE *f = fopen(db, "w");
    ck_assert(f != NULL);
    fputs(v2, f);
    fclose(f);
    ck_assert_msg(run_exe(import, NULL) == 0, "%s", err_buf);
    ck_assert_msg(strstr(err_buf, "version 2") &&
                      strstr(err_buf, "moved aside to"), "%s", err_buf);
    snprintf(cmd, sizeof cmd, "cat '%s'.corrupt-* | grep -q '\"version\":2'",
             db);
    ck_assert_msg(system(cmd) == 0, "the newer database was not kept");
    ck_assert_int_eq(run_exe(check, NULL), 0);
    ck_assert_msg(strstr(out_buf, "OK, 1 entries"), "%s", out_buf);
}
END_TEST

START_TEST(e2e_corrupt_db_and_bad_args)
{
    const char *dev = cpu_device();
    if (!dev)
        return;
    const char *db = path_of("bad.json");
    FILE *f = fopen(db, "w");
    ck_assert(f != NULL);
    fputs("{\"version\": 1, \"entries\": [ {\"kernel\": ", f);
    fclose(f);
    const char *check[] = {"tune", "--check", db, NULL};
    ck_assert_int_eq(run_exe(check, NULL), 1);
    ck_assert_msg(strstr(err_buf, db), "%s", err_buf);
    /* ops still run, on the defaults */
    char env[700];
    snprintf(env, sizeof env, "SEQK_TUNING_DB=%s", db);
    const char *const envs[] = {env, NULL};
    const char *bench[] = {"bench", "--device", dev, "--repeat", "1",
                           "--min-time", "1", TUNE_PROBLEM, NULL};
    ck_assert_msg(run_exe(bench, envs) == 0, "%s", err_buf);
    ck_assert_msg(strstr(out_buf, "true"), "%s", out_buf);
    /* ... and the command says once why the tuning data is not used */
    ck_assert_msg(strstr(err_buf, "warning: tuning database") &&
                  strstr(err_buf, "built-in defaults"), "%s", err_buf);
    const char *info[] = {"info", "--device", dev, NULL};
    ck_assert_msg(run_exe(info, envs) == 0, "%s", err_buf);
    ck_assert_msg(strstr(err_buf, "built-in defaults"), "%s", err_buf);
    /* bad arguments: usage errors, exit 2 */
    const char *bad[][8] = {
        {"tune", "--budget", "soon", NULL},
        {"tune", "--ops", "gemm,conv", NULL},
        {"tune", "--show", "--reset", NULL},
        {"tune", "--problem", "gemm:m=0", NULL},
        {"tune", "--frobnicate", NULL},
        {"tune", "--db", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(run_exe(bad[i], NULL), 2);
        ck_assert_msg(strstr(err_buf, "seqk tune:"), "%s", err_buf);
    }
}
END_TEST

/* "MC=1 KC=2 NC=3" right after `prefix` in line s, or -1. */
static int values_after(const char *s, const char *prefix, int v[3])
{
    const char *p = strstr(s, prefix);
    if (!p)
        return -1;
    p += strlen(prefix);
    return sscanf(p, "MC=%d KC=%d NC=%d", &v[0], &v[1], &v[2]) == 3 ? 0
                                                                    : -1;
}

START_TEST(e2e_failing_candidates_never_chosen)
{
    const char *dev = cpu_device();
    if (!dev)
        return;
    char id[64], db[600];
    snprintf(id, sizeof id, "cpu.gemm.blocking.%s ", dev);
    snprintf(db, sizeof db, "%s", path_of("db.json"));
    const char *const env[] = {"SEQK_TUNE_TEST_CRASH=1",
                               "SEQK_TUNE_TEST_HANG=2",
                               "SEQK_TUNE_TEST_WRONG=3", NULL};
    const char *tune[] = {"tune", "--device", dev, "--ops", "gemm",
                          "--budget", "6", "--timeout", "1", "--db", db,
                          "--problem", TUNE_PROBLEM, "--min-gain", "-100",
                          NULL};
    ck_assert_msg(run_exe(tune, env) == 0, "%s", err_buf);
    int bad[3][3], chosen[3];
    const char *why[3] = {": crash (worker killed by signal",
                          ": timeout (", ": wrong ("};
    for (int k = 0; k < 3; k++) {
        /* the line of the failed candidate: "<id> MC=.. KC=.. NC=..: why" */
        const char *w = strstr(err_buf, why[k]);
        ck_assert_msg(w, "no '%s' in: %s", why[k], err_buf);
        const char *line = w;
        while (line > err_buf && line[-1] != '\n')
            line--;
        ck_assert_int_eq(values_after(line, id, bad[k]), 0);
    }
    char rec[80];
    snprintf(rec, sizeof rec, "cpu.gemm.blocking.%s: ", dev);
    ck_assert_msg(strstr(err_buf, "recorded"), "%s", err_buf);
    ck_assert_int_eq(values_after(err_buf, rec, chosen), 0);
    for (int k = 0; k < 3; k++)
        ck_assert_msg(memcmp(bad[k], chosen, sizeof chosen) != 0,
                      "failed candidate %d chosen", k);
}
END_TEST

/* `seqk tune --ops softmax` tunes "opencl.softmax" on a softmax bench
 * problem and records an entry for its {rows, n} bucket. */
/* Whether device opencl:0.0 is available (the OpenCL e2e tests). */
static int have_opencl(void)
{
    int count = 0;
    seqk_device_count(&count);
    for (int i = 0; i < count; i++) {
        seqk_device_info d;
        memset(&d, 0, sizeof d);
        d.struct_size = sizeof d;
        if (seqk_device_info_get(i, &d) == SEQK_OK && d.available &&
            !strcmp(d.spec, "opencl:0.0"))
            return 1;
    }
    return 0;
}

/* The tasks of a device run smallest legal space first (the GEMM path's
 * 5 points before the tiled kernel's tens of thousands). */
START_TEST(e2e_smallest_spaces_first)
{
    if (!have_opencl())
        return;
    char db[600];
    snprintf(db, sizeof db, "%s", path_of("order.json"));
    const char *tune[] = {"tune", "--device", "opencl:0.0", "--ops", "gemm",
                          "--budget", "2", "--problem", "gemm:m=8,n=8,k=8",
                          "--db", db, NULL};
    ck_assert_msg(run_exe(tune, NULL) == 0, "%s", err_buf);
    long prev = -1;
    int tasks = 0;
    for (const char *c = strstr(err_buf, " legal points"); c;
         c = strstr(c + 1, " legal points")) {
        const char *d = c;
        while (d > err_buf && d[-1] >= '0' && d[-1] <= '9')
            d--;
        const long pts = strtol(d, NULL, 10);
        ck_assert_msg(pts >= prev, "%ld points after %ld:\n%s", pts, prev,
                      err_buf);
        prev = pts;
        tasks++;
    }
    ck_assert_msg(tasks == 4, "%d tasks:\n%s", tasks, err_buf);
    ck_assert_msg(strstr(err_buf, "[1/4] opencl.gemm.path on"), "%s",
                  err_buf);
}
END_TEST

START_TEST(e2e_tune_softmax_opencl)
{
    if (!have_opencl())
        return;
    char db[600];
    snprintf(db, sizeof db, "%s", path_of("softmax.json"));
    const char *tune[] = {"tune", "--device", "opencl:0.0", "--ops",
                          "softmax", "--budget", "10", "--problem",
                          "softmax:rows=64,n=100", "--db", db,
                          "--min-gain", "-100", NULL};
    ck_assert_msg(run_exe(tune, NULL) == 0, "%s", err_buf);
    ck_assert_msg(strstr(err_buf, "opencl.softmax: ") &&
                  strstr(err_buf, "recorded"), "%s", err_buf);
    const char *show[] = {"tune", "--show", "--db", db, NULL};
    ck_assert_int_eq(run_exe(show, NULL), 0);
    ck_assert_msg(strstr(out_buf, "opencl.softmax") &&
                  strstr(out_buf, "rows:2^6,n:2^7"), "%s", out_buf);
    const char *check[] = {"tune", "--check", db, NULL};
    ck_assert_int_eq(run_exe(check, NULL), 0);
    ck_assert_msg(strstr(out_buf, "OK, 1 entries"), "%s", out_buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tune_search");
    TCase *tc = tcase_create("space");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, space_of_library_tunables);
    tcase_add_test(tc, space_of_fabricated_tunable);
    tcase_add_test(tc, search_within_budget);
    tcase_add_test(tc, invalid_candidate_never_chosen);
    tcase_add_test(tc, resume_skips_measured);
    tcase_add_test(tc, journal_round_trip);
    tcase_add_test(tc, tasks_of_devices);
    suite_add_tcase(s, tc);

    tc = tcase_create("cpu_tunables");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, cpu_tunables_match_ref, 0, tu_device_count());
    suite_add_tcase(s, tc);

    tc = tcase_create("command");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, e2e_tune_show_check_export_import);
    tcase_add_test(tc, e2e_corrupt_db_and_bad_args);
    tcase_add_test(tc, e2e_failing_candidates_never_chosen);
    tcase_add_test(tc, e2e_tune_softmax_opencl);
    tcase_add_test(tc, e2e_smallest_spaces_first);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
