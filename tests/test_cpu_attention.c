/*
 * test_cpu_attention.c — the "cpu_attention" suite: the CPU SIMD Softmax,
 * Attention and SeqAttention drivers and kernels against the reference
 * kernels, at the problem level (src/core/problems.h), on every CPU SIMD
 * device this machine has.
 *
 * Problems are built here with explicit strides (4-D, 3-D and padded
 * layouts, broadcast masks) and run twice: through the device's backend
 * entry and through src/ref.  Shapes cross the kernels' tile edges (mr = 6
 * query rows, nr = 16/64-key panels, 512-key blocks, 48-row work items,
 * the 32-row switch to packed K^T).  Outputs live in buffers prefilled with
 * a sentinel: every element that is not an output, gaps between strided
 * rows and a guard after the end included, must keep it.  Thread counts 1,
 * 2 and 3 run the same problems and must agree.  Each test is a Check
 * loop test over device indices 1.. (0 is ref itself).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "ref/ref.h"
#include "testutil.h"

#define GUARD 64 /* sentinel floats after every output buffer */

/* A NaN payload no kernel produces: "never written". */
static float sentinel(void)
{
    uint32_t bits = 0x7fa5a5a5u;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static int is_sentinel(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits == 0x7fa5a5a5u;
}

static float *alloc_out(size_t n)
{
    float *x = malloc((n + GUARD) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n + GUARD; i++)
        x[i] = sentinel();
    return x;
}

static void assert_guard(const float *x, size_t n, const char *what)
{
    for (size_t i = n; i < n + GUARD; i++)
        ck_assert_msg(is_sentinel(x[i]), "%s: written %zu past its end",
                      what, i - n);
}

static seqk_context *context_threads(int dev, int threads)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = tu_device(dev);
    o.threads = threads;
    seqk_context *ctx = NULL;
    ck_assert_int_eq(seqk_context_create(&o, &ctx), SEQK_OK);
    return ctx;
}

/* The context's best backend when it is a CPU SIMD one (else NULL: the
 * problem then goes through the dispatcher). */
static const seqk_backend *simd_backend(const seqk_context *ctx)
{
    const seqk_backend *be = ctx->backends[ctx->num_backends - 1];
    return be->kind == SEQK_DEVICE_CPU_SIMD ? be : NULL;
}

static void run_op(seqk_context *ctx, seqk_op op, const void *p)
{
    const seqk_backend *be = simd_backend(ctx);
    seqk_status st;
    if (!be)
        st = seqk__dispatch(ctx, op, p);
    else if (op == SEQK_OP_SOFTMAX)
        st = be->softmax(ctx, be, p);
    else if (op == SEQK_OP_ATTENTION)
        st = be->attention(ctx, be, p);
    else
        st = be->seq_attention(ctx, be, p);
    ck_assert_msg(st == SEQK_OK, "%s on %s: %s", seqk__op_name(op),
                  seqk_context_device(ctx), seqk_last_error(ctx));
}

/* ============================================================= Softmax */

typedef struct {
    int64_t outer, n, inner;
    float lo, hi;      /* input range */
    int neg_inf;       /* every 5th entry -inf */
    int in_place;
} sm_case;

static void check_softmax(int dev, int threads, sm_case c, uint64_t salt)
{
    size_t total = (size_t)(c.outer * c.n * c.inner);
    tu_rng r;
    tu_rng_init(&r, salt);
    float *x = tu_rand(&r, total, c.lo, c.hi);
    if (c.neg_inf)
        for (size_t i = 0; i < total; i += 5)
            x[i] = -INFINITY;
    float *want = alloc_out(total), *got = alloc_out(total);
    seqk_softmax_problem p = {.outer = c.outer, .n = c.n, .inner = c.inner,
                              .X = x, .Y = want};
    ck_assert_int_eq(seqk__ref_softmax(&p), SEQK_OK);
    if (c.in_place) {
        memcpy(got, x, total * sizeof *x);
        p.X = got;
    }
    p.Y = got;
    seqk_context *ctx = context_threads(dev, threads);
    run_op(ctx, SEQK_OP_SOFTMAX, &p);
    /* float sums of n terms against the reference's doubles */
    float rtol = 2e-6f * (1.0f + sqrtf((float)c.n) / 8.0f);
    char msg[256];
    ck_assert_msg(tu_close(got, want, total, 1e-7f, rtol, msg, sizeof msg),
                  "softmax outer %lld n %lld inner %lld threads %d: %s",
                  (long long)c.outer, (long long)c.n, (long long)c.inner,
                  threads, msg);
    assert_guard(got, total, "softmax Y");
    seqk_context_destroy(ctx);
    free(x);
    free(want);
    free(got);
}

