/*
 * test_opencl_auto.c — `auto` contexts and the OpenCL device: ops the
 * tuning data ("auto.<op>" tunables, forced here with the tuner's
 * override) puts on OpenCL run there on copies of the host tensors and
 * give ref's answers; without such data nothing touches OpenCL; when the
 * device fails (a kernel that does not build) the op still succeeds on
 * the CPU.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opencl/cl_backend.h"
#include "seqk.h"
#include "testutil.h"
#include "tune/tune.h"

static seqk_context *make(const char *device)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = device;
    seqk_context *ctx = NULL;
    ck_assert_msg(seqk_context_create(&o, &ctx) == SEQK_OK, "%s: %s", device,
                  seqk_last_error(NULL));
    return ctx;
}

/* Programs built or loaded so far (any use of the OpenCL device). */
static int cl_programs(void)
{
    int hits = 0, builds = 0, rejects = 0;
    seqk__cl_cache_stats(&hits, &builds, &rejects);
    return hits + builds;
}

static void force_opencl(seqk_context *ctx, int on)
{
    static const char *ids[] = {"auto.gemm", "auto.matmul", "auto.softmax",
                                "auto.rnn_layer", "auto.attention"};
    const int one = 1;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        TU_OK(ctx, seqk__tune_override(ctx, ids[i], on ? &one : NULL));
}

/* Softmax, Gemm (C broadcast), MatMul (batch broadcast), Attention
 * (mask, GQA) and an LSTM on ctx vs ref. */
