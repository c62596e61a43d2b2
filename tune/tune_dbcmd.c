/*
 * tune_dbcmd.c — `seqk tune --show / --export / --import / --check /
 * --reset` (the tuning database of this machine's devices) and the
 * device helpers `seqk tune` shares with them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tune/db_internal.h"
#include "tune_tool.h"

/* ----------------------------------------------------------- devices */

/* The default devices: the best CPU backend and every OpenCL device. */
int tune_default_devices(char specs[][32], int max, int cpu_only,
                           int all_cpu)
{
    int count = 0, n = 0, cpu = -1, best = -1, have_cl = 0;
    /* isa.def lists the ISAs in ascending order */
    static const char *const rank[] = {
#define SEQK_ISA(name, arch, needs, cflags, title) #name,
#include "cpu_simd/isa.def"
    };
    const int nrank = (int)(sizeof rank / sizeof rank[0]);
    if (seqk_device_count(&count) != SEQK_OK)
        return 0;
    for (int i = 0; i < count && n < max; i++) {
        seqk_device_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        if (seqk_device_info_get(i, &info) != SEQK_OK || !info.available)
            continue;
        if (info.kind == SEQK_DEVICE_CPU_SIMD) {
            int r = 0;
            for (int k = 0; k < nrank; k++)
                if (!strcmp(info.spec, rank[k]))
                    r = k + 1;
            if (all_cpu) {
                snprintf(specs[n++], 32, "%s", info.spec);
            } else if (r > best) {
                best = r;
                if (cpu < 0)
                    cpu = n++;
                snprintf(specs[cpu], 32, "%s", info.spec);
            }
        } else if (info.kind == SEQK_DEVICE_OPENCL && !cpu_only) {
            snprintf(specs[n++], 32, "%s", info.spec);
            have_cl = 1;
        }
    }
    /* the device choice of `auto` contexts, once there is a choice */
    if (have_cl && !all_cpu && n < max)
        snprintf(specs[n++], 32, "auto");
    return n;
}

/* Drops the devices of specs[] that resolve to one named before ("cpu"
 * and "avx512", a spec given twice), so none is tuned twice; `auto` is
 * its own task (the device choice), kept once.  0, or the exit code 2
 * with a message when a spec names no usable device. */
int tune_unique_devices(char specs[][32], int *n)
{
    char seen[MAX_DEVICES][32];
    int k = 0;
    for (int i = 0; i < *n; i++) {
        seqk_options o;
        seqk_options_init(&o);
        o.device = specs[i];
        seqk_context *ctx = NULL;
        seqk_status st = seqk_context_create(&o, &ctx);
        if (st != SEQK_OK) {
            fprintf(stderr, "seqk tune: device %s: %s\n", specs[i],
                    seqk_last_error(NULL));
            return st == SEQK_ERR_NO_DEVICE || st == SEQK_ERR_INVALID_ARG
                       ? 2
                       : 1;
        }
        /* an auto context names the backend it prefers, not itself */
        snprintf(seen[i], 32, "%s",
                 !strcmp(specs[i], "auto") ? "auto"
                                           : seqk_context_device(ctx));
        seqk_context_destroy(ctx);
        int dup = 0;
        for (int j = 0; j < i && !dup; j++)
            dup = !strcmp(seen[j], seen[i]);
        if (dup) {
            fprintf(stderr, "tune %s: same device as %s, tuned once\n",
                    specs[i], seen[i]);
            continue;
        }
        if (k != i)
            memcpy(specs[k], specs[i], 32);
        k++;
    }
    *n = k;
    return 0;
}

/* Fingerprint and limits of device spec; -1 with a message on failure. */
int tune_device_facts(const char *spec, seqk_tune_fp *fp,
                        seqk_tune_limits *lim)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = spec;
    seqk_context *ctx = NULL;
    if (seqk_context_create(&o, &ctx) != SEQK_OK) {
        fprintf(stderr, "seqk tune: device %s: %s\n", spec,
                seqk_last_error(NULL));
        return -1;
    }
    seqk__tune_fingerprint(ctx, fp);
    if (lim)
        seqk__tune_limits(ctx, lim);
    seqk_context_destroy(ctx);
    return 0;
}

