/*
 * test_introspect.c — what the library tells about itself (seqk.h), as
 * `seqk info` uses it: seqk_cpu_info_get, seqk_op_count,
 * seqk_context_op_kernel and seqk_context_device_facts, on every test
 * device, with their argument errors.  Public header only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqk.h"
#include "testutil.h"

static const char *const op_names[] = {"gemm", "matmul", "softmax",
                                       "rnn_layer", "attention",
                                       "seq_attention", "gather", "argmax",
                                       "topk", "elementwise", "concat",
                                       "where", "cast", "layout", "reduce",
                                       "layer_norm", "conv1d",
                                       "rnn_layer_train", "rnn_layer_backward"};
/* The training ops have reference kernels only so far: none on OpenCL. */
static int host_only(int op)
{
    return op >= 17;
}
/* Gather, Concat, Where, Cast and the layout ops move elements of any
 * dtype: no f32 in their names. */
static int any_dtype(int op)
{
    return op == 6 || op == 10 || (op >= 11 && op <= 13);
}
#define NUM_OPS ((int)(sizeof op_names / sizeof op_names[0]))

/* 1 when every space-separated word of sub is a word of set. */
static int words_within(const char *sub, const char *set)
{
    char buf[256], padded[260];
    snprintf(buf, sizeof buf, "%s", sub);
    snprintf(padded, sizeof padded, " %s ", set);
    for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
        char key[64];
        snprintf(key, sizeof key, " %s ", w);
        if (!strstr(padded, key))
            return 0;
    }
    return 1;
}

START_TEST(cpu_info)
{
    seqk_cpu_info c;
    memset(&c, 0x5a, sizeof c);
    c.struct_size = sizeof c;
    TU_OK(NULL, seqk_cpu_info_get(&c));
    ck_assert_uint_eq(c.struct_size, sizeof c);
    ck_assert_msg(c.detection[0], "no detection source");
    ck_assert_ptr_nonnull(memchr(c.name, '\0', sizeof c.name));
    /* used = detected minus masked, as the library uses them */
    ck_assert_str_eq(c.features_used, seqk_cpu_features());
    ck_assert(words_within(c.features_used, c.features_detected));
    ck_assert(words_within(c.features_masked, c.features_detected));
    ck_assert_uint_gt(c.l1d, 0);
    ck_assert_uint_gt(c.l2, 0);
    ck_assert_int_ge(c.l2_shared_by, 1);
    ck_assert(c.l3 ? c.l3_shared_by >= 1 : c.l3_shared_by == 0);
    ck_assert_int_ge(c.physical_cores, 1);
    ck_assert_int_ge(c.logical_cores, 1);
    ck_assert_int_ge(c.default_threads, 1);
    ck_assert_int_le(c.default_threads, c.physical_cores);
    ck_assert_int_le(c.default_threads, c.logical_cores);

    TU_FAILS(NULL, seqk_cpu_info_get(NULL), SEQK_ERR_INVALID_ARG,
             "sizeof(seqk_cpu_info)");
    c.struct_size = sizeof c - 1;
    TU_FAILS(NULL, seqk_cpu_info_get(&c), SEQK_ERR_INVALID_ARG,
             "struct_size");
}
END_TEST

START_TEST(op_count)
{
    int n = -1;
    TU_OK(NULL, seqk_op_count(&n));
    ck_assert_int_eq(n, NUM_OPS);
    TU_FAILS(NULL, seqk_op_count(NULL), SEQK_ERR_INVALID_ARG, "count");
}
END_TEST

/* Every op has a kernel on every device (the reference backend is always
 * there); on ref it is the reference kernel. */
