/*
 * onednn_attention.c — the oneDNN peer for `seqk bench` attention
 * problems: scaled dot-product attention the way an application builds it
 * from oneDNN 2.x primitives, materializing the scores:
 *
 *   scores [BH,S,S2] = (Q [BH,S,D] x K^T [BH,D,S2]) / sqrt(D)   matmul
 *   causal only: scores += mask [1,S,S2] (0 or -inf, top-left     binary add
 *                aligned like seqk; broadcast over BH, in place)
 *   P = softmax(scores) along S2, in place                       softmax
 *   Y [BH,S,D] = P x V [BH,S2,D]                                 matmul
 *
 * BH = batch * heads.  K is stored [BH,S2,D] like Q and V; the first
 * matmul reads it transposed through a strided ("acb") descriptor, so no
 * copy.  The 1/sqrt(D) scale is the first matmul's output scale.  (The
 * mask as a binary post-op of the matmul sends oneDNN 2.6 to its reference
 * matmul, hence a separate primitive.)  Only the primitive executions and
 * the stream wait are timed.  Threads: omp_set_num_threads(--threads)
 * (Debian's libdnnl2 uses the OpenMP runtime).
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

#include "peer_common.h"

static const char usage[] =
    "usage: onednn_attention [--threads N] [--repeat N] [--min-time MS] "
    "attention:batch=B,heads=NH,seq=S,dim=D[,kvseq=S2][,causal=0|1]...\n"
    "Times oneDNN matmul + softmax + matmul and prints one JSON line per "
    "problem.\n";

typedef struct attn_bench {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_desc_t qk_pd, mask_pd, sm_pd, pv_pd;
    dnnl_primitive_t qk, mask_add, sm, pv;
    dnnl_memory_t q, k, v, scores, y, mask;
    char impl[192];
} attn_bench;

static int check(dnnl_status_t st, const char *what, char *err,
                 size_t err_len)
{
    if (st == dnnl_success)
        return 0;
    snprintf(err, err_len, "%s: %s", what, dnnl_status2str(st));
    return -1;
}

static float *data_of(dnnl_memory_t mem)
{
    void *h = NULL;
    dnnl_memory_get_data_handle(mem, &h);
    return h;
}

static const char *impl_of(dnnl_primitive_desc_t pd)
{
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    return impl ? impl : "?";
}

static int setup(attn_bench *b, const peer_problem *p, char *err,
                 size_t err_len)
{
    int64_t bh = p->batch * p->heads, s = p->seq, s2 = p->kvseq, d = p->dim;
    dnnl_dims_t q_dims = {bh, s, d}, kt_dims = {bh, d, s2},
                kv_dims = {bh, s2, d}, sc_dims = {bh, s, s2},
                mask_dims = {1, s, s2};
    dnnl_memory_desc_t q_md, kt_md, kv_md, sc_md, mask_md;
    dnnl_matmul_desc_t qk_desc, pv_desc;
    dnnl_softmax_desc_t sm_desc;
    dnnl_binary_desc_t mask_desc;
    dnnl_primitive_attr_t attr = NULL;
    float scale = 1.0f / sqrtf((float)d);
    uint64_t seed = peer_seed(p->text);
    int rc = -1;

    if (check(dnnl_memory_desc_init_by_tag(&q_md, 3, q_dims, dnnl_f32,
                                           dnnl_abc), "q desc", err, err_len) ||
        /* K^T as a view of K [BH,S2,D]: dims (a,b,c) = (BH,D,S2) stored
         * a, c, b */
        check(dnnl_memory_desc_init_by_tag(&kt_md, 3, kt_dims, dnnl_f32,
                                           dnnl_acb), "k^T desc", err, err_len) ||
        check(dnnl_memory_desc_init_by_tag(&kv_md, 3, kv_dims, dnnl_f32,
                                           dnnl_abc), "k/v desc", err, err_len) ||
        check(dnnl_memory_desc_init_by_tag(&sc_md, 3, sc_dims, dnnl_f32,
                                           dnnl_abc), "scores desc", err,
              err_len) ||
        check(dnnl_memory_desc_init_by_tag(&mask_md, 3, mask_dims, dnnl_f32,
                                           dnnl_abc), "mask desc", err, err_len))
        goto cleanup;

    if (check(dnnl_primitive_attr_create(&attr), "attr", err, err_len) ||
        check(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale),
              "output scales", err, err_len))
        goto cleanup;
    if (p->causal &&
        (check(dnnl_binary_desc_init(&mask_desc, dnnl_binary_add, &sc_md,
                                     &mask_md, &sc_md), "mask desc", err,
               err_len) ||
         check(dnnl_primitive_desc_create(&b->mask_pd, &mask_desc, NULL,
                                          b->engine, NULL),
               "mask primitive desc", err, err_len) ||
         check(dnnl_primitive_create(&b->mask_add, b->mask_pd),
               "mask primitive", err, err_len)))
        goto cleanup;
    if (check(dnnl_matmul_desc_init(&qk_desc, &q_md, &kt_md, NULL, &sc_md),
              "qk desc", err, err_len) ||
        check(dnnl_primitive_desc_create(&b->qk_pd, &qk_desc, attr, b->engine,
                                         NULL), "qk primitive desc", err,
              err_len) ||
        check(dnnl_primitive_create(&b->qk, b->qk_pd), "qk primitive", err,
              err_len) ||
        check(dnnl_softmax_forward_desc_init(&sm_desc, dnnl_forward_inference,
                                             &sc_md, 2), "softmax desc", err,
              err_len) ||
        check(dnnl_primitive_desc_create(&b->sm_pd, &sm_desc, NULL, b->engine,
                                         NULL), "softmax primitive desc", err,
              err_len) ||
        check(dnnl_primitive_create(&b->sm, b->sm_pd), "softmax primitive",
              err, err_len) ||
        check(dnnl_matmul_desc_init(&pv_desc, &sc_md, &kv_md, NULL, &q_md),
              "pv desc", err, err_len) ||
        check(dnnl_primitive_desc_create(&b->pv_pd, &pv_desc, NULL, b->engine,
                                         NULL), "pv primitive desc", err,
              err_len) ||
        check(dnnl_primitive_create(&b->pv, b->pv_pd), "pv primitive", err,
              err_len))
        goto cleanup;
    snprintf(b->impl, sizeof b->impl, "%s%s%s + %s + %s", impl_of(b->qk_pd),
             b->mask_pd ? " + mask " : "",
             b->mask_pd ? impl_of(b->mask_pd) : "", impl_of(b->sm_pd),
             impl_of(b->pv_pd));

    if (check(dnnl_memory_create(&b->q, &q_md, b->engine, DNNL_MEMORY_ALLOCATE),
              "q memory", err, err_len) ||
        check(dnnl_memory_create(&b->k, &kt_md, b->engine, DNNL_MEMORY_ALLOCATE),
              "k memory", err, err_len) ||
        check(dnnl_memory_create(&b->v, &kv_md, b->engine, DNNL_MEMORY_ALLOCATE),
              "v memory", err, err_len) ||
        check(dnnl_memory_create(&b->scores, &sc_md, b->engine,
                                 DNNL_MEMORY_ALLOCATE), "scores memory", err,
              err_len) ||
        check(dnnl_memory_create(&b->y, &q_md, b->engine, DNNL_MEMORY_ALLOCATE),
              "y memory", err, err_len) ||
        check(dnnl_memory_create(&b->mask, &mask_md, b->engine,
                                 DNNL_MEMORY_ALLOCATE), "mask memory", err,
              err_len))
        goto cleanup;
    peer_fill(data_of(b->q), (size_t)(bh * s * d), -1.0f, 1.0f, seed);
    peer_fill(data_of(b->k), (size_t)(bh * s2 * d), -1.0f, 1.0f, seed + 1);
    peer_fill(data_of(b->v), (size_t)(bh * s2 * d), -1.0f, 1.0f, seed + 2);
    float *mask = data_of(b->mask);
    for (int64_t i = 0; i < s; i++) /* top-left: key j visible if j <= i */
        for (int64_t j = 0; j < s2; j++)
            mask[i * s2 + j] = j <= i ? 0.0f : -INFINITY;
    rc = 0;