/* Fingerprints of this machine's devices (every CPU backend and OpenCL
 * device that is available). */
static int machine_fps(seqk_tune_fp *fps, char specs[][32], int max)
{
    int n = tune_default_devices(specs, max, 0, 1), k = 0;
    for (int i = 0; i < n; i++)
        if (!tune_device_facts(specs[i], &fps[k], NULL)) {
            if (k != i)
                memcpy(specs[k], specs[i], 32);
            k++;
        }
    return k;
}

/* ------------------------------------------------ database commands */

static int read_db(const char *path, seqk_tune_db **db)
{
    char msg[512];
    if (seqk__tune_db_read(path, db, msg, sizeof msg) != SEQK_OK) {
        fprintf(stderr, "seqk tune: %s: %s\n", path, msg);
        return -1;
    }
    return 0;
}

/* Index of the machine device an entry was tuned on, or -1. */
static int entry_device(const seqk_tune_entry *e, const seqk_tune_fp *fps,
                        int n)
{
    for (int i = 0; i < n; i++)
        if (seqk__tune_fp_match(&e->fp, &fps[i]) == SEQK_TUNE_MATCH_EXACT)
            return i;
    return -1;
}

int tune_cmd_show(const char *dbpath)
{
    seqk_tune_fp fps[MAX_DEVICES];
    char specs[MAX_DEVICES][32];
    seqk_tune_db *db = NULL;
    if (read_db(dbpath, &db))
        return 1;
    const int nfp = machine_fps(fps, specs, MAX_DEVICES);
    printf("database: %s (%d entries)\n", dbpath, seqk__tune_db_count(db));
    printf("%-12s %-26s %-22s %-28s %10s %10s %8s\n", "device", "kernel",
           "bucket", "params", "median_ms", "default_ms", "speedup");
    int shown = 0;
    for (int i = 0; i < seqk__tune_db_count(db); i++) {
        const seqk_tune_entry *e = seqk__tune_db_get(db, i);
        int d = entry_device(e, fps, nfp);
        if (d < 0)
            continue;
        const seqk_tunable *t = seqk__tunable_find(e->kernel);
        char bucket[96] = "", params[160] = "";
        size_t o = 0;
        for (int j = 0; j < e->num_shape && o < sizeof bucket; j++)
            o += (size_t)snprintf(bucket + o, sizeof bucket - o, "%s%s:2^%d",
                                  j ? "," : "",
                                  t && j < t->num_shape ? t->shape_names[j]
                                                        : "d",
                                  e->bucket[j]);
        o = 0;
        for (int j = 0; j < e->num_params && o < sizeof params; j++)
            o += (size_t)snprintf(params + o, sizeof params - o, "%s%s=%d",
                                  j ? " " : "", e->names[j], e->values[j]);
        printf("%-12s %-26s %-22s %-28s %10.4f %10.4f %7.2fx\n", specs[d],
               e->kernel, bucket, params, e->median_ms, e->default_ms,
               seqk__tune_entry_speedup(e));
        shown++;
    }
    if (!shown)
        printf("(no entries for this machine's devices)\n");
    seqk__tune_db_free(db);
    return 0;
}

