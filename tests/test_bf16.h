/*
 * test_bf16.h — what test_bf16.c (linear, main) shares with
 * test_bf16_rnn.c: the test's own bf16 rounding and a bit-equality check.
 */
#ifndef SEQK_TEST_BF16_H
#define SEQK_TEST_BF16_H

#include <stddef.h>

#include "testutil.h"

/* x rounded to bf16 (nearest, ties to even) by rint(), independently of
 * the library's bit trick. */
float tb_bf16_round(float x);
/* A malloc'd copy of x[0..n) rounded so. */
float *tb_rounded(const float *x, size_t n);
/* ck_asserts got == want bit for bit (NaN == NaN). */
void tb_assert_same(const float *got, const float *want, size_t n,
                    const char *what);

TCase *bf16_rnn_tcase(void);

#endif