static void check_ops(seqk_context *ctx, seqk_context *ref)
{
    tu_rng r;
    tu_rng_init(&r, 77);
    /* softmax [5, 37] */
    const int64_t sd[2] = {5, 37};
    float *sx = tu_rand(&r, 185, -3, 3);
    seqk_tensor *x1 = tu_f32(ctx, 2, sd, sx), *y1 = tu_f32(ctx, 2, sd, NULL);
    seqk_tensor *x2 = tu_f32(ref, 2, sd, sx), *y2 = tu_f32(ref, 2, sd, NULL);
    TU_OK(ctx, seqk_softmax(ctx, -1, x1, y1));
    TU_OK(ref, seqk_softmax(ref, -1, x2, y2));
    float *got = tu_read(y1), *want = tu_read(y2);
    TU_ASSERT_CLOSE(got, want, 185, 1e-6f, 1e-5f);
    tu_assert_guard(y1);
    free(got); free(want); free(sx);
    seqk_tensor_destroy(x1); seqk_tensor_destroy(y1);
    seqk_tensor_destroy(x2); seqk_tensor_destroy(y2);

    /* gemm: A^T [K=19, M=13], B [19, 11], C [11] */
    const int64_t ad[2] = {19, 13}, bd[2] = {19, 11}, cd[1] = {11};
    const int64_t yd[2] = {13, 11};
    float *a = tu_rand(&r, 19 * 13, -1, 1), *b = tu_rand(&r, 19 * 11, -1, 1);
    float *c = tu_rand(&r, 11, -1, 1);
    seqk_gemm_params gp;
    seqk_gemm_params_init(&gp);
    gp.trans_a = 1;
    gp.alpha = 0.5f;
    gp.beta = 2.0f;
    seqk_tensor *ga = tu_f32(ctx, 2, ad, a), *gb = tu_f32(ctx, 2, bd, b),
                *gc = tu_f32(ctx, 1, cd, c), *gy = tu_f32(ctx, 2, yd, NULL);
    seqk_tensor *ra = tu_f32(ref, 2, ad, a), *rb = tu_f32(ref, 2, bd, b),
                *rc = tu_f32(ref, 1, cd, c), *ry = tu_f32(ref, 2, yd, NULL);
    TU_OK(ctx, seqk_gemm(ctx, &gp, ga, gb, gc, gy));
    TU_OK(ref, seqk_gemm(ref, &gp, ra, rb, rc, ry));
    got = tu_read(gy);
    want = tu_read(ry);
    TU_ASSERT_CLOSE(got, want, 13 * 11, 1e-5f, 1e-5f);
    tu_assert_guard(gy);
    free(got); free(want);
    /* matmul: [3,1,4,19] x [2,19,5] -> [3,2,4,5] */
    const int64_t md_a[4] = {3, 1, 4, 19}, md_b[3] = {2, 19, 5};
    const int64_t md_y[4] = {3, 2, 4, 5};
    float *ma = tu_rand(&r, 3 * 4 * 19, -1, 1);
    float *mb = tu_rand(&r, 2 * 19 * 5, -1, 1);
    seqk_tensor *ma1 = tu_f32(ctx, 4, md_a, ma), *mb1 = tu_f32(ctx, 3, md_b, mb),
                *my1 = tu_f32(ctx, 4, md_y, NULL);
    seqk_tensor *ma2 = tu_f32(ref, 4, md_a, ma), *mb2 = tu_f32(ref, 3, md_b, mb),
                *my2 = tu_f32(ref, 4, md_y, NULL);
    TU_OK(ctx, seqk_matmul(ctx, ma1, mb1, my1));
    TU_OK(ref, seqk_matmul(ref, ma2, mb2, my2));
    got = tu_read(my1);
    want = tu_read(my2);
    TU_ASSERT_CLOSE(got, want, 120, 1e-5f, 1e-5f);
    free(got); free(want); free(ma); free(mb); free(a); free(b); free(c);
    seqk_tensor_destroy(ma1); seqk_tensor_destroy(mb1); seqk_tensor_destroy(my1);
    seqk_tensor_destroy(ma2); seqk_tensor_destroy(mb2); seqk_tensor_destroy(my2);
    seqk_tensor_destroy(ga); seqk_tensor_destroy(gb); seqk_tensor_destroy(gc);
    seqk_tensor_destroy(gy); seqk_tensor_destroy(ra); seqk_tensor_destroy(rb);
    seqk_tensor_destroy(rc); seqk_tensor_destroy(ry);

    /* attention: Q [2,4,9,8], K/V [2,2,13,8] (GQA), bool mask [9,13] */
    const int64_t qd[4] = {2, 4, 9, 8}, kd[4] = {2, 2, 13, 8};
    const int64_t mkd[2] = {9, 13};
    float *q = tu_rand(&r, 2 * 4 * 9 * 8, -1, 1);
    float *k = tu_rand(&r, 2 * 2 * 13 * 8, -1, 1);
    float *v = tu_rand(&r, 2 * 2 * 13 * 8, -1, 1);
    unsigned char mask[9 * 13];
    for (int i = 0; i < 9 * 13; i++)
        mask[i] = (unsigned char)(tu_uniform(&r, 0, 1) < 0.7f);
    seqk_attention_params ap;
    seqk_attention_params_init(&ap);
    ap.is_causal = 1;
    seqk_tensor *q1 = tu_f32(ctx, 4, qd, q), *k1 = tu_f32(ctx, 4, kd, k),
                *v1 = tu_f32(ctx, 4, kd, v), *m1 = tu_bool(ctx, 2, mkd, mask),
                *o1 = tu_f32(ctx, 4, qd, NULL);
    seqk_tensor *q2 = tu_f32(ref, 4, qd, q), *k2 = tu_f32(ref, 4, kd, k),
                *v2 = tu_f32(ref, 4, kd, v), *m2 = tu_bool(ref, 2, mkd, mask),
                *o2 = tu_f32(ref, 4, qd, NULL);
    TU_OK(ctx, seqk_attention(ctx, &ap, q1, k1, v1, m1, o1));
    TU_OK(ref, seqk_attention(ref, &ap, q2, k2, v2, m2, o2));
    got = tu_read(o1);
    want = tu_read(o2);
    TU_ASSERT_CLOSE(got, want, 2 * 4 * 9 * 8, 1e-5f, 1e-4f);
    tu_assert_guard(o1);
    free(got); free(want); free(q); free(k); free(v);
    seqk_tensor_destroy(q1); seqk_tensor_destroy(k1); seqk_tensor_destroy(v1);
    seqk_tensor_destroy(m1); seqk_tensor_destroy(o1);
    seqk_tensor_destroy(q2); seqk_tensor_destroy(k2); seqk_tensor_destroy(v2);
    seqk_tensor_destroy(m2); seqk_tensor_destroy(o2);

    /* LSTM, bidirectional, T=6, B=3, I=5, H=7, Y and Y_h */
    seqk_rnn_desc desc;
    seqk_rnn_desc_init(&desc, SEQK_CELL_LSTM, 5, 7);
    desc.direction = SEQK_BIDIRECTIONAL;
    const int64_t wd[3] = {2, 28, 5}, rd[3] = {2, 28, 7}, bd2[2] = {2, 56};
    const int64_t xd[3] = {6, 3, 5}, yd4[4] = {6, 2, 3, 7};
    const int64_t hd[3] = {2, 3, 7};
    float *w = tu_rand(&r, 2 * 28 * 5, -0.5f, 0.5f);
    float *rr = tu_rand(&r, 2 * 28 * 7, -0.5f, 0.5f);
    float *bb = tu_rand(&r, 2 * 56, -0.5f, 0.5f);
    float *xx = tu_rand(&r, 6 * 3 * 5, -1, 1);
    seqk_context *cs[2] = {ctx, ref};
    float *outs[2][2];
    for (int i = 0; i < 2; i++) {
        seqk_rnn *rnn = NULL;
        TU_OK(cs[i], seqk_rnn_create(cs[i], &desc, &rnn));
        seqk_tensor *tw = tu_f32(cs[i], 3, wd, w), *tr = tu_f32(cs[i], 3, rd, rr),
                    *tb = tu_f32(cs[i], 2, bd2, bb), *tx = tu_f32(cs[i], 3, xd, xx),
                    *ty = tu_f32(cs[i], 4, yd4, NULL),
                    *th = tu_f32(cs[i], 3, hd, NULL);
        TU_OK(cs[i], seqk_rnn_set_weights(rnn, 0, SEQK_WEIGHTS_ONNX, tw, tr, tb,
                                          NULL));
        TU_OK(cs[i], seqk_rnn_forward(rnn, tx, NULL, NULL, NULL, ty, th, NULL));
        outs[i][0] = tu_read(ty);
        outs[i][1] = tu_read(th);
        seqk_tensor_destroy(tw); seqk_tensor_destroy(tr); seqk_tensor_destroy(tb);
        seqk_tensor_destroy(tx); seqk_tensor_destroy(ty); seqk_tensor_destroy(th);
        seqk_rnn_destroy(rnn);
    }
    TU_ASSERT_CLOSE(outs[0][0], outs[1][0], 6 * 2 * 3 * 7, 1e-5f, 1e-4f);
    TU_ASSERT_CLOSE(outs[0][1], outs[1][1], 2 * 3 * 7, 1e-5f, 1e-4f);
    for (int i = 0; i < 2; i++) {
        free(outs[i][0]);
        free(outs[i][1]);
    }
    free(w); free(rr); free(bb); free(xx);
}

