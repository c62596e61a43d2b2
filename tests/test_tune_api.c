/*
 * test_tune_api.c — the tuner library's header (seqk_tune.h) as the
 * `seqk` tool uses it: seqk_tune_db_check on a missing, valid and broken
 * database, by path and through $SEQK_TUNING_DB; seqk_tune_command's
 * usage errors.  Public headers only, as in tools/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seqk.h"
#include "seqk_tune.h"
#include "testutil.h"

/* A file under a fresh /tmp directory holding text (NULL: no file). */
static void make_db(char *dir, size_t dir_len, char *path, size_t path_len,
                    const char *text)
{
    snprintf(dir, dir_len, "/tmp/seqk-tune-api-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, path_len, "%s/tuning.json", dir);
    if (text) {
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
    }
}

static void remove_db(const char *dir, const char *path)
{
    unlink(path);
    rmdir(dir);
}

START_TEST(check_missing_and_valid)
{
    char dir[64], path[128], msg[512] = "x";
    make_db(dir, sizeof dir, path, sizeof path, NULL);
    ck_assert_int_eq(seqk_tune_db_check(path, msg, sizeof msg), SEQK_OK);
    ck_assert_str_eq(msg, "");
    remove_db(dir, path);

    make_db(dir, sizeof dir, path, sizeof path,
            "{\"format\": \"seqk-tuning\", \"version\": 1, \"entries\": []}\n");
    strcpy(msg, "x");
    ck_assert_int_eq(seqk_tune_db_check(path, msg, sizeof msg), SEQK_OK);
    ck_assert_str_eq(msg, "");
    /* msg may be NULL */
    ck_assert_int_eq(seqk_tune_db_check(path, NULL, 0), SEQK_OK);
    /* "" is no path: nothing to check */
    ck_assert_int_eq(seqk_tune_db_check("", msg, sizeof msg), SEQK_OK);
    remove_db(dir, path);
}
END_TEST

START_TEST(check_broken)
{
    char dir[64], path[128], msg[512] = "";
    make_db(dir, sizeof dir, path, sizeof path,
            "{\"format\": \"seqk-tuning\", \"version\": 2, \"entries\": []}");
    ck_assert_int_eq(seqk_tune_db_check(path, msg, sizeof msg),
                     SEQK_ERR_TUNING_DB);
    ck_assert_msg(strstr(msg, path) && strstr(msg, "version 2"),
                  "message: %s", msg);
    ck_assert_int_eq(seqk_tune_db_check(path, NULL, 0), SEQK_ERR_TUNING_DB);
    remove_db(dir, path);

    make_db(dir, sizeof dir, path, sizeof path, "not json");
    ck_assert_int_eq(seqk_tune_db_check(path, msg, sizeof msg),
                     SEQK_ERR_TUNING_DB);
    ck_assert_msg(strstr(msg, "not valid JSON"), "message: %s", msg);
    remove_db(dir, path);
}
END_TEST

/* path NULL: the file a context would read ($SEQK_TUNING_DB). */
START_TEST(check_default_path)
{
    char dir[64], path[128], msg[512] = "";
    const char *old = getenv("SEQK_TUNING_DB");
    char *saved = old ? strdup(old) : NULL;
    make_db(dir, sizeof dir, path, sizeof path, "[]");
    setenv("SEQK_TUNING_DB", path, 1);
    ck_assert_int_eq(seqk_tune_db_check(NULL, msg, sizeof msg),
                     SEQK_ERR_TUNING_DB);
    ck_assert_msg(strstr(msg, path), "message: %s", msg);
    remove_db(dir, path);
    ck_assert_int_eq(seqk_tune_db_check(NULL, msg, sizeof msg), SEQK_OK);
    if (saved)
        setenv("SEQK_TUNING_DB", saved, 1);
    else
        unsetenv("SEQK_TUNING_DB");
    free(saved);
}
END_TEST

START_TEST(command_usage)
{
    char *bad[] = {"tune", "--no-such-option", NULL};
    ck_assert_int_eq(seqk_tune_command(2, bad), 2);
}
END_TEST

static Suite *tune_api_suite(void)
{
    Suite *s = suite_create("tune_api");
    TCase *tc = tcase_create("tune_api");
    tcase_add_test(tc, check_missing_and_valid);
    tcase_add_test(tc, check_broken);
    tcase_add_test(tc, check_default_path);
    tcase_add_test(tc, command_usage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(tune_api_suite());
}
