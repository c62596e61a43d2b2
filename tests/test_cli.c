/*
 * test_cli.c — what every `seqk` command shares (tools/cli.h): the exit
 * codes (2 for a device spec naming no usable device, in every command),
 * --threads everywhere, the environment list of the top-level help, the
 * provenance of bench results, bench's ONNX spellings, the silent device
 * time probe, and `seqk tune --check` without a database.  The binary is
 * $SEQK_EXE, run as a child with its output in files.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench_problems.h"
#include "testutil.h"

typedef struct out {
    int status;
    char out[16384], err[8192];
} out;

/* Runs $SEQK_EXE args... (NULL-terminated) with env "NAME=VALUE" (may be
 * NULL) set in the child. */
static void run(out *o, const char *env, const char *const *args)
{
    const char *exe = getenv("SEQK_EXE");
    ck_assert_msg(exe && *exe, "SEQK_EXE is not set");
    const char *argv[32];
    int n = 0;
    argv[n++] = exe;
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char po[] = "/tmp/seqk_cli_out_XXXXXX", pe[] = "/tmp/seqk_cli_err_XXXXXX";
    int fo = mkstemp(po), fe = mkstemp(pe);
    ck_assert(fo >= 0 && fe >= 0);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        if (env) {
            char buf[256];
            snprintf(buf, sizeof buf, "%s", env);
            char *eq = strchr(buf, '=');
            *eq = '\0';
            setenv(buf, eq + 1, 1);
        }
        dup2(fo, 1);
        dup2(fe, 2);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    ck_assert(waitpid(pid, &st, 0) == pid);
    ck_assert_msg(WIFEXITED(st), "%s %s died", exe, args[0]);
    o->status = WEXITSTATUS(st);
    ssize_t k = pread(fo, o->out, sizeof o->out - 1, 0);
    o->out[k > 0 ? k : 0] = '\0';
    k = pread(fe, o->err, sizeof o->err - 1, 0);
    o->err[k > 0 ? k : 0] = '\0';
    close(fo);
    close(fe);
    unlink(po);
    unlink(pe);
}

/* Every command: a device spec naming nothing is a usage error (2). */
START_TEST(bad_device_exits_2_everywhere)
{
    static out o;
    const char *const cmds[][8] = {
        { "run", "Softmax", "--device", "nosuch", "-i", "input=x.npy", "-o",
          "output=y.npy" },
        { "bench", "--device", "nosuch", "gemm:m=1,n=1,k=1", NULL },
        { "info", "--device", "nosuch", NULL },
        { "tune", "--device", "nosuch", "--budget", "0", NULL },
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        const char *args[10] = { NULL };
        memcpy(args, cmds[i], sizeof cmds[i]);
        run(&o, NULL, args);
        ck_assert_msg(o.status == 2, "seqk %s: exit %d, want 2: %s",
                      cmds[i][0], o.status, o.err);
        ck_assert_msg(strstr(o.err, "nosuch"), "seqk %s: %s", cmds[i][0],
                      o.err);
    }
}
END_TEST

/* --threads: every command takes it; a bad value is a usage error; more
 * than the cores is taken with one warning. */
