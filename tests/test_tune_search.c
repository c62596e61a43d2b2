/*
 * test_tune_search.c — the tuner: legal-space generation against a brute
 * force enumeration (every library tunable and fabricated ones), the
 * search on fabricated cost functions (budget, invalid candidates never
 * chosen, resume), the journal, the CPU tunables giving the reference's
 * answers under every sampled legal override; `seqk tune` end to end is
 * in test_tune_cmd.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_problems.h"
#include "cpu_simd/cpu_simd.h"
#include "seqk_config.h"
#include "testutil.h"
#include "search.h"
#include "tune_cmd_test.h"
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

/* A fresh cost function with every point valid. */
static void fake_reset(fake *f)
{
    memset(f, 0, sizeof *f);
    f->invalid = -1;
}

/* The legal space of fab on the CPU limits. */
static void fab_space(seqk_tune_space *sp)
{
    seqk_tune_limits lim = cpu_limits();
    ck_assert_int_eq(seqk__tune_space_build(&fab, &lim, NULL, 0, sp), 0);
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
    seqk_tune_space sp;
    fab_space(&sp);
    static fake f1, f2;
    fake_reset(&f1);
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
    fake_reset(&f2);
    ck_assert_int_eq(seqk__tune_search_init(&s, &sp, 7), 0);
    seqk__tune_search_run(&s, fake_measure, &f2, fake_clock, &f2, 12);
    ck_assert_mem_eq(f1.order, f2.order, 12 * sizeof f1.order[0]);
    seqk__tune_search_free(&s);
    /* an unlimited budget measures each point once and finds the optimum */
    fake_reset(&f2);
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
    seqk_tune_space sp;
    fab_space(&sp);
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
    seqk_tune_space sp;
    fab_space(&sp);
    static fake a, b;
    fake_reset(&a);
    seqk_tune_search s;
    ck_assert_int_eq(seqk__tune_search_init(&s, &sp, 11), 0);
    seqk__tune_search_run(&s, fake_measure, &a, fake_clock, &a, 10);
    seqk__tune_search_free(&s);
    /* a new search told about the first ten measures none of them */
    fake_reset(&b);
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

    suite_add_tcase(s, tune_cmd_tcase());
    return tu_run_suite(s);
}
