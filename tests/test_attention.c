/*
 * test_attention.c — the "attention" suite, part 1: ONNX Attention-23
 * (seqk_attention) on every available device.
 *
 * Every check compares against something computed here without the
 * library: hand-worked cases, and naive(), a dense triple loop over 4-D
 * arrays with the mask already expanded to [B,Hq,Sq,Skv].  Equivalences
 * the ONNX spec implies are checked too: is_causal = a lower-triangular
 * mask, grouped-query = multi-head with the kv heads repeated, 3-D = 4-D
 * on transposed data, a broadcast mask = the dense mask it stands for.
 * Each test is a Check loop test: iteration _i runs on device _i.
 * SeqAttention is tested in test_seq_attention.c (part 2).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

TCase *seq_attention_tcase(void); /* test_seq_attention.c */

#define ATOL 2e-6f
#define RTOL 2e-5f

typedef struct {
    int64_t B, Hq, Hkv, Sq, Skv, Dh, Dv;
} shape;

enum { NO_CAUSAL = 0, TOP_LEFT, BOTTOM_RIGHT };

static size_t q_count(shape s) { return (size_t)(s.B * s.Hq * s.Sq * s.Dh); }
static size_t k_count(shape s) { return (size_t)(s.B * s.Hkv * s.Skv * s.Dh); }
static size_t v_count(shape s) { return (size_t)(s.B * s.Hkv * s.Skv * s.Dv); }
static size_t y_count(shape s) { return (size_t)(s.B * s.Hq * s.Sq * s.Dv); }
static size_t m_count(shape s) { return (size_t)(s.B * s.Hq * s.Sq * s.Skv); }

/* Independent dense attention on 4-D arrays.  bias: NULL or additive
 * [B,Hq,Sq,Skv] (-INFINITY excludes a key).  Rows left without keys give 0. */
static void naive(shape s, const float *q, const float *k, const float *v,
                  const float *bias, float scale, float softcap, int causal,
                  float *y)
{
    double *x = malloc((size_t)(s.Skv + 1) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int64_t b = 0; b < s.B; b++)
    for (int64_t h = 0; h < s.Hq; h++)
    for (int64_t i = 0; i < s.Sq; i++) {
        int64_t g = h / (s.Hq / s.Hkv);
        const float *qi = q + ((b * s.Hq + h) * s.Sq + i) * s.Dh;
        float *yi = y + ((b * s.Hq + h) * s.Sq + i) * s.Dv;
        double top = -INFINITY, sum = 0.0;
        for (int64_t j = 0; j < s.Skv; j++) {
            const float *kj = k + ((b * s.Hkv + g) * s.Skv + j) * s.Dh;
            double dot = 0.0;
            for (int64_t d = 0; d < s.Dh; d++)
                dot += (double)qi[d] * kj[d];
            x[j] = dot * scale;
            if (softcap > 0)
                x[j] = softcap * tanh(x[j] / softcap);
            if (bias)
                x[j] += bias[((b * s.Hq + h) * s.Sq + i) * s.Skv + j];
            if ((causal == TOP_LEFT && j > i) ||
                (causal == BOTTOM_RIGHT && j > i + s.Skv - s.Sq))
                x[j] = -INFINITY;
            top = fmax(top, x[j]);
        }
        for (int64_t d = 0; d < s.Dv; d++)
            yi[d] = 0.0f;
        if (top == -INFINITY)
            continue;
        for (int64_t j = 0; j < s.Skv; j++)
            sum += exp(x[j] - top);
        for (int64_t j = 0; j < s.Skv; j++) {
            const float *vj = v + ((b * s.Hkv + g) * s.Skv + j) * s.Dv;
            double w = exp(x[j] - top) / sum;
            for (int64_t d = 0; d < s.Dv; d++)
                yi[d] += (float)(w * vj[d]);
        }
    }
    free(x);
}

/* Destroys the tensors listed: DESTROY(a, b, c). */
static void destroy_n(size_t n, seqk_tensor *const *t)
{
    for (size_t i = 0; i < n; i++)
        seqk_tensor_destroy(t[i]);
}
#define DESTROY(...)                                                        \
    destroy_n(sizeof((seqk_tensor *[]){__VA_ARGS__}) / sizeof(seqk_tensor *), \
              (seqk_tensor *[]){__VA_ARGS__})

static seqk_attention_params params(float scale, int causal)
{
    seqk_attention_params p;
    seqk_attention_params_init(&p);
    p.scale = scale;
    p.is_causal = causal != NO_CAUSAL;
    p.causal_align = causal == BOTTOM_RIGHT ? SEQK_CAUSAL_BOTTOM_RIGHT
                                            : SEQK_CAUSAL_TOP_LEFT;
    return p;
}

