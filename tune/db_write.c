/*
 * db_write.c — the tuner's half of the tuning database (the runtime
 * library only reads it, src/tune/db.c): putting and removing entries,
 * the JSON text (cJSON), writing the file atomically (temp file in the
 * same directory, fsync, rename) and updating it under an flock so
 * concurrent tuners merge instead of overwriting each other.
 */
#define _GNU_SOURCE /* mkostemp, O_CLOEXEC */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "db_write.h"
#include "tune/db_internal.h"

/* ------------------------------------------------------------ entries */

seqk_status seqk__tune_db_put(seqk_tune_db *db, const seqk_tune_entry *e)
{
    if (!db || !e)
        return SEQK_ERR_INVALID_ARG;
    if (seqk__tune_entry_check(e, NULL, 0) != SEQK_OK)
        return SEQK_ERR_INVALID_ARG;
    seqk__tune_rt_free(db); /* lookup caches hold entry indices */
    for (int i = 0; i < db->count; i++)
        if (!seqk__tune_key_cmp(&db->entries[i], e)) {
            db->entries[i] = *e;
            return SEQK_OK;
        }
    return seqk__tune_db_append(db, e);
}

int seqk__tune_db_remove_device(seqk_tune_db *db, const seqk_tune_fp *fp)
{
    int kept = 0, n;
    if (!db || !fp)
        return 0;
    seqk__tune_rt_free(db);
    for (int i = 0; i < db->count; i++)
        if (seqk__tune_fp_match(&db->entries[i].fp, fp) !=
            SEQK_TUNE_MATCH_EXACT)
            db->entries[kept++] = db->entries[i];
    n = db->count - kept;
    db->count = kept;
    return n;
}

/* --------------------------------------------------------- JSON text */

static int add_str(cJSON *o, const char *key, const char *s)
{
    return cJSON_AddStringToObject(o, key, s) != NULL;
}

static int add_num(cJSON *o, const char *key, double v)
{
    return cJSON_AddNumberToObject(o, key, v) != NULL;
}

