/* cli.h — what the `seqk` subcommands share: the --threads option, the
 * exit code of a device that cannot be opened, and the provenance
 * (machine, device, build, date, tuning database) `seqk bench` stamps on
 * every result.
 *
 * Exit codes of every subcommand: 0 success, 1 a runtime failure (bad
 * input data, an op or a result that failed), 2 a usage error (unknown
 * option, bad value, a device spec that names no usable device). */
#ifndef SEQK_TOOLS_CLI_H
#define SEQK_TOOLS_CLI_H

#include <stddef.h>

#include "seqk.h"

#define CLI_MAX_THREADS 1024 /* as SEQK_NUM_THREADS */

/* Parses the value of --threads for command cmd ("run", ...): 0 (the
 * library default) .. CLI_MAX_THREADS.  Returns 0, or 2 after printing
 * one usage line.  A count above the logical cores this process may run
 * on is accepted with one warning on stderr (threads then share cores:
 * slower, not faster). */
int cli_parse_threads(const char *cmd, const char *text, int *threads);

/* The exit code for a seqk_context_create failure: 2 when the spec names
 * no usable device (a usage error), 1 otherwise. */
int cli_device_exit_code(seqk_status status);

/* Provenance of a benchmark run, filled once per device context. */
typedef struct cli_provenance {
    char cpu[128];           /* CPU model */
    char os[160];            /* "Linux 6.1.0-18-amd64 x86_64" */
    char device_name[128];
    char device_vendor[128];
    char device_driver[128];
    char seqk_version[32];
    char seqk_git[64];       /* git describe at build time, or "unknown" */
    char date[32];           /* UTC ISO 8601: 2026-12-07T10:11:12Z */
    char tuning_db[64];      /* "fnv1a64:<16 hex>" of the file, or "untuned" */
} cli_provenance;

/* Fills p for a context (its device facts; the host CPU for host
 * devices).  date is the time of the call. */
void cli_provenance_get(seqk_context *ctx, cli_provenance *p);

#endif