/* Runs seqk_attention on 4-D tensors made from the arrays; returns Y. */
static float *run4(seqk_context *ctx, const seqk_attention_params *p,
                   shape s, const float *q, const float *k, const float *v,
                   const seqk_tensor *mask)
{
    const int64_t qd[4] = {s.B, s.Hq, s.Sq, s.Dh};
    const int64_t kd[4] = {s.B, s.Hkv, s.Skv, s.Dh};
    const int64_t vd[4] = {s.B, s.Hkv, s.Skv, s.Dv};
    const int64_t yd[4] = {s.B, s.Hq, s.Sq, s.Dv};
    seqk_tensor *Q = tu_f32(ctx, 4, qd, q), *K = tu_f32(ctx, 4, kd, k);
    seqk_tensor *V = tu_f32(ctx, 4, vd, v), *Y = tu_f32(ctx, 4, yd, NULL);
    TU_OK(ctx, seqk_attention(ctx, p, Q, K, V, mask, Y));
    tu_assert_guard(Y);
    float *y = tu_read(Y);
    DESTROY(Q, K, V, Y);
    return y;
}

typedef struct {
    float *q, *k, *v, *want;
} data;

static data random_data(shape s, uint64_t salt)
{
    tu_rng r;
    tu_rng_init(&r, salt);
    data d;
    d.q = tu_rand(&r, q_count(s), -1.5f, 1.5f);
    d.k = tu_rand(&r, k_count(s), -1.5f, 1.5f);
    d.v = tu_rand(&r, v_count(s), -1.0f, 1.0f);
    d.want = malloc(y_count(s) * sizeof(float) + 1);
    ck_assert_ptr_nonnull(d.want);
    return d;
}

static void free_data(data *d)
{
    free(d->q);
    free(d->k);
    free(d->v);
    free(d->want);
}

/* ------------------------------------------------------------ hand cases */

/* One query, two keys whose scores differ by ln 3: weights 1/4 and 3/4. */
START_TEST(hand_two_keys)
{
    seqk_context *ctx = tu_context(_i);
    const float l3 = logf(3.0f);

    /* scale 1, Dh 1: scores 0 and ln 3 */
    shape s1 = {1, 1, 1, 1, 2, 1, 2};
    const float q1[] = {1.0f}, k1[] = {0.0f, l3};
    const float v[] = {4.0f, -1.0f, 8.0f, 3.0f};
    const float want[] = {7.0f, 2.0f}; /* .25*(4,-1) + .75*(8,3) */
    seqk_attention_params p = params(1.0f, NO_CAUSAL);
    float *y = run4(ctx, &p, s1, q1, k1, v, NULL);
    TU_ASSERT_CLOSE(y, want, 2, ATOL, RTOL);
    free(y);

    /* default scale 1/sqrt(4) = 1/2: q.k1 = 4 * (ln3/2), halved: ln 3 */
    shape s4 = {1, 1, 1, 1, 2, 4, 2};
    const float q4[] = {1, 1, 1, 1};
    const float k4[] = {0, 0, 0, 0, l3 / 2, l3 / 2, l3 / 2, l3 / 2};
    p = params(0.0f, NO_CAUSAL);
    y = run4(ctx, &p, s4, q4, k4, v, NULL);
    TU_ASSERT_CLOSE(y, want, 2, ATOL, RTOL);
    free(y);

    /* params NULL means the defaults */
    y = run4(ctx, NULL, s4, q4, k4, v, NULL);
    TU_ASSERT_CLOSE(y, want, 2, ATOL, RTOL);
    free(y);
    seqk_context_destroy(ctx);
}
END_TEST

