/*
 * peer_common.h — what every peer benchmark program shares with
 * `seqk bench`: the problem descriptor grammar, the FLOP formulas, the
 * timing loop (one untimed warm-up, then calls timed alone until both
 * --repeat calls and --min-time milliseconds are reached) and the JSON
 * line format, so that peer and seqk rows can be divided by each other.
 *
 * Descriptors (bench/README.md):
 *   gemm:m=M,n=N,k=K[,transa=0|1][,transb=0|1]
 *   lstm:hidden=H,batch=B,seq=T[,input=I][,dir=fwd|bi][,layers=L]
 *   gru:  ... as lstm ... [,lbr=0|1]          (default 1)
 *   rnn:  ... as lstm ... [,act=tanh|relu]     (default tanh)
 *   attention:batch=B,heads=NH,seq=S,dim=D[,kvseq=S2][,causal=0|1]
 */
#ifndef SEQK_PEER_COMMON_H
#define SEQK_PEER_COMMON_H

#include <stddef.h>
#include <stdint.h>

typedef enum peer_kind {
    PEER_GEMM = 0,
    PEER_LSTM,
    PEER_GRU,
    PEER_RNN,
    PEER_ATTENTION
} peer_kind;

typedef struct peer_problem {
    const char *text; /* the descriptor exactly as given */
    peer_kind kind;
    int64_t m, n, k, transa, transb;
    int64_t hidden, batch, seq, input, bidir, layers, lbr, act; /* act: 0 tanh, 1 relu */
    int64_t heads, dim, kvseq, causal;
} peer_problem;

typedef struct peer_options {
    int threads;        /* --threads N (default 1) */
    long repeat;        /* --repeat N (default 5) */
    double min_time_ms; /* --min-time MS (default 200) */
    int nproblems;
    char **problems;    /* the descriptors, in argv */
} peer_options;

/* Parses text into p.  Returns 0, or -1 with a one-line reason in err. */
int peer_parse(const char *text, peer_problem *p, char *err, size_t err_len);
const char *peer_kind_name(peer_kind kind);
int peer_gates_of(peer_kind kind); /* LSTM 4, GRU 3, RNN 1 */
/* FLOPs of one call, the same formulas as seqk bench (bench/README.md). */
double peer_flops(const peer_problem *p);

/* Parses [--threads N] [--repeat N] [--min-time MS] PROBLEM...; on a usage
 * error prints it with usage and exits with status 2. */
void peer_parse_args(int argc, char **argv, peer_options *o,
                     const char *usage);

/* One timed call of the op; returns 0 on success, else nonzero with a
 * message in err. */
typedef int (*peer_call_fn)(void *arg, char *err, size_t err_len);

typedef struct peer_result {
    long runs;
    double ms_median, ms_min;
} peer_result;

/* Warm-up, then the timed loop.  Returns 0, or the first failing call's
 * status (err holds the message). */
int peer_time(peer_call_fn fn, void *arg, const peer_options *o,
              peer_result *r, char *err, size_t err_len);

/* One JSON line on stdout in the shape of `seqk bench --format json`. */
void peer_print_result(const peer_problem *p, const char *device,
                       const char *backend, int threads,
                       const peer_result *r);
/* The same line with null times and "error". */
void peer_print_error(const char *problem, const char *op,
                      const char *device, int threads, const char *msg);

/* Uniform values in [lo, hi), seeded (splitmix64 / xorshift). */
void peer_fill(float *x, size_t n, float lo, float hi, uint64_t seed);
/* A seed derived from the descriptor text, like seqk's. */
uint64_t peer_seed(const char *text);
/* 64-byte aligned, zeroed; NULL on failure. */
float *peer_alloc(size_t count);
/* Number of non-finite values in x[0..n). */
size_t peer_count_nonfinite(const float *x, size_t n);

#endif
