/*
 * tune_tool.h — the pieces of `seqk tune` (cmd_tune.c) inside the tuner
 * library: the tasks of a device (tune_tasks.c), the journal that makes a
 * run resumable (tune_tasks.c) and the worker process that measures
 * candidates (tune_worker.c).
 *
 * Parent and worker talk over two pipes, one line per message:
 *   parent -> worker   "measure SEQ DESCRIPTOR TUNABLE N V1 .. VN\n"
 *   worker -> parent   "result SEQ OUTCOME MEDIAN_MS MIN_MS MESSAGE\n"
 * OUTCOME is a seqk_tune_outcome name ("ok", "wrong", "build"); "crash"
 * and "timeout" are the parent's verdicts when the worker dies or the
 * watchdog kills it.
 */
#ifndef SEQK_TUNER_TUNE_TOOL_H
#define SEQK_TUNER_TUNE_TOOL_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "bench_problems.h"
#include "db_write.h"
#include "search.h"
#include "seqk_tune.h"

/* ------------------------------------------------------------- tasks */

/* One tunable over one shape bucket of one device: the first problem of
 * the suite that falls into the bucket stands for it. */
typedef struct tune_task {
    const seqk_tunable *t;
    char desc[128];                   /* the problem's descriptor */
    int64_t shape[SEQK_TUNE_MAX_SHAPE];
    int bucket[SEQK_TUNE_MAX_SHAPE];
    char key[160];                    /* "id@b0,b1,.." (journal) */
} tune_task;

/* The kinds selected by --ops ("gemm,lstm,gru,rnn,attention,seqattn,
 * softmax"): bit (1 << bench_kind); softmax_out: softmax was asked for.
 * Returns 0, or -1 with the bad name in err. */
int tune_parse_ops(const char *list, unsigned *kinds, int *softmax_out,
                   char *err, size_t err_len);

/* Whether tunable t applies to the device spec ("avx512", "opencl:0.0"):
 * its backend is the device's, and an ISA-specific id ("...avx512")
 * names this ISA. */
int tune_tunable_applies(const seqk_tunable *t, const char *spec);

/* The shape t is bucketed by for problem p (t->shape_names mapped onto
 * the problem's sizes); -1 when t does not take this problem. */
int tune_task_shape(const seqk_tunable *t, const bench_problem *p,
                    int64_t *shape);

/* The tasks for device spec over problems descs[0..n): every applicable
 * tunable per problem whose kind is in kinds, one task per (tunable,
 * bucket).  *out is malloc'd.  Returns the count, or -1 (out of memory). */
int tune_build_tasks(const char *spec, const char *const *descs, int n,
                     unsigned kinds, tune_task **out);

/* ----------------------------------------------------------- journal */

/* What a journal line records: a measured candidate of a task, or that
 * the task is finished. */
typedef struct tune_journal_line {
    char key[160];
    int done;
    seqk_tune_result r;
    int num_values;
    int values[SEQK_TUNE_MAX_PARAMS];
} tune_journal_line;

/* "<db>.journal-<16 hex>": the hash covers the device fingerprint and
 * the arguments that shape the search (spec, tasks, seed). */
void tune_journal_path(const char *db_path, const seqk_tune_fp *fp,
                       const char *args, char *buf, size_t len);
/* Reads every well-formed line of path (a torn last line is skipped);
 * *lines malloc'd (NULL and 0 when there is no journal). */
int tune_journal_read(const char *path, tune_journal_line **lines);
/* Appends one line and flushes it to disk; returns 0 or -1. */
int tune_journal_append(FILE *f, const tune_journal_line *l);

/* ------------------------------------------------------------ worker */

/* `seqk tune --worker --device SPEC [--db PATH]`: serves measure
 * requests on stdin until EOF. */
int tune_worker_main(int argc, char **argv);

typedef struct tune_worker {
    pid_t pid;       /* 0: not running */
    int to_fd, from_fd;
    char spec[64];
    char db[1024];
    char buf[4096];  /* unread bytes from the worker */
    size_t have;
} tune_worker;

/* Starts `self tune --worker` for device spec. Returns 0, or -1 with a
 * message in err. */
int tune_worker_start(tune_worker *w, const char *self, const char *spec,
                      const char *db, char *err, size_t err_len);
/* Measures one candidate (values NULL: none, the tunable's id "-") with
 * a watchdog of timeout_s seconds.  On a crash or a timeout the worker
 * is gone afterwards (pid 0) and r says why; msg gets the worker's
 * message or the reason. */
void tune_worker_measure(tune_worker *w, long seq, const char *desc,
                         const seqk_tunable *t, const int *values,
                         double timeout_s, seqk_tune_result *r, char *msg,
                         size_t msg_len);
/* Closes the pipes and reaps the worker (killed if still running). */
void tune_worker_stop(tune_worker *w);

/* ---------------------------------------- devices, database commands */

#define MAX_DEVICES 16

/* The default devices to tune: the best CPU backend (every one with
 * all_cpu), every OpenCL device (none with cpu_only) and, when there is
 * one, "auto" (the device choice of auto contexts; not with all_cpu).
 * Returns the count written to specs. */
int tune_default_devices(char specs[][32], int max, int cpu_only,
                         int all_cpu);
/* Drops specs that resolve to a device named before (auto kept once);
 * 0, or exit code 2 (1) with a message when a spec cannot be opened. */
int tune_unique_devices(char specs[][32], int *n);
/* Fingerprint and limits (lim may be NULL) of device spec; -1 with a
 * message on stderr when no context can be created on it. */
int tune_device_facts(const char *spec, seqk_tune_fp *fp,
                      seqk_tune_limits *lim);
/* The commands; each returns the exit status. */
int tune_cmd_show(const char *dbpath);
int tune_cmd_export_import(const char *dbpath, const char *file,
                           int import);
int tune_cmd_check(const char *dbpath, const char *file);
int tune_cmd_reset(const char *dbpath);

#endif
