/*
 * test_bench.c — `seqk bench`: descriptor parsing and rejection, FLOP
 * formulas, the suites, and the command itself (run as a child process,
 * binary from $SEQK_EXE) in its three output formats on every test device.
 * Timings are printed by the command but never checked.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench_problems.h"
#include "testutil.h"

static bench_problem parse_ok(const char *text)
{
    bench_problem p;
    char err[256] = "";
    ck_assert_msg(bench_parse(text, &p, err, sizeof err) == 0,
                  "\"%s\" rejected: %s", text, err);
    ck_assert_ptr_eq(p.text, text);
    return p;
}

START_TEST(parse_gemm)
{
    bench_problem p = parse_ok("gemm:m=3,n=5,k=7");
    ck_assert_int_eq(p.kind, BENCH_GEMM);
    ck_assert_int_eq(p.m, 3);
    ck_assert_int_eq(p.n, 5);
    ck_assert_int_eq(p.k, 7);
    ck_assert_int_eq(p.transa, 0);
    ck_assert_int_eq(p.transb, 0);

    p = parse_ok("gemm:k=70,transb=1,m=2147483647,n=1,transa=1");
    ck_assert_int_eq(p.m, 2147483647);
    ck_assert_int_eq(p.n, 1);
    ck_assert_int_eq(p.k, 70);
    ck_assert_int_eq(p.transa, 1);
    ck_assert_int_eq(p.transb, 1);
}
END_TEST

START_TEST(parse_rnn_family)
{
    bench_problem p = parse_ok("lstm:hidden=4,batch=2,seq=3");
    ck_assert_int_eq(p.kind, BENCH_LSTM);
    ck_assert_int_eq(p.hidden, 4);
    ck_assert_int_eq(p.batch, 2);
    ck_assert_int_eq(p.seq, 3);
    ck_assert_int_eq(p.input, 4); /* defaults to hidden */
    ck_assert_int_eq(p.bidir, 0);
    ck_assert_int_eq(p.layers, 1);

    p = parse_ok("lstm:layers=3,dir=bi,input=10,seq=5,batch=6,hidden=7");
    ck_assert_int_eq(p.input, 10);
    ck_assert_int_eq(p.bidir, 1);
    ck_assert_int_eq(p.layers, 3);
    ck_assert_int_eq(p.seq, 5);
    ck_assert_int_eq(p.batch, 6);
    ck_assert_int_eq(p.hidden, 7);
    p = parse_ok("lstm:hidden=4,batch=2,seq=3,dir=fwd");
    ck_assert_int_eq(p.bidir, 0);

    p = parse_ok("gru:hidden=8,batch=1,seq=2");
    ck_assert_int_eq(p.kind, BENCH_GRU);
    ck_assert_int_eq(p.lbr, 1);
    p = parse_ok("gru:hidden=8,batch=1,seq=2,lbr=0,dir=bi,input=3");
    ck_assert_int_eq(p.lbr, 0);
    ck_assert_int_eq(p.bidir, 1);
    ck_assert_int_eq(p.input, 3);

    p = parse_ok("rnn:hidden=8,batch=1,seq=2");
    ck_assert_int_eq(p.kind, BENCH_RNN);
    ck_assert_int_eq(p.act, 0);
    p = parse_ok("rnn:hidden=8,batch=1,seq=2,act=relu,layers=2");
    ck_assert_int_eq(p.act, 1);
    ck_assert_int_eq(p.layers, 2);
    p = parse_ok("rnn:hidden=8,batch=1,seq=2,act=tanh");
    ck_assert_int_eq(p.act, 0);
}
END_TEST

