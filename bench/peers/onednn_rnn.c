/*
 * onednn_rnn.c — the oneDNN peer for `seqk bench` lstm, gru and rnn
 * problems: oneDNN's (2.x C API) RNN forward-inference primitives, f32,
 * zero initial state, producing the output sequence and the last hidden
 * (and cell) state like seqk:
 *
 *   lstm           dnnl_lstm_forward_desc_init         4 gates
 *   gru, lbr=1     dnnl_lbr_gru_forward_desc_init      3 gates, 4 biases
 *   gru, lbr=0     dnnl_gru_forward_desc_init          3 gates
 *   rnn            dnnl_vanilla_rnn_forward_desc_init  tanh or relu
 *
 * Per layer l (one primitive each, chained; T = seq, N = batch,
 * D = 1 or 2 directions, G gates, C = input for l = 0, else D*H):
 *
 *   src_layer [T,N,C] tnc   weights_layer [1,D,C,G,H]   dst_layer [T,N,D*H]
 *   weights_iter [1,D,H,G,H]   bias [1,D,G,H]   dst_iter(_c) [1,D,N,H]
 *
 * The weights are given in ldigo and reordered once, before timing, into
 * the layout the primitive asks for (format "any"), as an application
 * that prepares its model would.  Only dnnl_primitive_execute and the
 * stream wait are timed.  Threads: omp_set_num_threads(--threads)
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

#define MAX_LAYERS 16

static const char usage[] =
    "usage: onednn_rnn [--threads N] [--repeat N] [--min-time MS] "
    "lstm:...|gru:...|rnn:...\n"
    "Times oneDNN's RNN forward-inference primitives and prints one JSON "
    "line per problem.\n";

typedef struct layer {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t src, wl, wi, bias, dst, dst_iter, dst_iter_c;
} layer;

typedef struct rnn_bench {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    int nlayers;
    layer layers[MAX_LAYERS];
    char impl[128];
} rnn_bench;

/* 0 on success, else a message naming what failed. */
static int check(dnnl_status_t st, const char *what, char *err,
                 size_t err_len)
{
    if (st == dnnl_success)
        return 0;
    snprintf(err, err_len, "%s: %s", what, dnnl_status2str(st));
    return -1;
}

static void fill_memory(dnnl_memory_t mem, size_t count, float scale,
                        uint64_t seed)
{
    void *h = NULL;
    dnnl_memory_get_data_handle(mem, &h);
    peer_fill(h, count, -scale, scale, seed);
}

/* A user memory in `tag` filled with values, reordered into the layout
 * `want` the primitive asked for: *out is the reordered memory. */
static int make_weights(dnnl_engine_t eng, dnnl_stream_t stream, int ndims,
                        const dnnl_dims_t dims, const dnnl_memory_desc_t *want,
                        float scale, uint64_t seed, dnnl_memory_t *out,
                        char *err, size_t err_len)
{
    dnnl_memory_desc_t user_md;
    dnnl_memory_t user = NULL;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t reorder = NULL;
    size_t count = 1;
    int rc = -1;

    for (int i = 0; i < ndims; i++)
        count *= (size_t)dims[i];
    *out = NULL;
    if (check(dnnl_memory_desc_init_by_tag(&user_md, ndims, dims, dnnl_f32,
                                           dnnl_ldigo),
              "weights desc", err, err_len) ||
        check(dnnl_memory_create(&user, &user_md, eng, DNNL_MEMORY_ALLOCATE),
              "weights memory", err, err_len) ||
        check(dnnl_memory_create(out, want, eng, DNNL_MEMORY_ALLOCATE),
              "packed weights memory", err, err_len))
        goto cleanup;
    fill_memory(user, count, scale, seed);
    if (check(dnnl_reorder_primitive_desc_create(&rpd, &user_md, eng, want,
                                                 eng, NULL),
              "weights reorder desc", err, err_len) ||
        check(dnnl_primitive_create(&reorder, rpd), "weights reorder", err,
              err_len))
        goto cleanup;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, *out}};
    if (check(dnnl_primitive_execute(reorder, stream, 2, args),
              "weights reorder execute", err, err_len) ||
        check(dnnl_stream_wait(stream), "stream wait", err, err_len))
        goto cleanup;
    rc = 0;
cleanup:
    if (reorder)
        dnnl_primitive_destroy(reorder);
    if (rpd)
        dnnl_primitive_desc_destroy(rpd);
    if (user)
        dnnl_memory_destroy(user);
    return rc;
}

/* Creates layer l's primitive and memories; src is the previous layer's
 * dst (or NULL for the first layer, which gets its own filled input). */
