/*
 * db_lookup.c — choosing an entry for a tunable, and the per-context
 * lookup seqk__tuned() calls on every op.
 *
 * Order: device match first (exact > same device, other driver > same
 * device name > same vendor), then the bucket (exact, else the nearest
 * by L1 distance among those at most one bucket — a factor of 2 — away
 * in every dimension), then the higher speedup, then file order.  An entry counts
 * only when its kernel id, source hash, dtype ("f32"), number of shape
 * dims and parameter names are those of the tunable, it beat the
 * defaults (speedup > 1) or its values are the defaults (the tuner's
 * record that the defaults won in that bucket, which keeps a neighbour's
 * winner from standing in there), its values are legal for this device
 * and shape,
 * and — for another driver of the same hardware — `seqk tune --check`
 * re-verified it on this driver (the entry's "verified" list).
 *
 * Per context the database is read once; per tunable the usable entries
 * are filtered once (kernel, hash, device match), and the answer for the
 * last shape is remembered, so a repeated op costs a compare and a copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune/db_internal.h"

/* Fills c from e when e is usable for t on fp (level != NONE). */
static seqk_tune_match candidate(const seqk_tune_entry *e, int index,
                                 const seqk_tune_fp *fp,
                                 const seqk_tunable *t, const char *hash,
                                 unsigned flags, seqk_tune_cand *c)
{
    seqk_tune_match level;
    if (strcmp(e->kernel, t->id) || strcmp(e->source_hash, hash) ||
        strcmp(e->dtype, "f32") || e->num_shape != t->num_shape ||
        e->num_params != t->num_params)
        return SEQK_TUNE_MATCH_NONE;
    level = seqk__tune_fp_match(&e->fp, fp);
    if (level == SEQK_TUNE_MATCH_NONE ||
        (level == SEQK_TUNE_MATCH_OTHER_DRIVER &&
         !(flags & SEQK_TUNE_FIND_UNVERIFIED) &&
         !seqk__tune_entry_verified(e, fp)))
        return SEQK_TUNE_MATCH_NONE;
    for (int i = 0; i < t->num_params; i++) {
        int j = 0;
        while (j < e->num_params && strcmp(e->names[j], t->params[i].name))
            j++;
        if (j == e->num_params)
            return SEQK_TUNE_MATCH_NONE;
        c->values[i] = e->values[j];
    }
    if (!(seqk__tune_entry_speedup(e) > 1)) {
        int def[SEQK_TUNE_MAX_PARAMS];
        seqk__tunable_defaults(t, def);
        if (memcmp(def, c->values, (size_t)t->num_params * sizeof *def))
            return SEQK_TUNE_MATCH_NONE;
    }
    c->entry = index;
    c->level = level;
    memcpy(c->bucket, e->bucket, sizeof c->bucket);
    c->speedup = seqk__tune_entry_speedup(e);
    return level;
}

/* Buckets farther than this in any dimension (a factor of 2 per bucket)
 * never stand in for each other: parameters tuned for a 64x1 GEMM say
 * nothing about a 128x1500 one (measured: 13x slower when they did). */
#define SEQK_TUNE_NEAR 1

static int near(const int *a, const int *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] - b[i] > SEQK_TUNE_NEAR || b[i] - a[i] > SEQK_TUNE_NEAR)
            return 0;
    return 1;
}

static int distance(const int *a, const int *b, int n)
{
    int d = 0;
    for (int i = 0; i < n; i++)
        d += a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
    return d;
}

/* 1 when a (at bucket distance da) is preferred over b (db). */
static int better(const seqk_tune_cand *a, int da, const seqk_tune_cand *b,
                  int db)
{
    if (a->level != b->level)
        return a->level > b->level;
    if (da != db)
        return da < db;
    if (a->speedup != b->speedup)
        return a->speedup > b->speedup;
    return a->entry < b->entry;
}

const seqk_tune_entry *seqk__tune_db_find_ex(const seqk_tune_db *db,
                                            const seqk_tune_fp *fp,
                                            const seqk_tunable *t,
                                            const char *hash,
                                            const int64_t *shape,
                                            const seqk_tune_limits *lim,
                                            unsigned flags,
                                            seqk_tune_match *match)
{
    char own[17];
    int bucket[SEQK_TUNE_MAX_SHAPE] = {0}, best_d = 0, found = 0;
    seqk_tune_cand best = {0}, c;
    if (match)
        *match = SEQK_TUNE_MATCH_NONE;
    if (!db || !fp || !t || !lim || (!shape && t->num_shape > 0))
        return NULL;
    if (!hash) {
        seqk__tunable_hash(t, own);
        hash = own;
    }
    seqk__tune_bucket(t->num_shape, shape, bucket);
    for (int i = 0; i < db->count; i++) {
        if (!candidate(&db->entries[i], i, fp, t, hash, flags, &c) ||
            !near(c.bucket, bucket, t->num_shape) ||
            !seqk__tunable_legal(t, c.values, lim, shape))
            continue;
        int d = distance(c.bucket, bucket, t->num_shape);
        if (!found || better(&c, d, &best, best_d)) {
            best = c;
            best_d = d;
            found = 1;
        }
    }
    if (!found)
        return NULL;
    if (match)
        *match = best.level;
    return &db->entries[best.entry];
}

