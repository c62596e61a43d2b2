/*
 * test_seq_attention.c — the "attention" suite, part 2: encoder-decoder
 * attention (seqk_seq_attention) and the score-name helpers, on every
 * available device.  main() is in test_attention.c.
 *
 * naive_seq() below recomputes every score kind from its textbook formula
 * (general as q . (W k), cosine on normalized vectors) so that it shares
 * no arithmetic order with the library; hand-worked cases pin it down.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

TCase *seq_attention_tcase(void);

#define ATOL 2e-6f
#define RTOL 2e-5f

typedef struct {
    seqk_score_kind kind;
    int64_t B, S, Dq, Dk, Dv, A;
    float *q, *keys, *values;  /* values NULL: keys */
    int32_t *lens;             /* NULL: all S */
    float *W, *W1, *W2, *v, *Wloc;
} problem;

static double score(const problem *p, const float *q, const float *k,
                    int64_t s)
{
    double acc = 0.0;
    switch (p->kind) {
    case SEQK_SCORE_DOT:
    case SEQK_SCORE_SCALED_DOT:
        for (int64_t d = 0; d < p->Dk; d++)
            acc += (double)q[d] * k[d];
        return p->kind == SEQK_SCORE_DOT ? acc : acc / sqrt((double)p->Dk);
    case SEQK_SCORE_GENERAL:
        for (int64_t d = 0; d < p->Dq; d++) {
            double wk = 0.0;
            for (int64_t e = 0; e < p->Dk; e++)
                wk += (double)p->W[d * p->Dk + e] * k[e];
            acc += q[d] * wk;
        }
        return acc;
    case SEQK_SCORE_ADDITIVE:
        for (int64_t a = 0; a < p->A; a++) {
            double h = 0.0;
            for (int64_t d = 0; d < p->Dq; d++)
                h += (double)p->W1[a * p->Dq + d] * q[d];
            for (int64_t e = 0; e < p->Dk; e++)
                h += (double)p->W2[a * p->Dk + e] * k[e];
            acc += p->v[a] * tanh(h);
        }
        return acc;
    case SEQK_SCORE_COSINE: {
        double nq = 0.0, nk = 0.0;
        for (int64_t d = 0; d < p->Dk; d++) {
            nq += (double)q[d] * q[d];
            nk += (double)k[d] * k[d];
        }
        if (nq == 0.0 || nk == 0.0)
            return 0.0;
        for (int64_t d = 0; d < p->Dk; d++)
            acc += (q[d] / sqrt(nq)) * (k[d] / sqrt(nk));
        return acc;
    }
    case SEQK_SCORE_LOCATION:
        for (int64_t d = 0; d < p->Dq; d++)
            acc += (double)p->Wloc[s * p->Dq + d] * q[d];
        return acc;
    }
    return NAN;
}

/* context [B,Dv] and weights [B,S] from the formulas. */
static void naive_seq(const problem *p, float *context, float *weights)
{
    const float *vals = p->values ? p->values : p->keys;
    double sc[16];
    ck_assert_int_le(p->S, 16);
    for (int64_t b = 0; b < p->B; b++) {
        int64_t L = p->lens ? p->lens[b] : p->S;
        double sum = 0.0, top = -INFINITY;
        for (int64_t s = 0; s < L; s++) {
            sc[s] = score(p, p->q + b * p->Dq,
                          p->keys + (b * p->S + s) * p->Dk, s);
            top = fmax(top, sc[s]);
        }
        for (int64_t s = 0; s < L; s++)
            sum += exp(sc[s] - top);
        for (int64_t e = 0; e < p->Dv; e++)
            context[b * p->Dv + e] = 0.0f;
        for (int64_t s = 0; s < p->S; s++) {
            double w = s < L ? exp(sc[s] - top) / sum : 0.0;
            weights[b * p->S + s] = (float)w;
            for (int64_t e = 0; e < p->Dv; e++)
                context[b * p->Dv + e] +=
                    (float)(w * vals[(b * p->S + s) * p->Dv + e]);
        }
    }
}

