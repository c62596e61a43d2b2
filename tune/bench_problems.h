/*
 * bench_problems.h — the problems `seqk bench` and `seqk tune` measure:
 * descriptor parsing ("gemm:m=64,n=64,k=64"), the named suites, FLOP
 * counts, and one problem set up on one context (inputs allocated and
 * filled once, then the op called through the public API as often as the
 * timer wants).  Public API only; part of the tuner library, reached by
 * the tools through seqk_tune.h.
 */
#ifndef SEQK_TUNER_BENCH_PROBLEMS_H
#define SEQK_TUNER_BENCH_PROBLEMS_H

#include <stddef.h>
#include <stdint.h>

#include "seqk.h"

typedef enum bench_kind {
    BENCH_GEMM = 0,
    BENCH_LSTM,
    BENCH_GRU,
    BENCH_RNN,
    BENCH_ATTENTION,
    BENCH_SEQATTN,
    BENCH_SOFTMAX,
    BENCH_LINEAR
} bench_kind;

/* A parsed descriptor.  Every size is >= 1; unused fields keep defaults. */
typedef struct bench_problem {
    const char *text; /* the descriptor exactly as given (not copied) */
    bench_kind kind;
    /* gemm */
    int64_t m, n, k, transa, transb;
    /* lstm, gru, rnn: input defaults to hidden; bidir 0 fwd / 1 bi;
     * act 0 tanh / 1 relu (rnn) */
    int64_t hidden, batch, seq, input, bidir, layers, lbr, act;
    /* attention (batch, seq shared): kvseq defaults to seq */
    int64_t heads, dim, kvseq, causal;
    /* seqattn (batch, seq, dim shared): a seqk_score_kind; keyed 1: the
     * keys plan is made at setup, the timed call is one decoder step */
    int64_t score, keyed;
    /* linear (m, n, k shared with gemm): layout 0 W [N,K] / 1 [K,N];
     * bias 0/1 (default 1) */
    int64_t layout, bias;
    /* softmax (n shared with gemm): X [rows, n], or [rows, n, inner]
     * when inner is given (0: not given) */
    int64_t rows, inner;
    /* lstm, gru, rnn, linear: weights=f32|bf16 (0/1; the plan's
     * weight_dtype) */
    int64_t wbf16;
} bench_problem;

/* Parses text into p (p->text = text).  Returns 0, or -1 with a one-line
 * reason in err (without the descriptor itself). */
int bench_parse(const char *text, bench_problem *p, char *err,
                size_t err_len);

/* "gemm", "lstm", "gru", "rnn", "attention", "seqattn", "softmax",
 * "linear". */
const char *bench_kind_name(bench_kind kind);

/* Gates per cell of an RNN-family problem (LSTM 4, GRU 3, RNN 1). */
int bench_gates_of(bench_kind kind);

/* Floating-point operations of one call (see bench/README.md). */
double bench_flops(const bench_problem *p);

/* Absolute and relative tolerance against the reference backend, scaled
 * by the problem's reduction lengths. */
void bench_tolerance(const bench_problem *p, double *atol, double *rtol);

/* The descriptors of a named suite ("quick", "deepbench"), NULL-terminated;
 * NULL for an unknown name. */
const char *const *bench_suite(const char *name);
/* "quick, deepbench" for messages. */
const char *bench_suite_names(void);

/* One problem on one context: tensors (and the RNN plan) allocated once,
 * inputs filled with seeded random values that depend only on the
 * descriptor, so every device sees the same inputs. */
typedef struct bench_instance bench_instance;

/* On failure returns the status and writes a message to err. */
seqk_status bench_setup(seqk_context *ctx, const bench_problem *p,
                        bench_instance **inst, char *err, size_t err_len);
/* Runs the op once (this is the only call that is timed). */
seqk_status bench_run(bench_instance *inst, char *err, size_t err_len);
/* Reads every output, concatenated, into a malloc'd buffer. */
seqk_status bench_read_outputs(bench_instance *inst, float **out,
                               size_t *count, char *err, size_t err_len);
void bench_destroy(bench_instance *inst); /* NULL ignored */

#endif