START_TEST(parse_attention)
{
    bench_problem p = parse_ok("attention:batch=2,heads=3,seq=4,dim=5");
    ck_assert_int_eq(p.kind, BENCH_ATTENTION);
    ck_assert_int_eq(p.batch, 2);
    ck_assert_int_eq(p.heads, 3);
    ck_assert_int_eq(p.seq, 4);
    ck_assert_int_eq(p.dim, 5);
    ck_assert_int_eq(p.kvseq, 4); /* defaults to seq */
    ck_assert_int_eq(p.causal, 0);
    p = parse_ok("attention:batch=2,heads=3,seq=4,dim=5,kvseq=9,causal=1");
    ck_assert_int_eq(p.kvseq, 9);
    ck_assert_int_eq(p.causal, 1);

    const char *names[] = {"dot", "general", "scaled_dot", "additive",
                           "cosine", "location"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "seqattn:batch=2,seq=3,dim=4,score=%s",
                 names[i]);
        p = parse_ok(text);
        ck_assert_int_eq(p.kind, BENCH_SEQATTN);
        ck_assert_int_eq(p.batch, 2);
        ck_assert_int_eq(p.seq, 3);
        ck_assert_int_eq(p.dim, 4);
        ck_assert_int_eq(p.score, seqk_score_from_name(names[i]));
    }
}
END_TEST

START_TEST(parse_softmax)
{
    bench_problem p = parse_ok("softmax:rows=768,n=128");
    ck_assert_int_eq(p.kind, BENCH_SOFTMAX);
    ck_assert_int_eq(p.rows, 768);
    ck_assert_int_eq(p.n, 128);
    ck_assert_int_eq(p.inner, 0); /* not given: X is [rows, n] */
    p = parse_ok("softmax:inner=5,n=1,rows=3");
    ck_assert_int_eq(p.rows, 3);
    ck_assert_int_eq(p.n, 1);
    ck_assert_int_eq(p.inner, 5);
    ck_assert_str_eq(bench_kind_name(p.kind), "softmax");
    double atol, rtol;
    bench_tolerance(&p, &atol, &rtol);
    ck_assert(atol > 0.0 && rtol > 0.0);
}
END_TEST

static const struct {
    const char *text, *needle;
} bad[] = {
    {"", "empty"},
    {"conv:m=1", "unknown kind \"conv\""},
    {"GEMM:m=1,n=1,k=1", "unknown kind"},
    {"gemm:m=3,n=5", "missing key k"},
    {"gemm", "missing key m"},
    {"gemm:m=3,n=5,k=7,x=1", "unknown key \"x\""},
    {"lstm:hidden=4,batch=2,seq=3,lbr=0", "unknown key \"lbr\""},
    {"gru:hidden=4,batch=2,seq=3,act=relu", "unknown key \"act\""},
    {"gemm:m=3,n=5,k=abc", "k=abc: not a number"},
    {"gemm:m=3,n=5,k=7x", "not a number"},
    {"gemm:m=3,n=5,k=", "not a number"},
    {"attention:batch=1,heads=1,seq=1,dim=1.5", "not a number"},
    {"gemm:m=3,n=5,k=+7", "not a number"},
    {"gemm:m=3,n=5,k=0", "k=0: must be a positive integer"},
    {"gemm:m=-3,n=5,k=7", "m=-3: must be a positive integer"},
    {"gemm:m=3,n=5,k=99999999999999999999999", "too large"},
    {"gemm:m=3,n=5,k=2147483648", "too large"},
    {"gemm:m=2000000000,n=2000000000,k=2000000000", "overflow"},
    {"attention:batch=100000,heads=100000,seq=100000,dim=1", "overflow"},
    {"gemm:m=3,n=5,k=7,transa=2", "transa=2: expected 0 or 1"},
    {"gemm:m=3,m=4,n=5,k=7", "m given twice"},
    {"gemm:m=3,,n=5,k=7", "empty key=value"},
    {"gemm:m=3,n=5,k=7,", "empty key=value"},
    {"gemm:m3,n=5,k=7", "\"m3\" is not key=value"},
    {"lstm:hidden=4,batch=2,seq=3,dir=up", "dir=up: expected fwd or bi"},
    {"rnn:hidden=4,batch=2,seq=3,act=sigmoid", "expected tanh or relu"},
    {"seqattn:batch=1,seq=2,dim=3", "missing key score"},
    {"seqattn:batch=1,seq=2,dim=3,score=bilinear", "score=bilinear"},
    {"attention:batch=1,heads=1,seq=4,dim=8,causal=yes", "expected 0 or 1"},
    {"softmax:rows=4", "missing key n"},
    {"softmax:n=4", "missing key rows"},
    {"softmax:rows=4,n=0", "n=0: must be a positive integer"},
    {"softmax:rows=4,n=8,inner=0", "inner=0: must be a positive integer"},
    {"softmax:rows=4,n=8,inner=-2", "must be a positive integer"},
    {"softmax:rows=4,n=8,axis=1", "unknown key \"axis\" (softmax takes "
                                  "rows, n, inner)"},
    {"softmax:rows=x,n=8", "rows=x: not a number"},
    {"softmax:rows=4,n=8,rows=2", "rows given twice"},
    {"softmax:rows=4,n=4294967296", "too large"},
    {"softmax:rows=2000000000,n=2000000000,inner=2000000000", "overflow"},
    {"softmx:rows=4,n=8", "or softmax)"},
};

