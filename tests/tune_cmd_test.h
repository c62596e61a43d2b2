/*
 * tune_cmd_test.h — the tune_search suite's second file: `seqk tune` end
 * to end (test_tune_cmd.c), added to the suite by test_tune_search.c.
 */
#ifndef SEQK_TUNE_CMD_TEST_H
#define SEQK_TUNE_CMD_TEST_H

#include <check.h>

/* The "command" test case (a scratch folder per test). */
TCase *tune_cmd_tcase(void);

#endif
