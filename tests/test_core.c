/*
 * test_core.c — contexts, device specs, tensors, status strings, and the
 * argument checks shared by every op.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

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
    tcase_add_test(tc, tensor_bad_args);
    tcase_add_test(tc, tensor_from_other_context);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
