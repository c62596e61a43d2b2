/*
 * seqk_tune.h — the tuner library (libseqk_tune, top-level tune/): the
 * `seqk tune` command, the database check the `seqk` tool makes, and the
 * problems `seqk bench` and `seqk tune` measure (bench_problems.h).
 *
 * The runtime library (libseqk) only reads the tuning database and looks
 * entries up; this library searches, measures and writes it.  It is
 * built on the runtime, which whatever links it must link too.  The
 * `seqk` tool (tools/) uses this header and include/seqk.h, nothing else.
 */
#ifndef SEQK_TUNE_PUBLIC_H
#define SEQK_TUNE_PUBLIC_H

#include <stddef.h>

#include "bench_problems.h"
#include "seqk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `seqk tune ...`: argv[0] is "tune", the options follow (`seqk tune
 * --help` lists them).  Returns the process exit code: 0 success, 1
 * failure, 2 usage error. */
int seqk_tune_command(int argc, char **argv);

/* Whether the tuning database at path (NULL: $SEQK_TUNING_DB, else the
 * default path, as a context would read it) is usable.  SEQK_OK when it
 * is, when there is no file, or when there is no path; else the reason
 * the library ignores it (SEQK_ERR_TUNING_DB, SEQK_ERR_IO, ...) with a
 * one-line message naming the file in msg (msg may be NULL; "" on
 * SEQK_OK). */
seqk_status seqk_tune_db_check(const char *path, char *msg, size_t msg_len);

/* The path a context reads the tuning database from ($SEQK_TUNING_DB,
 * else $XDG_CACHE_HOME/seqk/tuning.json, else ~/.cache/...) into buf;
 * "" when there is none (no such variables, or it does not fit). */
void seqk_tune_db_default_path(char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* SEQK_TUNE_PUBLIC_H */