cleanup:
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return rc;
}

static int run_attention(void *arg, char *err, size_t err_len)
{
    attn_bench *b = arg;
    dnnl_exec_arg_t qk_args[3] = {{DNNL_ARG_SRC, b->q},
                                  {DNNL_ARG_WEIGHTS, b->k},
                                  {DNNL_ARG_DST, b->scores}};
    dnnl_exec_arg_t mask_args[3] = {{DNNL_ARG_SRC_0, b->scores},
                                    {DNNL_ARG_SRC_1, b->mask},
                                    {DNNL_ARG_DST, b->scores}};
    dnnl_exec_arg_t sm_args[2] = {{DNNL_ARG_SRC, b->scores},
                                  {DNNL_ARG_DST, b->scores}};
    dnnl_exec_arg_t pv_args[3] = {{DNNL_ARG_SRC, b->scores},
                                  {DNNL_ARG_WEIGHTS, b->v},
                                  {DNNL_ARG_DST, b->y}};
    if (check(dnnl_primitive_execute(b->qk, b->stream, 3, qk_args),
              "qk execute", err, err_len) ||
        (b->mask_add &&
         check(dnnl_primitive_execute(b->mask_add, b->stream, 3, mask_args),
               "mask execute", err, err_len)) ||
        check(dnnl_primitive_execute(b->sm, b->stream, 2, sm_args),
              "softmax execute", err, err_len) ||
        check(dnnl_primitive_execute(b->pv, b->stream, 3, pv_args),
              "pv execute", err, err_len))
        return -1;
    return check(dnnl_stream_wait(b->stream), "stream wait", err, err_len);
}

