/*
 * test_tune_db_files.c — the tuning database file under attack: every
 * kind of malformed, foreign, truncated, oversized or mutated (fuzz) file
 * is rejected with a message and never half-used; concurrent updates from
 * several processes merge.  Part of the tune_db suite (test_tune_db.c).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "testutil.h"
#include "tune/db.h"
#include "tune/db_internal.h"
#include "tune_db_test.h"

/* ---------------------------------------------------------- rejection */

static void expect_reject(const char *text, size_t len, const char *needle)
{
    char msg[512] = "x";
    seqk_tune_db *db = (seqk_tune_db *)1;
    seqk_status st = seqk__tune_db_parse(text, len, &db, msg, sizeof msg);
    ck_assert_msg(st == SEQK_ERR_TUNING_DB, "accepted: %.200s", text);
    ck_assert_ptr_null(db);
    ck_assert_msg(strstr(msg, needle) != NULL, "message \"%s\" lacks \"%s\"",
                  msg, needle);
}

START_TEST(rejects_bad_files)
{
    static const struct { const char *text, *needle; } bad[] = {
        {"", "not valid JSON"},
        {"[]", "not a seqk tuning database"},
        {"{\"format\":\"other\",\"version\":1,\"entries\":[]}", "not a seqk"},
        {"{\"format\":\"seqk-tuning\",\"version\":2,\"entries\":[]}",
         "version 2 is not supported (this library reads 1)"},
        {"{\"format\":\"seqk-tuning\",\"version\":\"1\",\"entries\":[]}",
         "not a number"},
        {"{\"format\":\"seqk-tuning\",\"version\":1,\"entries\":{}}",
         "not an array"},
        {"{\"format\":\"seqk-tuning\",\"version\":1,\"version\":1,"
         "\"entries\":[]}", "given twice"},
        {"{\"format\":\"seqk-tuning\",\"version\":1,\"entries\":[]} x",
         "text after"},
        {"{\"format\":\"seqk-tuning\",\"version\":1,\"entries\":[1]}",
         "entry 0: not an object"},
        {"{\"format\":\"seqk-tuning\",\"version\":1,\"entries\":[{}]}",
         "\"backend\" is missing"},
        {"{\"format\":\"seqk-tuning\",\"version\":1,\"entries\":[],"
         "\"x\":\"a\\u0000b\"}", "escaped NUL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_reject(bad[i].text, strlen(bad[i].text), bad[i].needle);
    /* An empty version-1 database is fine. */
    seqk_tune_db *db = NULL;
    const char *ok = "{\"format\":\"seqk-tuning\",\"version\":1,"
                     "\"entries\":[],\"comment\":\"a\\\\u0000\"}";
    ck_assert_int_eq(seqk__tune_db_parse(ok, strlen(ok), &db, NULL, 0),
                     SEQK_OK);
    seqk__tune_db_free(db);
    /* Deep nesting, before cJSON recurses into it. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    expect_reject(deep, 2 * depth, "nested deeper than");
    /* Within a string it is only text. */
    const char *in_str = "{\"format\":\"seqk-tuning\",\"version\":1,"
                         "\"entries\":[],\"x\":\"[[[[[[[[[[[[[[[[[[[[\\\"\"}";
    seqk_tune_db *sdb = NULL;
    ck_assert_int_eq(seqk__tune_db_parse(in_str, strlen(in_str), &sdb, NULL,
                                        0), SEQK_OK);
    seqk__tune_db_free(sdb);
    /* Millions of values. */
    size_t nv = (1u << 20) + 2;
    char *many = malloc(2 * nv + 2);
    many[0] = '[';
    for (size_t i = 0; i < nv; i++) {
        many[1 + 2 * i] = '0';
        many[2 + 2 * i] = i + 1 < nv ? ',' : ']';
    }
    expect_reject(many, 2 * nv + 1, "more than");
    free(many);
    free(deep);
    /* A NUL byte inside a valid file. */
    size_t len;
    char *text = sample_text(&len);
    text[len / 2] = '\0';
    expect_reject(text, len, "NUL byte");
    free(text);
}
END_TEST

/* The sample file with entry 0's `key` (in object `obj`: NULL for the
 * entry, else "device" or "params") set to item (NULL: removed). */
static char *mutate(const char *text, const char *obj, const char *key,
                    cJSON *item)
{
    cJSON *root = cJSON_Parse(text);
    cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "entries"), 0);
    cJSON *o = obj ? cJSON_GetObjectItem(e, obj) : e;
    if (item)
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, item);
    else
        cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

