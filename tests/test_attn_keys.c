/*
 * test_attn_keys.c — the "plans" suite, part 2: keyed SeqAttention
 * (seqk_seq_attention_keys_create / _keyed) on every available device,
 * against the per-call seqk_seq_attention on the same device and on ref,
 * for every score kind, over edge shapes (seq 1, batch 1, sizes that are
 * no multiple of any vector width, key_lens masking incl. length 0), two
 * steps per plan (the second reuses what the first packed).  main() is in
 * test_linear.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

TCase *attn_keys_tcase(void);

/* general sums q^T (W k) in the keyed form: other rounding */
#define ATOL 2e-5f
#define RTOL 2e-4f

typedef struct { int64_t B, S, Dq, Dk, Dv, A; int lens; } shape;

static const shape shapes[] = {
    {1, 1, 5, 5, 3, 4, 0},    /* seq 1, batch 1 */
    {3, 7, 17, 17, 9, 13, 1}, /* odd sizes, masking (a length 0) */
    {2, 20, 33, 33, 33, 40, 1},
    {4, 5, 64, 64, 16, 64, 0},
};
#define NUM_SHAPES ((int)(sizeof shapes / sizeof shapes[0]))

static int small_only(void) { return getenv("SEQK_OCL_SMALL") != NULL; }

typedef struct {
    seqk_seq_attention_inputs in;
    seqk_tensor *t[9];
    int n;
} inputs;

static const seqk_tensor *add(inputs *x, seqk_context *ctx, int ndim,
                              const int64_t *dims, const float *data)
{
    seqk_tensor *t = tu_f32(ctx, ndim, dims, data);
    x->t[x->n++] = t;
    return t;
}

static void free_inputs(inputs *x)
{
    for (int i = 0; i < x->n; i++)
        seqk_tensor_destroy(x->t[i]);
    memset(x, 0, sizeof *x);
}

/* The per-call inputs of kind on ctx from host arrays h[] (query h[0],
 * keys h[1], values h[2], W h[3], W1 h[4], W2 h[5], v h[6], Wloc h[7]). */
static void make_inputs(inputs *x, seqk_context *ctx, seqk_score_kind kind,
                        const shape *s, float *const *h, const int32_t *lens)
{
    const int64_t dq[2] = {s->B, s->Dq}, dk[3] = {s->B, s->S, s->Dk};
    const int64_t dv[3] = {s->B, s->S, s->Dv}, dW[2] = {s->Dq, s->Dk};
    const int64_t dW1[2] = {s->A, s->Dq}, dW2[2] = {s->A, s->Dk};
    const int64_t dvv[1] = {s->A}, dl[2] = {s->S, s->Dq}, db[1] = {s->B};
    memset(x, 0, sizeof *x);
    x->in.query = add(x, ctx, 2, dq, h[0]);
    x->in.keys = add(x, ctx, 3, dk, h[1]);
    x->in.values = add(x, ctx, 3, dv, h[2]);
    if (kind == SEQK_SCORE_GENERAL)
        x->in.W = add(x, ctx, 2, dW, h[3]);
    if (kind == SEQK_SCORE_ADDITIVE) {
        x->in.W1 = add(x, ctx, 2, dW1, h[4]);
        x->in.W2 = add(x, ctx, 2, dW2, h[5]);
        x->in.v = add(x, ctx, 1, dvv, h[6]);
    }
    if (kind == SEQK_SCORE_LOCATION)
        x->in.Wloc = add(x, ctx, 2, dl, h[7]);
    if (lens) {
        seqk_tensor *t = tu_i32(ctx, 1, db, lens);
        x->t[x->n++] = t;
        x->in.key_lens = t;
    }
}