static int setup_layer(rnn_bench *b, const peer_problem *p, int l,
                       dnnl_memory_t src, char *err, size_t err_len)
{
    layer *ly = &b->layers[l];
    int64_t d = p->bidir ? 2 : 1, g = peer_gates_of(p->kind), h = p->hidden;
    int64_t c = l == 0 ? p->input : d * h;
    int lbr = p->kind == PEER_GRU && p->lbr;
    int64_t gb = lbr ? g + 1 : g;
    float scale = 1.0f / sqrtf((float)h);
    uint64_t seed = peer_seed(p->text) + 16u * (uint64_t)l;
    dnnl_rnn_direction_t dir =
        p->bidir ? dnnl_bidirectional_concat : dnnl_unidirectional_left2right;

    dnnl_dims_t src_dims = {p->seq, p->batch, c};
    dnnl_dims_t wl_dims = {1, d, c, g, h};
    dnnl_dims_t wi_dims = {1, d, h, g, h};
    dnnl_dims_t bias_dims = {1, d, gb, h};
    dnnl_dims_t dst_dims = {p->seq, p->batch, d * h};
    dnnl_dims_t iter_dims = {1, d, p->batch, h};
    dnnl_memory_desc_t src_md, wl_md, wi_md, bias_md, dst_md, iter_md;
    dnnl_rnn_desc_t desc;
    dnnl_status_t st;

    if (check(dnnl_memory_desc_init_by_tag(&src_md, 3, src_dims, dnnl_f32,
                                           dnnl_tnc), "src desc", err, err_len) ||
        check(dnnl_memory_desc_init_by_tag(&wl_md, 5, wl_dims, dnnl_f32,
                                           dnnl_format_tag_any),
              "weights_layer desc", err, err_len) ||
        check(dnnl_memory_desc_init_by_tag(&wi_md, 5, wi_dims, dnnl_f32,
                                           dnnl_format_tag_any),
              "weights_iter desc", err, err_len) ||
        check(dnnl_memory_desc_init_by_tag(&bias_md, 4, bias_dims, dnnl_f32,
                                           dnnl_ldgo), "bias desc", err, err_len) ||
        check(dnnl_memory_desc_init_by_tag(&dst_md, 3, dst_dims, dnnl_f32,
                                           dnnl_tnc), "dst desc", err, err_len) ||
        check(dnnl_memory_desc_init_by_tag(&iter_md, 4, iter_dims, dnnl_f32,
                                           dnnl_ldnc), "dst_iter desc", err,
              err_len))
        return -1;

    /* src_iter (and src_iter_c) NULL: zero initial state. */
    switch (p->kind) {
    case PEER_LSTM:
        st = dnnl_lstm_forward_desc_init(&desc, dnnl_forward_inference, dir,
                                         &src_md, NULL, NULL, &wl_md, &wi_md,
                                         &bias_md, &dst_md, &iter_md,
                                         &iter_md, dnnl_rnn_flags_undef);
        break;
    case PEER_GRU:
        st = lbr ? dnnl_lbr_gru_forward_desc_init(
                       &desc, dnnl_forward_inference, dir, &src_md, NULL,
                       &wl_md, &wi_md, &bias_md, &dst_md, &iter_md,
                       dnnl_rnn_flags_undef)
                 : dnnl_gru_forward_desc_init(
                       &desc, dnnl_forward_inference, dir, &src_md, NULL,
                       &wl_md, &wi_md, &bias_md, &dst_md, &iter_md,
                       dnnl_rnn_flags_undef);
        break;
    default:
        st = dnnl_vanilla_rnn_forward_desc_init(
            &desc, dnnl_forward_inference,
            p->act ? dnnl_eltwise_relu : dnnl_eltwise_tanh, dir, &src_md,
            NULL, &wl_md, &wi_md, &bias_md, &dst_md, &iter_md,
            dnnl_rnn_flags_undef, 0.0f, 0.0f);
        break;
    }
    if (check(st, "rnn desc", err, err_len) ||
        check(dnnl_primitive_desc_create(&ly->pd, &desc, NULL, b->engine,
                                         NULL),
              "rnn primitive desc", err, err_len) ||
        check(dnnl_primitive_create(&ly->prim, ly->pd), "rnn primitive", err,
              err_len))
        return -1;
    if (l == 0) {
        const char *impl = NULL;
        dnnl_primitive_desc_query(ly->pd, dnnl_query_impl_info_str, 0, &impl);
        snprintf(b->impl, sizeof b->impl, "%s", impl ? impl : "?");
    }

    const dnnl_memory_desc_t *want_wl = dnnl_primitive_desc_query_md(
        ly->pd, dnnl_query_exec_arg_md, DNNL_ARG_WEIGHTS_LAYER);
    const dnnl_memory_desc_t *want_wi = dnnl_primitive_desc_query_md(
        ly->pd, dnnl_query_exec_arg_md, DNNL_ARG_WEIGHTS_ITER);
    if (make_weights(b->engine, b->stream, 5, wl_dims, want_wl, scale, seed + 1,
                     &ly->wl, err, err_len) ||
        make_weights(b->engine, b->stream, 5, wi_dims, want_wi, scale, seed + 2,
                     &ly->wi, err, err_len))
        return -1;
    if (check(dnnl_memory_create(&ly->bias, &bias_md, b->engine,
                                 DNNL_MEMORY_ALLOCATE), "bias memory", err,
              err_len) ||
        check(dnnl_memory_create(&ly->dst, &dst_md, b->engine,
                                 DNNL_MEMORY_ALLOCATE), "dst memory", err,
              err_len) ||
        check(dnnl_memory_create(&ly->dst_iter, &iter_md, b->engine,
                                 DNNL_MEMORY_ALLOCATE), "dst_iter memory", err,
              err_len))
        return -1;
    fill_memory(ly->bias, (size_t)(d * gb * h), scale, seed + 3);
    if (p->kind == PEER_LSTM &&
        check(dnnl_memory_create(&ly->dst_iter_c, &iter_md, b->engine,
                                 DNNL_MEMORY_ALLOCATE), "dst_iter_c memory",
              err, err_len))
        return -1;
    if (src) {
        ly->src = src; /* owned by the previous layer */
    } else {
        if (check(dnnl_memory_create(&ly->src, &src_md, b->engine,
                                     DNNL_MEMORY_ALLOCATE), "src memory", err,
                  err_len))
            return -1;
        fill_memory(ly->src, (size_t)(p->seq * p->batch * c), 1.0f, seed);
    }
    return 0;
}