static const int64_t sm_lengths[] = {1, 7, 8, 9, 15, 16, 17, 33, 1000};
#define NUM_SM_LENGTHS (int)(sizeof sm_lengths / sizeof sm_lengths[0])

START_TEST(softmax_contiguous_axis)
{
    for (int a = 0; a < NUM_SM_LENGTHS; a++)
        for (int64_t outer = 1; outer <= 3; outer += 2) {
            sm_case c = {outer, sm_lengths[a], 1, -3.0f, 3.0f, 0, 0};
            check_softmax(_i, 1 + a % 3, c, 100 + (uint64_t)a);
        }
}
END_TEST

START_TEST(softmax_strided_axis)
{
    const int64_t inners[] = {2, 7, 16, 17, 65, 130};
    for (int a = 0; a < NUM_SM_LENGTHS; a++)
        for (int b = 0; b < 6; b++) {
            if (sm_lengths[a] * inners[b] > 40000)
                continue;
            sm_case c = {2, sm_lengths[a], inners[b], -3.0f, 3.0f, 0, 0};
            check_softmax(_i, 1 + (a + b) % 3, c, 200 + (uint64_t)(a * 8 + b));
        }
}
END_TEST

/* Inputs near +-80 overflow exp without the max subtraction; -inf entries
 * get weight 0; rows of -inf only give NaN, as the reference does. */
START_TEST(softmax_large_and_neg_inf)
{
    for (int a = 0; a < NUM_SM_LENGTHS; a++) {
        sm_case big = {3, sm_lengths[a], 1, -90.0f, 90.0f, 0, 0};
        check_softmax(_i, 1, big, 300 + (uint64_t)a);
        big.inner = 5;
        check_softmax(_i, 2, big, 310 + (uint64_t)a);
        sm_case ninf = {4, sm_lengths[a], 1, -2.0f, 2.0f, 1, 0};
        check_softmax(_i, 3, ninf, 320 + (uint64_t)a);
        ninf.inner = 19;
        check_softmax(_i, 1, ninf, 330 + (uint64_t)a);
    }
}
END_TEST

/* Big enough (> 32768 elements) that 2 and 3 threads really split it. */
START_TEST(softmax_in_place_and_threads)
{
    sm_case c = {300, 129, 1, -5.0f, 5.0f, 0, 1};
    for (int t = 1; t <= 3; t++) {
        check_softmax(_i, t, c, 400);
        sm_case s = {3, 300, 41, -5.0f, 5.0f, 0, 1};
        check_softmax(_i, t, s, 401);
    }
}
END_TEST

/* =========================================================== Attention */

enum { L4D = 0, L3D, LPAD }; /* [B,H,S,D], [B,S,H*D], 4-D with gaps */
enum { NO_CAUSAL = 0, TOP_LEFT, BOTTOM_RIGHT };
enum { BC_B = 1, BC_H = 2, BC_Q = 4, BC_K = 8 }; /* mask dims broadcast */

typedef struct {
    int64_t B, Hq, Hkv, Sq, Skv, Dh, Dv;
    int layout, causal;
    float scale, softcap;
    seqk_mask_kind mask;
    int bcast;            /* BC_* bits */
    int64_t mask_kv_len;  /* < 0: Skv */
    float keep;           /* bool: fraction attended; add: fraction finite */
    float range;          /* q and k in [-range, range] */
} at_case;