/* Runs the library; writes context and (when weights != NULL) weights. */
static void run_seq(seqk_context *ctx, const problem *p, float *context,
                    float *weights)
{
    const int64_t qd[2] = {p->B, p->Dq}, kd[3] = {p->B, p->S, p->Dk};
    const int64_t vd[3] = {p->B, p->S, p->Dv}, ld[1] = {p->B};
    const int64_t wd[2] = {p->Dq, p->Dk}, w1d[2] = {p->A, p->Dq};
    const int64_t w2d[2] = {p->A, p->Dk}, ad[1] = {p->A};
    const int64_t wld[2] = {p->S, p->Dq};
    const int64_t cd[2] = {p->B, p->Dv}, sd[2] = {p->B, p->S};
    /* inputs in the order of seqk_seq_attention_inputs */
    seqk_tensor *t[9] = {
        tu_f32(ctx, 2, qd, p->q),
        tu_f32(ctx, 3, kd, p->keys),
        p->values ? tu_f32(ctx, 3, vd, p->values) : NULL,
        p->lens ? tu_i32(ctx, 1, ld, p->lens) : NULL,
        p->W ? tu_f32(ctx, 2, wd, p->W) : NULL,
        p->W1 ? tu_f32(ctx, 2, w1d, p->W1) : NULL,
        p->W2 ? tu_f32(ctx, 2, w2d, p->W2) : NULL,
        p->v ? tu_f32(ctx, 1, ad, p->v) : NULL,
        p->Wloc ? tu_f32(ctx, 2, wld, p->Wloc) : NULL,
    };
    seqk_seq_attention_inputs in = {t[0], t[1], t[2], t[3], t[4],
                                    t[5], t[6], t[7], t[8]};
    seqk_tensor *C = tu_f32(ctx, 2, cd, NULL);
    seqk_tensor *Wt = weights ? tu_f32(ctx, 2, sd, NULL) : NULL;
    seqk_seq_attention_params prm;
    seqk_seq_attention_params_init(&prm);
    prm.score = p->kind;

    TU_OK(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt));
    tu_assert_guard(C);
    TU_OK(ctx, seqk_tensor_read(C, context, seqk_tensor_bytes(C)));
    if (Wt) {
        tu_assert_guard(Wt);
        TU_OK(ctx, seqk_tensor_read(Wt, weights, seqk_tensor_bytes(Wt)));
    }
    for (int i = 0; i < 9; i++)
        seqk_tensor_destroy(t[i]);
    seqk_tensor_destroy(C);
    seqk_tensor_destroy(Wt);
}

/* A random problem of the given kind, with the parameters it needs. */
static problem random_problem(seqk_score_kind kind, uint64_t salt)
{
    tu_rng r;
    tu_rng_init(&r, salt);
    problem p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.B = 3;
    p.S = 5;
    p.Dq = 4;
    p.Dk = kind == SEQK_SCORE_GENERAL || kind == SEQK_SCORE_ADDITIVE ||
           kind == SEQK_SCORE_LOCATION ? 3 : 4;
    p.Dv = 2;
    p.A = kind == SEQK_SCORE_ADDITIVE ? 6 : 0;
    p.q = tu_rand(&r, (size_t)(p.B * p.Dq), -1.5f, 1.5f);
    p.keys = tu_rand(&r, (size_t)(p.B * p.S * p.Dk), -1.5f, 1.5f);
    p.values = tu_rand(&r, (size_t)(p.B * p.S * p.Dv), -1.0f, 1.0f);
    if (kind == SEQK_SCORE_GENERAL)
        p.W = tu_rand(&r, (size_t)(p.Dq * p.Dk), -1.0f, 1.0f);
    if (kind == SEQK_SCORE_ADDITIVE) {
        p.W1 = tu_rand(&r, (size_t)(p.A * p.Dq), -1.0f, 1.0f);
        p.W2 = tu_rand(&r, (size_t)(p.A * p.Dk), -1.0f, 1.0f);
        p.v = tu_rand(&r, (size_t)p.A, -2.0f, 2.0f);
    }
    if (kind == SEQK_SCORE_LOCATION)
        p.Wloc = tu_rand(&r, (size_t)(p.S * p.Dq), -1.0f, 1.0f);
    return p;
}