START_TEST(auto_untuned_stays_on_cpu)
{
    seqk_context *ctx = make("auto"), *ref = make("ref");
    int before = cl_programs();
    check_ops(ctx, ref);
    ck_assert_int_eq(cl_programs(), before);
    ck_assert_str_ne(seqk_context_device(ctx), "opencl:0.0");
    seqk_context_destroy(ctx);
    seqk_context_destroy(ref);
}
END_TEST

/* The kernel an auto context reports for an op is the CPU's, which runs
 * every problem the offload does not take; the offload is named. */
START_TEST(auto_reports_the_cpu_kernel)
{
    seqk_context *ctx = make("auto");
    int n = 0;
    ck_assert_int_eq(seqk_op_count(&n), SEQK_OK);
    for (int i = 0; i < n; i++) {
        seqk_op_kernel k = {.struct_size = sizeof k};
        ck_assert_int_eq(seqk_context_op_kernel(ctx, i, &k), SEQK_OK);
        if (strcmp(k.op, "gemm") != 0)
            continue;
        ck_assert_msg(!strstr(k.kernel, "offload") &&
                      strstr(k.kernel, "seqk_f32_gemm__"), "%s", k.kernel);
        ck_assert_msg(strstr(k.refused, "opencl-offload: takes only"), "%s",
                      k.refused);
    }
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(auto_runs_tuned_ops_on_opencl)
{
    seqk_context *ctx = make("auto"), *ref = make("ref");
    force_opencl(ctx, 1);
    int before = cl_programs();
    check_ops(ctx, ref);
    ck_assert_int_gt(cl_programs(), before);
    seqk_context_destroy(ctx);
    seqk_context_destroy(ref);
}
END_TEST

/* A device that fails (every kernel source broken): the ops still give
 * the right answers, on the CPU. */
START_TEST(auto_falls_back_to_cpu)
{
    char dir[] = "/tmp/seqk-auto-XXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    static const char *names[] = {"softmax", "gemm", "rnn", "attention",
                                  "seq_attention"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s.cl", dir, names[i]);
        FILE *f = fopen(path, "w");
        ck_assert(f != NULL);
        fputs("__kernel void broken(__global float *x) { x[0] = nope; }\n", f);
        fclose(f);
    }
    setenv("SEQK_KERNEL_DIR", dir, 1);
    seqk_context *ctx = make("auto"), *ref = make("ref");
    force_opencl(ctx, 1);
    check_ops(ctx, ref);
    seqk_context_destroy(ctx);
    seqk_context_destroy(ref);
    unsetenv("SEQK_KERNEL_DIR");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s.cl", dir, names[i]);
        remove(path);
    }
    rmdir(dir);
}
END_TEST

/* No OpenCL device at all (the ICD loader finds no platform): auto works
 * on the CPU. */
START_TEST(auto_without_any_device)
{
    seqk_context *ctx = make("auto"), *ref = make("ref");
    force_opencl(ctx, 1);
    check_ops(ctx, ref);
    seqk_context_destroy(ctx);
    seqk_context_destroy(ref);
}
END_TEST

int main(void)
{
    /* A run of its own (meson test opencl_auto_no_device): the ICD loader
     * reads OCL_ICD_VENDORS once per process. */
    if (getenv("SEQK_TEST_NO_ICD")) {
        Suite *s = suite_create("opencl_auto_no_device");
        TCase *tc = tcase_create("no_device");
        tcase_add_test(tc, auto_without_any_device);
        suite_add_tcase(s, tc);
        return tu_run_suite(s);
    }
    Suite *s = suite_create("opencl_auto");
    TCase *tc = tcase_create("opencl_auto");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, auto_untuned_stays_on_cpu);
    tcase_add_test(tc, auto_reports_the_cpu_kernel);
    tcase_add_test(tc, auto_runs_tuned_ops_on_opencl);
    if (!getenv("SEQK_OCL_SMALL")) /* the Oclgrind run: no provoked errors */
        tcase_add_test(tc, auto_falls_back_to_cpu);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
