/*
 * db_write.h — the tuner's half of the tuning database (db_write.c): the
 * runtime library only reads the file (src/tune/db.h); `seqk tune` puts
 * entries and writes it.
 *
 * Written atomically (temp file in the same directory + rename) under an
 * advisory lock (flock on "<path>.lock"), re-reading and merging what
 * another tuner wrote meanwhile, so concurrent tuners never lose or
 * corrupt entries.
 */
#ifndef SEQK_TUNER_DB_WRITE_H
#define SEQK_TUNER_DB_WRITE_H

#include "tune/db.h"

/* The "tuner_version" the tuner records in each entry. */
#define SEQK_TUNER_VERSION "1"

/* Adds e, replacing an entry with the same key (fp, kernel, source hash,
 * dtype, bucket). */
seqk_status seqk__tune_db_put(seqk_tune_db *db, const seqk_tune_entry *e);
/* Removes every entry whose device matches fp exactly; returns how many. */
int seqk__tune_db_remove_device(seqk_tune_db *db, const seqk_tune_fp *fp);

/* Writes db to path atomically (temp + fsync + rename). */
seqk_status seqk__tune_db_write(const seqk_tune_db *db, const char *path,
                               char *msg, size_t msg_len);
/* Under the lock: re-reads path (a corrupt file is replaced, with a
 * message), puts the entries (replacing equal keys), writes atomically. */
seqk_status seqk__tune_db_update(const char *path, const seqk_tune_entry *e,
                                int n, char *msg, size_t msg_len);

/* The same, first removing every entry of the devices remove_fps (exact
 * match; *removed, when not NULL, is increased by their count): how
 * `seqk tune --reset` edits the file without racing a running tuner. */
seqk_status seqk__tune_db_update_ex(const char *path, const seqk_tune_entry *e,
                                   int n, const seqk_tune_fp *remove_fps,
                                   int n_remove, int *removed, char *msg,
                                   size_t msg_len);

/* The file text of db (malloc'd, NUL-terminated) or NULL when out of
 * memory. */
char *seqk__tune_db_json(const seqk_tune_db *db);

#endif /* SEQK_TUNER_DB_WRITE_H */
