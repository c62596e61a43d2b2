/*
 * openblas_sgemm.c — the OpenBLAS peer for `seqk bench` gemm problems:
 * cblas_sgemm, row-major, Y[M,N] = A'[M,K] B'[K,N] (alpha 1, beta 0),
 * the same tensors as seqk bench:
 *
 *   A [M,K] (transa=1: [K,M])   B [K,N] (transb=1: [N,K])   Y [M,N]
 *
 * Threads: openblas_set_num_threads(--threads).  The "backend" field
 * names the kernel set OpenBLAS chose at run time (openblas_get_corename),
 * which OPENBLAS_CORETYPE overrides: unset it to let OpenBLAS pick.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "peer_common.h"

static const char usage[] =
    "usage: openblas_sgemm [--threads N] [--repeat N] [--min-time MS] "
    "gemm:m=M,n=N,k=K[,transa=0|1][,transb=0|1]...\n"
    "Times cblas_sgemm and prints one JSON line per problem.\n";

typedef struct gemm_call {
    const peer_problem *p;
    const float *a, *b;
    float *y;
} gemm_call;

static int run_gemm(void *arg, char *err, size_t err_len)
{
    const gemm_call *c = arg;
    const peer_problem *p = c->p;
    int m = (int)p->m, n = (int)p->n, k = (int)p->k;
    (void)err;
    (void)err_len;
    cblas_sgemm(CblasRowMajor, p->transa ? CblasTrans : CblasNoTrans,
                p->transb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, c->a,
                p->transa ? m : k, c->b, p->transb ? k : n, 0.0f, c->y, n);
    return 0;
}

static int bench_one(const char *text, const peer_options *o,
                     const char *backend)
{
    peer_problem p;
    char err[256];
    int rc = 1;
    float *a = NULL, *b = NULL, *y = NULL;

    if (peer_parse(text, &p, err, sizeof err) != 0) {
        peer_print_error(text, "?", "openblas", o->threads, err);
        return 1;
    }
    if (p.kind != PEER_GEMM) {
        peer_print_error(text, peer_kind_name(p.kind), "openblas",
                         o->threads, "openblas_sgemm runs gemm problems only");
        return 1;
    }
    size_t na = (size_t)(p.m * p.k), nb = (size_t)(p.k * p.n),
           ny = (size_t)(p.m * p.n);
    a = peer_alloc(na);
    b = peer_alloc(nb);
    y = peer_alloc(ny);
    if (!a || !b || !y) {
        peer_print_error(text, "gemm", "openblas", o->threads, "out of memory");
        goto cleanup;
    }
    uint64_t seed = peer_seed(text);
    peer_fill(a, na, -1.0f, 1.0f, seed);
    peer_fill(b, nb, -1.0f, 1.0f, seed + 1);

    gemm_call call = {&p, a, b, y};
    peer_result r;
    if (peer_time(run_gemm, &call, o, &r, err, sizeof err) != 0) {
        peer_print_error(text, "gemm", "openblas", o->threads, err);
        goto cleanup;
    }
    if (peer_count_nonfinite(y, ny)) {
        peer_print_error(text, "gemm", "openblas", o->threads,
                         "non-finite output");
        goto cleanup;
    }
    peer_print_result(&p, "openblas", backend, o->threads, &r);
    rc = 0;
cleanup:
    free(a);
    free(b);
    free(y);
    return rc;
}

int main(int argc, char **argv)
{
    peer_options o;
    char backend[256];
    int failed = 0;

    peer_parse_args(argc, argv, &o, usage);
    openblas_set_num_threads(o.threads);
    snprintf(backend, sizeof backend, "%s (core %s)", openblas_get_config(),
             openblas_get_corename());
    for (int i = 0; i < o.nproblems; i++)
        failed |= bench_one(o.problems[i], &o, backend);
    return failed;
}
