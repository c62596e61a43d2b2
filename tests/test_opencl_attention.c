/*
 * test_opencl_attention.c — the "opencl_attention" suite: the OpenCL
 * Attention-23 and SeqAttention kernels (kernels/attention.cl,
 * kernels/seq_attention.cl) against the reference backend.
 *
 * Each check builds the same random problem on an OpenCL context and a
 * ref context through the public API (seqk_attention, seqk_seq_attention)
 * and compares; outputs on the device must leave their guard bytes
 * intact.  Shapes cross the flash kernel's tile edges (BQ = 16 rows,
 * BK = 32 keys by default: 1, 15, 16, 17, 31, 32, 33, primes), head sizes
 * 1 .. 256, Dh != Dv, grouped-query heads, 3-D and 4-D layouts, every
 * mask kind and broadcast, short masks (padded as masked), both causal
 * alignments, softcap and rows left without keys.  Tuner overrides run
 * the other configurations: the row kernel, small and odd tiles, and the
 * tiles the driver picks under GPU limits (256 work-items, 32 KiB local)
 * for each head size.  A padded-stride problem and host-memory key_lens
 * run at the problem level.  SEQK_OCL_SMALL=1: a few small shapes only
 * (the Oclgrind run).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "opencl/cl_attention.h"
#include "ref/ref.h"
#include "testutil.h"

static seqk_context *make_ctx(const char *device)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = device;
    seqk_context *ctx = NULL;
    seqk_status st = seqk_context_create(&o, &ctx);
    ck_assert_msg(st == SEQK_OK, "%s context: %s", device,
                  seqk_last_error(NULL));
    return ctx;
}

static int small_only(void) { return getenv("SEQK_OCL_SMALL") != NULL; }

/* ============================================================ Attention */

enum { NO_CAUSAL = 0, TOP_LEFT, BOTTOM_RIGHT };
enum { BC_B = 1, BC_H = 2, BC_Q = 4 }; /* mask dims of size 1 */

typedef struct {
    int64_t B, Hq, Hkv, Sq, Skv, Dh, Dv;
    int layout3d, causal;
    float scale, softcap;
    int mask;            /* 0 none, 1 bool, 2 additive */
    int mask_ndim;       /* 2..4 */
    int bcast;           /* BC_* */
    int64_t mask_len;    /* <= 0: Skv */
    float keep;          /* fraction of mask entries that attend */
} at_case;

static at_case at_base(int64_t Sq, int64_t Skv, int64_t Dh, int64_t Dv)
{
    at_case c = {1, 2, 1, Sq, Skv, Dh, Dv, 0, NO_CAUSAL, 0.0f, 0.0f,
                 0, 4, 0, 0, 0.8f};
    return c;
}

/* Mask dims for c: [B|1, Hq|1, Sq|1, len] right-aligned to mask_ndim. */
static int mask_dims(const at_case *c, int64_t *dims)
{
    int64_t full[4] = {c->bcast & BC_B ? 1 : c->B, c->bcast & BC_H ? 1 : c->Hq,
                       c->bcast & BC_Q ? 1 : c->Sq,
                       c->mask_len > 0 ? c->mask_len : c->Skv};
    for (int a = 0; a < c->mask_ndim; a++)
        dims[a] = full[4 - c->mask_ndim + a];
    int64_t n = 1;
    for (int a = 0; a < c->mask_ndim; a++)
        n *= dims[a];
    return (int)n;
}

static seqk_tensor *tensor4(seqk_context *ctx, const at_case *c, int64_t H,
                            int64_t S, int64_t D, const float *x)
{
    if (c->layout3d) {
        const int64_t d3[3] = {c->B, S, H * D};
        return tu_f32(ctx, 3, d3, x);
    }
    const int64_t d4[4] = {c->B, H, S, D};
    return tu_f32(ctx, 4, d4, x);
}