START_TEST(threads_everywhere)
{
    static out o;
    const char *const bad[][6] = {
        { "run", "Softmax", "--threads", "-3", NULL },
        { "bench", "--threads", "x", "gemm:m=1,n=1,k=1", NULL },
        { "info", "--threads", "2000", NULL },
        { "tune", "--threads", "", "--show", NULL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[8] = { NULL };
        memcpy(args, bad[i], sizeof bad[i]);
        run(&o, NULL, args);
        ck_assert_msg(o.status == 2 && strstr(o.err, "--threads"),
                      "seqk %s: exit %d: %s", bad[i][0], o.status, o.err);
    }
    const char *info[] = { "info", "--threads", "3", "--device", "ref",
                           NULL };
    run(&o, NULL, info);
    ck_assert_msg(o.status == 0, "%s", o.err);
    ck_assert_msg(strstr(o.out, "3 thread(s)"), "%s", o.out);
    const char *many[] = { "bench", "--threads", "1024", "--device", "ref",
                           "--repeat", "1", "--min-time", "0",
                           "--format", "json", "gemm:m=2,n=2,k=2", NULL };
    run(&o, NULL, many);
    ck_assert_msg(o.status == 0, "%s", o.err);
    ck_assert_msg(strstr(o.err, "warning: --threads 1024 exceeds"), "%s",
                  o.err);
    ck_assert_msg(strstr(o.out, "\"threads\":1024"), "%s", o.out);
}
END_TEST

/* The top-level help names every SEQK_ variable the code reads. */
START_TEST(help_lists_environment)
{
    static out o;
    const char *args[] = { "--help", NULL };
    run(&o, NULL, args);
    ck_assert_int_eq(o.status, 0);
    const char *vars[] = { "SEQK_DEVICE", "SEQK_NUM_THREADS",
                           "SEQK_TUNING_DB", "SEQK_DISABLE_CPU_FEATURES",
                           "SEQK_VERBOSE", "SEQK_OPENCL_GEMM",
                           "SEQK_OPENCL_PROFILE", "SEQK_KERNEL_DIR",
                           "SEQK_TUNE_WORKER", "exit status", "--threads" };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        ck_assert_msg(strstr(o.out, vars[i]), "help lacks %s", vars[i]);
    const char *const cmds[] = { "run", "bench", "info", "tune" };
    for (size_t i = 0; i < 4; i++) {
        const char *h[] = { cmds[i], "--help", NULL };
        run(&o, NULL, h);
        ck_assert_int_eq(o.status, 0);
        ck_assert_msg(strstr(o.out, "exit status") ||
                          strstr(o.out, "Exit status"),
                      "seqk %s --help has no exit status", cmds[i]);
        ck_assert_msg(strstr(o.out, "--threads"), "seqk %s --help lacks "
                      "--threads", cmds[i]);
    }
}
END_TEST

/* Every JSON result carries its provenance; no spurious device-time error
 * under SEQK_VERBOSE=all on a host device. */
START_TEST(bench_provenance_and_quiet_probe)
{
    static out o;
    const char *args[] = { "bench", "--device", "ref", "--repeat", "1",
                           "--min-time", "0", "--format", "json",
                           "gemm:m=2,n=3,k=4", NULL };
    run(&o, "SEQK_VERBOSE=all", args);
    ck_assert_msg(o.status == 0, "%s", o.err);
    ck_assert_msg(!strstr(o.err, "seqk_context_device_time"), "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    ck_assert_msg(j, "%s", o.out);
    const char *keys[] = { "cpu", "os", "device_name", "device_vendor",
                           "device_driver", "seqk_version", "seqk_git",
                           "date", "tuning_db" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        cJSON *v = cJSON_GetObjectItem(j, keys[i]);
        ck_assert_msg(cJSON_IsString(v) && v->valuestring[0], "no %s: %s",
                      keys[i], o.out);
    }
    const char *date = cJSON_GetObjectItem(j, "date")->valuestring;
    ck_assert_msg(strlen(date) == 20 && date[4] == '-' && date[10] == 'T' &&
                  date[19] == 'Z', "date %s", date);
    const char *db = cJSON_GetObjectItem(j, "tuning_db")->valuestring;
    ck_assert_msg(!strcmp(db, "untuned") || !strncmp(db, "fnv1a64:", 8),
                  "%s", db);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "seqk_version")->valuestring,
                     seqk_version_string());
    cJSON_Delete(j);

    const char *csv[] = { "bench", "--device", "ref", "--repeat", "1",
                          "--min-time", "0", "--format", "csv",
                          "gemm:m=2,n=3,k=4", NULL };
    run(&o, NULL, csv);
    ck_assert_msg(o.status == 0, "%s", o.err);
    ck_assert_msg(strstr(o.out, ",cpu,os,device_name,device_vendor,"
                                "device_driver,seqk_version,seqk_git,date,"
                                "tuning_db\n"), "%s", o.out);
}
END_TEST

