/*
 * test_tune_cmd.c — `seqk tune` end to end through $SEQK_EXE, the
 * "command" test case of the tune_search suite (test_tune_search.c has
 * the tuner's own tests and main): show, check, export/import, a corrupt
 * database and bad arguments, a crashing / hanging / wrong candidate via
 * the SEQK_TUNE_TEST_* hooks, OpenCL tasks in order and Softmax tuning.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "tune_cmd_test.h"

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

/* Device i's facts in *d when it is available, else 0. */
static int available_device(int i, seqk_device_info *d)
{
    memset(d, 0, sizeof *d);
    d->struct_size = sizeof *d;
    return seqk_device_info_get(i, d) == SEQK_OK && d->available;
}

/* The best CPU SIMD device, or NULL. */
static const char *cpu_device(void)
{
    static char spec[32];
    int count = 0;
    seqk_device_info d;
    spec[0] = '\0';
    seqk_device_count(&count);
    for (int i = 0; i < count; i++)
        if (available_device(i, &d) && d.kind == SEQK_DEVICE_CPU_SIMD &&
            (!spec[0] || !strcmp(d.spec, "avx512")))
            snprintf(spec, sizeof spec, "%s", d.spec);
    return spec[0] ? spec : NULL;
}

/* Whether device opencl:0.0 is available (the OpenCL e2e tests). */
static int have_opencl(void)
{
    int count = 0;
    seqk_device_info d;
    seqk_device_count(&count);
    for (int i = 0; i < count; i++)
        if (available_device(i, &d) && !strcmp(d.spec, "opencl:0.0"))
            return 1;
    return 0;
}

static char out_buf[65536], err_buf[65536];

/* Runs $SEQK_EXE with args (NULL-terminated) and env "K=V" pairs
 * (NULL-terminated, may be NULL); output in out_buf / err_buf. */
static int run_exe(const char *const *args, const char *const *env)
{
    return tu_run_exe(NULL, args, env, NULL, path_of(".stderr"),
                      path_of(".stdout"), err_buf, sizeof err_buf, out_buf,
                      sizeof out_buf);
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
    /* 6 s: under qemu on a loaded machine 3 s measured 9 points and left
     * no time to confirm a winner, so nothing was recorded */
    const char *tune[] = {"tune", "--device", dev, "--ops", "gemm",
                          "--budget", "6", "--db", db, "--problem",
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

/* `seqk tune --ops softmax` tunes "opencl.softmax" on a softmax bench
 * problem and records an entry for its {rows, n} bucket. */
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

TCase *tune_cmd_tcase(void)
{
    TCase *tc = tcase_create("command");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, e2e_tune_show_check_export_import);
    tcase_add_test(tc, e2e_corrupt_db_and_bad_args);
    tcase_add_test(tc, e2e_failing_candidates_never_chosen);
    tcase_add_test(tc, e2e_tune_softmax_opencl);
    tcase_add_test(tc, e2e_smallest_spaces_first);
    return tc;
}