START_TEST(rejects_bad_fields)
{
    size_t len;
    char *text = sample_text(&len);
    static const char *strs[] = {"backend", "kernel", "source_hash", "dtype",
                                 "tuner_version", "date"};
    static const char *dev_strs[] = {"vendor", "name", "driver", "platform",
                                     "isa"};
    static const char *nums[] = {"median_ms", "min_ms", "default_ms",
                                 "speedup"};
    static const char *dev_nums[] = {"compute_units", "local_mem",
                                     "cpu_family", "cpu_model", "l1d", "l2",
                                     "l3"};
    char huge[200];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        char *m = mutate(text, NULL, strs[i], cJSON_CreateNumber(5));
        expect_reject(m, strlen(m), strs[i]);
        free(m);
        m = mutate(text, NULL, strs[i], cJSON_CreateString(huge));
        expect_reject(m, strlen(m), "entry 0");
        free(m);
        m = mutate(text, NULL, strs[i], NULL);
        expect_reject(m, strlen(m), "is missing");
        free(m);
    }
    for (size_t i = 0; i < sizeof dev_strs / sizeof dev_strs[0]; i++) {
        char *m = mutate(text, "device", dev_strs[i], cJSON_CreateArray());
        expect_reject(m, strlen(m), dev_strs[i]);
        free(m);
        m = mutate(text, "device", dev_strs[i], cJSON_CreateString(huge));
        expect_reject(m, strlen(m), "at most");
        free(m);
    }
    /* Invalid UTF-8 (a lone continuation byte, an overlong '/', a
     * surrogate, a truncated sequence) is refused: written back, it made
     * the file unreadable to other JSON readers (issue 14, defect 8);
     * valid multi-byte text is kept. */
    static const char *bad_utf8[] = {"GPU \x80", "\xC0\xAF", "\xED\xA0\x80",
                                     "\xE2\x82"};
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
        char *m = mutate(text, "device", "name",
                         cJSON_CreateString(bad_utf8[i]));
        expect_reject(m, strlen(m), "not valid UTF-8");
        free(m);
    }
    {
        char *m = mutate(text, "device", "name",
                         cJSON_CreateString("Radeon\xE2\x84\xA2 \xF0\x9F\x9A\x80"));
        seqk_tune_db *db = NULL;
        char msg[600];
        ck_assert_msg(seqk__tune_db_parse(m, strlen(m), &db, msg, sizeof msg) ==
                          SEQK_OK, "%s", msg);
        seqk__tune_db_free(db);
        free(m);
    }
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const double badv[] = {-1, 1e300};
        char *m = mutate(text, NULL, nums[i], cJSON_CreateString("1"));
        expect_reject(m, strlen(m), nums[i]);
        free(m);
        for (int j = 0; j < 2; j++) {
            m = mutate(text, NULL, nums[i], cJSON_CreateNumber(badv[j]));
            expect_reject(m, strlen(m), nums[i]);
            free(m);
        }
    }
    for (size_t i = 0; i < sizeof dev_nums / sizeof dev_nums[0]; i++) {
        const double badv[] = {-1, 0.5, 1e300};
        for (int j = 0; j < 3; j++) {
            char *m = mutate(text, "device", dev_nums[i],
                             cJSON_CreateNumber(badv[j]));
            expect_reject(m, strlen(m), dev_nums[i]);
            free(m);
        }
    }
    /* Buckets: too many, out of range, not integers, not an array. */
    const char *buckets[] = {"[1,2,3,4,5,6,7]", "[63]", "[-1]", "[1.5]",
                             "[\"1\"]", "{}", "7"};
    for (size_t i = 0; i < sizeof buckets / sizeof buckets[0]; i++) {
        char *m = mutate(text, NULL, "bucket", cJSON_Parse(buckets[i]));
        expect_reject(m, strlen(m), "bucket");
        free(m);
    }
    /* Params: none, too many, long names, bad values. */
    const char *params[] = {
        "{}", "{\"A\":1,\"B\":1,\"C\":1,\"D\":1,\"E\":1,\"F\":1,\"G\":1,"
        "\"H\":1,\"I\":1,\"J\":1,\"K\":1,\"L\":1,\"M\":1}",
        "{\"ABCDEFGHIJKLMNOPQ\":1}", "{\"A\":1.5}", "{\"A\":\"1\"}",
        "{\"A\":1e12}", "{\"A B\":1}", "{\"A\":1,\"A\":2}", "[1]"};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        char *m = mutate(text, NULL, "params", cJSON_Parse(params[i]));
        expect_reject(m, strlen(m), "entry 0");
        free(m);
    }
    char *m = mutate(text, NULL, "source_hash",
                     cJSON_CreateString("0123456789abcdeg"));
    expect_reject(m, strlen(m), "hex");
    free(m);
    m = mutate(text, NULL, "verified", cJSON_Parse("[1]"));
    expect_reject(m, strlen(m), "verified");
    free(m);
    m = mutate(text, NULL, "device", cJSON_Parse("[]"));
    expect_reject(m, strlen(m), "device");
    free(m);
    /* A key given twice inside an entry or its device. */
    static const char *twice[] = {NULL, "device"};
    for (int i = 0; i < 2; i++) {
        cJSON *root = cJSON_Parse(text);
        cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "entries"), 0);
        cJSON *o = twice[i] ? cJSON_GetObjectItem(e, twice[i]) : e;
        cJSON_AddStringToObject(o, i ? "vendor" : "backend", "x");
        char *dup = cJSON_PrintUnformatted(root);
        expect_reject(dup, strlen(dup), "given twice");
        free(dup);
        cJSON_Delete(root);
    }
    free(text);
}
END_TEST

