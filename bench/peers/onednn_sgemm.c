/*
 * onednn_sgemm.c — oneDNN's BLAS-like dnnl_sgemm as a second GEMM peer for
 * `seqk bench` gemm problems (row-major, alpha 1, beta 0):
 *
 *   A [M,K] (transa=1: [K,M])   B [K,N] (transb=1: [N,K])   Y [M,N]
 *
 * Threads: omp_set_num_threads(--threads) (Debian's libdnnl2 uses OpenMP).
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

#include "peer_common.h"

static const char usage[] =
    "usage: onednn_sgemm [--threads N] [--repeat N] [--min-time MS] "
    "gemm:m=M,n=N,k=K[,transa=0|1][,transb=0|1]...\n"
    "Times dnnl_sgemm and prints one JSON line per problem.\n";

typedef struct gemm_call {
    const peer_problem *p;
    const float *a, *b;
    float *y;
} gemm_call;

static int run_gemm(void *arg, char *err, size_t err_len)
{
    const gemm_call *c = arg;
    const peer_problem *p = c->p;
    dnnl_status_t st = dnnl_sgemm(
        p->transa ? 'T' : 'N', p->transb ? 'T' : 'N', p->m, p->n, p->k, 1.0f,
        c->a, p->transa ? p->m : p->k, c->b, p->transb ? p->k : p->n, 0.0f,
        c->y, p->n);
    if (st != dnnl_success) {
        snprintf(err, err_len, "dnnl_sgemm: %s", dnnl_status2str(st));
        return -1;
    }
    return 0;
}

static int bench_one(const char *text, const peer_options *o)
{
    peer_problem p;
    char err[256], backend[64];
    int rc = 1;
    float *a = NULL, *b = NULL, *y = NULL;

    if (peer_parse(text, &p, err, sizeof err) != 0) {
        peer_print_error(text, "?", "onednn", o->threads, err);
        return 1;
    }
    if (p.kind != PEER_GEMM) {
        peer_print_error(text, peer_kind_name(p.kind), "onednn", o->threads,
                         "onednn_sgemm runs gemm problems only");
        return 1;
    }
    size_t na = (size_t)(p.m * p.k), nb = (size_t)(p.k * p.n),
           ny = (size_t)(p.m * p.n);
    a = peer_alloc(na);
    b = peer_alloc(nb);
    y = peer_alloc(ny);
    if (!a || !b || !y) {
        peer_print_error(text, "gemm", "onednn", o->threads, "out of memory");
        goto cleanup;
    }
    uint64_t seed = peer_seed(text);
    peer_fill(a, na, -1.0f, 1.0f, seed);
    peer_fill(b, nb, -1.0f, 1.0f, seed + 1);

    gemm_call call = {&p, a, b, y};
    peer_result r;
    if (peer_time(run_gemm, &call, o, &r, err, sizeof err) != 0) {
        peer_print_error(text, "gemm", "onednn", o->threads, err);
        goto cleanup;
    }
    if (peer_count_nonfinite(y, ny)) {
        peer_print_error(text, "gemm", "onednn", o->threads,
                         "non-finite output");
        goto cleanup;
    }
    snprintf(backend, sizeof backend, "oneDNN %d.%d.%d dnnl_sgemm",
             dnnl_version()->major, dnnl_version()->minor,
             dnnl_version()->patch);
    peer_print_result(&p, "onednn", backend, o->threads, &r);
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
    int failed = 0;

    peer_parse_args(argc, argv, &o, usage);
    omp_set_num_threads(o.threads);
    for (int i = 0; i < o.nproblems; i++)
        failed |= bench_one(o.problems[i], &o);
    return failed;
}
