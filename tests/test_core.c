/*
 * test_core.c — contexts, device specs, tensors, status strings, the
 * argument checks shared by every op, and CPU detection (features, masks,
 * caches, cores, default threads).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/registry.h"
#include "testutil.h"

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

static seqk_context *ref_ctx(void)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = "ref";
    seqk_context *ctx = NULL;
    ck_assert_int_eq(seqk_context_create(&o, &ctx), SEQK_OK);
    return ctx;
}

START_TEST(context_default_and_ref)
{
    seqk_context *ctx = NULL;
    ck_assert_int_eq(seqk_context_create(NULL, &ctx), SEQK_OK);
    ck_assert_int_gt(seqk_context_threads(ctx), 0);
    ck_assert_str_ne(seqk_context_device(ctx), "");
    seqk_context_destroy(ctx);
    ctx = ref_ctx();
    ck_assert_str_eq(seqk_context_device(ctx), "ref");
    ck_assert_str_eq(seqk_last_error(ctx), "");
    seqk_context_destroy(ctx);
    ck_assert_int_eq(seqk_context_destroy(NULL), SEQK_OK);
}
END_TEST

START_TEST(context_bad_specs)
{
    seqk_options o;
    seqk_context *ctx = NULL;
    seqk_options_init(&o);
    o.device = "tpu";
    ck_assert_int_eq(seqk_context_create(&o, &ctx), SEQK_ERR_INVALID_ARG);
    ck_assert_ptr_null(ctx);
    ck_assert_ptr_nonnull(strstr(seqk_last_error(NULL), "unknown device 'tpu'"));

    o.device = "opencl:x";
    ck_assert_int_eq(seqk_context_create(&o, &ctx), SEQK_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(seqk_last_error(NULL), "opencl:P.D"));

    /* Without an OpenCL backend, any opencl spec fails with a reason. */
    o.device = "opencl:7.7";
    ck_assert_int_eq(seqk_context_create(&o, &ctx), SEQK_ERR_NO_DEVICE);
    ck_assert_ptr_nonnull(strstr(seqk_last_error(NULL), "opencl:7.7"));

    o.device = "neon";
#if defined(__x86_64__)
    ck_assert_int_eq(seqk_context_create(&o, &ctx), SEQK_ERR_NO_DEVICE);
    ck_assert_ptr_nonnull(strstr(seqk_last_error(NULL), "not available"));
#endif
    o.device = "ref";
    o.threads = -2;
    ck_assert_int_eq(seqk_context_create(&o, &ctx), SEQK_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(seqk_last_error(NULL), "threads"));

    o.threads = 0;
    o.struct_size = 3;
    ck_assert_int_eq(seqk_context_create(&o, &ctx), SEQK_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(seqk_last_error(NULL), "struct_size"));
    ck_assert_int_eq(seqk_context_create(NULL, NULL), SEQK_ERR_INVALID_ARG);
}
END_TEST

START_TEST(context_env)
{
    seqk_context *ctx = NULL;
    setenv("SEQK_NUM_THREADS", "3", 1);
    setenv("SEQK_DEVICE", "ref", 1);
    ck_assert_int_eq(seqk_context_create(NULL, &ctx), SEQK_OK);
    ck_assert_int_eq(seqk_context_threads(ctx), 3);
    ck_assert_str_eq(seqk_context_device(ctx), "ref");
    seqk_context_destroy(ctx);
    setenv("SEQK_NUM_THREADS", "many", 1);
    ck_assert_int_eq(seqk_context_create(NULL, &ctx), SEQK_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(seqk_last_error(NULL), "SEQK_NUM_THREADS"));
    unsetenv("SEQK_NUM_THREADS");
    setenv("SEQK_DEVICE", "bogus", 1);
    ck_assert_int_eq(seqk_context_create(NULL, &ctx), SEQK_ERR_INVALID_ARG);
    unsetenv("SEQK_DEVICE");
}
END_TEST