START_TEST(duplicate_entries_last_wins)
{
    size_t len;
    char *text = sample_text(&len);
    cJSON *root = cJSON_Parse(text), *ents = cJSON_GetObjectItem(root,
                                                                 "entries");
    cJSON *copy = cJSON_Duplicate(cJSON_GetArrayItem(ents, 0), 1);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(copy, "params"), "TILE",
                              cJSON_CreateNumber(4));
    cJSON_AddItemToArray(ents, copy);
    char *out = cJSON_PrintUnformatted(root);
    seqk_tune_db *db = NULL;
    ck_assert_int_eq(seqk__tune_db_parse(out, strlen(out), &db, NULL, 0),
                     SEQK_OK);
    ck_assert_int_eq(seqk__tune_db_count(db), 2 + 1);
    ck_assert_int_eq(seqk__tune_db_get(db, 2)->values[0], 4);
    seqk__tune_db_free(db);
    free(out);
    cJSON_Delete(root);
    free(text);
}
END_TEST

START_TEST(rejects_files)
{
    char path[256], msg[600];
    const char *dir = tmpdir();
    seqk_tune_db *db = NULL;
    const char *v2 = "{\"format\":\"seqk-tuning\",\"version\":2,\"entries\":[]}";
    snprintf(path, sizeof path, "%s/v2.json", dir);
    write_text(path, v2, strlen(v2));
    ck_assert_int_eq(seqk__tune_db_read(path, &db, msg, sizeof msg),
                     SEQK_ERR_TUNING_DB);
    char want[400];
    snprintf(want, sizeof want, "tuning database %s: version 2 is not "
             "supported (this library reads 1)", path);
    ck_assert_str_eq(msg, want);
    ck_assert_ptr_null(db);
    /* Oversized: refused from its size alone (the file is sparse). */
    snprintf(path, sizeof path, "%s/big.json", dir);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)SEQK_TUNE_DB_MAX_BYTES + 1), 0);
    close(fd);
    ck_assert_int_eq(seqk__tune_db_read(path, &db, msg, sizeof msg),
                     SEQK_ERR_TUNING_DB);
    ck_assert_ptr_nonnull(strstr(msg, "larger than the limit"));
    /* A directory. */
    ck_assert_int_eq(seqk__tune_db_read(dir, &db, msg, sizeof msg),
                     SEQK_ERR_TUNING_DB);
    ck_assert_ptr_nonnull(strstr(msg, "not a regular file"));
    /* An update never overwrites a file it cannot use: the corrupt file
     * moves aside with its bytes, a new database starts, and the message
     * says where the old one went. */
    snprintf(path, sizeof path, "%s/bad.json", dir);
    write_text(path, "{\"format\":", 10);
    seqk_tune_db *s = sample_db(NULL);
    ck_assert_int_eq(seqk__tune_db_update(path, seqk__tune_db_get(s, 0), 1, msg,
                                         sizeof msg), SEQK_OK);
    const char *at = strstr(msg, "moved aside to ");
    ck_assert_msg(at != NULL, "%s", msg);
    char aside[400];
    ck_assert_int_eq(sscanf(at + 15, "%399[^,]", aside), 1);
    FILE *kept = fopen(aside, "rb");
    ck_assert_msg(kept != NULL, "%s", aside);
    char bytes[32] = "";
    ck_assert_int_eq(fread(bytes, 1, sizeof bytes, kept), 10);
    fclose(kept);
    ck_assert_int_eq(memcmp(bytes, "{\"format\":", 10), 0);
    ck_assert_int_eq(seqk__tune_db_read(path, &db, msg, sizeof msg), SEQK_OK);
    ck_assert_int_eq(seqk__tune_db_count(db), 1);
    seqk__tune_db_free(db);
    /* A second bad file within the same second gets its own name. */
    write_text(path, "{\"format\":", 10);
    ck_assert_int_eq(seqk__tune_db_update(path, seqk__tune_db_get(s, 0), 1, msg,
                                         sizeof msg), SEQK_OK);
    at = strstr(msg, "moved aside to ");
    ck_assert_msg(at != NULL, "%s", msg);
    char aside2[400];
    ck_assert_int_eq(sscanf(at + 15, "%399[^,]", aside2), 1);
    ck_assert_str_ne(aside2, aside);
    ck_assert_int_eq(access(aside, F_OK), 0);
    ck_assert_int_eq(access(aside2, F_OK), 0);
    /* A path that is a directory is not moved: the update fails. */
    ck_assert_int_eq(seqk__tune_db_update(dir, seqk__tune_db_get(s, 0), 1,
                                         msg, sizeof msg), SEQK_ERR_IO);
    ck_assert_ptr_nonnull(strstr(msg, "cannot move it aside"));
    ck_assert_int_eq(seqk__tune_db_read(path, &db, msg, sizeof msg), SEQK_OK);
    ck_assert_int_eq(seqk__tune_db_count(db), 1);
    seqk__tune_db_free(db);
    seqk__tune_db_free(s);
    rm_tree(dir);
}
END_TEST