static void free_problem(problem *p)
{
    free(p->q);
    free(p->keys);
    free(p->values);
    free(p->W);
    free(p->W1);
    free(p->W2);
    free(p->v);
    free(p->Wloc);
}

/* ------------------------------------------------------------ hand cases */

/* Scores 0 and ln 3 give weights 1/4 and 3/4: dot, scaled_dot and
 * location built to produce them; cosine of a parallel and an orthogonal
 * key gives scores 1 and 0, and a zero vector scores 0. */
START_TEST(seq_hand)
{
    seqk_context *ctx = tu_context(_i);
    const float l3 = logf(3.0f);
    float q1[1] = {1}, k1[2] = {0, l3}, v1[2] = {4, 8};
    float q4[4] = {1, 1, 1, 1};
    float k4[8] = {0, 0, 0, 0, l3 / 2, l3 / 2, l3 / 2, l3 / 2};
    float wloc[2] = {0, l3}, flat[2] = {5, 5};
    const float want_w[2] = {0.25f, 0.75f}, want_c[1] = {7.0f};
    float c[2], w[2];

    problem p = {SEQK_SCORE_DOT, 1, 2, 1, 1, 1, 0, q1, k1, v1, NULL,
                 NULL, NULL, NULL, NULL, NULL};
    run_seq(ctx, &p, c, w);
    TU_ASSERT_CLOSE(w, want_w, 2, ATOL, RTOL);
    TU_ASSERT_CLOSE(c, want_c, 1, ATOL, RTOL);

    p.kind = SEQK_SCORE_SCALED_DOT; /* 4 * ln3/2 / sqrt(4) = ln 3 */
    p.Dq = p.Dk = 4;
    p.q = q4;
    p.keys = k4;
    run_seq(ctx, &p, c, w);
    TU_ASSERT_CLOSE(w, want_w, 2, ATOL, RTOL);
    TU_ASSERT_CLOSE(c, want_c, 1, ATOL, RTOL);

    p.kind = SEQK_SCORE_LOCATION; /* keys only feed the values here */
    p.Dq = p.Dk = 1;
    p.q = q1;
    p.keys = flat;
    p.Wloc = wloc;
    run_seq(ctx, &p, c, w);
    TU_ASSERT_CLOSE(w, want_w, 2, ATOL, RTOL);
    TU_ASSERT_CLOSE(c, want_c, 1, ATOL, RTOL);

    /* cosine: q = (1,0), keys (2,0) and (0,3) -> scores 1, 0; values =
     * keys, so context = w0*(2,0) + w1*(0,3) */
    float qc[2] = {1, 0}, kc[4] = {2, 0, 0, 3};
    problem pc = {SEQK_SCORE_COSINE, 1, 2, 2, 2, 2, 0, qc, kc, NULL, NULL,
                  NULL, NULL, NULL, NULL, NULL};
    const float e = expf(1.0f);
    const float cw[2] = {e / (e + 1), 1 / (e + 1)};
    const float cc[2] = {2 * e / (e + 1), 3 / (e + 1)};
    run_seq(ctx, &pc, c, w);
    TU_ASSERT_CLOSE(w, cw, 2, ATOL, RTOL);
    TU_ASSERT_CLOSE(c, cc, 2, ATOL, RTOL);

    /* a zero key scores 0 (not NaN): keys (2,0), (0,0) -> scores 1, 0 */
    kc[3] = 0;
    const float zc[2] = {2 * e / (e + 1), 0};
    run_seq(ctx, &pc, c, w);
    TU_ASSERT_CLOSE(w, cw, 2, ATOL, RTOL);
    TU_ASSERT_CLOSE(c, zc, 2, ATOL, RTOL);

    /* a zero query: every score is 0, weights uniform */
    qc[0] = 0;
    kc[3] = 3;
    const float uw[2] = {0.5f, 0.5f}, uc[2] = {1.0f, 1.5f};
    run_seq(ctx, &pc, c, w);
    TU_ASSERT_CLOSE(w, uw, 2, ATOL, RTOL);
    TU_ASSERT_CLOSE(c, uc, 2, ATOL, RTOL);
    seqk_context_destroy(ctx);
}
END_TEST

