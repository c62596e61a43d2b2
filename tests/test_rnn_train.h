/*
 * test_rnn_train.h — the parts of the rnn_train suite (test_rnn_train.c
 * has main and the finite-difference checks).
 */
#ifndef SEQK_TEST_RNN_TRAIN_H
#define SEQK_TEST_RNN_TRAIN_H

#include <check.h>

/* 1 when test device dev is a host device (training runs there). */
int rnn_train_host_device(int dev);
void rnn_train_add_api(TCase *tc);   /* test_rnn_train_api.c */
void rnn_train_add_torch(TCase *tc); /* test_rnn_train_torch.c */

#endif
