/*
 * test_opencl.c — the OpenCL backend's foundation on the first OpenCL
 * device (PoCL here): device tensors (write/read round trip, guard bytes,
 * pointer translation), the softmax kernel against ref over edge shapes
 * (defaults and forced "opencl.softmax" values; legal() under fabricated
 * limits),
 * CL error translation, launch validation, a broken kernel source giving
 * SEQK_ERR_DEVICE with the build log, the on-disk program cache (used by a
 * second context, a corrupt entry rebuilt), and the fallback that runs ref
 * on host copies for ops without a kernel.
 */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "opencl/cl_backend.h"
#include "seqk.h"
#include "tune/tune.h"
#include "seqk_opencl.h"
#include "testutil.h"

static seqk_context *cl_ctx(void)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = "opencl";
    seqk_context *ctx = NULL;
    seqk_status st = seqk_context_create(&o, &ctx);
    ck_assert_msg(st == SEQK_OK, "opencl context: %s", seqk_last_error(NULL));
    return ctx;
}

static seqk_context *ref_ctx(void)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = "ref";
    seqk_context *ctx = NULL;
    ck_assert(seqk_context_create(&o, &ctx) == SEQK_OK);
    return ctx;
}

/* softmax over axis 1 of [outer, n, inner] on both contexts; compares. */
static void check_softmax(seqk_context *cl, seqk_context *ref, int64_t outer,
                          int64_t n, int64_t inner, float range)
{
    const int64_t dims[3] = {outer, n, inner};
    size_t count = (size_t)(outer * n * inner);
    tu_rng r;
    tu_rng_init(&r, (uint64_t)(outer * 1000003 + n * 101 + inner));
    float *x = tu_rand(&r, count ? count : 1, -range, range);
    seqk_tensor *cx = tu_f32(cl, 3, dims, x), *cy = tu_f32(cl, 3, dims, NULL);
    seqk_tensor *rx = tu_f32(ref, 3, dims, x), *ry = tu_f32(ref, 3, dims, NULL);
    TU_OK(cl, seqk_softmax(cl, 1, cx, cy));
    TU_OK(ref, seqk_softmax(ref, 1, rx, ry));
    float *got = tu_read(cy), *want = tu_read(ry);
    TU_ASSERT_CLOSE(got, want, count, 1e-6f, 1e-5f);
    tu_assert_guard(cy);
    tu_assert_guard(cx);
    free(got);
    free(want);
    free(x);
    seqk_tensor_destroy(cx);
    seqk_tensor_destroy(cy);
    seqk_tensor_destroy(rx);
    seqk_tensor_destroy(ry);
}