/* softcap c: score c*tanh(x/c).  x = 10, 0 with c = 1 gives tanh(10), 0. */
START_TEST(hand_softcap)
{
    seqk_context *ctx = tu_context(_i);
    shape s = {1, 1, 1, 1, 2, 1, 1};
    const float q[] = {1.0f}, k[] = {10.0f, 0.0f}, v[] = {1.0f, 0.0f};
    seqk_attention_params p = params(1.0f, NO_CAUSAL);
    p.softcap = 1.0f;
    float *y = run4(ctx, &p, s, q, k, v, NULL);
    float want = (float)(1.0 / (1.0 + exp(-tanh(10.0))));
    TU_ASSERT_CLOSE(y, &want, 1, ATOL, RTOL);
    free(y);
    seqk_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------- vs naive() */

START_TEST(one_head_matches_naive)
{
    seqk_context *ctx = tu_context(_i);
    shape s = {2, 1, 1, 3, 5, 4, 3};
    data d = random_data(s, 1);
    const float scales[] = {0.0f, 0.3f, -0.7f};
    for (int t = 0; t < 3; t++) {
        seqk_attention_params p = params(scales[t], NO_CAUSAL);
        float *y = run4(ctx, &p, s, d.q, d.k, d.v, NULL);
        naive(s, d.q, d.k, d.v, NULL, t ? scales[t] : 0.5f, 0, 0, d.want);
        TU_ASSERT_CLOSE(y, d.want, y_count(s), ATOL, RTOL);
        free(y);
    }
    free_data(&d);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(softcap_matches_naive)
{
    seqk_context *ctx = tu_context(_i);
    shape s = {2, 2, 1, 3, 4, 3, 2};
    data d = random_data(s, 2);
    tu_rng r;
    tu_rng_init(&r, 22);
    /* a bool mask: softcap comes first, so excluded keys stay excluded */
    uint8_t *m = malloc(m_count(s));
    float *bias = malloc(m_count(s) * sizeof *bias);
    for (size_t i = 0; i < m_count(s); i++) {
        m[i] = tu_uniform(&r, 0, 1) < 0.7f;
        bias[i] = m[i] ? 0.0f : -INFINITY;
    }
    const int64_t md[4] = {s.B, s.Hq, s.Sq, s.Skv};
    seqk_tensor *M = tu_bool(ctx, 4, md, m);
    seqk_attention_params p = params(2.0f, NO_CAUSAL);
    p.softcap = 0.5f;
    float *y = run4(ctx, &p, s, d.q, d.k, d.v, M);
    naive(s, d.q, d.k, d.v, bias, 2.0f, 0.5f, 0, d.want);
    TU_ASSERT_CLOSE(y, d.want, y_count(s), ATOL, RTOL);
    free(y);
    seqk_tensor_destroy(M);
    free(m);
    free(bias);
    free_data(&d);
    seqk_context_destroy(ctx);
}
END_TEST

/* ---------------------------------------------------------------- causal */

/* is_causal equals an explicit lower-triangular bool mask, for both
 * alignments, with Sq < Skv, Sq > Skv and Sq == Skv. */
START_TEST(causal_is_triangular_mask)
{
    seqk_context *ctx = tu_context(_i);
    const int64_t sizes[3][2] = {{3, 5}, {5, 3}, {4, 4}};
    for (int c = 0; c < 3; c++)
    for (int align = TOP_LEFT; align <= BOTTOM_RIGHT; align++) {
        shape s = {2, 2, 2, sizes[c][0], sizes[c][1], 3, 2};
        int64_t off = align == BOTTOM_RIGHT ? s.Skv - s.Sq : 0;
        data d = random_data(s, 10 + (uint64_t)c);
        uint8_t tril[25];
        for (int64_t i = 0; i < s.Sq; i++)
            for (int64_t j = 0; j < s.Skv; j++)
                tril[i * s.Skv + j] = j <= i + off;
        const int64_t md[2] = {s.Sq, s.Skv};
        seqk_tensor *M = tu_bool(ctx, 2, md, tril);

        seqk_attention_params pc = params(0.0f, align);
        seqk_attention_params pm = params(0.0f, NO_CAUSAL);
        float *yc = run4(ctx, &pc, s, d.q, d.k, d.v, NULL);
        float *ym = run4(ctx, &pm, s, d.q, d.k, d.v, M);
        naive(s, d.q, d.k, d.v, NULL, 1 / sqrtf(3.0f), 0, align, d.want);
        TU_ASSERT_CLOSE(yc, ym, y_count(s), ATOL, RTOL);
        TU_ASSERT_CLOSE(yc, d.want, y_count(s), ATOL, RTOL);

        /* bottom-right with Sq > Skv: the first Sq-Skv rows see no key */
        for (int64_t bh = 0; bh < s.B * s.Hq; bh++)
            for (int64_t i = 0; i < -off; i++)
                for (int64_t e = 0; e < s.Dv; e++)
                    ck_assert_float_eq(yc[(bh * s.Sq + i) * s.Dv + e], 0.0f);
        free(yc);
        free(ym);
        seqk_tensor_destroy(M);
        free_data(&d);
    }
    seqk_context_destroy(ctx);
}
END_TEST

/* is_causal and attn_mask both apply. */
START_TEST(causal_and_mask_combine)
{
    seqk_context *ctx = tu_context(_i);
    shape s = {2, 2, 1, 3, 4, 2, 3};
    data d = random_data(s, 3);
    tu_rng r;
    tu_rng_init(&r, 33);
    /* additive mask [B,1,Sq,Skv], expanded to heads for naive() */
    float m[2 * 3 * 4], bias[2 * 2 * 3 * 4];
    tu_fill(&r, m, 24, -1.0f, 1.0f);
    m[5] = -INFINITY; /* batch 0, query 1, key 1 */
    for (int64_t b = 0; b < 2; b++)
        for (int64_t h = 0; h < 2; h++)
            memcpy(bias + (b * 2 + h) * 12, m + b * 12, sizeof(float) * 12);
    const int64_t md[4] = {2, 1, 3, 4};
    seqk_tensor *M = tu_f32(ctx, 4, md, m);
    for (int align = TOP_LEFT; align <= BOTTOM_RIGHT; align++) {
        seqk_attention_params p = params(0.9f, align);
        float *y = run4(ctx, &p, s, d.q, d.k, d.v, M);
        naive(s, d.q, d.k, d.v, bias, 0.9f, 0, align, d.want);
        TU_ASSERT_CLOSE(y, d.want, y_count(s), ATOL, RTOL);
        free(y);
    }
    seqk_tensor_destroy(M);
    free_data(&d);
    seqk_context_destroy(ctx);
}
END_TEST

/* ----------------------------------------------------------- head layouts */

/* Grouped-query: q head h reads kv head h / (Hq/Hkv), i.e. MHA with every
 * kv head repeated in place ([h0,h0,h0,h1,h1,h1]). */
START_TEST(gqa_is_repeated_mha)
{
    seqk_context *ctx = tu_context(_i);
    shape s = {2, 6, 2, 3, 4, 4, 5};
    shape m = s;
    m.Hkv = 6;
    data d = random_data(s, 4);
    float *krep = malloc(k_count(m) * sizeof(float));
    float *vrep = malloc(v_count(m) * sizeof(float));
    size_t kh = (size_t)(s.Skv * s.Dh), vh = (size_t)(s.Skv * s.Dv);
    for (int64_t b = 0; b < s.B; b++)
        for (int64_t h = 0; h < s.Hq; h++) {
            int64_t g = h / 3;
            memcpy(krep + (b * 6 + h) * kh, d.k + (b * 2 + g) * kh,
                   kh * sizeof(float));
            memcpy(vrep + (b * 6 + h) * vh, d.v + (b * 2 + g) * vh,
                   vh * sizeof(float));
        }
    seqk_attention_params p = params(0.0f, TOP_LEFT);
    float *yg = run4(ctx, &p, s, d.q, d.k, d.v, NULL);
    float *ym = run4(ctx, &p, m, d.q, krep, vrep, NULL);
    naive(m, d.q, krep, vrep, NULL, 0.5f, 0, TOP_LEFT, d.want);
    TU_ASSERT_CLOSE(yg, ym, y_count(s), ATOL, RTOL);
    TU_ASSERT_CLOSE(yg, d.want, y_count(s), ATOL, RTOL);
    free(yg);
    free(ym);
    free(krep);
    free(vrep);
    free_data(&d);
    seqk_context_destroy(ctx);
}
END_TEST

/* [B,H,S,D] -> [B,S,H*D] and back. */
static void to3d(const float *x4, int64_t B, int64_t H, int64_t S,
                 int64_t D, float *x3)
{
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t t = 0; t < S; t++)
                for (int64_t e = 0; e < D; e++)
                    x3[((b * S + t) * H + h) * D + e] =
                        x4[((b * H + h) * S + t) * D + e];
}

static void to4d(const float *x3, int64_t B, int64_t H, int64_t S,
                 int64_t D, float *x4)
{
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t t = 0; t < S; t++)
                for (int64_t e = 0; e < D; e++)
                    x4[((b * H + h) * S + t) * D + e] =
                        x3[((b * S + t) * H + h) * D + e];
}