static cJSON *entry_json(const seqk_tune_entry *e)
{
    cJSON *o = cJSON_CreateObject(), *d, *b, *ps, *vs;
    const seqk_tune_fp *f = &e->fp;
    int ok = o && add_str(o, "backend", f->backend) &&
             (d = cJSON_AddObjectToObject(o, "device")) &&
             add_str(d, "vendor", f->vendor) &&
             add_str(d, "name", f->device) &&
             add_str(d, "driver", f->driver) &&
             add_str(d, "platform", f->platform) &&
             add_num(d, "compute_units", f->compute_units) &&
             add_num(d, "local_mem", (double)f->local_mem) &&
             add_num(d, "cpu_family", f->cpu_family) &&
             add_num(d, "cpu_model", f->cpu_model) &&
             add_str(d, "isa", f->isa) && add_num(d, "l1d", (double)f->l1d) &&
             add_num(d, "l2", (double)f->l2) &&
             add_num(d, "l3", (double)f->l3) &&
             add_str(o, "kernel", e->kernel) &&
             add_str(o, "source_hash", e->source_hash) &&
             add_str(o, "dtype", e->dtype) &&
             (b = cJSON_AddArrayToObject(o, "bucket")) &&
             (ps = cJSON_AddObjectToObject(o, "params"));
    for (int i = 0; ok && i < e->num_shape; i++) {
        cJSON *n = cJSON_CreateNumber(e->bucket[i]);
        ok = n && cJSON_AddItemToArray(b, n);
        if (!ok)
            cJSON_Delete(n);
    }
    for (int i = 0; ok && i < e->num_params; i++)
        ok = add_num(ps, e->names[i], e->values[i]);
    ok = ok && add_num(o, "median_ms", e->median_ms) &&
         add_num(o, "min_ms", e->min_ms) &&
         add_num(o, "default_ms", e->default_ms) &&
         add_num(o, "speedup", seqk__tune_entry_speedup(e)) &&
         add_str(o, "tuner_version", e->tuner_version) &&
         add_str(o, "date", e->date);
    if (ok && e->num_verified > 0) {
        ok = (vs = cJSON_AddArrayToObject(o, "verified")) != NULL;
        for (int i = 0; ok && i < e->num_verified; i++) {
            cJSON *v = cJSON_CreateObject();
            ok = v && cJSON_AddItemToArray(vs, v);
            if (!ok) {
                cJSON_Delete(v);
                break;
            }
            ok = add_str(v, "driver", e->verified[i].driver) &&
                 add_str(v, "platform", e->verified[i].platform);
        }
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

char *seqk__tune_db_json(const seqk_tune_db *db)
{
    cJSON *root = cJSON_CreateObject(), *ents;
    char *text = NULL;
    int ok = root && add_str(root, "format", "seqk-tuning") &&
             add_num(root, "version", SEQK_TUNE_DB_VERSION) &&
             (ents = cJSON_AddArrayToObject(root, "entries"));
    for (int i = 0; ok && i < db->count; i++) {
        cJSON *e = entry_json(&db->entries[i]);
        ok = e && cJSON_AddItemToArray(ents, e);
        if (!ok)
            cJSON_Delete(e);
    }
    if (ok)
        text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

/* ------------------------------------------------------------- files */

/* The directory part of path ("." when none) into dir[len]; 0 if it does
 * not fit. */
static int dir_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    int n;
    if (!slash)
        n = snprintf(dir, len, ".");
    else if (slash == path)
        n = snprintf(dir, len, "/");
    else
        n = snprintf(dir, len, "%.*s", (int)(slash - path), path);
    return n >= 0 && (size_t)n < len;
}

/* mkdir -p dir; 1 when it exists afterwards. */
static int make_dirs(char *dir)
{
    struct stat sb;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
    mkdir(dir, 0755);
    return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 0;
        p += w;
        n -= (size_t)w;
    }
    return 1;
}

seqk_status seqk__tune_db_write(const seqk_tune_db *db, const char *path,
                               char *msg, size_t msg_len)
{
    char dir[1024], tmp[1100], why[400];
    char *text = NULL;
    int fd = -1;
    seqk_status st = SEQK_OK;
    seqk__tune_set_msg(msg, msg_len, "%s", "");
    if (!db || !path || !*path) {
        seqk__tune_set_msg(msg, msg_len,
                           "tuning database: no database or path");
        return SEQK_ERR_INVALID_ARG;
    }
    for (int i = 0; i < db->count; i++)
        if (seqk__tune_entry_check(&db->entries[i], why, sizeof why)) {
            seqk__tune_set_msg(msg, msg_len,
                               "tuning database %s: not written: entry "
                               "%d: %s",
                               path, i, why);
            return SEQK_ERR_INVALID_ARG;
        }
    if (!dir_of(path, dir, sizeof dir) || !make_dirs(dir)) {
        seqk__tune_set_msg(msg, msg_len,
                           "tuning database %s: cannot create its "
                           "directory",
                           path);
        return SEQK_ERR_IO;
    }
    text = seqk__tune_db_json(db);
    if (!text) {
        seqk__tune_set_msg(msg, msg_len, "tuning database %s: out of memory",
                           path);
        return SEQK_ERR_OUT_OF_MEMORY;
    }
    /* Same directory, so the rename is atomic. */
    snprintf(tmp, sizeof tmp, "%s/.tuning-XXXXXX", dir);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        seqk__tune_set_msg(msg, msg_len, "tuning database %s: cannot create a "
                "temporary file in %s: %s", path, dir, strerror(errno));
        st = SEQK_ERR_IO;
        goto cleanup;
    }
    if (!write_all(fd, text, strlen(text)) || !write_all(fd, "\n", 1) ||
        fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        seqk__tune_set_msg(msg, msg_len,
                           "tuning database %s: cannot write %s: %s", path,
                           tmp, strerror(errno));
        st = SEQK_ERR_IO;
        goto cleanup;
    }
    if (close(fd) != 0) {
        fd = -1;
        seqk__tune_set_msg(msg, msg_len,
                           "tuning database %s: cannot write %s: %s", path,
                           tmp, strerror(errno));
        st = SEQK_ERR_IO;
        goto cleanup;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        seqk__tune_set_msg(msg, msg_len,
                           "tuning database %s: cannot rename %s to "
                           "it: %s",
                           path, tmp, strerror(errno));
        st = SEQK_ERR_IO;
        goto cleanup;
    }
    tmp[0] = '\0';
    /* The rename itself reaches the disk with the directory. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
cleanup:
    if (fd >= 0)
        close(fd);
    if (st != SEQK_OK && tmp[0])
        unlink(tmp);
    free(text);
    return st;
}

seqk_status seqk__tune_db_update(const char *path, const seqk_tune_entry *e,
                                int n, char *msg, size_t msg_len)
{
    return seqk__tune_db_update_ex(path, e, n, NULL, 0, NULL, msg, msg_len);
}

/* Renames the regular file at path to path.corrupt-<unix time>[-N] (a
 * name not taken yet), into aside.  0 with errno set when path is not a
 * regular file or the rename fails. */
static int move_aside(const char *path, char *aside, size_t len)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return 0;
    if (!S_ISREG(sb.st_mode)) {
        errno = EISDIR;
        return 0;
    }
    const long long now = (long long)time(NULL);
    for (int k = 0; k < 100; k++) {
        int n = k ? snprintf(aside, len, "%s.corrupt-%lld-%d", path, now, k)
                  : snprintf(aside, len, "%s.corrupt-%lld", path, now);
        if (n < 0 || (size_t)n >= len) {
            errno = ENAMETOOLONG;
            return 0;
        }
        if (lstat(aside, &sb) != 0 && errno == ENOENT)
            return rename(path, aside) == 0;
    }
    errno = EEXIST;
    return 0;
}

