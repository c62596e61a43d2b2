/*
 * run_util.c — what the `seqk run` suites share (README: tests/): a
 * scratch folder per test, .npy in and out, and running the command.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npy.h"
#include "seqk.h"
#include "run_util.h"
#include "testutil.h"

char run_tmpdir[256];

void run_setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(run_tmpdir, sizeof run_tmpdir, "%s/seqk_run_XXXXXX",
             base && *base ? base : "/tmp");
    ck_assert_msg(mkdtemp(run_tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
}

void run_teardown(void)
{
    DIR *d = opendir(run_tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char p[600];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", run_tmpdir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(run_tmpdir);
}

const char *path_of(const char *name)
{
    static char buf[4][600];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 600, "%s/%s", run_tmpdir, name);
    return p;
}

int exists(const char *name)
{
    return access(path_of(name), F_OK) == 0;
}

void put(const char *name, npy_dtype dt, int ndim, const int64_t *dims,
                const void *data)
{
    char err[300];
    ck_assert_msg(npy_write(path_of(name), dt, ndim, dims, data, err,
                            sizeof err) == NPY_OK, "%s", err);
}

void put_f32(const char *name, int ndim, const int64_t *dims,
                    const float *data)
{
    put(name, NPY_F32, ndim, dims, data);
}

/* Reads output name, checks it is float32 of shape dims, returns data. */
float *get(const char *name, int ndim, const int64_t *dims)
{
    npy_array a;
    char err[300];
    ck_assert_msg(npy_read(path_of(name), &a, err, sizeof err) == NPY_OK,
                  "%s", err);
    ck_assert_int_eq(a.dtype, NPY_F32);
    ck_assert_int_eq(a.ndim, ndim);
    for (int i = 0; i < ndim; i++)
        ck_assert_msg(a.dims[i] == dims[i], "%s dim %d: %lld want %lld",
                      name, i, (long long)a.dims[i], (long long)dims[i]);
    return a.data;
}

int64_t numel(int ndim, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= dims[i];
    return n;
}

/* Runs `seqk run args...` (NULL-terminated) in run_tmpdir; returns the exit
 * status, with stderr (and stdout) captured into the buffers. */
int run_seqk(const char *const *args, char *err, size_t err_len,
                    char *out, size_t out_len)
{
    return tu_run_exe("run", args, NULL, run_tmpdir, path_of(".stderr"),
                      path_of(".stdout"), err, err_len, out, out_len);
}

/* Runs and asserts success, printing stderr if not. */
void run_ok(const char *const *args)
{
    char err[1024];
    int rc = run_seqk(args, err, sizeof err, NULL, 0);
    ck_assert_msg(rc == 0, "seqk run %s exited %d: %s", args[0], rc, err);
    ck_assert_msg(err[0] == '\0', "stderr not empty: %s", err);
}

/* Writes f32 input name of shape dims with random data and returns the
 * matching tensor on ctx. */
seqk_tensor *rand_input(seqk_context *ctx, tu_rng *r, const char *name,
                               int ndim, const int64_t *dims)
{
    size_t n = (size_t)numel(ndim, dims);
    float *x = tu_rand(r, n, -1, 1);
    put_f32(name, ndim, dims, x);
    seqk_tensor *t = tu_f32(ctx, ndim, dims, x);
    free(x);
    return t;
}

/* Compares output file name with tensor t (same shape). */
void check_output(const char *name, const seqk_tensor *t)
{
    int64_t dims[SEQK_MAX_DIMS];
    int nd = seqk_tensor_ndim(t);
    for (int i = 0; i < nd; i++)
        dims[i] = seqk_tensor_dim(t, i);
    float *got = get(name, nd, dims);
    float *want = tu_read(t);
    CLOSE(got, want, seqk_tensor_numel(t));
    free(got);
    free(want);
}