/* Runs c on ctx with the given host data; returns Y (malloc'd). */
static float *run_attention(seqk_context *ctx, const at_case *c,
                            const float *q, const float *k, const float *v,
                            const void *mask, int guard)
{
    seqk_attention_params p;
    seqk_attention_params_init(&p);
    p.scale = c->scale;
    p.softcap = c->softcap;
    p.is_causal = c->causal != NO_CAUSAL;
    p.causal_align = c->causal == BOTTOM_RIGHT ? SEQK_CAUSAL_BOTTOM_RIGHT
                                               : SEQK_CAUSAL_TOP_LEFT;
    if (c->layout3d) {
        p.q_num_heads = c->Hq;
        p.kv_num_heads = c->Hkv;
    }
    seqk_tensor *Q = tensor4(ctx, c, c->Hq, c->Sq, c->Dh, q);
    seqk_tensor *K = tensor4(ctx, c, c->Hkv, c->Skv, c->Dh, k);
    seqk_tensor *V = tensor4(ctx, c, c->Hkv, c->Skv, c->Dv, v);
    seqk_tensor *Y = tensor4(ctx, c, c->Hq, c->Sq, c->Dv, NULL);
    seqk_tensor *M = NULL;
    int64_t md[4];
    mask_dims(c, md);
    if (c->mask == 1)
        M = tu_bool(ctx, c->mask_ndim, md, mask);
    else if (c->mask == 2)
        M = tu_f32(ctx, c->mask_ndim, md, mask);
    TU_OK(ctx, seqk_attention(ctx, &p, Q, K, V, M, Y));
    if (guard)
        tu_assert_guard(Y);
    float *y = tu_read(Y);
    seqk_tensor_destroy(Q);
    seqk_tensor_destroy(K);
    seqk_tensor_destroy(V);
    seqk_tensor_destroy(Y);
    seqk_tensor_destroy(M);
    return y;
}

/* c on the OpenCL context cl (with whatever tuner override it carries)
 * against ref. */
static void check_attention(seqk_context *cl, seqk_context *ref,
                            const at_case *c, uint64_t salt)
{
    const size_t nq = (size_t)(c->B * c->Hq * c->Sq * c->Dh);
    const size_t nk = (size_t)(c->B * c->Hkv * c->Skv * c->Dh);
    const size_t nv = (size_t)(c->B * c->Hkv * c->Skv * c->Dv);
    const size_t ny = (size_t)(c->B * c->Hq * c->Sq * c->Dv);
    tu_rng r;
    tu_rng_init(&r, salt);
    float *q = tu_rand(&r, nq + 1, -1.5f, 1.5f);
    float *k = tu_rand(&r, nk + 1, -1.5f, 1.5f);
    float *v = tu_rand(&r, nv + 1, -1.0f, 1.0f);
    int64_t md[4];
    const int nm = c->mask ? mask_dims(c, md) : 0;
    void *mask = NULL;
    if (c->mask == 1) {
        uint8_t *m = malloc((size_t)nm + 1);
        ck_assert_ptr_nonnull(m);
        for (int i = 0; i < nm; i++)
            m[i] = tu_uniform(&r, 0.0f, 1.0f) < c->keep;
        mask = m;
    } else if (c->mask == 2) {
        float *m = tu_rand(&r, (size_t)nm + 1, -2.0f, 2.0f);
        for (int i = 0; i < nm; i++)
            if (tu_uniform(&r, 0.0f, 1.0f) >= c->keep)
                m[i] = -INFINITY;
        mask = m;
    }
    float *got = run_attention(cl, c, q, k, v, mask, 1);
    float *want = run_attention(ref, c, q, k, v, mask, 0);
    /* float dots and sums against the reference's doubles */
    const float atol = 2e-6f * sqrtf((float)(c->Dh + c->Skv + 1)) *
                       (1.0f + (float)c->Dh / 8.0f);
    char msg[256];
    ck_assert_msg(tu_close(got, want, ny, atol, 2e-5f, msg, sizeof msg),
                  "B%lld Hq%lld Hkv%lld Sq%lld Skv%lld Dh%lld Dv%lld 3d%d "
                  "causal%d softcap%g mask%d/%dD bc%d len%lld: %s",
                  (long long)c->B, (long long)c->Hq, (long long)c->Hkv,
                  (long long)c->Sq, (long long)c->Skv, (long long)c->Dh,
                  (long long)c->Dv, c->layout3d, c->causal,
                  (double)c->softcap, c->mask, c->mask_ndim, c->bcast,
                  (long long)c->mask_len, msg);
    for (size_t i = 0; i < ny; i++)
        ck_assert_msg(isfinite(got[i]), "y[%zu] = %g", i, (double)got[i]);
    free(q);
    free(k);
    free(v);
    free(mask);
    free(got);
    free(want);
}