START_TEST(softmax_edge_shapes)
{
    seqk_context *cl = cl_ctx(), *ref = ref_ctx();
    static const int64_t shapes[][3] = {
        {1, 1, 1},   {3, 1, 1},   {1, 2, 1},    {1, 7, 1},   {5, 33, 1},
        {2, 255, 1}, {2, 256, 1}, {3, 257, 1},  {1, 1000, 1}, {9, 513, 1},
        {2, 3, 5},   {4, 17, 3},  {1, 1, 9},    {3, 64, 65}, {1, 300, 2},
        {0, 5, 1},   {2, 0, 3},   {65, 1, 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        check_softmax(cl, ref, shapes[i][0], shapes[i][1], shapes[i][2], 5.0f);
        check_softmax(cl, ref, shapes[i][0], shapes[i][1], shapes[i][2],
                      80.0f); /* large logits: the max shift matters */
    }
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

START_TEST(softmax_small_shapes)
{
    /* The subset run under Oclgrind (SEQK_OCL_SMALL) as well. */
    seqk_context *cl = cl_ctx(), *ref = ref_ctx();
    check_softmax(cl, ref, 3, 37, 1, 5.0f);
    check_softmax(cl, ref, 2, 5, 3, 5.0f);
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* Legal "opencl.softmax" values {RWG, CWG, VW}, forced as the tuner
 * does, over edge shapes of both kernels: row lengths around the
 * work-group sizes and the vector widths (n % VW tails, n < VW); the
 * first two (the Oclgrind subset) with 16-float vectors and 1-2 items a
 * row, as the rule picks off a GPU. */
START_TEST(softmax_tuned_values)
{
    seqk_context *cl = cl_ctx(), *ref = ref_ctx();
    static const int cfg[][3] = {
        {1, 16, 16}, {2, 0, 8},    {16, 16, 4},  {16, 0, 1}, {32, 128, 4},
        {256, 32, 1}, {256, 256, 4}, {0, 16, 4}, {4, 0, 16}, {0, 0, 0},
    };
    static const int64_t shapes[][3] = {
        {3, 37, 1}, {2, 5, 3},   {1, 1, 1},  {2, 3, 1},   {4, 4, 1},
        {3, 15, 1}, {2, 16, 1},  {2, 17, 1}, {1, 63, 1},  {2, 64, 1},
        {1, 65, 1}, {2, 255, 1}, {1, 1023, 1}, {1, 1025, 1}, {3, 7, 17},
        {2, 33, 129},
    };
    const int small = getenv("SEQK_OCL_SMALL") != NULL;
    const size_t ncfg = small ? 2 : sizeof cfg / sizeof cfg[0];
    const size_t nshape = small ? 5 : sizeof shapes / sizeof shapes[0];
    const seqk_tunable *t = seqk__tunable_find("opencl.softmax");
    ck_assert_ptr_nonnull(t);
    seqk_tune_limits lim;
    seqk__tune_limits(cl, &lim);
    for (size_t c = 0; c < ncfg; c++) {
        ck_assert_msg(seqk__tunable_legal(t, cfg[c], &lim, NULL),
                      "config %zu illegal on this device", c);
        TU_OK(cl, seqk__tune_override(cl, "opencl.softmax", cfg[c]));
        for (size_t i = 0; i < nshape; i++)
            check_softmax(cl, ref, shapes[i][0], shapes[i][1], shapes[i][2],
                          c % 2 ? 80.0f : 5.0f);
    }
    TU_OK(cl, seqk__tune_override(cl, "opencl.softmax", NULL));
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* legal() encodes the work-group, work-item and local-memory limits and
 * the power-of-two rule; the defaults (0: the built-in rule) are legal on
 * any OpenCL device. */
START_TEST(softmax_tunable_legal)
{
    const seqk_tunable *t = seqk__tunable_find("opencl.softmax");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->num_params, 3);
    const int64_t shape[2] = {64, 100};
    seqk_tune_limits gpu = {.is_device = 1, .is_gpu = 1, .max_wg = 256,
                            .max_item = {256, 256, 64},
                            .local_mem = 32768};
    seqk_tune_limits tiny = {.is_device = 1, .max_wg = 1,
                             .max_item = {1, 1, 1}, .local_mem = 4};
    seqk_tune_limits cpu = {.is_device = 0, .threads = 2};
    int def[3];
    seqk__tunable_defaults(t, def);
    ck_assert(seqk__tunable_legal(t, def, &gpu, shape));
    ck_assert(seqk__tunable_legal(t, def, &tiny, shape));
    ck_assert(seqk__tunable_legal(t, def, &tiny, NULL));
    ck_assert(!seqk__tunable_legal(t, def, &cpu, shape));

    const int all_max[3] = {256, 256, 4};
    ck_assert(seqk__tunable_legal(t, all_max, &gpu, shape));
    seqk_tune_limits l = gpu;
    l.max_wg = 128; /* RWG and CWG 256 exceed the group limit */
    ck_assert(!seqk__tunable_legal(t, all_max, &l, shape));
    const int rwg_only[3] = {256, 0, 1}, cwg_only[3] = {0, 256, 1};
    ck_assert(!seqk__tunable_legal(t, rwg_only, &l, shape));
    ck_assert(!seqk__tunable_legal(t, cwg_only, &l, shape));
    l = gpu;
    l.max_item[0] = 64; /* dimension 0 limit */
    const int rwg128[3] = {128, 0, 1}, rwg64[3] = {64, 64, 1};
    ck_assert(!seqk__tunable_legal(t, rwg128, &l, shape));
    ck_assert(!seqk__tunable_legal(t, cwg_only, &l, shape));
    ck_assert(seqk__tunable_legal(t, rwg64, &l, shape));
    l = gpu;
    l.local_mem = 256; /* 64 floats of scratch */
    ck_assert(!seqk__tunable_legal(t, rwg128, &l, shape));
    ck_assert(seqk__tunable_legal(t, rwg64, &l, shape));
    /* the columns kernel has no scratch */
    const int cwg128[3] = {0, 128, 1};
    ck_assert(seqk__tunable_legal(t, cwg128, &l, shape));

    /* outside the candidates, and legal() itself: powers of two, VW */
    const int npow2[3] = {48, 0, 1}, vw2[3] = {0, 0, 2};
    ck_assert(!seqk__tunable_legal(t, npow2, &gpu, shape));
    ck_assert(!t->legal(npow2, &gpu, shape));
    ck_assert(!t->legal(vw2, &gpu, shape));
    const int cwg48[3] = {0, 48, 4};
    ck_assert(t->legal(cwg48, &gpu, shape));
}
END_TEST

START_TEST(tensor_round_trip)
{
    seqk_context *ctx = cl_ctx();
    ck_assert_str_eq(seqk_context_device(ctx), "opencl:0.0");
    static const int64_t sizes[] = {0, 1, 3, 64, 1000, 4097};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int64_t d = sizes[i];
        seqk_tensor *t = NULL;
        TU_OK(ctx, seqk_tensor_create(ctx, 1, &d, SEQK_F32, &t));
        float *back = calloc((size_t)d + 1, sizeof *back);
        /* fresh tensors are zero */
        TU_OK(ctx, seqk_tensor_read(t, back, (size_t)d * sizeof(float)));
        for (int64_t j = 0; j < d; j++)
            ck_assert(back[j] == 0.0f);
        float *v = malloc(((size_t)d + 1) * sizeof *v);
        for (int64_t j = 0; j < d; j++)
            v[j] = (float)j * 0.5f - 7.0f;
        TU_OK(ctx, seqk_tensor_write(t, v, (size_t)d * sizeof(float)));
        TU_OK(ctx, seqk_tensor_read(t, back, (size_t)d * sizeof(float)));
        ck_assert(memcmp(v, back, (size_t)d * sizeof(float)) == 0);
        tu_assert_guard(t);
        TU_FAILS(ctx, seqk_tensor_write(t, v, (size_t)d * sizeof(float) + 4),
                 SEQK_ERR_SHAPE, "bytes given");
        /* host view of a device tensor is a copy */
        void *tmp = NULL;
        const float *h = seqk__tensor_host(t, &tmp);
        ck_assert(h != NULL && tmp != NULL && h != t->data);
        ck_assert(memcmp(v, h, (size_t)d * sizeof(float)) == 0);
        free(tmp);
        free(v);
        free(back);
        seqk_tensor_destroy(t);
    }
    /* odd byte counts (u8) */
    int64_t d = 7;
    seqk_tensor *t = NULL;
    TU_OK(ctx, seqk_tensor_create(ctx, 1, &d, SEQK_BOOL, &t));
    uint8_t b[7] = {1, 0, 1, 1, 0, 0, 1}, bb[7];
    TU_OK(ctx, seqk_tensor_write(t, b, 7));
    TU_OK(ctx, seqk_tensor_read(t, bb, 7));
    ck_assert(memcmp(b, bb, 7) == 0);
    tu_assert_guard(t);
    seqk_tensor_destroy(t);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(guard_catches_overrun)
{
    /* A device write past the data must show in the guard check. */
    seqk_context *ctx = cl_ctx();
    int64_t d = 10;
    seqk_tensor *t = tu_f32(ctx, 1, &d, NULL);
    tu_assert_guard(t);
    float junk = 1.0f;
    TU_OK(ctx, seqk__cl_write(ctx, (float *)t->data + 10, &junk, sizeof junk));
    ck_assert(!seqk__tensor_guard_intact(t));
    seqk_tensor_destroy(t);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(pointer_translation)
{
    seqk_context *ctx = cl_ctx();
    int64_t d = 10, e = 4;
    seqk_tensor *a = tu_f32(ctx, 1, &d, NULL), *b = tu_f32(ctx, 1, &e, NULL);
    cl_mem ma = NULL, mb = NULL, m = NULL;
    size_t off = 99;
    TU_OK(ctx, seqk__cl_translate(ctx, a->data, sizeof(float), &ma, &off));
    ck_assert(ma != NULL && off == 0);
    TU_OK(ctx, seqk__cl_translate(ctx, (float *)a->data + 3, sizeof(float), &m,
                                 &off));
    ck_assert(m == ma && off == 3);
    TU_OK(ctx, seqk__cl_translate(ctx, (float *)a->data + 10, sizeof(float),
                                 &m, &off));
    ck_assert(m == ma && off == 10); /* one past the end */
    TU_OK(ctx, seqk__cl_translate(ctx, (float *)b->data + 2, sizeof(float),
                                 &mb, &off));
    ck_assert(mb != NULL && mb != ma && off == 2);
    TU_OK(ctx, seqk__cl_translate(ctx, NULL, sizeof(float), &m, &off));
    ck_assert(m == NULL && off == 0);
    TU_FAILS(ctx, seqk__cl_translate(ctx, (char *)a->data + 2, sizeof(float),
                                    &m, &off),
             SEQK_ERR_INTERNAL, "not a multiple of the element size");
    float host[4];
    TU_FAILS(ctx, seqk__cl_translate(ctx, host, sizeof(float), &m, &off),
             SEQK_ERR_INTERNAL, "not inside a tensor");
    /* reads through an offset pointer see the right elements */
    float v[10];
    for (int i = 0; i < 10; i++)
        v[i] = (float)i;
    TU_OK(ctx, seqk_tensor_write(a, v, sizeof v));
    float w[3];
    TU_OK(ctx, seqk__cl_read(ctx, w, (float *)a->data + 4, sizeof w));
    ck_assert(w[0] == 4.0f && w[1] == 5.0f && w[2] == 6.0f);
    TU_FAILS(ctx, seqk__cl_read(ctx, w, (float *)a->data + 9, 200),
             SEQK_ERR_INTERNAL, "run past");
    /* a softmax on a view inside a tensor (offset 4) */
    seqk_tensor *y = tu_f32(ctx, 1, &d, NULL);
    seqk_softmax_problem p = {.outer = 2, .n = 3, .inner = 1,
                              .X = (float *)a->data + 4,
                              .Y = (float *)y->data + 4};
    TU_OK(ctx, seqk__backend_opencl.softmax(ctx, &seqk__backend_opencl, &p));
    float *got = tu_read(y);
    for (int r = 0; r < 2; r++) {
        double s = 0;
        for (int i = 0; i < 3; i++)
            s += exp(v[4 + 3 * r + i] - v[4 + 3 * r + 2]);
        for (int i = 0; i < 3; i++)
            ck_assert_float_eq_tol(got[4 + 3 * r + i],
                                   exp(v[4 + 3 * r + i] - v[4 + 3 * r + 2]) /
                                       s, 1e-6);
    }
    for (int i = 0; i < 4; i++)
        ck_assert(isnan(got[i])); /* before the view: untouched */
    free(got);
    seqk_tensor_destroy(a);
    seqk_tensor_destroy(b);
    seqk_tensor_destroy(y);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(error_translation)
{
    ck_assert_str_eq(seqk__cl_error_name(CL_OUT_OF_RESOURCES),
                     "CL_OUT_OF_RESOURCES");
    ck_assert_str_eq(seqk__cl_error_name(CL_BUILD_PROGRAM_FAILURE),
                     "CL_BUILD_PROGRAM_FAILURE");
    ck_assert_str_eq(seqk__cl_error_name(-9999), "CL_ERROR_-9999");
    ck_assert_int_eq(seqk__cl_status(CL_SUCCESS), SEQK_OK);
    ck_assert_int_eq(seqk__cl_status(CL_OUT_OF_RESOURCES), SEQK_ERR_DEVICE);
    ck_assert_int_eq(seqk__cl_status(CL_MEM_OBJECT_ALLOCATION_FAILURE),
                     SEQK_ERR_OUT_OF_MEMORY);
    ck_assert_int_eq(seqk__cl_status(CL_INVALID_ARG_SIZE), SEQK_ERR_INTERNAL);
    seqk_context *ctx = cl_ctx();
    TU_FAILS(ctx, seqk__cl_check(ctx, CL_OUT_OF_RESOURCES, "clFoo(bar)"),
             SEQK_ERR_DEVICE, "clFoo(bar): CL_OUT_OF_RESOURCES (-5)");
    /* a real failing call: a kernel argument index that does not exist */
    cl_kernel k;
    const char *rows = "seqk_f32_softmax_rows";
    TU_OK(ctx, seqk__cl_kernel(ctx, "softmax", NULL, rows, &k));
    cl_long n = 1;
    TU_FAILS(ctx, seqk__cl_arg(ctx, k, rows, 42, sizeof n, &n),
             SEQK_ERR_INTERNAL, "CL_INVALID_ARG_INDEX");
    TU_FAILS(ctx, seqk__cl_kernel(ctx, "softmax", NULL, "no_such_kernel", &k),
             SEQK_ERR_INTERNAL, "CL_INVALID_KERNEL_NAME");
    TU_FAILS(ctx, seqk__cl_kernel(ctx, "no_such_source", NULL, "x", &k),
             SEQK_ERR_INTERNAL, "no kernel source named");
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(launch_validation)
{
    seqk_context *ctx = cl_ctx();
    cl_kernel k;
    const char *cols = "seqk_f32_softmax_columns";
    TU_OK(ctx, seqk__cl_kernel(ctx, "softmax", NULL, cols, &k));
    size_t max = seqk__cl_kernel_max_wg(ctx, k);
    ck_assert(max >= 1 && max <= seqk__cl_facts(ctx)->max_work_group_size);
    size_t global = (max + 1) * 2, local = max + 1;
    TU_FAILS(ctx, seqk__cl_enqueue(ctx, k, cols, 1, &global, &local),
             SEQK_ERR_INTERNAL, "seqk_f32_softmax_columns");
    global = 10;
    local = 3;
    TU_FAILS(ctx, seqk__cl_enqueue(ctx, k, cols, 1, &global, &local),
             SEQK_ERR_INTERNAL, "does not divide");
    seqk_context_destroy(ctx);
}
END_TEST

static char *make_temp_dir(void)
{
    char *dir = strdup("/tmp/seqk-ocl-test-XXXXXX");
    ck_assert(dir && mkdtemp(dir));
    return dir;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

START_TEST(broken_kernel_source)
{
    char *dir = make_temp_dir();
    char path[256];
    snprintf(path, sizeof path, "%s/softmax.cl", dir);
    write_text(path, "__kernel void seqk_f32_softmax_rows(__global float *x)\n"
                     "{\n    x[0] = undeclared_thing + ;\n}\n");
    setenv("SEQK_KERNEL_DIR", dir, 1);
    seqk_context *ctx = cl_ctx();
    int64_t d[2] = {2, 3};
    seqk_tensor *x = tu_f32(ctx, 2, d, NULL), *y = tu_f32(ctx, 2, d, NULL);
    TU_FAILS(ctx, seqk_softmax(ctx, 1, x, y), SEQK_ERR_DEVICE,
             "build log");
    ck_assert_msg(strstr(seqk_last_error(ctx), "undeclared_thing") != NULL,
                  "the build log is missing: %s", seqk_last_error(ctx));
    ck_assert(strstr(seqk_last_error(ctx), "CL_BUILD_PROGRAM_FAILURE"));
    /* a missing file in SEQK_KERNEL_DIR is an I/O error, not a crash */
    remove(path);
    TU_FAILS(ctx, seqk_softmax(ctx, 1, x, y), SEQK_ERR_IO, "softmax.cl");
    seqk_tensor_destroy(x);
    seqk_tensor_destroy(y);
    seqk_context_destroy(ctx);
    unsetenv("SEQK_KERNEL_DIR");
    rmdir(dir);
    free(dir);
}
END_TEST

static void run_small_softmax(void)
{
    seqk_context *cl = cl_ctx(), *ref = ref_ctx();
    check_softmax(cl, ref, 2, 9, 1, 3.0f);
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}

START_TEST(disk_cache)
{
    char *dir = make_temp_dir();
    const char *old = getenv("XDG_CACHE_HOME");
    char *saved = old ? strdup(old) : NULL;
    setenv("XDG_CACHE_HOME", dir, 1);
    int hits0, builds0, rejects0, hits, builds, rejects;
    seqk__cl_cache_stats(&hits0, &builds0, &rejects0);
    run_small_softmax(); /* builds, stores */
    seqk__cl_cache_stats(&hits, &builds, &rejects);
    ck_assert_int_eq(builds, builds0 + 1);
    ck_assert_int_eq(hits, hits0);
    run_small_softmax(); /* a second context: from disk */
    seqk__cl_cache_stats(&hits, &builds, &rejects);
    ck_assert_int_eq(builds, builds0 + 1);
    ck_assert_int_eq(hits, hits0 + 1);

    /* corrupt the one cache file: rebuilt, not fatal */
    char cmd[512], file[512] = "";
    snprintf(cmd, sizeof cmd, "ls %s/seqk/kernels/*.bin", dir);
    FILE *ls = popen(cmd, "r");
    ck_assert(ls && fgets(file, sizeof file, ls));
    pclose(ls);
    file[strcspn(file, "\n")] = '\0';
    FILE *f = fopen(file, "r+b");
    ck_assert(f);
    fseek(f, 40, SEEK_SET);
    fputs("garbage garbage garbage", f);
    fclose(f);
    run_small_softmax();
    seqk__cl_cache_stats(&hits, &builds, &rejects);
    ck_assert_int_eq(rejects, rejects0 + 1);
    ck_assert_int_eq(builds, builds0 + 2);
    /* truncated to nothing */
    write_text(file, "");
    run_small_softmax();
    seqk__cl_cache_stats(&hits, &builds, &rejects);
    ck_assert_int_eq(rejects, rejects0 + 2);
    ck_assert_int_eq(builds, builds0 + 3);
    run_small_softmax(); /* rewritten and good again */
    seqk__cl_cache_stats(&hits, &builds, &rejects);
    ck_assert_int_eq(hits, hits0 + 2);
    ck_assert_int_eq(builds, builds0 + 3);
    /* a FIFO in its place: refused at once (it used to block forever in
     * fopen), rebuilt, and the FIFO replaced by a good file */
    ck_assert_int_eq(remove(file), 0);
    ck_assert_int_eq(mkfifo(file, 0600), 0);
    run_small_softmax();
    seqk__cl_cache_stats(&hits, &builds, &rejects);
    ck_assert_int_eq(rejects, rejects0 + 3);
    ck_assert_int_eq(builds, builds0 + 4);
    struct stat sb;
    ck_assert(stat(file, &sb) == 0 && S_ISREG(sb.st_mode));
    /* a 3 GiB sparse file: refused from its size, before its body is
     * read (it used to be read whole: 3.2 GB RSS, 20 s) */
    int fd = open(file, O_WRONLY | O_TRUNC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)3 << 30), 0);
    close(fd);
    run_small_softmax();
    seqk__cl_cache_stats(&hits, &builds, &rejects);
    ck_assert_int_eq(rejects, rejects0 + 4);
    ck_assert_int_eq(builds, builds0 + 5);
    /* The rewrite goes through a fresh temporary: a symlink planted at the
     * name the writer used to use, <file>.<pid>.tmp, is not followed (its
     * target used to be overwritten with the binary). */
    char victim[600], planted[600];
    snprintf(victim, sizeof victim, "%s/victim.txt", dir);
    snprintf(planted, sizeof planted, "%s.%ld.tmp", file, (long)getpid());
    write_text(victim, "keep me");
    ck_assert_int_eq(remove(file), 0);
    ck_assert_int_eq(symlink(victim, planted), 0);
    run_small_softmax();
    seqk__cl_cache_stats(&hits, &builds, &rejects);
    ck_assert_int_eq(builds, builds0 + 6);
    char kept[32] = "";
    f = fopen(victim, "rb");
    ck_assert(f && fgets(kept, sizeof kept, f));
    fclose(f);
    ck_assert_str_eq(kept, "keep me");
    ck_assert(stat(file, &sb) == 0 && S_ISREG(sb.st_mode));
    run_small_softmax(); /* and the new file is good */
    seqk__cl_cache_stats(&hits, &builds, &rejects);
    ck_assert_int_eq(hits, hits0 + 3);

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert(system(cmd) == 0);
    free(dir);
    if (saved)
        setenv("XDG_CACHE_HOME", saved, 1);
    else
        unsetenv("XDG_CACHE_HOME");
    free(saved);
}
END_TEST

/* SEQK_OPENCL_PROFILE=1: device time of the kernels since the last call;
 * without it (and on host devices) a clear SEQK_ERR_UNSUPPORTED. */
START_TEST(device_time_profiling)
{
    const int64_t d[2] = {64, 300};
    double ms = -1.0;
    seqk_context *plain = cl_ctx(), *ref = ref_ctx();
    TU_FAILS(plain, seqk_context_device_time(plain, &ms), SEQK_ERR_UNSUPPORTED,
             "SEQK_OPENCL_PROFILE");
    TU_FAILS(ref, seqk_context_device_time(ref, &ms), SEQK_ERR_UNSUPPORTED,
             "not an OpenCL device");
    setenv("SEQK_OPENCL_PROFILE", "1", 1);
    seqk_context *ctx = cl_ctx();
    unsetenv("SEQK_OPENCL_PROFILE");
    seqk_tensor *x = tu_f32(ctx, 2, d, NULL), *y = tu_f32(ctx, 2, d, NULL);
    TU_OK(ctx, seqk_context_device_time(ctx, &ms));
    ck_assert(ms == 0.0); /* nothing launched yet */
    for (int i = 0; i < 3; i++)
        TU_OK(ctx, seqk_softmax(ctx, -1, x, y));
    TU_OK(ctx, seqk_context_device_time(ctx, &ms));
    ck_assert_msg(ms > 0.0, "device time %g", ms);
    TU_OK(ctx, seqk_context_device_time(ctx, &ms));
    ck_assert(ms == 0.0); /* counted once */
    seqk_tensor_destroy(x);
    seqk_tensor_destroy(y);
    seqk_context_destroy(ctx);
    seqk_context_destroy(plain);
    seqk_context_destroy(ref);
}
END_TEST

START_TEST(matmul_small_matches_ref)
{
    seqk_context *cl = cl_ctx(), *ref = ref_ctx();
    const int64_t da[2] = {5, 7}, db[2] = {7, 3}, dy[2] = {5, 3};
    tu_rng r;
    tu_rng_init(&r, 5);
    float *a = tu_rand(&r, 35, -1, 1), *b = tu_rand(&r, 21, -1, 1);
    seqk_tensor *ca = tu_f32(cl, 2, da, a), *cb = tu_f32(cl, 2, db, b),
                *cy = tu_f32(cl, 2, dy, NULL);
    seqk_tensor *ra = tu_f32(ref, 2, da, a), *rb = tu_f32(ref, 2, db, b),
                *ry = tu_f32(ref, 2, dy, NULL);
    TU_OK(cl, seqk_matmul(cl, ca, cb, cy));
    TU_OK(ref, seqk_matmul(ref, ra, rb, ry));
    float *got = tu_read(cy), *want = tu_read(ry);
    TU_ASSERT_CLOSE(got, want, 15, 1e-6f, 1e-5f);
    tu_assert_guard(cy);
    free(got);
    free(want);
    free(a);
    free(b);
    seqk_tensor_destroy(ca); seqk_tensor_destroy(cb); seqk_tensor_destroy(cy);
    seqk_tensor_destroy(ra); seqk_tensor_destroy(rb); seqk_tensor_destroy(ry);
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

START_TEST(wrap_caller_objects)
{
    /* A caller's context, queue and buffer (with an offset) used by seqk. */
    cl_platform_id plat;
    cl_device_id dev;
    cl_int err = clGetPlatformIDs(1, &plat, NULL);
    ck_assert(err == CL_SUCCESS);
    ck_assert(clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, 1, &dev, NULL) ==
              CL_SUCCESS);
    cl_context cc = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    ck_assert(err == CL_SUCCESS);
    cl_command_queue q = clCreateCommandQueue(cc, dev, 0, &err);
    ck_assert(err == CL_SUCCESS);
    float host[16];
    for (int i = 0; i < 16; i++)
        host[i] = (float)i * 0.25f;
    cl_mem buf = clCreateBuffer(cc, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                sizeof host, host, &err);
    ck_assert(err == CL_SUCCESS);
    seqk_context *ctx = NULL;
    ck_assert(seqk_opencl_context_create(cc, q, NULL, &ctx) == SEQK_OK);
    ck_assert(seqk_opencl_queue(ctx) == q);
    const int64_t d[2] = {2, 3};
    seqk_tensor *x = NULL, *y = NULL;
    TU_OK(ctx, seqk_opencl_tensor_wrap(ctx, buf, 2 * sizeof(float), 2, d,
                                       SEQK_F32, &x));
    TU_OK(ctx, seqk_opencl_tensor_wrap(ctx, buf, 8 * sizeof(float), 2, d,
                                       SEQK_F32, &y));
    cl_mem b2;
    size_t off;
    TU_OK(ctx, seqk_opencl_tensor_buffer(y, &b2, &off));
    ck_assert(b2 == buf && off == 8 * sizeof(float));
    TU_OK(ctx, seqk_softmax(ctx, 1, x, y));
    float out[16];
    ck_assert(clEnqueueReadBuffer(q, buf, CL_TRUE, 0, sizeof out, out, 0,
                                  NULL, NULL) == CL_SUCCESS);
    for (int r = 0; r < 2; r++) {
        double s = 0;
        for (int i = 0; i < 3; i++)
            s += exp(host[2 + 3 * r + i]);
        for (int i = 0; i < 3; i++)
            ck_assert_float_eq_tol(out[8 + 3 * r + i],
                                   exp(host[2 + 3 * r + i]) / s, 1e-6);
    }
    ck_assert(out[7] == host[7] && out[14] == host[14]);
    seqk_tensor *bad = NULL;
    TU_FAILS(ctx, seqk_opencl_tensor_wrap(ctx, buf, 12 * sizeof(float), 2, d,
                                          SEQK_F32, &bad),
             SEQK_ERR_SHAPE, "do not fit");
    ck_assert_ptr_null(bad);
    seqk_tensor_destroy(x);
    seqk_tensor_destroy(y);
    seqk_context_destroy(ctx);
    clReleaseMemObject(buf);
    clReleaseCommandQueue(q);
    clReleaseContext(cc);
}
END_TEST

START_TEST(device_facts)
{
    seqk_context *ctx = cl_ctx();
    const seqk_cl_device_facts *f = seqk__cl_facts(ctx);
    ck_assert(f != NULL);
    ck_assert(f->name[0] != '\0');
    ck_assert(f->compute_units >= 1);
    ck_assert(f->max_work_group_size >= 1);
    ck_assert(f->local_mem_size > 0);
    seqk_context_destroy(ctx);
}
END_TEST

/* The device table core/ and tune/ use (core/device.h): the context holds
 * it, memory moves through it (copy is device to device, in one tensor or
 * between two), and its facts are the OpenCL ones. */
START_TEST(device_table)
{
    seqk_context *ctx = cl_ctx();
    ck_assert_ptr_eq(ctx->dev, &seqk__device_opencl);
    ck_assert_ptr_eq(seqk__cl_state_of(ctx), ctx->dev_state);
    const seqk_device_iface *dev = ctx->dev;
    int64_t d = 8;
    float v[8] = {1, 2, 3, 4, 5, 6, 7, 8}, zero[8] = {0}, w[8];
    seqk_tensor *a = tu_f32(ctx, 1, &d, v), *b = tu_f32(ctx, 1, &d, zero);
    TU_OK(ctx, dev->copy(ctx, (float *)b->data + 2, (float *)a->data + 1,
                         4 * sizeof(float)));
    TU_OK(ctx, dev->copy(ctx, (float *)a->data, (float *)a->data + 6,
                         2 * sizeof(float)));
    TU_OK(ctx, dev->read(ctx, w, b->data, sizeof w));
    const float want_b[8] = {0, 0, 2, 3, 4, 5, 0, 0};
    TU_ASSERT_CLOSE(w, want_b, 8, 0.0f, 0.0f);
    TU_OK(ctx, dev->read(ctx, w, a->data, 2 * sizeof(float)));
    ck_assert(w[0] == 7.0f && w[1] == 8.0f);
    tu_assert_guard(a);
    tu_assert_guard(b);
    TU_FAILS(ctx, dev->copy(ctx, b->data, (float *)a->data + 6,
                            (8 + 16) * sizeof(float)),
             SEQK_ERR_INTERNAL, "run past");
    TU_FAILS(ctx, dev->copy(ctx, b->data, v, sizeof(float)),
             SEQK_ERR_INTERNAL, "not inside a tensor");
    seqk__device_facts f;
    TU_OK(ctx, dev->facts(ctx, &f));
    const seqk_cl_device_facts *cf = seqk__cl_facts(ctx);
    ck_assert_str_eq(f.name, cf->name);
    ck_assert_str_eq(f.vendor, cf->vendor);
    ck_assert_str_ne(f.platform, "");
    ck_assert_int_eq(f.max_wg, (int64_t)cf->max_work_group_size);
    ck_assert_int_eq(f.local_mem, (int64_t)cf->local_mem_size);
    seqk_tensor_destroy(a);
    seqk_tensor_destroy(b);
    seqk_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("opencl");
    TCase *tc = tcase_create("opencl");
    tcase_set_timeout(tc, 300);
    int found = 0, count = 0;
    seqk_device_count(&count);
    for (int i = 0; i < count; i++) {
        seqk_device_info info = {.struct_size = sizeof info};
        if (seqk_device_info_get(i, &info) == SEQK_OK && info.available &&
            info.kind == SEQK_DEVICE_OPENCL)
            found = 1;
    }
    if (!found) {
        printf("no OpenCL device: skipping\n");
        return 77;
    }
    if (getenv("SEQK_OCL_SMALL")) {
        /* the Oclgrind run: kernels only, small shapes */
        tcase_add_test(tc, softmax_small_shapes);
        tcase_add_test(tc, softmax_tuned_values);
    } else {
        tcase_add_test(tc, softmax_small_shapes);
        tcase_add_test(tc, softmax_edge_shapes);
        tcase_add_test(tc, softmax_tuned_values);
        tcase_add_test(tc, softmax_tunable_legal);
        tcase_add_test(tc, tensor_round_trip);
        tcase_add_test(tc, guard_catches_overrun);
        tcase_add_test(tc, pointer_translation);
        tcase_add_test(tc, error_translation);
        tcase_add_test(tc, launch_validation);
        tcase_add_test(tc, broken_kernel_source);
        tcase_add_test(tc, disk_cache);
        tcase_add_test(tc, matmul_small_matches_ref);
        tcase_add_test(tc, device_time_profiling);
        tcase_add_test(tc, device_facts);
        tcase_add_test(tc, device_table);
        tcase_add_test(tc, wrap_caller_objects);
    }
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