static at_case at_default(void)
{
    at_case c = {1, 2, 1, 37, 65, 17, 7, L4D, NO_CAUSAL, 0.3f, 0.0f,
                 SEQK_MASK_NONE, 0, -1, 0.7f, 1.5f};
    return c;
}

typedef struct {
    int64_t sb, sh, ss, size; /* strides and the elements they span */
} layout;

static layout make_layout(int kind, int64_t B, int64_t H, int64_t S,
                          int64_t D)
{
    layout l;
    if (kind == L3D) {
        l.sh = D;
        l.ss = H * D;
        l.sb = S * H * D;
    } else if (kind == LPAD) {
        l.ss = D + 3;
        l.sh = S * l.ss + 5;
        l.sb = H * l.sh + 7;
    } else {
        l.ss = D;
        l.sh = S * D;
        l.sb = H * S * D;
    }
    l.size = (B - 1) * l.sb + (H - 1) * l.sh + (S - 1) * l.ss + D;
    if (B == 0 || H == 0 || S == 0 || D == 0)
        l.size = 0;
    return l;
}

/* Tolerance: float scores and sums against the reference's doubles. */
static float at_atol(const at_case *c)
{
    float big = c->range * c->range * (float)c->Dh * fabsf(c->scale);
    return 2e-6f * sqrtf((float)(c->Dh + c->Skv + 1)) * (1.0f + big / 8);
}

/* Runs case c on device dev with the given thread count, checks it against
 * the reference, and returns the device's output (malloc'd, y layout). */