seqk_status seqk__tune_db_update_ex(const char *path, const seqk_tune_entry *e,
                                   int n, const seqk_tune_fp *remove_fps,
                                   int n_remove, int *removed, char *msg,
                                   size_t msg_len)
{
    char lock[1100], dir[1024], why[512] = "", aside[1100] = "";
    seqk_tune_db *db = NULL;
    seqk_status st;
    int fd, missing;
    seqk__tune_set_msg(msg, msg_len, "%s", "");
    if (!path || !*path || n < 0 || (n > 0 && !e)) {
        seqk__tune_set_msg(msg, msg_len,
                           "tuning database: bad update arguments");
        return SEQK_ERR_INVALID_ARG;
    }
    for (int i = 0; i < n; i++)
        if (seqk__tune_entry_check(&e[i], why, sizeof why)) {
            seqk__tune_set_msg(msg, msg_len,
                               "tuning database %s: not updated: new "
                               "entry %d: %s",
                               path, i, why);
            return SEQK_ERR_INVALID_ARG;
        }
    int ln = snprintf(lock, sizeof lock, "%s.lock", path);
    if (ln < 0 || (size_t)ln >= sizeof lock || !dir_of(path, dir, sizeof dir)
        || !make_dirs(dir)) {
        seqk__tune_set_msg(msg, msg_len,
                           "tuning database %s: cannot create its "
                           "directory",
                           path);
        return SEQK_ERR_IO;
    }
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        seqk__tune_set_msg(msg, msg_len,
                           "tuning database %s: cannot open the lock "
                           "%s: %s",
                           path, lock, strerror(errno));
        return SEQK_ERR_IO;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            seqk__tune_set_msg(msg, msg_len,
                               "tuning database %s: cannot lock %s: %s", path,
                               lock, strerror(errno));
            close(fd);
            return SEQK_ERR_IO;
        }
    }
    /* Under the lock: what other tuners wrote is merged, not lost. */
    st = seqk__tune_db_read_file(path, &db, &missing, why, sizeof why);
    if (st == SEQK_ERR_OUT_OF_MEMORY)
        goto cleanup;
    if (st != SEQK_OK) {
        /* A file this seqk cannot use (corrupt, truncated, a newer
         * version, unreadable) is never overwritten: it moves aside,
         * with its data, and a new database starts. */
        if (!move_aside(path, aside, sizeof aside)) {
            seqk__tune_set_msg(msg, msg_len,
                               "%s; not updated: cannot move it aside: %s",
                               why, strerror(errno));
            st = SEQK_ERR_IO;
            goto cleanup;
        }
        db = seqk__tune_db_new();
        if (!db) {
            st = SEQK_ERR_OUT_OF_MEMORY;
            goto cleanup;
        }
    }
    for (int i = 0; i < n_remove; i++) {
        int r = seqk__tune_db_remove_device(db, &remove_fps[i]);
        if (removed)
            *removed += r;
    }
    for (int i = 0; i < n; i++) {
        seqk_status pst = seqk__tune_db_put(db, &e[i]);
        if (pst != SEQK_OK) {
            st = pst;
            seqk__tune_set_msg(msg, msg_len,
                               "tuning database %s: out of memory", path);
            goto cleanup;
        }
    }
    char wmsg[1200];
    seqk_status wst = seqk__tune_db_write(db, path, wmsg, sizeof wmsg);
    if (wst != SEQK_OK) {
        seqk__tune_set_msg(msg, msg_len, "%s", wmsg);
        st = wst;
        goto cleanup;
    }
    if (st != SEQK_OK)
        seqk__tune_set_msg(msg, msg_len,
                           "%s; moved aside to %s, a new database started",
                           why, aside);
    st = SEQK_OK;
cleanup:
    if (st == SEQK_ERR_OUT_OF_MEMORY && msg && msg_len && !msg[0])
        seqk__tune_set_msg(msg, msg_len, "tuning database %s: out of memory",
                           path);
    seqk__tune_db_free(db);
    close(fd); /* releases the lock */
    return st;
}