START_TEST(parse_rejects)
{
    const char *text = bad[_i].text, *needle = bad[_i].needle;
    bench_problem p;
    char err[256] = "";
    ck_assert_msg(bench_parse(text, &p, err, sizeof err) != 0,
                  "\"%s\" accepted", text);
    ck_assert_msg(strstr(err, needle) != NULL,
                  "\"%s\": message \"%s\" lacks \"%s\"", text, err, needle);
    ck_assert_msg(strchr(err, '\n') == NULL, "message spans lines: %s", err);
}
END_TEST

START_TEST(flop_counts)
{
    bench_problem p = parse_ok("gemm:m=3,n=5,k=7,transb=1");
    ck_assert_double_eq(bench_flops(&p), 2.0 * 3 * 5 * 7);

    /* 2*T*B*G*H*(I+H) per layer and direction */
    p = parse_ok("lstm:hidden=4,batch=2,seq=3");
    ck_assert_double_eq(bench_flops(&p), 2.0 * 3 * 2 * 16 * (4 + 4));
    p = parse_ok("gru:hidden=4,batch=2,seq=3,input=6");
    ck_assert_double_eq(bench_flops(&p), 2.0 * 3 * 2 * 12 * (6 + 4));
    p = parse_ok("rnn:hidden=4,batch=2,seq=3,act=relu");
    ck_assert_double_eq(bench_flops(&p), 2.0 * 3 * 2 * 4 * (4 + 4));
    /* layer 1 of a bidirectional stack reads 2*H features */
    p = parse_ok("lstm:hidden=4,batch=2,seq=3,input=6,dir=bi,layers=2");
    ck_assert_double_eq(bench_flops(&p), 2 * (2.0 * 3 * 2 * 16 * (6 + 4)) +
                                             2 * (2.0 * 3 * 2 * 16 * (8 + 4)));

    p = parse_ok("attention:batch=2,heads=3,seq=4,kvseq=6,dim=5");
    ck_assert_double_eq(bench_flops(&p), 4.0 * 2 * 3 * 4 * 6 * 5);
    /* causal (top-left): count the attended (query, key) pairs */
    const int64_t shapes[3][2] = {{4, 6}, {7, 7}, {9, 3}};
    for (int c = 0; c < 3; c++) {
        char text[128];
        double pairs = 0;
        for (int64_t i = 0; i < shapes[c][0]; i++)
            for (int64_t j = 0; j < shapes[c][1]; j++)
                pairs += j <= i;
        snprintf(text, sizeof text, "attention:batch=2,heads=3,seq=%d,"
                 "kvseq=%d,dim=5,causal=1", (int)shapes[c][0],
                 (int)shapes[c][1]);
        p = parse_ok(text);
        ck_assert_double_eq(bench_flops(&p), 4.0 * 2 * 3 * 5 * pairs);
    }

    p = parse_ok("seqattn:batch=2,seq=3,dim=4,score=dot");
    ck_assert_double_eq(bench_flops(&p), 2 * (2.0 * 3 * 4 + 2.0 * 3 * 4));
    p = parse_ok("seqattn:batch=2,seq=3,dim=4,score=general");
    ck_assert_double_eq(bench_flops(&p),
                        2 * (2.0 * 4 * 4 + 2.0 * 3 * 4 + 2.0 * 3 * 4));

    /* 5 per element: max, subtract, exp, sum, scale */
    p = parse_ok("softmax:rows=3,n=7");
    ck_assert_double_eq(bench_flops(&p), 5.0 * 3 * 7);
    p = parse_ok("softmax:rows=3,n=7,inner=4");
    ck_assert_double_eq(bench_flops(&p), 5.0 * 3 * 7 * 4);
}
END_TEST