static int run_rnn(void *arg, char *err, size_t err_len)
{
    rnn_bench *b = arg;
    for (int l = 0; l < b->nlayers; l++) {
        layer *ly = &b->layers[l];
        dnnl_exec_arg_t args[7] = {
            {DNNL_ARG_SRC_LAYER, ly->src}, {DNNL_ARG_WEIGHTS_LAYER, ly->wl},
            {DNNL_ARG_WEIGHTS_ITER, ly->wi}, {DNNL_ARG_BIAS, ly->bias},
            {DNNL_ARG_DST_LAYER, ly->dst}, {DNNL_ARG_DST_ITER, ly->dst_iter},
            {DNNL_ARG_DST_ITER_C, ly->dst_iter_c}};
        if (check(dnnl_primitive_execute(ly->prim, b->stream,
                                         ly->dst_iter_c ? 7 : 6, args),
                  "rnn execute", err, err_len))
            return -1;
    }
    return check(dnnl_stream_wait(b->stream), "stream wait", err, err_len);
}

static void destroy(rnn_bench *b)
{
    for (int l = 0; l < b->nlayers; l++) {
        layer *ly = &b->layers[l];
        if (ly->prim)
            dnnl_primitive_destroy(ly->prim);
        if (ly->pd)
            dnnl_primitive_desc_destroy(ly->pd);
        if (l == 0 && ly->src)
            dnnl_memory_destroy(ly->src);
        dnnl_memory_t mems[6] = {ly->wl, ly->wi, ly->bias, ly->dst,
                                 ly->dst_iter, ly->dst_iter_c};
        for (int i = 0; i < 6; i++)
            if (mems[i])
                dnnl_memory_destroy(mems[i]);
    }
}

static int bench_one(const char *text, const peer_options *o,
                     dnnl_engine_t engine, dnnl_stream_t stream)
{
    peer_problem p;
    char err[256], backend[256];
    rnn_bench b;
    int rc = 1;

    memset(&b, 0, sizeof b);
    b.engine = engine;
    b.stream = stream;
    if (peer_parse(text, &p, err, sizeof err) != 0) {
        peer_print_error(text, "?", "onednn", o->threads, err);
        return 1;
    }
    const char *op = peer_kind_name(p.kind);
    if (p.kind != PEER_LSTM && p.kind != PEER_GRU && p.kind != PEER_RNN) {
        peer_print_error(text, op, "onednn", o->threads,
                         "onednn_rnn runs lstm, gru and rnn problems only");
        return 1;
    }
    if (p.layers > MAX_LAYERS) {
        peer_print_error(text, op, "onednn", o->threads, "too many layers");
        return 1;
    }
    for (int l = 0; l < (int)p.layers; l++) {
        b.nlayers = l + 1;
        if (setup_layer(&b, &p, l, l ? b.layers[l - 1].dst : NULL, err,
                        sizeof err) != 0) {
            peer_print_error(text, op, "onednn", o->threads, err);
            goto cleanup;
        }
    }

    peer_result r;
    if (peer_time(run_rnn, &b, o, &r, err, sizeof err) != 0) {
        peer_print_error(text, op, "onednn", o->threads, err);
        goto cleanup;
    }
    void *y = NULL;
    dnnl_memory_get_data_handle(b.layers[b.nlayers - 1].dst, &y);
    size_t ny = (size_t)(p.seq * p.batch * (p.bidir ? 2 : 1) * p.hidden);
    if (peer_count_nonfinite(y, ny)) {
        peer_print_error(text, op, "onednn", o->threads, "non-finite output");
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
        fprintf(stderr, "onednn_rnn: cannot create the CPU engine\n");
        return 1;
    }
    for (int i = 0; i < o.nproblems; i++)
        failed |= bench_one(o.problems[i], &o, engine, stream);
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(engine);
    return failed;
}
