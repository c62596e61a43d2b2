/* run_util.h — shared by the `seqk run` suites (run_util.c). */
#ifndef SEQK_TEST_RUN_UTIL_H
#define SEQK_TEST_RUN_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "npy.h"
#include "seqk.h"
#include "testutil.h"

extern char run_tmpdir[256];

/* Check fixture: a fresh scratch folder, removed with its files. */
void run_setup(void);
void run_teardown(void);
/* name inside the scratch folder (4 rotating buffers). */
const char *path_of(const char *name);
int exists(const char *name);
void put(const char *name, npy_dtype dt, int ndim, const int64_t *dims,
         const void *data);
void put_f32(const char *name, int ndim, const int64_t *dims,
             const float *data);
/* Reads output name, checks it is float32 of shape dims, returns data. */
float *get(const char *name, int ndim, const int64_t *dims);
int64_t numel(int ndim, const int64_t *dims);
/* Runs `seqk run args...` (NULL-terminated) in the scratch folder;
 * returns the exit status, stderr and stdout captured into the buffers
 * (either may be NULL). */
int run_seqk(const char *const *args, char *err, size_t err_len, char *out,
             size_t out_len);
/* Runs and asserts success with nothing on stderr. */
void run_ok(const char *const *args);
/* Writes f32 input name of shape dims with random data; the same data
 * as a tensor on ctx. */
seqk_tensor *rand_input(seqk_context *ctx, tu_rng *r, const char *name,
                        int ndim, const int64_t *dims);
/* Compares output file name with tensor t (same shape). */
void check_output(const char *name, const seqk_tensor *t);

#define CLOSE(got, want, n) TU_ASSERT_CLOSE(got, want, (size_t)(n), 1e-6f, \
                                            1e-5f)

#endif