/* A tuning database file is identified by its bytes' hash. */
START_TEST(bench_tuning_db_hash)
{
    static out o;
    char path[] = "/tmp/seqk_cli_db_XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    const char *empty = "{\"seqk_tuning_db\": 1, \"entries\": []}\n";
    ck_assert(write(fd, empty, strlen(empty)) == (ssize_t)strlen(empty));
    close(fd);
    char env[300];
    snprintf(env, sizeof env, "SEQK_TUNING_DB=%s", path);
    const char *args[] = { "bench", "--device", "ref", "--repeat", "1",
                           "--min-time", "0", "--format", "json",
                           "gemm:m=2,n=3,k=4", NULL };
    run(&o, env, args);
    unlink(path);
    ck_assert_msg(o.status == 0, "%s", o.err);
    /* a usable file has a hash; an unusable one is "untuned" (the
     * library ignores it), with the tool's warning */
    cJSON *j = cJSON_Parse(o.out);
    ck_assert(j);
    const char *db = cJSON_GetObjectItem(j, "tuning_db")->valuestring;
    if (o.err[0])
        ck_assert_str_eq(db, "untuned");
    else
        ck_assert_msg(!strncmp(db, "fnv1a64:", 8) && strlen(db) == 24, "%s",
                      db);
    cJSON_Delete(j);
}
END_TEST

/* bench takes run's ONNX spellings, and run's short ones are bench's. */
START_TEST(bench_onnx_spellings)
{
    bench_problem a, b;
    char err[256];
    ck_assert_msg(!bench_parse("gru:hidden=4,batch=2,seq=3,direction="
                               "bidirectional,linear_before_reset=0,"
                               "num_layers=2", &a, err, sizeof err), "%s",
                  err);
    ck_assert_msg(!bench_parse("gru:hidden=4,batch=2,seq=3,dir=bi,lbr=0,"
                               "layers=2", &b, err, sizeof err), "%s", err);
    ck_assert_int_eq(a.bidir, 1);
    ck_assert_int_eq(a.lbr, 0);
    ck_assert_int_eq(a.layers, 2);
    ck_assert_int_eq(a.bidir, b.bidir);
    ck_assert_int_eq(a.lbr, b.lbr);
    ck_assert_int_eq(a.layers, b.layers);
    ck_assert(bench_parse("lstm:hidden=4,batch=2,seq=3,dir=bi,"
                          "direction=forward", &a, err, sizeof err) != 0);
    ck_assert_msg(strstr(err, "twice"), "%s", err);
    ck_assert(bench_parse("lstm:hidden=4,batch=2,seq=3,direction=sideways",
                          &a, err, sizeof err) != 0);
    ck_assert_msg(strstr(err, "forward or bidirectional"), "%s", err);
}
END_TEST

/* No database is an empty one for --check as for --show; a FILE named
 * on the command line that is missing is still an error. */
START_TEST(tune_check_without_db)
{
    static out o;
    const char *env = "SEQK_TUNING_DB=/tmp/seqk_cli_no_such_db.json";
    const char *check[] = { "tune", "--check", NULL };
    run(&o, env, check);
    ck_assert_msg(o.status == 0, "%s", o.err);
    ck_assert_msg(strstr(o.out, "0 entries"), "%s", o.out);
    const char *show[] = { "tune", "--show", NULL };
    run(&o, env, show);
    ck_assert_msg(o.status == 0, "%s", o.err);
    ck_assert_msg(strstr(o.out, "0 entries"), "%s", o.out);
    const char *named[] = { "tune", "--check", "/tmp/seqk_cli_typo.json",
                            NULL };
    run(&o, env, named);
    ck_assert_int_eq(o.status, 1);
    ck_assert_msg(strstr(o.err, "seqk_cli_typo.json"), "%s", o.err);
    const char *help[] = { "tune", "--help", NULL };
    run(&o, NULL, help);
    ck_assert_msg(strstr(o.out, "auto"), "tune help does not say it tunes "
                  "auto: %s", o.out);
}
END_TEST

/* ------------------------------------------------ seqk bench model.onnx */

/* The JSON line of device dev in o->out (parsed; NULL if none). */
static cJSON *json_line(const out *o, const char *dev)
{
    const char *p = o->out;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        cJSON *j = cJSON_ParseWithLength(p, len);
        cJSON *d = j ? cJSON_GetObjectItem(j, "device") : NULL;
        if (cJSON_IsString(d) && !strcmp(d->valuestring, dev))
            return j;
        cJSON_Delete(j);
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static double num(cJSON *j, const char *key)
{
    cJSON *v = cJSON_GetObjectItem(j, key);
    ck_assert_msg(cJSON_IsNumber(v), "no number %s", key);
    return v->valuedouble;
}

/* Random inputs from --dim (token ids within the table, full lengths),
 * every device validated against ref, the load and first-run times. */
START_TEST(bench_model_random_inputs)
{
    static out o;
    const char *dir = getenv("SEQK_MODELS_DIR");
    char path[512];
    if (!dir) { /* built without ONNX: refused with a clear error */
        const char *args[] = { "bench", "x.onnx", "--device", "ref", NULL };
        run(&o, NULL, args);
        ck_assert_int_eq(o.status, 1);
        return;
    }
    snprintf(path, sizeof path, "%s/lstm_classifier.onnx", dir);
    const char *args[] = { "bench", path, "--device", "ref", "--device",
                           "cpu", "--repeat", "3", "--min-time", "0",
                           "--format", "json", "--dim", "batch=3",
                           "--dim", "seq=7", NULL };
    run(&o, NULL, args);
    ck_assert_msg(o.status == 0, "%s\n%s", o.out, o.err);
    const char *devs[] = { "ref", "cpu" };
    for (int d = 0; d < 2; d++) {
        cJSON *j = json_line(&o, devs[d]);
        ck_assert_msg(j, "no %s line: %s", devs[d], o.out);
        ck_assert_str_eq(cJSON_GetObjectItem(j, "problem")->valuestring,
                         "lstm_classifier.onnx");
        ck_assert_str_eq(cJSON_GetObjectItem(j, "op")->valuestring, "model");
        ck_assert_str_eq(cJSON_GetObjectItem(j, "inputs")->valuestring,
                         "tokens=3x7:int64,lengths=3:int64");
        ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "valid")));
        ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "validated")));
        ck_assert(num(j, "ms_median") > 0 && num(j, "runs") >= 3);
        ck_assert(num(j, "load_ms") > 0 && num(j, "first_run_ms") > 0);
        ck_assert(num(j, "peak_rss_mb") > 1);
        ck_assert(num(j, "max_abs_err") <= 1e-3);
        ck_assert(cJSON_IsString(cJSON_GetObjectItem(j, "seqk_git")));
        cJSON_Delete(j);
    }
}
END_TEST