START_TEST(devices_listed)
{
    int n = 0;
    ck_assert_int_eq(seqk_device_count(&n), SEQK_OK);
    ck_assert_int_ge(n, 1);
    seqk_device_info info = {.struct_size = sizeof info};
    ck_assert_int_eq(seqk_device_info_get(0, &info), SEQK_OK);
    ck_assert_str_eq(info.spec, "ref");
    ck_assert_int_eq(info.available, 1);
    for (int i = 1; i < n; i++) {
        ck_assert_int_eq(seqk_device_info_get(i, &info), SEQK_OK);
        if (!info.available)
            ck_assert_str_ne(info.why_unavailable, "");
        else {
            /* every listed available device makes a context */
            seqk_options o;
            seqk_options_init(&o);
            o.device = info.spec;
            seqk_context *ctx = NULL;
            ck_assert_int_eq(seqk_context_create(&o, &ctx), SEQK_OK);
            seqk_context_destroy(ctx);
        }
    }
    ck_assert_int_eq(seqk_device_info_get(n, &info), SEQK_ERR_INVALID_ARG);
    ck_assert_int_eq(seqk_device_info_get(0, NULL), SEQK_ERR_INVALID_ARG);
    ck_assert_int_eq(seqk_device_count(NULL), SEQK_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(seqk_cpu_features());
}
END_TEST

START_TEST(status_strings)
{
    for (int s = SEQK_OK; s <= SEQK_ERR_INTERNAL; s++) {
        const char *name = seqk_status_string((seqk_status)s);
        ck_assert_ptr_nonnull(strstr(name, "SEQK_"));
        ck_assert_ptr_null(strstr(name, "UNKNOWN"));
    }
    ck_assert_ptr_nonnull(strstr(seqk_status_string((seqk_status)999), "UNKNOWN"));
    ck_assert_str_eq(seqk_version_string(), "0.1.0");
}
END_TEST

START_TEST(tensor_roundtrip)
{
    seqk_context *ctx = ref_ctx();
    int64_t dims[3] = {2, 3, 4};
    float in[24], out[24];
    for (int i = 0; i < 24; i++)
        in[i] = (float)i * 0.5f;
    seqk_tensor *t = NULL;
    TU_OK(ctx, seqk_tensor_create(ctx, 3, dims, SEQK_F32, &t));
    ck_assert_int_eq(seqk_tensor_ndim(t), 3);
    ck_assert_int_eq(seqk_tensor_dim(t, 2), 4);
    ck_assert_int_eq(seqk_tensor_dim(t, 3), -1);
    ck_assert_int_eq(seqk_tensor_numel(t), 24);
    ck_assert_uint_eq(seqk_tensor_bytes(t), sizeof in);
    ck_assert_int_eq(seqk_tensor_dtype(t), SEQK_F32);
    TU_OK(ctx, seqk_tensor_write(t, in, sizeof in));
    TU_OK(ctx, seqk_tensor_read(t, out, sizeof out));
    ck_assert_int_eq(memcmp(in, out, sizeof in), 0);
    tu_assert_guard(t);
    TU_FAILS(ctx, seqk_tensor_write(t, in, 8), SEQK_ERR_SHAPE, "holds 96");
    TU_FAILS(ctx, seqk_tensor_read(t, out, 100), SEQK_ERR_SHAPE, "holds 96");
    TU_FAILS(ctx, seqk_tensor_write(t, NULL, 96), SEQK_ERR_INVALID_ARG, "NULL");
    seqk_tensor_destroy(t);

    /* scalars and empty tensors are fine */
    TU_OK(ctx, seqk_tensor_create(ctx, 0, NULL, SEQK_I32, &t));
    ck_assert_int_eq(seqk_tensor_numel(t), 1);
    seqk_tensor_destroy(t);
    int64_t zero[2] = {0, 5};
    TU_OK(ctx, seqk_tensor_create(ctx, 2, zero, SEQK_BOOL, &t));
    ck_assert_uint_eq(seqk_tensor_bytes(t), 0);
    seqk_tensor_destroy(t);
    ck_assert_int_eq(seqk_tensor_destroy(NULL), SEQK_OK);
    seqk_context_destroy(ctx);
}
END_TEST

/* Destroying a context before its tensors and plans is safe: they keep
 * it (and its device memory) alive until they go.  Every device. */
START_TEST(context_outlived_by_tensors)
{
    for (int d = 0; d < tu_device_count(); d++) {
        seqk_context *ctx = tu_context(d);
        const int64_t dims[1] = {37};
        float in[37], out[37];
        for (int i = 0; i < 37; i++)
            in[i] = (float)i - 3.0f;
        seqk_tensor *t = tu_f32(ctx, 1, dims, in);
        seqk_rnn_desc desc;
        seqk_rnn_desc_init(&desc, SEQK_CELL_LSTM, 4, 3);
        seqk_rnn *rnn = NULL;
        TU_OK(ctx, seqk_rnn_create(ctx, &desc, &rnn));
        ck_assert_int_eq(seqk_context_destroy(ctx), SEQK_OK);
        ck_assert_int_eq(seqk_tensor_read(t, out, sizeof out), SEQK_OK);
        ck_assert_int_eq(memcmp(in, out, sizeof in), 0);
        tu_assert_guard(t);
        ck_assert_int_eq(seqk_rnn_destroy(rnn), SEQK_OK);
        ck_assert_int_eq(seqk_tensor_destroy(t), SEQK_OK);
    }
}
END_TEST

START_TEST(tensor_bad_args)
{
    seqk_context *ctx = ref_ctx();
    seqk_tensor *t = NULL;
    int64_t dims[2] = {2, -1};
    TU_FAILS(ctx, seqk_tensor_create(ctx, 2, dims, SEQK_F32, &t),
             SEQK_ERR_SHAPE, "negative");
    int64_t big[3] = {INT64_C(1) << 31, INT64_C(1) << 31, 1 << 10};
    TU_FAILS(ctx, seqk_tensor_create(ctx, 3, big, SEQK_F32, &t),
             SEQK_ERR_OVERFLOW, "too large");
    int64_t big2[2] = {INT64_C(1) << 40, INT64_C(1) << 20};
    TU_FAILS(ctx, seqk_tensor_create(ctx, 2, big2, SEQK_F32, &t),
             SEQK_ERR_OVERFLOW, "too large");
    int64_t ok[1] = {4};
    TU_FAILS(ctx, seqk_tensor_create(ctx, 9, ok, SEQK_F32, &t), SEQK_ERR_SHAPE,
             "ndim 9");
    TU_FAILS(ctx, seqk_tensor_create(ctx, 1, ok, (seqk_dtype)42, &t),
             SEQK_ERR_DTYPE, "dtype");
    TU_FAILS(ctx, seqk_tensor_create(ctx, 1, NULL, SEQK_F32, &t),
             SEQK_ERR_INVALID_ARG, "dims is NULL");
    TU_FAILS(ctx, seqk_tensor_create(ctx, 1, ok, SEQK_F32, NULL),
             SEQK_ERR_INVALID_ARG, "NULL");
    ck_assert_int_eq(seqk_tensor_create(NULL, 1, ok, SEQK_F32, &t),
                     SEQK_ERR_INVALID_ARG);
    ck_assert_ptr_null(t);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(tensor_from_other_context)
{
    seqk_context *a = ref_ctx(), *b = ref_ctx();
    int64_t d[2] = {2, 2};
    seqk_tensor *x = tu_f32(a, 2, d, NULL), *y = tu_f32(b, 2, d, NULL);
    TU_FAILS(b, seqk_softmax(b, 1, x, y), SEQK_ERR_INVALID_ARG,
             "another context");
    seqk_tensor_destroy(x);
    seqk_tensor_destroy(y);
    seqk_context_destroy(a);
    seqk_context_destroy(b);
}
END_TEST

/* ------------------------------------------------------ CPU detection */

/* The tests below set SEQK_DISABLE_CPU_FEATURES / SEQK_NUM_THREADS and put
 * back what the run started with (CI runs the suite under masks, and with
 * CK_FORK=no every test shares one process). */
typedef struct {
    char *mask, *threads;
} saved_env;

static char *dup_env(const char *name)
{
    const char *v = getenv(name);
    return v ? strdup(v) : NULL;
}

static saved_env env_save(void)
{
    saved_env e = {dup_env("SEQK_DISABLE_CPU_FEATURES"),
                   dup_env("SEQK_NUM_THREADS")};
    return e;
}

static void put_env(const char *name, char *value)
{
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
    free(value);
}

static void env_restore(saved_env e)
{
    put_env("SEQK_DISABLE_CPU_FEATURES", e.mask);
    put_env("SEQK_NUM_THREADS", e.threads);
}

static void set_mask(const char *mask)
{
    setenv("SEQK_DISABLE_CPU_FEATURES", mask, 1);
}

enum {
    ALL_AVX512 = SEQK_CPU_AVX512F | SEQK_CPU_AVX512BW | SEQK_CPU_AVX512DQ |
                 SEQK_CPU_AVX512VL
};

START_TEST(cpu_mask_parsing)
{
    saved_env e = env_save();
    set_mask("");
    ck_assert_uint_eq(seqk__cpu_masked(), 0);
    set_mask("avx512");
    ck_assert_uint_eq(seqk__cpu_masked(), ALL_AVX512);
    set_mask("AVX2, fma");
    ck_assert_uint_eq(seqk__cpu_masked(), SEQK_CPU_AVX2 | SEQK_CPU_FMA);
    set_mask("avx512bw,neon,dotprod,fp16,avx");
    ck_assert_uint_eq(seqk__cpu_masked(),
                      SEQK_CPU_AVX512BW | SEQK_CPU_NEON | SEQK_CPU_DOTPROD |
                          SEQK_CPU_FP16 | SEQK_CPU_AVX);
    set_mask("bogus,,avx2");
    ck_assert_uint_eq(seqk__cpu_masked(), SEQK_CPU_AVX2);
    ck_assert_uint_eq(seqk__cpu_usable(),
                      seqk__cpu_detected() & ~SEQK_CPU_AVX2);
    unsetenv("SEQK_DISABLE_CPU_FEATURES");
    ck_assert_uint_eq(seqk__cpu_masked(), 0);
    ck_assert_uint_eq(seqk__cpu_usable(), seqk__cpu_detected());

    char names[128], tiny[5];
    seqk__cpu_flag_names(SEQK_CPU_AVX2 | SEQK_CPU_NEON, names, sizeof names);
    ck_assert_str_eq(names, "avx2 neon");
    seqk__cpu_flag_names(SEQK_CPU_AVX2 | SEQK_CPU_NEON, tiny, sizeof tiny);
    ck_assert_str_eq(tiny, "avx2"); /* cut at a name, never mid-buffer */
    seqk__cpu_flag_names(seqk__cpu_usable(), names, sizeof names);
    ck_assert_str_eq(seqk_cpu_features(), names);
    set_mask("avx512");
    seqk__cpu_flag_names(seqk__cpu_detected() & ~ALL_AVX512, names,
                         sizeof names);
    ck_assert_str_eq(seqk_cpu_features(), names);
    env_restore(e);
}
END_TEST

/* cpuinfo's answers agree with the compiler's own CPUID/XGETBV checks
 * (x86) or the kernel's HWCAP bits (aarch64). */
START_TEST(cpu_features_match_hardware)
{
    unsigned f = seqk__cpu_detected();
#if defined(__x86_64__)
    static const unsigned bits[8] = {
        SEQK_CPU_SSE2,     SEQK_CPU_AVX,      SEQK_CPU_AVX2,
        SEQK_CPU_FMA,      SEQK_CPU_AVX512F,  SEQK_CPU_AVX512BW,
        SEQK_CPU_AVX512DQ, SEQK_CPU_AVX512VL,
    };
    __builtin_cpu_init();
    const int has[8] = {
        __builtin_cpu_supports("sse2"),     __builtin_cpu_supports("avx"),
        __builtin_cpu_supports("avx2"),     __builtin_cpu_supports("fma"),
        __builtin_cpu_supports("avx512f"),  __builtin_cpu_supports("avx512bw"),
        __builtin_cpu_supports("avx512dq"), __builtin_cpu_supports("avx512vl"),
    };
    for (int i = 0; i < 8; i++) {
        char name[32];
        seqk__cpu_flag_names(bits[i], name, sizeof name);
        ck_assert_msg(!!(f & bits[i]) == !!has[i],
                      "%s: seqk says %d, GCC says %d", name, !!(f & bits[i]),
                      !!has[i]);
    }
    ck_assert(f & SEQK_CPU_SSE2); /* x86-64 baseline */
    ck_assert_uint_eq(f & (SEQK_CPU_NEON | SEQK_CPU_FP16 | SEQK_CPU_DOTPROD),
                      0);
#elif defined(__aarch64__) && defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP);
    ck_assert(f & SEQK_CPU_NEON); /* aarch64 baseline */
    ck_assert(hw & (1ul << 1));   /* HWCAP_ASIMD */
    ck_assert_int_eq(!!(f & SEQK_CPU_DOTPROD), !!(hw & (1ul << 20)));
    ck_assert_int_eq(!!(f & SEQK_CPU_FP16),
                     (hw & (1ul << 9)) && (hw & (1ul << 10)));
    ck_assert_uint_eq(f & ~(SEQK_CPU_NEON | SEQK_CPU_FP16 | SEQK_CPU_DOTPROD),
                      0);
#endif
    ck_assert_str_ne(seqk__cpu_source(), "");
}
END_TEST

START_TEST(cpu_caches_and_cores)
{
    saved_env e = env_save();
    seqk_cpu_caches c;
    memset(&c, 0xab, sizeof c);
    seqk__cpu_caches(&c);
    int phys = seqk__cpu_physical_cores(), logical = seqk__cpu_logical_cores();
    long conf = sysconf(_SC_NPROCESSORS_CONF);
    ck_assert_int_ge(phys, 1);
    ck_assert_int_ge(logical, 1);
    if (conf > 0)
        ck_assert_int_le(phys, conf);
    ck_assert_uint_ge(c.l1d, 4u << 10);
    ck_assert_uint_le(c.l1d, 4u << 20);
    ck_assert_uint_ge(c.l2, c.l1d);
    ck_assert_uint_le(c.l2, (size_t)1 << 30);
    ck_assert_int_ge(c.l2_shared_by, 1);
    ck_assert_int_le(c.l2_shared_by, phys);
    if (c.l3) {
        ck_assert_uint_ge(c.l3, c.l1d);
        ck_assert_uint_le(c.l3, (size_t)16 << 30);
        ck_assert_int_ge(c.l3_shared_by, 1);
        ck_assert_int_le(c.l3_shared_by, phys);
    } else {
        ck_assert_int_eq(c.l3_shared_by, 0);
    }

    /* default threads: one per physical core, within the affinity mask */
    int want = phys < logical ? phys : logical;
    ck_assert_int_eq(seqk__cpu_default_threads(), want);
    unsetenv("SEQK_NUM_THREADS");
    seqk_context *ctx = NULL;
    seqk_options o;
    seqk_options_init(&o);
    o.device = "ref";
    ck_assert_int_eq(seqk_context_create(&o, &ctx), SEQK_OK);
    ck_assert_int_eq(seqk_context_threads(ctx), want);
    seqk_context_destroy(ctx);
    o.threads = 3;
    ck_assert_int_eq(seqk_context_create(&o, &ctx), SEQK_OK);
    ck_assert_int_eq(seqk_context_threads(ctx), 3);
    seqk_context_destroy(ctx);
    env_restore(e);
}
END_TEST

/* The device "auto" resolves to under the current mask. */
static void auto_device(char *out, size_t len)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = "auto";
    seqk_context *ctx = NULL;
    ck_assert_int_eq(seqk_context_create(&o, &ctx), SEQK_OK);
    snprintf(out, len, "%s", seqk_context_device(ctx));
    seqk_context_destroy(ctx);
}

static seqk_status try_device(const char *spec)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = spec;
    seqk_context *ctx = NULL;
    seqk_status st = seqk_context_create(&o, &ctx);
    seqk_context_destroy(ctx);
    return st;
}