START_TEST(suites_parse)
{
    const char *names[] = {"quick", "deepbench"};
    for (int s = 0; s < 2; s++) {
        const char *const *list = bench_suite(names[s]);
        ck_assert_ptr_nonnull(list);
        ck_assert_ptr_nonnull(list[0]);
        int softmaxes = 0;
        for (int i = 0; list[i]; i++) {
            bench_problem p = parse_ok(list[i]);
            ck_assert(bench_flops(&p) > 0.0);
            softmaxes += p.kind == BENCH_SOFTMAX;
        }
        /* so that `seqk tune --ops softmax` has something to tune */
        ck_assert_msg(softmaxes >= 2, "%s: %d softmax problems", names[s],
                      softmaxes);
    }
    ck_assert_ptr_null(bench_suite("nope"));
}
END_TEST

/* ------------------------------------------------------ the command */

typedef struct run_out {
    int status; /* exit code, or -1 if the child did not exit normally */
    char *out, *err;
} run_out;

static void append(char **buf, size_t *len, const char *data, size_t n)
{
    char *p = realloc(*buf, *len + n + 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p + *len, data, n);
    *len += n;
    p[*len] = '\0';
    *buf = p;
}

/* Runs $SEQK_EXE with args (NULL-terminated, without argv[0]). */
static run_out run_seqk(const char *const *args)
{
    const char *exe = getenv("SEQK_EXE");
    ck_assert_msg(exe && *exe, "SEQK_EXE is not set");
    const char *argv[64];
    int n = 0;
    argv[n++] = exe;
    while (*args && n < 63)
        argv[n++] = *args++;
    argv[n] = NULL;

    int po[2], pe[2];
    ck_assert_int_eq(pipe(po), 0);
    ck_assert_int_eq(pipe(pe), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]);
        close(po[1]);
        close(pe[0]);
        close(pe[1]);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);

    run_out r = {-1, NULL, NULL};
    size_t lo = 0, le = 0;
    append(&r.out, &lo, "", 0);
    append(&r.err, &le, "", 0);
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            ck_assert_int_eq(errno, EINTR);
            continue;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            char buf[4096];
            ssize_t got = read(fds[i].fd, buf, sizeof buf);
            if (got <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            } else if (i == 0) {
                append(&r.out, &lo, buf, (size_t)got);
            } else {
                append(&r.err, &le, buf, (size_t)got);
            }
        }
    }
    int wst = 0;
    ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
    if (WIFEXITED(wst))
        r.status = WEXITSTATUS(wst);
    return r;
}

static void run_free(run_out *r)
{
    free(r->out);
    free(r->err);
}

/* Lines of text (modified in place) into lines[]; returns the count. */
static int split_lines(char *text, char **lines, int max)
{
    int n = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < max;
         l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    return n;
}

/* Every op kind, tiny; the first two are the contract's examples. */
static const char *const tiny[] = {
    "gemm:m=3,n=5,k=7",
    "lstm:hidden=4,batch=2,seq=3",
    "gemm:m=4,n=3,k=9,transa=1,transb=1",
    "gru:hidden=3,batch=2,seq=4,dir=bi,lbr=0",
    "rnn:hidden=5,batch=1,seq=3,act=relu,layers=2,input=2",
    "attention:batch=1,heads=2,seq=3,kvseq=5,dim=4,causal=1",
    "seqattn:batch=2,seq=5,dim=3,score=additive",
    "seqattn:batch=2,seq=5,dim=3,score=location",
    "softmax:rows=3,n=37",
    "softmax:rows=2,n=5,inner=3",
};
#define NUM_TINY (int)(sizeof tiny / sizeof tiny[0])