/* Every prefix of a valid file is rejected, except those that only drop
 * trailing white space, which give the same entries. */
START_TEST(truncated_prefixes)
{
    size_t len;
    char *text = sample_text(&len);
    seqk_tune_db *full = NULL, *db;
    ck_assert_int_eq(seqk__tune_db_parse(text, len, &full, NULL, 0), SEQK_OK);
    int accepted = 0;
    for (size_t n = 0; n < len; n++) {
        char msg[512] = "";
        db = NULL;
        seqk_status st = seqk__tune_db_parse(text, n, &db, msg, sizeof msg);
        if (st == SEQK_OK) {
            accepted++;
            assert_same_db(full, db);
            seqk__tune_db_free(db);
        } else {
            ck_assert_ptr_null(db);
            ck_assert_msg(msg[0], "prefix %zu rejected without a message", n);
        }
    }
    size_t blanks = 0;
    while (blanks < len && strchr(" \t\r\n", text[len - 1 - blanks]))
        blanks++;
    ck_assert_uint_gt(blanks, 0);
    ck_assert_int_eq(accepted, (int)blanks);
    seqk__tune_db_free(full);
    free(text);
}
END_TEST

/* Random byte flips, insertions, deletions and copies: each result is
 * rejected with a message, or parses to entries that pass the writer's
 * checks and survive a round trip. */