/* context + weights of one per-call seqk_seq_attention, concatenated */
static float *per_call(seqk_context *ctx, seqk_score_kind kind,
                       const inputs *x, const shape *s)
{
    seqk_seq_attention_params prm;
    seqk_seq_attention_params_init(&prm);
    prm.score = kind;
    const int64_t dc[2] = {s->B, s->Dv}, dw[2] = {s->B, s->S};
    seqk_tensor *c = tu_f32(ctx, 2, dc, NULL), *w = tu_f32(ctx, 2, dw, NULL);
    TU_OK(ctx, seqk_seq_attention(ctx, &prm, &x->in, c, w));
    float *out = malloc(sizeof(float) * (size_t)(s->B * (s->Dv + s->S)));
    float *cc = tu_read(c), *ww = tu_read(w);
    memcpy(out, cc, sizeof(float) * (size_t)(s->B * s->Dv));
    memcpy(out + s->B * s->Dv, ww, sizeof(float) * (size_t)(s->B * s->S));
    free(cc);
    free(ww);
    seqk_tensor_destroy(c);
    seqk_tensor_destroy(w);
    return out;
}

START_TEST(keyed_matches_per_call)
{
    seqk_context *ref = tu_context(0), *ctx = tu_context(_i);
    tu_rng rng;
    for (int si = 0; si < NUM_SHAPES; si++) {
        const shape *s = &shapes[si];
        if (small_only() && si >= 2)
            break;
        for (int kind = 0; kind <= SEQK_SCORE_LOCATION; kind++) {
            shape sh = *s;
            if (kind == SEQK_SCORE_DOT || kind == SEQK_SCORE_SCALED_DOT ||
                kind == SEQK_SCORE_COSINE)
                sh.Dq = sh.Dk;
            else if (si % 2)
                sh.Dq = sh.Dk + 3; /* query and key sizes differ */
            tu_rng_init(&rng, (uint64_t)(si * 16 + kind));
            float *h[8];
            const int64_t sizes[8] = {
                sh.B * sh.Dq, sh.B * sh.S * sh.Dk, sh.B * sh.S * sh.Dv,
                sh.Dq * sh.Dk, sh.A * sh.Dq, sh.A * sh.Dk, sh.A,
                sh.S * sh.Dq};
            for (int i = 0; i < 8; i++)
                h[i] = tu_rand(&rng, (size_t)sizes[i], -1.0f, 1.0f);
            int32_t lens[8];
            for (int64_t b = 0; b < sh.B; b++)
                lens[b] = (int32_t)((b * 5 + 1) % (sh.S + 1));
            if (sh.B > 1)
                lens[0] = 0; /* a row with no key: zero weights and context */
            const int32_t *lp = sh.lens ? lens : NULL;

            /* the oracle: per call, on ref */
            inputs xr, xd;
            make_inputs(&xr, ref, kind, &sh, h, lp);
            float *want = per_call(ref, kind, &xr, &sh);
            /* per call on the device */
            make_inputs(&xd, ctx, kind, &sh, h, lp);
            float *dev = per_call(ctx, kind, &xd, &sh);
            const size_t n = (size_t)(sh.B * (sh.Dv + sh.S));
            TU_ASSERT_CLOSE(dev, want, n, ATOL, RTOL);

            /* keyed: the plan made, then the user's tensors dropped */
            seqk_seq_attention_params prm;
            seqk_seq_attention_params_init(&prm);
            prm.score = (seqk_score_kind)kind;
            seqk_seq_attention_inputs kin = xd.in;
            const seqk_tensor *query = kin.query;
            kin.query = NULL;
            seqk_seq_attention_keys *keys = NULL;
            TU_OK(ctx, seqk_seq_attention_keys_create(ctx, &prm, &kin, &keys));
            const int64_t dc[2] = {sh.B, sh.Dv}, dw[2] = {sh.B, sh.S};
            for (int step = 0; step < 2; step++) {
                seqk_tensor *c = tu_f32(ctx, 2, dc, NULL);
                seqk_tensor *w = tu_f32(ctx, 2, dw, NULL);
                TU_OK(ctx, seqk_seq_attention_keyed(ctx, keys, query, c, w));
                float *cc = tu_read(c), *ww = tu_read(w);
                TU_ASSERT_CLOSE(cc, want, (size_t)(sh.B * sh.Dv), ATOL, RTOL);
                TU_ASSERT_CLOSE(ww, want + sh.B * sh.Dv, (size_t)(sh.B * sh.S),
                                ATOL, RTOL);
                tu_assert_guard(c);
                tu_assert_guard(w);
                free(cc);
                free(ww);
                seqk_tensor_destroy(c);
                seqk_tensor_destroy(w);
                if (step == 0) {
                    /* the plan owns copies: the originals may change */
                    free_inputs(&xd);
                    float *q2 = h[0];
                    const int64_t dq[2] = {sh.B, sh.Dq};
                    xd.t[xd.n++] = (seqk_tensor *)(query =
                                                       tu_f32(ctx, 2, dq, q2));
                }
            }
            /* weights NULL is fine */
            seqk_tensor *c = tu_f32(ctx, 2, dc, NULL);
            TU_OK(ctx, seqk_seq_attention_keyed(ctx, keys, query, c, NULL));
            float *cc = tu_read(c);
            TU_ASSERT_CLOSE(cc, want, (size_t)(sh.B * sh.Dv), ATOL, RTOL);
            free(cc);
            seqk_tensor_destroy(c);
            seqk_seq_attention_keys_destroy(keys);
            free_inputs(&xd);
            free_inputs(&xr);
            free(want);
            free(dev);
            for (int i = 0; i < 8; i++)
                free(h[i]);
        }
    }
    seqk_context_destroy(ctx);
    seqk_context_destroy(ref);
}
END_TEST