/* Additive by hand: A = 1, W1 = W2 = v = 1, Dq = Dk = 1: score tanh(q+k). */
START_TEST(seq_hand_additive_general)
{
    seqk_context *ctx = tu_context(_i);
    float q[1] = {0.5f}, k[2] = {-0.5f, 1.0f}, vals[2] = {1, 0};
    float one[1] = {1.0f}, two[1] = {2.0f}, c[1], w[2];
    problem p = {SEQK_SCORE_ADDITIVE, 1, 2, 1, 1, 1, 1, q, k, vals, NULL,
                 NULL, one, one, one, NULL};
    run_seq(ctx, &p, c, w);
    double s1 = tanh(1.5); /* scores tanh(0) = 0 and tanh(1.5) */
    float want_w[2] = {(float)(1 / (1 + exp(s1))),
                       (float)(exp(s1) / (1 + exp(s1)))};
    TU_ASSERT_CLOSE(w, want_w, 2, ATOL, RTOL);
    TU_ASSERT_CLOSE(c, want_w, 1, ATOL, RTOL);

    /* general with W = [2]: scores 2*q*k = -0.5, 1 */
    problem g = {SEQK_SCORE_GENERAL, 1, 2, 1, 1, 1, 0, q, k, vals, NULL,
                 two, NULL, NULL, NULL, NULL};
    run_seq(ctx, &g, c, w);
    want_w[0] = (float)(1 / (1 + exp(1.5)));
    want_w[1] = (float)(1 / (1 + exp(-1.5)));
    TU_ASSERT_CLOSE(w, want_w, 2, ATOL, RTOL);
    seqk_context_destroy(ctx);
}
END_TEST

/* ------------------------------------------------------ vs naive_seq() */

/* Every score kind, with and without key_lens (including a 0 length). */
START_TEST(seq_kinds_match_naive)
{
    seqk_context *ctx = tu_context(_i);
    int32_t lens[3] = {5, 2, 0};
    for (int kind = SEQK_SCORE_DOT; kind <= SEQK_SCORE_LOCATION; kind++)
    for (int with_lens = 0; with_lens < 2; with_lens++) {
        problem p = random_problem((seqk_score_kind)kind, 40 + (uint64_t)kind);
        p.lens = with_lens ? lens : NULL;
        float c[6], w[15], wc[6], ww[15];
        run_seq(ctx, &p, c, w);
        naive_seq(&p, wc, ww);
        TU_ASSERT_CLOSE(c, wc, 6, ATOL, RTOL);
        TU_ASSERT_CLOSE(w, ww, 15, ATOL, RTOL);
        free_problem(&p);
    }
    seqk_context_destroy(ctx);
}
END_TEST

/* key_lens: weights exactly 0 from the length on, summing to 1 before
 * it; a length of 0 gives zero weights and context; the result equals
 * the same query against only the first L keys. */