/* bench args for the tiny problems on every test device, one timed run. */
static int tiny_args(const char **args, const char *format)
{
    int n = 0;
    args[n++] = "bench";
    args[n++] = "--format";
    args[n++] = format;
    args[n++] = "--repeat";
    args[n++] = "1";
    args[n++] = "--min-time";
    args[n++] = "0";
    for (int d = 0; d < tu_device_count(); d++) {
        args[n++] = "--device";
        args[n++] = tu_device(d);
    }
    for (int i = 0; i < NUM_TINY; i++)
        args[n++] = tiny[i];
    args[n] = NULL;
    return n;
}

START_TEST(command_json)
{
    const char *args[64];
    tiny_args(args, "json");
    run_out r = run_seqk(args);
    ck_assert_msg(r.status == 0, "exit %d, stderr: %s", r.status, r.err);

    char *lines[256];
    int n = split_lines(r.out, lines, 256);
    ck_assert_int_eq(n, NUM_TINY * tu_device_count());
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_Parse(lines[i]);
        ck_assert_msg(o != NULL, "line %d is not JSON: %s", i, lines[i]);
        const char *str_keys[] = {"problem", "op", "device"};
        const char *num_keys[] = {"threads", "ms_median", "ms_min", "gflops"};
        for (int k = 0; k < 3; k++)
            ck_assert_msg(cJSON_IsString(cJSON_GetObjectItem(o, str_keys[k])),
                          "line %d lacks string %s: %s", i, str_keys[k],
                          lines[i]);
        for (int k = 0; k < 4; k++)
            ck_assert_msg(cJSON_IsNumber(cJSON_GetObjectItem(o, num_keys[k])),
                          "line %d lacks number %s: %s", i, num_keys[k],
                          lines[i]);
        ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(o, "valid")),
                      "line %d not valid: %s", i, lines[i]);
        /* Problems come in order, each on every device in turn. */
        int d = i % tu_device_count();
        const char *problem = tiny[i / tu_device_count()];
        ck_assert_str_eq(cJSON_GetObjectItem(o, "problem")->valuestring,
                         problem);
        ck_assert_str_eq(cJSON_GetObjectItem(o, "device")->valuestring,
                         tu_device(d));
        char kind[32];
        snprintf(kind, sizeof kind, "%.*s", (int)strcspn(problem, ":"),
                 problem);
        ck_assert_str_eq(cJSON_GetObjectItem(o, "op")->valuestring, kind);
        ck_assert(cJSON_GetObjectItem(o, "ms_min")->valuedouble <=
                  cJSON_GetObjectItem(o, "ms_median")->valuedouble);
        ck_assert(cJSON_GetObjectItem(o, "threads")->valuedouble >= 1);
        cJSON_Delete(o);
    }
    run_free(&r);
}
END_TEST

