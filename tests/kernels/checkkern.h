/*
 * checkkern.h — the per-kernel harness (tests/kernels/), in the spirit of
 * dav1d's checkasm: every entry of every compiled ISA's kernel tables
 * (src/cpu_simd/gemm.h, rnn.h, attention.h) against a scalar version of
 * its contract written here, on edge sizes, with guard zones around every
 * output, and a --bench mode that times each kernel.
 *
 * Each family file (check_gemm.c, check_rnn.c, check_attention.c) walks
 * its table entries:
 *
 *   if (ck_want("gemm.ukernel"))       the entry, unless --filter skips it
 *       for each shape and data kind:
 *           fill inputs; outputs and their guards get known contents
 *           run the kernel; compute the expected outputs in double
 *           ck_compare(...)            every element: computed ones within
 *                                      their tolerance, the rest untouched
 *   if (ck_bench_on()) ck_bench(...)   median time, GFLOP/s
 *
 * Data kinds (ck_fill):
 *   CK_EXACT   multiples of 1/8 in [-1, 1]: products and sums are exact in
 *              float in any order, so linear kernels must match bit for
 *              bit (a 1-ulp slip anywhere shows)
 *   CK_RANDOM  uniform in [-1, 1]: tolerance scaled to the reduction
 *              length and the magnitude of its terms
 *   CK_LANES   every lane of a vector gets the same values (exact ones):
 *              the lanes' results must be bitwise equal, which catches a
 *              one-lane slip inside exp/tanh-based kernels whose tolerance
 *              against scalar C is a few ulp
 */
#ifndef SEQK_TESTS_CHECKKERN_H
#define SEQK_TESTS_CHECKKERN_H

#include <stddef.h>
#include <stdint.h>

#include "cpu_simd/cpu_simd.h"

/* float epsilon (2^-23) as a double, for tolerances */
#define CK_EPS 1.1920928955078125e-07

typedef enum { CK_EXACT = 0, CK_RANDOM, CK_LANES, CK_KINDS } ck_kind;

extern const char *const ck_kind_names[CK_KINDS];

/* xorshift64*, seeded from --seed and a per-check salt */
typedef struct ck_rng {
    uint64_t s;
} ck_rng;
void ck_rng_init(ck_rng *r, uint64_t salt);
uint32_t ck_u32(ck_rng *r);
int ck_int(ck_rng *r, int lo, int hi); /* lo..hi inclusive */
/* One value of the kind (CK_LANES: as CK_EXACT). */
float ck_value(ck_rng *r, ck_kind kind);
void ck_fill(ck_rng *r, float *x, size_t n, ck_kind kind);

/* 64-byte aligned buffers of n floats with CK_GUARD floats of sentinel
 * before and after (so n floats from the pointer keep the alignment).
 * The contents start as a NaN pattern, so an unwritten output shows. */
#define CK_GUARD 32
float *ck_alloc(size_t n);
void ck_free(float *p);
/* 0 (and a failure report naming what) if a guard zone was written. */
int ck_guards(const float *p, const char *what);

/* The entry being checked: "<isa> <table entry>".  ck_want() starts one
 * (returns 0 when --filter excludes it); ck_done() prints its verdict. */
int ck_want(const char *entry);
void ck_done(void);

/* Reports a failure of the current entry: shape and detail (printf). */
void ck_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Compares n outputs: |got - want| <= tol elementwise, tol 0 meaning bit
 * for bit (an untouched element must keep its exact bits).  On the first
 * mismatch reports "what[index] in shape" and returns 0.  tol < 0: the
 * element is scratch (any value). */
int ck_compare(const char *what, const char *shape, const float *got,
               const float *want, const double *tol, size_t n);
/* ck_compare with one tolerance for all elements. */
int ck_compare1(const char *what, const char *shape, const float *got,
                const float *want, double tol, size_t n);
/* Bitwise equality of got[idx[i]] and got[idx[0]] (lane check). */
int ck_same(const char *what, const char *shape, const float *got,
            const size_t *idx, size_t n);

/* Whether the current entry has failed (to stop its shape loops). */
int ck_failed(void);

/* --bench: times fn(arg) (median of repeats, calls batched to ~1 ms) and
 * prints the entry, shape, ns per call and GFLOP/s (flops per call; 0:
 * bytes per call give GB/s instead). */
int ck_bench_on(void);
void ck_bench(const char *shape, void (*fn)(void *), void *arg, double flops,
              double bytes);

/* The families (each ISA's table; skipped when NULL). */
void check_gemm(const seqk_cpu_isa *isa);
void check_attention(const seqk_cpu_isa *isa);
void check_rnn(const seqk_cpu_isa *isa);
void check_elementwise(const seqk_cpu_isa *isa);

#endif /* SEQK_TESTS_CHECKKERN_H */