START_TEST(seq_key_lens)
{
    seqk_context *ctx = tu_context(_i);
    int32_t lens[3] = {4, 1, 0};
    problem p = random_problem(SEQK_SCORE_GENERAL, 50);
    p.lens = lens;
    float c[6], w[15];
    run_seq(ctx, &p, c, w);
    for (int64_t b = 0; b < 3; b++) {
        double sum = 0.0;
        for (int64_t s = 0; s < 5; s++) {
            if (s >= lens[b])
                ck_assert_float_eq(w[b * 5 + s], 0.0f);
            else
                ck_assert(w[b * 5 + s] > 0.0f);
            sum += w[b * 5 + s];
        }
        ck_assert_double_eq_tol(sum, lens[b] ? 1.0 : 0.0, 1e-6);
    }
    ck_assert_float_eq(c[4], 0.0f);
    ck_assert_float_eq(c[5], 0.0f);

    /* batch row 0 alone with its first 4 keys and no key_lens */
    float q0[4], k0[12], v0[8], c0[2], w0[4];
    memcpy(q0, p.q, sizeof q0);
    memcpy(k0, p.keys, sizeof k0);
    memcpy(v0, p.values, sizeof v0);
    problem t = p;
    t.B = 1;
    t.S = 4;
    t.q = q0;
    t.keys = k0;
    t.values = v0;
    t.lens = NULL;
    run_seq(ctx, &t, c0, w0);
    TU_ASSERT_CLOSE(c, c0, 2, ATOL, RTOL);
    TU_ASSERT_CLOSE(w, w0, 4, ATOL, RTOL);
    free_problem(&p);
    seqk_context_destroy(ctx);
}
END_TEST

