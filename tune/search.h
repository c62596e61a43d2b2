/*
 * search.h — the tuner's search: the legal space of a tunable for one
 * device and shape, generated up front from its declaration, and the
 * strategy that picks the next candidate to measure.  No I/O and no clock
 * of its own: `seqk tune` (cmd_tune.c) measures, the tests feed
 * fabricated costs.
 *
 * Space: the cartesian product of every parameter's candidate values in
 * lexicographic order (the last parameter varies fastest), filtered by
 * seqk__tunable_legal(t, v, lim, shape); at most `cap` points are kept
 * (the walk goes on counting, so `total` says how many there were).
 *
 * Strategy (deterministic for a seed):
 *   1. a fixed set, the same on every device: the defaults, then a few
 *      points spread evenly over the space;
 *   2. then, in turns, local search (an unmeasured neighbour of the best
 *      point so far: one parameter moved to the adjacent candidate value)
 *      and random sampling of unmeasured points, until the space is
 *      exhausted or the caller's time is up.
 * A point reported (seqk__tune_search_report) is never proposed again, so
 * a resumed run reports its journal first and carries on.  Only points
 * measured SEQK_TUNE_OK can become the best.
 */
#ifndef SEQK_TUNE_SEARCH_H
#define SEQK_TUNE_SEARCH_H

#include <stdint.h>

#include "tune/tune.h"

/* How the measurement of a candidate ended. */
typedef enum seqk_tune_outcome {
    SEQK_TUNE_OK = 0,
    SEQK_TUNE_WRONG,   /* results differ from the reference */
    SEQK_TUNE_BUILD,   /* the kernel did not build / the op failed */
    SEQK_TUNE_CRASH,   /* the worker died (signal or exit) */
    SEQK_TUNE_TIMEOUT, /* killed by the watchdog */
    SEQK_TUNE_OUTCOMES_
} seqk_tune_outcome;

/* "ok", "wrong", "build", "crash", "timeout"; from_name: -1 if unknown. */
const char *seqk__tune_outcome_name(seqk_tune_outcome o);
int seqk__tune_outcome_from_name(const char *name);

typedef struct seqk_tune_result {
    seqk_tune_outcome outcome;
    double median_ms, min_ms; /* when OK */
} seqk_tune_result;

#define SEQK_TUNE_SPACE_CAP 100000

typedef struct seqk_tune_space {
    const seqk_tunable *t;
    int num_params;
    int num_points;
    int *points;    /* num_points x num_params values */
    int64_t total;  /* legal points, also those past the cap */
    int sorted;     /* every parameter's values ascend: points sorted */
} seqk_tune_space;

/* Builds the legal space of t for lim and shape (shape may be NULL: device
 * limits only), keeping at most cap points (<= 0: SEQK_TUNE_SPACE_CAP).
 * Returns 0, or -1 when out of memory. */
int seqk__tune_space_build(const seqk_tunable *t, const seqk_tune_limits *lim,
                          const int64_t *shape, int cap, seqk_tune_space *sp);
void seqk__tune_space_free(seqk_tune_space *sp);
const int *seqk__tune_space_point(const seqk_tune_space *sp, int i);
/* Index of the point with values v, or -1. */
int seqk__tune_space_find(const seqk_tune_space *sp, const int *v);

#define SEQK_TUNE_FIXED_SPREAD 4

typedef struct seqk_tune_search {
    const seqk_tune_space *sp;
    uint64_t rng;
    unsigned char *measured;  /* per point: 0 no, 1 reported */
    seqk_tune_result *results;
    int num_measured;
    int fixed[1 + SEQK_TUNE_FIXED_SPREAD];
    int num_fixed, next_fixed;
    int best;                 /* index of the best OK point, or -1 */
    int default_index;        /* -1 when the defaults are not in the space */
    unsigned turn;            /* alternates local / random */
} seqk_tune_search;

/* Returns 0, or -1 when out of memory. */
int seqk__tune_search_init(seqk_tune_search *s, const seqk_tune_space *sp,
                          uint64_t seed);
void seqk__tune_search_free(seqk_tune_search *s);
/* The next point to measure, or -1 when every point was measured. */
int seqk__tune_search_next(seqk_tune_search *s);
/* Records the result of point i (a later report of the same point is
 * ignored). */
void seqk__tune_search_report(seqk_tune_search *s, int i,
                             const seqk_tune_result *r);
/* Index of the best OK point so far, or -1. */
static inline int seqk_tune_search_best(const seqk_tune_search *s)
{
    return s->best;
}

/* Measures a candidate: fills r.  Return non-zero to stop the search
 * (e.g. interrupted). */
typedef int (*seqk_tune_measure_fn)(void *user, int index, const int *values,
                                    seqk_tune_result *r);
/* Seconds since some fixed point (a monotonic clock, or a test's fake). */
typedef double (*seqk_tune_clock_fn)(void *user);

/* The search loop: proposes, measures and reports points until the space
 * is exhausted, measure asks to stop, or the clock passes deadline (the
 * candidate under way finishes).  Returns the number measured. */
int seqk__tune_search_run(seqk_tune_search *s, seqk_tune_measure_fn measure,
                         void *measure_user, seqk_tune_clock_fn clock,
                         void *clock_user, double deadline);

#endif /* SEQK_TUNE_SEARCH_H */
