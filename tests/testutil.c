/*
 * testutil.c — helpers shared by the Check suites (see testutil.h).
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/internal.h"

void tu_rng_init(tu_rng *r, uint64_t salt)
{
    const char *env = getenv("SEQK_TEST_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 10) : 12345u;
    r->s = (seed ^ (salt * 0x9E3779B97F4A7C15ull)) | 1u;
}

static uint64_t next(tu_rng *r)
{
    uint64_t x = r->s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return r->s = x;
}

float tu_uniform(tu_rng *r, float lo, float hi)
{
    double u = (double)(next(r) >> 11) / 9007199254740992.0; /* [0,1) */
    return (float)(lo + (hi - lo) * u);
}

void tu_fill(tu_rng *r, float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = tu_uniform(r, lo, hi);
}

float *tu_rand(tu_rng *r, size_t n, float lo, float hi)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    tu_fill(r, x, n, lo, hi);
    return x;
}

int tu_close(const float *got, const float *want, size_t n, float atol,
             float rtol, char *msg, size_t msg_len)
{
    for (size_t i = 0; i < n; i++) {
        float g = got[i], w = want[i];
        if (isnan(g) && isnan(w))
            continue;
        if (isinf(w) && g == w)
            continue;
        if (!(fabsf(g - w) <= atol + rtol * fabsf(w))) {
            snprintf(msg, msg_len,
                     "index %zu of %zu: got %.9g want %.9g (|diff| %.3g > "
                     "atol %.3g + rtol %.3g*|want|)", i, n, (double)g,
                     (double)w, fabs((double)g - w), (double)atol,
                     (double)rtol);
            return 0;
        }
    }
    return 1;
}

static seqk_tensor *make(seqk_context *ctx, int ndim, const int64_t *dims,
                         seqk_dtype dt, const void *data)
{
    seqk_tensor *t = NULL;
    TU_OK(ctx, seqk_tensor_create(ctx, ndim, dims, dt, &t));
    size_t bytes = seqk_tensor_bytes(t);
    if (data) {
        TU_OK(ctx, seqk_tensor_write(t, data, bytes));
    } else if (dt == SEQK_F32) {
        /* NaN everywhere: an output a kernel forgets to write shows. */
        float *nan = malloc(bytes ? bytes : 1);
        ck_assert_ptr_nonnull(nan);
        for (size_t i = 0; i < bytes / sizeof(float); i++)
            nan[i] = NAN;
        TU_OK(ctx, seqk_tensor_write(t, nan, bytes));
        free(nan);
    }
    return t;
}

seqk_tensor *tu_f32(seqk_context *ctx, int ndim, const int64_t *dims,
                    const float *data)
{
    return make(ctx, ndim, dims, SEQK_F32, data);
}

seqk_tensor *tu_i32(seqk_context *ctx, int ndim, const int64_t *dims,
                    const int32_t *data)
{
    return make(ctx, ndim, dims, SEQK_I32, data);
}

seqk_tensor *tu_bool(seqk_context *ctx, int ndim, const int64_t *dims,
                     const uint8_t *data)
{
    return make(ctx, ndim, dims, SEQK_BOOL, data);
}

float *tu_read(const seqk_tensor *t)
{
    size_t bytes = seqk_tensor_bytes(t);
    float *x = malloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(seqk_tensor_read(t, x, bytes), SEQK_OK);
    return x;
}

void tu_assert_guard(const seqk_tensor *t)
{
    ck_assert_msg(seqk__tensor_guard_intact(t),
                  "a kernel wrote past the end of an output tensor");
}

static char devices[16][32];
static int num_devices = -1;

static void list_devices(void)
{
    const char *only = getenv("SEQK_TEST_DEVICES");
    int count = 0;
    num_devices = 0;
    /* Called from main() before any test runs: no ck_assert here. */
    if (seqk_device_count(&count) != SEQK_OK) {
        fprintf(stderr, "seqk_device_count: %s\n", seqk_last_error(NULL));
        exit(1);
    }
    for (int i = 0; i < count && num_devices < 16; i++) {
        seqk_device_info info = {.struct_size = sizeof info};
        if (seqk_device_info_get(i, &info) != SEQK_OK)
            continue;
        if (!info.available)
            continue;
        /* OpenCL devices only when named in SEQK_TEST_DEVICES: the shared
         * suites fork per test after the OpenCL platform was initialised
         * here, and PoCL's threads do not survive a fork (run them with
         * CK_FORK=no SEQK_TEST_DEVICES=opencl:0.0). */
        if (info.kind == SEQK_DEVICE_OPENCL && !(only && *only))
            continue;
        if (only && *only && i > 0) {
            /* exact match within the comma list */
            char list[256];
            snprintf(list, sizeof list, ",%s,", only);
            char key[40];
            snprintf(key, sizeof key, ",%s,", info.spec);
            if (!strstr(list, key))
                continue;
        }
        snprintf(devices[num_devices++], sizeof devices[0], "%s", info.spec);
    }
}

int tu_device_count(void)
{
    if (num_devices < 0)
        list_devices();
    return num_devices;
}

const char *tu_device(int i)
{
    /* May run outside a test (naming tcases): no ck_assert. */
    if (i < 0 || i >= tu_device_count())
        return "(no such device)";
    return devices[i];
}

seqk_context *tu_context(int i)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = tu_device(i);
    seqk_context *ctx = NULL;
    seqk_status st = seqk_context_create(&o, &ctx);
    ck_assert_msg(st == SEQK_OK, "context on %s: %s", o.device,
                  seqk_last_error(NULL));
    return ctx;
}

int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

int tu_run_exe(const char *pre, const char *const *args,
               const char *const *env, const char *dir,
               const char *err_path, const char *out_path, char *err,
               size_t err_len, char *out, size_t out_len)
{
    const char *exe = getenv("SEQK_EXE");
    ck_assert_msg(exe && *exe, "SEQK_EXE is not set");
    const char *argv[64];
    int n = 0;
    argv[n++] = exe;
    if (pre)
        argv[n++] = pre;
    for (int i = 0; args[i]; i++) {
        ck_assert(n < 63);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fe < 0 || fo < 0 || (dir && chdir(dir) != 0) ||
            dup2(fe, 2) < 0 || dup2(fo, 1) < 0)
            _exit(126);
        for (int i = 0; env && env[i]; i++) {
            char kv[700];
            snprintf(kv, sizeof kv, "%s", env[i]);
            char *eq = strchr(kv, '=');
            if (!eq)
                _exit(126);
            *eq = '\0';
            setenv(kv, eq + 1, 1);
        }
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int status;
    ck_assert(waitpid(pid, &status, 0) == pid);
    ck_assert_msg(WIFEXITED(status), "seqk %s died (signal %d)",
                  pre ? pre : args[0],
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    const char *files[2] = {err_path, out_path};
    char *bufs[2] = {err, out};
    size_t lens[2] = {err_len, out_len};
    for (int k = 0; k < 2; k++) {
        if (!bufs[k])
            continue;
        FILE *f = fopen(files[k], "rb");
        ck_assert(f != NULL);
        size_t got = fread(bufs[k], 1, lens[k] - 1, f);
        bufs[k][got] = '\0';
        fclose(f);
    }
    return WEXITSTATUS(status);
}