START_TEST(layout_3d_equals_4d)
{
    seqk_context *ctx = tu_context(_i);
    shape s = {2, 4, 2, 3, 5, 2, 3};
    data d = random_data(s, 5);
    float *q3 = malloc(q_count(s) * sizeof(float));
    float *k3 = malloc(k_count(s) * sizeof(float));
    float *v3 = malloc(v_count(s) * sizeof(float));
    float *y4 = malloc(y_count(s) * sizeof(float));
    to3d(d.q, s.B, s.Hq, s.Sq, s.Dh, q3);
    to3d(d.k, s.B, s.Hkv, s.Skv, s.Dh, k3);
    to3d(d.v, s.B, s.Hkv, s.Skv, s.Dv, v3);
    const uint8_t m[3 * 5] = {1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1};
    const int64_t md[2] = {3, 5};
    seqk_tensor *M = tu_bool(ctx, 2, md, m);

    seqk_attention_params p = params(0.0f, BOTTOM_RIGHT);
    float *want = run4(ctx, &p, s, d.q, d.k, d.v, M);
    /* 4-D with the head attributes given (equal to the shapes) is fine */
    p.q_num_heads = 4;
    p.kv_num_heads = 2;
    float *again = run4(ctx, &p, s, d.q, d.k, d.v, M);
    TU_ASSERT_CLOSE(again, want, y_count(s), 0, 0);

    const int64_t qd[3] = {2, 3, 8}, kd[3] = {2, 5, 4}, vd[3] = {2, 5, 6};
    const int64_t yd[3] = {2, 3, 12};
    seqk_tensor *Q = tu_f32(ctx, 3, qd, q3), *K = tu_f32(ctx, 3, kd, k3);
    seqk_tensor *V = tu_f32(ctx, 3, vd, v3), *Y = tu_f32(ctx, 3, yd, NULL);
    TU_OK(ctx, seqk_attention(ctx, &p, Q, K, V, M, Y));
    tu_assert_guard(Y);
    float *y3 = tu_read(Y);
    to4d(y3, s.B, s.Hq, s.Sq, s.Dv, y4);
    TU_ASSERT_CLOSE(y4, want, y_count(s), ATOL, RTOL);

    free(y3);
    free(want);
    free(again);
    free(q3);
    free(k3);
    free(v3);
    free(y4);
    DESTROY(Q, K, V, Y, M);
    free_data(&d);
    seqk_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------------ masks */

/* Expands a mask of rank r (right-aligned on [B,Hq,Sq,Skv], dims of 1
 * broadcast, last dim <= Skv padded) into dense additive bias. */
static void expand_mask(shape s, int r, const int64_t *md, const void *m,
                        int is_bool, float *bias)
{
    int64_t c[4];
    for (c[0] = 0; c[0] < s.B; c[0]++)
    for (c[1] = 0; c[1] < s.Hq; c[1]++)
    for (c[2] = 0; c[2] < s.Sq; c[2]++)
    for (c[3] = 0; c[3] < s.Skv; c[3]++) {
        float *out =
            bias + ((c[0] * s.Hq + c[1]) * s.Sq + c[2]) * s.Skv + c[3];
        if (c[3] >= md[r - 1]) {
            *out = -INFINITY;
            continue;
        }
        int64_t idx = 0;
        for (int a = 0; a < r; a++) {
            int t = 4 - r + a;
            idx = idx * md[a] + (md[a] == 1 ? 0 : c[t]);
        }
        if (is_bool)
            *out = ((const uint8_t *)m)[idx] ? 0.0f : -INFINITY;
        else
            *out = ((const float *)m)[idx];
    }
}

/* Broadcast masks of rank 2, 3, 4 (bool and f32) equal their dense form. */
START_TEST(mask_broadcasting)
{
    seqk_context *ctx = tu_context(_i);
    shape s = {2, 2, 1, 3, 4, 3, 2};
    const int64_t dense_d[4] = {2, 2, 3, 4};
    const struct { int r; int64_t d[4]; } cases[] = {
        {2, {3, 4}}, {3, {2, 1, 4}}, {3, {1, 3, 4}}, {4, {2, 1, 1, 4}},
        {4, {1, 2, 3, 4}}, {4, {2, 2, 3, 4}}, {4, {1, 1, 1, 4}},
    };
    data d = random_data(s, 6);
    float *bias = malloc(m_count(s) * sizeof(float));
    uint8_t *dense_b = malloc(m_count(s));
    tu_rng r;
    tu_rng_init(&r, 66);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    for (int is_bool = 0; is_bool < 2; is_bool++) {
        int64_t n = 1;
        for (int a = 0; a < cases[c].r; a++)
            n *= cases[c].d[a];
        float mf[48];
        uint8_t mb[48];
        tu_fill(&r, mf, (size_t)n, -2.0f, 2.0f);
        for (int64_t i = 0; i < n; i++)
            mb[i] = tu_uniform(&r, 0, 1) < 0.6f;
        const void *m = is_bool ? (const void *)mb : (const void *)mf;
        seqk_tensor *M = is_bool ? tu_bool(ctx, cases[c].r, cases[c].d, mb)
                                 : tu_f32(ctx, cases[c].r, cases[c].d, mf);
        expand_mask(s, cases[c].r, cases[c].d, m, is_bool, bias);
        for (size_t i = 0; i < m_count(s); i++)
            dense_b[i] = bias[i] == 0.0f;
        seqk_tensor *D = is_bool ? tu_bool(ctx, 4, dense_d, dense_b)
                                 : tu_f32(ctx, 4, dense_d, bias);

        seqk_attention_params p = params(0.0f, NO_CAUSAL);
        float *yb = run4(ctx, &p, s, d.q, d.k, d.v, M);
        float *yd = run4(ctx, &p, s, d.q, d.k, d.v, D);
        naive(s, d.q, d.k, d.v, bias, 1 / sqrtf(3.0f), 0, 0, d.want);
        TU_ASSERT_CLOSE(yb, yd, y_count(s), ATOL, RTOL);
        TU_ASSERT_CLOSE(yb, d.want, y_count(s), ATOL, RTOL);
        free(yb);
        free(yd);
        seqk_tensor_destroy(M);
        seqk_tensor_destroy(D);
    }
    free(bias);
    free(dense_b);
    free_data(&d);
    seqk_context_destroy(ctx);
}
END_TEST

/* A last mask dim shorter than Skv leaves the missing keys masked: bool
 * padded with false, f32 with -inf.  [Sq,1] leaves key 0 only, and
 * [Sq,0] leaves nothing (Y = 0). */
START_TEST(mask_short_last_dim)
{
    seqk_context *ctx = tu_context(_i);
    shape s = {1, 2, 2, 3, 5, 2, 2};
    data d = random_data(s, 7);
    const uint8_t sb[3 * 2] = {1, 0, 1, 1, 0, 1};
    const float sf[3 * 2] = {0.5f, -1.0f, 0.0f, 2.0f, -INFINITY, 0.25f};
    uint8_t db[3 * 5] = {0};
    float df[3 * 5];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++) {
            db[i * 5 + j] = j < 2 ? sb[i * 2 + j] : 0;
            df[i * 5 + j] = j < 2 ? sf[i * 2 + j] : -INFINITY;
        }
    const int64_t shd[2] = {3, 2}, dd[2] = {3, 5};
    seqk_tensor *SB = tu_bool(ctx, 2, shd, sb), *DB = tu_bool(ctx, 2, dd, db);
    seqk_tensor *SF = tu_f32(ctx, 2, shd, sf), *DF = tu_f32(ctx, 2, dd, df);
    seqk_attention_params p = params(0.0f, NO_CAUSAL);
    float *y1 = run4(ctx, &p, s, d.q, d.k, d.v, SB);
    float *y2 = run4(ctx, &p, s, d.q, d.k, d.v, DB);
    TU_ASSERT_CLOSE(y1, y2, y_count(s), ATOL, RTOL);
    free(y1);
    free(y2);
    y1 = run4(ctx, &p, s, d.q, d.k, d.v, SF);
    y2 = run4(ctx, &p, s, d.q, d.k, d.v, DF);
    TU_ASSERT_CLOSE(y1, y2, y_count(s), ATOL, RTOL);
    free(y1);
    free(y2);

    /* [Sq,1] all true: every query sees key 0 only, so Y rows = V row 0 */
    const uint8_t ones[3] = {1, 1, 1};
    const int64_t d1[2] = {3, 1}, d0[2] = {3, 0};
    seqk_tensor *M1 = tu_bool(ctx, 2, d1, ones);
    seqk_tensor *M0 = tu_bool(ctx, 2, d0, NULL);
    y1 = run4(ctx, &p, s, d.q, d.k, d.v, M1);
    y2 = run4(ctx, &p, s, d.q, d.k, d.v, M0);
    for (int64_t h = 0; h < s.Hq; h++)
        for (int64_t i = 0; i < s.Sq; i++)
            for (int64_t e = 0; e < s.Dv; e++) {
                size_t at = (size_t)((h * s.Sq + i) * s.Dv + e);
                ck_assert_float_eq(y1[at], d.v[h * s.Skv * s.Dv + e]);
                ck_assert_float_eq(y2[at], 0.0f);
            }
    free(y1);
    free(y2);
    DESTROY(SB, DB, SF, DF, M1, M0);
    free_data(&d);
    seqk_context_destroy(ctx);
}
END_TEST