static float *check_attention(int dev, int threads, const at_case *c,
                              uint64_t salt)
{
    layout lq = make_layout(c->layout, c->B, c->Hq, c->Sq, c->Dh);
    layout lk = make_layout(c->layout, c->B, c->Hkv, c->Skv, c->Dh);
    layout lv = make_layout(c->layout, c->B, c->Hkv, c->Skv, c->Dv);
    layout ly = make_layout(c->layout, c->B, c->Hq, c->Sq, c->Dv);
    tu_rng r;
    tu_rng_init(&r, salt);
    float *q = tu_rand(&r, (size_t)lq.size, -c->range, c->range);
    float *k = tu_rand(&r, (size_t)lk.size, -c->range, c->range);
    float *v = tu_rand(&r, (size_t)lv.size, -1.0f, 1.0f);

    seqk_attention_problem p;
    memset(&p, 0, sizeof p);
    p.B = c->B; p.Hq = c->Hq; p.Hkv = c->Hkv; p.Sq = c->Sq; p.Skv = c->Skv;
    p.Dh = c->Dh; p.Dv = c->Dv;
    p.scale = c->scale;
    p.softcap = c->softcap;
    p.is_causal = c->causal != NO_CAUSAL;
    p.causal_align = c->causal == BOTTOM_RIGHT ? SEQK_CAUSAL_BOTTOM_RIGHT
                                               : SEQK_CAUSAL_TOP_LEFT;
    p.q = q; p.q_sb = lq.sb; p.q_sh = lq.sh; p.q_ss = lq.ss;
    p.k = k; p.k_sb = lk.sb; p.k_sh = lk.sh; p.k_ss = lk.ss;
    p.v = v; p.v_sb = lv.sb; p.v_sh = lv.sh; p.v_ss = lv.ss;
    p.y_sb = ly.sb; p.y_sh = ly.sh; p.y_ss = ly.ss;

    /* mask: dense over the dims that are not broadcast, keys padded to
     * mask_kv_len */
    void *mask = NULL;
    p.mask_kind = c->mask;
    if (c->mask != SEQK_MASK_NONE) {
        int64_t L = c->mask_kv_len < 0 ? c->Skv : c->mask_kv_len;
        int64_t nk = c->bcast & BC_K ? 1 : L;
        int64_t nq = c->bcast & BC_Q ? 1 : c->Sq;
        int64_t nh = c->bcast & BC_H ? 1 : c->Hq;
        int64_t nb = c->bcast & BC_B ? 1 : c->B;
        p.m_sk = c->bcast & BC_K ? 0 : 1;
        p.m_sq = c->bcast & BC_Q ? 0 : nk;
        p.m_sh = c->bcast & BC_H ? 0 : nq * nk;
        p.m_sb = c->bcast & BC_B ? 0 : nh * nq * nk;
        p.mask_kv_len = L;
        size_t count = (size_t)(nb * nh * nq * nk);
        if (c->mask == SEQK_MASK_BOOL) {
            uint8_t *m = malloc(count + 1);
            ck_assert_ptr_nonnull(m);
            for (size_t i = 0; i < count; i++)
                m[i] = tu_uniform(&r, 0, 1) < c->keep;
            mask = m;
        } else {
            float *m = tu_rand(&r, count, -2.0f, 2.0f);
            for (size_t i = 0; i < count; i++)
                if (tu_uniform(&r, 0, 1) >= c->keep)
                    m[i] = -INFINITY;
            mask = m;
        }
    }
    p.mask = mask;

    size_t ny = (size_t)ly.size;
    float *want = alloc_out(ny), *got = alloc_out(ny);
    p.y = want;
    ck_assert_int_eq(seqk__ref_attention(&p), SEQK_OK);
    p.y = got;
    seqk_context *ctx = context_threads(dev, threads);
    run_op(ctx, SEQK_OP_ATTENTION, &p);

    float atol = at_atol(c);
    for (int64_t b = 0; b < c->B; b++)
        for (int64_t h = 0; h < c->Hq; h++)
            for (int64_t i = 0; i < c->Sq; i++) {
                size_t o = (size_t)(b * ly.sb + h * ly.sh + i * ly.ss);
                char msg[256];
                ck_assert_msg(
                    tu_close(got + o, want + o, (size_t)c->Dv, atol, 1e-4f,
                             msg, sizeof msg),
                    "B%lld Hq%lld Hkv%lld Sq%lld Skv%lld Dh%lld Dv%lld "
                    "layout %d causal %d mask %d/%d kvlen %lld softcap %g "
                    "threads %d, row b%lld h%lld i%lld: %s",
                    (long long)c->B, (long long)c->Hq, (long long)c->Hkv,
                    (long long)c->Sq, (long long)c->Skv, (long long)c->Dh,
                    (long long)c->Dv, c->layout, c->causal, (int)c->mask,
                    c->bcast, (long long)c->mask_kv_len, (double)c->softcap,
                    threads, (long long)b, (long long)h, (long long)i, msg);
                for (int64_t d = 0; d < c->Dv; d++)
                    ck_assert_msg(!isnan(got[o + (size_t)d]),
                                  "NaN at row b%lld h%lld i%lld",
                                  (long long)b, (long long)h, (long long)i);
            }
    /* everything else, gaps and guard included, untouched */
    for (size_t e = 0; e < ny; e++)
        if (is_sentinel(want[e]))
            ck_assert_msg(is_sentinel(got[e]),
                          "element %zu of Y is not an output but was "
                          "written", e);
    assert_guard(got, ny, "attention Y");

    seqk_context_destroy(ctx);
    free(q);
    free(k);
    free(v);
    free(mask);
    free(want);
    return got;
}

static void attention_ok(int dev, int threads, const at_case *c,
                         uint64_t salt)
{
    free(check_attention(dev, threads, c, salt));
}

/* Sq and Skv across every tile edge, both score paths. */
START_TEST(attention_sequence_lengths)
{
    const int64_t sq[] = {1, 5, 6, 7, 31, 32, 37, 47, 48, 49, 300};
    const int64_t skv[] = {1,  15,  16,  17,  63,  64, 65,
                           300, 511, 512, 513, 1100};
    int n = 0;
    for (int a = 0; a < 11; a++)
        for (int b = 0; b < 12; b++, n++) {
            at_case c = at_default();
            c.Sq = sq[a];
            c.Skv = skv[b];
            c.Hq = 2;
            c.Hkv = 2;
            attention_ok(_i, 1 + n % 3, &c, 1000 + (uint64_t)n);
        }
}
END_TEST