const seqk_tune_entry *seqk__tune_db_find(const seqk_tune_db *db,
                                         const seqk_tune_fp *fp,
                                         const seqk_tunable *t,
                                         const char *hash,
                                         const int64_t *shape,
                                         const seqk_tune_limits *lim,
                                         seqk_tune_match *match)
{
    return seqk__tune_db_find_ex(db, fp, t, hash, shape, lim, 0, match);
}

/* ------------------------------------------------- per-context lookup */

void seqk__tune_rt_free(seqk_tune_db *db)
{
    for (int i = 0; i < db->num_rt; i++)
        free(db->rt[i].cands);
    free(db->rt);
    db->rt = NULL;
    db->num_rt = db->cap_rt = 0;
}

static const char *bucket_str(const int *b, int n, char *buf, size_t len)
{
    size_t used = 0;
    used += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%d",
                                 i ? "," : "", b[i]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
    return buf;
}

/* The cache of tunable t in db, built on first use (NULL: no memory). */
static seqk_tune_rt *rt_of(seqk_context *ctx, seqk_tune_db *db,
                           const seqk_tunable *t)
{
    char hash[17];
    int unverified = 0;
    for (int i = 0; i < db->num_rt; i++)
        if (db->rt[i].t == t)
            return &db->rt[i];
    if (db->num_rt == db->cap_rt) {
        int cap = db->cap_rt ? 2 * db->cap_rt : 8;
        seqk_tune_rt *n = realloc(db->rt, (size_t)cap * sizeof *n);
        if (!n)
            return NULL;
        db->rt = n;
        db->cap_rt = cap;
    }
    seqk_tune_rt *rt = &db->rt[db->num_rt];
    memset(rt, 0, sizeof *rt);
    rt->t = t;
    seqk__tunable_hash(t, hash);
    if (db->count > 0) {
        rt->cands = malloc((size_t)db->count * sizeof *rt->cands);
        if (!rt->cands)
            return NULL;
    }
    for (int i = 0; i < db->count; i++) {
        seqk_tune_cand *c = &rt->cands[rt->num_cands];
        seqk_tune_match m = candidate(&db->entries[i], i, &db->fp, t, hash,
                                      SEQK_TUNE_FIND_UNVERIFIED, c);
        if (m == SEQK_TUNE_MATCH_NONE)
            continue;
        if (m == SEQK_TUNE_MATCH_OTHER_DRIVER &&
            !seqk__tune_entry_verified(&db->entries[i], &db->fp)) {
            if (!unverified++)
                seqk__log(ctx, SEQK_VERBOSE_DISPATCH,
                          "tuning: %s: entry for driver '%s' is not "
                          "verified on driver '%s'; skipped (seqk tune "
                          "--check verifies it)", t->id,
                          db->entries[i].fp.driver, db->fp.driver);
            continue;
        }
        rt->num_cands++;
    }
    db->num_rt++;
    return rt;
}