/* Given inputs are used as they are; the table and CSV forms. */
START_TEST(bench_model_given_inputs)
{
    static out o;
    const char *dir = getenv("SEQK_MODELS_DIR");
    char path[512], tok[560], h0[560], c0[560];
    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/charlm_step.onnx", dir);
    snprintf(tok, sizeof tok, "tokens=%s/charlm_step/b3/inputs/tokens.npy",
             dir);
    snprintf(h0, sizeof h0, "h0=%s/charlm_step/b3/inputs/h0.npy", dir);
    snprintf(c0, sizeof c0, "c0=%s/charlm_step/b3/inputs/c0.npy", dir);
    const char *args[] = { "bench", path, "-i", tok, "-i", h0, "-i", c0,
                           "--device", "cpu", "--repeat", "2", "--min-time",
                           "0", "--format", "csv", NULL };
    run(&o, NULL, args);
    ck_assert_msg(o.status == 0, "%s\n%s", o.out, o.err);
    ck_assert_msg(strstr(o.out, "problem,device,threads,ms_median,ms_min,"
                         "load_ms,first_run_ms,runs,peak_rss_mb,valid,"), "%s",
                  o.out);
    ck_assert_msg(strstr(o.out, "charlm_step.onnx,cpu,") &&
                  strstr(o.out, ",true,") &&
                  strstr(o.out, "tokens=3x4:int64,h0=1x3x64:float32,"),
                  "%s", o.out);
    /* a shape for one input, the declared one (symbolic dims 1) for the
     * others: batch 2 in tokens against 1 in h0 fails in the LSTM, and
     * says so (exit 1) */
    const char *bad[] = { "bench", path, "--shape", "tokens=2x4", "--device",
                          "cpu", "--repeat", "1", "--min-time", "0", NULL };
    run(&o, NULL, bad);
    ck_assert_msg(o.status == 1 && strstr(o.err, "charlm_step.onnx"), "%d %s",
                  o.status, o.err);
}
END_TEST