START_TEST(command_csv_and_table)
{
    const char *args[64];
    tiny_args(args, "csv");
    run_out r = run_seqk(args);
    ck_assert_msg(r.status == 0, "exit %d, stderr: %s", r.status, r.err);
    char *lines[256];
    int n = split_lines(r.out, lines, 256);
    ck_assert_int_eq(n, 1 + NUM_TINY * tu_device_count());
    const char *head = "problem,device,threads,ms_median,ms_min,gflops,"
                       "valid,";
    ck_assert_msg(!strncmp(lines[0], head, strlen(head)), "%s", lines[0]);
    /* descriptors hold commas, so they are quoted */
    char want[128];
    snprintf(want, sizeof want, "\"%s\",%s,", tiny[0], tu_device(0));
    ck_assert_msg(!strncmp(lines[1], want, strlen(want)), "%s", lines[1]);
    ck_assert_ptr_nonnull(strstr(lines[1], ",true,gemm,"));
    run_free(&r);

    tiny_args(args, "table");
    r = run_seqk(args);
    ck_assert_msg(r.status == 0, "exit %d, stderr: %s", r.status, r.err);
    n = split_lines(r.out, lines, 256);
    ck_assert_int_eq(n, 1 + NUM_TINY * tu_device_count());
    const char *cols[] = {"problem", "device", "threads", "ms_median",
                          "ms_min", "gflops", "valid"};
    const char *at = lines[0];
    for (int c = 0; c < 7; c++) {
        const char *hit = strstr(at, cols[c]);
        ck_assert_msg(hit != NULL, "header lacks %s in order: %s", cols[c],
                      lines[0]);
        at = hit + strlen(cols[c]);
    }
    ck_assert(!strncmp(lines[0], "problem ", 8));
    for (int i = 1; i < n; i++) {
        ck_assert_msg(!strncmp(lines[i], tiny[(i - 1) / tu_device_count()],
                               strlen(tiny[(i - 1) / tu_device_count()])),
                      "%s", lines[i]);
        size_t len = strlen(lines[i]);
        ck_assert_msg(len > 4 && !strcmp(lines[i] + len - 4, "true"), "%s",
                      lines[i]);
        /* aligned: every row as long as the header up to the last column */
        ck_assert_int_eq(strlen(lines[0]) - strlen("valid"), len - 4);
    }
    run_free(&r);
}
END_TEST

START_TEST(command_usage_errors)
{
    const char *bad_problem[] = {"bench", "--device", "ref",
                                 "gemm:m=3,n=5,k=7", "gemm:m=3,q=5", NULL};
    run_out r = run_seqk(bad_problem);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.out, ""); /* nothing ran */
    ck_assert_msg(strstr(r.err, "\"gemm:m=3,q=5\"") &&
                  strstr(r.err, "unknown key \"q\""), "%s", r.err);
    ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                  "more than one line: %s", r.err);
    run_free(&r);

    const char *bad_value[] = {"bench", "lstm:hidden=0,batch=1,seq=1", NULL};
    r = run_seqk(bad_value);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, "hidden=0"), "%s", r.err);
    run_free(&r);

    const char *cases[][4] = {
        {"bench", "--frobnicate", NULL, NULL},
        {"bench", "--format", "xml", NULL},
        {"bench", "--suite", "huge", NULL},
        {"bench", "--repeat", "0", NULL},
        {"bench", "--threads", "-1", NULL},
        {"bench", "--min-time", "abc", NULL},
        {"bench", "--device", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = run_seqk(cases[i]);
        ck_assert_msg(r.status == 2, "%s %s: exit %d", cases[i][1],
                      cases[i][2] ? cases[i][2] : "", r.status);
        ck_assert_msg(strlen(r.err) > 0, "%s: no message", cases[i][1]);
        run_free(&r);
    }

    const char *help[] = {"bench", "--help", NULL};
    r = run_seqk(help);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: seqk bench"));
    run_free(&r);

    /* --list prints the default suite without running it */
    const char *list[] = {"bench", "--list", NULL};
    r = run_seqk(list);
    ck_assert_int_eq(r.status, 0);
    const char *const *quick = bench_suite("quick");
    for (int i = 0; quick[i]; i++)
        ck_assert_msg(strstr(r.out, quick[i]), "%s missing", quick[i]);
    run_free(&r);

    const char *no_device[] = {"bench", "--device", "nosuchdevice",
                               "gemm:m=1,n=1,k=1", NULL};
    r = run_seqk(no_device);
    ck_assert_int_eq(r.status, 2); /* a usage error, as in seqk run */
    ck_assert_ptr_nonnull(strstr(r.err, "nosuchdevice"));
    run_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bench");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, parse_gemm);
    tcase_add_test(tc, parse_rnn_family);
    tcase_add_test(tc, parse_attention);
    tcase_add_test(tc, parse_softmax);
    tcase_add_loop_test(tc, parse_rejects, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, flop_counts);
    tcase_add_test(tc, suites_parse);
    suite_add_tcase(s, tc);

    tc = tcase_create("command");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, command_json);
    tcase_add_test(tc, command_csv_and_table);
    tcase_add_test(tc, command_usage_errors);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