/* Head dims across the vector widths and the 64-column context tile. */
START_TEST(attention_head_dims)
{
    const int64_t dims[] = {1, 7, 8, 16, 17, 64, 80};
    int n = 0;
    for (int a = 0; a < 7; a++)
        for (int b = 0; b < 7; b++, n++) {
            at_case c = at_default();
            c.Dh = dims[a];
            c.Dv = dims[b];
            c.scale = 1.0f / sqrtf((float)c.Dh);
            c.Sq = n % 2 ? 37 : 7; /* packed and unpacked K */
            c.Skv = 70;
            attention_ok(_i, 1 + n % 3, &c, 2000 + (uint64_t)n);
        }
}
END_TEST

/* Grouped-query head counts in every layout. */
START_TEST(attention_heads_and_layouts)
{
    const int64_t heads[4][2] = {{1, 1}, {4, 4}, {8, 2}, {6, 1}};
    int n = 0;
    for (int h = 0; h < 4; h++)
        for (int l = L4D; l <= LPAD; l++)
            for (int64_t sq = 5; sq <= 50; sq += 45, n++) {
                at_case c = at_default();
                c.B = 2;
                c.Hq = heads[h][0];
                c.Hkv = heads[h][1];
                c.layout = l;
                c.Sq = sq;
                c.Skv = 133;
                c.Dh = 16;
                c.Dv = 24;
                c.causal = n % 3;
                attention_ok(_i, 1 + n % 3, &c, 3000 + (uint64_t)n);
            }
}
END_TEST

/* Both alignments with Sq <, ==, > Skv, across blocks. */
START_TEST(attention_causal)
{
    const int64_t sizes[][2] = {{300, 300}, {100, 300}, {300, 100},
                                {49, 130},  {130, 49},  {1, 1},
                                {7, 3},     {3, 7},     {64, 64},
                                {700, 700}, {200, 1100}, {1100, 200}};
    int n = 0;
    for (int s = 0; s < 12; s++)
        for (int al = TOP_LEFT; al <= BOTTOM_RIGHT; al++, n++) {
            at_case c = at_default();
            c.Sq = sizes[s][0];
            c.Skv = sizes[s][1];
            c.causal = al;
            c.Dh = 32;
            c.Dv = 20;
            attention_ok(_i, 1 + n % 3, &c, 4000 + (uint64_t)n);
        }
}
END_TEST

/* Every mask kind and broadcast pattern, short masks, with and without
 * causal. */
START_TEST(attention_masks)
{
    int n = 0;
    for (int kind = SEQK_MASK_BOOL; kind <= SEQK_MASK_ADD; kind++)
        for (int bc = 0; bc < 16; bc++)
            for (int shortm = 0; shortm < 2; shortm++, n++) {
                at_case c = at_default();
                c.B = 2;
                c.Hq = 4;
                c.Hkv = 2;
                c.mask = (seqk_mask_kind)kind;
                c.bcast = bc;
                c.Sq = n % 2 ? 50 : 9;
                c.Skv = 140;
                c.mask_kv_len = shortm ? 77 : -1;
                c.causal = n % 3;
                c.layout = n % 3 == 2 ? LPAD : L4D;
                attention_ok(_i, 1 + n % 3, &c, 5000 + (uint64_t)n);
            }
}
END_TEST

/* Rows with nothing to attend give 0: sparse bool masks, all -inf
 * additive rows, an empty mask, bottom-right causal with Sq > Skv. */