START_TEST(keyed_bad_input)
{
    seqk_context *ctx = tu_context(_i), *other = tu_context(0);
    const int64_t dq[2] = {2, 4}, dk[3] = {2, 3, 4}, dW1[2] = {5, 4};
    const int64_t dW2bad[2] = {5, 7}, dv[1] = {5}, dc[2] = {2, 4};
    const int64_t dqbad[2] = {2, 5}, dl[1] = {2};
    seqk_tensor *q = tu_f32(ctx, 2, dq, NULL), *k = tu_f32(ctx, 3, dk, NULL);
    seqk_tensor *W1 = tu_f32(ctx, 2, dW1, NULL);
    seqk_tensor *W2 = tu_f32(ctx, 2, dW2bad, NULL);
    seqk_tensor *v = tu_f32(ctx, 1, dv, NULL);
    seqk_tensor *c = tu_f32(ctx, 2, dc, NULL);
    seqk_tensor *qbad = tu_f32(ctx, 2, dqbad, NULL);
    seqk_tensor *ki = tu_i32(ctx, 3, dk, NULL);
    const int32_t badlens[2] = {1, 9};
    seqk_tensor *lens = tu_i32(ctx, 1, dl, badlens);
    seqk_seq_attention_params prm;
    seqk_seq_attention_params_init(&prm);
    seqk_seq_attention_inputs in;
    seqk_seq_attention_keys *h = NULL;

    memset(&in, 0, sizeof in);
    in.keys = k;
    TU_FAILS(NULL, seqk_seq_attention_keys_create(NULL, &prm, &in, &h),
             SEQK_ERR_INVALID_ARG, "ctx is NULL");
    TU_FAILS(ctx, seqk_seq_attention_keys_create(ctx, &prm, NULL, &h),
             SEQK_ERR_INVALID_ARG, "in (the inputs) is NULL");
    TU_FAILS(ctx, seqk_seq_attention_keys_create(ctx, &prm, &in, NULL),
             SEQK_ERR_INVALID_ARG, "is NULL");
    in.query = q;
    TU_FAILS(ctx, seqk_seq_attention_keys_create(ctx, &prm, &in, &h),
             SEQK_ERR_INVALID_ARG, "in->query must be NULL");
    in.query = NULL;
    in.keys = ki;
    TU_FAILS(ctx, seqk_seq_attention_keys_create(ctx, &prm, &in, &h),
             SEQK_ERR_DTYPE, "keys");
    in.keys = k;
    in.key_lens = lens;
    TU_FAILS(ctx, seqk_seq_attention_keys_create(ctx, &prm, &in, &h),
             SEQK_ERR_INVALID_ARG, "key_lens[1] is 9");
    in.key_lens = NULL;
    prm.score = SEQK_SCORE_ADDITIVE;
    in.W1 = W1;
    in.W2 = W2;
    in.v = v;
    TU_FAILS(ctx, seqk_seq_attention_keys_create(ctx, &prm, &in, &h),
             SEQK_ERR_SHAPE, "W2 has shape [5,7]");
    in.W2 = NULL;
    TU_FAILS(ctx, seqk_seq_attention_keys_create(ctx, &prm, &in, &h),
             SEQK_ERR_INVALID_ARG, "needs W2");
    in.W2 = W1; /* [A,Dk] = [5,4] */
    prm.score = SEQK_SCORE_DOT;
    TU_FAILS(ctx, seqk_seq_attention_keys_create(ctx, &prm, &in, &h),
             SEQK_ERR_INVALID_ARG, "does not use it");
    prm.score = (seqk_score_kind)42;
    TU_FAILS(ctx, seqk_seq_attention_keys_create(ctx, &prm, &in, &h),
             SEQK_ERR_INVALID_ARG, "score is 42");
    prm.score = SEQK_SCORE_ADDITIVE;
    TU_OK(ctx, seqk_seq_attention_keys_create(ctx, &prm, &in, &h));
    ck_assert_ptr_nonnull(h);

    TU_FAILS(NULL, seqk_seq_attention_keyed(NULL, h, q, c, NULL),
             SEQK_ERR_INVALID_ARG, "ctx is NULL");
    TU_FAILS(ctx, seqk_seq_attention_keyed(ctx, NULL, q, c, NULL),
             SEQK_ERR_INVALID_ARG, "keys is NULL");
    TU_FAILS(ctx, seqk_seq_attention_keyed(ctx, h, qbad, c, NULL),
             SEQK_ERR_SHAPE, "query has shape [2,5]");
    TU_FAILS(ctx, seqk_seq_attention_keyed(ctx, h, NULL, c, NULL),
             SEQK_ERR_INVALID_ARG, "query");
    TU_FAILS(ctx, seqk_seq_attention_keyed(ctx, h, q, qbad, NULL),
             SEQK_ERR_SHAPE, "context");
    TU_FAILS(ctx, seqk_seq_attention_keyed(ctx, h, q, q, NULL),
             SEQK_ERR_INVALID_ARG, "distinct");
    TU_FAILS(ctx, seqk_seq_attention_keyed(ctx, h, ki, c, NULL),
             SEQK_ERR_DTYPE, "query");
    if (other != ctx)
        TU_FAILS(other, seqk_seq_attention_keyed(other, h, q, c, NULL),
                 SEQK_ERR_INVALID_ARG, "another context");
    TU_OK(ctx, seqk_seq_attention_keyed(ctx, h, q, c, NULL));
    ck_assert_int_eq(seqk_seq_attention_keys_destroy(NULL), SEQK_OK);
    seqk_seq_attention_keys_destroy(h);

    seqk_tensor *all[] = {q, k, W1, W2, v, c, qbad, ki, lens};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        seqk_tensor_destroy(all[i]);
    seqk_context_destroy(other);
    seqk_context_destroy(ctx);
}
END_TEST

TCase *attn_keys_tcase(void)
{
    TCase *tc = tcase_create("attn_keys");
    int n = tu_device_count();
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, keyed_matches_per_call, 0, n);
    tcase_add_loop_test(tc, keyed_bad_input, 0, n);
    return tc;
}