/* Masking a CPU device's ISA makes it unavailable, with the reason, and
 * moves auto down; unmasking brings it back. */
START_TEST(cpu_mask_device_availability)
{
    saved_env e = env_save();
    set_mask("");
    int n = 0, cpu_devices = 0;
    char best[32], now[32];
    ck_assert_int_eq(seqk_device_count(&n), SEQK_OK);
    auto_device(best, sizeof best);
    for (int i = 1; i < n; i++) {
        seqk_device_info info = {.struct_size = sizeof info};
        set_mask("");
        ck_assert_int_eq(seqk_device_info_get(i, &info), SEQK_OK);
        if (info.kind != SEQK_DEVICE_CPU_SIMD || !info.available)
            continue;
        cpu_devices++;
        char spec[32];
        snprintf(spec, sizeof spec, "%s", info.spec);
        set_mask(spec); /* avx2, avx512, neon are mask names too */
        ck_assert_int_eq(seqk_device_info_get(i, &info), SEQK_OK);
        ck_assert_msg(!info.available, "%s still available when masked",
                      spec);
        ck_assert_ptr_nonnull(strstr(info.why_unavailable,
                                     "masked by SEQK_DISABLE_CPU_FEATURES"));
        ck_assert_int_eq(try_device(spec), SEQK_ERR_NO_DEVICE);
        ck_assert_ptr_nonnull(strstr(seqk_last_error(NULL), "masked"));
        auto_device(now, sizeof now);
        ck_assert_str_ne(now, spec);
        set_mask("");
        ck_assert_int_eq(seqk_device_info_get(i, &info), SEQK_OK);
        ck_assert(info.available);
        ck_assert_int_eq(try_device(spec), SEQK_OK);
    }
    /* masking every SIMD ISA leaves ref */
#if defined(__x86_64__)
    set_mask("avx512,avx2");
    ck_assert_int_ne(try_device("avx2"), SEQK_OK);
    ck_assert_int_ne(try_device("avx512"), SEQK_OK);
    auto_device(now, sizeof now);
    ck_assert_str_eq(now, "ref");
    if (seqk__cpu_detected() & SEQK_CPU_FMA) {
        set_mask("fma"); /* both x86 kernel sets use FMA */
        ck_assert_int_ne(try_device("avx2"), SEQK_OK);
        ck_assert_int_ne(try_device("avx512"), SEQK_OK);
    }
#elif defined(__aarch64__)
    set_mask("neon");
    auto_device(now, sizeof now);
    ck_assert_str_eq(now, "ref");
#endif
    if (cpu_devices)
        ck_assert_str_ne(best, "ref");
    env_restore(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, context_default_and_ref);
    tcase_add_test(tc, context_bad_specs);
    tcase_add_test(tc, context_env);
    tcase_add_test(tc, devices_listed);
    tcase_add_test(tc, status_strings);
    tcase_add_test(tc, tensor_roundtrip);
    tcase_add_test(tc, context_outlived_by_tensors);
    tcase_add_test(tc, tensor_bad_args);
    tcase_add_test(tc, tensor_from_other_context);
    tcase_add_test(tc, cpu_mask_parsing);
    tcase_add_test(tc, cpu_features_match_hardware);
    tcase_add_test(tc, cpu_caches_and_cores);
    tcase_add_test(tc, cpu_mask_device_availability);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