START_TEST(bench_model_usage_errors)
{
    static out o;
    const char *dir = getenv("SEQK_MODELS_DIR");
    char path[512], wrong[600];
    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/charlm_step.onnx", dir);
    /* h0 given as the int64 tokens file: a dtype error naming both */
    snprintf(wrong, sizeof wrong, "h0=%s/charlm_step/b1/inputs/tokens.npy",
             dir);
    const struct { const char *a[8]; int code; const char *msg; } cs[] = {
        {{ "bench", path, "-i", "nope=x.npy", NULL }, 2,
         "no input of that name"},
        {{ "bench", path, "--dim", "nope=3", NULL }, 2, "no symbolic dim"},
        {{ "bench", path, "--shape", "tokens=2y3", NULL }, 2,
         "expected dims"},
        {{ "bench", path, "gemm:m=1,n=1,k=1", NULL }, 2,
         "benchmarked alone"},
        {{ "bench", path, path, NULL }, 2, "one model at a time"},
        {{ "bench", "--dim", "batch=2", "gemm:m=1,n=1,k=1", NULL }, 2,
         "are for a model"},
        {{ "bench", path, "--device", "ref", "-i", wrong, NULL }, 1,
         "but the model declares float32"},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        run(&o, NULL, cs[i].a);
        ck_assert_msg(o.status == cs[i].code && strstr(o.err, cs[i].msg),
                      "case %zu: exit %d: %s", i, o.status, o.err);
    }
}
END_TEST

/* seqk_model_input_range: token ids index the embedding table (60 rows),
 * lengths bound by the sequence of the plan; other inputs nothing. */
START_TEST(model_input_range)
{
    const char *dir = getenv("SEQK_MODELS_DIR");
    char path[512];
    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/lstm_classifier.onnx", dir);
    seqk_model *m = NULL;
    seqk_model_input_kind kind;
    int64_t lo = -1, hi = -1;
    ck_assert_int_eq(seqk_model_load(path, NULL, &m), SEQK_OK);
    ck_assert_int_eq(seqk_model_input_range(m, 0, &kind, &lo, &hi),
                     SEQK_ERR_INVALID_ARG); /* no plan yet */
    const int64_t d0[] = {2, 9}, d1[] = {2};
    const int64_t *dims[] = {d0, d1};
    const int nd[] = {2, 1};
    ck_assert_int_eq(seqk_model_prepare(m, 2, NULL, nd, dims), SEQK_OK);
    ck_assert_int_eq(seqk_model_input_range(m, 0, &kind, &lo, &hi), SEQK_OK);
    ck_assert_msg(kind == SEQK_MODEL_INPUT_INDICES && lo == 0 && hi == 59,
                  "tokens: kind %d %lld..%lld", (int)kind, (long long)lo,
                  (long long)hi);
    ck_assert_int_eq(seqk_model_input_range(m, 1, &kind, &lo, &hi), SEQK_OK);
    ck_assert_msg(kind == SEQK_MODEL_INPUT_LENGTHS && lo == 0 && hi == 9,
                  "lengths: kind %d %lld..%lld", (int)kind, (long long)lo,
                  (long long)hi);
    ck_assert_int_eq(seqk_model_input_range(m, 2, &kind, &lo, &hi),
                     SEQK_ERR_INVALID_ARG);
    seqk_model_destroy(m);

    snprintf(path, sizeof path, "%s/charlm_step.onnx", dir);
    ck_assert_int_eq(seqk_model_load(path, NULL, &m), SEQK_OK);
    const int64_t t[] = {1, 1}, h[] = {1, 1, 64};
    const int64_t *dd[] = {t, h, h};
    const int nn[] = {2, 3, 3};
    ck_assert_int_eq(seqk_model_prepare(m, 3, NULL, nn, dd), SEQK_OK);
    ck_assert_int_eq(seqk_model_input_range(m, 1, &kind, &lo, &hi), SEQK_OK);
    ck_assert(kind == SEQK_MODEL_INPUT_OTHER && lo == 0 && hi == 0);
    seqk_model_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bad_device_exits_2_everywhere);
    tcase_add_test(tc, threads_everywhere);
    tcase_add_test(tc, help_lists_environment);
    tcase_add_test(tc, bench_provenance_and_quiet_probe);
    tcase_add_test(tc, bench_tuning_db_hash);
    tcase_add_test(tc, bench_onnx_spellings);
    tcase_add_test(tc, tune_check_without_db);
    tcase_add_test(tc, bench_model_random_inputs);
    tcase_add_test(tc, bench_model_given_inputs);
    tcase_add_test(tc, bench_model_usage_errors);
    tcase_add_test(tc, model_input_range);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