START_TEST(fuzz)
{
    size_t len;
    char *text = sample_text(&len);
    tu_rng rng;
    tu_rng_init(&rng, 77);
    static const char special[] = "{}[]\",:0123456789-.eE \\u\n";
    int parsed = 0;
    char *buf = malloc(len * 2 + 64);
    for (int it = 0; it < 4000; it++) {
        size_t n = len;
        memcpy(buf, text, len);
        int edits = 1 + (int)(tu_uniform(&rng, 0, 4));
        for (int k = 0; k < edits && n > 1; k++) {
            size_t pos = (size_t)tu_uniform(&rng, 0, (float)n) % n;
            int op = (int)tu_uniform(&rng, 0, 4) % 4;
            char c = tu_uniform(&rng, 0, 1) < 0.5f
                         ? special[(size_t)tu_uniform(&rng, 0, 25) % 25]
                         : (char)(int)tu_uniform(&rng, 0, 256);
            if (op == 0) {
                buf[pos] = c;
            } else if (op == 1 && n < len * 2) {
                memmove(buf + pos + 1, buf + pos, n - pos);
                buf[pos] = c;
                n++;
            } else if (op == 2) {
                memmove(buf + pos, buf + pos + 1, n - pos - 1);
                n--;
            } else if (n + 32 < len * 2) {
                size_t from = (size_t)tu_uniform(&rng, 0, (float)n) % n;
                size_t cnt = from + 32 <= n ? 32 : n - from;
                char chunk[32];
                memcpy(chunk, buf + from, cnt);
                memmove(buf + pos + cnt, buf + pos, n - pos);
                memcpy(buf + pos, chunk, cnt);
                n += cnt;
            }
        }
        char msg[512] = "";
        seqk_tune_db *db = NULL, *back = NULL;
        if (seqk__tune_db_parse(buf, n, &db, msg, sizeof msg) != SEQK_OK) {
            ck_assert_ptr_null(db);
            ck_assert_msg(msg[0], "iteration %d: rejected without message",
                          it);
            continue;
        }
        parsed++;
        for (int i = 0; i < seqk__tune_db_count(db); i++)
            ck_assert_int_eq(seqk__tune_entry_check(seqk__tune_db_get(db, i),
                                                    msg, sizeof msg),
                             SEQK_OK);
        char *again = seqk__tune_db_json(db);
        ck_assert_int_eq(seqk__tune_db_parse(again, strlen(again), &back,
                                            msg, sizeof msg), SEQK_OK);
        assert_same_db(db, back);
        free(again);
        seqk__tune_db_free(back);
        seqk__tune_db_free(db);
    }
    /* Some mutations (white space, digits in values) stay valid. */
    ck_assert_int_gt(parsed, 0);
    free(buf);
    free(text);
}
END_TEST

/* ---------------------------------------------------- concurrent writers */

START_TEST(concurrent_updates)
{
    enum { WRITERS = 4, PER = 12 };
    char path[256], msg[600], h[17];
    const char *dir = tmpdir();
    snprintf(path, sizeof path, "%s/tuning.json", dir);
    seqk__tunable_hash(&fake, h);
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        ck_assert_int_ge(pids[w], 0);
        if (pids[w] > 0)
            continue;
        /* Writer w owns buckets [w, i]; a second pass changes VEC. */
        int bad = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < PER; i++) {
                seqk_tune_fp f = gpu_fp();
                seqk_tune_entry e = make_entry(&f, h, w, i, 1, 1 + pass, 2);
                bad |= seqk__tune_db_update(path, &e, 1, msg, sizeof msg) !=
                       SEQK_OK;
                bad |= msg[0] != '\0';
            }
        _exit(bad);
    }
    for (int w = 0; w < WRITERS; w++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "writer %d failed", w);
    }
    seqk_tune_db *db = NULL;
    ck_assert_int_eq(seqk__tune_db_read(path, &db, msg, sizeof msg), SEQK_OK);
    ck_assert_int_eq(seqk__tune_db_count(db), WRITERS * PER);
    int seen[WRITERS][PER] = {{0}};
    for (int i = 0; i < seqk__tune_db_count(db); i++) {
        const seqk_tune_entry *e = seqk__tune_db_get(db, i);
        ck_assert_int_eq(e->values[1], 2);
        seen[e->bucket[0]][e->bucket[1]]++;
    }
    for (int w = 0; w < WRITERS; w++)
        for (int i = 0; i < PER; i++)
            ck_assert_int_eq(seen[w][i], 1);
    seqk__tune_db_free(db);
    rm_tree(dir);
}
END_TEST

void tune_db_file_tests(TCase *tc)
{
    tcase_add_test(tc, rejects_bad_files);
    tcase_add_test(tc, rejects_bad_fields);
    tcase_add_test(tc, duplicate_entries_last_wins);
    tcase_add_test(tc, rejects_files);
    tcase_add_test(tc, truncated_prefixes);
    tcase_add_test(tc, fuzz);
    tcase_add_test(tc, concurrent_updates);
}
