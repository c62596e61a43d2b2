/*
 * fuzz_tune_db.c — libFuzzer target: the tuning database text (parse,
 * lookup, update and the write/read round trip).
 *
 * Input: the file text.  When it parses:
 *   - lookup: for each entry (at most 16), seqk__tune_db_find on the
 *     entry's own device with its tunable (when the kernel id is known)
 *     at a few shapes, plain and with SEQK_TUNE_FIND_UNVERIFIED;
 *   - update: every entry put into a fresh database (what --import does),
 *     which must then hold no more entries than the file;
 *   - round trip: the text written from the parsed database must parse
 *     again to the same number of entries, and writing that gives the
 *     same text (the writer's output is a fixed point).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db_write.h"
#include "tune/db.h"
#include "tune/tune.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void lookups(const seqk_tune_db *db)
{
    static const int64_t sizes[] = {1, 7, 64, 1000};
    seqk_tune_limits lim;
    memset(&lim, 0, sizeof lim);
    lim.max_wg = 256;
    lim.max_item[0] = lim.max_item[1] = lim.max_item[2] = 256;
    lim.local_mem = 32768;
    lim.threads = 1;

    const int n = seqk__tune_db_count(db);
    for (int i = 0; i < n && i < 16; i++) {
        const seqk_tune_entry *e = seqk__tune_db_get(db, i);
        const seqk_tunable *t = seqk__tunable_find(e->kernel);
        if (!t)
            continue;
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int64_t shape[SEQK_TUNE_MAX_SHAPE];
            for (int d = 0; d < SEQK_TUNE_MAX_SHAPE; d++)
                shape[d] = sizes[(s + (size_t)d) % 4];
            seqk_tune_match m;
            const seqk_tune_entry *f = seqk__tune_db_find(
                db, &e->fp, t, e->source_hash, shape, &lim, &m);
            if (f && m == SEQK_TUNE_MATCH_NONE)
                abort();
            (void)seqk__tune_db_find_ex(db, &e->fp, t, e->source_hash,
                                        shape, &lim,
                                        SEQK_TUNE_FIND_UNVERIFIED, &m);
        }
        (void)seqk__tune_entry_speedup(e);
        (void)seqk__tune_entry_verified(e, &e->fp);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seqk_tune_db *db = NULL, *again = NULL, *fresh = NULL;
    char *text = NULL, *text2 = NULL;
    char msg[512];

    if (seqk__tune_db_parse((const char *)data, size, &db, msg, sizeof msg) !=
        SEQK_OK) {
        if (db || memchr(msg, '\0', sizeof msg) == NULL)
            abort(); /* failure: no database and a terminated message */
        return 0;
    }
    lookups(db);

    fresh = seqk__tune_db_new();
    if (!fresh)
        goto cleanup;
    for (int i = 0; i < seqk__tune_db_count(db); i++)
        if (seqk__tune_db_put(fresh, seqk__tune_db_get(db, i)) != SEQK_OK)
            goto cleanup; /* out of memory */
    if (seqk__tune_db_count(fresh) > seqk__tune_db_count(db))
        abort();

    text = seqk__tune_db_json(db);
    if (!text)
        goto cleanup;
    if (seqk__tune_db_parse(text, strlen(text), &again, msg, sizeof msg) !=
        SEQK_OK)
        abort(); /* the writer wrote what the reader refuses */
    if (seqk__tune_db_count(again) != seqk__tune_db_count(db))
        abort();
    text2 = seqk__tune_db_json(again);
    if (text2 && strcmp(text, text2) != 0)
        abort();

cleanup:
    free(text2);
    free(text);
    seqk__tune_db_free(fresh);
    seqk__tune_db_free(again);
    seqk__tune_db_free(db);
    return 0;
}