START_TEST(op_kernels)
{
    seqk_context *ctx = tu_context(_i);
    const char *dev = tu_device(_i);
    for (int op = 0; op < NUM_OPS; op++) {
        seqk_op_kernel k;
        memset(&k, 0x5a, sizeof k);
        k.struct_size = sizeof k;
        TU_OK(ctx, seqk_context_op_kernel(ctx, op, &k));
        ck_assert_str_eq(k.op, op_names[op]);
        if (host_only(op) && !strncmp(dev, "opencl", 6)) {
            ck_assert_str_eq(k.kernel, "");
            continue;
        }
        const char *prefix = any_dtype(op) ? "seqk_" : "seqk_f32_";
        ck_assert_msg(strncmp(k.kernel, prefix, strlen(prefix)) == 0,
                      "%s %s: kernel '%s'", dev, k.op, k.kernel);
        ck_assert_msg(k.backend[0], "%s %s: no backend", dev, k.op);
        ck_assert_ptr_nonnull(memchr(k.refused, '\0', sizeof k.refused));
        if (!strcmp(dev, "ref")) {
            char want[64];
            snprintf(want, sizeof want, "%s%s__ref", prefix, op_names[op]);
            ck_assert_str_eq(k.kernel, want);
            ck_assert_str_eq(k.backend, "ref");
            ck_assert_str_eq(k.refused, "");
        } else {
            /* a kernel name ends in its backend's name */
            ck_assert_msg(strstr(k.kernel, "__") != NULL, "%s", k.kernel);
        }
    }
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(op_kernel_errors)
{
    seqk_context *ctx = tu_context(0);
    seqk_op_kernel k = {.struct_size = sizeof k};
    TU_FAILS(NULL, seqk_context_op_kernel(NULL, 0, &k), SEQK_ERR_INVALID_ARG,
             "ctx is NULL");
    TU_FAILS(ctx, seqk_context_op_kernel(ctx, 0, NULL), SEQK_ERR_INVALID_ARG,
             "info is NULL");
    TU_FAILS(ctx, seqk_context_op_kernel(ctx, -1, &k), SEQK_ERR_INVALID_ARG,
             "op -1 is outside 0..18");
    TU_FAILS(ctx, seqk_context_op_kernel(ctx, NUM_OPS, &k),
             SEQK_ERR_INVALID_ARG, "op 19 is outside");
    k.struct_size = 8;
    TU_FAILS(ctx, seqk_context_op_kernel(ctx, 0, &k), SEQK_ERR_INVALID_ARG,
             "sizeof(seqk_op_kernel)");
    seqk_context_destroy(ctx);
}
END_TEST

/* Present on OpenCL devices, with what a device must have; absent on the
 * host backends. */
START_TEST(device_facts)
{
    seqk_context *ctx = tu_context(_i);
    const char *dev = tu_device(_i);
    seqk_device_facts f;
    memset(&f, 0x5a, sizeof f);
    f.struct_size = sizeof f;
    TU_OK(ctx, seqk_context_device_facts(ctx, &f));
    ck_assert_uint_eq(f.struct_size, sizeof f);
    if (!strncmp(dev, "opencl", 6)) {
        ck_assert_int_eq(f.present, 1);
        ck_assert_msg(f.name[0] && f.vendor[0], "%s: no name/vendor", dev);
        ck_assert_msg(!strncmp(f.version, "OpenCL ", 7), "version '%s'",
                      f.version);
        ck_assert_uint_ge(f.compute_units, 1);
        ck_assert_uint_ge(f.max_work_group_size, 1);
        ck_assert_uint_gt(f.local_mem_size, 0);
        ck_assert_uint_gt(f.global_mem_size, 0);
        ck_assert(f.fp16 == 0 || f.fp16 == 1);
    } else {
        ck_assert_int_eq(f.present, 0);
        ck_assert_str_eq(f.name, "");
        ck_assert_uint_eq(f.compute_units, 0);
        ck_assert_uint_eq(f.global_mem_size, 0);
    }
    TU_FAILS(ctx, seqk_context_device_facts(ctx, NULL), SEQK_ERR_INVALID_ARG,
             "facts is NULL");
    f.struct_size = sizeof f - 1;
    TU_FAILS(ctx, seqk_context_device_facts(ctx, &f), SEQK_ERR_INVALID_ARG,
             "sizeof(seqk_device_facts)");
    TU_FAILS(NULL, seqk_context_device_facts(NULL, &f), SEQK_ERR_INVALID_ARG,
             "ctx is NULL");
    seqk_context_destroy(ctx);
}
END_TEST

static Suite *introspect_suite(void)
{
    Suite *s = suite_create("introspect");
    TCase *tc = tcase_create("introspect");
    int n = tu_device_count();
    tcase_add_test(tc, cpu_info);
    tcase_add_test(tc, op_count);
    tcase_add_test(tc, op_kernel_errors);
    tcase_add_loop_test(tc, op_kernels, 0, n);
    tcase_add_loop_test(tc, device_facts, 0, n);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(introspect_suite());
}
