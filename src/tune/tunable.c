/*
 * tunable.c — parameter declarations, legality, shape buckets, tuner
 * overrides and seqk__tuned(), the one place kernels get their values.
 */
#include <stdlib.h>
#include <string.h>

#include "tune/tune.h"
#include "tune/tune_state.h"

const seqk_tunable *seqk__tunable_find(const char *id)
{
    const seqk_tunable *const *list = seqk__tunable_list();
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i]->id, id) == 0)
            return list[i];
    return NULL;
}

void seqk__tunable_defaults(const seqk_tunable *t, int *out)
{
    for (int i = 0; i < t->num_params; i++)
        out[i] = t->params[i].def;
}

int seqk__tunable_legal(const seqk_tunable *t, const int *v,
                       const seqk_tune_limits *lim, const int64_t *shape)
{
    for (int i = 0; i < t->num_params; i++) {
        const seqk_tune_param *p = &t->params[i];
        int found = 0;
        for (int j = 0; j < p->num_values && !found; j++)
            found = p->values[j] == v[i];
        if (!found)
            return 0;
    }
    return t->legal ? t->legal(v, lim, shape) : 1;
}

void seqk__tune_bucket(int n, const int64_t *shape, int *bucket)
{
    for (int i = 0; i < n; i++) {
        int b = 0;
        while (b < 62 && ((int64_t)1 << b) < shape[i])
            b++;
        bucket[i] = b;
    }
}

seqk_tune_state *seqk__tune_state(seqk_context *ctx)
{
    if (!ctx->tune) {
        ctx->tune = calloc(1, sizeof *ctx->tune);
        if (ctx->tune)
            seqk__tune_limits(ctx, &ctx->tune->limits);
    }
    return ctx->tune;
}

void seqk__tune_state_free(seqk_context *ctx)
{
    if (!ctx->tune)
        return;
    seqk__tune_db_free(ctx->tune->db);
    free(ctx->tune);
    ctx->tune = NULL;
}

seqk_status seqk__tune_override(seqk_context *ctx, const char *id,
                                const int *values)
{
    seqk_tune_state *s = seqk__tune_state(ctx);
    const seqk_tunable *t = seqk__tunable_find(id);
    if (!s)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "tuner override: out of memory");
    if (!t)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "tuner override: no tunable '%s'", id);
    for (int i = 0; i < s->num_overrides; i++) {
        if (s->overrides[i].tunable != t)
            continue;
        if (values) {
            memcpy(s->overrides[i].values, values,
                   (size_t)t->num_params * sizeof *values);
        } else {
            s->overrides[i] = s->overrides[--s->num_overrides];
        }
        return SEQK_OK;
    }
    if (!values)
        return SEQK_OK;
    if (s->num_overrides == SEQK_TUNE_MAX_OVERRIDES)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "tuner override: more than %d at once",
                           SEQK_TUNE_MAX_OVERRIDES);
    s->overrides[s->num_overrides].tunable = t;
    memcpy(s->overrides[s->num_overrides].values, values,
           (size_t)t->num_params * sizeof *values);
    s->num_overrides++;
    return SEQK_OK;
}

void seqk__tuned(seqk_context *ctx, const seqk_tunable *t,
                 const int64_t *shape, int *out)
{
    seqk_tune_state *s = seqk__tune_state(ctx);
    seqk__tunable_defaults(t, out);
    if (!s)
        return;
    for (int i = 0; i < s->num_overrides; i++)
        if (s->overrides[i].tunable == t) {
            memcpy(out, s->overrides[i].values,
                   (size_t)t->num_params * sizeof *out);
            return;
        }
    /* The database (db.c) writes out only when it has a legal entry. */
    seqk__tune_db_lookup(ctx, s, t, shape, out);
}