static void destroy(attn_bench *b)
{
    dnnl_primitive_t prims[4] = {b->qk, b->mask_add, b->sm, b->pv};
    dnnl_primitive_desc_t pds[4] = {b->qk_pd, b->mask_pd, b->sm_pd, b->pv_pd};
    dnnl_memory_t mems[6] = {b->q, b->k, b->v, b->scores, b->y, b->mask};
    for (int i = 0; i < 4; i++) {
        if (prims[i])
            dnnl_primitive_destroy(prims[i]);
        if (pds[i])
            dnnl_primitive_desc_destroy(pds[i]);
    }
    for (int i = 0; i < 6; i++)
        if (mems[i])
            dnnl_memory_destroy(mems[i]);
}

static int bench_one(const char *text, const peer_options *o,
                     dnnl_engine_t engine, dnnl_stream_t stream)
{
    peer_problem p;
    char err[256], backend[256];
    attn_bench b;
    int rc = 1;

    memset(&b, 0, sizeof b);
    b.engine = engine;
    b.stream = stream;
    if (peer_parse(text, &p, err, sizeof err) != 0) {
        peer_print_error(text, "?", "onednn", o->threads, err);
        return 1;
    }
    if (p.kind != PEER_ATTENTION) {
        peer_print_error(text, peer_kind_name(p.kind), "onednn", o->threads,
                         "onednn_attention runs attention problems only");
        return 1;
    }
    if (setup(&b, &p, err, sizeof err) != 0) {
        peer_print_error(text, "attention", "onednn", o->threads, err);
        goto cleanup;
    }
    peer_result r;
    if (peer_time(run_attention, &b, o, &r, err, sizeof err) != 0) {
        peer_print_error(text, "attention", "onednn", o->threads, err);
        goto cleanup;
    }
    if (peer_count_nonfinite(data_of(b.y),
                             (size_t)(p.batch * p.heads * p.seq * p.dim))) {
        peer_print_error(text, "attention", "onednn", o->threads,
                         "non-finite output");
        goto cleanup;
    }
    snprintf(backend, sizeof backend, "oneDNN %d.%d.%d %s",
             dnnl_version()->major, dnnl_version()->minor,
             dnnl_version()->patch, b.impl);
    peer_print_result(&p, "onednn", backend, o->threads, &r);
    rc = 0;
cleanup:
    destroy(&b);
    return rc;
}

int main(int argc, char **argv)
{
    peer_options o;
    dnnl_engine_t engine = NULL;
    dnnl_stream_t stream = NULL;
    int failed = 0;

    peer_parse_args(argc, argv, &o, usage);
    omp_set_num_threads(o.threads);
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) !=
            dnnl_success) {
        fprintf(stderr, "onednn_attention: cannot create the CPU engine\n");
        return 1;
    }
    for (int i = 0; i < o.nproblems; i++)
        failed |= bench_one(o.problems[i], &o, engine, stream);
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(engine);
    return failed;
}