START_TEST(attention_empty_rows)
{
    int n = 0;
    for (int kind = SEQK_MASK_BOOL; kind <= SEQK_MASK_ADD; kind++)
        for (int t = 0; t < 4; t++, n++) {
            at_case c = at_default();
            c.mask = (seqk_mask_kind)kind;
            c.Sq = t % 2 ? 40 : 12;
            c.Skv = t < 2 ? 6 : 150;
            c.keep = 0.08f; /* most rows of 6 keys have none */
            attention_ok(_i, 1 + t % 3, &c, 6000 + (uint64_t)n);
            c.keep = 0.0f; /* every row empty */
            attention_ok(_i, 1 + t % 3, &c, 6100 + (uint64_t)n);
            c.keep = 0.7f;
            c.mask_kv_len = 0; /* all keys padded out */
            attention_ok(_i, 1 + t % 3, &c, 6200 + (uint64_t)n);
        }
    at_case br = at_default();
    br.causal = BOTTOM_RIGHT;
    br.Sq = 120;
    br.Skv = 50;
    float *y = check_attention(_i, 2, &br, 6300);
    for (int64_t h = 0; h < br.Hq; h++)
        for (int64_t i = 0; i < br.Sq - br.Skv; i++)
            for (int64_t d = 0; d < br.Dv; d++)
                ck_assert_float_eq(y[(h * br.Sq + i) * br.Dv + d], 0.0f);
    free(y);
}
END_TEST

/* softcap before the mask; large scores test the running max. */
START_TEST(attention_softcap_and_large_scores)
{
    int n = 0;
    for (int cap = 0; cap < 3; cap++)
        for (int big = 0; big < 2; big++, n++) {
            at_case c = at_default();
            c.softcap = cap == 0 ? 0.0f : cap == 1 ? 0.7f : 30.0f;
            c.range = big ? 6.0f : 1.5f;
            c.Dh = 64;
            c.scale = 0.125f;
            c.Sq = 60;
            c.Skv = 300;
            c.mask = n % 2 ? SEQK_MASK_ADD : SEQK_MASK_BOOL;
            c.causal = n % 3;
            attention_ok(_i, 1 + n % 3, &c, 7000 + (uint64_t)n);
        }
}
END_TEST

/* Degenerate sizes: no keys, head dim 0 with a given scale. */
START_TEST(attention_degenerate)
{
    at_case c = at_default();
    c.Skv = 0;
    attention_ok(_i, 2, &c, 7500);
    c = at_default();
    c.Dv = 0;
    attention_ok(_i, 2, &c, 7501);
    c = at_default();
    c.Dh = 0;
    attention_ok(_i, 2, &c, 7502);
}
END_TEST

/* 1, 2 and 3 threads give the same results. */
START_TEST(attention_thread_counts)
{
    at_case c = at_default();
    c.B = 2;
    c.Hq = 3;
    c.Hkv = 1;
    c.Sq = 300;
    c.Skv = 257;
    c.Dh = 64;
    c.Dv = 64;
    c.causal = BOTTOM_RIGHT;
    c.mask = SEQK_MASK_ADD;
    c.bcast = BC_B | BC_H;
    size_t ny = (size_t)make_layout(L4D, c.B, c.Hq, c.Sq, c.Dv).size;
    float *y1 = check_attention(_i, 1, &c, 8000);
    for (int t = 2; t <= 3; t++) {
        float *yt = check_attention(_i, t, &c, 8000);
        TU_ASSERT_CLOSE(yt, y1, ny, 1e-6f, 1e-5f);
        free(yt);
    }
    free(y1);
}
END_TEST

/* ======================================================== SeqAttention */

typedef struct {
    seqk_score_kind score;
    int64_t B, S, Dq, Dk, Dv, A;
    int lens;     /* key_lens: 0 NULL, 1 mixed incl. 0 and S */
    int values;   /* values given (else = keys) */
    int weights;  /* weights wanted */
    int zeros;    /* cosine: zero query / key rows */
} sa_case;

