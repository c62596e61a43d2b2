/*
 * search.c — legal-space generation and the search strategy of the tuner
 * (see search.h).
 */
#include "search.h"

#include <stdlib.h>
#include <string.h>

static const char *const outcome_names[SEQK_TUNE_OUTCOMES_] = {
    "ok", "wrong", "build", "crash", "timeout"
};

const char *seqk__tune_outcome_name(seqk_tune_outcome o)
{
    return (unsigned)o < SEQK_TUNE_OUTCOMES_ ? outcome_names[o] : "unknown";
}

int seqk__tune_outcome_from_name(const char *name)
{
    for (int i = 0; i < SEQK_TUNE_OUTCOMES_; i++)
        if (strcmp(name, outcome_names[i]) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------------- the space */

int seqk__tune_space_build(const seqk_tunable *t, const seqk_tune_limits *lim,
                          const int64_t *shape, int cap, seqk_tune_space *sp)
{
    const int np = t->num_params;
    memset(sp, 0, sizeof *sp);
    sp->t = t;
    sp->num_params = np;
    if (cap <= 0)
        cap = SEQK_TUNE_SPACE_CAP;
    int alloc = 64;
    sp->points = malloc((size_t)alloc * (size_t)(np > 0 ? np : 1) *
                        sizeof *sp->points);
    if (!sp->points)
        return -1;
    /* odometer over the value indices, last parameter fastest */
    int idx[SEQK_TUNE_MAX_PARAMS] = {0};
    int v[SEQK_TUNE_MAX_PARAMS];
    sp->sorted = 1;
    for (int i = 0; i < np; i++) {
        if (t->params[i].num_values < 1)
            return 0; /* a parameter without values: nothing is legal */
        for (int j = 1; j < t->params[i].num_values; j++)
            if (t->params[i].values[j] <= t->params[i].values[j - 1])
                sp->sorted = 0;
    }
    for (;;) {
        for (int i = 0; i < np; i++)
            v[i] = t->params[i].values[idx[i]];
        if (seqk__tunable_legal(t, v, lim, shape)) {
            if (sp->num_points < cap) {
                if (sp->num_points == alloc) {
                    alloc *= 2;
                    int *p = realloc(sp->points, (size_t)alloc * (size_t)np *
                                                     sizeof *p);
                    if (!p) {
                        seqk__tune_space_free(sp);
                        return -1;
                    }
                    sp->points = p;
                }
                memcpy(sp->points + (size_t)sp->num_points * (size_t)np, v,
                       (size_t)np * sizeof *v);
                sp->num_points++;
            }
            sp->total++;
        }
        int i = np - 1;
        while (i >= 0 && ++idx[i] == t->params[i].num_values)
            idx[i--] = 0;
        if (i < 0)
            break;
    }
    return 0;
}

void seqk__tune_space_free(seqk_tune_space *sp)
{
    free(sp->points);
    sp->points = NULL;
    sp->num_points = 0;
}

const int *seqk__tune_space_point(const seqk_tune_space *sp, int i)
{
    return sp->points + (size_t)i * (size_t)sp->num_params;
}

/* Points are in lexicographic order of value indices, and each
 * parameter's values ascend, so the order is lexicographic in values:
 * binary search. */
static int cmp_point(const int *a, const int *b, int np)
{
    for (int i = 0; i < np; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

int seqk__tune_space_find(const seqk_tune_space *sp, const int *v)
{
    int lo = 0, hi = sp->num_points - 1;
    while (sp->sorted && lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = cmp_point(seqk__tune_space_point(sp, mid), v, sp->num_params);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    /* values not ascending in some declaration: a scan */
    for (int i = 0; i < sp->num_points && !sp->sorted; i++)
        if (!cmp_point(seqk__tune_space_point(sp, i), v, sp->num_params))
            return i;
    return -1;
}

/* ------------------------------------------------------------ the search */

static uint64_t next_random(uint64_t *s)
{
    /* splitmix64: any seed, including 0, gives a good stream */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int seqk__tune_search_init(seqk_tune_search *s, const seqk_tune_space *sp,
                          uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->sp = sp;
    s->rng = seed;
    s->best = -1;
    const size_t n = (size_t)(sp->num_points > 0 ? sp->num_points : 1);
    s->measured = calloc(n, 1);
    s->results = calloc(n, sizeof *s->results);
    if (!s->measured || !s->results) {
        seqk__tune_search_free(s);
        return -1;
    }
    int def[SEQK_TUNE_MAX_PARAMS];
    seqk__tunable_defaults(sp->t, def);
    s->default_index = seqk__tune_space_find(sp, def);
    if (s->default_index >= 0)
        s->fixed[s->num_fixed++] = s->default_index;
    /* spread points: evenly over the enumeration, which walks the first
     * parameter slowest, so they cover its range */
    for (int k = 0; k < SEQK_TUNE_FIXED_SPREAD && sp->num_points > 0; k++) {
        int i = (int)(((int64_t)(2 * k + 1) * sp->num_points) /
                      (2 * SEQK_TUNE_FIXED_SPREAD));
        int dup = 0;
        for (int j = 0; j < s->num_fixed; j++)
            dup |= s->fixed[j] == i;
        if (!dup)
            s->fixed[s->num_fixed++] = i;
    }
    return 0;
}

void seqk__tune_search_free(seqk_tune_search *s)
{
    free(s->measured);
    free(s->results);
    s->measured = NULL;
    s->results = NULL;
}

/* An unmeasured neighbour of point b (one parameter one candidate value
 * up or down, legal), parameters and directions tried in a random order;
 * -1 when there is none. */
static int neighbour(seqk_tune_search *s, int b)
{
    const seqk_tune_space *sp = s->sp;
    const int np = sp->num_params;
    const int moves = 2 * np;
    if (moves == 0)
        return -1;
    const int start = (int)(next_random(&s->rng) % (uint64_t)moves);
    int v[SEQK_TUNE_MAX_PARAMS];
    for (int m = 0; m < moves; m++) {
        const int mv = (start + m) % moves, p = mv / 2;
        const seqk_tune_param *par = &sp->t->params[p];
        memcpy(v, seqk__tune_space_point(sp, b), (size_t)np * sizeof *v);
        int j = 0;
        while (j < par->num_values && par->values[j] != v[p])
            j++;
        j += mv % 2 ? 1 : -1;
        if (j < 0 || j >= par->num_values)
            continue;
        v[p] = par->values[j];
        int i = seqk__tune_space_find(sp, v);
        if (i >= 0 && !s->measured[i])
            return i;
    }
    return -1;
}

/* A random unmeasured point (the next one after a random index). */
static int random_point(seqk_tune_search *s)
{
    const int n = s->sp->num_points;
    const int start = (int)(next_random(&s->rng) % (uint64_t)n);
    for (int k = 0; k < n; k++) {
        int i = (start + k) % n;
        if (!s->measured[i])
            return i;
    }
    return -1;
}

int seqk__tune_search_next(seqk_tune_search *s)
{
    if (s->num_measured >= s->sp->num_points)
        return -1;
    while (s->next_fixed < s->num_fixed) {
        int i = s->fixed[s->next_fixed++];
        if (!s->measured[i])
            return i;
    }
    /* two local steps for each random one, while the best has neighbours */
    if (s->best >= 0 && s->turn++ % 3 != 2) {
        int i = neighbour(s, s->best);
        if (i >= 0)
            return i;
    }
    return random_point(s);
}

void seqk__tune_search_report(seqk_tune_search *s, int i,
                             const seqk_tune_result *r)
{
    if (i < 0 || i >= s->sp->num_points || s->measured[i])
        return;
    s->measured[i] = 1;
    s->results[i] = *r;
    s->num_measured++;
    if (r->outcome != SEQK_TUNE_OK || !(r->median_ms >= 0.0))
        return;
    if (s->best < 0 || r->median_ms < s->results[s->best].median_ms)
        s->best = i;
}

int seqk__tune_search_run(seqk_tune_search *s, seqk_tune_measure_fn measure,
                         void *measure_user, seqk_tune_clock_fn clock,
                         void *clock_user, double deadline)
{
    int n = 0;
    while (clock(clock_user) < deadline) {
        int i = seqk__tune_search_next(s);
        if (i < 0)
            break;
        seqk_tune_result r = {SEQK_TUNE_CRASH, 0.0, 0.0};
        int stop = measure(measure_user, i, seqk__tune_space_point(s->sp, i),
                           &r);
        seqk__tune_search_report(s, i, &r);
        n++;
        if (stop)
            break;
    }
    return n;
}
