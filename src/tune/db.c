/*
 * db.c — the tuning database: its entries and reading the file
 * (size-checked before it is read).  The text format is in db_json.c, the
 * lookup in db_lookup.c; writing the file is the tuner's (tune/db_write.c).
 */
#define _GNU_SOURCE /* O_CLOEXEC */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tune/db_internal.h"

double seqk__tune_entry_speedup(const seqk_tune_entry *e)
{
    if (!(e->median_ms > 0) || !(e->default_ms > 0))
        return 0;
    return e->default_ms / e->median_ms;
}

/* ------------------------------------------------------------ entries */

seqk_tune_db *seqk__tune_db_new(void)
{
    return calloc(1, sizeof(seqk_tune_db));
}

void seqk__tune_db_free(seqk_tune_db *db)
{
    if (!db)
        return;
    seqk__tune_rt_free(db);
    free(db->entries);
    free(db);
}

int seqk__tune_db_count(const seqk_tune_db *db)
{
    return db ? db->count : 0;
}

const seqk_tune_entry *seqk__tune_db_get(const seqk_tune_db *db, int i)
{
    return db && i >= 0 && i < db->count ? &db->entries[i] : NULL;
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

int seqk__tune_key_cmp(const seqk_tune_entry *a, const seqk_tune_entry *b)
{
    const seqk_tune_fp *x = &a->fp, *y = &b->fp;
    int c;
    if ((c = strcmp(x->backend, y->backend)) ||
        (c = strcmp(x->vendor, y->vendor)) ||
        (c = strcmp(x->device, y->device)) ||
        (c = strcmp(x->driver, y->driver)) ||
        (c = strcmp(x->platform, y->platform)) ||
        (c = strcmp(x->isa, y->isa)) ||
        (c = cmp_i64(x->compute_units, y->compute_units)) ||
        (c = cmp_i64(x->local_mem, y->local_mem)) ||
        (c = cmp_i64(x->cpu_family, y->cpu_family)) ||
        (c = cmp_i64(x->cpu_model, y->cpu_model)) ||
        (c = cmp_i64(x->l1d, y->l1d)) || (c = cmp_i64(x->l2, y->l2)) ||
        (c = cmp_i64(x->l3, y->l3)) || (c = strcmp(a->kernel, b->kernel)) ||
        (c = strcmp(a->source_hash, b->source_hash)) ||
        (c = strcmp(a->dtype, b->dtype)) ||
        (c = cmp_i64(a->num_shape, b->num_shape)))
        return c;
    for (int i = 0; i < a->num_shape; i++)
        if ((c = cmp_i64(a->bucket[i], b->bucket[i])))
            return c;
    return 0;
}

seqk_status seqk__tune_db_append(seqk_tune_db *db, const seqk_tune_entry *e)
{
    if (db->count == db->cap) {
        int cap = db->cap ? 2 * db->cap : 16;
        seqk_tune_entry *n;
        if (cap > (1 << 24))
            return SEQK_ERR_OUT_OF_MEMORY;
        n = realloc(db->entries, (size_t)cap * sizeof *n);
        if (!n)
            return SEQK_ERR_OUT_OF_MEMORY;
        db->entries = n;
        db->cap = cap;
    }
    db->entries[db->count++] = *e;
    return SEQK_OK;
}

/* qsort has no user pointer: the entries being sorted, per thread. */
static _Thread_local const seqk_tune_entry *sort_base;
static int by_key_then_index(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    int c = seqk__tune_key_cmp(&sort_base[a], &sort_base[b]);
    return c ? c : (a > b) - (a < b);
}

void seqk__tune_db_dedupe(seqk_tune_db *db)
{
    int n = db->count, kept = 0;
    if (n < 2)
        return;
    int *idx = malloc((size_t)n * sizeof *idx);
    unsigned char *keep = malloc((size_t)n);
    if (!idx || !keep) {
        /* Without memory, the quadratic way. */
        for (int i = 0; i < db->count; i++)
            for (int j = i + 1; j < db->count; j++)
                if (!seqk__tune_key_cmp(&db->entries[i], &db->entries[j])) {
                    memmove(&db->entries[i], &db->entries[i + 1],
                            (size_t)(db->count - i - 1) *
                                sizeof db->entries[0]);
                    db->count--;
                    i--;
                    break;
                }
        goto out;
    }
    for (int i = 0; i < n; i++)
        idx[i] = i;
    sort_base = db->entries;
    qsort(idx, (size_t)n, sizeof *idx, by_key_then_index);
    for (int i = 0; i < n; i++)
        keep[idx[i]] = i + 1 == n ||
                       seqk__tune_key_cmp(&db->entries[idx[i]],
                                          &db->entries[idx[i + 1]]) != 0;
    for (int i = 0; i < n; i++)
        if (keep[i])
            db->entries[kept++] = db->entries[i];
    db->count = kept;
out:
    free(idx);
    free(keep);
}

/* ------------------------------------------------------------ reading */

/* msg[0..len) = the formatted text, when msg is not NULL. */
void seqk__tune_set_msg(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (!msg || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
}

seqk_status seqk__tune_db_read_file(const char *path, seqk_tune_db **db,
                                    int *missing, char *msg, size_t msg_len)
{
    seqk_status st = SEQK_OK;
    struct stat sb;
    char *buf = NULL, why[400];
    size_t got = 0;
    /* O_NONBLOCK: a FIFO must not block us (it is refused below). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    *db = NULL;
    *missing = 0;
    seqk__tune_set_msg(msg, msg_len, "%s", "");
    if (fd < 0) {
        if (errno == ENOENT) {
            *missing = 1;
            *db = seqk__tune_db_new();
            return *db ? SEQK_OK : SEQK_ERR_OUT_OF_MEMORY;
        }
        seqk__tune_set_msg(msg, msg_len, "tuning database %s: cannot open: %s",
                           path, strerror(errno));
        return SEQK_ERR_IO;
    }
    if (fstat(fd, &sb) != 0) {
        seqk__tune_set_msg(msg, msg_len, "tuning database %s: cannot stat: %s",
                           path, strerror(errno));
        st = SEQK_ERR_IO;
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode)) {
        seqk__tune_set_msg(msg, msg_len,
                           "tuning database %s: not a regular file", path);
        st = SEQK_ERR_TUNING_DB;
        goto cleanup;
    }
    if (sb.st_size > (off_t)SEQK_TUNE_DB_MAX_BYTES) {
        seqk__tune_set_msg(msg, msg_len,
                           "tuning database %s: %lld bytes is larger "
                           "than the limit of %u",
                           path, (long long)sb.st_size,
                           (unsigned)SEQK_TUNE_DB_MAX_BYTES);
        st = SEQK_ERR_TUNING_DB;
        goto cleanup;
    }
    buf = malloc((size_t)sb.st_size + 1);
    if (!buf) {
        seqk__tune_set_msg(msg, msg_len, "tuning database %s: out of memory",
                           path);
        st = SEQK_ERR_OUT_OF_MEMORY;
        goto cleanup;
    }
    /* Up to the size fstat gave; a file that shrank meanwhile is parsed
     * as it is (and most likely rejected as truncated). */
    while (got < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            seqk__tune_set_msg(msg, msg_len,
                               "tuning database %s: read failed: %s", path,
                               strerror(errno));
            st = SEQK_ERR_IO;
            goto cleanup;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    st = seqk__tune_db_parse(buf, got, db, why, sizeof why);
    if (st != SEQK_OK)
        seqk__tune_set_msg(msg, msg_len, "tuning database %s: %s", path, why);
cleanup:
    free(buf);
    close(fd);
    return st;
}

seqk_status seqk__tune_db_read(const char *path, seqk_tune_db **db,
                              char *msg, size_t msg_len)
{
    int missing;
    if (!path || !db) {
        if (db)
            *db = NULL;
        seqk__tune_set_msg(msg, msg_len, "tuning database: no path");
        return SEQK_ERR_INVALID_ARG;
    }
    return seqk__tune_db_read_file(path, db, &missing, msg, msg_len);
}
