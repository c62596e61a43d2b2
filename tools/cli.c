/*
 * cli.c — helpers the `seqk` subcommands share (see cli.h): --threads,
 * device exit codes, and the provenance stamped on benchmark results so
 * that results from several machines can be merged (python/seqk/report.py).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "build_info.h"
#include "seqk_tune.h"

int cli_parse_threads(const char *cmd, const char *text, int *threads)
{
    static int warned;
    char *end = NULL;
    errno = 0;
    long v = text && *text ? strtol(text, &end, 10) : -1;
    if (!text || !*text || errno || *end || v < 0 || v > CLI_MAX_THREADS) {
        fprintf(stderr, "seqk %s: --threads '%s': expected an integer "
                "0..%d (0: the library default)\n", cmd, text ? text : "",
                CLI_MAX_THREADS);
        return 2;
    }
    seqk_cpu_info c = {.struct_size = sizeof c};
    if (!warned && seqk_cpu_info_get(&c) == SEQK_OK && c.logical_cores > 0 &&
        v > c.logical_cores) {
        /* Allowed (a deliberate oversubscription test), but rarely meant. */
        warned = 1;
        fprintf(stderr, "seqk %s: warning: --threads %ld exceeds the %d "
                "logical cores this process may run on; the threads will "
                "share them (usually slower)\n", cmd, v, c.logical_cores);
    }
    *threads = (int)v;
    return 0;
}

int cli_device_exit_code(seqk_status status)
{
    return status == SEQK_ERR_NO_DEVICE || status == SEQK_ERR_INVALID_ARG
               ? 2
               : 1;
}

/* ------------------------------------------------------------ provenance */

/* snprintf that truncates long names on purpose (provenance is for
 * people: a cut-off driver string still identifies it). */
static void put(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* The value of "key : value" lines of /proc/cpuinfo; "" when absent. */
static void cpuinfo_field(const char *key, char *buf, size_t len)
{
    char line[512];
    size_t klen = strlen(key);
    FILE *f = fopen("/proc/cpuinfo", "r");
    buf[0] = '\0';
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) || (line[klen] != ' ' &&
                                         line[klen] != '\t' &&
                                         line[klen] != ':'))
            continue;
        const char *v = strchr(line, ':');
        if (!v)
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        snprintf(buf, len, "%.*s", (int)strcspn(v, "\n"), v);
        break;
    }
    if (f)
        fclose(f);
}

/* FNV-1a 64 of the file's bytes; 0 on success, -1 if unreadable. */
static int hash_file(const char *path, uint64_t *h)
{
    unsigned char buf[4096];
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    *h = 0xcbf29ce484222325ull;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < n; i++)
            *h = (*h ^ buf[i]) * 0x100000001b3ull;
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : 0;
}

/* "fnv1a64:<hex>" of the database a context reads, or "untuned" when
 * there is none or the library ignores it (so it tuned nothing). */
static void tuning_db_id(char *buf, size_t len)
{
    char path[1024];
    uint64_t h;
    snprintf(buf, len, "untuned");
    seqk_tune_db_default_path(path, sizeof path);
    if (!path[0] || seqk_tune_db_check(path, NULL, 0) != SEQK_OK ||
        hash_file(path, &h) != 0)
        return;
    snprintf(buf, len, "fnv1a64:%016llx", (unsigned long long)h);
}

void cli_provenance_get(seqk_context *ctx, cli_provenance *p)
{
    memset(p, 0, sizeof *p);
    seqk_cpu_info c = {.struct_size = sizeof c};
    if (seqk_cpu_info_get(&c) == SEQK_OK && c.name[0])
        put(p->cpu, sizeof p->cpu, "%s", c.name);
    else
        cpuinfo_field("model name", p->cpu, sizeof p->cpu);
    if (!p->cpu[0])
        put(p->cpu, sizeof p->cpu, "unknown");

    struct utsname u;
    if (uname(&u) == 0)
        put(p->os, sizeof p->os, "%s %s %s", u.sysname, u.release,
                 u.machine);
    else
        put(p->os, sizeof p->os, "unknown");

    seqk_device_facts f = {.struct_size = sizeof f};
    if (ctx && seqk_context_device_facts(ctx, &f) == SEQK_OK && f.present) {
        put(p->device_name, sizeof p->device_name, "%s", f.name);
        put(p->device_vendor, sizeof p->device_vendor, "%s", f.vendor);
        put(p->device_driver, sizeof p->device_driver, "%s",
                 f.driver_version);
    } else {
        /* A host backend: the CPU is the device, seqk its driver. */
        const char *backend = ctx ? seqk_context_device(ctx) : "";
        put(p->device_name, sizeof p->device_name, "%s (%s)", p->cpu,
                 backend);
        cpuinfo_field("vendor_id", p->device_vendor, sizeof p->device_vendor);
        if (!p->device_vendor[0])
            cpuinfo_field("CPU implementer", p->device_vendor,
                          sizeof p->device_vendor);
        if (!p->device_vendor[0])
            put(p->device_vendor, sizeof p->device_vendor, "unknown");
        put(p->device_driver, sizeof p->device_driver, "host");
    }
    put(p->seqk_version, sizeof p->seqk_version, "%s",
             seqk_version_string());
    put(p->seqk_git, sizeof p->seqk_git, "%s",
             SEQK_GIT_DESCRIBE[0] ? SEQK_GIT_DESCRIBE : "unknown");

    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(p->date, sizeof p->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    tuning_db_id(p->tuning_db, sizeof p->tuning_db);
}