/* Small shapes over every feature (also the Oclgrind subset). */
START_TEST(attention_small_features)
{
    seqk_context *cl = make_ctx("opencl"), *ref = make_ctx("ref");
    uint64_t salt = 1;
    for (int mask = 0; mask <= 2; mask++)
        for (int causal = NO_CAUSAL; causal <= BOTTOM_RIGHT; causal++) {
            at_case c = at_base(5, 7, 3, 2);
            c.mask = mask;
            c.causal = causal;
            c.Hq = 4;
            c.Hkv = 2;
            c.softcap = causal == TOP_LEFT ? 0.7f : 0.0f;
            c.mask_len = mask == 1 ? 6 : 0;
            check_attention(cl, ref, &c, salt++);
            c.Sq = 7; /* Sq > Skv with bottom-right: leading rows empty */
            c.Skv = 3;
            c.mask_len = 0;
            c.layout3d = 1;
            check_attention(cl, ref, &c, salt++);
        }
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* Sq and Skv around the default tiles, primes, Skv >> Sq, Sq > Skv. */
START_TEST(attention_edge_lengths)
{
    seqk_context *cl = make_ctx("opencl"), *ref = make_ctx("ref");
    static const int64_t lens[] = {1, 15, 16, 17, 31, 32, 33, 61};
    uint64_t salt = 100;
    for (int a = 0; a < 8; a++)
        for (int b = 0; b < 8; b++) {
            at_case c = at_base(lens[a], lens[b], 8, 5);
            c.causal = (a + b) % 3;
            check_attention(cl, ref, &c, salt++);
        }
    at_case longk = at_base(3, 523, 16, 16); /* decode-like */
    check_attention(cl, ref, &longk, salt++);
    longk.causal = BOTTOM_RIGHT;
    check_attention(cl, ref, &longk, salt++);
    at_case longq = at_base(131, 5, 16, 9);
    longq.causal = BOTTOM_RIGHT;
    check_attention(cl, ref, &longq, salt++);
    longq.causal = TOP_LEFT;
    check_attention(cl, ref, &longq, salt++);
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* Head sizes 1 .. 256, Dh != Dv, grouped-query, 3-D layouts. */
START_TEST(attention_head_sizes)
{
    seqk_context *cl = make_ctx("opencl"), *ref = make_ctx("ref");
    static const int64_t dims[][2] = {{1, 1}, {3, 3}, {64, 64}, {65, 65},
                                      {128, 128}, {256, 256}, {64, 17},
                                      {3, 130}, {256, 7}, {33, 256}};
    uint64_t salt = 200;
    for (int i = 0; i < 10; i++) {
        at_case c = at_base(19, 37, dims[i][0], dims[i][1]);
        c.B = 2;
        c.Hq = 6;
        c.Hkv = i % 2 ? 3 : 1;
        c.layout3d = i % 3 == 0;
        c.causal = i % 3;
        check_attention(cl, ref, &c, salt++);
    }
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* Mask kinds, ranks, broadcasts and short masks; fully masked rows. */
START_TEST(attention_masks)
{
    seqk_context *cl = make_ctx("opencl"), *ref = make_ctx("ref");
    uint64_t salt = 300;
    for (int mask = 1; mask <= 2; mask++)
        for (int ndim = 2; ndim <= 4; ndim++)
            for (int bc = 0; bc < 8; bc++) {
                at_case c = at_base(18, 34, 5, 6);
                c.B = 2;
                c.Hq = 2;
                c.mask = mask;
                c.mask_ndim = ndim;
                /* dims a lower-rank mask lacks broadcast anyway */
                c.bcast = bc | (ndim < 4 ? BC_B : 0) | (ndim < 3 ? BC_H : 0);
                c.mask_len = bc & 1 ? 20 : (bc & 2 ? 1 : 0);
                c.causal = bc % 3;
                c.keep = bc == 5 ? 0.1f : 0.7f; /* many empty rows */
                check_attention(cl, ref, &c, salt++);
            }
    /* every key masked: all rows give 0 */
    at_case none = at_base(17, 33, 4, 4);
    none.mask = 1;
    none.keep = 0.0f;
    check_attention(cl, ref, &none, salt++);
    none.mask = 2;
    check_attention(cl, ref, &none, salt++);
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* Scale and softcap with large scores. */
START_TEST(attention_scale_softcap)
{
    seqk_context *cl = make_ctx("opencl"), *ref = make_ctx("ref");
    uint64_t salt = 400;
    const float scales[] = {0.0f, 0.05f, 3.0f};
    const float caps[] = {0.0f, 0.5f, 30.0f};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            at_case c = at_base(20, 45, 16, 16);
            c.scale = scales[a];
            c.softcap = caps[b];
            c.mask = 2;
            c.causal = b;
            check_attention(cl, ref, &c, salt++);
        }
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* Other configurations through tuner overrides: the row kernel, odd and
 * small tiles, one work-item per row. */
START_TEST(attention_configurations)
{
    seqk_context *cl = make_ctx("opencl"), *ref = make_ctx("ref");
    /* PATH, BQ, BK, TPR, RWG */
    static const int cfg[][5] = {{1, 16, 32, 8, 16}, {1, 16, 32, 8, 64},
                                 {0, 1, 4, 1, 64},   {0, 4, 8, 2, 64},
                                 {0, 2, 16, 32, 64}, {0, 64, 128, 4, 64},
                                 {0, 8, 4, 16, 64}};
    const int ncfg = small_only() ? 3 : 7;
    uint64_t salt = 500;
    for (int i = 0; i < ncfg; i++) {
        TU_OK(cl, seqk__tune_override(cl, "opencl.attention", cfg[i]));
        for (int s = 0; s < 3; s++) {
            at_case c = small_only() ? at_base(3 + s, 5 + 4 * s, 3, 2)
                                     : at_base(9 + 31 * s, 17 + 50 * s,
                                               s == 2 ? 65 : 7, 9 + 30 * s);
            c.mask = s;
            c.causal = (i + s) % 3;
            c.Hq = 2;
            c.Hkv = 1 + s % 2;
            check_attention(cl, ref, &c, salt++);
        }
    }
    TU_OK(cl, seqk__tune_override(cl, "opencl.attention", NULL));
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* Under GPU limits every head size gets a legal configuration (flash up
 * to 256), which then runs correctly here. */
START_TEST(attention_gpu_limits)
{
    seqk_context *cl = make_ctx("opencl"), *ref = make_ctx("ref");
    const seqk_tunable *t = seqk__tunable_find("opencl.attention");
    ck_assert_ptr_nonnull(t);
    seqk_tune_limits gpu = {.is_device = 1, .is_gpu = 1, .max_wg = 256,
                            .max_item = {256, 256, 64},
                            .local_mem = 32768};
    int def[5];
    seqk__tunable_defaults(t, def);
    ck_assert(seqk__tunable_legal(t, def, &gpu, NULL));
    static const int64_t dims[][2] = {{1, 1}, {64, 64}, {65, 65},
                                      {128, 128}, {256, 256}, {100, 300},
                                      {512, 512}, {3000, 3000}};
    uint64_t salt = 600;
    for (int i = 0; i < 8; i++) {
        const int64_t shape[4] = {40, 40, dims[i][0], dims[i][1]};
        int v[5];
        memcpy(v, def, sizeof v);
        ck_assert(seqk__cl_attention_pick(&gpu, shape, v));
        ck_assert(seqk__tunable_legal(t, v, &gpu, shape));
        if (dims[i][0] <= 256 && dims[i][1] <= 256)
            ck_assert_msg(v[0] == 0, "Dh %lld: not the flash kernel",
                          (long long)dims[i][0]);
        if (small_only() || dims[i][0] > 512)
            continue;
        TU_OK(cl, seqk__tune_override(cl, "opencl.attention", v));
        at_case c = at_base(21, 40, dims[i][0], dims[i][1]);
        c.causal = i % 3;
        check_attention(cl, ref, &c, salt++);
    }
    TU_OK(cl, seqk__tune_override(cl, "opencl.attention", NULL));
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* Padded strides (gaps between rows, heads and batches) and a mask with
 * broadcast strides, at the problem level; y's gaps keep their values. */
START_TEST(attention_padded_strides)
{
    seqk_context *cl = make_ctx("opencl");
    const int64_t B = 2, Hq = 4, Hkv = 2, Sq = 13, Skv = 35, Dh = 9, Dv = 6;
    tu_rng r;
    tu_rng_init(&r, 700);
    /* strides: row D+3, head S*row+5, batch H*head+7 */
    const int64_t qss = Dh + 3, qsh = Sq * qss + 5, qsb = Hq * qsh + 7;
    const int64_t kss = Dh + 1, ksh = Skv * kss + 5, ksb = Hkv * ksh + 7;
    const int64_t vss = Dv + 2, vsh = Skv * vss + 5, vsb = Hkv * vsh + 7;
    const int64_t yss = Dv + 3, ysh = Sq * yss + 5, ysb = Hq * ysh + 7;
    const int64_t nq = B * qsb, nk = B * ksb, nv = B * vsb, ny = B * ysb;
    const int64_t nm = Sq * 30;
    float *q = tu_rand(&r, (size_t)nq, -1, 1), *k = tu_rand(&r, (size_t)nk, -1, 1);
    float *v = tu_rand(&r, (size_t)nv, -1, 1), *m = tu_rand(&r, (size_t)nm, -2, 2);
    float *want = tu_rand(&r, (size_t)ny, 5, 6);
    for (int causal = 0; causal <= 2; causal++) {
        seqk_tensor *Q = tu_f32(cl, 1, &nq, q), *K = tu_f32(cl, 1, &nk, k);
        seqk_tensor *V = tu_f32(cl, 1, &nv, v), *M = tu_f32(cl, 1, &nm, m);
        seqk_tensor *Y = tu_f32(cl, 1, &ny, want);
        seqk_attention_problem p = {
            B, Hq, Hkv, Sq, Skv, Dh, Dv, 0.4f, 0.0f, causal != 0,
            causal == 2 ? SEQK_CAUSAL_BOTTOM_RIGHT : SEQK_CAUSAL_TOP_LEFT,
            Q->data, qsb, qsh, qss, K->data, ksb, ksh, kss,
            V->data, vsb, vsh, vss, Y->data, ysb, ysh, yss,
            SEQK_MASK_ADD, M->data, 0, 0, 30, 1, 30};
        TU_OK(cl, seqk__cl_attention(cl, &p));
        float *got = tu_read(Y);
        p.q = q; p.k = k; p.v = v; p.mask = m; p.y = want;
        ck_assert_int_eq(seqk__ref_attention(&p), SEQK_OK);
        TU_ASSERT_CLOSE(got, want, (size_t)ny, 2e-5f, 2e-5f);
        tu_assert_guard(Y);
        free(got);
        seqk_tensor *all[] = {Q, K, V, M, Y};
        for (int i = 0; i < 5; i++)
            seqk_tensor_destroy(all[i]);
    }
    free(q);
    free(k);
    free(v);
    free(m);
    free(want);
    seqk_context_destroy(cl);
}
END_TEST

/* ========================================================= SeqAttention */

typedef struct {
    seqk_score_kind score;
    int64_t B, S, Dq, Dk, Dv, A;
    int lens;      /* 0: none, 1: random incl. 0 and S */
    int weights;   /* weights output given */
    int values;    /* separate values (else keys) */
} sa_case;

static float *sa_run(seqk_context *ctx, const sa_case *c, float *const *x,
                     const int32_t *lens, float **w_out, int guard)
{
    const int64_t dq[2] = {c->B, c->Dq}, dk[3] = {c->B, c->S, c->Dk};
    const int64_t dv[3] = {c->B, c->S, c->Dv}, db[1] = {c->B};
    const int64_t dW[2] = {c->Dq, c->Dk}, dW1[2] = {c->A, c->Dq};
    const int64_t dW2[2] = {c->A, c->Dk}, dA[1] = {c->A};
    const int64_t dL[2] = {c->S, c->Dq};
    const int64_t dc[2] = {c->B, c->Dv}, dw[2] = {c->B, c->S};
    seqk_seq_attention_params p;
    seqk_seq_attention_params_init(&p);
    p.score = c->score;
    seqk_seq_attention_inputs in;
    memset(&in, 0, sizeof in);
    seqk_tensor *t[9] = {0};
    in.query = t[0] = tu_f32(ctx, 2, dq, x[0]);
    in.keys = t[1] = tu_f32(ctx, 3, dk, x[1]);
    if (c->values)
        in.values = t[2] = tu_f32(ctx, 3, dv, x[2]);
    if (c->lens)
        in.key_lens = t[3] = tu_i32(ctx, 1, db, lens);
    if (c->score == SEQK_SCORE_GENERAL)
        in.W = t[4] = tu_f32(ctx, 2, dW, x[3]);
    if (c->score == SEQK_SCORE_ADDITIVE) {
        in.W1 = t[4] = tu_f32(ctx, 2, dW1, x[4]);
        in.W2 = t[5] = tu_f32(ctx, 2, dW2, x[5]);
        in.v = t[6] = tu_f32(ctx, 1, dA, x[6]);
    }
    if (c->score == SEQK_SCORE_LOCATION)
        in.Wloc = t[4] = tu_f32(ctx, 2, dL, x[7]);
    seqk_tensor *C = t[7] = tu_f32(ctx, 2, dc, NULL);
    seqk_tensor *W = c->weights ? (t[8] = tu_f32(ctx, 2, dw, NULL)) : NULL;
    TU_OK(ctx, seqk_seq_attention(ctx, &p, &in, C, W));
    if (guard) {
        tu_assert_guard(C);
        if (W)
            tu_assert_guard(W);
    }
    float *y = tu_read(C);
    *w_out = W ? tu_read(W) : NULL;
    for (int i = 0; i < 9; i++)
        seqk_tensor_destroy(t[i]);
    return y;
}

static void check_seq(seqk_context *cl, seqk_context *ref, const sa_case *c,
                      uint64_t salt)
{
    if (c->score != SEQK_SCORE_ADDITIVE && c->score != SEQK_SCORE_GENERAL)
        ck_assert(c->Dq == c->Dk || c->score == SEQK_SCORE_LOCATION);
    tu_rng r;
    tu_rng_init(&r, salt);
    const size_t n[8] = {
        (size_t)(c->B * c->Dq), (size_t)(c->B * c->S * c->Dk),
        (size_t)(c->B * c->S * c->Dv), (size_t)(c->Dq * c->Dk),
        (size_t)(c->A * c->Dq), (size_t)(c->A * c->Dk), (size_t)c->A,
        (size_t)(c->S * c->Dq)};
    float *x[8];
    for (int i = 0; i < 8; i++)
        x[i] = tu_rand(&r, n[i] + 1, -1.0f, 1.0f);
    int32_t *lens = malloc((size_t)c->B * sizeof *lens + 4);
    ck_assert_ptr_nonnull(lens);
    for (int64_t b = 0; b < c->B; b++)
        lens[b] = b == 0 ? 0 : b == 1 ? (int32_t)c->S
                         : (int32_t)tu_uniform(&r, 0.0f, (float)c->S + 0.99f);
    float *gw, *ww;
    float *got = sa_run(cl, c, x, lens, &gw, 1);
    float *want = sa_run(ref, c, x, lens, &ww, 0);
    const float atol = 3e-6f * sqrtf((float)(c->Dk + c->S + c->A + 1)) *
                       (1.0f + (float)(c->Dk + c->A) / 16.0f);
    char msg[256];
    ck_assert_msg(tu_close(got, want, (size_t)(c->B * c->Dv), atol, 3e-5f,
                           msg, sizeof msg),
                  "%s B%lld S%lld Dq%lld Dk%lld Dv%lld A%lld lens%d context: "
                  "%s", seqk_score_name(c->score), (long long)c->B,
                  (long long)c->S, (long long)c->Dq, (long long)c->Dk,
                  (long long)c->Dv, (long long)c->A, c->lens, msg);
    if (c->weights)
        ck_assert_msg(tu_close(gw, ww, (size_t)(c->B * c->S), atol, 3e-5f,
                               msg, sizeof msg),
                      "%s B%lld S%lld weights: %s", seqk_score_name(c->score),
                      (long long)c->B, (long long)c->S, msg);
    for (int i = 0; i < 8; i++)
        free(x[i]);
    free(lens);
    free(got);
    free(want);
    free(gw);
    free(ww);
}

START_TEST(seq_attention_scores)
{
    seqk_context *cl = make_ctx("opencl"), *ref = make_ctx("ref");
    static const int64_t shapes[][5] = {
        /* B, S, D (Dq = Dk), Dv, A */
        {1, 1, 1, 1, 1},   {3, 7, 3, 2, 5},     {5, 64, 16, 16, 8},
        {4, 130, 65, 9, 33}, {2, 257, 128, 130, 64}, {6, 3, 1, 17, 2},
    };
    const int nshapes = small_only() ? 2 : 6;
    uint64_t salt = 800;
    for (int s = 0; s < nshapes; s++)
        for (int k = SEQK_SCORE_DOT; k <= SEQK_SCORE_LOCATION; k++) {
            sa_case c = {(seqk_score_kind)k, shapes[s][0], shapes[s][1],
                         shapes[s][2], shapes[s][2], shapes[s][3],
                         shapes[s][4], (s + k) % 2, (s + k) % 3 != 0,
                         s % 2};
            if (k == SEQK_SCORE_GENERAL || k == SEQK_SCORE_ADDITIVE ||
                k == SEQK_SCORE_LOCATION)
                c.Dq = shapes[s][2] + 2; /* Dq != Dk */
            if (!c.values)
                c.Dv = c.Dk;
            check_seq(cl, ref, &c, salt++);
            c.lens = !c.lens;
            c.weights = !c.weights;
            check_seq(cl, ref, &c, salt++);
        }
    seqk_context_destroy(cl);
    seqk_context_destroy(ref);
}
END_TEST

/* key_lens in host memory (the problem level allows it), weights NULL. */
START_TEST(seq_attention_host_lens)
{
    seqk_context *cl = make_ctx("opencl");
    const int64_t B = 4, S = 21, D = 6;
    const int32_t lens[4] = {21, 0, 5, 1};
    tu_rng r;
    tu_rng_init(&r, 900);
    float *q = tu_rand(&r, (size_t)(B * D), -1, 1);
    float *k = tu_rand(&r, (size_t)(B * S * D), -1, 1);
    float want[4 * 6];
    const int64_t dq[2] = {B, D}, dk[3] = {B, S, D};
    seqk_tensor *Q = tu_f32(cl, 2, dq, q), *K = tu_f32(cl, 3, dk, k);
    seqk_tensor *C = tu_f32(cl, 2, dq, NULL);
    seqk_seq_attention_problem p;
    memset(&p, 0, sizeof p);
    p.score = SEQK_SCORE_SCALED_DOT;
    p.B = B; p.S = S; p.Dq = D; p.Dk = D; p.Dv = D;
    p.query = Q->data; p.keys = K->data; p.values = K->data;
    p.key_lens = lens;
    p.context = C->data;
    TU_OK(cl, seqk__cl_seq_attention(cl, &p));
    float *got = tu_read(C);
    p.query = q; p.keys = k; p.values = k; p.context = want;
    ck_assert_int_eq(seqk__ref_seq_attention(&p), SEQK_OK);
    TU_ASSERT_CLOSE(got, want, (size_t)(B * D), 1e-5f, 1e-5f);
    tu_assert_guard(C);
    free(got);
    free(q);
    free(k);
    seqk_tensor_destroy(Q);
    seqk_tensor_destroy(K);
    seqk_tensor_destroy(C);
    seqk_context_destroy(cl);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("opencl_attention");
    TCase *tc = tcase_create("opencl_attention");
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
    tcase_add_test(tc, attention_small_features);
    tcase_add_test(tc, attention_configurations);
    tcase_add_test(tc, attention_gpu_limits);
    tcase_add_test(tc, attention_padded_strides);
    tcase_add_test(tc, seq_attention_scores);
    tcase_add_test(tc, seq_attention_host_lens);
    if (!small_only()) {
        tcase_add_test(tc, attention_edge_lengths);
        tcase_add_test(tc, attention_head_sizes);
        tcase_add_test(tc, attention_masks);
        tcase_add_test(tc, attention_scale_softcap);
    }
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