/* A bool mask and the additive mask with 0 / -inf agree; rows with no
 * key left (all false, all -inf, or no keys at all) give exactly 0. */
START_TEST(mask_bool_additive_and_empty_rows)
{
    seqk_context *ctx = tu_context(_i);
    shape s = {2, 2, 2, 3, 4, 2, 3};
    data d = random_data(s, 8);
    uint8_t mb[2 * 3 * 4];
    float mf[2 * 3 * 4];
    tu_rng r;
    tu_rng_init(&r, 88);
    for (int i = 0; i < 24; i++)
        mb[i] = tu_uniform(&r, 0, 1) < 0.5f;
    for (int j = 0; j < 4; j++) {
        mb[(0 * 3 + 1) * 4 + j] = 0; /* batch 0, row 1: nothing */
        mb[(1 * 3 + 2) * 4 + j] = 0; /* batch 1, row 2: nothing */
    }
    mb[0] = 1; /* keep some rows alive */
    for (int i = 0; i < 24; i++)
        mf[i] = mb[i] ? 0.0f : -INFINITY;
    const int64_t md[4] = {2, 1, 3, 4};
    seqk_tensor *MB = tu_bool(ctx, 4, md, mb), *MF = tu_f32(ctx, 4, md, mf);
    seqk_attention_params p = params(0.0f, NO_CAUSAL);
    float *yb = run4(ctx, &p, s, d.q, d.k, d.v, MB);
    float *yf = run4(ctx, &p, s, d.q, d.k, d.v, MF);
    TU_ASSERT_CLOSE(yb, yf, y_count(s), ATOL, RTOL);
    for (int64_t h = 0; h < s.Hq; h++)
        for (int64_t e = 0; e < s.Dv; e++) {
            ck_assert_float_eq(yb[((0 * 2 + h) * 3 + 1) * 3 + e], 0.0f);
            ck_assert_float_eq(yb[((1 * 2 + h) * 3 + 2) * 3 + e], 0.0f);
        }
    ck_assert(yb[0] != 0.0f); /* batch 0 head 0 row 0 sees key 0 */
    free(yb);
    free(yf);

    /* no keys at all: Skv = 0 */
    shape z = {1, 2, 1, 2, 0, 3, 2};
    const float qz[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    float *yz = run4(ctx, &p, z, qz, NULL, NULL, NULL);
    for (size_t i = 0; i < y_count(z); i++)
        ck_assert_float_eq(yz[i], 0.0f);
    free(yz);
    seqk_tensor_destroy(MB);
    seqk_tensor_destroy(MF);
    free_data(&d);
    seqk_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------------ bad input */

START_TEST(bad_input)
{
    seqk_context *ctx = tu_context(_i);
    const int64_t q4[4] = {1, 2, 3, 4}, k4[4] = {1, 2, 5, 4};
    const int64_t y4[4] = {1, 2, 3, 4}, q3[3] = {1, 3, 8}, k3[3] = {1, 5, 8};
    seqk_tensor *Q = tu_f32(ctx, 4, q4, NULL), *K = tu_f32(ctx, 4, k4, NULL);
    seqk_tensor *V = tu_f32(ctx, 4, k4, NULL), *Y = tu_f32(ctx, 4, y4, NULL);
    seqk_tensor *Q3 = tu_f32(ctx, 3, q3, NULL), *K3 = tu_f32(ctx, 3, k3, NULL);
    seqk_tensor *Y3 = tu_f32(ctx, 3, q3, NULL);
    seqk_attention_params p = params(0.0f, NO_CAUSAL);
    seqk_tensor *t;

    ck_assert_int_eq(seqk_attention(NULL, &p, Q, K, V, NULL, Y),
                     SEQK_ERR_INVALID_ARG);
    ck_assert(strstr(seqk_last_error(NULL), "ctx is NULL"));
    TU_FAILS(ctx, seqk_attention(ctx, &p, NULL, K, V, NULL, Y),
             SEQK_ERR_INVALID_ARG, "input Q is NULL");
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, NULL, V, NULL, Y),
             SEQK_ERR_INVALID_ARG, "input K is NULL");
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, NULL, NULL, Y),
             SEQK_ERR_INVALID_ARG, "input V is NULL");
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, NULL, NULL),
             SEQK_ERR_INVALID_ARG, "output Y is NULL");
    p.struct_size = 0;
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, NULL, Y),
             SEQK_ERR_INVALID_ARG, "struct_size");
    p = params(NAN, NO_CAUSAL);
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, NULL, Y),
             SEQK_ERR_INVALID_ARG, "scale");
    p = params(0.0f, NO_CAUSAL);
    p.softcap = -1.0f;
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, NULL, Y),
             SEQK_ERR_INVALID_ARG, "softcap");
    p = params(0.0f, TOP_LEFT);
    p.causal_align = (seqk_causal_align)7;
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, NULL, Y),
             SEQK_ERR_INVALID_ARG, "causal_align");
    p = params(0.0f, NO_CAUSAL);

    /* ranks */
    t = tu_f32(ctx, 2, q4, NULL);
    TU_FAILS(ctx, seqk_attention(ctx, &p, t, K, V, NULL, Y), SEQK_ERR_SHAPE,
             "Q has shape [1,2]");
    seqk_tensor_destroy(t);
    p.q_num_heads = 2;
    p.kv_num_heads = 2;
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q3, K, V, NULL, Y), SEQK_ERR_SHAPE,
             "must all be 3-D or all 4-D");
    /* 3-D without the head counts; hidden sizes not divisible */
    p = params(0.0f, NO_CAUSAL);
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q3, K3, K3, NULL, Y3),
             SEQK_ERR_INVALID_ARG, "q_num_heads");
    p.q_num_heads = 3;
    p.kv_num_heads = 1;
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q3, K3, K3, NULL, Y3),
             SEQK_ERR_SHAPE, "not divisible by q_num_heads=3");
    p.q_num_heads = 2;
    p.kv_num_heads = 3;
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q3, K3, K3, NULL, Y3),
             SEQK_ERR_SHAPE, "not divisible by kv_num_heads=3");
    p.q_num_heads = -2;
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q3, K3, K3, NULL, Y3),
             SEQK_ERR_INVALID_ARG, "negative");
    /* 4-D heads disagreeing with the attributes */
    p.q_num_heads = 4;
    p.kv_num_heads = 0;
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, NULL, Y), SEQK_ERR_SHAPE,
             "q_num_heads=4");
    p = params(0.0f, NO_CAUSAL);

    /* Hq not a multiple of Hkv: 2 query heads, 3 kv heads */
    const int64_t k33[4] = {1, 3, 5, 4};
    t = tu_f32(ctx, 4, k33, NULL);
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, t, t, NULL, Y), SEQK_ERR_SHAPE,
             "Hq % Hkv");
    seqk_tensor_destroy(t);
    /* head size, batch, key count, V heads */
    const int64_t kbad[4][4] = {
        {1, 2, 5, 3}, {2, 2, 5, 4}, {1, 2, 6, 4}, {1, 1, 5, 4}};
    const char *why[4] = {"head size", "same batch", "number of keys",
                          "heads but V"};
    for (int c = 0; c < 4; c++) {
        t = tu_f32(ctx, 4, kbad[c], NULL);
        if (c == 0 || c == 1)
            TU_FAILS(ctx, seqk_attention(ctx, &p, Q, t, V, NULL, Y),
                     SEQK_ERR_SHAPE, why[c]);
        else
            TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, t, NULL, Y),
                     SEQK_ERR_SHAPE, why[c]);
        seqk_tensor_destroy(t);
    }
    /* Y shape and dtype, Y aliasing an input */
    const int64_t ybad[4] = {1, 2, 3, 5};
    t = tu_f32(ctx, 4, ybad, NULL);
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, NULL, t), SEQK_ERR_SHAPE,
             "output Y has shape [1,2,3,5]");
    seqk_tensor_destroy(t);
    t = tu_i32(ctx, 4, y4, NULL);
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, NULL, t), SEQK_ERR_DTYPE,
             "output Y has dtype");
    seqk_tensor_destroy(t);
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, NULL, Q),
             SEQK_ERR_INVALID_ARG, "must not be one of its inputs");
    t = tu_bool(ctx, 4, q4, NULL);
    TU_FAILS(ctx, seqk_attention(ctx, &p, t, K, V, NULL, Y), SEQK_ERR_DTYPE,
             "input Q has dtype");
    seqk_tensor_destroy(t);

    /* masks: dtype, rank, broadcastability, last dim too long */
    const int64_t m2[2] = {3, 5}, m1[1] = {5}, mbad[3] = {3, 3, 5};
    const int64_t mlong[2] = {3, 6}, m5[5] = {1, 1, 1, 3, 5};
    t = tu_i32(ctx, 2, m2, NULL);
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, t, Y), SEQK_ERR_DTYPE,
             "attn_mask has dtype i32");
    seqk_tensor_destroy(t);
    t = tu_bool(ctx, 1, m1, NULL);
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, t, Y), SEQK_ERR_SHAPE,
             "2-D to 4-D");
    seqk_tensor_destroy(t);
    t = tu_bool(ctx, 5, m5, NULL);
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, t, Y), SEQK_ERR_SHAPE,
             "2-D to 4-D");
    seqk_tensor_destroy(t);
    t = tu_f32(ctx, 3, mbad, NULL);
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, t, Y), SEQK_ERR_SHAPE,
             "not broadcastable");
    seqk_tensor_destroy(t);
    t = tu_bool(ctx, 2, mlong, NULL);
    TU_FAILS(ctx, seqk_attention(ctx, &p, Q, K, V, t, Y), SEQK_ERR_SHAPE,
             "longer than the 5 keys");
    seqk_tensor_destroy(t);

    /* a tensor of another context */
    seqk_context *other = tu_context(_i);
    t = tu_f32(other, 4, q4, NULL);
    TU_FAILS(ctx, seqk_attention(ctx, &p, t, K, V, NULL, Y),
             SEQK_ERR_INVALID_ARG, "another context");
    seqk_tensor_destroy(t);
    seqk_context_destroy(other);

    DESTROY(Q, K, V, Y, Q3, K3, Y3);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(params_init)
{
    seqk_attention_params p;
    memset(&p, 0xff, sizeof p);
    seqk_attention_params_init(&p);
    ck_assert_uint_eq(p.struct_size, sizeof p);
    ck_assert_int_eq(p.q_num_heads, 0);
    ck_assert_int_eq(p.kv_num_heads, 0);
    ck_assert_float_eq(p.scale, 0.0f);
    ck_assert_float_eq(p.softcap, 0.0f);
    ck_assert_int_eq(p.is_causal, 0);
    ck_assert_int_eq(p.causal_align, SEQK_CAUSAL_TOP_LEFT);
    seqk_attention_params_init(NULL); /* ignored, no crash */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("attention");
    TCase *tc = tcase_create("attention");
    int n = tu_device_count();
    tcase_add_loop_test(tc, hand_two_keys, 0, n);
    tcase_add_loop_test(tc, hand_softcap, 0, n);
    tcase_add_loop_test(tc, one_head_matches_naive, 0, n);
    tcase_add_loop_test(tc, softcap_matches_naive, 0, n);
    tcase_add_loop_test(tc, causal_is_triangular_mask, 0, n);
    tcase_add_loop_test(tc, causal_and_mask_combine, 0, n);
    tcase_add_loop_test(tc, gqa_is_repeated_mha, 0, n);
    tcase_add_loop_test(tc, layout_3d_equals_4d, 0, n);
    tcase_add_loop_test(tc, mask_broadcasting, 0, n);
    tcase_add_loop_test(tc, mask_short_last_dim, 0, n);
    tcase_add_loop_test(tc, mask_bool_additive_and_empty_rows, 0, n);
    tcase_add_loop_test(tc, bad_input, 0, n);
    tcase_add_test(tc, params_init);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, seq_attention_tcase());
    return tu_run_suite(s);
}