static float *check_seq_attention(int dev, int threads, const sa_case *c,
                                  uint64_t salt)
{
    tu_rng r;
    tu_rng_init(&r, salt);
    size_t nq = (size_t)(c->B * c->Dq), nk = (size_t)(c->B * c->S * c->Dk);
    size_t nv = (size_t)(c->B * c->S * c->Dv);
    float *q = tu_rand(&r, nq, -1.0f, 1.0f);
    float *k = tu_rand(&r, nk, -1.0f, 1.0f);
    float *v = c->values ? tu_rand(&r, nv, -1.0f, 1.0f) : NULL;
    float *W = tu_rand(&r, (size_t)(c->Dq * c->Dk), -0.5f, 0.5f);
    float *W1 = tu_rand(&r, (size_t)(c->A * c->Dq), -0.5f, 0.5f);
    float *W2 = tu_rand(&r, (size_t)(c->A * c->Dk), -0.5f, 0.5f);
    float *va = tu_rand(&r, (size_t)c->A, -1.0f, 1.0f);
    float *Wloc = tu_rand(&r, (size_t)(c->S * c->Dq), -0.5f, 0.5f);
    int32_t *lens = malloc((size_t)c->B * sizeof *lens + 1);
    ck_assert_ptr_nonnull(lens);
    for (int64_t b = 0; b < c->B; b++) {
        const int64_t pick[5] = {0, c->S, 1, c->S / 2, c->S - 1};
        lens[b] = (int32_t)pick[b % 5];
    }
    if (c->zeros) {
        memset(q, 0, (size_t)c->Dq * sizeof *q);      /* batch row 0 */
        memset(k + (size_t)((c->B > 1 ? c->S : 0) * c->Dk), 0,
               (size_t)c->Dk * sizeof *k);            /* a key of row 1 */
    }

    seqk_seq_attention_problem p;
    memset(&p, 0, sizeof p);
    p.score = c->score;
    p.B = c->B; p.S = c->S; p.Dq = c->Dq; p.Dk = c->Dk;
    p.Dv = c->values ? c->Dv : c->Dk;
    p.A = c->score == SEQK_SCORE_ADDITIVE ? c->A : 0;
    p.query = q;
    p.keys = k;
    p.values = c->values ? v : k;
    p.key_lens = c->lens ? lens : NULL;
    p.W = W; p.W1 = W1; p.W2 = W2; p.v = va; p.Wloc = Wloc;

    size_t nc = (size_t)(c->B * p.Dv), nw = (size_t)(c->B * c->S);
    float *ctx_want = alloc_out(nc), *w_want = alloc_out(nw);
    float *ctx_got = alloc_out(nc), *w_got = alloc_out(nw);
    p.context = ctx_want;
    p.weights = w_want;
    ck_assert_int_eq(seqk__ref_seq_attention(&p), SEQK_OK);
    p.context = ctx_got;
    p.weights = c->weights ? w_got : NULL;
    seqk_context *ctx = context_threads(dev, threads);
    run_op(ctx, SEQK_OP_SEQ_ATTENTION, &p);

    int64_t red = c->Dq + c->Dk + c->A + c->S;
    float atol = 3e-6f * sqrtf((float)red);
    char msg[256];
    ck_assert_msg(tu_close(ctx_got, ctx_want, nc, atol, 1e-4f, msg,
                           sizeof msg),
                  "context: score %s B%lld S%lld Dq%lld Dk%lld Dv%lld A%lld "
                  "lens %d values %d threads %d: %s",
                  seqk_score_name(c->score), (long long)c->B,
                  (long long)c->S, (long long)c->Dq, (long long)c->Dk,
                  (long long)p.Dv, (long long)p.A, c->lens, c->values,
                  threads, msg);
    assert_guard(ctx_got, nc, "context");
    if (c->weights) {
        ck_assert_msg(tu_close(w_got, w_want, nw, atol, 1e-4f, msg,
                               sizeof msg),
                      "weights: score %s S%lld D%lld lens %d: %s",
                      seqk_score_name(c->score), (long long)c->S,
                      (long long)c->Dk, c->lens, msg);
        /* exactly 0 past each length */
        for (int64_t b = 0; c->lens && b < c->B; b++)
            for (int64_t s = lens[b]; s < c->S; s++)
                ck_assert_msg(w_got[b * c->S + s] == 0.0f,
                              "weight b%lld s%lld past length %d is %g",
                              (long long)b, (long long)s, lens[b],
                              (double)w_got[b * c->S + s]);
    } else {
        for (size_t e = 0; e < nw + GUARD; e++)
            ck_assert(is_sentinel(w_got[e]));
    }
    assert_guard(w_got, nw, "weights");

    seqk_context_destroy(ctx);
    free(q); free(k); free(v); free(W); free(W1); free(W2); free(va);
    free(Wloc); free(lens); free(ctx_want); free(w_want); free(w_got);
    return ctx_got;
}