int tune_cmd_export_import(const char *dbpath, const char *file,
                           int import)
{
    seqk_tune_fp fps[MAX_DEVICES];
    char specs[MAX_DEVICES][32], msg[512];
    seqk_tune_db *src = NULL, *out = NULL;
    seqk_tune_entry *sel = NULL;
    int rc = 1, n = 0, other = 0;
    if (import) {
        /* A missing database is an empty one; a missing import file is a
         * mistake (a typo), not zero entries. */
        int missing = 0;
        if (seqk__tune_db_read_file(file, &src, &missing, msg, sizeof msg) !=
            SEQK_OK) {
            fprintf(stderr, "seqk tune: %s: %s\n", file, msg);
            return 1;
        }
        if (missing) {
            fprintf(stderr, "seqk tune: %s: cannot import: no such file\n",
                    file);
            seqk__tune_db_free(src);
            return 1;
        }
    } else if (read_db(dbpath, &src)) {
        return 1;
    }
    const int nfp = machine_fps(fps, specs, MAX_DEVICES);
    const int count = seqk__tune_db_count(src);
    sel = malloc((size_t)(count > 0 ? count : 1) * sizeof *sel);
    if (!sel) {
        fprintf(stderr, "seqk tune: out of memory\n");
        goto cleanup;
    }
    for (int i = 0; i < count; i++) {
        const seqk_tune_entry *e = seqk__tune_db_get(src, i);
        if (entry_device(e, fps, nfp) >= 0)
            sel[n++] = *e;
        else
            other++;
    }
    if (import) {
        if (n > 0 && seqk__tune_db_update(dbpath, sel, n, msg, sizeof msg) !=
                         SEQK_OK) {
            fprintf(stderr, "seqk tune: %s: %s\n", dbpath, msg);
            goto cleanup;
        }
        if (n > 0 && msg[0]) /* e.g. an unusable database moved aside */
            fprintf(stderr, "seqk tune: %s\n", msg);
        printf("imported %d entries from %s into %s", n, file, dbpath);
    } else {
        out = seqk__tune_db_new();
        for (int i = 0; out && i < n; i++)
            if (seqk__tune_db_put(out, &sel[i]) != SEQK_OK)
                break;
        if (!out || seqk__tune_db_write(out, file, msg, sizeof msg) !=
                        SEQK_OK) {
            fprintf(stderr, "seqk tune: %s: %s\n", file,
                    out ? msg : "out of memory");
            goto cleanup;
        }
        printf("exported %d entries from %s to %s", n, dbpath, file);
    }
    if (other)
        printf(" (%d for other machines skipped)", other);
    printf("\n");
    rc = 0;
cleanup:
    free(sel);
    seqk__tune_db_free(out);
    seqk__tune_db_free(src);
    return rc;
}

int tune_cmd_check(const char *dbpath, const char *file)
{
    const char *path = file ? file : dbpath;
    seqk_tune_db *db = NULL;
    if (access(path, F_OK) != 0) {
        /* No database yet is an empty one (as --show says); a FILE named
         * on the command line that is not there is a mistake. */
        if (!file && errno == ENOENT) {
            printf("%s: no database yet (0 entries); the library runs on "
                   "built-in defaults\n", path);
            return 0;
        }
        fprintf(stderr, "seqk tune: %s: cannot check it: %s\n", path,
                strerror(errno));
        return 1;
    }
    if (read_db(path, &db))
        return 1;
    printf("%s: OK, %d entries\n", path, seqk__tune_db_count(db));
    seqk__tune_db_free(db);
    return 0;
}

int tune_cmd_reset(const char *dbpath)
{
    seqk_tune_fp fps[MAX_DEVICES];
    char specs[MAX_DEVICES][32], msg[512];
    seqk_tune_db *db = NULL;
    if (access(dbpath, F_OK) != 0) {
        printf("%s: no database, nothing to reset\n", dbpath);
        return 0;
    }
    if (read_db(dbpath, &db)) /* a corrupt file is reported, not replaced */
        return 1;
    seqk__tune_db_free(db);
    const int nfp = machine_fps(fps, specs, MAX_DEVICES);
    int removed = 0;
    /* Under the database lock, so a tuner running meanwhile loses nothing. */
    if (seqk__tune_db_update_ex(dbpath, NULL, 0, fps, nfp, &removed, msg,
                               sizeof msg) != SEQK_OK) {
        fprintf(stderr, "seqk tune: %s: %s\n", dbpath, msg);
        return 1;
    }
    printf("removed %d entries of this machine from %s\n", removed, dbpath);
    return 0;
}


/* -------------------------------------------------- the tool's check */

seqk_status seqk_tune_db_check(const char *path, char *msg, size_t msg_len)
{
    char buf[1024];
    seqk_tune_db *db = NULL;
    seqk_status st;
    if (msg && msg_len)
        msg[0] = '\0';
    if (!path) {
        seqk__tune_db_path(NULL, buf, sizeof buf);
        path = buf;
    }
    if (!path[0])
        return SEQK_OK;
    st = seqk__tune_db_read(path, &db, msg, msg_len);
    seqk__tune_db_free(db);
    return st;
}

void seqk_tune_db_default_path(char *buf, size_t len)
{
    seqk__tune_db_path(NULL, buf, len);
}
