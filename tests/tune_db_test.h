/*
 * tune_db_test.h — helpers shared by the tune_db suite's files
 * (defined in test_tune_db.c).
 */
#ifndef SEQK_TUNE_DB_TEST_H
#define SEQK_TUNE_DB_TEST_H

#include <check.h>
#include <stddef.h>

#include "db_write.h"

/* A fresh directory under /tmp (static buffer), and its removal. */
const char *tmpdir(void);
void rm_tree(const char *dir);
void write_text(const char *path, const char *text, size_t len);
char *read_text(const char *path, size_t *len); /* malloc'd */

/* The fabricated tunable: TILE in {1,2,4,8} must divide M; VEC in
 * {1,2,4}; shape (M, N). */
extern const seqk_tunable fake;
/* A GPU fingerprint, and an entry of fake for it at bucket [b0,b1] with
 * the given speedup over the defaults. */
seqk_tune_fp gpu_fp(void);
seqk_tune_entry make_entry(const seqk_tune_fp *fp, const char *hash, int b0,
                           int b1, int tile, int vec, double speedup);
/* ck_asserts a and b have the same entries, byte for byte. */
void assert_same_db(const seqk_tune_db *a, const seqk_tune_db *b);
/* Three entries with every field set (written to path unless NULL), and
 * the text of that file (malloc'd). */
seqk_tune_db *sample_db(const char *path);
char *sample_text(size_t *len);

/* test_tune_db_files.c */
void tune_db_file_tests(TCase *tc);

#endif
