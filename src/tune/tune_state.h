/*
 * tune_state.h — what a context keeps for tuning: its device limits, the
 * tuner's overrides and the database loaded for it (once, on first use).
 */
#ifndef SEQK_TUNE_TUNE_STATE_H
#define SEQK_TUNE_TUNE_STATE_H

#include "tune/tune.h"

typedef struct seqk_tune_db seqk_tune_db; /* db.c */

typedef struct seqk_tune_override {
    const seqk_tunable *tunable;
    int values[SEQK_TUNE_MAX_PARAMS];
} seqk_tune_override;

typedef struct seqk_tune_state seqk_tune_state;
struct seqk_tune_state {
    seqk_tune_limits limits;
    seqk_tune_override overrides[SEQK_TUNE_MAX_OVERRIDES];
    int num_overrides;
    int db_loaded;          /* the load was attempted */
    seqk_tune_db *db;       /* NULL: none, or unusable (reported once) */
};

/* ctx->tune, created on first use (NULL when out of memory). */
seqk_tune_state *seqk__tune_state(seqk_context *ctx);
/* Frees ctx->tune (context destruction). */
void seqk__tune_state_free(seqk_context *ctx);

/* db.c: loads s->db on first call, then writes the values of the best
 * usable entry for (t, shape) to out and returns 1, or returns 0 and
 * leaves out alone. */
int seqk__tune_db_lookup(seqk_context *ctx, seqk_tune_state *s,
                         const seqk_tunable *t, const int64_t *shape,
                         int *out);
void seqk__tune_db_free(seqk_tune_db *db);

#endif /* SEQK_TUNE_TUNE_STATE_H */
