/*
 * testutil.h — shared helpers for the Check suites: seeded random data,
 * tolerance comparison with readable failure messages, tensor shortcuts,
 * sentinel guards, and the list of devices to run every test on.
 */
#ifndef SEQK_TESTUTIL_H
#define SEQK_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "seqk.h"

/* Deterministic xorshift generator; seed from SEQK_TEST_SEED or 12345. */
typedef struct { uint64_t s; } tu_rng;
void tu_rng_init(tu_rng *r, uint64_t salt);
float tu_uniform(tu_rng *r, float lo, float hi);
void tu_fill(tu_rng *r, float *x, size_t n, float lo, float hi);
float *tu_rand(tu_rng *r, size_t n, float lo, float hi); /* malloc'd */

/* max |a-b| <= atol + rtol*|b| elementwise (NaN == NaN).  On mismatch
 * returns 0 and writes "index 17: got 0.5 want 0.25 (...)" to msg. */
int tu_close(const float *got, const float *want, size_t n, float atol,
             float rtol, char *msg, size_t msg_len);
#define TU_ASSERT_CLOSE(got, want, n, atol, rtol)                           \
    do {                                                                    \
        char tu_msg_[256];                                                  \
        ck_assert_msg(tu_close((got), (want), (n), (atol), (rtol), tu_msg_, \
                               sizeof tu_msg_),                             \
                      "%s", tu_msg_);                                       \
    } while (0)

/* Tensor shortcuts; they ck_assert on failure.  data may be NULL (then
 * the tensor is filled with NaN for f32, to catch unwritten outputs). */
seqk_tensor *tu_f32(seqk_context *ctx, int ndim, const int64_t *dims,
                    const float *data);
seqk_tensor *tu_i32(seqk_context *ctx, int ndim, const int64_t *dims,
                    const int32_t *data);
seqk_tensor *tu_bool(seqk_context *ctx, int ndim, const int64_t *dims,
                     const uint8_t *data);
/* Reads a whole f32 tensor into a malloc'd buffer. */
float *tu_read(const seqk_tensor *t);
/* ck_asserts status == SEQK_OK, printing seqk_last_error(ctx) if not. */
#define TU_OK(ctx, expr)                                                    \
    do {                                                                    \
        seqk_status tu_st_ = (expr);                                        \
        ck_assert_msg(tu_st_ == SEQK_OK, "%s -> %s: %s", #expr,             \
                      seqk_status_string(tu_st_), seqk_last_error(ctx));    \
    } while (0)
/* ck_asserts the status and that the message contains needle. */
#define TU_FAILS(ctx, expr, status, needle)                                 \
    do {                                                                    \
        seqk_status tu_st_ = (expr);                                        \
        ck_assert_msg(tu_st_ == (status), "%s -> %s (want %s): %s", #expr,  \
                      seqk_status_string(tu_st_),                           \
                      seqk_status_string(status), seqk_last_error(ctx));    \
        ck_assert_msg(strstr(seqk_last_error(ctx), (needle)) != NULL,       \
                      "%s: message \"%s\" lacks \"%s\"", #expr,             \
                      seqk_last_error(ctx), (needle));                      \
    } while (0)

/* Sentinel guard: every tensor seqk allocates is followed by guard bytes;
 * this ck_asserts they are intact (an out-of-bounds write breaks them). */
void tu_assert_guard(const seqk_tensor *t);

/* Devices to test: every available device spec except "auto", honouring
 * SEQK_TEST_DEVICES (comma list) when set.  Index 0 is always "ref". */
int tu_device_count(void);
const char *tu_device(int i);
/* A context on device i (ck_asserts). */
seqk_context *tu_context(int i);

/* Runs suite s with CK_ENV-style defaults; returns the process exit code. */
int tu_run_suite(Suite *s);

/* Runs $SEQK_EXE with pre (may be NULL) then args (NULL-terminated), the
 * "K=V" pairs of env added to its environment (NULL-terminated, may be
 * NULL), in folder dir (NULL: this one); stderr and stdout go through
 * files err_path / out_path into err / out (either buffer may be NULL).
 * Returns its exit status; asserts that it exited rather than died. */
int tu_run_exe(const char *pre, const char *const *args,
               const char *const *env, const char *dir,
               const char *err_path, const char *out_path, char *err,
               size_t err_len, char *out, size_t out_len);

#endif /* SEQK_TESTUTIL_H */