START_TEST(seq_attention_all_scores)
{
    const int64_t seqs[] = {1, 7, 16, 33, 300};
    const int64_t dims[] = {1, 8, 17, 64};
    int n = 0;
    for (int sc = SEQK_SCORE_DOT; sc <= SEQK_SCORE_LOCATION; sc++)
        for (int s = 0; s < 5; s++)
            for (int d = 0; d < 4; d++)
                for (int lv = 0; lv < 4; lv++, n++) {
                    sa_case c = {(seqk_score_kind)sc, 5, seqs[s], dims[d],
                                 dims[d], 0, 0, lv & 1, lv >> 1, n % 2, 0};
                    /* general/location/additive: Dq, Dk and Dv apart */
                    if (sc == SEQK_SCORE_GENERAL ||
                        sc == SEQK_SCORE_ADDITIVE ||
                        sc == SEQK_SCORE_LOCATION)
                        c.Dk = dims[d] + 3;
                    c.Dv = dims[(d + 1) % 4] + 2;
                    c.A = n % 3 == 0 ? 1 : n % 3 == 1 ? 13 : 70;
                    free(check_seq_attention(_i, 1 + n % 3, &c,
                                             9000 + (uint64_t)n));
                }
}
END_TEST

START_TEST(seq_attention_cosine_zero_norms)
{
    for (int lens = 0; lens < 2; lens++) {
        sa_case c = {SEQK_SCORE_COSINE, 4, 9, 17, 17, 5, 0, lens, 1, 1, 1};
        free(check_seq_attention(_i, 1, &c, 9900 + (uint64_t)lens));
    }
}
END_TEST

START_TEST(seq_attention_thread_counts)
{
    for (int sc = SEQK_SCORE_DOT; sc <= SEQK_SCORE_LOCATION; sc++) {
        sa_case c = {(seqk_score_kind)sc, 23, 50, 64, 64, 48, 96, 1, 1, 1,
                     0};
        float *c1 = check_seq_attention(_i, 1, &c, 9950);
        for (int t = 2; t <= 3; t++) {
            float *ct = check_seq_attention(_i, t, &c, 9950);
            TU_ASSERT_CLOSE(ct, c1, (size_t)(c.B * c.Dv), 1e-6f, 1e-5f);
            free(ct);
        }
        free(c1);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu_attention");
    TCase *tc = tcase_create("cpu_attention");
    tcase_set_timeout(tc, 300);
    int n = tu_device_count();
    if (n < 2) {
        /* only ref here: nothing to compare */
        return 77;
    }
    tcase_add_loop_test(tc, softmax_contiguous_axis, 1, n);
    tcase_add_loop_test(tc, softmax_strided_axis, 1, n);
    tcase_add_loop_test(tc, softmax_large_and_neg_inf, 1, n);
    tcase_add_loop_test(tc, softmax_in_place_and_threads, 1, n);
    tcase_add_loop_test(tc, attention_sequence_lengths, 1, n);
    tcase_add_loop_test(tc, attention_head_dims, 1, n);
    tcase_add_loop_test(tc, attention_heads_and_layouts, 1, n);
    tcase_add_loop_test(tc, attention_causal, 1, n);
    tcase_add_loop_test(tc, attention_masks, 1, n);
    tcase_add_loop_test(tc, attention_empty_rows, 1, n);
    tcase_add_loop_test(tc, attention_softcap_and_large_scores, 1, n);
    tcase_add_loop_test(tc, attention_degenerate, 1, n);
    tcase_add_loop_test(tc, attention_thread_counts, 1, n);
    tcase_add_loop_test(tc, seq_attention_all_scores, 1, n);
    tcase_add_loop_test(tc, seq_attention_cosine_zero_norms, 1, n);
    tcase_add_loop_test(tc, seq_attention_thread_counts, 1, n);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