/* values NULL means values = keys; weights NULL still gives context. */
START_TEST(seq_defaults)
{
    seqk_context *ctx = tu_context(_i);
    problem p = random_problem(SEQK_SCORE_SCALED_DOT, 60);
    float *vals = p.values;
    p.values = NULL; /* keys [3,5,4] serve as values: Dv = 4 */
    p.Dv = 4;
    float c1[12], w1[15], c2[12], w2[15], c3[12];
    run_seq(ctx, &p, c1, w1);
    naive_seq(&p, c2, w2);
    TU_ASSERT_CLOSE(c1, c2, 12, ATOL, RTOL);
    TU_ASSERT_CLOSE(w1, w2, 15, ATOL, RTOL);

    p.values = p.keys; /* the same numbers passed explicitly */
    run_seq(ctx, &p, c3, NULL);
    TU_ASSERT_CLOSE(c3, c1, 12, 0, 0);
    p.values = vals;
    free_problem(&p);

    seqk_seq_attention_params prm;
    memset(&prm, 0xff, sizeof prm);
    seqk_seq_attention_params_init(&prm);
    ck_assert_uint_eq(prm.struct_size, sizeof prm);
    ck_assert_int_eq(prm.score, SEQK_SCORE_DOT);
    seqk_seq_attention_params_init(NULL);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(seq_score_names)
{
    const char *names[6] = {"dot", "scaled_dot", "general", "additive",
                            "cosine", "location"};
    for (int k = 0; k < 6; k++) {
        ck_assert_int_eq(seqk_score_from_name(names[k]), k);
        ck_assert_str_eq(seqk_score_name((seqk_score_kind)k), names[k]);
    }
    ck_assert_int_eq(seqk_score_from_name("Scaled_Dot"), 1);
    ck_assert_int_eq(seqk_score_from_name("bahdanau"), -1);
    ck_assert_int_eq(seqk_score_from_name(""), -1);
    ck_assert_int_eq(seqk_score_from_name(NULL), -1);
    ck_assert_str_eq(seqk_score_name((seqk_score_kind)6), "unknown");
    ck_assert_str_eq(seqk_score_name((seqk_score_kind)-1), "unknown");
}
END_TEST

/* ------------------------------------------------------------ bad input */

START_TEST(seq_bad_input)
{
    seqk_context *ctx = tu_context(_i);
    const int64_t qd[2] = {2, 4}, kd[3] = {2, 5, 4}, cd[2] = {2, 4};
    const int64_t wd[2] = {2, 5}, ld[1] = {2}, w44[2] = {4, 4};
    const int32_t good_lens[2] = {5, 3}, bad_lens[2] = {3, 6};
    const int32_t neg_lens[2] = {-1, 0};
    seqk_tensor *Q = tu_f32(ctx, 2, qd, NULL), *K = tu_f32(ctx, 3, kd, NULL);
    seqk_tensor *C = tu_f32(ctx, 2, cd, NULL), *Wt = tu_f32(ctx, 2, wd, NULL);
    seqk_tensor *W = tu_f32(ctx, 2, w44, NULL), *t;
    seqk_seq_attention_params prm;
    seqk_seq_attention_params_init(&prm);
    seqk_seq_attention_inputs in;
    memset(&in, 0, sizeof in);
    in.query = Q;
    in.keys = K;
    TU_OK(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt)); /* baseline */

    ck_assert_int_eq(seqk_seq_attention(NULL, &prm, &in, C, Wt),
                     SEQK_ERR_INVALID_ARG);
    ck_assert(strstr(seqk_last_error(NULL), "ctx is NULL"));
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, NULL, C, Wt),
             SEQK_ERR_INVALID_ARG, "inputs");
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, NULL, Wt),
             SEQK_ERR_INVALID_ARG, "output context is NULL");
    prm.struct_size = 0;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "struct_size");
    seqk_seq_attention_params_init(&prm);
    prm.score = (seqk_score_kind)42;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "score is 42");
    prm.score = (seqk_score_kind)seqk_score_from_name("luong");
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "score is -1");
    seqk_seq_attention_params_init(&prm);

    in.query = NULL;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "input query is NULL");
    in.query = Q;
    in.keys = NULL;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "input keys is NULL");
    in.keys = Q; /* rank 2 */
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt), SEQK_ERR_SHAPE,
             "input keys has shape [2,4] (rank 2)");
    in.keys = K;
    in.query = K; /* rank 3 */
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt), SEQK_ERR_SHAPE,
             "input query has shape");
    in.query = Q;

    /* batch, values shape, Dq != Dk for dot */
    const int64_t k3b[3] = {3, 5, 4}, v6[3] = {2, 6, 4}, k5[3] = {2, 5, 5};
    t = tu_f32(ctx, 3, k3b, NULL);
    in.keys = t;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt), SEQK_ERR_SHAPE,
             "has batch 2");
    in.keys = K;
    in.values = t;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt), SEQK_ERR_SHAPE,
             "input values has shape [3,5,4]");
    seqk_tensor_destroy(t);
    t = tu_f32(ctx, 3, v6, NULL);
    in.values = t;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt), SEQK_ERR_SHAPE,
             "input values has shape [2,6,4]");
    in.values = NULL;
    seqk_tensor_destroy(t);
    t = tu_f32(ctx, 3, k5, NULL);
    in.keys = t;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt), SEQK_ERR_SHAPE,
             "score=dot needs query and keys of the same size");
    in.keys = K;
    seqk_tensor_destroy(t);

    /* key_lens: dtype, shape, values out of range */
    t = tu_f32(ctx, 1, ld, NULL);
    in.key_lens = t;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt), SEQK_ERR_DTYPE,
             "key_lens has dtype f32");
    seqk_tensor_destroy(t);
    t = tu_i32(ctx, 2, qd, NULL);
    in.key_lens = t;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt), SEQK_ERR_SHAPE,
             "key_lens has shape [2,4]");
    seqk_tensor_destroy(t);
    t = tu_i32(ctx, 1, ld, bad_lens);
    in.key_lens = t;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "key_lens[1] is 6");
    seqk_tensor_destroy(t);
    t = tu_i32(ctx, 1, ld, neg_lens);
    in.key_lens = t;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "key_lens[0] is -1");
    seqk_tensor_destroy(t);
    t = tu_i32(ctx, 1, ld, good_lens);
    in.key_lens = t;
    TU_OK(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt));
    in.key_lens = NULL;
    seqk_tensor_destroy(t);

    /* parameters a kind does not use, or lacks, or of the wrong shape */
    in.W = W;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "W is given but score=dot does not use");
    in.W = NULL;
    in.W1 = W;
    prm.score = SEQK_SCORE_GENERAL;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "W1 is given but score=general");
    in.W1 = NULL;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "score=general needs W [Dq,Dk] = [4,4]");
    t = tu_f32(ctx, 2, wd, NULL);
    in.W = t;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt), SEQK_ERR_SHAPE,
             "input W has shape [2,5]; expected [4,4]");
    seqk_tensor_destroy(t);
    in.W = W;
    TU_OK(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt));
    in.W = NULL;

    const int64_t vd[1] = {3}, w1d[2] = {3, 4};
    seqk_tensor *v = tu_f32(ctx, 1, vd, NULL), *W1 = tu_f32(ctx, 2, w1d, NULL);
    prm.score = SEQK_SCORE_ADDITIVE;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "needs v");
    in.v = v;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "needs W1 [A,Dq] = [3,4]");
    in.W1 = W1;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "needs W2 [A,Dk] = [3,4]");
    in.W2 = W; /* [4,4], not [3,4] */
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt), SEQK_ERR_SHAPE,
             "input W2 has shape [4,4]; expected [3,4]");
    in.W2 = W1;
    TU_OK(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt));
    prm.score = SEQK_SCORE_COSINE;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "W1 is given but score=cosine");
    in.W1 = in.W2 = NULL;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "v is given but score=cosine");
    in.v = NULL;

    prm.score = SEQK_SCORE_LOCATION;
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt),
             SEQK_ERR_INVALID_ARG, "needs Wloc");
    in.Wloc = W; /* [4,4] but S = 5 */
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, Wt), SEQK_ERR_SHAPE,
             "input Wloc has shape [4,4]; expected [5,4]");
    in.Wloc = NULL;
    seqk_tensor_destroy(v);
    seqk_tensor_destroy(W1);
    prm.score = SEQK_SCORE_DOT;

    /* outputs: shapes, dtype, aliasing */
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, Wt, Wt),
             SEQK_ERR_SHAPE, "output context has shape [2,5]; expected [2,4]");
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, C, C), SEQK_ERR_SHAPE,
             "output weights has shape [2,4]; expected [2,5]");
    t = tu_i32(ctx, 2, cd, NULL);
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, t, Wt), SEQK_ERR_DTYPE,
             "output context has dtype i32");
    seqk_tensor_destroy(t);
    TU_FAILS(ctx, seqk_seq_attention(ctx, &prm, &in, Q, Wt),
             SEQK_ERR_INVALID_ARG, "distinct");

    seqk_tensor_destroy(Q);
    seqk_tensor_destroy(K);
    seqk_tensor_destroy(C);
    seqk_tensor_destroy(Wt);
    seqk_tensor_destroy(W);
    seqk_context_destroy(ctx);
}
END_TEST

TCase *seq_attention_tcase(void)
{
    TCase *tc = tcase_create("seq_attention");
    int n = tu_device_count();
    tcase_add_loop_test(tc, seq_hand, 0, n);
    tcase_add_loop_test(tc, seq_hand_additive_general, 0, n);
    tcase_add_loop_test(tc, seq_kinds_match_naive, 0, n);
    tcase_add_loop_test(tc, seq_key_lens, 0, n);
    tcase_add_loop_test(tc, seq_defaults, 0, n);
    tcase_add_loop_test(tc, seq_bad_input, 0, n);
    tcase_add_test(tc, seq_score_names);
    return tc;
}