static void log_choice(seqk_context *ctx, seqk_tune_rt *rt, const int64_t *shape,
                       const int *bucket, const seqk_tune_cand *c)
{
    const seqk_tunable *t = rt->t;
    char line[512] = "", b1[64], b2[64];
    int key[SEQK_TUNE_MAX_SHAPE + 1];
    size_t used = 0;
    if (!(ctx->verbose & SEQK_VERBOSE_DISPATCH))
        return;
    memcpy(key, bucket, SEQK_TUNE_MAX_SHAPE * sizeof *key);
    key[SEQK_TUNE_MAX_SHAPE] = c ? c->entry : -1;
    for (int i = 0; i < rt->num_logged; i++)
        if (!memcmp(rt->logged[i], key, sizeof key))
            return;
    if (rt->num_logged == SEQK_TUNE_LOGGED_BUCKETS)
        return; /* enough said */
    memcpy(rt->logged[rt->num_logged++], key, sizeof key);
    for (int i = 0; i < t->num_shape && used < sizeof line; i++)
        used += (size_t)snprintf(line + used, sizeof line - used, " %s=%lld",
                                 t->shape_names[i] ? t->shape_names[i] : "?",
                                 (long long)shape[i]);
    if (!c) {
        seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "tuning: %s%s: defaults",
                  t->id, line);
        return;
    }
    used = strlen(line);
    used += (size_t)snprintf(line + used, sizeof line - used, ": entry %s",
                             bucket_str(c->bucket, t->num_shape, b1,
                                        sizeof b1));
    if (used < sizeof line && memcmp(c->bucket, bucket,
                                     (size_t)t->num_shape * sizeof *bucket))
        used += (size_t)snprintf(line + used, sizeof line - used,
                                 " for bucket %s",
                                 bucket_str(bucket, t->num_shape, b2,
                                            sizeof b2));
    if (used < sizeof line)
        used += (size_t)snprintf(line + used, sizeof line - used,
                                 " (%s, %.2fx) ->",
                                 seqk__tune_match_name(c->level), c->speedup);
    for (int i = 0; i < t->num_params && used < sizeof line; i++)
        used += (size_t)snprintf(line + used, sizeof line - used, " %s=%d",
                                 t->params[i].name, c->values[i]);
    seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "tuning: %s%s", t->id, line);
}

/* Reads the context's database once; failures are reported once. */
static void load(seqk_context *ctx, seqk_tune_state *s)
{
    char path[1024], msg[1200];
    seqk_tune_db *db = NULL;
    int missing = 0;
    s->db_loaded = 1;
    seqk__tune_db_path(ctx, path, sizeof path);
    if (!path[0]) {
        seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "tuning: no database path "
                  "($SEQK_TUNING_DB, $XDG_CACHE_HOME, $HOME unset); "
                  "built-in defaults");
        return;
    }
    seqk_status st = seqk__tune_db_read_file(path, &db, &missing, msg,
                                             sizeof msg);
    if (st != SEQK_OK) {
        seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "%s; ignored",
                  msg[0] ? msg : "tuning database: out of memory");
        return;
    }
    if (missing || db->count == 0) {
        seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "tuning: no %sdatabase at "
                  "%s; built-in defaults", missing ? "" : "entries in the ",
                  path);
        seqk__tune_db_free(db);
        return;
    }
    seqk__tune_fingerprint(ctx, &db->fp);
    seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "tuning: database %s: %d "
              "entries; device %s '%s' (driver '%s')", path, db->count,
              db->fp.backend, db->fp.device, db->fp.driver);
    s->db = db;
}

int seqk__tune_db_lookup(seqk_context *ctx, seqk_tune_state *s,
                         const seqk_tunable *t, const int64_t *shape,
                         int *out)
{
    int bucket[SEQK_TUNE_MAX_SHAPE] = {0}, best_d = 0;
    const seqk_tune_cand *best = NULL;
    if (!s->db_loaded)
        load(ctx, s);
    if (!s->db || (!shape && t->num_shape > 0) ||
        t->num_shape > SEQK_TUNE_MAX_SHAPE ||
        t->num_params > SEQK_TUNE_MAX_PARAMS)
        return 0;
    seqk_tune_rt *rt = rt_of(ctx, s->db, t);
    if (!rt)
        return 0;
    size_t shape_bytes = (size_t)t->num_shape * sizeof *shape;
    if (rt->have_last && !memcmp(rt->last_shape, shape, shape_bytes)) {
        if (rt->last_found)
            memcpy(out, rt->last_values, (size_t)t->num_params * sizeof *out);
        return rt->last_found;
    }
    seqk__tune_bucket(t->num_shape, shape, bucket);
    for (int i = 0; i < rt->num_cands; i++) {
        const seqk_tune_cand *c = &rt->cands[i];
        if (!near(c->bucket, bucket, t->num_shape))
            continue;
        int d = distance(c->bucket, bucket, t->num_shape);
        if (best && !better(c, d, best, best_d))
            continue;
        if (!seqk__tunable_legal(t, c->values, &s->limits, shape))
            continue;
        best = c;
        best_d = d;
    }
    log_choice(ctx, rt, shape, bucket, best);
    rt->have_last = 1;
    memcpy(rt->last_shape, shape, shape_bytes);
    rt->last_found = best != NULL;
    if (best) {
        memcpy(rt->last_values, best->values,
               (size_t)t->num_params * sizeof *out);
        memcpy(out, best->values, (size_t)t->num_params * sizeof *out);
    }
    return rt->last_found;
}
