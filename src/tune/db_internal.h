/*
 * db_internal.h — the tuning database object shared by db.c (entries,
 * file I/O), db_json.c (text <-> entries), db_lookup.c (find, the
 * per-context lookup and its cache) and fingerprint.c, and by the
 * tuner's writer (tune/db_write.c).
 */
#ifndef SEQK_TUNE_DB_INTERNAL_H
#define SEQK_TUNE_DB_INTERNAL_H

#include "tune/db.h"

/* One usable entry for one tunable on this context's device, with its
 * values in the tunable's parameter order (db_lookup.c). */
typedef struct seqk_tune_cand {
    int entry;                          /* index in db->entries */
    seqk_tune_match level;
    int bucket[SEQK_TUNE_MAX_SHAPE];
    int values[SEQK_TUNE_MAX_PARAMS];
    double speedup;
} seqk_tune_cand;

/* Per-tunable lookup cache of a context's database: the candidates,
 * filtered once, and the answer for the last shape (ops repeat shapes). */
#define SEQK_TUNE_LOGGED_BUCKETS 32
typedef struct seqk_tune_rt {
    const seqk_tunable *t;
    seqk_tune_cand *cands;
    int num_cands;
    int have_last, last_found;
    int64_t last_shape[SEQK_TUNE_MAX_SHAPE];
    int last_values[SEQK_TUNE_MAX_PARAMS];
    /* (bucket, chosen entry or -1) pairs already logged (SEQK_VERBOSE);
     * legality depends on the exact shape, so one bucket may log twice */
    int num_logged;
    int logged[SEQK_TUNE_LOGGED_BUCKETS][SEQK_TUNE_MAX_SHAPE + 1];
} seqk_tune_rt;

struct seqk_tune_db {
    seqk_tune_entry *entries;
    int count, cap;
    /* Set when the database belongs to a context (db_lookup.c). */
    seqk_tune_fp fp;
    seqk_tune_rt *rt;
    int num_rt, cap_rt;
};

/* db_json.c: the checks an entry passes before it is stored or written
 * (strings fit and are clean, counts and buckets in range, times finite);
 * SEQK_ERR_TUNING_DB with a message otherwise. */
seqk_status seqk__tune_entry_check(const seqk_tune_entry *e, char *msg,
                                   size_t msg_len);

/* db.c: appends e (no key check); SEQK_ERR_OUT_OF_MEMORY on failure. */
seqk_status seqk__tune_db_append(seqk_tune_db *db, const seqk_tune_entry *e);
/* db.c: of entries with equal keys keeps the last one, in file order. */
void seqk__tune_db_dedupe(seqk_tune_db *db);
/* db.c: a total order on entry keys (0: same key). */
int seqk__tune_key_cmp(const seqk_tune_entry *a, const seqk_tune_entry *b);

/* db.c: reads path like seqk__tune_db_read; *missing is 1 when the file
 * does not exist (then *db is empty and SEQK_OK is returned). */
seqk_status seqk__tune_db_read_file(const char *path, seqk_tune_db **db,
                                    int *missing, char *msg, size_t msg_len);

/* db_lookup.c: frees the lookup caches of db. */
void seqk__tune_rt_free(seqk_tune_db *db);

/* fingerprint.c: the FNV-1a 64 hash used for source hashes. */
uint64_t seqk__tune_fnv(uint64_t h, const void *data, size_t len);
#define SEQK_TUNE_FNV_INIT 14695981039346656037ull

/* The message of a failed read or write, into the caller's buffer. */
__attribute__((format(printf, 3, 4)))
void seqk__tune_set_msg(char *msg, size_t len, const char *fmt, ...);

#endif /* SEQK_TUNE_DB_INTERNAL_H */
